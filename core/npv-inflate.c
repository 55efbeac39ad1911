/* npv-inflate.c: random access into deflate streams
 *
 * The zran technique: one pass inflates the stream with inflate (Z_BLOCK)
 * and, at block boundaries where a span of output has passed since the
 * last checkpoint, keeps what a fresh raw inflate needs to resume there:
 * the output and input offsets, the unused bits of the last input byte and
 * the 32 KiB of output before it. A read starts from the checkpoint at or
 * before its offset with a private z_stream and pread()s its own input.
 *
 * gzip headers and trailers are handled here rather than by zlib's gzip
 * wrapper, so that the build and the reads run the same raw inflate and a
 * read can start at any checkpoint, including one at a member boundary
 * (which holds no window: the member starts with a fresh state).
 *
 * Windows are kept as they are (32 KiB a checkpoint), except where the
 * stream inflates PACK_RATIO times or more: there they are deflated
 * (level 1), which is cheap and makes them tiny (a window of zeros packs
 * into about 150 bytes). Memory is bounded: when the checkpoints use more
 * than MAX_MEMORY or number more than MAX_POINTS, every other one is
 * dropped and the span doubles, so a zip bomb costs time, never memory.
 *
 * Checkpoints can only be at block boundaries, so a read costs about one
 * span of inflate or one deflate block, whichever is more: zlib's blocks
 * hold 16K symbols, a few MiB of output for data that compresses 1000x.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-inflate"
#define ZLIB_CONST

#include "npv-inflate.h"

#include <stdarg.h>
#include <string.h>
#include <zlib.h>

#include "npv-error.h"

#define WINDOW_SIZE      32768                /* deflate's farthest distance */
#define IN_CHUNK         (64 * 1024)          /* input read per pread */
#define OUT_CHUNK        (256 * 1024)         /* build output per wrap */
#define SKIP_CHUNK       (64 * 1024)          /* read output thrown away per call */
#define READ_CHUNK_MAX   (1u << 30)           /* avail_out is a uInt */
#define MAX_PARKED       4                    /* readers kept between reads */
#define DEFAULT_SPAN     (1024 * 1024)
#define MAX_SPAN         ((guint64) 1 << 56)  /* far from overflowing offset + span */
#define CHECK_IN_EVERY   (1024 * 1024)        /* progress and cancellation */
#define CHECK_OUT_EVERY  (64 * 1024 * 1024)   /* the same, for output from little input */
#define MAX_MEMORY       (64 * 1024 * 1024)   /* windows and checkpoints */
#define MAX_POINTS       65536
#define MIN_PACKED       1024                 /* smaller windows are kept as they are */
#define PACK_RATIO       16                   /* windows are deflated from this ratio on */

#define GZIP_FHCRC    0x02
#define GZIP_FEXTRA   0x04
#define GZIP_FNAME    0x08
#define GZIP_FCOMMENT 0x10
#define GZIP_RESERVED 0xe0

typedef struct
{
  guint64 out;          /* offset in the inflated data */
  guint64 in;           /* stream offset of the first input byte not fully used */
  guint32 window_len;   /* bytes of dictionary, unpacked */
  guint32 stored_len;   /* bytes in @data */
  guint8  bits;         /* unused bits (high ones) of the byte at @in - 1 */
  guint8  byte;         /* that byte */
  gboolean member;      /* a gzip member header starts at @in: fresh state */
  gboolean packed;      /* @data is the window deflated (raw) */
  guint8  data[];
} Point;

struct _NpvInflateIndex
{
  NpvSource *source;
  guint64 offset;
  guint64 length;
  NpvInflateFormat format;

  /* A reader-writer lock rather than a GMutex: reads share it for lookups
   * and the build takes it only to append. It is a pthread rwlock, which
   * the thread sanitizer understands (GMutex is a bare futex). */
  GRWLock lock;
  GPtrArray *points;    /* of Point, output offsets strictly increasing */
  guint64 span;         /* doubles when checkpoints are thinned */
  gsize memory;         /* Point structs and stored windows */
  guint64 size;
  gboolean complete;
  gboolean building;

  /* Readers parked where their last read ended, so that the next read
   * from there goes on instead of starting again at a checkpoint: in very
   * compressible data checkpoints lie a whole deflate block apart (4 MiB
   * of zeros), and a sequential scan would inflate each block many times. */
  GRWLock parked_lock;
  GPtrArray *parked;    /* of Reader, at most MAX_PARKED */
};

/* ---------------------------------------------------------------------- */
/* Errors                                                                  */

static void set_error_at (NpvInflateIndex *index,
                          GError         **error,
                          int              code,
                          guint64          pos,
                          const char      *format,
                          ...) G_GNUC_PRINTF (5, 6);

/* Names the source and the file offset of stream offset @pos. */
static void
set_error_at (NpvInflateIndex *index,
              GError         **error,
              int              code,
              guint64          pos,
              const char      *format,
              ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, NPV_ERROR, code, "%s: %s at byte %" G_GUINT64_FORMAT,
               npv_source_get_name (index->source), what, index->offset + pos);
}

