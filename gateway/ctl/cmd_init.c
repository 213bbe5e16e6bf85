/* cmd_init.c - beaconctl init: create the database or bring it up to date. */
#include "ctl.h"

const char cmd_init_help[] =
	"Create the database, or upgrade its schema to this version\n"
	"Usage: beaconctl [--db FILE] init\n"
	"Creates FILE with the current schema (WAL mode). On an existing database it\n"
	"applies any pending migrations; running it again changes nothing.\n";

int cmd_init(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a = { .db = CTL_DB_CREATE };

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	cJSON *o = ctl_fields("db", ctl->db_path, NULL);

	cJSON_AddNumberToObject(o, "schema_version", store_schema_version(ctl->db));
	ctl_print_done(ctl, o, "database %s ready (schema version %d)", ctl->db_path,
		       store_schema_version(ctl->db));
	return BGW_EXIT_OK;
}
