/* test-grid.c: the grid shows numpy's values for any plane, copies them
 * as numpy would, and lets go cleanly
 *
 * Runs under xvfb-run. The files, and the text numpy gives each checked
 * cell, come from numpy at build time: gen-grid-files.py writes them with
 * DIR/manifest.txt, whose format it describes. Each manifest case is a
 * test of its own, /grid/numpy/NAME, in a window of its own.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <gtk/gtk.h>

#include "npv-file.h"
#include "npv-grid.h"
#include "npv-plane.h"

/* How long a tile, a copy or a window may take before the test gives up. */
#define WAIT_SECONDS 20

static const char *files_dir;
static guint n_cells_checked;  /* in the current manifest case */

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
  /* As it is, not converted to the locale's charset: cells are UTF-8. */
  fprintf (stderr, "FAIL: %s\n", message);
  g_test_fail ();
}

static char *
files_path (const char *name)
{
  return g_build_filename (files_dir, name, NULL);
}

static gboolean
wake (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until @done (@data) or the deadline. */
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

static gboolean
flag_is_set (gpointer data)
{
  return *(gboolean *) data;
}

static gboolean
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until the sources of higher priority than the
 * default idle have run: the grid's update, which asks for tiles, among
 * them. */
static void
iterate_past_updates (void)
{
  gboolean done = FALSE;

  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, set_flag, &done, NULL);
  iterate_until (flag_is_set, &done);
}

/* Shows @text quoted for a message, control characters escaped. */
static char *
quote (const char *text)
{
  GString *out;

  if (text == NULL)
    return g_strdup ("(nothing)");
  out = g_string_new ("'");
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\\')
        g_string_append (out, "\\\\");
      else if (*p == '\n')
        g_string_append (out, "\\n");
      else if (*p == '\t')
        g_string_append (out, "\\t");
      else if ((guchar) *p < 0x20 || *p == 0x7f)
        g_string_append_printf (out, "\\x%02x", (guchar) *p);
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '\'');
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ */
/* A grid in a window, on a file's array */

typedef struct
{
  GtkWidget *window;
  NpvGrid *grid;
  NpvFile *file;
  NpvArray *array;             /* the member's, all of it */
  NpvPlane plane;
  guint n_leaves;              /* grid columns per array column */
  char *where;                 /* file, member and plane, for messages */
  char *file_where;
} View;

static gboolean
view_is_mapped (gpointer data)
{
  View *view = data;

  return gtk_widget_get_mapped (GTK_WIDGET (view->grid)) &&
         gtk_widget_get_width (GTK_WIDGET (view->grid)) > 0;
}

static View *
view_new (void)
{
  View *view = g_new0 (View, 1);
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  view->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (view->window), 900, 600);
  view->grid = NPV_GRID (npv_grid_new ());
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (view->grid));
  gtk_window_set_child (GTK_WINDOW (view->window), scrolled);
  gtk_window_present (GTK_WINDOW (view->window));
  if (!iterate_until (view_is_mapped, view))
    g_error ("the grid's window was not mapped after %d s", WAIT_SECONDS);
  view->where = g_strdup ("no file");
  return view;
}

static void
view_free (View *view)
{
  if (view->window != NULL)
    gtk_window_destroy (GTK_WINDOW (view->window));
  g_clear_pointer (&view->array, npv_array_unref);
  g_clear_pointer (&view->file, npv_file_unref);
  g_free (view->where);
  g_free (view->file_where);
  g_free (view);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (View, view_free)

static gboolean
view_open (View       *view,
           const char *name,
           const char *member_name,
           gboolean    build_index)
{
  g_autofree char *path = files_path (name);
  g_autoptr(GError) error = NULL;
  const NpvMember *member;

  g_clear_pointer (&view->array, npv_array_unref);
  g_clear_pointer (&view->file, npv_file_unref);
  g_free (view->file_where);
  view->file_where = member_name != NULL ? g_strdup_printf ("%s, member '%s'", name, member_name)
                                         : g_strdup (name);
  g_free (view->where);
  view->where = g_strdup (view->file_where);

  view->file = npv_file_open (path, &error);
  if (view->file == NULL)
    {
      fail ("%s: cannot open: %s", view->where, error->message);
      return FALSE;
    }
  member = npv_file_lookup_member (view->file, member_name, &error);
  if (member == NULL)
    {
      fail ("%s: no such member: %s", view->where, error->message);
      return FALSE;
    }
  if (build_index && !npv_file_build_index (view->file, member, NULL, NULL, NULL, &error))
    {
      fail ("%s: cannot index the member: %s", view->where, error->message);
      return FALSE;
    }
  view->array = npv_file_open_array (view->file, member, &error);
  if (view->array == NULL)
    {
      fail ("%s: cannot read the array: %s", view->where, error->message);
      return FALSE;
    }
  npv_plane_init_default (&view->plane, view->array);
  {
    g_autoptr(GArray) leaves = npv_dtype_collect_leaves (view->array->dtype);

    view->n_leaves = view->array->dtype->kind == NPV_KIND_STRUCT ? MAX (leaves->len, 1) : 1;
  }
  return TRUE;
}

/* Shows the current plane (view->plane) of the array. */
static gboolean
view_apply_plane (View *view)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvArray) plane = npv_plane_apply (&view->plane, view->array, &error);
  g_autofree char *expression = npv_plane_to_expression (&view->plane, "a");

  g_free (view->where);
  view->where = g_strdup_printf ("%s, plane %s", view->file_where, expression);
  if (plane == NULL)
    {
      fail ("%s: cannot apply the plane: %s", view->where, error->message);
      return FALSE;
    }
  npv_grid_set_plane (view->grid, plane);
  return TRUE;
}

