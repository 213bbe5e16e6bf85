/*
 * broker_client.c - a libmosquitto client configured from [mqtt].
 *
 * The link makes a fresh client for every connection attempt (see
 * broker_link.c): everything a client needs before its CONNECT is set here,
 * in one place, so that every attempt is set up the same way.
 */
#include "broker_client.h"

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delivery_config.h"
#include "log.h"
#include "status.h"

/* The "schema" user property of every message: subscribers can tell a
 * future layout from this one. */
#define SCHEMA_VERSION "1"

static int check_readable(const char *what, const char *path, char *err, size_t errlen)
{
	if (path[0] && access(path, R_OK) != 0) {
		snprintf(err, errlen, "[mqtt] %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	return 0;
}

int broker_client_check_files(const struct delivery_config *cfg, char *err, size_t errlen)
{
	if (check_readable("cafile", cfg->cafile, err, errlen) ||
	    check_readable("certfile", cfg->certfile, err, errlen) ||
	    check_readable("keyfile", cfg->keyfile, err, errlen))
		return -1;
	return 0;
}

int broker_client_read_password(const struct delivery_config *cfg, char *out, size_t n,
				char *err, size_t errlen)
{
	FILE *f;
	struct stat sb;
	size_t len;

	out[0] = '\0';
	if (!cfg->password_file[0])
		return 0;
	f = fopen(cfg->password_file, "re");
	if (!f) {
		snprintf(err, errlen, "[mqtt] password_file %s: %s", cfg->password_file,
			 strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 0004))
		log_warn("mqtt: password_file %s is readable by everyone", cfg->password_file);
	if (!fgets(out, (int)n, f))
		out[0] = '\0';
	fclose(f);
	len = strcspn(out, "\r\n");
	if (out[len] == '\0' && len == n - 1) {
		snprintf(err, errlen, "[mqtt] password_file %s: password too long",
			 cfg->password_file);
		return -1;
	}
	out[len] = '\0';
	if (!len) {
		snprintf(err, errlen, "[mqtt] password_file %s is empty", cfg->password_file);
		return -1;
	}
	return 0;
}

mosquitto_property *broker_client_message_props(int protocol, uint32_t expiry_s)
{
	mosquitto_property *props = NULL;

	if (protocol != MQTT_PROTOCOL_V5)
		return NULL;
	if (expiry_s)
		mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, expiry_s);
	mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, "application/json");
	mosquitto_property_add_byte(&props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
	mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "schema",
					   SCHEMA_VERSION);
	return props;
}

static int configure(struct mosquitto *m, const struct delivery_config *cfg, int protocol,
		     const char *password, const char *will_topic)
{
	mosquitto_property *wprops;
	char *will;
	int rc;

	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, protocol);
	mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, cfg->max_inflight);
	mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	if (cfg->username[0]) {
		rc = mosquitto_username_pw_set(m, cfg->username, password[0] ? password : NULL);
		if (rc)
			return rc;
	}
	if (delivery_config_tls_enabled(cfg)) {
		rc = mosquitto_tls_set(m, cfg->cafile[0] ? cfg->cafile : NULL,
				       cfg->capath[0] ? cfg->capath : NULL,
				       cfg->certfile[0] ? cfg->certfile : NULL,
				       cfg->keyfile[0] ? cfg->keyfile : NULL, NULL);
		if (rc)
			return rc;
		/* Verify the broker's certificate chain and host name. */
		rc = mosquitto_tls_opts_set(m, 1, NULL, NULL);
		if (rc)
			return rc;
		mosquitto_tls_insecure_set(m, false);
	}
	/* Last will: the broker marks us offline if the connection dies. */
	will = status_json(cfg, false, "connection lost", 0, NULL);
	if (!will)
		return MOSQ_ERR_NOMEM;
	wprops = broker_client_message_props(protocol, 0);
	rc = mosquitto_will_set_v5(m, will_topic, (int)strlen(will), will, 1, true, wprops);
	free(will);
	if (rc)
		mosquitto_property_free_all(&wprops);
	return rc;
}

struct mosquitto *broker_client_new(const struct delivery_config *cfg, const char *client_id,
				    int protocol, const char *password, const char *will_topic,
				    void *obj, int *rc)
{
	struct mosquitto *m = mosquitto_new(client_id, false, obj);

	if (!m) {
		*rc = MOSQ_ERR_NOMEM;
		return NULL;
	}
	*rc = configure(m, cfg, protocol, password, will_topic);
	if (*rc) {
		mosquitto_destroy(m);
		return NULL;
	}
	return m;
}
