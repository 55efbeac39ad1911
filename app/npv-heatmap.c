/* npv-heatmap.c: a zoomable picture of a 2-D plane, from the pyramid
 *
 * The picture is cut into textures of TILE x TILE device pixels, made at
 * exactly the pixels they are drawn at: nothing is ever scaled by the
 * renderer, so items stay crisp. Zoomed in, each item is a square of a
 * whole number of pixels (ppi); zoomed out, each pixel stands for the
 * items [floor (p * ipp), floor ((p + 1) * ipp)) along each side, any
 * real ipp >= 1, so that the whole plane can fill the window. A pixel's
 * value folds the blocks of pyramid level floor (log2 (ipp)) that cover
 * its items (one block at powers of two, at most a few otherwise).
 *
 * Textures are made on the worker pool: the job takes the pyramid tiles
 * it needs (cached, or a quick sample first and then the exact ones),
 * folds them into each pixel's min, max and mean, and maps those through
 * the colour scale. The per-pixel values stay with the texture, so a new
 * colour map, range or reduction only recolours. A new plane or part
 * bumps the generation and late work is dropped; textures that scroll
 * away are cancelled or evicted (LRU).
 *
 * Until the window knows the range (the whole array's statistics), the
 * colours span the range of a sample of the whole plane, and say so.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-heatmap"

#include "config.h"

#include "npv-heatmap.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#define TILE 256
#define AXIS_LEFT 64          /* logical pixels for the row indices */
#define AXIS_TOP 22           /* for the column indices */
#define BAR_AREA 96           /* the colour bar and its ticks */
#define BAR_WIDTH 16
#define CACHE_BUDGET ((gsize) 160 << 20)
#define MAX_PPI (1 << NPV_HEATMAP_MAX_ZOOM)
#define TEXT_PPI 32           /* items of 32 pixels and more show their values */

/* A scale: ppi > 1 device pixels per item, or with ppi == 1, ipp >= 1
 * items per device pixel. */
typedef struct
{
  int ppi;
  double ipp;
} Scale;

typedef struct
{
  Scale scale;
  gint64 tx, ty;               /* in textures */
} TexKey;

/* What each pixel of a texture stands for, shared by the texture and the
 * jobs that recolour it. */
typedef struct
{
  int width, height;
  gboolean exact;
  double *min, *max, *mean;    /* NULL for RGB(A) pictures */
} Pixels;

typedef struct
{
  TexKey key;
  GdkTexture *texture;         /* NULL until the first pixels arrive */
  Pixels *pixels;              /* an rc box */
  guint color_gen;             /* of the colours in texture */
  GCancellable *cancellable;   /* while work is in flight */
  guint64 used;
} TexEntry;

struct _NpvHeatmap
{
  GtkWidget parent_instance;

  NpvArray *plane;
  NpvPyramid *pyramid;         /* of the plane, or of the red channel */
  NpvPyramid *more[3];         /* RGB(A): green, blue and alpha */
  guint n_channels;            /* 1 for a colour map, 3 or 4 for RGB(A) */
  double full_scale;           /* RGB(A): the value of full intensity */
  char *message;
  NpvPart part;
  NpvReduction reduction;
  NpvColorScale cs;            /* lo and hi: the range in use */
  gboolean range_known, range_exact;
  double known_lo, known_hi;
  gboolean have_sample_range;
  double sample_lo, sample_hi, sample_min_positive;
  GCancellable *sample_cancellable;

  Scale scale;
  double ox, oy;               /* the canvas' top-left in content pixels (device) */
  gboolean fitted;             /* follow the size until the user zooms or pans */

  GHashTable *textures;        /* TexKey -> TexEntry */
  guint generation;
  guint color_gen;
  guint64 frame;
  gsize cache_bytes;
  guint update_source;

  gboolean has_selection;
  gint64 sel_r0, sel_c0, sel_r1, sel_c1;
  gboolean has_hover;
  double hover_x, hover_y;

  /* dragging */
  gboolean dragging_select;
  double drag_ox, drag_oy;
  double drag_x, drag_y;
  gint64 anchor_row, anchor_col;
  double zoom_gesture_step;
  double scroll_acc;
};

enum {
  HOVER_CHANGED,
  SELECTION_CHANGED,
  VIEW_CHANGED,
  READ_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (NpvHeatmap, npv_heatmap, GTK_TYPE_WIDGET)

static void schedule_update (NpvHeatmap *self);

/* ------------------------------------------------------------------ */
/* Geometry */

static int
scale_factor (NpvHeatmap *self)
{
  return MAX (1, gtk_widget_get_scale_factor (GTK_WIDGET (self)));
}

void
npv_heatmap_get_canvas (NpvHeatmap      *self,
                        graphene_rect_t *rect)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  int h = gtk_widget_get_height (GTK_WIDGET (self));

  graphene_rect_init (rect, AXIS_LEFT, AXIS_TOP, MAX (w - AXIS_LEFT - BAR_AREA, 1),
                      MAX (h - AXIS_TOP - 4, 1));
}

static gint64
plane_rows (NpvHeatmap *self)
{
  return self->plane != NULL ? self->plane->shape[0] : 0;
}

static gint64
plane_cols (NpvHeatmap *self)
{
  return self->plane != NULL ? self->plane->shape[1] : 0;
}

/* The pyramid level whose blocks are at most a pixel wide. */
static guint
scale_level (const Scale *scale)
{
  guint level = 0;

  if (scale->ppi > 1)
    return 0;
  while (level < 62 && ldexp (1.0, (int) level + 1) <= scale->ipp * (1 + 1e-12))
    level++;
  return level;
}

/* Items per device pixel, fractional when zoomed in. */
static double
items_per_pixel (const Scale *scale)
{
  return scale->ppi > 1 ? 1.0 / scale->ppi : scale->ipp;
}

static gint64
content_size (gint64       items,
              const Scale *scale)
{
  if (scale->ppi > 1)
    return items * scale->ppi;
  if (scale->ipp == 1)
    return items;
  return MAX (1, (gint64) ceil (items / scale->ipp - 1e-9));
}

/* The items [*a, *b) pixel @p stands for along a side of @n items. */
static void
pixel_items (const Scale *scale,
             gint64       p,
             gint64       n,
             gint64      *a,
             gint64      *b)
{
  if (scale->ppi > 1)
    {
      *a = p / scale->ppi;
      *b = *a + 1;
      return;
    }
  if (scale->ipp == 1)
    {
      *a = p;
      *b = p + 1;
      return;
    }
  *a = (gint64) floor (p * scale->ipp);
  *b = MIN (n, MAX (*a + 1, (gint64) floor ((p + 1) * scale->ipp)));
}

/* The first pixel showing item @i. */
static gint64
item_pixel (const Scale *scale,
            gint64       i)
{
  gint64 p;

  if (scale->ppi > 1)
    return i * scale->ppi;
  if (scale->ipp == 1)
    return i;
  /* the p with floor (p ipp) <= i < floor ((p + 1) ipp) */
  p = (gint64) floor (i / scale->ipp);
  while (p > 0 && (gint64) floor (p * scale->ipp) > i)
    p--;
  while ((gint64) floor ((p + 1) * scale->ipp) <= i)
    p++;
  return p;
}

static gint64
content_width (NpvHeatmap *self)
{
  return content_size (plane_cols (self), &self->scale);
}

static gint64
content_height (NpvHeatmap *self)
{
  return content_size (plane_rows (self), &self->scale);
}

static double
canvas_device_width (NpvHeatmap *self)
{
  graphene_rect_t r;

  npv_heatmap_get_canvas (self, &r);
  return floor (r.size.width * scale_factor (self));
}

static double
canvas_device_height (NpvHeatmap *self)
{
  graphene_rect_t r;

  npv_heatmap_get_canvas (self, &r);
  return floor (r.size.height * scale_factor (self));
}

/* The most items per pixel: the whole plane in one pixel. */
static double
max_ipp (NpvHeatmap *self)
{
  return MAX (1.0, (double) MAX (plane_rows (self), plane_cols (self)));
}

/* Keeps the content on the canvas: centred when smaller, else no empty
 * margin; whole device pixels. */
static void
clamp_offsets (NpvHeatmap *self)
{
  double cw = canvas_device_width (self), ch = canvas_device_height (self);
  double w = (double) content_width (self), h = (double) content_height (self);

  if (w <= cw)
    self->ox = -floor ((cw - w) / 2);
  else
    self->ox = CLAMP (floor (self->ox), 0, w - cw);
  if (h <= ch)
    self->oy = -floor ((ch - h) / 2);
  else
    self->oy = CLAMP (floor (self->oy), 0, h - ch);
}

/* The scale at which the whole plane fills the canvas. */
static Scale
fit_scale (NpvHeatmap *self)
{
  double cw = canvas_device_width (self), ch = canvas_device_height (self);
  double rows = (double) plane_rows (self), cols = (double) plane_cols (self);
  Scale scale = { 1, 1.0 };

  if (rows == 0 || cols == 0)
    return scale;
  if (cols <= cw && rows <= ch)
    {
      scale.ppi = (int) CLAMP (floor (MIN (cw / cols, ch / rows)), 1, MAX_PPI);
      return scale;
    }
  scale.ipp = MIN (MAX (cols / cw, rows / ch) * (1 + 1e-12), max_ipp (self));
  return scale;
}

int
npv_heatmap_get_fit_zoom (NpvHeatmap *self)
{
  Scale scale = fit_scale (self);

  if (scale.ppi > 1)
    return (int) floor (log2 (scale.ppi));
  return -(int) ceil (log2 (scale.ipp) - 1e-12);
}

