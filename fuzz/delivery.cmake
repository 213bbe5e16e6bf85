# Delivery: signed consent updates arrive from the network.
bgw_fuzz_target(fuzz_consent_update SOURCES fuzz_consent_update.c LIBS bgw_delivery)
