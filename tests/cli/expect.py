# SPDX-License-Identifier: GPL-3.0-or-later
"""What npyview-cli must answer, computed from numpy.

Nothing here is typed in: every expected value comes from np.load, numpy's
header reader, np.save and numpy's scalar repr()/str().
"""

import io
import json
import math
import warnings

import numpy as np

import corpus

# --------------------------------------------------------------------------
# info


def read_header(path):
    """(version string, shape, fortran_order, dtype, data_offset) as numpy's
    own header reader sees them."""
    fmt = np.lib.format
    with open(path, 'rb') as f:
        major, minor = fmt.read_magic(f)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            if (major, minor) == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(
                    f, max_header_size=corpus.BIG_HEADER)
            elif (major, minor) == (2, 0):
                shape, fortran, dtype = fmt.read_array_header_2_0(
                    f, max_header_size=corpus.BIG_HEADER)
            else:
                shape, fortran, dtype = fmt._read_array_header(
                    f, (major, minor), max_header_size=corpus.BIG_HEADER)
        offset = f.tell()
    return f'{major}.{minor}', shape, fortran, dtype, offset


def dtype_json(dt):
    """dtype.str, or dtype.descr as nested JSON arrays for structured."""
    if dt.names is None:
        return dt.str
    return json.loads(json.dumps(dt.descr))


def info_expected(path):
    version, shape, fortran, dtype, offset = read_header(path)
    arr = corpus.load(path, mmap=True)
    if arr.dtype != dtype or arr.shape != tuple(shape):
        raise AssertionError(f'{path}: np.load and the header reader disagree')
    return {
        'path': path,
        'format': 'npy',
        'members': [{
            'name': '',
            'dtype': dtype_json(arr.dtype),
            'shape': list(arr.shape),
            'fortran_order': bool(fortran),
            'version': version,
            'data_offset': offset,
            'nbytes': int(arr.nbytes),
        }],
    }


# --------------------------------------------------------------------------
# --slice and --field


class _Index:
    def __getitem__(self, key):
        return key


def parse_index(expr):
    """The index tuple numpy builds for a[EXPR]."""
    if expr.strip() == '':
        return ()
    key = eval(f'_I[{expr}]', {'__builtins__': {}}, {'_I': _Index()})
    return key if isinstance(key, tuple) else (key,)


def select(arr, expr='', field=None):
    """np.load(FILE)[FIELD][EXPR] as an array.

    numpy's a[0] on a 1-D array gives a scalar, and np.save of a str_ or
    bytes_ scalar would shrink the dtype to the scalar's own length ('U5'
    becomes 'U2'). The CLI's --slice keeps the dtype, which is numpy's 0-d
    view a[0, ...]: that is what we compare with.
    """
    view = arr
    if field is not None:
        for part in field.split('.'):
            view = view[part]
    idx = parse_index(expr)
    if not any(i is Ellipsis for i in idx):
        idx = idx + (Ellipsis,)
    out = view[idx]
    assert isinstance(out, np.ndarray), (expr, field, type(out))
    return out


def try_select(arr, expr='', field=None):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error')   # numpy's deprecations are errors
            return select(arr, expr, field)
    except (IndexError, ValueError, TypeError, DeprecationWarning):
        return None


def slices_for(shape, kind):
    """Slice expressions for a result of this shape; kind 'npy' or 'csv'.

    For 'csv' only expressions whose result has at most two dimensions.
    Expressions numpy itself rejects for this shape are dropped by the
    caller (try_select)."""
    n = len(shape)
    if n == 0:
        return ['', '...']
    if n == 1:
        if kind == 'npy':
            return ['', '0', '-1', '::-1', '1::2', ':-1', '...', '4:0:-2',
                    '-100:100:3', '::-7', '3:1']
        return ['', '::-1', '-1', '1::2']
    if kind == 'npy':
        # ':, 1:' and '..., 1:' keep Fortran-ordered data Fortran-contiguous
        # (np.save then writes fortran_order True); '2:3' gives a length-1
        # axis, whose stride numpy ignores when it decides contiguity.
        out = ['', '0', '-1', '::2, 1:', '..., 0', '1, ::-1', ':, ::-1',
               '-1, -1', '1:', ':, 1:', '..., 1:', '2:3', '::100, -100:']
        if n >= 3:
            out += ['::-1, ..., 1:', ', '.join(['0'] * (n - 1)),
                    '1, :, ' + ', '.join(['-1'] * (n - 2))]
        return out
    if n == 2:
        return ['', '::2, 1:', '..., 0', '-1, -1', '1, ::-1']
    return [', '.join(['0'] * (n - 2)),
            ', '.join(['-1'] * (n - 1)),
            '..., ' + ', '.join(['::-1'] + ['1'] * (n - 2)),
            ', '.join(['1'] * n)]


# --------------------------------------------------------------------------
# .npy export


