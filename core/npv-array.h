/* npv-array.h: a strided view of items in a source
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "npv-dtype.h"
#include "npv-source.h"

G_BEGIN_DECLS

typedef struct _NpvArray NpvArray;

/* Immutable once created, reference counted, safe to share between threads.
 * Item [i0, i1, ...] starts at data + offset + sum(i_k * strides[k]). */
struct _NpvArray
{
  NpvSource *source;
  NpvDType *dtype;        /* never SUBARRAY: subarrays become dimensions */
  gint64 offset;
  guint ndim;
  gint64 shape[NPV_MAX_DIMS];
  gint64 strides[NPV_MAX_DIMS];
  gint64 count;
};

typedef enum {
  NPV_INDEX_INTEGER,
  NPV_INDEX_SLICE,
  NPV_INDEX_ELLIPSIS,
  NPV_INDEX_NEWAXIS,
} NpvIndexKind;

typedef struct
{
  NpvIndexKind kind;
  gint64 value;                 /* INTEGER */
  gboolean has_start, has_stop, has_step;
  gint64 start, stop, step;     /* SLICE */
} NpvIndexItem;

/* A numpy basic-indexing expression: "3, ::2, -1", "...", "1:-1, None". */
typedef struct
{
  guint n_items;
  NpvIndexItem items[2 * NPV_MAX_DIMS];
} NpvIndex;

/* A view of @count items laid out in C or Fortran order from @offset. The
 * caller has checked that the bytes are present. A SUBARRAY @dtype adds its
 * dimensions. */
NpvArray *npv_array_new            (NpvSource       *source,
                                    NpvDType        *dtype,
                                    guint64          offset,
                                    guint            ndim,
                                    const gint64    *shape,
                                    gboolean         fortran_order);

NpvArray *npv_array_ref            (NpvArray        *array);
void      npv_array_unref          (NpvArray        *array);

/* The bytes of the item at @offset of the source (array->offset for item
 * [0, 0, ...]): in place for memory, read into @scratch (itemsize bytes)
 * for files and compressed data. %NULL with an error if it cannot be read
 * (a file cut short since it was opened gives an error, never SIGBUS). */
const guint8 *npv_array_peek       (const NpvArray  *array,
                                    gint64           offset,
                                    guint8          *scratch,
                                    GError         **error);

gboolean  npv_array_is_c_contiguous (const NpvArray *array);
gboolean  npv_array_is_f_contiguous (const NpvArray *array);

/* The view numpy gives for array[path] (nested "a.b" for array['a']['b']);
 * subarray fields add dimensions. NPV_ERROR_INVALID_ARGUMENT if there is no
 * such field. */
NpvArray *npv_array_select_field   (NpvArray        *array,
                                    const char      *path,
                                    GError         **error);

/* Parses @text as a numpy basic index, written as between a[ and ].
 * NPV_ERROR_INVALID_ARGUMENT with the position on bad syntax. */
gboolean  npv_index_parse          (const char      *text,
                                    NpvIndex        *index,
                                    GError         **error);

/* The view numpy gives for array[index]. NPV_ERROR_INVALID_ARGUMENT with
 * numpy's wording for out-of-bounds integers and too many indices. */
NpvArray *npv_array_apply_index    (NpvArray        *array,
                                    const NpvIndex  *index,
                                    GError         **error);

/* The view numpy gives for array.transpose(@axes): axis i of the view is
 * axis @axes[i] of @array; %NULL @axes reverses them (array.T).
 * NPV_ERROR_INVALID_ARGUMENT if @axes is not a permutation. */
NpvArray *npv_array_transpose      (NpvArray        *array,
                                    const guint     *axes,
                                    GError         **error);

/* Walks the items of an array row by row: each row is a run along the
 * innermost axis (the last one in C order, the first in Fortran order). */
typedef struct
{
  const NpvArray *array;
  guint order[NPV_MAX_DIMS];   /* axes, fastest first */
  gint64 index[NPV_MAX_DIMS];
  gint64 rows_left;
  gint64 row_len;
  gint64 row_stride;
  gint64 row;                  /* offset in the source of the row's first item */
} NpvRowIter;

/* Rows @first_row .. @first_row + @n_rows - 1 (use -1 for all rows). */
void      npv_row_iter_init        (NpvRowIter      *iter,
                                    const NpvArray  *array,
                                    gboolean         fortran,
                                    gint64           first_row,
                                    gint64           n_rows);
gint64    npv_array_get_n_rows     (const NpvArray  *array);
gboolean  npv_row_iter_next        (NpvRowIter      *iter,
                                    gint64          *row,
                                    gint64          *len,
                                    gint64          *stride);

/* Turns rows (source offsets) into bytes for a sequential pass. Items
 * close together are read into a buffer with npv_source_read(): on a
 * page-cached file that beats faulting the mapping in page by page, a file
 * cut short gives an error rather than a signal, and compressed sources
 * have no mapping at all. Items far apart are read one by one (memory
 * sources hand them out in place). */
typedef struct
{
  const NpvArray *array;
  guint8 *buffer;
  gsize capacity;
} NpvRowReader;

void      npv_row_reader_init      (NpvRowReader    *reader,
                                    const NpvArray  *array,
                                    gsize            capacity);
void      npv_row_reader_clear     (NpvRowReader    *reader);

/* The first *@n_items (at least one) of the @len items of a row starting
 * at @row, @stride bytes apart: at *@items, *@items_stride apart. Valid
 * until the next fetch. Call again for the rest of the row. */
gboolean  npv_row_reader_fetch     (NpvRowReader    *reader,
                                    gint64           row,
                                    gint64           len,
                                    gint64           stride,
                                    const guint8   **items,
                                    gint64          *items_stride,
                                    gint64          *n_items,
                                    GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpvArray, npv_array_unref)

G_END_DECLS
