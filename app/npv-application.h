/* npv-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define NPV_TYPE_APPLICATION (npv_application_get_type ())

G_DECLARE_FINAL_TYPE (NpvApplication, npv_application, NPV, APPLICATION, GtkApplication)

NpvApplication *npv_application_new (void);

G_END_DECLS