def npy_bytes(arr):
    """What np.save writes for arr."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def describe_npy_diff(exp, got):
    """One line saying where two .npy byte strings differ."""
    def split(b):
        if len(b) < 10 or not b.startswith(corpus.MAGIC):
            return None, b
        if b[6] == 1:
            n = 10 + int.from_bytes(b[8:10], 'little')
        else:
            n = 12 + int.from_bytes(b[8:12], 'little')
        return b[:n], b[n:]
    eh, ed = split(exp)
    gh, gd = split(got)
    if eh != gh:
        return f'header differs: expected {eh!r} got {gh!r}'
    if len(ed) != len(gd):
        return (f'data size differs: expected {len(ed)} bytes, got '
                f'{len(gd)} bytes')
    k = next((i for i in range(len(ed)) if ed[i] != gd[i]), None)
    if k is None:
        return 'identical'
    return (f'data differs from byte {k} of {len(ed)}: expected '
            f'{ed[k:k + 16].hex()} got {gd[k:k + 16].hex()}')


# --------------------------------------------------------------------------
# CSV / TSV export


class CsvUnsupported(Exception):
    """The contract says nothing about how to write this array as CSV."""


def cell_text(x, dt):
    """The text of one element: numpy's repr/str of the scalar."""
    k = dt.kind
    if k == 'b':
        return 'True' if x else 'False'
    if k in 'iu':
        return str(int(x))
    if k in 'fc':
        return repr(x)
    if k in 'Mm':
        return str(x)
    if k == 'U':
        return str(x)
    if k == 'S':
        return repr(bytes(x))
    if k == 'V':
        return str(x)
    raise CsvUnsupported(f'dtype {dt}')


def quote(text, delim):
    if any(c in text for c in (delim, '"', '\r', '\n')):
        return '"' + text.replace('"', '""') + '"'
    return text


def struct_leaves(dt, path=()):
    """(path, leaf dtype, subarray shape) for every leaf field, in the
    order of dt.names; padding is not a field once numpy has read it."""
    out = []
    for name in dt.names:
        fdt = dt.fields[name][0]
        sub = ()
        if fdt.subdtype is not None:
            fdt, sub = fdt.subdtype
            if fdt.names is not None:
                raise CsvUnsupported(
                    f'field {".".join(path + (name,))!r} is a subarray of '
                    'records')
        if fdt.names is not None:
            out += struct_leaves(fdt, path + (name,))
        else:
            out.append((path + (name,), fdt, sub))
    return out


def _index_name(name, idx):
    if not idx:
        return name
    return name + '[' + ','.join(str(i) for i in idx) + ']'


def csv_table(arr):
    """(header or None, rows) where each row is a list of (text, dtype,
    value); arr has at most two dimensions."""
    if arr.ndim > 2:
        raise ValueError('more than 2 dimensions')
    dt = arr.dtype
    if dt.names is None:
        if arr.ndim == 0:
            idxs = [[()]]
        elif arr.ndim == 1:
            idxs = [[(i,)] for i in range(arr.shape[0])]
        else:
            idxs = [[(i, j) for j in range(arr.shape[1])]
                    for i in range(arr.shape[0])]
        rows = []
        for row in idxs:
            cells = []
            for i in row:
                x = arr[i]
                cells.append((cell_text(x, dt), dt, x))
            rows.append(cells)
        return None, rows
    leaves = struct_leaves(dt)
    leaf_arrays = []
    for path, ldt, sub in leaves:
        v = arr
        for p in path:
            v = v[p]
        leaf_arrays.append((path, ldt, sub, v))
    cols = arr.shape[1] if arr.ndim == 2 else None
    header = []
    for j in (range(cols) if cols is not None else [None]):
        for path, ldt, sub, _ in leaf_arrays:
            for s in np.ndindex(*sub):
                idx = ((j,) if j is not None else ()) + s
                header.append(_index_name('.'.join(path), idx))
    if arr.ndim == 0:
        row_idx = [[()]]
    elif arr.ndim == 1:
        row_idx = [[(i,)] for i in range(arr.shape[0])]
    else:
        row_idx = [[(i, j) for j in range(cols)] for i in range(arr.shape[0])]
    rows = []
    for cells_idx in row_idx:
        cells = []
        for i in cells_idx:
            for path, ldt, sub, v in leaf_arrays:
                for s in np.ndindex(*sub):
                    x = v[i + s]
                    cells.append((cell_text(x, ldt), ldt, x))
        rows.append(cells)
    return header, rows


def csv_text(arr, delim=','):
    header, rows = csv_table(arr)
    lines = []
    if header is not None:
        lines.append(delim.join(quote(h, delim) for h in header) + '\n')
    for row in rows:
        lines.append(delim.join(quote(t, delim) for t, _, _ in row) + '\n')
    return ''.join(lines), header, rows


