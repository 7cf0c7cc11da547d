/* value: the standard library's value types — datetime's date, time, datetime, timedelta and
 * timezone, decimal.Decimal, uuid.UUID, complex — and what the collections (OrderedDict,
 * defaultdict, deque, Counter, laid out as dicts and lists by value.c) need beyond that:
 * constructors and accessors, bool(), ==, hash() and repr() as CPython 3.13's
 * Modules/_datetimemodule.c, Modules/_decimal, Lib/uuid.py, Objects/complexobject.c and
 * Lib/collections do them. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/value.h"

#define US_PER_SECOND INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SECOND)
#define MAX_DELTA_DAYS 999999999

/* ---- date and time ------------------------------------------------------------------------ */

static int is_leap(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

static int days_in_month(int y, int m)
{
    static const int days[] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m];
}

/* The proleptic Gregorian ordinal of a date (date.toordinal()). */
static int64_t ymd_to_ord(int y, int m, int d)
{
    int64_t py = y - 1, days = py * 365 + py / 4 - py / 100 + py / 400;
    for (int i = 1; i < m; i++)
        days += days_in_month(y, i);
    return days + d;
}

static int check_date(int year, int month, int day)
{
    if (year < 1 || year > 9999)
        return ST_RAISE(ST_EVALUE, "year %d is out of range", year);
    if (month < 1 || month > 12)
        return ST_RAISE(ST_EVALUE, "month must be in 1..12");
    if (day < 1 || day > days_in_month(year, month))
        return ST_RAISE(ST_EVALUE, "day is out of range for month");
    return 0;
}

static int check_time(int hour, int minute, int second, int us, int fold)
{
    if (hour < 0 || hour > 23)
        return ST_RAISE(ST_EVALUE, "hour must be in 0..23");
    if (minute < 0 || minute > 59)
        return ST_RAISE(ST_EVALUE, "minute must be in 0..59");
    if (second < 0 || second > 59)
        return ST_RAISE(ST_EVALUE, "second must be in 0..59");
    if (us < 0 || us > 999999)
        return ST_RAISE(ST_EVALUE, "microsecond must be in 0..999999");
    if (fold != 0 && fold != 1)
        return ST_RAISE(ST_EVALUE, "fold must be either 0 or 1");
    return 0;
}

/* tzinfo as given (NULL, None or a timezone) → the reference to keep (NULL for naive). */
static int check_tzinfo(st_value *tzinfo, st_value **keep)
{
    *keep = NULL;
    if (!tzinfo || st__kind(tzinfo) == ST_VALUE_NONE)
        return 0;
    if (st__kind(tzinfo) != ST_VALUE_TIMEZONE)
        return ST_RAISE(ST_ETYPE,
                        "tzinfo argument must be None or of a tzinfo subclass, not "
                        "type '%s'",
                        st_value_type_name(tzinfo));
    *keep = st_value_ref(tzinfo);
    return 0;
}

static st_value *new_dt(st_value_type kind, int year, int month, int day, int hour, int minute,
                        int second, int us, st_value *tzinfo, int fold)
{
    st_value *tz;
    if ((kind != ST_VALUE_TIME && check_date(year, month, day)) ||
        check_time(hour, minute, second, us, fold) || check_tzinfo(tzinfo, &tz))
        return NULL;
    st_value *v = st__std_new(kind);
    if (!v) {
        st_value_unref(tz);
        return NULL;
    }
    st__std *s = st__std_mut(v);
    s->ref = tz;
    s->dt.year = (uint16_t)year;
    s->dt.month = (uint8_t)month;
    s->dt.day = (uint8_t)day;
    s->dt.hour = (uint8_t)hour;
    s->dt.minute = (uint8_t)minute;
    s->dt.second = (uint8_t)second;
    s->dt.fold = (uint8_t)fold;
    s->dt.us = us;
    return v;
}

st_value *st_value_date(int year, int month, int day)
{
    return new_dt(ST_VALUE_DATE, year, month, day, 0, 0, 0, 0, NULL, 0);
}

st_value *st_value_time(int hour, int minute, int second, int microsecond, st_value *tzinfo,
                        int fold)
{
    return new_dt(ST_VALUE_TIME, 0, 0, 0, hour, minute, second, microsecond, tzinfo, fold);
}

st_value *st_value_datetime(int year, int month, int day, int hour, int minute, int second,
                            int microsecond, st_value *tzinfo, int fold)
{
    return new_dt(ST_VALUE_DATETIME, year, month, day, hour, minute, second, microsecond, tzinfo,
                  fold);
}

static int is_dt(const st_value *v)
{
    return st__kind(v) == ST_VALUE_DATE || st__kind(v) == ST_VALUE_TIME ||
           st__kind(v) == ST_VALUE_DATETIME;
}

int st_value_datetime_parts_get(const st_value *v, st_value_datetime_parts *out)
{
    if (!is_dt(v))
        return st__wrong_kind(v, "date, time or datetime");
    const st__std *s = st__std_of(v);
    *out = (st_value_datetime_parts){s->dt.year,   s->dt.month,  s->dt.day, s->dt.hour,
                                     s->dt.minute, s->dt.second, s->dt.us,  s->dt.fold};
    return 0;
}

st_value *st_value_datetime_tzinfo(const st_value *v)
{
    if (st__kind(v) != ST_VALUE_TIME && st__kind(v) != ST_VALUE_DATETIME)
        return (st__wrong_kind(v, "time or datetime"), NULL);
    st_value *tz = st__std_of(v)->ref;
    return tz ? tz : st_value_none();
}

/* ---- timedelta and timezone ---------------------------------------------------------------- */

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

