/*
 * config_audit.h - findings about a configuration together with its
 * database that can never work (see config_audit.c).
 */
#ifndef BGW_CONFIG_AUDIT_H
#define BGW_CONFIG_AUDIT_H

#include <stdint.h>

#include "pipeline_config.h"
#include "snapshot.h"

struct audit_counts {
	uint32_t store_namespace_ids;   /* customer identifiers inside a store namespace */
	uint32_t channelless_consents;  /* retargeting consents without a channel */
	uint32_t idle_campaigns;        /* campaigns that cannot fire here */
};

/* Where each finding goes (one line, no newline); warn may be NULL. */
struct audit_sink {
	void (*warn)(void *ctx, const char *msg);
	void *ctx;
};

void config_audit(const struct pipeline_config *pc, const struct snapshot *s, int64_t now_s,
		  const struct audit_sink *sink, struct audit_counts *out);

#endif
