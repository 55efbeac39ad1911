/* npv-pyramid.c: block reductions of a 2-D plane at every level of detail
 *
 * The plane is walked in lines along its faster axis (the one with the
 * smaller stride), so that a line is one read of contiguous bytes when the
 * plane allows it. Each line is converted to float64 a chunk at a time and
 * reduced run by run, a run being the part of the line inside one block.
 * Threads split a tile by block lines along the slower axis: every cell
 * has one writer, and no lock is taken while reducing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-pyramid"

#include "npv-pyramid.h"

#include <math.h>
#include <string.h>

#include "npv-error.h"
#include "npv-value.h"

#define TILE NPV_PYRAMID_TILE
/* Tiles up to this level are reduced from the data; coarser ones from
 * their children. A level-4 tile is 4096 x 4096 items. */
#define DIRECT_MAX_LEVEL 4
#define CHUNK 4096
#define DEFAULT_BUDGET ((gsize) 256 << 20)

typedef struct
{
  NpvBlocks pub;
  gint ref_count;
  gsize memory;
} Blocks;

typedef struct
{
  guint level;
  gint64 row, col;
} TileKey;

typedef struct
{
  TileKey key;
  Blocks *blocks;
  GList link;          /* in the LRU queue, most recent first */
} CacheEntry;

struct _NpvPyramid
{
  gint ref_count;
  NpvArray *plane;
  NpvPart part;
  gint64 n_rows, n_cols;
  /* Lines run down the columns: the rows are the faster axis. */
  gboolean column_lines;
  gsize budget;

  GMutex lock;
  GHashTable *cache;   /* TileKey -> CacheEntry, owned */
  GQueue lru;
  gsize memory;
};

/* One block's running reduction. */
typedef struct
{
  double min, max, sum, count, nan;
} Cell;

static guint
tile_key_hash (gconstpointer p)
{
  const TileKey *k = p;

  return (guint) (k->level * 2654435761u) ^ (guint) (k->row * 40503) ^
         (guint) (k->row >> 32) ^ (guint) (k->col * 2246822519u) ^ (guint) (k->col >> 32);
}

static gboolean
tile_key_equal (gconstpointer a,
                gconstpointer b)
{
  const TileKey *x = a, *y = b;

  return x->level == y->level && x->row == y->row && x->col == y->col;
}

/* Blocks */

static Blocks *
blocks_new (guint  level,
            gint64 row,
            gint64 col,
            guint  n_rows,
            guint  n_cols)
{
  gsize n = (gsize) n_rows * n_cols;
  Blocks *b;
  double *cells;

  b = g_malloc0 (sizeof (Blocks) + 5 * n * sizeof (double));
  b->ref_count = 1;
  b->memory = sizeof (Blocks) + 5 * n * sizeof (double);
  b->pub.level = level;
  b->pub.row = row;
  b->pub.col = col;
  b->pub.n_rows = n_rows;
  b->pub.n_cols = n_cols;
  b->pub.exact = TRUE;
  cells = (double *) (gpointer) (b + 1);
  b->pub.min = cells;
  b->pub.max = cells + n;
  b->pub.sum = cells + 2 * n;
  b->pub.count = cells + 3 * n;
  b->pub.nan = cells + 4 * n;
  for (gsize i = 0; i < n; i++)
    {
      b->pub.min[i] = INFINITY;
      b->pub.max[i] = -INFINITY;
    }
  return b;
}

NpvBlocks *
npv_blocks_ref (NpvBlocks *blocks)
{
  Blocks *b = (Blocks *) blocks;

  g_atomic_int_inc (&b->ref_count);
  return blocks;
}

void
npv_blocks_unref (NpvBlocks *blocks)
{
  Blocks *b = (Blocks *) blocks;

  if (b != NULL && g_atomic_int_dec_and_test (&b->ref_count))
    g_free (b);
}

