#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""`npyview-cli export FILE -o OUT.png` and `npyview-cli thumbnail` against
numpy and matplotlib; `--axes` / `--transpose` against numpy's transpose.

Pictures (one value per pixel unless --size says otherwise): pixel (x, y)
of a 2-D selection a = np.load(FILE)[F][E].transpose(AXES) must be

  cmap(norm(v), bytes=True)[:3]   matplotlib, v = float64(a[y, x])

with cmap = matplotlib.colormaps[MAP] (.reversed() with --reverse) and
norm = Normalize(lo, hi), LogNorm(lo, hi), SymLogNorm(1e-3 * max(|lo|,
|hi|), linscale=1, vmin=lo, vmax=hi, base=10) or PowerNorm(0.5, lo, hi).
NaN is magenta, +inf white, -inf black, zero and below on a log scale grey.
The range [lo, hi] comes from numpy: minmax = finite nanmin/nanmax (the
smallest positive value as lo of a log scale), sigma3 = nanmean -/+ 3
nanstd, LO,HI as given; [0, 1] for bool; centred on zero for coolwarm when
the values have both signs. Complex values: np.abs, np.angle, .real, .imag.

Exact colours are required where the CLI does the same float64 operations
as matplotlib (a linear scale with an exact range). Where libm and numpy
may differ in the last bit (log10, sqrt, symlog's log, hypot, atan2, a sum
in another order, a mean and std), a pixel may also show the neighbouring
colour table entry when matplotlib's t * N is within 1e-6 of an entry's
edge. p1/p01 ranges come from a 4096-bin histogram: a pixel's table entry
may be one away from the entry of np.nanquantile's range.

--size WxH: pixel x stands for items [floor(x * cols / W), floor((x + 1) *
cols / W)) (at least one; likewise rows), folded from the pyramid blocks of
level L that cover them: when the size divides the shape, the largest power
of two dividing both numbers of items per pixel, else L = floor(log2(min(
rows / H, cols / W))) (L >= 0);
--blocks mean (np.nanmean, infinities win, both cancel to NaN), min or max
(np.nanmin / np.nanmax, infinities included). When the size divides the
shape, a pixel is numpy's block reduction of exactly its items.

RGB(A): uint8 (H, W, 3|4) shows its bytes; with alpha, cairo premultiplies
(c * a // 255) and its PNG writer divides again ((p * 255 + a // 2) // a;
all zero where a == 0). Floats with --rgb: floor(clip(v, 0, 1) * 255 + 0.5).

--colorbar / --labels: a bigger picture holding the plain one unchanged.

  test_png.py [--cli PATH] [--keep DIR]