st_value *st_value_timedelta(int64_t days, int64_t seconds, int64_t microseconds)
{
    /* carries stay far below these bounds, so a day count past them is out of range anyway */
    if (days > INT64_C(1) << 50 || days < -(INT64_C(1) << 50))
        return (ST_RAISE(ST_EOVERFLOW, "days=%lld; must have magnitude <= %d", (long long)days,
                         MAX_DELTA_DAYS),
                NULL);
    int64_t carry = floordiv(microseconds, US_PER_SECOND);
    int64_t us = microseconds - carry * US_PER_SECOND;
    int64_t d1 = floordiv(seconds, 86400);
    int64_t s = seconds - d1 * 86400 + carry; /* |carry| < 2**44: no overflow */
    int64_t d2 = floordiv(s, 86400);
    s -= d2 * 86400;
    days += d1 + d2;
    if (days > MAX_DELTA_DAYS || days < -MAX_DELTA_DAYS)
        return (ST_RAISE(ST_EOVERFLOW, "days=%lld; must have magnitude <= %d", (long long)days,
                         MAX_DELTA_DAYS),
                NULL);
    st_value *v = st__std_new(ST_VALUE_TIMEDELTA);
    if (v) {
        st__std *t = st__std_mut(v);
        t->td.days = (int32_t)days;
        t->td.seconds = (int32_t)s;
        t->td.us = (int32_t)us;
    }
    return v;
}

int st_value_timedelta_get(const st_value *v, int64_t *days, int64_t *seconds,
                           int64_t *microseconds)
{
    if (st__kind(v) != ST_VALUE_TIMEDELTA)
        return st__wrong_kind(v, "timedelta");
    const st__std *t = st__std_of(v);
    if (days)
        *days = t->td.days;
    if (seconds)
        *seconds = t->td.seconds;
    if (microseconds)
        *microseconds = t->td.us;
    return 0;
}

/* The microseconds of a timezone's offset (or a timedelta of less than 100000 days). */
static int64_t td_us(const st__std *t)
{
    return t->td.days * US_PER_DAY + t->td.seconds * US_PER_SECOND + t->td.us;
}

static int delta_repr(st__buf *b, const st__std *t)
{
    if (st__buf_puts(b, "datetime.timedelta("))
        return -1;
    const char *sep = "";
    int rc = 0;
    if (t->td.days)
        rc = st__buf_printf(b, "days=%d", (int)t->td.days), sep = ", ";
    if (rc == 0 && t->td.seconds)
        rc = st__buf_printf(b, "%sseconds=%d", sep, (int)t->td.seconds), sep = ", ";
    if (rc == 0 && t->td.us)
        rc = st__buf_printf(b, "%smicroseconds=%d", sep, (int)t->td.us), sep = ", ";
    if (rc == 0 && !*sep)
        rc = st__buf_putc(b, '0');
    return rc || st__buf_putc(b, ')') ? -1 : 0;
}

st_value *st__timezone_new(const st_value *offset, st_value *name)
{
    if (st__kind(offset) != ST_VALUE_TIMEDELTA)
        return (ST_RAISE(ST_ETYPE, "timezone() argument 1 must be datetime.timedelta, not %s",
                         st_value_type_name(offset)),
                NULL);
    const st__std *o = st__std_of(offset);
    int64_t us = o->td.days < -1 || o->td.days > 0 ? US_PER_DAY : td_us(o);
    if (us <= -US_PER_DAY || us >= US_PER_DAY) {
        st__buf b = ST__BUF_INIT;
        if (delta_repr(&b, o) == 0)
            ST_RAISE(ST_EVALUE,
                     "offset must be a timedelta strictly between "
                     "-timedelta(hours=24) and timedelta(hours=24), not %s.",
                     b.data);
        st__buf_free(&b);
        return NULL;
    }
    if (us == 0 && !name)
        return st__timezone_utc();
    st_value *v = st__std_new(ST_VALUE_TIMEZONE);
    if (v) {
        st__std *t = st__std_mut(v);
        t->td = o->td;
        t->ref = st_value_ref(name);
    }
    return v;
}

st_value *st_value_timezone(const st_value *offset, const char *name)
{
    st_value *n = name ? st_value_str(name) : NULL;
    st_value *v = !name || n ? st__timezone_new(offset, n) : NULL;
    st_value_unref(n);
    return v;
}

/* The UTC offset of a time or datetime in microseconds: 1, or 0 when naive. */
static int offset_us(const st_value *v, int64_t *us)
{
    const st_value *tz = st__std_of(v)->ref;
    if (!tz)
        return 0;
    *us = td_us(st__std_of(tz));
    return 1;
}

/* The timezone of a time, datetime or timezone: itself, its tzinfo, or NULL (naive); -1 and
 * TypeError for other kinds. */
static int zone_of(const st_value *v, const st_value **tz)
{
    if (st__kind(v) == ST_VALUE_TIMEZONE)
        *tz = v;
    else if (st__kind(v) == ST_VALUE_TIME || st__kind(v) == ST_VALUE_DATETIME)
        *tz = st__std_of(v)->ref;
    else
        return st__wrong_kind(v, "time, datetime or timezone");
    return 0;
}

st_value *st_value_utcoffset(const st_value *v)
{
    const st_value *tz = NULL;
    if (zone_of(v, &tz))
        return NULL;
    if (!tz)
        return st_value_none();
    const st__std *t = st__std_of(tz);
    return st_value_timedelta(t->td.days, t->td.seconds, t->td.us);
}

