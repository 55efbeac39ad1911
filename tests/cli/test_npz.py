#!/usr/bin/env python3
"""npyview-cli on .npz archives, against numpy and zipfile.

Archives are written by numpy at test time: np.savez (stored members,
mapped in place) and np.savez_compressed (deflated members), member names
with '/', '..', UTF-8 and a trailing '.npy', positional arrays, 1,000
members, an empty archive, an archive written to a pipe (data
descriptors), and one with a damaged member. For each: info --json against
np.load(...).files, the headers and zipfile's offsets; for stored members
export to .npy byte-identical to np.save(np.load(F)[K][E]).
"""

import argparse
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

failures = []
checks = 0


def check(ok, where, message):
    global checks
    checks += 1
    if not ok:
        failures.append(f'{where}: {message}')
        print(f'FAIL {where}: {message}', flush=True)


def run(cli, args):
    p = subprocess.run([cli] + args, capture_output=True, timeout=120)
    err = p.stderr.decode('utf-8', 'replace')
    if p.returncode < 0 or 'runtime error:' in err or 'Sanitizer' in err:
        check(False, ' '.join(args), f'crashed or sanitizer report: {p.returncode} {err}')
    return p.returncode, p.stdout, err


def arrays(rng):
    return {
        'f32': rng.random((7, 5), dtype=np.float32),
        'fortran': np.asfortranarray(np.arange(24, dtype='>i8').reshape(4, 6)),
        'record': np.array([(1, 2.5, 'ab'), (3, -0.0, 'é')],
                           dtype=[('x', '<i4'), ('y', '<f8'), ('z', '<U2')]),
        'when': np.array(['2024-01-02T03:04:05', 'NaT'], dtype='M8[s]'),
        'scalar': np.array(3.25),
        'empty': np.zeros((3, 0)),
        'dir/b': np.arange(6, dtype=np.uint16).reshape(2, 3),
        'x.npy': np.arange(4.0),
        '/abs': np.ones(2),
        '../up': np.zeros(3, dtype=np.int8),
        'Größe': np.array([True, False]),
        'dir': np.arange(2),
        'a//b': np.arange(2),
        'dir/c/d': np.arange(2),
    }


SLICES = {0: [''], 1: ['', '::-1', '1:'], 2: ['', '::2, 1:', '-1', '..., 0']}


def member_offsets(path):
    out = {}
    with zipfile.ZipFile(path) as zf, open(path, 'rb') as fp:
        for info in zf.infolist():
            fp.seek(info.header_offset)
            local = fp.read(30)
            n, e = struct.unpack('<HH', local[26:30])
            out[info.filename] = (info.compress_type, info.header_offset + 30 + n + e)
    return out


def check_archive(cli, path, workdir, expect_broken=(), every=1):
    """The listing is checked for all members, values for every n-th."""
    name = os.path.basename(path)
    rc, out, err = run(cli, ['info', '--json', path])
    check(rc == 0, name, f'info --json exit {rc}: {err}')
    if rc != 0:
        return
    info = json.loads(out)
    check(info['format'] == 'npz', name, f"format {info['format']!r}")
    names = [m['name'] for m in info['members']]
    check(info['tree'] == expected_tree(names), name, f"tree {info['tree']}")
    offsets = member_offsets(path)
    with np.load(path, mmap_mode='r') as npz:
        files = list(npz.files)
        got = [m['name'] for m in info['members']]
        check(got == files, name, f'members {got} != numpy {files}')
        for i, m in enumerate(info['members']):
            key = m['name']
            where = f'{name}[{key}]'
            method, data_start = offsets[m['path']]
            check(m['storage'] == ('stored' if method == 0 else 'deflate'), where,
                  f"storage {m['storage']} for zip method {method}")
            if i % every:
                check(m['kind'] == 'array' and m['shape'] == list(npz[key].shape), where,
                      f'listing: {m}')
                continue
            if key in expect_broken:
                check(m.get('kind') == 'broken' and 'error' in m, where, f'not broken: {m}')
                rc, _, err = run(cli, ['show', path, '--member', key])
                check(rc == 1 and name in err and err.count('\n') == 1, where,
                      f'show of a broken member: exit {rc}, {err!r}')
                continue
            a = npz[key]
            check(m['kind'] == 'array', where, f"kind {m['kind']}")
            descr = np.lib.format.dtype_to_descr(a.dtype)
            want = json.loads(json.dumps(descr))
            check(m['dtype'] == want, where, f"dtype {m['dtype']} != {want}")
            check(m['shape'] == list(a.shape), where, f"shape {m['shape']} != {a.shape}")
            with zipfile.ZipFile(path) as zf, zf.open(m['path']) as fp:
                version = np.lib.format.read_magic(fp)
                np.lib.format._read_array_header(fp, version)
                header_len = fp.tell()
            if method == 0:
                check(m['data_offset'] == data_start + header_len, where,
                      f"data_offset {m['data_offset']} != {data_start + header_len}")
            else:
                check(m['data_offset'] is None, where, 'data_offset of a deflated member')
            for alias in (key, key + '.npy'):
                rc, out2, err = run(cli, ['info', '--json', path, '--member', alias])
                check(rc == 0 and [x['name'] for x in json.loads(out2)['members']] == [key],
                      where, f'--member {alias!r}: exit {rc} {err}')
            for expr in SLICES[min(a.ndim, 2)]:
                target = os.path.join(workdir, 'out.npy')
                args = ['export', path, '--member', key, '-o', target, '--force']
                if expr:
                    args += ['--slice', expr]
                rc, _, err = run(cli, args)
                try:
                    # "..." keeps a 0-d view (and its dtype) where numpy
                    # would hand back a scalar.
                    if expr:
                        key_ = eval(f'np.s_[{expr}]')
                        key_ = key_ if isinstance(key_, tuple) else (key_,)
                        view = a[key_ + (() if Ellipsis in key_ else (Ellipsis,))]
                    else:
                        view = a
                except IndexError:
                    check(rc == 1 and name in err, where, f'export {expr!r}: numpy refuses, exit {rc}')
                    continue
                check(rc == 0, where, f'export {expr!r}: exit {rc}: {err}')
                if rc != 0:
                    continue
                buf = io.BytesIO()
                np.save(buf, np.asarray(view))
                with open(target, 'rb') as fp:
                    check(fp.read() == buf.getvalue(), where,
                          f'export {expr!r} differs from np.save')


