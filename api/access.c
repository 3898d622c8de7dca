/* access.c: who is calling, and may they: bearer tokens, the route table's role policy,
 * tenant scoping, and the audit entries of denied and unrecorded requests. */
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "seca.h"
#include "websocket.h"
#include "sov/audit.h"
#include "sov/compute.h"
#include "sov/log.h"
#include "sov/network.h"
#include "sov/storage.h"

static const char *
scope_tenant(sov_request *req)
{
    if (req->route && (req->route->flags & SOV_ROUTE_TENANT))
        return sov_request_param(req, "id");
    if (req->route && (req->route->flags & SOV_ROUTE_SECA))
        return sov_seca_tenant_id(req);
    return NULL;
}

static void
audit_alone(sov_request *req, const char *tenant_id, unsigned status)
{
    sov_error err = SOV_ERROR_INIT;

    /* The tenant column is a uuid: an id that is not one is recorded in resource_id only. */
    if (tenant_id && !sov_uuid_valid(tenant_id))
        tenant_id = NULL;
    if (sov_audit_append_refusal(&req->ctx, tenant_id, "", req->path, status, &err) < 0)
        sov_log_warn("could not audit %s %s (%u): %s", req->method, req->path, status,
                     err.detail[0] ? err.detail : err.msg);
}

static int
deny(sov_request *req, sov_errcode code, const char *msg)
{
    sov_error err = SOV_ERROR_INIT;

    sov_error_set(&err, code, "%s", msg);
    sov_api_reply_problem(req, &err);
    /* Filed under the caller's own tenant (none when anonymous): a probe of another
     * tenant's ids must not show up in that tenant's log with the prober's ids. */
    audit_alone(req, NULL, sov_api_error_status(code));
    return -1;
}

/* Name or id: a path parameter that names a resource with a name takes either, on every
 * method of every route under these paths. The resource's own service turns a name into the
 * id (scoped as its names are unique), before scoping and roles, so handlers, scoping and
 * the audit all see ids. A name that resolves to nothing is left as it is: the handler then
 * answers 404 naming it, as for an unknown id. */
typedef int (*resolve_fn)(sov_request *req, const char *name, char *ret, sov_error *err);

static int
resolve_tenant(sov_request *req, const char *name, char *ret, sov_error *err)
{
    return sov_tenant_resolve(&req->ctx, name, ret, err);
}

static int
resolve_host(sov_request *req, const char *name, char *ret, sov_error *err)
{
    return sov_host_resolve(&req->ctx, name, ret, err);
}

static int
resolve_flavor(sov_request *req, const char *name, char *ret, sov_error *err)
{
    return sov_flavor_resolve(&req->ctx, name, ret, err);
}

static int
resolve_image(sov_request *req, const char *name, char *ret, sov_error *err)
{
    return sov_image_resolve(&req->ctx, sov_request_query(req, "tenant_id"),
                             sov_request_query(req, "workspace"), name, ret, err);
}

static int
resolve_instance(sov_request *req, const char *name, char *ret, sov_error *err)
{
    return sov_instance_resolve(&req->ctx, sov_request_query(req, "tenant_id"),
                                sov_request_query(req, "workspace"), name, ret, err);
}

static int
resolve_snapshot(sov_request *req, const char *name, char *ret, sov_error *err)
{
    return sov_snapshot_resolve(&req->ctx, sov_request_query(req, "tenant_id"),
                                sov_request_query(req, "workspace"), name, ret, err);
}

static int
resolve_volume(sov_request *req, const char *name, char *ret, sov_error *err)
{
    return sov_volume_resolve(&req->ctx, sov_request_query(req, "tenant_id"),
                              sov_request_query(req, "workspace"), name, ret, err);
}

static int
resolve_network(sov_request *req, const char *name, char *ret, sov_error *err)
{
    return sov_network_resolve(&req->ctx, sov_request_query(req, "tenant_id"),
                               sov_request_query(req, "workspace"), name, ret, err);
}

static int
resolve_subnet(sov_request *req, const char *name, char *ret, sov_error *err)
{
    return sov_subnet_resolve(&req->ctx, sov_request_query(req, "tenant_id"),
                              sov_request_query(req, "workspace"), name, ret, err);
}

static int
resolve_port(sov_request *req, const char *name, char *ret, sov_error *err)
{
    return sov_port_resolve(&req->ctx, sov_request_query(req, "tenant_id"),
                            sov_request_query(req, "workspace"), name, ret, err);
}

static int
resolve_security_group(sov_request *req, const char *name, char *ret, sov_error *err)
{
    return sov_security_group_resolve(&req->ctx, sov_request_query(req, "tenant_id"),
                                      sov_request_query(req, "workspace"), name, ret, err);
}

static int
resolve_router(sov_request *req, const char *name, char *ret, sov_error *err)
{
    return sov_router_resolve(&req->ctx, sov_request_query(req, "tenant_id"),
                              sov_request_query(req, "workspace"), name, ret, err);
}

static int
resolve_public_ip(sov_request *req, const char *name, char *ret, sov_error *err)
{
    return sov_public_ip_resolve(&req->ctx, sov_request_query(req, "tenant_id"),
                                 sov_request_query(req, "workspace"), name, ret, err);
}

static const struct {
    const char *collection;     /* the path segment before the parameter */
    resolve_fn fn;
} named[] = {
    { "tenants", resolve_tenant },   { "hosts", resolve_host },
    { "flavors", resolve_flavor },   { "images", resolve_image },
    { "instances", resolve_instance },
    { "snapshots", resolve_snapshot },
    { "volumes", resolve_volume },
    { "networks", resolve_network },
    { "subnets", resolve_subnet },
    { "ports", resolve_port },
    { "security-groups", resolve_security_group },
    { "routers", resolve_router },
    { "public-ips", resolve_public_ip },
};