static void
set_inflate_error (NpvInflateIndex *index,
                   GError         **error,
                   int              ret,
                   z_stream        *strm,
                   guint64          pos,
                   guint64          out)
{
  if (ret == Z_DATA_ERROR)
    set_error_at (index, error, NPV_ERROR_FORMAT, pos,
                  "the deflate data is broken (%s) after %" G_GUINT64_FORMAT " inflated bytes",
                  strm->msg != NULL ? strm->msg : "invalid data", out);
  else if (ret == Z_BUF_ERROR)
    set_error_at (index, error, NPV_ERROR_TRUNCATED, pos,
                  "the compressed data ends early, after %" G_GUINT64_FORMAT " inflated bytes,",
                  out);
  else if (ret == Z_MEM_ERROR)
    g_set_error (error, NPV_ERROR, NPV_ERROR_FAILED, "%s: out of memory while inflating",
                 npv_source_get_name (index->source));
  else
    g_set_error (error, NPV_ERROR, NPV_ERROR_FAILED, "%s: inflate failed (zlib error %d)",
                 npv_source_get_name (index->source), ret);
}

/* ---------------------------------------------------------------------- */
/* Input: the stream read in chunks with pread, never mapped whole         */

typedef struct
{
  NpvInflateIndex *index;
  guint8 *data;
  gsize capacity;
  guint64 start;        /* stream offset of data[0] */
  gsize len;
} Input;

static void
input_init (Input           *input,
            NpvInflateIndex *index)
{
  input->index = index;
  input->capacity = IN_CHUNK;
  input->data = g_malloc (IN_CHUNK);
  input->start = 0;
  input->len = 0;
}

static void
input_clear (Input *input)
{
  g_clear_pointer (&input->data, g_free);
}

/* An inflate in progress: at @pos in the stream, @cur in the output. */
typedef struct
{
  z_stream strm;
  Input input;
  guint64 pos;
  guint64 cur;
} Reader;

static void
reader_free (Reader *reader)
{
  inflateEnd (&reader->strm);
  input_clear (&reader->input);
  g_free (reader);
}

/* Makes the bytes from stream offset @pos on available: *avail is 0 only
 * at the end of the stream. Reuses the chunk in hand when it holds @pos. */
static gboolean
input_at (Input         *input,
          guint64        pos,
          const guint8 **p,
          gsize         *avail,
          GError       **error)
{
  NpvInflateIndex *index = input->index;
  gsize n;

  if (pos >= input->start && pos - input->start < input->len)
    {
      *p = input->data + (pos - input->start);
      *avail = input->len - (pos - input->start);
      return TRUE;
    }
  if (pos >= index->length)
    {
      *p = NULL;
      *avail = 0;
      return TRUE;
    }
  n = MIN (input->capacity, index->length - pos);
  input->len = 0;
  if (!npv_source_read (index->source, index->offset + pos, input->data, n, error))
    return FALSE;
  input->start = pos;
  input->len = n;
  *p = input->data;
  *avail = n;
  return TRUE;
}

/* Copies @n bytes at @pos; their absence is NPV_ERROR_TRUNCATED, told as @what. */
static gboolean
input_copy (Input      *input,
            guint64     pos,
            guint8     *buffer,
            gsize       n,
            const char *what,
            GError    **error)
{
  while (n > 0)
    {
      const guint8 *p;
      gsize avail;

      if (!input_at (input, pos, &p, &avail, error))
        return FALSE;
      if (avail == 0)
        {
          set_error_at (input->index, error, NPV_ERROR_TRUNCATED, pos, "%s ends early", what);
          return FALSE;
        }
      avail = MIN (avail, n);
      memcpy (buffer, p, avail);
      buffer += avail;
      pos += avail;
      n -= avail;
    }
  return TRUE;
}

/* Moves *pos over @n bytes, or up to and including a NUL when @n is
 * G_MAXSIZE, adding them to *crc when @crc is not NULL. */
