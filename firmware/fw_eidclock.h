/*
 * fw_eidclock.h - the EID seconds counter, kept across resets.
 *
 * Three sources, best first:
 *  1. retained RAM (hal_retained), updated at every advertising event and
 *     guarded by a check word: survives watchdog, fault and pin resets;
 *  2. the newest valid record in two flash pages, written every
 *     fw_eidclock_save_period() seconds: survives a power loss;
 *  3. the provisioned clock base (UICR): a tag's first start.
 * Records and the retained copy carry a tag of the identity key, K and the
 * clock base, so re-provisioning a tag starts it from its new base.
 *
 * Flash records are two words, seconds then check (CRC-32 of seconds and
 * the tag), appended to one page; a word is written only once after an
 * erase. When a page is full the other one is erased and used, so the
 * newest records always survive a power cut during an erase; a cut during
 * a write leaves a record whose check fails and which is skipped.
 */
#ifndef FW_EIDCLOCK_H
#define FW_EIDCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "fw_config.h"

#define FW_EIDCLOCK_RECORD_WORDS 2u
#define FW_EIDCLOCK_SLOTS (4096u / 4u / FW_EIDCLOCK_RECORD_WORDS) /* per page */
#define FW_EIDCLOCK_SAVE_MIN_S 16u

enum fw_eidclock_source {
	FW_EIDCLOCK_PROVISIONED = 0,
	FW_EIDCLOCK_RETAINED,
	FW_EIDCLOCK_FLASH,
};

struct fw_eidclock {
	uint32_t base_s;      /* EID seconds at base_tick */
	uint32_t base_frac;   /* and the ticks (0..32767) past that second */
	uint64_t base_tick;
	uint32_t tag;         /* CRC of identity key, K and clock base */
	uint32_t saved_s;     /* newest record in flash (or where we started) */
	uint32_t save_period;
	uint32_t pages;       /* address of the two pages */
	uint32_t page;        /* 0 or 1: the page being appended to */
	uint32_t slot;        /* next free slot in it */
	enum fw_eidclock_source source;
};

/* Seconds between flash records: 2^(K-2), at least 16 s, so that a tag
 * resuming from its last record after a power loss lags by at most a
 * quarter of a rotation period (for K >= 6). */
uint32_t fw_eidclock_save_period(uint8_t k);

/* Find the time to resume from; tick is the clock's tick count now. */
void fw_eidclock_init(struct fw_eidclock *c, const struct fw_config *cfg, uint64_t tick);

/* EID seconds at tick t (t >= the tick given to init). */
uint32_t fw_eidclock_seconds(const struct fw_eidclock *c, uint64_t t);

/* Once per advertising event: refresh the retained copy, and write a
 * flash record when one is due. */
void fw_eidclock_update(struct fw_eidclock *c, uint64_t t);

#endif
