#!/usr/bin/env python3
"""An npz of 100,000 small members: opening it and listing every member
(npyview-cli info --json) and reading the last one (show --member), against
numpy opening it, listing .files and loading that member, in the same run.

Target of issue 3: opening and listing in about a second, lookups by hash.
Exits 1 when npyview takes more than 1.5 s. npyview also parses every
member's .npy header (numpy reads only the zip directory), so the ratio is
reported, not held to a target.
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
import zipfile

import numpy as np

N = 100_000


def archive(directory):
    path = os.path.join(directory, 'bench-100k-members.npz')
    if os.path.exists(path):
        return path
    buf = io.BytesIO()
    np.save(buf, np.arange(3))
    tmp = path + '.tmp'
    with zipfile.ZipFile(tmp, 'w') as zf:
        for i in range(N):
            zf.writestr(f'm{i}.npy', buf.getvalue())
    os.replace(tmp, path)
    return path


def median_time(fn, runs=5):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--cli', required=True)
    args = parser.parse_args()
    path = archive(os.environ.get('NPV_BENCH_DIR', '.'))
    last = f'm{N - 1}'

    out = subprocess.run([args.cli, 'info', '--json', path], check=True,
                         capture_output=True).stdout
    assert len(json.loads(out)['members']) == N

    def cli_list():
        subprocess.run([args.cli, 'info', '--json', path], check=True,
                       stdout=subprocess.DEVNULL)

    def cli_last():
        out = subprocess.run([args.cli, 'show', path, '--member', last], check=True,
                             capture_output=True).stdout
        assert out.strip() == b'[0 1 2]'

    def np_list():
        with np.load(path) as f:
            assert len(f.files) == N

    def np_last():
        with np.load(path) as f:
            assert f[last].tolist() == [0, 1, 2]

    ok = True
    for label, ours, theirs in (('open and list', cli_list, np_list),
                                ('open and read the last member', cli_last, np_last)):
        t_ours, t_np = median_time(ours), median_time(theirs)
        ratio = t_ours / t_np
        good = t_ours <= 1.5
        ok = ok and good
        print(f'{label} ({N} members): npyview {t_ours:.3f} s, numpy {t_np:.3f} s, '
              f'ratio {ratio:.2f}x (target <= 1.5 s) {"ok" if good else "MISSED"}')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
