/* internal.h: what api/ files share and nothing outside api/ needs. */
#ifndef SOV_API_INTERNAL_H
#define SOV_API_INTERNAL_H

#include "sov/api.h"

#define SOV_MAX_PATH_PARAMS 8

/* Route matching (router.c), for server.c and the router's unit test. Returns the route, or
 * NULL and sets *ret_status to 404 (no such path) or 405 (path exists; allow lists its
 * methods, comma-separated). */
typedef struct sov_router sov_router;
int sov_router_new(const sov_route *routes, size_t n, sov_router **ret, sov_error *err);
void sov_router_free(sov_router *r);
typedef struct sov_route_match {
    size_t nparams;
    const char *names[SOV_MAX_PATH_PARAMS];
    size_t name_lens[SOV_MAX_PATH_PARAMS];
    char *values[SOV_MAX_PATH_PARAMS];  /* point into the buffer given to match */
} sov_route_match;
const sov_route *sov_router_match(const sov_router *r, const char *method, char *path_copy,
                                  sov_route_match *m, unsigned *ret_status, char *allow,
                                  size_t allow_size);
/* Index of a route in the table the router was made from. */
size_t sov_router_index(const sov_router *r, const sov_route *route);

/* Authenticate the caller and apply the route's policy: 0 to go on, -1 when a problem reply
 * (401, 404 for another tenant, 403) was queued and the denial audited. */
int sov_api_authorize(sov_request *req);

/* After the handler: a mutating request that no service recorded (it failed or changed
 * nothing) still gets its audit entry, with the status it was answered. */
void sov_api_audit_after(sov_request *req);

/* The path parameters matched, and a way to put the id of a resource named by name in place
 * of parameter i (access.c resolves names). */
const sov_route_match *sov_request_match(sov_request *req);
int sov_request_set_param(sov_request *req, size_t i, const char *id);

/* The status the request has been answered with so far (0: none yet). */
unsigned sov_request_status(sov_request *req);

/* The web console's files (console_files.c): whether a path is the console's ("/",
 * "/console", "/console/..."), and its answer, whatever the method. */
bool sov_console_path(const char *path);
enum MHD_Result sov_console_reply(sov_request *req);

#endif
