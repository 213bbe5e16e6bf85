/* pipeline_config.c - defaults and sanity checks of the data path's tunables. */
#include "pipeline_config.h"

#include <stdio.h>
#include <string.h>

#include "irk_async.h"

void pipeline_config_defaults(struct pipeline_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->site, "site");
	strcpy(cfg->gateway, "gw");
	strcpy(cfg->zone, "entrance");
	cfg->rssi_alpha_up = 0.5f;
	cfg->rssi_alpha_down = 0.15f;
	cfg->path_loss_exponent = 2.0f;
	cfg->default_power_1m = -59;
	cfg->enter_rssi = -75;
	cfg->enter_confirmations = 3;
	cfg->enter_window_s = 10;
	cfg->exit_rssi = -85;
	cfg->exit_below_s = 15;
	cfg->absence_timeout_s = 30;
	cfg->dwell_marks_s[0] = 60;
	cfg->dwell_marks_s[1] = 300;
	cfg->dwell_marks_s[2] = 900;
	cfg->n_dwell_marks = 3;
	cfg->max_tracked = 4096;
	cfg->footfall_period_s = 900;
	cfg->footfall_min_count = 5;
	cfg->footfall_min_rssi = -100;
	cfg->eid_tolerance = 1;
	cfg->irk_cache_size = 65536;
	cfg->beacon_health_interval_s = 300;
	cfg->max_store_beacons = 256;
	cfg->beacon_missing_after_s = 900;
	cfg->beacon_low_battery_mv = 2500;
	cfg->max_campaign_state = 16384;
	cfg->site_margin_db = 6.0f;
	cfg->site_hold_s = 2;
	cfg->site_peer_timeout_s = 10;
	cfg->site_summary_ms = 1000;
	cfg->contact_period_s = 3600;
}

bool pipeline_quiet_hours(const char *s, int32_t *from_min, int32_t *until_min)
{
	unsigned h1, m1, h2, m2;
	char tail;

	*from_min = *until_min = -1;
	if (!s[0])
		return true;
	if (sscanf(s, "%2u:%2u-%2u:%2u%c", &h1, &m1, &h2, &m2, &tail) != 4 || h1 > 23 ||
	    h2 > 24 || m1 > 59 || m2 > 59 || (h2 == 24 && m2))
		return false;
	*from_min = (int32_t)(h1 * 60 + m1);
	*until_min = (int32_t)(h2 * 60 + m2);
	return true;
}

const char *pipeline_config_check(const struct pipeline_config *cfg)
{
	int32_t qf, qu;

	if (!cfg->site[0] || !cfg->gateway[0] || !cfg->zone[0])
		return "site, gateway id and zone must not be empty";
	if (!pipeline_quiet_hours(cfg->quiet_hours, &qf, &qu))
		return "[campaigns] quiet_hours must be HH:MM-HH:MM";
	if (cfg->site_enabled && (uint64_t)cfg->site_summary_ms * 2u >
					 (uint64_t)cfg->site_peer_timeout_s * 1000u)
		return "[site] summary_ms must be at most half of peer_timeout_s";
	if (!(cfg->rssi_alpha_up > 0.0f && cfg->rssi_alpha_up <= 1.0f) ||
	    !(cfg->rssi_alpha_down > 0.0f && cfg->rssi_alpha_down <= 1.0f))
		return "RSSI filter alphas must be in (0, 1]";
	if (!(cfg->path_loss_exponent >= 1.0f && cfg->path_loss_exponent <= 6.0f))
		return "path loss exponent must be in [1, 6]";
	if (cfg->enter_confirmations < 1 || cfg->enter_confirmations > PIPELINE_CONFIRM_MAX)
		return "enter confirmations must be 1..16";
	if (cfg->enter_window_s < 1)
		return "enter window must be at least 1 s";
	if (cfg->exit_rssi > cfg->enter_rssi)
		return "exit RSSI must not be above the enter RSSI (hysteresis)";
	if (cfg->absence_timeout_s < 1)
		return "absence timeout must be at least 1 s";
	if (cfg->n_dwell_marks > PIPELINE_DWELL_MARKS_MAX)
		return "too many dwell marks";
	for (unsigned i = 1; i < cfg->n_dwell_marks; i++)
		if (cfg->dwell_marks_s[i] <= cfg->dwell_marks_s[i - 1])
			return "dwell marks must be strictly ascending";
	if (cfg->max_tracked < 1 || cfg->max_tracked > (1u << 24))
		return "max tracked devices must be 1..16777216";
	if (cfg->footfall_period_s < 60)
		return "footfall period must be at least 60 s";
	if (cfg->footfall_min_count < 1)
		return "footfall minimum count must be at least 1";
	if (cfg->eid_tolerance > PIPELINE_EID_TOLERANCE_MAX)
		return "EID clock tolerance must be 0..8 periods";
	if (cfg->irk_cache_size < 4 || cfg->irk_cache_size > (1u << 24))
		return "IRK cache size must be 4..16777216";
	if (cfg->irk_threads > IRK_ASYNC_THREADS_MAX)
		return "IRK threads must be 0..16";
	if (cfg->n_store_namespaces > PIPELINE_STORE_NS_MAX)
		return "too many store beacon namespaces";
	if (cfg->max_store_beacons > 65536 || cfg->max_campaign_state < 16 ||
	    cfg->max_campaign_state > (1u << 24))
		return "store beacon / campaign state limits out of range";
	return NULL;
}
