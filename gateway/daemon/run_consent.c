/*
 * run_consent.c - the consent state the gateway acts on: loading the
 * store's snapshot into the pipeline, reloading it when consent data
 * changed, and failing closed (nobody identified, footfall only) while it
 * cannot be loaded or the consent authority does not vouch for it.
 *
 * Split from run.c, which wires everything else; both share struct run
 * (run_priv.h). Nothing here runs per advertising report.
 */
#include "run_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config_audit.h"
#include "consent_head.h"
#include "consent_update.h"
#include "log.h"
#include "pipeline.h"
#include "snapshot.h"
#include "store.h"
#include "store_beacons.h"

#define AUDIT_LINES_MAX 20

struct audit_log {
	uint32_t lines, more;
};

static void audit_warn(void *ctx, const char *msg)
{
	struct audit_log *al = ctx;

	if (al->lines++ < AUDIT_LINES_MAX)
		log_warn("configuration: %s", msg);
	else
		al->more++;
}

/* Findings that can never work are said once, at start (--check-config
 * lists them all); later snapshots only update the status counts. */
static void audit_snapshot(struct run *r, const struct snapshot *snap, bool first)
{
	struct audit_log al = { 0 };
	struct audit_sink sink = { .warn = audit_warn, .ctx = &al };

	config_audit(&r->cfg.pipeline, snap, (int64_t)time(NULL), first ? &sink : NULL,
		     &r->audit);
	if (al.more)
		log_warn("configuration: %u more finding(s); beacongw --check-config lists them",
			 al.more);
}

/* Not a store error: the consent authority (the fleet's hub, or the
 * backend's signed updates) does not vouch for the state we hold. */
#define FLEET_NOT_CURRENT 1

static const char *load_failure_kind(int rc)
{
	switch (rc) {
	case FLEET_NOT_CURRENT: return "not current";
	case STORE_EINVAL: return "limit";
	case STORE_ENOMEM: return "out of memory";
	case STORE_ENDED: return "consent ended";
	case STORE_ESCHEMA: return "unknown schema";
	case STORE_EBUSY: return "locked";
	case STORE_ECORRUPT: return "damaged";
	default: return "load error";
	}
}

/* Stop acting on anybody until a load succeeds. */
static void consent_fail_closed(struct run *r, int rc, const char *why)
{
	r->consent_load_failures++;
	snprintf(r->consent_reason, sizeof(r->consent_reason), "%s: %.140s", load_failure_kind(rc),
		 why);
	if (!r->consent_failed) {
		struct snapshot *empty = snapshot_empty();

		r->consent_failed = true;
		/* Out of memory for even that: the callbacks below drop every
		 * person-level event while consent_failed is set. */
		if (empty)
			pipeline_set_snapshot(r->pl, empty);
		log_err("consent state cannot be loaded (%s): visits and triggers stopped for "
			"everyone, anonymous footfall goes on; retrying at every poll",
			r->consent_reason);
	} else {
		log_limited(LOG_PRIO_ERR, "consent load failed",
			    "consent state still cannot be loaded (%s); nobody is processed",
			    r->consent_reason);
	}
}

/* The store's registered beacons, read with every snapshot (the table
 * changes seldom; a failure keeps the ones the pipeline has). */
static void load_store_beacons(struct run *r)
{
	struct store_beacon *v = NULL;
	size_t n = 0;
	char err[STORE_ERRLEN];

	if (store_beacon_load(r->db, &v, &n, err) != STORE_OK) {
		log_limited(LOG_PRIO_WARNING, "store beacons", "store beacons: %s", err);
		return;
	}
	log_debug("store beacons: %zu registered", n);
	if (pipeline_set_store_beacons(r->pl, v, n) < 0)
		log_limited(LOG_PRIO_WARNING, "store beacons", "store beacons: out of memory");
	free(v);
}

/*
 * Does the gateway hold everything its consent authority sent? A fleet
 * gateway asks its follower (snapshot, changes up to a fresh head); one on
 * the signed-update channel is behind after a sequence gap until the
 * missing updates are re-sent (re-read from the database while behind, as
 * beaconctl consent seq --set may settle it from another process).
 */
