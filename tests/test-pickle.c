/* test-pickle.c: reading pickles without executing them
 *
 * test-pickle CASES_DIR, where gen-pickle-cases.py wrote pickles made by
 * Python and numpy and cases.ini, what must be found in them.
 *
 * For longer runs by hand: TEST_PICKLE_SEED, TEST_PICKLE_MUTATIONS and
 * TEST_PICKLE_PROGRAMS change the random tests' seed and counts, and
 * TEST_PICKLE_KEEP_GOING reports every failed check instead of the first.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-pickle"

#include <string.h>

#include "npv-error.h"
#include "npv-npy.h"
#include "npv-pickle.h"

static const char *cases_dir;

/* A string literal and its length, NULs included. */
#define LIT(s) s, sizeof (s) - 1

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

static const char *const kind_names[] = {
  "none", "bool", "int", "bigint", "float", "complex", "str", "bytes", "bytearray",
  "list", "tuple", "dict", "set", "frozenset", "range", "slice", "global", "opaque",
  "ndarray", "dtype",
};

static const char *
kind_name (NpvPyKind kind)
{
  g_assert_cmpuint (kind, <, G_N_ELEMENTS (kind_names));
  return kind_names[kind];
}

static char *
repr_of (const NpvPyObject *obj,
         gsize              max_len)
{
  GString *out = g_string_new (NULL);

  npv_py_object_append_repr (out, obj, max_len);
  return g_string_free (out, FALSE);
}

static NpvPyObject *
load_with (const guint8           *data,
           gsize                   len,
           const NpvPickleOptions *options,
           GError                **error)
{
  gsize consumed = 0;
  NpvPyObject *obj = npv_pickle_load (data, len, options, &consumed, error);

  if (obj != NULL)
    g_assert_cmpuint (consumed, <=, len);
  return obj;
}

static NpvPyObject *
load (const char  *data,
      gsize        len,
      GError     **error)
{
  return load_with ((const guint8 *) data, len, NULL, error);
}

/* Loads @data, expects @code, and returns the message. */
static char *
load_error (const char *data,
            gsize       len,
            NpvError    code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvPyObject) obj = load (data, len, &error);

  g_assert_null (obj);
  g_assert_error (error, NPV_ERROR, code);
  g_assert_true (g_str_has_prefix (error->message, "pickle: "));
  return g_strdup (error->message);
}

static char *
load_repr (const char *data,
           gsize       len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvPyObject) obj = load (data, len, &error);

  g_assert_no_error (error);
  return repr_of (obj, NPV_PY_REPR_DEFAULT_MAX);
}

/* Valid UTF-8, NULs allowed. */
static gboolean
utf8_valid (const char *text,
            gsize       len)
{
  const char *end = text + len;
  const char *stop;

  while (!g_utf8_validate_len (text, end - text, &stop))
    {
      if (*stop != '\0')
        return FALSE;
      text = stop + 1;
    }
  return TRUE;
}

/* Walks everything reachable, reading every byte each object points to,
 * so that the sanitizers see any pointer the tree should not have. */
static guint64
walk (NpvPyObject *root)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  g_autoptr(GPtrArray) todo = g_ptr_array_new ();
  guint64 sum = 0;

  g_ptr_array_add (todo, root);
  while (todo->len > 0)
    {
      NpvPyObject *obj = g_ptr_array_steal_index_fast (todo, todo->len - 1);
      const guint8 *data;
      gsize len;
      NpvPyObject *parts[6];
      guint n_parts = 0;

      if (obj == NULL || !g_hash_table_add (seen, obj))
        continue;
      switch (npv_py_object_get_kind (obj))
        {
        case NPV_PY_STR:
          data = (const guint8 *) npv_py_object_get_str (obj, &len);
          g_assert_true (utf8_valid ((const char *) data, len));
          g_assert_cmpint (data[len], ==, 0);
          break;
        case NPV_PY_BYTES:
        case NPV_PY_BYTEARRAY:
          data = npv_py_object_get_bytes (obj, &len);
          break;
        case NPV_PY_BIGINT:
          data = npv_py_object_get_bigint (obj, &len);
          g_assert_cmpuint (len, >, 8);
          break;
        case NPV_PY_NDARRAY:
          {
            guint ndim;
            const gint64 *shape = npv_py_ndarray_get_shape (obj, &ndim);
            gint64 count = 1;
            NpvDType *dtype = npv_py_object_get_dtype (obj);

            g_assert_nonnull (dtype);
            g_assert_cmpint (dtype->kind, !=, NPV_KIND_SUBARRAY);
            for (guint d = 0; d < ndim; d++)
              count *= shape[d];
            g_assert_cmpint (count, ==, npv_py_ndarray_get_count (obj));
            data = npv_py_ndarray_get_data (obj, &len);
            if (npv_py_ndarray_has_elements (obj))
              {
                g_assert_null (data);
                for (gint64 i = 0; i < count; i++)
                  g_ptr_array_add (todo, npv_py_ndarray_get_element (obj, i));
                g_assert_null (npv_py_ndarray_get_element (obj, count));
              }
            else
              g_assert_cmpuint (len, ==, (gsize) count * dtype->itemsize);
          }
          break;
        case NPV_PY_OPAQUE:
          parts[n_parts++] = npv_py_opaque_get_callable (obj);
          parts[n_parts++] = npv_py_opaque_get_args (obj);
          parts[n_parts++] = npv_py_opaque_get_kwargs (obj);
          parts[n_parts++] = npv_py_opaque_get_state (obj);
          parts[n_parts++] = npv_py_opaque_get_appended (obj);
          parts[n_parts++] = npv_py_opaque_get_set_items (obj);
          data = NULL;
          len = 0;
          break;
        case NPV_PY_RANGE:
        case NPV_PY_SLICE:
          npv_py_object_get_range (obj, &parts[0], &parts[1], &parts[2]);
          n_parts = 3;
          for (guint i = 0; i < 3; i++)
            g_assert_nonnull (parts[i]);
          data = NULL;
          len = 0;
          break;
        case NPV_PY_GLOBAL:
          data = (const guint8 *) npv_py_object_get_module (obj);
          len = strlen ((const char *) data);
          sum += strlen (npv_py_object_get_name (obj));
          break;
        case NPV_PY_DICT:
          for (gsize i = 0; i < npv_py_object_get_n_items (obj); i++)
            {
              g_ptr_array_add (todo, npv_py_object_get_key (obj, i));
              g_ptr_array_add (todo, npv_py_object_get_value (obj, i));
            }
          data = NULL;
          len = 0;
          break;
        case NPV_PY_LIST:
        case NPV_PY_TUPLE:
        case NPV_PY_SET:
        case NPV_PY_FROZENSET:
          for (gsize i = 0; i < npv_py_object_get_n_items (obj); i++)
            g_ptr_array_add (todo, npv_py_object_get_item (obj, i));
          g_assert_null (npv_py_object_get_item (obj, npv_py_object_get_n_items (obj)));
          data = NULL;
          len = 0;
          break;
        case NPV_PY_NONE:
        case NPV_PY_BOOL:
        case NPV_PY_INT:
        case NPV_PY_FLOAT:
        case NPV_PY_COMPLEX:
        case NPV_PY_DTYPE:
        default:
          data = NULL;
          len = 0;
          break;
        }
      for (gsize i = 0; i < len; i++)
        sum += data[i];
      for (guint i = 0; i < n_parts; i++)
        g_ptr_array_add (todo, parts[i]);
    }
  return sum;
}

static GByteArray *
bytes_of (const char *text,
          gsize       len)
{
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, (const guint8 *) text, len);
  return out;
}

