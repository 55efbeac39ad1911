/* npv-guard.c: surviving a mapped file that shrinks under us
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "npv-guard.h"

#include <signal.h>
#include <string.h>

/* The innermost guard of this thread, or NULL. */
static __thread NpvGuard *current_guard;
static struct sigaction previous_action;

static void
on_sigbus (int        signum,
           siginfo_t *info,
           void      *context)
{
  NpvGuard *guard = current_guard;

  if (guard != NULL)
    {
      current_guard = guard->outer;
      /* SA_NODEFER: SIGBUS is not blocked here, so the jump need not
       * restore the signal mask (and the guard costs no system call). */
      siglongjmp (guard->env, 1);
    }

  /* Not ours: whatever was there before us, or the default, which ends the
   * process when the faulting instruction runs again. */
  if (previous_action.sa_flags & SA_SIGINFO && previous_action.sa_sigaction != NULL)
    previous_action.sa_sigaction (signum, info, context);
  else if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN &&
           previous_action.sa_handler != NULL)
    previous_action.sa_handler (signum);
  else
    signal (SIGBUS, SIG_DFL);
}

static void
install_handler (void)
{
  static gsize installed;

  if (g_once_init_enter (&installed))
    {
      struct sigaction action;

      memset (&action, 0, sizeof action);
      action.sa_sigaction = on_sigbus;
      action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
      sigemptyset (&action.sa_mask);
      sigaction (SIGBUS, &action, &previous_action);
      g_once_init_leave (&installed, 1);
    }
}

void
npv_guard_push (NpvGuard *guard)
{
  install_handler ();
  guard->outer = current_guard;
  current_guard = guard;
}

void
npv_guard_leave (NpvGuard *guard)
{
  g_return_if_fail (current_guard == guard);
  current_guard = guard->outer;
}

gboolean
npv_guard_copy (void       *dest,
                const void *src,
                gsize       n)
{
  NpvGuard guard;

  if (!npv_guard_enter (&guard))
    return FALSE;
  memcpy (dest, src, n);
  npv_guard_leave (&guard);
  return TRUE;
}
