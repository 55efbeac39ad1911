/* npv-render.c: pictures of a plane for files: PNG exports and thumbnails
 *
 * Pixels are made row by row. The pyramid tiles a row of pixels needs are
 * fetched once and kept while later rows still need them, so a picture
 * costs its tiles once however it is cut.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-render"

#include "npv-render.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <cairo.h>

#include "npv-error.h"
#include "npv-writer.h"

NpvImage *
npv_image_new (int width,
               int height)
{
  NpvImage *image = g_new0 (NpvImage, 1);

  image->width = width;
  image->height = height;
  image->pixels = g_new0 (guint32, MAX ((gsize) width * height, 1));
  return image;
}

void
npv_image_free (NpvImage *image)
{
  if (image == NULL)
    return;
  g_free (image->pixels);
  g_free (image);
}

/* ------------------------------------------------------------------ */
/* Ranges */

static const char * const range_names[NPV_N_RANGES] = {
  [NPV_RANGE_MINMAX] = "minmax",
  [NPV_RANGE_P1] = "p1",
  [NPV_RANGE_P01] = "p01",
  [NPV_RANGE_SIGMA3] = "sigma3",
  [NPV_RANGE_MANUAL] = "manual",
};

const char *
npv_range_mode_get_name (NpvRangeMode mode)
{
  g_return_val_if_fail (mode < NPV_N_RANGES, NULL);
  return range_names[mode];
}

gboolean
npv_range_mode_from_name (const char   *name,
                          NpvRangeMode *mode)
{
  for (guint i = 0; i < NPV_N_RANGES; i++)
    if (g_strcmp0 (name, range_names[i]) == 0)
      {
        *mode = i;
        return TRUE;
      }
  return FALSE;
}

gboolean
npv_color_scale_set_range (NpvColorScale      *cs,
                           NpvRangeMode        mode,
                           const NpvStats     *stats,
                           const NpvHistogram *histogram,
                           gboolean            is_bool)
{
  gboolean exact = TRUE;
  double lo, hi;

  switch (mode)
    {
    case NPV_RANGE_MANUAL:
      return TRUE;
    case NPV_RANGE_P1:
    case NPV_RANGE_P01:
      lo = npv_histogram_quantile (histogram, mode == NPV_RANGE_P1 ? 0.01 : 0.001);
      hi = npv_histogram_quantile (histogram, mode == NPV_RANGE_P1 ? 0.99 : 0.999);
      exact = FALSE;
      break;
    case NPV_RANGE_SIGMA3:
      lo = stats->mean - 3 * stats->std;
      hi = stats->mean + 3 * stats->std;
      break;
    case NPV_RANGE_MINMAX:
    case NPV_N_RANGES:
    default:
      lo = stats->min;
      hi = stats->max;
      break;
    }
  /* infinities are shown in their own colours: span the finite values */
  if (!isfinite (lo))
    lo = stats->finite_min;
  if (!isfinite (hi))
    hi = stats->finite_max;
  if (!isfinite (lo) || !isfinite (hi))
    lo = 0, hi = 1;
  if (is_bool)
    lo = 0, hi = 1;
  if (cs->scale == NPV_SCALE_LOG && !(lo > 0) && stats->min_positive > 0 &&
      stats->min_positive <= hi)
    lo = stats->min_positive;
  /* a diverging map is centred on zero when the data has both signs */
  if (cs->map == NPV_COLORMAP_COOLWARM && lo < 0 && hi > 0 && cs->scale != NPV_SCALE_LOG)
    {
      double m = MAX (-lo, hi);

      lo = -m;
      hi = m;
    }
  cs->lo = lo;
  cs->hi = hi;
  return exact;
}

/* ------------------------------------------------------------------ */
/* Tiles */

/* The tiles of one pyramid that the rows being made need. */
typedef struct
{
  NpvPyramid *pyramid;
  guint level;
  gboolean sample;
  GHashTable *tiles;   /* (tile row << 32 | tile column) -> NpvBlocks */
} TileCache;

