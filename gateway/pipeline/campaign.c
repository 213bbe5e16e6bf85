/* campaign.c - campaign matching with cooldown and daily-cap state. */
#include "campaign.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consent_gate.h"

#define WAYS 8
/* Upper bound of [campaigns] contact_max: the times kept per customer. */
#define CONTACT_MAX CAMPAIGN_CONTACT_MAX

struct cap_state {
	int64_t customer_id, campaign_id;
	int64_t last_at;        /* unix seconds of the newest trigger, 0 = slot free */
	int32_t day;            /* local day of last_at: year * 1000 + day of year */
	uint32_t count;         /* triggers on that day */
	uint32_t split_epoch;   /* fired during this split of the site (see campaign.h) */
};

/* Contact pressure: a customer's newest trigger times, any campaign. */
struct contact_state {
	int64_t customer_id;
	int64_t last_at;        /* 0 = slot free */
	uint8_t head, len;
	uint32_t at[CONTACT_MAX];
};

struct campaign_rules {
	struct pipeline_config cfg;
	struct cap_state *st;
	uint32_t set_mask;
	struct contact_state *ct;   /* NULL without contact_max */
	uint32_t ct_mask;
	int32_t quiet_from, quiet_until;
	bool split;
	uint32_t epoch;
	struct campaign_stats stats;
};

static int32_t local_day(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	return (tm.tm_year + 1900) * 1000 + tm.tm_yday;
}

bool campaign_in_hours(const struct snap_campaign *c, int64_t now_s)
{
	time_t tt = (time_t)now_s;
	struct tm tm;
	int32_t m;

	if (c->hours_from_min < 0 || c->hours_until_min < 0 ||
	    c->hours_from_min == c->hours_until_min)
		return true;
	localtime_r(&tt, &tm);
	m = tm.tm_hour * 60 + tm.tm_min;
	if (c->hours_from_min < c->hours_until_min)
		return m >= c->hours_from_min && m < c->hours_until_min;
	return m >= c->hours_from_min || m < c->hours_until_min; /* e.g. 22:00-02:00 */
}

struct campaign_rules *campaign_rules_new(const struct pipeline_config *cfg)
{
	struct campaign_rules *r = calloc(1, sizeof(*r));
	uint32_t sets = 1;

	if (!r)
		return NULL;
	r->cfg = *cfg;
	while (sets * WAYS < cfg->max_campaign_state && sets < (1u << 24))
		sets <<= 1;
	r->set_mask = sets - 1;
	r->st = calloc((size_t)sets * WAYS, sizeof(*r->st));
	if (!r->st) {
		free(r);
		return NULL;
	}
	if (cfg->contact_max) {
		for (sets = 1; sets * WAYS < cfg->max_tracked && sets < (1u << 20); sets <<= 1)
			;
		r->ct_mask = sets - 1;
		r->ct = calloc((size_t)sets * WAYS, sizeof(*r->ct));
		if (!r->ct) {
			campaign_rules_free(r);
			return NULL;
		}
	}
	if (!pipeline_quiet_hours(cfg->quiet_hours, &r->quiet_from, &r->quiet_until))
		r->quiet_from = r->quiet_until = -1;
	r->epoch = 1;
	return r;
}

void campaign_rules_free(struct campaign_rules *r)
{
	if (!r)
		return;
	free(r->st);
	free(r->ct);
	free(r);
}

/* The contact record of a customer; with create, a slot for it (the one
 * triggered longest ago in a full set goes). */
static struct contact_state *contact_get(struct campaign_rules *r, int64_t cust, bool create)
{
	struct contact_state *set, *victim;

