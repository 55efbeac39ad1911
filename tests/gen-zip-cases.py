#!/usr/bin/env python3
"""Zip archives written by numpy and Python, with what zipfile reads in them.

Usage: gen-zip-cases.py OUTDIR STAMP

OUTDIR/expected.txt has one line per member:
  ARCHIVE<TAB>INDEX<TAB>NAME(hex UTF-8)<TAB>METHOD<TAB>CRC<TAB>CSIZE<TAB>USIZE<TAB>HEADER_OFFSET<TAB>DATA_OFFSET
and a line "ARCHIVE<TAB>count<TAB>N" per archive; "ARCHIVE<TAB>error" for
archives whose directory must be refused.
"""

import os
import struct
import subprocess
import sys
import zipfile

import numpy as np


def data_offset(path, info):
    with open(path, 'rb') as fp:
        fp.seek(info.header_offset)
        local = fp.read(30)
        assert local[:4] == b'PK\x03\x04'
        name_len, extra_len = struct.unpack('<HH', local[26:30])
        return info.header_offset + 30 + name_len + extra_len


def main():
    out, stamp = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    lines = []
    rng = np.random.default_rng(3)

    def archive(name, writer):
        path = os.path.join(out, name)
        writer(path)
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
        lines.append(f'{name}\tcount\t{len(infos)}')
        for i, info in enumerate(infos):
            lines.append('\t'.join(str(x) for x in (
                name, i, info.filename.encode('utf-8').hex(), info.compress_type,
                info.CRC, info.compress_size, info.file_size, info.header_offset,
                data_offset(path, info))))

    archive('savez.npz', lambda p: np.savez(p, a=np.arange(10), b=rng.random((3, 4))))
    archive('compressed.npz', lambda p: np.savez_compressed(
        p, a=np.arange(1000), b=rng.random((30, 40)), c=np.zeros(5000)))
    archive('names.npz', lambda p: np.savez(p, **{
        'dir/b': np.ones(3), '/abs': np.ones(2), '../up': np.ones(1),
        'x.npy': np.arange(3), 'Größe': np.zeros(2), '優良': np.ones(4)}))
    archive('positional.npz', lambda p: np.savez(p, np.arange(3), np.arange(4)))
    archive('empty.npz', lambda p: np.savez(p))
    archive('many.npz', lambda p: np.savez(p, **{f'm{i}': np.array(i) for i in range(1000)}))

    def to_pipe(path):
        # A zip written to a pipe has data descriptors (flag bit 3).
        code = ("import sys, numpy as np\n"
                "class W:\n"
                "    def __init__(s, f): s.f = f\n"
                "    def write(s, b): return s.f.write(b)\n"
                "    def flush(s): s.f.flush()\n"
                "    def read(s, n=-1): raise OSError('a pipe')\n"
                "np.savez_compressed(W(sys.stdout.buffer), a=np.arange(6), b=np.ones((2, 2)))\n")
        with open(path, 'wb') as fp:
            subprocess.run([sys.executable, '-c', code], stdout=fp, check=True)
    archive('pipe.npz', to_pipe)

    def plain_zip(path):
        with zipfile.ZipFile(path, 'w') as zf:
            zf.writestr('notes.txt', 'not an array\n')
            zf.writestr(zipfile.ZipInfo('dir/'), b'')
            with zf.open('arr.npy', 'w', force_zip64=True) as fp:
                np.lib.format.write_array(fp, np.arange(5))
    archive('mixed.zip', plain_zip)

    def commented(path):
        with zipfile.ZipFile(path, 'w') as zf:
            zf.comment = b'a comment at the end of the archive'
            zf.writestr('a.npy', b'x' * 10)
    archive('comment.zip', commented)

    # Refused: cut short, directory pointing outside the file, junk.
    good = open(os.path.join(out, 'savez.npz'), 'rb').read()
    with open(os.path.join(out, 'cut.npz'), 'wb') as fp:
        fp.write(good[:len(good) // 2])
    lines.append('cut.npz\terror')
    bad = bytearray(good)
    end = bad.rindex(b'PK\x05\x06')
    bad[end + 16:end + 20] = struct.pack('<I', len(good) * 4)
    with open(os.path.join(out, 'outside.npz'), 'wb') as fp:
        fp.write(bad)
    lines.append('outside.npz\terror')
    bad = bytearray(good)
    bad[end + 10:end + 12] = struct.pack('<H', 60000)
    with open(os.path.join(out, 'count.npz'), 'wb') as fp:
        fp.write(bad)
    lines.append('count.npz\terror')
    with open(os.path.join(out, 'junk.npz'), 'wb') as fp:
        fp.write(b'PK\x03\x04' + bytes(rng.integers(0, 256, 500, dtype=np.uint8)))
    lines.append('junk.npz\terror')

    with open(os.path.join(out, 'expected.txt'), 'w') as fp:
        fp.write('\n'.join(lines) + '\n')
    open(stamp, 'w').close()


if __name__ == '__main__':
    main()
