/* test-pyramid.c: block pyramids and colour scales against numpy and matplotlib
 *
 * The cases come from tests/gen-pyramid-cases.py, which writes .npy files
 * with numpy and asks numpy for the block statistics of every level it
 * lists (nanmin, nanmax, the sum and count of the finite values, the count
 * of NaNs, nanmean) and matplotlib for the colours of values on colour
 * scales. This program only compares: each test checks all of its cases
 * and prints every mismatch (up to MAX_REPORTED) with what numpy says and
 * what the core says.
 *
 * Usage: test-pyramid [GTest options] DIR
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "npv-colormap.h"
#include "npv-error.h"
#include "npv-file.h"
#include "npv-plane.h"
#include "npv-pyramid.h"

#define MAX_REPORTED 60

/* Sums of float64 in another order: relative to the sum of |x|. */
#define SUM_RTOL 1e-12

/* ---------------------------------------------------------------------- */
/* Cases                                                                   */

enum { ST_MIN, ST_MAX, ST_SUM, ST_COUNT, ST_NAN, ST_MEAN, ST_ABSSUM, N_STATS };

static const char * const stat_names[N_STATS] = {
  "min", "max", "sum", "count", "nan", "mean", "abssum",
};

typedef struct
{
  guint level;
  gint64 n_rows, n_cols;
  char *bin;            /* file name in the cases directory */
  gboolean sampled;
  gboolean rows_slower; /* sampled: one row per block (else one column) */
} Level;

typedef struct
{
  char *name;
  char *npy;
  NpvPart part;
  guint row_axis, col_axis;
  gint64 fixed[NPV_MAX_DIMS];
  guint n_fixed;
  gint64 rows, cols;
  guint top;
  guint n_threads;
  gsize budget;
  GPtrArray *levels;    /* of Level: exact (L) and sampled (S) */
} Case;

typedef struct
{
  char *npy;
  NpvPart part;
  char *dtype;
} BadCase;

static const char *cases_dir;
static GPtrArray *cases;       /* of Case */
static GPtrArray *bad_cases;   /* of BadCase */
static GPtrArray *map_lines;   /* of GStrv: C lines */
static GPtrArray *value_lines; /* of GStrv: M lines */

typedef struct
{
  guint n_checked;
  guint n_failed;
} Run;

static void
level_free (gpointer data)
{
  Level *level = data;

  g_free (level->bin);
  g_free (level);
}

static void
case_free (gpointer data)
{
  Case *c = data;

  g_free (c->name);
  g_free (c->npy);
  g_ptr_array_unref (c->levels);
  g_free (c);
}

static void
bad_case_free (gpointer data)
{
  BadCase *b = data;

  g_free (b->npy);
  g_free (b->dtype);
  g_free (b);
}

static gboolean
parse_part (const char *text,
            NpvPart    *part)
{
  static const char * const names[] = { "value", "real", "imag", "abs", "angle" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (text, names[i]) == 0)
      {
        *part = (NpvPart) i;
        return TRUE;
      }
  return FALSE;
}

static gint64
parse_int (const char *text)
{
  char *end;
  gint64 v = g_ascii_strtoll (text, &end, 10);

  if (*text == '\0' || *end != '\0')
    g_error ("cases file: bad integer “%s”", text);
  return v;
}

static Case *
find_case (const char *name)
{
  for (guint i = 0; i < cases->len; i++)
    {
      Case *c = g_ptr_array_index (cases, i);

      if (strcmp (c->name, name) == 0)
        return c;
    }
  g_error ("cases file: no array “%s”", name);
  return NULL;
}

