#include "routes.h"

#include "handlers.h"

/* The REST API under /api/v1. openapi.yaml describes the same table. */
const route api_routes[] = {
    {"POST", "/auth/token", h_auth_token, AUTH_NONE},
    {"POST", "/auth/refresh", h_auth_refresh, AUTH_ADMIN},
    {"GET", "/me", h_me, AUTH_ADMIN},

    {"GET", "/admins", h_admins_list, AUTH_ADMIN},
    {"POST", "/admins", h_admins_create, AUTH_ADMIN},
    {"GET", "/admins/{}", h_admins_get, AUTH_ADMIN},
    {"PATCH", "/admins/{}", h_admins_update, AUTH_ADMIN},
    {"DELETE", "/admins/{}", h_admins_delete, AUTH_ADMIN},

    {"GET", "/api-keys", h_apikeys_list, AUTH_ADMIN},
    {"POST", "/api-keys", h_apikeys_create, AUTH_ADMIN},
    {"DELETE", "/api-keys/{}", h_apikeys_delete, AUTH_ADMIN},

    {"GET", "/domains", h_domains_list, AUTH_ADMIN},
    {"POST", "/domains", h_domains_create, AUTH_ADMIN},
    {"GET", "/domains/{}", h_domains_get, AUTH_ADMIN},
    {"PATCH", "/domains/{}", h_domains_update, AUTH_ADMIN},
    {"DELETE", "/domains/{}", h_domains_delete, AUTH_ADMIN},

    {"GET", "/domains/{}/users", h_users_list, AUTH_ADMIN},
    {"POST", "/domains/{}/users", h_users_create, AUTH_ADMIN},
    {"GET", "/domains/{}/users/{}", h_users_get, AUTH_ADMIN},
    {"PATCH", "/domains/{}/users/{}", h_users_update, AUTH_ADMIN},
    {"DELETE", "/domains/{}/users/{}", h_users_delete, AUTH_ADMIN},
    {"POST", "/domains/{}/users/{}/password", h_users_password, AUTH_OPTIONAL},
    {"POST", "/domains/{}/users/{}/password/reset", h_users_password_reset, AUTH_OPTIONAL},
    {"GET", "/domains/{}/users/{}/app-passwords", h_apppw_list, AUTH_ADMIN},
    {"POST", "/domains/{}/users/{}/app-passwords", h_apppw_create, AUTH_OPTIONAL},
    {"DELETE", "/domains/{}/users/{}/app-passwords/{}", h_apppw_delete, AUTH_ADMIN},

    {"GET", "/domains/{}/aliases", h_aliases_list, AUTH_ADMIN},
    {"POST", "/domains/{}/aliases", h_aliases_create, AUTH_ADMIN},
    {"GET", "/domains/{}/aliases/{}", h_aliases_get, AUTH_ADMIN},
    {"PATCH", "/domains/{}/aliases/{}", h_aliases_update, AUTH_ADMIN},
    {"DELETE", "/domains/{}/aliases/{}", h_aliases_delete, AUTH_ADMIN},

    {"GET", "/domains/{}/dkim-keys", h_dkim_list, AUTH_ADMIN},
    {"POST", "/domains/{}/dkim-keys", h_dkim_create, AUTH_ADMIN},
    {"POST", "/domains/{}/dkim-keys/{}/rotate", h_dkim_rotate, AUTH_ADMIN},
    {"DELETE", "/domains/{}/dkim-keys/{}", h_dkim_delete, AUTH_ADMIN},

    {"GET", "/domains/{}/dns", h_dns_get, AUTH_ADMIN},
};
const size_t api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);

const route root_routes[] = {
    {"GET", "/healthz", h_healthz, AUTH_NONE},
    {"GET", "/readyz", h_readyz, AUTH_NONE},
};
const size_t root_routes_count = sizeof(root_routes) / sizeof(root_routes[0]);

/* Workers only: authenticated by the worker secret inside the handler. */
const route internal_routes[] = {
    {"GET", "/directory", h_internal_directory, AUTH_NONE},
};
const size_t internal_routes_count = sizeof(internal_routes) / sizeof(internal_routes[0]);
