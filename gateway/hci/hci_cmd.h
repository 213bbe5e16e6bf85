/*
 * hci_cmd.h - the HCI commands the gateway sends and the events that answer
 * them, in both directions: the gateway's controller driver builds commands
 * and parses Command Complete / Command Status; the virtual controller
 * (beaconsim) parses commands and builds the events, including advertising
 * reports. Pure bytes: no I/O, no allocation.
 *
 * Builders write a complete H4 packet (packet-type byte first: 0x01 for
 * commands, 0x04 for events), ready for an H4 link or a raw HCI socket, and
 * return its length, or 0 when it does not fit in cap or the arguments are
 * out of range. Parsers take the HCI packet WITHOUT the type byte.
 */
#ifndef BGW_HCI_CMD_H
#define BGW_HCI_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adv_report.h"

#define HCI_OPCODE(ogf, ocf) ((uint16_t)(((ogf) << 10) | (ocf)))
#define HCI_OGF(op) ((uint16_t)(op) >> 10)
#define HCI_OCF(op) ((uint16_t)(op) & 0x03FF)

#define HCI_OP_SET_EVENT_MASK 0x0C01
#define HCI_OP_RESET 0x0C03
#define HCI_OP_READ_LOCAL_VERSION 0x1001
#define HCI_OP_READ_LOCAL_FEATURES 0x1003
#define HCI_OP_READ_BD_ADDR 0x1009
#define HCI_OP_LE_SET_EVENT_MASK 0x2001
#define HCI_OP_LE_READ_LOCAL_FEATURES 0x2003
#define HCI_OP_LE_SET_SCAN_PARAMS 0x200B
#define HCI_OP_LE_SET_SCAN_ENABLE 0x200C
#define HCI_OP_LE_SET_EXT_SCAN_PARAMS 0x2041
#define HCI_OP_LE_SET_EXT_SCAN_ENABLE 0x2042

#define HCI_EV_CMD_COMPLETE 0x0E
#define HCI_EV_CMD_STATUS 0x0F
#define HCI_EV_HW_ERROR 0x10
#define HCI_EV_LE_META 0x3E
#define HCI_SUBEV_LE_ADV_REPORT 0x02
#define HCI_SUBEV_LE_EXT_ADV_REPORT 0x0D

/* Status codes the gateway cares about (Core spec Vol 1 Part F). */
#define HCI_SUCCESS 0x00
#define HCI_ERR_UNKNOWN_COMMAND 0x01
#define HCI_ERR_INVALID_PARAMS 0x12
#define HCI_ERR_COMMAND_DISALLOWED 0x0C

/* LE feature bit 12 (byte 1 bit 4): LE Extended Advertising. */
#define HCI_LE_FEATURE_EXT_ADV(features) (((features)[1] & 0x10) != 0)

/* Largest H4 packet any builder here produces: type + code + plen + 255. */
#define HCI_MAX_EVENT_H4 (1 + 2 + 255)
#define HCI_MAX_CMD_H4 (1 + 3 + 255)

/* Default event masks the gateway sets. */
/* The spec's default event mask (bits 0-44) plus LE Meta (bit 61). */
#define HCI_EVENT_MASK_DEFAULT 0x20001FFFFFFFFFFFULL
/* The LE default (bits 0-4, incl. LE Advertising Report) plus LE Extended
 * Advertising Report (bit 12). */
#define HCI_LE_EVENT_MASK_SCAN 0x000000000000101FULL

/* ---------------------------------------------------------------- commands */

/* Any command: opcode and raw parameters (at most 255 bytes). */
size_t hci_cmd_build(uint8_t *out, size_t cap, uint16_t opcode, const uint8_t *params,
		     size_t plen);

size_t hci_cmd_reset(uint8_t *out, size_t cap);
size_t hci_cmd_set_event_mask(uint8_t *out, size_t cap, uint64_t mask);
size_t hci_cmd_le_set_event_mask(uint8_t *out, size_t cap, uint64_t mask);
size_t hci_cmd_read_local_version(uint8_t *out, size_t cap);
size_t hci_cmd_read_local_features(uint8_t *out, size_t cap);
size_t hci_cmd_le_read_local_features(uint8_t *out, size_t cap);
size_t hci_cmd_read_bd_addr(uint8_t *out, size_t cap);

