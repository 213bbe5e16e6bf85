/* fw_main.c - the tag's main loop: advertise, sleep on RTC0, repeat. */
#include "fw_beacon.h"
#include "fw_power.h"

int main(void);

static struct fw_beacon beacon;

int main(void)
{
	struct fw_config cfg;

	fw_config_load(&cfg);
	if (!fw_beacon_init(&beacon, &cfg))
		fw_system_off(); /* e.g. EID without a key: stay silent */
	for (;;) {
		fw_beacon_event(&beacon);
		fw_beacon_sleep(&beacon);
	}
}
