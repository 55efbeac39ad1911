/* test-format.c: npv-format against what numpy prints
 *
 * Usage: test-format [GTEST-OPTIONS] CASES
 *
 * CASES (or $NPV_FORMAT_CASES) is the file gen-format-cases.py writes from
 * numpy; its header describes the format. Each kind of case is one test,
 * which fails if any case differs. A few behaviours numpy has no answer for
 * (generic datetimes, invalid code points, multipliers numpy cannot store)
 * are checked here directly.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "npv-format.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Enough to see a pattern; more would bury it. */
#define MAX_REPORTED 20

#if LDBL_MANT_DIG == 64 && LDBL_MAX_EXP == 16384 && G_BYTE_ORDER == G_LITTLE_ENDIAN
#define HAVE_X87_LONG_DOUBLE 1
#endif

typedef struct
{
  guint line;
  char *input;
  char *expected;
} Case;

/* Formats @input; returns %NULL if the input itself is malformed. */
typedef char *(*FormatFunc) (const char *input);

typedef struct
{
  const char *kind;
  const char *description;
  FormatFunc format;
  gboolean needs_x87;
  GPtrArray *cases;
} Group;

static guint n_reported;

static void
case_free (gpointer data)
{
  Case *c = data;

  g_free (c->input);
  g_free (c->expected);
  g_free (c);
}

/* {{{ Parsing inputs */

static gboolean
parse_hex_bytes (const char  *hex,
                 GByteArray **out)
{
  gsize len = strlen (hex);
  gsize i;

  if (len % 2 != 0)
    return FALSE;

  *out = g_byte_array_sized_new (len / 2);
  for (i = 0; i < len; i += 2)
    {
      int hi = g_ascii_xdigit_value (hex[i]);
      int lo = g_ascii_xdigit_value (hex[i + 1]);
      guint8 byte;

      if (hi < 0 || lo < 0)
        {
          g_byte_array_unref (*out);
          *out = NULL;
          return FALSE;
        }
      byte = (guint8) (hi << 4 | lo);
      g_byte_array_append (*out, &byte, 1);
    }
  return TRUE;
}

static gboolean
parse_hex_u64 (const char *hex,
               gsize       n_digits,
               guint64    *out)
{
  gsize i;

  if (strlen (hex) != n_digits)
    return FALSE;
  *out = 0;
  for (i = 0; i < n_digits; i++)
    {
      int digit = g_ascii_xdigit_value (hex[i]);

      if (digit < 0)
        return FALSE;
      *out = *out << 4 | (guint64) digit;
    }
  return TRUE;
}

static gboolean
parse_float (const char *hex,
             float      *out)
{
  guint64 bits;
  guint32 bits32;

  if (!parse_hex_u64 (hex, 8, &bits))
    return FALSE;
  bits32 = (guint32) bits;
  memcpy (out, &bits32, sizeof *out);
  return TRUE;
}

static gboolean
parse_double (const char *hex,
              double     *out)
{
  guint64 bits;

  if (!parse_hex_u64 (hex, 16, &bits))
    return FALSE;
  memcpy (out, &bits, sizeof *out);
  return TRUE;
}

static gboolean
parse_long_double (const char  *hex,
                   long double *out)
{
#ifdef HAVE_X87_LONG_DOUBLE
  guint64 sign_exponent, mantissa;
  guint16 sign_exponent16;
  guint8 bytes[sizeof (long double)] = { 0 };
  char head[5];

  if (strlen (hex) != 20)
    return FALSE;
  memcpy (head, hex, 4);
  head[4] = '\0';
  if (!parse_hex_u64 (head, 4, &sign_exponent) || !parse_hex_u64 (hex + 4, 16, &mantissa))
    return FALSE;
  sign_exponent16 = (guint16) sign_exponent;
  memcpy (bytes, &mantissa, 8);
  memcpy (bytes + 8, &sign_exponent16, 2);
  memcpy (out, bytes, sizeof *out);
  return TRUE;
#else
  return FALSE;
#endif
}

