/* npv-json.h: the little JSON the core and the CLI write
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A JSON string; bytes that are not UTF-8 become U+FFFD. */
void npv_json_append_string (GString    *out,
                             const char *text);

/* A JSON number in round-trip precision; null for NaN, ±1e999 for ±inf
 * (valid JSON that readers such as Python's turn into infinities). */
void npv_json_append_double (GString    *out,
                             double      value);

G_END_DECLS