static void
append_text (GByteArray *out,
             const char *text)
{
  g_byte_array_append (out, (const guint8 *) text, strlen (text));
}

static void
append_u32 (GByteArray *out,
            guint32     v)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

  g_byte_array_append (out, b, 4);
}

static void
append_u64 (GByteArray *out,
            guint64     v)
{
  append_u32 (out, (guint32) v);
  append_u32 (out, (guint32) (v >> 32));
}

static void
append_repeat (GByteArray *out,
               const char *text,
               gsize       len,
               guint       times)
{
  for (guint i = 0; i < times; i++)
    g_byte_array_append (out, (const guint8 *) text, len);
}

/* ---------------------------------------------------------------------- */
/* 1. numpy's own test files, written by Python 2 and old numpy            */

static char *
fixtures_dir (void)
{
  const char *env = g_getenv ("NPV_FIXTURES_DIR");
  g_autofree char *tests = NULL;
  g_autofree char *root = NULL;
  g_autofree char *abs = NULL;

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  /* The source root is the parent of this file's folder. */
  tests = g_path_get_dirname (__FILE__);
  root = g_path_get_dirname (tests);
  abs = g_canonicalize_filename (root, NULL);
  return g_build_filename (abs, "..", "shared", "fixtures", "numpy-testdata", NULL);
}

typedef struct
{
  const char *name;
  const char *range_module;
  const char *range_name;
} FixtureFile;

static void
test_fixtures (void)
{
  static const FixtureFile files[] = {
    { "py2-objarr.npy", "__builtin__", "xrange" },
    { "py2-np0-objarr.npy", "__builtin__", "xrange" },
    { "py3-objarr.npy", "builtins", "range" },
  };
  g_autofree char *dir = fixtures_dir ();

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *message = g_strdup_printf ("no numpy test files in %s", dir);

      g_test_skip (message);
      return;
    }

  for (guint f = 0; f < G_N_ELEMENTS (files); f++)
    for (NpvPyEncoding enc = NPV_PY_ENCODING_BYTES; enc <= NPV_PY_ENCODING_ASCII; enc++)
      {
        g_autofree char *path = g_build_filename (dir, files[f].name, NULL);
        g_autofree char *contents = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(NpvPyObject) obj = NULL;
        NpvNpyHeader header = { 0, };
        NpvPickleOptions options = { enc, 0, 0, 0 };
        NpvPyObject *item;
        gsize len, consumed = 0, text_len;
        const guint8 *raw;
        const char *text;

        g_assert_true (g_file_get_contents (path, &contents, &len, &error));
        g_assert_true (npv_npy_header_parse (&header, (const guint8 *) contents, len, files[f].name,
                                             &error));
        g_assert_no_error (error);
        g_assert_cmpint (header.dtype->kind, ==, NPV_KIND_OBJECT);
        bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
        obj = npv_pickle_load_bytes (bytes, header.data_offset, &options, &consumed, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (header.data_offset + consumed, <=, len);
        g_clear_pointer (&bytes, g_bytes_unref);

        g_assert_cmpint (npv_py_object_get_kind (obj), ==, NPV_PY_NDARRAY);
        g_assert_true (npv_py_ndarray_has_elements (obj));
        g_assert_cmpint (npv_py_ndarray_get_count (obj), ==, 4);
        g_assert_cmpint (npv_py_object_get_dtype (obj)->kind, ==, NPV_KIND_OBJECT);
        g_assert_cmpint (npv_py_ndarray_get_shape (obj, &(guint) { 0 })[0], ==, 4);

        g_assert_cmpint (npv_py_object_get_kind (npv_py_ndarray_get_element (obj, 0)), ==, NPV_PY_NONE);
        item = npv_py_ndarray_get_element (obj, 1);
        g_assert_cmpint (npv_py_object_get_kind (item), ==, NPV_PY_GLOBAL);
        g_assert_cmpstr (npv_py_object_get_module (item), ==, files[f].range_module);
        g_assert_cmpstr (npv_py_object_get_name (item), ==, files[f].range_name);
        item = npv_py_ndarray_get_element (obj, 2);
        g_assert_cmpstr (npv_py_object_get_str (item, NULL), ==, "優良");
        item = npv_py_ndarray_get_element (obj, 3);
        if (enc == NPV_PY_ENCODING_LATIN1 && f < 2)
          {
            /* Python 2 bytes decoded as latin1, as numpy.load(encoding='latin1'). */
            text = npv_py_object_get_str (item, &text_len);
            g_assert_cmpstr (text, ==, "\xc3\xa4\xc2\xb8\xc2\x8d\xc3\xa8\xc2\x89\xc2\xaf");
          }
        else
          {
            raw = npv_py_object_get_bytes (item, &text_len);
            g_assert_cmpint (npv_py_object_get_kind (item), ==, NPV_PY_BYTES);
            g_assert_cmpmem (raw, text_len, "\xe4\xb8\x8d\xe8\x89\xaf", 6);
          }
        walk (obj);
        npv_npy_header_clear (&header);
      }
}

/* ---------------------------------------------------------------------- */
/* 2. Pickles made by Python and numpy (cases.ini)                         */

typedef struct
{
  GKeyFile *keys;
  char *group;
} Case;

static void
case_free (gpointer data)
{
  Case *c = data;

  g_key_file_unref (c->keys);
  g_free (c->group);
  g_free (c);
}

static char *
case_get (const Case *c,
          const char *key)
{
  return g_key_file_get_string (c->keys, c->group, key, NULL);
}

static NpvPyObject *
follow_path (NpvPyObject *obj,
             const char  *path)
{
  g_auto(GStrv) steps = NULL;

  if (path == NULL || path[0] == '\0')
    return obj;
  steps = g_strsplit (path, "/", -1);
  for (guint i = 0; steps[i] != NULL; i++)
    {
      const char *arg = steps[i] + 2;

      g_assert_cmpint (steps[i][1], ==, '=');
      switch (steps[i][0])
        {
        case 'k':
          obj = npv_py_object_lookup (obj, arg);
          break;
        case 'i':
          obj = npv_py_object_get_item (obj, g_ascii_strtoull (arg, NULL, 10));
          break;
        case 'e':
          obj = npv_py_ndarray_get_element (obj, g_ascii_strtoull (arg, NULL, 10));
          break;
        default:
          g_assert_not_reached ();
        }
      g_assert_nonnull (obj);
    }
  return obj;
}

static void
check_dtype (const Case     *c,
             const NpvDType *dtype)
{
  g_autofree char *want_str = case_get (c, "dtype_str");
  g_autofree char *want_descr = case_get (c, "descr");

  g_assert_nonnull (dtype);
  if (want_str != NULL)
    {
      g_autofree char *str = npv_dtype_to_str (dtype);

      g_assert_cmpstr (str, ==, want_str);
    }
  if (want_descr != NULL)
    {
      g_autoptr(GString) descr = g_string_new (NULL);

      npv_dtype_append_descr_repr (dtype, descr);
      g_assert_cmpstr (descr->str, ==, want_descr);
    }
}

