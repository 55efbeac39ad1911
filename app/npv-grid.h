/* npv-grid.h: a spreadsheet view of a 2-D plane, virtualised both ways
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "npv-array.h"
#include "npv-tile.h"

G_BEGIN_DECLS

#define NPV_TYPE_GRID (npv_grid_get_type ())
G_DECLARE_FINAL_TYPE (NpvGrid, npv_grid, NPV, GRID, GtkWidget)

GtkWidget  *npv_grid_new               (void);

/* Shows @plane (2-D, from npv_plane_apply(); %NULL for nothing). The
 * cursor and selection are kept where they still fit. */
void        npv_grid_set_plane         (NpvGrid               *self,
                                        NpvArray              *plane);
void        npv_grid_set_number_format (NpvGrid               *self,
                                        const NpvNumberFormat *format);

/* Colours each cell's background by its value (the range of the values
 * on screen). */
void        npv_grid_set_shading       (NpvGrid               *self,
                                        gboolean               shading);

/* Shades by the range @lo..@hi (e.g. the whole array's), or with @fixed
 * %FALSE by the values on screen. */
void        npv_grid_set_shading_range (NpvGrid               *self,
                                        gboolean               fixed,
                                        double                 lo,
                                        double                 hi);

/* One column's width in pixels, as dragging its header's edge sets it
 * (until the next plane). */
void        npv_grid_set_column_width  (NpvGrid               *self,
                                        gint64                 col,
                                        int                    width);
/* Where a column starts in the grid's content (pixels) and its width. */
void        npv_grid_get_column_extent (NpvGrid               *self,
                                        gint64                 col,
                                        double                *x,
                                        int                   *width);

gint64      npv_grid_get_n_rows        (NpvGrid               *self);
/* Grid columns: array columns times leaf fields for records. */
gint64      npv_grid_get_n_columns     (NpvGrid               *self);

/* Moves the cursor to (@row, @col), scrolled into view; the selection
 * becomes that cell (or grows to it with @extend). */
void        npv_grid_set_cursor        (NpvGrid               *self,
                                        gint64                 row,
                                        gint64                 col,
                                        gboolean               extend);
void        npv_grid_get_cursor        (NpvGrid               *self,
                                        gint64                *row,
                                        gint64                *col);
void        npv_grid_get_selection     (NpvGrid               *self,
                                        gint64                *row0,
                                        gint64                *col0,
                                        gint64                *row1,
                                        gint64                *col1);
void        npv_grid_select_all        (NpvGrid               *self);
/* The cell under the pointer, if it is over one. */
gboolean    npv_grid_get_hover         (NpvGrid               *self,
                                        gint64                *row,
                                        gint64                *col);

/* The text shown in a cell, or %NULL while its tile has not arrived. */
const char *npv_grid_peek_text         (NpvGrid               *self,
                                        gint64                 row,
                                        gint64                 col);
/* Whether tiles for the visible cells are still being made. */
gboolean    npv_grid_is_loading        (NpvGrid               *self);

/* The header text of a grid column: "3", or "3 · x" for a record field. */
char       *npv_grid_dup_column_title  (NpvGrid               *self,
                                        gint64                 col);

/* The selection as TSV (rows by lines, cells by tabs; full precision),
 * made on a worker. */
void        npv_grid_copy_selection_async  (NpvGrid             *self,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
char       *npv_grid_copy_selection_finish (NpvGrid             *self,
                                            GAsyncResult        *result,
                                            GError             **error);

G_END_DECLS
