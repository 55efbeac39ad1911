/* npv-pyobject.c: Python values read from a pickle, as a tree of plain data
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-pyobject"

#define NPV_PY_OBJECT_INTERNALS
#include "npv-pyobject.h"

#include <string.h>

#include "npv-error.h"
#include "npv-format.h"
#include "npv-guard.h"
#include "npv-literal.h"
#include "npv-value.h"

/* Objects are allocated in blocks: a million separate allocations for a
 * million small ints would dominate loading time. */
#define SLAB_OBJECTS 256

/* ---------------------------------------------------------------------- */
/* Trees                                                                   */

NpvPyTree *
_npv_py_tree_new (gsize   max_memory,
                  gsize   max_objects,
                  GBytes *input)
{
  NpvPyTree *tree = g_new0 (NpvPyTree, 1);

  g_atomic_ref_count_init (&tree->ref);
  tree->input = input != NULL ? g_bytes_ref (input) : NULL;
  tree->slabs = g_ptr_array_new_with_free_func (g_free);
  tree->slab_used = SLAB_OBJECTS;
  tree->blocks = g_ptr_array_new_with_free_func (g_free);
  /* The shared None, False and True do not count against the caller's
   * limits. */
  tree->max_memory = G_MAXSIZE;
  tree->max_objects = 3;
  tree->none = _npv_py_object_new (tree, NPV_PY_NONE, NULL);
  tree->bools[0] = _npv_py_object_new (tree, NPV_PY_BOOL, NULL);
  tree->bools[1] = _npv_py_object_new (tree, NPV_PY_BOOL, NULL);
  tree->bools[1]->b = TRUE;
  tree->memory_used = 0;
  tree->max_memory = max_memory;
  tree->max_objects = max_objects > G_MAXSIZE - 3 ? G_MAXSIZE : max_objects + 3;
  return tree;
}

static void
object_clear (NpvPyObject *obj)
{
  switch (obj->kind)
    {
    case NPV_PY_LIST:
    case NPV_PY_TUPLE:
    case NPV_PY_DICT:
    case NPV_PY_SET:
    case NPV_PY_FROZENSET:
      g_free (obj->seq.items);
      break;
    case NPV_PY_NDARRAY:
      g_clear_pointer (&obj->nd->dtype, npv_dtype_unref);
      break;
    case NPV_PY_DTYPE:
      g_clear_pointer (&obj->dtype, npv_dtype_unref);
      break;
    case NPV_PY_NONE:
    case NPV_PY_BOOL:
    case NPV_PY_INT:
    case NPV_PY_BIGINT:
    case NPV_PY_FLOAT:
    case NPV_PY_COMPLEX:
    case NPV_PY_STR:
    case NPV_PY_BYTES:
    case NPV_PY_BYTEARRAY:
    case NPV_PY_RANGE:
    case NPV_PY_SLICE:
    case NPV_PY_GLOBAL:
    case NPV_PY_OPAQUE:
    default:
      break;
    }
}

static void
tree_free (NpvPyTree *tree)
{
  /* Flat: no walk of the (possibly cyclic, possibly deep) graph. */
  for (guint s = 0; s < tree->slabs->len; s++)
    {
      NpvPyObject *slab = g_ptr_array_index (tree->slabs, s);
      guint n = s + 1 == tree->slabs->len ? tree->slab_used : SLAB_OBJECTS;

      for (guint i = 0; i < n; i++)
        object_clear (&slab[i]);
    }
  g_ptr_array_unref (tree->slabs);
  g_ptr_array_unref (tree->blocks);
  g_clear_pointer (&tree->input, g_bytes_unref);
  g_free (tree);
}

void
_npv_py_tree_ref (NpvPyTree *tree)
{
  g_atomic_ref_count_inc (&tree->ref);
}

void
_npv_py_tree_unref (NpvPyTree *tree)
{
  if (g_atomic_ref_count_dec (&tree->ref))
    tree_free (tree);
}

gboolean
_npv_py_tree_charge (NpvPyTree  *tree,
                     gsize       size,
                     GError    **error)
{
  if (size > tree->max_memory || tree->memory_used > tree->max_memory - size)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TOO_LARGE,
                   "the pickle needs more than %" G_GSIZE_FORMAT " bytes of memory "
                   "(the limit for its size)", tree->max_memory);
      return FALSE;
    }
  tree->memory_used += size;
  return TRUE;
}

gpointer
_npv_py_tree_alloc (NpvPyTree  *tree,
                    gsize       size,
                    GError    **error)
{
  gpointer block;

  /* The block list's own slot counts too. */
  if (!_npv_py_tree_charge (tree, size + 2 * sizeof (gpointer), error))
    return NULL;
  block = g_malloc0 (MAX (size, 1));
  g_ptr_array_add (tree->blocks, block);
  return block;
}

