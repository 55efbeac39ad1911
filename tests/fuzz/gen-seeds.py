#!/usr/bin/env python3
"""Seed inputs for the fuzz targets, written by numpy and Python's own
modules: OUT/<target>/<name> for every target of tests/fuzz/meson.build.

The seeds are small (a few KiB at most) so that the fuzzer mutates them
quickly; together they reach every format, dtype kind and storage the
viewer reads.
"""

import gzip
import io
import os
import pickle
import struct
import sys
import zipfile
import zlib

import warnings

import numpy as np

warnings.filterwarnings("ignore", message="Stored array in format")


def arrays():
    """Small arrays of every kind np.save writes."""
    rng = np.random.default_rng(8)
    yield 'f8', np.linspace(-1, 1, 12).reshape(3, 4)
    yield 'f4-big', np.arange(6, dtype='>f4')
    yield 'f2', np.array([np.nan, np.inf, -0.0, 1e-5], dtype='f2')
    yield 'i1', np.arange(-4, 4, dtype='i1')
    yield 'u8', np.array([0, 2**64 - 1], dtype='u8')
    yield 'bool', np.array([[True, False], [False, True]])
    yield 'c16', np.array([1 + 2j, np.nan - 1j])
    yield 'c8', np.array([3 - 4j], dtype='c8')
    yield 'g', np.array([1.5, -2.25], dtype=np.longdouble)
    yield 'M8', np.array(['2024-01-01T12:00', 'NaT'], dtype='M8[m]')
    yield 'm8', np.array([5, -3], dtype='m8[25s]')
    yield 'U', np.array(['a', 'bé', '優良'])
    yield 'S', np.array([b'x', b'\x00yz'])
    yield 'V', np.array([b'\x01\x02\x03'], dtype='V3')
    yield 'fortran', np.asfortranarray(np.arange(6, dtype='i4').reshape(2, 3))
    yield 'scalar', np.array(7.5)
    yield 'empty', np.zeros((0, 3))
    yield '5d', rng.integers(0, 9, (2, 1, 2, 3, 2)).astype('u2')
    yield 'record', np.array([(1, 2.5, b'ab'), (3, -1.0, b'c')],
                             dtype=[('a', '<i4'), ('b', '>f8'), ('c', 'S2')])
    yield 'nested', np.zeros(2, dtype=[('p', [('x', 'f4'), ('y', 'f4')]), ('q', 'i2', (2, 2))])
    yield 'aligned', np.zeros(2, dtype=np.dtype([('a', 'u1'), ('b', 'f8')], align=True))
    yield 'offsets', np.zeros(2, dtype=np.dtype({'names': ['a', 'b'], 'formats': ['u1', 'i4'],
                                                   'offsets': [0, 4], 'itemsize': 12}))
    yield 'subarray', np.zeros((2,), dtype=('f4', (3,)))
    yield 'rgb', rng.integers(0, 255, (4, 4, 3)).astype('u1')


def npy_bytes(a, **kw):
    out = io.BytesIO()
    np.save(out, a, **kw)
    return out.getvalue()


def header_of(data):
    """The bytes up to the data: what the header parser reads."""
    major = data[6]
    n = struct.unpack('<H', data[8:10])[0] if major == 1 else struct.unpack('<I', data[8:12])[0]
    return data[:(10 if major == 1 else 12) + n]


