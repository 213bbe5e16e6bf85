/* cmd_export.c - beaconctl export REF: everything held about a person. */
#include "ctl.h"

const char cmd_export_help[] =
	"Export everything held about a customer as one JSON document (GDPR Art. 15)\n"
	"Usage: beaconctl export REF\n"
	"The document holds the customer row, identifiers (keys only as SHA-256\n"
	"fingerprints), every consent with its history (and archived ones), segments,\n"
	"visits, trigger history, triggers still queued for delivery and the audit entries\n"
	"about the customer. Output is always JSON.\n";

int cmd_export(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a = { .min = 1, .max = 1, .db = CTL_DB_READ };
	char err[STORE_ERRLEN];
	int rc;
	cJSON *doc;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	if ((rc = store_export(ctl->db, argv[a.at], &doc, err)))
		return ctl_store_fail(rc, err);
	ctl_print_json(doc);
	cJSON_Delete(doc);
	return BGW_EXIT_OK;
}
