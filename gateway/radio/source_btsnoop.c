/*
 * source_btsnoop.c - replay a btsnoop capture (datalinks 1002 and 2001).
 *
 * A regular file cannot be waited on with epoll, so the replay has no fd:
 * it asks to be called again after a delay. As fast as possible, it reads
 * a batch of records per call (delay 0), so signals and timers still get
 * their turn. With --realtime, each record is due at its capture time
 * relative to the first record, and the delay is the time until then.
 * Only packets from the controller are replayed: our own commands in a
 * capture are history, not input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btsnoop.h"
#include "log.h"
#include "source_impl.h"

#define BATCH 256

struct replay {
	FILE *f;
	struct btsnoop_reader reader;  /* big (128 KiB read block): heap, not stack */
	struct btsnoop_record next;    /* read ahead, not yet delivered */
	bool have_next;
	bool done;
	bool started;
	uint64_t first_ts_us;
	uint64_t start_ms;
	/* A monitor capture may hold several controllers (a Pi's own and a USB
	 * dongle, say); the gateway is one scanner, so it follows the first
	 * controller that delivered an advertising report and leaves the
	 * others out from there on. */
	int32_t follow_index;          /* -1 until the first advertising report */
	uint64_t other_index_packets;
};

static int replay_open(struct source *s, char *err, size_t errlen)
{
	struct replay *r = calloc(1, sizeof(*r));
	int rc;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->f = fopen(s->spec.path, "rbe");
	if (!r->f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", s->spec.path, strerror(errno));
		free(r);
		return rc;
	}
	rc = btsnoop_reader_open_file(&r->reader, r->f);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", s->spec.path,
			 *btsnoop_reader_message(&r->reader) ? btsnoop_reader_message(&r->reader)
							     : btsnoop_strerror(rc));
		fclose(r->f);
		free(r);
		return -EINVAL;
	}
	r->follow_index = -1;
	s->impl = r;
	s->up = true;
	return 0;
}

static int replay_fd(const struct source *s)
{
	(void)s;
	return -1;
}

/* An LE Meta event with an advertising report (legacy, extended, directed)? */
static bool is_adv_report(const struct btsnoop_record *rec)
{
	return rec->h4_type == 0x04 && rec->len >= 3 && rec->data[0] == 0x3E &&
	       (rec->data[2] == 0x02 || rec->data[2] == 0x0D || rec->data[2] == 0x0B);
}

/* Read ahead to the next controller-to-host record. 1, 0 at the end, <0 error. */
static int fetch(struct source *s, struct replay *r)
{
	for (;;) {
		int rc = btsnoop_reader_next(&r->reader, &r->next);

		if (rc <= 0) {
			if (rc < 0)
				log_err("replay: %s: %s", s->spec.path,
					btsnoop_reader_message(&r->reader));
			return rc;
		}
		if (r->next.h4_type == 0x01 || (r->reader.datalink == BTSNOOP_DATALINK_MONITOR &&
						 !r->next.received))
			continue;
		if (r->reader.datalink == BTSNOOP_DATALINK_MONITOR) {
			if (r->follow_index < 0 && is_adv_report(&r->next))
				r->follow_index = r->next.index;
			if (r->follow_index >= 0 && r->next.index != r->follow_index) {
				r->other_index_packets++;
				continue;
			}
		}
		r->have_next = true;
		return 1;
	}
}

static int64_t replay_delay_ms(struct source *s, uint64_t now_ms)
{
	struct replay *r = s->impl;
	uint64_t due;

	if (!r || r->done)
		return -1;
	if (!s->opt.realtime || !r->have_next || !r->started)
		return 0;
	due = r->start_ms + (r->next.ts_us > r->first_ts_us
				     ? (r->next.ts_us - r->first_ts_us) / 1000u
				     : 0);
	return due > now_ms ? (int64_t)(due - now_ms) : 0;
}

static int replay_read(struct source *s, uint64_t now_ms)
{
	struct replay *r = s->impl;

	if (!r || r->done)
		return SOURCE_END;
	for (int i = 0; i < BATCH; i++) {
		if (!r->have_next) {
			int rc = fetch(s, r);

			if (rc <= 0) {
				r->done = true;
				/* A damaged capture is bad input data (exit 65). */
				return rc < 0 ? -EBADMSG : SOURCE_END;
			}
		}
		if (!r->started) {
			r->started = true;
			r->first_ts_us = r->next.ts_us;
			r->start_ms = now_ms;
		}
		if (s->opt.realtime && replay_delay_ms(s, now_ms) > 0)
			return SOURCE_OK;
		r->have_next = false;
		s->cb.packet(s->cb.ctx, r->next.h4_type, r->next.data, r->next.len, r->next.ts_us);
	}
	return SOURCE_OK;
}

static void replay_close(struct source *s)
{
	struct replay *r = s->impl;

	if (!r)
		return;
	if (r->other_index_packets)
		log_notice("replay: followed controller index %d; %llu packet(s) of other "
			   "controllers in the capture were left out",
			   (int)r->follow_index, (unsigned long long)r->other_index_packets);
	fclose(r->f);
	free(r);
	s->impl = NULL;
}

const struct source_ops source_btsnoop_ops = {
	.name = "btsnoop",
	.finite = true,
	.commands = false,
	.owns_controller = false,
	.open = replay_open,
	.fd = replay_fd,
	.delay_ms = replay_delay_ms,
	.read = replay_read,
	.send = NULL,
	.close = replay_close,
};
