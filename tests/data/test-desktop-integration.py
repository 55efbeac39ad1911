#!/usr/bin/python3
"""Install the data files into a temporary prefix and ask the desktop about them.

Copies every file the install plan of the build puts under datadir into a
temporary prefix (without `meson install`, which would rewrite the build's
install log and needs every target built), runs update-mime-database and
update-desktop-database there, and checks with xdg-mime that numpy-written
files get our MIME types and that our desktop file opens them.

xdg-mime picks its method by desktop: for a generic session it runs
`mimetype` (libfile-mimeinfo-perl) and falls back to `file`, which knows no
MIME database and would say application/octet-stream; for GNOME it runs
`gio info`. Both ways are checked. The environment is built from nothing, so
the user's own MIME and application settings never leak in; the system's
databases are read but never written.

Output is TAP.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

TOOLS = {
    'update-mime-database': 'shared-mime-info',
    'update-desktop-database': 'desktop-file-utils',
    'glib-compile-schemas': 'libglib2.0-bin',
    'xdg-mime': 'xdg-utils',
    'mimetype': 'libfile-mimeinfo-perl',
    'gio': 'libglib2.0-bin',
}

# XDG_CURRENT_DESKTOP values and the way xdg-mime resolves a file type under each.
DESKTOPS = {
    'X-Generic': 'mimetype',
    'GNOME': 'gio info',
}


class Tap:
    def __init__(self):
        self.count = 0
        self.failed = 0

    def check(self, ok, description, diagnostics=''):
        self.count += 1
        print(f'{"ok" if ok else "not ok"} {self.count} - {description}', flush=True)
        if not ok:
            self.failed += 1
            for line in diagnostics.rstrip().splitlines():
                print(f'# {line}', flush=True)
        return ok

    def bail_out(self, reason):
        print(f'Bail out! {reason}', flush=True)
        sys.exit(1)

    def finish(self):
        print(f'1..{self.count}', flush=True)
        sys.exit(1 if self.failed else 0)


def data_files(build_root, datadir):
    """Yield (source, path relative to datadir) for every file installed under datadir."""
    plan_path = os.path.join(build_root, 'meson-info', 'intro-install_plan.json')
    with open(plan_path, encoding='utf-8') as f:
        plan = json.load(f)
    prefixes = ('{datadir}/', '{prefix}/' + datadir.strip('/') + '/')
    for section in plan.values():
        for source, entry in section.items():
            destination = entry['destination']
            for prefix in prefixes:
                if destination.startswith(prefix):
                    yield source, destination[len(prefix):]
                    break


def run(argv, env=None):
    return subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, check=False)


def read_text(path):
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except OSError:
        return ''


def output_of(result):
    return f'exit status {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}'


def session_env(tmp, share, desktop):
    """An environment from nothing: a new home, the temporary prefix first in the data dirs."""
    home = os.path.join(tmp, 'home')
    return {
        'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
        'HOME': home,
        'LC_ALL': 'C.UTF-8',
        'XDG_CURRENT_DESKTOP': desktop,
        'XDG_DATA_HOME': os.path.join(home, '.local', 'share'),
        'XDG_CONFIG_HOME': os.path.join(home, '.config'),
        'XDG_CONFIG_DIRS': os.path.join(tmp, 'xdg-config'),
        'XDG_DATA_DIRS': share + ':/usr/local/share:/usr/share',
        'XDG_RUNTIME_DIR': os.path.join(tmp, 'run'),
        'GIO_USE_VFS': 'local',
    }


def write_arrays(directory):
    """Write the files to ask about with numpy; return {path: expected MIME type}."""
    rng = np.random.default_rng(7)
    field = rng.standard_normal((40, 30)).astype(np.float32)
    expected = {}

    path = os.path.join(directory, 'field.npy')
    np.save(path, field)
    expected[path] = 'application/x-npy'

    # np.save() adds .npy to a name without it; a file object keeps the name as it is.
    path = os.path.join(directory, 'field')
    with open(path, 'wb') as f:
        np.save(f, field)
    expected[path] = 'application/x-npy'

    path = os.path.join(directory, 'records-v2')
    records = np.zeros(8, dtype=[('t', 'M8[s]'), ('x', '<f8', (3,))])
    with open(path, 'wb') as f:
        np.lib.format.write_array(f, records, version=(2, 0))
    expected[path] = 'application/x-npy'

    path = os.path.join(directory, 'archive.npz')
    np.savez(path, field=field, index=np.arange(10))
    expected[path] = 'application/x-npz'

    path = os.path.join(directory, 'compressed.npz')
    np.savez_compressed(path, field=field)
    expected[path] = 'application/x-npz'

    return expected


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--build-root', required=True)
    parser.add_argument('--datadir', required=True)
    parser.add_argument('--app-id', required=True)
    args = parser.parse_args()
    app_id = args.app_id
    tap = Tap()

    missing = [f'{tool} (Debian package {package})'
               for tool, package in TOOLS.items() if shutil.which(tool) is None]
    if missing:
        tap.bail_out('missing: ' + ', '.join(missing))

    with tempfile.TemporaryDirectory(prefix='npyview-data-') as tmp:
        share = os.path.join(tmp, 'prefix', 'share')
        for d in ('home', 'xdg-config', 'run'):
            os.makedirs(os.path.join(tmp, d), mode=0o700)

        for source, relative in data_files(args.build_root, args.datadir):
            if relative.startswith('locale/'):
                continue
            target = os.path.join(share, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            try:
                shutil.copyfile(source, target)
            except OSError as e:
                tap.bail_out(f'cannot install {source}: {e.strerror} (is the project built?)')

        installed = {
            'desktop file': f'applications/{app_id}.desktop',
            'MIME package': f'mime/packages/{app_id}.xml',
            'AppStream metainfo': f'metainfo/{app_id}.metainfo.xml',
            'GSettings schema': f'glib-2.0/schemas/{app_id}.gschema.xml',
            'app icon': f'icons/hicolor/scalable/apps/{app_id}.svg',
            'symbolic icon': f'icons/hicolor/symbolic/apps/{app_id}-symbolic.svg',
            'thumbnailer': f'thumbnailers/{app_id}.thumbnailer',
        }
        for what, relative in installed.items():
            tap.check(os.path.isfile(os.path.join(share, relative)),
                      f'{what} is installed as {relative}')

        # The merged files carry the translations (msgfmt puts them in).
        for relative, needle in [
            (installed['desktop file'], 'Comment[de]='),
            (installed['desktop file'], 'Comment[fr]='),
            (installed['MIME package'], '<comment xml:lang="de">'),
            (installed['MIME package'], '<comment xml:lang="fr">'),
            (installed['AppStream metainfo'], '<summary xml:lang="de">'),
            (installed['AppStream metainfo'], '<summary xml:lang="fr">'),
        ]:
            tap.check(needle in read_text(os.path.join(share, relative)),
                      f'{relative} holds {needle}')

        # Run with the temporary prefix in the search path, or the tool says it is not.
        result = run(['update-mime-database', os.path.join(share, 'mime')],
                     session_env(tmp, share, 'X-Generic'))
        tap.check(result.returncode == 0 and not result.stderr,
                  'update-mime-database accepts the MIME package', output_of(result))
        result = run(['update-desktop-database', os.path.join(share, 'applications')],
                     session_env(tmp, share, 'X-Generic'))
        tap.check(result.returncode == 0 and not result.stderr,
                  'update-desktop-database accepts the desktop file', output_of(result))
        result = run(['glib-compile-schemas', '--strict',
                      '--targetdir', tmp, os.path.join(share, 'glib-2.0', 'schemas')])
        tap.check(result.returncode == 0, 'the installed schema compiles', output_of(result))

        files = os.path.join(tmp, 'files')
        os.makedirs(files)
        expected = write_arrays(files)

        for desktop, method in DESKTOPS.items():
            env = session_env(tmp, share, desktop)
            for path, mime_type in expected.items():
                result = run(['xdg-mime', 'query', 'filetype', path], env)
                tap.check(result.returncode == 0 and result.stdout.strip() == mime_type,
                          f'{desktop} ({method}): {os.path.basename(path)} is {mime_type}',
                          output_of(result))
            for mime_type in ('application/x-npy', 'application/x-npz'):
                result = run(['xdg-mime', 'query', 'default', mime_type], env)
                tap.check(result.returncode == 0 and result.stdout.strip() == f'{app_id}.desktop',
                          f'{desktop}: {app_id}.desktop opens {mime_type}', output_of(result))

        check_thumbnailer(tap, os.path.join(share, installed['thumbnailer']), args.build_root,
                          expected)

    tap.finish()


def png_size(path):
    """(width, height) from a PNG's IHDR, or None if it is not a PNG."""
    with open(path, 'rb') as fp:
        head = fp.read(24)
    if len(head) < 24 or head[:8] != b'\x89PNG\r\n\x1a\n' or head[12:16] != b'IHDR':
        return None
    return int.from_bytes(head[16:20], 'big'), int.from_bytes(head[20:24], 'big')


