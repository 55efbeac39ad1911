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
#include "npv-plane.h"
#include "npv-print.h"
#include "npv-pyramid.h"
#include "npv-render.h"
#include "npv-stats.h"
#include "npv-value.h"
#include "npv-writer.h"

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
static char *opt_axes;
static gboolean opt_transpose;
static char *opt_colormap;
static gboolean opt_reverse;
static char *opt_scale;
static char *opt_range;
static char *opt_size;
static gboolean opt_colorbar;
static gboolean opt_labels;
static char *opt_blocks;
static char *opt_part;
static gboolean opt_rgb;

static const GOptionEntry member_entries[] = {
  { "member", 'm', 0, G_OPTION_ARG_STRING, &opt_member, "The member of an archive (x or x.npy)", "NAME" },
  { "encoding", 0, 0, G_OPTION_ARG_STRING, &opt_encoding,
    "Python 2 strings in object arrays: bytes (default) or latin1", "ENC" },
  { NULL }
};

static const GOptionEntry select_entries[] = {
  { "slice", 's', 0, G_OPTION_ARG_STRING, &opt_slice, "A numpy index such as '3, ::2, -1'", "EXPR" },
  { "field", 'f', 0, G_OPTION_ARG_STRING, &opt_field, "A field of a record dtype (nested: a.b)", "NAME" },
  { "axes", 0, 0, G_OPTION_ARG_STRING, &opt_axes,
    "Reorder the axes after the slice, as a.transpose(2, 0, 1)", "2,0,1" },
  { "transpose", 'T', 0, G_OPTION_ARG_NONE, &opt_transpose, "Reverse the axes after the slice (a.T)", NULL },
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

static const GOptionEntry png_entries[] = {
  { "colormap", 0, 0, G_OPTION_ARG_STRING, &opt_colormap,
    "PNG: viridis (default), magma, inferno, plasma, cividis, gray, coolwarm or twilight", "MAP" },
  { "reverse", 0, 0, G_OPTION_ARG_NONE, &opt_reverse, "PNG: run the colour map backwards", NULL },
  { "scale", 0, 0, G_OPTION_ARG_STRING, &opt_scale, "PNG: linear (default), log, symlog or sqrt", "SCALE" },
  { "range", 0, 0, G_OPTION_ARG_STRING, &opt_range,
    "PNG: minmax (default), p1, p01, sigma3, or LO,HI", "RANGE" },
  { "size", 0, 0, G_OPTION_ARG_STRING, &opt_size,
    "PNG: the picture's size (default: one value per pixel)", "WxH" },
  { "colorbar", 0, 0, G_OPTION_ARG_NONE, &opt_colorbar, "PNG: add the colour bar", NULL },
  { "labels", 0, 0, G_OPTION_ARG_NONE, &opt_labels, "PNG: add row and column indices", NULL },
  { "blocks", 0, 0, G_OPTION_ARG_STRING, &opt_blocks,
    "PNG: what a pixel of many values shows: mean (default), min or max", "HOW" },
  { "part", 0, 0, G_OPTION_ARG_STRING, &opt_part,
    "PNG: of complex values: abs (default), angle, real or imag", "PART" },
  { "rgb", 0, 0, G_OPTION_ARG_NONE, &opt_rgb,
    "PNG: the last axis (3 or 4) holds colours, bytes or floats from 0 to 1 (automatic for bytes)", NULL },
  { NULL }
};

static const GOptionEntry thumbnail_entries[] = {
  { "size", 0, 0, G_OPTION_ARG_STRING, &opt_size, "The longest side in pixels (default 256)", "N" },
  { "force", 0, 0, G_OPTION_ARG_NONE, &opt_force, "Replace OUT if it exists", NULL },
  { NULL }
};

static int cmd_thumbnail (const char *path);

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
export_progress (guint64  done,
                 guint64  total,
                 gpointer user_data)
{
  progress_update (done, total, user_data);
}

static void
progress_end (Progress *progress)
{
  if (progress->shown)
    fprintf (stderr, "\r\033[K");
}

/* The axes of "2,0,1" into @axes: how many, or 0 when it is not a list of
 * distinct numbers below NPV_MAX_DIMS. */
static guint
parse_axes (const char *text,
            guint      *axes)
{
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);
  guint n = g_strv_length (parts);
  gboolean seen[NPV_MAX_DIMS] = { FALSE };

  if (n == 0 || n > NPV_MAX_DIMS)
    return 0;
  for (guint i = 0; i < n; i++)
    {
      guint64 v;

      if (!g_ascii_string_to_unsigned (g_strstrip (parts[i]), 10, 0, NPV_MAX_DIMS - 1, &v, NULL) ||
          seen[v])
        return 0;
      seen[v] = TRUE;
      axes[i] = (guint) v;
    }
  return n;
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

  if (opt_axes != NULL || opt_transpose)
    {
      guint axes[NPV_MAX_DIMS];
      NpvArray *view;

      if (opt_axes != NULL)
        {
          /* checked for syntax before, in check_axes_syntax() */
          guint n = parse_axes (opt_axes, axes);

          if (n != array->ndim)
            {
              g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                           "--axes %s does not fit the %u dimensions of the selection: give a "
                           "permutation of 0 to %u", opt_axes, array->ndim,
                           array->ndim > 0 ? array->ndim - 1 : 0);
              return NULL;
            }
        }
      view = npv_array_transpose (array, opt_axes != NULL ? axes : NULL, error);
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
  guint axes[NPV_MAX_DIMS];

  if (opt_axes != NULL && parse_axes (opt_axes, axes) == 0)
    {
      *status = fail (EXIT_USAGE, "--axes takes distinct axis numbers separated by commas, such as "
                      "2,0,1, not “%s”", opt_axes);
      return FALSE;
    }
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

/* The options of a picture: colour scale, blocks, part. */
static gboolean
png_style (NpvRenderStyle *style,
           NpvPart        *part,
           NpvRangeMode   *range,
           int            *status)
{
  memset (style, 0, sizeof *style);
  style->cs.map = NPV_COLORMAP_VIRIDIS;
  style->cs.reversed = opt_reverse;
  style->n_channels = 1;
  style->full_scale = 1;
  *part = NPV_PART_ABS;
  *range = NPV_RANGE_MINMAX;
  if (opt_colormap != NULL && !npv_colormap_from_name (opt_colormap, &style->cs.map))
    {
      *status = fail (EXIT_USAGE, "export: unknown colour map “%s” (expected viridis, magma, inferno, "
                      "plasma, cividis, gray, coolwarm or twilight)", opt_colormap);
      return FALSE;
    }
  if (opt_scale != NULL && !npv_scale_from_name (opt_scale, &style->cs.scale))
    {
      *status = fail (EXIT_USAGE, "export: unknown scale “%s” (expected linear, log, symlog or sqrt)",
                      opt_scale);
      return FALSE;
    }
  if (opt_blocks != NULL)
    {
      if (strcmp (opt_blocks, "mean") == 0)
        style->reduction = NPV_REDUCTION_MEAN;
      else if (strcmp (opt_blocks, "min") == 0)
        style->reduction = NPV_REDUCTION_MIN;
      else if (strcmp (opt_blocks, "max") == 0)
        style->reduction = NPV_REDUCTION_MAX;
      else
        {
          *status = fail (EXIT_USAGE, "export: --blocks takes mean, min or max, not “%s”", opt_blocks);
          return FALSE;
        }
    }
  if (opt_part != NULL)
    {
      const char *names[] = { "abs", "angle", "real", "imag" };
      const NpvPart parts[] = { NPV_PART_ABS, NPV_PART_ANGLE, NPV_PART_REAL, NPV_PART_IMAG };
      guint i;

      for (i = 0; i < G_N_ELEMENTS (names) && strcmp (opt_part, names[i]) != 0; i++)
        ;
      if (i == G_N_ELEMENTS (names))
        {
          *status = fail (EXIT_USAGE, "export: --part takes abs, angle, real or imag, not “%s”", opt_part);
          return FALSE;
        }
      *part = parts[i];
    }
  if (opt_range != NULL && !npv_range_mode_from_name (opt_range, range))
    {
      g_auto(GStrv) ends = g_strsplit (opt_range, ",", 2);
      char *end_lo = NULL, *end_hi = NULL;

      if (g_strv_length (ends) == 2)
        {
          style->cs.lo = g_ascii_strtod (ends[0], &end_lo);
          style->cs.hi = g_ascii_strtod (ends[1], &end_hi);
        }
      if (end_lo == NULL || end_lo == ends[0] || *end_lo != '\0' || end_hi == ends[1] || *end_hi != '\0' ||
          !isfinite (style->cs.lo) || !isfinite (style->cs.hi) || style->cs.lo > style->cs.hi)
        {
          *status = fail (EXIT_USAGE, "export: --range takes minmax, p1, p01, sigma3 or LO,HI with "
                          "LO <= HI, not “%s”", opt_range);
          return FALSE;
        }
      *range = NPV_RANGE_MANUAL;
    }
  if (*range == NPV_RANGE_MANUAL && style->cs.scale == NPV_SCALE_LOG && !(style->cs.lo > 0))
    {
      *status = fail (EXIT_USAGE, "export: a log scale needs a range above zero, not %s", opt_range);
      return FALSE;
    }
  return TRUE;
}

/* Parses "WxH". */
static gboolean
parse_size (const char *text,
            int        *width,
            int        *height)
{
  guint64 w, h;
  g_auto(GStrv) parts = g_strsplit (text, "x", 2);

  if (g_strv_length (parts) != 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 1, 1 << 20, &w, NULL) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 1, 1 << 20, &h, NULL))
    return FALSE;
  *width = (int) w;
  *height = (int) h;
  return TRUE;
}

