#!/usr/bin/python3
# gen-pickle-cases.py OUTDIR [STAMP]: pickles made by Python and numpy, and
# what test-pickle must find in them (OUTDIR/cases.ini, a GKeyFile). STAMP,
# for build systems, is written last.
#
# Every expected value comes from Python or numpy. The hostile pickles are
# only ever written here, never loaded: each would create OUTDIR/pwned-*
# if a reader executed it, and the test checks that no such file exists.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import codecs
import collections
import copyreg
import io
import os
import pickle
import subprocess
import sys

import numpy as np

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
for name in os.listdir(OUT):
    os.remove(os.path.join(OUT, name))

cases = []


def esc(text):
    """A GKeyFile string value."""
    out = text.replace('\\', '\\\\').replace('\n', '\\n').replace('\t', '\\t').replace('\r', '\\r')
    if out.startswith(' '):
        out = '\\s' + out[1:]
    return out


def write(name, data):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
    return name


def case(file, **keys):
    keys['file'] = file
    cases.append(keys)


# ----------------------------------------------------------------------
# What repr we promise: Python's, for plain values and numpy number/text
# scalars (numpy 1.x repr).

codecs_encode = codecs.encode

PLAIN = (type(None), bool, int, float, complex, str, bytes, bytearray, range, slice)
NUMPY_SCALARS = (np.bool_, np.integer, np.floating, np.complexfloating, np.str_, np.bytes_)


def promised(x, depth=0):
    if depth > 50:
        return False
    if isinstance(x, NUMPY_SCALARS):
        return True
    if isinstance(x, str) and any(0xd800 <= ord(c) <= 0xdfff for c in x):
        return False  # lone surrogates read as U+FFFD
    if isinstance(x, PLAIN):
        return not isinstance(x, int) or isinstance(x, bool) or x.bit_length() <= 14000
    if isinstance(x, (list, tuple, set, frozenset)):
        return type(x) in (list, tuple, set, frozenset) and all(promised(i, depth + 1) for i in x)
    if isinstance(x, dict):
        return type(x) is dict and all(promised(k, depth + 1) and promised(v, depth + 1)
                                       for k, v in x.items())
    return False


def kind_of(x):
    if x is None:
        return 'none'
    for t, k in ((bool, 'bool'), (int, 'int'), (float, 'float'), (complex, 'complex'),
                 (str, 'str'), (bytes, 'bytes'), (bytearray, 'bytearray'), (list, 'list'),
                 (tuple, 'tuple'), (dict, 'dict'), (set, 'set'), (frozenset, 'frozenset'),
                 (range, 'range'), (slice, 'slice')):
        if isinstance(x, t) and not isinstance(x, np.generic):
            if k == 'int' and not -2**63 <= x < 2**63:
                return 'bigint'
            return k
    if isinstance(x, (np.ndarray, np.generic)):
        return 'ndarray'
    if isinstance(x, np.dtype):
        return 'dtype'
    return None


def fortran_of(a):
    return bool(a.flags.f_contiguous and not a.flags.c_contiguous)


def array_keys(a, tag):
    """What test-pickle checks of a numpy array or scalar."""
    keys = {'kind': 'ndarray'}
    scalar = isinstance(a, np.generic)
    arr = np.asarray(a)
    keys['dtype_str'] = arr.dtype.str
    keys['descr'] = repr(np.lib.format.dtype_to_descr(arr.dtype))
    keys['shape'] = ','.join(str(d) for d in arr.shape)
    keys['fortran'] = 'true' if (not scalar and fortran_of(arr)) else 'false'
    keys['scalar'] = 'true' if scalar else 'false'
    if arr.dtype.hasobject:
        items = arr.ravel(order='C').tolist() if arr.ndim > 0 else [arr.item()]
        keys['elements'] = str(len(items))
        for i, item in enumerate(items[:40]):
            if promised(item):
                keys['element%d' % i] = repr(item)
    else:
        keys['data'] = write(tag + '.bin', arr.tobytes(order='A'))
    if scalar and promised(a):
        keys['repr'] = repr(a)
    if type(a) not in (np.ndarray,) and not scalar:
        keys['subtype'] = type(a).__module__ + '.' + type(a).__name__
    return keys


