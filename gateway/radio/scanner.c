/*
 * scanner.c - source + parser + controller + watchdog on the event loop.
 */
#include "scanner.h"

#include "bgw_exit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hci_event.h"
#include "log.h"
#include "loop.h"

#define HOUSEKEEPING_MS 250
#define STOP_GRACE_MS 1500

struct scanner {
	struct loop *loop;
	struct source *src;
	struct hci_event_parser parser;
	struct controller ctrl;
	struct watchdog wd;
	struct scanner_callbacks cb;
	struct scanner_stats stats;
	bool live;              /* commands accepted: controller and watchdog run */
	bool reset_default;
	int registered_fd;
	int source_timer;       /* replay pacing / reconnect attempts; -1 = none */
	int housekeeping_timer;
	int stop_timer;
	bool started;          /* scanner_start ran (link events before it are its own) */
	bool stopping;
	bool finished;
};

static void schedule_source(struct scanner *s);

static uint64_t now_ms(void)
{
	return loop_now_ms();
}

static void finish(struct scanner *s, int status)
{
	if (s->finished)
		return;
	s->finished = true;
	s->cb.finished(s->cb.ctx, status);
}

/* ---- parser callbacks ---- */

static void on_adv(void *ctx, const struct adv_report *r)
{
	struct scanner *s = ctx;

	s->stats.reports++;
	if (s->live)
		watchdog_report(&s->wd, now_ms());
	s->cb.report(s->cb.ctx, r);
}

static void act(struct scanner *s, enum watchdog_action a)
{
	switch (a) {
	case WD_NONE:
		break;
	case WD_RESCAN:
	case WD_RESET:
		/* While the adapter or link is away there is nothing to send the
		 * step to: the ladder still climbs (and ends in exit 69 if the
		 * adapter never comes back), and an up link restarts the scan. */
		if (!source_is_up(s->src)) {
			log_info("watchdog: %s skipped, the adapter is away",
				 watchdog_action_name(a));
			break;
		}
		if (a == WD_RESCAN) {
			controller_rescan(&s->ctrl, now_ms());
			break;
		}
		hci_event_parser_discard_partials(&s->parser);
		controller_start(&s->ctrl, true, now_ms());
		break;
	case WD_EXIT:
		finish(s, BGW_EXIT_UNAVAILABLE);
		break;
	}
}

static void on_ctrl(void *ctx, const struct hci_ctrl_event *ev)
{
	struct scanner *s = ctx;

	if (s->live)
		controller_on_event(&s->ctrl, ev, now_ms());
}

/* ---- controller callbacks ---- */

static int ctrl_send(void *ctx, const uint8_t *pkt, size_t len)
{
	struct scanner *s = ctx;

	return source_send(s->src, pkt, len);
}

static void ctrl_state(void *ctx, enum controller_state st)
{
	struct scanner *s = ctx;

	if (st == CTRL_STOPPED && s->stopping) {
		if (s->stop_timer >= 0)
			loop_timer_del(s->loop, s->stop_timer);
		s->stop_timer = -1;
		if (s->cb.stopped)
			s->cb.stopped(s->cb.ctx);
	}
}

static void ctrl_error(void *ctx, enum controller_error err)
{
	struct scanner *s = ctx;

	if (s->stopping)
		return;
	/* A failure that leaves the controller stopped is worth a step at once. */
	act(s, watchdog_error(&s->wd,
			      err == CTRL_ERR_HARDWARE	     ? WD_ERR_HARDWARE
			      : s->ctrl.state == CTRL_FAILED ? WD_ERR_FAILED
							     : WD_ERR_MINOR,
			      now_ms()));
}

/* ---- source callbacks ---- */

static void on_packet(void *ctx, uint8_t type, const uint8_t *pkt, size_t len, uint64_t ts_us)
{
	struct scanner *s = ctx;

	s->stats.packets++;
	if (s->cb.clock)
		s->cb.clock(s->cb.ctx, ts_us);
	if (type != 0x04)
		return;
	/* Rate-limited: a controller spewing bad events must not flood the
	 * journal. (The parser counts an event as malformed exactly when it
	 * says so.) */
	if (hci_event_parse(&s->parser, pkt, len, ts_us) == HCI_EVENT_MALFORMED)
		log_limited(LOG_PRIO_WARNING, "malformed hci event",
			    "malformed HCI event from the controller (%llu so far)",
			    (unsigned long long)s->parser.stats.malformed);
}

