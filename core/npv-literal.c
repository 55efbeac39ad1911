/* npv-literal.c: a bounded parser for the Python literals in .npy headers
 *
 * numpy reads headers with ast.literal_eval, so files in the wild use every
 * spelling Python accepts. This parser accepts that subset of Python syntax
 * which can spell a header, and refuses everything else with the position.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-literal"

#include "npv-literal.h"

#include <string.h>

#include "npv-error.h"
#include "npv-format.h"

/* Far deeper than any real dtype; keeps hostile headers off the C stack. */
#define MAX_DEPTH 64

typedef struct
{
  const char *start;
  const char *pos;
  const char *end;
  NpvLiteralParseFlags flags;
  GError **error;
} Parser;

static NpvLiteral *parse_value (Parser *p,
                                guint   depth);

static NpvLiteral *
literal_new (NpvLiteralKind kind)
{
  NpvLiteral *lit = g_new0 (NpvLiteral, 1);

  lit->kind = kind;
  if (kind == NPV_LITERAL_TUPLE || kind == NPV_LITERAL_LIST || kind == NPV_LITERAL_DICT)
    lit->items = g_ptr_array_new_with_free_func ((GDestroyNotify) npv_literal_free);
  return lit;
}

void
npv_literal_free (NpvLiteral *literal)
{
  if (literal == NULL)
    return;
  g_free (literal->text);
  g_clear_pointer (&literal->items, g_ptr_array_unref);
  g_free (literal);
}

const char *
npv_literal_kind_to_string (NpvLiteralKind kind)
{
  switch (kind)
    {
    case NPV_LITERAL_NONE: return "None";
    case NPV_LITERAL_BOOL: return "bool";
    case NPV_LITERAL_INT: return "int";
    case NPV_LITERAL_FLOAT: return "float";
    case NPV_LITERAL_STR: return "str";
    case NPV_LITERAL_BYTES: return "bytes";
    case NPV_LITERAL_TUPLE: return "tuple";
    case NPV_LITERAL_LIST: return "list";
    case NPV_LITERAL_DICT: return "dict";
    default: return "?";
    }
}

G_GNUC_PRINTF (2, 3)
static void
fail (Parser     *p,
      const char *format,
      ...)
{
  g_autofree char *what = NULL;
  va_list args;

  if (p->error == NULL || *p->error != NULL)
    return;
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (p->error, NPV_ERROR, NPV_ERROR_FORMAT,
               "%s at character %" G_GSIZE_FORMAT, what, (gsize) (p->pos - p->start));
}

static void
skip_space (Parser *p)
{
  while (p->pos < p->end)
    {
      char c = *p->pos;

      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
        p->pos++;
      else if (c == '\\' && p->pos + 1 < p->end && p->pos[1] == '\n')
        p->pos += 2;
      else if (c == '#')
        {
          while (p->pos < p->end && *p->pos != '\n')
            p->pos++;
        }
      else
        break;
    }
}

static gboolean
is_ident_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || (guchar) c >= 0x80;
}

void
npv_append_char_description (GString    *out,
                             const char *p,
                             gsize       avail)
{
  gunichar c = avail > 0 ? g_utf8_get_char_validated (p, avail) : (gunichar) -1;

  if (c == (gunichar) -1 || c == (gunichar) -2)
    g_string_append_printf (out, "byte 0x%02x", avail > 0 ? (guchar) *p : 0);
  else if (g_unichar_isprint (c))
    {
      g_string_append (out, "“");
      g_string_append_unichar (out, c);
      g_string_append (out, "”");
    }
  else
    g_string_append_printf (out, "U+%04X", c);
}

static char *
describe_char (Parser *p)
{
  GString *out = g_string_new (NULL);

  npv_append_char_description (out, p->pos, p->end - p->pos);
  return g_string_free (out, FALSE);
}

