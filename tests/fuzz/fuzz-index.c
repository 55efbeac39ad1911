/* fuzz-index.c: the slice expression a user types ("3, ::2, ..., None")
 *
 * Parsed, then applied to a (2, 3, 4, 5) array: either an error, or a
 * view whose every item lies inside the array's bytes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "fuzz.h"
#include "npv-array.h"
#include "npv-print.h"
#include "npv-source.h"

static NpvArray *
base_array (void)
{
  static NpvArray *array;

  if (array == NULL)
    {
      static const gint64 shape[4] = { 2, 3, 4, 5 };
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvDType) dtype = npv_dtype_new_from_string ("<i2", &error);
      g_autofree gint16 *values = g_new (gint16, 120);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(NpvSource) source = NULL;

      g_assert (dtype != NULL);
      for (guint i = 0; i < 120; i++)
        values[i] = i;
      bytes = g_bytes_new_take (g_steal_pointer (&values), 120 * sizeof (gint16));
      source = npv_source_new_for_bytes (bytes, "fuzz.npy");
      array = npv_array_new (source, dtype, 0, 4, shape, FALSE);
    }
  return array;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  NpvIndex index;
  g_autoptr(NpvArray) view = NULL;
  NpvArray *array;

  npv_fuzz_init ();
  if (size > 4096)
    return 0;
  text = g_strndup ((const char *) data, size);
  if (!npv_index_parse (text, &index, &error))
    {
      g_assert (error != NULL);
      return 0;
    }
  array = base_array ();
  view = npv_array_apply_index (array, &index, &error);
  if (view == NULL)
    {
      g_assert (error != NULL);
      return 0;
    }
  g_assert (view->count >= 0 && view->count <= array->count);
  if (view->count > 0)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      NpvPrintOptions options = NPV_PRINT_OPTIONS_DEFAULT;
      gint64 first = view->offset, last = view->offset;

      /* The view's extreme items lie inside the array's 240 bytes. */
      for (guint i = 0; i < view->ndim; i++)
        {
          gint64 reach = (view->shape[i] - 1) * view->strides[i];

          if (reach < 0)
            first += reach;
          else
            last += reach;
        }
      g_assert (first >= 0 && last + 2 <= 240);
      if (!npv_array_print (out, view, &options, &error))
        g_error ("printing a valid view failed: %s", error->message);
    }
  return 0;
}
