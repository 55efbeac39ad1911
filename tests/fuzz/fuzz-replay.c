/* fuzz-replay.c: runs a fuzz target over saved inputs, without libFuzzer
 *
 *   fuzz-replay-TARGET PATH...
 *
 * Each PATH is a file or a folder of files (not recursive); a missing
 * folder is skipped. Every input is run once; a crash, a sanitizer report
 * or a failed assertion fails the test as it would fail the fuzzer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>

#include "fuzz.h"

static gboolean
replay_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize size;

  if (!g_file_get_contents (path, &contents, &size, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return FALSE;
    }
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, size);
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  guint n_inputs = 0;
  gboolean ok = TRUE;

  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GDir) dir = NULL;
      const char *name;

      if (!g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          if (g_file_test (argv[i], G_FILE_TEST_EXISTS))
            {
              ok &= replay_file (argv[i]);
              n_inputs++;
            }
          continue;
        }
      dir = g_dir_open (argv[i], 0, NULL);
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (argv[i], name, NULL);

          if (name[0] == '.' || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
            continue;
          ok &= replay_file (path);
          n_inputs++;
        }
    }
  printf ("%u inputs replayed\n", n_inputs);
  return ok && n_inputs > 0 ? 0 : 1;
}
