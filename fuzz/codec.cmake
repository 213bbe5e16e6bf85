# Beacon frame codec: AD iteration, every decoder, and encode/decode round trips.
bgw_fuzz_target(fuzz_beacon_frame SOURCES fuzz_beacon_frame.c LIBS bgw_codec)
