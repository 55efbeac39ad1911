#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""`npyview-cli stats --json FILE [--slice E] [--field F]` against numpy.

Expected, on the selected values a = np.load(FILE)[F][E] (bool and integer
values taken as float64):

  count      a.size
  nan_count  np.isnan(a).sum()
  inf_count  np.isinf(a).sum()
  min, max   np.nanmin(a), np.nanmax(a)        exact; null when no values
  mean       np.nanmean(a, dtype=np.float64)   relative tolerance 1e-9
  std        np.nanstd(a, dtype=np.float64)    (ddof 0), same tolerance

NaN results are null (NaN is accepted too); infinities are Infinity /
-Infinity (or a number that overflows to them). One ~50 MB float32 array
exercises the multi-threaded path.

  test_stats.py [--cli PATH] [--keep DIR] [--no-big]
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import cliutil  # noqa: E402
import expect  # noqa: E402

REL_TOL = 1e-9
BIG_TIMEOUT = 120.0


def cases(rng, big=True):
    """(name, array, [(slice, field), ...])"""
    i64 = np.iinfo(np.int64)
    u64 = np.iinfo(np.uint64)
    f4 = rng.standard_normal(200).astype('<f4') * 10
    f4[::17] = np.nan
    f4[5] = np.inf
    f4[9] = -np.inf
    f2 = (rng.standard_normal(100) * 100).astype('<f2')
    f2[3] = np.nan
    ld = (rng.standard_normal(100) * 1e3).astype(np.longdouble)
    ld[::7] = np.longdouble(1) / np.longdouble(3)
    wide = np.array([5e-324, -5e-324, 1e308, -1e308, 0.0, -0.0, 2.5e-310,
                     1e-300, np.nan], '<f8')
    grid = rng.standard_normal((50, 40)) * 5 + 3
    ford = np.asfortranarray(rng.uniform(-1e6, 1e6, (60, 30)))
    rec = np.zeros(50, np.dtype([('x', '<f4'), ('a', [('b', '>i2'),
                                                      ('c', '<f8', (3,))])]))
    rec['x'] = rng.standard_normal(50)
    rec['x'][[3, 9]] = np.nan
    rec['a']['b'] = rng.integers(-30000, 30000, 50)
    rec['a']['c'] = rng.standard_normal((50, 3)) * 1e10
    out = [
        ('f8-normal', rng.standard_normal(1000) * 7 + 1e3,
         [('', None), ('::3', None), ('::-1', None), ('10:20', None)]),
        ('f4-nan-inf', f4, [('', None), ('6:', None), ('10:', None)]),
        ('f2-nan', f2, [('', None), ('1::2', None)]),
        ('f16', ld, [('', None), ('::5', None)]),
        ('f8-wide', wide, [('', None), (':-1', None)]),
        ('f8-all-nan', np.full(5, np.nan), [('', None)]),
        ('f8-empty', np.zeros(0, '<f8'), [('', None)]),
        ('f4-3x0', np.zeros((3, 0), '<f4'), [('', None), ('1', None)]),
        ('f8-scalar', np.array(3.5), [('', None)]),
        ('f8-scalar-nan', np.array(np.nan), [('', None)]),
        ('f8-only-infs', np.array([np.inf, -np.inf]), [('', None),
                                                       ('1:', None)]),
        ('f8-one-inf', np.array([1.0, np.inf, 2.0]), [('', None)]),
        ('f8-nan-and-neg-inf', np.array([np.nan, -np.inf]), [('', None)]),
        ('f8-2d', grid, [('', None), ('::3', None), ('::-2, 1::2', None),
                         ('5', None), ('..., 7', None), ('-1, ::-1', None)]),
        ('f8-fortran', ford, [('', None), ('::2, ::3', None), (':, 0', None),
                              ('3', None)]),
        ('f8-be', (rng.standard_normal(100) * 1e-5).astype('>f8'),
         [('', None), ('::-3', None)]),
        ('f4-be-2x3x4', rng.standard_normal((2, 3, 4)).astype('>f4'),
         [('', None), ('1, ::-1', None)]),
        ('i1', rng.integers(-128, 128, 300).astype('i1'), [('', None)]),
        ('i2-be', rng.integers(-2**15, 2**15, 300).astype('>i2'),
         [('', None), ('::2', None)]),
        ('i4', rng.integers(-2**31, 2**31, (20, 15)).astype('<i4'),
         [('', None), ('::-1, 3', None)]),
        ('i8-extremes', np.array([i64.min, i64.max, 0, -1, 2**53 + 1,
                                  -(2**53) - 1], '<i8'), [('', None),
                                                          ('2:', None)]),
        ('u1', rng.integers(0, 256, 100).astype('u1'), [('', None)]),
        ('u2', rng.integers(0, 2**16, 100).astype('<u2'), [('', None)]),
        ('u4-be', rng.integers(0, 2**32, 100).astype('>u4'), [('', None)]),
        ('u8-extremes', np.array([u64.max, 0, 1, 2**63, 2**53 + 1], '<u8'),
         [('', None), ('1:', None)]),
        ('b1', rng.integers(0, 2, 77).astype('?'), [('', None),
                                                      ('::2', None)]),
        ('b1-empty', np.zeros(0, '?'), [('', None)]),
        ('struct', rec, [('', 'x'), ('', 'a.b'), ('', 'a.c'), ('::2', 'x'),
                         ('1::3, 1', 'a.c')]),
    ]
    if big:
        # ~52 MB of float32: the multi-threaded path.
        n_rows, n_cols = 3200, 4096
        b = rng.standard_normal((n_rows, n_cols), dtype=np.float32)
        b *= 3
        b += 1
        b.ravel()[::1009] = np.nan
        out.append(('f4-big', b, [('', None), ('::3, 1::2', None),
                                  ('100:-100', None), ('..., ::-7', None)]))
        bige = np.asfortranarray(
            rng.uniform(-1, 1, (2048, 1024)).astype('>f8'))
        bige[7, ::3] = np.inf
        out.append(('f8-big-be-fortran', bige, [('', None),
                                                ('::2, ::5', None)]))
    return out