static gboolean
input_skip (Input      *input,
            guint64    *pos,
            gsize       n,
            guint32    *crc,
            const char *what,
            GError    **error)
{
  gboolean to_nul = n == G_MAXSIZE;
  gboolean done = n == 0;

  while (!done)
    {
      const guint8 *p;
      gsize avail;

      if (!input_at (input, *pos, &p, &avail, error))
        return FALSE;
      if (avail == 0)
        {
          set_error_at (input->index, error, NPV_ERROR_TRUNCATED, *pos, "%s ends early", what);
          return FALSE;
        }
      if (to_nul)
        {
          const guint8 *nul = memchr (p, 0, avail);

          if (nul != NULL)
            {
              avail = nul - p + 1;
              done = TRUE;
            }
        }
      else
        {
          avail = MIN (avail, n);
          n -= avail;
          done = n == 0;
        }
      if (crc != NULL)
        *crc = crc32 (*crc, p, avail);
      *pos += avail;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* gzip framing                                                            */

static guint32
get_le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

/* After the first member only zero padding may follow the last one. */
static gboolean
check_padding (Input        *input,
               guint64       pos,
               GCancellable *cancellable,
               GError      **error)
{
  for (;;)
    {
      const guint8 *p;
      gsize avail;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (!input_at (input, pos, &p, &avail, error))
        return FALSE;
      if (avail == 0)
        return TRUE;
      for (gsize i = 0; i < avail; i++)
        if (p[i] != 0)
          {
            set_error_at (input->index, error, NPV_ERROR_FORMAT, pos + i,
                          "unexpected byte 0x%02x after the gzip data "
                          "(expected another member or zero padding)", p[i]);
            return FALSE;
          }
      pos += avail;
    }
}

/* Parses the gzip member header at *pos and moves *pos past it. Sets
 * *found to FALSE when nothing is left, or after the @first member nothing
 * but zero padding. */
static gboolean
read_member_header (Input        *input,
                    guint64      *pos,
                    gboolean      first,
                    gboolean     *found,
                    GCancellable *cancellable,
                    GError      **error)
{
  NpvInflateIndex *index = input->index;
  const char *what = "the gzip header";
  const guint8 *p;
  gsize avail;
  guint8 head[10];
  guint64 at = *pos;
  guint32 crc = 0;
  guint32 *hcrc = NULL;
  guint8 flags;

  *found = FALSE;
  if (!input_at (input, at, &p, &avail, error))
    return FALSE;
  if (avail == 0)
    return TRUE;
  if (p[0] == 0 && !first)
    return check_padding (input, at, cancellable, error);

  if (!input_copy (input, at, head, sizeof head, what, error))
    return FALSE;
  if (head[0] != 0x1f || head[1] != 0x8b)
    {
      set_error_at (index, error, NPV_ERROR_FORMAT, at,
                    "not a gzip member (expected the bytes 1f 8b, found %02x %02x)",
                    head[0], head[1]);
      return FALSE;
    }
  if (head[2] != Z_DEFLATED)
    {
      set_error_at (index, error, NPV_ERROR_FORMAT, at + 2,
                    "unknown gzip compression method %u (expected 8, deflate)", head[2]);
      return FALSE;
    }
  flags = head[3];
  if (flags & GZIP_RESERVED)
    {
      set_error_at (index, error, NPV_ERROR_FORMAT, at + 3,
                    "reserved gzip header flags 0x%02x are set", flags & GZIP_RESERVED);
      return FALSE;
    }
  if (flags & GZIP_FHCRC)
    {
      crc = crc32 (0, head, sizeof head);
      hcrc = &crc;
    }
  at += sizeof head;

  if (flags & GZIP_FEXTRA)
    {
      guint8 xlen[2];

      if (!input_copy (input, at, xlen, 2, what, error))
        return FALSE;
      if (hcrc != NULL)
        crc = crc32 (crc, xlen, 2);
      at += 2;
      if (!input_skip (input, &at, xlen[0] | xlen[1] << 8, hcrc, what, error))
        return FALSE;
    }
  if ((flags & GZIP_FNAME) && !input_skip (input, &at, G_MAXSIZE, hcrc, what, error))
    return FALSE;
  if ((flags & GZIP_FCOMMENT) && !input_skip (input, &at, G_MAXSIZE, hcrc, what, error))
    return FALSE;
  if (flags & GZIP_FHCRC)
    {
      guint8 stored[2];
      guint found_crc;

      if (!input_copy (input, at, stored, 2, what, error))
        return FALSE;
      found_crc = stored[0] | stored[1] << 8;
      if (found_crc != (crc & 0xffff))
        {
          set_error_at (index, error, NPV_ERROR_FORMAT, at,
                        "gzip header CRC mismatch (the header says 0x%04x, its bytes give 0x%04x)",
                        found_crc, crc & 0xffff);
          return FALSE;
        }
      at += 2;
    }

  *pos = at;
  *found = TRUE;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Checkpoints                                                             */

static gsize
point_memory (const Point *point)
{
  return sizeof (Point) + point->stored_len;
}

/* The last checkpoint at or before @offset, copied so that the caller can
 * use it while the build thins the list. Called under the lock. */
static Point *
find_point_locked (NpvInflateIndex *index,
                   guint64          offset)
{
  guint lo = 0;
  guint hi = index->points->len;
  const Point *point;

  /* points[0] is at 0: find the last with out <= offset */
  while (hi - lo > 1)
    {
      guint mid = lo + (hi - lo) / 2;
      const Point *p = g_ptr_array_index (index->points, mid);

      if (p->out <= offset)
        lo = mid;
      else
        hi = mid;
    }
  point = g_ptr_array_index (index->points, lo);
  return g_memdup2 (point, point_memory (point));
}

/* Drops every other checkpoint, keeping the first and the last. */
static void
thin_points_locked (NpvInflateIndex *index)
{
  GPtrArray *points = index->points;
  guint n = points->len;
  guint kept = 1;

  for (guint i = 1; i < n; i++)
    {
      Point *point = g_ptr_array_index (points, i);

      if ((n - 1 - i) % 2 == 0)
        points->pdata[kept++] = point;
      else
        {
          index->memory -= point_memory (point);
          g_free (point);
        }
    }
  /* the tail holds moved or freed points: not for the free function */
  for (guint i = kept; i < n; i++)
    points->pdata[i] = NULL;
  g_ptr_array_set_size (points, kept);
  index->span = MIN (index->span * 2, MAX_SPAN);
  g_debug ("%s: %u checkpoints thinned to %u, span now %" G_GUINT64_FORMAT,
           npv_source_get_name (index->source), n, kept, index->span);
}

/* Appends @point (taking it) and returns the span from now on. */
static guint64
add_point (NpvInflateIndex *index,
           Point           *point)
{
  const Point *last;
  guint64 span;

  g_rw_lock_writer_lock (&index->lock);
  last = g_ptr_array_index (index->points, index->points->len - 1);
  if (point->out > last->out)
    {
      g_ptr_array_add (index->points, point);
      index->memory += point_memory (point);
      while (index->points->len > 2
             && (index->memory > MAX_MEMORY || index->points->len > MAX_POINTS))
        thin_points_locked (index);
    }
  else
    {
      /* a rebuild passes the checkpoints of an earlier, failed one again */
      g_free (point);
    }
  span = index->span;
  g_rw_lock_writer_unlock (&index->lock);
  return span;
}

/* ---------------------------------------------------------------------- */
/* The index                                                               */

NpvInflateIndex *
npv_inflate_index_new (NpvSource        *source,
                       guint64           offset,
                       guint64           length,
                       NpvInflateFormat  format,
                       guint64           span)
{
  NpvInflateIndex *index;
  Point *first;

  g_return_val_if_fail (source != NULL, NULL);
  g_return_val_if_fail (format == NPV_INFLATE_RAW || format == NPV_INFLATE_GZIP, NULL);

  index = g_atomic_rc_box_new0 (NpvInflateIndex);
  index->source = npv_source_ref (source);
  index->offset = offset;
  index->length = length;
  index->format = format;
  index->span = span > 0 ? MIN (span, MAX_SPAN) : DEFAULT_SPAN;
  g_rw_lock_init (&index->lock);
  index->points = g_ptr_array_new_with_free_func (g_free);
  g_rw_lock_init (&index->parked_lock);
  index->parked = g_ptr_array_new_with_free_func ((GDestroyNotify) reader_free);

  /* Reads can start at once, from the start of the stream. */
  first = g_malloc0 (sizeof (Point));
  first->member = format == NPV_INFLATE_GZIP;
  g_ptr_array_add (index->points, first);
  index->memory = point_memory (first);

  return index;
}

NpvInflateIndex *
npv_inflate_index_ref (NpvInflateIndex *index)
{
  g_return_val_if_fail (index != NULL, NULL);

  return g_atomic_rc_box_acquire (index);
}

static void
index_clear (gpointer data)
{
  NpvInflateIndex *index = data;

  g_ptr_array_unref (index->points);
  g_rw_lock_clear (&index->lock);
  g_ptr_array_unref (index->parked);
  g_rw_lock_clear (&index->parked_lock);
  npv_source_unref (index->source);
}

void
npv_inflate_index_unref (NpvInflateIndex *index)
{
  g_return_if_fail (index != NULL);

  g_atomic_rc_box_release_full (index, index_clear);
}

gboolean
npv_inflate_index_is_complete (NpvInflateIndex *index)
{
  gboolean complete;

  g_return_val_if_fail (index != NULL, FALSE);

  g_rw_lock_reader_lock (&index->lock);
  complete = index->complete;
  g_rw_lock_reader_unlock (&index->lock);
  return complete;
}

guint64
npv_inflate_index_get_size (NpvInflateIndex *index)
{
  guint64 size;

  g_return_val_if_fail (index != NULL, 0);

  g_rw_lock_reader_lock (&index->lock);
  size = index->complete ? index->size : 0;
  g_rw_lock_reader_unlock (&index->lock);
  return size;
}

gsize
npv_inflate_index_get_memory (NpvInflateIndex *index)
{
  gsize memory;

  g_return_val_if_fail (index != NULL, 0);

  g_rw_lock_reader_lock (&index->lock);
  memory = sizeof (NpvInflateIndex) + index->memory
           + index->points->len * sizeof (gpointer);
  g_rw_lock_reader_unlock (&index->lock);
  return memory;
}

/* ---------------------------------------------------------------------- */
/* The build                                                               */

typedef struct
{
  NpvInflateIndex *index;
  GCancellable *cancellable;
  NpvInflateProgress progress;
  gpointer user_data;
  guint64 expected_size;
  gboolean want_crc;

  Input input;
  z_stream strm;
  gboolean strm_ready;
  z_stream packer;      /* deflates windows, set up when first needed */
  int packer_state;     /* 0 not yet, 1 ready, -1 unavailable */
  guint8 *out;          /* WINDOW_SIZE of history, then OUT_CHUNK */
  guint8 *next_out;     /* always at least WINDOW_SIZE past @out */
  guint8 *packed;       /* a deflated window */
  gsize packed_size;

  guint64 pos;          /* stream offset of strm.next_in */
  guint64 total_out;
  guint64 member_out;
  guint32 crc;          /* of the gzip member, or of the raw stream */
  guint64 span;
  guint64 last_out;     /* of the last checkpoint */
  guint64 mark_in;      /* input and output at the last checkpoint made here, */
  guint64 mark_out;     /* for guessing whether the window will pack */
  guint64 next_check_in;
  guint64 next_check_out;
} Builder;

static gboolean
builder_init (Builder          *b,
              NpvInflateIndex  *index,
              GError          **error)
{
  const Point *last;

  b->index = index;
  input_init (&b->input, index);
  b->out = g_malloc (WINDOW_SIZE + OUT_CHUNK);
  b->next_out = b->out + WINDOW_SIZE;

  g_rw_lock_reader_lock (&index->lock);
  last = g_ptr_array_index (index->points, index->points->len - 1);
  b->last_out = last->out;
  b->span = index->span;
  g_rw_lock_reader_unlock (&index->lock);

  if (inflateInit2 (&b->strm, -15) != Z_OK)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_FAILED, "%s: cannot start inflating: out of memory",
                   npv_source_get_name (index->source));
      return FALSE;
    }
  b->strm_ready = TRUE;
  return TRUE;
}

static void
builder_clear (Builder *b)
{
  if (b->strm_ready)
    inflateEnd (&b->strm);
  if (b->packer_state > 0)
    deflateEnd (&b->packer);
  g_clear_pointer (&b->packed, g_free);
  g_clear_pointer (&b->out, g_free);
  input_clear (&b->input);
}

/* Cancellation and progress, every CHECK_IN_EVERY of input or
 * CHECK_OUT_EVERY of output. */
static gboolean
builder_check (Builder *b,
               GError **error)
{
  if (b->pos < b->next_check_in && b->total_out < b->next_check_out)
    return TRUE;
  b->next_check_in = b->pos + CHECK_IN_EVERY;
  b->next_check_out = b->total_out + CHECK_OUT_EVERY;
  if (b->progress != NULL && !b->progress (b->pos, b->index->length, b->user_data))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled");
      return FALSE;
    }
  return !g_cancellable_set_error_if_cancelled (b->cancellable, error);
}

