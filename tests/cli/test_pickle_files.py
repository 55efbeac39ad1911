#!/usr/bin/env python3
"""Pickle files (what np.load(allow_pickle=True) returns) through npyview-cli.

Dicts, lists and tuples of arrays, pickled with every protocol, must list
one member per array (named by its path, "runs/0") and per other value;
arrays must export byte for byte as np.save would write them, and where
the pickle holds an array's data as one bytes object, info must give its
offset in the file and the bytes there must be the array's. Nothing in
the pickle may run: the hostile cases would leave a file behind if they
were executed.
"""

import argparse
import io
import json
import os
import pickle
import subprocess
import sys
import tempfile

import warnings

import numpy as np

# Dtypes unpickled from protocols 0-4 carry empty metadata numpy warns about.
warnings.filterwarnings('ignore', message='metadata on a dtype')

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


def flatten(value, name, out, path=()):
    """The members npyview should list: (name, value) in walk order."""
    def holds_array(v, seen):
        if isinstance(v, np.ndarray) or isinstance(v, np.generic):
            return True
        if isinstance(v, (dict, list, tuple)) and id(v) not in seen:
            seen = seen | {id(v)}
            items = v.values() if isinstance(v, dict) else v
            return any(holds_array(x, seen) for x in items)
        return False

    if isinstance(value, (dict, list, tuple)) and holds_array(value, set()) \
            and id(value) not in path:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            key = k if isinstance(k, str) else str(k) if isinstance(k, int) else repr(k)
            flatten(v, f'{name}/{key}' if name else key, out, path + (id(value),))
    else:
        out.append((name, value))


def zero_d_text(value):
    holder = np.empty((), dtype=object)
    holder[()] = value
    return str(holder)


def check_pickle(cli, path, where, tmp):
    with open(path, 'rb') as fp:
        loaded = pickle.load(fp)
    want = []
    flatten(loaded, '', want)
    rc, out, err = run(cli, ['info', '--json', path])
    check(rc == 0, where, f'info: exit {rc}: {err}')
    if rc != 0:
        return
    info = json.loads(out)
    check(info['format'] == 'pickle', where, f"format {info['format']}")
    got_names = [m['name'] for m in info['members']]
    check(got_names == [n for n, _ in want], where, f'members {got_names} != {[n for n, _ in want]}')
    blob = open(path, 'rb').read()
    for m, (name, value) in zip(info['members'], want):
        mwhere = f'{where}[{name}]'
        check(m['storage'] == 'pickle', mwhere, f"storage {m['storage']}")
        member = ['--member', name] if len(want) > 1 else []
        if isinstance(value, (np.ndarray, np.generic)) and value.dtype != object:
            a = np.asarray(value)
            # numpy's unpickler turns non-native arrays of protocols 0-4
            # native; npyview keeps the order the pickle stored.
            stored = m['dtype']
            if isinstance(stored, str) and stored[0] in '<>' and stored[1:] == a.dtype.str[1:]:
                a = a.astype(stored)
            check(m['dtype'] == json.loads(json.dumps(np.lib.format.dtype_to_descr(a.dtype))),
                  mwhere, f"dtype {m['dtype']} != {a.dtype.str}")
            check(m['shape'] == list(a.shape), mwhere, f"shape {m['shape']} != {a.shape}")
            if m['data_offset'] is not None:
                off = m['data_offset']
                check(blob[off:off + a.nbytes] == a.tobytes(order='A'), mwhere,
                      f'the bytes at data_offset {off} are not the array')
            target = os.path.join(tmp, 'out.npy')
            rc, _, err = run(cli, ['export', path, '-o', target, '--force'] + member)
            buf = io.BytesIO()
            np.save(buf, a)
            check(rc == 0 and open(target, 'rb').read() == buf.getvalue(), mwhere,
                  f'export differs from np.save: exit {rc} {err}')
        elif isinstance(value, np.ndarray):
            rc, out, err = run(cli, ['show', path] + member)
            check(rc == 0 and out.rstrip('\n') == str(value), mwhere,
                  f'show: exit {rc} {err}\n{out!r}\n!= {str(value)!r}')
        else:
            check(m['dtype'] == '|O' and m['shape'] == [], mwhere, f'a value: {m}')
            rc, out, err = run(cli, ['show', path] + member)
            text = zero_d_text(value)
            if callable(value):
                check(rc == 0 and out.startswith('<object '), mwhere, f'show: {out!r}')
            else:
                check(rc == 0 and out.rstrip('\n') == text, mwhere,
                      f'show: exit {rc} {err}\n{out!r}\n!= {text!r}')


