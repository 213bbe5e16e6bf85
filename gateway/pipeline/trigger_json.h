/*
 * trigger_json.h - the trigger payload (docs/schema/trigger.schema.json).
 */
#ifndef BGW_TRIGGER_JSON_H
#define BGW_TRIGGER_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline.h"
#include "snapshot.h"

#define TRIGGER_SCHEMA_VERSION 1

struct trigger_fields {
	uint64_t ts_us;
	const char *site, *gateway, *zone;
	enum visit_event_kind event;
	const char *customer_ref;
	const char *campaign;
	int64_t campaign_id;
	uint32_t dwell_s;
	float rssi, proximity_m;
	bool rssi_known;           /* false: rssi and proximity_m are published as null */
	const char *channels[SNAP_MAX_CHANNELS];
	uint32_t n_channels;
	const char *policy;       /* retargeting consent policy version */
};

/* A time-ordered UUIDv7 (RFC 9562): 48-bit ms timestamp, 74 random bits
 * from getrandom(). Ordered ids keep the outbox and subscribers' dedupe
 * indexes append-mostly. false when no randomness is available. */
bool trigger_uuid7(uint64_t ts_us, char out[37]);

/* The JSON payload, byte for byte what cJSON_PrintUnformatted gives for the
 * same fields (malloc'd: free with free()), NULL on failure. */
char *trigger_json_build(const struct trigger_fields *f, const char *id);

const char *trigger_event_name(enum visit_event_kind k);

/*
 * The "channels" of a trigger document as trigger_json_build writes it,
 * read without building a cJSON tree (the publisher re-checks them before
 * each publication). The names are copied, NUL-terminated, into buf and
 * pointed to from names[]. Returns their number, or -1 for anything this
 * reader does not take on itself: a document of another shape (whitespace,
 * nested objects, \u escapes, odd numbers, bytes after the end), no or a
 * repeated "channels", an item that is not a plain string, more than max
 * names or a full buf. A -1 is no verdict: the caller reads such a document
 * with a full JSON parser.
 */
int trigger_json_channels(const char *doc, size_t len, const char **names, size_t max,
			  char *buf, size_t buf_len);

#endif
