/*
 * fuzz_btsnoop.c - the btsnoop reader on any file, read from memory and
 * through a FILE*: both must see the same records (every field), the same
 * counts and the same end. Event records go through the HCI event parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btsnoop.h"
#include "h4.h"
#include "hci_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_adv(void *ctx, const struct adv_report *r)
{
	(void)ctx;
	if (r->data_len > BF_EXT_ADV_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct btsnoop_reader m, f;
	static struct hci_event_parser p;
	struct hci_event_callbacks cb = { .adv = on_adv };
	struct btsnoop_record rm, rf;
	FILE *fp;
	int a, b;

	if (size == 0)
		return 0;
	fp = fmemopen((void *)data, size, "rb");
	if (!fp)
		return 0;
	hci_event_parser_init(&p, &cb);
	a = btsnoop_reader_open_mem(&m, data, size);
	b = btsnoop_reader_open_file(&f, fp);
	if (a != b)
		abort();
	while (a == 0) {
		a = btsnoop_reader_next(&m, &rm);
		b = btsnoop_reader_next(&f, &rf);
		if (a != b)
			abort();
		if (a != 1)
			break;
		if (rm.len != rf.len || rm.h4_type != rf.h4_type || rm.ts_us != rf.ts_us ||
		    rm.received != rf.received || rm.index != rf.index ||
		    rm.orig_len != rf.orig_len || rm.truncated != rf.truncated ||
		    rm.drops != rf.drops || memcmp(rm.data, rf.data, rm.len) != 0)
			abort();
		if (rm.h4_type == H4_EVENT)
			hci_event_parse(&p, rm.data, rm.len, rm.ts_us);
		a = 0;
	}
	if (a < 0 && strcmp(btsnoop_reader_message(&m), btsnoop_reader_message(&f)) != 0)
		abort();
	if (m.records != f.records || m.skipped != f.skipped)
		abort();
	fclose(fp);
	return 0;
}
