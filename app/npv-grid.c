/* npv-grid.c: a spreadsheet view of a 2-D plane, virtualised both ways
 *
 * Cells come from the core as tiles of TILE_ROWS x TILE_COLS, made on the
 * worker pool (npv_tile_compute). Each frame draws only the visible cells:
 * one PangoLayout per column of a tile (its 64 lines), made once when the
 * tile arrives and kept with it, so scrolling re-lays out nothing. Tiles
 * that scroll far away are cancelled or evicted (LRU under a byte
 * budget); a new plane bumps the generation and late tiles are dropped.
 * Rows and columns are 64-bit; pixel positions are doubles (exact up to
 * 2^53), and only offsets relative to the viewport reach the renderer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-grid"

#include "config.h"

#include "npv-grid.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "npv-export.h"
#include "npv-value.h"

#define TILE_ROWS 64
#define TILE_COLS 16
#define BLOCK_ROWS 16          /* rows drawn as one cached render node */
#define TILE_BLOCKS (TILE_ROWS / BLOCK_ROWS)
#define NODE_BYTES ((gsize) 24 << 10)   /* what a block's node costs, about */
#define MAX_HEADER_NODES 4096
#define CACHE_BUDGET ((gsize) 64 << 20)
#define PAD 6                  /* pixels left and right of a cell's text */
#define MAX_COPY_CELLS ((gint64) 20000000)

typedef struct
{
  gint64 row, col;             /* in tiles */
} TileKey;

typedef struct
{
  gint64 col;
  int width;
  double shift_before;         /* sum of (width - natural width) of the columns before */
} ColumnWidth;

typedef struct
{
  TileKey key;
  NpvTile *tile;               /* NULL while it is made */
  char *error;                 /* why it could not be made */
  GCancellable *cancellable;   /* while it is made */
  /* Drawn text of each column's row blocks, made on first draw and
   * re-appended every frame: scrolling lays out and shapes nothing. */
  GskRenderNode *nodes[TILE_COLS][TILE_BLOCKS];
  guint n_nodes;
  guint64 used;                /* frame it was last drawn or wanted in */
} TileEntry;

struct _NpvGrid
{
  GtkWidget parent_instance;

  GtkAdjustment *hadjustment;
  GtkAdjustment *vadjustment;
  guint hscroll_policy : 1;
  guint vscroll_policy : 1;

  NpvArray *plane;
  GArray *leaves;              /* NpvLeaf of the plane's dtype; empty for plain dtypes */
  NpvNumberFormat format;
  guint generation;

  /* geometry, in pixels */
  int row_height;
  int line_spacing;            /* Pango units added between lines of a tile column */
  int digit_width;
  int header_height;
  int row_header_width;
  int *leaf_widths;            /* one per leaf (or one for plain dtypes) */
  int *leaf_x;                 /* their offsets inside a group */
  int group_width;
  /* Columns the user resized, by column; each with the width the columns
   * before it gained or lost, so that positions stay a binary search. */
  GArray *widths;              /* ColumnWidth */

  gint64 cursor_row, cursor_col;
  gint64 anchor_row, anchor_col;
  gboolean has_hover;
  gint64 hover_row, hover_col;

  /* resizing a column edge */
  gint64 resize_col;           /* -1 when not resizing */
  int resize_start_width;

  GHashTable *tiles;           /* TileKey -> TileEntry */
  gsize cache_bytes;
  guint64 frame;
  guint update_source;
  guint n_pending;
  double last_vvalue, last_hvalue;

  PangoAttrList *tabular;
  GHashTable *row_header_nodes;    /* row block -> node of its indices */
  GHashTable *column_header_nodes; /* grid column -> node of its title */
  GCancellable *copy_cancellable;  /* copies running, cancelled when the grid leaves its window */
  gboolean scroll_pending;     /* the cursor was set before the grid had a size */
  guint scroll_source;         /* scrolls to it once allocated, outside the layout */
  gboolean shading;
  gboolean fixed_range;        /* shade by range_lo..range_hi, not the values on screen */
  double range_lo, range_hi;
};

enum {
  PROP_0,
  PROP_HADJUSTMENT,
  PROP_VADJUSTMENT,
  PROP_HSCROLL_POLICY,
  PROP_VSCROLL_POLICY,
};

enum {
  CURSOR_CHANGED,
  HOVER_CHANGED,
  READ_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void npv_grid_scrollable_init (GtkScrollableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NpvGrid, npv_grid, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_SCROLLABLE, npv_grid_scrollable_init))

static void schedule_update (NpvGrid *self);
static void scroll_to_cell (NpvGrid *self, gint64 row, gint64 col);

/* ------------------------------------------------------------------ */
/* Tiles */

static guint
tile_key_hash (gconstpointer p)
{
  const TileKey *k = p;

  return (guint) (k->row * 2654435761u) ^ (guint) (k->col * 40503u);
}

static gboolean
tile_key_equal (gconstpointer a,
                gconstpointer b)
{
  const TileKey *x = a, *y = b;

  return x->row == y->row && x->col == y->col;
}

static gsize
entry_bytes (TileEntry *entry)
{
  return (entry->tile != NULL ? npv_tile_get_memory (entry->tile) : 256) + entry->n_nodes * NODE_BYTES;
}

static void
tile_entry_free (TileEntry *entry)
{
  if (entry->cancellable != NULL)
    {
      g_cancellable_cancel (entry->cancellable);
      g_object_unref (entry->cancellable);
    }
  for (guint c = 0; c < TILE_COLS; c++)
    for (guint b = 0; b < TILE_BLOCKS; b++)
      g_clear_pointer (&entry->nodes[c][b], gsk_render_node_unref);
  g_clear_pointer (&entry->tile, npv_tile_unref);
  g_free (entry->error);
  g_free (entry);
}

typedef struct
{
  GWeakRef grid;               /* never a strong reference from a worker */
  NpvArray *plane;
  GArray *leaves;
  NpvNumberFormat format;
  TileKey key;
  guint generation;
} TileJob;

static void
tile_job_free (TileJob *job)
{
  g_weak_ref_clear (&job->grid);
  g_clear_pointer (&job->plane, npv_array_unref);
  g_clear_pointer (&job->leaves, g_array_unref);
  g_free (job);
}

static void
tile_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  TileJob *job = task_data;
  GError *error = NULL;
  NpvTile *tile = npv_tile_compute (job->plane, job->leaves, job->key.row * TILE_ROWS,
                                    job->key.col * TILE_COLS, TILE_ROWS, TILE_COLS, &job->format,
                                    cancellable, &error);

  if (tile == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, tile, (GDestroyNotify) npv_tile_unref);
}

static void
tile_done (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = G_TASK (result);
  TileJob *job = g_task_get_task_data (task);
  g_autoptr(NpvGrid) self = g_weak_ref_get (&job->grid);
  g_autoptr(GError) error = NULL;
  NpvTile *tile = g_task_propagate_pointer (task, &error);
  TileEntry *entry;

  if (self == NULL || job->generation != self->generation ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_pointer (&tile, npv_tile_unref);
      return;
    }
  entry = g_hash_table_lookup (self->tiles, &job->key);
  if (entry == NULL || entry->cancellable != g_task_get_cancellable (task))
    {
      g_clear_pointer (&tile, npv_tile_unref);
      return;
    }
  g_clear_object (&entry->cancellable);
  self->n_pending--;
  if (tile == NULL)
    {
      entry->error = g_strdup (error->message);
      g_signal_emit (self, signals[READ_FAILED], 0, error);
    }
  entry->tile = tile;
  self->cache_bytes += entry_bytes (entry);
  gtk_widget_queue_draw (GTK_WIDGET (self));

  /* The cursor's cell may just have arrived. */
  if (self->cursor_row / TILE_ROWS == job->key.row && self->cursor_col / TILE_COLS == job->key.col)
    g_signal_emit (self, signals[CURSOR_CHANGED], 0);
  if (self->has_hover && self->hover_row / TILE_ROWS == job->key.row &&
      self->hover_col / TILE_COLS == job->key.col)
    g_signal_emit (self, signals[HOVER_CHANGED], 0);
}

