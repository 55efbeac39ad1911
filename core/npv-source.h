/* npv-source.h: the bytes behind an array
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _NpvSource NpvSource;

/* Maps @path read-only. An empty file gives an empty source. The name used
 * in messages is @path as given. Errors: NPV_ERROR_IO. */
NpvSource    *npv_source_new_for_path (const char  *path,
                                       GError     **error);

/* A source over bytes in memory (built-in examples, inflated data). */
NpvSource    *npv_source_new_for_bytes (GBytes     *bytes,
                                        const char *name);

/* The inflated bytes of a deflate or gzip stream, reached through @index
 * (see npv-inflate.h), @size bytes long. It has no mapping:
 * npv_source_get_data() returns %NULL and reads go through a small cache
 * of inflated blocks shared by all threads. */
struct _NpvInflateIndex;
NpvSource    *npv_source_new_for_inflate (struct _NpvInflateIndex *index,
                                          guint64                  size,
                                          const char              *name);

NpvSource    *npv_source_ref          (NpvSource   *source);
void          npv_source_unref        (NpvSource   *source);

const char   *npv_source_get_name     (NpvSource   *source);
guint64       npv_source_get_size     (NpvSource   *source);

/* All the bytes, mapped, or %NULL for a source without a mapping.
 * Valid as long as the source lives. */
const guint8 *npv_source_get_data     (NpvSource   *source);

/* A descriptor open on the file (owned by the source), or -1 for sources
 * in memory. Sequential scans read through it: on a page-cached file
 * pread() into a small reused buffer beats faulting in the mapping. */
int           npv_source_get_fd       (NpvSource   *source);

/* Copies @len bytes at @offset into @buffer. Thread-safe. Fails with
 * NPV_ERROR_TRUNCATED if the file has become shorter. */
gboolean      npv_source_read         (NpvSource   *source,
                                       guint64      offset,
                                       void        *buffer,
                                       gsize        len,
                                       GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpvSource, npv_source_unref)

G_END_DECLS