static void
item_range_at_device (NpvHeatmap *self,
                      double      dx,
                      double      dy,
                      gint64     *row0,
                      gint64     *col0,
                      gint64     *row1,
                      gint64     *col1)
{
  gint64 a, b;

  pixel_items (&self->scale, (gint64) floor (dx), plane_cols (self), &a, &b);
  *col0 = a;
  *col1 = b - 1;
  pixel_items (&self->scale, (gint64) floor (dy), plane_rows (self), &a, &b);
  *row0 = a;
  *row1 = b - 1;
}

gboolean
npv_heatmap_get_items_at (NpvHeatmap *self,
                          double      x,
                          double      y,
                          gint64     *row0,
                          gint64     *col0,
                          gint64     *row1,
                          gint64     *col1)
{
  graphene_rect_t r;
  int s = scale_factor (self);
  double dx, dy;

  if (self->pyramid == NULL)
    return FALSE;
  npv_heatmap_get_canvas (self, &r);
  if (!graphene_rect_contains_point (&r, &GRAPHENE_POINT_INIT (x, y)))
    return FALSE;
  dx = (x - r.origin.x) * s + self->ox;
  dy = (y - r.origin.y) * s + self->oy;
  if (dx < 0 || dy < 0 || dx >= content_width (self) || dy >= content_height (self))
    return FALSE;
  item_range_at_device (self, dx, dy, row0, col0, row1, col1);
  return TRUE;
}

void
npv_heatmap_get_item_position (NpvHeatmap *self,
                               gint64      row,
                               gint64      col,
                               double     *x,
                               double     *y)
{
  graphene_rect_t r;
  int s = scale_factor (self);

  npv_heatmap_get_canvas (self, &r);
  *x = r.origin.x + ((double) item_pixel (&self->scale, col) - self->ox) / s;
  *y = r.origin.y + ((double) item_pixel (&self->scale, row) - self->oy) / s;
}

void
npv_heatmap_get_scale (NpvHeatmap *self,
                       int        *pixels_per_item,
                       double     *items_per_pixel)
{
  *pixels_per_item = self->scale.ppi;
  *items_per_pixel = self->scale.ipp;
}

/* ------------------------------------------------------------------ */
/* Textures */

static guint
tex_key_hash (gconstpointer p)
{
  const TexKey *k = p;

  return (guint) k->scale.ppi * 31u ^ g_double_hash (&k->scale.ipp) ^
         (guint) (k->tx * 2654435761u) ^ (guint) (k->ty * 40503u) ^
         (guint) (k->tx >> 32) ^ (guint) (k->ty >> 32);
}

static gboolean
tex_key_equal (gconstpointer a,
               gconstpointer b)
{
  const TexKey *x = a, *y = b;

  return x->scale.ppi == y->scale.ppi && x->scale.ipp == y->scale.ipp && x->tx == y->tx &&
         x->ty == y->ty;
}

static void
pixels_clear (gpointer data)
{
  Pixels *pixels = data;

  g_free (pixels->min);
  g_free (pixels->max);
  g_free (pixels->mean);
}

static Pixels *
pixels_ref (Pixels *pixels)
{
  return g_atomic_rc_box_acquire (pixels);
}

static void
pixels_unref (Pixels *pixels)
{
  g_atomic_rc_box_release_full (pixels, pixels_clear);
}

static gsize
entry_bytes (TexEntry *entry)
{
  gsize bytes = 256;

  if (entry->pixels != NULL)
    bytes += (gsize) entry->pixels->width * entry->pixels->height *
             (4 + (entry->pixels->min != NULL ? 3 * sizeof (double) : 0));
  return bytes;
}

static void
tex_entry_free (TexEntry *entry)
{
  if (entry->cancellable != NULL)
    {
      g_cancellable_cancel (entry->cancellable);
      g_object_unref (entry->cancellable);
    }
  g_clear_object (&entry->texture);
  g_clear_pointer (&entry->pixels, pixels_unref);
  g_free (entry);
}

static double
pixel_value (const Pixels *pixels,
             gsize         i,
             NpvReduction  reduction)
{
  switch (reduction)
    {
    case NPV_REDUCTION_MIN:
      return pixels->min[i];
    case NPV_REDUCTION_MAX:
      return pixels->max[i];
    case NPV_REDUCTION_MEAN:
    default:
      return pixels->mean[i];
    }
}

typedef struct
{
  GWeakRef heatmap;
  NpvPyramid *pyramid;
  NpvPyramid *more[3];         /* RGB(A) */
  guint n_channels;
  double full_scale;
  TexKey key;
  NpvColorScale cs;
  NpvReduction reduction;
  guint generation;
  guint color_gen;
  Pixels *pixels;              /* recolouring: the values to use */
  gint64 n_rows, n_cols;       /* of the plane */
  GCancellable *cancellable;   /* the entry's */
} TexJob;

typedef struct
{
  Pixels *pixels;
  GBytes *colors;
} TexResult;

static void
tex_job_free (TexJob *job)
{
  g_weak_ref_clear (&job->heatmap);
  g_clear_pointer (&job->pyramid, npv_pyramid_unref);
  for (guint k = 0; k < 3; k++)
    g_clear_pointer (&job->more[k], npv_pyramid_unref);
  g_clear_pointer (&job->pixels, pixels_unref);
  g_clear_object (&job->cancellable);
  g_free (job);
}

static void
tex_result_free (TexResult *result)
{
  g_clear_pointer (&result->pixels, pixels_unref);
  g_clear_pointer (&result->colors, g_bytes_unref);
  g_free (result);
}

/* The pyramid tiles covering some blocks of one level. */
typedef struct
{
  guint level;
  gint64 tr0, tc0;
  guint ntr, ntc;
  NpvBlocks *tiles[9];
  gboolean exact;
} TileSet;

static void
tile_set_clear (TileSet *set)
{
  for (guint i = 0; i < G_N_ELEMENTS (set->tiles); i++)
    g_clear_pointer (&set->tiles[i], npv_blocks_unref);
}

/* Fetches the tiles of blocks [br0, br1] x [bc0, bc1]: cached exact ones,
 * else exact ones made now, or with @sample quick sampled ones. */
static gboolean
tile_set_fetch (TileSet      *set,
                NpvPyramid   *pyramid,
                guint         level,
                gint64        br0,
                gint64        br1,
                gint64        bc0,
                gint64        bc1,
                gboolean      sample,
                GCancellable *cancellable,
                GError      **error)
{
  memset (set, 0, sizeof *set);
  set->level = level;
  set->tr0 = br0 / NPV_PYRAMID_TILE;
  set->tc0 = bc0 / NPV_PYRAMID_TILE;
  set->ntr = (guint) (br1 / NPV_PYRAMID_TILE - set->tr0 + 1);
  set->ntc = (guint) (bc1 / NPV_PYRAMID_TILE - set->tc0 + 1);
  set->exact = TRUE;
  g_return_val_if_fail (set->ntr * set->ntc <= G_N_ELEMENTS (set->tiles), FALSE);

  for (guint i = 0; i < set->ntr; i++)
    for (guint j = 0; j < set->ntc; j++)
      {
        gint64 tr = set->tr0 + i, tc = set->tc0 + j;
        NpvBlocks *b = npv_pyramid_peek_tile (pyramid, level, tr, tc);

        if (b == NULL && sample)
          b = npv_pyramid_sample_tile (pyramid, level, tr, tc, cancellable, error);
        else if (b == NULL)
          b = npv_pyramid_get_tile (pyramid, level, tr, tc, 0, cancellable, error);
        if (b == NULL)
          {
            tile_set_clear (set);
            return FALSE;
          }
        set->exact = set->exact && b->exact;
        set->tiles[i * set->ntc + j] = b;
      }
  return TRUE;
}

/* Whether every tile of the set is cached exact. */
static gboolean
tile_set_cached (NpvPyramid *pyramid,
                 guint       level,
                 gint64      br0,
                 gint64      br1,
                 gint64      bc0,
                 gint64      bc1)
{
  for (gint64 tr = br0 / NPV_PYRAMID_TILE; tr <= br1 / NPV_PYRAMID_TILE; tr++)
    for (gint64 tc = bc0 / NPV_PYRAMID_TILE; tc <= bc1 / NPV_PYRAMID_TILE; tc++)
      {
        g_autoptr(NpvBlocks) b = npv_pyramid_peek_tile (pyramid, level, tr, tc);

        if (b == NULL)
          return FALSE;
      }
  return TRUE;
}

typedef struct
{
  double min, max, sum, count;
} Fold;

/* Folds blocks [r0, r1] x [c0, c1] of @set. */
static void
fold_blocks (const TileSet *set,
             gint64         r0,
             gint64         r1,
             gint64         c0,
             gint64         c1,
             Fold          *fold)
{
  fold->min = INFINITY;
  fold->max = -INFINITY;
  fold->sum = 0;
  fold->count = 0;
  for (gint64 r = r0; r <= r1; r++)
    {
      guint ti = (guint) (r / NPV_PYRAMID_TILE - set->tr0);
      guint ir = (guint) (r % NPV_PYRAMID_TILE);

      for (gint64 c = c0; c <= c1; c++)
        {
          const NpvBlocks *b = set->tiles[ti * set->ntc + (guint) (c / NPV_PYRAMID_TILE - set->tc0)];
          gsize i = (gsize) ir * b->n_cols + (guint) (c % NPV_PYRAMID_TILE);

          fold->min = MIN (fold->min, b->min[i]);
          fold->max = MAX (fold->max, b->max[i]);
          fold->sum += b->sum[i];
          fold->count += b->count[i];
        }
    }
}

static double
fold_mean (const Fold *fold)
{
  return npv_fold_mean (fold->min, fold->max, fold->sum, fold->count);
}

/* Where the texture's pixels come from: item ranges per pixel row and
 * column, and the blocks they cover. */
typedef struct
{
  int width, height;
  guint level;
  gint64 *row_a, *row_b, *col_a, *col_b;   /* block ranges, inclusive */
} Layout;

