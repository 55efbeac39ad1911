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
#define INPUT_LIMIT 512
#define OUTPUT_LIMIT (1 << 20)
#define READ_LEN 4096

/* zlib's own answer, in a buffer kept between inputs (large allocations
 * per input would cost more than the inflating): the length of the
 * inflated raw stream, or -1 if zlib finds it broken or it inflates to
 * more than OUTPUT_LIMIT. */
static guint8 expected_data[OUTPUT_LIMIT + 1];
static guint8 whole[OUTPUT_LIMIT];

static gssize
zlib_inflate_raw (const guint8 *data,
                  gsize         size)
{
  z_stream z = { 0 };
  int status;
  gsize len;

  if (inflateInit2 (&z, -15) != Z_OK)
    return -1;
  z.next_in = (Bytef *) data;
  z.avail_in = size;
  z.next_out = expected_data;
  z.avail_out = sizeof expected_data;
  status = inflate (&z, Z_FINISH);
  len = sizeof expected_data - z.avail_out;
  inflateEnd (&z);
  if (status != Z_STREAM_END || len > OUTPUT_LIMIT)
    return -1;
  return len;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(NpvSource) source = NULL;
  g_autoptr(NpvInflateIndex) index = NULL;
  gssize expected_len = -1;
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
  span = (guint64) 1 << (15 + ((data[0] >> 1) & 7));
  memcpy (offsets, data + 1, sizeof offsets);
  data += 9;
  size -= 9;

  if (format == NPV_INFLATE_RAW)
    {
      expected_len = zlib_inflate_raw (data, size);
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
      if (expected_len >= 0)
        g_assert (read_before[i] == (offsets[i] + READ_LEN <= (guint64) expected_len));
      if (read_before[i] && expected_len >= 0)
        g_assert (memcmp (before[i], expected_data + offsets[i], READ_LEN) == 0);
    }

  g_clear_error (&error);
  if (!npv_inflate_index_build (index, FALSE, 0, G_MAXUINT64, NULL, NULL, NULL, &error))
    {
      g_assert (error != NULL);
      return 0;
    }
  total = npv_inflate_index_get_size (index);
  g_assert (total <= OUTPUT_LIMIT);
  if (expected_len >= 0)
    g_assert (total == (guint64) expected_len);
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
  if (expected_len >= 0 && total > 0)
    {
      if (!npv_inflate_index_read (index, 0, whole, total, NULL, &error))
        g_error ("reading a whole stream the index built failed: %s", error->message);
      g_assert (memcmp (whole, expected_data, total) == 0);
    }
  return 0;
}
