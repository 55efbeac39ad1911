/* test-stats.c: summary statistics, histograms and quantiles against numpy
 *
 * The cases come from tests/gen-stats-cases.py, which writes .npy files
 * with numpy and numpy's answers for them (its docstring describes the
 * format). This program only compares: each test checks all of its lines
 * and prints every mismatch (up to MAX_REPORTED) with what numpy says and
 * what the core says.
 *
 * /stats/case/NAME   npv_array_compute_stats_full() of each part, then
 *                    npv_array_compute_histogram() over the finite extremes
 *                    in 7, 64 and 4096 bins, and npv_histogram_quantile()
 *                    of each of those histograms; the progress counter.
 * /stats/doc/...     promises of the headers that the code does not keep
 *                    (or keeps only in part): a mismatch there marks the
 *                    test incomplete, with what differs, rather than
 *                    failing it. They pass once the code and the headers
 *                    agree.
 *
 * Usage: test-stats [GTest options] DIR
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "npv-error.h"
#include "npv-file.h"
#include "npv-plane.h"
#include "npv-stats.h"

#define MAX_REPORTED 40

/* Sums in another order than numpy's: relative to numpy's value plus the
 * mean of the absolute finite values. */
#define MEAN_RTOL 1e-9
#define STD_RTOL 1e-9

/* ---------------------------------------------------------------------- */
/* Cases                                                                   */

typedef struct
{
  char *name;
  GHashTable *fields;           /* the case line */
  GPtrArray *lines;             /* of GHashTable: its stats, hist, quant lines */
} Case;

static const char *cases_dir;
static GPtrArray *cases;        /* of Case */
static GPtrArray *unsupported;  /* of char *: .npy names */

typedef struct
{
  const char *what;
  guint n_checked;
  guint n_failed;
} Run;

static void run_fail (Run *run, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
run_fail (Run        *run,
          const char *format,
          ...)
{
  va_list args;
  g_autofree char *message = NULL;

  run->n_failed++;
  if (run->n_failed > MAX_REPORTED)
    return;
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_test_message ("%s: %s", run->what, message);
}

static void
case_free (gpointer data)
{
  Case *c = data;

  g_free (c->name);
  g_hash_table_unref (c->fields);
  g_ptr_array_unref (c->lines);
  g_free (c);
}

static const char *
field (GHashTable *line,
       const char *key)
{
  const char *value = g_hash_table_lookup (line, key);

  if (value == NULL)
    g_error ("cases file: a line without “%s” (%s)", key,
             (const char *) g_hash_table_lookup (line, ""));
  return value;
}

static double
field_double (GHashTable *line,
              const char *key)
{
  const char *text = field (line, key);
  char *end;
  double v = g_ascii_strtod (text, &end);

  if (*text == '\0' || *end != '\0')
    g_error ("cases file: bad number %s=“%s”", key, text);
  return v;
}

static gint64
field_int (GHashTable *line,
           const char *key)
{
  const char *text = field (line, key);
  char *end;
  gint64 v = g_ascii_strtoll (text, &end, 10);

  if (*text == '\0' || *end != '\0')
    g_error ("cases file: bad integer %s=“%s”", key, text);
  return v;
}

static guint64
field_uint (GHashTable *line,
            const char *key)
{
  const char *text = field (line, key);
  char *end;
  guint64 v = g_ascii_strtoull (text, &end, 10);

  if (*text == '\0' || *end != '\0')
    g_error ("cases file: bad integer %s=“%s”", key, text);
  return v;
}

static gboolean
field_is (GHashTable *line,
          const char *key,
          const char *value)
{
  return strcmp (field (line, key), value) == 0;
}

static NpvPart
field_part (GHashTable *line)
{
  static const char * const names[] = { "value", "real", "imag", "abs", "angle" };
  const char *text = field (line, "part");

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (text, names[i]) == 0)
      return (NpvPart) i;
  g_error ("cases file: bad part “%s”", text);
  return NPV_PART_VALUE;
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
  g_error ("cases file: no case “%s”", name);
  return NULL;
}

