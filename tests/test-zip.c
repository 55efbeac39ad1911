/* test-zip.c: the central directory reader against Python's zipfile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "npv-error.h"
#include "npv-zip.h"

static const char *cases_dir;

static char *
unhex (const char *hex)
{
  gsize len = strlen (hex) / 2;
  char *out = g_malloc (len + 1);

  for (gsize i = 0; i < len; i++)
    out[i] = (g_ascii_xdigit_value (hex[2 * i]) << 4) | g_ascii_xdigit_value (hex[2 * i + 1]);
  out[len] = '\0';
  return out;
}

static void
test_archives (void)
{
  g_autofree char *path = g_build_filename (cases_dir, "expected.txt", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) archives = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                          (GDestroyNotify) g_array_unref);
  guint checked = 0, refused = 0;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (contents, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], "\t", -1);
      g_autofree char *file = NULL;
      g_autoptr(NpvSource) source = NULL;
      GArray *entries;

      if (g_strv_length (f) < 2)
        continue;
      file = g_build_filename (cases_dir, f[0], NULL);
      source = npv_source_new_for_path (file, &error);
      g_assert_no_error (error);

      if (strcmp (f[1], "error") == 0)
        {
          g_autoptr(GArray) none = npv_zip_read_directory (source, &error);

          if (none != NULL)
            g_error ("%s: the directory was read, but it must be refused", f[0]);
          g_assert_error (error, NPV_ERROR, NPV_ERROR_FORMAT);
          g_assert_true (g_utf8_validate (error->message, -1, NULL));
          g_assert_nonnull (strstr (error->message, f[0]));
          g_clear_error (&error);
          refused++;
          continue;
        }

      entries = g_hash_table_lookup (archives, f[0]);
      if (entries == NULL)
        {
          entries = npv_zip_read_directory (source, &error);
          g_assert_no_error (error);
          g_hash_table_insert (archives, g_strdup (f[0]), entries);
        }

      if (strcmp (f[1], "count") == 0)
        {
          g_assert_cmpuint (entries->len, ==, g_ascii_strtoull (f[2], NULL, 10));
          continue;
        }

      {
        guint index = g_ascii_strtoull (f[1], NULL, 10);
        NpvZipEntry *entry;
        g_autofree char *name = unhex (f[2]);

        g_assert_cmpuint (g_strv_length (f), ==, 9);
        g_assert_cmpuint (index, <, entries->len);
        entry = &g_array_index (entries, NpvZipEntry, index);
        g_assert_cmpstr (entry->name, ==, name);
        g_assert_cmpuint (entry->method, ==, g_ascii_strtoull (f[3], NULL, 10));
        g_assert_cmpuint (entry->crc32, ==, g_ascii_strtoull (f[4], NULL, 10));
        g_assert_cmpuint (entry->compressed_size, ==, g_ascii_strtoull (f[5], NULL, 10));
        g_assert_cmpuint (entry->uncompressed_size, ==, g_ascii_strtoull (f[6], NULL, 10));
        g_assert_cmpuint (entry->local_header_offset, ==, g_ascii_strtoull (f[7], NULL, 10));
        g_assert_true (npv_zip_entry_locate (source, entry, &error));
        g_assert_no_error (error);
        g_assert_cmpuint (entry->data_offset, ==, g_ascii_strtoull (f[8], NULL, 10));
        checked++;
      }
    }

  g_assert_cmpuint (checked, >=, 1000);
  g_assert_cmpuint (refused, >=, 4);
}

/* Every prefix and many single-byte changes of a real archive: an answer
 * or an error, never a crash or a read outside the file. */
static void
test_damage (void)
{
  g_autofree char *path = g_build_filename (cases_dir, "names.npz", NULL);
  g_autofree char *data = NULL;
  gsize len;
  GRand *rand = g_rand_new_with_seed (11);

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  for (gsize cut = 0; cut <= len; cut++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (data, cut);
      g_autoptr(NpvSource) source = npv_source_new_for_bytes (bytes, "cut.npz");
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) entries = npv_zip_read_directory (source, &error);

      g_assert_true ((entries == NULL) == (error != NULL));
      for (guint i = 0; entries != NULL && i < entries->len; i++)
        {
          npv_zip_entry_locate (source, &g_array_index (entries, NpvZipEntry, i), &error);
          g_clear_error (&error);
        }
    }
  for (guint round = 0; round < 5000; round++)
    {
      g_autofree char *copy = g_memdup2 (data, len);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(NpvSource) source = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) entries = NULL;

      for (guint k = 0; k < 1 + round % 4; k++)
        copy[g_rand_int_range (rand, len > 200 ? len - 200 : 0, len)] = g_rand_int (rand);
      bytes = g_bytes_new_take (g_steal_pointer (&copy), len);
      source = npv_source_new_for_bytes (bytes, "damaged.npz");
      entries = npv_zip_read_directory (source, &error);
      g_assert_true ((entries == NULL) == (error != NULL));
      for (guint i = 0; entries != NULL && i < entries->len; i++)
        {
          npv_zip_entry_locate (source, &g_array_index (entries, NpvZipEntry, i), &error);
          g_clear_error (&error);
        }
    }
  g_rand_free (rand);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    g_error ("usage: test-zip DIR (made by gen-zip-cases.py)");
  cases_dir = argv[1];
  g_test_add_func ("/zip/numpy-archives", test_archives);
  g_test_add_func ("/zip/damage", test_damage);
  return g_test_run ();
}
