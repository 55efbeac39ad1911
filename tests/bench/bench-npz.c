/* bench-npz.c: times windows of rows read from an .npz member through the core
 *
 * The inflate index of a compressed member lives in its NpvFile, so the
 * command-line tool cannot show what reads cost once it exists: this
 * driver does the work in one process and prints its timings as JSON on
 * stdout, for bench_npz.py to set against numpy.
 *
 *   bench-npz [--index] [--rows R1,R2,...] [--window N] --expect FILE NPZ
 *
 * It opens NPZ (timed: open_us, from npv_file_open to the member's
 * lookup), builds the member's inflate index when asked (index_us), then
 * reads each window of N rows starting at the rows given (window_us, one
 * time each). Every window is read through an NpvArray made for it alone,
 * so no window is served from the inflated blocks cached for another.
 * The bytes read are compared with FILE, the windows numpy gave
 * concatenated in the same order: a mismatch is an error, exit status 1.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "npv-array.h"
#include "npv-error.h"
#include "npv-file.h"
#include "npv-source.h"

typedef struct
{
  const char *path;
  const char *member;
  const char *expect_path;
  gboolean build_index;
  gint64 window;
  GArray *rows;           /* of gint64 */
} Options;

typedef struct
{
  gint64 open_us;
  gint64 index_us;        /* -1: not built */
  GArray *window_us;      /* of gint64 */
} Timings;

static gboolean
parse_rows (const char  *text,
            GArray      *rows,
            GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      guint64 row;

      if (!g_ascii_string_to_unsigned (g_strstrip (parts[i]), 10, 0, G_MAXINT64, &row, error))
        return FALSE;
      g_array_append_val (rows, row);
    }
  return TRUE;
}

/* Rows [@first, @first + opts->window) of @member, through an array of its
 * own, into @out. */
static gboolean
read_window (NpvFile         *file,
             const NpvMember *member,
             gint64           first,
             gint64           window,
             guint8          *out,
             GError         **error)
{
  g_autoptr(NpvArray) array = npv_file_open_array (file, member, error);
  gint64 row_bytes;

  if (array == NULL)
    return FALSE;
  if (array->ndim < 1 || !npv_array_is_c_contiguous (array))
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "member “%s” is not a C-contiguous array of at least one dimension",
                   member->name);
      return FALSE;
    }
  if (first < 0 || window > array->shape[0] || first > array->shape[0] - window)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "rows %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " are outside the %"
                   G_GINT64_FORMAT " rows of member “%s”",
                   first, first + window - 1, array->shape[0], member->name);
      return FALSE;
    }
  row_bytes = array->strides[0];
  return npv_source_read (array->source, array->offset + first * row_bytes, out,
                          window * row_bytes, error);
}

/* The size in bytes of a window of @window rows of @member. */
static gsize
window_bytes (const NpvMember *member,
              gint64           window)
{
  const NpvNpyHeader *header = &member->header;

  if (header->ndim < 1 || header->shape[0] == 0)
    return 0;
  return window * (header->nbytes / header->shape[0]);
}

