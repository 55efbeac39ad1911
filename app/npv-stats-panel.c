/* npv-stats-panel.c: statistics of the whole array and of the plane
 *
 * Two targets, the whole member and the plane on screen, each computed in
 * two steps on the worker pool: a sample (every k-th index along the
 * first axis, about a million items) answers at once and is labelled
 * approximate; the exact pass follows with a progress bar. Each step is a
 * statistics pass then a histogram pass over [min, max]. The panel holds
 * its jobs weakly; a new array cancels them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-stats-panel"

#include "config.h"

#include "npv-stats-panel.h"

#include <math.h>

#include <glib/gi18n.h>

#include "npv-value.h"

#define HIST_BINS 4096          /* for percentiles */
#define DRAWN_BINS 64
#define SAMPLE_ITEMS ((gint64) 1 << 20)

typedef enum {
  TARGET_ARRAY,
  TARGET_PLANE,
  N_TARGETS
} Target;

typedef struct
{
  NpvArray *array;
  GCancellable *cancellable;
  gint64 *progress;            /* items done, written by the workers (an rc box) */
  gint64 total;                /* items to do in both passes */
  gboolean have;
  gboolean exact;
  NpvStats stats;
  NpvHistogram histogram;
  char *error;
  GtkWidget *heading;
  GtkWidget *grid;
  GtkWidget *state;
  GtkWidget *histogram_area;
} TargetState;

struct _NpvStatsPanel
{
  GtkBox parent_instance;

  NpvPart part;
  TargetState targets[N_TARGETS];
  GtkWidget *progress_box;
  GtkProgressBar *progress_bar;
  guint progress_source;
};

G_DEFINE_FINAL_TYPE (NpvStatsPanel, npv_stats_panel, GTK_TYPE_BOX)

/* ------------------------------------------------------------------ */
/* Work */

typedef struct
{
  GWeakRef panel;
  Target target;
  NpvArray *array;             /* what to reduce: the target's, or a sample of it */
  NpvPart part;
  gboolean exact;
  gint64 *progress;            /* shared with the panel: an rc box */
  NpvStats stats;
  NpvHistogram histogram;
} StatsJob;

static void
stats_job_free (StatsJob *job)
{
  g_weak_ref_clear (&job->panel);
  g_clear_pointer (&job->array, npv_array_unref);
  g_clear_pointer (&job->progress, g_atomic_rc_box_release);
  npv_histogram_clear (&job->histogram);
  g_free (job);
}

