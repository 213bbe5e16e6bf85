/*
 * hub_run.h - beaconhub at run time: the broker link, the outbox pump, the
 * retained head, snapshot requests and gateway statuses, on the event loop.
 */
#ifndef BGW_HUB_RUN_H
#define BGW_HUB_RUN_H

#include <stddef.h>

#include "hub_config.h"

struct loop;
struct hub_run;

/* NULL + err (one line) and *status (an exit code). */
struct hub_run *hub_run_new(struct loop *l, const struct hub_config *cfg, char *err,
			    size_t errlen, int *status);
/*
 * SIGHUP: read path again. [authority] signing_key (a key rotation without a
 * restart), head_interval_s and snapshot_chunk_bytes take effect at once;
 * changes to db, fleet, poll_ms and [mqtt] need a restart (logged, not
 * applied). A file that does not load or a key that does not read keeps the
 * running configuration whole, says why in the log and is counted
 * (counts.reloads_failed in the hub's status). 0 or -1.
 */
int hub_run_reload(struct hub_run *h, const char *path);
/* Graceful stop: what is signed stays in the outbox for the next start. */
void hub_run_stop(struct hub_run *h, int timeout_ms);
void hub_run_free(struct hub_run *h);

#endif
