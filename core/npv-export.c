/* npv-export.c: writing arrays to .npy, CSV and TSV
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-export"

#include "npv-export.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "npv-error.h"
#include "npv-npy.h"
#include "npv-value.h"
#include "npv-writer.h"

#define GATHER_BUFFER (1 << 20)
#define TEXT_FLUSH (1 << 20)

/* Where bytes go: an atomic file or a plain descriptor. */
typedef struct
{
  NpvWriter *writer;
  int fd;
  /* items written, reported now and then */
  NpvExportProgress progress;
  gpointer progress_data;
  guint64 total, done, reported;
  const NpvNumberFormat *numbers;   /* CSV/TSV: NULL for round-trip digits */
} Sink;

static void
sink_items (Sink    *sink,
            guint64  n)
{
  sink->done += n;
  if (sink->progress != NULL && (sink->done - sink->reported >= (1 << 16) || sink->done == sink->total))
    {
      sink->reported = sink->done;
      sink->progress (sink->done, sink->total, sink->progress_data);
    }
}

static gboolean
sink_write (Sink        *sink,
            const void  *data,
            gsize        len,
            GError     **error)
{
  const guint8 *p = data;

  if (sink->writer != NULL)
    return npv_writer_write (sink->writer, data, len, error);

  while (len > 0)
    {
      gssize n = write (sink->fd, p, len);

      if (n < 0)
        {
          int errsv = errno;

          if (errsv == EINTR)
            continue;
          g_set_error (error, NPV_ERROR, NPV_ERROR_IO, "cannot write: %s", g_strerror (errsv));
          return FALSE;
        }
      p += n;
      len -= n;
    }
  return TRUE;
}

gboolean
npv_export_format_from_string (const char      *name,
                               NpvExportFormat *format)
{
  if (g_ascii_strcasecmp (name, "npy") == 0)
    *format = NPV_EXPORT_NPY;
  else if (g_ascii_strcasecmp (name, "csv") == 0)
    *format = NPV_EXPORT_CSV;
  else if (g_ascii_strcasecmp (name, "tsv") == 0)
    *format = NPV_EXPORT_TSV;
  else
    return FALSE;
  return TRUE;
}

gboolean
npv_export_format_from_path (const char      *path,
                             NpvExportFormat *format)
{
  const char *dot = strrchr (path, '.');

  if (dot == NULL || strchr (dot, '/') != NULL)
    return FALSE;
  if (g_ascii_strcasecmp (dot, ".tab") == 0)
    {
      *format = NPV_EXPORT_TSV;
      return TRUE;
    }
  return npv_export_format_from_string (dot + 1, format);
}

/* ---------------------------------------------------------------------- */
/* .npy                                                                    */

/* Copies @len items @stride bytes apart into @out. */
static void
gather (guint8       *out,
        const guint8 *row,
        gint64        len,
        gint64        stride,
        gsize         itemsize)
{
  switch (itemsize)
    {
    case 1:
      for (gint64 i = 0; i < len; i++)
        out[i] = row[i * stride];
      break;
    case 2:
      for (gint64 i = 0; i < len; i++)
        memcpy (out + 2 * i, row + i * stride, 2);
      break;
    case 4:
      for (gint64 i = 0; i < len; i++)
        memcpy (out + 4 * i, row + i * stride, 4);
      break;
    case 8:
      for (gint64 i = 0; i < len; i++)
        memcpy (out + 8 * i, row + i * stride, 8);
      break;
    default:
      for (gint64 i = 0; i < len; i++)
        memcpy (out + itemsize * i, row + i * stride, itemsize);
      break;
    }
}