st_value *st_value_tzname(const st_value *v)
{
    const st_value *tz = NULL;
    if (zone_of(v, &tz))
        return NULL;
    if (!tz)
        return st_value_none();
    const st__std *t = st__std_of(tz);
    if (t->ref)
        return st_value_ref(t->ref);
    int64_t us = td_us(t);
    if (us == 0)
        return st_value_str("UTC");
    char sign = us < 0 ? '-' : '+', buf[40];
    us = us < 0 ? -us : us;
    int64_t secs = us / US_PER_SECOND, frac = us % US_PER_SECOND;
    int h = (int)(secs / 3600), m = (int)(secs / 60 % 60), s = (int)(secs % 60);
    if (frac)
        snprintf(buf, sizeof buf, "UTC%c%02d:%02d:%02d.%06d", sign, h, m, s, (int)frac);
    else if (s)
        snprintf(buf, sizeof buf, "UTC%c%02d:%02d:%02d", sign, h, m, s);
    else
        snprintf(buf, sizeof buf, "UTC%c%02d:%02d", sign, h, m);
    return st_value_str(buf);
}

/* ---- Decimal ------------------------------------------------------------------------------- */

enum { DEC_FINITE, DEC_INF, DEC_NAN, DEC_SNAN };

/* A Decimal's parts: the sign, the class, the coefficient's (or NaN payload's) digits without
 * leading zeros ("0" for a zero coefficient, "" for no payload) and the exponent. */
typedef struct dec {
    int neg, cls;
    st__buf digits;
    int64_t exp;
} dec;

static int syntax_error(void)
{
    return ST_RAISE_AS(ST_EVALUE, "decimal.InvalidOperation",
                       "[<class 'decimal.ConversionSyntax'>]");
}

static int ieq(const char *s, size_t n, const char *word)
{
    if (strlen(word) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != word[i])
            return 0;
    return 1;
}

static int is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Appends digits dropping leading zeros. */
static int put_digits(dec *d, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (d->digits.len == 0 && s[i] == '0')
            continue;
        if (st__buf_putc(&d->digits, s[i]))
            return -1;
    }
    return 0;
}

/* Decimal's string syntax (underscores and surrounding whitespace removed first, as
 * _decimal's numeric_as_ascii does). */
static int dec_parse(const char *text, dec *d)
{
    st__buf t = ST__BUF_INIT;
    size_t n = strlen(text), a = 0;
    while (a < n && is_space(text[a]))
        a++;
    while (n > a && is_space(text[n - 1]))
        n--;
    for (size_t i = a; i < n; i++)
        if (text[i] != '_' && st__buf_putc(&t, text[i]))
            return -1;
    const char *s = t.data ? t.data : "";
    size_t len = t.len, i = 0;
    *d = (dec){0, DEC_FINITE, ST__BUF_INIT, 0};
    if (i < len && (s[i] == '+' || s[i] == '-'))
        d->neg = s[i++] == '-';
    const char *r = s + i;
    size_t rl = len - i;
    int rc = 0;
    if (ieq(r, rl, "infinity") || ieq(r, rl, "inf")) {
        d->cls = DEC_INF;
    } else if ((rl >= 3 && ieq(r, 3, "nan")) || (rl >= 4 && ieq(r, 4, "snan"))) {
        d->cls = (r[0] | 0x20) == 's' ? DEC_SNAN : DEC_NAN;
        size_t k = d->cls == DEC_SNAN ? 4 : 3;
        for (size_t j = k; j < rl; j++)
            if (r[j] < '0' || r[j] > '9')
                rc = syntax_error();
        if (rc == 0)
            rc = put_digits(d, r + k, rl - k);
    } else {
        size_t nd = 0, frac = 0, j = 0;
        int point = 0;
        for (; j < rl; j++) {
            if (r[j] >= '0' && r[j] <= '9') {
                nd++;
                frac += point;
            } else if (r[j] == '.' && !point) {
                point = 1;
            } else {
                break;
            }
        }
        size_t mant = j;
        if (nd == 0)
            rc = syntax_error();
        if (rc == 0 && j < rl) {
            if ((r[j] | 0x20) != 'e')
                rc = syntax_error();
            j++;
            int eneg = j < rl && r[j] == '-';
            if (j < rl && (r[j] == '+' || r[j] == '-'))
                j++;
            if (j == rl)
                rc = syntax_error();
            for (; rc == 0 && j < rl; j++) {
                if (r[j] < '0' || r[j] > '9')
                    rc = syntax_error();
                else if (d->exp > INT64_C(100000000000000000))
                    rc = syntax_error(); /* beyond any exponent Decimal accepts */
                else
                    d->exp = d->exp * 10 + (r[j] - '0');
            }
            if (eneg)
                d->exp = -d->exp;
        }
        for (size_t k = 0; rc == 0 && k < mant; k++)
            if (r[k] != '.')
                rc = put_digits(d, r + k, 1);
        if (rc == 0 && d->digits.len == 0)
            rc = st__buf_putc(&d->digits, '0');
        d->exp -= (int64_t)frac;
    }
    st__buf_free(&t);
    if (rc)
        st__buf_free(&d->digits);
    return rc;
}

