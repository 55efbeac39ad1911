#!/usr/bin/env python3
"""Frame times and memory of the grid scrolling through a 100,000 x 100,000 file.

The benchmark of issue 5. bench-grid (a driver linked against the app, see
bench-grid.c for what it measures and how) shows a 100,000 x 100,000
float64 .npy in a 1920x1080 window and scrolls it continuously, 4 rows a
frame and sideways for half of the time, for 3600 frames (a minute at
60 Hz; at least 600). Targets, judged by the driver:

  frame time (before-paint .. after-paint of the widget's frame clock):
      median at most 4 ms, 99th percentile at most 16 ms;
  resident memory that is not page cache (RssAnon + RssShmem): under
      150 MB at every frame of the scroll.

Runs under xvfb-run with a 1920x1080x24 screen (see meson.build). The X
server's CPU time over the scroll is read from /proc (the Xvfb that
xvfb-run started, our parent's child) and printed per frame: the cairo
renderer draws in the app's process and the server copies the pixels to
the window.

For context, in the same run, numpy doing the comparable job of a frame:
formatting the visible window of values, repr(a[r:r+R, c:c+C]) on
np.load(f, mmap_mode='r'), at the same window origins as every measured
frame of the scroll (R x C as the driver saw them), after the driver has
run, one by one in a running python3. numpy draws nothing; the ratio app
frame / numpy repr is printed, not judged.

The data file is made once and kept in NPV_BENCH_DIR: written as
np.lib.format.open_memmap does (the header, then one byte at the end, a
hole between: 80 GB apparent, about 100 MB on disk), with its first
FILL_ROWS x FILL_COLS random float64 of many magnitudes (so the cells
format as 17-digit reprs, the widest), zeros elsewhere. The scroll stays
inside that block. The block is read once before the driver runs, so the
app and numpy both find it in the page cache.
"""

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

SHAPE = (100_000, 100_000)
DTYPE = np.dtype("<f8")
FILL_ROWS = 8192            # rows and columns of random values at the start:
FILL_COLS = 1024            # what the default scroll goes over, 64 MiB
BLOCK_ROWS = 1024           # rows written at once: 8 MiB
SEED = 5
MIN_FRAMES = 600


def ok_file(path):
    try:
        a = np.load(path, mmap_mode="r")
        ok = (a.shape == SHAPE and a.dtype == DTYPE and a.flags.c_contiguous and
              os.path.getsize(path) == a.offset + a.nbytes and
              a[FILL_ROWS - 1, FILL_COLS - 1] != 0 and
              a[FILL_ROWS, 0] == 0 and a[0, FILL_COLS] == 0)
        del a
        return ok
    except (OSError, ValueError):
        return False


def fill_block(rng, n_rows):
    mantissa = rng.standard_normal((n_rows, FILL_COLS))
    exponent = rng.integers(-8, 9, size=(n_rows, FILL_COLS))
    return mantissa * np.power(10.0, exponent)


def make_file(path):
    if ok_file(path):
        return
    need = FILL_ROWS * FILL_COLS * DTYPE.itemsize * 2 + (64 << 20)
    free = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
    if free < need:
        sys.exit(f"{path}: {free >> 20} MiB free, {need >> 20} MiB needed for the filled block")
    print(f"making {path}", flush=True)
    tmp = path + ".tmp"
    a = np.lib.format.open_memmap(tmp, mode="w+", dtype=DTYPE, shape=SHAPE)
    rng = np.random.default_rng(SEED)
    for r in range(0, FILL_ROWS, BLOCK_ROWS):
        n = min(BLOCK_ROWS, FILL_ROWS - r)
        a[r:r + n, :FILL_COLS] = fill_block(rng, n)
    a.flush()
    del a
    os.replace(tmp, path)


def disk_mb(path):
    return os.stat(path).st_blocks * 512 / 1e6


