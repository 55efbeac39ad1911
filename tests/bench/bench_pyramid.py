#!/usr/bin/env python3
"""Benchmarks of block pyramids (heatmap overviews) against numpy in the same run.

The core is timed by bench-pyramid (a driver linked against it, one
process per run so that no tile is cached from the run before); numpy does
the same job in this process. Each case checks the driver's blocks against
numpy's, prints the medians and the ratios, and exits non-zero when a
target of the issue is missed.

  overview       the exact overview of a page-cached 1 GiB float32 array
                 (16384 x 16384, no NaN): block mean, min and max down to
                 1024 x 1024 - the 16 tiles of level 4, one thread per
                 processor - from opening the file on, against numpy's
                 np.load(f, mmap_mode='r').reshape(1024, 16, 1024, 16) and
                 its .mean(axis=(1, 3)), .min(axis=(1, 3)), .max(axis=(1, 3))
                 (the plain reductions: the data has no NaN). Targets: at
                 most 0.5x numpy's time, and at most 2x the time of reading
                 1 GiB at the machine's memory-read bandwidth (measured by
                 bench-pyramid bandwidth: eight-accumulator uint64 sums on
                 every processor over 1 GiB in RAM, best of five).
  first-picture  the first, sampled picture of a float32 file whose pages
                 were evicted from the page cache (written, fsync'ed, then
                 posix_fadvise DONTNEED): opening it and sampling every tile
                 of the first level that fits in 1024 x 1024 (level 6 of
                 65536 x 65536: 4 x 4 tiles). Target: at most 1 s. numpy
                 does the same job from a cold cache too: the same lines
                 (the middle one of every block row), read through a memmap
                 and reduced to block mean, min and max; and, for scale, the
                 strided picture a[::B, ::B]. The file is 16 GiB unless
                 NPV_BENCH_PYRAMID_GIB says otherwise; the case is skipped
                 (exit status 77) when the disk has no room for it, and the
                 file is deleted afterwards.

The 1 GiB file of 'overview' is made once and kept in NPV_BENCH_DIR.
"""

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

SCREEN = 1024
OVERVIEW_SIDE = 16384
CHUNK_BYTES = 256 << 20
TARGET_NUMPY = 0.5
TARGET_BANDWIDTH = 2.0
TARGET_FIRST_PICTURE = 1.0   # seconds
SKIP = 77


# ---------------------------------------------------------------------------
# Data

def is_npy(path, side):
    try:
        a = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return a.shape == (side, side) and a.dtype == np.dtype("<f4") and not np.isfortran(a)


