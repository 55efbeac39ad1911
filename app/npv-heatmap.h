/* npv-heatmap.h: a zoomable picture of a 2-D plane, from the pyramid
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "npv-array.h"
#include "npv-colormap.h"
#include "npv-pyramid.h"

G_BEGIN_DECLS

/* What a pixel that stands for a block of items shows. */
typedef enum {
  NPV_REDUCTION_MEAN,
  NPV_REDUCTION_MIN,
  NPV_REDUCTION_MAX,
} NpvReduction;

/* Zoom levels: z >= 0 draws each item as a square of 2^z device pixels,
 * z < 0 draws one device pixel per block of 2^-z x 2^-z items. */
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

int         npv_heatmap_get_zoom       (NpvHeatmap          *self);
/* Zooms to @zoom keeping the canvas point (@x, @y) (widget coordinates)
 * where it is; @x < 0 keeps the centre. */
void        npv_heatmap_set_zoom       (NpvHeatmap          *self,
                                        int                  zoom,
                                        double               x,
                                        double               y);
/* The largest zoom showing the whole plane, and zooming to it. */
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
/* The reduction (count of finite values, NaNs, min, max, mean) of the
 * hovered block, when its tile has arrived. */
NpvBlocks  *npv_heatmap_peek_hover_block (NpvHeatmap        *self,
                                          guint             *index);

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
