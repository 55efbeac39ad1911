/* test-inflate.c: random access into deflate streams, against known input
 *
 * Every stream is made here, with zlib's deflate, from data generated here,
 * so the expected bytes are always the known input (a plain inflate of the
 * big stream is checked against it too, and timed). The program takes no
 * arguments besides the GTest options.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <time.h>

#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <zlib.h>

#include "npv-error.h"
#include "npv-inflate.h"
#include "npv-source.h"

#define KiB ((gsize) 1024)
#define MiB ((gsize) 1024 * 1024)

/* ---------------------------------------------------------------------- */
/* Data                                                                    */

typedef enum {
  DATA_RANDOM,    /* incompressible */
  DATA_SPARSE,    /* mostly zeros: highly compressible */
  DATA_TYPICAL,   /* arrays of floats, counters and text, a bit of each */
  DATA_ZEROS,
} DataKind;

static guint64
next_random (guint64 *state)
{
  guint64 x = *state;

  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *state = x;
  return x;
}

static GBytes *
make_data (DataKind kind,
           gsize    size,
           guint64  seed)
{
  guint8 *data = g_malloc0 (MAX (size, 1));
  guint64 state = seed * 0x9e3779b97f4a7c15ull + 1;

  switch (kind)
    {
    case DATA_RANDOM:
      for (gsize i = 0; i + 8 <= size; i += 8)
        {
          guint64 x = next_random (&state);

          memcpy (data + i, &x, 8);
        }
      for (gsize i = size & ~(gsize) 7; i < size; i++)
        data[i] = next_random (&state);
      break;

    case DATA_SPARSE:
      for (gsize i = 0; i < size; i += 1 + next_random (&state) % 4000)
        data[i] = next_random (&state);
      break;

    case DATA_TYPICAL:
      for (gsize at = 0; at < size; at += 64 * KiB)
        {
          gsize n = MIN (64 * KiB, size - at);
          guint part = (at / (64 * KiB)) % 3;

          for (gsize i = 0; i + 4 <= n; i += 4)
            {
              guint32 word;

              if (part == 0)
                {
                  /* float32 samples of a noisy triangle wave */
                  gint64 phase = (gint64) ((at + i) / 4 % 20000) - 10000;
                  float v = (phase < 0 ? -phase : phase) * 0.01f
                            + (next_random (&state) % 256) / 64.0f;

                  memcpy (&word, &v, 4);
                }
              else if (part == 1)
                word = (guint32) ((at + i) / 4 * 3 + next_random (&state) % 3);
              else
                {
                  static const char words[] = "the quick brown fox jumps over a lazy dog ";

                  word = 0;
                  for (int k = 0; k < 4; k++)
                    word |= (guint32) (guint8) words[(i + k + next_random (&state) % 2)
                                                     % (sizeof words - 1)] << (8 * k);
                }
              memcpy (data + at + i, &word, 4);
            }
        }
      break;

    case DATA_ZEROS:
    default:
      break;
    }
  return g_bytes_new_take (data, size);
}

/* ---------------------------------------------------------------------- */
/* Streams                                                                 */

typedef struct
{
  int level;
  gsize flush_every;      /* 0: one deflate call per MiB, no flush */
  int flush;              /* the flush used every @flush_every bytes */
  gboolean alternate;     /* alternate @level and 0 (stored blocks) per piece */
} DeflateOptions;

static void
run_deflate (z_stream   *z,
             GByteArray *out,
             guint8     *buf,
             gsize       buf_size,
             int         flush)
{
  int ret;

  do
    {
      z->next_out = buf;
      z->avail_out = buf_size;
      ret = deflate (z, flush);
      g_assert_cmpint (ret, !=, Z_STREAM_ERROR);
      g_byte_array_append (out, buf, buf_size - z->avail_out);
    }
  while (z->avail_out == 0 || (flush == Z_FINISH && ret != Z_STREAM_END));
}

