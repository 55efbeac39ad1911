/* npv-zip.c: the members of a zip archive and where their bytes lie
 *
 * The central directory is small and exact, and it is the only reliable
 * source of offsets for random access (libarchive's reader walks a zip
 * from the front). Read it with bounds on every field.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-zip"

#include "npv-zip.h"

#include <string.h>

#include "npv-error.h"

#define SIG_LOCAL 0x04034b50
#define SIG_CENTRAL 0x02014b50
#define SIG_END 0x06054b50
#define SIG_END64 0x06064b50
#define SIG_LOCATOR64 0x07064b50

#define END_SIZE 22
#define CENTRAL_SIZE 46
#define LOCAL_SIZE 30

static guint16
get16 (const guint8 *p)
{
  return p[0] | (p[1] << 8);
}

static guint32
get32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static guint64
get64 (const guint8 *p)
{
  return (guint64) get32 (p) | ((guint64) get32 (p + 4) << 32);
}

G_GNUC_PRINTF (3, 4)
static void
zip_error (GError     **error,
           NpvSource   *source,
           const char  *format,
           ...)
{
  g_autofree char *why = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT, "%s: %s", npv_source_get_name (source), why);
}

/* The end record: the last signature in the final 64 KiB + 22 bytes whose
 * comment length reaches exactly the end of the file. */
static gint64
find_end_record (const guint8 *data,
                 guint64       size)
{
  guint64 lowest;

  if (size < END_SIZE)
    return -1;
  lowest = size > END_SIZE + 0xffff ? size - END_SIZE - 0xffff : 0;
  for (guint64 pos = size - END_SIZE + 1; pos-- > lowest;)
    {
      if (get32 (data + pos) == SIG_END && pos + END_SIZE + get16 (data + pos + 20) == size)
        return pos;
    }
  /* Some writers leave junk after the comment: accept any signature. */
  for (guint64 pos = size - END_SIZE + 1; pos-- > lowest;)
    if (get32 (data + pos) == SIG_END)
      return pos;
  return -1;
}

static char *
decode_name (const guint8 *name,
             gsize         len,
             gboolean      utf8)
{
  if (utf8 || g_utf8_validate_len ((const char *) name, len, NULL))
    {
      if (g_utf8_validate_len ((const char *) name, len, NULL))
        return g_strndup ((const char *) name, len);
      return g_utf8_make_valid ((const char *) name, len);
    }
  {
    char *converted = g_convert ((const char *) name, len, "UTF-8", "CP437", NULL, NULL, NULL);

    if (converted != NULL)
      return converted;
    return g_utf8_make_valid ((const char *) name, len);
  }
}

static void
entry_clear (gpointer data)
{
  NpvZipEntry *entry = data;

  g_free (entry->name);
}