static void
check_array (const Case         *c,
             const NpvPyObject  *obj,
             const guint8       *input,
             gsize               input_len)
{
  g_autofree char *shape_text = case_get (c, "shape");
  g_autofree char *fortran = case_get (c, "fortran");
  g_autofree char *scalar = case_get (c, "scalar");
  g_autofree char *data_file = case_get (c, "data");
  g_autofree char *n_elements = case_get (c, "elements");
  g_autofree char *subtype = case_get (c, "subtype");
  g_autofree char *borrowed = case_get (c, "borrowed");
  g_autoptr(GString) shape = g_string_new (NULL);
  const gint64 *dims;
  guint ndim;

  check_dtype (c, npv_py_object_get_dtype (obj));
  dims = npv_py_ndarray_get_shape (obj, &ndim);
  for (guint d = 0; d < ndim; d++)
    g_string_append_printf (shape, d == 0 ? "%" G_GINT64_FORMAT : ",%" G_GINT64_FORMAT, dims[d]);
  g_assert_cmpstr (shape->str, ==, shape_text);
  g_assert_cmpint (npv_py_ndarray_is_fortran (obj), ==, g_strcmp0 (fortran, "true") == 0);
  g_assert_cmpint (npv_py_ndarray_is_scalar (obj), ==, g_strcmp0 (scalar, "true") == 0);
  if (subtype != NULL)
    g_assert_cmpstr (npv_py_ndarray_get_subtype (obj), ==, subtype);

  if (data_file != NULL)
    {
      g_autofree char *path = g_build_filename (cases_dir, data_file, NULL);
      g_autofree char *want = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) dup = NULL;
      gsize want_len, len;
      const guint8 *data = npv_py_ndarray_get_data (obj, &len);

      g_assert_true (g_file_get_contents (path, &want, &want_len, &error));
      g_assert_false (npv_py_ndarray_has_elements (obj));
      g_assert_cmpmem (data, len, want, want_len);
      /* Borrowed data lies in the input: no copy was made. */
      if (npv_py_ndarray_data_is_borrowed (obj))
        g_assert_true (data >= input && data + len <= input + input_len);
      if (borrowed != NULL)
        g_assert_cmpint (npv_py_ndarray_data_is_borrowed (obj), ==, strcmp (borrowed, "true") == 0);
      dup = npv_py_ndarray_dup_data (obj);
      g_assert_cmpmem (g_bytes_get_data (dup, NULL), g_bytes_get_size (dup), want, want_len);
    }
  if (n_elements != NULL)
    {
      gsize n = g_ascii_strtoull (n_elements, NULL, 10);

      g_assert_true (npv_py_ndarray_has_elements (obj));
      g_assert_cmpint (npv_py_ndarray_get_count (obj), ==, (gint64) n);
      g_assert_null (npv_py_ndarray_dup_data (obj));
      for (gsize i = 0; i < n; i++)
        {
          g_autofree char *key = g_strdup_printf ("element%" G_GSIZE_FORMAT, i);
          g_autofree char *want = case_get (c, key);
          NpvPyObject *element = npv_py_ndarray_get_element (obj, i);

          g_assert_nonnull (element);
          if (want != NULL)
            {
              g_autofree char *got = repr_of (element, NPV_PY_REPR_DEFAULT_MAX);

              g_assert_cmpstr (got, ==, want);
            }
        }
    }
}

static NpvError
error_code (const char *name)
{
  if (g_strcmp0 (name, "FORMAT") == 0)
    return NPV_ERROR_FORMAT;
  if (g_strcmp0 (name, "UNSUPPORTED") == 0)
    return NPV_ERROR_UNSUPPORTED;
  if (g_strcmp0 (name, "TOO_LARGE") == 0)
    return NPV_ERROR_TOO_LARGE;
  g_assert_not_reached ();
  return NPV_ERROR_FAILED;
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *file = case_get (c, "file");
  g_autofree char *encoding = case_get (c, "encoding");
  g_autofree char *npy = case_get (c, "npy");
  g_autofree char *path = case_get (c, "path");
  g_autofree char *expect = case_get (c, "expect");
  g_autofree char *error_name = case_get (c, "error");
  g_autofree char *kind = case_get (c, "kind");
  g_autofree char *want_repr = case_get (c, "repr");
  g_autofree char *marker = case_get (c, "marker");
  g_autofree char *full = g_build_filename (cases_dir, file, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvPyObject) root = NULL;
  NpvPickleOptions options = { NPV_PY_ENCODING_BYTES, 0, 0, 0 };
  NpvPyObject *obj;
  gsize len, offset = 0, consumed = 0;

  g_assert_true (g_file_get_contents (full, &contents, &len, &error));
  if (g_strcmp0 (encoding, "latin1") == 0)
    options.encoding = NPV_PY_ENCODING_LATIN1;
  else if (g_strcmp0 (encoding, "ascii") == 0)
    options.encoding = NPV_PY_ENCODING_ASCII;

  if (g_strcmp0 (npy, "true") == 0)
    {
      NpvNpyHeader header = { 0, };

      g_assert_true (npv_npy_header_parse (&header, (const guint8 *) contents, len, file, &error));
      offset = header.data_offset;
      g_assert_true (npv_dtype_has_object (header.dtype));
      /* The header's dtype and the pickled array's agree. */
      check_dtype (c, header.dtype);
      npv_npy_header_clear (&header);
    }

  root = npv_pickle_load ((const guint8 *) contents + offset, len - offset, &options, &consumed,
                          &error);
  if (marker != NULL)
    g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
  if (error_name != NULL)
    {
      g_assert_null (root);
      g_assert_error (error, NPV_ERROR, error_code (error_name));
      return;
    }
  if (g_strcmp0 (expect, "any") == 0 && root == NULL)
    {
      g_assert_nonnull (error);
      g_assert_null (kind);
      g_test_message ("%s: %s", file, error->message);
      return;
    }
  g_assert_no_error (error);
  g_assert_nonnull (root);
  /* numpy's pickles end with STOP: nothing was left over. */
  if (g_strcmp0 (npy, "true") == 0 || expect == NULL)
    g_assert_cmpuint (consumed, ==, len - offset);
  walk (root);

  obj = follow_path (root, path);
  if (kind != NULL)
    g_assert_cmpstr (kind_name (npv_py_object_get_kind (obj)), ==, kind);
  if (want_repr != NULL)
    {
      g_autofree char *got = repr_of (obj, G_MAXSIZE);

      g_assert_cmpstr (got, ==, want_repr);
    }
  if (npv_py_object_get_kind (obj) == NPV_PY_NDARRAY &&
      g_key_file_has_key (c->keys, c->group, "shape", NULL))
    check_array (c, obj, (const guint8 *) contents + offset, len - offset);
  else if (npv_py_object_get_kind (obj) == NPV_PY_DTYPE)
    check_dtype (c, npv_py_object_get_dtype (obj));
}

/* ---------------------------------------------------------------------- */
/* 3. Hostile pickles made here                                            */

static void
test_deep_nesting (void)
{
  const guint n = 100000;
  g_autoptr(GByteArray) lists = bytes_of ("\x80\x02", 2);
  g_autoptr(GByteArray) tuples = bytes_of ("\x80\x02", 2);
  g_autoptr(GByteArray) memo = bytes_of ("\x80\x02", 2);
  g_autofree char *message = NULL;

  /* [[[...]]] 10^5 deep: refused where it gets too deep. */
  append_repeat (lists, "]", 1, n);
  append_repeat (lists, "a", 1, n - 1);
  append_text (lists, ".");
  message = load_error ((const char *) lists->data, lists->len, NPV_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (message, "(APPEND)"));
  g_assert_nonnull (strstr (message, "nested more than 1000 levels"));
  g_clear_pointer (&message, g_free);

  append_repeat (tuples, "(", 1, n);
  append_repeat (tuples, "t", 1, n);
  append_text (tuples, ".");
  message = load_error ((const char *) tuples->data, tuples->len, NPV_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (message, "(TUPLE)"));
  g_clear_pointer (&message, g_free);

  /* The same depth built through the memo, each list given its child only
   * once it is inside its parent: caught once the tree is complete. */
  for (guint i = 0; i < n; i++)
    {
      append_text (memo, "]r");
      append_u32 (memo, i);
      append_text (memo, "0");
    }
  for (guint i = 0; i + 1 < n; i++)
    {
      append_text (memo, "j");
      append_u32 (memo, i);
      append_text (memo, "j");
      append_u32 (memo, i + 1);
      append_text (memo, "a0");
    }
  append_text (memo, "j");
  append_u32 (memo, 0);
  append_text (memo, ".");
  message = load_error ((const char *) memo->data, memo->len, NPV_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (message, "(STOP)"));
}