static void register_fd(struct scanner *s);

static void on_link(void *ctx, bool up)
{
	struct scanner *s = ctx;

	if (!up) {
		s->stats.link_drops++;
		if (s->registered_fd >= 0)
			loop_del_fd(s->loop, s->registered_fd);
		s->registered_fd = -1;
		hci_event_parser_discard_partials(&s->parser);
		controller_detach(&s->ctrl);
		/* The watchdog stays armed: an adapter that never comes back must
		 * end in its documented escalation (exit 69), not in a hang. */
		if (s->stopping)
			watchdog_arm(&s->wd, false, now_ms());
		if (s->stopping && s->cb.stopped)
			s->cb.stopped(s->cb.ctx);
		return;
	}
	/* Registered by schedule_source after the read that reconnected. */
	if (s->started && s->live && !s->stopping) {
		watchdog_arm(&s->wd, true, now_ms());
		controller_start(&s->ctrl, s->reset_default, now_ms());
	}
}

/* ---- loop plumbing ---- */

static void source_ready(struct scanner *s)
{
	int rc;

	if (s->finished)
		return;
	rc = source_read(s->src, now_ms());
	if (rc == SOURCE_END) {
		hci_event_parser_discard_partials(&s->parser);
		finish(s, 0);
		return;
	}
	if (rc < 0) {
		finish(s, rc == -EBADMSG ? BGW_EXIT_DATAERR : BGW_EXIT_UNAVAILABLE);
		return;
	}
	schedule_source(s);
}

static void on_source_fd(struct loop *l, int fd, uint32_t events, void *ctx)
{
	(void)l;
	(void)fd;
	(void)events;
	source_ready(ctx);
}

static void on_source_timer(struct loop *l, int id, void *ctx)
{
	struct scanner *s = ctx;

	(void)l;
	(void)id;
	s->source_timer = -1;
	source_ready(s);
}

static void register_fd(struct scanner *s)
{
	int fd = source_fd(s->src);

	if (fd == s->registered_fd)
		return;
	if (s->registered_fd >= 0)
		loop_del_fd(s->loop, s->registered_fd);
	s->registered_fd = -1;
	if (fd >= 0 && loop_add_fd(s->loop, fd, LOOP_READ, on_source_fd, s) == 0)
		s->registered_fd = fd;
}

/* After each read: wait on the fd, or on a timer when the source has none. */
static void schedule_source(struct scanner *s)
{
	int64_t delay;

	if (s->finished)
		return;
	register_fd(s);
	if (s->registered_fd >= 0)
		return;
	delay = source_delay_ms(s->src, now_ms());
	if (delay < 0 || s->source_timer >= 0)
		return;
	s->source_timer = loop_timer_add(s->loop, (uint64_t)delay, 0, on_source_timer, s);
}

static void on_housekeeping(struct loop *l, int id, void *ctx)
{
	struct scanner *s = ctx;

	(void)l;
	(void)id;
	log_flush_suppressed();
	if (!s->live || s->finished)
		return;
	controller_tick(&s->ctrl, now_ms());
	if (!s->stopping)
		act(s, watchdog_tick(&s->wd, now_ms()));
}

static void on_stop_timeout(struct loop *l, int id, void *ctx)
{
	struct scanner *s = ctx;

	(void)l;
	(void)id;
	s->stop_timer = -1;
	log_warn("controller did not confirm the scan stop in time");
	if (s->cb.stopped)
		s->cb.stopped(s->cb.ctx);
}

/* ---- public ---- */

