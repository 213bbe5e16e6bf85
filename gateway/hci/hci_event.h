/*
 * hci_event.h - HCI event parser: LE Advertising Report and LE Extended
 * Advertising Report events become struct adv_report callbacks; Command
 * Complete, Command Status and Hardware Error go to a second callback so
 * the controller driver and the report path share one parser.
 *
 * Input is one HCI event WITHOUT the H4 packet-type byte (event code,
 * parameter length, parameters), as the H4 decoder and the btsnoop reader
 * deliver it; hci_event_parse_h4() accepts it with the type byte.
 *
 * Extended reports arrive in fragments ("more data to come") that are
 * reassembled per (address, address type, SID) in HCI_REASM_SLOTS fixed
 * slots of BF_EXT_ADV_MAX bytes. A partial report is dropped (and counted)
 * when no fragment came for HCI_REASM_TIMEOUT_US, or when its slot is
 * needed for a newer report while all are busy (least recently used goes).
 * Nothing allocates; reports point into the event or the slot and are valid
 * only during the callback.
 */
#ifndef BGW_HCI_EVENT_H
#define BGW_HCI_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adv_report.h"
#include "beacon_frame.h"
#include "hci_cmd.h"

#define HCI_REASM_SLOTS 4
/* Chained fragments follow each other within milliseconds (AUX_CHAIN_IND
 * offsets); a second without the next one means it is not coming. */
#define HCI_REASM_TIMEOUT_US 1000000ULL

struct hci_event_callbacks {
	void *ctx;
	void (*adv)(void *ctx, const struct adv_report *r);
	void (*ctrl)(void *ctx, const struct hci_ctrl_event *ev); /* may be NULL */
};

struct hci_event_stats {
	uint64_t events;            /* events parsed */
	uint64_t reports;           /* adv reports delivered */
	uint64_t malformed;         /* events with something wrong (what was whole was delivered) */
	uint64_t fragments;         /* "more data to come" fragments accumulated */
	uint64_t truncated;         /* reports delivered with ADV_DATA_TRUNCATED */
	uint64_t partial_stale;     /* partial reports dropped after the timeout */
	uint64_t partial_evicted;   /* partial reports dropped for lack of a slot */
	uint64_t partial_overflow;  /* reassemblies cut at BF_EXT_ADV_MAX */
};

struct hci_reasm_slot {
	bool used;
	bool overflow;
	uint8_t addr_type;
	uint8_t sid;
	uint8_t addr[6];
	uint16_t len;
	uint64_t last_ts;
	uint64_t lru;
	uint8_t buf[BF_EXT_ADV_MAX];
};

struct hci_event_parser {
	struct hci_event_callbacks cb;
	struct hci_event_stats stats;
	uint64_t lru_clock;
	struct hci_reasm_slot slots[HCI_REASM_SLOTS];
};

enum hci_event_result {
	HCI_EVENT_OK = 0,        /* handled, well-formed */
	HCI_EVENT_IGNORED,       /* an event (or packet) this parser does not handle */
	HCI_EVENT_MALFORMED,     /* handled; bytes disagreed with the spec (counted) */
};

void hci_event_parser_init(struct hci_event_parser *p, const struct hci_event_callbacks *cb);

/* Parse one event received at ts_us (µs since the Unix epoch). */
enum hci_event_result hci_event_parse(struct hci_event_parser *p, const uint8_t *evt, size_t len,
				      uint64_t ts_us);

/* The same with the H4 type byte first; packets other than events are ignored. */
enum hci_event_result hci_event_parse_h4(struct hci_event_parser *p, const uint8_t *pkt,
					 size_t len, uint64_t ts_us);

/* Drop every partial reassembly (counted as stale), e.g. after a controller
 * reset or at the end of a capture. */
void hci_event_parser_discard_partials(struct hci_event_parser *p);

/* Number of partial reassemblies in progress. */
size_t hci_event_parser_partials(const struct hci_event_parser *p);

/* adv_kind of an extended Event_Type: ADV_KIND_EXT unless the legacy bit is
 * set, then the legacy PDU by the spec's table (Vol 4 Part E 7.7.65.13);
 * legacy combinations outside the table map by their strongest property. */
enum adv_kind hci_ext_event_type_kind(uint16_t event_type);

#endif
