/*
 * config.h - beacongw.conf: an INI file read with inih.
 *
 * Every key lives in one table (config_keys) with its type, range, default
 * and a one-line description, so the example file, the man page and the
 * parser can be checked against each other. Unknown sections or keys, bad
 * values, and a key given twice are errors that name the file and line.
 */
#ifndef BGW_CONFIG_H
#define BGW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "delivery_config.h"
#include "pipeline_config.h"

#define CONFIG_NAME_MAX 64     /* site, gateway id, zone: MQTT topic levels */
#define CONFIG_PATH_MAX 256
#define CONFIG_ERR_MAX 512
#define CONFIG_MAX_KEYS 128    /* of the key table: where each was set */

#define CONFIG_DEFAULT_PATH "/etc/beacongw/beacongw.conf"

enum config_scan { CONFIG_SCAN_PASSIVE = 0, CONFIG_SCAN_ACTIVE = 1 };
enum config_tristate { CONFIG_AUTO = 0, CONFIG_ON = 1, CONFIG_OFF = 2 };

/*
 * [gateway], [presence], [footfall], [identity] and [beacons] map straight
 * onto the pipeline's tunables: cfg->pipeline.site, .gateway (the id) and
 * .zone are the [gateway] keys (also copied into cfg->delivery). [mqtt],
 * [outbox] and [consent] belong to the delivery part: the table lists them
 * (for documentation) and hands their values to delivery_config_set().
 */
struct config {
	struct pipeline_config pipeline;
	struct {
		char spec[CONFIG_PATH_MAX];
		int scan;                     /* enum config_scan */
		uint32_t interval_ms;
		uint32_t window_ms;
		int extended;                 /* enum config_tristate */
		int reset;                    /* enum config_tristate: auto = h4 yes, hci no */
		uint32_t command_timeout_ms;
		uint32_t watchdog_silence_s;  /* 0 = silence is never an error */
		uint32_t watchdog_rescan_tries;
		uint32_t watchdog_reset_tries;
		uint32_t watchdog_error_limit;
	} source;
	struct {
		char db[CONFIG_PATH_MAX];
		uint32_t visit_retention_days;
		uint32_t poll_ms;
	} storage;
	struct delivery_config delivery;  /* [mqtt], [outbox], [consent] */
	struct {
		bool publish;                 /* closed visits to .../visit through the outbox */
	} visits;
	struct {
		char textfile[CONFIG_PATH_MAX];  /* empty = no metrics */
		uint32_t interval_s;
	} metrics;
	/* Process hygiene: both off unless the admin says otherwise. */
	bool allow_core_dumps;            /* [gateway]: stay dumpable (debugging only) */
	bool password_file_insecure_ok;   /* [mqtt]: accept a group/other-readable file */
	/* Where each key came from, for messages about it after parsing (a
	 * file that cannot be opened...): the file and, per key of the
	 * table, its line (0 = not in the file, the default). */
	char path[CONFIG_PATH_MAX];
	uint16_t key_line[CONFIG_MAX_KEYS];
};

enum config_type {
	CFG_STRING,      /* free text */
	CFG_NAME,        /* [A-Za-z0-9._-]+ : safe as an MQTT topic level */
	CFG_PATH,        /* a file path (empty = unset where allowed) */
	CFG_UINT,        /* decimal, within [min, max]; field of 1, 2 or 4 bytes */
	CFG_INT,         /* signed, same */
	CFG_REAL,        /* decimal number within [min, max]; float or double field */
	CFG_BOOL,        /* yes/no, true/false, on/off, 1/0 */
	CFG_ENUM,        /* one of choices, stored as its index */
	CFG_UINT_LIST,   /* comma-separated ascending uint32s, count (uint8_t) at count_offset */
	CFG_DELEGATE,    /* parsed by delivery_config_set(); def/doc are for documentation */
	CFG_NS_LIST,     /* comma-separated 10-byte hex namespaces; count as above */
};

struct config_key {
	const char *section;
	const char *name;
	enum config_type type;
	size_t offset;           /* into struct config */
	size_t size;             /* of the field (strings: buffer size; lists: whole array) */
	double min, max;
	const char *const *choices;  /* CFG_ENUM, NULL-terminated */
	const char *def;         /* default, parsed like a value from the file */
	const char *doc;
	size_t count_offset;     /* lists: where the element count (uint8_t) goes */
};

/* The key table (also for documentation checks). */
const struct config_key *config_keys(size_t *n);

/* Fill cfg with every default. */
void config_defaults(struct config *cfg);

/*
 * Read a file over cfg (defaults first). 0 on success; -1 with a message
 * "FILE:LINE: what is wrong" (or "FILE: ..." for a whole-file problem) in
 * err. On error cfg is left with the defaults and whatever the file set
 * before the error: callers must not use it.
 */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/* Same from a string (tests, fuzzing); name is used in messages. */
int config_load_string(struct config *cfg, const char *text, const char *name, char *err,
		       size_t errlen);

/* The line of the file where [section] name was set; 0 when it was not. */
unsigned config_key_line(const struct config *cfg, const char *section, const char *name);

/* Checks across keys (window <= interval, cert and key together...). */
int config_validate(const struct config *cfg, char *err, size_t errlen);

#endif