static void
test_depth_limit (void)
{
  NpvPickleOptions options = { NPV_PY_ENCODING_BYTES, 0, 10, 0 };

  /* A list of lists of ints is 2 deep: 10 lists around an int are 10. */
  for (guint n = 9; n <= 11; n++)
    {
      g_autoptr(GByteArray) data = bytes_of ("\x80\x02", 2);
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvPyObject) obj = NULL;

      append_repeat (data, "]", 1, n);
      append_text (data, "K\x01");
      append_repeat (data, "a", 1, n);
      append_text (data, ".");
      obj = load_with (data->data, data->len, &options, &error);
      if (n <= 10)
        g_assert_no_error (error);
      else
        g_assert_error (error, NPV_ERROR, NPV_ERROR_TOO_LARGE);
    }
}

static void
test_huge_lengths (void)
{
  static const struct { const char *head; gsize head_len; guint64 length; guint size; } cases[] = {
    { "\x80\x04\x8e", 3, G_GUINT64_CONSTANT (1) << 60, 8 },      /* BINBYTES8 */
    { "\x80\x04\x8e", 3, G_MAXUINT64, 8 },
    { "\x80\x04\x8d", 3, G_GUINT64_CONSTANT (1) << 63, 8 },      /* BINUNICODE8 */
    { "\x80\x05\x96", 3, G_MAXUINT64 - 1, 8 },                   /* BYTEARRAY8 */
    { "\x80\x04\x95", 3, G_GUINT64_CONSTANT (1) << 62, 8 },      /* FRAME */
    { "\x80\x02" "B", 3, 0xffffffffu, 4 },                       /* BINBYTES */
    { "\x80\x02" "X", 3, 0xfffffff0u, 4 },                       /* BINUNICODE */
    { "\x80\x02\x8b", 3, 0x7fffffffu, 4 },                       /* LONG4 */
    { "\x80\x02" "T", 3, 0x7ffffff0u, 4 },                       /* BINSTRING */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GByteArray) data = bytes_of (cases[i].head, cases[i].head_len);
      g_autofree char *message = NULL;
      g_autofree char *where = NULL;

      if (cases[i].size == 8)
        append_u64 (data, cases[i].length);
      else
        append_u32 (data, (guint32) cases[i].length);
      append_text (data, "abc.");
      message = load_error ((const char *) data->data, data->len, NPV_ERROR_FORMAT);
      where = g_strdup_printf ("pickle: at byte 2 (%s): ",
                               npv_pickle_opcode_name (cases[i].head[2]));
      g_assert_true (g_str_has_prefix (message, where));
    }

  /* Negative lengths. */
  g_free (load_error ("\x80\x02T\xff\xff\xff\xff.", 8, NPV_ERROR_FORMAT));
  g_free (load_error ("\x80\x02\x8b\x00\x00\x00\x80.", 8, NPV_ERROR_FORMAT));
}

static void
test_memo (void)
{
  g_autofree char *repr = NULL;
  g_autoptr(GByteArray) many = bytes_of ("\x80\x02N", 3);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvPyObject) obj = NULL;

  /* The largest LONG_BINPUT index allocates one slot, not 4e9. */
  repr = load_repr ("\x80\x02Nr\xff\xff\xff\xff" "0j\xff\xff\xff\xff.", 15);
  g_assert_cmpstr (repr, ==, "None");
  g_clear_pointer (&repr, g_free);
  repr = load_repr (LIT ("I5\np99999999999\n0g99999999999\n."));
  g_assert_cmpstr (repr, ==, "5");

  g_free (load_error ("\x80\x02h\x05.", 5, NPV_ERROR_FORMAT));
  g_free (load_error ("\x80\x02Nj\x01\x00\x00\x00.", 9, NPV_ERROR_FORMAT));
  g_free (load_error ("I5\np99999999999999999999999\n.", 29, NPV_ERROR_FORMAT));
  g_free (load_error ("I5\np-1\n.", 8, NPV_ERROR_FORMAT));
  g_free (load_error ("\x80\x02q\x00N.", 6, NPV_ERROR_FORMAT));
  g_free (load_error ("\x80\x04\x94N.", 5, NPV_ERROR_FORMAT));

  /* 10^5 random keys, each a new memo entry. */
  for (guint i = 0; i < 100000; i++)
    {
      append_text (many, "r");
      append_u32 (many, g_rand_int (rand));
    }
  append_text (many, ".");
  obj = load_with (many->data, many->len, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (npv_py_object_get_memory_used (obj), <, 16 * 1024 * 1024);
}

static void
test_cycles (void)
{
  g_autofree char *repr = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvPyObject) obj = NULL;

  /* l = []; l.append(l) */
  repr = load_repr (LIT ("\x80\x02]q\x00h\x00" "a."));
  g_assert_cmpstr (repr, ==, "[[...]]");
  g_clear_pointer (&repr, g_free);
  /* d = {}; d['a'] = [d] */
  repr = load_repr (LIT ("\x80\x02}q\x00X\x01\x00\x00\x00" "a]h\x00" "as."));
  g_assert_cmpstr (repr, ==, "{'a': [{...}]}");
  g_clear_pointer (&repr, g_free);
  /* A set and an opaque object holding themselves. */
  repr = load_repr (LIT ("\x80\x04\x8f\x94(h\x00\x90."));
  g_assert_cmpstr (repr, ==, "{set(...)}");
  g_clear_pointer (&repr, g_free);
  repr = load_repr (LIT ("\x80\x02" "cfoo\nBar\n)Rq\x00h\x00" "b."));
  g_assert_cmpstr (repr, ==, "<object foo.Bar() state=<object ...>>");

  /* Dropping the last reference frees the cycle (the sanitizer checks). */
  obj = load (LIT ("\x80\x02]q\x00h\x00" "ah\x00" "a."), &error);
  g_assert_no_error (error);
  g_assert_true (npv_py_object_get_item (obj, 0) == obj);
}

static void
test_many_objects (void)
{
  const guint n = 1000000;
  g_autoptr(GByteArray) data = bytes_of ("\x80\x02](", 4);
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvPyObject) obj = NULL;
  g_autofree char *repr = NULL;
  gint64 v = 0;
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < n; i++)
    {
      guint8 op[2] = { 'K', (guint8) i };

      g_byte_array_append (data, op, 2);
    }
  append_text (data, "e.");
  obj = load_with (data->data, data->len, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (npv_py_object_get_n_items (obj), ==, n);
  g_assert_true (npv_py_object_get_int (npv_py_object_get_item (obj, n - 1), &v));
  g_assert_cmpint (v, ==, (n - 1) & 0xff);
  repr = repr_of (obj, 1000);
  g_assert_cmpuint (strlen (repr), <=, 1003);
  g_assert_true (g_str_has_prefix (repr, "[0, 1, 2, "));
  g_assert_true (g_str_has_suffix (repr, "..."));
  g_test_message ("10^6 ints: %" G_GINT64_FORMAT " ms, %" G_GSIZE_FORMAT " bytes",
                  (g_get_monotonic_time () - start) / 1000, npv_py_object_get_memory_used (obj));
}

