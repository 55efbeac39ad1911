#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the cases of tests/test-pyramid.c: .npy files made by numpy, and
what numpy and matplotlib say about them (nothing expected is typed in
here: only the inputs are).

Usage: gen-pyramid-cases.py OUTDIR STAMP

OUTDIR holds the .npy files, binary files of expected blocks (*.bin) and
OUTDIR/cases.txt, one directive per line, fields separated by tabs:

  A NAME NPY PART ROW_AXIS COL_AXIS FIXED ROWS COLS TOP THREADS BUDGET
        a plane: NPY opened, npv_plane_apply() with the axes and the fixed
        indices FIXED (comma-separated, one per axis, "-" for none), then a
        pyramid of PART (value, real, imag, abs, angle) with BUDGET bytes;
        tiles are asked for with THREADS threads. ROWS x COLS is the plane's
        shape and TOP the first level whose single block is the whole plane.
  L NAME LEVEL N_ROWS N_COLS BIN
        the exact blocks of LEVEL (N_ROWS x N_COLS of them): BIN holds seven
        row-major float64 (little-endian) arrays one after the other: nanmin
        (+inf when all NaN), nanmax (-inf when all NaN), the sum of the
        finite values, their count, the count of NaNs, np.nanmean, and the
        sum of the absolute finite values (the scale for the tolerance of
        sums and means).
  S NAME LEVEL AXIS N_ROWS N_COLS BIN
        the same for a sampled tile: the reduction of the lines
        npv_pyramid_sample_tile() reads, one per block along AXIS ("rows"
        or "cols", the plane's slower axis: the one with the larger stride).
        Never for level 0, where a sampled tile is the exact one.
  E NPY PART DTYPE
        an array npv_pyramid_new() must refuse with NPV_ERROR_UNSUPPORTED.
  C MAP N RGB RGB_REVERSED
        matplotlib's colormaps[MAP](np.arange(N), bytes=True)[:, :3] and the
        same of .reversed(), as hex.
  M MAP REVERSED SCALE LO HI VALUE EXPECTED
        the colour of VALUE (repr of a float64) on the colour scale: RRGGBB
        (matplotlib's cmap(norm(VALUE), bytes=True) with Normalize, LogNorm
        or PowerNorm(0.5)), or NAN, POSINF, NEGINF for those values and
        INVALID for what LogNorm masks (zero and below). "RRGGBB/RRGGBB"
        allows either colour: PowerNorm takes np.power(x, 0.5), which the C
        library's pow() rounds differently from sqrt() now and then (and the
        core takes sqrt()); where that moves a value next to a bin edge into
        the other bin, the second colour is matplotlib's for the position
        computed with np.sqrt.

numpy's AVX-512 kernels of log10, power, complex absolute and arctan2 round
differently from the C library the core calls (by a few ulp: about one
result in ten on random input), so this script turns them off before
importing numpy (NPY_DISABLE_CPU_FEATURES): numpy then takes the C
library's functions, and its answers are exact to the last bit.