static void
load_cases (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, "cases.txt", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &error))
    g_error ("cannot read the cases: %s", error->message);

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = NULL;
      GHashTable *line;

      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;
      f = g_strsplit (lines[i], "\t", -1);
      line = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert (line, g_strdup (""), g_strdup (f[0]));
      for (guint k = 1; f[k] != NULL; k++)
        {
          const char *eq = strchr (f[k], '=');

          if (eq == NULL)
            g_error ("%s:%u: a field without '='", path, i + 1);
          g_hash_table_insert (line, g_strndup (f[k], eq - f[k]), g_strdup (eq + 1));
        }

      if (strcmp (f[0], "case") == 0)
        {
          Case *c = g_new0 (Case, 1);

          c->fields = line;
          c->name = g_strdup (field (line, "name"));
          c->lines = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
          g_ptr_array_add (cases, c);
        }
      else if (strcmp (f[0], "stats") == 0 || strcmp (f[0], "hist") == 0 ||
               strcmp (f[0], "quant") == 0)
        g_ptr_array_add (find_case (field (line, "case"))->lines, line);
      else if (strcmp (f[0], "unsupported") == 0)
        {
          g_ptr_array_add (unsupported, g_strdup (field (line, "npy")));
          g_hash_table_unref (line);
        }
      else
        g_error ("%s:%u: unknown directive “%s”", path, i + 1, f[0]);
    }
}

static const char *
line_kind (GHashTable *line)
{
  return g_hash_table_lookup (line, "");
}

/* ---------------------------------------------------------------------- */
/* Opening                                                                 */

static NpvArray *
open_file_array (const char *npy,
                 const char *via,
                 const char *member_name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (cases_dir, npy, NULL);
  g_autoptr(NpvFile) file = NULL;
  const NpvMember *member;
  NpvArray *array;

  if (strcmp (via, "bytes") == 0)
    {
      char *contents;
      gsize len;
      g_autoptr(GBytes) bytes = NULL;

      if (!g_file_get_contents (path, &contents, &len, &error))
        g_error ("cannot read %s: %s", path, error->message);
      bytes = g_bytes_new_take (contents, len);
      file = npv_file_open_bytes (bytes, npy, &error);
    }
  else
    file = npv_file_open (path, &error);
  g_assert_no_error (error);
  member = npv_file_lookup_member (file, strcmp (member_name, "-") == 0 ? NULL : member_name,
                                   &error);
  g_assert_no_error (error);
  array = npv_file_open_array (file, member, &error);
  g_assert_no_error (error);
  return array;
}

/* The case's view: the file's array, indexed, then its plane. */
static NpvArray *
open_case (const Case *c)
{
  g_autoptr(GError) error = NULL;
  NpvArray *array = open_file_array (field (c->fields, "npy"), field (c->fields, "via"),
                                     field (c->fields, "member"));
  const char *index_text = field (c->fields, "index");
  const char *plane_text = field (c->fields, "plane");

  if (strcmp (index_text, "-") != 0)
    {
      NpvIndex index;
      NpvArray *view;

      g_assert_true (npv_index_parse (index_text, &index, &error));
      g_assert_no_error (error);
      view = npv_array_apply_index (array, &index, &error);
      g_assert_no_error (error);
      npv_array_unref (array);
      array = view;
    }
  if (strcmp (plane_text, "-") != 0)
    {
      g_auto(GStrv) parts = g_strsplit (plane_text, ",", -1);
      g_auto(GStrv) fixed = NULL;
      NpvPlane plane;
      NpvArray *view;

      g_assert_cmpuint (g_strv_length (parts), ==, 3);
      npv_plane_init_default (&plane, array);
      plane.row_axis = (guint) g_ascii_strtoull (parts[0], NULL, 10);
      plane.col_axis = (guint) g_ascii_strtoull (parts[1], NULL, 10);
      fixed = g_strsplit (parts[2], ":", -1);
      g_assert_cmpuint (g_strv_length (fixed), ==, array->ndim);
      for (guint k = 0; k < array->ndim; k++)
        plane.fixed[k] = g_ascii_strtoll (fixed[k], NULL, 10);
      view = npv_plane_apply (&plane, array, &error);
      g_assert_no_error (error);
      npv_array_unref (array);
      array = view;
    }
  return array;
}

