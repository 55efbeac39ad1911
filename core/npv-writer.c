/* npv-writer.c: writing a file without ever leaving half of one
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-writer"

#include "npv-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "npv-error.h"

#define BUFFER_SIZE (1 << 20)

struct _NpvWriter
{
  char *path;
  char *tmp_path;
  int fd;
  int pending;                 /* its slot in pending_paths, or -1 */
  gboolean overwrite;
  guint8 *buffer;
  gsize buffered;
};

static void
set_io_error (GError     **error,
              const char  *path,
              const char  *what,
              int          errsv)
{
  g_set_error (error, NPV_ERROR, errsv == EEXIST ? NPV_ERROR_EXISTS : NPV_ERROR_IO,
               "%s: cannot %s: %s", path, what, g_strerror (errsv));
}

/* The temporary files being written, for a signal handler to remove: a
 * fixed table it can read without taking a lock or allocating. */
#define MAX_PENDING 8

static char pending_paths[MAX_PENDING][PATH_MAX];
static volatile sig_atomic_t pending_used[MAX_PENDING];
static GMutex pending_lock;

static int
pending_add (const char *path)
{
  int slot = -1;

  if (strlen (path) >= PATH_MAX)
    return -1;
  g_mutex_lock (&pending_lock);
  for (int i = 0; i < MAX_PENDING && slot < 0; i++)
    if (!pending_used[i])
      {
        strcpy (pending_paths[i], path);
        pending_used[i] = 1;
        slot = i;
      }
  g_mutex_unlock (&pending_lock);
  return slot;
}

static void
pending_remove (int slot)
{
  if (slot < 0)
    return;
  g_mutex_lock (&pending_lock);
  pending_used[slot] = 0;
  g_mutex_unlock (&pending_lock);
}

static void
remove_pending_and_die (int sig)
{
  for (int i = 0; i < MAX_PENDING; i++)
    if (pending_used[i])
      unlink (pending_paths[i]);
  signal (sig, SIG_DFL);
  raise (sig);
}

void
npv_writer_remove_on_signals (void)
{
  const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGXFSZ };

  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    {
      struct sigaction action;

      memset (&action, 0, sizeof action);
      /* a file-size limit makes write() fail (EFBIG) rather than kill */
      action.sa_handler = signals[i] == SIGXFSZ ? SIG_IGN : remove_pending_and_die;
      sigemptyset (&action.sa_mask);
      sigaction (signals[i], &action, NULL);
    }
}

static void
writer_free (NpvWriter *writer)
{
  pending_remove (writer->pending);
  if (writer->fd >= 0)
    close (writer->fd);
  g_free (writer->buffer);
  g_free (writer->tmp_path);
  g_free (writer->path);
  g_free (writer);
}

NpvWriter *
npv_writer_new (const char  *path,
                gboolean     overwrite,
                GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  NpvWriter *writer;
  struct stat st;
  mode_t mask;

  if (g_stat (path, &st) == 0)
    {
      if (S_ISDIR (st.st_mode))
        {
          g_set_error (error, NPV_ERROR, NPV_ERROR_IO, "%s: is a folder", path);
          return NULL;
        }
      if (!overwrite)
        {
          g_set_error (error, NPV_ERROR, NPV_ERROR_EXISTS,
                       "%s: exists already; it was left as it is (replace it with --force)", path);
          return NULL;
        }
    }

  writer = g_new0 (NpvWriter, 1);
  writer->pending = -1;
  writer->path = g_strdup (path);
  writer->overwrite = overwrite;
  writer->tmp_path = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  writer->fd = g_mkstemp_full (writer->tmp_path, O_RDWR | O_CLOEXEC, 0600);
  if (writer->fd < 0)
    {
      int errsv = errno;

      set_io_error (error, path, "create a file in its folder", errsv);
      g_clear_pointer (&writer->tmp_path, g_free);
      writer_free (writer);
      return NULL;
    }

  writer->pending = pending_add (writer->tmp_path);

  /* mkstemp makes the file private; give it the mode a plain creat() would. */
  mask = umask (0);
  umask (mask);
  if (fchmod (writer->fd, 0666 & ~mask) != 0)
    g_debug ("cannot set the mode of %s: %s", writer->tmp_path, g_strerror (errno));

  writer->buffer = g_malloc (BUFFER_SIZE);
  return writer;
}

