/* test-core.c: the core against numpy, case by case
 *
 * The cases come from tests/gen-core-cases.py, which asks Python and numpy
 * for every expected value when the tests run. This program only compares:
 * each group is one GTest test that checks all of its cases and prints every
 * mismatch with the input, what numpy says and what the core says.
 *
 * Usage: test-core [GTest options] CASES
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "npv-array.h"
#include "npv-dtype.h"
#include "npv-error.h"
#include "npv-literal.h"
#include "npv-npy.h"
#include "npv-source.h"

/* Mismatches printed per group; the count of the rest is still reported. */
#define MAX_REPORTED 200

/* ---------------------------------------------------------------------- */
/* Cases                                                                   */

typedef struct
{
  const char *tag;         /* first field of the lines of this group */
  guint min_fields;        /* fewer is a broken cases file */
  guint min_cases;         /* fewer means the generator lost cases */
  GPtrArray *lines;        /* of GStrv, one per case */
} Group;

typedef struct
{
  const char *name;
  guint n_cases;
  guint n_failed;
} Run;

static GHashTable *groups;  /* tag -> Group */
static const char *cases_path;

static Group *
group_get (const char *tag)
{
  Group *group = g_hash_table_lookup (groups, tag);

  g_assert_nonnull (group);
  return group;
}

static void
group_free (gpointer data)
{
  Group *group = data;

  g_ptr_array_unref (group->lines);
  g_free (group);
}

static void
add_group (const char *tag,
           guint       min_fields,
           guint       min_cases)
{
  Group *group = g_new0 (Group, 1);

  group->tag = tag;
  group->min_fields = min_fields;
  group->min_cases = min_cases;
  group->lines = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_hash_table_insert (groups, (gpointer) tag, group);
}

static gboolean
load_cases (const char  *path,
            GError     **error)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, error))
    return FALSE;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char **fields;
      Group *group;

      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;
      fields = g_strsplit (lines[i], "\t", -1);
      group = g_hash_table_lookup (groups, fields[0]);
      if (group == NULL || g_strv_length (fields) < group->min_fields)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                       "%s:%u: malformed case (group “%s”, %u fields)",
                       path, i + 1, fields[0], g_strv_length (fields));
          g_strfreev (fields);
          return FALSE;
        }
      g_ptr_array_add (group->lines, fields);
    }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Decoding fields                                                         */

static int
hex_value (char c)
{
  return g_ascii_xdigit_value (c);
}

/* "-" is empty; anything else is pairs of hex digits. The result is always
 * NUL-terminated (the NUL is not counted in @len). */
static char *
unhex (const char *field,
       gsize      *len)
{
  gsize n = strlen (field);
  char *out;

  if (strcmp (field, "-") == 0)
    {
      *len = 0;
      return g_strdup ("");
    }
  if (n % 2 != 0)
    g_error ("cases file: odd hex field “%s”", field);
  out = g_malloc (n / 2 + 1);
  for (gsize i = 0; i < n / 2; i++)
    {
      int hi = hex_value (field[2 * i]), lo = hex_value (field[2 * i + 1]);

      if (hi < 0 || lo < 0)
        g_error ("cases file: bad hex field “%s”", field);
      out[i] = (char) (hi * 16 + lo);
    }
  out[n / 2] = '\0';
  *len = n / 2;
  return out;
}

static char *
unhex_str (const char *field)
{
  gsize len;

  return unhex (field, &len);
}

static gint64
parse_i64 (const char *text)
{
  gint64 value;
  g_autoptr(GError) error = NULL;

  if (!g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &value, &error))
    g_error ("cases file: bad integer “%s”: %s", text, error->message);
  return value;
}

/* "-" is an empty list; otherwise comma-separated integers. */
static guint
parse_i64_list (const char *field,
                gint64     *out,
                guint       max)
{
  g_auto(GStrv) items = NULL;
  guint n;

  if (strcmp (field, "-") == 0)
    return 0;
  items = g_strsplit (field, ",", -1);
  n = g_strv_length (items);
  if (n > max)
    g_error ("cases file: more than %u integers in “%s”", max, field);
  for (guint i = 0; i < n; i++)
    out[i] = parse_i64 (items[i]);
  return n;
}

/* "-" is an empty list; items are hex strings, "=" is the empty string and
 * "~" is None. */
static GPtrArray *
parse_str_list (const char *field)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) items = NULL;

  if (strcmp (field, "-") == 0)
    return list;
  items = g_strsplit (field, ",", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      if (strcmp (items[i], "~") == 0)
        g_ptr_array_add (list, NULL);
      else if (strcmp (items[i], "=") == 0)
        g_ptr_array_add (list, g_strdup (""));
      else
        g_ptr_array_add (list, unhex_str (items[i]));
    }
  return list;
}

/* ---------------------------------------------------------------------- */
/* Showing values                                                          */

/* @data readably and unambiguously: printable ASCII and valid UTF-8 as is,
 * everything else escaped. */
static char *
show_bytes (const char *data,
            gsize       len)
{
  GString *out = g_string_new ("“");
  const char *p = data, *end = data + len;

  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2 || c < 0x20 || c == 0x7f || c == '\\')
        {
          guchar b = (guchar) *p++;

          if (b == '\n')
            g_string_append (out, "\\n");
          else if (b == '\t')
            g_string_append (out, "\\t");
          else if (b == '\\')
            g_string_append (out, "\\\\");
          else
            g_string_append_printf (out, "\\x%02x", b);
          continue;
        }
      g_string_append_len (out, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  g_string_append (out, "”");
  return g_string_free (out, FALSE);
}

static char *
show (const char *text)
{
  return text == NULL ? g_strdup ("(null)") : show_bytes (text, strlen (text));
}

