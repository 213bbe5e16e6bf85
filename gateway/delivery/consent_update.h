/*
 * consent_update.h - signed consent changes from the backend, received on
 * <prefix>/consent (QoS 1).
 *
 * A message is the envelope of consent_sig.h; its payload (the signed bytes)
 * is one JSON object (docs/schema/consent-update.schema.json):
 *
 *   {"seq": 42, "op": "grant", "ref": "C-1001", "purpose": "retargeting",
 *    "channels": ["push"], "expires": 1767225600, "policy": "v3"}
 *   {"seq": 43, "op": "withdraw", "ref": "C-1001", "purpose": "retargeting"}
 *   {"seq": 44, "op": "forget", "ref": "C-1001"}
 *   {"seq": 45, "op": "identifier_add", "ref": "C-1001", "type": "ibeacon",
 *    "value": "UUID:MAJOR:MINOR"}
 *   {"seq": 46, "op": "identifier_remove", "type": "ibeacon", "value": "..."}
 *
 * Order: updates are applied strictly in sequence, each exactly one beyond
 * the last applied (kept in the kv table as consent.last_seq, updated in the
 * same transaction). Anything with seq <= last is a replay (or reordering)
 * and is rejected. An update further ahead means updates were missed (a
 * session lost while offline, or a kill between libmosquitto's PUBACK and
 * our commit): it is not applied, the highest sequence seen is kept in kv
 * (consent.seen_seq, so it survives a restart) and the gateway is *behind*:
 * it acts on nobody (consent_update_current() is false, the daemon's
 * fail-closed path) until the backend has re-sent every update from
 * last + 1 (it reads consent_seq from the gateway's retained status), or an
 * operator sets the sequence a full re-import stands for (beaconctl consent
 * seq --set N). Nothing is skipped silently.
 *
 * A valid update is applied in ONE transaction with an audit row whose actor
 * is "mqtt:<key fingerprint>". Through the same store functions as beaconctl,
 * a change that ends consent also deletes what the outbox still holds for the
 * customer under that purpose. Every rejection is logged
 * (reason, never the customer reference) and counted, and changes nothing.
 */
#ifndef BGW_CONSENT_UPDATE_H
#define BGW_CONSENT_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct consent_update;
struct delivery_config;

enum consent_result {
	CONSENT_APPLIED = 0,
	CONSENT_OVERSIZED,    /* longer than [consent] max_bytes */
	CONSENT_MALFORMED,    /* not the envelope, bad base64, bad payload fields */
	CONSENT_UNSIGNED,     /* no signature */
	CONSENT_BAD_SIGNATURE,/* signature does not verify with our public key */
	CONSENT_REPLAYED,     /* seq <= last applied */
	CONSENT_FAILED,       /* valid, but the store refused it (locked, bad value...) */
	CONSENT_GAP,          /* valid, but updates before it are missing: not applied */
	CONSENT_RESULTS
};

enum consent_op {
	CONSENT_OP_GRANT = 1,
	CONSENT_OP_WITHDRAW,
	CONSENT_OP_FORGET,
	CONSENT_OP_IDENTIFIER_ADD,
	CONSENT_OP_IDENTIFIER_REMOVE,
};

#define CONSENT_TEXT_MAX 256

/*
 * seq: 1 .. 2^53 - 1 (the largest integer a JSON number holds exactly), and
 * at most CONSENT_SEQ_STEP_MAX beyond the last applied one: a jump further
 * than that is refused, so no single message (a bug on the backend, a key
 * misused once) can use up the range and lock every later update out; it
 * would take 2^21 such steps.
 */
#define CONSENT_SEQ_MAX ((int64_t)9007199254740991)
#define CONSENT_SEQ_STEP_MAX ((int64_t)1 << 32)