static void
load_cases (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, "cases.txt", NULL);
  g_autofree char *contents = NULL;
  g_autofree char **lines = NULL;   /* into contents */

  if (!g_file_get_contents (path, &contents, NULL, &error))
    g_error ("cannot read the cases: %s", error->message);

  /* Lines by hand: g_strsplit() looks for each separator with strstr(),
   * which AddressSanitizer checks by measuring the whole rest of the text,
   * every time. */
  {
    GPtrArray *starts = g_ptr_array_new ();
    char *p = contents;

    while (*p != '\0')
      {
        g_ptr_array_add (starts, p);
        while (*p != '\0' && *p != '\n')
          p++;
        if (*p == '\n')
          *p++ = '\0';
      }
    g_ptr_array_add (starts, NULL);
    lines = (char **) g_ptr_array_free (starts, FALSE);
  }
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char **f;
      guint n;

      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;
      f = g_strsplit (lines[i], "\t", -1);
      n = g_strv_length (f);

      if (strcmp (f[0], "A") == 0 && n == 12)
        {
          Case *c = g_new0 (Case, 1);

          c->name = g_strdup (f[1]);
          c->npy = g_strdup (f[2]);
          if (!parse_part (f[3], &c->part))
            g_error ("cases file: bad part “%s”", f[3]);
          c->row_axis = (guint) parse_int (f[4]);
          c->col_axis = (guint) parse_int (f[5]);
          if (strcmp (f[6], "-") != 0)
            {
              g_auto(GStrv) fixed = g_strsplit (f[6], ",", -1);

              for (guint k = 0; fixed[k] != NULL && k < NPV_MAX_DIMS; k++)
                c->fixed[c->n_fixed++] = parse_int (fixed[k]);
            }
          c->rows = parse_int (f[7]);
          c->cols = parse_int (f[8]);
          c->top = (guint) parse_int (f[9]);
          c->n_threads = (guint) parse_int (f[10]);
          c->budget = (gsize) parse_int (f[11]);
          c->levels = g_ptr_array_new_with_free_func (level_free);
          g_ptr_array_add (cases, c);
          g_strfreev (f);
        }
      else if ((strcmp (f[0], "L") == 0 && n == 6) || (strcmp (f[0], "S") == 0 && n == 7))
        {
          Level *level = g_new0 (Level, 1);
          gboolean sampled = f[0][0] == 'S';
          guint k = sampled ? 4 : 3;

          level->level = (guint) parse_int (f[2]);
          level->sampled = sampled;
          level->rows_slower = sampled && strcmp (f[3], "rows") == 0;
          level->n_rows = parse_int (f[k]);
          level->n_cols = parse_int (f[k + 1]);
          level->bin = g_strdup (f[k + 2]);
          g_ptr_array_add (find_case (f[1])->levels, level);
          g_strfreev (f);
        }
      else if (strcmp (f[0], "E") == 0 && n == 4)
        {
          BadCase *b = g_new0 (BadCase, 1);

          b->npy = g_strdup (f[1]);
          if (!parse_part (f[2], &b->part))
            g_error ("cases file: bad part “%s”", f[2]);
          b->dtype = g_strdup (f[3]);
          g_ptr_array_add (bad_cases, b);
          g_strfreev (f);
        }
      else if (strcmp (f[0], "C") == 0 && n == 5)
        g_ptr_array_add (map_lines, f);
      else if (strcmp (f[0], "M") == 0 && n == 8)
        g_ptr_array_add (value_lines, f);
      else
        g_error ("%s:%u: malformed case (%u fields)", path, i + 1, n);
    }
}

/* The N_STATS arrays of @level, n_rows * n_cols float64 each. */
static double *
load_expected (const Level *level)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (cases_dir, level->bin, NULL);
  char *contents;
  gsize len;
  gsize n = (gsize) (level->n_rows * level->n_cols);
  double *values;

  if (!g_file_get_contents (path, &contents, &len, &error))
    g_error ("cannot read %s: %s", path, error->message);
  if (len != n * N_STATS * sizeof (double))
    g_error ("%s: %" G_GSIZE_FORMAT " bytes, expected %" G_GSIZE_FORMAT,
             path, len, n * N_STATS * sizeof (double));
  values = (double *) contents;
  for (gsize i = 0; i < n * N_STATS; i++)
    {
      guint64 bits;

      memcpy (&bits, &values[i], sizeof bits);
      bits = GUINT64_FROM_LE (bits);
      memcpy (&values[i], &bits, sizeof bits);
    }
  return values;
}

/* ---------------------------------------------------------------------- */
/* Opening                                                                 */

static NpvArray *
open_npy (const char  *name,
          GError     **error)
{
  g_autofree char *path = g_build_filename (cases_dir, name, NULL);
  g_autoptr(NpvFile) file = npv_file_open (path, error);
  const NpvMember *member;

  if (file == NULL)
    return NULL;
  member = npv_file_lookup_member (file, NULL, error);
  if (member == NULL)
    return NULL;
  return npv_file_open_array (file, member, error);
}

static NpvArray *
open_plane (const Case *c)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvArray) array = open_npy (c->npy, &error);
  NpvPlane plane;
  NpvArray *view;

  g_assert_no_error (error);
  npv_plane_init_default (&plane, array);
  plane.row_axis = c->row_axis;
  plane.col_axis = c->col_axis;
  for (guint k = 0; k < c->n_fixed && k < plane.ndim; k++)
    if (k != c->row_axis && k != c->col_axis)
      plane.fixed[k] = c->fixed[k];
  view = npv_plane_apply (&plane, array, &error);
  g_assert_no_error (error);
  g_assert_cmpint (view->ndim, ==, 2);
  g_assert_cmpint (view->shape[0], ==, c->rows);
  g_assert_cmpint (view->shape[1], ==, c->cols);
  return view;
}

static NpvPyramid *
open_pyramid (const Case *c,
              gsize       budget)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvArray) plane = open_plane (c);
  NpvPyramid *pyramid = npv_pyramid_new (plane, c->part, budget, &error);

  g_assert_no_error (error);
  g_assert_nonnull (pyramid);
  return pyramid;
}

/* ---------------------------------------------------------------------- */
/* Comparing blocks                                                        */

static gboolean
same_double (double a,
             double b)
{
  return a == b || (isnan (a) && isnan (b));
}

