/*
 * consent_parse.c - strict parsing of consent-update envelopes and payloads
 * (outside input: bounded, never trusts a length, rejects unknown fields).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_sig.h"
#include "consent_update.h"
#include "bgw_util.h"

const char *consent_result_name(enum consent_result r)
{
	static const char *const names[CONSENT_RESULTS] = {
		[CONSENT_APPLIED] = "applied",
		[CONSENT_OVERSIZED] = "oversized",
		[CONSENT_MALFORMED] = "malformed",
		[CONSENT_UNSIGNED] = "unsigned",
		[CONSENT_BAD_SIGNATURE] = "bad signature",
		[CONSENT_REPLAYED] = "replayed or out of order",
		[CONSENT_FAILED] = "not applicable",
		[CONSENT_GAP] = "gap",
	};

	return (unsigned)r < CONSENT_RESULTS ? names[r] : "?";
}

/* Known keys only, each at most once: with a duplicate, which one counts
 * would depend on the parser (cJSON takes the first, others the last), so a
 * signed message could mean one thing to the backend and another here. */
static bool only_keys(const cJSON *o, const char *const *allowed, char *err, size_t errlen)
{
	const cJSON *it;
	uint32_t seen = 0;
	size_t i;

	cJSON_ArrayForEach(it, o) {
		for (i = 0; allowed[i]; i++)
			if (it->string && !strcmp(it->string, allowed[i]))
				break;
		if (!allowed[i]) {
			/* Only known names are echoed: this text is logged. */
			snprintf(err, errlen, "unknown field");
			return false;
		}
		if (seen & (1u << i)) {
			snprintf(err, errlen, "duplicate field \"%s\"", allowed[i]);
			return false;
		}
		seen |= 1u << i;
	}
	return true;
}

