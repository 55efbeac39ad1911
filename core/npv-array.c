/* npv-array.c: strided views, fields and numpy basic indexing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-array"

#include "npv-array.h"

#include <string.h>

#include "npv-error.h"
#include "npv-literal.h"

static void
array_clear (gpointer data)
{
  NpvArray *array = data;

  npv_source_unref (array->source);
  npv_dtype_unref (array->dtype);
}

static NpvArray *
array_copy (const NpvArray *array)
{
  NpvArray *copy = g_atomic_rc_box_new0 (NpvArray);

  *copy = *array;
  npv_source_ref (copy->source);
  npv_dtype_ref (copy->dtype);
  return copy;
}

static void
update_count (NpvArray *array)
{
  array->count = 1;
  for (guint i = 0; i < array->ndim; i++)
    array->count *= array->shape[i];
}

/* Appends the dimensions of subarray dtypes (nested ones too). */
static void
expand_subarray (NpvArray *array)
{
  while (array->dtype->kind == NPV_KIND_SUBARRAY &&
         array->ndim + array->dtype->sub_ndim <= NPV_MAX_DIMS)
    {
      NpvDType *sub = array->dtype;
      gint64 stride = sub->base->itemsize;

      for (gint i = sub->sub_ndim - 1; i >= 0; i--)
        {
          array->shape[array->ndim + i] = sub->sub_shape[i];
          array->strides[array->ndim + i] = stride;
          stride *= sub->sub_shape[i];
        }
      array->ndim += sub->sub_ndim;
      array->dtype = npv_dtype_ref (sub->base);
      npv_dtype_unref (sub);
    }
  update_count (array);
}

NpvArray *
npv_array_new (NpvSource    *source,
               NpvDType     *dtype,
               guint64       offset,
               guint         ndim,
               const gint64 *shape,
               gboolean      fortran_order)
{
  NpvArray *array = g_atomic_rc_box_new0 (NpvArray);
  gint64 stride = dtype->itemsize;

  g_return_val_if_fail (ndim <= NPV_MAX_DIMS, NULL);

  array->source = npv_source_ref (source);
  array->dtype = npv_dtype_ref (dtype);
  array->offset = offset;
  array->ndim = ndim;
  memcpy (array->shape, shape, ndim * sizeof (gint64));

  /* The header checked that count * itemsize fits, so strides do too. */
  if (fortran_order)
    for (guint i = 0; i < ndim; i++)
      {
        array->strides[i] = stride;
        stride *= shape[i] > 0 ? shape[i] : 1;
      }
  else
    for (gint i = (gint) ndim - 1; i >= 0; i--)
      {
        array->strides[i] = stride;
        stride *= shape[i] > 0 ? shape[i] : 1;
      }

  expand_subarray (array);
  return array;
}

NpvArray *
npv_array_ref (NpvArray *array)
{
  return g_atomic_rc_box_acquire (array);
}

void
npv_array_unref (NpvArray *array)
{
  g_atomic_rc_box_release_full (array, array_clear);
}

const guint8 *
npv_array_peek (const NpvArray  *array,
                gint64           offset,
                guint8          *scratch,
                GError         **error)
{
  const guint8 *data = npv_source_get_data (array->source);

  /* A file is read, not touched through its mapping: if another program
   * cuts it short meanwhile, that is an error here, not SIGBUS. */
  if (data != NULL && npv_source_get_fd (array->source) < 0)
    return data + offset;
  if (!npv_source_read (array->source, offset, scratch, array->dtype->itemsize, error))
    return NULL;
  return scratch;
}

/* numpy's flags with relaxed strides: axes of length 1 do not count, and
 * an empty array is contiguous both ways. */
gboolean
npv_array_is_c_contiguous (const NpvArray *array)
{
  gint64 expected = array->dtype->itemsize;

  if (array->count == 0)
    return TRUE;
  for (gint i = (gint) array->ndim - 1; i >= 0; i--)
    {
      if (array->shape[i] == 1)
        continue;
      if (array->strides[i] != expected)
        return FALSE;
      expected *= array->shape[i];
    }
  return TRUE;
}

gboolean
npv_array_is_f_contiguous (const NpvArray *array)
{
  gint64 expected = array->dtype->itemsize;

  if (array->count == 0)
    return TRUE;
  for (guint i = 0; i < array->ndim; i++)
    {
      if (array->shape[i] == 1)
        continue;
      if (array->strides[i] != expected)
        return FALSE;
      expected *= array->shape[i];
    }
  return TRUE;
}