static double
blocks_stat (const NpvBlocks *b,
             guint            stat,
             guint            i)
{
  switch (stat)
    {
    case ST_MIN: return b->min[i];
    case ST_MAX: return b->max[i];
    case ST_SUM: return b->sum[i];
    case ST_COUNT: return b->count[i];
    case ST_NAN: return b->nan[i];
    default: g_assert_not_reached ();
    }
}

/* Whether block (r, c) of @blocks is block (row + r, col + c) of
 * @expected; mismatches are reported to @run. */
static gboolean
check_block (Run             *run,
             const char      *what,
             const Level     *level,
             const double    *expected,
             const NpvBlocks *blocks,
             guint            r,
             guint            c)
{
  gsize n = (gsize) (level->n_rows * level->n_cols);
  gint64 br = blocks->row + r, bc = blocks->col + c;
  gsize e = (gsize) (br * level->n_cols + bc);
  guint i = r * blocks->n_cols + c;
  double abssum = expected[ST_ABSSUM * n + e];
  double count = expected[ST_COUNT * n + e];
  gboolean ok = TRUE;

  run->n_checked++;
  for (guint s = ST_MIN; s <= ST_MEAN; s++)
    {
      double want = expected[s * n + e];
      double got = s == ST_MEAN ? npv_blocks_get_mean (blocks, r, c) : blocks_stat (blocks, s, i);
      gboolean good;

      if (s == ST_SUM)
        good = fabs (got - want) <= SUM_RTOL * abssum;
      else if (s == ST_MEAN && isfinite (want))
        good = fabs (got - want) <= SUM_RTOL * abssum / MAX (count, 1) + 4 * DBL_EPSILON * fabs (want);
      else
        good = same_double (got, want);

      if (!good)
        {
          ok = FALSE;
          if (run->n_failed < MAX_REPORTED)
            g_test_message ("%s, level %u, block (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "): %s "
                            "is %.17g, numpy says %.17g", what, level->level, br, bc,
                            stat_names[s], got, want);
        }
    }
  if (!ok)
    run->n_failed++;
  return ok;
}

static gint64
n_tiles (gint64 n_blocks)
{
  return (n_blocks + NPV_PYRAMID_TILE - 1) / NPV_PYRAMID_TILE;
}

static gboolean
check_tile_geometry (Run             *run,
                     const char      *what,
                     const Level     *level,
                     const NpvBlocks *blocks,
                     gint64           tr,
                     gint64           tc)
{
  gint64 want_rows = MIN (NPV_PYRAMID_TILE, level->n_rows - tr * NPV_PYRAMID_TILE);
  gint64 want_cols = MIN (NPV_PYRAMID_TILE, level->n_cols - tc * NPV_PYRAMID_TILE);

  if (blocks->level != level->level || blocks->row != tr * NPV_PYRAMID_TILE ||
      blocks->col != tc * NPV_PYRAMID_TILE || blocks->n_rows != want_rows ||
      blocks->n_cols != want_cols)
    {
      g_test_message ("%s, level %u, tile (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "): "
                      "level %u, first block (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "), "
                      "%u x %u blocks; expected level %u, (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "), "
                      "%" G_GINT64_FORMAT " x %" G_GINT64_FORMAT,
                      what, level->level, tr, tc, blocks->level, blocks->row, blocks->col,
                      blocks->n_rows, blocks->n_cols, level->level,
                      tr * NPV_PYRAMID_TILE, tc * NPV_PYRAMID_TILE, want_rows, want_cols);
      run->n_failed++;
      return FALSE;
    }
  return TRUE;
}

/* Every block of every tile of @level against numpy's: the exact tiles
 * (or the sampled ones when @sampled). */
static void
check_level (Run         *run,
             const Case  *c,
             NpvPyramid  *pyramid,
             const Level *level,
             gboolean     sampled)
{
  g_autofree double *expected = load_expected (level);
  g_autofree char *what = g_strdup_printf ("%s (%s)", c->name, sampled ? "sampled" : "exact");
  guint failed_before = run->n_failed;

  g_assert_cmpint (npv_pyramid_get_n_rows (pyramid, level->level), ==, level->n_rows);
  g_assert_cmpint (npv_pyramid_get_n_cols (pyramid, level->level), ==, level->n_cols);

  for (gint64 tr = 0; tr < n_tiles (level->n_rows); tr++)
    for (gint64 tc = 0; tc < n_tiles (level->n_cols); tc++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(NpvBlocks) blocks = NULL;

        if (sampled)
          blocks = npv_pyramid_sample_tile (pyramid, level->level, tr, tc, NULL, &error);
        else
          blocks = npv_pyramid_get_tile (pyramid, level->level, tr, tc, c->n_threads, NULL, &error);
        g_assert_no_error (error);
        g_assert_nonnull (blocks);
        if (!check_tile_geometry (run, what, level, blocks, tr, tc))
          continue;

        if (!sampled && !blocks->exact)
          {
            g_test_message ("%s, level %u: npv_pyramid_get_tile() says it is not exact", what, level->level);
            run->n_failed++;
          }
        if (sampled && level->level == 0 && !blocks->exact)
          {
            g_test_message ("%s: a sampled tile of level 0 reads every line but says it is not exact", what);
            run->n_failed++;
          }
        for (guint r = 0; r < blocks->n_rows; r++)
          for (guint k = 0; k < blocks->n_cols; k++)
            check_block (run, what, level, expected, blocks, r, k);
      }
  if (run->n_failed > failed_before)
    g_test_message ("%s, level %u: %u blocks differ", what, level->level, run->n_failed - failed_before);
}

