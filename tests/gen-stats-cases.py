#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the cases of tests/test-stats.c: .npy files made by numpy, and
what numpy says about them. Only the inputs are written here; every
expected value is numpy's answer.

Usage: gen-stats-cases.py OUTDIR STAMP

OUTDIR holds the .npy (and .npz) files and OUTDIR/cases.txt, one directive
per line. A line is a word, then tab-separated KEY=VALUE fields. Floats are
repr() of a Python float ('nan', 'inf' and '-inf' included), so strtod()
reads back the very same double; integers are str().

  case     name npy member via index plane dtype threads
           An array: NPY opened (via 'file': npv_file_open(); 'bytes': the
           file's bytes in memory, npv_file_open_bytes(); 'npz': MEMBER of
           a compressed .npz), then the view INDEX (a numpy basic index, as
           written between a[ and ]; '-' for none) and then the plane PLANE
           ('ROW,COL,F0:F1:..' with one fixed index per axis, '-' for none).
           DTYPE is numpy's name of the items. THREADS is what the test
           passes as n_threads.
  stats    case part doc count nan inf min max mean std fmin fmax minpos
           minpos_any integer unsigned imin imax umin umax scale
           npv_array_compute_stats_full() of PART (value, real, imag, abs,
           angle) against: a.size, the NaN and infinity counts, np.nanmin,
           np.nanmax, np.nanmean and np.nanstd (ddof 0) of the values as
           float64, the extremes of the finite values, the smallest finite
           value above zero (minpos) and the smallest value above zero
           whatever it is (minpos_any, +inf counts). integer/unsigned are
           0 or 1; imin..umax are the exact extremes for integer dtypes
           ('-' otherwise or when empty). scale is np.nanmean(|finite|),
           the scale of the tolerance of mean and std (0 when none).
  hist     case part doc bins lo hi below above nan counts
           np.histogram(finite values, BINS, (LO, HI)) with LO, HI the
           finite extremes ([0, 1] when there are none): COUNTS
           comma-separated, BELOW and ABOVE the values outside (the
           infinities among them), NAN the NaNs.
  quant    case part doc bins q numpy clipped lo_nb hi_nb
           np.nanquantile(non-NaN values, Q) (infinities included: what
           npv-stats.h documents), then the same of the values clipped to
           [LO, HI] (what a histogram over that range can know), and the
           two sorted clipped values that numpy interpolates between.
  unsupported npy
           an array of items that are not numbers on the real line.

DOC is '-' for what the core must do, or names a promise of the headers
that test-stats.c checks on its own (/stats/doc/DOC): 'complex-value', the
VALUE part of complex items, which npv-pyramid.h says means ABS, and
'single-value', histograms of a range with lo == hi (all finite values the
same), which np.histogram widens to [lo - 0.5, hi + 0.5], and 'bin-edges',
histograms of values on np.histogram's bin edges, where numpy corrects the
bin that (x - lo) / (hi - lo) * bins gives by comparing x with the edges.