double
npv_blocks_get_mean (const NpvBlocks *blocks,
                     guint            r,
                     guint            c)
{
  gsize i = (gsize) r * blocks->n_cols + c;

  return npv_fold_mean (blocks->min[i], blocks->max[i], blocks->sum[i], blocks->count[i]);
}

double
npv_fold_mean (double min,
               double max,
               double sum,
               double count)
{
  /* np.nanmean: infinities win over the finite values, and cancel out */
  if (max == INFINITY && min == -INFINITY)
    return NAN;
  if (max == INFINITY)
    return INFINITY;
  if (min == -INFINITY)
    return -INFINITY;
  return count > 0 ? sum / count : NAN;
}

/* Items to numbers */

typedef union
{
  guint8 bytes[32];
  float c64[2];
  double c128[2];
  long double c256[2];
} ComplexScalar;

static double
complex_part (double   re,
              double   im,
              NpvPart  part)
{
  switch (part)
    {
    case NPV_PART_IMAG:
      return im;
    case NPV_PART_ABS:
      return hypot (re, im);
    case NPV_PART_ANGLE:
      return atan2 (im, re);
    case NPV_PART_VALUE:       /* the magnitude, as for a pyramid */
      return hypot (re, im);
    case NPV_PART_REAL:
    default:
      return re;
    }
}

double
npv_item_to_part (const NpvDType *dtype,
                  NpvPart         part,
                  const guint8   *item)
{
  ComplexScalar s;

  if (dtype->kind != NPV_KIND_COMPLEX)
    return npv_item_to_double (dtype, item);

  npv_item_load_native (dtype, item, s.bytes);
  switch (dtype->itemsize)
    {
    case 8:
      return complex_part (s.c64[0], s.c64[1], part);
    case 16:
      return complex_part (s.c128[0], s.c128[1], part);
    default:
      return complex_part ((double) s.c256[0], (double) s.c256[1], part);
    }
}

/* @n items @stride bytes apart as numbers, with fast paths for native
 * float32 and float64. */
static void
load_values (const NpvDType *dtype,
             NpvPart         part,
             const guint8   *items,
             gint64          stride,
             gsize           n,
             double         *out)
{
  if (dtype->kind == NPV_KIND_FLOAT && !npv_dtype_is_swapped (dtype))
    {
      if (dtype->itemsize == 4 && stride == 4)
        {
          const float *f = (const float *) (gconstpointer) items;

          for (gsize i = 0; i < n; i++)
            out[i] = f[i];
          return;
        }
      if (dtype->itemsize == 8 && stride == 8)
        {
          memcpy (out, items, n * sizeof (double));
          return;
        }
    }
  for (gsize i = 0; i < n; i++)
    out[i] = npv_item_to_part (dtype, part, items + (gint64) i * stride);
}

/* Reductions */

typedef double V2D __attribute__ ((vector_size (16)));
typedef gint64 V2L __attribute__ ((vector_size (16)));

static inline V2D
select_v2d (V2L mask,
            V2D a,
            V2D b)
{
  return (V2D) (((V2L) a & mask) | ((V2L) b & ~mask));
}

/* Folds @n values into @cell. NaN fails every comparison, so it never
 * reaches min or max; only finite values reach the sum. */
