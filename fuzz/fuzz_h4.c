/*
 * fuzz_h4.c - the H4 stream decoder on any bytes, fed twice (at once and
 * in chunks whose sizes the input picks): both must give the same packets.
 * Every event also goes through the HCI event parser and the JSON line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h4.h"
#include "hci_event.h"
#include "report_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct digest {
	uint64_t h;
	size_t n;
	struct hci_event_parser *p;
};

static void on_adv(void *ctx, const struct adv_report *r)
{
	static char line[REPORT_JSON_MAX];
	size_t n = report_json_format(r, line, sizeof(line));

	(void)ctx;
	if (n >= sizeof(line) || r->data_len > BF_EXT_ADV_MAX)
		abort();
}

static void on_packet(void *ctx, uint8_t type, const uint8_t *pkt, size_t len)
{
	struct digest *d = ctx;

	if (len > H4_MAX_PACKET)
		abort();
	d->h = d->h * 31 + type;
	for (size_t i = 0; i < len; i++)
		d->h = d->h * 131 + pkt[i];
	d->n++;
	if (d->p && type == H4_EVENT)
		hci_event_parse(d->p, pkt, len, d->n * 1000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct h4_decoder a, b;
	static struct hci_event_parser p;
	struct hci_event_callbacks cb = { .adv = on_adv };
	struct digest da = { 0, 0, &p }, db = { 0, 0, NULL };
	size_t off = 0, step;

	if (size < 1)
		return 0;
	step = 1 + data[0] % 17;
	data++;
	size--;
	hci_event_parser_init(&p, &cb);
	h4_decoder_init(&a, on_packet, &da);
	h4_decoder_init(&b, on_packet, &db);
	h4_decoder_feed(&a, data, size);
	while (off < size) {
		size_t k = size - off < step ? size - off : step;

		h4_decoder_feed(&b, data + off, k);
		off += k;
	}
	if (da.h != db.h || da.n != db.n || a.garbage_bytes != b.garbage_bytes ||
	    h4_decoder_pending(&a) != h4_decoder_pending(&b))
		abort();
	return 0;
}
