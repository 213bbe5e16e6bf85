/*
 * broker_dropin.h - the systemd drop-in that lets the unit reach a broker
 * on a public address, derived from [mqtt] host.
 *
 * The unit allows only loopback, link-local, multicast and private
 * addresses (IPAddressDeny=any plus IPAddressAllow=). A head-office broker
 * on the Internet needs its own addresses added, and nothing else: the
 * drop-in names exactly them, so the lockdown stays as it was for every
 * other address.
 */
#ifndef BGW_BROKER_DROPIN_H
#define BGW_BROKER_DROPIN_H

#include <stdio.h>

#include "config.h"

/* Where the package's documentation tells the administrator to put it. */
#define BROKER_DROPIN_DIR "/etc/systemd/system/beacongw.service.d"
#define BROKER_DROPIN_PATH BROKER_DROPIN_DIR "/50-broker.conf"

/*
 * Writes the drop-in for cfg's broker to out. 0 on success (also when the
 * broker needs none: the text then says so and allows nothing); 69 when
 * the host does not resolve (err says why).
 */
int broker_dropin_write(const struct config *cfg, FILE *out, char *err, size_t errlen);

/*
 * For --check-config: the broker's public addresses that no drop-in in
 * dir allows, as one comma-separated string in missing (empty: none, or
 * the host did not resolve, which the connection reports).
 */
void broker_dropin_missing(const struct config *cfg, const char *dir, char *missing, size_t n);

#endif