/* Whether [@start, @start + @size) lies in @adjustment's page, when the
 * content is larger than the page. */
static gboolean
is_in_page (GtkAdjustment *adjustment,
            double         start,
            double         size)
{
  double value = gtk_adjustment_get_value (adjustment);
  double page = gtk_adjustment_get_page_size (adjustment);

  return start >= value - 0.5 && start + size <= value + page + 0.5;
}

/* The cell is on screen: its row, and its array column (all of a record's
 * leaves are as wide together as upper / columns), in the adjustments'
 * pages. Only the totals of the geometry are public. */
static void
check_cell_in_view (View   *view,
                    gint64  row,
                    gint64  col)
{
  GtkAdjustment *vadj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (view->grid));
  GtkAdjustment *hadj = gtk_scrollable_get_hadjustment (GTK_SCROLLABLE (view->grid));
  double vupper = gtk_adjustment_get_upper (vadj);
  double hupper = gtk_adjustment_get_upper (hadj);
  double row_height = vupper / (double) npv_grid_get_n_rows (view->grid);
  double group_width = hupper / (double) (npv_grid_get_n_columns (view->grid) / view->n_leaves);
  gint64 group = col / view->n_leaves;

  if (vupper > gtk_adjustment_get_page_size (vadj) + 0.5 &&
      !is_in_page (vadj, (double) row * row_height, row_height))
    fail ("%s: row %" G_GINT64_FORMAT " (pixels %.17g to %.17g) was not scrolled into view: "
          "the rows shown are pixels %.17g to %.17g", view->where, row, row * row_height,
          (row + 1) * row_height, gtk_adjustment_get_value (vadj),
          gtk_adjustment_get_value (vadj) + gtk_adjustment_get_page_size (vadj));
  /* A record's leaves may not all fit: the group need only overlap. */
  if (hupper > gtk_adjustment_get_page_size (hadj) + 0.5 &&
      (view->n_leaves == 1 ? !is_in_page (hadj, (double) group * group_width, group_width)
                           : !(group * group_width < gtk_adjustment_get_value (hadj) +
                                                     gtk_adjustment_get_page_size (hadj) &&
                               (group + 1) * group_width > gtk_adjustment_get_value (hadj))))
    fail ("%s: column %" G_GINT64_FORMAT " (pixels %.17g to %.17g) was not scrolled into view: "
          "the columns shown are pixels %.17g to %.17g", view->where, col, group * group_width,
          (group + 1) * group_width, gtk_adjustment_get_value (hadj),
          gtk_adjustment_get_value (hadj) + gtk_adjustment_get_page_size (hadj));
}

typedef struct
{
  NpvGrid *grid;
  gint64 row, col;
} CellWait;

static gboolean
cell_has_arrived (gpointer data)
{
  CellWait *wait = data;

  return !npv_grid_is_loading (wait->grid) &&
         npv_grid_peek_text (wait->grid, wait->row, wait->col) != NULL;
}

/* Moves the cursor to the cell (which scrolls it into view) and waits for
 * its tile: its text, or %NULL after a failure. */