"""

import argparse
import concurrent.futures
import contextlib
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import matplotlib  # noqa: E402
matplotlib.use('Agg')
from matplotlib import colors as mcolors  # noqa: E402
from PIL import Image  # noqa: E402

import cliutil  # noqa: E402
import expect  # noqa: E402

MAPS = ('viridis', 'magma', 'inferno', 'plasma', 'cividis', 'gray',
        'coolwarm', 'twilight')

NAN_RGB = (0xFF, 0x00, 0xFF)
POSINF_RGB = (0xFF, 0xFF, 0xFF)
NEGINF_RGB = (0x00, 0x00, 0x00)
INVALID_RGB = (0x80, 0x80, 0x80)

EDGE = 1e-6           # in table entries: where last bits may tip a colour
MAX_SHOWN = 4         # mismatching pixels described per failure


class Ctx:
    """What every check needs: the runner, the report, a folder."""

    def __init__(self, runner, report, root):
        self.runner = runner
        self.report = report
        self.root = root
        self.n = 0
        self.lock = threading.Lock()

    def save(self, name, arr, **kw):
        path = os.path.join(self.root, name + '.npy')
        np.save(path, arr, **kw)
        return path, np.load(path, allow_pickle=kw.get('allow_pickle',
                                                       False))

    def out(self, ext='.png'):
        with self.lock:
            self.n += 1
            return os.path.join(self.root, f'out-{self.n}{ext}')

    def run(self, where, args, rc=0):
        """Runs the CLI; None unless it is healthy and exits with RC."""
        r = self.runner.run(args)
        if not self.report.health(where, r):
            return None
        if not self.report.check(r.rc == rc, where, r.display,
                                 f'exit status {r.rc}, expected {rc}; '
                                 f'stderr: {cliutil.short(r.err_text)!r}'):
            return None
        return r

    def export(self, where, path, extra):
        """export -o OUT.png: the picture as an (H, W, 4) uint8 array."""
        out = self.out()
        r = self.run(where, ['export', path, '-o', out] + list(extra))
        if r is None:
            return None
        return self.load_png(where, r, out)

    def load_png(self, where, r, out):
        try:
            with Image.open(out) as im:
                im.load()
                fmt = im.format
                pic = np.asarray(im.convert('RGBA'))
        except Exception as exc:  # noqa: BLE001 - any PIL failure is one
            self.report.fail(where, r.display, f'not a PNG PIL can read: '
                             f'{exc!r}')
            return None
        if not self.report.check(fmt == 'PNG', where, r.display,
                                 f'PIL reads it as {fmt}, not PNG'):
            return None
        return pic


# ---------------------------------------------------------------------
# Expected colours


def cmap_of(name, reverse=False):
    c = matplotlib.colormaps[name]
    return c.reversed() if reverse else c


def make_norm(scale, lo, hi):
    lo, hi = float(lo), float(hi)
    if scale == 'log':
        return mcolors.LogNorm(vmin=lo, vmax=hi)
    if scale == 'symlog':
        lt = max(max(abs(lo), abs(hi)) * 1e-3, np.finfo(np.float64).tiny)
        return mcolors.SymLogNorm(linthresh=lt, linscale=1.0, vmin=lo,
                                  vmax=hi, base=10)
    if scale == 'sqrt':
        return mcolors.PowerNorm(gamma=0.5, vmin=lo, vmax=hi)
    return mcolors.Normalize(vmin=lo, vmax=hi)


@contextlib.contextmanager
def quiet():
    """numpy's complaints about NaN and logs of zero are expected here
    (its RuntimeWarnings are off: see main)."""
    with np.errstate(all='ignore'):
        yield


def expected_colours(values, cmap, norm, scale, tolerant):
    """(rgb, alt, entry): matplotlib's colour of each float64 value,
    another allowed one (the same unless TOLERANT and matplotlib's t * N
    is within EDGE of an entry's edge), and the table entry (-1 for the
    special colours)."""
    v = np.asarray(values, dtype=np.float64)
    rgb = np.zeros(v.shape + (3,), np.uint8)
    entry = np.full(v.shape, -1, np.int64)
    rgb[np.isnan(v)] = NAN_RGB
    rgb[v == np.inf] = POSINF_RGB
    rgb[v == -np.inf] = NEGINF_RGB
    ok = np.isfinite(v)
    if scale == 'log':
        rgb[ok & ~(v > 0)] = INVALID_RGB
        ok &= v > 0
    alt = rgb.copy()
    if not ok.any():
        return rgb, alt, entry
    with np.errstate(all='ignore'):
        t = np.ma.getdata(norm(v[ok])).astype(np.float64)
        rgb[ok] = cmap(t, bytes=True)[..., :3]
        alt[ok] = rgb[ok]
        n = cmap.N
        x = t * n
        entry[ok] = np.clip(np.where(np.isfinite(x), np.floor(x), 0),
                            0, n - 1).astype(np.int64)
        if tolerant:
            lo_i = np.clip(np.floor(x - EDGE), 0, n - 1).astype(np.int64)
            hi_i = np.clip(np.floor(x + EDGE), 0, n - 1).astype(np.int64)
            own = entry[ok]
            other = np.where(lo_i != own, lo_i, hi_i)
            alt[ok] = cmap(other, bytes=True)[..., :3]
    return rgb, alt, entry


def show_px(arr):
    return '#' + ''.join(f'{int(c):02x}' for c in arr[:3])


def compare(ctx, where, display, pic, rgb, alt, values=None, opaque=True):
    """PIC (H, W, 4) against RGB (H, W, 3), ALT allowed as well."""
    if pic.shape[:2] != rgb.shape[:2]:
        ctx.report.fail(where, display, f'picture is {pic.shape[1]} x '
                        f'{pic.shape[0]} pixels, expected {rgb.shape[1]} x '
                        f'{rgb.shape[0]}')
        return False
    got = pic[..., :3]
    bad = ~(np.all(got == rgb, axis=-1) | np.all(got == alt, axis=-1))
    if opaque:
        bad |= pic[..., 3] != 255
    if not bad.any():
        ctx.report.ok()
        return True
    ys, xs = np.nonzero(bad)
    shown = []
    for y, x in list(zip(ys, xs))[:MAX_SHOWN]:
        s = f'({x}, {y})'
        if values is not None:
            s += f' value {values[y, x]!r}'
        s += f': expected {show_px(rgb[y, x])}'
        if not np.array_equal(alt[y, x], rgb[y, x]):
            s += f' (or {show_px(alt[y, x])})'
        s += f', got {show_px(got[y, x])} alpha {int(pic[y, x, 3])}'
        shown.append(s)
    ctx.report.fail(where, display, f'{int(bad.sum())} of {bad.size} pixels '
                    'differ from matplotlib: ' + '; '.join(shown))
    return False


def finite_range(v):
    f = v[np.isfinite(v)]
    if f.size == 0:
        return 0.0, 1.0
    return float(f.min()), float(f.max())


def numpy_range(v, scale='linear', rng='minmax', cmap='viridis',
                is_bool=False):
    """[lo, hi] as the CLI documents it, from numpy."""
    v = np.asarray(v, np.float64)
    with quiet():
        if rng == 'minmax':
            lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
        elif rng == 'sigma3':
            m, s = np.nanmean(v), np.nanstd(v)
            lo, hi = float(m - 3 * s), float(m + 3 * s)
        elif rng in ('p1', 'p01'):
            q = 0.01 if rng == 'p1' else 0.001
            lo, hi = (float(x) for x in np.nanquantile(v, [q, 1 - q]))
        else:
            lo, hi = (float(x) for x in rng.split(','))
            return lo, hi
    flo, fhi = finite_range(v)
    if not np.isfinite(lo):
        lo = flo
    if not np.isfinite(hi):
        hi = fhi
    if is_bool:
        lo, hi = 0.0, 1.0
    if scale == 'log' and not lo > 0:
        pos = v[np.isfinite(v) & (v > 0)]
        if pos.size and pos.min() <= hi:
            lo = float(pos.min())
    if cmap == 'coolwarm' and lo < 0 < hi and scale != 'log':
        m = max(-lo, hi)
        lo, hi = -m, m
    return lo, hi


def check_colours(ctx, where, path, values, extra, cmap=None,
                  reverse=False, scale='linear', rng='minmax', is_bool=False,
                  tolerant=False):
    """export PATH EXTRA... : every pixel against matplotlib's colour of
    VALUES (2-D, float64). CMAP None: the default, viridis."""
    args = list(extra)
    if cmap is not None:
        args += ['--colormap', cmap]
    else:
        cmap = 'viridis'
    if reverse:
        args.append('--reverse')
    if scale != 'linear':
        args += ['--scale', scale]
    if rng != 'minmax':
        args += ['--range', rng]
    pic = ctx.export(where, path, args)
    if pic is None:
        return None
    v = np.asarray(values, np.float64)
    lo, hi = numpy_range(v, scale, rng, cmap, is_bool)
    cm = cmap_of(cmap, reverse)
    rgb, alt, _ = expected_colours(v, cm, make_norm(scale, lo, hi), scale,
                                   tolerant or rng == 'sigma3')
    compare(ctx, f'{where} [range {lo!r}, {hi!r}]',
            ctx.runner.display(['export', path, '-o', 'OUT.png'] + args),
            pic, rgb, alt, v)
    return pic


# ---------------------------------------------------------------------
# 1. One value per pixel


def sprinkle(rng, a, n_nan=5, n_pinf=3, n_ninf=3):
    flat = a.reshape(-1)
    idx = rng.choice(flat.size, n_nan + n_pinf + n_ninf, replace=False)
    flat[idx[:n_nan]] = np.nan
    flat[idx[n_nan:n_nan + n_pinf]] = np.inf
    flat[idx[n_nan + n_pinf:]] = -np.inf
    return a


def test_values(ctx, rng):
    f8 = sprinkle(rng, rng.standard_normal((37, 53)) * 5 + 2)
    p8, f8 = ctx.save('f8-nan-inf', f8)
    # the special colours are there, at the right places
    pic = check_colours(ctx, 'f8-nan-inf', p8, f8, [])
    if pic is not None:
        for mask, rgbv, name in ((np.isnan(f8), NAN_RGB, 'NaN'),
                                 (f8 == np.inf, POSINF_RGB, '+inf'),
                                 (f8 == -np.inf, NEGINF_RGB, '-inf')):
            ok = np.all(pic[mask][:, :3] == rgbv) and mask.any()
            ctx.report.check(ok, 'f8-nan-inf', 'export f8-nan-inf.npy',
                             f'{name} pixels are not {show_px(rgbv)}')
    for name in MAPS:
        for rev in (False, True):
            check_colours(ctx, f'f8-{name}{"-r" if rev else ""}', p8, f8,
                          [], cmap=name, reverse=rev)
    # --format png without the extension
    out = ctx.out('.img')
    r = ctx.run('format-png', ['export', p8, '-o', out, '--format', 'png'])
    if r is not None:
        pic = ctx.load_png('format-png', r, out)
        if pic is not None:
            lo, hi = numpy_range(f8)
            rgb, alt, _ = expected_colours(f8, cmap_of('viridis'),
                                           make_norm('linear', lo, hi),
                                           'linear', False)
            compare(ctx, 'format-png', r.display, pic, rgb, alt, f8)

    f4 = sprinkle(rng, (rng.standard_normal((40, 29)) * 3).astype('<f4'))
    p4, f4 = ctx.save('f4-nan-inf', f4)
    check_colours(ctx, 'f4', p4, f4, [])
    check_colours(ctx, 'f4-coolwarm', p4, f4, [], cmap='coolwarm')
    check_colours(ctx, 'f4-range', p4, f4, [], rng='-1.5,2.25')
    check_colours(ctx, 'f4-range-reverse', p4, f4, [], rng='-4,0.5',
                  cmap='magma', reverse=True)
    check_colours(ctx, 'f4-range-empty', p4, f4, [], rng='0.5,0.5')
    fb = (rng.standard_normal((33, 21)) * 100).astype('>f8')
    pb, fb = ctx.save('f8-be', fb)
    check_colours(ctx, 'f8-be', pb, fb, [])

    # scales
    lg = rng.lognormal(0, 3, (31, 47))
    lg[rng.random(lg.shape) < 0.05] = 0.0
    lg[rng.random(lg.shape) < 0.05] *= -1
    lg = sprinkle(rng, lg, 3, 2, 2)
    pl, lg = ctx.save('f8-log', lg)
    check_colours(ctx, 'log', pl, lg, [], scale='log', tolerant=True)
    check_colours(ctx, 'log-range', pl, lg, [], scale='log',
                  rng='0.01,1000', tolerant=True)
    check_colours(ctx, 'log-inferno-r', pl, lg, [], scale='log',
                  cmap='inferno', reverse=True, tolerant=True)
    check_colours(ctx, 'sqrt', pl, lg, [], scale='sqrt', tolerant=True)
    check_colours(ctx, 'sqrt-range', pl, lg, [], scale='sqrt',
                  rng='-1,50', tolerant=True)
    sl = np.sinh(rng.uniform(-15, 15, (29, 43)))
    sl[::7, ::5] = 0.0
    ps, sl = ctx.save('f8-symlog', sl)
    check_colours(ctx, 'symlog', ps, sl, [], scale='symlog', tolerant=True)
    check_colours(ctx, 'symlog-coolwarm', ps, sl, [], scale='symlog',
                  cmap='coolwarm', tolerant=True)
    check_colours(ctx, 'symlog-range', ps, sl, [], scale='symlog',
                  rng='-1e-3,5e4', tolerant=True)
    check_colours(ctx, 'log-coolwarm', pl, lg, [], scale='log',
                  cmap='coolwarm', tolerant=True)

    # ranges
    g = rng.standard_normal((45, 38)) * 2 + 1
    g[rng.random(g.shape) < 0.03] = np.nan
    pg, g = ctx.save('f8-sigma', g)
    check_colours(ctx, 'sigma3', pg, g, [], rng='sigma3')
    check_colours(ctx, 'sigma3-twilight', pg, g, [], rng='sigma3',
                  cmap='twilight')
    # dense values (the neighbours numpy interpolates between share a
    # histogram bin, which is when the CLI promises a bin's accuracy) and
    # a few outliers the percentiles leave out
    dense = rng.uniform(-1, 1, (200, 300))
    dense[rng.random(dense.shape) < 0.001] = np.nan
    dense.reshape(-1)[rng.choice(dense.size, 30, replace=False)] = \
        rng.choice([-3.0, 3.0], 30)
    dense[7, 7] = np.inf
    pdn, dense = ctx.save('f8-dense', dense)
    for mode in ('p1', 'p01'):
        check_percentile(ctx, pdn, dense, mode)

    # integers, bool
    i2 = rng.integers(-2**15, 2**15, (30, 41)).astype('<i2')
    pi, i2 = ctx.save('i2', i2)
    check_colours(ctx, 'i2', pi, i2, [])
    check_colours(ctx, 'i2-coolwarm', pi, i2, [], cmap='coolwarm')
    u1 = rng.integers(0, 256, (25, 33)).astype('u1')
    pu, u1 = ctx.save('u1-2d', u1)
    check_colours(ctx, 'u1-2d', pu, u1, [])
    u1s = rng.integers(0, 256, (25, 33, 3)).astype('u1')
    pus, u1s = ctx.save('u1-3d', u1s)
    check_colours(ctx, 'u1-3d-plane', pus, u1s[..., 1], ['--slice', '..., 1'])
    i8 = rng.integers(-10**12, 10**12, (14, 19))
    i8 = np.asfortranarray(i8)
    pi8, i8 = ctx.save('i8-fortran', i8)
    check_colours(ctx, 'i8-fortran', pi8, i8, [])
    b1 = rng.random((17, 23)) < 0.4
    pb1, b1 = ctx.save('b1', b1)
    check_colours(ctx, 'b1', pb1, b1, [], is_bool=True)
    check_colours(ctx, 'b1-gray', pb1, b1, [], cmap='gray', is_bool=True)
    pb0, b0 = ctx.save('b1-false', np.zeros((4, 6), '?'))
    check_colours(ctx, 'b1-all-false', pb0, b0, [], is_bool=True)

    # complex
    c = (rng.standard_normal((21, 34)) + 1j * rng.standard_normal((21, 34)))
    c *= 3
    c[2, 5] = complex(np.nan, 1)
    pc, c = ctx.save('c16', c.astype('<c16'))
    parts = {'abs': np.abs(c), 'angle': np.angle(c), 'real': c.real,
             'imag': c.imag}
    check_colours(ctx, 'c16-default', pc, parts['abs'], [], tolerant=True)
    for part, vals in parts.items():
        check_colours(ctx, f'c16-{part}', pc, vals, ['--part', part],
                      tolerant=True)
    check_colours(ctx, 'c16-angle-twilight', pc, parts['angle'],
                  ['--part', 'angle'], cmap='twilight', tolerant=True)
    cf = np.asfortranarray(c[:, :20])
    pcf, cf = ctx.save('c16-fortran', cf)
    check_colours(ctx, 'c16-fortran-real', pcf, cf.real, ['--part', 'real'])

    # C and Fortran order
    base = rng.uniform(-50, 50, (31, 45))
    pfc, fc = ctx.save('f8-c', np.ascontiguousarray(base))
    pff, ff = ctx.save('f8-f', np.asfortranarray(base))
    pic_c = check_colours(ctx, 'order-c', pfc, fc, [])
    pic_f = check_colours(ctx, 'order-f', pff, ff, [])
    if pic_c is not None and pic_f is not None:
        ctx.report.check(np.array_equal(pic_c, pic_f), 'order',
                         'export f8-c.npy / f8-f.npy',
                         'C and Fortran order of one array differ')
    check_colours(ctx, 'order-f-slice', pff, ff[::2, 3:], ['--slice',
                                                           '::2, 3:'])
    check_colours(ctx, 'order-f-T', pff, ff.T, ['-T'])

    # more dimensions: --slice, then --field, then --transpose / --axes
    d3 = rng.standard_normal((4, 23, 31))
    p3, d3 = ctx.save('f8-3d', d3)
    check_colours(ctx, '3d-slice', p3, d3[2], ['--slice', '2'])
    check_colours(ctx, '3d-slice-T', p3, d3[1].T, ['--slice', '1', '-T'])
    check_colours(ctx, '3d-slice-axes', p3, d3[:, 5, ::-2].transpose(1, 0),
                  ['--slice', ':, 5, ::-2', '--axes', '1,0'])
    d4 = np.asfortranarray(rng.uniform(0, 9, (3, 5, 7, 11)))
    p4d, d4 = ctx.save('f8-4d-fortran', d4)
    check_colours(ctx, '4d-slice-T', p4d, d4[1, :, 3].T,
                  ['--slice', '1, :, 3', '--transpose'])
    check_colours(ctx, '4d-slice-axes', p4d, d4[..., 2, 4],
                  ['--slice', '..., 2, 4', '--axes', '0,1'])
    check_colours(ctx, '4d-slice-axes-T', p4d,
                  d4[2, ::2, ::-1, 7].transpose(1, 0),
                  ['--slice', '2, ::2, ::-1, 7', '--axes', '1, 0'])
    rec = np.zeros((3, 8, 13), [('x', '<f4'), ('y', '<i2', (2,))])
    rec['x'] = rng.standard_normal(rec.shape)
    rec['y'] = rng.integers(-99, 99, rec.shape + (2,))
    pr, rec = ctx.save('struct-3d', rec)
    check_colours(ctx, 'struct-field-slice-T', pr, rec['x'][2].T,
                  ['--field', 'x', '--slice', '2', '-T'])
    check_colours(ctx, 'struct-field-slice-axes', pr,
                  rec['y'][1, :, 4].transpose(1, 0),
                  ['--field', 'y', '--slice', '1, :, 4', '--axes', '1,0'])


def check_percentile(ctx, path, values, mode):
    """p1 / p01, loosely: each pixel's colour table entry within one of
    the entry for np.nanquantile's range."""
    where = f'range-{mode}'
    # magma: 256 different colours (viridis has two pairs of equal ones)
    pic = ctx.export(where, path, ['--range', mode, '--colormap', 'magma'])
    if pic is None:
        return
    cm = cmap_of('magma')
    table = cm(np.arange(cm.N), bytes=True)[:, :3]
    index = {tuple(int(c) for c in row): i for i, row in enumerate(table)}
    assert len(index) == cm.N
    lo, hi = numpy_range(values, rng=mode)
    # the CLI's ends are within a bin of numpy's quantiles (4096 bins over
    # the finite values); a table entry falls as either end rises
    flo, fhi = finite_range(values)
    w = (fhi - flo) / 4096
    _, _, want = expected_colours(values, cm, make_norm('linear', lo, hi),
                                  'linear', False)
    _, _, e_min = expected_colours(values, cm, make_norm('linear', lo + w,
                                                         hi + w),
                                   'linear', False)
    _, _, e_max = expected_colours(values, cm, make_norm('linear', lo - w,
                                                         hi - w),
                                   'linear', False)
    display = ctx.runner.display(['export', path, '-o', 'OUT.png',
                                  '--range', mode, '--colormap', 'magma'])
    keys = (pic[..., 0].astype(np.int64) << 16 |
            pic[..., 1].astype(np.int64) << 8 | pic[..., 2])
    lut = {(int(r) << 16 | int(g) << 8 | int(b)): i
           for (r, g, b), i in ((k, v) for k, v in index.items())}
    got = np.vectorize(lambda k: lut.get(int(k), -2), otypes=[np.int64])(keys)
    fin = np.isfinite(values)
    bad = fin & ((got < e_min) | (got > e_max))
    special, _, _ = expected_colours(np.where(fin, 0.0, values), cm,
                                     make_norm('linear', 0, 1), 'linear',
                                     False)
    bad |= ~fin & ~np.all(pic[..., :3] == special, axis=-1)
    if bad.any():
        y, x = np.argwhere(bad)[0]
        ctx.report.fail(where, display, f'{int(bad.sum())} pixels outside '
                        f'the colours of numpy\'s range [{lo!r}, {hi!r}] '
                        f'give or take a bin ({w:.3g}): e.g. ({x}, {y}) '
                        f'value {values[y, x]!r} entry {got[y, x]}, expected '
                        f'{want[y, x]} (from {e_min[y, x]} to '
                        f'{e_max[y, x]})')
    else:
        ctx.report.ok()
    # the ends are really the quantiles: some pixels are clipped at each
    n_lo = int((got[fin] == 0).sum())
    n_hi = int((got[fin] == cm.N - 1).sum())
    ctx.report.check(n_lo >= 1 and n_hi >= 1, where, display,
                     f'{n_lo} pixels at the first colour and {n_hi} at the '
                     'last: the range is not the quantiles')