NpvPyObject *
_npv_py_object_new (NpvPyTree  *tree,
                    NpvPyKind   kind,
                    GError    **error)
{
  NpvPyObject *obj;
  NpvPyObject *slab;

  if (tree->n_objects >= tree->max_objects)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TOO_LARGE,
                   "the pickle makes more than %" G_GSIZE_FORMAT " objects "
                   "(the limit for its size)", tree->max_objects - 3);
      return NULL;
    }
  if (!_npv_py_tree_charge (tree, sizeof (NpvPyObject), error))
    return NULL;

  if (tree->slab_used == SLAB_OBJECTS)
    {
      g_ptr_array_add (tree->slabs, g_new0 (NpvPyObject, SLAB_OBJECTS));
      tree->slab_used = 0;
    }
  slab = g_ptr_array_index (tree->slabs, tree->slabs->len - 1);
  obj = &slab[tree->slab_used];
  memset (obj, 0, sizeof (NpvPyObject));

  /* Kinds with side data get it now, so that a half-made object never
   * exists; the slot is taken only once everything succeeded. */
  if (kind == NPV_PY_OPAQUE)
    {
      obj->opaque = _npv_py_tree_alloc (tree, sizeof (NpvPyOpaqueData), error);
      if (obj->opaque == NULL)
        return NULL;
    }
  else if (kind == NPV_PY_NDARRAY)
    {
      obj->nd = _npv_py_tree_alloc (tree, sizeof (NpvPyArrayData), error);
      if (obj->nd == NULL)
        return NULL;
      obj->nd->shape = _npv_py_tree_alloc (tree, sizeof (gint64) * NPV_MAX_DIMS, error);
      if (obj->nd->shape == NULL)
        {
          obj->nd = NULL;
          return NULL;
        }
    }

  tree->slab_used++;
  tree->n_objects++;
  obj->tree = tree;
  obj->kind = kind;
  return obj;
}

NpvPyObject *
_npv_py_tree_get_none (NpvPyTree *tree)
{
  return tree->none;
}

NpvPyObject *
_npv_py_tree_get_bool (NpvPyTree *tree,
                       gboolean   value)
{
  return tree->bools[value ? 1 : 0];
}

static gboolean
is_seq (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_LIST || obj->kind == NPV_PY_TUPLE || obj->kind == NPV_PY_DICT ||
         obj->kind == NPV_PY_SET || obj->kind == NPV_PY_FROZENSET;
}

gboolean
_npv_py_seq_reserve (NpvPyObject  *seq,
                     gsize         extra,
                     GError      **error)
{
  gsize want, cap;

  g_return_val_if_fail (is_seq (seq), FALSE);

  if (extra <= seq->seq.cap - seq->seq.len)
    return TRUE;
  if (extra > G_MAXSIZE / sizeof (gpointer) / 4 - seq->seq.len)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_TOO_LARGE, "a container is too large");
      return FALSE;
    }
  want = seq->seq.len + extra;
  cap = MAX (seq->seq.cap, 4);
  while (cap < want)
    cap *= 2;
  if (!_npv_py_tree_charge (seq->tree, (cap - seq->seq.cap) * sizeof (gpointer), error))
    return FALSE;
  seq->seq.items = g_renew (NpvPyObject *, seq->seq.items, cap);
  seq->seq.cap = cap;
  return TRUE;
}

