/* bench-grid.c: frame times and memory of the grid while it scrolls
 *
 * The benchmark of issue 5: a 100,000 x 100,000 float64 .npy shown by an
 * NpvGrid in a GtkScrolledWindow of a 1920x1080 GtkWindow (cairo renderer,
 * under Xvfb: see bench_grid.py), scrolled a few rows per frame by a tick
 * callback, now and then sideways too, for --frames frames. Targets:
 *
 *   frame time  median <= 4 ms, 99th percentile <= 16 ms
 *   memory      resident memory less page cache < 150 MB
 *
 *   bench-grid [--frames N] [--rows-per-frame R] [--xserver-pid PID]
 *              [--json OUT] [--timeline OUT] FILE
 *
 * Frame time is the time the app spends in a frame of the widget's frame
 * clock: from its "before-paint" signal to its "after-paint" signal, both
 * taken on g_get_monotonic_time() (the frame clock's own clock) by handlers
 * connected after GDK's. That span holds the whole of a frame's work: the
 * "update" phase (tick callbacks: the scroll itself, adjustments, the
 * scrolled window), "layout" (allocation) and "paint" (the widgets'
 * snapshots and the cairo renderer drawing the nodes). The spacing of
 * gdk_frame_timings_get_frame_time() is printed too, but not judged: it
 * is the frame clock's pacing (the refresh interval when the app keeps up),
 * a floor the app cannot go under however fast it is. The grid's own
 * snapshot() is timed inside the paint phase by wrapping the class's vfunc
 * (the widget is not changed), so the paint splits into "grid snapshot"
 * and "everything else" (other widgets' snapshots and the render).
 *
 * Memory is read from /proc/self/status after every frame (VmRSS and its
 * RssAnon, RssFile, RssShmem parts) and from /proc/self/smaps every
 * SMAPS_EVERY frames and at the end: the Rss of FILE's mapping is its
 * pages in the page cache that the process has touched. Judged: the peak
 * of RssAnon + RssShmem, resident memory that is not page cache (heap,
 * stacks, shared memory with the X server). Printed as well, not judged:
 * VmRSS less the Rss of FILE's mapping only, which keeps in the pages of
 * the libraries' code and data (GTK, Mesa's llvmpipe that GDK loads to
 * choose a visual, fonts): page cache too, shared with every other
 * process that maps them, but counted by tools that show RSS.
 *
 * The cairo renderer draws in this process (pixman, into an image) and
 * hands the pixels to the X server (MIT-SHM), which copies them to the
 * window in its own process: with --xserver-pid its CPU time over the
 * scroll is printed per frame, for context. Main-thread and whole-process
 * CPU time (getrusage) are printed likewise: work done between frames
 * (tiles arriving, the grid's idle update) is not in the frame time.
 *
 * Prints a report on stdout; with --json, the figures (and the visible
 * window of every measured frame, for bench_grid.py to time numpy on) as
 * JSON. Exit status 1 when a target is missed, 2 on errors.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtk/gtk.h>

#include "npv-file.h"
#include "npv-grid.h"
#include "npv-plane.h"

#define WIDTH 1920
#define HEIGHT 1080
#define TARGET_MEDIAN_MS 4.0
#define TARGET_P99_MS 16.0
#define TARGET_MEMORY_MB 150.0
#define SMAPS_EVERY 300
/* The grid's tile size (app/npv-grid.c), to tell placeholders from text. */
#define TILE_ROWS 64
#define TILE_COLS 16
#define LOAD_TIMEOUT_S 60
#define SCROLL_TIMEOUT_S 600

typedef struct
{
  gint64 before;             /* monotonic us at the phases' ends, from before-paint */
  gint64 layout;
  gint64 paint;
  gint64 after;
  gint64 snapshot_us;        /* in the grid's snapshot() */
  gint64 frame_time;         /* gdk_frame_timings_get_frame_time() */
  gint64 row0, col0;         /* first visible row and column after the scroll */
  guint n_missing;           /* visible tiles not arrived yet: drawn as placeholders */
  gboolean grid_drawn;       /* the grid's snapshot() ran */
} Frame;

typedef struct
{
  gint64 rss_kb, anon_kb, file_kb, shmem_kb, hwm_kb;
} Status;