	if (!r->ct)
		return NULL;
	set = &r->ct[(size_t)((((uint64_t)cust * 0x9E3779B97F4A7C15ull) >> 32) & r->ct_mask) * WAYS];
	victim = &set[0];
	for (int w = 0; w < WAYS; w++) {
		if (set[w].last_at && set[w].customer_id == cust)
			return &set[w];
		if (set[w].last_at < victim->last_at)
			victim = &set[w];
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->customer_id = cust;
	return victim;
}

/* Triggers of the customer within the contact period before now_s. */
static uint32_t contact_count(struct campaign_rules *r, int64_t cust, int64_t now_s)
{
	const struct contact_state *c = contact_get(r, cust, false);
	uint32_t n = 0;

	for (uint8_t k = 0; c && k < c->len; k++) {
		int64_t at = c->at[(c->head + CONTACT_MAX - k) % CONTACT_MAX];

		if (at > now_s - (int64_t)r->cfg.contact_period_s && at <= now_s)
			n++;
	}
	return n;
}

static void contact_note(struct campaign_rules *r, int64_t cust, int64_t at_s)
{
	struct contact_state *c = contact_get(r, cust, true);

	if (!c)
		return;
	if (c->len)
		c->head = (uint8_t)((c->head + 1) % CONTACT_MAX);
	if (c->len < CONTACT_MAX)
		c->len++;
	c->at[c->head] = (uint32_t)(at_s > 0 ? at_s : 1);
	if (at_s > c->last_at)
		c->last_at = at_s > 0 ? at_s : 1;
}

static bool in_window(int32_t from, int32_t until, int64_t now_s)
{
	time_t tt = (time_t)now_s;
	struct tm tm;
	int32_t m;

	if (from < 0 || until < 0 || from == until)
		return false;
	localtime_r(&tt, &tm);
	m = tm.tm_hour * 60 + tm.tm_min;
	if (from < until)
		return m >= from && m < until;
	return m >= from || m < until;
}

bool campaign_quiet(const struct campaign_rules *r, int64_t now_s)
{
	return in_window(r->quiet_from, r->quiet_until, now_s);
}

void campaign_rules_set_split(struct campaign_rules *r, bool split)
{
	if (split && !r->split)
		r->epoch++;
	r->split = split;
}

/* The state of (customer, campaign); with create, a slot for it (evicting
 * the stalest of the set). NULL when absent and !create. */
static struct cap_state *state_get(struct campaign_rules *r, int64_t cust, int64_t camp,
				   bool create)
{
	uint64_t h =
		((uint64_t)cust * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)camp * 0xC2B2AE3D27D4EB4Full);
	struct cap_state *set = &r->st[(size_t)((h >> 32) & r->set_mask) * WAYS], *victim = &set[0];

