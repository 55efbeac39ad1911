/* npv-render.h: pictures of a plane for files: PNG exports and thumbnails
 *
 * The picture the heatmap shows, made without a display: each pixel folds
 * the pyramid blocks over its items and is coloured by a colour scale (or
 * read as RGB(A) channels), optionally framed by index axes and a colour
 * bar, and written as PNG through a temporary file.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "npv-colormap.h"
#include "npv-pyramid.h"
#include "npv-stats.h"

G_BEGIN_DECLS

/* What a pixel that stands for a block of items shows. */
typedef enum {
  NPV_REDUCTION_MEAN,
  NPV_REDUCTION_MIN,
  NPV_REDUCTION_MAX,
} NpvReduction;

/* Pixels are 0xAARRGGBB in native byte order, alpha premultiplied:
 * cairo's ARGB32. */
typedef struct
{
  int width, height;
  guint32 *pixels;
} NpvImage;

typedef struct
{
  NpvColorScale cs;
  NpvReduction reduction;
  guint n_channels;        /* 1: through the colour scale; 3 or 4: RGB(A) */
  double full_scale;       /* RGB(A): the value of full intensity */
} NpvRenderStyle;

/* How the ends of a colour scale are chosen from statistics. */
typedef enum {
  NPV_RANGE_MINMAX,        /* the finite extremes */
  NPV_RANGE_P1,            /* percentiles 1 and 99 */
  NPV_RANGE_P01,           /* percentiles 0.1 and 99.9 */
  NPV_RANGE_SIGMA3,        /* mean ± 3 standard deviations */
  NPV_RANGE_MANUAL,
  NPV_N_RANGES
} NpvRangeMode;

const char *npv_range_mode_get_name  (NpvRangeMode mode);
gboolean    npv_range_mode_from_name (const char   *name,
                                      NpvRangeMode *mode);

/* Sets @cs->lo and @cs->hi for @mode from @stats and @histogram (over the
 * finite values; for percentiles): infinities left out, [0, 1] for
 * @is_bool, the smallest positive value as the low end of a log scale, and
 * centred on zero for the diverging map when the values have both signs.
 * Returns whether the range is exact (percentiles come from the
 * histogram: within a bin). MANUAL leaves @cs as it is. */
gboolean    npv_color_scale_set_range (NpvColorScale      *cs,
                                       NpvRangeMode        mode,
                                       const NpvStats     *stats,
                                       const NpvHistogram *histogram,
                                       gboolean            is_bool);

/* The most pixels a picture may have (a 400 MB image). */
#define NPV_RENDER_MAX_PIXELS ((gint64) 100 << 20)

/* A colour channel of value @v as a byte: v / @full_scale clipped to
 * [0, 1], rounded; 0 for NaN. */
guint32   npv_channel_byte         (double           v,
                                    double           full_scale);

NpvImage *npv_image_new            (int              width,
                                    int              height);
void      npv_image_free           (NpvImage        *image);

/* The whole plane of @pyramids[0] (with @style->n_channels pyramids, all
 * of one shape) in @width x @height pixels: pixel x stands for the items
 * [floor (x * cols / width), floor ((x + 1) * cols / width)) (at least
 * one), and likewise along y. Its value folds exactly those items when
 * the size divides the shape; otherwise it folds the pyramid blocks of
 * level floor (log2 (items per pixel)) that cover them, which may reach
 * into the next pixels by less than a block. With @sample, blocks come from quick sampled
 * tiles (a line per block) unless exact ones are cached. Errors: reading
 * the data, cancellation, or a picture over NPV_RENDER_MAX_PIXELS. */
NpvImage *npv_render_plane         (NpvPyramid     **pyramids,
                                    const NpvRenderStyle *style,
                                    int              width,
                                    int              height,
                                    gboolean         sample,
                                    GCancellable    *cancellable,
                                    GError         **error);

/* The numbers npv_render_plane() colours for a single channel: @width x
 * @height doubles, row by row (NaN where a pixel's items are all NaN). */
double   *npv_render_plane_values  (NpvPyramid      *pyramid,
                                    NpvReduction     reduction,
                                    int              width,
                                    int              height,
                                    gboolean         sample,
                                    GCancellable    *cancellable,
                                    GError         **error);
/* Those numbers through @cs. */
NpvImage *npv_image_from_values    (const double    *values,
                                    int              width,
                                    int              height,
                                    const NpvColorScale *cs);

/* A line plot of the 1-D values of @pyramid (an (n, 1) plane) in @width x
 * @height pixels: min/max envelopes and the mean, on a transparent
 * background with @color lines. */
NpvImage *npv_render_line          (NpvPyramid      *pyramid,
                                    int              width,
                                    int              height,
                                    guint32          color,
                                    gboolean         sample,
                                    GCancellable    *cancellable,
                                    GError         **error);

/* @image framed: row and column indices of a @rows x @cols plane along the
 * left and top edges with @axes, and the colour bar of @style on the right
 * with @colorbar (only for a colour scale). The picture itself is copied
 * pixel for pixel. */
NpvImage *npv_render_decorate      (const NpvImage  *image,
                                    const NpvRenderStyle *style,
                                    gint64           rows,
                                    gint64           cols,
                                    gboolean         axes,
                                    gboolean         colorbar);

/* Writes @image as PNG to @path through a temporary file ("-" for
 * standard output). Unless @overwrite, an existing file is an
 * NPV_ERROR_EXISTS error. */
gboolean  npv_image_write_png      (const NpvImage  *image,
                                    const char      *path,
                                    gboolean         overwrite,
                                    GError         **error);

/* PNG bytes of @image, for a clipboard. */
GBytes   *npv_image_to_png         (const NpvImage  *image,
                                    GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpvImage, npv_image_free)

G_END_DECLS