/* ---------------------------------------------------------------------- */
/* Comparing                                                               */

static gboolean
same_double (double a,
             double b)
{
  return a == b || (isnan (a) && isnan (b));
}

static gboolean
close_double (double got,
              double want,
              double tolerance)
{
  if (!isfinite (want) || !isfinite (got))
    return same_double (got, want);
  return fabs (got - want) <= tolerance;
}

static void
check_exact (Run        *run,
             const char *what,
             const char *name,
             double      got,
             double      want)
{
  run->n_checked++;
  if (!same_double (got, want))
    run_fail (run, "%s: %s is %.17g, numpy says %.17g", what, name, got, want);
}

static void
check_count (Run        *run,
             const char *what,
             const char *name,
             guint64     got,
             guint64     want)
{
  run->n_checked++;
  if (got != want)
    run_fail (run, "%s: %s is %" G_GUINT64_FORMAT ", numpy says %" G_GUINT64_FORMAT, what, name,
              got, want);
}

static void
check_stats (Run        *run,
             NpvArray   *array,
             GHashTable *line,
             guint       n_threads)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *what = g_strdup_printf ("part %s", field (line, "part"));
  NpvStats stats;
  gint64 progress = 0;
  double scale = field_double (line, "scale");
  double mean = field_double (line, "mean");
  double std = field_double (line, "std");

  if (!npv_array_compute_stats_full (array, field_part (line), n_threads, &progress, NULL, &stats,
                                     &error))
    {
      run_fail (run, "%s: %s", what, error->message);
      return;
    }
  check_count (run, what, "count", stats.count, field_uint (line, "count"));
  check_count (run, what, "nan_count", stats.nan_count, field_uint (line, "nan"));
  check_count (run, what, "inf_count", stats.inf_count, field_uint (line, "inf"));
  check_exact (run, what, "min", stats.min, field_double (line, "min"));
  check_exact (run, what, "max", stats.max, field_double (line, "max"));
  check_exact (run, what, "finite_min", stats.finite_min, field_double (line, "fmin"));
  check_exact (run, what, "finite_max", stats.finite_max, field_double (line, "fmax"));
  check_exact (run, what, "min_positive", stats.min_positive, field_double (line, "minpos"));

  run->n_checked += 2;
  if (!close_double (stats.mean, mean, MEAN_RTOL * (fabs (mean) + scale)))
    run_fail (run, "%s: mean is %.17g, np.nanmean says %.17g (difference %.3g)", what, stats.mean,
              mean, stats.mean - mean);
  if (!close_double (stats.std, std, STD_RTOL * std + 1e-12 * scale))
    run_fail (run, "%s: std is %.17g, np.nanstd says %.17g (relative difference %.3g)", what,
              stats.std, std, (stats.std - std) / std);

  run->n_checked += 2;
  if (stats.is_integer != (field_int (line, "integer") != 0))
    run_fail (run, "%s: is_integer is %d", what, stats.is_integer);
  if (stats.is_unsigned != (field_int (line, "unsigned") != 0))
    run_fail (run, "%s: is_unsigned is %d", what, stats.is_unsigned);
  if (!field_is (line, "imin", "-"))
    {
      run->n_checked += 2;
      if (stats.imin != field_int (line, "imin") || stats.imax != field_int (line, "imax"))
        run_fail (run, "%s: imin, imax are %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                  ", numpy says %s, %s", what, stats.imin, stats.imax, field (line, "imin"),
                  field (line, "imax"));
    }
  if (!field_is (line, "umin", "-"))
    {
      run->n_checked += 2;
      if (stats.umin != field_uint (line, "umin") || stats.umax != field_uint (line, "umax"))
        run_fail (run, "%s: umin, umax are %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                  ", numpy says %s, %s", what, stats.umin, stats.umax, field (line, "umin"),
                  field (line, "umax"));
    }
  /* Every item is added once, as it is reduced. */
  check_count (run, what, "the progress after the pass", (guint64) progress, stats.count);
}

