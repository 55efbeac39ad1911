/* npv-literal.h: the Python literals an .npy header is written in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  NPV_LITERAL_NONE,
  NPV_LITERAL_BOOL,
  NPV_LITERAL_INT,
  NPV_LITERAL_FLOAT,
  NPV_LITERAL_STR,
  NPV_LITERAL_BYTES,
  NPV_LITERAL_TUPLE,
  NPV_LITERAL_LIST,
  NPV_LITERAL_DICT,
} NpvLiteralKind;

typedef struct _NpvLiteral NpvLiteral;

struct _NpvLiteral
{
  NpvLiteralKind kind;
  /* BOOL and INT: the value; INT sets big when it does not fit in gint64. */
  gint64 integer;
  gboolean big;
  /* STR (UTF-8) and BYTES: the decoded contents, NUL-terminated. */
  char *text;
  gsize text_len;
  /* TUPLE, LIST: the items; DICT: keys and values alternating. */
  GPtrArray *items;
};

/* Flags for npv_literal_parse(). */
typedef enum {
  NPV_LITERAL_PARSE_DEFAULT = 0,
  /* Accept Python 2 long suffixes (2L), as numpy does for 1.0/2.0 headers. */
  NPV_LITERAL_PARSE_LONG_SUFFIX = 1 << 0,
} NpvLiteralParseFlags;

/* Parses the one literal in @text (UTF-8, @len bytes): None, True, False,
 * integers, floats, strings, bytes, tuples, lists and dicts, with
 * whitespace anywhere literal_eval allows it. Anything after the literal
 * other than whitespace is an error. Nesting is bounded. The error message
 * says what was found where. Returns a new literal or %NULL. */
NpvLiteral *npv_literal_parse (const char            *text,
                               gsize                  len,
                               NpvLiteralParseFlags   flags,
                               GError               **error);

void        npv_literal_free  (NpvLiteral *literal);

/* Python's repr() of the literal, for messages and for writing headers. */
void        npv_literal_append_repr (const NpvLiteral *literal,
                                     GString          *out);

/* Python's repr() of a str: quotes chosen as Python does, escapes for
 * non-printable characters, printable non-ASCII kept. */
void        npv_append_python_str_repr (GString    *out,
                                        const char *utf8,
                                        gsize       len);

/* Describes the character at @p (at most @avail bytes) for a message:
 * “é” for a printable character, “\x00” style for anything else, so that
 * messages stay valid UTF-8 whatever the input. */
void        npv_append_char_description (GString    *out,
                                         const char *p,
                                         gsize       avail);

/* For DICT: the value for a str key, or %NULL. */
const NpvLiteral *npv_literal_dict_lookup (const NpvLiteral *dict,
                                           const char       *key);

const char *npv_literal_kind_to_string (NpvLiteralKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpvLiteral, npv_literal_free)

G_END_DECLS