static void
append_unichar (GString  *out,
                gunichar  c)
{
  if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    c = 0xFFFD;
  g_string_append_unichar (out, c);
}

static gboolean
read_hex (Parser  *p,
          guint    n_digits,
          guint32 *out)
{
  guint32 value = 0;

  for (guint i = 0; i < n_digits; i++)
    {
      if (p->pos >= p->end || !g_ascii_isxdigit (*p->pos))
        {
          fail (p, "Truncated \\x, \\u or \\U escape in string");
          return FALSE;
        }
      value = value * 16 + g_ascii_xdigit_value (*p->pos);
      p->pos++;
    }
  *out = value;
  return TRUE;
}

/* g_utf8_validate() stops at NUL, which Python strings may hold. */
static gboolean
utf8_valid_with_nuls (const char *text,
                      gsize       len)
{
  const char *p = text, *end = text + len;

  while (p < end)
    {
      const char *bad;

      if (g_utf8_validate_len (p, end - p, &bad))
        return TRUE;
      if (*bad != '\0')
        return FALSE;
      p = bad + 1;
    }
  return TRUE;
}

static NpvLiteral *
parse_string (Parser   *p,
              gboolean  raw,
              gboolean  bytes)
{
  g_autoptr(GString) out = g_string_new (NULL);
  char quote = *p->pos;
  gboolean triple = FALSE;
  NpvLiteral *lit;

  if (p->end - p->pos >= 3 && p->pos[1] == quote && p->pos[2] == quote)
    {
      triple = TRUE;
      p->pos += 3;
    }
  else
    p->pos++;

  for (;;)
    {
      char c;

      if (p->pos >= p->end)
        {
          fail (p, "Unterminated string");
          return NULL;
        }
      c = *p->pos;
      if (c == quote)
        {
          if (!triple)
            {
              p->pos++;
              break;
            }
          if (p->end - p->pos >= 3 && p->pos[1] == quote && p->pos[2] == quote)
            {
              p->pos += 3;
              break;
            }
        }
      if (!triple && (c == '\n' || c == '\r'))
        {
          fail (p, "Line break inside a string");
          return NULL;
        }
      if (c == '\0')
        {
          fail (p, "NUL byte inside a string");
          return NULL;
        }
      if (bytes && (guchar) c >= 0x80)
        {
          fail (p, "Non-ASCII character in a bytes literal");
          return NULL;
        }
      if (c != '\\' || raw)
        {
          if (raw && c == '\\' && p->pos + 1 < p->end)
            {
              /* A raw string still cannot end with an escaped quote. */
              g_string_append_c (out, c);
              p->pos++;
              c = *p->pos;
            }
          g_string_append_c (out, c);
          p->pos++;
          continue;
        }

      /* An escape sequence. */
      p->pos++;
      if (p->pos >= p->end)
        {
          fail (p, "Unterminated string");
          return NULL;
        }
      c = *p->pos++;
      switch (c)
        {
        case '\n': break;
        case '\\': g_string_append_c (out, '\\'); break;
        case '\'': g_string_append_c (out, '\''); break;
        case '"': g_string_append_c (out, '"'); break;
        case 'a': g_string_append_c (out, '\a'); break;
        case 'b': g_string_append_c (out, '\b'); break;
        case 'f': g_string_append_c (out, '\f'); break;
        case 'n': g_string_append_c (out, '\n'); break;
        case 'r': g_string_append_c (out, '\r'); break;
        case 't': g_string_append_c (out, '\t'); break;
        case 'v': g_string_append_c (out, '\v'); break;
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
          {
            guint32 value = c - '0';

            for (guint i = 0; i < 2 && p->pos < p->end && *p->pos >= '0' && *p->pos <= '7'; i++)
              value = value * 8 + (*p->pos++ - '0');
            if (bytes)
              g_string_append_c (out, (char) (value & 0xff));
            else
              append_unichar (out, value);
          }
          break;
        case 'x':
          {
            guint32 value;

            if (!read_hex (p, 2, &value))
              return NULL;
            if (bytes)
              g_string_append_c (out, (char) value);
            else
              append_unichar (out, value);
          }
          break;
        case 'u':
        case 'U':
          {
            guint32 value;

            if (bytes)
              {
                g_string_append_c (out, '\\');
                g_string_append_c (out, c);
                break;
              }
            if (!read_hex (p, c == 'u' ? 4 : 8, &value))
              return NULL;
            if (value > 0x10FFFF)
              {
                fail (p, "Escape \\U%08x is not a Unicode character", value);
                return NULL;
              }
            append_unichar (out, value);
          }
          break;
        default:
          /* Python keeps unknown escapes as they are. */
          g_string_append_c (out, '\\');
          p->pos--;
          break;
        }
    }

  if (!bytes && !utf8_valid_with_nuls (out->str, out->len))
    {
      fail (p, "String is not valid text");
      return NULL;
    }

  lit = literal_new (bytes ? NPV_LITERAL_BYTES : NPV_LITERAL_STR);
  lit->text_len = out->len;
  lit->text = g_string_free (g_steal_pointer (&out), FALSE);
  return lit;
}