static void
request_tile (NpvGrid       *self,
              const TileKey *key)
{
  TileEntry *entry = g_new0 (TileEntry, 1);
  TileJob *job = g_new0 (TileJob, 1);
  g_autoptr(GTask) task = NULL;

  entry->key = *key;
  entry->cancellable = g_cancellable_new ();
  entry->used = self->frame;
  g_hash_table_insert (self->tiles, &entry->key, entry);
  self->n_pending++;

  g_weak_ref_init (&job->grid, self);
  job->plane = npv_array_ref (self->plane);
  job->leaves = g_array_ref (self->leaves);
  job->format = self->format;
  job->key = *key;
  job->generation = self->generation;

  task = g_task_new (NULL, entry->cancellable, tile_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) tile_job_free);
  g_task_run_in_thread (task, tile_in_thread);
}

static void
drop_entry (NpvGrid   *self,
            TileEntry *entry)
{
  if (entry->cancellable != NULL)
    self->n_pending--;
  else
    self->cache_bytes -= MIN (self->cache_bytes, entry_bytes (entry));
  g_hash_table_remove (self->tiles, &entry->key);
}

static void
clear_tiles (NpvGrid *self)
{
  self->generation++;
  g_hash_table_remove_all (self->tiles);
  self->cache_bytes = 0;
  self->n_pending = 0;
}

/* ------------------------------------------------------------------ */
/* Geometry */

static gint64
n_rows (NpvGrid *self)
{
  return self->plane != NULL ? self->plane->shape[0] : 0;
}

static guint
n_leaves (NpvGrid *self)
{
  return MAX (self->leaves != NULL ? self->leaves->len : 0, 1);
}

static gint64
n_columns (NpvGrid *self)
{
  return self->plane != NULL ? npv_grid_n_columns (self->plane, self->leaves) : 0;
}

static const NpvDType *
leaf_dtype (NpvGrid *self,
            guint    leaf)
{
  if (self->leaves != NULL && self->leaves->len > 0)
    return g_array_index (self->leaves, NpvLeaf, leaf).dtype;
  return self->plane->dtype;
}

static int
natural_width (NpvGrid *self,
               gint64   col)
{
  return self->leaf_widths[col % n_leaves (self)];
}

/* The first resized column at or after @col. */
static guint
width_index (NpvGrid *self,
             gint64   col)
{
  guint lo = 0, hi = self->widths->len;

  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (g_array_index (self->widths, ColumnWidth, mid).col < col)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* How much wider the resized columns before @col made the grid. */
static double
shift_before (NpvGrid *self,
              gint64   col)
{
  guint k = width_index (self, col);
  const ColumnWidth *w;

  if (k == 0)
    return 0;
  w = &g_array_index (self->widths, ColumnWidth, k - 1);
  return w->shift_before + w->width - natural_width (self, w->col);
}

static double
col_x (NpvGrid *self,
       gint64   col)
{
  guint l = n_leaves (self);

  return (double) (col / l) * self->group_width + self->leaf_x[col % l] + shift_before (self, col);
}

static int
col_width (NpvGrid *self,
           gint64   col)
{
  guint k = width_index (self, col);

  if (k < self->widths->len && g_array_index (self->widths, ColumnWidth, k).col == col)
    return g_array_index (self->widths, ColumnWidth, k).width;
  return natural_width (self, col);
}

/* The column at @x (content coordinates): the last one starting at or
 * before it. */
static gint64
col_at (NpvGrid *self,
        double   x)
{
  gint64 lo = 0, hi = MAX (n_columns (self) - 1, 0);

  while (lo < hi)
    {
      gint64 mid = lo + (hi - lo + 1) / 2;

      if (col_x (self, mid) <= x)
        lo = mid;
      else
        hi = mid - 1;
    }
  return lo;
}

static double
content_width (NpvGrid *self)
{
  return self->plane != NULL ? (double) self->plane->shape[1] * self->group_width +
                               shift_before (self, G_MAXINT64) : 0;
}

static double
content_height (NpvGrid *self)
{
  return (double) n_rows (self) * self->row_height;
}

static int
view_width (NpvGrid *self)
{
  return MAX (gtk_widget_get_width (GTK_WIDGET (self)) - self->row_header_width, 0);
}

static int
view_height (NpvGrid *self)
{
  return MAX (gtk_widget_get_height (GTK_WIDGET (self)) - self->header_height, 0);
}

/* Characters the widest value of a dtype takes, as the core writes it. */
static int
dtype_chars (const NpvDType *dtype)
{
  static const int datetime_chars[] = { 29, 4, 7, 10, 10, 13, 16, 19, 23, 26, 29, 32, 35, 38 };

  switch (dtype->kind)
    {
    case NPV_KIND_BOOL: return 5;
    case NPV_KIND_INT: return dtype->itemsize == 1 ? 4 : dtype->itemsize == 2 ? 6 : dtype->itemsize == 4 ? 11 : 20;
    case NPV_KIND_UINT: return dtype->itemsize == 1 ? 3 : dtype->itemsize == 2 ? 5 : dtype->itemsize == 4 ? 10 : 20;
    case NPV_KIND_FLOAT: return dtype->itemsize == 2 ? 10 : dtype->itemsize == 4 ? 15 : dtype->itemsize == 8 ? 24 : 28;
    case NPV_KIND_COMPLEX: return dtype->itemsize == 8 ? 32 : dtype->itemsize == 16 ? 50 : 58;
    case NPV_KIND_DATETIME: return datetime_chars[MIN ((guint) dtype->unit, G_N_ELEMENTS (datetime_chars) - 1)];
    case NPV_KIND_TIMEDELTA: return 24;
    case NPV_KIND_UNICODE: return CLAMP ((int) dtype->itemsize / 4, 3, 40);
    case NPV_KIND_BYTES:
    case NPV_KIND_VOID: return CLAMP ((int) dtype->itemsize * 4 + 3, 3, 40);
    case NPV_KIND_OBJECT: return 24;
    default: return 12;
    }
}

static int
digits (gint64 n)
{
  int d = 1;

  while (n >= 10)
    {
      n /= 10;
      d++;
    }
  return d;
}

static PangoLayout *
new_layout (NpvGrid    *self,
            const char *text)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);

  pango_layout_set_attributes (layout, self->tabular);
  return layout;
}

/* Row pitch, text sizes and column widths for the current font. */
static void clear_header_nodes (NpvGrid *self);

static void
measure (NpvGrid *self)
{
  g_autoptr(PangoLayout) one = NULL;
  g_autoptr(PangoLayout) two = new_layout (self, "0\n0");
  int h1, h2, w;
  guint l = n_leaves (self);
  int x = 0;

  clear_header_nodes (self);
  g_array_set_size (self->widths, 0);
  one = new_layout (self, "0");

  pango_layout_get_size (one, &w, &h1);
  pango_layout_get_size (two, NULL, &h2);
  self->digit_width = MAX (PANGO_PIXELS_CEIL (w), 1);
  /* The pitch of lines in a layout, plus room above and below. */
  self->row_height = PANGO_PIXELS_CEIL (h2 - h1) + 6;
  self->line_spacing = self->row_height * PANGO_SCALE - (h2 - h1);

  g_free (self->leaf_widths);
  g_free (self->leaf_x);
  self->leaf_widths = g_new0 (int, l);
  self->leaf_x = g_new0 (int, l);
  for (guint i = 0; i < l; i++)
    {
      int chars = self->plane != NULL ? dtype_chars (leaf_dtype (self, i)) : 8;

      if (self->leaves != NULL && self->leaves->len > 0)
        chars = MAX (chars, (int) g_utf8_strlen (g_array_index (self->leaves, NpvLeaf, i).name, -1));
      if (self->plane != NULL)
        chars = MAX (chars, digits (self->plane->shape[1]));
      self->leaf_widths[i] = chars * self->digit_width + 2 * PAD;
      self->leaf_x[i] = x;
      x += self->leaf_widths[i];
    }
  self->group_width = MAX (x, 1);
  self->header_height = self->row_height * (self->leaves != NULL && self->leaves->len > 0 ? 2 : 1);
  self->row_header_width = digits (MAX (n_rows (self) - 1, 0)) * self->digit_width + 2 * PAD;
}