static void
stats_in_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  StatsJob *job = task_data;
  GError *error = NULL;
  double lo, hi;

  if (!npv_array_compute_stats_full (job->array, job->part, 0, job->exact ? job->progress : NULL,
                                     cancellable, &job->stats, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* infinities lie outside: the bins span the finite values */
  lo = job->stats.finite_min;
  hi = job->stats.finite_max;
  if (!isfinite (lo) || !isfinite (hi))
    lo = 0, hi = 1;
  if (!npv_array_compute_histogram (job->array, job->part, lo, hi, HIST_BINS, 0,
                                    job->exact ? job->progress : NULL, cancellable,
                                    &job->histogram, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void start_job (NpvStatsPanel *self, Target target, gboolean exact);
static void update_target (NpvStatsPanel *self, Target target);
static void update_progress (NpvStatsPanel *self);

static void
stats_done (GObject      *object,
            GAsyncResult *res,
            gpointer      user_data)
{
  GTask *task = G_TASK (res);
  StatsJob *job = g_task_get_task_data (task);
  g_autoptr(NpvStatsPanel) self = g_weak_ref_get (&job->panel);
  g_autoptr(GError) error = NULL;
  TargetState *state;

  if (self == NULL)
    return;
  state = &self->targets[job->target];
  if (g_task_get_cancellable (task) != state->cancellable)
    return;
  if (!g_task_propagate_boolean (task, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_free (state->error);
          state->error = g_strdup (error->message);
        }
      g_clear_object (&state->cancellable);
      update_target (self, job->target);
      update_progress (self);
      return;
    }

  npv_histogram_clear (&state->histogram);
  state->stats = job->stats;
  state->histogram = job->histogram;
  job->histogram.counts = NULL;
  state->have = TRUE;
  state->exact = job->exact;
  g_clear_object (&state->cancellable);
  update_target (self, job->target);
  if (!job->exact)
    start_job (self, job->target, TRUE);
  update_progress (self);
  g_signal_emit_by_name (self, "changed", job->target == TARGET_ARRAY);
}

/* Every k-th index along the first axis: about SAMPLE_ITEMS items. */
static NpvArray *
sample_of (NpvArray *array)
{
  NpvIndex index = { 0 };
  gint64 per = array->shape[0] > 0 ? array->count / array->shape[0] : 0;
  gint64 step;

  if (array->ndim == 0 || per == 0)
    return npv_array_ref (array);
  step = MAX (1, array->count / SAMPLE_ITEMS);
  step = MIN (step, array->shape[0]);
  index.n_items = 1;
  index.items[0].kind = NPV_INDEX_SLICE;
  index.items[0].has_step = TRUE;
  index.items[0].step = step;
  return npv_array_apply_index (array, &index, NULL);
}

static void
start_job (NpvStatsPanel *self,
           Target         target,
           gboolean       exact)
{
  TargetState *state = &self->targets[target];
  StatsJob *job;
  g_autoptr(GTask) task = NULL;

  g_cancellable_cancel (state->cancellable);
  g_clear_object (&state->cancellable);
  if (state->array == NULL)
    return;

  job = g_new0 (StatsJob, 1);
  g_weak_ref_init (&job->panel, self);
  job->target = target;
  job->part = self->part;
  job->exact = exact;
  job->array = exact ? npv_array_ref (state->array) : sample_of (state->array);
  if (job->array == NULL)
    job->array = npv_array_ref (state->array);
  g_clear_pointer (&state->progress, g_atomic_rc_box_release);
  state->progress = g_atomic_rc_box_new0 (gint64);
  job->progress = g_atomic_rc_box_acquire (state->progress);
  state->total = 2 * state->array->count;

  state->cancellable = g_cancellable_new ();
  task = g_task_new (NULL, state->cancellable, stats_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) stats_job_free);
  g_task_run_in_thread (task, stats_in_thread);
}

/* ------------------------------------------------------------------ */
/* Showing */

/* The fewest digits that read back to @v (as a float32 when @single). */
static char *
shortest (double   v,
          gboolean single)
{
  char buf[40];

  for (int digits = 1; digits <= 17; digits++)
    {
      g_snprintf (buf, sizeof buf, "%.*g", digits, v);
      if (single ? (float) g_ascii_strtod (buf, NULL) == (float) v : g_ascii_strtod (buf, NULL) == v)
        break;
    }
  return g_strdup (buf);
}

static char *
format_number (const NpvStats *stats,
               double          v,
               gboolean        extreme,
               gboolean        is_max,
               gboolean        single)
{
  if (extreme && stats->is_integer && stats->count > stats->nan_count)
    {
      if (stats->is_unsigned)
        return g_strdup_printf ("%" G_GUINT64_FORMAT, is_max ? stats->umax : stats->umin);
      return g_strdup_printf ("%" G_GINT64_FORMAT, is_max ? stats->imax : stats->imin);
    }
  if (isnan (v))
    return g_strdup ("nan");
  if (isinf (v))
    return g_strdup (v > 0 ? "inf" : "-inf");
  /* the extremes are values of the array: as short as their dtype allows */
  return shortest (v, extreme && single);
}

static void
grid_row (GtkGrid    *grid,
          int         row,
          const char *label,
          const char *value)
{
  GtkWidget *key = gtk_grid_get_child_at (grid, 0, row);
  GtkWidget *val = gtk_grid_get_child_at (grid, 1, row);

  if (key == NULL)
    {
      key = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (key), 1);
      gtk_widget_add_css_class (key, "dim-label");
      gtk_grid_attach (grid, key, 0, row, 1, 1);
      val = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (val), 0);
      gtk_label_set_selectable (GTK_LABEL (val), TRUE);
      gtk_label_set_ellipsize (GTK_LABEL (val), PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (val, "numeric");
      gtk_widget_set_hexpand (val, TRUE);
      gtk_grid_attach (grid, val, 1, row, 1, 1);
    }
  gtk_label_set_text (GTK_LABEL (key), label);
  gtk_label_set_text (GTK_LABEL (val), value);
  gtk_widget_set_visible (key, TRUE);
  gtk_widget_set_visible (val, TRUE);
}

static void
update_target (NpvStatsPanel *self,
               Target         target)
{
  TargetState *state = &self->targets[target];
  GtkGrid *grid = GTK_GRID (state->grid);
  const NpvStats *s = &state->stats;

  gtk_widget_set_visible (state->heading, state->array != NULL);
  gtk_widget_set_visible (state->grid, state->array != NULL && state->have);
  gtk_widget_set_visible (state->histogram_area, state->array != NULL && state->have);
  gtk_widget_set_visible (state->state, state->array != NULL);
  if (state->array == NULL)
    return;

  if (state->error != NULL)
    gtk_label_set_text (GTK_LABEL (state->state), state->error);
  else if (!state->have)
    gtk_label_set_text (GTK_LABEL (state->state), _("Computing…"));
  else if (!state->exact)
    gtk_label_set_text (GTK_LABEL (state->state), _("Approximate: from a sample, exact values follow"));
  else
    gtk_label_set_text (GTK_LABEL (state->state), _("Exact"));

  if (state->have)
    {
      g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, s->count);
      /* float32 values (and parts of complex64 ones) print as float32 */
      gboolean single = state->array->dtype->kind == NPV_KIND_FLOAT ? state->array->dtype->itemsize == 4
                        : state->array->dtype->kind == NPV_KIND_COMPLEX && state->array->dtype->itemsize == 8 &&
                          (self->part == NPV_PART_REAL || self->part == NPV_PART_IMAG);
      g_autofree char *mn = format_number (s, s->min, TRUE, FALSE, single);
      g_autofree char *mx = format_number (s, s->max, TRUE, TRUE, single);
      g_autofree char *mean = format_number (s, s->mean, FALSE, FALSE, FALSE);
      g_autofree char *std = format_number (s, s->std, FALSE, FALSE, FALSE);
      g_autofree char *nans = g_strdup_printf ("%" G_GUINT64_FORMAT, s->nan_count);
      g_autofree char *infs = g_strdup_printf ("%" G_GUINT64_FORMAT, s->inf_count);

      grid_row (grid, 0, _("count"), count);
      grid_row (grid, 1, _("min"), mn);
      grid_row (grid, 2, _("max"), mx);
      grid_row (grid, 3, _("mean"), mean);
      grid_row (grid, 4, _("std"), std);
      grid_row (grid, 5, _("NaN"), nans);
      grid_row (grid, 6, _("±inf"), infs);
    }
  gtk_widget_queue_draw (state->histogram_area);
}

static void
draw_histogram (GtkDrawingArea *area,
                cairo_t        *cr,
                int             width,
                int             height,
                gpointer        user_data)
{
  TargetState *state = user_data;
  const NpvHistogram *h = &state->histogram;
  guint64 bins[DRAWN_BINS] = { 0 };
  guint64 top = 0;
  GdkRGBA fg;
  guint per;

  if (!state->have || h->counts == NULL)
    return;
  per = MAX (1, h->n_bins / DRAWN_BINS);
  for (guint b = 0; b < h->n_bins; b++)
    bins[MIN (b / per, DRAWN_BINS - 1)] += h->counts[b];
  for (guint b = 0; b < DRAWN_BINS; b++)
    top = MAX (top, bins[b]);
  if (top == 0)
    return;

  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (area)), &fg);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.7);
  for (guint b = 0; b < DRAWN_BINS; b++)
    {
      double x0 = floor ((double) b * width / DRAWN_BINS);
      double x1 = floor ((double) (b + 1) * width / DRAWN_BINS);
      double bar = bins[b] == 0 ? 0 : MAX (1, (double) bins[b] / top * (height - 14));

      cairo_rectangle (cr, x0, height - 14 - bar, MAX (x1 - x0 - 1, 1), bar);
    }
  cairo_fill (cr);

  /* the ends of the range under the bars */
  {
    g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (area), NULL);
    char text[48];
    int tw, th;

    pango_layout_set_font_description (layout, NULL);
    cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * 0.6);
    g_snprintf (text, sizeof text, "%.4g", h->lo);
    pango_layout_set_text (layout, text, -1);
    pango_layout_get_pixel_size (layout, &tw, &th);
    cairo_move_to (cr, 0, height - th);
    pango_cairo_show_layout (cr, layout);
    g_snprintf (text, sizeof text, "%.4g", h->hi);
    pango_layout_set_text (layout, text, -1);
    pango_layout_get_pixel_size (layout, &tw, &th);
    cairo_move_to (cr, width - tw, height - th);
    pango_cairo_show_layout (cr, layout);
  }
}

