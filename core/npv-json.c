/* npv-json.c: the little JSON the core and the CLI write
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-json"

#include "npv-json.h"

#include <math.h>

#include "npv-format.h"

void
npv_json_append_string (GString    *out,
                        const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  g_string_append_c (out, '"');
  for (const char *p = valid; *p; p++)
    {
      guchar c = *p;

      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (c < 0x20 || c == 0x7f)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, c);
          break;
        }
    }
  g_string_append_c (out, '"');
}

void
npv_json_append_double (GString *out,
                        double   value)
{
  char buf[NPV_FORMAT_NUMBER_MAX];

  if (isnan (value))
    g_string_append (out, "null");
  else if (isinf (value))
    g_string_append (out, value > 0 ? "1e999" : "-1e999");
  else
    {
      npv_format_double (value, buf);
      g_string_append (out, buf);
    }
}
