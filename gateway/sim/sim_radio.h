/*
 * sim_radio.h - received signal strength of a simulated advertisement: the
 * log-distance path-loss model plus Gaussian (log-normal) shadowing,
 *   rssi = txpower_1m - 10 n log10(d) + N(0, sigma)
 * rounded to whole dBm as controllers report it.
 */
#ifndef BGW_SIM_RADIO_H
#define BGW_SIM_RADIO_H

#include <stdint.h>

#include "sim_rng.h"

/* Below this the model (a far-field one) says nothing sensible. */
#define SIM_RADIO_MIN_DISTANCE_M 0.1

/* Mean RSSI at distance d (metres) without noise. */
double sim_radio_mean_rssi(int txpower_1m, double n, double d_m);

/* One noisy sample, rounded and clamped to the HCI range -127..20 dBm. */
int sim_radio_rssi(struct sim_rng *rng, int txpower_1m, double n, double sigma_db, double d_m);

#endif
