/* npv-colormap.c: values to colours, as matplotlib maps them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "npv-colormap.h"

#include <math.h>
#include <string.h>

#include "npv-colormap-data.h"

typedef struct
{
  const char *name;
  const guint8 *table;
  const guint8 *reversed;   /* matplotlib's own, when not the table backwards */
  guint size;
} MapInfo;

static const MapInfo maps[NPV_N_COLORMAPS] = {
  [NPV_COLORMAP_VIRIDIS] = { "viridis", lut_viridis, lut_viridis_r, G_N_ELEMENTS (lut_viridis) / 3 },
  [NPV_COLORMAP_MAGMA] = { "magma", lut_magma, lut_magma_r, G_N_ELEMENTS (lut_magma) / 3 },
  [NPV_COLORMAP_INFERNO] = { "inferno", lut_inferno, lut_inferno_r, G_N_ELEMENTS (lut_inferno) / 3 },
  [NPV_COLORMAP_PLASMA] = { "plasma", lut_plasma, lut_plasma_r, G_N_ELEMENTS (lut_plasma) / 3 },
  [NPV_COLORMAP_CIVIDIS] = { "cividis", lut_cividis, lut_cividis_r, G_N_ELEMENTS (lut_cividis) / 3 },
  [NPV_COLORMAP_GRAY] = { "gray", lut_gray, lut_gray_r, G_N_ELEMENTS (lut_gray) / 3 },
  [NPV_COLORMAP_COOLWARM] = { "coolwarm", lut_coolwarm, lut_coolwarm_r, G_N_ELEMENTS (lut_coolwarm) / 3 },
  [NPV_COLORMAP_TWILIGHT] = { "twilight", lut_twilight, lut_twilight_r, G_N_ELEMENTS (lut_twilight) / 3 },
};

static const char * const scale_names[NPV_N_SCALES] = {
  [NPV_SCALE_LINEAR] = "linear",
  [NPV_SCALE_LOG] = "log",
  [NPV_SCALE_SYMLOG] = "symlog",
  [NPV_SCALE_SQRT] = "sqrt",
};

const char *
npv_colormap_get_name (NpvColormap map)
{
  g_return_val_if_fail (map < NPV_N_COLORMAPS, NULL);
  return maps[map].name;
}

gboolean
npv_colormap_from_name (const char  *name,
                        NpvColormap *map)
{
  for (guint i = 0; i < NPV_N_COLORMAPS; i++)
    if (g_strcmp0 (name, maps[i].name) == 0)
      {
        *map = i;
        return TRUE;
      }
  return FALSE;
}

const guint8 *
npv_colormap_get_table (NpvColormap map)
{
  g_return_val_if_fail (map < NPV_N_COLORMAPS, NULL);
  return maps[map].table;
}

guint
npv_colormap_get_size (NpvColormap map)
{
  g_return_val_if_fail (map < NPV_N_COLORMAPS, 0);
  return maps[map].size;
}

const char *
npv_scale_get_name (NpvScale scale)
{
  g_return_val_if_fail (scale < NPV_N_SCALES, NULL);
  return scale_names[scale];
}

gboolean
npv_scale_from_name (const char *name,
                     NpvScale   *scale)
{
  for (guint i = 0; i < NPV_N_SCALES; i++)
    if (g_strcmp0 (name, scale_names[i]) == 0)
      {
        *scale = i;
        return TRUE;
      }
  return FALSE;
}

/* matplotlib's SymLogNorm with base 10 and linscale 1: linear within
 * linthresh of zero, logarithmic beyond, continuous at the seam. */
#define LINSCALE_ADJ (1.0 / (1.0 - 1.0 / 10.0))

static double
symlog (double v,
        double linthresh)
{
  double a = fabs (v);

  if (a <= linthresh)
    return v * LINSCALE_ADJ;
  return copysign (linthresh * (LINSCALE_ADJ + log10 (a / linthresh)), v);
}

static double
symlog_inverse (double y,
                double linthresh)
{
  double a = fabs (y);

  if (a <= linthresh * LINSCALE_ADJ)
    return y / LINSCALE_ADJ;
  return copysign (linthresh * pow (10.0, a / linthresh - LINSCALE_ADJ), y);
}

static double
linthresh_of (const NpvColorScale *cs)
{
  if (cs->linthresh > 0 && isfinite (cs->linthresh))
    return cs->linthresh;
  /* A thousandth of the larger end: three decades of log either side. */
  return MAX (MAX (fabs (cs->lo), fabs (cs->hi)) * 1e-3, G_MINDOUBLE);
}

guint
npv_color_scale_ticks (const NpvColorScale *cs,
                       double              *ticks,
                       guint                max)
{
  double lo = cs->lo, hi = cs->hi;
  guint n = 0;

  if (max < 2)
    return 0;
  ticks[n++] = lo;
  ticks[n++] = hi;
  if (cs->scale == NPV_SCALE_LOG && lo > 0)
    {
      for (double d = pow (10, ceil (log10 (lo))); d < hi && n < max; d *= 10)
        if (d > lo)
          ticks[n++] = d;
    }
  else if (hi > lo)
    {
      double raw = (hi - lo) / 4, p = pow (10, floor (log10 (raw)));
      double step = (raw / p <= 1 ? 1 : raw / p <= 2 ? 2 : raw / p <= 5 ? 5 : 10) * p;

      for (double v = ceil (lo / step) * step; v < hi && n < max; v += step)
        if (v > lo)
          ticks[n++] = fabs (v) < step * 1e-9 ? 0.0 : v;
    }
  return n;
}

