/* fuzz.h: what every fuzz target shares
 *
 * Each target defines LLVMFuzzerTestOneInput(). Built with -Dfuzzing=true
 * it is linked with libFuzzer; in every other build it is linked with
 * fuzz-replay.c, which feeds it the saved corpus and the inputs that once
 * failed, so that the normal test suite runs them all.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* Criticals and warnings are bugs here: make them abort, so that the
 * fuzzer reports them as it reports a crash. Call once per input (cheap). */
static inline void
npv_fuzz_init (void)
{
  static gsize done;

  if (g_once_init_enter (&done))
    {
      g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
      g_log_set_fatal_mask ("GLib", G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
      g_once_init_leave (&done, 1);
    }
}
