/*
 * scn_lex.c - the words and values of a scenario line.
 *
 * Numbers are read with an explicit base: strtol's base 0 would read a
 * leading zero as octal, and "0110" in a scenario means 110 to anyone who
 * writes one.
 */
#include "scn_lex.h"
#include "bgw_util.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 16 for "0x..." (after an optional sign), else 10. */
static int number_base(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	return s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;
}

int scn_lex_words(char *line, char **argv, int max)
{
	int argc = 0;
	char *c = line;

	for (;;) {
		while (*c == ' ' || *c == '\t' || *c == '\r')
			c++;
		if (!*c || *c == '#')
			break;
		if (argc == max)
			return -1;
		argv[argc++] = c;
		while (*c && *c != ' ' && *c != '\t' && *c != '\r')
			c++;
		if (*c)
			*c++ = 0;
	}
	return argc;
}

size_t scn_lex_fields(char *s, char **fields, size_t max)
{
	size_t n = 0;

	fields[n++] = s;
	for (char *c = s; *c; c++) {
		if (*c == ':') {
			if (n == max)
				return max + 1;
			*c = 0;
			fields[n++] = c + 1;
		}
	}
	return n;
}

int scn_lex_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end;

	errno = 0;
	long long v = strtoll(s, &end, number_base(s));

	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int scn_lex_u64(const char *s, uint64_t *out)
{
	char *end;

	/* strtoull would wrap "-1" to the largest value. */
	if (s[0] == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, number_base(s));

	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

int scn_lex_double(const char *s, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	double v = strtod(s, &end);

	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int scn_lex_duration(const char *s, uint64_t *out_us)
{
	double total = 0;
	bool any = false;

	while (*s) {
		char *end;

		errno = 0;
		double v = strtod(s, &end);

		if (errno || end == s || !isfinite(v) || v < 0 || *s == '+' || *s == '-')
			return -1;
		s = end;
		double unit;

		if (!strncmp(s, "ms", 2)) {
			unit = 1e3;
			s += 2;
		} else if (*s == 's') {
			unit = 1e6;
			s++;
		} else if (*s == 'm') {
			unit = 60e6;
			s++;
		} else if (*s == 'h') {
			unit = 3600e6;
			s++;
		} else if (*s == 'd') {
			unit = 86400e6;
			s++;
		} else if (!*s && !any) {
			unit = 1e6; /* bare number: seconds */
		} else {
			return -1;
		}
		total += v * unit;
		any = true;
		if (total > (double)SCN_LEX_MAX_DURATION_US)
			return -1;
	}
	if (!any)
		return -1;
	*out_us = (uint64_t)llround(total);
	return 0;
}

/* Copy the part before ".." of s into buf; NULL when there is no "..", or
 * it does not fit. */
static const char *range_split(const char *s, char *buf, size_t cap, bool *is_range)
{
	const char *dots = strstr(s, "..");

	*is_range = dots != NULL;
	if (!dots || (size_t)(dots - s) >= cap)
		return NULL;
	memcpy(buf, s, (size_t)(dots - s));
	buf[dots - s] = 0;
	return dots + 2;
}

int scn_lex_range(const char *s, double lo, double hi, double *min, double *max)
{
	char buf[64];
	bool is_range;
	const char *second = range_split(s, buf, sizeof(buf), &is_range);

	if (!is_range) {
		if (scn_lex_double(s, lo, hi, min))
			return -1;
		*max = *min;
		return 0;
	}
	if (!second || scn_lex_double(buf, lo, hi, min) || scn_lex_double(second, lo, hi, max) ||
	    *max < *min)
		return -1;
	return 0;
}

int scn_lex_duration_range(const char *s, uint64_t *min_us, uint64_t *max_us)
{
	char buf[64];
	bool is_range;
	const char *second = range_split(s, buf, sizeof(buf), &is_range);

	if (!is_range) {
		if (scn_lex_duration(s, min_us))
			return -1;
		*max_us = *min_us;
		return 0;
	}
	if (!second || scn_lex_duration(buf, min_us) || scn_lex_duration(second, max_us) ||
	    *max_us < *min_us)
		return -1;
	return 0;
}

int scn_lex_addr(const char *s, uint8_t addr[6])
{
	/* Colons exactly between the pairs: bgw_hex_decode alone would take
	 * them anywhere between bytes. */
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (i < 5 && s[i * 3 + 2] != ':')
			return -1;
		if (!bgw_hex_decode(s + i * 3, 2, &addr[5 - i], 1, NULL))
			return -1;
	}
	return 0;
}

int scn_lex_start_time(const char *s, int64_t *out)
{
	const long long year_2100 = 4102444800LL;
	long long v;

	if (!scn_lex_int(s, 0, year_2100, &v)) {
		*out = v;
		return 0;
	}
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);

	if (!end || *end)
		return -1;
	time_t t = timegm(&tm);

	if (t < 0 || t > year_2100)
		return -1;
	*out = t;
	return 0;
}
