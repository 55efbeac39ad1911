/* npv-pyramid.h: block reductions of a 2-D plane at every level of detail
 *
 * Level L cuts the plane into blocks of 2^L x 2^L items (smaller at the
 * bottom and right edges) and keeps, for each block, the minimum and
 * maximum of its non-NaN values (infinities included), the sum and count
 * of its finite values (float64), and the count of its NaNs - numpy's
 * nanmin, nanmax and nanmean of the block. Level 0 is the items
 * themselves.
 *
 * Blocks come in tiles of NPV_PYRAMID_TILE x NPV_PYRAMID_TILE. A tile is
 * made when it is first asked for: from the data for fine levels, from its
 * four children for coarse ones (the children stay cached, so zooming in
 * after an overview costs nothing), inside a byte budget with the least
 * recently used tiles dropped first. A sampled tile reads one line in
 * every 2^L, for a quick first picture; it says it is not exact.
 *
 * Safe to use from several threads at once. The data is read with
 * npv_source_read(): a file cut short gives an error, never a signal.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "npv-array.h"

G_BEGIN_DECLS

#define NPV_PYRAMID_TILE 256

/* What number a complex item stands for (VALUE on them means ABS, here
 * and in npv-stats.h). Items of real dtypes are their value whatever the
 * part. */
typedef enum {
  NPV_PART_VALUE,
  NPV_PART_REAL,
  NPV_PART_IMAG,
  NPV_PART_ABS,
  NPV_PART_ANGLE,   /* atan2 (imag, real), in radians */
} NpvPart;

typedef struct _NpvPyramid NpvPyramid;

/* Immutable once made; readable from any thread. The cells are row-major,
 * n_rows * n_cols of each. */
typedef struct
{
  guint level;
  gint64 row, col;      /* the first block's block coordinates */
  guint n_rows, n_cols; /* blocks held (fewer at the plane's edges) */
  gboolean exact;       /* FALSE for a sampled tile */
  double *min;          /* +inf when the block is all NaN */
  double *max;          /* -inf when the block is all NaN */
  double *sum;
  double *count;        /* finite values */
  double *nan;          /* NaN values */
} NpvBlocks;

/* @plane: a 2-D view (npv_plane_apply()) of a real dtype (bool, integer,
 * float) or, with a complex @part, of a complex one. @cache_budget in
 * bytes, 0 for a default of 256 MiB. NPV_ERROR_UNSUPPORTED for other
 * dtypes. */
NpvPyramid *npv_pyramid_new          (NpvArray      *plane,
                                      NpvPart        part,
                                      gsize          cache_budget,
                                      GError       **error);
NpvPyramid *npv_pyramid_ref          (NpvPyramid    *pyramid);
void        npv_pyramid_unref        (NpvPyramid    *pyramid);

NpvArray   *npv_pyramid_get_plane    (NpvPyramid    *pyramid);
NpvPart     npv_pyramid_get_part     (NpvPyramid    *pyramid);

/* Blocks along each side at @level: ceil (items / 2^level). */
gint64      npv_pyramid_get_n_rows   (NpvPyramid    *pyramid,
                                      guint          level);
gint64      npv_pyramid_get_n_cols   (NpvPyramid    *pyramid,
                                      guint          level);
/* The first level at which the whole plane is a single block. */
guint       npv_pyramid_get_top_level (NpvPyramid   *pyramid);

/* The exact tile (@tile_row, @tile_col) of @level, from the cache or made
 * now with up to @n_threads threads (0: one per processor). Errors:
 * reading the data, or G_IO_ERROR_CANCELLED. */
NpvBlocks  *npv_pyramid_get_tile     (NpvPyramid    *pyramid,
                                      guint          level,
                                      gint64         tile_row,
                                      gint64         tile_col,
                                      guint          n_threads,
                                      GCancellable  *cancellable,
                                      GError       **error);
/* The exact tile if it is cached, else %NULL. Never reads. */
NpvBlocks  *npv_pyramid_peek_tile    (NpvPyramid    *pyramid,
                                      guint          level,
                                      gint64         tile_row,
                                      gint64         tile_col);
/* A quick tile from one line per block: the line (2^@level - 1) / 2 items
 * into the block along the plane's slower axis (the middle one of a block
 * clipped at the edge). Exact at level 0. Not cached. */
NpvBlocks  *npv_pyramid_sample_tile  (NpvPyramid    *pyramid,
                                      guint          level,
                                      gint64         tile_row,
                                      gint64         tile_col,
                                      GCancellable  *cancellable,
                                      GError       **error);

/* Bytes of cached tiles. */
gsize       npv_pyramid_get_memory   (NpvPyramid    *pyramid);

NpvBlocks  *npv_blocks_ref           (NpvBlocks     *blocks);
void        npv_blocks_unref         (NpvBlocks     *blocks);
/* np.nanmean of the block: +inf or -inf if it holds that infinity (NaN
 * if both), else the mean of its finite values, NaN if it has none. */
double      npv_blocks_get_mean      (const NpvBlocks *blocks,
                                      guint          r,
                                      guint          c);

/* The same for any fold of blocks: their least and greatest non-NaN value,
 * and the sum and count of their finite values. */
double      npv_fold_mean            (double         min,
                                      double         max,
                                      double         sum,
                                      double         count);

/* The item of a real or complex dtype as the number @part takes from it
 * (real items are their value). */
double      npv_item_to_part         (const NpvDType *dtype,
                                      NpvPart        part,
                                      const guint8  *item);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpvPyramid, npv_pyramid_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpvBlocks, npv_blocks_unref)

G_END_DECLS
