/* npv-examples.h: arrays made in memory, so a newcomer sees something real
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A 256 x 256 float64 field of smooth waves with a few NaNs, as the bytes
 * of an .npy file. */
GBytes *npv_example_smooth_field (void);

G_END_DECLS
