/* npv-dtype.c: numpy data types, as .npy headers describe them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-dtype"

#include "npv-dtype.h"

#include <string.h>

#include "npv-error.h"
#include "npv-json.h"

/* Records nested deeper than this are refused rather than recursed into. */
#define MAX_NESTING 32

static void
dtype_clear (gpointer data)
{
  NpvDType *dtype = data;

  g_clear_pointer (&dtype->base, npv_dtype_unref);
  g_free (dtype->sub_shape);
  for (guint i = 0; i < dtype->n_fields; i++)
    {
      g_free (dtype->fields[i].name);
      g_free (dtype->fields[i].title);
      npv_dtype_unref (dtype->fields[i].dtype);
    }
  g_free (dtype->fields);
  g_clear_pointer (&dtype->objects, g_ptr_array_unref);
}

static NpvDType *
dtype_new (NpvKind kind,
           char    byteorder,
           gsize   itemsize)
{
  NpvDType *dtype = g_atomic_rc_box_new0 (NpvDType);

  dtype->kind = kind;
  dtype->byteorder = byteorder;
  dtype->itemsize = itemsize;
  dtype->multiplier = 1;
  return dtype;
}

NpvDType *
npv_dtype_new_object_table (GPtrArray *objects)
{
  NpvDType *dtype = dtype_new (NPV_KIND_OBJECT, '|', 8);

  dtype->objects = g_ptr_array_ref (objects);
  return dtype;
}

NpvDType *
npv_dtype_with_object_table (const NpvDType *dtype,
                             GPtrArray      *objects)
{
  NpvDType *copy;

  if (!npv_dtype_has_object (dtype))
    return npv_dtype_ref ((NpvDType *) dtype);
  if (dtype->kind == NPV_KIND_OBJECT)
    return npv_dtype_new_object_table (objects);

  copy = dtype_new (dtype->kind, dtype->byteorder, dtype->itemsize);
  copy->unit = dtype->unit;
  copy->multiplier = dtype->multiplier;
  if (dtype->kind == NPV_KIND_SUBARRAY)
    {
      copy->base = npv_dtype_with_object_table (dtype->base, objects);
      copy->sub_ndim = dtype->sub_ndim;
      copy->sub_shape = g_memdup2 (dtype->sub_shape, sizeof (gint64) * MAX (dtype->sub_ndim, 1));
      copy->sub_count = dtype->sub_count;
    }
  if (dtype->kind == NPV_KIND_STRUCT)
    {
      copy->n_fields = dtype->n_fields;
      copy->fields = g_new0 (NpvField, dtype->n_fields);
      for (guint i = 0; i < dtype->n_fields; i++)
        {
          copy->fields[i].name = g_strdup (dtype->fields[i].name);
          copy->fields[i].title = g_strdup (dtype->fields[i].title);
          copy->fields[i].offset = dtype->fields[i].offset;
          copy->fields[i].dtype = npv_dtype_with_object_table (dtype->fields[i].dtype, objects);
        }
    }
  return copy;
}

NpvDType *
npv_dtype_ref (NpvDType *dtype)
{
  return g_atomic_rc_box_acquire (dtype);
}

void
npv_dtype_unref (NpvDType *dtype)
{
  g_atomic_rc_box_release_full (dtype, dtype_clear);
}

/* ---------------------------------------------------------------------- */
/* Parsing strings                                                         */

typedef struct
{
  const char *name;
  NpvKind kind;
  gsize size;   /* 0 for flexible */
} TypeName;

