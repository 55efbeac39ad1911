/* npv-heatmap.h: a zoomable picture of a 2-D plane, from the pyramid
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "npv-array.h"
#include "npv-colormap.h"
#include "npv-pyramid.h"
#include "npv-render.h"

G_BEGIN_DECLS

/* Zoom: zoomed in, each item is a square of a whole number of device
 * pixels (up to 2^NPV_HEATMAP_MAX_ZOOM); zoomed out, each device pixel
 * stands for a block of items, any number of them per side (fitting the
 * window). The integer zoom z of npv_heatmap_set_zoom() means 2^z pixels
 * per item for z >= 0 and 2^-z items per pixel below. */
#define NPV_HEATMAP_MAX_ZOOM 6

#define NPV_TYPE_HEATMAP (npv_heatmap_get_type ())
G_DECLARE_FINAL_TYPE (NpvHeatmap, npv_heatmap, NPV, HEATMAP, GtkWidget)

GtkWidget  *npv_heatmap_new            (void);

/* Shows @plane (2-D, from npv_plane_apply(); %NULL for nothing). Planes
 * without numbers show why instead. The zoom fits the plane until the
 * user zooms or pans. */
void        npv_heatmap_set_plane      (NpvHeatmap          *self,
                                        NpvArray            *plane);
/* Shows an RGB(A) picture: @channels are the planes of red, green, blue
 * (and alpha), all the same shape; @full_scale is the value of full
 * intensity (255 for uint8, 1 for floats). */
void        npv_heatmap_set_rgb        (NpvHeatmap          *self,
                                        NpvArray           **channels,
                                        guint                n_channels,
                                        double               full_scale);
/* Which number complex items stand for (ABS by default). */
void        npv_heatmap_set_part       (NpvHeatmap          *self,
                                        NpvPart              part);
void        npv_heatmap_set_reduction  (NpvHeatmap          *self,
                                        NpvReduction         reduction);
void        npv_heatmap_set_colormap   (NpvHeatmap          *self,
                                        NpvColormap          map,
                                        gboolean             reversed);
void        npv_heatmap_set_scale      (NpvHeatmap          *self,
                                        NpvScale             scale);
/* The range colours span. With @known %FALSE the heatmap uses the range
 * of a quick sample of the plane, and says so. @exact says whether
 * [@lo, @hi] is final (shown in the colour bar). */
void        npv_heatmap_set_range      (NpvHeatmap          *self,
                                        gboolean             known,
                                        double               lo,
                                        double               hi,
                                        gboolean             exact);
/* The scale in use, with the range the picture has (possibly sampled). */
void        npv_heatmap_get_color_scale (NpvHeatmap         *self,
                                         NpvColorScale      *cs);

/* The zoom as an integer: log2 of pixels per item, rounded towards
 * zooming out (e.g. -2 for 3.1 items per pixel). */
int         npv_heatmap_get_zoom       (NpvHeatmap          *self);
/* The exact scale: @pixels_per_item > 1 when zoomed in, else
 * @items_per_pixel >= 1. */
void        npv_heatmap_get_scale      (NpvHeatmap          *self,
                                        int                 *pixels_per_item,
                                        double              *items_per_pixel);
/* Zooms to @zoom keeping the canvas point (@x, @y) (widget coordinates)
 * where it is; @x < 0 keeps the centre. */
void        npv_heatmap_set_zoom       (NpvHeatmap          *self,
                                        int                  zoom,
                                        double               x,
                                        double               y);
/* The largest integer zoom showing the whole plane, and zooming to the
 * scale that fills the canvas with it. */
int         npv_heatmap_get_fit_zoom   (NpvHeatmap          *self);
void        npv_heatmap_zoom_fit       (NpvHeatmap          *self);
/* Centres item (@row, @col). */
void        npv_heatmap_center_on      (NpvHeatmap          *self,
                                        gint64               row,
                                        gint64               col);
/* The canvas (where items are drawn) in widget coordinates. */
void        npv_heatmap_get_canvas     (NpvHeatmap          *self,
                                        graphene_rect_t     *rect);
/* The items under widget point (@x, @y): a block of them when zoomed
 * out. FALSE outside the plane. */
gboolean    npv_heatmap_get_items_at   (NpvHeatmap          *self,
                                        double               x,
                                        double               y,
                                        gint64              *row0,
                                        gint64              *col0,
                                        gint64              *row1,
                                        gint64              *col1);
/* Where item (@row, @col) is drawn, in widget coordinates (its top-left
 * corner). */
void        npv_heatmap_get_item_position (NpvHeatmap       *self,
                                           gint64            row,
                                           gint64            col,
                                           double           *x,
                                           double           *y);

/* The block under the pointer (items [row0, row1] x [col0, col1]). */
gboolean    npv_heatmap_get_hover      (NpvHeatmap          *self,
                                        gint64              *row0,
                                        gint64              *col0,
                                        gint64              *row1,
                                        gint64              *col1);
/* The mean, min and max of the items under the pointer (one pixel's
 * worth), once their texture has arrived; *@exact is FALSE while it is
 * sampled. */
gboolean    npv_heatmap_get_hover_values (NpvHeatmap        *self,
                                          double            *mean,
                                          double            *min,
                                          double            *max,
                                          gboolean          *exact);

/* The selection, inclusive, in items; shared with the grid by the
 * window. */
void        npv_heatmap_set_selection  (NpvHeatmap          *self,
                                        gint64               row0,
                                        gint64               col0,
                                        gint64               row1,
                                        gint64               col1);
void        npv_heatmap_get_selection  (NpvHeatmap          *self,
                                        gint64              *row0,
                                        gint64              *col0,
                                        gint64              *row1,
                                        gint64              *col1);

/* Whether the tiles on screen are all there and exact; FALSE while any
 * is missing or sampled. */
gboolean    npv_heatmap_is_exact       (NpvHeatmap          *self);
/* Whether any visible tile is still missing. */
gboolean    npv_heatmap_is_loading     (NpvHeatmap          *self);
/* Why the plane cannot be drawn, or %NULL. */
const char *npv_heatmap_get_message    (NpvHeatmap          *self);

G_END_DECLS
