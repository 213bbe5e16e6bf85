/*
 * test_source_spec.c - SPEC parsing for --source and [source] spec.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "source.h"
#include "bgw_util.h"

static void test_good(void **state)
{
	struct source_spec s;
	char err[256];

	(void)state;
	assert_int_equal(source_spec_parse("hci:hci0", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, SOURCE_HCI);
	assert_int_equal(s.dev_id, 0);
	assert_int_equal(source_spec_parse("hci:hci12", &s, err, sizeof(err)), 0);
	assert_int_equal(s.dev_id, 12);

	assert_int_equal(source_spec_parse("h4:unix:/run/beaconsim.sock", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, SOURCE_H4_UNIX);
	assert_string_equal(s.path, "/run/beaconsim.sock");

	assert_int_equal(source_spec_parse("h4:tcp:127.0.0.1:4000", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, SOURCE_H4_TCP);
	assert_string_equal(s.host, "127.0.0.1");
	assert_int_equal(s.port, 4000);
	assert_int_equal(source_spec_parse("h4:tcp:[::1]:65535", &s, err, sizeof(err)), 0);
	assert_string_equal(s.host, "::1");
	assert_int_equal(s.port, 65535);
	assert_int_equal(source_spec_parse("h4:tcp:localhost:1", &s, err, sizeof(err)), 0);

	assert_int_equal(source_spec_parse("h4:tty:/dev/ttyACM0", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, SOURCE_H4_TTY);
	assert_string_equal(s.path, "/dev/ttyACM0");
	assert_int_equal(s.baud, SOURCE_DEFAULT_BAUD);
	assert_int_equal(source_spec_parse("h4:tty:/dev/ttyUSB0@115200", &s, err, sizeof(err)), 0);
	assert_string_equal(s.path, "/dev/ttyUSB0");
	assert_int_equal(s.baud, 115200);

	assert_int_equal(source_spec_parse("btsnoop:cap.btsnoop", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, SOURCE_BTSNOOP);
	assert_string_equal(s.path, "cap.btsnoop");
	/* A colon in a file name is the file's business. */
	assert_int_equal(source_spec_parse("btsnoop:a:b", &s, err, sizeof(err)), 0);
	assert_string_equal(s.path, "a:b");
}

static void test_bad(void **state)
{
	static const char *const bad[] = {
		"", "hci", "hci:", "hci:0", "hci:hci", "hci:hcix", "hci:hci-1", "hci:hci99999",
		"h4:unix:", "h4:tcp:", "h4:tcp:host", "h4:tcp:host:", "h4:tcp::80", "h4:tcp:h:0",
		"h4:tcp:h:65536", "h4:tcp:h:8x", "h4:tcp:[::1:80", "h4:tty:", "h4:tty:@115200",
		"h4:tty:/dev/x@", "h4:tty:/dev/x@123", "h4:tty:/dev/x@-9600", "btsnoop:",
		"serial:/dev/x", "h4:udp:1.2.3.4:5", "HCI:hci0",
	};
	struct source_spec s;
	char err[256];

	(void)state;
	for (size_t i = 0; i < BGW_ARRAY_SIZE(bad); i++) {
		if (source_spec_parse(bad[i], &s, err, sizeof(err)) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_non_null(strstr(err, "bad source"));
	}
	/* A unix socket path longer than sun_path. */
	char longp[300] = "h4:unix:/";
	memset(longp + 9, 'a', 200);
	longp[209] = '\0';
	assert_int_equal(source_spec_parse(longp, &s, err, sizeof(err)), -1);
	assert_int_equal(source_spec_parse(NULL, &s, err, sizeof(err)), -1);
}

static void test_bauds(void **state)
{
	(void)state;
	assert_true(source_baud_supported(1000000));
	assert_true(source_baud_supported(115200));
	assert_true(source_baud_supported(4000000));
	assert_false(source_baud_supported(0));
	assert_false(source_baud_supported(12345));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_bauds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