/* Whether the last axis of @array can be colour channels. */
static gboolean
rgb_possible (const NpvArray *array)
{
  gint64 n = array->ndim >= 3 ? array->shape[array->ndim - 1] : 0;

  return (n == 3 || n == 4) &&
         ((array->dtype->kind == NPV_KIND_UINT && array->dtype->itemsize == 1) ||
          array->dtype->kind == NPV_KIND_FLOAT);
}

/* The 2-D planes of the channels of an RGB(A) @array (its first plane of
 * the axes before the last), or of @array itself. */
static guint
picture_planes (NpvArray  *array,
                gboolean   rgb,
                NpvArray **planes,
                GError   **error)
{
  NpvPlane plane;

  npv_plane_init_default (&plane, array);
  if (!rgb)
    {
      planes[0] = npv_plane_apply (&plane, array, error);
      return planes[0] != NULL ? 1 : 0;
    }
  plane.row_axis = array->ndim - 3;
  plane.col_axis = array->ndim - 2;
  for (guint k = 0; k < (guint) array->shape[array->ndim - 1]; k++)
    {
      plane.fixed[array->ndim - 1] = k;
      planes[k] = npv_plane_apply (&plane, array, error);
      if (planes[k] == NULL)
        {
          for (guint j = 0; j < k; j++)
            g_clear_pointer (&planes[j], npv_array_unref);
          return 0;
        }
    }
  return (guint) array->shape[array->ndim - 1];
}

