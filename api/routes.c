/* routes.c: every route sovd serves. The router, the OpenAPI test and (with identity) the
 * role matrix all read this table; a route exists nowhere else. */
#include "sov/api.h"
#include "system.h"

const sov_route sov_api_routes[] = {
    { "GET", "/healthz", sov_handle_healthz, SOV_ROUTE_PUBLIC },
    { "GET", "/readyz", sov_handle_readyz, SOV_ROUTE_PUBLIC },
    { "GET", "/metrics", sov_handle_metrics, SOV_ROUTE_PUBLIC },
    { "GET", "/v1/openapi.json", sov_handle_openapi, SOV_ROUTE_PUBLIC },
};

const size_t sov_api_routes_count = SOV_N_ELEMENTS(sov_api_routes);
