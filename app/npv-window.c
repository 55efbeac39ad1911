/* npv-window.c: a window showing one file and its members
 *
 * Opening a file and reading a member run on worker threads (GTask): the
 * main loop never waits for the disk or for inflating. Each job carries
 * the cancellable that was current when it started; a result for any
 * other one is dropped, and closing the window cancels what runs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-window"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "npv-examples.h"
#include "npv-error.h"
#include "npv-export.h"
#include "npv-file.h"
#include "npv-grid.h"
#include "npv-heatmap.h"
#include "npv-line.h"
#include "npv-node-item.h"
#include "npv-plane.h"
#include "npv-stats.h"
#include "npv-stats-panel.h"
#include "npv-value.h"
#include "npv-print.h"
#include "npv-window.h"

struct _NpvWindow
{
  GtkApplicationWindow parent_instance;

  /* what is shown */
  GFile *file;                 /* NULL for the examples and the welcome page */
  NpvFile *npv_file;
  char *display_name;
  char *wanted_member;         /* to select once the file is open */
  char *slice;
  const NpvMember *member;     /* the member shown, owned by npv_file */
  double restore_scroll;       /* after a reload: where the values were scrolled to, or -1 */
  NpvArray *array;             /* the member's values (with the --slice applied) */
  NpvPlane plane;              /* the plane of it the grid shows */
  NpvGrid *grid;
  GCancellable *range_cancellable;
  NpvHeatmap *heatmap;
  gboolean heatmap_stale;      /* its plane waits until it is shown */
  NpvLine *line;
  GtkDropDown *line_dropdown;  /* row or column of the cursor */
  gboolean line_stale;
  NpvStatsPanel *stats_panel;
  GtkDropDown *colormap_dropdown;
  GtkCheckButton *reverse_check;
  GtkDropDown *scale_dropdown;
  GtkDropDown *range_dropdown;
  GtkEntry *range_low_entry;
  GtkEntry *range_high_entry;
  GtkDropDown *reduction_dropdown;
  GtkDropDown *part_dropdown;
  GtkWidget *part_label;
  GtkCheckButton *rgb_check;

  /* work on the worker pool */
  GCancellable *open_cancellable;
  GCancellable *read_cancellable;
  struct _ReadJob *reading;
  guint progress_source;
  GCancellable *export_cancellable;
  gint *export_permille;       /* an rc box, written by the export's worker */
  guint export_source;

  GFileMonitor *monitor;
  GSettings *settings;

  /* the member tree */
  GtkTreeListModel *tree_model;
  GListModel *all_members;     /* every member, flat, for filtering */
  GtkSingleSelection *selection;
  gboolean filtering;

  /* template widgets */
  GtkLabel *title_label;
  GtkLabel *subtitle_label;
  GtkRevealer *banner;
  GtkLabel *banner_label;
  GtkCheckButton *auto_reload_check;
  guint auto_reload_source;
  GtkStack *stack;
  GtkListBox *recent_list;
  GtkLabel *recent_heading;
  GtkListBox *example_list;
  GtkSpinner *loading_spinner;
  GtkLabel *loading_label;
  GtkLabel *error_label;
  GtkPaned *outer_paned;
  GtkWidget *sidebar;
  GtkSearchEntry *member_filter;
  GtkListView *member_view;
  GtkStack *member_stack;
  GtkLabel *expression_label;
  GtkWidget *dims_bar;
  GtkStack *view_stack;
  GtkScrolledWindow *grid_scroller;
  GtkWidget *view_switcher;
  GtkScrolledWindow *values_scroller;
  GtkTextView *values;
  GtkSpinner *reading_spinner;
  GtkLabel *reading_label;
  GtkLabel *folder_label;
  GtkLabel *member_error_label;
  GtkWidget *inspector;
  GtkGrid *info_grid;
  GtkWidget *heatmap_box;
  GtkWidget *line_box;
  GtkWidget *stats_box;
  GtkGrid *colour_grid;
  GtkStack *inspector_stack;
  GtkLabel *status_label;
  GtkLabel *progress_label;
  GtkProgressBar *progress_bar;
  GtkWidget *cancel_button;
};

G_DEFINE_FINAL_TYPE (NpvWindow, npv_window, GTK_TYPE_APPLICATION_WINDOW)

static void select_first_array (NpvWindow *self);

/* Jobs on the worker pool point back to their window weakly: closing the
 * window disposes it at once, which cancels them. */
static gpointer
weak_window_new (NpvWindow *self)
{
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  g_weak_ref_init (ref, self);
  return ref;
}

/* The window (a new reference) or %NULL if it is gone; frees @data. */
static NpvWindow *
weak_window_take (gpointer data)
{
  GWeakRef *ref = data;
  NpvWindow *self = g_weak_ref_get (ref);

  g_weak_ref_clear (ref);
  g_free (ref);
  return self;
}
static void show_member (NpvWindow *self, const NpvNode *node);

/* ------------------------------------------------------------------ */
/* Words */

static char *
format_shape (const NpvNpyHeader *h)
{
  GString *out = g_string_new ("(");

  for (guint i = 0; i < h->ndim; i++)
    g_string_append_printf (out, i > 0 ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, h->shape[i]);
  g_string_append (out, h->ndim == 1 ? ",)" : ")");
  return g_string_free (out, FALSE);
}

static char *
format_storage (const NpvMember *member)
{
  const char *storage = npv_storage_to_string (member->storage);

  if ((member->storage == NPV_STORAGE_DEFLATE || member->storage == NPV_STORAGE_GZIP) &&
      member->size > 0 && member->compressed_size > 0)
    /* Translators: storage and compressed size in percent of the data */
    return g_strdup_printf (_("%s, %.0f%%"), storage, 100.0 * member->compressed_size / member->size);
  return g_strdup (storage);
}

static guint
count_members (const NpvNode *node)
{
  guint n = node->member != NULL;

  for (guint i = 0; node->children != NULL && i < node->children->len; i++)
    n += count_members (g_ptr_array_index (node->children, i));
  return n;
}

/* The quiet line under a member's name in the tree. */
static char *
describe_node_briefly (const NpvNode *node)
{
  const NpvMember *member = node->member;

  if (member == NULL)
    {
      guint n = count_members (node);

      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u member", "%u members", n), n);
    }
  switch (member->kind)
    {
    case NPV_MEMBER_BROKEN:
      return g_strdup (_("cannot be read"));
    case NPV_MEMBER_RAW:
      {
        g_autofree char *size = g_format_size (member->size);

        return g_strdup_printf (_("not an array, %s"), size);
      }
    case NPV_MEMBER_ARRAY:
    default:
      {
        g_autofree char *shape = format_shape (&member->header);
        g_autofree char *dtype = npv_dtype_get_name (member->header.dtype);
        g_autofree char *storage = format_storage (member);

        return g_strdup_printf ("%s %s · %s", shape, dtype, storage);
      }
    }
}

/* ------------------------------------------------------------------ */
/* Pages and status */

static void
set_busy (NpvWindow  *self,
          const char *what)
{
  gboolean busy = what != NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->progress_label), busy);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), busy);
  gtk_widget_set_visible (self->cancel_button, busy);
  gtk_label_set_text (self->progress_label, busy ? what : "");
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_spinner_set_spinning (self->loading_spinner, busy);
  gtk_spinner_set_spinning (self->reading_spinner, busy);
}

static void
set_titles (NpvWindow  *self,
            const char *subtitle)
{
  const char *title = self->display_name != NULL ? self->display_name : _("NpyView");

  gtk_window_set_title (GTK_WINDOW (self), title);
  gtk_label_set_text (self->title_label, title);
  gtk_label_set_text (self->subtitle_label, subtitle != NULL ? subtitle : "");
  gtk_widget_set_visible (GTK_WIDGET (self->subtitle_label), subtitle != NULL && subtitle[0] != '\0');
}

static void
update_actions (NpvWindow *self)
{
  gboolean has_file = self->npv_file != NULL;
  gboolean has_array = self->member != NULL && self->member->kind == NPV_MEMBER_ARRAY;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.reload", self->file != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.filter", has_file);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export", has_array);
}

static void
show_error (NpvWindow  *self,
            const char *message)
{
  set_busy (self, NULL);
  gtk_label_set_text (self->error_label, message);
  gtk_stack_set_visible_child_name (self->stack, "error");
  gtk_label_set_text (self->status_label, "");
  update_actions (self);
}

static void data_read_failed (NpvWindow    *self,
                              const GError *error);

/* ------------------------------------------------------------------ */
/* The info panel */

static void
info_clear (NpvWindow *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->info_grid))) != NULL)
    gtk_grid_remove (self->info_grid, child);
}

static void
info_add (NpvWindow  *self,
          const char *key,
          const char *value)
{
  GtkWidget *key_label = gtk_label_new (key);
  GtkWidget *value_label = gtk_label_new (value);
  int row = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->info_grid)); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    row++;
  row /= 2;

  gtk_label_set_xalign (GTK_LABEL (key_label), 1);
  gtk_label_set_yalign (GTK_LABEL (key_label), 0);
  gtk_widget_add_css_class (key_label, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (value_label), 0);
  gtk_label_set_wrap (GTK_LABEL (value_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (value_label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (value_label), TRUE);
  gtk_widget_set_hexpand (value_label, TRUE);
  gtk_grid_attach (self->info_grid, key_label, 0, row, 1, 1);
  gtk_grid_attach (self->info_grid, value_label, 1, row, 1, 1);
}

static void
info_add_fields (NpvWindow      *self,
                 const NpvDType *dtype)
{
  g_autoptr(GArray) leaves = npv_dtype_collect_leaves (dtype);
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < leaves->len && i < 64; i++)
    {
      const NpvLeaf *leaf = &g_array_index (leaves, NpvLeaf, i);
      g_autofree char *words = npv_dtype_describe (leaf->dtype);

      g_string_append_printf (text, "%s%s: %s", i > 0 ? "\n" : "", leaf->name, words);
    }
  if (leaves->len > 64)
    g_string_append_printf (text, "\n%s", _("and more"));
  info_add (self, _("Fields"), text->str);
}

static void
show_info (NpvWindow     *self,
           const NpvNode *node)
{
  const NpvMember *member = node->member;
  NpvFile *file = self->npv_file;

  info_clear (self);
  if (node->path[0] != '\0')
    info_add (self, _("Member"), node->path);

  if (member != NULL && member->kind == NPV_MEMBER_ARRAY)
    {
      const NpvNpyHeader *h = &member->header;
      g_autofree char *words = npv_dtype_describe (h->dtype);
      g_autofree char *str = npv_dtype_to_str (h->dtype);
      g_autofree char *shape = format_shape (h);
      g_autofree char *itemsize = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%zu byte", "%zu bytes",
                                                                h->dtype->itemsize),
                                                   (size_t) h->dtype->itemsize);
      g_autofree char *total = g_format_size_full (h->nbytes, G_FORMAT_SIZE_LONG_FORMAT | G_FORMAT_SIZE_IEC_UNITS);
      g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, h->count);
      g_autofree char *storage = format_storage (member);

      if (h->dtype->kind == NPV_KIND_STRUCT)
        {
          /* The fields follow on their own lines. */
          g_free (words);
          words = npv_dtype_get_name (h->dtype);
        }
      info_add (self, _("Data type"), words);
      info_add (self, _("dtype"), str);
      if (h->dtype->kind == NPV_KIND_STRUCT)
        info_add_fields (self, h->dtype);
      info_add (self, _("Shape"), shape);
      info_add (self, _("Elements"), count);
      info_add (self, _("Order"), h->fortran_order ? _("Fortran (column-major)") : _("C (row-major)"));
      info_add (self, _("Item size"), itemsize);
      info_add (self, _("Total"), total);
      info_add (self, _("Storage"), storage);
      if (member->storage == NPV_STORAGE_DEFLATE || member->storage == NPV_STORAGE_GZIP)
        {
          g_autofree char *compressed = g_format_size_full (member->compressed_size, G_FORMAT_SIZE_IEC_UNITS);

          info_add (self, _("Compressed"), compressed);
        }
      if (h->major != 0)
        {
          g_autofree char *version = g_strdup_printf ("%u.%u", h->major, h->minor);

          info_add (self, _("Header version"), version);
        }
      if (member->in_place)
        {
          g_autofree char *offset = g_strdup_printf ("%" G_GUINT64_FORMAT, member->offset + h->data_offset);

          info_add (self, _("Data offset"), offset);
        }
    }
  else if (member != NULL && member->kind == NPV_MEMBER_RAW)
    {
      g_autofree char *size = g_format_size_full (member->size, G_FORMAT_SIZE_LONG_FORMAT);

      info_add (self, _("Kind"), _("Not an array"));
      info_add (self, _("Size"), size);
    }
  else if (member != NULL)
    info_add (self, _("Problem"), member->error->message);
  else
    {
      g_autofree char *n = g_strdup_printf ("%u", count_members (node));

      info_add (self, _("Members"), n);
    }

  if (file != NULL)
    {
      g_autofree char *size = g_format_size_full (npv_file_get_size (file), G_FORMAT_SIZE_IEC_UNITS);

      info_add (self, _("Format"), npv_file_format_to_string (npv_file_get_format (file)));
      info_add (self, _("File"), self->file != NULL ? npv_file_get_path (file) : self->display_name);
      info_add (self, _("File size"), size);
    }
}

/* ------------------------------------------------------------------ */
/* Reading a member on the worker pool */

typedef struct _ReadJob
{
  NpvFile *file;
  const NpvMember *member;
  char *slice;
  gint permille;               /* atomic: progress of the index build */
  NpvArray *array;             /* the result, with text */
  char *text;
} ReadJob;

static void
read_job_clear (gpointer data)
{
  ReadJob *job = data;

  g_clear_pointer (&job->file, npv_file_unref);
  g_clear_pointer (&job->array, npv_array_unref);
  g_free (job->slice);
  g_free (job->text);
}

static void
read_job_unref (ReadJob *job)
{
  g_atomic_rc_box_release_full (job, read_job_clear);
}

static gboolean
read_progress (guint64  done,
               guint64  total,
               gpointer user_data)
{
  ReadJob *job = user_data;

  if (total > 0)
    g_atomic_int_set (&job->permille, (int) (1000.0 * done / total));
  return TRUE;
}

/* On a worker: the member's values (indexed once, if compressed) with
 * @slice applied; %NULL with @error set. */
static NpvArray *
open_member_values (NpvFile            *file,
                    const NpvMember    *member,
                    const char         *slice,
                    GCancellable       *cancellable,
                    gboolean          (*progress) (guint64, guint64, gpointer),
                    gpointer            user_data,
                    GError            **error)
{
  g_autoptr(NpvArray) array = NULL;
  NpvIndex index;

  if (!npv_file_build_index (file, member, cancellable, progress, user_data, error))
    return NULL;
  array = npv_file_open_array (file, member, error);
  if (array == NULL || slice == NULL || slice[0] == '\0')
    return g_steal_pointer (&array);
  if (!npv_index_parse (slice, &index, error))
    return NULL;
  return npv_array_apply_index (array, &index, error);
}

