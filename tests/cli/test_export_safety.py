#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Exports that cannot finish leave nothing behind and lose nothing.

  - a file-size limit (setrlimit RLIMIT_FSIZE, as a full disk would stop
    the writes): exit status 1, a message naming the output, no temporary
    file left, and an existing output (with --force) as it was;
  - SIGINT or SIGTERM in the middle of a long export: the temporary file
    is removed before the program dies of the signal, the old output is
    intact;
  - a folder nobody can write in (/proc/1): exit status 1 and a message;
  - the exported .npy, when it does finish, equals np.save's bytes.

  test_export_safety.py [--cli PATH]
"""

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import cliutil  # noqa: E402

failures = []


def check(ok, what):
    print(('ok: ' if ok else 'FAIL: ') + what)
    if not ok:
        failures.append(what)


def leftovers(folder, name):
    return [f for f in os.listdir(folder) if f.startswith('.' + name + '.')]


def limited(limit):
    def preexec():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def main():
    parser = argparse.ArgumentParser()
    cliutil.add_cli_argument(parser)
    args = parser.parse_args()
    cli = cliutil.require_cli(args.cli)

    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(7)
        a = rng.standard_normal((1000, 1000))          # 8 MB
        src = os.path.join(tmp, 'a.npy')
        np.save(src, a)
        want = os.path.join(tmp, 'want.npy')
        np.save(want, a[::2])
        with open(want, 'rb') as fp:
            want_bytes = fp.read()

        # A finished export is np.save's bytes.
        out = os.path.join(tmp, 'out.npy')
        r = subprocess.run([cli, 'export', src, '--slice', '::2', '-o', out],
                           capture_output=True, text=True)
        with open(out, 'rb') as fp:
            check(r.returncode == 0 and fp.read() == want_bytes,
                  'export --slice ::2 equals np.save of a[::2]')

        # A full disk, as a file-size limit of 1 MiB.
        old = b'the old contents\n'
        with open(out, 'wb') as fp:
            fp.write(old)
        r = subprocess.run([cli, 'export', src, '-o', out, '--force'], capture_output=True,
                           text=True, preexec_fn=limited(1 << 20))
        check(r.returncode == 1, f'file-size limit: exit status 1 (got {r.returncode})')
        check(out in r.stderr and 'large' in r.stderr.lower(),
              f'file-size limit: the message names the output and the cause: {r.stderr.strip()!r}')
        with open(out, 'rb') as fp:
            check(fp.read() == old, 'file-size limit: the old output is intact')
        check(not leftovers(tmp, 'out.npy'), 'file-size limit: no temporary file is left')
        r = subprocess.run([cli, 'export', src, '-o', os.path.join(tmp, 'big.csv')],
                           capture_output=True, text=True, preexec_fn=limited(1 << 20))
        check(r.returncode == 1 and not os.path.exists(os.path.join(tmp, 'big.csv')) and
              not leftovers(tmp, 'big.csv'), 'file-size limit on CSV: exit 1, nothing left')

        # Interrupted: a CSV of 40 million values takes seconds.
        b = rng.standard_normal((4000, 10000))
        big = os.path.join(tmp, 'b.npy')
        np.save(big, b)
        for sig in (signal.SIGINT, signal.SIGTERM):
            csv = os.path.join(tmp, 'b.csv')
            with open(csv, 'wb') as fp:
                fp.write(old)
            p = subprocess.Popen([cli, 'export', big, '-o', csv, '--force'],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            # wait until the temporary file exists and grows
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not leftovers(tmp, 'b.csv'):
                time.sleep(0.02)
            time.sleep(0.2)
            started = bool(leftovers(tmp, 'b.csv'))
            p.send_signal(sig)
            p.wait(30)
            name = signal.Signals(sig).name
            check(started, f'{name}: the export had begun writing')
            check(p.returncode == -sig, f'{name}: the program ends by the signal ({p.returncode})')
            check(not leftovers(tmp, 'b.csv'), f'{name}: no temporary file is left')
            with open(csv, 'rb') as fp:
                check(fp.read() == old, f'{name}: the old output is intact')

        # A folder nobody can write in, root included.
        r = subprocess.run([cli, 'export', src, '-o', '/proc/1/out.npy'], capture_output=True,
                           text=True)
        check(r.returncode == 1 and '/proc/1/out.npy' in r.stderr,
              f'unwritable folder: exit 1 and the path in the message: {r.stderr.strip()!r}')

    print(f'{len(failures)} failed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
