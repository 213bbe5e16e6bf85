# Firmware: the UICR configuration decoder (UICR content is outside input:
# whatever a programmer wrote there, or nothing).
bgw_fuzz_target(fuzz_fw_uicr SOURCES fuzz_fw_uicr.c LIBS bgw_fw_config)
