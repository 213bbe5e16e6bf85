/*
 * config_files.h - the files the configuration names, opened and read as
 * the daemon will use them: TLS certificates and keys, the broker password,
 * the consent-update public key.
 *
 * One function for both callers: start-up (before anything else is set
 * up) and --check-config. What one accepts the other accepts, so a check
 * that says OK is followed by a start that works.
 */
#ifndef BGW_CONFIG_FILES_H
#define BGW_CONFIG_FILES_H

#include "config.h"

/* Called once per problem with "FILE:LINE: [section] key PATH: what". */
typedef void (*config_problem_fn)(void *ctx, const char *msg);

/* Every problem is reported (not only the first); returns how many. */
unsigned config_check_files(const struct config *cfg, config_problem_fn report, void *ctx);

#endif
