/*
 * hub_config.h - beaconhub's INI file: [authority] and the gateway's [mqtt]
 * keys (host, port, topic_prefix, TLS and authentication, read by the
 * delivery part's own parser so both programs take the same values).
 */
#ifndef BGW_HUB_CONFIG_H
#define BGW_HUB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "delivery_config.h"

struct hub_config {
	char db[DELIVERY_PATH_MAX];            /* [authority] db */
	char signing_key[DELIVERY_PATH_MAX];   /* [authority] signing_key (PEM, beaconctl keygen) */
	char fleet[64];                        /* [authority] fleet */
	uint32_t head_interval_s;              /* [authority] head_interval_s = 60 */
	uint32_t poll_ms;                      /* [authority] poll_ms = 200 */
	uint32_t chunk_bytes;                  /* [authority] snapshot_chunk_bytes = 4096 */
	struct delivery_config mqtt;           /* [mqtt] */
};

/* Defaults, then the file. 0, or -1 + err (one line, with the line number). */
int hub_config_load(const char *path, struct hub_config *c, char *err, size_t errlen);

#endif