/* str(Decimal): Lib/_pydecimal.py's __str__ (scientific notation, capital E). */
static int dec_format(const dec *d, st__buf *b)
{
    if (d->neg && st__buf_putc(b, '-'))
        return -1;
    const char *c = d->digits.data ? d->digits.data : "";
    if (d->cls == DEC_INF)
        return st__buf_puts(b, "Infinity");
    if (d->cls != DEC_FINITE)
        return st__buf_puts(b, d->cls == DEC_SNAN ? "sNaN" : "NaN") || st__buf_puts(b, c);
    int64_t n = (int64_t)d->digits.len, left = d->exp + n;
    int64_t dot = d->exp <= 0 && left > -6 ? left : 1;
    int rc;
    if (dot <= 0) {
        rc = st__buf_puts(b, "0.");
        for (int64_t i = 0; rc == 0 && i < -dot; i++)
            rc = st__buf_putc(b, '0');
        rc = rc || st__buf_puts(b, c);
    } else if (dot >= n) {
        rc = st__buf_puts(b, c);
        for (int64_t i = n; rc == 0 && i < dot; i++)
            rc = st__buf_putc(b, '0');
    } else {
        rc = st__buf_append(b, c, (size_t)dot) || st__buf_putc(b, '.') || st__buf_puts(b, c + dot);
    }
    if (rc == 0 && left != dot)
        rc = st__buf_printf(b, "E%+lld", (long long)(left - dot));
    return rc ? -1 : 0;
}

st_value *st_value_decimal(const char *text)
{
    dec d;
    if (dec_parse(text, &d))
        return NULL;
    st__buf b = ST__BUF_INIT;
    st_value *s = dec_format(&d, &b) ? NULL : st_value_str_n(b.data, b.len);
    st__buf_free(&b);
    st__buf_free(&d.digits);
    st_value *v = s ? st__std_new(ST_VALUE_DECIMAL) : NULL;
    if (!v)
        return (st_value_unref(s), NULL);
    st__std_mut(v)->ref = s;
    return v;
}

const char *st_value_decimal_str(const st_value *v)
{
    if (st__kind(v) != ST_VALUE_DECIMAL)
        return (st__wrong_kind(v, "Decimal"), NULL);
    return st_value_str_data(st__std_of(v)->ref, NULL);
}

/* Removes trailing zeros of a finite coefficient into the exponent (0 stays "0", exp 0). */
static void dec_normalize(dec *d)
{
    if (d->digits.len == 1 && d->digits.data[0] == '0') {
        d->exp = 0;
        d->neg = 0;
        return;
    }
    while (d->digits.len > 1 && d->digits.data[d->digits.len - 1] == '0') {
        d->digits.data[--d->digits.len] = '\0';
        d->exp++;
    }
}

/* Multiplies a little-endian decimal digit array (values 0..9) by f, k times. */
static int digits_mul(st__buf *x, int f, int k)
{
    for (int r = 0; r < k; r++) {
        int carry = 0;
        for (size_t i = 0; i < x->len; i++) {
            int p = (x->data[i]) * f + carry;
            x->data[i] = (char)(p % 10);
            carry = p / 10;
        }
        while (carry) {
            if (st__buf_putc(x, (char)(carry % 10)))
                return -1;
            carry /= 10;
        }
    }
    return 0;
}

/* A number (bool, int, float, a complex without imaginary part) as a finite dec, exactly:
 * 1, 0 when it is not such a number (or is not finite: *special gets DEC_INF/DEC_NAN), -1. */
static int number_as_dec(const st_value *v, dec *d, int *special)
{
    *d = (dec){0, DEC_FINITE, ST__BUF_INIT, 0};
    *special = DEC_FINITE;
    st_value_type k = st__kind(v);
    double f;
    if (k == ST_VALUE_COMPLEX) {
        if (st__std_of(v)->c[1] != 0.0)
            return 0;
        f = st__std_of(v)->c[0];
    } else if (k == ST_VALUE_BOOL || k == ST_VALUE_INT) {
        st__buf b = ST__BUF_INIT;
        if (st__int_repr(&b, v))
            return -1;
        d->neg = b.data[0] == '-';
        int rc = put_digits(d, b.data + d->neg, b.len - (size_t)d->neg);
        st__buf_free(&b);
        if (rc == 0 && d->digits.len == 0)
            rc = st__buf_putc(&d->digits, '0');
        return rc ? -1 : 1;
    } else if (k == ST_VALUE_FLOAT) {
        f = st__float_value(v);
    } else {
        return 0;
    }
    if (!isfinite(f)) {
        *special = isnan(f) ? DEC_NAN : DEC_INF;
        d->neg = f < 0;
        return 0;
    }
    /* f = m * 2**e exactly, m a 53-bit integer: m * 2**e or m * 5**-e * 10**e in decimal */
    int e;
    double frac = frexp(fabs(f), &e);
    uint64_t m = (uint64_t)ldexp(frac, 53);
    e -= 53;
    while (m && !(m & 1) && e < 0) {
        m >>= 1;
        e++;
    }
    st__buf x = ST__BUF_INIT;
    int rc = 0;
    do
        rc = st__buf_putc(&x, (char)(m % 10));
    while (rc == 0 && (m /= 10));
    if (rc == 0)
        rc = digits_mul(&x, e >= 0 ? 2 : 5, e >= 0 ? e : -e);
    d->neg = signbit(f) != 0;
    d->exp = e < 0 ? e : 0;
    for (size_t i = x.len; rc == 0 && i-- > 0;)
        if (!(d->digits.len == 0 && x.data[i] == 0 && i > 0))
            rc = st__buf_putc(&d->digits, (char)('0' + x.data[i]));
    st__buf_free(&x);
    return rc ? -1 : 1;
}

static int dec_equal(const dec *a, const dec *b)
{
    return a->neg == b->neg && a->exp == b->exp && a->digits.len == b->digits.len &&
           memcmp(a->digits.data, b->digits.data, a->digits.len) == 0;
}

/* Decimal == other: numeric equality, exact against ints and floats (as Decimal compares
 * them); NaNs (signaling ones too, where Python raises InvalidOperation) are unequal. */
