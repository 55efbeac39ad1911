#!/usr/bin/python3
"""Writes core/npv-colormap-data.h: the colour tables of the maps npyview
offers, as matplotlib hands them out (cmap(range(N), bytes=True)).

The tables are data, not code: viridis, magma, inferno, plasma (Smith and
van der Walt) and cividis (Nuñez, Anderton and Renslow) are CC0, coolwarm
is Moreland's diverging map, twilight is Bastian Lipp's cyclic map shipped
with matplotlib. tests/test-colormap.py checks the header against the
matplotlib installed on the test machine.

Usage: /usr/bin/python3 build-aux/gen-colormaps.py > core/npv-colormap-data.h
"""
import matplotlib
import numpy as np
from matplotlib import colormaps

MAPS = ["viridis", "magma", "inferno", "plasma", "cividis", "gray", "coolwarm", "twilight"]


def main():
    print("/* npv-colormap-data.h: colour tables, written by build-aux/gen-colormaps.py")
    print(" * from matplotlib %s; do not edit." % matplotlib.__version__)
    print(" *")
    print(" * SPDX-License-Identifier: CC0-1.0 AND BSD-3-Clause")
    print(" */")
    print()
    for name in MAPS:
        cmap = colormaps[name]
        rgb = cmap(np.arange(cmap.N), bytes=True)[:, :3]
        table(name, rgb)
        # Maps made of segments are re-sampled when reversed, which rounds
        # differently from reading the table backwards: keep theirs.
        rev = cmap.reversed()(np.arange(cmap.N), bytes=True)[:, :3]
        if (rev != rgb[::-1]).any():
            table(name + "_r", rev)
        else:
            print("#define lut_%s_r NULL" % name)
            print()


def table(name, rgb):
    print("static const guint8 lut_%s[%d * 3] = {" % (name, len(rgb)))
    for i in range(0, len(rgb), 5):
        row = rgb[i:i + 5]
        print("  " + " ".join("%3d, %3d, %3d," % tuple(int(c) for c in px) for px in row))
    print("};")
    print()


if __name__ == "__main__":
    main()
