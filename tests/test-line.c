/* test-line.c: the line view's envelopes and y range against numpy
 *
 * Runs under xvfb-run. gen-line-files.py writes the .npy files with numpy
 * at build time; which items each pixel column covers depends on the
 * widget's size and on the zooms, so the test collects the ranges it needs
 * as it goes and asks numpy for them at the end (gen-line-files.py
 * --answer, run with the python that has numpy).
 *
 * At more than one item per pixel, column u covers the items
 * floor(first + u ipp) to floor(first + (u + 1) ipp) - 1 (at least one),
 * and its envelope folds the blocks of 2^L items that hold them, L the
 * largest level with 2^L <= ipp: it may reach up to a block beyond the
 * column's items on each side. So each column is checked twice: its min
 * and max must be numpy's nanmin and nanmax over exactly those blocks, and
 * must contain numpy's nanmin and nanmax over the column's own items.
 * NaN-only columns are NaN. At any zoom, npv_line_get_y_range() must cover
 * the finite values in view, and be no wider than the finite values of
 * the folded blocks with the 5% margin it adds.
 *
 * Usage: test-line [GTest options] DIR PYTHON GEN-LINE-FILES.PY
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "npv-file.h"
#include "npv-line.h"

#define WAIT_SECONDS 20
#define WIDTH 800
#define HEIGHT 400
#define MAX_REPORTED 30

static const char *files_dir;
static const char *python;
static const char *oracle;

/* ------------------------------------------------------------------ */
/* Helpers */

static gboolean
wake (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
iterate_until (gboolean (*done) (gpointer data),
               gpointer   data)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC;
  guint wake_id = g_timeout_add (10, wake, NULL);
  gboolean ok;

  while (!(ok = done (data)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (wake_id);
  return ok;
}

static NpvPart
parse_part (const char *text)
{
  static const char * const names[] = { "value", "real", "imag", "abs", "angle" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (text, names[i]) == 0)
      return (NpvPart) i;
  g_error ("manifest: bad part “%s”", text);
  return NPV_PART_VALUE;
}

/* ------------------------------------------------------------------ */
/* Questions for numpy */

typedef enum {
  CHECK_FOLDED,     /* the column's envelope is numpy's over the folded blocks */
  CHECK_EXACT,      /* the column's envelope holds numpy's over its items */
  CHECK_Y_COVERS,   /* the y range covers the finite values in view */
  CHECK_Y_TIGHT,    /* and is no wider than the folded finite values, plus 5% */
} CheckKind;

typedef struct
{
  CheckKind kind;
  char *what;       /* the view, for messages */
  int u;            /* the column */
  gint64 a, b;      /* the items numpy is asked about */
  double min, max;  /* what the widget says */
  gboolean has;     /* for the y range: whether there is one */
  double want_min, want_max;
} Check;

typedef struct
{
  const char *name;       /* of the array in the manifest */
  GPtrArray *checks;      /* of Check */
  guint n_failed;
  gboolean y_range_known; /* y range misses are counted in n_y_missed */
  guint n_y_missed;
} Plan;

static void check_free (gpointer data)
{
  Check *c = data;

  g_free (c->what);
  g_free (c);
}

static void plan_fail (Plan *plan, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
plan_fail (Plan       *plan,
           const char *format,
           ...)
{
  va_list args;
  g_autofree char *message = NULL;

  if (plan->n_failed++ >= MAX_REPORTED)
    return;
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "FAIL: %s: %s\n", plan->name, message);
  g_test_fail ();
}

static Check *
plan_add (Plan       *plan,
          CheckKind   kind,
          const char *what,
          int         u,
          gint64      a,
          gint64      b)
{
  Check *c = g_new0 (Check, 1);

  c->kind = kind;
  c->what = g_strdup (what);
  c->u = u;
  c->a = a;
  c->b = b;
  g_ptr_array_add (plan->checks, c);
  return c;
}

/* Asks numpy about every check's items. */
static void
plan_ask_numpy (Plan *plan)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) queries = g_string_new (NULL);
  g_autofree char *dir = g_dir_make_tmp (NULL, &error);
  g_autofree char *queries_path = NULL;
  g_autofree char *answers_path = NULL;
  g_autofree char *answers = NULL;
  g_autofree char *err_text = NULL;
  g_auto(GStrv) lines = NULL;
  int status;

  g_assert_no_error (error);
  queries_path = g_build_filename (dir, "queries.txt", NULL);
  answers_path = g_build_filename (dir, "answers.txt", NULL);
  for (guint i = 0; i < plan->checks->len; i++)
    {
      const Check *c = g_ptr_array_index (plan->checks, i);
      gboolean finite = c->kind == CHECK_Y_COVERS || c->kind == CHECK_Y_TIGHT;

      g_string_append_printf (queries, "%s\t%s\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\n",
                              plan->name, finite ? "finite" : "nan", c->a, c->b);
    }
  g_file_set_contents (queries_path, queries->str, queries->len, &error);
  g_assert_no_error (error);
  {
    const char *argv[] = { python, oracle, "--answer", files_dir, queries_path, answers_path,
                           NULL };

    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err_text,
                       &status, &error))
      g_error ("cannot run numpy: %s", error->message);
    if (!g_spawn_check_wait_status (status, &error))
      g_error ("numpy's answers: %s\n%s", error->message, err_text);
  }
  g_file_get_contents (answers_path, &answers, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (answers, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), >=, plan->checks->len);
  for (guint i = 0; i < plan->checks->len; i++)
    {
      Check *c = g_ptr_array_index (plan->checks, i);
      g_auto(GStrv) f = g_strsplit (lines[i], "\t", -1);

      g_assert_cmpuint (g_strv_length (f), ==, 2);
      c->want_min = g_ascii_strtod (f[0], NULL);
      c->want_max = g_ascii_strtod (f[1], NULL);
    }
  g_unlink (queries_path);
  g_unlink (answers_path);
  g_rmdir (dir);
}

