/*
 * store_beacons.h - the store's own beacons: registered by name with how to
 * recognise them and where they are (beaconctl beacon add|list|remove), and
 * read by the daemon, which reports each one's battery and whether it is
 * still heard.
 *
 * TYPE VALUE, normalised on the way in:
 *   ibeacon        UUID:MAJOR:MINOR      (uuid lower case with dashes)
 *   eddystone-uid  NAMESPACE:INSTANCE    (20:12 hex digits, lower case)
 *   eddystone-ns   NAMESPACE             (every instance of a namespace)
 *   eddystone-url  URL                   (as the frame expands it)
 *   tlm            AA:BB:CC:DD:EE:FF     (a TLM-only beacon, by its public
 *                                         or static address, upper case)
 */
#ifndef BGW_STORE_BEACONS_H
#define BGW_STORE_BEACONS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define STORE_BEACON_NAME_MAX 64
#define STORE_BEACON_VALUE_MAX 128
#define STORE_BEACON_PLACE_MAX 128

enum store_beacon_type {
	STORE_BEACON_IBEACON,
	STORE_BEACON_UID,
	STORE_BEACON_NS,
	STORE_BEACON_URL,
	STORE_BEACON_TLM,
};

struct store_beacon {
	char name[STORE_BEACON_NAME_MAX];
	enum store_beacon_type type;
	char value[STORE_BEACON_VALUE_MAX];   /* normalised text */
	char place[STORE_BEACON_PLACE_MAX];
	/* The value decoded, for matching frames: */
	uint8_t id[20];       /* ibeacon: uuid(16) major(2) minor(2); uid: ns(10) inst(6);
			       * ns: ns(10); tlm: address, least significant byte first */
};

/* Inline: the pipeline uses it without linking the store. */
static inline const char *store_beacon_type_name(enum store_beacon_type t)
{
	static const char *const names[] = {
		[STORE_BEACON_IBEACON] = "ibeacon",
		[STORE_BEACON_UID] = "eddystone-uid",
		[STORE_BEACON_NS] = "eddystone-ns",
		[STORE_BEACON_URL] = "eddystone-url",
		[STORE_BEACON_TLM] = "tlm",
	};

	return (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/* TYPE VALUE -> b->type, b->value (normalised), b->id. STORE_EINVAL with a
 * message naming what is wrong. */
int store_beacon_parse(const char *type, const char *value, struct store_beacon *b, char *err);

/* Changes, each its own transaction with an audit entry. */
int store_beacon_add(sqlite3 *db, const char *actor, const char *name, const char *type,
		     const char *value, const char *place, char *err);
int store_beacon_remove(sqlite3 *db, const char *actor, const char *name, char *err);

/* [{"name","type","value","place","added_at"}...], by name. */
int store_beacon_list(sqlite3 *db, cJSON **out, char *err);

/* Every registered beacon, decoded (for the daemon; *out freed with free()). */
int store_beacon_load(sqlite3 *db, struct store_beacon **out, size_t *n, char *err);

#endif
