/* cmd_init.c - beaconctl init: create the database or bring it up to date. */
#include "ctl.h"

const char cmd_init_help[] =
	"Create the database, or upgrade its schema to this version\n"
	"Usage: beaconctl [--db FILE] init\n"
	"Creates FILE with the current schema (WAL mode). On an existing database it\n"
	"applies any pending migrations; running it again changes nothing.\n";

int cmd_init(struct ctl *ctl, int argc, char **argv)
{
	int code, rc;

	if (ctl_positional(ctl, argc, argv, 0, 0, &code) < 0)
		return code;
	rc = ctl_open(ctl, STORE_OPEN_CREATE);
	if (rc)
		return rc;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "db", ctl->db_path);
	cJSON_AddNumberToObject(o, "schema_version", store_schema_version(ctl->db));
	ctl_print_done(ctl, o, "database %s ready (schema version %d)", ctl->db_path,
		       store_schema_version(ctl->db));
	return CTL_OK;
}
