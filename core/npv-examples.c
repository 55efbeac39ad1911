/* npv-examples.c: arrays made in memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-examples"

#include "npv-examples.h"

#include <math.h>
#include <string.h>

#include <zlib.h>

#include "npv-dtype.h"
#include "npv-literal.h"
#include "npv-npy.h"

GBytes *
npv_example_smooth_field (void)
{
  const gint64 shape[2] = { 256, 256 };
  g_autoptr(NpvDType) dtype = npv_dtype_new_from_string ("<f8", NULL);
  g_autoptr(GBytes) header = npv_npy_header_build (dtype, 2, shape, FALSE);
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, g_bytes_get_data (header, NULL), g_bytes_get_size (header));
  for (gint64 i = 0; i < shape[0]; i++)
    for (gint64 j = 0; j < shape[1]; j++)
      {
        double x = j / 32.0, y = i / 32.0;
        double v = sin (x) * cos (y) + 0.25 * sin (3 * x + y);

        /* A small hole of missing values, as real measurements have. */
        if ((i - 180) * (i - 180) + (j - 70) * (j - 70) < 36)
          v = NAN;
        g_byte_array_append (out, (const guint8 *) &v, sizeof v);
      }
  return g_byte_array_free_to_bytes (out);
}

/* An .npy file of @dtype and @shape whose bytes @fill writes. */
typedef void (*FillFunc) (GByteArray *out, const gint64 *shape);

static GBytes *
make_npy (const char   *descr,
          guint         ndim,
          const gint64 *shape,
          FillFunc      fill)
{
  g_autoptr(NpvLiteral) literal = npv_literal_parse (descr, strlen (descr), 0, NULL);
  g_autoptr(NpvDType) dtype = npv_dtype_new_from_descr (literal, NULL);
  g_autoptr(GBytes) header = npv_npy_header_build (dtype, ndim, shape, FALSE);
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, g_bytes_get_data (header, NULL), g_bytes_get_size (header));
  fill (out, shape);
  return g_byte_array_free_to_bytes (out);
}

static void
append_f64 (GByteArray *out,
            double      v)
{
  g_byte_array_append (out, (const guint8 *) &v, sizeof v);
}

static void
append_f32 (GByteArray *out,
            float       v)
{
  g_byte_array_append (out, (const guint8 *) &v, sizeof v);
}

static void
fill_field (GByteArray   *out,
            const gint64 *shape)
{
  for (gint64 i = 0; i < shape[0]; i++)
    for (gint64 j = 0; j < shape[1]; j++)
      {
        double x = (j - shape[1] / 2.0) / 40.0, y = (i - shape[0] / 2.0) / 40.0;
        double v = sin (3 * x) * cos (2 * y) * exp (-(x * x + y * y) / 18) + 0.1 * x;

        /* Holes of missing values, as real measurements have. */
        if ((i - 120) * (i - 120) + (j - 380) * (j - 380) < 150 || (i == 300 && j % 7 == 0))
          v = NAN;
        append_f64 (out, v);
      }
}

static void
fill_stack (GByteArray   *out,
            const gint64 *shape)
{
  for (gint64 t = 0; t < shape[0]; t++)
    for (gint64 i = 0; i < shape[1]; i++)
      for (gint64 j = 0; j < shape[2]; j++)
        {
          double r = hypot (i - shape[1] / 2.0, j - shape[2] / 2.0);

          append_f32 (out, (float) (cos (r / 6.0 - t * 0.6) * exp (-r / 60.0)));
        }
}

static void
fill_image (GByteArray   *out,
            const gint64 *shape)
{
  for (gint64 i = 0; i < shape[0]; i++)
    for (gint64 j = 0; j < shape[1]; j++)
      {
        double x = (double) j / shape[1], y = (double) i / shape[0];
        double d = hypot (x - 0.62, y - 0.38);
        guint8 rgb[3];

        rgb[0] = (guint8) CLAMP (255 * (0.2 + 0.8 * x), 0, 255);
        rgb[1] = (guint8) CLAMP (255 * (0.9 - 0.7 * y), 0, 255);
        rgb[2] = (guint8) (d < 0.18 ? 255 : CLAMP (255 * (0.4 + 0.5 * y * x), 0, 255));
        g_byte_array_append (out, rgb, 3);
      }
}

static void
fill_complex (GByteArray   *out,
              const gint64 *shape)
{
  for (gint64 i = 0; i < shape[0]; i++)
    for (gint64 j = 0; j < shape[1]; j++)
      {
        double x = (j - shape[1] / 2.0) / 32.0, y = (i - shape[0] / 2.0) / 32.0;
        double amplitude = exp (-(x * x + y * y) / 8), phase = 2 * atan2 (y, x) + x * 1.5;

        append_f64 (out, amplitude * cos (phase));
        append_f64 (out, amplitude * sin (phase));
      }
}

/* Records: [('time', '<M8[s]'), ('station', '<U8'), ('temperature',
 * '<f4'), ('valid', '?')]: 29 bytes, packed as numpy packs them. */
static void
fill_records (GByteArray   *out,
              const gint64 *shape)
{
  static const char * const stations[] = { "Uppsala", "Lund", "Kiruna", "Visby" };
  gint64 start = 1704067200;   /* 2024-01-01T00:00:00 */

  for (gint64 i = 0; i < shape[0]; i++)
    {
      gint64 time = start + i * 3600;
      const char *station = stations[i % G_N_ELEMENTS (stations)];
      guint32 text[8] = { 0, };
      float temperature = (float) (4.0 + 9.0 * sin (i / 24.0 * 2 * G_PI - 2.0) +
                                   2.0 * cos (i / 61.0) - 3.0 * (i % 4 == 2));
      guint8 valid = i % 37 != 5;

      for (guint k = 0; station[k] != '\0' && k < 8; k++)
        text[k] = (guchar) station[k];
      if (!valid)
        temperature = NAN;
      g_byte_array_append (out, (const guint8 *) &time, 8);
      g_byte_array_append (out, (const guint8 *) text, 32);
      g_byte_array_append (out, (const guint8 *) &temperature, 4);
      g_byte_array_append (out, &valid, 1);
    }
}