/* Runs on a worker: touches only core objects. */
static void
read_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  ReadJob *job = task_data;
  NpvPrintOptions options = NPV_PRINT_OPTIONS_DEFAULT;
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvArray) array = NULL;
  g_autoptr(GString) text = g_string_new (NULL);

  array = open_member_values (job->file, job->member, job->slice, cancellable, read_progress, job, &error);
  if (array == NULL || !npv_array_print (text, array, &options, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  job->array = g_steal_pointer (&array);
  job->text = g_string_free (g_steal_pointer (&text), FALSE);
  g_task_return_boolean (task, TRUE);
}

static void
stop_progress (NpvWindow *self)
{
  g_clear_handle_id (&self->progress_source, g_source_remove);
  g_clear_pointer (&self->reading, read_job_unref);
  set_busy (self, NULL);
}

static gboolean
progress_tick (gpointer user_data)
{
  NpvWindow *self = user_data;
  int permille;

  if (self->reading == NULL)
    return G_SOURCE_CONTINUE;
  permille = g_atomic_int_get (&self->reading->permille);
  gtk_progress_bar_set_fraction (self->progress_bar, permille / 1000.0);
  if (permille > 0)
    {
      g_autofree char *text = g_strdup_printf (_("Indexing %.0f%%"), permille / 10.0);

      gtk_label_set_text (self->reading_label, text);
    }
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------ */
/* The grid and the plane it shows */

static guint
grid_leaves (NpvWindow *self)
{
  g_autoptr(GArray) leaves = NULL;

  if (self->array == NULL || self->array->dtype->kind != NPV_KIND_STRUCT)
    return 1;
  leaves = npv_dtype_collect_leaves (self->array->dtype);
  return MAX (leaves->len, 1);
}

/* "[3, 17, 40]" (with ".x" for a field) of grid cell (@row, @col). */
static char *
cell_index_text (NpvWindow *self,
                 gint64     row,
                 gint64     col)
{
  GString *out = g_string_new ("[");
  guint l = grid_leaves (self);

  for (guint k = 0; k < self->array->ndim; k++)
    {
      gint64 i = k == self->plane.row_axis ? row : k == self->plane.col_axis ? col / l : self->plane.fixed[k];

      g_string_append_printf (out, k > 0 ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, i);
    }
  g_string_append_c (out, ']');
  if (l > 1)
    {
      g_autoptr(GArray) leaves = npv_dtype_collect_leaves (self->array->dtype);

      g_string_append_printf (out, " %s", g_array_index (leaves, NpvLeaf, col % l).name);
    }
  return g_string_free (out, FALSE);
}

static void
update_status (NpvWindow *self,
               gboolean   hover)
{
  gint64 row, col, r0, c0, r1, c1;
  g_autofree char *index = NULL;
  g_autofree char *selection = NULL;
  const char *value;

  if (self->array == NULL)
    return;
  npv_grid_get_cursor (self->grid, &row, &col);
  if (hover && !npv_grid_get_hover (self->grid, &row, &col))
    npv_grid_get_cursor (self->grid, &row, &col);
  index = cell_index_text (self, row, col);
  value = npv_grid_peek_text (self->grid, row, col);
  npv_grid_get_selection (self->grid, &r0, &c0, &r1, &c1);
  if (r0 != r1 || c0 != c1)
    {
      g_autofree char *rows = g_strdup_printf ("%" G_GINT64_FORMAT, r1 - r0 + 1);
      g_autofree char *cols = g_strdup_printf ("%" G_GINT64_FORMAT, c1 - c0 + 1);

      /* Translators: the size of the selection, rows × columns */
      selection = g_strdup_printf (_("   ·   selection %s × %s"), rows, cols);
    }
  {
    g_autofree char *text = g_strdup_printf ("%s = %s%s", index, value != NULL ? value : "…",
                                             selection != NULL ? selection : "");

    gtk_label_set_text (self->status_label, text);
  }
}

static void sync_heatmap_selection (NpvWindow *self);
static gboolean heatmap_shown (NpvWindow *self);
static gboolean line_shown (NpvWindow *self);
static void update_line (NpvWindow *self);

static void
grid_cursor_changed (NpvGrid   *grid,
                     NpvWindow *self)
{
  if (heatmap_shown (self))
    {
      sync_heatmap_selection (self);
      return;
    }
  if (line_shown (self))
    {
      update_line (self);
      return;
    }
  update_status (self, FALSE);
}

static void
grid_hover_changed (NpvGrid   *grid,
                    NpvWindow *self)
{
  if (!heatmap_shown (self) && !line_shown (self))
    update_status (self, TRUE);
}

/* ------------------------------------------------------------------ */
/* Heatmap, colour and statistics */

static const char * const range_modes[] = { "minmax", "p1", "p01", "sigma3", "manual" };
static const char * const reductions[] = { "mean", "min", "max" };
static const NpvPart complex_parts[] = { NPV_PART_ABS, NPV_PART_ANGLE, NPV_PART_REAL, NPV_PART_IMAG };

static gboolean
heatmap_shown (NpvWindow *self)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->view_stack), "heatmap") == 0;
}

static NpvPart
current_part (NpvWindow *self)
{
  guint i = gtk_drop_down_get_selected (self->part_dropdown);

  return i < G_N_ELEMENTS (complex_parts) ? complex_parts[i] : NPV_PART_ABS;
}

static gboolean
parse_double (const char *text,
              double     *v)
{
  char *end;

  while (g_ascii_isspace (*text))
    text++;
  *v = g_ascii_strtod (text, &end);
  while (g_ascii_isspace (*end))
    end++;
  return end != text && *end == '\0' && isfinite (*v);
}

/* The colour range from the settings and the whole array's statistics. */
static void
update_heatmap_range (NpvWindow *self)
{
  guint mode = gtk_drop_down_get_selected (self->range_dropdown);
  const NpvStats *stats;
  const NpvHistogram *histogram;
  gboolean exact;
  NpvColorScale cs;
  double lo, hi;

  npv_heatmap_get_color_scale (self->heatmap, &cs);
  if (mode == 4)
    {
      gboolean ok_lo = parse_double (gtk_editable_get_text (GTK_EDITABLE (self->range_low_entry)), &lo);
      gboolean ok_hi = parse_double (gtk_editable_get_text (GTK_EDITABLE (self->range_high_entry)), &hi);

      if (ok_lo && ok_hi && lo <= hi)
        {
          npv_heatmap_set_range (self->heatmap, TRUE, lo, hi, TRUE);
          return;
        }
    }
  if (self->array == NULL ||
      !npv_stats_panel_get_array_stats (self->stats_panel, &stats, &histogram, &exact))
    {
      npv_heatmap_set_range (self->heatmap, FALSE, 0, 0, FALSE);
      return;
    }

  exact = npv_color_scale_set_range (&cs, mode, stats, histogram,
                                     self->array->dtype->kind == NPV_KIND_BOOL) && exact;
  lo = cs.lo;
  hi = cs.hi;
  npv_heatmap_set_range (self->heatmap, TRUE, lo, hi, exact);
}

static void
stats_changed (NpvStatsPanel *panel,
               gboolean       whole,
               NpvWindow     *self)
{
  if (whole)
    update_heatmap_range (self);
}

static void
apply_colour (NpvWindow *self)
{
  guint map = gtk_drop_down_get_selected (self->colormap_dropdown);
  guint scale = gtk_drop_down_get_selected (self->scale_dropdown);
  guint mode = gtk_drop_down_get_selected (self->range_dropdown);
  guint reduction = gtk_drop_down_get_selected (self->reduction_dropdown);
  gboolean reversed = gtk_check_button_get_active (self->reverse_check);

  npv_heatmap_set_colormap (self->heatmap, MIN (map, NPV_N_COLORMAPS - 1), reversed);
  npv_heatmap_set_scale (self->heatmap, MIN (scale, NPV_N_SCALES - 1));
  npv_heatmap_set_reduction (self->heatmap, MIN (reduction, G_N_ELEMENTS (reductions) - 1));
  gtk_widget_set_sensitive (GTK_WIDGET (self->range_low_entry), mode == 4);
  gtk_widget_set_sensitive (GTK_WIDGET (self->range_high_entry), mode == 4);
  update_heatmap_range (self);

  if (self->settings == NULL)
    return;
  g_settings_set_string (self->settings, "heatmap-colormap",
                         npv_colormap_get_name (MIN (map, NPV_N_COLORMAPS - 1)));
  g_settings_set_boolean (self->settings, "heatmap-reversed", reversed);
  g_settings_set_string (self->settings, "heatmap-scale",
                         npv_scale_get_name (MIN (scale, NPV_N_SCALES - 1)));
  g_settings_set_string (self->settings, "heatmap-range",
                         range_modes[MIN (mode, G_N_ELEMENTS (range_modes) - 1)]);
  g_settings_set_string (self->settings, "heatmap-reduction",
                         reductions[MIN (reduction, G_N_ELEMENTS (reductions) - 1)]);
  if (mode == 4)
    {
      double lo, hi;

      if (parse_double (gtk_editable_get_text (GTK_EDITABLE (self->range_low_entry)), &lo) &&
          parse_double (gtk_editable_get_text (GTK_EDITABLE (self->range_high_entry)), &hi))
        {
          g_settings_set_double (self->settings, "heatmap-range-low", lo);
          g_settings_set_double (self->settings, "heatmap-range-high", hi);
        }
    }
}

static void
colour_control_changed (GObject    *object,
                        GParamSpec *pspec,
                        NpvWindow  *self)
{
  apply_colour (self);
}

static void
range_entry_activated (GtkEntry  *entry,
                       NpvWindow *self)
{
  apply_colour (self);
}


static void
part_changed (GObject    *object,
              GParamSpec *pspec,
              NpvWindow  *self)
{
  g_autoptr(NpvArray) view = NULL;

  npv_heatmap_set_part (self->heatmap, current_part (self));
  if (self->array == NULL || self->array->dtype->kind != NPV_KIND_COMPLEX)
    return;
  update_line (self);
  view = npv_plane_apply (&self->plane, self->array, NULL);
  npv_stats_panel_set_arrays (self->stats_panel, self->array, view, current_part (self));
}

static guint
index_of (const char * const *names,
          guint               n,
          const char         *name)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (names[i], name) == 0)
      return i;
  return 0;
}

static GtkDropDown *
colour_row (NpvWindow          *self,
            int                 row,
            const char         *label,
            const char * const *items)
{
  GtkWidget *key = gtk_label_new_with_mnemonic (label);
  GtkWidget *dropdown = gtk_drop_down_new_from_strings (items);

  gtk_label_set_xalign (GTK_LABEL (key), 1);
  gtk_widget_add_css_class (key, "dim-label");
  gtk_label_set_mnemonic_widget (GTK_LABEL (key), dropdown);
  gtk_widget_set_hexpand (dropdown, TRUE);
  gtk_grid_attach (self->colour_grid, key, 0, row, 1, 1);
  gtk_grid_attach (self->colour_grid, dropdown, 1, row, 1, 1);
  g_object_set_data (G_OBJECT (dropdown), "label", key);
  return GTK_DROP_DOWN (dropdown);
}

static GtkEntry *
colour_entry (NpvWindow  *self,
              int         row,
              const char *label)
{
  GtkWidget *key = gtk_label_new_with_mnemonic (label);
  GtkWidget *entry = gtk_entry_new ();

  gtk_label_set_xalign (GTK_LABEL (key), 1);
  gtk_widget_add_css_class (key, "dim-label");
  gtk_label_set_mnemonic_widget (GTK_LABEL (key), entry);
  gtk_editable_set_width_chars (GTK_EDITABLE (entry), 10);
  gtk_grid_attach (self->colour_grid, key, 0, row, 1, 1);
  gtk_grid_attach (self->colour_grid, entry, 1, row, 1, 1);
  g_signal_connect (entry, "activate", G_CALLBACK (range_entry_activated), self);
  return GTK_ENTRY (entry);
}

static void rgb_toggled (GtkCheckButton *check, GParamSpec *pspec, NpvWindow *self);

static void
build_colour_page (NpvWindow *self)
{
  const char *maps[NPV_N_COLORMAPS + 1];
  const char *scales[] = { C_("scale", "Linear"), C_("scale", "Log"), C_("scale", "Symlog"),
                           C_("scale", "Square root"), NULL };
  const char *ranges[] = { _("Min – max"), _("Percentiles 1–99"), _("Percentiles 0.1–99.9"),
                           _("Mean ± 3σ"), _("Manual"), NULL };
  const char *blocks[] = { _("Mean"), _("Minimum"), _("Maximum"), NULL };
  const char *part_names[] = { _("Magnitude"), _("Phase"), _("Real part"), _("Imaginary part"), NULL };
  GtkWidget *note;

  for (guint i = 0; i < NPV_N_COLORMAPS; i++)
    maps[i] = npv_colormap_get_name (i);
  maps[NPV_N_COLORMAPS] = NULL;

  self->colormap_dropdown = colour_row (self, 0, _("_Map"), maps);
  self->reverse_check = GTK_CHECK_BUTTON (gtk_check_button_new_with_mnemonic (_("Re_verse")));
  gtk_grid_attach (self->colour_grid, GTK_WIDGET (self->reverse_check), 1, 1, 1, 1);
  self->scale_dropdown = colour_row (self, 2, _("_Scale"), scales);
  self->range_dropdown = colour_row (self, 3, _("_Range"), ranges);
  self->range_low_entry = colour_entry (self, 4, _("_Low"));
  self->range_high_entry = colour_entry (self, 5, _("_High"));
  self->reduction_dropdown = colour_row (self, 6, _("_Blocks"), blocks);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->reduction_dropdown),
                               _("What a pixel shows when it stands for a block of values"));
  self->part_dropdown = colour_row (self, 7, _("_Complex"), part_names);
  self->part_label = g_object_get_data (G_OBJECT (self->part_dropdown), "label");
  gtk_widget_set_visible (GTK_WIDGET (self->part_dropdown), FALSE);
  gtk_widget_set_visible (self->part_label, FALSE);

  self->rgb_check = GTK_CHECK_BUTTON (gtk_check_button_new_with_mnemonic (_("Last axis as R_GB(A) colours")));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->rgb_check),
                               _("Show an array whose last axis has 3 or 4 entries (bytes, or floats "
                                 "from 0 to 1) as a colour picture"));
  gtk_widget_set_visible (GTK_WIDGET (self->rgb_check), FALSE);
  gtk_grid_attach (self->colour_grid, GTK_WIDGET (self->rgb_check), 0, 9, 2, 1);
  g_signal_connect (self->rgb_check, "notify::active", G_CALLBACK (rgb_toggled), self);

  note = gtk_label_new (_("NaN is magenta, +inf white, −inf black; on a log scale, zero and "
                          "below are grey. The range is the whole array’s."));
  gtk_label_set_wrap (GTK_LABEL (note), TRUE);
  gtk_label_set_xalign (GTK_LABEL (note), 0);
  gtk_label_set_max_width_chars (GTK_LABEL (note), 30);
  gtk_widget_add_css_class (note, "dim-label");
  gtk_widget_add_css_class (note, "caption");
  gtk_widget_set_margin_top (note, 12);
  gtk_grid_attach (self->colour_grid, note, 0, 8, 2, 1);

  if (self->settings != NULL)
    {
      g_autofree char *map = g_settings_get_string (self->settings, "heatmap-colormap");
      g_autofree char *scale = g_settings_get_string (self->settings, "heatmap-scale");
      g_autofree char *range = g_settings_get_string (self->settings, "heatmap-range");
      g_autofree char *reduction = g_settings_get_string (self->settings, "heatmap-reduction");
      NpvColormap m = NPV_COLORMAP_VIRIDIS;
      NpvScale sc = NPV_SCALE_LINEAR;
      char text[G_ASCII_DTOSTR_BUF_SIZE];

      npv_colormap_from_name (map, &m);
      npv_scale_from_name (scale, &sc);
      gtk_drop_down_set_selected (self->colormap_dropdown, m);
      gtk_drop_down_set_selected (self->scale_dropdown, sc);
      gtk_drop_down_set_selected (self->range_dropdown,
                                  index_of (range_modes, G_N_ELEMENTS (range_modes), range));
      gtk_drop_down_set_selected (self->reduction_dropdown,
                                  index_of (reductions, G_N_ELEMENTS (reductions), reduction));
      gtk_check_button_set_active (self->reverse_check,
                                   g_settings_get_boolean (self->settings, "heatmap-reversed"));
      gtk_editable_set_text (GTK_EDITABLE (self->range_low_entry),
                             g_ascii_dtostr (text, sizeof text,
                                             g_settings_get_double (self->settings, "heatmap-range-low")));
      gtk_editable_set_text (GTK_EDITABLE (self->range_high_entry),
                             g_ascii_dtostr (text, sizeof text,
                                             g_settings_get_double (self->settings, "heatmap-range-high")));
    }
  else
    {
      gtk_editable_set_text (GTK_EDITABLE (self->range_low_entry), "0");
      gtk_editable_set_text (GTK_EDITABLE (self->range_high_entry), "1");
    }

  g_signal_connect (self->colormap_dropdown, "notify::selected", G_CALLBACK (colour_control_changed), self);
  g_signal_connect (self->scale_dropdown, "notify::selected", G_CALLBACK (colour_control_changed), self);
  g_signal_connect (self->range_dropdown, "notify::selected", G_CALLBACK (colour_control_changed), self);
  g_signal_connect (self->reduction_dropdown, "notify::selected", G_CALLBACK (colour_control_changed), self);
  g_signal_connect (self->reverse_check, "notify::active", G_CALLBACK (colour_control_changed), self);
  g_signal_connect (self->part_dropdown, "notify::selected", G_CALLBACK (part_changed), self);
}