GArray *
npv_zip_read_directory (NpvSource  *source,
                        GError    **error)
{
  const guint8 *data = npv_source_get_data (source);
  guint64 size = npv_source_get_size (source);
  g_autoptr(GArray) entries = NULL;
  gint64 end_pos;
  guint64 n_entries, cd_size, cd_offset;
  const guint8 *p, *cd_end;

  end_pos = find_end_record (data, size);
  if (end_pos < 0)
    {
      zip_error (error, source, "no zip central directory: the archive is cut short or damaged");
      return NULL;
    }

  n_entries = get16 (data + end_pos + 10);
  cd_size = get32 (data + end_pos + 12);
  cd_offset = get32 (data + end_pos + 16);

  if (n_entries == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff)
    {
      guint64 locator = end_pos >= 20 ? end_pos - 20 : 0;
      guint64 end64;

      if (end_pos < 20 || get32 (data + locator) != SIG_LOCATOR64)
        {
          zip_error (error, source, "zip64 archive without its zip64 end locator");
          return NULL;
        }
      end64 = get64 (data + locator + 8);
      if (end64 > size || size - end64 < 56 || get32 (data + end64) != SIG_END64)
        {
          zip_error (error, source, "the zip64 end record is not where its locator says");
          return NULL;
        }
      n_entries = get64 (data + end64 + 32);
      cd_size = get64 (data + end64 + 40);
      cd_offset = get64 (data + end64 + 48);
    }

  if (cd_offset > size || cd_size > size - cd_offset)
    {
      zip_error (error, source, "the central directory (%" G_GUINT64_FORMAT " bytes at %"
                 G_GUINT64_FORMAT ") lies outside the file of %" G_GUINT64_FORMAT " bytes",
                 cd_size, cd_offset, size);
      return NULL;
    }
  if (n_entries > cd_size / CENTRAL_SIZE)
    {
      zip_error (error, source, "the archive claims %" G_GUINT64_FORMAT " members but its "
                 "directory has room for at most %" G_GUINT64_FORMAT, n_entries,
                 cd_size / CENTRAL_SIZE);
      return NULL;
    }

  entries = g_array_sized_new (FALSE, TRUE, sizeof (NpvZipEntry), n_entries);
  g_array_set_clear_func (entries, entry_clear);

  p = data + cd_offset;
  cd_end = p + cd_size;
  for (guint64 i = 0; i < n_entries; i++)
    {
      NpvZipEntry entry = { 0, };
      guint16 name_len, extra_len, comment_len;
      const guint8 *extra, *extra_end;

      if (cd_end - p < CENTRAL_SIZE || get32 (p) != SIG_CENTRAL)
        {
          zip_error (error, source, "central directory entry %" G_GUINT64_FORMAT
                     " is damaged (at byte %" G_GUINT64_FORMAT ")", i, (guint64) (p - data));
          return NULL;
        }
      name_len = get16 (p + 28);
      extra_len = get16 (p + 30);
      comment_len = get16 (p + 32);
      if ((guint64) (cd_end - p) < (guint64) CENTRAL_SIZE + name_len + extra_len + comment_len)
        {
          zip_error (error, source, "central directory entry %" G_GUINT64_FORMAT
                     " runs past the directory", i);
          return NULL;
        }

      entry.flags = get16 (p + 8);
      entry.method = get16 (p + 10);
      entry.crc32 = get32 (p + 16);
      entry.compressed_size = get32 (p + 20);
      entry.uncompressed_size = get32 (p + 24);
      entry.local_header_offset = get32 (p + 42);

      /* zip64: the fields that overflowed follow in this order. */
      extra = p + CENTRAL_SIZE + name_len;
      extra_end = extra + extra_len;
      while (extra_end - extra >= 4)
        {
          guint16 id = get16 (extra);
          guint16 len = get16 (extra + 2);
          const guint8 *field = extra + 4;

          if (extra_end - field < len)
            break;
          if (id == 0x0001)
            {
              const guint8 *end = field + len;

              if (entry.uncompressed_size == 0xffffffff && end - field >= 8)
                entry.uncompressed_size = get64 (field), field += 8;
              if (entry.compressed_size == 0xffffffff && end - field >= 8)
                entry.compressed_size = get64 (field), field += 8;
              if (entry.local_header_offset == 0xffffffff && end - field >= 8)
                entry.local_header_offset = get64 (field), field += 8;
            }
          extra += 4 + len;
        }

      entry.name = decode_name (p + CENTRAL_SIZE, name_len, (entry.flags & 0x800) != 0);
      g_array_append_val (entries, entry);
      p += CENTRAL_SIZE + name_len + extra_len + comment_len;
    }

  return g_steal_pointer (&entries);
}

gboolean
npv_zip_entry_locate (NpvSource    *source,
                      NpvZipEntry  *entry,
                      GError      **error)
{
  const guint8 *data = npv_source_get_data (source);
  guint64 size = npv_source_get_size (source);
  guint64 lho = entry->local_header_offset;
  guint64 data_offset;

  if (lho > size || size - lho < LOCAL_SIZE || get32 (data + lho) != SIG_LOCAL)
    {
      zip_error (error, source, "member “%s”: no local header at byte %" G_GUINT64_FORMAT,
                 entry->name, lho);
      return FALSE;
    }
  data_offset = lho + LOCAL_SIZE + get16 (data + lho + 26) + get16 (data + lho + 28);
  if (data_offset > size || entry->compressed_size > size - data_offset)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                   "%s: member “%s” is cut short: %" G_GUINT64_FORMAT " bytes of data at byte %"
                   G_GUINT64_FORMAT " but the file ends at %" G_GUINT64_FORMAT,
                   npv_source_get_name (source), entry->name, entry->compressed_size,
                   data_offset, size);
      return FALSE;
    }
  entry->data_offset = data_offset;
  return TRUE;
}
