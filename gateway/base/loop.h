/*
 * loop.h - the daemon's single-threaded event loop (epoll).
 *
 * Three kinds of event source, each with a callback:
 *   - file descriptors with read and/or write interest,
 *   - timers (one-shot or periodic) on the monotonic clock; the nearest
 *     one sets epoll_wait's timeout, so an idle daemon sleeps in the kernel,
 *   - signals through a signalfd (the signals are blocked for the thread).
 *
 * Callbacks run one at a time; any of them may add or remove fds and
 * timers, including its own. Nothing else in the daemon knows about the
 * loop: components expose an fd, "wants write" and tick functions, and
 * main.c wires them here.
 */
#ifndef BGW_LOOP_H
#define BGW_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#define LOOP_READ 0x1u
#define LOOP_WRITE 0x2u

#define LOOP_MAX_FDS 32
#define LOOP_MAX_TIMERS 32

struct loop;

/* events: LOOP_READ and/or LOOP_WRITE; errors and hang-ups report as readable. */
typedef void (*loop_fd_cb)(struct loop *l, int fd, uint32_t events, void *ctx);
typedef void (*loop_timer_cb)(struct loop *l, int timer_id, void *ctx);
typedef void (*loop_signal_cb)(struct loop *l, int signo, void *ctx);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* 0 or -errno. One registration per fd. */
int loop_add_fd(struct loop *l, int fd, uint32_t interest, loop_fd_cb cb, void *ctx);
int loop_set_interest(struct loop *l, int fd, uint32_t interest);
void loop_del_fd(struct loop *l, int fd);

/*
 * A timer that fires after delay_ms and then, if interval_ms > 0, every
 * interval_ms (missed periods are not replayed). Returns its id (>= 0) or
 * -ENOSPC. A one-shot timer is gone once it has fired.
 */
int loop_timer_add(struct loop *l, uint64_t delay_ms, uint64_t interval_ms, loop_timer_cb cb,
		   void *ctx);
/* Re-arm an existing timer (e.g. a watchdog being fed). -ENOENT if gone. */
int loop_timer_rearm(struct loop *l, int timer_id, uint64_t delay_ms);
void loop_timer_del(struct loop *l, int timer_id);

/*
 * Deliver the given signals through the loop. They are blocked in the
 * calling thread (do this before starting other threads, e.g. libraries').
 * 0 or -errno.
 */
int loop_add_signals(struct loop *l, const int *signals, int n, loop_signal_cb cb, void *ctx);

/*
 * Called once per loop turn, just before waiting (like Redis' beforeSleep):
 * for components that want "after every turn" work, e.g. libmosquitto's
 * misc loop. Returns the longest the loop may then sleep in ms, or -1 for
 * no limit. One hook; NULL removes it.
 */
typedef int (*loop_before_wait_cb)(struct loop *l, void *ctx);
void loop_set_before_wait(struct loop *l, loop_before_wait_cb cb, void *ctx);

/* Run until loop_stop. Returns the code given to loop_stop, or -errno. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l, int code);
bool loop_stopping(const struct loop *l);

/* Monotonic milliseconds (read fresh on each call). */
uint64_t loop_now_ms(void);

#endif
