/* npyview-cli.c: the headless twin of npyview
 *
 * Exit status: 0 on success, 1 when a file or its data is the problem (one
 * line on stderr naming the file), 2 when the command line is.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npyview-cli"

#include "config.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "npv-array.h"
#include "npv-error.h"
#include "npv-export.h"
#include "npv-file.h"
#include "npv-format.h"
#include "npv-json.h"
#include "npv-print.h"
#include "npv-stats.h"

#define EXIT_DATA 1
#define EXIT_USAGE 2

/* Options shared by the commands; each command offers those it uses. */
static char *opt_member;
static char *opt_slice;
static char *opt_field;
static char *opt_output;
static char *opt_format;
static gboolean opt_json;
static gboolean opt_force;
static gboolean opt_full;
static int opt_threads;
static char *opt_encoding;

static const GOptionEntry member_entries[] = {
  { "member", 'm', 0, G_OPTION_ARG_STRING, &opt_member, "The member of an archive (x or x.npy)", "NAME" },
  { "encoding", 0, 0, G_OPTION_ARG_STRING, &opt_encoding,
    "Python 2 strings in object arrays: bytes (default) or latin1", "ENC" },
  { NULL }
};

static const GOptionEntry select_entries[] = {
  { "slice", 's', 0, G_OPTION_ARG_STRING, &opt_slice, "A numpy index such as '3, ::2, -1'", "EXPR" },
  { "field", 'f', 0, G_OPTION_ARG_STRING, &opt_field, "A field of a record dtype (nested: a.b)", "NAME" },
  { NULL }
};