/* Deflates @window into b->packed; FALSE if that does not make it smaller. */
static gboolean
builder_pack (Builder      *b,
              const guint8 *window,
              guint32       window_len,
              guint32      *packed_len)
{
  if (b->packer_state == 0)
    {
      b->packer_state = -1;
      if (deflateInit2 (&b->packer, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK)
        {
          b->packer_state = 1;
          b->packed_size = deflateBound (&b->packer, WINDOW_SIZE);
          b->packed = g_malloc (b->packed_size);
        }
    }
  if (b->packer_state < 0)
    return FALSE;

  deflateReset (&b->packer);
  b->packer.next_in = window;
  b->packer.avail_in = window_len;
  b->packer.next_out = b->packed;
  b->packer.avail_out = b->packed_size;
  if (deflate (&b->packer, Z_FINISH) != Z_STREAM_END || b->packer.total_out >= window_len)
    return FALSE;
  *packed_len = b->packer.total_out;
  return TRUE;
}

/* A checkpoint where the member header at @in starts: no window needed. */
static void
builder_add_member_point (Builder *b,
                          guint64  in)
{
  Point *point = g_malloc0 (sizeof (Point));

  point->out = b->total_out;
  point->in = in;
  point->member = TRUE;
  b->span = add_point (b->index, point);
  b->last_out = b->total_out;
  b->mark_in = in;
  b->mark_out = b->total_out;
}

/* A checkpoint at the block boundary just reached, @bits of the last
 * input byte unused. */
static gboolean
builder_add_window_point (Builder *b,
                          guint    bits,
                          GError **error)
{
  guint32 window_len = MIN (b->member_out, WINDOW_SIZE);
  const guint8 *window = b->next_out - window_len;
  const guint8 *stored = window;
  guint32 stored_len = window_len;
  gboolean packed = FALSE;
  guint8 byte = 0;
  Point *point;

  if (bits > 0)
    {
      /* the partly used byte is normally in the chunk in hand */
      if (b->pos - 1 >= b->input.start && b->pos - 1 - b->input.start < b->input.len)
        byte = b->input.data[b->pos - 1 - b->input.start];
      else if (!npv_source_read (b->index->source, b->index->offset + b->pos - 1, &byte, 1, error))
        return FALSE;
    }

  /* Deflating a window costs 13-15% of inflating a 1 MiB span of data
   * that compresses 1.5-3x, and saves little; where the stream compresses
   * PACK_RATIO times or more it costs under 5% and saves nearly all. */
  if (window_len >= MIN_PACKED
      && b->total_out - b->mark_out >= PACK_RATIO * (b->pos - b->mark_in)
      && builder_pack (b, window, window_len, &stored_len))
    {
      stored = b->packed;
      packed = TRUE;
    }

  point = g_malloc (sizeof (Point) + stored_len);
  point->out = b->total_out;
  point->in = b->pos;
  point->window_len = window_len;
  point->stored_len = stored_len;
  point->bits = bits;
  point->byte = byte;
  point->member = FALSE;
  point->packed = packed;
  memcpy (point->data, stored, stored_len);

  b->span = add_point (b->index, point);
  b->last_out = b->total_out;
  b->mark_in = b->pos;
  b->mark_out = b->total_out;
  return TRUE;
}

/* Inflates one deflate stream (a zip member, or a gzip member's body) from
 * b->pos to its end, adding checkpoints. Between checkpoints it inflates
 * with Z_NO_FLUSH and the output limited to where the next one is due;
 * from there it uses Z_BLOCK until a block ends. */
static gboolean
builder_inflate (Builder *b,
                 GError **error)
{
  NpvInflateIndex *index = b->index;
  z_stream *strm = &b->strm;
  guint8 *out_end = b->out + WINDOW_SIZE + OUT_CHUNK;

  strm->avail_in = 0;
  for (;;)
    {
      gboolean due = b->total_out >= b->last_out + b->span;
      guint avail_out;
      guint avail_in;
      gsize made;
      int ret;

      if (!builder_check (b, error))
        return FALSE;
      if (strm->avail_in == 0)
        {
          const guint8 *p;
          gsize avail;

          if (!input_at (&b->input, b->pos, &p, &avail, error))
            return FALSE;
          /* at the end, inflate still runs: output may be pending */
          strm->next_in = p;
          strm->avail_in = avail;
        }
      if (b->next_out == out_end)
        {
          memmove (b->out, out_end - WINDOW_SIZE, WINDOW_SIZE);
          b->next_out = b->out + WINDOW_SIZE;
        }
      avail_out = out_end - b->next_out;
      if (!due && b->last_out + b->span - b->total_out < avail_out)
        avail_out = b->last_out + b->span - b->total_out;

      strm->next_out = b->next_out;
      strm->avail_out = avail_out;
      avail_in = strm->avail_in;
      ret = inflate (strm, due ? Z_BLOCK : Z_NO_FLUSH);
      b->pos += avail_in - strm->avail_in;
      made = avail_out - strm->avail_out;
      if (made > 0)
        {
          if (b->want_crc)
            b->crc = crc32 (b->crc, b->next_out, made);
          b->next_out += made;
          b->total_out += made;
          b->member_out += made;
          if (b->total_out > b->expected_size)
            {
              set_error_at (index, error, NPV_ERROR_FORMAT, b->pos,
                            "the data inflates to more than the expected %" G_GUINT64_FORMAT
                            " bytes", b->expected_size);
              return FALSE;
            }
        }

      if (ret == Z_STREAM_END)
        return TRUE;
      if (ret != Z_OK)
        {
          set_inflate_error (index, error, ret, strm, b->pos, b->total_out);
          return FALSE;
        }
      if (due && (strm->data_type & 128) && !(strm->data_type & 64)
          && !builder_add_window_point (b, strm->data_type & 7, error))
        return FALSE;
    }
}

static gboolean
builder_run_raw (Builder  *b,
                 gboolean  check_crc,
                 guint32   expected_crc,
                 GError  **error)
{
  if (!builder_inflate (b, error))
    return FALSE;
  /* bytes after the end of the deflate data are left alone */
  if (check_crc && b->crc != expected_crc)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                   "%s: CRC-32 mismatch in the deflate stream at byte %" G_GUINT64_FORMAT
                   " (expected 0x%08x, the inflated data gives 0x%08x)",
                   npv_source_get_name (b->index->source), b->index->offset, expected_crc, b->crc);
      return FALSE;
    }
  return TRUE;
}