static void
layout_init (Layout       *layout,
             const TexJob *job)
{
  const Scale *scale = &job->key.scale;
  gint64 cw = content_size (job->n_cols, scale), ch = content_size (job->n_rows, scale);

  layout->width = (int) MIN (TILE, cw - job->key.tx * TILE);
  layout->height = (int) MIN (TILE, ch - job->key.ty * TILE);
  layout->level = scale_level (scale);
  layout->row_a = g_new (gint64, layout->height);
  layout->row_b = g_new (gint64, layout->height);
  layout->col_a = g_new (gint64, layout->width);
  layout->col_b = g_new (gint64, layout->width);
  for (int y = 0; y < layout->height; y++)
    {
      gint64 a, b;

      pixel_items (scale, job->key.ty * TILE + y, job->n_rows, &a, &b);
      layout->row_a[y] = a >> layout->level;
      layout->row_b[y] = (b - 1) >> layout->level;
    }
  for (int x = 0; x < layout->width; x++)
    {
      gint64 a, b;

      pixel_items (scale, job->key.tx * TILE + x, job->n_cols, &a, &b);
      layout->col_a[x] = a >> layout->level;
      layout->col_b[x] = (b - 1) >> layout->level;
    }
}

static void
layout_clear (Layout *layout)
{
  g_free (layout->row_a);
  g_free (layout->row_b);
  g_free (layout->col_a);
  g_free (layout->col_b);
}

/* Each pixel's min, max and mean from the tiles. */
static Pixels *
fold_pixels (const Layout  *layout,
             const TileSet *set)
{
  Pixels *pixels = g_atomic_rc_box_new0 (Pixels);
  gsize n = (gsize) layout->width * layout->height;

  pixels->width = layout->width;
  pixels->height = layout->height;
  pixels->exact = set->exact;
  pixels->min = g_new (double, n);
  pixels->max = g_new (double, n);
  pixels->mean = g_new (double, n);
  for (int y = 0; y < layout->height; y++)
    for (int x = 0; x < layout->width; x++)
      {
        gsize i = (gsize) y * layout->width + x;
        Fold fold;

        fold_blocks (set, layout->row_a[y], layout->row_b[y], layout->col_a[x], layout->col_b[x],
                     &fold);
        pixels->min[i] = fold.min <= fold.max ? fold.min : NAN;
        pixels->max[i] = fold.min <= fold.max ? fold.max : NAN;
        pixels->mean[i] = fold_mean (&fold);
      }
  return pixels;
}

/* The colours of @pixels through the job's colour scale. */
static GBytes *
color_pixels (const TexJob *job,
              const Pixels *pixels)
{
  gsize n = (gsize) pixels->width * pixels->height;
  guint32 *colors = g_new (guint32, MAX (n, 1));
  g_autofree double *values = g_new (double, MAX (pixels->width, 1));

  for (int y = 0; y < pixels->height; y++)
    {
      gsize base = (gsize) y * pixels->width;

      for (int x = 0; x < pixels->width; x++)
        values[x] = pixel_value (pixels, base + x, job->reduction);
      npv_color_scale_map_n (&job->cs, values, pixels->width, colors + base);
    }
  return g_bytes_new_take (colors, n * 4);
}

/* An RGB(A) texture: the mean of each channel over each pixel's items. */
static TexResult *
rgb_texture (const TexJob  *job,
             const Layout  *layout,
             const TileSet *sets)
{
  TexResult *result = g_new0 (TexResult, 1);
  gsize n = (gsize) layout->width * layout->height;
  guint32 *colors = g_new (guint32, MAX (n, 1));

  for (int y = 0; y < layout->height; y++)
    for (int x = 0; x < layout->width; x++)
      {
        guint32 c[4] = { 0, 0, 0, 255 };

        for (guint k = 0; k < job->n_channels; k++)
          {
            Fold fold;

            fold_blocks (&sets[k], layout->row_a[y], layout->row_b[y], layout->col_a[x],
                         layout->col_b[x], &fold);
            c[k] = npv_channel_byte (fold_mean (&fold), job->full_scale);
          }
        /* premultiplied, as GDK_MEMORY_DEFAULT is */
        colors[(gsize) y * layout->width + x] = c[3] << 24 | (c[0] * c[3] / 255) << 16 |
                                                (c[1] * c[3] / 255) << 8 | (c[2] * c[3] / 255);
      }
  result->pixels = g_atomic_rc_box_new0 (Pixels);
  result->pixels->width = layout->width;
  result->pixels->height = layout->height;
  result->pixels->exact = TRUE;
  result->colors = g_bytes_new_take (colors, n * 4);
  return result;
}

typedef struct
{
  TexJob *job;                 /* borrowed from the task, which outlives this */
  GTask *task;
  TexResult *result;
} Partial;

static void apply_result (NpvHeatmap *self, TexJob *job, TexResult *result);
static gboolean entry_current (NpvHeatmap *self, TexEntry *entry);

static gboolean
partial_arrived (gpointer data)
{
  Partial *partial = data;
  g_autoptr(NpvHeatmap) self = g_weak_ref_get (&partial->job->heatmap);

  if (self != NULL)
    apply_result (self, partial->job, partial->result);
  return G_SOURCE_REMOVE;
}

static void
partial_free (gpointer data)
{
  Partial *partial = data;

  g_clear_pointer (&partial->result, tex_result_free);
  g_object_unref (partial->task);
  g_free (partial);
}

static void
texture_in_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  TexJob *job = task_data;
  GError *error = NULL;
  Layout layout;
  TileSet sets[4];
  TexResult *result;
  gint64 br0, br1, bc0, bc1;

  if (job->pixels != NULL && job->pixels->exact)
    {
      result = g_new0 (TexResult, 1);
      result->pixels = pixels_ref (job->pixels);
      result->colors = color_pixels (job, job->pixels);
      g_task_return_pointer (task, result, (GDestroyNotify) tex_result_free);
      return;
    }

  layout_init (&layout, job);
  br0 = layout.row_a[0];
  br1 = layout.row_b[layout.height - 1];
  bc0 = layout.col_a[0];
  bc1 = layout.col_b[layout.width - 1];
  memset (sets, 0, sizeof sets);

  if (job->n_channels > 1)
    {
      NpvPyramid *pyramids[4] = { job->pyramid, job->more[0], job->more[1], job->more[2] };
      gboolean ok = TRUE;

      for (guint k = 0; k < job->n_channels && ok; k++)
        ok = tile_set_fetch (&sets[k], pyramids[k], layout.level, br0, br1, bc0, bc1, FALSE,
                             cancellable, &error);
      result = ok ? rgb_texture (job, &layout, sets) : NULL;
      for (guint k = 0; k < job->n_channels; k++)
        tile_set_clear (&sets[k]);
      layout_clear (&layout);
      if (result == NULL)
        g_task_return_error (task, error);
      else
        g_task_return_pointer (task, result, (GDestroyNotify) tex_result_free);
      return;
    }

  /* A sampled picture first when the exact one has to be made: a line
   * per block is 2^level times less to read. */
  if (layout.level >= 2 && job->pixels == NULL &&
      !tile_set_cached (job->pyramid, layout.level, br0, br1, bc0, bc1) &&
      tile_set_fetch (&sets[0], job->pyramid, layout.level, br0, br1, bc0, bc1, TRUE, cancellable,
                      NULL))
    {
      Partial *partial = g_new0 (Partial, 1);

      partial->job = job;
      partial->task = g_object_ref (task);
      partial->result = g_new0 (TexResult, 1);
      partial->result->pixels = fold_pixels (&layout, &sets[0]);
      partial->result->colors = color_pixels (job, partial->result->pixels);
      tile_set_clear (&sets[0]);
      g_main_context_invoke_full (g_task_get_context (task), G_PRIORITY_DEFAULT,
                                  partial_arrived, partial, partial_free);
    }

  if (!tile_set_fetch (&sets[0], job->pyramid, layout.level, br0, br1, bc0, bc1, FALSE, cancellable,
                       &error))
    {
      layout_clear (&layout);
      g_task_return_error (task, error);
      return;
    }
  result = g_new0 (TexResult, 1);
  result->pixels = fold_pixels (&layout, &sets[0]);
  result->colors = color_pixels (job, result->pixels);
  tile_set_clear (&sets[0]);
  layout_clear (&layout);
  g_task_return_pointer (task, result, (GDestroyNotify) tex_result_free);
}

static void
apply_result (NpvHeatmap *self,
              TexJob     *job,
              TexResult  *result)
{
  TexEntry *entry;

  if (job->generation != self->generation)
    return;
  entry = g_hash_table_lookup (self->textures, &job->key);
  if (entry == NULL || entry->cancellable != job->cancellable)
    return;
  /* A sample never replaces the exact picture. */
  if (!result->pixels->exact && entry->pixels != NULL && entry->pixels->exact && entry->texture != NULL)
    return;

  self->cache_bytes -= MIN (self->cache_bytes, entry_bytes (entry));
  g_clear_object (&entry->texture);
  entry->texture = gdk_memory_texture_new (result->pixels->width, result->pixels->height,
                                           GDK_MEMORY_DEFAULT, result->colors,
                                           (gsize) result->pixels->width * 4);
  if (entry->pixels != result->pixels)
    {
      g_clear_pointer (&entry->pixels, pixels_unref);
      entry->pixels = pixels_ref (result->pixels);
    }
  entry->color_gen = job->color_gen;
  self->cache_bytes += entry_bytes (entry);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[VIEW_CHANGED], 0);
  if (self->has_hover)
    g_signal_emit (self, signals[HOVER_CHANGED], 0);
}

