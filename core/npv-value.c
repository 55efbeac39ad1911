/* npv-value.c: one item of an array as text or as a number
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-value"

#include "npv-value.h"

#include <string.h>

#include "npv-format.h"
#include "npv-literal.h"
#include "npv-pyobject.h"

static void
swap_bytes (guint8 *p,
            gsize   n)
{
  for (gsize i = 0; i < n / 2; i++)
    {
      guint8 t = p[i];

      p[i] = p[n - 1 - i];
      p[n - 1 - i] = t;
    }
}

void
npv_item_load_native (const NpvDType *dtype,
                      const guint8   *item,
                      guint8         *out)
{
  memcpy (out, item, dtype->itemsize);
  if (!npv_dtype_is_swapped (dtype))
    return;

  switch (dtype->kind)
    {
    case NPV_KIND_COMPLEX:
      swap_bytes (out, dtype->itemsize / 2);
      swap_bytes (out + dtype->itemsize / 2, dtype->itemsize / 2);
      break;
    case NPV_KIND_UNICODE:
      for (gsize i = 0; i + 4 <= dtype->itemsize; i += 4)
        swap_bytes (out + i, 4);
      break;
    default:
      swap_bytes (out, dtype->itemsize);
      break;
    }
}

gboolean
npv_dtype_is_real (const NpvDType *dtype)
{
  return dtype->kind == NPV_KIND_BOOL || dtype->kind == NPV_KIND_INT ||
         dtype->kind == NPV_KIND_UINT || dtype->kind == NPV_KIND_FLOAT;
}

typedef union
{
  guint8 bytes[32];
  gint8 i8; gint16 i16; gint32 i32; gint64 i64;
  guint8 u8; guint16 u16; guint32 u32; guint64 u64;
  float f32; double f64; long double f128;
  float c64[2]; double c128[2]; long double c256[2];
} Scalar;

double
npv_item_to_double (const NpvDType *dtype,
                    const guint8   *item)
{
  Scalar s;

  npv_item_load_native (dtype, item, s.bytes);
  switch (dtype->kind)
    {
    case NPV_KIND_BOOL:
      return s.u8 != 0;
    case NPV_KIND_INT:
      switch (dtype->itemsize)
        {
        case 1: return s.i8;
        case 2: return s.i16;
        case 4: return s.i32;
        default: return (double) s.i64;
        }
    case NPV_KIND_UINT:
      switch (dtype->itemsize)
        {
        case 1: return s.u8;
        case 2: return s.u16;
        case 4: return s.u32;
        default: return (double) s.u64;
        }
    case NPV_KIND_FLOAT:
      switch (dtype->itemsize)
        {
        case 2: return npv_half_to_double (s.u16);
        case 4: return s.f32;
        case 8: return s.f64;
        default: return (double) s.f128;
        }
    default:
      return 0.0;
    }
}

static void append_nested_text (GString        *out,
                                const NpvDType *dtype,
                                const guint8   *item);

static void
append_scalar_text (GString        *out,
                    const NpvDType *dtype,
                    const guint8   *item)
{
  char buf[2 * NPV_FORMAT_NUMBER_MAX + 8];
  Scalar s;

  if (dtype->kind == NPV_KIND_BYTES)
    {
      npv_format_bytes (out, item, dtype->itemsize, TRUE, FALSE);
      return;
    }
  if (dtype->kind == NPV_KIND_VOID)
    {
      npv_format_bytes (out, item, dtype->itemsize, FALSE, TRUE);
      return;
    }
  if (dtype->kind == NPV_KIND_OBJECT)
    {
      gint64 index;

      memcpy (&index, item, sizeof index);
      if (dtype->objects != NULL && index >= 0 && (guint64) index < dtype->objects->len)
        npv_py_object_append_repr (out, g_ptr_array_index (dtype->objects, index), 4096);
      else
        g_string_append (out, "<object>");
      return;
    }
  if (dtype->kind == NPV_KIND_UNICODE)
    {
      gsize n = dtype->itemsize / 4;
      guint32 stack[64];
      guint32 *chars = n <= G_N_ELEMENTS (stack) ? stack : g_new (guint32, n);

      memcpy (chars, item, n * 4);
      if (npv_dtype_is_swapped (dtype))
        for (gsize i = 0; i < n; i++)
          chars[i] = GUINT32_SWAP_LE_BE (chars[i]);
      npv_format_ucs4 (out, chars, n);
      if (chars != stack)
        g_free (chars);
      return;
    }

  npv_item_load_native (dtype, item, s.bytes);
  switch (dtype->kind)
    {
    case NPV_KIND_BOOL:
      g_string_append (out, s.u8 ? "True" : "False");
      break;
    case NPV_KIND_INT:
      g_string_append_printf (out, "%" G_GINT64_FORMAT,
                              dtype->itemsize == 1 ? s.i8 : dtype->itemsize == 2 ? s.i16 :
                              dtype->itemsize == 4 ? s.i32 : s.i64);
      break;
    case NPV_KIND_UINT:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT,
                              dtype->itemsize == 1 ? s.u8 : dtype->itemsize == 2 ? s.u16 :
                              dtype->itemsize == 4 ? s.u32 : s.u64);
      break;
    case NPV_KIND_FLOAT:
      switch (dtype->itemsize)
        {
        case 2: npv_format_half (s.u16, buf); break;
        case 4: npv_format_float (s.f32, buf); break;
        case 8: npv_format_double (s.f64, buf); break;
        default: npv_format_long_double (s.f128, buf); break;
        }
      g_string_append (out, buf);
      break;
    case NPV_KIND_COMPLEX:
      switch (dtype->itemsize)
        {
        case 8: npv_format_complex_float (s.c64[0], s.c64[1], buf); break;
        case 16: npv_format_complex_double (s.c128[0], s.c128[1], buf); break;
        default: npv_format_complex_long_double (s.c256[0], s.c256[1], buf); break;
        }
      g_string_append (out, buf);
      break;
    case NPV_KIND_DATETIME:
      npv_format_datetime (out, s.i64, dtype->unit, dtype->multiplier);
      break;
    case NPV_KIND_TIMEDELTA:
      npv_format_timedelta (out, s.i64, dtype->unit, dtype->multiplier);
      break;
    default:
      g_string_append_c (out, '?');
      break;
    }
}

void
npv_append_item_text (GString        *out,
                      const NpvDType *dtype,
                      const guint8   *item)
{
  if (dtype->kind == NPV_KIND_STRUCT)
    {
      g_string_append_c (out, '(');
      for (guint i = 0; i < dtype->n_fields; i++)
        {
          if (i > 0)
            g_string_append (out, ", ");
          append_nested_text (out, dtype->fields[i].dtype, item + dtype->fields[i].offset);
        }
      if (dtype->n_fields == 1)
        g_string_append_c (out, ',');
      g_string_append_c (out, ')');
    }
  else if (dtype->kind == NPV_KIND_SUBARRAY)
    {
      /* Nested brackets, one level per dimension, as numpy prints them. */
      gint64 index[NPV_MAX_DIMS] = { 0, };
      gsize step = dtype->base->itemsize;

      if (dtype->sub_count == 0)
        {
          for (guint d = 0; d < dtype->sub_ndim; d++)
            g_string_append_c (out, '[');
          for (guint d = 0; d < dtype->sub_ndim; d++)
            g_string_append_c (out, ']');
          return;
        }
      for (gint64 n = 0; n < dtype->sub_count; n++)
        {
          guint opened = 0;

          for (gint d = dtype->sub_ndim - 1; d >= 0 && index[d] == 0; d--)
            opened++;
          if (n > 0)
            g_string_append (out, ", ");
          for (guint k = 0; k < opened; k++)
            g_string_append_c (out, '[');
          append_nested_text (out, dtype->base, item + n * step);
          for (gint d = dtype->sub_ndim - 1; d >= 0; d--)
            {
              if (++index[d] < dtype->sub_shape[d])
                break;
              index[d] = 0;
              g_string_append_c (out, ']');
            }
        }
    }
  else
    append_scalar_text (out, dtype, item);
}

/* Inside records and subarrays text is quoted, as numpy prints it, so that
 * "a, b" cannot be mistaken for two values. */
static void
append_nested_text (GString        *out,
                    const NpvDType *dtype,
                    const guint8   *item)
{
  if (dtype->kind == NPV_KIND_UNICODE)
    {
      g_autoptr(GString) text = g_string_new (NULL);

      append_scalar_text (text, dtype, item);
      npv_append_python_str_repr (out, text->str, text->len);
    }
  else
    npv_append_item_text (out, dtype, item);
}
