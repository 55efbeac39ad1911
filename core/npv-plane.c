/* npv-plane.c: the 2-D plane of an N-D array that a view shows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-plane"

#include "config.h"

#include "npv-plane.h"

#include <string.h>

#include "npv-error.h"

void
npv_plane_init_default (NpvPlane       *plane,
                        const NpvArray *array)
{
  memset (plane, 0, sizeof *plane);
  plane->ndim = array->ndim;
  plane->row_axis = array->ndim >= 2 ? array->ndim - 2 : array->ndim == 1 ? 0 : NPV_PLANE_NO_AXIS;
  plane->col_axis = array->ndim >= 2 ? array->ndim - 1 : NPV_PLANE_NO_AXIS;
}

gboolean
npv_plane_is_valid (const NpvPlane *plane,
                    const NpvArray *array)
{
  if (plane->ndim != array->ndim)
    return FALSE;
  if (array->ndim == 0)
    return plane->row_axis == NPV_PLANE_NO_AXIS && plane->col_axis == NPV_PLANE_NO_AXIS;
  if (plane->row_axis >= array->ndim)
    return FALSE;
  if (array->ndim == 1)
    return plane->col_axis == NPV_PLANE_NO_AXIS;
  if (plane->col_axis >= array->ndim || plane->col_axis == plane->row_axis)
    return FALSE;
  for (guint k = 0; k < array->ndim; k++)
    if (k != plane->row_axis && k != plane->col_axis &&
        (plane->fixed[k] < 0 || plane->fixed[k] >= array->shape[k]))
      return FALSE;
  return TRUE;
}

NpvArray *
npv_plane_apply (const NpvPlane *plane,
                 const NpvArray *array,
                 GError        **error)
{
  gint64 shape[2] = { 1, 1 };
  gint64 offset = array->offset;
  g_autoptr(NpvArray) view = NULL;

  if (!npv_plane_is_valid (plane, array))
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "the plane does not fit an array of %u dimensions", array->ndim);
      return NULL;
    }

  /* A view of one item, then given the plane's shape and strides. */
  view = npv_array_new (array->source, array->dtype, 0, 2, shape, FALSE);
  for (guint k = 0; k < array->ndim; k++)
    if (k != plane->row_axis && k != plane->col_axis)
      offset += plane->fixed[k] * array->strides[k];
  view->offset = offset;
  view->shape[0] = plane->row_axis != NPV_PLANE_NO_AXIS ? array->shape[plane->row_axis] : 1;
  view->strides[0] = plane->row_axis != NPV_PLANE_NO_AXIS ? array->strides[plane->row_axis] : 0;
  view->shape[1] = plane->col_axis != NPV_PLANE_NO_AXIS ? array->shape[plane->col_axis] : 1;
  view->strides[1] = plane->col_axis != NPV_PLANE_NO_AXIS ? array->strides[plane->col_axis] : 0;
  view->count = view->shape[0] * view->shape[1];
  return g_steal_pointer (&view);
}

char *
npv_plane_to_expression (const NpvPlane *plane,
                         const char     *name)
{
  GString *out = g_string_new (name);
  gboolean fixed_any = FALSE;

  for (guint k = 0; k < plane->ndim; k++)
    fixed_any |= k != plane->row_axis && k != plane->col_axis;
  if (fixed_any)
    {
      g_string_append_c (out, '[');
      for (guint k = 0; k < plane->ndim; k++)
        {
          if (k > 0)
            g_string_append (out, ", ");
          if (k == plane->row_axis || k == plane->col_axis)
            g_string_append_c (out, ':');
          else
            g_string_append_printf (out, "%" G_GINT64_FORMAT, plane->fixed[k]);
        }
      g_string_append_c (out, ']');
    }
  if (plane->col_axis != NPV_PLANE_NO_AXIS && plane->row_axis > plane->col_axis)
    g_string_append (out, ".T");
  return g_string_free (out, FALSE);
}
