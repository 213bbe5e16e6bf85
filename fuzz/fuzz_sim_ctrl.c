/*
 * fuzz_sim_ctrl.c - whatever a (broken or hostile) host sends the virtual
 * controller: every command gets exactly one well-formed answer and the
 * controller never crashes.
 */
#include <stddef.h>
#include <stdint.h>

#include "h4.h"
#include "hci_cmd.h"
#include "sim_ctrl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned answers;

static void sink(void *ctx, const uint8_t *h4, size_t len)
{
	struct hci_ctrl_event ev;

	(void)ctx;
	if (len < 3 || h4[0] != H4_EVENT || !hci_ctrl_event_parse(h4 + 1, len - 1, &ev))
		__builtin_trap();
	answers++;
}

static void on_packet(void *ctx, uint8_t type, const uint8_t *pkt, size_t len)
{
	struct sim_ctrl *c = ctx;

	if (type != H4_CMD)
		return;
	unsigned before = answers;

	sim_ctrl_command(c, pkt, len);
	if (answers != before + 1)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t bdaddr[6] = { 1, 2, 3, 4, 5, 6 };
	static struct h4_decoder dec;
	struct sim_ctrl ctrl;

	sim_ctrl_init(&ctrl, size > 0 && (data[0] & 1), bdaddr, sink, NULL);
	h4_decoder_init(&dec, on_packet, &ctrl);
	h4_decoder_feed(&dec, data, size);
	return 0;
}