static void
run_end (Run        *run,
         const char *what)
{
  g_test_message ("%s: %u blocks checked, %u differ", what, run->n_checked, run->n_failed);
  if (run->n_failed > 0)
    g_test_fail ();
  g_assert_cmpuint (run->n_checked, >, 0);
}

/* ---------------------------------------------------------------------- */
/* Pyramid tests                                                           */

static void
test_layout (void)
{
  for (guint i = 0; i < cases->len; i++)
    {
      const Case *c = g_ptr_array_index (cases, i);
      g_autoptr(NpvPyramid) pyramid = open_pyramid (c, c->budget);

      g_assert_cmpint (npv_pyramid_get_part (pyramid), ==, c->part);
      g_assert_cmpint (npv_pyramid_get_plane (pyramid)->shape[0], ==, c->rows);
      g_assert_cmpint (npv_pyramid_get_plane (pyramid)->shape[1], ==, c->cols);
      g_assert_cmpuint (npv_pyramid_get_top_level (pyramid), ==, c->top);
      for (guint level = 0; level <= c->top + 2; level++)
        {
          gint64 side = (gint64) 1 << level;

          g_assert_cmpint (npv_pyramid_get_n_rows (pyramid, level), ==, (c->rows + side - 1) / side);
          g_assert_cmpint (npv_pyramid_get_n_cols (pyramid, level), ==, (c->cols + side - 1) / side);
        }
    }
}

static void
test_exact (void)
{
  Run run = { 0, 0 };

  for (guint i = 0; i < cases->len; i++)
    {
      const Case *c = g_ptr_array_index (cases, i);
      g_autoptr(NpvPyramid) pyramid = open_pyramid (c, c->budget);

      for (guint j = 0; j < c->levels->len; j++)
        {
          const Level *level = g_ptr_array_index (c->levels, j);

          if (level->sampled)
            continue;
          check_level (&run, c, pyramid, level, FALSE);
          /* Level 0 sampled reads every line: the exact blocks. */
          if (level->level == 0)
            check_level (&run, c, pyramid, level, TRUE);
        }
      if (c->budget > 0)
        g_assert_cmpuint (npv_pyramid_get_memory (pyramid), <=, MAX (c->budget, 2 * 5 * 8 * NPV_PYRAMID_TILE * NPV_PYRAMID_TILE));
    }
  run_end (&run, "exact tiles");
}

/* Coarse levels first, then the fine ones from the tiles cached: the
 * other order than test_exact's. */
static void
test_exact_coarse_first (void)
{
  Run run = { 0, 0 };

  for (guint i = 0; i < cases->len; i++)
    {
      const Case *c = g_ptr_array_index (cases, i);
      g_autoptr(NpvPyramid) pyramid = NULL;

      if (strcmp (c->name, "big") != 0 && strcmp (c->name, "wide") != 0 && strcmp (c->name, "f32-c") != 0)
        continue;
      pyramid = open_pyramid (c, c->budget);
      for (guint j = c->levels->len; j-- > 0;)
        {
          const Level *level = g_ptr_array_index (c->levels, j);

          if (!level->sampled)
            check_level (&run, c, pyramid, level, FALSE);
        }
    }
  run_end (&run, "exact tiles, coarse levels first");
}

/* The counts of lines of block @b along the slower axis. */
static gint64
block_lines (const Case  *c,
             const Level *level,
             gint64       b)
{
  gint64 side = (gint64) 1 << level->level;
  gint64 lines = level->rows_slower ? c->rows : c->cols;

  return MIN (side, lines - b * side);
}

static void
test_sampled (void)
{
  Run run = { 0, 0 };

  for (guint i = 0; i < cases->len; i++)
    {
      const Case *c = g_ptr_array_index (cases, i);
      g_autoptr(NpvPyramid) pyramid = open_pyramid (c, c->budget);

      for (guint j = 0; j < c->levels->len; j++)
        {
          const Level *level = g_ptr_array_index (c->levels, j);
          gboolean some_left_out;

          if (!level->sampled)
            continue;
          check_level (&run, c, pyramid, level, TRUE);

          /* Not exact once a block has lines left out. */
          some_left_out = block_lines (c, level, 0) > 1;
          if (some_left_out)
            {
              g_autoptr(GError) error = NULL;
              g_autoptr(NpvBlocks) blocks = npv_pyramid_sample_tile (pyramid, level->level, 0, 0, NULL, &error);

              g_assert_no_error (error);
              if (blocks->exact)
                {
                  g_test_message ("%s, level %u: a sampled tile with lines left out says it is exact",
                                  c->name, level->level);
                  run.n_failed++;
                }
            }
          /* Sampling caches nothing. */
          g_assert_null (npv_pyramid_peek_tile (pyramid, level->level, 0, 0));
        }
    }
  run_end (&run, "sampled tiles");
}

