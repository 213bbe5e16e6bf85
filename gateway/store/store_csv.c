/*
 * store_csv.c - the pure (no database) part of CSV import: splitting a line
 * into fields and parsing consent cells. Fuzzed by fuzz/fuzz_csv_import.c.
 *
 *   customer_ref,identifiers,consents,segments
 *   C1001,ibeacon f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:2|irk 00..ff,presence;retargeting@push+email/2027-12-31,first-flat|furnishing
 */
#include <string.h>

#include "store_internal.h"

int store_csv_split(char *line, struct store_csv_row *row, char *err)
{
	char *r = line, *w = line;
	int n = 0;

	for (;;) {
		char *start = w;

		if (n == STORE_CSV_FIELDS)
			return store_errf(err, STORE_EINVAL, "more than %d fields", STORE_CSV_FIELDS);
		if (*r == '"') {
			/* Quoted field: "" is a quote; the quote must end the field. */
			r++;
			for (;;) {
				if (*r == '\0')
					return store_errf(err, STORE_EINVAL, "unterminated quoted field");
				if (*r == '"') {
					if (r[1] == '"') {
						*w++ = '"';
						r += 2;
						continue;
					}
					r++;
					break;
				}
				*w++ = *r++;
			}
			if (*r != ',' && *r != '\0')
				return store_errf(err, STORE_EINVAL,
						  "text after the closing quote of field %d", n + 1);
		} else {
			while (*r != ',' && *r != '\0') {
				if (*r == '"')
					return store_errf(err, STORE_EINVAL,
							  "quote inside an unquoted field %d", n + 1);
				*w++ = *r++;
			}
		}
		row->field[n++] = start;
		if (*r == '\0') {
			*w = '\0';
			break;
		}
		*w++ = '\0';
		r++;
	}
	if (n != STORE_CSV_FIELDS)
		return store_errf(err, STORE_EINVAL, "expected %d fields, found %d", STORE_CSV_FIELDS,
				  n);
	return STORE_OK;
}

int store_csv_consent_parse(char *item, struct store_grant *g, char *chbuf, size_t n, char *err)
{
	char *at = strchr(item, '@'), *slash = strchr(item, '/');
	int rc;

	memset(g, 0, sizeof(*g));
	if (slash) {
		*slash = '\0';
		rc = store_time_parse(slash + 1, store_now(), &g->expires_at, err);
		if (rc)
			return rc;
	}
	if (at && slash && at > slash)
		return store_errf(err, STORE_EINVAL, "consent must be PURPOSE[@CHANNELS][/EXPIRES]");
	if (at) {
		*at = '\0';
		/* channels are '+'-separated in the cell, ',' in the store */
		size_t len = strlen(at + 1);

		if (len == 0)
			return store_errf(err, STORE_EINVAL, "empty channel list after '@'");
		if (len >= n)
			return store_errf(err, STORE_EINVAL, "channel list too long");
		for (size_t i = 0; i <= len; i++)
			chbuf[i] = at[1 + i] == '+' ? ',' : at[1 + i];
		rc = store_channels_normalise(chbuf, chbuf, n, err);
		if (rc)
			return rc;
		g->channels = chbuf;
	} else {
		chbuf[0] = '\0';
		g->channels = chbuf;
	}
	if (store_purpose_parse(item, &g->purpose))
		return store_errf(err, STORE_EINVAL,
				  "unknown consent purpose '%.32s' (use presence or retargeting)", item);
	/* As beaconctl consent grant: triggers go only to accepted channels. */
	if (g->purpose == STORE_RETARGETING && !chbuf[0])
		return store_errf(err, STORE_EINVAL, "retargeting consent needs at least one "
				  "channel (retargeting@CHANNEL): without one no trigger could "
				  "ever be sent");
	return STORE_OK;
}