/* Long values (headers of 3000 fields) are cut around the first difference. */
static char *
show_around (const char *data,
             gsize       len,
             gsize       at)
{
  gsize from = at > 60 ? at - 60 : 0;
  gsize to = MIN (len, at + 60);
  g_autofree char *middle = show_bytes (data + from, to - from);

  if (from == 0 && to == len)
    return g_steal_pointer (&middle);
  return g_strdup_printf ("%s%s%s (%" G_GSIZE_FORMAT " bytes, difference at byte %" G_GSIZE_FORMAT ")",
                          from > 0 ? "…" : "", middle, to < len ? "…" : "", len, at);
}

static char *
show_i64s (const gint64 *values,
           guint         n)
{
  GString *out = g_string_new ("(");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (out, i > 0 ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, values[i]);
  if (n == 1)
    g_string_append_c (out, ',');
  g_string_append_c (out, ')');
  return g_string_free (out, FALSE);
}

/* ---------------------------------------------------------------------- */
/* Reporting                                                               */

G_GNUC_PRINTF (3, 4)
static void
mismatch (Run        *run,
          const char *input,
          const char *format,
          ...)
{
  g_autofree char *what = NULL;
  va_list args;

  run->n_failed++;
  if (run->n_failed > MAX_REPORTED)
    return;
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  /* Not g_printerr(): names and inputs must reach the log as UTF-8
   * whatever the locale. */
  fprintf (stderr, "MISMATCH %s: input %s: %s\n", run->name, input, what);
}

static void
run_begin (Run        *run,
           const char *name)
{
  memset (run, 0, sizeof *run);
  run->name = name;
}

static void
run_end (Run   *run,
         guint  min_cases)
{
  if (run->n_cases < min_cases)
    g_test_fail_printf ("%s: only %u cases in %s (expected at least %u): is the generator broken?",
                        run->name, run->n_cases, cases_path, min_cases);
  if (run->n_failed > MAX_REPORTED)
    fprintf (stderr, "MISMATCH %s: ... and %u more\n", run->name, run->n_failed - MAX_REPORTED);
  if (run->n_failed > 0)
    g_test_fail_printf ("%s: %u of %u cases fail", run->name, run->n_failed, run->n_cases);
  else
    g_test_message ("%s: all %u cases pass", run->name, run->n_cases);
}

/* An error as the core must report it: set, in NPV_ERROR, with a message in
 * UTF-8 (messages reach labels and terminals). Returns a description of
 * what is wrong, or NULL. */
static char *
check_error (const GError *error,
             int           code)
{
  if (error == NULL)
    return g_strdup ("failed without an error");
  if (error->domain != NPV_ERROR)
    return g_strdup_printf ("error in domain %s, not NPV_ERROR: %s",
                            g_quark_to_string (error->domain), error->message);
  if (code >= 0 && error->code != code)
    return g_strdup_printf ("error code %d, expected %d: %s", error->code, code, error->message);
  if (error->message == NULL || error->message[0] == '\0')
    return g_strdup ("empty error message");
  if (!g_utf8_validate (error->message, -1, NULL))
    {
      g_autofree char *shown = show (error->message);

      return g_strdup_printf ("error message is not valid UTF-8: %s", shown);
    }
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* Helpers over the core                                                   */

static NpvDType *
dtype_from_descr_text (const char  *text,
                       GError     **error)
{
  g_autoptr(NpvLiteral) lit = npv_literal_parse (text, strlen (text), NPV_LITERAL_PARSE_DEFAULT, error);

  if (lit == NULL)
    return NULL;
  return npv_dtype_new_from_descr (lit, error);
}

static char *
descr_repr (const NpvDType *dtype)
{
  GString *out = g_string_new (NULL);

  npv_dtype_append_descr_repr (dtype, out);
  return g_string_free (out, FALSE);
}

/* A C or Fortran array of zeros at byte 16 of its source, so that offsets
 * relative to the array are not offsets in the source. */
#define ARRAY_BASE 16

static NpvArray *
array_of_zeros (NpvDType     *dtype,
                guint         ndim,
                const gint64 *shape,
                gboolean      fortran)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(NpvSource) source = NULL;
  gsize size = dtype->itemsize;

  for (guint i = 0; i < ndim; i++)
    size *= shape[i];
  bytes = g_bytes_new_take (g_malloc0 (ARRAY_BASE + size), ARRAY_BASE + size);
  source = npv_source_new_for_bytes (bytes, "zeros");
  return npv_array_new (source, dtype, ARRAY_BASE, ndim, shape, fortran);
}

/* Compares a view with numpy's: shape, strides of the axes longer than 1
 * (numpy normalises the others), the offset of the first item when there is
 * one, and the contiguity flags. Returns what differs, or NULL. */
static char *
compare_view (const NpvArray *view,
              const NpvArray *base,
              char          **expected)  /* shape strides offset c f */
{
  gint64 shape[NPV_MAX_DIMS], strides[NPV_MAX_DIMS];
  guint ndim = parse_i64_list (expected[0], shape, NPV_MAX_DIMS);
  guint n_strides = parse_i64_list (expected[1], strides, NPV_MAX_DIMS);
  gboolean c = parse_i64 (expected[3]) != 0;
  gboolean f = parse_i64 (expected[4]) != 0;
  gint64 count = 1;
  GString *diff = g_string_new (NULL);

  g_assert_cmpuint (ndim, ==, n_strides);
  for (guint i = 0; i < ndim; i++)
    count *= shape[i];

  if (view->ndim != ndim || memcmp (view->shape, shape, ndim * sizeof (gint64)) != 0)
    {
      g_autofree char *want = show_i64s (shape, ndim);
      g_autofree char *got = show_i64s (view->shape, view->ndim);

      g_string_append_printf (diff, "; shape: expected %s, got %s", want, got);
    }
  else
    {
      gboolean same = TRUE;

      for (guint i = 0; i < ndim; i++)
        if (shape[i] > 1 && view->strides[i] != strides[i])
          same = FALSE;
      if (!same)
        {
          g_autofree char *want = show_i64s (strides, ndim);
          g_autofree char *got = show_i64s (view->strides, view->ndim);

          g_string_append_printf (diff, "; strides (of axes longer than 1): expected %s, got %s",
                                  want, got);
        }
    }
  if (view->count != count)
    g_string_append_printf (diff, "; count: expected %" G_GINT64_FORMAT ", got %" G_GINT64_FORMAT,
                            count, view->count);
  if (count > 0 && strcmp (expected[2], "-") != 0)
    {
      gint64 offset = parse_i64 (expected[2]);

      if (view->offset - base->offset != offset)
        g_string_append_printf (diff, "; offset of the first item: expected %" G_GINT64_FORMAT
                                ", got %" G_GINT64_FORMAT, offset, view->offset - base->offset);
    }
  if (npv_array_is_c_contiguous (view) != c)
    g_string_append_printf (diff, "; C-contiguous: expected %s, got %s",
                            c ? "yes" : "no", c ? "no" : "yes");
  if (npv_array_is_f_contiguous (view) != f)
    g_string_append_printf (diff, "; F-contiguous: expected %s, got %s",
                            f ? "yes" : "no", f ? "no" : "yes");
  if (diff->len == 0)
    {
      g_string_free (diff, TRUE);
      return NULL;
    }
  g_string_erase (diff, 0, 2);
  return g_string_free (diff, FALSE);
}

