/* npv-npy.h: .npy headers, read as numpy reads them and written as np.save does
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "npv-dtype.h"

G_BEGIN_DECLS

#define NPV_NPY_MAGIC "\x93NUMPY"
#define NPV_NPY_MAGIC_LEN 6

typedef struct
{
  guint8 major;
  guint8 minor;
  NpvDType *dtype;           /* owned; a top-level subarray is expanded into the shape */
  guint ndim;
  gint64 *shape;             /* ndim dimensions (owned) */
  gboolean fortran_order;
  guint64 data_offset;       /* from the first byte of the magic */
  guint64 count;             /* number of items */
  guint64 nbytes;            /* count * itemsize (object arrays: count * 8) */
} NpvNpyHeader;

/* Parses the header at the start of @data (@size bytes are available; the
 * whole file or more than the header). @name names the file in messages.
 * Checks everything numpy checks and that sizes do not overflow; it does NOT
 * check that the data is all there (see npv_npy_header_check_size()). */
gboolean npv_npy_header_parse      (NpvNpyHeader  *header,
                                    const guint8  *data,
                                    gsize          size,
                                    const char    *name,
                                    GError       **error);

/* The bytes from the magic to the end of the header text, as the header's
 * own length field gives them (not checked against @size), or 0 when
 * @data does not start like an .npy of version 1.0, 2.0 or 3.0. */
guint64  npv_npy_header_length     (const guint8  *data,
                                    gsize          size);

/* Fails with both sizes in the message when fewer than the header's nbytes
 * follow the header in a file of @file_size bytes. */
gboolean npv_npy_header_check_size (const NpvNpyHeader  *header,
                                    guint64              file_size,
                                    const char          *name,
                                    GError             **error);

void     npv_npy_header_clear      (NpvNpyHeader  *header);

/* The bytes np.save writes before the data of an array with this dtype,
 * shape and order: magic, version, length, header text with numpy's growth
 * padding and 64-byte alignment, the version guessed as numpy does. */
GBytes  *npv_npy_header_build      (const NpvDType *dtype,
                                    guint           ndim,
                                    const gint64   *shape,
                                    gboolean        fortran_order);

G_END_DECLS