gboolean
npv_color_scale_is_valid (const NpvColorScale *cs)
{
  if (cs->map >= NPV_N_COLORMAPS || cs->scale >= NPV_N_SCALES)
    return FALSE;
  if (!isfinite (cs->lo) || !isfinite (cs->hi) || cs->lo > cs->hi)
    return FALSE;
  if (cs->scale == NPV_SCALE_LOG && !(cs->lo > 0))
    return FALSE;
  return TRUE;
}

double
npv_color_scale_position (const NpvColorScale *cs,
                          double               v)
{
  double lo = cs->lo, hi = cs->hi;

  if (!isfinite (v))
    return NAN;
  if (lo == hi)
    return 0.0;

  switch (cs->scale)
    {
    case NPV_SCALE_LOG:
      if (!(v > 0) || !(lo > 0))
        return NAN;
      return (log10 (v) - log10 (lo)) / (log10 (hi) - log10 (lo));
    case NPV_SCALE_SYMLOG:
      {
        double c = linthresh_of (cs);
        double a = symlog (lo, c);

        return (symlog (v, c) - a) / (symlog (hi, c) - a);
      }
    case NPV_SCALE_SQRT:
      /* matplotlib's PowerNorm(0.5): below lo is 0 */
      if (v < lo)
        return 0.0;
      return sqrt (v - lo) / sqrt (hi - lo);
    case NPV_SCALE_LINEAR:
    case NPV_N_SCALES:
    default:
      return (v - lo) / (hi - lo);
    }
}

double
npv_color_scale_value_at (const NpvColorScale *cs,
                          double               t)
{
  double lo = cs->lo, hi = cs->hi;

  switch (cs->scale)
    {
    case NPV_SCALE_LOG:
      if (!(lo > 0))
        return NAN;
      return pow (10.0, log10 (lo) + t * (log10 (hi) - log10 (lo)));
    case NPV_SCALE_SYMLOG:
      {
        double c = linthresh_of (cs);
        double a = symlog (lo, c);

        return symlog_inverse (a + t * (symlog (hi, c) - a), c);
      }
    case NPV_SCALE_SQRT:
      return lo + (t * t) * (hi - lo);
    case NPV_SCALE_LINEAR:
    case NPV_N_SCALES:
    default:
      return lo + t * (hi - lo);
    }
}

static inline guint32
table_color (const guint8 *table,
             guint         i)
{
  return 0xFF000000u | (guint32) table[3 * i] << 16 | (guint32) table[3 * i + 1] << 8 |
         table[3 * i + 2];
}

/* Colour @i of the map, or of the reversed map as matplotlib makes it. */
static inline guint32
map_index (const MapInfo *info,
           gboolean       reversed,
           guint          i)
{
  if (!reversed)
    return table_color (info->table, i);
  if (info->reversed != NULL)
    return table_color (info->reversed, i);
  return table_color (info->table, info->size - 1 - i);
}

guint32
npv_color_scale_map (const NpvColorScale *cs,
                     double               v)
{
  const MapInfo *info = &maps[cs->map < NPV_N_COLORMAPS ? cs->map : 0];
  double t, x;
  guint i;

  if (isnan (v))
    return NPV_COLOR_NAN;
  if (isinf (v))
    return v > 0 ? NPV_COLOR_POSINF : NPV_COLOR_NEGINF;
  t = npv_color_scale_position (cs, v);
  if (isnan (t))
    return NPV_COLOR_INVALID;

  /* matplotlib: floor (t * N), t == 1 is the last colour, under and over
   * take the ends */
  x = t * info->size;
  if (x < 0)
    i = 0;
  else if (x >= info->size)
    i = info->size - 1;
  else
    i = (guint) x;
  return map_index (info, cs->reversed, i);
}

void
npv_color_scale_map_n (const NpvColorScale *cs,
                       const double        *values,
                       gsize                n,
                       guint32             *colors)
{
  const MapInfo *info = &maps[cs->map < NPV_N_COLORMAPS ? cs->map : 0];

  /* The common case without a call per value: a linear scale. */
  if (cs->scale == NPV_SCALE_LINEAR && cs->lo < cs->hi)
    {
      double span = cs->hi - cs->lo;
      double lo = cs->lo;
      guint last = info->size - 1;

      for (gsize j = 0; j < n; j++)
        {
          double v = values[j];
          double x;
          guint i;

          if (G_UNLIKELY (!isfinite (v)))
            {
              colors[j] = npv_color_scale_map (cs, v);
              continue;
            }
          /* the same operations as the general path, for the same colour */
          x = (v - lo) / span * info->size;
          i = x < 0 ? 0 : x >= info->size ? last : (guint) x;
          colors[j] = map_index (info, cs->reversed, i);
        }
      return;
    }

  for (gsize j = 0; j < n; j++)
    colors[j] = npv_color_scale_map (cs, values[j]);
}
