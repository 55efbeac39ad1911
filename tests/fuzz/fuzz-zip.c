/* fuzz-zip.c: the zip central directory and local headers
 *
 * Any bytes: no directory (an error), or entries whose located data lies
 * inside the input.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "fuzz.h"
#include "npv-source.h"
#include "npv-zip.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new_static (data, size);
  g_autoptr(NpvSource) source = npv_source_new_for_bytes (bytes, "fuzz.npz");
  g_autoptr(GArray) entries = NULL;

  npv_fuzz_init ();
  entries = npv_zip_read_directory (source, &error);
  if (entries == NULL)
    {
      g_assert (error != NULL);
      return 0;
    }
  for (guint i = 0; i < entries->len; i++)
    {
      NpvZipEntry *entry = &g_array_index (entries, NpvZipEntry, i);
      g_autoptr(GError) entry_error = NULL;

      if (!npv_zip_entry_locate (source, entry, &entry_error))
        {
          g_assert (entry_error != NULL);
          continue;
        }
      g_assert (entry->data_offset <= size);
      g_assert (entry->compressed_size <= size - entry->data_offset);
    }
  return 0;
}