/* numpy's names on x86-64 Linux (long is 64 bits, long double x87 in 16 bytes). */
static const TypeName type_names[] = {
  { "bool", NPV_KIND_BOOL, 1 }, { "bool_", NPV_KIND_BOOL, 1 }, { "bool8", NPV_KIND_BOOL, 1 },
  { "int8", NPV_KIND_INT, 1 }, { "int16", NPV_KIND_INT, 2 },
  { "int32", NPV_KIND_INT, 4 }, { "int64", NPV_KIND_INT, 8 },
  { "uint8", NPV_KIND_UINT, 1 }, { "uint16", NPV_KIND_UINT, 2 },
  { "uint32", NPV_KIND_UINT, 4 }, { "uint64", NPV_KIND_UINT, 8 },
  { "byte", NPV_KIND_INT, 1 }, { "ubyte", NPV_KIND_UINT, 1 },
  { "short", NPV_KIND_INT, 2 }, { "ushort", NPV_KIND_UINT, 2 },
  { "intc", NPV_KIND_INT, 4 }, { "uintc", NPV_KIND_UINT, 4 },
  { "int_", NPV_KIND_INT, 8 }, { "int", NPV_KIND_INT, 8 }, { "int0", NPV_KIND_INT, 8 },
  { "uint", NPV_KIND_UINT, 8 }, { "uint0", NPV_KIND_UINT, 8 },
  { "intp", NPV_KIND_INT, 8 }, { "uintp", NPV_KIND_UINT, 8 },
  { "long", NPV_KIND_INT, 8 }, { "ulong", NPV_KIND_UINT, 8 },
  { "longlong", NPV_KIND_INT, 8 }, { "ulonglong", NPV_KIND_UINT, 8 },
  { "float16", NPV_KIND_FLOAT, 2 }, { "float32", NPV_KIND_FLOAT, 4 },
  { "float64", NPV_KIND_FLOAT, 8 }, { "float128", NPV_KIND_FLOAT, 16 },
  { "half", NPV_KIND_FLOAT, 2 }, { "single", NPV_KIND_FLOAT, 4 },
  { "double", NPV_KIND_FLOAT, 8 }, { "float", NPV_KIND_FLOAT, 8 }, { "float_", NPV_KIND_FLOAT, 8 },
  { "longdouble", NPV_KIND_FLOAT, 16 }, { "longfloat", NPV_KIND_FLOAT, 16 },
  { "complex64", NPV_KIND_COMPLEX, 8 }, { "complex128", NPV_KIND_COMPLEX, 16 },
  { "complex256", NPV_KIND_COMPLEX, 32 }, { "complex", NPV_KIND_COMPLEX, 16 },
  { "complex_", NPV_KIND_COMPLEX, 16 }, { "csingle", NPV_KIND_COMPLEX, 8 },
  { "singlecomplex", NPV_KIND_COMPLEX, 8 }, { "cdouble", NPV_KIND_COMPLEX, 16 },
  { "cfloat", NPV_KIND_COMPLEX, 16 }, { "clongdouble", NPV_KIND_COMPLEX, 32 },
  { "clongfloat", NPV_KIND_COMPLEX, 32 }, { "longcomplex", NPV_KIND_COMPLEX, 32 },
  { "str", NPV_KIND_UNICODE, 0 }, { "str_", NPV_KIND_UNICODE, 0 },
  { "unicode", NPV_KIND_UNICODE, 0 }, { "unicode_", NPV_KIND_UNICODE, 0 },
  { "bytes", NPV_KIND_BYTES, 0 }, { "bytes_", NPV_KIND_BYTES, 0 },
  { "string_", NPV_KIND_BYTES, 0 }, { "void", NPV_KIND_VOID, 0 },
  { "object", NPV_KIND_OBJECT, 8 }, { "object_", NPV_KIND_OBJECT, 8 },
  { "datetime64", NPV_KIND_DATETIME, 8 }, { "timedelta64", NPV_KIND_TIMEDELTA, 8 },
  { "object0", NPV_KIND_OBJECT, 8 }, { "void0", NPV_KIND_VOID, 0 },
  { "bytes0", NPV_KIND_BYTES, 0 }, { "str0", NPV_KIND_UNICODE, 0 },
};

/* Single-character type codes. */
static gboolean
lookup_typecode (char     code,
                 NpvKind *kind,
                 gsize   *size)
{
  switch (code)
    {
    case '?': *kind = NPV_KIND_BOOL; *size = 1; return TRUE;
    case 'b': *kind = NPV_KIND_INT; *size = 1; return TRUE;
    case 'B': *kind = NPV_KIND_UINT; *size = 1; return TRUE;
    case 'h': *kind = NPV_KIND_INT; *size = 2; return TRUE;
    case 'H': *kind = NPV_KIND_UINT; *size = 2; return TRUE;
    case 'i': *kind = NPV_KIND_INT; *size = 4; return TRUE;
    case 'I': *kind = NPV_KIND_UINT; *size = 4; return TRUE;
    case 'l': case 'q': case 'p': *kind = NPV_KIND_INT; *size = 8; return TRUE;
    case 'L': case 'Q': case 'P': *kind = NPV_KIND_UINT; *size = 8; return TRUE;
    case 'e': *kind = NPV_KIND_FLOAT; *size = 2; return TRUE;
    case 'f': *kind = NPV_KIND_FLOAT; *size = 4; return TRUE;
    case 'd': *kind = NPV_KIND_FLOAT; *size = 8; return TRUE;
    case 'g': *kind = NPV_KIND_FLOAT; *size = 16; return TRUE;
    case 'F': *kind = NPV_KIND_COMPLEX; *size = 8; return TRUE;
    case 'D': *kind = NPV_KIND_COMPLEX; *size = 16; return TRUE;
    case 'G': *kind = NPV_KIND_COMPLEX; *size = 32; return TRUE;
    case 'S': case 'a': *kind = NPV_KIND_BYTES; *size = 0; return TRUE;
    case 'c': *kind = NPV_KIND_BYTES; *size = 1; return TRUE;
    case 'U': *kind = NPV_KIND_UNICODE; *size = 0; return TRUE;
    case 'V': *kind = NPV_KIND_VOID; *size = 0; return TRUE;
    case 'O': *kind = NPV_KIND_OBJECT; *size = 8; return TRUE;
    case 'M': *kind = NPV_KIND_DATETIME; *size = 8; return TRUE;
    case 'm': *kind = NPV_KIND_TIMEDELTA; *size = 8; return TRUE;
    default: return FALSE;
    }
}