static void
set_column_width (NpvGrid *self,
                  gint64   col,
                  int      width)
{
  guint k = width_index (self, col);
  ColumnWidth entry = { col, MAX (width, 2 * PAD + self->digit_width), 0 };

  if (k < self->widths->len && g_array_index (self->widths, ColumnWidth, k).col == col)
    g_array_index (self->widths, ColumnWidth, k).width = entry.width;
  else
    g_array_insert_val (self->widths, k, entry);
  /* The shifts after it change. */
  for (guint i = k; i < self->widths->len; i++)
    {
      ColumnWidth *w = &g_array_index (self->widths, ColumnWidth, i);

      if (i == 0)
        w->shift_before = 0;
      else
        {
          const ColumnWidth *prev = &g_array_index (self->widths, ColumnWidth, i - 1);

          w->shift_before = prev->shift_before + prev->width - natural_width (self, prev->col);
        }
    }
  /* Laid-out text was cut to the old width. */
  clear_tiles (self);
  clear_header_nodes (self);
  gtk_widget_queue_allocate (GTK_WIDGET (self));
}

static void
configure_adjustments (NpvGrid *self)
{
  double w = view_width (self), h = view_height (self);

  if (self->hadjustment != NULL)
    gtk_adjustment_configure (self->hadjustment,
                              CLAMP (gtk_adjustment_get_value (self->hadjustment), 0,
                                     MAX (content_width (self) - w, 0)),
                              0, MAX (content_width (self), w), self->digit_width * 4, w * 0.9, w);
  if (self->vadjustment != NULL)
    gtk_adjustment_configure (self->vadjustment,
                              CLAMP (gtk_adjustment_get_value (self->vadjustment), 0,
                                     MAX (content_height (self) - h, 0)),
                              0, MAX (content_height (self), h), self->row_height,
                              MAX (h - self->row_height, self->row_height), h);
}

/* ------------------------------------------------------------------ */
/* Which tiles are wanted */

static void
visible_range (NpvGrid *self,
               gint64  *row0,
               gint64  *row1,
               gint64  *col0,
               gint64  *col1)
{
  double v = self->vadjustment != NULL ? gtk_adjustment_get_value (self->vadjustment) : 0;
  double h = self->hadjustment != NULL ? gtk_adjustment_get_value (self->hadjustment) : 0;
  *row0 = CLAMP ((gint64) (v / self->row_height), 0, MAX (n_rows (self) - 1, 0));
  *row1 = CLAMP ((gint64) ((v + view_height (self)) / self->row_height), 0, MAX (n_rows (self) - 1, 0));
  *col0 = col_at (self, h);
  *col1 = col_at (self, h + view_width (self));
}

static gboolean
update_tiles (gpointer user_data)
{
  NpvGrid *self = user_data;
  gint64 row0, row1, col0, col1, tr0, tr1, tc0, tc1;
  double v, h;
  GHashTableIter iter;
  TileEntry *entry;
  g_autoptr(GPtrArray) stale = g_ptr_array_new ();

  self->update_source = 0;
  if (self->plane == NULL || n_rows (self) == 0 || n_columns (self) == 0)
    return G_SOURCE_REMOVE;

  self->frame++;
  visible_range (self, &row0, &row1, &col0, &col1);
  tr0 = row0 / TILE_ROWS;
  tr1 = row1 / TILE_ROWS;
  tc0 = col0 / TILE_COLS;
  tc1 = col1 / TILE_COLS;

  /* Visible tiles first, then one more in the direction of scrolling. */
  v = self->vadjustment != NULL ? gtk_adjustment_get_value (self->vadjustment) : 0;
  h = self->hadjustment != NULL ? gtk_adjustment_get_value (self->hadjustment) : 0;
  for (int pass = 0; pass < 2; pass++)
    {
      gint64 a0 = tr0, a1 = tr1, b0 = tc0, b1 = tc1;

      if (pass == 1)
        {
          if (v > self->last_vvalue)
            a1 = MIN (a1 + 1, (n_rows (self) - 1) / TILE_ROWS);
          else if (v < self->last_vvalue)
            a0 = MAX (a0 - 1, 0);
          if (h > self->last_hvalue)
            b1 = MIN (b1 + 1, (n_columns (self) - 1) / TILE_COLS);
          else if (h < self->last_hvalue)
            b0 = MAX (b0 - 1, 0);
        }
      for (gint64 tr = a0; tr <= a1; tr++)
        for (gint64 tc = b0; tc <= b1; tc++)
          {
            TileKey key = { tr, tc };

            entry = g_hash_table_lookup (self->tiles, &key);
            if (entry == NULL)
              request_tile (self, &key);
            else
              entry->used = self->frame;
          }
    }
  self->last_vvalue = v;
  self->last_hvalue = h;

  /* Work for tiles that scrolled away is cancelled; made tiles stay until
   * the budget needs their room, oldest first. */
  g_hash_table_iter_init (&iter, self->tiles);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    if (entry->cancellable != NULL && entry->used != self->frame)
      g_ptr_array_add (stale, entry);
  for (guint i = 0; i < stale->len; i++)
    drop_entry (self, g_ptr_array_index (stale, i));

  while (self->cache_bytes > CACHE_BUDGET)
    {
      TileEntry *oldest = NULL;

      g_hash_table_iter_init (&iter, self->tiles);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
        if (entry->cancellable == NULL && entry->used != self->frame &&
            (oldest == NULL || entry->used < oldest->used))
          oldest = entry;
      if (oldest == NULL)
        break;
      drop_entry (self, oldest);
    }
  return G_SOURCE_REMOVE;
}

static void
schedule_update (NpvGrid *self)
{
  if (self->update_source == 0)
    self->update_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE + 10, update_tiles, self, NULL);
}

/* ------------------------------------------------------------------ */
/* Drawing */

static gboolean
is_numeric (const NpvDType *dtype)
{
  return dtype->kind == NPV_KIND_BOOL || dtype->kind == NPV_KIND_INT || dtype->kind == NPV_KIND_UINT ||
         dtype->kind == NPV_KIND_FLOAT || dtype->kind == NPV_KIND_COMPLEX ||
         dtype->kind == NPV_KIND_TIMEDELTA;
}

static void get_colors (NpvGrid *self, GdkRGBA *fg, GdkRGBA *accent);

static GskRenderNode *
layout_to_node (PangoLayout   *layout,
                const GdkRGBA *color)
{
  GtkSnapshot *snapshot = gtk_snapshot_new ();

  gtk_snapshot_append_layout (snapshot, layout, color);
  return gtk_snapshot_free_to_node (snapshot);
}

/* The text of rows [b * BLOCK_ROWS, ...) of tile column @c, as a node. */
static GskRenderNode *
tile_block_node (NpvGrid   *self,
                 TileEntry *entry,
                 guint      c,
                 guint      b)
{
  gint64 col = entry->key.col * TILE_COLS + c;
  guint first = b * BLOCK_ROWS, last = MIN (first + BLOCK_ROWS, npv_tile_get_n_rows (entry->tile));

  if (entry->nodes[c][b] == NULL && first < last)
    {
      g_autoptr(GString) text = g_string_new (NULL);
      g_autoptr(PangoLayout) layout = NULL;
      GdkRGBA fg, accent;

      for (guint r = first; r < last; r++)
        {
          const char *cell = npv_tile_get_text (entry->tile, r, c);

          if (r > first)
            g_string_append_c (text, '\n');
          /* One line per cell: line breaks inside text would shift rows. */
          for (const char *p = cell; *p != '\0'; p++)
            g_string_append_c (text, *p == '\n' || *p == '\r' ? ' ' : *p);
        }
      layout = new_layout (self, text->str);
      pango_layout_set_spacing (layout, self->line_spacing);
      pango_layout_set_width (layout, (col_width (self, col) - 2 * PAD) * PANGO_SCALE);
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
      pango_layout_set_alignment (layout, is_numeric (leaf_dtype (self, col % n_leaves (self)))
                                          ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
      get_colors (self, &fg, &accent);
      entry->nodes[c][b] = layout_to_node (layout, &fg);
      entry->n_nodes++;
      self->cache_bytes += NODE_BYTES;
    }
  return entry->nodes[c][b];
}

static void
append_node_at (GtkSnapshot   *snapshot,
                GskRenderNode *node,
                double         x,
                double         y)
{
  if (node == NULL)
    return;
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, y + 3));
  gtk_snapshot_append_node (snapshot, node);
  gtk_snapshot_restore (snapshot);
}

