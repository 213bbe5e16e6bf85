# beaconsim harnesses: the scenario parser (and a bounded play of whatever
# parses), and the virtual controller's command handling fed an arbitrary
# H4 byte stream.
bgw_fuzz_target(fuzz_scenario SOURCES fuzz_scenario.c LIBS bgw_sim)
bgw_fuzz_target(fuzz_sim_ctrl SOURCES fuzz_sim_ctrl.c LIBS bgw_sim)