/* digit (["_"] digit)*, as Python spells digit runs; returns the end, or
 * @s itself when no digit starts there. */
static const char *
scan_digits (const char *s,
             const char *end,
             guint       base,
             gboolean    leading_underscore)
{
  const char *p = s;
  gboolean any = FALSE;

  while (p < end)
    {
      const char *q = p;

      if (*q == '_' && (any || leading_underscore))
        q++;
      if (q < end && g_ascii_isxdigit (*q) && g_ascii_xdigit_value (*q) < (int) base)
        {
          p = q + 1;
          any = TRUE;
        }
      else
        break;
    }
  return any ? p : s;
}

static NpvLiteral *
parse_number (Parser   *p,
              gboolean  negative)
{
  const char *begin = p->pos;
  const char *end = p->end;
  const char *digits, *digits_end;
  gboolean is_float = FALSE;
  guint base = 10;
  guint64 magnitude = 0;
  gboolean big = FALSE;
  NpvLiteral *lit;

  if (end - begin >= 2 && begin[0] == '0' && strchr ("xXoObB", begin[1]) != NULL)
    {
      char b = g_ascii_tolower (begin[1]);

      base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
      digits = begin + 2;
      digits_end = scan_digits (digits, end, base, TRUE);
      if (digits_end == digits)
        {
          p->pos = digits;
          fail (p, "Malformed number");
          return NULL;
        }
      p->pos = digits_end;
    }
  else
    {
      const char *q;

      digits = begin;
      digits_end = scan_digits (begin, end, 10, FALSE);
      q = digits_end;
      if (q < end && *q == '.')
        {
          const char *frac = scan_digits (q + 1, end, 10, FALSE);

          if (frac == q + 1 && digits_end == begin)
            {
              p->pos = q;
              fail (p, "Malformed number");
              return NULL;
            }
          q = frac;
          is_float = TRUE;
        }
      else if (digits_end == begin)
        {
          fail (p, "Malformed number");
          return NULL;
        }
      if (q < end && (*q == 'e' || *q == 'E'))
        {
          const char *exp = q + 1;
          const char *exp_end;

          if (exp < end && (*exp == '+' || *exp == '-'))
            exp++;
          exp_end = scan_digits (exp, end, 10, FALSE);
          if (exp_end == exp)
            {
              p->pos = exp;
              fail (p, "Malformed exponent");
              return NULL;
            }
          q = exp_end;
          is_float = TRUE;
        }
      if (q < end && (*q == 'j' || *q == 'J'))
        {
          q++;
          is_float = TRUE;
        }
      p->pos = q;

      if (!is_float)
        {
          gboolean nonzero = FALSE;

          for (const char *d = digits; d < digits_end; d++)
            nonzero |= *d != '0' && *d != '_';
          if (digits[0] == '0' && nonzero)
            {
              p->pos = digits;
              fail (p, "Leading zeros are not allowed in decimal integers");
              return NULL;
            }
        }
    }

  if (!is_float && (p->flags & NPV_LITERAL_PARSE_LONG_SUFFIX) && p->pos < p->end &&
      (*p->pos == 'L' || *p->pos == 'l'))
    p->pos++;

  if (p->pos < p->end && (is_ident_char (*p->pos) || *p->pos == '.'))
    {
      g_autofree char *what = describe_char (p);

      fail (p, "Unexpected %s after a number", what);
      return NULL;
    }

  if (is_float)
    {
      lit = literal_new (NPV_LITERAL_FLOAT);
      lit->text = g_strndup (begin, p->pos - begin);
      lit->text_len = p->pos - begin;
      return lit;
    }

  for (const char *d = digits; d < digits_end; d++)
    {
      int digit;

      if (*d == '_')
        continue;
      digit = g_ascii_xdigit_value (*d);
      if (magnitude > (G_MAXUINT64 - digit) / base)
        big = TRUE;
      else
        magnitude = magnitude * base + digit;
    }

  lit = literal_new (NPV_LITERAL_INT);
  if (negative ? magnitude > (guint64) G_MAXINT64 + 1 : magnitude > G_MAXINT64)
    big = TRUE;
  lit->big = big;
  if (!big)
    lit->integer = negative ? (gint64) (0 - magnitude) : (gint64) magnitude;
  else
    lit->integer = negative ? G_MININT64 : G_MAXINT64;
  return lit;
}