/* ---------------------------------------------------------------------- */
/* 1. Literals                                                             */

static void
collect_ints (const NpvLiteral *lit,
              GString          *out)
{
  if (lit->kind == NPV_LITERAL_INT)
    {
      if (out->len > 0)
        g_string_append_c (out, ',');
      if (lit->big)
        g_string_append (out, lit->integer < 0 ? "-big" : "big");
      else
        g_string_append_printf (out, "%" G_GINT64_FORMAT, lit->integer);
    }
  if (lit->items != NULL)
    for (guint i = 0; i < lit->items->len; i++)
      collect_ints (g_ptr_array_index (lit->items, i), out);
}

/* LV input flags kind repr ints */
static void
test_literal_valid (gconstpointer data)
{
  Group *group = group_get ("LV");
  Run run;

  run_begin (&run, "/literal/valid");
  for (guint i = 0; i < group->lines->len; i++)
    {
      char **f = g_ptr_array_index (group->lines, i);
      gsize len;
      g_autofree char *text = unhex (f[1], &len);
      g_autofree char *input = show_bytes (text, len);
      guint flags = (guint) parse_i64 (f[2]);
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvLiteral) lit = NULL;
      g_autoptr(GString) ints = g_string_new (NULL);
      const char *want_ints = strcmp (f[5], "-") == 0 ? "" : f[5];

      run.n_cases++;
      lit = npv_literal_parse (text, len, flags, &error);
      if (lit == NULL)
        {
          g_autofree char *want = unhex_str (f[4]);

          mismatch (&run, input, "expected %s (Python's literal_eval), got an error: %s",
                    strcmp (f[4], "-") == 0 ? f[3] : want,
                    error != NULL ? error->message : "(no error set)");
          continue;
        }
      if (error != NULL)
        mismatch (&run, input, "a result and an error: %s", error->message);

      if (strcmp (npv_literal_kind_to_string (lit->kind), f[3]) != 0)
        mismatch (&run, input, "kind: expected %s, got %s", f[3], npv_literal_kind_to_string (lit->kind));

      /* Reprs of big ints are not reproduced: those cases check the ints. */
      if (strcmp (f[4], "-") != 0)
        {
          g_autofree char *want = unhex_str (f[4]);
          g_autoptr(GString) got = g_string_new (NULL);

          npv_literal_append_repr (lit, got);
          if (strcmp (got->str, want) != 0)
            {
              g_autofree char *want_shown = show (want);
              g_autofree char *got_shown = show (got->str);

              mismatch (&run, input, "repr: expected %s, got %s", want_shown, got_shown);
            }
        }

      collect_ints (lit, ints);
      if (strcmp (ints->str, want_ints) != 0)
        mismatch (&run, input, "integers (big ones as big/-big): expected [%s], got [%s]",
                  want_ints, ints->str);
    }
  run_end (&run, group->min_cases);
}

/* LI input flags why */
static void
test_literal_invalid (gconstpointer data)
{
  Group *group = group_get ("LI");
  Run run;

  run_begin (&run, "/literal/invalid");
  for (guint i = 0; i < group->lines->len; i++)
    {
      char **f = g_ptr_array_index (group->lines, i);
      gsize len;
      g_autofree char *text = unhex (f[1], &len);
      g_autofree char *input = show_bytes (text, len);
      guint flags = (guint) parse_i64 (f[2]);
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvLiteral) lit = NULL;
      g_autoptr(NpvLiteral) lit2 = NULL;

      run.n_cases++;
      lit = npv_literal_parse (text, len, flags, &error);
      if (lit != NULL)
        {
          g_autoptr(GString) got = g_string_new (NULL);
          g_autofree char *got_shown = NULL;

          npv_literal_append_repr (lit, got);
          got_shown = show (got->str);
          mismatch (&run, input, "expected an error (%s), got the %s %s",
                    strcmp (f[3], "nesting-limit") == 0 ? "nested too deep" : "Python refuses it",
                    npv_literal_kind_to_string (lit->kind), got_shown);
          continue;
        }
      {
        g_autofree char *bad = check_error (error, -1);

        if (bad != NULL)
          mismatch (&run, input, "%s", bad);
      }
      /* The same without a GError to fill. */
      lit2 = npv_literal_parse (text, len, flags, NULL);
      if (lit2 != NULL)
        mismatch (&run, input, "refused with a GError, accepted without one");
    }
  run_end (&run, group->min_cases);
}

/* Every prefix of every literal: no crash, no leak, and an error exactly
 * when there is no result. Python answers nothing here. */
