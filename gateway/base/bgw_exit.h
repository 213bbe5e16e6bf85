/*
 * bgw_exit.h - the exit statuses of every beacongw program.
 *
 * sysexits.h values, as the user contract names them, so systemd units,
 * scripts and the test suite can tell a usage error from a broken config
 * from a service that is not there yet. beacongw, beaconctl, beaconsim
 * and beaconhub all exit with these and nothing else.
 */
#ifndef BGW_EXIT_H
#define BGW_EXIT_H

enum bgw_exit {
	BGW_EXIT_OK = 0,
	BGW_EXIT_USAGE = 64,       /* bad command line */
	BGW_EXIT_DATAERR = 65,     /* bad input data (a file, a capture, a CSV) */
	BGW_EXIT_UNAVAILABLE = 69, /* a service or device is not there (yet) */
	BGW_EXIT_SOFTWARE = 70,    /* an internal error: a bug */
	BGW_EXIT_CONFIG = 78,      /* the configuration is wrong */
};

#endif
