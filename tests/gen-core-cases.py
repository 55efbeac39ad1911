#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the cases of tests/test-core.c, with every expected value computed
by Python and numpy at test time (nothing expected is typed in here: only
the inputs are).

Usage: gen-core-cases.py OUTPUT

The output is one case per line, fields separated by tabs. The first field
names the group; free text (inputs, reprs, names) is hex-encoded UTF-8 (or
raw bytes) so that tabs, newlines and NUL bytes survive; "-" stands for an
empty list or "not applicable". Lists are comma-separated; in lists of
strings "=" is the empty string and "~" is None.

  LV   input flags kind repr ints            literal that Python accepts
  LI   input flags why                       literal that must be refused
  DS   spelling OK str itemsize | ERR        numpy.dtype(spelling)
  DR   descr repr itemsize names titles offsets
  DRE  descr                                 descrs numpy refuses
  HB   descr shape fortran header major OK|TOO_LARGE   numpy's header
  HP   bytes OK descr shape fortran major offset | ERR
  IX   dtype shape order expr shape strides offset c f
                     ("a][b" in expr is the chain arr[a][b])
  IXE  dtype shape order expr parse|apply|any
  FS   descr shape order pre path post OK descr shape strides offset c f
       | ... ERR                          arr[pre][path...][post]
"""

import ast
import io
import sys
import warnings

import numpy as np
from numpy.lib import format as npformat

warnings.simplefilter('ignore')

INT64_MIN = -2 ** 63
INT64_MAX = 2 ** 63 - 1

out_lines = []


def hx(data):
    if isinstance(data, str):
        data = data.encode('utf-8', 'surrogatepass')
    return data.hex() if data else '-'


def ints(values):
    values = list(values)
    return ','.join(str(int(v)) for v in values) if values else '-'


def emit(*fields):
    text = '\t'.join(str(f) for f in fields)
    assert '\n' not in text
    out_lines.append(text)


# ---------------------------------------------------------------------------
# 1. Python literals

def python_literal(data, long_suffix):
    """What numpy's header reader makes of @data, or raises."""
    text = data.decode('utf-8')  # invalid UTF-8 raises: not a literal
    if long_suffix:
        # numpy applies this to 1.0 and 2.0 headers
        text = npformat._filter_header(text)
    return ast.literal_eval(text)


def has_big(value):
    if type(value) is int:
        return not (INT64_MIN <= value <= INT64_MAX)
    if isinstance(value, (tuple, list)):
        return any(has_big(v) for v in value)
    if isinstance(value, dict):
        return any(has_big(k) or has_big(v) for k, v in value.items())
    return False


