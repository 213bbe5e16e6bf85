/*
 * run.h - the full gateway run: consent store, pipeline, visits and
 * trigger delivery, fed with the scanner's advertising reports.
 *
 * main.c owns the loop and the scanner; this part owns everything behind
 * the reports and registers its own fds and timers (database polling,
 * pipeline ticks, the MQTT publisher) with the loop.
 */
#ifndef BGW_RUN_H
#define BGW_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adv_report.h"
#include "config.h"

struct loop;
struct run;

/* Open the database and the delivery side. NULL with the exit status
 * (69 unavailable, 78 config) in *status and a one-line reason in err. */
struct run *run_new(struct loop *l, const struct config *cfg, bool replay, char *err,
		    size_t errlen, int *status);
void run_free(struct run *r);

/* The scanner whose state and counters go into the MQTT status. */
struct scanner;
void run_set_scanner(struct run *r, const struct scanner *s);

/* The hot path. */
void run_report(struct run *r, const struct adv_report *rep);

/* The replayed capture's clock moved on (replays only: live runs tick on a timer). */
void run_clock(struct run *r, uint64_t ts_us);

/* SIGHUP: new settings (already validated) and a fresh consent snapshot;
 * open visits and the broker session are kept. */
void run_reload(struct run *r, const struct config *cfg);

/* End of the source or a graceful stop: close open visits and commit every
 * trigger to the outbox (idempotent: a second call does nothing). now_us 0
 * = the last replayed time, or the wall clock. */
void run_flush(struct run *r, uint64_t now_us);

/* Has every committed trigger been acknowledged by the broker? */
bool run_drained(const struct run *r);

/* Publish what can be published within timeout_ms, go offline (retained
 * status), disconnect. Blocks: only for shutdown. */
void run_stop(struct run *r, int timeout_ms);

/* "reports=... visits=... triggers=..." for sd_notify STATUS= and logs. */
void run_status(const struct run *r, char *buf, size_t n);

/* The pipeline and delivery counters of the health metrics (those of the
 * MQTT status document); the caller fills the source's. */
struct metrics_sample;
void run_metrics(const struct run *r, struct metrics_sample *m);

/* Check the database for --check-config: 0 (findings that can never work
 * go to sink and are counted), or -1 with err filled. */
struct audit_sink;
struct audit_counts;
int run_check_db(const struct config *cfg, const struct audit_sink *sink,
		 struct audit_counts *counts, char *err, size_t errlen);

#endif
