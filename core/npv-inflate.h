/* npv-inflate.h: random access into deflate streams
 *
 * A zran-style index: while the stream is inflated once from the start,
 * a checkpoint (output offset, input offset, the bits left over in the
 * input byte, and the 32 KiB window before it) is kept about every @span
 * bytes of output. Reading any range then starts at the checkpoint before
 * it, so it costs about one span of inflate.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "npv-source.h"

G_BEGIN_DECLS

typedef enum {
  NPV_INFLATE_RAW,    /* a raw deflate stream, as in zip members */
  NPV_INFLATE_GZIP,   /* gzip, one member or several concatenated */
} NpvInflateFormat;

typedef struct _NpvInflateIndex NpvInflateIndex;

/* Called from the thread that builds the index, now and then. Return
 * FALSE to stop (the build then fails with G_IO_ERROR_CANCELLED). */
typedef gboolean (*NpvInflateProgress) (guint64  done_in,
                                        guint64  total_in,
                                        gpointer user_data);

/* An index for the stream of @length bytes at @offset of @source, empty
 * until npv_inflate_index_build() runs; it may be read from at once. */
NpvInflateIndex *npv_inflate_index_new      (NpvSource          *source,
                                             guint64             offset,
                                             guint64             length,
                                             NpvInflateFormat    format,
                                             guint64             span);

NpvInflateIndex *npv_inflate_index_ref      (NpvInflateIndex    *index);
void             npv_inflate_index_unref    (NpvInflateIndex    *index);

/* Inflates the whole stream once, adding checkpoints as it goes (reads may
 * run in other threads meanwhile and use the checkpoints made so far).
 * Checks the CRC-32 (gzip: every member's trailer, and @check_crc and
 * @expected_crc are ignored; raw: @expected_crc when @check_crc) and, when
 * @expected_size is not G_MAXUINT64, the size: output shorter than it is
 * NPV_ERROR_TRUNCATED, longer stops the build at once with
 * NPV_ERROR_FORMAT (a zip bomb never runs on). Other errors:
 * NPV_ERROR_FORMAT for a broken stream, a CRC mismatch or non-zero bytes
 * after the last gzip member, NPV_ERROR_TRUNCATED when the input ends
 * early, G_IO_ERROR_CANCELLED. A build after a complete one returns TRUE
 * at once; one while another runs fails with NPV_ERROR_FAILED; one after
 * a failed or cancelled build goes on from the checkpoints made. */
gboolean         npv_inflate_index_build    (NpvInflateIndex    *index,
                                             gboolean            check_crc,
                                             guint32             expected_crc,
                                             guint64             expected_size,
                                             GCancellable       *cancellable,
                                             NpvInflateProgress  progress,
                                             gpointer            user_data,
                                             GError            **error);

gboolean         npv_inflate_index_is_complete (NpvInflateIndex *index);

/* The size of the inflated stream once the build is complete; 0 before. */
guint64          npv_inflate_index_get_size    (NpvInflateIndex *index);

/* Bytes in the index itself (checkpoint windows), for memory accounting. */
gsize            npv_inflate_index_get_memory  (NpvInflateIndex *index);

/* Copies @len inflated bytes from @offset into @buffer. Thread-safe: each
 * call has its own inflate state. Before the build completes it starts
 * from the last checkpoint made before @offset (or from the start of the
 * stream), so the first window never waits for the whole stream. Costs
 * about one span of inflate, or one deflate block where blocks are longer
 * (very compressible data). Fails with NPV_ERROR_TRUNCATED past the end of
 * the stream. */
gboolean         npv_inflate_index_read     (NpvInflateIndex    *index,
                                             guint64             offset,
                                             void               *buffer,
                                             gsize               len,
                                             GCancellable       *cancellable,
                                             GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpvInflateIndex, npv_inflate_index_unref)

G_END_DECLS
