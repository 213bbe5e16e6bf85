/*
 * test_loop.c - event loop: fds with read/write interest, one-shot and
 * periodic timers, removal from inside callbacks, signals via signalfd,
 * the before-wait hook.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"

struct ctx {
	int reads, writes, timer_a, timer_b, periodic, signals, last_signo, hooks;
	int fd;
	int periodic_id;
	struct loop *l;
};

static void on_read(struct loop *l, int fd, uint32_t ev, void *p)
{
	struct ctx *c = p;
	char buf[16];

	assert_true(ev & LOOP_READ);
	assert_true(read(fd, buf, sizeof(buf)) > 0);
	c->reads++;
	loop_stop(l, 7);
}

static void test_fd_readable(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = { 0 };
	int p[2];

	(void)state;
	assert_non_null(l);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_add_fd(l, p[0], LOOP_READ, on_read, &c), 0);
	assert_int_equal(loop_add_fd(l, p[0], LOOP_READ, on_read, &c), -EEXIST);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_run(l), 7);
	assert_int_equal(c.reads, 1);
	loop_del_fd(l, p[0]);
	loop_free(l);
	close(p[0]);
	close(p[1]);
}

static void on_write(struct loop *l, int fd, uint32_t ev, void *p)
{
	struct ctx *c = p;

	(void)fd;
	assert_true(ev & LOOP_WRITE);
	c->writes++;
	if (c->writes == 3) {
		/* Drop write interest: the loop must then go idle until the timer. */
		assert_int_equal(loop_set_interest(l, fd, LOOP_READ), 0);
	}
}

static void stop_timer(struct loop *l, int id, void *p)
{
	struct ctx *c = p;

	(void)id;
	c->timer_a++;
	loop_stop(l, 0);
}

static void test_fd_write_interest(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = { 0 };
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_add_fd(l, p[1], LOOP_WRITE, on_write, &c), 0);
	assert_true(loop_timer_add(l, 50, 0, stop_timer, &c) >= 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.writes, 3);
	assert_int_equal(c.timer_a, 1);
	loop_free(l);
	close(p[0]);
	close(p[1]);
}

static void periodic(struct loop *l, int id, void *p)
{
	struct ctx *c = p;

	c->periodic++;
	if (c->periodic == 3) {
		loop_timer_del(l, id);       /* removing itself from its own callback */
		loop_stop(l, 3);
	}
}

static void one_shot_a(struct loop *l, int id, void *p)
{
	struct ctx *c = p;

	(void)l;
	(void)id;
	assert_int_equal(c->timer_b, 0);   /* 10 ms fires before 30 ms */
	c->timer_a++;
}

static void one_shot_b(struct loop *l, int id, void *p)
{
	struct ctx *c = p;

	(void)l;
	(void)id;
	assert_int_equal(c->timer_a, 1);
	c->timer_b++;
}

static void test_timers(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = { 0 };
	int id;

	(void)state;
	assert_true(loop_timer_add(l, 30, 0, one_shot_b, &c) >= 0);
	assert_true(loop_timer_add(l, 10, 0, one_shot_a, &c) >= 0);
	id = loop_timer_add(l, 5, 20, periodic, &c);
	assert_true(id >= 0);
	assert_int_equal(loop_run(l), 3);
	assert_int_equal(c.timer_a, 1);
	assert_int_equal(c.timer_b, 1);
	assert_int_equal(c.periodic, 3);
	/* Deleted: re-arming it fails. */
	assert_int_equal(loop_timer_rearm(l, id, 10), -ENOENT);
	loop_free(l);
}

static void never(struct loop *l, int id, void *p)
{
	(void)l;
	(void)id;
	(void)p;
	fail_msg("a deleted timer fired");
}

static void test_timer_del_and_rearm(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = { 0 };
	int dead = loop_timer_add(l, 1, 0, never, &c);
	int stopper = loop_timer_add(l, 5, 0, stop_timer, &c);

	(void)state;
	loop_timer_del(l, dead);
	assert_int_equal(loop_timer_rearm(l, stopper, 20), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.timer_a, 1);
	loop_free(l);
}

static void test_timer_table_full(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = { 0 };

	(void)state;
	for (int i = 0; i < LOOP_MAX_TIMERS; i++)
		assert_true(loop_timer_add(l, 1000, 0, never, &c) >= 0);
	assert_int_equal(loop_timer_add(l, 1000, 0, never, &c), -ENOSPC);
	loop_free(l);
}

static void on_sig(struct loop *l, int signo, void *p)
{
	struct ctx *c = p;

	c->signals++;
	c->last_signo = signo;
	if (signo == SIGTERM)
		loop_stop(l, 15);
}

static void raise_hup_then_term(struct loop *l, int id, void *p)
{
	(void)l;
	(void)id;
	(void)p;
	kill(getpid(), SIGHUP);
	kill(getpid(), SIGTERM);
}

static void test_signals(void **state)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct loop *l = loop_new();
	struct ctx c = { 0 };

	(void)state;
	assert_int_equal(loop_add_signals(l, sigs, 3, on_sig, &c), 0);
	assert_true(loop_timer_add(l, 1, 0, raise_hup_then_term, &c) >= 0);
	assert_int_equal(loop_run(l), 15);
	assert_int_equal(c.signals, 2);
	assert_int_equal(c.last_signo, SIGTERM);
	loop_free(l);
}

static void remove_other(struct loop *l, int fd, uint32_t ev, void *p)
{
	struct ctx *c = p;

	(void)ev;
	(void)fd;
	c->reads++;
	/* Both fds are readable in the same batch; the other one must not run. */
	loop_del_fd(l, c->fd);
	loop_stop(l, 0);
}

static void test_remove_during_dispatch(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = { 0 };
	int a[2], b[2];

	(void)state;
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	c.fd = b[0];
	assert_int_equal(loop_add_fd(l, a[0], LOOP_READ, remove_other, &c), 0);
	/* Whichever comes first removes b; if b comes first it removes itself. */
	assert_int_equal(loop_add_fd(l, b[0], LOOP_READ, remove_other, &c), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.reads, 1);
	loop_free(l);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

static int hook(struct loop *l, void *p)
{
	struct ctx *c = p;

	if (++c->hooks == 4)
		loop_stop(l, 4);
	return 1;   /* wake up at least every millisecond */
}

static void test_before_wait(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = { 0 };

	(void)state;
	/* No fds, no timers: only the hook's cap keeps the loop turning. */
	loop_set_before_wait(l, hook, &c);
	assert_int_equal(loop_run(l), 4);
	assert_int_equal(c.hooks, 4);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_readable),
		cmocka_unit_test(test_fd_write_interest),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_timer_del_and_rearm),
		cmocka_unit_test(test_timer_table_full),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_remove_during_dispatch),
		cmocka_unit_test(test_before_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
