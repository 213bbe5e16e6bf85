/* cmd_customer.c - beaconctl customer add|list|show|remove. */
#include <stdio.h>

#include "ctl.h"
#include "bgw_util.h"

const char cmd_customer_help[] =
	"Add, list, show and remove customers\n"
	"Usage: beaconctl customer add REF [--segment S]...\n"
	"       beaconctl customer list\n"
	"       beaconctl customer show REF\n"
	"       beaconctl customer remove REF [--yes]\n"
	"REF is the CRM's opaque customer reference (letters, digits and . _ - : @ / + =,\n"
	"at most 63 characters); never a name, e-mail address or phone number.\n"
	"'remove' deletes the customer and everything held about them; 'beaconctl forget'\n"
	"does the same and also scrubs the deleted bytes from the database file. On a\n"
	"terminal 'remove' asks first; --yes does it without asking (scripts must say so).\n";

static int add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "segment", required_argument, NULL, 's' }, CTL_OPTIONS_END
	};
	struct ctl_args a = { .opts = opts, .shortopts = "hs:", .min = 1, .max = 1,
			      .db = CTL_DB_WRITE };
	const char *segments[64], *ref;
	char err[STORE_ERRLEN];
	int nseg = 0, c, rc;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0) {
		if (c == 's') {
			if (nseg == 64)
				return ctl_usage(ctl, "too many --segment options");
			segments[nseg++] = optarg;
		}
	}
	if (c < 0)
		return a.code;
	ref = argv[a.at];
	rc = store_begin(ctl->db, err);
	if (!rc) {
		rc = store_customer_add_tx(ctl->db, ctl->actor, ref, NULL, err);
		for (int i = 0; i < nseg && !rc; i++)
			rc = store_segment_add_tx(ctl->db, ctl->actor, ref, segments[i], err);
		rc = store_tx_end(ctl->db, rc, err);
	}
	return ctl_done(ctl, rc, err, ctl_fields("customer_ref", ref, NULL), "customer %s added",
			ref);
}

static int list(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_column cols[] = {
		{ "customer_ref", "REF" },	  { "created_at", "CREATED" },
		{ "identifiers", "IDENTIFIERS" }, { "presence", "PRESENCE" },
		{ "retargeting", "RETARGETING" }, { "segments", "SEGMENTS" },
	};
	struct ctl_args a = { .db = CTL_DB_READ };
	char err[STORE_ERRLEN];
	int rc;
	cJSON *rows = NULL;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	rc = store_customer_list(ctl->db, &rows, err);
	return ctl_print_rows(ctl, rc, rows, err, cols, BGW_ARRAY_SIZE(cols));
}

static int show(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_column id_cols[] = {
		{ "type", "TYPE" }, { "value", "VALUE" }, { "key_fingerprint", "KEY (SHA-256)" },
		{ "exponent", "K" }, { "clock_offset", "OFFSET" }, { "created_at", "ADDED" },
	};
	static const struct ctl_column consent_cols[] = {
		{ "purpose", "PURPOSE" },	    { "channels", "CHANNELS" },
		{ "granted_at", "GRANTED" },	    { "expires_at", "EXPIRES" },
		{ "withdrawn_at", "WITHDRAWN" },    { "source", "SOURCE" },
		{ "policy_version", "POLICY" },
	};
	struct ctl_args a = { .min = 1, .max = 1, .db = CTL_DB_READ };
	char err[STORE_ERRLEN];
	int rc;
	cJSON *doc, *c;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	if ((rc = store_customer_show(ctl->db, argv[a.at], &doc, err)))
		return ctl_store_fail(rc, err);
	if (ctl->json) {
		ctl_print_json(doc);
	} else {
		c = cJSON_GetObjectItem(doc, "customer");
		printf("customer   %s\ncreated    %s\n",
		       cJSON_GetStringValue(cJSON_GetObjectItem(c, "customer_ref")),
		       cJSON_GetStringValue(cJSON_GetObjectItem(c, "created_at")));
		printf("segments   ");
		const cJSON *s;
		int n = 0;

		cJSON_ArrayForEach(s, cJSON_GetObjectItem(doc, "segments"))
			printf("%s%s", n++ ? ", " : "", cJSON_GetStringValue(s));
		printf("%s\n\nidentifiers\n", n ? "" : "-");
		ctl_print_table(cJSON_GetObjectItem(doc, "identifiers"), id_cols,
				BGW_ARRAY_SIZE(id_cols));
		printf("\nconsents (history, newest last)\n");
		ctl_print_table(cJSON_GetObjectItem(doc, "consents"), consent_cols,
				BGW_ARRAY_SIZE(consent_cols));
	}
	cJSON_Delete(doc);
	return BGW_EXIT_OK;
}

static int removecmd(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a = { .min = 1, .max = 1, .db = CTL_DB_WRITE };
	char err[STORE_ERRLEN];
	const char *ref;
	int rc;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	ref = argv[a.at];
	if ((rc = ctl_confirm(ctl, "remove customer %.63s and everything held about them", ref)))
		return rc;
	rc = store_customer_remove(ctl->db, ctl->actor, ref, err);
	return ctl_done(ctl, rc, err, ctl_fields("customer_ref", ref, NULL), "customer %s removed",
			ref);
}

int cmd_customer(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_sub subs[] = {
		{ "add", add }, { "list", list }, { "show", show }, { "remove", removecmd },
	};

	return ctl_dispatch(ctl, argc, argv, subs, BGW_ARRAY_SIZE(subs));
}