	for (int w = 0; w < WAYS; w++) {
		if (set[w].last_at && set[w].customer_id == cust && set[w].campaign_id == camp)
			return &set[w];
		if (set[w].last_at < victim->last_at)
			victim = &set[w];
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->customer_id = cust;
	victim->campaign_id = camp;
	return victim;
}

/*
 * Does c read the state of its past triggers? Only a cooldown or a daily
 * cap does (the split rule too holds back only those campaigns). Others
 * keep none: a campaign that fires for every tracked customer at once
 * would otherwise fill the table, 640 KiB at the default size, with
 * entries nothing reads. A campaign given a cap later finds its past
 * triggers in the history the snapshot swap seeds from.
 */
static bool capped(const struct snap_campaign *c)
{
	return c->cooldown_s || c->daily_cap;
}

void campaign_rules_seed(struct campaign_rules *r, const struct snapshot *s)
{
	for (uint32_t i = 0; s && i < s->n_history; i++) {
		const struct snap_trigger_history *h = &s->history[i];
		struct cap_state *st;
		int32_t day;

		if (h->customer >= s->n_customers || h->campaign >= s->n_campaigns ||
		    h->last_at <= 0 || !capped(&s->campaigns[h->campaign]))
			continue;
		st = state_get(r, snap_customer_id(s, h->customer), s->campaigns[h->campaign].id,
			       true);
		day = local_day(h->last_at);
		if (st->last_at && st->day == day) {
			if (h->count_today > st->count)
				st->count = h->count_today;
		} else if (!st->last_at || day > st->day) {
			st->day = day;
			st->count = h->count_today;
		}
		if (h->last_at > st->last_at)
			st->last_at = h->last_at;
	}
}

void campaign_rules_note(struct campaign_rules *r, int64_t customer_id, int64_t campaign_id,
			 int64_t at_s)
{
	struct cap_state *st = campaign_id > 0 ? state_get(r, customer_id, campaign_id, true) : NULL;
	int32_t day = local_day(at_s);

	if (st) {
		if (st->last_at && st->day == day) {
			st->count++;
		} else if (!st->last_at || day > st->day) {
			st->day = day;
			st->count = 1;
		}
		if (at_s > st->last_at)
			st->last_at = at_s > 0 ? at_s : 1;
	}
	contact_note(r, customer_id, at_s);
	r->stats.peer_triggers++;
}

static bool in_segment(const struct snapshot *s, const struct snap_customer *c, int32_t seg)
{
	const uint32_t *segs;
	uint32_t n;

	if (seg < 0)
		return true;
	n = snap_customer_segments(s, (uint32_t)(c - s->customers), &segs);
	for (uint32_t i = 0; i < n; i++)
		if (segs[i] == (uint32_t)seg)
			return true;
	return false;
}

static bool dwell_ok(const struct snap_campaign *c, const struct campaign_event *ev)
{
	switch (ev->kind) {
	case VISIT_ENTER:
		return true;
	case VISIT_EXIT:
		return ev->dwell_s >= c->min_dwell_s;
	case VISIT_DWELL:
		/* Once per visit: the tracker reports each threshold once. */
		return ev->threshold_s == c->min_dwell_s;
	}
	return false;
}

uint32_t campaign_rules_match(struct campaign_rules *r, const struct snapshot *s,
			      const struct campaign_event *ev, campaign_fire_fn fire, void *ctx)
{
	const struct snap_customer *cust;
	int64_t cust_id;
	uint32_t fired = 0;
	int32_t today = 0;

	if (!s || ev->customer >= s->n_customers)
		return 0;
	cust = &s->customers[ev->customer];
	cust_id = snap_customer_id(s, ev->customer);
	for (uint32_t i = 0; i < s->n_campaigns; i++) {
		const struct snap_campaign *c = &s->campaigns[i];
		struct cap_state *st;
		uint32_t channels;

		if ((int)c->event != (int)ev->kind || strcmp(c->zone, ev->zone) != 0 ||
		    !in_segment(s, cust, c->segment) || !dwell_ok(c, ev))
			continue;
		if ((c->valid_from && ev->now_s < c->valid_from) ||
		    (c->valid_until && ev->now_s >= c->valid_until) ||
		    !campaign_in_hours(c, ev->now_s))
			continue;
		channels = consent_gate_trigger_channels(s, cust, c, ev->now_s);
		if (!channels)
			continue;
		st = NULL;
		if (capped(c)) {
			if (!today)
				today = local_day(ev->now_s);
			st = state_get(r, cust_id, c->id, false);
		}
		if (st && c->cooldown_s && ev->now_s < st->last_at + (int64_t)c->cooldown_s)
			continue;
		if (st && c->daily_cap && st->day == today && st->count >= c->daily_cap)
			continue;
		/* Split site: peers' triggers may be missing from the counts, so
		 * each capped campaign fires at most once per customer on this side
		 * until the site is whole again. */
		if (r->split && st && (c->cooldown_s || c->daily_cap) && st->split_epoch == r->epoch) {
			r->stats.split_held++;
			continue;
		}
		if (campaign_quiet(r, ev->now_s)) {
			r->stats.quiet_held++;
			continue;
		}
		if (r->cfg.contact_max &&
		    contact_count(r, cust_id, ev->now_s) >= r->cfg.contact_max) {
			r->stats.contact_held++;
			continue;
		}
		if (capped(c)) {
			if (!st)
				st = state_get(r, cust_id, c->id, true);
			if (st->day != today) {
				st->day = today;
				st->count = 0;
			}
			st->count++;
			st->last_at = ev->now_s > 0 ? ev->now_s : 1;
			st->split_epoch = r->split ? r->epoch : 0;
		}
		contact_note(r, cust_id, ev->now_s);
		fired++;
		fire(ctx, i, channels);
	}
	return fired;
}

const struct campaign_stats *campaign_rules_get_stats(const struct campaign_rules *r)
{
	return &r->stats;
}

uint32_t campaign_dwell_thresholds(const struct snapshot *s, const char *zone, uint32_t *out,
				   uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; s && i < s->n_campaigns; i++) {
		const struct snap_campaign *c = &s->campaigns[i];
		uint32_t at;

		if (c->event != SNAP_EVENT_DWELL || strcmp(c->zone, zone) != 0)
			continue;
		for (at = 0; at < n && out[at] < c->min_dwell_s; at++)
			;
		if ((at < n && out[at] == c->min_dwell_s) || at >= max)
			continue;
		if (n == max)
			n--; /* the largest falls off */
		memmove(&out[at + 1], &out[at], (n - at) * sizeof(*out));
		out[at] = c->min_dwell_s;
		n++;
	}
	return n;
}
