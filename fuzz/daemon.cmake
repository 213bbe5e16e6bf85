# The daemon's configuration and SPEC parsers.
bgw_fuzz_target(fuzz_config SOURCES fuzz_config.c LIBS bgw_daemon)
