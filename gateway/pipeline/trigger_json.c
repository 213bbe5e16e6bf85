/* trigger_json.c - UUIDv7 ids and the trigger JSON document. */
#include "trigger_json.h"

#include <errno.h>
#include <float.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bgw_util.h"
#include "pl_json.h"

const char *trigger_event_name(enum visit_event_kind k)
{
	switch (k) {
	case VISIT_ENTER:
		return "enter";
	case VISIT_DWELL:
		return "dwell";
	case VISIT_EXIT:
		return "exit";
	}
	return "unknown";
}

bool trigger_uuid7(uint64_t ts_us, char out[37])
{
	/* Where the dashes go in the 32 hex digits of the 16 bytes. */
	static const uint8_t groups[] = { 4, 2, 2, 2, 6 };
	uint8_t b[16];
	uint64_t ms = ts_us / 1000u;
	ssize_t n;
	size_t at = 0;

	do
		n = getrandom(b + 6, 10, 0);
	while (n < 0 && errno == EINTR);
	if (n != 10)
		return false;
	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)(ms >> (40 - 8 * i));
	b[6] = (uint8_t)(0x70 | (b[6] & 0x0F)); /* version 7 */
	b[8] = (uint8_t)(0x80 | (b[8] & 0x3F)); /* RFC 9562 variant */
	for (size_t g = 0, i = 0; g < sizeof(groups); i += groups[g], g++) {
		if (g)
			out[at++] = '-';
		bgw_hex_encode(b + i, groups[g], out + at);
		at += 2u * groups[g];
	}
	return true;
}

/*
 * The document is written directly rather than built as a cJSON tree and
 * printed: the tree cost ~38,000 instructions and a dozen allocations per
 * trigger, the writer a fifth of that. The bytes are the ones
 * cJSON_PrintUnformatted gives for the same tree (same key order, string
 * escapes and number formats); the unit test compares the two.
 */
struct jw {
	char *p;
};

static void jw_raw(struct jw *w, const char *s, size_t n)
{
	memcpy(w->p, s, n);
	w->p += n;
}

#define JW_LIT(w, lit) jw_raw((w), (lit), sizeof(lit) - 1)

/* A string as cJSON escapes it: quote, backslash and the five short forms,
 * other control bytes as \u00xx, every other byte (UTF-8 too) as it is. */
static void jw_str(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	*w->p++ = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		char e = 0;

		if (*c > 31 && *c != '"' && *c != '\\') {
			*w->p++ = (char)*c;
			continue;
		}
		switch (*c) {
		case '"':  e = '"'; break;
		case '\\': e = '\\'; break;
		case '\b': e = 'b'; break;
		case '\f': e = 'f'; break;
		case '\n': e = 'n'; break;
		case '\r': e = 'r'; break;
		case '\t': e = 't'; break;
		}
		*w->p++ = '\\';
		if (e) {
			*w->p++ = e;
		} else {
			JW_LIT(w, "u00");
			*w->p++ = hex[*c >> 4];
			*w->p++ = hex[*c & 15];
		}
	}
	*w->p++ = '"';
}

/* Room for s escaped: at most 6 bytes per byte, and the quotes. */
static size_t jw_str_room(const char *s)
{
	return 6 * strlen(s) + 2;
}

static void jw_uint(struct jw *w, uint64_t u)
{
	char tmp[20];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + u % 10);
	while (u /= 10);
	while (n)
		*w->p++ = tmp[--n];
}

static bool close_enough(double a, double b)
{
	double max = fabs(a) > fabs(b) ? fabs(a) : fabs(b);

	return fabs(a - b) <= max * DBL_EPSILON;
}

/* A number as cJSON prints it: null for NaN and infinities, else the
 * shorter of 15 or 17 significant digits that reads back (near enough).
 * A whole number below 1e15 is what "%1.15g" makes of it, digit for digit
 * (-0 included), written without printf. At most 25 bytes. */
