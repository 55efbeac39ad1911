/* npv-error.h: the core's error domain
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NPV_ERROR (npv_error_quark ())

/* Codes a user can act on. Messages always name the file and say what was
 * expected and what was found. */
typedef enum {
  NPV_ERROR_FAILED,
  NPV_ERROR_IO,               /* the file cannot be opened, read or written */
  NPV_ERROR_FORMAT,           /* the bytes are not what the format requires */
  NPV_ERROR_TRUNCATED,        /* fewer bytes than the header promises */
  NPV_ERROR_UNSUPPORTED,      /* valid, but this version cannot show it */
  NPV_ERROR_TOO_LARGE,        /* sizes overflow or exceed what is present */
  NPV_ERROR_INVALID_ARGUMENT, /* an expression, field or member the user gave */
  NPV_ERROR_EXISTS,           /* an export target exists and may not be replaced */
} NpvError;

GQuark npv_error_quark (void);

G_END_DECLS
