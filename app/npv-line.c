/* npv-line.c: a line plot of a 1-D run of values, with min/max envelopes
 *
 * The values are a pyramid over an (n, 1) plane, so an envelope at any
 * zoom comes from the level whose blocks are no wider than a pixel: a
 * billion points cost a few thousand blocks per frame, not a billion
 * reads. Zoomed in to less than an item per pixel, the items themselves
 * are joined by lines (and dotted when far apart).
 *
 * Envelopes are made on the worker pool for the current x range; a new
 * range cancels the work for the old one, and the last envelope is drawn
 * until the new one arrives.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-line"

#include "config.h"

#include "npv-line.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "npv-plane.h"

#define MARGIN_LEFT 72
#define MARGIN_RIGHT 16
#define MARGIN_TOP 28
#define MARGIN_BOTTOM 26

typedef struct
{
  double first;                /* item at the left edge */
  double ipp;                  /* items per pixel */
  int width;                   /* pixels */
  gboolean per_item;           /* units are items (zoomed in), else pixels */
  gint64 item0;                /* per_item: the first item */
  guint n;                     /* units */
  double *min, *max, *mean;
} Envelope;

struct _NpvLine
{
  GtkWidget parent_instance;

  NpvArray *values;
  NpvPyramid *pyramid;
  char *message;
  char *caption;
  gint64 n;

  double first, ipp;
  gboolean fitted;

  Envelope *envelope;          /* the last one made */
  GCancellable *cancellable;   /* for the one being made */
  guint generation;
  guint update_source;

  gboolean has_hover;
  double hover_x;
  double drag_first;
  double scroll_acc;
};

G_DEFINE_FINAL_TYPE (NpvLine, npv_line, GTK_TYPE_WIDGET)

enum {
  HOVER_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void schedule_update (NpvLine *self);

static void
envelope_free (Envelope *env)
{
  if (env == NULL)
    return;
  g_free (env->min);
  g_free (env->max);
  g_free (env->mean);
  g_free (env);
}

/* ------------------------------------------------------------------ */
/* Geometry */

void
npv_line_get_plot_area (NpvLine         *self,
                        graphene_rect_t *rect)
{
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  int h = gtk_widget_get_height (GTK_WIDGET (self));

  graphene_rect_init (rect, MARGIN_LEFT, MARGIN_TOP, MAX (w - MARGIN_LEFT - MARGIN_RIGHT, 1),
                      MAX (h - MARGIN_TOP - MARGIN_BOTTOM, 1));
}

static int
plot_width (NpvLine *self)
{
  graphene_rect_t r;

  npv_line_get_plot_area (self, &r);
  return (int) r.size.width;
}

static double
min_ipp (void)
{
  return 1.0 / 64;             /* 64 pixels between items at most */
}

static void
clamp_view (NpvLine *self)
{
  double w = plot_width (self);
  double max_ipp = MAX ((double) self->n / w, min_ipp ());

  self->ipp = CLAMP (self->ipp, min_ipp (), max_ipp);
  if (self->n <= 0)
    self->first = 0;
  else if (self->ipp * w >= self->n)
    self->first = 0;
  else
    self->first = CLAMP (self->first, 0, self->n - self->ipp * w);
}

void
npv_line_get_x_range (NpvLine *self,
                      double  *first,
                      double  *count)
{
  *first = self->first;
  *count = MIN (self->ipp * plot_width (self), (double) self->n);
}

double
npv_line_get_items_per_pixel (NpvLine *self)
{
  return self->ipp;
}

/* ------------------------------------------------------------------ */
/* Envelopes */

typedef struct
{
  GWeakRef line;
  NpvPyramid *pyramid;
  gint64 n;
  double first, ipp;
  int width;
  guint generation;
} EnvJob;

static void
env_job_free (EnvJob *job)
{
  g_weak_ref_clear (&job->line);
  g_clear_pointer (&job->pyramid, npv_pyramid_unref);
  g_free (job);
}

/* Folds blocks [b0, b1] of @level into min, max, sum and count, fetching
 * the tiles they are in. */
static gboolean
fold_blocks (NpvPyramid   *pyramid,
             guint         level,
             gint64        b0,
             gint64        b1,
             NpvBlocks   **tile,
             double       *mn,
             double       *mx,
             double       *sum,
             double       *count,
             GCancellable *cancellable,
             GError      **error)
{
  for (gint64 b = b0; b <= b1; b++)
    {
      gint64 t = b / NPV_PYRAMID_TILE;
      guint i;

      if (*tile == NULL || (*tile)->level != level || (*tile)->row != t * NPV_PYRAMID_TILE)
        {
          g_clear_pointer (tile, npv_blocks_unref);
          *tile = npv_pyramid_get_tile (pyramid, level, t, 0, 0, cancellable, error);
          if (*tile == NULL)
            return FALSE;
        }
      i = (guint) (b - (*tile)->row);
      *mn = MIN (*mn, (*tile)->min[i]);
      *mx = MAX (*mx, (*tile)->max[i]);
      *sum += (*tile)->sum[i];
      *count += (*tile)->count[i];
    }
  return TRUE;
}

static void
envelope_in_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  EnvJob *job = task_data;
  Envelope *env = g_new0 (Envelope, 1);
  g_autoptr(NpvBlocks) tile = NULL;
  GError *error = NULL;
  guint level = 0;