static GskRenderNode *
header_node (NpvGrid    *self,
             GHashTable *cache,
             gint64      key,
             const char *text,
             int         width,
             PangoAlignment alignment,
             gboolean    spaced)
{
  GskRenderNode *node = g_hash_table_lookup (cache, &key);
  g_autoptr(PangoLayout) layout = NULL;
  GdkRGBA fg, accent;

  if (node != NULL)
    return node;
  if (g_hash_table_size (cache) > MAX_HEADER_NODES)
    g_hash_table_remove_all (cache);
  layout = new_layout (self, text);
  if (spaced)
    pango_layout_set_spacing (layout, self->line_spacing);
  pango_layout_set_width (layout, width * PANGO_SCALE);
  pango_layout_set_alignment (layout, alignment);
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  get_colors (self, &fg, &accent);
  fg.alpha *= 0.55;
  node = layout_to_node (layout, &fg);
  g_hash_table_insert (cache, g_memdup2 (&key, sizeof key), node);
  return node;
}

static void
clear_header_nodes (NpvGrid *self)
{
  g_hash_table_remove_all (self->row_header_nodes);
  g_hash_table_remove_all (self->column_header_nodes);
}

static void
get_colors (NpvGrid *self,
            GdkRGBA *fg,
            GdkRGBA *accent)
{
  GtkStyleContext *context = gtk_widget_get_style_context (GTK_WIDGET (self));

  gtk_style_context_get_color (context, fg);
  if (!gtk_style_context_lookup_color (context, "accent_bg_color", accent) &&
      !gtk_style_context_lookup_color (context, "theme_selected_bg_color", accent))
    gdk_rgba_parse (accent, "#3584e4");
}

/* A short viridis ramp: dark blue, teal, green, yellow. */
static void
ramp_color (double   t,
            GdkRGBA *color)
{
  static const float stops[][3] = {
    { 0.267f, 0.005f, 0.329f }, { 0.230f, 0.322f, 0.546f }, { 0.128f, 0.567f, 0.551f },
    { 0.369f, 0.789f, 0.383f }, { 0.993f, 0.906f, 0.144f },
  };
  double x = CLAMP (t, 0, 1) * (G_N_ELEMENTS (stops) - 1);
  guint i = MIN ((guint) x, G_N_ELEMENTS (stops) - 2);
  double f = x - i;

  color->red = stops[i][0] + f * (stops[i + 1][0] - stops[i][0]);
  color->green = stops[i][1] + f * (stops[i + 1][1] - stops[i][1]);
  color->blue = stops[i][2] + f * (stops[i + 1][2] - stops[i][2]);
  color->alpha = 0.45f;
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
append_text (NpvGrid       *self,
             GtkSnapshot   *snapshot,
             PangoLayout   *layout,
             const GdkRGBA *color,
             double         x,
             double         y)
{
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, y + 3));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

/* The background of each visible cell coloured by its value, the range
 * taken from the finite values on screen. */
static void
shade_cells (NpvGrid     *self,
             GtkSnapshot *snapshot,
             gint64       row0,
             gint64       row1,
             gint64       col0,
             gint64       col1,
             double       ox,
             double       oy)
{
  double lo = INFINITY, hi = -INFINITY;

  if (self->fixed_range)
    {
      lo = self->range_lo;
      hi = self->range_hi;
    }
  for (int pass = self->fixed_range ? 1 : 0; pass < 2; pass++)
    for (gint64 r = row0; r <= row1; r++)
      for (gint64 c = col0; c <= col1; c++)
        {
          TileKey key = { r / TILE_ROWS, c / TILE_COLS };
          TileEntry *entry = g_hash_table_lookup (self->tiles, &key);
          double v;

          if (entry == NULL || entry->tile == NULL)
            continue;
          if ((guint) (r % TILE_ROWS) >= npv_tile_get_n_rows (entry->tile) ||
              (guint) (c % TILE_COLS) >= npv_tile_get_n_cols (entry->tile))
            continue;
          v = npv_tile_get_number (entry->tile, r % TILE_ROWS, c % TILE_COLS);
          if (!isfinite (v))
            continue;
          if (pass == 0)
            {
              lo = MIN (lo, v);
              hi = MAX (hi, v);
            }
          else
            {
              GdkRGBA color;

              ramp_color (hi > lo ? (v - lo) / (hi - lo) : 0.5, &color);
              append_rect (snapshot, &color, ox + col_x (self, c), oy + (double) r * self->row_height,
                           col_width (self, c), self->row_height);
            }
        }
}