static void
append_field_names (GString        *out,
                    const NpvDType *dtype)
{
  for (guint i = 0; i < dtype->n_fields; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      g_string_append (out, dtype->fields[i].name);
    }
}

/* The longest leading part of @path naming a field of @dtype: a name may
 * itself contain dots, and the whole wins over a split. */
static const NpvField *
match_field (const NpvDType  *dtype,
             const char      *path,
             const char     **rest)
{
  const char *end = path + strlen (path);

  for (;;)
    {
      const NpvField *field = npv_dtype_find_field (dtype, path, end - path);

      /* "a." names nothing: a dot must be followed by a name. */
      if (field != NULL && !(*end == '.' && end[1] == '\0'))
        {
          *rest = *end == '.' ? end + 1 : end;
          return field;
        }
      if (end == path)
        return NULL;
      do
        end--;
      while (end > path && *end != '.');
      if (*end != '.')
        return NULL;
    }
}

NpvArray *
npv_array_select_field (NpvArray    *array,
                        const char  *path,
                        GError     **error)
{
  g_autoptr(NpvArray) view = npv_array_ref (array);
  const char *p = path;

  /* One step per field name: array['a']['b'], where 'a' may be a subarray
   * of records that adds its dimensions before 'b' is taken. */
  while (*p != '\0' || view == array)
    {
      const NpvField *field;
      NpvArray *next;
      const char *rest;

      if (view->dtype->kind != NPV_KIND_STRUCT)
        {
          g_autofree char *name = npv_dtype_get_name (view->dtype);

          g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                       "no field “%s”: the items are %s, not records", path, name);
          return NULL;
        }
      field = match_field (view->dtype, p, &rest);
      if (field == NULL)
        {
          g_autoptr(GString) names = g_string_new (NULL);

          append_field_names (names, view->dtype);
          g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                       "no field “%s” in the record (its fields: %s)", p, names->str);
          return NULL;
        }
      if (field->dtype->kind == NPV_KIND_SUBARRAY &&
          view->ndim + field->dtype->sub_ndim > NPV_MAX_DIMS)
        {
          g_set_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED,
                       "field “%s” would give more than %d dimensions", path, NPV_MAX_DIMS);
          return NULL;
        }

      next = array_copy (view);
      npv_dtype_unref (next->dtype);
      next->dtype = npv_dtype_ref (field->dtype);
      next->offset += field->offset;
      expand_subarray (next);
      npv_array_unref (view);
      view = next;
      p = rest;
    }

  return g_steal_pointer (&view);
}

/* ---------------------------------------------------------------------- */
/* Index expressions                                                       */

typedef struct
{
  const char *start;
  const char *pos;
  GError **error;
} IndexParser;

static void
skip_ws (IndexParser *p)
{
  while (*p->pos == ' ' || *p->pos == '\t')
    p->pos++;
}

G_GNUC_PRINTF (2, 3)
static gboolean
index_fail (IndexParser *p,
            const char  *format,
            ...)
{
  g_autofree char *why = NULL;
  va_list args;
  g_autofree char *shown = g_utf8_make_valid (p->start, -1);

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (p->error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
               "invalid index “%s”: %s at character %d", shown, why,
               (int) (p->pos - p->start) + 1);
  return FALSE;
}

/* An optional signed integer; *present tells whether there was one. */
static gboolean
parse_int (IndexParser *p,
           gint64      *value,
           gboolean    *present)
{
  gboolean negative = FALSE;
  guint64 magnitude = 0;
  const char *digits;

  skip_ws (p);
  *present = FALSE;
  if (*p->pos == '-' || *p->pos == '+')
    {
      negative = *p->pos == '-';
      p->pos++;
      skip_ws (p);
      if (!g_ascii_isdigit (*p->pos))
        return index_fail (p, "expected a number");
    }
  digits = p->pos;
  while (g_ascii_isdigit (*p->pos) || (*p->pos == '_' && p->pos > digits))
    {
      if (*p->pos != '_')
        {
          magnitude = magnitude * 10 + (*p->pos - '0');
          if (magnitude > (guint64) G_MAXINT64)
            return index_fail (p, "the number is too large");
        }
      p->pos++;
    }
  if (p->pos == digits)
    return TRUE;
  *present = TRUE;
  *value = negative ? -(gint64) magnitude : (gint64) magnitude;
  return TRUE;
}