static void
test_shared_repr (void)
{
  /* ((x, x), (x, x))... 200 levels: 2^200 leaves in a few hundred bytes. */
  g_autoptr(GByteArray) data = bytes_of ("\x80\x02K\x01", 4);
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvPyObject) obj = NULL;
  g_autofree char *repr = NULL;
  gint64 start = g_get_monotonic_time ();

  append_repeat (data, "q\x00h\x00\x86", 5, 200);
  append_text (data, ".");
  obj = load_with (data->data, data->len, NULL, &error);
  g_assert_no_error (error);
  repr = repr_of (obj, 10000);
  g_assert_cmpuint (strlen (repr), <=, 10003);
  g_assert_true (g_str_has_prefix (repr, "(((((("));
  g_assert_true (g_str_has_suffix (repr, "..."));
  g_clear_pointer (&repr, g_free);
  repr = npv_py_object_repr (obj);
  g_assert_cmpuint (strlen (repr), <=, NPV_PY_REPR_DEFAULT_MAX + 3);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

static void
test_limits (void)
{
  g_autoptr(GByteArray) data = bytes_of ("\x80\x02](", 4);
  NpvPickleOptions small_memory = { NPV_PY_ENCODING_BYTES, 100000, 0, 0 };
  NpvPickleOptions few_objects = { NPV_PY_ENCODING_BYTES, 0, 0, 50 };
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvPyObject) obj = NULL;

  append_repeat (data, "K\x07", 2, 10000);
  append_text (data, "e.");
  obj = load_with (data->data, data->len, &small_memory, &error);
  g_assert_error (error, NPV_ERROR, NPV_ERROR_TOO_LARGE);
  g_assert_null (obj);
  g_clear_error (&error);
  obj = load_with (data->data, data->len, &few_objects, &error);
  g_assert_error (error, NPV_ERROR, NPV_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "objects"));
  g_clear_error (&error);
  obj = load_with (data->data, data->len, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (npv_py_object_get_n_objects (obj), <=, 10000 + 4);
  g_assert_cmpuint (npv_py_object_get_memory_used (obj), <=, 64 * data->len + 16 * 1024 * 1024);

  /* Integers: 4300 digits at most as text; longer binary ones print in hex. */
  {
    g_autoptr(GString) text = g_string_new ("L");
    g_autofree char *message = NULL;
    g_autofree char *repr = NULL;
    g_autoptr(GByteArray) big = bytes_of ("\x80\x02\x8b", 3);

    g_string_append_c (text, '1');
    for (guint i = 0; i < 4300; i++)
      g_string_append_c (text, '0');
    g_string_append (text, "L\n.");
    message = load_error (text->str, text->len, NPV_ERROR_TOO_LARGE);
    g_assert_nonnull (strstr (message, "(LONG)"));

    append_u32 (big, 4000);
    for (guint i = 0; i < 4000; i++)
      g_byte_array_append (big, (const guint8 *) (i == 3999 ? "\x01" : "\x00"), 1);
    append_text (big, ".");
    repr = load_repr ((const char *) big->data, big->len);
    g_assert_true (g_str_has_prefix (repr, "0x1000000"));
  }
}

static void
test_errors (void)
{
  static const struct { const char *data; gsize len; NpvError code; const char *where; } cases[] = {
    { "", 0, NPV_ERROR_FORMAT, "at byte 0 (STOP): the pickle ends" },
    { "\x80\x03X\x10\x00\x00\x00" "abc", 10, NPV_ERROR_FORMAT, "at byte 2 (BINUNICODE): 16 bytes" },
    { "\x80\x02N", 3, NPV_ERROR_FORMAT, "at byte 3 (STOP): the pickle ends" },
    { "\x80\x02.", 3, NPV_ERROR_FORMAT, "at byte 2 (STOP): the stack is empty" },
    { "\x80\x02\xff.", 4, NPV_ERROR_FORMAT, "at byte 2: unknown opcode 0xff" },
    { "\x80\x02" "a.", 4, NPV_ERROR_FORMAT, "at byte 2 (APPEND)" },
    { "\x80\x02K\x01K\x02" "a.", 8, NPV_ERROR_FORMAT, "(APPEND): cannot add items to a int" },
    { "\x80\x02" "e.", 4, NPV_ERROR_FORMAT, "(APPENDS): there is no MARK" },
    { "\x80\x02(K\x01" "d.", 7, NPV_ERROR_FORMAT, "(DICT): a key has no value" },
    { "\x80\x03X\x02\x00\x00\x00\xff\xfe.", 10, NPV_ERROR_FORMAT,
      "(BINUNICODE): a string is not valid UTF-8" },
    { "\x80\x04K\x01K\x02\x93.", 8, NPV_ERROR_FORMAT, "(STACK_GLOBAL)" },
    { "S'abc\n.", 7, NPV_ERROR_FORMAT, "(STRING): the argument of STRING must be quoted" },
    { "Vab\\u12\n.", 9, NPV_ERROR_FORMAT, "(UNICODE)" },
    { "F1.5x\n.", 7, NPV_ERROR_FORMAT, "(FLOAT)" },
    { "I12a\n.", 6, NPV_ERROR_FORMAT, "(INT)" },
    { LIT ("\x80\x02N}K\x01K\x02sb."), NPV_ERROR_FORMAT, "(BUILD): a None cannot be given a state" },
    { "\x80\x02\x82\x00.", 5, NPV_ERROR_FORMAT, "(EXT1)" },
    { LIT ("\x80\x02" "cnumpy\nndarray\n)R."), NPV_ERROR_FORMAT, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvPyObject) obj = load (cases[i].data, cases[i].len, &error);

      if (cases[i].where == NULL)
        {
          /* numpy.ndarray() without a shape is described, not an error. */
          g_assert_no_error (error);
          g_assert_cmpint (npv_py_object_get_kind (obj), ==, NPV_PY_OPAQUE);
          continue;
        }
      if (obj != NULL)
        g_error ("case %u loaded", i);
      g_assert_error (error, NPV_ERROR, cases[i].code);
      if (strstr (error->message, cases[i].where) == NULL)
        g_error ("case %u: “%s” does not contain “%s”", i, error->message, cases[i].where);
    }
}

/* The calls interpreted without calling, given arguments they do not
 * document: described, never an error. */
