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
/* SECA routes keep {tenant} as the name given; access.c writes its id here (SOV_UUID_LEN + 1
 * bytes, "" until resolved), for sov_seca_tenant_id(). */
char *sov_request_seca_tenant_id(sov_request *req);

/* The status the request has been answered with so far (0: none yet). */
unsigned sov_request_status(sov_request *req);

/* Query parameters against the route's list (query.c): 0 to go on, -1 when a 400 naming the
 * unknown or repeated one was queued. */
int sov_api_check_query(sov_request *req);

/* Connections that left HTTP (upgrade.c). A SOV_ROUTE_UPGRADE handler answers with
 * sov_api_reply_upgrade() (its headers added first with sov_request_add_header): once the
 * 101 is out, run(u, state) runs on a thread of its own with the connection's socket; when it
 * returns the connection closes and state_free(state) is called (also when the upgrade never
 * happens). The wake fd becomes readable when sovd shuts down: run then says goodbye (1001)
 * and returns; sov_server_shutdown waits for every session. */
typedef struct sov_upgraded sov_upgraded;
typedef struct sov_upgrades sov_upgrades;
typedef void (*sov_upgrade_run)(sov_upgraded *u, void *state);
enum MHD_Result sov_api_reply_upgrade(sov_request *req, sov_upgrade_run run, void *state,
                                      void (*state_free)(void *));
int sov_upgraded_fd(sov_upgraded *u);
int sov_upgraded_wake_fd(sov_upgraded *u);
/* Bytes the client sent after its request, before the 101 (read them first). */
const char *sov_upgraded_extra(sov_upgraded *u, size_t *len);
/* The server's side: its sessions, and shutdown (which returns how many were open). */
int sov_upgrades_new(sov_upgrades **ret);
void sov_upgrades_free(sov_upgrades *u);
unsigned sov_upgrades_shutdown(sov_upgrades *u);
/* Sessions running now. */
unsigned sov_upgrades_count(sov_upgrades *u);
sov_upgrades *sov_server_upgrades(sov_server *s);
/* Keep state with the request until it ends, then state_free(state). */
void sov_request_set_later(sov_request *req, void *state, void (*state_free)(void *));

/* The web console's files (console_files.c): whether a path is the console's ("/",
 * "/console", "/console/..."), and its answer, whatever the method. */
bool sov_console_path(const char *path);
enum MHD_Result sov_console_reply(sov_request *req);

#endif