/* Kind letters of the "<kind><size>" spelling, with the sizes numpy allows. */
static gboolean
lookup_kind_size (char     code,
                  guint64  size,
                  NpvKind *kind)
{
  switch (code)
    {
    case 'b': *kind = NPV_KIND_BOOL; return size == 1;
    case 'i': *kind = NPV_KIND_INT; return size == 1 || size == 2 || size == 4 || size == 8;
    case 'u': *kind = NPV_KIND_UINT; return size == 1 || size == 2 || size == 4 || size == 8;
    case 'f': *kind = NPV_KIND_FLOAT; return size == 2 || size == 4 || size == 8 || size == 16;
    case 'c': *kind = NPV_KIND_COMPLEX; return size == 8 || size == 16 || size == 32;
    case 'S': case 'a': *kind = NPV_KIND_BYTES; return TRUE;
    case 'U': *kind = NPV_KIND_UNICODE; return TRUE;
    case 'V': *kind = NPV_KIND_VOID; return TRUE;
    case 'O': *kind = NPV_KIND_OBJECT; return size == 8 || size == 4;
    case 'M': *kind = NPV_KIND_DATETIME; return size == 8;
    case 'm': *kind = NPV_KIND_TIMEDELTA; return size == 8;
    default: return FALSE;
    }
}

static char
canonical_byteorder (NpvKind kind,
                     gsize   itemsize,
                     char    requested)
{
  gboolean has_order;

  switch (kind)
    {
    case NPV_KIND_BOOL:
    case NPV_KIND_BYTES:
    case NPV_KIND_VOID:
    case NPV_KIND_OBJECT:
    case NPV_KIND_STRUCT:
    case NPV_KIND_SUBARRAY:
      has_order = FALSE;
      break;
    case NPV_KIND_UNICODE:
    case NPV_KIND_DATETIME:
    case NPV_KIND_TIMEDELTA:
      has_order = TRUE;
      break;
    default:
      has_order = itemsize > 1;
      break;
    }

  if (!has_order)
    return '|';
  if (requested == '>' || requested == '!')
    return '>';
  if (requested == '<')
    return '<';
  return G_BYTE_ORDER == G_LITTLE_ENDIAN ? '<' : '>';
}

G_GNUC_PRINTF (3, 4)
static void
set_dtype_error (GError     **error,
                 const char  *text,
                 const char  *format,
                 ...)
{
  g_autofree char *why = NULL;
  g_autoptr(GString) quoted = g_string_new (NULL);
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  npv_append_python_str_repr (quoted, text, strlen (text));
  g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
               "data type %s not understood: %s", quoted->str, why);
}

/* "[10s]" after a datetime type. */
static gboolean
parse_time_unit (const char   *text,
                 const char   *p,
                 NpvTimeUnit  *unit,
                 gint64       *multiplier,
                 GError      **error)
{
  const char *close;
  guint64 mult = 1;
  const char *u;

  if (*p == '\0')
    {
      *unit = NPV_TIME_UNIT_GENERIC;
      *multiplier = 1;
      return TRUE;
    }
  if (*p != '[' || (close = strchr (p, ']')) == NULL || close[1] != '\0')
    {
      set_dtype_error (error, text, "expected a unit in brackets like [ns]");
      return FALSE;
    }
  u = p + 1;
  if (g_ascii_isdigit (*u))
    {
      mult = 0;
      while (g_ascii_isdigit (*u))
        {
          mult = mult * 10 + (*u - '0');
          if (mult > G_MAXINT32)
            {
              set_dtype_error (error, text, "the unit multiplier is too large");
              return FALSE;
            }
          u++;
        }
      if (mult == 0)
        {
          set_dtype_error (error, text, "the unit multiplier must be positive");
          return FALSE;
        }
    }
  if (close - u == 7 && memcmp (u, "generic", 7) == 0 && mult == 1)
    *unit = NPV_TIME_UNIT_GENERIC;
  else if (!npv_time_unit_from_string (u, close - u, unit) || *unit == NPV_TIME_UNIT_GENERIC)
    {
      g_autofree char *unit_text = g_utf8_make_valid (u, close - u);

      set_dtype_error (error, text, "unknown time unit “%s”", unit_text);
      return FALSE;
    }
  *multiplier = (gint64) mult;
  return TRUE;
}

