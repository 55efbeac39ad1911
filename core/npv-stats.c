/* npv-stats.c: summary statistics of an array, in one pass on every core
 *
 * Each worker takes a range of rows and reduces them chunk by chunk: a
 * chunk is converted to float64 (it stays in the L1 cache), reduced with
 * branch-free loops, and merged with Chan's parallel formula, so the data
 * is read once and the variance does not suffer from cancellation.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-stats"

#include "npv-stats.h"

#include <math.h>
#include <string.h>

#include "npv-error.h"
#include "npv-value.h"

#define CHUNK 2048

typedef struct
{
  guint64 nan_count;
  guint64 pos_inf;
  guint64 neg_inf;
  double min, max;
  /* moments of the finite values */
  guint64 n;
  double mean;
  double m2;
  /* integer extremes */
  gint64 imin, imax;
  guint64 umin, umax;
  double min_positive;
  double fmin, fmax;
} Acc;

typedef struct
{
  NpvArray *array;
  NpvPart part;
  gint64 *progress;
  /* a histogram pass instead of statistics */
  guint64 *bins;
  guint n_bins;
  double lo, hi;
  guint64 below, above, nan;
  gboolean fortran;
  /* rows of the view, or for a contiguous array a range of items */
  gboolean contiguous;
  gint64 first;
  gint64 n;
  GCancellable *cancellable;
  GError *error;
  Acc acc;
} Job;

/* Small enough to stay in the L2 cache between the read and the reduce. */
#define READ_CHUNK (256 * 1024)

static void
acc_init (Acc *acc)
{
  memset (acc, 0, sizeof *acc);
  acc->min = INFINITY;
  acc->max = -INFINITY;
  acc->imin = G_MAXINT64;
  acc->imax = G_MININT64;
  acc->umin = G_MAXUINT64;
  acc->umax = 0;
  acc->min_positive = INFINITY;
  acc->fmin = INFINITY;
  acc->fmax = -INFINITY;
}

static void
acc_merge_moments (Acc    *acc,
                   guint64 n,
                   double  mean,
                   double  m2)
{
  guint64 total;
  double delta;

  if (n == 0)
    return;
  if (acc->n == 0)
    {
      acc->n = n;
      acc->mean = mean;
      acc->m2 = m2;
      return;
    }
  total = acc->n + n;
  delta = mean - acc->mean;
  acc->mean += delta * ((double) n / (double) total);
  acc->m2 += m2 + delta * delta * ((double) acc->n * (double) n / (double) total);
  acc->n = total;
}

static void
acc_merge (Acc       *acc,
           const Acc *other)
{
  acc->nan_count += other->nan_count;
  acc->pos_inf += other->pos_inf;
  acc->neg_inf += other->neg_inf;
  acc->min = MIN (acc->min, other->min);
  acc->max = MAX (acc->max, other->max);
  acc->imin = MIN (acc->imin, other->imin);
  acc->imax = MAX (acc->imax, other->imax);
  acc->umin = MIN (acc->umin, other->umin);
  acc->umax = MAX (acc->umax, other->umax);
  acc->min_positive = MIN (acc->min_positive, other->min_positive);
  acc->fmin = MIN (acc->fmin, other->fmin);
  acc->fmax = MAX (acc->fmax, other->fmax);
  acc_merge_moments (acc, other->n, other->mean, other->m2);
}

/* Two lanes of doubles: GCC and Clang turn these into SSE2 on any x86-64
 * (and into NEON elsewhere), with no intrinsics and no -ffast-math. */
typedef double V2D __attribute__ ((vector_size (16)));
typedef gint64 V2L __attribute__ ((vector_size (16)));

static inline V2D
select_v2d (V2L mask,
            V2D a,
            V2D b)
{
  return (V2D) (((V2L) a & mask) | ((V2L) b & ~mask));
}

/* Reduces @n doubles, four at a time in two independent lanes pairs, with
 * masks instead of branches. NaN fails every comparison, so it never
 * reaches min, max or the sums; infinities are counted and left out of the
 * moments. */
