/*
 * consent_gate.h - the purposes a customer has granted, evaluated at the
 * time of each event (so an expiry or a withdrawal recorded for a moment
 * is honoured from that moment, whatever time the snapshot was read).
 */
#ifndef BGW_CONSENT_GATE_H
#define BGW_CONSENT_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "snapshot.h"

/* May a visit of this customer be tracked and recorded at now_s? */
bool consent_gate_presence(const struct snapshot *s, const struct snap_customer *c, int64_t now_s);

/* Channels a trigger of campaign cam may use for this customer at now_s:
 * retargeting consent in force, then the consent's channels intersected
 * with the campaign's (campaign channels 0 = any). 0 = no trigger. */
uint32_t consent_gate_trigger_channels(const struct snapshot *s, const struct snap_customer *c,
				       const struct snap_campaign *cam, int64_t now_s);

/* May a trigger of this customer still be published at now_s? Presence and
 * retargeting both in force (a trigger is part of a visit): the check the
 * publisher repeats just before a queued trigger leaves the gateway. */
bool consent_gate_trigger_allowed(const struct snapshot *s, const struct snap_customer *c,
				  int64_t now_s);

#endif
