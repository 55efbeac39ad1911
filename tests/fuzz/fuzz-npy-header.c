/* fuzz-npy-header.c: the .npy header and dtype parser
 *
 * Any bytes: the parser either fails with an error or gives a header whose
 * sizes agree with each other. A header it accepts is written again as
 * np.save would and must parse to the same dtype, shape and order.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "npv-npy.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  NpvNpyHeader header, again;
  g_autofree char *str = NULL;
  g_autofree char *name = NULL;
  g_autoptr(GString) descr = g_string_new (NULL);
  g_autoptr(GString) json = g_string_new (NULL);
  g_autoptr(GBytes) written = NULL;
  gsize written_size;
  const guint8 *written_data;
  g_autofree char *str_again = NULL;

  npv_fuzz_init ();

  if (!npv_npy_header_parse (&header, data, size, "fuzz.npy", &error))
    {
      g_assert (error != NULL && error->message[0] != '\0');
      return 0;
    }
  g_assert (header.dtype != NULL);
  g_assert (header.data_offset <= size);

  str = npv_dtype_to_str (header.dtype);
  name = npv_dtype_get_name (header.dtype);
  npv_dtype_append_descr_repr (header.dtype, descr);
  npv_dtype_append_descr_json (header.dtype, json);
  npv_npy_header_check_size (&header, size, "fuzz.npy", NULL);

  /* Round trip through what np.save would write. */
  written = npv_npy_header_build (header.dtype, header.ndim, header.shape, header.fortran_order);
  written_data = g_bytes_get_data (written, &written_size);
  if (!npv_npy_header_parse (&again, written_data, written_size, "again.npy", &error))
    g_error ("a header written from a parsed one does not parse: %s", error->message);
  str_again = npv_dtype_to_str (again.dtype);
  g_assert (strcmp (str, str_again) == 0);
  g_assert (again.ndim == header.ndim);
  g_assert (memcmp (again.shape, header.shape, header.ndim * sizeof (gint64)) == 0);
  g_assert (again.fortran_order == header.fortran_order || header.ndim <= 1);
  g_assert (again.count == header.count && again.nbytes == header.nbytes);

  npv_npy_header_clear (&again);
  npv_npy_header_clear (&header);
  return 0;
}
