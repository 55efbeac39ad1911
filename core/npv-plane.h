/* npv-plane.h: the 2-D plane of an N-D array that a view shows
 *
 * Which axis runs down the rows, which across the columns, and the index
 * on every other axis. A plane is applied to an array as a view: nothing
 * is copied, and numpy's expression for it can be written out.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "npv-array.h"

G_BEGIN_DECLS

#define NPV_PLANE_NO_AXIS G_MAXUINT

typedef struct
{
  guint ndim;
  guint row_axis;              /* NPV_PLANE_NO_AXIS for 0-d arrays */
  guint col_axis;              /* NPV_PLANE_NO_AXIS for 0-d and 1-D arrays */
  gint64 fixed[NPV_MAX_DIMS];  /* the index on each axis that is neither */
} NpvPlane;

/* Rows on the second last axis, columns on the last, 0 elsewhere: what
 * numpy prints last for a[0, 0, ...]. 1-D arrays are one column. */
void      npv_plane_init_default  (NpvPlane       *plane,
                                   const NpvArray *array);

/* Whether @plane fits @array (axes and fixed indices in range). */
gboolean  npv_plane_is_valid      (const NpvPlane *plane,
                                   const NpvArray *array);

/* A 2-D view of @array: shape (rows, columns), rows along row_axis
 * (transposed when row_axis > col_axis). A 1-D array gives (n, 1) and a
 * 0-d one (1, 1). NPV_ERROR_INVALID_ARGUMENT if the plane does not fit. */
NpvArray *npv_plane_apply         (const NpvPlane *plane,
                                   const NpvArray *array,
                                   GError        **error);

/* numpy's expression for the plane of @name: "a[3, :, :, 7].T", "a". */
char     *npv_plane_to_expression (const NpvPlane *plane,
                                   const char     *name);

G_END_DECLS