static void
tile_cache_init (TileCache  *cache,
                 NpvPyramid *pyramid,
                 guint       level,
                 gboolean    sample)
{
  cache->pyramid = pyramid;
  cache->level = level;
  cache->sample = sample;
  cache->tiles = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                        (GDestroyNotify) npv_blocks_unref);
}

static void
tile_cache_clear (TileCache *cache)
{
  g_clear_pointer (&cache->tiles, g_hash_table_unref);
}

static NpvBlocks *
tile_cache_get (TileCache    *cache,
                gint64        tr,
                gint64        tc,
                GCancellable *cancellable,
                GError      **error)
{
  gint64 key = tr << 32 | tc;
  NpvBlocks *b = g_hash_table_lookup (cache->tiles, &key);

  if (b != NULL)
    return b;
  b = npv_pyramid_peek_tile (cache->pyramid, cache->level, tr, tc);
  if (b == NULL && cache->sample)
    b = npv_pyramid_sample_tile (cache->pyramid, cache->level, tr, tc, cancellable, error);
  else if (b == NULL)
    b = npv_pyramid_get_tile (cache->pyramid, cache->level, tr, tc, 0, cancellable, error);
  if (b != NULL)
    g_hash_table_insert (cache->tiles, g_memdup2 (&key, sizeof key), b);
  return b;
}

/* Drops the tiles above tile row @tr. */
static void
tile_cache_forget_above (TileCache *cache,
                         gint64     tr)
{
  GHashTableIter iter;
  gint64 *key;

  g_hash_table_iter_init (&iter, cache->tiles);
  while (g_hash_table_iter_next (&iter, (gpointer *) &key, NULL))
    if ((*key >> 32) < tr)
      g_hash_table_iter_remove (&iter);
}

typedef struct
{
  double min, max, sum, count;
} Fold;

static gboolean
fold_blocks (TileCache    *cache,
             gint64        r0,
             gint64        r1,
             gint64        c0,
             gint64        c1,
             Fold         *fold,
             GCancellable *cancellable,
             GError      **error)
{
  fold->min = INFINITY;
  fold->max = -INFINITY;
  fold->sum = 0;
  fold->count = 0;
  for (gint64 r = r0; r <= r1; r++)
    for (gint64 c = c0; c <= c1; c++)
      {
        NpvBlocks *b = tile_cache_get (cache, r / NPV_PYRAMID_TILE, c / NPV_PYRAMID_TILE,
                                       cancellable, error);
        gsize i;

        if (b == NULL)
          return FALSE;
        i = (gsize) (r % NPV_PYRAMID_TILE) * b->n_cols + (gsize) (c % NPV_PYRAMID_TILE);
        fold->min = MIN (fold->min, b->min[i]);
        fold->max = MAX (fold->max, b->max[i]);
        fold->sum += b->sum[i];
        fold->count += b->count[i];
      }
  return TRUE;
}

static double
fold_value (const Fold   *fold,
            NpvReduction  reduction)
{
  if (fold->min > fold->max)
    return NAN;
  switch (reduction)
    {
    case NPV_REDUCTION_MIN:
      return fold->min;
    case NPV_REDUCTION_MAX:
      return fold->max;
    case NPV_REDUCTION_MEAN:
    default:
      return npv_fold_mean (fold->min, fold->max, fold->sum, fold->count);
    }
}

/* The items [*a, *b) of pixel @p when @n items are shown in @pixels. */
static void
pixel_items (gint64  p,
             gint64  n,
             int     pixels,
             gint64 *a,
             gint64 *b)
{
  double ipp = (double) n / pixels;

  *a = MIN ((gint64) floor (p * ipp), n - 1);
  *b = ipp <= 1 ? *a + 1 : MIN (n, MAX (*a + 1, (gint64) floor ((p + 1) * ipp)));
}

