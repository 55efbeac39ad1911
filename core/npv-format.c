/* npv-format.c: the text of one scalar value, the way numpy prints it
 *
 * Everything here reproduces what numpy 1.24 prints for repr() or str() of a
 * scalar, down to its quirks, because a user compares what the viewer shows
 * with what numpy shows.
 *
 * Floating point numbers: numpy prints the shortest digits that round-trip
 * (Dragon4 in "unique" mode): of the decimals with the fewest digits that read
 * back as the value, the nearest one. Whether some p-digit decimal
 * round-trips only gets more likely as p grows, so we binary search for p,
 * testing at each p the value correctly rounded to p digits (and at powers of
 * two its other neighbour, because there the interval of numbers that round
 * to the value is lopsided). Both the rounding and the test need exact
 * arithmetic: 128-bit integers where they suffice, which covers the
 * magnitudes data usually has, otherwise printf (which rounds correctly) and
 * strtod, strtof or strtold (which parse correctly).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "npv-format"

#include "npv-format.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {{{ Floating point */

typedef enum
{
  FLOAT_KIND_HALF,
  FLOAT_KIND_FLOAT,
  FLOAT_KIND_DOUBLE,
  FLOAT_KIND_LONG_DOUBLE,
} FloatKind;

typedef struct
{
  int max_digits;    /* always enough to round-trip: C11's *_DECIMAL_DIG */
  int precision;     /* bits in the significand */
  int min_exponent;  /* the smallest normal number is 2^min_exponent */
} FloatFormat;

static const FloatFormat float_formats[] = {
  [FLOAT_KIND_HALF] = { 5, 11, -14 },
  [FLOAT_KIND_FLOAT] = { FLT_DECIMAL_DIG, FLT_MANT_DIG, FLT_MIN_EXP - 1 },
  [FLOAT_KIND_DOUBLE] = { DBL_DECIMAL_DIG, DBL_MANT_DIG, DBL_MIN_EXP - 1 },
  [FLOAT_KIND_LONG_DOUBLE] = { LDBL_DECIMAL_DIG, LDBL_MANT_DIG, LDBL_MIN_EXP - 1 },
};

/* How many correctly rounded digits we get beyond max_digits. Rounding those
 * again to fewer digits gives the same as rounding the exact value, unless
 * the dropped digits read exactly "50…"; then we need to know on which side
 * of that the exact value lies. */
#define EXTRA_DIGITS 2

#define MAX_SIG_DIGITS (LDBL_DECIMAL_DIG + EXTRA_DIGITS)

/* A positive decimal d₁.d₂d₃…×10^exponent. */
typedef struct
{
  char digits[MAX_SIG_DIGITS + 2];
  int n_digits;
  int exponent;
} Decimal;

/* The sign of (value - exact) is not known: printf made the digits. */
#define RESIDUAL_UNKNOWN 2

typedef struct
{
  FloatKind kind;
  const FloatFormat *format;
  long double value;     /* positive and finite; exact for every kind */
  guint16 half_bits;     /* the value, for FLOAT_KIND_HALF */
  guint64 significand;   /* value = significand × 2^exponent, exactly */
  int exponent;
  gboolean lopsided;     /* a power of two: the gap below is half the one above */
  Decimal exact;         /* the value rounded to max_digits + EXTRA_DIGITS */
  int exact_residual;    /* sign of (value - exact), or RESIDUAL_UNKNOWN */
} Shortest;

double
npv_half_to_double (guint16 bits)
{
  int exponent = (bits >> 10) & 0x1f;
  int fraction = bits & 0x3ff;
  double magnitude;

  if (exponent == 0x1f)
    magnitude = fraction == 0 ? INFINITY : NAN;
  else if (exponent == 0)
    magnitude = ldexp (fraction, -24);
  else
    magnitude = ldexp (fraction | 0x400, exponent - 25);

  return (bits & 0x8000) ? -magnitude : magnitude;
}

/* Rounds a non-negative double to half precision, ties to even. */
static guint16
double_to_half_bits (double value)
{
  int exponent;
  double mantissa;

  if (isnan (value))
    return 0x7e00;
  /* 65520 is halfway between the largest half (65504) and 65536; the tie goes
   * to the even neighbour, which is infinity. */
  if (value >= 65520.0)
    return 0x7c00;

  if (value < 0x1p-14)
    {
      /* Subnormal: the value in units of 2^-24, rounded. 1024 units is the
       * smallest normal, whose bits are 0x0400 as well. */
      return (guint16) nearbyint (value * 0x1p24);
    }

  mantissa = nearbyint (ldexp (frexp (value, &exponent), 11));
  if (mantissa == 2048.0)
    {
      mantissa = 1024.0;
      exponent++;
    }
  /* value = mantissa × 2^(exponent - 11), and the biased half exponent of a
   * value in [2^k, 2^(k+1)) is k + 15. */
  return (guint16) (((exponent - 1 + 15) << 10) | ((int) mantissa - 0x400));
}

/* Reads the digits and exponent of printf's "%e" output. The radix character
 * depends on the locale, so anything that isn't a digit before the 'e' is
 * skipped rather than expected to be '.'. */
static void
decimal_parse_printf (Decimal    *d,
                      const char *text)
{
  const char *p;

  d->n_digits = 0;
  for (p = text; *p != '\0' && *p != 'e'; p++)
    {
      if (*p >= '0' && *p <= '9' && d->n_digits < (int) sizeof d->digits - 1)
        d->digits[d->n_digits++] = *p;
    }
  d->digits[d->n_digits] = '\0';
  d->exponent = *p == 'e' ? (int) strtol (p + 1, NULL, 10) : 0;
}

static void
decimal_from_printf (Decimal     *d,
                     FloatKind    kind,
                     long double  value,
                     int          n_digits)
{
  char text[MAX_SIG_DIGITS + 32];

  /* Every kind but long double is exact as a double, and printf is faster
   * with those. */
  if (kind == FLOAT_KIND_LONG_DOUBLE)
    snprintf (text, sizeof text, "%.*Le", n_digits - 1, value);
  else
    snprintf (text, sizeof text, "%.*e", n_digits - 1, (double) value);
  decimal_parse_printf (d, text);
}