def int_walk(value):
    """The ints of @value in the order the core stores them (dicts: key,
    value, key, value), big ones as "big" or "-big"."""
    if type(value) is int:
        if INT64_MIN <= value <= INT64_MAX:
            yield str(value)
        else:
            yield 'big' if value > 0 else '-big'
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from int_walk(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from int_walk(k)
            yield from int_walk(v)


KIND_NAMES = {type(None): 'None', bool: 'bool', int: 'int', float: 'float',
              str: 'str', bytes: 'bytes', tuple: 'tuple', list: 'list',
              dict: 'dict'}

LITERAL_VALID = [
    # header-like dicts
    "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)}",
    "{'descr':'<f8','fortran_order':True,'shape':()}",
    "{\n  'descr': '<f8',\n  'fortran_order': False,\n  'shape': (3,),\n}\n",
    "{'descr': [('x', '<i4'), ('', '|V4'), ('y', '>f8', (2, 3))], 'fortran_order': False, 'shape': (10,), }" + ' ' * 40 + '\n',
    "{'descr': '<f8', # a comment\n 'shape': (1, 2)}",
    "{'a':\r\n 1}\r\n",
    "  {'a': 1}  \n",
    "\t{'a': 1}\t\n\n",
    "\n\n{'a': 1}",
    "[1, \\\n 2]",
    "{1: 'a', 'b': 2, (1, 2): None, None: [], 'c': True}",
    "{'a': {'b': {'c': []}}}",
    "{}", "()", "[]", "(1,)", "(1)", "((1))", "(((),),)",
    "((1, 2), [3, (4,)], [], ())",
    "[[[[]]]]",
    "[1, 2, 3,]", "(1, 2,)", "[ 1 , 2 ]", "( 1 , )",
    "[" * 30 + "]" * 30,
    "(" * 30 + "1," + ")" * 30,
    # strings
    "'abc'", '"abc"', "''", '""',
    "'it\\'s'", '"it\'s"', '"say \\"hi\\""', "'say \"hi\"'", "'both \\' and \"'",
    "'a\\nb'", "'tab\\there\\r'", "'\\a\\b\\f\\v'",
    "'\\x41\\x7f\\x80\\x9f\\xa0\\xad\\xe9\\xff'",
    "'\\u00e9\\u4e2d\\u200b\\ue000\\uffff'", "'\\U0001F600\\U0010ffff'",
    "u'abc'", "U'x'", "u\"y\"",
    "'\\\\'", "'\\0'", "'\\101\\7'", "'\\777'", "'\\q'", "'\\8'",
    "'a\\\nb'",
    "r'a\\nb'", "R'\\x41'", "r'\\''",
    "'''triple'''", '"""tri"ple"""', "'''a\nb'''",
    "'é'", "'中文'", "'😀'", "'\\x00'", "'ñ\\xf1'",
    "b'abc'", "B'x'", "b''", "b'\\x00\\x7f\\xff'", "b'\\xc3\\xa9'", "b'\\n\\t\\\\'",
    "b'it\\'s'", "rb'\\x'", "bR'a\\nb'", "b'\\u1234'",
    # numbers
    "0", "-1", "+5", "- 7", "00", "0_0", "42",
    "9223372036854775807", "-9223372036854775807", "-9223372036854775808",
    "9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616",
    "123456789012345678901234567890", "-123456789012345678901234567890",
    "(1, 123456789012345678901234567890, -5, -99999999999999999999999)",
    "{'shape': (10000000000000000000000, 2)}",
    "0x7f", "0X7F", "0o17", "0O17", "0b101", "0B101", "0x_1", "1_000_000",
    "0xffffffffffffffff", "0x8000000000000000", "-0x8000000000000000",
    "1.5", "-0.25", "[1.5, 2.0]",
    # names
    "True", "False", "None", "[True, False, None]",
    "(True,)",
    # Python 2 long suffixes, as numpy filters them from 1.0/2.0 headers
    ("2L", 1), ("(3L, 4L)", 1), ("{'shape': (10L,), 'fortran_order': False}", 1),
    ("-5L", 1), ("123456789012345678901234567890L", 1),
]

LITERAL_INVALID = [
    "'abc", '"abc', "'''abc''", "'a\nb'", "'abc\\", "b'abc", "'", '"',
    "{'a': 1} x", "{'a': 1}}", "1 2", "'a' b", "[1] [2]",
    "os.system('ls')", "os.system", "__import__('os')", "len([])",
    "{'a': f(1)}", "exec", "abc", "true", "none", "NaN", "inf",
    "[1, 2", "(1, 2", "{'a': 1", "{'a' 1}", "{'a': }", "{: 1}",
    "[,]", "(,)", "[1,,2]", "{,}", "{'a': 1,,}", "[1 2]", "(1 2)",
    "", "   ", "\n", "# only a comment",
    "'a\x00b'", "{'a': 1}\x00", "\x00", "1\x00", "\x00{}", "[1,\x002]",
    "2L", "(3L, 4L)", "{'shape': (10L,)}",
    "'\\x4'", "'\\xg0'", "'\\u12'", "'\\U0000001'", "'\\U00110000'",
    "b'é'", "1é", "[1 é]", "(1, é)",
    "x" * 39 + "é", "é" * 30, "\xff", "'\xff'", "[\xfe]",
    "1+2", "1 - 2", "--1", "+-1", "-'a'", "-[1]", "-", "+",
    "007", "1__0", "1_", "0x", "0b2", "0o8", "1.2.3", ".", "1e", "e5",
    "[*a]", "lambda: 0", "f'x'", "ur'x'", "bu'x'",
    "[" * 100 + "]" * 100,
    "(" * 100 + ")" * 100,
    "{'a': " * 100 + "1" + "}" * 100,
]

# Refused by the core though Python accepts them: nesting is bounded.
CORE_LIMITS = {
    "[" * 100 + "]" * 100,
    "(" * 100 + ")" * 100,
    "{'a': " * 100 + "1" + "}" * 100,
}


def gen_literals():
    for case in LITERAL_VALID:
        text, flags = case if isinstance(case, tuple) else (case, 0)
        data = text.encode('utf-8')
        value = python_literal(data, flags & 1)
        kind = KIND_NAMES[type(value)]
        expected_repr = '-' if has_big(value) else hx(repr(value))
        emit('LV', hx(data), flags, kind, expected_repr, ','.join(int_walk(value)) or '-')

    for case in LITERAL_INVALID:
        text, flags = case if isinstance(case, tuple) else (case, 0)
        data = text.encode('utf-8', 'surrogateescape') if isinstance(text, str) else text
        if text in ("\xff", "'\xff'", "[\xfe]"):
            data = text.encode('latin-1')  # bytes that are not UTF-8
        if text not in CORE_LIMITS:
            try:
                value = python_literal(data, flags & 1)
            except Exception:
                pass
            else:
                raise SystemExit(f'gen-core-cases: Python accepts the invalid literal {text!r} as {value!r}')
            why = 'python-rejects'
        else:
            python_literal(data, flags & 1)  # Python accepts it; the core must not
            why = 'nesting-limit'
        emit('LI', hx(data), flags, why)


# ---------------------------------------------------------------------------
# 2. dtypes

TIME_UNITS = ['Y', 'M', 'W', 'D', 'h', 'm', 's', 'ms', 'us', 'ns', 'ps', 'fs', 'as']

DTYPE_SPELLINGS = [
    'f8', '=f8', '<f8', '>f8', '|f8', '!f8', 'float64', '?', 'd', 'b', 'B',
    'h', 'H', 'i', 'I', 'l', 'L', 'q', 'Q', 'p', 'P', 'e', 'f', 'g', 'F', 'D',
    'G', 'c', 'S', 'S0', 'S1', 'S255', 'a', 'a5', 'a0', 'U', 'U0', 'U3', '>U3',
    '<U3', '|U3', '=U1', 'V', 'V0', 'V8', '>V3', 'O', 'O8', 'O4', '>O', '|O',
    'M', 'm', 'M8', 'm8', 'M8[ns]', 'm8[10s]', '>M8[D]', '<m8[7D]', '|M8',
    'M8[generic]', 'M8[1s]', 'M8[3M]', 'M8[2W]', 'M8[25ms]',
    'M8[2147483647s]', 'm8[1000000as]',
    'datetime64', 'timedelta64', 'datetime64[D]', 'timedelta64[ps]',
    'datetime64[generic]', '<datetime64[ns]', '>timedelta64',
    'int', 'float', 'complex', 'bool', 'str', 'bytes', 'object', 'void',
    'longdouble', 'clongdouble', 'half', 'single', 'double', 'intp', 'uintp',
    'uint', 'int_', 'float_', 'complex_', 'bool_', 'bool8', 'str_', 'bytes_',
    'unicode', 'unicode_', 'string_', 'object_', 'int0', 'uint0',
    'object0', 'void0', 'bytes0', 'str0',
    'byte', 'ubyte', 'short', 'ushort', 'intc', 'uintc', 'long', 'ulong',
    'longlong', 'ulonglong', 'longfloat', 'csingle', 'singlecomplex',
    'cdouble', 'cfloat', 'clongfloat', 'longcomplex',
    'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
    'float16', 'float32', 'float64', 'float128',
    'complex64', 'complex128', 'complex256',
    'b1', '<b1', '>b1', 'i1', '>i1', '<u1', 'i2', '>i2', 'i4', 'i8', 'u2',
    'u4', '>u8', 'f2', '>f2', 'f4', 'f16', '>f16', 'c8', '>c8', 'c16', 'c32',
    '<?', '>?', '>b', '>c', '>a5', '<S3', '>S3',
] + [f'M8[{u}]' for u in TIME_UNITS] + [f'<m8[{u}]' for u in TIME_UNITS] \
  + [f'>M8[10{u}]' for u in TIME_UNITS] + [f'datetime64[{u}]' for u in TIME_UNITS] \
  + [f'timedelta64[{u}]' for u in TIME_UNITS] + [
    # numpy refuses these
    'f3', 'i3', 'u3', 'x', 'M8[xx]', 'u', '', '<', '>', 'b2', 'e2', 'f1',
    'c1', 'c4', 'i16', 'O0', 'O2', 'M4', 'M16', 'm4', 'int128', 'float96',
    'complex192', 'Float64', 'Int8', 'UInt8', 'ff', 'i4i4', 'f8 ', ' f8',
    'M8[D', 'M8[D]x', 'M8[]', 'datetime64[]', 'M8[ns]x', 'float64[ns]',
    'int64[ns]', 'M8[2147483648s]', 'M8[-1s]', 'M8[ns', 'M8ns', 'datetime',
    'timedelta', 'é', 'ñ8', 'S8é', 'int64x', 'f8[ns]', 'U3[D]',
    '>float64', '<int', '=double', '|bool', '>datetime64[ns]',
]


def gen_dtype_strings():
    for spelling in dict.fromkeys(DTYPE_SPELLINGS):   # in order, once each
        try:
            dt = np.dtype(spelling)
        except Exception:
            emit('DS', hx(spelling), 'ERR')
            continue
        emit('DS', hx(spelling), 'OK', hx(dt.str), dt.itemsize)


def dtype_fields(dt):
    names = dt.names or ()
    titles, offsets = [], []
    for n in names:
        f = dt.fields[n]
        offsets.append(f[1])
        titles.append(f[2] if len(f) > 2 else None)
    return list(names), titles, offsets


def hex_list(items):
    if not items:
        return '-'
    return ','.join('~' if i is None else ('=' if i == '' else hx(i)) for i in items)


ALIGNED = repr(np.dtype('i1,i4,i1', align=True).descr)
ALIGNED2 = repr(np.dtype({'names': ['a', 'b', 'c'], 'formats': ['u1', '<f8', '<u2']}, align=True).descr)
NESTED_ALIGNED = repr(np.dtype([('h', 'u1'), ('s', np.dtype('i1,f8,i2', align=True))], align=True).descr)

DESCRS = [
    "'<f8'", "'>i4'", "'|b1'", "'<U3'", "'|S0'", "'|O'", "'<M8[ns]'", "'|V12'",
    "'f8'", "'float32'",
    "[('x', '<i4'), ('', '|V4'), ('y', '>f8', (2, 3)), (('title', 'z'), [('a', '|u1')])]",
    "[('x', '<i4'), ('y', '<f8')]",
    "[('x', '<i4'), ('', '|V4')]",           # trailing padding
    "[('', '|V4'), ('x', '<i4')]",           # leading padding
    "[('', '|V2'), ('', '|V3'), ('x', '|u1'), ('', '|V1')]",
    "[('', '|V4', (2,))]",                   # a padding subarray
    "[('x', '|V4'), ('', '|V4', (2,))]",
    "[('x', '|V4')]",                        # a named void field is a field
    "[('', '<i4')]",                         # numpy keeps non-void '' fields
    "[('', '<i4'), ('a', '<f8')]",
    "[('a', '<i4'), ('', '<f8')]",
    "[('', [('a', '|u1')])]",
    "[('', [('a', '|u1')]), ('b', '<i4')]",
    ALIGNED, ALIGNED2, NESTED_ALIGNED,
    "[(('title', 'z'), '<i4')]",
    "[(('t', 'a'), '<i4'), ('b', '<i4', (2,)), ('c', [('x', '<i4', (2,))], (2,))]",
    "[(('Überschrift', 'α'), '<f4'), ('β', '>u2')]",
    "[('a', [('b', [('c', [('d', '<i8')])]), ('e', '|u1')]), ('f', '>c16')]",
    "[('x', ('<i4', (2,)), (3,))]",
    "[('x', '<i4', 3)]",
    "[('x', '<i4', 1)]",
    "[('x', '<i4', ())]",
    "[('x', '<i4', (1,))]",
    "[('x', '<i4', (1, 1))]",
    "[('x', '<i4', (0,))]",
    "[('x', '<i4', (2, 0))]",
    "[('x', '<i4', [2, 3])]",
    "[('a', ('<i4', ()))]",
    "[['a', '<i4'], ['b', '>f2', [2]]]",
    "[]",
    "[('a.b', '<i4'), ('a', [('b', '<f8')])]",
    "[('u', '<U3'), ('s', '|S0'), ('d', '<M8[ns]'), ('t', '>m8[10s]'), ('o', '|O'), ('w', '<c32', (2, 2))]",
    "[('it\\'s', '<i4'), ('say \"hi\"', '<i4'), ('both \\' \"', '<i4'), ('back\\\\slash', '<i4')]",
    "[('tab\\there', '<i4'), ('nbsp\\xa0', '<i4'), ('ñ', '<i4'), ('中文', '<i4'), ('😀', '|u1')]",
    "[('x', 'f8'), ('y', 'int16'), ('z', 'S5'), ('w', 'U2')]",
    "[('big', '|V1000000')]",
    "[('m', '<f8', (3, 4, 5))]",
]

DESCRS_INVALID = [
    "[('a', '<i4'), ('a', '<i4')]",
    "[(('t', 'a'), '<i4'), ('t', '<i4')]",
    "[(('t', 'a'), '<i4'), (('t', 'b'), '<i4')]",
    "[('a', '<i4'), (('a', 'b'), '<i4')]",
    "[('a', '<i4', (-1,))]",
    "[('a', '<i4', (True, 2))]",
    "[('a', ['<i4'])]",
    "[('a',)]",
    "[('a', '<i4', (2,), 1)]",
    "[(1, '<i4')]",
    "[('a', 1)]",
    "[('a', '<f3')]",
    "['<i4']",
    "[None]",
    "('<i4',)",
    "1", "None", "{'a': '<i4'}", "'<f3'", "''", "'x'",
    "[('a', '<i4', 'x')]",
    "[('a', '<i4', (2.0,))]",
]


def gen_descrs():
    for text in DESCRS:
        descr = ast.literal_eval(text)
        dt = npformat.descr_to_dtype(descr)
        expected = repr(npformat.dtype_to_descr(dt))
        names, titles, offsets = dtype_fields(dt)
        emit('DR', hx(text), hx(expected), dt.itemsize,
             len(names), hex_list(names), hex_list(titles), ints(offsets))
    for text in DESCRS_INVALID:
        descr = ast.literal_eval(text)
        try:
            dt = npformat.descr_to_dtype(descr)
        except Exception:
            pass
        else:
            raise SystemExit(f'gen-core-cases: numpy accepts the invalid descr {text!r} as {dt!r}')
        emit('DRE', hx(text))


# ---------------------------------------------------------------------------
# 3. Headers

def numpy_header(dt, shape, fortran):
    d = {'descr': npformat.dtype_to_descr(dt), 'fortran_order': fortran, 'shape': shape}
    f = io.BytesIO()
    npformat._write_array_header(f, d, None)
    return f.getvalue()


def many_fields(n, name):
    return np.dtype([(name(i), '<f8' if i % 2 else 'u1') for i in range(n)])


def gen_headers():
    plain = ['<f8', '>i4', '|b1', '<U5', '|S0', '|S7', '|O', '<M8[ns]', '>m8[10s]',
             '<c32', '|V7', '<f2']
    shapes = [(), (0,), (1,), (3,), (10 ** 12,), (2, 3), (3, 4, 5), (0, 10 ** 15),
              (7, 0), (5, 10 ** 17), (10 ** 17, 5), (1,) * 32, tuple(range(1, 11)),
              (1,) * 64, (2,) * 40]
    cases = []
    for s in plain:
        for shape in shapes:
            for fortran in (False, True):
                cases.append((np.dtype(s), shape, fortran))
    records = [
        np.dtype('i1,i4,i1', align=True),
        np.dtype([('x', '<i4'), ('y', '>f8', (2, 3)), ('z', [('a', 'u1'), ('b', '<U2')])]),
        npformat.descr_to_dtype(ast.literal_eval(
            "[('x', '<i4'), ('', '|V4'), ('y', '>f8', (2, 3)), (('title', 'z'), [('a', '|u1')])]")),
        np.dtype([('ñ', '<i4'), ('é', 'u1')]),               # latin1: 1.0, latin1 bytes
        np.dtype([('nbsp\xa0', '<i4'), ('tab\t', 'u1')]),    # escaped in the repr
        np.dtype([('α', '<i4'), ('中文', 'u1')]),             # not latin1: 3.0
        np.dtype([("it's", '<i4'), ('say "hi"', 'u1'), ('both \' "', 'u1'), ('back\\', 'u1')]),
        np.dtype([('', [('a', 'u1')]), ('b', '<i4')]),
    ]
    for dt in records:
        for shape in [(), (4,), (10 ** 12,), (2, 3)]:
            for fortran in (False, True):
                cases.append((dt, shape, fortran))
    # Headers of more than 64 KiB: 2.0, or 3.0 when not latin1. Around the
    # limit, the version depends on the length of the shape.
    large = [
        many_fields(3000, lambda i: f'field_{i:04d}'),
        many_fields(3000, lambda i: f'φ_{i:04d}'),
        many_fields(2000, lambda i: f'ñ{i:05d}___'),
    ]
    for dt in large:
        for shape, fortran in [((4,), False), ((10 ** 12, 3), True)]:
            cases.append((dt, shape, fortran))
    # Around the largest record numpy still writes in 1.0 (found by
    # bisection), a longer shape can tip the header into 2.0.
    def version_for(n, shape=()):
        return numpy_header(many_fields(n, lambda i: f'g{i:05d}'), shape, False)[6]
    lo, hi = 1, 8000   # version 1 at lo, 2 at hi
    assert version_for(lo) == 1 and version_for(hi) == 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if version_for(mid) == 1 else (lo, mid)
    n = hi
    for m in range(n - 3, n + 2):
        dt = many_fields(m, lambda i: f'g{i:05d}')
        for shape in [(), (1,), (0, 10 ** 15, 10 ** 15), (0, 10 ** 17, 10 ** 17, 10 ** 17)]:
            cases.append((dt, shape, False))
    for dt, shape, fortran in cases:
        header = numpy_header(dt, shape, fortran)
        descr_text = repr(npformat.dtype_to_descr(dt))
        # The core refuses to read back a header whose data could not fit
        # in a file (more than 2**63 - 1 bytes).
        nbytes = int(np.prod(shape, dtype=object)) * dt.itemsize
        readable = 'OK' if nbytes <= INT64_MAX else 'TOO_LARGE'
        emit('HB', hx(descr_text), ints(shape), int(fortran), hx(header), header[6], readable)


def header_bytes(text, major, encoding='latin1'):
    """A header as a writer other than numpy might have made it: @text
    padded as numpy pads it."""
    body = text.encode(encoding)
    prefix_len = 10 if major == 1 else 12
    hlen = len(body) + 1
    pad = (64 - (prefix_len + hlen) % 64) % 64
    total = hlen + pad
    length = total.to_bytes(2 if major == 1 else 4, 'little')
    return b'\x93NUMPY' + bytes([major, 0]) + length + body + b' ' * pad + b'\n'


def numpy_read_header(data):
    f = io.BytesIO(data)
    version = npformat.read_magic(f)
    shape, fortran, dt = npformat._read_array_header(f, version, max_header_size=2 ** 40)
    # np.load fails on a bool in the shape ("an integer is required"),
    # though the header check lets it through.
    if any(isinstance(s, bool) for s in shape):
        raise TypeError('an integer is required')
    # What np.load makes of it: a subarray dtype adds its dimensions.
    if dt.subdtype is not None:
        shape = tuple(shape) + dt.shape
        dt = dt.base
    return version, tuple(int(s) for s in shape), fortran, dt, f.tell()


HEADERS_PARSE = [
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", 1),
    ("{'shape': (3,), 'fortran_order': True, 'descr': '>i2'}", 1),
    ("{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2,)}", 1),
    ("{'descr': '<i8', 'fortran_order': False, 'shape': (3L, 4L), }", 1),
    ("{'descr': '<i8', 'fortran_order': False, 'shape': (3L, 4L), }", 2),
    ("{'descr': ('<i4', (2, 3)), 'fortran_order': False, 'shape': (5,), }", 1),
    ("{'descr': ('<i4', (2, 3)), 'fortran_order': True, 'shape': (), }", 1),
    ("{'descr': [('a', '<i4'), ('', '|V4'), ('b', '<f8', (2,))], 'fortran_order': False, 'shape': (5,), }", 1),
    ("{'descr': [('α', '<i4')], 'fortran_order': False, 'shape': (5,), }", 3),
    ("{'descr': u'<f8', 'fortran_order': False, 'shape': (), }", 1),
    ("{'descr': '<f8',\n 'fortran_order': False,\n 'shape': (True, 2)}", 1),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (0x10, 0o7, 0b1, 1_0)}", 2),
    ("{'descr': 'f8', 'fortran_order': False, 'shape': (3,), }", 1),
    ("{'descr': '|V0', 'fortran_order': False, 'shape': (3,), }", 1),
    ("{'descr': '<U0', 'fortran_order': False, 'shape': (3,), }", 1),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\t\r\n", 1),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), } # np.save did not write this", 1),
    ("{'descr': '>c16', 'fortran_order': True, 'shape': %r, }" % ((1,) * 64,), 1),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\x00", 1),
    # refused by numpy
    ("{'descr': '<f8', 'fortran_order': False}", 1),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'extra': 1}", 1),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': [3]}", 1),
    ("{'descr': '<f8', 'fortran_order': 0, 'shape': (3,)}", 1),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': 3}", 1),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3.0,)}", 1),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': ('3',)}", 1),
    ("{'descr': '<f3', 'fortran_order': False, 'shape': (3,)}", 1),
    ("{'descr': '<i8', 'fortran_order': False, 'shape': (3L, 4L), }", 3),
    ("['descr', '<f8']", 1),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)", 1),
    ("{'descr': os.system('x'), 'fortran_order': False, 'shape': (3,)}", 1),
]


