#!/usr/bin/env python3
"""An npz of 1,000,000 members (issue 8): memory per member and time to
open it and read its last member, with npyview-cli and with numpy in the
same run; and, with --app, how long the window goes without answering
while it opens the archive.

Memory is each process's peak anonymous memory (RssAnon, polled every
5 ms): the mapped archive's pages are page cache, which the budget leaves
out. Bytes per member = (peak for the 1M-member archive - peak for a
1-member archive) / 1,000,000, for npyview-cli (open, list, read the last
member) and for numpy (np.load, .files, read the last member).

The app runs with NPYVIEW_BENCH_FIRST_FRAME=values (app/main.c): it
reports the longest gap between runs of a 10 ms timeout on its main loop
from the window's mapping to the first frame that shows the values. The
same is measured for the 1-member archive, in the same run.

Judged: npyview's bytes per member at most numpy's; the window's longest
stall on the 1M archive at most 0.5 s more than on the 1-member one.
The archive is written once (about 240 MiB) and kept in NPV_BENCH_DIR.
"""

import argparse
import io
import os
import re
import statistics
import struct
import subprocess
import sys
import time
import zlib

import numpy as np

N = 1_000_000


def archive(directory, n):
    """A zip of @n stored members m0.npy ... written by hand (zipfile takes
    minutes for a million), each np.save of np.arange(3)."""
    path = os.path.join(directory, 'bench-%d-members.npz' % n)
    if os.path.exists(path):
        return path
    buf = io.BytesIO()
    np.save(buf, np.arange(3))
    data = buf.getvalue()
    crc = zlib.crc32(data)
    offsets = []
    pos = 0
    with open(path + '.tmp', 'wb') as f:
        parts = []
        for i in range(n):
            name = b'm%d.npy' % i
            parts.append(struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 0, 0, 0x21, crc,
                                     len(data), len(data), len(name), 0) + name + data)
            offsets.append(pos)
            pos += len(parts[-1])
            if len(parts) >= 10000:
                f.write(b''.join(parts))
                parts = []
        f.write(b''.join(parts))
        parts = []
        cd = pos
        for i in range(n):
            name = b'm%d.npy' % i
            parts.append(struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, 0, 0, 0x21, crc,
                                     len(data), len(data), len(name), 0, 0, 0, 0, 0,
                                     offsets[i]) + name)
            if len(parts) >= 10000:
                f.write(b''.join(parts))
                parts = []
        f.write(b''.join(parts))
        end = f.tell()
        size = end - cd
        if n >= 0xffff:
            f.write(struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, n, n, size, cd))
            f.write(struct.pack('<IIQI', 0x07064b50, 0, end, 1))
            f.write(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 0xffff, 0xffff, size, cd, 0))
        else:
            f.write(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, n, n, size, cd, 0))
    os.replace(path + '.tmp', path)
    return path


def measured(argv, env=None):
    """Runs @argv; returns (seconds, peak RssAnon in bytes, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    peak = 0
    while p.poll() is None:
        try:
            with open('/proc/%d/status' % p.pid) as f:
                for line in f:
                    if line.startswith('RssAnon:'):
                        peak = max(peak, int(line.split()[1]) * 1024)
        except OSError:
            pass
        time.sleep(0.005)
    out = p.stdout.read().decode()
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit('failed: %s' % ' '.join(argv))
    return seconds, peak, out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--cli', required=True)
    parser.add_argument('--app')
    args = parser.parse_args()
    directory = os.environ.get('NPV_BENCH_DIR', '.')
    big = archive(directory, N)
    one = archive(directory, 1)

    def ours(path, n):
        return [args.cli, 'show', path, '--member', 'm%d' % (n - 1)]

    def numpy(path, n):
        return ['/usr/bin/python3', '-c',
                'import numpy as np; f = np.load(%r); assert len(f.files) == %d; print(f["m%d"])'
                % (path, n, n - 1)]

    rows = {}
    for label, cmd in (('npyview-cli', ours), ('numpy', numpy)):
        measured(cmd(big, N))   # page cache
        runs = [measured(cmd(big, N)) for _ in range(3)]
        base = [measured(cmd(one, 1)) for _ in range(3)]
        t = statistics.median(r[0] for r in runs)
        peak = statistics.median(r[1] for r in runs)
        base_peak = statistics.median(r[1] for r in base)
        per = (peak - base_peak) / N
        rows[label] = (t, per)
        print('%-12s open 1M members and read the last: %6.2f s, %6.0f bytes per member '
              '(peak %.0f MiB, 1-member archive %.0f MiB)'
              % (label, t, per, peak / 2**20, base_peak / 2**20))
    ratio_t = rows['npyview-cli'][0] / rows['numpy'][0]
    ratio_m = rows['npyview-cli'][1] / rows['numpy'][1]
    print('ratio npyview/numpy: time %.2fx, bytes per member %.2fx' % (ratio_t, ratio_m))
    ok = ratio_m <= 1.0

    if args.app:
        env = dict(os.environ, NPYVIEW_BENCH_FIRST_FRAME='values')
        stalls = {}
        for label, path in (('1 member', one), ('1M members', big)):
            found = []
            for _ in range(3):
                _, _, out = measured([args.app, path], env)
                m = re.search(r'first-frame page=values .*frame=(\d+) .*stall=(\d+)', out)
                m_map = re.search(r'map=(\d+)', out)
                if not m:
                    sys.exit('the app did not show the values of %s: %s' % (path, out))
                found.append((int(m.group(2)) / 1e6, (int(m.group(1)) - int(m_map.group(1))) / 1e6))
            stall = statistics.median(f[0] for f in found)
            shown = statistics.median(f[1] for f in found)
            stalls[label] = stall
            print('app, %-10s: values shown %.2f s after the window mapped; longest main-loop '
                  'stall %.3f s' % (label, shown, stall))
        extra = stalls['1M members'] - stalls['1 member']
        print('app: the 1M archive stalls the window %.3f s more than a 1-member one '
              '(target at most 0.5 s)' % extra)
        ok = ok and extra <= 0.5
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