static void
npv_grid_snapshot (GtkWidget   *widget,
                   GtkSnapshot *snapshot)
{
  NpvGrid *self = NPV_GRID (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  double v, h, ox, oy;
  gint64 row0, row1, col0, col1, sel_r0, sel_r1, sel_c0, sel_c1;
  GdkRGBA fg, accent, line, header_bg, dim, selection, placeholder;
  guint l;

  if (self->plane == NULL || n_rows (self) == 0 || n_columns (self) == 0)
    return;

  get_colors (self, &fg, &accent);
  line = fg;
  line.alpha = 0.10;
  header_bg = fg;
  header_bg.alpha = 0.05;
  dim = fg;
  dim.alpha = 0.55;
  selection = accent;
  selection.alpha = 0.25;
  placeholder = fg;
  placeholder.alpha = 0.035;

  v = gtk_adjustment_get_value (self->vadjustment);
  h = gtk_adjustment_get_value (self->hadjustment);
  ox = self->row_header_width - h;    /* x of column 0 */
  oy = self->header_height - v;       /* y of row 0 */
  l = n_leaves (self);
  visible_range (self, &row0, &row1, &col0, &col1);
  npv_grid_get_selection (self, &sel_r0, &sel_c0, &sel_r1, &sel_c1);

  /* Cells, clipped to the area under and right of the headers. */
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (self->row_header_width, self->header_height,
                                                         width - self->row_header_width,
                                                         height - self->header_height));
  if (self->shading)
    shade_cells (self, snapshot, row0, row1, col0, col1, ox, oy);
  for (gint64 tr = row0 / TILE_ROWS; tr <= row1 / TILE_ROWS; tr++)
    for (gint64 tc = col0 / TILE_COLS; tc <= col1 / TILE_COLS; tc++)
      {
        TileKey key = { tr, tc };
        TileEntry *entry = g_hash_table_lookup (self->tiles, &key);
        double y = oy + (double) tr * TILE_ROWS * self->row_height;
        gint64 c_first = MAX (tc * TILE_COLS, col0), c_last = MIN (tc * TILE_COLS + TILE_COLS - 1, col1);
        gint64 rows_here = MIN (TILE_ROWS, n_rows (self) - tr * TILE_ROWS);

        for (gint64 col = c_first; col <= c_last; col++)
          {
            double x = ox + col_x (self, col);

            if (entry == NULL || entry->tile == NULL)
              {
                /* Not arrived yet (or failed): a quiet placeholder. */
                append_rect (snapshot, &placeholder, x + 2, y + 2, col_width (self, col) - 4,
                             rows_here * self->row_height - 4);
                continue;
              }
            if (col - tc * TILE_COLS >= npv_tile_get_n_cols (entry->tile))
              continue;
            /* Only the row blocks on screen. */
            for (guint b = 0; b < TILE_BLOCKS; b++)
              {
                gint64 block_first = tr * TILE_ROWS + b * BLOCK_ROWS;

                if (block_first > row1 || block_first + BLOCK_ROWS - 1 < row0)
                  continue;
                append_node_at (snapshot, tile_block_node (self, entry, col - tc * TILE_COLS, b), x + PAD,
                                y + b * BLOCK_ROWS * self->row_height);
              }
          }
        if (entry != NULL)
          entry->used = self->frame;
      }

  /* Selection, cursor, and lines between columns. */
  if (sel_r1 >= row0 && sel_r0 <= row1 && sel_c1 >= col0 && sel_c0 <= col1 &&
      (sel_r0 != sel_r1 || sel_c0 != sel_c1))
    {
      double x0 = ox + col_x (self, MAX (sel_c0, col0));
      double x1 = ox + col_x (self, MIN (sel_c1, col1)) + col_width (self, MIN (sel_c1, col1));
      double y0 = oy + (double) MAX (sel_r0, row0) * self->row_height;
      double y1 = oy + (double) (MIN (sel_r1, row1) + 1) * self->row_height;

      append_rect (snapshot, &selection, x0, y0, x1 - x0, y1 - y0);
    }
  for (gint64 col = col0; col <= col1; col++)
    if ((col + 1) % l == 0)
      append_rect (snapshot, &line, ox + col_x (self, col) + col_width (self, col) - 1,
                   self->header_height, 1, height);
  if (self->cursor_row >= row0 && self->cursor_row <= row1 &&
      self->cursor_col >= col0 && self->cursor_col <= col1)
    {
      double x = ox + col_x (self, self->cursor_col), y = oy + (double) self->cursor_row * self->row_height;
      int w = col_width (self, self->cursor_col), t = gtk_widget_has_focus (widget) ? 2 : 1;

      append_rect (snapshot, &accent, x, y, w, t);
      append_rect (snapshot, &accent, x, y + self->row_height - t, w, t);
      append_rect (snapshot, &accent, x, y, t, self->row_height);
      append_rect (snapshot, &accent, x + w - t, y, t, self->row_height);
    }
  gtk_snapshot_pop (snapshot);

  /* Column header: indices, and field names on a second line. */
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (self->row_header_width, 0,
                                                         width - self->row_header_width,
                                                         self->header_height));
  append_rect (snapshot, &header_bg, self->row_header_width, 0, width, self->header_height);
  for (gint64 col = col0; col <= col1; col++)
    {
      double x = ox + col_x (self, col);
      gboolean selected = col >= sel_c0 && col <= sel_c1;
      g_autoptr(PangoLayout) layout = NULL;

      if (col % l == 0)
        {
          g_autofree char *index = g_strdup_printf ("%" G_GINT64_FORMAT, col / l);

          if (selected)
            {
              layout = new_layout (self, index);
              pango_layout_set_width (layout, (self->group_width - 2 * PAD) * PANGO_SCALE);
              pango_layout_set_alignment (layout, l > 1 ? PANGO_ALIGN_LEFT : PANGO_ALIGN_RIGHT);
              pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
              append_text (self, snapshot, layout, &accent, x + PAD, 0);
              g_clear_object (&layout);
            }
          else
            append_node_at (snapshot, header_node (self, self->column_header_nodes, col, index,
                                                   self->group_width - 2 * PAD,
                                                   l > 1 ? PANGO_ALIGN_LEFT : PANGO_ALIGN_RIGHT, FALSE),
                            x + PAD, 0);
        }
      if (l > 1)
        {
          layout = new_layout (self, g_array_index (self->leaves, NpvLeaf, col % l).name);
          pango_layout_set_width (layout, (col_width (self, col) - 2 * PAD) * PANGO_SCALE);
          pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
          append_text (self, snapshot, layout, selected ? &accent : &dim, x + PAD, self->row_height);
        }
      append_rect (snapshot, &line, x + col_width (self, col) - 1, (col + 1) % l == 0 ? 0 : self->row_height,
                   1, self->header_height);
    }
  append_rect (snapshot, &line, self->row_header_width, self->header_height - 1, width, 1);
  gtk_snapshot_pop (snapshot);

  /* Row header: one layout for the visible indices. */
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, self->header_height, self->row_header_width,
                                                         height - self->header_height));
  append_rect (snapshot, &header_bg, 0, self->header_height, self->row_header_width, height);
  {
    /* Indices in blocks of rows, each laid out once. */
    for (gint64 block = row0 / BLOCK_ROWS; block <= row1 / BLOCK_ROWS; block++)
      {
        g_autoptr(GString) text = g_string_new (NULL);
        gint64 first = block * BLOCK_ROWS, last = MIN (first + BLOCK_ROWS, n_rows (self)) - 1;

        if (!g_hash_table_contains (self->row_header_nodes, &block))
          for (gint64 r = first; r <= last; r++)
            g_string_append_printf (text, r > first ? "\n%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, r);
        append_node_at (snapshot, header_node (self, self->row_header_nodes, block, text->str,
                                               self->row_header_width - 2 * PAD, PANGO_ALIGN_RIGHT, TRUE),
                        PAD, oy + (double) first * self->row_height);
      }
    if (sel_r0 <= row1 && sel_r1 >= row0)
      append_rect (snapshot, &selection, 0, oy + (double) MAX (sel_r0, row0) * self->row_height,
                   self->row_header_width,
                   (double) (MIN (sel_r1, row1) - MAX (sel_r0, row0) + 1) * self->row_height);
  }
  append_rect (snapshot, &line, self->row_header_width - 1, 0, 1, height);
  gtk_snapshot_pop (snapshot);
}

/* ------------------------------------------------------------------ */
/* Size and scrolling */

static void
npv_grid_measure (GtkWidget      *widget,
                  GtkOrientation  orientation,
                  int             for_size,
                  int            *minimum,
                  int            *natural,
                  int            *minimum_baseline,
                  int            *natural_baseline)
{
  NpvGrid *self = NPV_GRID (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = self->row_header_width + self->digit_width * 4;
      *natural = MAX (*minimum, self->row_header_width + (int) MIN (content_width (self), 2000));
    }
  else
    {
      *minimum = self->header_height + self->row_height;
      *natural = MAX (*minimum, self->header_height + (int) MIN (content_height (self), 2000));
    }
}

static gboolean
pending_scroll (gpointer user_data)
{
  NpvGrid *self = user_data;

  self->scroll_source = 0;
  if (self->scroll_pending && view_height (self) > 0 && view_width (self) > 0)
    {
      self->scroll_pending = FALSE;
      scroll_to_cell (self, self->cursor_row, self->cursor_col);
    }
  return G_SOURCE_REMOVE;
}

static void
npv_grid_size_allocate (GtkWidget *widget,
                        int        width,
                        int        height,
                        int        baseline)
{
  NpvGrid *self = NPV_GRID (widget);

  configure_adjustments (self);
  /* Moving the adjustments here would queue a new layout in the middle
   * of this one: do it just after. */
  if (self->scroll_pending && view_height (self) > 0 && view_width (self) > 0 &&
      self->scroll_source == 0)
    self->scroll_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE, pending_scroll, self, NULL);
  schedule_update (self);
}

static void
adjustment_changed (GtkAdjustment *adjustment,
                    NpvGrid       *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
  schedule_update (self);
}

static void
set_adjustment (NpvGrid        *self,
                GtkAdjustment **slot,
                GtkAdjustment  *adjustment)
{
  if (adjustment == *slot && adjustment != NULL)
    return;
  if (*slot != NULL)
    {
      g_signal_handlers_disconnect_by_func (*slot, adjustment_changed, self);
      g_object_unref (*slot);
    }
  if (adjustment == NULL)
    adjustment = gtk_adjustment_new (0, 0, 0, 0, 0, 0);
  *slot = g_object_ref_sink (adjustment);
  g_signal_connect (adjustment, "value-changed", G_CALLBACK (adjustment_changed), self);
  configure_adjustments (self);
}

static gboolean
npv_grid_get_border (GtkScrollable *scrollable,
                     GtkBorder     *border)
{
  NpvGrid *self = NPV_GRID (scrollable);

  border->top = self->header_height;
  border->left = self->row_header_width;
  return TRUE;
}

static void
npv_grid_scrollable_init (GtkScrollableInterface *iface)
{
  iface->get_border = npv_grid_get_border;
}

/* Scrolls the least needed to show cell (@row, @col). */
static void
scroll_to_cell (NpvGrid *self,
                gint64   row,
                gint64   col)
{
  double v = gtk_adjustment_get_value (self->vadjustment);
  double h = gtk_adjustment_get_value (self->hadjustment);
  double y = (double) row * self->row_height, x = col_x (self, col);
  double vh = view_height (self), vw = view_width (self);

  if (y < v)
    gtk_adjustment_set_value (self->vadjustment, y);
  else if (y + self->row_height > v + vh)
    gtk_adjustment_set_value (self->vadjustment, y + self->row_height - vh);
  if (x < h)
    gtk_adjustment_set_value (self->hadjustment, x);
  else if (x + col_width (self, col) > h + vw)
    gtk_adjustment_set_value (self->hadjustment, MIN (x, x + col_width (self, col) - vw));
}

