/* npv-writer.h: writing a file without ever leaving half of one
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _NpvWriter NpvWriter;

/* Starts writing @path through a temporary file in the same folder. Unless
 * @overwrite, an existing @path is an NPV_ERROR_EXISTS error, now and again
 * at commit (nothing is ever replaced behind the user's back). */
NpvWriter *npv_writer_new    (const char     *path,
                              gboolean        overwrite,
                              GError        **error);

/* Buffered; large blocks go straight to the file. */
gboolean   npv_writer_write  (NpvWriter      *writer,
                              const void     *data,
                              gsize           len,
                              GError        **error);

/* Appends @len bytes of the file open as @fd, from @offset, without
 * passing them through user space where the kernel can. */
gboolean   npv_writer_copy_range (NpvWriter  *writer,
                                  int         fd,
                                  guint64     offset,
                                  guint64     len,
                                  GError    **error);

/* Moves the temporary file into place and frees @writer. On failure the
 * temporary file is removed and @path is as it was. */
gboolean   npv_writer_commit (NpvWriter      *writer,
                              GError        **error);

/* Removes the temporary file and frees @writer. */
void       npv_writer_abort  (NpvWriter      *writer);

/* For programs that may be interrupted while writing: SIGINT, SIGTERM,
 * SIGHUP and SIGPIPE remove the temporary files being written before the
 * program dies of them, and SIGXFSZ is ignored so that a file-size limit
 * is a write error. */
void       npv_writer_remove_on_signals (void);

G_END_DECLS
