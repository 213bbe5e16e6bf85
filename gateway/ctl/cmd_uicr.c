/* cmd_uicr.c - beaconctl uicr: the UICR words that provision a customer's
 * Eddystone-EID tag with the key enrolled for them, so enrolment and
 * provisioning can never disagree. Reading a key is audited. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "fw_config.h"
#include "fw_uicr.h"

const char cmd_uicr_help[] =
	"Print the UICR words that provision a customer's Eddystone-EID tag\n"
	"Usage: beaconctl uicr REF [--at TIME]\n"
	"Takes the key, exponent and clock offset enrolled for REF (identifier type\n"
	"eddystone-eid) and prints the 32 words for UICR.CUSTOMER (0x10001080), as\n"
	"openocd 'flash fillw' commands; --json gives them as a list. The tag's counter\n"
	"starts at TIME - OFFSET when it is powered up at TIME (default: now).\n"
	"The output holds the tag's identity key: treat it as a secret. Each use is\n"
	"recorded in the audit log.\n";

/* The customer's (first) EID identifier: key, exponent, clock offset. */
static int enrolled_eid(struct ctl *ctl, int64_t customer, uint8_t key[16], int *exponent,
			int64_t *offset)
{
	char err[STORE_ERRLEN];
	int rc = store_eid_key(ctl->db, customer, key, exponent, offset, err);

	if (rc == STORE_ENOENT)
		return ctl_fail(BGW_EXIT_DATAERR, "uicr: %s", err);
	if (rc != STORE_OK)
		return ctl_fail(BGW_EXIT_UNAVAILABLE, "database: %s", err);
	return BGW_EXIT_OK;
}

static int audit_key_read(struct ctl *ctl, int64_t customer)
{
	char err[STORE_ERRLEN], subject[40];
	int rc;

	snprintf(subject, sizeof(subject), "customer:%" PRId64, customer);
	if ((rc = store_begin(ctl->db, err)))
		return ctl_store_fail(rc, err);
	rc = store_audit_append(ctl->db, ctl->actor, "identifier.uicr", subject, customer, NULL,
				NULL, err);
	if ((rc = store_tx_end(ctl->db, rc, err)))
		return ctl_store_fail(rc, err);
	return BGW_EXIT_OK;
}

int cmd_uicr(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' },
		CTL_OPTIONS_END,
	};
	struct ctl_args a = { .opts = opts, .min = 1, .max = 1, .db = CTL_DB_WRITE };
	char err[STORE_ERRLEN];
	int64_t at = (int64_t)time(NULL), customer, offset = 0, base;
	uint32_t words[FW_UICR_WORDS];
	struct fw_config cfg;
	enum fw_config_error fe;
	uint8_t key[16];
	int c, rc, exponent = 0;
	const char *ref;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0) {
		if (c == 'a' && store_time_parse(optarg, at, &at, err))
			return ctl_fail(BGW_EXIT_DATAERR, "--at: %s", err);
	}
	if (c < 0)
		return a.code;
	ref = argv[a.at];
	if ((rc = store_customer_id(ctl->db, ref, &customer, err)))
		return ctl_store_fail(rc, err);
	if ((rc = enrolled_eid(ctl, customer, key, &exponent, &offset)))
		return rc;
	base = at - offset;
	if (base < 0 || base > (int64_t)UINT32_MAX)
		return ctl_fail(BGW_EXIT_DATAERR, "uicr: the tag's counter at power-up (%" PRId64
				") is outside 0..4294967295", base);
	fw_config_eid_tag(&cfg, key, (uint8_t)exponent, (uint32_t)base);
	if ((fe = fw_uicr_encode(&cfg, words)) != FW_CONFIG_OK)
		return ctl_fail(BGW_EXIT_DATAERR, "uicr: %s", fw_config_error_str(fe));
	if ((rc = audit_key_read(ctl, customer)))
		return rc;

	if (ctl->json) {
		cJSON *o = cJSON_CreateObject(), *w = cJSON_AddArrayToObject(o, "words");
		char hex[12];

		cJSON_AddStringToObject(o, "customer_ref", ref);
		cJSON_AddNumberToObject(o, "address", FW_UICR_ADDR);
		cJSON_AddNumberToObject(o, "exponent", exponent);
		cJSON_AddNumberToObject(o, "clock_base", (double)base);
		for (int i = 0; i < FW_UICR_WORDS; i++) {
			snprintf(hex, sizeof(hex), "0x%08" PRIx32, words[i]);
			cJSON_AddItemToArray(w, cJSON_CreateString(hex));
		}
		ctl_print_json(o);
		cJSON_Delete(o);
		return BGW_EXIT_OK;
	}
	printf("# UICR.CUSTOMER for %s's Eddystone-EID tag: exponent %d, counter %" PRId64
	       " at power-up\n# openocd commands (erase first; see the firmware documentation):\n",
	       ref, exponent, base);
	for (int i = 0; i < FW_UICR_WORDS; i++)
		printf("flash fillw 0x%08" PRIx32 " 0x%08" PRIx32 " 1\n",
		       (uint32_t)(FW_UICR_ADDR + 4u * (uint32_t)i), words[i]);
	return BGW_EXIT_OK;
}