/* Adds one unit in the last place. */
static void
decimal_increment (Decimal *d)
{
  int i;

  for (i = d->n_digits - 1; i >= 0; i--)
    {
      if (d->digits[i] != '9')
        {
          d->digits[i]++;
          return;
        }
      d->digits[i] = '0';
    }

  /* 99…9 became 100…0: one more digit before the point. */
  d->digits[0] = '1';
  d->exponent++;
}

/* Subtracts one unit in the last place, keeping n_digits significant digits:
 * 1.00×10^e becomes 9.99×10^(e-1), the next lower decimal of that length. */
static void
decimal_decrement (Decimal *d)
{
  int i;

  for (i = d->n_digits - 1; i >= 0; i--)
    {
      if (d->digits[i] != '0')
        {
          d->digits[i]--;
          break;
        }
      d->digits[i] = '9';
    }

  if (d->digits[0] == '0')
    {
      memmove (d->digits, d->digits + 1, d->n_digits - 1);
      d->digits[d->n_digits - 1] = '9';
      d->exponent--;
    }
}

#ifdef __SIZEOF_INT128__
/* {{{ Exact arithmetic in 128 bits
 *
 * printf and strtod do their exact work in bignums, which costs about a
 * microsecond a number. For the magnitudes data usually has, 128-bit integers
 * are enough to do the same exactly: the value is significand × 2^exponent,
 * a decimal is D × 10^j = D × 5^j × 2^j, and with powers of 5 up to 5^27
 * everything fits. Whatever doesn't fit goes the slow way. Not used for long
 * double, whose 64-bit significand leaves too little room. */

typedef unsigned __int128 u128;

#define MAX_POWER_OF_5 27

static const guint64 powers_of_5[MAX_POWER_OF_5 + 1] = {
  G_GUINT64_CONSTANT (1), G_GUINT64_CONSTANT (5), G_GUINT64_CONSTANT (25),
  G_GUINT64_CONSTANT (125), G_GUINT64_CONSTANT (625), G_GUINT64_CONSTANT (3125),
  G_GUINT64_CONSTANT (15625), G_GUINT64_CONSTANT (78125), G_GUINT64_CONSTANT (390625),
  G_GUINT64_CONSTANT (1953125), G_GUINT64_CONSTANT (9765625),
  G_GUINT64_CONSTANT (48828125), G_GUINT64_CONSTANT (244140625),
  G_GUINT64_CONSTANT (1220703125), G_GUINT64_CONSTANT (6103515625),
  G_GUINT64_CONSTANT (30517578125), G_GUINT64_CONSTANT (152587890625),
  G_GUINT64_CONSTANT (762939453125), G_GUINT64_CONSTANT (3814697265625),
  G_GUINT64_CONSTANT (19073486328125), G_GUINT64_CONSTANT (95367431640625),
  G_GUINT64_CONSTANT (476837158203125), G_GUINT64_CONSTANT (2384185791015625),
  G_GUINT64_CONSTANT (11920928955078125), G_GUINT64_CONSTANT (59604644775390625),
  G_GUINT64_CONSTANT (298023223876953125), G_GUINT64_CONSTANT (1490116119384765625),
  G_GUINT64_CONSTANT (7450580596923828125),
};

/* 10^0 … 10^19, the largest that fits. */
static const guint64 powers_of_10[20] = {
  G_GUINT64_CONSTANT (1), G_GUINT64_CONSTANT (10), G_GUINT64_CONSTANT (100),
  G_GUINT64_CONSTANT (1000), G_GUINT64_CONSTANT (10000), G_GUINT64_CONSTANT (100000),
  G_GUINT64_CONSTANT (1000000), G_GUINT64_CONSTANT (10000000),
  G_GUINT64_CONSTANT (100000000), G_GUINT64_CONSTANT (1000000000),
  G_GUINT64_CONSTANT (10000000000), G_GUINT64_CONSTANT (100000000000),
  G_GUINT64_CONSTANT (1000000000000), G_GUINT64_CONSTANT (10000000000000),
  G_GUINT64_CONSTANT (100000000000000), G_GUINT64_CONSTANT (1000000000000000),
  G_GUINT64_CONSTANT (10000000000000000), G_GUINT64_CONSTANT (100000000000000000),
  G_GUINT64_CONSTANT (1000000000000000000), G_GUINT64_CONSTANT (10000000000000000000),
};

static int
bit_length (u128 v)
{
  guint64 high = (guint64) (v >> 64);
  guint64 low = (guint64) v;

  if (high != 0)
    return 128 - __builtin_clzll (high);
  return low != 0 ? 64 - __builtin_clzll (low) : 0;
}

/* How a remainder compares with half the divisor. */
typedef enum
{
  REMAINDER_ZERO,
  REMAINDER_BELOW_HALF,
  REMAINDER_HALF,
  REMAINDER_ABOVE_HALF,
} Remainder;

static Remainder
classify_remainder (u128 remainder,
                    u128 divisor)
{
  if (remainder == 0)
    return REMAINDER_ZERO;
  if (remainder < divisor - remainder)
    return REMAINDER_BELOW_HALF;
  return remainder == divisor - remainder ? REMAINDER_HALF : REMAINDER_ABOVE_HALF;
}