/* The histogram of @hist_line, made from @array, or FALSE. */
static gboolean
make_histogram (Run          *run,
                NpvArray     *array,
                GHashTable   *hist_line,
                guint         n_threads,
                NpvHistogram *h)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *what = g_strdup_printf ("part %s, %s bins", field (hist_line, "part"),
                                           field (hist_line, "bins"));
  gint64 progress = 0;

  if (!npv_array_compute_histogram (array, field_part (hist_line),
                                    field_double (hist_line, "lo"), field_double (hist_line, "hi"),
                                    (guint) field_int (hist_line, "bins"), n_threads, &progress,
                                    NULL, h, &error))
    {
      run_fail (run, "%s: %s", what, error->message);
      return FALSE;
    }
  check_count (run, what, "the progress after the pass", (guint64) progress,
               (guint64) array->count);
  return TRUE;
}

static void
check_histogram (Run                *run,
                 const NpvHistogram *h,
                 GHashTable         *line)
{
  g_autofree char *what = g_strdup_printf ("part %s, %s bins over [%s, %s]", field (line, "part"),
                                           field (line, "bins"), field (line, "lo"),
                                           field (line, "hi"));
  g_auto(GStrv) counts = g_strsplit (field (line, "counts"), ",", -1);
  guint n_bins = g_strv_length (counts);
  guint n_differ = 0;

  check_count (run, what, "n_bins", h->n_bins, n_bins);
  /* numpy's first and last edges: the range, widened when it is empty */
  check_exact (run, what, "lo", h->lo, field_double (line, "edge_lo"));
  check_exact (run, what, "hi", h->hi, field_double (line, "edge_hi"));
  check_count (run, what, "below", h->below, field_uint (line, "below"));
  check_count (run, what, "above", h->above, field_uint (line, "above"));
  check_count (run, what, "nan", h->nan, field_uint (line, "nan"));
  if (h->n_bins != n_bins)
    return;
  for (guint b = 0; b < n_bins; b++)
    {
      guint64 want = g_ascii_strtoull (counts[b], NULL, 10);

      run->n_checked++;
      if (h->counts[b] != want)
        {
          if (n_differ++ < 8)
            run_fail (run, "%s: bin %u holds %" G_GUINT64_FORMAT ", np.histogram says %"
                      G_GUINT64_FORMAT, what, b, h->counts[b], want);
          else
            run->n_failed++;
        }
    }
}

/* A quantile of a histogram of width @width per bin can be anywhere in
 * the bin of the item at rank floor (q (n - 1)), or half a bin beyond, so
 * it is within a bin of the two values numpy interpolates between (the
 * values clipped to the range: what the histogram can know). */
static void
check_quantile (Run                *run,
                const NpvHistogram *h,
                GHashTable         *line)
{
  double q = field_double (line, "q");
  double lo_nb = field_double (line, "lo_nb");
  double hi_nb = field_double (line, "hi_nb");
  double clipped = field_double (line, "clipped");
  double width = (h->hi - h->lo) / h->n_bins;
  double slack = width * (1 + 1e-9) + 1e-12 * (fabs (h->lo) + fabs (h->hi));
  double got = npv_histogram_quantile (h, q);

  run->n_checked++;
  if (isnan (clipped))
    {
      if (!isnan (got))
        run_fail (run, "part %s, %u bins: the %g quantile is %.17g with no values", field (line, "part"),
                  h->n_bins, q, got);
      return;
    }
  if (!(got >= lo_nb - slack && got <= hi_nb + slack))
    run_fail (run, "part %s, %u bins (width %.6g): the %g quantile is %.17g, not within a bin of "
              "[%.17g, %.17g], which np.quantile interpolates to %.17g", field (line, "part"),
              h->n_bins, width, q, got, lo_nb, hi_nb, clipped);
}