def json_number(v):
    """A JSON value from json.loads (with floats kept as text) as
    (float or None, text)."""
    if v is None:
        return None, 'null'
    if isinstance(v, bool):
        raise ValueError(f'boolean {v!r}')
    if isinstance(v, int):
        return float(v), str(v)
    if isinstance(v, tuple):          # ('num', text) or ('const', text)
        text = v[1]
        return float(text), text
    if isinstance(v, str) and v.lower() in ('inf', '+inf', 'infinity',
                                            '-inf', '-infinity', 'nan'):
        return float(v), v
    raise ValueError(f'not a number: {v!r}')


def same_exact(got, text, exp, dtype):
    """min/max: exactly the value (in float64, or in the array's own
    precision when that is wider, such as long double)."""
    if math.isnan(float(exp)):
        return got is None or math.isnan(got)
    if got is None:
        return False
    if float(got) == float(exp):
        return True
    if dtype is not None and dtype.kind == 'f' and dtype.itemsize > 8:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                return np.longdouble(text) == exp
        except ValueError:
            return False
    return False


def same_approx(got, exp, scale):
    exp = float(exp)
    if math.isnan(exp):
        return got is None or math.isnan(got)
    if got is None:
        return False
    if math.isinf(exp) or math.isinf(got):
        return got == exp
    return abs(got - exp) <= REL_TOL * abs(exp) + 1e-12 * scale


def check_case(runner, report, path, name, arr, expr, field):
    args = ['stats', '--json', path]
    if expr:
        args += ['--slice', expr]
    if field:
        args += ['--field', field]
    sel = expect.select(arr, expr, field)
    exp = expect.stats_expected(sel)
    timeout = BIG_TIMEOUT if arr.nbytes > 10**7 else None
    r = runner.run(args, timeout=timeout)
    where = name
    if not report.health(where, r):
        return
    if not report.check(r.rc == 0, where, r.display,
                        f'exit status {r.rc}, expected 0; stderr: '
                        f'{cliutil.short(r.err_text)!r}'):
        return
    try:
        got = json.loads(r.out, parse_float=lambda t: ('num', t),
                         parse_constant=lambda t: ('const', t))
    except ValueError as exc:
        report.fail(where, r.display, f'stdout is not JSON ({exc}): '
                    f'{cliutil.short(r.out_text)!r}')
        return
    if not isinstance(got, dict):
        report.fail(where, r.display, f'JSON is not an object: {got!r}')
        return
    for key in ('count', 'nan_count', 'inf_count'):
        v = got.get(key)
        report.check(isinstance(v, int) and not isinstance(v, bool)
                     and v == exp[key], where, r.display,
                     f'"{key}": expected {exp[key]}, got {v!r}')
    with np.errstate(all='ignore'):
        finite = sel.astype(np.float64)[np.isfinite(sel.astype(np.float64))]
        scale = float(np.abs(finite).max()) if finite.size else 0.0
    for key in ('min', 'max', 'mean', 'std'):
        if key not in got:
            report.fail(where, r.display, f'no "{key}"')
            continue
        try:
            g, text = json_number(got[key])
        except ValueError as exc:
            report.fail(where, r.display, f'"{key}": {exc}')
            continue
        if key in ('min', 'max'):
            ok = same_exact(g, text, exp[key], sel.dtype)
            how = 'exactly'
        else:
            ok = same_approx(g, exp[key], scale)
            how = f'within {REL_TOL:g} relative'
        expv = exp[key]
        exps = 'null' if math.isnan(float(expv)) else repr(expv)
        report.check(ok, where, r.display,
                     f'"{key}": expected {exps} ({how}), got {text}')


def main(argv):
    p = argparse.ArgumentParser(description='npyview-cli stats vs numpy')
    cliutil.add_cli_argument(p)
    p.add_argument('--keep', metavar='DIR')
    p.add_argument('--no-big', action='store_true',
                   help='leave out the ~50 MB arrays')
    args = p.parse_args(argv)
    cli = cliutil.require_cli(args.cli)
    t0 = time.monotonic()
    rng = np.random.default_rng(9009)
    with tempfile.TemporaryDirectory(prefix='npv-stats-') as tmp:
        root = args.keep or tmp
        os.makedirs(root, exist_ok=True)
        runner = cliutil.Runner(cli, args.timeout, [(os.path.join(root, ''),
                                                     '')])
        report = cliutil.Report('stats')
        n = 0
        for name, arr, sels in cases(rng, big=not args.no_big):
            path = os.path.join(root, name + '.npy')
            np.save(path, arr)
            arr = np.load(path)
            for expr, field in sels:
                try:
                    check_case(runner, report, path, name, arr, expr, field)
                except Exception as exc:
                    report.fail(name, '(test driver)',
                                f'internal error: {exc!r}')
                n += 1
            if arr.nbytes > 10**7:
                os.unlink(path)
        # plain (non-JSON) output must work too
        path = os.path.join(root, 'plain.npy')
        np.save(path, np.arange(10.0))
        r = runner.run(['stats', path])
        if report.health('plain', r):
            report.check(r.rc == 0 and r.out.strip() != b'', 'plain',
                         r.display, f'exit status {r.rc}, {len(r.out)} bytes '
                         f'on stdout; stderr {cliutil.short(r.err_text)!r}')
        print(f'stats: {n} selections')
        return report.finish(runner.count, time.monotonic() - t0)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