def gen_header_parse():
    for text, major in HEADERS_PARSE:
        data = header_bytes(text, major, 'utf-8' if major == 3 else 'latin1')
        emit_header_parse(data)
    # Bytes numpy refuses outright.
    good = header_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 1)
    for data in [b'', b'\x93NUMP', b'\x93NUMPX' + good[6:], good[:6] + b'\x04\x00' + good[8:],
                 good[:6] + b'\x01\x01' + good[8:], good[:9], good[:40],
                 good[:8] + b'\xff\xff' + good[10:]]:
        emit_header_parse(data)


def emit_header_parse(data):
    try:
        version, shape, fortran, dt, offset = numpy_read_header(data)
    except Exception:
        emit('HP', hx(data), 'ERR')
        return
    emit('HP', hx(data), 'OK', hx(repr(npformat.dtype_to_descr(dt))), ints(shape),
         int(fortran), version[0], offset)


# ---------------------------------------------------------------------------
# 4. Index expressions

INDEX_ARRAYS = [
    ('<f8', (), 'C'),
    ('<f8', (7,), 'C'),
    ('<f8', (7,), 'F'),
    ('<f8', (0,), 'C'),
    ('<f8', (1,), 'C'),
    ('<i2', (4, 5), 'C'),
    ('<i2', (4, 5), 'F'),
    ('<f4', (3, 0, 4), 'C'),
    ('<f4', (3, 0, 4), 'F'),
    ('|u1', (2, 3, 4, 5, 6), 'C'),
    ('>f8', (2, 3, 4, 5, 6), 'F'),
    ('<f8', (1, 6, 1), 'C'),
    ('<f8', (1, 6, 1), 'F'),
    ('|S3', (10,), 'C'),
    ('|S3', (5, 1, 3), 'F'),
]