static const char *
view_show_cell (View   *view,
                gint64  row,
                gint64  col)
{
  CellWait wait = { view->grid, row, col };
  gint64 cursor_row, cursor_col;

  npv_grid_set_cursor (view->grid, row, col, FALSE);
  npv_grid_get_cursor (view->grid, &cursor_row, &cursor_col);
  if (cursor_row != row || cursor_col != col)
    {
      fail ("%s: the cursor set to (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") is at (%"
            G_GINT64_FORMAT ", %" G_GINT64_FORMAT ")", view->where, row, col, cursor_row,
            cursor_col);
      return NULL;
    }
  check_cell_in_view (view, row, col);
  if (!iterate_until (cell_has_arrived, &wait))
    {
      fail ("%s: the text of cell (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") scrolled into view "
            "has not arrived after %d s (%s)", view->where, row, col, WAIT_SECONDS,
            npv_grid_is_loading (view->grid) ? "still loading" : "not loading");
      return NULL;
    }
  return npv_grid_peek_text (view->grid, row, col);
}

typedef struct
{
  gboolean done;
  char *text;
  GError *error;
} CopyResult;

static void
copy_ready (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  CopyResult *copy = user_data;

  copy->text = npv_grid_copy_selection_finish (NPV_GRID (object), result, &copy->error);
  copy->done = TRUE;
}

/* Copies the selection as TSV; %NULL with @error if it failed. */
static char *
view_copy (View    *view,
           GError **error)
{
  CopyResult copy = { FALSE, NULL, NULL };

  npv_grid_copy_selection_async (view->grid, NULL, copy_ready, &copy);
  if (!iterate_until (flag_is_set, &copy.done))
    g_error ("%s: copying the selection has not finished after %d s", view->where, WAIT_SECONDS);
  if (copy.error != NULL)
    g_propagate_error (error, copy.error);
  return copy.text;
}

/* ------------------------------------------------------------------ */
/* Checks */

static void
check_cell (View       *view,
            guint       line,
            gint64      row,
            gint64      col,
            const char *expected)
{
  const char *text = view_show_cell (view, row, col);

  n_cells_checked++;
  if (text != NULL && strcmp (text, expected) != 0)
    {
      g_autofree char *shown = quote (text);
      g_autofree char *wanted = quote (expected);

      fail ("manifest.txt:%u: %s: cell (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") shows %s, "
            "numpy says %s", line, view->where, row, col, shown, wanted);
    }
}

static void
check_title (View       *view,
             guint       line,
             gint64      col,
             const char *expected)
{
  g_autofree char *title = npv_grid_dup_column_title (view->grid, col);

  if (g_strcmp0 (title, expected) != 0)
    {
      g_autofree char *shown = quote (title);
      g_autofree char *wanted = quote (expected);

      fail ("manifest.txt:%u: %s: the header of column %" G_GINT64_FORMAT " is %s, expected %s",
            line, view->where, col, shown, wanted);
    }
}

static void
check_shape (View   *view,
             guint   line,
             gint64  rows,
             gint64  cols)
{
  gint64 grid_rows = npv_grid_get_n_rows (view->grid);
  gint64 grid_cols = npv_grid_get_n_columns (view->grid);

  if (grid_rows != rows || grid_cols != cols)
    fail ("manifest.txt:%u: %s: the grid has %" G_GINT64_FORMAT " rows and %" G_GINT64_FORMAT
          " columns, numpy's plane %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT " (leaf columns)",
          line, view->where, grid_rows, grid_cols, rows, cols);
}

/* The last row is on screen and the rows are scrolled to their end: the
 * row header shows indices up to n_rows - 1. */
static void
check_at_end (View  *view,
              guint  line)
{
  GtkAdjustment *vadj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (view->grid));
  double value = gtk_adjustment_get_value (vadj);
  double upper = gtk_adjustment_get_upper (vadj);
  double page = gtk_adjustment_get_page_size (vadj);
  gint64 n_rows = npv_grid_get_n_rows (view->grid);
  double row_height = upper / (double) n_rows;
  gint64 first = (gint64) floor (value / row_height);
  gint64 last = MIN ((gint64) floor ((value + page) / row_height), n_rows - 1);
  gint64 cursor_row, cursor_col;

  npv_grid_get_cursor (view->grid, &cursor_row, &cursor_col);
  if (cursor_row != n_rows - 1)
    fail ("manifest.txt:%u: %s: the cursor is on row %" G_GINT64_FORMAT ", not the last, %"
          G_GINT64_FORMAT, line, view->where, cursor_row, n_rows - 1);
  if (row_height != floor (row_height) || row_height < 1)
    fail ("manifest.txt:%u: %s: the rows are %g pixels high (the content is %.17g pixels for %"
          G_GINT64_FORMAT " rows)", line, view->where, row_height, upper, n_rows);
  if (fabs (value + page - upper) > 0.5)
    fail ("manifest.txt:%u: %s: scrolled to %.17g of %.17g (page %g), not to the end", line,
          view->where, value, upper, page);
  if (!(first <= n_rows - 1 && (double) n_rows * row_height <= value + page + 0.5))
    fail ("manifest.txt:%u: %s: rows %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
          " are on screen, not the last one, %" G_GINT64_FORMAT, line, view->where, first, last,
          n_rows - 1);
}