NpvDType *
npv_dtype_new_from_string (const char  *text,
                           GError     **error)
{
  const char *p = text;
  char order = '=';
  NpvKind kind;
  gsize size = 0;
  gboolean flexible = FALSE;
  NpvTimeUnit unit = NPV_TIME_UNIT_GENERIC;
  gint64 multiplier = 1;
  NpvDType *dtype;
  gboolean found = FALSE;

  g_return_val_if_fail (text != NULL, NULL);

  if (*p == '<' || *p == '>' || *p == '=' || *p == '|')
    order = *p++;

  if (*p == '\0')
    {
      set_dtype_error (error, text, "no type given");
      return NULL;
    }

  /* Names like "float64" and "datetime64[ns]". */
  for (guint i = 0; i < G_N_ELEMENTS (type_names); i++)
    {
      gsize len = strlen (type_names[i].name);

      if (strncmp (p, type_names[i].name, len) != 0)
        continue;
      if (p[len] != '\0' &&
          !((type_names[i].kind == NPV_KIND_DATETIME || type_names[i].kind == NPV_KIND_TIMEDELTA) &&
            p[len] == '['))
        continue;
      kind = type_names[i].kind;
      size = type_names[i].size;
      flexible = size == 0;
      /* numpy takes a byte order before a name only for the time types. */
      if (p != text && kind != NPV_KIND_DATETIME && kind != NPV_KIND_TIMEDELTA)
        {
          set_dtype_error (error, text, "a byte order cannot come before the name “%s”", p);
          return NULL;
        }
      if (kind == NPV_KIND_DATETIME || kind == NPV_KIND_TIMEDELTA)
        {
          if (!parse_time_unit (text, p + len, &unit, &multiplier, error))
            return NULL;
        }
      found = TRUE;
      break;
    }

  if (!found)
    {
      char code = *p++;
      const char *digits = p;
      guint64 number = 0;

      while (g_ascii_isdigit (*p))
        {
          number = number * 10 + (*p - '0');
          if (number > G_MAXINT32)
            {
              set_dtype_error (error, text, "the size is too large");
              return NULL;
            }
          p++;
        }

      if (p == digits)
        {
          if (!lookup_typecode (code, &kind, &size))
            {
              g_autoptr(GString) what = g_string_new (NULL);

              npv_append_char_description (what, p - 1, strlen (p - 1));
              set_dtype_error (error, text, "unknown type code %s", what->str);
              return NULL;
            }
          flexible = size == 0;
        }
      else
        {
          if (!lookup_kind_size (code, number, &kind))
            {
              g_autoptr(GString) what = g_string_new (NULL);

              npv_append_char_description (what, digits - 1, strlen (digits - 1));
              set_dtype_error (error, text, "no type %s of %" G_GUINT64_FORMAT " bytes",
                               what->str, number);
              return NULL;
            }
          size = kind == NPV_KIND_UNICODE ? number * 4 : number;
          if (kind == NPV_KIND_OBJECT)
            size = 8;
        }

      if (kind == NPV_KIND_DATETIME || kind == NPV_KIND_TIMEDELTA)
        {
          if (!parse_time_unit (text, p, &unit, &multiplier, error))
            return NULL;
        }
      else if (*p != '\0')
        {
          set_dtype_error (error, text, "unexpected “%s” after the type", p);
          return NULL;
        }
    }

  if (flexible)
    size = 0;

  dtype = dtype_new (kind, canonical_byteorder (kind, size, order), size);
  dtype->unit = unit;
  dtype->multiplier = multiplier;
  return dtype;
}

/* ---------------------------------------------------------------------- */
/* Parsing header descrs                                                   */

static NpvDType *dtype_from_descr (const NpvLiteral  *descr,
                                   guint              depth,
                                   GError           **error);

static gboolean
shape_from_literal (const NpvLiteral  *lit,
                    GArray            *shape,
                    GError           **error)
{
  /* numpy: a bare integer n is (n,), except 1, which means no subarray. */
  if (lit->kind == NPV_LITERAL_INT && !lit->big && lit->integer >= 0)
    {
      if (lit->integer != 1)
        g_array_append_val (shape, lit->integer);
      return TRUE;
    }
  if (lit->kind == NPV_LITERAL_TUPLE || lit->kind == NPV_LITERAL_LIST)
    {
      for (guint i = 0; i < lit->items->len; i++)
        {
          const NpvLiteral *item = g_ptr_array_index (lit->items, i);

          if (item->kind != NPV_LITERAL_INT || item->big || item->integer < 0)
            break;
          g_array_append_val (shape, item->integer);
        }
      if (shape->len == lit->items->len && shape->len <= NPV_MAX_DIMS)
        return TRUE;
    }

  {
    g_autoptr(GString) repr = g_string_new (NULL);

    npv_literal_append_repr (lit, repr);
    g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                 "subarray shape %s is not a tuple of at most %d non-negative integers",
                 repr->str, NPV_MAX_DIMS);
  }
  return FALSE;
}

static NpvDType *
subarray_new (NpvDType  *base,
              GArray    *shape,
              GError   **error)
{
  NpvDType *dtype;
  guint64 count = 1;
  guint64 itemsize;

  for (guint i = 0; i < shape->len; i++)
    {
      gint64 dim = g_array_index (shape, gint64, i);

      if (dim != 0 && count > G_MAXINT64 / (guint64) dim)
        count = G_MAXUINT64;
      else
        count *= dim;
    }
  if (count > G_MAXINT32 || (base->itemsize > 0 && count > G_MAXINT32 / base->itemsize))
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TOO_LARGE,
                   "a subarray field of %" G_GUINT64_FORMAT " items is too large", count);
      return NULL;
    }
  itemsize = count * base->itemsize;

  dtype = dtype_new (NPV_KIND_SUBARRAY, '|', itemsize);
  dtype->base = npv_dtype_ref (base);
  dtype->sub_ndim = shape->len;
  dtype->sub_shape = g_memdup2 (shape->data, sizeof (gint64) * shape->len);
  dtype->sub_count = count;
  return dtype;
}

