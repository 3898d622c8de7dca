/* internal.h: what api/ files share and nothing outside api/ needs. */
#ifndef SOV_API_INTERNAL_H
#define SOV_API_INTERNAL_H

#include "sov/api.h"

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

#endif