/* The cursor is on the last column and the columns are scrolled to their
 * end. */
static void
check_at_right (View  *view,
                guint  line)
{
  GtkAdjustment *hadj = gtk_scrollable_get_hadjustment (GTK_SCROLLABLE (view->grid));
  double value = gtk_adjustment_get_value (hadj);
  double upper = gtk_adjustment_get_upper (hadj);
  double page = gtk_adjustment_get_page_size (hadj);
  gint64 n_cols = npv_grid_get_n_columns (view->grid);
  gint64 cursor_row, cursor_col;

  npv_grid_get_cursor (view->grid, &cursor_row, &cursor_col);
  if (cursor_col != n_cols - 1)
    fail ("manifest.txt:%u: %s: the cursor is on column %" G_GINT64_FORMAT ", not the last, %"
          G_GINT64_FORMAT, line, view->where, cursor_col, n_cols - 1);
  if (fabs (value + page - upper) > 0.5)
    fail ("manifest.txt:%u: %s: scrolled across to %.17g of %.17g (page %g), not to the end",
          line, view->where, value, upper, page);
}

static void
check_selection (View   *view,
                 guint   line,
                 gint64  r0,
                 gint64  c0,
                 gint64  r1,
                 gint64  c1)
{
  gint64 s[4];

  npv_grid_get_selection (view->grid, &s[0], &s[1], &s[2], &s[3]);
  if (s[0] != MIN (r0, r1) || s[1] != MIN (c0, c1) || s[2] != MAX (r0, r1) || s[3] != MAX (c0, c1))
    fail ("manifest.txt:%u: %s: the selection is rows %" G_GINT64_FORMAT "-%" G_GINT64_FORMAT
          ", columns %" G_GINT64_FORMAT "-%" G_GINT64_FORMAT ", expected rows %" G_GINT64_FORMAT
          "-%" G_GINT64_FORMAT ", columns %" G_GINT64_FORMAT "-%" G_GINT64_FORMAT, line,
          view->where, s[0], s[2], s[1], s[3], MIN (r0, r1), MAX (r0, r1), MIN (c0, c1),
          MAX (c0, c1));
}

static void
check_copy (View       *view,
            guint       line,
            const char *tsv_name)
{
  g_autofree char *path = files_path (tsv_name);
  g_autofree char *expected = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) got_lines = NULL;
  g_auto(GStrv) want_lines = NULL;
  guint i;

  if (!g_file_get_contents (path, &expected, NULL, &error))
    g_error ("%s (made by gen-grid-files.py)", error->message);
  text = view_copy (view, &error);
  if (text == NULL)
    {
      fail ("manifest.txt:%u: %s: copying the selection failed: %s", line, view->where,
            error->message);
      return;
    }
  if (strcmp (text, expected) == 0)
    return;

  got_lines = g_strsplit (text, "\n", -1);
  want_lines = g_strsplit (expected, "\n", -1);
  for (i = 0; got_lines[i] != NULL && want_lines[i] != NULL; i++)
    if (strcmp (got_lines[i], want_lines[i]) != 0)
      break;
  {
    g_autofree char *got = quote (got_lines[i]);
    g_autofree char *want = quote (want_lines[i]);

    fail ("manifest.txt:%u: %s: the copied TSV (%" G_GSIZE_FORMAT " bytes) differs from numpy's %s"
          " (%" G_GSIZE_FORMAT " bytes) at line %u:\n  copied %s\n  numpy  %s", line, view->where,
          strlen (text), tsv_name, strlen (expected), i + 1, got, want);
  }
}

static void
check_copy_error (View  *view,
                  guint  line)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = view_copy (view, &error);

  if (text != NULL)
    fail ("manifest.txt:%u: %s: copying a selection too large to copy gave %" G_GSIZE_FORMAT
          " bytes of text", line, view->where, strlen (text));
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
    fail ("manifest.txt:%u: %s: copying a selection too large to copy failed with '%s', "
          "expected G_IO_ERROR_NO_SPACE", line, view->where, error->message);
}

/* ------------------------------------------------------------------ */
/* The manifest's cases */

typedef struct
{
  char *name;
  guint first_line;            /* of its directives, 1-based */
  guint n_lines;
} Case;

