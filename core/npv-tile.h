/* npv-tile.h: the text of a block of cells of a plane, made on a worker
 *
 * A grid shows a 2-D plane (npv-plane.h) cell by cell; records are spread
 * over one grid column per leaf field, so grid column g is array column
 * g / n_leaves and leaf g % n_leaves. Views ask for fixed blocks (tiles)
 * of cells; a tile is immutable once made and may be read from any thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "npv-array.h"

G_BEGIN_DECLS

typedef enum {
  NPV_NUMBER_AUTO,         /* numpy's repr: shortest round-trip digits */
  NPV_NUMBER_FIXED,        /* %.Nf */
  NPV_NUMBER_SCIENTIFIC,   /* %.Ne */
} NpvNumberStyle;

typedef struct
{
  NpvNumberStyle style;
  guint decimals;          /* FIXED and SCIENTIFIC */
} NpvNumberFormat;

typedef struct _NpvTile NpvTile;

/* The item's text in @format: floats with fixed or scientific decimals,
 * everything else (and AUTO, or a %NULL @format) as numpy writes it. */
void         npv_append_number_text (GString               *out,
                                     const NpvDType        *dtype,
                                     const guint8          *item,
                                     const NpvNumberFormat *format);

/* The cells [@row, @row + @n_rows) x [@col, @col + @n_cols) of the 2-D
 * @plane (clipped to its size), grid columns counted over @leaves (from
 * npv_dtype_collect_leaves() of the plane's dtype). Checks @cancellable
 * every row. Errors: reading the data (a file cut short, a broken
 * compressed member) or G_IO_ERROR_CANCELLED. */
NpvTile     *npv_tile_compute      (NpvArray              *plane,
                                    GArray                *leaves,
                                    gint64                 row,
                                    gint64                 col,
                                    guint                  n_rows,
                                    guint                  n_cols,
                                    const NpvNumberFormat *format,
                                    GCancellable          *cancellable,
                                    GError               **error);

NpvTile     *npv_tile_ref          (NpvTile  *tile);
void         npv_tile_unref        (NpvTile  *tile);

/* Rows and columns actually held (fewer at the plane's edges). */
guint        npv_tile_get_n_rows   (NpvTile  *tile);
guint        npv_tile_get_n_cols   (NpvTile  *tile);
/* The text of cell (@r, @c) of the tile, NUL-terminated. */
const char  *npv_tile_get_text     (NpvTile  *tile,
                                    guint     r,
                                    guint     c);
/* The cell as a number, NaN where it has none (text, complex...). */
double       npv_tile_get_number   (NpvTile  *tile,
                                    guint     r,
                                    guint     c);
/* Bytes the tile holds, for a cache's budget. */
gsize        npv_tile_get_memory   (NpvTile  *tile);

/* The number of grid columns of @plane with @leaves. */
gint64       npv_grid_n_columns    (const NpvArray *plane,
                                    GArray         *leaves);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpvTile, npv_tile_unref)

G_END_DECLS
