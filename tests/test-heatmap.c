/* test-heatmap.c: the heatmap draws numpy's values in matplotlib's colours,
 * follows the window's dimension bar and colour page, and shares its
 * selection with the grid
 *
 * Runs under xvfb-run. The files, and the colour matplotlib gives each
 * checked block, come from numpy at build time: gen-heatmap-files.py
 * writes them with DIR/manifest.txt, whose format it describes. Each
 * manifest case is a test of its own, /heatmap/NAME, in a window of its
 * own.
 *
 * The pixels are the ones a person sees: the heatmap widget's render node,
 * as its parent would draw it, rendered by a cairo renderer into a texture
 * and downloaded. Each checked pixel is the one in the middle of its
 * block's square, where no edge can blur it.
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

#include "npv-window.h"

/* How long an open, a picture or a range may take before the test gives
 * up on it. */
#define WAIT_SECONDS 20
/* Mismatches written out in full per case; the rest are counted. */
#define MAX_REPORTS 25

static const char *files_dir;
static const char *python_path;  /* for gen-heatmap-files.py --rects */
static const char *script_path;
static char **manifest;
static GPtrArray *cases;
static GskRenderer *renderer;

/* ------------------------------------------------------------------ */
/* GTK's complaint about a layout left undone */

/* Under G_DEBUG=fatal-warnings every warning aborts. GTK's "Trying to
 * snapshot ... without a current allocation" (a widget queued a resize
 * while being allocated) is recorded instead, and fails the case it came
 * up in, so that the cases after it still run. */
static guint n_allocation_warnings;
static char *allocation_warning;
static guint allocation_warning_line;   /* the directive it came up in */
static guint current_line;