static gboolean
builder_run_gzip (Builder *b,
                  GError **error)
{
  NpvInflateIndex *index = b->index;

  for (gboolean first = TRUE;; first = FALSE)
    {
      guint64 start = b->pos;
      guint8 trailer[8];
      guint32 crc, isize;
      gboolean found;

      if (!read_member_header (&b->input, &b->pos, first, &found, b->cancellable, error))
        return FALSE;
      if (!found && first)
        {
          set_error_at (index, error, NPV_ERROR_TRUNCATED, start,
                        "no gzip member (the data is empty)");
          return FALSE;
        }
      if (!found)
        return TRUE;
      if (!first && b->total_out >= b->last_out + b->span)
        builder_add_member_point (b, start);

      inflateReset (&b->strm);
      b->member_out = 0;
      b->crc = crc32 (0, NULL, 0);
      if (!builder_inflate (b, error))
        return FALSE;

      if (!input_copy (&b->input, b->pos, trailer, sizeof trailer, "the gzip trailer", error))
        return FALSE;
      crc = get_le32 (trailer);
      isize = get_le32 (trailer + 4);
      if (crc != b->crc)
        {
          set_error_at (index, error, NPV_ERROR_FORMAT, b->pos,
                        "CRC-32 mismatch in the gzip member (the trailer says 0x%08x, "
                        "the inflated data gives 0x%08x)", crc, b->crc);
          return FALSE;
        }
      if (isize != (guint32) b->member_out)
        {
          set_error_at (index, error, NPV_ERROR_FORMAT, b->pos + 4,
                        "size mismatch in the gzip member (the trailer says %u bytes modulo "
                        "2^32, the data inflates to %" G_GUINT64_FORMAT ")", isize, b->member_out);
          return FALSE;
        }
      b->pos += sizeof trailer;
    }
}

