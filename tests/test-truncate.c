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

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "npv-error.h"
#include "npv-export.h"
#include "npv-file.h"
#include "npv-guard.h"
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

/* Files numpy wrote (gen-truncate-files.py). */
static const char *files_dir;

/* A copy of @name in a new folder, which another "program" may cut short. */
static char *
copy_fixture (const char *name,
              char      **dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *src = g_build_filename (files_dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize len;
  char *path;

  *dir = g_dir_make_tmp (NULL, &error);
  g_assert_no_error (error);
  path = g_build_filename (*dir, name, NULL);
  g_file_get_contents (src, &contents, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);
  return path;
}

static void
remove_fixture (char *path,
                char *dir)
{
  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

/* The guard itself: a page the file no longer has is a failed copy. */
static void
test_guard (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp (NULL, &error);
  g_autofree char *path = g_build_filename (dir, "pages", NULL);
  long page = sysconf (_SC_PAGESIZE);
  g_autofree guint8 *contents = g_malloc0 (3 * page);
  guint8 copy[16];
  guint8 *map;
  int fd;

  contents[10] = 42;
  g_file_set_contents (path, (const char *) contents, 3 * page, &error);
  g_assert_no_error (error);
  fd = g_open (path, O_RDONLY, 0);
  g_assert_cmpint (fd, >=, 0);
  map = mmap (NULL, 3 * page, PROT_READ, MAP_SHARED, fd, 0);
  g_assert_true (map != MAP_FAILED);
  g_assert_cmpint (truncate (path, page), ==, 0);

  g_assert_true (npv_guard_copy (copy, map + 8, sizeof copy));
  g_assert_cmpint (copy[2], ==, 42);
  /* Twice, to show the handler stays in place and the signal unblocked. */
  g_assert_false (npv_guard_copy (copy, map + 2 * page, sizeof copy));
  g_assert_false (npv_guard_copy (copy, map + page + 100, sizeof copy));
  g_assert_true (npv_guard_copy (copy, map, sizeof copy));

  munmap (map, 3 * page);
  close (fd);
  g_unlink (path);
  g_rmdir (dir);
}

/* A pickle's strings and bytes are read in the mapping, whenever a cell
 * shows them. */
static void
test_pickle_objects (void)
{
  g_autoptr(GError) error = NULL;
  char *dir;
  char *path = copy_fixture ("objects.pkl", &dir);
  g_autoptr(NpvFile) file = npv_file_open (path, &error);
  const NpvMember *objects, *numbers;
  g_autoptr(NpvArray) array = NULL;
  g_autoptr(NpvArray) numbers_array = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  NpvPrintOptions options = NPV_PRINT_OPTIONS_DEFAULT;

  g_assert_no_error (error);
  objects = npv_file_lookup_member (file, "objects", &error);
  g_assert_no_error (error);
  numbers = npv_file_lookup_member (file, "numbers", &error);
  g_assert_no_error (error);
  array = npv_file_open_array (file, objects, &error);
  g_assert_no_error (error);
  g_assert_true (npv_array_print (out, array, &options, &error));
  g_assert_nonnull (strstr (out->str, "text 1 text 1"));

  g_assert_cmpint (truncate (path, 4096), ==, 0);

  g_string_truncate (out, 0);
  g_assert_true (npv_array_print (out, array, &options, &error));
  g_test_message ("%.200s", out->str);
  g_assert_nonnull (strstr (out->str, "<changed on disk>"));

  /* The float array after them is gone too: opening or reading it says so. */
  numbers_array = npv_file_open_array (file, numbers, &error);
  if (numbers_array != NULL)
    {
      g_string_truncate (out, 0);
      g_assert_false (npv_array_print (out, numbers_array, &options, &error));
    }
  assert_changed_error (error, path);

  g_clear_pointer (&array, npv_array_unref);
  g_clear_pointer (&file, npv_file_unref);
  remove_fixture (path, dir);
}

/* A stored npz member is read in place, so it is cut short with its file. */
static void
test_stored_member (void)
{
  g_autoptr(GError) error = NULL;
  char *dir;
  char *path = copy_fixture ("stored.npz", &dir);
  g_autoptr(NpvFile) file = npv_file_open (path, &error);
  const NpvMember *member;
  g_autoptr(NpvArray) array = NULL;
  g_autoptr(GArray) leaves = NULL;
  g_autoptr(NpvTile) tile = NULL;
  NpvNumberFormat format = { NPV_NUMBER_AUTO, 0 };

  g_assert_no_error (error);
  member = npv_file_lookup_member (file, "a", &error);
  g_assert_no_error (error);
  g_assert_cmpint (member->storage, ==, NPV_STORAGE_STORED);
  array = npv_file_open_array (file, member, &error);
  g_assert_no_error (error);
  leaves = npv_dtype_collect_leaves (array->dtype);

  g_assert_cmpint (truncate (path, 100000), ==, 0);
  tile = npv_tile_compute (array, leaves, 0, 0, 16, 16, &format, NULL, &error);
  g_assert_nonnull (tile);
  g_assert_cmpstr (npv_tile_get_text (tile, 1, 2), ==, "514.0");
  g_clear_pointer (&tile, npv_tile_unref);
  tile = npv_tile_compute (array, leaves, 256, 0, 64, 16, &format, NULL, &error);
  g_assert_null (tile);
  assert_changed_error (error, path);

  g_clear_pointer (&array, npv_array_unref);
  g_clear_pointer (&file, npv_file_unref);
  remove_fixture (path, dir);
}

/* Another process cuts the file short while this one works on it. */
typedef gboolean (*Work) (NpvArray    *array,
                          const char  *dir,
                          guint        round,
                          GError     **error);

static gboolean
work_stats (NpvArray    *array,
            const char  *dir,
            guint        round,
            GError     **error)
{
  NpvStats stats;

  return npv_array_compute_stats (array, 2, NULL, &stats, error);
}

static gboolean
work_export (NpvArray    *array,
             const char  *dir,
             guint        round,
             GError     **error)
{
  g_autofree char *out = g_build_filename (dir, "out.npy", NULL);
  gboolean ok;

  g_unlink (out);
  ok = npv_export_array (array, out, NPV_EXPORT_NPY, NPV_EXPORT_FLAGS_NONE, NULL, error);

  /* A failed export leaves nothing behind. */
  if (!ok)
    g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  return ok;
}

/* Scrolling down the grid: a window of tiles a round. */
static gboolean
work_scroll (NpvArray    *array,
             const char  *dir,
             guint        round,
             GError     **error)
{
  g_autoptr(GArray) leaves = npv_dtype_collect_leaves (array->dtype);
  NpvNumberFormat format = { NPV_NUMBER_AUTO, 0 };
  gint64 row = (gint64) (round * 64) % array->shape[0];

  for (gint64 col = 0; col < array->shape[1]; col += 256)
    {
      g_autoptr(NpvTile) tile = npv_tile_compute (array, leaves, row, col, 64, 256, &format,
                                                  NULL, error);
      if (tile == NULL)
        return FALSE;
    }
  return TRUE;
}

static void
test_child (gconstpointer data)
{
  Work work = (Work) data;
  g_autoptr(GError) error = NULL;
  char *dir;
  char *path = copy_fixture ("big.npy", &dir);
  g_autoptr(NpvFile) file = npv_file_open (path, &error);
  g_autoptr(NpvArray) array = NULL;
  gboolean child_done = FALSE;
  int status;
  pid_t pid;
  guint round;

  g_assert_no_error (error);
  array = npv_file_open_array (file, npv_file_lookup_member (file, NULL, NULL), &error);
  g_assert_no_error (error);

  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      g_usleep (20000);
      _exit (truncate (path, 1 << 20) == 0 ? 0 : 1);
    }

  /* Work on until a round fails; once the child is done, the next round
   * must fail. */
  for (round = 0; round < 100000; round++)
    {
      if (!child_done && waitpid (pid, &status, WNOHANG) == pid)
        child_done = TRUE;
      if (!work (array, dir, round, &error))
        break;
      if (child_done)
        {
          /* One more round after the cut must fail; this one began before. */
          g_assert_false (work (array, dir, round + 1, &error));
          break;
        }
    }
  if (!child_done)
    g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_test_message ("failed after %u rounds", round);
  assert_changed_error (error, path);

  g_clear_pointer (&array, npv_array_unref);
  g_clear_pointer (&file, npv_file_unref);
  {
    g_autofree char *out = g_build_filename (dir, "out.npy", NULL);

    g_unlink (out);
  }
  remove_fixture (path, dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, ==, 2);
  files_dir = argv[1];

  g_test_add ("/truncate/peek", Fixture, NULL, fixture_set_up, test_peek, fixture_tear_down);
  g_test_add ("/truncate/print", Fixture, NULL, fixture_set_up, test_print, fixture_tear_down);
  g_test_add ("/truncate/stats", Fixture, NULL, fixture_set_up, test_stats, fixture_tear_down);
  g_test_add ("/truncate/export", Fixture, NULL, fixture_set_up, test_export, fixture_tear_down);
  g_test_add ("/truncate/transposed-export", Fixture, NULL, fixture_set_up, test_transposed_export,
              fixture_tear_down);
  g_test_add ("/truncate/tile", Fixture, NULL, fixture_set_up, test_tile, fixture_tear_down);
  g_test_add_func ("/truncate/guard", test_guard);
  g_test_add_func ("/truncate/pickle-objects", test_pickle_objects);
  g_test_add_func ("/truncate/stored-member", test_stored_member);
  g_test_add_data_func ("/truncate/child/stats", work_stats, test_child);
  g_test_add_data_func ("/truncate/child/export", work_export, test_child);
  g_test_add_data_func ("/truncate/child/scroll", work_scroll, test_child);
  return g_test_run ();
}
