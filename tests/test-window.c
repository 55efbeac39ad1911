/* test-window.c: the window opens numpy's files and shows errors in place
 *
 * Runs under xvfb-run. The files and what the window must show about them
 * come from numpy at build time: gen-window-files.py writes them with
 * DIR/manifest.txt, whose format it describes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <unistd.h>

#include "npv-application.h"
#include "npv-grid.h"
#include "npv-window.h"

/* How long one open or read may take before the test gives up on it. */
#define WAIT_SECONDS 20

static const char *files_dir;
static char **manifest;          /* its lines */
static GHashTable *facts;        /* "NAME\tKEY" -> text, from "fact" lines */

/* ------------------------------------------------------------------ */
/* Helpers */

/* Records a failure and goes on, so that one run shows every mismatch. */
static void fail (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
fail (const char *format,
      ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("FAIL: %s\n", message);
  g_test_fail ();
}

static char *
files_path (const char *name)
{
  return g_build_filename (files_dir, name, NULL);
}

static const char *
fact (const char *name,
      const char *key)
{
  g_autofree char *id = g_strdup_printf ("%s\t%s", name, key);
  const char *text = g_hash_table_lookup (facts, id);

  if (text == NULL)
    g_error ("manifest.txt has no fact %s %s: rebuild with ninja", name, key);
  return text;
}

static gboolean
wake (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
is_settled (NpvWindow *window)
{
  const char *page = npv_window_get_page (window);

  return !npv_window_is_busy (window) &&
         g_strcmp0 (page, "loading") != 0 && g_strcmp0 (page, "reading") != 0;
}

/* Runs the main loop until @window has done its work. */
static gboolean
wait_settled (NpvWindow  *window,
              const char *what)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC;
  guint wake_id = g_timeout_add (20, wake, NULL);
  gboolean settled;

  while (!(settled = is_settled (window)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (wake_id);
  if (!settled)
    fail ("%s: after %d s the window still shows the page '%s'%s", what, WAIT_SECONDS,
          npv_window_get_page (window), npv_window_is_busy (window) ? " and is busy" : "");
  return settled;
}

/* Runs the main loop for @seconds, whatever happens. */
static void
iterate_for (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  guint wake_id = g_timeout_add (10, wake, NULL);

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (wake_id);
}

static NpvWindow *
open_window (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  NpvWindow *window = npv_window_new (NULL);

  npv_window_open (window, file, NULL, NULL);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

/* The value of the info panel's line for @key, or %NULL. */
static char *
info_value (NpvWindow  *window,
            const char *key)
{
  g_autofree char *info = npv_window_dup_info (window);
  g_auto(GStrv) lines = g_strsplit (info, "\n", -1);
  gsize key_len = strlen (key);

  for (guint i = 0; lines[i] != NULL; i++)
    if (strncmp (lines[i], key, key_len) == 0 && lines[i][key_len] == '\t')
      return g_strdup (lines[i] + key_len + 1);
  return NULL;
}

static void
check_info (NpvWindow  *window,
            const char *what,
            const char *key,
            const char *expected)
{
  g_autofree char *value = info_value (window, key);

  if (g_strcmp0 (value, expected) != 0)
    {
      g_autofree char *info = npv_window_dup_info (window);

      fail ("%s: the info panel's '%s' is '%s', expected '%s'; the panel:\n%s", what, key,
            value != NULL ? value : "(missing)", expected, info);
    }
}

static void
check_page (NpvWindow  *window,
            const char *what,
            const char *expected)
{
  const char *page = npv_window_get_page (window);

  if (g_strcmp0 (page, expected) != 0)
    {
      g_autofree char *text = npv_window_dup_text (window);

      fail ("%s: the window shows the page '%s', expected '%s'; its text:\n%s", what, page, expected, text);
    }
}

static void
check_members (NpvWindow  *window,
               const char *what,
               const char *expected)
{
  g_autofree char *members = npv_window_dup_members (window);

  if (strcmp (members, expected) != 0)
    fail ("%s: the member tree shows\n%s\nexpected\n%s", what, members, expected);
}

static gboolean
check_text (NpvWindow  *window,
            const char *what,
            const char *expected)
{
  g_autofree char *text = npv_window_dup_text (window);

  if (strcmp (text, expected) == 0)
    return TRUE;
  fail ("%s: the window shows\n%s\nnumpy's str() is\n%s", what, text, expected);
  return FALSE;
}

/* @text without brackets, its runs of white space made one space. */
static char *
items_of (const char *text)
{
  GString *out = g_string_new (NULL);
  gboolean space = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '[' || *p == ']')
        continue;
      if (g_ascii_isspace (*p))
        {
          space = out->len > 0;
          continue;
        }
      if (space)
        g_string_append_c (out, ' ');
      space = FALSE;
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ */
/* The manifest's cases */

/* What a pass over the manifest checks; all passes select and filter. */
typedef enum
{
  CHECK_WINDOW,                /* the tree, the info panel, pages, messages */
  CHECK_ITEMS,                 /* "items": each value as numpy writes it */
  CHECK_STR,                   /* "text": the values exactly as numpy's str() */
} Check;

typedef struct
{
  Check check;
  NpvWindow *window;
  char *name;                  /* the file of the current case */
  char *path;
  char *where;                 /* name, and the member selected */
  gboolean skip;               /* the rest of the case, after a timeout */
  guint n_cases;
  guint n_checks;
  guint n_failed;
} Run;

static void
run_close_case (Run *run)
{
  if (run->window != NULL)
    gtk_window_destroy (GTK_WINDOW (run->window));
  run->window = NULL;
  g_clear_pointer (&run->name, g_free);
  g_clear_pointer (&run->path, g_free);
  g_clear_pointer (&run->where, g_free);
  run->skip = FALSE;
}

static void
run_open_case (Run        *run,
               const char *name)
{
  run_close_case (run);
  run->name = g_strdup (name);
  run->path = files_path (name);
  run->where = g_strdup (name);
  run->window = open_window (run->path);
  run->n_cases++;
  run->skip = !wait_settled (run->window, run->where);
  /* Every file that opens names itself in the info panel. */
  if (!run->skip && run->check == CHECK_WINDOW &&
      g_strcmp0 (npv_window_get_page (run->window), "error") != 0)
    {
      g_autoptr(GFile) file = g_file_new_for_path (run->path);
      g_autofree char *path = g_file_get_path (file);

      check_info (run->window, run->where, "File", path);
    }
}

static void
run_directive (Run         *run,
               guint        line,
               const char  *directive,
               char       **args,
               guint        n_args)
{
  NpvWindow *window = run->window;
  const char *where = run->where;
  gboolean action = strcmp (directive, "select") == 0 || strcmp (directive, "filter") == 0;
  Check check = strcmp (directive, "text") == 0 ? CHECK_STR
                : strcmp (directive, "items") == 0 ? CHECK_ITEMS : CHECK_WINDOW;

  if (strcmp (directive, "fact") == 0)
    return;
  if (strcmp (directive, "file") == 0 && n_args == 1)
    {
      run_open_case (run, args[0]);
      return;
    }
  if (window == NULL)
    g_error ("manifest.txt:%u: '%s' before any 'file'", line, directive);
  if (run->skip || (!action && check != run->check))
    return;
  if (!action)
    run->n_checks++;

  if (check == CHECK_STR && n_args == 1)
    {
      if (!check_text (window, where, args[0]))
        run->n_failed++;
    }
  else if (check == CHECK_ITEMS && n_args == 1)
    {
      g_autofree char *text = npv_window_dup_text (window);
      g_autofree char *items = items_of (text);

      if (strcmp (items, args[0]) != 0)
        {
          fail ("%s: the window shows\n%s\nwhose items are\n%s\nnumpy's are\n%s",
                where, text, items, args[0]);
          run->n_failed++;
        }
    }
  else if (strcmp (directive, "page") == 0 && n_args == 1)
    check_page (window, where, args[0]);
  else if (strcmp (directive, "has") == 0 && n_args == 1)
    {
      g_autofree char *text = npv_window_dup_text (window);

      if (strstr (text, args[0]) == NULL)
        fail ("%s: the window shows\n%s\nwhich lacks '%s'", where, text, args[0]);
    }
  else if (strcmp (directive, "tree") == 0 && n_args == 1)
    check_members (window, where, args[0]);
  else if (strcmp (directive, "select") == 0 && n_args == 1)
    {
      g_free (run->where);
      run->where = g_strdup_printf ("%s, member '%s'", run->name, args[0]);
      if (!npv_window_select_member (window, args[0]))
        {
          g_autofree char *members = npv_window_dup_members (window);

          fail ("%s: cannot select it; the tree shows\n%s", run->where, members);
          run->skip = TRUE;
          return;
        }
      run->skip = !wait_settled (window, run->where);
    }
  else if (strcmp (directive, "filter") == 0 && n_args == 1)
    {
      g_free (run->where);
      run->where = g_strdup_printf ("%s, filtered by '%s'", run->name, args[0]);
      npv_window_set_filter (window, args[0]);
      run->skip = !wait_settled (window, run->where);
    }
  else if (strcmp (directive, "info") == 0 && n_args == 2)
    check_info (window, where, args[0], args[1]);
  else if (strcmp (directive, "info-size") == 0 && n_args == 2)
    {
      g_autofree char *size = g_format_size_full (g_ascii_strtoull (args[1], NULL, 10),
                                                  G_FORMAT_SIZE_IEC_UNITS);

      check_info (window, where, args[0], size);
    }
  else if (strcmp (directive, "no-info") == 0 && n_args == 1)
    {
      g_autofree char *value = info_value (window, args[0]);

      if (value != NULL)
        fail ("%s: the info panel has '%s' ('%s'), expected none", where, args[0], value);
    }
  else
    g_error ("manifest.txt:%u: cannot read '%s' with %u fields", line, directive, n_args);
}

/* Each numpy-written file, as the manifest says. */
static void
run_manifest (Check check)
{
  Run run = { check, NULL, };

  for (guint i = 0; manifest[i] != NULL; i++)
    {
      g_auto(GStrv) fields = NULL;
      guint n;

      if (manifest[i][0] == '\0' || manifest[i][0] == '#')
        continue;
      fields = g_strsplit (manifest[i], "\t", -1);
      n = g_strv_length (fields);
      for (guint k = 1; k < n; k++)
        {
          char *plain = g_strcompress (fields[k]);

          g_free (fields[k]);
          fields[k] = plain;
        }
      run_directive (&run, i + 1, fields[0], fields + 1, n - 1);
    }
  run_close_case (&run);
  g_test_message ("%u files, %u checks", run.n_cases, run.n_checks);
  if (run.n_failed > 0)
    g_printerr ("%u of %u values differ from numpy's\n", run.n_failed, run.n_checks);
  g_assert_cmpuint (run.n_cases, >=, 20);
  g_assert_cmpuint (run.n_checks, >=, check == CHECK_WINDOW ? 500 : 40);
}

/* The member tree, the info panel, the pages and the error messages. */
static void
test_numpy_files (void)
{
  run_manifest (CHECK_WINDOW);
}

/* The values, item by item, as the README promises: each item as numpy
 * writes it on its own, in numpy's brackets. */
static void
test_numpy_items (void)
{
  run_manifest (CHECK_ITEMS);
}

/* ------------------------------------------------------------------ */
/* The welcome page and the examples */

static const struct
{
  const char *member;
  const char *shape;
  const char *dtype;
} examples[] = {
  { "field", "(400, 600)", "<f8" },
  { "stack", "(12, 96, 128)", "<f4" },
  { "image", "(240, 320, 3)", "|u1" },
  { "complex", "(256, 256)", "<c16" },
  { "records", "(2000,)", "|V45" },
  { "signal", "(1000000,)", "<f8" },
  { "experiment/run-1/field", "(400, 600)", "<f8" },
  { "experiment/run-1/counts", "(50,)", "<i4" },
  { "experiment/run-2/counts", "(50,)", "<i4" },
};

static void
check_welcome (NpvWindow  *window,
               const char *what)
{
  g_autofree char *members = npv_window_dup_members (window);
  g_autofree char *info = npv_window_dup_info (window);
  g_autofree char *text = npv_window_dup_text (window);

  check_page (window, what, "welcome");
  if (npv_window_is_busy (window))
    fail ("%s: the welcome page is busy", what);
  if (members[0] != '\0' || info[0] != '\0' || text[0] != '\0')
    fail ("%s: the welcome page shows members '%s', info '%s', text '%s'", what, members, info, text);
}

static void
test_welcome (void)
{
  NpvWindow *window = npv_window_new (NULL);

  gtk_window_present (GTK_WINDOW (window));
  check_welcome (window, "a new window");

  npv_window_open_example (window, NULL);
  wait_settled (window, "the examples");
  check_page (window, "the examples", "values");
  check_info (window, "the examples", "Member", "field");

  npv_window_show_welcome (window);
  check_welcome (window, "back to the welcome page");

  /* Back to the welcome page while a member is being read: its late
   * result must not replace the page. */
  npv_window_open_example (window, "signal");
  if (!npv_window_is_busy (window))
    fail ("the signal example is not being read right after opening it");
  npv_window_show_welcome (window);
  iterate_for (0.5);
  check_welcome (window, "the welcome page while the signal was read");

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_examples (void)
{
  NpvWindow *window = npv_window_new (NULL);

  gtk_window_present (GTK_WINDOW (window));
  for (guint i = 0; i < G_N_ELEMENTS (examples); i++)
    {
      g_autofree char *what = g_strdup_printf ("the example '%s'", examples[i].member);
      g_autofree char *text = NULL;

      npv_window_open_example (window, examples[i].member);
      if (!wait_settled (window, what))
        continue;
      check_page (window, what, "values");
      check_info (window, what, "Member", examples[i].member);
      check_info (window, what, "Shape", examples[i].shape);
      check_info (window, what, "dtype", examples[i].dtype);
      check_info (window, what, "File", "Examples");
      text = npv_window_dup_text (window);
      if (strlen (text) < 20)
        fail ("%s: the values are '%s'", what, text);
    }

  /* The last one opened its folders; the others stay closed. */
  check_members (window, "the examples",
                 "field\t(400, 600) float64 · stored\n"
                 "stack\t(12, 96, 128) float32 · stored\n"
                 "image\t(240, 320, 3) uint8 · stored\n"
                 "complex\t(256, 256) complex128 · stored\n"
                 "records\t(2000,) record of 4 fields · stored\n"
                 "signal\t(1000000,) float64 · stored\n"
                 "experiment\t3 members\n"
                 "  run-1\t2 members\n"
                 "  run-2\t1 member\n"
                 "    counts\t(50,) int32 · stored\n");

  /* Filtered: the matching members as a flat list of paths. */
  npv_window_set_filter (window, "run");
  wait_settled (window, "the examples filtered by 'run'");
  check_members (window, "the examples filtered by 'run'",
                 "experiment/run-1/field\t(400, 600) float64 · stored\n"
                 "experiment/run-1/counts\t(50,) int32 · stored\n"
                 "experiment/run-2/counts\t(50,) int32 · stored\n");
  check_info (window, "the examples filtered by 'run'", "Member", "experiment/run-2/counts");

  gtk_window_destroy (GTK_WINDOW (window));
}

/* ------------------------------------------------------------------ */
/* A missing file on the command line */

typedef struct
{
  GtkApplication *app;
  gint64 deadline;
  guint n_windows;
  char *pages;                 /* "name: page: text" lines, in the order of the windows */
  gboolean timed_out;
  guint source;
} AppRun;

static gint
compare_titles (gconstpointer a,
                gconstpointer b)
{
  return g_strcmp0 (gtk_window_get_title (GTK_WINDOW (a)), gtk_window_get_title (GTK_WINDOW (b)));
}

static gboolean
app_watch (gpointer user_data)
{
  AppRun *run = user_data;
  GList *windows = g_list_copy (gtk_application_get_windows (run->app));
  gboolean settled = windows != NULL;
  GString *pages = g_string_new (NULL);

  for (GList *l = windows; l != NULL; l = l->next)
    settled = settled && NPV_IS_WINDOW (l->data) && is_settled (l->data);
  if (!settled && g_get_monotonic_time () < run->deadline)
    {
      g_list_free (windows);
      g_string_free (pages, TRUE);
      return G_SOURCE_CONTINUE;
    }

  run->timed_out = !settled;
  run->n_windows = g_list_length (windows);
  windows = g_list_sort (windows, compare_titles);
  for (GList *l = windows; l != NULL; l = l->next)
    if (NPV_IS_WINDOW (l->data))
      {
        g_autofree char *text = npv_window_dup_text (l->data);

        g_string_append_printf (pages, "%s: %s: %s\n", gtk_window_get_title (l->data),
                                npv_window_get_page (l->data), text);
      }
  run->pages = g_string_free (pages, FALSE);
  /* Without windows the application returns from g_application_run(). */
  g_list_free_full (windows, (GDestroyNotify) gtk_window_destroy);
  run->source = 0;
  return G_SOURCE_REMOVE;
}

static void
test_missing_file_command_line (void)
{
  g_autofree char *missing = files_path ("does-not-exist.npy");
  g_autofree char *good = files_path ("c-order.npy");
  char *argv[] = { (char *) "npyview", missing, good, NULL };
  NpvApplication *app = npv_application_new ();
  AppRun run = { GTK_APPLICATION (app), g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC, };
  int status;

  run.source = g_timeout_add (20, app_watch, &run);
  status = g_application_run (G_APPLICATION (app), G_N_ELEMENTS (argv) - 1, argv);
  if (run.source != 0)
    g_source_remove (run.source);
  g_object_unref (app);

  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (run.pages);
  g_assert_false (run.timed_out);
  g_assert_cmpuint (run.n_windows, ==, 2);
  /* A window for each file: the good one opens (its values are checked
   * with the others'), the missing one has an error page naming it. */
  if (!g_str_has_prefix (run.pages, "c-order.npy: values: [") ||
      strstr (run.pages, "\ndoes-not-exist.npy: error: ") == NULL ||
      strstr (strstr (run.pages, "\ndoes-not-exist.npy: error: ") + 1, missing) == NULL)
    fail ("npyview MISSING GOOD: the windows show\n%s\nexpected the values of c-order.npy, "
          "then an error page naming %s", run.pages, missing);
  g_free (run.pages);
}

/* ------------------------------------------------------------------ */
/* Closing a window while it works */

static void
test_close_while_opening (void)
{
  g_autofree char *path = files_path ("c-order.npy");
  g_autoptr(GFile) file = g_file_new_for_path (path);

  /* Destroyed before the worker answers: the late result must be dropped
   * without touching the dead window (fatal-warnings would catch it). */
  for (guint i = 0; i < 20; i++)
    {
      NpvWindow *window = npv_window_new (NULL);

      npv_window_open (window, file, NULL, NULL);
      gtk_window_destroy (GTK_WINDOW (window));
    }
  iterate_for (0.3);
}

static void
test_close_while_indexing (void)
{
  g_autofree char *path = files_path ("big.npz");
  NpvWindow *window;
  gint64 start, full;

  /* The whole read first: how long indexing takes when nobody stops it. */
  start = g_get_monotonic_time ();
  window = open_window (path);
  g_assert_true (wait_settled (window, "big.npz"));
  full = g_get_monotonic_time () - start;
  check_page (window, "big.npz", "values");
  check_info (window, "big.npz", "Shape", fact ("big.npz", "Shape"));
  gtk_window_destroy (GTK_WINDOW (window));
  g_test_message ("big.npz: opened and read in %.3f s", full / 1e6);

  /* Closed (as a person does) and destroyed, each while indexing. */
  for (guint round = 0; round < 2; round++)
    {
      const char *how = round == 0 ? "closed" : "destroyed";
      gint64 deadline, closed, gone = 0;
      guint wake_id;

      window = open_window (path);
      deadline = g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC;
      wake_id = g_timeout_add (5, wake, NULL);
      while (g_strcmp0 (npv_window_get_page (window), "reading") != 0 &&
             !is_settled (window) && g_get_monotonic_time () < deadline)
        g_main_context_iteration (NULL, TRUE);
      g_source_remove (wake_id);
      /* "values" here: the member was read before the window could close
       * (a machine much faster than this test expects). */
      check_page (window, "big.npz before closing", "reading");
      if (!npv_window_is_busy (window))
        fail ("big.npz: the window is not busy while reading its big member");

      g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
      closed = g_get_monotonic_time ();
      if (round == 0)
        gtk_window_close (GTK_WINDOW (window));
      else
        gtk_window_destroy (GTK_WINDOW (window));

      /* The cancelled job lets go of the window; nothing else may happen. */
      wake_id = g_timeout_add (5, wake, NULL);
      while (g_get_monotonic_time () < closed + G_USEC_PER_SEC)
        {
          g_main_context_iteration (NULL, TRUE);
          if (window == NULL && gone == 0)
            gone = g_get_monotonic_time () - closed;
        }
      g_source_remove (wake_id);

      if (window != NULL)
        {
          fail ("big.npz: the window %s while indexing is still alive 1 s later", how);
          g_object_remove_weak_pointer (G_OBJECT (window), (gpointer *) &window);
        }
      else
        {
          g_test_message ("big.npz: %s while indexing, gone after %.3f s", how, gone / 1e6);
          /* Cancelled, not waited for: the job stopped well before the
           * whole member was inflated. */
          if (gone > full / 4)
            fail ("big.npz: the window %s while indexing was released only after %.3f s, "
                  "and opening and reading it whole takes %.3f s: closing the window did "
                  "not cancel the indexing", how, gone / 1e6, full / 1e6);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Reload */

/* As np.save writes: the same file, truncated and written again. */
static void
rewrite (const char *path,
         const char *from)
{
  g_autofree char *source = files_path (from);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  FILE *fp;

  g_file_get_contents (source, &contents, &len, &error);
  g_assert_no_error (error);
  fp = fopen (path, "wb");
  g_assert_nonnull (fp);
  g_assert_cmpuint (fwrite (contents, 1, len, fp), ==, len);
  g_assert_cmpint (fclose (fp), ==, 0);
}

static void
check_shows (NpvWindow  *window,
             const char *what,
             const char *name)
{
  if (!wait_settled (window, what))
    return;
  check_page (window, what, "values");
  check_text (window, what, fact (name, "text"));
  check_info (window, what, "Shape", fact (name, "Shape"));
  check_info (window, what, "dtype", fact (name, "dtype"));
}

static void
test_reload (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp (NULL, &error);
  g_autofree char *path = NULL;
  NpvWindow *window;

  g_assert_no_error (error);
  path = g_build_filename (dir, "data.npy", NULL);
  rewrite (path, "reload-a.npy");
  window = open_window (path);
  check_shows (window, "data.npy (reload-a.npy)", "reload-a.npy");

  /* The window notices the change and offers to reload: take it up once
   * the offer is shown, as a person would. */
  rewrite (path, "reload-b.npy");
  iterate_for (1.0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.reload", NULL));
  check_shows (window, "data.npy rewritten as reload-b.npy and reloaded", "reload-b.npy");

  rewrite (path, "reload-a.npy");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.reload", NULL));
  check_shows (window, "data.npy rewritten as reload-a.npy again and reloaded", "reload-a.npy");

  gtk_window_destroy (GTK_WINDOW (window));
  iterate_for (0.1);
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* Another program cuts the open file short: the window lives on, says so
 * and offers to reload; reloading then tells what is wrong with the file
 * now. */
static void
test_changed_on_disk (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp (NULL, &error);
  g_autofree char *path = NULL;
  NpvWindow *window;
  NpvGrid *grid;
  const char *banner;

  g_assert_no_error (error);
  path = g_build_filename (dir, "tall.npy", NULL);
  rewrite (path, "tall.npy");
  window = open_window (path);
  if (!wait_settled (window, "tall.npy"))
    return;
  check_page (window, "tall.npy", "values");
  grid = npv_window_get_grid (window);
  g_assert_cmpint (npv_grid_get_n_rows (grid), ==, 40000);

  g_assert_cmpint (truncate (path, 8192), ==, 0);
  /* Scrolling to the end asks for rows the file no longer has. */
  npv_grid_set_cursor (grid, 39990, 0, FALSE);
  iterate_for (1.0);
  banner = npv_window_get_banner (window);
  if (banner == NULL || strstr (banner, "changed on disk") == NULL)
    fail ("tall.npy cut short: the window offers no reload (banner: %s)", banner ? banner : "hidden");
  /* The cells it can no longer read say why. */
  {
    const char *text = npv_grid_peek_text (grid, 39990, 0);

    if (text != NULL && strstr (text, "changed on disk") == NULL && strstr (text, "ends before") == NULL)
      fail ("tall.npy cut short: row 39990 shows '%s'", text);
  }

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.reload", NULL));
  if (wait_settled (window, "tall.npy reloaded after it was cut short"))
    {
      g_autofree char *text = npv_window_dup_text (window);

      check_page (window, "tall.npy reloaded after it was cut short", "error");
      if (strstr (text, "truncated") == NULL)
        fail ("tall.npy reloaded after it was cut short: the error page says '%s'", text);
    }

  gtk_window_destroy (GTK_WINDOW (window));
  iterate_for (0.1);
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* An archive of more members than are listed at first: the window shows
 * the first member at once, and the last one can be chosen by name before
 * the list has caught up. */
static void
test_many_members (void)
{
  g_autofree char *path = files_path ("many.npz");
  NpvWindow *window = open_window (path);

  if (!wait_settled (window, "many.npz"))
    return;
  check_page (window, "many.npz", "values");
  if (!npv_window_select_member (window, "m49999"))
    fail ("many.npz: member m49999 cannot be selected");
  else if (wait_settled (window, "many.npz, member m49999"))
    check_text (window, "many.npz, member m49999", fact ("many.npz", "last"));
  gtk_window_destroy (GTK_WINDOW (window));
  iterate_for (0.1);
}

/* With "Reload automatically" on, a rewritten or replaced file is read
 * again without asking. */
static void
test_auto_reload (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp (NULL, &error);
  g_autofree char *path = NULL;
  g_autofree char *next = NULL;
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  NpvWindow *window;

  g_assert_no_error (error);
  path = g_build_filename (dir, "data.npy", NULL);
  next = g_build_filename (dir, "data.npy.part", NULL);
  rewrite (path, "reload-a.npy");
  window = open_window (path);
  check_shows (window, "data.npy (reload-a.npy)", "reload-a.npy");
  g_settings_set_boolean (settings, "reload-automatically", TRUE);

  /* Written again in place, as np.save does. */
  rewrite (path, "reload-b.npy");
  iterate_for (1.5);
  check_shows (window, "data.npy rewritten as reload-b.npy, reloaded automatically", "reload-b.npy");
  if (npv_window_get_banner (window) != NULL)
    fail ("data.npy reloaded automatically: the banner still shows");

  /* Replaced: a new file renamed over it (a new inode). */
  rewrite (next, "reload-a.npy");
  g_assert_cmpint (g_rename (next, path), ==, 0);
  iterate_for (1.5);
  check_shows (window, "data.npy replaced by reload-a.npy, reloaded automatically", "reload-a.npy");

  g_settings_set_boolean (settings, "reload-automatically", FALSE);
  /* Without it the old values stay until the user reloads. */
  rewrite (path, "reload-b.npy");
  iterate_for (1.0);
  check_shows (window, "data.npy rewritten with automatic reload off", "reload-a.npy");
  if (npv_window_get_banner (window) == NULL)
    fail ("data.npy rewritten with automatic reload off: no offer to reload");

  gtk_window_destroy (GTK_WINDOW (window));
  iterate_for (0.1);
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* ------------------------------------------------------------------ */

/* Recent files and settings go to a home of the test's own, beside its
 * files, never to the user's. Done before GTK reads any of it. */
static void
isolate_home (int    argc,
              char **argv)
{
  static const char * const vars[][2] = {
    { "XDG_DATA_HOME", "data" },
    { "XDG_CONFIG_HOME", "config" },
    { "XDG_CACHE_HOME", "cache" },
    { "XDG_STATE_HOME", "state" },
  };

  for (int i = 1; i < argc; i++)
    {
      g_autofree char *manifest_path = g_build_filename (argv[i], "manifest.txt", NULL);

      if (!g_file_test (manifest_path, G_FILE_TEST_IS_REGULAR))
        continue;
      for (guint k = 0; k < G_N_ELEMENTS (vars); k++)
        {
          g_autofree char *dir = g_build_filename (argv[i], "home", vars[k][1], NULL);

          g_mkdir_with_parents (dir, 0700);
          g_setenv (vars[k][0], dir, TRUE);
        }
      return;
    }
}

/* Exports from the window equal what np.save writes for the same
 * expression (made by gen-window-files.py). */
static void
check_export (NpvWindow  *window,
              const char *what,
              const char *dir,
              const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = g_build_filename (dir, "out.npy", NULL);
  g_autofree char *want_path = files_path (expected);
  g_autofree char *got = NULL;
  g_autofree char *want = NULL;
  gsize got_len, want_len;

  g_remove (out);
  if (!npv_window_export (window, what, out, &error))
    {
      fail ("export of the %s: %s", what, error->message);
      return;
    }
  g_file_get_contents (out, &got, &got_len, NULL);
  g_file_get_contents (want_path, &want, &want_len, NULL);
  if (got == NULL || want == NULL || got_len != want_len || memcmp (got, want, got_len) != 0)
    fail ("export of the %s differs from np.save's %s", what, expected);
  g_remove (out);
}

/* The plane as PNG through the window's export: the heatmap's colours
 * (viridis over the whole array's range) of numpy's values. */
static void
check_export_png (NpvWindow  *window,
                  const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = g_build_filename (dir, "out.png", NULL);
  g_autofree char *want_path = files_path ("export-3d-plane.rgb");
  g_autofree char *want = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree guint8 *got = NULL;
  gsize want_len;
  int w, h;
  guint differ = 0;
  gint64 deadline = g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC;

  /* the colour range comes with the statistics */
  while (npv_stats_panel_is_busy (npv_window_get_stats_panel (window)) &&
         g_get_monotonic_time () < deadline)
    iterate_for (0.05);
  g_remove (out);
  if (!npv_window_export (window, "plane", out, &error))
    {
      fail ("export of the plane as PNG: %s", error->message);
      return;
    }
  texture = gdk_texture_new_from_filename (out, &error);
  if (texture == NULL)
    {
      fail ("the exported PNG does not load: %s", error->message);
      return;
    }
  w = gdk_texture_get_width (texture);
  h = gdk_texture_get_height (texture);
  g_file_get_contents (want_path, &want, &want_len, NULL);
  if (want == NULL || want_len != (gsize) w * h * 3)
    {
      fail ("the exported PNG is %d × %d, numpy's plane has %" G_GSIZE_FORMAT " pixels", w, h,
            want_len / 3);
      return;
    }
  got = g_malloc ((gsize) w * h * 4);
  gdk_texture_download (texture, got, (gsize) w * 4);
  for (int i = 0; i < w * h; i++)
    {
      guint32 px;

      memcpy (&px, got + (gsize) i * 4, 4);
      if (((px >> 16) & 0xff) != (guint8) want[3 * i] || ((px >> 8) & 0xff) != (guint8) want[3 * i + 1] ||
          (px & 0xff) != (guint8) want[3 * i + 2])
        differ++;
    }
  if (differ > 0)
    fail ("%u of %d pixels of the exported PNG differ from matplotlib's colours", differ, w * h);
  g_remove (out);
}

static void
test_export (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp (NULL, &error);
  g_autofree char *cube = files_path ("export-3d.npy");
  g_autofree char *recs = files_path ("export-rec.npy");
  NpvWindow *window;
  NpvGrid *grid;

  g_assert_no_error (error);
  window = open_window (cube);
  if (wait_settled (window, "export-3d.npy"))
    {
      grid = npv_window_get_grid (window);
      npv_grid_set_cursor (grid, 1, 2, FALSE);
      npv_grid_set_cursor (grid, 3, 4, TRUE);
      check_export (window, "selection", dir, "export-3d-selection.npy");
      check_export (window, "plane", dir, "export-3d-plane.npy");
      check_export (window, "member", dir, "export-3d.npy");
      check_export_png (window, dir);
    }
  gtk_window_destroy (GTK_WINDOW (window));

  /* Rows 1..3 of the field x (grid columns: i, x). */
  window = open_window (recs);
  if (wait_settled (window, "export-rec.npy"))
    {
      grid = npv_window_get_grid (window);
      npv_grid_set_cursor (grid, 1, 1, FALSE);
      npv_grid_set_cursor (grid, 3, 1, TRUE);
      check_export (window, "selection", dir, "export-rec-selection.npy");
    }
  gtk_window_destroy (GTK_WINDOW (window));
  iterate_for (0.1);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *manifest_path = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  isolate_home (argc, argv);
  gtk_test_init (&argc, &argv, NULL);
  if (argc < 2)
    g_error ("usage: test-window DIR (made by gen-window-files.py)");
  files_dir = argv[1];

  manifest_path = files_path ("manifest.txt");
  if (!g_file_get_contents (manifest_path, &contents, NULL, &error))
    g_error ("%s (made by gen-window-files.py)", error->message);
  manifest = g_strsplit (contents, "\n", -1);
  facts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; manifest[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (manifest[i], "\t", -1);

      if (g_strv_length (fields) == 4 && strcmp (fields[0], "fact") == 0)
        g_hash_table_insert (facts, g_strdup_printf ("%s\t%s", fields[1], fields[2]),
                             g_strcompress (fields[3]));
    }

  g_test_add_func ("/window/numpy-files", test_numpy_files);
  g_test_add_func ("/window/numpy-items", test_numpy_items);
  g_test_add_func ("/window/welcome", test_welcome);
  g_test_add_func ("/window/examples", test_examples);
  g_test_add_func ("/window/missing-file-command-line", test_missing_file_command_line);
  g_test_add_func ("/window/close-while-opening", test_close_while_opening);
  g_test_add_func ("/window/close-while-indexing", test_close_while_indexing);
  g_test_add_func ("/window/reload", test_reload);
  g_test_add_func ("/window/changed-on-disk", test_changed_on_disk);
  g_test_add_func ("/window/auto-reload", test_auto_reload);
  g_test_add_func ("/window/many-members", test_many_members);
  g_test_add_func ("/window/export", test_export);
  status = g_test_run ();
  g_strfreev (manifest);
  g_hash_table_unref (facts);
  return status;
}