gboolean
npv_inflate_index_build (NpvInflateIndex    *index,
                         gboolean            check_crc,
                         guint32             expected_crc,
                         guint64             expected_size,
                         GCancellable       *cancellable,
                         NpvInflateProgress  progress,
                         gpointer            user_data,
                         GError            **error)
{
  Builder b = { 0 };
  gboolean ok;

  g_return_val_if_fail (index != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_rw_lock_writer_lock (&index->lock);
  if (index->complete)
    {
      g_rw_lock_writer_unlock (&index->lock);
      return TRUE;
    }
  if (index->building)
    {
      g_rw_lock_writer_unlock (&index->lock);
      g_set_error (error, NPV_ERROR, NPV_ERROR_FAILED,
                   "%s: the inflate index is already being built",
                   npv_source_get_name (index->source));
      return FALSE;
    }
  index->building = TRUE;
  g_rw_lock_writer_unlock (&index->lock);

  b.cancellable = cancellable;
  b.progress = progress;
  b.user_data = user_data;
  b.expected_size = expected_size;
  b.want_crc = index->format == NPV_INFLATE_GZIP || check_crc;
  b.crc = crc32 (0, NULL, 0);

  ok = builder_init (&b, index, error);
  if (ok && index->format == NPV_INFLATE_GZIP)
    ok = builder_run_gzip (&b, error);
  else if (ok)
    ok = builder_run_raw (&b, check_crc, expected_crc, error);

  if (ok && expected_size != G_MAXUINT64 && b.total_out < expected_size)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                   "%s: the data at byte %" G_GUINT64_FORMAT " inflates to %" G_GUINT64_FORMAT
                   " bytes, fewer than the expected %" G_GUINT64_FORMAT,
                   npv_source_get_name (index->source), index->offset, b.total_out, expected_size);
      ok = FALSE;
    }

  g_rw_lock_writer_lock (&index->lock);
  index->building = FALSE;
  if (ok)
    {
      index->complete = TRUE;
      index->size = b.total_out;
    }
  g_rw_lock_writer_unlock (&index->lock);

  builder_clear (&b);
  return ok;
}