typedef struct
{
  /* options */
  const char *path;
  guint n_frames;
  double rows_per_frame;
  int xserver_pid;
  const char *json_path;
  const char *timeline_path;

  char *real_path;           /* FILE as it shows in /proc/self/smaps */
  GtkWidget *window;
  NpvGrid *grid;
  GtkWidget *ticker;         /* the widget with the tick callback */
  GtkAdjustment *hadj, *vadj;
  GdkFrameClock *clock;
  double row_height;         /* pixels */
  double col_width;

  gboolean measuring;
  gboolean ticked;           /* the tick callback ran in this frame */
  guint tick_id;
  guint n_ticks;
  Frame current;
  GArray *frames;            /* of Frame */
  guint n_painted_frames;    /* frames of the clock that painted, any */

  /* memory */
  Status peak;               /* each field's own peak */
  gint64 peak_anon_shmem_kb;
  gint64 quarter_anon_shmem_kb[4];   /* at the end of each quarter of the frames */
  gint64 peak_excl_kb;       /* VmRSS less FILE's pages, at smaps samples */
  gint64 peak_file_map_kb;
  Status start;
  gint64 start_excl_kb;
  guint n_smaps;

  /* CPU */
  struct rusage ru_self0, ru_self1, ru_thread0, ru_thread1;
  gint64 xserver_ticks0, xserver_ticks1;
  gint64 wall0, wall1;

  gboolean done;
  gboolean failed;
} Bench;

/* ------------------------------------------------------------------ */
/* /proc */

static void
read_status (Status *status)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  memset (status, 0, sizeof *status);
  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      static const struct { const char *key; gsize offset; } keys[] = {
        { "VmRSS:", G_STRUCT_OFFSET (Status, rss_kb) },
        { "RssAnon:", G_STRUCT_OFFSET (Status, anon_kb) },
        { "RssFile:", G_STRUCT_OFFSET (Status, file_kb) },
        { "RssShmem:", G_STRUCT_OFFSET (Status, shmem_kb) },
        { "VmHWM:", G_STRUCT_OFFSET (Status, hwm_kb) },
      };

      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        if (g_str_has_prefix (lines[i], keys[k].key))
          G_STRUCT_MEMBER (gint64, status, keys[k].offset) =
            g_ascii_strtoll (lines[i] + strlen (keys[k].key), NULL, 10);
    }
}

/* The Rss of the mappings of @path, in kB. */
static gint64
mapped_rss_kb (const char *path)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean inside = FALSE;
  gint64 kb = 0;

  if (!g_file_get_contents ("/proc/self/smaps", &text, NULL, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];

      /* A mapping's first line: "start-end perms offset dev inode   path". */
      if (g_ascii_isxdigit (line[0]) && strchr (line, '-') != NULL && strchr (line, ' ') != NULL &&
          strchr (line, '-') < strchr (line, ' '))
        {
          const char *p = line;

          for (int field = 0; field < 5 && p != NULL; field++)
            {
              p = strchr (p, ' ');
              while (p != NULL && *p == ' ')
                p++;
            }
          inside = p != NULL && strcmp (p, path) == 0;
        }
      else if (inside && g_str_has_prefix (line, "Rss:"))
        kb += g_ascii_strtoll (line + 4, NULL, 10);
    }
  return kb;
}

/* utime + stime of a process, in clock ticks; -1 when unknown. */
static gint64
process_ticks (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *p;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  /* After the command's ")", fields from the third on: utime is the 14th. */
  p = strrchr (text, ')');
  if (p == NULL)
    return -1;
  fields = g_strsplit (p + 2, " ", -1);
  if (g_strv_length (fields) < 13)
    return -1;
  return g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12], NULL, 10);
}

static void
sample_memory (Bench   *bench,
               gboolean with_smaps)
{
  Status s;

  read_status (&s);
  bench->peak.rss_kb = MAX (bench->peak.rss_kb, s.rss_kb);
  bench->peak.anon_kb = MAX (bench->peak.anon_kb, s.anon_kb);
  bench->peak.file_kb = MAX (bench->peak.file_kb, s.file_kb);
  bench->peak.shmem_kb = MAX (bench->peak.shmem_kb, s.shmem_kb);
  bench->peak.hwm_kb = MAX (bench->peak.hwm_kb, s.hwm_kb);
  bench->peak_anon_shmem_kb = MAX (bench->peak_anon_shmem_kb, s.anon_kb + s.shmem_kb);
  if (bench->frames->len > 0 && bench->frames->len % MAX (bench->n_frames / 4, 1) == 0)
    bench->quarter_anon_shmem_kb[MIN (bench->frames->len / MAX (bench->n_frames / 4, 1), 4) - 1] =
      s.anon_kb + s.shmem_kb;
  if (with_smaps)
    {
      gint64 file_map = mapped_rss_kb (bench->real_path);
      Status again;

      /* VmRSS again after smaps, and the larger of the two: the file's
       * pages cannot be counted twice, and a growth in between is kept. */
      read_status (&again);
      bench->peak_file_map_kb = MAX (bench->peak_file_map_kb, file_map);
      bench->peak_excl_kb = MAX (bench->peak_excl_kb, MAX (s.rss_kb, again.rss_kb) - file_map);
      bench->n_smaps++;
    }
}

/* ------------------------------------------------------------------ */
/* Timing the frame */

static void (*grid_snapshot_parent) (GtkWidget *widget, GtkSnapshot *snapshot);
static Bench *the_bench;