# ---------------------------------------------------------------------
# 2. --size


def fold(a, how, inf_rules=True):
    """np.nanmean / nanmin / nanmax of a block as the CLI defines them."""
    with quiet():
        if how == 'min':
            return float(np.nanmin(a)) if (~np.isnan(a)).any() else np.nan
        if how == 'max':
            return float(np.nanmax(a)) if (~np.isnan(a)).any() else np.nan
        pinf, ninf = (a == np.inf).any(), (a == -np.inf).any()
        if pinf and ninf:
            return np.nan
        if pinf:
            return np.inf
        if ninf:
            return -np.inf
        return float(np.nanmean(a, dtype=np.float64))


def block_reduce(a, fr, fc, how):
    """numpy's reduction of FR x FC blocks of A (shape divisible)."""
    r, c = a.shape
    b = a.reshape(r // fr, fr, c // fc, fc).transpose(0, 2, 1, 3)
    b = b.reshape(r // fr, c // fc, fr * fc)
    with quiet():
        if how == 'min':
            out = np.nanmin(b, axis=-1)
        elif how == 'max':
            out = np.nanmax(b, axis=-1)
        else:
            out = np.nanmean(b, axis=-1, dtype=np.float64)
            pinf = (b == np.inf).any(-1)
            ninf = (b == -np.inf).any(-1)
            out = np.where(pinf, np.inf, out)
            out = np.where(ninf, -np.inf, out)
            out = np.where(pinf & ninf, np.nan, out)
    return out


def pixel_span(p, n, pixels):
    """Items [a, b) of pixel P when N items are shown in PIXELS."""
    a = min((p * n) // pixels, n - 1)
    if n <= pixels:
        return a, a + 1
    return a, min(n, max(a + 1, ((p + 1) * n) // pixels))


def level_for(ipp):
    level = 0
    while level < 62 and 2.0 ** (level + 1) <= ipp * (1 + 1e-12):
        level += 1
    return level


def plane_level(rows, cols, height, width):
    """The CLI's level: when the size divides the shape, the largest power
    of two dividing both numbers of items per pixel (blocks never straddle
    pixels); otherwise blocks at most a pixel wide."""
    if rows % height == 0 and cols % width == 0:
        per_row, per_col = rows // height, cols // width
        level = 0
        while per_row % (2 << level) == 0 and per_col % (2 << level) == 0:
            level += 1
        return level
    return level_for(min(rows / height, cols / width))


def folded_rect(y, x, rows, cols, height, width):
    """The items the CLI folds for pixel (x, y): its items widened to the
    blocks of the level that cover them."""
    level = plane_level(rows, cols, height, width)
    r0, r1 = pixel_span(y, rows, height)
    c0, c1 = pixel_span(x, cols, width)
    r0, c0 = (r0 >> level) << level, (c0 >> level) << level
    r1 = min(rows, (((r1 - 1) >> level) + 1) << level)
    c1 = min(cols, (((c1 - 1) >> level) + 1) << level)
    return r0, r1, c0, c1


_FOLDS = {}


def fold_image(a, height, width, how):
    """The whole picture as the CLI folds it (see folded_rect), from
    numpy's reductions of the level's blocks."""
    key = (id(a), height, width)
    if key not in _FOLDS:
        _FOLDS[key] = (a, _fold_image(a, height, width))
    return _FOLDS[key][1][how]


def _fold_image(a, height, width):
    rows, cols = a.shape
    level = plane_level(rows, cols, height, width)
    k = 1 << level
    nr, nc = -(-rows // k), -(-cols // k)
    pad = np.full((nr * k, nc * k), np.nan)
    pad[:rows, :cols] = a
    b = pad.reshape(nr, k, nc, k).transpose(0, 2, 1, 3).reshape(nr, nc, -1)
    fin = np.isfinite(b)
    with quiet():
        bmin = np.where(np.isnan(b), np.inf, b).min(-1)
        bmax = np.where(np.isnan(b), -np.inf, b).max(-1)
        bsum = np.where(fin, b, 0.0).sum(-1)
    bcnt = fin.sum(-1)
    bpos = (b == np.inf).any(-1)
    bneg = (b == -np.inf).any(-1)
    bany = (~np.isnan(b)).any(-1)

    def spans(n, pixels):
        ab = np.array([pixel_span(p, n, pixels) for p in range(pixels)])
        return ab[:, 0] >> level, (ab[:, 1] - 1) >> level

    ra, rb = spans(rows, height)
    ca, cb = spans(cols, width)
    shape = (height, width)
    mn, mx = np.full(shape, np.inf), np.full(shape, -np.inf)
    sm, ct = np.zeros(shape), np.zeros(shape)
    pos, neg = np.zeros(shape, bool), np.zeros(shape, bool)
    anyv = np.zeros(shape, bool)
    for dr in range(int((rb - ra).max()) + 1):
        for dc in range(int((cb - ca).max()) + 1):
            rr, cc = ra + dr, ca + dc
            use = (rr <= rb)[:, None] & (cc <= cb)[None, :]
            ix = np.ix_(np.minimum(rr, nr - 1), np.minimum(cc, nc - 1))
            mn = np.where(use, np.minimum(mn, bmin[ix]), mn)
            mx = np.where(use, np.maximum(mx, bmax[ix]), mx)
            sm = sm + np.where(use, bsum[ix], 0.0)
            ct = ct + np.where(use, bcnt[ix], 0)
            pos |= use & bpos[ix]
            neg |= use & bneg[ix]
            anyv |= use & bany[ix]
    with quiet():
        mean = np.where(ct > 0, sm / np.maximum(ct, 1), np.nan)
        mean = np.where(pos, np.inf, mean)
        mean = np.where(neg, -np.inf, mean)
        mean = np.where(pos & neg, np.nan, mean)
    return {'min': np.where(anyv, mn, np.nan),
            'max': np.where(anyv, mx, np.nan), 'mean': mean}


def big_array(ctx, rng, name):
    big = rng.standard_normal((900, 1200)) * 4 + 10
    big[100:160, 200:260] += 40
    big[0:12, 0:12] = np.nan            # whole blocks without a value
    big = sprinkle(rng, big, 40, 4, 4)
    big[500, 600] = np.inf              # one block with both infinities
    big[501, 601] = -np.inf
    pb, big = ctx.save(name, big)
    lo, hi = finite_range(big)
    return pb, big, cmap_of('viridis'), make_norm('linear', lo, hi)


def test_size_even(ctx, rng):
    """Sizes that divide the shape: numpy's block reductions."""
    pb, big, cm, norm = big_array(ctx, rng, 'f8-900x1200')
    for (w, h) in ((300, 225), (400, 300), (600, 450), (1200, 9)):
        fr, fc = 900 // h, 1200 // w
        for how in ('mean', 'min', 'max'):
            args = ['--size', f'{w}x{h}']
            if how != 'mean':
                args += ['--blocks', how]
            where = f'size-{w}x{h}-{how}'
            pic = ctx.export(where, pb, args)
            if pic is None:
                continue
            vals = block_reduce(big, fr, fc, how)
            rgb, alt, _ = expected_colours(vals, cm, norm, 'linear',
                                           how == 'mean')
            d = ctx.runner.display(['export', pb, '-o', 'OUT.png'] + args)
            compare(ctx, where + f' (numpy\'s blocks of {fr} x {fc} items)',
                    d, pic, rgb, alt, vals)
            # and the fold the code documents
            vals = fold_image(big, h, w, how)
            rgb, alt, _ = expected_colours(vals, cm, norm, 'linear',
                                           how == 'mean')
            compare(ctx, where + ' (folded blocks)', d, pic, rgb, alt, vals)



def test_size_uneven(ctx, rng):
    """Other sizes: the fold the code documents."""
    pb, big, cm, norm = big_array(ctx, rng, 'f8-900x1200-b')
    for (w, h, how) in ((173, 131, 'mean'), (173, 131, 'max'),
                        (1000, 100, 'mean'), (97, 613, 'min'),
                        (1199, 899, 'mean'), (7, 5, 'mean')):
        args = ['--size', f'{w}x{h}']
        if how != 'mean':
            args += ['--blocks', how]
        where = f'size-{w}x{h}-{how}'
        pic = ctx.export(where, pb, args)
        if pic is None:
            continue
        if pic.shape[:2] != (h, w):
            ctx.report.fail(where, 'export --size', f'picture is '
                            f'{pic.shape[1]} x {pic.shape[0]}')
            continue
        pts = {(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1),
               (h // 2, w // 2), (h - 2, w - 2)}
        pts |= {(int(rng.integers(0, h)), int(rng.integers(0, w)))
                for _ in range(150)}
        for (r, c) in ((500, 600), (5, 5), (130, 230)):
            pts.add((r * h // 900, c * w // 1200))
        pts = sorted(pts)
        vals = np.empty((1, len(pts)))
        for k, (y, x) in enumerate(pts):
            r0, r1, c0, c1 = folded_rect(y, x, 900, 1200, h, w)
            vals[0, k] = fold(big[r0:r1, c0:c1], how)
        rgb, alt, _ = expected_colours(vals, cm, norm, 'linear',
                                       how == 'mean')
        got = np.array([[pic[y, x] for (y, x) in pts]])
        d = ctx.runner.display(['export', pb, '-o', 'OUT.png'] + args)
        compare(ctx, where + ' (folded blocks, some pixels)', d, got, rgb,
                alt, vals)
        vals = fold_image(big, h, w, how)
        rgb, alt, _ = expected_colours(vals, cm, norm, 'linear',
                                       how == 'mean')
        compare(ctx, where + ' (folded blocks)', d, pic, rgb, alt, vals)

    # bigger than the array: whole items repeated
    small = rng.standard_normal((5, 7))
    small[1, 2] = np.nan
    ps, small = ctx.save('f8-5x7', small)
    for (w, h) in ((21, 10), (10, 12), (7, 5)):
        ys = [pixel_span(y, 5, h)[0] for y in range(h)]
        xs = [pixel_span(x, 7, w)[0] for x in range(w)]
        check_colours(ctx, f'size-up-{w}x{h}', ps, small[np.ix_(ys, xs)],
                      ['--size', f'{w}x{h}'])

    # a diverging map (centred on zero) when blocks are folded
    args = ['--size', '173x131', '--colormap', 'coolwarm', '--blocks', 'min']
    pic = ctx.export('size-coolwarm', pb, args)
    if pic is not None:
        clo, chi = numpy_range(big, cmap='coolwarm')
        vals = fold_image(big, 131, 173, 'min')
        rgb, alt, _ = expected_colours(vals, cmap_of('coolwarm'),
                                       make_norm('linear', clo, chi),
                                       'linear', False)
        compare(ctx, f'size-coolwarm [range {clo!r}, {chi!r}]',
                ctx.runner.display(['export', pb, '-o', 'OUT.png'] + args),
                pic, rgb, alt, vals)

    # a log scale when blocks are folded
    lg = np.abs(big) + 0.0
    lg[::97, ::89] = 0.0
    pl, lg = ctx.save('f8-900x1200-log', lg)
    pic = ctx.export('size-log', pl, ['--size', '300x225', '--scale', 'log'])
    if pic is not None:
        vals = block_reduce(lg, 4, 4, 'mean')
        llo, lhi = numpy_range(lg, 'log')
        rgb, alt, _ = expected_colours(vals, cm, make_norm('log', llo, lhi),
                                       'log', True)
        compare(ctx, 'size-log', 'export f8-900x1200-log.npy --size 300x225 '
                '--scale log', pic, rgb, alt, vals)


# ---------------------------------------------------------------------
# 3. RGB(A)


def through_cairo(rgba):
    """uint8 RGBA after cairo's premultiplication and its PNG writer's
    division."""
    c = rgba[..., :3].astype(np.int64)
    a = rgba[..., 3:4].astype(np.int64)
    p = c * a // 255
    with np.errstate(all='ignore'):
        back = np.where(a > 0, (p * 255 + a // 2) // np.maximum(a, 1), 0)
    out = np.concatenate([back, np.where(a > 0, a, 0)], axis=-1)
    return out.astype(np.uint8)


def compare_rgba(ctx, where, display, pic, want, tol=0, mask=None):
    if pic.shape != want.shape:
        ctx.report.fail(where, display, f'picture is {pic.shape}, expected '
                        f'{want.shape}')
        return
    diff = np.abs(pic.astype(np.int64) - want.astype(np.int64)).max(-1)
    bad = diff > tol
    if mask is not None:
        bad &= mask
    if bad.any():
        y, x = np.argwhere(bad)[0]
        ctx.report.fail(where, display, f'{int(bad.sum())} pixels differ '
                        f'(tolerance {tol}): ({x}, {y}) expected '
                        f'{want[y, x].tolist()} got {pic[y, x].tolist()}')
    else:
        ctx.report.ok()


def test_rgb(ctx, rng):
    rgb3 = rng.integers(0, 256, (19, 27, 3)).astype('u1')
    rgb3[0, 0] = (0, 0, 0)
    rgb3[0, 1] = (255, 255, 255)
    p3, rgb3 = ctx.save('u1-rgb', rgb3)
    want3 = np.concatenate([rgb3, np.full(rgb3.shape[:2] + (1,), 255,
                                          np.uint8)], -1)
    plain = None
    for args in ([], ['--rgb'], ['--colormap', 'magma', '--range', '0,9']):
        where = 'rgb-u1-3' + ''.join(args)
        pic = ctx.export(where, p3, args)
        if pic is not None:
            compare_rgba(ctx, where, f'export u1-rgb.npy {" ".join(args)}',
                         pic, want3)
            plain = pic if plain is None else plain

    rgb4 = rng.integers(0, 256, (19, 27, 4)).astype('u1')
    rgb4[0, :6, 3] = (0, 1, 2, 127, 254, 255)
    rgb4[1, :, 3] = 255
    p4, rgb4 = ctx.save('u1-rgba', rgb4)
    pic4 = ctx.export('rgb-u1-4', p4, [])
    if pic4 is not None:
        d = 'export u1-rgba.npy'
        compare_rgba(ctx, 'rgb-u1-4 (cairo)', d, pic4, through_cairo(rgb4))
        opaque = rgb4[..., 3] == 255
        compare_rgba(ctx, 'rgb-u1-4 (opaque)', d, pic4, rgb4, 0, opaque)
        # 8-bit premultiplication loses up to 255 / alpha of a channel
        # (2 at alpha 146): within that of the data, alpha exact
        a = rgb4[..., 3].astype(np.int64)
        tol = np.ceil(255 / np.maximum(a, 1)).astype(np.int64)
        err = np.abs(pic4.astype(np.int64) - rgb4.astype(np.int64))
        bad = (a > 0) & ((err[..., :3].max(-1) > tol) | (err[..., 3] > 0))
        if bad.any():
            y, x = np.argwhere(bad)[0]
            ctx.report.fail('rgb-u1-4 (data)', d, f'{int(bad.sum())} pixels '
                            f'further from the data than 255 / alpha: '
                            f'({x}, {y}) data {rgb4[y, x].tolist()} got '
                            f'{pic4[y, x].tolist()}')
        else:
            ctx.report.ok()

    # RGB along the last axis after --axes: (5, 3, 6, 7)[2] -> (6, 7, 3)
    d4 = rng.integers(0, 256, (5, 3, 6, 7)).astype('u1')
    pd, d4 = ctx.save('u1-channels-first', d4)
    sel = d4[2].transpose(1, 2, 0)
    pic = ctx.export('rgb-axes', pd, ['--slice', '2', '--axes', '1,2,0'])
    if pic is not None:
        want = np.concatenate([sel, np.full(sel.shape[:2] + (1,), 255,
                                            np.uint8)], -1)
        compare_rgba(ctx, 'rgb-axes', 'export u1-channels-first.npy --slice 2'
                     ' --axes 1,2,0', pic, want)

    for shape in ((16, 22, 3), (16, 22, 4)):
        fl = rng.random(shape)
        fl[0, 0] = 0.0
        fl[0, 1] = 1.0
        fl[0, 2] = 0.5 / 255        # exactly half way: rounds up
        fl[1, 0, :3] = (-0.25, 1.5, 3.0)   # clipped
        if shape[2] == 4:
            fl[:2, :, 3] = 1.0      # the rows above are opaque
        for dt in ('<f8', '<f4'):
            a = fl.astype(dt)
            pf, a = ctx.save(f'f-rgb{shape[2]}-{dt[1:]}', a)
            where = f'rgb-float-{shape[2]}-{dt[1:]}'
            pic = ctx.export(where, pf, ['--rgb'])
            if pic is None:
                continue
            v = np.clip(a.astype(np.float64), 0, 1)
            want = np.floor(v * 255 + 0.5).astype(np.uint8)
            if shape[2] == 3:
                want = np.concatenate([want, np.full(shape[:2] + (1,), 255,
                                                     np.uint8)], -1)
            else:
                want = through_cairo(want)
            compare_rgba(ctx, where, f'export {os.path.basename(pf)} --rgb',
                         pic, want)
    # floats are not colours without --rgb
    pf = os.path.join(ctx.root, 'f-rgb3-f8.npy')
    r = ctx.run('rgb-float-no-flag', ['export', pf, '-o', ctx.out()], rc=1)
    if r is not None:
        ctx.report.check('(16, 22, 3)' in r.err_text, 'rgb-float-no-flag',
                         r.display, f'message does not name the shape: '
                         f'{r.err_text.strip()!r}')
    # --rgb needs 3 or 4 channels
    ctx.run('rgb-bad-channels', ['export', p3, '-o', ctx.out(), '--rgb',
                                 '--slice', '..., :2'], rc=1)

    # --colorbar does nothing to a picture without a colour scale
    pic = ctx.export('rgb-colorbar', p3, ['--colorbar'])
    if pic is not None and plain is not None:
        ctx.report.check(np.array_equal(pic, plain), 'rgb-colorbar',
                         'export u1-rgb.npy --colorbar',
                         f'differs from the picture without --colorbar '
                         f'({pic.shape} vs {plain.shape})')


# ---------------------------------------------------------------------
# 4. --colorbar and --labels


def find_inside(big, small):
    """(top, left) where SMALL sits in BIG, or None."""
    h, w = small.shape[:2]
    if big.shape[0] < h or big.shape[1] < w:
        return None
    first = small[0, 0]
    ys, xs = np.nonzero(np.all(big[:big.shape[0] - h + 1,
                                   :big.shape[1] - w + 1] == first, axis=-1))
    for y, x in zip(ys, xs):
        if np.array_equal(big[y:y + h, x:x + w], small):
            return int(y), int(x)
    return None


def test_decorations(ctx, rng):
    a = sprinkle(rng, rng.standard_normal((37, 53)) * 5)
    pa, a = ctx.save('f8-framed', a)
    big = rng.uniform(-1, 3, (300, 500))
    pb, big = ctx.save('f8-300x500', big)
    cases = [
        ('plain', pa, []),
        ('coolwarm', pa, ['--colormap', 'coolwarm']),
        ('log', pa, ['--scale', 'log', '--colormap', 'plasma']),
        ('sized', pb, ['--size', '100x60', '--range', '-1,2']),
        ('tall', pb, ['--slice', ':, :3', '--range', '0,1']),
    ]
    for name, path, args in cases:
        base = ctx.export(f'frame-{name}', path, args)
        if base is None:
            continue
        for deco in (['--colorbar'], ['--labels'], ['--colorbar',
                                                    '--labels']):
            where = f'frame-{name}{"".join(deco)}'
            pic = ctx.export(where, path, args + deco)
            if pic is None:
                continue
            d = ctx.runner.display(['export', path, '-o', 'OUT.png'] + args
                                   + deco)
            if not ctx.report.check(
                    pic.shape[0] >= base.shape[0] and
                    pic.shape[1] > base.shape[1] or
                    pic.shape[0] > base.shape[0] and
                    pic.shape[1] >= base.shape[1], where, d,
                    f'{pic.shape[1]} x {pic.shape[0]} is not bigger than '
                    f'the plain {base.shape[1]} x {base.shape[0]}'):
                continue
            at = find_inside(pic, base)
            ctx.report.check(at is not None, where, d,
                             'the plain picture is not in it unchanged')
            if at is not None and '--colorbar' in deco:
                # the bar is to the right of the picture
                ctx.report.check(pic.shape[1] - (at[1] + base.shape[1]) >= 16,
                                 where, d, 'no room for a colour bar on the '
                                 'right')
            if at is not None and deco == ['--labels']:
                ctx.report.check(at[0] > 0 and at[1] > 0, where, d,
                                 f'the picture is at {at}: no room for '
                                 'labels above and to the left')


# ---------------------------------------------------------------------
# 5. Errors


def file_bytes(path):
    with open(path, 'rb') as fp:
        return fp.read()


def test_errors(ctx, rng):
    a = rng.standard_normal((12, 14))
    pa, a = ctx.save('f8-err', a)
    lo, hi = finite_range(a)
    want, _, _ = expected_colours(a, cmap_of('viridis'),
                                  make_norm('linear', lo, hi), 'linear',
                                  False)

    # an existing OUT stays without --force; --force replaces it
    out = ctx.out()
    old = b'not a picture, but mine\n'
    with open(out, 'wb') as fp:
        fp.write(old)
    r = ctx.run('exists', ['export', pa, '-o', out], rc=1)
    if r is not None:
        ctx.report.check(r.err_text.strip() != '', 'exists', r.display,
                         'no message')
    ctx.report.check(file_bytes(out) == old, 'exists', 'export -o EXISTING',
                     'the existing file changed')
    r = ctx.run('force', ['export', pa, '-o', out, '--force'])
    if r is not None:
        pic = ctx.load_png('force', r, out)
        if pic is not None:
            compare(ctx, 'force', r.display, pic, want, want, a)
    # the same for thumbnail
    with open(out, 'wb') as fp:
        fp.write(old)
    ctx.run('thumb-exists', ['thumbnail', pa, out], rc=1)
    ctx.report.check(file_bytes(out) == old, 'thumb-exists',
                     'thumbnail FILE EXISTING', 'the existing file changed')
    r = ctx.run('thumb-force', ['thumbnail', '--force', pa, out])
    if r is not None:
        ctx.load_png('thumb-force', r, out)

    # a folder one cannot write in
    ro = os.path.join(ctx.root, 'read-only')
    os.mkdir(ro)
    os.chmod(ro, 0o555)
    prefix = []
    if os.geteuid() == 0:
        probe = os.path.join(ro, 'probe')
        try:
            open(probe, 'wb').close()
            os.unlink(probe)
            writable = True
        except OSError:
            writable = False
        if writable:
            setpriv = shutil.which('setpriv')
            if setpriv and subprocess.run(
                    [setpriv, '--bounding-set=-dac_override,-dac_read_search,'
                     '-fowner', 'true'], capture_output=True).returncode == 0:
                prefix = None
            else:
                ctx.report.skip('read-only folder: running as root without '
                                'setpriv, not checked')
                prefix = False
    if prefix is not False:
        out = os.path.join(ro, 'x.png')
        for cmd in (['export', pa, '-o', out], ['thumbnail', pa, out]):
            args = cmd
            if prefix is None:
                # root: without the capabilities that ignore permissions
                r = run_without_dac(ctx, cmd)
            else:
                r = ctx.runner.run(args)
            where = f'read-only-{cmd[0]}'
            if not ctx.report.health(where, r):
                continue
            ctx.report.check(r.rc == 1, where, r.display,
                             f'exit status {r.rc}, expected 1')
            msg = r.err_text.strip()
            ctx.report.check(msg.count('\n') == 0 and ('x.png' in msg or
                                                       'read-only' in msg)
                             and ('denied' in msg.lower() or
                                  'cannot' in msg.lower()), where, r.display,
                             f'unclear message: {msg!r}')
            ctx.report.check(os.listdir(ro) == [], where, r.display,
                             f'left behind: {os.listdir(ro)}')
    os.chmod(ro, 0o755)

    # usage errors: exit 2, nothing written
    bad = [
        ['--range', 'wide'], ['--range', '5,1'], ['--range', '1,'],
        ['--range', 'nan,1'], ['--range', '0,inf'], ['--range', '1,2,3'],
        ['--range', 'p5'], ['--scale', 'cubic'], ['--scale', 'log',
                                                  '--range', '-1,5'],
        ['--scale', 'log', '--range', '0,5'],
        ['--colormap', 'jet'], ['--colormap', 'Viridis'],
        ['--size', '0x5'], ['--size', '10'], ['--size', '10x'],
        ['--size', 'axb'], ['--size', '-3x4'], ['--size', '10x10x10'],
        ['--blocks', 'median'], ['--part', 'phase'],
        # --axes that no selection could take
        ['--axes', '0,0'], ['--axes', 'x'], ['--axes', '1,x'],
        ['--axes', ''], ['--axes', '0,-1'], ['--axes', '1.0,0'],
        ['--axes', '0,,1'], ['--slice', '1,,2'],
    ]
    for args in bad:
        out = ctx.out()
        where = 'usage ' + ' '.join(args)
        r = ctx.run(where, ['export', pa, '-o', out] + args, rc=2)
        if r is not None:
            ctx.report.check(r.err_text.strip() != '' and
                             r.err_text.count('\n') == 1, where, r.display,
                             f'expected one line on stderr, got '
                             f'{r.err_text!r}')
        ctx.report.check(not os.path.exists(out), where,
                         f'export -o OUT {" ".join(args)}',
                         'OUT was written')
    for cmd in ('show', 'stats'):
        for axes in ('x', '1,1', ''):
            ctx.run(f'{cmd} usage --axes {axes}', [cmd, pa, '--axes', axes],
                    rc=2)
    # --axes that does not fit this selection: like a --slice with too
    # many indices, the data's problem (exit 1), named in the message
    for args in (['--axes', '1'], ['--axes', '0,1,2'], ['--axes', '2,0'],
                 ['--slice', '0', '--axes', '1,0'], ['-T', '--axes', '0,1,2']):
        out = ctx.out()
        where = 'axes-mismatch ' + ' '.join(args)
        r = ctx.run(where, ['export', pa, '-o', out] + args, rc=1)
        if r is not None:
            ctx.report.check('axes' in r.err_text and
                             r.err_text.count('\n') == 1, where, r.display,
                             f'expected one line about --axes: '
                             f'{r.err_text!r}')
        ctx.report.check(not os.path.exists(out), where, 'export --axes',
                         'OUT was written')
    for args in (['--size', '4'], ['--size', 'big'], ['--size', '0']):
        ctx.run('thumbnail usage ' + ' '.join(args),
                ['thumbnail'] + args + [pa, ctx.out()], rc=2)

    # data errors: exit 1 with a message naming the shape
    d3 = rng.standard_normal((4, 5, 6))
    p3, d3 = ctx.save('f8-err-3d', d3)
    for args, shape in (([], '(4, 5, 6)'), (['--slice', '::2'], '(2, 5, 6)'),
                        (['--axes', '2,0,1'], '(6, 4, 5)')):
        out = ctx.out()
        where = 'no-plane ' + ' '.join(args)
        r = ctx.run(where, ['export', p3, '-o', out] + args, rc=1)
        if r is not None:
            ctx.report.check(shape in r.err_text, where, r.display,
                             f'message does not name the shape {shape}: '
                             f'{r.err_text.strip()!r}')
        ctx.report.check(not os.path.exists(out), where, 'export 3-D',
                         'OUT was written')
    for name, arr, args in (
            ('text', np.array([['ab', 'cd'], ['ef', 'g']]), []),
            ('bytes', np.array([[b'ab', b'cd']]), []),
            ('struct', np.zeros((3, 4), [('x', '<f4'), ('y', '<i2')]), []),
            ('datetime', np.zeros((3, 4), 'M8[s]'), []),
            ('object', np.array([[1, 'a'], [None, 2.5]], dtype=object), [])):
        p, _ = ctx.save(f'err-{name}', arr, allow_pickle=True)
        out = ctx.out()
        r = ctx.run(f'dtype-{name}', ['export', p, '-o', out] + args, rc=1)
        if r is not None:
            ctx.report.check(os.path.basename(p) in r.err_text and
                             r.err_text.count('\n') == 1, f'dtype-{name}',
                             r.display, f'expected one line naming the file: '
                             f'{r.err_text!r}')
        ctx.report.check(not os.path.exists(out), f'dtype-{name}',
                         'export', 'OUT was written')


def run_without_dac(ctx, cmd):
    """Runs the CLI as root without the capabilities that ignore file
    permissions, through setpriv."""
    runner = cliutil.Runner(shutil.which('setpriv'), ctx.runner.timeout,
                            ctx.runner.replacements)
    r = runner.run(['--bounding-set=-dac_override,-dac_read_search,-fowner',
                    ctx.runner.cli] + cmd)
    r.display = ctx.runner.display(cmd) + ' (without CAP_DAC_OVERRIDE)'
    with ctx.lock:
        ctx.runner.count += 1
    return r


# ---------------------------------------------------------------------
# 6. thumbnail


def thumb(ctx, where, path, extra=(), size=256):
    out = ctx.out()
    r = ctx.run(where, ['thumbnail'] + list(extra) + [path, out])
    if r is None:
        return None
    pic = ctx.load_png(where, r, out)
    if pic is None:
        return None
    h, w = pic.shape[:2]
    ctx.report.check(0 < max(h, w) <= size and min(h, w) > 0, where,
                     r.display, f'{w} x {h} pixels, expected a long side '
                     f'from 1 to {size}')
    return pic


def test_thumbnail(ctx, rng):
    f = rng.standard_normal((300, 500))
    f[::37, ::41] = np.nan
    pf, f = ctx.save('th-f8', f)
    thumb(ctx, 'thumb-2d', pf)
    thumb(ctx, 'thumb-2d-64', pf, ['--size', '64'], 64)
    thumb(ctx, 'thumb-2d-8', pf, ['--size', '8'], 8)
    pt, _ = ctx.save('th-f8-tall', rng.standard_normal((1000, 30)))
    thumb(ctx, 'thumb-tall', pt, ['--size', '100'], 100)
    p1, _ = ctx.save('th-1d', np.cumsum(rng.standard_normal(200000)))
    pic = thumb(ctx, 'thumb-1d', p1)
    if pic is not None:
        ctx.report.check((pic[..., 3] > 0).any(), 'thumb-1d',
                         'thumbnail th-1d.npy', 'nothing drawn')
    p1s, _ = ctx.save('th-1d-short', np.array([1.0, np.nan, 3.0]))
    thumb(ctx, 'thumb-1d-short', p1s, ['--size', '40'], 40)
    prgb, rgb = ctx.save('th-rgb', rng.integers(0, 256, (120, 90, 3))
                         .astype('u1'))
    thumb(ctx, 'thumb-rgb', prgb)
    pb, _ = ctx.save('th-bool', rng.random((50, 70)) < 0.5)
    thumb(ctx, 'thumb-bool', pb)
    pc, _ = ctx.save('th-c8', (rng.standard_normal((40, 60)) +
                               1j).astype('c8'))
    thumb(ctx, 'thumb-complex', pc)
    p3d, _ = ctx.save('th-3d', rng.standard_normal((3, 40, 60)))
    thumb(ctx, 'thumb-3d', p3d)

    # tiny arrays grow by whole pixels, in matplotlib's colours
    tiny = rng.standard_normal((3, 5))
    ptiny, tiny = ctx.save('th-tiny', tiny)
    for size in (256, 64, 8):
        where = f'thumb-tiny-{size}'
        pic = thumb(ctx, where, ptiny, ['--size', str(size)], size)
        if pic is None:
            continue
        k = size // 5 if size >= 5 else 1
        if not ctx.report.check(pic.shape[:2] == (3 * k, 5 * k), where,
                                f'thumbnail --size {size}',
                                f'{pic.shape[1]} x {pic.shape[0]}, expected '
                                f'{5 * k} x {3 * k} (whole pixels per value)'):
            continue
        vals = np.repeat(np.repeat(tiny, k, 0), k, 1)
        lo, hi = finite_range(tiny)
        rgb, alt, _ = expected_colours(vals, cmap_of('viridis'),
                                       make_norm('linear', lo, hi), 'linear',
                                       False)
        compare(ctx, where, f'thumbnail --size {size} th-tiny.npy', pic, rgb,
                alt, vals)

    # archives: the first array of numbers, or --member
    npz = os.path.join(ctx.root, 'th.npz')
    np.savez(npz, names=np.array(['a', 'b']), first=rng.random((20, 30)),
             second=rng.random((8, 9)))
    pic = thumb(ctx, 'thumb-npz', npz)
    if pic is not None:
        ctx.report.check(pic.shape[:2] == (20 * 8, 30 * 8), 'thumb-npz',
                         'thumbnail th.npz', f'{pic.shape[1]} x '
                         f'{pic.shape[0]}: not the member "first" (30 x 20 '
                         'grown 8 times)')
    for member in ('second', 'second.npy'):
        pic = thumb(ctx, f'thumb-npz-member-{member}', npz,
                    ['--member', member])
        if pic is not None:
            ctx.report.check(pic.shape[:2] == (8 * 28, 9 * 28),
                             f'thumb-npz-member-{member}',
                             f'thumbnail --member {member} th.npz',
                             f'{pic.shape[1]} x {pic.shape[0]}: not the '
                             'member "second" (9 x 8 grown 28 times)')
    ctx.run('thumb-npz-no-member', ['thumbnail', '--member', 'nothing', npz,
                                    ctx.out()], rc=1)
    npzc = os.path.join(ctx.root, 'th-compressed.npz')
    np.savez_compressed(npzc, a=rng.random((100, 300)))
    thumb(ctx, 'thumb-npz-compressed', npzc)
    gz = os.path.join(ctx.root, 'th.npy.gz')
    with gzip.open(gz, 'wb') as fp:
        np.save(fp, rng.random((60, 45)))
    pic = thumb(ctx, 'thumb-npy-gz', gz)
    if pic is not None:
        ctx.report.check(pic.shape[:2] == (60 * 4, 45 * 4), 'thumb-npy-gz',
                         'thumbnail th.npy.gz', f'{pic.shape[1]} x '
                         f'{pic.shape[0]}, expected 180 x 240')
    # nothing to draw
    texts = os.path.join(ctx.root, 'th-text.npz')
    np.savez(texts, a=np.array(['x', 'yz']), b=np.array([b'q']),
             c=np.zeros(0))
    for path, where in ((texts, 'thumb-no-numbers'),
                        (ctx.save('th-text', np.array(['ab']))[0],
                         'thumb-text-npy')):
        out = ctx.out()
        r = ctx.run(where, ['thumbnail', path, out], rc=1)
        if r is not None:
            ctx.report.check(os.path.basename(path) in r.err_text, where,
                             r.display, f'message does not name the file: '
                             f'{r.err_text.strip()!r}')
        ctx.report.check(not os.path.exists(out), where, 'thumbnail',
                         'OUT was written')
    empty = os.path.join(ctx.root, 'th-empty.zip')
    with zipfile.ZipFile(empty, 'w') as z:
        z.writestr('readme.txt', 'no arrays here')
    ctx.run('thumb-no-arrays', ['thumbnail', empty, ctx.out()], rc=1)


# ---------------------------------------------------------------------
# 7. --axes / --transpose with .npy export and show


def same_stats(a, b):
    """stats --json of one selection in two orders: exact but for the
    mean and std, whose sums may run in another order (1e-9 relative,
    as test_stats.py allows)."""
    try:
        ja, jb = json.loads(a), json.loads(b)
    except ValueError:
        return False
    if ja.keys() != jb.keys():
        return False
    for k in ja:
        x, y = ja[k], jb[k]
        if k in ('mean', 'std') and isinstance(x, float) and \
                isinstance(y, float):
            if not abs(x - y) <= 1e-9 * max(abs(x), abs(y)):
                return False
        elif x != y:
            return False
    return True


def test_axes(ctx, rng):
    d3 = rng.standard_normal((4, 5, 6))
    f3 = np.asfortranarray(rng.integers(-99, 99, (3, 4, 5, 2))
                           .astype('>i4'))
    rec = np.zeros((3, 4, 2), [('x', '<f4'), ('y', [('z', '<u2', (3,))])])
    rec['x'] = rng.standard_normal(rec.shape)
    rec['y']['z'] = rng.integers(0, 999, rec.shape + (3,))
    txt = np.array([['ab', 'c'], ['d', 'efg'], ['h', '']])
    p3, d3 = ctx.save('ax-f8', d3)
    pf, f3 = ctx.save('ax-i4-fortran', f3)
    pr, rec = ctx.save('ax-struct', rec)
    pt, txt = ctx.save('ax-text', txt)
    cases = [
        (p3, d3, None, '', None, True),
        (p3, d3, None, '', (2, 0, 1), False),
        (p3, d3, None, '', (0, 1, 2), False),
        (p3, d3, None, '1:, ::-2', (1, 2, 0), False),
        (p3, d3, None, '1:, ::-2', None, True),
        (p3, d3, None, '2', (1, 0), False),
        (p3, d3, None, '..., 3', None, True),
        (p3, d3, None, '0, 0', None, True),
        (p3, d3, None, '0, 0', (0,), False),
        (pf, f3, None, '', (3, 1, 0, 2), False),
        (pf, f3, None, '', None, True),
        (pf, f3, None, ':, 1', (2, 0, 1), False),
        (pf, f3, None, '1', None, True),
        (pr, rec, 'x', '', (2, 0, 1), False),
        (pr, rec, 'y.z', '1', None, True),
        (pr, rec, 'y.z', '', (3, 2, 1, 0), False),
        (pr, rec, None, '', (1, 0, 2), False),
        (pt, txt, None, '', None, True),
    ]
    for path, arr, field, expr, axes, trans in cases:
        sel = expect.select(arr, expr, field)
        sel = sel.T if trans else sel.transpose(axes) if axes else sel
        args = []
        if field:
            args += ['--field', field]
        if expr:
            args += ['--slice', expr]
        if axes is not None:
            args += ['--axes', ','.join(str(k) for k in axes)]
        if trans:
            args.append('-T' if expr else '--transpose')
        where = f'axes {os.path.basename(path)} {" ".join(args)}'
        out = ctx.out('.npy')
        r = ctx.run(where, ['export', path, '-o', out] + args)
        if r is not None:
            want = expect.npy_bytes(sel)
            got = file_bytes(out)
            ctx.report.check(got == want, where, r.display,
                             'not np.save of numpy\'s transpose: '
                             + expect.describe_npy_diff(want, got))
        # show: the same text as the CLI's show of numpy's result
        copy = ctx.out('.npy')
        np.save(copy, sel)
        r1 = ctx.run(where + ' (show)', ['show', path] + args)
        r2 = ctx.run(where + ' (show copy)', ['show', copy])
        if r1 is not None and r2 is not None:
            ctx.report.check(r1.out == r2.out, where + ' (show)', r1.display,
                             'differs from show of numpy\'s result: '
                             + expect.first_text_diff(r2.out_text,
                                                      r1.out_text))
        if sel.dtype.kind in 'fiub':
            r1 = ctx.run(where + ' (stats)', ['stats', '--json', path] + args)
            r2 = ctx.run(where + ' (stats copy)', ['stats', '--json', copy])
            if r1 is not None and r2 is not None:
                ctx.report.check(same_stats(r1.out, r2.out), where +
                                 ' (stats)', r1.display,
                                 f'{r1.out_text.strip()} != '
                                 f'{r2.out_text.strip()}')
    # CSV of a transposed plane: the table of numpy's result
    out = ctx.out('.csv')
    r = ctx.run('axes-csv', ['export', p3, '-o', out, '--slice', '1', '-T'])
    if r is not None:
        copy = os.path.join(ctx.root, 'ax-csv-copy.npy')
        np.save(copy, d3[1].T)
        out2 = ctx.out('.csv')
        if ctx.run('axes-csv copy', ['export', copy, '-o', out2]) is not None:
            ctx.report.check(file_bytes(out) == file_bytes(out2), 'axes-csv',
                             r.display, 'CSV differs from that of numpy\'s '
                             'd[1].T')


# ---------------------------------------------------------------------


def main(argv):
    p = argparse.ArgumentParser(description='npyview-cli PNG export, '
                                'thumbnail, --axes/--transpose vs numpy and '
                                'matplotlib')
    cliutil.add_cli_argument(p)
    p.add_argument('--keep', metavar='DIR')
    p.add_argument('--jobs', type=int, default=4,
                   help='sections run at once (default 4)')
    args = p.parse_args(argv)
    cli = cliutil.require_cli(args.cli)
    t0 = time.monotonic()
    seed = 20240601
    with tempfile.TemporaryDirectory(prefix='npv-png-') as tmp:
        root = args.keep or tmp
        os.makedirs(root, exist_ok=True)
        runner = cliutil.Runner(cli, args.timeout, [(os.path.join(root, ''),
                                                     '')])
        report = cliutil.Report('png')
        ctx = Ctx(runner, report, root)
        sections = (('values', test_values), ('size-even', test_size_even),
                    ('size-uneven', test_size_uneven),
                    ('rgb', test_rgb), ('decorations', test_decorations),
                    ('errors', test_errors), ('thumbnail', test_thumbnail),
                    ('axes', test_axes))

        def section(k):
            name, fn = sections[k]
            t = time.monotonic()
            try:
                # each its own numbers, whatever runs alongside
                fn(ctx, np.random.default_rng([seed, k]))
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                report.fail(name, '(test driver)', f'internal error: '
                            f'{exc!r}: {traceback.format_exc(limit=-2)!r}')
            print(f'png: {name}: {time.monotonic() - t:.1f} s', flush=True)

        # numpy's RuntimeWarnings (all-NaN slices, log of zero) are
        # expected; warnings.catch_warnings() is not for threads
        warnings.simplefilter('ignore', RuntimeWarning)
        # the colour maps' tables made before the threads share them
        for name in MAPS:
            cmap_of(name)(0.5)
            cmap_of(name, True)(0.5)
        # the CLI's runs mostly wait for their output to reach the disk
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(section, range(len(sections))))
        leftovers = [f for f in os.listdir(root)
                     if f.startswith('.') or '~' in f or f.endswith('.tmp')]
        report.check(not leftovers, 'leftovers', '(all runs)',
                     f'temporary files left behind: {leftovers}')
        ro = os.path.join(root, 'read-only')
        if os.path.isdir(ro):
            os.chmod(ro, 0o755)
        return report.finish(runner.count, time.monotonic() - t0)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
