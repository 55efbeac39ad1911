#!/usr/bin/env python3
"""Object arrays (dtype |O) through npyview-cli, against numpy.

numpy writes object arrays as a pickle after the .npy header. npyview
rebuilds their elements without running anything; each element's text
must be Python's repr() of what numpy.load(allow_pickle=True) returns
(these files are made here or are numpy's own test data, so letting numpy
unpickle them is safe). Classes and functions, which npyview never
imports, must show as <object module.name>.
"""

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

# Files from numpy 2 name numpy._core; numpy 1.24 calls it numpy.core.
sys.modules.setdefault('numpy._core', np.core)
sys.modules.setdefault('numpy._core.multiarray', np.core.multiarray)

failures = []
checks = 0


def check(ok, where, message):
    global checks
    checks += 1
    if not ok:
        failures.append(where)
        print(f'FAIL {where}: {message}', flush=True)


def run(cli, args):
    p = subprocess.run([cli] + args, capture_output=True, timeout=120)
    err = p.stderr.decode('utf-8', 'replace')
    if p.returncode < 0 or 'runtime error:' in err or 'Sanitizer' in err:
        check(False, ' '.join(args), f'crash or sanitizer report: {p.returncode} {err}')
    return p.returncode, p.stdout.decode('utf-8'), err


def expected_text(x):
    if isinstance(x, type) or callable(x):
        return None   # a global: shown as <object module.name>
    return repr(x)


def check_file(cli, path, where, member=None, encoding=None):
    extra = (['--member', member] if member else []) + (['--encoding', encoding] if encoding else [])
    rc, out, err = run(cli, ['info', '--json', path] + extra)
    check(rc == 0, where, f'info: {rc} {err}')
    if rc == 0:
        m = json.loads(out)['members'][0]
        check(m['dtype'] == '|O', where, f"dtype {m['dtype']}")
    rc, out, err = run(cli, ['export', path, '-o', '-', '--format', 'csv'] + extra)
    check(rc == 0, where, f'export csv: {rc} {err}')
    if rc != 0:
        return
    loaded = np.load(path, allow_pickle=True, encoding=encoding or 'bytes')
    arr = loaded[member] if member else loaded
    flat = arr.reshape(-1) if arr.ndim <= 1 else arr
    rows = list(csv.reader(io.StringIO(out)))
    if arr.ndim <= 1:
        got = [r[0] for r in rows]
        want = [expected_text(x) for x in flat]
        check(len(got) == len(want), where, f'{len(got)} lines, expected {len(want)}')
        for i, (g, w) in enumerate(zip(got, want)):
            if w is None:
                check(g.startswith('<object ') and g.endswith('>'), where, f'[{i}] {g!r}')
            else:
                check(g == w, where, f'[{i}] {g!r} != {w!r}')
    else:
        for i, row in enumerate(rows):
            for j, g in enumerate(row):
                w = expected_text(arr[i, j])
                check(w is None or g == w, where, f'[{i},{j}] {g!r} != {w!r}')
    rc, _, err = run(cli, ['export', path, '-o', os.path.join(os.path.dirname(path), 'no.npy'),
                           '--force'] + extra)
    check(rc == 1 and 'object' in err, where, f'export to .npy must be refused: {rc} {err!r}')


def leaves(dtype, prefix=''):
    """(column name, getter) for each leaf field, named as the CSV header
    names them: a.b for nested fields, x[1] for subarray elements."""
    out = []
    for name in dtype.names:
        field = dtype.fields[name][0]
        full = f'{prefix}{name}'
        if field.names:
            for sub, get in leaves(field, full + '.'):
                out.append((sub, lambda r, name=name, get=get: get(r[name])))
        elif field.subdtype is not None:
            base, shape = field.subdtype
            for k in range(int(np.prod(shape))):
                idx = np.unravel_index(k, shape)
                label = ','.join(str(i) for i in idx)
                out.append((f'{full}[{label}]', lambda r, name=name, idx=idx: r[name][idx]))
        else:
            out.append((full, lambda r, name=name: r[name]))
    return out


def cell_text(v):
    """What numpy shows for one element, as the CSV export writes it."""
    if isinstance(v, (np.datetime64, np.timedelta64)):
        return str(v)
    if isinstance(v, np.bool_):
        return str(bool(v))
    if isinstance(v, np.integer):
        return str(int(v))
    if isinstance(v, np.str_):
        return str(v)
    return repr(v)