static inline void
reduce_run (Cell         *cell,
            const double *v,
            gsize         n)
{
  double mn = cell->min, mx = cell->max, sum = 0.0;
  gint64 finite = 0, nan = 0;
  gsize i = 0;

  if (n >= 4)
    {
      const V2D zero = { 0.0, 0.0 };
      V2D mn0 = { mn, mn }, mn1 = mn0, mx0 = { mx, mx }, mx1 = mx0;
      V2D s0 = zero, s1 = zero;
      V2L f0 = { 0, 0 }, f1 = f0, n0 = f0, n1 = f0;

      for (; i + 4 <= n; i += 4)
        {
          V2D x0, x1;
          V2L fin0, fin1;

          memcpy (&x0, v + i, sizeof x0);
          memcpy (&x1, v + i + 2, sizeof x1);
          fin0 = (x0 - x0) == zero;
          fin1 = (x1 - x1) == zero;
          n0 += x0 != x0;
          n1 += x1 != x1;
          f0 += fin0;
          f1 += fin1;
          mn0 = select_v2d (x0 < mn0, x0, mn0);
          mn1 = select_v2d (x1 < mn1, x1, mn1);
          mx0 = select_v2d (x0 > mx0, x0, mx0);
          mx1 = select_v2d (x1 > mx1, x1, mx1);
          s0 += (V2D) ((V2L) x0 & fin0);
          s1 += (V2D) ((V2L) x1 & fin1);
        }
      /* comparison masks are -1 for true */
      finite = -(f0[0] + f0[1] + f1[0] + f1[1]);
      nan = -(n0[0] + n0[1] + n1[0] + n1[1]);
      mn = MIN (MIN (mn0[0], mn0[1]), MIN (mn1[0], mn1[1]));
      mx = MAX (MAX (mx0[0], mx0[1]), MAX (mx1[0], mx1[1]));
      sum = (s0[0] + s1[0]) + (s0[1] + s1[1]);
    }
  for (; i < n; i++)
    {
      double x = v[i];
      gboolean is_finite = (x - x) == 0.0;

      nan += x != x;
      finite += is_finite;
      mn = x < mn ? x : mn;
      mx = x > mx ? x : mx;
      sum += is_finite ? x : 0.0;
    }
  cell->min = mn;
  cell->max = mx;
  cell->sum += sum;
  cell->count += (double) finite;
  cell->nan += (double) nan;
}

typedef float V4F __attribute__ ((vector_size (16)));
typedef gint32 V4I __attribute__ ((vector_size (16)));

/* reduce_run() for native float32 items side by side, the commonest data
 * of all: four lanes of floats for the extremes and counts, the sum in
 * float64. */
static inline void
reduce_run_f32 (Cell        *cell,
                const float *v,
                gsize        n)
{
  float mnf = cell->min < -G_MAXFLOAT ? -INFINITY : cell->min > G_MAXFLOAT ? INFINITY : (float) cell->min;
  float mxf = cell->max < -G_MAXFLOAT ? -INFINITY : cell->max > G_MAXFLOAT ? INFINITY : (float) cell->max;
  double sum = 0.0;
  gint64 finite = 0, nan = 0;
  gsize i = 0;

  if (n >= 8)
    {
      const V4F zero = { 0, 0, 0, 0 };
      V4F mn0 = { mnf, mnf, mnf, mnf }, mn1 = mn0;
      V4F mx0 = { mxf, mxf, mxf, mxf }, mx1 = mx0;
      V2D s0 = { 0, 0 }, s1 = s0;
      V4I f0 = { 0, 0, 0, 0 }, n0 = f0;

      for (; i + 8 <= n; i += 8)
        {
          V4F x0, x1, y0, y1;
          V4I fin0, fin1;

          memcpy (&x0, v + i, sizeof x0);
          memcpy (&x1, v + i + 4, sizeof x1);
          fin0 = (x0 - x0) == zero;
          fin1 = (x1 - x1) == zero;
          n0 += (x0 != x0) + (x1 != x1);
          f0 += fin0 + fin1;
          mn0 = (V4F) (((V4I) x0 & (x0 < mn0)) | ((V4I) mn0 & ~(x0 < mn0)));
          mn1 = (V4F) (((V4I) x1 & (x1 < mn1)) | ((V4I) mn1 & ~(x1 < mn1)));
          mx0 = (V4F) (((V4I) x0 & (x0 > mx0)) | ((V4I) mx0 & ~(x0 > mx0)));
          mx1 = (V4F) (((V4I) x1 & (x1 > mx1)) | ((V4I) mx1 & ~(x1 > mx1)));
          y0 = (V4F) ((V4I) x0 & fin0);
          y1 = (V4F) ((V4I) x1 & fin1);
          s0 += (V2D) { y0[0], y0[1] } + (V2D) { y1[0], y1[1] };
          s1 += (V2D) { y0[2], y0[3] } + (V2D) { y1[2], y1[3] };
        }
      finite = -(gint64) (f0[0] + f0[1] + f0[2] + f0[3]);
      nan = -(gint64) (n0[0] + n0[1] + n0[2] + n0[3]);
      for (guint k = 0; k < 4; k++)
        {
          mnf = mn0[k] < mnf ? mn0[k] : mnf;
          mnf = mn1[k] < mnf ? mn1[k] : mnf;
          mxf = mx0[k] > mxf ? mx0[k] : mxf;
          mxf = mx1[k] > mxf ? mx1[k] : mxf;
        }
      sum = (s0[0] + s1[0]) + (s0[1] + s1[1]);
    }
  for (; i < n; i++)
    {
      float x = v[i];
      gboolean is_finite = (x - x) == 0.0f;

      nan += x != x;
      finite += is_finite;
      mnf = x < mnf ? x : mnf;
      mxf = x > mxf ? x : mxf;
      sum += is_finite ? (double) x : 0.0;
    }
  cell->min = mnf;
  cell->max = mxf;
  cell->sum += sum;
  cell->count += (double) finite;
  cell->nan += (double) nan;
}

