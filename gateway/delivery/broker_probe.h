/*
 * broker_probe.h - a non-blocking TCP connect to the broker, made before
 * libmosquitto's own (blocking) connect is called: see broker_link.c.
 */
#ifndef BGW_BROKER_PROBE_H
#define BGW_BROKER_PROBE_H

#include <stddef.h>

#include "broker_link.h"

/* Resolve host and start connecting to the first address that does not fail
 * at once. BROKER_OK with *fd pending (non-blocking, close-on-exec);
 * otherwise BROKER_FAIL_RESOLVE or BROKER_FAIL_UNREACHABLE with the reason
 * in why. */
enum broker_failure broker_probe_start(const char *host, int port, int *fd, char *why,
				       size_t whylen);

/* 1: connected; 0: still connecting; -errno: the connect failed. */
int broker_probe_result(int fd);

#endif