static void
reduce_chunk (Acc          *acc,
              const double *v,
              gsize         n)
{
  const V2D inf = { INFINITY, INFINITY };
  const V2D zero = { 0.0, 0.0 };
  V2D mn0 = { acc->min, acc->min }, mn1 = mn0;
  V2D mx0 = { acc->max, acc->max }, mx1 = mx0;
  V2D sum0 = zero, sum1 = zero;
  V2L nan0 = { 0, 0 }, nan1 = nan0, pinf0 = nan0, pinf1 = nan0, ninf0 = nan0, ninf1 = nan0;
  V2L fin0 = nan0, fin1 = nan0;
  double mn, mx, sum, mean, m2 = 0.0;
  guint64 finite;
  gsize i = 0;

  for (; i + 4 <= n; i += 4)
    {
      V2D x0, x1;
      V2L f0, f1;

      memcpy (&x0, v + i, sizeof x0);
      memcpy (&x1, v + i + 2, sizeof x1);
      f0 = (x0 - x0) == zero;
      f1 = (x1 - x1) == zero;
      nan0 += x0 != x0;
      nan1 += x1 != x1;
      pinf0 += x0 == inf;
      pinf1 += x1 == inf;
      ninf0 += x0 == -inf;
      ninf1 += x1 == -inf;
      fin0 += f0;
      fin1 += f1;
      mn0 = select_v2d (x0 < mn0, x0, mn0);
      mn1 = select_v2d (x1 < mn1, x1, mn1);
      mx0 = select_v2d (x0 > mx0, x0, mx0);
      mx1 = select_v2d (x1 > mx1, x1, mx1);
      sum0 += (V2D) ((V2L) x0 & f0);
      sum1 += (V2D) ((V2L) x1 & f1);
    }

  /* The comparison masks are -1 for true. */
  acc->nan_count -= nan0[0] + nan0[1] + nan1[0] + nan1[1];
  acc->pos_inf -= pinf0[0] + pinf0[1] + pinf1[0] + pinf1[1];
  acc->neg_inf -= ninf0[0] + ninf0[1] + ninf1[0] + ninf1[1];
  finite = -(fin0[0] + fin0[1] + fin1[0] + fin1[1]);
  mn = MIN (MIN (mn0[0], mn0[1]), MIN (mn1[0], mn1[1]));
  mx = MAX (MAX (mx0[0], mx0[1]), MAX (mx1[0], mx1[1]));
  sum = (sum0[0] + sum1[0]) + (sum0[1] + sum1[1]);

  for (; i < n; i++)
    {
      double x = v[i];
      gboolean is_finite = (x - x) == 0.0;

      acc->nan_count += x != x;
      acc->pos_inf += x == INFINITY;
      acc->neg_inf += x == -INFINITY;
      finite += is_finite;
      mn = x < mn ? x : mn;
      mx = x > mx ? x : mx;
      sum += is_finite ? x : 0.0;
    }

  acc->min = mn;
  acc->max = mx;
  /* the finite extremes: the same as min and max unless an infinity came */
  if (isfinite (mn) && isfinite (mx))
    {
      acc->fmin = MIN (acc->fmin, mn);
      acc->fmax = MAX (acc->fmax, mx);
    }
  else
    for (i = 0; i < n; i++)
      if (isfinite (v[i]))
        {
          acc->fmin = MIN (acc->fmin, v[i]);
          acc->fmax = MAX (acc->fmax, v[i]);
        }
  /* the smallest positive value, for the low end of a log scale */
  if (mn <= 0 && mx > 0)
    {
      double mp = acc->min_positive;

      for (i = 0; i < n; i++)
        mp = v[i] > 0 && v[i] < mp ? v[i] : mp;
      acc->min_positive = mp;
    }
  else if (mn > 0)
    acc->min_positive = MIN (acc->min_positive, mn);
  if (finite == 0)
    return;

  mean = sum / (double) finite;
  {
    V2D mean2 = { mean, mean };
    V2D q0 = zero, q1 = zero;

    for (i = 0; i + 4 <= n; i += 4)
      {
        V2D x0, x1, d0, d1;

        memcpy (&x0, v + i, sizeof x0);
        memcpy (&x1, v + i + 2, sizeof x1);
        d0 = (V2D) ((V2L) (x0 - mean2) & ((x0 - x0) == zero));
        d1 = (V2D) ((V2L) (x1 - mean2) & ((x1 - x1) == zero));
        q0 += d0 * d0;
        q1 += d1 * d1;
      }
    m2 = (q0[0] + q1[0]) + (q0[1] + q1[1]);
    for (; i < n; i++)
      {
        double x = v[i];
        double d = (x - x) == 0.0 ? x - mean : 0.0;

        m2 += d * d;
      }
  }
  acc_merge_moments (acc, finite, mean, m2);
}

