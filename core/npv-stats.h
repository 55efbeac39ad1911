/* npv-stats.h: summary statistics of an array, in one pass on every core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "npv-array.h"
#include "npv-pyramid.h"

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
  double min_positive; /* the smallest finite value above zero, NaN if none */
  double finite_min;   /* the extremes of the finite values, NaN if none */
  double finite_max;
} NpvStats;

/* Counts of values in @n_bins equal bins over [lo, hi] (hi falls in the
 * last bin), as np.histogram(a, n_bins, (lo, hi)) counts them (an empty
 * range is widened by 0.5 either side, as numpy does); values outside
 * (infinities included) in below and above, NaN in nan. */
typedef struct
{
  double lo, hi;
  guint n_bins;
  guint64 *counts;
  guint64 below, above, nan;
} NpvHistogram;

/* Statistics of all items of @array, which must be npv_dtype_is_real().
 * @n_threads 0 uses every processor. Cancellable between chunks. */
gboolean npv_array_compute_stats (NpvArray      *array,
                                  guint          n_threads,
                                  GCancellable  *cancellable,
                                  NpvStats      *stats,
                                  GError       **error);

/* The same for the @part of complex items (VALUE for other dtypes), with
 * the number of items done so far added to *@progress (atomically, as the
 * work goes) when it is not %NULL. */
gboolean npv_array_compute_stats_full (NpvArray      *array,
                                       NpvPart        part,
                                       guint          n_threads,
                                       gint64        *progress,
                                       GCancellable  *cancellable,
                                       NpvStats      *stats,
                                       GError       **error);

/* A histogram of all items (their @part for complex ones) over [@lo, @hi]
 * in @n_bins bins, in one more pass. Free it with npv_histogram_clear(). */
gboolean npv_array_compute_histogram  (NpvArray      *array,
                                       NpvPart        part,
                                       double         lo,
                                       double         hi,
                                       guint          n_bins,
                                       guint          n_threads,
                                       gint64        *progress,
                                       GCancellable  *cancellable,
                                       NpvHistogram  *histogram,
                                       GError       **error);
void     npv_histogram_clear          (NpvHistogram  *histogram);

/* The @q quantile (0 to 1) of the non-NaN values, ranked with those below
 * and above the range (infinities) at its ends, and interpolated linearly
 * inside its bin as if the bin's values were spread evenly: within a
 * bin's width of np.nanquantile(a, q) when the values numpy interpolates
 * between share a bin, and lo or hi where numpy gives an infinity. NaN
 * if there are no values. */
double   npv_histogram_quantile       (const NpvHistogram *histogram,
                                       double              q);

G_END_DECLS
