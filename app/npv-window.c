/* npv-window.c: a window showing one file
 *
 * Opening runs on a worker thread (GTask): the main loop never waits for
 * the disk. A newer open cancels an older one, and results for a
 * cancellable that is no longer current are dropped.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-window"

#include "config.h"

#include <glib/gi18n.h>

#include "npv-examples.h"
#include "npv-file.h"
#include "npv-print.h"
#include "npv-window.h"

struct _NpvWindow
{
  GtkApplicationWindow parent_instance;

  /* owned */
  GFile *file;
  GCancellable *cancellable;
  NpvFile *npv_file;

  /* template widgets */
  GtkStack *stack;
  GtkLabel *summary;
  GtkTextView *values;
  GtkLabel *error_label;
};

G_DEFINE_FINAL_TYPE (NpvWindow, npv_window, GTK_TYPE_APPLICATION_WINDOW)

typedef struct
{
  NpvFile *file;
  char *text;
} OpenResult;

static void
open_result_free (OpenResult *result)
{
  g_clear_pointer (&result->file, npv_file_unref);
  g_free (result->text);
  g_free (result);
}

/* Runs on a worker: everything here touches only core objects. */
static char *
describe_file (NpvFile *file)
{
  GString *out = g_string_new (NULL);
  NpvPrintOptions options = NPV_PRINT_OPTIONS_DEFAULT;

  for (guint i = 0; i < npv_file_get_n_members (file); i++)
    {
      const NpvMember *member = npv_file_get_member (file, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvArray) array = npv_file_open_array (file, member, &error);

      if (array == NULL)
        {
          g_string_append_printf (out, "%s\n", error->message);
          continue;
        }
      if (!npv_array_print (out, array, &options, &error))
        g_string_append_printf (out, "\n%s", error->message);
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
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
  OpenResult *result;
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
  if (g_task_return_error_if_cancelled (task))
    {
      npv_file_unref (npv_file);
      return;
    }

  result = g_new0 (OpenResult, 1);
  result->file = npv_file;
  result->text = describe_file (npv_file);
  g_task_return_pointer (task, result, (GDestroyNotify) open_result_free);
}

static void
show_error (NpvWindow  *self,
            const char *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_stack_set_visible_child_name (self->stack, "error");
}

static char *
summarise_member (const NpvMember *member)
{
  const NpvNpyHeader *h = &member->header;
  g_autofree char *words = npv_dtype_describe (h->dtype);
  g_autofree char *size = g_format_size_full (h->nbytes, G_FORMAT_SIZE_IEC_UNITS);
  GString *shape = g_string_new ("(");

  for (guint i = 0; i < h->ndim; i++)
    g_string_append_printf (shape, i > 0 ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, h->shape[i]);
  g_string_append (shape, h->ndim == 1 ? ",)" : ")");

  return g_strdup_printf (_("%s · shape %s · %s order · %s · %s"), words, shape->str,
                          h->fortran_order ? "Fortran" : "C",
                          size, npv_storage_to_string (member->storage));
}

static void
show_result (NpvWindow  *self,
             OpenResult *result)
{
  g_autofree char *summary = NULL;

  g_clear_pointer (&self->npv_file, npv_file_unref);
  self->npv_file = npv_file_ref (result->file);

  if (npv_file_get_n_members (result->file) > 0)
    summary = summarise_member (npv_file_get_member (result->file, 0));
  gtk_label_set_text (self->summary, summary != NULL ? summary : "");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->values), result->text, -1);
  gtk_stack_set_visible_child_name (self->stack, "array");
  /* Not the selectable summary: it would show all selected. */
  gtk_widget_grab_focus (GTK_WIDGET (self->values));
}

static void
open_done (GObject      *object,
           GAsyncResult *res,
           gpointer      user_data)
{
  g_autoptr(NpvWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  OpenResult *result;

  /* A newer open replaced this one, or the window went away. */
  if (g_task_get_cancellable (G_TASK (res)) != self->cancellable)
    return;

  result = g_task_propagate_pointer (G_TASK (res), &error);
  if (result == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error->message);
      return;
    }
  show_result (self, result);
  open_result_free (result);
}