static void
texture_done (GObject      *object,
              GAsyncResult *res,
              gpointer      user_data)
{
  GTask *task = G_TASK (res);
  TexJob *job = g_task_get_task_data (task);
  g_autoptr(NpvHeatmap) self = g_weak_ref_get (&job->heatmap);
  g_autoptr(GError) error = NULL;
  TexResult *result = g_task_propagate_pointer (task, &error);
  TexEntry *entry;

  if (self == NULL || job->generation != self->generation)
    {
      g_clear_pointer (&result, tex_result_free);
      return;
    }
  entry = g_hash_table_lookup (self->textures, &job->key);
  if (entry == NULL || entry->cancellable != job->cancellable)
    {
      g_clear_pointer (&result, tex_result_free);
      return;
    }
  if (result != NULL)
    apply_result (self, job, result);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_free (self->message);
      self->message = g_strdup (error->message);
      g_signal_emit (self, signals[READ_FAILED], 0, error);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  g_clear_object (&entry->cancellable);
  g_clear_pointer (&result, tex_result_free);
  /* the colours may have changed while it was made */
  if (!entry_current (self, entry))
    schedule_update (self);
  g_signal_emit (self, signals[VIEW_CHANGED], 0);
}

static void
request_texture (NpvHeatmap *self,
                 TexEntry   *entry)
{
  TexJob *job = g_new0 (TexJob, 1);
  g_autoptr(GTask) task = NULL;

  if (entry->cancellable != NULL)
    {
      g_cancellable_cancel (entry->cancellable);
      g_object_unref (entry->cancellable);
    }
  entry->cancellable = g_cancellable_new ();

  g_weak_ref_init (&job->heatmap, self);
  job->pyramid = npv_pyramid_ref (self->pyramid);
  job->n_channels = self->n_channels;
  job->full_scale = self->full_scale;
  for (guint k = 0; k + 1 < self->n_channels; k++)
    job->more[k] = npv_pyramid_ref (self->more[k]);
  job->key = entry->key;
  job->cs = self->cs;
  job->reduction = self->reduction;
  job->generation = self->generation;
  job->color_gen = self->color_gen;
  job->pixels = entry->pixels != NULL && entry->pixels->min != NULL ? pixels_ref (entry->pixels) : NULL;
  job->n_rows = plane_rows (self);
  job->n_cols = plane_cols (self);
  job->cancellable = g_object_ref (entry->cancellable);

  task = g_task_new (NULL, entry->cancellable, texture_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) tex_job_free);
  g_task_run_in_thread (task, texture_in_thread);
}

static void
visible_textures (NpvHeatmap *self,
                  gint64     *tx0,
                  gint64     *ty0,
                  gint64     *tx1,
                  gint64     *ty1)
{
  double cw = canvas_device_width (self), ch = canvas_device_height (self);
  gint64 ntx = (content_width (self) + TILE - 1) / TILE;
  gint64 nty = (content_height (self) + TILE - 1) / TILE;

  *tx0 = CLAMP ((gint64) floor (self->ox / TILE), 0, MAX (ntx - 1, 0));
  *ty0 = CLAMP ((gint64) floor (self->oy / TILE), 0, MAX (nty - 1, 0));
  *tx1 = CLAMP ((gint64) floor ((self->ox + cw - 1) / TILE), 0, MAX (ntx - 1, 0));
  *ty1 = CLAMP ((gint64) floor ((self->oy + ch - 1) / TILE), 0, MAX (nty - 1, 0));
}

static gboolean
range_ready (NpvHeatmap *self)
{
  return self->range_known || self->have_sample_range || self->n_channels > 1;
}

static gboolean
entry_current (NpvHeatmap *self,
               TexEntry   *entry)
{
  return entry->pixels != NULL && entry->pixels->exact &&
         (entry->color_gen == self->color_gen || self->n_channels > 1);
}

static gboolean
update_textures (gpointer user_data)
{
  NpvHeatmap *self = user_data;
  gint64 tx0, ty0, tx1, ty1;
  GHashTableIter iter;
  TexEntry *entry;
  g_autoptr(GPtrArray) stale = g_ptr_array_new ();

  self->update_source = 0;
  if (self->pyramid == NULL || !range_ready (self) || plane_rows (self) == 0 ||
      plane_cols (self) == 0)
    return G_SOURCE_REMOVE;

  self->frame++;
  visible_textures (self, &tx0, &ty0, &tx1, &ty1);
  for (gint64 ty = ty0; ty <= ty1; ty++)
    for (gint64 tx = tx0; tx <= tx1; tx++)
      {
        TexKey key = { self->scale, tx, ty };

        entry = g_hash_table_lookup (self->textures, &key);
        if (entry == NULL)
          {
            entry = g_new0 (TexEntry, 1);
            entry->key = key;
            g_hash_table_insert (self->textures, &entry->key, entry);
            request_texture (self, entry);
          }
        else if (entry->cancellable == NULL && !entry_current (self, entry))
          request_texture (self, entry);
        entry->used = self->frame;
      }

  /* Work for textures off screen is cancelled; made ones stay until the
   * budget needs their room, oldest first. */
  g_hash_table_iter_init (&iter, self->textures);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    if (entry->used != self->frame && (entry->cancellable != NULL || entry->texture == NULL))
      g_ptr_array_add (stale, entry);
  for (guint i = 0; i < stale->len; i++)
    {
      entry = g_ptr_array_index (stale, i);
      self->cache_bytes -= MIN (self->cache_bytes, entry_bytes (entry));
      g_hash_table_remove (self->textures, &entry->key);
    }
  while (self->cache_bytes > CACHE_BUDGET)
    {
      TexEntry *oldest = NULL;

      g_hash_table_iter_init (&iter, self->textures);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
        if (entry->used != self->frame && (oldest == NULL || entry->used < oldest->used))
          oldest = entry;
      if (oldest == NULL)
        break;
      self->cache_bytes -= MIN (self->cache_bytes, entry_bytes (oldest));
      g_hash_table_remove (self->textures, &oldest->key);
    }
  g_signal_emit (self, signals[VIEW_CHANGED], 0);
  return G_SOURCE_REMOVE;
}

static void
schedule_update (NpvHeatmap *self)
{
  if (self->update_source == 0)
    self->update_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE + 10, update_textures, self, NULL);
}

static void
clear_textures (NpvHeatmap *self)
{
  self->generation++;
  g_hash_table_remove_all (self->textures);
  self->cache_bytes = 0;
}

/* ------------------------------------------------------------------ */
/* The colour range */

static void
update_color_scale (NpvHeatmap *self)
{
  double lo = 0, hi = 1;

  if (self->range_known)
    {
      lo = self->known_lo;
      hi = self->known_hi;
    }
  else if (self->have_sample_range)
    {
      lo = self->sample_lo;
      hi = self->sample_hi;
    }
  if (!isfinite (lo) || !isfinite (hi))
    lo = 0, hi = 1;
  if (lo > hi)
    {
      double t = lo;

      lo = hi;
      hi = t;
    }
  if (self->cs.scale == NPV_SCALE_LOG && !(lo > 0))
    {
      /* The smallest positive value seen, else six decades below the top. */
      if (self->have_sample_range && self->sample_min_positive > 0 &&
          self->sample_min_positive <= hi)
        lo = self->sample_min_positive;
      else
        lo = hi > 0 ? hi * 1e-6 : 1e-6;
      if (!(hi > lo))
        hi = lo * 10;
    }
  self->cs.lo = lo;
  self->cs.hi = hi;
  self->color_gen++;
  schedule_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[VIEW_CHANGED], 0);
}

static void
sample_in_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  NpvPyramid *pyramid = task_data;
  guint level = 0;
  GError *error = NULL;
  NpvBlocks *blocks;

  while (npv_pyramid_get_n_rows (pyramid, level) > NPV_PYRAMID_TILE ||
         npv_pyramid_get_n_cols (pyramid, level) > NPV_PYRAMID_TILE)
    level++;
  blocks = npv_pyramid_peek_tile (pyramid, level, 0, 0);
  if (blocks == NULL)
    blocks = npv_pyramid_sample_tile (pyramid, level, 0, 0, cancellable, &error);
  if (blocks == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, blocks, (GDestroyNotify) npv_blocks_unref);
}

