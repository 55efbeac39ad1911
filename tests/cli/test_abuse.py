#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""npyview-cli on files made to hurt: zip and gzip bombs, members that
declare a terabyte, overlapping members, a central directory outside the
file, pickles with huge declared lengths, deep nesting and millions of
objects.

Each command must give a clear answer (a result, or exit status 1 with one
line naming the file) within its time limit, and the process's peak
resident memory must stay within a fixed budget (BUDGET_MB, the page cache
aside), however large the data the file claims or inflates to. In a
sanitizer build the memory is reported but not held to the budget (the
sanitizers keep freed memory in quarantine).

  test_abuse.py [--cli PATH] [--keep DIR]
"""

import argparse
import io
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import cliutil  # noqa: E402

BUDGET_MB = 256
CHUNK = 16 << 20


def npy_header(descr, shape):
    """The header np.save writes for an array of this dtype and shape."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        out, {'descr': descr, 'fortran_order': False, 'shape': shape})
    return out.getvalue()


def zeros_stream(prefix, n_zeros):
    """A raw deflate stream of @prefix then @n_zeros zero bytes, made from
    one compressed chunk repeated (each chunk ends in a full flush, so the
    copies are independent), and the CRC-32 and size of what it inflates to."""
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)]
    chunk = zlib.compressobj(9, zlib.DEFLATED, -15)
    seg = chunk.compress(bytes(CHUNK)) + chunk.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(prefix)
    zero_crc_chunk = bytes(CHUNK)
    assert n_zeros % CHUNK == 0
    for _ in range(n_zeros // CHUNK):
        out.append(seg)
        crc = zlib.crc32(zero_crc_chunk, crc)
    out.append(zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH))
    return b''.join(out), crc & 0xffffffff, len(prefix) + n_zeros


def zip64_archive(members, central=None):
    """A zip archive with zip64 fields everywhere, written by hand so that
    sizes can be anything. @members: (name, data, crc, declared_size);
    @central: (name, index of the member whose local header it points to)
    entries of the directory, by default one per member."""
    out = bytearray()
    offsets = []
    for name, data, crc, size in members:
        offsets.append(len(out))
        name_b = name.encode()
        extra = struct.pack('<HHQQ', 1, 16, size, len(data))
        out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 45, 0, 8, 0, 0x21,
                           crc, 0xffffffff, 0xffffffff, len(name_b), len(extra))
        out += name_b + extra + data
    cd_start = len(out)
    if central is None:
        central = [(m[0], i) for i, m in enumerate(members)]
    for name, i in central:
        _, data, crc, size = members[i]
        name_b = name.encode()
        extra = struct.pack('<HHQQQ', 1, 24, size, len(data), offsets[i])
        out += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45, 0, 8, 0,
                           0x21, crc, 0xffffffff, 0xffffffff, len(name_b),
                           len(extra), 0, 0, 0, 0, 0xffffffff)
        out += name_b + extra
    cd_size = len(out) - cd_start
    end64 = len(out)
    out += struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0,
                       len(central), len(central), cd_size, cd_start)
    out += struct.pack('<IIQI', 0x07064b50, 0, end64, 1)
    out += struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 0xffff, 0xffff,
                       0xffffffff, 0xffffffff, 0)
    return bytes(out)


class Case:
    def __init__(self, name, data, expect, commands, why, contains=()):
        self.name = name
        self.data = data
        self.expect = expect        # {command: exit status}
        self.commands = commands
        self.why = why
        self.contains = contains    # words the error line must hold