  env->first = job->first;
  env->ipp = job->ipp;
  env->width = job->width;
  env->per_item = job->ipp <= 1;
  if (env->per_item)
    {
      gint64 last = MIN (job->n - 1, (gint64) ceil (job->first + job->ipp * job->width));

      env->item0 = MAX (0, (gint64) floor (job->first));
      env->n = (guint) MAX (0, last - env->item0 + 1);
    }
  else
    {
      env->n = (guint) job->width;
      while (ldexp (1.0, (int) level + 1) <= job->ipp)
        level++;
    }
  env->min = g_new (double, MAX (env->n, 1));
  env->max = g_new (double, MAX (env->n, 1));
  env->mean = g_new (double, MAX (env->n, 1));

  for (guint u = 0; u < env->n; u++)
    {
      double mn = INFINITY, mx = -INFINITY, sum = 0, count = 0;
      gint64 i0, i1;

      if (env->per_item)
        i0 = i1 = env->item0 + u;
      else
        {
          i0 = (gint64) floor (job->first + u * job->ipp);
          i1 = MIN ((gint64) floor (job->first + (u + 1) * job->ipp), job->n) - 1;
          i1 = MAX (i0, i1);
        }
      if (i0 >= job->n)
        {
          env->min[u] = env->max[u] = env->mean[u] = NAN;
          continue;
        }
      if ((u & 63) == 0 && g_cancellable_is_cancelled (cancellable))
        break;
      if (!fold_blocks (job->pyramid, level, i0 >> level, i1 >> level, &tile, &mn, &mx, &sum,
                        &count, cancellable, &error))
        {
          envelope_free (env);
          g_task_return_error (task, error);
          return;
        }
      env->min[u] = mn <= mx ? mn : NAN;
      env->max[u] = mn <= mx ? mx : NAN;
      env->mean[u] = count > 0 ? sum / count : env->min[u];
    }
  if (g_task_return_error_if_cancelled (task))
    {
      envelope_free (env);
      return;
    }
  g_task_return_pointer (task, env, (GDestroyNotify) envelope_free);
}

static void
envelope_done (GObject      *object,
               GAsyncResult *res,
               gpointer      user_data)
{
  GTask *task = G_TASK (res);
  EnvJob *job = g_task_get_task_data (task);
  g_autoptr(NpvLine) self = g_weak_ref_get (&job->line);
  g_autoptr(GError) error = NULL;
  Envelope *env = g_task_propagate_pointer (task, &error);

  if (self == NULL || job->generation != self->generation ||
      g_task_get_cancellable (task) != self->cancellable)
    {
      envelope_free (env);
      return;
    }
  g_clear_object (&self->cancellable);
  if (env == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_free (self->message);
          self->message = g_strdup (error->message);
        }
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  envelope_free (self->envelope);
  self->envelope = env;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (self->has_hover)
    g_signal_emit (self, signals[HOVER_CHANGED], 0);
}

static gboolean
envelope_matches (NpvLine *self)
{
  return self->envelope != NULL && self->envelope->first == self->first &&
         self->envelope->ipp == self->ipp && self->envelope->width == plot_width (self);
}

static gboolean
update_envelope (gpointer user_data)
{
  NpvLine *self = user_data;
  EnvJob *job;
  g_autoptr(GTask) task = NULL;

  self->update_source = 0;
  if (self->pyramid == NULL || self->n == 0 || envelope_matches (self))
    return G_SOURCE_REMOVE;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  job = g_new0 (EnvJob, 1);
  g_weak_ref_init (&job->line, self);
  job->pyramid = npv_pyramid_ref (self->pyramid);
  job->n = self->n;
  job->first = self->first;
  job->ipp = self->ipp;
  job->width = plot_width (self);
  job->generation = self->generation;

  task = g_task_new (NULL, self->cancellable, envelope_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) env_job_free);
  g_task_run_in_thread (task, envelope_in_thread);
  return G_SOURCE_REMOVE;
}