static guint
level_for (double ipp)
{
  guint level = 0;

  while (level < 62 && ldexp (1.0, (int) level + 1) <= ipp * (1 + 1e-12))
    level++;
  return level;
}

/* The level for a picture of a @rows x @cols plane in @width x @height
 * pixels. When each pixel stands for a whole number of items each way,
 * the blocks must not straddle pixels: the largest power of two dividing
 * both numbers. Otherwise blocks at most a pixel wide (the fold may reach
 * into the neighbouring pixels' items by less than a block). */
static guint
plane_level (gint64 rows,
             gint64 cols,
             int    width,
             int    height)
{
  if (rows % height == 0 && cols % width == 0)
    {
      gint64 per_row = rows / height, per_col = cols / width;
      guint level = 0;

      while (level < 62 && per_row % ((gint64) 2 << level) == 0 && per_col % ((gint64) 2 << level) == 0)
        level++;
      return level;
    }
  return level_for (MIN ((double) rows / height, (double) cols / width));
}

guint32
npv_channel_byte (double v,
                  double full_scale)
{
  if (isnan (v))
    return 0;
  v = v / full_scale;
  return v <= 0 ? 0 : v >= 1 ? 255 : (guint32) (v * 255 + 0.5);
}

/* ------------------------------------------------------------------ */
/* Pictures */

NpvImage *
npv_render_plane (NpvPyramid          **pyramids,
                  const NpvRenderStyle *style,
                  int                   width,
                  int                   height,
                  gboolean              sample,
                  GCancellable         *cancellable,
                  GError              **error)
{
  NpvArray *plane = npv_pyramid_get_plane (pyramids[0]);
  gint64 rows = plane->shape[0], cols = plane->shape[1];
  guint n_channels = MAX (1, style->n_channels);
  guint level;
  TileCache caches[4];
  g_autoptr(NpvImage) image = NULL;
  g_autofree gint64 *col_a = NULL;
  g_autofree gint64 *col_b = NULL;
  g_autofree double *values = NULL;
  gboolean ok = TRUE;

  if (width <= 0 || height <= 0 || (gint64) width * height > NPV_RENDER_MAX_PIXELS)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "a picture of %d × %d pixels is outside what can be made (1 to %" G_GINT64_FORMAT
                   " pixels)", width, height, NPV_RENDER_MAX_PIXELS);
      return NULL;
    }
  if (rows == 0 || cols == 0)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "a %" G_GINT64_FORMAT " × %" G_GINT64_FORMAT " plane has nothing to draw",
                   rows, cols);
      return NULL;
    }

  level = plane_level (rows, cols, width, height);
  for (guint k = 0; k < n_channels; k++)
    tile_cache_init (&caches[k], pyramids[k], level, sample);
  image = npv_image_new (width, height);
  col_a = g_new (gint64, width);
  col_b = g_new (gint64, width);
  values = g_new (double, width);
  for (int x = 0; x < width; x++)
    {
      gint64 a, b;

      pixel_items (x, cols, width, &a, &b);
      col_a[x] = a >> level;
      col_b[x] = (b - 1) >> level;
    }

  for (int y = 0; y < height && ok; y++)
    {
      gint64 a, b, r0, r1;
      guint32 *line = image->pixels + (gsize) y * width;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ok = FALSE;
          break;
        }
      pixel_items (y, rows, height, &a, &b);
      r0 = a >> level;
      r1 = (b - 1) >> level;
      for (guint k = 0; k < n_channels; k++)
        tile_cache_forget_above (&caches[k], r0 / NPV_PYRAMID_TILE);

      if (n_channels == 1)
        {
          for (int x = 0; x < width && ok; x++)
            {
              Fold fold;

              ok = fold_blocks (&caches[0], r0, r1, col_a[x], col_b[x], &fold, cancellable, error);
              values[x] = fold_value (&fold, style->reduction);
            }
          if (ok)
            npv_color_scale_map_n (&style->cs, values, width, line);
          continue;
        }
      for (int x = 0; x < width && ok; x++)
        {
          guint32 c[4] = { 0, 0, 0, 255 };

          for (guint k = 0; k < n_channels && ok; k++)
            {
              Fold fold;

              ok = fold_blocks (&caches[k], r0, r1, col_a[x], col_b[x], &fold, cancellable, error);
              c[k] = npv_channel_byte (fold_value (&fold, NPV_REDUCTION_MEAN), style->full_scale);
            }
          line[x] = c[3] << 24 | (c[0] * c[3] / 255) << 16 | (c[1] * c[3] / 255) << 8 |
                    (c[2] * c[3] / 255);
        }
    }

  for (guint k = 0; k < n_channels; k++)
    tile_cache_clear (&caches[k]);
  return ok ? g_steal_pointer (&image) : NULL;
}