/* Splits "RE,IM". */
static gboolean
split_pair (const char  *input,
            char       **re,
            char       **im)
{
  const char *comma = strchr (input, ',');

  if (comma == NULL)
    return FALSE;
  *re = g_strndup (input, comma - input);
  *im = g_strdup (comma + 1);
  return TRUE;
}

/* }}} */

/* {{{ Formatting each kind */

/* The number formatters write into exactly NPV_FORMAT_NUMBER_MAX heap bytes,
 * so that AddressSanitizer catches a longer text. */
static char *
check_number_text (char *buf,
                   int   len)
{
  if (len < 0 || len >= NPV_FORMAT_NUMBER_MAX || (gsize) len != strlen (buf))
    {
      char *text = g_strdup_printf ("<returned length %d for \"%s\">", len, buf);

      g_free (buf);
      return text;
    }
  return buf;
}

static char *
format_f16 (const char *input)
{
  guint64 bits;
  char *buf;

  if (!parse_hex_u64 (input, 4, &bits))
    return NULL;
  buf = g_malloc (NPV_FORMAT_NUMBER_MAX);
  return check_number_text (buf, npv_format_half ((guint16) bits, buf));
}

static char *
format_f32 (const char *input)
{
  float value;
  char *buf;

  if (!parse_float (input, &value))
    return NULL;
  buf = g_malloc (NPV_FORMAT_NUMBER_MAX);
  return check_number_text (buf, npv_format_float (value, buf));
}

static char *
format_f64 (const char *input)
{
  double value;
  char *buf;

  if (!parse_double (input, &value))
    return NULL;
  buf = g_malloc (NPV_FORMAT_NUMBER_MAX);
  return check_number_text (buf, npv_format_double (value, buf));
}

static char *
format_f80 (const char *input)
{
  long double value;
  char *buf;

  if (!parse_long_double (input, &value))
    return NULL;
  buf = g_malloc (NPV_FORMAT_NUMBER_MAX);
  return check_number_text (buf, npv_format_long_double (value, buf));
}

static char *
format_c64 (const char *input)
{
  g_autofree char *re_hex = NULL;
  g_autofree char *im_hex = NULL;
  float re, im;
  char *buf;

  if (!split_pair (input, &re_hex, &im_hex) ||
      !parse_float (re_hex, &re) || !parse_float (im_hex, &im))
    return NULL;
  buf = g_malloc (NPV_FORMAT_NUMBER_MAX);
  return check_number_text (buf, npv_format_complex_float (re, im, buf));
}

static char *
format_c128 (const char *input)
{
  g_autofree char *re_hex = NULL;
  g_autofree char *im_hex = NULL;
  double re, im;
  char *buf;

  if (!split_pair (input, &re_hex, &im_hex) ||
      !parse_double (re_hex, &re) || !parse_double (im_hex, &im))
    return NULL;
  buf = g_malloc (NPV_FORMAT_NUMBER_MAX);
  return check_number_text (buf, npv_format_complex_double (re, im, buf));
}

static char *
format_c256 (const char *input)
{
  g_autofree char *re_hex = NULL;
  g_autofree char *im_hex = NULL;
  long double re, im;
  char *buf;

  if (!split_pair (input, &re_hex, &im_hex) ||
      !parse_long_double (re_hex, &re) || !parse_long_double (im_hex, &im))
    return NULL;
  buf = g_malloc (NPV_FORMAT_NUMBER_MAX);
  return check_number_text (buf, npv_format_complex_long_double (re, im, buf));
}

/* "UNIT,MULTIPLIER,VALUE" */
static gboolean
parse_time (const char  *input,
            NpvTimeUnit *unit,
            gint64      *multiplier,
            gint64      *value)
{
  g_auto(GStrv) fields = g_strsplit (input, ",", -1);

  if (g_strv_length (fields) != 3)
    return FALSE;
  if (!npv_time_unit_from_string (fields[0], strlen (fields[0]), unit))
    return FALSE;
  return g_ascii_string_to_signed (fields[1], 10, G_MININT64, G_MAXINT64, multiplier, NULL) &&
         g_ascii_string_to_signed (fields[2], 10, G_MININT64, G_MAXINT64, value, NULL);
}