The line of a block that a sampled tile reads: see sample_line().
"""

import os
import sys
import warnings

# Before numpy is imported: see the docstring.
os.environ.setdefault('NPY_DISABLE_CPU_FEATURES',
                      'AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL')
warnings.simplefilter('ignore')

import numpy as np  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402

TILE = 256
MAPS = ['viridis', 'magma', 'inferno', 'plasma', 'cividis', 'gray', 'coolwarm', 'twilight']

out_dir = None
lines = []
rng = np.random.default_rng(20240611)


def emit(*fields):
    text = '\t'.join(str(f) for f in fields)
    assert '\n' not in text
    lines.append(text)


# ---------------------------------------------------------------------------
# Arrays

# Regions (rows, cols, what) written over the random values where they fit:
# blocks that are all NaN, only +inf (and NaN), only -inf, and both
# infinities, at several levels.
REGIONS = [
    (slice(32, 64), slice(64, 96), 'nan'),          # a level-5 block
    (slice(128, 144), slice(0, 16), 'posinf-nan'),  # a level-4 block
    (slice(160, 168), slice(8, 16), 'neginf'),      # a level-3 block
    (slice(176, 180), slice(4, 8), 'both'),         # a level-2 block
    (slice(200, 202), slice(40, 42), 'posinf'),     # a level-1 block
    (slice(1024, 1088), slice(1024, 1088), 'nan'),  # a level-6 block
    (slice(1536, 1600), slice(0, 64), 'posinf'),
    (slice(1600, 1664), slice(64, 128), 'both'),
]


def sprinkle(a):
    """NaN, +inf and -inf at random places and in REGIONS of 2-D @a."""
    n = a.size
    flat = a.reshape(-1)
    for value, share in ((np.nan, 0.03), (np.inf, 0.004), (-np.inf, 0.004)):
        flat[rng.choice(n, max(1, int(n * share)), replace=False)] = value
    for rows, cols, what in REGIONS:
        region = a[rows, cols]
        if region.size == 0:
            continue
        if what == 'nan':
            region[...] = np.nan
        elif what == 'posinf':
            region[...] = np.inf
        elif what == 'neginf':
            region[...] = -np.inf
        elif what == 'posinf-nan':
            region[...] = np.inf
            region.reshape(-1)[::3] = np.nan
        elif what == 'both':
            region[...] = np.inf
            region.reshape(-1)[::2] = -np.inf
    return a


def floats(shape, dtype):
    a = (rng.standard_normal(shape) * 100 + 7).astype(dtype)
    flat2 = a.reshape(-1, shape[-1]) if a.ndim > 1 else a.reshape(-1, 1)
    sprinkle(flat2)
    return a


def complexes(shape):
    z = rng.standard_normal(shape) * 3 + 1j * rng.standard_normal(shape) * 5
    flat = z.reshape(-1)
    n = z.size
    real = flat.real.copy()
    imag = flat.imag.copy()
    for part in (real, imag):
        for value, share in ((np.nan, 0.03), (np.inf, 0.005), (-np.inf, 0.005)):
            part[rng.choice(n, int(n * share), replace=False)] = value
    flat[:] = real + 1j * imag
    # (nan, inf): abs is inf; (inf, inf): angle is pi/4; a whole block of
    # NaN in both parts.
    z2 = z.reshape(-1, shape[-1])
    z2[3, 5] = complex(np.nan, np.inf)
    z2[3, 6] = complex(np.inf, np.inf)
    z2[3, 7] = complex(-np.inf, np.nan)
    z2[32:64, 64:96] = complex(np.nan, np.nan)
    z2[100:104, 100:104] = 0j
    return z


def plane_view(a, row_axis, col_axis, fixed):
    """numpy's view of the plane, as npv_plane_apply() documents it."""
    if a.ndim == 1:
        return a[:, None]
    index = tuple(slice(None) if k in (row_axis, col_axis) else fixed[k] for k in range(a.ndim))
    v = a[index]
    return v.T if row_axis > col_axis else v


def part_values(v, part):
    if part == 'value':
        return v.astype(np.float64)
    if part == 'real':
        return v.real.astype(np.float64)
    if part == 'imag':
        return v.imag.astype(np.float64)
    # complex64 parts are taken in float64, as the pyramid holds them:
    # numpy's abs and angle of complex64 itself round to float32.
    if part == 'abs':
        return np.abs(v.astype(np.complex128))
    if part == 'angle':
        return np.angle(v.astype(np.complex128))
    raise ValueError(part)


def top_level(rows, cols):
    level = 0
    while (1 << level) < max(rows, cols):
        level += 1
    return level


