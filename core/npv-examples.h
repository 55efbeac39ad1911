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

/* The examples as one uncompressed .npz archive in memory, as np.savez
 * would write it: a smooth 2-D field with NaNs ("field"), a 3-D stack
 * ("stack"), an RGB image ("image"), a complex field ("complex"), records
 * with a datetime field ("records"), a long 1-D signal ("signal"), and a
 * small tree of members ("experiment/run-1/..."). */
GBytes *npv_example_archive      (void);


G_END_DECLS