static void
sample_done (GObject      *object,
             GAsyncResult *res,
             gpointer      user_data)
{
  g_autoptr(NpvHeatmap) self = g_weak_ref_get (user_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvBlocks) blocks = g_task_propagate_pointer (G_TASK (res), &error);
  double lo = INFINITY, hi = -INFINITY, min_positive = INFINITY;

  g_weak_ref_clear (user_data);
  g_free (user_data);
  if (self == NULL || g_task_get_cancellable (G_TASK (res)) != self->sample_cancellable)
    return;
  g_clear_object (&self->sample_cancellable);
  if (blocks == NULL)
    {
      g_free (self->message);
      self->message = g_strdup (error->message);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_signal_emit (self, signals[READ_FAILED], 0, error);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  for (gsize i = 0; i < (gsize) blocks->n_rows * blocks->n_cols; i++)
    {
      double mn = blocks->min[i], mx = blocks->max[i];

      if (isfinite (mn))
        lo = MIN (lo, mn);
      if (isfinite (mx))
        hi = MAX (hi, mx);
      if (mn > 0 && isfinite (mn))
        min_positive = MIN (min_positive, mn);
      else if (mx > 0 && isfinite (mx))
        min_positive = MIN (min_positive, mx);
    }
  self->have_sample_range = TRUE;
  self->sample_lo = isfinite (lo) ? lo : 0;
  self->sample_hi = isfinite (hi) ? hi : 1;
  self->sample_min_positive = isfinite (min_positive) ? min_positive : 0;
  update_color_scale (self);
}

static void
start_sample (NpvHeatmap *self)
{
  g_autoptr(GTask) task = NULL;
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  g_cancellable_cancel (self->sample_cancellable);
  g_clear_object (&self->sample_cancellable);
  self->have_sample_range = FALSE;
  if (self->pyramid == NULL)
    {
      g_free (ref);
      return;
    }
  self->sample_cancellable = g_cancellable_new ();
  g_weak_ref_init (ref, self);
  task = g_task_new (NULL, self->sample_cancellable, sample_done, ref);
  g_task_set_task_data (task, npv_pyramid_ref (self->pyramid), (GDestroyNotify) npv_pyramid_unref);
  g_task_run_in_thread (task, sample_in_thread);
}

/* ------------------------------------------------------------------ */
/* Public */

GtkWidget *
npv_heatmap_new (void)
{
  return g_object_new (NPV_TYPE_HEATMAP, NULL);
}

static void
rebuild_pyramid (NpvHeatmap *self)
{
  g_autoptr(GError) error = NULL;

  clear_textures (self);
  g_clear_pointer (&self->pyramid, npv_pyramid_unref);
  g_clear_pointer (&self->message, g_free);
  if (self->plane != NULL)
    {
      self->pyramid = npv_pyramid_new (self->plane, self->part, 0, &error);
      if (self->pyramid == NULL)
        self->message = g_strdup (error->message);
    }
  start_sample (self);
}

static void
clear_channels (NpvHeatmap *self)
{
  for (guint k = 0; k < 3; k++)
    g_clear_pointer (&self->more[k], npv_pyramid_unref);
  self->n_channels = 1;
}

static void plane_changed (NpvHeatmap *self, gint64 old_rows, gint64 old_cols);

void
npv_heatmap_set_plane (NpvHeatmap *self,
                       NpvArray   *plane)
{
  gint64 old_rows = plane_rows (self), old_cols = plane_cols (self);

  g_return_if_fail (NPV_IS_HEATMAP (self));
  g_return_if_fail (plane == NULL || plane->ndim == 2);

  if (plane == self->plane && self->n_channels == 1)
    return;
  if (plane != NULL)
    npv_array_ref (plane);
  g_clear_pointer (&self->plane, npv_array_unref);
  self->plane = plane;
  clear_channels (self);
  rebuild_pyramid (self);
  plane_changed (self, old_rows, old_cols);
}

void
npv_heatmap_set_rgb (NpvHeatmap *self,
                     NpvArray  **channels,
                     guint       n_channels,
                     double      full_scale)
{
  g_autoptr(GError) error = NULL;
  gint64 old_rows = plane_rows (self), old_cols = plane_cols (self);

  g_return_if_fail (NPV_IS_HEATMAP (self));
  g_return_if_fail (n_channels == 3 || n_channels == 4);

  npv_array_ref (channels[0]);
  g_clear_pointer (&self->plane, npv_array_unref);
  self->plane = channels[0];
  clear_channels (self);
  rebuild_pyramid (self);
  for (guint k = 1; k < n_channels && self->pyramid != NULL; k++)
    {
      self->more[k - 1] = npv_pyramid_new (channels[k], NPV_PART_VALUE, 0, &error);
      if (self->more[k - 1] == NULL)
        {
          g_free (self->message);
          self->message = g_strdup (error->message);
          g_clear_pointer (&self->pyramid, npv_pyramid_unref);
          clear_channels (self);
          break;
        }
      self->n_channels = k + 1;
    }
  self->full_scale = full_scale;
  plane_changed (self, old_rows, old_cols);
}

static void
plane_changed (NpvHeatmap *self,
               gint64      old_rows,
               gint64      old_cols)
{
  if (self->has_selection &&
      (self->sel_r1 >= plane_rows (self) || self->sel_c1 >= plane_cols (self)))
    self->has_selection = FALSE;
  self->has_hover = FALSE;
  /* another plane of the same shape (a slider moved) keeps the view */
  if (old_rows != plane_rows (self) || old_cols != plane_cols (self) || self->fitted)
    {
      self->fitted = TRUE;
      self->scale = fit_scale (self);
    }
  clamp_offsets (self);
  schedule_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[VIEW_CHANGED], 0);
}

int
npv_heatmap_get_zoom (NpvHeatmap *self)
{
  if (self->scale.ppi > 1)
    return (int) floor (log2 (self->scale.ppi) + 1e-9);
  return -(int) ceil (log2 (self->scale.ipp) - 1e-9);
}

/* Changes the scale keeping the canvas point (@x, @y) over the same
 * items; @x < 0 keeps the centre. */
static void
set_scale (NpvHeatmap *self,
           Scale       scale,
           double      x,
           double      y)
{
  graphene_rect_t r;
  int s = scale_factor (self);
  double dx, dy, ex, ey;

  scale.ppi = CLAMP (scale.ppi, 1, MAX_PPI);
  scale.ipp = scale.ppi > 1 ? 1.0 : CLAMP (scale.ipp, 1.0, max_ipp (self));
  if (scale.ppi == self->scale.ppi && scale.ipp == self->scale.ipp)
    return;

  npv_heatmap_get_canvas (self, &r);
  if (x < 0)
    {
      x = r.origin.x + r.size.width / 2;
      y = r.origin.y + r.size.height / 2;
    }
  dx = (x - r.origin.x) * s;
  dy = (y - r.origin.y) * s;
  ex = (self->ox + dx) * items_per_pixel (&self->scale);
  ey = (self->oy + dy) * items_per_pixel (&self->scale);
  self->scale = scale;
  self->ox = ex / items_per_pixel (&scale) - dx;
  self->oy = ey / items_per_pixel (&scale) - dy;
  self->fitted = FALSE;
  clamp_offsets (self);
  schedule_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[VIEW_CHANGED], 0);
}

void
npv_heatmap_set_zoom (NpvHeatmap *self,
                      int         zoom,
                      double      x,
                      double      y)
{
  Scale scale = { 1, 1.0 };

  g_return_if_fail (NPV_IS_HEATMAP (self));

  zoom = MIN (zoom, NPV_HEATMAP_MAX_ZOOM);
  if (zoom > 0)
    scale.ppi = 1 << zoom;
  else
    scale.ipp = ldexp (1.0, -zoom);
  set_scale (self, scale, x, y);
}

/* One step in (@steps > 0) or out: twice or half the size. */
static void
zoom_steps (NpvHeatmap *self,
            int         steps,
            double      x,
            double      y)
{
  Scale scale = self->scale;

  for (; steps > 0; steps--)
    {
      if (scale.ppi > 1 || scale.ipp <= 1)
        scale.ppi = MIN (scale.ppi * 2, MAX_PPI), scale.ipp = 1;
      else
        scale.ipp = scale.ipp / 2 < 1 + 1e-9 ? 1.0 : scale.ipp / 2;
    }
  for (; steps < 0; steps++)
    {
      if (scale.ppi > 1)
        scale.ppi /= 2;
      else
        scale.ipp = MIN (scale.ipp * 2, max_ipp (self));
    }
  set_scale (self, scale, x, y);
}

void
npv_heatmap_zoom_fit (NpvHeatmap *self)
{
  g_return_if_fail (NPV_IS_HEATMAP (self));

  self->scale = fit_scale (self);
  self->fitted = TRUE;
  clamp_offsets (self);
  schedule_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[VIEW_CHANGED], 0);
}