static GLogWriterOutput
log_writer (GLogLevelFlags   log_level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  const char *domain = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0 && fields[i].length < 0)
      domain = fields[i].value;
    else if (strcmp (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
      message = fields[i].value;
  if ((log_level & G_LOG_LEVEL_WARNING) && g_strcmp0 (domain, "Gtk") == 0 && message != NULL &&
      strstr (message, "without a current allocation") != NULL &&
      g_thread_self () == user_data)
    {
      if (n_allocation_warnings++ == 0)
        {
          allocation_warning = g_strdup (message);
          allocation_warning_line = current_line;
        }
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

/* ------------------------------------------------------------------ */
/* Helpers */

static void fail (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* Records a failure and goes on, so that one run shows every mismatch. */
static void
fail (const char *format,
      ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
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
 * default idle have run (the dimension bar's rebuild among them). */
static void
iterate_past_updates (void)
{
  gboolean done = FALSE;

  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, set_flag, &done, NULL);
  iterate_until (flag_is_set, &done);
}

typedef struct
{
  guint ticks;
} FrameWait;

static gboolean
count_tick (GtkWidget     *widget,
            GdkFrameClock *clock,
            gpointer       data)
{
  FrameWait *wait = data;

  wait->ticks++;
  return G_SOURCE_CONTINUE;
}

static gboolean
two_ticks (gpointer data)
{
  return ((FrameWait *) data)->ticks >= 2;
}

/* Runs the main loop until @widget's frame clock has ticked twice: a
 * layout has happened since. */
static void
wait_frames (GtkWidget *widget)
{
  FrameWait wait = { 0 };
  guint id = gtk_widget_add_tick_callback (widget, count_tick, &wait, NULL);

  if (!iterate_until (two_ticks, &wait))
    fail ("%s: no frame in %d s", G_OBJECT_TYPE_NAME (widget), WAIT_SECONDS);
  gtk_widget_remove_tick_callback (widget, id);
}

/* The first widget under @root (itself included) that @match accepts,
 * depth first. */
static GtkWidget *
find_widget (GtkWidget *root,
             gboolean (*match) (GtkWidget *widget, gpointer data),
             gpointer   data)
{
  if (match (root, data))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, match, data);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* A window on one file */

typedef struct
{
  const char *name;
  guint first_line;            /* 1-based, the line after "case" */
  guint n_lines;
} Case;

typedef struct
{
  NpvWindow *window;
  NpvHeatmap *heatmap;
  NpvGrid *grid;
  char *where;                 /* the file, for messages */
  gboolean broken;             /* the rest of the case is skipped */

  /* The rendered picture, while nothing has changed. */
  guint32 *pixels;
  int width, height;
  graphene_point_t origin;     /* of the picture, in the heatmap's parent */

  guint n_stale;               /* pictures left in old colours */

  guint n_checked;
  guint n_alternative;         /* matched one of the allowed alternatives */
  guint n_mismatched;
  guint n_moves;               /* views moved to bring a block on screen */
} Run;

static void
run_invalidate (Run *run)
{
  g_clear_pointer (&run->pixels, g_free);
}

static void
run_close (Run *run)
{
  run_invalidate (run);
  if (run->window != NULL)
    gtk_window_destroy (GTK_WINDOW (run->window));
  run->window = NULL;
  run->heatmap = NULL;
  run->grid = NULL;
  g_clear_pointer (&run->where, g_free);
}

static gboolean
window_is_settled (gpointer data)
{
  NpvWindow *window = data;
  const char *page = npv_window_get_page (window);

  return !npv_window_is_busy (window) &&
         g_strcmp0 (page, "loading") != 0 && g_strcmp0 (page, "reading") != 0;
}

static gboolean
widget_is_shown (gpointer data)
{
  GtkWidget *widget = data;

  return gtk_widget_get_mapped (widget) && gtk_widget_get_width (widget) > 0 &&
         gtk_widget_get_height (widget) > 0;
}

static gboolean
picture_is_done (gpointer data)
{
  Run *run = data;

  return !npv_window_is_busy (run->window) && widget_is_shown (run->heatmap) &&
         !npv_heatmap_is_loading (run->heatmap) && npv_heatmap_is_exact (run->heatmap);
}

/* Waits until every visible texture is there and exact. A picture that
 * stops loading without being exact (textures drawn in colours of an
 * earlier scale or range, with nothing to redo them) is a failure; it is
 * then pushed by a resize, which makes the heatmap look at its textures
 * again, so that the rest of the case can be checked. */
static gboolean
wait_picture (Run        *run,
              guint       line,
              const char *after)
{
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + WAIT_SECONDS * G_USEC_PER_SEC;
  gint64 idle_since = 0;
  guint wake_id = g_timeout_add (10, wake, NULL);
  gboolean done;

  run_invalidate (run);
  while (!(done = picture_is_done (run)) && g_get_monotonic_time () < deadline)
    {
      gboolean stuck = widget_is_shown (run->heatmap) && !npv_window_is_busy (run->window) &&
                       !npv_heatmap_is_loading (run->heatmap);

      if (!stuck)
        idle_since = 0;
      else if (idle_since == 0)
        idle_since = g_get_monotonic_time ();
      else if (g_get_monotonic_time () - idle_since > 2 * G_USEC_PER_SEC)
        {
          if (run->n_stale++ == 0)
            fail ("manifest.txt:%u: %s: after %s the heatmap stopped loading but its picture is "
                  "not exact for 2 s (npv_heatmap_is_exact() FALSE, npv_heatmap_is_loading() "
                  "FALSE): textures keep the colours of an earlier range or scale until "
                  "something moves the view", line, run->where, after);
          gtk_widget_queue_resize (GTK_WIDGET (run->heatmap));
          idle_since = 0;
        }
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (wake_id);
  if (!done)
    {
      fail ("manifest.txt:%u: %s: %d s after %s the heatmap is %s%s", line, run->where,
            WAIT_SECONDS, after,
            !widget_is_shown (run->heatmap) ? "not shown"
            : npv_heatmap_is_loading (run->heatmap) ? "still loading" : "not exact",
            npv_window_is_busy (run->window) ? " and the window busy" : "");
      return FALSE;
    }
  if (npv_heatmap_get_message (run->heatmap) != NULL)
    fail ("manifest.txt:%u: %s: after %s the heatmap says '%s'", line, run->where, after,
          npv_heatmap_get_message (run->heatmap));
  return TRUE;
}

/* The heatmap's render node, as its parent draws it, rendered. */
static gboolean
run_render (Run   *run,
            guint  line)
{
  GtkWidget *widget = GTK_WIDGET (run->heatmap);
  GtkWidget *parent = gtk_widget_get_parent (widget);
  GtkSnapshot *snapshot;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  graphene_rect_t bounds;

  if (run->pixels != NULL)
    return TRUE;
  if (!gtk_widget_compute_bounds (widget, parent, &bounds))
    {
      fail ("manifest.txt:%u: %s: the heatmap has no bounds in its parent", line, run->where);
      return FALSE;
    }
  snapshot = gtk_snapshot_new ();
  gtk_widget_snapshot_child (parent, widget, snapshot);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    {
      fail ("manifest.txt:%u: %s: the heatmap drew nothing", line, run->where);
      return FALSE;
    }
  texture = gsk_renderer_render_texture (renderer, node, &bounds);
  run->width = gdk_texture_get_width (texture);
  run->height = gdk_texture_get_height (texture);
  run->origin = bounds.origin;
  run->pixels = g_new (guint32, (gsize) run->width * run->height);
  /* Cairo's ARGB32, native-endian: 0xAARRGGBB words, as NPV_COLOR_*. */
  gdk_texture_download (texture, (guchar *) run->pixels, (gsize) run->width * 4);
  return TRUE;
}

/* The rendered pixel under the heatmap's point (@x, @y). */
static gboolean
run_pixel (Run     *run,
           double   x,
           double   y,
           guint32 *argb)
{
  GtkWidget *widget = GTK_WIDGET (run->heatmap);
  graphene_point_t p;
  int px, py;

  if (!gtk_widget_compute_point (widget, gtk_widget_get_parent (widget),
                                 &GRAPHENE_POINT_INIT (x, y), &p))
    return FALSE;
  px = (int) floor (p.x - run->origin.x);
  py = (int) floor (p.y - run->origin.y);
  if (px < 0 || py < 0 || px >= run->width || py >= run->height)
    return FALSE;
  *argb = run->pixels[(gsize) py * run->width + px];
  return TRUE;
}

static gboolean
parse_color (const char *text,
             guint32    *argb)
{
  char *end;
  guint64 rgb;

  if (strcmp (text, "nan") == 0)
    *argb = NPV_COLOR_NAN;
  else if (strcmp (text, "posinf") == 0)
    *argb = NPV_COLOR_POSINF;
  else if (strcmp (text, "neginf") == 0)
    *argb = NPV_COLOR_NEGINF;
  else if (strcmp (text, "invalid") == 0)
    *argb = NPV_COLOR_INVALID;
  else
    {
      rgb = g_ascii_strtoull (text, &end, 16);
      if (strlen (text) != 6 || *end != '\0')
        return FALSE;
      *argb = 0xFF000000u | (guint32) rgb;
    }
  return TRUE;
}

static const char *
color_name (guint32 argb)
{
  static char buffer[32];

  switch (argb)
    {
    case NPV_COLOR_NAN: return "NaN magenta";
    case NPV_COLOR_POSINF: return "+inf white";
    case NPV_COLOR_NEGINF: return "-inf black";
    case NPV_COLOR_INVALID: return "invalid grey";
    default:
      g_snprintf (buffer, sizeof buffer, "%02x%02x%02x (alpha %02x)", (argb >> 16) & 0xff,
                  (argb >> 8) & 0xff, argb & 0xff, argb >> 24);
      return buffer;
    }
}

static gint64
parse_int (guint       line,
           const char *text)
{
  gint64 v;
  g_autoptr(GError) error = NULL;

  if (!g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &v, &error))
    g_error ("manifest.txt:%u: '%s' is not a number: %s", line, text, error->message);
  return v;
}

static double
parse_double (guint       line,
              const char *text)
{
  char *end;
  double v = g_ascii_strtod (text, &end);

  if (end == text || *end != '\0')
    g_error ("manifest.txt:%u: '%s' is not a number", line, text);
  return v;
}

/* ------------------------------------------------------------------ */
/* The window's controls, found as a person finds them */

static gboolean
is_dims_bar (GtkWidget *widget,
             gpointer   data)
{
  return GTK_IS_BOX (widget) && g_object_get_data (G_OBJECT (widget), "expression") != NULL;
}

static GtkWidget *
dims_bar (Run   *run,
          guint  line)
{
  GtkWidget *bar = find_widget (GTK_WIDGET (run->window), is_dims_bar, NULL);

  if (bar == NULL)
    fail ("manifest.txt:%u: %s: the window has no dimension bar", line, run->where);
  return bar;
}

/* The bar's @n-th direct child of @type. */
static GtkWidget *
bar_child (GtkWidget *bar,
           GType      type,
           guint      n)
{
  for (GtkWidget *child = gtk_widget_get_first_child (bar); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (G_TYPE_CHECK_INSTANCE_TYPE (child, type) && n-- == 0)
      return child;
  return NULL;
}

/* The colour page's grid: the map in row 0, "Reverse" in row 1, the scale
 * in row 2, the blocks' reduction in row 6 (build_colour_page). Found by
 * its shape, whatever the language. */
static gboolean
is_colour_grid (GtkWidget *widget,
                gpointer   data)
{
  GtkGrid *grid;

  if (!GTK_IS_GRID (widget))
    return FALSE;
  grid = GTK_GRID (widget);
  return GTK_IS_DROP_DOWN (gtk_grid_get_child_at (grid, 1, 0)) &&
         GTK_IS_CHECK_BUTTON (gtk_grid_get_child_at (grid, 1, 1)) &&
         GTK_IS_DROP_DOWN (gtk_grid_get_child_at (grid, 1, 2)) &&
         GTK_IS_DROP_DOWN (gtk_grid_get_child_at (grid, 1, 6));
}

static GtkDropDown *
colour_dropdown (Run   *run,
                 guint  line,
                 int    row)
{
  GtkWidget *grid = find_widget (GTK_WIDGET (run->window), is_colour_grid, NULL);

  if (grid == NULL)
    {
      fail ("manifest.txt:%u: %s: the window has no colour page", line, run->where);
      return NULL;
    }
  return GTK_DROP_DOWN (gtk_grid_get_child_at (GTK_GRID (grid), 1, row));
}

/* ------------------------------------------------------------------ */
/* Checks */

static void
check_range (Run        *run,
             guint       line,
             double      lo,
             double      hi)
{
  NpvColorScale cs;
  gint64 deadline = g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC;
  guint wake_id = g_timeout_add (10, wake, NULL);

  for (;;)
    {
      npv_heatmap_get_color_scale (run->heatmap, &cs);
      if ((cs.lo == lo && cs.hi == hi) || g_get_monotonic_time () > deadline)
        break;
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (wake_id);
  if (cs.lo != lo || cs.hi != hi)
    fail ("manifest.txt:%u: %s: the heatmap's colour range is [%.17g, %.17g] (%s scale), "
          "numpy's [%.17g, %.17g]", line, run->where, cs.lo, cs.hi, npv_scale_get_name (cs.scale),
          lo, hi);
  wait_picture (run, line, "the range");
}

/* Whether the heatmap's point (@x, @y) is under the selection it draws
 * (npv_heatmap_snapshot: a fill and an outline one pixel beyond). */
static gboolean
under_selection (Run    *run,
                 double  x,
                 double  y)
{
  gint64 r0, c0, r1, c1;
  double x0, y0, x1, y1;
  int s = MAX (1, gtk_widget_get_scale_factor (GTK_WIDGET (run->heatmap)));

  npv_heatmap_get_selection (run->heatmap, &r0, &c0, &r1, &c1);
  if (r0 < 0)
    return FALSE;
  npv_heatmap_get_item_position (run->heatmap, r0, c0, &x0, &y0);
  npv_heatmap_get_item_position (run->heatmap, r1 + 1, c1 + 1, &x1, &y1);
  x1 = MAX (x1, x0 + 1.0 / s);
  y1 = MAX (y1, y0 + 1.0 / s);
  return x >= x0 - 1 && x < x1 + 1 && y >= y0 - 1 && y < y1 + 1;
}

/* The middle of the square drawn for the block whose first item is
 * (@row, @col), in the heatmap's coordinates. */
static void
block_middle (Run    *run,
              gint64  row,
              gint64  col,
              double *x,
              double *y)
{
  int z = npv_heatmap_get_zoom (run->heatmap);
  int s = MAX (1, gtk_widget_get_scale_factor (GTK_WIDGET (run->heatmap)));
  double half = z >= 0 ? ldexp (0.5, z) : 0.5;   /* device pixels */

  npv_heatmap_get_item_position (run->heatmap, row, col, x, y);
  *x += half / s;
  *y += half / s;
}

static gboolean
on_canvas (Run    *run,
           double  x,
           double  y)
{
  graphene_rect_t r;

  npv_heatmap_get_canvas (run->heatmap, &r);
  return x >= r.origin.x && y >= r.origin.y && x < r.origin.x + r.size.width &&
         y < r.origin.y + r.size.height;
}

/* Brings the block of item (@row, @col) on screen; its middle. */
static gboolean
show_block (Run    *run,
            guint   line,
            gint64  row,
            gint64  col,
            double *x,
            double *y)
{
  block_middle (run, row, col, x, y);
  if (on_canvas (run, *x, *y))
    return TRUE;
  run->n_moves++;
  npv_heatmap_center_on (run->heatmap, row, col);
  if (!wait_picture (run, line, "centring a block"))
    return FALSE;
  block_middle (run, row, col, x, y);
  if (on_canvas (run, *x, *y))
    return TRUE;
  fail ("manifest.txt:%u: %s: item (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") centred at "
        "zoom %d is drawn at (%g, %g), off the canvas", line, run->where, row, col,
        npv_heatmap_get_zoom (run->heatmap), *x, *y);
  return FALSE;
}

static void
check_items_at (Run    *run,
                guint   line,
                double  x,
                double  y,
                gint64  r0,
                gint64  c0,
                gint64  r1,
                gint64  c1)
{
  gint64 gr0, gc0, gr1, gc1;

  if (!npv_heatmap_get_items_at (run->heatmap, x, y, &gr0, &gc0, &gr1, &gc1))
    fail ("manifest.txt:%u: %s: zoom %d: no items under (%g, %g), where block [%" G_GINT64_FORMAT
          "..%" G_GINT64_FORMAT "] x [%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT "] is drawn",
          line, run->where, npv_heatmap_get_zoom (run->heatmap), x, y, r0, r1, c0, c1);
  else if (gr0 != r0 || gc0 != c0 || gr1 != r1 || gc1 != c1)
    fail ("manifest.txt:%u: %s: zoom %d: the items under (%g, %g) are [%" G_GINT64_FORMAT "..%"
          G_GINT64_FORMAT "] x [%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT "], numpy's block is [%"
          G_GINT64_FORMAT "..%" G_GINT64_FORMAT "] x [%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT "]",
          line, run->where, npv_heatmap_get_zoom (run->heatmap), x, y, gr0, gr1, gc0, gc1, r0,
          r1, c0, c1);
}

/* Whether the pixel @got is @expected or one of @alternatives (comma
 * separated, '-' for none); a failure with @value (numpy's) otherwise. */
static void
compare_pixel (Run        *run,
               guint       line,
               int         z,
               gint64      r0,
               gint64      c0,
               gint64      r1,
               gint64      c1,
               double      x,
               double      y,
               guint32     got,
               guint32     expected,
               const char *alternatives,
               const char *value)
{
  g_auto(GStrv) alts = NULL;
  gboolean alternative = FALSE;

  run->n_checked++;
  if (got == expected)
    return;
  if (strcmp (alternatives, "-") != 0)
    {
      alts = g_strsplit (alternatives, ",", -1);
      for (guint i = 0; alts[i] != NULL && !alternative; i++)
        {
          guint32 alt;

          if (!parse_color (alts[i], &alt))
            g_error ("manifest.txt:%u: no colour '%s'", line, alts[i]);
          alternative = got == alt;
        }
    }
  if (alternative)
    {
      run->n_alternative++;
      return;
    }
  if (run->n_mismatched++ < MAX_REPORTS)
    {
      g_autofree char *want = g_strdup (color_name (expected));

      fail ("manifest.txt:%u: %s: zoom %d, block [%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT "] x [%"
            G_GINT64_FORMAT "..%" G_GINT64_FORMAT "] (value %s) at (%g, %g) is %s, matplotlib's "
            "colour is %s%s%s", line, run->where, z, r0, r1, c0, c1, value, x, y,
            color_name (got), want, alts != NULL ? " or " : "", alts != NULL ? alternatives : "");
    }
  else
    g_test_fail ();
}

static void
check_px (Run   *run,
          guint  line,
          char **args)
{
  int z = (int) parse_int (line, args[0]);
  gint64 r0 = parse_int (line, args[1]), c0 = parse_int (line, args[2]);
  gint64 r1 = parse_int (line, args[3]), c1 = parse_int (line, args[4]);
  guint32 expected, got = 0;
  double x, y;

  if (z != npv_heatmap_get_zoom (run->heatmap))
    {
      fail ("manifest.txt:%u: %s: the heatmap is at zoom %d, the line is for zoom %d", line,
            run->where, npv_heatmap_get_zoom (run->heatmap), z);
      return;
    }
  if (!parse_color (args[5], &expected))
    g_error ("manifest.txt:%u: no colour '%s'", line, args[5]);
  if (!show_block (run, line, r0, c0, &x, &y))
    return;
  if (under_selection (run, x, y))
    {
      fail ("manifest.txt:%u: %s: block (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") at zoom %d "
            "is under the selection drawn over it: the manifest cannot check it", line,
            run->where, r0, c0, z);
      return;
    }
  check_items_at (run, line, x, y, r0, c0, r1, c1);
  if (!run_render (run, line))
    return;
  if (!run_pixel (run, x, y, &got))
    {
      fail ("manifest.txt:%u: %s: (%g, %g) is outside the rendered heatmap (%d x %d)", line,
            run->where, x, y, run->width, run->height);
      return;
    }
  compare_pixel (run, line, z, r0, c0, r1, c1, x, y, got, expected, args[6], args[7]);
}

/* The items a pixel's colour folds at @ipp items per pixel: those of the
 * pyramid blocks of level floor (log2 (ipp)) that cover the pixel's items
 * [@a, @b] (npv-heatmap.c: "A pixel's value folds the blocks ... that
 * cover its items"), clipped to the plane's @n. */
static void
folded_items (double  ipp,
              gint64  n,
              gint64 *a,
              gint64 *b)
{
  guint level = 0;

  while (ldexp (1.0, (int) level + 1) <= ipp * (1 + 1e-12))
    level++;
  *a = (*a >> level) << level;
  *b = MIN (n, ((*b >> level) + 1) << level) - 1;
}

/* Fitted, a pixel stands for any number of items per side (the canvas'
 * size decides). Pixels across the whole plane, its edges among them; the
 * items under each, widened to the blocks the picture folds; matplotlib's
 * colours of those, from gen-heatmap-files.py --rects. */
static void
check_fit (Run   *run,
           guint  line,
           char **args)
{
  g_autofree char *path = files_path (args[0]);
  g_autoptr(GString) request = g_string_new (NULL);
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (double) * 2);
  g_autoptr(GArray) rects = g_array_new (FALSE, FALSE, sizeof (gint64) * 4);
  g_autoptr(GSubprocess) helper = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *errors = NULL;
  g_auto(GStrv) lines = NULL;
  double x0, y0, xl, yl, ipp;
  int ppi, z;
  gint64 rows, cols;
  graphene_rect_t canvas;
  const int n_steps = 12;

  npv_heatmap_zoom_fit (run->heatmap);
  if (!wait_picture (run, line, "zooming to fit"))
    return;
  npv_heatmap_get_scale (run->heatmap, &ppi, &ipp);
  z = npv_heatmap_get_zoom (run->heatmap);
  g_test_message ("%s: fitted at %d pixels per item, %.6g items per pixel (zoom %d)", run->where,
                  ppi, ipp, z);

  /* The plane's extent on the canvas: from its first item's pixel to its
   * last item's (whole when fitted). */
  rows = npv_grid_get_n_rows (run->grid);
  cols = npv_grid_get_n_columns (run->grid);
  npv_heatmap_get_canvas (run->heatmap, &canvas);
  npv_heatmap_get_item_position (run->heatmap, 0, 0, &x0, &y0);
  npv_heatmap_get_item_position (run->heatmap, rows - 1, cols - 1, &xl, &yl);
  xl += ppi > 1 ? ppi - 1 : 0;
  yl += ppi > 1 ? ppi - 1 : 0;
  if (x0 < canvas.origin.x || y0 < canvas.origin.y ||
      xl >= canvas.origin.x + canvas.size.width || yl >= canvas.origin.y + canvas.size.height)
    fail ("manifest.txt:%u: %s: fitted, the plane spans (%g, %g) to (%g, %g), beyond the canvas "
          "(%g, %g) + %g x %g", line, run->where, x0, y0, xl, yl, canvas.origin.x,
          canvas.origin.y, canvas.size.width, canvas.size.height);

  /* Pixels on a grid over the plane, its first and last two of each side
   * among them; their middles. */
  for (int i = 0; i <= n_steps + 2; i++)
    for (int j = 0; j <= n_steps + 2; j++)
      {
        double fx = i == 0 ? 0 : i == n_steps + 1 ? -1 : i == n_steps + 2 ? -2 : (double) i / n_steps;
        double fy = j == 0 ? 0 : j == n_steps + 1 ? -1 : j == n_steps + 2 ? -2 : (double) j / n_steps;
        double px = fx >= 0 ? floor (x0 + fx * (xl - x0)) : xl + 1 + fx;
        double py = fy >= 0 ? floor (y0 + fy * (yl - y0)) : yl + 1 + fy;
        double point[2] = { px + 0.5, py + 0.5 };
        gint64 rect[4];

        if (!npv_heatmap_get_items_at (run->heatmap, point[0], point[1], &rect[0], &rect[1],
                                       &rect[2], &rect[3]))
          {
            fail ("manifest.txt:%u: %s: fitted, no items under (%g, %g), inside the plane's "
                  "extent", line, run->where, point[0], point[1]);
            continue;
          }
        if (under_selection (run, point[0], point[1]))
          continue;
        if (ppi == 1)
          {
            folded_items (ipp, rows, &rect[0], &rect[2]);
            folded_items (ipp, cols, &rect[1], &rect[3]);
          }
        g_array_append_val (points, point);
        g_array_append_val (rects, rect);
        g_string_append_printf (request, "%" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %"
                                G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", rect[0], rect[1],
                                rect[2], rect[3]);
      }

  helper = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                             G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, python_path, script_path,
                             "--rects", path, args[1], args[2], args[3], args[4], args[5],
                             args[6], NULL);
  if (helper == NULL ||
      !g_subprocess_communicate_utf8 (helper, request->str, NULL, &answer, &errors, &error) ||
      !g_subprocess_get_successful (helper))
    {
      fail ("manifest.txt:%u: %s: %s --rects failed: %s%s", line, run->where, script_path,
            error != NULL ? error->message : "", errors != NULL ? errors : "");
      return;
    }
  lines = g_strsplit (answer, "\n", -1);
  if (g_strv_length (lines) < rects->len)
    {
      fail ("manifest.txt:%u: %s: %s --rects answered %u lines for %u rectangles", line,
            run->where, script_path, g_strv_length (lines), rects->len);
      return;
    }
  if (!run_render (run, line))
    return;
  for (guint i = 0; i < rects->len; i++)
    {
      const double *point = &g_array_index (points, double, 2 * i);
      const gint64 *rect = &g_array_index (rects, gint64, 4 * i);
      g_auto(GStrv) fields = g_strsplit (lines[i], " ", -1);
      guint32 expected, got;

      if (g_strv_length (fields) != 3 || !parse_color (fields[0], &expected))
        g_error ("%s --rects: cannot read '%s'", script_path, lines[i]);
      if (!run_pixel (run, point[0], point[1], &got))
        {
          fail ("manifest.txt:%u: %s: (%g, %g) is outside the rendered heatmap", line,
                run->where, point[0], point[1]);
          continue;
        }
      compare_pixel (run, line, z, rect[0], rect[1], rect[2], rect[3], point[0], point[1], got,
                     expected, fields[1], fields[2]);
    }
}