static void
heatmap_status (NpvWindow *self)
{
  gint64 r0, c0, r1, c1;
  g_autoptr(GString) text = g_string_new (NULL);
  int ppi;
  double ipp;

  if (self->array == NULL)
    return;
  if (npv_heatmap_get_hover (self->heatmap, &r0, &c0, &r1, &c1))
    {
      if (r0 == r1 && c0 == c1)
        {
          g_autofree char *index = cell_index_text (self, r0, c0);
          g_autoptr(NpvArray) plane = npv_plane_apply (&self->plane, self->array, NULL);
          g_autofree guint8 *scratch = plane != NULL ? g_malloc (MAX (plane->dtype->itemsize, 1)) : NULL;
          const guint8 *item = plane != NULL
                               ? npv_array_peek (plane, plane->offset + r0 * plane->strides[0] +
                                                 c0 * plane->strides[1], scratch, NULL)
                               : NULL;

          g_string_append_printf (text, "%s = ", index);
          if (item != NULL)
            npv_append_item_text (text, plane->dtype, item);
          else
            g_string_append (text, "…");
        }
      else
        {
          double mean, mn, mx;
          gboolean exact;

          g_string_append_printf (text, "[%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                                  ":%" G_GINT64_FORMAT "]", r0, r1 + 1, c0, c1 + 1);
          if (npv_heatmap_get_hover_values (self->heatmap, &mean, &mn, &mx, &exact))
            {
              /* Translators: a block of values under the pointer: its mean, minimum and maximum */
              g_string_append_printf (text, _("   mean %.6g   min %.6g   max %.6g"), mean, mn, mx);
              if (!exact)
                g_string_append (text, _("   (sampled)"));
            }
        }
    }
  else
    {
      npv_heatmap_get_selection (self->heatmap, &r0, &c0, &r1, &c1);
      if (r0 >= 0)
        {
          g_autofree char *index = cell_index_text (self, r0, c0);

          g_string_append (text, index);
          if (r0 != r1 || c0 != c1)
            {
              g_autofree char *rows = g_strdup_printf ("%" G_GINT64_FORMAT, r1 - r0 + 1);
              g_autofree char *cols = g_strdup_printf ("%" G_GINT64_FORMAT, c1 - c0 + 1);

              g_string_append_printf (text, _("   ·   selection %s × %s"), rows, cols);
            }
        }
    }

  if (npv_heatmap_get_message (self->heatmap) == NULL)
    {
      if (text->len > 0)
        g_string_append (text, "   ·   ");
      npv_heatmap_get_scale (self->heatmap, &ppi, &ipp);
      if (ppi > 1 || ipp == 1)
        g_string_append_printf (text, _("zoom %d:1"), ppi);
      else
        {
          char number[32];

          /* Translators: zoomed out, one pixel for %s values along each side */
          g_snprintf (number, sizeof number, "%.3g", ipp);
          g_string_append_printf (text, _("zoom 1:%s"), number);
        }
      g_string_append (text, "   ·   ");
      g_string_append (text, npv_heatmap_is_loading (self->heatmap) && !npv_heatmap_is_exact (self->heatmap)
                             ? _("loading…")
                             : npv_heatmap_is_exact (self->heatmap) ? _("exact picture")
                                                                     : _("sampled picture, refining…"));
    }
  gtk_label_set_text (self->status_label, text->str);
}

static void
heatmap_hover_changed (NpvHeatmap *heatmap,
                       NpvWindow  *self)
{
  if (heatmap_shown (self))
    heatmap_status (self);
}

static void
heatmap_selection_changed (NpvHeatmap *heatmap,
                           NpvWindow  *self)
{
  gint64 r0, c0, r1, c1;

  npv_heatmap_get_selection (heatmap, &r0, &c0, &r1, &c1);
  if (r0 < 0)
    return;
  /* the grid keeps the shared selection */
  npv_grid_set_cursor (self->grid, r0, c0, FALSE);
  npv_grid_set_cursor (self->grid, r1, c1, TRUE);
  heatmap_status (self);
}

static void
sync_heatmap_selection (NpvWindow *self)
{
  gint64 r0, c0, r1, c1;

  if (self->array == NULL || grid_leaves (self) != 1)
    return;
  npv_grid_get_selection (self->grid, &r0, &c0, &r1, &c1);
  npv_heatmap_set_selection (self->heatmap, r0, c0, r1, c1);
}

static void
heatmap_view_changed (NpvHeatmap *heatmap,
                      NpvWindow  *self)
{
  if (heatmap_shown (self))
    heatmap_status (self);
}

/* Whether the last axis can be colour channels: 3 or 4 of them, bytes
 * or floats. */
static gboolean
rgb_possible (NpvArray *array)
{
  gint64 n;

  if (array == NULL || array->ndim < 3)
    return FALSE;
  n = array->shape[array->ndim - 1];
  return (n == 3 || n == 4) &&
         ((array->dtype->kind == NPV_KIND_UINT && array->dtype->itemsize == 1) ||
          array->dtype->kind == NPV_KIND_FLOAT);
}

static gboolean
rgb_active (NpvWindow *self)
{
  guint last;

  if (!rgb_possible (self->array) || !gtk_check_button_get_active (self->rgb_check))
    return FALSE;
  last = self->array->ndim - 1;
  return self->plane.row_axis != last && self->plane.col_axis != last;
}

/* The heatmap follows the plane only while it is shown. */
static void
update_heatmap_plane (NpvWindow *self)
{
  g_autoptr(NpvArray) view = NULL;

  if (!heatmap_shown (self))
    {
      self->heatmap_stale = TRUE;
      return;
    }
  self->heatmap_stale = FALSE;
  if (rgb_active (self))
    {
      guint last = self->array->ndim - 1;
      guint n = (guint) self->array->shape[last];
      NpvArray *channels[4] = { NULL, NULL, NULL, NULL };

      for (guint k = 0; k < n; k++)
        {
          NpvPlane plane = self->plane;

          plane.fixed[last] = k;
          channels[k] = npv_plane_apply (&plane, self->array, NULL);
        }
      if (channels[n - 1] != NULL)
        npv_heatmap_set_rgb (self->heatmap, channels, n,
                             self->array->dtype->kind == NPV_KIND_UINT ? 255 : 1);
      for (guint k = 0; k < n; k++)
        g_clear_pointer (&channels[k], npv_array_unref);
      sync_heatmap_selection (self);
      return;
    }
  if (self->array != NULL)
    view = npv_plane_apply (&self->plane, self->array, NULL);
  npv_heatmap_set_plane (self->heatmap, view);
  sync_heatmap_selection (self);
}

/* Rows and columns on the axes before the channels. */
static void
rgb_plane (NpvWindow *self)
{
  guint last = self->array->ndim - 1;

  if (self->plane.row_axis == last || self->plane.col_axis == last)
    {
      self->plane.row_axis = last - 2;
      self->plane.col_axis = last - 1;
      self->plane.fixed[last] = 0;
      self->plane.fixed[last - 1] = 0;
      self->plane.fixed[last - 2] = 0;
    }
}

static void rebuild_dims_bar (NpvWindow *self);
static void apply_plane (NpvWindow *self);

static void
rgb_toggled (GtkCheckButton *check,
             GParamSpec     *pspec,
             NpvWindow      *self)
{
  if (!rgb_possible (self->array))
    return;
  if (gtk_check_button_get_active (check))
    {
      rgb_plane (self);
      rebuild_dims_bar (self);
      apply_plane (self);
    }
  else
    update_heatmap_plane (self);
}

/* The line view: a 1-D array, or the cursor's row or column of the plane. */
static gboolean
line_shown (NpvWindow *self)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->view_stack), "line") == 0;
}

static void
update_line (NpvWindow *self)
{
  g_autoptr(NpvArray) plane = NULL;
  g_autoptr(NpvArray) values = NULL;
  g_autofree char *caption = NULL;
  gint64 row, col;

  if (!line_shown (self))
    {
      self->line_stale = TRUE;
      return;
    }
  self->line_stale = FALSE;
  gtk_widget_set_visible (GTK_WIDGET (self->line_dropdown), self->array != NULL && self->array->ndim >= 2);
  if (self->array == NULL || self->array->ndim == 0)
    {
      npv_line_set_values (self->line, NULL, NPV_PART_ABS);
      npv_line_set_caption (self->line, self->array != NULL ? _("A 0-d array has one value: see the grid")
                                                            : NULL);
      return;
    }
  if (self->array->ndim == 1)
    {
      npv_line_set_values (self->line, self->array, current_part (self));
      npv_line_set_caption (self->line, "a");
      return;
    }

  plane = npv_plane_apply (&self->plane, self->array, NULL);
  if (plane == NULL)
    return;
  npv_grid_get_cursor (self->grid, &row, &col);
  col /= MAX (grid_leaves (self), 1);
  {
    gboolean by_column = gtk_drop_down_get_selected (self->line_dropdown) == 1;
    NpvIndex index = { 2, { { .kind = NPV_INDEX_INTEGER, .value = by_column ? 0 : row },
                            { .kind = NPV_INDEX_INTEGER, .value = by_column ? col : 0 } } };
    g_autofree char *expression = npv_plane_to_expression (&self->plane, "a");
    g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, by_column ? col : row);

    index.items[by_column ? 0 : 1].kind = NPV_INDEX_SLICE;
    values = npv_array_apply_index (plane, &index, NULL);

    /* Translators: the line plotted: "row 3 of a[2, :, :]" */
    caption = by_column ? g_strdup_printf (_("column %s of %s"), number, expression)
                        : g_strdup_printf (_("row %s of %s"), number, expression);
  }
  if (values != NULL && (values->dtype->kind == NPV_KIND_STRUCT))
    g_clear_pointer (&values, npv_array_unref);
  npv_line_set_values (self->line, values, current_part (self));
  npv_line_set_caption (self->line, caption);
}

static void
line_dropdown_changed (GObject    *object,
                       GParamSpec *pspec,
                       NpvWindow  *self)
{
  update_line (self);
}

static void
line_hover_changed (NpvLine   *line,
                    NpvWindow *self)
{
  gint64 first, last;
  double mn, mx;
  g_autoptr(GString) text = g_string_new (NULL);

  if (!line_shown (self) || self->array == NULL)
    return;
  if (npv_line_get_hover (line, &first, &last, &mn, &mx))
    {
      if (first == last)
        g_string_append_printf (text, "[%" G_GINT64_FORMAT "] = %.17g", first, mn);
      else
        {
          g_autofree char *range = g_strdup_printf ("[%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT "]",
                                                    first, last + 1);

          /* Translators: the values under the pointer in the line view */
          g_string_append_printf (text, _("%s   min %.6g   max %.6g"), range, mn, mx);
        }
    }
  g_string_append_printf (text, text->len > 0 ? _("   ·   %.3g items per pixel") : _("%.3g items per pixel"),
                          npv_line_get_items_per_pixel (line));
  gtk_label_set_text (self->status_label, text->str);
}

static void update_shading_range (NpvWindow *self);

static void
apply_plane (NpvWindow *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvArray) view = NULL;
  g_autofree char *expression = NULL;

  if (self->array == NULL)
    return;
  view = npv_plane_apply (&self->plane, self->array, &error);
  npv_grid_set_plane (self->grid, view);
  update_heatmap_plane (self);
  update_line (self);
  npv_stats_panel_set_plane (self->stats_panel, view);
  expression = npv_plane_to_expression (&self->plane, "a");
  gtk_widget_set_tooltip_text (self->dims_bar, expression);
  {
    GtkWidget *label = g_object_get_data (G_OBJECT (self->dims_bar), "expression");

    if (label != NULL)
      gtk_label_set_text (GTK_LABEL (label), expression);
  }
}

static void
axis_value_changed (GtkSpinButton *spin,
                    NpvWindow     *self)
{
  guint axis = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (spin), "axis"));

  if (self->array == NULL || axis >= self->array->ndim)
    return;
  self->plane.fixed[axis] = (gint64) gtk_spin_button_get_value (spin);
  apply_plane (self);
}

static gboolean
rebuild_dims_bar_idle (gpointer user_data)
{
  rebuild_dims_bar (user_data);
  return G_SOURCE_REMOVE;
}

static void
axis_choice_changed (GtkDropDown *dropdown,
                     GParamSpec  *pspec,
                     NpvWindow   *self)
{
  gboolean rows = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dropdown), "rows"));
  guint chosen = gtk_drop_down_get_selected (dropdown);
  guint *mine = rows ? &self->plane.row_axis : &self->plane.col_axis;
  guint *other = rows ? &self->plane.col_axis : &self->plane.row_axis;

  if (self->array == NULL || chosen >= self->array->ndim || chosen == *mine)
    return;
  /* Choosing the other's axis swaps them. */
  if (chosen == *other)
    *other = *mine;
  *mine = chosen;
  self->plane.fixed[*mine] = 0;
  self->plane.fixed[*other] = 0;
  /* Rebuilt later: this dropdown is inside the bar. */
  g_idle_add_full (G_PRIORITY_HIGH_IDLE, rebuild_dims_bar_idle, g_object_ref (self), g_object_unref);
  apply_plane (self);
}

static void
transpose_clicked (GtkButton *button,
                   NpvWindow *self)
{
  guint row = self->plane.row_axis;

  if (self->plane.col_axis == NPV_PLANE_NO_AXIS)
    return;
  self->plane.row_axis = self->plane.col_axis;
  self->plane.col_axis = row;
  rebuild_dims_bar (self);
  apply_plane (self);
}

static void
copy_expression_clicked (GtkButton *button,
                         NpvWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.copy-expression", NULL);
}

static GtkWidget *
axis_dropdown (NpvWindow *self,
               gboolean   rows)
{
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);
  GtkWidget *dropdown;

  for (guint k = 0; k < self->array->ndim; k++)
    {
      /* Translators: an axis of an array and its length, "axis 2 (64)" */
      g_autofree char *length = g_strdup_printf ("%" G_GINT64_FORMAT, self->array->shape[k]);
      g_autofree char *name = g_strdup_printf (_("axis %u (%s)"), k, length);

      gtk_string_list_append (names, name);
    }
  dropdown = gtk_drop_down_new (G_LIST_MODEL (g_steal_pointer (&names)), NULL);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dropdown), rows ? self->plane.row_axis : self->plane.col_axis);
  g_object_set_data (G_OBJECT (dropdown), "rows", GINT_TO_POINTER (rows));
  g_signal_connect (dropdown, "notify::selected", G_CALLBACK (axis_choice_changed), self);
  return dropdown;
}

static void
append_axis_controls (NpvWindow *self,
                      GtkBox    *bar)
{
  GtkWidget *button;

  gtk_box_append (bar, gtk_label_new (_("Rows")));
  gtk_box_append (bar, axis_dropdown (self, TRUE));
  gtk_box_append (bar, gtk_label_new (_("Columns")));
  gtk_box_append (bar, axis_dropdown (self, FALSE));
  button = gtk_button_new_from_icon_name ("object-flip-horizontal-symbolic");
  gtk_widget_set_tooltip_text (button, _("Transpose: swap rows and columns"));
  g_signal_connect (button, "clicked", G_CALLBACK (transpose_clicked), self);
  gtk_box_append (bar, button);

  for (guint k = 0; k < self->array->ndim; k++)
    {
      GtkWidget *spin, *scale;
      GtkAdjustment *adjustment;
      g_autofree char *name = NULL;

      if (k == self->plane.row_axis || k == self->plane.col_axis)
        continue;
      adjustment = gtk_adjustment_new (self->plane.fixed[k], 0, MAX (self->array->shape[k] - 1, 0), 1, 10, 0);
      name = g_strdup_printf (_("axis %u"), k);
      gtk_box_append (bar, gtk_separator_new (GTK_ORIENTATION_VERTICAL));
      gtk_box_append (bar, gtk_label_new (name));
      scale = gtk_scale_new (GTK_ORIENTATION_HORIZONTAL, adjustment);
      gtk_scale_set_draw_value (GTK_SCALE (scale), FALSE);
      gtk_widget_set_size_request (scale, 100, -1);
      gtk_widget_set_hexpand (scale, TRUE);
      gtk_box_append (bar, scale);
      spin = gtk_spin_button_new (adjustment, 1, 0);
      gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), TRUE);
      g_object_set_data (G_OBJECT (spin), "axis", GUINT_TO_POINTER (k));
      g_signal_connect (spin, "value-changed", G_CALLBACK (axis_value_changed), self);
      gtk_box_append (bar, spin);
    }
}

