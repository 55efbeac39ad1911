/* main.c
 *
 * With NPYVIEW_BENCH_FIRST_FRAME=PAGE in the environment, the first window
 * reports on stdout once a frame showing PAGE ("values" or "welcome", see
 * npv_window_get_page()) has been painted, with nothing left running, and
 * the application quits. Times are CLOCK_MONOTONIC microseconds
 * (g_get_monotonic_time(), the clock of Python's time.monotonic()), so a
 * driver measures from before it started the process:
 * tests/bench/bench_startup.py. A frame that shows an error page instead
 * ends the run the same way, with exit status 1.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <glib/gi18n.h>
#include <locale.h>

#include "npv-application.h"
#include "npv-window.h"

typedef struct
{
  const char    *page;            /* the page to wait for */
  GApplication  *app;
  NpvWindow     *window;          /* the first window */
  GdkFrameClock *clock;
  gulong         after_paint_id;
  gint64         main_time;
  gint64         startup_time;    /* GTK initialised, the app's startup done */
  gint64         window_time;     /* the first window added */
  gint64         realize_time;
  gint64         map_time;
  guint          n_frames;
  GString       *pages;           /* "page@time" the first frame each was seen */
  char          *last_page;
  gboolean       failed;
  gint64         last_tick;       /* a 10 ms timeout's last run, once mapped */
  gint64         max_stall;       /* the longest the main loop went without running it */
  gint64         stall_end;       /* when that stall ended */
} BenchFirstFrame;

static BenchFirstFrame bench;

static void
bench_after_paint (GdkFrameClock *clock,
                   gpointer       user_data)
{
  gint64 now = g_get_monotonic_time ();
  const char *page = npv_window_get_page (bench.window);
  gboolean busy = npv_window_is_busy (bench.window);
  gboolean error = g_strcmp0 (page, "error") == 0 || g_strcmp0 (page, "member-error") == 0;
  g_autofree char *text = NULL;
  struct rusage usage;

  bench.n_frames++;
  if (g_strcmp0 (page, bench.last_page) != 0)
    {
      g_string_append_printf (bench.pages, "%s%s@%" G_GINT64_FORMAT,
                              bench.pages->len > 0 ? "," : "", page != NULL ? page : "none", now);
      g_free (bench.last_page);
      bench.last_page = g_strdup (page);
    }
  if (busy || (g_strcmp0 (page, bench.page) != 0 && !error))
    return;
  text = npv_window_dup_text (bench.window);
  if (g_strcmp0 (page, "values") == 0 && text[0] == '\0')
    return;

  g_signal_handler_disconnect (clock, bench.after_paint_id);
  bench.after_paint_id = 0;
  bench.failed = error;
  /* CPU time of all threads so far: less at the mercy of a busy machine */
  getrusage (RUSAGE_SELF, &usage);
  printf ("first-frame page=%s main=%" G_GINT64_FORMAT " startup=%" G_GINT64_FORMAT
          " window=%" G_GINT64_FORMAT " realize=%" G_GINT64_FORMAT " map=%" G_GINT64_FORMAT
          " frame=%" G_GINT64_FORMAT " cpu=%" G_GINT64_FORMAT " stall=%" G_GINT64_FORMAT
          " stall-end=%" G_GINT64_FORMAT " frames=%u pages=%s\n",
          page, bench.main_time, bench.startup_time, bench.window_time, bench.realize_time,
          bench.map_time, now,
          (gint64) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * G_USEC_PER_SEC +
          usage.ru_utime.tv_usec + usage.ru_stime.tv_usec,
          bench.max_stall, bench.stall_end, bench.n_frames, bench.pages->str);
  if (error)
    printf ("first-frame error: %s\n", text);
  fflush (stdout);
  g_application_quit (bench.app);
}

static void
bench_window_realized (GtkWidget *widget,
                       gpointer   user_data)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (widget));

  bench.realize_time = g_get_monotonic_time ();
  bench.clock = gdk_surface_get_frame_clock (surface);
  bench.after_paint_id = g_signal_connect (bench.clock, "after-paint",
                                           G_CALLBACK (bench_after_paint), NULL);
}

/* How long the window could not answer: the longest gap between runs of
 * a 10 ms timeout, from the window's mapping on. */
static gboolean
bench_tick (gpointer user_data)
{
  gint64 now = g_get_monotonic_time ();

  if (bench.last_tick != 0 && now - bench.last_tick > bench.max_stall)
    {
      bench.max_stall = now - bench.last_tick;
      bench.stall_end = now;
    }
  bench.last_tick = now;
  return G_SOURCE_CONTINUE;
}

static void
bench_window_mapped (GtkWidget *widget,
                     gpointer   user_data)
{
  if (bench.map_time == 0)
    {
      bench.map_time = g_get_monotonic_time ();
      g_timeout_add (10, bench_tick, NULL);
    }
}

static void
bench_window_added (GtkApplication *app,
                    GtkWindow      *window,
                    gpointer        user_data)
{
  if (bench.window != NULL || !NPV_IS_WINDOW (window))
    return;
  bench.window_time = g_get_monotonic_time ();
  bench.window = NPV_WINDOW (window);
  g_signal_connect_after (window, "realize", G_CALLBACK (bench_window_realized), NULL);
  g_signal_connect_after (window, "map", G_CALLBACK (bench_window_mapped), NULL);
}

static void
bench_startup_done (GApplication *app,
                    gpointer      user_data)
{
  bench.startup_time = g_get_monotonic_time ();
}

static void
bench_install (GApplication *app,
               const char   *page,
               gint64        main_time)
{
  bench.page = page;
  bench.app = app;
  bench.main_time = main_time;
  bench.pages = g_string_new (NULL);
  g_signal_connect_after (app, "startup", G_CALLBACK (bench_startup_done), NULL);
  g_signal_connect (app, "window-added", G_CALLBACK (bench_window_added), NULL);
}

int
main (int    argc,
      char **argv)
{
  gint64 main_time = g_get_monotonic_time ();
  const char *bench_page = g_getenv ("NPYVIEW_BENCH_FIRST_FRAME");
  g_autoptr(NpvApplication) app = NULL;
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = npv_application_new ();
  if (bench_page != NULL && bench_page[0] != '\0')
    bench_install (G_APPLICATION (app), bench_page, main_time);
  status = g_application_run (G_APPLICATION (app), argc, argv);

  if (bench.pages != NULL)
    {
      if (bench.window == NULL || bench.after_paint_id != 0)
        {
          /* Quit before the page was shown: say so rather than nothing. */
          printf ("first-frame none: the application quit before a frame showed “%s”\n", bench.page);
          bench.failed = TRUE;
        }
      g_string_free (bench.pages, TRUE);
      g_free (bench.last_page);
      if (bench.failed && status == 0)
        status = 1;
    }
  return status;
}