static void
check_selection (Run    *run,
                 guint   line,
                 gint64  r0,
                 gint64  c0,
                 gint64  r1,
                 gint64  c1)
{
  gint64 gr0, gc0, gr1, gc1;
  const char *shown = widget_is_shown (run->heatmap) ? "heatmap" : "grid";

  npv_grid_get_selection (run->grid, &gr0, &gc0, &gr1, &gc1);
  if (gr0 != r0 || gc0 != c0 || gr1 != r1 || gc1 != c1)
    fail ("manifest.txt:%u: %s: with the %s shown the grid's selection is [%" G_GINT64_FORMAT "..%"
          G_GINT64_FORMAT "] x [%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT "], expected [%"
          G_GINT64_FORMAT "..%" G_GINT64_FORMAT "] x [%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT "]",
          line, run->where, shown, gr0, gr1, gc0, gc1, r0, r1, c0, c1);
  if (strcmp (shown, "heatmap") != 0)
    return;
  npv_heatmap_get_selection (run->heatmap, &gr0, &gc0, &gr1, &gc1);
  if (gr0 != r0 || gc0 != c0 || gr1 != r1 || gc1 != c1)
    fail ("manifest.txt:%u: %s: the heatmap's selection is [%" G_GINT64_FORMAT "..%"
          G_GINT64_FORMAT "] x [%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT "], expected [%"
          G_GINT64_FORMAT "..%" G_GINT64_FORMAT "] x [%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT "]",
          line, run->where, gr0, gr1, gc0, gc1, r0, r1, c0, c1);
}

