/*
 * test_config.c - beacongw.conf parsing: every key of the table, defaults
 * that agree with the pipeline's and the delivery part's, errors with the
 * line number (unknown section/key, bad values, duplicates), cross-key
 * checks, and the example config documenting every key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "bgw_util.h"

static int load(struct config *cfg, const char *text, char *err)
{
	return config_load_string(cfg, text, "t", err, CONFIG_ERR_MAX);
}

static void test_defaults_valid(void **state)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
	assert_int_equal(load(&cfg, "", err), 0);
	assert_string_equal(cfg.source.spec, "hci:hci0");
	assert_int_equal(cfg.source.interval_ms, 100);
	assert_string_equal(cfg.storage.db, "/var/lib/beacongw/beacongw.db");
}

static void test_defaults_agree_with_parts(void **state)
{
	struct config cfg;
	struct pipeline_config pc;
	struct delivery_config dc;

	(void)state;
	config_defaults(&cfg);
	pipeline_config_defaults(&pc);
	/* The table's documented defaults are the pipeline's own. */
	assert_memory_equal(&cfg.pipeline, &pc, sizeof(pc));
	delivery_config_defaults(&dc);
	memcpy(dc.site, cfg.delivery.site, sizeof(dc.site));
	memcpy(dc.gateway, cfg.delivery.gateway, sizeof(dc.gateway));
	assert_memory_equal(&cfg.delivery, &dc, sizeof(dc));
	assert_string_equal(cfg.delivery.site, cfg.pipeline.site);
	assert_string_equal(cfg.delivery.gateway, cfg.pipeline.gateway);
}

/* A value for a key whose default is empty (strings, paths). */
static const char *sample(const struct config_key *k)
{
	if (k->def && *k->def)
		return k->def;
	if (strcmp(k->name, "port") == 0)
		return "1883";
	if (strcmp(k->name, "store_namespaces") == 0)
		return "00112233445566778899";
	return "x";
}

static void test_every_key(void **state)
{
	size_t n;
	const struct config_key *keys = config_keys(&n);

	(void)state;
	assert_true(n > 40);
	for (size_t i = 0; i < n; i++) {
		struct config cfg, def;
		char text[512], err[CONFIG_ERR_MAX];
		const struct config_key *k = &keys[i];

		assert_non_null(k->doc);
		assert_true(strlen(k->doc) > 10);
		snprintf(text, sizeof(text), "[%s]\n%s = %s\n", k->section, k->name, sample(k));
		if (load(&cfg, text, err) < 0) {
			/* Only a cross-key rule may object (no line number): the key parsed. */
			if (strncmp(err, "t:", 2) == 0 && isdigit((unsigned char)err[2]))
				fail_msg("%s.%s: %s", k->section, k->name, err);
		}
		if (k->def && *k->def) {
			/* Setting the default changes nothing. */
			config_defaults(&def);
			assert_int_equal(load(&cfg, text, err), 0);
			/* ... but where it came from: line 2 of the text. */
			assert_int_equal(config_key_line(&cfg, k->section, k->name), 2);
			memset(cfg.path, 0, sizeof(cfg.path));
			memset(cfg.key_line, 0, sizeof(cfg.key_line));
			assert_memory_equal(&cfg, &def, sizeof(cfg));
		}
	}
}

