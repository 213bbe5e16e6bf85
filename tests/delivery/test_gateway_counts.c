/*
 * test_gateway_counts.c - the table of counters shared by the status
 * document and the metrics: every row has a status key, a beacongw_ metric
 * name (_total for counters, never for gauges), a one-line HELP text, a
 * field of its own, and a group; no key, name or field twice; a group's
 * rows next to each other; each row reads its own field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gateway_counts.h"

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

static bool only_chars(const char *s, const char *allowed)
{
	return s[0] && strspn(s, allowed) == strlen(s);
}

static void test_rows(void **state)
{
	(void)state;
	assert_true(gateway_counts_n > 0);
	for (size_t i = 0; i < gateway_counts_n; i++) {
		const struct gateway_count *g = &gateway_counts[i];

		assert_non_null(g->status_key);
		assert_true(only_chars(g->status_key, "abcdefghijklmnopqrstuvwxyz0123456789_"));
		assert_non_null(g->metric);
		assert_true(strncmp(g->metric, "beacongw_", 9) == 0 && g->metric[9]);
		assert_true(only_chars(g->metric, "abcdefghijklmnopqrstuvwxyz0123456789_"));
		if (g->type == GATEWAY_COUNT_COUNTER)
			assert_true(ends_with(g->metric, "_total"));
		else
			assert_int_equal(g->type, GATEWAY_COUNT_GAUGE);
		if (g->type == GATEWAY_COUNT_GAUGE)
			assert_false(ends_with(g->metric, "_total"));
		/* HELP is one line of the exposition format: no newline, no
		 * backslash to escape. */
		assert_non_null(g->help);
		assert_true(strlen(g->help) > 1);
		assert_null(strpbrk(g->help, "\n\\"));
		assert_true(ends_with(g->help, "."));
		assert_true(g->offset + sizeof(uint64_t) <= sizeof(struct gateway_counters));
		assert_int_equal(g->offset % _Alignof(uint64_t), 0);
		assert_true((int)g->group >= 0 && g->group < GATEWAY_COUNTS_GROUPS);
	}
}

static void test_no_duplicates(void **state)
{
	(void)state;
	for (size_t i = 0; i < gateway_counts_n; i++) {
		for (size_t j = i + 1; j < gateway_counts_n; j++) {
			const struct gateway_count *a = &gateway_counts[i], *b = &gateway_counts[j];

			assert_string_not_equal(a->status_key, b->status_key);
			assert_string_not_equal(a->metric, b->metric);
			assert_int_not_equal(a->offset, b->offset);
		}
	}
}

/* A group's rows sit together, so the table reads in the order both
 * outputs publish; every group has a row (an empty one places nothing). */
static void test_groups(void **state)
{
	bool seen[GATEWAY_COUNTS_GROUPS] = { false };

	(void)state;
	for (size_t i = 0; i < gateway_counts_n; i++) {
		enum gateway_count_group g = gateway_counts[i].group;

		if (i > 0 && gateway_counts[i - 1].group == g)
			continue;
		assert_false(seen[g]);
		seen[g] = true;
	}
	for (int g = 0; g < GATEWAY_COUNTS_GROUPS; g++)
		assert_true(seen[g]);
}

static const struct gateway_count *row(const char *key)
{
	for (size_t i = 0; i < gateway_counts_n; i++)
		if (strcmp(gateway_counts[i].status_key, key) == 0)
			return &gateway_counts[i];
	fail_msg("no row %s", key);
	return NULL;
}

/* Each row reads its own field: every field a value of its own. */
static void test_values(void **state)
{
	struct gateway_counters c;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < gateway_counts_n; i++) {
		uint64_t v = 1000 + i;

		memcpy((char *)&c + gateway_counts[i].offset, &v, sizeof(v));
	}
	for (size_t i = 0; i < gateway_counts_n; i++)
		assert_int_equal(gateway_count_value(&gateway_counts[i], &c), 1000 + i);

	memset(&c, 0, sizeof(c));
	c.reports = 11;
	c.reconnects = 12;
	c.consent_applied = 13;
	c.irk_cache_capacity = 14;
	assert_int_equal(gateway_count_value(row("reports"), &c), 11);
	assert_int_equal(gateway_count_value(row("reconnects"), &c), 12);
	assert_string_equal(row("reconnects")->metric, "beacongw_mqtt_reconnects_total");
	assert_int_equal(gateway_count_value(row("consent_updates_applied"), &c), 13);
	assert_int_equal(gateway_count_value(row("irk_cache_capacity"), &c), 14);
	assert_string_equal(row("irk_cache_capacity")->metric, "beacongw_irk_cache_entries");
	assert_int_equal(row("irk_cache_capacity")->type, GATEWAY_COUNT_GAUGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_no_duplicates),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
