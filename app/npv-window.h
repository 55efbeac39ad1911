/* npv-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "npv-application.h"

G_BEGIN_DECLS

#define NPV_TYPE_WINDOW (npv_window_get_type ())

G_DECLARE_FINAL_TYPE (NpvWindow, npv_window, NPV, WINDOW, GtkApplicationWindow)

NpvWindow *npv_window_new          (NpvApplication *app);
void       npv_window_open         (NpvWindow      *self,
                                    GFile          *file);
void       npv_window_show_example (NpvWindow      *self);
GFile     *npv_window_get_file     (NpvWindow      *self);

/* For tests: the text the window shows now. */
char      *npv_window_dup_text     (NpvWindow      *self);

G_END_DECLS
