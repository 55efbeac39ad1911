/* npv-window.h: a window showing one file and its members
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "npv-application.h"
#include "npv-grid.h"
#include "npv-heatmap.h"
#include "npv-line.h"
#include "npv-stats-panel.h"

G_BEGIN_DECLS

#define NPV_TYPE_WINDOW (npv_window_get_type ())
G_DECLARE_FINAL_TYPE (NpvWindow, npv_window, NPV, WINDOW, GtkApplicationWindow)

NpvWindow  *npv_window_new              (NpvApplication *app);

/* Opens @file on the worker pool; @member (a name or path, may be %NULL
 * for the first array) and @slice (numpy's basic index, may be %NULL) say
 * what to show first. */
void        npv_window_open             (NpvWindow      *self,
                                         GFile          *file,
                                         const char     *member,
                                         const char     *slice);
void        npv_window_show_welcome     (NpvWindow      *self);
/* The built-in examples archive, with @member selected (%NULL: the first). */
void        npv_window_open_example     (NpvWindow      *self,
                                         const char     *member);
GFile      *npv_window_get_file         (NpvWindow      *self);

/* For tests and scripts: the page shown ("welcome", "loading", "error",
 * "values", "reading", "folder", "member-error"), whether work is running,
 * the text of the page (values, or the error message), the visible rows
 * of the member tree ("  name\tshape dtype · storage", indented by depth),
 * the info panel ("Key\tvalue" lines), and selecting a member by name. */
const char *npv_window_get_page         (NpvWindow      *self);
/* The text of the bar offering to reload, or %NULL when it is hidden. */
const char *npv_window_get_banner       (NpvWindow      *self);
gboolean    npv_window_is_busy          (NpvWindow      *self);
char       *npv_window_dup_text         (NpvWindow      *self);
char       *npv_window_dup_members      (NpvWindow      *self);
char       *npv_window_dup_info         (NpvWindow      *self);
gboolean    npv_window_select_member    (NpvWindow      *self,
                                         const char     *name);
void        npv_window_set_filter       (NpvWindow      *self,
                                         const char     *text);
NpvGrid    *npv_window_get_grid         (NpvWindow      *self);
NpvHeatmap *npv_window_get_heatmap      (NpvWindow      *self);
NpvLine    *npv_window_get_line         (NpvWindow      *self);
NpvStatsPanel *npv_window_get_stats_panel (NpvWindow    *self);
/* Writes @what ("selection", "plane" or "member") of the values shown to
 * @path, as the Export dialog does (format from the name; an existing
 * file is not replaced). */
gboolean    npv_window_export           (NpvWindow      *self,
                                         const char     *what,
                                         const char     *path,
                                         GError        **error);

G_END_DECLS
