/* test-stress.c: eight views of one array at once while the file is reloaded
 *
 * What the app does with several windows on one file, without the widgets:
 * eight threads each scroll a grid (text tiles at random places), zoom a
 * heatmap (pyramid tiles at random levels, on a pyramid of their own) and
 * now and then export a block, all on one shared NpvFile, while the main
 * thread replaces the file (written beside it, then renamed over it, as
 * np.save through a temporary file does) and reopens it. A view takes up
 * the new file at its next step, as a window does on reload.
 *
 * Every value is checked: item (r, c) of generation g holds
 * g * 10^7 + r * COLS + c, so a tile from an older file after a view
 * moved on, or a torn read, is caught. Run once under -fsanitize=thread
 * (see README) for data races; deadlocks are the test's timeout.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>

#include "npv-error.h"
#include "npv-export.h"
#include "npv-file.h"
#include "npv-npy.h"
#include "npv-plane.h"
#include "npv-pyramid.h"
#include "npv-tile.h"

#define ROWS 1024
#define COLS 1024
#define N_VIEWS 8
#define N_RELOADS 4
#define STEPS 40

typedef struct
{
  GMutex lock;
  NpvFile *file;          /* the current file */
  guint generation;       /* of @file */
  gboolean done;
  char *dir;
  char *path;
  gint failures;
} Shared;

static void
write_generation (Shared *shared,
                  guint   generation)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvDType) dtype = npv_dtype_new_from_string ("<f8", &error);
  const gint64 shape[2] = { ROWS, COLS };
  g_autoptr(GBytes) header = npv_npy_header_build (dtype, 2, shape, FALSE);
  gsize header_len = g_bytes_get_size (header);
  gsize len = header_len + (gsize) ROWS * COLS * 8;
  g_autofree guint8 *bytes = g_malloc (len);
  double *values = (double *) (gpointer) (bytes + header_len);
  g_autofree char *tmp = g_strconcat (shared->path, ".part", NULL);

  memcpy (bytes, g_bytes_get_data (header, NULL), header_len);
  for (gsize i = 0; i < (gsize) ROWS * COLS; i++)
    values[i] = generation * 1e7 + i;
  g_file_set_contents (tmp, (const char *) bytes, len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_rename (tmp, shared->path), ==, 0);
}

static double
expected (guint  generation,
          gint64 row,
          gint64 col)
{
  return generation * 1e7 + row * COLS + col;
}

#define CHECK(cond, ...) \
  G_STMT_START { if (!(cond)) { g_printerr (__VA_ARGS__); g_printerr ("\n"); \
                                g_atomic_int_inc (&shared->failures); } } G_STMT_END

typedef struct
{
  Shared *shared;
  guint id;
} View;