gboolean
_npv_py_seq_append (NpvPyObject  *seq,
                    NpvPyObject  *item,
                    GError      **error)
{
  if (!_npv_py_seq_reserve (seq, 1, error))
    return FALSE;
  seq->seq.items[seq->seq.len++] = item;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Reading                                                                 */

NpvPyObject *
npv_py_object_ref (NpvPyObject *obj)
{
  g_return_val_if_fail (obj != NULL, NULL);

  _npv_py_tree_ref (obj->tree);
  return obj;
}

void
npv_py_object_unref (NpvPyObject *obj)
{
  g_return_if_fail (obj != NULL);

  _npv_py_tree_unref (obj->tree);
}

NpvPyKind
npv_py_object_get_kind (const NpvPyObject *obj)
{
  return obj->kind;
}

const char *
npv_py_kind_to_string (NpvPyKind kind)
{
  static const char * const names[] = {
    "None", "bool", "int", "int", "float", "complex", "str", "bytes", "bytearray",
    "list", "tuple", "dict", "set", "frozenset", "range", "slice", "global",
    "object", "ndarray", "dtype",
  };

  if ((guint) kind < G_N_ELEMENTS (names))
    return names[kind];
  return "?";
}

gsize
npv_py_object_get_memory_used (const NpvPyObject *obj)
{
  return obj->tree->memory_used;
}

gsize
npv_py_object_get_n_objects (const NpvPyObject *obj)
{
  return obj->tree->n_objects;
}

gboolean
npv_py_object_get_bool (const NpvPyObject *obj)
{
  if (obj->kind == NPV_PY_BOOL)
    return obj->b;
  if (obj->kind == NPV_PY_INT)
    return obj->i != 0;
  return FALSE;
}

gboolean
npv_py_object_get_int (const NpvPyObject *obj,
                       gint64            *value)
{
  if (obj->kind == NPV_PY_INT)
    *value = obj->i;
  else if (obj->kind == NPV_PY_BOOL)
    *value = obj->b ? 1 : 0;
  else
    return FALSE;
  return TRUE;
}

const guint8 *
npv_py_object_get_bigint (const NpvPyObject *obj,
                          gsize             *len)
{
  if (obj->kind != NPV_PY_BIGINT)
    {
      *len = 0;
      return NULL;
    }
  *len = obj->bigint.len;
  return obj->bigint.data;
}

double
npv_py_object_get_float (const NpvPyObject *obj)
{
  switch (obj->kind)
    {
    case NPV_PY_FLOAT:
      return obj->f;
    case NPV_PY_INT:
      return (double) obj->i;
    case NPV_PY_BOOL:
      return obj->b ? 1.0 : 0.0;
    default:
      return 0.0;
    }
}

void
npv_py_object_get_complex (const NpvPyObject *obj,
                           double            *real,
                           double            *imag)
{
  if (obj->kind == NPV_PY_COMPLEX)
    {
      *real = obj->c.re;
      *imag = obj->c.im;
      return;
    }
  *real = npv_py_object_get_float (obj);
  *imag = 0.0;
}

const char *
npv_py_object_get_str (const NpvPyObject *obj,
                       gsize             *len)
{
  if (obj->kind != NPV_PY_STR)
    {
      if (len != NULL)
        *len = 0;
      return NULL;
    }
  if (len != NULL)
    *len = obj->str.len;
  return obj->str.text;
}

const guint8 *
npv_py_object_get_bytes (const NpvPyObject *obj,
                         gsize             *len)
{
  if (obj->kind != NPV_PY_BYTES && obj->kind != NPV_PY_BYTEARRAY)
    {
      *len = 0;
      return NULL;
    }
  *len = obj->bytes.len;
  return obj->bytes.data;
}

gsize
npv_py_object_get_n_items (const NpvPyObject *obj)
{
  if (!is_seq (obj))
    return 0;
  return obj->kind == NPV_PY_DICT ? obj->seq.len / 2 : obj->seq.len;
}

NpvPyObject *
npv_py_object_get_item (const NpvPyObject *obj,
                        gsize              index)
{
  if (!is_seq (obj) || obj->kind == NPV_PY_DICT || index >= obj->seq.len)
    return NULL;
  return obj->seq.items[index];
}

NpvPyObject *
npv_py_object_get_key (const NpvPyObject *dict,
                       gsize              index)
{
  if (dict->kind != NPV_PY_DICT || index >= dict->seq.len / 2)
    return NULL;
  return dict->seq.items[2 * index];
}

NpvPyObject *
npv_py_object_get_value (const NpvPyObject *dict,
                         gsize              index)
{
  if (dict->kind != NPV_PY_DICT || index >= dict->seq.len / 2)
    return NULL;
  return dict->seq.items[2 * index + 1];
}

NpvPyObject *
npv_py_object_lookup (const NpvPyObject *dict,
                      const char        *key)
{
  gsize key_len = strlen (key);

  if (dict->kind != NPV_PY_DICT)
    return NULL;
  for (gsize i = 0; i + 1 < dict->seq.len; i += 2)
    {
      const NpvPyObject *k = dict->seq.items[i];

      if (k->kind == NPV_PY_STR && k->str.len == key_len && memcmp (k->str.text, key, key_len) == 0)
        return dict->seq.items[i + 1];
    }
  return NULL;
}

void
npv_py_object_get_range (const NpvPyObject  *obj,
                         NpvPyObject       **start,
                         NpvPyObject       **stop,
                         NpvPyObject       **step)
{
  gboolean ok = obj->kind == NPV_PY_RANGE || obj->kind == NPV_PY_SLICE;

  if (start != NULL)
    *start = ok ? obj->range.start : NULL;
  if (stop != NULL)
    *stop = ok ? obj->range.stop : NULL;
  if (step != NULL)
    *step = ok ? obj->range.step : NULL;
}

const char *
npv_py_object_get_module (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_GLOBAL ? obj->global.module : NULL;
}

const char *
npv_py_object_get_name (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_GLOBAL ? obj->global.name : NULL;
}

NpvPyCallKind
npv_py_opaque_get_call_kind (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_OPAQUE ? obj->opaque->call : NPV_PY_CALL_REDUCE;
}

#define OPAQUE_GETTER(field)                                            \
  NpvPyObject *                                                         \
  npv_py_opaque_get_##field (const NpvPyObject *obj)                    \
  {                                                                     \
    return obj->kind == NPV_PY_OPAQUE ? obj->opaque->field : NULL;      \
  }

OPAQUE_GETTER (callable)
OPAQUE_GETTER (args)
OPAQUE_GETTER (kwargs)
OPAQUE_GETTER (state)
OPAQUE_GETTER (appended)
OPAQUE_GETTER (set_items)

NpvDType *
npv_py_object_get_dtype (const NpvPyObject *obj)
{
  if (obj->kind == NPV_PY_NDARRAY)
    return obj->nd->dtype;
  if (obj->kind == NPV_PY_DTYPE)
    return obj->dtype;
  return NULL;
}

const gint64 *
npv_py_ndarray_get_shape (const NpvPyObject *obj,
                          guint             *ndim)
{
  if (obj->kind != NPV_PY_NDARRAY)
    {
      *ndim = 0;
      return NULL;
    }
  *ndim = obj->nd->ndim;
  return obj->nd->shape;
}

gint64
npv_py_ndarray_get_count (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_NDARRAY ? obj->nd->count : 0;
}

gboolean
npv_py_ndarray_is_fortran (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_NDARRAY && obj->nd->fortran;
}

gboolean
npv_py_ndarray_is_scalar (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_NDARRAY && obj->nd->scalar;
}

const char *
npv_py_ndarray_get_subtype (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_NDARRAY ? obj->nd->subtype : NULL;
}

const guint8 *
npv_py_ndarray_get_data (const NpvPyObject *obj,
                         gsize             *len)
{
  if (obj->kind != NPV_PY_NDARRAY || obj->nd->elements != NULL)
    {
      *len = 0;
      return NULL;
    }
  *len = obj->nd->len;
  return obj->nd->data;
}

gboolean
npv_py_ndarray_data_is_borrowed (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_NDARRAY && obj->nd->borrowed;
}

static void
tree_unref_notify (gpointer data)
{
  _npv_py_tree_unref (data);
}

GBytes *
npv_py_ndarray_dup_data (const NpvPyObject *obj)
{
  static const guint8 empty[1] = { 0 };

  if (obj->kind != NPV_PY_NDARRAY || obj->nd->elements != NULL)
    return NULL;
  _npv_py_tree_ref (obj->tree);
  return g_bytes_new_with_free_func (obj->nd->data != NULL ? obj->nd->data : empty,
                                     obj->nd->len, tree_unref_notify, obj->tree);
}

gboolean
npv_py_ndarray_has_elements (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_NDARRAY && obj->nd->elements != NULL;
}

NpvPyObject *
npv_py_ndarray_get_element (const NpvPyObject *obj,
                            gsize              index)
{
  if (obj->kind != NPV_PY_NDARRAY || obj->nd->elements == NULL)
    return NULL;
  return npv_py_object_get_item (obj->nd->elements, index);
}

/* ---------------------------------------------------------------------- */
/* Big integers                                                            */

/* Python refuses to convert integers of more than 4300 digits to decimal
 * (sys.int_info.default_max_str_digits): the conversion is quadratic.
 * 2^14284 < 10^4300. */
#define MAX_DECIMAL_BITS 14284

/* The magnitude of the two's complement @data as 32-bit limbs, least
 * significant first; returns the number of limbs in use. */
static gsize
bigint_magnitude (const guint8 *data,
                  gsize         len,
                  guint32      *limbs,
                  gboolean     *negative)
{
  gsize n = (len + 3) / 4;
  guint32 carry = 1;

  *negative = len > 0 && (data[len - 1] & 0x80) != 0;
  for (gsize i = 0; i < n; i++)
    {
      guint32 limb = 0;

      for (guint b = 0; b < 4; b++)
        {
          gsize k = 4 * i + b;
          guint32 byte = k < len ? data[k] : (*negative ? 0xff : 0);

          limb |= byte << (8 * b);
        }
      if (*negative)
        {
          /* Negate: invert and add one. */
          guint64 sum = (guint64) (guint32) ~limb + carry;

          limb = (guint32) sum;
          carry = (guint32) (sum >> 32);
        }
      limbs[i] = limb;
    }
  while (n > 0 && limbs[n - 1] == 0)
    n--;
  return n;
}

/* Decimal like Python, or hex (at most about @max_len bytes of it) for
 * numbers Python would not print. */
static void
append_bigint (GString      *out,
               const guint8 *data,
               gsize         len,
               gsize         max_len)
{
  g_autofree guint32 *limbs = g_new0 (guint32, (len + 3) / 4 + 1);
  gboolean negative;
  gsize n = bigint_magnitude (data, len, limbs, &negative);
  gsize bits = n == 0 ? 0 : 32 * (n - 1) + g_bit_storage (limbs[n - 1]);

  if (negative)
    g_string_append_c (out, '-');

  if (bits <= MAX_DECIMAL_BITS)
    {
      guint32 chunks[MAX_DECIMAL_BITS / 29 + 2];
      gsize n_chunks = 0;

      /* Repeated division by 10^9 (> 2^29), most significant limb first. */
      while (n > 0)
        {
          guint64 rem = 0;

          for (gsize i = n; i-- > 0;)
            {
              guint64 cur = (rem << 32) | limbs[i];

              limbs[i] = (guint32) (cur / 1000000000u);
              rem = cur % 1000000000u;
            }
          chunks[n_chunks++] = (guint32) rem;
          while (n > 0 && limbs[n - 1] == 0)
            n--;
        }
      if (n_chunks == 0)
        g_string_append_c (out, '0');
      for (gsize i = n_chunks; i-- > 0;)
        g_string_append_printf (out, i + 1 == n_chunks ? "%u" : "%09u", chunks[i]);
      return;
    }

  g_string_append_printf (out, "0x%x", limbs[n - 1]);
  for (gsize i = n - 1; i-- > 0;)
    {
      g_string_append_printf (out, "%08x", limbs[i]);
      if (out->len > max_len)
        break;
    }
}

/* ---------------------------------------------------------------------- */
/* Repr                                                                    */

#define NATIVE_ORDER (G_BYTE_ORDER == G_LITTLE_ENDIAN ? '<' : '>')

/* numpy's str(dtype): "float64", "bool", ">i4", "<U3", "datetime64[s]",
 * "object", or the descr of a record. Sets *@quoted when numpy's array
 * repr puts it in quotes. */
static void
append_dtype_name (GString        *out,
                   const NpvDType *dtype,
                   gboolean       *quoted)
{
  gboolean native = dtype->byteorder == '|' || dtype->byteorder == NATIVE_ORDER;
  g_autofree char *str = npv_dtype_to_str (dtype);

  *quoted = FALSE;
  switch (dtype->kind)
    {
    case NPV_KIND_BOOL:
      g_string_append (out, "bool");
      return;
    case NPV_KIND_INT:
    case NPV_KIND_UINT:
    case NPV_KIND_FLOAT:
    case NPV_KIND_COMPLEX:
      if (native)
        {
          const char *name = dtype->kind == NPV_KIND_INT ? "int" :
                             dtype->kind == NPV_KIND_UINT ? "uint" :
                             dtype->kind == NPV_KIND_FLOAT ? "float" : "complex";

          g_string_append_printf (out, "%s%" G_GSIZE_FORMAT, name, dtype->itemsize * 8);
          return;
        }
      break;
    case NPV_KIND_OBJECT:
      g_string_append (out, "object");
      return;
    case NPV_KIND_DATETIME:
    case NPV_KIND_TIMEDELTA:
      if (native)
        {
          g_string_append (out, dtype->kind == NPV_KIND_DATETIME ? "datetime64" : "timedelta64");
          g_string_append (out, str + 3);
          return;
        }
      break;
    case NPV_KIND_STRUCT:
    case NPV_KIND_SUBARRAY:
      npv_dtype_append_descr_repr (dtype, out);
      return;
    case NPV_KIND_BYTES:
    case NPV_KIND_UNICODE:
    case NPV_KIND_VOID:
    default:
      break;
    }
  *quoted = TRUE;
  g_string_append (out, str);
}

static void
append_dtype_repr (GString        *out,
                   const NpvDType *dtype)
{
  gboolean quoted;

  g_string_append (out, "dtype(");
  if (dtype->kind == NPV_KIND_OBJECT)
    g_string_append (out, "'O'");
  else if (dtype->kind == NPV_KIND_DATETIME || dtype->kind == NPV_KIND_TIMEDELTA)
    {
      g_autofree char *str = npv_dtype_to_str (dtype);

      g_string_append_printf (out, "'%s'", str);
    }
  else if (dtype->kind == NPV_KIND_STRUCT || dtype->kind == NPV_KIND_SUBARRAY)
    npv_dtype_append_descr_repr (dtype, out);
  else
    {
      g_autoptr(GString) name = g_string_new (NULL);

      append_dtype_name (name, dtype, &quoted);
      g_string_append_printf (out, "'%s'", name->str);
    }
  g_string_append_c (out, ')');
}

/* numpy 1.x's repr of a scalar. */
static void
append_scalar_repr (GString              *out,
                    const NpvPyArrayData *nd)
{
  const NpvDType *dtype = nd->dtype;

  if (nd->data == NULL || nd->len < dtype->itemsize)
    {
      g_string_append (out, "<numpy scalar>");
      return;
    }

  switch (dtype->kind)
    {
    case NPV_KIND_UNICODE:
      {
        g_autoptr(GString) text = g_string_new (NULL);

        npv_append_item_text (text, dtype, nd->data);
        npv_append_python_str_repr (out, text->str, text->len);
      }
      break;
    case NPV_KIND_DATETIME:
    case NPV_KIND_TIMEDELTA:
      {
        union { gint64 i64; guint8 bytes[16]; } item;
        const char *unit = npv_time_unit_to_string (dtype->unit);

        npv_item_load_native (dtype, nd->data, item.bytes);
        if (dtype->kind == NPV_KIND_DATETIME)
          {
            g_string_append (out, "numpy.datetime64('");
            npv_format_datetime (out, item.i64, dtype->unit, dtype->multiplier);
            g_string_append (out, "')");
          }
        else if (item.i64 == G_MININT64)
          g_string_append (out, "numpy.timedelta64('NaT')");
        else
          {
            g_string_append_printf (out, "numpy.timedelta64(%" G_GINT64_FORMAT, item.i64);
            if (dtype->unit != NPV_TIME_UNIT_GENERIC && dtype->multiplier != 1)
              g_string_append_printf (out, ",'%" G_GINT64_FORMAT "%s'", dtype->multiplier, unit);
            else if (dtype->unit != NPV_TIME_UNIT_GENERIC)
              g_string_append_printf (out, ",'%s'", unit);
            g_string_append_c (out, ')');
          }
      }
      break;
    case NPV_KIND_BOOL:
    case NPV_KIND_INT:
    case NPV_KIND_UINT:
    case NPV_KIND_FLOAT:
    case NPV_KIND_COMPLEX:
    case NPV_KIND_BYTES:
    case NPV_KIND_VOID:
    case NPV_KIND_STRUCT:
    case NPV_KIND_OBJECT:
    case NPV_KIND_SUBARRAY:
    default:
      npv_append_item_text (out, dtype, nd->data);
      break;
    }
}

static void
append_array_repr (GString              *out,
                   const NpvPyArrayData *nd)
{
  gboolean quoted;

  if (nd->dtype == NULL)
    {
      g_string_append (out, "array(?)");
      return;
    }
  if (nd->scalar)
    {
      append_scalar_repr (out, nd);
      return;
    }
  g_string_append (out, "array(shape=(");
  for (guint d = 0; d < nd->ndim; d++)
    g_string_append_printf (out, d == 0 ? "%" G_GINT64_FORMAT : ", %" G_GINT64_FORMAT,
                            nd->shape[d]);
  if (nd->ndim == 1)
    g_string_append_c (out, ',');
  g_string_append (out, "), dtype=");
  {
    g_autoptr(GString) name = g_string_new (NULL);

    append_dtype_name (name, nd->dtype, &quoted);
    if (quoted)
      g_string_append_printf (out, "'%s'", name->str);
    else
      g_string_append (out, name->str);
  }
  if (nd->fortran && nd->ndim > 1)
    g_string_append (out, ", order='F'");
  if (nd->subtype != NULL && strcmp (nd->subtype, "numpy.ndarray") != 0)
    g_string_append_printf (out, ", type=%s", nd->subtype);
  g_string_append_c (out, ')');
}

/* A prefix of @len bytes of UTF-8 at most @max bytes long, cut at a
 * character boundary. */
static gsize
utf8_prefix (const char *text,
             gsize       len,
             gsize       max)
{
  if (len <= max)
    return len;
  while (max > 0 && ((guchar) text[max] & 0xc0) == 0x80)
    max--;
  return max;
}

/* Leaves: everything without children. Returns FALSE for containers. */
static gboolean
append_leaf (GString           *out,
             const NpvPyObject *obj,
             gsize              room)
{
  char buf[NPV_FORMAT_NUMBER_MAX];

  /* One byte more than fits, so that a cut text is seen to be cut. */
  if (room < G_MAXSIZE)
    room++;

  switch (obj->kind)
    {
    case NPV_PY_NONE:
      g_string_append (out, "None");
      return TRUE;
    case NPV_PY_BOOL:
      g_string_append (out, obj->b ? "True" : "False");
      return TRUE;
    case NPV_PY_INT:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, obj->i);
      return TRUE;
    case NPV_PY_BIGINT:
      append_bigint (out, obj->bigint.data, obj->bigint.len,
                     room > G_MAXSIZE - out->len ? G_MAXSIZE : out->len + room);
      return TRUE;
    case NPV_PY_FLOAT:
      npv_format_double (obj->f, buf);
      g_string_append (out, buf);
      return TRUE;
    case NPV_PY_COMPLEX:
      /* numpy's complex128 repr is Python's: "1j", "(-0+1j)", "(1+nanj)". */
      npv_format_complex_double (obj->c.re, obj->c.im, buf);
      g_string_append (out, buf);
      return TRUE;
    case NPV_PY_STR:
      /* The repr is at least as long as the text: a prefix is enough. */
      npv_append_python_str_repr (out, obj->str.text,
                                  utf8_prefix (obj->str.text, obj->str.len, room));
      return TRUE;
    case NPV_PY_BYTES:
      npv_format_bytes (out, obj->bytes.data, MIN (obj->bytes.len, room), FALSE, FALSE);
      return TRUE;
    case NPV_PY_BYTEARRAY:
      g_string_append (out, "bytearray(");
      npv_format_bytes (out, obj->bytes.data, MIN (obj->bytes.len, room), FALSE, FALSE);
      g_string_append_c (out, ')');
      return TRUE;
    case NPV_PY_GLOBAL:
      g_string_append_printf (out, "<object %s.%s>", obj->global.module, obj->global.name);
      return TRUE;
    case NPV_PY_NDARRAY:
      append_array_repr (out, obj->nd);
      return TRUE;
    case NPV_PY_DTYPE:
      append_dtype_repr (out, obj->dtype);
      return TRUE;
    case NPV_PY_LIST:
    case NPV_PY_TUPLE:
    case NPV_PY_DICT:
    case NPV_PY_SET:
    case NPV_PY_FROZENSET:
    case NPV_PY_RANGE:
    case NPV_PY_SLICE:
    case NPV_PY_OPAQUE:
    default:
      return FALSE;
    }
}