static void
test_literal_prefixes (gconstpointer data)
{
  const char *tags[] = { "LV", "LI" };
  Run run;

  run_begin (&run, "/literal/prefixes");
  for (guint t = 0; t < G_N_ELEMENTS (tags); t++)
    {
      Group *group = group_get (tags[t]);

      for (guint i = 0; i < group->lines->len; i++)
        {
          char **f = g_ptr_array_index (group->lines, i);
          gsize len;
          g_autofree char *text = unhex (f[1], &len);

          for (gsize n = 0; n < len; n++)
            {
              /* A copy of exactly n bytes, so that ASan sees any overread. */
              g_autofree char *prefix = g_memdup2 (text, MAX (n, 1));
              g_autoptr(GError) error = NULL;
              g_autoptr(NpvLiteral) lit = NULL;

              run.n_cases++;
              lit = npv_literal_parse (prefix, n, (guint) parse_i64 (f[2]), &error);
              if ((lit == NULL) == (error == NULL))
                {
                  g_autofree char *input = show_bytes (text, n);

                  mismatch (&run, input, "%s", lit == NULL ? "no result and no error"
                                                           : "a result and an error");
                }
              else if (error != NULL)
                {
                  g_autofree char *bad = check_error (error, -1);

                  if (bad != NULL)
                    {
                      g_autofree char *input = show_bytes (text, n);

                      mismatch (&run, input, "%s", bad);
                    }
                }
            }
        }
    }
  run_end (&run, 1000);
}

/* ---------------------------------------------------------------------- */
/* 2. dtypes                                                               */

/* DS spelling OK str itemsize | DS spelling ERR */
static void
test_dtype_strings (gconstpointer data)
{
  Group *group = group_get ("DS");
  Run run;

  run_begin (&run, "/dtype/strings");
  for (guint i = 0; i < group->lines->len; i++)
    {
      char **f = g_ptr_array_index (group->lines, i);
      g_autofree char *spelling = unhex_str (f[1]);
      g_autofree char *input = show (spelling);
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvDType) dtype = NULL;

      run.n_cases++;
      dtype = npv_dtype_new_from_string (spelling, &error);
      if (strcmp (f[2], "ERR") == 0)
        {
          if (dtype != NULL)
            {
              g_autofree char *got = npv_dtype_to_str (dtype);

              mismatch (&run, input, "numpy.dtype() refuses it, the core gives %s (itemsize %"
                        G_GSIZE_FORMAT ")", got, dtype->itemsize);
            }
          else
            {
              g_autofree char *bad = check_error (error, -1);

              if (bad != NULL)
                mismatch (&run, input, "%s", bad);
            }
          continue;
        }

      g_assert_cmpuint (g_strv_length (f), >=, 5);
      {
        g_autofree char *want = unhex_str (f[3]);
        gint64 want_size = parse_i64 (f[4]);
        g_autofree char *got = NULL;

        if (dtype == NULL)
          {
            mismatch (&run, input, "expected %s (itemsize %" G_GINT64_FORMAT "), got an error: %s",
                      want, want_size, error != NULL ? error->message : "(no error set)");
            continue;
          }
        got = npv_dtype_to_str (dtype);
        if (strcmp (got, want) != 0 || (gint64) dtype->itemsize != want_size)
          mismatch (&run, input, "expected %s (itemsize %" G_GINT64_FORMAT "), got %s (itemsize %"
                    G_GSIZE_FORMAT ")", want, want_size, got, dtype->itemsize);
      }
    }
  run_end (&run, group->min_cases);
}

static char *
show_str_list (GPtrArray *list)
{
  GString *out = g_string_new ("[");

  for (guint i = 0; i < list->len; i++)
    {
      g_autofree char *item = show (g_ptr_array_index (list, i));

      g_string_append (out, i > 0 ? ", " : "");
      g_string_append (out, item);
    }
  g_string_append_c (out, ']');
  return g_string_free (out, FALSE);
}

/* DR descr repr itemsize n_fields names titles offsets */
static void
test_dtype_descr (gconstpointer data)
{
  Group *group = group_get ("DR");
  Run run;

  run_begin (&run, "/dtype/descr");
  for (guint i = 0; i < group->lines->len; i++)
    {
      char **f = g_ptr_array_index (group->lines, i);
      g_autofree char *text = unhex_str (f[1]);
      g_autofree char *input = show (text);
      g_autofree char *want_repr = unhex_str (f[2]);
      gint64 want_size = parse_i64 (f[3]);
      guint want_n = (guint) parse_i64 (f[4]);
      g_autoptr(GPtrArray) want_names = parse_str_list (f[5]);
      g_autoptr(GPtrArray) want_titles = parse_str_list (f[6]);
      gint64 want_offsets[4096];
      guint n_offsets;
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvDType) dtype = NULL;
      g_autofree char *got_repr = NULL;

      run.n_cases++;
      n_offsets = parse_i64_list (f[7], want_offsets, G_N_ELEMENTS (want_offsets));
      g_assert_cmpuint (want_names->len, ==, want_n);
      g_assert_cmpuint (want_titles->len, ==, want_n);
      g_assert_cmpuint (n_offsets, ==, want_n);

      dtype = dtype_from_descr_text (text, &error);
      if (dtype == NULL)
        {
          g_autofree char *want_shown = show (want_repr);

          mismatch (&run, input, "expected %s, got an error: %s", want_shown,
                    error != NULL ? error->message : "(no error set)");
          continue;
        }

      got_repr = descr_repr (dtype);
      if (strcmp (got_repr, want_repr) != 0)
        {
          g_autofree char *want_shown = show (want_repr);
          g_autofree char *got_shown = show (got_repr);

          mismatch (&run, input, "descr: expected %s, got %s", want_shown, got_shown);
        }
      if ((gint64) dtype->itemsize != want_size)
        mismatch (&run, input, "itemsize: expected %" G_GINT64_FORMAT ", got %" G_GSIZE_FORMAT,
                  want_size, dtype->itemsize);

      {
        guint got_n = dtype->kind == NPV_KIND_STRUCT ? dtype->n_fields : 0;
        g_autoptr(GPtrArray) got_names = g_ptr_array_new ();
        g_autoptr(GPtrArray) got_titles = g_ptr_array_new ();
        gboolean same = got_n == want_n;

        for (guint k = 0; k < got_n; k++)
          {
            g_ptr_array_add (got_names, dtype->fields[k].name);
            g_ptr_array_add (got_titles, dtype->fields[k].title);
          }
        for (guint k = 0; same && k < want_n; k++)
          if (g_strcmp0 (g_ptr_array_index (got_names, k), g_ptr_array_index (want_names, k)) != 0 ||
              g_strcmp0 (g_ptr_array_index (got_titles, k), g_ptr_array_index (want_titles, k)) != 0 ||
              (gint64) dtype->fields[k].offset != want_offsets[k])
            same = FALSE;
        if (!same)
          {
            g_autofree char *wn = show_str_list (want_names);
            g_autofree char *gn = show_str_list (got_names);
            g_autofree char *wt = show_str_list (want_titles);
            g_autofree char *gt = show_str_list (got_titles);
            g_autofree char *wo = show_i64s (want_offsets, want_n);
            gint64 got_offsets[4096];
            g_autofree char *go = NULL;

            for (guint k = 0; k < MIN (got_n, G_N_ELEMENTS (got_offsets)); k++)
              got_offsets[k] = dtype->fields[k].offset;
            go = show_i64s (got_offsets, MIN (got_n, G_N_ELEMENTS (got_offsets)));
            mismatch (&run, input, "fields: expected names %s titles %s offsets %s, "
                      "got names %s titles %s offsets %s", wn, wt, wo, gn, gt, go);
          }
      }
    }
  run_end (&run, group->min_cases);
}