numpy's AVX-512 kernels of complex absolute and arctan2 round differently
from the C library the core calls, so they are turned off before numpy is
imported (as gen-pyramid-cases.py does).
"""

import math
import os
import sys
import warnings

os.environ.setdefault('NPY_DISABLE_CPU_FEATURES',
                      'AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL')
warnings.simplefilter('ignore')

import numpy as np  # noqa: E402

BINS = (7, 64, 4096)
QUANTILES = (0.0, 0.001, 0.01, 0.25, 0.5, 0.99, 1.0)

out_dir = None
lines = []
rng = np.random.default_rng(20240612)


def emit(word, **fields):
    text = word + ''.join('\t%s=%s' % (k, v) for k, v in fields.items())
    assert '\n' not in text
    lines.append(text)


def fl(x):
    return repr(float(x))


# ---------------------------------------------------------------------------
# Inputs

def sprinkle(a, nan=0.03, posinf=0.004, neginf=0.004):
    """NaN, +inf and -inf at random places of float @a (in place)."""
    flat = a.reshape(-1, order='A')
    n = flat.size
    for value, share in ((np.nan, nan), (np.inf, posinf), (-np.inf, neginf)):
        k = int(n * share)
        if k > 0:
            flat[rng.choice(n, k, replace=False)] = value
    return a


def normal(shape, dtype=np.float64, order='C'):
    a = np.asarray(rng.normal(3.0, 100.0, shape), dtype=dtype, order=order)
    return a


# ---------------------------------------------------------------------------
# numpy's answers

def part_values(v, part):
    if np.iscomplexobj(v):
        if part == 'real':
            return v.real.astype(np.float64)
        if part == 'imag':
            return v.imag.astype(np.float64)
        if part in ('abs', 'value'):
            return np.abs(v.astype(np.complex128))
        if part == 'angle':
            return np.angle(v.astype(np.complex128))
        raise ValueError(part)
    return v.astype(np.float64)


def view_of(a, index, plane):
    v = a
    if index != '-':
        v = eval('v[%s]' % index, {'v': v})  # noqa: S307 (our own literal)
    if plane != '-':
        row, col, fixed = plane.split(',')
        row, col = int(row), int(col)
        fixed = [int(f) for f in fixed.split(':')]
        sel = tuple(slice(None) if k in (row, col) else fixed[k] for k in range(v.ndim))
        v = v[sel]
        if row > col:
            v = v.T
    return v


def stats_line(name, v, x, part, doc):
    """@v: the view's items, @x: their values as float64 (flat)."""
    finite = x[np.isfinite(x)]
    nonnan = x[~np.isnan(x)]
    pos = finite[finite > 0]
    pos_any = nonnan[nonnan > 0]
    integer = v.dtype.kind in 'biu'
    unsigned = v.dtype.kind in 'bu'
    fields = dict(
        case=name, part=part, doc=doc,
        count=v.size,
        nan=int(np.isnan(x).sum()),
        inf=int(np.isinf(x).sum()),
        min=fl(np.nanmin(x)) if nonnan.size else 'nan',
        max=fl(np.nanmax(x)) if nonnan.size else 'nan',
        mean=fl(np.nanmean(x)) if nonnan.size else 'nan',
        std=fl(np.nanstd(x, ddof=0)) if nonnan.size else 'nan',
        fmin=fl(finite.min()) if finite.size else 'nan',
        fmax=fl(finite.max()) if finite.size else 'nan',
        minpos=fl(pos.min()) if pos.size else 'nan',
        minpos_any=fl(pos_any.min()) if pos_any.size else 'nan',
        integer=int(integer),
        unsigned=int(unsigned),
        imin='-', imax='-', umin='-', umax='-',
        scale=fl(np.mean(np.abs(finite))) if finite.size else '0.0',
    )
    if integer and v.size > 0:
        key = ('umin', 'umax') if unsigned else ('imin', 'imax')
        fields[key[0]] = str(int(v.min()))
        fields[key[1]] = str(int(v.max()))
    emit('stats', **fields)


def hist_lines(name, x, part, doc):
    finite = x[np.isfinite(x)]
    nonnan = np.sort(x[~np.isnan(x)])
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
    else:
        lo, hi = 0.0, 1.0
    if lo == hi and doc == '-':
        doc = 'single-value'
    for bins in BINS:
        counts, edges = np.histogram(finite, bins, (lo, hi))
        below = int((nonnan < lo).sum())
        above = int((nonnan > hi).sum())
        emit('hist', case=name, part=part, doc=doc, bins=bins, lo=fl(lo), hi=fl(hi),
             edge_lo=fl(edges[0]), edge_hi=fl(edges[-1]),
             below=below, above=above, nan=int(np.isnan(x).sum()),
             counts=','.join(str(int(c)) for c in counts))
        clipped = np.clip(nonnan, lo, hi)
        for q in QUANTILES:
            if nonnan.size == 0:
                emit('quant', case=name, part=part, doc=doc, bins=bins, q=fl(q), numpy='nan',
                     clipped='nan', lo_nb='nan', hi_nb='nan')
                continue
            rank = q * (nonnan.size - 1)
            emit('quant', case=name, part=part, doc=doc, bins=bins, q=fl(q),
                 numpy=fl(np.nanquantile(nonnan, q)),
                 clipped=fl(np.quantile(clipped, q)),
                 lo_nb=fl(clipped[int(math.floor(rank))]),
                 hi_nb=fl(clipped[int(math.ceil(rank))]))