static void
schedule_update (NpvLine *self)
{
  if (self->update_source == 0)
    self->update_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE + 10, update_envelope, self, NULL);
}

gboolean
npv_line_is_loading (NpvLine *self)
{
  return self->pyramid != NULL && self->n > 0 && !envelope_matches (self);
}

/* ------------------------------------------------------------------ */
/* Public */

GtkWidget *
npv_line_new (void)
{
  return g_object_new (NPV_TYPE_LINE, NULL);
}

void
npv_line_set_values (NpvLine  *self,
                     NpvArray *values,
                     NpvPart   part)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (NPV_IS_LINE (self));
  g_return_if_fail (values == NULL || values->ndim == 1);

  self->generation++;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->envelope, envelope_free);
  g_clear_pointer (&self->pyramid, npv_pyramid_unref);
  g_clear_pointer (&self->message, g_free);
  if (values != NULL)
    npv_array_ref (values);
  g_clear_pointer (&self->values, npv_array_unref);
  self->values = values;
  self->n = 0;
  if (values != NULL)
    {
      NpvPlane plane;
      g_autoptr(NpvArray) column = NULL;

      npv_plane_init_default (&plane, values);
      column = npv_plane_apply (&plane, values, &error);
      if (column != NULL)
        self->pyramid = npv_pyramid_new (column, part, 0, &error);
      if (self->pyramid == NULL)
        self->message = g_strdup (error->message);
      else
        self->n = values->shape[0];
    }
  if (self->fitted || self->first >= self->n)
    npv_line_zoom_fit (self);
  else
    {
      clamp_view (self);
      schedule_update (self);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
npv_line_set_caption (NpvLine    *self,
                      const char *caption)
{
  g_free (self->caption);
  self->caption = g_strdup (caption);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
npv_line_zoom_fit (NpvLine *self)
{
  self->fitted = TRUE;
  self->first = 0;
  self->ipp = MAX ((double) self->n / plot_width (self), min_ipp ());
  clamp_view (self);
  schedule_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
npv_line_zoom (NpvLine *self,
               double   factor,
               double   x)
{
  graphene_rect_t r;
  double at;

  npv_line_get_plot_area (self, &r);
  if (x < 0)
    x = r.origin.x + r.size.width / 2;
  x = CLAMP (x - r.origin.x, 0, r.size.width);
  at = self->first + x * self->ipp;
  self->ipp /= factor;
  self->first = at - x * self->ipp;
  self->fitted = FALSE;
  clamp_view (self);
  schedule_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
y_range (NpvLine *self,
         double  *lo,
         double  *hi)
{
  Envelope *env = self->envelope;
  double mn = INFINITY, mx = -INFINITY;

  if (env == NULL)
    return FALSE;
  for (guint u = 0; u < env->n; u++)
    {
      if (isfinite (env->min[u]))
        mn = MIN (mn, env->min[u]);
      if (isfinite (env->max[u]))
        mx = MAX (mx, env->max[u]);
    }
  if (mn > mx)
    return FALSE;
  if (mn == mx)
    {
      double d = mn == 0 ? 1 : fabs (mn) * 0.5;

      mn -= d;
      mx += d;
    }
  else
    {
      double pad = (mx - mn) * 0.05;

      mn -= pad;
      mx += pad;
    }
  *lo = mn;
  *hi = mx;
  return TRUE;
}

gboolean
npv_line_get_y_range (NpvLine *self,
                      double  *lo,
                      double  *hi)
{
  return y_range (self, lo, hi);
}

gboolean
npv_line_get_column (NpvLine *self,
                     int      x,
                     double  *min,
                     double  *max)
{
  Envelope *env = self->envelope;

  if (env == NULL || env->per_item || x < 0 || (guint) x >= env->n)
    return FALSE;
  *min = env->min[x];
  *max = env->max[x];
  return TRUE;
}

gboolean
npv_line_get_hover (NpvLine *self,
                    gint64  *first,
                    gint64  *last,
                    double  *min,
                    double  *max)
{
  Envelope *env = self->envelope;
  graphene_rect_t r;
  double x;

  if (!self->has_hover || env == NULL || !envelope_matches (self))
    return FALSE;
  npv_line_get_plot_area (self, &r);
  x = self->hover_x - r.origin.x;
  if (x < 0 || x >= r.size.width)
    return FALSE;
  if (env->per_item)
    {
      gint64 item = (gint64) floor (self->first + x * self->ipp);
      gint64 k = item - env->item0;

      if (item < 0 || item >= self->n || k < 0 || k >= env->n)
        return FALSE;
      *first = *last = item;
      *min = env->min[k];
      *max = env->max[k];
      return TRUE;
    }
  {
    guint u = (guint) x;
    gint64 i0 = (gint64) floor (self->first + u * self->ipp);
    gint64 i1 = MIN ((gint64) floor (self->first + (u + 1) * self->ipp), self->n) - 1;

    if (u >= env->n || i0 >= self->n)
      return FALSE;
    *first = i0;
    *last = MAX (i0, i1);
    *min = env->min[u];
    *max = env->max[u];
    return TRUE;
  }
}

/* ------------------------------------------------------------------ */
/* Drawing */

static double
nice_step (double span,
           int    n)
{
  double raw = span / MAX (n, 1);
  double p = pow (10, floor (log10 (raw)));
  double m = raw / p;

  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void
draw_text (NpvLine      *self,
           cairo_t      *cr,
           const char   *text,
           double        x,
           double        y,
           double        ax,
           double        ay)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, round (x - ax * w), round (y - ay * h));
  pango_cairo_show_layout (cr, layout);
}

static void
npv_line_snapshot (GtkWidget   *widget,
                   GtkSnapshot *snapshot)
{
  NpvLine *self = NPV_LINE (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  Envelope *env = self->envelope;
  graphene_rect_t r;
  GdkRGBA fg, accent;
  GtkStyleContext *context = gtk_widget_get_style_context (widget);
  cairo_t *cr;
  double lo, hi;

  gtk_style_context_get_color (context, &fg);
  if (!gtk_style_context_lookup_color (context, "accent_bg_color", &accent) &&
      !gtk_style_context_lookup_color (context, "theme_selected_bg_color", &accent))
    gdk_rgba_parse (&accent, "#3584e4");

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  npv_line_get_plot_area (self, &r);

  if (self->caption != NULL)
    {
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.7);
      draw_text (self, cr, self->caption, r.origin.x, 6, 0, 0);
    }

  if (self->pyramid == NULL || self->n == 0 || !y_range (self, &lo, &hi))
    {
      const char *text = self->message != NULL ? self->message
                         : self->values != NULL && self->n == 0 ? _("No values")
                         : self->values != NULL ? _("Loading…")
                                                : "";

      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.7);
      draw_text (self, cr, text, w / 2.0, h / 2.0, 0.5, 0.5);
      cairo_destroy (cr);
      return;
    }

  /* frame and ticks */
  cairo_set_line_width (cr, 1);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.25);
  cairo_rectangle (cr, r.origin.x - 0.5, r.origin.y - 0.5, r.size.width + 1, r.size.height + 1);
  cairo_stroke (cr);
  {
    double step = nice_step (hi - lo, MAX (2, (int) (r.size.height / 50)));
    double count = MIN (self->ipp * r.size.width, (double) self->n);
    double xstep = MAX (1, nice_step (count, MAX (2, (int) (r.size.width / 100))));

    for (double v = ceil (lo / step) * step; v <= hi; v += step)
      {
        double y = r.origin.y + (hi - v) / (hi - lo) * r.size.height;
        char text[32];

        cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.08);
        cairo_move_to (cr, r.origin.x, round (y) + 0.5);
        cairo_line_to (cr, r.origin.x + r.size.width, round (y) + 0.5);
        cairo_stroke (cr);
        g_snprintf (text, sizeof text, "%.4g", fabs (v) < step * 1e-9 ? 0.0 : v);
        cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.75);
        draw_text (self, cr, text, r.origin.x - 6, y, 1, 0.5);
      }
    for (double v = ceil (self->first / xstep) * xstep; v < self->first + count; v += xstep)
      {
        double x = r.origin.x + (v + (self->ipp < 1 ? 0.5 : 0) - self->first) / self->ipp;
        char text[32];

        cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.75);
        cairo_move_to (cr, round (x) + 0.5, r.origin.y + r.size.height);
        cairo_line_to (cr, round (x) + 0.5, r.origin.y + r.size.height + 4);
        cairo_stroke (cr);
        g_snprintf (text, sizeof text, "%.0f", v);
        draw_text (self, cr, text, x, r.origin.y + r.size.height + 5, 0.5, 0);
      }
  }

  cairo_save (cr);
  cairo_rectangle (cr, r.origin.x, r.origin.y, r.size.width, r.size.height);
  cairo_clip (cr);
  cairo_set_source_rgba (cr, accent.red, accent.green, accent.blue, 1);
  if (env->per_item)
    {
      gboolean pen = FALSE;
      double spacing = 1 / env->ipp;

      /* items at the centres of their spans, joined; NaN breaks the line */
      cairo_set_line_width (cr, 1.5);
      for (guint k = 0; k < env->n; k++)
        {
          double v = env->mean[k];
          double x = r.origin.x + ((double) (env->item0 + k) + 0.5 - env->first) / env->ipp;
          double y = r.origin.y + (hi - CLAMP (v, lo, hi)) / (hi - lo) * r.size.height;

          if (!isfinite (v))
            {
              pen = FALSE;
              continue;
            }
          if (pen)
            cairo_line_to (cr, x, y);
          else
            cairo_move_to (cr, x, y);
          pen = TRUE;
        }
      cairo_stroke (cr);
      if (spacing >= 6)
        for (guint k = 0; k < env->n; k++)
          {
            double v = env->mean[k];
            double x = r.origin.x + ((double) (env->item0 + k) + 0.5 - env->first) / env->ipp;
            double y = r.origin.y + (hi - CLAMP (v, lo, hi)) / (hi - lo) * r.size.height;

            if (!isfinite (v))
              continue;
            cairo_arc (cr, x, y, 2.5, 0, 2 * G_PI);
            cairo_fill (cr);
          }
    }
  else
    {
      gboolean pen = FALSE;

      /* each pixel column spans its items' min to max */
      cairo_set_source_rgba (cr, accent.red, accent.green, accent.blue, 0.45);
      for (guint u = 0; u < env->n; u++)
        {
          double a = env->min[u], b = env->max[u];
          double y0, y1;

          if (isnan (a) || isnan (b))
            continue;
          y0 = r.origin.y + (hi - CLAMP (b, lo, hi)) / (hi - lo) * r.size.height;
          y1 = r.origin.y + (hi - CLAMP (a, lo, hi)) / (hi - lo) * r.size.height;
          cairo_rectangle (cr, r.origin.x + u, floor (y0), 1, MAX (1, ceil (y1) - floor (y0)));
        }
      cairo_fill (cr);
      cairo_set_source_rgba (cr, accent.red, accent.green, accent.blue, 1);
      cairo_set_line_width (cr, 1);
      for (guint u = 0; u < env->n; u++)
        {
          double v = env->mean[u];
          double x = r.origin.x + u + 0.5;
          double y = r.origin.y + (hi - CLAMP (v, lo, hi)) / (hi - lo) * r.size.height;

          if (!isfinite (v))
            {
              pen = FALSE;
              continue;
            }
          if (pen)
            cairo_line_to (cr, x, y);
          else
            cairo_move_to (cr, x, y);
          pen = TRUE;
        }
      cairo_stroke (cr);
    }

  if (self->has_hover && self->hover_x >= r.origin.x && self->hover_x < r.origin.x + r.size.width)
    {
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.4);
      cairo_move_to (cr, floor (self->hover_x) + 0.5, r.origin.y);
      cairo_line_to (cr, floor (self->hover_x) + 0.5, r.origin.y + r.size.height);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
  cairo_destroy (cr);
}

