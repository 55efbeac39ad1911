/* npv-colormap.h: values to colours, as matplotlib maps them
 *
 * A colour scale is a colour map (a table of N colours), a scale that
 * turns a value into a position between 0 and 1 (linear, log, symlog,
 * sqrt) and the range [lo, hi] that 0 and 1 stand for. The position t
 * picks colour floor(t * N), clipped to the table, exactly as matplotlib's
 * Colormap(Normalize(v)) does, so a picture can be checked against it.
 *
 * Values with no place on the scale get colours of their own: NaN, +inf,
 * -inf, and values a log scale cannot show (zero and below).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  NPV_COLORMAP_VIRIDIS,
  NPV_COLORMAP_MAGMA,
  NPV_COLORMAP_INFERNO,
  NPV_COLORMAP_PLASMA,
  NPV_COLORMAP_CIVIDIS,
  NPV_COLORMAP_GRAY,
  NPV_COLORMAP_COOLWARM,     /* diverging */
  NPV_COLORMAP_TWILIGHT,     /* cyclic, for phases */
  NPV_N_COLORMAPS
} NpvColormap;

typedef enum {
  NPV_SCALE_LINEAR,
  NPV_SCALE_LOG,
  NPV_SCALE_SYMLOG,
  NPV_SCALE_SQRT,
  NPV_N_SCALES
} NpvScale;

/* Colours are 0xAARRGGBB in native byte order: cairo's ARGB32 and GDK's
 * GDK_MEMORY_DEFAULT, always opaque. */
#define NPV_COLOR_NAN      0xFFFF00FFu  /* magenta */
#define NPV_COLOR_POSINF   0xFFFFFFFFu  /* white */
#define NPV_COLOR_NEGINF   0xFF000000u  /* black */
#define NPV_COLOR_INVALID  0xFF808080u  /* grey: zero or below on a log scale */

typedef struct
{
  NpvColormap map;
  gboolean reversed;
  NpvScale scale;
  double lo, hi;
  double linthresh;        /* SYMLOG: the linear region around 0 */
} NpvColorScale;

const char  *npv_colormap_get_name    (NpvColormap  map);
gboolean     npv_colormap_from_name   (const char  *name,
                                       NpvColormap *map);
/* The table: npv_colormap_get_size() RGB triplets. */
const guint8*npv_colormap_get_table   (NpvColormap  map);
guint        npv_colormap_get_size    (NpvColormap  map);

const char  *npv_scale_get_name       (NpvScale     scale);
gboolean     npv_scale_from_name      (const char  *name,
                                       NpvScale    *scale);

/* Where @value falls on @cs, 0 at lo and 1 at hi (outside [0, 1] when it
 * is out of range). NaN for NaN, infinities and values outside the
 * scale's domain. */
double       npv_color_scale_position (const NpvColorScale *cs,
                                       double               value);
/* The inverse: the value at position @t. */
double       npv_color_scale_value_at (const NpvColorScale *cs,
                                       double               t);
/* The colour of one value. */
guint32      npv_color_scale_map      (const NpvColorScale *cs,
                                       double               value);
/* The colours of @n values. */
void         npv_color_scale_map_n    (const NpvColorScale *cs,
                                       const double        *values,
                                       gsize                n,
                                       guint32             *colors);
/* Values to label a colour bar with: the ends of the range first, then
 * round values between them (decades on a log scale, else steps of 1, 2
 * or 5 times a power of ten, about four of them). Returns how many were
 * written, at most @max. */
guint        npv_color_scale_ticks    (const NpvColorScale *cs,
                                       double              *ticks,
                                       guint                max);
/* Whether @cs can be drawn: lo < hi (lo == hi maps everything to the
 * first colour, as matplotlib does), 0 < lo on a log scale. */
gboolean     npv_color_scale_is_valid (const NpvColorScale *cs);

G_END_DECLS