static char **manifest;        /* its lines */
static GPtrArray *cases;

static gint64
parse_int (guint       line,
           const char *text)
{
  gint64 value;
  g_autoptr(GError) error = NULL;

  if (!g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &value, &error))
    g_error ("manifest.txt:%u: %s", line, error->message);
  return value;
}

static void
set_plane_from (View     *view,
                guint     line,
                char    **args,
                guint     n_args)
{
  g_auto(GStrv) fixed = NULL;

  if (n_args == 1 && strcmp (args[0], "default") == 0)
    {
      npv_plane_init_default (&view->plane, view->array);
      return;
    }
  if (n_args != 3)
    g_error ("manifest.txt:%u: 'plane' wants 'default' or ROW COL FIXED", line);
  /* Only what changes: the slider and axis choices on the same plane. */
  view->plane.row_axis = (guint) parse_int (line, args[0]);
  view->plane.col_axis = (guint) parse_int (line, args[1]);
  fixed = g_strsplit (args[2], ",", -1);
  if (g_strv_length (fixed) != view->array->ndim)
    g_error ("manifest.txt:%u: %u fixed indices for %u axes", line, g_strv_length (fixed),
             view->array->ndim);
  for (guint k = 0; fixed[k] != NULL; k++)
    if (k != view->plane.row_axis && k != view->plane.col_axis)
      view->plane.fixed[k] = parse_int (line, fixed[k]);
}

static void
set_format_from (View  *view,
                 guint  line,
                 char **args)
{
  NpvNumberFormat format = { NPV_NUMBER_AUTO, (guint) parse_int (line, args[1]) };

  if (strcmp (args[0], "fixed") == 0)
    format.style = NPV_NUMBER_FIXED;
  else if (strcmp (args[0], "scientific") == 0)
    format.style = NPV_NUMBER_SCIENTIFIC;
  else if (strcmp (args[0], "auto") != 0)
    g_error ("manifest.txt:%u: no number format '%s'", line, args[0]);
  npv_grid_set_number_format (view->grid, &format);
}

/* Runs one directive; FALSE when the rest of the case cannot run. */
static gboolean
run_directive (View        *view,
               guint        line,
               const char  *directive,
               char       **args,
               guint        n_args)
{
#define WANT(n) \
  if (n_args != (n)) \
    g_error ("manifest.txt:%u: '%s' wants %u fields, has %u", line, directive, (n), n_args)

  if (strcmp (directive, "file") == 0)
    {
      WANT (3);
      return view_open (view, args[0], strcmp (args[1], "-") != 0 ? args[1] : NULL,
                        strcmp (args[2], "index") == 0);
    }
  if (view->array == NULL)
    g_error ("manifest.txt:%u: '%s' before any 'file'", line, directive);

  if (strcmp (directive, "plane") == 0)
    {
      set_plane_from (view, line, args, n_args);
      return view_apply_plane (view);
    }
  else if (strcmp (directive, "shape") == 0)
    {
      WANT (2);
      check_shape (view, line, parse_int (line, args[0]), parse_int (line, args[1]));
    }
  else if (strcmp (directive, "format") == 0)
    {
      WANT (2);
      set_format_from (view, line, args);
    }
  else if (strcmp (directive, "cell") == 0)
    {
      WANT (3);
      check_cell (view, line, parse_int (line, args[0]), parse_int (line, args[1]), args[2]);
    }
  else if (strcmp (directive, "title") == 0)
    {
      WANT (2);
      check_title (view, line, parse_int (line, args[0]), args[1]);
    }
  else if (strcmp (directive, "at-end") == 0)
    {
      WANT (0);
      check_at_end (view, line);
    }
  else if (strcmp (directive, "at-right") == 0)
    {
      WANT (0);
      check_at_right (view, line);
    }
  else if (strcmp (directive, "select") == 0)
    {
      gint64 r0, c0, r1, c1;

      WANT (4);
      r0 = parse_int (line, args[0]);
      c0 = parse_int (line, args[1]);
      r1 = parse_int (line, args[2]);
      c1 = parse_int (line, args[3]);
      npv_grid_set_cursor (view->grid, r0, c0, FALSE);
      npv_grid_set_cursor (view->grid, r1, c1, TRUE);
      check_selection (view, line, r0, c0, r1, c1);
    }
  else if (strcmp (directive, "selection") == 0)
    {
      WANT (4);
      check_selection (view, line, parse_int (line, args[0]), parse_int (line, args[1]),
                       parse_int (line, args[2]), parse_int (line, args[3]));
    }
  else if (strcmp (directive, "select-all") == 0)
    {
      WANT (0);
      npv_grid_select_all (view->grid);
      check_selection (view, line, 0, 0, npv_grid_get_n_rows (view->grid) - 1,
                       npv_grid_get_n_columns (view->grid) - 1);
    }
  else if (strcmp (directive, "copy") == 0)
    {
      WANT (1);
      check_copy (view, line, args[0]);
    }
  else if (strcmp (directive, "copy-error") == 0)
    {
      WANT (1);
      if (strcmp (args[0], "too-large") != 0)
        g_error ("manifest.txt:%u: no copy error '%s'", line, args[0]);
      check_copy_error (view, line);
    }
  else
    g_error ("manifest.txt:%u: cannot read '%s' with %u fields", line, directive, n_args);
  return TRUE;
#undef WANT
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(View) view = view_new ();
  gint64 start = g_get_monotonic_time ();

  n_cells_checked = 0;
  for (guint i = 0; i < c->n_lines; i++)
    {
      guint line = c->first_line + i;
      g_auto(GStrv) fields = g_strsplit (manifest[line - 1], "\t", -1);
      guint n = g_strv_length (fields);

      if (n == 0 || fields[0][0] == '#')
        continue;
      for (guint k = 1; k < n; k++)
        {
          char *unescaped = g_strcompress (fields[k]);

          g_free (fields[k]);
          fields[k] = unescaped;
        }
      if (!run_directive (view, line, fields[0], fields + 1, n - 1))
        break;
    }
  g_test_message ("%s: %u directives, %u cells checked, in %.3f s", c->name, c->n_lines,
                  n_cells_checked, (g_get_monotonic_time () - start) / 1e6);
}