static void
timed_grid_snapshot (GtkWidget   *widget,
                     GtkSnapshot *snapshot)
{
  gint64 start = g_get_monotonic_time ();

  grid_snapshot_parent (widget, snapshot);
  if (the_bench != NULL)
    {
      the_bench->current.snapshot_us += g_get_monotonic_time () - start;
      the_bench->current.grid_drawn = TRUE;
    }
}

static void
before_paint (GdkFrameClock *clock,
              Bench         *bench)
{
  memset (&bench->current, 0, sizeof bench->current);
  bench->ticked = FALSE;
  bench->current.before = g_get_monotonic_time ();
}

static void
after_layout (GdkFrameClock *clock,
              Bench         *bench)
{
  bench->current.layout = g_get_monotonic_time ();
}

static void
after_paint_phase (GdkFrameClock *clock,
                   Bench         *bench)
{
  bench->current.paint = g_get_monotonic_time ();
}

static void
visible_origin (Bench  *bench,
                gint64 *row0,
                gint64 *col0)
{
  *row0 = (gint64) (gtk_adjustment_get_value (bench->vadj) / bench->row_height);
  *col0 = (gint64) (gtk_adjustment_get_value (bench->hadj) / bench->col_width);
}

/* Visible tiles (of TILE_ROWS x TILE_COLS, as the grid makes them) whose
 * text has not arrived: the frame showed placeholders for them. */
static guint
missing_tiles (Bench *bench)
{
  double v = gtk_adjustment_get_value (bench->vadj), h = gtk_adjustment_get_value (bench->hadj);
  gint64 r0 = (gint64) (v / bench->row_height);
  gint64 r1 = MIN ((gint64) ((v + gtk_adjustment_get_page_size (bench->vadj)) / bench->row_height),
                   npv_grid_get_n_rows (bench->grid) - 1);
  gint64 c0 = (gint64) (h / bench->col_width);
  gint64 c1 = MIN ((gint64) ((h + gtk_adjustment_get_page_size (bench->hadj)) / bench->col_width),
                   npv_grid_get_n_columns (bench->grid) - 1);
  guint missing = 0;

  for (gint64 tr = r0 / TILE_ROWS; tr <= r1 / TILE_ROWS; tr++)
    for (gint64 tc = c0 / TILE_COLS; tc <= c1 / TILE_COLS; tc++)
      missing += npv_grid_peek_text (bench->grid, MAX (tr * TILE_ROWS, r0), MAX (tc * TILE_COLS, c0)) == NULL;
  return missing;
}

static void
after_paint (GdkFrameClock *clock,
             Bench         *bench)
{
  GdkFrameTimings *timings;

  bench->current.after = g_get_monotonic_time ();
  /* A phase nobody asked for is not run: its span is empty. */
  if (bench->current.layout == 0)
    bench->current.layout = bench->current.before;
  if (bench->current.paint == 0)
    bench->current.paint = bench->current.layout;
  if (bench->current.grid_drawn)
    bench->n_painted_frames++;
  if (!bench->measuring || !bench->ticked)
    return;

  timings = gdk_frame_clock_get_current_timings (clock);
  bench->current.frame_time = timings != NULL ? gdk_frame_timings_get_frame_time (timings)
                                              : gdk_frame_clock_get_frame_time (clock);
  visible_origin (bench, &bench->current.row0, &bench->current.col0);
  bench->current.n_missing = missing_tiles (bench);
  g_array_append_val (bench->frames, bench->current);
  /* Outside the frame's span: it has ended. */
  sample_memory (bench, bench->frames->len % SMAPS_EVERY == 0);

  if (bench->frames->len >= bench->n_frames)
    {
      bench->wall1 = g_get_monotonic_time ();
      getrusage (RUSAGE_SELF, &bench->ru_self1);
      getrusage (RUSAGE_THREAD, &bench->ru_thread1);
      bench->xserver_ticks1 = process_ticks (bench->xserver_pid);
      sample_memory (bench, TRUE);
      bench->measuring = FALSE;
      gtk_widget_remove_tick_callback (bench->ticker, bench->tick_id);
      bench->tick_id = 0;
      bench->done = TRUE;
    }
}

/* ------------------------------------------------------------------ */
/* The scroll */

/* Over the --frames frames: down for a quarter of them, down and right for
 * a quarter, right for a quarter, then up and left, all at a constant
 * speed a frame (--rows-per-frame rows, a quarter of a column). */