static char *
format_m8_upper (const char *input)
{
  NpvTimeUnit unit;
  gint64 multiplier, value;
  GString *out;

  if (!parse_time (input, &unit, &multiplier, &value))
    return NULL;
  out = g_string_new ("");
  npv_format_datetime (out, value, unit, multiplier);
  return g_string_free (out, FALSE);
}

static char *
format_m8_lower (const char *input)
{
  NpvTimeUnit unit;
  gint64 multiplier, value;
  GString *out;

  if (!parse_time (input, &unit, &multiplier, &value))
    return NULL;
  out = g_string_new ("");
  npv_format_timedelta (out, value, unit, multiplier);
  return g_string_free (out, FALSE);
}

static char *
format_bytes_common (const char *input,
                     gboolean    is_void)
{
  g_autoptr(GByteArray) bytes = NULL;
  GString *out;

  if (!parse_hex_bytes (input, &bytes))
    return NULL;
  out = g_string_new ("");
  npv_format_bytes (out, bytes->data, bytes->len, !is_void, is_void);
  return g_string_free (out, FALSE);
}

static char *
format_s (const char *input)
{
  return format_bytes_common (input, FALSE);
}

static char *
format_v (const char *input)
{
  return format_bytes_common (input, TRUE);
}

/* Returns the UTF-8 as hex, like the expected text of these cases. */
static char *
format_u (const char *input)
{
  g_autoptr(GByteArray) bytes = NULL;
  g_autofree guint32 *chars = NULL;
  g_autoptr(GString) out = g_string_new ("");
  GString *hex;
  gsize i, n_chars;

  if (!parse_hex_bytes (input, &bytes) || bytes->len % 4 != 0)
    return NULL;
  n_chars = bytes->len / 4;
  chars = g_new (guint32, MAX (n_chars, 1));
  for (i = 0; i < n_chars; i++)
    {
      guint32 le;

      memcpy (&le, bytes->data + 4 * i, 4);
      chars[i] = GUINT32_FROM_LE (le);
    }

  npv_format_ucs4 (out, chars, n_chars);

  hex = g_string_new ("");
  for (i = 0; i < out->len; i++)
    g_string_append_printf (hex, "%02x", (guint8) out->str[i]);
  return g_string_free (hex, FALSE);
}

/* numpy's name for the unit, or "!" if numpy refuses the spelling. */
static char *
format_unit (const char *input)
{
  NpvTimeUnit unit;
  const char *name;

  if (!npv_time_unit_from_string (input, strlen (input), &unit))
    return g_strdup ("!");
  name = npv_time_unit_to_string (unit);
  /* numpy's datetime_data() says "generic" where dtype strings say nothing. */
  return g_strdup (unit == NPV_TIME_UNIT_GENERIC && *name == '\0' ? "generic" : name);
}

/* }}} */

static Group groups[] = {
  { "f16", "float16 repr (every bit pattern)", format_f16, FALSE, NULL },
  { "f32", "float32 repr", format_f32, FALSE, NULL },
  { "f64", "float64 repr", format_f64, FALSE, NULL },
  { "f80", "long double repr", format_f80, TRUE, NULL },
  { "c64", "complex64 repr", format_c64, FALSE, NULL },
  { "c128", "complex128 repr", format_c128, FALSE, NULL },
  { "c256", "clongdouble repr", format_c256, TRUE, NULL },
  { "M8", "datetime64 str", format_m8_upper, FALSE, NULL },
  { "m8", "timedelta64 str", format_m8_lower, FALSE, NULL },
  { "S", "bytes repr", format_s, FALSE, NULL },
  { "V", "void str", format_v, FALSE, NULL },
  { "U", "unicode as UTF-8", format_u, FALSE, NULL },
  { "unit", "time unit names", format_unit, FALSE, NULL },
};

