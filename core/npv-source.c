/* npv-source.c: the bytes behind an array
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-source"

#include "npv-source.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "npv-error.h"

struct _NpvSource
{
  char *name;
  const guint8 *data;
  guint64 size;
  int fd;
  /* one of: */
  void *mapping;
  GBytes *bytes;
};

static void
source_clear (gpointer data)
{
  NpvSource *source = data;

  if (source->mapping != NULL)
    munmap (source->mapping, source->size);
  if (source->fd >= 0)
    close (source->fd);
  g_clear_pointer (&source->bytes, g_bytes_unref);
  g_free (source->name);
}

NpvSource *
npv_source_new_for_path (const char  *path,
                         GError     **error)
{
  g_autoptr(NpvSource) source = NULL;
  struct stat st;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, NPV_ERROR, NPV_ERROR_IO, "%s: cannot open: %s", path, g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, NPV_ERROR, NPV_ERROR_IO, "%s: cannot read: %s", path, g_strerror (saved));
      close (fd);
      return NULL;
    }
  if (S_ISDIR (st.st_mode))
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_IO, "%s: is a folder, not a file", path);
      close (fd);
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_IO,
                   "%s: is not a regular file (a device, pipe or socket cannot be mapped)", path);
      close (fd);
      return NULL;
    }

  source = g_atomic_rc_box_new0 (NpvSource);
  source->name = g_strdup (path);
  source->size = st.st_size;
  source->fd = fd;

  if (st.st_size > 0)
    {
      void *map = mmap (NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);

      if (map == MAP_FAILED)
        {
          int saved = errno;

          g_set_error (error, NPV_ERROR, NPV_ERROR_IO, "%s: cannot map: %s", path, g_strerror (saved));
          return NULL;
        }
      source->mapping = map;
      source->data = map;
    }
  else
    source->data = (const guint8 *) "";

  return g_steal_pointer (&source);
}

NpvSource *
npv_source_new_for_bytes (GBytes     *bytes,
                          const char *name)
{
  NpvSource *source = g_atomic_rc_box_new0 (NpvSource);
  gsize size;

  source->name = g_strdup (name);
  source->fd = -1;
  source->bytes = g_bytes_ref (bytes);
  source->data = g_bytes_get_data (bytes, &size);
  source->size = size;
  if (source->data == NULL)
    source->data = (const guint8 *) "";
  return source;
}

NpvSource *
npv_source_ref (NpvSource *source)
{
  return g_atomic_rc_box_acquire (source);
}

void
npv_source_unref (NpvSource *source)
{
  g_atomic_rc_box_release_full (source, source_clear);
}

const char *
npv_source_get_name (NpvSource *source)
{
  return source->name;
}

guint64
npv_source_get_size (NpvSource *source)
{
  return source->size;
}

const guint8 *
npv_source_get_data (NpvSource *source)
{
  return source->data;
}

int
npv_source_get_fd (NpvSource *source)
{
  return source->fd;
}

gboolean
npv_source_read (NpvSource  *source,
                 guint64     offset,
                 void       *buffer,
                 gsize       len,
                 GError    **error)
{
  guint8 *p = buffer;

  if (offset > source->size || len > source->size - offset)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                   "%s: reading past the end (%" G_GUINT64_FORMAT " bytes at %" G_GUINT64_FORMAT
                   " of %" G_GUINT64_FORMAT ")", source->name, (guint64) len, offset, source->size);
      return FALSE;
    }

  if (source->fd < 0)
    {
      memcpy (buffer, source->data + offset, len);
      return TRUE;
    }

  while (len > 0)
    {
      gssize n = pread (source->fd, p, len, offset);

      if (n < 0)
        {
          int saved = errno;

          if (saved == EINTR)
            continue;
          g_set_error (error, NPV_ERROR, NPV_ERROR_IO, "%s: cannot read: %s",
                       source->name, g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        {
          g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                       "%s: the file changed on disk: it ends before byte %" G_GUINT64_FORMAT,
                       source->name, offset + 1);
          return FALSE;
        }
      p += n;
      offset += n;
      len -= n;
    }
  return TRUE;
}