def reduce_blocks(x, row_starts, col_starts):
    """Block statistics of 2-D float64 @x cut at the starts given."""
    def red(ufunc, y):
        return ufunc.reduceat(ufunc.reduceat(y, row_starts, axis=0), col_starts, axis=1)

    nan = np.isnan(x)
    finite = np.isfinite(x)
    finite_x = np.where(finite, x, 0.0)
    mn = red(np.fmin, x)
    mx = red(np.fmax, x)
    n_nan = red(np.add, nan.astype(np.float64))
    count = red(np.add, finite.astype(np.float64))
    total = red(np.add, finite_x)
    abssum = red(np.add, np.abs(finite_x))
    # nanmean: the sum of the non-NaN items (infinities in) over their count
    not_nan_sum = red(np.add, np.where(nan, 0.0, x))
    not_nan_count = red(np.add, (~nan).astype(np.float64))
    with np.errstate(invalid='ignore', divide='ignore'):
        mean = not_nan_sum / not_nan_count
    # The pyramid's convention for blocks with nothing but NaN.
    mn = np.where(np.isnan(mn), np.inf, mn)
    mx = np.where(np.isnan(mx), -np.inf, mx)
    return [mn, mx, total, count, n_nan, mean, abssum]


def check_against_nan_functions(x, starts_r, starts_c, ends_r, ends_c, stats):
    """The vectorised reductions are numpy's nanmin, nanmax, nansum and
    nanmean of the blocks: checked on a sample of blocks."""
    mn, mx, total, count, n_nan, mean, abssum = stats
    nr, nc = mn.shape
    picks = [(0, 0), (nr - 1, nc - 1), (nr - 1, 0), (0, nc - 1)]
    picks += [(int(rng.integers(nr)), int(rng.integers(nc))) for _ in range(40)]
    for i, j in picks:
        b = x[starts_r[i]:ends_r[i], starts_c[j]:ends_c[j]]
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            all_nan = np.isnan(b).all()
            assert (np.nanmin(b) if not all_nan else np.inf) == mn[i, j]
            assert (np.nanmax(b) if not all_nan else -np.inf) == mx[i, j]
            fin = b[np.isfinite(b)]
            assert fin.size == count[i, j] and np.isnan(b).sum() == n_nan[i, j]
            tol = 1e-12 * abssum[i, j]
            assert abs(np.sum(fin) - total[i, j]) <= tol
            m = np.nanmean(b)
            if np.isfinite(m):
                assert abs(m - mean[i, j]) <= tol / max(count[i, j], 1), (m, mean[i, j])
            else:
                assert np.array_equal(m, mean[i, j], equal_nan=True), (m, mean[i, j])


def write_bin(name, arrays):
    path = os.path.join(out_dir, name)
    with open(path, 'wb') as f:
        for a in arrays:
            f.write(np.ascontiguousarray(a, dtype='<f8').tobytes())
    return name


def exact_blocks(x, level):
    b = 1 << level
    rows, cols = x.shape
    sr = np.arange(0, rows, b)
    sc = np.arange(0, cols, b)
    stats = reduce_blocks(x, sr, sc)
    check_against_nan_functions(x, sr, sc, np.minimum(sr + b, rows), np.minimum(sc + b, cols), stats)
    return stats


def sample_line(start, length, level):
    """The line of the block [start, start + length) a sampled tile reads:
    the middle one (the upper of the two middle ones for even lengths)."""
    return start + (length - 1) // 2


def sampled_blocks(x, level, axis):
    """The blocks of @level from one line per block along @axis (0: rows)."""
    b = 1 << level
    if axis == 1:
        return [s.T for s in sampled_blocks(x.T, level, 0)]
    rows, cols = x.shape
    starts = np.arange(0, rows, b)
    picked = [sample_line(int(s), int(min(b, rows - s)), level) for s in starts]
    y = x[picked, :]
    return reduce_blocks(y, np.arange(len(picked)), np.arange(0, cols, b))


def slower_axis(view):
    """0 when rows are the slower axis of the plane (their stride is the larger)."""
    return 0 if abs(view.strides[0]) >= abs(view.strides[1]) else 1