static const GOptionEntry json_entries[] = {
  { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
  { NULL }
};

static const GOptionEntry show_entries[] = {
  { "full", 0, 0, G_OPTION_ARG_NONE, &opt_full, "Print every item, without “...”", NULL },
  { NULL }
};

static const GOptionEntry export_entries[] = {
  { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output, "Where to write (- for standard output)", "OUT" },
  { "format", 0, 0, G_OPTION_ARG_STRING, &opt_format, "npy, csv or tsv (default: from OUT’s extension)", "FORMAT" },
  { "force", 0, 0, G_OPTION_ARG_NONE, &opt_force, "Replace OUT if it exists", NULL },
  { NULL }
};

static const GOptionEntry stats_entries[] = {
  { "threads", 0, 0, G_OPTION_ARG_INT, &opt_threads, "Worker threads (default: one per processor)", "N" },
  { NULL }
};

G_GNUC_PRINTF (2, 3)
static int
fail (int         status,
      const char *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  /* One line, always. */
  for (char *p = message; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  fprintf (stderr, "npyview-cli: %s\n", message);
  return status;
}

/* Core messages about a file start with its path; others get it added. */
static int
fail_for_file (const char   *path,
               const GError *error)
{
  if (g_str_has_prefix (error->message, path))
    return fail (EXIT_DATA, "%s", error->message);
  return fail (EXIT_DATA, "%s: %s", path, error->message);
}

static void
print_stdout (const GString *text)
{
  fwrite (text->str, 1, text->len, stdout);
}

/* (3, 4) as numpy prints a shape, or [3, 4] for JSON. */
static void
append_shape (GString      *out,
              guint         ndim,
              const gint64 *shape,
              gboolean      json)
{
  g_string_append_c (out, json ? '[' : '(');
  for (guint i = 0; i < ndim; i++)
    g_string_append_printf (out, i > 0 ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, shape[i]);
  if (ndim == 1 && !json)
    g_string_append_c (out, ',');
  g_string_append_c (out, json ? ']' : ')');
}

static NpvFileFlags
file_flags (void)
{
  return g_strcmp0 (opt_encoding, "latin1") == 0 ? NPV_FILE_FLAGS_LATIN1 : NPV_FILE_FLAGS_NONE;
}

static void
append_member_json (GString         *out,
                    const NpvMember *member)
{
  const NpvNpyHeader *h = &member->header;

  g_string_append (out, "{\"name\": ");
  npv_json_append_string (out, member->name);
  if (member->path[0] != '\0')
    {
      g_string_append (out, ", \"path\": ");
      npv_json_append_string (out, member->path);
    }
  g_string_append_printf (out, ", \"storage\": \"%s\"", npv_storage_to_string (member->storage));
  g_string_append_printf (out, ", \"size\": %" G_GUINT64_FORMAT ", \"compressed_size\": %"
                          G_GUINT64_FORMAT, member->size, member->compressed_size);

  if (member->kind == NPV_MEMBER_RAW)
    {
      g_string_append (out, ", \"kind\": \"raw\"}");
      return;
    }
  if (member->kind == NPV_MEMBER_BROKEN)
    {
      g_string_append (out, ", \"kind\": \"broken\", \"error\": ");
      npv_json_append_string (out, member->error->message);
      g_string_append_c (out, '}');
      return;
    }

  {
    g_autofree char *name = npv_dtype_describe (h->dtype);

    g_string_append (out, ", \"kind\": \"array\", \"dtype\": ");
    npv_dtype_append_descr_json (h->dtype, out);
    g_string_append (out, ", \"shape\": ");
    append_shape (out, h->ndim, h->shape, TRUE);
    g_string_append_printf (out, ", \"fortran_order\": %s", h->fortran_order ? "true" : "false");
    /* Members of pickle files have no .npy header. */
    if (h->major != 0)
      g_string_append_printf (out, ", \"version\": \"%u.%u\"", h->major, h->minor);
    else
      g_string_append (out, ", \"version\": null");
    /* Absolute in the file where the bytes are there as they are. */
    if (!member->in_place)
      g_string_append (out, ", \"data_offset\": null");
    else
      g_string_append_printf (out, ", \"data_offset\": %" G_GUINT64_FORMAT,
                              member->offset + h->data_offset);
    g_string_append_printf (out, ", \"nbytes\": %" G_GUINT64_FORMAT, h->nbytes);
    g_string_append_printf (out, ", \"itemsize\": %" G_GSIZE_FORMAT, h->dtype->itemsize);
    g_string_append (out, ", \"description\": ");
    npv_json_append_string (out, name);
    g_string_append_c (out, '}');
  }
}

/* The member tree: nodes with a name, a path, the member they show (if
 * any) and their children (if any). */
static void
append_tree_json (GString       *out,
                  const NpvNode *node)
{
  g_string_append_c (out, '[');
  for (guint i = 0; node->children != NULL && i < node->children->len; i++)
    {
      const NpvNode *child = g_ptr_array_index (node->children, i);

      g_string_append (out, i > 0 ? ", {\"name\": " : "{\"name\": ");
      npv_json_append_string (out, child->name);
      g_string_append (out, ", \"path\": ");
      npv_json_append_string (out, child->path);
      if (child->member != NULL)
        {
          g_string_append (out, ", \"member\": ");
          npv_json_append_string (out, child->member->name);
        }
      if (child->children != NULL)
        {
          g_string_append (out, ", \"children\": ");
          append_tree_json (out, child);
        }
      g_string_append_c (out, '}');
    }
  g_string_append_c (out, ']');
}

static void
append_member_text (GString         *out,
                    const NpvMember *member)
{
  const NpvNpyHeader *h = &member->header;

  if (member->path[0] != '\0')
    g_string_append_printf (out, "%s\n", member->name);
  if (member->kind == NPV_MEMBER_RAW)
    {
      g_string_append_printf (out, "  not an array: %s, %" G_GUINT64_FORMAT " bytes\n",
                              member->path, member->size);
      return;
    }
  if (member->kind == NPV_MEMBER_BROKEN)
    {
      g_string_append_printf (out, "  cannot be read: %s\n", member->error->message);
      return;
    }

  {
    g_autofree char *words = npv_dtype_describe (h->dtype);
    g_autofree char *str = npv_dtype_to_str (h->dtype);
    g_autofree char *bytes = g_format_size_full (h->nbytes, G_FORMAT_SIZE_IEC_UNITS);

    g_string_append_printf (out, "  dtype        %s (%s)\n", words, str);
    g_string_append (out, "  shape        ");
    append_shape (out, h->ndim, h->shape, FALSE);
    g_string_append_printf (out, "\n  order        %s\n", h->fortran_order ? "Fortran" : "C");
    g_string_append_printf (out, "  item size    %" G_GSIZE_FORMAT " bytes\n", h->dtype->itemsize);
    g_string_append_printf (out, "  total        %" G_GUINT64_FORMAT " bytes (%s)\n", h->nbytes, bytes);
    g_string_append_printf (out, "  storage      %s", npv_storage_to_string (member->storage));
    if (member->storage == NPV_STORAGE_DEFLATE && member->size > 0)
      g_string_append_printf (out, " (%.1f%% of %" G_GUINT64_FORMAT " bytes)",
                              100.0 * member->compressed_size / member->size, member->size);
    g_string_append_c (out, '\n');
    if (h->major != 0)
      g_string_append_printf (out, "  version      %u.%u\n", h->major, h->minor);
    if (member->in_place)
      g_string_append_printf (out, "  data offset  %" G_GUINT64_FORMAT "\n", member->offset + h->data_offset);
  }
}

static int
cmd_info (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvFile) file = npv_file_open_full (path, file_flags (), &error);
  g_autoptr(GString) out = g_string_new (NULL);
  guint n;

  if (file == NULL)
    return fail_for_file (path, error);
  n = npv_file_get_n_members (file);

  if (opt_member != NULL)
    {
      if (npv_file_lookup_member (file, opt_member, &error) == NULL)
        return fail_for_file (path, error);
    }

  if (opt_json)
    {
      g_string_append (out, "{\"path\": ");
      npv_json_append_string (out, path);
      g_string_append_printf (out, ", \"format\": \"%s\", \"size\": %" G_GUINT64_FORMAT
                              ", \"members\": [",
                              npv_file_format_to_string (npv_file_get_format (file)),
                              npv_file_get_size (file));
      for (guint i = 0; i < n; i++)
        {
          const NpvMember *member = npv_file_get_member (file, i);

          if (opt_member != NULL && npv_file_lookup_member (file, opt_member, NULL) != member)
            continue;
          if (out->str[out->len - 1] != '[')
            g_string_append (out, ", ");
          append_member_json (out, member);
        }
      g_string_append (out, "], \"tree\": ");
      append_tree_json (out, npv_file_get_tree (file));
      g_string_append (out, "}\n");
    }
  else
    {
      g_autofree char *display = g_filename_display_name (path);
      g_autofree char *size = g_format_size_full (npv_file_get_size (file), G_FORMAT_SIZE_IEC_UNITS);

      g_string_append_printf (out, "%s: %s, %s, %u %s%s\n", display,
                              npv_file_format_to_string (npv_file_get_format (file)), size, n,
                              npv_file_get_format (file) == NPV_FILE_FORMAT_NPY ? "array" : "member",
                              n == 1 ? "" : "s");
      for (guint i = 0; i < n; i++)
        {
          const NpvMember *member = npv_file_get_member (file, i);

          if (opt_member != NULL && npv_file_lookup_member (file, opt_member, NULL) != member)
            continue;
          append_member_text (out, member);
        }
    }
  print_stdout (out);
  return 0;
}

/* A progress line on stderr, for jobs that last: shown only when stderr
 * is a terminal and the job has run for a second. */
typedef struct
{
  const char *what;
  gint64 start;
  gboolean shown;
} Progress;

static gboolean
progress_update (guint64  done,
                 guint64  total,
                 gpointer user_data)
{
  Progress *progress = user_data;
  gint64 now = g_get_monotonic_time ();

  if (progress->start == 0)
    progress->start = now;
  if (!isatty (STDERR_FILENO) || now - progress->start < G_USEC_PER_SEC || total == 0)
    return TRUE;
  fprintf (stderr, "\r%s: %3.0f%%", progress->what, 100.0 * done / total);
  progress->shown = TRUE;
  return TRUE;
}

static void
progress_end (Progress *progress)
{
  if (progress->shown)
    fprintf (stderr, "\r\033[K");
}

/* The array the options select: member, then field, then index. */
static NpvArray *
open_selection (const char  *path,
                const char **failed_path,
                GError     **error)
{
  g_autoptr(NpvFile) file = NULL;
  g_autoptr(NpvArray) array = NULL;
  const NpvMember *member;

  *failed_path = path;
  file = npv_file_open_full (path, file_flags (), error);
  if (file == NULL)
    return NULL;
  member = npv_file_lookup_member (file, opt_member, error);
  if (member == NULL)
    return NULL;
  /* Compressed members: one pass to index them (and check their CRC),
   * then every read starts near where it is needed. */
  {
    g_autofree char *what = g_strdup_printf ("Indexing %s", member->name[0] != '\0'
                                                            ? member->name : "the data");
    Progress progress = { what, 0, FALSE };
    gboolean done = npv_file_build_index (file, member, NULL, progress_update, &progress, error);

    progress_end (&progress);
    if (!done)
      return NULL;
  }
  array = npv_file_open_array (file, member, error);
  if (array == NULL)
    return NULL;

  if (opt_field != NULL)
    {
      NpvArray *view = npv_array_select_field (array, opt_field, error);

      if (view == NULL)
        return NULL;
      npv_array_unref (array);
      array = view;
    }

  if (opt_slice != NULL)
    {
      NpvIndex index;
      NpvArray *view;

      /* Checked for syntax before, in check_slice_syntax(). */
      if (!npv_index_parse (opt_slice, &index, error))
        return NULL;
      view = npv_array_apply_index (array, &index, error);
      if (view == NULL)
        return NULL;
      npv_array_unref (array);
      array = view;
    }

  return g_steal_pointer (&array);
}

static gboolean
check_slice_syntax (int *status)
{
  g_autoptr(GError) error = NULL;
  NpvIndex index;

  if (opt_slice == NULL || npv_index_parse (opt_slice, &index, &error))
    return TRUE;
  *status = fail (EXIT_USAGE, "%s", error->message);
  return FALSE;
}

static int
cmd_show (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvArray) array = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  NpvPrintOptions options = NPV_PRINT_OPTIONS_DEFAULT;
  const char *failed;
  int status;

  if (!check_slice_syntax (&status))
    return status;
  array = open_selection (path, &failed, &error);
  if (array == NULL)
    return fail_for_file (failed, error);

  if (opt_full)
    options.threshold = G_MAXUINT;
  if (!npv_array_print (out, array, &options, &error))
    return fail_for_file (path, error);
  g_string_append_c (out, '\n');
  print_stdout (out);
  return 0;
}