static gboolean
progress_tick (gpointer user_data)
{
  NpvStatsPanel *self = user_data;
  gint64 done = 0, total = 0;

  for (guint t = 0; t < N_TARGETS; t++)
    if (self->targets[t].cancellable != NULL && self->targets[t].have)
      {
        done += __atomic_load_n (self->targets[t].progress, __ATOMIC_RELAXED);
        total += self->targets[t].total;
      }
  if (total > 0)
    gtk_progress_bar_set_fraction (self->progress_bar, CLAMP ((double) done / total, 0, 1));
  return G_SOURCE_CONTINUE;
}

static void
update_progress (NpvStatsPanel *self)
{
  gboolean busy = npv_stats_panel_is_busy (self);

  gtk_widget_set_visible (self->progress_box, busy);
  if (busy && self->progress_source == 0)
    self->progress_source = g_timeout_add (200, progress_tick, self);
  else if (!busy)
    g_clear_handle_id (&self->progress_source, g_source_remove);
}

static void
cancel_clicked (GtkButton     *button,
                NpvStatsPanel *self)
{
  for (guint t = 0; t < N_TARGETS; t++)
    g_cancellable_cancel (self->targets[t].cancellable);
}

/* ------------------------------------------------------------------ */
/* Public */

GtkWidget *
npv_stats_panel_new (void)
{
  return g_object_new (NPV_TYPE_STATS_PANEL, "orientation", GTK_ORIENTATION_VERTICAL,
                       "spacing", 6, NULL);
}

