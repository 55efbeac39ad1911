/* npv-dtype.h: numpy data types, as .npy headers describe them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "npv-format.h"
#include "npv-literal.h"

G_BEGIN_DECLS

/* numpy 2 allows 64 dimensions; numpy 1 allowed 32. */
#define NPV_MAX_DIMS 64

typedef enum {
  NPV_KIND_BOOL,
  NPV_KIND_INT,
  NPV_KIND_UINT,
  NPV_KIND_FLOAT,
  NPV_KIND_COMPLEX,
  NPV_KIND_BYTES,     /* S<n> */
  NPV_KIND_UNICODE,   /* U<n>, UCS-4 */
  NPV_KIND_VOID,      /* V<n>, raw bytes */
  NPV_KIND_OBJECT,    /* O: the data is a pickle */
  NPV_KIND_DATETIME,  /* M8 */
  NPV_KIND_TIMEDELTA, /* m8 */
  NPV_KIND_STRUCT,    /* a record of fields */
  NPV_KIND_SUBARRAY,  /* base dtype repeated over a shape (only inside records) */
} NpvKind;

typedef struct _NpvDType NpvDType;
typedef struct _NpvField NpvField;

struct _NpvField
{
  char *name;     /* UTF-8; may be "" */
  char *title;    /* UTF-8 or NULL */
  gsize offset;   /* from the start of the record */
  NpvDType *dtype;
};

/* Immutable once created, reference counted, safe to share between threads. */
struct _NpvDType
{
  NpvKind kind;
  char byteorder;     /* '<', '>' or '|' (as numpy's dtype.str spells it) */
  gsize itemsize;

  /* DATETIME, TIMEDELTA */
  NpvTimeUnit unit;
  gint64 multiplier;

  /* SUBARRAY */
  NpvDType *base;
  guint sub_ndim;
  gint64 *sub_shape;
  gint64 sub_count;

  /* STRUCT: the real fields in order, padding left out */
  guint n_fields;
  NpvField *fields;

  /* OBJECT, for arrays whose elements were rebuilt from their pickle
   * (npv_dtype_new_object_table()): the items are gint64 indices into
   * this array of NpvPyObject. File bytes are never taken for objects. */
  GPtrArray *objects;
};

/* One scalar column of a possibly nested record, for tables. */
typedef struct
{
  char *name;       /* "x", "y[1]", "a.b", "m[0,2]"; "" for a plain dtype */
  gsize offset;
  NpvDType *dtype;  /* never STRUCT or SUBARRAY */
} NpvLeaf;

/* Parses anything numpy.dtype() accepts as a string for the supported types:
 * "<f8", "f8", "=f8", "float64", "?", "d", "S5", "U0", "M8[10s]",
 * "datetime64[ns]" ... Returns a new dtype or %NULL with an error that quotes
 * @text. */
NpvDType   *npv_dtype_new_from_string  (const char        *text,
                                        GError           **error);

/* The 'descr' value of an .npy header: a string, a list of fields or a
 * (descr, shape) tuple, as numpy's descr_to_dtype() reads it. */
NpvDType   *npv_dtype_new_from_descr   (const NpvLiteral  *descr,
                                        GError           **error);

/* An object dtype whose items index @objects (an array of NpvPyObject,
 * kept alive by the dtype). */
NpvDType   *npv_dtype_new_object_table (GPtrArray         *objects);
/* A copy of @dtype whose object fields (at any depth) index @objects. */
NpvDType   *npv_dtype_with_object_table (const NpvDType   *dtype,
                                         GPtrArray        *objects);

NpvDType   *npv_dtype_ref              (NpvDType          *dtype);
void        npv_dtype_unref            (NpvDType          *dtype);

/* numpy's dtype.str: "<f8", "|b1", ">U3", "<M8[10s]", "|V12" for records. */
char       *npv_dtype_to_str           (const NpvDType    *dtype);

/* What np.save writes as 'descr': repr(dtype.str) or repr(dtype.descr). */
void        npv_dtype_append_descr_repr (const NpvDType   *dtype,
                                         GString          *out);

/* The same as JSON: a string, or numpy's dtype.descr as nested arrays. */
void        npv_dtype_append_descr_json (const NpvDType   *dtype,
                                         GString          *out);

/* A short name in words, e.g. "float32", "datetime64[ns]", "bytes (5)",
 * "record (3 fields)". */
char       *npv_dtype_get_name         (const NpvDType    *dtype);

/* The name with the byte order, e.g. "float32, little-endian". */
char       *npv_dtype_describe         (const NpvDType    *dtype);

gboolean    npv_dtype_has_object       (const NpvDType    *dtype);

/* Whether the item bytes are in the opposite order of this machine's. */
gboolean    npv_dtype_is_swapped       (const NpvDType    *dtype);

/* The field named @name (@len bytes) or titled so, or %NULL. */
const NpvField *npv_dtype_find_field   (const NpvDType    *dtype,
                                        const char        *name,
                                        gsize              len);

/* The scalar columns of @dtype, subarrays expanded in C order.
 * Returns an array of NpvLeaf that frees its contents. */
GArray     *npv_dtype_collect_leaves   (const NpvDType    *dtype);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpvDType, npv_dtype_unref)

G_END_DECLS