/* Loads @n items of a row into doubles, with fast paths for the common
 * native float types. */
static void
load_doubles (const NpvDType *dtype,
              NpvPart         part,
              const guint8   *row,
              gint64          stride,
              gsize           n,
              double         *out)
{
  if (dtype->kind == NPV_KIND_COMPLEX)
    {
      for (gsize i = 0; i < n; i++)
        out[i] = npv_item_to_part (dtype, part, row + i * stride);
      return;
    }
  if (!npv_dtype_is_swapped (dtype) && dtype->kind == NPV_KIND_FLOAT)
    {
      if (dtype->itemsize == 4)
        {
          if (stride == 4)
            {
              const float *f = (const float *) (gconstpointer) row;

              for (gsize i = 0; i < n; i++)
                out[i] = f[i];
            }
          else
            for (gsize i = 0; i < n; i++)
              {
                float f;

                memcpy (&f, row + i * stride, 4);
                out[i] = f;
              }
          return;
        }
      if (dtype->itemsize == 8)
        {
          if (stride == 8)
            memcpy (out, row, n * 8);
          else
            for (gsize i = 0; i < n; i++)
              memcpy (&out[i], row + i * stride, 8);
          return;
        }
    }

  for (gsize i = 0; i < n; i++)
    out[i] = npv_item_to_double (dtype, row + i * stride);
}

static void
reduce_integers (Acc            *acc,
                 const NpvDType *dtype,
                 const guint8   *row,
                 gint64          stride,
                 gsize           n)
{
  guint8 buf[16];

  for (gsize i = 0; i < n; i++)
    {
      npv_item_load_native (dtype, row + i * stride, buf);
      if (dtype->kind == NPV_KIND_UINT || dtype->kind == NPV_KIND_BOOL)
        {
          guint64 u = dtype->itemsize == 1 ? buf[0] :
                      dtype->itemsize == 2 ? *(guint16 *) (gpointer) buf :
                      dtype->itemsize == 4 ? *(guint32 *) (gpointer) buf :
                                             *(guint64 *) (gpointer) buf;

          if (dtype->kind == NPV_KIND_BOOL)
            u = u != 0;
          acc->umin = MIN (acc->umin, u);
          acc->umax = MAX (acc->umax, u);
        }
      else
        {
          gint64 s = dtype->itemsize == 1 ? *(gint8 *) (gpointer) buf :
                     dtype->itemsize == 2 ? *(gint16 *) (gpointer) buf :
                     dtype->itemsize == 4 ? *(gint32 *) (gpointer) buf :
                                            *(gint64 *) (gpointer) buf;

          acc->imin = MIN (acc->imin, s);
          acc->imax = MAX (acc->imax, s);
        }
    }
}

/* The edge between bins @i - 1 and @i, as np.linspace (lo, hi, n + 1)
 * makes it. */
static inline double
bin_edge (const Job *job,
          guint      i)
{
  if (i >= job->n_bins)
    return job->hi;
  return (double) i * ((job->hi - job->lo) / job->n_bins) + job->lo;
}

/* np.histogram's binning: (x - lo) * (n / (hi - lo)), the top edge in the
 * last bin, then moved by one where that lands on the wrong side of
 * numpy's edge. */
static void
bin_chunk (Job          *job,
           const double *v,
           gsize         n)
{
  double lo = job->lo, hi = job->hi;
  double norm = job->n_bins / (hi - lo);
  guint last = job->n_bins - 1;

  for (gsize i = 0; i < n; i++)
    {
      double x = v[i];
      double k;
      guint b;

      if (x != x)
        {
          job->nan++;
          continue;
        }
      if (x < lo)
        {
          job->below++;
          continue;
        }
      if (x > hi)
        {
          job->above++;
          continue;
        }
      k = (x - lo) * norm;
      b = k >= last ? last : (guint) k;
      if (b > 0 && x < bin_edge (job, b))
        b--;
      else if (b < last && x >= bin_edge (job, b + 1))
        b++;
      job->bins[b]++;
    }
}

