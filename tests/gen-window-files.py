#!/usr/bin/env python3
"""Files for test-window, written by numpy, with what the window must show.

Usage: gen-window-files.py DIR STAMP

DIR/manifest.txt holds one directive per line, its fields separated by
tabs; TEXT fields are escaped as C strings (backslash, newline, tab), which
g_strcompress() undoes. Lines starting with '#' are comments.

Cases, run in order by /window/numpy-files (which checks all but the values),
/window/numpy-items ('items') and /window/numpy-str ('text'):
  file NAME            open DIR/NAME in a new window and wait
  page PAGE            the page shown now (values, error, member-error, ...)
  text TEXT            the values are exactly TEXT: numpy's str() of the array
  items TEXT           the values, once brackets are dropped and runs of white
                       space made one space, are TEXT: each item shown as numpy
                       writes that item on its own, "..." where an axis is
                       summarised (the layout the README promises)
  has TEXT             the page's text contains TEXT
  tree TEXT            the visible rows of the member tree are exactly TEXT
  select MEMBER        select MEMBER and wait
  filter TEXT          type TEXT into the member filter and wait
  info KEY VALUE       the info panel has the line KEY<TAB>VALUE
  info-size KEY BYTES  the same, VALUE being BYTES as GLib formats sizes
  no-info KEY          the info panel has no line for KEY
The window showing a case is closed at the next 'file' and at the end.

Facts for the other tests:
  fact NAME KEY TEXT   e.g. the values text of reload-a.npy
"""

import gzip
import io
import os
import pickle
import struct
import sys
import zipfile
import zlib

import numpy as np

SMALL = 1000   # numpy's print threshold: below it str() shows every item


def esc(text):
    return (text.replace('\\', '\\\\').replace('\n', '\\n')
            .replace('\t', '\\t').replace('\r', '\\r'))