typedef struct
{
  const NpvPyObject *obj;
  guint phase;
  gsize index;
} Frame;

typedef struct
{
  GString *out;
  gsize limit;            /* out->len at which to stop */
  GHashTable *on_path;    /* containers being printed, for [...] */
  GArray *frames;
} Repr;

static const char *
recursion_marker (NpvPyKind kind)
{
  switch (kind)
    {
    case NPV_PY_LIST: return "[...]";
    case NPV_PY_TUPLE: return "(...)";
    case NPV_PY_DICT: return "{...}";
    case NPV_PY_SET: return "set(...)";
    case NPV_PY_FROZENSET: return "frozenset(...)";
    case NPV_PY_RANGE: return "range(...)";
    case NPV_PY_SLICE: return "slice(...)";
    case NPV_PY_OPAQUE:
    default:
      return "<object ...>";
    }
}

static void
repr_enter (Repr              *r,
            const NpvPyObject *obj)
{
  Frame frame = { obj, 0, 0 };
  gsize room = r->out->len < r->limit ? r->limit - r->out->len : 0;

  if (append_leaf (r->out, obj, room))
    return;
  if (g_hash_table_contains (r->on_path, obj))
    {
      g_string_append (r->out, recursion_marker (obj->kind));
      return;
    }
  g_hash_table_add (r->on_path, (gpointer) obj);
  g_array_append_val (r->frames, frame);
}