static void
fill_signal (GByteArray   *out,
             const gint64 *shape)
{
  guint32 noise = 12345;

  for (gint64 i = 0; i < shape[0]; i++)
    {
      double t = i / 1000.0;

      noise = noise * 1664525u + 1013904223u;
      append_f64 (out, sin (2 * G_PI * 5 * t) + 0.3 * sin (2 * G_PI * 50 * t) +
                       0.05 * ((noise >> 8) / 16777216.0 - 0.5));
    }
}

static void
fill_counts (GByteArray   *out,
             const gint64 *shape)
{
  for (gint64 i = 0; i < shape[0]; i++)
    {
      gint32 v = (gint32) (i * i % 97);

      g_byte_array_append (out, (const guint8 *) &v, sizeof v);
    }
}

static void
append_le16 (GByteArray *out,
             guint       v)
{
  guint8 b[2] = { v & 0xff, (v >> 8) & 0xff };

  g_byte_array_append (out, b, 2);
}

static void
append_le32 (GByteArray *out,
             guint32     v)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

  g_byte_array_append (out, b, 4);
}

/* A zip of stored members, as np.savez writes them (without zip64: the
 * examples are small). */
static GBytes *
make_zip (const char * const *names,
          GBytes            **members,
          guint               n)
{
  GByteArray *out = g_byte_array_new ();
  g_autoptr(GByteArray) directory = g_byte_array_new ();
  guint32 directory_start;

  for (guint i = 0; i < n; i++)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (members[i], &len);
      guint32 crc = crc32 (0, data, len);
      guint32 offset = out->len;
      gsize name_len = strlen (names[i]);

      append_le32 (out, 0x04034b50);
      append_le16 (out, 20);      /* version needed */
      append_le16 (out, 0);       /* flags */
      append_le16 (out, 0);       /* stored */
      append_le16 (out, 0);       /* time */
      append_le16 (out, 0x21);    /* date: 1980-01-01 */
      append_le32 (out, crc);
      append_le32 (out, len);
      append_le32 (out, len);
      append_le16 (out, name_len);
      append_le16 (out, 0);
      g_byte_array_append (out, (const guint8 *) names[i], name_len);
      g_byte_array_append (out, data, len);

      append_le32 (directory, 0x02014b50);
      append_le16 (directory, 20);   /* made by */
      append_le16 (directory, 20);
      append_le16 (directory, 0);
      append_le16 (directory, 0);
      append_le16 (directory, 0);
      append_le16 (directory, 0x21);
      append_le32 (directory, crc);
      append_le32 (directory, len);
      append_le32 (directory, len);
      append_le16 (directory, name_len);
      append_le16 (directory, 0);    /* extra */
      append_le16 (directory, 0);    /* comment */
      append_le16 (directory, 0);    /* disk */
      append_le16 (directory, 0);    /* internal attributes */
      append_le32 (directory, 0);    /* external attributes */
      append_le32 (directory, offset);
      g_byte_array_append (directory, (const guint8 *) names[i], name_len);
    }

  directory_start = out->len;
  g_byte_array_append (out, directory->data, directory->len);
  append_le32 (out, 0x06054b50);
  append_le16 (out, 0);
  append_le16 (out, 0);
  append_le16 (out, n);
  append_le16 (out, n);
  append_le32 (out, directory->len);
  append_le32 (out, directory_start);
  append_le16 (out, 0);
  return g_byte_array_free_to_bytes (out);
}

GBytes *
npv_example_archive (void)
{
  static const gint64 field_shape[] = { 400, 600 };
  static const gint64 stack_shape[] = { 12, 96, 128 };
  static const gint64 image_shape[] = { 240, 320, 3 };
  static const gint64 complex_shape[] = { 256, 256 };
  static const gint64 records_shape[] = { 2000 };
  static const gint64 signal_shape[] = { 1000000 };
  static const gint64 small_shape[] = { 50 };
  static const char * const names[] = {
    "field.npy", "stack.npy", "image.npy", "complex.npy", "records.npy", "signal.npy",
    "experiment/run-1/field.npy", "experiment/run-1/counts.npy", "experiment/run-2/counts.npy",
  };
  GBytes *members[G_N_ELEMENTS (names)];
  GBytes *archive;

  members[0] = make_npy ("'<f8'", 2, field_shape, fill_field);
  members[1] = make_npy ("'<f4'", 3, stack_shape, fill_stack);
  members[2] = make_npy ("'|u1'", 3, image_shape, fill_image);
  members[3] = make_npy ("'<c16'", 2, complex_shape, fill_complex);
  members[4] = make_npy ("[('time', '<M8[s]'), ('station', '<U8'), ('temperature', '<f4'), "
                         "('valid', '?')]", 1, records_shape, fill_records);
  members[5] = make_npy ("'<f8'", 1, signal_shape, fill_signal);
  members[6] = g_bytes_ref (members[0]);
  members[7] = make_npy ("'<i4'", 1, small_shape, fill_counts);
  members[8] = g_bytes_ref (members[7]);

  archive = make_zip (names, members, G_N_ELEMENTS (names));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_bytes_unref (members[i]);
  return archive;
}
