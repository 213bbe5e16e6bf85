/*
 * test_scn_lex.c - the words and values of a scenario line: what each
 * reader accepts, what it refuses, and that a refusal leaves the output
 * alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scn_lex.h"

static void test_words(void **state)
{
	char line[] = "\t tag  alice\r# a comment\n";
	char hash[] = "path 1s:2 #note";
	char many[] = "a b c d";
	char *argv[3];

	(void)state;
	/* '\n' is not a blank: lines come without it. */
	line[strlen(line) - 1] = 0;
	assert_int_equal(scn_lex_words(line, argv, 3), 2);
	assert_string_equal(argv[0], "tag");
	assert_string_equal(argv[1], "alice");
	assert_int_equal(scn_lex_words(hash, argv, 3), 2);
	assert_string_equal(argv[1], "1s:2");
	assert_int_equal(scn_lex_words(many, argv, 3), -1);
}

static void test_fields(void **state)
{
	char three[] = "uuid:1:2";
	char four[] = "a:b:c:d";
	char one[] = "plain";
	char *f[3];

	(void)state;
	assert_int_equal(scn_lex_fields(three, f, 3), 3);
	assert_string_equal(f[0], "uuid");
	assert_string_equal(f[2], "2");
	assert_int_equal(scn_lex_fields(four, f, 3), 4);
	assert_int_equal(scn_lex_fields(one, f, 3), 1);
	assert_string_equal(f[0], "plain");
}