def add_array(name, a, levels, part='value', row_axis=None, col_axis=None, fixed=None,
              threads=0, budget=0, sample_levels=None, file_name=None):
    if file_name is None:
        file_name = name + '.npy'
        np.save(os.path.join(out_dir, file_name), a)
    if row_axis is None:
        row_axis = max(a.ndim - 2, 0)
        col_axis = a.ndim - 1 if a.ndim >= 2 else 2 ** 32 - 1
    if fixed is None:
        fixed = [0] * a.ndim
    view = plane_view(a, row_axis, col_axis, fixed)
    x = part_values(view, part)
    rows, cols = x.shape
    top = top_level(rows, cols)
    emit('A', name, file_name, part, row_axis, col_axis,
         ','.join(str(f) for f in fixed) if fixed else '-', rows, cols, top, threads, budget)
    for level in sorted(set(top if lv == 'top' else lv for lv in levels)):
        stats = exact_blocks(x, level)
        n_rows, n_cols = stats[0].shape
        emit('L', name, level, n_rows, n_cols, write_bin(f'{name}-L{level}.bin', stats))
    axis = slower_axis(view)
    # Level 0 samples every line: test-pyramid checks it against the exact
    # blocks of the L line.
    for level in sorted(set(top if lv == 'top' else lv for lv in (sample_levels or levels)) - {0}):
        stats = sampled_blocks(x, level, axis)
        n_rows, n_cols = stats[0].shape
        emit('S', name, level, 'rows' if axis == 0 else 'cols', n_rows, n_cols,
             write_bin(f'{name}-S{level}.bin', stats))
    return file_name


def arrays():
    few = [0, 1, 2, 3, 5, 'top']

    add_array('f32-c', floats((1000, 777), np.float32), few, threads=0)
    add_array('f64-f', np.asfortranarray(floats((777, 513), np.float64)), few, threads=1)
    add_array('f32-be', floats((300, 257), '>f4'), few, threads=2)
    add_array('f16', floats((129, 200), np.float16), few)

    ints = rng.integers(-32768, 32768, (333, 517)).astype(np.int16)
    add_array('i16-c', ints, few, threads=3)
    add_array('i32-be', rng.integers(-2 ** 31, 2 ** 31, (130, 70)).astype('>i4'), few)
    add_array('u8-f', np.asfortranarray(rng.integers(0, 256, (517, 333)).astype(np.uint8)), few)
    add_array('u64', rng.integers(0, 2 ** 64 - 1, (70, 90), dtype=np.uint64, endpoint=True), few)
    add_array('bool-c', rng.random((300, 301)) < 0.3, few)

    z = complexes((257, 513))
    np.save(os.path.join(out_dir, 'c128.npy'), z)
    for part in ('real', 'imag', 'abs', 'angle'):
        add_array('c128-' + part, z, few, part=part, file_name='c128.npy')
    add_array('c64-f-abs', np.asfortranarray(complexes((200, 130)).astype(np.complex64)), few, part='abs')

    # 3-D arrays through transposed planes: a[2].T and a[:, 77, :].T
    add_array('t3d', floats((4, 301, 259), np.float64), few, row_axis=2, col_axis=1, fixed=[2, 0, 0])
    add_array('t3d-f', np.asfortranarray(floats((3, 200, 150), np.float32)), few,
              row_axis=2, col_axis=0, fixed=[0, 77, 0])
    # and a plane that is not transposed: a[:, :, 5]
    add_array('t3d-mid', floats((150, 90, 7), np.float64), few, row_axis=0, col_axis=1, fixed=[0, 0, 5])

    add_array('oned', floats((5000,), np.float64), few)
    add_array('one', np.array([np.nan]), [0, 'top'])
    add_array('scalar-row', floats((1, 3000), np.float64), few)

    # Coarse levels made from their children: one tile of 2048 x 2048, and
    # planes with several tiles across at coarse levels.
    big = floats((2048, 2048), np.float32)
    add_array('big', big, [4, 5, 6, 7, 'top'], threads=0)
    add_array('big-small-cache', big, [5, 6, 'top'], budget=1, file_name='big.npy')
    add_array('wide', floats((64, 70001), np.float32), [2, 4, 5, 6, 9, 'top'],
              sample_levels=[0, 2, 6, 'top'])
    add_array('tall-f', np.asfortranarray(floats((40000, 50), np.float64)), [3, 5, 7, 'top'],
              threads=1, sample_levels=[0, 3, 7, 'top'])


