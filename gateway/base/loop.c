/*
 * loop.c - epoll event loop with a small timer table and a signalfd.
 *
 * The daemon has a handful of fds and timers, so both live in fixed
 * arrays scanned linearly: simpler than a heap and never allocates after
 * loop_new.
 */
#include "loop.h"

#include "bgw_clock.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct fd_reg {
	int fd;             /* -1 = free */
	uint32_t gen;       /* detects a slot reused between epoll_wait and dispatch */
	uint32_t interest;
	loop_fd_cb cb;
	void *ctx;
};

struct timer {
	bool active;
	uint64_t due_ms;
	uint64_t interval_ms;
	loop_timer_cb cb;
	void *ctx;
};

struct loop {
	int epfd;
	int sigfd;
	sigset_t sigmask;
	loop_signal_cb sig_cb;
	void *sig_ctx;
	bool stop;
	int stop_code;
	loop_before_wait_cb before_wait;
	void *before_wait_ctx;
	struct fd_reg fds[LOOP_MAX_FDS];
	struct timer timers[LOOP_MAX_TIMERS];
};

/* The signalfd's slot in epoll data: above every fd slot. */
#define SIGNAL_SLOT 0xFFFFFFFFu

uint64_t loop_now_ms(void)
{
	return bgw_mono_ms();
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	for (int i = 0; i < LOOP_MAX_FDS; i++)
		l->fds[i].fd = -1;
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->sigfd >= 0) {
		close(l->sigfd);
		/* Give the signals back their default handling for the caller. */
		sigprocmask(SIG_UNBLOCK, &l->sigmask, NULL);
	}
	close(l->epfd);
	free(l);
}

static uint32_t to_epoll(uint32_t interest)
{
	return ((interest & LOOP_READ) ? EPOLLIN : 0) | ((interest & LOOP_WRITE) ? EPOLLOUT : 0);
}

static struct fd_reg *find_fd(struct loop *l, int fd)
{
	for (int i = 0; i < LOOP_MAX_FDS; i++)
		if (l->fds[i].fd == fd)
			return &l->fds[i];
	return NULL;
}

static uint64_t reg_data(struct loop *l, struct fd_reg *r)
{
	return ((uint64_t)r->gen << 32) | (uint64_t)(r - l->fds);
}

int loop_add_fd(struct loop *l, int fd, uint32_t interest, loop_fd_cb cb, void *ctx)
{
	struct fd_reg *r;
	struct epoll_event ev = { 0 };

	if (fd < 0 || !cb)
		return -EINVAL;
	if (find_fd(l, fd))
		return -EEXIST;
	r = find_fd(l, -1);
	if (!r)
		return -ENOSPC;
	r->gen++;
	ev.events = to_epoll(interest);
	ev.data.u64 = reg_data(l, r);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	r->fd = fd;
	r->interest = interest;
	r->cb = cb;
	r->ctx = ctx;
	return 0;
}

int loop_set_interest(struct loop *l, int fd, uint32_t interest)
{
	struct fd_reg *r = fd >= 0 ? find_fd(l, fd) : NULL;
	struct epoll_event ev = { 0 };

	if (!r)
		return -ENOENT;
	if (r->interest == interest)
		return 0;
	ev.events = to_epoll(interest);
	ev.data.u64 = reg_data(l, r);
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	r->interest = interest;
	return 0;
}