void
npv_heatmap_center_on (NpvHeatmap *self,
                       gint64      row,
                       gint64      col)
{
  self->ox = (double) item_pixel (&self->scale, col) - canvas_device_width (self) / 2;
  self->oy = (double) item_pixel (&self->scale, row) - canvas_device_height (self) / 2;
  self->fitted = FALSE;
  clamp_offsets (self);
  schedule_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The texture entry and pixel index under widget point (@x, @y). */
static TexEntry *
entry_at (NpvHeatmap *self,
          double      x,
          double      y,
          gsize      *index)
{
  graphene_rect_t r;
  int s = scale_factor (self);
  gint64 px, py;
  TexKey key;
  TexEntry *entry;

  if (self->pyramid == NULL)
    return NULL;
  npv_heatmap_get_canvas (self, &r);
  px = (gint64) floor ((x - r.origin.x) * s + self->ox);
  py = (gint64) floor ((y - r.origin.y) * s + self->oy);
  if (px < 0 || py < 0 || px >= content_width (self) || py >= content_height (self))
    return NULL;
  key = (TexKey) { self->scale, px / TILE, py / TILE };
  entry = g_hash_table_lookup (self->textures, &key);
  if (entry == NULL || entry->pixels == NULL || entry->pixels->min == NULL)
    return NULL;
  if (px % TILE >= entry->pixels->width || py % TILE >= entry->pixels->height)
    return NULL;
  *index = (gsize) (py % TILE) * entry->pixels->width + (gsize) (px % TILE);
  return entry;
}

gboolean
npv_heatmap_get_hover_values (NpvHeatmap *self,
                              double     *mean,
                              double     *min,
                              double     *max,
                              gboolean   *exact)
{
  gsize i;
  TexEntry *entry;

  if (!self->has_hover)
    return FALSE;
  entry = entry_at (self, self->hover_x, self->hover_y, &i);
  if (entry == NULL)
    return FALSE;
  *mean = entry->pixels->mean[i];
  *min = entry->pixels->min[i];
  *max = entry->pixels->max[i];
  *exact = entry->pixels->exact;
  return TRUE;
}

void
npv_heatmap_set_part (NpvHeatmap *self,
                      NpvPart     part)
{
  g_return_if_fail (NPV_IS_HEATMAP (self));

  if (part == self->part)
    return;
  self->part = part;
  if (self->plane != NULL && self->plane->dtype->kind == NPV_KIND_COMPLEX)
    {
      rebuild_pyramid (self);
      schedule_update (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

void
npv_heatmap_set_reduction (NpvHeatmap   *self,
                           NpvReduction  reduction)
{
  g_return_if_fail (NPV_IS_HEATMAP (self));

  if (reduction == self->reduction)
    return;
  self->reduction = reduction;
  update_color_scale (self);
}

void
npv_heatmap_set_colormap (NpvHeatmap  *self,
                          NpvColormap  map,
                          gboolean     reversed)
{
  g_return_if_fail (NPV_IS_HEATMAP (self));
  g_return_if_fail (map < NPV_N_COLORMAPS);

  if (map == self->cs.map && !reversed == !self->cs.reversed)
    return;
  self->cs.map = map;
  self->cs.reversed = reversed;
  update_color_scale (self);
}

void
npv_heatmap_set_scale (NpvHeatmap *self,
                       NpvScale    scale)
{
  g_return_if_fail (NPV_IS_HEATMAP (self));
  g_return_if_fail (scale < NPV_N_SCALES);

  if (scale == self->cs.scale)
    return;
  self->cs.scale = scale;
  update_color_scale (self);
}

void
npv_heatmap_set_range (NpvHeatmap *self,
                       gboolean    known,
                       double      lo,
                       double      hi,
                       gboolean    exact)
{
  g_return_if_fail (NPV_IS_HEATMAP (self));

  if (!known == !self->range_known && (!known || (lo == self->known_lo && hi == self->known_hi &&
                                                   !exact == !self->range_exact)))
    return;
  self->range_known = known;
  self->known_lo = lo;
  self->known_hi = hi;
  self->range_exact = known && exact;
  update_color_scale (self);
}

void
npv_heatmap_get_color_scale (NpvHeatmap    *self,
                             NpvColorScale *cs)
{
  *cs = self->cs;
}

gboolean
npv_heatmap_get_hover (NpvHeatmap *self,
                       gint64     *row0,
                       gint64     *col0,
                       gint64     *row1,
                       gint64     *col1)
{
  if (!self->has_hover)
    return FALSE;
  return npv_heatmap_get_items_at (self, self->hover_x, self->hover_y, row0, col0, row1, col1);
}

void
npv_heatmap_set_selection (NpvHeatmap *self,
                           gint64      row0,
                           gint64      col0,
                           gint64      row1,
                           gint64      col1)
{
  g_return_if_fail (NPV_IS_HEATMAP (self));

  self->has_selection = row0 >= 0 && col0 >= 0;
  self->sel_r0 = MIN (row0, row1);
  self->sel_r1 = MAX (row0, row1);
  self->sel_c0 = MIN (col0, col1);
  self->sel_c1 = MAX (col0, col1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
npv_heatmap_get_selection (NpvHeatmap *self,
                           gint64     *row0,
                           gint64     *col0,
                           gint64     *row1,
                           gint64     *col1)
{
  if (!self->has_selection)
    {
      *row0 = *col0 = *row1 = *col1 = -1;
      return;
    }
  *row0 = self->sel_r0;
  *col0 = self->sel_c0;
  *row1 = self->sel_r1;
  *col1 = self->sel_c1;
}

gboolean
npv_heatmap_is_exact (NpvHeatmap *self)
{
  gint64 tx0, ty0, tx1, ty1;

  if (self->pyramid == NULL || plane_rows (self) == 0 || plane_cols (self) == 0)
    return TRUE;
  visible_textures (self, &tx0, &ty0, &tx1, &ty1);
  for (gint64 ty = ty0; ty <= ty1; ty++)
    for (gint64 tx = tx0; tx <= tx1; tx++)
      {
        TexKey key = { self->scale, tx, ty };
        TexEntry *entry = g_hash_table_lookup (self->textures, &key);

        if (entry == NULL || entry->texture == NULL || !entry_current (self, entry))
          return FALSE;
      }
  return TRUE;
}

gboolean
npv_heatmap_is_loading (NpvHeatmap *self)
{
  gint64 tx0, ty0, tx1, ty1;

  if (self->pyramid == NULL || plane_rows (self) == 0 || plane_cols (self) == 0)
    return FALSE;
  if (!range_ready (self) || self->update_source != 0)
    return TRUE;
  visible_textures (self, &tx0, &ty0, &tx1, &ty1);
  for (gint64 ty = ty0; ty <= ty1; ty++)
    for (gint64 tx = tx0; tx <= tx1; tx++)
      {
        TexKey key = { self->scale, tx, ty };
        TexEntry *entry = g_hash_table_lookup (self->textures, &key);

        if (entry == NULL || entry->cancellable != NULL || entry->texture == NULL)
          return TRUE;
      }
  return FALSE;
}

const char *
npv_heatmap_get_message (NpvHeatmap *self)
{
  return self->message;
}

/* ------------------------------------------------------------------ */
/* Drawing */

static void
get_fg_color (NpvHeatmap *self,
              GdkRGBA    *fg)
{
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), fg);
}

static void
get_accent_color (NpvHeatmap *self,
                  GdkRGBA    *accent)
{
  GtkStyleContext *context = gtk_widget_get_style_context (GTK_WIDGET (self));

  if (!gtk_style_context_lookup_color (context, "accent_bg_color", accent) &&
      !gtk_style_context_lookup_color (context, "theme_selected_bg_color", accent))
    gdk_rgba_parse (accent, "#3584e4");
}

static void
append_text (NpvHeatmap    *self,
             GtkSnapshot   *snapshot,
             const char    *text,
             double         x,
             double         y,
             double         align_x,
             double         align_y,
             const GdkRGBA *color)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (round (x - align_x * w),
                                                          round (y - align_y * h)));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

static void
append_rect (GtkSnapshot   *snapshot,
             const GdkRGBA *color,
             double         x,
             double         y,
             double         w,
             double         h)
{
  gtk_snapshot_append_color (snapshot, color, &GRAPHENE_RECT_INIT (x, y, w, h));
}

static void
append_outline (GtkSnapshot   *snapshot,
                const GdkRGBA *color,
                double         x,
                double         y,
                double         w,
                double         h,
                double         width)
{
  append_rect (snapshot, color, x, y, w, width);
  append_rect (snapshot, color, x, y + h - width, w, width);
  append_rect (snapshot, color, x, y, width, h);
  append_rect (snapshot, color, x + w - width, y, width, h);
}

static GdkRGBA
rgba_of (guint32 argb)
{
  return (GdkRGBA) { ((argb >> 16) & 0xff) / 255.f, ((argb >> 8) & 0xff) / 255.f,
                     (argb & 0xff) / 255.f, 1.f };
}

/* A step of 1, 2 or 5 times a power of ten, at least @min. */
static gint64
nice_step (double min)
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

/* The items at the canvas' corners. */
static void
visible_items (NpvHeatmap *self,
               gint64     *r0,
               gint64     *c0,
               gint64     *r1,
               gint64     *c1)
{
  gint64 a, b;
  double cw = canvas_device_width (self), ch = canvas_device_height (self);

  pixel_items (&self->scale, MAX (0, (gint64) self->ox), plane_cols (self), &a, &b);
  *c0 = a;
  pixel_items (&self->scale, MIN (content_width (self), (gint64) (self->ox + cw)) - 1,
               plane_cols (self), &a, &b);
  *c1 = MIN (b, plane_cols (self)) - 1;
  pixel_items (&self->scale, MAX (0, (gint64) self->oy), plane_rows (self), &a, &b);
  *r0 = a;
  pixel_items (&self->scale, MIN (content_height (self), (gint64) (self->oy + ch)) - 1,
               plane_rows (self), &a, &b);
  *r1 = MIN (b, plane_rows (self)) - 1;
}

static void
draw_axes (NpvHeatmap      *self,
           GtkSnapshot     *snapshot,
           graphene_rect_t *r)
{
  GdkRGBA fg;
  int s = scale_factor (self);
  double per_px = items_per_pixel (&self->scale) * s;   /* items per logical pixel */
  double half = self->scale.ppi > 1 ? self->scale.ppi / 2.0 / s : 0;
  gint64 step_c = nice_step (90 * per_px);
  gint64 step_r = nice_step (40 * per_px);
  gint64 r0, c0, r1, c1, first;

  get_fg_color (self, &fg);
  fg.alpha *= 0.75f;
  visible_items (self, &r0, &c0, &r1, &c1);

  first = (c0 + step_c - 1) / step_c * step_c;
  for (gint64 c = first; c <= c1; c += step_c)
    {
      double x, y;
      char text[32];

      npv_heatmap_get_item_position (self, 0, c, &x, &y);
      x += half;
      g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, c);
      append_rect (snapshot, &fg, round (x), r->origin.y - 4, 1, 4);
      append_text (self, snapshot, text, x, r->origin.y - 4, 0.5, 1.0, &fg);
    }
  first = (r0 + step_r - 1) / step_r * step_r;
  for (gint64 row = first; row <= r1; row += step_r)
    {
      double x, y;
      char text[32];

      npv_heatmap_get_item_position (self, row, 0, &x, &y);
      y += half;
      g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, row);
      append_rect (snapshot, &fg, r->origin.x - 4, round (y), 4, 1);
      append_text (self, snapshot, text, r->origin.x - 6, y, 1.0, 0.5, &fg);
    }
}

static void
format_tick (char   *buf,
             gsize   size,
             double  v)
{
  g_snprintf (buf, size, "%.3g", v);
}

static void
draw_colorbar (NpvHeatmap  *self,
               GtkSnapshot *snapshot)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  int h = gtk_widget_get_height (GTK_WIDGET (self));
  double x = w - BAR_AREA + 10;
  double y0 = AXIS_TOP;
  double bar_h = MAX (60, MIN (h - AXIS_TOP - 120, 360));
  guint n = npv_colormap_get_size (self->cs.map);
  const guint8 *table = npv_colormap_get_table (self->cs.map);
  GdkRGBA fg;
  struct { guint32 color; const char *label; } specials[4];
  guint n_specials = 0;
  double sy;

  get_fg_color (self, &fg);

  for (guint i = 0; i < n; i++)
    {
      guint k = self->cs.reversed ? n - 1 - i : i;
      GdkRGBA c = { table[3 * k] / 255.f, table[3 * k + 1] / 255.f, table[3 * k + 2] / 255.f, 1 };
      double top = y0 + bar_h * (1.0 - (double) (i + 1) / n);
      double bottom = y0 + bar_h * (1.0 - (double) i / n);

      append_rect (snapshot, &c, x, floor (top), BAR_WIDTH, ceil (bottom) - floor (top));
    }

  /* the ends of the range, and round values between them: decades on a
   * log scale, steps of 1, 2 or 5 times a power of ten otherwise */
  {
    double ticks[64];
    guint n_ticks = npv_color_scale_ticks (&self->cs, ticks, G_N_ELEMENTS (ticks));

    for (guint i = 0; i < n_ticks; i++)
      {
        double t = npv_color_scale_position (&self->cs, ticks[i]);
        double ty = y0 + bar_h * (1.0 - t);
        char text[40];

        if (!isfinite (t) || t < 0 || t > 1)
          continue;
        /* round values too close to an end give way to it */
        if (i >= 2 && (fabs (ty - y0) < 14 || fabs (ty - (y0 + bar_h)) < 14))
          continue;
        format_tick (text, sizeof text, ticks[i]);
        append_rect (snapshot, &fg, x + BAR_WIDTH, round (ty), 4, 1);
        append_text (self, snapshot, text, x + BAR_WIDTH + 6, ty, 0, 0.5, &fg);
      }
  }

  /* the range's provenance */
  {
    GdkRGBA dim = fg;
    const char *what = self->range_known ? (self->range_exact ? _("exact") : _("range"))
                                         : _("sampled");

    dim.alpha *= 0.6f;
    append_text (self, snapshot, what, x, y0 + bar_h + 6, 0, 0, &dim);
  }

  specials[n_specials++] = (typeof (specials[0])) { NPV_COLOR_NAN, "NaN" };
  specials[n_specials++] = (typeof (specials[0])) { NPV_COLOR_POSINF, "+inf" };
  specials[n_specials++] = (typeof (specials[0])) { NPV_COLOR_NEGINF, "−inf" };
  if (self->cs.scale == NPV_SCALE_LOG)
    specials[n_specials++] = (typeof (specials[0])) { NPV_COLOR_INVALID, "≤ 0" };
  sy = y0 + bar_h + 28;
  for (guint i = 0; i < n_specials && sy + 14 < h; i++, sy += 18)
    {
      GdkRGBA c = rgba_of (specials[i].color);
      GdkRGBA border = fg;

      border.alpha *= 0.4f;
      append_rect (snapshot, &c, x, sy, BAR_WIDTH, 12);
      append_outline (snapshot, &border, x, sy, BAR_WIDTH, 12, 1);
      append_text (self, snapshot, specials[i].label, x + BAR_WIDTH + 6, sy + 6, 0, 0.5, &fg);
    }
}