static void
test_whitelist_edges (void)
{
  static const struct { const char *data; gsize len; const char *repr; } cases[] = {
    { LIT ("c__builtin__\nset\n(I3\ntR."), "<object __builtin__.set(3)>" },
    { LIT ("c__builtin__\nbytes\n(L1000000000000\ntR."), "<object __builtin__.bytes(1000000000000)>" },
    { LIT ("c_codecs\nencode\n(V\\u4e0d\nVlatin1\ntR."), "<object _codecs.encode('不', 'latin1')>" },
    { LIT ("c_codecs\nencode\n(V\\u4e0d\nVutf-8\ntR."), "b'\\xe4\\xb8\\x8d'" },
    { LIT ("c__builtin__\ncomplex\n(F1.5\nF-2\ntR."), "(1.5-2j)" },
    { LIT ("c__builtin__\nrange\n(I1\nI2\nI0\ntR."), "<object __builtin__.range(1, 2, 0)>" },
    { LIT ("c__builtin__\nxrange\n(I7\ntR."), "range(0, 7)" },
    { LIT ("ccollections\nOrderedDict\n((lp0\n(I1\nI2\ntp1\natR."), "{1: 2}" },
    { LIT ("ccopy_reg\n_reconstructor\n(c__builtin__\nfrozenset\nc__builtin__\nfrozenset\n(lI1\natR."),
      "frozenset({1})" },
    { LIT ("\x80\x02" "cnumpy\ndtype\nX\x01\x00\x00\x00" "T\x89\x88\x87R."),
      "<object numpy.dtype('T', False, True)>" },
    { LIT ("\x80\x02" "cnumpy.core.multiarray\nscalar\ncnumpy\ndtype\nX\x02\x00\x00\x00" "f8\x89\x88\x87R"
           "C\x03" "abc\x86R."), "<object numpy.core.multiarray.scalar(dtype('float64'), b'abc')>" },
    { LIT ("\x80\x02" "cnumpy.core.multiarray\nscalar\ncnumpy\ndtype\nX\x02\x00\x00\x00i2\x89\x88\x87R"
           "C\x02\x01\x02\x86R."), "513" },
    { LIT ("\x80\x04\x8c\x03" "foo\x8c\x03" "Bar\x93\x8c\x01" "a\x85}\x8c\x01k\x8c\x01v" "s\x92."),
      "<object foo.Bar('a', k='v')>" },
    { LIT ("\x80\x04\x8c\x03" "foo\x8c\x03" "Bar\x93)}\x8c\x01k\x8c\x01v" "s\x92."),
      "<object foo.Bar(k='v')>" },
    { LIT ("\x80\x02\x83\x01\x02."), "<object extension(513)>" },
    { LIT ("\x80\x02" "cfoo\nBar\n)RK\x01" "aK\x02K\x03" "s(K\x04K\x05" "e."),
      "<object foo.Bar() items=[1, 4, 5] setitems={2: 3}>" },
    { LIT ("\x80\x02" "cfoo\nf\n)R)R."), "<object <object foo.f()>()>" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *repr = load_repr (cases[i].data, cases[i].len);

      if (strcmp (repr, cases[i].repr) != 0)
        g_error ("case %u: %s, expected %s", i, repr, cases[i].repr);
    }
}

/* Pickles one after the other: consumed says where the next starts. */
static void
test_stream (void)
{
  static const char data[] = "\x80\x02K\x01.\x80\x03X\x01\x00\x00\x00" "a.I7\n.garbage";
  gsize pos = 0;
  const char *const want[] = { "1", "'a'", "7" };

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GError) error = NULL;
      gsize consumed = 0;
      g_autoptr(NpvPyObject) obj = npv_pickle_load ((const guint8 *) data + pos,
                                                    sizeof (data) - 1 - pos, NULL, &consumed, &error);
      g_autofree char *repr = NULL;

      g_assert_no_error (error);
      repr = repr_of (obj, 100);
      g_assert_cmpstr (repr, ==, want[i]);
      pos += consumed;
    }
  g_assert_cmpstr (data + pos, ==, "garbage");
}

/* The tree keeps a GBytes input alive; dup_data keeps the tree alive. */
static void
test_lifetimes (void)
{
  static const char pickle[] = "\x80\x05\x8c\x12numpy.core.numeric\x8c\x0b_frombuffer\x93("
                               "C\x04\x01\x02\x03\x04\x8c\x05numpy\x8c\x05" "dtype\x93\x8c\x02u1"
                               "\x89\x88\x87RK\x04\x85\x8c\x01" "Ct\x94R.";
  g_autoptr(GError) error = NULL;
  GBytes *input = g_bytes_new (pickle, sizeof (pickle) - 1);
  NpvPyObject *obj = npv_pickle_load_bytes (input, 0, NULL, NULL, &error);
  GBytes *data;

  g_assert_no_error (error);
  g_bytes_unref (input);
  g_assert_true (npv_py_ndarray_data_is_borrowed (obj));
  data = npv_py_ndarray_dup_data (obj);
  npv_py_object_unref (obj);
  g_assert_cmpmem (g_bytes_get_data (data, NULL), g_bytes_get_size (data), "\x01\x02\x03\x04", 4);
  g_bytes_unref (data);
}

