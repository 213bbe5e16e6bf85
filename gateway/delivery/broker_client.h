/*
 * broker_client.h - one libmosquitto client set up from [mqtt]: protocol,
 * credentials, TLS with verification, the last will; and the properties
 * every message carries. The connection state machine is broker_link.c.
 */
#ifndef BGW_BROKER_CLIENT_H
#define BGW_BROKER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct delivery_config;
struct mosquitto;
typedef struct mqtt5__property mosquitto_property;

/* The TLS files are readable by this process (a clear message at start
 * rather than a handshake failure later); -1 with err filled if not. */
int broker_client_check_files(const struct delivery_config *cfg, char *err, size_t errlen);

/* The first line of [mqtt] password_file into out ("" without one); -1 with
 * err filled when it cannot be read, is empty or too long. */
int broker_client_read_password(const struct delivery_config *cfg, char *out, size_t n,
				char *err, size_t errlen);

/* A new client, obj handed to its callbacks; NULL with *rc set on failure.
 * The caller sets the callbacks. */
struct mosquitto *broker_client_new(const struct delivery_config *cfg, const char *client_id,
				    int protocol, const char *password, const char *will_topic,
				    void *obj, int *rc);

/* v5 properties of a published message (NULL under 3.1.1); the caller frees
 * them with mosquitto_property_free_all(). expiry_s 0: no expiry. */
mosquitto_property *broker_client_message_props(int protocol, uint32_t expiry_s);

#endif