def add_value(tag, value, protocols=range(6), path='', extra=None):
    """Pickles @value with each protocol and expects it back (or the
    object at @path of it)."""
    target = value
    if path:
        for step in path.split('/'):
            k, v = step.split('=', 1)
            target = target[v] if k == 'k' else target[int(v)]
    for p in protocols:
        name = write('%s-p%d.pkl' % (tag, p), pickle.dumps(value, protocol=p))
        keys = {'path': path}
        if isinstance(target, (np.ndarray, np.generic)):
            keys.update(array_keys(target, '%s-p%d' % (tag, p)))
        else:
            keys['kind'] = kind_of(target)
            if promised(target):
                keys['repr'] = repr(target)
        if extra:
            keys.update(extra)
        case(name, **keys)


class Reduce:
    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        if self.state is not None:
            return (self.func, self.args, self.state)
        return (self.func, self.args)



# ----------------------------------------------------------------------
# Plain Python values: repr must be Python's.

PLAIN_VALUES = {
    'none': None, 'true': True, 'false': False, 'int0': 0, 'int-1': -1, 'int255': 255,
    'int256': 256, 'int65536': 65536, 'int2_31': 2**31, 'int-2_31': -2**31,
    'int2_63-1': 2**63 - 1, 'int-2_63': -2**63, 'int2_63': 2**63, 'int-2_63-1': -2**63 - 1,
    'int2_64': 2**64, 'int-2_100': -2**100, 'int10_300': 10**300, 'int-10_4000': -10**4000,
    'float': 1.5, 'float-0': -0.0, 'float-nan': float('nan'), 'float-inf': float('-inf'),
    'float1e16': 1e16, 'float1e-5': 1e-5, 'float1e-4': 1e-4, 'float-pi': -3.141592653589793,
    'float-tiny': 5e-324, 'float-big': 1.7976931348623157e308, 'float0.1': 0.1,
    'complex': 1 + 2j, 'complex-j': 1j, 'complex-neg': complex(-0.0, 1), 'complex-nan':
    complex(float('nan'), float('inf')), 'complex-frac': 1.5 - 2.25j,
    'str': 'text', 'str-empty': '', 'str-cjk': '優良', 'str-quote1': "it's",
    'str-quote2': 'a"b', 'str-quotes': 'both\'"', 'str-escapes': '\n\t\\\r\x00\x1a',
    'str-nonprint': '\x7f\x80\xa0\xad\u200b\u2028', 'str-emoji': '\U0001F600',
    'str-latin1': 'caf\xe9', 'str-backslash-u': '\\u0041', 'str-long': 'x' * 300,
    'bytes': b'\xe4\xb8\x8d', 'bytes-empty': b'', 'bytes-quote': b"'\"", 'bytes-all':
    bytes(range(256)), 'bytearray': bytearray(b'ab\xff'), 'bytearray-empty': bytearray(),
    'list': [1, 2], 'list-empty': [], 'tuple1': (1,), 'tuple-empty': (), 'tuple': (1, 'a', None),
    'dict': {'a': 1, 'b': [2, 3]}, 'dict-empty': {}, 'dict-intkeys': {1: 'x', (1, 2): b'y'},
    'set': {1, 2, 3}, 'set-empty': set(), 'frozenset': frozenset({1}), 'frozenset-empty':
    frozenset(), 'range': range(0, 3), 'range-step': range(5, -7, -2), 'range-big':
    range(2**70), 'slice': slice(1, 2, None), 'slice-all': slice(None, None, -1),
    'slice-obj': slice('a', [1], (2,)),
    'nested': {'x': [(1, 2.5, 'y'), {3: frozenset({b'z'})}], 'r': range(1, 9, 2)},
    'ordered': collections.OrderedDict([('b', 1), ('a', 2)]),
}

for tag, value in PLAIN_VALUES.items():
    extra = None
    if tag == 'ordered':
        # An OrderedDict is read as a plain dict: its repr is dict's.
        extra = {'kind': 'dict', 'repr': repr(dict(value))}
    add_value('plain-' + tag, value, extra=extra)