/* A click in the middle of item (@row, @col)'s pixel selects what is under
 * it (drag_end: npv_heatmap_set_selection, then "selection-changed"). */
static void
click (Run   *run,
       guint  line,
       char **args)
{
  int z = (int) parse_int (line, args[0]);
  gint64 row = parse_int (line, args[1]), col = parse_int (line, args[2]);
  gint64 r0, c0, r1, c1;
  double x, y;

  if (z != npv_heatmap_get_zoom (run->heatmap))
    {
      fail ("manifest.txt:%u: %s: the heatmap is at zoom %d, the click is for zoom %d", line,
            run->where, npv_heatmap_get_zoom (run->heatmap), z);
      return;
    }
  if (!show_block (run, line, row, col, &x, &y))
    return;
  check_items_at (run, line, x, y, parse_int (line, args[3]), parse_int (line, args[4]),
                  parse_int (line, args[5]), parse_int (line, args[6]));
  if (!npv_heatmap_get_items_at (run->heatmap, x, y, &r0, &c0, &r1, &c1))
    return;
  npv_heatmap_set_selection (run->heatmap, r0, c0, r1, c1);
  g_signal_emit_by_name (run->heatmap, "selection-changed");
  iterate_past_updates ();
}

static gboolean
cell_has_arrived (gpointer data)
{
  gpointer *wait = data;
  NpvGrid *grid = wait[0];
  gint64 *cell = wait[1];

  return !npv_grid_is_loading (grid) && npv_grid_peek_text (grid, cell[0], cell[1]) != NULL;
}

