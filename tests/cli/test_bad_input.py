#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""npyview-cli on bad input, and its usage errors.

Every bad file is generated here at test time (and numpy is asked to confirm
it rejects it). For each one, `info`, `info --json`, `show`, `stats` and
`export -o OUT.npy` must exit with status exactly 1, write exactly one
non-empty line on stderr that names the file, leave no output file, not
crash and finish within the timeout.

Then the usage errors: unknown commands and options, missing arguments, bad
--slice syntax (exit 2), and data errors in arguments such as an index out
of range or an unknown --field (exit 1); and `--help` for every command.

  test_bad_input.py [--cli PATH] [--keep DIR]
"""

import argparse
import gzip
import io
import os
import pickle
import re
import struct
import sys
import tempfile
import time
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import cliutil  # noqa: E402
import corpus  # noqa: E402

COMMANDS = (('info',), ('info', '--json'), ('show',), ('stats',),
            ('export',))

GOOD = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"
DATA3 = np.arange(3, dtype='<f8').tobytes()


def hdr(text, data=DATA3, version=(1, 0), pad='numpy'):
    return corpus.handmade(text, data, version, pad)


def raw_header(version, length_field, rest):
    fmt = '<H' if version == (1, 0) else '<I'
    return corpus.MAGIC + bytes(version) + struct.pack(fmt, length_field) + rest


def header_with(descr=None, fortran=None, shape=None):
    parts = []
    parts.append(f"'descr': {descr if descr is not None else repr('<f8')}")
    parts.append(f"'fortran_order': {fortran if fortran is not None else 'False'}")
    parts.append(f"'shape': {shape if shape is not None else '(3,)'}")
    return '{' + ', '.join(parts) + ', }'


def deep_descr(depth):
    d = "'<f8'"
    for _ in range(depth):
        d = f"[('a', {d})]"
    return d


class Bad:
    def __init__(self, name, content=None, kind='file', sizes=None,
                 why='', listable=False):
        self.name = name          # file name (also the test's name)
        self.content = content    # bytes for kind 'file'
        self.kind = kind          # 'file', 'dir', 'missing', 'unreadable'
        self.sizes = sizes        # (expected, actual) data bytes for truncation
        self.why = why
        # An archive whose only member is broken: info lists the member with
        # its error (exit 0); reading its values fails (exit 1).
        self.listable = listable
        self.path = None


def bad_inputs():
    valid = hdr(GOOD)
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, 'w') as z:
        z.writestr('x.npy', b'this is not an npy file')
    trunc_full = hdr("{'descr': '<f8', 'fortran_order': False, "
                     "'shape': (10,), }", b'\x01' * 36)
    trunc_huge = hdr("{'descr': '<f8', 'fortran_order': False, "
                     "'shape': (1099511627776,), }", b'\x01' * 64)
    return [
        Bad('empty.npy', b''),
        Bad('one-byte.npy', b'\x93'),
        Bad('magic-only.npy', corpus.MAGIC),
        Bad('bad-magic.npy', b'\x93NUMPX' + valid[6:]),
        Bad('text-file.npy', b'hello, world\n'),
        Bad('version-4.0.npy', hdr(GOOD, version=(4, 0))),
        Bad('version-1.1.npy', raw_header((1, 0), 0, b'')[:6] + b'\x01\x01'
            + valid[8:]),
        Bad('version-0.0.npy', raw_header((1, 0), 0, b'')[:6] + b'\x00\x00'
            + valid[8:]),
        Bad('header-length-past-eof.npy',
            raw_header((1, 0), 1000, GOOD.encode()[:40])),
        Bad('header-length-zero.npy', raw_header((1, 0), 0, DATA3)),
        Bad('truncated-header-text.npy', valid[:10 + 30]),
        Bad('truncated-data.npy', trunc_full, sizes=(80, 36)),
        Bad('no-data.npy', hdr("{'descr': '<i4', 'fortran_order': False, "
                               "'shape': (5,), }", b''), sizes=(20, 0)),
        Bad('truncated-data-huge.npy', trunc_huge,
            sizes=(8 * 1099511627776, 64)),
        Bad('unknown-descr.npy', hdr(header_with(descr="'<q9'"))),
        Bad('descr-foo.npy', hdr(header_with(descr="'foo'"))),
        Bad('descr-f7.npy', hdr(header_with(descr="'<f7'"))),
        Bad('descr-empty.npy', hdr(header_with(descr="''"))),
        Bad('descr-not-string.npy', hdr(header_with(descr='42'))),
        Bad('descr-unknown-time-unit.npy', hdr(header_with(descr="'<M8[xx]'"))),
        Bad('descr-huge-itemsize.npy',
            hdr(header_with(descr="'S9223372036854775807'", shape='(2,)'))),
        Bad('descr-duplicate-fields.npy',
            hdr(header_with(descr="[('a', '<f8'), ('a', '<i4')]",
                            shape='(1,)'), b'\0' * 12)),
        Bad('descr-negative-subarray.npy',
            hdr(header_with(descr="[('a', '<f8', (-1,))]", shape='(1,)'),
                b'\0' * 8)),
        Bad('descr-deeply-nested.npy',
            hdr(header_with(descr=deep_descr(300), shape='(1,)'), b'\0' * 8)),
        Bad('deeply-nested-lists.npy', hdr('[' * 3000 + ']' * 3000)),
        # (with 8 data bytes: numpy 1.24 reads 24 bytes as shape (-1, 3))
        Bad('negative-dimension.npy', hdr(header_with(shape='(-1, 3)'),
                                          DATA3[:8])),
        Bad('shape-overflow.npy',
            hdr(header_with(shape=f'({2**62}, {2**62})'))),
        Bad('shape-bytes-overflow.npy',
            hdr(header_with(shape=f'({2**61},)'))),
        Bad('shape-list.npy', hdr(header_with(shape='[3]'))),
        Bad('shape-float.npy', hdr(header_with(shape='(3.0,)'))),
        Bad('shape-bool.npy', hdr(header_with(shape='(True,)'))),
        Bad('shape-nested.npy', hdr(header_with(shape='((3,),)'))),
        Bad('extra-key.npy',
            hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), "
                "'extra': 1, }")),
        Bad('missing-key.npy', hdr("{'descr': '<f8', 'shape': (3,), }")),
        Bad('fortran-order-0.npy', hdr(header_with(fortran='0'))),
        Bad('fortran-order-string.npy', hdr(header_with(fortran="'False'"))),
        Bad('garbage-after-dict.npy', hdr(GOOD + ' xyz')),
        Bad('header-not-dict.npy', hdr('[1, 2, 3]')),
        Bad('header-string.npy', hdr("'descr'")),
        Bad('unterminated-string.npy',
            hdr("{'descr': '<f8, 'fortran_order': False, 'shape': (3,), }")),
        Bad('unclosed-dict.npy',
            hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)")),
        Bad('non-utf8-v3.npy',
            hdr("{'descr': [('\xff\xfe', '<f8')], 'fortran_order': False, "
                "'shape': (3,), }".encode('latin1'), version=(3, 0))),
        Bad('nul-in-header.npy',
            hdr("{'descr': '<f8',\x00 'fortran_order': False, "
                "'shape': (3,), }")),
        Bad('L-suffix-v3.npy',
            hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (3L,), }",
                version=(3, 0))),
        Bad('huge-header-length-v2.npy',
            raw_header((2, 0), 0xffffffff, GOOD.encode() + b'\n' + DATA3)),
        Bad('zip.npy', zbuf.getvalue(), why='a zip archive', listable=True),
        Bad('gzip.npy', gzip.compress(b'not an npy file at all'),
            why='a gzip file that does not hold an .npy'),
        Bad('gzip-cut.npy', gzip.compress(valid)[:20], why='a gzip file cut short'),
        Bad('pickle-cut.npy', pickle.dumps(np.arange(3.0), protocol=2)[:40],
            why='a pickle cut short'),
        Bad('a-directory.npy', kind='dir'),
        Bad('does-not-exist.npy', kind='missing'),
        Bad('unreadable.npy', valid, kind='unreadable'),
    ]


def numpy_rejects(b):
    """numpy must refuse every bad file (else it is not a bad input)."""
    if b.kind in ('dir', 'missing', 'unreadable'):
        return True
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            # From memory: given the file, numpy would first allocate the 4 GB
            # the huge header length asks for.
            r = np.load(io.BytesIO(b.content), allow_pickle=False)
        except BaseException:
            return True
        if isinstance(r, np.lib.npyio.NpzFile):
            # numpy hands back a member that is not an .npy as raw bytes
            try:
                return not all(isinstance(r[k], np.ndarray) for k in r.files)
            except BaseException:
                return True
        return False


def make(b, root):
    b.path = os.path.join(root, b.name)
    if b.kind == 'dir':
        os.mkdir(b.path)
    elif b.kind in ('file', 'unreadable'):
        with open(b.path, 'wb') as f:
            f.write(b.content)
        if b.kind == 'unreadable':
            os.chmod(b.path, 0)


def check_error(report, where, r, status, names=(), contains=()):
    if not report.health(where, r):
        return False
    if not report.check(r.rc == status, where, r.display,
                        f'exit status {r.rc}, expected {status}; stderr: '
                        f'{cliutil.short(r.err_text)!r}'):
        return False
    lines = r.err_lines()
    if status == 2:
        return report.check(r.err_text.strip() != '', where, r.display,
                            'usage error without a message on stderr')
    if not report.check(len(lines) == 1 and lines[0].strip(), where,
                        r.display, f'stderr should be exactly one non-empty '
                        f'line, got {len(lines)}: '
                        f'{cliutil.short(r.err_text)!r}'):
        return False
    ok = True
    if names:
        ok = report.check(any(n in lines[0] for n in names), where,
                          r.display, f'the message does not name '
                          f'{" or ".join(map(repr, names))}: {lines[0]!r}')
    for pattern, label in contains:
        ok = report.check(re.search(pattern, lines[0]) is not None, where,
                          r.display, f'the message should contain {label}: '
                          f'{lines[0]!r}') and ok
    return ok


def run_bad_files(runner, report, root, jobs):
    bad_dir = os.path.join(root, 'bad')
    os.mkdir(bad_dir)
    cases = bad_inputs()
    is_root = os.geteuid() == 0
    for b in cases:
        if b.kind == 'unreadable' and is_root:
            report.skip(f'{b.name}: running as root, which can read a mode '
                        '000 file: the unreadable-file case is skipped')
            b.kind = 'skip'
            continue
        make(b, bad_dir)
        if not numpy_rejects(b):
            report.fail(b.name, '(test driver)', 'numpy accepts this file, '
                        'so it is not a bad input')
            b.kind = 'skip'
    def one(b, k, cmd):
        base = os.path.basename(b.path)
        outdir = os.path.join(root, 'out', f'{b.name}-{k}')
        os.makedirs(outdir)
        args = list(cmd) + [b.path]
        if cmd[0] == 'export':
            args += ['-o', os.path.join(outdir, 'x.npy')]
        r = runner.run(args)
        if b.listable and cmd[0] == 'info':
            out = r.out.decode('utf-8', 'replace')
            report.check(r.rc == 0, b.name, r.display,
                         f'exit status {r.rc}, expected 0 (the member is listed)')
            report.check('x' in out and ('broken' in out or 'cannot be read' in out),
                         b.name, r.display, f'the broken member is not listed: {out!r}')
            return
        contains = ()
        if b.sizes:
            contains = [(rf'(?<![\d.,]){v}(?![\d.,]*\d)',
                         f'the {what} data size {v} (bytes)')
                        for v, what in zip(b.sizes, ('expected', 'actual'))]
        check_error(report, b.name, r, 1, names=(base,), contains=contains)
        left = os.listdir(outdir)
        report.check(not left, b.name, r.display,
                     f'files left behind: {left}')

    todo = [(b, k, cmd) for b in cases if b.kind != 'skip'
            for k, cmd in enumerate(COMMANDS)]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda t: one(*t), todo))
    n = sum(1 for b in cases if b.kind != 'skip')
    if os.path.exists(os.path.join(bad_dir, 'unreadable.npy')):
        os.chmod(os.path.join(bad_dir, 'unreadable.npy'), 0o600)
    return n


def run_usage(runner, report, root):
    udir = os.path.join(root, 'usage')
    os.mkdir(udir)
    f5 = os.path.join(udir, 'five.npy')
    np.save(f5, np.arange(5, dtype='<f8'))
    f2d = os.path.join(udir, 'grid.npy')
    np.save(f2d, np.arange(12, dtype='<i4').reshape(3, 4))
    fst = os.path.join(udir, 'record.npy')
    np.save(fst, np.zeros(4, np.dtype([('x', '<i4'),
                                       ('a', [('b', '<f8')])])))
    counter = iter(range(10**6))

    def out(ext='.npy'):
        return os.path.join(udir, f'out{next(counter)}{ext}')

    usage = [
        [],
        ['frobnicate', f5],
        ['info'],
        ['show'],
        ['stats'],
        ['export', f5],
        ['export'],
        ['info', '--bogus', f5],
        ['show', f5, '--no-such-option'],
        ['export', f5, '-o'],
        ['show', f5, '--slice'],
        ['export', f5, '--format', 'bogus', '-o', out('.dat')],
    ]
    for expr in ('1:2:0', '::0', 'abc', '1:2:3:4', '1,,2', '[0]', '(1',
                 '0.5', '1 2'):
        for cmd in (['show', f5], ['stats', f5], ['export', f5, '-o', out()]):
            usage.append(cmd + ['--slice', expr])
    for args in usage:
        r = runner.run(args)
        where = 'usage'
        check_error(report, where, r, 2)
        o = args[args.index('-o') + 1] if '-o' in args[:-1] else None
        if o:
            report.check(not os.path.exists(o), where, r.display,
                         'an output file was written despite the usage error')

    data_errors = [
        (['show', f5, '--slice', '99'], f5),
        (['show', f5, '--slice', '-6'], f5),
        (['stats', f5, '--slice', '5'], f5),
        (['show', f5, '--slice', '0, 0'], f5),
        (['show', f2d, '--slice', '0, 0, 0'], f2d),
        (['show', f2d, '--slice', '3'], f2d),
        (['export', f5, '--slice', '99', '-o', out()], f5),
        (['export', f2d, '--slice', '1, 4', '-o', out('.csv')], f2d),
        (['show', fst, '--field', 'nope'], fst),
        (['stats', fst, '--field', 'a.nope'], fst),
        (['export', fst, '--field', 'x.y', '-o', out()], fst),
        (['show', f5, '--field', 'x'], f5),
        (['export', fst, '--field', 'nope', '-o', out('.csv')], fst),
    ]
    for args, path in data_errors:
        r = runner.run(args)
        check_error(report, 'data-error', r, 1,
                    names=(os.path.basename(path),))
        if '-o' in args:
            o = args[args.index('-o') + 1]
            report.check(not os.path.exists(o), 'data-error', r.display,
                         'an output file was left behind')

    # A negative index is an index, not an option.
    for args in (['show', f5, '--slice', '-1'], ['show', f5, '--slice=-1'],
                 ['show', f2d, '--slice', '-1, ::-1'],
                 ['stats', f5, '--slice', '-2:']):
        r = runner.run(args)
        if report.health('negative-index', r):
            report.check(r.rc == 0, 'negative-index', r.display,
                         f'exit status {r.rc}, expected 0; stderr: '
                         f'{cliutil.short(r.err_text)!r}')

    for args in (['--help'], ['info', '--help'], ['show', '--help'],
                 ['stats', '--help'], ['export', '--help']):
        r = runner.run(args)
        if report.health('help', r):
            report.check(r.rc == 0 and r.out.strip() != b'', 'help',
                         r.display, f'exit status {r.rc} (expected 0), '
                         f'{len(r.out)} bytes on stdout (expected help text);'
                         f' stderr: {cliutil.short(r.err_text)!r}')
    return len(usage) + len(data_errors)


def main(argv):
    p = argparse.ArgumentParser(description='npyview-cli on bad input')
    cliutil.add_cli_argument(p)
    p.add_argument('--keep', metavar='DIR',
                   help='write the bad files into DIR and keep them')
    p.add_argument('--jobs', type=int,
                   default=min(4, max(2, os.cpu_count() or 2)))
    args = p.parse_args(argv)
    cli = cliutil.require_cli(args.cli)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='npv-bad-input-') as tmp:
        root = args.keep or tmp
        os.makedirs(root, exist_ok=True)
        runner = cliutil.Runner(cli, args.timeout,
                                [(os.path.join(root, ''), '')])
        report = cliutil.Report('bad-input')
        n = run_bad_files(runner, report, root, args.jobs)
        u = run_usage(runner, report, root)
        print(f'bad-input: {n} bad inputs x {len(COMMANDS)} commands, '
              f'{u} usage and argument errors')
        return report.finish(runner.count, time.monotonic() - t0)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