/* A parsed payload. */
struct consent_change {
	int64_t seq;
	enum consent_op op;
	char ref[CONSENT_TEXT_MAX];
	char purpose[32];
	char channels[CONSENT_TEXT_MAX];   /* comma separated */
	int64_t expires;                   /* unix seconds, 0 = never */
	char policy[64];
	char id_type[32];
	char id_value[CONSENT_TEXT_MAX];
};

struct consent_update_stats {
	uint64_t applied;
	uint64_t rejected;                 /* sum of the reasons below */
	uint64_t by_result[CONSENT_RESULTS];
	int64_t last_seq;
	int64_t seen_seq;                  /* highest verified seq received (0: none ahead) */
};

/*
 * cfg->consent_pubkey names the backend's public key; db is the daemon's store
 * connection (not owned). NULL + err if the key cannot be read or the last
 * sequence cannot be loaded.
 */
struct consent_update *consent_update_new(const struct delivery_config *cfg, sqlite3 *db,
					  char *err, size_t errlen);
void consent_update_free(struct consent_update *cu);

/*
 * One received message. The envelope, the signature and the payload are
 * checked first: a message that fails is rejected (counted, logged with a
 * rate limit, control characters replaced) and nothing of it is kept. A
 * verified update that finds the database locked (beaconctl busy), or
 * verified updates already waiting, is kept and applied in arrival order by
 * consent_update_retry(); it returns CONSENT_FAILED meanwhile but is not
 * counted as rejected.
 */
enum consent_result consent_update_handle(struct consent_update *cu, const void *msg, size_t len);

/* Retry updates that met a locked database; returns how many still wait.
 * Called from publisher_tick(). */
int consent_update_retry(struct consent_update *cu);

/* Verified updates waiting for the database (applied in order by
 * consent_update_retry()). While any wait, no trigger may be published: a
 * withdrawal may be among them. */
size_t consent_update_waiting(const struct consent_update *cu);

/* [consent] queue_max verified updates wait: take no more messages off the
 * connection until they are applied (they stay queued in the broker). */
bool consent_update_full(const struct consent_update *cu);

/* A verified update could not be kept (out of memory): the consent state
 * is incomplete, no trigger may be published until a restart. */
bool consent_update_lost(const struct consent_update *cu);

/*
 * Has every update the gateway knows of been applied? False while behind
 * (a gap, see above) or after a lost update; *why then says what is missing
 * and how to recover. The daemon acts on nobody while this is false.
 */
bool consent_update_current(const struct consent_update *cu, const char **why);

/* Re-read the last applied and highest seen sequence from the database
 * (another process, beaconctl consent seq --set, may have moved them).
 * Called while behind, at every poll. */
void consent_update_reload(struct consent_update *cu);

const struct consent_update_stats *consent_update_get_stats(const struct consent_update *cu);
const char *consent_result_name(enum consent_result r);

/* ---- parsing only (no key, no database): tests and fuzzing ---- */

/*
 * Split the envelope: payload bytes (malloc'd, *plen) and signature.
 * Returns CONSENT_APPLIED on success (meaning "well-formed"), else the reason.
 */
enum consent_result consent_envelope_parse(const char *msg, size_t len, size_t max_bytes,
					   uint8_t **payload, size_t *plen,
					   uint8_t sig[64], char *key_fpr, size_t fprlen,
					   char *err, size_t errlen);
/* Parse the signed payload. 0, or -1 + err. Rejects unknown and duplicate
 * keys, NUL bytes and control characters in strings, seq out of range.
 * beaconctl sign runs it too, so it never signs what a gateway refuses. */
int consent_change_parse(const uint8_t *payload, size_t n, struct consent_change *c, char *err,
			 size_t errlen);

/* The raw-text checks of both parsers: no NUL byte, no control character
 * (raw or escaped) inside a string. 0, or -1 + err. */
int consent_text_check(const char *text, size_t n, char *err, size_t errlen);

/* Copies s into out[n] with control characters, '\\', '"' and bytes >= 0x7f
 * as \xHH: for logging text that came from outside. */
void consent_escape(const char *s, char *out, size_t n);

#endif