static int
export_png (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvArray) array = NULL;
  NpvArray *planes[4] = { NULL, NULL, NULL, NULL };
  NpvPyramid *pyramids[4] = { NULL, NULL, NULL, NULL };
  g_autoptr(NpvImage) image = NULL;
  NpvRenderStyle style;
  NpvRangeMode range;
  NpvPart part;
  const char *failed;
  gboolean rgb;
  guint n;
  int width = 0, height = 0, status = 0;

  if (!png_style (&style, &part, &range, &status))
    return status;
  if (opt_size != NULL && !parse_size (opt_size, &width, &height))
    return fail (EXIT_USAGE, "export: --size takes WIDTHxHEIGHT, e.g. 800x600, not “%s”", opt_size);
  if (!check_slice_syntax (&status))
    return status;

  array = open_selection (path, &failed, &error);
  if (array == NULL)
    return fail_for_file (failed, error);
  rgb = rgb_possible (array) && (opt_rgb || array->dtype->kind == NPV_KIND_UINT);
  if (opt_rgb && !rgb)
    return fail (EXIT_DATA, "%s: --rgb needs a last axis of 3 or 4 bytes or floats", path);
  if (array->ndim > (rgb ? 3u : 2u))
    {
      g_autoptr(GString) shape = g_string_new (NULL);

      append_shape (shape, array->ndim, array->shape, FALSE);
      return fail (EXIT_DATA, "%s: a picture shows %s, but the selection has shape %s; choose a plane "
                   "with --slice, e.g. --slice '0'", path, rgb ? "rows, columns and colours" :
                   "two dimensions", shape->str);
    }
  if (!npv_dtype_is_real (array->dtype) && array->dtype->kind != NPV_KIND_COMPLEX)
    {
      g_autofree char *name = npv_dtype_get_name (array->dtype);

      return fail (EXIT_DATA, "%s: a picture needs numbers, but the values are %s%s", path, name,
                   array->dtype->kind == NPV_KIND_STRUCT ? " (choose one with --field)" : "");
    }

  n = picture_planes (array, rgb, planes, &error);
  if (n == 0)
    return fail_for_file (path, error);
  for (guint k = 0; k < n && error == NULL; k++)
    pyramids[k] = npv_pyramid_new (planes[k], part, 0, &error);
  if (error == NULL && !rgb && range != NPV_RANGE_MANUAL)
    {
      NpvStats stats;
      NpvHistogram histogram = { 0 };

      if (npv_array_compute_stats_full (planes[0], part, 0, NULL, NULL, &stats, &error) &&
          ((range != NPV_RANGE_P1 && range != NPV_RANGE_P01) ||
           npv_array_compute_histogram (planes[0], part, isfinite (stats.finite_min) ? stats.finite_min : 0,
                                        isfinite (stats.finite_max) ? stats.finite_max : 1, 4096, 0, NULL,
                                        NULL, &histogram, &error)))
        npv_color_scale_set_range (&style.cs, range, &stats, &histogram,
                                   planes[0]->dtype->kind == NPV_KIND_BOOL);
      npv_histogram_clear (&histogram);
    }
  if (error == NULL)
    {
      if (width == 0)
        {
          width = (int) MIN (planes[0]->shape[1], G_MAXINT);
          height = (int) MIN (planes[0]->shape[0], G_MAXINT);
        }
      style.n_channels = rgb ? n : 1;
      style.full_scale = array->dtype->kind == NPV_KIND_UINT ? 255 : 1;
      image = npv_render_plane (pyramids, &style, width, height, FALSE, NULL, &error);
    }
  if (image != NULL && (opt_colorbar || opt_labels))
    {
      NpvImage *framed = npv_render_decorate (image, &style, planes[0]->shape[0], planes[0]->shape[1],
                                              opt_labels, opt_colorbar);

      npv_image_free (image);
      image = framed;
    }
  for (guint k = 0; k < 4; k++)
    {
      g_clear_pointer (&pyramids[k], npv_pyramid_unref);
      g_clear_pointer (&planes[k], npv_array_unref);
    }
  if (image == NULL)
    return fail_for_file (path, error);
  if (!npv_image_write_png (image, opt_output, opt_force, &error))
    return fail (EXIT_DATA, "%s", error->message);
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
  if (g_strcmp0 (opt_format, "png") == 0 ||
      (opt_format == NULL && g_str_has_suffix (opt_output, ".png")))
    return export_png (path);
  if (opt_format != NULL)
    {
      if (!npv_export_format_from_string (opt_format, &format))
        return fail (EXIT_USAGE, "export: unknown format “%s” (expected npy, csv, tsv or png)", opt_format);
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

  {
    Progress progress = { "Exporting", 0, FALSE };
    gboolean done = npv_export_array_full (array, opt_output, format,
                                           opt_force ? NPV_EXPORT_OVERWRITE : NPV_EXPORT_FLAGS_NONE,
                                           NULL, export_progress, &progress, NULL, &error);

    progress_end (&progress);
    if (done)
      return 0;
  }
  /* Errors about the output name it; others are about the input. */
  if (g_str_has_prefix (error->message, opt_output))
    return fail (EXIT_DATA, "%s", error->message);
  return fail_for_file (path, error);
}