static gboolean
write_npy (NpvArray      *array,
           Sink          *sink,
           GCancellable  *cancellable,
           GError       **error)
{
  gboolean c_contig = npv_array_is_c_contiguous (array);
  gboolean f_contig = npv_array_is_f_contiguous (array);
  gboolean fortran = !c_contig && f_contig;
  g_autoptr(GBytes) header = npv_npy_header_build (array->dtype, array->ndim, array->shape, fortran);
  gsize itemsize = array->dtype->itemsize;
  g_autofree guint8 *buffer = NULL;
  gsize buffered = 0;
  gsize capacity;
  NpvRowReader reader;
  NpvRowIter iter;
  gboolean ok = TRUE;
  gint64 row, len, stride;
  guint64 n_rows = 0;

  if (!sink_write (sink, g_bytes_get_data (header, NULL), g_bytes_get_size (header), error))
    return FALSE;
  if (array->count == 0 || itemsize == 0)
    return TRUE;

  /* The whole view is one run of bytes: copy it as it is. */
  if (c_contig || f_contig)
    {
      NpvSource *source = array->source;
      int fd = npv_source_get_fd (source);
      /* Files are read, never faulted in through their mapping. */
      const guint8 *data = fd < 0 ? npv_source_get_data (source) : NULL;
      guint64 total = (guint64) array->count * itemsize;

      if (fd >= 0 && sink->writer != NULL)
        {
          if (npv_writer_copy_range (sink->writer, fd, array->offset, total, error))
            return TRUE;
          /* The writer knows only where it writes: say which file changed. */
          if (error != NULL && g_error_matches (*error, NPV_ERROR, NPV_ERROR_TRUNCATED))
            g_prefix_error (error, "%s: ", npv_source_get_name (source));
          return FALSE;
        }

      if (data == NULL)
        buffer = g_malloc (GATHER_BUFFER);
      for (guint64 done = 0; done < total;)
        {
          guint64 n = MIN (total - done, (guint64) (data != NULL ? 64 << 20 : GATHER_BUFFER));
          const guint8 *bytes = data != NULL ? data + array->offset + done : buffer;

          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;
          if (data == NULL && !npv_source_read (source, array->offset + done, buffer, n, error))
            return FALSE;
          if (!sink_write (sink, bytes, n, error))
            return FALSE;
          done += n;
          sink_items (sink, n / itemsize);
        }
      return TRUE;
    }

  capacity = MAX (GATHER_BUFFER / itemsize, 1) * itemsize;
  buffer = g_malloc (capacity);
  npv_row_reader_init (&reader, array, 4 << 20);
  npv_row_iter_init (&iter, array, fortran, 0, -1);
  while (ok && npv_row_iter_next (&iter, &row, &len, &stride))
    {
      if ((++n_rows & 1023) == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
        ok = FALSE;

      while (ok && len > 0)
        {
          const guint8 *items;
          gint64 items_stride, got;

          ok = npv_row_reader_fetch (&reader, row, len, stride, &items, &items_stride, &got, error);
          row += got * stride;
          len -= got;
          if (ok)
            sink_items (sink, got);
          while (ok && got > 0)
            {
              gint64 room = (capacity - buffered) / itemsize;
              gint64 n = MIN (got, room);

              gather (buffer + buffered, items, n, items_stride, itemsize);
              buffered += n * itemsize;
              items += n * items_stride;
              got -= n;
              if (buffered == capacity)
                {
                  ok = sink_write (sink, buffer, buffered, error);
                  buffered = 0;
                }
            }
        }
    }
  npv_row_reader_clear (&reader);
  return ok && sink_write (sink, buffer, buffered, error);
}

/* ---------------------------------------------------------------------- */
/* CSV and TSV                                                             */

void
npv_append_table_cell (GString    *out,
                       const char *text,
                       gsize       len,
                       char        delimiter)
{
  gboolean quote = FALSE;

  for (gsize i = 0; i < len; i++)
    if (text[i] == delimiter || text[i] == '"' || text[i] == '\n' || text[i] == '\r')
      {
        quote = TRUE;
        break;
      }

  if (!quote)
    {
      g_string_append_len (out, text, len);
      return;
    }

  g_string_append_c (out, '"');
  for (gsize i = 0; i < len; i++)
    {
      if (text[i] == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, text[i]);
    }
  g_string_append_c (out, '"');
}

static void
append_cell (GString               *line,
             GString               *scratch,
             const NpvLeaf         *leaf,
             const guint8          *item,
             char                   delimiter,
             const NpvNumberFormat *numbers)
{
  g_string_truncate (scratch, 0);
  npv_append_number_text (scratch, leaf->dtype, item + leaf->offset, numbers);
  npv_append_table_cell (line, scratch->str, scratch->len, delimiter);
}

static gboolean
write_table (NpvArray      *array,
             Sink          *sink,
             char           delimiter,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GArray) leaves = npv_dtype_collect_leaves (array->dtype);
  g_autoptr(GString) out = g_string_sized_new (TEXT_FLUSH + 4096);
  g_autoptr(GString) scratch = g_string_new (NULL);
  gboolean is_record = array->dtype->kind == NPV_KIND_STRUCT;
  gint64 n_cols = array->ndim == 2 ? array->shape[1] : 1;
  NpvRowReader reader;
  NpvRowIter iter;
  gint64 row, len, stride;
  guint64 lines = 0;
  gboolean ok = TRUE;

  if (array->ndim > 2)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "a table holds at most 2 dimensions, but the selection has %u; "
                   "select a plane first", array->ndim);
      return FALSE;
    }

  if (is_record)
    {
      for (gint64 j = 0; j < n_cols; j++)
        for (guint k = 0; k < leaves->len; k++)
          {
            const NpvLeaf *leaf = &g_array_index (leaves, NpvLeaf, k);
            g_autoptr(GString) name = g_string_new (NULL);

            if (array->ndim == 2)
              {
                const char *bracket = strchr (leaf->name, '[');

                /* x -> x[3]; y[0] -> y[3,0] */
                if (bracket != NULL && strchr (leaf->name, '.') == NULL)
                  g_string_append_printf (name, "%.*s[%" G_GINT64_FORMAT ",%s",
                                          (int) (bracket - leaf->name), leaf->name, j, bracket + 1);
                else
                  g_string_append_printf (name, "%s[%" G_GINT64_FORMAT "]", leaf->name, j);
              }
            else
              g_string_append (name, leaf->name);

            if (j > 0 || k > 0)
              g_string_append_c (out, delimiter);
            npv_append_table_cell (out, name->str, name->len, delimiter);
          }
      g_string_append_c (out, '\n');
    }

  /* Rows in C order: a line each for 2-D, an item a line otherwise. */
  npv_row_reader_init (&reader, array, 1 << 20);
  npv_row_iter_init (&iter, array, FALSE, 0, -1);
  while (ok && npv_row_iter_next (&iter, &row, &len, &stride))
    {
      if ((++lines & 1023) == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
        ok = FALSE;
      while (ok && len > 0)
        {
          const guint8 *items;
          gint64 items_stride, got;

          ok = npv_row_reader_fetch (&reader, row, len, stride, &items, &items_stride, &got, error);
          for (gint64 j = 0; ok && j < got; j++)
            {
              for (guint k = 0; k < leaves->len; k++)
                {
                  if (k > 0 || (array->ndim == 2 && j + iter.row_len - len > 0))
                    g_string_append_c (out, delimiter);
                  append_cell (out, scratch, &g_array_index (leaves, NpvLeaf, k),
                               items + j * items_stride, delimiter, sink->numbers);
                }
              if (array->ndim < 2)
                g_string_append_c (out, '\n');
            }
          row += got * stride;
          len -= got;
          if (ok)
            sink_items (sink, got);
          if (ok && out->len >= TEXT_FLUSH)
            {
              ok = sink_write (sink, out->str, out->len, error);
              g_string_truncate (out, 0);
            }
        }
      if (array->ndim == 2)
        g_string_append_c (out, '\n');
    }
  npv_row_reader_clear (&reader);

  /* A 2-D array of empty rows still has its lines. */
  if (ok && array->ndim == 2 && array->shape[1] == 0)
    for (gint64 i = 0; i < array->shape[0]; i++)
      g_string_append_c (out, '\n');

  return ok && sink_write (sink, out->str, out->len, error);
}