/* Whatever line is read, a sampled block lies inside the exact one. */
static void
test_sampled_bounds (void)
{
  Run run = { 0, 0 };

  for (guint i = 0; i < cases->len; i++)
    {
      const Case *c = g_ptr_array_index (cases, i);
      g_autoptr(NpvPyramid) pyramid = open_pyramid (c, c->budget);

      for (guint j = 0; j < c->levels->len; j++)
        {
          const Level *level = g_ptr_array_index (c->levels, j);

          if (level->sampled)
            continue;
          for (gint64 tr = 0; tr < n_tiles (level->n_rows); tr++)
            for (gint64 tc = 0; tc < n_tiles (level->n_cols); tc++)
              {
                g_autoptr(GError) error = NULL;
                g_autoptr(NpvBlocks) exact = npv_pyramid_get_tile (pyramid, level->level, tr, tc,
                                                                   c->n_threads, NULL, &error);
                g_autoptr(NpvBlocks) sampled = NULL;

                g_assert_no_error (error);
                sampled = npv_pyramid_sample_tile (pyramid, level->level, tr, tc, NULL, &error);
                g_assert_no_error (error);
                g_assert_cmpuint (sampled->n_rows, ==, exact->n_rows);
                g_assert_cmpuint (sampled->n_cols, ==, exact->n_cols);
                for (guint k = 0; k < exact->n_rows * exact->n_cols; k++)
                  {
                    gboolean ok = sampled->min[k] >= exact->min[k] && sampled->max[k] <= exact->max[k] &&
                                  sampled->count[k] <= exact->count[k] && sampled->nan[k] <= exact->nan[k];

                    run.n_checked++;
                    if (level->level == 0)
                      ok = ok && same_double (sampled->min[k], exact->min[k]) &&
                           same_double (sampled->max[k], exact->max[k]) &&
                           sampled->count[k] == exact->count[k] && sampled->nan[k] == exact->nan[k] &&
                           same_double (sampled->sum[k], exact->sum[k]);
                    if (!ok)
                      {
                        if (run.n_failed < MAX_REPORTED)
                          g_test_message ("%s, level %u, block %u of tile (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "): "
                                          "sampled min %.17g max %.17g count %g nan %g; "
                                          "exact min %.17g max %.17g count %g nan %g",
                                          c->name, level->level, k, tr, tc,
                                          sampled->min[k], sampled->max[k], sampled->count[k], sampled->nan[k],
                                          exact->min[k], exact->max[k], exact->count[k], exact->nan[k]);
                        run.n_failed++;
                      }
                  }
              }
        }
    }
  run_end (&run, "sampled blocks inside exact ones");
}

static void
test_peek (void)
{
  const Case *c = find_case ("f32-c");
  g_autoptr(NpvPyramid) pyramid = open_pyramid (c, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvBlocks) blocks = NULL;
  g_autoptr(NpvBlocks) peeked = NULL;
  g_autoptr(NpvBlocks) again = NULL;

  g_assert_null (npv_pyramid_peek_tile (pyramid, 2, 0, 0));
  g_assert_cmpuint (npv_pyramid_get_memory (pyramid), ==, 0);
  blocks = npv_pyramid_get_tile (pyramid, 2, 0, 0, 0, NULL, &error);
  g_assert_no_error (error);
  peeked = npv_pyramid_peek_tile (pyramid, 2, 0, 0);
  g_assert_nonnull (peeked);
  g_assert_true (peeked->exact);
  g_assert_cmpuint (npv_pyramid_get_memory (pyramid), >, 0);
  again = npv_pyramid_get_tile (pyramid, 2, 0, 0, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (memcmp (again->min, blocks->min, sizeof (double) * blocks->n_rows * blocks->n_cols) == 0);
  /* Another tile is not cached by it. */
  g_assert_null (npv_pyramid_peek_tile (pyramid, 3, 0, 0));
  /* The reference counts hold. */
  npv_blocks_unref (npv_blocks_ref (blocks));
  npv_pyramid_unref (npv_pyramid_ref (pyramid));
}

static void
test_unsupported (void)
{
  g_assert_cmpuint (bad_cases->len, >, 0);
  for (guint i = 0; i < bad_cases->len; i++)
    {
      const BadCase *b = g_ptr_array_index (bad_cases, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvArray) array = open_npy (b->npy, &error);
      g_autoptr(NpvArray) plane = NULL;
      g_autoptr(NpvPyramid) pyramid = NULL;
      NpvPlane p;

      g_assert_no_error (error);
      npv_plane_init_default (&p, array);
      plane = npv_plane_apply (&p, array, &error);
      g_assert_no_error (error);
      pyramid = npv_pyramid_new (plane, b->part, 0, &error);
      g_test_message ("%s (%s): %s", b->npy, b->dtype, error != NULL ? error->message : "no error");
      g_assert_null (pyramid);
      g_assert_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED);
    }
}