# A lone surrogate reads as U+FFFD.
add_value('plain-surrogate', 'a\ud800b', extra={'repr': repr('a\ufffdb')})

# Cycles: Python's repr marks them.
cyclic_list = [1]
cyclic_list.append(cyclic_list)
add_value('cycle-list', cyclic_list, protocols=range(6), extra={'repr': repr(cyclic_list)})
cyclic_dict = {'a': 1}
cyclic_dict['self'] = cyclic_dict
add_value('cycle-dict', cyclic_dict, extra={'repr': repr(cyclic_dict)})
shared = [1, 2]
add_value('shared', [shared, shared, (shared,)], extra={'repr': repr([shared, shared, (shared,)])})

# ----------------------------------------------------------------------
# numpy arrays, all protocols.

rng = np.random.default_rng(1234)
ARRAYS = {
    'f8-2x3': np.arange(6, dtype='<f8').reshape(2, 3) / 7,
    'i2': np.arange(-5, 5, dtype='<i2'),
    'u8': np.array([0, 2**64 - 1], dtype='<u8'),
    'i1': np.array([-128, 127], dtype='i1'),
    'bool': np.array([True, False, True]),
    'f2': np.array([1.5, -0.0, np.inf], dtype='<f2'),
    'f4-fortran': np.asfortranarray(rng.random((3, 4), dtype='<f4')),
    'f16': np.array([1.5, -2.25], dtype=np.longdouble),
    'c8': np.array([1 + 2j, -1j], dtype='<c8'),
    'c16': np.array([[1 + 2j], [3.5 - 4j]], dtype='<c16'),
    'be-i4': np.arange(4, dtype='>i4'),
    'be-f8-2d': np.arange(6, dtype='>f8').reshape(3, 2),
    'be-c16': np.array([1 + 1j], dtype='>c16'),
    'M8-10s': np.array(['2020-01-01T00:00:10', 'NaT'], dtype='M8[10s]'),
    'M8-D': np.array(['2020-01-01', '1969-12-31'], dtype='M8[D]'),
    'M8-generic': np.array(['NaT', 'NaT'], dtype='M8'),
    'm8-ms': np.array([5, -3], dtype='m8[ms]'),
    'm8-be': np.array([5], dtype='>m8[us]'),
    'U3': np.array(['ab', '優良x', ''], dtype='<U3'),
    'U-be': np.array(['ab'], dtype='>U2'),
    'S5': np.array([b'ab', b'\x00\xff', b'12345'], dtype='S5'),
    'V4': np.array([b'\x01\x02\x03\x04'], dtype='V4'),
    'struct': np.zeros(3, dtype=[('a', '<i4'), ('b', '>f8', (2, 3))]),
    'struct-aligned': np.zeros(2, dtype=np.dtype('i1,i4,i1', align=True)),
    'struct-titles': np.zeros(2, dtype=np.dtype({'names': ['x', 'y'], 'formats': ['i1', '<i4'],
                                                 'offsets': [0, 8], 'titles': ['T', None],
                                                 'itemsize': 16})),
    'struct-nested': np.ones(2, dtype=[('p', [('x', '<f4'), ('y', '<f4')]), ('n', '<u2')]),
    'struct-subarray': np.ones((2, 2), dtype=[('m', '<i2', (2, 3))]),
    'struct-M8': np.zeros(1, dtype=[('t', 'M8[ns]'), ('s', 'S3')]),
    'zero-d': np.array(3.5),
    'zero-d-i8': np.array(-7, dtype='<i8'),
    'empty': np.zeros((0,), dtype='<f8'),
    'empty-2d': np.zeros((2, 0), dtype='<i4'),
    'empty-3d-fortran': np.asfortranarray(np.zeros((2, 0, 3), dtype='<f4')),
    'noncontig': np.arange(12, dtype='<i8').reshape(3, 4)[:, ::2],
    'fortran-3d': np.asfortranarray(np.arange(24, dtype='<i4').reshape(2, 3, 4)),
    'matrix': np.matrix([[1, 2], [3, 4]]),
    'big': np.arange(20000, dtype='<f8'),
}
ARRAYS['struct']['a'] = [1, -2, 3]
ARRAYS['struct']['b'][1] = 2.5
ARRAYS['struct-titles']['x'] = [1, 2]