/* (descr, shape) */
static NpvDType *
subarray_from_literal (const NpvLiteral  *descr,
                       const NpvLiteral  *shape_lit,
                       guint              depth,
                       GError           **error)
{
  g_autoptr(NpvDType) base = NULL;
  g_autoptr(GArray) shape = g_array_new (FALSE, FALSE, sizeof (gint64));

  base = dtype_from_descr (descr, depth + 1, error);
  if (base == NULL)
    return NULL;
  if (!shape_from_literal (shape_lit, shape, error))
    return NULL;
  /* numpy: dtype((t, ())) is t itself. */
  if (shape->len == 0)
    return g_steal_pointer (&base);
  return subarray_new (base, shape, error);
}

static NpvDType *
struct_from_literal (const NpvLiteral  *descr,
                     guint              depth,
                     GError           **error)
{
  g_autoptr(GArray) fields = g_array_new (FALSE, TRUE, sizeof (NpvField));
  g_autoptr(GHashTable) taken = g_hash_table_new (g_str_hash, g_str_equal);
  guint64 offset = 0;
  NpvDType *dtype;

  for (guint i = 0; i < descr->items->len; i++)
    {
      const NpvLiteral *item = g_ptr_array_index (descr->items, i);
      const NpvLiteral *name_lit;
      const char *name, *title = NULL;
      g_autoptr(NpvDType) field_dtype = NULL;
      gboolean is_pad;

      if ((item->kind != NPV_LITERAL_TUPLE && item->kind != NPV_LITERAL_LIST) ||
          item->items->len < 2 || item->items->len > 3)
        {
          g_autoptr(GString) repr = g_string_new (NULL);

          npv_literal_append_repr (item, repr);
          g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                       "field %u of the record is %s, expected (name, type) or (name, type, shape)",
                       i, repr->str);
          goto fail;
        }

      name_lit = g_ptr_array_index (item->items, 0);
      if (name_lit->kind == NPV_LITERAL_TUPLE && name_lit->items->len == 2 &&
          ((NpvLiteral *) g_ptr_array_index (name_lit->items, 0))->kind == NPV_LITERAL_STR &&
          ((NpvLiteral *) g_ptr_array_index (name_lit->items, 1))->kind == NPV_LITERAL_STR)
        {
          title = ((NpvLiteral *) g_ptr_array_index (name_lit->items, 0))->text;
          name = ((NpvLiteral *) g_ptr_array_index (name_lit->items, 1))->text;
        }
      else if (name_lit->kind == NPV_LITERAL_STR)
        name = name_lit->text;
      else
        {
          g_autoptr(GString) repr = g_string_new (NULL);

          npv_literal_append_repr (name_lit, repr);
          g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                       "field %u has the name %s, expected a string or a (title, name) pair",
                       i, repr->str);
          goto fail;
        }

      if (item->items->len == 3)
        field_dtype = subarray_from_literal (g_ptr_array_index (item->items, 1),
                                             g_ptr_array_index (item->items, 2),
                                             depth, error);
      else
        field_dtype = dtype_from_descr (g_ptr_array_index (item->items, 1), depth + 1, error);
      if (field_dtype == NULL)
        goto fail;

      /* Padding: a void field named '' (even as a subarray), see numpy's
       * descr_to_dtype(). It only advances the offset. */
      is_pad = name_lit->kind == NPV_LITERAL_STR && name[0] == '\0' &&
               (field_dtype->kind == NPV_KIND_VOID ||
                (field_dtype->kind == NPV_KIND_SUBARRAY && field_dtype->base->kind == NPV_KIND_VOID));
      if (!is_pad)
        {
          NpvField field = { 0, };

          /* Names and titles share one namespace, as in numpy. A set, not
           * a scan of the fields before: a header may hold many fields. */
          if (g_hash_table_contains (taken, name) ||
              (title != NULL && g_hash_table_contains (taken, title)))
            {
              g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                           "the record has two fields named “%s”", name);
              goto fail;
            }

          field.name = g_strdup (name);
          field.title = g_strdup (title);
          g_hash_table_add (taken, field.name);
          if (field.title != NULL)
            g_hash_table_add (taken, field.title);
          field.offset = offset;
          field.dtype = g_steal_pointer (&field_dtype);
          offset += field.dtype->itemsize;
          g_array_append_val (fields, field);
        }
      else
        offset += field_dtype->itemsize;

      if (offset > G_MAXINT32)
        {
          g_set_error (error, NPV_ERROR, NPV_ERROR_TOO_LARGE,
                       "the record is larger than 2 GiB");
          goto fail;
        }
    }

  dtype = dtype_new (NPV_KIND_STRUCT, '|', offset);
  dtype->n_fields = fields->len;
  dtype->fields = (NpvField *) (gpointer) g_array_free (g_steal_pointer (&fields), FALSE);
  return dtype;