static inline void
cell_load (Cell            *cell,
           const NpvBlocks *b,
           gsize            i)
{
  cell->min = b->min[i];
  cell->max = b->max[i];
  cell->sum = b->sum[i];
  cell->count = b->count[i];
  cell->nan = b->nan[i];
}

static inline void
cell_store (const Cell *cell,
            NpvBlocks  *b,
            gsize       i)
{
  b->min[i] = cell->min;
  b->max[i] = cell->max;
  b->sum[i] = cell->sum;
  b->count[i] = cell->count;
  b->nan[i] = cell->nan;
}

/* The pyramid */

NpvPyramid *
npv_pyramid_new (NpvArray *plane,
                 NpvPart   part,
                 gsize     cache_budget,
                 GError  **error)
{
  NpvPyramid *self;
  gboolean complex;

  g_return_val_if_fail (plane != NULL && plane->ndim == 2, NULL);

  complex = plane->dtype->kind == NPV_KIND_COMPLEX;
  if (!npv_dtype_is_real (plane->dtype) && !complex)
    {
      g_autofree char *name = npv_dtype_get_name (plane->dtype);

      g_set_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED,
                   "a heatmap needs numbers, but the items are %s%s", name,
                   plane->dtype->kind == NPV_KIND_STRUCT ? " (choose a field)" : "");
      return NULL;
    }
  if (complex && part == NPV_PART_VALUE)
    part = NPV_PART_ABS;
  if (!complex)
    part = NPV_PART_VALUE;

  self = g_new0 (NpvPyramid, 1);
  self->ref_count = 1;
  self->plane = npv_array_ref (plane);
  self->part = part;
  self->n_rows = plane->shape[0];
  self->n_cols = plane->shape[1];
  self->column_lines = ABS (plane->strides[0]) < ABS (plane->strides[1]);
  self->budget = cache_budget > 0 ? cache_budget : DEFAULT_BUDGET;
  g_mutex_init (&self->lock);
  self->cache = g_hash_table_new (tile_key_hash, tile_key_equal);
  g_queue_init (&self->lru);
  return self;
}