static gboolean
same_hist_line (GHashTable *a,
                GHashTable *b)
{
  return strcmp (field (a, "part"), field (b, "part")) == 0 &&
         strcmp (field (a, "bins"), field (b, "bins")) == 0;
}

static void
run_report (Run *run)
{
  g_test_message ("%s: %u checks, %u failed", run->what, run->n_checked, run->n_failed);
  if (run->n_failed > 0)
    g_test_fail ();
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                   */

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(NpvArray) array = open_case (c);
  guint n_threads = (guint) field_int (c->fields, "threads");
  Run run = { c->name, 0, 0 };

  for (guint i = 0; i < c->lines->len; i++)
    {
      GHashTable *line = g_ptr_array_index (c->lines, i);
      NpvHistogram h;

      if (!field_is (line, "doc", "-"))
        continue;
      if (strcmp (line_kind (line), "stats") == 0)
        check_stats (&run, array, line, n_threads);
      else if (strcmp (line_kind (line), "hist") == 0 &&
               make_histogram (&run, array, line, n_threads, &h))
        {
          check_histogram (&run, &h, line);
          for (guint k = i + 1; k < c->lines->len; k++)
            {
              GHashTable *qline = g_ptr_array_index (c->lines, k);

              if (strcmp (line_kind (qline), "quant") != 0 || !same_hist_line (line, qline))
                break;
              check_quantile (&run, &h, qline);
            }
          npv_histogram_clear (&h);
        }
    }
  run_report (&run);
}

/* The same statistics and histograms on any number of threads (sums are
 * merged in another order: within the tolerance). */
static void
test_threads (void)
{
  g_autoptr(NpvArray) array = open_case (find_case ("big"));
  static const guint n_threads[] = { 1, 2, 3, 8, 16 };
  NpvStats one;
  NpvHistogram h1;
  Run run = { "threads", 0, 0 };

  g_assert_true (npv_array_compute_stats_full (array, NPV_PART_VALUE, 1, NULL, NULL, &one, NULL));
  g_assert_true (npv_array_compute_histogram (array, NPV_PART_VALUE, one.finite_min, one.finite_max,
                                              999, 1, NULL, NULL, &h1, NULL));
  for (guint t = 1; t < G_N_ELEMENTS (n_threads); t++)
    {
      g_autofree char *what = g_strdup_printf ("%u threads", n_threads[t]);
      NpvStats s;
      NpvHistogram h;
      gint64 progress = 0;

      g_assert_true (npv_array_compute_stats_full (array, NPV_PART_VALUE, n_threads[t], &progress,
                                                   NULL, &s, NULL));
      check_count (&run, what, "count", s.count, one.count);
      check_count (&run, what, "progress", (guint64) progress, one.count);
      check_count (&run, what, "nan_count", s.nan_count, one.nan_count);
      check_count (&run, what, "inf_count", s.inf_count, one.inf_count);
      check_exact (&run, what, "min", s.min, one.min);
      check_exact (&run, what, "max", s.max, one.max);
      check_exact (&run, what, "finite_min", s.finite_min, one.finite_min);
      check_exact (&run, what, "finite_max", s.finite_max, one.finite_max);
      check_exact (&run, what, "min_positive", s.min_positive, one.min_positive);
      run.n_checked++;
      if (!close_double (s.std, one.std, 1e-12 * one.std))
        run_fail (&run, "%s: std is %.17g, on one thread %.17g", what, s.std, one.std);

      progress = 0;
      g_assert_true (npv_array_compute_histogram (array, NPV_PART_VALUE, one.finite_min,
                                                  one.finite_max, 999, n_threads[t], &progress,
                                                  NULL, &h, NULL));
      check_count (&run, what, "histogram progress", (guint64) progress, one.count);
      check_count (&run, what, "below", h.below, h1.below);
      check_count (&run, what, "above", h.above, h1.above);
      check_count (&run, what, "nan", h.nan, h1.nan);
      for (guint b = 0; b < h.n_bins; b++)
        check_count (&run, what, "a bin", h.counts[b], h1.counts[b]);
      npv_histogram_clear (&h);
    }
  npv_histogram_clear (&h1);
  run_report (&run);
}

