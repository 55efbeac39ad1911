/* npv-heatmap.c: a zoomable picture of a 2-D plane, from the pyramid
 *
 * The picture is cut into textures of TILE x TILE device pixels. Zoomed
 * out (z < 0), a texture is one tile of pyramid level -z, a pixel per
 * block; zoomed in (z >= 0), it is part of a level-0 tile with each item
 * a 2^z square. Nothing is ever scaled by the renderer: every texture is
 * drawn at its own size at whole device pixels, so items stay crisp.
 *
 * Textures are made on the worker pool: the job takes the pyramid tile
 * (cached, or a quick sample first and then the exact one), maps its
 * values through the colour scale and hands back pixels. The tile's
 * reductions stay with the texture, so a new colour map or range only
 * recolours. A new plane or part bumps the generation and late work is
 * dropped; textures that scroll away are cancelled or evicted (LRU).
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
#define CACHE_BUDGET ((gsize) 192 << 20)
#define TEXT_ZOOM 5           /* items of 32 pixels and more show their values */

typedef struct
{
  int zoom;
  gint64 tx, ty;               /* in textures */
} TexKey;

typedef struct
{
  TexKey key;
  GdkTexture *texture;         /* NULL until the first pixels arrive */
  NpvBlocks *blocks;           /* the reductions the texture shows */
  NpvBlocks *more[3];          /* RGB(A): the other channels' */
  guint sub_row, sub_col;      /* zoomed in: where the texture starts in blocks */
  int width, height;           /* device pixels */
  gboolean exact;
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

  int zoom;
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

static guint
zoom_level (int zoom)
{
  return zoom < 0 ? (guint) -zoom : 0;
}

static gint64
content_size (gint64 items,
              int    zoom)
{
  if (zoom >= 0)
    return items << zoom;
  return (items + ((gint64) 1 << -zoom) - 1) >> -zoom;
}

static gint64
content_width (NpvHeatmap *self)
{
  return content_size (plane_cols (self), self->zoom);
}

static gint64
content_height (NpvHeatmap *self)
{
  return content_size (plane_rows (self), self->zoom);
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

static int
min_zoom (NpvHeatmap *self)
{
  return self->pyramid != NULL ? -(int) npv_pyramid_get_top_level (self->pyramid) : 0;
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

int
npv_heatmap_get_fit_zoom (NpvHeatmap *self)
{
  double cw = canvas_device_width (self), ch = canvas_device_height (self);
  int z;

  if (self->pyramid == NULL)
    return 0;
  for (z = NPV_HEATMAP_MAX_ZOOM; z > min_zoom (self); z--)
    if (content_size (plane_cols (self), z) <= cw && content_size (plane_rows (self), z) <= ch)
      break;
  return z;
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
  gint64 px = (gint64) floor (dx), py = (gint64) floor (dy);

  if (self->zoom >= 0)
    {
      *col0 = *col1 = px >> self->zoom;
      *row0 = *row1 = py >> self->zoom;
    }
  else
    {
      guint level = zoom_level (self->zoom);

      *col0 = px << level;
      *row0 = py << level;
      *col1 = MIN (((px + 1) << level), plane_cols (self)) - 1;
      *row1 = MIN (((py + 1) << level), plane_rows (self)) - 1;
    }
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
  double cx, cy;

  npv_heatmap_get_canvas (self, &r);
  if (self->zoom >= 0)
    {
      cx = (double) (col << self->zoom);
      cy = (double) (row << self->zoom);
    }
  else
    {
      cx = (double) (col >> -self->zoom);
      cy = (double) (row >> -self->zoom);
    }
  *x = r.origin.x + (cx - self->ox) / s;
  *y = r.origin.y + (cy - self->oy) / s;
}

/* ------------------------------------------------------------------ */
/* Textures */

static guint
tex_key_hash (gconstpointer p)
{
  const TexKey *k = p;

  return (guint) k->zoom * 31u ^ (guint) (k->tx * 2654435761u) ^ (guint) (k->ty * 40503u) ^
         (guint) (k->tx >> 32) ^ (guint) (k->ty >> 32);
}

static gboolean
tex_key_equal (gconstpointer a,
               gconstpointer b)
{
  const TexKey *x = a, *y = b;

  return x->zoom == y->zoom && x->tx == y->tx && x->ty == y->ty;
}

static gsize
entry_bytes (TexEntry *entry)
{
  gsize bytes = (gsize) entry->width * entry->height * 4 + 256;

  if (entry->blocks != NULL)
    bytes += (gsize) entry->blocks->n_rows * entry->blocks->n_cols * 5 * sizeof (double) /
             MAX (1, (gsize) 1 << (2 * MAX (entry->key.zoom, 0)));
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
  g_clear_pointer (&entry->blocks, npv_blocks_unref);
  for (guint k = 0; k < 3; k++)
    g_clear_pointer (&entry->more[k], npv_blocks_unref);
  g_free (entry);
}

/* The pyramid tile a texture comes from, and where in it. */
static void
texture_source (const TexKey *key,
                guint        *level,
                gint64       *tile_row,
                gint64       *tile_col,
                guint        *sub_row,
                guint        *sub_col)
{
  if (key->zoom < 0)
    {
      *level = -key->zoom;
      *tile_row = key->ty;
      *tile_col = key->tx;
      *sub_row = *sub_col = 0;
    }
  else
    {
      gint64 per = TILE >> key->zoom;   /* items along a texture */

      *level = 0;
      *tile_row = key->ty * per / TILE;
      *tile_col = key->tx * per / TILE;
      *sub_row = (guint) (key->ty * per % TILE);
      *sub_col = (guint) (key->tx * per % TILE);
    }
}

static double
block_value (const NpvBlocks *b,
             gsize            i,
             NpvReduction     reduction)
{
  switch (reduction)
    {
    case NPV_REDUCTION_MIN:
      return b->min[i] <= b->max[i] ? b->min[i] : NAN;
    case NPV_REDUCTION_MAX:
      return b->min[i] <= b->max[i] ? b->max[i] : NAN;
    case NPV_REDUCTION_MEAN:
    default:
      return npv_blocks_get_mean (b, (guint) (i / b->n_cols), (guint) (i % b->n_cols));
    }
}

typedef struct
{
  GWeakRef heatmap;
  NpvPyramid *pyramid;
  TexKey key;
  NpvColorScale cs;
  NpvReduction reduction;
  guint generation;
  guint color_gen;
  NpvBlocks *blocks;           /* recolouring: the reductions to use */
  NpvPyramid *more[3];         /* RGB(A) */
  NpvBlocks *more_blocks[3];
  guint n_channels;
  double full_scale;
  gint64 content_w, content_h;
  GCancellable *cancellable;   /* the entry's */
} TexJob;

typedef struct
{
  NpvBlocks *blocks;
  NpvBlocks *more[3];
  GBytes *pixels;
  int width, height;
  gboolean exact;
} TexResult;

static void
tex_job_free (TexJob *job)
{
  g_weak_ref_clear (&job->heatmap);
  g_clear_pointer (&job->pyramid, npv_pyramid_unref);
  g_clear_pointer (&job->blocks, npv_blocks_unref);
  for (guint k = 0; k < 3; k++)
    {
      g_clear_pointer (&job->more[k], npv_pyramid_unref);
      g_clear_pointer (&job->more_blocks[k], npv_blocks_unref);
    }
  g_clear_object (&job->cancellable);
  g_free (job);
}

static void
tex_result_free (TexResult *result)
{
  g_clear_pointer (&result->blocks, npv_blocks_unref);
  for (guint k = 0; k < 3; k++)
    g_clear_pointer (&result->more[k], npv_blocks_unref);
  g_clear_pointer (&result->pixels, g_bytes_unref);
  g_free (result);
}

/* One channel of a block as a byte: its mean over full_scale, clipped. */
static guint32
channel_byte (NpvBlocks   *b,
              gsize        i,
              double       full_scale)
{
  double v = npv_blocks_get_mean (b, (guint) (i / b->n_cols), (guint) (i % b->n_cols));

  if (isnan (v))
    return 0;
  v = v / full_scale;
  return v <= 0 ? 0 : v >= 1 ? 255 : (guint32) (v * 255 + 0.5);
}

/* Colours the texture @job stands for from @blocks (and @more, the other
 * channels of an RGB(A) picture). */
static TexResult *
colorize (TexJob     *job,
          NpvBlocks  *blocks,
          NpvBlocks **more)
{
  TexResult *result = g_new0 (TexResult, 1);
  guint level, sub_row, sub_col;
  gint64 tile_row, tile_col;
  int z = MAX (job->key.zoom, 0);
  int w = (int) MIN (TILE, job->content_w - job->key.tx * TILE);
  int h = (int) MIN (TILE, job->content_h - job->key.ty * TILE);
  guint n_rows = (guint) ((h + (1 << z) - 1) >> z);
  guint n_cols = (guint) ((w + (1 << z) - 1) >> z);
  g_autofree double *values = g_new (double, n_cols);
  g_autofree guint32 *colors = g_new (guint32, n_cols);
  guint32 *pixels = g_new (guint32, (gsize) w * h);

  texture_source (&job->key, &level, &tile_row, &tile_col, &sub_row, &sub_col);
  for (guint r = 0; r < n_rows; r++)
    {
      gsize base = (gsize) (sub_row + r) * blocks->n_cols + sub_col;

      if (job->n_channels >= 3)
        for (guint c = 0; c < n_cols; c++)
          {
            guint32 red = channel_byte (blocks, base + c, job->full_scale);
            guint32 green = channel_byte (more[0], base + c, job->full_scale);
            guint32 blue = channel_byte (more[1], base + c, job->full_scale);
            guint32 a = job->n_channels == 4 ? channel_byte (more[2], base + c, job->full_scale) : 255;

            /* premultiplied, as GDK_MEMORY_DEFAULT is */
            colors[c] = a << 24 | (red * a / 255) << 16 | (green * a / 255) << 8 | (blue * a / 255);
          }
      else
        {
          for (guint c = 0; c < n_cols; c++)
            values[c] = block_value (blocks, base + c, job->reduction);
          npv_color_scale_map_n (&job->cs, values, n_cols, colors);
        }
      for (int y = (int) r << z; y < MIN (h, (int) (r + 1) << z); y++)
        {
          guint32 *line = pixels + (gsize) y * w;

          if (z == 0)
            memcpy (line, colors, (gsize) w * 4);
          else
            for (int x = 0; x < w; x++)
              line[x] = colors[x >> z];
        }
    }

  result->blocks = npv_blocks_ref (blocks);
  for (guint k = 0; k + 1 < job->n_channels; k++)
    result->more[k] = npv_blocks_ref (more[k]);
  result->pixels = g_bytes_new_take (pixels, (gsize) w * h * 4);
  result->width = w;
  result->height = h;
  result->exact = blocks->exact;
  return result;
}

typedef struct
{
  TexJob *job;                 /* borrowed from the task, which outlives this */
  GTask *task;
  TexResult *result;
} Partial;

static void apply_result (NpvHeatmap *self, TexJob *job, TexResult *result);

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
  g_autoptr(NpvBlocks) blocks = NULL;
  GError *error = NULL;
  guint level, sub_row, sub_col;
  gint64 tile_row, tile_col;

  if (job->blocks != NULL && job->blocks->exact)
    {
      g_task_return_pointer (task, colorize (job, job->blocks, job->more_blocks),
                             (GDestroyNotify) tex_result_free);
      return;
    }

  texture_source (&job->key, &level, &tile_row, &tile_col, &sub_row, &sub_col);
  if (job->n_channels > 1)
    {
      /* RGB(A): every channel's exact tile */
      NpvBlocks *more[3] = { NULL, NULL, NULL };
      TexResult *result = NULL;

      blocks = npv_pyramid_get_tile (job->pyramid, level, tile_row, tile_col, 0, cancellable, &error);
      for (guint k = 0; blocks != NULL && k + 1 < job->n_channels && error == NULL; k++)
        more[k] = npv_pyramid_get_tile (job->more[k], level, tile_row, tile_col, 0, cancellable, &error);
      if (error == NULL)
        result = colorize (job, blocks, more);
      for (guint k = 0; k < 3; k++)
        g_clear_pointer (&more[k], npv_blocks_unref);
      if (result == NULL)
        g_task_return_error (task, error);
      else
        g_task_return_pointer (task, result, (GDestroyNotify) tex_result_free);
      return;
    }
  blocks = npv_pyramid_peek_tile (job->pyramid, level, tile_row, tile_col);
  if (blocks == NULL && level >= 2 && job->blocks == NULL)
    {
      /* A sampled picture first: a line per block is 2^level times less
       * to read. */
      g_autoptr(NpvBlocks) sample = npv_pyramid_sample_tile (job->pyramid, level, tile_row, tile_col,
                                                            cancellable, NULL);

      if (sample != NULL && !g_cancellable_is_cancelled (cancellable))
        {
          Partial *partial = g_new0 (Partial, 1);

          partial->job = job;
          partial->task = g_object_ref (task);
          partial->result = colorize (job, sample, NULL);
          g_main_context_invoke_full (g_task_get_context (task), G_PRIORITY_DEFAULT,
                                      partial_arrived, partial, partial_free);
        }
    }
  if (blocks == NULL)
    blocks = npv_pyramid_get_tile (job->pyramid, level, tile_row, tile_col, 0, cancellable, &error);
  if (blocks == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, colorize (job, blocks, NULL), (GDestroyNotify) tex_result_free);
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
  if (!result->exact && entry->exact && entry->texture != NULL)
    return;

  self->cache_bytes -= MIN (self->cache_bytes, entry_bytes (entry));
  g_clear_object (&entry->texture);
  entry->texture = gdk_memory_texture_new (result->width, result->height, GDK_MEMORY_DEFAULT,
                                           result->pixels, (gsize) result->width * 4);
  g_clear_pointer (&entry->blocks, npv_blocks_unref);
  entry->blocks = npv_blocks_ref (result->blocks);
  for (guint k = 0; k < 3; k++)
    {
      g_clear_pointer (&entry->more[k], npv_blocks_unref);
      if (result->more[k] != NULL)
        entry->more[k] = npv_blocks_ref (result->more[k]);
    }
  entry->width = result->width;
  entry->height = result->height;
  entry->exact = result->exact;
  entry->color_gen = job->color_gen;
  texture_source (&job->key, &(guint) { 0 }, &(gint64) { 0 }, &(gint64) { 0 }, &entry->sub_row,
                  &entry->sub_col);
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
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  g_clear_object (&entry->cancellable);
  g_clear_pointer (&result, tex_result_free);
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
  job->key = entry->key;
  job->cs = self->cs;
  job->reduction = self->reduction;
  job->generation = self->generation;
  job->color_gen = self->color_gen;
  job->blocks = entry->blocks != NULL ? npv_blocks_ref (entry->blocks) : NULL;
  job->n_channels = self->n_channels;
  job->full_scale = self->full_scale;
  for (guint k = 0; k + 1 < self->n_channels; k++)
    {
      job->more[k] = npv_pyramid_ref (self->more[k]);
      if (entry->more[k] == NULL)
        g_clear_pointer (&job->blocks, npv_blocks_unref);
    }
  for (guint k = 0; job->blocks != NULL && k + 1 < self->n_channels; k++)
    job->more_blocks[k] = npv_blocks_ref (entry->more[k]);
  job->content_w = content_size (plane_cols (self), entry->key.zoom);
  job->content_h = content_size (plane_rows (self), entry->key.zoom);
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
        TexKey key = { self->zoom, tx, ty };

        entry = g_hash_table_lookup (self->textures, &key);
        if (entry == NULL)
          {
            entry = g_new0 (TexEntry, 1);
            entry->key = key;
            g_hash_table_insert (self->textures, &entry->key, entry);
            request_texture (self, entry);
          }
        else if (entry->cancellable == NULL &&
                 (entry->color_gen != self->color_gen || !entry->exact))
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
      self->zoom = npv_heatmap_get_fit_zoom (self);
    }
  self->zoom = CLAMP (self->zoom, min_zoom (self), NPV_HEATMAP_MAX_ZOOM);
  clamp_offsets (self);
  schedule_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[VIEW_CHANGED], 0);
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

int
npv_heatmap_get_zoom (NpvHeatmap *self)
{
  return self->zoom;
}

void
npv_heatmap_set_zoom (NpvHeatmap *self,
                      int         zoom,
                      double      x,
                      double      y)
{
  graphene_rect_t r;
  int s = scale_factor (self);
  double dx, dy, ex, ey;

  g_return_if_fail (NPV_IS_HEATMAP (self));

  zoom = CLAMP (zoom, min_zoom (self), NPV_HEATMAP_MAX_ZOOM);
  if (zoom == self->zoom)
    return;

  npv_heatmap_get_canvas (self, &r);
  if (x < 0)
    {
      x = r.origin.x + r.size.width / 2;
      y = r.origin.y + r.size.height / 2;
    }
  /* The item position under the point, in items (fractional), stays. */
  dx = (x - r.origin.x) * s;
  dy = (y - r.origin.y) * s;
  ex = ldexp (self->ox + dx, -self->zoom);
  ey = ldexp (self->oy + dy, -self->zoom);
  self->zoom = zoom;
  self->ox = ldexp (ex, zoom) - dx;
  self->oy = ldexp (ey, zoom) - dy;
  self->fitted = FALSE;
  clamp_offsets (self);
  schedule_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[VIEW_CHANGED], 0);
}

