/* bench-pyramid.c: times block pyramids of a .npy through the core
 *
 * A driver for bench_pyramid.py, which sets its timings against numpy's in
 * the same run. It prints one JSON object on stdout.
 *
 *   bench-pyramid overview [--out FILE] NPY
 *       opens NPY, applies the default plane, makes a pyramid and gets
 *       every exact tile of the first level whose blocks fit in 1024 x 1024
 *       (level 4 of 16384 x 16384: 4 x 4 tiles) with one thread per
 *       processor. Timed from npv_file_open() to the last tile: total_us.
 *   bench-pyramid first-picture [--out FILE] NPY
 *       the same with npv_pyramid_sample_tile(): one line per block, the
 *       quick first picture of a file that is not in the page cache.
 *   bench-pyramid bandwidth [--mib N]
 *       the machine's memory-read bandwidth: a buffer of N MiB (1024) in
 *       RAM read by one thread per processor, each summing its share as
 *       uint64 with eight accumulators; the best of five passes (bytes_per_s).
 *
 * With --out, the level's blocks are written there as three row-major
 * float64 arrays (means, minimums, maximums) for the driver to check
 * against numpy.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "npv-file.h"
#include "npv-plane.h"
#include "npv-pyramid.h"

#define SCREEN 1024

static gboolean
run_levels (const char  *path,
            gboolean     sample,
            const char  *out_path,
            GError     **error)
{
  gint64 t0 = g_get_monotonic_time (), t_open, t_done;
  g_autoptr(NpvFile) file = NULL;
  g_autoptr(NpvArray) array = NULL;
  g_autoptr(NpvArray) view = NULL;
  g_autoptr(NpvPyramid) pyramid = NULL;
  g_autofree double *out = NULL;
  const NpvMember *member;
  NpvPlane plane;
  guint level = 0;
  gint64 n_rows, n_cols, tiles_r, tiles_c;
  double checksum = 0;

  file = npv_file_open (path, error);
  if (file == NULL)
    return FALSE;
  member = npv_file_lookup_member (file, NULL, error);
  if (member == NULL)
    return FALSE;
  array = npv_file_open_array (file, member, error);
  if (array == NULL)
    return FALSE;
  npv_plane_init_default (&plane, array);
  view = npv_plane_apply (&plane, array, error);
  if (view == NULL)
    return FALSE;
  pyramid = npv_pyramid_new (view, NPV_PART_VALUE, 0, error);
  if (pyramid == NULL)
    return FALSE;
  t_open = g_get_monotonic_time ();

  while (npv_pyramid_get_n_rows (pyramid, level) > SCREEN || npv_pyramid_get_n_cols (pyramid, level) > SCREEN)
    level++;
  n_rows = npv_pyramid_get_n_rows (pyramid, level);
  n_cols = npv_pyramid_get_n_cols (pyramid, level);
  tiles_r = (n_rows + NPV_PYRAMID_TILE - 1) / NPV_PYRAMID_TILE;
  tiles_c = (n_cols + NPV_PYRAMID_TILE - 1) / NPV_PYRAMID_TILE;
  if (out_path != NULL)
    out = g_new (double, 3 * n_rows * n_cols);

  for (gint64 tr = 0; tr < tiles_r; tr++)
    for (gint64 tc = 0; tc < tiles_c; tc++)
      {
        g_autoptr(NpvBlocks) blocks = NULL;

        if (sample)
          blocks = npv_pyramid_sample_tile (pyramid, level, tr, tc, NULL, error);
        else
          blocks = npv_pyramid_get_tile (pyramid, level, tr, tc, 0, NULL, error);
        if (blocks == NULL)
          return FALSE;
        checksum += blocks->count[0];
        if (out != NULL)
          for (guint r = 0; r < blocks->n_rows; r++)
            for (guint c = 0; c < blocks->n_cols; c++)
              {
                gsize to = (gsize) ((blocks->row + r) * n_cols + blocks->col + c);
                gsize from = (gsize) r * blocks->n_cols + c;

                out[to] = npv_blocks_get_mean (blocks, r, c);
                out[n_rows * n_cols + to] = blocks->min[from];
                out[2 * n_rows * n_cols + to] = blocks->max[from];
              }
      }
  t_done = g_get_monotonic_time ();

  if (out != NULL && !g_file_set_contents (out_path, (const char *) out,
                                           (gssize) (3 * n_rows * n_cols * sizeof (double)), error))
    return FALSE;

  printf ("{\"level\": %u, \"n_rows\": %" G_GINT64_FORMAT ", \"n_cols\": %" G_GINT64_FORMAT ", "
          "\"tiles\": %" G_GINT64_FORMAT ", \"open_us\": %" G_GINT64_FORMAT ", "
          "\"total_us\": %" G_GINT64_FORMAT ", \"threads\": %u, \"checksum\": %.17g}\n",
          level, n_rows, n_cols, tiles_r * tiles_c, t_open - t0, t_done - t0,
          g_get_num_processors (), checksum);
  return TRUE;
}

/* Memory-read bandwidth */