static void jw_num(struct jw *w, double d)
{
	char tmp[32];
	int n;

	if (isnan(d) || isinf(d)) {
		JW_LIT(w, "null");
		return;
	}
	if (fabs(d) < 1e15 && d == trunc(d)) {
		if (signbit(d))
			*w->p++ = '-';
		jw_uint(w, (uint64_t)fabs(d));
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%1.15g", d);
	if (!close_enough(strtod(tmp, NULL), d))
		n = snprintf(tmp, sizeof(tmp), "%1.17g", d);
	for (int i = 0; i < n; i++)
		*w->p++ = tmp[i] == ',' ? '.' : tmp[i];  /* a locale's decimal comma */
}

/* v rounded to a step of 1/scale (0.1 or 0.01), printed as cJSON prints
 * round(v / step) * step. When that double is the one nearest to k/scale
 * (nearly always), "%1.15g" gives k/scale's own digits, and they read back
 * exactly: written directly. Anything else goes the printf way. */
static void jw_rounded(struct jw *w, double v, double step, unsigned scale)
{
	double k = round(v / step), d = k * step;
	uint64_t a, frac;

	if (!(fabs(k) < 1e9) || d == trunc(d) || k / scale != d) {
		jw_num(w, d);
		return;
	}
	a = (uint64_t)fabs(k);
	if (k < 0)
		*w->p++ = '-';
	jw_uint(w, a / scale);
	*w->p++ = '.';
	frac = a % scale;   /* not 0: d is not whole */
	for (unsigned unit = scale / 10; frac; unit /= 10) {
		*w->p++ = (char)('0' + frac / unit);
		frac %= unit;
	}
}

char *trigger_json_build(const struct trigger_fields *f, const char *id)
{
	const char *strs[] = { id, f->site, f->gateway, f->zone, f->customer_ref, f->campaign,
			       f->policy };
	char ts[40];
	size_t room = 512;
	struct jw w;
	char *out;

	/* A missing field is a failed document, as with cJSON's NULL strings. */
	for (size_t i = 0; i < BGW_ARRAY_SIZE(strs); i++) {
		if (!strs[i])
			return NULL;
		room += jw_str_room(strs[i]);
	}
	for (uint32_t i = 0; i < f->n_channels; i++) {
		if (!f->channels[i])
			return NULL;
		room += jw_str_room(f->channels[i]) + 1;
	}
	pl_json_time(ts, sizeof(ts), f->ts_us);
	room += jw_str_room(ts);
	out = malloc(room);
	if (!out)
		return NULL;
	w.p = out;
	JW_LIT(&w, "{\"schema\":");
	jw_num(&w, TRIGGER_SCHEMA_VERSION);
	JW_LIT(&w, ",\"id\":");
	jw_str(&w, id);
	JW_LIT(&w, ",\"ts\":");
	jw_str(&w, ts);
	JW_LIT(&w, ",\"site\":");
	jw_str(&w, f->site);
	JW_LIT(&w, ",\"gateway\":");
	jw_str(&w, f->gateway);
	JW_LIT(&w, ",\"zone\":");
	jw_str(&w, f->zone);
	JW_LIT(&w, ",\"event\":");
	jw_str(&w, trigger_event_name(f->event));
	JW_LIT(&w, ",\"customer_ref\":");
	jw_str(&w, f->customer_ref);
	JW_LIT(&w, ",\"campaign\":");
	jw_str(&w, f->campaign);
	JW_LIT(&w, ",\"campaign_id\":");
	jw_num(&w, (double)f->campaign_id);
	JW_LIT(&w, ",\"dwell_s\":");
	jw_num(&w, f->dwell_s);
	JW_LIT(&w, ",\"rssi\":");
	if (f->rssi_known)
		jw_rounded(&w, f->rssi, 0.1, 10);
	else
		JW_LIT(&w, "null");
	JW_LIT(&w, ",\"proximity_m\":");
	if (f->rssi_known)
		jw_rounded(&w, f->proximity_m, 0.01, 100);
	else
		JW_LIT(&w, "null");
	JW_LIT(&w, ",\"channels\":[");
	for (uint32_t i = 0; i < f->n_channels; i++) {
		if (i)
			*w.p++ = ',';
		jw_str(&w, f->channels[i]);
	}
	JW_LIT(&w, "],\"policy\":");
	jw_str(&w, f->policy);
	*w.p++ = '}';
	*w.p = '\0';
	return out;
}

/* ------------------------------------------------------ reading channels */

struct jr {
	const char *p, *end;
};

/* A string at r->p: its contents unescaped into out (when out is given, at
 * most cap bytes with the NUL). false for what the fast reader leaves to a
 * full parser: \u escapes, raw control bytes, NUL, a cut document. */
static bool jr_str(struct jr *r, char *out, size_t cap, size_t *n)
{
	size_t o = 0;

	if (r->p == r->end || *r->p != '"')
		return false;
	for (r->p++; r->p < r->end; r->p++) {
		unsigned char c = (unsigned char)*r->p;

		if (c == '"') {
			r->p++;
			if (out) {
				if (o >= cap)
					return false;
				out[o] = '\0';
			}
			*n = o;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (++r->p == r->end)
				return false;
			switch (*r->p) {
			case '"':  c = '"'; break;
			case '\\': c = '\\'; break;
			case '/':  c = '/'; break;
			case 'b':  c = '\b'; break;
			case 'f':  c = '\f'; break;
			case 'n':  c = '\n'; break;
			case 'r':  c = '\r'; break;
			case 't':  c = '\t'; break;
			default:   return false;
			}
		}
		if (out) {
			if (o + 1 >= cap)
				return false;
			out[o] = (char)c;
		}
		o++;
	}
	return false;
}

static bool jr_digits(struct jr *r)
{
	const char *s = r->p;

	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > s;
}

/* A number in strict JSON form (which any JSON parser reads alike). */
static bool jr_num(struct jr *r)
{
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (r->p == r->end || *r->p < '1' || *r->p > '9' || !jr_digits(r))
		return false;
	if (r->p < r->end && *r->p == '.' && (r->p++, !jr_digits(r)))
		return false;
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!jr_digits(r))
			return false;
	}
	return true;
}

