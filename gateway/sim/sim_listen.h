/*
 * sim_listen.h - the socket beaconsim listens on: unix:PATH or
 * tcp:HOST:PORT with HOST a loopback address (the simulator never talks to
 * anything off the machine).
 */
#ifndef BGW_SIM_LISTEN_H
#define BGW_SIM_LISTEN_H

#include <stddef.h>

struct sim_listener {
	int fd;
	char unix_path[108];   /* non-empty: remove it on close */
	char where[160];       /* "unix:/run/x.sock", "tcp:127.0.0.1:40123" (actual port) */
};

/* Bind and listen (non-blocking). 0, or -1 with a one-line reason in err. */
int sim_listen_open(struct sim_listener *l, const char *spec, char *err, size_t errlen);
void sim_listen_close(struct sim_listener *l);

#endif