def parse_csv(text, delim=','):
    """RFC 4180 rows (each line ends with '\\n'); None if malformed."""
    rows, row, cell = [], [], []
    i, n = 0, len(text)
    at_start = True
    while i < n:
        c = text[i]
        if at_start and c == '"':
            i += 1
            while True:
                if i >= n:
                    return None
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        cell.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                cell.append(text[i])
                i += 1
            at_start = False
            continue
        if c == delim:
            row.append(''.join(cell))
            cell = []
            at_start = True
        elif c == '\n':
            row.append(''.join(cell))
            rows.append(row)
            row, cell = [], []
            at_start = True
        else:
            cell.append(c)
            at_start = False
        i += 1
    if cell or row:
        return None                     # no final newline
    return rows


_PART = {'c8': np.float32, 'c16': np.float64, 'c32': np.longdouble}


def _parse_complex(text, part):
    t = text
    if t.startswith('(') and t.endswith(')'):
        t = t[1:-1]
    if not t.endswith('j'):
        raise ValueError(text)
    t = t[:-1]
    split = None
    for k in range(len(t) - 1, 0, -1):
        if t[k] in '+-' and t[k - 1] not in 'eE':
            split = k
            break
    if split is None:                     # only an imaginary part: '1j'
        return part(0), part(t)
    return part(t[:split]), part(t[split:])


def _same_float(a, b):
    if np.isnan(a) and np.isnan(b):
        return True
    return bool(a == b) and bool(np.signbit(a) == np.signbit(b))


def roundtrip_problems(got_rows, exp_rows, header):
    """Parse the float and complex cells the CLI wrote back with numpy and
    compare them bit-exact with the values (NaN equals NaN). Returns a list
    of problem strings (at most a few)."""
    with warnings.catch_warnings(), np.errstate(all='ignore'):
        warnings.simplefilter('ignore')
        return _roundtrip_problems(got_rows, exp_rows, header)


def _roundtrip_problems(got_rows, exp_rows, header):
    probs = []
    body = got_rows[1:] if header is not None else got_rows
    if len(body) != len(exp_rows):
        return probs
    for r, (grow, erow) in enumerate(zip(body, exp_rows)):
        if len(grow) != len(erow):
            continue
        for c, (text, (_, dt, x)) in enumerate(zip(grow, erow)):
            if dt.kind not in 'fc':
                continue
            try:
                if dt.kind == 'f':
                    y = dt.newbyteorder('=').type(text)
                    ok = _same_float(y, x)
                else:
                    part = _PART[dt.str[1:]]
                    re_, im_ = _parse_complex(text, part)
                    ok = (_same_float(re_, part(x.real))
                          and _same_float(im_, part(x.imag)))
            except (ValueError, OverflowError, KeyError):
                ok = False
            if not ok:
                probs.append(f'row {r} column {c}: {text!r} does not read '
                             f'back as {dt.str} {cell_text(x, dt)}')
                if len(probs) >= 3:
                    return probs
    return probs


def first_text_diff(exp, got):
    """One line: the first line where two texts differ."""
    el = exp.split('\n')
    gl = got.split('\n')
    for k in range(max(len(el), len(gl))):
        e = el[k] if k < len(el) else '<end of text>'
        g = gl[k] if k < len(gl) else '<end of text>'
        if e != g:
            return (f'line {k + 1} ({len(el) - 1} lines expected, '
                    f'{len(gl) - 1} got): expected {trunc(e)!r} got '
                    f'{trunc(g)!r}')
    return 'texts differ'


def trunc(s, n=160):
    return s if len(s) <= n else s[:n] + '…'


# --------------------------------------------------------------------------
# stats


def stats_expected(arr):
    """count, min, max, mean, std, nan_count, inf_count as numpy gives them.

    mean and std are np.nanmean / np.nanstd of the values as float64. For
    float64, integer and bool input that is exactly np.nanstd(a,
    dtype=np.float64). For float16/float32 input it is not: numpy 1.24's
    nanvar (lib/nanfunctions.py) sums in float64 but then stores the
    deviations back into the input array, `np.subtract(arr, avg, out=arr,
    casting='unsafe')`, and squares them there: in float32 that costs ~1e-8
    relative, in float16 it is far off and overflows to inf once a deviation
    passes 256. dtype=float64 is documented as the type the variance is
    computed in, so we compute that.
    """
    a = np.asarray(arr)
    if a.dtype.kind in 'biu':
        a = a.astype(np.float64)
    with warnings.catch_warnings(), np.errstate(all='ignore'):
        warnings.simplefilter('ignore')
        count = int(a.size)
        nan_count = int(np.isnan(a).sum())
        inf_count = int(np.isinf(a).sum())
        if count - nan_count == 0:
            mn = mx = math.nan
        else:
            mn = np.nanmin(a)
            mx = np.nanmax(a)
        a64 = a.astype(np.float64)
        mean = np.nanmean(a64, dtype=np.float64) if count else math.nan
        std = np.nanstd(a64, dtype=np.float64) if count else math.nan
    return {'count': count, 'min': mn, 'max': mx, 'mean': mean, 'std': std,
            'nan_count': nan_count, 'inf_count': inf_count}