static void
check_cell (Run        *run,
            guint       line,
            gint64      row,
            gint64      col,
            const char *expected)
{
  gint64 cell[2] = { row, col };
  gpointer wait[2] = { run->grid, cell };
  const char *text;

  /* The cursor stays: the planes checked are on screen whole, or the
   * cell is the one just selected (the grid scrolled to it). */
  if (!iterate_until (cell_has_arrived, wait))
    {
      fail ("manifest.txt:%u: %s: the grid's cell (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
            ") has not arrived after %d s", line, run->where, row, col, WAIT_SECONDS);
      return;
    }
  run->n_checked++;
  text = npv_grid_peek_text (run->grid, row, col);
  if (strcmp (text, expected) != 0)
    fail ("manifest.txt:%u: %s: the grid's cell (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
          ") shows '%s', numpy says '%s'", line, run->where, row, col, text, expected);
}

/* ------------------------------------------------------------------ */
/* Directives */

static void
show_view (Run        *run,
           guint       line,
           const char *view)
{
  if (!gtk_widget_activate_action (GTK_WIDGET (run->window), "win.view", "s", view))
    {
      fail ("manifest.txt:%u: %s: the window has no action win.view", line, run->where);
      run->broken = TRUE;
      return;
    }
  run_invalidate (run);
  if (strcmp (view, "heatmap") == 0)
    {
      if (!iterate_until (widget_is_shown, run->heatmap))
        {
          fail ("manifest.txt:%u: %s: the heatmap is not shown %d s after choosing it", line,
                run->where, WAIT_SECONDS);
          run->broken = TRUE;
          return;
        }
      wait_frames (GTK_WIDGET (run->heatmap));
      wait_picture (run, line, "showing the heatmap");
    }
  else if (!iterate_until (widget_is_shown, run->grid))
    fail ("manifest.txt:%u: %s: the grid is not shown %d s after choosing it", line,
          run->where, WAIT_SECONDS);
}

