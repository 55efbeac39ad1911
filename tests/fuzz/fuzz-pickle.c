/* fuzz-pickle.c: the pickle interpreter
 *
 * Any bytes: an error, or a tree within the memory and object limits that
 * can be walked and written out. Nothing is ever called or imported: the
 * interpreter has no way to, and the harness would catch a crash.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "fuzz.h"
#include "npv-pickle.h"
#include "npv-pyobject.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvPyObject) root = NULL;
  g_autoptr(GBytes) bytes = NULL;
  NpvPickleOptions options = { 0 };
  gsize consumed = 0;

  npv_fuzz_init ();
  /* The first byte picks the text encoding of Python 2 strings. */
  if (size < 1)
    return 0;
  options.encoding = data[0] % 3;
  bytes = g_bytes_new (data + 1, size - 1);
  root = npv_pickle_load_bytes (bytes, 0, &options, &consumed, &error);
  if (root == NULL)
    {
      g_assert (error != NULL && error->message[0] != '\0');
      return 0;
    }
  g_assert (consumed <= size - 1);
  {
    g_autofree char *repr = npv_py_object_repr (root);

    g_assert (repr != NULL);
  }
  return 0;
}
