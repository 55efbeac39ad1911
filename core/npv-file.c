/* npv-file.c: detecting what a file holds and opening its members
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-file"

#include "npv-file.h"

#include <string.h>

#include "npv-error.h"

struct _NpvFile
{
  NpvSource *source;
  NpvFileFormat format;
  gboolean in_memory;
  GPtrArray *members;
};

static void
member_free (NpvMember *member)
{
  g_free (member->name);
  npv_npy_header_clear (&member->header);
  g_free (member);
}

static void
file_clear (gpointer data)
{
  NpvFile *file = data;

  g_clear_pointer (&file->members, g_ptr_array_unref);
  g_clear_pointer (&file->source, npv_source_unref);
}

NpvFile *
npv_file_ref (NpvFile *file)
{
  return g_atomic_rc_box_acquire (file);
}

void
npv_file_unref (NpvFile *file)
{
  g_atomic_rc_box_release_full (file, file_clear);
}

const char *
npv_file_format_to_string (NpvFileFormat format)
{
  switch (format)
    {
    case NPV_FILE_FORMAT_NPY: return "npy";
    case NPV_FILE_FORMAT_NPZ: return "npz";
    case NPV_FILE_FORMAT_NPY_GZ: return "npy.gz";
    case NPV_FILE_FORMAT_PICKLE: return "pickle";
    default: return "?";
    }
}

const char *
npv_storage_to_string (NpvStorage storage)
{
  switch (storage)
    {
    case NPV_STORAGE_MAPPED: return "mapped";
    case NPV_STORAGE_STORED: return "stored";
    case NPV_STORAGE_DEFLATE: return "deflate";
    case NPV_STORAGE_GZIP: return "gzip";
    case NPV_STORAGE_PICKLE: return "pickle";
    case NPV_STORAGE_MEMORY: return "memory";
    default: return "?";
    }
}

static gboolean
open_npy (NpvFile  *file,
          GError  **error)
{
  NpvMember *member = g_new0 (NpvMember, 1);
  const char *name = npv_source_get_name (file->source);

  if (!npv_npy_header_parse (&member->header,
                             npv_source_get_data (file->source),
                             npv_source_get_size (file->source),
                             name, error))
    {
      member_free (member);
      return FALSE;
    }
  if (!npv_npy_header_check_size (&member->header, npv_source_get_size (file->source), name, error))
    {
      member_free (member);
      return FALSE;
    }
  member->name = g_strdup ("");
  member->storage = file->in_memory ? NPV_STORAGE_MEMORY : NPV_STORAGE_MAPPED;
  g_ptr_array_add (file->members, member);
  return TRUE;
}

static NpvFile *
file_open_source (NpvSource  *source,
                  gboolean    in_memory,
                  GError    **error)
{
  g_autoptr(NpvFile) file = g_atomic_rc_box_new0 (NpvFile);
  const guint8 *data = npv_source_get_data (source);
  guint64 size = npv_source_get_size (source);
  const char *name = npv_source_get_name (source);

  file->source = npv_source_ref (source);
  file->in_memory = in_memory;
  file->members = g_ptr_array_new_with_free_func ((GDestroyNotify) member_free);

  if (size == 0)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                   "%s: the file is empty (expected an .npy, .npz, .npy.gz or pickle file)", name);
      return NULL;
    }

  if (size >= NPV_NPY_MAGIC_LEN && memcmp (data, NPV_NPY_MAGIC, NPV_NPY_MAGIC_LEN) == 0)
    {
      file->format = NPV_FILE_FORMAT_NPY;
      if (!open_npy (file, error))
        return NULL;
      return g_steal_pointer (&file);
    }

  if (size >= 4 && (memcmp (data, "PK\x03\x04", 4) == 0 || memcmp (data, "PK\x05\x06", 4) == 0))
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED,
                   "%s: is a zip archive (.npz); this version of npyview reads only .npy files", name);
      return NULL;
    }

  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED,
                   "%s: is gzip-compressed; this version of npyview reads only uncompressed .npy files",
                   name);
      return NULL;
    }

  if (data[0] == 0x80 || data[0] == '(' || data[0] == ']' || data[0] == '}' || data[0] == 'c')
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED,
                   "%s: looks like a Python pickle; this version of npyview reads only .npy files",
                   name);
      return NULL;
    }

  {
    g_autoptr(GString) start = g_string_new (NULL);

    for (guint i = 0; i < MIN (size, 8); i++)
      g_string_append_printf (start, "\\x%02x", data[i]);
    g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                 "%s: not a NumPy file: expected \\x93NUMPY (.npy), PK (.npz), \\x1f\\x8b (gzip) "
                 "or a pickle, found %s", name, start->str);
  }
  return NULL;
}

NpvFile *
npv_file_open (const char  *path,
               GError     **error)
{
  g_autoptr(NpvSource) source = npv_source_new_for_path (path, error);

  if (source == NULL)
    return NULL;
  return file_open_source (source, FALSE, error);
}

NpvFile *
npv_file_open_bytes (GBytes      *bytes,
                     const char  *name,
                     GError     **error)
{
  g_autoptr(NpvSource) source = npv_source_new_for_bytes (bytes, name);

  return file_open_source (source, TRUE, error);
}

const char *
npv_file_get_path (NpvFile *file)
{
  return npv_source_get_name (file->source);
}

NpvFileFormat
npv_file_get_format (NpvFile *file)
{
  return file->format;
}

guint64
npv_file_get_size (NpvFile *file)
{
  return npv_source_get_size (file->source);
}

guint
npv_file_get_n_members (NpvFile *file)
{
  return file->members->len;
}

const NpvMember *
npv_file_get_member (NpvFile *file,
                     guint    index)
{
  g_return_val_if_fail (index < file->members->len, NULL);
  return g_ptr_array_index (file->members, index);
}

const NpvMember *
npv_file_lookup_member (NpvFile     *file,
                        const char  *name,
                        GError     **error)
{
  const char *path = npv_source_get_name (file->source);

  if (file->format == NPV_FILE_FORMAT_NPY)
    {
      if (name == NULL || name[0] == '\0')
        return g_ptr_array_index (file->members, 0);
      g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT,
                   "%s: no member “%s”: a plain .npy file holds one array and has no members",
                   path, name);
      return NULL;
    }

  for (guint i = 0; i < file->members->len; i++)
    {
      const NpvMember *member = g_ptr_array_index (file->members, i);

      if (g_strcmp0 (member->name, name) == 0)
        return member;
    }
  g_set_error (error, NPV_ERROR, NPV_ERROR_INVALID_ARGUMENT, "%s: no member “%s”", path, name);
  return NULL;
}

NpvArray *
npv_file_open_array (NpvFile          *file,
                     const NpvMember  *member,
                     GError          **error)
{
  const char *path = npv_source_get_name (file->source);

  if (npv_dtype_has_object (member->header.dtype))
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_UNSUPPORTED,
                   "%s: holds Python objects (dtype |O), whose values are a pickle; "
                   "this version of npyview shows only their shape and type", path);
      return NULL;
    }

  if (!npv_npy_header_check_size (&member->header, npv_source_get_size (file->source), path, error))
    return NULL;

  return npv_array_new (file->source, member->header.dtype, member->header.data_offset,
                        member->header.ndim, member->header.shape, member->header.fortran_order);
}