/* DRE descr */
static void
test_dtype_descr_invalid (gconstpointer data)
{
  Group *group = group_get ("DRE");
  Run run;

  run_begin (&run, "/dtype/descr-invalid");
  for (guint i = 0; i < group->lines->len; i++)
    {
      char **f = g_ptr_array_index (group->lines, i);
      g_autofree char *text = unhex_str (f[1]);
      g_autofree char *input = show (text);
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvLiteral) lit = NULL;
      g_autoptr(NpvDType) dtype = NULL;

      run.n_cases++;
      lit = npv_literal_parse (text, strlen (text), NPV_LITERAL_PARSE_DEFAULT, &error);
      if (lit == NULL)
        {
          mismatch (&run, input, "the descr is a valid literal, the core refuses it: %s",
                    error != NULL ? error->message : "(no error set)");
          continue;
        }
      dtype = npv_dtype_new_from_descr (lit, &error);
      if (dtype != NULL)
        {
          g_autofree char *got = descr_repr (dtype);
          g_autofree char *got_shown = show (got);

          mismatch (&run, input, "numpy's descr_to_dtype() refuses it, the core gives %s", got_shown);
        }
      else
        {
          g_autofree char *bad = check_error (error, -1);

          if (bad != NULL)
            mismatch (&run, input, "%s", bad);
        }
    }
  run_end (&run, group->min_cases);
}

/* ---------------------------------------------------------------------- */
/* 3. Headers                                                              */

static char *
compare_parsed_header (const NpvNpyHeader *h,
                       const char         *want_descr,
                       const gint64       *shape,
                       guint               ndim,
                       gboolean            fortran,
                       guint               major,
                       guint64             data_offset)
{
  GString *diff = g_string_new (NULL);
  g_autofree char *got_descr = descr_repr (h->dtype);
  gint64 count = 1;

  for (guint i = 0; i < ndim; i++)
    count *= shape[i];

  if (strcmp (got_descr, want_descr) != 0)
    {
      g_autofree char *w = show (want_descr);
      g_autofree char *g = show (got_descr);

      g_string_append_printf (diff, "; descr: expected %s, got %s", w, g);
    }
  if (h->ndim != ndim || memcmp (h->shape, shape, ndim * sizeof (gint64)) != 0)
    {
      g_autofree char *w = show_i64s (shape, ndim);
      g_autofree char *g = show_i64s (h->shape, h->ndim);

      g_string_append_printf (diff, "; shape: expected %s, got %s", w, g);
    }
  if (h->fortran_order != fortran)
    g_string_append_printf (diff, "; fortran_order: expected %s, got %s",
                            fortran ? "True" : "False", h->fortran_order ? "True" : "False");
  if (h->major != major || h->minor != 0)
    g_string_append_printf (diff, "; version: expected %u.0, got %u.%u", major, h->major, h->minor);
  if (h->data_offset != data_offset)
    g_string_append_printf (diff, "; data offset: expected %" G_GUINT64_FORMAT ", got %"
                            G_GUINT64_FORMAT, data_offset, h->data_offset);
  if ((gint64) h->count != count)
    g_string_append_printf (diff, "; count: expected %" G_GINT64_FORMAT ", got %" G_GUINT64_FORMAT,
                            count, h->count);
  if (diff->len == 0)
    {
      g_string_free (diff, TRUE);
      return NULL;
    }
  g_string_erase (diff, 0, 2);
  return g_string_free (diff, FALSE);
}