gboolean
npv_index_parse (const char  *text,
                 NpvIndex    *index,
                 GError     **error)
{
  IndexParser p = { text, text, error };
  gboolean ellipsis = FALSE;

  memset (index, 0, sizeof *index);
  skip_ws (&p);
  if (*p.pos == '[')
    return index_fail (&p, "write the index without brackets, as it stands between a[ and ] "
                       "(a list such as [1] would be numpy’s fancy indexing, which is not supported)");

  for (;;)
    {
      NpvIndexItem item = { 0, };
      gboolean present;

      skip_ws (&p);
      if (*p.pos == '\0')
        break;  /* empty, or a trailing comma as in a[3,] */

      if (index->n_items == G_N_ELEMENTS (index->items))
        return index_fail (&p, "more than %d entries", (int) G_N_ELEMENTS (index->items));

      if (strncmp (p.pos, "...", 3) == 0 || g_str_has_prefix (p.pos, "Ellipsis"))
        {
          if (ellipsis)
            return index_fail (&p, "an index can only have a single ellipsis ('...')");
          ellipsis = TRUE;
          item.kind = NPV_INDEX_ELLIPSIS;
          p.pos += *p.pos == '.' ? 3 : 8;
        }
      else if (g_str_has_prefix (p.pos, "None") || g_str_has_prefix (p.pos, "np.newaxis") ||
               g_str_has_prefix (p.pos, "newaxis"))
        {
          item.kind = NPV_INDEX_NEWAXIS;
          p.pos += *p.pos == 'N' ? 4 : *p.pos == 'n' && p.pos[1] == 'p' ? 10 : 7;
        }
      else
        {
          if (!parse_int (&p, &item.start, &present))
            return FALSE;
          skip_ws (&p);
          if (*p.pos != ':')
            {
              if (!present)
                return index_fail (&p, "expected an integer, a slice like 1:10:2, “...” or None");
              item.kind = NPV_INDEX_INTEGER;
              item.value = item.start;
              item.start = 0;
            }
          else
            {
              item.kind = NPV_INDEX_SLICE;
              item.has_start = present;
              p.pos++;
              if (!parse_int (&p, &item.stop, &item.has_stop))
                return FALSE;
              skip_ws (&p);
              if (*p.pos == ':')
                {
                  p.pos++;
                  if (!parse_int (&p, &item.step, &item.has_step))
                    return FALSE;
                  if (item.has_step && item.step == 0)
                    return index_fail (&p, "slice step cannot be zero");
                }
            }
        }
      index->items[index->n_items++] = item;

      skip_ws (&p);
      if (*p.pos == ',')
        {
          p.pos++;
          continue;
        }
      if (*p.pos == '\0')
        break;
      {
        g_autoptr(GString) what = g_string_new (NULL);

        npv_append_char_description (what, p.pos, strlen (p.pos));
        return index_fail (&p, "unexpected %s", what->str);
      }
    }

  skip_ws (&p);
  if (*p.pos != '\0')
    return index_fail (&p, "unexpected text after the index");
  return TRUE;
}

/* One bound of Python's slice.indices(): negative counts from the end,
 * then clamped to the axis (to -1 .. n-1 when walking backwards). */
static gint64
clamp_bound (gint64 value,
             gint64 n,
             gint64 step)
{
  if (value < 0)
    {
      value += n;
      if (value < 0)
        value = step < 0 ? -1 : 0;
    }
  else if (value >= n)
    value = step < 0 ? n - 1 : n;
  return value;
}

/* Python's slice.indices(), then the length of the result. */
static gint64
resolve_slice (const NpvIndexItem *item,
               gint64              n,
               gint64             *start_out,
               gint64             *step_out)
{
  gint64 step = item->has_step ? item->step : 1;
  gint64 start = item->has_start ? clamp_bound (item->start, n, step) : step < 0 ? n - 1 : 0;
  gint64 stop = item->has_stop ? clamp_bound (item->stop, n, step) : step < 0 ? -1 : n;

  *start_out = start;
  *step_out = step;
  if (step > 0)
    return stop > start ? (gint64) ((guint64) (stop - start - 1) / (guint64) step) + 1 : 0;
  /* step may be G_MININT64: negate in unsigned arithmetic. */
  return start > stop ? (gint64) ((guint64) (start - stop - 1) / (0 - (guint64) step)) + 1 : 0;
}

