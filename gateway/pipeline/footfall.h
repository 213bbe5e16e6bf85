/*
 * footfall.h - anonymous count of distinct devices per zone and period.
 *
 * Each device identifier is hashed with SipHash-2-4 under a 128-bit key
 * drawn from getrandom() when the period opens and dropped when it
 * closes, so the sketch of one period cannot be joined with another and
 * nothing in memory maps back to an identifier once a period is over.
 * The hashes feed a HyperLogLog with 2^12 one-byte registers (4 KiB):
 * standard error 1.04 / sqrt(4096) = 1.6 %; below 2.5 * 4096 the linear-
 * counting estimate is used, which is close to exact for the small counts
 * a single zone sees. A repeat filter (footfall.c) skips the hash for an
 * identifier already added this period; it is wiped with the key. A closed period is published only when its estimate
 * reaches the minimum count, so a lone shopper is never singled out.
 */
#ifndef BGW_FOOTFALL_H
#define BGW_FOOTFALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct footfall;

/* Receives the closed period's JSON (valid during the call). */
typedef void (*footfall_emit_fn)(void *ctx, const char *json);

struct footfall *footfall_new(const char *site, const char *gateway, const char *zone,
			      uint32_t period_s, uint32_t min_count, footfall_emit_fn emit,
			      void *ctx);
void footfall_free(struct footfall *f);

/* Count one sighting of an identifier at now_us (closes the previous
 * period first when now_us is past it). */
void footfall_add(struct footfall *f, const void *id, size_t len, uint64_t now_us);

/* Close the period if now_us is past its end. Returns true if one closed. */
bool footfall_tick(struct footfall *f, uint64_t now_us);

/* Close the running period now (end of a finite source). */
void footfall_flush(struct footfall *f);

/* Current estimate of the open period (tests, status). */
double footfall_estimate(const struct footfall *f);

/* The keyed hash of an identifier under the open period's key (0 when no
 * period is open). For tests: the same identifier must hash differently
 * from one period to the next. */
uint64_t footfall_hash(struct footfall *f, const void *id, size_t len);

/* Published periods, and periods dropped below the minimum count. */
uint64_t footfall_published(const struct footfall *f);
uint64_t footfall_suppressed(const struct footfall *f);

#endif