static Group *
find_group (const char *kind)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (groups); i++)
    {
      if (strcmp (groups[i].kind, kind) == 0)
        return &groups[i];
    }
  return NULL;
}

static gboolean
load_cases (const char  *path,
            GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length;
  const char *pos, *end;
  guint line_number = 0;
  gsize i;

  if (!g_file_get_contents (path, &contents, &length, error))
    return FALSE;

  for (i = 0; i < G_N_ELEMENTS (groups); i++)
    groups[i].cases = g_ptr_array_new_with_free_func (case_free);

  /* Line by line with memchr(): g_strsplit() on the whole file would be
   * quadratic under AddressSanitizer, whose strstr() checks the rest of the
   * string on every call. */
  for (pos = contents, end = contents + length; pos < end; )
    {
      const char *newline = memchr (pos, '\n', end - pos);
      g_autofree char *line = g_strndup (pos, (newline != NULL ? newline : end) - pos);
      g_auto(GStrv) fields = NULL;
      Group *group;
      Case *c;

      pos = newline != NULL ? newline + 1 : end;
      line_number++;
      if (line[0] == '\0' || line[0] == '#')
        continue;

      fields = g_strsplit (line, "\t", 3);
      if (g_strv_length (fields) != 3)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                       "%s:%u: expected three tab-separated fields", path, line_number);
          return FALSE;
        }
      group = find_group (fields[0]);
      if (group == NULL)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                       "%s:%u: unknown kind \"%s\"", path, line_number, fields[0]);
          return FALSE;
        }

      c = g_new0 (Case, 1);
      c->line = line_number;
      c->input = g_strdup (fields[1]);
      c->expected = g_strdup (fields[2]);
      g_ptr_array_add (group->cases, c);
    }

  return TRUE;
}

static void
test_group (gconstpointer data)
{
  const Group *group = data;
  guint n_failed = 0;
  guint i;

  if (group->needs_x87)
    {
#ifndef HAVE_X87_LONG_DOUBLE
      g_test_skip ("long double is not the x87 80-bit format here");
      return;
#endif
    }
  if (group->cases->len == 0)
    {
      g_test_fail_printf ("the cases file has no \"%s\" cases", group->kind);
      return;
    }

  for (i = 0; i < group->cases->len; i++)
    {
      const Case *c = g_ptr_array_index (group->cases, i);
      g_autofree char *actual = group->format (c->input);

      if (actual != NULL && strcmp (actual, c->expected) == 0)
        continue;

      n_failed++;
      if (n_reported < MAX_REPORTED)
        {
          n_reported++;
          if (actual == NULL)
            g_test_message ("line %u: %s %s: malformed input", c->line, group->kind, c->input);
          else
            g_test_message ("line %u: %s %s: numpy \"%s\", we \"%s\"",
                            c->line, group->kind, c->input, c->expected, actual);
        }
      else if (n_reported == MAX_REPORTED)
        {
          n_reported++;
          g_test_message ("(further differences not shown)");
        }
    }

  if (n_failed > 0)
    g_test_fail_printf ("%u of %u %s cases differ from numpy",
                        n_failed, group->cases->len, group->description);
}

/* {{{ What numpy cannot tell us */

static char *
datetime_text (gint64      value,
               NpvTimeUnit unit,
               gint64      multiplier)
{
  GString *out = g_string_new ("");

  npv_format_datetime (out, value, unit, multiplier);
  return g_string_free (out, FALSE);
}

static char *
timedelta_text (gint64      value,
                NpvTimeUnit unit,
                gint64      multiplier)
{
  GString *out = g_string_new ("");

  npv_format_timedelta (out, value, unit, multiplier);
  return g_string_free (out, FALSE);
}

static void
test_generic_datetime (void)
{
  g_autofree char *nat = datetime_text (G_MININT64, NPV_TIME_UNIT_GENERIC, 1);
  g_autofree char *five = datetime_text (5, NPV_TIME_UNIT_GENERIC, 1);
  g_autofree char *negative = datetime_text (-7, NPV_TIME_UNIT_GENERIC, 3);

  /* numpy raises for generic datetimes other than NaT; we show the number. */
  g_assert_cmpstr (nat, ==, "NaT");
  g_assert_cmpstr (five, ==, "5");
  g_assert_cmpstr (negative, ==, "-7");
}

