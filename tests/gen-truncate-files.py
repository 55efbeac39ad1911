#!/usr/bin/env python3
"""Files for test-truncate, written by numpy: OUTDIR/objects.pkl (a pickle
whose object array holds long strings and bytes, read in the mapping),
OUTDIR/stored.npz (np.savez: members stored, read in place) and
OUTDIR/big.npy (32 MiB of float64 for the child-process tests)."""

import os
import pickle
import sys

import numpy as np


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    objects = np.empty(64, dtype=object)
    for i in range(64):
        objects[i] = ('text %d ' % i) * 2000 if i % 2 else bytes([i]) * 20000
    with open(os.path.join(out, 'objects.pkl'), 'wb') as f:
        pickle.dump({'objects': objects, 'numbers': np.arange(10.0)}, f, protocol=4)
    np.savez(os.path.join(out, 'stored.npz'), a=np.arange(512 * 512, dtype='<f8').reshape(512, 512),
             b=np.ones(3))
    np.save(os.path.join(out, 'big.npy'), np.linspace(0, 1, 4 << 20).reshape(2048, 2048))
    open(sys.argv[2], 'w').close()


if __name__ == '__main__':
    main()