static gboolean
run (const Options  *opts,
     Timings        *timings,
     GError        **error)
{
  g_autoptr(NpvFile) file = NULL;
  g_autofree char *expected = NULL;
  g_autofree guint8 *buffer = NULL;
  const NpvMember *member;
  gsize expected_len;
  gsize bytes;
  gint64 start;

  /* Read before the clock starts: it is numpy's answer, not our work. */
  if (!g_file_get_contents (opts->expect_path, &expected, &expected_len, error))
    return FALSE;

  start = g_get_monotonic_time ();
  file = npv_file_open (opts->path, error);
  if (file == NULL)
    return FALSE;
  member = npv_file_lookup_member (file, opts->member, error);
  if (member == NULL)
    return FALSE;
  timings->open_us = g_get_monotonic_time () - start;

  if (member->kind != NPV_MEMBER_ARRAY)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "%s: member “%s” is not an array", opts->path, opts->member);
      return FALSE;
    }
  bytes = window_bytes (member, opts->window);
  if (expected_len != bytes * opts->rows->len)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "%s holds %" G_GSIZE_FORMAT " bytes, expected %u windows of %" G_GSIZE_FORMAT,
                   opts->expect_path, expected_len, opts->rows->len, bytes);
      return FALSE;
    }

  timings->index_us = -1;
  if (opts->build_index)
    {
      start = g_get_monotonic_time ();
      if (!npv_file_build_index (file, member, NULL, NULL, NULL, error))
        return FALSE;
      timings->index_us = g_get_monotonic_time () - start;
    }

  buffer = g_malloc (bytes);
  for (guint i = 0; i < opts->rows->len; i++)
    {
      gint64 first = g_array_index (opts->rows, gint64, i);
      gint64 elapsed;

      memset (buffer, 0xa5, bytes);
      start = g_get_monotonic_time ();
      if (!read_window (file, member, first, opts->window, buffer, error))
        return FALSE;
      elapsed = g_get_monotonic_time () - start;
      g_array_append_val (timings->window_us, elapsed);

      if (memcmp (buffer, expected + i * bytes, bytes) != 0)
        {
          g_set_error (error, NPV_ERROR, NPV_ERROR_FAILED,
                       "%s: rows %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                       " of member “%s” differ from numpy's",
                       opts->path, first, first + opts->window - 1, opts->member);
          return FALSE;
        }
    }
  return TRUE;
}

static void
print_json (const Options *opts,
            const Timings *timings)
{
  g_autoptr(GString) out = g_string_new ("{");

  g_string_append_printf (out, "\"window\": %" G_GINT64_FORMAT, opts->window);
  g_string_append_printf (out, ", \"open_us\": %" G_GINT64_FORMAT, timings->open_us);
  if (timings->index_us >= 0)
    g_string_append_printf (out, ", \"index_us\": %" G_GINT64_FORMAT, timings->index_us);
  g_string_append (out, ", \"window_us\": [");
  for (guint i = 0; i < timings->window_us->len; i++)
    g_string_append_printf (out, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "",
                            g_array_index (timings->window_us, gint64, i));
  g_string_append (out, "]}\n");
  fputs (out->str, stdout);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) window_us = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *member = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *rows_text = NULL;
  gboolean build_index = FALSE;
  gint window = 16;
  Options opts = { 0 };
  Timings timings = { 0 };
  const GOptionEntry entries[] = {
    { "member", 'm', 0, G_OPTION_ARG_STRING, &member, "The member to read (default: a)", "NAME" },
    { "index", 'i', 0, G_OPTION_ARG_NONE, &build_index, "Build the inflate index first", NULL },
    { "rows", 'r', 0, G_OPTION_ARG_STRING, &rows_text,
      "First rows of the windows, comma-separated (default: 0)", "R1,R2,..." },
    { "window", 'w', 0, G_OPTION_ARG_INT, &window, "Rows per window (default: 16)", "N" },
    { "expect", 'e', 0, G_OPTION_ARG_FILENAME, &expect,
      "numpy's bytes of all the windows, in order", "FILE" },
    { NULL }
  };

  context = g_option_context_new ("NPZ - time windows of an .npz member");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-npz: %s\n", error->message);
      return 2;
    }
  if (argc != 2 || expect == NULL || window < 1)
    {
      g_printerr ("bench-npz: expected one NPZ file, --expect FILE and a --window of at least 1\n");
      return 2;
    }
  if (!parse_rows (rows_text != NULL ? rows_text : "0", rows, &error))
    {
      g_printerr ("bench-npz: --rows: %s\n", error->message);
      return 2;
    }

  opts.path = argv[1];
  opts.member = member != NULL ? member : "a";
  opts.expect_path = expect;
  opts.build_index = build_index;
  opts.window = window;
  opts.rows = rows;
  timings.window_us = window_us;

  if (!run (&opts, &timings, &error))
    {
      g_printerr ("bench-npz: %s\n", error->message);
      return 1;
    }
  print_json (&opts, &timings);
  return 0;
}
