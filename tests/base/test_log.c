/*
 * test_log.c - log lines: plain and journald forms, debug only with -v,
 * rate limiting with a summary of suppressed repeats, text exactly as
 * printf would format it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "log.h"

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static char *capture(FILE *f)
{
	static char buf[8192];
	size_t n;

	fflush(f);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	rewind(f);
	assert_int_equal(ftruncate(fileno(f), 0), 0);
	return buf;
}

static FILE *fresh(bool journal, bool verbose)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	log_init(verbose);
	log_set_stream(f);
	log_set_journal(journal);
	log_set_clock(fake_clock);
	fake_now = 1000;
	return f;
}

static void test_forms(void **state)
{
	FILE *f = fresh(false, false);

	(void)state;
	log_warn("disk %d%% full", 93);
	log_debug("hidden");
	assert_string_equal(capture(f), "beacongw: warning: disk 93% full\n");
	fclose(f);

	f = fresh(true, true);
	log_err("a\nb");
	log_debug("shown");
	log_info("x");
	/* One line per event, even with a newline in the text. */
	assert_string_equal(capture(f), "<3>a b\n<7>shown\n<6>x\n");
	fclose(f);
}

static void test_program_name(void **state)
{
	FILE *f = fresh(false, true);

	(void)state;
	log_set_program("beaconsim");
	log_notice("listening on %s", "unix:/run/x");
	log_debug("fault skipped");
	/* Set before or after log_init: the name stays. */
	log_init(false);
	log_set_stream(f);
	log_set_journal(false);
	log_err("write error");
	assert_string_equal(capture(f), "beaconsim: notice: listening on unix:/run/x\n"
					"beaconsim: debug: fault skipped\n"
					"beaconsim: error: write error\n");
	/* The journald form carries no name (journald adds it). */
	log_set_journal(true);
	log_warn("w");
	assert_string_equal(capture(f), "<4>w\n");
	log_set_program(NULL);
	log_set_journal(false);
	log_warn("back");
	assert_string_equal(capture(f), "beacongw: warning: back\n");
	fclose(f);
}

static void test_rate_limit(void **state)
{
	FILE *f = fresh(true, false);

	(void)state;
	for (int i = 0; i < 5; i++)
		log_limited(LOG_PRIO_WARNING, "link down", "link down (%d)", i);
	log_limited(LOG_PRIO_ERR, "other", "other");
	assert_string_equal(capture(f), "<4>link down (0)\n<3>other\n");
	/* Window over: the next one brings the summary first. */
	fake_now += LOG_RATELIMIT_WINDOW_MS;
	log_limited(LOG_PRIO_WARNING, "link down", "link down (%d)", 9);
	assert_string_equal(capture(f), "<4>link down: 4 repeats suppressed\n<4>link down (9)\n");
	fclose(f);
}

static void test_flush_suppressed(void **state)
{
	FILE *f = fresh(false, false);

	(void)state;
	log_limited(LOG_PRIO_NOTICE, "k", "first");
	log_limited(LOG_PRIO_NOTICE, "k", "second");
	log_flush_suppressed();
	assert_string_equal(capture(f), "beacongw: notice: first\n");
	fake_now += LOG_RATELIMIT_WINDOW_MS + 1;
	log_flush_suppressed();
	assert_string_equal(capture(f), "beacongw: notice: k: 1 repeats suppressed\n");
	/* After the summary, the key logs afresh. */
	log_limited(LOG_PRIO_NOTICE, "k", "third");
	assert_string_equal(capture(f), "beacongw: notice: third\n");
	fclose(f);
}

static void test_many_keys(void **state)
{
	FILE *f = fresh(false, false);
	static char keys[100][8];

	(void)state;
	/* More keys than slots: nothing breaks, every first occurrence is logged. */
	for (int i = 0; i < 100; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		log_limited(LOG_PRIO_INFO, keys[i], "%s", keys[i]);
	}
	assert_non_null(strstr(capture(f), "k99"));
	fclose(f);
}

/* The journald line log_info() writes for a text printf formats (cut to
 * 511 bytes like every line). */
static void __attribute__((format(printf, 2, 3))) as_printf(char *out, const char *fmt, ...)
{
	va_list ap;

	strcpy(out, "<6>");
	va_start(ap, fmt);
	vsnprintf(out + 3, 512, fmt, ap);
	va_end(ap);
	strcat(out, "\n");
}

#define ASSERT_AS_PRINTF(f, ...)                                   \
	do {                                                       \
		char want_[600];                                   \
		as_printf(want_, __VA_ARGS__);                     \
		log_info(__VA_ARGS__);                             \
		assert_string_equal(capture(f), want_);            \
	} while (0)

static void test_formats_as_printf(void **state)
{
	FILE *f = fresh(true, false);
	const char *volatile none = NULL;
	char long_name[700];

	(void)state;
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	/* The conversions formatted without printf ... */
	ASSERT_AS_PRINTF(f, "visit %s: customer %s, zone %s, dwell %u s", "enter", "C-17",
			 "entrance", 4294967295u);
	ASSERT_AS_PRINTF(f, "%d %d %d %ld %lld %zd", 0, -1, -2147483647 - 1, -5L,
			 -9223372036854775807LL - 1, (ssize_t)-3);
	ASSERT_AS_PRINTF(f, "%lu %llu %zu %" PRIu64 " %" PRId64, 18446744073709551615UL,
			 18446744073709551615ULL, (size_t)42, UINT64_MAX, INT64_MIN);
	ASSERT_AS_PRINTF(f, "100%% %c%c end%s", 'o', 'k', "");
	ASSERT_AS_PRINTF(f, "%s", none);
	/* ... cut where printf cuts a line ... */
	ASSERT_AS_PRINTF(f, "%s tail %u", long_name, 7u);
	long_name[508] = '\0';
	ASSERT_AS_PRINTF(f, "%s%d%d", long_name, 12, 345);
	/* ... and the rest left to printf. */
	ASSERT_AS_PRINTF(f, "%x %5d %-3s| %.2s %hhu %p", 255u, 42, "a", "abc", (unsigned char)200,
			 (void *)0);
	ASSERT_AS_PRINTF(f, "%.1f %lx %s", 2.25, 0xabcUL, "mixed");
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_program_name),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_flush_suppressed),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_formats_as_printf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