/* ------------------------------------------------------------------ */
/* Cursor and selection */

void
npv_grid_set_cursor (NpvGrid  *self,
                     gint64    row,
                     gint64    col,
                     gboolean  extend)
{
  g_return_if_fail (NPV_IS_GRID (self));

  if (self->plane == NULL)
    return;
  self->cursor_row = CLAMP (row, 0, MAX (n_rows (self) - 1, 0));
  self->cursor_col = CLAMP (col, 0, MAX (n_columns (self) - 1, 0));
  if (!extend)
    {
      self->anchor_row = self->cursor_row;
      self->anchor_col = self->cursor_col;
    }
  if (view_height (self) > 0 && view_width (self) > 0)
    scroll_to_cell (self, self->cursor_row, self->cursor_col);
  else
    self->scroll_pending = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[CURSOR_CHANGED], 0);
}

void
npv_grid_get_cursor (NpvGrid *self,
                     gint64  *row,
                     gint64  *col)
{
  *row = self->cursor_row;
  *col = self->cursor_col;
}

void
npv_grid_get_selection (NpvGrid *self,
                        gint64  *row0,
                        gint64  *col0,
                        gint64  *row1,
                        gint64  *col1)
{
  *row0 = MIN (self->anchor_row, self->cursor_row);
  *row1 = MAX (self->anchor_row, self->cursor_row);
  *col0 = MIN (self->anchor_col, self->cursor_col);
  *col1 = MAX (self->anchor_col, self->cursor_col);
}

gboolean
npv_grid_get_hover (NpvGrid *self,
                    gint64  *row,
                    gint64  *col)
{
  if (!self->has_hover)
    return FALSE;
  *row = self->hover_row;
  *col = self->hover_col;
  return TRUE;
}

void
npv_grid_select_all (NpvGrid *self)
{
  if (self->plane == NULL)
    return;
  self->anchor_row = 0;
  self->anchor_col = 0;
  self->cursor_row = MAX (n_rows (self) - 1, 0);
  self->cursor_col = MAX (n_columns (self) - 1, 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[CURSOR_CHANGED], 0);
}

static gboolean
cell_at (NpvGrid *self,
         double   x,
         double   y,
         gint64  *row,
         gint64  *col)
{
  double cx = x - self->row_header_width + gtk_adjustment_get_value (self->hadjustment);
  double cy = y - self->header_height + gtk_adjustment_get_value (self->vadjustment);
  if (self->plane == NULL || cx < 0 || cy < 0)
    return FALSE;
  *row = (gint64) (cy / self->row_height);
  *col = col_at (self, cx);
  *row = MIN (*row, n_rows (self) - 1);
  *col = MIN (*col, n_columns (self) - 1);
  return *row >= 0 && *col >= 0;
}

/* The column whose right edge is within a few pixels of @x in the
 * header, or -1. */
static gint64
edge_at (NpvGrid *self,
         double   x)
{
  double cx = x - self->row_header_width + gtk_adjustment_get_value (self->hadjustment);
  gint64 row, col;

  if (!cell_at (self, x, self->header_height + 1, &row, &col))
    return -1;
  for (gint64 c = MAX (col - 1, 0); c <= col; c++)
    if (fabs (col_x (self, c) + col_width (self, c) - cx) <= 4)
      return c;
  return -1;
}

static void
click_pressed (GtkGestureClick *gesture,
               int              n_press,
               double           x,
               double           y,
               NpvGrid         *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  gboolean extend = (state & GDK_SHIFT_MASK) != 0;
  gint64 row, col;

  gtk_widget_grab_focus (GTK_WIDGET (self));
  if (self->plane == NULL)
    return;
  if (y < self->header_height && x >= self->row_header_width)
    {
      /* A column header: the whole column. */
      if (edge_at (self, x) >= 0 || !cell_at (self, x, self->header_height + 1, &row, &col))
        return;
      if (!extend)
        {
          self->anchor_row = 0;
          self->anchor_col = col;
        }
      self->cursor_row = n_rows (self) - 1;
      self->cursor_col = col;
      gtk_widget_queue_draw (GTK_WIDGET (self));
      g_signal_emit (self, signals[CURSOR_CHANGED], 0);
      return;
    }
  if (x < self->row_header_width && y >= self->header_height)
    {
      /* A row header: the whole row. */
      if (!cell_at (self, self->row_header_width + 1, y, &row, &col))
        return;
      if (!extend)
        {
          self->anchor_row = row;
          self->anchor_col = 0;
        }
      self->cursor_row = row;
      self->cursor_col = n_columns (self) - 1;
      gtk_widget_queue_draw (GTK_WIDGET (self));
      g_signal_emit (self, signals[CURSOR_CHANGED], 0);
      return;
    }
  if (cell_at (self, x, y, &row, &col))
    npv_grid_set_cursor (self, row, col, extend);
}

static void
drag_begin (GtkGestureDrag *gesture,
            double          x,
            double          y,
            NpvGrid        *self)
{
  self->resize_col = y < self->header_height ? edge_at (self, x) : -1;
  if (self->resize_col >= 0)
    self->resize_start_width = col_width (self, self->resize_col);
}

static void
drag_update (GtkGestureDrag *gesture,
             double          dx,
             double          dy,
             NpvGrid        *self)
{
  double x, y;
  gint64 row, col;

  gtk_gesture_drag_get_start_point (gesture, &x, &y);
  if (self->resize_col >= 0)
    {
      set_column_width (self, self->resize_col, self->resize_start_width + (int) dx);
      return;
    }
  if (y >= self->header_height && x >= self->row_header_width &&
      cell_at (self, MAX (x + dx, self->row_header_width), MAX (y + dy, self->header_height), &row, &col))
    npv_grid_set_cursor (self, row, col, TRUE);
}

static void
drag_end (GtkGestureDrag *gesture,
          double          dx,
          double          dy,
          NpvGrid        *self)
{
  self->resize_col = -1;
}

static void
motion (GtkEventControllerMotion *controller,
        double                    x,
        double                    y,
        NpvGrid                  *self)
{
  gint64 row, col;
  gboolean over = y >= self->header_height && x >= self->row_header_width && cell_at (self, x, y, &row, &col);

  gtk_widget_set_cursor_from_name (GTK_WIDGET (self),
                                   y < self->header_height && edge_at (self, x) >= 0 ? "col-resize" : NULL);
  if (over == self->has_hover && (!over || (row == self->hover_row && col == self->hover_col)))
    return;
  self->has_hover = over;
  if (over)
    {
      self->hover_row = row;
      self->hover_col = col;
    }
  g_signal_emit (self, signals[HOVER_CHANGED], 0);
}

static void
leave (GtkEventControllerMotion *controller,
       NpvGrid                  *self)
{
  if (self->has_hover)
    {
      self->has_hover = FALSE;
      g_signal_emit (self, signals[HOVER_CHANGED], 0);
    }
}

/* Key bindings: "move" with (rows, columns, extend); large steps are
 * G_MAXINT64 / G_MININT64 for "to the end". */
static gboolean
move_cursor (GtkWidget *widget,
             GVariant  *args,
             gpointer   user_data)
{
  NpvGrid *self = NPV_GRID (widget);
  gint64 dr, dc, row, col;
  gboolean extend;
  int page = MAX (view_height (self) / MAX (self->row_height, 1) - 1, 1);

  g_variant_get (args, "(xxb)", &dr, &dc, &extend);
  if (self->plane == NULL)
    return TRUE;
  row = self->cursor_row;
  col = self->cursor_col;
  if (dr == G_MAXINT64 || dr == G_MININT64)
    row = dr > 0 ? n_rows (self) - 1 : 0;
  else if (dr == G_MAXINT64 - 1 || dr == G_MININT64 + 1)
    row += dr > 0 ? page : -page;
  else
    row += dr;
  if (dc == G_MAXINT64 || dc == G_MININT64)
    col = dc > 0 ? n_columns (self) - 1 : 0;
  else
    col += dc;
  npv_grid_set_cursor (self, row, col, extend);
  return TRUE;
}

static gboolean
select_all_binding (GtkWidget *widget,
                    GVariant  *args,
                    gpointer   user_data)
{
  npv_grid_select_all (NPV_GRID (widget));
  return TRUE;
}