def check_records(cli, path, arr, where, member=None):
    extra = ['--member', member] if member else []
    rc, out, err = run(cli, ['export', path, '-o', '-', '--format', 'csv'] + extra)
    check(rc == 0, where, f'export csv: {rc} {err}')
    if rc != 0:
        return
    rows = list(csv.reader(io.StringIO(out)))
    columns = leaves(arr.dtype)
    check(rows[0] == [c for c, _ in columns], where, f'header {rows[0]}')
    for i, record in enumerate(arr.reshape(-1)):
        for (name, get), got in zip(columns, rows[i + 1]):
            value = get(record)
            if callable(value) or isinstance(value, type):
                check(got.startswith('<object ') and got.endswith('>'), where, f'[{i}].{name}: {got!r}')
                continue
            # Object fields hold Python values: shown as their repr().
            want = cell_text(value) if isinstance(value, np.generic) else repr(value)
            check(got == want, where, f'[{i}].{name}: {got!r} != {want!r}')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--cli', required=True)
    args = parser.parse_args()
    if not os.path.exists(args.cli):
        print(f'FAIL: npyview-cli not found at {args.cli}')
        return 1

    fixtures = os.environ.get('NPV_FIXTURES_DIR',
                              os.path.join(os.path.dirname(__file__), '..', '..', '..',
                                           'shared', 'fixtures', 'numpy-testdata'))
    if os.path.isdir(fixtures):
        for name in ('py2-objarr.npy', 'py2-np0-objarr.npy', 'py3-objarr.npy'):
            for encoding in ('bytes', 'latin1'):
                check_file(args.cli, os.path.join(fixtures, name), f'{name} ({encoding})',
                           encoding=encoding)
        for name in ('py2-objarr.npz', 'py3-objarr.npz'):
            check_file(args.cli, os.path.join(fixtures, name), name, member='x')
    else:
        print(f'note: {fixtures} is absent: the old numpy files are not checked')

    with tempfile.TemporaryDirectory(prefix='npv-objects-') as tmp:
        mixed = np.array([None, 1, -2**70, 2.5, float('nan'), 1 + 2j, True, 'text, with comma',
                          '優良', b'\x00\xffbytes', [1, [2, 'x']], (1,), {'a': 1, 2: None},
                          {3}, frozenset({4}), range(2, 9, 3), slice(1, None, 2),
                          bytearray(b'ab'), np.float32(0.1), np.int16(-7), os.getcwd,
                          np.dtype('>i4')], dtype=object)
        for protocol_file, arr in (('mixed.npy', mixed),
                                   ('grid.npy', np.array([[1, 'a'], [None, 2.5]], dtype=object)),
                                   ('fortran.npy', np.asfortranarray(
                                       np.array([[1, 'a', 3], [None, 2.5, (7,)]], dtype=object))),
                                   ('empty.npy', np.array([], dtype=object))):
            path = os.path.join(tmp, protocol_file)
            np.save(path, arr, allow_pickle=True)
            check_file(args.cli, path, protocol_file)
        path = os.path.join(tmp, 'in.npz')
        np.savez_compressed(path, obj=mixed[:10], num=np.arange(3))
        check_file(args.cli, path, 'in.npz', member='obj')

    with tempfile.TemporaryDirectory(prefix='npv-records-') as tmp:
        import datetime
        import pickle
        dt = [('i', '<i4'), ('o', 'O'), ('f', '>f8'), ('h', '<f2'), ('s', 'U3'), ('b', 'S2'),
              ('t', 'M8[s]'), ('day', 'M8[D]'), ('d', 'm8[ms]'), ('sub', '<i2', (2,)),
              ('n', [('x', '?'), ('y', 'O')]), ('c', 'c8'), ('u', '<u8'), ('ld', '<f16')]
        recs = np.array([
            (1, None, 2.5, 0.1, 'ab', b'x', '2024-01-02T03:04:05', '1999-12-31', 1500, [3, 4],
             (True, [1, 2]), 1 + 2j, 2**64 - 1, 1.0 / 3),
            (-7, {'k': 'v'}, -0.0, 65504, 'é', b'yz', 'NaT', '1900-03-01', -3, [5, -6],
             (False, 's'), -1j, 0, -2.5),
            (2**31 - 1, os.getcwd, float('nan'), -np.inf, '', b'', '1969-12-31T23:59:59',
             'NaT', np.timedelta64('NaT'), [0, 0], (True, None), 0j, 7, 1e300)], dtype=dt)
        path = os.path.join(tmp, 'records.npy')
        np.save(path, recs, allow_pickle=True)
        check_records(args.cli, path, recs, 'records.npy')
        path = os.path.join(tmp, 'records.npz')
        np.savez_compressed(path, r=recs, other=np.arange(2))
        check_records(args.cli, path, recs, 'records.npz', member='r')
        for protocol in (2, 4, 5):
            path = os.path.join(tmp, f'records-{protocol}.pkl')
            with open(path, 'wb') as fp:
                pickle.dump({'r': recs, 'x': np.arange(3)}, fp, protocol=protocol)
            check_records(args.cli, path, recs, f'records-{protocol}.pkl', member='r')

    print(f'objects: {"passed" if not failures else "FAILED"}: {len(failures)} failures in {checks} checks')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