/* The first member that is an array of numbers with values in it. */
static const NpvMember *
first_picture_member (NpvFile *file)
{
  for (guint i = 0; i < npv_file_get_n_members (file); i++)
    {
      const NpvMember *member = npv_file_get_member (file, i);

      if (member->kind == NPV_MEMBER_ARRAY && member->header.count > 0 &&
          (npv_dtype_is_real (member->header.dtype) || member->header.dtype->kind == NPV_KIND_COMPLEX))
        return member;
    }
  return NULL;
}

static int
cmd_thumbnail (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvFile) file = NULL;
  g_autoptr(NpvArray) array = NULL;
  g_autoptr(NpvImage) image = NULL;
  NpvArray *planes[4] = { NULL, NULL, NULL, NULL };
  NpvPyramid *pyramids[4] = { NULL, NULL, NULL, NULL };
  const NpvMember *member;
  guint64 size = 256;
  guint n;
  gboolean rgb;

  if (opt_size != NULL && !g_ascii_string_to_unsigned (opt_size, 10, 8, 4096, &size, NULL))
    return fail (EXIT_USAGE, "thumbnail: --size takes a number of pixels from 8 to 4096, not “%s”", opt_size);

  file = npv_file_open_full (path, file_flags (), &error);
  if (file == NULL)
    return fail_for_file (path, error);
  member = opt_member != NULL ? npv_file_lookup_member (file, opt_member, &error)
                              : first_picture_member (file);
  if (member == NULL)
    return error != NULL ? fail_for_file (path, error)
                         : fail (EXIT_DATA, "%s: no array of numbers to draw", path);
  array = npv_file_open_array (file, member, &error);
  if (array == NULL)
    return fail_for_file (path, error);

  /* A long 1-D array is plotted from every k-th value: a thumbnail reads a
   * sample, not the array. */
  if (array->ndim == 1 && (guint64) array->shape[0] > size * 64)
    {
      NpvIndex index = { 1, { { .kind = NPV_INDEX_SLICE, .has_step = TRUE,
                                .step = array->shape[0] / (gint64) (size * 16) } } };
      NpvArray *view = npv_array_apply_index (array, &index, &error);

      if (view == NULL)
        return fail_for_file (path, error);
      npv_array_unref (array);
      array = view;
    }
  rgb = rgb_possible (array);
  n = picture_planes (array, rgb, planes, &error);
  if (n == 0)
    return fail_for_file (path, error);
  for (guint k = 0; k < n && error == NULL; k++)
    pyramids[k] = npv_pyramid_new (planes[k], NPV_PART_ABS, 0, &error);

  if (error == NULL)
    {
      gint64 rows = planes[0]->shape[0], cols = planes[0]->shape[1];
      double side = (double) MAX (rows, cols);
      /* small arrays grow by whole pixels; large ones shrink to fit */
      double k = side <= (double) size ? floor ((double) size / side) : (double) size / side;
      int width = (int) MAX (1, floor (cols * k)), height = (int) MAX (1, floor (rows * k));
      NpvRenderStyle style = { { NPV_COLORMAP_VIRIDIS, FALSE, NPV_SCALE_LINEAR, 0, 1, 0 },
                               NPV_REDUCTION_MEAN, n, array->dtype->kind == NPV_KIND_UINT ? 255 : 1 };

      if (array->ndim == 1)
        /* a line plot of a 1-D array */
        image = npv_render_line (pyramids[0], (int) size, (int) (size * 5 / 8), 0xFF3584E4u, TRUE, NULL,
                                 &error);
      else if (rgb)
        image = npv_render_plane (pyramids, &style, width, height, TRUE, NULL, &error);
      else
        {
          g_autofree double *values = npv_render_plane_values (pyramids[0], NPV_REDUCTION_MEAN, width,
                                                               height, TRUE, NULL, &error);
          double lo = INFINITY, hi = -INFINITY;

          if (values != NULL)
            {
              for (gsize i = 0; i < (gsize) width * height; i++)
                if (isfinite (values[i]))
                  {
                    lo = MIN (lo, values[i]);
                    hi = MAX (hi, values[i]);
                  }
              if (array->dtype->kind == NPV_KIND_BOOL || lo > hi)
                lo = 0, hi = 1;
              style.cs.lo = lo;
              style.cs.hi = hi;
              image = npv_image_from_values (values, width, height, &style.cs);
            }
        }
    }
  for (guint k = 0; k < 4; k++)
    {
      g_clear_pointer (&pyramids[k], npv_pyramid_unref);
      g_clear_pointer (&planes[k], npv_array_unref);
    }
  if (image == NULL)
    return fail_for_file (path, error);
  if (!npv_image_write_png (image, opt_output, opt_force, &error))
    return fail (EXIT_DATA, "%s", error->message);
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
  guint n_args;                /* after the command: FILE, or FILE OUT */
} Command;

