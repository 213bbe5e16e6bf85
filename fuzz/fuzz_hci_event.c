/*
 * fuzz_hci_event.c - the HCI event parser on any events: the input is a
 * sequence of [length][event bytes] records, so one run exercises the
 * reassembly state across events (fragments, staleness, eviction). Every
 * report is formatted as its JSON line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hci_event.h"
#include "report_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void on_adv(void *ctx, const struct adv_report *r)
{
	static char line[REPORT_JSON_MAX];
	(void)ctx;
	if (r->data_len > BF_EXT_ADV_MAX)
		abort();
	/* Touch every byte the report claims, so ASan sees any overread. */
	for (size_t i = 0; i < r->data_len; i++)
		sink ^= r->data[i];
	if (report_json_format(r, line, sizeof(line)) >= sizeof(line))
		abort();
}

static void on_ctrl(void *ctx, const struct hci_ctrl_event *ev)
{
	(void)ctx;
	for (size_t i = 0; i < ev->ret_len; i++)
		sink ^= ev->ret[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hci_event_parser p;
	struct hci_event_callbacks cb = { .adv = on_adv, .ctrl = on_ctrl };
	uint64_t ts = 0;
	size_t off = 0;

	hci_event_parser_init(&p, &cb);
	while (off < size) {
		size_t len = data[off++];
		uint8_t *copy;

		if (len > size - off)
			len = size - off;
		/* An exact-size heap copy: reading one byte past is caught. */
		copy = malloc(len ? len : 1);
		if (!copy)
			return 0;
		memcpy(copy, data + off, len);
		/* Time jumps by the first byte, so staleness is reachable. */
		ts += len ? (uint64_t)copy[0] * 20000 : 1;
		hci_event_parse(&p, copy, len, ts);
		free(copy);
		off += len;
	}
	hci_event_parser_discard_partials(&p);
	return 0;
}
