/*
 * json_samples.c - runs a small store scenario through the real pipeline
 * and prints every payload it publishes as "<topic> <json>" lines, for
 * test_schemas.py to validate against docs/schema/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aes_openssl.h"
#include "eddystone_eid.h"
#include "etlm.h"
#include "pl_aes.h"
#include "pl_harness.h"
#include "snap_builder.h"

#define T0 1773133200ull

int main(void)
{
	static const uint8_t uuid[16] = { 0xa1, 0x1c, 0xe0, 1, 2, 3, 0x40, 0, 0x80, 0, 0, 0,
					  0, 0, 0, 1 };
	static const uint8_t ik[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 };
	static const uint8_t ns[10] = { 0x57, 0x0e, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t shelf[6] = { 1, 0, 0, 0, 0, 0xc0 };
	static const uint8_t a_addr[6] = { 7, 7, 7, 7, 7, 0xc7 };
	struct pipeline_config cfg;
	struct snap_builder *b = sb_new();
	struct harness h;
	struct bf_frame fa = frame_ibeacon(uuid, 1, 2), uid = { .type = BF_EDDYSTONE_UID },
			tlm = { .type = BF_EDDYSTONE_TLM };
	struct pl_aes *aes = pl_aes_new();
	uint32_t a, t;

	pipeline_config_defaults(&cfg);
	strcpy(cfg.site, "store-7");
	strcpy(cfg.gateway, "gw-1");
	strcpy(cfg.zone, "entrance \"A\"");
	memcpy(cfg.store_namespaces[0], ns, 10);
	cfg.n_store_namespaces = 1;
	sb_channel(b, "push");
	sb_channel(b, "email");
	a = sb_customer(b, 1, "alice-0001");
	t = sb_customer(b, 2, "tag-0002");
	for (uint32_t c = a; c <= t; c++) {
		sb_consent(b, c, SNAP_PRESENCE, 1, 0, 0, 0, "2026-01");
		sb_consent(b, c, SNAP_RETARGETING, 1, 0, 0, 3, "2026-01");
	}
	sb_ibeacon(b, a, uuid, 1, 2);
	sb_eid(b, t, ik, 4, 0);
	sb_campaign(b, 1, "welcome", cfg.zone, SNAP_EVENT_ENTER);
	sb_campaign(b, 2, "linger", cfg.zone, SNAP_EVENT_DWELL)->min_dwell_s = 60;
	sb_campaign(b, 3, "bye", cfg.zone, SNAP_EVENT_EXIT)->channels = 2;
	harness_init(&h, &cfg);
	pipeline_set_snapshot(h.p, sb_build(b, 1));

	memcpy(uid.u.uid.namespace_id, ns, 10);
	tlm.u.tlm = (struct bf_eddystone_tlm){ 3000, 20 * 256, 5, 600 };
	for (uint64_t s = T0; s < T0 + 120; s++) {
		struct bf_frame e = { .type = BF_EDDYSTONE_EID },
				et = { .type = BF_EDDYSTONE_ETLM };
		uint8_t tag_addr[6] = { 3, 3, 3, 3, 3, 0x13 };

		harness_report(&h, S(s), a_addr, ADV_ADDR_RANDOM, -61, &fa);
		harness_report(&h, S(s), shelf, ADV_ADDR_RANDOM, -75, (s & 1) ? &tlm : &uid);
		eid_compute(aes128_openssl, ik, 4, (uint32_t)s, e.u.eid.eid);
		harness_report(&h, S(s), tag_addr, ADV_ADDR_RANDOM, -66, &e);
		etlm_encrypt(aes, ik, eid_period_start(4, (uint32_t)s), 77, &tlm.u.tlm, &et.u.etlm);
		harness_report(&h, S(s), tag_addr, ADV_ADDR_RANDOM, -66, &et);
		for (uint8_t d = 0; d < 8; d++) { /* passers-by for the footfall count */
			uint8_t x[6] = { d, (uint8_t)s, 9, 9, 9, 0x3f };
			harness_report(&h, S(s), x, ADV_ADDR_RANDOM, -80, NULL);
		}
		pipeline_tick(h.p, S(s) + 500000);
	}
	pipeline_flush(h.p, S(T0 + 130));
	fwrite(h.out, 1, h.out_len, stdout);
	harness_fini(&h);
	sb_free(b);
	pl_aes_free(aes);
	return 0;
}
