/* npv-pyrecord.h: records with object fields, rebuilt from their pickle
 *
 * numpy pickles an array whose record dtype holds Python objects as one
 * tuple per record, each field as numpy's getitem gives it (Python ints,
 * floats, str, bytes, datetime objects, arrays for subarray fields, and the
 * objects themselves). This packs them back into items of the dtype, with
 * the object fields indexing a table, so that everything else can read
 * them as plain records.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "npv-dtype.h"
#include "npv-pyobject.h"

G_BEGIN_DECLS

/* @array is an NDARRAY with elements (npv_py_ndarray_has_elements());
 * @dtype is npv_dtype_with_object_table() of its dtype with @objects, to
 * which the objects are appended. Returns count * itemsize bytes in C
 * order, or %NULL with NPV_ERROR_FORMAT naming @where when an element
 * does not fit its field. */
GBytes *npv_py_records_pack (const NpvPyObject  *array,
                             const NpvDType     *dtype,
                             GPtrArray          *objects,
                             const char         *where,
                             GError            **error);

G_END_DECLS