static void test_values(void **state)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];

	(void)state;
	assert_int_equal(load(&cfg,
			      "; comment\n[gateway]\nsite = store-7\nid = gw.2\nzone = till_1\n"
			      "[source]\nspec = h4:unix:/run/sim.sock\nscan = active\n"
			      "interval_ms = 200\nwindow_ms = 50\nextended = off\nreset = on\n"
			      "watchdog_silence_s = 0\n"
			      "[presence]\nrssi_alpha_up = 0.7\nenter_rssi_dbm = -70\n"
			      "dwell_marks_s = 30, 120,600\n"
			      "[footfall]\nperiod_s = 600\n"
			      "[beacons]\nstore_namespaces = "
			      "00112233445566778899,AABBCCDDEEFF00112233\n"
			      "[mqtt]\nhost = localhost\nport = 1884\ntopic_prefix = shop/v1\n"
			      "[outbox]\nmax = 50\n",
			      err),
			 0);
	assert_string_equal(cfg.pipeline.site, "store-7");
	assert_string_equal(cfg.delivery.site, "store-7");
	assert_string_equal(cfg.delivery.gateway, "gw.2");
	assert_string_equal(cfg.pipeline.zone, "till_1");
	assert_int_equal(cfg.source.scan, CONFIG_SCAN_ACTIVE);
	assert_int_equal(cfg.source.interval_ms, 200);
	assert_int_equal(cfg.source.window_ms, 50);
	assert_int_equal(cfg.source.extended, CONFIG_OFF);
	assert_int_equal(cfg.source.reset, CONFIG_ON);
	assert_int_equal(cfg.source.watchdog_silence_s, 0);
	assert_true(cfg.pipeline.rssi_alpha_up > 0.69f && cfg.pipeline.rssi_alpha_up < 0.71f);
	assert_int_equal(cfg.pipeline.enter_rssi, -70);
	assert_int_equal(cfg.pipeline.n_dwell_marks, 3);
	assert_int_equal(cfg.pipeline.dwell_marks_s[1], 120);
	assert_int_equal(cfg.pipeline.footfall_period_s, 600);
	assert_int_equal(cfg.pipeline.n_store_namespaces, 2);
	assert_int_equal(cfg.pipeline.store_namespaces[1][0], 0xAA);
	assert_int_equal(cfg.pipeline.store_namespaces[1][9], 0x33);
	assert_int_equal(cfg.delivery.port, 1884);
	assert_string_equal(cfg.delivery.topic_prefix, "shop/v1");
	assert_int_equal(cfg.delivery.outbox_max, 50);
}

struct bad {
	const char *text;
	const char *where;   /* "t:LINE:" */
	const char *word;    /* in the message */
};

/* How people annotate INI files, install.md included: "value   # why". */
static void test_inline_comments(void **state)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];

	(void)state;
	assert_int_equal(load(&cfg,
			      "[gateway]\nsite = store-042          # the store\n"
			      "id = door-1 ; this gateway\nzone = entrance\t# tab before\n"
			      "[mqtt]\nhost = 127.0.0.1  # loopback\nport = 8883   # TLS\n"
			      "client_id = shop#1\n",
			      err),
			 0);
	assert_string_equal(cfg.pipeline.site, "store-042");
	assert_string_equal(cfg.pipeline.gateway, "door-1");
	assert_string_equal(cfg.pipeline.zone, "entrance");
	assert_int_equal(cfg.delivery.port, 8883);
	/* Without whitespace before it, '#' is part of the value. */
	assert_string_equal(cfg.delivery.client_id, "shop#1");
	assert_int_equal(config_key_line(&cfg, "mqtt", "port"), 7);
	assert_int_equal(config_key_line(&cfg, "mqtt", "keepalive"), 0);
	/* A bad value is still named with its line, comment gone. */
	assert_int_equal(load(&cfg, "[gateway]\n\nsite = a/b   # no\n", err), -1);
	assert_non_null(strstr(err, "t:3:"));
	assert_null(strstr(err, "# no"));
}