static void
rebuild_dims_bar (NpvWindow *self)
{
  GtkBox *bar = GTK_BOX (self->dims_bar);
  GtkWidget *child, *button, *label;

  while ((child = gtk_widget_get_first_child (self->dims_bar)) != NULL)
    gtk_box_remove (bar, child);
  g_object_set_data (G_OBJECT (self->dims_bar), "expression", NULL);
  if (self->array == NULL)
    {
      gtk_widget_set_visible (self->dims_bar, FALSE);
      return;
    }

  /* 0-d and 1-D arrays have no axes to choose: just the expression. */
  if (self->array->ndim >= 2)
    append_axis_controls (self, bar);

  label = gtk_label_new (NULL);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "monospace");
  g_object_set_data (G_OBJECT (self->dims_bar), "expression", label);
  gtk_box_append (bar, label);
  button = gtk_button_new_from_icon_name ("edit-copy-symbolic");
  gtk_widget_set_tooltip_text (button, _("Copy the expression (Ctrl+Shift+C)"));
  g_signal_connect (button, "clicked", G_CALLBACK (copy_expression_clicked), self);
  gtk_box_append (bar, button);
  gtk_widget_set_visible (self->dims_bar, TRUE);
  {
    g_autofree char *expression = npv_plane_to_expression (&self->plane, "a");

    gtk_label_set_text (GTK_LABEL (label), expression);
  }
}

static void
show_array (NpvWindow *self,
            NpvArray  *array)
{
  g_clear_pointer (&self->array, npv_array_unref);
  self->array = npv_array_ref (array);
  npv_plane_init_default (&self->plane, array);
  /* pictures of bytes show as pictures */
  g_signal_handlers_block_by_func (self->rgb_check, rgb_toggled, self);
  gtk_widget_set_visible (GTK_WIDGET (self->rgb_check), rgb_possible (array));
  gtk_check_button_set_active (self->rgb_check, rgb_possible (array) && array->dtype->kind == NPV_KIND_UINT);
  g_signal_handlers_unblock_by_func (self->rgb_check, rgb_toggled, self);
  if (rgb_active (self) || (rgb_possible (array) && gtk_check_button_get_active (self->rgb_check)))
    rgb_plane (self);
  gtk_widget_set_visible (GTK_WIDGET (self->part_dropdown), array->dtype->kind == NPV_KIND_COMPLEX);
  gtk_widget_set_visible (self->part_label, array->dtype->kind == NPV_KIND_COMPLEX);
  npv_heatmap_set_part (self->heatmap, current_part (self));
  npv_stats_panel_set_arrays (self->stats_panel, array, NULL, current_part (self));
  rebuild_dims_bar (self);
  apply_plane (self);
  gtk_widget_set_visible (self->view_switcher, TRUE);
  update_shading_range (self);
  update_heatmap_range (self);
}

static gboolean
restore_scroll (gpointer user_data)
{
  NpvWindow *self = user_data;
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->values_scroller);

  if (self->restore_scroll >= 0)
    gtk_adjustment_set_value (adjustment, self->restore_scroll);
  self->restore_scroll = -1;
  return G_SOURCE_REMOVE;
}

static void
read_done (GObject      *object,
           GAsyncResult *res,
           gpointer      user_data)
{
  g_autoptr(NpvWindow) self = weak_window_take (user_data);
  g_autoptr(GError) error = NULL;
  ReadJob *job = g_task_get_task_data (G_TASK (res));

  if (self == NULL || g_task_get_cancellable (G_TASK (res)) != self->read_cancellable)
    return;
  stop_progress (self);

  if (!g_task_propagate_boolean (G_TASK (res), &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_text (self->member_error_label,
                            _("Reading was cancelled. Select the member again to read it."));
      else
        gtk_label_set_text (self->member_error_label, error->message);
      gtk_stack_set_visible_child_name (self->member_stack, "member-error");
      data_read_failed (self, error);
      return;
    }
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->values), job->text, -1);
  show_array (self, job->array);
  gtk_stack_set_visible_child_name (self->member_stack, "values");
  if (self->restore_scroll >= 0)
    {
      /* Once the new text is laid out, go back to where the reader was. */
      g_timeout_add_full (G_PRIORITY_LOW, 50, restore_scroll, g_object_ref (self), g_object_unref);
    }
}

static void
start_reading (NpvWindow       *self,
               const NpvMember *member)
{
  g_autoptr(GTask) task = NULL;
  ReadJob *job;
  gboolean compressed = member->storage == NPV_STORAGE_DEFLATE || member->storage == NPV_STORAGE_GZIP;

  g_cancellable_cancel (self->read_cancellable);
  g_clear_object (&self->read_cancellable);
  stop_progress (self);
  self->read_cancellable = g_cancellable_new ();

  job = g_atomic_rc_box_new0 (ReadJob);
  job->file = npv_file_ref (self->npv_file);
  job->member = member;
  job->slice = g_strdup (self->slice);
  self->reading = g_atomic_rc_box_acquire (job);

  gtk_label_set_text (self->reading_label, compressed ? _("Indexing…") : _("Reading…"));
  gtk_stack_set_visible_child_name (self->member_stack, "reading");
  set_busy (self, compressed ? _("Indexing") : _("Reading"));
  self->progress_source = g_timeout_add (100, progress_tick, self);

  task = g_task_new (NULL, self->read_cancellable, read_done, weak_window_new (self));
  g_task_set_task_data (task, job, (GDestroyNotify) read_job_unref);
  g_task_run_in_thread (task, read_in_thread);
}

static void
show_member (NpvWindow     *self,
             const NpvNode *node)
{
  const NpvMember *member = node->member;
  g_autofree char *brief = describe_node_briefly (node);

  /* Leaving a member cancels its reading. */
  g_cancellable_cancel (self->read_cancellable);
  stop_progress (self);

  self->member = member;
  g_clear_pointer (&self->array, npv_array_unref);
  npv_grid_set_plane (self->grid, NULL);
  npv_heatmap_set_plane (self->heatmap, NULL);
  npv_line_set_values (self->line, NULL, NPV_PART_ABS);
  npv_stats_panel_set_arrays (self->stats_panel, NULL, NULL, NPV_PART_ABS);
  gtk_widget_set_visible (self->dims_bar, FALSE);
  show_info (self, node);
  set_titles (self, node->path[0] != '\0' ? node->path : NULL);
  gtk_label_set_text (self->status_label, brief);
  update_actions (self);

  if (member == NULL)
    {
      guint n = count_members (node);
      g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                            "“%s” holds %u member. Select it to see it.",
                                                            "“%s” holds %u members. Select one to see it.",
                                                            n),
                                               node->path, n);

      gtk_label_set_text (self->folder_label, text);
      gtk_stack_set_visible_child_name (self->member_stack, "folder");
      return;
    }
  if (member->kind != NPV_MEMBER_ARRAY)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvArray) array = npv_file_open_array (self->npv_file, member, &error);

      gtk_label_set_text (self->member_error_label, error != NULL ? error->message : "");
      gtk_stack_set_visible_child_name (self->member_stack, "member-error");
      return;
    }

  if (self->slice != NULL && self->slice[0] != '\0')
    {
      g_autofree char *expression = g_strdup_printf ("a[%s]", self->slice);

      gtk_label_set_text (self->expression_label, expression);
    }
  else
    gtk_label_set_text (self->expression_label,
                        member->header.count > NPV_PRINT_OPTIONS_DEFAULT.threshold
                        ? _("a, long axes summarised") : "a");
  start_reading (self, member);
}

/* ------------------------------------------------------------------ */
/* The member tree */

static GListModel *
create_children (gpointer item,
                 gpointer user_data)
{
  NpvWindow *self = user_data;
  const NpvNode *node = npv_node_item_get_node (item);

  if (self->filtering || node->children == NULL)
    return NULL;
  return G_LIST_MODEL (npv_node_item_list_children (npv_node_item_get_file (item), node));
}

static void
setup_row (GtkSignalListItemFactory *factory,
           GtkListItem              *list_item,
           gpointer                  user_data)
{
  GtkWidget *expander = gtk_tree_expander_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *name = gtk_label_new (NULL);
  GtkWidget *brief = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_xalign (GTK_LABEL (brief), 0);
  gtk_label_set_ellipsize (GTK_LABEL (brief), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (brief, "dim-label");
  gtk_widget_add_css_class (brief, "caption");
  gtk_box_append (GTK_BOX (box), name);
  gtk_box_append (GTK_BOX (box), brief);
  gtk_tree_expander_set_child (GTK_TREE_EXPANDER (expander), box);
  gtk_list_item_set_child (list_item, expander);
}

static void
bind_row (GtkSignalListItemFactory *factory,
          GtkListItem              *list_item,
          gpointer                  user_data)
{
  NpvWindow *self = user_data;
  GtkTreeListRow *row = gtk_list_item_get_item (list_item);
  GtkWidget *expander = gtk_list_item_get_child (list_item);
  GtkWidget *box = gtk_tree_expander_get_child (GTK_TREE_EXPANDER (expander));
  GtkWidget *name = gtk_widget_get_first_child (box);
  GtkWidget *brief = gtk_widget_get_next_sibling (name);
  NpvNodeItem *item = gtk_tree_list_row_get_item (row);
  const NpvNode *node = npv_node_item_get_node (item);
  g_autofree char *text = describe_node_briefly (node);

  gtk_tree_expander_set_list_row (GTK_TREE_EXPANDER (expander), row);
  gtk_label_set_text (GTK_LABEL (name), self->filtering ? node->path : node->name);
  gtk_label_set_text (GTK_LABEL (brief), text);
  gtk_widget_set_tooltip_text (box, node->path);
  g_object_unref (item);
}

static void
unbind_row (GtkSignalListItemFactory *factory,
            GtkListItem              *list_item,
            gpointer                  user_data)
{
  GtkWidget *expander = gtk_list_item_get_child (list_item);

  gtk_tree_expander_set_list_row (GTK_TREE_EXPANDER (expander), NULL);
}

static NpvNodeItem *
selected_item (NpvWindow *self)
{
  GtkTreeListRow *row;

  if (self->selection == NULL)
    return NULL;
  row = gtk_single_selection_get_selected_item (self->selection);
  if (row == NULL)
    return NULL;
  return gtk_tree_list_row_get_item (row);
}

static void
selection_changed (GtkSingleSelection *selection,
                   GParamSpec         *pspec,
                   gpointer            user_data)
{
  NpvWindow *self = user_data;
  g_autoptr(NpvNodeItem) item = selected_item (self);

  if (item == NULL || self->npv_file == NULL)
    return;
  show_member (self, npv_node_item_get_node (item));
}

static void
collect_members (GPtrArray     *nodes,
                 const NpvNode *node)
{
  if (node->member != NULL)
    g_ptr_array_add (nodes, (gpointer) node);
  for (guint i = 0; node->children != NULL && i < node->children->len; i++)
    collect_members (nodes, g_ptr_array_index (node->children, i));
}

static gboolean
matches_filter (gpointer item,
                gpointer user_data)
{
  NpvWindow *self = user_data;
  const NpvNode *node = npv_node_item_get_node (item);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->member_filter));
  g_autofree char *haystack = g_utf8_casefold (node->path, -1);
  g_autofree char *needle = g_utf8_casefold (text, -1);

  return strstr (haystack, needle) != NULL;
}

/* The tree model, or with a filter the flat list of matching members. */
static void
set_tree_model (NpvWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->member_filter));
  GListModel *roots;

  g_clear_object (&self->tree_model);
  self->filtering = text[0] != '\0' && self->npv_file != NULL;

  if (self->npv_file == NULL)
    roots = G_LIST_MODEL (g_list_store_new (NPV_TYPE_NODE_ITEM));
  else if (self->filtering)
    {
      GtkFilter *filter = GTK_FILTER (gtk_custom_filter_new (matches_filter, self, NULL));
      GtkFilterListModel *filtered;

      if (self->all_members == NULL)
        {
          g_autoptr(GPtrArray) nodes = g_ptr_array_new ();

          collect_members (nodes, npv_file_get_tree (self->npv_file));
          self->all_members = G_LIST_MODEL (npv_node_list_new (self->npv_file, nodes));
        }
      filtered = gtk_filter_list_model_new (g_object_ref (self->all_members), filter);
      /* A million members are matched a batch at a time, between frames. */
      gtk_filter_list_model_set_incremental (filtered, TRUE);
      roots = G_LIST_MODEL (filtered);
    }
  else
    roots = G_LIST_MODEL (npv_node_item_list_children (self->npv_file,
                                                       npv_file_get_tree (self->npv_file)));

  self->tree_model = gtk_tree_list_model_new (roots, FALSE, FALSE, create_children, self, NULL);
  g_signal_handlers_block_by_func (self->selection, selection_changed, self);
  gtk_single_selection_set_model (self->selection, G_LIST_MODEL (self->tree_model));
  g_signal_handlers_unblock_by_func (self->selection, selection_changed, self);
}

static void
filter_changed (GtkSearchEntry *entry,
                gpointer        user_data)
{
  NpvWindow *self = user_data;
  g_autoptr(NpvNodeItem) previous = selected_item (self);
  const NpvNode *node = previous != NULL ? npv_node_item_get_node (previous) : NULL;
  g_autofree char *path = node != NULL ? g_strdup (node->path) : NULL;

  set_tree_model (self);
  /* Keep the member shown when it is still listed. */
  if (path == NULL || !npv_window_select_member (self, path))
    gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
}

static void
filter_stopped (GtkSearchEntry *entry,
                gpointer        user_data)
{
  NpvWindow *self = user_data;

  gtk_editable_set_text (GTK_EDITABLE (self->member_filter), "");
  gtk_widget_grab_focus (GTK_WIDGET (self->member_view));
}

/* Expands the folders on the way and selects the row of @path. */
static gboolean select_path_listed (NpvWindow  *self,
                                    const char *path);

/* Selects the member or folder at @path, or its member called @path. */
static gboolean
select_path (NpvWindow  *self,
             const char *path)
{
  GListModel *roots;

  if (select_path_listed (self, path))
    return TRUE;
  /* A long list may not have listed it yet: list the rest now. */
  roots = gtk_tree_list_model_get_model (self->tree_model);
  if (NPV_IS_NODE_LIST (roots) && !npv_node_list_is_complete (NPV_NODE_LIST (roots)))
    {
      npv_node_list_finish (NPV_NODE_LIST (roots));
      return select_path_listed (self, path);
    }
  return FALSE;
}

static gboolean
select_path_listed (NpvWindow  *self,
                    const char *path)
{
  GListModel *model = G_LIST_MODEL (self->tree_model);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(GtkTreeListRow) row = g_list_model_get_item (model, i);
      g_autoptr(NpvNodeItem) item = gtk_tree_list_row_get_item (row);
      const NpvNode *node = npv_node_item_get_node (item);
      gsize len = strlen (node->path);

      if (strcmp (node->path, path) == 0 ||
          (node->member != NULL && strcmp (node->member->name, path) == 0))
        {
          gtk_single_selection_set_selected (self->selection, i);
          gtk_widget_activate_action (GTK_WIDGET (self->member_view), "list.scroll-to-item", "u", i);
          return TRUE;
        }
      if (!self->filtering && node->children != NULL && strncmp (node->path, path, len) == 0 &&
          (path[len] == '/' || (len == 1 && node->path[0] == '/')))
        gtk_tree_list_row_set_expanded (row, TRUE);
    }
  return FALSE;
}