/* floor (value × 10^scale), and how much was cut off. */
static gboolean
scale_exact (const Shortest *s,
             int             scale,
             u128           *quotient,
             Remainder      *remainder)
{
  guint64 significand = s->significand;
  int exponent = s->exponent;

  if (scale >= 0)
    {
      u128 n;
      int shift = exponent + scale;

      if (scale > MAX_POWER_OF_5)
        return FALSE;
      /* value × 10^scale = significand × 5^scale × 2^(exponent + scale) */
      n = (u128) significand * powers_of_5[scale];
      if (shift >= 0)
        {
          if (bit_length (n) + shift > 127)
            return FALSE;
          *quotient = n << shift;
          *remainder = REMAINDER_ZERO;
        }
      else
        {
          if (-shift > 127)
            return FALSE;
          *quotient = n >> -shift;
          *remainder = classify_remainder (n & (((u128) 1 << -shift) - 1), (u128) 1 << -shift);
        }
    }
  else
    {
      /* value / 10^t = significand × 2^exponent / (5^t × 2^t) */
      int t = -scale;
      u128 numerator, divisor;

      if (t > MAX_POWER_OF_5)
        return FALSE;
      if (exponent >= t)
        {
          if (bit_length (significand) + exponent - t > 127)
            return FALSE;
          numerator = (u128) significand << (exponent - t);
          divisor = powers_of_5[t];
        }
      else
        {
          if (bit_length (powers_of_5[t]) + t - exponent > 126)
            return FALSE;
          numerator = significand;
          divisor = (u128) powers_of_5[t] << (t - exponent);
        }
      *quotient = numerator / divisor;
      *remainder = classify_remainder (numerator % divisor, divisor);
    }

  return TRUE;
}

/* The value correctly rounded to @n_digits (at most 19) digits, and on which
 * side of that the value lies. */
static gboolean
exact_digits_int128 (Shortest *s,
                     int       n_digits)
{
  guint64 lower = powers_of_10[n_digits - 1];
  guint64 upper = powers_of_10[n_digits];
  int binary_log = bit_length (s->significand) - 1 + s->exponent;
  /* floor(log10(value)), or one less */
  int exponent = (int) floor (binary_log * 0.30102999566398119521);
  int attempt, i;

  for (attempt = 0; attempt < 3; attempt++)
    {
      u128 quotient;
      Remainder remainder;
      guint64 digits;

      if (!scale_exact (s, n_digits - 1 - exponent, &quotient, &remainder))
        return FALSE;
      if (quotient < lower)
        {
          exponent--;
          continue;
        }
      if (quotient >= upper)
        {
          exponent++;
          continue;
        }

      digits = (guint64) quotient;
      if (remainder == REMAINDER_ABOVE_HALF || (remainder == REMAINDER_HALF && (digits & 1)))
        {
          digits++;
          s->exact_residual = -1;
        }
      else
        s->exact_residual = remainder == REMAINDER_ZERO ? 0 : 1;
      if (digits == upper)
        {
          digits = lower;
          exponent++;
        }

      for (i = n_digits - 1; i >= 0; i--)
        {
          s->exact.digits[i] = (char) ('0' + digits % 10);
          digits /= 10;
        }
      s->exact.digits[n_digits] = '\0';
      s->exact.n_digits = n_digits;
      s->exact.exponent = exponent;
      return TRUE;
    }

  return FALSE;
}

#define COMPARE_UNKNOWN 2

/* Whether @d lies in the interval of numbers that round to the value (0),
 * above it (1) or below it (-1); COMPARE_UNKNOWN if 128 bits are too few. */
static int
compare_int128 (const Shortest *s,
                const Decimal  *d)
{
  guint64 significand = s->significand;
  int j = d->exponent - (d->n_digits - 1);
  int five_d = MAX (j, 0);   /* powers of 5 on the decimal's side */
  int five_x = MAX (-j, 0);  /* and on the value's, when j < 0 */
  /* Half a gap is 2^(exponent - 1), or 2^(exponent - 2) below a power of
   * two; count everything of the value's in units of 2^(exponent - 2). */
  int unit = s->exponent - 2;
  int low = MIN (j, unit);
  gboolean even = (significand & 1) == 0;
  guint64 decimal = 0;
  u128 c, x, above, below, difference;
  int i;

  if (five_d > MAX_POWER_OF_5 || five_x > MAX_POWER_OF_5)
    return COMPARE_UNKNOWN;
  for (i = 0; i < d->n_digits; i++)
    decimal = decimal * 10 + (guint64) (d->digits[i] - '0');

  /* Both sides × 5^five_x, so that all are integers times powers of two,
   * then in units of 2^low. */
  c = (u128) decimal * powers_of_5[five_d];
  x = ((u128) significand << 2) * powers_of_5[five_x];
  if (bit_length (c) + j - low > 126 || bit_length (x) + unit - low > 126)
    return COMPARE_UNKNOWN;
  c <<= j - low;
  x <<= unit - low;
  above = ((u128) 2 * powers_of_5[five_x]) << (unit - low);
  below = ((u128) (s->lopsided ? 1 : 2) * powers_of_5[five_x]) << (unit - low);

  /* Ties round to the even significand. */
  if (c >= x)
    {
      difference = c - x;
      return difference < above || (difference == above && even) ? 0 : 1;
    }
  difference = x - c;
  return difference < below || (difference == below && even) ? 0 : -1;
}

/* }}} */
#endif

/* Parses @d in the precision of s->kind and compares the result with the
 * value: 0 if @d round-trips, else the sign of (parsed - value). */
static int
shortest_compare (const Shortest *s,
                  const Decimal  *d)
{
  /* Integer digits and an exponent, so that the locale's radix character
   * cannot matter. */
  char text[MAX_SIG_DIGITS + 16];
  long double parsed;

#ifdef __SIZEOF_INT128__
  if (s->kind != FLOAT_KIND_LONG_DOUBLE)
    {
      int cmp = compare_int128 (s, d);

      if (cmp != COMPARE_UNKNOWN)
        return cmp;
    }
#endif

  g_snprintf (text, sizeof text, "%.*se%d", d->n_digits, d->digits,
              d->exponent - (d->n_digits - 1));

  switch (s->kind)
    {
    case FLOAT_KIND_HALF:
      {
        /* A decimal of at most 5 digits is never within double rounding
         * error of a midpoint between two halves unless it is that midpoint
         * exactly, so rounding through double is as good as rounding
         * directly. */
        guint16 bits = double_to_half_bits (strtod (text, NULL));

        if (bits == s->half_bits)
          return 0;
        parsed = npv_half_to_double (bits);
      }
      break;
    case FLOAT_KIND_FLOAT:
      parsed = strtof (text, NULL);
      break;
    case FLOAT_KIND_DOUBLE:
      parsed = strtod (text, NULL);
      break;
    case FLOAT_KIND_LONG_DOUBLE:
    default:
      parsed = strtold (text, NULL);
      break;
    }

  if (parsed == s->value)
    return 0;
  return parsed > s->value ? 1 : -1;
}

