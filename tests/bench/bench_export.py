#!/usr/bin/env python3
"""Benchmarks of npyview-cli export and thumbnail against numpy in the same run.

Each case prints the medians of several runs for npyview-cli (the whole
process, from start to exit) and for numpy (in this process), the ratio
cli/numpy, and exits non-zero when a target of the issue is missed
(77, skipped, when the disk has no room for the data).

  plane          export --slice 2 of a page-cached (4, 16384, 16384)
                 float32 .npy (4 GiB) to .npy: a contiguous 1 GiB plane,
                 against np.save(out, np.load(f, mmap_mode='r')[2]).
                 Both sides write a new file in every run (the output of
                 the run before is deleted and os.sync() called before the
                 clock starts: the timing is of the export, not of freeing
                 the old file's blocks or of writing back the run before),
                 and the input is read through once before each side.
                 Targets: at most 1.0x numpy's time (medians of 7), and
                 bounded memory: the CLI's peak anonymous memory (RssAnon
                 of /proc/PID/status, polled every millisecond in a run of
                 its own) under 200 MB, so no copy of the plane is held.
                 The peak resident set (VmHWM, and the maximum resident set
                 of /usr/bin/time) is printed too: it would also count pages
                 of the page cache mapped from the input, which are no copy.
  plane-strided  export --slice ':, 3, :' of a (16384, 4, 16384) float32
                 .npy: a 1 GiB plane made of 16384 rows of 64 KiB spaced
                 256 KiB apart, against np.save(out, a[:, 3, :]) on the
                 memmap. The same targets.
                 Both plane cases fall back to 2 planes (2 GiB files) when
                 the disk has no room for 4, and check the CLI's file against
                 numpy's byte for byte.
  csv            export of a (10^6, 10) float64 .npy (10^7 values) to .csv,
                 against np.savetxt(out, a, delimiter=',') with the two
                 formats of numpy that read back exactly: fmt='%r' (the
                 shortest repr that round-trips, what the CLI writes too)
                 and fmt='%.17g' (always 17 significant digits). Target: at
                 most 0.5x the faster of the two. The CLI's CSV is read back
                 with np.loadtxt and must give the same float64 values, bit
                 for bit.
  thumbnail-cold thumbnail --size 256 --force of a 65536 x 65536 float32 .npy
                 (16 GiB) whose pages were evicted from the page cache
                 (written a chunk at a time as bench_pyramid.py writes its
                 first-picture file, fsync'ed, then posix_fadvise DONTNEED
                 before every timed run). Target: at most 0.5 s. numpy, for
                 comparison, reads the strided picture a[::256, ::256]
                 through a memmap from a cold cache too. The file is 16 GiB
                 unless NPV_BENCH_THUMBNAIL_GIB says otherwise; it is deleted
                 afterwards.

The input files of plane, plane-strided and csv are made once and kept in
NPV_BENCH_DIR; the outputs are deleted after each case.
"""

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_pyramid import evict, write_npy  # noqa: E402  (the first-picture file, made the same way)

SIDE = 16384
PLANES = 4
CSV_SHAPE = (1_000_000, 10)
THUMB_SIZE = 256
TARGET_PLANE = 1.0            # x numpy
TARGET_PLANE_MEMORY = 200e6   # bytes of anonymous memory
TARGET_CSV = 0.5              # x numpy
TARGET_THUMBNAIL = 0.5        # seconds
CHUNK = 64 << 20
SKIP = 77
MB = 1e6


# ---------------------------------------------------------------------------
# Helpers

def seconds(t):
    return f"{t:.3g} s"


def runs_text(times):
    return ", ".join(f"{t:.3g}" for t in times) + " s"


def warm(path):
    with open(path, "rb") as f:
        while f.read(CHUNK):
            pass


def same_bytes(a, b):
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x = fa.read(CHUNK)
            if x != fb.read(CHUNK):
                return False
            if not x:
                return True


def unlink(*paths):
    for p in paths:
        if os.path.exists(p):
            os.unlink(p)