static const NpvNode *
first_array (const NpvNode *node)
{
  if (node->member != NULL && node->member->kind == NPV_MEMBER_ARRAY)
    return node;
  for (guint i = 0; node->children != NULL && i < node->children->len; i++)
    {
      const NpvNode *found = first_array (g_ptr_array_index (node->children, i));

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
select_first_array (NpvWindow *self)
{
  const NpvNode *root = npv_file_get_tree (self->npv_file);
  const NpvNode *node = first_array (root);

  if (node == NULL && root->children != NULL)
    node = g_ptr_array_index (root->children, 0);
  if (node != NULL)
    select_path (self, node->path);
}

/* ------------------------------------------------------------------ */
/* Opening files */

static void
show_file (NpvWindow *self,
           NpvFile   *file)
{
  gboolean single = npv_file_get_format (file) == NPV_FILE_FORMAT_NPY ||
                    npv_file_get_format (file) == NPV_FILE_FORMAT_NPY_GZ ||
                    (npv_file_get_n_members (file) == 1 && npv_file_get_member (file, 0)->name[0] == '\0');

  g_clear_pointer (&self->npv_file, npv_file_unref);
  self->npv_file = npv_file_ref (file);
  self->member = NULL;

  /* Made when a filter first needs it. */
  g_clear_object (&self->all_members);

  gtk_editable_set_text (GTK_EDITABLE (self->member_filter), "");
  set_tree_model (self);
  set_busy (self, NULL);
  gtk_stack_set_visible_child_name (self->stack, "file");
  /* A file of one array needs no member list. */
  {
    g_autoptr(GVariant) show = g_action_group_get_action_state (G_ACTION_GROUP (self), "show-sidebar");

    gtk_widget_set_visible (self->sidebar, !single && g_variant_get_boolean (show));
  }

  if (self->wanted_member == NULL || !select_path (self, self->wanted_member))
    select_first_array (self);
  g_clear_pointer (&self->wanted_member, g_free);
  gtk_widget_grab_focus (GTK_WIDGET (single ? GTK_WIDGET (self->values) : GTK_WIDGET (self->member_view)));
  update_actions (self);
}

static void
open_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GFile *file = task_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_file_get_path (file);
  NpvFile *npv_file;

  if (path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);

      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("%s: only local files can be opened"), uri);
      return;
    }
  npv_file = npv_file_open (path, &error);
  if (npv_file == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, npv_file, (GDestroyNotify) npv_file_unref);
}

static gboolean
auto_reload_due (gpointer user_data)
{
  NpvWindow *self = user_data;

  self->auto_reload_source = 0;
  if (self->file != NULL && g_file_query_exists (self->file, NULL))
    gtk_widget_activate_action (GTK_WIDGET (self), "win.reload", NULL);
  else
    gtk_revealer_set_reveal_child (self->banner, TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
reload_automatically (NpvWindow *self)
{
  return self->settings != NULL && g_settings_get_boolean (self->settings, "reload-automatically");
}

/* The file changed on disk: say so and offer to reload, or reload once
 * the writer seems done, if the user asked for that. The view keeps the
 * data it has (a replaced file stays open as it was) until then. */
static void
offer_reload (NpvWindow  *self,
              const char *message)
{
  gtk_label_set_text (self->banner_label, message);
  if (reload_automatically (self))
    {
      /* A writer that goes on within the delay postpones the reload. */
      g_clear_handle_id (&self->auto_reload_source, g_source_remove);
      self->auto_reload_source = g_timeout_add (400, auto_reload_due, self);
      return;
    }
  gtk_revealer_set_reveal_child (self->banner, TRUE);
}

static void
file_changed (GFileMonitor      *monitor,
              GFile             *file,
              GFile             *other,
              GFileMonitorEvent  event,
              gpointer           user_data)
{
  NpvWindow *self = user_data;

  switch (event)
    {
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
    case G_FILE_MONITOR_EVENT_CREATED:
    case G_FILE_MONITOR_EVENT_RENAMED:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
      offer_reload (self, _("The file has changed on disk."));
      break;
    case G_FILE_MONITOR_EVENT_DELETED:
    case G_FILE_MONITOR_EVENT_MOVED_OUT:
      gtk_label_set_text (self->banner_label,
                          _("The file was deleted or moved away. The values shown are what it held."));
      gtk_revealer_set_reveal_child (self->banner, TRUE);
      break;
    default:
      break;
    }
}

/* A view or a job could not read values: if the file was cut short since
 * it was opened, offer to read it again. */
static void
data_read_failed (NpvWindow    *self,
                  const GError *error)
{
  if (g_error_matches (error, NPV_ERROR, NPV_ERROR_TRUNCATED))
    offer_reload (self, _("The file has changed on disk: some values can no longer be read."));
}

static void
view_read_failed (GtkWidget *view,
                  GError    *error,
                  gpointer   user_data)
{
  data_read_failed (NPV_WINDOW (user_data), error);
}

static void
watch_file (NpvWindow *self)
{
  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }
  if (self->file == NULL)
    return;
  self->monitor = g_file_monitor_file (self->file, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (file_changed), self);
}

static void
open_done (GObject      *object,
           GAsyncResult *res,
           gpointer      user_data)
{
  g_autoptr(NpvWindow) self = weak_window_take (user_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvFile) file = NULL;

  /* The window went away, or a newer open replaced this one. */
  if (self == NULL || g_task_get_cancellable (G_TASK (res)) != self->open_cancellable)
    return;

  file = g_task_propagate_pointer (G_TASK (res), &error);
  if (file == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error->message);
      return;
    }
  if (self->file != NULL)
    {
      g_autofree char *uri = g_file_get_uri (self->file);

      gtk_recent_manager_add_item (gtk_recent_manager_get_default (), uri);
    }
  watch_file (self);
  show_file (self, file);
}

static void
reset (NpvWindow *self)
{
  g_cancellable_cancel (self->open_cancellable);
  g_clear_object (&self->open_cancellable);
  g_cancellable_cancel (self->read_cancellable);
  g_clear_object (&self->read_cancellable);
  stop_progress (self);
  self->member = NULL;
  g_clear_pointer (&self->npv_file, npv_file_unref);
  g_clear_object (&self->all_members);
  if (self->selection != NULL)
    set_tree_model (self);
  info_clear (self);
  gtk_revealer_set_reveal_child (self->banner, FALSE);
}

void
npv_window_open (NpvWindow  *self,
                 GFile      *file,
                 const char *member,
                 const char *slice)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (NPV_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  reset (self);
  self->restore_scroll = -1;
  g_set_object (&self->file, file);
  g_free (self->display_name);
  self->display_name = g_file_get_basename (file);
  g_free (self->wanted_member);
  self->wanted_member = g_strdup (member);
  g_free (self->slice);
  self->slice = g_strdup (slice);
  set_titles (self, NULL);

  self->open_cancellable = g_cancellable_new ();
  gtk_label_set_text (self->loading_label, _("Opening…"));
  gtk_stack_set_visible_child_name (self->stack, "loading");
  set_busy (self, _("Opening"));
  update_actions (self);

  task = g_task_new (NULL, self->open_cancellable, open_done, weak_window_new (self));
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, open_in_thread);
}

void
npv_window_open_example (NpvWindow  *self,
                         const char *member)
{
  g_autoptr(GBytes) bytes = npv_example_archive ();
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvFile) file = NULL;

  g_return_if_fail (NPV_IS_WINDOW (self));

  reset (self);
  g_clear_object (&self->file);
  watch_file (self);
  g_free (self->display_name);
  self->display_name = g_strdup (_("Examples"));
  g_clear_pointer (&self->slice, g_free);
  g_free (self->wanted_member);
  self->wanted_member = g_strdup (member);
  set_titles (self, NULL);

  file = npv_file_open_bytes (bytes, self->display_name, &error);
  if (file == NULL)
    {
      show_error (self, error->message);
      return;
    }
  show_file (self, file);
}

/* ------------------------------------------------------------------ */
/* The welcome page */

static const struct
{
  const char *member;
  const char *title;
  const char *subtitle;
} examples[] = {
  { "field", N_("Smooth field"), N_("A 2-D float64 field with missing values (NaN)") },
  { "stack", N_("Stack"), N_("A 3-D float32 stack of 12 planes") },
  { "image", N_("RGB image"), N_("A uint8 image with three colour channels") },
  { "complex", N_("Complex field"), N_("complex128 values with amplitude and phase") },
  { "records", N_("Records"), N_("Structured records with a datetime field") },
  { "signal", N_("Long signal"), N_("One million float64 samples") },
  { "experiment/run-1/field", N_("A tree of members"), N_("Members in folders, as in an archive") },
};

static GtkWidget *
welcome_row (const char *title,
             const char *subtitle)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title_label = gtk_label_new (title);
  GtkWidget *subtitle_label = gtk_label_new (subtitle);

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 8);
  gtk_label_set_xalign (GTK_LABEL (title_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_xalign (GTK_LABEL (subtitle_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (subtitle_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_add_css_class (subtitle_label, "dim-label");
  gtk_widget_add_css_class (subtitle_label, "caption");
  gtk_box_append (GTK_BOX (box), title_label);
  gtk_box_append (GTK_BOX (box), subtitle_label);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  return row;
}

static void
example_activated (GtkListBox    *list,
                   GtkListBoxRow *row,
                   gpointer       user_data)
{
  NpvWindow *self = user_data;
  int i = gtk_list_box_row_get_index (row);

  if (i >= 0 && (guint) i < G_N_ELEMENTS (examples))
    npv_window_open_example (self, examples[i].member);
}

static void
recent_activated (GtkListBox    *list,
                  GtkListBoxRow *row,
                  gpointer       user_data)
{
  NpvWindow *self = user_data;
  const char *uri = g_object_get_data (G_OBJECT (row), "uri");
  g_autoptr(GFile) file = g_file_new_for_uri (uri);

  npv_window_open (self, file, NULL, NULL);
}

static void
fill_recent (NpvWindow *self)
{
  GList *items = gtk_recent_manager_get_items (gtk_recent_manager_get_default ());
  GtkWidget *child;
  guint n = 0;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->recent_list))) != NULL)
    gtk_list_box_remove (self->recent_list, child);

  for (GList *l = items; l != NULL && n < 8; l = l->next)
    {
      GtkRecentInfo *info = l->data;
      GtkWidget *row;
      g_autoptr(GFile) file = NULL;
      g_autofree char *parent = NULL;

      if (!gtk_recent_info_has_application (info, g_get_application_name ()) ||
          !gtk_recent_info_is_local (info) || !gtk_recent_info_exists (info))
        continue;
      file = g_file_new_for_uri (gtk_recent_info_get_uri (info));
      {
        g_autoptr(GFile) dir = g_file_get_parent (file);

        parent = dir != NULL ? g_file_get_parse_name (dir) : g_strdup ("");
      }
      row = welcome_row (gtk_recent_info_get_display_name (info), parent);
      g_object_set_data_full (G_OBJECT (row), "uri", g_strdup (gtk_recent_info_get_uri (info)), g_free);
      gtk_list_box_append (self->recent_list, row);
      n++;
    }
  g_list_free_full (items, (GDestroyNotify) gtk_recent_info_unref);
  gtk_widget_set_visible (GTK_WIDGET (self->recent_list), n > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->recent_heading), n > 0);
}

void
npv_window_show_welcome (NpvWindow *self)
{
  g_return_if_fail (NPV_IS_WINDOW (self));

  reset (self);
  g_clear_object (&self->file);
  watch_file (self);
  g_clear_pointer (&self->display_name, g_free);
  set_titles (self, NULL);
  fill_recent (self);
  /* Made when first shown: a window opening a file never needs them. */
  if (gtk_widget_get_first_child (GTK_WIDGET (self->example_list)) == NULL)
    for (guint i = 0; i < G_N_ELEMENTS (examples); i++)
      gtk_list_box_append (self->example_list, welcome_row (_(examples[i].title), _(examples[i].subtitle)));
  gtk_stack_set_visible_child_name (self->stack, "welcome");
  gtk_label_set_text (self->status_label, "");
  update_actions (self);
}

/* ------------------------------------------------------------------ */
/* Actions */

static void
open_files (NpvWindow  *self,
            GListModel *files)
{
  GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  guint n = g_list_model_get_n_items (files);
  guint first = 0;

  if (n == 0)
    return;
  /* A window showing no file takes the first one itself. */
  if (self->file == NULL && self->npv_file == NULL)
    {
      g_autoptr(GFile) file = g_list_model_get_item (files, 0);

      npv_window_open (self, file, NULL, NULL);
      first = 1;
    }
  if (first < n && app != NULL)
    {
      g_autoptr(GPtrArray) rest = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = first; i < n; i++)
        g_ptr_array_add (rest, g_list_model_get_item (files, i));
      g_application_open (app, (GFile **) rest->pdata, rest->len, "");
    }
}

static void
chooser_response (GtkNativeDialog *dialog,
                  int              response,
                  gpointer         user_data)
{
  g_autoptr(NpvWindow) self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));

      open_files (self, files);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
open_activated (GtkWidget  *widget,
                const char *action,
                GVariant   *param)
{
  NpvWindow *self = NPV_WINDOW (widget);
  GtkFileChooserNative *chooser;
  GtkFileFilter *filter;

  chooser = gtk_file_chooser_native_new (_("Open Array Files"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);

  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("NumPy files"));
  gtk_file_filter_add_mime_type (filter, "application/x-npy");
  gtk_file_filter_add_mime_type (filter, "application/x-npz");
  gtk_file_filter_add_suffix (filter, "npy");
  gtk_file_filter_add_suffix (filter, "npz");
  gtk_file_filter_add_pattern (filter, "*.npy.gz");
  gtk_file_filter_add_suffix (filter, "pkl");
  gtk_file_filter_add_suffix (filter, "pickle");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);

  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("All files"));
  gtk_file_filter_add_pattern (filter, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);

  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
reload_activated (GtkWidget  *widget,
                  const char *action,
                  GVariant   *param)
{
  NpvWindow *self = NPV_WINDOW (widget);
  g_autoptr(GFile) file = NULL;
  g_autofree char *member = NULL;
  g_autofree char *slice = NULL;

  if (self->file == NULL)
    return;
  file = g_object_ref (self->file);
  {
    g_autoptr(NpvNodeItem) item = selected_item (self);

    member = item != NULL ? g_strdup (npv_node_item_get_node (item)->path) : NULL;
  }
  slice = g_strdup (self->slice);
  npv_window_open (self, file, member, slice);
  /* Keep the reader's place in the values. */
  self->restore_scroll = gtk_adjustment_get_value (gtk_scrolled_window_get_vadjustment (self->values_scroller));
}

static void
cancel_activated (GtkWidget  *widget,
                  const char *action,
                  GVariant   *param)
{
  NpvWindow *self = NPV_WINDOW (widget);

  if (self->export_cancellable != NULL)
    g_cancellable_cancel (self->export_cancellable);
  else if (self->read_cancellable != NULL && self->reading != NULL)
    g_cancellable_cancel (self->read_cancellable);
  else if (self->open_cancellable != NULL && self->npv_file == NULL)
    {
      g_cancellable_cancel (self->open_cancellable);
      npv_window_show_welcome (self);
    }
}

/* Built when first asked for, not with every window. */
static void
shortcuts_activated (GtkWidget  *widget,
                     const char *action,
                     GVariant   *param)
{
  g_autoptr(GtkBuilder) builder = gtk_builder_new_from_resource ("/io/github/npyview/NpyView/npv-shortcuts.ui");
  GtkWindow *shortcuts = GTK_WINDOW (gtk_builder_get_object (builder, "help_overlay"));

  gtk_window_set_transient_for (shortcuts, GTK_WINDOW (widget));
  gtk_window_present (shortcuts);
}

static void
dismiss_banner_activated (GtkWidget  *widget,
                          const char *action,
                          GVariant   *param)
{
  gtk_revealer_set_reveal_child (NPV_WINDOW (widget)->banner, FALSE);
}

static void
filter_activated (GtkWidget  *widget,
                  const char *action,
                  GVariant   *param)
{
  NpvWindow *self = NPV_WINDOW (widget);

  if (!gtk_widget_get_visible (self->sidebar))
    g_action_group_change_action_state (G_ACTION_GROUP (self), "show-sidebar",
                                        g_variant_new_boolean (TRUE));
  gtk_widget_set_visible (self->sidebar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->member_filter));
}

static void
export_activated (GtkWidget  *widget,
                  const char *action,
                  GVariant   *param);