INDEX_EXPRS = [
    '', '...', 'Ellipsis',
    '3', '-1', '0', '1', '4', '5', '6', '7', '-7', '-8', '+1', '- 1', '1_0', '10',
    ':', '::', '::2', '::-1', '1:-1:3', '5:2', '-100:100', '::-3', '2,',
    '1:', ':3', '-2:', ':-2', '4:1:-1', '-1::-1', ':0', '100:', ':-100', '-100:',
    '::100', '::-100', '1:2', '1:1', ' 1 : 3 ', '2:5:2', '-3:-1', '3:-3:-1',
    '..., 0', '0, ...', ':, None', 'None, :', '1, ::-2, ...',
    'np.newaxis', 'newaxis', 'None', 'None, None', 'None, ..., None',
    '..., None, 1', '0, None, 0', '1:3, None, ::-1', '::2, ::2', '::-1, ::-1',
    '0, 0', '0, 0, 0', '-1, -1', '1, 2, 3, 4, 5', '1, 2, 3, 4, 5, 6',
    '..., 1, 2', '1, ..., 2', ':, :, :, :, :', ':, :, :, :, :, :',
    '..., ::-1', '::-1, ...', ':, 0', '0, :', ':, -1, ...', '..., :, 0',
    '1, 1:, ..., ::-2', '3, ...', ', '.join(['None'] * 10),
    '9223372036854775807:', ':-9223372036854775807:-1', '::9223372036854775807',
    '::-9223372036854775807', '-9223372036854775807:9223372036854775807',
    '1:2:-1', '2:1', '0:0:-1',
    # chains: a[::-1][1:] is written "::-1][1:"
    '::-1][1:', '1:-1:3][::-1', '..., ::-2][None, ..., 1:', '::2][::-1][1',
    '::-1][::-1', '-1][...', '::-1][0', '..., ::-1][..., 1:][..., ::-2',
    'None][0', '1:][1:][1:][1:][1:', '::-2, ...][..., ::-3', '0][0][0',
]