static gboolean
same_double (double a,
             double b)
{
  return a == b || (isnan (a) && isnan (b));
}

/* The y range's margin over [lo, hi] (npv-line.c: 5%, or half the value
 * when there is one value). */
static double
margin (double lo,
        double hi)
{
  if (lo < hi)
    return (hi - lo) * 0.05;
  return lo == 0 ? 1 : fabs (lo) * 0.5;
}

static void
plan_compare (Plan *plan)
{
  guint n_columns = 0;

  plan_ask_numpy (plan);
  for (guint i = 0; i < plan->checks->len; i++)
    {
      const Check *c = g_ptr_array_index (plan->checks, i);
      double slack;

      switch (c->kind)
        {
        case CHECK_FOLDED:
          n_columns++;
          if (!same_double (c->min, c->want_min) || !same_double (c->max, c->want_max))
            plan_fail (plan, "%s: column %d (blocks over items %" G_GINT64_FORMAT "..%"
                       G_GINT64_FORMAT ") is [%.17g, %.17g], numpy says [%.17g, %.17g]",
                       c->what, c->u, c->a, c->b, c->min, c->max, c->want_min, c->want_max);
          break;
        case CHECK_EXACT:
          if (isnan (c->want_min) ? FALSE : !(c->min <= c->want_min && c->max >= c->want_max))
            plan_fail (plan, "%s: column %d is [%.17g, %.17g] but its items %" G_GINT64_FORMAT
                       "..%" G_GINT64_FORMAT " span [%.17g, %.17g] (numpy)", c->what, c->u,
                       c->min, c->max, c->a, c->b, c->want_min, c->want_max);
          break;
        case CHECK_Y_COVERS:
          if (isnan (c->want_min))
            break;
          if (!c->has || !(c->min <= c->want_min && c->max >= c->want_max))
            {
              if (plan->y_range_known)
                {
                  plan->n_y_missed++;
                  g_test_message ("%s: %s: the y range is [%.17g, %.17g] (%s), the finite "
                                  "values of items %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT
                                  " span [%.17g, %.17g] (numpy)", plan->name, c->what, c->min,
                                  c->max, c->has ? "TRUE" : "FALSE", c->a, c->b, c->want_min,
                                  c->want_max);
                }
              else
                plan_fail (plan, "%s: the y range is [%.17g, %.17g] (%s), the finite values of "
                           "items %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT " span [%.17g, %.17g] "
                           "(numpy)", c->what, c->min, c->max, c->has ? "TRUE" : "FALSE", c->a,
                           c->b, c->want_min, c->want_max);
            }
          break;
        case CHECK_Y_TIGHT:
          if (isnan (c->want_min))
            {
              if (c->has)
                plan_fail (plan, "%s: a y range [%.17g, %.17g] with no finite values", c->what,
                           c->min, c->max);
              break;
            }
          if (!c->has)
            break;  /* reported by CHECK_Y_COVERS */
          slack = margin (c->want_min, c->want_max) * (1 + 1e-9) +
                  1e-12 * (fabs (c->want_min) + fabs (c->want_max));
          if (!(c->min >= c->want_min - slack && c->max <= c->want_max + slack))
            plan_fail (plan, "%s: the y range [%.17g, %.17g] is wider than the finite values "
                       "of the folded blocks %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT
                       ", [%.17g, %.17g] (numpy), and the margin", c->what, c->min, c->max, c->a,
                       c->b, c->want_min, c->want_max);
          break;
        default:
          g_assert_not_reached ();
        }
    }
  g_test_message ("%s: %u checks (%u columns), %u failed", plan->name, plan->checks->len,
                  n_columns, plan->n_failed);
}

