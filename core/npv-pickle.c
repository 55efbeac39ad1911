/* npv-pickle.c: Python pickles read without executing anything
 *
 * A stack machine like Python's Unpickler (Lib/pickle.py, Modules/_pickle.c)
 * whose find_class never imports: globals stay names, and the few callables
 * numpy needs are interpreted here from their documented behaviour.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-pickle"

#define NPV_PY_OBJECT_INTERNALS
#include "npv-pickle.h"

#include <string.h>

#include "npv-error.h"
#include "npv-literal.h"

#define HIGHEST_PROTOCOL 5

/* Python refuses int() of longer decimal text (sys.int_info). */
#define MAX_INT_DIGITS 4300

/* ---------------------------------------------------------------------- */
/* Opcodes, named as pickletools names them                                */

typedef struct
{
  guint8 code;
  const char *name;
} OpcodeName;

static const OpcodeName opcode_names[] = {
  { 'I', "INT" }, { 'J', "BININT" }, { 'K', "BININT1" }, { 'M', "BININT2" },
  { 'L', "LONG" }, { 0x8a, "LONG1" }, { 0x8b, "LONG4" },
  { 'S', "STRING" }, { 'T', "BINSTRING" }, { 'U', "SHORT_BINSTRING" },
  { 'B', "BINBYTES" }, { 'C', "SHORT_BINBYTES" }, { 0x8e, "BINBYTES8" },
  { 0x96, "BYTEARRAY8" }, { 0x97, "NEXT_BUFFER" }, { 0x98, "READONLY_BUFFER" },
  { 'N', "NONE" }, { 0x88, "NEWTRUE" }, { 0x89, "NEWFALSE" },
  { 'V', "UNICODE" }, { 0x8c, "SHORT_BINUNICODE" }, { 'X', "BINUNICODE" },
  { 0x8d, "BINUNICODE8" }, { 'F', "FLOAT" }, { 'G', "BINFLOAT" },
  { ']', "EMPTY_LIST" }, { 'a', "APPEND" }, { 'e', "APPENDS" }, { 'l', "LIST" },
  { ')', "EMPTY_TUPLE" }, { 't', "TUPLE" }, { 0x85, "TUPLE1" }, { 0x86, "TUPLE2" },
  { 0x87, "TUPLE3" }, { '}', "EMPTY_DICT" }, { 'd', "DICT" }, { 's', "SETITEM" },
  { 'u', "SETITEMS" }, { 0x8f, "EMPTY_SET" }, { 0x90, "ADDITEMS" },
  { 0x91, "FROZENSET" }, { '0', "POP" }, { '2', "DUP" }, { '(', "MARK" },
  { '1', "POP_MARK" }, { 'g', "GET" }, { 'h', "BINGET" }, { 'j', "LONG_BINGET" },
  { 'p', "PUT" }, { 'q', "BINPUT" }, { 'r', "LONG_BINPUT" }, { 0x94, "MEMOIZE" },
  { 0x82, "EXT1" }, { 0x83, "EXT2" }, { 0x84, "EXT4" }, { 'c', "GLOBAL" },
  { 0x93, "STACK_GLOBAL" }, { 'R', "REDUCE" }, { 'b', "BUILD" }, { 'i', "INST" },
  { 'o', "OBJ" }, { 0x81, "NEWOBJ" }, { 0x92, "NEWOBJ_EX" }, { 0x80, "PROTO" },
  { '.', "STOP" }, { 0x95, "FRAME" }, { 'P', "PERSID" }, { 'Q', "BINPERSID" },
};

const char *
npv_pickle_opcode_name (guint8 opcode)
{
  for (guint i = 0; i < G_N_ELEMENTS (opcode_names); i++)
    if (opcode_names[i].code == opcode)
      return opcode_names[i].name;
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* The memo: a hash table, since LONG_BINPUT takes any 32-bit index (and
 * PUT any decimal one) and a pickle may use a single huge one.            */

typedef struct
{
  guint64 key;
  NpvPyObject *value;   /* NULL: empty slot */
} MemoSlot;

typedef struct
{
  MemoSlot *slots;
  gsize cap;            /* a power of two, or 0 */
  gsize len;
} Memo;

static gsize
memo_hash (guint64 key,
           gsize   cap)
{
  key ^= key >> 33;
  key *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  key ^= key >> 33;
  return (gsize) key & (cap - 1);
}

static NpvPyObject *
memo_get (const Memo *memo,
          guint64     key)
{
  if (memo->cap == 0)
    return NULL;
  for (gsize i = memo_hash (key, memo->cap);; i = (i + 1) & (memo->cap - 1))
    {
      if (memo->slots[i].value == NULL)
        return NULL;
      if (memo->slots[i].key == key)
        return memo->slots[i].value;
    }
}

static void
memo_insert (MemoSlot    *slots,
             gsize        cap,
             guint64      key,
             NpvPyObject *value,
             gboolean    *added)
{
  for (gsize i = memo_hash (key, cap);; i = (i + 1) & (cap - 1))
    {
      if (slots[i].value == NULL)
        {
          slots[i].key = key;
          slots[i].value = value;
          *added = TRUE;
          return;
        }
      if (slots[i].key == key)
        {
          slots[i].value = value;
          *added = FALSE;
          return;
        }
    }
}

static gboolean
memo_put (Memo         *memo,
          NpvPyTree    *tree,
          guint64       key,
          NpvPyObject  *value,
          GError      **error)
{
  gboolean added;

  /* At most half full. */
  if (memo->len + 1 > memo->cap / 2)
    {
      gsize cap = memo->cap == 0 ? 64 : memo->cap * 2;
      MemoSlot *slots;

      if (!_npv_py_tree_charge (tree, cap * sizeof (MemoSlot), error))
        return FALSE;
      slots = g_new0 (MemoSlot, cap);
      for (gsize i = 0; i < memo->cap; i++)
        if (memo->slots[i].value != NULL)
          memo_insert (slots, cap, memo->slots[i].key, memo->slots[i].value, &added);
      g_free (memo->slots);
      memo->slots = slots;
      memo->cap = cap;
    }
  memo_insert (memo->slots, memo->cap, key, value, &added);
  if (added)
    memo->len++;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* The machine                                                             */

typedef struct
{
  const guint8 *data;
  gsize len;
  gsize pos;
  gsize op_pos;         /* where the current opcode starts, for messages */
  guint8 op;

  NpvPyTree *tree;
  NpvPyEncoding encoding;
  guint max_depth;

  NpvPyObject **stack;
  gsize stack_len;
  gsize stack_cap;
  gsize *marks;         /* stack lengths at each MARK */
  gsize n_marks;
  gsize marks_cap;
  Memo memo;
} Unpickler;

G_GNUC_PRINTF (4, 5)
static gboolean
fail (Unpickler   *u,
      GError     **error,
      NpvError     code,
      const char  *format,
      ...)
{
  g_autofree char *why = NULL;
  const char *name = npv_pickle_opcode_name (u->op);
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  if (name != NULL)
    g_set_error (error, NPV_ERROR, code, "pickle: at byte %" G_GSIZE_FORMAT " (%s): %s",
                 u->op_pos, name, why);
  else
    g_set_error (error, NPV_ERROR, code,
                 "pickle: at byte %" G_GSIZE_FORMAT ": unknown opcode 0x%02x: %s",
                 u->op_pos, u->op, why);
  return FALSE;
}

/* Adds the opcode and position to an error from elsewhere. */
static gboolean
fail_prefix (Unpickler  *u,
             GError    **error)
{
  const char *name = npv_pickle_opcode_name (u->op);

  g_prefix_error (error, "pickle: at byte %" G_GSIZE_FORMAT " (%s): ", u->op_pos,
                  name != NULL ? name : "?");
  return FALSE;
}

static gboolean
is_in_input (Unpickler    *u,
             const guint8 *p)
{
  return p >= u->data && p < u->data + u->len;
}

/* Input. Lengths are checked against what is left before anything is
 * allocated for them. */

static gboolean
read_bytes (Unpickler     *u,
            guint64        n,
            const guint8 **p,
            GError       **error)
{
  if (n > u->len - u->pos)
    {
      if (u->pos == u->len)
        return fail (u, error, NPV_ERROR_FORMAT, "the pickle ends before its STOP opcode");
      return fail (u, error, NPV_ERROR_FORMAT,
                   "%" G_GUINT64_FORMAT " bytes are needed but only %" G_GSIZE_FORMAT
                   " are left", n, u->len - u->pos);
    }
  *p = u->data + u->pos;
  u->pos += n;
  return TRUE;
}

static gboolean
read_uint (Unpickler  *u,
           guint       size,
           guint64    *value,
           GError    **error)
{
  const guint8 *p;

  if (!read_bytes (u, size, &p, error))
    return FALSE;
  *value = 0;
  for (guint i = size; i-- > 0;)
    *value = (*value << 8) | p[i];
  return TRUE;
}

/* A text argument up to "\n" (not included). */
static gboolean
read_line (Unpickler    *u,
           const char  **line,
           gsize        *len,
           GError      **error)
{
  const guint8 *start = u->data + u->pos;
  const guint8 *nl = memchr (start, '\n', u->len - u->pos);

  if (nl == NULL)
    return fail (u, error, NPV_ERROR_FORMAT, "the pickle ends before the end of this line");
  *line = (const char *) start;
  *len = nl - start;
  u->pos += *len + 1;
  return TRUE;
}

/* The stack */

static gboolean
push (Unpickler    *u,
      NpvPyObject  *obj,
      GError      **error)
{
  if (u->stack_len == u->stack_cap)
    {
      gsize cap = MAX (u->stack_cap * 2, 64);

      if (!_npv_py_tree_charge (u->tree, (cap - u->stack_cap) * sizeof (gpointer), error))
        return fail_prefix (u, error);
      u->stack = g_renew (NpvPyObject *, u->stack, cap);
      u->stack_cap = cap;
    }
  u->stack[u->stack_len++] = obj;
  return TRUE;
}

/* Items above the last MARK (the stack when there is no MARK). */
static gsize
mark_base (Unpickler *u)
{
  return u->n_marks > 0 ? u->marks[u->n_marks - 1] : 0;
}

static gboolean
pop (Unpickler    *u,
     NpvPyObject **obj,
     GError      **error)
{
  if (u->stack_len <= mark_base (u))
    return fail (u, error, NPV_ERROR_FORMAT,
                 u->stack_len == 0 ? "the stack is empty" : "only a MARK is left on the stack");
  *obj = u->stack[--u->stack_len];
  return TRUE;
}

static gboolean
peek (Unpickler    *u,
      gsize         depth,
      NpvPyObject **obj,
      GError      **error)
{
  if (u->stack_len <= mark_base (u) + depth)
    return fail (u, error, NPV_ERROR_FORMAT, "the stack has too few items");
  *obj = u->stack[u->stack_len - 1 - depth];
  return TRUE;
}

static gboolean
push_mark (Unpickler  *u,
           GError    **error)
{
  if (u->n_marks == u->marks_cap)
    {
      gsize cap = MAX (u->marks_cap * 2, 16);

      if (!_npv_py_tree_charge (u->tree, (cap - u->marks_cap) * sizeof (gsize), error))
        return fail_prefix (u, error);
      u->marks = g_renew (gsize, u->marks, cap);
      u->marks_cap = cap;
    }
  u->marks[u->n_marks++] = u->stack_len;
  return TRUE;
}

/* Removes the last MARK; the items above it stay on the stack, from
 * *@first on, for the caller to take and then drop with drop_to(). */
static gboolean
pop_mark (Unpickler  *u,
          gsize      *first,
          GError    **error)
{
  if (u->n_marks == 0)
    return fail (u, error, NPV_ERROR_FORMAT, "there is no MARK on the stack");
  *first = u->marks[--u->n_marks];
  return TRUE;
}

static void
drop_to (Unpickler *u,
         gsize      len)
{
  u->stack_len = len;
}

/* ---------------------------------------------------------------------- */
/* Making objects                                                          */

static NpvPyObject *
new_obj (Unpickler  *u,
         NpvPyKind   kind,
         GError    **error)
{
  NpvPyObject *obj = _npv_py_object_new (u->tree, kind, error);

  if (obj == NULL)
    fail_prefix (u, error);
  return obj;
}

static gpointer
alloc (Unpickler  *u,
       gsize       size,
       GError    **error)
{
  gpointer p = _npv_py_tree_alloc (u->tree, size, error);

  if (p == NULL)
    fail_prefix (u, error);
  return p;
}

/* Containers record the longest chain below them, so that nesting deeper
 * than the limit is refused where it happens. */
static gboolean
add_child (Unpickler    *u,
           NpvPyObject  *parent,
           NpvPyObject  *child,
           GError      **error)
{
  if (child != NULL && child->height + 1 > parent->height)
    {
      parent->height = child->height + 1;
      if (parent->height > u->max_depth)
        return fail (u, error, NPV_ERROR_TOO_LARGE,
                     "objects are nested more than %u levels deep", u->max_depth);
    }
  return TRUE;
}

static gboolean
seq_append (Unpickler    *u,
            NpvPyObject  *seq,
            NpvPyObject  *item,
            GError      **error)
{
  if (!_npv_py_seq_append (seq, item, error))
    return fail_prefix (u, error);
  return add_child (u, seq, item, error);
}

/* A container of @kind holding stack items from @first to the top, which
 * are then removed. */
static NpvPyObject *
seq_from_stack (Unpickler  *u,
                NpvPyKind   kind,
                gsize       first,
                GError    **error)
{
  NpvPyObject *seq = new_obj (u, kind, error);

  if (seq == NULL)
    return NULL;
  if (!_npv_py_seq_reserve (seq, u->stack_len - first, error))
    {
      fail_prefix (u, error);
      return NULL;
    }
  for (gsize i = first; i < u->stack_len; i++)
    if (!seq_append (u, seq, u->stack[i], error))
      return NULL;
  drop_to (u, first);
  return seq;
}

static NpvPyObject *
new_int (Unpickler  *u,
         gint64      value,
         GError    **error)
{
  NpvPyObject *obj = new_obj (u, NPV_PY_INT, error);

  if (obj != NULL)
    obj->i = value;
  return obj;
}

/* A str from valid UTF-8, copied so that it ends with a NUL. */
static NpvPyObject *
new_str (Unpickler   *u,
         const char  *text,
         gsize        len,
         GError     **error)
{
  NpvPyObject *obj;
  char *copy;

  if (len == G_MAXSIZE)
    {
      fail (u, error, NPV_ERROR_TOO_LARGE, "a string is too long");
      return NULL;
    }
  copy = alloc (u, len + 1, error);
  if (copy == NULL)
    return NULL;
  obj = new_obj (u, NPV_PY_STR, error);
  if (obj == NULL)
    return NULL;
  memcpy (copy, text, len);
  obj->str.text = copy;
  obj->str.len = len;
  return obj;
}

/* bytes or bytearray viewing @len bytes at @data (the input or tree memory). */
static NpvPyObject *
new_bytes (Unpickler     *u,
           NpvPyKind      kind,
           const guint8  *data,
           gsize          len,
           GError       **error)
{
  static const guint8 empty[1] = { 0 };
  NpvPyObject *obj = new_obj (u, kind, error);

  /* Never NULL, for callers that hand it to memchr() and friends. */
  if (obj != NULL)
    {
      obj->bytes.data = data != NULL ? data : empty;
      obj->bytes.len = len;
    }
  return obj;
}

static NpvPyObject *
new_global (Unpickler   *u,
            const char  *module,
            gsize        module_len,
            const char  *name,
            gsize        name_len,
            GError     **error)
{
  char *m, *n;
  NpvPyObject *obj;

  if (!g_utf8_validate (module, module_len, NULL) || !g_utf8_validate (name, name_len, NULL) ||
      memchr (module, '\0', module_len) != NULL || memchr (name, '\0', name_len) != NULL)
    {
      fail (u, error, NPV_ERROR_FORMAT, "the module or name of a global is not valid text");
      return NULL;
    }
  m = alloc (u, module_len + 1, error);
  n = m != NULL ? alloc (u, name_len + 1, error) : NULL;
  obj = n != NULL ? new_obj (u, NPV_PY_GLOBAL, error) : NULL;
  if (obj == NULL)
    return NULL;
  memcpy (m, module, module_len);
  memcpy (n, name, name_len);
  obj->global.module = m;
  obj->global.name = n;
  return obj;
}

/* Two's complement little-endian @data (LONG1, LONG4): an INT when it fits,
 * else a BIGINT pointing at its shortest prefix (no copy). */
static NpvPyObject *
new_int_from_le (Unpickler     *u,
                 const guint8  *data,
                 gsize          len,
                 GError       **error)
{
  NpvPyObject *obj;

  /* Drop sign-extension bytes. */
  while (len > 1 &&
         ((data[len - 1] == 0x00 && (data[len - 2] & 0x80) == 0) ||
          (data[len - 1] == 0xff && (data[len - 2] & 0x80) != 0)))
    len--;

  if (len <= 8)
    {
      guint64 v = 0;

      for (gsize i = len; i-- > 0;)
        v = (v << 8) | data[i];
      if (len > 0 && len < 8 && (data[len - 1] & 0x80) != 0)
        v |= G_MAXUINT64 << (8 * len);
      return new_int (u, (gint64) v, error);
    }

  obj = new_obj (u, NPV_PY_BIGINT, error);
  if (obj != NULL)
    {
      obj->bigint.data = data;
      obj->bigint.len = len;
    }
  return obj;
}

/* int(text) for INT, LONG, GET and PUT: optional spaces and sign, decimal
 * digits (underscores between them, as Python allows). */
static NpvPyObject *
new_int_from_text (Unpickler   *u,
                   const char  *text,
                   gsize        len,
                   GError     **error)
{
  const char *p = text, *end = text + len;
  gboolean negative = FALSE;
  g_autofree guint32 *limbs = NULL;
  gsize n_limbs = 0, n_digits = 0;
  guint8 *bytes;
  gsize n_bytes;
  guint32 carry = 1;

  while (p < end && g_ascii_isspace (*p))
    p++;
  while (end > p && g_ascii_isspace (end[-1]))
    end--;
  if (p < end && (*p == '+' || *p == '-'))
    negative = *p++ == '-';
  if (p == end || !g_ascii_isdigit (*p) || !g_ascii_isdigit (end[-1]))
    {
      fail (u, error, NPV_ERROR_FORMAT, "expected an integer");
      return NULL;
    }

  /* Base 2^32 limbs, least significant first: multiply by 10 and add. */
  limbs = g_new0 (guint32, MIN ((gsize) (end - p), MAX_INT_DIGITS) / 9 + 2);
  for (; p < end; p++)
    {
      guint64 acc;

      if (*p == '_' && g_ascii_isdigit (p[-1]) && g_ascii_isdigit (p[1]))
        continue;
      if (!g_ascii_isdigit (*p))
        {
          fail (u, error, NPV_ERROR_FORMAT, "expected an integer");
          return NULL;
        }
      if (++n_digits > MAX_INT_DIGITS)
        {
          fail (u, error, NPV_ERROR_TOO_LARGE,
                "an integer has more than %d digits (Python refuses those too)", MAX_INT_DIGITS);
          return NULL;
        }
      acc = (guint64) (*p - '0');
      for (gsize i = 0; i < n_limbs; i++)
        {
          acc += (guint64) limbs[i] * 10;
          limbs[i] = (guint32) acc;
          acc >>= 32;
        }
      if (acc != 0)
        limbs[n_limbs++] = (guint32) acc;
    }

  /* Two's complement, one spare byte for the sign. */
  n_bytes = n_limbs * 4 + 1;
  bytes = alloc (u, n_bytes, error);
  if (bytes == NULL)
    return NULL;
  for (gsize i = 0; i < n_bytes; i++)
    {
      guint8 b = i / 4 < n_limbs ? (guint8) (limbs[i / 4] >> (8 * (i % 4))) : 0;

      if (negative)
        {
          guint32 sum = (guint8) ~b + carry;

          b = (guint8) sum;
          carry = sum >> 8;
        }
      bytes[i] = b;
    }
  return new_int_from_le (u, bytes, n_bytes, error);
}

/* An index for GET and PUT. */
static gboolean
parse_index (Unpickler   *u,
             const char  *text,
             gsize        len,
             guint64     *index,
             GError     **error)
{
  guint64 v = 0;

  if (len == 0)
    return fail (u, error, NPV_ERROR_FORMAT, "expected a memo index");
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (text[i]) || v > (G_MAXUINT64 - 9) / 10)
        return fail (u, error, NPV_ERROR_FORMAT, "expected a memo index");
      v = v * 10 + (text[i] - '0');
    }
  *index = v;
  return TRUE;
}

