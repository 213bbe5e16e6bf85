/*
 * config_audit.c - settings and database rows that are valid one by one
 * but can never do what they say together: a customer tag inside a store
 * beacon namespace (taken for a store beacon, never a visit), a retargeting
 * consent without a channel (no trigger can reach anyone), a campaign that
 * cannot fire. --check-config prints every finding; the running daemon
 * logs them once at start and counts them in its status.
 */
#include "config_audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bgw_util.h"

static void say(const struct audit_sink *sink, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(const struct audit_sink *sink, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!sink || !sink->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sink->warn(sink->ctx, msg);
}

static const char *ref_of(const struct snapshot *s, uint32_t customer, char buf[SNAP_REF_MAX])
{
	return customer < s->n_customers ? snap_customer_ref(s, &s->customers[customer], buf) : "?";
}

/* Customer Eddystone-UIDs inside a store namespace: the pipeline takes
 * every frame of those namespaces for the store's own fixed beacons. */
static uint32_t audit_store_namespaces(const struct pipeline_config *pc,
				       const struct snapshot *s, const struct audit_sink *sink)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->n_identifiers; i++) {
		const struct snap_identifier *id = &s->identifiers[i];
		uint8_t buf[SNAP_ID_BYTES_MAX];
		const uint8_t *v;
		char ns[21], inst[13], ref[SNAP_REF_MAX];

		if (id->type != SNAP_ID_EDDYSTONE_UID)
			continue;
		v = snap_identifier_bytes(s, id, buf);
		for (unsigned k = 0; k < pc->n_store_namespaces; k++) {
			if (memcmp(v, pc->store_namespaces[k], 10) != 0)
				continue;
			bgw_hex_encode(v, 10, ns);
			bgw_hex_encode(v + 10, 6, inst);
			say(sink, "customer %s: eddystone-uid %s:%s is inside the store beacon "
				  "namespace %s ([beacons] store_namespaces): its frames are taken "
				  "for a store beacon, so this customer never gets a visit; give the "
				  "tag a namespace of its own or remove %s from store_namespaces",
			    ref_of(s, id->customer, ref), ns, inst, ns, ns);
			n++;
			break;
		}
	}
	return n;
}

static uint32_t audit_consents(const struct snapshot *s, const struct audit_sink *sink)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->n_customers; i++) {
		const struct snap_consent *r =
			&snap_customer_consent(s, &s->customers[i])[SNAP_RETARGETING];
		char ref[SNAP_REF_MAX];

		if (!r->granted || r->channels)
			continue;
		say(sink, "customer %s: retargeting consent has no channel: triggers go only "
			  "to channels the customer accepted, so none can reach them (grant it "
			  "again with --channel)", ref_of(s, i, ref));
		n++;
	}
	return n;
}

static uint32_t audit_campaigns(const struct pipeline_config *pc, const struct snapshot *s,
				int64_t now_s, const struct audit_sink *sink)
{
	uint32_t n = 0, any_channels = 0;

	for (uint32_t i = 0; i < s->n_customers; i++) {
		const struct snap_consent *r =
			&snap_customer_consent(s, &s->customers[i])[SNAP_RETARGETING];

		if (r->granted)
			any_channels |= r->channels;
	}
	for (uint32_t i = 0; i < s->n_campaigns; i++) {
		const struct snap_campaign *c = &s->campaigns[i];

		if (c->valid_from && c->valid_until && c->valid_from >= c->valid_until) {
			say(sink, "campaign %s: --from is not before --until: it can never fire",
			    c->name);
			n++;
		} else if (c->valid_until && c->valid_until <= now_s) {
			say(sink, "campaign %s: ended (--until is in the past): it will not fire "
				  "again", c->name);
			n++;
		} else if (c->channels && s->n_customers && !(c->channels & any_channels)) {
			say(sink, "campaign %s: no customer's retargeting consent accepts any of "
				  "its channels: it cannot fire until one does", c->name);
			n++;
		} else if (c->event == SNAP_EVENT_ENTER && c->min_dwell_s) {
			say(sink, "campaign %s: --min-dwell %u has no effect on an enter campaign "
				  "(it fires on entering; use --event dwell)", c->name,
			    c->min_dwell_s);
			n++;
		} else if (strcmp(c->zone, pc->zone) != 0) {
			/* Fine in a shared database; said so the installer can check. */
			say(sink, "campaign %s: zone '%s' is not this gateway's zone '%s' "
				  "([gateway] zone): this gateway never fires it", c->name, c->zone,
			    pc->zone);
			n++;
		}
	}
	return n;
}

void config_audit(const struct pipeline_config *pc, const struct snapshot *s, int64_t now_s,
		  const struct audit_sink *sink, struct audit_counts *out)
{
	struct audit_counts c = { 0 };

	if (s) {
		c.store_namespace_ids = audit_store_namespaces(pc, s, sink);
		c.channelless_consents = audit_consents(s, sink);
		c.idle_campaigns = audit_campaigns(pc, s, now_s, sink);
	}
	if (out)
		*out = c;
}
