/* npv-export.h: writing arrays to .npy, CSV and TSV
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "npv-array.h"
#include "npv-tile.h"

G_BEGIN_DECLS

typedef enum {
  NPV_EXPORT_NPY,
  NPV_EXPORT_CSV,
  NPV_EXPORT_TSV,
} NpvExportFormat;

typedef enum {
  NPV_EXPORT_FLAGS_NONE = 0,
  NPV_EXPORT_OVERWRITE = 1 << 0,
} NpvExportFlags;

/* The format an output name asks for: .npy, .csv, .tsv/.tab. */
gboolean npv_export_format_from_path   (const char       *path,
                                        NpvExportFormat  *format);
gboolean npv_export_format_from_string (const char       *name,
                                        NpvExportFormat  *format);

/* Writes @array to @path through a temporary file. .npy output is
 * byte-identical to np.save of the same view; CSV/TSV hold at most two
 * dimensions (NPV_ERROR_INVALID_ARGUMENT otherwise), floats in round-trip
 * precision, records as one column per leaf field with a header row.
 * Nothing is left at @path on failure or cancellation. */
gboolean npv_export_array              (NpvArray         *array,
                                        const char       *path,
                                        NpvExportFormat   format,
                                        NpvExportFlags    flags,
                                        GCancellable     *cancellable,
                                        GError          **error);

/* Called now and then with the items written so far and in all; returns
 * nothing: cancel through the GCancellable. */
typedef void (*NpvExportProgress) (guint64  done,
                                   guint64  total,
                                   gpointer user_data);

/* npv_export_array() reporting its progress to @progress (from the
 * calling thread), and for CSV/TSV writing floats in @numbers (%NULL:
 * the shortest digits that read back exactly). */
gboolean npv_export_array_full         (NpvArray          *array,
                                        const char        *path,
                                        NpvExportFormat    format,
                                        NpvExportFlags     flags,
                                        const NpvNumberFormat *numbers,
                                        NpvExportProgress  progress,
                                        gpointer           progress_data,
                                        GCancellable      *cancellable,
                                        GError           **error);

/* The same to a stream that is already open (for stdout), no atomicity. */
gboolean npv_export_array_to_fd        (NpvArray         *array,
                                        int               fd,
                                        NpvExportFormat   format,
                                        GCancellable     *cancellable,
                                        GError          **error);

/* The text table writer behind CSV/TSV, for one cell at a time users
 * (clipboard): appends @text quoted as RFC 4180 asks when it holds
 * @delimiter, a quote or a line break. */
void     npv_append_table_cell         (GString          *out,
                                        const char       *text,
                                        gsize             len,
                                        char              delimiter);

G_END_DECLS
