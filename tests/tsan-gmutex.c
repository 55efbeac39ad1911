/* tsan-gmutex.c: GMutex that ThreadSanitizer can see
 *
 * GLib's GMutex is a bare futex: ThreadSanitizer does not know it orders
 * memory, and reports every access it protects as a race. Linked into the
 * test programs of a -Db_sanitize=thread build only, these definitions
 * take the place of GLib's for the calls the project makes, with a
 * pthread mutex per GMutex (found by its address), which the sanitizer
 * understands. GLib's own internal calls keep its futexes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib.h>
#include <pthread.h>
#include <stdlib.h>

#define SLOTS 4096

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { GMutex *key; pthread_mutex_t *mutex; } table[SLOTS];

static pthread_mutex_t *
lookup (GMutex   *key,
        gboolean  create)
{
  guint i = (GPOINTER_TO_SIZE (key) >> 3) % SLOTS;
  pthread_mutex_t *found = NULL;

  pthread_mutex_lock (&table_lock);
  for (guint n = 0; n < SLOTS; n++, i = (i + 1) % SLOTS)
    {
      if (table[i].key == key)
        {
          found = table[i].mutex;
          break;
        }
      if (table[i].key == NULL)
        {
          if (create)
            {
              table[i].key = key;
              table[i].mutex = malloc (sizeof (pthread_mutex_t));
              pthread_mutex_init (table[i].mutex, NULL);
              found = table[i].mutex;
            }
          break;
        }
    }
  pthread_mutex_unlock (&table_lock);
  if (found == NULL && create)
    abort ();
  return found;
}

void
g_mutex_init (GMutex *mutex)
{
  lookup (mutex, TRUE);
}

void
g_mutex_clear (GMutex *mutex)
{
  /* Kept: a later GMutex at the same address reuses it. */
}

void
g_mutex_lock (GMutex *mutex)
{
  pthread_mutex_lock (lookup (mutex, TRUE));
}

void
g_mutex_unlock (GMutex *mutex)
{
  pthread_mutex_unlock (lookup (mutex, TRUE));
}

gboolean
g_mutex_trylock (GMutex *mutex)
{
  return pthread_mutex_trylock (lookup (mutex, TRUE)) == 0;
}