/* Multipliers numpy cannot even store (its is a C int) must not trip
 * -fsanitize=undefined, and wrap like numpy's int64 arithmetic does. */
static void
test_multiplier_overflow (void)
{
  static const gint64 values[] = {
    0, 1, -1, 2, -2, 1000, G_MAXINT64, G_MININT64 + 1, G_MAXINT64 / 7, G_MININT64 / 7,
  };
  static const gint64 multipliers[] = {
    1, 0, -1, 7, G_MAXINT32, (gint64) G_MAXINT32 + 1, G_MAXINT64, G_MININT64,
    G_MININT64 + 1, G_MAXINT64 / 3,
  };
  gsize i, j;
  int unit;

  for (unit = 0; unit < NPV_TIME_UNIT_COUNT; unit++)
    {
      for (i = 0; i < G_N_ELEMENTS (values); i++)
        {
          for (j = 0; j < G_N_ELEMENTS (multipliers); j++)
            {
              g_autofree char *dt = datetime_text (values[i], unit, multipliers[j]);
              g_autofree char *td = timedelta_text (values[i], unit, multipliers[j]);
              g_autofree char *expected_number =
                g_strdup_printf ("%" G_GINT64_FORMAT,
                                 (gint64) ((guint64) values[i] * (guint64) multipliers[j]));

              g_assert_true (dt[0] != '\0');
              g_assert_true (g_str_has_prefix (td, expected_number));
              g_assert_true (td[strlen (expected_number)] == ' ');
            }
        }
    }

  {
    g_autofree char *wrapped = timedelta_text (G_MAXINT64, NPV_TIME_UNIT_s, 2);
    g_autofree char *nat = timedelta_text (G_MININT64, NPV_TIME_UNIT_s, 2);

    g_assert_cmpstr (wrapped, ==, "-2 seconds");
    g_assert_cmpstr (nat, ==, "NaT");
  }
}

static void
test_ucs4_invalid (void)
{
  static const guint32 chars[] = { 'a', 0xd800, 0xdfff, 0x110000, 0xffffffff, 0, 'b', 0, 0 };
  g_autoptr(GString) out = g_string_new ("");

  npv_format_ucs4 (out, chars, G_N_ELEMENTS (chars));
  /* Invalid code points become U+FFFD, an inner NUL stays, trailing ones go. */
  g_assert_cmpmem (out->str, out->len,
                   "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\0b", 15);

  g_string_truncate (out, 0);
  npv_format_ucs4 (out, chars + 5, 0);
  g_assert_cmpuint (out->len, ==, 0);
}

static void
test_unit_names (void)
{
  int unit;

  for (unit = 0; unit < NPV_TIME_UNIT_COUNT; unit++)
    {
      const char *name = npv_time_unit_to_string (unit);
      NpvTimeUnit parsed;

      g_assert_nonnull (name);
      g_assert_true (npv_time_unit_from_string (name, strlen (name), &parsed));
      g_assert_cmpint (parsed, ==, unit);
    }

  {
    NpvTimeUnit parsed = NPV_TIME_UNIT_Y;

    /* Lengths are honoured: "msx" cut to two bytes is "ms". */
    g_assert_true (npv_time_unit_from_string ("msx", 2, &parsed));
    g_assert_cmpint (parsed, ==, NPV_TIME_UNIT_ms);
    g_assert_true (npv_time_unit_from_string (NULL, 0, &parsed));
    g_assert_cmpint (parsed, ==, NPV_TIME_UNIT_GENERIC);
  }
}