static void
test_getters (void)
{
  g_autofree char *path = g_build_filename (cases_dir, "api-values.pkl", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(NpvPyObject) obj = NULL;
  g_autofree char *cut = NULL;
  NpvPyObject *item, *start, *stop, *step;
  gint64 v;
  double re, im;
  gsize len;
  const guint8 *big;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  obj = load (contents, len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (npv_py_object_get_kind (obj), ==, NPV_PY_TUPLE);
  g_assert_cmpstr (npv_py_kind_to_string (npv_py_object_get_kind (obj)), ==, "tuple");
  g_assert_cmpuint (npv_py_object_get_n_items (obj), ==, 13);

  item = npv_py_object_get_item (obj, 0);
  g_assert_true (npv_py_object_get_bool (item));
  g_assert_true (npv_py_object_get_int (item, &v) && v == 1);
  g_assert_cmpfloat (npv_py_object_get_float (item), ==, 1.0);
  item = npv_py_object_get_item (obj, 1);
  g_assert_true (npv_py_object_get_int (item, &v) && v == -5);
  g_assert_cmpfloat (npv_py_object_get_float (item), ==, -5.0);
  item = npv_py_object_get_item (obj, 2);
  g_assert_false (npv_py_object_get_int (item, &v));
  big = npv_py_object_get_bigint (item, &len);
  g_assert_cmpmem (big, len, "\x00\x00\x00\x00\x00\x00\x00\x00\x40", 9);
  item = npv_py_object_get_item (obj, 3);
  big = npv_py_object_get_bigint (item, &len);
  g_assert_cmpmem (big, len, "\x00\x00\x00\x00\x00\x00\x00\x00\xc0", 9);
  g_assert_cmpfloat (npv_py_object_get_float (npv_py_object_get_item (obj, 4)), ==, 1.5);
  npv_py_object_get_complex (npv_py_object_get_item (obj, 5), &re, &im);
  g_assert_cmpfloat (re, ==, 1.0);
  g_assert_cmpfloat (im, ==, 2.0);
  g_assert_cmpstr (npv_py_object_get_str (npv_py_object_get_item (obj, 6), NULL), ==, "caf\xc3\xa9");
  g_assert_null (npv_py_object_get_str (npv_py_object_get_item (obj, 7), &len));
  g_assert_cmpmem (npv_py_object_get_bytes (npv_py_object_get_item (obj, 7), &len), len, "x", 1);
  npv_py_object_get_range (npv_py_object_get_item (obj, 8), &start, &stop, &step);
  g_assert_true (npv_py_object_get_int (stop, &v) && v == 3);
  npv_py_object_get_range (npv_py_object_get_item (obj, 9), &start, &stop, &step);
  g_assert_cmpint (npv_py_object_get_kind (step), ==, NPV_PY_NONE);

  item = npv_py_object_get_item (obj, 10);
  g_assert_cmpuint (npv_py_object_get_n_items (item), ==, 2);
  g_assert_cmpstr (npv_py_object_get_str (npv_py_object_get_key (item, 1), NULL), ==, "b");
  g_assert_cmpint (npv_py_object_get_kind (npv_py_object_get_value (item, 1)), ==, NPV_PY_NONE);
  g_assert_nonnull (npv_py_object_lookup (item, "a"));
  g_assert_null (npv_py_object_lookup (item, "c"));
  g_assert_null (npv_py_object_get_item (item, 0));
  g_assert_null (npv_py_object_get_key (item, 2));

  item = npv_py_object_get_item (obj, 11);
  g_assert_cmpint (npv_py_object_get_kind (item), ==, NPV_PY_OPAQUE);
  g_assert_cmpint (npv_py_opaque_get_call_kind (item), ==, NPV_PY_CALL_REDUCE);
  g_assert_cmpstr (npv_py_object_get_module (npv_py_opaque_get_callable (item)), ==, "collections");
  g_assert_cmpstr (npv_py_object_get_name (npv_py_opaque_get_callable (item)), ==, "Counter");
  g_assert_cmpuint (npv_py_object_get_n_items (npv_py_opaque_get_args (item)), ==, 1);
  g_assert_null (npv_py_opaque_get_state (item));
  g_assert_null (npv_py_object_get_dtype (item));

  /* A long text cut in the middle of a character stays valid UTF-8. */
  item = npv_py_object_get_item (obj, 12);
  for (gsize max = 1; max < 20; max++)
    {
      cut = repr_of (item, max);
      g_assert_true (g_utf8_validate (cut, -1, NULL));
      g_assert_true (g_str_has_suffix (cut, "..."));
      g_assert_cmpuint (strlen (cut), <=, max + 3);
      g_clear_pointer (&cut, g_free);
    }

  /* A reference to any object keeps the whole tree. */
  item = npv_py_object_ref (npv_py_object_get_item (obj, 10));
  g_clear_pointer (&obj, npv_py_object_unref);
  g_assert_nonnull (npv_py_object_lookup (item, "a"));
  npv_py_object_unref (item);
}

/* Every proper prefix of a pickle is an error. */
static void
test_truncations (void)
{
  static const char *const files[] = {
    "arr-struct-titles-p2.pkl", "arr-M8-10s-p0.pkl", "obj-mixed-p5.pkl", "plain-nested-p0.pkl",
    "rec-obj-p3.pkl", "arr-f8-2x3-p5.pkl",
  };
  guint n = 0;

  for (guint f = 0; f < G_N_ELEMENTS (files); f++)
    {
      g_autofree char *path = g_build_filename (cases_dir, files[f], NULL);
      g_autofree char *contents = NULL;
      gsize len;

      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      for (gsize cut = 0; cut < len; cut++, n++)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(NpvPyObject) obj = load (contents, cut, &error);

          g_assert_null (obj);
          g_assert_error (error, NPV_ERROR, NPV_ERROR_FORMAT);
        }
    }
  g_test_message ("%u truncated pickles", n);
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The pickles of the cases folder of at most 4 KiB, in a stable order. */
static GPtrArray *
small_pickles (void)
{
  GPtrArray *files = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GDir) dir = g_dir_open (cases_dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".pkl"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (cases_dir, names->pdata[i], NULL);
      char *contents;
      gsize len;

      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      if (len <= 4096)
        g_ptr_array_add (files, g_bytes_new_take (contents, len));
      else
        g_free (contents);
    }
  return files;
}

#define N_MUTATIONS 3000

static void
insert_bytes (GByteArray   *data,
              guint         pos,
              const guint8 *bytes,
              guint         n)
{
  guint old_len = data->len;

  g_byte_array_set_size (data, old_len + n);
  memmove (data->data + pos + n, data->data + pos, old_len - pos);
  memcpy (data->data + pos, bytes, n);
}

static void
mutate (GByteArray *data,
        GRand      *rand)
{
  static const guint8 interesting[] = {
    0x00, 0xff, 0x7f, 0x80, 0x01, '(', ')', '.', 'a', 'e', 'h', 'j', 'q', 'r', 'R', 'b', 't',
    's', 'u', 0x81, 0x85, 0x86, 0x87, 0x8f, 0x90, 0x92, 0x93, 0x94, 0x95, ']', '}', 'N', '0', '2',
  };
  guint pos = data->len > 0 ? g_rand_int_range (rand, 0, data->len) : 0;

  switch (g_rand_int_range (rand, 0, 8))
    {
    case 0:
      if (data->len > 0)
        data->data[pos] ^= 1 << g_rand_int_range (rand, 0, 8);
      break;
    case 1:
      if (data->len > 0)
        data->data[pos] = g_rand_int_range (rand, 0, 256);
      break;
    case 2:
      if (data->len > 0)
        data->data[pos] = interesting[g_rand_int_range (rand, 0, G_N_ELEMENTS (interesting))];
      break;
    case 3:
      {
        guint8 b = g_rand_int_range (rand, 0, 256);

        insert_bytes (data, pos, &b, 1);
      }
      break;
    case 4:
      if (data->len > 0)
        {
          guint n = g_rand_int_range (rand, 1, 16);

          g_byte_array_remove_range (data, pos, MIN (data->len - pos, n));
        }
      break;
    case 5:
      if (data->len > 0)
        {
          guint from = g_rand_int_range (rand, 0, data->len);
          guint want = g_rand_int_range (rand, 1, 64);
          guint n = MIN (data->len - from, want);
          g_autofree guint8 *chunk = g_memdup2 (data->data + from, n);

          insert_bytes (data, pos, chunk, n);
        }
      break;
    case 6:
      g_byte_array_set_size (data, pos);
      break;
    default:
      if (data->len >= 4)
        {
          guint32 v = g_rand_boolean (rand) ? 0xffffffffu : 0x7fffffffu;

          pos = MIN (pos, data->len - 4);
          memcpy (data->data + pos, &v, 4);
        }
      break;
    }
}

/* Random mutations of real pickles (fixed seed): a value or an error,
 * never a crash, a hang or a leak. */
static void
test_mutations (void)
{
  g_autoptr(GPtrArray) files = small_pickles ();
  const char *seed_env = g_getenv ("TEST_PICKLE_SEED");
  const char *count_env = g_getenv ("TEST_PICKLE_MUTATIONS");
  /* The environment may ask for a longer run with another seed. */
  guint32 seed = seed_env != NULL ? (guint32) g_ascii_strtoull (seed_env, NULL, 10) : 20240601;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint n_runs = count_env != NULL ? (guint) g_ascii_strtoull (count_env, NULL, 10) : N_MUTATIONS;
  guint ok = 0, failed = 0;

  g_assert_cmpuint (files->len, >, 100);
  for (guint i = 0; i < n_runs; i++)
    {
      GBytes *file = files->pdata[g_rand_int_range (rand, 0, files->len)];
      gsize len;
      const guint8 *orig = g_bytes_get_data (file, &len);
      g_autoptr(GByteArray) data = g_byte_array_sized_new (len + 64);
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvPyObject) obj = NULL;
      NpvPickleOptions options = { g_rand_int_range (rand, 0, 3), 0, 0, 0 };
      guint n_mutations = g_rand_int_range (rand, 1, 5);

      g_byte_array_append (data, orig, len);
      for (guint m = 0; m < n_mutations; m++)
        mutate (data, rand);
      if (i % 10 == 0)
        {
          options.max_memory = g_rand_int_range (rand, 1, 65536);
          options.max_depth = g_rand_int_range (rand, 1, 8);
          options.max_objects = g_rand_int_range (rand, 1, 64);
        }

      /* A copy of exactly the right size, so that reads past the end are seen. */
      {
        g_autofree guint8 *exact = g_memdup2 (data->data, data->len);

        obj = load_with (exact, data->len, &options, &error);
        if (obj != NULL)
          {
            g_autofree char *repr = repr_of (obj, 4096);

            g_assert_no_error (error);
            g_assert_true (utf8_valid (repr, strlen (repr)));
            walk (obj);
            ok++;
          }
        else
          {
            g_assert_nonnull (error);
            g_assert_true (error->domain == NPV_ERROR);
            g_assert_true (g_str_has_prefix (error->message, "pickle: "));
            failed++;
          }
        g_clear_pointer (&obj, npv_py_object_unref);
      }
    }
  g_test_message ("%u mutations: %u loaded, %u refused", n_runs, ok, failed);
  g_assert_cmpuint (ok, >, 0);
  g_assert_cmpuint (failed, >, 0);
}

/* Random opcode sequences over the names the interpreter knows, which
 * reach far deeper than mutations of real pickles do. */
