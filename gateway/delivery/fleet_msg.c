/*
 * fleet_msg.c - sign and open a fleet's messages (see fleet_msg.h).
 */
#include "fleet_msg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_update.h"

static const char *const type_names[] = {
	[FLEET_CHANGE] = "change", [FLEET_HEAD] = "head", [FLEET_SNAPSHOT] = "snapshot",
};

const char *fleet_verdict_name(enum fleet_verdict v)
{
	static const char *const names[FLEET_VERDICTS] = {
		[FLEET_OK] = "ok",
		[FLEET_MALFORMED] = "malformed",
		[FLEET_BAD_SIGNATURE] = "bad signature",
		[FLEET_OTHER_FLEET] = "other fleet",
		[FLEET_REPLAYED] = "replayed or stale",
		[FLEET_GAP] = "gap",
		[FLEET_FAILED] = "not applicable",
	};

	return (unsigned)v < FLEET_VERDICTS ? names[v] : "?";
}

char *fleet_msg_sign(EVP_PKEY *priv, const char *fpr, const char *fleet, enum fleet_type type,
		     int64_t seq, int64_t issued_at, cJSON *payload, char *err, size_t errlen)
{
	char *text, *env;

	cJSON_DeleteItemFromObjectCaseSensitive(payload, "fleet");
	cJSON_AddStringToObject(payload, "fleet", fleet);
	cJSON_AddStringToObject(payload, "type", type_names[type]);
	cJSON_AddStringToObject(payload, "key", fpr);
	cJSON_AddNumberToObject(payload, "seq", (double)seq);
	cJSON_AddNumberToObject(payload, "issued_at", (double)issued_at);
	text = cJSON_PrintUnformatted(payload);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	env = consent_sign_envelope(priv, text, strlen(text), err, errlen);
	cJSON_free(text);
	return env;
}

static int get_int(const cJSON *o, const char *name, int64_t *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) ||
	    it->valuedouble != floor(it->valuedouble) || it->valuedouble < 0 ||
	    it->valuedouble > (double)CONSENT_SEQ_MAX)
		return -1;
	*v = (int64_t)it->valuedouble;
	return 0;
}

enum fleet_verdict fleet_msg_open(EVP_PKEY *const *keys, char (*fprs)[CONSENT_FPR_LEN + 1],
				  size_t n, const char *fleet, const void *msg, size_t len,
				  size_t max_bytes, struct fleet_header *h, cJSON **payload,
				  char *err, size_t errlen)
{
	uint8_t sig[CONSENT_SIG_LEN], *bytes = NULL;
	char named[CONSENT_FPR_LEN + 8];
	enum consent_result r;
	const cJSON *it;
	size_t plen, i;
	cJSON *o = NULL;
	int signer = -1;

	*payload = NULL;
	memset(h, 0, sizeof(*h));
	r = consent_envelope_parse(msg, len, max_bytes, &bytes, &plen, sig, named, sizeof(named),
				   err, errlen);
	if (r == CONSENT_UNSIGNED || r == CONSENT_BAD_SIGNATURE)
		return FLEET_BAD_SIGNATURE;
	if (r != CONSENT_APPLIED)
		return FLEET_MALFORMED;
	/* Nothing of the payload is looked at before a trusted key verified it. */
	for (i = 0; i < n && signer < 0; i++)
		if (keys[i] && consent_sig_verify(keys[i], bytes, plen, sig, sizeof(sig)))
			signer = (int)i;
	if (signer < 0) {
		free(bytes);
		snprintf(err, errlen, "no trusted key verifies it");
		return FLEET_BAD_SIGNATURE;
	}
	if (consent_text_check((const char *)bytes, plen, err, errlen)) {
		free(bytes);
		return FLEET_MALFORMED;
	}
	o = cJSON_ParseWithLength((const char *)bytes, plen);
	free(bytes);
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "payload is not a JSON object");
		goto malformed;
	}
	it = cJSON_GetObjectItemCaseSensitive(o, "type");
	for (i = 1; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (cJSON_IsString(it) && !strcmp(it->valuestring, type_names[i]))
			h->type = (enum fleet_type)i;
	if (!h->type || get_int(o, "seq", &h->seq) || get_int(o, "issued_at", &h->issued_at)) {
		snprintf(err, errlen, "type, seq or issued_at missing or wrong");
		goto malformed;
	}
	it = cJSON_GetObjectItemCaseSensitive(o, "key");
	if (!cJSON_IsString(it) || strcmp(it->valuestring, fprs[signer])) {
		snprintf(err, errlen, "signed by key %s but names another key", fprs[signer]);
		goto malformed;
	}
	snprintf(h->key, sizeof(h->key), "%s", fprs[signer]);
	it = cJSON_GetObjectItemCaseSensitive(o, "fleet");
	if (!cJSON_IsString(it)) {
		snprintf(err, errlen, "no fleet named");
		goto malformed;
	}
	if (strcmp(it->valuestring, fleet)) {
		snprintf(err, errlen, "for another fleet");
		cJSON_Delete(o);
		return FLEET_OTHER_FLEET;
	}
	*payload = o;
	return FLEET_OK;
malformed:
	cJSON_Delete(o);
	return FLEET_MALFORMED;
}
