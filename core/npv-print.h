/* npv-print.h: an array as numpy's print() lays it out
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "npv-array.h"

G_BEGIN_DECLS

typedef struct
{
  guint threshold;   /* summarise arrays of more items than this (numpy: 1000) */
  guint edge_items;  /* items kept at each end of a summarised axis (numpy: 3) */
  guint line_width;  /* wrap rows longer than this (numpy: 75) */
} NpvPrintOptions;

#define NPV_PRINT_OPTIONS_DEFAULT ((NpvPrintOptions) { 1000, 3, 75 })

/* Appends the items of @array in nested brackets, aligned, with "..." for
 * the middle of long axes. Text items are quoted like numpy's. Fails when
 * the items cannot be read (a file cut short, damaged compressed data). */
gboolean npv_array_print (GString               *out,
                          const NpvArray        *array,
                          const NpvPrintOptions *options,
                          GError               **error);

G_END_DECLS
