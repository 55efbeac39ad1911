/* test-truncate.c: a file cut short while it is open gives errors, not SIGBUS
 *
 * Another program may shrink a file npyview has mapped (a simulation
 * rewriting its output, say). Every way the core reads values - single
 * items, printing, statistics, exports, grid tiles - must then fail with a
 * "file changed" error naming the file, and the process must live on.
 * Under the sanitizers a touch of the lost pages would be SIGBUS.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include "npv-error.h"
#include "npv-export.h"
#include "npv-file.h"
#include "npv-npy.h"
#include "npv-plane.h"
#include "npv-print.h"
#include "npv-stats.h"
#include "npv-tile.h"

#define ROWS 512
#define COLS 512

typedef struct
{
  char *dir;
  char *path;
  NpvFile *file;
  NpvArray *array;
  guint64 data_offset;
} Fixture;

/* A (ROWS, COLS) float64 .npy written here, opened, then cut to its
 * header and one row. */
static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvDType) dtype = npv_dtype_new_from_string ("<f8", &error);
  const gint64 shape[2] = { ROWS, COLS };
  g_autoptr(GBytes) header = npv_npy_header_build (dtype, 2, shape, FALSE);
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  const NpvMember *member;

  g_byte_array_append (bytes, g_bytes_get_data (header, NULL), g_bytes_get_size (header));
  for (guint i = 0; i < ROWS * COLS; i++)
    {
      double v = i * 0.5;

      g_byte_array_append (bytes, (const guint8 *) &v, sizeof v);
    }
  f->dir = g_dir_make_tmp (NULL, &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "cut.npy", NULL);
  g_file_set_contents (f->path, (const char *) bytes->data, bytes->len, &error);
  g_assert_no_error (error);

  f->file = npv_file_open (f->path, &error);
  g_assert_no_error (error);
  member = npv_file_lookup_member (f->file, NULL, &error);
  g_assert_no_error (error);
  f->array = npv_file_open_array (f->file, member, &error);
  g_assert_no_error (error);
  f->data_offset = g_bytes_get_size (header);

  /* Another program cuts the file short now. */
  g_assert_cmpint (truncate (f->path, f->data_offset + COLS * 8), ==, 0);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_pointer (&f->array, npv_array_unref);
  g_clear_pointer (&f->file, npv_file_unref);
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static void
assert_changed_error (const GError *error,
                      const char   *path)
{
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_true (g_error_matches (error, NPV_ERROR, NPV_ERROR_TRUNCATED));
  /* The message says what happened, and to which file where it can. */
  g_assert_true (strstr (error->message, "changed on disk") != NULL);
}

static void
test_peek (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint8 scratch[8];
  double v;
  const guint8 *item;

  /* The first row is still there... */
  item = npv_array_peek (f->array, f->array->offset + 3 * 8, scratch, &error);
  g_assert_no_error (error);
  memcpy (&v, item, sizeof v);
  g_assert_cmpfloat (v, ==, 1.5);
  /* ...the last one is gone. */
  item = npv_array_peek (f->array, f->array->offset + (guint64) (ROWS * COLS - 1) * 8, scratch, &error);
  g_assert_null (item);
  assert_changed_error (error, f->path);
}

static void
test_print (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  NpvPrintOptions options = NPV_PRINT_OPTIONS_DEFAULT;

  g_assert_false (npv_array_print (out, f->array, &options, &error));
  assert_changed_error (error, f->path);
}

static void
test_stats (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  NpvStats stats;

  g_assert_false (npv_array_compute_stats (f->array, 2, NULL, &stats, &error));
  assert_changed_error (error, f->path);
}

static void
test_export (Fixture       *f,
             gconstpointer  data)
{
  NpvExportFormat formats[] = { NPV_EXPORT_NPY, NPV_EXPORT_CSV };

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *out = g_build_filename (f->dir, i == 0 ? "out.npy" : "out.csv", NULL);

      g_assert_false (npv_export_array (f->array, out, formats[i], NPV_EXPORT_FLAGS_NONE, NULL, &error));
      assert_changed_error (error, f->path);
      /* Nothing is left behind. */
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    }
}

static void
test_transposed_export (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = g_build_filename (f->dir, "t.npy", NULL);
  NpvPlane plane;
  g_autoptr(NpvArray) view = NULL;

  /* Columns far apart: items read one by one. */
  npv_plane_init_default (&plane, f->array);
  plane.row_axis = 1;
  plane.col_axis = 0;
  view = npv_plane_apply (&plane, f->array, &error);
  g_assert_no_error (error);
  g_assert_false (npv_export_array (view, out, NPV_EXPORT_NPY, NPV_EXPORT_FLAGS_NONE, NULL, &error));
  assert_changed_error (error, f->path);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

static void
test_tile (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) leaves = g_array_new (FALSE, FALSE, sizeof (NpvLeaf));
  NpvNumberFormat format = { NPV_NUMBER_AUTO, 0 };
  NpvPlane plane;
  g_autoptr(NpvArray) view = NULL;
  g_autoptr(NpvTile) first = NULL;
  g_autoptr(NpvTile) last = NULL;

  npv_plane_init_default (&plane, f->array);
  view = npv_plane_apply (&plane, f->array, &error);
  g_assert_no_error (error);
  first = npv_tile_compute (view, leaves, 0, 0, 1, 16, &format, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (npv_tile_get_text (first, 0, 3), ==, "1.5");
  last = npv_tile_compute (view, leaves, ROWS - 64, COLS - 16, 64, 16, &format, NULL, &error);
  g_assert_null (last);
  assert_changed_error (error, f->path);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/truncate/peek", Fixture, NULL, fixture_set_up, test_peek, fixture_tear_down);
  g_test_add ("/truncate/print", Fixture, NULL, fixture_set_up, test_print, fixture_tear_down);
  g_test_add ("/truncate/stats", Fixture, NULL, fixture_set_up, test_stats, fixture_tear_down);
  g_test_add ("/truncate/export", Fixture, NULL, fixture_set_up, test_export, fixture_tear_down);
  g_test_add ("/truncate/transposed-export", Fixture, NULL, fixture_set_up, test_transposed_export,
              fixture_tear_down);
  g_test_add ("/truncate/tile", Fixture, NULL, fixture_set_up, test_tile, fixture_tear_down);
  return g_test_run ();
}