fail:
  for (guint j = 0; j < fields->len; j++)
    {
      NpvField *f = &g_array_index (fields, NpvField, j);

      g_free (f->name);
      g_free (f->title);
      npv_dtype_unref (f->dtype);
    }
  return NULL;
}

static NpvDType *
dtype_from_descr (const NpvLiteral  *descr,
                  guint              depth,
                  GError           **error)
{
  if (depth > MAX_NESTING)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                   "the data type is nested more than %d levels deep", MAX_NESTING);
      return NULL;
    }

  switch (descr->kind)
    {
    case NPV_LITERAL_STR:
      return npv_dtype_new_from_string (descr->text, error);
    case NPV_LITERAL_TUPLE:
      if (descr->items->len == 2)
        return subarray_from_literal (g_ptr_array_index (descr->items, 0),
                                      g_ptr_array_index (descr->items, 1),
                                      depth, error);
      break;
    case NPV_LITERAL_LIST:
      return struct_from_literal (descr, depth, error);
    default:
      break;
    }

  {
    g_autoptr(GString) repr = g_string_new (NULL);

    npv_literal_append_repr (descr, repr);
    if (repr->len > 80)
      {
        g_string_truncate (repr, 77);
        g_string_append (repr, "...");
      }
    g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                 "descr %s is not a data type: expected a string, a list of fields or a (type, shape) pair",
                 repr->str);
  }
  return NULL;
}

NpvDType *
npv_dtype_new_from_descr (const NpvLiteral  *descr,
                          GError           **error)
{
  return dtype_from_descr (descr, 0, error);
}

/* ---------------------------------------------------------------------- */
/* Writing                                                                 */

static char
kind_letter (NpvKind kind)
{
  switch (kind)
    {
    case NPV_KIND_BOOL: return 'b';
    case NPV_KIND_INT: return 'i';
    case NPV_KIND_UINT: return 'u';
    case NPV_KIND_FLOAT: return 'f';
    case NPV_KIND_COMPLEX: return 'c';
    case NPV_KIND_BYTES: return 'S';
    case NPV_KIND_UNICODE: return 'U';
    case NPV_KIND_OBJECT: return 'O';
    case NPV_KIND_DATETIME: return 'M';
    case NPV_KIND_TIMEDELTA: return 'm';
    case NPV_KIND_VOID:
    case NPV_KIND_STRUCT:
    case NPV_KIND_SUBARRAY:
    default:
      return 'V';
    }
}

char *
npv_dtype_to_str (const NpvDType *dtype)
{
  GString *out = g_string_new (NULL);

  g_string_append_c (out, dtype->byteorder);
  g_string_append_c (out, kind_letter (dtype->kind));
  switch (dtype->kind)
    {
    case NPV_KIND_OBJECT:
      break;
    case NPV_KIND_UNICODE:
      g_string_append_printf (out, "%" G_GSIZE_FORMAT, dtype->itemsize / 4);
      break;
    case NPV_KIND_DATETIME:
    case NPV_KIND_TIMEDELTA:
      g_string_append_c (out, '8');
      if (dtype->unit != NPV_TIME_UNIT_GENERIC)
        {
          g_string_append_c (out, '[');
          if (dtype->multiplier != 1)
            g_string_append_printf (out, "%" G_GINT64_FORMAT, dtype->multiplier);
          g_string_append (out, npv_time_unit_to_string (dtype->unit));
          g_string_append_c (out, ']');
        }
      break;
    default:
      g_string_append_printf (out, "%" G_GSIZE_FORMAT, dtype->itemsize);
      break;
    }
  return g_string_free (out, FALSE);
}

typedef enum {
  DESCR_REPR,
  DESCR_JSON,
} DescrStyle;

static void
append_string (GString    *out,
               const char *text,
               DescrStyle  style)
{
  if (style == DESCR_REPR)
    {
      npv_append_python_str_repr (out, text, strlen (text));
      return;
    }

  npv_json_append_string (out, text);
}

static void append_descr (const NpvDType *dtype,
                          GString        *out,
                          DescrStyle      style);

static void
append_shape (GString       *out,
              guint          ndim,
              const gint64  *shape,
              DescrStyle     style)
{
  g_string_append_c (out, style == DESCR_REPR ? '(' : '[');
  for (guint i = 0; i < ndim; i++)
    {
      if (i > 0)
        g_string_append (out, style == DESCR_REPR ? ", " : ",");
      g_string_append_printf (out, "%" G_GINT64_FORMAT, shape[i]);
    }
  if (style == DESCR_REPR && ndim == 1)
    g_string_append_c (out, ',');
  g_string_append_c (out, style == DESCR_REPR ? ')' : ']');
}

static void
append_padding (GString    *out,
                gsize       size,
                gboolean   *first,
                DescrStyle  style)
{
  if (!*first)
    g_string_append (out, style == DESCR_REPR ? ", " : ",");
  *first = FALSE;
  if (style == DESCR_REPR)
    g_string_append_printf (out, "('', '|V%" G_GSIZE_FORMAT "')", size);
  else
    g_string_append_printf (out, "[\"\",\"|V%" G_GSIZE_FORMAT "\"]", size);
}