static void
read_manifest (void)
{
  g_autofree char *path = files_path ("manifest.txt");
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  Case *current = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &error))
    g_error ("%s (made by gen-grid-files.py)", error->message);
  manifest = g_strsplit (contents, "\n", -1);
  cases = g_ptr_array_new ();
  for (guint i = 0; manifest[i] != NULL; i++)
    {
      if (g_str_has_prefix (manifest[i], "case\t"))
        {
          current = g_new0 (Case, 1);
          current->name = g_strdup (manifest[i] + strlen ("case\t"));
          current->first_line = i + 2;
          g_ptr_array_add (cases, current);
        }
      else if (current != NULL && manifest[i][0] != '\0')
        current->n_lines = i + 1 - current->first_line + 1;
    }
  if (cases->len == 0)
    g_error ("%s has no cases", path);
}

/* ------------------------------------------------------------------ */
/* Planes replaced while their tiles are made */

/* A plane of the slow member asked for, then another plane shown in the
 * same grid before those tiles arrive. The slow tiles have the same keys
 * as the new plane's first ones: when they come in late they must be
 * dropped, not shown in the new plane. */
static void
test_stale_plane (void)
{
  g_autoptr(View) view = view_new ();
  g_autoptr(View) plain = view_new ();
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  const gint64 cells[][2] = { { 0, 0 }, { 3, 2 }, { 2, 15 }, { 5, 3 }, { 199, 44 } };
  gint64 start, slow_time;
  const char *text;

  /* The expected texts: what the plain file shows in a grid of its own. */
  if (!view_open (plain, "plain.npy", NULL, FALSE) || !view_apply_plane (plain))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cells); i++)
    g_ptr_array_add (texts, g_strdup (view_show_cell (plain, cells[i][0], cells[i][1])));

  /* How long the slow member's first tile takes, unhurried; its value. */
  if (!view_open (view, "slow.npz", "slow", FALSE) || !view_apply_plane (view))
    return;
  start = g_get_monotonic_time ();
  text = view_show_cell (view, 0, 0);
  slow_time = g_get_monotonic_time () - start;
  g_test_message ("slow.npz: the first tile took %.3f s", slow_time / 1e6);
  if (text != NULL && strcmp (text, "0.0") != 0)
    fail ("%s: cell (0, 0) shows '%s', numpy says '0.0'", view->where, text);
  text = view_show_cell (view, 3, npv_grid_get_n_columns (view->grid) - 1);
  if (text != NULL && strcmp (text, "4.0") != 0)
    fail ("%s: the last cell shows '%s', numpy says '4.0'", view->where, text);

  for (guint round = 0; round < 2; round++)
    {
      if (!view_open (view, "slow.npz", "slow", FALSE) || !view_apply_plane (view))
        return;
      npv_grid_set_cursor (view->grid, 0, 0, FALSE);
      iterate_past_updates ();
      if (npv_grid_peek_text (view->grid, 0, 0) != NULL)
        g_test_message ("round %u: slow.npz's first tile arrived before the plane was replaced",
                        round);

      /* The same grid, another file; the slow tiles come in meanwhile
       * (round 0), or surely before the check (round 1). */
      start = g_get_monotonic_time ();
      if (!view_open (view, "plain.npy", NULL, FALSE) || !view_apply_plane (view))
        return;
      if (round == 1)
        iterate_for (0.3 + 2.0 * slow_time / 1e6);
      for (guint i = 0; i < G_N_ELEMENTS (cells); i++)
        {
          text = view_show_cell (view, cells[i][0], cells[i][1]);
          if (text != NULL && g_strcmp0 (text, g_ptr_array_index (texts, i)) != 0)
            {
              g_autofree char *shown = quote (text);
              g_autofree char *wanted = quote (g_ptr_array_index (texts, i));

              fail ("%s (it replaced slow.npz, round %u): cell (%" G_GINT64_FORMAT ", %"
                    G_GINT64_FORMAT ") shows %s, its own grid %s", view->where, round,
                    cells[i][0], cells[i][1], shown, wanted);
            }
        }
      g_test_message ("round %u: the new plane checked %.3f s after it replaced the old one",
                      round, (g_get_monotonic_time () - start) / 1e6);
    }
}

