/* npv-pyobject.h: Python values read from a pickle, as a tree of plain data
 *
 * npv_pickle_load() (npv-pickle.h) builds these trees. Nothing in them was
 * ever imported or called: a reference to a Python global is kept by name
 * (NPV_PY_GLOBAL), and what calling one would have made is kept as the
 * callable and its arguments (NPV_PY_OPAQUE). numpy arrays, dtypes and
 * scalars are rebuilt from their documented pickled forms.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "npv-dtype.h"

G_BEGIN_DECLS

typedef enum {
  NPV_PY_NONE,
  NPV_PY_BOOL,
  NPV_PY_INT,        /* fits in gint64 */
  NPV_PY_BIGINT,     /* does not: little-endian two's complement bytes */
  NPV_PY_FLOAT,
  NPV_PY_COMPLEX,
  NPV_PY_STR,
  NPV_PY_BYTES,
  NPV_PY_BYTEARRAY,
  NPV_PY_LIST,
  NPV_PY_TUPLE,
  NPV_PY_DICT,       /* ordered key/value pairs, as stored */
  NPV_PY_SET,        /* items in the order they were pickled */
  NPV_PY_FROZENSET,
  NPV_PY_RANGE,      /* range() and Python 2 xrange() */
  NPV_PY_SLICE,
  NPV_PY_GLOBAL,     /* module.name, never imported */
  NPV_PY_OPAQUE,     /* what calling a global that is not rebuilt would have made */
  NPV_PY_NDARRAY,    /* numpy arrays and numpy scalars (0-d, see is_scalar) */
  NPV_PY_DTYPE,
} NpvPyKind;

typedef struct _NpvPyObject NpvPyObject;

/* Objects are immutable once loaded and may be read from any thread.
 * References are counted for the whole tree: holding any object of it keeps
 * all of it alive, and the tree is freed, cycles included, when the last
 * reference to any of its objects goes. Objects returned by the getters
 * below are borrowed from the tree: ref them to keep them. */
NpvPyObject *npv_py_object_ref     (NpvPyObject       *obj);
void         npv_py_object_unref   (NpvPyObject       *obj);

NpvPyKind    npv_py_object_get_kind (const NpvPyObject *obj);
/* "list", "ndarray", ... */
const char  *npv_py_kind_to_string  (NpvPyKind          kind);

/* Bytes charged against the memory limit while loading the tree (the tree,
 * the unpickler's stack and memo, and temporary work). */
gsize        npv_py_object_get_memory_used (const NpvPyObject *obj);
/* Objects the tree holds (unreachable ones made while loading included). */
gsize        npv_py_object_get_n_objects   (const NpvPyObject *obj);

/* Scalars. get_bool works for BOOL and INT. get_int works for INT and BOOL
 * and fails (returns %FALSE) for everything else, BIGINT included. */
gboolean     npv_py_object_get_bool    (const NpvPyObject *obj);
gboolean     npv_py_object_get_int     (const NpvPyObject *obj,
                                        gint64            *value);
/* BIGINT: the shortest little-endian two's complement bytes of the value
 * (at least 9 of them: smaller values are INT). */
const guint8 *npv_py_object_get_bigint (const NpvPyObject *obj,
                                        gsize             *len);
/* FLOAT, and INT/BOOL converted; 0.0 for other kinds. */
double       npv_py_object_get_float   (const NpvPyObject *obj);
/* COMPLEX, and FLOAT/INT/BOOL with imag 0. */
void         npv_py_object_get_complex (const NpvPyObject *obj,
                                        double            *real,
                                        double            *imag);

/* STR: NUL-terminated valid UTF-8 (*@len bytes, the NUL not counted; the
 * text itself may contain NULs). A lone surrogate, which a Python str can
 * hold, reads as U+FFFD here and in the repr. */
const char  *npv_py_object_get_str     (const NpvPyObject *obj,
                                        gsize             *len);
/* BYTES and BYTEARRAY; may point into the pickle's input, see
 * npv_pickle_load(). %NULL (with *@len 0) for other kinds. */
const guint8 *npv_py_object_get_bytes  (const NpvPyObject *obj,
                                        gsize             *len);

/* LIST, TUPLE, SET, FROZENSET: the number of items; DICT: of pairs; 0 for
 * other kinds. A container can contain itself (a list appended to itself):
 * walk trees with a set of the containers on the current path. */
