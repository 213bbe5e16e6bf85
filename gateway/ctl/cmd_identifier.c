/* cmd_identifier.c - beaconctl identifier add|remove. */
#include "ctl.h"

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
	"An identifier belongs to at most one customer. Keys are never printed back, only\n"
	"their SHA-256 fingerprints.\n";

static int parse(struct ctl *ctl, const char *type, const char *value,
		 struct store_identifier *id, int *code)
{
	char err[STORE_ERRLEN];
	enum store_id_type t = store_id_type_parse(type);
	int rc;

	if (!t) {
		*code = ctl_fail(CTL_DATAERR, "unknown identifier type '%.32s' (use ibeacon, "
				 "eddystone-uid, eddystone-eid or irk)", type);
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
	struct store_identifier id;
	char err[STORE_ERRLEN];
	int code, at, rc;

	if ((at = ctl_positional(ctl, argc, argv, 3, 3, &code)) < 0)
		return code;
	if (parse(ctl, argv[at + 1], argv[at + 2], &id, &code))
		return code;
	if ((rc = ctl_open(ctl, 0)))
		return rc;
	if ((rc = store_identifier_add(ctl->db, ctl->actor, argv[at], &id, err)))
		return ctl_store_fail(rc, err);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "customer_ref", argv[at]);
	cJSON_AddStringToObject(o, "type", store_id_type_name(id.type));
	ctl_print_done(ctl, o, "%s identifier added to customer %s", store_id_type_name(id.type),
		       argv[at]);
	return CTL_OK;
}

static int removecmd(struct ctl *ctl, int argc, char **argv)
{
	struct store_identifier id;
	char err[STORE_ERRLEN];
	int code, at, rc;

	if ((at = ctl_positional(ctl, argc, argv, 2, 2, &code)) < 0)
		return code;
	if (parse(ctl, argv[at], argv[at + 1], &id, &code))
		return code;
	if ((rc = ctl_open(ctl, 0)))
		return rc;
	if ((rc = store_identifier_remove(ctl->db, ctl->actor, &id, err)))
		return ctl_store_fail(rc, err);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "type", store_id_type_name(id.type));
	ctl_print_done(ctl, o, "%s identifier removed", store_id_type_name(id.type));
	return CTL_OK;
}

int cmd_identifier(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_sub subs[] = { { "add", add }, { "remove", removecmd } };

	return ctl_dispatch(ctl, argc, argv, subs, sizeof(subs) / sizeof(subs[0]));
}