double *
npv_render_plane_values (NpvPyramid   *pyramid,
                         NpvReduction  reduction,
                         int           width,
                         int           height,
                         gboolean      sample,
                         GCancellable *cancellable,
                         GError      **error)
{
  NpvArray *plane = npv_pyramid_get_plane (pyramid);
  gint64 rows = plane->shape[0], cols = plane->shape[1];
  guint level;
  TileCache cache;
  g_autofree gint64 *col_a = NULL;
  g_autofree gint64 *col_b = NULL;
  g_autofree double *values = NULL;

  if (width <= 0 || height <= 0 || (gint64) width * height > NPV_RENDER_MAX_PIXELS ||
      rows == 0 || cols == 0)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "no picture of a %" G_GINT64_FORMAT " × %" G_GINT64_FORMAT " plane in %d × %d "
                   "pixels", rows, cols, width, height);
      return NULL;
    }
  level = plane_level (rows, cols, width, height);
  tile_cache_init (&cache, pyramid, level, sample);
  col_a = g_new (gint64, width);
  col_b = g_new (gint64, width);
  values = g_new (double, (gsize) width * height);
  for (int x = 0; x < width; x++)
    {
      gint64 a, b;

      pixel_items (x, cols, width, &a, &b);
      col_a[x] = a >> level;
      col_b[x] = (b - 1) >> level;
    }
  for (int y = 0; y < height; y++)
    {
      gint64 a, b;

      pixel_items (y, rows, height, &a, &b);
      tile_cache_forget_above (&cache, (a >> level) / NPV_PYRAMID_TILE);
      for (int x = 0; x < width; x++)
        {
          Fold fold;

          if (!fold_blocks (&cache, a >> level, (b - 1) >> level, col_a[x], col_b[x], &fold,
                            cancellable, error))
            {
              tile_cache_clear (&cache);
              return NULL;
            }
          values[(gsize) y * width + x] = fold_value (&fold, reduction);
        }
    }
  tile_cache_clear (&cache);
  return g_steal_pointer (&values);
}

NpvImage *
npv_image_from_values (const double        *values,
                       int                  width,
                       int                  height,
                       const NpvColorScale *cs)
{
  NpvImage *image = npv_image_new (width, height);

  npv_color_scale_map_n (cs, values, (gsize) width * height, image->pixels);
  return image;
}

