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
#include "npv-inflate.h"

/* Inflated blocks kept for reuse: neighbouring reads (rows of a plane, the
 * items of a printout) mostly land in a block inflated a moment ago. */
#define CACHE_BLOCK (256 * 1024)
#define CACHE_BLOCKS 32

struct _NpvSource
{
  char *name;
  const guint8 *data;
  guint64 size;
  int fd;
  /* one of: */
  void *mapping;
  GBytes *bytes;
  NpvInflateIndex *inflate;

  /* inflate only: block number -> GBytes, and their use order */
  GMutex cache_lock;
  GHashTable *cache;
  GQueue cache_order;
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
  if (source->inflate != NULL)
    {
      npv_inflate_index_unref (source->inflate);
      g_hash_table_unref (source->cache);
      g_queue_clear (&source->cache_order);
      g_mutex_clear (&source->cache_lock);
    }
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
npv_source_new_for_inflate (NpvInflateIndex *index,
                            guint64          size,
                            const char      *name)
{
  NpvSource *source = g_atomic_rc_box_new0 (NpvSource);

  source->name = g_strdup (name);
  source->fd = -1;
  source->size = size;
  source->inflate = npv_inflate_index_ref (index);
  source->cache = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                         (GDestroyNotify) g_bytes_unref);
  g_mutex_init (&source->cache_lock);
  g_queue_init (&source->cache_order);
  return source;
}

static void
cache_insert_locked (NpvSource *source,
                     gint64     block,
                     GBytes    *bytes)
{
  if (g_hash_table_contains (source->cache, &block))
    return;
  g_hash_table_insert (source->cache, g_memdup2 (&block, sizeof block), g_bytes_ref (bytes));
  g_queue_push_head (&source->cache_order, bytes);
  while (g_queue_get_length (&source->cache_order) > CACHE_BLOCKS)
    {
      GBytes *old = g_queue_pop_tail (&source->cache_order);
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, source->cache);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (value == old)
          {
            g_hash_table_iter_remove (&iter);
            break;
          }
    }
}

/* Block @block of an inflate source, from the cache or inflated now.
 * When it is missing, the missing blocks after it up to @last_block are
 * inflated in the same pass: a read across blocks then costs one span of
 * inflate, not one per block. */
static GBytes *
inflated_block (NpvSource  *source,
                gint64      block,
                gint64      last_block,
                GError    **error)
{
  guint64 start = (guint64) block * CACHE_BLOCK;
  gint64 run_end = block;
  g_autoptr(GBytes) run = NULL;
  GBytes *bytes;
  gsize len;
  guint8 *data;

  g_mutex_lock (&source->cache_lock);
  bytes = g_hash_table_lookup (source->cache, &block);
  if (bytes != NULL)
    {
      g_bytes_ref (bytes);
      /* Most recently used at the head. */
      g_queue_remove (&source->cache_order, bytes);
      g_queue_push_head (&source->cache_order, bytes);
    }
  else
    {
      /* At most half the cache, so that the run does not evict itself. */
      while (run_end < last_block && run_end - block + 1 < CACHE_BLOCKS / 2 &&
             (guint64) (run_end + 1) * CACHE_BLOCK < source->size)
        {
          gint64 next = run_end + 1;

          if (g_hash_table_contains (source->cache, &next))
            break;
          run_end = next;
        }
    }
  g_mutex_unlock (&source->cache_lock);
  if (bytes != NULL)
    return bytes;

  /* Inflate outside the lock: other threads go on meanwhile. */
  len = MIN ((guint64) (run_end - block + 1) * CACHE_BLOCK, source->size - start);
  data = g_malloc (MAX (len, 1));
  if (!npv_inflate_index_read (source->inflate, start, data, len, NULL, error))
    {
      g_free (data);
      return NULL;
    }
  run = g_bytes_new_take (data, len);

  g_mutex_lock (&source->cache_lock);
  for (gint64 b = run_end; b >= block; b--)
    {
      gsize offset = (gsize) (b - block) * CACHE_BLOCK;
      g_autoptr(GBytes) piece = g_bytes_new_from_bytes (run, offset, MIN ((gsize) CACHE_BLOCK, len - offset));

      /* The first block goes in last: most recently used. */
      cache_insert_locked (source, b, piece);
      if (b == block)
        bytes = g_bytes_ref (piece);
    }
  g_mutex_unlock (&source->cache_lock);
  return bytes;
}

static gboolean
read_inflated (NpvSource  *source,
               guint64     offset,
               guint8     *out,
               gsize       len,
               GError    **error)
{
  while (len > 0)
    {
      gint64 block = offset / CACHE_BLOCK;
      gsize within = offset % CACHE_BLOCK;
      g_autoptr(GBytes) bytes = inflated_block (source, block, (gint64) ((offset + len - 1) / CACHE_BLOCK),
                                                error);
      gsize avail, n;
      const guint8 *data;

      if (bytes == NULL)
        return FALSE;
      data = g_bytes_get_data (bytes, &avail);
      if (within >= avail)
        {
          g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                       "%s: the compressed data ends before byte %" G_GUINT64_FORMAT,
                       source->name, offset + 1);
          return FALSE;
        }
      n = MIN (len, avail - within);
      memcpy (out, data + within, n);
      out += n;
      offset += n;
      len -= n;
    }
  return TRUE;
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

  if (source->inflate != NULL)
    return read_inflated (source, offset, buffer, len, error);

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