static gboolean
export_to_sink (NpvArray         *array,
                Sink             *sink,
                NpvExportFormat   format,
                GCancellable     *cancellable,
                GError          **error)
{
  /* Objects have text but no bytes of their own: np.save would pickle
   * them, and a viewer writes no pickles. */
  if (format == NPV_EXPORT_NPY && npv_dtype_has_object (array->dtype))
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED,
                   "Python objects (dtype |O) cannot be written to .npy by npyview "
                   "(that would need a pickle); export them as CSV or TSV");
      return FALSE;
    }

  switch (format)
    {
    case NPV_EXPORT_NPY:
      return write_npy (array, sink, cancellable, error);
    case NPV_EXPORT_CSV:
      return write_table (array, sink, ',', cancellable, error);
    case NPV_EXPORT_TSV:
      return write_table (array, sink, '\t', cancellable, error);
    default:
      g_assert_not_reached ();
    }
  return FALSE;
}

gboolean
npv_export_array (NpvArray         *array,
                  const char       *path,
                  NpvExportFormat   format,
                  NpvExportFlags    flags,
                  GCancellable     *cancellable,
                  GError          **error)
{
  return npv_export_array_full (array, path, format, flags, NULL, NULL, NULL, cancellable, error);
}

gboolean
npv_export_array_full (NpvArray          *array,
                       const char        *path,
                       NpvExportFormat    format,
                       NpvExportFlags     flags,
                       const NpvNumberFormat *numbers,
                       NpvExportProgress  progress,
                       gpointer           progress_data,
                       GCancellable      *cancellable,
                       GError           **error)
{
  Sink sink = { NULL, -1, progress, progress_data, (guint64) array->count, 0, 0, numbers };

  if (format != NPV_EXPORT_NPY && array->ndim > 2)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "%s: a table holds at most 2 dimensions, but the selection has %u; "
                   "select a plane first", path, array->ndim);
      return FALSE;
    }

  sink.writer = npv_writer_new (path, (flags & NPV_EXPORT_OVERWRITE) != 0, error);
  if (sink.writer == NULL)
    return FALSE;

  if (!export_to_sink (array, &sink, format, cancellable, error))
    {
      npv_writer_abort (sink.writer);
      return FALSE;
    }
  return npv_writer_commit (sink.writer, error);
}

gboolean
npv_export_array_to_fd (NpvArray         *array,
                        int               fd,
                        NpvExportFormat   format,
                        GCancellable     *cancellable,
                        GError          **error)
{
  Sink sink = { NULL, fd };

  return export_to_sink (array, &sink, format, cancellable, error);
}