static void
set_target (NpvStatsPanel *self,
            Target         target,
            NpvArray      *array)
{
  TargetState *state = &self->targets[target];

  g_cancellable_cancel (state->cancellable);
  g_clear_object (&state->cancellable);
  g_clear_pointer (&state->array, npv_array_unref);
  g_clear_pointer (&state->error, g_free);
  npv_histogram_clear (&state->histogram);
  state->have = FALSE;
  state->exact = FALSE;
  if (array != NULL && (npv_dtype_is_real (array->dtype) ||
                        array->dtype->kind == NPV_KIND_COMPLEX))
    {
      state->array = npv_array_ref (array);
      start_job (self, target, array->count <= 4 * SAMPLE_ITEMS);
    }
  update_target (self, target);
}

void
npv_stats_panel_set_arrays (NpvStatsPanel *self,
                            NpvArray      *array,
                            NpvArray      *plane,
                            NpvPart        part)
{
  g_return_if_fail (NPV_IS_STATS_PANEL (self));

  self->part = part;
  set_target (self, TARGET_ARRAY, array);
  /* a plane that is the whole array needs no second pass */
  set_target (self, TARGET_PLANE, array != NULL && plane != NULL && plane->count < array->count
                                  ? plane : NULL);
  update_progress (self);
}

void
npv_stats_panel_set_plane (NpvStatsPanel *self,
                           NpvArray      *plane)
{
  TargetState *whole = &self->targets[TARGET_ARRAY];

  g_return_if_fail (NPV_IS_STATS_PANEL (self));

  set_target (self, TARGET_PLANE, whole->array != NULL && plane != NULL &&
                                  plane->count < whole->array->count ? plane : NULL);
  update_progress (self);
}

gboolean
npv_stats_panel_get_array_stats (NpvStatsPanel       *self,
                                 const NpvStats     **stats,
                                 const NpvHistogram **histogram,
                                 gboolean            *exact)
{
  TargetState *state = &self->targets[TARGET_ARRAY];

  if (!state->have)
    return FALSE;
  *stats = &state->stats;
  *histogram = &state->histogram;
  *exact = state->exact;
  return TRUE;
}

gboolean
npv_stats_panel_is_busy (NpvStatsPanel *self)
{
  for (guint t = 0; t < N_TARGETS; t++)
    if (self->targets[t].cancellable != NULL)
      return TRUE;
  return FALSE;
}