static void
open_file (Run        *run,
           guint       line,
           const char *name)
{
  g_autofree char *path = files_path (name);
  g_autoptr(GFile) file = g_file_new_for_path (path);

  run_close (run);
  run->where = g_strdup (name);
  run->window = npv_window_new (NULL);
  run->heatmap = npv_window_get_heatmap (run->window);
  run->grid = npv_window_get_grid (run->window);
  npv_window_open (run->window, file, NULL, NULL);
  gtk_window_present (GTK_WINDOW (run->window));
  if (!iterate_until (window_is_settled, run->window) ||
      g_strcmp0 (npv_window_get_page (run->window), "values") != 0)
    {
      fail ("manifest.txt:%u: %s: the window shows the page '%s'%s", line, name,
            npv_window_get_page (run->window),
            npv_window_is_busy (run->window) ? " and is busy" : "");
      run->broken = TRUE;
      return;
    }
  show_view (run, line, "heatmap");
}

static void
choose (Run         *run,
        guint        line,
        GtkDropDown *dropdown,
        guint        index,
        const char  *what)
{
  GListModel *model;

  if (dropdown == NULL)
    return;
  model = gtk_drop_down_get_model (dropdown);
  if (model == NULL || index >= g_list_model_get_n_items (model))
    {
      fail ("manifest.txt:%u: %s: the %s dropdown has no item %u", line, run->where, what, index);
      return;
    }
  gtk_drop_down_set_selected (dropdown, index);
  iterate_past_updates ();
}

