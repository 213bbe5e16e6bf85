/* cmd_identifier.c - beaconctl identifier add|remove. */
#include "ctl.h"
#include "bgw_util.h"

const char cmd_identifier_help[] =
	"Enrol or remove a customer's beacon identifiers\n"
	"Usage: beaconctl identifier add REF TYPE VALUE\n"
	"       beaconctl identifier remove TYPE VALUE\n"
	"TYPE VALUE:\n"
	"  ibeacon UUID:MAJOR:MINOR            e.g. f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:42\n"
	"  eddystone-uid NAMESPACE:INSTANCE    20 and 12 hex digits\n"
	"  eddystone-eid KEYHEX:K[:OFFSET]     32 hex digit identity key, rotation exponent\n"
	"                                      0-15, tag clock offset in seconds (counter =\n"
	"                                      unix time - OFFSET, default 0)\n"
	"  irk KEYHEX                          a phone's 32 hex digit identity resolving key\n"
	"  altbeacon COMPANY:BEACONID          manufacturer id, decimal (never octal: 0118 is\n"
	"                                      118) or 0xHEX (Radius Networks: 0x0118), and\n"
	"                                      the 20-byte beacon id, 40 hex digits, dashes\n"
	"                                      optional; shown as 0x0118:<40 hex>\n"
	"An identifier belongs to at most one customer. Keys are never printed back, only\n"
	"their SHA-256 fingerprints.\n";

static int parse(struct ctl *ctl, const char *type, const char *value,
		 struct store_identifier *id, int *code)
{
	char err[STORE_ERRLEN];
	enum store_id_type t = store_id_type_parse(type);
	int rc;

	if (!t) {
		*code = ctl_fail(BGW_EXIT_DATAERR, "unknown identifier type '%.32s' (use ibeacon, "
				 "eddystone-uid, eddystone-eid, irk or altbeacon)", type);
		return -1;
	}
	rc = store_identifier_parse(t, value, id, err);
	if (rc) {
		*code = ctl_store_fail(rc, err);
		return -1;
	}
	(void)ctl;
	return 0;
}

static int add(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a = { .min = 3, .max = 3 };
	struct store_identifier id;
	char err[STORE_ERRLEN];
	const char *ref, *type;
	int code, rc;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	ref = argv[a.at];
	if (parse(ctl, argv[a.at + 1], argv[a.at + 2], &id, &code))
		return code;
	if ((rc = ctl_open(ctl, 0)))
		return rc;
	rc = store_identifier_add(ctl->db, ctl->actor, ref, &id, err);
	type = store_id_type_name(id.type);
	return ctl_done(ctl, rc, err, ctl_fields("customer_ref", ref, "type", type, NULL),
			"%s identifier added to customer %s", type, ref);
}

static int removecmd(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a = { .min = 2, .max = 2 };
	struct store_identifier id;
	char err[STORE_ERRLEN];
	const char *type;
	int code, rc;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	if (parse(ctl, argv[a.at], argv[a.at + 1], &id, &code))
		return code;
	if ((rc = ctl_open(ctl, 0)))
		return rc;
	rc = store_identifier_remove(ctl->db, ctl->actor, &id, err);
	type = store_id_type_name(id.type);
	return ctl_done(ctl, rc, err, ctl_fields("type", type, NULL), "%s identifier removed", type);
}

int cmd_identifier(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_sub subs[] = { { "add", add }, { "remove", removecmd } };

	return ctl_dispatch(ctl, argc, argv, subs, BGW_ARRAY_SIZE(subs));
}