static int hex4(const char *p, const char *end)
{
	int v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = bgw_hex_nibble(p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/*
 * The raw JSON text, before cJSON sees it: no NUL byte anywhere, and no
 * control character inside a string, raw or escaped (\n, \t, \u0000 ..
 * \u001f, \u007f, \u0080 .. \u009f, and their UTF-8 forms). cJSON ends a
 * string at a decoded \u0000, so "cust-a\u0000zzz" would silently become
 * "cust-a"; and no field of an update has a use for control characters.
 */
int consent_text_check(const char *text, size_t n, char *err, size_t errlen)
{
	const char *p = text, *end = text + n;
	bool in_string = false;

	for (; p < end; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == 0) {
			snprintf(err, errlen, "NUL byte at offset %zu", (size_t)(p - text));
			return -1;
		}
		if (!in_string) {
			in_string = ch == '"';
			continue;
		}
		if (ch == '"') {
			in_string = false;
		} else if (ch < 0x20 || ch == 0x7f ||
			   (ch == 0xc2 && p + 1 < end && (unsigned char)p[1] >= 0x80 &&
			    (unsigned char)p[1] <= 0x9f)) {
			snprintf(err, errlen, "control character in a string at offset %zu",
				 (size_t)(p - text));
			return -1;
		} else if (ch == '\\') {
			int v;

			if (++p == end)
				break;
			if (*p == '"' || *p == '\\' || *p == '/')
				continue;
			v = *p == 'u' ? hex4(p + 1, end) : -1;
			if (v < 0x20 || v == 0x7f || (v >= 0x80 && v <= 0x9f)) {
				snprintf(err, errlen, "control character or bad escape in a string "
					 "at offset %zu", (size_t)(p - 1 - text));
				return -1;
			}
			p += 4;
		}
	}
	return 0;
}

enum consent_result consent_envelope_parse(const char *msg, size_t len, size_t max_bytes,
					   uint8_t **payload, size_t *plen,
					   uint8_t sig[64], char *key_fpr, size_t fprlen,
					   char *err, size_t errlen)
{
	static const char *const keys[] = { "payload", "sig", "key", NULL };
	const cJSON *p, *s, *k;
	cJSON *o;
	uint8_t *buf = NULL, sigbuf[66];
	long n;
	enum consent_result r = CONSENT_MALFORMED;

	*payload = NULL;
	*plen = 0;
	if (key_fpr && fprlen)
		key_fpr[0] = '\0';
	if (len > max_bytes) {
		snprintf(err, errlen, "%zu bytes, more than the %zu allowed", len, max_bytes);
		return CONSENT_OVERSIZED;
	}
	if (consent_text_check(msg, len, err, errlen))
		return CONSENT_MALFORMED;
	o = cJSON_ParseWithLength(msg, len);
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}
	if (!only_keys(o, keys, err, errlen))
		goto out;
	p = cJSON_GetObjectItemCaseSensitive(o, "payload");
	s = cJSON_GetObjectItemCaseSensitive(o, "sig");
	k = cJSON_GetObjectItemCaseSensitive(o, "key");
	if (!cJSON_IsString(p)) {
		snprintf(err, errlen, "\"payload\" missing or not a base64 string");
		goto out;
	}
	/* The key names a fingerprint (hex); it is not authenticated and may be
	 * logged, so nothing else passes. */
	if (k && (!cJSON_IsString(k) || !k->valuestring[0] || strlen(k->valuestring) > 64 ||
		  strspn(k->valuestring, "0123456789abcdefABCDEF:") != strlen(k->valuestring))) {
		snprintf(err, errlen, "\"key\" is not a key fingerprint");
		goto out;
	}
	if (!s || cJSON_IsNull(s) || (cJSON_IsString(s) && !s->valuestring[0])) {
		snprintf(err, errlen, "no signature");
		r = CONSENT_UNSIGNED;
		goto out;
	}
	if (!cJSON_IsString(s) ||
	    consent_b64_decode(s->valuestring, strlen(s->valuestring), sigbuf,
			       sizeof(sigbuf)) != 64) {
		snprintf(err, errlen, "\"sig\" is not a base64 64-byte signature");
		r = CONSENT_BAD_SIGNATURE;
		goto out;
	}
	buf = malloc(strlen(p->valuestring) / 4 * 3 + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	n = consent_b64_decode(p->valuestring, strlen(p->valuestring), buf,
			       strlen(p->valuestring) / 4 * 3 + 1);
	if (n <= 0) {
		snprintf(err, errlen, "\"payload\" is not valid base64");
		goto out;
	}
	if (k && key_fpr && fprlen)
		snprintf(key_fpr, fprlen, "%s", k->valuestring);
	memcpy(sig, sigbuf, 64);
	*payload = buf;
	*plen = (size_t)n;
	buf = NULL;
	r = CONSENT_APPLIED;
out:
	free(buf);
	cJSON_Delete(o);
	return r;
}

static int get_text(const cJSON *o, const char *name, bool required, char *dst, size_t n,
		    char *err, size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	dst[0] = '\0';
	if (!it) {
		if (required)
			snprintf(err, errlen, "\"%s\" missing", name);
		return required ? -1 : 0;
	}
	if (!cJSON_IsString(it) || !it->valuestring[0] || strlen(it->valuestring) >= n) {
		snprintf(err, errlen, "\"%s\" must be a non-empty string of at most %zu bytes",
			 name, n - 1);
		return -1;
	}
	memcpy(dst, it->valuestring, strlen(it->valuestring) + 1);
	return 0;
}

static int get_int(const cJSON *o, const char *name, bool required, int64_t min, int64_t *dst,
		   char *err, size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	double v;

	if (!it) {
		if (required)
			snprintf(err, errlen, "\"%s\" missing", name);
		return required ? -1 : 0;
	}
	v = it->valuedouble;
	/* Below 2^53: beyond it a JSON number is no longer an exact integer
	 * (2^53 + 1 reads as 2^53). */
	if (!cJSON_IsNumber(it) || !isfinite(v) || v != floor(v) || v < (double)min ||
	    v > (double)CONSENT_SEQ_MAX) {
		snprintf(err, errlen, "\"%s\" must be an integer from %lld to %lld", name,
			 (long long)min, (long long)CONSENT_SEQ_MAX);
		return -1;
	}
	*dst = (int64_t)v;
	return 0;
}

static int get_channels(const cJSON *o, char *dst, size_t n, char *err, size_t errlen)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "channels"), *it;
	size_t used = 0;

	dst[0] = '\0';
	if (!a)
		return 0;
	if (!cJSON_IsArray(a)) {
		snprintf(err, errlen, "\"channels\" must be an array of strings");
		return -1;
	}
	cJSON_ArrayForEach(it, a) {
		size_t l;

		if (!cJSON_IsString(it) || !it->valuestring[0] || strchr(it->valuestring, ',')) {
			snprintf(err, errlen, "\"channels\" must be an array of names");
			return -1;
		}
		l = strlen(it->valuestring);
		if (used + l + 2 > n) {
			snprintf(err, errlen, "\"channels\" too long");
			return -1;
		}
		if (used)
			dst[used++] = ',';
		memcpy(dst + used, it->valuestring, l + 1);
		used += l;
	}
	return 0;
}

