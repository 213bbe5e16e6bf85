/* store_schema.h - the list of schema migrations (see store_schema.c). */
#ifndef BGW_STORE_SCHEMA_H
#define BGW_STORE_SCHEMA_H

#include "store.h"

extern const char *const store_migrations[STORE_SCHEMA_VERSION];

#endif
