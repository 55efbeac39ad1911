#!/usr/bin/env python3
"""Files for test-heatmap, written by numpy, with the colours the heatmap
must show, from matplotlib.

Usage: gen-heatmap-files.py DIR STAMP

DIR/manifest.txt holds one directive per line, its fields separated by
tabs; TEXT fields are escaped as C strings (backslash, newline, tab), which
g_strcompress() undoes. Lines starting with '#' are comments.

  case NAME                 a test /heatmap/NAME: a new window
  open FILE                 open DIR/FILE in it and show the heatmap
  range LO HI               the colour range the window sets once the whole
                            array's statistics are in: numpy's smallest and
                            largest finite values (on a log scale with values
                            of zero and below, LO is the smallest positive
                            one); repr() of float64
  scale NAME                choose the scale (linear, log, symlog, sqrt) in
                            the colour page
  reduction NAME            choose what a block shows (mean, min, max)
  select ROW COL            the grid's cursor to (ROW, COL): the shared
                            selection, which the heatmap draws over its
                            pixels; no checked pixel is under it
  fit FILE PART SCALE LO HI REDUCTION INTEGRAL
                            zoom to fit: any number of items per pixel, which
                            depends on the window's size. The test picks
                            pixels, asks this script for matplotlib's colours
                            of their items (see --rects) and compares
  zoom Z                    zoom to Z
  px Z R0 C0 R1 C1 RGB ALT VALUE
                            at zoom Z, the block of items [R0..R1] x
                            [C0..C1] (one item when Z >= 0) is drawn at the
                            pixel in the middle of its square in colour RGB
                            (rrggbb from matplotlib's cmap(norm(VALUE),
                            bytes=True)), or nan, posinf, neginf, invalid for
                            the colours of their own; ALT: other colours
                            allowed ('-' for none), those of VALUE moved by
                            1e-12 of the block's largest magnitude, where the
                            order of a sum or a libm's last bit can tip it.
                            VALUE is numpy's nanmean (in float64), nanmin or
                            nanmax of the block, repr()
  view NAME                 show the grid or the heatmap
  cell ROW COL TEXT         the grid's cell shows TEXT (numpy's repr)
  rows-axis K               choose axis K for the rows in the dimension bar
  cols-axis K               choose axis K for the columns
  transpose                 click the dimension bar's transpose button
  axis K V                  set axis K's spin button to V
  expression TEXT           the dimension bar's expression is TEXT
  click Z ROW COL R0 C0 R1 C1
                            at zoom Z, the items under the middle of item
                            (ROW, COL)'s pixel are [R0..R1] x [C0..C1] (the
                            clipped block, from numpy's slice); select them
                            as a click does
  selection R0 C0 R1 C1     the grid's selection (and the heatmap's) is
                            [R0..R1] x [C0..C1]

The colour map is viridis, the window's default. Values are taken in
float64 (as the pyramid holds them); complex ones as their magnitude
(np.hypot of the parts).

  gen-heatmap-files.py --rects FILE PART SCALE LO HI REDUCTION INTEGRAL

reads lines 'R0 C0 R1 C1' (inclusive item rectangles of the 2-D array in
FILE; PART 'value' or 'abs') on its standard input and writes for each
'RGB ALT VALUE', as the 'px' lines have them.
"""

import os
import sys
import warnings

import matplotlib
matplotlib.use('Agg')
from matplotlib import colors as mcolors  # noqa: E402
import numpy as np  # noqa: E402

CMAP = matplotlib.colormaps['viridis']
TEXTURE = 256          # device pixels of a heatmap texture (its edges are checked)


def esc(text):
    return (text.replace('\\', '\\\\').replace('\n', '\\n')
            .replace('\t', '\\t').replace('\r', '\\r'))


class Manifest:
    def __init__(self, directory):
        self.directory = directory
        self.lines = []

    def path(self, name):
        return os.path.join(self.directory, name)

    def emit(self, *fields):
        self.lines.append('\t'.join(esc(str(f)) for f in fields))

    def write(self):
        with open(self.path('manifest.txt'), 'w', encoding='utf-8') as fp:
            fp.write('# made by gen-heatmap-files.py: see there\n')
            for line in self.lines:
                fp.write(line + '\n')


