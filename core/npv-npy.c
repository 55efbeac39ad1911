/* npv-npy.c: .npy headers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-npy"

#include "npv-npy.h"

#include <string.h>

#include "npv-error.h"

#define ARRAY_ALIGN 64
#define GROWTH_AXIS_MAX_DIGITS 21

void
npv_npy_header_clear (NpvNpyHeader *header)
{
  g_clear_pointer (&header->dtype, npv_dtype_unref);
  g_clear_pointer (&header->shape, g_free);
}

G_GNUC_PRINTF (3, 4)
static void
header_error (GError     **error,
              const char  *name,
              const char  *format,
              ...)
{
  g_autofree char *why = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT, "%s: %s", name, why);
}

static char *
shorten_repr (const NpvLiteral *lit)
{
  GString *repr = g_string_new (NULL);

  npv_literal_append_repr (lit, repr);
  if (repr->len > 100)
    {
      g_string_truncate (repr, 97);
      g_string_append (repr, "...");
    }
  return g_string_free (repr, FALSE);
}

/* The header text decoded to UTF-8: latin1 for 1.0 and 2.0, UTF-8 for 3.0. */
static char *
decode_header_text (const guint8  *text,
                    gsize          len,
                    guint8         major,
                    const char    *name,
                    gsize         *out_len,
                    GError       **error)
{
  GString *out;

  if (major == 3)
    {
      const char *bad;

      if (!g_utf8_validate_len ((const char *) text, len, &bad))
        {
          header_error (error, name, "header text is not valid UTF-8 (byte 0x%02x at offset %"
                        G_GSIZE_FORMAT " of the header)", (guchar) *bad,
                        (gsize) ((const guint8 *) bad - text));
          return NULL;
        }
      *out_len = len;
      return g_strndup ((const char *) text, len);
    }

  out = g_string_sized_new (len);
  for (gsize i = 0; i < len; i++)
    g_string_append_unichar (out, text[i]);
  *out_len = out->len;
  return g_string_free (out, FALSE);
}

/* The header text's length: 2 bytes in version 1.0, 4 after. */
static guint64
length_field (const guint8 *data,
              guint8        major)
{
  if (major == 1)
    return data[8] | (data[9] << 8);
  return (guint64) data[8] | ((guint64) data[9] << 8) |
         ((guint64) data[10] << 16) | ((guint64) data[11] << 24);
}

guint64
npv_npy_header_length (const guint8 *data,
                       gsize         size)
{
  gsize prefix_len;

  if (size < 12 || memcmp (data, NPV_NPY_MAGIC, NPV_NPY_MAGIC_LEN) != 0 ||
      data[6] < 1 || data[6] > 3)
    return 0;
  prefix_len = data[6] == 1 ? 10 : 12;
  return prefix_len + length_field (data, data[6]);
}