static NpvLiteral *
parse_sequence (Parser         *p,
                NpvLiteralKind  kind,
                char            close,
                guint           depth,
                NpvLiteral     *first)
{
  g_autoptr(NpvLiteral) lit = literal_new (kind);
  gboolean expect_value = TRUE;
  gboolean saw_comma = FALSE;

  if (first != NULL)
    {
      g_ptr_array_add (lit->items, first);
      expect_value = FALSE;
    }

  for (;;)
    {
      skip_space (p);
      if (p->pos >= p->end)
        {
          fail (p, "Missing “%c”", close);
          return NULL;
        }
      if (*p->pos == close)
        {
          p->pos++;
          break;
        }
      if (!expect_value)
        {
          if (*p->pos != ',')
            {
              g_autofree char *what = describe_char (p);

              fail (p, "Expected “,” or “%c”, found %s", close, what);
              return NULL;
            }
          p->pos++;
          saw_comma = TRUE;
          expect_value = TRUE;
          continue;
        }

      {
        NpvLiteral *key = parse_value (p, depth + 1);

        if (key == NULL)
          return NULL;
        g_ptr_array_add (lit->items, key);
      }

      if (kind == NPV_LITERAL_DICT)
        {
          NpvLiteral *value;

          skip_space (p);
          if (p->pos >= p->end || *p->pos != ':')
            {
              fail (p, "Expected “:” after a dictionary key");
              return NULL;
            }
          p->pos++;
          value = parse_value (p, depth + 1);
          if (value == NULL)
            return NULL;
          g_ptr_array_add (lit->items, value);
        }
      expect_value = FALSE;
    }

  /* "(x)" is x in parentheses, not a tuple. */
  if (kind == NPV_LITERAL_TUPLE && lit->items->len == 1 && !saw_comma)
    return g_ptr_array_steal_index (lit->items, 0);

  return g_steal_pointer (&lit);
}