NpvPyramid *
npv_pyramid_ref (NpvPyramid *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

static void
cache_entry_free (CacheEntry *entry)
{
  npv_blocks_unref (&entry->blocks->pub);
  g_free (entry);
}

void
npv_pyramid_unref (NpvPyramid *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  while (!g_queue_is_empty (&self->lru))
    {
      GList *link = g_queue_pop_head_link (&self->lru);

      cache_entry_free (link->data);
    }
  g_hash_table_unref (self->cache);
  g_mutex_clear (&self->lock);
  npv_array_unref (self->plane);
  g_free (self);
}

NpvArray *
npv_pyramid_get_plane (NpvPyramid *self)
{
  return self->plane;
}

NpvPart
npv_pyramid_get_part (NpvPyramid *self)
{
  return self->part;
}

static gint64
blocks_along (gint64 items,
              guint  level)
{
  if (level >= 62)
    return items > 0 ? 1 : 0;
  return (items + ((gint64) 1 << level) - 1) >> level;
}

gint64
npv_pyramid_get_n_rows (NpvPyramid *self,
                        guint       level)
{
  return blocks_along (self->n_rows, level);
}

gint64
npv_pyramid_get_n_cols (NpvPyramid *self,
                        guint       level)
{
  return blocks_along (self->n_cols, level);
}

guint
npv_pyramid_get_top_level (NpvPyramid *self)
{
  guint level = 0;

  while (blocks_along (self->n_rows, level) > 1 || blocks_along (self->n_cols, level) > 1)
    level++;
  return level;
}

gsize
npv_pyramid_get_memory (NpvPyramid *self)
{
  gsize memory;

  g_mutex_lock (&self->lock);
  memory = self->memory;
  g_mutex_unlock (&self->lock);
  return memory;
}

/* Cache */

NpvBlocks *
npv_pyramid_peek_tile (NpvPyramid *self,
                       guint       level,
                       gint64      tile_row,
                       gint64      tile_col)
{
  TileKey key = { level, tile_row, tile_col };
  CacheEntry *entry;
  NpvBlocks *blocks = NULL;

  g_mutex_lock (&self->lock);
  entry = g_hash_table_lookup (self->cache, &key);
  if (entry != NULL)
    {
      g_queue_unlink (&self->lru, &entry->link);
      g_queue_push_head_link (&self->lru, &entry->link);
      blocks = npv_blocks_ref (&entry->blocks->pub);
    }
  g_mutex_unlock (&self->lock);
  return blocks;
}

static void
cache_insert (NpvPyramid *self,
              Blocks     *blocks)
{
  CacheEntry *entry = g_new0 (CacheEntry, 1);

  entry->key.level = blocks->pub.level;
  entry->key.row = blocks->pub.row / TILE;
  entry->key.col = blocks->pub.col / TILE;
  entry->blocks = (Blocks *) npv_blocks_ref (&blocks->pub);
  entry->link.data = entry;

  g_mutex_lock (&self->lock);
  if (g_hash_table_contains (self->cache, &entry->key))
    {
      /* Made twice by two threads at once: keep the first. */
      g_mutex_unlock (&self->lock);
      cache_entry_free (entry);
      return;
    }
  g_hash_table_add (self->cache, entry);
  g_queue_push_head_link (&self->lru, &entry->link);
  self->memory += blocks->memory;
  while (self->memory > self->budget && self->lru.length > 1)
    {
      GList *link = g_queue_pop_tail_link (&self->lru);
      CacheEntry *old = link->data;

      g_hash_table_remove (self->cache, &old->key);
      self->memory -= old->blocks->memory;
      cache_entry_free (old);
    }
  g_mutex_unlock (&self->lock);
}

/* Reading the data */

typedef struct
{
  NpvPyramid *pyramid;
  Blocks *blocks;
  guint level;
  gboolean sample;       /* one line per block */
  /* outer blocks [first, first + n) of the tile, counted in the tile */
  guint first, n;
  GCancellable *cancellable;
  GError *error;
} Job;

/* Reduces one line: outer item @outer, inner items [inner0, inner1),
 * into the cells of outer block @ob (counted in the tile). */
static gboolean
reduce_line (Job          *job,
             NpvRowReader *reader,
             double       *values,
             gint64        outer,
             gint64        inner0,
             gint64        inner1,
             guint         ob)
{
  NpvPyramid *self = job->pyramid;
  NpvArray *plane = self->plane;
  NpvBlocks *b = &job->blocks->pub;
  guint level = job->level;
  gint64 outer_stride = self->column_lines ? plane->strides[1] : plane->strides[0];
  gint64 inner_stride = self->column_lines ? plane->strides[0] : plane->strides[1];
  gint64 offset = plane->offset + outer * outer_stride + inner0 * inner_stride;
  gint64 len = inner1 - inner0;
  gint64 pos = inner0;
  gboolean fast_f32 = plane->dtype->kind == NPV_KIND_FLOAT && plane->dtype->itemsize == 4 &&
                      !npv_dtype_is_swapped (plane->dtype);

  while (len > 0)
    {
      const guint8 *items;
      gint64 items_stride, n;

      if (!npv_row_reader_fetch (reader, offset, len, inner_stride, &items, &items_stride, &n,
                                 &job->error))
        return FALSE;
      offset += n * inner_stride;
      len -= n;

      if (fast_f32 && items_stride == 4 && level > 0)
        {
          const float *f = (const float *) (gconstpointer) items;

          while (n > 0)
            {
              gint64 block = pos >> level;
              gint64 end = MIN ((block + 1) << level, pos + n);
              guint ib = (guint) (block - (self->column_lines ? b->row : b->col));
              gsize cell = self->column_lines ? (gsize) ib * b->n_cols + ob
                                              : (gsize) ob * b->n_cols + ib;
              Cell acc;

              cell_load (&acc, b, cell);
              reduce_run_f32 (&acc, f, end - pos);
              cell_store (&acc, b, cell);
              f += end - pos;
              n -= end - pos;
              pos = end;
            }
        }

      while (n > 0)
        {
          gsize k = MIN (n, CHUNK);
          gsize done = 0;

          load_values (plane->dtype, self->part, items, items_stride, k, values);
          items += (gint64) k * items_stride;
          n -= k;

          /* level 0: every item is a block of its own */
          if (level == 0)
            {
              guint ib = (guint) (pos - (self->column_lines ? b->row : b->col));
              gsize cell = self->column_lines ? (gsize) ib * b->n_cols + ob
                                              : (gsize) ob * b->n_cols + ib;
              gsize step = self->column_lines ? b->n_cols : 1;

              for (gsize j = 0; j < k; j++, cell += step)
                {
                  double x = values[j];
                  gboolean is_nan = x != x;
                  gboolean is_finite = (x - x) == 0.0;

                  b->min[cell] = is_nan ? INFINITY : x;
                  b->max[cell] = is_nan ? -INFINITY : x;
                  b->sum[cell] = is_finite ? x : 0.0;
                  b->count[cell] = is_finite;
                  b->nan[cell] = is_nan;
                }
              pos += k;
              continue;
            }

          /* runs: the parts of the chunk inside one block each */
          while (done < k)
            {
              gint64 block = pos >> level;
              gint64 end = MIN ((block + 1) << level, pos + (gint64) (k - done));
              guint ib = (guint) (block - (self->column_lines ? b->row : b->col));
              gsize cell = self->column_lines ? (gsize) ib * b->n_cols + ob
                                              : (gsize) ob * b->n_cols + ib;
              Cell acc;

              cell_load (&acc, b, cell);
              reduce_run (&acc, values + done, end - pos);
              cell_store (&acc, b, cell);
              done += end - pos;
              pos = end;
            }
        }
    }
  return TRUE;
}

static gpointer
run_job (gpointer data)
{
  Job *job = data;
  NpvPyramid *self = job->pyramid;
  NpvBlocks *b = &job->blocks->pub;
  guint level = job->level;
  gint64 n_outer = self->column_lines ? self->n_cols : self->n_rows;
  gint64 n_inner = self->column_lines ? self->n_rows : self->n_cols;
  gint64 outer_block0 = self->column_lines ? b->col : b->row;
  gint64 inner_block0 = self->column_lines ? b->row : b->col;
  guint inner_blocks = self->column_lines ? b->n_rows : b->n_cols;
  gint64 inner0 = inner_block0 << level;
  gint64 inner1 = MIN (n_inner, (inner_block0 + inner_blocks) << level);
  g_autofree double *values = g_new (double, CHUNK);
  NpvRowReader reader;

  npv_row_reader_init (&reader, self->plane, 4 << 20);
  for (guint ob = job->first; ob < job->first + job->n; ob++)
    {
      gint64 o0 = (outer_block0 + ob) << level;
      gint64 o1 = MIN (n_outer, (outer_block0 + ob + 1) << level);

      if (job->sample)
        o0 = o0 + (o1 - o0 - 1) / 2, o1 = o0 + 1;
      for (gint64 o = o0; o < o1; o++)
        {
          if (g_cancellable_is_cancelled (job->cancellable))
            goto out;
          if (!reduce_line (job, &reader, values, o, inner0, inner1, ob))
            goto out;
        }
    }
out:
  npv_row_reader_clear (&reader);
  return NULL;
}

/* Reduces the tile's items with @n_threads threads splitting its outer
 * blocks. */
static Blocks *
compute_from_data (NpvPyramid   *self,
                   guint         level,
                   gint64        tile_row,
                   gint64        tile_col,
                   gboolean      sample,
                   guint         n_threads,
                   GCancellable *cancellable,
                   GError      **error)
{
  gint64 row = tile_row * TILE, col = tile_col * TILE;
  guint n_rows = (guint) MIN (TILE, npv_pyramid_get_n_rows (self, level) - row);
  guint n_cols = (guint) MIN (TILE, npv_pyramid_get_n_cols (self, level) - col);
  guint outer_blocks = self->column_lines ? n_cols : n_rows;
  g_autofree Job *jobs = NULL;
  g_autofree GThread **threads = NULL;
  Blocks *blocks;
  gint64 items;

  blocks = blocks_new (level, row, col, n_rows, n_cols);
  blocks->pub.exact = !sample || level == 0;

  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  /* Small tiles are not worth a thread. */
  items = (gint64) n_rows * n_cols << (sample ? level : 2 * level);
  if (items < 1 << 18)
    n_threads = 1;
  n_threads = MAX (1, MIN (n_threads, outer_blocks));

  jobs = g_new0 (Job, n_threads);
  threads = g_new0 (GThread *, n_threads);
  for (guint t = 0; t < n_threads; t++)
    {
      jobs[t].pyramid = self;
      jobs[t].blocks = blocks;
      jobs[t].level = level;
      jobs[t].sample = sample;
      jobs[t].first = outer_blocks * t / n_threads;
      jobs[t].n = outer_blocks * (t + 1) / n_threads - jobs[t].first;
      jobs[t].cancellable = cancellable;
    }
  for (guint t = 1; t < n_threads; t++)
    threads[t] = g_thread_new ("npv-pyramid", run_job, &jobs[t]);
  run_job (&jobs[0]);
  for (guint t = 1; t < n_threads; t++)
    g_thread_join (threads[t]);

  for (guint t = 0; t < n_threads; t++)
    if (jobs[t].error != NULL)
      {
        g_propagate_error (error, g_steal_pointer (&jobs[t].error));
        for (guint u = t + 1; u < n_threads; u++)
          g_clear_error (&jobs[u].error);
        npv_blocks_unref (&blocks->pub);
        return NULL;
      }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      npv_blocks_unref (&blocks->pub);
      return NULL;
    }
  return blocks;
}