for tag, arr in ARRAYS.items():
    add_value('arr-' + tag, arr)

MIXED = [None, True, 1, -2**70, 2**64, 1.5, float('nan'), -0.0, 1 + 2j, 'text', '優良', "it's",
         b'\x00\xff', bytearray(b'ab'), [1, [2]], (1,), {'a': 1}, {1, 2}, frozenset({3}),
         range(0, 5, 2), slice(1, None, 2), np.float64(2.5), np.float32(0.1), np.int32(7),
         np.bool_(False), np.complex64(1 - 1j), np.str_('s'), np.bytes_(b'b'),
         np.arange(3), np.dtype('M8[10s]'), collections.Counter({'a': 1})]
obj_1d = np.empty(len(MIXED), dtype=object)
obj_1d[:] = MIXED
obj_2d_f = np.asfortranarray(np.array([[1, 'a', None], [2.5, (1,), b'x']], dtype=object))
obj_0d = np.empty((), dtype=object)
obj_0d[()] = {'k': [1, 2]}
rec_obj = np.zeros(3, dtype=[('name', 'O'), ('x', '<f8'), ('n', '<i4')])
rec_obj['name'] = ['a', None, [1, 2]]
rec_obj['x'] = [1.5, -2, 0]
rec_obj['n'] = [1, 2, 3]
OBJECTS = {
    'obj-mixed': obj_1d,
    'obj-2d-fortran': obj_2d_f,
    'obj-0d': obj_0d,
    'obj-empty': np.empty((0, 2), dtype=object),
    'rec-obj': rec_obj,
}
for tag, arr in OBJECTS.items():
    add_value(tag, arr)
# The array inside the object array.
add_value('obj-mixed-e28', obj_1d, protocols=[2, 5], path='e=28')

# Containers of arrays.
holder = {'a': ARRAYS['f8-2x3'], 'b': [ARRAYS['be-i4'], (ARRAYS['U3'], obj_2d_f)],
          'c': np.float64(-1.25)}
for path in ('k=a', 'k=b/i=0', 'k=b/i=1/i=0', 'k=b/i=1/i=1', 'k=c'):
    add_value('holder-' + path.replace('/', '-').replace('=', ''), holder, path=path)
same = ARRAYS['i2']
add_value('same-twice', [same, same], protocols=[2, 4, 5], path='i=1')

# numpy scalars and dtypes on their own.
SCALARS = {
    'f8': np.float64(1.5), 'f4': np.float32(0.1), 'f2': np.float16(-2.5),
    'i8': np.int64(-3), 'u1': np.uint8(255), 'bool': np.bool_(True),
    'c8': np.complex64(1 + 2j), 'c16': np.complex128(-1j), 'str': np.str_('ab優'),
    'bytes': np.bytes_(b'a\x00b'), 'M8': np.datetime64('2020-01-01'),
    'm8': np.timedelta64(5, 's'), 'f8-be': np.array([2.5], dtype='>f8')[0],
}
for tag, value in SCALARS.items():
    extra = None
    if tag in ('M8', 'm8'):
        extra = {'repr': repr(value)}
    add_value('scalar-' + tag, value, extra=extra)

DTYPES = {
    'f8': 'f8', 'be-i4': '>i4', 'U3': 'U3', 'S5': 'S5', 'V4': 'V4', 'O': 'O',
    'M8-10s': 'M8[10s]', 'm8-generic': 'm8', 'M8-D': 'M8[D]', 'M8-us-be': '>M8[us]',
    'struct': [('a', '<i4'), ('b', '>f8', (2, 3))],
    'titles': {'names': ['x', 'y'], 'formats': ['i1', '<i4'], 'offsets': [0, 8],
               'titles': ['T', None], 'itemsize': 16},
    'aligned': np.dtype('i1,i4,i1', align=True), 'subarray': ('<i4', (2,)),
    'nested': [('p', [('x', '<f4')]), ('q', 'O')],
}
for tag, spec in DTYPES.items():
    dt = np.dtype(spec)
    for p in range(6):
        name = write('dtype-%s-p%d.pkl' % (tag, p), pickle.dumps(dt, protocol=p))
        keys = {'kind': 'dtype', 'descr': repr(np.lib.format.dtype_to_descr(dt))}
        if dt.subdtype is not None:
            # numpy's descr of a bare subarray type is its '|V8'; npv-dtype
            # writes (base, shape), what a record field would say.
            keys['descr'] = repr((dt.subdtype[0].str, dt.subdtype[1]))
        if dt.subdtype is None:
            keys['dtype_str'] = dt.str
        case(name, **keys)

