/* npv-stats.h: summary statistics of an array, in one pass on every core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "npv-array.h"

G_BEGIN_DECLS

/* numpy's nan-functions: min/max/mean/std skip NaN (np.nanmin, np.nanmax,
 * np.nanmean and np.nanstd with ddof 0, accumulated in float64). NaN where
 * there is no value to report. For integer dtypes the exact extremes are in
 * imin/imax (signed) or umin/umax (unsigned) as well. */
typedef struct
{
  guint64 count;       /* items */
  guint64 nan_count;
  guint64 inf_count;
  double min;
  double max;
  double mean;
  double std;
  gboolean is_integer;
  gboolean is_unsigned;
  gint64 imin, imax;
  guint64 umin, umax;
} NpvStats;

/* Statistics of all items of @array, which must be npv_dtype_is_real().
 * @n_threads 0 uses every processor. Cancellable between chunks. */
gboolean npv_array_compute_stats (NpvArray      *array,
                                  guint          n_threads,
                                  GCancellable  *cancellable,
                                  NpvStats      *stats,
                                  GError       **error);

G_END_DECLS
