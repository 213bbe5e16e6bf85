/*
 * irk_async.h - IRK searches on worker threads, off the event loop.
 *
 * Searching a new resolvable private address through 100,000 IRKs takes
 * tens of milliseconds on a Pi Zero 2 W; inline, the event loop (and every
 * other report) would wait for it. With worker threads, the first report
 * from an address the resolver does not know is parked, the search is
 * handed to a worker, and the loop carries on with other addresses.
 * Further reports from that address are parked behind the first (a small
 * fixed queue per address), so nothing of that phone is lost or
 * reordered. When the search is done the worker marks it and signals an
 * eventfd (irk_async_fd(), for an event loop that wants to wake on it);
 * irk_async_collect(), which the pipeline calls before every report and
 * at every tick, stores the result in the resolver's cache and replays the
 * parked reports in their order, through the normal path. In a store
 * reports arrive continuously, so results are picked up within a report
 * or two; when it is quiet, at the latest at the next tick (1 s). A tick first
 * waits for the searches in flight (pipeline_tick() drains), so decisions
 * driven by time (absence exits, dwell marks) see every report that came
 * before them, exactly as with the searches inline: the loop can wait for
 * at most one search's time once a second, instead of for every search.
 *
 * Bounds, all fixed at creation, no allocation afterwards: IRK_ASYNC_PENDING
 * addresses in flight, IRK_ASYNC_PARKED reports per address, each at most
 * IRK_ASYNC_DATA_MAX bytes of data. Past a bound the report is not dropped:
 * the loop waits for that address's search (queue full, or data too long)
 * or searches inline itself (every slot in flight), exactly as with no
 * threads, and the stats count it.
 */
#ifndef BGW_IRK_ASYNC_H
#define BGW_IRK_ASYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "adv_report.h"
#include "irk.h"

#define IRK_ASYNC_THREADS_MAX 16
#define IRK_ASYNC_PENDING 32
#define IRK_ASYNC_PARKED 8
#define IRK_ASYNC_DATA_MAX 255

struct irk_async;

/* What to do with a parked report once its address is resolved. */
typedef void (*irk_async_replay_fn)(void *ctx, const struct adv_report *r);

struct irk_async_stats {
	uint64_t searches;       /* handed to a worker */
	uint64_t parked;         /* reports that waited for a search */
	uint64_t waited;         /* the loop waited: queue full or data too long */
	uint64_t inline_searches; /* every slot was in flight: searched inline */
};

/* threads: 1..IRK_ASYNC_THREADS_MAX. NULL on failure (no threads left
 * running). */
struct irk_async *irk_async_new(unsigned threads, irk_async_replay_fn replay, void *ctx);

/* Stops the workers. Parked reports are dropped: drain first to keep them. */
void irk_async_free(struct irk_async *a);

/* The resolver searches run against. Drain before replacing it. */
void irk_async_set_resolver(struct irk_async *a, struct irk_resolver *r);

/* True: the report is parked and will be replayed; false: process it now
 * (its address is resolved, or it is not a resolvable private address). */
bool irk_async_park(struct irk_async *a, const struct adv_report *r);

/* Store finished searches and replay their reports. Never blocks on a
 * search. */
void irk_async_collect(struct irk_async *a);

/* Wait for every search in flight, then collect. */
void irk_async_drain(struct irk_async *a);

/* Readable when results wait for irk_async_collect(); for the event loop. */
int irk_async_fd(const struct irk_async *a);

const struct irk_async_stats *irk_async_get_stats(const struct irk_async *a);

#endif