def write_npy(path, side, seed, nan_free=True):
    """A (side, side) float32 .npy written a chunk at a time, flushed to disk."""
    tmp = path + ".tmp"
    a = np.lib.format.open_memmap(tmp, mode="w+", dtype="<f4", shape=(side, side))
    rng = np.random.default_rng(seed)
    rows = max(1, CHUNK_BYTES // (4 * side))
    for r in range(0, side, rows):
        n = min(rows, side - r)
        # smooth structure plus noise, so that the picture shows something
        i = np.arange(r, r + n, dtype=np.float32)[:, None]
        block = rng.random((n, side), dtype=np.float32)
        block += np.sin(i * np.float32(7.0 / side)) * np.float32(4)
        a[r:r + n] = block
    a.flush()
    del a
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def warm(path):
    with open(path, "rb") as f:
        while f.read(64 << 20):
            pass


def evict(path):
    with open(path, "rb") as f:
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def level_for(side):
    level = 0
    while -(-side // (1 << level)) > SCREEN:
        level += 1
    return level


# ---------------------------------------------------------------------------
# Running both sides

def run_driver(driver, *args):
    done = subprocess.run([driver, *args], stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"bench-pyramid failed (exit status {done.returncode}): {driver} {' '.join(args)}")
    return json.loads(done.stdout)


def read_out(path, n_rows, n_cols):
    data = np.fromfile(path, dtype="<f8")
    os.unlink(path)
    return data.reshape(3, n_rows, n_cols)


def check_blocks(what, got, mean, mn, mx):
    """The driver's blocks against numpy's: min and max exactly, means to
    float32 rounding (numpy's float32 mean rounds; the pyramid sums in
    float64)."""
    problems = []
    if not np.array_equal(got[1], mn.astype(np.float64)):
        problems.append("minimums")
    if not np.array_equal(got[2], mx.astype(np.float64)):
        problems.append("maximums")
    if not np.allclose(got[0], mean.astype(np.float64), rtol=1e-5, atol=1e-5):
        problems.append("means")
    if problems:
        sys.exit(f"{what}: the driver's {', '.join(problems)} differ from numpy's")


def seconds(t):
    return f"{t:.3g} s"


def bench_overview(driver, directory, runs):
    path = os.path.join(directory, "bench-pyramid-f32-16384.npy")
    if not is_npy(path, OVERVIEW_SIDE):
        print(f"making {path} (once)", flush=True)
        write_npy(path, OVERVIEW_SIDE, 11)
    warm(path)
    b = OVERVIEW_SIDE // SCREEN

    def with_numpy():
        a = np.load(path, mmap_mode="r")
        r = a.reshape(SCREEN, b, SCREEN, b)
        return r.mean(axis=(1, 3)), r.min(axis=(1, 3)), r.max(axis=(1, 3))

    np_times, npv_times = [], []
    out_path = os.path.join(directory, "bench-pyramid-out.bin")
    info = None
    for k in range(runs):
        t = time.perf_counter()
        mean, mn, mx = with_numpy()
        np_times.append(time.perf_counter() - t)
        args = ["overview", path] if k else ["overview", "--out", out_path, path]
        info = run_driver(driver, *args)
        npv_times.append(info["total_us"] / 1e6)
        if k == 0:
            got = read_out(out_path, info["n_rows"], info["n_cols"])
            check_blocks("overview", got, mean, mn, mx)
    bw = run_driver(driver, "bandwidth", "--mib", "1024")
    gib = os.path.getsize(path)
    ideal = gib / bw["bytes_per_s"]

    npv_time = statistics.median(npv_times)
    np_time = statistics.median(np_times)
    ratio_np = npv_time / np_time
    ratio_bw = npv_time / ideal
    met_np = ratio_np <= TARGET_NUMPY
    met_bw = ratio_bw <= TARGET_BANDWIDTH
    print(f"overview: npyview {seconds(npv_time)}, numpy {seconds(np_time)}, "
          f"ratio {ratio_np:.3f}x (target <= {TARGET_NUMPY}x): {'met' if met_np else 'MISSED'}")
    print(f"  memory-read bandwidth {bw['bytes_per_s'] / 1e9:.2f} GB/s "
          f"({bw['threads']} threads, 1 GiB in {bw['seconds'] * 1000:.1f} ms): "
          f"reading the file's {gib / 2**30:.2f} GiB at that speed takes {seconds(ideal)}; "
          f"npyview/that {ratio_bw:.2f}x (target <= {TARGET_BANDWIDTH}x): "
          f"{'met' if met_bw else 'MISSED'}")
    print(f"  level {info['level']}, {info['tiles']} tiles of {info['n_rows']} x {info['n_cols']} "
          f"blocks, {info['threads']} threads; opening took {info['open_us'] / 1000:.2f} ms")
    print(f"  numpy runs:   {', '.join(seconds(t) for t in np_times)}")
    print(f"  npyview runs: {', '.join(seconds(t) for t in npv_times)}")
    return 0 if met_np and met_bw else 1


def bench_first_picture(driver, directory, runs):
    gib = float(os.environ.get("NPV_BENCH_PYRAMID_GIB", "16"))
    side = int(math.sqrt(gib * 2**30 / 4)) // SCREEN * SCREEN
    size = side * side * 4 + 128
    path = os.path.join(directory, f"bench-pyramid-cold-{side}.npy")
    free = shutil.disk_usage(directory).free
    if not os.path.exists(path) and free < size + (1 << 30):
        print(f"first-picture: skipped: a {side} x {side} float32 file needs {size / 2**30:.1f} GiB "
              f"and {directory} has {free / 2**30:.1f} GiB free (set NPV_BENCH_PYRAMID_GIB lower)")
        return SKIP

    level = level_for(side)
    block = 1 << level
    middle = (block - 1) // 2         # the line npv_pyramid_sample_tile() reads
    n = -(-side // block)

    def with_numpy():
        a = np.load(path, mmap_mode="r")
        lines = np.array(a[middle::block])                  # (n, side): one row per block row
        r = lines.reshape(n, n, block)
        return r.mean(axis=2), r.min(axis=2), r.max(axis=2)

    def with_numpy_strided():
        a = np.load(path, mmap_mode="r")
        return np.array(a[::block, ::block])

    try:
        t = time.perf_counter()
        write_npy(path, side, 13)
        print(f"wrote {path} ({size / 2**30:.1f} GiB) in {time.perf_counter() - t:.1f} s", flush=True)
        np_times, strided_times, npv_times = [], [], []
        out_path = os.path.join(directory, "bench-pyramid-out.bin")
        info = None
        for k in range(runs):
            evict(path)
            t = time.perf_counter()
            mean, mn, mx = with_numpy()
            np_times.append(time.perf_counter() - t)
            evict(path)
            t = time.perf_counter()
            with_numpy_strided()
            strided_times.append(time.perf_counter() - t)
            evict(path)
            args = ["first-picture", path] if k else ["first-picture", "--out", out_path, path]
            info = run_driver(driver, *args)
            npv_times.append(info["total_us"] / 1e6)
            if k == 0:
                got = read_out(out_path, info["n_rows"], info["n_cols"])
                check_blocks("first-picture", got, mean, mn, mx)
    finally:
        if os.path.exists(path):
            os.unlink(path)
        if os.path.exists(path + ".tmp"):
            os.unlink(path + ".tmp")

    npv_time = statistics.median(npv_times)
    np_time = statistics.median(np_times)
    strided_time = statistics.median(strided_times)
    met = npv_time <= TARGET_FIRST_PICTURE
    print(f"first-picture ({side} x {side} float32, {size / 2**30:.1f} GiB, evicted): "
          f"npyview {seconds(npv_time)} (target <= {TARGET_FIRST_PICTURE} s): {'met' if met else 'MISSED'}")
    print(f"  numpy, the same lines reduced to block mean/min/max: {seconds(np_time)}, "
          f"ratio npyview/numpy {npv_time / np_time:.3f}x")
    print(f"  numpy, the strided picture a[::{block}, ::{block}]: {seconds(strided_time)}, "
          f"ratio npyview/numpy {npv_time / strided_time:.3f}x")
    print(f"  level {info['level']}, {info['tiles']} sampled tiles of {info['n_rows']} x {info['n_cols']} "
          f"blocks; opening took {info['open_us'] / 1000:.2f} ms")
    print(f"  numpy runs:   {', '.join(seconds(t) for t in np_times)}")
    print(f"  strided runs: {', '.join(seconds(t) for t in strided_times)}")
    print(f"  npyview runs: {', '.join(seconds(t) for t in npv_times)}")
    return 0 if met else 1


CASES = {
    "overview": bench_overview,
    "first-picture": bench_first_picture,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--driver", required=True, help="the bench-pyramid executable")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("which", choices=sorted(CASES))
    args = parser.parse_args()
    directory = os.environ.get("NPV_BENCH_DIR", ".")
    return CASES[args.which](args.driver, directory, args.runs)


if __name__ == "__main__":
    sys.exit(main())