struct scanner *scanner_new(struct loop *l, const struct scanner_settings *set,
			    const struct source_spec *spec, bool realtime,
			    const struct scanner_callbacks *cb)
{
	struct scanner *s = calloc(1, sizeof(*s));
	struct source_options opt = { .realtime = realtime };
	struct source_callbacks scb = { .ctx = s, .packet = on_packet, .link = on_link };
	struct hci_event_callbacks hcb = { .ctx = s, .adv = on_adv, .ctrl = on_ctrl };
	struct controller_callbacks ccb = {
		.ctx = s, .send = ctrl_send, .state = ctrl_state, .error = ctrl_error,
	};
	struct controller_settings cs = {
		.active = set->active,
		.interval = controller_ms_to_units(set->interval_ms),
		.window = controller_ms_to_units(set->window_ms),
		.extended = set->extended,
		.command_timeout_ms = set->command_timeout_ms,
	};

	if (!s)
		return NULL;
	s->loop = l;
	s->cb = *cb;
	s->registered_fd = -1;
	s->source_timer = -1;
	s->housekeeping_timer = -1;
	s->stop_timer = -1;
	s->src = source_new(spec, &opt, &scb);
	if (!s->src) {
		free(s);
		return NULL;
	}
	s->live = source_accepts_commands(s->src);
	s->reset_default = set->reset == SCANNER_RESET_ON ||
			   (set->reset == SCANNER_RESET_AUTO && source_owns_controller(s->src));
	cs.reset = s->reset_default;
	hci_event_parser_init(&s->parser, &hcb);
	controller_init(&s->ctrl, &cs, &ccb);
	watchdog_init(&s->wd, &set->watchdog);
	return s;
}

void scanner_free(struct scanner *s)
{
	if (!s)
		return;
	if (s->registered_fd >= 0)
		loop_del_fd(s->loop, s->registered_fd);
	if (s->source_timer >= 0)
		loop_timer_del(s->loop, s->source_timer);
	if (s->housekeeping_timer >= 0)
		loop_timer_del(s->loop, s->housekeeping_timer);
	if (s->stop_timer >= 0)
		loop_timer_del(s->loop, s->stop_timer);
	source_free(s->src);
	free(s);
}

int scanner_start(struct scanner *s, char *err, size_t errlen)
{
	int rc = source_open(s->src, err, errlen);

	if (rc < 0)
		return source_is_finite(s->src) ? BGW_EXIT_DATAERR : BGW_EXIT_UNAVAILABLE;
	s->started = true;
	s->housekeeping_timer = loop_timer_add(s->loop, HOUSEKEEPING_MS, HOUSEKEEPING_MS,
					       on_housekeeping, s);
	if (s->live && source_is_up(s->src)) {
		watchdog_arm(&s->wd, true, now_ms());
		controller_start(&s->ctrl, s->reset_default, now_ms());
	}
	schedule_source(s);
	return 0;
}

void scanner_stop(struct scanner *s)
{
	if (s->stopping)
		return;
	s->stopping = true;
	watchdog_arm(&s->wd, false, now_ms());
	if (s->live && source_is_up(s->src) && controller_stop(&s->ctrl, now_ms())) {
		s->stop_timer = loop_timer_add(s->loop, STOP_GRACE_MS, 0, on_stop_timeout, s);
		return;
	}
	if (s->cb.stopped)
		s->cb.stopped(s->cb.ctx);
}

bool scanner_is_finite(const struct scanner *s) { return source_is_finite(s->src); }
const char *scanner_source_name(const struct scanner *s) { return source_kind_name(s->src); }
const struct scanner_stats *scanner_get_stats(const struct scanner *s) { return &s->stats; }

const struct controller_stats *scanner_controller_stats(const struct scanner *s)
{
	return &s->ctrl.stats;
}

const struct watchdog_stats *scanner_watchdog_stats(const struct scanner *s)
{
	return &s->wd.stats;
}

const struct hci_event_stats *scanner_parser_stats(const struct scanner *s)
{
	return &s->parser.stats;
}

uint64_t scanner_garbage_bytes(const struct scanner *s)
{
	return s->src ? source_garbage_bytes(s->src) : 0;
}

enum controller_state scanner_controller_state(const struct scanner *s)
{
	return s->ctrl.state;
}
