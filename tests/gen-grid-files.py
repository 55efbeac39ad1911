#!/usr/bin/env python3
"""Files for test-grid, written by numpy, with what the grid must show.

Usage: gen-grid-files.py DIR STAMP

DIR/manifest.txt holds one directive per line, its fields separated by
tabs; TEXT fields are escaped as C strings (backslash, newline, tab), which
g_strcompress() undoes. Lines starting with '#' are comments.

  case NAME                  a test /grid/numpy/NAME: a new window with a grid
  file NAME MEMBER INDEX     open DIR/NAME; MEMBER is the member's name, or
                             '-' for the only one; INDEX is 'index' to build
                             the index of a compressed member first, else '-'
  plane ROW COL FIXED        show the plane with rows along axis ROW, columns
                             along axis COL, FIXED the index on every axis
                             (comma-separated, one per axis; those of ROW and
                             COL are 0); 'plane default' for the default
  shape ROWS COLUMNS         the grid's row and (grid) column counts
  format STYLE DECIMALS      the number format: auto, fixed or scientific
  cell ROW COL TEXT          scroll to the cell; once its tile is there its
                             text is TEXT, numpy's formatting of the value
  title COL TEXT             the header of grid column COL
  at-end                     the last row is in view, the rows scrolled to
                             their end
  at-right                   the cursor is on the last column, the columns
                             scrolled to their end
  select R0 C0 R1 C1         cursor to (R0, C0), then extended to (R1, C1)
  selection R0 C0 R1 C1      the selection is rows R0..R1, columns C0..C1
  select-all                 everything selected
  copy TSV                   copying the selection gives DIR/TSV exactly
  copy-error too-large       copying the selection fails as too large

Cell text is numpy's: repr() of floats, complex numbers and bytes (shortest
round-trip digits, float32 ones for float32), str() of integers, bools,
datetimes and text. A grid column of a record is one leaf field (nested
'a.b', subarray elements 'y[1]', 'm[0,1]'); grid column g is array column
g // n_leaves and leaf g % n_leaves.

Files for the tests that do not read the manifest:
  big.npy     (2**31 + 10, 3) float64, sparse: zeros but a few rows
  slow.npz    'slow': (4, 8388608) float64 zeros but slow[3, -4:] = 1, 2, 3, 4,
              deflated: each row 64 MiB into the member, so that without an
              index every tile, even the first, inflates up to 256 MiB
  plain.npy   the (200, 45) float64 array of the case f64-c
"""

import os
import sys

import numpy as np

BIG_ROWS = 2**31 + 10
SLOW_COLS = 8 << 20


def esc(text):
    return (text.replace('\\', '\\\\').replace('\n', '\\n')
            .replace('\t', '\\t').replace('\r', '\\r'))


def cell_text(value):
    """The text numpy gives a scalar, by the grid's rules."""
    if isinstance(value, (np.floating, np.complexfloating, np.bytes_)):
        return repr(value)
    if isinstance(value, (np.integer, np.bool_, np.datetime64, np.str_)):
        return str(value)
    raise TypeError(f'no rule for {type(value)}')


def leaves(dtype, prefix=''):
    """(name, getter) of the scalar columns of DTYPE, as the grid lists them."""
    if dtype.names is not None:
        out = []
        for name in dtype.names:
            sub = dtype.fields[name][0]
            full = f'{prefix}.{name}' if prefix else name
            out += [(n, (lambda v, name=name, g=g: g(v[name])))
                    for n, g in leaves(sub, full)]
        return out
    if dtype.subdtype is not None:
        base, shape = dtype.subdtype
        out = []
        for index in np.ndindex(*shape):
            full = f'{prefix}[{",".join(str(i) for i in index)}]'
            out += [(n, (lambda v, index=index, g=g: g(v[index])))
                    for n, g in leaves(base, full)]
        return out
    return [(prefix, lambda v: v)]


