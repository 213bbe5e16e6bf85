/*
 * fw_beacon.h - the advertiser: one advertising event on 37 -> 38 -> 39
 * every interval + advDelay, with the frame the schedule picks.
 */
#ifndef FW_BEACON_H
#define FW_BEACON_H

#include <stdbool.h>
#include <stdint.h>

#include "fw_clock.h"
#include "fw_config.h"
#include "fw_eidclock.h"
#include "fw_radio.h"

/* advDelay is 0..10 ms (Core Vol 6 B 4.4.2.2); in whole ticks that stay
 * below 10 ms even after the interval is rounded up to a tick. */
#define FW_ADV_DELAY_MAX_TICKS 326u

/* Longest event spacing is 10.24 s + 10 ms; a tag stuck for three times
 * that is reset by the watchdog and simply starts advertising again. */
#define FW_WATCHDOG_S 32u

struct fw_beacon {
	struct fw_config cfg;
	struct fw_chip chip;
	struct fw_clock clock;
	struct fw_eidclock eidclock; /* privacy tags only */
	uint64_t next_event;  /* ticks */
	uint32_t event_count; /* advertising events so far */
	uint32_t adv_count;   /* PDUs sent so far (Eddystone-TLM ADV_CNT) */
	uint8_t addr[6];      /* AdvA, least significant byte first as on air */
	bool eid_valid;
	uint32_t eid_period;  /* start of the EID period the address belongs to */
	uint8_t eid[8];
	uint8_t pdu[FW_ADV_PDU_MAX];
};

/* Read the configuration: UICR when it holds a valid one, else build defaults. */
void fw_config_load(struct fw_config *cfg);

/* Which frame event number n carries. */
enum fw_frame_kind fw_schedule_pick(const struct fw_config *cfg, uint32_t n);

/* The static random address from FICR DEVICEADDR (top two bits 11). */
void fw_static_address(uint8_t addr[6]);

/* A fresh non-resolvable private address (top two bits 00, Core Vol 6 B 1.3.2.2). */
void fw_nrpa(uint8_t addr[6]);

/* EID seconds counter at tick t. */
uint32_t fw_eid_seconds(const struct fw_beacon *b, uint64_t t);

/* Start-up: watchdog, power, clocks, radio. False (and nothing sent)
 * when cfg fails fw_config_check, e.g. EID without an identity key: the
 * caller then turns the chip off (fw_system_off). */
bool fw_beacon_init(struct fw_beacon *b, const struct fw_config *cfg);
/* One advertising event now, then schedule the next one. */
void fw_beacon_event(struct fw_beacon *b);
/* Sleep until the next event is due. */
void fw_beacon_sleep(struct fw_beacon *b);

#endif
