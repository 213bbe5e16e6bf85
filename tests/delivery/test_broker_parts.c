/*
 * The two parts the broker link is built from, on their own: the TCP probe
 * against real loopback sockets (listening answers 1, closed answers
 * -ECONNREFUSED) and the password file as an operator writes it (the first
 * line, its end of line dropped; empty, too long or missing is refused with
 * the key named).
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
#include "broker_probe.h"
#include "delivery_config.h"

/* A loopback TCP port: listening (backlog only) or closed. */
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
		cmocka_unit_test(test_probe_listening),
		cmocka_unit_test(test_probe_closed),
		cmocka_unit_test(test_password_file),
		cmocka_unit_test(test_no_password_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