static NpvLiteral *
parse_value (Parser *p,
             guint   depth)
{
  char c;

  if (depth > MAX_DEPTH)
    {
      fail (p, "Nested more than %d levels deep", MAX_DEPTH);
      return NULL;
    }

  skip_space (p);
  if (p->pos >= p->end)
    {
      fail (p, "Unexpected end of text");
      return NULL;
    }

  c = *p->pos;
  switch (c)
    {
    case '{':
      p->pos++;
      return parse_sequence (p, NPV_LITERAL_DICT, '}', depth, NULL);
    case '[':
      p->pos++;
      return parse_sequence (p, NPV_LITERAL_LIST, ']', depth, NULL);
    case '(':
      p->pos++;
      return parse_sequence (p, NPV_LITERAL_TUPLE, ')', depth, NULL);
    case '\'':
    case '"':
      return parse_string (p, FALSE, FALSE);
    case '-':
    case '+':
      {
        NpvLiteral *lit;

        p->pos++;
        skip_space (p);
        if (p->pos >= p->end || !(g_ascii_isdigit (*p->pos) || *p->pos == '.'))
          {
            fail (p, "Expected a number after “%c”", c);
            return NULL;
          }
        lit = parse_number (p, c == '-');
        if (lit != NULL && lit->kind == NPV_LITERAL_FLOAT && c == '-')
          {
            char *text = g_strconcat ("-", lit->text, NULL);

            g_free (lit->text);
            lit->text = text;
            lit->text_len++;
          }
        return lit;
      }
    default:
      break;
    }

  if (g_ascii_isdigit (c) || c == '.')
    return parse_number (p, FALSE);

  if (is_ident_char (c))
    {
      const char *begin = p->pos;
      gsize len;

      while (p->pos < p->end && is_ident_char (*p->pos))
        p->pos++;
      len = p->pos - begin;

      /* String prefixes: u, r, b and their combinations. */
      if (p->pos < p->end && (*p->pos == '\'' || *p->pos == '"') && len <= 2)
        {
          gboolean raw = FALSE, bytes = FALSE, ok = TRUE;

          for (gsize i = 0; i < len; i++)
            {
              char pc = g_ascii_tolower (begin[i]);

              if (pc == 'r')
                raw = TRUE;
              else if (pc == 'b')
                bytes = TRUE;
              else if (pc != 'u' || len != 1)
                ok = FALSE;
            }
          if (ok)
            return parse_string (p, raw, bytes);
        }

      if (len == 4 && memcmp (begin, "None", 4) == 0)
        return literal_new (NPV_LITERAL_NONE);
      if ((len == 4 && memcmp (begin, "True", 4) == 0) ||
          (len == 5 && memcmp (begin, "False", 5) == 0))
        {
          NpvLiteral *lit = literal_new (NPV_LITERAL_BOOL);

          lit->integer = len == 4;
          return lit;
        }

      p->pos = begin;
      {
        /* Cut long names at a character boundary. */
        const char *cut = begin + MIN (len, 40);

        while (cut > begin && cut < begin + len && ((guchar) *cut & 0xc0) == 0x80)
          cut--;
        fail (p, "Unexpected name “%.*s%s” (only literals are allowed)",
              (int) (cut - begin), begin, cut < begin + len ? "…" : "");
      }
      return NULL;
    }

  {
    g_autofree char *what = describe_char (p);

    fail (p, "Unexpected %s", what);
  }
  return NULL;
}

NpvLiteral *
npv_literal_parse (const char            *text,
                   gsize                  len,
                   NpvLiteralParseFlags   flags,
                   GError               **error)
{
  Parser p = { text, text, text + len, flags, error };
  g_autoptr(NpvLiteral) lit = NULL;
  g_autoptr(GError) local_error = NULL;

  if (error == NULL)
    p.error = &local_error;

  if (!utf8_valid_with_nuls (text, len))
    {
      g_set_error (p.error, NPV_ERROR, NPV_ERROR_FORMAT, "The text is not valid UTF-8");
      return NULL;
    }

  lit = parse_value (&p, 0);
  if (lit == NULL)
    return NULL;

  skip_space (&p);
  if (p.pos < p.end)
    {
      if (*p.pos == '\0')
        fail (&p, "NUL byte after the literal");
      else
        fail (&p, "Unexpected text after the literal");
      return NULL;
    }

  return g_steal_pointer (&lit);
}

