/* test-window.c: the window opens numpy's files and shows errors in place
 *
 * Runs under xvfb-run. The files come from numpy at test time (see
 * gen-window-files.py); their paths and numpy's own description are
 * passed on the command line.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <gtk/gtk.h>

#include "npv-window.h"

static const char *files_dir;

static char *
wait_for_text (NpvWindow *window)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  for (;;)
    {
      char *text = npv_window_dup_text (window);

      if ((text[0] != '\0' && !npv_window_is_busy (window)) || g_get_monotonic_time () > deadline)
        return text;
      g_free (text);
      g_main_context_iteration (NULL, TRUE);
    }
}

static char *
open_and_wait (const char *name)
{
  g_autofree char *path = g_build_filename (files_dir, name, NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  NpvWindow *window = npv_window_new (NULL);
  char *text;

  npv_window_open (window, file, NULL, NULL);
  gtk_window_present (GTK_WINDOW (window));
  text = wait_for_text (window);
  {
    g_autofree char *info = npv_window_dup_info (window);
    char *both = g_strconcat (text, "\n", info, NULL);

    g_free (text);
    text = both;
  }
  gtk_window_destroy (GTK_WINDOW (window));
  return text;
}

/* expected.txt: NAME<TAB>text the window must contain (numpy's words). */
static void
test_numpy_files (void)
{
  g_autofree char *expected_path = g_build_filename (files_dir, "expected.txt", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  guint checked = 0;

  g_file_get_contents (expected_path, &contents, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (lines[i], "\t", 2);
      g_autofree char *text = NULL;

      if (g_strv_length (parts) != 2)
        continue;
      text = open_and_wait (parts[0]);
      if (strstr (text, parts[1]) == NULL)
        g_error ("%s: the window shows\n%s\nwhich lacks “%s”", parts[0], text, parts[1]);
      checked++;
    }
  g_assert_cmpuint (checked, >=, 4);
}

static void
test_example (void)
{
  NpvWindow *window = npv_window_new (NULL);
  g_autofree char *text = NULL;

  npv_window_open_example (window, NULL);
  text = npv_window_dup_info (window);
  g_assert_nonnull (strstr (text, "float64, little-endian"));
  g_assert_nonnull (strstr (text, "(400, 600)"));
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_missing_file (void)
{
  g_autofree char *text = open_and_wait ("does-not-exist.npy");

  g_assert_nonnull (strstr (text, "does-not-exist.npy"));
  g_assert_nonnull (strstr (text, "cannot open"));
}

static void
test_close_while_opening (void)
{
  g_autofree char *path = g_build_filename (files_dir, "c-order.npy", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);

  /* Destroyed before the worker answers: the late result must be dropped
   * without touching the dead window (fatal-warnings would catch it). */
  for (guint i = 0; i < 20; i++)
    {
      NpvWindow *window = npv_window_new (NULL);

      npv_window_open (window, file, NULL, NULL);
      gtk_window_destroy (GTK_WINDOW (window));
    }
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_usleep (100000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  if (argc < 2)
    g_error ("usage: test-window DIR (made by gen-window-files.py)");
  files_dir = argv[1];

  g_test_add_func ("/window/numpy-files", test_numpy_files);
  g_test_add_func ("/window/example", test_example);
  g_test_add_func ("/window/missing-file", test_missing_file);
  g_test_add_func ("/window/close-while-opening", test_close_while_opening);
  return g_test_run ();
}