class Runs:
    """Something that would run a command if it were unpickled by Python."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--cli', required=True)
    args = parser.parse_args()
    if not os.path.exists(args.cli):
        print(f'FAIL: npyview-cli not found at {args.cli}')
        return 1
    rng = np.random.default_rng(11)

    with tempfile.TemporaryDirectory(prefix='npv-pkl-') as tmp:
        tree = {
            'x': rng.standard_normal((3, 4)),
            'meta': {'units': 'm', 'n': 3, 'flags': [True, None]},
            'runs': [np.eye(2, dtype='>i4'),
                     np.asfortranarray(np.arange(6, dtype='u2').reshape(2, 3)),
                     (np.array(['ab', 'é'], dtype='U2'), np.array([b'x', b'yz']))],
            'dir/name': np.arange(5, dtype=np.int8),
            7: np.array([1 + 2j, -3.5j], dtype='c8'),
            'record': np.array([(1, 2.5), (3, -1.0)], dtype=[('a', '<i2'), ('b', '>f8')]),
            'when': np.array(['2024-01-02', 'NaT'], dtype='M8[D]'),
            'scalar': np.float32(1.5),
            'zero-d': np.array(2.25),
            'empty': np.zeros((0, 3)),
            'objects': np.array([None, 'a', [1, 2], 3.5], dtype=object),
            'label': 'a string',
        }
        for protocol in range(0, pickle.HIGHEST_PROTOCOL + 1):
            path = os.path.join(tmp, f'tree-{protocol}.pkl')
            with open(path, 'wb') as fp:
                pickle.dump(tree, fp, protocol=protocol)
            check_pickle(args.cli, path, f'protocol {protocol}', tmp)

        for label, value in (('list', [np.arange(3), np.ones((2, 2))]),
                             ('tuple', (np.arange(4.0),)),
                             ('array', np.arange(10, dtype='>f4').reshape(2, 5)),
                             ('nothing', {'a': 1, 'b': [2, 3]}),
                             ('text', 'just text')):
            for protocol in (2, 5):
                path = os.path.join(tmp, f'{label}-{protocol}.pkl')
                with open(path, 'wb') as fp:
                    pickle.dump(value, fp, protocol=protocol)
                check_pickle(args.cli, path, f'{label} (protocol {protocol})', tmp)

        # A list that contains itself next to an array.
        cyclic = [np.arange(3)]
        cyclic.append(cyclic)
        path = os.path.join(tmp, 'cyclic.pkl')
        with open(path, 'wb') as fp:
            pickle.dump(cyclic, fp, protocol=4)
        rc, out, err = run(args.cli, ['info', '--json', path])
        names = [m['name'] for m in json.loads(out)['members']] if rc == 0 else []
        check(names == ['0', '1'], 'cyclic.pkl', f'{rc} {names} {err}')
        rc, out, err = run(args.cli, ['show', path, '--member', '1'])
        check(rc == 0 and out.strip() == '[array(shape=(3,), dtype=int64), [...]]', 'cyclic.pkl',
              f'show: {rc} {out!r} {err}')

        # A large array pickled with protocol 5 is used in place.
        big = rng.standard_normal((512, 1024))
        path = os.path.join(tmp, 'big.pkl')
        with open(path, 'wb') as fp:
            pickle.dump({'big': big}, fp, protocol=5)
        rc, out, err = run(args.cli, ['info', '--json', path])
        m = json.loads(out)['members'][0] if rc == 0 else {}
        check(rc == 0 and m.get('data_offset') is not None, 'big.pkl', f'not in place: {m} {err}')
        check_pickle(args.cli, path, 'big.pkl', tmp)

        # Hostile: unpickled by Python these would create files.
        for protocol in (0, 2, 5):
            marker = os.path.join(tmp, f'ran-{protocol}')
            path = os.path.join(tmp, f'hostile-{protocol}.pkl')
            with open(path, 'wb') as fp:
                pickle.dump({'data': np.arange(3), 'evil': Runs(f'touch {marker}'),
                             'nested': [Runs(f'touch {marker}-2'), np.ones(2)]}, fp,
                            protocol=protocol)
            rc, out, err = run(args.cli, ['info', '--json', path])
            names = [m['name'] for m in json.loads(out)['members']] if rc == 0 else []
            check(names == ['data', 'evil', 'nested/0', 'nested/1'], path, f'{rc} {names} {err}')
            for member in ('evil', 'nested/0'):
                rc, out, err = run(args.cli, ['show', path, '--member', member])
                check(rc == 0 and out.startswith('<object posix.system(') and 'touch' in out, path,
                      f'show {member}: {rc} {out!r} {err}')
            rc, out, err = run(args.cli, ['stats', '--json', path, '--member', 'nested/1'])
            check(rc == 0 and json.loads(out)['count'] == 2, path, f'stats: {rc} {err}')
            check(not os.path.exists(marker) and not os.path.exists(marker + '-2'), path,
                  'something in the pickle ran')

        # Truncated and damaged pickles: one clear line, no crash.
        whole = open(os.path.join(tmp, 'tree-4.pkl'), 'rb').read()
        for label, data in (('cut', whole[:len(whole) // 2]), ('junk', b'(\x00\xff' * 10)):
            path = os.path.join(tmp, f'{label}.pkl')
            open(path, 'wb').write(data)
            rc, _, err = run(args.cli, ['info', path])
            check(rc == 1 and path in err and err.count('\n') == 1, label, f'exit {rc} {err!r}')

    print(f'pickle files: {"passed" if not failures else "FAILED"}: '
          f'{len(failures)} failures in {checks} checks')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