INDEX_SYNTAX_ERRORS = [
    '1:2:0', 'abc', '1,,2', '...,...', '..., Ellipsis', '1:2:3:4', ',', ',1',
    '1 2', '1.5', '[1', '1]', '1é', 'np.newaxes', 'Nonesuch', '1:2:-0',
    '1:x', 'x:1', '1::x', '[1]]', '[1] 2', '1 :: 2 :', ':1:2:', '1;2',
    'None None',
]

# Refused by the core although numpy takes them: with brackets, '[1]' would
# be numpy's fancy indexing a[[1]], never basic indexing.
INDEX_CORE_SYNTAX_ERRORS = [
    '[]', '[...]', ' [ 1 ] ', '[2, 3]', '[1]',
]

INDEX_ANY_ERRORS = [
    '9223372036854775808', '-9223372036854775809',
]


def index_key(expr):
    inner = expr.strip()
    if inner == '':
        return ()
    ns = {'np': np, 'newaxis': np.newaxis, 'Ellipsis': Ellipsis, '__builtins__': {}}
    return eval(f'np.s_[{inner}]', ns)


def numpy_chain(arr, expr):
    v = arr
    for part in expr.split(']['):
        v = numpy_view(v, index_key(part))
    return v


def numpy_view(arr, key):
    v = arr[key]
    if not isinstance(v, np.ndarray):
        # A scalar: ask for the 0-d view numpy would give with "..." added.
        k = key if isinstance(key, tuple) else (key,)
        v = arr[k + (Ellipsis,)]
    return v