/* ---------------------------------------------------------------------- */
/* Reads                                                                   */

/* Sets up @strm to resume at @point; *pos is where its input starts. */
static gboolean
reader_start (NpvInflateIndex *index,
              const Point     *point,
              Input           *input,
              z_stream        *strm,
              guint64         *pos,
              GCancellable    *cancellable,
              GError         **error)
{
  *pos = point->in;
  if (point->member)
    {
      gboolean found;

      if (!read_member_header (input, pos, point->in == 0, &found, cancellable, error))
        return FALSE;
      if (!found)
        {
          set_error_at (index, error, NPV_ERROR_TRUNCATED, *pos,
                        "reading past the end of the inflated data, which ends");
          return FALSE;
        }
      return TRUE;
    }

  if (point->window_len > 0)
    {
      g_autofree guint8 *window = g_malloc (point->window_len);

      if (point->packed)
        {
          int ret;

          strm->next_in = point->data;
          strm->avail_in = point->stored_len;
          strm->next_out = window;
          strm->avail_out = point->window_len;
          ret = inflate (strm, Z_FINISH);
          if (ret != Z_STREAM_END || strm->avail_out != 0)
            {
              g_set_error (error, NPV_ERROR, NPV_ERROR_FAILED,
                           "%s: a checkpoint window does not unpack (zlib error %d)",
                           npv_source_get_name (index->source), ret);
              return FALSE;
            }
          inflateReset (strm);
        }
      else
        memcpy (window, point->data, point->window_len);

      if (point->bits > 0)
        inflatePrime (strm, point->bits, point->byte >> (8 - point->bits));
      inflateSetDictionary (strm, window, point->window_len);
    }
  else if (point->bits > 0)
    inflatePrime (strm, point->bits, point->byte >> (8 - point->bits));
  return TRUE;
}

/* Moves from the end of a gzip member's deflate data at *pos to the start
 * of the next member's. */
static gboolean
reader_next_member (NpvInflateIndex *index,
                    Input           *input,
                    z_stream        *strm,
                    guint64         *pos,
                    GCancellable    *cancellable,
                    GError         **error)
{
  guint8 trailer[8];
  gboolean found;

  if (!input_copy (input, *pos, trailer, sizeof trailer, "the gzip trailer", error))
    return FALSE;
  *pos += sizeof trailer;
  if (!read_member_header (input, pos, FALSE, &found, cancellable, error))
    return FALSE;
  if (!found)
    {
      set_error_at (index, error, NPV_ERROR_TRUNCATED, *pos,
                    "reading past the end of the inflated data, which ends");
      return FALSE;
    }
  inflateReset (strm);
  strm->avail_in = 0;
  return TRUE;
}

/* Parks @reader, which has inflated up to @cur, for a later read to go
 * on from; the reader parked longest ago makes room. */