# ----------------------------------------------------------------------
# np.save of arrays holding objects: a pickle after the .npy header.

for tag, arr in [('obj-mixed', obj_1d), ('obj-2d-fortran', obj_2d_f), ('rec-obj', rec_obj),
                 ('obj-0d', obj_0d)]:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    keys = array_keys(arr, 'npy-' + tag)
    keys['npy'] = 'true'
    case(write('npy-%s.npy' % tag, buf.getvalue()), **keys)

# ----------------------------------------------------------------------
# Python 2 strings, written by hand as Python 2 wrote them.

PY2 = (b'\x80\x02]q\x00(U\x03abcq\x01U\x02\xe4\xb8q\x02T\x02\x00\x00\x00\xc3\xa9'
       b'S\'q\\\'\\x41\\n\\101\'\nh\x01e.')
write('py2-strings.pkl', PY2)
case('py2-strings.pkl', encoding='bytes', kind='list',
     repr=repr([b'abc', b'\xe4\xb8', b'\xc3\xa9', b"q'A\nA", b'abc']))
case('py2-strings.pkl', encoding='latin1', kind='list',
     repr=repr(['abc', '\xe4\xb8', '\xc3\xa9', "q'A\nA", 'abc']))
case('py2-strings.pkl', encoding='ascii', kind='list',
     repr=repr(['abc', b'\xe4\xb8', b'\xc3\xa9', "q'A\nA", 'abc']))

# A Python 2 numeric array: its data is a py2 str, whatever the encoding.
py2_arr = (b'\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00'
           b'\x85U\x01b\x87Rq\x03(K\x01K\x02\x85cnumpy\ndtype\nq\x04U\x02f8K\x00K\x01\x87Rq\x05'
           b'(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tbI00\nU\x10'
           + np.array([1.0, -2.5]).tobytes() + b'tb.')
write('py2-f8.pkl', py2_arr)
write('py2-f8.bin', np.array([1.0, -2.5]).tobytes())
for enc in ('bytes', 'latin1', 'ascii'):
    case('py2-f8.pkl', encoding=enc, kind='ndarray', dtype_str='<f8', descr="'<f8'",
         shape='2', fortran='false', scalar='false', data='py2-f8.bin', borrowed='true')

# ----------------------------------------------------------------------
# Python 2 pickles of numpy arrays and dtypes: protocol 2 with every ASCII
# str written as a Python 2 str (SHORT_BINSTRING), as Python 2 wrote them.
# numpy itself must read each back (with encoding='latin1').

import pickletools


def py2ify(data):
    ops = list(pickletools.genops(data))
    out = bytearray()
    for i, (op, arg, pos) in enumerate(ops):
        end = ops[i + 1][2] if i + 1 < len(ops) else len(data)
        if op.name in ('BINUNICODE', 'SHORT_BINUNICODE') and arg.isascii():
            raw = arg.encode('ascii')
            if len(raw) < 256:
                out += b'U' + bytes([len(raw)]) + raw
            else:
                out += b'T' + len(raw).to_bytes(4, 'little') + raw
        else:
            out += data[pos:end]
    return bytes(out)


for tag, arr in ARRAYS.items():
    if tag in ('big', 'matrix'):
        continue
    data = py2ify(pickle.dumps(arr, protocol=2))
    back = pickle.loads(data, encoding='latin1')
    # (numpy byte-swaps non-native arrays to native order as it reads them.)
    same = arr if back.dtype == arr.dtype else arr.astype(back.dtype)
    assert back.tobytes(order='A') == same.tobytes(order='A'), tag
    name = write('py2-arr-%s.pkl' % tag, data)
    # (Not with encoding='bytes': the data is still _codecs.encode(text,
    # 'latin1'), which Python cannot call with bytes either.)
    for enc in ('latin1', 'ascii'):
        keys = array_keys(arr, 'py2-arr-%s' % tag)
        keys['encoding'] = enc
        case(name, **keys)

