/*
 * sim_radio.c - log-distance path loss with Gaussian shadowing.
 */
#include "sim_radio.h"

#include <math.h>

double sim_radio_mean_rssi(int txpower_1m, double n, double d_m)
{
	if (!(d_m >= SIM_RADIO_MIN_DISTANCE_M))
		d_m = SIM_RADIO_MIN_DISTANCE_M;
	return (double)txpower_1m - 10.0 * n * log10(d_m);
}

int sim_radio_rssi(struct sim_rng *rng, int txpower_1m, double n, double sigma_db, double d_m)
{
	double r = sim_radio_mean_rssi(txpower_1m, n, d_m);

	/* Always draw, even for sigma 0, so that a device's random stream does
	 * not depend on the noise setting. */
	r += sigma_db * sim_rng_gauss(rng);
	r = floor(r + 0.5);
	if (r < -127)
		r = -127;
	if (r > 20)
		r = 20;
	return (int)r;
}