def cases():
    bomb = 512 << 20
    out = []

    # 512 MiB of zeros in 0.5 MiB: honest sizes, inflated only as far as
    # asked, through checkpoints that are thinned as they multiply.
    header = npy_header('<f8', (bomb // 8,))
    stream, crc, size = zeros_stream(header, bomb)
    out.append(Case('bomb.npz', zip64_archive([('zeros.npy', stream, crc, size)]),
                    {'info': 0, 'show': 0, 'stats': 0, 'thumbnail': 0},
                    ('info', 'show', 'stats', 'thumbnail'),
                    '%d MiB of zeros deflated to %d KiB' % (bomb >> 20, len(stream) >> 10)))

    # A member that declares a terabyte and holds 64 MiB.
    tib = 1 << 40
    header = npy_header('<f8', (tib // 8,))
    small, crc, _ = zeros_stream(header, 64 << 20)
    out.append(Case('declares-1tib.npz', zip64_archive([('big.npy', small, crc, len(header) + tib)]),
                    {'info': 0, 'show': 1, 'stats': 1, 'thumbnail': 1},
                    ('info', 'show', 'stats', 'thumbnail'),
                    'a member declaring 1 TiB that inflates to 64 MiB',
                    contains=('declares-1tib.npz',)))

    # The "better zip bomb": 300 directory entries share one member's bytes.
    header = npy_header('<f8', ((256 << 20) // 8,))
    stream, crc, size = zeros_stream(header, 256 << 20)
    central = [('m%03d.npy' % i, 0) for i in range(300)]
    out.append(Case('overlapping.npz', zip64_archive([('m000.npy', stream, crc, size)], central),
                    {'info': 0, 'show --member m005': 1, 'stats --member m299': 1},
                    ('info', 'show --member m005', 'stats --member m299'),
                    '300 members overlapping one 256 MiB stream',
                    contains=('shares its bytes',)))

    # A directory that points past the end of the file.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as z:
        z.writestr('a.npy', npy_header('<f8', (1,)) + bytes(8))
    data = bytearray(buf.getvalue())
    end = data.rfind(b'PK\x05\x06')
    struct.pack_into('<I', data, end + 16, 0x7fff0000)
    out.append(Case('directory-outside.npz', bytes(data), {'info': 1, 'show': 1},
                    ('info', 'show'), 'a central directory past the end of the file',
                    contains=('outside the file',)))

    # A gzip bomb: the same zeros in a .npy.gz.
    header = npy_header('<f8', (bomb // 8,))
    raw, crc, size = zeros_stream(header, bomb)
    gz = (b'\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff' + raw +
          struct.pack('<II', crc, size & 0xffffffff))
    out.append(Case('bomb.npy.gz', gz, {'info': 0, 'show': 0, 'stats': 0},
                    ('info', 'show', 'stats'), '%d MiB of zeros in a gzip file' % (bomb >> 20)))

    # Pickles that declare more than they hold, or nest without end.
    for opcode, name in ((b'\x8e', 'BINBYTES8'), (b'\x8d', 'BINUNICODE8'),
                         (b'\x8a\xff\xff\xff\x7f', 'LONG4'), (b'\x95', 'FRAME')):
        length = b'' if name == 'LONG4' else struct.pack('<Q', 1 << 62)
        data = b'\x80\x04' + opcode + length + b'x' * 64
        out.append(Case('huge-%s.pkl' % name, data, {'info': 1, 'show': 1},
                        ('info', 'show'), 'a pickle whose %s declares 2**62 bytes' % name))
    depth = 200000
    out.append(Case('deep-lists.pkl', b'\x80\x02' + b']' * depth + b'a' * (depth - 1) + b'.',
                    {'info': 1, 'show': 1}, ('info', 'show'),
                    'lists nested %d deep' % depth, contains=('deep',)))
    out.append(Case('deep-marks.pkl', b'\x80\x02' + b'(' * depth + b'.',
                    {'info': 1}, ('info',), '%d marks' % depth))
    n = 20_000_000
    out.append(Case('many-objects.pkl', b'\x80\x02](' + b'N' * n + b'e.',
                    {'info': 1}, ('info',), 'a list of %d Nones' % n,
                    contains=('memory',)))
    return out


def is_sanitized(cli):
    try:
        libs = subprocess.run(['ldd', cli], capture_output=True, text=True).stdout
    except OSError:
        return False
    return 'libasan' in libs or 'libubsan' in libs


def vm_hwm_mb(pid):
    """The peak resident memory of @pid's current program (VmHWM: it starts
    afresh at exec, unlike getrusage's maximum), or None once it is gone."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_measured(cli, args, timeout):
    """Runs the CLI; returns (status, stderr, seconds, peak RSS in MiB), the
    status None after a timeout. The peak is read every few milliseconds
    while it runs."""
    with tempfile.TemporaryFile() as err_file:
        t0 = time.monotonic()
        p = subprocess.Popen([cli] + args, stdout=subprocess.DEVNULL, stderr=err_file,
                             start_new_session=True)
        peak = 0.0
        status = None
        while True:
            # Read before reaping: a zombie has no memory figures.
            hwm = vm_hwm_mb(p.pid)
            if hwm is not None:
                peak = max(peak, hwm)
            status = p.poll()
            if status is not None:
                break
            if time.monotonic() - t0 > timeout:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                status = None
                break
            time.sleep(0.005)
        seconds = time.monotonic() - t0
        err_file.seek(0)
        err = err_file.read().decode('utf-8', 'replace')
    return status, err, seconds, peak


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cliutil.add_cli_argument(ap)
    ap.add_argument('--keep', help='write the files here and keep them')
    args = ap.parse_args(argv)
    cli = cliutil.require_cli(args.cli)
    sanitized = is_sanitized(cli)
    report = cliutil.Report('abuse')
    t_start = time.monotonic()
    runs = 0
    root = args.keep or tempfile.mkdtemp(prefix='npv-abuse-')
    os.makedirs(root, exist_ok=True)
    limit = args.timeout * (4 if sanitized else 1)

    for case in cases():
        path = os.path.join(root, case.name)
        with open(path, 'wb') as f:
            f.write(case.data)
        for command in case.commands:
            argv_ = command.split()[:1] + [path] + command.split()[1:]
            if command == 'thumbnail':
                argv_.append(os.path.join(root, 'thumb.png'))
            status, err, seconds, peak = run_measured(cli, argv_, limit)
            runs += 1
            where = '%s (%s)' % (case.name, case.why)
            cmd = 'npyview-cli ' + ' '.join(argv_).replace(root + '/', '')
            print('%-22s %-9s status %-4s %6.2f s %7.1f MiB' %
                  (case.name, command, status, seconds, peak), flush=True)
            if status is None:
                report.fail(where, cmd, 'did not finish within %.0f s' % limit)
                continue
            if status < 0:
                report.fail(where, cmd, 'crashed with signal %d: %s' % (-status, err[-300:]))
                continue
            markers = [m for m in cliutil.BUG_MARKERS if m in err]
            report.check(not markers, where, cmd, 'stderr shows a bug: %s' % err[-300:])
            report.check(status == case.expect[command], where, cmd,
                         'exit status %d, expected %d; stderr: %s' %
                         (status, case.expect[command], err.strip()[-300:]))
            if status == 1:
                lines = [ln for ln in err.splitlines() if ln.strip()]
                report.check(len(lines) == 1 and case.name in lines[0], where, cmd,
                             'expected one error line naming the file, got %r' % err[-300:])
                for word in case.contains:
                    report.check(word in err, where, cmd, 'the error does not say %r: %s' %
                                 (word, err.strip()))
            if not sanitized:
                report.check(peak <= BUDGET_MB, where, cmd,
                             'peak memory %.0f MiB, over the %d MiB budget' % (peak, BUDGET_MB))

    # Work on a bomb stops at once when asked (Ctrl+C).
    path = os.path.join(root, 'bomb.npz')
    p = subprocess.Popen([cli, 'stats', path], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(0.3)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=5)
        stopped = time.monotonic() - t0
        print('stats interrupted after 0.3 s: stopped %.2f s after SIGINT' % stopped)
        report.check(p.returncode != 0, 'bomb.npz', 'npyview-cli stats + SIGINT',
                     'finished normally although interrupted')
    except subprocess.TimeoutExpired:
        p.kill()
        report.fail('bomb.npz', 'npyview-cli stats + SIGINT', 'still running 5 s after SIGINT')
    runs += 1

    if not args.keep:
        for name in os.listdir(root):
            os.unlink(os.path.join(root, name))
        os.rmdir(root)
    return report.finish(runs, time.monotonic() - t_start)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