static void
start_open (NpvWindow *self,
            GFile     *file)
{
  g_autoptr(GTask) task = NULL;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  gtk_stack_set_visible_child_name (self->stack, "loading");
  task = g_task_new (NULL, self->cancellable, open_done, g_object_ref (self));
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, open_in_thread);
}

void
npv_window_open (NpvWindow *self,
                 GFile     *file)
{
  g_autofree char *name = NULL;

  g_return_if_fail (NPV_IS_WINDOW (self));

  g_set_object (&self->file, file);
  name = g_file_get_basename (file);
  gtk_window_set_title (GTK_WINDOW (self), name);
  start_open (self, file);
}

void
npv_window_show_example (NpvWindow *self)
{
  g_autoptr(GBytes) bytes = npv_example_smooth_field ();
  g_autoptr(GError) error = NULL;
  NpvFile *file = npv_file_open_bytes (bytes, _("Example: smooth field"), &error);
  OpenResult result = { 0, };

  gtk_window_set_title (GTK_WINDOW (self), _("Example: smooth field"));
  if (file == NULL)
    {
      show_error (self, error->message);
      return;
    }
  result.file = file;
  result.text = describe_file (file);
  show_result (self, &result);
  npv_file_unref (result.file);
  g_free (result.text);
}

GFile *
npv_window_get_file (NpvWindow *self)
{
  return self->file;
}

char *
npv_window_dup_text (NpvWindow *self)
{
  const char *page = gtk_stack_get_visible_child_name (self->stack);
  GtkTextBuffer *buffer;
  GtkTextIter start, end;

  if (g_strcmp0 (page, "error") == 0)
    return g_strdup (gtk_label_get_text (self->error_label));
  if (g_strcmp0 (page, "array") != 0)
    return g_strdup ("");
  buffer = gtk_text_view_get_buffer (self->values);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return g_strdup_printf ("%s\n%s", gtk_label_get_text (self->summary),
                          gtk_text_buffer_get_text (buffer, &start, &end, FALSE));
}

static void
file_chosen (GtkNativeDialog *dialog,
             int              response,
             gpointer         user_data)
{
  NpvWindow *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      npv_window_open (self, file);
    }
  g_object_unref (dialog);
}

static void
open_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  NpvWindow *self = NPV_WINDOW (widget);
  GtkFileChooserNative *dialog;
  GtkFileFilter *filter;

  dialog = gtk_file_chooser_native_new (_("Open Array"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("NumPy arrays"));
  gtk_file_filter_add_pattern (filter, "*.npy");
  gtk_file_filter_add_pattern (filter, "*.npz");
  gtk_file_filter_add_pattern (filter, "*.npy.gz");
  gtk_file_filter_add_pattern (filter, "*.pkl");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_object_unref (filter);
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("All files"));
  gtk_file_filter_add_pattern (filter, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_object_unref (filter);

  g_signal_connect (dialog, "response", G_CALLBACK (file_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
npv_window_dispose (GObject *object)
{
  NpvWindow *self = NPV_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (npv_window_parent_class)->dispose (object);
}

static void
npv_window_finalize (GObject *object)
{
  NpvWindow *self = NPV_WINDOW (object);

  g_clear_object (&self->file);
  g_clear_pointer (&self->npv_file, npv_file_unref);

  G_OBJECT_CLASS (npv_window_parent_class)->finalize (object);
}

static void
npv_window_class_init (NpvWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = npv_window_dispose;
  object_class->finalize = npv_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/npyview/NpyView/npv-window.ui");
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, summary);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, values);
  gtk_widget_class_bind_template_child (widget_class, NpvWindow, error_label);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
}

static void
npv_window_init (NpvWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

NpvWindow *
npv_window_new (NpvApplication *app)
{
  return g_object_new (NPV_TYPE_WINDOW, "application", app, NULL);
}