def resident(path):
    """The part of a file in the page cache, from fincore (None without it)."""
    fincore = shutil.which("fincore")
    if fincore is None:
        return None
    done = subprocess.run([fincore, "--bytes", "--noheadings", "--output", "RES", path],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        return int(done.stdout.split()[0])
    except (IndexError, ValueError):
        return None


def run_cli(args):
    """Runs the CLI; returns its wall time."""
    t = time.perf_counter()
    done = subprocess.run(args, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        sys.exit(f"npyview-cli failed (exit status {done.returncode}): {' '.join(args)}")
    return elapsed


def max_resident(args):
    """The maximum resident set of the CLI (bytes) as /usr/bin/time -v reports
    it, or None without /usr/bin/time. (The ru_maxrss that wait4 gives this
    process for a child it forks starts from this process's own peak, which
    the memmaps of numpy make large: /usr/bin/time forks from a small one.)"""
    if not os.access("/usr/bin/time", os.X_OK):
        return None
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *args], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"npyview-cli failed (exit status {done.returncode}): {' '.join(args)}")
    try:
        return int(done.stderr.split()[-1]) * 1024
    except (IndexError, ValueError):
        return None


def status_kib(pid, keys):
    values = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in keys:
                    values[key] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return values


def cli_memory(args):
    """Runs the CLI once, untimed, polling /proc/PID/status every millisecond:
    the peak RssAnon seen and the last VmHWM seen (bytes)."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    peak_anon = 0
    hwm = 0
    while True:
        pid, status = os.waitpid(proc.pid, os.WNOHANG)
        if pid != 0:
            break
        v = status_kib(proc.pid, ("RssAnon", "VmHWM"))
        peak_anon = max(peak_anon, v.get("RssAnon", 0))
        hwm = max(hwm, v.get("VmHWM", 0))
        time.sleep(0.001)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"npyview-cli failed (exit status {proc.returncode}): {' '.join(args)}")
    return peak_anon * 1024, hwm * 1024


def median(times):
    return statistics.median(times)


# ---------------------------------------------------------------------------
# Exporting a 1 GiB plane to .npy

def plane_file(directory, shape, seed):
    name = "x".join(str(n) for n in shape)
    path = os.path.join(directory, f"bench-export-f32-{name}.npy")
    size = 128 + math.prod(shape) * 4
    if os.path.exists(path) and os.path.getsize(path) == size:
        try:
            a = np.load(path, mmap_mode="r")
            if a.shape == shape and a.dtype == np.dtype("<f4") and not np.isfortran(a):
                return path
        except (OSError, ValueError):
            pass
    print(f"making {path} ({size / 2**30:.1f} GiB, once)", flush=True)
    tmp = path + ".tmp"
    a = np.lib.format.open_memmap(tmp, mode="w+", dtype="<f4", shape=shape)
    flat = a.reshape(-1, shape[-1])
    rng = np.random.default_rng(seed)
    rows = (CHUNK * 4) // (4 * shape[-1])
    for r in range(0, flat.shape[0], rows):
        n = min(rows, flat.shape[0] - r)
        flat[r:r + n] = rng.standard_normal((n, shape[-1]), dtype=np.float32)
    a.flush()
    del a, flat
    os.replace(tmp, path)
    return path


def plane_shapes(directory, strided):
    """The shape of the input, 4 planes or 2 when the disk is short; None
    when there is no room for 2."""
    plane = SIDE * SIDE * 4
    for planes in (PLANES, 2):
        shape = (SIDE, planes, SIDE) if strided else (planes, SIDE, SIDE)
        name = "x".join(str(n) for n in shape)
        path = os.path.join(directory, f"bench-export-f32-{name}.npy")
        size = 128 + planes * plane
        if os.path.exists(path) and os.path.getsize(path) == size:
            return shape
        # the input, the two outputs and 1 GiB to spare
        if shutil.disk_usage(directory).free >= size + 2 * plane + (1 << 30):
            return shape
    return None


def bench_plane(cli, directory, runs, strided):
    which = "plane-strided" if strided else "plane"
    shape = plane_shapes(directory, strided)
    if shape is None:
        free = shutil.disk_usage(directory).free
        print(f"{which}: skipped: needs {(2 + 2) * SIDE * SIDE * 4 / 2**30 + 1:.0f} GiB "
              f"(a 2-plane input and two 1 GiB outputs), {directory} has {free / 2**30:.1f} GiB free")
        return SKIP
    path = plane_file(directory, shape, 21 if strided else 17)
    planes = shape[1] if strided else shape[0]
    at = (3 if strided else 2) if planes == PLANES else 1
    expr = f":, {at}, :" if strided else f"{at}"
    index = (slice(None), at, slice(None)) if strided else at
    out_np = os.path.join(directory, "bench-export-plane-numpy.npy")
    out_cli = os.path.join(directory, "bench-export-plane-cli.npy")
    cli_args = [cli, "export", path, "--slice", expr, "-o", out_cli, "--force"]

    def with_numpy():
        np.save(out_np, np.load(path, mmap_mode="r")[index])

    np_times, cli_times = [], []
    try:
        for k in range(runs):
            # Both write a new file: the last run's output is deleted and
            # its blocks freed, and no dirty page of the run before is
            # written back during this one, before the clock starts. The
            # input is read again before each side (this machine's page
            # cache loses pages of it between runs, with memory to spare).
            if k:
                unlink(out_np)
            os.sync()
            warm(path)
            t = time.perf_counter()
            with_numpy()
            np_times.append(time.perf_counter() - t)
            if k:
                unlink(out_cli)
            os.sync()
            warm(path)
            cli_times.append(run_cli(cli_args))
            if k == 0 and not same_bytes(out_np, out_cli):
                sys.exit(f"{which}: the CLI's file differs from numpy's")
        unlink(out_np, out_cli)
        os.sync()
        peak_anon, hwm = cli_memory(cli_args)
        unlink(out_cli)
        os.sync()
        maxrss = max_resident(cli_args)
    finally:
        unlink(out_np, out_cli, out_cli + ".tmp")

    view = np.load(path, mmap_mode="r")[index]
    contiguity = "contiguous" if view.flags.c_contiguous else "non-contiguous"
    cli_time, np_time = median(cli_times), median(np_times)
    ratio = cli_time / np_time
    met_time = ratio <= TARGET_PLANE
    met_mem = peak_anon < TARGET_PLANE_MEMORY
    print(f"{which}: export --slice '{expr}' of a {' x '.join(map(str, shape))} float32 .npy "
          f"(page cache warm) -> a {contiguity} {view.nbytes / 2**30:.2f} GiB plane to .npy")
    print(f"  numpy np.save(out, np.load(f, mmap_mode='r')[{expr}]): {seconds(np_time)}; "
          f"npyview-cli {seconds(cli_time)} (medians of {runs})")
    print(f"  ratio {ratio:.3f}x (target <= {TARGET_PLANE}x): {'met' if met_time else 'MISSED'}")
    print(f"  memory of npyview-cli: peak anonymous (RssAnon, polled) {peak_anon / MB:.1f} MB "
          f"(target < {TARGET_PLANE_MEMORY / MB:.0f} MB): {'met' if met_mem else 'MISSED'}; "
          f"peak resident set (VmHWM, with any mapped page cache) {hwm / MB:.1f} MB"
          + (f", maximum resident set of /usr/bin/time {maxrss / MB:.1f} MB" if maxrss else ""))
    print(f"  numpy runs:       {runs_text(np_times)}")
    print(f"  npyview-cli runs: {runs_text(cli_times)}")
    return 0 if met_time and met_mem else 1


# ---------------------------------------------------------------------------
# Exporting 10^7 float64 values to CSV

def csv_file(directory):
    path = os.path.join(directory, "bench-export-f64-1000000x10.npy")
    try:
        a = np.load(path, mmap_mode="r")
        if a.shape == CSV_SHAPE and a.dtype == np.dtype("<f8"):
            return path
    except (OSError, ValueError):
        pass
    print(f"making {path} (once)", flush=True)
    rng = np.random.default_rng(5)
    n = CSV_SHAPE[0]
    a = np.empty(CSV_SHAPE, dtype="<f8")
    # the kinds of columns measured data holds
    a[:, 0] = np.arange(n, dtype=np.float64)                       # an index
    a[:, 1] = rng.standard_normal(n)                               # noise
    a[:, 2] = rng.standard_normal(n) * 1e-3 + 273.15               # readings near a value
    a[:, 3] = np.round(rng.uniform(0, 100, n), 2)                  # two decimals
    a[:, 4] = rng.exponential(1e5, n)                              # large, positive
    a[:, 5] = rng.standard_normal(n) * 10.0 ** rng.integers(-12, 12, n)   # wide range
    a[:, 6] = rng.integers(-1000, 1000, n).astype(np.float64)      # whole numbers
    a[:, 7] = rng.random(n).astype(np.float32).astype(np.float64)  # widened float32
    a[:, 8] = np.where(rng.random(n) < 0.1, 0.0, rng.lognormal(0, 3, n))  # sparse
    a[:, 9] = rng.standard_normal(n) * 10.0 ** rng.integers(-300, 300, n)  # extremes
    a[::9973, 9] = -0.0
    a[::104729, 5] = 5e-324
    np.save(path + ".tmp.npy", a)
    os.replace(path + ".tmp.npy", path)
    return path


def bench_csv(cli, directory, runs):
    need = 2 * CSV_SHAPE[0] * CSV_SHAPE[1] * 26 + (1 << 30)
    path = os.path.join(directory, "bench-export-f64-1000000x10.npy")
    if not os.path.exists(path):
        need += CSV_SHAPE[0] * CSV_SHAPE[1] * 8
    free = shutil.disk_usage(directory).free
    if free < need:
        print(f"csv: skipped: needs {need / 2**30:.1f} GiB, {directory} has {free / 2**30:.1f} GiB free")
        return SKIP
    path = csv_file(directory)
    out_r = os.path.join(directory, "bench-export-numpy-r.csv")
    out_g = os.path.join(directory, "bench-export-numpy-17g.csv")
    out_cli = os.path.join(directory, "bench-export-cli.csv")
    cli_args = [cli, "export", path, "-o", out_cli, "--force"]

    r_times, g_times, cli_times = [], [], []
    try:
        warm(path)
        for k in range(runs):
            t = time.perf_counter()
            np.savetxt(out_r, np.load(path, mmap_mode="r"), fmt="%r", delimiter=",")
            r_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            np.savetxt(out_g, np.load(path, mmap_mode="r"), fmt="%.17g", delimiter=",")
            g_times.append(time.perf_counter() - t)
            cli_times.append(run_cli(cli_args))
            print(f"  run {k + 1}: numpy %r {r_times[-1]:.3g} s, numpy %.17g {g_times[-1]:.3g} s, "
                  f"npyview-cli {cli_times[-1]:.3g} s", flush=True)
        sizes = {p: os.path.getsize(p) for p in (out_r, out_g, out_cli)}
        same_as_r = same_bytes(out_cli, out_r)
        a = np.load(path)
        for what, p in (("the CLI's", out_cli), ("numpy's %r", out_r), ("numpy's %.17g", out_g)):
            back = np.loadtxt(p, delimiter=",", dtype=np.float64)
            if back.shape != a.shape or not np.array_equal(back.view(np.int64), a.view(np.int64)):
                sys.exit(f"csv: {what} CSV does not read back to the same float64 values")
    finally:
        unlink(out_r, out_g, out_cli)

    cli_time = median(cli_times)
    r_time, g_time = median(r_times), median(g_times)
    best = min(r_time, g_time)
    ratio = cli_time / best
    met = ratio <= TARGET_CSV
    print(f"csv: export of a {CSV_SHAPE[0]} x {CSV_SHAPE[1]} float64 .npy (10^7 values, page cache warm) to .csv")
    print(f"  numpy np.savetxt(out, a, fmt='%r', delimiter=','): {seconds(r_time)} "
          f"({sizes[out_r] / MB:.0f} MB), ratio cli/that {cli_time / r_time:.3f}x")
    print(f"  numpy np.savetxt(out, a, fmt='%.17g', delimiter=','): {seconds(g_time)} "
          f"({sizes[out_g] / MB:.0f} MB), ratio cli/that {cli_time / g_time:.3f}x")
    print(f"  npyview-cli: {seconds(cli_time)} ({sizes[out_cli] / MB:.0f} MB; "
          f"{'the same bytes as' if same_as_r else 'not the same bytes as'} numpy's %r file), "
          f"medians of {runs}")
    print(f"  ratio against the faster numpy ({'%r' if r_time <= g_time else '%.17g'}) {ratio:.3f}x "
          f"(target <= {TARGET_CSV}x): {'met' if met else 'MISSED'}")
    print("  np.loadtxt reads the CLI's CSV (and both of numpy's) back to the same float64 values, bit for bit")
    print(f"  numpy %r runs:    {runs_text(r_times)}")
    print(f"  numpy %.17g runs: {runs_text(g_times)}")
    print(f"  npyview-cli runs: {runs_text(cli_times)}")
    return 0 if met else 1


# ---------------------------------------------------------------------------
# Thumbnail of a 16 GiB array not in the page cache

def bench_thumbnail(cli, directory, runs):
    gib = float(os.environ.get("NPV_BENCH_THUMBNAIL_GIB", "16"))
    side = int(math.sqrt(gib * 2**30 / 4)) // 1024 * 1024
    size = side * side * 4 + 128
    path = os.path.join(directory, f"bench-thumbnail-cold-{side}.npy")
    out_png = os.path.join(directory, "bench-thumbnail.png")
    free = shutil.disk_usage(directory).free
    if not os.path.exists(path) and free < size + (1 << 30):
        print(f"thumbnail-cold: skipped: a {side} x {side} float32 file needs {size / 2**30:.1f} GiB "
              f"and {directory} has {free / 2**30:.1f} GiB free (set NPV_BENCH_THUMBNAIL_GIB lower)")
        return SKIP
    step = max(1, -(-side // THUMB_SIZE))
    cli_args = [cli, "thumbnail", "--size", str(THUMB_SIZE), "--force", path, out_png]

    def with_numpy():
        a = np.load(path, mmap_mode="r")
        picture = np.array(a[::step, ::step])
        del a
        return picture

    np_times, cli_times, cached = [], [], []
    try:
        t = time.perf_counter()
        write_npy(path, side, 29)
        print(f"wrote {path} ({size / 2**30:.1f} GiB) in {time.perf_counter() - t:.1f} s", flush=True)
        for _ in range(runs):
            evict(path)
            t = time.perf_counter()
            picture = with_numpy()
            np_times.append(time.perf_counter() - t)
            del picture
            evict(path)
            cached.append(resident(path))
            cli_times.append(run_cli(cli_args))
        with open(out_png, "rb") as f:
            head = f.read(24)
        if head[:8] != b"\x89PNG\r\n\x1a\n":
            sys.exit("thumbnail-cold: the CLI did not write a PNG")
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    finally:
        unlink(path, path + ".tmp", out_png)

    cli_time, np_time = median(cli_times), median(np_times)
    met = cli_time <= TARGET_THUMBNAIL
    print(f"thumbnail-cold: thumbnail --size {THUMB_SIZE} of a {side} x {side} float32 .npy "
          f"({size / 2**30:.1f} GiB, evicted from the page cache before every run) -> "
          f"a {width} x {height} PNG")
    print(f"  npyview-cli: {seconds(cli_time)} (median of {runs}, target <= {TARGET_THUMBNAIL} s): "
          f"{'met' if met else 'MISSED'}")
    print(f"  numpy np.array(np.load(f, mmap_mode='r')[::{step}, ::{step}]) from a cold cache: "
          f"{seconds(np_time)}, ratio npyview-cli/numpy {cli_time / np_time:.3f}x")
    if all(c is not None for c in cached):
        print(f"  in the page cache before each npyview-cli run (fincore): "
              f"{', '.join(f'{c / MB:.1f} MB' for c in cached)}")
    print(f"  numpy runs:       {runs_text(np_times)}")
    print(f"  npyview-cli runs: {runs_text(cli_times)}")
    return 0 if met else 1


# ---------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True)
    parser.add_argument("--runs", type=int, default=0, help="runs of each side (default: 7 for the planes, 3 for csv, 5 for the thumbnail)")
    parser.add_argument("which", choices=["plane", "plane-strided", "csv", "thumbnail-cold"])
    args = parser.parse_args()
    directory = os.environ.get("NPV_BENCH_DIR", ".")
    runs = args.runs or {"plane": 7, "plane-strided": 7, "csv": 3}.get(args.which, 5)
    if args.which == "plane":
        return bench_plane(args.cli, directory, runs, strided=False)
    if args.which == "plane-strided":
        return bench_plane(args.cli, directory, runs, strided=True)
    if args.which == "csv":
        return bench_csv(args.cli, directory, runs)
    return bench_thumbnail(args.cli, directory, runs)


if __name__ == "__main__":
    sys.exit(main())