/* The value correctly rounded to @n_digits significant digits. */
static void
shortest_round (const Shortest *s,
                int             n_digits,
                Decimal        *out)
{
  const Decimal *exact = &s->exact;
  int i, cmp;

  /* Compare the digits we drop with "500…0". */
  if (exact->digits[n_digits] != '5')
    cmp = exact->digits[n_digits] > '5' ? 1 : -1;
  else
    {
      cmp = 0;
      for (i = n_digits + 1; i < exact->n_digits; i++)
        {
          if (exact->digits[i] != '0')
            {
              cmp = 1;
              break;
            }
        }
    }

  if (cmp == 0)
    {
      if (s->exact_residual == RESIDUAL_UNKNOWN)
        {
          /* The value is at, or within rounding of, a tie: only the exact
           * value can tell which way it goes. */
          decimal_from_printf (out, s->kind, s->value, n_digits);
          return;
        }
      /* An exact tie goes to the even digit, like printf and Dragon4. */
      cmp = s->exact_residual != 0 ? s->exact_residual
                                   : ((exact->digits[n_digits - 1] - '0') & 1 ? 1 : -1);
    }

  memcpy (out->digits, exact->digits, n_digits);
  out->digits[n_digits] = '\0';
  out->n_digits = n_digits;
  out->exponent = exact->exponent;
  if (cmp > 0)
    decimal_increment (out);
}

/* Whether a decimal of @n_digits digits round-trips; if so, stores the one
 * numpy prints in @out. Like Dragon4, the candidates are the value rounded
 * down and up to that many digits, and the nearer one wins if both
 * round-trip. */
static gboolean
shortest_try (const Shortest *s,
              int             n_digits,
              Decimal        *out)
{
  Decimal other;
  int cmp;

  shortest_round (s, n_digits, out);
  cmp = shortest_compare (s, out);
  if (cmp == 0)
    return TRUE;

  /* The correctly rounded candidate is the nearer one, so if it doesn't
   * round-trip, the other can only where the interval that rounds to the
   * value is lopsided: at a power of two the neighbour below is half as far
   * as the one above. */
  if (!s->lopsided)
    return FALSE;

  other = *out;
  if (cmp > 0)
    decimal_decrement (&other);
  else
    decimal_increment (&other);
  if (shortest_compare (s, &other) != 0)
    return FALSE;

  *out = other;
  return TRUE;
}

/* Where the exact digits settle into a run of zeros or nines before the
 * precision of the kind runs out, the value probably needs no more digits
 * than come before the run ("0.1" is 0.1000000000000000055…). A guess is
 * enough: the search below verifies it. */
static int
shortest_guess (const Shortest *s,
                int             max)
{
  const char *digits = s->exact.digits;
  int start;

  for (start = max - 1; start > 1 && digits[start - 1] == digits[max - 1]; start--)
    ;
  if (digits[max - 1] != '0' && digits[max - 1] != '9')
    return max - 1;
  return start;
}

static void
shortest_init (Shortest    *s,
               FloatKind    kind,
               long double  value)
{
  const FloatFormat *format = &float_formats[kind];
  int exponent;

  s->kind = kind;
  s->format = format;
  s->value = value;

  /* Subnormals share the exponent of the smallest normal. */
  frexpl (value, &exponent);
  s->exponent = MAX (exponent - 1, format->min_exponent) - (format->precision - 1);
  s->significand = (guint64) ldexpl (value, -s->exponent);
  s->lopsided = s->significand == G_GUINT64_CONSTANT (1) << (format->precision - 1) &&
                exponent - 1 > format->min_exponent;

  s->exact_residual = RESIDUAL_UNKNOWN;
#ifdef __SIZEOF_INT128__
  if (kind != FLOAT_KIND_LONG_DOUBLE &&
      exact_digits_int128 (s, format->max_digits + EXTRA_DIGITS))
    return;
#endif
  decimal_from_printf (&s->exact, kind, value, format->max_digits + EXTRA_DIGITS);
}

/* The shortest decimal that parses back to @s->value. */
static void
shortest_find (const Shortest *s,
               Decimal        *out)
{
  int max = s->format->max_digits;
  int lo = 1, hi = max;
  int probe;
  gboolean have_best = FALSE;
  gboolean checked_below = FALSE;
  Decimal candidate;

  /* Binary search for the smallest p that round-trips; p = max always does.
   * Check the guess first, and right after the first success whether one
   * digit less also works, which is where most searches end. */
  probe = shortest_guess (s, max);
  while (lo < hi)
    {
      if (probe < lo || probe >= hi)
        probe = lo + (hi - lo) / 2;

      if (shortest_try (s, probe, &candidate))
        {
          hi = probe;
          *out = candidate;
          have_best = TRUE;
          probe = checked_below ? -1 : hi - 1;
          checked_below = TRUE;
        }
      else
        {
          lo = probe + 1;
          probe = -1;
        }
    }

  /* Every value round-trips with max digits (that is what *_DECIMAL_DIG
   * means), so that case needs no parsing. */
  if (!have_best)
    shortest_round (s, max, out);

  /* A carry can leave trailing zeros ("1.000" for 0.99996). */
  while (out->n_digits > 1 && out->digits[out->n_digits - 1] == '0')
    out->n_digits--;
  out->digits[out->n_digits] = '\0';
}

typedef struct
{
  gboolean negative;
  gboolean nan;
  gboolean inf;
  gboolean zero;
  gboolean scientific;
  FloatKind kind;
  long double magnitude;
  guint16 half_bits;
} FloatValue;

/* Writes @v the way numpy's Dragon4 does in unique mode. @trim_point_zero is
 * numpy's TrimMode_DptZeros ("1" rather than "1.0", used for complex parts);
 * @plus_sign prints "+" for non-negative values (imaginary parts). */