/* Combines the four children (fewer at the edges) of a tile. */
static Blocks *
compute_from_children (NpvPyramid   *self,
                       guint         level,
                       gint64        tile_row,
                       gint64        tile_col,
                       guint         n_threads,
                       GCancellable *cancellable,
                       GError      **error)
{
  gint64 row = tile_row * TILE, col = tile_col * TILE;
  guint n_rows = (guint) MIN (TILE, npv_pyramid_get_n_rows (self, level) - row);
  guint n_cols = (guint) MIN (TILE, npv_pyramid_get_n_cols (self, level) - col);
  gint64 child_tiles_rows = (npv_pyramid_get_n_rows (self, level - 1) + TILE - 1) / TILE;
  gint64 child_tiles_cols = (npv_pyramid_get_n_cols (self, level - 1) + TILE - 1) / TILE;
  Blocks *blocks = blocks_new (level, row, col, n_rows, n_cols);
  NpvBlocks *b = &blocks->pub;

  for (guint a = 0; a < 2; a++)
    for (guint c = 0; c < 2; c++)
      {
        gint64 ctr = 2 * tile_row + a, ctc = 2 * tile_col + c;
        g_autoptr (NpvBlocks) child = NULL;

        if (ctr >= child_tiles_rows || ctc >= child_tiles_cols)
          continue;
        child = npv_pyramid_get_tile (self, level - 1, ctr, ctc, n_threads, cancellable, error);
        if (child == NULL)
          {
            npv_blocks_unref (b);
            return NULL;
          }
        for (guint i = 0; i < child->n_rows; i++)
          {
            guint pr = (guint) ((child->row + i) / 2 - row);

            for (guint j = 0; j < child->n_cols; j++)
              {
                guint pc = (guint) ((child->col + j) / 2 - col);
                gsize from = (gsize) i * child->n_cols + j;
                gsize to = (gsize) pr * n_cols + pc;

                b->min[to] = MIN (b->min[to], child->min[from]);
                b->max[to] = MAX (b->max[to], child->max[from]);
                b->sum[to] += child->sum[from];
                b->count[to] += child->count[from];
                b->nan[to] += child->nan[from];
              }
          }
      }
  return blocks;
}

