#include "routes.h"

#include "handlers.h"

/* The REST API under /api/v1. openapi.yaml describes the same table. Reads
 * marked true are served from cache.c until the next write. */
const route api_routes[] = {
    {"POST", "/auth/token", h_auth_token, AUTH_NONE, false},
    {"POST", "/auth/refresh", h_auth_refresh, AUTH_ADMIN, false},
    {"GET", "/me", h_me, AUTH_ADMIN, false},

    {"GET", "/admins", h_admins_list, AUTH_ADMIN, false},
    {"POST", "/admins", h_admins_create, AUTH_ADMIN, false},
    {"GET", "/admins/{username}", h_admins_get, AUTH_ADMIN, false},
    {"PATCH", "/admins/{username}", h_admins_update, AUTH_ADMIN, false},
    {"DELETE", "/admins/{username}", h_admins_delete, AUTH_ADMIN, false},

    {"GET", "/api-keys", h_apikeys_list, AUTH_ADMIN, false},
    {"POST", "/api-keys", h_apikeys_create, AUTH_ADMIN, false},
    {"DELETE", "/api-keys/{id}", h_apikeys_delete, AUTH_ADMIN, false},

    {"GET", "/domains", h_domains_list, AUTH_ADMIN, true},
    {"POST", "/domains", h_domains_create, AUTH_ADMIN, false},
    {"GET", "/domains/{domain}", h_domains_get, AUTH_ADMIN, true},
    {"PATCH", "/domains/{domain}", h_domains_update, AUTH_ADMIN, false},
    {"DELETE", "/domains/{domain}", h_domains_delete, AUTH_ADMIN, false},

    {"GET", "/domains/{domain}/users", h_users_list, AUTH_ADMIN, true},
    {"POST", "/domains/{domain}/users", h_users_create, AUTH_ADMIN, false},
    {"GET", "/domains/{domain}/users/{local}", h_users_get, AUTH_ADMIN, true},
    {"PATCH", "/domains/{domain}/users/{local}", h_users_update, AUTH_ADMIN, false},
    {"DELETE", "/domains/{domain}/users/{local}", h_users_delete, AUTH_ADMIN, false},
    {"POST", "/domains/{domain}/users/{local}/password", h_users_password, AUTH_NONE, false},
    {"POST", "/domains/{domain}/users/{local}/password/reset", h_users_password_reset, AUTH_NONE,
     false},
    {"GET", "/domains/{domain}/users/{local}/app-passwords", h_apppw_list, AUTH_ADMIN, true},
    {"POST", "/domains/{domain}/users/{local}/app-passwords", h_apppw_create, AUTH_NONE, false},
    {"DELETE", "/domains/{domain}/users/{local}/app-passwords/{id}", h_apppw_delete, AUTH_ADMIN,
     false},

    {"GET", "/domains/{domain}/aliases", h_aliases_list, AUTH_ADMIN, true},
    {"POST", "/domains/{domain}/aliases", h_aliases_create, AUTH_ADMIN, false},
    {"GET", "/domains/{domain}/aliases/{local}", h_aliases_get, AUTH_ADMIN, true},
    {"PATCH", "/domains/{domain}/aliases/{local}", h_aliases_update, AUTH_ADMIN, false},
    {"DELETE", "/domains/{domain}/aliases/{local}", h_aliases_delete, AUTH_ADMIN, false},

    {"GET", "/domains/{domain}/dkim-keys", h_dkim_list, AUTH_ADMIN, true},
    {"POST", "/domains/{domain}/dkim-keys", h_dkim_create, AUTH_ADMIN, false},
    {"POST", "/domains/{domain}/dkim-keys/{selector}/rotate", h_dkim_rotate, AUTH_ADMIN, false},
    {"DELETE", "/domains/{domain}/dkim-keys/{selector}", h_dkim_delete, AUTH_ADMIN, false},

    {"GET", "/domains/{domain}/dns", h_dns_get, AUTH_ADMIN, true},
};
const size_t api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);

const route root_routes[] = {
    {"GET", "/healthz", h_healthz, AUTH_NONE, false},
    {"GET", "/readyz", h_readyz, AUTH_NONE, false},
};
const size_t root_routes_count = sizeof(root_routes) / sizeof(root_routes[0]);

/* Workers only: authenticated by the worker secret inside the handler. */
const route internal_routes[] = {
    {"GET", "/directory", h_internal_directory, AUTH_NONE, false},
};
const size_t internal_routes_count = sizeof(internal_routes) / sizeof(internal_routes[0]);