/* ------------------------------------------------------------------ */
/* Destroying the view while tiles are made */

typedef struct
{
  guint count;
  const char *last;            /* the last signal's name */
} LateSignals;

static void
count_signal (NpvGrid     *grid,
              LateSignals *late)
{
  late->count++;
  late->last = g_signal_name (g_signal_get_invocation_hint (grid)->signal_id);
}

typedef enum {
  DISPOSE_MAPPED_END,          /* the end of big.npy: quick tiles */
  DISPOSE_SLOW_END,            /* the end of slow.npz, unindexed: slow tiles */
  DISPOSE_SLOW_COPY,           /* a copy of many rows of big.npy under way, and
                                * the update after a move still to run */
} DisposeHow;

static void
dispose_round (DisposeHow how)
{
  static const char * const names[] = { "big.npy at its end", "slow.npz at its end",
                                        "big.npy while copying" };
  View *view = view_new ();
  NpvGrid *grid = view->grid;
  LateSignals late_signals = { 0, NULL };
  gulong handlers[2];
  CopyResult copy = { FALSE, NULL, NULL };
  gboolean in_flight;
  gint64 n_rows, n_cols, destroyed, gone = 0;
  guint wake_id;

  if ((how == DISPOSE_SLOW_END ? !view_open (view, "slow.npz", "slow", FALSE)
                               : !view_open (view, "big.npy", NULL, FALSE)) ||
      !view_apply_plane (view))
    {
      view_free (view);
      return;
    }
  n_rows = npv_grid_get_n_rows (grid);
  n_cols = npv_grid_get_n_columns (grid);
  npv_grid_set_cursor (grid, n_rows - 1, n_cols - 1, FALSE);
  if (how == DISPOSE_SLOW_COPY)
    {
      /* Destroyed at once: the grid's update for its new place is still
       * to run, and the copy is under way. */
      npv_grid_set_cursor (grid, n_rows - 2000000, 0, TRUE);
      npv_grid_copy_selection_async (grid, NULL, copy_ready, &copy);
    }
  else
    iterate_past_updates ();
  in_flight = npv_grid_is_loading (grid) &&
              npv_grid_peek_text (grid, n_rows - 1, n_cols - 1) == NULL;
  g_test_message ("%s: %s when the window is destroyed", names[how],
                  in_flight ? "tiles asked for and not arrived" : "the tiles had arrived");
  if (how == DISPOSE_SLOW_END && !in_flight)
    fail ("%s: the last tile arrived before the window was destroyed: this round tests nothing",
          names[how]);

  handlers[0] = g_signal_connect (grid, "cursor-changed", G_CALLBACK (count_signal), &late_signals);
  handlers[1] = g_signal_connect (grid, "hover-changed", G_CALLBACK (count_signal), &late_signals);
  g_object_add_weak_pointer (G_OBJECT (grid), (gpointer *) &grid);
  if (how == DISPOSE_SLOW_COPY)
    g_test_message ("%s: the copy %s when the window is destroyed", names[how],
                    copy.done ? "had reported" : "was under way");
  destroyed = g_get_monotonic_time ();
  gtk_window_destroy (GTK_WINDOW (view->window));
  view->window = NULL;

  wake_id = g_timeout_add (5, wake, NULL);
  while (g_get_monotonic_time () < destroyed + G_USEC_PER_SEC || (how == DISPOSE_SLOW_COPY &&
         !copy.done && g_get_monotonic_time () < destroyed + WAIT_SECONDS * G_USEC_PER_SEC))
    {
      g_main_context_iteration (NULL, TRUE);
      if (grid == NULL && gone == 0)
        gone = g_get_monotonic_time () - destroyed;
    }
  g_source_remove (wake_id);

  if (how == DISPOSE_SLOW_COPY)
    {
      /* The copy holds the grid until it reports, once, as GTask does. */
      if (!copy.done)
        fail ("%s: the copy never reported", names[how]);
      else
        g_test_message ("%s: the copy reported %s", names[how],
                        copy.text != NULL ? "its text" : copy.error->message);
      g_free (copy.text);
      g_clear_error (&copy.error);
    }
  if (grid != NULL)
    {
      fail ("%s: the grid is still alive %.1f s after its window was destroyed (%u refs)",
            names[how], (g_get_monotonic_time () - destroyed) / 1e6, G_OBJECT (grid)->ref_count);
      g_signal_handler_disconnect (grid, handlers[0]);
      g_signal_handler_disconnect (grid, handlers[1]);
      g_object_remove_weak_pointer (G_OBJECT (grid), (gpointer *) &grid);
    }
  else
    g_test_message ("%s: the grid was finalized %.3f s after its window was destroyed",
                    names[how], gone / 1e6);
  if (late_signals.count > 0)
    fail ("%s: the grid emitted %u signals after its window was destroyed (the last one "
          "'%s'): a tile of the view that was destroyed still arrived", names[how],
          late_signals.count, late_signals.last);
  view_free (view);
}