/* HB descr shape fortran header major OK|TOO_LARGE */
static void
test_header_build (gconstpointer data)
{
  Group *group = group_get ("HB");
  Run run;

  run_begin (&run, "/header/build");
  for (guint i = 0; i < group->lines->len; i++)
    {
      char **f = g_ptr_array_index (group->lines, i);
      g_autofree char *descr = unhex_str (f[1]);
      gint64 shape[NPV_MAX_DIMS];
      guint ndim = parse_i64_list (f[2], shape, NPV_MAX_DIMS);
      gboolean fortran = parse_i64 (f[3]) != 0;
      gsize want_len;
      g_autofree char *want = unhex (f[4], &want_len);
      guint major = (guint) parse_i64 (f[5]);
      gboolean readable = strcmp (f[6], "OK") == 0;
      g_autofree char *shape_shown = show_i64s (shape, ndim);
      g_autofree char *descr_shown = NULL;
      g_autofree char *input = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvDType) dtype = NULL;
      g_autoptr(GBytes) built = NULL;
      NpvNpyHeader h;
      const char *got;
      gsize got_len;

      run.n_cases++;
      descr_shown = show_around (descr, strlen (descr), 0);
      input = g_strdup_printf ("descr %s, shape %s, fortran_order %s", descr_shown, shape_shown,
                               fortran ? "True" : "False");

      dtype = dtype_from_descr_text (descr, &error);
      if (dtype == NULL)
        {
          mismatch (&run, input, "the core cannot read numpy's descr: %s",
                    error != NULL ? error->message : "(no error set)");
          continue;
        }

      built = npv_npy_header_build (dtype, ndim, shape, fortran);
      got = g_bytes_get_data (built, &got_len);
      if (got_len != want_len || memcmp (got, want, want_len) != 0)
        {
          gsize at = 0;
          g_autofree char *w = NULL;
          g_autofree char *g = NULL;

          while (at < MIN (got_len, want_len) && got[at] == want[at])
            at++;
          w = show_around (want, want_len, at);
          g = show_around (got, got_len, at);
          mismatch (&run, input, "header: expected %s, got %s", w, g);
        }

      /* numpy's bytes read back. */
      if (!npv_npy_header_parse (&h, (const guint8 *) want, want_len, "numpy-header", &error))
        {
          if (readable)
            mismatch (&run, input, "the core cannot read numpy's header back: %s",
                      error != NULL ? error->message : "(no error set)");
          else if (error == NULL || error->domain != NPV_ERROR || error->code != NPV_ERROR_TOO_LARGE)
            mismatch (&run, input, "the data cannot fit in a file: expected NPV_ERROR_TOO_LARGE, got %s",
                      error != NULL ? error->message : "(no error set)");
          continue;
        }
      if (!readable)
        {
          mismatch (&run, input, "the data cannot fit in a file (more than 2**63 - 1 bytes), "
                    "the core reads the header without an error");
          npv_npy_header_clear (&h);
          continue;
        }
      {
        g_autofree char *diff = compare_parsed_header (&h, descr, shape, ndim, fortran, major, want_len);

        if (diff != NULL)
          mismatch (&run, input, "reading numpy's header back: %s", diff);
      }
      npv_npy_header_clear (&h);
    }
  run_end (&run, group->min_cases);
}

/* HP bytes OK descr shape fortran major offset | HP bytes ERR */
static void
test_header_parse (gconstpointer data)
{
  Group *group = group_get ("HP");
  Run run;

  run_begin (&run, "/header/parse");
  for (guint i = 0; i < group->lines->len; i++)
    {
      char **f = g_ptr_array_index (group->lines, i);
      gsize len;
      g_autofree char *bytes = unhex (f[1], &len);
      g_autofree char *input = show_around (bytes, len, 0);
      /* An exact copy, so that ASan sees any read past the end. */
      g_autofree guint8 *copy = g_memdup2 (bytes, MAX (len, 1));
      g_autoptr(GError) error = NULL;
      NpvNpyHeader h;
      gboolean ok;

      run.n_cases++;
      ok = npv_npy_header_parse (&h, copy, len, "case", &error);
      if (strcmp (f[2], "ERR") == 0)
        {
          if (ok)
            {
              g_autofree char *got = descr_repr (h.dtype);
              g_autofree char *got_shape = show_i64s (h.shape, h.ndim);

              mismatch (&run, input, "numpy refuses the header, the core reads descr %s shape %s",
                        got, got_shape);
              npv_npy_header_clear (&h);
            }
          else
            {
              g_autofree char *bad = check_error (error, -1);

              if (bad != NULL)
                mismatch (&run, input, "%s", bad);
            }
          continue;
        }

      g_assert_cmpuint (g_strv_length (f), >=, 8);
      if (!ok)
        {
          mismatch (&run, input, "numpy reads the header, the core refuses it: %s",
                    error != NULL ? error->message : "(no error set)");
          continue;
        }
      {
        g_autofree char *want_descr = unhex_str (f[3]);
        gint64 shape[NPV_MAX_DIMS];
        guint ndim = parse_i64_list (f[4], shape, NPV_MAX_DIMS);
        g_autofree char *diff = compare_parsed_header (&h, want_descr, shape, ndim,
                                                       parse_i64 (f[5]) != 0,
                                                       (guint) parse_i64 (f[6]),
                                                       (guint64) parse_i64 (f[7]));

        if (diff != NULL)
          mismatch (&run, input, "%s", diff);
      }
      npv_npy_header_clear (&h);
    }
  run_end (&run, group->min_cases);
}

/* ---------------------------------------------------------------------- */
/* 4. Index expressions                                                    */

static char *
index_input (const char   *dtype,
             const gint64 *shape,
             guint         ndim,
             const char   *order,
             const char   *expr)
{
  g_autofree char *shape_shown = show_i64s (shape, ndim);
  g_autofree char *expr_shown = show (expr);

  return g_strdup_printf ("a[%s] for a = np.ndarray(%s, '%s', order='%s')",
                          expr_shown, shape_shown, dtype, order);
}

typedef enum {
  CHAIN_OK,
  CHAIN_PARSE_FAILED,
  CHAIN_APPLY_FAILED,
} ChainResult;

/* Applies "a][b][c" as array[a][b][c]: each part parsed, then applied. */
static ChainResult
apply_chain (NpvArray    *array,
             const char  *expr,
             NpvArray   **result,
             GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (expr, "][", -1);
  g_autoptr(NpvArray) current = npv_array_ref (array);

  *result = NULL;
  for (guint i = 0; parts[i] != NULL; i++)
    {
      NpvIndex index;
      NpvArray *next;

      if (!npv_index_parse (parts[i], &index, error))
        return CHAIN_PARSE_FAILED;
      next = npv_array_apply_index (current, &index, error);
      if (next == NULL)
        return CHAIN_APPLY_FAILED;
      npv_array_unref (current);
      current = next;
    }
  *result = g_steal_pointer (&current);
  return CHAIN_OK;
}