def npy_bytes(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def npy_layout(data):
    """(header version, data offset) of the .npy in bytes DATA."""
    fp = io.BytesIO(data)
    version = np.lib.format.read_magic(fp)
    np.lib.format._read_array_header(fp, version)
    return version, fp.tell()


def dtype_name(dtype):
    """What the member tree calls a dtype: numpy's name for plain ones."""
    if dtype.names is not None:
        n = len(dtype.names)
        return f'record of {n} field{"" if n == 1 else "s"}'
    if dtype.kind == 'U':
        return f'text, {dtype.itemsize // 4} characters'
    if dtype.kind == 'S':
        return f'bytes, {dtype.itemsize} long'
    return dtype.name


def is_plain(dtype):
    return dtype.names is None and dtype.kind in 'biufcMm'


def is_fortran(array):
    return array.ndim > 1 and array.flags.f_contiguous and not array.flags.c_contiguous


def item_text(x):
    """An item as numpy writes it on its own: str() of its scalar, text
    quoted, a record as the tuple of its fields written so."""
    if isinstance(x, (np.str_, np.bytes_)):
        return repr(x.item())
    if isinstance(x, np.void) and x.dtype.names is not None:
        return '(' + ', '.join(item_text(x[name]) for name in x.dtype.names) + ')'
    return str(x)


def items_text(a):
    """The items a preview shows, as 'items' compares them."""
    summarise = a.size > SMALL
    words = []

    def walk(v):
        if v.ndim == 0:
            words.append(item_text(v[()] if isinstance(v, np.ndarray) else v))
            return
        n = v.shape[0]
        edge = 3
        for i in range(n):
            if summarise and n > 2 * edge and edge <= i < n - edge:
                if i == edge:
                    words.append('...')
                continue
            walk(v[i])

    walk(a)
    return ' '.join(' '.join(words).replace('[', '').replace(']', '').split())


class Member:
    """One array as the window must describe it."""

    def __init__(self, name, array, storage, fmt, *, size=None, csize=None,
                 npy=None, offset=None, broken=False):
        self.name = name            # the path in the tree ("" for a plain .npy)
        self.array = array
        self.storage = storage      # mapped, stored, deflate, gzip, pickle
        self.format = fmt           # npy, npz, npy.gz, pickle
        self.size = size            # uncompressed and compressed bytes
        self.csize = csize
        self.npy = npy              # the member's .npy bytes, when it has some
        self.offset = offset        # where those bytes start in the file
        self.broken = broken

    def storage_words(self):
        if self.storage in ('deflate', 'gzip') and self.size and self.csize:
            return f'{self.storage}, {100.0 * self.csize / self.size:.0f}%'
        return self.storage

    def brief(self):
        if self.broken:
            return 'cannot be read'
        a = self.array
        return f'{a.shape} {dtype_name(a.dtype)} · {self.storage_words()}'

    def info(self):
        """Directives: the info panel while this member is selected."""
        a = self.array
        out = []
        if self.name:
            out.append(('info', 'Member', self.name))
        if is_plain(a.dtype):
            order = {'<': ', little-endian', '>': ', big-endian'}.get(a.dtype.str[0], '')
            out.append(('info', 'Data type', a.dtype.name + order))
        out.append(('info', 'dtype', a.dtype.str))
        out.append(('info', 'Shape', str(a.shape)))
        out.append(('info', 'Elements', str(a.size)))
        out.append(('info', 'Order', 'Fortran (column-major)' if is_fortran(a) else 'C (row-major)'))
        n = a.dtype.itemsize
        out.append(('info', 'Item size', f'{n} byte{"" if n == 1 else "s"}'))
        out.append(('info', 'Storage', self.storage_words()))
        if self.storage in ('deflate', 'gzip'):
            out.append(('info-size', 'Compressed', str(self.csize)))
        else:
            out.append(('no-info', 'Compressed'))
        if self.npy is not None:
            version, start = npy_layout(self.npy)
            out.append(('info', 'Header version', f'{version[0]}.{version[1]}'))
            if self.offset is not None:
                out.append(('info', 'Data offset', str(self.offset + start)))
            else:
                out.append(('no-info', 'Data offset'))
        out.append(('info', 'Format', self.format))
        return out

    def shown(self):
        """Directives: the page and values once this member is read."""
        if self.broken:
            return [('page', 'member-error')]
        # Summarised arrays too: numpy's str() of them is cheap.
        return [('page', 'values'), ('text', str(self.array)), ('items', items_text(self.array))]


class Node:
    def __init__(self, name, path):
        self.name = name
        self.path = path
        self.member = None
        self.children = []

    def count(self):
        return (self.member is not None) + sum(c.count() for c in self.children)


def build_tree(members):
    """The member tree as npyview builds it (names without empty parts)."""
    root = Node('', '')
    folders = {}
    for m in members:
        parts = [p for p in m.name.split('/') if p] or [m.name]
        parent = root
        for k in range(len(parts) - 1):
            path = '/'.join(parts[:k + 1])
            if path not in folders:
                node = Node(parts[k], path)
                parent.children.append(node)
                folders[path] = node
            parent = folders[path]
        path = '/'.join(parts)
        node = folders.get(path)
        if node is None or node.member is not None:
            node = Node(parts[-1], path)
            parent.children.append(node)
        node.member = m
        folders.setdefault(path, node)
    return root


def first_array(node):
    if node.member is not None and not node.member.broken:
        return node
    for child in node.children:
        found = first_array(child)
        if found is not None:
            return found
    return None


def ancestors(path):
    parts = path.split('/')
    return {'/'.join(parts[:k]) for k in range(1, len(parts))}


def tree_text(root, expanded):
    """The visible rows with the folders in EXPANDED open."""
    rows = []

    def walk(node, depth):
        for child in node.children:
            if child.member is not None:
                brief = child.member.brief()
            else:
                n = child.count()
                brief = f'{n} member{"" if n == 1 else "s"}'
            rows.append('  ' * depth + f'{child.name}\t{brief}\n')
            if child.children and child.path in expanded:
                walk(child, depth + 1)

    walk(root, 0)
    return ''.join(rows)


def flat_text(root, needle):
    """The filtered list: matching members as paths, in the tree's order."""
    rows = []

    def walk(node):
        m = node.member
        if m is not None and needle.casefold() in node.path.casefold():
            rows.append(f'{node.path}\t{m.brief()}\n')
        for child in node.children:
            walk(child)

    walk(root)
    return ''.join(rows)


def head(zf, info):
    """The start of a member, enough for its .npy header (and no CRC check)."""
    with zf.open(info) as fp:
        return fp.read(1 << 16)


def zip_members(path, arrays, fmt='npz'):
    """Members of a zip written by numpy, in the order of its directory."""
    out = []
    with zipfile.ZipFile(path) as zf, open(path, 'rb') as fp:
        for info in zf.infolist():
            fp.seek(info.header_offset)
            local = fp.read(30)
            name_len, extra_len = struct.unpack('<HH', local[26:30])
            start = info.header_offset + 30 + name_len + extra_len
            name = info.filename[:-4] if info.filename.endswith('.npy') else info.filename
            stored = info.compress_type == zipfile.ZIP_STORED
            array = arrays.get(name)
            out.append(Member(name, array, 'stored' if stored else 'deflate', fmt,
                              size=info.file_size, csize=info.compress_size,
                              npy=head(zf, info) if array is not None else None,
                              offset=start if stored else None,
                              broken=array is None))
    return out


def main():
    out, stamp = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    # numpy's defaults: what str() of an array gives unless told otherwise.
    np.set_printoptions(edgeitems=3, threshold=SMALL, linewidth=75, precision=8,
                        suppress=False, floatmode='maxprec', sign='-', legacy=False,
                        nanstr='nan', infstr='inf', formatter=None)
    lines = []

    def emit(*fields):
        lines.append('\t'.join(fields[:1] + tuple(esc(f) for f in fields[1:])))

    def path_of(name):
        return os.path.join(out, name)

    def case(name, members, *, select_all=True, extra=None):
        """An archive or .npy whose members all must show as numpy says."""
        root = build_tree(members)
        first = first_array(root)
        emit('file', name)
        emit('tree', tree_text(root, ancestors(first.path)))
        for d in first.member.shown() + first.member.info():
            emit(*d)
        emit('info-size', 'File size', str(os.path.getsize(path_of(name))))
        if select_all:
            expanded = ancestors(first.path)
            for m in members:
                emit('select', m.name)
                expanded |= ancestors(m.name)
                for d in m.shown() + (m.info() if not m.broken else []):
                    emit(*d)
                if m.broken:
                    emit('has', os.path.basename(name))
            emit('tree', tree_text(root, expanded))
        if extra is not None:
            extra(root, members)

    def npy_case(name, array):
        data = npy_bytes(array)
        with open(path_of(name), 'wb') as fp:
            fp.write(data)
        case(name, [Member('', array, 'mapped', 'npy', npy=data, offset=0)], select_all=False)

    # Plain .npy files
    npy_case('c-order.npy', np.arange(12, dtype='<f4').reshape(3, 4) / np.float32(7))
    npy_case('fortran-big-endian.npy', np.asfortranarray((np.arange(6).reshape(2, 3) - 2).astype('>i8')))
    npy_case('records.npy', np.array([(1, 2.5), (-3, 1e-7), (5, np.nan)],
                                     dtype=[('x', '<i4'), ('y', '<f8')]))
    npy_case('datetime.npy', np.array(['2024-01-02T03:04:05', '1969-12-31T23:59:59'], dtype='M8[s]'))
    npy_case('scalar.npy', np.array(1.5))
    npy_case('bool.npy', np.array([[True, False], [False, True]]))
    npy_case('summarised.npy', np.arange(3000, dtype='<f8').reshape(30, 100) * 0.5)

    rng = np.random.default_rng(4)

    # An .npz of stored members, some in folders; its names are filtered.
    stored = {
        'counts': np.array([3, -1, 4, 1, -5], dtype='<i2'),
        'experiment/run-1/x': (np.arange(6, dtype='<f4').reshape(2, 3) - 2.5) / 3,
        'experiment/run-2/x': np.array([0.1, -2.0, np.inf, 1e10]),
        'runtime': np.array([7, 8, 255], dtype='u1'),
        'other/flags': np.array([[True, False], [True, True]]),
        'Run-summary': np.array([1 + 2j, -0.5j], dtype='<c8'),
        'labels': np.array(['alpha', 'be'], dtype='<U5'),
        'experiment/notes': np.arange(1200, dtype='<i8').reshape(40, 30),
    }
    np.savez(path_of('stored.npz'), **stored)
    members = zip_members(path_of('stored.npz'), stored)

    def filtering(root, members):
        emit('filter', 'run')
        emit('tree', flat_text(root, 'run'))
        emit('select', 'experiment/run-2/x')
        run2 = next(m for m in members if m.name == 'experiment/run-2/x')
        for d in run2.shown() + run2.info():
            emit(*d)
        emit('filter', 'RUN')
        emit('tree', flat_text(root, 'RUN'))
        emit('info', 'Member', 'experiment/run-2/x')
        # Back to the tree, with the member shown kept and its folders open.
        emit('filter', '')
        emit('tree', tree_text(root, ancestors('experiment/run-2/x')))
        emit('info', 'Member', 'experiment/run-2/x')
        emit('page', 'values')
        emit('filter', 'no such member')
        emit('tree', '')
        emit('filter', '')
        emit('tree', tree_text(root, set()))

    case('stored.npz', members, extra=filtering)

    # An .npz of deflated members, and a positional one.
    deflated = {
        'a': np.linspace(-1, 1, 100).reshape(10, 10),
        'group/b': np.arange(100, dtype='<i4') % 7,
        'group/sub/c': rng.random((3, 3, 3)).astype('<f4'),
        'group/sub/d': np.array([1.5, 2.5], dtype='>f8'),
        'long': np.sin(np.arange(5000) / 10.0),
    }
    np.savez_compressed(path_of('deflated.npz'), **deflated)
    case('deflated.npz', zip_members(path_of('deflated.npz'), deflated))

    np.savez(path_of('positional.npz'), np.arange(4, dtype='<u2'), np.eye(2))
    case('positional.npz', zip_members(path_of('positional.npz'),
                                       {'arr_0': np.arange(4, dtype='<u2'), 'arr_1': np.eye(2)}))

    # .npy.gz: the gzip of an .npy.
    gz_array = (np.arange(20, dtype='<i4') * 3 - 7).reshape(4, 5)
    gz_data = npy_bytes(gz_array)
    with open(path_of('array.npy.gz'), 'wb') as fp:
        fp.write(gzip.compress(gz_data, mtime=0))
    case('array.npy.gz', [Member('', gz_array, 'gzip', 'npy.gz', size=len(gz_data),
                                 csize=os.path.getsize(path_of('array.npy.gz')), npy=gz_data)],
         select_all=False)

    # Pickle files: a dict of arrays, with protocols 4 and 5.
    for protocol in (4, 5):
        arrays = {
            'x': np.array([0.5, -1.25, 3.0]),
            'y': np.asfortranarray(np.arange(6, dtype='<i2').reshape(2, 3)),
            'run/z': None,      # filled below: a nested dict
            'w': (np.arange(6, dtype='<f4') / 4).reshape(3, 2),
        }
        z = np.array([1, 2, 250], dtype='u1')
        tree = {'x': arrays['x'], 'y': arrays['y'], 'run': {'z': z}, 'w': arrays['w']}
        arrays['run/z'] = z
        name = f'dict-protocol-{protocol}.pkl'
        with open(path_of(name), 'wb') as fp:
            pickle.dump(tree, fp, protocol=protocol)
        case(name, [Member(k, v, 'pickle', 'pickle') for k, v in arrays.items()])

    # Files that cannot be read: the error page names them.
    def error_case(name, *words):
        emit('file', name)
        emit('page', 'error')
        emit('has', name)
        for w in words:
            emit('has', w)
        emit('tree', '')

    with open(path_of('truncated.npy'), 'wb') as fp:
        fp.write(npy_bytes(np.zeros(100))[:200])
    error_case('truncated.npy')
    with open(path_of('not-numpy.npy'), 'wb') as fp:
        fp.write(b'hello, world\n')
    error_case('not-numpy.npy')
    with open(path_of('truncated.npz'), 'wb') as fp:
        buf = io.BytesIO()
        np.savez(buf, a=np.arange(100), b=np.ones(50))
        fp.write(buf.getvalue()[:len(buf.getvalue()) // 2])
    error_case('truncated.npz')
    with open(path_of('empty.npy'), 'wb') as fp:
        pass
    error_case('empty.npy')
    error_case('does-not-exist.npy')

    # A zip with a member whose .npy header is garbage, before a good one.
    good = np.arange(6, dtype='<f8').reshape(2, 3) / 4
    with zipfile.ZipFile(path_of('bad-member.npz'), 'w') as zf:
        header = b"{'descr': <f8, this is not a literal }".ljust(117) + b'\n'
        zf.writestr('bad.npy', b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header
                    + bytes(24))
        zf.writestr('good.npy', npy_bytes(good))
    case('bad-member.npz', zip_members(path_of('bad-member.npz'), {'good': good}))
    emit('select', 'bad')
    emit('page', 'member-error')
    emit('has', 'bad-member.npz')
    emit('has', 'bad.npy')
    emit('select', 'good')
    emit('page', 'values')
    emit('text', str(good))
    emit('items', items_text(good))

    # A deflated member with one byte flipped in its data: its header reads
    # well, inflating works, and the CRC-32 tells.
    noise = rng.integers(0, 256, 200000, dtype='u1')
    crc_arrays = {'good': np.arange(10, dtype='<i8') ** 2, 'noise': noise}
    buf = io.BytesIO()
    np.savez_compressed(buf, **crc_arrays)
    data = bytearray(buf.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo('noise.npy')
    name_len, extra_len = struct.unpack('<HH', data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    clean = zlib.decompress(bytes(data[start:start + info.compress_size]), -15)
    for at in range(start + info.compress_size // 2, start + info.compress_size):
        data[at] ^= 0x20
        try:
            damaged = zlib.decompress(bytes(data[start:start + info.compress_size]), -15)
        except zlib.error:
            damaged = None
        if (damaged is not None and len(damaged) == len(clean) and damaged[:256] == clean[:256]
                and zlib.crc32(damaged) != info.CRC):
            break
        data[at] ^= 0x20
    else:
        sys.exit('gen-window-files: found no byte to flip for the CRC case')
    with open(path_of('crc.npz'), 'wb') as fp:
        fp.write(data)
    case('crc.npz', zip_members(path_of('crc.npz'), crc_arrays), select_all=False)
    emit('select', 'noise')
    emit('page', 'member-error')
    emit('has', 'crc.npz')
    emit('has', 'CRC')
    for d in Member('noise', noise, 'deflate', 'npz', size=info.file_size,
                    csize=info.compress_size).info():
        if d[0] != 'no-info':
            emit(*d)
    emit('select', 'good')
    emit('page', 'values')
    emit('text', str(crc_arrays['good']))
    emit('items', items_text(crc_arrays['good']))
    emit('select', 'noise')
    emit('page', 'member-error')

    # Facts for the other tests.
    # (Integers: the preview lays them out exactly as numpy's str() does, so
    # these check the reload and nothing else.)
    for name, array in (('reload-a.npy', np.arange(6, dtype='<i8').reshape(2, 3) * 111),
                        ('reload-b.npy', np.array([[10, -20], [30, -40], [50, -60]], dtype='>i4'))):
        np.save(path_of(name), array)
        emit('fact', name, 'text', str(array))
        emit('fact', name, 'Shape', str(array.shape))
        emit('fact', name, 'dtype', array.dtype.str)

    # More members than the member list shows at first (it lists 20,000 at
    # a time): the last one is selected by name by /window/many-members.
    many = {'m%d' % i: np.array([i, -i], dtype='<i4') for i in range(50000)}
    np.savez(path_of('many.npz'), **many)
    emit('fact', 'many.npz', 'last', str(many['m49999']))

    # Tall enough that its last rows are far from its first page: cut short
    # under the window by /window/changed-on-disk.
    np.save(path_of('tall.npy'), np.arange(400000.0).reshape(40000, 10))

    # A deflated member big enough that indexing it takes a while: 48 MiB.
    big = (np.sin(np.arange(12 << 20) / 1000.0) * 1000).astype('<f4')
    np.savez_compressed(path_of('big.npz'), big=big)
    emit('fact', 'big.npz', 'Shape', str(big.shape))
    # Its values too: the last ones are read from far into the member.
    case('big.npz', zip_members(path_of('big.npz'), {'big': big}), select_all=False)

    # Export from the window: a 3-D array and what np.save writes for the
    # selection a[0, 1:4, 2:5], the plane a[0] and the whole of it; and a
    # record array with a selection inside one field.
    cube = (np.arange(2 * 5 * 7).reshape(2, 5, 7) * 1.5 - 7).astype('>f4')
    np.save(path_of('export-3d.npy'), cube)
    np.save(path_of('export-3d-selection.npy'), cube[0, 1:4, 2:5])
    np.save(path_of('export-3d-plane.npy'), cube[0, :, :])
    # The plane as PNG: matplotlib's viridis of its values over the whole
    # array's range (the heatmap's default), as raw RGB bytes row by row.
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    norm = Normalize(float(np.nanmin(cube)), float(np.nanmax(cube)))
    rgb = colormaps['viridis'](norm(cube[0].astype(np.float64)), bytes=True)[..., :3]
    with open(path_of('export-3d-plane.rgb'), 'wb') as fp:
        fp.write(np.ascontiguousarray(rgb, np.uint8).tobytes())
    recs = np.array([(i, i * 0.25) for i in range(6)], dtype=[('i', '<i4'), ('x', '<f8')])
    np.save(path_of('export-rec.npy'), recs)
    np.save(path_of('export-rec-selection.npy'), recs[1:4]['x'])

    with open(path_of('manifest.txt'), 'w', encoding='utf-8') as fp:
        fp.write('# made by gen-window-files.py: see there\n')
        for line in lines:
            fp.write(line + '\n')
    open(stamp, 'w').close()


if __name__ == '__main__':
    main()