/* Deflates @data: raw when @window_bits is -15, gzip with @header at 31. */
static GBytes *
deflate_data (GBytes               *data,
              int                   window_bits,
              const DeflateOptions *options,
              gz_header            *header)
{
  const gsize buf_size = 1 * MiB;
  g_autofree guint8 *buf = g_malloc (buf_size);
  GByteArray *out = g_byte_array_new ();
  gsize size;
  const guint8 *p = g_bytes_get_data (data, &size);
  gsize piece = options->flush_every > 0 ? options->flush_every : 1 * MiB;
  z_stream z = { 0 };
  guint n = 0;

  g_assert_cmpint (deflateInit2 (&z, options->level, Z_DEFLATED, window_bits, 8,
                                 Z_DEFAULT_STRATEGY), ==, Z_OK);
  if (header != NULL)
    g_assert_cmpint (deflateSetHeader (&z, header), ==, Z_OK);

  for (gsize at = 0; at < size; at += piece, n++)
    {
      gsize len = MIN (piece, size - at);

      if (options->alternate)
        {
          z.next_out = buf;
          z.avail_out = buf_size;
          g_assert_cmpint (deflateParams (&z, n % 2 ? 0 : options->level, Z_DEFAULT_STRATEGY),
                           ==, Z_OK);
          g_byte_array_append (out, buf, buf_size - z.avail_out);
        }
      z.next_in = (Bytef *) p + at;
      z.avail_in = len;
      run_deflate (&z, out, buf, buf_size, options->flush_every > 0 ? options->flush : Z_NO_FLUSH);
      g_assert_cmpuint (z.avail_in, ==, 0);
    }
  z.next_in = NULL;
  z.avail_in = 0;
  run_deflate (&z, out, buf, buf_size, Z_FINISH);
  deflateEnd (&z);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
deflate_raw (GBytes *data,
             int     level)
{
  DeflateOptions options = { .level = level };

  return deflate_data (data, -15, &options, NULL);
}

static void
put_le32 (GByteArray *out,
          guint32     value)
{
  guint8 b[4] = { value, value >> 8, value >> 16, value >> 24 };

  g_byte_array_append (out, b, 4);
}

/* A gzip member around raw deflate data, with the header written here (so
 * that fields can be longer than zlib's gz_header would take). */
static GBytes *
wrap_gzip (GBytes     *raw,
           GBytes     *data,
           gsize       extra_len,
           const char *name,
           const char *comment,
           gboolean    hcrc)
{
  GByteArray *out = g_byte_array_new ();
  guint8 head[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
  gsize size;
  const guint8 *p = g_bytes_get_data (data, &size);

  head[3] = (extra_len > 0 ? 0x04 : 0) | (name ? 0x08 : 0) | (comment ? 0x10 : 0)
            | (hcrc ? 0x02 : 0);
  g_byte_array_append (out, head, sizeof head);
  if (extra_len > 0)
    {
      guint8 xlen[2] = { extra_len, extra_len >> 8 };

      g_byte_array_append (out, xlen, 2);
      for (gsize i = 0; i < extra_len; i++)
        {
          guint8 b = i * 7 + 1;

          g_byte_array_append (out, &b, 1);
        }
    }
  if (name != NULL)
    g_byte_array_append (out, (const guint8 *) name, strlen (name) + 1);
  if (comment != NULL)
    g_byte_array_append (out, (const guint8 *) comment, strlen (comment) + 1);
  if (hcrc)
    {
      guint32 crc = crc32 (0, out->data, out->len);
      guint8 b[2] = { crc, crc >> 8 };

      g_byte_array_append (out, b, 2);
    }
  g_byte_array_append (out, g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  put_le32 (out, crc32 (0, p, size));
  put_le32 (out, size);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
concat (GBytes *first,
        ...)
{
  GByteArray *out = g_byte_array_new ();
  va_list args;

  va_start (args, first);
  for (GBytes *b = first; b != NULL; b = va_arg (args, GBytes *))
    g_byte_array_append (out, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
  va_end (args);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
zeros (gsize n)
{
  return g_bytes_new_take (g_malloc0 (MAX (n, 1)), n);
}

/* A copy of @bytes with @f applied to a copy of its data. */
static GBytes *
patch (GBytes *bytes,
       gsize   at,
       guint8  xor_mask)
{
  gsize size;
  guint8 *copy = g_bytes_unref_to_data (g_bytes_ref (bytes), &size);

  g_assert_cmpuint (at, <, size);
  copy[at] ^= xor_mask;
  return g_bytes_new_take (copy, size);
}

static NpvInflateIndex *
index_for (GBytes          *stream,
           NpvInflateFormat format,
           guint64          span)
{
  g_autoptr(NpvSource) source = npv_source_new_for_bytes (stream, "test-stream");

  return npv_inflate_index_new (source, 0, g_bytes_get_size (stream), format, span);
}

/* An index over @stream placed at an offset inside a bigger source, as a
 * zip member is. */
static NpvInflateIndex *
index_for_embedded (GBytes          *stream,
                    NpvInflateFormat format,
                    guint64          span)
{
  gsize size = g_bytes_get_size (stream);
  g_autoptr(GBytes) before = make_data (DATA_RANDOM, 1000, 99);
  g_autoptr(GBytes) after = make_data (DATA_RANDOM, 777, 98);
  g_autoptr(GBytes) all = concat (before, stream, after, NULL);
  g_autoptr(NpvSource) source = npv_source_new_for_bytes (all, "test-archive");

  return npv_inflate_index_new (source, 1000, size, format, span);
}

static gboolean
build (NpvInflateIndex *index,
       GBytes          *expected,
       GError         **error)
{
  gsize size;
  const guint8 *p = g_bytes_get_data (expected, &size);

  return npv_inflate_index_build (index, TRUE, crc32 (0, p, size), size, NULL, NULL, NULL, error);
}

/* ---------------------------------------------------------------------- */
/* Reads checked against the known input                                  */

static gboolean
check_read (NpvInflateIndex *index,
            GBytes          *expected,
            guint64          offset,
            gsize            len)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *buf = g_malloc (MAX (len, 1));
  gsize size;
  const guint8 *data = g_bytes_get_data (expected, &size);
  gboolean ok = npv_inflate_index_read (index, offset, buf, len, NULL, &error);

  if (offset > size || len > size - offset)
    {
      if (ok || !g_error_matches (error, NPV_ERROR, NPV_ERROR_TRUNCATED))
        {
          g_test_fail_printf ("read of %" G_GSIZE_FORMAT " at %" G_GUINT64_FORMAT
                              " past the end %" G_GSIZE_FORMAT ": %s", len, offset, size,
                              ok ? "succeeded" : error->message);
          return FALSE;
        }
      return TRUE;
    }
  if (!ok)
    {
      g_test_fail_printf ("read of %" G_GSIZE_FORMAT " at %" G_GUINT64_FORMAT ": %s",
                          len, offset, error->message);
      return FALSE;
    }
  if (memcmp (buf, data + offset, len) != 0)
    {
      gsize i = 0;

      while (buf[i] == data[offset + i])
        i++;
      g_test_fail_printf ("read of %" G_GSIZE_FORMAT " at %" G_GUINT64_FORMAT
                          ": byte %" G_GUINT64_FORMAT " is 0x%02x, expected 0x%02x",
                          len, offset, offset + i, buf[i], data[offset + i]);
      return FALSE;
    }
  return TRUE;
}

/* Edge reads, reads across checkpoints and @n_random random ones. */
static void
check_reads (NpvInflateIndex *index,
             GBytes          *expected,
             guint64          span,
             guint            n_random)
{
  gsize size = g_bytes_get_size (expected);
  guint64 edges[][2] = {
    { 0, 0 }, { size / 2, 0 }, { size, 0 }, { size + 1, 0 }, { size, 1 },
    { size > 0 ? size - 1 : 0, 1 }, { size > 0 ? size - 1 : 0, 2 }, { 0, MIN (size, 100) },
    { G_MAXUINT64 - 2, 5 }, { G_MAXUINT64, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (edges); i++)
    if (!check_read (index, expected, edges[i][0], edges[i][1]))
      return;

  /* around the places where checkpoints are due */
  for (guint64 k = 1; k <= 12 && k * span < size; k++)
    {
      guint64 at = k * span;

      if (!check_read (index, expected, at - 5, MIN (10, size - (at - 5)))
          || !check_read (index, expected, at, 1)
          || !check_read (index, expected, at - 1, MIN (span + 2, size - (at - 1))))
        return;
    }

  for (guint i = 0; i < n_random; i++)
    {
      guint64 offset = size > 0 ? (guint64) g_test_rand_double_range (0, size) : 0;
      gsize maxima[] = { 100, 64 * KiB, 2 * span, 300 * KiB };
      gsize max = maxima[i % G_N_ELEMENTS (maxima)];
      gsize len;

      len = g_test_rand_int_range (0, MIN (max, size - offset) + 1);
      if (!check_read (index, expected, offset, len))
        return;
    }
}

/* Before the build every read starts at the start of the stream: a few,
 * and to the end only of small streams. */
static void
check_reads_before (NpvInflateIndex *index,
                    GBytes          *expected)
{
  gsize size = g_bytes_get_size (expected);

  if (!check_read (index, expected, 0, 0)
      || !check_read (index, expected, 0, MIN (size, 100))
      || !check_read (index, expected, size / 50, MIN (size - size / 50, 70 * KiB))
      || size > 16 * MiB)
    return;
  if (check_read (index, expected, size > 0 ? size - 1 : 0, MIN (size, 1)))
    check_read (index, expected, size, 1);
}

/* Reads before the build, the build, reads after; the whole stream once. */
static void
check_stream (GBytes          *stream,
              NpvInflateFormat format,
              GBytes          *expected,
              guint64          span,
              gboolean         embedded)
{
  const guint n_random = 60;
  g_autoptr(NpvInflateIndex) index = NULL;
  g_autoptr(GError) error = NULL;
  gsize size = g_bytes_get_size (expected);

  index = embedded ? index_for_embedded (stream, format, span) : index_for (stream, format, span);
  g_assert_false (npv_inflate_index_is_complete (index));
  g_assert_cmpuint (npv_inflate_index_get_size (index), ==, 0);

  check_reads_before (index, expected);

  g_assert_true (build (index, expected, &error));
  g_assert_no_error (error);
  g_assert_true (npv_inflate_index_is_complete (index));
  g_assert_cmpuint (npv_inflate_index_get_size (index), ==, size);
  g_assert_cmpuint (npv_inflate_index_get_memory (index), >, 0);
  g_test_message ("%" G_GSIZE_FORMAT " bytes from %" G_GSIZE_FORMAT ", span %" G_GUINT64_FORMAT
                  ": index of %" G_GSIZE_FORMAT " bytes", size, g_bytes_get_size (stream), span,
                  npv_inflate_index_get_memory (index));

  /* a second build has nothing to do */
  g_assert_true (build (index, expected, &error));
  g_assert_no_error (error);

  check_reads (index, expected, span, n_random);
  check_read (index, expected, 0, size);
}

/* ---------------------------------------------------------------------- */
/* Raw streams                                                             */

static void
test_raw_incompressible (void)
{
  g_autoptr(GBytes) data = make_data (DATA_RANDOM, 3 * MiB + 17, 1);
  g_autoptr(GBytes) stream = deflate_raw (data, 6);

  check_stream (stream, NPV_INFLATE_RAW, data, 128 * KiB, FALSE);
  check_stream (stream, NPV_INFLATE_RAW, data, 128 * KiB, TRUE);
}

static void
test_raw_compressible (void)
{
  g_autoptr(GBytes) data = make_data (DATA_SPARSE, 4 * MiB, 2);
  g_autoptr(GBytes) stream = deflate_raw (data, 6);
  g_autoptr(GBytes) zero_data = make_data (DATA_ZEROS, 3 * MiB + 3, 0);
  g_autoptr(GBytes) zero_stream = deflate_raw (zero_data, 9);

  check_stream (stream, NPV_INFLATE_RAW, data, 256 * KiB, TRUE);
  check_stream (zero_stream, NPV_INFLATE_RAW, zero_data, 100 * KiB, FALSE);
}

static void
test_raw_stored (void)
{
  g_autoptr(GBytes) data = make_data (DATA_TYPICAL, 3 * MiB, 3);
  g_autoptr(GBytes) stored = deflate_raw (data, 0);
  DeflateOptions mixed = { .level = 6, .flush_every = 300 * KiB + 11, .flush = Z_NO_FLUSH,
                           .alternate = TRUE };
  g_autoptr(GBytes) mixed_stream = deflate_data (data, -15, &mixed, NULL);

  check_stream (stored, NPV_INFLATE_RAW, data, 100 * KiB, FALSE);
  check_stream (mixed_stream, NPV_INFLATE_RAW, data, 64 * KiB, TRUE);
}

static void
test_raw_levels (void)
{
  g_autoptr(GBytes) data = make_data (DATA_TYPICAL, 3 * MiB + 999, 4);
  g_autoptr(GBytes) fast = deflate_raw (data, 1);
  g_autoptr(GBytes) best = deflate_raw (data, 9);

  check_stream (fast, NPV_INFLATE_RAW, data, 256 * KiB, FALSE);
  check_stream (best, NPV_INFLATE_RAW, data, 256 * KiB, TRUE);
  check_stream (best, NPV_INFLATE_RAW, data, 1 * MiB, FALSE);
}

/* Many small blocks, ending at every bit position, with a tiny span: a
 * checkpoint at almost every block boundary. */
static void
test_raw_small_blocks (void)
{
  g_autoptr(GBytes) data = make_data (DATA_TYPICAL, 1 * MiB, 5);
  DeflateOptions partial = { .level = 6, .flush_every = 997, .flush = Z_PARTIAL_FLUSH };
  DeflateOptions block = { .level = 6, .flush_every = 1501, .flush = Z_BLOCK };
  DeflateOptions sync = { .level = 1, .flush_every = 4000, .flush = Z_SYNC_FLUSH };
  DeflateOptions full = { .level = 9, .flush_every = 7000, .flush = Z_FULL_FLUSH };
  g_autoptr(GBytes) s1 = deflate_data (data, -15, &partial, NULL);
  g_autoptr(GBytes) s2 = deflate_data (data, -15, &block, NULL);
  g_autoptr(GBytes) s3 = deflate_data (data, -15, &sync, NULL);
  g_autoptr(GBytes) s4 = deflate_data (data, -15, &full, NULL);

  check_stream (s1, NPV_INFLATE_RAW, data, 2 * KiB, FALSE);
  check_stream (s2, NPV_INFLATE_RAW, data, 1, TRUE);
  check_stream (s3, NPV_INFLATE_RAW, data, 10 * KiB, FALSE);
  check_stream (s4, NPV_INFLATE_RAW, data, 30 * KiB, FALSE);
}

static void
test_raw_empty (void)
{
  g_autoptr(GBytes) data = zeros (0);
  g_autoptr(GBytes) stream = deflate_raw (data, 6);

  check_stream (stream, NPV_INFLATE_RAW, data, 1 * MiB, FALSE);
}

/* The checkpoint memory stays bounded: with a span far too small for the
 * stream the checkpoints are thinned. */
static void
test_raw_thinning (void)
{
  g_autoptr(GBytes) data = make_data (DATA_RANDOM, 24 * MiB, 6);
  DeflateOptions options = { .level = 0, .flush_every = 4 * KiB, .flush = Z_SYNC_FLUSH };
  g_autoptr(GBytes) stream = deflate_data (data, -15, &options, NULL);
  g_autoptr(NpvInflateIndex) index = index_for (stream, NPV_INFLATE_RAW, 4 * KiB);
  g_autoptr(GError) error = NULL;
  gsize memory;

  g_assert_true (build (index, data, &error));
  g_assert_no_error (error);
  memory = npv_inflate_index_get_memory (index);
  g_test_message ("24 MiB incompressible, span 4 KiB: index of %" G_GSIZE_FORMAT " bytes", memory);
  g_assert_cmpuint (memory, <=, 64 * MiB + 64 * KiB);
  g_assert_cmpuint (memory, >=, 16 * MiB);
  check_reads (index, data, 4 * KiB, 100);
}

/* ---------------------------------------------------------------------- */
/* gzip                                                                    */

static void
test_gzip_single (void)
{
  g_autoptr(GBytes) data = make_data (DATA_TYPICAL, 3 * MiB + 5, 7);
  DeflateOptions options = { .level = 6 };
  g_autoptr(GBytes) stream = deflate_data (data, 31, &options, NULL);

  check_stream (stream, NPV_INFLATE_GZIP, data, 256 * KiB, FALSE);
  check_stream (stream, NPV_INFLATE_GZIP, data, 1 * MiB, TRUE);
}

static void
test_gzip_multi (void)
{
  g_autoptr(GBytes) d1 = make_data (DATA_TYPICAL, 700 * KiB + 3, 8);
  g_autoptr(GBytes) d2 = zeros (0);
  g_autoptr(GBytes) d3 = make_data (DATA_RANDOM, 40 * KiB, 9);
  g_autoptr(GBytes) d4 = make_data (DATA_SPARSE, 2 * MiB, 10);
  g_autoptr(GBytes) d5 = make_data (DATA_TYPICAL, 5, 11);
  g_autoptr(GBytes) d6 = make_data (DATA_TYPICAL, 1 * MiB, 12);
  DeflateOptions options = { .level = 6 };
  g_autoptr(GBytes) m1 = deflate_data (d1, 31, &options, NULL);
  g_autoptr(GBytes) m2 = deflate_data (d2, 31, &options, NULL);
  g_autoptr(GBytes) m3 = deflate_data (d3, 31, &options, NULL);
  g_autoptr(GBytes) m4 = deflate_data (d4, 31, &options, NULL);
  g_autoptr(GBytes) m5 = deflate_data (d5, 31, &options, NULL);
  g_autoptr(GBytes) m6 = deflate_data (d6, 31, &options, NULL);
  g_autoptr(GBytes) expected = concat (d1, d2, d3, d4, d2, d5, d6, NULL);
  g_autoptr(GBytes) stream = concat (m1, m2, m3, m4, m2, m5, m6, NULL);
  g_autoptr(GBytes) pad = zeros (1000);
  g_autoptr(GBytes) padded = concat (stream, pad, NULL);
  g_autoptr(GBytes) empty_first = concat (m2, m2, m3, NULL);
  g_autoptr(GBytes) empty_expected = concat (d3, NULL);
  g_autoptr(GBytes) only_empty = concat (m2, pad, NULL);

  check_stream (stream, NPV_INFLATE_GZIP, expected, 128 * KiB, FALSE);
  check_stream (stream, NPV_INFLATE_GZIP, expected, 1, TRUE);
  check_stream (stream, NPV_INFLATE_GZIP, expected, 1 * MiB, FALSE);
  check_stream (padded, NPV_INFLATE_GZIP, expected, 100 * KiB, TRUE);
  check_stream (empty_first, NPV_INFLATE_GZIP, empty_expected, 4 * KiB, FALSE);
  check_stream (only_empty, NPV_INFLATE_GZIP, d2, 4 * KiB, FALSE);
}

/* Header fields written by zlib itself, and by hand for sizes beyond one
 * input chunk. */
static void
test_gzip_header_fields (void)
{
  g_autoptr(GBytes) d1 = make_data (DATA_TYPICAL, 500 * KiB, 13);
  g_autoptr(GBytes) d2 = make_data (DATA_SPARSE, 300 * KiB, 14);
  g_autoptr(GBytes) raw2 = deflate_raw (d2, 6);
  DeflateOptions options = { .level = 6 };
  guint8 extra[300];
  gz_header header = {
    .text = 1, .time = 1234567890, .os = 3,
    .extra = extra, .extra_len = sizeof extra,
    .name = (Bytef *) "array.npy", .comment = (Bytef *) "a comment", .hcrc = 1,
  };
  gz_header name_only = { .os = 3, .name = (Bytef *) "x.npy" };
  gz_header comment_hcrc = { .os = 3, .comment = (Bytef *) "only a comment", .hcrc = 1 };
  g_autoptr(GBytes) m1 = NULL;
  g_autoptr(GBytes) m2 = NULL;
  g_autoptr(GBytes) m3 = NULL;
  g_autoptr(GBytes) m4 = NULL;
  g_autoptr(GBytes) stream = NULL;
  g_autoptr(GBytes) expected = NULL;
  g_autofree char *long_name = g_strnfill (150 * KiB, 'n');
  g_autofree char *long_comment = g_strnfill (70 * KiB, 'c');

  for (guint i = 0; i < sizeof extra; i++)
    extra[i] = i * 13;
  m1 = deflate_data (d1, 31, &options, &header);
  m2 = deflate_data (d2, 31, &options, &name_only);
  m3 = deflate_data (d1, 31, &options, &comment_hcrc);
  m4 = wrap_gzip (raw2, d2, 65535, long_name, long_comment, TRUE);
  stream = concat (m1, m2, m3, m4, m1, NULL);
  expected = concat (d1, d2, d1, d2, d1, NULL);

  check_stream (stream, NPV_INFLATE_GZIP, expected, 64 * KiB, FALSE);
  check_stream (stream, NPV_INFLATE_GZIP, expected, 200 * KiB, TRUE);
}

/* A gzip stream in the middle of a file: input through pread(). */
static void
test_gzip_file (void)
{
  g_autoptr(GBytes) d1 = make_data (DATA_TYPICAL, 2 * MiB + 1, 25);
  g_autoptr(GBytes) d2 = make_data (DATA_RANDOM, 300 * KiB, 26);
  DeflateOptions options = { .level = 6 };
  gz_header header = { .os = 3, .name = (Bytef *) "member.npy", .hcrc = 1 };
  g_autoptr(GBytes) m1 = deflate_data (d1, 31, &options, &header);
  g_autoptr(GBytes) m2 = deflate_data (d2, 31, &options, NULL);
  g_autoptr(GBytes) before = make_data (DATA_RANDOM, 4099, 27);
  g_autoptr(GBytes) stream = concat (m1, m2, m1, NULL);
  g_autoptr(GBytes) expected = concat (d1, d2, d1, NULL);
  g_autoptr(GBytes) file = concat (before, stream, before, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvSource) source = NULL;
  g_autoptr(NpvInflateIndex) index = NULL;
  g_autofree char *path = NULL;
  int fd;

  fd = g_file_open_tmp ("test-inflate-XXXXXX.bin", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (file, NULL),
                                      g_bytes_get_size (file), &error));
  g_assert_no_error (error);
  source = npv_source_new_for_path (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (npv_source_get_fd (source), >=, 0);

  index = npv_inflate_index_new (source, 4099, g_bytes_get_size (stream), NPV_INFLATE_GZIP,
                                 256 * KiB);
  check_reads_before (index, expected);
  g_assert_true (build (index, expected, &error));
  g_assert_no_error (error);
  check_reads (index, expected, 256 * KiB, 60);
  check_read (index, expected, 0, g_bytes_get_size (expected));

  g_unlink (path);
}

/* ---------------------------------------------------------------------- */
/* The big stream, and timing                                              */

static GBytes *big_data;
static GBytes *big_raw;
static GBytes *big_gzip;

static void
ensure_big (void)
{
  if (big_data != NULL)
    return;
  big_data = make_data (DATA_TYPICAL, 64 * MiB, 15);
  big_raw = deflate_raw (big_data, 1);
  big_gzip = wrap_gzip (big_raw, big_data, 0, NULL, NULL, FALSE);
}

/* Seconds of CPU time of this thread: on a shared machine wall time says
 * more about the neighbours than about the code. */
static double
cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What the index is measured against: one inflate of the whole stream
 * with the same input chunks and output buffer, zlib checking the gzip
 * CRC-32 itself. Returns the seconds taken. */
static double
plain_inflate (GBytes  *stream,
               gboolean gzip,
               GBytes  *expected)
{
  g_autoptr(NpvSource) source = npv_source_new_for_bytes (stream, "plain");
  g_autofree guint8 *in = g_malloc (64 * KiB);
  g_autofree guint8 *out = g_malloc (256 * KiB);
  const guint8 *want = g_bytes_get_data (expected, NULL);
  guint64 length = g_bytes_get_size (stream);
  guint64 pos = 0;
  guint64 done = 0;
  gboolean same = TRUE;
  z_stream z = { 0 };
  double start = cpu_seconds ();
  int ret = Z_OK;

  g_assert_cmpint (inflateInit2 (&z, gzip ? 31 : -15), ==, Z_OK);
  while (ret != Z_STREAM_END)
    {
      if (z.avail_in == 0)
        {
          gsize n = MIN (64 * KiB, length - pos);

          g_assert_true (npv_source_read (source, pos, in, n, NULL));
          pos += n;
          z.next_in = in;
          z.avail_in = n;
        }
      z.next_out = out;
      z.avail_out = 256 * KiB;
      ret = inflate (&z, Z_NO_FLUSH);
      g_assert_true (ret == Z_OK || ret == Z_STREAM_END);
      /* cheap spot checks: comparing everything would be timed too */
      if (z.avail_out < 256 * KiB && out[0] != want[done])
        same = FALSE;
      done += 256 * KiB - z.avail_out;
    }
  inflateEnd (&z);
  g_assert_true (same);
  g_assert_cmpuint (done, ==, g_bytes_get_size (expected));
  return cpu_seconds () - start;
}

/* The same, in one call into a buffer for everything (already touched). */
static double
plain_inflate_once (GBytes *stream,
                    GBytes *expected)
{
  gsize size = g_bytes_get_size (expected);
  g_autofree guint8 *out = g_malloc (size);
  z_stream z = { 0 };
  double start;

  memset (out, 1, size);   /* no page faults in the timing */
  g_assert_cmpint (inflateInit2 (&z, -15), ==, Z_OK);
  start = cpu_seconds ();
  z.next_in = (Bytef *) g_bytes_get_data (stream, NULL);
  z.avail_in = g_bytes_get_size (stream);
  z.next_out = out;
  z.avail_out = size;
  g_assert_cmpint (inflate (&z, Z_FINISH), ==, Z_STREAM_END);
  start = cpu_seconds () - start;
  inflateEnd (&z);
  g_assert_true (memcmp (out, g_bytes_get_data (expected, NULL), size) == 0);
  return start;
}

static double
timed_build (NpvInflateIndex *index,
             gboolean         check_crc)
{
  g_autoptr(GError) error = NULL;
  gsize size;
  const guint8 *p = g_bytes_get_data (big_data, &size);
  guint32 crc = check_crc ? crc32 (0, p, size) : 0;
  double start = cpu_seconds ();

  g_assert_true (npv_inflate_index_build (index, check_crc, crc, size, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return cpu_seconds () - start;
}

static void
test_big (void)
{
  ensure_big ();
  check_stream (big_raw, NPV_INFLATE_RAW, big_data, 1 * MiB, FALSE);
}

static void
test_speed (void)
{
  double plain_raw = G_MAXDOUBLE, plain_gzip = G_MAXDOUBLE, once = G_MAXDOUBLE;
  double build_raw = G_MAXDOUBLE, build_gzip = G_MAXDOUBLE;
  g_autoptr(NpvInflateIndex) last = NULL;
  g_autofree guint8 *buf = g_malloc (64 * KiB);
  gsize size;
  const guint8 *data;
  double start;
  const guint n_reads = 50;

  ensure_big ();
  data = g_bytes_get_data (big_data, &size);

  for (int round = 0; round < 1; round++)
    {
      g_autoptr(NpvInflateIndex) raw = index_for (big_raw, NPV_INFLATE_RAW, 1 * MiB);
      g_autoptr(NpvInflateIndex) gzip = index_for (big_gzip, NPV_INFLATE_GZIP, 1 * MiB);

      double t;

      /* (MIN () would run its arguments twice) */
      t = plain_inflate (big_raw, FALSE, big_data);
      plain_raw = MIN (plain_raw, t);
      t = timed_build (raw, FALSE);
      build_raw = MIN (build_raw, t);
      t = plain_inflate (big_gzip, TRUE, big_data);
      plain_gzip = MIN (plain_gzip, t);
      t = timed_build (gzip, TRUE);
      build_gzip = MIN (build_gzip, t);
      t = plain_inflate_once (big_raw, big_data);
      once = MIN (once, t);
      g_clear_pointer (&last, npv_inflate_index_unref);
      last = g_steal_pointer (&gzip);
    }

  g_test_message ("64 MiB (%" G_GSIZE_FORMAT " bytes deflated, level 1), span 1 MiB, "
                  "CPU time:",
                  g_bytes_get_size (big_raw));
  g_test_message ("  raw:  plain inflate %.3f s, build %.3f s: %.2fx", plain_raw, build_raw,
                  build_raw / plain_raw);
  g_test_message ("  gzip: plain inflate %.3f s, build %.3f s: %.2fx (CRC-32 in both)",
                  plain_gzip, build_gzip, build_gzip / plain_gzip);
  g_test_message ("  one inflate call into a 64 MiB buffer: %.3f s", once);
  g_test_message ("  index: %" G_GSIZE_FORMAT " bytes", npv_inflate_index_get_memory (last));

  start = cpu_seconds ();
  for (guint i = 0; i < n_reads; i++)
    {
      guint64 offset = g_test_rand_int_range (0, size - 64 * KiB);

      g_assert_true (npv_inflate_index_read (last, offset, buf, 64 * KiB, NULL, NULL));
      g_assert_true (memcmp (buf, data + offset, 64 * KiB) == 0);
    }
  g_test_message ("  64 KiB random read after the build: %.2f ms on average (plain inflate of "
                  "1 MiB: %.2f ms)", (cpu_seconds () - start) * 1e3 / n_reads,
                  plain_gzip * 1e3 / 64);
}

/* ---------------------------------------------------------------------- */
/* Threads                                                                 */

typedef struct
{
  NpvInflateIndex *index;
  GBytes *expected;
  guint seed;
  guint n_reads;
  guint n_during;       /* reads done before the build completed */
  char *failure;
} Reader;

/* Atomics rather than a GMutex and GCond: GLib's are bare futexes, which
 * the thread sanitizer cannot see. */
static gint readers_during;    /* readers with a read done during the build */
static gint readers_stop;

static gpointer
reader_thread (gpointer user_data)
{
  Reader *r = user_data;
  gsize size;
  const guint8 *data = g_bytes_get_data (r->expected, &size);
  g_autoptr(GRand) rand = g_rand_new_with_seed (r->seed);
  g_autofree guint8 *buf = g_malloc (128 * KiB);

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gboolean complete = npv_inflate_index_is_complete (r->index);
      guint64 offset = g_rand_int_range (rand, 0, size);
      gsize len = g_rand_int_range (rand, 0, MIN (128 * KiB, size - offset) + 1);
      gboolean stop;

      if (!npv_inflate_index_read (r->index, offset, buf, len, NULL, &error))
        {
          r->failure = g_strdup_printf ("read of %" G_GSIZE_FORMAT " at %" G_GUINT64_FORMAT
                                        ": %s", len, offset, error->message);
          break;
        }
      if (memcmp (buf, data + offset, len) != 0)
        {
          r->failure = g_strdup_printf ("read of %" G_GSIZE_FORMAT " at %" G_GUINT64_FORMAT
                                        ": wrong bytes", len, offset);
          break;
        }
      r->n_reads++;
      if (!complete && r->n_during++ == 0)
        g_atomic_int_inc (&readers_during);
      stop = g_atomic_int_get (&readers_stop);
      if (stop && r->n_reads >= 10)
        break;
    }

  /* failed before any read during the build: do not keep the build waiting */
  if (r->n_during == 0)
    g_atomic_int_inc (&readers_during);
  return NULL;
}

/* Holds the build, once, until every reader has read while it runs. */
static gboolean
wait_for_readers (guint64  done_in,
                  guint64  total_in,
                  gpointer user_data)
{
  guint n_readers = GPOINTER_TO_UINT (user_data);
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;

  if (done_in < 1 * MiB)
    return TRUE;
  while ((guint) g_atomic_int_get (&readers_during) < n_readers
         && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  return TRUE;
}

static void
run_threads (GBytes          *stream,
             NpvInflateFormat format,
             GBytes          *expected)
{
  const guint n_readers = 3;
  g_autoptr(NpvInflateIndex) index = index_for (stream, format, 512 * KiB);
  g_autoptr(GError) error = NULL;
  Reader readers[3] = { 0 };
  GThread *threads[3];
  gsize size;
  const guint8 *p = g_bytes_get_data (expected, &size);

  g_atomic_int_set (&readers_during, 0);
  g_atomic_int_set (&readers_stop, FALSE);
  for (guint i = 0; i < n_readers; i++)
    {
      readers[i].index = index;
      readers[i].expected = expected;
      readers[i].seed = g_test_rand_int () + i;
      threads[i] = g_thread_new ("reader", reader_thread, &readers[i]);
    }

  g_assert_true (npv_inflate_index_build (index, TRUE, crc32 (0, p, size), size, NULL,
                                          wait_for_readers, GUINT_TO_POINTER (n_readers), &error));
  g_assert_no_error (error);

  g_atomic_int_set (&readers_stop, TRUE);
  for (guint i = 0; i < n_readers; i++)
    {
      g_thread_join (threads[i]);
      if (readers[i].failure != NULL)
        g_test_fail_printf ("reader %u: %s", i, readers[i].failure);
      g_test_message ("reader %u: %u reads, %u during the build", i, readers[i].n_reads,
                      readers[i].n_during);
      g_assert_cmpuint (readers[i].n_during, >, 0);
      g_free (readers[i].failure);
    }
}

static void
test_threads (void)
{
  g_autoptr(GBytes) data = make_data (DATA_TYPICAL, 10 * MiB, 16);
  g_autoptr(GBytes) data2 = make_data (DATA_RANDOM, 2 * MiB, 17);
  DeflateOptions options = { .level = 1 };
  g_autoptr(GBytes) raw = deflate_raw (data, 1);
  g_autoptr(GBytes) m1 = deflate_data (data, 31, &options, NULL);
  g_autoptr(GBytes) m2 = deflate_data (data2, 31, &options, NULL);
  g_autoptr(GBytes) gzip = concat (m2, m1, m2, NULL);
  g_autoptr(GBytes) gzip_expected = concat (data2, data, data2, NULL);

  run_threads (raw, NPV_INFLATE_RAW, data);
  run_threads (gzip, NPV_INFLATE_GZIP, gzip_expected);
}

/* ---------------------------------------------------------------------- */
/* Broken streams                                                          */

static void
assert_broken (GError *error,
               gsize   at)
{
  if (!g_error_matches (error, NPV_ERROR, NPV_ERROR_FORMAT)
      && !g_error_matches (error, NPV_ERROR, NPV_ERROR_TRUNCATED))
    g_test_fail_printf ("at %" G_GSIZE_FORMAT ": unexpected error %s %d: %s", at,
                        g_quark_to_string (error->domain), error->code, error->message);
}

/* Reads from a broken stream fail cleanly or give bytes (which nothing
 * checks in the middle of a stream). */
static void
poke_reads (NpvInflateIndex *index,
            gsize            size,
            gsize            at)
{
  g_autofree guint8 *buf = g_malloc (200 * KiB);

  for (int i = 0; i < 3; i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 offset = g_test_rand_int_range (0, size + 10);
      gsize len = g_test_rand_int_range (0, 200 * KiB);

      if (!npv_inflate_index_read (index, offset, buf, len, NULL, &error))
        assert_broken (error, at);
    }
}

static void
check_flips (GBytes          *stream,
             NpvInflateFormat format,
             GBytes          *expected,
             guint            n_flips)
{
  gsize length = g_bytes_get_size (stream);
  gsize size = g_bytes_get_size (expected);
  guint n_failed = 0;

  for (guint i = 0; i < n_flips; i++)
    {
      gsize at = i < 40 ? i * length / 40 : (gsize) g_test_rand_int_range (0, length);
      g_autoptr(GBytes) broken = patch (stream, at, 1u << g_test_rand_int_range (0, 8));
      g_autoptr(NpvInflateIndex) index = index_for (broken, format, 16 * KiB);
      g_autoptr(GError) error = NULL;

      if (i % 4 == 0)
        poke_reads (index, size, at);
      if (build (index, expected, &error))
        {
          /* a flip in padding bits changes nothing */
          check_read (index, expected, 0, size);
          continue;
        }
      n_failed++;
      assert_broken (error, at);
      g_assert_false (npv_inflate_index_is_complete (index));
      if (i % 4 == 1)
        poke_reads (index, size, at);
    }
  g_test_message ("%u of %u flipped streams fail", n_failed, n_flips);
  g_assert_cmpuint (n_failed, >, n_flips * 9 / 10);
}

static void
test_corrupt_flips (void)
{
  g_autoptr(GBytes) data = make_data (DATA_TYPICAL, 400 * KiB, 18);
  g_autoptr(GBytes) raw = deflate_raw (data, 6);
  DeflateOptions options = { .level = 6 };
  g_autoptr(GBytes) m1 = deflate_data (data, 31, &options, NULL);
  g_autoptr(GBytes) gzip = concat (m1, m1, NULL);
  g_autoptr(GBytes) gzip_expected = concat (data, data, NULL);

  check_flips (raw, NPV_INFLATE_RAW, data, 100);
  check_flips (gzip, NPV_INFLATE_GZIP, gzip_expected, 100);
}

static void
check_cut (GBytes          *stream,
           NpvInflateFormat format,
           GBytes          *expected,
           gsize            cut,
           gboolean         valid)
{
  g_autoptr(GBytes) part = g_bytes_new_from_bytes (stream, 0, cut);
  g_autoptr(NpvInflateIndex) index = index_for (part, format, 32 * KiB);
  g_autoptr(GError) error = NULL;
  gboolean ok = npv_inflate_index_build (index, FALSE, 0, G_MAXUINT64, NULL, NULL, NULL, &error);

  if (valid)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
      return;
    }
  g_assert_false (ok);
  if (!g_error_matches (error, NPV_ERROR, NPV_ERROR_TRUNCATED))
    g_test_fail_printf ("cut at %" G_GSIZE_FORMAT ": %s", cut, error->message);
  if (cut % 8 == 0)
    poke_reads (index, g_bytes_get_size (expected), cut);
}

/* Cut at every byte near the ends and near @boundary (a member boundary,
 * where a cut leaves a valid stream, or 0), and every 997 bytes. */
static void
check_cuts (GBytes          *stream,
            NpvInflateFormat format,
            GBytes          *expected,
            gsize            boundary)
{
  gsize length = g_bytes_get_size (stream);

  for (gsize cut = 0; cut < length; cut++)
    {
      gboolean near = cut < 64 || cut > length - 64 || (boundary > 0 && cut + 32 > boundary
                                                        && cut < boundary + 32);

      if (near || cut % 997 == 0)
        check_cut (stream, format, expected, cut, boundary > 0 && cut == boundary);
    }
}

static void
test_corrupt_truncated (void)
{
  g_autoptr(GBytes) data = make_data (DATA_TYPICAL, 300 * KiB, 19);
  g_autoptr(GBytes) raw = deflate_raw (data, 6);
  gz_header header = { .os = 3, .name = (Bytef *) "a.npy", .comment = (Bytef *) "c", .hcrc = 1 };
  DeflateOptions options = { .level = 6 };
  g_autoptr(GBytes) m1 = deflate_data (data, 31, &options, &header);
  g_autoptr(GBytes) gzip = concat (m1, m1, NULL);
  g_autoptr(GBytes) gzip_expected = concat (data, data, NULL);

  check_cuts (raw, NPV_INFLATE_RAW, data, 0);
  check_cuts (gzip, NPV_INFLATE_GZIP, gzip_expected, g_bytes_get_size (m1));
}

static void
expect_build_error (GBytes          *stream,
                    NpvInflateFormat format,
                    gboolean         check_crc,
                    guint32          crc,
                    guint64          size,
                    int              code)
{
  g_autoptr(NpvInflateIndex) index = index_for (stream, format, 64 * KiB);
  g_autoptr(GError) error = NULL;

  g_assert_false (npv_inflate_index_build (index, check_crc, crc, size, NULL, NULL, NULL, &error));
  g_assert_error (error, NPV_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "test-stream"));
  g_assert_false (npv_inflate_index_is_complete (index));
}

static void
test_corrupt_checks (void)
{
  g_autoptr(GBytes) data = make_data (DATA_TYPICAL, 1 * MiB, 20);
  const guint8 *p = g_bytes_get_data (data, NULL);
  guint32 crc = crc32 (0, p, 1 * MiB);
  g_autoptr(GBytes) raw = deflate_raw (data, 6);
  DeflateOptions options = { .level = 6 };
  g_autoptr(GBytes) gzip = deflate_data (data, 31, &options, NULL);
  gsize glen = g_bytes_get_size (gzip);
  g_autoptr(GBytes) bad_crc = patch (gzip, glen - 8, 0x40);
  g_autoptr(GBytes) bad_isize = patch (gzip, glen - 3, 0x01);
  g_autoptr(GBytes) bad_magic = patch (gzip, 1, 0x01);
  g_autoptr(GBytes) bad_method = patch (gzip, 2, 0x01);
  g_autoptr(GBytes) bad_flags = patch (gzip, 3, 0x80);
  g_autoptr(GBytes) raw2 = deflate_raw (data, 6);
  g_autoptr(GBytes) hcrc_member = wrap_gzip (raw2, data, 10, "n", NULL, TRUE);
  g_autoptr(GBytes) bad_hcrc = patch (hcrc_member, 10 + 2 + 10 + 2, 0x04);
  g_autoptr(GBytes) garbage = make_data (DATA_TYPICAL, 5, 21);
  g_autoptr(GBytes) trailing = concat (gzip, garbage, NULL);
  g_autoptr(GBytes) pad = zeros (100);
  g_autoptr(GBytes) trailing2 = concat (gzip, pad, garbage, NULL);
  g_autoptr(GBytes) empty = zeros (0);
  g_autoptr(GBytes) all_zeros = zeros (100);
  g_autoptr(GBytes) random = make_data (DATA_RANDOM, 100 * KiB, 22);
  g_autoptr(GBytes) stored_bad_len = NULL;
  guint8 stored[] = { 0x01, 0x05, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o' };  /* NLEN wrong */

  stored_bad_len = g_bytes_new (stored, sizeof stored);

  expect_build_error (raw, NPV_INFLATE_RAW, TRUE, crc ^ 1, G_MAXUINT64, NPV_ERROR_FORMAT);
  expect_build_error (raw, NPV_INFLATE_RAW, TRUE, crc, 1 * MiB + 1, NPV_ERROR_TRUNCATED);
  expect_build_error (raw, NPV_INFLATE_RAW, TRUE, crc, 1 * MiB - 1, NPV_ERROR_FORMAT);
  expect_build_error (raw, NPV_INFLATE_RAW, FALSE, 0, 1000, NPV_ERROR_FORMAT);
  expect_build_error (gzip, NPV_INFLATE_GZIP, FALSE, 0, 1 * MiB + 7, NPV_ERROR_TRUNCATED);
  expect_build_error (bad_crc, NPV_INFLATE_GZIP, FALSE, 0, G_MAXUINT64, NPV_ERROR_FORMAT);
  expect_build_error (bad_isize, NPV_INFLATE_GZIP, FALSE, 0, G_MAXUINT64, NPV_ERROR_FORMAT);
  expect_build_error (bad_magic, NPV_INFLATE_GZIP, FALSE, 0, G_MAXUINT64, NPV_ERROR_FORMAT);
  expect_build_error (bad_method, NPV_INFLATE_GZIP, FALSE, 0, G_MAXUINT64, NPV_ERROR_FORMAT);
  expect_build_error (bad_flags, NPV_INFLATE_GZIP, FALSE, 0, G_MAXUINT64, NPV_ERROR_FORMAT);
  expect_build_error (bad_hcrc, NPV_INFLATE_GZIP, FALSE, 0, G_MAXUINT64, NPV_ERROR_FORMAT);
  expect_build_error (trailing, NPV_INFLATE_GZIP, FALSE, 0, G_MAXUINT64, NPV_ERROR_FORMAT);
  expect_build_error (trailing2, NPV_INFLATE_GZIP, FALSE, 0, G_MAXUINT64, NPV_ERROR_FORMAT);
  expect_build_error (empty, NPV_INFLATE_GZIP, FALSE, 0, G_MAXUINT64, NPV_ERROR_TRUNCATED);
  expect_build_error (empty, NPV_INFLATE_RAW, FALSE, 0, G_MAXUINT64, NPV_ERROR_TRUNCATED);
  expect_build_error (all_zeros, NPV_INFLATE_GZIP, FALSE, 0, G_MAXUINT64, NPV_ERROR_FORMAT);
  expect_build_error (raw, NPV_INFLATE_GZIP, FALSE, 0, G_MAXUINT64, NPV_ERROR_FORMAT);
  expect_build_error (stored_bad_len, NPV_INFLATE_RAW, FALSE, 0, G_MAXUINT64, NPV_ERROR_FORMAT);

  /* random bytes as deflate data: broken, or at best cut short */
  {
    g_autoptr(NpvInflateIndex) index = index_for (random, NPV_INFLATE_RAW, 4 * KiB);
    g_autoptr(GError) error = NULL;

    g_assert_false (npv_inflate_index_build (index, FALSE, 0, G_MAXUINT64, NULL, NULL, NULL,
                                             &error));
    assert_broken (error, 0);
  }

  /* a stream that goes beyond its source */
  {
    g_autoptr(NpvSource) source = npv_source_new_for_bytes (raw, "test-stream");
    g_autoptr(NpvInflateIndex) index = npv_inflate_index_new (source, 10, g_bytes_get_size (raw),
                                                              NPV_INFLATE_RAW, 0);
    g_autoptr(GError) error = NULL;

    g_assert_false (npv_inflate_index_build (index, FALSE, 0, G_MAXUINT64, NULL, NULL, NULL,
                                             &error));
    assert_broken (error, 0);
  }

  /* after a failed build, reads still work from the checkpoints it made */
  {
    g_autoptr(NpvInflateIndex) index = index_for (bad_crc, NPV_INFLATE_GZIP, 64 * KiB);
    g_autoptr(GError) error = NULL;

    g_assert_false (npv_inflate_index_build (index, FALSE, 0, G_MAXUINT64, NULL, NULL, NULL,
                                             &error));
    g_assert_error (error, NPV_ERROR, NPV_ERROR_FORMAT);
    check_reads (index, data, 64 * KiB, 50);
  }
}

/* A zip bomb costs time, not memory: 128 MiB of zeros from 130 KiB. */
static void
test_bomb (void)
{
  g_autoptr(GBytes) chunk = zeros (64 * MiB);
  DeflateOptions options = { .level = 9 };
  g_autoptr(GBytes) member = deflate_data (chunk, 31, &options, NULL);
  g_autoptr(GByteArray) all = g_byte_array_new ();
  g_autoptr(GBytes) stream = NULL;
  g_autoptr(NpvInflateIndex) index = NULL;
  g_autoptr(NpvInflateIndex) lying = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *buf = g_malloc (64 * KiB);
  gint64 start;

  for (int i = 0; i < 2; i++)
    g_byte_array_append (all, g_bytes_get_data (member, NULL), g_bytes_get_size (member));
  stream = g_byte_array_free_to_bytes (g_steal_pointer (&all));

  index = index_for (stream, NPV_INFLATE_GZIP, 1 * MiB);
  start = g_get_monotonic_time ();
  g_assert_true (npv_inflate_index_build (index, FALSE, 0, G_MAXUINT64, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (npv_inflate_index_get_size (index), ==, 128 * MiB);
  g_test_message ("128 MiB of zeros from %" G_GSIZE_FORMAT " bytes: built in %.2f s, "
                  "index of %" G_GSIZE_FORMAT " bytes", g_bytes_get_size (stream),
                  (g_get_monotonic_time () - start) / 1e6, npv_inflate_index_get_memory (index));
  g_assert_cmpuint (npv_inflate_index_get_memory (index), <, 1 * MiB);

  for (int i = 0; i < 20; i++)
    {
      guint64 offset = (guint64) g_test_rand_double_range (0, 128 * MiB - 64 * KiB);

      g_assert_true (npv_inflate_index_read (index, offset, buf, 64 * KiB, NULL, NULL));
      for (gsize k = 0; k < 64 * KiB; k++)
        g_assert_cmpuint (buf[k], ==, 0);
    }

  /* with the size known, a bomb stops as soon as it passes it */
  lying = index_for (stream, NPV_INFLATE_GZIP, 1 * MiB);
  g_clear_error (&error);
  g_assert_false (npv_inflate_index_build (lying, FALSE, 0, 10 * MiB, NULL, NULL, NULL, &error));
  g_assert_error (error, NPV_ERROR, NPV_ERROR_FORMAT);
}

/* ---------------------------------------------------------------------- */
/* Cancellation                                                            */

typedef struct
{
  GCancellable *cancellable;
  guint calls;
  guint cancel_at;      /* the call that cancels */
  gboolean refuse;      /* by returning FALSE rather than with @cancellable */
  guint64 last_done;
  gboolean wrong;
} Progress;

static gboolean
count_progress (guint64  done_in,
                guint64  total_in,
                gpointer user_data)
{
  Progress *progress = user_data;

  if (done_in < progress->last_done || done_in > total_in)
    progress->wrong = TRUE;
  progress->last_done = done_in;
  if (++progress->calls == progress->cancel_at)
    {
      if (progress->refuse)
        return FALSE;
      g_cancellable_cancel (progress->cancellable);
    }
  return TRUE;
}

/* Tries to build again from inside the build. */
static gboolean
build_again (guint64  done_in,
             guint64  total_in,
             gpointer user_data)
{
  NpvInflateIndex *index = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_false (npv_inflate_index_build (index, FALSE, 0, G_MAXUINT64, NULL, NULL, NULL, &error));
  g_assert_error (error, NPV_ERROR, NPV_ERROR_FAILED);
  return TRUE;
}

static void
test_cancel (void)
{
  g_autoptr(GBytes) data = make_data (DATA_TYPICAL, 4 * MiB, 23);
  g_autoptr(GBytes) random = make_data (DATA_RANDOM, 4 * MiB, 24);
  g_autoptr(GBytes) raw = deflate_raw (data, 6);
  g_autoptr(GBytes) stored = deflate_raw (random, 0);
  g_autoptr(GBytes) gzip = wrap_gzip (stored, random, 0, NULL, NULL, FALSE);
  gsize size = g_bytes_get_size (data);
  const guint8 *p = g_bytes_get_data (data, NULL);
  g_autofree guint8 *buf = g_malloc (64 * KiB);

  for (int mode = 0; mode < 3; mode++)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(NpvInflateIndex) index = index_for (raw, NPV_INFLATE_RAW, 256 * KiB);
      g_autoptr(GError) error = NULL;
      Progress progress = { .cancellable = cancellable, .cancel_at = 2, .refuse = mode == 1 };

      if (mode == 2)
        g_cancellable_cancel (cancellable);
      g_assert_false (npv_inflate_index_build (index, TRUE, crc32 (0, p, size), size, cancellable,
                                               count_progress, &progress, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_false (progress.wrong);
      g_assert_false (npv_inflate_index_is_complete (index));
      g_clear_error (&error);

      /* a read with the cancellable fails, without it it works */
      if (mode != 1)
        {
          g_assert_false (npv_inflate_index_read (index, 3 * MiB, buf, 64 * KiB, cancellable,
                                                  &error));
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          g_clear_error (&error);
        }
      check_read (index, data, 3 * MiB, 64 * KiB);

      /* and the build can run again */
      progress = (Progress) { .cancellable = NULL };
      g_assert_true (npv_inflate_index_build (index, TRUE, crc32 (0, p, size), size, NULL,
                                              count_progress, &progress, &error));
      g_assert_no_error (error);
      g_assert_false (progress.wrong);
      g_assert_cmpuint (progress.calls, >=, 2);
      check_reads (index, data, 256 * KiB, 20);
    }

  /* gzip, cancelled a few MiB in */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(NpvInflateIndex) index = index_for (gzip, NPV_INFLATE_GZIP, 256 * KiB);
    g_autoptr(GError) error = NULL;
    Progress progress = { .cancellable = cancellable, .cancel_at = 3 };

    g_assert_false (npv_inflate_index_build (index, FALSE, 0, G_MAXUINT64, cancellable,
                                             count_progress, &progress, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_cmpuint (progress.calls, ==, 3);
    check_reads (index, random, 256 * KiB, 20);
  }

  /* one build at a time */
  {
    g_autoptr(NpvInflateIndex) index = index_for (raw, NPV_INFLATE_RAW, 256 * KiB);
    g_autoptr(GError) error = NULL;

    g_assert_true (npv_inflate_index_build (index, FALSE, 0, G_MAXUINT64, NULL, build_again,
                                            index, &error));
    g_assert_no_error (error);
  }
}

/* ---------------------------------------------------------------------- */

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/inflate/raw/incompressible", test_raw_incompressible);
  g_test_add_func ("/inflate/raw/compressible", test_raw_compressible);
  g_test_add_func ("/inflate/raw/stored", test_raw_stored);
  g_test_add_func ("/inflate/raw/levels", test_raw_levels);
  g_test_add_func ("/inflate/raw/small-blocks", test_raw_small_blocks);
  g_test_add_func ("/inflate/raw/empty", test_raw_empty);
  g_test_add_func ("/inflate/raw/thinning", test_raw_thinning);
  g_test_add_func ("/inflate/raw/64mib", test_big);
  g_test_add_func ("/inflate/gzip/single", test_gzip_single);
  g_test_add_func ("/inflate/gzip/multi", test_gzip_multi);
  g_test_add_func ("/inflate/gzip/header-fields", test_gzip_header_fields);
  g_test_add_func ("/inflate/gzip/file", test_gzip_file);
  g_test_add_func ("/inflate/threads", test_threads);
  g_test_add_func ("/inflate/corrupt/flips", test_corrupt_flips);
  g_test_add_func ("/inflate/corrupt/truncated", test_corrupt_truncated);
  g_test_add_func ("/inflate/corrupt/checks", test_corrupt_checks);
  g_test_add_func ("/inflate/bomb", test_bomb);
  g_test_add_func ("/inflate/cancel", test_cancel);
  g_test_add_func ("/inflate/speed", test_speed);

  status = g_test_run ();
  g_clear_pointer (&big_data, g_bytes_unref);
  g_clear_pointer (&big_raw, g_bytes_unref);
  g_clear_pointer (&big_gzip, g_bytes_unref);
  return status;
}