static void test_integers(void **state)
{
	long long v = 7;
	uint64_t u = 7;

	(void)state;
	assert_int_equal(scn_lex_int("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(scn_lex_int("-59", -100, 20, &v), 0);
	assert_int_equal(v, -59);
	assert_int_equal(scn_lex_int("0x4c", 0, 65535, &v), 0);
	assert_int_equal(v, 0x4c);
	assert_int_equal(scn_lex_int("-0x10", -100, 0, &v), 0);
	assert_int_equal(v, -16);
	/* A leading zero is decimal, not octal. */
	assert_int_equal(scn_lex_int("0118", 0, 65535, &v), 0);
	assert_int_equal(v, 118);
	assert_int_equal(scn_lex_int("0110", 0, 65535, &v), 0);
	assert_int_equal(v, 110);
	assert_int_equal(scn_lex_int("-090", -100, 0, &v), 0);
	assert_int_equal(v, -90);

	v = 7;
	assert_int_equal(scn_lex_int("101", 0, 100, &v), -1);
	assert_int_equal(scn_lex_int("", 0, 100, &v), -1);
	assert_int_equal(scn_lex_int("12a", 0, 100, &v), -1);
	assert_int_equal(scn_lex_int("0x", 0, 100, &v), -1);
	assert_int_equal(scn_lex_int("1e3", 0, 10000, &v), -1);
	assert_int_equal(scn_lex_int("99999999999999999999", 0, 100, &v), -1);
	assert_int_equal(v, 7);

	assert_int_equal(scn_lex_u64("18446744073709551615", &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(scn_lex_u64("010", &u), 0);
	assert_int_equal(u, 10);
	assert_int_equal(scn_lex_u64("0xff", &u), 0);
	assert_int_equal(u, 255);
	u = 7;
	assert_int_equal(scn_lex_u64("-1", &u), -1);
	assert_int_equal(scn_lex_u64("18446744073709551616", &u), -1);
	assert_int_equal(scn_lex_u64("one", &u), -1);
	assert_int_equal(u, 7);
}

static void test_doubles_and_ranges(void **state)
{
	double a = 0, b = 0;
	uint64_t lo = 0, hi = 0;

	(void)state;
	assert_int_equal(scn_lex_double("2.5", 1, 6, &a), 0);
	assert_true(a == 2.5);
	assert_int_equal(scn_lex_double("nan", 0, 10, &a), -1);
	assert_int_equal(scn_lex_double("inf", 0, 1e300, &a), -1);
	assert_int_equal(scn_lex_double("7", 1, 6, &a), -1);

	assert_int_equal(scn_lex_range("2..30", 0, 100, &a, &b), 0);
	assert_true(a == 2 && b == 30);
	assert_int_equal(scn_lex_range("4", 0, 100, &a, &b), 0);
	assert_true(a == 4 && b == 4);
	assert_int_equal(scn_lex_range("5..2", 0, 100, &a, &b), -1);
	assert_int_equal(scn_lex_range("2..", 0, 100, &a, &b), -1);
	assert_int_equal(scn_lex_range("2..300", 0, 100, &a, &b), -1);

	assert_int_equal(scn_lex_duration_range("1m..10m", &lo, &hi), 0);
	assert_int_equal(lo, 60000000ull);
	assert_int_equal(hi, 600000000ull);
	assert_int_equal(scn_lex_duration_range("90s", &lo, &hi), 0);
	assert_true(lo == hi && lo == 90000000ull);
	assert_int_equal(scn_lex_duration_range("10m..1m", &lo, &hi), -1);
}

static void test_durations(void **state)
{
	uint64_t us;

	(void)state;
	assert_int_equal(scn_lex_duration("90", &us), 0);
	assert_int_equal(us, 90000000ull);
	assert_int_equal(scn_lex_duration("1.5s", &us), 0);
	assert_int_equal(us, 1500000ull);
	assert_int_equal(scn_lex_duration("250ms", &us), 0);
	assert_int_equal(us, 250000ull);
	assert_int_equal(scn_lex_duration("1h30m", &us), 0);
	assert_int_equal(us, 5400000000ull);
	assert_int_equal(scn_lex_duration("2d", &us), 0);
	assert_int_equal(us, 172800000000ull);
	assert_int_equal(scn_lex_duration("366d", &us), 0);
	assert_int_equal(scn_lex_duration("367d", &us), -1);
	assert_int_equal(scn_lex_duration("", &us), -1);
	assert_int_equal(scn_lex_duration("-1s", &us), -1);
	assert_int_equal(scn_lex_duration("1s5", &us), -1);
	assert_int_equal(scn_lex_duration("5w", &us), -1);
	assert_int_equal(scn_lex_duration("1e300h", &us), -1);
	assert_int_equal(scn_lex_duration("nan", &us), -1);
}

static void test_addresses(void **state)
{
	uint8_t a[6] = { 0 };
	static const uint8_t want[6] = { 0x05, 0x04, 0x03, 0x02, 0x01, 0xC0 };

	(void)state;
	assert_int_equal(scn_lex_addr("C0:01:02:03:04:05", a), 0);
	assert_memory_equal(a, want, 6);
	assert_int_equal(scn_lex_addr("c0:01:02:03:04:05", a), 0);
	assert_memory_equal(a, want, 6);
	assert_int_equal(scn_lex_addr("C0:01:02:03:04", a), -1);
	assert_int_equal(scn_lex_addr("C0:01:02:03:04:05:", a), -1);
	assert_int_equal(scn_lex_addr("C0-01-02-03-04-05", a), -1);
	assert_int_equal(scn_lex_addr("C00:1:02:03:04:05", a), -1);
	assert_int_equal(scn_lex_addr("G0:01:02:03:04:05", a), -1);
	assert_int_equal(scn_lex_addr("C0010203040506:::", a), -1);
}

static void test_start_times(void **state)
{
	int64_t t = 0;

	(void)state;
	assert_int_equal(scn_lex_start_time("1767225600", &t), 0);
	assert_int_equal(t, 1767225600);
	assert_int_equal(scn_lex_start_time("2026-01-01T09:00:00Z", &t), 0);
	assert_int_equal(t, 1767258000);
	assert_int_equal(scn_lex_start_time("0", &t), 0);
	assert_int_equal(t, 0);
	t = 5;
	assert_int_equal(scn_lex_start_time("-1", &t), -1);
	assert_int_equal(scn_lex_start_time("4102444801", &t), -1);
	assert_int_equal(scn_lex_start_time("2100-01-01T00:00:01Z", &t), -1);
	assert_int_equal(scn_lex_start_time("2026-01-01T09:00:00", &t), -1);
	assert_int_equal(scn_lex_start_time("yesterday", &t), -1);
	assert_int_equal(t, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_doubles_and_ranges),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_start_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