static void
npv_line_measure (GtkWidget      *widget,
                  GtkOrientation  orientation,
                  int             for_size,
                  int            *minimum,
                  int            *natural,
                  int            *minimum_baseline,
                  int            *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? MARGIN_LEFT + MARGIN_RIGHT + 64
                                                        : MARGIN_TOP + MARGIN_BOTTOM + 64;
  *natural = *minimum + 400;
}

static void
npv_line_size_allocate (GtkWidget *widget,
                        int        width,
                        int        height,
                        int        baseline)
{
  NpvLine *self = NPV_LINE (widget);

  if (self->fitted)
    npv_line_zoom_fit (self);
  else
    {
      clamp_view (self);
      schedule_update (self);
    }
}

/* ------------------------------------------------------------------ */
/* Input */

static void
motion (GtkEventControllerMotion *controller,
        double                    x,
        double                    y,
        NpvLine                  *self)
{
  self->has_hover = TRUE;
  self->hover_x = x;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[HOVER_CHANGED], 0);
}

static void
leave (GtkEventControllerMotion *controller,
       NpvLine                  *self)
{
  self->has_hover = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[HOVER_CHANGED], 0);
}

static gboolean
scroll (GtkEventControllerScroll *controller,
        double                    dx,
        double                    dy,
        NpvLine                  *self)
{
  GdkScrollUnit unit = gtk_event_controller_scroll_get_unit (controller);

  self->scroll_acc += unit == GDK_SCROLL_UNIT_WHEEL ? dy : dy / 20;
  if (fabs (self->scroll_acc) < 1)
    return TRUE;
  npv_line_zoom (self, self->scroll_acc < 0 ? 2 : 0.5, self->has_hover ? self->hover_x : -1);
  self->scroll_acc = 0;
  return TRUE;
}