static void test_errors_with_line(void **state)
{
	static const struct bad bad[] = {
		{ "[gateway]\nsite = a\nnope = 1\n", "t:3:", "unknown key 'nope'" },
		{ "[gateway]\n\n[nosuch]\nx = 1\n", "t:4:", "unknown section [nosuch]" },
		{ "x = 1\n", "t:1:", "outside any section" },
		{ "[gateway]\nsite = a b\n", "t:2:", "site" },
		{ "[gateway]\nsite = \n", "t:2:", "site" },
		{ "[gateway]\nid = a/b\n", "t:2:", "id" },
		{ "[gateway]\nsite = a\nsite = b\n", "t:3:", "twice" },
		{ "[source]\ninterval_ms = 2\n", "t:2:", "outside 3..10240" },
		{ "[source]\ninterval_ms = -5\n", "t:2:", "interval_ms" },
		{ "[source]\ninterval_ms = 1e3\n", "t:2:", "not a whole number" },
		{ "[source]\ninterval_ms = 99999999999999999999\n", "t:2:", "interval_ms" },
		{ "[source]\nscan = loud\n", "t:2:", "scan" },
		{ "[source]\nextended = maybe\n", "t:2:", "extended" },
		{ "[presence]\nrssi_alpha_up = 2\n", "t:2:", "rssi_alpha_up" },
		{ "[presence]\nrssi_alpha_up = nan\n", "t:2:", "rssi_alpha_up" },
		{ "[presence]\nenter_rssi_dbm = -200\n", "t:2:", "enter_rssi_dbm" },
		{ "[presence]\ndwell_marks_s = 60,60\n", "t:2:", "increase" },
		{ "[presence]\ndwell_marks_s = 1,2,3,4,5,6,7,8,9\n", "t:2:", "more than 8" },
		{ "[presence]\ndwell_marks_s = 1,,x\n", "t:2:", "dwell_marks_s" },
		{ "[beacons]\nstore_namespaces = 0011\n", "t:2:", "20 hex digits" },
		{ "[beacons]\nstore_namespaces = 0011223344556677889g\n", "t:2:", "hex" },
		{ "[mqtt]\nport = 0\n", "t:2:", "port" },
		{ "[mqtt]\npassword = secret\n", "t:2:", "password" },
		{ "[outbox]\nmax = 0\n", "t:2:", "max" },
		{ "[storage]\ndb = \n", "t:", "db" },
		{ "garbage line\n", "t:1:", "syntax" },
		{ "[gateway\nsite = a\n", "t:1:", "syntax" },
	};
	struct config cfg;
	char err[CONFIG_ERR_MAX];

	(void)state;
	for (size_t i = 0; i < BGW_ARRAY_SIZE(bad); i++) {
		assert_int_equal(load(&cfg, bad[i].text, err), -1);
		if (strncmp(err, bad[i].where, strlen(bad[i].where)) != 0 ||
		    !strstr(err, bad[i].word))
			fail_msg("%zu: [%s] -> '%s' (wanted %s ... %s)", i, bad[i].text, err,
				 bad[i].where, bad[i].word);
		assert_null(strchr(err, '\n'));
	}
}

static void test_cross_key_rules(void **state)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];

	(void)state;
	assert_int_equal(load(&cfg, "[source]\ninterval_ms = 50\nwindow_ms = 60\n", err), -1);
	assert_non_null(strstr(err, "window_ms"));
	assert_int_equal(load(&cfg, "[presence]\nenter_rssi_dbm = -90\nexit_rssi_dbm = -80\n",
			      err), -1);
	assert_int_equal(load(&cfg, "[mqtt]\ncertfile = /c.pem\n", err), -1);
	assert_int_equal(load(&cfg, "[mqtt]\nhost = broker.example\n", err), -1);
	assert_non_null(strstr(err, "TLS"));
}

static void test_missing_file(void **state)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];

	(void)state;
	assert_int_equal(config_load(&cfg, "/nonexistent/beacongw.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/beacongw.conf: cannot open"));
}

/* The example file documents every key of the table in its section. */
static void test_example_documents_every_key(void **state)
{
	const char *src = getenv("BGW_SOURCE_DIR");
	char path[1024], line[512], section[64] = "";
	size_t n;
	const struct config_key *keys = config_keys(&n);
	bool *found = calloc(n, sizeof(bool));
	struct config cfg;
	char err[CONFIG_ERR_MAX];
	FILE *f;

	(void)state;
	if (!src) {
		free(found);
		skip();
	}
	snprintf(path, sizeof(path), "%s/config/beacongw.conf", src);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	/* The shipped file leaves the port to TLS: adding cafile, as install.md
	 * says, gives 8883 with nothing else to change. */
	assert_int_equal(cfg.delivery.port, 0);
	snprintf(cfg.delivery.cafile, sizeof(cfg.delivery.cafile), "/etc/beacongw/ca.pem");
	assert_int_equal(delivery_config_port(&cfg.delivery), 8883);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		const char *p = line;

		if (sscanf(line, "[%63[^]]]", section) == 1)
			continue;
		if (*p == '#')
			p++;
		if (sscanf(p, "%63[a-z0-9_] =", name) != 1 || !strstr(p, "="))
			continue;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(keys[i].section, section) && !strcmp(keys[i].name, name))
				found[i] = true;
	}
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (!found[i])
			fail_msg("[%s] %s is not in config/beacongw.conf", keys[i].section,
				 keys[i].name);
	free(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_valid),
		cmocka_unit_test(test_defaults_agree_with_parts),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_inline_comments),
		cmocka_unit_test(test_errors_with_line),
		cmocka_unit_test(test_cross_key_rules),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_example_documents_every_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