# ---------------------------------------------------------------------
# Colours

def colour_name(v, lo, hi, scale):
    """The colour the heatmap gives the float64 V: matplotlib's, or the
    name of a colour of its own."""
    if np.isnan(v):
        return 'nan'
    if np.isinf(v):
        return 'posinf' if v > 0 else 'neginf'
    if scale == 'log':
        if not v > 0:
            return 'invalid'
        norm = mcolors.LogNorm(vmin=lo, vmax=hi)
    else:
        norm = mcolors.Normalize(vmin=lo, vmax=hi)
    with np.errstate(all='ignore'):
        rgba = CMAP(norm(np.array([v], dtype=np.float64)), bytes=True)[0]
    return '%02x%02x%02x' % (int(rgba[0]), int(rgba[1]), int(rgba[2]))


def colours(v, magnitude, lo, hi, scale, rounded=True):
    """(expected, alternatives) for the value V of a block whose largest
    finite magnitude is MAGNITUDE. ROUNDED: V is a mean, whose last bits
    depend on the order of the sum; otherwise only a log scale's log10 can
    differ (a linear scale is the same float64 operations)."""
    expected = colour_name(v, lo, hi, scale)
    if not np.isfinite(v) or not (rounded or scale == 'log'):
        return expected, '-'
    tol = 1e-12 * max(abs(v), magnitude)
    alts = []
    for w in (v - tol, v + tol):
        name = colour_name(w, lo, hi, scale)
        if name != expected and name not in alts:
            alts.append(name)
    return expected, ','.join(alts) if alts else '-'


def block_value(block, reduction):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)
        with np.errstate(all='ignore'):
            if reduction == 'min':
                return float(np.nanmin(block))
            if reduction == 'max':
                return float(np.nanmax(block))
            return float(np.nanmean(block, dtype=np.float64))


def magnitude_of(block):
    finite = np.abs(block[np.isfinite(block)])
    return float(finite.max()) if finite.size else 0.0


# ---------------------------------------------------------------------
# Which pixels to check

def n_blocks(n, level):
    return (n + (1 << level) - 1) >> level