int consent_change_parse(const uint8_t *payload, size_t n, struct consent_change *c, char *err,
			 size_t errlen)
{
	static const char *const keys[] = { "seq", "op", "ref", "purpose", "channels", "expires",
					    "policy", "type", "value", "issued_at", NULL };
	static const struct {
		const char *name;
		enum consent_op op;
	} ops[] = {
		{ "grant", CONSENT_OP_GRANT },
		{ "withdraw", CONSENT_OP_WITHDRAW },
		{ "forget", CONSENT_OP_FORGET },
		{ "identifier_add", CONSENT_OP_IDENTIFIER_ADD },
		{ "identifier_remove", CONSENT_OP_IDENTIFIER_REMOVE },
	};
	char op[32];
	int64_t issued = 0;
	size_t i;
	int rc = -1;
	cJSON *o;

	memset(c, 0, sizeof(*c));
	if (consent_text_check((const char *)payload, n, err, errlen))
		return -1;
	o = cJSON_ParseWithLength((const char *)payload, n);
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "payload is not a JSON object");
		goto out;
	}
	if (!only_keys(o, keys, err, errlen) ||
	    get_int(o, "seq", true, 1, &c->seq, err, errlen) ||
	    get_text(o, "op", true, op, sizeof(op), err, errlen) ||
	    get_int(o, "issued_at", false, 0, &issued, err, errlen))
		goto out;
	for (i = 0; i < BGW_ARRAY_SIZE(ops); i++)
		if (!strcmp(op, ops[i].name))
			c->op = ops[i].op;
	if (!c->op) {
		snprintf(err, errlen, "unknown op");
		goto out;
	}
	switch (c->op) {
	case CONSENT_OP_GRANT:
		if (get_text(o, "ref", true, c->ref, sizeof(c->ref), err, errlen) ||
		    get_text(o, "purpose", true, c->purpose, sizeof(c->purpose), err, errlen) ||
		    get_channels(o, c->channels, sizeof(c->channels), err, errlen) ||
		    get_int(o, "expires", false, 0, &c->expires, err, errlen) ||
		    get_text(o, "policy", false, c->policy, sizeof(c->policy), err, errlen))
			goto out;
		/* As beaconctl consent grant: triggers go only to accepted channels. */
		if (!strcmp(c->purpose, "retargeting") && !c->channels[0]) {
			snprintf(err, errlen, "a retargeting grant needs at least one channel");
			goto out;
		}
		break;
	case CONSENT_OP_WITHDRAW:
		if (get_text(o, "ref", true, c->ref, sizeof(c->ref), err, errlen) ||
		    get_text(o, "purpose", true, c->purpose, sizeof(c->purpose), err, errlen))
			goto out;
		break;
	case CONSENT_OP_FORGET:
		if (get_text(o, "ref", true, c->ref, sizeof(c->ref), err, errlen))
			goto out;
		break;
	case CONSENT_OP_IDENTIFIER_ADD:
		if (get_text(o, "ref", true, c->ref, sizeof(c->ref), err, errlen))
			goto out;
		/* fall through */
	case CONSENT_OP_IDENTIFIER_REMOVE:
		if (get_text(o, "type", true, c->id_type, sizeof(c->id_type), err, errlen) ||
		    get_text(o, "value", true, c->id_value, sizeof(c->id_value), err, errlen))
			goto out;
		break;
	}
	rc = 0;
out:
	cJSON_Delete(o);
	return rc;
}

void consent_escape(const char *s, char *out, size_t n)
{
	size_t used = 0;

	if (!n)
		return;
	for (; s && *s && used + 5 < n; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch >= 0x7f || ch == '\\' || ch == '"')
			used += (size_t)snprintf(out + used, n - used, "\\x%02x", ch);
		else
			out[used++] = (char)ch;
	}
	out[used] = '\0';
}
