#!/usr/bin/env python3
"""Benchmarks of npyview-cli against numpy doing the same job in the same run.

Each prints the median of several runs for both and the ratio cli/numpy,
and exits non-zero when the ratio misses the target of the issue.

  stats   statistics of a page-cached 1 GiB float32 (16384 x 16384) array:
          numpy computes min, max, mean, std and the NaN count on a memmap.
          Target: at most 0.3x numpy's time.
  export  --slice '::4, ::4' of that file to .npy against
          np.save(out, np.load(f, mmap_mode='r')[::4, ::4]). Target: 1.0x.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

SHAPE = (16384, 16384)
TARGETS = {"stats": 0.3, "export": 1.0}


def data_file(directory):
    path = os.path.join(directory, "bench-f32-16384.npy")
    if os.path.exists(path) and os.path.getsize(path) == 128 + SHAPE[0] * SHAPE[1] * 4:
        return path
    tmp = path + ".tmp"
    a = np.lib.format.open_memmap(tmp, mode="w+", dtype="<f4", shape=SHAPE)
    rng = np.random.default_rng(7)
    for r in range(0, SHAPE[0], 1024):
        block = rng.standard_normal((1024, SHAPE[1]), dtype=np.float32) * 10 + 3
        block[rng.random(block.shape) < 1e-4] = np.nan
        a[r:r + 1024] = block
    a.flush()
    del a
    os.replace(tmp, path)
    return path


def warm(path):
    with open(path, "rb") as f:
        while f.read(64 << 20):
            pass


def timed(fn, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def run_cli(args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def bench_stats(cli, path, runs):
    def with_numpy():
        a = np.load(path, mmap_mode="r")
        return (a.min(), a.max(), a.mean(), a.std(), np.count_nonzero(np.isnan(a)))

    def with_cli():
        run_cli([cli, "stats", "--json", path])

    return timed(with_numpy, runs), timed(with_cli, runs)


def bench_export(cli, path, runs, directory):
    out_np = os.path.join(directory, "bench-export-numpy.npy")
    out_cli = os.path.join(directory, "bench-export-cli.npy")

    def with_numpy():
        np.save(out_np, np.load(path, mmap_mode="r")[::4, ::4])

    def with_cli():
        run_cli([cli, "export", path, "--slice", "::4, ::4", "-o", out_cli, "--force"])

    result = timed(with_numpy, runs), timed(with_cli, runs)
    with open(out_np, "rb") as a, open(out_cli, "rb") as b:
        if a.read() != b.read():
            sys.exit("export: the CLI's file differs from numpy's")
    os.unlink(out_np)
    os.unlink(out_cli)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("which", choices=sorted(TARGETS))
    args = parser.parse_args()

    directory = os.environ.get("NPV_BENCH_DIR", ".")
    path = data_file(directory)
    warm(path)

    if args.which == "stats":
        (np_time, np_all), (cli_time, cli_all) = bench_stats(args.cli, path, args.runs)
    else:
        (np_time, np_all), (cli_time, cli_all) = bench_export(args.cli, path, args.runs, directory)

    ratio = cli_time / np_time
    target = TARGETS[args.which]
    verdict = "met" if ratio <= target else "MISSED"
    print(f"{args.which}: numpy {np_time * 1000:.1f} ms, npyview-cli {cli_time * 1000:.1f} ms "
          f"(medians of {args.runs}), ratio {ratio:.3f}x, target <= {target}x: {verdict}")
    print(f"  numpy runs: {', '.join(f'{t * 1000:.1f}' for t in np_all)} ms")
    print(f"  cli runs:   {', '.join(f'{t * 1000:.1f}' for t in cli_all)} ms")
    return 0 if ratio <= target else 1


if __name__ == "__main__":
    sys.exit(main())