static int
format_float_value (FloatValue *v,
                    gboolean    trim_point_zero,
                    gboolean    plus_sign,
                    char       *buf)
{
  Decimal d;
  int pos = 0;
  int i;

  if (v->nan)
    {
      /* numpy never prints a sign for nan. */
      strcpy (buf, plus_sign ? "+nan" : "nan");
      return (int) strlen (buf);
    }

  if (v->negative)
    buf[pos++] = '-';
  else if (plus_sign)
    buf[pos++] = '+';

  if (v->inf)
    {
      strcpy (buf + pos, "inf");
      return pos + 3;
    }

  if (v->zero)
    {
      d.digits[0] = '0';
      d.digits[1] = '\0';
      d.n_digits = 1;
      d.exponent = 0;
    }
  else
    {
      Shortest shortest;

      shortest_init (&shortest, v->kind, v->magnitude);
      shortest.half_bits = v->half_bits;
      shortest_find (&shortest, &d);
    }

  if (v->scientific)
    {
      int exponent = d.exponent;

      buf[pos++] = d.digits[0];
      if (d.n_digits > 1)
        {
          buf[pos++] = '.';
          memcpy (buf + pos, d.digits + 1, d.n_digits - 1);
          pos += d.n_digits - 1;
        }
      buf[pos++] = 'e';
      buf[pos++] = exponent < 0 ? '-' : '+';
      if (exponent < 0)
        exponent = -exponent;
      /* At least two digits; long double goes up to 4951. */
      if (exponent >= 1000)
        buf[pos++] = (char) ('0' + exponent / 1000);
      if (exponent >= 100)
        buf[pos++] = (char) ('0' + exponent / 100 % 10);
      buf[pos++] = (char) ('0' + exponent / 10 % 10);
      buf[pos++] = (char) ('0' + exponent % 10);
      buf[pos] = '\0';
      return pos;
    }

  if (d.exponent >= 0)
    {
      int n_whole = d.exponent + 1;

      for (i = 0; i < n_whole; i++)
        buf[pos++] = i < d.n_digits ? d.digits[i] : '0';
      if (d.n_digits > n_whole)
        {
          buf[pos++] = '.';
          memcpy (buf + pos, d.digits + n_whole, d.n_digits - n_whole);
          pos += d.n_digits - n_whole;
        }
      else if (!trim_point_zero)
        {
          buf[pos++] = '.';
          buf[pos++] = '0';
        }
    }
  else
    {
      buf[pos++] = '0';
      buf[pos++] = '.';
      for (i = 0; i < -d.exponent - 1; i++)
        buf[pos++] = '0';
      memcpy (buf + pos, d.digits, d.n_digits);
      pos += d.n_digits;
    }

  buf[pos] = '\0';
  return pos;
}

/* Sets up everything except the scientific/positional choice, which numpy
 * makes differently per kind. */
static void
float_value_init (FloatValue  *v,
                  FloatKind    kind,
                  long double  value)
{
  memset (v, 0, sizeof *v);
  v->negative = signbit (value) != 0;
  v->nan = isnan (value);
  v->inf = isinf (value);
  v->zero = value == 0;
  v->magnitude = fabsl (value);
  v->kind = kind;
}

#if LDBL_MANT_DIG == 64 && LDBL_MAX_EXP == 16384 && G_BYTE_ORDER == G_LITTLE_ENDIAN
#define NPV_X87_LONG_DOUBLE 1
#endif

/* The x87 format has an explicit integer bit, so some bit patterns mean
 * nothing valid. numpy's Dragon4 reads the bits and ignores that bit,
 * deciding by the exponent alone; do the same before the FPU sees the value.
 * Sets @force_scientific where numpy's choice differs from the rule. */
static long double
canonical_long_double (long double  value,
                       gboolean    *force_scientific)
{
#ifdef NPV_X87_LONG_DOUBLE
  guint8 bytes[sizeof (long double)];
  guint64 mantissa;
  guint16 sign_exponent;
  guint exponent;
  const guint64 integer_bit = G_GUINT64_CONSTANT (1) << 63;

  memcpy (bytes, &value, sizeof value);
  memcpy (&mantissa, bytes, 8);
  memcpy (&sign_exponent, bytes + 8, 2);
  exponent = sign_exponent & 0x7fff;

  if (exponent == 0x7fff)
    {
      /* Pseudo-infinities and pseudo-NaNs print as inf and nan. */
      mantissa = (mantissa & ~integer_bit) == 0 ? integer_bit : integer_bit | 1;
    }
  else if (exponent == 0 && (mantissa & integer_bit))
    {
      /* A pseudo-denormal: numpy prints the mantissa without the integer bit
       * as a denormal, but chose scientific notation by the value the FPU
       * sees, which is tiny and not zero: "0e+00" for 0x8000…0. */
      mantissa &= ~integer_bit;
      *force_scientific = TRUE;
    }
  else if (exponent != 0)
    {
      /* An unnormal prints as if the integer bit were set. (numpy's
       * positional/scientific choice for these is an accident of invalid FPU
       * comparisons; we use the normal rule.) */
      mantissa |= integer_bit;
    }

  memcpy (bytes, &mantissa, 8);
  memcpy (&value, bytes, sizeof value);
#endif
  return value;
}

/* One float, double or long double; @trim_point_zero and @plus_sign are for
 * the parts of complex numbers. */
static int
format_real (FloatKind    kind,
             long double  value,
             gboolean     trim_point_zero,
             gboolean     plus_sign,
             char        *buf)
{
  FloatValue v;
  gboolean force_scientific = FALSE;

  if (kind == FLOAT_KIND_LONG_DOUBLE)
    value = canonical_long_double (value, &force_scientific);

  float_value_init (&v, kind, value);
  /* numpy: positional when 1e-4 <= |x| < 1e16 or x == 0, compared in long
   * double for all three kinds. */
  v.scientific = force_scientific ||
                 (!v.zero && !(v.magnitude < 1e16L && v.magnitude >= 1e-4L));
  return format_float_value (&v, trim_point_zero, plus_sign, buf);
}

int
npv_format_double (double  value,
                   char   *buf)
{
  return format_real (FLOAT_KIND_DOUBLE, value, FALSE, FALSE, buf);
}

int
npv_format_float (float  value,
                  char  *buf)
{
  return format_real (FLOAT_KIND_FLOAT, value, FALSE, FALSE, buf);
}