def write(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def main():
    out = sys.argv[1]
    objects = np.array([None, 'text', b'bytes', 3, [1, 2]], dtype=object)

    for name, a in arrays():
        data = npy_bytes(a)
        write(out, 'npy-header', name, header_of(data))
        write(out, 'open', name + '.npy', data[:4096])
    write(out, 'npy-header', 'object', header_of(npy_bytes(objects, allow_pickle=True)))
    write(out, 'open', 'object.npy', npy_bytes(objects, allow_pickle=True))
    # Versions 2.0 and 3.0: a header longer than 65535 bytes, and one with
    # a non-latin1 field name.
    many = np.zeros(1, dtype=[('f%d' % i, 'u1') for i in range(4000)])
    write(out, 'npy-header', 'version2', header_of(npy_bytes(many)))
    write(out, 'npy-header', 'version3', header_of(npy_bytes(np.zeros(1, dtype=[('é優', 'u1')]))))

    for i, text in enumerate(['3', '-1', '::2', '1:-1, None', '..., 0', '1, ..., ::-2',
                              'None, None, 1:3:1, -2', '0, 1, 2, 3', ':, :, :, :', '1:2:0',
                              '  2 , -3 ', '::-1, 0:100, ..., None', '9999999999999999999',
                              '-0x1f', '1:', ':5', '...,...']):
        write(out, 'index', '%02d' % i, text.encode())

    members = {name: a for name, a in arrays()}
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        buf = io.BytesIO()
        if compression == zipfile.ZIP_STORED:
            np.savez(buf, **dict(list(members.items())[:6]))
        else:
            np.savez_compressed(buf, **dict(list(members.items())[:6]))
        kind = 'stored' if compression == zipfile.ZIP_STORED else 'deflated'
        write(out, 'zip', kind + '.npz', buf.getvalue())
        write(out, 'open', kind + '.npz', buf.getvalue())
    # zip64 extra fields everywhere, a folder and a member that is no .npy,
    # a name in CP437.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', compression=zipfile.ZIP_DEFLATED) as z:
        with z.open('big/a.npy', 'w', force_zip64=True) as f:
            f.write(npy_bytes(np.arange(5)))
        z.writestr('notes.txt', 'not an array')
        z.writestr(zipfile.ZipInfo('dir/'), '')
        info = zipfile.ZipInfo('caf\xe9.npy')
        z.writestr(info, npy_bytes(np.ones(2, dtype='i1')))
    write(out, 'zip', 'zip64.npz', buf.getvalue())
    write(out, 'open', 'zip64.npz', buf.getvalue())

    # Inflate seeds: a byte for format and span, two offsets, the stream.
    data = npy_bytes(np.arange(3000, dtype='u2'))
    for span in range(3):
        for fmt, stream in ((0, zlib.compress(data, 6)[2:-4]), (1, gzip.compress(data, mtime=0))):
            prefix = bytes([fmt | (span << 1)]) + struct.pack('<II', 100 * span, 4000 + span)
            write(out, 'inflate', 'f%d-s%d' % (fmt, span), prefix + stream)
    two = gzip.compress(b'a' * 2000, mtime=0) + gzip.compress(data[:500], mtime=0)
    write(out, 'inflate', 'two-members', b'\x01' + struct.pack('<II', 1990, 0) + two)
    stored = zlib.compressobj(0, zlib.DEFLATED, -15)
    write(out, 'inflate', 'stored-blocks',
          b'\x00' + struct.pack('<II', 7, 70000) + stored.compress(data * 3) + stored.flush())
    write(out, 'inflate', 'zeros', b'\x02' + struct.pack('<II', 50000, 1 << 19) +
          zlib.compress(bytes(1 << 20), 9)[2:-4])

    gz = gzip.compress(npy_bytes(np.arange(12.0).reshape(3, 4)), mtime=0)
    write(out, 'open', 'f8.npy.gz', gz)

    # Pickles: the first byte is the Python 2 string encoding.
    values = {
        'array': np.arange(6, dtype='f4').reshape(2, 3),
        'fortran': np.asfortranarray(np.arange(6).reshape(2, 3)),
        'record': members['record'],
        'objects': objects,
        'dict': {'a': np.arange(3), 'b': [1.5, None, (True, 'x')], 'c': {1, 2}},
        'scalars': [np.float32(1.5), np.int64(-3), np.complex128(1j), 2**100, -1.5e300],
        'masked': np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]),
        'datetime': members['M8'],
        'unicode': members['U'],
        'nested': [[[[[]]]]],
    }
    for protocol in range(0, 6):
        for name, v in values.items():
            blob = pickle.dumps(v, protocol=protocol)
            write(out, 'pickle', '%s-p%d' % (name, protocol), bytes([protocol % 3]) + blob[:8192])
            if protocol in (2, 4):
                write(out, 'open', '%s-p%d.pkl' % (name, protocol), blob[:8192])


if __name__ == '__main__':
    main()
