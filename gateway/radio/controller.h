/*
 * controller.h - drives an HCI controller from power-on to scanning.
 *
 * A state machine over HCI commands, advanced only by Command Complete /
 * Command Status events and by controller_tick() (timeouts): it never
 * blocks and never reads anything itself. The caller wires it to a source
 * that accepts commands (send callback) and feeds it the control events the
 * HCI event parser reports.
 *
 * Sequence (one command outstanding at a time):
 *   [Reset] -> Read Local Version -> Read Local Supported Features
 *   -> LE Read Local Supported Features -> Set Event Mask -> LE Set Event Mask
 *   -> scan disable (any answer accepted: the adapter may or may not scan)
 *   -> LE Set (Extended) Scan Parameters -> LE Set (Extended) Scan Enable
 * Extended scanning is used when the controller has LE feature bit 12 (LE
 * Extended Advertising) and the config allows it; with "auto", a rejected
 * extended command falls back to the legacy ones. Duplicate filtering is
 * always off: presence needs every sighting.
 */
#ifndef BGW_CONTROLLER_H
#define BGW_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hci_cmd.h"

enum controller_state {
	CTRL_IDLE = 0,       /* nothing sent yet */
	CTRL_SETUP,          /* command sequence in progress */
	CTRL_SCANNING,       /* scan enabled and acknowledged */
	CTRL_STOPPING,       /* scan disable sent */
	CTRL_STOPPED,        /* scan disabled (or was never enabled) */
	CTRL_FAILED,         /* a step failed or timed out; waiting to be restarted */
};

enum controller_ext { CTRL_EXT_AUTO = 0, CTRL_EXT_ON = 1, CTRL_EXT_OFF = 2 };

enum controller_error {
	CTRL_ERR_COMMAND,    /* a command was rejected (status != 0) */
	CTRL_ERR_TIMEOUT,    /* no answer within the command timeout */
	CTRL_ERR_HARDWARE,   /* Hardware Error event */
	CTRL_ERR_SEND,       /* the source could not take the command */
};

struct controller_settings {
	bool reset;               /* send HCI Reset first */
	bool active;              /* active scanning (scan requests) */
	uint16_t interval;        /* 0.625 ms units */
	uint16_t window;          /* 0.625 ms units */
	enum controller_ext extended;
	uint32_t command_timeout_ms;
};

struct controller_callbacks {
	void *ctx;
	/* Send one H4 command packet (type byte first). 0 or -errno. */
	int (*send)(void *ctx, const uint8_t *pkt, size_t len);
	/* State changed (e.g. to tell the watchdog scanning began). May be NULL. */
	void (*state)(void *ctx, enum controller_state st);
	/* An error happened (already logged and counted). May be NULL. */
	void (*error)(void *ctx, enum controller_error err);
};

struct controller_stats {
	uint64_t commands;        /* commands sent */
	uint64_t failed;          /* rejected commands */
	uint64_t timeouts;
	uint64_t hw_errors;
	uint64_t setups;          /* completed setups (scan enabled) */
};

struct controller_info {
	bool valid;
	uint8_t hci_version;
	uint16_t hci_revision;
	uint16_t manufacturer;
	uint8_t features[8];
	uint8_t le_features[8];
	bool extended;            /* extended scanning in use */
};

struct controller {
	struct controller_settings set;
	struct controller_callbacks cb;
	enum controller_state state;
	int step;                 /* index into the sequence */
	uint16_t pending_opcode;  /* 0 = none outstanding */
	uint64_t deadline_ms;
	bool use_ext;
	bool scan_enabled_by_us;
	struct controller_info info;
	struct controller_stats stats;
};

/* Convert milliseconds to 0.625 ms units, clamped to the legal range. */
uint16_t controller_ms_to_units(uint32_t ms);

void controller_init(struct controller *c, const struct controller_settings *s,
		     const struct controller_callbacks *cb);

/* Begin (or begin again) the whole sequence; with_reset overrides
 * settings.reset (the watchdog's "reset the controller" step). */
void controller_start(struct controller *c, bool with_reset, uint64_t now_ms);

/* Disable and re-enable the scan only (the watchdog's first step). */
void controller_rescan(struct controller *c, uint64_t now_ms);

/* Disable the scan if we enabled it. Returns true if a command is now
 * outstanding (wait for CTRL_STOPPED or a timeout), false if nothing to do. */
bool controller_stop(struct controller *c, uint64_t now_ms);

/* The source went away: forget outstanding commands (state IDLE). */
void controller_detach(struct controller *c);

/* Feed a Command Complete / Command Status / Hardware Error event. */
void controller_on_event(struct controller *c, const struct hci_ctrl_event *ev, uint64_t now_ms);

/* Check the command timeout. Call every few hundred ms. */
void controller_tick(struct controller *c, uint64_t now_ms);

const char *controller_state_name(enum controller_state st);

#endif