def make_array(dt, shape, order):
    dt = np.dtype(dt)
    n = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    buf = bytearray(max(n, 1))
    return np.ndarray(shape, dtype=dt, buffer=buf, order=order)


def view_fields(arr, v):
    assert isinstance(v, np.ndarray), type(v)
    if v.size > 0:
        offset = v.__array_interface__['data'][0] - arr.__array_interface__['data'][0]
    else:
        offset = '-'
    return (ints(v.shape), ints(v.strides), offset,
            int(v.flags['C_CONTIGUOUS']), int(v.flags['F_CONTIGUOUS']))


def gen_index():
    for dt, shape, order in INDEX_ARRAYS:
        arr = make_array(dt, shape, order)
        for expr in INDEX_EXPRS:
            try:
                v = numpy_chain(arr, expr)
            except IndexError:
                emit('IXE', hx(dt), ints(shape), order, hx(expr), 'apply')
                continue
            emit('IX', hx(dt), ints(shape), order, hx(expr), *view_fields(arr, v))
    for dt, shape, order in [('<f8', (4, 5), 'C'), ('<f8', (), 'C')]:
        arr = make_array(dt, shape, order)
        for exprs, what in ((INDEX_SYNTAX_ERRORS, 'parse'), (INDEX_ANY_ERRORS, 'any')):
            for expr in exprs:
                try:
                    v = numpy_chain(arr, expr)
                except Exception:
                    pass
                else:
                    raise SystemExit(f'gen-core-cases: numpy accepts the index {expr!r}: {v.shape}')
                emit('IXE', hx(dt), ints(shape), order, hx(expr), what)
        for expr in INDEX_CORE_SYNTAX_ERRORS:
            emit('IXE', hx(dt), ints(shape), order, hx(expr), 'parse')


