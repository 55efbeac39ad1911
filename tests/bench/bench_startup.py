#!/usr/bin/env python3
"""Time from process start to the first frame that shows an array's values.

The benchmark of issue 4: `npyview FILE` on a 4 GiB .npy and on a 4 GiB .npz
with one stored member must show the member's values at most 0.2 s after
the process starts, and that time must not depend on the file's size. Each
case runs the app on the 4 GiB file and on a 4 MiB one of the same kind in
the same run, interleaved, and judges the medians:

  the 4 GiB file's median at most 0.2 s, and
  at most 50 ms + 20% above the 4 MiB file's median.

Runs under xvfb-run (see meson.build). The app is started with
NPYVIEW_BENCH_FIRST_FRAME=values (see app/main.c): its first window prints
CLOCK_MONOTONIC times once a painted frame shows the "values" page with
text and nothing running, then it quits. This script reads
time.monotonic() - the same clock - just before starting the process, so
the time measured runs from before fork/exec to the end of that frame's
paint. The app's line also gives the times of the steps in between, printed
as "where the time goes".

For context, in the same run:
  - `npyview` with no file, up to the first frame of its welcome page: what
    GTK and the window cost without any file;
  - numpy doing the comparable job: np.load(f, mmap_mode='r') and str(a)
    for the .npy, np.load(f)['a'] and str(a) for the .npz (which reads the
    whole member), timed inside one process and from the start of a fresh
    python3 process (interpreter and `import numpy` included).

Data files are made once and kept in NPV_BENCH_DIR. The 4 GiB ones are
sparse: float32 (32768, 32768) with the three first and last rows (what a
summarised print shows) filled and zeros between, in a hole; the .npz member
is written by zipfile (ZIP_STORED, zip64) with its true CRC-32, through a
file object that seeks over the zero blocks instead of writing them. One
run of each case before the timed ones brings what it reads into the page
cache.

The app runs on a session bus of its own (a dbus-daemon this script starts
and stops), as on a desktop: without one, GLib looks for dbus-launch to
autolaunch a bus, twice, which costs 50-150 ms that no user pays.
--no-session-bus leaves DBUS_SESSION_BUS_ADDRESS as it is.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile

import numpy as np

TARGET_S = 0.2
SLACK_S = 0.05
SLACK_RATIO = 0.2

DTYPE = np.dtype("<f4")
BIG_SHAPE = (32768, 32768)      # 4 GiB
SMALL_SHAPE = (1024, 1024)      # 4 MiB
EDGE = 3                        # rows at each end that numpy's summary prints
ZERO_ROWS = 128                 # rows per block of zeros written to the .npz: 16 MiB

RUN_TIMEOUT_S = 60

STEPS = [
    # label, from, to
    ("exec+link", "launch", "main"),
    ("GTK init+startup", "main", "startup"),
    ("window built", "startup", "window"),
    ("realized", "window", "realize"),
    ("mapped", "realize", "map"),
    ("first frame", "map", "first"),
    ("frame showing page", "first", "frame"),
]


# ---------------------------------------------------------------------------
# Data

def edge_rows(shape, which):
    """The first (which=0) or last (1) EDGE rows: smooth values with decimals."""
    rows, cols = shape
    first = 0 if which == 0 else rows - EDGE
    i = np.arange(first, first + EDGE, dtype=np.float64)[:, None]
    j = np.arange(cols, dtype=np.float64)[None, :]
    return (100 * np.sin(i * 0.37 + j * 0.013) + i / 7).astype(DTYPE)


def small_array():
    rows, cols = SMALL_SHAPE
    i = np.arange(rows, dtype=np.float64)[:, None]
    j = np.arange(cols, dtype=np.float64)[None, :]
    return (100 * np.sin(i * 0.37 + j * 0.013) + i / 7).astype(DTYPE)


def npy_is(path, shape):
    try:
        a = np.load(path, mmap_mode="r")
        ok = a.shape == shape and a.dtype == DTYPE and a.flags.c_contiguous
        ok = ok and os.path.getsize(path) == a.offset + a.nbytes
        del a
        return ok
    except (OSError, ValueError):
        return False


def npz_is(path, shape):
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) != 1 or infos[0].filename != "a.npy" or infos[0].compress_type != zipfile.ZIP_STORED:
                return False
            with zf.open(infos[0]) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    got, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                else:
                    got, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                data_offset = f.tell()
        return (got == shape and not fortran and dtype == DTYPE and
                infos[0].file_size == data_offset + DTYPE.itemsize * shape[0] * shape[1])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return False


def make_npy(path, shape):
    if npy_is(path, shape):
        return path
    print(f"making {path}", flush=True)
    tmp = path + ".tmp"
    if shape == SMALL_SHAPE:
        with open(tmp, "wb") as f:
            np.save(f, small_array())
        os.replace(tmp, path)
        return path
    # open_memmap writes the header and extends the file with one byte at
    # its end: what lies between is a hole, zeros on reading.
    a = np.lib.format.open_memmap(tmp, mode="w+", dtype=DTYPE, shape=shape)
    a[:EDGE] = edge_rows(shape, 0)
    a[-EDGE:] = edge_rows(shape, 1)
    a.flush()
    del a
    os.replace(tmp, path)
    return path


class SparseWriter:
    """A file for zipfile to write to, leaving holes where it writes @zeros."""

    def __init__(self, f, zeros):
        self.f = f
        self.zeros = zeros

    def write(self, data):
        if len(data) == len(self.zeros) and data == self.zeros:
            self.f.seek(len(data), os.SEEK_CUR)
        else:
            self.f.write(data)
        return len(data)

    def seek(self, offset, whence=os.SEEK_SET):
        return self.f.seek(offset, whence)

    def tell(self):
        return self.f.tell()

    def flush(self):
        self.f.flush()


def make_npz(path, shape):
    if npz_is(path, shape):
        return path
    print(f"making {path}", flush=True)
    tmp = path + ".tmp"
    if shape == SMALL_SHAPE:
        with open(tmp, "wb") as f:
            np.savez(f, a=small_array())
        os.replace(tmp, path)
        return path
    rows, cols = shape
    zeros = bytes(ZERO_ROWS * cols * DTYPE.itemsize)
    header = {"descr": np.lib.format.dtype_to_descr(DTYPE), "fortran_order": False, "shape": shape}
    with open(tmp, "wb") as raw:
        out = SparseWriter(raw, zeros)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            info = zipfile.ZipInfo("a.npy", date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            with zf.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array_header_1_0(member, header)
                member.write(edge_rows(shape, 0).tobytes())
                row = EDGE
                while row < rows - EDGE:
                    n = min(ZERO_ROWS, rows - EDGE - row)
                    member.write(zeros if n == ZERO_ROWS else bytes(n * cols * DTYPE.itemsize))
                    row += n
                member.write(edge_rows(shape, 1).tobytes())
    os.replace(tmp, path)
    return path


def warm(path):
    with open(path, "rb") as f:
        while f.read(64 << 20):
            pass


# ---------------------------------------------------------------------------
# The app

def run_app(app, args, page, env):
    """Seconds from just before starting `npyview ARGS` to the frame showing
    @page, and the app's times of each step (seconds from the start)."""
    env = dict(env, NPYVIEW_BENCH_FIRST_FRAME=page)
    launch = time.monotonic()
    proc = subprocess.Popen([app] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True)
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        sys.exit(f"npyview {' '.join(args)}: no frame showing {page} after {RUN_TIMEOUT_S} s\n{out}{err}")
    line = next((l for l in out.splitlines() if l.startswith("first-frame page=")), None)
    if proc.returncode != 0 or line is None:
        sys.exit(f"npyview {' '.join(args)} failed (exit status {proc.returncode}):\n{out}{err}")
    fields = dict(f.split("=", 1) for f in line.split()[1:])
    if fields["page"] != page:
        sys.exit(f"npyview {' '.join(args)}: showed {fields['page']}, not {page}:\n{out}{err}")
    times = {"launch": 0.0}
    for key in ("main", "startup", "window", "realize", "map", "frame"):
        times[key] = (int(fields[key]) / 1e6 - launch) if int(fields[key]) > 0 else float("nan")
    times["cpu"] = int(fields["cpu"]) / 1e6
    first_seen = fields["pages"].split(",")[0].rsplit("@", 1)[1]
    times["first"] = int(first_seen) / 1e6 - launch
    times["pages"] = [(p.rsplit("@", 1)[0], int(p.rsplit("@", 1)[1]) / 1e6 - launch)
                      for p in fields["pages"].split(",")]
    times["frames"] = int(fields["frames"])
    return times["frame"], times