static bool authority_current(struct run *r, const char **why)
{
	if (r->cf)
		return consent_follow_current(r->cf, why);
	if (r->cu && !consent_update_current(r->cu, why)) {
		consent_update_reload(r->cu);
		return consent_update_current(r->cu, why);
	}
	return true;
}

int run_load_snapshot(struct run *r)
{
	struct snapshot *snap = NULL;
	char err[256];
	const char *why;
	int rc;

	/* A gateway that cannot show it is current with its authority acts on
	 * nobody. */
	if (!authority_current(r, &why)) {
		consent_fail_closed(r, FLEET_NOT_CURRENT, why);
		return -1;
	}
	/* Both read before the load: a change committed meanwhile costs one more
	 * load at the next poll, never a missed one. */
	r->data_version = store_data_version(r->db);
	if (store_consent_generation(r->db, &r->consent_gen, err) != STORE_OK)
		log_limited(LOG_PRIO_WARNING, "consent generation", "consent store: %s", err);
	/* The pipeline processes nothing until the load below ends either way
	 * (a failure sets the empty snapshot): the old snapshot goes first, so
	 * a reload peaks at one snapshot. After a failure the empty one stays. */
	if (!r->consent_failed)
		pipeline_release_snapshot(r->pl);
	rc = store_snapshot_load(r->db, &snap, err, sizeof(err));
	if (rc < 0) {
		consent_fail_closed(r, rc, err);
		return -1;
	}
	pipeline_set_snapshot(r->pl, snap);
	if (pipeline_get_snapshot(r->pl) != snap) {
		/* The pipeline could not index it (out of memory) and kept the
		 * one it had, which may be the empty one or an old state. */
		consent_fail_closed(r, STORE_ENOMEM, "cannot index the consent snapshot");
		return -1;
	}
	if (r->consent_failed) {
		r->consent_failed = false;
		r->consent_reason[0] = '\0';
		log_notice("consent state loaded again: visits and triggers resume");
	}
	load_store_beacons(r);
	audit_snapshot(r, snap, r->snapshot_loads == 0);
	r->snapshot_loads++;
	log_debug("consent snapshot loaded: %u customers, %u identifiers, %u campaigns",
		  snap->n_customers, snap->n_identifiers, snap->n_campaigns);
	return 0;
}

/* Reload the snapshot if consent data changed since it was read. */
static void poll_store(struct run *r)
{
	uint64_t applied = r->cu ? consent_update_get_stats(r->cu)->applied :
			   r->cf ? consent_follow_get_stats(r->cf)->applied : 0;
	uint64_t dv, gen;
	char err[STORE_ERRLEN];

	/* data_version first (no I/O): it moves with every commit of another
	 * connection, the daemon's own outbox connection included, so on its
	 * own it would reload the whole snapshot with every trigger and PUBACK.
	 * consent_generation tells whether the commit touched consent data.
	 * Our own connection's commits (consent updates over MQTT) don't move
	 * data_version, so those are noticed through their counter. */
	dv = store_data_version(r->db);
	if (dv == r->data_version && applied == r->consent_applied)
		return;
	r->data_version = dv;
	r->consent_applied = applied;
	if (store_consent_generation(r->db, &gen, err) == STORE_OK && gen == r->consent_gen)
		return;
	run_load_snapshot(r);
}

void run_on_poll(struct loop *l, int id, void *ctx)
{
	struct run *r = ctx;
	const char *why;

	(void)l;
	(void)id;
	if (r->cf)
		consent_follow_tick(r->cf);
	if (!r->consent_failed && !authority_current(r, &why))
		consent_fail_closed(r, FLEET_NOT_CURRENT, why);
	if (r->consent_failed)
		run_load_snapshot(r);   /* until one succeeds, whatever changed or not */
	else
		poll_store(r);
}

/* Before triggers leave: a change committed since the last poll counts.
 * (While the consent state cannot be loaded nothing leaves; the poll
 * timer keeps retrying.) */
void run_consent_refresh(void *ctx)
{
	struct run *r = ctx;
	const char *why;

	if (!r->consent_failed && !authority_current(r, &why))
		consent_fail_closed(r, FLEET_NOT_CURRENT, why);
	if (!r->consent_failed)
		poll_store(r);
}
