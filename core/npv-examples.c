/* npv-examples.c: arrays made in memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-examples"

#include "npv-examples.h"

#include <math.h>

#include "npv-dtype.h"
#include "npv-npy.h"

GBytes *
npv_example_smooth_field (void)
{
  const gint64 shape[2] = { 256, 256 };
  g_autoptr(NpvDType) dtype = npv_dtype_new_from_string ("<f8", NULL);
  g_autoptr(GBytes) header = npv_npy_header_build (dtype, 2, shape, FALSE);
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, g_bytes_get_data (header, NULL), g_bytes_get_size (header));
  for (gint64 i = 0; i < shape[0]; i++)
    for (gint64 j = 0; j < shape[1]; j++)
      {
        double x = j / 32.0, y = i / 32.0;
        double v = sin (x) * cos (y) + 0.25 * sin (3 * x + y);

        /* A small hole of missing values, as real measurements have. */
        if ((i - 180) * (i - 180) + (j - 70) * (j - 70) < 36)
          v = NAN;
        g_byte_array_append (out, (const guint8 *) &v, sizeof v);
      }
  return g_byte_array_free_to_bytes (out);
}
