# Consent store: CSV import (splitting, identifier / consent / segment cells)
# through the real import path into a scratch database, rolled back per input.
bgw_fuzz_target(fuzz_csv_import SOURCES fuzz_csv_import.c LIBS bgw_store)