static int
cmd_export (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvArray) array = NULL;
  NpvExportFormat format;
  const char *failed;
  int status;

  if (opt_output == NULL)
    return fail (EXIT_USAGE, "export: no output given (-o OUT)");
  if (opt_format != NULL)
    {
      if (!npv_export_format_from_string (opt_format, &format))
        return fail (EXIT_USAGE, "export: unknown format “%s” (expected npy, csv or tsv)", opt_format);
    }
  else if (strcmp (opt_output, "-") == 0)
    return fail (EXIT_USAGE, "export: writing to standard output needs --format");
  else if (!npv_export_format_from_path (opt_output, &format))
    return fail (EXIT_USAGE, "export: cannot tell the format from “%s”: give --format npy, csv or tsv",
                 opt_output);
  if (!check_slice_syntax (&status))
    return status;

  array = open_selection (path, &failed, &error);
  if (array == NULL)
    return fail_for_file (failed, error);

  if (format != NPV_EXPORT_NPY && array->ndim > 2)
    {
      g_autoptr(GString) shape = g_string_new (NULL);

      append_shape (shape, array->ndim, array->shape, FALSE);
      return fail (EXIT_DATA, "%s: a %s table holds at most 2 dimensions, but the selection has shape %s; "
                   "choose a plane with --slice, e.g. --slice '0'", path,
                   format == NPV_EXPORT_CSV ? "CSV" : "TSV", shape->str);
    }

  if (strcmp (opt_output, "-") == 0)
    {
      fflush (stdout);
      if (!npv_export_array_to_fd (array, STDOUT_FILENO, format, NULL, &error))
        return fail_for_file (path, error);
      return 0;
    }

  if (!npv_export_array (array, opt_output, format,
                         opt_force ? NPV_EXPORT_OVERWRITE : NPV_EXPORT_FLAGS_NONE, NULL, &error))
    {
      /* Errors about the output name it; others are about the input. */
      if (g_str_has_prefix (error->message, opt_output))
        return fail (EXIT_DATA, "%s", error->message);
      return fail_for_file (path, error);
    }
  return 0;
}