def tsv_cell(text):
    """RFC 4180 quoting with tabs as delimiters."""
    if any(c in text for c in '\t"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


class Manifest:
    def __init__(self, directory):
        self.directory = directory
        self.lines = []
        self.n_tsv = 0

    def path(self, name):
        return os.path.join(self.directory, name)

    def emit(self, *fields):
        self.lines.append('\t'.join(esc(str(f)) for f in fields))

    def write(self):
        with open(self.path('manifest.txt'), 'w', encoding='utf-8') as fp:
            fp.write('# made by gen-grid-files.py: see there\n')
            for line in self.lines:
                fp.write(line + '\n')


class View:
    """A plane of an array, as the manifest's directives check it."""

    def __init__(self, manifest, array, row_axis=None, col_axis=None, fixed=None):
        self.m = manifest
        self.array = array
        nd = array.ndim
        self.row_axis = nd - 2 if row_axis is None else row_axis
        self.col_axis = nd - 1 if col_axis is None else col_axis
        self.fixed = list(fixed) if fixed is not None else [0] * nd
        for k in (self.row_axis, self.col_axis):
            self.fixed[k] = 0
        self.leaves = leaves(array.dtype) if array.dtype.names else [('', lambda v: v)]
        self.n_leaves = len(self.leaves)
        if row_axis is None:
            manifest.emit('plane', 'default')
        else:
            manifest.emit('plane', self.row_axis, self.col_axis,
                          ','.join(str(i) for i in self.fixed))
        self.rows = array.shape[self.row_axis]
        self.cols = array.shape[self.col_axis] * self.n_leaves
        manifest.emit('shape', self.rows, self.cols)

    def value(self, row, col):
        index = list(self.fixed)
        index[self.row_axis] = row
        index[self.col_axis] = col // self.n_leaves
        return self.leaves[col % self.n_leaves][1](self.array[tuple(index)])

    def text(self, row, col):
        return cell_text(self.value(row, col))

    def cell(self, row, col):
        self.m.emit('cell', row, col, self.text(row, col))

    def cells(self, positions):
        for r, c in positions:
            self.cell(r, c)

    def title(self, col):
        name = self.leaves[col % self.n_leaves][0]
        text = f'{col // self.n_leaves} · {name}' if self.array.dtype.names else str(col)
        self.m.emit('title', col, text)

    def copy(self, r0, c0, r1, c1):
        """Select from (r0, c0) to (r1, c1) and copy: numpy's values as TSV."""
        self.m.emit('select', r0, c0, r1, c1)
        self.copy_selection(r0, c0, r1, c1)

    def copy_selection(self, r0, c0, r1, c1):
        """Copy what is selected, (r0, c0) to (r1, c1): numpy's values as TSV."""
        self.m.n_tsv += 1
        name = f'copy-{self.m.n_tsv}.tsv'
        lo_r, hi_r = min(r0, r1), max(r0, r1)
        lo_c, hi_c = min(c0, c1), max(c0, c1)
        with open(self.m.path(name), 'w', encoding='utf-8', newline='') as fp:
            for r in range(lo_r, hi_r + 1):
                fp.write('\t'.join(tsv_cell(self.text(r, c))
                                   for c in range(lo_c, hi_c + 1)) + '\n')
        self.m.emit('copy', name)

    def standard_positions(self, rng, n_random=12):
        """Corners, tile edges (64 rows x 16 columns), the end, and a few at random."""
        rows, cols = self.rows, self.cols
        picks = [(0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1),
                 (rows // 2, cols // 2)]
        for r in (63, 64, 127, 128):
            for c in (15, 16, 31, 32):
                picks.append((min(r, rows - 1), min(c, cols - 1)))
        for _ in range(n_random):
            picks.append((int(rng.integers(rows)), int(rng.integers(cols))))
        # Far first, then back: scrolling both ways.
        seen = []
        for p in picks:
            if p not in seen:
                seen.append(p)
        return seen


def float64_values(rng, shape):
    a = rng.standard_normal(shape) * 10.0 ** rng.integers(-30, 30, size=shape)
    flat = a.reshape(-1)
    specials = [0.1, 1e-07, np.nan, -np.inf, np.inf, -0.0, 0.0, 1e16, 1e15 + 0.5,
                5e-324, np.finfo(np.float64).max, -2.2250738585072014e-308, 1 / 3,
                123456789.125, -1.5, 100.0, 2.0 ** 53, 9007199254740993.0]
    flat[:len(specials)] = specials
    rng.shuffle(flat)
    return a


def plant(a, positions, values):
    for (r, c), v in zip(positions, values):
        a[r, c] = v


def case_float64(m, rng, name, order):
    a = float64_values(rng, (200, 45))
    plant(a, [(199, 44), (199, 0), (0, 44), (64, 16), (63, 15)],
          [-0.0, np.nan, 1e-07, 0.1, -np.inf])
    a = np.asfortranarray(a) if order == 'F' else np.ascontiguousarray(a)
    np.save(m.path(name + '.npy'), a)
    if order == 'C':
        np.save(m.path('plain.npy'), a)
    m.emit('case', name)
    m.emit('file', name + '.npy', '-', '-')
    v = View(m, a)
    v.cells(v.standard_positions(rng, 20))
    for c in (0, 7, 16, 44):
        v.title(c)
    v.copy(60, 13, 66, 18)        # across tile edges both ways
    v.copy(199, 44, 195, 40)      # backwards, at the end
    if order == 'F':
        v.copy(0, 0, v.rows - 1, v.cols - 1)
        m.emit('select-all')
        m.emit('copy', f'copy-{m.n_tsv}.tsv')
    # Fixed and scientific digits on screen; copies stay at full precision.
    m.emit('format', 'fixed', 3)
    for r, c in [(0, 0), (199, 44), (64, 16), (63, 15), (100, 20), (199, 0)]:
        x = float(a[r, c])
        m.emit('cell', r, c, f'{x:.3f}' if np.isfinite(x) else cell_text(a[r, c]))
    v.copy(63, 15, 64, 16)
    m.emit('format', 'scientific', 4)
    for r, c in [(0, 44), (150, 30), (3, 3)]:
        x = float(a[r, c])
        m.emit('cell', r, c, f'{x:.4e}' if np.isfinite(x) else cell_text(a[r, c]))
    m.emit('format', 'auto', 0)
    v.cells([(0, 44), (150, 30), (3, 3)])


def case_float_kinds(m, rng):
    """Each float size, with the values where repr() changes its style."""
    edges = [0.0001, 1e-05, 0.00012345, 1e15, 1e16, 9999999999999998.0, 123456789012345.67,
             16777216.0, 16777217.0, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, 65504.0, 6e-08, 1e-45,
             3.4028235e38, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308,
             np.nan, -np.inf, -0.0, 1.0, -1.0, 100.0, 1e22, 1e23, 0.5, 1.5, 2.5]
    m.emit('case', 'float-kinds')
    for dtype in ('<f2', '<f4', '>f4', '<f8', '<f16'):
        with np.errstate(over='ignore', under='ignore'):
            a = np.array(edges * 3, dtype=dtype)[:90].reshape(5, 18)
        name = f'float-{dtype[0] == ">" and "be" or "le"}{np.dtype(dtype).itemsize * 8}.npy'
        np.save(m.path(name), a)
        m.emit('file', name, '-', '-')
        v = View(m, a)
        v.cells([(r, c) for r in range(2) for c in range(18)])
        v.copy(0, 0, 1, 17)


def case_big_endian(m, rng):
    a = float64_values(rng, (70, 20)).astype('>f8')
    np.save(m.path('f64-be.npy'), a)
    m.emit('case', 'f64-big-endian')
    m.emit('file', 'f64-be.npy', '-', '-')
    v = View(m, a)
    v.cells(v.standard_positions(rng, 8))


def case_float32_3d(m, rng):
    a = (rng.standard_normal((6, 130, 40)) * 10.0 ** rng.integers(-12, 12, size=(6, 130, 40)))
    a = a.astype('<f4')
    a[5, 129, 39] = np.float32(0.1)
    a[0, 0, 0] = np.float32(3.4028235e38)
    a[4, 64, 16] = np.float32(1e-45)
    a[3, 77, 2] = np.nan
    np.save(m.path('f32-3d.npy'), a)
    m.emit('case', 'f32-3d')
    m.emit('file', 'f32-3d.npy', '-', '-')
    v = View(m, a)                                     # a[0, :, :]
    v.cells(v.standard_positions(rng, 10))
    # The slider on axis 0. The selection stays where it fits (npv-grid.h):
    # a copy after moving the slider is of the new plane's cells.
    m.emit('select', 2, 3, 10, 12)
    v = View(m, a, 1, 2, [4, 0, 0])
    m.emit('selection', 2, 3, 10, 12)
    v.copy_selection(2, 3, 10, 12)
    v.cells(v.standard_positions(rng, 6))
    v = View(m, a, 1, 2, [5, 0, 0])
    v.cells(v.standard_positions(rng, 6))
    v = View(m, a, 2, 1, [3, 0, 0])                    # a[3, :, :].T
    v.cells(v.standard_positions(rng, 8))
    v.title(129)
    v = View(m, a, 0, 2, [0, 77, 0])                   # a[:, 77, :]
    v.cells(v.standard_positions(rng, 6))
    v = View(m, a, 2, 0, [0, 129, 0])                  # a[:, 129, :].T
    v.cells(v.standard_positions(rng, 6))
    v = View(m, a, 1, 0, [0, 0, 39])                   # a[:, :, 39].T
    v.cells(v.standard_positions(rng, 6))
    v.copy(126, 3, 129, 5)


def case_int16_5d(m, rng, order):
    shape = (3, 4, 5, 70, 20) if order == 'C' else (2, 3, 70, 4, 20)
    a = rng.integers(-32768, 32768, size=shape, dtype='<i2')
    a.reshape(-1)[:2] = [-32768, 32767]
    a = np.asfortranarray(a) if order == 'F' else a
    name = 'i16-5d' if order == 'C' else 'i16-5d-fortran'
    np.save(m.path(name + '.npy'), a)
    m.emit('case', name)
    m.emit('file', name + '.npy', '-', '-')
    v = View(m, a)
    v.cells(v.standard_positions(rng, 6))
    if order == 'C':
        planes = [(3, 4, [2, 3, 4, 0, 0]), (3, 1, [1, 0, 2, 0, 19]), (0, 3, [0, 3, 1, 0, 7]),
                  (4, 2, [2, 1, 0, 69, 0])]
    else:
        planes = [(2, 0, [0, 2, 0, 3, 19]), (4, 2, [1, 1, 0, 2, 0]), (1, 3, [1, 0, 69, 0, 5])]
    for row_axis, col_axis, fixed in planes:
        v = View(m, a, row_axis, col_axis, fixed)
        v.cells(v.standard_positions(rng, 6))
        v.title(v.cols - 1)
    v.copy(0, 0, v.rows - 1, v.cols - 1)


def case_records(m, rng):
    dtype = np.dtype([('x', '<f8'),
                      ('a', [('b', '<i4'), ('c', '?')]),
                      ('y', '<f4', (3,)),
                      ('s', '<U5'),
                      ('m', '<i2', (2, 2)),
                      ('be', '>f8'),
                      ('p', [('u', '<u2'), ('v', '<f2')], (2,))])
    a = np.zeros((80, 6), dtype=dtype)
    a['x'] = float64_values(rng, (80, 6))
    a['a']['b'] = rng.integers(-2**31, 2**31, size=(80, 6), dtype='<i4')
    a['a']['c'] = rng.integers(0, 2, size=(80, 6)).astype(bool)
    a['y'] = rng.standard_normal((80, 6, 3)).astype('<f4')
    words = np.array(['', 'a', 'héllo', '日本語', 'x y', 'fünf!'])
    a['s'] = words[rng.integers(0, len(words), size=(80, 6))]
    a['m'] = rng.integers(-500, 500, size=(80, 6, 2, 2))
    a['be'] = rng.standard_normal((80, 6))
    a['p']['u'] = rng.integers(0, 2**16, size=(80, 6, 2))
    a['p']['v'] = rng.standard_normal((80, 6, 2)).astype('<f2')
    a[79, 5] = (np.nan, (-7, True), (0.1, -0.0, 1e-07), 'zz', [[1, 2], [3, 4]], -np.inf,
                [(65535, 0.1), (0, 65504.0)])
    np.save(m.path('records.npy'), a)
    m.emit('case', 'records')
    m.emit('file', 'records.npy', '-', '-')
    v = View(m, a)
    n = v.n_leaves
    # Every leaf of a few records, and the usual positions.
    for r, j in [(0, 0), (79, 5), (64, 1), (40, 3)]:
        v.cells([(r, j * n + k) for k in range(n)])
    v.cells(v.standard_positions(rng, 10))
    for col in (0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 3 * n + 4, v.cols - 1):
        v.title(col)
    v.copy(62, n - 3, 65, n + 3)

    # Padding between fields (numpy writes it as nameless void fields).
    aligned = np.dtype({'names': ['a', 'b', 'c'], 'formats': ['u1', '<f8', '<i2'],
                        'offsets': [0, 8, 16], 'itemsize': 24})
    b = np.zeros((70, 17), dtype=aligned)
    b['a'] = rng.integers(0, 256, size=(70, 17))
    b['b'] = float64_values(rng, (70, 17))
    b['c'] = rng.integers(-2**15, 2**15, size=(70, 17))
    np.save(m.path('records-aligned.npy'), b)
    m.emit('file', 'records-aligned.npy', '-', '-')
    v = View(m, b)
    v.cells(v.standard_positions(rng, 8))
    for col in (0, 1, 2, 3, v.cols - 1):
        v.title(col)

    # Records in Fortran order.
    f = np.asfortranarray(a[:70, :5])
    np.save(m.path('records-fortran.npy'), f)
    m.emit('file', 'records-fortran.npy', '-', '-')
    v = View(m, f)
    v.cells(v.standard_positions(rng, 8))
    v.copy(68, v.cols - 5, 69, v.cols - 1)


def case_complex(m, rng):
    a = (rng.standard_normal((70, 18)) * 10.0 ** rng.integers(-20, 20, size=(70, 18)) +
         1j * rng.standard_normal((70, 18)) * 10.0 ** rng.integers(-20, 20, size=(70, 18)))
    a = a.astype('<c16')
    plant(a, [(0, 0), (0, 1), (0, 2), (0, 3), (69, 17), (64, 16), (1, 0), (1, 1)],
          [1 + 2j, complex(-0.0, -0.0), complex(np.nan, np.nan), complex(np.inf, -np.inf),
           complex(0.1, 1e-07), complex(1e-300, 1e300), 1j, complex(-2.5, np.nan)])
    np.save(m.path('complex.npy'), a)
    m.emit('case', 'complex128')
    m.emit('file', 'complex.npy', '-', '-')
    v = View(m, a)
    v.cells([(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1)])
    v.cells(v.standard_positions(rng, 10))
    v.copy(0, 0, 1, 3)

    c = (rng.standard_normal((70, 18)) + 1j * rng.standard_normal((70, 18))).astype('>c8')
    plant(c, [(0, 0), (0, 1), (69, 17)], [complex(0.1, 0.2), complex(3.4028235e38, -1e-45),
                                          complex(np.nan, -0.0)])
    np.save(m.path('complex64-be.npy'), c)
    m.emit('file', 'complex64-be.npy', '-', '-')
    v = View(m, c)
    v.cells([(0, 0), (0, 1)])
    v.cells(v.standard_positions(rng, 8))


def case_datetime(m, rng):
    a = rng.integers(-2 * 10**10, 10**11, size=(70, 18)).astype('<M8[s]')
    plant(a, [(0, 0), (0, 1), (0, 2), (0, 3), (69, 17), (64, 16), (1, 5)],
          [np.datetime64('2024-01-02T03:04:05'), np.datetime64('NaT'),
           np.datetime64('1969-12-31T23:59:59'), np.datetime64('1600-02-29T00:00:00'),
           np.datetime64('9999-12-31T23:59:59'), np.datetime64('NaT'),
           np.datetime64('-0001-01-01T00:00:00')])
    np.save(m.path('datetime.npy'), a)
    m.emit('case', 'datetime64-s')
    m.emit('file', 'datetime.npy', '-', '-')
    v = View(m, a)
    v.cells([(0, 0), (0, 1), (0, 2), (0, 3), (1, 5)])
    v.cells(v.standard_positions(rng, 10))
    v.copy(0, 0, 2, 3)

    for unit, dtype, span in (('D', '<M8[D]', 10**6), ('ms', '>M8[ms]', 10**14),
                              ('ns', '<M8[ns]', 2**62), ('m', '<M8[m]', 10**9)):
        d = rng.integers(-span, span, size=(70, 17)).astype(dtype)
        d[0, 0] = np.datetime64('NaT')
        d[69, 16] = np.datetime64('2000-02-29T12:34:56.789012345').astype(dtype)
        name = f'datetime-{unit}.npy'
        np.save(m.path(name), d)
        m.emit('file', name, '-', '-')
        v = View(m, d)
        v.cells(v.standard_positions(rng, 4))


def case_strings(m, rng):
    words = np.array(['', 'a', 'héllo wörld', '日本語', '🙂 smile', 'tab\there',
                      'say "hi"', 'line\nbreak', '  padded', 'x' * 12])
    a = words[rng.integers(0, len(words), size=(70, 17))].astype('<U12')
    plant(a, [(0, c) for c in range(len(words))], words)
    plant(a, [(69, 16), (64, 16)], ['the end', 'ünïcödé'])
    np.save(m.path('unicode.npy'), a)
    m.emit('case', 'unicode')
    m.emit('file', 'unicode.npy', '-', '-')
    v = View(m, a)
    v.cells([(0, c) for c in range(len(words))])
    v.cells(v.standard_positions(rng, 8))
    v.copy(0, 0, 1, 9)            # tabs, quotes and line breaks quoted

    raw = [b'', b'a', b'\x00ab', b'ab\x00c', b'\xff\xfe', b"it's", b'"q"', b'\'"',
           b'\t\n\\', b'six ch']
    b = np.array(raw * 119, dtype='S6')[:70 * 17].reshape(70, 17)
    plant(b, [(0, c) for c in range(len(raw))], raw)
    plant(b, [(69, 16)], [b'end'])
    np.save(m.path('bytes.npy'), b)
    m.emit('case', 'bytes')
    m.emit('file', 'bytes.npy', '-', '-')
    v = View(m, b)
    v.cells([(0, c) for c in range(len(raw))])
    v.cells(v.standard_positions(rng, 8))
    v.copy(0, 0, 0, 9)


def case_ints_bools(m, rng):
    a = rng.integers(-2**63, 2**63 - 1, size=(70, 17), dtype='<i8')
    plant(a, [(0, 0), (0, 1), (69, 16)], [-2**63, 2**63 - 1, 0])
    np.save(m.path('int64.npy'), a)
    m.emit('case', 'int64')
    m.emit('file', 'int64.npy', '-', '-')
    v = View(m, a)
    v.cells(v.standard_positions(rng, 6))
    v.cells([(0, 1)])

    u = rng.integers(0, 2**64, size=(70, 17), dtype='<u8')
    u[0, 0] = 2**64 - 1
    b = rng.integers(0, 2, size=(70, 17)).astype('?')
    np.savez(m.path('stored.npz'), u=u, b=b)    # stored, not compressed
    m.emit('case', 'uint64-bool-npz')
    m.emit('file', 'stored.npz', 'u', '-')
    v = View(m, u)
    v.cells(v.standard_positions(rng, 4))
    m.emit('file', 'stored.npz', 'b', '-')
    v = View(m, b)
    v.cells(v.standard_positions(rng, 4))
    v.copy(0, 0, 3, 16)


def case_1d_0d(m, rng):
    a = float64_values(rng, (1000,))
    np.save(m.path('1d.npy'), a)
    m.emit('case', '1d-0d')
    m.emit('file', '1d.npy', '-', '-')
    m.emit('plane', 'default')
    m.emit('shape', 1000, 1)
    for r in (0, 63, 64, 500, 999):
        m.emit('cell', r, 0, cell_text(a[r]))
    m.emit('title', 0, '0')
    z = np.array(complex(-1.5, 2.25), dtype='<c16')
    np.save(m.path('0d.npy'), z)
    m.emit('file', '0d.npy', '-', '-')
    m.emit('plane', 'default')
    m.emit('shape', 1, 1)
    m.emit('cell', 0, 0, cell_text(z[()]))


def case_compressed(m, rng):
    vals = float64_values(rng, (3000, 40))
    vals[2999, 39] = 0.1
    ints = np.arange(7 * 5 * 9, dtype='<i4').reshape(7, 5, 9) * -3
    np.savez_compressed(m.path('compressed.npz'), vals=vals, ints=ints)
    m.emit('case', 'npz-compressed')
    m.emit('file', 'compressed.npz', 'vals', 'index')
    v = View(m, vals)
    v.cells(v.standard_positions(rng, 12))
    v.cells([(2999, 39), (2998, 38), (1500, 0)])
    v.copy(2990, 35, 2999, 39)
    m.emit('file', 'compressed.npz', 'ints', 'index')
    v = View(m, ints, 0, 1, [0, 0, 8])
    v.cells([(r, c) for r in range(7) for c in range(5)])


def case_big_sparse(m):
    path = m.path('big.npy')
    with open(path, 'wb') as fp:
        np.lib.format.write_array_header_1_0(
            fp, {'descr': '<f8', 'fortran_order': False, 'shape': (BIG_ROWS, 3)})
        offset = fp.tell()
        fp.truncate(offset + BIG_ROWS * 3 * 8)
    # A few known rows: the start, around 2**31, and the end.
    mm = np.memmap(path, dtype='<f8', mode='r+', offset=offset, shape=(BIG_ROWS, 3))
    known = [0, 1, 2**31 - 1, 2**31, 2**31 + 1] + list(range(BIG_ROWS - 6, BIG_ROWS))
    for r in known:
        mm[r] = [r + 0.5, -1.0 / (r + 1), float(r) * 1e-300]
    mm[BIG_ROWS - 1, 2] = -0.0
    mm.flush()
    del mm

    a = np.load(path, mmap_mode='r')
    assert a.shape == (BIG_ROWS, 3)
    m.emit('case', 'big-sparse')
    m.emit('file', 'big.npy', '-', '-')
    v = View(m, a)
    last = BIG_ROWS - 1
    v.cells([(last, 0), (last, 1), (last, 2)])
    m.emit('at-end')
    v.cells([(last - k, c) for k in range(1, 6) for c in range(3)])
    v.cells([(last - 6, 0), (last - 100, 2)])             # zeros: never written
    v.cells([(r, c) for r in (2**31 - 1, 2**31, 2**31 + 1) for c in range(3)])
    v.cells([(2**31 + 2, 1), (0, 0), (1, 2), (2**30, 1)])
    v.cells([(last, 2)])
    m.emit('at-end')
    v.title(2)
    v.copy(last - 5, 0, last, 2)
    v.copy(2**31 + 1, 2, 2**31 - 1, 0)
    m.emit('select-all')
    m.emit('copy-error', 'too-large')

    # Transposed: 2**31 + 10 columns.
    v = View(m, a, 1, 0, [0, 0])
    v.cells([(c, last) for c in range(3)])
    m.emit('at-right')
    v.cells([(2, 2**31), (1, 2**31 - 1), (0, 0), (2, last - 3)])
    for col in (last, 2**31, 2**31 - 1):
        v.title(col)
    v.copy(0, last - 20, 2, last)


def write_slow(m):
    """A deflated member whose rows are far apart in it: slow tiles."""
    slow = np.zeros((4, SLOW_COLS), dtype='<f8')
    slow[3, -4:] = [1.0, 2.0, 3.0, 4.0]
    np.savez_compressed(m.path('slow.npz'), slow=slow)


def main():
    directory, stamp = sys.argv[1], sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith('.tsv'):
            os.remove(os.path.join(directory, name))
    rng = np.random.default_rng(20240505)
    m = Manifest(directory)

    case_float64(m, rng, 'f64-c', 'C')
    case_float64(m, rng, 'f64-fortran', 'F')
    case_big_endian(m, rng)
    case_float_kinds(m, rng)
    case_float32_3d(m, rng)
    case_int16_5d(m, rng, 'C')
    case_int16_5d(m, rng, 'F')
    case_records(m, rng)
    case_complex(m, rng)
    case_datetime(m, rng)
    case_strings(m, rng)
    case_ints_bools(m, rng)
    case_1d_0d(m, rng)
    case_compressed(m, rng)
    case_big_sparse(m)
    write_slow(m)

    m.write()
    open(stamp, 'w').close()


if __name__ == '__main__':
    main()
