/*
 * sim_config.h - the INI file beaconfw-sim --config reads: the same tag
 * fields UICR holds, plus the simulated chip.
 *
 *   [tag]
 *   frames = eid            ; 1..4 of ibeacon, uid, url, tlm, eid, cycled per event
 *   tlm_every = 10          ; a TLM frame in every Nth event, 0 = never
 *   tlm = plain | encrypted ; eTLM: required on EID tags, refused elsewhere
 *   interval_ms = 100
 *   tx_power = 0            ; dBm
 *   ibeacon_uuid = e2c56db5-dffb-48d2-b060-d0f5a71096e0
 *   ibeacon_major = 1
 *   ibeacon_minor = 2
 *   ibeacon_power = -59
 *   uid_namespace = edd1ebeac04e5defa017    ; 20 hex digits
 *   uid_instance = 000000000001             ; 12 hex digits
 *   url = https://example.com
 *   eddystone_power = -18
 *   identity_key = 32 hex digits
 *   eid_exponent = 10
 *   eid_clock_base = 0      ; EID seconds counter at power-up
 *   [sim]
 *   chip = nrf52832 | nrf52840
 *   device_address = c0:11:22:33:44:55      ; FICR DEVICEADDR, MSB first
 *   lfxo = yes | no
 *   dcdc = yes | no         ; the board has the DC/DC inductor
 *   temperature = 23.25
 *   vdd_mv = 3000
 *   seed = 1
 */
#ifndef SIM_CONFIG_H
#define SIM_CONFIG_H

#include <stddef.h>

#include "fw_config.h"
#include "hal_host.h"

/* Load path over the defaults already in cfg and hp. Returns 0, or -1
 * with a one-line message in err. */
int fw_sim_config_load(const char *path, struct fw_config *cfg, struct hal_host_params *hp,
		    char *err, size_t errlen);

#endif