/* A cancelled pass gives G_IO_ERROR_CANCELLED, whatever the layout. */
static void
test_cancelled (void)
{
  static const char * const names[] = { "f64", "f64-f", "f64-npz", "view-index", "view-plane-t",
                                        "big", "big-view", "big-c128" };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  g_cancellable_cancel (cancellable);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const Case *c = find_case (names[i]);
      g_autoptr(NpvArray) array = open_case (c);
      guint n_threads = (guint) field_int (c->fields, "threads");
      NpvPart part = array->dtype->kind == NPV_KIND_COMPLEX ? NPV_PART_ABS : NPV_PART_VALUE;
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) hist_error = NULL;
      NpvStats stats;
      NpvHistogram h;
      gint64 progress = 0;

      g_assert_false (npv_array_compute_stats_full (array, part, n_threads, &progress, cancellable,
                                                    &stats, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpint (progress, <=, array->count);
      g_test_message ("%s: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " items done before the "
                      "pass saw it was cancelled", names[i], progress, array->count);
      g_assert_false (npv_array_compute_histogram (array, part, 0, 1, 64, n_threads, NULL,
                                                   cancellable, &h, &hist_error));
      g_assert_error (hist_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_null (h.counts);
    }
}

/* Items that are not numbers, complex items without a part, and
 * histograms without a finite range are refused. */
static void
test_refused (void)
{
  g_autoptr(NpvArray) z = open_case (find_case ("c128"));
  g_autoptr(NpvArray) a = open_case (find_case ("f64"));
  static const double ranges[][2] = { { NAN, 1 }, { 0, INFINITY }, { -INFINITY, 0 }, { 2, 1 } };

  for (guint i = 0; i < unsupported->len; i++)
    {
      const char *npy = g_ptr_array_index (unsupported, i);
      g_autoptr(NpvArray) s = open_file_array (npy, "file", "-");
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) hist_error = NULL;
      NpvStats stats;
      NpvHistogram h;

      g_assert_false (npv_array_compute_stats_full (s, NPV_PART_VALUE, 0, NULL, NULL, &stats,
                                                    &error));
      g_assert_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED);
      g_assert_false (npv_array_compute_histogram (s, NPV_PART_VALUE, 0, 1, 10, 0, NULL, NULL, &h,
                                                   &hist_error));
      g_assert_error (hist_error, NPV_ERROR, NPV_ERROR_UNSUPPORTED);
    }
  {
    g_autoptr(GError) error = NULL;
    NpvStats stats;

    g_assert_false (npv_array_compute_stats (z, 0, NULL, &stats, &error));
    g_assert_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED);
  }
  for (guint i = 0; i < G_N_ELEMENTS (ranges); i++)
    {
      g_autoptr(GError) error = NULL;
      NpvHistogram h;

      g_assert_false (npv_array_compute_histogram (a, NPV_PART_VALUE, ranges[i][0], ranges[i][1],
                                                   10, 0, NULL, NULL, &h, &error));
      g_assert_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT);
    }
  /* npv_array_compute_stats() is npv_array_compute_stats_full() of VALUE */
  {
    NpvStats s1, s2;

    g_assert_true (npv_array_compute_stats (a, 0, NULL, &s1, NULL));
    g_assert_true (npv_array_compute_stats_full (a, NPV_PART_VALUE, 0, NULL, NULL, &s2, NULL));
    g_assert_cmpmem (&s1, sizeof s1, &s2, sizeof s2);
  }
}

