/*
 * adv_report.h - one advertising report as the gateway sees it, whatever
 * the source (live adapter, H4 controller, btsnoop replay) and whatever the
 * HCI event (LE Advertising Report or LE Extended Advertising Report).
 *
 * Reports are produced by the HCI event parser and consumed synchronously:
 * data points into the parser's buffer and is valid only during the
 * callback. Nothing on this path allocates.
 */
#ifndef BGW_ADV_REPORT_H
#define BGW_ADV_REPORT_H

#include <stdbool.h>
#include <stdint.h>

enum adv_kind {
	ADV_KIND_IND = 0,        /* connectable undirected */
	ADV_KIND_DIRECT_IND,     /* connectable directed */
	ADV_KIND_SCAN_IND,       /* scannable undirected */
	ADV_KIND_NONCONN_IND,    /* non-connectable undirected */
	ADV_KIND_SCAN_RSP,       /* scan response */
	ADV_KIND_EXT,            /* extended (non-legacy PDU) */
};

/* HCI address types, as in the LE (Extended) Advertising Report. */
#define ADV_ADDR_PUBLIC 0x00
#define ADV_ADDR_RANDOM 0x01
#define ADV_ADDR_PUBLIC_ID 0x02
#define ADV_ADDR_RANDOM_ID 0x03
#define ADV_ADDR_ANONYMOUS 0xFF

/* Data status of an extended report (after reassembly). */
#define ADV_DATA_COMPLETE 0
#define ADV_DATA_TRUNCATED 2

#define ADV_RSSI_UNAVAILABLE 127
#define ADV_TX_POWER_UNAVAILABLE 127

struct adv_report {
	uint64_t ts_us;        /* receive time, µs since the Unix epoch (capture time on replay) */
	uint8_t addr[6];       /* as on the HCI wire: addr[0] least significant */
	uint8_t addr_type;     /* ADV_ADDR_* */
	int8_t rssi;           /* dBm; ADV_RSSI_UNAVAILABLE when not available */
	enum adv_kind kind;
	/* Extended reports only (zero for legacy ones). */
	uint16_t event_type;   /* raw Event_Type bits of the extended report */
	uint8_t primary_phy;   /* 1 = 1M, 3 = Coded */
	uint8_t secondary_phy; /* 0 = none, 1 = 1M, 2 = 2M, 3 = Coded */
	uint8_t sid;           /* 0xFF = no ADI */
	int8_t tx_power;       /* ADV_TX_POWER_UNAVAILABLE when not available */
	uint16_t periodic_interval;
	uint8_t data_status;   /* ADV_DATA_COMPLETE or ADV_DATA_TRUNCATED */
	uint16_t data_len;
	const uint8_t *data;
	/* Extended reports only: the target of a directed advertisement. */
	uint8_t direct_addr_type;
	uint8_t direct_addr[6];
};

static inline bool adv_rssi_valid(const struct adv_report *r)
{
	return r->rssi != ADV_RSSI_UNAVAILABLE;
}

#endif
