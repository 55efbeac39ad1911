/* npv-format.h: the text of one scalar value, the way numpy prints it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Big enough for any text the number formatters below produce. */
#define NPV_FORMAT_NUMBER_MAX 64

typedef enum {
  NPV_TIME_UNIT_GENERIC = 0,
  NPV_TIME_UNIT_Y,
  NPV_TIME_UNIT_M,
  NPV_TIME_UNIT_W,
  NPV_TIME_UNIT_D,
  NPV_TIME_UNIT_h,
  NPV_TIME_UNIT_m,
  NPV_TIME_UNIT_s,
  NPV_TIME_UNIT_ms,
  NPV_TIME_UNIT_us,
  NPV_TIME_UNIT_ns,
  NPV_TIME_UNIT_ps,
  NPV_TIME_UNIT_fs,
  NPV_TIME_UNIT_as,
  NPV_TIME_UNIT_COUNT
} NpvTimeUnit;

/* Each number formatter writes a NUL-terminated string of at most
 * NPV_FORMAT_NUMBER_MAX bytes into @buf and returns its length. The text is
 * what numpy's repr() of the scalar prints: the shortest digits that round-trip
 * in the value's own precision, positional for 1e-4 <= |x| < 1e16 (and 0),
 * scientific otherwise ("0.1", "1.0", "1e-07", "1e+16", "nan", "-inf", "-0.0").
 */
int npv_format_double      (double       value,
                            char        *buf);
int npv_format_float       (float        value,
                            char        *buf);
int npv_format_half        (guint16      bits,
                            char        *buf);
int npv_format_long_double (long double  value,
                            char        *buf);

/* Complex numbers like numpy's repr: "(1+2j)", "1j", "(-0+1j)", "(nan-infj)".
 * Each part is printed in the precision of its kind. */
int npv_format_complex_double      (double       re,
                                    double       im,
                                    char        *buf);
int npv_format_complex_float       (float        re,
                                    float        im,
                                    char        *buf);
int npv_format_complex_long_double (long double  re,
                                    long double  im,
                                    char        *buf);

/* Half precision bits to double (exact). */
double npv_half_to_double (guint16 bits);

/* datetime64 as numpy's str() prints it: ISO 8601 in the precision of the
 * unit ("2024-01-02T03:04:05", "2024-01", "1970-01-01T00:00:00.000000000"),
 * "NaT" for G_MININT64. Weeks print as days. @multiplier scales @value
 * ([10s] has multiplier 10). */
void npv_format_datetime  (GString     *out,
                           gint64       value,
                           NpvTimeUnit  unit,
                           gint64       multiplier);

/* timedelta64 as numpy's str() prints it: "5 seconds", "50 seconds", "NaT". */
void npv_format_timedelta (GString     *out,
                           gint64       value,
                           NpvTimeUnit  unit,
                           gint64       multiplier);

/* Unit names as numpy spells them in dtype strings ("s", "ms", "" for generic). */
const char *npv_time_unit_to_string   (NpvTimeUnit  unit);
gboolean    npv_time_unit_from_string (const char  *text,
                                       gsize        len,
                                       NpvTimeUnit *unit);

/* @len bytes as Python's repr of a bytes object: b'ab\x00\n' (trailing NUL
 * bytes stripped first, as numpy does for S dtypes when @strip_nuls). With
 * @all_hex every byte is written \xNN (numpy's repr of void scalars). */
void npv_format_bytes     (GString      *out,
                           const guint8 *data,
                           gsize         len,
                           gboolean      strip_nuls,
                           gboolean      all_hex);

/* @n_chars UCS-4 code units (already in host byte order) as UTF-8, trailing
 * NULs stripped. Invalid code points become U+FFFD. */
void npv_format_ucs4      (GString       *out,
                           const guint32 *chars,
                           gsize          n_chars);

G_END_DECLS