static void
copy_expression_activated (GtkWidget  *widget,
                           const char *action,
                           GVariant   *param)
{
  NpvWindow *self = NPV_WINDOW (widget);
  g_autofree char *expression = NULL;

  if (self->array == NULL)
    return;
  expression = npv_plane_to_expression (&self->plane, "a");
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), expression);
}

/* numpy's expression for the selected cells: "a[3, 10:20, :5].T", with
 * ['field'] when they lie in one field of a record. */
static char *
selection_expression (NpvWindow *self)
{
  gint64 r0, c0, r1, c1;
  guint l = grid_leaves (self);
  GString *out = g_string_new ("a");
  gboolean one_leaf;

  npv_grid_get_selection (self->grid, &r0, &c0, &r1, &c1);
  one_leaf = l > 1 && c0 % l == c1 % l && c1 - c0 < (gint64) l;
  if (one_leaf)
    {
      g_autoptr(GArray) leaves = npv_dtype_collect_leaves (self->array->dtype);
      const char *name = g_array_index (leaves, NpvLeaf, c0 % l).name;

      /* Nested fields are a['a']['b']; subarray elements keep numpy's spelling. */
      if (strchr (name, '[') == NULL)
        {
          g_auto(GStrv) parts = g_strsplit (name, ".", -1);

          for (guint i = 0; parts[i] != NULL; i++)
            g_string_append_printf (out, "['%s']", parts[i]);
        }
      else
        one_leaf = FALSE;
    }
  c0 /= l;
  c1 /= l;
  if (self->array->ndim > 0)
    {
      g_string_append_c (out, '[');
      for (guint k = 0; k < self->array->ndim; k++)
        {
          gint64 a = k == self->plane.row_axis ? r0 : c0, b = k == self->plane.row_axis ? r1 : c1;

          if (k > 0)
            g_string_append (out, ", ");
          if (k != self->plane.row_axis && k != self->plane.col_axis)
            g_string_append_printf (out, "%" G_GINT64_FORMAT, self->plane.fixed[k]);
          else if (a == 0 && b == self->array->shape[k] - 1)
            g_string_append_c (out, ':');
          else
            g_string_append_printf (out, "%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT, a, b + 1);
        }
      g_string_append_c (out, ']');
    }
  if (self->plane.col_axis != NPV_PLANE_NO_AXIS && self->plane.row_axis > self->plane.col_axis)
    g_string_append (out, ".T");
  return g_string_free (out, FALSE);
}

static void
copy_selection_expression_activated (GtkWidget  *widget,
                                     const char *action,
                                     GVariant   *param)
{
  NpvWindow *self = NPV_WINDOW (widget);
  g_autofree char *expression = NULL;

  if (self->array == NULL)
    return;
  expression = selection_expression (self);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), expression);
}

static void
copy_activated (GtkWidget  *widget,
                const char *action,
                GVariant   *param)
{
  NpvWindow *self = NPV_WINDOW (widget);

  gtk_widget_activate_action (GTK_WIDGET (self->grid), "grid.copy", NULL);
}

/* The heatmap as it is on screen, its colour bar and indices included, as
 * an image on the clipboard. */
static void
copy_picture_activated (GtkWidget  *widget,
                        const char *action,
                        GVariant   *param)
{
  NpvWindow *self = NPV_WINDOW (widget);
  GtkWidget *heatmap = GTK_WIDGET (self->heatmap);
  int w = gtk_widget_get_width (heatmap), h = gtk_widget_get_height (heatmap);
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkSnapshot *snapshot;
  GskRenderer *renderer;

  if (!gtk_widget_get_mapped (heatmap) || w <= 0 || h <= 0)
    {
      gtk_widget_error_bell (widget);
      return;
    }
  snapshot = gtk_snapshot_new ();
  /* on white, as a picture pasted elsewhere would be */
  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 1, 1, 1, 1 }, &GRAPHENE_RECT_INIT (0, 0, w, h));
  paintable = gtk_widget_paintable_new (heatmap);
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (snapshot);
  renderer = gtk_native_get_renderer (gtk_widget_get_native (heatmap));
  if (node == NULL || renderer == NULL)
    return;
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  gdk_clipboard_set_texture (gtk_widget_get_clipboard (widget), texture);
  gtk_label_set_text (self->status_label, _("The picture is on the clipboard"));
}

static void
heatmap_context_menu (GtkGestureClick *gesture,
                      int              n_press,
                      double           x,
                      double           y,
                      NpvWindow       *self)
{
  g_autoptr(GMenu) menu = g_menu_new ();
  GtkWidget *popover;

  if (self->array == NULL)
    return;
  g_menu_append (menu, _("_Copy"), "win.copy");
  g_menu_append (menu, _("Copy as NumPy _Expression"), "win.copy-selection-expression");
  g_menu_append (menu, _("Copy _Picture"), "win.copy-picture");
  g_menu_append (menu, _("_Export…"), "win.export");
  popover = gtk_popover_menu_new_from_model (G_MENU_MODEL (menu));
  gtk_widget_set_parent (popover, GTK_WIDGET (self->heatmap));
  gtk_popover_set_pointing_to (GTK_POPOVER (popover), &(GdkRectangle) { (int) x, (int) y, 1, 1 });
  gtk_popover_set_has_arrow (GTK_POPOVER (popover), FALSE);
  gtk_widget_set_halign (popover, GTK_ALIGN_START);
  g_signal_connect (popover, "closed", G_CALLBACK (gtk_widget_unparent), NULL);
  gtk_popover_popup (GTK_POPOVER (popover));
}

static void
grid_context_menu (GtkGestureClick *gesture,
                   int              n_press,
                   double           x,
                   double           y,
                   NpvWindow       *self)
{
  g_autoptr(GMenu) menu = g_menu_new ();
  GtkWidget *popover;

  if (self->array == NULL)
    return;
  g_menu_append (menu, _("_Copy"), "win.copy");
  g_menu_append (menu, _("Copy as NumPy _Expression"), "win.copy-selection-expression");
  g_menu_append (menu, _("Select _All"), "grid.select-all");
  g_menu_append (menu, _("_Go to Index…"), "win.goto");
  popover = gtk_popover_menu_new_from_model (G_MENU_MODEL (menu));
  gtk_widget_set_parent (popover, GTK_WIDGET (self->grid));
  gtk_popover_set_pointing_to (GTK_POPOVER (popover), &(GdkRectangle) { (int) x, (int) y, 1, 1 });
  gtk_popover_set_has_arrow (GTK_POPOVER (popover), FALSE);
  gtk_widget_set_halign (popover, GTK_ALIGN_START);
  g_signal_connect (popover, "closed", G_CALLBACK (gtk_widget_unparent), NULL);
  gtk_popover_popup (GTK_POPOVER (popover));
}

static void
view_activated (GtkWidget  *widget,
                const char *action,
                GVariant   *param)
{
  NpvWindow *self = NPV_WINDOW (widget);
  const char *view = g_variant_get_string (param, NULL);

  gtk_stack_set_visible_child_name (self->view_stack, view);
  if (strcmp (view, "grid") == 0)
    gtk_widget_grab_focus (GTK_WIDGET (self->grid));
}

static void
visible_view_changed (GtkStack   *stack,
                      GParamSpec *pspec,
                      NpvWindow  *self)
{
  const char *view = gtk_stack_get_visible_child_name (stack);

  if (g_strcmp0 (view, "heatmap") == 0)
    {
      if (self->heatmap_stale)
        update_heatmap_plane (self);
      else
        sync_heatmap_selection (self);
      gtk_widget_grab_focus (GTK_WIDGET (self->heatmap));
      heatmap_status (self);
    }
  else if (g_strcmp0 (view, "line") == 0)
    {
      update_line (self);
      gtk_widget_grab_focus (GTK_WIDGET (self->line));
      line_hover_changed (self->line, self);
    }
  else if (g_strcmp0 (view, "grid") == 0)
    update_status (self, FALSE);
  if (self->settings != NULL && (g_strcmp0 (view, "grid") == 0 || g_strcmp0 (view, "heatmap") == 0 ||
                                 g_strcmp0 (view, "line") == 0))
    g_settings_set_string (self->settings, "last-view", view);
}

static void
goto_entry_activated (GtkEntry  *entry,
                      NpvWindow *self)
{
  g_auto(GStrv) parts = g_strsplit (gtk_editable_get_text (GTK_EDITABLE (entry)), ",", -1);
  guint n = g_strv_length (parts);
  gint64 values[NPV_MAX_DIMS];
  guint l = grid_leaves (self);

  if (self->array == NULL || n == 0 || n > NPV_MAX_DIMS)
    {
      gtk_widget_error_bell (GTK_WIDGET (entry));
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      char *end;
      const char *text = g_strstrip (parts[i]);

      values[i] = g_ascii_strtoll (text, &end, 10);
      if (text[0] == '\0' || *end != '\0')
        {
          gtk_widget_error_bell (GTK_WIDGET (entry));
          return;
        }
    }
  /* A full index moves the plane too; "row, col" stays in this plane.
   * Negative values count from the end, as in numpy. */
  if (n == self->array->ndim && n > 2)
    {
      for (guint k = 0; k < n; k++)
        {
          gint64 v = values[k] < 0 ? values[k] + self->array->shape[k] : values[k];

          if (k != self->plane.row_axis && k != self->plane.col_axis)
            self->plane.fixed[k] = CLAMP (v, 0, MAX (self->array->shape[k] - 1, 0));
        }
      rebuild_dims_bar (self);
      apply_plane (self);
      values[0] = values[self->plane.row_axis];
      values[1] = values[self->plane.col_axis];
    }
  else if (n == 1 && self->plane.col_axis == NPV_PLANE_NO_AXIS)
    values[1] = 0;
  else if (n != 2)
    {
      gtk_widget_error_bell (GTK_WIDGET (entry));
      return;
    }
  {
    gint64 rows = npv_grid_get_n_rows (self->grid);
    gint64 cols = npv_grid_get_n_columns (self->grid) / l;
    gint64 row = values[0] < 0 ? values[0] + rows : values[0];
    gint64 col = values[1] < 0 ? values[1] + cols : values[1];

    npv_grid_set_cursor (self->grid, row, col * l, FALSE);
  }
  gtk_popover_popdown (GTK_POPOVER (gtk_widget_get_ancestor (GTK_WIDGET (entry), GTK_TYPE_POPOVER)));
  gtk_widget_grab_focus (GTK_WIDGET (self->grid));
}

static void
goto_activated (GtkWidget  *widget,
                const char *action,
                GVariant   *param)
{
  NpvWindow *self = NPV_WINDOW (widget);
  GtkWidget *popover, *box, *label, *entry;

  if (self->array == NULL)
    return;
  gtk_stack_set_visible_child_name (self->view_stack, "grid");
  popover = gtk_popover_new ();
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  label = gtk_label_new (_("Go to an index: “row, column” or a full index like “3, 17, 40”"));
  entry = gtk_entry_new ();
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), entry);
  gtk_popover_set_child (GTK_POPOVER (popover), box);
  gtk_widget_set_parent (popover, GTK_WIDGET (self->status_label));
  g_signal_connect (entry, "activate", G_CALLBACK (goto_entry_activated), self);
  g_signal_connect (popover, "closed", G_CALLBACK (gtk_widget_unparent), NULL);
  gtk_popover_popup (GTK_POPOVER (popover));
  gtk_widget_grab_focus (entry);
}

static NpvNumberFormat
current_number_format (NpvWindow *self)
{
  NpvNumberFormat format = { NPV_NUMBER_AUTO, 6 };
  g_autoptr(GVariant) style = g_action_group_get_action_state (G_ACTION_GROUP (self), "number-format");
  g_autoptr(GVariant) decimals = g_action_group_get_action_state (G_ACTION_GROUP (self), "decimals");
  const char *name = g_variant_get_string (style, NULL);

  format.style = strcmp (name, "fixed") == 0 ? NPV_NUMBER_FIXED
                 : strcmp (name, "scientific") == 0 ? NPV_NUMBER_SCIENTIFIC : NPV_NUMBER_AUTO;
  format.decimals = (guint) CLAMP (g_variant_get_int32 (decimals), 0, 20);
  return format;
}

static void
apply_number_format (NpvWindow *self)
{
  NpvNumberFormat format = current_number_format (self);

  npv_grid_set_number_format (self->grid, &format);
}

static void
number_format_state (GSimpleAction *action,
                     GVariant      *state,
                     gpointer       user_data)
{
  NpvWindow *self = user_data;
  const char *name = g_action_get_name (G_ACTION (action));

  g_simple_action_set_state (action, state);
  if (self->settings != NULL && strcmp (name, "number-format") == 0)
    g_settings_set_string (self->settings, "number-format", g_variant_get_string (state, NULL));
  else if (self->settings != NULL)
    g_settings_set_int (self->settings, "decimals", g_variant_get_int32 (state));
  apply_number_format (self);
}

/* The whole array's range for shading, computed on the worker pool. */
static void
range_in_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  NpvArray *array = task_data;
  NpvStats *stats = g_new0 (NpvStats, 1);
  GError *error = NULL;

  if (!npv_array_compute_stats (array, 0, cancellable, stats, &error))
    {
      g_free (stats);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, stats, g_free);
}

static void
range_done (GObject      *object,
            GAsyncResult *res,
            gpointer      user_data)
{
  g_autoptr(NpvWindow) self = weak_window_take (user_data);
  g_autofree NpvStats *stats = g_task_propagate_pointer (G_TASK (res), NULL);

  if (self == NULL || stats == NULL || g_task_get_cancellable (G_TASK (res)) != self->range_cancellable)
    return;
  npv_grid_set_shading_range (self->grid, TRUE, stats->min, stats->max);
}

static void
update_shading_range (NpvWindow *self)
{
  g_autoptr(GVariant) range = g_action_group_get_action_state (G_ACTION_GROUP (self), "shade-range");
  g_autoptr(GTask) task = NULL;

  g_cancellable_cancel (self->range_cancellable);
  g_clear_object (&self->range_cancellable);
  npv_grid_set_shading_range (self->grid, FALSE, 0, 0);
  /* Records and text have no single range: they keep the screen's. */
  if (self->array == NULL || strcmp (g_variant_get_string (range, NULL), "array") != 0 ||
      !npv_dtype_is_real (self->array->dtype))
    return;
  self->range_cancellable = g_cancellable_new ();
  task = g_task_new (NULL, self->range_cancellable, range_done, weak_window_new (self));
  g_task_set_task_data (task, npv_array_ref (self->array), (GDestroyNotify) npv_array_unref);
  g_task_run_in_thread (task, range_in_thread);
}

static void
shade_range_state (GSimpleAction *action,
                   GVariant      *state,
                   gpointer       user_data)
{
  g_simple_action_set_state (action, state);
  update_shading_range (user_data);
}

static void
toggle_state (GSimpleAction *action,
              GVariant      *state,
              gpointer       user_data)
{
  NpvWindow *self = user_data;
  const char *name = g_action_get_name (G_ACTION (action));
  gboolean visible = g_variant_get_boolean (state);

  g_simple_action_set_state (action, state);
  if (strcmp (name, "shade-cells") == 0)
    {
      npv_grid_set_shading (self->grid, visible);
      return;
    }
  if (strcmp (name, "show-sidebar") == 0)
    {
      gtk_widget_set_visible (self->sidebar, visible);
      if (self->settings != NULL)
        g_settings_set_boolean (self->settings, "sidebar-visible", visible);
    }
  else
    {
      gtk_widget_set_visible (self->inspector, visible);
      if (self->settings != NULL)
        g_settings_set_boolean (self->settings, "inspector-visible", visible);
    }
}

/* ------------------------------------------------------------------ */
/* Export of the selection, the plane or the whole member */

typedef struct
{
  NpvFile *file;
  const NpvMember *member;
  char *slice;
  NpvArray *view;              /* what to write; NULL: the member with slice */
  char *path;
  /* PNG: the heatmap's picture of view (or of the channels), at one value
   * per pixel or at the heatmap's scale, framed or not */
  gboolean png;
  NpvArray *channels[4];
  guint n_channels;
  NpvRenderStyle style;
  NpvPart part;
  double items_per_pixel;      /* 0: one value per pixel */
  gboolean frame;
  gint *permille;              /* progress, shared with the window (an rc box) */
  /* CSV/TSV: numbers as the grid shows them, or with round-trip digits */
  gboolean as_shown;
  NpvNumberFormat numbers;
} ExportJob;