static gboolean
write_all (NpvWriter   *writer,
           const void  *data,
           gsize        len,
           GError     **error)
{
  const guint8 *p = data;

  while (len > 0)
    {
      gssize n = write (writer->fd, p, MIN (len, (gsize) 1 << 30));

      if (n < 0)
        {
          int errsv = errno;

          if (errsv == EINTR)
            continue;
          set_io_error (error, writer->path, "write", errsv);
          return FALSE;
        }
      p += n;
      len -= n;
    }
  return TRUE;
}

static gboolean
flush (NpvWriter  *writer,
       GError    **error)
{
  gsize n = writer->buffered;

  writer->buffered = 0;
  return write_all (writer, writer->buffer, n, error);
}

gboolean
npv_writer_write (NpvWriter   *writer,
                  const void  *data,
                  gsize        len,
                  GError     **error)
{
  if (writer->buffered + len <= BUFFER_SIZE)
    {
      memcpy (writer->buffer + writer->buffered, data, len);
      writer->buffered += len;
      return TRUE;
    }
  if (!flush (writer, error))
    return FALSE;
  if (len >= BUFFER_SIZE / 2)
    return write_all (writer, data, len, error);
  memcpy (writer->buffer, data, len);
  writer->buffered = len;
  return TRUE;
}

gboolean
npv_writer_copy_range (NpvWriter  *writer,
                       int         fd,
                       guint64     offset,
                       guint64     len,
                       GError    **error)
{
  gboolean in_kernel = TRUE;

  if (!flush (writer, error))
    return FALSE;

  while (len > 0)
    {
      gssize n = -1;

      if (in_kernel)
        {
          loff_t off = offset;

          n = copy_file_range (fd, &off, writer->fd, NULL, MIN (len, (guint64) 1 << 30), 0);
          if (n < 0 && errno != EINTR)
            {
              /* Another file system, an old kernel: copy by hand. */
              in_kernel = FALSE;
              continue;
            }
        }
      else
        {
          gsize want = MIN (len, (guint64) BUFFER_SIZE);

          n = pread (fd, writer->buffer, want, offset);
          if (n > 0 && !write_all (writer, writer->buffer, n, error))
            return FALSE;
        }

      if (n < 0)
        {
          int errsv = errno;

          if (errsv == EINTR)
            continue;
          set_io_error (error, writer->path, "copy", errsv);
          return FALSE;
        }
      if (n == 0)
        {
          g_set_error (error, NPV_ERROR, NPV_ERROR_TRUNCATED,
                       "the input file changed on disk: it ends before byte %" G_GUINT64_FORMAT,
                       offset + 1);
          return FALSE;
        }
      offset += n;
      len -= n;
    }
  return TRUE;
}

gboolean
npv_writer_commit (NpvWriter  *writer,
                   GError    **error)
{
  gboolean ok = flush (writer, error);

  if (ok && close (writer->fd) != 0)
    {
      set_io_error (error, writer->path, "write", errno);
      ok = FALSE;
    }
  writer->fd = -1;

  if (ok)
    {
      if (writer->overwrite)
        {
          if (g_rename (writer->tmp_path, writer->path) != 0)
            {
              set_io_error (error, writer->path, "replace", errno);
              ok = FALSE;
            }
        }
      /* link() fails if the target appeared meanwhile: no clobbering. */
      else if (link (writer->tmp_path, writer->path) != 0)
        {
          int errsv = errno;

          /* Some file systems have no hard links: check, then rename. */
          if ((errsv == EPERM || errsv == ENOSYS || errsv == EOPNOTSUPP) &&
              !g_file_test (writer->path, G_FILE_TEST_EXISTS) &&
              g_rename (writer->tmp_path, writer->path) == 0)
            {
              writer_free (writer);
              return TRUE;
            }

          if (errsv == EEXIST)
            g_set_error (error, NPV_ERROR, NPV_ERROR_EXISTS,
                         "%s: exists already; it was left as it is (replace it with --force)",
                         writer->path);
          else
            set_io_error (error, writer->path, "create", errsv);
          ok = FALSE;
        }
    }

  if (!ok || !writer->overwrite)
    g_unlink (writer->tmp_path);
  writer_free (writer);
  return ok;
}

void
npv_writer_abort (NpvWriter *writer)
{
  if (writer == NULL)
    return;
  if (writer->fd >= 0)
    close (writer->fd);
  writer->fd = -1;
  g_unlink (writer->tmp_path);
  writer_free (writer);
}