static void
copy_done (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  NpvGrid *self = NPV_GRID (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = npv_grid_copy_selection_finish (self, result, &error);

  if (text != NULL)
    gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    gtk_widget_error_bell (GTK_WIDGET (self));
}

static gboolean
copy_binding (GtkWidget *widget,
              GVariant  *args,
              gpointer   user_data)
{
  npv_grid_copy_selection_async (NPV_GRID (widget), NULL, copy_done, NULL);
  return TRUE;
}

static void
copy_action (GtkWidget  *widget,
             const char *action,
             GVariant   *param)
{
  npv_grid_copy_selection_async (NPV_GRID (widget), NULL, copy_done, NULL);
}

static void
select_all_action (GtkWidget  *widget,
                   const char *action,
                   GVariant   *param)
{
  npv_grid_select_all (NPV_GRID (widget));
}

/* ------------------------------------------------------------------ */
/* Copying the selection */

typedef struct
{
  NpvArray *plane;
  GArray *leaves;
  gint64 row0, col0, row1, col1;
} CopyJob;

static void
copy_job_free (CopyJob *job)
{
  g_clear_pointer (&job->plane, npv_array_unref);
  g_clear_pointer (&job->leaves, g_array_unref);
  g_free (job);
}

static void
copy_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  CopyJob *job = task_data;
  NpvNumberFormat full = { NPV_NUMBER_AUTO, 0 };
  g_autoptr(GString) out = g_string_new (NULL);
  guint n_cols = (guint) (job->col1 - job->col0 + 1);

  for (gint64 r = job->row0; r <= job->row1; r += TILE_ROWS)
    {
      GError *error = NULL;
      g_autoptr(NpvTile) tile = npv_tile_compute (job->plane, job->leaves, r, job->col0,
                                                  (guint) MIN (TILE_ROWS, job->row1 - r + 1), n_cols,
                                                  &full, cancellable, &error);

      if (tile == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      for (guint i = 0; i < npv_tile_get_n_rows (tile); i++)
        {
          for (guint c = 0; c < npv_tile_get_n_cols (tile); c++)
            {
              const char *text = npv_tile_get_text (tile, i, c);

              if (c > 0)
                g_string_append_c (out, '\t');
              npv_append_table_cell (out, text, strlen (text), '\t');
            }
          g_string_append_c (out, '\n');
        }
    }
  g_task_return_pointer (task, g_string_free (g_steal_pointer (&out), FALSE), g_free);
}

static void
copy_cancelled (GCancellable *grid_cancellable,
                GCancellable *cancellable)
{
  g_cancellable_cancel (cancellable);
}

void
npv_grid_copy_selection_async (NpvGrid             *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GCancellable) own = g_cancellable_new ();
  g_autoptr(GTask) task = NULL;
  CopyJob *job;

  /* Cancelled by the caller, or when the grid leaves its window. */
  if (cancellable != NULL)
    g_cancellable_connect (cancellable, G_CALLBACK (copy_cancelled), g_object_ref (own), g_object_unref);
  g_signal_connect_object (self->copy_cancellable, "cancelled", G_CALLBACK (copy_cancelled), own, 0);
  task = g_task_new (self, own, callback, user_data);

  if (self->plane == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("Nothing to copy"));
      return;
    }
  job = g_new0 (CopyJob, 1);
  npv_grid_get_selection (self, &job->row0, &job->col0, &job->row1, &job->col1);
  if ((job->row1 - job->row0 + 1) * (job->col1 - job->col0 + 1) > MAX_COPY_CELLS)
    {
      copy_job_free (job);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                               _("The selection is too large to copy; export it instead"));
      return;
    }
  job->plane = npv_array_ref (self->plane);
  job->leaves = g_array_ref (self->leaves);
  g_task_set_task_data (task, job, (GDestroyNotify) copy_job_free);
  g_task_run_in_thread (task, copy_in_thread);
}

