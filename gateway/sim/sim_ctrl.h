/*
 * sim_ctrl.h - the virtual controller's HCI side: answers the commands a
 * host sends (Command Complete / Command Status as a real LE controller
 * would) and turns simulated advertisements into LE Advertising Report or
 * LE Extended Advertising Report events, depending on which scan the host
 * enabled and on its event masks.
 *
 * Every H4 packet produced goes to one callback; the transport decides
 * where it goes (socket, btsnoop file or both).
 */
#ifndef BGW_SIM_CTRL_H
#define BGW_SIM_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_world.h"

/* One complete H4 packet (type byte first) from the controller. */
typedef void (*sim_emit_fn)(void *ctx, const uint8_t *h4, size_t len);

/* Reported by Read Local Version Information: Bluetooth 5.0. */
#define SIM_HCI_VERSION 0x09
#define SIM_HCI_REVISION 0x0001
#define SIM_MANUFACTURER 0x05F1 /* The Linux Foundation */

enum sim_scan_mode { SIM_SCAN_OFF = 0, SIM_SCAN_LEGACY, SIM_SCAN_EXTENDED };

struct sim_ctrl_stats {
	uint64_t commands;
	uint64_t unknown_commands;
	uint64_t reports;          /* advertising reports sent */
	uint64_t events;           /* H4 event packets sent */
	uint64_t masked;           /* reports not sent because of the event masks */
};

struct sim_ctrl {
	sim_emit_fn emit;
	void *ctx;
	bool legacy_only;          /* no LE Extended Advertising feature */
	uint8_t bdaddr[6];
	/* host-set state, back to defaults on Reset */
	uint64_t event_mask;
	uint64_t le_event_mask;
	enum sim_scan_mode scan;
	bool filter_dup;
	bool scan_params_set;
	/* Once a host uses legacy or extended scan commands, the other kind is
	 * disallowed until Reset (Core spec Vol 4 Part E 3.1.1). */
	enum { SIM_FAMILY_NONE, SIM_FAMILY_LEGACY, SIM_FAMILY_EXTENDED } family;
	struct sim_ctrl_stats st;
};

void sim_ctrl_init(struct sim_ctrl *c, bool legacy_only, const uint8_t bdaddr[6],
		   sim_emit_fn emit, void *ctx);

/* Back to power-on state (also what HCI Reset does). */
void sim_ctrl_reset(struct sim_ctrl *c);

/* Handle one HCI command packet (without the H4 type byte). Emits exactly
 * one Command Complete or Command Status event. */
void sim_ctrl_command(struct sim_ctrl *c, const uint8_t *pkt, size_t len);

/* Report one advertisement if the current scan sees it (legacy scans do not
 * see extended PDUs) and the event masks allow it. true when reported. */
bool sim_ctrl_report(struct sim_ctrl *c, const struct sim_adv *a);

/* Report regardless of host state (offline captures): mode legacy or
 * extended. */
bool sim_ctrl_report_as(struct sim_ctrl *c, const struct sim_adv *a, enum sim_scan_mode mode);

void sim_ctrl_hw_error(struct sim_ctrl *c, uint8_t code);

#endif
