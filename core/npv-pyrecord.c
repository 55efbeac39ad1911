/* npv-pyrecord.c: records with object fields, rebuilt from their pickle
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-pyrecord"

#include "config.h"

#include "npv-pyrecord.h"

#include <math.h>
#include <string.h>

#include "npv-error.h"

/* Microseconds in one of each unit from days down, for datetime objects. */
static gboolean
unit_in_us (NpvTimeUnit  unit,
            gint64      *us)
{
  switch (unit)
    {
    case NPV_TIME_UNIT_W: *us = G_GINT64_CONSTANT (604800000000); return TRUE;
    case NPV_TIME_UNIT_D: *us = G_GINT64_CONSTANT (86400000000); return TRUE;
    case NPV_TIME_UNIT_h: *us = G_GINT64_CONSTANT (3600000000); return TRUE;
    case NPV_TIME_UNIT_m: *us = 60000000; return TRUE;
    case NPV_TIME_UNIT_s: *us = 1000000; return TRUE;
    case NPV_TIME_UNIT_ms: *us = 1000; return TRUE;
    case NPV_TIME_UNIT_us: *us = 1; return TRUE;
    default: return FALSE;
    }
}

/* Days from 1970-01-01 to a proleptic Gregorian date. */
static gint64
days_from_civil (gint64 y,
                 guint  m,
                 guint  d)
{
  gint64 era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* datetime.date / datetime.datetime / datetime.timedelta as pickled: an
 * OPAQUE call of the class with its state. */
static const char *
opaque_class (const NpvPyObject  *obj,
              const NpvPyObject **args)
{
  NpvPyObject *callable;

  if (npv_py_object_get_kind (obj) != NPV_PY_OPAQUE)
    return NULL;
  callable = npv_py_opaque_get_callable (obj);
  *args = npv_py_opaque_get_args (obj);
  if (callable == NULL || npv_py_object_get_kind (callable) != NPV_PY_GLOBAL || *args == NULL ||
      strcmp (npv_py_object_get_module (callable), "datetime") != 0)
    return NULL;
  return npv_py_object_get_name (callable);
}

static gboolean
time_value (const NpvDType    *dtype,
            const NpvPyObject *obj,
            gint64            *value)
{
  const NpvPyObject *args = NULL;
  const char *cls = opaque_class (obj, &args);
  gint64 us_per_unit, us;

  if (npv_py_object_get_kind (obj) == NPV_PY_NONE)
    {
      *value = G_MININT64;   /* NaT */
      return TRUE;
    }
  if (npv_py_object_get_int (obj, value))
    return TRUE;
  if (cls == NULL || npv_py_object_get_n_items (args) < 1)
    return FALSE;

  if (strcmp (cls, "timedelta") == 0 && dtype->kind == NPV_KIND_TIMEDELTA &&
      npv_py_object_get_n_items (args) == 3)
    {
      gint64 days, seconds, micro;

      if (!npv_py_object_get_int (npv_py_object_get_item (args, 0), &days) ||
          !npv_py_object_get_int (npv_py_object_get_item (args, 1), &seconds) ||
          !npv_py_object_get_int (npv_py_object_get_item (args, 2), &micro))
        return FALSE;
      us = (days * 86400 + seconds) * 1000000 + micro;
    }
  else if ((strcmp (cls, "datetime") == 0 || strcmp (cls, "date") == 0) &&
           dtype->kind == NPV_KIND_DATETIME)
    {
      gsize len;
      const guint8 *b = npv_py_object_get_bytes (npv_py_object_get_item (args, 0), &len);
      gint64 year, days;

      if (b == NULL || len < 4)
        return FALSE;
      year = b[0] * 256 + b[1];
      if (dtype->unit == NPV_TIME_UNIT_Y)
        {
          *value = (year - 1970) / dtype->multiplier;
          return TRUE;
        }
      if (dtype->unit == NPV_TIME_UNIT_M)
        {
          *value = ((year - 1970) * 12 + b[2] - 1) / dtype->multiplier;
          return TRUE;
        }
      days = days_from_civil (year, b[2], b[3]);
      us = days * G_GINT64_CONSTANT (86400000000);
      if (len >= 10)
        us += ((gint64) b[4] * 3600 + b[5] * 60 + b[6]) * 1000000 + (b[7] << 16 | b[8] << 8 | b[9]);
    }
  else
    return FALSE;

  if (!unit_in_us (dtype->unit, &us_per_unit))
    return FALSE;
  us_per_unit *= dtype->multiplier;
  /* Floor division, as numpy converts. */
  *value = us / us_per_unit - (us % us_per_unit < 0);
  return TRUE;
}

static guint16
double_to_half (double v)
{
  guint16 sign = signbit (v) ? 0x8000 : 0;
  double a = fabs (v);
  int e;
  double m, r;

  if (isnan (v))
    return sign | 0x7e00;
  if (a >= 65520.0)
    return sign | 0x7c00;
  m = frexp (a, &e);
  if (a == 0 || e - 1 < -14)
    return sign | (guint16) nearbyint (ldexp (a, 24));   /* subnormal (or the smallest normal) */
  r = nearbyint (ldexp (m, 11));
  if (r == 2048)
    {
      r = 1024;
      e++;
    }
  if (e - 1 > 15)
    return sign | 0x7c00;
  return sign | (guint16) ((e - 1 + 15) << 10) | (guint16) (r - 1024);
}

static void
store_swapped (guint8       *item,
               const void   *native,
               gsize         size,
               gboolean      swap)
{
  const guint8 *bytes = native;

  for (gsize i = 0; i < size; i++)
    item[i] = swap ? bytes[size - 1 - i] : bytes[i];
}

static gboolean pack_value (const NpvDType *dtype, const NpvPyObject *obj, guint8 *item,
                            GPtrArray *objects, guint depth);

static gboolean
pack_scalar (const NpvDType    *dtype,
             const NpvPyObject *obj,
             guint8            *item)
{
  gboolean swap = npv_dtype_is_swapped (dtype);
  NpvPyKind kind = npv_py_object_get_kind (obj);

  /* numpy scalars (long double, and what getitem leaves as numpy
   * objects) carry their own bytes. */
  if (kind == NPV_PY_NDARRAY)
    {
      gsize len;
      const guint8 *data = npv_py_ndarray_get_data (obj, &len);
      NpvDType *own = npv_py_object_get_dtype (obj);

      if (data == NULL || len != dtype->itemsize || own->kind != dtype->kind)
        return FALSE;
      store_swapped (item, data, len, npv_dtype_is_swapped (own) != swap && dtype->kind != NPV_KIND_UNICODE &&
                                      dtype->kind != NPV_KIND_BYTES && dtype->kind != NPV_KIND_VOID);
      return TRUE;
    }

  switch (dtype->kind)
    {
    case NPV_KIND_BOOL:
      if (kind != NPV_PY_BOOL && kind != NPV_PY_INT)
        return FALSE;
      item[0] = npv_py_object_get_bool (obj) ? 1 : 0;
      return TRUE;
    case NPV_KIND_INT:
    case NPV_KIND_UINT:
      {
        gint64 v;
        guint8 le[8];

        if (kind == NPV_PY_BIGINT)
          {
            gsize len;
            const guint8 *b = npv_py_object_get_bigint (obj, &len);

            /* uint64 values above 2**63: 9 bytes, the last 0. */
            if (dtype->kind != NPV_KIND_UINT || dtype->itemsize != 8 || len != 9 || b[8] != 0)
              return FALSE;
            memcpy (le, b, 8);
          }
        else if (npv_py_object_get_int (obj, &v))
          {
            guint64 u = (guint64) v;

            for (guint k = 0; k < 8; k++)
              le[k] = (u >> (8 * k)) & 0xff;
          }
        else
          return FALSE;
        /* Little-endian bytes; big-endian fields reversed. */
        for (gsize k = 0; k < dtype->itemsize; k++)
          item[dtype->byteorder == '>' ? dtype->itemsize - 1 - k : k] = le[k];
        return TRUE;
      }
    case NPV_KIND_FLOAT:
      {
        double v;

        if (kind != NPV_PY_FLOAT && kind != NPV_PY_INT && kind != NPV_PY_BOOL)
          return FALSE;
        v = npv_py_object_get_float (obj);
        if (dtype->itemsize == 2)
          {
            guint16 h = double_to_half (v);

            store_swapped (item, &h, 2, swap);
          }
        else if (dtype->itemsize == 4)
          {
            float f = (float) v;

            store_swapped (item, &f, 4, swap);
          }
        else if (dtype->itemsize == 8)
          store_swapped (item, &v, 8, swap);
        else
          {
            long double ld = v;

            memset (item, 0, dtype->itemsize);
            memcpy (item, &ld, MIN (sizeof ld, dtype->itemsize));
          }
        return TRUE;
      }
    case NPV_KIND_COMPLEX:
      {
        double re, im;
        gsize half = dtype->itemsize / 2;

        if (kind != NPV_PY_COMPLEX && kind != NPV_PY_FLOAT && kind != NPV_PY_INT)
          return FALSE;
        npv_py_object_get_complex (obj, &re, &im);
        if (half == 4)
          {
            float f[2] = { (float) re, (float) im };

            store_swapped (item, &f[0], 4, swap);
            store_swapped (item + 4, &f[1], 4, swap);
          }
        else if (half == 8)
          {
            store_swapped (item, &re, 8, swap);
            store_swapped (item + 8, &im, 8, swap);
          }
        else
          {
            long double parts[2] = { re, im };

            memset (item, 0, dtype->itemsize);
            memcpy (item, &parts[0], MIN (sizeof parts[0], half));
            memcpy (item + half, &parts[1], MIN (sizeof parts[1], half));
          }
        return TRUE;
      }
    case NPV_KIND_UNICODE:
      {
        gsize len, n = dtype->itemsize / 4, i = 0;
        const char *text;

        if (kind != NPV_PY_STR)
          return FALSE;
        text = npv_py_object_get_str (obj, &len);
        memset (item, 0, dtype->itemsize);
        for (const char *p = text; p < text + len && i < n; p = g_utf8_next_char (p), i++)
          {
            guint32 c = g_utf8_get_char (p);

            store_swapped (item + 4 * i, &c, 4, swap);
          }
        return TRUE;
      }
    case NPV_KIND_BYTES:
    case NPV_KIND_VOID:
      {
        gsize len;
        const guint8 *b = npv_py_object_get_bytes (obj, &len);

        if (b == NULL || len > dtype->itemsize)
          return FALSE;
        memset (item, 0, dtype->itemsize);
        memcpy (item, b, len);
        return TRUE;
      }
    case NPV_KIND_DATETIME:
    case NPV_KIND_TIMEDELTA:
      {
        gint64 v;

        if (!time_value (dtype, obj, &v))
          return FALSE;
        store_swapped (item, &v, 8, swap);
        return TRUE;
      }
    default:
      return FALSE;
    }
}

static gboolean
pack_value (const NpvDType    *dtype,
            const NpvPyObject *obj,
            guint8            *item,
            GPtrArray         *objects,
            guint              depth)
{
  if (depth > NPV_MAX_DIMS)
    return FALSE;

  switch (dtype->kind)
    {
    case NPV_KIND_OBJECT:
      {
        gint64 index = objects->len;

        g_ptr_array_add (objects, npv_py_object_ref ((NpvPyObject *) obj));
        memcpy (item, &index, sizeof index);
        return TRUE;
      }
    case NPV_KIND_STRUCT:
      if (npv_py_object_get_kind (obj) != NPV_PY_TUPLE ||
          npv_py_object_get_n_items (obj) != dtype->n_fields)
        return FALSE;
      for (guint i = 0; i < dtype->n_fields; i++)
        if (!pack_value (dtype->fields[i].dtype, npv_py_object_get_item (obj, i),
                         item + dtype->fields[i].offset, objects, depth + 1))
          return FALSE;
      return TRUE;
    case NPV_KIND_SUBARRAY:
      {
        gsize step = dtype->base->itemsize;

        /* getitem gives an array; one holding objects has elements. */
        if (npv_py_object_get_kind (obj) != NPV_PY_NDARRAY ||
            npv_py_ndarray_get_count (obj) != dtype->sub_count)
          return FALSE;
        if (npv_py_ndarray_has_elements (obj))
          {
            for (gint64 k = 0; k < dtype->sub_count; k++)
              if (!pack_value (dtype->base, npv_py_ndarray_get_element (obj, k), item + k * step,
                               objects, depth + 1))
                return FALSE;
            return TRUE;
          }
        {
          gsize len;
          const guint8 *data = npv_py_ndarray_get_data (obj, &len);

          if (len != dtype->itemsize || npv_py_ndarray_is_fortran (obj))
            return FALSE;
          memcpy (item, data, len);
          return TRUE;
        }
      }
    default:
      return pack_scalar (dtype, obj, item);
    }
}

GBytes *
npv_py_records_pack (const NpvPyObject  *array,
                     const NpvDType     *dtype,
                     GPtrArray          *objects,
                     const char         *where,
                     GError            **error)
{
  gint64 count = npv_py_ndarray_get_count (array);
  guint8 *items;

  if ((guint64) count > G_MAXSIZE / MAX (dtype->itemsize, 1))
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TOO_LARGE, "%s: too many records", where);
      return NULL;
    }
  items = g_malloc0 (MAX (count * dtype->itemsize, 1));
  for (gint64 i = 0; i < count; i++)
    {
      const NpvPyObject *element = npv_py_ndarray_get_element (array, i);

      if (element == NULL || !pack_value (dtype, element, items + i * dtype->itemsize, objects, 0))
        {
          g_autofree char *text = element != NULL ? npv_py_object_repr (element) : g_strdup ("nothing");

          g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                       "%s: record %" G_GINT64_FORMAT " does not fit its dtype: %s", where, i, text);
          g_free (items);
          return NULL;
        }
    }
  return g_bytes_new_take (items, count * dtype->itemsize);
}