static void
test_cancelled (void)
{
  const Case *c = find_case ("big");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(NpvPyramid) pyramid = open_pyramid (c, 0);
  guint levels[] = { 0, 4, 6, c->top };
  Run run = { 0, 0 };

  g_cancellable_cancel (cancellable);
  for (guint i = 0; i < G_N_ELEMENTS (levels); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvBlocks) blocks = NULL;

      blocks = npv_pyramid_get_tile (pyramid, levels[i], 0, 0, 0, cancellable, &error);
      g_assert_null (blocks);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);
      blocks = npv_pyramid_sample_tile (pyramid, levels[i], 0, 0, cancellable, &error);
      g_assert_null (blocks);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    }
  /* Nothing half made was kept: the tiles are right afterwards. */
  for (guint j = 0; j < c->levels->len; j++)
    {
      const Level *level = g_ptr_array_index (c->levels, j);

      if (!level->sampled)
        check_level (&run, c, pyramid, level, FALSE);
    }
  run_end (&run, "tiles after a cancelled request");
}

typedef struct
{
  NpvPyramid *pyramid;
  GCancellable *cancellable;
  guint level;
  NpvBlocks *blocks;
  GError *error;
} CancelJob;

static gpointer
cancel_job_run (gpointer data)
{
  CancelJob *job = data;

  job->blocks = npv_pyramid_get_tile (job->pyramid, job->level, 0, 0, 0, job->cancellable, &job->error);
  return NULL;
}

/* Cancelled while it works: a tile or G_IO_ERROR_CANCELLED, and the
 * tiles are right afterwards. */
