/*
 * fuzz_config.c - libFuzzer harness for the daemon's configuration parser
 * (beacongw.conf through inih and the key table) and the --source SPEC
 * parser. Any input must give a clean result or a one-line error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	struct source_spec spec;
	char err[CONFIG_ERR_MAX];
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_load_string(&cfg, text, "fuzz", err, sizeof(err)) == 0) {
		if (source_spec_parse(cfg.source.spec, &spec, err, sizeof(err)) < 0 &&
		    !strchr(err, ':'))
			abort();
	} else if (!*err || strchr(err, '\n')) {
		abort();   /* errors are one non-empty line */
	}
	/* The whole input as a SPEC too (first line only, like a CLI argument). */
	text[strcspn(text, "\n")] = '\0';
	if (source_spec_parse(text, &spec, err, sizeof(err)) == 0 && spec.kind == SOURCE_H4_TCP &&
	    spec.port == 0)
		abort();
	free(text);
	return 0;
}