gboolean
npv_npy_header_parse (NpvNpyHeader  *header,
                      const guint8  *data,
                      gsize          size,
                      const char    *name,
                      GError       **error)
{
  guint64 header_len;
  gsize prefix_len;
  g_autofree char *text = NULL;
  gsize text_len;
  g_autoptr(NpvLiteral) dict = NULL;
  g_autoptr(GError) local_error = NULL;
  const NpvLiteral *descr, *fortran, *shape;
  gint64 dims[NPV_MAX_DIMS] = { 0, };
  g_autoptr(NpvDType) dtype = NULL;
  guint64 count = 1;
  gboolean overflow = FALSE;
  guint64 itemsize;

  memset (header, 0, sizeof *header);

  if (size < NPV_NPY_MAGIC_LEN + 2 || memcmp (data, NPV_NPY_MAGIC, NPV_NPY_MAGIC_LEN) != 0)
    {
      header_error (error, name, "not an .npy file: it does not start with \\x93NUMPY");
      return FALSE;
    }

  header->major = data[6];
  header->minor = data[7];
  if ((header->major != 1 && header->major != 2 && header->major != 3) || header->minor != 0)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED,
                   "%s: .npy format version %u.%u is not one of 1.0, 2.0 and 3.0",
                   name, header->major, header->minor);
      return FALSE;
    }

  prefix_len = header->major == 1 ? 10 : 12;
  if (size < prefix_len)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                   "%s: the file ends inside the header length field (%" G_GSIZE_FORMAT " bytes)",
                   name, size);
      return FALSE;
    }
  header_len = length_field (data, header->major);

  if (header_len > size - prefix_len)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                   "%s: the header claims %" G_GUINT64_FORMAT " bytes but only %" G_GSIZE_FORMAT
                   " follow in the file", name, header_len, size - prefix_len);
      return FALSE;
    }

  text = decode_header_text (data + prefix_len, header_len, header->major, name, &text_len, error);
  if (text == NULL)
    return FALSE;

  dict = npv_literal_parse (text, text_len,
                            header->major <= 2 ? NPV_LITERAL_PARSE_LONG_SUFFIX : 0,
                            &local_error);
  if (dict == NULL)
    {
      header_error (error, name, "cannot parse the header: %s", local_error->message);
      return FALSE;
    }
  if (dict->kind != NPV_LITERAL_DICT)
    {
      g_autofree char *repr = shorten_repr (dict);

      header_error (error, name, "the header is not a dictionary: %s", repr);
      return FALSE;
    }

  descr = npv_literal_dict_lookup (dict, "descr");
  fortran = npv_literal_dict_lookup (dict, "fortran_order");
  shape = npv_literal_dict_lookup (dict, "shape");
  if (descr == NULL || fortran == NULL || shape == NULL || dict->items->len != 6)
    {
      g_autoptr(GString) keys = g_string_new (NULL);

      for (guint i = 0; i < dict->items->len; i += 2)
        {
          if (i > 0)
            g_string_append (keys, ", ");
          npv_literal_append_repr (g_ptr_array_index (dict->items, i), keys);
        }
      header_error (error, name,
                    "the header must have exactly the keys 'descr', 'fortran_order' and 'shape', "
                    "found [%s]", keys->str);
      return FALSE;
    }

  if (shape->kind != NPV_LITERAL_TUPLE)
    {
      g_autofree char *repr = shorten_repr (shape);

      header_error (error, name, "shape is not a tuple of integers: %s", repr);
      return FALSE;
    }
  if (shape->items->len > NPV_MAX_DIMS)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED,
                   "%s: the shape has %u dimensions, more than the %d supported",
                   name, shape->items->len, NPV_MAX_DIMS);
      return FALSE;
    }
  for (guint i = 0; i < shape->items->len; i++)
    {
      const NpvLiteral *dim = g_ptr_array_index (shape->items, i);

      /* numpy's header check lets a bool through (it is an int in
       * Python), but np.load then fails on it: refuse it here. */
      if (dim->kind != NPV_LITERAL_INT)
        {
          g_autofree char *repr = shorten_repr (shape);

          header_error (error, name, "shape is not a tuple of integers: %s", repr);
          return FALSE;
        }
      if (dim->big || dim->integer < 0)
        {
          g_autofree char *repr = shorten_repr (shape);

          header_error (error, name, "shape %s has a %s dimension", repr,
                        dim->integer < 0 ? "negative" : "too large");
          return FALSE;
        }
      dims[i] = dim->integer;
    }
  header->ndim = shape->items->len;

  if (fortran->kind != NPV_LITERAL_BOOL)
    {
      g_autofree char *repr = shorten_repr (fortran);

      header_error (error, name, "fortran_order is not a bool: %s", repr);
      return FALSE;
    }
  header->fortran_order = fortran->integer != 0;

  dtype = npv_dtype_new_from_descr (descr, &local_error);
  if (dtype == NULL)
    {
      g_set_error (error, NPV_ERROR, local_error->code, "%s: %s", name, local_error->message);
      return FALSE;
    }

  /* A subarray dtype at the top level adds its dimensions to the array's. */
  if (dtype->kind == NPV_KIND_SUBARRAY)
    {
      NpvDType *base = dtype->base;

      if (header->ndim + dtype->sub_ndim > NPV_MAX_DIMS)
        {
          g_set_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED,
                       "%s: the shape has more than %d dimensions", name, NPV_MAX_DIMS);
          return FALSE;
        }
      memcpy (dims + header->ndim, dtype->sub_shape, dtype->sub_ndim * sizeof (gint64));
      header->ndim += dtype->sub_ndim;
      npv_dtype_ref (base);
      npv_dtype_unref (dtype);
      dtype = base;
    }

  for (guint i = 0; i < header->ndim; i++)
    {
      guint64 dim = dims[i];

      if (dim != 0 && count > G_MAXINT64 / dim)
        overflow = TRUE;
      else
        count *= dim;
    }
  itemsize = dtype->kind == NPV_KIND_OBJECT ? 8 : dtype->itemsize;
  if (!overflow && itemsize > 0 && count > G_MAXINT64 / itemsize)
    overflow = TRUE;
  /* A zero-sized dimension makes any product zero, overflow or not. */
  for (guint i = 0; i < header->ndim; i++)
    if (dims[i] == 0)
      overflow = FALSE, count = 0;
  if (overflow)
    {
      g_autofree char *repr = shorten_repr (shape);

      g_set_error (error, NPV_ERROR, NPV_ERROR_TOO_LARGE,
                   "%s: shape %s holds more bytes than any file can (the size overflows 64 bits)",
                   name, repr);
      return FALSE;
    }

  header->dtype = g_steal_pointer (&dtype);
  /* Just the dimensions there are: archives hold many headers. */
  header->shape = g_memdup2 (dims, MAX (header->ndim, 1) * sizeof (gint64));
  header->count = count;
  header->nbytes = count * itemsize;
  header->data_offset = prefix_len + header_len;
  return TRUE;
}