def check_thumbnailer(tap, path, build_root, arrays):
    """The thumbnailer entry names the CLI and our MIME types, and its Exec
    line (run with the built CLI in place of the installed one) makes a
    PNG within the size asked for, from each kind of file."""
    if not os.path.isfile(path):
        return
    entry = dict(line.split('=', 1) for line in read_text(path).splitlines() if '=' in line)
    tap.check(entry.get('TryExec', '').endswith('/npyview-cli'), 'the thumbnailer tries npyview-cli',
              repr(entry.get('TryExec')))
    types = set(filter(None, entry.get('MimeType', '').split(';')))
    tap.check({'application/x-npy', 'application/x-npz'} <= types,
              'the thumbnailer is for application/x-npy and application/x-npz', repr(types))
    exec_line = entry.get('Exec', '')
    tap.check(all(code in exec_line for code in ('%s', '%i', '%o')),
              'the thumbnailer passes %s, %i and %o', exec_line)
    cli = os.path.join(build_root, 'app', 'cli', 'npyview-cli')
    if not os.access(cli, os.X_OK):
        tap.check(False, f'the thumbnailer can be run: {cli} is not built')
        return
    with tempfile.TemporaryDirectory(prefix='npyview-thumb-') as tmp:
        # every file but the one of datetimes, which has no numbers to draw
        for source in (path for path in arrays if not path.endswith('records-v2')):
            out = os.path.join(tmp, os.path.basename(source) + '.png')
            argv = []
            for word in exec_line.split():
                word = word.replace('%s', '128').replace('%i', source).replace('%o', out)
                argv.append(cli if word.endswith('/npyview-cli') else word)
            result = run(argv)
            size = png_size(out) if os.path.exists(out) else None
            tap.check(result.returncode == 0 and size is not None and 0 < max(size) <= 128,
                      f'the thumbnailer draws {os.path.basename(source)} in at most 128 pixels '
                      f'({size})', output_of(result))


if __name__ == '__main__':
    main()