def warm(path):
    a = np.load(path, mmap_mode="r")
    float(a[:FILL_ROWS, :FILL_COLS].sum())
    del a


def xserver_pid():
    """The Xvfb that xvfb-run (our parent) started, or 0."""
    parent = os.getppid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == parent and name.startswith("Xvfb"):
            return int(entry)
    return 0


def numpy_windows(path, windows, rows, cols):
    """Seconds to np.load the file, and to repr each window, one by one."""
    t = time.perf_counter()
    a = np.load(path, mmap_mode="r")
    load = time.perf_counter() - t
    for r, c in windows[:20]:                  # warm-up, not counted
        repr(a[r:r + rows, c:c + cols])
    times = []
    for r, c in windows:
        t = time.perf_counter()
        repr(a[r:r + rows, c:c + cols])
        times.append(time.perf_counter() - t)
    return load, times


def pct(sorted_values, q):
    """The q quantile of sorted values, nearest rank (as bench-grid.c)."""
    rank = max(math.ceil(q * len(sorted_values)) - 1, 0)
    return sorted_values[min(rank, len(sorted_values) - 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--driver", required=True, help="the bench-grid executable")
    parser.add_argument("--frames", type=int, default=3600,
                        help="frames to scroll for (default 3600: a minute at 60 Hz)")
    parser.add_argument("--rows-per-frame", type=float, default=4)
    args = parser.parse_args()
    if args.frames < MIN_FRAMES:
        sys.exit(f"--frames: at least {MIN_FRAMES}")
    # The scroll goes down for half the frames and right for half, a
    # quarter of a column a frame (see bench-grid.c): it must stay in the
    # filled block, or the cells would be zeros, which format short.
    if args.frames // 2 * args.rows_per_frame + 64 > FILL_ROWS or args.frames // 8 + 16 > FILL_COLS:
        sys.exit(f"--frames {args.frames} --rows-per-frame {args.rows_per_frame}: "
                 f"the scroll would leave the {FILL_ROWS} x {FILL_COLS} filled block")

    directory = os.environ.get("NPV_BENCH_DIR", ".")
    path = os.path.join(directory, "bench-grid-100k.npy")
    make_file(path)
    print(f"data: {path}, {os.path.getsize(path) / 1e9:.0f} GB apparent, {disk_mb(path):.0f} MB on disk; "
          f"random values in rows < {FILL_ROWS}, columns < {FILL_COLS}", flush=True)
    warm(path)

    pid = xserver_pid()
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        out = os.path.join(tmp, "grid.json")
        cmd = [args.driver, "--frames", str(args.frames), "--rows-per-frame", str(args.rows_per_frame),
               "--json", out]
        if pid:
            cmd += ["--xserver-pid", str(pid)]
        done = subprocess.run(cmd + [path])
        if done.returncode not in (0, 1) or not os.path.exists(out):
            sys.exit(f"bench-grid failed (exit status {done.returncode})")
        with open(out) as f:
            result = json.load(f)

    rows, cols = result["visible_rows"], result["visible_cols"]
    load, times = numpy_windows(path, result["windows"], rows, cols)
    times.sort()
    np_median = statistics.median(times)
    app = result["frame_ms"]
    print(f"  numpy, repr(a[r:r+{rows}, c:c+{cols}]) on np.load(f, mmap_mode='r') at the same "
          f"{len(times)} window origins: median {np_median * 1000:.3f} ms, "
          f"p99 {pct(times, 0.99) * 1000:.3f} ms, max {times[-1] * 1000:.3f} ms "
          f"(np.load: {load * 1000:.2f} ms)")
    print(f"  app frame / numpy repr of the window: median {app['median'] / (np_median * 1000):.2f}x, "
          f"p99 {app['p99'] / (pct(times, 0.99) * 1000):.2f}x "
          f"(the app's frame also lays out and draws the cells; numpy only formats them)")
    print(f"  within targets: {'yes' if result['ok'] else 'NO'}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
