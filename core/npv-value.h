/* npv-value.h: one item of an array as text or as a number
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "npv-dtype.h"

G_BEGIN_DECLS

/* Appends the text of the item at @item, as numpy prints the scalar:
 * shortest round-trip floats, "(1+2j)", "True", ISO datetimes, text as
 * UTF-8, bytes and void as b'...'. Records print as "(1, 2.5)" and
 * subarrays as "[1, 2]". Object items print as "<object>". */
void     npv_append_item_text   (GString        *out,
                                 const NpvDType *dtype,
                                 const guint8   *item);

/* Whether items of @dtype have a value on the real line (bool, integers,
 * floats). Datetimes, complex, text and records do not. */
gboolean npv_dtype_is_real      (const NpvDType *dtype);

/* The item as a double, for npv_dtype_is_real() dtypes. */
double   npv_item_to_double     (const NpvDType *dtype,
                                 const guint8   *item);

/* Copies an item of a non-record dtype into @out (at least itemsize bytes,
 * aligned for any scalar) in this machine's byte order. */
void     npv_item_load_native   (const NpvDType *dtype,
                                 const guint8   *item,
                                 guint8         *out);

G_END_DECLS