static void
append_stat_int (GString        *out,
                 const NpvStats *stats,
                 gboolean        is_min)
{
  if (stats->is_unsigned)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, is_min ? stats->umin : stats->umax);
  else
    g_string_append_printf (out, "%" G_GINT64_FORMAT, is_min ? stats->imin : stats->imax);
}

static void
append_stat_value (GString        *out,
                   const NpvStats *stats,
                   gboolean        is_min,
                   gboolean        json)
{
  double value = is_min ? stats->min : stats->max;

  if (stats->is_integer && stats->count > 0)
    append_stat_int (out, stats, is_min);
  else if (json)
    npv_json_append_double (out, value);
  else
    {
      char buf[NPV_FORMAT_NUMBER_MAX];

      npv_format_double (value, buf);
      g_string_append (out, buf);
    }
}

static int
cmd_stats (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvArray) array = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  NpvStats stats;
  const char *failed;
  int status;

  if (!check_slice_syntax (&status))
    return status;
  if (opt_threads < 0)
    return fail (EXIT_USAGE, "stats: --threads must be positive");
  array = open_selection (path, &failed, &error);
  if (array == NULL)
    return fail_for_file (failed, error);

  if (!npv_array_compute_stats (array, opt_threads, NULL, &stats, &error))
    return fail_for_file (path, error);

  if (opt_json)
    {
      g_string_append_printf (out, "{\"count\": %" G_GUINT64_FORMAT ", \"min\": ", stats.count);
      append_stat_value (out, &stats, TRUE, TRUE);
      g_string_append (out, ", \"max\": ");
      append_stat_value (out, &stats, FALSE, TRUE);
      g_string_append (out, ", \"mean\": ");
      npv_json_append_double (out, stats.mean);
      g_string_append (out, ", \"std\": ");
      npv_json_append_double (out, stats.std);
      g_string_append_printf (out, ", \"nan_count\": %" G_GUINT64_FORMAT
                              ", \"inf_count\": %" G_GUINT64_FORMAT "}\n",
                              stats.nan_count, stats.inf_count);
    }
  else
    {
      char buf[NPV_FORMAT_NUMBER_MAX];

      g_string_append_printf (out, "count      %" G_GUINT64_FORMAT "\nmin        ", stats.count);
      append_stat_value (out, &stats, TRUE, FALSE);
      g_string_append (out, "\nmax        ");
      append_stat_value (out, &stats, FALSE, FALSE);
      npv_format_double (stats.mean, buf);
      g_string_append_printf (out, "\nmean       %s", buf);
      npv_format_double (stats.std, buf);
      g_string_append_printf (out, "\nstd        %s", buf);
      g_string_append_printf (out, "\nnan_count  %" G_GUINT64_FORMAT "\ninf_count  %" G_GUINT64_FORMAT "\n",
                              stats.nan_count, stats.inf_count);
    }
  print_stdout (out);
  return 0;
}