# ---------------------------------------------------------------------------
# 5. Fields

FIELD_RECORDS = [
    ("[('x', '<i4'), ('', '|V4'), ('y', '>f8', (2, 3)), "
     "(('title', 'z'), [('a', '|u1'), ('b', '<i2', (2,))])]",
     [('x', ['x']), ('y', ['y']), ('z', ['z']), ('title', ['title']),
      ('z.a', ['z', 'a']), ('z.b', ['z', 'b']), ('title.b', ['title', 'b']),
      ('nope', None), ('x.y', None), ('z.nope', None), ('', None), ('z.', None),
      ('.x', None), ('y.0', None)]),
    ("[('a.b', '<i4'), ('a', [('b', '<f8'), ('c', [('d', '|b1')])])]",
     [('a.b', ['a.b']), ('a', ['a']), ('a.c', ['a', 'c']), ('a.c.d', ['a', 'c', 'd'])]),
    ("[('', [('a', '|u1')]), ('b', '<i4')]",
     [('', ['']), ('.a', ['', 'a']), ('b', ['b'])]),
    ("[('s', [('p', '<i2'), ('q', '<f4')], (2,)), ('t', '<u8')]",
     [('s', ['s']), ('s.p', ['s', 'p']), ('s.q', ['s', 'q']), ('t', ['t'])]),
    (ALIGNED, [('f0', ['f0']), ('f1', ['f1']), ('f2', ['f2'])]),
    ("[('m', ('<i4', (2,)), (3,)), ('n', '<i4', (1,)), ('e', '<f8', (0, 2))]",
     [('m', ['m']), ('n', ['n']), ('e', ['e'])]),
    ("[('u', '<U3'), ('d', '<M8[ns]'), ('o', '|S0'), ('w', '<c16', (2, 2))]",
     [('u', ['u']), ('d', ['d']), ('o', ['o']), ('w', ['w'])]),
    ("[(('Überschrift', 'α'), '<f4'), ('β', '>u2')]",
     [('α', ['α']), ('Überschrift', ['Überschrift']), ('β', ['β'])]),
    ("'<f8'", [('x', None), ('', None)]),
]