static void
set_scale (Run        *run,
           guint       line,
           const char *name)
{
  NpvScale scale;
  NpvColorScale cs;

  if (!npv_scale_from_name (name, &scale))
    g_error ("manifest.txt:%u: no scale '%s'", line, name);
  /* The dropdown lists the scales in NpvScale's order. */
  choose (run, line, colour_dropdown (run, line, 2), scale, "scale");
  npv_heatmap_get_color_scale (run->heatmap, &cs);
  if (cs.scale != scale)
    fail ("manifest.txt:%u: %s: the heatmap's scale is %s after choosing %s", line, run->where,
          npv_scale_get_name (cs.scale), name);
  run_invalidate (run);
}

static void
set_reduction (Run        *run,
               guint       line,
               const char *name)
{
  static const char * const names[] = { "mean", "min", "max" };   /* NpvReduction's order */
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names) && strcmp (names[i], name) != 0; i++)
    ;
  if (i == G_N_ELEMENTS (names))
    g_error ("manifest.txt:%u: no reduction '%s'", line, name);
  choose (run, line, colour_dropdown (run, line, 6), i, "blocks");
  wait_picture (run, line, "choosing the reduction");
}

static void
choose_axis (Run     *run,
             guint    line,
             gboolean rows,
             guint    axis)
{
  GtkWidget *bar = dims_bar (run, line);
  GtkWidget *dropdown = bar != NULL ? bar_child (bar, GTK_TYPE_DROP_DOWN, rows ? 0 : 1) : NULL;

  if (bar != NULL && dropdown == NULL)
    {
      fail ("manifest.txt:%u: %s: the dimension bar has no %s dropdown", line, run->where,
            rows ? "rows" : "columns");
      return;
    }
  choose (run, line, GTK_DROP_DOWN (dropdown), axis, rows ? "rows" : "columns");
  wait_picture (run, line, "choosing an axis");
}

static gboolean
is_spin_of_axis (GtkWidget *widget,
                 gpointer   data)
{
  return GTK_IS_SPIN_BUTTON (widget) &&
         GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (widget), "axis")) == GPOINTER_TO_UINT (data);
}

static void
set_axis (Run    *run,
          guint   line,
          guint   axis,
          double  value)
{
  GtkWidget *bar = dims_bar (run, line);
  GtkWidget *spin = NULL;

  if (bar == NULL)
    return;
  for (GtkWidget *child = gtk_widget_get_first_child (bar); child != NULL && spin == NULL;
       child = gtk_widget_get_next_sibling (child))
    if (is_spin_of_axis (child, GUINT_TO_POINTER (axis)))
      spin = child;
  if (spin == NULL)
    {
      fail ("manifest.txt:%u: %s: the dimension bar has no spin button for axis %u", line,
            run->where, axis);
      return;
    }
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value);
  iterate_past_updates ();
  wait_picture (run, line, "moving a slider");
}

static void
transpose (Run   *run,
           guint  line)
{
  GtkWidget *bar = dims_bar (run, line);
  GtkWidget *button = NULL;

  if (bar == NULL)
    return;
  for (GtkWidget *child = gtk_widget_get_first_child (bar); child != NULL && button == NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_BUTTON (child) &&
        g_strcmp0 (gtk_button_get_icon_name (GTK_BUTTON (child)), "object-flip-horizontal-symbolic") == 0)
      button = child;
  if (button == NULL)
    {
      fail ("manifest.txt:%u: %s: the dimension bar has no transpose button", line, run->where);
      return;
    }
  g_signal_emit_by_name (button, "clicked");
  iterate_past_updates ();
  wait_picture (run, line, "transposing");
}

static void
check_expression (Run        *run,
                  guint       line,
                  const char *expected)
{
  GtkWidget *bar = dims_bar (run, line);
  GtkWidget *label = bar != NULL ? g_object_get_data (G_OBJECT (bar), "expression") : NULL;

  if (label == NULL)
    return;
  if (strcmp (gtk_label_get_text (GTK_LABEL (label)), expected) != 0)
    fail ("manifest.txt:%u: %s: the dimension bar says '%s', expected '%s'", line, run->where,
          gtk_label_get_text (GTK_LABEL (label)), expected);
}

static void
set_zoom (Run   *run,
          guint  line,
          int    zoom)
{
  npv_heatmap_set_zoom (run->heatmap, zoom, -1, -1);
  if (npv_heatmap_get_zoom (run->heatmap) != zoom)
    fail ("manifest.txt:%u: %s: zoom %d asked for, the heatmap is at %d", line, run->where, zoom,
          npv_heatmap_get_zoom (run->heatmap));
  wait_picture (run, line, "zooming");
}