NpvImage *
npv_render_line (NpvPyramid   *pyramid,
                 int           width,
                 int           height,
                 guint32       color,
                 gboolean      sample,
                 GCancellable *cancellable,
                 GError      **error)
{
  NpvArray *plane = npv_pyramid_get_plane (pyramid);
  gint64 n = plane->shape[0];
  guint level = level_for ((double) n / width);
  TileCache cache;
  g_autofree double *mn = g_new (double, width);
  g_autofree double *mx = g_new (double, width);
  g_autofree double *mean = g_new (double, width);
  double lo = INFINITY, hi = -INFINITY;
  NpvImage *image;
  cairo_surface_t *surface;
  cairo_t *cr;
  gboolean pen = FALSE;

  if (width <= 0 || height <= 0 || (gint64) width * height > NPV_RENDER_MAX_PIXELS || n == 0)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "no line plot of %" G_GINT64_FORMAT " values in %d × %d pixels", n, width, height);
      return NULL;
    }

  tile_cache_init (&cache, pyramid, level, sample);
  for (int x = 0; x < width; x++)
    {
      gint64 a, b;
      Fold fold;

      pixel_items (x, n, width, &a, &b);
      if (!fold_blocks (&cache, a >> level, (b - 1) >> level, 0, 0, &fold, cancellable, error))
        {
          tile_cache_clear (&cache);
          return NULL;
        }
      mn[x] = fold.min <= fold.max ? fold.min : NAN;
      mx[x] = fold.min <= fold.max ? fold.max : NAN;
      mean[x] = fold.count > 0 ? fold.sum / fold.count : NAN;
      if (isfinite (mn[x]))
        lo = MIN (lo, mn[x]);
      if (isfinite (mx[x]))
        hi = MAX (hi, mx[x]);
    }
  tile_cache_clear (&cache);
  if (lo > hi)
    lo = -1, hi = 1;
  if (lo == hi)
    lo -= 1, hi += 1;

  image = npv_image_new (width, height);
  surface = cairo_image_surface_create_for_data ((guint8 *) image->pixels, CAIRO_FORMAT_ARGB32, width,
                                                 height, width * 4);
  cr = cairo_create (surface);
  cairo_set_source_rgba (cr, ((color >> 16) & 0xff) / 255.0, ((color >> 8) & 0xff) / 255.0,
                         (color & 0xff) / 255.0, 0.4);
  for (int x = 0; x < width; x++)
    {
      double y0, y1;

      if (isnan (mn[x]))
        continue;
      y0 = (hi - CLAMP (mx[x], lo, hi)) / (hi - lo) * (height - 1);
      y1 = (hi - CLAMP (mn[x], lo, hi)) / (hi - lo) * (height - 1);
      cairo_rectangle (cr, x, floor (y0), 1, MAX (1, ceil (y1) - floor (y0) + 1));
    }
  cairo_fill (cr);
  cairo_set_source_rgba (cr, ((color >> 16) & 0xff) / 255.0, ((color >> 8) & 0xff) / 255.0,
                         (color & 0xff) / 255.0, 1);
  cairo_set_line_width (cr, 1.2);
  for (int x = 0; x < width; x++)
    {
      double y;

      if (!isfinite (mean[x]))
        {
          pen = FALSE;
          continue;
        }
      y = (hi - CLAMP (mean[x], lo, hi)) / (hi - lo) * (height - 1);
      if (pen)
        cairo_line_to (cr, x + 0.5, y);
      else
        cairo_move_to (cr, x + 0.5, y);
      pen = TRUE;
    }
  cairo_stroke (cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  cairo_surface_destroy (surface);
  return image;
}

/* ------------------------------------------------------------------ */
/* Frames */

#define MARGIN 6
#define FONT_SIZE 11.0

static double
text_width (cairo_t    *cr,
            const char *text)
{
  cairo_text_extents_t extents;

  cairo_text_extents (cr, text, &extents);
  return extents.x_advance;
}

static gint64
nice_index_step (double min)
{
  gint64 step = 1;

  while (step < min && step < G_MAXINT64 / 10)
    {
      if (step * 2 >= min)
        return step * 2;
      if (step * 5 >= min)
        return step * 5;
      step *= 10;
    }
  return step;
}