typedef struct
{
  const guint64 *words;
  gsize n;
  guint64 sum;
} ReadJob;

static gpointer
read_job (gpointer data)
{
  ReadJob *job = data;
  const guint64 *w = job->words;
  guint64 s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  gsize i = 0;

  for (; i + 8 <= job->n; i += 8)
    {
      s0 += w[i];
      s1 += w[i + 1];
      s2 += w[i + 2];
      s3 += w[i + 3];
      s4 += w[i + 4];
      s5 += w[i + 5];
      s6 += w[i + 6];
      s7 += w[i + 7];
    }
  for (; i < job->n; i++)
    s0 += w[i];
  job->sum = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
  return NULL;
}

static void
run_bandwidth (gsize mib)
{
  gsize bytes = mib << 20;
  gsize n = bytes / sizeof (guint64);
  guint64 *words = g_malloc (bytes);
  guint n_threads = g_get_num_processors ();
  g_autofree ReadJob *jobs = g_new0 (ReadJob, n_threads);
  g_autofree GThread **threads = g_new0 (GThread *, n_threads);
  double best = G_MAXDOUBLE;
  guint64 total = 0;

  /* Every page present before timing. */
  for (gsize i = 0; i < n; i++)
    words[i] = i * 0x9E3779B97F4A7C15u;

  for (guint pass = 0; pass < 5; pass++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double seconds;

      for (guint t = 0; t < n_threads; t++)
        {
          jobs[t].words = words + n * t / n_threads;
          jobs[t].n = n * (t + 1) / n_threads - n * t / n_threads;
          threads[t] = g_thread_new ("read", read_job, &jobs[t]);
        }
      for (guint t = 0; t < n_threads; t++)
        {
          g_thread_join (threads[t]);
          total += jobs[t].sum;
        }
      seconds = (g_get_monotonic_time () - t0) / 1e6;
      best = MIN (best, seconds);
    }
  g_free (words);
  printf ("{\"bytes\": %" G_GSIZE_FORMAT ", \"seconds\": %.6f, \"bytes_per_s\": %.1f, "
          "\"threads\": %u, \"checksum\": %" G_GUINT64_FORMAT "}\n",
          bytes, best, bytes / best, n_threads, total);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = g_option_context_new ("overview|first-picture NPY | bandwidth");
  g_autofree char *out_path = NULL;
  gint mib = 1024;
  GOptionEntry entries[] = {
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out_path, "write the level's means, minimums and maximums here", "FILE" },
    { "mib", 0, 0, G_OPTION_ARG_INT, &mib, "bandwidth: the buffer's size in MiB", "N" },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  if (argc == 2 && strcmp (argv[1], "bandwidth") == 0 && mib > 0)
    {
      run_bandwidth ((gsize) mib);
      return 0;
    }
  if (argc == 3 && (strcmp (argv[1], "overview") == 0 || strcmp (argv[1], "first-picture") == 0))
    {
      if (!run_levels (argv[2], strcmp (argv[1], "first-picture") == 0, out_path, &error))
        {
          g_printerr ("bench-pyramid: %s\n", error->message);
          return 1;
        }
      return 0;
    }
  g_printerr ("usage: bench-pyramid overview|first-picture [--out FILE] NPY | bandwidth [--mib N]\n");
  return 2;
}