static void
test_dispose (void)
{
  dispose_round (DISPOSE_MAPPED_END);
  dispose_round (DISPOSE_SLOW_END);
  dispose_round (DISPOSE_SLOW_COPY);
  /* Whatever is left of the slow tiles finishes with nobody to tell. */
  iterate_for (0.5);
}

/* ------------------------------------------------------------------ */

/* Resizing one column moves only the columns after it, and the cells
 * still show their own values. */
static void
test_column_width (void)
{
  g_autoptr(View) view = view_new ();
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  double x4, x5, x6, x6_after, x4_after, x5_after;
  int w5, w5_after;

  if (!view_open (view, "plain.npy", NULL, FALSE) || !view_apply_plane (view))
    return;
  for (gint64 c = 3; c <= 8; c++)
    g_ptr_array_add (texts, g_strdup (view_show_cell (view, 2, c)));
  npv_grid_get_column_extent (view->grid, 4, &x4, &w5);
  npv_grid_get_column_extent (view->grid, 6, &x6, &w5);
  npv_grid_get_column_extent (view->grid, 5, &x5, &w5);

  npv_grid_set_column_width (view->grid, 5, w5 + 120);
  npv_grid_get_column_extent (view->grid, 4, &x4_after, &w5_after);
  npv_grid_get_column_extent (view->grid, 5, &x5_after, &w5_after);
  if (x4_after != x4 || x5_after != x5 || w5_after != w5 + 120)
    fail ("column 5 resized to %d: columns 4 and 5 start at %g and %g (were %g, %g), width %d",
          w5 + 120, x4_after, x5_after, x4, x5, w5_after);
  npv_grid_get_column_extent (view->grid, 6, &x6_after, &w5_after);
  if (x6_after != x6 + 120)
    fail ("column 6 starts at %g after column 5 grew by 120, was %g", x6_after, x6);

  for (gint64 c = 3; c <= 8; c++)
    {
      const char *text = view_show_cell (view, 2, c);

      if (g_strcmp0 (text, g_ptr_array_index (texts, c - 3)) != 0)
        fail ("after resizing, cell (2, %" G_GINT64_FORMAT ") shows '%s', before '%s'", c, text,
              (const char *) g_ptr_array_index (texts, c - 3));
    }
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  if (argc < 2)
    g_error ("usage: test-grid DIR (made by gen-grid-files.py)");
  files_dir = argv[1];
  read_manifest ();

  for (guint i = 0; i < cases->len; i++)
    {
      const Case *c = g_ptr_array_index (cases, i);
      g_autofree char *path = g_strdup_printf ("/grid/numpy/%s", c->name);

      g_test_add_data_func (path, c, test_case);
    }
  g_test_add_func ("/grid/stale-plane", test_stale_plane);
  g_test_add_func ("/grid/column-width", test_column_width);
  g_test_add_func ("/grid/dispose", test_dispose);
  return g_test_run ();
}
