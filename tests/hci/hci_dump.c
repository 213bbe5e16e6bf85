/*
 * hci_dump.c - test helper: replay a btsnoop capture through the HCI event
 * parser and print each advertising report as its --dump JSON line, then
 * the parser's counters on stderr. Exit 65 when the file is damaged.
 *
 *   hci-dump FILE.btsnoop
 */
#include <inttypes.h>
#include <stdio.h>

#include "btsnoop.h"
#include "h4.h"
#include "hci_event.h"
#include "report_json.h"

static void on_adv(void *ctx, const struct adv_report *r)
{
	char line[REPORT_JSON_MAX];

	(void)ctx;
	report_json_format(r, line, sizeof(line));
	puts(line);
}

static void on_ctrl(void *ctx, const struct hci_ctrl_event *ev)
{
	(void)ctx;
	if (ev->kind == HCI_CTRL_HW_ERROR)
		fprintf(stderr, "hardware error 0x%02x\n", ev->hw_code);
}

int main(int argc, char **argv)
{
	static struct btsnoop_reader rd;
	static struct hci_event_parser p;
	struct hci_event_callbacks cb = { .adv = on_adv, .ctrl = on_ctrl };
	struct btsnoop_record rec;
	FILE *f;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: hci-dump FILE.btsnoop\n");
		return 64;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 66;
	}
	hci_event_parser_init(&p, &cb);
	rc = btsnoop_reader_open_file(&rd, f);
	while (rc == 0 && (rc = btsnoop_reader_next(&rd, &rec)) == 1) {
		if (rec.h4_type == H4_EVENT)
			hci_event_parse(&p, rec.data, rec.len, rec.ts_us);
		rc = 0;
	}
	fclose(f);
	hci_event_parser_discard_partials(&p);
	fprintf(stderr,
		"events %" PRIu64 " reports %" PRIu64 " malformed %" PRIu64 " fragments %" PRIu64
		" truncated %" PRIu64 " stale %" PRIu64 " evicted %" PRIu64 "\n",
		p.stats.events, p.stats.reports, p.stats.malformed, p.stats.fragments,
		p.stats.truncated, p.stats.partial_stale, p.stats.partial_evicted);
	if (rc < 0) {
		fprintf(stderr, "hci-dump: %s: %s\n", argv[1], btsnoop_reader_message(&rd));
		return 65;
	}
	return 0;
}
