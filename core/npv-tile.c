/* npv-tile.c: the text of a block of cells of a plane, made on a worker
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-tile"

#include "config.h"

#include "npv-tile.h"

#include <math.h>
#include <stdio.h>

#include "npv-value.h"

struct _NpvTile
{
  guint n_rows, n_cols;
  GString *text;           /* every cell's text, each NUL-terminated */
  guint32 *starts;         /* n_rows * n_cols offsets into text */
  double *numbers;         /* n_rows * n_cols */
};

static void
tile_clear (gpointer data)
{
  NpvTile *tile = data;

  g_string_free (tile->text, TRUE);
  g_free (tile->starts);
  g_free (tile->numbers);
}

NpvTile *
npv_tile_ref (NpvTile *tile)
{
  return g_atomic_rc_box_acquire (tile);
}

void
npv_tile_unref (NpvTile *tile)
{
  g_atomic_rc_box_release_full (tile, tile_clear);
}

gint64
npv_grid_n_columns (const NpvArray *plane,
                    GArray         *leaves)
{
  return plane->shape[1] * MAX (leaves->len, 1);
}

void
npv_append_number_text (GString               *out,
                        const NpvDType        *dtype,
                        const guint8          *item,
                        const NpvNumberFormat *format)
{
  if (format != NULL && format->style != NPV_NUMBER_AUTO && dtype->kind == NPV_KIND_FLOAT)
    {
      double v = npv_item_to_double (dtype, item);

      if (isfinite (v))
        {
          g_string_append_printf (out, format->style == NPV_NUMBER_FIXED ? "%.*f" : "%.*e",
                                  (int) MIN (format->decimals, 30), v);
          return;
        }
    }
  npv_append_item_text (out, dtype, item);
}

NpvTile *
npv_tile_compute (NpvArray              *plane,
                  GArray                *leaves,
                  gint64                 row,
                  gint64                 col,
                  guint                  n_rows,
                  guint                  n_cols,
                  const NpvNumberFormat *format,
                  GCancellable          *cancellable,
                  GError               **error)
{
  guint n_leaves = MAX (leaves->len, 1);
  gint64 total_cols = npv_grid_n_columns (plane, leaves);
  g_autofree guint8 *scratch = g_malloc (MAX (plane->dtype->itemsize, 1));
  NpvTile *tile;

  g_return_val_if_fail (plane->ndim == 2, NULL);

  tile = g_atomic_rc_box_new0 (NpvTile);
  tile->n_rows = (guint) CLAMP (plane->shape[0] - row, 0, (gint64) n_rows);
  tile->n_cols = (guint) CLAMP (total_cols - col, 0, (gint64) n_cols);
  tile->text = g_string_sized_new ((gsize) tile->n_rows * tile->n_cols * 8);
  tile->starts = g_new (guint32, (gsize) tile->n_rows * tile->n_cols + 1);
  tile->numbers = g_new (double, (gsize) tile->n_rows * tile->n_cols + 1);

  for (guint r = 0; r < tile->n_rows; r++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          npv_tile_unref (tile);
          return NULL;
        }
      for (guint c = 0; c < tile->n_cols; c++)
        {
          gint64 g = col + c;
          gint64 j = g / n_leaves;
          const NpvLeaf *leaf = leaves->len > 0 ? &g_array_index (leaves, NpvLeaf, g % n_leaves) : NULL;
          const NpvDType *dtype = leaf != NULL ? leaf->dtype : plane->dtype;
          gint64 offset = plane->offset + (row + r) * plane->strides[0] + j * plane->strides[1];
          const guint8 *item = npv_array_peek (plane, offset, scratch, error);
          gsize k = (gsize) r * tile->n_cols + c;

          if (item == NULL)
            {
              npv_tile_unref (tile);
              return NULL;
            }
          if (leaf != NULL)
            item += leaf->offset;
          /* Text past 4 GiB in one tile cannot happen: cells are short. */
          tile->starts[k] = (guint32) tile->text->len;
          npv_append_number_text (tile->text, dtype, item, format);
          g_string_append_c (tile->text, '\0');
          tile->numbers[k] = npv_dtype_is_real (dtype) ? npv_item_to_double (dtype, item) : NAN;
        }
    }
  return tile;
}

guint
npv_tile_get_n_rows (NpvTile *tile)
{
  return tile->n_rows;
}

guint
npv_tile_get_n_cols (NpvTile *tile)
{
  return tile->n_cols;
}

const char *
npv_tile_get_text (NpvTile *tile,
                   guint    r,
                   guint    c)
{
  g_return_val_if_fail (r < tile->n_rows && c < tile->n_cols, "");
  return tile->text->str + tile->starts[(gsize) r * tile->n_cols + c];
}

double
npv_tile_get_number (NpvTile *tile,
                     guint    r,
                     guint    c)
{
  g_return_val_if_fail (r < tile->n_rows && c < tile->n_cols, NAN);
  return tile->numbers[(gsize) r * tile->n_cols + c];
}

gsize
npv_tile_get_memory (NpvTile *tile)
{
  return sizeof *tile + tile->text->allocated_len +
         ((gsize) tile->n_rows * tile->n_cols + 1) * (sizeof (guint32) + sizeof (double));
}