def unsupported():
    cases = [
        ('u5', np.array([['ab', 'cde'], ['f', 'ghijk']], dtype='U5'), 'value'),
        ('s3', np.array([[b'ab', b'c']], dtype='S3'), 'value'),
        ('struct', np.zeros((3, 4), dtype=[('a', '<i4'), ('b', '<f8')]), 'value'),
        ('datetime', np.zeros((3, 4), dtype='M8[s]'), 'value'),
    ]
    for name, a, part in cases:
        file_name = 'bad-' + name + '.npy'
        np.save(os.path.join(out_dir, file_name), a)
        emit('E', file_name, part, a.dtype.str)


# ---------------------------------------------------------------------------
# Colour maps

def rgb_hex(rgb):
    return bytes(np.asarray(rgb, dtype=np.uint8).reshape(-1)).hex()


def scale_values(scale, lo, hi, n):
    k = np.arange(n + 1, dtype=np.float64)
    if scale == 'linear':
        edges = lo + k * (hi - lo) / n
    elif scale == 'log':
        edges = 10.0 ** (np.log10(lo) + k * (np.log10(hi) - np.log10(lo)) / n)
    else:
        edges = lo + (k / n) ** 2 * (hi - lo)
    vals = [edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf)]
    span = hi - lo
    vals.append(np.array([lo, hi, np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf),
                          lo - 1, hi + 1, lo - 10 * abs(span) - 1, hi + 10 * abs(span) + 1,
                          0.0, -0.0, -1.0, 5e-324, -5e-324, 1e308, -1e308,
                          np.nan, np.inf, -np.inf]))
    vals.append(rng.uniform(lo, hi, 60) if lo < hi else np.full(5, lo))
    return np.concatenate(vals)


def colormaps_cases():
    for name in MAPS:
        cmap = colormaps[name]
        emit('C', name, cmap.N, rgb_hex(cmap(np.arange(cmap.N), bytes=True)[:, :3]),
             rgb_hex(cmap.reversed()(np.arange(cmap.N), bytes=True)[:, :3]))

    scales = [
        ('linear', -3.5, 12.25), ('linear', 0.0, 1.0), ('linear', -1e-3, 1e6), ('linear', 5.0, 5.0),
        ('log', 1e-3, 1e4), ('log', 0.5, 2.0),
        ('sqrt', 0.0, 100.0), ('sqrt', -5.0, 7.3), ('sqrt', 2.0, 2.0),
    ]
    for name in MAPS:
        for reversed_ in (0, 1):
            cmap = colormaps[name].reversed() if reversed_ else colormaps[name]
            for scale, lo, hi in scales:
                if scale == 'linear':
                    norm = mcolors.Normalize(lo, hi)
                elif scale == 'log':
                    norm = mcolors.LogNorm(lo, hi)
                else:
                    norm = mcolors.PowerNorm(0.5, lo, hi)
                values = scale_values(scale, lo, hi, cmap.N)
                t = norm(values)
                masked = np.ma.getmaskarray(t)
                rgba = cmap(t, bytes=True)
                alt = rgba
                if scale == 'sqrt' and lo < hi:
                    t_sqrt = np.sqrt(np.maximum(values - lo, 0)) / np.sqrt(hi - lo)
                    alt = cmap(t_sqrt, bytes=True)
                for v, m, c, a in zip(values, masked, rgba, alt):
                    if np.isnan(v):
                        expected = 'NAN'
                    elif v == np.inf:
                        expected = 'POSINF'
                    elif v == -np.inf:
                        expected = 'NEGINF'
                    elif m:
                        expected = 'INVALID'
                    else:
                        expected = rgb_hex(c[:3])
                        if rgb_hex(a[:3]) != expected:
                            expected += '/' + rgb_hex(a[:3])
                    emit('M', name, reversed_, scale, repr(float(lo)), repr(float(hi)),
                         repr(float(v)), expected)


def main():
    global out_dir
    out_dir, stamp = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    arrays()
    unsupported()
    colormaps_cases()
    with open(os.path.join(out_dir, 'cases.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    with open(stamp, 'w') as f:
        f.write('ok\n')


if __name__ == '__main__':
    main()
