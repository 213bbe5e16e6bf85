/*
 * run_priv.h - what run.c and run_consent.c share: the run's state and the
 * consent part's entry points. Not for anything outside beacongw's run.
 */
#ifndef BGW_RUN_PRIV_H
#define BGW_RUN_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "config_audit.h"
#include "ops_stats.h"
#include "run.h"
#include "store.h"

struct consent_follow;
struct consent_update;
struct outbox;
struct pipeline;
struct publisher;
struct scanner;
struct site_link;

struct run {
	struct loop *loop;
	struct config cfg;
	bool replay;
	sqlite3 *db;
	struct pipeline *pl;
	struct outbox *ob;
	struct consent_update *cu;
	struct consent_follow *cf; /* following a fleet's hub instead of single updates */
	struct publisher *pub;
	struct site_link *site;    /* [site] enabled: the peers' topics */
	uint64_t site_sent_us;     /* when the last summary left (wall clock) */
	char visit_topic[600];     /* [visits] publish: where closed visits go */
	uint64_t visits_queued;
	int pub_fd;
	unsigned pub_fd_epoch;
	uint64_t data_version;
	uint64_t consent_gen;      /* kv consent_generation the snapshot was loaded at */
	uint64_t consent_applied;
	uint64_t last_tick_us;     /* replays: capture time of the last pipeline tick */
	uint64_t last_ts_us;       /* replays: capture time of the last packet */
	const struct scanner *scanner;
	uint64_t triggers_queued, snapshot_loads;
	struct ops_stats ops;         /* footfall, per campaign, consent: for the metrics */
	struct audit_counts audit; /* of the newest snapshot */
	bool before_consent_said;
	/* Fail closed: while the consent state cannot be loaded, the pipeline
	 * holds an empty snapshot (nobody is identified: no visits, no
	 * triggers; every device counts as anonymous footfall), and every poll
	 * tries again. */
	bool consent_failed;
	uint64_t consent_load_failures;
	char consent_reason[160];
	bool flushed;
};

/* ---- run_consent.c ---- */

/* Load the consent snapshot into the pipeline (at start, on SIGHUP, and
 * whenever the store's consent data changed); on failure the run fails
 * closed until a load succeeds. 0 or -1. */
int run_load_snapshot(struct run *r);
/* The storage poll timer: reload on a change, retry while failed closed. */
void run_on_poll(struct loop *l, int id, void *ctx);
/* The publisher's look at the store before triggers leave. */
void run_consent_refresh(void *ctx);

#endif