gsize        npv_py_object_get_n_items (const NpvPyObject *obj);
NpvPyObject *npv_py_object_get_item    (const NpvPyObject *obj,
                                        gsize              index);
NpvPyObject *npv_py_object_get_key     (const NpvPyObject *dict,
                                        gsize              index);
NpvPyObject *npv_py_object_get_value   (const NpvPyObject *dict,
                                        gsize              index);
/* DICT: the value of the first pair whose key is the str @key, or %NULL.
 * Pairs are kept as pickled: a key given twice (which Python would have
 * merged) appears twice. */
NpvPyObject *npv_py_object_lookup      (const NpvPyObject *dict,
                                        const char        *key);

/* RANGE (start, stop, step: INT or BIGINT) and SLICE (any objects, None
 * when not given). */
void         npv_py_object_get_range   (const NpvPyObject  *obj,
                                        NpvPyObject       **start,
                                        NpvPyObject       **stop,
                                        NpvPyObject       **step);

/* GLOBAL: the module and name as the pickle spells them (Python 2 pickles,
 * and protocol 0-2 pickles written by Python 3, say "__builtin__" and
 * "xrange"; "copyreg" may be "copy_reg"). */
const char  *npv_py_object_get_module  (const NpvPyObject *obj);
const char  *npv_py_object_get_name    (const NpvPyObject *obj);

/* OPAQUE: never built, only described. The callable is usually a GLOBAL
 * (any object for a chain of calls, %NULL for EXTENSION); args is the
 * argument tuple (for EXTENSION a tuple holding the code); kwargs
 * (NEWOBJ_EX), state (the last BUILD), appended (items that
 * APPEND/APPENDS/ADDITEMS gave it, a LIST) and set_items (SETITEM(S), a
 * DICT) are %NULL when the pickle gave none. */
typedef enum {
  NPV_PY_CALL_REDUCE,      /* REDUCE, INST, OBJ: callable(*args) */
  NPV_PY_CALL_NEWOBJ,      /* NEWOBJ, NEWOBJ_EX: cls.__new__(cls, *args, **kwargs) */
  NPV_PY_CALL_EXTENSION,   /* EXT1/2/4: a code of copyreg's extension registry */
} NpvPyCallKind;

NpvPyCallKind npv_py_opaque_get_call_kind (const NpvPyObject *obj);
NpvPyObject *npv_py_opaque_get_callable   (const NpvPyObject *obj);
NpvPyObject *npv_py_opaque_get_args       (const NpvPyObject *obj);
NpvPyObject *npv_py_opaque_get_kwargs     (const NpvPyObject *obj);
NpvPyObject *npv_py_opaque_get_state      (const NpvPyObject *obj);
NpvPyObject *npv_py_opaque_get_appended   (const NpvPyObject *obj);
NpvPyObject *npv_py_opaque_get_set_items  (const NpvPyObject *obj);

/* NDARRAY and DTYPE: the data type (borrowed; ref it to keep it beyond the
 * tree). An NDARRAY never has a SUBARRAY dtype: a subarray is expanded into
 * the shape, as numpy does. */
NpvDType    *npv_py_object_get_dtype   (const NpvPyObject *obj);

/* NDARRAY. An array that was created but never given a state (a REDUCE of
 * _reconstruct without its BUILD) has the shape and type code it was
 * created with (numpy: (0,), int8) and zeros for data. */
const gint64 *npv_py_ndarray_get_shape (const NpvPyObject *obj,
                                        guint             *ndim);
gint64       npv_py_ndarray_get_count  (const NpvPyObject *obj);
/* Whether the data is in Fortran (column-major) order. */
gboolean     npv_py_ndarray_is_fortran (const NpvPyObject *obj);
/* A numpy scalar (numpy.float64(1.5), numpy.str_('a')...) kept as a 0-d array. */
gboolean     npv_py_ndarray_is_scalar  (const NpvPyObject *obj);
/* The class named when it was rebuilt: "numpy.ndarray", "numpy.matrix"...;
 * "numpy.ndarray" for scalars and _frombuffer. */
const char  *npv_py_ndarray_get_subtype (const NpvPyObject *obj);

