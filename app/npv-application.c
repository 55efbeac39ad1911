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

  npv_window_show_example (window);
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
          npv_window_open (window, files[i]);
        }
      gtk_window_present (GTK_WINDOW (window));
    }
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *param,
                gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
npv_application_startup (GApplication *app)
{
  static const GActionEntry entries[] = {
    { "quit", quit_activated },
  };
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *close_accels[] = { "<Control>w", NULL };

  G_APPLICATION_CLASS (npv_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close", close_accels);
}

static void
npv_application_class_init (NpvApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->activate = npv_application_activate;
  app_class->open = npv_application_open;
  app_class->startup = npv_application_startup;
}

static void
npv_application_init (NpvApplication *self)
{
}

NpvApplication *
npv_application_new (void)
{
  return g_object_new (NPV_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       NULL);
}
