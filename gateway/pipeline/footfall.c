/* footfall.c - per-period HyperLogLog over SipHash-keyed identifiers. */
#include "footfall.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "pipeline_config.h"
#include "pl_json.h"

#define HLL_P 12
#define HLL_M (1u << HLL_P)

struct footfall {
	/* JSON-escaped at creation (operator-supplied names) */
	char site[2 * PIPELINE_NAME_MAX], gateway[2 * PIPELINE_NAME_MAX],
		zone[2 * PIPELINE_NAME_MAX];
	uint32_t period_s, min_count;
	footfall_emit_fn emit;
	void *ctx;

	EVP_MAC *sip_alg;
	EVP_MAC_CTX *sip;
	OSSL_PARAM sip_params[2];
	size_t sip_size;
	uint8_t key[16];       /* this period's key: memory only, wiped at close */
	bool keyed;

	bool open;
	uint64_t period_start_s;
	uint64_t sightings;
	uint8_t reg[HLL_M];
	uint64_t published, suppressed;
};

static bool fresh_key(struct footfall *f)
{
	size_t got = 0;

	while (got < sizeof(f->key)) {
		ssize_t n = getrandom(f->key + got, sizeof(f->key) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	/* Key the reused SipHash context once per period; each report then
	 * re-initialises it without a key, which keeps this one and costs a
	 * fraction of a full key schedule. */
	return EVP_MAC_init(f->sip, f->key, sizeof(f->key), NULL) == 1;
}

struct footfall *footfall_new(const char *site, const char *gateway, const char *zone,
			      uint32_t period_s, uint32_t min_count, footfall_emit_fn emit,
			      void *ctx)
{
	struct footfall *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	pl_json_escape(f->site, sizeof(f->site), site);
	pl_json_escape(f->gateway, sizeof(f->gateway), gateway);
	pl_json_escape(f->zone, sizeof(f->zone), zone);
	f->period_s = period_s ? period_s : 900;
	f->min_count = min_count;
	f->emit = emit;
	f->ctx = ctx;
	f->sip_size = 8;
	f->sip_params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &f->sip_size);
	f->sip_params[1] = OSSL_PARAM_construct_end();
	f->sip_alg = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	f->sip = f->sip_alg ? EVP_MAC_CTX_new(f->sip_alg) : NULL;
	if (!f->sip || !EVP_MAC_CTX_set_params(f->sip, f->sip_params)) {
		footfall_free(f);
		return NULL;
	}
	return f;
}

void footfall_free(struct footfall *f)
{
	if (!f)
		return;
	OPENSSL_cleanse(f->key, sizeof(f->key));
	EVP_MAC_CTX_free(f->sip);
	EVP_MAC_free(f->sip_alg);
	free(f);
}

double footfall_estimate(const struct footfall *f)
{
	double sum = 0.0, m = HLL_M, alpha = 0.7213 / (1.0 + 1.079 / m), e;
	uint32_t zeros = 0;

	for (uint32_t i = 0; i < HLL_M; i++) {
		sum += ldexp(1.0, -(int)f->reg[i]);
		zeros += f->reg[i] == 0;
	}
	e = alpha * m * m / sum;
	if (e <= 2.5 * m && zeros)
		e = m * log(m / zeros); /* linear counting: small range */
	return e;
}

static void close_period(struct footfall *f)
{
	double est = footfall_estimate(f);
	uint64_t count = (uint64_t)llround(est);

	if (f->sightings && count >= f->min_count && f->emit) {
		char json[768], ts[32];
		time_t t = (time_t)f->period_start_s;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(json, sizeof(json),
			 "{\"schema\":1,\"site\":\"%s\",\"gateway\":\"%s\",\"zone\":\"%s\",\"period_start\":\"%"
			 "s\","
			 "\"period_s\":%u,\"count\":%llu}",
			 f->site, f->gateway, f->zone, ts, f->period_s, (unsigned long long)count);
		f->emit(f->ctx, json);
		f->published++;
	} else if (f->sightings) {
		f->suppressed++;
	}
	memset(f->reg, 0, sizeof(f->reg));
	OPENSSL_cleanse(f->key, sizeof(f->key));
	f->keyed = false;
	f->sightings = 0;
	f->open = false;
}

bool footfall_tick(struct footfall *f, uint64_t now_us)
{
	uint64_t now_s = now_us / 1000000u;

	if (f->open && now_s >= f->period_start_s + f->period_s) {
		close_period(f);
		return true;
	}
	return false;
}

void footfall_flush(struct footfall *f)
{
	if (f->open)
		close_period(f);
}

/* SipHash-2-4 from OpenSSL under the period key (set by fresh_key; a NULL
 * key re-initialises the reused context with it). Allocates nothing. 0 on
 * failure. */
static uint64_t keyed_hash(struct footfall *f, const void *id, size_t len)
{
	uint8_t out[8];
	size_t n = 0;
	uint64_t h = 0;

	if (!EVP_MAC_init(f->sip, NULL, 0, NULL) ||
	    !EVP_MAC_update(f->sip, id, len) || !EVP_MAC_final(f->sip, out, &n, sizeof(out)) ||
	    n != 8)
		return 0;
	for (int i = 7; i >= 0; i--)
		h = h << 8 | out[i];
	return h;
}

uint64_t footfall_hash(struct footfall *f, const void *id, size_t len)
{
	return f->open && f->keyed ? keyed_hash(f, id, len) : 0;
}

void footfall_add(struct footfall *f, const void *id, size_t len, uint64_t now_us)
{
	uint64_t now_s = now_us / 1000000u, h;
	uint32_t idx;
	uint8_t rho;

	footfall_tick(f, now_us);
	if (!f->open) {
		f->period_start_s = now_s - now_s % f->period_s; /* aligned to wall-clock slots */
		f->open = true;
		f->keyed = fresh_key(f);
	}
	if (!f->keyed)
		return; /* no entropy: better no count than a predictable hash */
	h = keyed_hash(f, id, len);
	idx = (uint32_t)(h >> (64 - HLL_P));
	h = (h << HLL_P) | (1ull << (HLL_P - 1)); /* guard bit caps rho at 64 - P + 1 */
	rho = (uint8_t)(__builtin_clzll(h) + 1);
	if (rho > f->reg[idx])
		f->reg[idx] = rho;
	f->sightings++;
}

uint64_t footfall_published(const struct footfall *f)
{
	return f->published;
}

uint64_t footfall_suppressed(const struct footfall *f)
{
	return f->suppressed;
}