static gpointer
view_run (gpointer data)
{
  View *view = data;
  Shared *shared = view->shared;
  GRand *rand = g_rand_new_with_seed (view->id);
  NpvNumberFormat format = { NPV_NUMBER_AUTO, 0 };
  guint generation = 0;
  g_autoptr(NpvFile) file = NULL;
  g_autoptr(NpvArray) plane = NULL;
  g_autoptr(GArray) leaves = NULL;
  g_autoptr(NpvPyramid) pyramid = NULL;
  g_autofree char *out = g_strdup_printf ("%s/view%u.npy", shared->dir, view->id);
  gboolean done = FALSE;

  for (guint step = 0; !done; step++)
    {
      g_autoptr(GError) error = NULL;

      /* Reload when the file changed, as a window does. */
      gboolean reload = FALSE;

      g_mutex_lock (&shared->lock);
      done = shared->done && step >= STEPS;
      if (shared->generation != generation || file == NULL)
        {
          g_clear_pointer (&file, npv_file_unref);
          file = npv_file_ref (shared->file);
          generation = shared->generation;
          reload = TRUE;
        }
      g_mutex_unlock (&shared->lock);
      if (reload)
      {
        const NpvMember *member = npv_file_lookup_member (file, NULL, &error);
        NpvPlane p;
        g_autoptr(NpvArray) array = npv_file_open_array (file, member, &error);

        g_assert_no_error (error);
        npv_plane_init_default (&p, array);
        g_clear_pointer (&plane, npv_array_unref);
        plane = npv_plane_apply (&p, array, &error);
        g_assert_no_error (error);
      }
      if (reload)
        {
          g_clear_pointer (&pyramid, npv_pyramid_unref);
          pyramid = npv_pyramid_new (plane, NPV_PART_VALUE, 8 << 20, &error);
          g_assert_no_error (error);
        }
      if (leaves == NULL)
        leaves = npv_dtype_collect_leaves (plane->dtype);

      switch (step % 4)
        {
        case 0: case 1:
          {
            /* Scroll: a window of cells somewhere. */
            gint64 row = g_rand_int_range (rand, 0, ROWS - 32);
            gint64 col = g_rand_int_range (rand, 0, COLS - 8);
            g_autoptr(NpvTile) tile = npv_tile_compute (plane, leaves, row, col, 32, 8, &format,
                                                        NULL, &error);

            g_assert_no_error (error);
            for (guint r = 0; r < 32; r += 7)
              for (guint c = 0; c < 8; c += 3)
                CHECK (npv_tile_get_number (tile, r, c) == expected (generation, row + r, col + c),
                       "view %u: cell (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ") is %s, "
                       "generation %u holds %.17g", view->id, row + r, col + c,
                       npv_tile_get_text (tile, r, c), generation,
                       expected (generation, row + r, col + c));
            break;
          }
        case 2:
          {
            /* Zoom: a tile of some level; its first block's mean. */
            guint level = g_rand_int_range (rand, 0, npv_pyramid_get_top_level (pyramid) + 1);
            g_autoptr(NpvBlocks) blocks = npv_pyramid_get_tile (pyramid, level, 0, 0, 2, NULL, &error);
            gint64 side = (gint64) 1 << level;
            gint64 n = MIN (side, ROWS);
            /* Block (0, 0) covers rows and columns [0, n): its mean is the
             * mean of the first and last of them. */
            double mean = (expected (generation, 0, 0) + expected (generation, n - 1, n - 1)) / 2;

            g_assert_no_error (error);
            CHECK (fabs (blocks->sum[0] / blocks->count[0] - mean) <= 1e-9 * fabs (mean),
                   "view %u: level %u block (0, 0) has mean %.17g, generation %u gives %.17g",
                   view->id, level, blocks->sum[0] / blocks->count[0], generation, mean);
            break;
          }
        default:
          {
            /* Export a few rows, and read them back. */
            NpvIndex index;
            g_autoptr(NpvArray) rows = NULL;
            g_autoptr(NpvFile) back = NULL;
            g_autoptr(NpvArray) back_array = NULL;
            g_autoptr(NpvTile) tile = NULL;

            g_assert_true (npv_index_parse ("100:104", &index, &error));
            rows = npv_array_apply_index (plane, &index, &error);
            g_assert_no_error (error);
            g_assert_true (npv_export_array (rows, out, NPV_EXPORT_NPY, NPV_EXPORT_OVERWRITE, NULL, &error));
            back = npv_file_open (out, &error);
            g_assert_no_error (error);
            back_array = npv_file_open_array (back, npv_file_lookup_member (back, NULL, NULL), &error);
            g_assert_no_error (error);
            tile = npv_tile_compute (back_array, leaves, 3, COLS - 4, 1, 4, &format, NULL, &error);
            g_assert_no_error (error);
            CHECK (npv_tile_get_number (tile, 0, 3) == expected (generation, 103, COLS - 1),
                   "view %u: exported item is %s, generation %u holds %.17g", view->id,
                   npv_tile_get_text (tile, 0, 3), generation, expected (generation, 103, COLS - 1));
            break;
          }
        }
    }
  g_unlink (out);
  g_rand_free (rand);
  return NULL;
}

static void
test_views_and_reloads (void)
{
  g_autoptr(GError) error = NULL;
  Shared shared = { 0 };
  View views[N_VIEWS];
  GThread *threads[N_VIEWS];

  g_mutex_init (&shared.lock);
  shared.dir = g_dir_make_tmp (NULL, &error);
  g_assert_no_error (error);
  shared.path = g_build_filename (shared.dir, "data.npy", NULL);
  write_generation (&shared, 0);
  shared.file = npv_file_open (shared.path, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < N_VIEWS; i++)
    {
      views[i] = (View) { &shared, i };
      threads[i] = g_thread_new ("view", view_run, &views[i]);
    }
  for (guint g = 1; g <= N_RELOADS; g++)
    {
      NpvFile *file;

      g_usleep (50000);
      write_generation (&shared, g);
      file = npv_file_open (shared.path, &error);
      g_assert_no_error (error);
      g_mutex_lock (&shared.lock);
      npv_file_unref (shared.file);
      shared.file = file;
      shared.generation = g;
      g_mutex_unlock (&shared.lock);
    }
  g_mutex_lock (&shared.lock);
  shared.done = TRUE;
  g_mutex_unlock (&shared.lock);
  for (guint i = 0; i < N_VIEWS; i++)
    g_thread_join (threads[i]);

  g_assert_cmpint (shared.failures, ==, 0);
  npv_file_unref (shared.file);
  g_unlink (shared.path);
  g_rmdir (shared.dir);
  g_free (shared.path);
  g_free (shared.dir);
  g_mutex_clear (&shared.lock);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stress/views-and-reloads", test_views_and_reloads);
  return g_test_run ();
}
