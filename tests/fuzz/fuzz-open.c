/* fuzz-open.c: the whole path from bytes to values on the screen
 *
 * Any bytes are opened as a file (npy, npz, npy.gz or pickle, found by
 * their first bytes); then, for each of the first members, the index of a
 * compressed member is built, the array opened, printed as numpy prints
 * it, and the grid's first window of its default plane computed, as the
 * app does when the member is chosen.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "fuzz.h"
#include "npv-file.h"
#include "npv-plane.h"
#include "npv-print.h"
#include "npv-pyobject.h"
#include "npv-tile.h"

#define MAX_MEMBERS 8

static void
show_array (NpvArray *array)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  NpvPrintOptions options = NPV_PRINT_OPTIONS_DEFAULT;
  NpvNumberFormat format = { NPV_NUMBER_AUTO, 0 };
  g_autoptr(NpvArray) view = NULL;
  g_autoptr(GArray) leaves = NULL;
  g_autoptr(NpvTile) tile = NULL;
  NpvPlane plane;

  if (!npv_array_print (out, array, &options, &error))
    g_assert (error != NULL);
  g_clear_error (&error);

  npv_plane_init_default (&plane, array);
  view = npv_plane_apply (&plane, array, &error);
  if (view == NULL)
    {
      g_assert (error != NULL);
      return;
    }
  leaves = npv_dtype_collect_leaves (view->dtype);
  tile = npv_tile_compute (view, leaves, 0, 0, 16, 16, &format, NULL, &error);
  g_assert (tile != NULL || error != NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(NpvFile) file = NULL;
  guint n;

  npv_fuzz_init ();
  file = npv_file_open_bytes (bytes, "fuzz", &error);
  if (file == NULL)
    {
      g_assert (error != NULL && error->message[0] != '\0');
      return 0;
    }
  n = MIN (npv_file_get_n_members (file), MAX_MEMBERS);
  for (guint i = 0; i < n; i++)
    {
      const NpvMember *member = npv_file_get_member (file, i);
      g_autoptr(GError) member_error = NULL;
      g_autoptr(NpvArray) array = NULL;

      if (member->object != NULL)
        {
          g_autofree char *repr = npv_py_object_repr (member->object);
        }
      if (member->kind != NPV_MEMBER_ARRAY)
        continue;
      if (!npv_file_build_index (file, member, NULL, NULL, NULL, &member_error))
        {
          g_assert (member_error != NULL);
          g_clear_error (&member_error);
        }
      array = npv_file_open_array (file, member, &member_error);
      if (array == NULL)
        {
          g_assert (member_error != NULL);
          continue;
        }
      show_array (array);
    }
  return 0;
}