/* numpy's dtype.descr for a record: fields in order, gaps as ('', '|Vn'). */
static void
append_struct_descr (const NpvDType *dtype,
                     GString        *out,
                     DescrStyle      style)
{
  const char *sep = style == DESCR_REPR ? ", " : ",";
  gboolean first = TRUE;
  gsize offset = 0;

  g_string_append_c (out, '[');
  for (guint i = 0; i < dtype->n_fields; i++)
    {
      const NpvField *field = &dtype->fields[i];
      const NpvDType *ft = field->dtype;

      if (field->offset > offset)
        append_padding (out, field->offset - offset, &first, style);
      if (!first)
        g_string_append (out, sep);
      first = FALSE;

      g_string_append_c (out, style == DESCR_REPR ? '(' : '[');
      if (field->title != NULL)
        {
          g_string_append_c (out, style == DESCR_REPR ? '(' : '[');
          append_string (out, field->title, style);
          g_string_append (out, sep);
          append_string (out, field->name, style);
          g_string_append_c (out, style == DESCR_REPR ? ')' : ']');
        }
      else
        append_string (out, field->name, style);
      g_string_append (out, sep);
      if (ft->kind == NPV_KIND_SUBARRAY)
        {
          append_descr (ft->base, out, style);
          g_string_append (out, sep);
          append_shape (out, ft->sub_ndim, ft->sub_shape, style);
        }
      else
        append_descr (ft, out, style);
      g_string_append_c (out, style == DESCR_REPR ? ')' : ']');
      offset = field->offset + ft->itemsize;
    }
  if (dtype->itemsize > offset)
    append_padding (out, dtype->itemsize - offset, &first, style);
  g_string_append_c (out, ']');
}

static void
append_descr (const NpvDType *dtype,
              GString        *out,
              DescrStyle      style)
{
  if (dtype->kind == NPV_KIND_STRUCT)
    append_struct_descr (dtype, out, style);
  else if (dtype->kind == NPV_KIND_SUBARRAY)
    {
      /* Only reachable for a subarray of a subarray: numpy writes the pair. */
      g_string_append_c (out, style == DESCR_REPR ? '(' : '[');
      append_descr (dtype->base, out, style);
      g_string_append (out, style == DESCR_REPR ? ", " : ",");
      append_shape (out, dtype->sub_ndim, dtype->sub_shape, style);
      g_string_append_c (out, style == DESCR_REPR ? ')' : ']');
    }
  else
    {
      g_autofree char *str = npv_dtype_to_str (dtype);

      append_string (out, str, style);
    }
}

void
npv_dtype_append_descr_repr (const NpvDType *dtype,
                             GString        *out)
{
  append_descr (dtype, out, DESCR_REPR);
}

void
npv_dtype_append_descr_json (const NpvDType *dtype,
                             GString        *out)
{
  append_descr (dtype, out, DESCR_JSON);
}

/* ---------------------------------------------------------------------- */
/* Words                                                                   */

char *
npv_dtype_get_name (const NpvDType *dtype)
{
  switch (dtype->kind)
    {
    case NPV_KIND_BOOL:
      return g_strdup ("bool");
    case NPV_KIND_INT:
      return g_strdup_printf ("int%" G_GSIZE_FORMAT, dtype->itemsize * 8);
    case NPV_KIND_UINT:
      return g_strdup_printf ("uint%" G_GSIZE_FORMAT, dtype->itemsize * 8);
    case NPV_KIND_FLOAT:
      if (dtype->itemsize == 16)
        return g_strdup ("longdouble (x87 80-bit)");
      return g_strdup_printf ("float%" G_GSIZE_FORMAT, dtype->itemsize * 8);
    case NPV_KIND_COMPLEX:
      if (dtype->itemsize == 32)
        return g_strdup ("clongdouble (x87 80-bit parts)");
      return g_strdup_printf ("complex%" G_GSIZE_FORMAT, dtype->itemsize * 8);
    case NPV_KIND_BYTES:
      return g_strdup_printf ("bytes, %" G_GSIZE_FORMAT " long", dtype->itemsize);
    case NPV_KIND_UNICODE:
      return g_strdup_printf ("text, %" G_GSIZE_FORMAT " characters", dtype->itemsize / 4);
    case NPV_KIND_VOID:
      return g_strdup_printf ("raw bytes, %" G_GSIZE_FORMAT " long", dtype->itemsize);
    case NPV_KIND_OBJECT:
      return g_strdup ("Python object");
    case NPV_KIND_DATETIME:
    case NPV_KIND_TIMEDELTA:
      {
        g_autofree char *str = npv_dtype_to_str (dtype);

        return g_strdup_printf ("%s%s", dtype->kind == NPV_KIND_DATETIME ? "datetime64" : "timedelta64",
                                str + 3);
      }
    case NPV_KIND_STRUCT:
      return g_strdup_printf ("record of %u field%s", dtype->n_fields,
                              dtype->n_fields == 1 ? "" : "s");
    case NPV_KIND_SUBARRAY:
      {
        g_autoptr(GString) shape = g_string_new (NULL);
        g_autofree char *base = npv_dtype_get_name (dtype->base);

        append_shape (shape, dtype->sub_ndim, dtype->sub_shape, DESCR_REPR);
        return g_strdup_printf ("%s %s", base, shape->str);
      }
    default:
      return g_strdup ("?");
    }
}

