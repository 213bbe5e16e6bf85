/* Config keys of [mqtt]/[outbox]/[consent] and the TLS policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "delivery_config.h"

static void test_defaults_ok(void **state)
{
	struct delivery_config c;
	char err[300];

	(void)state;
	delivery_config_defaults(&c);
	assert_int_equal(delivery_config_check(&c, err, sizeof(err)), 0);
	assert_int_equal(delivery_config_port(&c), 1883);
	assert_int_equal(c.message_expiry_s, 900);
	assert_int_equal(c.max_inflight, 20);
}

static void test_tls_required_for_remote(void **state)
{
	struct delivery_config c;
	char err[300];

	(void)state;
	delivery_config_defaults(&c);
	assert_int_equal(delivery_config_set(&c, "mqtt", "host", "broker.example.net", err,
					     sizeof(err)), 1);
	assert_int_equal(delivery_config_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "TLS is required"));
	assert_int_equal(delivery_config_set(&c, "mqtt", "cafile", "/etc/ca.pem", err, sizeof(err)),
			 1);
	assert_int_equal(delivery_config_check(&c, err, sizeof(err)), 0);
	assert_int_equal(delivery_config_port(&c), 8883);
	delivery_config_defaults(&c);
	delivery_config_set(&c, "mqtt", "host", "10.0.0.2", err, sizeof(err));
	delivery_config_set(&c, "mqtt", "tls_required", "no", err, sizeof(err));
	assert_int_equal(delivery_config_check(&c, err, sizeof(err)), 0);
	delivery_config_defaults(&c);
	delivery_config_set(&c, "mqtt", "tls_required", "yes", err, sizeof(err));
	assert_int_equal(delivery_config_check(&c, err, sizeof(err)), -1);
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(delivery_host_is_loopback("127.0.0.1"));
	assert_true(delivery_host_is_loopback("127.1.2.3"));
	assert_true(delivery_host_is_loopback("::1"));
	assert_true(delivery_host_is_loopback("localhost"));
	assert_false(delivery_host_is_loopback("128.0.0.1"));
	assert_false(delivery_host_is_loopback("localhost.evil.example"));
	assert_false(delivery_host_is_loopback("::2"));
}

static void test_bad_values(void **state)
{
	struct delivery_config c;
	char err[300];

	(void)state;
	delivery_config_defaults(&c);
	assert_int_equal(delivery_config_set(&c, "mqtt", "port", "70000", err, sizeof(err)), -1);
	assert_int_equal(delivery_config_set(&c, "mqtt", "port", "-1", err, sizeof(err)), -1);
	assert_int_equal(delivery_config_set(&c, "mqtt", "password", "x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "password_file"));
	assert_int_equal(delivery_config_set(&c, "mqtt", "tls_required", "maybe", err, sizeof(err)),
			 -1);
	assert_int_equal(delivery_config_set(&c, "mqtt", "nope", "1", err, sizeof(err)), 0);
	assert_int_equal(delivery_config_set(&c, "other", "host", "1", err, sizeof(err)), 0);
	assert_int_equal(delivery_config_set(&c, "mqtt", "reconnect_min", "0.2", err, sizeof(err)),
			 1);
	assert_int_equal(c.reconnect_min_ms, 200);
	assert_int_equal(delivery_config_set(&c, "mqtt", "certfile", "/c.pem", err, sizeof(err)),
			 1);
	assert_int_equal(delivery_config_check(&c, err, sizeof(err)), -1);
}

static void test_topic(void **state)
{
	struct delivery_config c;
	char t[64];

	(void)state;
	delivery_config_defaults(&c);
	strcpy(c.site, "s1");
	strcpy(c.gateway, "gw1");
	assert_int_equal(delivery_topic(&c, "trigger", t, sizeof(t)), 0);
	assert_string_equal(t, "beacongw/v1/s1/gw1/trigger");
	assert_int_equal(delivery_topic(&c, "trigger", t, 10), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_ok),
		cmocka_unit_test(test_tls_required_for_remote),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_topic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