def add_case(name, a, parts=('value',), index='-', plane='-', threads=0, via='file',
             hist_doc='-'):
    """Saves @a and writes numpy's answers for its view by @index and
    @plane, for each of @parts."""
    member = '-'
    if via == 'npz':
        file_name = name + '.npz'
        member = 'x'
        np.savez_compressed(os.path.join(out_dir, file_name), x=a)
    else:
        file_name = name + '.npy'
        np.save(os.path.join(out_dir, file_name), a)
    v = view_of(a, index, plane)
    emit('case', name=name, npy=file_name, member=member, via=via, index=index, plane=plane,
         dtype=str(v.dtype), threads=threads)
    for part in parts:
        x = part_values(v, part).reshape(-1)
        doc = 'complex-value' if part == 'value' and np.iscomplexobj(v) else '-'
        stats_line(name, v, x, part, doc)
        hist_lines(name, x, part, doc if doc != '-' else hist_doc)


# ---------------------------------------------------------------------------
# The arrays

def cases():
    # Floats with NaN and both infinities; zeros, -0.0 and a subnormal for
    # min_positive.
    a = sprinkle(normal(5000))
    a[10:14] = (0.0, -0.0, 5e-324, -5e-324)
    add_case('f64', a)
    add_case('f64-bytes', a, via='bytes')
    add_case('f64-npz', a, via='npz')
    # float32, 2-D, C order; the part is ignored for real dtypes.
    add_case('f32-c', sprinkle(normal((300, 70), np.float32)), parts=('value', 'abs', 'angle'))
    # Fortran order.
    add_case('f64-f', sprinkle(normal((123, 77), order='F')))
    add_case('f32-f', sprinkle(normal((64, 33, 5), np.float32, order='F')))
    # NaN but no infinity: quantiles have nothing outside the range.
    add_case('f64-nan', sprinkle(normal(4000), posinf=0, neginf=0))
    # Finite only, and spread evenly: every quantile is within a bin.
    add_case('f64-dense', rng.uniform(-5.0, 7.0, 20000))
    # Only one infinity, or only NaN, or nothing.
    add_case('f64-posinf', sprinkle(normal(3000), neginf=0))
    add_case('f64-neginf', sprinkle(normal(3000), posinf=0))
    add_case('f64-allnan', np.full(1000, np.nan))
    add_case('f32-allnan-inf', np.array([np.nan, np.inf, np.nan, -np.inf], np.float32))
    add_case('f64-negative', -np.abs(normal(500)) - 1)
    add_case('f64-empty', np.zeros(0))
    add_case('i32-empty', np.zeros((3, 0, 4), np.int32))
    add_case('f64-one', np.array([42.5]))
    add_case('f64-constant', np.array([2.5] * 30 + [np.nan] * 3))
    # The only value above zero is +inf.
    add_case('f64-inf-positive', np.array([-1.0, -2.0, np.inf, np.nan, 0.0]))
    # Integers with their extremes.
    i8 = rng.integers(-128, 128, 3000, dtype=np.int8)
    i8[[5, 77]] = (-128, 127)
    add_case('i8', i8)
    i16 = rng.integers(-32768, 32768, (20, 30, 7), dtype=np.int16)
    add_case('i16-f', np.asfortranarray(i16))
    i64 = rng.integers(-2**62, 2**62, 2500, dtype=np.int64)
    i64[[3, 900]] = (np.iinfo(np.int64).min, np.iinfo(np.int64).max)
    i64[[4, 5]] = (np.iinfo(np.int64).min + 1, np.iinfo(np.int64).max - 1)
    add_case('i64', i64)
    u64 = rng.integers(0, 2**64 - 1, 2500, dtype=np.uint64, endpoint=True)
    u64[[7, 8, 9]] = (0, 2**64 - 1, 2**63)
    add_case('u64', u64)
    add_case('u64-high', rng.integers(2**63 + 12345, 2**64 - 999, 800, dtype=np.uint64))
    add_case('u8', rng.integers(0, 256, 1500, dtype=np.uint8))
    add_case('bool', rng.random(2000) < 0.3)
    add_case('bool-false', np.zeros(100, bool))
    # Half and long double floats, and complex64 (its parts as float64).
    add_case('f16', sprinkle(normal(2000)).astype(np.float16))
    add_case('f128', sprinkle(normal(2000)).astype(np.longdouble) / 3)
    add_case('c64', (normal(1000) + 1j * normal(1000)).astype(np.complex64),
             parts=('real', 'imag', 'abs', 'angle'))
    # Big-endian items take the slow path.
    add_case('f64-be', sprinkle(normal(1000)).astype('>f8'))
    add_case('i32-be', rng.integers(-2**31, 2**31, 1000).astype('>i4'))
    # Complex numbers, by each part, with NaN and infinite parts.
    z = normal(3000) + 1j * normal(3000)
    z[rng.choice(3000, 60, replace=False)] = complex(np.nan, 1.0)
    z[rng.choice(3000, 40, replace=False)] = complex(2.0, np.nan)
    z[rng.choice(3000, 10, replace=False)] = complex(np.inf, 3.0)
    z[rng.choice(3000, 10, replace=False)] = complex(-4.0, -np.inf)
    z[[0, 1, 2, 3]] = (0, -1, complex(-1, -0.0), complex(0, -2))
    add_case('c128', z, parts=('real', 'imag', 'abs', 'angle', 'value'))
    add_case('c128-f', np.asfortranarray((normal((40, 30)) + 1j * normal((40, 30)))),
             parts=('real', 'imag', 'abs', 'angle'))
    # Views that are not contiguous: through an index, and a transposed
    # plane of a 3-D array.
    b = sprinkle(normal((40, 50, 60)))
    add_case('view-index', b, index='::-1, 1::3, ::2')
    add_case('view-index-int', b, index='3, ..., 5:-7')
    add_case('view-plane-t', b, plane='2,0,0:7:0')
    add_case('view-plane-f', np.asfortranarray(b), plane='1,2,11:0:0')
    add_case('view-c128', z.reshape(60, 50), index='::7, ::-3', parts=('abs', 'angle'))
    add_case('view-i64', i64.reshape(50, 50), plane='1,0,0:0')
    # Values on np.histogram's bin edges (its np.linspace over the range),
    # where numpy corrects the bin it computes by comparing with the edges.
    lo, hi = -3.7, 11.3
    add_case('edges', np.concatenate([np.linspace(lo, hi, n + 1) for n in BINS] +
                                     [rng.uniform(lo, hi, 500)]), hist_doc='bin-edges')
    # Big ones: more than 2^20 items, so that the work is split between
    # threads (n_threads is what the test passes: 0 is one per processor).
    big = sprinkle(normal(1_500_003))
    add_case('big', big, threads=0)
    add_case('big-7', big, threads=7)
    add_case('big-view', sprinkle(normal((60, 160, 240), np.float32)), index='1:, ::-1, ::2',
             threads=4)
    bi = rng.integers(-2**40, 2**40, 1_200_000, dtype=np.int64)
    bi[[1000, 1_100_000]] = (np.iinfo(np.int64).min, np.iinfo(np.int64).max)
    add_case('big-i64', bi, threads=5)
    bz = normal(1_100_000) + 1j * normal(1_100_000)
    add_case('big-c128', bz, parts=('abs', 'angle'), threads=3)
    np.save(os.path.join(out_dir, 'str.npy'), np.array(['a', 'bb', 'ccc']))
    emit('unsupported', npy='str.npy')


def main():
    global out_dir
    out_dir, stamp = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    cases()
    with open(os.path.join(out_dir, 'cases.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    with open(stamp, 'w') as f:
        f.write('ok\n')


if __name__ == '__main__':
    main()