char *
npv_dtype_describe (const NpvDType *dtype)
{
  g_autofree char *name = npv_dtype_get_name (dtype);

  if (dtype->kind == NPV_KIND_STRUCT)
    {
      GString *out = g_string_new (name);

      g_string_append (out, ": ");
      for (guint i = 0; i < dtype->n_fields; i++)
        {
          g_autofree char *field_name = npv_dtype_describe (dtype->fields[i].dtype);

          if (i > 0)
            g_string_append (out, "; ");
          g_string_append_printf (out, "%s (%s)", dtype->fields[i].name, field_name);
        }
      return g_string_free (out, FALSE);
    }
  if (dtype->kind == NPV_KIND_SUBARRAY)
    {
      g_autofree char *base = npv_dtype_describe (dtype->base);
      g_autoptr(GString) shape = g_string_new (NULL);

      append_shape (shape, dtype->sub_ndim, dtype->sub_shape, DESCR_REPR);
      return g_strdup_printf ("%s %s", base, shape->str);
    }
  if (dtype->byteorder == '<')
    return g_strdup_printf ("%s, little-endian", name);
  if (dtype->byteorder == '>')
    return g_strdup_printf ("%s, big-endian", name);
  return g_steal_pointer (&name);
}

gboolean
npv_dtype_has_object (const NpvDType *dtype)
{
  switch (dtype->kind)
    {
    case NPV_KIND_OBJECT:
      return TRUE;
    case NPV_KIND_SUBARRAY:
      return npv_dtype_has_object (dtype->base);
    case NPV_KIND_STRUCT:
      for (guint i = 0; i < dtype->n_fields; i++)
        if (npv_dtype_has_object (dtype->fields[i].dtype))
          return TRUE;
      return FALSE;
    default:
      return FALSE;
    }
}

gboolean
npv_dtype_is_swapped (const NpvDType *dtype)
{
  if (dtype->byteorder == '|')
    return FALSE;
  return dtype->byteorder != (G_BYTE_ORDER == G_LITTLE_ENDIAN ? '<' : '>');
}

const NpvField *
npv_dtype_find_field (const NpvDType *dtype,
                      const char     *name,
                      gsize           len)
{
  for (guint i = 0; i < dtype->n_fields; i++)
    {
      const NpvField *f = &dtype->fields[i];

      if (strlen (f->name) == len && memcmp (f->name, name, len) == 0)
        return f;
    }
  for (guint i = 0; i < dtype->n_fields; i++)
    {
      const NpvField *f = &dtype->fields[i];

      if (f->title != NULL && strlen (f->title) == len && memcmp (f->title, name, len) == 0)
        return f;
    }
  return NULL;
}

static void
collect_leaves (const NpvDType *dtype,
                const char     *prefix,
                gsize           offset,
                GArray         *leaves)
{
  if (dtype->kind == NPV_KIND_STRUCT)
    {
      for (guint i = 0; i < dtype->n_fields; i++)
        {
          const NpvField *f = &dtype->fields[i];
          g_autofree char *name = prefix[0] != '\0' ? g_strconcat (prefix, ".", f->name, NULL)
                                                    : g_strdup (f->name);

          collect_leaves (f->dtype, name, offset + f->offset, leaves);
        }
    }
  else if (dtype->kind == NPV_KIND_SUBARRAY)
    {
      gint64 index[NPV_MAX_DIMS] = { 0, };

      for (gint64 n = 0; n < dtype->sub_count; n++)
        {
          g_autoptr(GString) name = g_string_new (prefix);

          g_string_append_c (name, '[');
          for (guint d = 0; d < dtype->sub_ndim; d++)
            g_string_append_printf (name, d > 0 ? ",%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, index[d]);
          g_string_append_c (name, ']');
          collect_leaves (dtype->base, name->str, offset + n * dtype->base->itemsize, leaves);

          for (gint d = dtype->sub_ndim - 1; d >= 0; d--)
            {
              if (++index[d] < dtype->sub_shape[d])
                break;
              index[d] = 0;
            }
        }
    }
  else
    {
      NpvLeaf leaf = { g_strdup (prefix), offset, npv_dtype_ref ((NpvDType *) dtype) };

      g_array_append_val (leaves, leaf);
    }
}

static void
leaf_clear (gpointer data)
{
  NpvLeaf *leaf = data;

  g_free (leaf->name);
  npv_dtype_unref (leaf->dtype);
}

GArray *
npv_dtype_collect_leaves (const NpvDType *dtype)
{
  GArray *leaves = g_array_new (FALSE, TRUE, sizeof (NpvLeaf));

  g_array_set_clear_func (leaves, leaf_clear);
  collect_leaves (dtype, "", 0, leaves);
  return leaves;
}