gboolean
npv_npy_header_check_size (const NpvNpyHeader  *header,
                           guint64              file_size,
                           const char          *name,
                           GError             **error)
{
  guint64 available = file_size > header->data_offset ? file_size - header->data_offset : 0;

  if (npv_dtype_has_object (header->dtype))
    return TRUE;

  if (available < header->nbytes)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                   "%s: truncated data: the header promises %" G_GUINT64_FORMAT
                   " bytes of data but the file has only %" G_GUINT64_FORMAT " after the header",
                   name, header->nbytes, available);
      return FALSE;
    }
  return TRUE;
}

static void
append_shape_repr (GString      *out,
                   guint         ndim,
                   const gint64 *shape)
{
  g_string_append_c (out, '(');
  for (guint i = 0; i < ndim; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      g_string_append_printf (out, "%" G_GINT64_FORMAT, shape[i]);
    }
  if (ndim == 1)
    g_string_append_c (out, ',');
  g_string_append_c (out, ')');
}

static gboolean
is_latin1 (const char *utf8)
{
  for (const char *p = utf8; *p; p = g_utf8_next_char (p))
    if (g_utf8_get_char (p) > 0xff)
      return FALSE;
  return TRUE;
}

GBytes *
npv_npy_header_build (const NpvDType *dtype,
                      guint           ndim,
                      const gint64   *shape,
                      gboolean        fortran_order)
{
  g_autoptr(GString) text = g_string_new ("{'descr': ");
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 major;
  gsize prefix_len, hlen, padlen;
  guint8 prefix[12];

  npv_dtype_append_descr_repr (dtype, text);
  g_string_append_printf (text, ", 'fortran_order': %s, 'shape': ", fortran_order ? "True" : "False");
  append_shape_repr (text, ndim, shape);
  g_string_append (text, ", }");

  if (ndim > 0)
    {
      char digits[32];
      int n = g_snprintf (digits, sizeof digits, "%" G_GINT64_FORMAT,
                          shape[fortran_order ? ndim - 1 : 0]);

      for (int i = n; i < GROWTH_AXIS_MAX_DIGITS; i++)
        g_string_append_c (text, ' ');
    }

  /* numpy encodes the text as latin1 when it can and picks the smallest
   * version whose length field fits; 3.0 only for other text. */
  if (is_latin1 (text->str))
    {
      /* Re-encode in place: latin1 is never longer than UTF-8. */
      gsize n = 0;

      for (const char *p = text->str; *p;)
        {
          gunichar c = g_utf8_get_char (p);

          p = g_utf8_next_char (p);
          text->str[n++] = (char) c;
        }
      g_string_truncate (text, n);

      hlen = text->len + 1;
      major = 1;
      padlen = ARRAY_ALIGN - ((8 + 2 + hlen) % ARRAY_ALIGN);
      if (hlen + padlen > G_MAXUINT16)
        {
          major = 2;
          padlen = ARRAY_ALIGN - ((8 + 4 + hlen) % ARRAY_ALIGN);
        }
    }
  else
    {
      major = 3;
      hlen = text->len + 1;
      padlen = ARRAY_ALIGN - ((8 + 4 + hlen) % ARRAY_ALIGN);
    }

  prefix_len = major == 1 ? 10 : 12;
  memcpy (prefix, NPV_NPY_MAGIC, NPV_NPY_MAGIC_LEN);
  prefix[6] = major;
  prefix[7] = 0;
  {
    guint64 total = hlen + padlen;

    prefix[8] = total & 0xff;
    prefix[9] = (total >> 8) & 0xff;
    if (major != 1)
      {
        prefix[10] = (total >> 16) & 0xff;
        prefix[11] = (total >> 24) & 0xff;
      }
  }
  g_byte_array_append (out, prefix, prefix_len);
  g_byte_array_append (out, (const guint8 *) text->str, hlen - 1);
  for (gsize i = 0; i < padlen; i++)
    g_byte_array_append (out, (const guint8 *) " ", 1);
  g_byte_array_append (out, (const guint8 *) "\n", 1);

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}