static void
export_job_free (ExportJob *job)
{
  g_clear_pointer (&job->file, npv_file_unref);
  g_clear_pointer (&job->view, npv_array_unref);
  for (guint k = 0; k < 4; k++)
    g_clear_pointer (&job->channels[k], npv_array_unref);
  g_clear_pointer (&job->permille, g_atomic_rc_box_release);
  g_free (job->slice);
  g_free (job->path);
  g_free (job);
}

static void
export_progress (guint64  done,
                 guint64  total,
                 gpointer user_data)
{
  ExportJob *job = user_data;

  if (job->permille != NULL && total > 0)
    g_atomic_int_set (job->permille, (gint) (done * 1000 / total));
}

/* The heatmap's picture of the job's view, as a PNG file. */
static gboolean
export_png (ExportJob     *job,
            GCancellable  *cancellable,
            GError       **error)
{
  NpvArray *planes[4] = { job->view, job->channels[1], job->channels[2], job->channels[3] };
  NpvPyramid *pyramids[4] = { NULL, NULL, NULL, NULL };
  g_autoptr(NpvImage) image = NULL;
  guint n = MAX (job->n_channels, 1);
  gint64 rows, cols;
  int width, height;

  if (job->n_channels > 1)
    planes[0] = job->channels[0];
  if (planes[0] == NULL || planes[0]->ndim != 2)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   _("A picture shows a plane: choose the plane or a selection to export as PNG"));
      return FALSE;
    }
  rows = planes[0]->shape[0];
  cols = planes[0]->shape[1];
  if (job->items_per_pixel > 1)
    {
      width = (int) MAX (1, ceil (cols / job->items_per_pixel - 1e-9));
      height = (int) MAX (1, ceil (rows / job->items_per_pixel - 1e-9));
    }
  else if (job->items_per_pixel > 0)
    {
      width = (int) MIN (cols * (gint64) (1 / job->items_per_pixel + 0.5), G_MAXINT);
      height = (int) MIN (rows * (gint64) (1 / job->items_per_pixel + 0.5), G_MAXINT);
    }
  else
    {
      width = (int) MIN (cols, G_MAXINT);
      height = (int) MIN (rows, G_MAXINT);
    }
  for (guint k = 0; k < n; k++)
    {
      pyramids[k] = npv_pyramid_new (planes[k], job->part, 0, error);
      if (pyramids[k] == NULL)
        break;
    }
  if (pyramids[n - 1] != NULL)
    image = npv_render_plane (pyramids, &job->style, width, height, FALSE, cancellable, error);
  for (guint k = 0; k < n; k++)
    g_clear_pointer (&pyramids[k], npv_pyramid_unref);
  if (image == NULL)
    return FALSE;
  if (job->frame)
    {
      NpvImage *framed = npv_render_decorate (image, &job->style, rows, cols, TRUE, TRUE);

      npv_image_free (image);
      image = framed;
    }
  /* The file chooser asked before an existing file is replaced. */
  return npv_image_write_png (image, job->path, TRUE, error);
}

static void
export_in_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  ExportJob *job = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvArray) array = NULL;
  NpvExportFormat format = NPV_EXPORT_NPY;

  if (job->png)
    {
      if (!export_png (job, cancellable, &error))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_boolean (task, TRUE);
      return;
    }
  npv_export_format_from_path (job->path, &format);
  array = job->view != NULL ? npv_array_ref (job->view)
                            : open_member_values (job->file, job->member, job->slice, cancellable,
                                                  NULL, NULL, &error);
  /* The file chooser asked before an existing file is replaced. */
  if (array == NULL ||
      !npv_export_array_full (array, job->path, format, NPV_EXPORT_OVERWRITE,
                              job->as_shown ? &job->numbers : NULL, export_progress, job,
                              cancellable, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/* The view of the grid's selection (all fields of records, or the one
 * field when the selection lies in one), or %NULL. */
static NpvArray *
selection_view (NpvWindow *self)
{
  g_autoptr(NpvArray) plane = NULL;
  g_autofree char *text = NULL;
  gint64 r0, c0, r1, c1;
  guint l = grid_leaves (self);
  NpvIndex index;
  NpvArray *view;

  if (self->array == NULL || (plane = npv_plane_apply (&self->plane, self->array, NULL)) == NULL)
    return NULL;
  npv_grid_get_selection (self->grid, &r0, &c0, &r1, &c1);
  text = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                          r0, r1 + 1, c0 / l, c1 / l + 1);
  if (!npv_index_parse (text, &index, NULL) || (view = npv_array_apply_index (plane, &index, NULL)) == NULL)
    return NULL;
  /* A 1-D array's plane is one column: keep its one dimension. */
  if (self->array->ndim == 1 && view->ndim == 2)
    {
      g_autoptr(NpvArray) two = view;

      view = npv_array_apply_index (two, &(NpvIndex) { 2, { { .kind = NPV_INDEX_SLICE },
                                                            { .kind = NPV_INDEX_INTEGER, .value = 0 } } },
                                    NULL);
    }
  if (view != NULL && l > 1 && c0 % l == c1 % l && c1 - c0 < (gint64) l)
    {
      g_autoptr(GArray) leaves = npv_dtype_collect_leaves (self->array->dtype);
      const char *name = g_array_index (leaves, NpvLeaf, c0 % l).name;
      NpvArray *field = strchr (name, '[') == NULL ? npv_array_select_field (view, name, NULL) : NULL;

      if (field != NULL)
        {
          npv_array_unref (view);
          view = field;
        }
    }
  return view;
}

/* The values @what ("selection", "plane"; else the member) names, or
 * %NULL for the member read afresh. */
static NpvArray *
export_view (NpvWindow  *self,
             const char *what)
{
  if (g_strcmp0 (what, "selection") == 0)
    return selection_view (self);
  if (g_strcmp0 (what, "plane") == 0 && self->array != NULL)
    return npv_plane_apply (&self->plane, self->array, NULL);
  return self->array != NULL ? npv_array_ref (self->array) : NULL;
}

static char *
export_choice_label (const char     *what,
                     const char     *expression,
                     const NpvArray *view)
{
  g_autofree char *size = g_format_size_full ((guint64) view->count * view->dtype->itemsize,
                                              G_FORMAT_SIZE_IEC_UNITS);

  /* Translators: "Selection: a[3:5, :] (1.2 KiB)" */
  return g_strdup_printf (_("%s: %s (%s)"), what, expression, size);
}


static void
export_done (GObject      *object,
             GAsyncResult *res,
             gpointer      user_data)
{
  g_autoptr(NpvWindow) self = weak_window_take (user_data);
  g_autoptr(GError) error = NULL;
  ExportJob *job = g_task_get_task_data (G_TASK (res));

  if (self == NULL)
    return;
  if (g_task_get_cancellable (G_TASK (res)) == self->export_cancellable)
    {
      g_clear_object (&self->export_cancellable);
      g_clear_pointer (&self->export_permille, g_atomic_rc_box_release);
      g_clear_handle_id (&self->export_source, g_source_remove);
    }
  set_busy (self, NULL);
  if (!g_task_propagate_boolean (G_TASK (res), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_text (self->status_label, error->message);
      data_read_failed (self, error);
      return;
    }
  {
    g_autofree char *text = g_strdup_printf (_("Exported to %s"), job->path);

    gtk_label_set_text (self->status_label, text);
  }
}

/* Sets up @job to write the heatmap's picture of @what. */
static void
export_png_setup (NpvWindow  *self,
                  ExportJob  *job,
                  const char *what,
                  gboolean    as_shown,
                  gboolean    frame)
{
  int ppi;
  double ipp;

  job->png = TRUE;
  job->frame = frame;
  job->part = current_part (self);
  npv_heatmap_get_color_scale (self->heatmap, &job->style.cs);
  job->style.reduction = MIN (gtk_drop_down_get_selected (self->reduction_dropdown), NPV_REDUCTION_MAX);
  job->style.n_channels = 1;
  job->style.full_scale = 1;
  npv_heatmap_get_scale (self->heatmap, &ppi, &ipp);
  job->items_per_pixel = as_shown ? (ppi > 1 ? 1.0 / ppi : ipp) : 0;
  if (rgb_active (self) && g_strcmp0 (what, "member") != 0)
    {
      guint last = self->array->ndim - 1;
      guint n = (guint) self->array->shape[last];
      gint64 r0, c0, r1, c1;

      npv_grid_get_selection (self->grid, &r0, &c0, &r1, &c1);
      for (guint k = 0; k < n; k++)
        {
          NpvPlane plane = self->plane;
          g_autoptr(NpvArray) full = NULL;

          plane.fixed[last] = k;
          full = npv_plane_apply (&plane, self->array, NULL);
          if (full != NULL && g_strcmp0 (what, "selection") == 0)
            {
              NpvIndex index = { 2, { { .kind = NPV_INDEX_SLICE, .has_start = TRUE, .start = r0,
                                        .has_stop = TRUE, .stop = r1 + 1 },
                                      { .kind = NPV_INDEX_SLICE, .has_start = TRUE, .start = c0,
                                        .has_stop = TRUE, .stop = c1 + 1 } } };

              job->channels[k] = npv_array_apply_index (full, &index, NULL);
            }
          else
            job->channels[k] = g_steal_pointer (&full);
        }
      job->n_channels = n;
      job->style.n_channels = n;
      job->style.full_scale = self->array->dtype->kind == NPV_KIND_UINT ? 255 : 1;
    }
}

static gboolean
export_tick (gpointer user_data)
{
  NpvWindow *self = user_data;

  if (self->export_permille != NULL)
    gtk_progress_bar_set_fraction (self->progress_bar, g_atomic_int_get (self->export_permille) / 1000.0);
  return G_SOURCE_CONTINUE;
}

static void
export_response (GtkNativeDialog *dialog,
                 int              response,
                 gpointer         user_data)
{
  g_autoptr(NpvWindow) self = user_data;

  if (response == GTK_RESPONSE_ACCEPT && self->member != NULL && self->npv_file != NULL)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      const char *what = gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (dialog), "what");
      g_autoptr(GTask) task = NULL;
      ExportJob *job = g_new0 (ExportJob, 1);

      job->file = npv_file_ref (self->npv_file);
      job->member = self->member;
      job->slice = g_strdup (self->slice);
      job->view = export_view (self, what);
      job->path = g_file_get_path (file);
      if (job->path != NULL && g_str_has_suffix (job->path, ".png"))
        export_png_setup (self, job, what,
                          g_strcmp0 (gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (dialog), "png-size"),
                                     "shown") == 0,
                          g_strcmp0 (gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (dialog), "png-frame"),
                                     "true") == 0);
      job->as_shown = g_strcmp0 (gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (dialog), "numbers"),
                                 "shown") == 0;
      job->numbers = current_number_format (self);
      /* one export at a time: a new one cancels the last */
      g_cancellable_cancel (self->export_cancellable);
      g_clear_object (&self->export_cancellable);
      g_clear_pointer (&self->export_permille, g_atomic_rc_box_release);
      g_clear_handle_id (&self->export_source, g_source_remove);
      self->export_cancellable = g_cancellable_new ();
      self->export_permille = g_atomic_rc_box_new0 (gint);
      job->permille = g_atomic_rc_box_acquire (self->export_permille);
      self->export_source = g_timeout_add (100, export_tick, self);
      set_busy (self, _("Exporting"));
      task = g_task_new (NULL, self->export_cancellable, export_done, weak_window_new (self));
      g_task_set_task_data (task, job, (GDestroyNotify) export_job_free);
      g_task_run_in_thread (task, export_in_thread);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
export_activated (GtkWidget  *widget,
                  const char *action,
                  GVariant   *param)
{
  NpvWindow *self = NPV_WINDOW (widget);
  GtkFileChooserNative *chooser;
  g_autofree char *name = NULL;
  const char *base;

  if (self->member == NULL || self->member->kind != NPV_MEMBER_ARRAY)
    return;
  base = self->member->name[0] != '\0' ? self->member->name : _("array");
  {
    g_autofree char *flat = g_strdelimit (g_strdup (base), "/", '-');

    name = g_strdup_printf ("%s.npy", flat);
  }
  chooser = gtk_file_chooser_native_new (_("Export Values"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);

  /* What to write, each with its numpy expression and its size as .npy;
   * the format follows the name: .npy, .csv or .tsv. */
  if (self->array != NULL)
    {
      g_autoptr(NpvArray) selection = selection_view (self);
      g_autoptr(NpvArray) plane = npv_plane_apply (&self->plane, self->array, NULL);
      g_autofree char *selection_text = NULL;
      g_autofree char *plane_text = NULL;
      g_autofree char *member_text = NULL;
      g_autofree char *selection_expr = selection_expression (self);
      g_autofree char *plane_expr = npv_plane_to_expression (&self->plane, "a");
      g_autofree char *member_expr = self->slice != NULL ? g_strdup_printf ("a[%s]", self->slice)
                                                         : g_strdup ("a");
      const char *ids[4] = { NULL, };
      const char *labels[4] = { NULL, };
      guint n = 0;

      if (selection != NULL)
        {
          selection_text = export_choice_label (_("Selection"), selection_expr, selection);
          ids[n] = "selection";
          labels[n++] = selection_text;
        }
      if (plane != NULL && self->array->ndim > 2)
        {
          plane_text = export_choice_label (_("Plane"), plane_expr, plane);
          ids[n] = "plane";
          labels[n++] = plane_text;
        }
      member_text = export_choice_label (_("Whole member"), member_expr, self->array);
      ids[n] = "member";
      labels[n++] = member_text;
      gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (chooser), "what", _("Export"), ids, labels);
      gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (chooser), "what", ids[0]);
    }
  /* CSV and TSV: every digit, or the grid's number format */
  {
    const char *ids[] = { "exact", "shown", NULL };
    const char *labels[] = { _("Every digit (reads back exactly)"), _("As the grid shows them"), NULL };

    gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (chooser), "numbers", _("Numbers"), ids, labels);
    gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (chooser), "numbers", "exact");
  }
  /* A name ending in .png writes the heatmap's picture of it. */
  {
    const char *ids[] = { "one", "shown", NULL };
    const char *labels[] = { _("One value per pixel"), _("As the heatmap shows it"), NULL };

    gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (chooser), "png-size", _("PNG size"), ids, labels);
    gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (chooser), "png-size", "one");
    gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (chooser), "png-frame",
                                 _("PNG with colour bar and indices"), NULL, NULL);
  }
  g_signal_connect (chooser, "response", G_CALLBACK (export_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* ------------------------------------------------------------------ */
/* Drag and drop */

static gboolean
drop_files (GtkDropTarget *target,
            const GValue  *value,
            double         x,
            double         y,
            gpointer       user_data)
{
  NpvWindow *self = user_data;
  GdkFileList *list = g_value_get_boxed (value);
  g_autoptr(GListStore) files = g_list_store_new (G_TYPE_FILE);
  GSList *l;

  for (l = gdk_file_list_get_files (list); l != NULL; l = l->next)
    g_list_store_append (files, l->data);
  open_files (self, G_LIST_MODEL (files));
  return TRUE;
}

/* ------------------------------------------------------------------ */

static GSettings *
settings_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  /* Run from a build tree without the compiled schema: no memory, no crash. */
  if (source == NULL || (schema = g_settings_schema_source_lookup (source, APP_ID, TRUE)) == NULL)
    return NULL;
  return g_settings_new (APP_ID);
}

static gboolean
npv_window_close_request (GtkWindow *window)
{
  NpvWindow *self = NPV_WINDOW (window);

  if (self->settings != NULL)
    {
      int width, height;

      gtk_window_get_default_size (window, &width, &height);
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
      g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
    }
  return GTK_WINDOW_CLASS (npv_window_parent_class)->close_request (window);
}

static void
npv_window_dispose (GObject *object)
{
  NpvWindow *self = NPV_WINDOW (object);

  g_cancellable_cancel (self->open_cancellable);
  g_cancellable_cancel (self->read_cancellable);
  g_cancellable_cancel (self->export_cancellable);
  g_clear_object (&self->export_cancellable);
  g_clear_pointer (&self->export_permille, g_atomic_rc_box_release);
  g_clear_handle_id (&self->export_source, g_source_remove);
  g_cancellable_cancel (self->range_cancellable);
  g_clear_object (&self->range_cancellable);
  g_clear_handle_id (&self->auto_reload_source, g_source_remove);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  g_clear_pointer (&self->reading, read_job_unref);
  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }
  if (self->grid != NULL)
    g_signal_handlers_disconnect_by_data (self->grid, self);
  if (self->heatmap != NULL)
    g_signal_handlers_disconnect_by_data (self->heatmap, self);
  if (self->line != NULL)
    g_signal_handlers_disconnect_by_data (self->line, self);
  if (self->stats_panel != NULL)
    g_signal_handlers_disconnect_by_data (self->stats_panel, self);
  if (self->view_stack != NULL)
    g_signal_handlers_disconnect_by_data (self->view_stack, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), NPV_TYPE_WINDOW);
  G_OBJECT_CLASS (npv_window_parent_class)->dispose (object);
}

