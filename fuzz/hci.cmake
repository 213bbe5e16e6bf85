# HCI layer harnesses: the H4 stream decoder, the HCI event parser (with
# extended report reassembly and the --dump JSON formatter) and the btsnoop
# reader.
bgw_fuzz_target(fuzz_h4 SOURCES fuzz_h4.c LIBS bgw_hci)
bgw_fuzz_target(fuzz_hci_event SOURCES fuzz_hci_event.c LIBS bgw_hci)
bgw_fuzz_target(fuzz_btsnoop SOURCES fuzz_btsnoop.c LIBS bgw_hci)