const NpvLiteral *
npv_literal_dict_lookup (const NpvLiteral *dict,
                         const char       *key)
{
  g_return_val_if_fail (dict->kind == NPV_LITERAL_DICT, NULL);

  for (guint i = 0; i + 1 < dict->items->len; i += 2)
    {
      const NpvLiteral *k = g_ptr_array_index (dict->items, i);

      if (k->kind == NPV_LITERAL_STR && strcmp (k->text, key) == 0)
        return g_ptr_array_index (dict->items, i + 1);
    }
  return NULL;
}

static gboolean
is_printable (gunichar c)
{
  if (c == ' ')
    return TRUE;
  switch (g_unichar_type (c))
    {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:
    case G_UNICODE_SURROGATE:
    case G_UNICODE_PRIVATE_USE:
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
    case G_UNICODE_SPACE_SEPARATOR:
      return FALSE;
    default:
      return TRUE;
    }
}

void
npv_append_python_str_repr (GString    *out,
                            const char *utf8,
                            gsize       len)
{
  gboolean has_single = memchr (utf8, '\'', len) != NULL;
  gboolean has_double = memchr (utf8, '"', len) != NULL;
  char quote = has_single && !has_double ? '"' : '\'';
  const char *p = utf8;
  const char *end = utf8 + len;

  g_string_append_c (out, quote);
  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guchar) *p);
          p++;
          continue;
        }
      p = g_utf8_next_char (p);

      if (c == (gunichar) quote || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else if (c < 0x80 || is_printable (c))
        g_string_append_unichar (out, c);
      else if (c < 0x100)
        g_string_append_printf (out, "\\x%02x", c);
      else if (c < 0x10000)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_printf (out, "\\U%08x", c);
    }
  g_string_append_c (out, quote);
}

void
npv_literal_append_repr (const NpvLiteral *literal,
                         GString          *out)
{
  switch (literal->kind)
    {
    case NPV_LITERAL_NONE:
      g_string_append (out, "None");
      break;
    case NPV_LITERAL_BOOL:
      g_string_append (out, literal->integer ? "True" : "False");
      break;
    case NPV_LITERAL_INT:
      if (literal->big)
        g_string_append (out, literal->integer < 0 ? "-<big>" : "<big>");
      else
        g_string_append_printf (out, "%" G_GINT64_FORMAT, literal->integer);
      break;
    case NPV_LITERAL_FLOAT:
      g_string_append (out, literal->text);
      break;
    case NPV_LITERAL_STR:
      npv_append_python_str_repr (out, literal->text, literal->text_len);
      break;
    case NPV_LITERAL_BYTES:
      npv_format_bytes (out, (const guint8 *) literal->text, literal->text_len, FALSE, FALSE);
      break;
    case NPV_LITERAL_TUPLE:
    case NPV_LITERAL_LIST:
    case NPV_LITERAL_DICT:
      {
        gboolean dict = literal->kind == NPV_LITERAL_DICT;

        g_string_append_c (out, literal->kind == NPV_LITERAL_LIST ? '[' : dict ? '{' : '(');
        for (guint i = 0; i < literal->items->len; i++)
          {
            if (i > 0)
              g_string_append (out, dict && i % 2 == 1 ? ": " : ", ");
            npv_literal_append_repr (g_ptr_array_index (literal->items, i), out);
          }
        if (literal->kind == NPV_LITERAL_TUPLE && literal->items->len == 1)
          g_string_append_c (out, ',');
        g_string_append_c (out, literal->kind == NPV_LITERAL_LIST ? ']' : dict ? '}' : ')');
      }
      break;
    default:
      g_assert_not_reached ();
    }
}