typedef struct
{
  const char *name;
  const char *args;
  const char *summary;
  int (*run) (const char *path);
  const GOptionEntry *entries[4];
} Command;

static const Command commands[] = {
  { "info", "FILE", "Describe the arrays in FILE: dtype, shape, order, sizes and where the data is",
    cmd_info, { json_entries, member_entries } },
  { "show", "FILE", "Print the values in numpy's nested brackets (long axes summarised)",
    cmd_show, { select_entries, member_entries, show_entries } },
  { "export", "FILE -o OUT", "Write the selected values to .npy (as np.save would), CSV or TSV",
    cmd_export, { select_entries, member_entries, export_entries } },
  { "stats", "FILE", "Count, min, max, mean, std and NaN/inf counts (NaN-aware, float64)",
    cmd_stats, { json_entries, select_entries, member_entries, stats_entries } },
};

static void
print_usage (FILE *stream)
{
  fprintf (stream, "Usage: npyview-cli COMMAND [OPTION…] FILE\n\n"
                   "Look into NumPy files (.npy) without loading them.\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (stream, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf (stream, "\nRun “npyview-cli COMMAND --help” for the options of a command.\n"
                   "Exit status: 0 success, 1 a problem with the file or its data, 2 a usage error.\n");
}

static int
run_command (const Command *command,
             int            argc,
             char         **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *param = g_strdup_printf ("%s - %s", command->args, command->summary);

  context = g_option_context_new (param);
  g_option_context_set_help_enabled (context, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (command->entries) && command->entries[i] != NULL; i++)
    g_option_context_add_main_entries (context, command->entries[i], NULL);
  g_option_context_set_description (context,
    "Exit status: 0 success, 1 a problem with the file or its data, 2 a usage error.");
  g_set_prgname ("npyview-cli");

  {
    g_autofree char *name = g_strdup_printf ("npyview-cli %s", command->name);

    argv[0] = name;
    if (!g_option_context_parse (context, &argc, &argv, &error))
      return fail (EXIT_USAGE, "%s: %s (see --help)", command->name, error->message);
    argv[0] = NULL;
  }

  if (opt_encoding != NULL && strcmp (opt_encoding, "bytes") != 0 &&
      strcmp (opt_encoding, "latin1") != 0)
    return fail (EXIT_USAGE, "%s: unknown encoding “%s” (expected bytes or latin1)",
                 command->name, opt_encoding);
  if (argc < 2)
    return fail (EXIT_USAGE, "%s: no file given (usage: npyview-cli %s %s)",
                 command->name, command->name, command->args);
  if (argc > 2)
    return fail (EXIT_USAGE, "%s: one file at a time, got %d", command->name, argc - 1);

  return command->run (argv[1]);
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");

  if (argc < 2)
    {
      print_usage (stderr);
      return EXIT_USAGE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0)
    {
      print_usage (stdout);
      return 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("npyview-cli %s\n", PACKAGE_VERSION);
      return 0;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      {
        int status;

        status = run_command (&commands[i], argc - 1, argv + 1);
        fflush (stdout);
        if (ferror (stdout))
          return fail (EXIT_DATA, "cannot write to standard output");
        return status;
      }

  fprintf (stderr, "npyview-cli: unknown command “%s”\n\n", argv[1]);
  print_usage (stderr);
  return EXIT_USAGE;
}