for tag, spec in DTYPES.items():
    dt = np.dtype(spec)
    data = py2ify(pickle.dumps(dt, protocol=2))
    assert pickle.loads(data, encoding='latin1') == dt, tag
    name = write('py2-dtype-%s.pkl' % tag, data)
    # (Time units are _codecs.encode(text, 'latin1') here too, see above.)
    for enc in ('latin1', 'ascii') if dt.kind in 'mM' else ('bytes', 'latin1', 'ascii'):
        keys = {'kind': 'dtype', 'encoding': enc}
        if dt.subdtype is None:
            keys['dtype_str'] = dt.str
            keys['descr'] = repr(np.lib.format.dtype_to_descr(dt))
        case(name, **keys)

# Older dtype states: (endian, subarray, fields, elsize, alignment) with the
# names under key -1 (version 0), the same with a version (1), and numpy's
# current state with names left out (read by offset).
OLD_FIELDS = {'a': (np.dtype('<i4'), 0), 'b': (np.dtype('<f8'), 4), -1: ('a', 'b')}
for tag, state, numpy_reads in [
        ('v0', ('<', None, OLD_FIELDS, 12, 1), True),
        ('v1', (1, '|', None, OLD_FIELDS, 16, 1), True),
        # numpy 1.24 crashes (SIGSEGV) on this one; it is never loaded here.
        ('v2', (2, '|', None, OLD_FIELDS, 16, 1), False),
        ('v3-no-names', (3, '|', None, None, {'b': (np.dtype('<f8'), 4), 'a': (np.dtype('<i4'), 0)},
                         12, 1, 16), False)]:
    for p in (0, 2):
        data = pickle.dumps(Reduce(np.dtype, ('V12', False, True), state), protocol=p)
        descr = "[('a', '<i4'), ('b', '<f8')]" if state[-2 if tag != 'v3-no-names' else -3] == 12 \
            else "[('a', '<i4'), ('b', '<f8'), ('', '|V4')]"
        if numpy_reads:
            assert repr(np.lib.format.dtype_to_descr(pickle.loads(data))) == descr, tag
        case(write('dtype-old-%s-p%d.pkl' % (tag, p), data), kind='dtype', descr=descr)

# The documented forms given other arguments, computed by Python where the
# result is plain.
EDGES = {
    'complex-complex': (Reduce(complex, (1 + 2j, 3j)), complex(1 + 2j, 3j)),
    'set-dict': (Reduce(set, ({1: 'x', 2: 'y'},)), {1, 2}),
    'range-bool': (Reduce(range, (True, 5)), range(True, 5)),
    'slice-stop': (Reduce(slice, (3,)), slice(3)),
    'ordered-dict': (Reduce(collections.OrderedDict, ({'a': 1},)), {'a': 1}),
    'bytearray-latin1': (Reduce(bytearray, ('ab\xe9', 'latin-1')), bytearray('ab\xe9', 'latin-1')),
    'bytes-ascii': (Reduce(bytes, ('abc', 'ascii')), b'abc'),
    'encode-utf8': (Reduce(codecs_encode, ('\u4e0d',)), '\u4e0d'.encode()),
    'scalar-object': (Reduce(np.core.multiarray.scalar, (np.dtype('O'), [1, 2])), [1, 2]),
}
for tag, (value, plain) in EDGES.items():
    add_value('edge-' + tag, value, protocols=[0, 2, 4], extra={'kind': kind_of(plain),
                                                                'repr': repr(plain)})
add_value('edge-newobj-ex', Reduce(copyreg.__newobj_ex__, (collections.OrderedDict, (), {})),
          protocols=[0, 1], extra={'kind': 'dict', 'repr': '{}'})
