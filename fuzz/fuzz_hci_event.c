/*
 * fuzz_hci_event.c - the HCI event parser on any events: the input is a
 * sequence of [length][event bytes] records, so one run exercises the
 * reassembly state across events (fragments, staleness, eviction). Every
 * report is formatted as its JSON line.
 *
 * Each event is parsed from a copy whose bytes alone are addressable: a
 * read one byte before or past it, or through a pointer kept after the
 * parse returned, is reported by AddressSanitizer as it would be for an
 * exact-size heap copy, without a malloc and free per event.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>

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

/* Room for the longest event (its length is one byte), starting on an
 * ASan granule so that the shadow marks its end to the byte, with a
 * poisoned margin in front. */
#define EVT_LEAD 16
static uint8_t arena[EVT_LEAD + 256 + 16] __attribute__((aligned(16)));

static void parse_copy(struct hci_event_parser *p, const uint8_t *evt, size_t len, uint64_t ts)
{
	uint8_t *copy = arena + EVT_LEAD;

	ASAN_UNPOISON_MEMORY_REGION(copy, len);
	memcpy(copy, evt, len);
	hci_event_parse(p, copy, len, ts);
	ASAN_POISON_MEMORY_REGION(copy, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hci_event_parser p;
	struct hci_event_callbacks cb = { .adv = on_adv, .ctrl = on_ctrl };
	uint64_t ts = 0;
	size_t off = 0;

	ASAN_POISON_MEMORY_REGION(arena, sizeof(arena));
	hci_event_parser_init(&p, &cb);
	while (off < size) {
		size_t len = data[off++];

		if (len > size - off)
			len = size - off;
		/* Time jumps by the first byte, so staleness is reachable. */
		ts += len ? (uint64_t)data[off] * 20000 : 1;
		parse_copy(&p, data + off, len, ts);
		off += len;
	}
	hci_event_parser_discard_partials(&p);
	return 0;
}