/* ------------------------------------------------------------------ */
/* A line in a window */

typedef struct
{
  GtkWidget *window;
  NpvLine *line;
  NpvArray *array;
  gint64 n;
  Plan plan;
  guint n_nan_columns;    /* in the last snapshot */
  guint n_columns;        /* in the last snapshot, 0 when per item */
} View;

static gboolean
view_is_mapped (gpointer data)
{
  View *view = data;
  graphene_rect_t r;

  npv_line_get_plot_area (view->line, &r);
  return gtk_widget_get_mapped (GTK_WIDGET (view->line)) &&
         gtk_widget_get_width (GTK_WIDGET (view->line)) == WIDTH && r.size.width > 1;
}

static gboolean
view_is_loaded (gpointer data)
{
  View *view = data;

  return !npv_line_is_loading (view->line);
}

static NpvArray *
open_array (const char *file_name,
            gint64      n)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (files_dir, file_name, NULL);
  g_autoptr(NpvFile) file = npv_file_open (path, &error);
  const NpvMember *member;
  NpvArray *array;

  g_assert_no_error (error);
  member = npv_file_lookup_member (file, NULL, &error);
  g_assert_no_error (error);
  array = npv_file_open_array (file, member, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (array->ndim, ==, 1);
  g_assert_cmpint (array->shape[0], ==, n);
  return array;
}

/* A window with an NpvLine of WIDTH x HEIGHT showing the manifest's array
 * @name. */
static View *
view_new (const char *name)
{
  View *view = g_new0 (View, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *manifest_path = g_build_filename (files_dir, "manifest.txt", NULL);
  g_autofree char *manifest = NULL;
  g_auto(GStrv) lines = NULL;
  NpvPart part = NPV_PART_VALUE;

  if (!g_file_get_contents (manifest_path, &manifest, NULL, &error))
    g_error ("cannot read the manifest: %s", error->message);
  lines = g_strsplit (manifest, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], "\t", -1);

      if (g_strv_length (f) == 5 && strcmp (f[0], "array") == 0 && strcmp (f[1], name) == 0)
        {
          view->n = g_ascii_strtoll (f[4], NULL, 10);
          view->array = open_array (f[2], view->n);
          part = parse_part (f[3]);
        }
    }
  if (view->array == NULL)
    g_error ("manifest: no array “%s”", name);

  view->plan.name = name;
  view->plan.checks = g_ptr_array_new_with_free_func (check_free);
  view->window = gtk_window_new ();
  view->line = NPV_LINE (npv_line_new ());
  gtk_widget_set_size_request (GTK_WIDGET (view->line), WIDTH, HEIGHT);
  gtk_widget_set_halign (GTK_WIDGET (view->line), GTK_ALIGN_START);
  gtk_widget_set_valign (GTK_WIDGET (view->line), GTK_ALIGN_START);
  gtk_window_set_child (GTK_WINDOW (view->window), GTK_WIDGET (view->line));
  gtk_window_present (GTK_WINDOW (view->window));
  if (!iterate_until (view_is_mapped, view))
    g_error ("the line's window was not mapped at %dx%d after %d s", WIDTH, HEIGHT, WAIT_SECONDS);
  npv_line_set_values (view->line, view->array, part);
  return view;
}

