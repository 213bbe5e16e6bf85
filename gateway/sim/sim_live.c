/*
 * sim_live.c - live mode: an H4 controller on a socket.
 *
 * One thread, one ppoll() loop with timeouts: the next scenario event sets
 * the timeout, the gateway's commands are answered as they arrive. The
 * simulated clock starts when the first gateway connects and runs at
 * --speed times real time from then on, across reconnections (the store
 * does not wait for the gateway). A second simultaneous connection is
 * refused: a UART has one host.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aes_openssl.h"
#include "bgw_clock.h"
#include "btsnoop.h"
#include "h4.h"
#include "hci_cmd.h"
#include "log.h"
#include "sim_ctrl.h"
#include "sim_listen.h"
#include "sim_rng.h"
#include "sim_run.h"
#include "sim_world.h"

/* Bytes queued for a gateway that reads slowly. Past this, advertising
 * reports are dropped (a controller's buffers overflow the same way);
 * command answers always fit in the reserve. */
#define OUT_CAP (1u << 20)
#define OUT_RESERVE 8192
/* How long --once waits for a slow gateway to take the last bytes. */
#define DRAIN_MS 2000

struct live {
	const struct sim_run *run;
	struct sim_listener lis;
	int client;
	struct h4_decoder dec;
	struct sim_ctrl ctrl;
	struct sim_world *w;
	bool started, ended;
	struct timespec mono0;
	uint8_t *out;
	size_t out_head, out_len;
	uint64_t dropped_reports, connections, ignored_packets;
	FILE *snoop_f;
	struct btsnoop_writer bw;
	bool snoop_failed;
	struct sim_rng fault_rng;
	bool mask_warned;
	bool end_logged;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void snoop(struct live *l, const uint8_t *h4, size_t len, bool received)
{
	struct btsnoop_record rec;

	if (!l->snoop_f || l->snoop_failed || len < 1)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.ts_us = bgw_wall_us();
	rec.h4_type = h4[0];
	rec.received = received;
	rec.data = h4 + 1;
	rec.len = len - 1;
	/* Flushed per record so the capture is readable while we run. */
	if (btsnoop_writer_write(&l->bw, &rec) || fflush(l->snoop_f)) {
		l->snoop_failed = true;
		log_err("write error on %s; capture stopped", l->run->btsnoop_path);
	}
}

static void queue(struct live *l, const uint8_t *b, size_t len)
{
	if (l->out_head > 0 && l->out_len + len > OUT_CAP) {
		memmove(l->out, l->out + l->out_head, l->out_len - l->out_head);
		l->out_len -= l->out_head;
		l->out_head = 0;
	}
	if (l->out_len + len > OUT_CAP)
		return; /* cannot happen for answers: see OUT_RESERVE */
	memcpy(l->out + l->out_len, b, len);
	l->out_len += len;
}

static void emit(void *ctx, const uint8_t *h4, size_t len)
{
	struct live *l = ctx;

	if (l->client < 0)
		return;
	queue(l, h4, len);
	snoop(l, h4, len, true);
}

static void drop_client(struct live *l, const char *why)
{
	if (l->client < 0)
		return;
	close(l->client);
	l->client = -1;
	l->out_head = l->out_len = 0;
	log_notice("gateway disconnected (%s)", why);
}

static void flush_out(struct live *l)
{
	while (l->client >= 0 && l->out_head < l->out_len) {
		ssize_t n = send(l->client, l->out + l->out_head, l->out_len - l->out_head,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				drop_client(l, strerror(errno));
			return;
		}
		l->out_head += (size_t)n;
	}
	if (l->out_head == l->out_len)
		l->out_head = l->out_len = 0;
}

static void on_packet(void *ctx, uint8_t type, const uint8_t *pkt, size_t len)
{
	struct live *l = ctx;
	uint8_t h4[HCI_MAX_CMD_H4];

	if (type != H4_CMD) {
		l->ignored_packets++;
		return;
	}
	if (h4_encode(type, pkt, len, h4, sizeof(h4)))
		snoop(l, h4, len + 1, false);
	sim_ctrl_command(&l->ctrl, pkt, len);
}

static uint64_t sim_now(const struct live *l)
{
	struct timespec ts;

	if (!l->started)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double real_us = (double)(ts.tv_sec - l->mono0.tv_sec) * 1e6 +
			 (double)(ts.tv_nsec - l->mono0.tv_nsec) / 1e3;
	double t = real_us * l->run->speed;

	return t >= 1.8e19 ? UINT64_MAX - 1 : (uint64_t)t;
}

static void accept_client(struct live *l)
{
	int fd = accept4(l->lis.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (l->client >= 0) {
		close(fd);
		log_warn("refused a second connection: one gateway at a time");
		return;
	}
	l->client = fd;
	l->connections++;
	/* A new host finds a freshly powered controller. */
	sim_ctrl_reset(&l->ctrl);
	h4_decoder_init(&l->dec, on_packet, l);
	if (!l->started) {
		clock_gettime(CLOCK_MONOTONIC, &l->mono0);
		l->started = true;
	}
	log_notice("gateway connected (connection %llu)", (unsigned long long)l->connections);
}

static void read_client(struct live *l)
{
	uint8_t buf[4096];

	for (;;) {
		ssize_t n = recv(l->client, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			h4_decoder_feed(&l->dec, buf, (size_t)n);
			if (l->client < 0)
				return;
			continue;
		}
		if (n == 0) {
			drop_client(l, "closed by the gateway");
		} else if (errno == EINTR) {
			continue;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			drop_client(l, strerror(errno));
		}
		return;
	}
}

static void fault(struct live *l, const struct scn_fault *f)
{
	uint8_t junk[4096];

	if (l->client < 0) {
		log_debug("line %u: fault while no gateway is connected", f->line);
		return;
	}
	switch (f->kind) {
	case SCN_FAULT_GARBAGE:
		/* Never an H4 packet indicator (0x01..0x05), so the stream is
		 * back in step at the next real packet whatever the seed. */
		for (unsigned i = 0; i < f->bytes; i++) {
			uint8_t b;

			do
				b = (uint8_t)sim_rng_next(&l->fault_rng);
			while (b >= H4_CMD && b <= H4_ISO);
			junk[i] = b;
		}
		queue(l, junk, f->bytes);
		log_notice("fault: %u garbage bytes", f->bytes);
		break;
	case SCN_FAULT_HW_ERROR:
		sim_ctrl_hw_error(&l->ctrl, f->code);
		/* After a hardware error the controller has stopped; the host
		 * must reset it and enable scanning again. */
		l->ctrl.scan = SIM_SCAN_OFF;
		log_notice("fault: hardware error 0x%02x, scanning stopped", f->code);
		break;
	case SCN_FAULT_SILENCE:
		log_notice("fault: silence for %.1f s", f->for_us / 1e6);
		break;
	case SCN_FAULT_DISCONNECT:
		flush_out(l);
		drop_client(l, "fault: disconnect");
		break;
	}
}

/* Play every scenario event due by now. */
static void run_due(struct live *l)
{
	struct sim_event ev;

	if (!l->started || l->ended)
		return;
	uint64_t now = sim_now(l);

	for (;;) {
		sim_world_next(l->w, now, &ev);
		if (ev.kind == SIM_EV_NONE)
			return;
		if (ev.kind == SIM_EV_END) {
			l->ended = true;
			return;
		}
		if (ev.kind == SIM_EV_FAULT) {
			fault(l, ev.fault);
			continue;
		}
		if (l->client < 0)
			continue;
		if (l->out_len - l->out_head > OUT_CAP - OUT_RESERVE) {
			l->dropped_reports++;
			continue;
		}
		uint64_t masked = l->ctrl.st.masked;

		sim_ctrl_report(&l->ctrl, &ev.adv);
		if (l->ctrl.st.masked != masked && !l->mask_warned) {
			l->mask_warned = true;
			log_warn("advertising reports withheld: the host's event masks do not "
				 "enable them (Set Event Mask bit 61, LE Set Event Mask bit %d)",
				 l->ctrl.scan == SIM_SCAN_EXTENDED ? 12 : 1);
		}
	}
}

static int timeout_ms(const struct live *l)
{
	if (!l->started || l->ended)
		return -1;
	uint64_t next = sim_world_peek(l->w), now = sim_now(l);

	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	double ms = ceil((double)(next - now) / l->run->speed / 1000.0);

	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* --once: give the gateway a moment to read what is still queued. */
static void drain(struct live *l)
{
	struct timespec deadline, now;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += DRAIN_MS / 1000;
	while (l->client >= 0 && l->out_head < l->out_len && !stop_signal) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = (deadline.tv_sec - now.tv_sec) * 1000 +
			    (deadline.tv_nsec - now.tv_nsec) / 1000000;

		if (left <= 0)
			break;
		struct pollfd p = { .fd = l->client, .events = POLLOUT };

		if (poll(&p, 1, (int)left) > 0)
			flush_out(l);
	}
}

static int loop(struct live *l, const sigset_t *unblocked)
{
	while (!stop_signal) {
		struct pollfd fds[2];
		nfds_t n = 0;

		run_due(l);
		flush_out(l);
		if (l->ended && l->run->once) {
			drain(l);
			log_notice("scenario over");
			return BGW_EXIT_OK;
		}
		fds[n++] = (struct pollfd){ .fd = l->lis.fd, .events = POLLIN };
		if (l->client >= 0)
			fds[n++] = (struct pollfd){
				.fd = l->client,
				.events = (short)(POLLIN | (l->out_head < l->out_len ? POLLOUT : 0)),
			};
		int ms = timeout_ms(l);
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

		if (ppoll(fds, n, ms < 0 ? NULL : &ts, unblocked) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			return BGW_EXIT_UNAVAILABLE;
		}
		if (fds[0].revents & POLLIN)
			accept_client(l);
		if (n > 1 && l->client >= 0 && fds[1].fd == l->client) {
			if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
				read_client(l);
			if (l->client >= 0 && (fds[1].revents & POLLOUT))
				flush_out(l);
		}
		if (l->ended && !l->run->once && !l->end_logged) {
			/* Stay up answering commands; say it once. */
			l->end_logged = true;
			log_notice("scenario over; still answering commands (--once to exit)");
		}
	}
	log_notice("stopped by signal %d", (int)stop_signal);
	return BGW_EXIT_OK;
}

int sim_run_live(const struct sim_run *run)
{
	struct live l;
	char err[256];
	uint8_t bdaddr[6] = { 0x01, 0x00, 0x5E, 0x1A, 0xB0, 0xC0 };
	sigset_t block, unblocked;
	struct sigaction sa;
	int rc;

	memset(&l, 0, sizeof(l));
	l.run = run;
	l.client = -1;
	if (run->scn->has_controller_addr)
		memcpy(bdaddr, run->scn->controller_addr, 6);
	sim_rng_seed(&l.fault_rng, run->seed, 0xFA017ull);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Signals are only delivered inside ppoll(): no race with the flag. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGTERM);

	l.out = malloc(OUT_CAP);
	l.w = sim_world_new(run->scn, run->seed, run->start_time, run->duration_us,
			    aes128_openssl);
	if (!l.out || !l.w) {
		log_err("out of memory");
		rc = BGW_EXIT_UNAVAILABLE;
		goto out;
	}
	if (run->btsnoop_path) {
		l.snoop_f = fopen(run->btsnoop_path, "wb");
		if (!l.snoop_f || btsnoop_writer_open(&l.bw, l.snoop_f, BTSNOOP_DATALINK_H4)) {
			log_err("cannot create %s: %s", run->btsnoop_path, strerror(errno));
			rc = BGW_EXIT_UNAVAILABLE;
			goto out;
		}
	}
	sim_ctrl_init(&l.ctrl, run->scn->legacy_only, bdaddr, emit, &l);
	if (sim_listen_open(&l.lis, run->listen, err, sizeof(err))) {
		log_err("%s", err);
		rc = BGW_EXIT_UNAVAILABLE;
		goto out;
	}
	log_notice("listening on %s (speed x%g, %.1f s of scenario)", l.lis.where, run->speed,
		   run->duration_us / 1e6);
	rc = loop(&l, &unblocked);
	log_notice("%llu advertising reports sent, %llu dropped (slow reader), %llu commands "
		   "(%llu unknown)", (unsigned long long)l.ctrl.st.reports,
		   (unsigned long long)l.dropped_reports, (unsigned long long)l.ctrl.st.commands,
		   (unsigned long long)l.ctrl.st.unknown_commands);
out:
	drop_client(&l, "exiting");
	sim_listen_close(&l.lis);
	if (l.snoop_f && fclose(l.snoop_f) && rc == BGW_EXIT_OK) {
		log_err("write error on %s", run->btsnoop_path);
		rc = BGW_EXIT_UNAVAILABLE;
	}
	sim_world_free(l.w);
	free(l.out);
	return rc;
}