NpvImage *
npv_render_decorate (const NpvImage       *image,
                     const NpvRenderStyle *style,
                     gint64                rows,
                     gint64                cols,
                     gboolean              axes,
                     gboolean              colorbar)
{
  int left = 0, top = 0, right = 0, bottom = 0;
  int bar_h = MIN (image->height, 360);
  NpvImage *out;
  cairo_surface_t *surface, *picture;
  cairo_t *cr;
  char text[48];

  colorbar = colorbar && style->n_channels <= 1;
  if (axes)
    {
      left = 8 * (int) (log10 (MAX (rows, 10)) + 1) + 2 * MARGIN;
      top = (int) FONT_SIZE + 2 * MARGIN;
    }
  if (colorbar)
    {
      right = 90;
      bar_h = MAX (bar_h, 80);
    }
  if (axes || colorbar)
    bottom = MAX (MARGIN, colorbar ? bar_h + 90 - image->height - top : 0);

  out = npv_image_new (left + image->width + right, top + image->height + bottom);
  surface = cairo_image_surface_create_for_data ((guint8 *) out->pixels, CAIRO_FORMAT_ARGB32,
                                                 out->width, out->height, out->width * 4);
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, FONT_SIZE);
  cairo_set_line_width (cr, 1);

  /* the picture, pixel for pixel */
  for (int y = 0; y < image->height; y++)
    memcpy (out->pixels + (gsize) (top + y) * out->width + left,
            image->pixels + (gsize) y * image->width, (gsize) image->width * 4);
  picture = NULL;

  if (axes)
    {
      double per_px_c = (double) cols / image->width, per_px_r = (double) rows / image->height;
      gint64 step_c = nice_index_step (80 * per_px_c), step_r = nice_index_step (40 * per_px_r);

      cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
      for (gint64 c = 0; c < cols; c += step_c)
        {
          double x = left + (c + 0.5) / per_px_c;

          g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, c);
          cairo_move_to (cr, floor (x) + 0.5, top - 4);
          cairo_line_to (cr, floor (x) + 0.5, top);
          cairo_stroke (cr);
          cairo_move_to (cr, x - text_width (cr, text) / 2, top - 6);
          cairo_show_text (cr, text);
        }
      for (gint64 r = 0; r < rows; r += step_r)
        {
          double y = top + (r + 0.5) / per_px_r;

          g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, r);
          cairo_move_to (cr, left - 4, floor (y) + 0.5);
          cairo_line_to (cr, left, floor (y) + 0.5);
          cairo_stroke (cr);
          cairo_move_to (cr, left - 6 - text_width (cr, text), y + FONT_SIZE / 3);
          cairo_show_text (cr, text);
        }
    }

  if (colorbar)
    {
      double x = left + image->width + 10;
      double ticks[64];
      guint n_ticks = npv_color_scale_ticks (&style->cs, ticks, G_N_ELEMENTS (ticks));

      for (int y = 0; y < bar_h; y++)
        {
          double t = 1.0 - (y + 0.5) / bar_h;
          guint32 c = npv_color_scale_map (&style->cs, npv_color_scale_value_at (&style->cs, t));

          cairo_set_source_rgb (cr, ((c >> 16) & 0xff) / 255.0, ((c >> 8) & 0xff) / 255.0,
                                (c & 0xff) / 255.0);
          cairo_rectangle (cr, x, top + y, 16, 1);
          cairo_fill (cr);
        }

      cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
      for (guint i = 0; i < n_ticks; i++)
        {
          double t = npv_color_scale_position (&style->cs, ticks[i]);
          double y = top + (1.0 - t) * (bar_h - 1);

          if (!isfinite (t) || t < 0 || t > 1 || (i >= 2 && (y - top < 12 || top + bar_h - y < 12)))
            continue;
          g_snprintf (text, sizeof text, "%.3g", ticks[i]);
          cairo_move_to (cr, x + 16, floor (y) + 0.5);
          cairo_line_to (cr, x + 20, floor (y) + 0.5);
          cairo_stroke (cr);
          cairo_move_to (cr, x + 23, y + FONT_SIZE / 3);
          cairo_show_text (cr, text);
        }
      /* the colours outside the scale */
      {
        const struct { guint32 color; const char *label; } specials[] = {
          { NPV_COLOR_NAN, "NaN" }, { NPV_COLOR_POSINF, "+inf" }, { NPV_COLOR_NEGINF, "-inf" },
          { NPV_COLOR_INVALID, "<= 0" },
        };
        guint n_specials = style->cs.scale == NPV_SCALE_LOG ? 4 : 3;
        double y = top + bar_h + 10;

        for (guint i = 0; i < n_specials; i++, y += 18)
          {
            guint32 c = specials[i].color;

            cairo_set_source_rgb (cr, ((c >> 16) & 0xff) / 255.0, ((c >> 8) & 0xff) / 255.0,
                                  (c & 0xff) / 255.0);
            cairo_rectangle (cr, x, y, 16, 12);
            cairo_fill_preserve (cr);
            cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
            cairo_stroke (cr);
            cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
            cairo_move_to (cr, x + 23, y + 10);
            cairo_show_text (cr, specials[i].label);
          }
      }
    }

  cairo_destroy (cr);
  cairo_surface_flush (surface);
  cairo_surface_destroy (surface);
  (void) picture;
  return out;
}