static void
reduce_run (Job          *job,
            const guint8 *row,
            gint64        len,
            gint64        stride)
{
  const NpvDType *dtype = job->array->dtype;
  gboolean integer = dtype->kind != NPV_KIND_FLOAT && dtype->kind != NPV_KIND_COMPLEX;
  double values[CHUNK];

  if (job->progress != NULL)
    __atomic_fetch_add (job->progress, len, __ATOMIC_RELAXED);
  while (len > 0)
    {
      gsize n = MIN (len, CHUNK);

      load_doubles (dtype, job->part, row, stride, n, values);
      if (job->bins != NULL)
        bin_chunk (job, values, n);
      else
        {
          reduce_chunk (&job->acc, values, n);
          if (integer)
            reduce_integers (&job->acc, dtype, row, stride, n);
        }
      row += (gint64) n * stride;
      len -= n;
    }
}

/* A contiguous array is one run of items: read it in chunks. */
static void
run_contiguous (Job *job)
{
  NpvSource *source = job->array->source;
  gsize itemsize = job->array->dtype->itemsize;
  gsize per_chunk = MAX (READ_CHUNK / itemsize, 1);
  guint64 offset = job->array->offset + (guint64) job->first * itemsize;
  g_autofree guint8 *buffer = NULL;
  gint64 left = job->n;

  /* Memory is used in place; files and compressed data are read. */
  if (npv_source_get_fd (source) >= 0 || npv_source_get_data (source) == NULL)
    buffer = g_malloc (per_chunk * itemsize);

  while (left > 0)
    {
      gsize n = MIN ((guint64) left, per_chunk);
      const guint8 *items;

      if (g_cancellable_is_cancelled (job->cancellable))
        return;
      if (buffer != NULL)
        {
          if (!npv_source_read (source, offset, buffer, n * itemsize, &job->error))
            return;
          items = buffer;
        }
      else
        items = npv_source_get_data (source) + offset;
      reduce_run (job, items, n, itemsize);
      offset += n * itemsize;
      left -= n;
    }
}

static void
run_rows (Job *job)
{
  NpvRowReader reader;
  NpvRowIter iter;
  gint64 row, len, stride;
  guint64 rows = 0;

  npv_row_reader_init (&reader, job->array, 4 << 20);
  npv_row_iter_init (&iter, job->array, job->fortran, job->first, job->n);
  while (npv_row_iter_next (&iter, &row, &len, &stride))
    {
      if ((rows++ & 255) == 0 && g_cancellable_is_cancelled (job->cancellable))
        break;
      while (len > 0 && job->error == NULL)
        {
          const guint8 *items;
          gint64 items_stride, n;

          if (!npv_row_reader_fetch (&reader, row, len, stride, &items, &items_stride, &n,
                                     &job->error))
            break;
          reduce_run (job, items, n, items_stride);
          row += n * stride;
          len -= n;
        }
      if (job->error != NULL)
        break;
    }
  npv_row_reader_clear (&reader);
}

static gpointer
run_job (gpointer data)
{
  Job *job = data;

  acc_init (&job->acc);
  if (job->contiguous)
    run_contiguous (job);
  else
    run_rows (job);
  return NULL;
}

/* Rows along the axis with the smallest stride read memory in order. */
static gboolean
prefer_fortran (const NpvArray *array)
{
  if (array->ndim < 2)
    return FALSE;
  return ABS (array->strides[0]) < ABS (array->strides[array->ndim - 1]);
}

/* Runs @template's work over @array on @n_threads threads: the jobs come
 * back in *@jobs_out, *@n_out of them. */
