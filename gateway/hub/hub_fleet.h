/*
 * hub_fleet.h - what each gateway last said about itself: its retained
 * status (<prefix>/<site>/<gateway>/status) recorded in the authority
 * database's fleet_gateways, which beaconctl fleet shows.
 */
#ifndef BGW_HUB_FLEET_H
#define BGW_HUB_FLEET_H

#include <stddef.h>

#include <sqlite3.h>

/* One status message. 0 recorded, 1 not a gateway status (ignored), -1 +
 * err (the database refused; the next status will do). */
int hub_fleet_record(sqlite3 *db, const void *payload, size_t len, char *err, size_t errlen);

#endif