static void
test_cancelled_midway (void)
{
  const Case *c = find_case ("big");
  Run run = { 0, 0 };

  for (guint delay_us = 0; delay_us <= 20000; delay_us += 2500)
    {
      g_autoptr(NpvPyramid) pyramid = open_pyramid (c, 0);
      CancelJob job = { pyramid, g_cancellable_new (), c->top, NULL, NULL };
      GThread *thread = g_thread_new ("cancel-job", cancel_job_run, &job);

      g_usleep (delay_us);
      g_cancellable_cancel (job.cancellable);
      g_thread_join (thread);
      if (job.blocks == NULL)
        g_assert_error (job.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      else
        g_assert_no_error (job.error);
      g_test_message ("cancelled after %u µs: %s", delay_us, job.blocks != NULL ? "done" : "cancelled");
      g_clear_pointer (&job.blocks, npv_blocks_unref);
      g_clear_error (&job.error);
      g_object_unref (job.cancellable);

      for (guint j = 0; j < c->levels->len; j++)
        {
          const Level *level = g_ptr_array_index (c->levels, j);

          if (!level->sampled && level->level >= 5)
            check_level (&run, c, pyramid, level, FALSE);
        }
    }
  run_end (&run, "tiles after a cancelled request");
}

typedef struct
{
  const Case *case_;
  NpvPyramid *pyramid;
  const Level *level;
  guint seed;
  guint n_failed;
} ConcurrentJob;

static gpointer
concurrent_job_run (gpointer data)
{
  ConcurrentJob *job = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (job->seed);
  g_autofree double *expected = load_expected (job->level);
  gint64 tiles_r = n_tiles (job->level->n_rows), tiles_c = n_tiles (job->level->n_cols);
  Run run = { 0, 0 };

  for (guint i = 0; i < 64; i++)
    {
      g_autoptr(GError) error = NULL;
      gint64 tr = g_rand_int_range (rand, 0, (gint32) tiles_r);
      gint64 tc = g_rand_int_range (rand, 0, (gint32) tiles_c);
      g_autoptr(NpvBlocks) blocks = npv_pyramid_get_tile (job->pyramid, job->level->level, tr, tc,
                                                          1, NULL, &error);

      if (blocks == NULL)
        {
          job->n_failed++;
          continue;
        }
      for (guint r = 0; r < blocks->n_rows; r++)
        for (guint k = 0; k < blocks->n_cols; k++)
          check_block (&run, job->case_->name, job->level, expected, blocks, r, k);
    }
  job->n_failed += run.n_failed;
  return NULL;
}

/* Several threads asking for the same and overlapping tiles of one
 * pyramid with a small cache. */
static void
test_concurrent (void)
{
  const Case *c = find_case ("wide");
  g_autoptr(NpvPyramid) pyramid = open_pyramid (c, 4 << 20);
  ConcurrentJob jobs[6];
  GThread *threads[G_N_ELEMENTS (jobs)];
  guint n = 0;

  for (guint j = 0; j < c->levels->len && n < G_N_ELEMENTS (jobs); j++)
    {
      const Level *level = g_ptr_array_index (c->levels, j);

      if (level->sampled)
        continue;
      jobs[n] = (ConcurrentJob) { c, pyramid, level, 17 + n, 0 };
      threads[n] = g_thread_new ("concurrent", concurrent_job_run, &jobs[n]);
      n++;
    }
  g_assert_cmpuint (n, >=, 3);
  for (guint i = 0; i < n; i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpuint (jobs[i].n_failed, ==, 0);
    }
}

/* ---------------------------------------------------------------------- */
/* Colour maps                                                             */

static guint8 *
unhex (const char *text,
       gsize      *len)
{
  gsize n = strlen (text) / 2;
  guint8 *out = g_malloc (n + 1);

  for (gsize i = 0; i < n; i++)
    {
      int hi = g_ascii_xdigit_value (text[2 * i]), lo = g_ascii_xdigit_value (text[2 * i + 1]);

      if (hi < 0 || lo < 0)
        g_error ("cases file: bad hex “%s”", text);
      out[i] = (guint8) (hi * 16 + lo);
    }
  *len = n;
  return out;
}

static double
parse_double (const char *text)
{
  char *end;
  double v = g_ascii_strtod (text, &end);

  if (*text == '\0' || *end != '\0')
    g_error ("cases file: bad number “%s”", text);
  return v;
}

static void
test_colormap_tables (void)
{
  gboolean seen[NPV_N_COLORMAPS] = { FALSE, };
  guint n_failed = 0;

  g_assert_cmpuint (map_lines->len, ==, NPV_N_COLORMAPS);
  for (guint i = 0; i < map_lines->len; i++)
    {
      char **f = g_ptr_array_index (map_lines, i);
      NpvColormap map;
      gsize len, len_r;
      g_autofree guint8 *table = unhex (f[3], &len);
      g_autofree guint8 *table_r = unhex (f[4], &len_r);
      guint size;
      const guint8 *got;
      NpvColorScale cs = { 0, TRUE, NPV_SCALE_LINEAR, 0.0, 1.0, 0.0 };

      g_assert_true (npv_colormap_from_name (f[1], &map));
      g_assert_cmpstr (npv_colormap_get_name (map), ==, f[1]);
      seen[map] = TRUE;
      size = npv_colormap_get_size (map);
      g_assert_cmpint (size, ==, parse_int (f[2]));
      g_assert_cmpuint (len, ==, 3 * size);
      got = npv_colormap_get_table (map);
      for (guint k = 0; k < size; k++)
        if (memcmp (got + 3 * k, table + 3 * k, 3) != 0)
          {
            g_test_message ("%s[%u]: %02x%02x%02x, matplotlib says %02x%02x%02x", f[1], k,
                            got[3 * k], got[3 * k + 1], got[3 * k + 2],
                            table[3 * k], table[3 * k + 1], table[3 * k + 2]);
            n_failed++;
          }

      /* reversed: colour k of cmap.reversed(), from the middle of bin k */
      cs.map = map;
      for (guint k = 0; k < size; k++)
        {
          guint32 color = npv_color_scale_map (&cs, (k + 0.5) / size);
          guint32 want = 0xFF000000u | (guint32) table_r[3 * k] << 16 | (guint32) table_r[3 * k + 1] << 8 |
                         table_r[3 * k + 2];

          if (color != want)
            {
              g_test_message ("%s reversed [%u]: %08x, matplotlib's reversed() says %08x", f[1], k, color, want);
              n_failed++;
            }
        }
    }
  for (guint m = 0; m < NPV_N_COLORMAPS; m++)
    g_assert_true (seen[m]);
  if (n_failed > 0)
    g_test_fail ();
}

static guint32
expected_color (const char *text,
                guint32    *alternative)
{
  const char *slash = strchr (text, '/');

  /* RRGGBB/RRGGBB: either (see gen-pyramid-cases.py) */
  *alternative = slash != NULL ? 0xFF000000u | (guint32) g_ascii_strtoull (slash + 1, NULL, 16) : 0;
  if (strcmp (text, "NAN") == 0)
    return NPV_COLOR_NAN;
  if (strcmp (text, "POSINF") == 0)
    return NPV_COLOR_POSINF;
  if (strcmp (text, "NEGINF") == 0)
    return NPV_COLOR_NEGINF;
  if (strcmp (text, "INVALID") == 0)
    return NPV_COLOR_INVALID;
  return 0xFF000000u | (guint32) g_ascii_strtoull (text, NULL, 16);
}

static void
check_value_group (Run         *run,
                   const char **first,
                   guint        start,
                   guint        end)
{
  NpvColorScale cs = { 0, };
  gsize n = end - start;
  g_autofree double *values = g_new (double, n);
  g_autofree guint32 *colors = g_new (guint32, n);
  g_autofree guint32 *wants = g_new (guint32, n);
  guint32 alternative;

  g_assert_true (npv_colormap_from_name (first[1], &cs.map));
  cs.reversed = parse_int (first[2]) != 0;
  g_assert_true (npv_scale_from_name (first[3], &cs.scale));
  g_assert_cmpstr (npv_scale_get_name (cs.scale), ==, first[3]);
  cs.lo = parse_double (first[4]);
  cs.hi = parse_double (first[5]);
  g_assert_true (npv_color_scale_is_valid (&cs));

  for (guint i = start; i < end; i++)
    {
      char **f = g_ptr_array_index (value_lines, i);
      guint32 got;

      values[i - start] = parse_double (f[6]);
      wants[i - start] = expected_color (f[7], &alternative);
      got = npv_color_scale_map (&cs, values[i - start]);
      run->n_checked++;
      if (got != wants[i - start] && got != alternative)
        {
          if (run->n_failed < MAX_REPORTED)
            g_test_message ("%s%s %s [%s, %s]: %s (position %.17g) is %08x, matplotlib says %08x (%s)",
                            f[1], cs.reversed ? " reversed" : "", f[3], f[4], f[5], f[6],
                            npv_color_scale_position (&cs, values[i - start]),
                            got, wants[i - start], f[7]);
          run->n_failed++;
        }
    }

  npv_color_scale_map_n (&cs, values, n, colors);
  for (gsize i = 0; i < n; i++)
    {
      guint32 one = npv_color_scale_map (&cs, values[i]);

      run->n_checked++;
      if (colors[i] != one)
        {
          if (run->n_failed < MAX_REPORTED)
            g_test_message ("%s%s %s [%s, %s]: map_n gives %.17g %08x, map gives %08x",
                            first[1], cs.reversed ? " reversed" : "", first[3], first[4], first[5],
                            values[i], colors[i], one);
          run->n_failed++;
        }
    }
}

static void
test_colormap_values (void)
{
  Run run = { 0, 0 };
  guint start = 0;

  g_assert_cmpuint (value_lines->len, >, 1000);
  for (guint i = 1; i <= value_lines->len; i++)
    {
      const char **a = g_ptr_array_index (value_lines, start);
      const char **b = i < value_lines->len ? g_ptr_array_index (value_lines, i) : NULL;

      if (b != NULL && strcmp (a[1], b[1]) == 0 && strcmp (a[2], b[2]) == 0 &&
          strcmp (a[3], b[3]) == 0 && strcmp (a[4], b[4]) == 0 && strcmp (a[5], b[5]) == 0)
        continue;
      check_value_group (&run, a, start, i);
      start = i;
    }
  g_test_message ("%u colours checked, %u differ", run.n_checked, run.n_failed);
  if (run.n_failed > 0)
    g_test_fail ();
}

/* ---------------------------------------------------------------------- */

int
main (int   argc,
      char *argv[])
{
  g_autofree char **args = g_new0 (char *, argc + 2);
  int n_args = 0;
  int status;

  /* Every test runs and reports even when an earlier one fails. */
  args[n_args++] = argv[0];
  args[n_args++] = (char *) "--keep-going";
  for (int i = 1; i < argc; i++)
    args[n_args++] = argv[i];
  argv = args;
  argc = n_args;

  g_test_init (&argc, &argv, NULL);

  if (argc < 2)
    {
      g_printerr ("usage: %s [GTest options] DIR (written by tests/gen-pyramid-cases.py)\n", argv[0]);
      return 1;
    }
  cases_dir = argv[1];
  cases = g_ptr_array_new_with_free_func (case_free);
  bad_cases = g_ptr_array_new_with_free_func (bad_case_free);
  map_lines = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  value_lines = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  load_cases (cases_dir);
  g_assert_cmpuint (cases->len, >=, 10);

  g_test_add_func ("/pyramid/layout", test_layout);
  g_test_add_func ("/pyramid/exact", test_exact);
  g_test_add_func ("/pyramid/exact-coarse-first", test_exact_coarse_first);
  g_test_add_func ("/pyramid/sampled", test_sampled);
  g_test_add_func ("/pyramid/sampled-bounds", test_sampled_bounds);
  g_test_add_func ("/pyramid/peek", test_peek);
  g_test_add_func ("/pyramid/unsupported", test_unsupported);
  g_test_add_func ("/pyramid/cancelled", test_cancelled);
  g_test_add_func ("/pyramid/cancelled-midway", test_cancelled_midway);
  g_test_add_func ("/pyramid/concurrent", test_concurrent);
  g_test_add_func ("/colormap/tables", test_colormap_tables);
  g_test_add_func ("/colormap/values", test_colormap_values);

  status = g_test_run ();
  g_ptr_array_unref (cases);
  g_ptr_array_unref (bad_cases);
  g_ptr_array_unref (map_lines);
  g_ptr_array_unref (value_lines);
  return status;
}