/* Promises of the headers: a mismatch marks the test incomplete. */
static void
doc_report (Run        *run,
            const char *promise)
{
  g_test_message ("%s: %u checks, %u differ", run->what, run->n_checked, run->n_failed);
  if (run->n_failed > 0)
    {
      g_test_message ("%s", promise);
      g_test_fail ();
    }
}

/* npv-pyramid.h: "VALUE on them means ABS" for complex items. */
static void
test_doc_complex_value (void)
{
  Run run = { "complex VALUE", 0, 0 };

  for (guint i = 0; i < cases->len; i++)
    {
      const Case *c = g_ptr_array_index (cases, i);
      g_autoptr(NpvArray) array = NULL;

      for (guint k = 0; k < c->lines->len; k++)
        {
          GHashTable *line = g_ptr_array_index (c->lines, k);
          NpvHistogram h;

          if (!field_is (line, "doc", "complex-value"))
            continue;
          if (array == NULL)
            array = open_case (c);
          if (strcmp (line_kind (line), "stats") == 0)
            check_stats (&run, array, line, 0);
          else if (strcmp (line_kind (line), "hist") == 0 &&
                   make_histogram (&run, array, line, 0, &h))
            {
              check_histogram (&run, &h, line);
              npv_histogram_clear (&h);
            }
        }
    }
  doc_report (&run, "npv-pyramid.h says NPV_PART_VALUE of a complex item means ABS; the "
              "statistics take the real part");
}

/* npv-stats.h: histograms count "as np.histogram(a, n_bins, (lo, hi))
 * counts them". */
typedef struct
{
  const char *doc;
  const char *promise;
} HistPromise;

static const HistPromise hist_promises[] = {
  { "single-value", "a histogram over [x, x] must widen the range to [x - 0.5, x + 0.5] as "
    "np.histogram does (the middle bin)" },
  { "bin-edges", "a value on one of np.histogram's bin edges can land in the bin below: "
    "np.histogram corrects (x - lo) / (hi - lo) * bins by comparing x with np.linspace's edges" },
};

static void
test_doc_histogram (gconstpointer data)
{
  const HistPromise *promise = data;
  Run run = { promise->doc, 0, 0 };

  for (guint i = 0; i < cases->len; i++)
    {
      const Case *c = g_ptr_array_index (cases, i);
      g_autoptr(NpvArray) array = NULL;

      for (guint k = 0; k < c->lines->len; k++)
        {
          GHashTable *line = g_ptr_array_index (c->lines, k);
          NpvHistogram h;

          if (!field_is (line, "doc", promise->doc) || strcmp (line_kind (line), "hist") != 0)
            continue;
          if (array == NULL)
            array = open_case (c);
          run.what = c->name;
          if (make_histogram (&run, array, line, 0, &h))
            {
              check_histogram (&run, &h, line);
              for (guint j = k + 1; j < c->lines->len; j++)
                {
                  GHashTable *qline = g_ptr_array_index (c->lines, j);

                  if (strcmp (line_kind (qline), "quant") != 0 || !same_hist_line (line, qline))
                    break;
                  check_quantile (&run, &h, qline);
                }
              npv_histogram_clear (&h);
            }
        }
    }
  run.what = promise->doc;
  doc_report (&run, promise->promise);
}

/* npv-stats.h: values outside the range (infinities) rank at its ends;
 * within a bin's width of numpy's quantile of the values so clipped when
 * the two values numpy interpolates between share a bin, and between
 * them (give or take a bin) otherwise. */
