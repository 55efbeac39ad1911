/* npv-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "npv-error.h"

G_DEFINE_QUARK (npv-error-quark, npv_error)