# _reconstruct without its BUILD: what numpy would make (here None items).
add_value('edge-reconstruct-object', Reduce(np.core.multiarray._reconstruct, (np.ndarray, (3,), b'O')),
          protocols=[2], extra={'kind': 'ndarray', 'elements': '3', 'element0': 'None',
                                'dtype_str': '|O', 'shape': '3', 'fortran': 'false',
                                'scalar': 'false'})
# A subarray dtype in an array's state becomes dimensions.
sub_state = (1, (3,), np.dtype(('<i4', (2,))), False, bytes(range(24)))
write('edge-subarray-state.bin', bytes(range(24)))
for p in (2, 5):
    case(write('edge-subarray-state-p%d.pkl' % p, pickle.dumps(
        Reduce(np.core.multiarray._reconstruct, (np.ndarray, (0,), b'b'), sub_state), protocol=p)),
        kind='ndarray', dtype_str='<i4', shape='3,2', fortran='false', scalar='false',
        data='edge-subarray-state.bin')
# Errors numpy would raise too.
for tag, value, error in [
        ('frombuffer-size', Reduce(np.core.numeric._frombuffer,
                                   (b'\x00' * 8, np.dtype('<i4'), (3,), 'C')), 'FORMAT'),
        ('array-size', Reduce(np.core.multiarray._reconstruct, (np.ndarray, (0,), b'b'),
                              (1, (3,), np.dtype('<i4'), False, b'\x00' * 8)), 'FORMAT'),
        ('object-array-size', Reduce(np.core.multiarray._reconstruct, (np.ndarray, (0,), b'b'),
                                     (1, (3,), np.dtype('O'), False, [1, 2])), 'FORMAT'),
        ('negative-dim', Reduce(np.core.multiarray._reconstruct, (np.ndarray, (0,), b'b'),
                                (1, (-1,), np.dtype('<i4'), False, b'')), 'FORMAT'),
        ('overlapping-fields', Reduce(np.dtype, ('V8', False, True),
                                      (3, '|', None, ('a', 'b'), {'a': (np.dtype('<i4'), 4),
                                                                  'b': (np.dtype('<i4'), 0)},
                                       8, 1, 16)), 'UNSUPPORTED')]:
    for p in (0, 2, 5):
        case(write('error-%s-p%d.pkl' % (tag, p), pickle.dumps(value, protocol=p)), error=error)

# ----------------------------------------------------------------------
# Hostile pickles: each would create OUTDIR/pwned-NAME if executed. They
# must give a value or an error; test-pickle checks the file is absent.

def marker(name):
    return os.path.join(OUT, 'pwned-' + name)


def hostile(name, value=None, raw=None, protocols=range(6), **keys):
    for p in protocols:
        data = raw if raw is not None else pickle.dumps(value, protocol=p)
        file = write('hostile-%s-p%d.pkl' % (name, p), data)
        case(file, expect='any', marker=marker(name), **keys)
        if raw is not None:
            break


def touch(name):
    return 'touch ' + marker(name)


hostile('os-system', Reduce(os.system, (touch('os-system'),)), kind='opaque',
        repr="<object posix.system(%r)>" % touch('os-system'))
# (Protocols 0-2 spell it the Python 2 way, commands.Popen.)
hostile('popen', Reduce(subprocess.Popen, (['touch', marker('popen')],)), kind='opaque',
        protocols=[3, 4, 5], repr="<object subprocess.Popen([%r, %r])>" % ('touch', marker('popen')))
hostile('popen-py2', Reduce(subprocess.Popen, (['touch', marker('popen')],)), kind='opaque',
        protocols=[0, 1, 2], repr="<object commands.Popen([%r, %r])>" % ('touch', marker('popen')))
hostile('eval', Reduce(eval, ("__import__('os').system(%r)" % touch('eval'),)), kind='opaque')
hostile('exec', Reduce(exec, ("import os; os.system(%r)" % touch('exec'),)), kind='opaque')
hostile('import', Reduce(__import__, ('os',)), kind='opaque')
hostile('state', Reduce(os.system, (touch('state'),), {'x': 1}), kind='opaque')
hostile('in-list', [1, Reduce(os.system, (touch('in-list'),)), {'k': Reduce(
    os.system, (touch('in-list'),))}], kind='list')