int
npv_format_long_double (long double  value,
                        char        *buf)
{
  return format_real (FLOAT_KIND_LONG_DOUBLE, value, FALSE, FALSE, buf);
}

int
npv_format_half (guint16  bits,
                 char    *buf)
{
  FloatValue v;
  double value = npv_half_to_double (bits);

  float_value_init (&v, FLOAT_KIND_HALF, value);
  v.half_bits = bits & 0x7fff;
  /* Half precision compares as float against the double 1e-4. */
  v.scientific = !v.zero && !(fabs (value) < 1e16 && fabs (value) >= 1e-4);
  return format_float_value (&v, FALSE, FALSE, buf);
}

/* numpy's complex repr: a real part that is +0 is left out ("1j", but
 * "(-0+1j)"); otherwise "(re±imj)". Finite parts print without a trailing
 * ".0", and the imaginary part always has a sign: "+nan", "+inf", "-inf". */
static int
format_complex (FloatKind    kind,
                long double  re,
                long double  im,
                char        *buf)
{
  int pos = 0;

  if (re == 0 && !signbit (re))
    {
      pos = format_real (kind, im, TRUE, FALSE, buf);
      buf[pos++] = 'j';
      buf[pos] = '\0';
      return pos;
    }

  buf[pos++] = '(';
  pos += format_real (kind, re, TRUE, FALSE, buf + pos);
  pos += format_real (kind, im, TRUE, TRUE, buf + pos);
  buf[pos++] = 'j';
  buf[pos++] = ')';
  buf[pos] = '\0';
  return pos;
}

int
npv_format_complex_double (double  re,
                           double  im,
                           char   *buf)
{
  return format_complex (FLOAT_KIND_DOUBLE, re, im, buf);
}

int
npv_format_complex_float (float  re,
                          float  im,
                          char  *buf)
{
  return format_complex (FLOAT_KIND_FLOAT, re, im, buf);
}

int
npv_format_complex_long_double (long double  re,
                                long double  im,
                                char        *buf)
{
  return format_complex (FLOAT_KIND_LONG_DOUBLE, re, im, buf);
}

/* }}} */

/* {{{ Dates and times */

/* numpy does this arithmetic in int64 and lets it overflow. Wrapping in
 * unsigned arithmetic gives the same text as numpy (a build of it on a
 * two's complement machine) without undefined behaviour. */
static inline gint64
wrap_add (gint64 a,
          gint64 b)
{
  return (gint64) ((guint64) a + (guint64) b);
}

static inline gint64
wrap_mul (gint64 a,
          gint64 b)
{
  return (gint64) ((guint64) a * (guint64) b);
}

/* Floor division: returns the quotient, leaves the non-negative remainder. */
static inline gint64
extract_unit (gint64 *value,
              gint64  unit)
{
  gint64 quotient = *value / unit;
  gint64 remainder = *value % unit;

  if (remainder < 0)
    {
      remainder += unit;
      quotient -= 1;
    }
  *value = remainder;
  return quotient;
}

typedef struct
{
  gint64 year;
  int month, day, hour, min, sec, us, ps, as;
} DateTime;