static void
drag_begin (GtkGestureDrag *gesture,
            double          x,
            double          y,
            NpvLine        *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
  self->drag_first = self->first;
}

static void
drag_update (GtkGestureDrag *gesture,
             double          dx,
             double          dy,
             NpvLine        *self)
{
  self->first = self->drag_first - dx * self->ipp;
  self->fitted = FALSE;
  clamp_view (self);
  schedule_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
zoom_binding (GtkWidget *widget,
              GVariant  *args,
              gpointer   user_data)
{
  NpvLine *self = NPV_LINE (widget);
  const char *what = g_variant_get_string (args, NULL);

  if (strcmp (what, "in") == 0)
    npv_line_zoom (self, 2, -1);
  else if (strcmp (what, "out") == 0)
    npv_line_zoom (self, 0.5, -1);
  else if (strcmp (what, "fit") == 0)
    npv_line_zoom_fit (self);
  else
    npv_line_zoom (self, self->ipp, -1);
  return TRUE;
}

static gboolean
pan_binding (GtkWidget *widget,
             GVariant  *args,
             gpointer   user_data)
{
  NpvLine *self = NPV_LINE (widget);

  self->first += g_variant_get_int32 (args) * 64 * self->ipp;
  self->fitted = FALSE;
  clamp_view (self);
  schedule_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* GObject */

static void
npv_line_dispose (GObject *object)
{
  NpvLine *self = NPV_LINE (object);

  g_clear_handle_id (&self->update_source, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (npv_line_parent_class)->dispose (object);
}

static void
npv_line_finalize (GObject *object)
{
  NpvLine *self = NPV_LINE (object);

  envelope_free (self->envelope);
  g_clear_pointer (&self->pyramid, npv_pyramid_unref);
  g_clear_pointer (&self->values, npv_array_unref);
  g_free (self->message);
  g_free (self->caption);
  G_OBJECT_CLASS (npv_line_parent_class)->finalize (object);
}

static void
npv_line_class_init (NpvLineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  const struct { guint key; const char *what; } zooms[] = {
    { GDK_KEY_plus, "in" }, { GDK_KEY_equal, "in" }, { GDK_KEY_KP_Add, "in" },
    { GDK_KEY_minus, "out" }, { GDK_KEY_KP_Subtract, "out" },
    { GDK_KEY_0, "fit" }, { GDK_KEY_KP_0, "fit" }, { GDK_KEY_1, "one" }, { GDK_KEY_KP_1, "one" },
  };

  object_class->dispose = npv_line_dispose;
  object_class->finalize = npv_line_finalize;
  widget_class->snapshot = npv_line_snapshot;
  widget_class->measure = npv_line_measure;
  widget_class->size_allocate = npv_line_size_allocate;

  signals[HOVER_CHANGED] = g_signal_new ("hover-changed", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  for (guint i = 0; i < G_N_ELEMENTS (zooms); i++)
    gtk_widget_class_add_binding (widget_class, zooms[i].key, 0, zoom_binding, "s", zooms[i].what);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Left, 0, pan_binding, "i", -1);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Right, 0, pan_binding, "i", 1);
  gtk_widget_class_set_css_name (widget_class, "npv-line");
}

static void
npv_line_init (NpvLine *self)
{
  GtkGesture *drag;
  GtkEventController *controller;

  self->fitted = TRUE;
  self->ipp = 1;
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "motion", G_CALLBACK (motion), self);
  g_signal_connect (controller, "leave", G_CALLBACK (leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (controller, "scroll", G_CALLBACK (scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}