static NpvPyObject *
new_float_from_text (Unpickler   *u,
                     const char  *text,
                     gsize        len,
                     GError     **error)
{
  g_autofree char *copy = NULL;
  char *end;
  double v;
  NpvPyObject *obj;

  /* Python writes repr(): 25 characters at most. */
  if (len > 4096)
    {
      fail (u, error, NPV_ERROR_FORMAT, "a floating-point number of %" G_GSIZE_FORMAT
            " characters is not one Python wrote", len);
      return NULL;
    }
  copy = g_strndup (text, len);

  /* Like float(): spaces around, "inf", "nan", and 1e999 as inf. */
  g_strstrip (copy);
  v = g_ascii_strtod (copy, &end);
  if (copy[0] == '\0' || *end != '\0' || memchr (text, '\0', len) != NULL)
    {
      fail (u, error, NPV_ERROR_FORMAT, "expected a floating-point number");
      return NULL;
    }
  obj = new_obj (u, NPV_PY_FLOAT, error);
  if (obj != NULL)
    obj->f = v;
  return obj;
}

/* ---------------------------------------------------------------------- */
/* Text                                                                    */

/* Appends code point @c as UTF-8; surrogates, which a Python str can hold
 * but UTF-8 cannot, become U+FFFD. */
static void
append_code_point (GString  *out,
                   gunichar  c)
{
  if ((c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
    c = 0xfffd;
  g_string_append_unichar (out, c);
}

/* BINUNICODE and friends: UTF-8 as Python writes it with "surrogatepass". */
static NpvPyObject *
new_str_from_utf8 (Unpickler     *u,
                   const guint8  *data,
                   gsize          len,
                   GError       **error)
{
  const char *p = (const char *) data, *end = p + len;
  g_autoptr(GString) fixed = NULL;
  const char *stop;

  /* GLib's validation stops at NUL, which a str may contain. */
  if (g_utf8_validate_len (p, len, &stop))
    return new_str (u, p, len, error);

  fixed = g_string_sized_new (len + 8);
  while (p < end)
    {
      if (g_utf8_validate_len (p, end - p, &stop))
        {
          g_string_append_len (fixed, p, end - p);
          break;
        }
      g_string_append_len (fixed, p, stop - p);
      p = stop;
      if (*p == '\0')
        {
          g_string_append_c (fixed, '\0');
          p++;
        }
      else if (end - p >= 3 && (guchar) p[0] == 0xed && ((guchar) p[1] & 0xe0) == 0xa0 &&
               ((guchar) p[2] & 0xc0) == 0x80)
        {
          append_code_point (fixed, 0xd800);
          p += 3;
        }
      else
        {
          fail (u, error, NPV_ERROR_FORMAT, "a string is not valid UTF-8 (at its byte %"
                G_GSIZE_FORMAT ")", (gsize) (p - (const char *) data));
          return NULL;
        }
    }
  return new_str (u, fixed->str, fixed->len, error);
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* UNICODE: "raw-unicode-escape", each byte a latin1 character except
 * \uXXXX and \UXXXXXXXX, as Python 3.11 decodes it. */
static NpvPyObject *
new_str_from_raw_unicode_escape (Unpickler   *u,
                                 const char  *text,
                                 gsize        len,
                                 GError     **error)
{
  g_autoptr(GString) out = g_string_sized_new (len + 8);
  const char *p = text, *end = text + len;

  while (p < end)
    {
      guchar c = (guchar) *p++;
      guint count;
      gunichar value = 0;

      if (c != '\\' || p == end)
        {
          g_string_append_unichar (out, c);
          continue;
        }
      c = (guchar) *p++;
      if (c != 'u' && c != 'U')
        {
          g_string_append_c (out, '\\');
          g_string_append_unichar (out, c);
          continue;
        }
      count = c == 'u' ? 4 : 8;
      for (; count > 0; count--, p++)
        {
          int h = p < end ? hex_value (*p) : -1;

          if (h < 0)
            {
              fail (u, error, NPV_ERROR_FORMAT, "a \\u escape is truncated");
              return NULL;
            }
          value = (value << 4) | (gunichar) h;
        }
      if (value > 0x10ffff)
        {
          fail (u, error, NPV_ERROR_FORMAT, "a \\U escape is out of range");
          return NULL;
        }
      append_code_point (out, value);
    }
  return new_str (u, out->str, out->len, error);
}

/* STRING: a quoted Python 2 literal, decoded like codecs.escape_decode.
 * Returns the bytes in tree memory. */
static gboolean
escape_decode (Unpickler      *u,
               const char     *text,
               gsize           len,
               const guint8  **data,
               gsize          *data_len,
               GError        **error)
{
  guint8 *out;
  gsize n = 0;
  const char *p, *end;

  if (len < 2 || text[0] != text[len - 1] || (text[0] != '\'' && text[0] != '"'))
    return fail (u, error, NPV_ERROR_FORMAT, "the argument of STRING must be quoted");
  p = text + 1;
  end = text + len - 1;
  out = alloc (u, end - p, error);
  if (out == NULL)
    return FALSE;

  while (p < end)
    {
      char c = *p++;

      if (c != '\\')
        {
          out[n++] = (guint8) c;
          continue;
        }
      if (p == end)
        return fail (u, error, NPV_ERROR_FORMAT, "a STRING ends with a backslash");
      c = *p++;
      switch (c)
        {
        case '\n': break;
        case '\\': out[n++] = '\\'; break;
        case '\'': out[n++] = '\''; break;
        case '"': out[n++] = '"'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 't': out[n++] = '\t'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 'v': out[n++] = '\v'; break;
        case 'a': out[n++] = '\a'; break;
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
          {
            guint v = c - '0';

            for (guint k = 0; k < 2 && p < end && *p >= '0' && *p <= '7'; k++)
              v = v * 8 + (*p++ - '0');
            out[n++] = (guint8) v;
          }
          break;
        case 'x':
          {
            int hi = p < end ? hex_value (p[0]) : -1;
            int lo = p + 1 < end ? hex_value (p[1]) : -1;

            if (hi < 0 || lo < 0)
              return fail (u, error, NPV_ERROR_FORMAT, "a STRING has an invalid \\x escape");
            out[n++] = (guint8) (hi * 16 + lo);
            p += 2;
          }
          break;
        default:
          out[n++] = '\\';
          out[n++] = (guint8) c;
          break;
        }
    }
  *data = out;
  *data_len = n;
  return TRUE;
}

/* A Python 2 str, as the encoding option says. */
static NpvPyObject *
new_py2_str (Unpickler     *u,
             const guint8  *data,
             gsize          len,
             GError       **error)
{
  NpvPyObject *obj;
  gboolean ascii = TRUE;

  if (u->encoding == NPV_PY_ENCODING_BYTES)
    return new_bytes (u, NPV_PY_BYTES, data, len, error);

  for (gsize i = 0; i < len && ascii; i++)
    ascii = data[i] < 0x80;
  if (ascii)
    obj = new_str (u, (const char *) data, len, error);
  else if (u->encoding == NPV_PY_ENCODING_ASCII)
    return new_bytes (u, NPV_PY_BYTES, data, len, error);
  else
    {
      g_autoptr(GString) text = g_string_sized_new (len * 2);

      for (gsize i = 0; i < len; i++)
        g_string_append_unichar (text, data[i]);
      obj = new_str (u, text->str, text->len, error);
    }
  if (obj != NULL)
    {
      obj->str.raw = data;
      obj->str.raw_len = len;
    }
  return obj;
}

/* The bytes of a str encoded as latin1 (how numpy reads array data given
 * as text): its Python 2 bytes when it was one, else a copy. FALSE without
 * an error when a character is beyond U+00FF. */
static gboolean
str_to_latin1 (Unpickler      *u,
               NpvPyObject    *str,
               const guint8  **data,
               gsize          *len,
               GError        **error)
{
  const char *p = str->str.text, *end = p + str->str.len;
  guint8 *out;
  gsize n = 0;

  if (str->str.raw != NULL)
    {
      *data = str->str.raw;
      *len = str->str.raw_len;
      return TRUE;
    }
  out = alloc (u, str->str.len, error);
  if (out == NULL)
    return FALSE;
  while (p < end)
    {
      gunichar c = g_utf8_get_char (p);

      if (c > 0xff)
        return FALSE;
      out[n++] = (guint8) c;
      p = g_utf8_next_char (p);
    }
  *data = out;
  *len = n;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* The callables interpreted without calling them                          */

typedef enum {
  CALL_NONE,
  CALL_RECONSTRUCT,     /* numpy _reconstruct(subtype, shape, typecode) */
  CALL_NDARRAY,         /* numpy.ndarray(shape, dtype) */
  CALL_DTYPE,           /* numpy.dtype(obj, align, copy) */
  CALL_FROMBUFFER,      /* numpy _frombuffer(buffer, dtype, shape, order) */
  CALL_SCALAR,          /* numpy scalar(dtype, bytes) */
  CALL_SET,
  CALL_FROZENSET,
  CALL_BYTEARRAY,
  CALL_BYTES,
  CALL_COMPLEX,
  CALL_RANGE,
  CALL_SLICE,
  CALL_ENCODE,          /* _codecs.encode(str, encoding) */
  CALL_ORDERED_DICT,
  CALL_NEWOBJ,          /* copyreg.__newobj__(cls, *args) */
  CALL_NEWOBJ_EX,       /* copyreg.__newobj_ex__(cls, args, kwargs) */
  CALL_RECONSTRUCTOR,   /* copyreg._reconstructor(cls, base, state) */
} Call;

typedef struct
{
  const char *module;
  const char *name;
  Call call;
} KnownGlobal;

static const KnownGlobal known_globals[] = {
  { "numpy.core.multiarray", "_reconstruct", CALL_RECONSTRUCT },
  { "numpy._core.multiarray", "_reconstruct", CALL_RECONSTRUCT },
  { "numpy.core._internal", "_reconstruct", CALL_RECONSTRUCT },
  { "numpy", "ndarray", CALL_NDARRAY },
  { "numpy", "dtype", CALL_DTYPE },
  { "numpy.core.numeric", "_frombuffer", CALL_FROMBUFFER },
  { "numpy._core.numeric", "_frombuffer", CALL_FROMBUFFER },
  { "numpy.core.multiarray", "scalar", CALL_SCALAR },
  { "numpy._core.multiarray", "scalar", CALL_SCALAR },
  { "builtins", "set", CALL_SET },
  { "builtins", "frozenset", CALL_FROZENSET },
  { "builtins", "bytearray", CALL_BYTEARRAY },
  { "builtins", "bytes", CALL_BYTES },
  { "builtins", "complex", CALL_COMPLEX },
  { "builtins", "range", CALL_RANGE },
  { "builtins", "xrange", CALL_RANGE },
  { "builtins", "slice", CALL_SLICE },
  { "_codecs", "encode", CALL_ENCODE },
  { "collections", "OrderedDict", CALL_ORDERED_DICT },
  { "copyreg", "__newobj__", CALL_NEWOBJ },
  { "copyreg", "__newobj_ex__", CALL_NEWOBJ_EX },
  { "copyreg", "_reconstructor", CALL_RECONSTRUCTOR },
};

static Call
identify (const NpvPyObject *callable)
{
  const char *module;

  if (callable == NULL || callable->kind != NPV_PY_GLOBAL)
    return CALL_NONE;
  /* Python 3 reads Python 2 names this way (pickle's fix_imports). */
  module = callable->global.module;
  if (strcmp (module, "__builtin__") == 0)
    module = "builtins";
  else if (strcmp (module, "copy_reg") == 0)
    module = "copyreg";
  for (guint i = 0; i < G_N_ELEMENTS (known_globals); i++)
    if (strcmp (module, known_globals[i].module) == 0 &&
        strcmp (callable->global.name, known_globals[i].name) == 0)
      return known_globals[i].call;
  return CALL_NONE;
}

/* Classes, for NEWOBJ: cls.__new__(cls, *args). Calling a function that
 * way fails in Python. */
static gboolean
call_is_class (Call call)
{
  switch (call)
    {
    case CALL_NDARRAY:
    case CALL_DTYPE:
    case CALL_SET:
    case CALL_FROZENSET:
    case CALL_BYTEARRAY:
    case CALL_BYTES:
    case CALL_COMPLEX:
    case CALL_RANGE:
    case CALL_SLICE:
    case CALL_ORDERED_DICT:
      return TRUE;
    case CALL_NONE:
    case CALL_RECONSTRUCT:
    case CALL_FROMBUFFER:
    case CALL_SCALAR:
    case CALL_ENCODE:
    case CALL_NEWOBJ:
    case CALL_NEWOBJ_EX:
    case CALL_RECONSTRUCTOR:
    default:
      return FALSE;
    }
}

static NpvPyObject *
new_opaque (Unpickler      *u,
            NpvPyCallKind   call,
            NpvPyObject    *callable,
            NpvPyObject    *args,
            NpvPyObject    *kwargs,
            GError        **error)
{
  NpvPyObject *obj = new_obj (u, NPV_PY_OPAQUE, error);

  if (obj == NULL)
    return NULL;
  obj->opaque->call = call;
  obj->opaque->callable = callable;
  obj->opaque->args = args;
  obj->opaque->kwargs = kwargs;
  if (!add_child (u, obj, callable, error) || !add_child (u, obj, args, error) ||
      !add_child (u, obj, kwargs, error))
    return NULL;
  return obj;
}

/* A new tuple of @n items from @items. */
static NpvPyObject *
new_tuple (Unpickler    *u,
           NpvPyObject **items,
           gsize         n,
           GError      **error)
{
  NpvPyObject *tuple = new_obj (u, NPV_PY_TUPLE, error);

  if (tuple == NULL)
    return NULL;
  if (!_npv_py_seq_reserve (tuple, n, error))
    {
      fail_prefix (u, error);
      return NULL;
    }
  for (gsize i = 0; i < n; i++)
    if (!seq_append (u, tuple, items[i], error))
      return NULL;
  return tuple;
}

static gboolean
is_int (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_INT || obj->kind == NPV_PY_BOOL;
}

static gint64
int_value (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_BOOL ? obj->b : obj->i;
}

static gboolean
is_iterable (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_LIST || obj->kind == NPV_PY_TUPLE ||
         obj->kind == NPV_PY_SET || obj->kind == NPV_PY_FROZENSET;
}

/* str or bytes (Python 2 str read as bytes) as a NUL-terminated string in
 * tree memory, bytes read as latin1; NULL if @obj is neither or holds a
 * NUL. */
static const char *
text_of (Unpickler    *u,
         NpvPyObject  *obj,
         GError      **error)
{
  GString *text;
  char *copy;

  if (obj->kind == NPV_PY_STR)
    return memchr (obj->str.text, '\0', obj->str.len) == NULL ? obj->str.text : NULL;
  if (obj->kind != NPV_PY_BYTES || memchr (obj->bytes.data, '\0', obj->bytes.len) != NULL)
    return NULL;
  text = g_string_sized_new (obj->bytes.len);
  for (gsize i = 0; i < obj->bytes.len; i++)
    g_string_append_unichar (text, obj->bytes.data[i]);
  copy = alloc (u, text->len + 1, error);
  if (copy != NULL)
    memcpy (copy, text->str, text->len);
  g_string_free (text, TRUE);
  return copy;
}

/* Whether @text names a codec _codecs.encode writes as these bytes. */
static gboolean
codec_is (const char *text,
          const char *const *names)
{
  g_autofree char *norm = g_ascii_strdown (text, -1);

  g_strdelimit (norm, "_ ", '-');
  for (guint i = 0; names[i] != NULL; i++)
    if (strcmp (norm, names[i]) == 0)
      return TRUE;
  return FALSE;
}

static const char *const latin1_names[] = { "latin1", "latin-1", "iso-8859-1", "iso8859-1",
                                            "l1", "8859", "cp819", "latin", NULL };
static const char *const utf8_names[] = { "utf-8", "utf8", "u8", "utf", NULL };
static const char *const ascii_names[] = { "ascii", "us-ascii", "646", NULL };

/* _codecs.encode(str[, encoding[, errors]]) with strict errors. */
static gboolean
call_encode (Unpickler     *u,
             NpvPyObject  **a,
             gsize          n,
             NpvPyObject  **result,
             GError       **error)
{
  const char *encoding = "utf-8";
  NpvPyObject *str;

  if (n < 1 || n > 3 || a[0]->kind != NPV_PY_STR)
    return TRUE;
  str = a[0];
  if (n >= 2 && (encoding = text_of (u, a[1], error)) == NULL)
    return error == NULL || *error == NULL;
  if (n == 3 && (a[2]->kind != NPV_PY_STR || strcmp (a[2]->str.text, "strict") != 0))
    return TRUE;

  if (codec_is (encoding, latin1_names))
    {
      GError *local = NULL;
      const guint8 *data;
      gsize len;

      if (!str_to_latin1 (u, str, &data, &len, &local))
        {
          if (local == NULL)
            return TRUE;
          g_propagate_error (error, local);
          return FALSE;
        }
      *result = new_bytes (u, NPV_PY_BYTES, data, len, error);
      return *result != NULL;
    }
  if (codec_is (encoding, utf8_names) ||
      (codec_is (encoding, ascii_names) && g_str_is_ascii (str->str.text) &&
       memchr (str->str.text, '\0', str->str.len) == NULL))
    {
      guint8 *copy = alloc (u, str->str.len, error);

      if (copy == NULL)
        return FALSE;
      memcpy (copy, str->str.text, str->str.len);
      *result = new_bytes (u, NPV_PY_BYTES, copy, str->str.len, error);
      return *result != NULL;
    }
  return TRUE;
}

/* bytes(...) and bytearray(...): (), (bytes-like), (str, encoding[, errors]). */
static gboolean
call_bytes (Unpickler     *u,
            NpvPyKind      kind,
            NpvPyObject  **a,
            gsize          n,
            NpvPyObject  **result,
            GError       **error)
{
  NpvPyObject *encoded = NULL;

  if (n == 0)
    *result = new_bytes (u, kind, NULL, 0, error);
  else if (n == 1 && (a[0]->kind == NPV_PY_BYTES || a[0]->kind == NPV_PY_BYTEARRAY))
    *result = new_bytes (u, kind, a[0]->bytes.data, a[0]->bytes.len, error);
  else if ((n == 2 || n == 3) && a[0]->kind == NPV_PY_STR)
    {
      if (!call_encode (u, a, n, &encoded, error))
        return FALSE;
      if (encoded == NULL)
        return TRUE;
      *result = new_bytes (u, kind, encoded->bytes.data, encoded->bytes.len, error);
    }
  else
    return TRUE;
  return *result != NULL;
}

/* set(iterable), frozenset(iterable): items kept as given (a Python set
 * would drop equal ones). */
static gboolean
call_set (Unpickler     *u,
          NpvPyKind      kind,
          NpvPyObject  **a,
          gsize          n,
          NpvPyObject  **result,
          GError       **error)
{
  NpvPyObject *set;
  NpvPyObject *from = n == 1 ? a[0] : NULL;
  gsize step = 1;

  if (n > 1 || (from != NULL && !is_iterable (from) && from->kind != NPV_PY_DICT))
    return TRUE;
  set = new_obj (u, kind, error);
  if (set == NULL)
    return FALSE;
  /* A dict iterates over its keys. */
  if (from != NULL && from->kind == NPV_PY_DICT)
    step = 2;
  for (gsize i = 0; from != NULL && i < from->seq.len; i += step)
    if (!seq_append (u, set, from->seq.items[i], error))
      return FALSE;
  *result = set;
  return TRUE;
}

static gboolean
call_complex (Unpickler     *u,
              NpvPyObject  **a,
              gsize          n,
              NpvPyObject  **result,
              GError       **error)
{
  double re = 0.0, im = 0.0;
  double r[2] = { 0.0, 0.0 }, j[2] = { 0.0, 0.0 };

  if (n > 2)
    return TRUE;
  for (gsize i = 0; i < n; i++)
    {
      if (!is_int (a[i]) && a[i]->kind != NPV_PY_FLOAT && a[i]->kind != NPV_PY_COMPLEX)
        return TRUE;
      npv_py_object_get_complex (a[i], &r[i], &j[i]);
    }
  /* As Python's complex_new: complex(a, b) is a + b*1j, with the parts
   * taken as they are when both are real (so that -0.0 stays). */
  re = r[0];
  im = n == 2 ? r[1] : j[0];
  if (n == 2 && a[1]->kind == NPV_PY_COMPLEX)
    re -= j[1];
  if (n == 2 && a[0]->kind == NPV_PY_COMPLEX)
    im += j[0];
  *result = new_obj (u, NPV_PY_COMPLEX, error);
  if (*result == NULL)
    return FALSE;
  (*result)->c.re = re;
  (*result)->c.im = im;
  return TRUE;
}

/* range(stop), range(start, stop[, step]); slice likewise with any objects. */
static gboolean
call_range (Unpickler     *u,
            NpvPyKind      kind,
            NpvPyObject  **a,
            gsize          n,
            NpvPyObject  **result,
            GError       **error)
{
  NpvPyObject *obj;
  NpvPyObject *parts[3] = { NULL, NULL, NULL };

  if (n < 1 || n > 3)
    return TRUE;
  if (kind == NPV_PY_RANGE)
    {
      for (gsize i = 0; i < n; i++)
        if (!is_int (a[i]) && a[i]->kind != NPV_PY_BIGINT)
          return TRUE;
      /* Python: "range() arg 3 must not be zero". */
      if (n == 3 && is_int (a[2]) && int_value (a[2]) == 0)
        return TRUE;
    }
  if (n == 1)
    parts[1] = a[0];
  else
    memcpy (parts, a, n * sizeof (gpointer));
  for (guint i = 0; i < 3; i++)
    {
      if (parts[i] == NULL && kind == NPV_PY_SLICE)
        parts[i] = _npv_py_tree_get_none (u->tree);
      else if (parts[i] == NULL)
        parts[i] = new_int (u, i == 2 ? 1 : 0, error);
      else if (parts[i]->kind == NPV_PY_BOOL && kind == NPV_PY_RANGE)
        parts[i] = new_int (u, parts[i]->b, error);
      if (parts[i] == NULL)
        return FALSE;
    }
  obj = new_obj (u, kind, error);
  if (obj == NULL)
    return FALSE;
  obj->range.start = parts[0];
  obj->range.stop = parts[1];
  obj->range.step = parts[2];
  for (guint i = 0; i < 3; i++)
    if (!add_child (u, obj, parts[i], error))
      return FALSE;
  *result = obj;
  return TRUE;
}

/* OrderedDict(), OrderedDict(pairs), OrderedDict(dict). */
static gboolean
call_ordered_dict (Unpickler     *u,
                   NpvPyObject  **a,
                   gsize          n,
                   NpvPyObject  **result,
                   GError       **error)
{
  NpvPyObject *dict;
  NpvPyObject *from = n == 1 ? a[0] : NULL;

  if (n > 1 || (from != NULL && !is_iterable (from) && from->kind != NPV_PY_DICT))
    return TRUE;
  if (from != NULL && from->kind != NPV_PY_DICT)
    for (gsize i = 0; i < from->seq.len; i++)
      {
        NpvPyObject *pair = from->seq.items[i];

        if ((pair->kind != NPV_PY_TUPLE && pair->kind != NPV_PY_LIST) || pair->seq.len != 2)
          return TRUE;
      }
  dict = new_obj (u, NPV_PY_DICT, error);
  if (dict == NULL)
    return FALSE;
  for (gsize i = 0; from != NULL && i < from->seq.len; i++)
    {
      if (from->kind == NPV_PY_DICT)
        {
          if (!seq_append (u, dict, from->seq.items[i], error))
            return FALSE;
        }
      else if (!seq_append (u, dict, from->seq.items[i]->seq.items[0], error) ||
               !seq_append (u, dict, from->seq.items[i]->seq.items[1], error))
        return FALSE;
    }
  *result = dict;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* numpy                                                                   */

typedef enum {
  DONE,
  NOT_INTERPRETED,      /* not in the documented form: keep it opaque */
  FAILED,               /* the error is set */
} Outcome;

static NpvDType *
dtype_from_text (Unpickler   *u,
                 const char  *text,
                 GError     **error)
{
  NpvDType *dtype = npv_dtype_new_from_string (text, error);

  if (dtype == NULL)
    fail_prefix (u, error);
  return dtype;
}

/* A shape: a tuple of non-negative ints (or one int). Counts its items
 * into *@count, which fails on overflow. */
static Outcome
parse_shape (Unpickler          *u,
             const NpvPyObject  *obj,
             guint              *ndim,
             gint64             *shape,
             gint64             *count,
             GError            **error)
{
  gsize n = obj->kind == NPV_PY_TUPLE || obj->kind == NPV_PY_LIST ? obj->seq.len : 1;
  guint64 total = 1;

  if (!is_int (obj) && obj->kind != NPV_PY_TUPLE && obj->kind != NPV_PY_LIST)
    return NOT_INTERPRETED;
  if (n > NPV_MAX_DIMS)
    {
      fail (u, error, NPV_ERROR_UNSUPPORTED, "an array has %" G_GSIZE_FORMAT
            " dimensions, more than %d", n, NPV_MAX_DIMS);
      return FAILED;
    }
  for (gsize i = 0; i < n; i++)
    {
      const NpvPyObject *dim = is_int (obj) ? obj : obj->seq.items[i];

      if (!is_int (dim))
        return NOT_INTERPRETED;
      if (int_value (dim) < 0)
        {
          fail (u, error, NPV_ERROR_FORMAT, "an array has a negative dimension");
          return FAILED;
        }
      shape[i] = int_value (dim);
      if (shape[i] != 0 && total > (guint64) G_MAXINT64 / (guint64) shape[i])
        {
          fail (u, error, NPV_ERROR_TOO_LARGE, "an array has too many items");
          return FAILED;
        }
      total *= shape[i];
    }
  *ndim = n;
  *count = (gint64) total;
  return DONE;
}

/* Sets the dtype, shape and order of @nd; a SUBARRAY dtype becomes extra
 * dimensions, as numpy does. */
static Outcome
set_array_layout (Unpickler       *u,
                  NpvPyArrayData  *nd,
                  NpvDType        *dtype,
                  guint            ndim,
                  const gint64    *shape,
                  gint64           count,
                  gboolean         fortran,
                  GError         **error)
{
  if (dtype->kind == NPV_KIND_SUBARRAY)
    {
      if (ndim + dtype->sub_ndim > NPV_MAX_DIMS ||
          (dtype->sub_count != 0 && count > G_MAXINT64 / dtype->sub_count))
        {
          fail (u, error, NPV_ERROR_TOO_LARGE, "an array with a subarray type is too large");
          return FAILED;
        }
      memcpy (nd->shape, shape, ndim * sizeof (gint64));
      memcpy (nd->shape + ndim, dtype->sub_shape, dtype->sub_ndim * sizeof (gint64));
      nd->ndim = ndim + dtype->sub_ndim;
      nd->count = count * dtype->sub_count;
      dtype = dtype->base;
    }
  else
    {
      if (ndim > 0)
        memmove (nd->shape, shape, ndim * sizeof (gint64));
      nd->ndim = ndim;
      nd->count = count;
    }
  if (dtype->itemsize != 0 && (guint64) nd->count > G_MAXSSIZE / dtype->itemsize)
    {
      fail (u, error, NPV_ERROR_TOO_LARGE, "an array is larger than memory can be");
      return FAILED;
    }
  g_clear_pointer (&nd->dtype, npv_dtype_unref);
  nd->dtype = npv_dtype_ref (dtype);
  nd->fortran = fortran;
  nd->data = NULL;
  nd->len = 0;
  nd->borrowed = FALSE;
  nd->elements = NULL;
  return DONE;
}

static gsize
array_nbytes (const NpvPyArrayData *nd)
{
  return (gsize) nd->count * nd->dtype->itemsize;
}

/* Data for an array that was made but not given any: zeros (numpy's is
 * uninitialized), or None elements. */
static gboolean
fill_empty_array (Unpickler    *u,
                  NpvPyObject  *obj,
                  GError      **error)
{
  NpvPyArrayData *nd = obj->nd;

  if (npv_dtype_has_object (nd->dtype))
    {
      NpvPyObject *list = new_obj (u, NPV_PY_LIST, error);

      if (list == NULL)
        return FALSE;
      if (!_npv_py_seq_reserve (list, nd->count, error))
        return fail_prefix (u, error);
      for (gint64 i = 0; i < nd->count; i++)
        list->seq.items[list->seq.len++] = _npv_py_tree_get_none (u->tree);
      list->height = nd->count > 0 ? 1 : 0;
      nd->elements = list;
      return add_child (u, obj, list, error);
    }
  if (array_nbytes (nd) > 0)
    {
      nd->data = alloc (u, array_nbytes (nd), error);
      if (nd->data == NULL)
        return FALSE;
      nd->len = array_nbytes (nd);
    }
  return TRUE;
}

static const char *
global_path (Unpickler    *u,
             NpvPyObject  *global,
             GError      **error)
{
  g_autofree char *path = g_strdup_printf ("%s.%s", global->global.module, global->global.name);
  char *copy = alloc (u, strlen (path) + 1, error);

  if (copy != NULL)
    strcpy (copy, path);
  return copy;
}

/* _reconstruct(subtype, shape, typecode) and ndarray(shape[, dtype]). */
static gboolean
call_new_array (Unpickler     *u,
                Call           call,
                NpvPyObject   *callable,
                NpvPyObject   *args,
                NpvPyObject  **result,
                GError       **error)
{
  NpvPyObject **a = args->seq.items;
  gsize n = args->seq.len;
  NpvPyObject *subtype, *shape_obj, *type_obj;
  g_autoptr(NpvDType) dtype = NULL;
  gint64 shape[NPV_MAX_DIMS];
  guint ndim;
  gint64 count;
  NpvPyObject *obj;
  Outcome outcome;

  if (call == CALL_RECONSTRUCT)
    {
      if (n != 3)
        return TRUE;
      subtype = a[0];
      shape_obj = a[1];
      type_obj = a[2];
    }
  else
    {
      if (n < 1 || n > 2)
        return TRUE;
      subtype = callable;
      shape_obj = a[0];
      type_obj = n == 2 ? a[1] : NULL;
    }
  if (subtype->kind != NPV_PY_GLOBAL)
    return TRUE;

  if (type_obj == NULL)
    dtype = dtype_from_text (u, "f8", error);
  else if (type_obj->kind == NPV_PY_DTYPE)
    dtype = npv_dtype_ref (type_obj->dtype);
  else
    {
      const char *text = text_of (u, type_obj, error);
      GError *local = NULL;

      if (text == NULL)
        return *error == NULL;
      dtype = npv_dtype_new_from_string (text, &local);
      if (dtype == NULL)
        {
          g_error_free (local);
          return TRUE;
        }
    }
  if (dtype == NULL)
    return FALSE;

  outcome = parse_shape (u, shape_obj, &ndim, shape, &count, error);
  if (outcome != DONE)
    return outcome == NOT_INTERPRETED;

  obj = new_obj (u, NPV_PY_NDARRAY, error);
  if (obj == NULL || set_array_layout (u, obj->nd, dtype, ndim, shape, count, FALSE, error) != DONE)
    return FALSE;
  obj->nd->subtype = global_path (u, subtype, error);
  obj->nd->made_by = callable;
  obj->nd->made_args = args;
  if (obj->nd->subtype == NULL || !fill_empty_array (u, obj, error))
    return FALSE;
  *result = obj;
  return TRUE;
}

/* The bytes numpy takes as raw array data: bytes (bytearray too), or a
 * str encoded as latin1. */
static Outcome
raw_bytes_of (Unpickler      *u,
              NpvPyObject    *obj,
              const guint8  **data,
              gsize          *len,
              GError        **error)
{
  GError *local = NULL;

  if (obj->kind == NPV_PY_BYTES || obj->kind == NPV_PY_BYTEARRAY)
    {
      *data = obj->bytes.data;
      *len = obj->bytes.len;
      return DONE;
    }
  if (obj->kind != NPV_PY_STR)
    return NOT_INTERPRETED;
  if (str_to_latin1 (u, obj, data, len, &local))
    return DONE;
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FAILED;
    }
  return NOT_INTERPRETED;
}

/* ndarray.__setstate__((version, shape, dtype, is_fortran, rawdata)), or
 * the old form without version. */
static Outcome
array_setstate (Unpickler    *u,
                NpvPyObject  *obj,
                NpvPyObject  *state,
                GError      **error)
{
  NpvPyArrayData *nd = obj->nd;
  NpvPyObject **a;
  NpvPyObject *shape_obj, *dtype_obj, *fortran_obj, *raw;
  gint64 shape[NPV_MAX_DIMS];
  guint ndim;
  gint64 count;
  Outcome outcome;

  if (state->kind != NPV_PY_TUPLE || (state->seq.len != 5 && state->seq.len != 4))
    return NOT_INTERPRETED;
  a = state->seq.items;
  if (state->seq.len == 5)
    {
      if (!is_int (a[0]))
        return NOT_INTERPRETED;
      if (int_value (a[0]) != 0 && int_value (a[0]) != 1)
        {
          fail (u, error, NPV_ERROR_UNSUPPORTED, "version %" G_GINT64_FORMAT
                " of numpy's array pickle is not known", int_value (a[0]));
          return FAILED;
        }
      a++;
    }
  shape_obj = a[0];
  dtype_obj = a[1];
  fortran_obj = a[2];
  raw = a[3];
  if (shape_obj->kind != NPV_PY_TUPLE || dtype_obj->kind != NPV_PY_DTYPE || !is_int (fortran_obj))
    return NOT_INTERPRETED;
  outcome = parse_shape (u, shape_obj, &ndim, shape, &count, error);
  if (outcome != DONE)
    return outcome;
  outcome = set_array_layout (u, nd, dtype_obj->dtype, ndim, shape, count,
                              int_value (fortran_obj) != 0, error);
  if (outcome != DONE)
    return outcome;

  if (npv_dtype_has_object (nd->dtype))
    {
      if (raw->kind != NPV_PY_LIST)
        {
          fail (u, error, NPV_ERROR_FORMAT, "the items of an object array are a %s, not a list",
                npv_py_kind_to_string (raw->kind));
          return FAILED;
        }
      if (raw->seq.len != (gsize) nd->count)
        {
          fail (u, error, NPV_ERROR_FORMAT, "an object array of %" G_GINT64_FORMAT
                " items is given %" G_GSIZE_FORMAT, nd->count, raw->seq.len);
          return FAILED;
        }
      nd->elements = raw;
      return add_child (u, obj, raw, error) ? DONE : FAILED;
    }

  outcome = raw_bytes_of (u, raw, &nd->data, &nd->len, error);
  if (outcome == NOT_INTERPRETED)
    {
      fail (u, error, NPV_ERROR_FORMAT, "the data of an array is a %s, not bytes",
            npv_py_kind_to_string (raw->kind));
      return FAILED;
    }
  if (outcome != DONE)
    return outcome;
  if (nd->len != array_nbytes (nd))
    {
      fail (u, error, NPV_ERROR_FORMAT, "an array of %" G_GSIZE_FORMAT " bytes is given %"
            G_GSIZE_FORMAT, array_nbytes (nd), nd->len);
      return FAILED;
    }
  if (nd->len == 0)
    nd->data = NULL;
  nd->borrowed = nd->data != NULL && is_in_input (u, nd->data);
  return DONE;
}

/* _frombuffer(buffer, dtype, shape, order): protocol 5's in-band form. */
static Outcome
call_frombuffer (Unpickler     *u,
                 NpvPyObject  **a,
                 gsize          n,
                 NpvPyObject  **result,
                 GError       **error)
{
  const char *order;
  gint64 shape[NPV_MAX_DIMS];
  guint ndim;
  gint64 count;
  Outcome outcome;
  NpvPyObject *obj;
  NpvDType *dtype;

  if (n != 4 || (a[0]->kind != NPV_PY_BYTES && a[0]->kind != NPV_PY_BYTEARRAY) ||
      a[1]->kind != NPV_PY_DTYPE)
    return NOT_INTERPRETED;
  dtype = a[1]->dtype;
  order = text_of (u, a[3], error);
  if (order == NULL)
    return *error != NULL ? FAILED : NOT_INTERPRETED;
  if ((strcmp (order, "C") != 0 && strcmp (order, "F") != 0) ||
      dtype->itemsize == 0 || npv_dtype_has_object (dtype) || dtype->kind == NPV_KIND_SUBARRAY)
    return NOT_INTERPRETED;
  outcome = parse_shape (u, a[2], &ndim, shape, &count, error);
  if (outcome != DONE)
    return outcome;
  if (a[0]->bytes.len % dtype->itemsize != 0 || a[0]->bytes.len / dtype->itemsize != (guint64) count)
    {
      fail (u, error, NPV_ERROR_FORMAT, "_frombuffer is given %" G_GSIZE_FORMAT
            " bytes for %" G_GINT64_FORMAT " items of %" G_GSIZE_FORMAT " bytes",
            a[0]->bytes.len, count, dtype->itemsize);
      return FAILED;
    }
  obj = new_obj (u, NPV_PY_NDARRAY, error);
  if (obj == NULL)
    return FAILED;
  outcome = set_array_layout (u, obj->nd, dtype, ndim, shape, count, order[0] == 'F', error);
  if (outcome != DONE)
    return outcome;
  obj->nd->subtype = "numpy.ndarray";
  obj->nd->len = a[0]->bytes.len;
  obj->nd->data = obj->nd->len > 0 ? a[0]->bytes.data : NULL;
  obj->nd->borrowed = obj->nd->data != NULL && is_in_input (u, obj->nd->data);
  *result = obj;
  return DONE;
}

/* scalar(dtype[, obj]): numpy scalars, kept as 0-d arrays. */
static Outcome
call_scalar (Unpickler     *u,
             NpvPyObject  **a,
             gsize          n,
             NpvPyObject  **result,
             GError       **error)
{
  NpvDType *dtype;
  NpvPyObject *obj;
  const guint8 *data = NULL;
  gsize len = 0;
  Outcome outcome;

  if (n < 1 || n > 2 || a[0]->kind != NPV_PY_DTYPE)
    return NOT_INTERPRETED;
  dtype = a[0]->dtype;
  if (dtype->kind == NPV_KIND_OBJECT)
    {
      /* numpy returns the object itself. */
      *result = n == 2 ? a[1] : _npv_py_tree_get_none (u->tree);
      return DONE;
    }
  if (npv_dtype_has_object (dtype) || dtype->kind == NPV_KIND_SUBARRAY)
    return NOT_INTERPRETED;
  if (n == 2)
    {
      outcome = raw_bytes_of (u, a[1], &data, &len, error);
      if (outcome != DONE)
        return outcome;
      if (len < dtype->itemsize)
        return NOT_INTERPRETED;
    }
  obj = new_obj (u, NPV_PY_NDARRAY, error);
  if (obj == NULL)
    return FAILED;
  outcome = set_array_layout (u, obj->nd, dtype, 0, NULL, 1, FALSE, error);
  if (outcome != DONE)
    return outcome;
  obj->nd->scalar = TRUE;
  obj->nd->subtype = "numpy.ndarray";
  if (n == 1)
    {
      if (!fill_empty_array (u, obj, error))
        return FAILED;
    }
  else
    {
      obj->nd->data = dtype->itemsize > 0 ? data : NULL;
      obj->nd->len = dtype->itemsize;
      obj->nd->borrowed = obj->nd->data != NULL && is_in_input (u, data);
    }
  *result = obj;
  return DONE;
}

/* numpy.dtype(obj, align, copy): obj is a type string ('f8', 'V52', 'M8';
 * Python 2 pickles give it as bytes) or a dtype. */
static Outcome
call_dtype (Unpickler     *u,
            NpvPyObject  **a,
            gsize          n,
            NpvPyObject  **result,
            GError       **error)
{
  NpvDType *dtype = NULL;
  NpvPyObject *obj;

  if (n < 1 || n > 3)
    return NOT_INTERPRETED;
  if (a[0]->kind == NPV_PY_DTYPE)
    dtype = npv_dtype_ref (a[0]->dtype);
  else
    {
      const char *text = text_of (u, a[0], error);
      GError *local = NULL;

      if (text == NULL)
        return *error != NULL ? FAILED : NOT_INTERPRETED;
      /* A type this viewer does not know (numpy 2's StringDType 'T'...)
       * stays opaque, and so do arrays of it. */
      dtype = npv_dtype_new_from_string (text, &local);
      if (dtype == NULL)
        {
          g_error_free (local);
          return NOT_INTERPRETED;
        }
    }
  obj = new_obj (u, NPV_PY_DTYPE, error);
  if (obj == NULL)
    {
      npv_dtype_unref (dtype);
      return FAILED;
    }
  obj->dtype = dtype;
  *result = obj;
  return DONE;
}

static void
append_shape_text (GString      *out,
                   guint         ndim,
                   const gint64 *shape)
{
  g_string_append_c (out, '(');
  for (guint i = 0; i < ndim; i++)
    g_string_append_printf (out, i == 0 ? "%" G_GINT64_FORMAT : ", %" G_GINT64_FORMAT, shape[i]);
  g_string_append (out, ndim == 1 ? ",)" : ")");
}

/* A str or bytes field name (or title) as a Python str literal. */
static gboolean
append_name_repr (Unpickler    *u,
                  GString      *out,
                  NpvPyObject  *name,
                  GError      **error)
{
  const char *text = text_of (u, name, error);

  if (text == NULL)
    return FALSE;
  npv_append_python_str_repr (out, text, strlen (text));
  return TRUE;
}

/* Whether two names are the same text, a Python 2 str read as bytes
 * standing for its latin1 decoding. Allocates nothing: record types
 * compare names many times. */
static gboolean
same_text (const NpvPyObject *a,
           const NpvPyObject *b)
{
  const NpvPyObject *bytes, *str;
  const char *p, *end;
  gsize i = 0;

  if (a->kind == NPV_PY_STR && b->kind == NPV_PY_STR)
    return a->str.len == b->str.len && memcmp (a->str.text, b->str.text, a->str.len) == 0;
  if (a->kind == NPV_PY_BYTES && b->kind == NPV_PY_BYTES)
    return a->bytes.len == b->bytes.len && memcmp (a->bytes.data, b->bytes.data, a->bytes.len) == 0;
  if (a->kind == NPV_PY_BYTES && b->kind == NPV_PY_STR)
    bytes = a, str = b;
  else if (a->kind == NPV_PY_STR && b->kind == NPV_PY_BYTES)
    bytes = b, str = a;
  else
    return FALSE;

  p = str->str.text;
  end = p + str->str.len;
  for (; p < end; p = g_utf8_next_char (p), i++)
    if (i >= bytes->bytes.len || g_utf8_get_char (p) != bytes->bytes.data[i])
      return FALSE;
  return i == bytes->bytes.len;
}

static NpvPyObject *
dict_get (NpvPyObject *dict,
          NpvPyObject *key)
{
  for (gsize i = 0; i + 1 < dict->seq.len; i += 2)
    {
      NpvPyObject *k = dict->seq.items[i];

      if (k == key || same_text (k, key) ||
          (is_int (k) && is_int (key) && int_value (k) == int_value (key)))
        return dict->seq.items[i + 1];
    }
  return NULL;
}

typedef struct
{
  NpvPyObject *name;
  NpvPyObject *title;
  NpvDType *dtype;
  gint64 offset;
} FieldState;

static gint
compare_field_offsets (gconstpointer a,
                       gconstpointer b)
{
  const FieldState *fa = a, *fb = b;

  return fa->offset < fb->offset ? -1 : fa->offset > fb->offset;
}

/* The fields of a record dtype's state, as numpy's descr text; Outcome as
 * usual. names may be None (old pickles: the fields say, or key -1). */
static Outcome
record_descr (Unpickler    *u,
              NpvPyObject  *names,
              NpvPyObject  *fields,
              gint64        elsize,
              GString      *descr,
              GError      **error)
{
  g_autoptr(GArray) list = g_array_new (FALSE, TRUE, sizeof (FieldState));
  gint64 end = 0;
  NpvPyObject *minus_one;
  gsize n = fields->seq.len / 2;

  /* Names are looked up in the fields one by one, and the descr parser
   * compares each field with the others: work that grows with the square
   * of the fields, counted against the limit before it is done (the same
   * fields dict can be given to any number of BUILDs through the memo). */
  if (!_npv_py_tree_charge (u->tree, n * n / 4 + 1, error))
    {
      fail_prefix (u, error);
      return FAILED;
    }

  if (names->kind == NPV_PY_NONE)
    {
      NpvPyObject *found;

      minus_one = new_int (u, -1, error);
      if (minus_one == NULL)
        return FAILED;
      found = dict_get (fields, minus_one);
      if (found != NULL)
        names = found;
    }
  if (names->kind != NPV_PY_NONE && names->kind != NPV_PY_TUPLE && names->kind != NPV_PY_LIST)
    return NOT_INTERPRETED;

  for (gsize i = 0; i + 1 < fields->seq.len; i += 2)
    {
      NpvPyObject *key = fields->seq.items[i];
      NpvPyObject *value = fields->seq.items[i + 1];
      FieldState field = { 0, };

      if (is_int (key))
        continue;
      if (value->kind != NPV_PY_TUPLE || value->seq.len < 2 || value->seq.len > 3 ||
          value->seq.items[0]->kind != NPV_PY_DTYPE || !is_int (value->seq.items[1]) ||
          int_value (value->seq.items[1]) < 0)
        return NOT_INTERPRETED;
      field.name = key;
      field.dtype = value->seq.items[0]->dtype;
      field.offset = int_value (value->seq.items[1]);
      if (value->seq.len == 3 && value->seq.items[2]->kind != NPV_PY_NONE)
        {
          field.title = value->seq.items[2];
          /* The entry under the title repeats the field. */
          if (same_text (key, field.title))
            continue;
        }
      if (names->kind == NPV_PY_NONE)
        g_array_append_val (list, field);
    }
  if (names->kind == NPV_PY_NONE)
    g_array_sort (list, compare_field_offsets);
  else
    for (gsize i = 0; i < names->seq.len; i++)
      {
        NpvPyObject *value = dict_get (fields, names->seq.items[i]);
        FieldState field = { 0, };

        if (value == NULL || value->kind != NPV_PY_TUPLE || value->seq.len < 2 ||
            value->seq.items[0]->kind != NPV_PY_DTYPE || !is_int (value->seq.items[1]) ||
            int_value (value->seq.items[1]) < 0)
          return NOT_INTERPRETED;
        field.name = names->seq.items[i];
        field.dtype = value->seq.items[0]->dtype;
        field.offset = int_value (value->seq.items[1]);
        if (value->seq.len == 3 && value->seq.items[2]->kind != NPV_PY_NONE)
          field.title = value->seq.items[2];
        g_array_append_val (list, field);
      }

  g_string_append_c (descr, '[');
  for (guint i = 0; i < list->len; i++)
    {
      FieldState *field = &g_array_index (list, FieldState, i);
      const NpvDType *ft = field->dtype;

      if (field->offset < end || field->offset > G_MAXINT32)
        {
          fail (u, error, NPV_ERROR_UNSUPPORTED,
                "a record type has fields that overlap or are out of order");
          return FAILED;
        }
      if (i > 0)
        g_string_append (descr, ", ");
      if (field->offset > end)
        g_string_append_printf (descr, "('', '|V%" G_GINT64_FORMAT "'), ", field->offset - end);
      g_string_append_c (descr, '(');
      if (field->title != NULL)
        {
          g_string_append_c (descr, '(');
          if (!append_name_repr (u, descr, field->title, error))
            return *error != NULL ? FAILED : NOT_INTERPRETED;
          g_string_append (descr, ", ");
        }
      if (!append_name_repr (u, descr, field->name, error))
        return *error != NULL ? FAILED : NOT_INTERPRETED;
      if (field->title != NULL)
        g_string_append_c (descr, ')');
      g_string_append (descr, ", ");
      if (ft->kind == NPV_KIND_SUBARRAY)
        {
          npv_dtype_append_descr_repr (ft->base, descr);
          g_string_append (descr, ", ");
          append_shape_text (descr, ft->sub_ndim, ft->sub_shape);
        }
      else
        npv_dtype_append_descr_repr (ft, descr);
      g_string_append_c (descr, ')');
      end = field->offset + ft->itemsize;
    }
  if (elsize > end)
    g_string_append_printf (descr, "%s('', '|V%" G_GINT64_FORMAT "')",
                            list->len > 0 ? ", " : "", elsize - end);
  else if (elsize >= 0 && elsize < end)
    {
      fail (u, error, NPV_ERROR_FORMAT, "a record type of %" G_GINT64_FORMAT
            " bytes has fields up to byte %" G_GINT64_FORMAT, elsize, end);
      return FAILED;
    }
  g_string_append_c (descr, ']');
  return DONE;
}

/* datetime metadata (unit, num[, den, events]) as "[10s]". */
static Outcome
append_time_unit (Unpickler    *u,
                  GString      *text,
                  NpvPyObject  *meta,
                  GError      **error)
{
  NpvPyObject **m;
  const char *unit;
  NpvTimeUnit parsed;

  if (meta->kind != NPV_PY_TUPLE || (meta->seq.len != 2 && meta->seq.len != 4))
    return NOT_INTERPRETED;
  m = meta->seq.items;
  unit = text_of (u, m[0], error);
  if (unit == NULL)
    return *error != NULL ? FAILED : NOT_INTERPRETED;
  if (!is_int (m[1]) || int_value (m[1]) < 1 || int_value (m[1]) > G_MAXINT32 ||
      (meta->seq.len == 4 && (!is_int (m[2]) || int_value (m[2]) != 1)))
    return NOT_INTERPRETED;
  if (strcmp (unit, "generic") == 0)
    return int_value (m[1]) == 1 ? DONE : NOT_INTERPRETED;
  if (!npv_time_unit_from_string (unit, strlen (unit), &parsed) || parsed == NPV_TIME_UNIT_GENERIC)
    return NOT_INTERPRETED;
  g_string_append_c (text, '[');
  if (int_value (m[1]) != 1)
    g_string_append_printf (text, "%" G_GINT64_FORMAT, int_value (m[1]));
  g_string_append_printf (text, "%s]", unit);
  return DONE;
}

/* dtype.__setstate__: (version, endian, subarray, names, fields, elsize,
 * alignment, flags[, metadata]) and the shorter forms of older numpy. */
static Outcome
dtype_setstate (Unpickler    *u,
                NpvPyObject  *obj,
                NpvPyObject  *state,
                GError      **error)
{
  NpvPyObject **a;
  NpvPyObject *endian_obj, *sub, *names, *fields, *metadata = NULL;
  gint64 elsize;
  const char *endian;
  const NpvDType *base = obj->dtype;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(NpvDType) dtype = NULL;
  Outcome outcome;

  if (state->kind != NPV_PY_TUPLE)
    return NOT_INTERPRETED;
  a = state->seq.items;
  switch (state->seq.len)
    {
    case 9:
      metadata = a[8];
      G_GNUC_FALLTHROUGH;
    case 8:
    case 7:
      endian_obj = a[1];
      sub = a[2];
      names = a[3];
      fields = a[4];
      elsize = is_int (a[5]) ? int_value (a[5]) : G_MININT64;
      break;
    case 6:
      endian_obj = a[1];
      sub = a[2];
      names = _npv_py_tree_get_none (u->tree);
      fields = a[3];
      elsize = is_int (a[4]) ? int_value (a[4]) : G_MININT64;
      break;
    case 5:
      endian_obj = a[0];
      sub = a[1];
      names = _npv_py_tree_get_none (u->tree);
      fields = a[2];
      elsize = is_int (a[3]) ? int_value (a[3]) : G_MININT64;
      break;
    default:
      return NOT_INTERPRETED;
    }
  if (state->seq.len >= 6 && (!is_int (a[0]) || int_value (a[0]) < 0 || int_value (a[0]) > 4))
    return NOT_INTERPRETED;
  endian = text_of (u, endian_obj, error);
  if (endian == NULL)
    return *error != NULL ? FAILED : NOT_INTERPRETED;
  if (strlen (endian) != 1 || strchr ("<>|=", endian[0]) == NULL || elsize == G_MININT64 ||
      elsize > G_MAXINT32)
    return NOT_INTERPRETED;

  if (fields->kind == NPV_PY_DICT)
    {
      outcome = record_descr (u, names, fields, elsize, text, error);
      if (outcome != DONE)
        return outcome;
    }
  else if (sub->kind == NPV_PY_TUPLE)
    {
      guint ndim;
      gint64 shape[NPV_MAX_DIMS];
      gint64 count;

      if (sub->seq.len != 2 || sub->seq.items[0]->kind != NPV_PY_DTYPE)
        return NOT_INTERPRETED;
      outcome = parse_shape (u, sub->seq.items[1], &ndim, shape, &count, error);
      if (outcome != DONE)
        return outcome;
      g_string_append_c (text, '(');
      npv_dtype_append_descr_repr (sub->seq.items[0]->dtype, text);
      g_string_append (text, ", ");
      append_shape_text (text, ndim, shape);
      g_string_append_c (text, ')');
    }
  else if (fields->kind != NPV_PY_NONE || sub->kind != NPV_PY_NONE)
    return NOT_INTERPRETED;
  else
    {
      g_autofree char *base_str = npv_dtype_to_str (base);
      char letter = base_str[1];

      g_string_append_c (text, endian[0]);
      switch (base->kind)
        {
        case NPV_KIND_DATETIME:
        case NPV_KIND_TIMEDELTA:
          g_string_append_printf (text, "%c8", letter);
          if (metadata != NULL && metadata->kind == NPV_PY_TUPLE && metadata->seq.len == 2)
            {
              outcome = append_time_unit (u, text, metadata->seq.items[1], error);
              if (outcome != DONE)
                return outcome;
            }
          break;
        case NPV_KIND_BYTES:
        case NPV_KIND_VOID:
        case NPV_KIND_STRUCT:
          g_string_append_printf (text, "%c%" G_GINT64_FORMAT, letter,
                                  elsize >= 0 ? elsize : (gint64) base->itemsize);
          break;
        case NPV_KIND_UNICODE:
          if (elsize >= 0 && elsize % 4 != 0)
            return NOT_INTERPRETED;
          g_string_append_printf (text, "U%" G_GINT64_FORMAT,
                                  (elsize >= 0 ? elsize : (gint64) base->itemsize) / 4);
          break;
        case NPV_KIND_OBJECT:
          g_string_append_c (text, 'O');
          break;
        case NPV_KIND_BOOL:
        case NPV_KIND_INT:
        case NPV_KIND_UINT:
        case NPV_KIND_FLOAT:
        case NPV_KIND_COMPLEX:
        case NPV_KIND_SUBARRAY:
        default:
          g_string_append (text, base_str + 1);
          break;
        }
      dtype = dtype_from_text (u, text->str, error);
      if (dtype == NULL)
        return FAILED;
    }

  /* Nested records can double their text at each level with a few bytes
   * of pickle: the text is counted against the limit. */
  if (!_npv_py_tree_charge (u->tree, 4 * text->len, error))
    {
      fail_prefix (u, error);
      return FAILED;
    }
  if (dtype == NULL)
    {
      g_autoptr(NpvLiteral) literal = npv_literal_parse (text->str, text->len,
                                                         NPV_LITERAL_PARSE_DEFAULT, error);

      if (literal != NULL)
        dtype = npv_dtype_new_from_descr (literal, error);
      if (dtype == NULL)
        {
          fail_prefix (u, error);
          return FAILED;
        }
    }
  npv_dtype_unref (obj->dtype);
  obj->dtype = g_steal_pointer (&dtype);
  return DONE;
}

/* ---------------------------------------------------------------------- */
/* Calls                                                                   */

static NpvPyObject *call (Unpickler      *u,
                          NpvPyCallKind   kind,
                          NpvPyObject    *callable,
                          NpvPyObject    *args,
                          NpvPyObject    *kwargs,
                          GError        **error);

static gboolean
outcome_ok (Outcome outcome)
{
  return outcome != FAILED;
}

static gboolean
is_builtin_object (const NpvPyObject *obj)
{
  return obj->kind == NPV_PY_GLOBAL && strcmp (obj->global.name, "object") == 0 &&
         (strcmp (obj->global.module, "builtins") == 0 ||
          strcmp (obj->global.module, "__builtin__") == 0);
}

/* copyreg's helpers, which only say what to call. */
static gboolean
call_copyreg (Unpickler     *u,
              Call           c,
              NpvPyObject  **a,
              gsize          n,
              NpvPyObject  **result,
              GError       **error)
{
  NpvPyObject *args;

  switch (c)
    {
    case CALL_NEWOBJ:
      if (n < 1)
        return TRUE;
      args = new_tuple (u, a + 1, n - 1, error);
      if (args == NULL)
        return FALSE;
      *result = call (u, NPV_PY_CALL_NEWOBJ, a[0], args, NULL, error);
      return *result != NULL;
    case CALL_NEWOBJ_EX:
      if (n != 3 || a[1]->kind != NPV_PY_TUPLE || a[2]->kind != NPV_PY_DICT)
        return TRUE;
      *result = call (u, NPV_PY_CALL_NEWOBJ, a[0], a[1], a[2], error);
      return *result != NULL;
    case CALL_RECONSTRUCTOR:
      if (n != 3)
        return TRUE;
      if (identify (a[0]) != CALL_NONE && identify (a[0]) == identify (a[1]) &&
          call_is_class (identify (a[0])))
        {
          /* base(state), for a class rebuilt here anyway. */
          args = new_tuple (u, a + 2, 1, error);
          if (args == NULL)
            return FALSE;
          *result = call (u, NPV_PY_CALL_REDUCE, a[1], args, NULL, error);
          return *result != NULL;
        }
      if (is_builtin_object (a[1]) && a[2]->kind == NPV_PY_NONE)
        {
          /* object.__new__(cls): an instance of cls, described. */
          args = new_obj (u, NPV_PY_TUPLE, error);
          *result = args != NULL ? new_opaque (u, NPV_PY_CALL_NEWOBJ, a[0], args, NULL, error) : NULL;
          return *result != NULL;
        }
      return TRUE;
    case CALL_NONE:
    case CALL_RECONSTRUCT:
    case CALL_NDARRAY:
    case CALL_DTYPE:
    case CALL_FROMBUFFER:
    case CALL_SCALAR:
    case CALL_SET:
    case CALL_FROZENSET:
    case CALL_BYTEARRAY:
    case CALL_BYTES:
    case CALL_COMPLEX:
    case CALL_RANGE:
    case CALL_SLICE:
    case CALL_ENCODE:
    case CALL_ORDERED_DICT:
    default:
      return TRUE;
    }
}

/* Interprets @c on the tuple @args. Returns FALSE with @error set on
 * failure; leaves *@result %NULL when the call is not in a form
 * interpreted here. */
static gboolean
call_known (Unpickler     *u,
            Call           c,
            NpvPyCallKind  kind,
            NpvPyObject   *callable,
            NpvPyObject   *args,
            NpvPyObject  **result,
            GError       **error)
{
  NpvPyObject **a = args->seq.items;
  gsize n = args->seq.len;

  if (kind == NPV_PY_CALL_NEWOBJ)
    {
      if (!call_is_class (c))
        return TRUE;
      /* These __new__ ignore their arguments: __init__ would fill them. */
      if (c == CALL_SET || c == CALL_BYTEARRAY || c == CALL_ORDERED_DICT)
        n = 0;
    }

  switch (c)
    {
    case CALL_RECONSTRUCT:
    case CALL_NDARRAY:
      return call_new_array (u, c, callable, args, result, error);
    case CALL_DTYPE:
      return outcome_ok (call_dtype (u, a, n, result, error));
    case CALL_FROMBUFFER:
      return outcome_ok (call_frombuffer (u, a, n, result, error));
    case CALL_SCALAR:
      return outcome_ok (call_scalar (u, a, n, result, error));
    case CALL_SET:
      return call_set (u, NPV_PY_SET, a, n, result, error);
    case CALL_FROZENSET:
      return call_set (u, NPV_PY_FROZENSET, a, n, result, error);
    case CALL_BYTEARRAY:
      return call_bytes (u, NPV_PY_BYTEARRAY, a, n, result, error);
    case CALL_BYTES:
      return call_bytes (u, NPV_PY_BYTES, a, n, result, error);
    case CALL_COMPLEX:
      return call_complex (u, a, n, result, error);
    case CALL_RANGE:
      return call_range (u, NPV_PY_RANGE, a, n, result, error);
    case CALL_SLICE:
      return call_range (u, NPV_PY_SLICE, a, n, result, error);
    case CALL_ENCODE:
      return call_encode (u, a, n, result, error);
    case CALL_ORDERED_DICT:
      return call_ordered_dict (u, a, n, result, error);
    case CALL_NEWOBJ:
    case CALL_NEWOBJ_EX:
    case CALL_RECONSTRUCTOR:
      return call_copyreg (u, c, a, n, result, error);
    case CALL_NONE:
    default:
      return TRUE;
    }
}

/* callable(*args), or for NEWOBJ callable.__new__(callable, *args,
 * **kwargs): interpreted when known, otherwise described. Never calls. */
static NpvPyObject *
call (Unpickler      *u,
      NpvPyCallKind   kind,
      NpvPyObject    *callable,
      NpvPyObject    *args,
      NpvPyObject    *kwargs,
      GError        **error)
{
  Call c = identify (callable);
  NpvPyObject *result = NULL;

  if (c != CALL_NONE && args->kind == NPV_PY_TUPLE &&
      (kwargs == NULL || (kwargs->kind == NPV_PY_DICT && kwargs->seq.len == 0)))
    {
      if (!call_known (u, c, kind, callable, args, &result, error))
        return NULL;
      if (result != NULL)
        return result;
    }
  return new_opaque (u, kind, callable, args, kwargs, error);
}

/* An object whose state turned out not to be what numpy writes becomes a
 * description of the call that made it. */
static gboolean
morph_to_opaque (Unpickler    *u,
                 NpvPyObject  *obj,
                 NpvPyObject  *callable,
                 NpvPyObject  *args,
                 NpvPyObject  *state,
                 GError      **error)
{
  NpvPyOpaqueData *op = alloc (u, sizeof (NpvPyOpaqueData), error);

  if (op == NULL)
    return FALSE;
  if (obj->kind == NPV_PY_NDARRAY)
    g_clear_pointer (&obj->nd->dtype, npv_dtype_unref);
  else if (obj->kind == NPV_PY_DTYPE)
    g_clear_pointer (&obj->dtype, npv_dtype_unref);
  obj->kind = NPV_PY_OPAQUE;
  obj->opaque = op;
  op->call = NPV_PY_CALL_REDUCE;
  op->callable = callable;
  op->args = args;
  op->state = state;
  return add_child (u, obj, callable, error) && add_child (u, obj, args, error) &&
         add_child (u, obj, state, error);
}

static gboolean
build (Unpickler    *u,
       NpvPyObject  *obj,
       NpvPyObject  *state,
       GError      **error)
{
  Outcome outcome;

  switch (obj->kind)
    {
    case NPV_PY_NDARRAY:
      if (obj->nd->scalar)
        break;
      outcome = array_setstate (u, obj, state, error);
      if (outcome != NOT_INTERPRETED)
        return outcome == DONE;
      if (obj->nd->made_by == NULL)
        return fail (u, error, NPV_ERROR_FORMAT, "the state of an array is not an array's");
      return morph_to_opaque (u, obj, obj->nd->made_by, obj->nd->made_args, state, error);

    case NPV_PY_DTYPE:
      outcome = dtype_setstate (u, obj, state, error);
      if (outcome != NOT_INTERPRETED)
        return outcome == DONE;
      {
        g_autofree char *str = npv_dtype_to_str (obj->dtype);
        NpvPyObject *global = new_global (u, "numpy", 5, "dtype", 5, error);
        NpvPyObject *text = global != NULL ? new_str (u, str, strlen (str), error) : NULL;
        NpvPyObject *args = text != NULL ? new_tuple (u, &text, 1, error) : NULL;

        return args != NULL && morph_to_opaque (u, obj, global, args, state, error);
      }

    case NPV_PY_OPAQUE:
      obj->opaque->state = state;
      return add_child (u, obj, state, error);

    case NPV_PY_NONE:
    case NPV_PY_BOOL:
    case NPV_PY_INT:
    case NPV_PY_BIGINT:
    case NPV_PY_FLOAT:
    case NPV_PY_COMPLEX:
    case NPV_PY_STR:
    case NPV_PY_BYTES:
    case NPV_PY_BYTEARRAY:
    case NPV_PY_LIST:
    case NPV_PY_TUPLE:
    case NPV_PY_DICT:
    case NPV_PY_SET:
    case NPV_PY_FROZENSET:
    case NPV_PY_RANGE:
    case NPV_PY_SLICE:
    case NPV_PY_GLOBAL:
    default:
      break;
    }
  /* Python does nothing for these states either. */
  if (state->kind == NPV_PY_NONE || (state->kind == NPV_PY_DICT && state->seq.len == 0))
    return TRUE;
  return fail (u, error, NPV_ERROR_FORMAT, "a %s cannot be given a state",
               npv_py_kind_to_string (obj->kind));
}

/* APPEND(S), ADDITEMS on an object: a list, a set or an opaque one. */
static gboolean
add_items (Unpickler    *u,
           NpvPyObject  *target,
           NpvPyObject **items,
           gsize         n,
           GError      **error)
{
  NpvPyObject *seq = target;
  gboolean is_add = u->op == 0x90;

  if (target->kind == NPV_PY_OPAQUE)
    {
      if (target->opaque->appended == NULL)
        {
          target->opaque->appended = new_obj (u, NPV_PY_LIST, error);
          if (target->opaque->appended == NULL)
            return FALSE;
        }
      seq = target->opaque->appended;
    }
  else if (target->kind != (is_add ? NPV_PY_SET : NPV_PY_LIST))
    return fail (u, error, NPV_ERROR_FORMAT, "cannot add items to a %s",
                 npv_py_kind_to_string (target->kind));

  if (!_npv_py_seq_reserve (seq, n, error))
    return fail_prefix (u, error);
  for (gsize i = 0; i < n; i++)
    if (!seq_append (u, seq, items[i], error))
      return FALSE;
  return seq == target || add_child (u, target, seq, error);
}

/* SETITEM(S): @n is even, keys and values alternating. */
static gboolean
set_items (Unpickler    *u,
           NpvPyObject  *target,
           NpvPyObject **items,
           gsize         n,
           GError      **error)
{
  NpvPyObject *dict = target;

  if (n % 2 != 0)
    return fail (u, error, NPV_ERROR_FORMAT, "a key has no value");
  if (target->kind == NPV_PY_OPAQUE)
    {
      if (target->opaque->set_items == NULL)
        {
          target->opaque->set_items = new_obj (u, NPV_PY_DICT, error);
          if (target->opaque->set_items == NULL)
            return FALSE;
        }
      dict = target->opaque->set_items;
    }
  else if (target->kind != NPV_PY_DICT)
    return fail (u, error, NPV_ERROR_FORMAT, "cannot set items of a %s",
                 npv_py_kind_to_string (target->kind));

  if (!_npv_py_seq_reserve (dict, n, error))
    return fail_prefix (u, error);
  for (gsize i = 0; i < n; i++)
    if (!seq_append (u, dict, items[i], error))
      return FALSE;
  return dict == target || add_child (u, target, dict, error);
}

/* ---------------------------------------------------------------------- */
/* Opcodes                                                                 */

/* Pushes a new object, or fails when making it failed. */
static gboolean
push_new (Unpickler    *u,
          NpvPyObject  *obj,
          GError      **error)
{
  return obj != NULL && push (u, obj, error);
}

static gboolean
op_memo_get (Unpickler  *u,
             guint64     key,
             GError    **error)
{
  NpvPyObject *obj = memo_get (&u->memo, key);

  if (obj == NULL)
    return fail (u, error, NPV_ERROR_FORMAT, "memo key %" G_GUINT64_FORMAT " is not defined", key);
  return push (u, obj, error);
}

static gboolean
op_memo_put (Unpickler  *u,
             guint64     key,
             GError    **error)
{
  NpvPyObject *top;

  if (!peek (u, 0, &top, error))
    return FALSE;
  if (!memo_put (&u->memo, u->tree, key, top, error))
    return fail_prefix (u, error);
  return TRUE;
}

/* The argument of an opcode with a length prefix of @size bytes. */
static gboolean
read_counted (Unpickler     *u,
              guint          size,
              gboolean       is_signed,
              const guint8 **data,
              gsize         *len,
              GError       **error)
{
  guint64 n;

  if (!read_uint (u, size, &n, error))
    return FALSE;
  if (is_signed && size == 4 && n >= 0x80000000u)
    return fail (u, error, NPV_ERROR_FORMAT, "the length is negative");
  if (!read_bytes (u, n, data, error))
    return FALSE;
  *len = n;
  return TRUE;
}

/* TUPLE, LIST, DICT, FROZENSET, SETITEMS, APPENDS, ADDITEMS, INST, OBJ,
 * POP_MARK: everything above the last MARK. */
static gboolean
op_marked (Unpickler    *u,
           GError      **error)
{
  gsize first = 0, n;
  NpvPyObject *obj = NULL;
  NpvPyObject *target;

  if (!pop_mark (u, &first, error))
    return FALSE;
  n = u->stack_len - first;

  switch (u->op)
    {
    case '1':   /* POP_MARK */
      drop_to (u, first);
      return TRUE;
    case 't':
      return push_new (u, seq_from_stack (u, NPV_PY_TUPLE, first, error), error);
    case 'l':
      return push_new (u, seq_from_stack (u, NPV_PY_LIST, first, error), error);
    case 0x91:
      return push_new (u, seq_from_stack (u, NPV_PY_FROZENSET, first, error), error);
    case 'd':
      if (n % 2 != 0)
        return fail (u, error, NPV_ERROR_FORMAT, "a key has no value");
      return push_new (u, seq_from_stack (u, NPV_PY_DICT, first, error), error);
    case 'e':   /* APPENDS */
    case 0x90:  /* ADDITEMS */
    case 'u':   /* SETITEMS */
      if (first <= mark_base (u))
        return fail (u, error, NPV_ERROR_FORMAT, "there is no object to add the items to");
      target = u->stack[first - 1];
      if (!(u->op == 'u' ? set_items (u, target, u->stack + first, n, error)
                         : add_items (u, target, u->stack + first, n, error)))
        return FALSE;
      drop_to (u, first);
      return TRUE;
    case 'o':   /* OBJ: cls, *args */
      {
        NpvPyObject *args;

        if (n == 0)
          return fail (u, error, NPV_ERROR_FORMAT, "OBJ needs a class");
        args = new_tuple (u, u->stack + first + 1, n - 1, error);
        obj = args != NULL ? call (u, NPV_PY_CALL_REDUCE, u->stack[first], args, NULL, error) : NULL;
        drop_to (u, first);
        return push_new (u, obj, error);
      }
    case 'i':   /* INST module\n name\n: args above the MARK */
      {
        const char *module, *name;
        gsize module_len, name_len;
        NpvPyObject *cls, *args;

        if (!read_line (u, &module, &module_len, error) || !read_line (u, &name, &name_len, error))
          return FALSE;
        cls = new_global (u, module, module_len, name, name_len, error);
        args = cls != NULL ? seq_from_stack (u, NPV_PY_TUPLE, first, error) : NULL;
        obj = args != NULL ? call (u, NPV_PY_CALL_REDUCE, cls, args, NULL, error) : NULL;
        return push_new (u, obj, error);
      }
    default:
      g_assert_not_reached ();
      return FALSE;
    }
}

static gboolean
op_call (Unpickler  *u,
         GError    **error)
{
  NpvPyObject *callable, *args, *kwargs = NULL;
  NpvPyCallKind kind = u->op == 'R' ? NPV_PY_CALL_REDUCE : NPV_PY_CALL_NEWOBJ;

  if ((u->op == 0x92 && !pop (u, &kwargs, error)) || !pop (u, &args, error) ||
      !pop (u, &callable, error))
    return FALSE;
  if (u->op == 0x81 && args->kind != NPV_PY_TUPLE)
    return fail (u, error, NPV_ERROR_FORMAT, "the arguments of NEWOBJ are not a tuple");
  if (u->op == 0x92 && (args->kind != NPV_PY_TUPLE || kwargs->kind != NPV_PY_DICT))
    return fail (u, error, NPV_ERROR_FORMAT, "NEWOBJ_EX needs a tuple and a dict");
  return push_new (u, call (u, kind, callable, args, kwargs, error), error);
}

static gboolean
op_text (Unpickler  *u,
         GError    **error)
{
  const char *line;
  gsize len;
  const guint8 *data = NULL;
  gsize data_len = 0;
  guint64 index = 0;

  if (!read_line (u, &line, &len, error))
    return FALSE;
  switch (u->op)
    {
    case 'I':
      if (len == 2 && line[0] == '0' && (line[1] == '0' || line[1] == '1'))
        return push (u, _npv_py_tree_get_bool (u->tree, line[1] == '1'), error);
      return push_new (u, new_int_from_text (u, line, len, error), error);
    case 'L':
      if (len > 0 && line[len - 1] == 'L')
        len--;
      return push_new (u, new_int_from_text (u, line, len, error), error);
    case 'F':
      return push_new (u, new_float_from_text (u, line, len, error), error);
    case 'S':
      return escape_decode (u, line, len, &data, &data_len, error) &&
             push_new (u, new_py2_str (u, data, data_len, error), error);
    case 'V':
      return push_new (u, new_str_from_raw_unicode_escape (u, line, len, error), error);
    case 'g':
      return parse_index (u, line, len, &index, error) && op_memo_get (u, index, error);
    case 'p':
      return parse_index (u, line, len, &index, error) && op_memo_put (u, index, error);
    case 'c':
      {
        const char *name;
        gsize name_len;

        return read_line (u, &name, &name_len, error) &&
               push_new (u, new_global (u, line, len, name, name_len, error), error);
      }
    case 'P':
      return fail (u, error, NPV_ERROR_UNSUPPORTED,
                   "persistent ids need the program that wrote the pickle");
    default:
      g_assert_not_reached ();
      return FALSE;
    }
}

/* The longest chain of containers, again, once the tree is complete: the
 * heights kept while loading can be too low when a container that is
 * already inside another one is given more items through the memo. */
static gboolean
check_depth (Unpickler    *u,
             NpvPyObject  *root,
             GError      **error)
{
  typedef struct { NpvPyObject *obj; guint next; } Visit;
  g_autoptr(GArray) path = g_array_new (FALSE, FALSE, sizeof (Visit));
  Visit start = { root, 0 };

  root->visit = 1;
  root->height = 0;
  g_array_append_val (path, start);
  while (path->len > 0)
    {
      Visit *v = &g_array_index (path, Visit, path->len - 1);
      NpvPyObject *obj = v->obj;
      NpvPyObject *child = NULL;
      gboolean more = TRUE;

      switch (obj->kind)
        {
        case NPV_PY_LIST:
        case NPV_PY_TUPLE:
        case NPV_PY_DICT:
        case NPV_PY_SET:
        case NPV_PY_FROZENSET:
          more = v->next < obj->seq.len;
          if (more)
            child = obj->seq.items[v->next];
          break;
        case NPV_PY_RANGE:
        case NPV_PY_SLICE:
          more = v->next < 3;
          if (more)
            child = v->next == 0 ? obj->range.start : v->next == 1 ? obj->range.stop : obj->range.step;
          break;
        case NPV_PY_OPAQUE:
          {
            NpvPyOpaqueData *op = obj->opaque;
            NpvPyObject *parts[] = { op->callable, op->args, op->kwargs, op->state,
                                     op->appended, op->set_items };

            more = v->next < G_N_ELEMENTS (parts);
            if (more)
              child = parts[v->next];
          }
          break;
        case NPV_PY_NDARRAY:
          more = v->next < 1;
          if (more)
            child = obj->nd->elements;
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
        case NPV_PY_GLOBAL:
        case NPV_PY_DTYPE:
        default:
          more = FALSE;
          break;
        }
      v->next++;

      if (!more)
        {
          obj->visit = 2;
          g_array_set_size (path, path->len - 1);
          if (path->len > 0)
            child = obj;
          obj = path->len > 0 ? g_array_index (path, Visit, path->len - 1).obj : NULL;
        }
      else if (child != NULL && child->visit == 0)
        {
          Visit next = { child, 0 };

          if (path->len > u->max_depth)
            return fail (u, error, NPV_ERROR_TOO_LARGE,
                         "objects are nested more than %u levels deep", u->max_depth);
          child->visit = 1;
          child->height = 0;
          g_array_append_val (path, next);
          continue;
        }
      /* A finished child (or a container on the path: a cycle, which does
       * not make anything deeper). */
      if (obj != NULL && child != NULL && child->visit == 2 && child->height + 1 > obj->height)
        {
          obj->height = child->height + 1;
          if (obj->height > u->max_depth)
            return fail (u, error, NPV_ERROR_TOO_LARGE,
                         "objects are nested more than %u levels deep", u->max_depth);
        }
    }
  return TRUE;
}

/* One opcode at u->pos. Sets *@result on STOP. */
static gboolean
step (Unpickler     *u,
      NpvPyObject  **result,
      GError       **error)
{
  const guint8 *data = NULL;
  gsize len = 0;
  guint64 v = 0;
  NpvPyObject *a = NULL, *b = NULL;

  u->op_pos = u->pos;
  if (u->pos == u->len)
    {
      u->op = '.';
      return fail (u, error, NPV_ERROR_FORMAT, "the pickle ends before its STOP opcode");
    }
  u->op = u->data[u->pos++];

  switch (u->op)
    {
    /* Framing and protocol */
    case 0x80:  /* PROTO */
      if (!read_uint (u, 1, &v, error))
        return FALSE;
      if (v > HIGHEST_PROTOCOL)
        return fail (u, error, NPV_ERROR_UNSUPPORTED,
                     "pickle protocol %u is not known (the highest is %d)",
                     (guint) v, HIGHEST_PROTOCOL);
      return TRUE;
    case 0x95:  /* FRAME: a length prefix for buffering; the opcodes follow as usual */
      if (!read_uint (u, 8, &v, error))
        return FALSE;
      if (v > u->len - u->pos)
        return fail (u, error, NPV_ERROR_FORMAT, "a frame of %" G_GUINT64_FORMAT " bytes has only %"
                     G_GSIZE_FORMAT " left", v, u->len - u->pos);
      return TRUE;
    case '.':   /* STOP */
      if (!pop (u, result, error))
        return FALSE;
      return TRUE;

    /* Numbers */
    case 'I':
    case 'L':
    case 'F':
    case 'S':
    case 'V':
    case 'g':
    case 'p':
    case 'c':
    case 'P':
      return op_text (u, error);
    case 'J':   /* BININT */
      return read_uint (u, 4, &v, error) &&
             push_new (u, new_int (u, (gint32) (guint32) v, error), error);
    case 'K':   /* BININT1 */
      return read_uint (u, 1, &v, error) && push_new (u, new_int (u, (gint64) v, error), error);
    case 'M':   /* BININT2 */
      return read_uint (u, 2, &v, error) && push_new (u, new_int (u, (gint64) v, error), error);
    case 0x8a:  /* LONG1 */
      return read_counted (u, 1, FALSE, &data, &len, error) &&
             push_new (u, new_int_from_le (u, data, len, error), error);
    case 0x8b:  /* LONG4 */
      return read_counted (u, 4, TRUE, &data, &len, error) &&
             push_new (u, new_int_from_le (u, data, len, error), error);
    case 'G':   /* BINFLOAT: big-endian IEEE double */
      {
        union { guint64 u64; double f; } bits;

        if (!read_uint (u, 8, &v, error))
          return FALSE;
        bits.u64 = GUINT64_SWAP_LE_BE (v);
        a = new_obj (u, NPV_PY_FLOAT, error);
        if (a != NULL)
          a->f = bits.f;
        return push_new (u, a, error);
      }
    case 'N':
      return push (u, _npv_py_tree_get_none (u->tree), error);
    case 0x88:  /* NEWTRUE */
    case 0x89:  /* NEWFALSE */
      return push (u, _npv_py_tree_get_bool (u->tree, u->op == 0x88), error);

    /* Strings */
    case 'T':   /* BINSTRING */
      return read_counted (u, 4, TRUE, &data, &len, error) &&
             push_new (u, new_py2_str (u, data, len, error), error);
    case 'U':   /* SHORT_BINSTRING */
      return read_counted (u, 1, FALSE, &data, &len, error) &&
             push_new (u, new_py2_str (u, data, len, error), error);
    case 'B':   /* BINBYTES */
    case 'C':   /* SHORT_BINBYTES */
    case 0x8e:  /* BINBYTES8 */
    case 0x96:  /* BYTEARRAY8 */
      return read_counted (u, u->op == 'B' ? 4 : u->op == 'C' ? 1 : 8, FALSE, &data, &len, error) &&
             push_new (u, new_bytes (u, u->op == 0x96 ? NPV_PY_BYTEARRAY : NPV_PY_BYTES,
                                     data, len, error), error);
    case 0x8c:  /* SHORT_BINUNICODE */
    case 'X':   /* BINUNICODE */
    case 0x8d:  /* BINUNICODE8 */
      return read_counted (u, u->op == 0x8c ? 1 : u->op == 'X' ? 4 : 8, FALSE, &data, &len, error) &&
             push_new (u, new_str_from_utf8 (u, data, len, error), error);
    case 0x97:  /* NEXT_BUFFER */
    case 0x98:  /* READONLY_BUFFER */
      return fail (u, error, NPV_ERROR_UNSUPPORTED,
                   "out-of-band buffers are not part of the file; this pickle cannot be read alone");

    /* Containers */
    case ']':
      return push_new (u, new_obj (u, NPV_PY_LIST, error), error);
    case ')':
      return push_new (u, new_obj (u, NPV_PY_TUPLE, error), error);
    case '}':
      return push_new (u, new_obj (u, NPV_PY_DICT, error), error);
    case 0x8f:  /* EMPTY_SET */
      return push_new (u, new_obj (u, NPV_PY_SET, error), error);
    case 0x85:  /* TUPLE1 */
    case 0x86:  /* TUPLE2 */
    case 0x87:  /* TUPLE3 */
      {
        gsize n = u->op - 0x84;

        if (u->stack_len < mark_base (u) + n)
          return fail (u, error, NPV_ERROR_FORMAT, "the stack has too few items");
        return push_new (u, seq_from_stack (u, NPV_PY_TUPLE, u->stack_len - n, error), error);
      }
    case 'a':   /* APPEND */
      return pop (u, &a, error) && peek (u, 0, &b, error) && add_items (u, b, &a, 1, error);
    case 's':   /* SETITEM */
      {
        NpvPyObject *pair[2];

        return pop (u, &pair[1], error) && pop (u, &pair[0], error) && peek (u, 0, &b, error) &&
               set_items (u, b, pair, 2, error);
      }
    case '(':   /* MARK */
      return push_mark (u, error);
    case 't':
    case 'l':
    case 'd':
    case 0x91:  /* FROZENSET */
    case 'e':   /* APPENDS */
    case 'u':   /* SETITEMS */
    case 0x90:  /* ADDITEMS */
    case '1':   /* POP_MARK */
    case 'o':   /* OBJ */
    case 'i':   /* INST */
      return op_marked (u, error);

    /* Stack and memo */
    case '0':   /* POP: the top item, or the MARK when there is none above it */
      if (u->stack_len > mark_base (u))
        return pop (u, &a, error);
      if (u->n_marks > 0)
        {
          u->n_marks--;
          return TRUE;
        }
      return fail (u, error, NPV_ERROR_FORMAT, "the stack is empty");
    case '2':   /* DUP */
      return peek (u, 0, &a, error) && push (u, a, error);
    case 'h':   /* BINGET */
      return read_uint (u, 1, &v, error) && op_memo_get (u, v, error);
    case 'j':   /* LONG_BINGET */
      return read_uint (u, 4, &v, error) && op_memo_get (u, v, error);
    case 'q':   /* BINPUT */
      return read_uint (u, 1, &v, error) && op_memo_put (u, v, error);
    case 'r':   /* LONG_BINPUT */
      return read_uint (u, 4, &v, error) && op_memo_put (u, v, error);
    case 0x94:  /* MEMOIZE */
      return op_memo_put (u, u->memo.len, error);

    /* Globals and calls: described, never imported or called */
    case 0x93:  /* STACK_GLOBAL */
      if (!pop (u, &b, error) || !pop (u, &a, error))
        return FALSE;
      if (a->kind != NPV_PY_STR || b->kind != NPV_PY_STR)
        return fail (u, error, NPV_ERROR_FORMAT, "STACK_GLOBAL needs two str");
      return push_new (u, new_global (u, a->str.text, a->str.len, b->str.text, b->str.len, error),
                       error);
    case 'R':   /* REDUCE */
    case 0x81:  /* NEWOBJ */
    case 0x92:  /* NEWOBJ_EX */
      return op_call (u, error);
    case 'b':   /* BUILD */
      return pop (u, &b, error) && peek (u, 0, &a, error) && build (u, a, b, error);
    case 0x82:  /* EXT1 */
    case 0x83:  /* EXT2 */
    case 0x84:  /* EXT4 */
      {
        NpvPyObject *code, *args;

        if (!read_uint (u, u->op == 0x82 ? 1 : u->op == 0x83 ? 2 : 4, &v, error))
          return FALSE;
        if (v == 0)
          return fail (u, error, NPV_ERROR_FORMAT, "extension code 0 is not valid");
        code = new_int (u, (gint64) v, error);
        args = code != NULL ? new_tuple (u, &code, 1, error) : NULL;
        return args != NULL &&
               push_new (u, new_opaque (u, NPV_PY_CALL_EXTENSION, NULL, args, NULL, error), error);
      }
    case 'Q':   /* BINPERSID */
      return fail (u, error, NPV_ERROR_UNSUPPORTED,
                   "persistent ids need the program that wrote the pickle");

    default:
      return fail (u, error, NPV_ERROR_FORMAT, "this is not a pickle opcode");
    }
}

static NpvPyObject *
load (const guint8            *data,
      gsize                    len,
      GBytes                  *keep,
      const NpvPickleOptions  *options,
      gsize                   *consumed,
      GError                 **error)
{
  NpvPickleOptions defaults = { NPV_PY_ENCODING_BYTES, 0, 0, 0 };
  Unpickler u = { 0, };
  NpvPyObject *result = NULL;
  GError *local = NULL;
  gsize max_memory, max_objects;

  if (options == NULL)
    options = &defaults;
  max_memory = options->max_memory;
  if (max_memory == 0)
    max_memory = len > (G_MAXSIZE - NPV_PICKLE_DEFAULT_MEMORY_BASE) / NPV_PICKLE_DEFAULT_MEMORY_FACTOR
                 ? G_MAXSIZE
                 : len * NPV_PICKLE_DEFAULT_MEMORY_FACTOR + NPV_PICKLE_DEFAULT_MEMORY_BASE;
  max_objects = options->max_objects;
  if (max_objects == 0)
    max_objects = len > (G_MAXSIZE - NPV_PICKLE_DEFAULT_OBJECTS_BASE) / NPV_PICKLE_DEFAULT_OBJECTS_FACTOR
                  ? G_MAXSIZE
                  : len * NPV_PICKLE_DEFAULT_OBJECTS_FACTOR + NPV_PICKLE_DEFAULT_OBJECTS_BASE;

  u.data = data;
  u.len = len;
  u.encoding = options->encoding;
  u.max_depth = options->max_depth != 0 ? options->max_depth : NPV_PICKLE_DEFAULT_MAX_DEPTH;
  u.tree = _npv_py_tree_new (max_memory, max_objects, keep);

  while (result == NULL)
    if (!step (&u, &result, &local))
      break;
  if (result != NULL)
    {
      u.op = '.';
      if (!check_depth (&u, result, &local))
        result = NULL;
    }

  g_free (u.stack);
  g_free (u.marks);
  g_free (u.memo.slots);
  if (result == NULL)
    {
      _npv_py_tree_unref (u.tree);
      g_propagate_error (error, local);
      return NULL;
    }
  /* The loader's reference becomes the caller's. */
  if (consumed != NULL)
    *consumed = u.pos;
  return result;
}

NpvPyObject *
npv_pickle_load (const guint8            *data,
                 gsize                    len,
                 const NpvPickleOptions  *options,
                 gsize                   *consumed,
                 GError                 **error)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return load (data, len, NULL, options, consumed, error);
}

NpvPyObject *
npv_pickle_load_bytes (GBytes                  *bytes,
                       gsize                    offset,
                       const NpvPickleOptions  *options,
                       gsize                   *consumed,
                       GError                 **error)
{
  gsize size;
  const guint8 *data;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (bytes, &size);
  /* Empty bytes may have no data pointer at all. */
  if (data == NULL)
    data = (const guint8 *) "";
  if (offset > size)
    {
      g_set_error (error, NPV_ERROR, NPV_ERROR_FORMAT,
                   "pickle: the offset %" G_GSIZE_FORMAT " is beyond the %" G_GSIZE_FORMAT
                   " bytes of data", offset, size);
      return NULL;
    }
  return load (data + offset, size - offset, bytes, options, consumed, error);
}