static gboolean
run_jobs (NpvArray      *array,
          guint          n_threads,
          const Job     *template,
          GCancellable  *cancellable,
          Job          **jobs_out,
          guint         *n_out,
          GError       **error)
{
  gboolean fortran = prefer_fortran (array);
  gboolean contiguous;
  gint64 n_units;
  Job *jobs;
  g_autofree GThread **threads = NULL;

  if (!npv_dtype_is_real (array->dtype) && array->dtype->kind != NPV_KIND_COMPLEX)
    {
      g_autofree char *name = npv_dtype_get_name (array->dtype);

      g_set_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED,
                   "statistics need numbers on the real line, but the items are %s%s", name,
                   array->dtype->kind == NPV_KIND_STRUCT ? " (choose a field)" : "");
      return FALSE;
    }

  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  contiguous = array->count > 0 && array->dtype->itemsize > 0 &&
               (npv_array_is_c_contiguous (array) || npv_array_is_f_contiguous (array));
  if (contiguous)
    n_units = array->count;
  else
    {
      /* Make the row count agree with the iteration order. */
      NpvRowIter probe;

      npv_row_iter_init (&probe, array, fortran, 0, -1);
      n_units = probe.rows_left;
    }
  /* Small arrays are not worth a thread. */
  if ((guint64) array->count < 1 << 20)
    n_threads = 1;
  n_threads = MAX (1, MIN ((gint64) n_threads, MAX (n_units, 1)));

  jobs = g_new0 (Job, n_threads);
  threads = g_new0 (GThread *, n_threads);
  for (guint t = 0; t < n_threads; t++)
    {
      jobs[t] = *template;
      jobs[t].array = array;
      jobs[t].fortran = fortran;
      jobs[t].contiguous = contiguous;
      jobs[t].first = n_units * t / n_threads;
      jobs[t].n = n_units * (t + 1) / n_threads - jobs[t].first;
      jobs[t].cancellable = cancellable;
      if (template->bins != NULL)
        jobs[t].bins = g_new0 (guint64, template->n_bins);
    }
  for (guint t = 1; t < n_threads; t++)
    threads[t] = g_thread_new ("npv-stats", run_job, &jobs[t]);
  run_job (&jobs[0]);
  for (guint t = 1; t < n_threads; t++)
    g_thread_join (threads[t]);

  *jobs_out = jobs;
  *n_out = n_threads;
  for (guint t = 0; t < n_threads; t++)
    if (jobs[t].error != NULL)
      {
        g_propagate_error (error, g_steal_pointer (&jobs[t].error));
        for (guint u = t + 1; u < n_threads; u++)
          g_clear_error (&jobs[u].error);
        return FALSE;
      }
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static void
free_jobs (Job   *jobs,
           guint  n)
{
  for (guint t = 0; t < n; t++)
    g_free (jobs[t].bins);
  g_free (jobs);
}

gboolean
npv_array_compute_stats_full (NpvArray      *array,
                              NpvPart        part,
                              guint          n_threads,
                              gint64        *progress,
                              GCancellable  *cancellable,
                              NpvStats      *stats,
                              GError       **error)
{
  Job template = { .part = part, .progress = progress };
  Job *jobs = NULL;
  guint n_jobs = 0;
  Acc total;

  memset (stats, 0, sizeof *stats);
  if (!run_jobs (array, n_threads, &template, cancellable, &jobs, &n_jobs, error))
    {
      free_jobs (jobs, n_jobs);
      return FALSE;
    }

  acc_init (&total);
  for (guint t = 0; t < n_jobs; t++)
    acc_merge (&total, &jobs[t].acc);
  free_jobs (jobs, n_jobs);

  stats->count = array->count;
  stats->nan_count = total.nan_count;
  stats->inf_count = total.pos_inf + total.neg_inf;
  if (array->count > total.nan_count)
    {
      stats->min = total.min;
      stats->max = total.max;
    }
  else
    stats->min = stats->max = NAN;

  if (total.pos_inf > 0 && total.neg_inf > 0)
    stats->mean = NAN;
  else if (total.pos_inf > 0)
    stats->mean = INFINITY;
  else if (total.neg_inf > 0)
    stats->mean = -INFINITY;
  else if (total.n > 0)
    stats->mean = total.mean;
  else
    stats->mean = NAN;

  if (total.pos_inf > 0 || total.neg_inf > 0 || total.n == 0)
    stats->std = NAN;
  else
    stats->std = sqrt (total.m2 / (double) total.n);

  stats->is_integer = array->dtype->kind != NPV_KIND_FLOAT && array->dtype->kind != NPV_KIND_COMPLEX;
  stats->is_unsigned = array->dtype->kind == NPV_KIND_UINT || array->dtype->kind == NPV_KIND_BOOL;
  stats->imin = total.imin;
  stats->imax = total.imax;
  stats->umin = total.umin;
  stats->umax = total.umax;
  stats->min_positive = isfinite (total.min_positive) ? total.min_positive : NAN;
  stats->finite_min = isfinite (total.fmin) ? total.fmin : NAN;
  stats->finite_max = isfinite (total.fmax) ? total.fmax : NAN;
  return TRUE;
}

