/* config: the api's settings from the shared configuration file
 * (docs/configuration.md lists every key with its default). */
#ifndef OWNMAIL_API_CONFIG_H
#define OWNMAIL_API_CONFIG_H

#include "app.h"

#include <stddef.h>

/* Loads path (or only defaults when path is NULL). 0, or -1 with a message. */
int config_load(const char *path, app_config *cfg, char *err, size_t errlen);

#endif