NpvArray *
npv_array_apply_index (NpvArray        *array,
                       const NpvIndex  *index,
                       GError         **error)
{
  g_autoptr(NpvArray) view = NULL;
  guint n_consuming = 0;
  guint axis = 0;
  guint ndim = 0;
  gint64 shape[NPV_MAX_DIMS];
  gint64 strides[NPV_MAX_DIMS];
  gint64 offset = array->offset;

  for (guint i = 0; i < index->n_items; i++)
    if (index->items[i].kind == NPV_INDEX_INTEGER || index->items[i].kind == NPV_INDEX_SLICE)
      n_consuming++;

  if (n_consuming > array->ndim)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "too many indices for array: array is %u-dimensional, but %u were indexed",
                   array->ndim, n_consuming);
      return NULL;
    }

  for (guint i = 0; i < index->n_items; i++)
    {
      const NpvIndexItem *item = &index->items[i];

      switch (item->kind)
        {
        case NPV_INDEX_ELLIPSIS:
          for (guint k = 0; k < array->ndim - n_consuming; k++)
            {
              if (ndim == NPV_MAX_DIMS)
                goto too_many_dims;
              shape[ndim] = array->shape[axis];
              strides[ndim++] = array->strides[axis++];
            }
          break;

        case NPV_INDEX_NEWAXIS:
          if (ndim == NPV_MAX_DIMS)
            goto too_many_dims;
          shape[ndim] = 1;
          strides[ndim++] = 0;
          break;

        case NPV_INDEX_INTEGER:
          {
            gint64 n = array->shape[axis];
            gint64 value = item->value;

            if (value < -n || value >= n)
              {
                g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                             "index %" G_GINT64_FORMAT " is out of bounds for axis %u with size %"
                             G_GINT64_FORMAT, value, axis, n);
                return NULL;
              }
            if (value < 0)
              value += n;
            offset += value * array->strides[axis];
            axis++;
          }
          break;

        case NPV_INDEX_SLICE:
          {
            gint64 start, step;
            gint64 len = resolve_slice (item, array->shape[axis], &start, &step);

            if (ndim == NPV_MAX_DIMS)
              goto too_many_dims;
            if (len > 0)
              offset += start * array->strides[axis];
            shape[ndim] = len;
            /* With fewer than two items the stride is never used; keep it
             * from overflowing for huge steps. */
            strides[ndim++] = len > 1 ? array->strides[axis] * step : array->strides[axis];
            axis++;
          }
          break;

        default:
          g_assert_not_reached ();
        }
    }

  /* Missing trailing entries mean ":". */
  for (; axis < array->ndim; axis++)
    {
      if (ndim == NPV_MAX_DIMS)
        goto too_many_dims;
      shape[ndim] = array->shape[axis];
      strides[ndim++] = array->strides[axis];
    }

  view = array_copy (array);
  view->offset = offset;
  view->ndim = ndim;
  memcpy (view->shape, shape, ndim * sizeof (gint64));
  memcpy (view->strides, strides, ndim * sizeof (gint64));
  update_count (view);
  return g_steal_pointer (&view);

too_many_dims:
  g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
               "the index gives more than %d dimensions", NPV_MAX_DIMS);
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* Row iteration                                                           */

gint64
npv_array_get_n_rows (const NpvArray *array)
{
  if (array->count == 0)
    return 0;
  if (array->ndim == 0)
    return 1;
  return array->count / MAX (array->shape[array->ndim - 1], 1);
}

void
npv_row_iter_init (NpvRowIter     *iter,
                   const NpvArray *array,
                   gboolean        fortran,
                   gint64          first_row,
                   gint64          n_rows)
{
  gint64 total_rows;
  gint64 rest;

  memset (iter, 0, sizeof *iter);
  iter->array = array;
  for (guint i = 0; i < array->ndim; i++)
    iter->order[i] = fortran ? i : array->ndim - 1 - i;

  if (array->count == 0)
    return;

  if (array->ndim == 0)
    {
      iter->row_len = 1;
      iter->row_stride = 0;
      total_rows = 1;
    }
  else
    {
      iter->row_len = array->shape[iter->order[0]];
      iter->row_stride = array->strides[iter->order[0]];
      total_rows = array->count / iter->row_len;
    }

  if (first_row >= total_rows)
    return;
  if (n_rows < 0 || n_rows > total_rows - first_row)
    n_rows = total_rows - first_row;
  iter->rows_left = n_rows;

  /* The index of row @first_row: its digits in the outer axes. */
  rest = first_row;
  for (guint k = 1; k < array->ndim; k++)
    {
      guint axis = iter->order[k];

      iter->index[axis] = rest % array->shape[axis];
      rest /= array->shape[axis];
    }

  iter->row = array->offset;
  for (guint k = 1; k < array->ndim; k++)
    iter->row += iter->index[iter->order[k]] * array->strides[iter->order[k]];
}