static gboolean
scroll_tick (GtkWidget     *widget,
             GdkFrameClock *clock,
             gpointer       user_data)
{
  Bench *bench = user_data;
  guint quarter = MIN (bench->n_ticks * 4 / bench->n_frames, 3);
  double dy = bench->rows_per_frame * bench->row_height;
  double dx = bench->col_width / 4;
  static const int vsign[] = { 1, 1, 0, -1 };
  static const int hsign[] = { 0, 1, 1, -1 };

  bench->ticked = TRUE;
  bench->n_ticks++;
  gtk_adjustment_set_value (bench->vadj, gtk_adjustment_get_value (bench->vadj) + vsign[quarter] * dy);
  gtk_adjustment_set_value (bench->hadj, gtk_adjustment_get_value (bench->hadj) + hsign[quarter] * dx);
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------ */
/* Reporting */

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* The @q quantile (0..1) of @n sorted values, nearest rank. */
static double
quantile (const double *sorted,
          guint         n,
          double        q)
{
  guint rank;

  if (n == 0)
    return 0;
  rank = (guint) MAX (0.0, ceil (q * n) - 1);
  return sorted[MIN (rank, n - 1)];
}

typedef struct
{
  double median, p95, p99, max, mean;
} Summary;

static Summary
summarise (GArray *values)
{
  Summary s = { 0 };
  double sum = 0;

  g_array_sort (values, compare_double);
  for (guint i = 0; i < values->len; i++)
    sum += g_array_index (values, double, i);
  s.median = quantile ((double *) values->data, values->len, 0.5);
  s.p95 = quantile ((double *) values->data, values->len, 0.95);
  s.p99 = quantile ((double *) values->data, values->len, 0.99);
  s.max = values->len > 0 ? g_array_index (values, double, values->len - 1) : 0;
  s.mean = values->len > 0 ? sum / values->len : 0;
  return s;
}

typedef enum {
  SPAN_FRAME,       /* before-paint to after-paint */
  SPAN_UPDATE_LAYOUT,
  SPAN_PAINT,
  SPAN_SNAPSHOT,
  SPAN_PAINT_REST,
  SPAN_AFTER,
  SPAN_INTERVAL,    /* frame_time to the next frame's */
  N_SPANS
} Span;

static const char *span_names[N_SPANS] = {
  "frame (before-paint .. after-paint)",
  "  update + layout",
  "  paint",
  "    grid snapshot()",
  "    rest of paint (render, other widgets)",
  "  after-paint (GDK's end of frame)",
  "frame clock interval (pacing, not judged)",
};

static const char *span_keys[N_SPANS] = {
  "frame", "update_layout", "paint", "grid_snapshot", "paint_rest", "after", "interval",
};

static double
span_ms (const Frame *f,
         const Frame *next,
         Span         span)
{
  switch (span)
    {
    case SPAN_FRAME: return (f->after - f->before) / 1000.0;
    case SPAN_UPDATE_LAYOUT: return (f->layout - f->before) / 1000.0;
    case SPAN_PAINT: return (f->paint - f->layout) / 1000.0;
    case SPAN_SNAPSHOT: return f->snapshot_us / 1000.0;
    case SPAN_PAINT_REST: return (f->paint - f->layout - f->snapshot_us) / 1000.0;
    case SPAN_AFTER: return (f->after - f->paint) / 1000.0;
    case SPAN_INTERVAL: return (next->frame_time - f->frame_time) / 1000.0;
    default: g_assert_not_reached ();
    }
}

static double
tv_ms (const struct timeval *a,
       const struct timeval *b)
{
  return (b->tv_sec - a->tv_sec) * 1000.0 + (b->tv_usec - a->tv_usec) / 1000.0;
}

static double
rusage_ms (const struct rusage *a,
           const struct rusage *b)
{
  return tv_ms (&a->ru_utime, &b->ru_utime) + tv_ms (&a->ru_stime, &b->ru_stime);
}

static double
mb (gint64 kb)
{
  return kb * 1024.0 / 1e6;
}

static void
summarise_spans (Bench   *bench,
                 Summary *sums)
{
  guint n = bench->frames->len;

  for (int s = 0; s < N_SPANS; s++)
    {
      g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (double));

      for (guint i = 0; i + (s == SPAN_INTERVAL) < n; i++)
        {
          double v = span_ms (&g_array_index (bench->frames, Frame, i),
                              &g_array_index (bench->frames, Frame, MIN (i + 1, n - 1)), s);
          g_array_append_val (values, v);
        }
      sums[s] = summarise (values);
    }
}

static void
print_spans (const Summary *sums)
{
  printf ("  %-43s %8s %8s %8s %8s %8s\n", "ms", "median", "p95", "p99", "max", "mean");
  for (int s = 0; s < N_SPANS; s++)
    printf ("  %-43s %8.3f %8.3f %8.3f %8.3f %8.3f\n", span_names[s], sums[s].median, sums[s].p95,
            sums[s].p99, sums[s].max, sums[s].mean);
}

static void
append_json_spans (GString       *json,
                   const Summary *sums)
{
  for (int s = 0; s < N_SPANS; s++)
    g_string_append_printf (json, "\"%s_ms\": {\"median\": %.4f, \"p95\": %.4f, \"p99\": %.4f, "
                            "\"max\": %.4f, \"mean\": %.4f}, ",
                            span_keys[s], sums[s].median, sums[s].p95, sums[s].p99, sums[s].max,
                            sums[s].mean);
}