/* Values in the items when they are big enough to read. */
static void
draw_values (NpvHeatmap  *self,
             GtkSnapshot *snapshot)
{
  int s = scale_factor (self);
  double cell = (double) self->scale.ppi / s;
  gint64 r0, c0, r1, c1;
  PangoFontDescription *font;
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);

  font = pango_font_description_new ();
  pango_font_description_set_absolute_size (font, MIN (cell / 4.5, 12) * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
  visible_items (self, &r0, &c0, &r1, &c1);

  for (gint64 row = r0; row <= r1; row++)
    for (gint64 col = c0; col <= c1; col++)
      {
        double x, y, v;
        TexEntry *entry;
        gsize i;
        guint32 argb;
        GdkRGBA ink;
        char text[32];
        int tw, th;
        double luminance;

        npv_heatmap_get_item_position (self, row, col, &x, &y);
        entry = entry_at (self, x + cell / 2, y + cell / 2, &i);
        if (entry == NULL)
          continue;
        v = entry->pixels->mean[i];
        argb = npv_color_scale_map (&self->cs, v);
        luminance = 0.2126 * ((argb >> 16) & 0xff) + 0.7152 * ((argb >> 8) & 0xff) +
                    0.0722 * (argb & 0xff);
        ink = luminance > 140 ? (GdkRGBA) { 0, 0, 0, 0.85f } : (GdkRGBA) { 1, 1, 1, 0.9f };
        if (isnan (v))
          g_strlcpy (text, "nan", sizeof text);
        else if (isinf (v))
          g_strlcpy (text, v > 0 ? "inf" : "-inf", sizeof text);
        else
          g_snprintf (text, sizeof text, "%.4g", v);
        pango_layout_set_text (layout, text, -1);
        pango_layout_get_pixel_size (layout, &tw, &th);
        if (tw > cell - 2)
          continue;
        gtk_snapshot_save (snapshot);
        gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (round (x + (cell - tw) / 2),
                                                                round (y + (cell - th) / 2)));
        gtk_snapshot_append_layout (snapshot, layout, &ink);
        gtk_snapshot_restore (snapshot);
      }
}

static void
npv_heatmap_snapshot (GtkWidget   *widget,
                      GtkSnapshot *snapshot)
{
  NpvHeatmap *self = NPV_HEATMAP (widget);
  graphene_rect_t r;
  int s = scale_factor (self);
  gint64 tx0, ty0, tx1, ty1;
  GdkRGBA fg, placeholder, accent;

  get_fg_color (self, &fg);
  get_accent_color (self, &accent);
  placeholder = fg;
  placeholder.alpha *= 0.08f;
  npv_heatmap_get_canvas (self, &r);

  if (self->pyramid == NULL || plane_rows (self) == 0 || plane_cols (self) == 0)
    {
      const char *text = self->message != NULL ? self->message
                         : self->plane != NULL ? _("The plane is empty")
                                               : "";
      GdkRGBA dim = fg;

      dim.alpha *= 0.7f;
      append_text (self, snapshot, text, gtk_widget_get_width (widget) / 2.0,
                   gtk_widget_get_height (widget) / 2.0, 0.5, 0.5, &dim);
      return;
    }

  gtk_snapshot_push_clip (snapshot, &r);
  visible_textures (self, &tx0, &ty0, &tx1, &ty1);
  append_rect (snapshot, &placeholder, r.origin.x - self->ox / s, r.origin.y - self->oy / s,
               (double) content_width (self) / s, (double) content_height (self) / s);
  for (gint64 ty = ty0; ty <= ty1; ty++)
    for (gint64 tx = tx0; tx <= tx1; tx++)
      {
        TexKey key = { self->scale, tx, ty };
        TexEntry *entry = g_hash_table_lookup (self->textures, &key);
        double x, y;

        if (entry == NULL || entry->texture == NULL)
          continue;
        x = r.origin.x + ((double) tx * TILE - self->ox) / s;
        y = r.origin.y + ((double) ty * TILE - self->oy) / s;
        gtk_snapshot_append_texture (snapshot, entry->texture,
                                     &GRAPHENE_RECT_INIT (x, y, (double) entry->pixels->width / s,
                                                          (double) entry->pixels->height / s));
      }

  if (self->scale.ppi >= TEXT_PPI && self->n_channels == 1)
    draw_values (self, snapshot);

  if (self->has_selection)
    {
      double x0, y0, x1, y1;
      GdkRGBA fill = accent;

      npv_heatmap_get_item_position (self, self->sel_r0, self->sel_c0, &x0, &y0);
      npv_heatmap_get_item_position (self, self->sel_r1 + 1, self->sel_c1 + 1, &x1, &y1);
      /* a partly covered pixel is drawn whole */
      x1 = MAX (x1, x0 + 1.0 / s);
      y1 = MAX (y1, y0 + 1.0 / s);
      fill.alpha = 0.18f;
      append_rect (snapshot, &fill, x0, y0, x1 - x0, y1 - y0);
      append_outline (snapshot, &accent, x0 - 1, y0 - 1, x1 - x0 + 2, y1 - y0 + 2, 2);
    }
  if (self->has_hover && self->scale.ppi >= 4)
    {
      gint64 hr0, hc0, hr1, hc1;
      double x, y;

      if (npv_heatmap_get_items_at (self, self->hover_x, self->hover_y, &hr0, &hc0, &hr1, &hc1))
        {
          GdkRGBA ring = fg;
          double cell = (double) self->scale.ppi / s;

          npv_heatmap_get_item_position (self, hr0, hc0, &x, &y);
          ring.alpha = 0.8f;
          append_outline (snapshot, &ring, x, y, cell, cell, 1);
        }
    }
  gtk_snapshot_pop (snapshot);

  draw_axes (self, snapshot, &r);
  if (self->n_channels == 1)
    draw_colorbar (self, snapshot);
}

/* ------------------------------------------------------------------ */
/* Size */

static void
npv_heatmap_measure (GtkWidget      *widget,
                     GtkOrientation  orientation,
                     int             for_size,
                     int            *minimum,
                     int            *natural,
                     int            *minimum_baseline,
                     int            *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = AXIS_LEFT + BAR_AREA + 64;
      *natural = AXIS_LEFT + BAR_AREA + 512;
    }
  else
    {
      *minimum = AXIS_TOP + 220;
      *natural = AXIS_TOP + 512;
    }
}

static void
npv_heatmap_size_allocate (GtkWidget *widget,
                           int        width,
                           int        height,
                           int        baseline)
{
  NpvHeatmap *self = NPV_HEATMAP (widget);

  if (self->fitted)
    self->scale = fit_scale (self);
  clamp_offsets (self);
  schedule_update (self);
}

/* ------------------------------------------------------------------ */
/* Input */

static void
pan_by (NpvHeatmap *self,
        double      dx,
        double      dy)
{
  self->ox += dx;
  self->oy += dy;
  self->fitted = FALSE;
  clamp_offsets (self);
  schedule_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
set_hover (NpvHeatmap *self,
           gboolean    has,
           double      x,
           double      y)
{
  self->has_hover = has;
  self->hover_x = x;
  self->hover_y = y;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[HOVER_CHANGED], 0);
}

static void
motion (GtkEventControllerMotion *controller,
        double                    x,
        double                    y,
        NpvHeatmap               *self)
{
  set_hover (self, TRUE, x, y);
}

