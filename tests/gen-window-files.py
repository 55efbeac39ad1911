#!/usr/bin/env python3
"""Files for test-window, written by numpy, with what the window must say.

Usage: gen-window-files.py DIR STAMP
"""

import os
import sys

import numpy as np


def main():
    out, stamp = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    expected = []

    def add(name, array, text):
        np.save(os.path.join(out, name), array)
        expected.append((name, text))

    a = np.arange(12, dtype='<f4').reshape(3, 4) / 7
    add('c-order.npy', a, repr(a.dtype.type(a[1, 1])))
    f = np.asfortranarray(np.arange(6, dtype='>i8').reshape(2, 3))
    add('fortran.npy', f, 'Fortran (column-major)')
    add('big-endian.npy', f, 'int64, big-endian')
    r = np.array([(1, 2.5)], dtype=[('x', '<i4'), ('y', '<f8')])
    add('record.npy', r, 'record of 2 fields')
    d = np.array(['2024-01-02T03:04:05'], dtype='M8[s]')
    add('datetime.npy', d, str(d[0]))

    with open(os.path.join(out, 'truncated.npy'), 'wb') as fp:
        np.save(fp, np.zeros(100))
    with open(os.path.join(out, 'truncated.npy'), 'r+b') as fp:
        fp.truncate(200)
    expected.append(('truncated.npy', 'truncated data'))
    with open(os.path.join(out, 'not-numpy.npy'), 'wb') as fp:
        fp.write(b'hello, world\n')
    expected.append(('not-numpy.npy', 'not a NumPy file'))

    with open(os.path.join(out, 'expected.txt'), 'w') as fp:
        for name, text in expected:
            fp.write(f'{name}\t{text}\n')
    open(stamp, 'w').close()


if __name__ == '__main__':
    main()