static void
write_json (Bench   *bench,
            GString *json)
{
  g_autoptr(GError) error = NULL;

  if (bench->json_path != NULL && !g_file_set_contents (bench->json_path, json->str, json->len, &error))
    {
      g_printerr ("bench-grid: %s\n", error->message);
      bench->failed = TRUE;
    }
}

/* --timeline: one line a frame, the CLOCK_MONOTONIC times (us) at which
 * its phases ended, for setting a profile against (perf record -k
 * CLOCK_MONOTONIC stamps its samples on the same clock). */
static void
write_timeline (Bench *bench)
{
  g_autoptr(GString) text = g_string_new ("# before_paint\tlayout\tpaint\tafter_paint\tgrid_snapshot_us\n");
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < bench->frames->len; i++)
    {
      const Frame *f = &g_array_index (bench->frames, Frame, i);

      g_string_append_printf (text, "%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT
                              "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\n",
                              f->before, f->layout, f->paint, f->after, f->snapshot_us);
    }
  if (!g_file_set_contents (bench->timeline_path, text->str, text->len, &error))
    {
      g_printerr ("bench-grid: %s\n", error->message);
      bench->failed = TRUE;
    }
}

/* Whether frame @i brought a tile row or column of the grid into view that
 * the frame before did not show: its cells were drawn for the first time. */
static gboolean
shows_new_tiles (Bench *bench,
                 guint  i,
                 int    visible_rows,
                 int    visible_cols)
{
  const Frame *f, *prev;

  if (i == 0)
    return TRUE;
  f = &g_array_index (bench->frames, Frame, i);
  prev = &g_array_index (bench->frames, Frame, i - 1);
  return f->row0 / TILE_ROWS != prev->row0 / TILE_ROWS ||
         (f->row0 + visible_rows) / TILE_ROWS != (prev->row0 + visible_rows) / TILE_ROWS ||
         f->col0 / TILE_COLS != prev->col0 / TILE_COLS ||
         (f->col0 + visible_cols) / TILE_COLS != (prev->col0 + visible_cols) / TILE_COLS;
}

/* Frame times of the frames that showed new tiles, and of the others. */
static void
print_new_tiles_split (Bench *bench,
                       int    visible_rows,
                       int    visible_cols)
{
  g_autoptr(GArray) with_new = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) without = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) snap_new = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) snap_other = g_array_new (FALSE, FALSE, sizeof (double));
  Summary a, b, sa, sb;

  for (guint i = 0; i < bench->frames->len; i++)
    {
      const Frame *f = &g_array_index (bench->frames, Frame, i);
      double ms = span_ms (f, f, SPAN_FRAME), snap = span_ms (f, f, SPAN_SNAPSHOT);
      gboolean is_new = shows_new_tiles (bench, i, visible_rows, visible_cols);

      g_array_append_val (is_new ? with_new : without, ms);
      g_array_append_val (is_new ? snap_new : snap_other, snap);
    }
  a = summarise (with_new);
  b = summarise (without);
  sa = summarise (snap_new);
  sb = summarise (snap_other);
  printf ("  frames bringing a new tile row or column into view: %u, frame median %.3f ms, "
          "p99 %.3f ms (grid snapshot median %.3f, p99 %.3f);\n",
          with_new->len, a.median, a.p99, sa.median, sa.p99);
  printf ("    the other %u frames: frame median %.3f ms, p99 %.3f ms "
          "(grid snapshot median %.3f, p99 %.3f)\n",
          without->len, b.median, b.p99, sb.median, sb.p99);
}

