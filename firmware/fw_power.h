/* fw_power.h - regulator, RAM power and System OFF (PS POWER). */
#ifndef FW_POWER_H
#define FW_POWER_H

#include "fw_radio.h"

/* DC/DC on where the board has its inductor; RAM sections the image does
 * not use powered off (and not retained), so only used RAM draws current. */
void fw_power_init(const struct fw_chip *chip);

/* Stop for good: System OFF, woken only by the reset pin or a power cycle.
 * Returns only in the host build (the model records it). */
void fw_system_off(void);

#endif