static gboolean
check_tile (NpvPyramid *self,
            guint       level,
            gint64      tile_row,
            gint64      tile_col,
            GError    **error)
{
  if (level >= 62 || tile_row < 0 || tile_col < 0 ||
      tile_row * TILE >= npv_pyramid_get_n_rows (self, level) ||
      tile_col * TILE >= npv_pyramid_get_n_cols (self, level))
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "no tile (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") at level %u of a "
                   "%" G_GINT64_FORMAT " x %" G_GINT64_FORMAT " plane",
                   tile_row, tile_col, level, self->n_rows, self->n_cols);
      return FALSE;
    }
  return TRUE;
}

NpvBlocks *
npv_pyramid_get_tile (NpvPyramid   *self,
                      guint         level,
                      gint64        tile_row,
                      gint64        tile_col,
                      guint         n_threads,
                      GCancellable *cancellable,
                      GError      **error)
{
  NpvBlocks *cached;
  Blocks *blocks;

  if (!check_tile (self, level, tile_row, tile_col, error))
    return NULL;
  cached = npv_pyramid_peek_tile (self, level, tile_row, tile_col);
  if (cached != NULL)
    return cached;

  if (level <= DIRECT_MAX_LEVEL)
    blocks = compute_from_data (self, level, tile_row, tile_col, FALSE, n_threads, cancellable,
                                error);
  else
    blocks = compute_from_children (self, level, tile_row, tile_col, n_threads, cancellable,
                                    error);
  if (blocks == NULL)
    return NULL;
  cache_insert (self, blocks);
  return &blocks->pub;
}

NpvBlocks *
npv_pyramid_sample_tile (NpvPyramid   *self,
                         guint         level,
                         gint64        tile_row,
                         gint64        tile_col,
                         GCancellable *cancellable,
                         GError      **error)
{
  Blocks *blocks;

  if (!check_tile (self, level, tile_row, tile_col, error))
    return NULL;
  blocks = compute_from_data (self, level, tile_row, tile_col, TRUE, 0, cancellable, error);
  return blocks != NULL ? &blocks->pub : NULL;
}