static gboolean
report (Bench *bench)
{
  guint n = bench->frames->len;
  Summary sums[N_SPANS];
  guint n_missing_frames = 0, n_missing_tiles = 0, n_drawn = 0, n_over_4 = 0, n_over_16 = 0;
  gint64 rows_seen0 = G_MAXINT64, rows_seen1 = 0, cols_seen0 = G_MAXINT64, cols_seen1 = 0;
  double wall_ms = (bench->wall1 - bench->wall0) / 1000.0;
  double self_ms = rusage_ms (&bench->ru_self0, &bench->ru_self1);
  double thread_ms = rusage_ms (&bench->ru_thread0, &bench->ru_thread1);
  double excl_mb = mb (bench->peak_excl_kb);
  double anon_shmem_mb = mb (bench->peak_anon_shmem_kb);
  gboolean ok_median, ok_p99, ok_memory;
  int visible_rows = (int) (gtk_adjustment_get_page_size (bench->vadj) / bench->row_height);
  int visible_cols = (int) ceil (gtk_adjustment_get_page_size (bench->hadj) / bench->col_width);

  summarise_spans (bench, sums);
  for (guint i = 0; i < n; i++)
    {
      const Frame *f = &g_array_index (bench->frames, Frame, i);
      double ms = span_ms (f, f, SPAN_FRAME);

      n_missing_frames += f->n_missing > 0;
      n_missing_tiles += f->n_missing;
      n_drawn += f->grid_drawn;
      n_over_4 += ms > TARGET_MEDIAN_MS;
      n_over_16 += ms > TARGET_P99_MS;
      rows_seen0 = MIN (rows_seen0, f->row0);
      rows_seen1 = MAX (rows_seen1, f->row0 + visible_rows);
      cols_seen0 = MIN (cols_seen0, f->col0);
      cols_seen1 = MAX (cols_seen1, f->col0 + visible_cols);
    }

  ok_median = sums[SPAN_FRAME].median <= TARGET_MEDIAN_MS;
  ok_p99 = sums[SPAN_FRAME].p99 <= TARGET_P99_MS;
  ok_memory = anon_shmem_mb < TARGET_MEMORY_MB;

  printf ("grid scroll, %s: %" G_GINT64_FORMAT " x %" G_GINT64_FORMAT " float64, window %dx%d, "
          "renderer %s\n",
          bench->path, npv_grid_get_n_rows (bench->grid), npv_grid_get_n_columns (bench->grid),
          WIDTH, HEIGHT, g_getenv ("GSK_RENDERER") != NULL ? g_getenv ("GSK_RENDERER") : "(default)");
  printf ("  %u frames measured, %.1f rows and up to %.0f px sideways a frame; cells seen: "
          "rows %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT ", columns %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT
          " (%d x %d visible)\n",
          n, bench->rows_per_frame, bench->col_width / 4, rows_seen0, rows_seen1, cols_seen0, cols_seen1,
          visible_rows, visible_cols);
  printf ("  frames where the grid drew: %u; showing placeholders for tiles not arrived: %u "
          "(%u tiles in all)\n", n_drawn, n_missing_frames, n_missing_tiles);
  print_spans (sums);
  printf ("  frames over 4 ms: %u, over 16 ms: %u\n", n_over_4, n_over_16);
  print_new_tiles_split (bench, visible_rows, visible_cols);
  printf ("  CPU over the scroll (%.0f ms wall, %.2f ms a frame): main thread %.3f ms a frame, "
          "whole process %.3f ms a frame",
          wall_ms, wall_ms / MAX (n, 1), thread_ms / MAX (n, 1), self_ms / MAX (n, 1));
  if (bench->xserver_ticks0 >= 0 && bench->xserver_ticks1 >= 0)
    printf (", X server %.3f ms a frame",
            (bench->xserver_ticks1 - bench->xserver_ticks0) * 1000.0 / sysconf (_SC_CLK_TCK) / MAX (n, 1));
  printf ("\n");
  printf ("  memory (MB)      before the scroll   peak during it\n");
  printf ("    VmRSS              %8.1f         %8.1f\n", mb (bench->start.rss_kb), mb (bench->peak.rss_kb));
  printf ("    RssAnon            %8.1f         %8.1f\n",
          mb (bench->start.anon_kb), mb (bench->peak.anon_kb));
  printf ("    RssFile            %8.1f         %8.1f\n",
          mb (bench->start.file_kb), mb (bench->peak.file_kb));
  printf ("    RssShmem           %8.1f         %8.1f\n",
          mb (bench->start.shmem_kb), mb (bench->peak.shmem_kb));
  printf ("    data file's pages  %8.1f         %8.1f   (Rss of its mapping, %u smaps samples)\n",
          mb (bench->start.rss_kb - bench->start_excl_kb), mb (bench->peak_file_map_kb), bench->n_smaps);
  printf ("    VmRSS less those   %8.1f         %8.1f   (libraries' code and data included)\n",
          mb (bench->start_excl_kb), mb (bench->peak_excl_kb));
  printf ("    RssAnon + RssShmem %8.1f         %8.1f   (%.1f, %.1f, %.1f, %.1f after each quarter)\n",
          mb (bench->start.anon_kb + bench->start.shmem_kb), mb (bench->peak_anon_shmem_kb),
          mb (bench->quarter_anon_shmem_kb[0]), mb (bench->quarter_anon_shmem_kb[1]),
          mb (bench->quarter_anon_shmem_kb[2]), mb (bench->quarter_anon_shmem_kb[3]));
  printf ("  target median <= %.0f ms: %.3f ms, %s\n", TARGET_MEDIAN_MS, sums[SPAN_FRAME].median,
          ok_median ? "met" : "MISSED");
  printf ("  target p99 <= %.0f ms: %.3f ms, %s\n", TARGET_P99_MS, sums[SPAN_FRAME].p99,
          ok_p99 ? "met" : "MISSED");
  printf ("  target resident memory but page cache (RssAnon + RssShmem) < %.0f MB: %.1f MB, %s\n",
          TARGET_MEMORY_MB, anon_shmem_mb, ok_memory ? "met" : "MISSED");
  printf ("    (not judged: VmRSS less only the data file's pages, the libraries' code kept in, "
          "%.1f MB, %s %.0f MB)\n", excl_mb, excl_mb < TARGET_MEMORY_MB ? "under" : "over", TARGET_MEMORY_MB);
  fflush (stdout);

  {
    g_autoptr(GString) json = g_string_new ("{");

    g_string_append_printf (json, "\"frames\": %u, \"visible_rows\": %d, \"visible_cols\": %d, ",
                            n, visible_rows, visible_cols);
    append_json_spans (json, sums);
    g_string_append_printf (json, "\"main_thread_cpu_ms_per_frame\": %.4f, "
                            "\"process_cpu_ms_per_frame\": %.4f, "
                            "\"peak_rss_mb\": %.2f, \"peak_rss_less_file_mb\": %.2f, "
                            "\"peak_anon_shmem_mb\": %.2f, \"ok\": %s, \"windows\": [",
                            thread_ms / MAX (n, 1), self_ms / MAX (n, 1), mb (bench->peak.rss_kb),
                            excl_mb, anon_shmem_mb, ok_median && ok_p99 && ok_memory ? "true" : "false");
    for (guint i = 0; i < n; i++)
      {
        const Frame *f = &g_array_index (bench->frames, Frame, i);

        g_string_append_printf (json, "%s[%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", i > 0 ? ", " : "",
                                f->row0, f->col0);
      }
    g_string_append (json, "]}\n");
    write_json (bench, json);
  }
  return ok_median && ok_p99 && ok_memory;
}