def start_session_bus():
    """A private session bus: its process and its address."""
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        return None, None
    proc = subprocess.Popen([daemon, "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = proc.stdout.readline().strip()
    if not address:
        proc.kill()
        proc.wait()
        return None, None
    return proc, address


# ---------------------------------------------------------------------------
# numpy

NUMPY_NPY = "a = np.load(path, mmap_mode='r'); s = str(a)"
NUMPY_NPZ = "with np.load(path) as z: a = z['a']\ns = str(a)"


def numpy_in_process(code, path):
    t = time.perf_counter()
    exec(code, {"np": np, "path": path})
    return time.perf_counter() - t


def numpy_process(code, path):
    """From just before starting python3 to str(a) done, on time.monotonic()."""
    script = "import sys, time\nimport numpy as np\npath = sys.argv[1]\n" + code + "\nprint(time.monotonic())\n"
    launch = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script, path], stdout=subprocess.PIPE, text=True, check=True)
    return float(done.stdout.split()[-1]) - launch


# ---------------------------------------------------------------------------

def ms(t):
    return f"{t * 1000:.0f}"


def median_steps(runs):
    out = []
    for label, a, b in STEPS:
        out.append((label, statistics.median(r[b] - r[a] for r in runs)))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", required=True, help="the npyview executable")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-session-bus", action="store_true",
                        help="run the app on the session bus of the environment, if any")
    parser.add_argument("which", choices=["npy", "npz"])
    args = parser.parse_args()

    directory = os.environ.get("NPV_BENCH_DIR", ".")
    make = make_npy if args.which == "npy" else make_npz
    big = make(os.path.join(directory, f"bench-first-frame-4gib.{args.which}"), BIG_SHAPE)
    small = make(os.path.join(directory, f"bench-first-frame-4mib.{args.which}"), SMALL_SHAPE)
    warm(small)

    # The recent files the app adds on opening go to a directory of our own.
    xdg = os.path.join(directory, "bench-first-frame-xdg-data")
    os.makedirs(xdg, exist_ok=True)
    env = dict(os.environ, XDG_DATA_HOME=xdg)
    bus = None
    if not args.no_session_bus:
        bus, address = start_session_bus()
        if bus is None:
            sys.exit("dbus-daemon could not start a session bus (--no-session-bus runs without)")
        env["DBUS_SESSION_BUS_ADDRESS"] = address
    try:
        totals, steps = time_app(args, big, small, env)
    finally:
        if bus is not None:
            bus.terminate()
            bus.wait()
    return report(args, big, small, totals, steps)