/* ------------------------------------------------------------------ */
/* PNG */

typedef struct
{
  NpvWriter *writer;
  int fd;
  GByteArray *bytes;
  GError *error;
} PngSink;

static cairo_status_t
png_write (void                *closure,
           const unsigned char *data,
           unsigned int         length)
{
  PngSink *sink = closure;

  if (sink->error != NULL)
    return CAIRO_STATUS_WRITE_ERROR;
  if (sink->bytes != NULL)
    g_byte_array_append (sink->bytes, data, length);
  else if (sink->writer != NULL)
    {
      if (!npv_writer_write (sink->writer, data, length, &sink->error))
        return CAIRO_STATUS_WRITE_ERROR;
    }
  else
    while (length > 0)
      {
        gssize n = write (sink->fd, data, length);

        if (n < 0)
          {
            g_set_error (&sink->error, NPV_ERROR, NPV_ERROR_IO, "cannot write: %s",
                         g_strerror (errno));
            return CAIRO_STATUS_WRITE_ERROR;
          }
        data += n;
        length -= n;
      }
  return CAIRO_STATUS_SUCCESS;
}

static gboolean
write_png (const NpvImage *image,
           PngSink        *sink,
           GError        **error)
{
  cairo_surface_t *surface;
  cairo_status_t status;

  surface = cairo_image_surface_create_for_data ((guint8 *) image->pixels, CAIRO_FORMAT_ARGB32,
                                                 image->width, image->height, image->width * 4);
  status = cairo_surface_write_to_png_stream (surface, png_write, sink);
  cairo_surface_destroy (surface);
  if (sink->error != NULL)
    {
      g_propagate_error (error, sink->error);
      return FALSE;
    }
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_IO, "cannot make the PNG: %s",
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

gboolean
npv_image_write_png (const NpvImage *image,
                     const char     *path,
                     gboolean        overwrite,
                     GError        **error)
{
  PngSink sink = { NULL, 1, NULL, NULL };

  if (strcmp (path, "-") == 0)
    return write_png (image, &sink, error);
  sink.writer = npv_writer_new (path, overwrite, error);
  if (sink.writer == NULL)
    return FALSE;
  if (!write_png (image, &sink, error))
    {
      npv_writer_abort (sink.writer);
      return FALSE;
    }
  return npv_writer_commit (sink.writer, error);
}

GBytes *
npv_image_to_png (const NpvImage *image,
                  GError        **error)
{
  PngSink sink = { NULL, -1, g_byte_array_new (), NULL };

  if (!write_png (image, &sink, error))
    {
      g_byte_array_unref (sink.bytes);
      return NULL;
    }
  return g_byte_array_free_to_bytes (sink.bytes);
}