/* ------------------------------------------------------------------ */

static gboolean
iterate_until (gboolean (*ready) (Bench *bench),
               Bench     *bench,
               int        timeout_s,
               const char *what)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

  while (!ready (bench))
    {
      if (g_get_monotonic_time () > deadline)
        {
          g_printerr ("bench-grid: %s: nothing after %d s\n", what, timeout_s);
          return FALSE;
        }
      g_main_context_iteration (NULL, TRUE);
    }
  return TRUE;
}

static gboolean
shown_and_loaded (Bench *bench)
{
  /* Mapped, tiles made, and a frame painted since they came. */
  if (!gtk_widget_get_mapped (GTK_WIDGET (bench->grid)) || npv_grid_is_loading (bench->grid) ||
      npv_grid_peek_text (bench->grid, 0, 0) == NULL)
    {
      bench->n_painted_frames = 0;
      return FALSE;
    }
  return bench->n_painted_frames >= 1;
}

static gboolean
scroll_done (Bench *bench)
{
  return bench->done;
}

static gboolean
wake_up (gpointer user_data)
{
  /* A frame clock with nothing queued would leave the wait asleep. */
  return G_SOURCE_CONTINUE;
}

static NpvArray *
open_plane (const char  *path,
            NpvFile    **file_out,
            GError     **error)
{
  g_autoptr(NpvFile) file = npv_file_open (path, error);
  const NpvMember *member;
  g_autoptr(NpvArray) array = NULL;
  NpvPlane plane;

  if (file == NULL)
    return NULL;
  member = npv_file_lookup_member (file, NULL, error);
  if (member == NULL)
    return NULL;
  array = npv_file_open_array (file, member, error);
  if (array == NULL)
    return NULL;
  npv_plane_init_default (&plane, array);
  *file_out = g_steal_pointer (&file);
  return npv_plane_apply (&plane, array, error);
}

/* Measures --frames frames from now, @tick on @ticker making each one. */
static gboolean
measure_frames (Bench              *bench,
                GtkWidget          *ticker,
                GtkTickCallback     tick)
{
  read_status (&bench->start);
  bench->start_excl_kb = bench->start.rss_kb - mapped_rss_kb (bench->real_path);
  bench->xserver_ticks0 = process_ticks (bench->xserver_pid);
  getrusage (RUSAGE_SELF, &bench->ru_self0);
  getrusage (RUSAGE_THREAD, &bench->ru_thread0);
  bench->wall0 = g_get_monotonic_time ();
  bench->measuring = TRUE;
  bench->ticker = ticker;
  bench->tick_id = gtk_widget_add_tick_callback (ticker, tick, bench, NULL);
  return iterate_until (scroll_done, bench, SCROLL_TIMEOUT_S, "measuring frames");
}

static void
connect_frame_clock (Bench *bench)
{
  /* Connected after GDK's own handlers (made with the surface), so they
   * run after them: the span is as wide as the frame's work. */
  g_signal_connect (bench->clock, "before-paint", G_CALLBACK (before_paint), bench);
  g_signal_connect (bench->clock, "layout", G_CALLBACK (after_layout), bench);
  g_signal_connect (bench->clock, "paint", G_CALLBACK (after_paint_phase), bench);
  g_signal_connect (bench->clock, "after-paint", G_CALLBACK (after_paint), bench);
}