static void
run_directive (Run         *run,
               guint        line,
               const char  *directive,
               char       **args,
               guint        n_args)
{
#define WANT(n) \
  if (n_args != (n)) \
    g_error ("manifest.txt:%u: '%s' wants %u fields, has %u", line, directive, (n), n_args)

  if (strcmp (directive, "open") == 0)
    {
      WANT (1);
      open_file (run, line, args[0]);
      return;
    }
  if (run->window == NULL)
    g_error ("manifest.txt:%u: '%s' before any 'open'", line, directive);
  if (run->broken)
    return;

  if (strcmp (directive, "px") == 0)
    {
      WANT (8);
      check_px (run, line, args);
    }
  else if (strcmp (directive, "range") == 0)
    {
      WANT (2);
      check_range (run, line, parse_double (line, args[0]), parse_double (line, args[1]));
    }
  else if (strcmp (directive, "zoom") == 0)
    {
      WANT (1);
      set_zoom (run, line, (int) parse_int (line, args[0]));
    }
  else if (strcmp (directive, "fit") == 0)
    {
      WANT (7);
      check_fit (run, line, args);
    }
  else if (strcmp (directive, "select") == 0)
    {
      gint64 row, col;

      WANT (2);
      row = parse_int (line, args[0]);
      col = parse_int (line, args[1]);
      npv_grid_set_cursor (run->grid, row, col, FALSE);
      iterate_past_updates ();
      run_invalidate (run);
      check_selection (run, line, row, col, row, col);
    }
  else if (strcmp (directive, "scale") == 0)
    {
      WANT (1);
      set_scale (run, line, args[0]);
    }
  else if (strcmp (directive, "reduction") == 0)
    {
      WANT (1);
      set_reduction (run, line, args[0]);
    }
  else if (strcmp (directive, "view") == 0)
    {
      WANT (1);
      show_view (run, line, args[0]);
    }
  else if (strcmp (directive, "cell") == 0)
    {
      WANT (3);
      check_cell (run, line, parse_int (line, args[0]), parse_int (line, args[1]), args[2]);
    }
  else if (strcmp (directive, "rows-axis") == 0 || strcmp (directive, "cols-axis") == 0)
    {
      WANT (1);
      choose_axis (run, line, directive[0] == 'r', (guint) parse_int (line, args[0]));
    }
  else if (strcmp (directive, "axis") == 0)
    {
      WANT (2);
      set_axis (run, line, (guint) parse_int (line, args[0]), parse_double (line, args[1]));
    }
  else if (strcmp (directive, "transpose") == 0)
    {
      WANT (0);
      transpose (run, line);
    }
  else if (strcmp (directive, "expression") == 0)
    {
      WANT (1);
      check_expression (run, line, args[0]);
    }
  else if (strcmp (directive, "click") == 0)
    {
      WANT (7);
      click (run, line, args);
    }
  else if (strcmp (directive, "selection") == 0)
    {
      WANT (4);
      check_selection (run, line, parse_int (line, args[0]), parse_int (line, args[1]),
                       parse_int (line, args[2]), parse_int (line, args[3]));
    }
  else
    g_error ("manifest.txt:%u: cannot read '%s' with %u fields", line, directive, n_args);
#undef WANT
}

/* Each window starts from the default colours: the settings are shared by
 * the windows of the process, and a case may change them. */
static void
reset_settings (void)
{
  static const char * const keys[] = { "heatmap-colormap", "heatmap-reversed", "heatmap-scale",
                                        "heatmap-range", "heatmap-reduction" };
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettings) settings = NULL;

  if (source == NULL || (schema = g_settings_schema_source_lookup (source, APP_ID, TRUE)) == NULL)
    return;
  settings = g_settings_new (APP_ID);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    g_settings_reset (settings, keys[i]);
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  Run run = { NULL, };
  gint64 start = g_get_monotonic_time ();

  reset_settings ();
  n_allocation_warnings = 0;
  g_clear_pointer (&allocation_warning, g_free);
  for (guint i = 0; i < c->n_lines; i++)
    {
      guint line = c->first_line + i;
      g_auto(GStrv) fields = g_strsplit (manifest[line - 1], "\t", -1);
      guint n = g_strv_length (fields);

      if (n == 0 || fields[0][0] == '#')
        continue;
      current_line = line;
      for (guint k = 1; k < n; k++)
        {
          char *unescaped = g_strcompress (fields[k]);

          g_free (fields[k]);
          fields[k] = unescaped;
        }
      run_directive (&run, line, fields[0], fields + 1, n - 1);
    }
  if (n_allocation_warnings > 0)
    fail ("manifest.txt:%u: %s: GTK warned %u times, first here: '%s'", allocation_warning_line,
          c->name, n_allocation_warnings, allocation_warning);
  if (run.n_mismatched > MAX_REPORTS)
    fprintf (stderr, "FAIL: %s: %u more mismatches not shown\n", c->name,
             run.n_mismatched - MAX_REPORTS);
  g_test_message ("%s: %u pixels and cells checked (%u of them an allowed neighbouring colour, "
                  "%u wrong), the view moved %u times, %u stale pictures, in %.3f s", c->name,
                  run.n_checked, run.n_alternative, run.n_mismatched, run.n_moves, run.n_stale,
                  (g_get_monotonic_time () - start) / 1e6);
  if (!run.broken && run.n_checked < 40)
    fail ("%s: only %u pixels and cells checked", c->name, run.n_checked);
  run_close (&run);
  iterate_for (0.05);
}

static void
read_manifest (void)
{
  g_autofree char *path = files_path ("manifest.txt");
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  Case *current = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &error))
    g_error ("%s (made by gen-heatmap-files.py)", error->message);
  manifest = g_strsplit (contents, "\n", -1);
  cases = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; manifest[i] != NULL; i++)
    {
      if (g_str_has_prefix (manifest[i], "case\t"))
        {
          current = g_new0 (Case, 1);
          current->name = manifest[i] + strlen ("case\t");
          current->first_line = i + 2;
          g_ptr_array_add (cases, current);
        }
      else if (current != NULL && manifest[i][0] != '\0')
        current->n_lines = i + 1 - current->first_line + 1;
    }
  if (cases->len == 0)
    g_error ("%s has no cases", path);
}

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

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_log_set_writer_func (log_writer, g_thread_self (), NULL);
  isolate_home (argc, argv);
  gtk_test_init (&argc, &argv, NULL);
  if (argc < 4)
    g_error ("usage: test-heatmap DIR PYTHON GEN-HEATMAP-FILES.PY (DIR made by the script)");
  files_dir = argv[1];
  python_path = argv[2];
  script_path = argv[3];
  read_manifest ();

  renderer = gsk_cairo_renderer_new ();
  if (!gsk_renderer_realize (renderer, NULL, &error))
    g_error ("cannot realize a cairo renderer: %s", error->message);

  for (guint i = 0; i < cases->len; i++)
    {
      const Case *c = g_ptr_array_index (cases, i);
      g_autofree char *path = g_strdup_printf ("/heatmap/%s", c->name);

      g_test_add_data_func (path, c, test_case);
    }
  status = g_test_run ();

  gsk_renderer_unrealize (renderer);
  g_object_unref (renderer);
  g_ptr_array_unref (cases);
  g_strfreev (manifest);
  return status;
}