FIELD_SHAPES = [((5,), 'C'), ((2, 3), 'F'), ((2, 3), 'C'), ((), 'C'), ((0, 4), 'C'), ((1,), 'C')]

# Fields of views, and views of fields: (record, shape, order, pre, path, keys, post).
FIELD_VIEWS = [
    (0, (5,), 'C', '::-2', 'y', ['y'], ''),
    (0, (5,), 'C', '-1', 'z.b', ['z', 'b'], '..., ::-1'),
    (0, (5,), 'C', '1:4', 'x', ['x'], '::-1'),
    (0, (2, 3), 'F', '1, ::2', 'y', ['y'], ':, 1, ::-1'),
    (0, (2, 3), 'F', '::-1', 'y', ['y'], '..., 0'),
    (0, (2, 3), 'C', 'None, ..., ::-1', 'title', ['title'], ''),
    (0, (2, 3), 'C', ':, 0', 'z.a', ['z', 'a'], 'None'),
    (0, (2, 3), 'C', '5:', 'y', ['y'], '::-1'),
    (0, (5,), 'C', '2', 'y', ['y'], '1, 2'),
    (1, (2, 3), 'F', '..., 0', 'a.c.d', ['a', 'c', 'd'], ''),
    (1, (4,), 'C', '::3', 'a', ['a'], ''),
    (5, (2, 3), 'C', '::-1, 1', 'm', ['m'], '..., 1'),
    (5, (2, 3), 'F', ':, ::2', 'm', ['m'], '::-1, ..., ::-1'),
    (4, (5,), 'C', '1:4', 'f1', ['f1'], '::-1'),
    (6, (5,), 'C', '3', 'w', ['w'], '1'),
    (6, (5,), 'C', '::2', 'w', ['w'], ':, ::-1, 0'),
]


def gen_fields():
    for descr_text, paths in FIELD_RECORDS:
        dt = npformat.descr_to_dtype(ast.literal_eval(descr_text))
        for shape, order in FIELD_SHAPES:
            arr = make_array(dt, shape, order)
            for path, keys in paths:
                head = ('FS', hx(descr_text), ints(shape), order, '-', hx(path), '-')
                if keys is None:
                    # numpy refuses the path as one name and split at dots.
                    for attempt in ([path], path.split('.')):
                        try:
                            v = arr
                            for k in attempt:
                                v = v[k]
                        except (ValueError, KeyError, IndexError):
                            continue
                        raise SystemExit(f'gen-core-cases: numpy accepts field {path!r} of {descr_text}')
                    emit(*head, 'ERR')
                    continue
                v = arr
                for k in keys:
                    v = v[k]
                emit(*head, 'OK', hx(repr(npformat.dtype_to_descr(v.dtype))), *view_fields(arr, v))
    for record, shape, order, pre, path, keys, post in FIELD_VIEWS:
        descr_text = FIELD_RECORDS[record][0]
        dt = npformat.descr_to_dtype(ast.literal_eval(descr_text))
        arr = make_array(dt, shape, order)
        v = numpy_view(arr, index_key(pre))
        for k in keys:
            v = v[k]
        v = numpy_view(v, index_key(post))
        emit('FS', hx(descr_text), ints(shape), order, hx(pre), hx(path), hx(post),
             'OK', hx(repr(npformat.dtype_to_descr(v.dtype))), *view_fields(arr, v))


def main():
    if len(sys.argv) != 2:
        raise SystemExit('usage: gen-core-cases.py OUTPUT')
    gen_literals()
    gen_dtype_strings()
    gen_descrs()
    gen_headers()
    gen_header_parse()
    gen_index()
    gen_fields()
    with open(sys.argv[1], 'w', encoding='ascii') as f:
        f.write(f'# npyview core cases, numpy {np.__version__}\n')
        for line in out_lines:
            f.write(line + '\n')


if __name__ == '__main__':
    main()