static void
view_free (View *view)
{
  gtk_window_destroy (GTK_WINDOW (view->window));
  g_clear_pointer (&view->array, npv_array_unref);
  g_ptr_array_unref (view->plan.checks);
  g_free (view);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (View, view_free)

/* Waits for the envelope of the current view, then records what the
 * widget shows for numpy to check. */
static void
view_snapshot (View       *view,
               const char *what_format,
               ...) G_GNUC_PRINTF (2, 3);

static void
view_snapshot (View       *view,
               const char *what_format,
               ...)
{
  va_list args;
  g_autofree char *label = NULL;
  g_autofree char *what = NULL;
  graphene_rect_t r;
  double first, count, ipp, lo = NAN, hi = NAN;
  int width;
  gint64 n = view->n;
  gint64 visible0, visible1, folded0, folded1;
  gboolean has_y;
  Check *c;

  va_start (args, what_format);
  label = g_strdup_vprintf (what_format, args);
  va_end (args);

  if (!iterate_until (view_is_loaded, view))
    g_error ("%s: %s: the envelope did not come in %d s", view->plan.name, label, WAIT_SECONDS);

  npv_line_get_plot_area (view->line, &r);
  width = (int) r.size.width;
  npv_line_get_x_range (view->line, &first, &count);
  ipp = npv_line_get_items_per_pixel (view->line);
  what = g_strdup_printf ("%s (first %.17g, %.17g items per pixel)", label, first, ipp);
  g_test_message ("%s: %s", view->plan.name, what);
  view->n_nan_columns = 0;
  view->n_columns = 0;

  /* The view stays inside the items. */
  if (!(first >= 0 && count > 0 && first + count <= n + 1e-6 * n))
    plan_fail (&view->plan, "%s: the x range [%.17g, +%.17g] is not inside [0, %" G_GINT64_FORMAT
               ")", what, first, count, n);
  if (!(ipp >= 1.0 / 64 - 1e-12))
    plan_fail (&view->plan, "%s: zoomed in beyond 64 pixels an item", what);

  if (ipp > 1)
    {
      guint level = 0;
      gint64 last_i1 = 0;

      while (ldexp (1.0, (int) level + 1) <= ipp)
        level++;
      visible0 = (gint64) floor (first);
      folded0 = (visible0 >> level) << level;
      folded1 = folded0;
      for (int u = 0; u < width; u++)
        {
          gint64 i0 = (gint64) floor (first + u * ipp);
          gint64 i1 = MAX (i0, MIN ((gint64) floor (first + (u + 1) * ipp), n) - 1);
          gint64 a = (i0 >> level) << level;
          gint64 b = MIN (((i1 >> level) + 1) << level, n) - 1;
          double mn, mx;

          if (!npv_line_get_column (view->line, u, &mn, &mx))
            {
              plan_fail (&view->plan, "%s: no column %d", what, u);
              continue;
            }
          if (i0 >= n)
            {
              if (!isnan (mn) || !isnan (mx))
                plan_fail (&view->plan, "%s: column %d is past the end, but [%.17g, %.17g]",
                           what, u, mn, mx);
              continue;
            }
          view->n_columns++;
          view->n_nan_columns += isnan (mn) && isnan (mx);
          c = plan_add (&view->plan, CHECK_FOLDED, what, u, a, b);
          c->min = mn;
          c->max = mx;
          c = plan_add (&view->plan, CHECK_EXACT, what, u, i0, i1);
          c->min = mn;
          c->max = mx;
          last_i1 = i1;
          folded1 = b;
        }
      {
        double mn, mx;

        if (npv_line_get_column (view->line, width, &mn, &mx) ||
            npv_line_get_column (view->line, -1, &mn, &mx))
          plan_fail (&view->plan, "%s: a column outside the plot", what);
      }
      visible1 = last_i1;
    }
  else
    {
      /* one item or less per pixel: the items drawn, and those the
       * envelope has (up to one more on the right) */
      visible0 = MAX (0, (gint64) floor (first));
      visible1 = MIN (n, (gint64) ceil (first + count)) - 1;
      folded0 = visible0;
      folded1 = MIN (n - 1, (gint64) ceil (first + ipp * width));
    }

  has_y = npv_line_get_y_range (view->line, &lo, &hi);
  c = plan_add (&view->plan, CHECK_Y_COVERS, what, -1, visible0, visible1);
  c->has = has_y;
  c->min = lo;
  c->max = hi;
  c = plan_add (&view->plan, CHECK_Y_TIGHT, what, -1, folded0, folded1);
  c->has = has_y;
  c->min = lo;
  c->max = hi;
  if (has_y && !(isfinite (lo) && isfinite (hi) && lo < hi))
    plan_fail (&view->plan, "%s: the y range is [%.17g, %.17g]", what, lo, hi);
}

static double
plot_x (View   *view,
        double  fraction)
{
  graphene_rect_t r;

  npv_line_get_plot_area (view->line, &r);
  return r.origin.x + fraction * r.size.width;
}

/* ------------------------------------------------------------------ */
/* Tests */

static void
test_long (void)
{
  g_autoptr(View) view = view_new ("long");
  double ipp;

  view_snapshot (view, "fitted");
  if (view->n_nan_columns == 0)
    plan_fail (&view->plan, "fitted: no column of NaN only over a run of 30000 NaN");
  npv_line_zoom (view->line, 2, -1);
  view_snapshot (view, "zoomed in 2x at the centre");
  npv_line_zoom (view->line, 8, plot_x (view, 0.15));
  view_snapshot (view, "zoomed in 8x more at 15%%");
  npv_line_zoom (view->line, 0.5, plot_x (view, 0.9));
  view_snapshot (view, "zoomed out 2x at 90%%");
  npv_line_zoom (view->line, 37.3, plot_x (view, 1.0));
  view_snapshot (view, "zoomed in 37.3x at the right edge");
  npv_line_zoom (view->line, 1.3, plot_x (view, 0.5));
  view_snapshot (view, "zoomed in 1.3x");
  ipp = npv_line_get_items_per_pixel (view->line);
  npv_line_zoom (view->line, ipp, -1);
  view_snapshot (view, "one item per pixel");
  if (npv_line_get_items_per_pixel (view->line) != 1)
    plan_fail (&view->plan, "zooming by the items per pixel gives %.17g items per pixel",
               npv_line_get_items_per_pixel (view->line));
  npv_line_zoom (view->line, 4, plot_x (view, 0.02));
  view_snapshot (view, "4 pixels per item");
  npv_line_zoom (view->line, 1e9, -1);
  view_snapshot (view, "zoomed in as far as it goes");
  npv_line_zoom (view->line, 1 / 700.0, plot_x (view, 0.3));
  view_snapshot (view, "zoomed out 700x");
  npv_line_zoom (view->line, 0.001, -1);
  view_snapshot (view, "zoomed out beyond everything");
  npv_line_zoom_fit (view->line);
  npv_line_zoom (view->line, 16, plot_x (view, 1.0));
  view_snapshot (view, "zoomed in 16x at the right edge");
  npv_line_zoom_fit (view->line);
  npv_line_zoom (view->line, 11.0, plot_x (view, 0.31));
  view_snapshot (view, "zoomed in 11x at 31%% (in the NaN run)");
  if (view->n_nan_columns == 0)
    plan_fail (&view->plan, "zoomed in 11x in the NaN run: no column of NaN only");
  npv_line_zoom_fit (view->line);
  view_snapshot (view, "fitted again");
  if (view->n_columns == 0 || npv_line_get_items_per_pixel (view->line) <= 1)
    plan_fail (&view->plan, "fitted again: not the overview");
  plan_compare (&view->plan);
}

static void
test_short (void)
{
  g_autoptr(View) view = view_new ("short");

  view_snapshot (view, "fitted");
  npv_line_zoom (view->line, 2, plot_x (view, 0.7));
  view_snapshot (view, "zoomed in 2x");
  npv_line_zoom (view->line, 100, -1);
  view_snapshot (view, "zoomed in as far as it goes");
  npv_line_zoom (view->line, 0.01, -1);
  view_snapshot (view, "zoomed out beyond everything");
  npv_line_zoom_fit (view->line);
  view_snapshot (view, "fitted again");
  plan_compare (&view->plan);
}

static void
test_int16 (void)
{
  g_autoptr(View) view = view_new ("i16");

  view_snapshot (view, "fitted");
  npv_line_zoom (view->line, 3.3, plot_x (view, 0.25));
  view_snapshot (view, "zoomed in 3.3x");
  npv_line_zoom (view->line, 50, plot_x (view, 0.6));
  view_snapshot (view, "zoomed in 50x more");
  npv_line_zoom (view->line, npv_line_get_items_per_pixel (view->line), -1);
  view_snapshot (view, "one item per pixel");
  npv_line_zoom_fit (view->line);
  view_snapshot (view, "fitted again");
  plan_compare (&view->plan);
}

static void
test_complex_angle (void)
{
  g_autoptr(View) view = view_new ("c128-angle");

  view_snapshot (view, "fitted");
  npv_line_zoom (view->line, 5, plot_x (view, 0.33));
  view_snapshot (view, "zoomed in 5x at 33%% (in the NaN run)");
  npv_line_zoom (view->line, 20, -1);
  view_snapshot (view, "zoomed in 20x more");
  npv_line_zoom (view->line, npv_line_get_items_per_pixel (view->line), -1);
  view_snapshot (view, "one item per pixel");
  plan_compare (&view->plan);
}

/* npv-line.h: the y range is "from the finite values in view", but a
 * column that holds an infinity leaves out its finite extremes (y_range()
 * skips an infinite min or max). Misses mark the test incomplete. */
static void
test_infinities (void)
{
  g_autoptr(View) view = view_new ("inf");

  view->plan.y_range_known = TRUE;
  view_snapshot (view, "fitted");
  npv_line_zoom (view->line, 4, plot_x (view, 0.35));
  view_snapshot (view, "zoomed in 4x at 35%%");
  npv_line_zoom (view->line, npv_line_get_items_per_pixel (view->line), -1);
  view_snapshot (view, "one item per pixel");
  plan_compare (&view->plan);
  if (view->plan.n_y_missed > 0)
    g_test_incomplete ("npv_line_get_y_range() leaves out the finite values of a column that "
                       "holds an infinity");
}

/* Values replaced while an envelope is being made: the old one never
 * shows, and a NULL array stops the loading. */
static void
test_replace (void)
{
  g_autoptr(View) view = view_new ("long");
  g_autoptr(NpvArray) other = open_array ("i16.npy", 200000);
  double mn, mx;

  npv_line_set_values (view->line, other, NPV_PART_VALUE);
  npv_line_set_values (view->line, view->array, NPV_PART_VALUE);
  npv_line_set_values (view->line, other, NPV_PART_VALUE);
  view->array = g_steal_pointer (&other);
  view->n = 200000;
  view->plan.name = "i16";
  view_snapshot (view, "after replacing the values twice");
  plan_compare (&view->plan);

  npv_line_set_values (view->line, NULL, NPV_PART_VALUE);
  g_assert_false (npv_line_is_loading (view->line));
  g_assert_false (npv_line_get_column (view->line, 0, &mn, &mx));
  g_assert_false (npv_line_get_y_range (view->line, &mn, &mx));
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  if (argc != 4)
    g_error ("usage: test-line DIR PYTHON GEN-LINE-FILES.PY");
  files_dir = argv[1];
  python = argv[2];
  oracle = argv[3];

  g_test_add_func ("/line/long", test_long);
  g_test_add_func ("/line/short", test_short);
  g_test_add_func ("/line/int16", test_int16);
  g_test_add_func ("/line/complex-angle", test_complex_angle);
  g_test_add_func ("/line/infinities", test_infinities);
  g_test_add_func ("/line/replace", test_replace);
  return g_test_run ();
}