def expected_tree(names):
    """The member tree by the rule of the issue: "dir/b" is "b" in "dir";
    empty parts dropped, a leading "/" a node of its own; a folder and a
    member of the same path are one node."""
    root = {'children': []}
    nodes = {}
    for name in names:
        segments = (['/'] if name.startswith('/') else []) + [p for p in name.split('/') if p]
        segments = segments or [name]
        parent, path = root, ''
        for k, seg in enumerate(segments):
            path = seg if k == 0 else ('/' + seg if path == '/' else path + '/' + seg)
            node = nodes.get(path)
            last = k == len(segments) - 1
            if node is None or (last and 'member' in node):
                node = {'name': seg, 'path': path}
                parent.setdefault('children', []).append(node)
                nodes.setdefault(path, node)
            if last:
                node['member'] = name
            parent = node
    return root.get('children', [])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--cli', required=True)
    args = parser.parse_args()
    cli = args.cli
    if not os.path.exists(cli):
        print(f'FAIL: npyview-cli not found at {cli}')
        return 1
    rng = np.random.default_rng(5)

    with tempfile.TemporaryDirectory(prefix='npv-npz-') as tmp:
        data = arrays(rng)
        stored = os.path.join(tmp, 'stored.npz')
        np.savez(stored, **data)
        check_archive(cli, stored, tmp)

        compressed = os.path.join(tmp, 'compressed.npz')
        np.savez_compressed(compressed, **data)
        check_archive(cli, compressed, tmp)

        positional = os.path.join(tmp, 'positional.npz')
        np.savez(positional, np.arange(3), np.eye(2))
        check_archive(cli, positional, tmp)

        many = os.path.join(tmp, 'many.npz')
        np.savez(many, **{f'm{i}': np.array([i, i + 1]) for i in range(1000)})
        check_archive(cli, many, tmp, every=97)

        empty = os.path.join(tmp, 'empty.npz')
        np.savez(empty)
        rc, out, err = run(cli, ['info', '--json', empty])
        check(rc == 0 and json.loads(out)['members'] == [], 'empty.npz', f'{rc} {out} {err}')
        rc, _, err = run(cli, ['show', empty])
        check(rc == 1 and 'empty.npz' in err, 'empty.npz', f'show: exit {rc} {err!r}')

        piped = os.path.join(tmp, 'piped.npz')
        code = ("import sys, numpy as np\n"
                "class W:\n"
                "    def __init__(s, f): s.f = f\n"
                "    def write(s, b): return s.f.write(b)\n"
                "    def flush(s): s.f.flush()\n"
                "    def read(s, n=-1): raise OSError('a pipe')\n"
                "np.savez(W(sys.stdout.buffer), a=np.arange(6.0), b=np.ones((2, 2), 'i2'))\n")
        with open(piped, 'wb') as fp:
            subprocess.run(['/usr/bin/python3', '-c', code], stdout=fp, check=True)
        with zipfile.ZipFile(piped) as zf:
            check(all(i.flag_bits & 8 for i in zf.infolist()), 'piped.npz',
                  'the archive has no data descriptors')
        check_archive(cli, piped, tmp)

        damaged = os.path.join(tmp, 'damaged.npz')
        with zipfile.ZipFile(damaged, 'w') as zf:
            with zf.open('good.npy', 'w') as fp:
                np.lib.format.write_array(fp, np.arange(5))
            zf.writestr('bad.npy', b'\x93NUMPY\x01\x00\x10\x00{not a dict}   \n')
        check_archive(cli, damaged, tmp, expect_broken=('bad',))

        # A deflated member whose CRC does not match: that member fails
        # with a clear message, the others stay readable.
        crc_bad = os.path.join(tmp, 'crc.npz')
        np.savez_compressed(crc_bad, good=np.arange(10.0), bad=np.arange(1000.0))
        blob = bytearray(open(crc_bad, 'rb').read())
        with zipfile.ZipFile(crc_bad) as zf:
            info_bad = zf.getinfo('bad.npy')
        _, start = member_offsets(crc_bad)['bad.npy']
        blob[start + info_bad.compress_size - 9] ^= 0x40
        open(crc_bad, 'wb').write(blob)
        rc, _, err = run(cli, ['stats', crc_bad, '--member', 'bad'])
        check(rc == 1 and 'crc.npz' in err and err.count('\n') == 1, 'crc.npz',
              f'damaged member: exit {rc}, {err!r}')
        rc, out, err = run(cli, ['stats', '--json', crc_bad, '--member', 'good'])
        check(rc == 0 and json.loads(out)['max'] == 9.0, 'crc.npz', f'good member: {rc} {err}')

        # .npy.gz: one gzip member and several concatenated.
        import gzip
        for label, parts in (('single', 1), ('multi', 3)):
            a = rng.standard_normal((301, 17)).astype('>f4')
            raw = io.BytesIO()
            np.save(raw, a)
            raw = raw.getvalue()
            cut = [0, len(raw) // 3, 2 * len(raw) // 3, len(raw)] if parts == 3 else [0, len(raw)]
            gz = os.path.join(tmp, f'{label}.npy.gz')
            with open(gz, 'wb') as fp:
                for i in range(len(cut) - 1):
                    fp.write(gzip.compress(raw[cut[i]:cut[i + 1]]))
            rc, out, err = run(cli, ['info', '--json', gz])
            m = json.loads(out)['members'][0] if rc == 0 else {}
            check(rc == 0 and json.loads(out)['format'] == 'npy.gz' and m.get('shape') == [301, 17]
                  and m.get('dtype') == '>f4', gz, f'info: {rc} {out!r} {err}')
            for expr in ['', '::-3, 2:', '-1']:
                target = os.path.join(tmp, 'gz-out.npy')
                args = ['export', gz, '-o', target, '--force'] + (['--slice', expr] if expr else [])
                rc, _, err = run(cli, args)
                buf = io.BytesIO()
                np.save(buf, a if not expr else a[eval(f'np.s_[{expr}]') + (Ellipsis,)]
                        if isinstance(eval(f'np.s_[{expr}]'), tuple)
                        else a[eval(f'np.s_[{expr}]'), ...])
                check(rc == 0 and open(target, 'rb').read() == buf.getvalue(), gz,
                      f'export {expr!r}: {rc} {err}')
            rc, out, err = run(cli, ['stats', '--json', gz])
            got = json.loads(out) if rc == 0 else {}
            check(rc == 0 and got.get('max') == float(a.max()) and got.get('count') == a.size, gz,
                  f'stats: {rc} {out!r} {err}')
        trunc = os.path.join(tmp, 'cut.npy.gz')
        blob = open(os.path.join(tmp, 'single.npy.gz'), 'rb').read()
        open(trunc, 'wb').write(blob[:len(blob) // 2])
        for cmd in (['stats'], ['show'], ['export', '-o', os.path.join(tmp, 'never.npy')]):
            rc, _, err = run(cli, [cmd[0], trunc] + cmd[1:])
            check(rc == 1 and 'cut.npy.gz' in err and err.count('\n') == 1, 'cut.npy.gz',
                  f'{cmd[0]} of a cut gzip: exit {rc}, {err!r}')
        check(not os.path.exists(os.path.join(tmp, 'never.npy')), 'cut.npy.gz', 'a file was left')

        rc, _, err = run(cli, ['show', stored])
        check(rc == 1 and 'choose one' in err, 'stored.npz', f'show without --member: {rc} {err!r}')
        rc, _, err = run(cli, ['show', stored, '--member', 'nope'])
        check(rc == 1 and 'nope' in err, 'stored.npz', f'unknown member: {rc} {err!r}')

        # A deflated member of 64 MiB read at 20 random windows, each one
        # through the inflate index, against numpy's decompressed array.
        big = os.path.join(tmp, 'big.npz')
        rows, cols = (64 << 20) // (8 * 512), 512
        a = np.cumsum(rng.standard_normal((rows, cols)), axis=1).round(3)
        np.savez_compressed(big, noise=np.arange(3), a=a)
        with np.load(big) as npz:
            loaded = npz['a']
        target = os.path.join(tmp, 'window.npy')
        for k, r in enumerate(rng.integers(0, rows - 16, size=20)):
            c = int(rng.integers(0, cols - 8))
            expr = f'{r}:{r + 16}, {c}:{c + 8}' if k % 2 else f'{r}'
            rc, _, err = run(cli, ['export', big, '--member', 'a', '--slice', expr, '-o', target,
                                   '--force'])
            buf = io.BytesIO()
            np.save(buf, loaded[eval(f'np.s_[{expr}]')])
            check(rc == 0 and open(target, 'rb').read() == buf.getvalue(), 'big.npz',
                  f'window {expr}: exit {rc} {err}')

    print(f'npz: {"passed" if not failures else "FAILED"}: {len(failures)} failures in {checks} checks')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