/* Sequences and dicts. Returns TRUE when done; *@child is set to the item
 * to print next. */
static gboolean
step_seq (GString            *out,
          Frame              *f,
          const NpvPyObject **child)
{
  const NpvPyObject *obj = f->obj;
  gsize n = obj->seq.len;
  gboolean dict = obj->kind == NPV_PY_DICT;

  if (f->phase == 0)
    {
      f->phase = 1;
      if (n == 0)
        {
          g_string_append (out, obj->kind == NPV_PY_LIST ? "[]" :
                                obj->kind == NPV_PY_TUPLE ? "()" :
                                dict ? "{}" :
                                obj->kind == NPV_PY_SET ? "set()" : "frozenset()");
          return TRUE;
        }
      g_string_append (out, obj->kind == NPV_PY_LIST ? "[" :
                            obj->kind == NPV_PY_TUPLE ? "(" :
                            obj->kind == NPV_PY_FROZENSET ? "frozenset({" : "{");
    }
  /* A dict with an odd number of items cannot be made by the unpickler;
   * print what there is anyway. */
  if (f->index < n)
    {
      if (f->index > 0)
        g_string_append (out, dict && f->index % 2 == 1 ? ": " : ", ");
      *child = obj->seq.items[f->index++];
      return FALSE;
    }
  if (obj->kind == NPV_PY_LIST)
    g_string_append_c (out, ']');
  else if (obj->kind == NPV_PY_TUPLE)
    g_string_append (out, n == 1 ? ",)" : ")");
  else if (obj->kind == NPV_PY_FROZENSET)
    g_string_append (out, "})");
  else
    g_string_append_c (out, '}');
  return TRUE;
}

