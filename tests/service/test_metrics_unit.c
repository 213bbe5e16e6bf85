/*
 * test_metrics_unit.c - the metrics text (names, HELP/TYPE, label escaping,
 * a buffer too small) and the atomic file replacement (no partial file, no
 * temporary left behind, a clear error for a missing directory).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"

static void sample(struct metrics_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->version = "1.2.3";
	s->site = "store1";
	s->gateway = "gw1";
	s->zone = "entrance";
	s->running = true;
	s->counts.reports = 42;
	s->counts.triggers_dropped = 3;
	s->counts.outbox_depth = 7;
	s->watchdog_resets = 2;
}

static void test_text(void **state)
{
	struct metrics_sample s;
	char buf[8192];
	size_t n;

	(void)state;
	sample(&s);
	n = metrics_format(&s, buf, sizeof(buf));
	assert_true(n < sizeof(buf));
	assert_int_equal(strlen(buf), n);
	assert_non_null(strstr(buf, "# HELP beacongw_reports_total "));
	assert_non_null(strstr(buf, "# TYPE beacongw_reports_total counter\n"
				    "beacongw_reports_total 42\n"));
	assert_non_null(strstr(buf, "# TYPE beacongw_outbox_depth gauge\n"
				    "beacongw_outbox_depth 7\n"));
	assert_non_null(strstr(buf, "beacongw_triggers_dropped_total 3\n"));
	assert_non_null(strstr(buf, "beacongw_watchdog_steps_total{action=\"reset\"} 2\n"));
	assert_non_null(strstr(buf, "beacongw_build_info{version=\"1.2.3\"} 1\n"));
	assert_non_null(strstr(buf, "beacongw_up 1\n"));
	assert_int_equal(buf[n - 1], '\n');
}

/* The site families only with [site] enabled, under their documented names. */
static void test_site(void **state)
{
	struct metrics_sample s;
	char buf[16384];
	size_t n;

	(void)state;
	sample(&s);
	n = metrics_format(&s, buf, sizeof(buf));
	assert_true(n < sizeof(buf));
	assert_null(strstr(buf, "beacongw_site_"));
	s.counts.site = true;
	s.counts.site_counts.peers_alive = 2;
	s.counts.site_counts.split = true;
	s.counts.site_counts.summaries_sent = 11;
	s.counts.site_counts.summaries_rejected = 1;
	s.counts.site_counts.handovers = 4;
	s.counts.site_counts.takeovers = 5;
	s.counts.site_counts.peer_triggers_applied = 6;
	n = metrics_format(&s, buf, sizeof(buf));
	assert_true(n < sizeof(buf));
	assert_non_null(strstr(buf, "# TYPE beacongw_site_peers_alive gauge\n"
				    "beacongw_site_peers_alive 2\n"));
	assert_non_null(strstr(buf, "beacongw_site_split 1\n"));
	assert_non_null(strstr(buf, "# TYPE beacongw_site_summaries_sent_total counter\n"
				    "beacongw_site_summaries_sent_total 11\n"));
	assert_non_null(strstr(buf, "beacongw_site_summaries_received_total 0\n"));
	assert_non_null(strstr(buf, "beacongw_site_summaries_rejected_total 1\n"));
	assert_non_null(strstr(buf, "beacongw_site_handovers_total 4\n"));
	assert_non_null(strstr(buf, "beacongw_site_takeovers_total 5\n"));
	assert_non_null(strstr(buf, "beacongw_site_peer_triggers_applied_total 6\n"));
}

static void test_label_escaping(void **state)
{
	struct metrics_sample s;
	char buf[8192];

	(void)state;
	sample(&s);
	s.version = "a\"b\\c\nd";
	metrics_format(&s, buf, sizeof(buf));
	assert_non_null(strstr(buf, "beacongw_build_info{version=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

static void test_small_buffer(void **state)
{
	struct metrics_sample s;
	char full[8192], small[100];
	size_t need;

	(void)state;
	sample(&s);
	need = metrics_format(&s, full, sizeof(full));
	/* Like snprintf: the needed length, a terminated prefix. */
	assert_int_equal(metrics_format(&s, small, sizeof(small)), need);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, full, sizeof(small) - 1);
	assert_int_equal(metrics_format(&s, NULL, 0), need);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_write_file(void **state)
{
	char dir[] = "/tmp/bgw-metrics-XXXXXX", path[128], bad[160], err[512], got[64];
	struct stat st;
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/beacongw.prom", dir);
	umask(077);
	assert_int_equal(metrics_write_file(path, "first\n", 6, err, sizeof(err)), 0);
	assert_int_equal(metrics_write_file(path, "second\n", 7, err, sizeof(err)), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(got, 1, sizeof(got), f);
	fclose(f);
	assert_int_equal(n, 7);
	assert_memory_equal(got, "second\n", 7);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(count_entries(dir), 1);

	/* A missing directory: an error naming the file, nothing written. */
	snprintf(bad, sizeof(bad), "%s/nodir/beacongw.prom", dir);
	assert_int_equal(metrics_write_file(bad, "x\n", 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, bad));
	assert_int_equal(count_entries(dir), 1);

	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_site),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_write_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
