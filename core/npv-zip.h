/* npv-zip.h: the members of a zip archive and where their bytes lie
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "npv-source.h"

G_BEGIN_DECLS

typedef enum {
  NPV_ZIP_STORED = 0,
  NPV_ZIP_DEFLATED = 8,
} NpvZipMethod;

typedef struct
{
  char *name;                 /* UTF-8 (CP437 names are converted) */
  guint16 method;             /* NpvZipMethod, or another number */
  guint16 flags;
  guint32 crc32;
  guint64 compressed_size;
  guint64 uncompressed_size;
  guint64 local_header_offset;
  guint64 data_offset;        /* 0 until npv_zip_entry_locate() */
} NpvZipEntry;

/* Reads the central directory at the end of @source (zip64 included).
 * Returns an array of NpvZipEntry in directory order, or %NULL with
 * NPV_ERROR_FORMAT when there is no valid directory. An empty archive
 * gives an empty array. Memory is bounded by the directory's size. */
GArray   *npv_zip_read_directory (NpvSource     *source,
                                  GError       **error);

/* Finds where the entry's data starts from its local header (numpy writes
 * a zip64 extra field there only). Checks that the data lies inside the
 * file. */
gboolean  npv_zip_entry_locate   (NpvSource     *source,
                                  NpvZipEntry   *entry,
                                  GError       **error);

G_END_DECLS