static gboolean
step_range (GString            *out,
            Frame              *f,
            const NpvPyObject **child)
{
  const NpvPyObject *obj = f->obj;
  gboolean is_range = obj->kind == NPV_PY_RANGE;
  /* range(0, 3) leaves out a step of 1; slice() always shows it. */
  gboolean show_step = !is_range || obj->range.step == NULL ||
                       obj->range.step->kind != NPV_PY_INT || obj->range.step->i != 1;

  switch (f->phase++)
    {
    case 0:
      g_string_append (out, is_range ? "range(" : "slice(");
      *child = obj->range.start;
      return FALSE;
    case 1:
      g_string_append (out, ", ");
      *child = obj->range.stop;
      return FALSE;
    case 2:
      if (show_step)
        {
          g_string_append (out, ", ");
          *child = obj->range.step;
        }
      return FALSE;
    default:
      g_string_append_c (out, ')');
      return TRUE;
    }
}

/* <object callable(args, key=value) state=... items=[...] setitems={...}> */
static gboolean
step_opaque (GString            *out,
             Frame              *f,
             const NpvPyObject **child)
{
  const NpvPyOpaqueData *op = f->obj->opaque;
  const NpvPyObject *args = op->args;
  gboolean args_tuple = args != NULL && args->kind == NPV_PY_TUPLE;
  gsize n_args = args == NULL ? 0 : args_tuple ? args->seq.len : 1;
  gboolean kwargs_dict = op->kwargs != NULL && op->kwargs->kind == NPV_PY_DICT;

  switch (f->phase)
    {
    case 0:
      g_string_append (out, "<object ");
      f->phase = 1;
      if (op->callable == NULL)
        g_string_append (out, "extension");
      else if (op->callable->kind == NPV_PY_GLOBAL)
        g_string_append_printf (out, "%s.%s", op->callable->global.module,
                                op->callable->global.name);
      else
        *child = op->callable;
      return FALSE;
    case 1:
      g_string_append_c (out, '(');
      f->phase = 2;
      return FALSE;
    case 2:
      if (f->index < n_args)
        {
          if (f->index > 0)
            g_string_append (out, ", ");
          if (!args_tuple)
            g_string_append_c (out, '*');
          *child = args_tuple ? args->seq.items[f->index] : args;
          f->index++;
          return FALSE;
        }
      f->phase = 3;
      f->index = 0;
      return FALSE;
    case 3:
      /* Keyword arguments: key=value, the key without quotes. */
      if (kwargs_dict && f->index + 1 < op->kwargs->seq.len)
        {
          const NpvPyObject *key = op->kwargs->seq.items[f->index];

          if (n_args > 0 || f->index > 0)
            g_string_append (out, ", ");
          if (key->kind == NPV_PY_STR)
            g_string_append_len (out, key->str.text, utf8_prefix (key->str.text, key->str.len, 256));
          else
            g_string_append_c (out, '?');
          g_string_append_c (out, '=');
          *child = op->kwargs->seq.items[f->index + 1];
          f->index += 2;
          return FALSE;
        }
      if (op->kwargs != NULL && !kwargs_dict)
        {
          g_string_append (out, n_args > 0 ? ", **" : "**");
          *child = op->kwargs;
        }
      f->phase = 4;
      return FALSE;
    case 4:
      g_string_append_c (out, ')');
      f->phase = 5;
      if (op->state != NULL)
        {
          g_string_append (out, " state=");
          *child = op->state;
        }
      return FALSE;
    case 5:
      f->phase = 6;
      if (op->appended != NULL)
        {
          g_string_append (out, " items=");
          *child = op->appended;
        }
      return FALSE;
    case 6:
      f->phase = 7;
      if (op->set_items != NULL)
        {
          g_string_append (out, " setitems=");
          *child = op->set_items;
        }
      return FALSE;
    default:
      g_string_append_c (out, '>');
      return TRUE;
    }
}