char *
npv_grid_copy_selection_finish (NpvGrid       *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------ */

void
npv_grid_set_plane (NpvGrid  *self,
                    NpvArray *plane)
{
  g_return_if_fail (NPV_IS_GRID (self));
  g_return_if_fail (plane == NULL || plane->ndim == 2);

  clear_tiles (self);
  g_clear_pointer (&self->plane, npv_array_unref);
  g_clear_pointer (&self->leaves, g_array_unref);
  if (plane != NULL)
    {
      self->plane = npv_array_ref (plane);
      self->leaves = plane->dtype->kind == NPV_KIND_STRUCT ? npv_dtype_collect_leaves (plane->dtype)
                                                          : g_array_new (FALSE, FALSE, sizeof (NpvLeaf));
    }
  else
    self->leaves = g_array_new (FALSE, FALSE, sizeof (NpvLeaf));
  measure (self);
  /* Cursor and selection stay where they still fit. */
  self->cursor_row = CLAMP (self->cursor_row, 0, MAX (n_rows (self) - 1, 0));
  self->cursor_col = CLAMP (self->cursor_col, 0, MAX (n_columns (self) - 1, 0));
  self->anchor_row = CLAMP (self->anchor_row, 0, MAX (n_rows (self) - 1, 0));
  self->anchor_col = CLAMP (self->anchor_col, 0, MAX (n_columns (self) - 1, 0));
  configure_adjustments (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  schedule_update (self);
  g_signal_emit (self, signals[CURSOR_CHANGED], 0);
}

void
npv_grid_set_shading (NpvGrid  *self,
                      gboolean  shading)
{
  g_return_if_fail (NPV_IS_GRID (self));

  self->shading = shading;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
npv_grid_set_shading_range (NpvGrid  *self,
                            gboolean  fixed,
                            double    lo,
                            double    hi)
{
  g_return_if_fail (NPV_IS_GRID (self));

  self->fixed_range = fixed && isfinite (lo) && isfinite (hi);
  self->range_lo = lo;
  self->range_hi = hi;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
npv_grid_set_number_format (NpvGrid               *self,
                            const NpvNumberFormat *format)
{
  g_return_if_fail (NPV_IS_GRID (self));

  self->format = *format;
  clear_tiles (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  schedule_update (self);
}

void
npv_grid_set_column_width (NpvGrid *self,
                           gint64   col,
                           int      width)
{
  g_return_if_fail (NPV_IS_GRID (self));

  if (self->plane != NULL && col >= 0 && col < n_columns (self))
    set_column_width (self, col, width);
}

void
npv_grid_get_column_extent (NpvGrid *self,
                            gint64   col,
                            double  *x,
                            int     *width)
{
  g_return_if_fail (NPV_IS_GRID (self));

  *x = col_x (self, col);
  *width = col_width (self, col);
}

gint64
npv_grid_get_n_rows (NpvGrid *self)
{
  return n_rows (self);
}

gint64
npv_grid_get_n_columns (NpvGrid *self)
{
  return n_columns (self);
}

const char *
npv_grid_peek_text (NpvGrid *self,
                    gint64   row,
                    gint64   col)
{
  TileKey key = { row / TILE_ROWS, col / TILE_COLS };
  TileEntry *entry;

  if (self->plane == NULL || row < 0 || col < 0 || row >= n_rows (self) || col >= n_columns (self))
    return NULL;
  entry = g_hash_table_lookup (self->tiles, &key);
  if (entry == NULL)
    return NULL;
  if (entry->tile == NULL)
    return entry->error;
  return npv_tile_get_text (entry->tile, row % TILE_ROWS, col % TILE_COLS);
}

gboolean
npv_grid_is_loading (NpvGrid *self)
{
  return self->update_source != 0 || self->n_pending > 0;
}

char *
npv_grid_dup_column_title (NpvGrid *self,
                           gint64   col)
{
  guint l = n_leaves (self);

  if (self->leaves->len > 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT " · %s", col / l,
                            g_array_index (self->leaves, NpvLeaf, col % l).name);
  return g_strdup_printf ("%" G_GINT64_FORMAT, col);
}

static void
npv_grid_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  NpvGrid *self = NPV_GRID (object);

  switch (prop_id)
    {
    case PROP_HADJUSTMENT: g_value_set_object (value, self->hadjustment); break;
    case PROP_VADJUSTMENT: g_value_set_object (value, self->vadjustment); break;
    case PROP_HSCROLL_POLICY: g_value_set_enum (value, self->hscroll_policy); break;
    case PROP_VSCROLL_POLICY: g_value_set_enum (value, self->vscroll_policy); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
npv_grid_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  NpvGrid *self = NPV_GRID (object);

  switch (prop_id)
    {
    case PROP_HADJUSTMENT: set_adjustment (self, &self->hadjustment, g_value_get_object (value)); break;
    case PROP_VADJUSTMENT: set_adjustment (self, &self->vadjustment, g_value_get_object (value)); break;
    case PROP_HSCROLL_POLICY: self->hscroll_policy = g_value_get_enum (value); break;
    case PROP_VSCROLL_POLICY: self->vscroll_policy = g_value_get_enum (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
npv_grid_css_changed (GtkWidget         *widget,
                      GtkCssStyleChange *change)
{
  NpvGrid *self = NPV_GRID (widget);

  GTK_WIDGET_CLASS (npv_grid_parent_class)->css_changed (widget, change);
  /* A new font: new sizes and new layouts. */
  measure (self);
  clear_tiles (self);
  gtk_widget_queue_resize (widget);
}

/* Out of its window: no more work, and copies stop. */
static void
npv_grid_unroot (GtkWidget *widget)
{
  NpvGrid *self = NPV_GRID (widget);

  g_cancellable_cancel (self->copy_cancellable);
  g_clear_object (&self->copy_cancellable);
  self->copy_cancellable = g_cancellable_new ();
  g_clear_handle_id (&self->update_source, g_source_remove);
  clear_tiles (self);
  GTK_WIDGET_CLASS (npv_grid_parent_class)->unroot (widget);
}

static void
npv_grid_dispose (GObject *object)
{
  NpvGrid *self = NPV_GRID (object);

  g_clear_handle_id (&self->update_source, g_source_remove);
  g_clear_handle_id (&self->scroll_source, g_source_remove);
  g_cancellable_cancel (self->copy_cancellable);
  g_clear_object (&self->copy_cancellable);
  if (self->tiles != NULL)
    clear_tiles (self);
  if (self->hadjustment != NULL)
    g_signal_handlers_disconnect_by_func (self->hadjustment, adjustment_changed, self);
  if (self->vadjustment != NULL)
    g_signal_handlers_disconnect_by_func (self->vadjustment, adjustment_changed, self);
  g_clear_object (&self->hadjustment);
  g_clear_object (&self->vadjustment);
  G_OBJECT_CLASS (npv_grid_parent_class)->dispose (object);
}

static void
npv_grid_finalize (GObject *object)
{
  NpvGrid *self = NPV_GRID (object);

  g_clear_pointer (&self->tiles, g_hash_table_unref);
  g_clear_pointer (&self->row_header_nodes, g_hash_table_unref);
  g_clear_pointer (&self->column_header_nodes, g_hash_table_unref);
  g_clear_pointer (&self->plane, npv_array_unref);
  g_clear_pointer (&self->leaves, g_array_unref);
  g_clear_pointer (&self->tabular, pango_attr_list_unref);
  g_free (self->leaf_widths);
  g_free (self->leaf_x);
  g_clear_pointer (&self->widths, g_array_unref);
  G_OBJECT_CLASS (npv_grid_parent_class)->finalize (object);
}

static void
add_move_binding (GtkWidgetClass  *widget_class,
                  guint            key,
                  GdkModifierType  mods,
                  gint64           rows,
                  gint64           cols)
{
  gtk_widget_class_add_binding (widget_class, key, mods, move_cursor, "(xxb)", rows, cols, FALSE);
  gtk_widget_class_add_binding (widget_class, key, mods | GDK_SHIFT_MASK, move_cursor, "(xxb)",
                                rows, cols, TRUE);
}

static void
npv_grid_class_init (NpvGridClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = npv_grid_dispose;
  object_class->finalize = npv_grid_finalize;
  object_class->get_property = npv_grid_get_property;
  object_class->set_property = npv_grid_set_property;
  widget_class->snapshot = npv_grid_snapshot;
  widget_class->measure = npv_grid_measure;
  widget_class->size_allocate = npv_grid_size_allocate;
  widget_class->css_changed = npv_grid_css_changed;
  widget_class->unroot = npv_grid_unroot;

  g_object_class_override_property (object_class, PROP_HADJUSTMENT, "hadjustment");
  g_object_class_override_property (object_class, PROP_VADJUSTMENT, "vadjustment");
  g_object_class_override_property (object_class, PROP_HSCROLL_POLICY, "hscroll-policy");
  g_object_class_override_property (object_class, PROP_VSCROLL_POLICY, "vscroll-policy");

  /* The cursor moved, or its cell's text arrived. */
  signals[CURSOR_CHANGED] = g_signal_new ("cursor-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* The pointer is over another cell, or left the cells. */
  signals[HOVER_CHANGED] = g_signal_new ("hover-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* Values could not be read (the GError says why: a file cut short...). */
  signals[READ_FAILED] = g_signal_new ("read-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);

  add_move_binding (widget_class, GDK_KEY_Up, 0, -1, 0);
  add_move_binding (widget_class, GDK_KEY_Down, 0, 1, 0);
  add_move_binding (widget_class, GDK_KEY_Left, 0, 0, -1);
  add_move_binding (widget_class, GDK_KEY_Right, 0, 0, 1);
  add_move_binding (widget_class, GDK_KEY_Page_Up, 0, G_MININT64 + 1, 0);
  add_move_binding (widget_class, GDK_KEY_Page_Down, 0, G_MAXINT64 - 1, 0);
  add_move_binding (widget_class, GDK_KEY_Home, 0, 0, G_MININT64);
  add_move_binding (widget_class, GDK_KEY_End, 0, 0, G_MAXINT64);
  add_move_binding (widget_class, GDK_KEY_Home, GDK_CONTROL_MASK, G_MININT64, G_MININT64);
  add_move_binding (widget_class, GDK_KEY_End, GDK_CONTROL_MASK, G_MAXINT64, G_MAXINT64);
  gtk_widget_class_install_action (widget_class, "grid.copy", NULL, copy_action);
  gtk_widget_class_install_action (widget_class, "grid.select-all", NULL, select_all_action);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_a, GDK_CONTROL_MASK, select_all_binding, NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_c, GDK_CONTROL_MASK, copy_binding, NULL);
  /* Tab moves along the row, as in a spreadsheet (Ctrl+Tab leaves the grid). */
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Tab, 0, move_cursor, "(xxb)", (gint64) 0, (gint64) 1, FALSE);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_ISO_Left_Tab, GDK_SHIFT_MASK, move_cursor, "(xxb)",
                                (gint64) 0, (gint64) -1, FALSE);

  gtk_widget_class_set_css_name (widget_class, "npv-grid");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GRID);
}

static void
npv_grid_init (NpvGrid *self)
{
  GtkGesture *click = gtk_gesture_click_new ();
  GtkGesture *drag = gtk_gesture_drag_new ();
  GtkEventController *motion_controller = gtk_event_controller_motion_new ();

  self->tiles = g_hash_table_new_full (tile_key_hash, tile_key_equal, NULL,
                                       (GDestroyNotify) tile_entry_free);
  self->leaves = g_array_new (FALSE, FALSE, sizeof (NpvLeaf));
  self->resize_col = -1;
  self->copy_cancellable = g_cancellable_new ();
  self->widths = g_array_new (FALSE, FALSE, sizeof (ColumnWidth));
  self->row_header_nodes = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                                  (GDestroyNotify) gsk_render_node_unref);
  self->column_header_nodes = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                                     (GDestroyNotify) gsk_render_node_unref);
  self->tabular = pango_attr_list_new ();
  pango_attr_list_insert (self->tabular, pango_attr_font_features_new ("tnum"));

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  g_signal_connect (click, "pressed", G_CALLBACK (click_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  g_signal_connect (motion_controller, "motion", G_CALLBACK (motion), self);
  g_signal_connect (motion_controller, "leave", G_CALLBACK (leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion_controller);

  set_adjustment (self, &self->hadjustment, NULL);
  set_adjustment (self, &self->vadjustment, NULL);
  measure (self);
}

GtkWidget *
npv_grid_new (void)
{
  return g_object_new (NPV_TYPE_GRID, NULL);
}