static int decimal_equal(const st_value *a, const st_value *b)
{
    dec x, y;
    int special = DEC_FINITE, r = 0;
    if (dec_parse(st_value_decimal_str(a), &x))
        return -1;
    if (st__kind(b) == ST_VALUE_DECIMAL) {
        if (dec_parse(st_value_decimal_str(b), &y)) {
            st__buf_free(&x.digits);
            return -1;
        }
        special = y.cls;
        r = 1;
    } else if ((r = number_as_dec(b, &y, &special)) < 0) {
        st__buf_free(&x.digits);
        return -1;
    }
    int eq = 0;
    if (x.cls == DEC_INF || special == DEC_INF)
        eq = x.cls == DEC_INF && special == DEC_INF && x.neg == y.neg;
    else if (r == 1 && x.cls == DEC_FINITE && special == DEC_FINITE) {
        dec_normalize(&x);
        dec_normalize(&y);
        eq = dec_equal(&x, &y);
    }
    st__buf_free(&x.digits);
    st__buf_free(&y.digits);
    return eq;
}

/* ---- numeric hashing modulo 2**61 - 1 ---- */

static uint64_t addmod(uint64_t a, uint64_t b)
{
    uint64_t s = a + b; /* both below 2**61: no overflow */
    return s >= ST__HASH_MODULUS ? s - ST__HASH_MODULUS : s;
}

static uint64_t mulmod(uint64_t a, uint64_t b)
{
    uint64_t r = 0;
    for (int i = 60; i >= 0; i--) {
        r = addmod(r, r);
        if (b >> i & 1)
            r = addmod(r, a);
    }
    return r;
}

static uint64_t powmod(uint64_t base, uint64_t e)
{
    uint64_t r = 1;
    for (; e; e >>= 1, base = mulmod(base, base))
        if (e & 1)
            r = mulmod(r, base);
    return r;
}

static int64_t fix_hash(int64_t h) { return h == -1 ? -2 : h; }

/* Decimal.__hash__: the numeric hash, equal to an equal int's or float's. */
static int decimal_hash(const st_value *v, int64_t *out)
{
    dec d;
    if (dec_parse(st_value_decimal_str(v), &d))
        return -1;
    int rc = 0;
    if (d.cls == DEC_SNAN) {
        rc = ST_RAISE(ST_ETYPE, "Cannot hash a signaling NaN value.");
    } else if (d.cls == DEC_NAN) {
        *out = st__float_hash(v, NAN);
    } else if (d.cls == DEC_INF) {
        *out = d.neg ? -314159 : 314159;
    } else {
        uint64_t h = 0;
        for (size_t i = 0; i < d.digits.len; i++)
            h = addmod(mulmod(h, 10), (uint64_t)(d.digits.data[i] - '0'));
        /* 10**exp, or (10**-1)**-exp with 10**-1 = 10**(M - 2) */
        uint64_t e = d.exp >= 0 ? powmod(10, (uint64_t)d.exp)
                                : powmod(powmod(10, ST__HASH_MODULUS - 2), (uint64_t)-d.exp);
        h = mulmod(h, e);
        *out = fix_hash(d.neg ? -(int64_t)h : (int64_t)h);
    }
    st__buf_free(&d.digits);
    return rc;
}

/* ---- UUID ---------------------------------------------------------------------------------- */

st_value *st_value_uuid(const unsigned char bytes[16])
{
    st_value *v = st__std_new(ST_VALUE_UUID);
    if (v)
        memcpy(st__std_mut(v)->uuid, bytes, 16);
    return v;
}

st_value *st_value_uuid_from_string(const char *hex)
{
    /* hex.replace('urn:', '').replace('uuid:', '').strip('{}').replace('-', '') */
    st__buf b = ST__BUF_INIT;
    for (const char *p = hex; *p;) {
        if (strncmp(p, "urn:", 4) == 0 || strncmp(p, "uuid:", 5) == 0) {
            p += p[1] == 'r' ? 4 : 5;
            continue;
        }
        if (st__buf_putc(&b, *p++)) {
            st__buf_free(&b);
            return NULL;
        }
    }
    size_t a = 0, n = b.len;
    while (a < n && (b.data[a] == '{' || b.data[a] == '}'))
        a++;
    while (n > a && (b.data[n - 1] == '{' || b.data[n - 1] == '}'))
        n--;
    unsigned char out[16];
    size_t k = 0;
    int ok = 1;
    for (size_t i = a; i < n && ok; i++) {
        if (b.data[i] == '-')
            continue;
        unsigned char c = (unsigned char)b.data[i];
        int x = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
        if (!isxdigit(c) || k >= 32)
            ok = 0;
        else
            out[k / 2] = (unsigned char)(k % 2 ? (out[k / 2] << 4) | x : x), k++;
    }
    st__buf_free(&b);
    if (!ok || k != 32)
        return (ST_RAISE(ST_EVALUE, "badly formed hexadecimal UUID string"), NULL);
    return st_value_uuid(out);
}

const unsigned char *st_value_uuid_bytes(const st_value *v)
{
    if (st__kind(v) != ST_VALUE_UUID)
        return (st__wrong_kind(v, "UUID"), NULL);
    return st__std_of(v)->uuid;
}

int st_value_uuid_str(const st_value *v, char out[37])
{
    const unsigned char *u = st_value_uuid_bytes(v);
    if (!u)
        return -1;
    static const char hexd[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hexd[u[i] >> 4];
        *o++ = hexd[u[i] & 15];
    }
    *o = '\0';
    return 0;
}