void
npv_heatmap_zoom_fit (NpvHeatmap *self)
{
  g_return_if_fail (NPV_IS_HEATMAP (self));

  self->zoom = npv_heatmap_get_fit_zoom (self);
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
  double cx = ldexp ((double) col + 0.5, self->zoom);
  double cy = ldexp ((double) row + 0.5, self->zoom);

  self->ox = cx - canvas_device_width (self) / 2;
  self->oy = cy - canvas_device_height (self) / 2;
  self->fitted = FALSE;
  clamp_offsets (self);
  schedule_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
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

NpvBlocks *
npv_heatmap_peek_hover_block (NpvHeatmap *self,
                              guint      *index)
{
  graphene_rect_t r;
  int s = scale_factor (self);
  gint64 px, py;
  TexKey key;
  TexEntry *entry;
  guint br, bc;

  if (!self->has_hover || self->pyramid == NULL)
    return NULL;
  npv_heatmap_get_canvas (self, &r);
  px = (gint64) floor ((self->hover_x - r.origin.x) * s + self->ox);
  py = (gint64) floor ((self->hover_y - r.origin.y) * s + self->oy);
  if (px < 0 || py < 0 || px >= content_width (self) || py >= content_height (self))
    return NULL;
  key = (TexKey) { self->zoom, px / TILE, py / TILE };
  entry = g_hash_table_lookup (self->textures, &key);
  if (entry == NULL || entry->blocks == NULL)
    return NULL;
  br = entry->sub_row + (guint) ((py % TILE) >> MAX (self->zoom, 0));
  bc = entry->sub_col + (guint) ((px % TILE) >> MAX (self->zoom, 0));
  if (br >= entry->blocks->n_rows || bc >= entry->blocks->n_cols)
    return NULL;
  *index = br * entry->blocks->n_cols + bc;
  return entry->blocks;
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
        TexKey key = { self->zoom, tx, ty };
        TexEntry *entry = g_hash_table_lookup (self->textures, &key);

        if (entry == NULL || entry->texture == NULL || !entry->exact ||
            entry->color_gen != self->color_gen)
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
        TexKey key = { self->zoom, tx, ty };
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

static void
draw_axes (NpvHeatmap      *self,
           GtkSnapshot     *snapshot,
           graphene_rect_t *r)
{
  GdkRGBA fg;
  int s = scale_factor (self);
  double items_per_px = ldexp (1.0, -self->zoom) * s;   /* items per logical pixel */
  gint64 step_c = nice_step (90 * items_per_px);
  gint64 step_r = nice_step (40 * items_per_px);
  gint64 r0, c0, r1, c1, first;

  get_fg_color (self, &fg);
  fg.alpha *= 0.75f;

  /* the items at the canvas' corners */
  r0 = MAX (0, (gint64) floor (ldexp (self->oy, -self->zoom)));
  c0 = MAX (0, (gint64) floor (ldexp (self->ox, -self->zoom)));
  r1 = MIN (plane_rows (self) - 1,
            (gint64) floor (ldexp (self->oy + canvas_device_height (self), -self->zoom)));
  c1 = MIN (plane_cols (self) - 1,
            (gint64) floor (ldexp (self->ox + canvas_device_width (self), -self->zoom)));

  first = (c0 + step_c - 1) / step_c * step_c;
  for (gint64 c = first; c <= c1; c += step_c)
    {
      double x, y;
      char text[32];

      npv_heatmap_get_item_position (self, 0, c, &x, &y);
      if (self->zoom > 0)
        x += ldexp (0.5, self->zoom) / s;
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
      if (self->zoom > 0)
        y += ldexp (0.5, self->zoom) / s;
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
  g_snprintf (buf, size, "%.4g", v);
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

  /* ticks at the ends and quarters of the scale */
  for (guint i = 0; i <= 4; i++)
    {
      double t = i / 4.0;
      double v = npv_color_scale_value_at (&self->cs, t);
      double ty = y0 + bar_h * (1.0 - t);
      char text[40];

      format_tick (text, sizeof text, v);
      append_rect (snapshot, &fg, x + BAR_WIDTH, round (ty), 4, 1);
      append_text (self, snapshot, text, x + BAR_WIDTH + 6, ty, 0, 0.5, &fg);
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
draw_values (NpvHeatmap      *self,
             GtkSnapshot     *snapshot,
             graphene_rect_t *r)
{
  int s = scale_factor (self);
  double cell = ldexp (1.0, self->zoom) / s;
  gint64 r0, c0, r1, c1;
  PangoFontDescription *font;
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);

  font = pango_font_description_new ();
  pango_font_description_set_absolute_size (font, MIN (cell / 4.5, 12) * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);

  r0 = MAX (0, (gint64) floor (ldexp (self->oy, -self->zoom)));
  c0 = MAX (0, (gint64) floor (ldexp (self->ox, -self->zoom)));
  r1 = MIN (plane_rows (self) - 1,
            (gint64) floor (ldexp (self->oy + canvas_device_height (self), -self->zoom)));
  c1 = MIN (plane_cols (self) - 1,
            (gint64) floor (ldexp (self->ox + canvas_device_width (self), -self->zoom)));

  for (gint64 row = r0; row <= r1; row++)
    for (gint64 col = c0; col <= c1; col++)
      {
        gint64 px = col << self->zoom, py = row << self->zoom;
        TexKey key = { self->zoom, px / TILE, py / TILE };
        TexEntry *entry = g_hash_table_lookup (self->textures, &key);
        guint br, bc;
        gsize i;
        double v, x, y;
        guint32 argb;
        GdkRGBA ink;
        char text[32];
        int tw, th;
        double luminance;

        if (entry == NULL || entry->blocks == NULL)
          continue;
        br = entry->sub_row + (guint) ((py % TILE) >> self->zoom);
        bc = entry->sub_col + (guint) ((px % TILE) >> self->zoom);
        if (br >= entry->blocks->n_rows || bc >= entry->blocks->n_cols)
          continue;
        i = (gsize) br * entry->blocks->n_cols + bc;
        v = block_value (entry->blocks, i, NPV_REDUCTION_MEAN);
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
        npv_heatmap_get_item_position (self, row, col, &x, &y);
        gtk_snapshot_save (snapshot);
        gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (round (x + (cell - tw) / 2),
                                                                round (y + (cell - th) / 2)));
        gtk_snapshot_append_layout (snapshot, layout, &ink);
        gtk_snapshot_restore (snapshot);
      }
  (void) r;
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
  {
    double x0 = r.origin.x + (0 - self->ox) / s, y0 = r.origin.y + (0 - self->oy) / s;
    double cw = (double) content_width (self) / s, ch = (double) content_height (self) / s;

    append_rect (snapshot, &placeholder, x0, y0, cw, ch);
  }
  for (gint64 ty = ty0; ty <= ty1; ty++)
    for (gint64 tx = tx0; tx <= tx1; tx++)
      {
        TexKey key = { self->zoom, tx, ty };
        TexEntry *entry = g_hash_table_lookup (self->textures, &key);
        double x, y;

        if (entry == NULL || entry->texture == NULL)
          continue;
        x = r.origin.x + ((double) tx * TILE - self->ox) / s;
        y = r.origin.y + ((double) ty * TILE - self->oy) / s;
        gtk_snapshot_append_texture (snapshot, entry->texture,
                                     &GRAPHENE_RECT_INIT (x, y, (double) entry->width / s,
                                                          (double) entry->height / s));
      }

  if (self->zoom >= TEXT_ZOOM && self->n_channels == 1)
    draw_values (self, snapshot, &r);

  if (self->has_selection)
    {
      double x0, y0, x1, y1;
      GdkRGBA fill = accent;
      gint64 er1 = self->sel_r1 + 1, ec1 = self->sel_c1 + 1;

      npv_heatmap_get_item_position (self, self->sel_r0, self->sel_c0, &x0, &y0);
      npv_heatmap_get_item_position (self, er1, ec1, &x1, &y1);
      if (self->zoom < 0)
        {
          /* a partly covered block is drawn whole */
          x1 = MAX (x1, x0 + 1.0 / s);
          y1 = MAX (y1, y0 + 1.0 / s);
        }
      fill.alpha = 0.18f;
      append_rect (snapshot, &fill, x0, y0, x1 - x0, y1 - y0);
      append_outline (snapshot, &accent, x0 - 1, y0 - 1, x1 - x0 + 2, y1 - y0 + 2, 2);
    }
  if (self->has_hover && self->zoom >= 2)
    {
      gint64 hr0, hc0, hr1, hc1;
      double x, y;

      if (npv_heatmap_get_items_at (self, self->hover_x, self->hover_y, &hr0, &hc0, &hr1, &hc1))
        {
          GdkRGBA ring = fg;

          npv_heatmap_get_item_position (self, hr0, hc0, &x, &y);
          ring.alpha = 0.8f;
          append_outline (snapshot, &ring, x, y, ldexp (1.0, self->zoom) / s,
                          ldexp (1.0, self->zoom) / s, 1);
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
    self->zoom = npv_heatmap_get_fit_zoom (self);
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
  npv_heatmap_set_zoom (self, self->zoom - steps, self->has_hover ? self->hover_x : -1,
                        self->hover_y);
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
  npv_heatmap_set_zoom (self, self->zoom + (steps > self->zoom_gesture_step ? 1 : -1), x, y);
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
    npv_heatmap_set_zoom (self, self->zoom + 1, -1, -1);
  else if (strcmp (what, "out") == 0)
    npv_heatmap_set_zoom (self, self->zoom - 1, -1, -1);
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
