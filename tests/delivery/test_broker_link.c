/*
 * The broker link against real loopback sockets: each failure gets its own
 * kind and the one-line message users see, the session comes up only with a
 * CONNACK, and the down callback fires for every failed attempt so that the
 * owner forgets what it had in flight. Its two parts on their own: the TCP
 * probe (listening answers 1, closed -ECONNREFUSED) and the password file
 * as an operator writes it. (Against a real broker: the Python tests here.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "broker_client.h"
#include "broker_link.h"
#include "broker_probe.h"
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

/* Wait (as the loop would, on writability) until the probe has an answer. */
static int probe_answer(int port)
{
	char why[128];
	int fd, r = 0;

	assert_int_equal(broker_probe_start("127.0.0.1", port, &fd, why, sizeof(why)), BROKER_OK);
	assert_true(fd >= 0);
	for (int i = 0; i < 300 && r == 0; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };

		poll(&pfd, 1, 10);
		r = broker_probe_result(fd);
	}
	close(fd);
	return r;
}

static void test_probe_listening(void **state)
{
	int lfd, port = loopback_port(true, &lfd);

	(void)state;
	assert_int_equal(probe_answer(port), 1);
	close(lfd);
}

static void test_probe_closed(void **state)
{
	int port = loopback_port(false, NULL);

	(void)state;
	assert_int_equal(probe_answer(port), -ECONNREFUSED);
}

static void password_case(const char *content, int want, const char *want_text)
{
	struct delivery_config cfg;
	char path[] = "/tmp/bgw-pw-XXXXXX", out[64], err[256] = "";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	if (content)
		assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	delivery_config_defaults(&cfg);
	snprintf(cfg.password_file, sizeof(cfg.password_file), "%s", path);
	if (!content)
		unlink(path);
	assert_int_equal(broker_client_read_password(&cfg, out, sizeof(out), err, sizeof(err)),
			 want);
	if (want == 0)
		assert_string_equal(out, want_text);
	else
		assert_non_null(strstr(err, want_text));
	unlink(path);
}

static void test_password_file(void **state)
{
	char longpw[100];

	(void)state;
	password_case("s3cret\n", 0, "s3cret");
	password_case("s3cret\r\nsecond line\n", 0, "s3cret");
	password_case("s3cret", 0, "s3cret");
	password_case("\n", -1, "is empty");
	password_case(NULL, -1, "password_file");
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	password_case(longpw, -1, "too long");
}

static void test_no_password_file(void **state)
{
	struct delivery_config cfg;
	char out[16] = "junk", err[64];

	(void)state;
	delivery_config_defaults(&cfg);
	cfg.password_file[0] = '\0';
	assert_int_equal(broker_client_read_password(&cfg, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_no_connack),
		cmocka_unit_test(test_failure_names),
		cmocka_unit_test(test_bad_tls_file),
		cmocka_unit_test(test_probe_listening),
		cmocka_unit_test(test_probe_closed),
		cmocka_unit_test(test_password_file),
		cmocka_unit_test(test_no_password_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