int st_value_uuid_is_safe(const st_value *v, int *out)
{
    if (st__kind(v) != ST_VALUE_UUID)
        return st__wrong_kind(v, "UUID");
    unsigned f = st__uuid_flags(v);
    *out = f & ST__V_UUID_SAFE ? 0 : f & ST__V_UUID_UNSAFE ? -1 : 1;
    return 0;
}

/* ---- complex ------------------------------------------------------------------------------- */

st_value *st_value_complex(double real, double imag)
{
    st_value *v = st__std_new(ST_VALUE_COMPLEX);
    if (v) {
        st__std_mut(v)->c[0] = real;
        st__std_mut(v)->c[1] = imag;
    }
    return v;
}

int st_value_complex_get(const st_value *v, double *real, double *imag)
{
    if (st__kind(v) != ST_VALUE_COMPLEX)
        return st__wrong_kind(v, "complex");
    if (real)
        *real = st__std_of(v)->c[0];
    if (imag)
        *imag = st__std_of(v)->c[1];
    return 0;
}

/* A part of complex's repr: float's repr without the ".0" float adds, with a sign when asked
 * ("+nan", "+inf" too). */
static int complex_part(st__buf *b, double d, int sign)
{
    size_t at = b->len;
    if (sign && (isnan(d) || !signbit(d)) && st__buf_putc(b, '+')) /* "+nan" whatever its sign */
        return -1;
    if (st__float_repr(b, isnan(d) ? NAN : d))
        return -1;
    if (b->len - at >= 2 && memcmp(b->data + b->len - 2, ".0", 2) == 0)
        b->data[b->len -= 2] = '\0';
    return 0;
}

/* ---- collections --------------------------------------------------------------------------- */

int st_value_defaultdict_factory(const st_value *v, const char **module, const char **qualname)
{
    if (st__kind(v) != ST_VALUE_DEFAULTDICT)
        return st__wrong_kind(v, "defaultdict");
    st_value *const *f = st__factory(v);
    *module = f[0] ? st_value_str_data(f[0], NULL) : NULL;
    *qualname = f[1] ? st_value_str_data(f[1], NULL) : NULL;
    return 0;
}

int st__factory_repr(st__buf *out, const st_value *d)
{
    const char *mod, *name;
    st_value_defaultdict_factory(d, &mod, &name);
    if (!mod)
        return st__buf_puts(out, "None");
    if (strcmp(mod, "builtins") == 0)
        return st__buf_printf(out, "<class '%s'>", name);
    return st__buf_printf(out, "<class '%s.%s'>", mod, name);
}

int st_value_deque_maxlen(const st_value *v, ptrdiff_t *maxlen)
{
    if (st__kind(v) != ST_VALUE_DEQUE)
        return st__wrong_kind(v, "deque");
    *maxlen = st__deque_maxlen(v);
    return 0;
}

/* A Counter's entry and its count; counts sort when all are numbers (bool, int, float,
 * compared exactly as int64 or else as doubles) or all str. */
typedef struct count {
    size_t pos;
    const st_value *v;
} count;

static int count_less(const count *a, const count *b)
{
    if (st__kind(a->v) == ST_VALUE_STR) {
        size_t la, lb;
        const char *sa = st__data(a->v, &la), *sb = st__data(b->v, &lb);
        int c = memcmp(sa, sb, la < lb ? la : lb);
        return c < 0 || (c == 0 && la < lb);
    }
    int64_t x, y;
    if (st__kind(a->v) != ST_VALUE_FLOAT && st__kind(b->v) != ST_VALUE_FLOAT &&
        st__int_small(a->v, &x) && st__int_small(b->v, &y))
        return x < y;
    double p = 0, q = 0;
    st_value_as_double(a->v, &p);
    st_value_as_double(b->v, &q);
    return p < q;
}

