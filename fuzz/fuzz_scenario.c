/*
 * fuzz_scenario.c - scenario files from anywhere: the parser must give a
 * result or a line-numbered error, never crash; a scenario that parses must
 * play (a bounded number of events) and render as HCI events in both scan
 * modes without tripping a sanitizer.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aes_openssl.h"
#include "scenario.h"
#include "sim_ctrl.h"
#include "sim_world.h"

/* Keep each input fast: unheard advertisements cost a loop turn each, so
 * both the devices and the simulated time are bounded. */
#define MAX_EVENTS 3000
#define MAX_DEVICES 50
#define MAX_PLAY_US (120ull * 1000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t emitted;

static void sink(void *ctx, const uint8_t *h4, size_t len)
{
	(void)ctx;
	if (len == 0 || h4[0] != 0x04)
		__builtin_trap();
	emitted += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario s;
	struct scn_error err;
	static const uint8_t bdaddr[6];

	if (scenario_parse((const char *)data, size, &s, &err)) {
		if (!memchr(err.msg, 0, sizeof(err.msg)) || !err.msg[0])
			__builtin_trap();
		return 0;
	}
	size_t devices = s.n_tags;

	for (size_t i = 0; i < s.n_crowds; i++)
		devices += s.crowds[i].count;
	if (devices <= MAX_DEVICES) {
		uint64_t play = s.duration_us < MAX_PLAY_US ? s.duration_us : MAX_PLAY_US;
		struct sim_world *w = sim_world_new(&s, 1, 1767225600, play, aes128_openssl);
		struct sim_ctrl ctrl;
		static struct sim_event ev;
		uint64_t last = 0;

		sim_ctrl_init(&ctrl, s.legacy_only, bdaddr, sink, NULL);
		for (int n = 0; w && n < MAX_EVENTS; n++) {
			sim_world_next(w, UINT64_MAX, &ev);
			if (ev.kind == SIM_EV_END)
				break;
			if (ev.t_us < last) /* events come in time order */
				__builtin_trap();
			last = ev.t_us;
			if (ev.kind == SIM_EV_ADV) {
				sim_ctrl_report_as(&ctrl, &ev.adv, SIM_SCAN_LEGACY);
				sim_ctrl_report_as(&ctrl, &ev.adv, SIM_SCAN_EXTENDED);
			}
		}
		sim_world_free(w);
	}
	scenario_free(&s);
	return 0;
}
