/* npv-print.c: an array as numpy's print() lays it out
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-print"

#include "npv-print.h"

#include <string.h>

#include "npv-literal.h"
#include "npv-pyobject.h"
#include "npv-value.h"

typedef struct
{
  const NpvArray *array;
  const NpvPrintOptions *options;
  gboolean summarise;
  guint width;
  GString *scratch;
  GString *out;
  guint8 *item_buffer;
  GError *error;
} Printer;

static const NpvPyObject *
object_at (const NpvDType *dtype,
           const guint8   *item)
{
  gint64 index;

  memcpy (&index, item, sizeof index);
  if (index < 0 || (guint64) index >= dtype->objects->len)
    return NULL;
  return g_ptr_array_index (dtype->objects, index);
}

static void
item_text (Printer *pr,
           gint64   offset)
{
  const NpvDType *dtype = pr->array->dtype;
  const guint8 *item;

  g_string_truncate (pr->scratch, 0);
  if (pr->error != NULL)
    return;
  item = npv_array_peek (pr->array, offset, pr->item_buffer, &pr->error);
  if (item == NULL)
    return;
  if (dtype->kind == NPV_KIND_OBJECT && dtype->objects != NULL)
    {
      const NpvPyObject *obj = object_at (dtype, item);

      /* numpy marks lists, so that they cannot pass for an axis; a 0-d
       * array prints its element's str(). */
      if (obj != NULL && npv_py_object_get_kind (obj) == NPV_PY_LIST && pr->array->ndim > 0)
        {
          g_string_append (pr->scratch, "list(");
          npv_py_object_append_repr (pr->scratch, obj, 4096);
          g_string_append_c (pr->scratch, ')');
          return;
        }
      if (obj != NULL && npv_py_object_get_kind (obj) == NPV_PY_STR && pr->array->ndim == 0)
        {
          gsize len;
          const char *text = npv_py_object_get_str (obj, &len);

          g_string_append_len (pr->scratch, text, len);
          return;
        }
    }
  if (dtype->kind == NPV_KIND_UNICODE)
    {
      g_autoptr(GString) text = g_string_new (NULL);

      npv_append_item_text (text, dtype, item);
      npv_append_python_str_repr (pr->scratch, text->str, text->len);
    }
  else
    npv_append_item_text (pr->scratch, dtype, item);
}

/* Indices shown along an axis of length @n: all, or the edges. */
static gboolean
skip_to (Printer *pr,
         gint64   n,
         gint64  *i)
{
  gint64 edge = pr->options->edge_items;

  if (pr->summarise && n > 2 * edge && *i == edge)
    {
      *i = n - edge;
      return TRUE;
    }
  return FALSE;
}

static void
measure (Printer *pr,
         guint    axis,
         gint64   ptr)
{
  const NpvArray *a = pr->array;

  if (axis == a->ndim)
    {
      item_text (pr, ptr);
      /* numpy does not line up the elements of object arrays. */
      if (a->dtype->kind == NPV_KIND_OBJECT)
        return;
      pr->width = MAX (pr->width, g_utf8_strlen (pr->scratch->str, -1));
      return;
    }
  for (gint64 i = 0; i < a->shape[axis]; i++)
    {
      skip_to (pr, a->shape[axis], &i);
      measure (pr, axis + 1, ptr + i * a->strides[axis]);
    }
}

static void
pad_item (Printer *pr)
{
  guint len = g_utf8_strlen (pr->scratch->str, -1);

  for (guint k = len; k < pr->width; k++)
    g_string_append_c (pr->out, ' ');
  g_string_append (pr->out, pr->scratch->str);
}

static void
print_axis (Printer *pr,
            guint    axis,
            gint64   ptr)
{
  const NpvArray *a = pr->array;
  gint64 n = a->shape[axis];
  gboolean last = axis + 1 == a->ndim;
  gsize line_start;

  g_string_append_c (pr->out, '[');
  line_start = pr->out->len - axis - 1;

  for (gint64 i = 0; i < n; i++)
    {
      if (skip_to (pr, n, &i))
        {
          if (last)
            g_string_append (pr->out, " ...");
          else
            {
              g_string_append (pr->out, "\n");
              for (guint k = 0; k <= axis; k++)
                g_string_append_c (pr->out, ' ');
              g_string_append (pr->out, "...");
            }
        }

      if (last)
        {
          item_text (pr, ptr + i * a->strides[axis]);
          if (i > 0 || (pr->summarise && n > 2 * pr->options->edge_items && i > 0))
            {
              /* Wrap before the item when it would pass the line width. */
              if (pr->out->len - line_start + 1 + (a->dtype->kind == NPV_KIND_OBJECT
                                                     ? g_utf8_strlen (pr->scratch->str, -1)
                                                     : pr->width) + 1 >
                  pr->options->line_width)
                {
                  g_string_append_c (pr->out, '\n');
                  line_start = pr->out->len;
                  for (guint k = 0; k <= axis; k++)
                    g_string_append_c (pr->out, ' ');
                }
              else
                g_string_append_c (pr->out, ' ');
            }
          pad_item (pr);
        }
      else
        {
          if (i > 0)
            {
              for (guint k = axis + 2; k < a->ndim + 1; k++)
                g_string_append_c (pr->out, '\n');
              for (guint k = 0; k <= axis; k++)
                g_string_append_c (pr->out, ' ');
            }
          print_axis (pr, axis + 1, ptr + i * a->strides[axis]);
        }
    }
  g_string_append_c (pr->out, ']');
}

gboolean
npv_array_print (GString               *out,
                 const NpvArray        *array,
                 const NpvPrintOptions *options,
                 GError               **error)
{
  g_autoptr(GString) scratch = g_string_new (NULL);
  g_autofree guint8 *item_buffer = g_malloc (MAX (array->dtype->itemsize, 1));
  Printer pr = { array, options, (guint64) array->count > options->threshold, 0, scratch, out,
                 item_buffer, NULL };

  if (array->ndim == 0)
    {
      item_text (&pr, array->offset);
      g_string_append (out, scratch->str);
    }
  else if (array->count == 0)
    {
      for (guint k = 0; k < array->ndim; k++)
        g_string_append_c (out, '[');
      for (guint k = 0; k < array->ndim; k++)
        g_string_append_c (out, ']');
    }
  else
    {
      measure (&pr, 0, array->offset);
      print_axis (&pr, 0, array->offset);
    }

  if (pr.error != NULL)
    {
      g_propagate_error (error, pr.error);
      return FALSE;
    }
  return TRUE;
}
