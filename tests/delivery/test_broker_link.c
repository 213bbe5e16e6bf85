/*
 * The broker link against real loopback sockets: each failure gets its own
 * kind and the one-line message users see, the session comes up only with a
 * CONNACK, and the down callback fires for every failed attempt so that the
 * owner forgets what it had in flight. (Against a real broker: the Python tests here.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "broker_link.h"
#include "delivery_config.h"

struct seen {
	int up, down;
};

static void on_up(void *ctx)
{
	((struct seen *)ctx)->up++;
}

static void on_down(void *ctx)
{
	((struct seen *)ctx)->down++;
}

/* A loopback TCP port: listening (backlog only, never answers) or closed. */
static int loopback_port(bool listening, int *fd_out)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	if (listening) {
		assert_int_equal(listen(fd, 4), 0);
		*fd_out = fd;
	} else {
		close(fd);
	}
	return ntohs(a.sin_port);
}

static struct broker_link *new_link(int port, struct seen *seen)
{
	struct delivery_config cfg;
	struct broker_link_callbacks cb = { .ctx = seen, .up = on_up, .down = on_down };
	struct broker_link *l;
	char err[256];

	delivery_config_defaults(&cfg);
	snprintf(cfg.host, sizeof(cfg.host), "127.0.0.1");
	snprintf(cfg.site, sizeof(cfg.site), "s");
	snprintf(cfg.gateway, sizeof(cfg.gateway), "g");
	cfg.port = port;
	cfg.connect_timeout_ms = 200;
	l = broker_link_new(&cfg, "bgw/s/g/status", &cb, err, sizeof(err));
	assert_non_null(l);
	return l;
}

/* Drive the link as the loop would until it failed once (or up to ~3 s). */
static void run_until_failure(struct broker_link *l)
{
	for (int i = 0; i < 300 && broker_link_failure(l) == BROKER_OK; i++) {
		struct pollfd pfd = { .fd = broker_link_fd(l), .events = POLLIN };

		if (pfd.fd >= 0) {
			if (broker_link_wants_write(l))
				pfd.events |= POLLOUT;
			if (poll(&pfd, 1, 10) > 0) {
				if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
					broker_link_on_readable(l);
				if (pfd.revents & POLLOUT)
					broker_link_on_writable(l);
			}
		} else {
			usleep(10000);
		}
		broker_link_tick(l);
	}
}

static void test_unreachable(void **state)
{
	struct seen seen = { 0 };
	int port = loopback_port(false, NULL);
	struct broker_link *l = new_link(port, &seen);
	char want[64];

	(void)state;
	assert_int_equal(broker_link_failure(l), BROKER_OK);
	assert_string_equal(broker_link_last_error(l), "");
	run_until_failure(l);
	assert_int_equal(broker_link_failure(l), BROKER_FAIL_UNREACHABLE);
	snprintf(want, sizeof(want), "broker 127.0.0.1:%d unreachable: ", port);
	assert_memory_equal(broker_link_last_error(l), want, strlen(want));
	assert_false(broker_link_connected(l));
	assert_int_equal(seen.up, 0);
	assert_true(seen.down >= 1);
	assert_int_equal(broker_link_get_stats(l)->connect_failures, 1);
	assert_int_equal(broker_link_fd(l), -1);
	/* Backing off: the next attempt is not due at once. */
	assert_true(broker_link_timeout_ms(l) > 0);
	broker_link_free(l);
}

/* TCP is accepted (by the kernel) but nobody speaks MQTT. */
static void test_no_connack(void **state)
{
	struct seen seen = { 0 };
	int lfd, port = loopback_port(true, &lfd);
	struct broker_link *l = new_link(port, &seen);
	char want[64];

	(void)state;
	run_until_failure(l);
	assert_int_equal(broker_link_failure(l), BROKER_FAIL_TIMEOUT);
	snprintf(want, sizeof(want), "broker 127.0.0.1:%d: no CONNACK within 0.2 s", port);
	assert_memory_equal(broker_link_last_error(l), want, strlen(want));
	assert_int_equal(seen.up, 0);
	assert_true(seen.down >= 1);
	broker_link_free(l);
	close(lfd);
}

static void test_failure_names(void **state)
{
	(void)state;
	assert_string_equal(broker_failure_name(BROKER_FAIL_TLS), "tls");
	assert_string_equal(broker_failure_name(BROKER_FAIL_AUTH), "auth");
	assert_string_equal(broker_failure_name(BROKER_FAIL_LOST), "lost");
	assert_string_equal(broker_failure_name((enum broker_failure)99), "?");
}

static void test_bad_tls_file(void **state)
{
	struct delivery_config cfg;
	char err[256];

	(void)state;
	delivery_config_defaults(&cfg);
	snprintf(cfg.cafile, sizeof(cfg.cafile), "/nonexistent/ca.pem");
	assert_null(broker_link_new(&cfg, "t/status", NULL, err, sizeof(err)));
	assert_string_equal(err, "[mqtt] cafile /nonexistent/ca.pem: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_no_connack),
		cmocka_unit_test(test_failure_names),
		cmocka_unit_test(test_bad_tls_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