char *
npv_stats_panel_dup_text (NpvStatsPanel *self)
{
  GString *out = g_string_new (NULL);

  for (guint t = 0; t < N_TARGETS; t++)
    {
      TargetState *state = &self->targets[t];

      if (state->array == NULL)
        continue;
      g_string_append_printf (out, "%s\n", gtk_label_get_text (GTK_LABEL (state->heading)));
      g_string_append_printf (out, "state: %s\n", gtk_label_get_text (GTK_LABEL (state->state)));
      if (!state->have)
        continue;
      for (int row = 0; row < 7; row++)
        {
          GtkWidget *key = gtk_grid_get_child_at (GTK_GRID (state->grid), 0, row);
          GtkWidget *val = gtk_grid_get_child_at (GTK_GRID (state->grid), 1, row);

          g_string_append_printf (out, "%s: %s\n", gtk_label_get_text (GTK_LABEL (key)),
                                  gtk_label_get_text (GTK_LABEL (val)));
        }
    }
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ */
/* GObject */

static void
npv_stats_panel_dispose (GObject *object)
{
  NpvStatsPanel *self = NPV_STATS_PANEL (object);

  g_clear_handle_id (&self->progress_source, g_source_remove);
  for (guint t = 0; t < N_TARGETS; t++)
    {
      TargetState *state = &self->targets[t];

      g_cancellable_cancel (state->cancellable);
      g_clear_object (&state->cancellable);
      g_clear_pointer (&state->array, npv_array_unref);
      g_clear_pointer (&state->error, g_free);
      g_clear_pointer (&state->progress, g_atomic_rc_box_release);
      npv_histogram_clear (&state->histogram);
    }
  G_OBJECT_CLASS (npv_stats_panel_parent_class)->dispose (object);
}

static void
npv_stats_panel_class_init (NpvStatsPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = npv_stats_panel_dispose;

  /* TRUE when the whole array's statistics changed, FALSE for the plane's */
  g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void
npv_stats_panel_init (NpvStatsPanel *self)
{
  const char *headings[N_TARGETS] = { N_("Whole array"), N_("Plane") };
  GtkWidget *button;

  self->part = NPV_PART_ABS;
  for (guint t = 0; t < N_TARGETS; t++)
    {
      TargetState *state = &self->targets[t];

      state->heading = gtk_label_new (_(headings[t]));
      gtk_label_set_xalign (GTK_LABEL (state->heading), 0);
      gtk_widget_add_css_class (state->heading, "heading");
      if (t > 0)
        gtk_widget_set_margin_top (state->heading, 12);
      gtk_box_append (GTK_BOX (self), state->heading);

      state->state = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (state->state), 0);
      gtk_label_set_wrap (GTK_LABEL (state->state), TRUE);
      gtk_widget_add_css_class (state->state, "dim-label");
      gtk_widget_add_css_class (state->state, "caption");
      gtk_box_append (GTK_BOX (self), state->state);

      state->grid = gtk_grid_new ();
      gtk_grid_set_column_spacing (GTK_GRID (state->grid), 12);
      gtk_grid_set_row_spacing (GTK_GRID (state->grid), 4);
      gtk_box_append (GTK_BOX (self), state->grid);

      state->histogram_area = gtk_drawing_area_new ();
      gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (state->histogram_area), 96);
      gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (state->histogram_area), draw_histogram,
                                      state, NULL);
      gtk_box_append (GTK_BOX (self), state->histogram_area);
      update_target (self, t);
    }

  self->progress_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_margin_top (self->progress_box, 12);
  self->progress_bar = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_hexpand (GTK_WIDGET (self->progress_bar), TRUE);
  gtk_widget_set_valign (GTK_WIDGET (self->progress_bar), GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (self->progress_box), GTK_WIDGET (self->progress_bar));
  button = gtk_button_new_with_mnemonic (_("_Cancel"));
  gtk_widget_add_css_class (button, "flat");
  g_signal_connect (button, "clicked", G_CALLBACK (cancel_clicked), self);
  gtk_box_append (GTK_BOX (self->progress_box), button);
  gtk_widget_set_visible (self->progress_box, FALSE);
  gtk_box_append (GTK_BOX (self), self->progress_box);
}
