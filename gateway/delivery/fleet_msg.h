/*
 * fleet_msg.h - the signed messages of a fleet (docs/fleet.md): changes on
 * <prefix>/consent, the retained head on <prefix>/consent/head, snapshot
 * chunks on <prefix>/<site>/<gateway>/consent/snapshot.
 *
 * The envelope is consent_sig.h's (base64 payload, Ed25519 signature, key
 * fingerprint). Every payload is a JSON object naming its fleet, its kind,
 * the signing key, its sequence under that key and when it was issued:
 *
 *   {"fleet": "acme", "type": "change", "key": "<fpr>", "seq": 42,
 *    "issued_at": 1767225600, "item": {"customer": {...}}}
 *   {"fleet": "acme", "type": "head", "key": "<fpr>", "seq": 42, "issued_at": ...}
 *   {"fleet": "acme", "type": "snapshot", "key": "<fpr>", "seq": 42, "issued_at": ...,
 *    "snap": "<id>", "chunk": 0, "chunks": 7, "items": [{"customer": {...}}, ...]}
 *
 * A message names the key it was signed with inside the signed bytes, so a
 * message of one key cannot pass for another key's sequence.
 */
#ifndef BGW_FLEET_MSG_H
#define BGW_FLEET_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "consent_sig.h"

#define FLEET_NAME_MAX 64
#define FLEET_KEYS_MAX 2     /* the current key and the next one during a rotation */

enum fleet_type { FLEET_CHANGE = 1, FLEET_HEAD, FLEET_SNAPSHOT };

enum fleet_verdict {
	FLEET_OK = 0,
	FLEET_MALFORMED,      /* not the envelope, not the payload, a field wrong */
	FLEET_BAD_SIGNATURE,  /* unsigned, or no trusted key verifies it */
	FLEET_OTHER_FLEET,    /* signed, but for another fleet */
	FLEET_REPLAYED,       /* signed, but older than what we hold */
	FLEET_GAP,            /* signed, but a sequence was missed */
	FLEET_FAILED,         /* valid, the store refused it */
	FLEET_VERDICTS
};

struct fleet_header {
	enum fleet_type type;
	char key[CONSENT_FPR_LEN + 1];
	int64_t seq;
	int64_t issued_at;
};

const char *fleet_verdict_name(enum fleet_verdict v);

/* The envelope of payload (with its header fields added): malloc'd text or
 * NULL + err. fpr is priv's fingerprint. */
char *fleet_msg_sign(EVP_PKEY *priv, const char *fpr, const char *fleet, enum fleet_type type,
		     int64_t seq, int64_t issued_at, cJSON *payload, char *err, size_t errlen);

/*
 * Checks envelope, signature (against any of keys[n], with fingerprints
 * fprs[n]), payload and fleet. On FLEET_OK *payload is the parsed object
 * (cJSON_Delete it) and *h its header; anything else: err says why.
 */
enum fleet_verdict fleet_msg_open(EVP_PKEY *const *keys, char (*fprs)[CONSENT_FPR_LEN + 1],
				  size_t n, const char *fleet, const void *msg, size_t len,
				  size_t max_bytes, struct fleet_header *h, cJSON **payload,
				  char *err, size_t errlen);

#endif