static void
npv_window_finalize (GObject *object)
{
  NpvWindow *self = NPV_WINDOW (object);

  g_clear_object (&self->file);
  g_clear_object (&self->open_cancellable);
  g_clear_object (&self->read_cancellable);
  g_clear_object (&self->tree_model);
  g_clear_object (&self->selection);
  g_clear_object (&self->all_members);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->npv_file, npv_file_unref);
  g_clear_pointer (&self->array, npv_array_unref);
  g_free (self->display_name);
  g_free (self->wanted_member);
  g_free (self->slice);
  G_OBJECT_CLASS (npv_window_parent_class)->finalize (object);
}

static void
npv_window_class_init (NpvWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = npv_window_dispose;
  object_class->finalize = npv_window_finalize;
  window_class->close_request = npv_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/npyview/NpyView/npv-window.ui");
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, banner);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, auto_reload_check);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, recent_list);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, recent_heading);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, example_list);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, loading_label);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, outer_paned);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, member_filter);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, member_view);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, member_stack);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, expression_label);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, dims_bar);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, heatmap_box);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, line_box);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, stats_box);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, colour_grid);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, inspector_stack);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, grid_scroller);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, view_switcher);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, values_scroller);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, values);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, reading_spinner);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, reading_label);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, folder_label);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, member_error_label);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, inspector);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, info_grid);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, status_label);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, progress_label);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, cancel_button);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_activated);
  gtk_widget_class_install_action (widget_class, "win.reload", NULL, reload_activated);
  gtk_widget_class_install_action (widget_class, "win.export", NULL, export_activated);
  gtk_widget_class_install_action (widget_class, "win.cancel", NULL, cancel_activated);
  gtk_widget_class_install_action (widget_class, "win.filter", NULL, filter_activated);
  gtk_widget_class_install_action (widget_class, "win.dismiss-banner", NULL, dismiss_banner_activated);
  gtk_widget_class_install_action (widget_class, "win.copy-expression", NULL, copy_expression_activated);
  gtk_widget_class_install_action (widget_class, "win.show-help-overlay", NULL, shortcuts_activated);
  gtk_widget_class_install_action (widget_class, "win.copy", NULL, copy_activated);
  gtk_widget_class_install_action (widget_class, "win.copy-picture", NULL, copy_picture_activated);
  gtk_widget_class_install_action (widget_class, "win.copy-selection-expression", NULL,
                                   copy_selection_expression_activated);
  gtk_widget_class_install_action (widget_class, "win.goto", NULL, goto_activated);
  gtk_widget_class_install_action (widget_class, "win.view", "s", view_activated);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "win.reload", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "win.export", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "win.filter", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_g, GDK_CONTROL_MASK, "win.goto", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_C, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.copy-expression", NULL);
  /* in the heatmap: the selection, as in the grid (which has its own) */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, GDK_CONTROL_MASK, "win.copy", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_CONTROL_MASK, "win.view", "s", "grid");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_CONTROL_MASK, "win.view", "s", "heatmap");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_3, GDK_CONTROL_MASK, "win.view", "s", "line");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_4, GDK_CONTROL_MASK, "win.view", "s", "text");
}

static void
npv_window_init (NpvWindow *self)
{
  static const GActionEntry toggles[] = {
    { "show-sidebar", NULL, NULL, "true", toggle_state },
    { "show-inspector", NULL, NULL, "true", toggle_state },
    { "number-format", NULL, "s", "'auto'", number_format_state },
    { "decimals", NULL, "i", "6", number_format_state },
    { "shade-cells", NULL, NULL, "false", toggle_state },
    { "shade-range", NULL, "s", "'visible'", shade_range_state },
  };
  GtkListItemFactory *factory;
  GtkDropTarget *drop;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->restore_scroll = -1;
  self->grid = NPV_GRID (npv_grid_new ());
  gtk_scrolled_window_set_child (self->grid_scroller, GTK_WIDGET (self->grid));
  g_signal_connect_object (self->grid, "cursor-changed", G_CALLBACK (grid_cursor_changed), self, 0);
  g_signal_connect_object (self->grid, "hover-changed", G_CALLBACK (grid_hover_changed), self, 0);
  g_signal_connect_object (self->grid, "read-failed", G_CALLBACK (view_read_failed), self, 0);
  {
    GtkGesture *secondary = gtk_gesture_click_new ();

    gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (secondary), GDK_BUTTON_SECONDARY);
    g_signal_connect (secondary, "pressed", G_CALLBACK (grid_context_menu), self);
    gtk_widget_add_controller (GTK_WIDGET (self->grid), GTK_EVENT_CONTROLLER (secondary));
  }

  self->settings = settings_new ();
  if (self->settings != NULL)
    g_settings_bind (self->settings, "reload-automatically", self->auto_reload_check, "active",
                     G_SETTINGS_BIND_DEFAULT);
  else
    gtk_widget_set_visible (GTK_WIDGET (self->auto_reload_check), FALSE);
  g_action_map_add_action_entries (G_ACTION_MAP (self), toggles, G_N_ELEMENTS (toggles), self);
  if (self->settings != NULL)
    {
      gboolean sidebar = g_settings_get_boolean (self->settings, "sidebar-visible");
      gboolean inspector = g_settings_get_boolean (self->settings, "inspector-visible");
      g_autoptr(GVariant) style = g_settings_get_value (self->settings, "number-format");
      g_autoptr(GVariant) decimals = g_settings_get_value (self->settings, "decimals");

      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (self->settings, "window-width"),
                                   g_settings_get_int (self->settings, "window-height"));
      if (g_settings_get_boolean (self->settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
      g_action_group_change_action_state (G_ACTION_GROUP (self), "show-sidebar",
                                          g_variant_new_boolean (sidebar));
      g_action_group_change_action_state (G_ACTION_GROUP (self), "show-inspector",
                                          g_variant_new_boolean (inspector));
      g_action_group_change_action_state (G_ACTION_GROUP (self), "number-format", style);
      g_action_group_change_action_state (G_ACTION_GROUP (self), "decimals", decimals);
    }

  {
    g_autoptr(GVariant) shade = g_action_group_get_action_state (G_ACTION_GROUP (self), "shade-cells");

    npv_grid_set_shading (self->grid, g_variant_get_boolean (shade));
  }

  self->heatmap = NPV_HEATMAP (npv_heatmap_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->heatmap), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->heatmap), TRUE);
  gtk_box_append (GTK_BOX (self->heatmap_box), GTK_WIDGET (self->heatmap));
  g_signal_connect (self->heatmap, "hover-changed", G_CALLBACK (heatmap_hover_changed), self);
  g_signal_connect (self->heatmap, "selection-changed", G_CALLBACK (heatmap_selection_changed), self);
  g_signal_connect (self->heatmap, "view-changed", G_CALLBACK (heatmap_view_changed), self);
  g_signal_connect (self->heatmap, "read-failed", G_CALLBACK (view_read_failed), self);
  {
    GtkGesture *secondary = gtk_gesture_click_new ();

    gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (secondary), GDK_BUTTON_SECONDARY);
    g_signal_connect (secondary, "pressed", G_CALLBACK (heatmap_context_menu), self);
    gtk_widget_add_controller (GTK_WIDGET (self->heatmap), GTK_EVENT_CONTROLLER (secondary));
  }
  {
    const char *line_modes[] = { _("Row of the cursor"), _("Column of the cursor"), NULL };

    self->line_dropdown = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (line_modes));
    gtk_widget_set_halign (GTK_WIDGET (self->line_dropdown), GTK_ALIGN_START);
    gtk_widget_set_margin_start (GTK_WIDGET (self->line_dropdown), 6);
    gtk_widget_set_margin_top (GTK_WIDGET (self->line_dropdown), 4);
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->line_dropdown),
                                 _("Which line of the plane to plot; move the cursor in the grid or "
                                   "click in the heatmap to choose it"));
    gtk_box_append (GTK_BOX (self->line_box), GTK_WIDGET (self->line_dropdown));
    g_signal_connect (self->line_dropdown, "notify::selected", G_CALLBACK (line_dropdown_changed), self);
    self->line = NPV_LINE (npv_line_new ());
    gtk_widget_set_vexpand (GTK_WIDGET (self->line), TRUE);
    gtk_box_append (GTK_BOX (self->line_box), GTK_WIDGET (self->line));
    g_signal_connect (self->line, "hover-changed", G_CALLBACK (line_hover_changed), self);
  }
  self->stats_panel = NPV_STATS_PANEL (npv_stats_panel_new ());
  gtk_box_append (GTK_BOX (self->stats_box), GTK_WIDGET (self->stats_panel));
  g_signal_connect (self->stats_panel, "changed", G_CALLBACK (stats_changed), self);
  build_colour_page (self);
  apply_colour (self);
  g_signal_connect (self->view_stack, "notify::visible-child-name", G_CALLBACK (visible_view_changed), self);
  if (self->settings != NULL)
    {
      g_autofree char *view = g_settings_get_string (self->settings, "last-view");

      if (g_strcmp0 (view, "heatmap") == 0 || g_strcmp0 (view, "line") == 0)
        gtk_stack_set_visible_child_name (self->view_stack, view);
    }
  self->selection = gtk_single_selection_new (NULL);
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  g_signal_connect (self->selection, "notify::selected-item", G_CALLBACK (selection_changed), self);
  set_tree_model (self);
  gtk_list_view_set_model (self->member_view, GTK_SELECTION_MODEL (self->selection));

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row), self);
  gtk_list_view_set_factory (self->member_view, factory);
  g_object_unref (factory);

  g_signal_connect (self->member_filter, "search-changed", G_CALLBACK (filter_changed), self);
  g_signal_connect (self->member_filter, "stop-search", G_CALLBACK (filter_stopped), self);
  gtk_search_entry_set_key_capture_widget (self->member_filter, GTK_WIDGET (self->member_view));

  g_signal_connect (self->example_list, "row-activated", G_CALLBACK (example_activated), self);
  g_signal_connect (self->recent_list, "row-activated", G_CALLBACK (recent_activated), self);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (drop_files), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  /* The welcome page is filled by npv_window_show_welcome(), when a window
   * is not opened on a file. */
  gtk_stack_set_visible_child_name (self->stack, "welcome");
  update_actions (self);
}

NpvWindow *
npv_window_new (NpvApplication *app)
{
  return g_object_new (NPV_TYPE_WINDOW, "application", app, NULL);
}

GFile *
npv_window_get_file (NpvWindow *self)
{
  g_return_val_if_fail (NPV_IS_WINDOW (self), NULL);
  return self->file;
}

/* ------------------------------------------------------------------ */
/* For tests */

const char *
npv_window_get_page (NpvWindow *self)
{
  const char *page = gtk_stack_get_visible_child_name (self->stack);

  if (g_strcmp0 (page, "file") == 0)
    return gtk_stack_get_visible_child_name (self->member_stack);
  return page;
}

const char *
npv_window_get_banner (NpvWindow *self)
{
  if (!gtk_revealer_get_reveal_child (self->banner))
    return NULL;
  return gtk_label_get_text (self->banner_label);
}

gboolean
npv_window_is_busy (NpvWindow *self)
{
  return (self->open_cancellable != NULL && self->npv_file == NULL &&
          g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "loading") == 0) ||
         self->reading != NULL;
}

char *
npv_window_dup_text (NpvWindow *self)
{
  const char *page = npv_window_get_page (self);

  if (g_strcmp0 (page, "error") == 0)
    return g_strdup (gtk_label_get_text (self->error_label));
  if (g_strcmp0 (page, "member-error") == 0)
    return g_strdup (gtk_label_get_text (self->member_error_label));
  if (g_strcmp0 (page, "folder") == 0)
    return g_strdup (gtk_label_get_text (self->folder_label));
  if (g_strcmp0 (page, "values") == 0)
    {
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->values);
      GtkTextIter start, end;

      gtk_text_buffer_get_bounds (buffer, &start, &end);
      return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
    }
  return g_strdup ("");
}

char *
npv_window_dup_members (NpvWindow *self)
{
  GListModel *model = G_LIST_MODEL (self->tree_model);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(GtkTreeListRow) row = g_list_model_get_item (model, i);
      g_autoptr(NpvNodeItem) item = gtk_tree_list_row_get_item (row);
      const NpvNode *node = npv_node_item_get_node (item);
      g_autofree char *brief = describe_node_briefly (node);

      for (guint d = 0; d < gtk_tree_list_row_get_depth (row); d++)
        g_string_append (out, "  ");
      g_string_append_printf (out, "%s\t%s\n", self->filtering ? node->path : node->name, brief);
    }
  return g_string_free (out, FALSE);
}

char *
npv_window_dup_info (NpvWindow *self)
{
  GString *out = g_string_new (NULL);
  GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->info_grid));

  /* Children come in pairs, key then value, in the order they were added. */
  while (child != NULL)
    {
      GtkWidget *value = gtk_widget_get_next_sibling (child);

      if (value == NULL)
        break;
      g_string_append_printf (out, "%s\t%s\n", gtk_label_get_text (GTK_LABEL (child)),
                              gtk_label_get_text (GTK_LABEL (value)));
      child = gtk_widget_get_next_sibling (value);
    }
  return g_string_free (out, FALSE);
}

gboolean
npv_window_select_member (NpvWindow  *self,
                          const char *name)
{
  g_return_val_if_fail (NPV_IS_WINDOW (self), FALSE);
  return self->tree_model != NULL && select_path (self, name);
}

void
npv_window_set_filter (NpvWindow  *self,
                       const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (self->member_filter), text);
  /* The entry reports changes after a delay; tests want them now. */
  filter_changed (self->member_filter, self);
}

NpvGrid *
npv_window_get_grid (NpvWindow *self)
{
  g_return_val_if_fail (NPV_IS_WINDOW (self), NULL);
  return self->grid;
}

NpvHeatmap *
npv_window_get_heatmap (NpvWindow *self)
{
  g_return_val_if_fail (NPV_IS_WINDOW (self), NULL);
  return self->heatmap;
}

NpvLine *
npv_window_get_line (NpvWindow *self)
{
  g_return_val_if_fail (NPV_IS_WINDOW (self), NULL);
  return self->line;
}

NpvStatsPanel *
npv_window_get_stats_panel (NpvWindow *self)
{
  g_return_val_if_fail (NPV_IS_WINDOW (self), NULL);
  return self->stats_panel;
}

gboolean
npv_window_export (NpvWindow   *self,
                   const char  *what,
                   const char  *path,
                   GError     **error)
{
  g_autoptr(NpvArray) view = NULL;
  NpvExportFormat format = NPV_EXPORT_NPY;

  g_return_val_if_fail (NPV_IS_WINDOW (self), FALSE);

  view = export_view (self, what);
  if (view == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("There are no values to export"));
      return FALSE;
    }
  if (g_str_has_suffix (path, ".png"))
    {
      ExportJob job = { .view = g_steal_pointer (&view), .path = (char *) path };
      gboolean ok;

      export_png_setup (self, &job, what, FALSE, FALSE);
      ok = export_png (&job, NULL, error);
      g_clear_pointer (&job.view, npv_array_unref);
      for (guint k = 0; k < 4; k++)
        g_clear_pointer (&job.channels[k], npv_array_unref);
      return ok;
    }
  npv_export_format_from_path (path, &format);
  return npv_export_array (view, path, format, NPV_EXPORT_FLAGS_NONE, NULL, error);
}
