/* npv-pickle.h: Python pickles read without executing anything
 *
 * numpy stores object arrays (and np.save of them) as pickles, and some
 * people ship whole pickled dicts of arrays. Python's own unpickler imports
 * and calls whatever the pickle names; this one never does. It interprets
 * the opcodes of protocols 0-5 into a tree of plain values (npv-pyobject.h),
 * rebuilds numpy arrays, dtypes and scalars from their documented
 * reduce/setstate forms, and keeps every other reference to a Python global
 * as a placeholder that names it (NPV_PY_GLOBAL) or that records what
 * calling it would have been given (NPV_PY_OPAQUE).
 *
 * Interpreted without calling anything (Python 2 spellings __builtin__,
 * copy_reg and xrange included):
 *   numpy.core.multiarray._reconstruct, numpy._core.multiarray._reconstruct,
 *   numpy.core._internal._reconstruct, numpy.ndarray (+ BUILD: array state),
 *   numpy.dtype (+ BUILD: dtype state), numpy.core.numeric._frombuffer,
 *   numpy._core.numeric._frombuffer, numpy.core.multiarray.scalar,
 *   numpy._core.multiarray.scalar; builtins set, frozenset, bytearray,
 *   bytes, complex, range, slice; _codecs.encode (str, latin1/utf-8/ascii);
 *   collections.OrderedDict (a DICT); copyreg.__newobj__, __newobj_ex__
 *   (as NEWOBJ/NEWOBJ_EX) and copyreg._reconstructor (base(state) when cls
 *   is base and one of the above; with base object and no state, an OPAQUE
 *   NEWOBJ of cls; otherwise an OPAQUE of the _reconstructor call).
 * Everything else a pickle names becomes a GLOBAL; calling it (REDUCE,
 * NEWOBJ, NEWOBJ_EX, INST, OBJ) an OPAQUE; BUILD, APPEND(S), SETITEM(S) and
 * ADDITEMS on an OPAQUE are recorded in it. Arguments a whitelisted callable
 * does not take as documented (bytes(10**12), set(3)...) also give an
 * OPAQUE rather than an error.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "npv-pyobject.h"

G_BEGIN_DECLS

/* How Python 2 str (opcodes STRING, BINSTRING, SHORT_BINSTRING) is read,
 * like the encoding argument of numpy.load and pickle.load. Python 3
 * pickles never contain such strings. */
typedef enum {
  NPV_PY_ENCODING_BYTES,   /* keep them as bytes: b'...' (the default) */
  NPV_PY_ENCODING_LATIN1,  /* decode as latin1: always works, every byte is a character */
  NPV_PY_ENCODING_ASCII,   /* decode as ASCII; a string with a byte >= 0x80 stays bytes
                            * (numpy would fail to load the whole file) */
} NpvPyEncoding;

/* Defaults of NpvPickleOptions: memory for the tree and the work done while
 * loading is bounded by FACTOR times the input size plus BASE bytes. */
#define NPV_PICKLE_DEFAULT_MEMORY_FACTOR 64
#define NPV_PICKLE_DEFAULT_MEMORY_BASE   (16 * 1024 * 1024)
/* Longest chain of objects inside objects (a list of lists of ints is 2
 * deep; array elements, call arguments and states count too). Python's own
 * recursion limit keeps pickles written by Python well below this. */
#define NPV_PICKLE_DEFAULT_MAX_DEPTH     1000
/* Objects per input byte, plus a constant: no opcode makes more than two
 * objects per byte it takes. */
#define NPV_PICKLE_DEFAULT_OBJECTS_FACTOR 2
#define NPV_PICKLE_DEFAULT_OBJECTS_BASE   1024

typedef struct
{
  NpvPyEncoding encoding;
  gsize max_memory;   /* bytes; 0 for the default (see above) */
  guint max_depth;    /* 0 for NPV_PICKLE_DEFAULT_MAX_DEPTH */
  gsize max_objects;  /* 0 for the default (see above) */
} NpvPickleOptions;

/* Interprets the pickle at the start of @data (@len bytes) up to and
 * including its STOP opcode; on success *@consumed (may be %NULL) is set to
 * the number of bytes read, so that a stream of several pickles can be
 * walked. Bytes after STOP are never looked at. @options may be %NULL for
 * the defaults.
 *
 * Nothing is imported, called or executed, whatever the pickle names.
 *
 * Lifetime: the tree is one unit. It borrows from @data (bytes objects, big
 * integers and the raw data of arrays point into it, without copies), so
 * @data must stay valid and unchanged as long as any object of the tree is
 * referenced. Use npv_pickle_load_bytes() to have the tree keep its input
 * alive instead.
 *
 * Returns: (transfer full): the root object, or %NULL with @error set:
 *   NPV_ERROR_FORMAT for malformed or truncated pickles (the message names
 *   the opcode and its byte offset; declared lengths beyond the end of the
 *   input are refused before anything is allocated), NPV_ERROR_UNSUPPORTED
 *   for out-of-band buffers (NEXT_BUFFER, READONLY_BUFFER), persistent ids
 *   (PERSID, BINPERSID), protocols above 5 and record dtypes this viewer
 *   cannot represent (overlapping or out-of-order fields),
 *   NPV_ERROR_TOO_LARGE when the memory, object or depth limit is exceeded
 *   or an integer has more than 4300 decimal digits. States that are not in
 *   numpy's form (a dtype string numpy 2 added, a foreign ndarray subclass)
 *   are no error: the object becomes an OPAQUE recording the call and state.
 *   Malformed numpy states (data of the wrong size) are NPV_ERROR_FORMAT, as
 *   numpy would fail too. */
NpvPyObject *npv_pickle_load       (const guint8            *data,
                                    gsize                    len,
                                    const NpvPickleOptions  *options,
                                    gsize                   *consumed,
                                    GError                 **error);

/* The same for the bytes of @bytes from @offset on (*@consumed counts from
 * @offset); the tree holds a reference to @bytes, so everything it points
 * to lives as long as it. */
NpvPyObject *npv_pickle_load_bytes (GBytes                  *bytes,
                                    gsize                    offset,
                                    const NpvPickleOptions  *options,
                                    gsize                   *consumed,
                                    GError                 **error);

/* The name pickletools gives @opcode ("BINUNICODE"), or %NULL. */
const char  *npv_pickle_opcode_name (guint8 opcode);

G_END_DECLS
