/* fuzz-inflate.c: the random-access inflate index
 *
 * Input: one byte choosing gzip or raw deflate and the checkpoint span,
 * eight bytes giving two offsets, then the stream. Reads at the offsets
 * before the index is built (from no checkpoints), after, and the whole
 * stream after must all agree with zlib inflating the stream in one go.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <zlib.h>

#include "fuzz.h"
#include "npv-inflate.h"
#include "npv-source.h"

/* Bounds what one input may inflate to: deflate expands at most about
 * 1032 times, so INPUT_LIMIT bytes never give more than OUTPUT_LIMIT. */
#define INPUT_LIMIT 1024
#define OUTPUT_LIMIT (2 << 20)
#define READ_LEN 4096

/* zlib's own answer: the inflated bytes of a raw stream, or %NULL if zlib
 * finds it broken or it inflates to more than OUTPUT_LIMIT. */
static GByteArray *
zlib_inflate_raw (const guint8 *data,
                  gsize         size)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  z_stream z = { 0 };
  guint8 buffer[16384];
  int status;

  if (inflateInit2 (&z, -15) != Z_OK)
    return NULL;
  z.next_in = (Bytef *) data;
  z.avail_in = size;
  do
    {
      z.next_out = buffer;
      z.avail_out = sizeof buffer;
      status = inflate (&z, Z_NO_FLUSH);
      g_byte_array_append (out, buffer, sizeof buffer - z.avail_out);
    }
  while (status == Z_OK && out->len <= OUTPUT_LIMIT && (z.avail_in > 0 || z.avail_out == 0));
  inflateEnd (&z);
  if (status != Z_STREAM_END || out->len > OUTPUT_LIMIT)
    return NULL;
  return g_steal_pointer (&out);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(NpvSource) source = NULL;
  g_autoptr(NpvInflateIndex) index = NULL;
  g_autoptr(GByteArray) expected = NULL;
  NpvInflateFormat format;
  guint64 span;
  guint32 offsets[2];
  guint8 before[2][READ_LEN];
  gboolean read_before[2];
  guint64 total;

  npv_fuzz_init ();
  if (size < 9 || size > INPUT_LIMIT + 9)
    return 0;
  format = (data[0] & 1) ? NPV_INFLATE_GZIP : NPV_INFLATE_RAW;
  span = (guint64) 1 << (14 + ((data[0] >> 1) & 7));
  memcpy (offsets, data + 1, sizeof offsets);
  data += 9;
  size -= 9;

  if (format == NPV_INFLATE_RAW)
    {
      expected = zlib_inflate_raw (data, size);
    }

  bytes = g_bytes_new_static (data, size);
  source = npv_source_new_for_bytes (bytes, "fuzz.gz");
  index = npv_inflate_index_new (source, 0, size, format, span);

  /* Reads before the build start from the beginning of the stream. */
  for (guint i = 0; i < 2; i++)
    {
      offsets[i] %= OUTPUT_LIMIT;
      g_clear_error (&error);
      read_before[i] = npv_inflate_index_read (index, offsets[i], before[i], READ_LEN, NULL, &error);
      g_assert (read_before[i] || error != NULL);
      if (expected != NULL)
        g_assert (read_before[i] == (offsets[i] + READ_LEN <= expected->len));
      if (read_before[i] && expected != NULL)
        g_assert (memcmp (before[i], expected->data + offsets[i], READ_LEN) == 0);
    }

  g_clear_error (&error);
  if (!npv_inflate_index_build (index, FALSE, 0, G_MAXUINT64, NULL, NULL, NULL, &error))
    {
      g_assert (error != NULL);
      return 0;
    }
  total = npv_inflate_index_get_size (index);
  g_assert (total <= OUTPUT_LIMIT);
  if (expected != NULL)
    g_assert (total == expected->len);
  else if (format == NPV_INFLATE_RAW)
    g_error ("the index accepts a raw stream zlib refuses");

  /* After: the same bytes, now from checkpoints. */
  for (guint i = 0; i < 2; i++)
    {
      guint8 after[READ_LEN];
      gboolean ok = npv_inflate_index_read (index, offsets[i], after, READ_LEN, NULL, NULL);

      g_assert (ok == (offsets[i] + READ_LEN <= total));
      g_assert (ok == read_before[i]);
      if (ok)
        g_assert (memcmp (before[i], after, READ_LEN) == 0);
    }
  if (expected != NULL && total > 0)
    {
      g_autofree guint8 *all = g_malloc (total);

      if (!npv_inflate_index_read (index, 0, all, total, NULL, &error))
        g_error ("reading a whole stream the index built failed: %s", error->message);
      g_assert (memcmp (all, expected->data, total) == 0);
    }
  return 0;
}