struct hci_scan_params {
	uint8_t active;          /* 0 passive, 1 active (scan requests) */
	uint16_t interval;       /* 0.625 ms units, 0x0004..0x4000 (ext: 0x0004..0xFFFF) */
	uint16_t window;         /* 0.625 ms units, <= interval */
	uint8_t own_addr_type;   /* 0 public, 1 random, ... */
	uint8_t filter_policy;   /* 0 accept all */
};

size_t hci_cmd_le_set_scan_params(uint8_t *out, size_t cap, const struct hci_scan_params *p);
size_t hci_cmd_le_set_scan_enable(uint8_t *out, size_t cap, bool enable, bool filter_dup);

/* Extended: the same scan parameters on each PHY whose bit is in phys
 * (bit 0 = LE 1M, bit 2 = LE Coded). */
size_t hci_cmd_le_set_ext_scan_params(uint8_t *out, size_t cap, const struct hci_scan_params *p,
				      uint8_t phys);
/* duration: 10 ms units (0 = until disabled); period: 1.28 s units (0 = continuous). */
size_t hci_cmd_le_set_ext_scan_enable(uint8_t *out, size_t cap, bool enable, bool filter_dup,
				      uint16_t duration, uint16_t period);

/* A command as received by a controller (HCI packet without the type byte). */
struct hci_cmd_view {
	uint16_t opcode;
	uint8_t plen;
	const uint8_t *params;
};

/* false when the packet is shorter than its header or its stated length. */
bool hci_cmd_parse(const uint8_t *pkt, size_t len, struct hci_cmd_view *cmd);

/* ---------------------------------------------------------------- answers */

enum hci_ctrl_kind {
	HCI_CTRL_CMD_COMPLETE,
	HCI_CTRL_CMD_STATUS,
	HCI_CTRL_HW_ERROR,
};

/* A Command Complete, Command Status or Hardware Error event. */
struct hci_ctrl_event {
	enum hci_ctrl_kind kind;
	uint8_t ncmd;          /* Num_HCI_Command_Packets (complete/status) */
	uint16_t opcode;       /* complete/status; 0x0000 = no command (flow control only) */
	uint8_t status;        /* status; for Command Complete the first return byte (0 if none) */
	uint8_t hw_code;       /* Hardware_Code (hardware error) */
	const uint8_t *ret;    /* Command Complete return parameters (status included) */
	uint8_t ret_len;
};

/* Parse an event (code first, no type byte) that is Command Complete,
 * Command Status or Hardware Error. false for any other or a short one. */
bool hci_ctrl_event_parse(const uint8_t *evt, size_t len, struct hci_ctrl_event *ev);

/* ---------------------------------------------------------------- events */

size_t hci_evt_cmd_complete(uint8_t *out, size_t cap, uint8_t ncmd, uint16_t opcode,
			    const uint8_t *ret, size_t ret_len);
size_t hci_evt_cmd_status(uint8_t *out, size_t cap, uint8_t status, uint8_t ncmd,
			  uint16_t opcode);
size_t hci_evt_hw_error(uint8_t *out, size_t cap, uint8_t code);

/*
 * One LE Advertising Report event with n legacy reports (kind, addr,
 * addr_type, rssi, data; data_len <= 31). The reports go one after the
 * other, each whole (as controllers and BlueZ lay them out). 0 when they
 * do not fit in one event (255 parameter bytes) or a report is invalid.
 */
size_t hci_evt_le_adv_report(uint8_t *out, size_t cap, const struct adv_report *r, size_t n);

/* Data bytes of one extended report that fit in one event. */
#define HCI_EXT_ADV_FRAG_MAX (255 - 2 - 24)

/*
 * The next LE Extended Advertising Report event of one report, fragmented:
 * each event carries at most max_frag (<= HCI_EXT_ADV_FRAG_MAX; 0 = as many
 * as fit) data bytes from *off, and *off advances past them. Every event
 * but the last says "more data to come"; the last says complete, or
 * "truncated" when r->data_status == ADV_DATA_TRUNCATED. The data status
 * bits of r->event_type are ignored. Use as
 *	size_t off = 0;
 *	do { n = hci_evt_le_ext_adv_report(buf, sizeof(buf), r, &off, 0); ... }
 *	while (off < r->data_len);
 * (one event for empty data). r->data_len is at most BF_EXT_ADV_MAX.
 */
size_t hci_evt_le_ext_adv_report(uint8_t *out, size_t cap, const struct adv_report *r,
				 size_t *off, size_t max_frag);

/* Extended Event_Type of a legacy PDU (Core spec Vol 4 Part E 7.7.65.13). */
uint16_t hci_ext_event_type_of_legacy(enum adv_kind kind);

#endif