def pick_blocks(rows, cols, z, rng, specials, quiet, n_random):
    """Blocks (in block coordinates at zoom Z) worth a look: corners, edges,
    texture edges, the special values and some at random; none under the
    selection drawn at QUIET."""
    level = max(-z, 0)
    nbr, nbc = n_blocks(rows, level), n_blocks(cols, level)
    picks = [(0, 0), (0, nbc - 1), (nbr - 1, 0), (nbr - 1, nbc - 1),
             (nbr // 2, nbc // 2), (nbr - 2, nbc - 2), (1, 1)]
    for k in rng.integers(0, nbc, size=5):
        picks += [(0, int(k)), (nbr - 1, int(k))]
    for k in rng.integers(0, nbr, size=5):
        picks += [(int(k), 0), (int(k), nbc - 1)]
    # The edges of textures, in blocks (zoomed out) or items (zoomed in).
    edges = []
    for p in (TEXTURE - 1, TEXTURE, 2 * TEXTURE - 1, 2 * TEXTURE, 3 * TEXTURE):
        edges.append(p if z < 0 else p >> z)
    edges = sorted(set(edges))
    for e in edges:
        for f in edges[:3]:
            picks += [(e, f), (f, e)]
        picks += [(e, int(rng.integers(0, nbc))), (int(rng.integers(0, nbr)), e)]
    for r, c in specials:
        br, bc = r >> level, c >> level
        picks += [(br, bc), (br + 1, bc), (br, bc + 1)]
    for _ in range(n_random):
        picks.append((int(rng.integers(0, nbr)), int(rng.integers(0, nbc))))

    qr, qc = quiet[0] >> level, quiet[1] >> level
    margin = 0 if z >= 2 else 2
    out = []
    for br, bc in picks:
        if not (0 <= br < nbr and 0 <= bc < nbc):
            continue
        if abs(br - qr) <= margin and abs(bc - qc) <= margin:
            continue
        if (br, bc) not in out:
            out.append((br, bc))
    # Near ones together: fewer moves of the view.
    scale = 1 << max(z, 0)
    out.sort(key=lambda b: ((b[0] * scale) // 200, (b[1] * scale) // 200, b[0], b[1]))
    return out


def emit_pixels(m, vals, z, lo, hi, scale, reduction, rng, specials, quiet, n_random=60,
                integral=False):
    """The 'px' lines of zoom Z. INTEGRAL: the values are whole numbers,
    whose sums are exact in float64 in any order."""
    rows, cols = vals.shape
    level = max(-z, 0)
    size = 1 << level
    n = 0
    for br, bc in pick_blocks(rows, cols, z, rng, specials, quiet, n_random):
        r0, c0 = br * size, bc * size
        block = vals[r0:r0 + size, c0:c0 + size]
        r1, c1 = r0 + block.shape[0] - 1, c0 + block.shape[1] - 1
        v = block_value(block, reduction)
        expected, alts = colours(v, magnitude_of(block), lo, hi, scale,
                                 reduction == 'mean' and block.size > 1 and not integral)
        m.emit('px', z, r0, c0, r1, c1, expected, alts, repr(v))
        n += 1
    return n


def emit_zooms(m, vals, zooms, lo, hi, scale, reduction, rng, specials, quiet, integral=False):
    rows, cols = vals.shape
    for z in zooms:
        if z == 'fit':
            m.emit('fit', m.current_file, m.current_part, scale, repr(lo), repr(hi), reduction,
                   int(integral))
        else:
            m.emit('zoom', z)
            emit_pixels(m, vals, z, lo, hi, scale, reduction, rng, specials, quiet,
                        integral=integral)


def rects_main(args):
    """Matplotlib's colours of item rectangles, for the fit's pixels."""
    path, part, scale, lo, hi, reduction, integral = args
    a = np.load(path, mmap_mode='r')
    vals = np.hypot(a.real, a.imag) if part == 'abs' else np.asarray(a, dtype=np.float64)
    lo, hi, integral = float(lo), float(hi), integral == '1'
    out = []
    for line in sys.stdin:
        if not line.strip():
            continue
        r0, c0, r1, c1 = (int(x) for x in line.split())
        block = vals[r0:r1 + 1, c0:c1 + 1]
        v = block_value(block, reduction)
        expected, alts = colours(v, magnitude_of(block), lo, hi, scale,
                                 reduction == 'mean' and block.size > 1 and not integral)
        out.append(f'{expected} {alts} {v!r}')
    sys.stdout.write('\n'.join(out) + '\n')


def finite_range(vals, scale='linear'):
    finite = vals[np.isfinite(vals)]
    lo, hi = float(finite.min()), float(finite.max())
    if scale == 'log' and not lo > 0:
        lo = float(finite[finite > 0].min())
    return lo, hi


def special_positions(vals):
    """Where the NaNs and infinities are (a few of each)."""
    out = []
    for mask in (np.isnan(vals), vals == np.inf, vals == -np.inf):
        idx = np.argwhere(mask)
        out += [tuple(int(x) for x in p) for p in idx[:: max(1, len(idx) // 6)][:6]]
    return out


def quiet_cell(rows, cols):
    return (rows * 3) // 7, (cols * 5) // 8


def sprinkle(a, rng, share=0.001):
    """NaN, +inf and -inf at random places, and the cases blocks care about."""
    flat = a.reshape(-1)
    n = flat.size
    for value in (np.nan, np.inf, -np.inf):
        flat[rng.choice(n, max(3, int(n * share)), replace=False)] = value
    rows, cols = a.shape
    a[40:64, 80:112] = np.nan              # all-NaN blocks up to 8 x 8
    a[100, 200], a[101, 201] = np.inf, -np.inf   # both in a block: NaN
    a[rows - 1, cols - 1] = np.nan         # the corner's partial blocks
    a[rows - 1, cols - 3] = np.inf
    a[rows - 2, 0] = -np.inf


def field(rng, shape):
    rows, cols = shape
    y, x = np.mgrid[0:rows, 0:cols]
    return (np.sin(x / 97.0) * np.cos(y / 53.0) * 100.0 + x * 0.01 - y * 0.02 +
            rng.normal(0, 5.0, size=shape))


# ---------------------------------------------------------------------
# Cases

def case_plain(m, rng, name, vals_of, a, zooms, reductions=()):
    """A 2-D array at several zooms: its colours, as the window ranges them."""
    np.save(m.path(name + '.npy'), a)
    vals = vals_of(a)
    lo, hi = finite_range(vals)
    rows, cols = vals.shape
    quiet = quiet_cell(rows, cols)
    specials = special_positions(vals)
    integral = a.dtype.kind in 'biu'
    m.emit('case', name)
    m.emit('open', name + '.npy')
    m.current_file, m.current_part = name + '.npy', 'abs' if a.dtype.kind == 'c' else 'value'
    m.emit('range', repr(lo), repr(hi))
    m.emit('select', *quiet)
    emit_zooms(m, vals, zooms, lo, hi, 'linear', 'mean', rng, specials, quiet, integral)
    for reduction, rzooms in reductions:
        m.emit('reduction', reduction)
        emit_zooms(m, vals, rzooms, lo, hi, 'linear', reduction, rng, specials, quiet, integral)
    if reductions:
        m.emit('reduction', 'mean')


def case_big(m, rng):
    # Not a multiple of 8 either way: partial blocks at every level.
    a = field(rng, (3003, 2005)).astype('<f4')
    sprinkle(a, rng, 0.0002)
    a[300, 400] = np.inf
    a[305, 410] = -np.inf
    case_plain(m, rng, 'f32-big', lambda x: x.astype(np.float64), a,
               ['fit', -1, -2, -3, 0, 2],
               reductions=[('min', [-2, -3]), ('max', [-1, -3])])
    # Selecting in the heatmap, shared with the grid: a click's block at
    # two zooms (one of them at the clipped bottom-right corner).
    rows, cols = a.shape
    m.emit('zoom', -2)
    for r, c in ((1234, 567), (rows - 1, cols - 1), (0, 0)):
        r0, c0 = (r >> 2) << 2, (c >> 2) << 2
        block = a[r0:r0 + 4, c0:c0 + 4]
        m.emit('click', -2, r, c, r0, c0, r0 + block.shape[0] - 1, c0 + block.shape[1] - 1)
        m.emit('view', 'grid')
        m.emit('selection', r0, c0, r0 + block.shape[0] - 1, c0 + block.shape[1] - 1)
        m.emit('view', 'heatmap')
        m.emit('selection', r0, c0, r0 + block.shape[0] - 1, c0 + block.shape[1] - 1)
    m.emit('zoom', 0)
    m.emit('click', 0, 2000, 1500, 2000, 1500, 2000, 1500)
    m.emit('view', 'grid')
    m.emit('selection', 2000, 1500, 2000, 1500)
    m.emit('cell', 2000, 1500, repr(a[2000, 1500]))
    m.emit('view', 'heatmap')
    m.emit('selection', 2000, 1500, 2000, 1500)


def case_f64(m, rng):
    a = field(rng, (700, 517)) * 1e3
    sprinkle(a, rng)
    case_plain(m, rng, 'f64-field', lambda x: x.astype(np.float64), a,
               ['fit', -1, -2, -3, 0, 2])


def case_int16(m, rng):
    a = rng.integers(-32768, 32768, size=(450, 333), dtype='<i2')
    a[0, 0], a[449, 332] = -32768, 32767
    case_plain(m, rng, 'i16', lambda x: x.astype(np.float64), a,
               ['fit', -1, -2, -3, 0, 2])


def case_bool(m, rng):
    y, x = np.mgrid[0:301, 0:257]
    a = ((x * x + y * 3) % 7 < 3) ^ (rng.random((301, 257)) < 0.1)
    a[:10, :10] = True
    a[10:20, :10] = False
    case_plain(m, rng, 'bool', lambda x: x.astype(np.float64), a,
               ['fit', -1, -3, 0, 2])


def case_complex(m, rng):
    shape = (260, 390)
    a = (field(rng, shape) + 1j * field(rng, shape)[::-1]).astype('<c16')
    flat = a.reshape(-1)
    for value in (complex(np.nan, 0.0), complex(np.inf, 1.0), complex(-np.inf, np.nan),
                  complex(1.0, -np.inf)):
        flat[rng.choice(flat.size, 12, replace=False)] = value
    a[40:64, 80:112] = complex(np.nan, np.nan)
    a[259, 389] = complex(np.nan, 2.0)
    # np.hypot: libm's hypot, correctly rounded, as the pyramid takes the
    # magnitude (npv_item_to_part); np.abs of complex128 can be an ulp off.
    case_plain(m, rng, 'complex128', lambda x: np.hypot(x.real, x.imag), a,
               ['fit', -1, -2, 0, 2])


def case_huge(m, rng):
    """float64 magnitudes far beyond float32's, both ways: the colours are
    still matplotlib's (no value turns into an infinity or a zero)."""
    shape = (300, 211)
    a = (np.where(rng.random(shape) < 0.4, -1.0, 1.0) *
         10.0 ** rng.uniform(-300, 300, size=shape))
    a[0, 0], a[299, 210] = 1e300, -1e300
    a[1, 1], a[2, 2] = 1e-300, 5e-324
    np.save(m.path('f64-huge.npy'), a)
    rows, cols = shape
    quiet = quiet_cell(rows, cols)
    specials = [(0, 0), (299, 210), (1, 1), (2, 2)]
    lin = finite_range(a)
    log = finite_range(a, 'log')
    m.emit('case', 'f64-huge')
    m.emit('open', 'f64-huge.npy')
    m.current_file, m.current_part = 'f64-huge.npy', 'value'
    m.emit('range', repr(lin[0]), repr(lin[1]))
    m.emit('select', *quiet)
    emit_zooms(m, a, [0, -1, 2], lin[0], lin[1], 'linear', 'mean', rng, specials, quiet)
    m.emit('scale', 'log')
    m.emit('range', repr(log[0]), repr(log[1]))
    emit_zooms(m, a, [0, -1], log[0], log[1], 'log', 'mean', rng, specials, quiet)


def case_log(m, rng):
    """Log scale with values below zero: those are grey, the rest LogNorm's."""
    shape = (520, 410)
    a = np.exp(rng.normal(0, 3.0, size=shape)) * np.where(rng.random(shape) < 0.25, -1.0, 1.0)
    a[rng.random(shape) < 0.05] = 0.0
    a[200:232, 0:64] = -2.5                # blocks of negatives only
    a[240:256, 64:96] = 0.0                # and of zeros
    sprinkle(a, rng)
    np.save(m.path('log.npy'), a)
    vals = a
    rows, cols = shape
    quiet = quiet_cell(rows, cols)
    specials = special_positions(vals) + [(200, 0), (240, 64), (231, 63)]
    lin = finite_range(vals)
    log = finite_range(vals, 'log')
    assert lin[0] < 0 < log[0]
    m.emit('case', 'log-scale')
    m.emit('open', 'log.npy')
    m.current_file, m.current_part = 'log.npy', 'value'
    m.emit('range', repr(lin[0]), repr(lin[1]))
    m.emit('select', *quiet)
    m.emit('zoom', -1)
    emit_pixels(m, vals, -1, lin[0], lin[1], 'linear', 'mean', rng, specials, quiet, 30)
    # Every scale in turn, quickly, then log.
    for scale in ('log', 'symlog', 'sqrt', 'linear', 'log'):
        m.emit('scale', scale)
    m.emit('range', repr(log[0]), repr(log[1]))
    emit_zooms(m, vals, ['fit', -1, -2, 0, 2], log[0], log[1], 'log', 'mean', rng, specials, quiet)
    m.emit('reduction', 'min')
    emit_zooms(m, vals, [-2], log[0], log[1], 'log', 'min', rng, specials, quiet)
    m.emit('reduction', 'max')
    emit_zooms(m, vals, [-2], log[0], log[1], 'log', 'max', rng, specials, quiet)
    m.emit('reduction', 'mean')
    m.emit('scale', 'linear')
    m.emit('range', repr(lin[0]), repr(lin[1]))
    m.emit('zoom', -2)
    emit_pixels(m, vals, -2, lin[0], lin[1], 'linear', 'mean', rng, specials, quiet, 30)


class Plane:
    """The window's plane of an N-D array, as its dimension bar changes it."""

    def __init__(self, a):
        self.a = a
        self.row = a.ndim - 2
        self.col = a.ndim - 1
        self.fixed = [0] * a.ndim

    def choose(self, rows, k):
        mine, other = ('row', 'col') if rows else ('col', 'row')
        if k == getattr(self, mine):
            return
        if k == getattr(self, other):
            setattr(self, other, getattr(self, mine))
        setattr(self, mine, k)
        self.fixed[self.row] = 0
        self.fixed[self.col] = 0

    def transpose(self):
        self.row, self.col = self.col, self.row

    def index(self):
        return tuple(slice(None) if k in (self.row, self.col) else self.fixed[k]
                     for k in range(self.a.ndim))

    def view(self):
        v = self.a[self.index()]
        return v.T if self.row > self.col else v

    def expression(self):
        parts = [':' if k in (self.row, self.col) else str(self.fixed[k])
                 for k in range(self.a.ndim)]
        return 'a[' + ', '.join(parts) + ']' + ('.T' if self.row > self.col else '')


def case_5d(m, rng):
    shape = (3, 4, 5, 6, 7)
    a = (rng.permutation(int(np.prod(shape))).astype(np.float64) * 1.5 - 300.0).reshape(shape)
    np.save(m.path('5d.npy'), a)
    lo, hi = finite_range(a)
    p = Plane(a)
    m.emit('case', '5d-dims')
    m.emit('open', '5d.npy')
    m.emit('range', repr(lo), repr(hi))

    def check():
        v = p.view()
        rows, cols = v.shape
        m.emit('expression', p.expression())
        # The grid's cursor stays at (0, 0): only that item is under the
        # selection at these zooms.
        for z in (3, 2):
            m.emit('zoom', z)
            for r in range(rows):
                for c in range(cols):
                    if (r, c) == (0, 0):
                        continue
                    x = float(v[r, c])
                    expected, alts = colours(x, abs(x), lo, hi, 'linear', False)
                    m.emit('px', z, r, c, r, c, expected, alts, repr(x))
        m.emit('view', 'grid')
        for r, c in ((0, 0), (rows - 1, cols - 1), (rows // 2, cols - 1), (rows - 1, 0),
                     (1, 2 % cols)):
            m.emit('cell', r, c, repr(v[r, c]))
        m.emit('view', 'heatmap')

    check()                                   # a[0, 0, 0, :, :]
    for k, value in ((0, 2), (1, 3), (2, 4)):
        m.emit('axis', k, value)
        p.fixed[k] = value
    check()                                   # a[2, 3, 4, :, :]
    m.emit('rows-axis', 1)
    p.choose(True, 1)
    m.emit('axis', 3, 5)
    p.fixed[3] = 5
    check()                                   # a[2, :, 4, 5, :]
    m.emit('cols-axis', 3)
    p.choose(False, 3)
    m.emit('axis', 4, 6)
    p.fixed[4] = 6
    m.emit('axis', 0, 1)
    p.fixed[0] = 1
    check()                                   # a[1, :, 4, :, 6]
    m.emit('transpose')
    p.transpose()
    check()                                   # a[1, :, 4, :, 6].T
    m.emit('rows-axis', 1)                    # the columns' axis: a swap
    p.choose(True, 1)
    m.emit('axis', 2, 0)
    p.fixed[2] = 0
    check()
    m.emit('cols-axis', 0)
    p.choose(False, 0)
    m.emit('axis', 4, 3)
    p.fixed[4] = 3
    check()                                   # rows along 1, columns along 0: .T


def main():
    if sys.argv[1] == '--rects':
        rects_main(sys.argv[2:])
        return
    directory, stamp = sys.argv[1], sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(20240611)
    m = Manifest(directory)

    case_big(m, rng)
    case_f64(m, rng)
    case_int16(m, rng)
    case_bool(m, rng)
    case_complex(m, rng)
    case_log(m, rng)
    case_huge(m, rng)
    case_5d(m, rng)

    m.write()
    open(stamp, 'w').close()


if __name__ == '__main__':
    main()