/* Arrays of a dtype without objects: the count * itemsize bytes of the
 * items exactly as the pickle holds them: in Fortran order when
 * npv_py_ndarray_is_fortran() and in C order otherwise (the bytes of
 * arr.tobytes(order='A')), in the byte order of the pickled dtype. (numpy's
 * own unpickler byte-swaps non-native arrays of protocols 0-4 to native
 * order; this one never changes the bytes.) %NULL with *@len 0 for arrays
 * whose dtype holds objects, and possibly for empty arrays.
 *
 * The pointer is valid while the tree lives; if
 * npv_py_ndarray_data_is_borrowed() it points into the input given to
 * npv_pickle_load() (no copy was made) and needs that too. Data is borrowed
 * from BINBYTES/SHORT_BINBYTES/BINBYTES8/BYTEARRAY8 and from Python 2
 * BINSTRING/SHORT_BINSTRING whatever the encoding option; it is copied
 * only when the pickle gives it as text: protocol 0-2 pickles written by
 * Python 3 (_codecs.encode(text, 'latin1')), Python 2 STRING with escapes,
 * and unicode strings. */
const guint8 *npv_py_ndarray_get_data  (const NpvPyObject *obj,
                                        gsize             *len);
gboolean     npv_py_ndarray_data_is_borrowed (const NpvPyObject *obj);
/* The data as a GBytes that keeps the tree alive (and, with
 * npv_pickle_load_bytes(), its input), or %NULL for object arrays. With
 * npv_pickle_load() borrowed data still needs the caller's buffer. */
GBytes      *npv_py_ndarray_dup_data   (const NpvPyObject *obj);

/* Arrays whose dtype holds objects (object arrays, records with object
 * fields): the count elements, ALWAYS in C order (last index fastest), also
 * when npv_py_ndarray_is_fortran() - numpy pickles the elements of object
 * arrays in C order whatever their memory layout. Records with object fields
 * have one TUPLE per record. get_element() returns %NULL out of range. */
gboolean     npv_py_ndarray_has_elements (const NpvPyObject *obj);
NpvPyObject *npv_py_ndarray_get_element  (const NpvPyObject *obj,
                                          gsize              index);

/* Repr output per call when the caller has no better idea: a pickle of a
 * few kilobytes can describe a tree whose full text is astronomically long
 * (the same list referenced twice at each of 100 levels). */
#define NPV_PY_REPR_DEFAULT_MAX 65536

/* Appends what Python's repr() prints for plain values: None, True, 3,
 * 1.5, (1+2j), 'text', b'\xe4', bytearray(b'a'), [1, 2], (1,), {'a': 1},
 * {1, 2}, set(), frozenset({1}), range(0, 3), slice(1, 2, None), with [...],
 * {...}, set(...) where a container contains itself. Integers of more than
 * about 4300 digits (Python itself refuses to print those) are written in
 * hex, 0x....
 * Other kinds are described: <object os.system> for a GLOBAL,
 * <object collections.Counter({'a': 1})> for an OPAQUE (with " state=...",
 * " items=[...]" and " setitems={...}" when it has them),
 * array(shape=(2, 3), dtype=float64) for an array, numpy 1.x's repr for a
 * numpy scalar (1.5, 'a', numpy.datetime64('2020-01-01')) and
 * dtype('float64') for a dtype.
 *
 * Works without recursion, in time proportional to @max_len. At most about
 * @max_len bytes are appended: a longer text is cut at a character
 * boundary and ends with "...". */
void         npv_py_object_append_repr (GString           *out,
                                        const NpvPyObject *obj,
                                        gsize              max_len);

/* The repr as a new string (NPV_PY_REPR_DEFAULT_MAX at most). */
char        *npv_py_object_repr        (const NpvPyObject *obj);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpvPyObject, npv_py_object_unref)

/* ---------------------------------------------------------------------- */
/* Internals shared with the unpickler (npv-pickle.c). Nothing else may
 * use them: define NPV_PY_OBJECT_INTERNALS before including this header. */

#ifdef NPV_PY_OBJECT_INTERNALS

typedef struct _NpvPyTree NpvPyTree;

struct _NpvPyTree
{
  gatomicrefcount ref;
  GBytes *input;                /* owned, or NULL when the caller keeps it */
  GPtrArray *slabs;             /* blocks of objects */
  guint slab_used;              /* objects used in the last slab */
  GPtrArray *blocks;            /* memory from _npv_py_tree_alloc() */
  gsize n_objects;
  gsize max_objects;
  gsize memory_used;
  gsize max_memory;
  NpvPyObject *none;
  NpvPyObject *bools[2];
};