void
npv_py_object_append_repr (GString           *out,
                           const NpvPyObject *obj,
                           gsize              max_len)
{
  Repr r;
  gsize start = out->len;
  NpvGuard guard;

  g_return_if_fail (out != NULL && obj != NULL);

  r.out = out;
  r.limit = max_len > G_MAXSIZE - start ? G_MAXSIZE : start + max_len;
  r.on_path = g_hash_table_new (NULL, NULL);
  r.frames = g_array_new (FALSE, FALSE, sizeof (Frame));

  /* Strings and bytes may point into a mapped pickle: if another program
   * has cut the file short, say so instead of dying of SIGBUS. */
  if (!npv_guard_enter (&guard))
    {
      g_string_truncate (out, start);
      g_string_append (out, "<changed on disk>");
      g_array_unref (r.frames);
      g_hash_table_unref (r.on_path);
      return;
    }

  repr_enter (&r, obj);
  /* Every step appends at least one byte, so the loop ends after about
   * max_len steps whatever the shape of the graph. */
  while (r.frames->len > 0 && out->len <= r.limit)
    {
      Frame *f = &g_array_index (r.frames, Frame, r.frames->len - 1);
      const NpvPyObject *child = NULL;
      const NpvPyObject *current = f->obj;
      gboolean done;

      if (current->kind == NPV_PY_RANGE || current->kind == NPV_PY_SLICE)
        done = step_range (out, f, &child);
      else if (current->kind == NPV_PY_OPAQUE)
        done = step_opaque (out, f, &child);
      else
        done = step_seq (out, f, &child);

      if (done)
        {
          g_hash_table_remove (r.on_path, current);
          g_array_set_size (r.frames, r.frames->len - 1);
        }
      else if (child != NULL)
        repr_enter (&r, child);
    }

  if (out->len > r.limit)
    {
      g_string_truncate (out, start + utf8_prefix (out->str + start, out->len - start,
                                                   r.limit - start));
      g_string_append (out, "...");
    }

  npv_guard_leave (&guard);
  g_array_unref (r.frames);
  g_hash_table_unref (r.on_path);
}

char *
npv_py_object_repr (const NpvPyObject *obj)
{
  GString *out = g_string_new (NULL);

  npv_py_object_append_repr (out, obj, NPV_PY_REPR_DEFAULT_MAX);
  return g_string_free (out, FALSE);
}
