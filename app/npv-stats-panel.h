/* npv-stats-panel.h: statistics of the whole array and of the plane
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "npv-array.h"
#include "npv-stats.h"

G_BEGIN_DECLS

#define NPV_TYPE_STATS_PANEL (npv_stats_panel_get_type ())
G_DECLARE_FINAL_TYPE (NpvStatsPanel, npv_stats_panel, NPV, STATS_PANEL, GtkBox)

GtkWidget *npv_stats_panel_new        (void);

/* Computes the statistics of @array (the whole member) and @plane (what
 * the views show) on the worker pool: from a sample first, labelled
 * approximate, then exact. @part: the number complex items stand for.
 * %NULL arrays clear the panel. Work for earlier arrays is cancelled. */
void       npv_stats_panel_set_arrays (NpvStatsPanel *self,
                                       NpvArray      *array,
                                       NpvArray      *plane,
                                       NpvPart        part);
/* Only the plane changed: its statistics are made again, the whole
 * array's are kept. */
void       npv_stats_panel_set_plane  (NpvStatsPanel *self,
                                       NpvArray      *plane);

/* The whole array's statistics and histogram (4096 bins over [min, max])
 * once there are any; *@exact says whether they are final. */
gboolean   npv_stats_panel_get_array_stats (NpvStatsPanel       *self,
                                            const NpvStats     **stats,
                                            const NpvHistogram **histogram,
                                            gboolean            *exact);
/* Whether work is still going on. */
gboolean   npv_stats_panel_is_busy    (NpvStatsPanel *self);
/* The panel's text, for tests: one "label: value" per line. */
char      *npv_stats_panel_dup_text   (NpvStatsPanel *self);

G_END_DECLS