static void
append_random_op (GByteArray *out,
                  GRand      *rand)
{
  static const char *const names[] = {
    "numpy", "dtype", "ndarray", "numpy.core.multiarray", "_reconstruct", "scalar", "builtins",
    "__builtin__", "set", "frozenset", "bytearray", "bytes", "complex", "range", "xrange",
    "slice", "_codecs", "encode", "latin1", "utf-8", "collections", "OrderedDict", "copyreg",
    "__newobj__", "__newobj_ex__", "_reconstructor", "object", "f8", "<", ">", "|", "=", "O8",
    "V8", "V0", "M8", "m8", "i4", "U3", "S2", "b", "a", "x", "C", "F", "numpy.core.numeric",
    "_frombuffer", "s", "generic", "D", "", "numpy._core.multiarray", "os", "system",
  };
  static const char simple[] = "N)]}(tldaesu012RbooN\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94";
  const char *name = names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))];
  guint8 b[8];

  for (guint i = 0; i < 8; i++)
    b[i] = g_rand_int_range (rand, 0, 256);

  switch (g_rand_int_range (rand, 0, 16))
    {
    case 0: case 1: case 2: case 3: case 4:
      g_byte_array_append (out, (const guint8 *) simple + g_rand_int_range (rand, 0, sizeof (simple) - 1),
                           1);
      break;
    case 5: case 6:
      append_text (out, "X");
      append_u32 (out, strlen (name));
      append_text (out, name);
      break;
    case 7:
      append_text (out, g_rand_boolean (rand) ? "K" : "h");
      b[0] = g_rand_int_range (rand, 0, 8);
      g_byte_array_append (out, b, 1);
      break;
    case 8:
      append_text (out, g_rand_boolean (rand) ? "q" : "J");
      g_byte_array_append (out, b, g_rand_boolean (rand) ? 1 : 4);
      break;
    case 9:
      b[0] = g_rand_int_range (rand, 0, 17);
      append_text (out, g_rand_boolean (rand) ? "C" : "U");
      g_byte_array_append (out, b, 1);
      for (guint i = 0; i < b[0]; i++)
        {
          guint8 c = g_rand_int_range (rand, 0, 256);

          g_byte_array_append (out, &c, 1);
        }
      break;
    case 10:
      {
        const char *other = names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))];

        append_text (out, "c");
        append_text (out, name);
        append_text (out, "\n");
        append_text (out, other);
        append_text (out, "\n");
      }
      break;
    case 11:
      append_text (out, "G");
      g_byte_array_append (out, b, 8);
      break;
    case 12:
      append_text (out, "\x8a");
      b[0] = g_rand_int_range (rand, 0, 10);
      g_byte_array_append (out, b, b[0] + 1 > 8 ? 8 : b[0] + 1);
      break;
    case 13:
      {
        char text[32];

        g_snprintf (text, sizeof (text), "I%d\n", g_rand_int_range (rand, -3, 40));
        append_text (out, text);
      }
      break;
    case 14:
      append_text (out, "\x96");
      append_u64 (out, 4);
      g_byte_array_append (out, b, 4);
      break;
    default:
      append_text (out, "\x80");
      b[0] = g_rand_int_range (rand, 0, 6);
      g_byte_array_append (out, b, 1);
      break;
    }
}

static void
test_random_programs (void)
{
  const char *count_env = g_getenv ("TEST_PICKLE_PROGRAMS");
  const char *seed_env = g_getenv ("TEST_PICKLE_SEED");
  guint n_runs = count_env != NULL ? (guint) g_ascii_strtoull (count_env, NULL, 10) : 3000;
  guint32 seed = seed_env != NULL ? (guint32) g_ascii_strtoull (seed_env, NULL, 10) : 1729;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint ok = 0;

  for (guint i = 0; i < n_runs; i++)
    {
      g_autoptr(GByteArray) data = g_byte_array_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(NpvPyObject) obj = NULL;
      NpvPickleOptions options = { g_rand_int_range (rand, 0, 3), 0, 0, 0 };
      guint n_ops = g_rand_int_range (rand, 1, 80);
      g_autofree guint8 *exact = NULL;

      for (guint k = 0; k < n_ops; k++)
        append_random_op (data, rand);
      append_text (data, ".");
      exact = g_memdup2 (data->data, data->len);
      obj = load_with (exact, data->len, &options, &error);
      if (obj != NULL)
        {
          g_autofree char *repr = repr_of (obj, 4096);

          g_assert_true (utf8_valid (repr, strlen (repr)));
          walk (obj);
          ok++;
        }
      else
        g_assert_true (error != NULL && g_str_has_prefix (error->message, "pickle: "));
    }
  g_test_message ("%u random programs: %u loaded", n_runs, ok);
}

/* Nothing any hostile pickle asked for happened. */
static void
test_no_side_effects (void)
{
  g_autoptr(GDir) dir = g_dir_open (cases_dir, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_assert_false (g_str_has_prefix (name, "pwned-"));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GKeyFile) keys = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *ini = NULL;
  g_auto(GStrv) groups = NULL;

  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("TEST_PICKLE_KEEP_GOING") != NULL)
    g_test_set_nonfatal_assertions ();
  if (argc != 2)
    {
      g_printerr ("usage: %s CASES_DIR (made by gen-pickle-cases.py)\n", argv[0]);
      return 2;
    }
  cases_dir = argv[1];
  ini = g_build_filename (cases_dir, "cases.ini", NULL);
  if (!g_key_file_load_from_file (keys, ini, G_KEY_FILE_NONE, &error))
    {
      g_printerr ("%s: %s\n", ini, error->message);
      return 2;
    }

  g_test_add_func ("/pickle/fixtures", test_fixtures);

  groups = g_key_file_get_groups (keys, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      Case *c = g_new0 (Case, 1);
      g_autofree char *file = NULL;
      g_autofree char *path = NULL;
      g_autofree char *encoding = NULL;
      g_autofree char *test_path = NULL;

      c->keys = g_key_file_ref (keys);
      c->group = g_strdup (groups[i]);
      file = case_get (c, "file");
      path = case_get (c, "path");
      encoding = case_get (c, "encoding");
      test_path = g_strdup_printf ("/pickle/%s/%s%s%s%s%s",
                                   g_str_has_prefix (file, "hostile-") ? "hostile" : "numpy",
                                   file, path != NULL && path[0] != '\0' ? "/" : "",
                                   path != NULL ? path : "", encoding != NULL ? "/" : "",
                                   encoding != NULL ? encoding : "");
      g_test_add_data_func_full (test_path, c, test_case, case_free);
    }

  g_test_add_func ("/pickle/hostile/deep-nesting", test_deep_nesting);
  g_test_add_func ("/pickle/hostile/depth-limit", test_depth_limit);
  g_test_add_func ("/pickle/hostile/huge-lengths", test_huge_lengths);
  g_test_add_func ("/pickle/hostile/memo", test_memo);
  g_test_add_func ("/pickle/hostile/cycles", test_cycles);
  g_test_add_func ("/pickle/hostile/many-objects", test_many_objects);
  g_test_add_func ("/pickle/hostile/shared-repr", test_shared_repr);
  g_test_add_func ("/pickle/hostile/limits", test_limits);
  g_test_add_func ("/pickle/hostile/errors", test_errors);
  g_test_add_func ("/pickle/hostile/whitelist-edges", test_whitelist_edges);
  g_test_add_func ("/pickle/hostile/truncations", test_truncations);
  g_test_add_func ("/pickle/hostile/mutations", test_mutations);
  g_test_add_func ("/pickle/hostile/random-programs", test_random_programs);
  g_test_add_func ("/pickle/api/getters", test_getters);
  g_test_add_func ("/pickle/api/stream", test_stream);
  g_test_add_func ("/pickle/api/lifetimes", test_lifetimes);
  g_test_add_func ("/pickle/hostile/no-side-effects", test_no_side_effects);

  return g_test_run ();
}
