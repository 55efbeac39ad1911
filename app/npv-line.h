/* npv-line.h: a line plot of a 1-D run of values, with min/max envelopes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "npv-array.h"
#include "npv-pyramid.h"

G_BEGIN_DECLS

#define NPV_TYPE_LINE (npv_line_get_type ())
G_DECLARE_FINAL_TYPE (NpvLine, npv_line, NPV, LINE, GtkWidget)

GtkWidget  *npv_line_new              (void);

/* Plots @values (1-D; %NULL for nothing), complex ones by @part. The x
 * range fits all values until the user zooms or pans. */
void        npv_line_set_values       (NpvLine      *self,
                                       NpvArray     *values,
                                       NpvPart       part);
/* What the plot shows, for the title line: "a[3, :]". */
void        npv_line_set_caption      (NpvLine      *self,
                                       const char   *caption);

/* Items per device pixel along x (1 is one item per pixel). */
double      npv_line_get_items_per_pixel (NpvLine   *self);
void        npv_line_zoom_fit         (NpvLine      *self);
/* Zooms by @factor (> 1 in) keeping widget x @x fixed (< 0: the centre). */
void        npv_line_zoom             (NpvLine      *self,
                                       double        factor,
                                       double        x);
/* The visible items [first, first + count). */
void        npv_line_get_x_range      (NpvLine      *self,
                                       double       *first,
                                       double       *count);
/* The y range drawn (from the finite values in view). */
gboolean    npv_line_get_y_range      (NpvLine      *self,
                                       double       *lo,
                                       double       *hi);
/* Whether the envelope for the current view is still being made. */
gboolean    npv_line_is_loading       (NpvLine      *self);

/* The items under the pointer and their extremes (one item when zoomed
 * in). FALSE when the pointer is not over the plot or data is missing. */
gboolean    npv_line_get_hover        (NpvLine      *self,
                                       gint64       *first,
                                       gint64       *last,
                                       double       *min,
                                       double       *max);
/* Pixel column @x's envelope (min and max of its items, NaN if none), when
 * there is more than one item per pixel; FALSE when zoomed in further. */
gboolean    npv_line_get_column       (NpvLine      *self,
                                       int           x,
                                       double       *min,
                                       double       *max);
/* The plot area, in widget coordinates. */
void        npv_line_get_plot_area    (NpvLine      *self,
                                       graphene_rect_t *rect);

G_END_DECLS