static void
test_doc_quantile (void)
{
  Run infinite = { "quantiles numpy makes infinite or NaN", 0, 0 };
  Run gaps = { "quantiles across gaps", 0, 0 };

  for (guint i = 0; i < cases->len; i++)
    {
      const Case *c = g_ptr_array_index (cases, i);
      g_autoptr(NpvArray) array = NULL;
      Run scratch = { c->name, 0, 0 };

      /* the big ones are like the others */
      if (g_str_has_prefix (c->name, "big"))
        continue;
      for (guint k = 0; k < c->lines->len; k++)
        {
          GHashTable *line = g_ptr_array_index (c->lines, k);
          NpvHistogram h;

          if (!field_is (line, "doc", "-") || strcmp (line_kind (line), "hist") != 0)
            continue;
          if (array == NULL)
            array = open_case (c);
          if (!make_histogram (&scratch, array, line, 0, &h))
            continue;
          for (guint j = k + 1; j < c->lines->len; j++)
            {
              GHashTable *qline = g_ptr_array_index (c->lines, j);
              double q, want, got, width;
              Run *run;

              if (strcmp (line_kind (qline), "quant") != 0 || !same_hist_line (line, qline))
                break;
              q = field_double (qline, "q");
              want = field_double (qline, "clipped");
              run = isfinite (field_double (qline, "numpy")) ? &gaps : &infinite;
              got = npv_histogram_quantile (&h, q);
              width = (h.hi - h.lo) / h.n_bins;
              run->n_checked++;
              if (isnan (want) ? !isnan (got)
                  : fabs (field_double (qline, "hi_nb") - field_double (qline, "lo_nb")) <= width
                  ? !close_double (got, want, width * (1 + 1e-9))
                  : !(got >= field_double (qline, "lo_nb") - width * (1 + 1e-9) &&
                      got <= field_double (qline, "hi_nb") + width * (1 + 1e-9)))
                run_fail (run, "%s part %s, %u bins (width %.6g): the %g quantile is %.17g, "
                          "np.quantile of the clipped values says %.17g", c->name,
                          field (line, "part"), h.n_bins, width, q, got, want);
            }
          npv_histogram_clear (&h);
        }
    }
  g_test_message ("%s: %u checks, %u differ", infinite.what, infinite.n_checked,
                  infinite.n_failed);
  g_test_message ("%s: %u checks, %u differ", gaps.what, gaps.n_checked, gaps.n_failed);
  if (infinite.n_failed + gaps.n_failed > 0)
    g_test_fail ();
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  if (argc != 2)
    {
      g_printerr ("usage: %s [GTest options] DIR\n", argv[0]);
      return 2;
    }
  cases_dir = argv[1];
  cases = g_ptr_array_new_with_free_func (case_free);
  unsupported = g_ptr_array_new_with_free_func (g_free);
  load_cases (cases_dir);

  for (guint i = 0; i < cases->len; i++)
    {
      const Case *c = g_ptr_array_index (cases, i);
      g_autofree char *path = g_strdup_printf ("/stats/case/%s", c->name);

      g_test_add_data_func (path, c, test_case);
    }
  g_test_add_func ("/stats/threads", test_threads);
  g_test_add_func ("/stats/cancelled", test_cancelled);
  g_test_add_func ("/stats/refused", test_refused);
  g_test_add_func ("/stats/doc/complex-value", test_doc_complex_value);
  for (guint i = 0; i < G_N_ELEMENTS (hist_promises); i++)
    {
      g_autofree char *path = g_strdup_printf ("/stats/doc/%s", hist_promises[i].doc);

      g_test_add_data_func (path, &hist_promises[i], test_doc_histogram);
    }
  g_test_add_func ("/stats/doc/quantile", test_doc_quantile);

  status = g_test_run ();
  g_ptr_array_unref (cases);
  g_ptr_array_unref (unsupported);
  return status;
}