static void
reader_park (NpvInflateIndex *index,
             Reader          *reader)
{
  g_rw_lock_writer_lock (&index->parked_lock);
  if (index->parked->len >= MAX_PARKED)
    g_ptr_array_remove_index (index->parked, 0);
  g_ptr_array_add (index->parked, reader);
  g_rw_lock_writer_unlock (&index->parked_lock);
}

/* The parked reader furthest on that has not passed @offset, if it is
 * nearer to @offset than the checkpoint at @point_out. */
static Reader *
reader_take_parked (NpvInflateIndex *index,
                    guint64          offset,
                    guint64          point_out)
{
  Reader *best = NULL;
  guint best_i = 0;

  g_rw_lock_writer_lock (&index->parked_lock);
  for (guint i = 0; i < index->parked->len; i++)
    {
      Reader *r = g_ptr_array_index (index->parked, i);

      if (r->cur <= offset && r->cur > point_out && (best == NULL || r->cur > best->cur))
        {
          best = r;
          best_i = i;
        }
    }
  if (best != NULL)
    g_ptr_array_steal_index (index->parked, best_i);
  g_rw_lock_writer_unlock (&index->parked_lock);
  return best;
}

static gboolean
reader_run (NpvInflateIndex *index,
            const Point     *point,
            guint64          offset,
            guint8          *buffer,
            gsize            len,
            GCancellable    *cancellable,
            GError         **error)
{
  g_autofree guint8 *skip = NULL;
  Reader *r;
  guint64 end = offset + len;

  r = reader_take_parked (index, offset, point->out);
  if (r == NULL)
    {
      r = g_new0 (Reader, 1);
      if (inflateInit2 (&r->strm, -15) != Z_OK)
        {
          g_free (r);
          g_set_error (error, NPV_ERROR, NPV_ERROR_FAILED, "%s: cannot start inflating: out of memory",
                       npv_source_get_name (index->source));
          return FALSE;
        }
      input_init (&r->input, index);
      r->cur = point->out;
      if (!reader_start (index, point, &r->input, &r->strm, &r->pos, cancellable, error))
        goto fail;
    }
  if (r->cur < offset)
    skip = g_malloc (SKIP_CHUNK);

  while (r->cur < end)
    {
      guint avail_out;
      guint avail_in;
      int ret;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto fail;
      if (r->strm.avail_in == 0)
        {
          const guint8 *p;
          gsize avail;

          if (!input_at (&r->input, r->pos, &p, &avail, error))
            goto fail;
          r->strm.next_in = p;
          r->strm.avail_in = avail;
        }
      if (r->cur < offset)
        {
          avail_out = MIN (SKIP_CHUNK, offset - r->cur);
          r->strm.next_out = skip;
        }
      else
        {
          avail_out = MIN (READ_CHUNK_MAX, end - r->cur);
          r->strm.next_out = buffer + (r->cur - offset);
        }
      r->strm.avail_out = avail_out;
      avail_in = r->strm.avail_in;
      ret = inflate (&r->strm, Z_NO_FLUSH);
      r->pos += avail_in - r->strm.avail_in;
      r->cur += avail_out - r->strm.avail_out;

      if (ret == Z_STREAM_END && r->cur < end)
        {
          if (index->format != NPV_INFLATE_GZIP)
            {
              set_error_at (index, error, NPV_ERROR_TRUNCATED, r->pos,
                            "reading past the end of the inflated data (%" G_GUINT64_FORMAT
                            " bytes), which ends", r->cur);
              goto fail;
            }
          if (!reader_next_member (index, &r->input, &r->strm, &r->pos, cancellable, error))
            goto fail;
        }
      else if (ret != Z_OK && ret != Z_STREAM_END)
        {
          set_inflate_error (index, error, ret, &r->strm, r->pos, r->cur);
          goto fail;
        }
    }
  reader_park (index, r);
  return TRUE;

fail:
  reader_free (r);
  return FALSE;
}

gboolean
npv_inflate_index_read (NpvInflateIndex *index,
                        guint64          offset,
                        void            *buffer,
                        gsize            len,
                        GCancellable    *cancellable,
                        GError         **error)
{
  g_autofree Point *point = NULL;
  gboolean complete;
  guint64 size;

  g_return_val_if_fail (index != NULL, FALSE);
  g_return_val_if_fail (buffer != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_rw_lock_reader_lock (&index->lock);
  complete = index->complete;
  size = index->size;
  if (!complete || (offset <= size && len <= size - offset))
    point = find_point_locked (index, offset);
  g_rw_lock_reader_unlock (&index->lock);

  if (offset > G_MAXUINT64 - len || (complete && point == NULL))
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                   "%s: reading past the end of the inflated data (%" G_GUINT64_FORMAT
                   " bytes at %" G_GUINT64_FORMAT ", of %" G_GUINT64_FORMAT ")",
                   npv_source_get_name (index->source), (guint64) len, offset, size);
      return FALSE;
    }
  if (complete && len == 0)
    return TRUE;

  return reader_run (index, point, offset, buffer, len, cancellable, error);
}
