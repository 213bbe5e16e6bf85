/*
 * service_notify.h - the service manager's notification protocol, spoken
 * directly: READY=1, STATUS=..., WATCHDOG=1 and STOPPING=1 as datagrams to
 * the AF_UNIX socket named by $NOTIFY_SOCKET, and the watchdog interval
 * from $WATCHDOG_USEC / $WATCHDOG_PID.
 *
 * This is what libsystemd's sd_notify() and sd_watchdog_enabled() do for
 * a daemon like this one (systemd documents the protocol as stable for
 * that purpose). Linking libsystemd for two calls mapped it and the five
 * libraries it needs (libgcrypt, libgpg-error, libzstd, liblzma, liblz4,
 * libcap): about 1 MiB of the gateway's resident memory, a sixteenth of
 * its budget on a Pi.
 */
#ifndef BGW_SERVICE_NOTIFY_H
#define BGW_SERVICE_NOTIFY_H

#include <stdint.h>

/* Send state ("READY=1", ...). 1 when sent, 0 without $NOTIFY_SOCKET (not
 * started by a service manager), a negative errno when it failed. */
int service_notify(const char *state);

/* 1 and *usec when the service manager expects WATCHDOG=1 of this process
 * at least every *usec microseconds; 0 when it expects none. */
int service_watchdog_usec(uint64_t *usec);

#endif