def time_app(args, big, small, env):

    cases = [
        ("big", [big], "values"),
        ("small", [small], "values"),
        ("welcome", [], "welcome"),
    ]
    for _, app_args, page in cases:           # warm-up, not counted
        run_app(args.app, app_args, page, env)
    totals = {name: [] for name, _, _ in cases}
    steps = {name: [] for name, _, _ in cases}
    for r in range(args.runs):
        # a different order each round, so that drift hits all alike
        for name, app_args, page in cases[r % len(cases):] + cases[:r % len(cases)]:
            total, times = run_app(args.app, app_args, page, env)
            totals[name].append(total)
            steps[name].append(times)
    return totals, steps


def report(args, big, small, totals, steps):
    med = {name: statistics.median(t) for name, t in totals.items()}

    code = NUMPY_NPY if args.which == "npy" else NUMPY_NPZ
    # np.load of the big .npz reads (and checks the CRC-32 of) all 4 GiB.
    np_runs = min(args.runs, 3) if args.which == "npz" else args.runs
    numpy_med = {}
    for name, path in (("big", big), ("small", small)):
        inproc = statistics.median(numpy_in_process(code, path) for _ in range(np_runs))
        fresh = statistics.median(numpy_process(code, path) for _ in range(np_runs))
        numpy_med[name] = (inproc, fresh)

    kind = f".{args.which}" + (" (one stored member)" if args.which == "npz" else "")
    ratio = med["big"] / med["small"]
    slack_limit = med["small"] + SLACK_S + SLACK_RATIO * med["small"]
    within_target = med["big"] <= TARGET_S
    size_free = med["big"] <= slack_limit
    print(f"first frame, 4 GiB {kind}: {med['big']:.3f} s "
          f"(4 MiB: {med['small']:.3f} s, ratio {ratio:.2f})")
    print(f"  target <= {TARGET_S} s: {'met' if within_target else 'MISSED'}; "
          f"size dependence <= 4 MiB + 50 ms + 20% = {slack_limit:.3f} s: "
          f"{'met' if size_free else 'MISSED'}")
    print(f"  no file, first frame of the welcome page: {med['welcome']:.3f} s")
    what = ("np.load(f, mmap_mode='r') + str(a)" if args.which == "npy"
            else "np.load(f)['a'] + str(a)")
    for name, label in (("big", "4 GiB"), ("small", "4 MiB")):
        inproc, fresh = numpy_med[name]
        print(f"  numpy, {what}, {label}: {inproc:.4f} s in a running python3, "
              f"{fresh:.3f} s from process start (median of {np_runs})")

    names = ("big", "small", "welcome")
    print(f"  where the time goes (medians of {args.runs}, ms since the step before;"
          f" session bus: {'none' if args.no_session_bus else 'private'}):")
    labels = [label for label, _, _ in STEPS]
    width = max(len(l) for l in labels + ["app CPU time to the frame"])
    cols = {name: median_steps(steps[name]) for name in names}
    print(f"    {'':{width}}  {'4 GiB':>7} {'4 MiB':>7} {'welcome':>7}")
    for i, label in enumerate(labels):
        print(f"    {label:{width}}  " + " ".join(f"{ms(cols[n][i][1]):>7}" for n in names))
    print(f"    {'total':{width}}  " + " ".join(f"{ms(med[n]):>7}" for n in names))
    print(f"    {'total, best run':{width}}  " + " ".join(f"{ms(min(totals[n])):>7}" for n in names))
    print(f"    {'app CPU time to the frame':{width}}  "
          + " ".join(f"{ms(statistics.median(r['cpu'] for r in steps[n])):>7}" for n in names))
    for name, label in (("big", "4 GiB"), ("small", "4 MiB"), ("welcome", "welcome")):
        runs = ", ".join(f"{t:.3f}" for t in totals[name])
        frames = ", ".join(str(r["frames"]) for r in steps[name])
        pages = " ".join(f"{p}@{ms(t)}" for p, t in steps[name][-1]["pages"])
        print(f"  {label} runs (s): {runs}; frames painted: {frames}; pages seen, last run (ms): {pages}")
    return 0 if within_target and size_free else 1


if __name__ == "__main__":
    sys.exit(main())
