/* npv-guard.h: surviving a mapped file that shrinks under us
 *
 * Reading a page of a mapping past the end of a file that another
 * program has cut short raises SIGBUS. Most reads go through pread() and
 * see a short read instead (npv_source_read()); the few places that parse
 * a mapping in place (headers, zip directories, pickles and the objects
 * they hold) run inside a guard. SIGBUS in a guarded stretch returns to
 * the guard's start in the thread that touched the page, which then fails
 * with a "changed on disk" error; everywhere else SIGBUS stays fatal.
 *
 *   NpvGuard guard;
 *
 *   if (!npv_guard_enter (&guard))
 *     return fail_changed_on_disk ();   // the signal came back here
 *   ...touch the mapping...
 *   npv_guard_leave (&guard);
 *
 * A stretch that SIGBUS ends leaks what it allocated and never releases
 * locks it took: guard only code that takes no lock. Variables of the
 * guarding function changed inside the stretch must be volatile.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <setjmp.h>

G_BEGIN_DECLS

typedef struct _NpvGuard NpvGuard;

struct _NpvGuard
{
  sigjmp_buf env;
  NpvGuard *outer;
};

/* TRUE on entry; FALSE when SIGBUS came back to it (the guard has then
 * been left already). A macro: sigsetjmp() must run in the guarding frame. */
#define npv_guard_enter(guard) (npv_guard_push (guard), sigsetjmp ((guard)->env, 0) == 0)

void     npv_guard_push  (NpvGuard    *guard);
void     npv_guard_leave (NpvGuard    *guard);

/* memcpy() that fails instead of dying when @src lies in pages a file
 * no longer has. */
gboolean npv_guard_copy  (void        *dest,
                          const void  *src,
                          gsize        n);

G_END_DECLS
