# Data path: arbitrary advertising reports through identify/consent/presence/footfall.
bgw_fuzz_target(fuzz_pipeline SOURCES fuzz_pipeline.c LIBS bgw_pipeline_testutil)
