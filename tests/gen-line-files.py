#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Files for test-line, written by numpy, and numpy's answers about them.

Usage: gen-line-files.py DIR STAMP
       gen-line-files.py --answer DIR QUERIES OUT

The first form writes the .npy files and DIR/manifest.txt, one line per
array, fields separated by tabs:

  array NAME FILE PART N    the 1-D array DIR/FILE of N items, plotted by
                            PART (value, real, imag, abs, angle)

The second form is numpy's side of the test: which pixel columns and items
the plot shows depends on the widget's size and zooms, which the test only
knows as it runs, so it writes the ranges it needs to QUERIES and numpy
answers them in OUT. Each QUERIES line is

  NAME KIND A B

for items A to B (included) of the array NAME, as its PART: KIND 'nan'
asks for np.nanmin and np.nanmax (NaN when all are NaN; infinities count),
'finite' for the extremes of the finite values (NaN when there are none).
OUT has one line per query: the minimum and the maximum, repr() of the
floats, separated by a tab.

numpy's AVX-512 kernels of arctan2 round differently from the C library the
core calls, so they are turned off before numpy is imported (as
gen-pyramid-cases.py does); np.angle is then the C library's atan2.
"""

import os
import sys
import warnings

os.environ.setdefault('NPY_DISABLE_CPU_FEATURES',
                      'AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL')
warnings.simplefilter('ignore')

import numpy as np  # noqa: E402

rng = np.random.default_rng(20240613)


def write_files(out_dir):
    arrays = []

    # A million values (and three), with a run of NaN long enough for
    # pixel columns of nothing but NaN, and NaN here and there.
    n = 1_000_003
    i = np.arange(n)
    long = 10 * np.sin(2 * np.pi * i / 50_000) + rng.normal(0, 0.5, n)
    long[300_000:330_000] = np.nan
    long[rng.choice(n, 2000, replace=False)] = np.nan
    long[[0, n - 1]] = (-20.0, 25.0)
    arrays.append(('long', long, 'value'))

    short = rng.normal(0, 3, 50)
    short[[7, 8]] = np.nan
    arrays.append(('short', short, 'value'))

    i16 = rng.integers(-1000, 1000, 200_000, dtype=np.int16)
    i16[[5, 123_456]] = (-32768, 32767)
    arrays.append(('i16', i16, 'value'))

    m = 300_001
    z = rng.normal(0, 1, m) + 1j * rng.normal(0, 1, m)
    z[100_000:101_000] = complex(np.nan, 0)
    z[rng.choice(m, 300, replace=False)] = complex(1, np.nan)
    z[[10, 11, 12]] = (-1, complex(-1, -0.0), 0)
    arrays.append(('c128-angle', z, 'angle'))

    # Infinities next to finite values far from the others.
    k = 20_000
    inf = np.sin(np.arange(k) / 500.0)
    inf[[7000, 7001, 12_000, 12_001]] = (-np.inf, -50.0, np.inf, 60.0)
    arrays.append(('inf', inf, 'value'))

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, 'manifest.txt'), 'w') as f:
        for name, a, part in arrays:
            np.save(os.path.join(out_dir, name + '.npy'), a)
            f.write('array\t%s\t%s.npy\t%s\t%d\n' % (name, name, part, a.size))


def part_values(a, part):
    if np.iscomplexobj(a):
        return {'real': np.real, 'imag': np.imag, 'abs': np.abs, 'value': np.abs,
                'angle': np.angle}[part](a)
    return a.astype(np.float64)


def answer(out_dir, queries, out):
    arrays = {}
    with open(os.path.join(out_dir, 'manifest.txt')) as f:
        for line in f:
            word, name, file_name, part, _ = line.rstrip('\n').split('\t')
            assert word == 'array'
            arrays[name] = part_values(np.load(os.path.join(out_dir, file_name)), part)
    results = []
    with open(queries) as f:
        for line in f:
            name, kind, a, b = line.rstrip('\n').split('\t')
            x = arrays[name][int(a):int(b) + 1]
            if kind == 'finite':
                x = x[np.isfinite(x)]
            elif kind != 'nan':
                raise ValueError(kind)
            if x.size == 0 or np.all(np.isnan(x)):
                results.append('nan\tnan')
            else:
                results.append('%r\t%r' % (float(np.nanmin(x)), float(np.nanmax(x))))
    with open(out, 'w') as f:
        f.write('\n'.join(results) + '\n')


def main():
    if len(sys.argv) == 5 and sys.argv[1] == '--answer':
        answer(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    write_files(sys.argv[1])
    with open(sys.argv[2], 'w') as f:
        f.write('ok\n')


if __name__ == '__main__':
    main()