typedef struct
{
  NpvPyCallKind call;
  NpvPyObject *callable, *args, *kwargs, *state, *appended, *set_items;
} NpvPyOpaqueData;

typedef struct
{
  NpvDType *dtype;              /* owned reference */
  guint ndim;
  gint64 *shape;                /* from _npv_py_tree_alloc(), NPV_MAX_DIMS long */
  gint64 count;
  gboolean fortran;
  gboolean scalar;
  gboolean borrowed;            /* data points into the input */
  const guint8 *data;
  gsize len;
  NpvPyObject *elements;        /* a LIST, for dtypes with objects */
  const char *subtype;
  /* What made it (_reconstruct or numpy.ndarray and its arguments), to
   * describe it as an OPAQUE if it is a foreign subclass whose state is
   * not an ndarray's. */
  NpvPyObject *made_by, *made_args;
} NpvPyArrayData;

/* Small on purpose: pickles of a million tiny objects are legitimate. Every
 * pointer below is either borrowed from the input or from
 * _npv_py_tree_alloc(), except seq.items (g_malloc) and dtypes (refs). */
struct _NpvPyObject
{
  NpvPyTree *tree;
  NpvPyKind kind;
  guint8 visit;                 /* scratch for walks while loading */
  guint32 height;               /* longest chain of children below, while loading */
  union
  {
    gboolean b;
    gint64 i;
    double f;
    struct { double re, im; } c;
    struct { const guint8 *data; gsize len; } bigint;
    /* STR: raw is the Python 2 str a decoded str was read from, so that
     * numpy data given as such keeps its bytes; NULL otherwise. */
    struct { const char *text; gsize len; const guint8 *raw; gsize raw_len; } str;
    struct { const guint8 *data; gsize len; } bytes;
    /* LIST, TUPLE, SET, FROZENSET; DICT with keys and values alternating. */
    struct { NpvPyObject **items; gsize len; gsize cap; } seq;
    struct { NpvPyObject *start, *stop, *step; } range;
    struct { const char *module; const char *name; } global;
    NpvPyOpaqueData *opaque;
    NpvPyArrayData *nd;
    NpvDType *dtype;
  };
};

/* A tree with one reference, owned by the caller (the unpickler), who
 * drops it with npv_py_object_unref() on any object or _npv_py_tree_unref(). */
NpvPyTree   *_npv_py_tree_new      (gsize       max_memory,
                                    gsize       max_objects,
                                    GBytes     *input);
void         _npv_py_tree_ref      (NpvPyTree  *tree);
void         _npv_py_tree_unref    (NpvPyTree  *tree);

/* Counts @size bytes against the tree's limit; NPV_ERROR_TOO_LARGE when
 * they do not fit. */
gboolean     _npv_py_tree_charge   (NpvPyTree  *tree,
                                    gsize       size,
                                    GError    **error);

/* A zeroed object of @kind (containers empty; OPAQUE and NDARRAY get their
 * zeroed data, an NDARRAY its shape array but no dtype), or
 * NPV_ERROR_TOO_LARGE when the object or memory limit is reached. NONE and
 * BOOL are shared: use _npv_py_tree_get_none/_bool. */
NpvPyObject *_npv_py_object_new    (NpvPyTree  *tree,
                                    NpvPyKind   kind,
                                    GError    **error);
NpvPyObject *_npv_py_tree_get_none (NpvPyTree  *tree);
NpvPyObject *_npv_py_tree_get_bool (NpvPyTree  *tree,
                                    gboolean    value);

/* Zeroed memory that lives as long as the tree, charged to it. */
gpointer     _npv_py_tree_alloc    (NpvPyTree  *tree,
                                    gsize       size,
                                    GError    **error);

/* Appends to a LIST, TUPLE, SET, FROZENSET (one item) or DICT (call twice:
 * key, then value), growing the storage within the memory limit. */
gboolean     _npv_py_seq_append    (NpvPyObject *seq,
                                    NpvPyObject *item,
                                    GError     **error);
/* Reserves room for @extra more items. */
gboolean     _npv_py_seq_reserve   (NpvPyObject *seq,
                                    gsize        extra,
                                    GError     **error);

#endif /* NPV_PY_OBJECT_INTERNALS */

G_END_DECLS