/* A stable merge sort, greatest first (sorted(..., reverse=True) keeps ties in order). */
static void sort_counts(count *c, count *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_counts(c, tmp, h);
    sort_counts(c + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = count_less(&c[i], &c[j]) ? c[j++] : c[i++];
    while (i < h)
        tmp[k++] = c[i++];
    while (j < n)
        tmp[k++] = c[j++];
    memcpy(c, tmp, n * sizeof *c);
}

size_t *st__counter_order(const st_value *c, size_t *n)
{
    size_t len = (size_t)st_value_len(c), pos = 0, k = 0;
    *n = 1;
    count *cs = st__calloc(len ? 2 * len : 1, sizeof *cs);
    size_t *order = cs ? st__calloc(len ? len : 1, sizeof *order) : NULL;
    if (!order) {
        free(cs);
        return NULL;
    }
    int strs = 0, nums = 0;
    st_value *val;
    while (st__dict_next(c, &pos, NULL, &val)) {
        cs[k++] = (count){pos - 1, val};
        st_value_type kind = st__kind(val);
        strs |= kind == ST_VALUE_STR;
        nums |= kind == ST_VALUE_BOOL || kind == ST_VALUE_INT || kind == ST_VALUE_FLOAT;
        if (kind != ST_VALUE_STR && kind != ST_VALUE_BOOL && kind != ST_VALUE_INT &&
            kind != ST_VALUE_FLOAT)
            strs = nums = 1;
    }
    if (strs && nums) { /* Python's TypeError, caught by Counter.__repr__ */
        free(cs);
        free(order);
        *n = 0;
        return NULL;
    }
    sort_counts(cs, cs + len, k);
    for (size_t i = 0; i < k; i++)
        order[i] = cs[i].pos;
    free(cs);
    *n = k;
    return order;
}

/* ---- bool(), ==, hash(), repr() ------------------------------------------------------------ */

int st__std_truth(const st_value *v)
{
    const st__std *s = st__std_of(v);
    switch (st__kind(v)) {
    case ST_VALUE_TIMEDELTA:
        return s->td.days || s->td.seconds || s->td.us;
    case ST_VALUE_COMPLEX:
        return s->c[0] != 0.0 || s->c[1] != 0.0;
    case ST_VALUE_DECIMAL: {
        const char *t = st_value_decimal_str(v);
        for (; *t; t++) /* any digit but 0 before the exponent, or a special */
            if ((*t >= '1' && *t <= '9') || *t == 'I' || *t == 'N')
                return 1;
            else if (*t == 'E')
                break;
        return 0;
    }
    default:
        return 1;
    }
}

/* The instant of a date-time (datetime: days since 0001-01-01 too) in microseconds. */
static int64_t dt_us(const st__std *s, int with_date)
{
    int64_t t =
        ((s->dt.hour * INT64_C(60) + s->dt.minute) * 60 + s->dt.second) * US_PER_SECOND + s->dt.us;
    return with_date ? t + ymd_to_ord(s->dt.year, s->dt.month, s->dt.day) * US_PER_DAY : t;
}

/* time == time, datetime == datetime: naive ones by their fields (fold aside), aware ones by
 * the UTC instant, a naive and an aware one never (as == does in Python). */
static int dt_equal(const st_value *a, const st_value *b)
{
    int64_t oa = 0, ob = 0;
    int aa = offset_us(a, &oa), ab = offset_us(b, &ob);
    if (aa != ab)
        return 0;
    int with_date = st__kind(a) == ST_VALUE_DATETIME;
    return dt_us(st__std_of(a), with_date) - oa == dt_us(st__std_of(b), with_date) - ob;
}

int st__std_equal(const st_value *a, const st_value *b, int depth)
{
    st_value_type ka = st__kind(a), kb = st__kind(b);
    if (ka == ST_VALUE_DECIMAL)
        return decimal_equal(a, b);
    if (kb == ST_VALUE_DECIMAL)
        return decimal_equal(b, a);
    if (ka == ST_VALUE_COMPLEX || kb == ST_VALUE_COMPLEX) {
        if (ka != ST_VALUE_COMPLEX) {
            const st_value *t = a;
            a = b;
            b = t;
            kb = ka;
        }
        const st__std *x = st__std_of(a);
        if (kb == ST_VALUE_COMPLEX)
            return x->c[0] == st__std_of(b)->c[0] && x->c[1] == st__std_of(b)->c[1];
        if (kb != ST_VALUE_BOOL && kb != ST_VALUE_INT && kb != ST_VALUE_FLOAT)
            return 0;
        if (x->c[1] != 0.0)
            return 0;
        st_value *re = st_value_float(x->c[0]);
        int r = re ? st__equal_depth(re, b, depth + 1) : -1;
        st_value_unref(re);
        return r;
    }
    if (st__base_kind(a) == ST_VALUE_DICT && st__base_kind(b) == ST_VALUE_DICT) {
        if (ka == ST_VALUE_COUNTER && kb == ST_VALUE_COUNTER) {
            /* Counter.__eq__: every key's count, a missing key counting 0 */
            for (int side = 0; side < 2; side++) {
                const st_value *x = side ? b : a, *y = side ? a : b;
                size_t pos = 0;
                st_value *k, *cx;
                while (st__dict_next(x, &pos, &k, &cx)) {
                    int in = st_value_contains(y, k);
                    if (in < 0)
                        return -1;
                    /* st_value_int(0) is a shared immortal value: nothing to release */
                    int r = st__equal_depth(cx, in ? st_value_dict_get(y, k) : st_value_int(0),
                                            depth + 1);
                    if (r <= 0)
                        return r;
                }
            }
            return 1;
        }
        if (ka == ST_VALUE_ORDEREDDICT && kb == ST_VALUE_ORDEREDDICT) {
            /* OrderedDict == OrderedDict is order-sensitive */
            size_t pa = 0, pb = 0;
            st_value *x, *y;
            if (st_value_len(a) != st_value_len(b))
                return 0;
            while (st__dict_next(a, &pa, &x, NULL) && st__dict_next(b, &pb, &y, NULL)) {
                int r = x == y ? 1 : st__equal_depth(x, y, depth + 1);
                if (r <= 0)
                    return r;
            }
        }
        return 2;
    }
    if (ka != kb)
        return 0;
    const st__std *x = st__std_of(a), *y = st__std_of(b);
    switch (ka) {
    case ST_VALUE_DEQUE:
        return 2;
    case ST_VALUE_DATE:
        return x->dt.year == y->dt.year && x->dt.month == y->dt.month && x->dt.day == y->dt.day;
    case ST_VALUE_TIME:
    case ST_VALUE_DATETIME:
        return dt_equal(a, b);
    case ST_VALUE_TIMEDELTA:
    case ST_VALUE_TIMEZONE: /* normalized: equal fields */
        return x->td.days == y->td.days && x->td.seconds == y->td.seconds && x->td.us == y->td.us;
    case ST_VALUE_UUID:
        return memcmp(x->uuid, y->uuid, 16) == 0;
    default:
        return 0;
    }
}

/* hash(timedelta(days, 0, us)) (|us| well within int64): the hash of its normalized
 * (days, seconds, microseconds) tuple. */
static int delta_hash(int64_t days, int64_t us, int64_t *out)
{
    days += floordiv(us, US_PER_DAY);
    int64_t rem = us - floordiv(us, US_PER_DAY) * US_PER_DAY;
    st_value *items[3] = {st_value_int(days), st_value_int(rem / US_PER_SECOND),
                          st_value_int(rem % US_PER_SECOND)};
    st_value *t = st_value_tuple_steal(3, items);
    int rc = t ? st_value_hash(t, out) : -1;
    st_value_unref(t);
    return rc;
}

int st__std_hash(const st_value *v, int64_t *out)
{
    const st__std *s = st__std_of(v);
    unsigned char data[10];
    size_t n = 0;
    int64_t off;
    st_value_type kind = st__kind(v);
    switch (kind) {
    case ST_VALUE_DATE:
    case ST_VALUE_DATETIME:
    case ST_VALUE_TIME:
        if (kind != ST_VALUE_DATE && offset_us(v, &off))
            return delta_hash(0, dt_us(s, kind == ST_VALUE_DATETIME) - off, out);
        if (kind != ST_VALUE_TIME) {
            data[n++] = (unsigned char)(s->dt.year >> 8);
            data[n++] = (unsigned char)s->dt.year;
            data[n++] = s->dt.month;
            data[n++] = s->dt.day;
        }
        if (kind == ST_VALUE_DATE)
            break;
        data[n++] = s->dt.hour;
        data[n++] = s->dt.minute;
        data[n++] = s->dt.second;
        data[n++] = (unsigned char)(s->dt.us >> 16);
        data[n++] = (unsigned char)(s->dt.us >> 8);
        data[n++] = (unsigned char)s->dt.us;
        break;
    case ST_VALUE_TIMEDELTA:
    case ST_VALUE_TIMEZONE:
        return delta_hash(s->td.days, s->td.seconds * US_PER_SECOND + s->td.us, out);
    case ST_VALUE_DECIMAL:
        return decimal_hash(v, out);
    case ST_VALUE_UUID: {
        uint64_t h = 0;
        for (int i = 0; i < 16; i++)
            h = addmod(mulmod(h, 256), s->uuid[i]);
        *out = (int64_t)h;
        return 0;
    }
    default: { /* complex */
        uint64_t h = (uint64_t)st__float_hash(v, s->c[0]) +
                     UINT64_C(1000003) * (uint64_t)st__float_hash(v, s->c[1]);
        *out = fix_hash((int64_t)h);
        return 0;
    }
    }
    /* generic_hash: the hash of the bytes (CPython's with PYTHONHASHSEED=0) */
    *out = st__bytes_hash(data, n);
    return 0;
}

/* The end of a time's or datetime's repr: datetime prints fold before tzinfo, time after. */
static int append_tz_fold(st__buf *b, const st__std *s, int fold_first)
{
    if (fold_first && s->dt.fold && st__buf_puts(b, ", fold=1"))
        return -1;
    if (s->ref) {
        char *tz = st_value_repr(s->ref);
        int rc = !tz || st__buf_printf(b, ", tzinfo=%s", tz);
        st_free(tz);
        if (rc)
            return -1;
    }
    if (!fold_first && s->dt.fold && st__buf_puts(b, ", fold=1"))
        return -1;
    return st__buf_putc(b, ')');
}

int st__std_repr(st__buf *b, const st_value *v)
{
    const st__std *s = st__std_of(v);
    switch (st__kind(v)) {
    case ST_VALUE_DATE:
        return st__buf_printf(b, "datetime.date(%d, %d, %d)", s->dt.year, s->dt.month, s->dt.day);
    case ST_VALUE_DATETIME:
    case ST_VALUE_TIME: {
        int rc = st__kind(v) == ST_VALUE_TIME
                     ? st__buf_printf(b, "datetime.time(%d, %d", s->dt.hour, s->dt.minute)
                     : st__buf_printf(b, "datetime.datetime(%d, %d, %d, %d, %d", s->dt.year,
                                      s->dt.month, s->dt.day, s->dt.hour, s->dt.minute);
        if (rc == 0 && (s->dt.second || s->dt.us))
            rc = st__buf_printf(b, ", %d", s->dt.second);
        if (rc == 0 && s->dt.us)
            rc = st__buf_printf(b, ", %d", (int)s->dt.us);
        return rc ? -1 : append_tz_fold(b, s, st__kind(v) == ST_VALUE_DATETIME);
    }
    case ST_VALUE_TIMEDELTA:
        return delta_repr(b, s);
    case ST_VALUE_TIMEZONE: {
        if (v == st__timezone_utc())
            return st__buf_puts(b, "datetime.timezone.utc");
        if (st__buf_puts(b, "datetime.timezone(") || delta_repr(b, s))
            return -1;
        if (s->ref) {
            char *name = st_value_repr(s->ref);
            int rc = !name || st__buf_printf(b, ", %s", name);
            st_free(name);
            if (rc)
                return -1;
        }
        return st__buf_putc(b, ')');
    }
    case ST_VALUE_DECIMAL:
        return st__buf_printf(b, "Decimal('%s')", st_value_decimal_str(v));
    case ST_VALUE_UUID: {
        char text[37];
        st_value_uuid_str(v, text);
        return st__buf_printf(b, "UUID('%s')", text);
    }
    default: /* complex: "1j" for a zero real part of positive sign, else "(re+imj)" */
        if (s->c[0] == 0.0 && !signbit(s->c[0]))
            return complex_part(b, s->c[1], 0) || st__buf_putc(b, 'j') ? -1 : 0;
        return st__buf_putc(b, '(') || complex_part(b, s->c[0], 0) || complex_part(b, s->c[1], 1) ||
                       st__buf_puts(b, "j)")
                   ? -1
                   : 0;
    }
}