static void
leave (GtkEventControllerMotion *controller,
       NpvHeatmap               *self)
{
  set_hover (self, FALSE, 0, 0);
}

static gboolean
scroll (GtkEventControllerScroll *controller,
        double                    dx,
        double                    dy,
        NpvHeatmap               *self)
{
  GdkScrollUnit unit = gtk_event_controller_scroll_get_unit (controller);
  int steps;

  if (self->pyramid == NULL)
    return FALSE;
  /* touchpads send fractions: a zoom step per whole notch */
  self->scroll_acc += unit == GDK_SCROLL_UNIT_WHEEL ? dy : dy / 20;
  steps = (int) trunc (self->scroll_acc);
  if (steps == 0)
    return TRUE;
  self->scroll_acc -= steps;
  zoom_steps (self, -steps, self->has_hover ? self->hover_x : -1, self->hover_y);
  return TRUE;
}

static void
select_range (NpvHeatmap *self,
              gint64      r0,
              gint64      c0,
              gint64      r1,
              gint64      c1)
{
  npv_heatmap_set_selection (self, r0, c0, r1, c1);
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
}

static void
drag_begin (GtkGestureDrag *gesture,
            double          x,
            double          y,
            NpvHeatmap     *self)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  gint64 r0, c0, r1, c1;

  gtk_widget_grab_focus (GTK_WIDGET (self));
  self->drag_ox = self->ox;
  self->drag_oy = self->oy;
  self->drag_x = x;
  self->drag_y = y;
  self->dragging_select = (mods & (GDK_SHIFT_MASK | GDK_CONTROL_MASK)) != 0;
  if (self->dragging_select && npv_heatmap_get_items_at (self, x, y, &r0, &c0, &r1, &c1))
    {
      if ((mods & GDK_SHIFT_MASK) && self->has_selection)
        {
          /* shift: grow from the existing selection's first corner */
          self->anchor_row = self->sel_r0;
          self->anchor_col = self->sel_c0;
          select_range (self, self->anchor_row, self->anchor_col, r1, c1);
        }
      else
        {
          self->anchor_row = r0;
          self->anchor_col = c0;
          select_range (self, r0, c0, r1, c1);
        }
    }
  else
    self->dragging_select = FALSE;
}

static void
drag_update (GtkGestureDrag *gesture,
             double          dx,
             double          dy,
             NpvHeatmap     *self)
{
  int s = scale_factor (self);

  if (self->dragging_select)
    {
      gint64 r0, c0, r1, c1;
      graphene_rect_t r;
      double x, y;

      npv_heatmap_get_canvas (self, &r);
      x = CLAMP (self->drag_x + dx, r.origin.x, r.origin.x + r.size.width - 1);
      y = CLAMP (self->drag_y + dy, r.origin.y, r.origin.y + r.size.height - 1);
      if (npv_heatmap_get_items_at (self, x, y, &r0, &c0, &r1, &c1))
        select_range (self, self->anchor_row, self->anchor_col,
                      r0 >= self->anchor_row ? r1 : r0, c0 >= self->anchor_col ? c1 : c0);
      return;
    }
  self->ox = self->drag_ox - dx * s;
  self->oy = self->drag_oy - dy * s;
  pan_by (self, 0, 0);
}

static void
drag_end (GtkGestureDrag *gesture,
          double          dx,
          double          dy,
          NpvHeatmap     *self)
{
  gint64 r0, c0, r1, c1;

  /* a press without a move is a click: select what is under it */
  if (!self->dragging_select && fabs (dx) < 3 && fabs (dy) < 3 &&
      npv_heatmap_get_items_at (self, self->drag_x, self->drag_y, &r0, &c0, &r1, &c1))
    select_range (self, r0, c0, r1, c1);
  self->dragging_select = FALSE;
}

static void
zoom_gesture_begin (GtkGesture       *gesture,
                    GdkEventSequence *sequence,
                    NpvHeatmap       *self)
{
  self->zoom_gesture_step = 0;
}

static void
zoom_scale_changed (GtkGestureZoom *gesture,
                    double          scale,
                    NpvHeatmap     *self)
{
  double steps = log2 (MAX (scale, 1e-6));
  double x, y;

  /* one zoom level per doubling of the fingers' distance */
  if (fabs (steps - self->zoom_gesture_step) < 1)
    return;
  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &x, &y))
    x = y = -1;
  zoom_steps (self, steps > self->zoom_gesture_step ? 1 : -1, x, y);
  self->zoom_gesture_step += steps > self->zoom_gesture_step ? 1 : -1;
}

static gboolean
zoom_binding (GtkWidget *widget,
              GVariant  *args,
              gpointer   user_data)
{
  NpvHeatmap *self = NPV_HEATMAP (widget);
  const char *what = g_variant_get_string (args, NULL);

  if (strcmp (what, "in") == 0)
    zoom_steps (self, 1, -1, -1);
  else if (strcmp (what, "out") == 0)
    zoom_steps (self, -1, -1, -1);
  else if (strcmp (what, "fit") == 0)
    npv_heatmap_zoom_fit (self);
  else
    npv_heatmap_set_zoom (self, 0, -1, -1);
  return TRUE;
}

static gboolean
pan_binding (GtkWidget *widget,
             GVariant  *args,
             gpointer   user_data)
{
  NpvHeatmap *self = NPV_HEATMAP (widget);
  int dx, dy;

  g_variant_get (args, "(ii)", &dx, &dy);
  pan_by (self, dx * 64.0 * scale_factor (self), dy * 64.0 * scale_factor (self));
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* GObject */

static void
npv_heatmap_dispose (GObject *object)
{
  NpvHeatmap *self = NPV_HEATMAP (object);

  g_clear_handle_id (&self->update_source, g_source_remove);
  g_cancellable_cancel (self->sample_cancellable);
  g_clear_object (&self->sample_cancellable);
  if (self->textures != NULL)
    g_hash_table_remove_all (self->textures);

  G_OBJECT_CLASS (npv_heatmap_parent_class)->dispose (object);
}

static void
npv_heatmap_finalize (GObject *object)
{
  NpvHeatmap *self = NPV_HEATMAP (object);

  g_clear_pointer (&self->textures, g_hash_table_unref);
  g_clear_pointer (&self->pyramid, npv_pyramid_unref);
  clear_channels (self);
  g_clear_pointer (&self->plane, npv_array_unref);
  g_free (self->message);

  G_OBJECT_CLASS (npv_heatmap_parent_class)->finalize (object);
}

static void
add_zoom_binding (GtkWidgetClass *widget_class,
                  guint           key,
                  const char     *what)
{
  gtk_widget_class_add_binding (widget_class, key, 0, zoom_binding, "s", what);
}

static void
npv_heatmap_class_init (NpvHeatmapClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = npv_heatmap_dispose;
  object_class->finalize = npv_heatmap_finalize;
  widget_class->snapshot = npv_heatmap_snapshot;
  widget_class->measure = npv_heatmap_measure;
  widget_class->size_allocate = npv_heatmap_size_allocate;

  signals[HOVER_CHANGED] = g_signal_new ("hover-changed", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SELECTION_CHANGED] = g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass),
                                             G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                             G_TYPE_NONE, 0);
  signals[VIEW_CHANGED] = g_signal_new ("view-changed", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* Values could not be read (the GError says why: a file cut short...). */
  signals[READ_FAILED] = g_signal_new ("read-failed", G_TYPE_FROM_CLASS (klass),
                                       G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                       G_TYPE_ERROR);

  add_zoom_binding (widget_class, GDK_KEY_plus, "in");
  add_zoom_binding (widget_class, GDK_KEY_equal, "in");
  add_zoom_binding (widget_class, GDK_KEY_KP_Add, "in");
  add_zoom_binding (widget_class, GDK_KEY_minus, "out");
  add_zoom_binding (widget_class, GDK_KEY_KP_Subtract, "out");
  add_zoom_binding (widget_class, GDK_KEY_0, "fit");
  add_zoom_binding (widget_class, GDK_KEY_KP_0, "fit");
  add_zoom_binding (widget_class, GDK_KEY_1, "one");
  add_zoom_binding (widget_class, GDK_KEY_KP_1, "one");
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Left, 0, pan_binding, "(ii)", -1, 0);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Right, 0, pan_binding, "(ii)", 1, 0);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Up, 0, pan_binding, "(ii)", 0, -1);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Down, 0, pan_binding, "(ii)", 0, 1);

  gtk_widget_class_set_css_name (widget_class, "npv-heatmap");
}

static void
npv_heatmap_init (NpvHeatmap *self)
{
  GtkGesture *drag, *zoom;
  GtkEventController *motion_controller, *scroll_controller;

  self->textures = g_hash_table_new_full (tex_key_hash, tex_key_equal, NULL,
                                          (GDestroyNotify) tex_entry_free);
  self->cs.map = NPV_COLORMAP_VIRIDIS;
  self->cs.scale = NPV_SCALE_LINEAR;
  self->cs.lo = 0;
  self->cs.hi = 1;
  self->part = NPV_PART_ABS;
  self->fitted = TRUE;
  self->n_channels = 1;
  self->full_scale = 1;
  self->scale = (Scale) { 1, 1.0 };

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_PRIMARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  zoom = gtk_gesture_zoom_new ();
  g_signal_connect (zoom, "begin", G_CALLBACK (zoom_gesture_begin), self);
  g_signal_connect (zoom, "scale-changed", G_CALLBACK (zoom_scale_changed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (zoom));

  motion_controller = gtk_event_controller_motion_new ();
  g_signal_connect (motion_controller, "motion", G_CALLBACK (motion), self);
  g_signal_connect (motion_controller, "leave", G_CALLBACK (leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion_controller);

  scroll_controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (scroll_controller, "scroll", G_CALLBACK (scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll_controller);
}