static bool jr_lit(struct jr *r, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n) != 0)
		return false;
	r->p += n;
	return true;
}

static bool jr_next(struct jr *r, char c)
{
	if (r->p == r->end || *r->p != c)
		return false;
	r->p++;
	return true;
}

/* An array of strings; when names is given, they are kept. */
static bool jr_strings(struct jr *r, const char **names, size_t max, size_t *count, char *buf,
		       size_t buf_len)
{
	size_t used = 0, n;

	*count = 0;
	if (!jr_next(r, '['))
		return false;
	if (jr_next(r, ']'))
		return true;
	do {
		if (names && *count == max)
			return false;
		if (!jr_str(r, names ? buf + used : NULL, buf_len - used, &n))
			return false;
		if (names)
			names[*count] = buf + used;
		used += n + 1;
		(*count)++;
	} while (jr_next(r, ','));
	return jr_next(r, ']');
}

int trigger_json_channels(const char *doc, size_t len, const char **names, size_t max,
			  char *buf, size_t buf_len)
{
	struct jr r = { doc, doc + len };
	int found = -1;

	if (!jr_next(&r, '{'))
		return -1;
	if (jr_next(&r, '}'))
		return -1;
	do {
		const char *key = r.p + 1;
		size_t klen, count;
		bool plain, ok;

		if (!jr_str(&r, NULL, 0, &klen))
			return -1;
		plain = r.p - key == (ptrdiff_t)klen + 1;  /* no escapes in the key */
		if (!jr_next(&r, ':'))
			return -1;
		if (plain && klen == 8 && memcmp(key, "channels", 8) == 0) {
			if (found >= 0 || !jr_strings(&r, names, max, &count, buf, buf_len))
				return -1;
			found = (int)count;
			continue;
		}
		switch (r.p < r.end ? *r.p : '\0') {
		case '"':  ok = jr_str(&r, NULL, 0, &count); break;
		case '[':  ok = jr_strings(&r, NULL, 0, &count, NULL, 0); break;
		case 'n':  ok = jr_lit(&r, "null"); break;
		case 't':  ok = jr_lit(&r, "true"); break;
		case 'f':  ok = jr_lit(&r, "false"); break;
		default:   ok = jr_num(&r); break;
		}
		if (!ok)
			return -1;
	} while (jr_next(&r, ','));
	if (!jr_next(&r, '}') || r.p != r.end)
		return -1;
	return found;
}