gboolean
npv_array_compute_stats (NpvArray      *array,
                         guint          n_threads,
                         GCancellable  *cancellable,
                         NpvStats      *stats,
                         GError       **error)
{
  if (array->dtype->kind == NPV_KIND_COMPLEX)
    {
      g_autofree char *name = npv_dtype_get_name (array->dtype);

      memset (stats, 0, sizeof *stats);
      g_set_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED,
                   "statistics need numbers on the real line, but the items are %s", name);
      return FALSE;
    }
  return npv_array_compute_stats_full (array, NPV_PART_VALUE, n_threads, NULL, cancellable, stats,
                                       error);
}

gboolean
npv_array_compute_histogram (NpvArray      *array,
                             NpvPart        part,
                             double         lo,
                             double         hi,
                             guint          n_bins,
                             guint          n_threads,
                             gint64        *progress,
                             GCancellable  *cancellable,
                             NpvHistogram  *histogram,
                             GError       **error)
{
  guint64 dummy = 0;
  Job template = { .part = part, .progress = progress, .bins = &dummy, .n_bins = MAX (n_bins, 1),
                   .lo = lo, .hi = hi };
  Job *jobs = NULL;
  guint n_jobs = 0;

  memset (histogram, 0, sizeof *histogram);
  if (!isfinite (lo) || !isfinite (hi) || lo > hi)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "a histogram needs a finite range, not [%g, %g]", lo, hi);
      return FALSE;
    }
  /* numpy widens an empty range by a half either side */
  if (lo == hi)
    {
      lo -= 0.5;
      hi += 0.5;
      template.lo = lo;
      template.hi = hi;
    }
  if (!run_jobs (array, n_threads, &template, cancellable, &jobs, &n_jobs, error))
    {
      free_jobs (jobs, n_jobs);
      return FALSE;
    }
  histogram->lo = lo;
  histogram->hi = hi;
  histogram->n_bins = template.n_bins;
  histogram->counts = g_new0 (guint64, template.n_bins);
  for (guint t = 0; t < n_jobs; t++)
    {
      for (guint b = 0; b < template.n_bins; b++)
        histogram->counts[b] += jobs[t].bins[b];
      histogram->below += jobs[t].below;
      histogram->above += jobs[t].above;
      histogram->nan += jobs[t].nan;
    }
  free_jobs (jobs, n_jobs);
  return TRUE;
}

void
npv_histogram_clear (NpvHistogram *histogram)
{
  g_clear_pointer (&histogram->counts, g_free);
}

double
npv_histogram_quantile (const NpvHistogram *h,
                        double              q)
{
  guint64 total = h->below + h->above;
  double rank, seen;
  double width;

  for (guint b = 0; b < h->n_bins; b++)
    total += h->counts[b];
  if (total == 0)
    return NAN;
  /* numpy's linear method: the value at rank q (n - 1), items taken as
   * spread evenly through their bin */
  rank = CLAMP (q, 0.0, 1.0) * (double) (total - 1);
  if (rank < (double) h->below)
    return h->lo;
  seen = (double) h->below;
  width = (h->hi - h->lo) / h->n_bins;
  for (guint b = 0; b < h->n_bins; b++)
    {
      double c = (double) h->counts[b];

      if (c > 0 && rank < seen + c)
        return h->lo + width * (b + (rank - seen + 0.5) / c);
      seen += c;
    }
  return h->hi;
}