# Hand-made chains: getattr(__import__('os'), 'system')('touch ...').
for p in (0, 2, 4):
    chain = (b'c__builtin__\ngetattr\n(c__builtin__\n__import__\n(Vos\ntRVsystem\ntR(V'
             + touch('chain-%d' % p).encode() + b'\ntR.')
    if p >= 2:
        chain = b'\x80' + bytes([p]) + chain
    hostile('chain-%d' % p, raw=chain, kind='opaque')
hostile('inst', raw=b"(S'" + touch('inst').encode() + b"'\nios\nsystem\n.", kind='opaque',
        repr="<object os.system(b%r)>" % touch('inst'))
hostile('obj', raw=b"(cos\nsystem\nS'" + touch('obj').encode() + b"'\no.", kind='opaque')
hostile('newobj', raw=b'\x80\x02cos\nsystem\nX' + len(touch('newobj')).to_bytes(4, 'little')
        + touch('newobj').encode() + b'\x85\x81.', kind='opaque')
hostile('newobj-ex', raw=b'\x80\x04\x8c\x02os\x8c\x06system\x93X'
        + len(touch('newobj-ex')).to_bytes(4, 'little') + touch('newobj-ex').encode()
        + b'\x85}\x92.', kind='opaque')
# copyreg tricks.
# (Pickling checks __newobj__'s class from protocol 2 on.)
hostile('copyreg-newobj', Reduce(copyreg.__newobj__, (os.system, touch('copyreg-newobj'))),
        protocols=[0, 1], kind='opaque')
hostile('copyreg-reconstructor', Reduce(copyreg._reconstructor,
                                        (os.system, object, touch('copyreg-reconstructor'))),
        kind='opaque')
hostile('copyreg-reconstructor-self', Reduce(copyreg._reconstructor,
                                             (set, set, [touch('copyreg-reconstructor-self')])),
        kind='set')
hostile('reconstruct-subtype', raw=b'\x80\x02cnumpy.core.multiarray\n_reconstruct\ncos\nsystem\n'
        b'K\x00\x85C\x01b\x87R(K\x01K\x01\x85cnumpy\ndtype\nC\x02i1\x89\x88\x87R'
        b'(K\x03C\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89C\x01\x07tb.',
        kind='ndarray')
hostile('numpy-runstring', Reduce(np.testing._private.utils.runstring,
                                  ("import os; os.system(%r)" % touch('numpy-runstring'), {})),
        kind='opaque')
# BUILD that would set attributes of a module: refused or recorded, not run.
hostile('build-global', raw=b'cos\nsystem\n(dVx\nI1\nsb.')
hostile('ext', raw=b'\x80\x02\x82\x01.', kind='opaque')
hostile('persid', raw=b'Pos.system\n.', error='UNSUPPORTED')
hostile('binpersid', raw=b'\x80\x02X\x01\x00\x00\x00xQ.', error='UNSUPPORTED')
hostile('next-buffer', raw=b'\x80\x05\x97.', error='UNSUPPORTED')
hostile('readonly-buffer', raw=b'\x80\x05C\x01x\x98.', error='UNSUPPORTED')
hostile('proto6', raw=b'\x80\x06N.', error='UNSUPPORTED')


class Plain:
    pass


plain = Plain()
plain.x = 1
hostile('class-instance', plain, kind='opaque', protocols=[0, 1, 2, 4])

# For test-pickle's getters test.
write('api-values.pkl', pickle.dumps((True, -5, 2**70, -2**70, 1.5, 1 + 2j, 'caf\xe9', b'x',
                                      range(3), slice(1, 2), {'a': 1, 'b': None},
                                      collections.Counter(a=1), '\u4e0d' * 50), protocol=2))

with open(os.path.join(OUT, 'cases.ini'), 'w', encoding='utf-8') as f:
    for i, keys in enumerate(cases):
        f.write('[case%05d]\n' % i)
        for k, v in keys.items():
            if v is None:
                continue
            f.write('%s=%s\n' % (k, esc(str(v))))
        f.write('\n')
if len(sys.argv) > 2:
    with open(sys.argv[2], 'w') as f:
        f.write('%d cases\n' % len(cases))
print('%d cases in %s' % (len(cases), OUT))