/* The resolver for parameter `param` of pattern ("/v1/hosts/{id}": "hosts"), or NULL. */
static resolve_fn
resolver_of(const char *pattern, const char *param, size_t len)
{
    char want[72];
    const char *p, *seg;

    if (len + 3 > sizeof(want))
        return NULL;
    snprintf(want, sizeof(want), "/{%.*s}", (int) len, param);
    p = strstr(pattern, want);
    if (!p || p == pattern)
        return NULL;
    for (seg = p - 1; seg > pattern && *seg != '/'; seg--)
        ;
    seg++;
    for (size_t i = 0; i < SOV_N_ELEMENTS(named); i++)
        if (strlen(named[i].collection) == (size_t) (p - seg) &&
            strncmp(seg, named[i].collection, (size_t) (p - seg)) == 0)
            return named[i].fn;
    return NULL;
}

static int
resolve_names(sov_request *req)
{
    const sov_route_match *m = sov_request_match(req);

    for (size_t i = 0; i < m->nparams; i++) {
        resolve_fn fn = resolver_of(req->route->pattern, m->names[i], m->name_lens[i]);
        char id[SOV_UUID_LEN + 1];
        sov_error err = SOV_ERROR_INIT;

        if (!fn || !m->values[i] || sov_uuid_valid(m->values[i]))
            continue;
        if (fn(req, m->values[i], id, &err) == 0) {
            sov_request_set_param(req, i, id);
        } else if (err.code != SOV_E_NOT_FOUND && err.code != SOV_E_INVALID) {
            sov_api_reply_problem(req, &err);      /* PostgreSQL away: 503 */
            return -1;
        }
    }
    return 0;
}

/* SECA's {tenant} is a tenant's name (never an id): its id is kept beside it for the
 * handlers (sov_seca_tenant_id). An unknown name, or another tenant's for a caller who is not
 * an operator, is 404: existence does not leak. The other path parameters are names the
 * handlers look up in the tenant's workspace, so nothing else is resolved here. */
static int
seca_scope(sov_request *req)
{
    const char *name = sov_request_param(req, "tenant");
    sov_error err = SOV_ERROR_INIT;
    char id[SOV_UUID_LEN + 1];
    char msg[160];

    if (!name)
        return 0;
    if (!sov_uuid_valid(name) && strlen(name) <= SOV_NAME_MAX &&
        sov_tenant_resolve(&req->ctx, name, id, &err) == 0) {
        snprintf(sov_request_seca_tenant_id(req), SOV_UUID_LEN + 1, "%s", id);
        return 0;
    }
    if (err.code != SOV_OK && err.code != SOV_E_NOT_FOUND && err.code != SOV_E_INVALID) {
        sov_api_reply_problem(req, &err);       /* PostgreSQL away: 503 */
        return -1;
    }
    snprintf(msg, sizeof(msg), "tenant '%.64s' does not exist", name);
    return deny(req, SOV_E_NOT_FOUND, msg);
}

int
sov_api_authorize(sov_request *req)
{
    const char *h = sov_request_header(req, "Authorization");
    const sov_route *route = req->route;
    sov_error err = SOV_ERROR_INIT;
    const char *tenant;
    char msg[160];
    char bearer[256 + 8];

    /* A browser's WebSocket carries its token as a subprotocol, never echoed back. */
    if (!h && (route->flags & SOV_ROUTE_UPGRADE) &&
        sov_ws_bearer(sov_request_header(req, "Sec-WebSocket-Protocol"), bearer + 7,
                      sizeof(bearer) - 7)) {
        memcpy(bearer, "Bearer ", 7);
        h = bearer;
    }
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return deny(req, SOV_E_UNAUTHENTICATED,
                    "this route needs an API token: Authorization: Bearer sov_...");
    h += 7;
    while (*h == ' ')
        h++;
    if (sov_auth_check(req->app->auth, h, &req->who, &err) < 0) {
        if (err.code == SOV_E_UNAUTHENTICATED)
            return deny(req, SOV_E_UNAUTHENTICATED, err.msg);
        sov_api_reply_problem(req, &err);       /* PostgreSQL away: 503, nothing to audit */
        return -1;
    }
    req->ctx.who = &req->who;
    if ((route->flags & SOV_ROUTE_SECA) ? seca_scope(req) < 0 : resolve_names(req) < 0)
        return -1;

    /* Another tenant's resources do not exist for the caller: 404 before any role talk. */
    tenant = scope_tenant(req);
    if (tenant && !sov_ctx_sees_tenant(&req->ctx, tenant)) {
        snprintf(msg, sizeof(msg), "tenant '%.64s' does not exist", tenant);
        return deny(req, SOV_E_NOT_FOUND, msg);
    }
    if (!(route->roles & req->who.role)) {
        snprintf(msg, sizeof(msg), "role '%s' may not %s", sov_role_name(req->who.role),
                 route->action);
        return deny(req, SOV_E_FORBIDDEN, msg);
    }
    return 0;
}

void
sov_api_audit_after(sov_request *req)
{
    if (!req->route || (req->route->flags & SOV_ROUTE_PUBLIC) || req->ctx.audited)
        return;
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
        return;
    audit_alone(req, scope_tenant(req), sov_request_status(req));
}