void loop_del_fd(struct loop *l, int fd)
{
	struct fd_reg *r = fd >= 0 ? find_fd(l, fd) : NULL;

	if (!r)
		return;
	/* May fail if the fd was closed already; the kernel dropped it then. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	r->fd = -1;
	r->gen++;
}

int loop_timer_add(struct loop *l, uint64_t delay_ms, uint64_t interval_ms, loop_timer_cb cb,
		   void *ctx)
{
	for (int i = 0; i < LOOP_MAX_TIMERS; i++) {
		struct timer *t = &l->timers[i];

		if (t->active)
			continue;
		t->active = true;
		t->due_ms = loop_now_ms() + delay_ms;
		t->interval_ms = interval_ms;
		t->cb = cb;
		t->ctx = ctx;
		return i;
	}
	return -ENOSPC;
}

int loop_timer_rearm(struct loop *l, int timer_id, uint64_t delay_ms)
{
	if (timer_id < 0 || timer_id >= LOOP_MAX_TIMERS || !l->timers[timer_id].active)
		return -ENOENT;
	l->timers[timer_id].due_ms = loop_now_ms() + delay_ms;
	return 0;
}

void loop_timer_del(struct loop *l, int timer_id)
{
	if (timer_id >= 0 && timer_id < LOOP_MAX_TIMERS)
		l->timers[timer_id].active = false;
}

int loop_add_signals(struct loop *l, const int *signals, int n, loop_signal_cb cb, void *ctx)
{
	struct epoll_event ev = { 0 };
	sigset_t set;
	int fd;

	sigemptyset(&set);
	for (int i = 0; i < n; i++)
		sigaddset(&set, signals[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	for (int i = 0; i < n; i++)
		sigaddset(&l->sigmask, signals[i]);
	fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (l->sigfd < 0) {
		ev.events = EPOLLIN;
		ev.data.u64 = SIGNAL_SLOT;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	l->sigfd = fd;
	l->sig_cb = cb;
	l->sig_ctx = ctx;
	return 0;
}

void loop_set_before_wait(struct loop *l, loop_before_wait_cb cb, void *ctx)
{
	l->before_wait = cb;
	l->before_wait_ctx = ctx;
}

void loop_stop(struct loop *l, int code)
{
	l->stop = true;
	l->stop_code = code;
}

bool loop_stopping(const struct loop *l)
{
	return l->stop;
}

/* Milliseconds until the nearest timer, or -1 (block) when none is set. */
static int next_timeout(struct loop *l)
{
	uint64_t now = loop_now_ms(), best = UINT64_MAX;

	for (int i = 0; i < LOOP_MAX_TIMERS; i++)
		if (l->timers[i].active && l->timers[i].due_ms < best)
			best = l->timers[i].due_ms;
	if (best == UINT64_MAX)
		return -1;
	if (best <= now)
		return 0;
	return best - now > 60000 ? 60000 : (int)(best - now);
}

static void run_timers(struct loop *l)
{
	uint64_t now = loop_now_ms();

	for (int i = 0; i < LOOP_MAX_TIMERS && !l->stop; i++) {
		struct timer *t = &l->timers[i];

		if (!t->active || t->due_ms > now)
			continue;
		if (t->interval_ms) {
			t->due_ms += t->interval_ms;
			/* Fell behind (a long callback, a suspended machine): skip, don't burst. */
			if (t->due_ms <= now)
				t->due_ms = now + t->interval_ms;
		} else {
			t->active = false;
		}
		t->cb(l, i, t->ctx);
	}
}

static void drain_signals(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (l->sig_cb)
			l->sig_cb(l, (int)si.ssi_signo, l->sig_ctx);
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_MAX_FDS + 1];

	l->stop = false;
	l->stop_code = 0;
	while (!l->stop) {
		int timeout, cap, n;

		cap = l->before_wait ? l->before_wait(l, l->before_wait_ctx) : -1;
		if (l->stop)
			break;
		timeout = next_timeout(l);
		if (cap >= 0 && (timeout < 0 || cap < timeout))
			timeout = cap;
		n = epoll_wait(l->epfd, evs, LOOP_MAX_FDS + 1, timeout);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			uint64_t data = evs[i].data.u64;
			struct fd_reg *r;
			uint32_t events = 0;

			if (data == SIGNAL_SLOT) {
				drain_signals(l);
				continue;
			}
			r = &l->fds[(uint32_t)data];
			/* Removed or replaced by an earlier callback in this batch. */
			if (r->fd < 0 || r->gen != (uint32_t)(data >> 32))
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				events |= LOOP_READ;
			if (evs[i].events & EPOLLOUT)
				events |= LOOP_WRITE;
			events &= r->interest | LOOP_READ;
			if (events)
				r->cb(l, r->fd, events, r->ctx);
		}
		if (!l->stop)
			run_timers(l);
	}
	return l->stop_code;
}