static GtkWidget *
new_window (void)
{
  GtkWidget *window = gtk_window_new ();

  gtk_window_set_default_size (GTK_WINDOW (window), WIDTH, HEIGHT);
  gtk_window_set_decorated (GTK_WINDOW (window), FALSE);
  return window;
}

static int
run_grid (Bench *bench)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvFile) file = NULL;
  g_autoptr(NpvArray) plane = open_plane (bench->path, &file, &error);
  GtkWidgetClass *grid_class;
  GtkWidget *scroller;
  gboolean ok;

  if (plane == NULL)
    {
      g_printerr ("bench-grid: %s\n", error->message);
      return 2;
    }

  grid_class = g_type_class_ref (NPV_TYPE_GRID);
  grid_snapshot_parent = grid_class->snapshot;
  grid_class->snapshot = timed_grid_snapshot;
  the_bench = bench;

  bench->window = new_window ();
  scroller = gtk_scrolled_window_new ();
  bench->grid = NPV_GRID (npv_grid_new ());
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), GTK_WIDGET (bench->grid));
  gtk_window_set_child (GTK_WINDOW (bench->window), scroller);
  npv_grid_set_plane (bench->grid, plane);
  gtk_window_present (GTK_WINDOW (bench->window));
  bench->clock = gtk_widget_get_frame_clock (bench->window);
  connect_frame_clock (bench);

  if (!iterate_until (shown_and_loaded, bench, LOAD_TIMEOUT_S, "waiting for the first tiles"))
    return 2;
  bench->hadj = gtk_scrollable_get_hadjustment (GTK_SCROLLABLE (bench->grid));
  bench->vadj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (bench->grid));
  /* The grid sets the row pitch as the vertical step, and the horizontal
   * range is the columns times their width. */
  bench->row_height = gtk_adjustment_get_step_increment (bench->vadj);
  bench->col_width = gtk_adjustment_get_upper (bench->hadj) / npv_grid_get_n_columns (bench->grid);
  if (bench->row_height <= 0 || bench->col_width <= 0 ||
      gtk_widget_get_width (bench->window) != WIDTH || gtk_widget_get_height (bench->window) != HEIGHT)
    {
      g_printerr ("bench-grid: unexpected geometry: window %dx%d, row %.1f px, column %.1f px\n",
                  gtk_widget_get_width (bench->window), gtk_widget_get_height (bench->window),
                  bench->row_height, bench->col_width);
      return 2;
    }
  if (!measure_frames (bench, GTK_WIDGET (bench->grid), scroll_tick))
    return 2;

  ok = report (bench);
  if (bench->timeline_path != NULL)
    write_timeline (bench);
  the_bench = NULL;
  gtk_window_destroy (GTK_WINDOW (bench->window));
  if (bench->failed)
    return 2;
  return ok ? 0 : 1;
}

int
main (int   argc,
      char *argv[])
{
  Bench bench = { 0 };
  int n_frames = 3600, xserver_pid = 0, status;
  double rows_per_frame = 4;
  char *json_path = NULL, *timeline_path = NULL;
  GOptionEntry entries[] = {
    { "frames", 0, 0, G_OPTION_ARG_INT, &n_frames, "Frames to measure (default 3600)", "N" },
    { "rows-per-frame", 0, 0, G_OPTION_ARG_DOUBLE, &rows_per_frame,
      "Rows scrolled a frame (default 4)", "R" },
    { "xserver-pid", 0, 0, G_OPTION_ARG_INT, &xserver_pid, "The X server, for its CPU time", "PID" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "Write the figures as JSON to OUT", "OUT" },
    { "timeline", 0, 0, G_OPTION_ARG_FILENAME, &timeline_path,
      "Write each frame's phase times (CLOCK_MONOTONIC us) to OUT", "OUT" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE");
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2 ||
      n_frames < 4 || rows_per_frame <= 0)
    {
      g_printerr ("bench-grid: %s\n", error != NULL ? error->message : "usage: bench-grid [OPTION...] FILE");
      return 2;
    }
  bench.n_frames = (guint) n_frames;
  bench.rows_per_frame = rows_per_frame;
  bench.xserver_pid = xserver_pid;
  bench.json_path = json_path;
  bench.timeline_path = timeline_path;
  bench.frames = g_array_sized_new (FALSE, TRUE, sizeof (Frame), bench.n_frames);
  bench.path = argv[1];
  bench.real_path = realpath (bench.path, NULL);
  if (bench.real_path == NULL)
    {
      g_printerr ("bench-grid: %s: %s\n", bench.path, g_strerror (errno));
      return 2;
    }

  gtk_init ();
  g_timeout_add (100, wake_up, NULL);
  status = run_grid (&bench);

  g_array_unref (bench.frames);
  free (bench.real_path);
  g_free (json_path);
  g_free (timeline_path);
  return status;
}