/* IX dtype shape order expr shape strides offset c f */
static void
test_index_numpy (gconstpointer data)
{
  Group *group = group_get ("IX");
  Run run;

  run_begin (&run, "/index/numpy");
  for (guint i = 0; i < group->lines->len; i++)
    {
      char **f = g_ptr_array_index (group->lines, i);
      g_autofree char *dtype_str = unhex_str (f[1]);
      gint64 shape[NPV_MAX_DIMS];
      guint ndim = parse_i64_list (f[2], shape, NPV_MAX_DIMS);
      g_autofree char *expr = unhex_str (f[4]);
      g_autofree char *input = index_input (dtype_str, shape, ndim, f[3], expr);
      gint64 result_shape[NPV_MAX_DIMS];
      guint result_ndim = parse_i64_list (f[5], result_shape, NPV_MAX_DIMS);
      g_autofree char *want_shape = show_i64s (result_shape, result_ndim);
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvDType) dtype = NULL;
      g_autoptr(NpvArray) array = NULL;
      g_autoptr(NpvArray) view = NULL;

      run.n_cases++;
      dtype = npv_dtype_new_from_string (dtype_str, &error);
      g_assert_no_error (error);
      array = array_of_zeros (dtype, ndim, shape, strcmp (f[3], "F") == 0);

      switch (apply_chain (array, expr, &view, &error))
        {
        case CHAIN_PARSE_FAILED:
          mismatch (&run, input, "numpy gives shape %s, npv_index_parse() fails: %s",
                    want_shape, error != NULL ? error->message : "(no error set)");
          continue;
        case CHAIN_APPLY_FAILED:
          mismatch (&run, input, "numpy gives shape %s, npv_array_apply_index() fails: %s",
                    want_shape, error != NULL ? error->message : "(no error set)");
          continue;
        case CHAIN_OK:
        default:
          break;
        }
      {
        g_autofree char *diff = compare_view (view, array, f + 5);

        if (diff != NULL)
          mismatch (&run, input, "%s", diff);
      }
    }
  run_end (&run, group->min_cases);
}

/* IXE dtype shape order expr parse|apply|any */
static void
test_index_errors (gconstpointer data)
{
  Group *group = group_get ("IXE");
  Run run;

  run_begin (&run, "/index/errors");
  for (guint i = 0; i < group->lines->len; i++)
    {
      char **f = g_ptr_array_index (group->lines, i);
      g_autofree char *dtype_str = unhex_str (f[1]);
      gint64 shape[NPV_MAX_DIMS];
      guint ndim = parse_i64_list (f[2], shape, NPV_MAX_DIMS);
      g_autofree char *expr = unhex_str (f[4]);
      g_autofree char *input = index_input (dtype_str, shape, ndim, f[3], expr);
      const char *where = f[5];
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvDType) dtype = NULL;
      g_autoptr(NpvArray) array = NULL;
      g_autoptr(NpvArray) view = NULL;
      ChainResult result;

      run.n_cases++;
      dtype = npv_dtype_new_from_string (dtype_str, &error);
      g_assert_no_error (error);
      array = array_of_zeros (dtype, ndim, shape, strcmp (f[3], "F") == 0);

      result = apply_chain (array, expr, &view, &error);
      if (result == CHAIN_PARSE_FAILED)
        {
          g_autofree char *bad = check_error (error, NPV_ERROR_INVALID_ARGUMENT);

          if (strcmp (where, "apply") == 0)
            mismatch (&run, input, "numpy raises IndexError, so the index must parse and "
                      "npv_array_apply_index() fail; npv_index_parse() fails: %s",
                      error != NULL ? error->message : "(no error set)");
          else if (bad != NULL)
            mismatch (&run, input, "%s", bad);
          continue;
        }
      if (strcmp (where, "parse") == 0)
        {
          mismatch (&run, input, "a syntax error (numpy refuses it too), npv_index_parse() accepts it");
          continue;
        }
      if (result == CHAIN_OK)
        {
          g_autofree char *got = show_i64s (view->shape, view->ndim);

          mismatch (&run, input, "numpy raises IndexError, the core gives shape %s", got);
          continue;
        }
      {
        g_autofree char *bad = check_error (error, NPV_ERROR_INVALID_ARGUMENT);

        if (bad != NULL)
          mismatch (&run, input, "%s", bad);
      }
    }
  run_end (&run, group->min_cases);
}

/* ---------------------------------------------------------------------- */
/* 5. Fields                                                               */

/* Applies @expr ("-" for none) to *@array, replacing it. */
static gboolean
apply_index_text (NpvArray  **array,
                  const char *expr,
                  GError    **error)
{
  NpvIndex index;
  NpvArray *view;

  if (strcmp (expr, "-") == 0)
    return TRUE;
  if (!npv_index_parse (expr, &index, error))
    return FALSE;
  view = npv_array_apply_index (*array, &index, error);
  if (view == NULL)
    return FALSE;
  npv_array_unref (*array);
  *array = view;
  return TRUE;
}

/* FS descr shape order pre path post OK descr shape strides offset c f
 * FS descr shape order pre path post ERR */