static const int days_per_month[2][12] = {
  { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 },
  { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
};

static gboolean
is_leap_year (gint64 year)
{
  return (year & 0x3) == 0 && (year % 100 != 0 || year % 400 == 0);
}

/* Fills year, month and day from days since 1970-01-01 (numpy's
 * set_datetimestruct_days, overflow included). */
static void
set_days (DateTime *dt,
          gint64    days)
{
  const gint64 days_per_400_years = 400 * 365 + 100 - 4 + 1;
  const int *lengths;
  gint64 year;
  int i;

  /* Relative to 2000-01-01, the start of a 400 year cycle. */
  days = wrap_add (days, -(365 * 30 + 7));
  year = 400 * extract_unit (&days, days_per_400_years);

  if (days >= 366)
    {
      year += 100 * ((days - 1) / (100 * 365 + 25 - 1));
      days = (days - 1) % (100 * 365 + 25 - 1);
      if (days >= 365)
        {
          year += 4 * ((days + 1) / (4 * 365 + 1));
          days = (days + 1) % (4 * 365 + 1);
          if (days >= 366)
            {
              year += (days - 1) / 365;
              days = (days - 1) % 365;
            }
        }
    }

  dt->year = year + 2000;
  lengths = days_per_month[is_leap_year (dt->year)];
  for (i = 0; i < 12; i++)
    {
      if (days < lengths[i])
        {
          dt->month = i + 1;
          dt->day = (int) days + 1;
          return;
        }
      days -= lengths[i];
    }
}

/* numpy's convert_datetime_to_datetimestruct for a value that isn't NaT. */
static void
datetime_split (DateTime    *dt,
                gint64       value,
                NpvTimeUnit  unit,
                gint64       multiplier)
{
  const gint64 ms_per_day = G_GINT64_CONSTANT (1000) * 60 * 60 * 24;
  const gint64 us_per_day = ms_per_day * 1000;
  const gint64 ns_per_day = us_per_day * 1000;
  const gint64 ps_per_day = ns_per_day * 1000;
  const gint64 fs_per_hour = G_GINT64_CONSTANT (1000000000000000) * 60 * 60;
  const gint64 as_per_second = G_GINT64_CONSTANT (1000000000000000000);

  memset (dt, 0, sizeof *dt);
  dt->year = 1970;
  dt->month = 1;
  dt->day = 1;

  value = wrap_mul (value, multiplier);

  switch (unit)
    {
    case NPV_TIME_UNIT_Y:
      dt->year = wrap_add (1970, value);
      break;
    case NPV_TIME_UNIT_M:
      dt->year = 1970 + extract_unit (&value, 12);
      dt->month = (int) value + 1;
      break;
    case NPV_TIME_UNIT_W:
      set_days (dt, wrap_mul (value, 7));
      break;
    case NPV_TIME_UNIT_D:
      set_days (dt, value);
      break;
    case NPV_TIME_UNIT_h:
      set_days (dt, extract_unit (&value, 24));
      dt->hour = (int) value;
      break;
    case NPV_TIME_UNIT_m:
      set_days (dt, extract_unit (&value, 60 * 24));
      dt->hour = (int) extract_unit (&value, 60);
      dt->min = (int) value;
      break;
    case NPV_TIME_UNIT_s:
      set_days (dt, extract_unit (&value, 60 * 60 * 24));
      dt->hour = (int) extract_unit (&value, 60 * 60);
      dt->min = (int) extract_unit (&value, 60);
      dt->sec = (int) value;
      break;
    case NPV_TIME_UNIT_ms:
      set_days (dt, extract_unit (&value, ms_per_day));
      dt->hour = (int) extract_unit (&value, 1000 * 60 * 60);
      dt->min = (int) extract_unit (&value, 1000 * 60);
      dt->sec = (int) extract_unit (&value, 1000);
      dt->us = (int) value * 1000;
      break;
    case NPV_TIME_UNIT_us:
      set_days (dt, extract_unit (&value, us_per_day));
      dt->hour = (int) extract_unit (&value, G_GINT64_CONSTANT (1000000) * 60 * 60);
      dt->min = (int) extract_unit (&value, G_GINT64_CONSTANT (1000000) * 60);
      dt->sec = (int) extract_unit (&value, 1000000);
      dt->us = (int) value;
      break;
    case NPV_TIME_UNIT_ns:
      set_days (dt, extract_unit (&value, ns_per_day));
      dt->hour = (int) extract_unit (&value, G_GINT64_CONSTANT (1000000000) * 60 * 60);
      dt->min = (int) extract_unit (&value, G_GINT64_CONSTANT (1000000000) * 60);
      dt->sec = (int) extract_unit (&value, 1000000000);
      dt->us = (int) extract_unit (&value, 1000);
      dt->ps = (int) value * 1000;
      break;
    case NPV_TIME_UNIT_ps:
      set_days (dt, extract_unit (&value, ps_per_day));
      dt->hour = (int) extract_unit (&value, G_GINT64_CONSTANT (1000000000000) * 60 * 60);
      dt->min = (int) extract_unit (&value, G_GINT64_CONSTANT (1000000000000) * 60);
      dt->sec = (int) extract_unit (&value, G_GINT64_CONSTANT (1000000000000));
      dt->us = (int) extract_unit (&value, 1000000);
      dt->ps = (int) value;
      break;
    case NPV_TIME_UNIT_fs:
      /* The whole range is ±2.6 hours around the epoch. */
      dt->hour = (int) extract_unit (&value, fs_per_hour);
      if (dt->hour < 0)
        {
          dt->year = 1969;
          dt->month = 12;
          dt->day = 31;
          dt->hour += 24;
        }
      dt->min = (int) extract_unit (&value, G_GINT64_CONSTANT (1000000000000000) * 60);
      dt->sec = (int) extract_unit (&value, G_GINT64_CONSTANT (1000000000000000));
      dt->us = (int) extract_unit (&value, 1000000000);
      dt->ps = (int) extract_unit (&value, 1000);
      dt->as = (int) value * 1000;
      break;
    case NPV_TIME_UNIT_as:
      /* The whole range is ±9.2 seconds around the epoch. */
      dt->sec = (int) extract_unit (&value, as_per_second);
      if (dt->sec < 0)
        {
          dt->year = 1969;
          dt->month = 12;
          dt->day = 31;
          dt->hour = 23;
          dt->min = 59;
          dt->sec += 60;
        }
      dt->us = (int) extract_unit (&value, G_GINT64_CONSTANT (1000000000000));
      dt->ps = (int) extract_unit (&value, 1000000);
      dt->as = (int) value;
      break;
    case NPV_TIME_UNIT_GENERIC:
    case NPV_TIME_UNIT_COUNT:
    default:
      g_assert_not_reached ();
    }
}

/* Two digits the way numpy writes them, digit by digit. */
static void
append_2 (GString *out,
          char     separator,
          int      value)
{
  g_string_append_c (out, separator);
  g_string_append_c (out, (char) (value / 10 + '0'));
  g_string_append_c (out, (char) (value % 10 + '0'));
}

static void
append_3 (GString *out,
          int      value)
{
  g_string_append_c (out, (char) ((value / 100) % 10 + '0'));
  g_string_append_c (out, (char) ((value / 10) % 10 + '0'));
  g_string_append_c (out, (char) (value % 10 + '0'));
}

void
npv_format_datetime (GString     *out,
                     gint64       value,
                     NpvTimeUnit  unit,
                     gint64       multiplier)
{
  DateTime dt;

  if (value == G_MININT64)
    {
      g_string_append (out, "NaT");
      return;
    }
  if (unit == NPV_TIME_UNIT_GENERIC || (guint) unit >= NPV_TIME_UNIT_COUNT)
    {
      /* numpy refuses to print these ("Cannot convert a NumPy datetime value
       * other than NaT with generic units"); without an epoch and a unit the
       * number itself is all there is to show. */
      g_string_append_printf (out, "%" G_GINT64_FORMAT, value);
      return;
    }

  datetime_split (&dt, value, unit, multiplier);

  /* At least four digits, a sign counting as one: "0001", "-006", "10000". */
  g_string_append_printf (out, "%04" G_GINT64_FORMAT, dt.year);
  if (unit == NPV_TIME_UNIT_Y)
    return;
  append_2 (out, '-', dt.month);
  if (unit == NPV_TIME_UNIT_M)
    return;
  /* Weeks print as days. */
  append_2 (out, '-', dt.day);
  if (unit <= NPV_TIME_UNIT_D)
    return;
  append_2 (out, 'T', dt.hour);
  if (unit == NPV_TIME_UNIT_h)
    return;
  append_2 (out, ':', dt.min);
  if (unit == NPV_TIME_UNIT_m)
    return;
  append_2 (out, ':', dt.sec);
  if (unit == NPV_TIME_UNIT_s)
    return;
  g_string_append_c (out, '.');
  append_3 (out, dt.us / 1000);
  if (unit == NPV_TIME_UNIT_ms)
    return;
  append_3 (out, dt.us);
  if (unit == NPV_TIME_UNIT_us)
    return;
  append_3 (out, dt.ps / 1000);
  if (unit == NPV_TIME_UNIT_ns)
    return;
  append_3 (out, dt.ps);
  if (unit == NPV_TIME_UNIT_ps)
    return;
  append_3 (out, dt.as / 1000);
  if (unit == NPV_TIME_UNIT_fs)
    return;
  append_3 (out, dt.as);
}

static const char * const verbose_units[NPV_TIME_UNIT_COUNT] = {
  [NPV_TIME_UNIT_GENERIC] = "generic time units",
  [NPV_TIME_UNIT_Y] = "years",
  [NPV_TIME_UNIT_M] = "months",
  [NPV_TIME_UNIT_W] = "weeks",
  [NPV_TIME_UNIT_D] = "days",
  [NPV_TIME_UNIT_h] = "hours",
  [NPV_TIME_UNIT_m] = "minutes",
  [NPV_TIME_UNIT_s] = "seconds",
  [NPV_TIME_UNIT_ms] = "milliseconds",
  [NPV_TIME_UNIT_us] = "microseconds",
  [NPV_TIME_UNIT_ns] = "nanoseconds",
  [NPV_TIME_UNIT_ps] = "picoseconds",
  [NPV_TIME_UNIT_fs] = "femtoseconds",
  [NPV_TIME_UNIT_as] = "attoseconds",
};

void
npv_format_timedelta (GString     *out,
                      gint64       value,
                      NpvTimeUnit  unit,
                      gint64       multiplier)
{
  if (value == G_MININT64)
    {
      g_string_append (out, "NaT");
      return;
    }

  /* numpy prints value × multiplier, wrapped on overflow, even for units
   * where that product means nothing (generic). */
  g_string_append_printf (out, "%" G_GINT64_FORMAT " %s",
                          wrap_mul (value, multiplier),
                          (guint) unit < NPV_TIME_UNIT_COUNT
                          ? verbose_units[unit] : "invalid");
}

static const char * const unit_names[NPV_TIME_UNIT_COUNT] = {
  [NPV_TIME_UNIT_GENERIC] = "",
  [NPV_TIME_UNIT_Y] = "Y",
  [NPV_TIME_UNIT_M] = "M",
  [NPV_TIME_UNIT_W] = "W",
  [NPV_TIME_UNIT_D] = "D",
  [NPV_TIME_UNIT_h] = "h",
  [NPV_TIME_UNIT_m] = "m",
  [NPV_TIME_UNIT_s] = "s",
  [NPV_TIME_UNIT_ms] = "ms",
  [NPV_TIME_UNIT_us] = "us",
  [NPV_TIME_UNIT_ns] = "ns",
  [NPV_TIME_UNIT_ps] = "ps",
  [NPV_TIME_UNIT_fs] = "fs",
  [NPV_TIME_UNIT_as] = "as",
};

const char *
npv_time_unit_to_string (NpvTimeUnit unit)
{
  g_return_val_if_fail ((guint) unit < NPV_TIME_UNIT_COUNT, "");

  return unit_names[unit];
}

gboolean
npv_time_unit_from_string (const char  *text,
                           gsize        len,
                           NpvTimeUnit *unit)
{
  int i;

  g_return_val_if_fail (text != NULL || len == 0, FALSE);

  if (len == 0)
    {
      /* "M8" without brackets: generic units. */
      *unit = NPV_TIME_UNIT_GENERIC;
      return TRUE;
    }

  /* numpy also takes "generic", and "μs" for microseconds. */
  if (len == 7 && memcmp (text, "generic", 7) == 0)
    {
      *unit = NPV_TIME_UNIT_GENERIC;
      return TRUE;
    }
  if (len == 3 && memcmp (text, "\xce\xbcs", 3) == 0)
    {
      *unit = NPV_TIME_UNIT_us;
      return TRUE;
    }

  for (i = 0; i < NPV_TIME_UNIT_COUNT; i++)
    {
      if (strlen (unit_names[i]) == len && memcmp (text, unit_names[i], len) == 0)
        {
          *unit = (NpvTimeUnit) i;
          return TRUE;
        }
    }
  return FALSE;
}

/* }}} */

/* {{{ Bytes and text */

void
npv_format_bytes (GString      *out,
                  const guint8 *data,
                  gsize         len,
                  gboolean      strip_nuls,
                  gboolean      all_hex)
{
  static const char lower_hex[] = "0123456789abcdef";
  static const char upper_hex[] = "0123456789ABCDEF";
  char quote = '\'';
  gsize i;

  if (strip_nuls)
    {
      while (len > 0 && data[len - 1] == 0)
        len--;
    }

  if (all_hex)
    {
      /* numpy writes void scalars itself, in upper case hex. */
      g_string_append (out, "b'");
      for (i = 0; i < len; i++)
        {
          g_string_append (out, "\\x");
          g_string_append_c (out, upper_hex[data[i] >> 4]);
          g_string_append_c (out, upper_hex[data[i] & 0xf]);
        }
      g_string_append_c (out, '\'');
      return;
    }

  /* Python's repr: single quotes unless the bytes contain ' and no ". */
  if (memchr (data, '\'', len) != NULL && memchr (data, '"', len) == NULL)
    quote = '"';

  g_string_append_c (out, 'b');
  g_string_append_c (out, quote);
  for (i = 0; i < len; i++)
    {
      guint8 c = data[i];

      if (c == quote || c == '\\')
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
      else if (c < ' ' || c >= 0x7f)
        {
          g_string_append (out, "\\x");
          g_string_append_c (out, lower_hex[c >> 4]);
          g_string_append_c (out, lower_hex[c & 0xf]);
        }
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, quote);
}

void
npv_format_ucs4 (GString       *out,
                 const guint32 *chars,
                 gsize          n_chars)
{
  gsize i;

  while (n_chars > 0 && chars[n_chars - 1] == 0)
    n_chars--;

  for (i = 0; i < n_chars; i++)
    {
      guint32 c = chars[i];

      /* Surrogates and values past U+10FFFF have no UTF-8 encoding. */
      if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        c = 0xfffd;
      g_string_append_unichar (out, c);
    }
}

/* }}} */