static void
test_half_to_double (void)
{
  g_assert_cmpfloat (npv_half_to_double (0x3c00), ==, 1.0);
  g_assert_cmpfloat (npv_half_to_double (0xc000), ==, -2.0);
  g_assert_cmpfloat (npv_half_to_double (0x7bff), ==, 65504.0);
  g_assert_cmpfloat (npv_half_to_double (0x0001), ==, ldexp (1.0, -24));
  g_assert_cmpfloat (npv_half_to_double (0x03ff), ==, ldexp (1023.0, -24));
  g_assert_cmpfloat (npv_half_to_double (0x0400), ==, ldexp (1.0, -14));
  g_assert_cmpfloat (npv_half_to_double (0xfc00), ==, -INFINITY);
  g_assert_true (isnan (npv_half_to_double (0x7e00)));
  g_assert_true (signbit (npv_half_to_double (0x8000)));
}

static void
test_long_double_unnormal (void)
{
#ifdef HAVE_X87_LONG_DOUBLE
  long double value;
  char buf[NPV_FORMAT_NUMBER_MAX];

  /* An unnormal 2^-14: numpy prints "0.00006103515625", because the x87
   * compares it as unordered; we apply the ordinary threshold. */
  g_assert_true (parse_long_double ("3ff10000000000000000", &value));
  npv_format_long_double (value, buf);
  g_assert_cmpstr (buf, ==, "6.103515625e-05");
#else
  g_test_skip ("long double is not the x87 80-bit format here");
#endif
}

/* The longest texts must fit NPV_FORMAT_NUMBER_MAX. */
static void
test_longest (void)
{
  char buf[NPV_FORMAT_NUMBER_MAX];
  long double tiny = -LDBL_TRUE_MIN * 3;
  long double big = -LDBL_MAX;
  long double third = -1.0L / 3 * 1e-4L * 1.5L;
  int len;

  len = npv_format_complex_long_double (nextafterl (tiny, 0), nextafterl (big, 0), buf);
  g_assert_cmpint (len, <, NPV_FORMAT_NUMBER_MAX);
  len = npv_format_complex_long_double (third, third, buf);
  g_assert_cmpint (len, <, NPV_FORMAT_NUMBER_MAX);
  len = npv_format_complex_long_double (-1.2345678901234567891e-300L, -1.2345678901234567891e-3000L, buf);
  g_assert_cmpint (len, ==, (int) strlen (buf));
  g_assert_cmpint (len, <, NPV_FORMAT_NUMBER_MAX);
  len = npv_format_complex_double (-DBL_TRUE_MIN * 3, -1.2345678901234567e-100, buf);
  g_assert_cmpint (len, <, NPV_FORMAT_NUMBER_MAX);
}

/* }}} */

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  const char *path;
  gsize i;
  int status;

  g_test_init (&argc, &argv, NULL);

  path = argc > 1 ? argv[1] : g_getenv ("NPV_FORMAT_CASES");
  if (path == NULL)
    {
      g_printerr ("usage: %s [GTEST-OPTIONS] CASES (or set NPV_FORMAT_CASES)\n"
                  "CASES is written by tests/gen-format-cases.py\n", argv[0]);
      return 1;
    }
  if (!load_cases (path, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  for (i = 0; i < G_N_ELEMENTS (groups); i++)
    {
      g_autofree char *name = g_strdup_printf ("/format/numpy/%s", groups[i].kind);

      g_test_add_data_func (name, &groups[i], test_group);
    }
  g_test_add_func ("/format/generic-datetime", test_generic_datetime);
  g_test_add_func ("/format/multiplier-overflow", test_multiplier_overflow);
  g_test_add_func ("/format/ucs4-invalid", test_ucs4_invalid);
  g_test_add_func ("/format/unit-names", test_unit_names);
  g_test_add_func ("/format/half-to-double", test_half_to_double);
  g_test_add_func ("/format/long-double-unnormal", test_long_double_unnormal);
  g_test_add_func ("/format/longest", test_longest);

  status = g_test_run ();

  for (i = 0; i < G_N_ELEMENTS (groups); i++)
    g_clear_pointer (&groups[i].cases, g_ptr_array_unref);
  return status;
}
