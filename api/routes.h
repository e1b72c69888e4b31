#ifndef OWNMAIL_API_ROUTES_H
#define OWNMAIL_API_ROUTES_H

#include "http.h"

extern const route api_routes[];
extern const size_t api_routes_count;
extern const route root_routes[];
extern const size_t root_routes_count;
extern const route internal_routes[];
extern const size_t internal_routes_count;

#endif