static const Command commands[] = {
  { "info", "FILE", "Describe the arrays in FILE: dtype, shape, order, sizes and where the data is",
    cmd_info, { json_entries, member_entries } },
  { "show", "FILE", "Print the values in numpy's nested brackets (long axes summarised)",
    cmd_show, { select_entries, member_entries, show_entries } },
  { "export", "FILE -o OUT", "Write the selected values to .npy (as np.save would), CSV, TSV or PNG",
    cmd_export, { select_entries, member_entries, export_entries, png_entries } },
  { "stats", "FILE", "Count, min, max, mean, std and NaN/inf counts (NaN-aware, float64)",
    cmd_stats, { json_entries, select_entries, member_entries, stats_entries } },
  { "thumbnail", "FILE OUT.png", "A small picture of the first array, from a sample (for file managers)",
    cmd_thumbnail, { thumbnail_entries, member_entries }, 2 },
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
  if (command->n_args == 2)
    {
      if (argc != 3)
        return fail (EXIT_USAGE, "%s: expected %s (usage: npyview-cli %s [OPTION…] %s)",
                     command->name, command->args, command->name, command->args);
      opt_output = argv[2];
    }
  else if (argc > 2)
    return fail (EXIT_USAGE, "%s: one file at a time, got %d", command->name, argc - 1);

  return command->run (argv[1]);
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  /* an interrupted export leaves nothing behind */
  npv_writer_remove_on_signals ();

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
