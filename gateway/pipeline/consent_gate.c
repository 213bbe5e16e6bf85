/* consent_gate.c - purpose checks at event time. */
#include "consent_gate.h"

bool consent_gate_presence(const struct snapshot *s, const struct snap_customer *c, int64_t now_s)
{
	return snap_consent_active(&snap_customer_consent(s, c)[SNAP_PRESENCE], now_s);
}

uint32_t consent_gate_trigger_channels(const struct snapshot *s, const struct snap_customer *c,
				       const struct snap_campaign *cam, int64_t now_s)
{
	const struct snap_consent *r = &snap_customer_consent(s, c)[SNAP_RETARGETING];

	/* A trigger is part of a visit: it needs presence as well as retargeting. */
	if (!consent_gate_trigger_allowed(s, c, now_s))
		return 0;
	return cam->channels ? (r->channels & cam->channels) : r->channels;
}

bool consent_gate_trigger_allowed(const struct snapshot *s, const struct snap_customer *c,
				  int64_t now_s)
{
	return consent_gate_presence(s, c, now_s) &&
	       snap_consent_active(&snap_customer_consent(s, c)[SNAP_RETARGETING], now_s);
}
