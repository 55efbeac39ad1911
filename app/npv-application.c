/* npv-application.c: one window per opened file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-application"

#include "config.h"

#include <glib/gi18n.h>

#include "npv-application.h"
#include "npv-window.h"

struct _NpvApplication
{
  GtkApplication parent_instance;

  /* from the command line, for the files it names */
  char *member;
  char *slice;
};

G_DEFINE_FINAL_TYPE (NpvApplication, npv_application, GTK_TYPE_APPLICATION)

static NpvWindow *
find_window_for_file (NpvApplication *self,
                      GFile          *file)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      GFile *shown;

      if (!NPV_IS_WINDOW (l->data))
        continue;
      shown = npv_window_get_file (l->data);
      if (shown != NULL && g_file_equal (shown, file))
        return l->data;
    }
  return NULL;
}

static void
npv_application_activate (GApplication *app)
{
  NpvWindow *window = npv_window_new (NPV_APPLICATION (app));

  npv_window_show_welcome (window);
  gtk_window_present (GTK_WINDOW (window));
}

static void
npv_application_open (GApplication  *app,
                      GFile        **files,
                      int            n_files,
                      const char    *hint)
{
  NpvApplication *self = NPV_APPLICATION (app);

  for (int i = 0; i < n_files; i++)
    {
      NpvWindow *window = find_window_for_file (self, files[i]);

      if (window == NULL)
        {
          window = npv_window_new (self);
          npv_window_open (window, files[i], self->member, self->slice);
        }
      gtk_window_present (GTK_WINDOW (window));
    }
}

static int
npv_application_handle_local_options (GApplication *app,
                                      GVariantDict *options)
{
  NpvApplication *self = NPV_APPLICATION (app);
  const char *view = NULL;

  g_variant_dict_lookup (options, "member", "s", &self->member);
  g_variant_dict_lookup (options, "slice", "s", &self->slice);
  if (g_variant_dict_lookup (options, "view", "&s", &view) &&
      g_strcmp0 (view, "grid") != 0 && g_strcmp0 (view, "heatmap") != 0 && g_strcmp0 (view, "line") != 0)
    {
      g_printerr (_("npyview: --view takes grid, heatmap or line, not “%s”\n"), view);
      return 2;
    }
  if (view != NULL)
    {
      GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
      g_autoptr(GSettingsSchema) schema = source != NULL
                                          ? g_settings_schema_source_lookup (source, APP_ID, TRUE)
                                          : NULL;

      if (schema != NULL)
        {
          g_autoptr(GSettings) settings = g_settings_new (APP_ID);

          g_settings_set_string (settings, "last-view", view);
        }
    }
  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("npyview %s\n", PACKAGE_VERSION);
      return 0;
    }
  return -1;
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *param,
                gpointer       user_data)
{
  GtkApplication *app = user_data;
  GList *windows = g_list_copy (gtk_application_get_windows (app));

  /* Closing, not destroying: each window saves its size. */
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
  g_list_free (windows);
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *param,
                 gpointer       user_data)
{
  GtkApplication *app = user_data;
  static const char *authors[] = { "The npyview developers", NULL };

  gtk_show_about_dialog (gtk_application_get_active_window (app),
                         "program-name", _("NpyView"),
                         "logo-icon-name", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Look into NumPy arrays on disk without loading them"),
                         "website", "https://github.com/npyview/npyview",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "authors", authors,
                         /* Translators: your names, one per line */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
new_window_activated (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  npv_application_activate (G_APPLICATION (user_data));
}

static void
npv_application_startup (GApplication *app)
{
  static const GActionEntry entries[] = {
    { "quit", quit_activated },
    { "about", about_activated },
    { "new-window", new_window_activated },
  };
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *close_accels[] = { "<Control>w", NULL };
  static const char *help_accels[] = { "<Control>question", "F1", NULL };
  static const char *sidebar_accels[] = { "F9", NULL };
  static const char *inspector_accels[] = { "<Control>i", NULL };
  static const char *new_window_accels[] = { "<Control>n", NULL };

  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

  G_APPLICATION_CLASS (npv_application_parent_class)->startup (app);

  gtk_css_provider_load_from_resource (css, "/io/github/npyview/NpyView/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.new-window", new_window_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close", close_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.show-help-overlay", help_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.show-sidebar", sidebar_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.show-inspector", inspector_accels);
}

static void
npv_application_finalize (GObject *object)
{
  NpvApplication *self = NPV_APPLICATION (object);

  g_free (self->member);
  g_free (self->slice);
  G_OBJECT_CLASS (npv_application_parent_class)->finalize (object);
}

static void
npv_application_class_init (NpvApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = npv_application_finalize;
  app_class->activate = npv_application_activate;
  app_class->open = npv_application_open;
  app_class->startup = npv_application_startup;
  app_class->handle_local_options = npv_application_handle_local_options;
}

static void
npv_application_init (NpvApplication *self)
{
  static const GOptionEntry options[] = {
    { "member", 'm', 0, G_OPTION_ARG_STRING, NULL,
      N_("The member of an archive to show first"), N_("NAME") },
    { "slice", 's', 0, G_OPTION_ARG_STRING, NULL,
      N_("Show a[EXPR], numpy's basic indexing"), N_("EXPR") },
    { "view", 0, 0, G_OPTION_ARG_STRING, NULL,
      N_("The view to start in: grid, heatmap or line"), N_("VIEW") },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[FILE…]"));
}

NpvApplication *
npv_application_new (void)
{
  return g_object_new (NPV_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/io/github/npyview/NpyView",
                       NULL);
}