static void
test_field_numpy (gconstpointer data)
{
  Group *group = group_get ("FS");
  Run run;

  run_begin (&run, "/field/numpy");
  for (guint i = 0; i < group->lines->len; i++)
    {
      char **f = g_ptr_array_index (group->lines, i);
      g_autofree char *descr = unhex_str (f[1]);
      gint64 shape[NPV_MAX_DIMS];
      guint ndim = parse_i64_list (f[2], shape, NPV_MAX_DIMS);
      g_autofree char *pre = strcmp (f[4], "-") == 0 ? g_strdup ("-") : unhex_str (f[4]);
      g_autofree char *path = unhex_str (f[5]);
      g_autofree char *post = strcmp (f[6], "-") == 0 ? g_strdup ("-") : unhex_str (f[6]);
      g_autofree char *input = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvDType) dtype = NULL;
      g_autoptr(NpvArray) array = NULL;
      g_autoptr(NpvArray) start = NULL;
      g_autoptr(NpvArray) view = NULL;

      run.n_cases++;
      {
        g_autofree char *descr_shown = show (descr);
        g_autofree char *path_shown = show (path);
        g_autofree char *shape_shown = show_i64s (shape, ndim);
        g_autofree char *pre_shown = g_strdup_printf ("[%s]", pre);
        g_autofree char *post_shown = g_strdup_printf (", then [%s]", post);

        input = g_strdup_printf ("a%s, field %s%s, for a = np.ndarray(%s, descr_to_dtype(%s), order='%s')",
                                 strcmp (pre, "-") == 0 ? "" : pre_shown, path_shown,
                                 strcmp (post, "-") == 0 ? "" : post_shown,
                                 shape_shown, descr_shown, f[3]);
      }
      dtype = dtype_from_descr_text (descr, &error);
      if (dtype == NULL)
        {
          mismatch (&run, input, "the core cannot read the descr: %s",
                    error != NULL ? error->message : "(no error set)");
          continue;
        }
      array = array_of_zeros (dtype, ndim, shape, strcmp (f[3], "F") == 0);
      start = npv_array_ref (array);
      if (!apply_index_text (&start, pre, &error))
        {
          mismatch (&run, input, "numpy can index the record array, the core fails: %s",
                    error != NULL ? error->message : "(no error set)");
          continue;
        }
      view = npv_array_select_field (start, path, &error);
      if (view != NULL && !apply_index_text (&view, post, &error))
        {
          mismatch (&run, input, "numpy can index the field, the core fails: %s",
                    error != NULL ? error->message : "(no error set)");
          continue;
        }

      if (strcmp (f[7], "ERR") == 0)
        {
          if (view != NULL)
            {
              g_autofree char *got = descr_repr (view->dtype);
              g_autofree char *got_shape = show_i64s (view->shape, view->ndim);

              mismatch (&run, input, "numpy has no such field, the core gives %s with shape %s",
                        got, got_shape);
            }
          else
            {
              g_autofree char *bad = check_error (error, NPV_ERROR_INVALID_ARGUMENT);

              if (bad != NULL)
                mismatch (&run, input, "%s", bad);
            }
          continue;
        }

      g_assert_cmpuint (g_strv_length (f), >=, 14);
      {
        g_autofree char *want_descr = unhex_str (f[8]);
        g_autofree char *got_descr = NULL;
        g_autofree char *diff = NULL;

        if (view == NULL)
          {
            gint64 result_shape[NPV_MAX_DIMS];
            guint result_ndim = parse_i64_list (f[9], result_shape, NPV_MAX_DIMS);
            g_autofree char *want_shape = show_i64s (result_shape, result_ndim);

            mismatch (&run, input, "numpy gives %s with shape %s, the core fails: %s",
                      want_descr, want_shape, error != NULL ? error->message : "(no error set)");
            continue;
          }
        got_descr = descr_repr (view->dtype);
        if (strcmp (got_descr, want_descr) != 0)
          {
            g_autofree char *w = show (want_descr);
            g_autofree char *g = show (got_descr);

            mismatch (&run, input, "dtype: expected %s, got %s", w, g);
          }
        diff = compare_view (view, array, f + 9);
        if (diff != NULL)
          mismatch (&run, input, "%s", diff);
      }
    }
  run_end (&run, group->min_cases);
}

/* ---------------------------------------------------------------------- */

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char **args = g_new0 (char *, argc + 2);
  int n_args = 0;
  int status;

  /* Every group runs and reports even when an earlier one fails. */
  args[n_args++] = argv[0];
  args[n_args++] = (char *) "--keep-going";
  for (int i = 1; i < argc; i++)
    args[n_args++] = argv[i];
  argv = args;
  argc = n_args;

  g_test_init (&argc, &argv, NULL);

  if (argc < 2)
    {
      g_printerr ("usage: %s [GTest options] CASES (written by tests/gen-core-cases.py)\n", argv[0]);
      return 1;
    }
  cases_path = argv[1];

  groups = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, group_free);
  /* tag, fields at least, cases at least */
  add_group ("LV", 6, 50);
  add_group ("LI", 4, 50);
  add_group ("DS", 3, 100);
  add_group ("DR", 8, 20);
  add_group ("DRE", 2, 10);
  add_group ("HB", 7, 100);
  add_group ("HP", 3, 20);
  add_group ("IX", 10, 500);
  add_group ("IXE", 6, 50);
  add_group ("FS", 8, 100);

  if (!load_cases (cases_path, &error))
    {
      g_printerr ("%s: cannot load the cases: %s\n", argv[0], error->message);
      g_hash_table_unref (groups);
      return 1;
    }

  g_test_add_data_func ("/literal/valid", NULL, test_literal_valid);
  g_test_add_data_func ("/literal/invalid", NULL, test_literal_invalid);
  g_test_add_data_func ("/literal/prefixes", NULL, test_literal_prefixes);
  g_test_add_data_func ("/dtype/strings", NULL, test_dtype_strings);
  g_test_add_data_func ("/dtype/descr", NULL, test_dtype_descr);
  g_test_add_data_func ("/dtype/descr-invalid", NULL, test_dtype_descr_invalid);
  g_test_add_data_func ("/header/build", NULL, test_header_build);
  g_test_add_data_func ("/header/parse", NULL, test_header_parse);
  g_test_add_data_func ("/index/numpy", NULL, test_index_numpy);
  g_test_add_data_func ("/index/errors", NULL, test_index_errors);
  g_test_add_data_func ("/field/numpy", NULL, test_field_numpy);

  status = g_test_run ();
  g_hash_table_unref (groups);
  return status;
}
