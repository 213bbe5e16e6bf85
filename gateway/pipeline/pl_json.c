/* pl_json.c - JSON string escaping and timestamps without allocation. */
#include "pl_json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void pl_json_escape(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	if (!cap)
		return;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		size_t n;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			n = 2;
		} else if (c < 0x20) {
			n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
		} else {
			esc[0] = (char)c;
			n = 1;
		}
		if (o + n >= cap)
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o] = '\0';
}

static char *put_digits(char *p, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (the "civil from
 * days" algorithm of H. Hinnant), for days >= 0. */
static void civil(uint64_t days, unsigned *y, unsigned *m, unsigned *d)
{
	uint64_t z = days + 719468, era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (unsigned)(yoe + era * 400) + (*m <= 2);
}

/* Written by hand rather than with gmtime_r, strftime and snprintf: every
 * trigger carries one, and those took ~2,500 instructions. */
void pl_json_time(char *out, size_t cap, uint64_t ts_us)
{
	uint64_t s = ts_us / 1000000u;
	unsigned y, mo, d, sod = (unsigned)(s % 86400u);
	char buf[32], *p = buf;

	civil(s / 86400u, &y, &mo, &d);
	if (y > 9999) {
		/* Beyond four-digit years: the C library's own rendering. */
		time_t t = (time_t)s;
		struct tm tm;
		char base[40];

		gmtime_r(&t, &tm);
		strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(out, cap, "%s.%03uZ", base, (unsigned)(ts_us % 1000000u / 1000u));
		return;
	}
	p = put_digits(p, y, 4);
	*p++ = '-';
	p = put_digits(p, mo, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, sod / 3600, 2);
	*p++ = ':';
	p = put_digits(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, sod % 60, 2);
	*p++ = '.';
	p = put_digits(p, (unsigned)(ts_us % 1000000u / 1000u), 3);
	*p++ = 'Z';
	if (cap) {
		size_t n = (size_t)(p - buf) < cap ? (size_t)(p - buf) : cap - 1;

		memcpy(out, buf, n);
		out[n] = '\0';
	}
}