gboolean
npv_row_iter_next (NpvRowIter *iter,
                   gint64     *row,
                   gint64     *len,
                   gint64     *stride)
{
  const NpvArray *array = iter->array;

  if (iter->rows_left <= 0)
    return FALSE;

  *row = iter->row;
  *len = iter->row_len;
  *stride = iter->row_stride;

  if (--iter->rows_left > 0)
    {
      for (guint k = 1; k < array->ndim; k++)
        {
          guint axis = iter->order[k];

          iter->row += array->strides[axis];
          if (++iter->index[axis] < array->shape[axis])
            break;
          iter->row -= array->shape[axis] * array->strides[axis];
          iter->index[axis] = 0;
        }
    }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Row reading                                                             */

void
npv_row_reader_init (NpvRowReader   *reader,
                     const NpvArray *array,
                     gsize           capacity)
{
  NpvSource *source = array->source;

  reader->array = array;
  reader->capacity = MAX (capacity, array->dtype->itemsize);
  /* Memory needs no copy; files and compressed data do. */
  reader->buffer = npv_source_get_fd (source) >= 0 || npv_source_get_data (source) == NULL
                   ? g_malloc (reader->capacity) : NULL;
}

void
npv_row_reader_clear (NpvRowReader *reader)
{
  g_clear_pointer (&reader->buffer, g_free);
}

gboolean
npv_row_reader_fetch (NpvRowReader  *reader,
                      gint64         row,
                      gint64         len,
                      gint64         stride,
                      const guint8 **items,
                      gint64        *items_stride,
                      gint64        *n_items,
                      GError       **error)
{
  const NpvArray *array = reader->array;
  NpvSource *source = array->source;
  const guint8 *data = npv_source_get_data (source);
  gsize itemsize = array->dtype->itemsize;
  gsize unit = MAX (itemsize, 1);
  gint64 n = len;
  gint64 lo, span;

  g_return_val_if_fail (len > 0, FALSE);

  if (reader->buffer == NULL || itemsize == 0)
    {
      *items = data + row;
      *items_stride = stride;
      *n_items = len;
      return TRUE;
    }

  /* Close together: read the span, as many items as fit. */
  if ((guint64) ABS (stride) <= 16 * unit)
    {
      n = MIN (len, (gint64) ((reader->capacity - unit) / MAX ((guint64) ABS (stride), 1)) + 1);
      lo = row + MIN (0, (n - 1) * stride);
      span = ABS ((n - 1) * stride) + itemsize;
      if (!npv_source_read (source, lo, reader->buffer, span, error))
        return FALSE;
      *items = reader->buffer + (row - lo);
      *items_stride = stride;
      *n_items = n;
      return TRUE;
    }

  /* Far apart: memory as it is (a file is read, never faulted in through
   * its mapping, so that a file cut short gives an error)... */
  if (data != NULL && npv_source_get_fd (source) < 0)
    {
      *items = data + row;
      *items_stride = stride;
      *n_items = len;
      return TRUE;
    }

  /* ...or one item at a time from the source, packed. */
  n = MIN (len, (gint64) (reader->capacity / unit));
  for (gint64 i = 0; i < n; i++)
    if (!npv_source_read (source, row + i * stride, reader->buffer + i * itemsize, itemsize, error))
      return FALSE;
  *items = reader->buffer;
  *items_stride = itemsize;
  *n_items = n;
  return TRUE;
}

NpvArray *
npv_array_transpose (NpvArray     *array,
                     const guint  *axes,
                     GError      **error)
{
  NpvArray *view;
  gboolean seen[NPV_MAX_DIMS] = { FALSE };

  if (axes != NULL)
    for (guint i = 0; i < array->ndim; i++)
      {
        if (axes[i] >= array->ndim || seen[axes[i]])
          {
            g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                         "axes don't match array: a permutation of 0 to %u is needed",
                         array->ndim - 1);
            return NULL;
          }
        seen[axes[i]] = TRUE;
      }

  view = array_copy (array);
  for (guint i = 0; i < array->ndim; i++)
    {
      guint from = axes != NULL ? axes[i] : array->ndim - 1 - i;

      view->shape[i] = array->shape[from];
      view->strides[i] = array->strides[from];
    }
  return view;
}
