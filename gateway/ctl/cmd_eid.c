/* cmd_eid.c - beaconctl eid: the Eddystone-EID a tag shows at a counter value. */
#include <stdio.h>
#include <string.h>

#include "aes_openssl.h"
#include "ctl.h"
#include "eddystone_eid.h"

const char cmd_eid_help[] =
	"Print the Eddystone-EID a tag broadcasts (to check a tag during installation)\n"
	"Usage: beaconctl eid --key KEYHEX --exponent K --time T\n"
	"KEYHEX: the tag's 32 hex digit identity key; K: rotation exponent 0-15;\n"
	"T: the tag's seconds counter (for an enrolled tag: unix time - clock offset).\n"
	"Prints the 8-byte EID as 16 hex digits. Touches no database.\n";

int cmd_eid(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "exponent", required_argument, NULL, 'e' },
		{ "time", required_argument, NULL, 't' },
		CTL_OPTIONS_END,
	};
	struct ctl_args a = { .opts = opts };
	struct store_identifier id;
	unsigned long long k = 0, t = 0;
	const char *key = NULL, *kx = NULL, *tx = NULL;
	char err[STORE_ERRLEN], hex[17];
	uint8_t eid[8];
	int c, rc;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0) {
		if (c == 'k')
			key = optarg;
		if (c == 'e')
			kx = optarg;
		if (c == 't')
			tx = optarg;
	}
	if (c < 0)
		return a.code;
	if (!key || !kx || !tx)
		return ctl_usage(ctl, "eid: --key, --exponent and --time are required");
	if ((rc = store_identifier_parse(STORE_ID_IRK, key, &id, err)))
		return ctl_fail(BGW_EXIT_DATAERR, "--key: key must be 32 hex digits (16 bytes)");
	if (!ctl_parse_uint(kx, EID_MAX_EXPONENT, &k))
		return ctl_fail(BGW_EXIT_DATAERR, "--exponent must be 0..15, got '%.32s'", kx);
	if (!ctl_parse_uint(tx, UINT32_MAX, &t))
		return ctl_fail(BGW_EXIT_DATAERR, "--time must be a counter value 0..4294967295, got "
				"'%.32s'", tx);
	eid_compute(aes128_openssl, id.bytes, (uint8_t)k, (uint32_t)t, eid);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", eid[i]);
	if (ctl->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "eid", hex);
		cJSON_AddNumberToObject(o, "exponent", (double)k);
		cJSON_AddNumberToObject(o, "time", (double)t);
		cJSON_AddNumberToObject(o, "period_start", eid_period_start((uint8_t)k, (uint32_t)t));
		ctl_print_json(o);
		cJSON_Delete(o);
	} else {
		puts(hex);
	}
	return BGW_EXIT_OK;
}
