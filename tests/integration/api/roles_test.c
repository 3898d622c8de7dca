/* The route x role matrix: every route of sov_api_routes[] is called by every role, once with
 * ids of the caller's own tenant and once with another tenant's, and must answer what its
 * row in api/routes.c says: 401 without a valid token; 404 for another tenant's id (before
 * any role talk on SOV_ROUTE_TENANT routes; from the service, which hides other tenants'
 * resources, elsewhere); 403 for a role the row leaves out; anything else for the roles it
 * allows. A route without a policy, or with a path parameter this file cannot fill, fails
 * the test: a new route makes it grow. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sov/api.h"
#include "testlib.h"

/* What the policy says a call must get. */
typedef enum want {
    WANT_401,
    WANT_403,
    WANT_404,
    WANT_PASS,      /* the policy lets it through: whatever the handler answers */
} want;

static const struct {
    long status;
    const char *type;
} denials[] = {
    [WANT_401] = { 401, "/problems/unauthenticated" },
    [WANT_403] = { 403, "/problems/forbidden" },
    [WANT_404] = { 404, "/problems/not-found" },
};

/* The sov_role bit of each testlib role index. */
static const unsigned role_bits[TL_ROLES] = {
    [TL_OPERATOR] = SOV_ROLE_OPERATOR, [TL_ADMIN] = SOV_ROLE_ADMIN,
    [TL_MEMBER] = SOV_ROLE_MEMBER,     [TL_READER] = SOV_ROLE_READER,
    [TL_AUDITOR] = SOV_ROLE_AUDITOR,
};

/* Path parameters this file knows how to fill, by the segment before them. */
typedef enum param_kind {
    P_TENANT, P_WORKSPACE, P_USER, P_TOKEN, P_HOST, P_REGION, P_IMAGE, P_FLAVOR, P_INSTANCE,
    P_OPERATION,
    P_REPORT,
    P_VOLUME_TYPE,
    P_VOLUME,
    P_SNAPSHOT,
    P_NETWORK,
    P_SUBNET,
    P_PORT,
    P_SECURITY_GROUP,
    P_RULE,
    P_ROUTER,
    P_PUBLIC_IP,
    P_POOL,
} param_kind;

static const struct {
    const char *after;
    const char *name;
    param_kind kind;
} known_params[] = {
    { "tenants", "id", P_TENANT },
    { "workspaces", "name", P_WORKSPACE },
    { "users", "uid", P_USER },
    { "tokens", "id", P_TOKEN },
    { "hosts", "id", P_HOST },
    { "regions", "code", P_REGION },
    { "images", "id", P_IMAGE },
    { "flavors", "id", P_FLAVOR },
    { "instances", "id", P_INSTANCE },
    { "operations", "id", P_OPERATION },
    { "reports", "id", P_REPORT },
    { "volume-types", "id", P_VOLUME_TYPE },
    { "volumes", "id", P_VOLUME },
    { "snapshots", "id", P_SNAPSHOT },
    { "networks", "id", P_NETWORK },
    { "subnets", "id", P_SUBNET },
    { "ports", "id", P_PORT },
    { "security-groups", "id", P_SECURITY_GROUP },
    { "rules", "rule_id", P_RULE },
    { "routers", "id", P_ROUTER },
    { "public-ips", "id", P_PUBLIC_IP },
    { "public-ip-pools", "id", P_POOL },
};

/* Who calls: a role in its home tenant, and the tenant whose ids are its own. */
typedef struct caller {
    const tl_tenant *home;
    int role;
    const tl_tenant *own;
} caller;

#define MAX_CLEANUPS 4

/* One request of the matrix. */
typedef struct call {
    const sov_route *route;
    char label[384];
    char path[512];
    char cleanup[MAX_CLEANUPS][160];   /* fresh targets, removed by the operator after */
    size_t ncleanup;
} call;

static char *db;
static char *tmp;           /* test-driver host files: one machine is one host */
static tl_sovd sovd;
static tl_tenant op_t, ten_a, ten_b;
static unsigned serial;     /* makes the names of fresh targets unique */
static char host_id[40];    /* the host that routes with a host's {id} read and change */
/* The image of each tenant (op_t, ten_a, ten_b) that routes with an image's {id} read and
 * upload to (never delete): qcow2 waiting for an upload, so the matrix's "{}" is refused. */
static char image_ids[3][40];
/* Each tenant's instance and operation (rows straight into the tables: the matrix is about
 * who may call, and a stopped instance on the test driver is enough to answer), and the
 * flavor everyone reads. */
static char instance_ids[3][40], operation_ids[3][40];
static char flavor_id[40];
/* Each tenant's residency report (a row, queued: nothing builds it, so its document and
 * signature answer 409 to those who may see it). */
static char report_ids[3][40];
/* The volume type everyone reads, and each tenant's volume (a row, available, on the host). */
static char volume_type_id[40], volume_ids[3][40];
/* Each tenant's snapshot (a row, available, of its volume). */
static char snapshot_ids[3][40];
/* Each tenant's network, subnet and port (rows, available), and the OVN Northbound database
 * sovd's ovn_nb names (without it, network routes answer 503). */
static char network_ids[3][40], subnet_ids[3][40], port_ids[3][40];
static tl_ovn ovn;
/* Each tenant's security group with one rule, router (on a network of its own) and public
 * IP (rows, available), and the operator's public IP pool in fr-matrix-1 everyone's rows
 * take their addresses from. */
static char sg_ids[3][40], rule_ids[3][40], router_ids[3][40], public_ip_ids[3][40];
static char pool_id[40];

static const char *
operator_token(void)
{
    return op_t.token[TL_OPERATOR];
}

static void take_id(json_t *j, const char *key, char *out, size_t size);

/* An image of tenant t waiting for an upload, created by the operator. */
static void
make_image(const tl_tenant *t, char *out, size_t size)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"name\":\"target-%u\",\"region\":\"fr-matrix-1\","
             "\"format\":\"qcow2\",\"tenant_id\":\"%s\"}", serial++, t->id);
    take_id(tl_call_ok(&sovd, "POST", "/v1/images", operator_token(), body, 201), "id", out,
            size);
}

static const char *
image_of(const tl_tenant *t)
{
    return image_ids[t == &op_t ? 0 : t == &ten_a ? 1 : 2];
}

static int
index_of(const tl_tenant *t)
{
    return t == &op_t ? 0 : t == &ten_a ? 1 : 2;
}

/* A stopped instance of tenant t, as a row. */
static void
make_instance(const tl_tenant *t, char *out, size_t size)
{
    char sql[1024];
    char *id;

    snprintf(sql, sizeof(sql),
             "INSERT INTO instances (id, tenant_id, workspace, name, flavor_id, image_id, vcpus,"
             " memory_mib, disk_gib, gpus, region, zone, host_id, mac, state) VALUES"
             " (gen_random_uuid(), '%s', 'default', 'target-%u', '%s', '%s', 1, 512, 1, 0,"
             " 'fr-matrix-1', 'a', '%s', '52:54:00:00:00:01', 'stopped') RETURNING id",
             t->id, serial++, flavor_id, image_of(t), host_id);
    id = tl_db_exec(db, sql);
    snprintf(out, size, "%s", id);
    free(id);
}

static void
make_operation(const tl_tenant *t, char *out, size_t size)
{
    char sql[256];
    char *id;

    snprintf(sql, sizeof(sql), "INSERT INTO operations (tenant_id, kind, state) VALUES"
                               " ('%s', 'matrix.fixture', 'succeeded') RETURNING id", t->id);
    id = tl_db_exec(db, sql);
    snprintf(out, size, "%s", id);
    free(id);
}

static void
make_report(const tl_tenant *t, char *out, size_t size)
{
    char sql[256];
    char *id;

    snprintf(sql, sizeof(sql), "INSERT INTO residency_reports (tenant_id, period_from,"
                               " period_to, format) VALUES ('%s', '2025-01-01T00:00:00Z',"
                               " '2025-02-01T00:00:00Z', 'csv') RETURNING id", t->id);
    id = tl_db_exec(db, sql);
    snprintf(out, size, "%s", id);
    free(id);
}

/* An available volume of tenant t, as a row on the host. */
static void
make_volume(const tl_tenant *t, char *out, size_t size)
{
    char sql[1024];
    char *id;

    snprintf(sql, sizeof(sql),
             "INSERT INTO volumes (id, tenant_id, workspace, name, type_id, size_gib, state,"
             " region, zone, host_id, pool, volume) VALUES (gen_random_uuid(), '%s', 'default',"
             " 'target-%u', '%s', 1, 'available', 'fr-matrix-1', 'a', '%s', 'sovereign',"
             " 'sov-vol-matrix') RETURNING id", t->id, serial++, volume_type_id, host_id);
    id = tl_db_exec(db, sql);
    snprintf(out, size, "%s", id);
    free(id);
}

/* An available snapshot of tenant t's volume on the host, as a row. */
static void
make_snapshot(const tl_tenant *t, char *out, size_t size)
{
    char sql[1024];
    char *id;

    snprintf(sql, sizeof(sql),
             "WITH n AS (SELECT gen_random_uuid() AS id) INSERT INTO snapshots (id, tenant_id,"
             " workspace, name, volume_id, size_gib, state, region, zone, host_id, pool, volume)"
             " SELECT n.id, '%s', 'default', 'target-%u', '%s', 1, 'available', 'fr-matrix-1',"
             " 'a', '%s', 'sovereign', 'sov-snap-' || n.id FROM n RETURNING id",
             t->id, serial++, volume_ids[index_of(t)], host_id);
    id = tl_db_exec(db, sql);
    snprintf(out, size, "%s", id);
    free(id);
}

/* An available network of tenant t, as a row (no residency record: the matrix is about who
 * may call). */
static void
make_network(const tl_tenant *t, char *out, size_t size)
{
    char *id = tl_db_value(db, "INSERT INTO networks (id, tenant_id, workspace, name, cidr,"
                           " region, state) VALUES (gen_random_uuid(), '%s', 'default',"
                           " 'target-%u', '10.9.0.0/16', 'fr-matrix-1', 'available')"
                           " RETURNING id", t->id, serial++);

    snprintf(out, size, "%s", id);
    free(id);
}

/* An available subnet of tenant t's network, as a row: a /24 of its own. */
static void
make_subnet(const tl_tenant *t, char *out, size_t size)
{
    unsigned n = serial++;
    char *id = tl_db_value(db, "INSERT INTO subnets (id, tenant_id, workspace, name,"
                           " network_id, cidr, gateway, state) VALUES (gen_random_uuid(), '%s',"
                           " 'default', 'target-%u', '%s', '10.9.%u.0/24', '10.9.%u.1',"
                           " 'available') RETURNING id", t->id, n, network_ids[index_of(t)],
                           n % 250, n % 250);

    snprintf(out, size, "%s", id);
    free(id);
}

/* An available port of tenant t's subnet, as a row: an address and a MAC of its own. */
static void
make_port(const tl_tenant *t, char *out, size_t size)
{
    unsigned n = serial++;
    char *id = tl_db_value(db, "INSERT INTO ports (id, tenant_id, workspace, name, network_id,"
                           " subnet_id, ip, mac, state) SELECT gen_random_uuid(), '%s',"
                           " 'default', 'target-%u', s.network_id, s.id,"
                           " host(s.cidr + 2 + %u)::inet, '02:00:00:00:%02x:%02x', 'available'"
                           " FROM subnets s WHERE s.id = '%s' RETURNING id", t->id, n,
                           n % 250, (n >> 8) & 255, n & 255, subnet_ids[index_of(t)]);

    snprintf(out, size, "%s", id);
    free(id);
}

/* An available security group of tenant t, as a row. */
static void
make_security_group(const tl_tenant *t, char *out, size_t size)
{
    char *id = tl_db_value(db, "INSERT INTO security_groups (id, tenant_id, workspace, name,"
                           " state) VALUES (gen_random_uuid(), '%s', 'default', 'target-%u',"
                           " 'available') RETURNING id", t->id, serial++);

    snprintf(out, size, "%s", id);
    free(id);
}

/* A rule of tenant t's security group, as a row. */
static void
make_rule(const tl_tenant *t, char *out, size_t size)
{
    char *id = tl_db_value(db, "INSERT INTO security_group_rules (id, security_group_id,"
                           " tenant_id, direction, protocol) VALUES (gen_random_uuid(), '%s',"
                           " '%s', 'ingress', 'tcp') RETURNING id", sg_ids[index_of(t)], t->id);

    snprintf(out, size, "%s", id);
    free(id);
}

/* The operator's public IP pool in fr-matrix-1 (a fresh one for a DELETE), as a row. */
static void
make_pool(char *out, size_t size)
{
    char *id = tl_db_value(db, "INSERT INTO public_ip_pools (id, region, name, cidr, gateway,"
                           " first_ip, last_ip) VALUES (gen_random_uuid(), 'fr-matrix-1',"
                           " 'target-%u', '203.0.113.0/24', '203.0.113.1', '203.0.113.10',"
                           " '203.0.113.250') RETURNING id", serial++);

    snprintf(out, size, "%s", id);
    free(id);
}

/* An available router of tenant t on a network of its own (one router per network), as
 * rows. */
static void
make_router(const tl_tenant *t, char *out, size_t size)
{
    char net[40];
    char *id;

    make_network(t, net, sizeof(net));
    id = tl_db_value(db, "INSERT INTO routers (id, tenant_id, workspace, name, network_id,"
                     " region, state) VALUES (gen_random_uuid(), '%s', 'default', 'target-%u',"
                     " '%s', 'fr-matrix-1', 'available') RETURNING id", t->id, serial++, net);
    snprintf(out, size, "%s", id);
    free(id);
}

/* An available public IP of tenant t from the pool, attached to nothing, as a row. */
static void
make_public_ip(const tl_tenant *t, char *out, size_t size)
{
    unsigned n = serial++;
    char *id = tl_db_value(db, "INSERT INTO public_ips (id, tenant_id, workspace, name, region,"
                           " pool_id, address, state) VALUES (gen_random_uuid(), '%s',"
                           " 'default', 'target-%u', 'fr-matrix-1', '%s',"
                           " '203.0.113.10'::inet + %u, 'available') RETURNING id", t->id, n,
                           pool_id, n % 240);

    snprintf(out, size, "%s", id);
    free(id);
}

static void
setup(void)
{
    const tl_tenant *all[] = { &op_t, &ten_a, &ten_b };
    char path[128];

    char nb[700];
    const char *args[] = { nb, NULL };

    db = tl_db_create();
    tmp = tl_tmpdir();
    tl_ovn_start(&ovn, NULL, false);
    snprintf(nb, sizeof(nb), "--ovn-nb=%s", ovn.nb);
    tl_sovd_start(&sovd, db, args);
    tl_operator_tenant(&sovd, &op_t);
    tl_tenant_make(&sovd, operator_token(), "matrix-a", &ten_a);
    tl_tenant_make(&sovd, operator_token(), "matrix-b", &ten_b);
    /* The workspace that routes with {name} read and change (never delete). */
    for (size_t i = 0; i < SOV_N_ELEMENTS(all); i++) {
        snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces", all[i]->id);
        json_decref(tl_call_ok(&sovd, "POST", path, operator_token(), "{\"name\":\"matrix\"}",
                               201));
    }
    /* A zone for hosts (straight into the tables), and a host on libvirt's test driver. */
    free(tl_db_exec(db, "INSERT INTO regions (code, name, country, jurisdiction, datacenter)"
                        " VALUES ('fr-matrix-1', 'Matrix', 'FR', 'EU', 'dc-matrix')"));
    free(tl_db_exec(db, "INSERT INTO zones (region, name) VALUES ('fr-matrix-1', 'a')"));
    take_id(tl_host_add(&sovd, operator_token(),
                        "{\"name\":\"matrix\",\"region\":\"fr-matrix-1\",\"zone\":\"a\","
                        "\"libvirt_uri\":\"test:///default\"}"),
            "id", host_id, sizeof(host_id));
    for (size_t i = 0; i < SOV_N_ELEMENTS(all); i++)
        make_image(all[i], image_ids[i], sizeof(image_ids[i]));
    take_id(tl_call_ok(&sovd, "POST", "/v1/flavors", operator_token(),
                       "{\"name\":\"matrix\",\"vcpus\":1,\"memory_mib\":512,"
                       "\"disk_gib\":1}", 201),
            "id", flavor_id, sizeof(flavor_id));
    for (size_t i = 0; i < SOV_N_ELEMENTS(all); i++) {
        make_instance(all[i], instance_ids[i], sizeof(instance_ids[i]));
        make_operation(all[i], operation_ids[i], sizeof(operation_ids[i]));
        make_report(all[i], report_ids[i], sizeof(report_ids[i]));
    }
    take_id(tl_call_ok(&sovd, "POST", "/v1/volume-types", operator_token(),
                       "{\"name\":\"matrix\"}", 201),
            "id", volume_type_id, sizeof(volume_type_id));
    for (size_t i = 0; i < SOV_N_ELEMENTS(all); i++) {
        make_volume(all[i], volume_ids[i], sizeof(volume_ids[i]));
        make_snapshot(all[i], snapshot_ids[i], sizeof(snapshot_ids[i]));
        make_network(all[i], network_ids[i], sizeof(network_ids[i]));
        make_subnet(all[i], subnet_ids[i], sizeof(subnet_ids[i]));
        make_port(all[i], port_ids[i], sizeof(port_ids[i]));
    }
    make_pool(pool_id, sizeof(pool_id));
    for (size_t i = 0; i < SOV_N_ELEMENTS(all); i++) {
        make_security_group(all[i], sg_ids[i], sizeof(sg_ids[i]));
        make_rule(all[i], rule_ids[i], sizeof(rule_ids[i]));
        make_router(all[i], router_ids[i], sizeof(router_ids[i]));
        make_public_ip(all[i], public_ip_ids[i], sizeof(public_ip_ids[i]));
    }
}

static void
teardown(void)
{
    tl_sovd_discard(&sovd);
    tl_ovn_discard(&ovn);
    tl_db_drop(db);
    free(db);
    db = NULL;
    tl_tmpdir_remove(tmp);
    free(tmp);
    tmp = NULL;
}

/* The kind of path parameter {name} after segment `after`, or -1 if this file has no
 * fixture for it. */
static int
param_kind_of(const char *after, const char *name)
{
    for (size_t i = 0; i < SOV_N_ELEMENTS(known_params); i++)
        if (strcmp(known_params[i].after, after) == 0 && strcmp(known_params[i].name, name) == 0)
            return (int) known_params[i].kind;
    return -1;
}

/* Append "/seg" to path. */
static void
append(char *path, size_t size, const char *seg)
{
    size_t n = strlen(path);

    ck_assert_msg(n + 1 + strlen(seg) < size, "path too long: %s/%s", path, seg);
    snprintf(path + n, size - n, "/%s", seg);
}

typedef void (*param_fn)(const sov_route *r, const char *after, const char *name, bool last,
                         void *arg);

/* Walk the pattern's segments: literal ones are appended to path (when given), and fn sees
 * each parameter with the segment before it and whether it is the last segment (the
 * resource a DELETE removes); fn appends the parameter's value itself. */
static void
each_segment(const sov_route *r, char *path, size_t size, param_fn fn, void *arg)
{
    char prev[64] = "", seg[64];
    const char *p = r->pattern;

    if (path)
        path[0] = '\0';
    while (*p == '/') {
        size_t len = strcspn(p + 1, "/");

        ck_assert_msg(len < sizeof(seg), "%s %s: segment too long", r->method, r->pattern);
        memcpy(seg, p + 1, len);
        seg[len] = '\0';
        p += len + 1;
        if (len > 2 && seg[0] == '{' && seg[len - 1] == '}') {
            seg[len - 1] = '\0';
            fn(r, prev, seg + 1, *p == '\0', arg);
            continue;
        }
        if (path)
            append(path, size, seg);
        snprintf(prev, sizeof(prev), "%s", seg);
    }
}

static void
param_known(const sov_route *r, const char *after, const char *name, bool last, void *arg)
{
    bool *any = arg;

    (void) last;
    *any = true;
    ck_assert_msg(param_kind_of(after, name) >= 0, "add a fixture for {%s} of %s %s in "
                  "roles_test.c", name, r->method, r->pattern);
}

/* Whether the route has path parameters (then it is called with own and other ids); fails
 * on one this file cannot fill. */
static bool
route_has_params(const sov_route *r)
{
    bool any = false;

    each_segment(r, NULL, 0, param_known, &any);
    return any;
}

/* A route's row must state a policy the matrix can check. */
static void
check_policy(const sov_route *r)
{
    bool tenant_path = strncmp(r->pattern, "/v1/tenants/{id}", 16) == 0;

    route_has_params(r);    /* fails on a parameter without a fixture */
    if (r->flags & SOV_ROUTE_PUBLIC)
        return;
    ck_assert_msg(r->roles != 0, "%s %s allows no role: add a policy for it in api/routes.c",
                  r->method, r->pattern);
    ck_assert_msg((r->roles & ~(unsigned) SOV_ROLES_ALL) == 0,
                  "%s %s allows role bits no role has: fix its policy in api/routes.c",
                  r->method, r->pattern);
    ck_assert_msg(r->action && r->action[0],
                  "%s %s has no action: add a policy (and audit name) for it in api/routes.c",
                  r->method, r->pattern);
    ck_assert_msg(tenant_path == ((r->flags & SOV_ROUTE_TENANT) != 0),
                  "%s %s: SOV_ROUTE_TENANT must be set exactly on /v1/tenants/{id}... routes",
                  r->method, r->pattern);
}

/* ---- fresh targets ---- */

static void
take_id(json_t *j, const char *key, char *out, size_t size)
{
    const char *v = json_string_value(json_object_get(j, key));

    ck_assert_msg(v, "created resource has no '%s'", key);
    snprintf(out, size, "%s", v);
    json_decref(j);
}

static void
remember(call *c, const char *path)
{
    ck_assert(c->ncleanup < MAX_CLEANUPS);
    snprintf(c->cleanup[c->ncleanup++], sizeof(c->cleanup[0]), "%s", path);
}

static void
fresh_tenant(call *c, char *out, size_t size)
{
    char body[128], path[128];

    snprintf(body, sizeof(body), "{\"name\":\"throwaway-%u\"}", serial++);
    take_id(tl_call_ok(&sovd, "POST", "/v1/tenants", operator_token(), body, 201), "id", out,
            size);
    snprintf(path, sizeof(path), "/v1/tenants/%s", out);
    remember(c, path);
}

static void
fresh_workspace(call *c, const tl_tenant *t, char *out, size_t size)
{
    char body[128], path[160];

    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces", t->id);
    snprintf(body, sizeof(body), "{\"name\":\"target-%u\"}", serial++);
    take_id(tl_call_ok(&sovd, "POST", path, operator_token(), body, 201), "name", out, size);
    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces/%s", t->id, out);
    remember(c, path);
}

static void
fresh_user(call *c, const tl_tenant *t, char *out, size_t size)
{
    char body[160], path[160];
    unsigned n = serial++;

    snprintf(path, sizeof(path), "/v1/tenants/%s/users", t->id);
    snprintf(body, sizeof(body), "{\"name\":\"target %u\",\"email\":\"target%u@%s.example.eu\","
             "\"role\":\"reader\"}", n, n, t->name);
    take_id(tl_call_ok(&sovd, "POST", path, operator_token(), body, 201), "id", out, size);
    snprintf(path, sizeof(path), "/v1/tenants/%s/users/%s", t->id, out);
    remember(c, path);
}

static void
fresh_host(call *c, char *out, size_t size)
{
    char body[2048], path[128], name[32];
    char *uri;

    snprintf(name, sizeof(name), "target-%u", serial++);
    uri = tl_test_host_uri(tmp, name, 2, 2);
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"fr-matrix-1\","
             "\"zone\":\"a\",\"libvirt_uri\":\"%s\"}", name, uri);
    free(uri);
    take_id(tl_host_add(&sovd, operator_token(), body), "id", out, size);
    snprintf(path, sizeof(path), "/v1/hosts/%s", out);
    remember(c, path);
}

static void
fresh_flavor(call *c, char *out, size_t size)
{
    char body[256], path[128];

    snprintf(body, sizeof(body), "{\"name\":\"throwaway-%u\",\"vcpus\":1,"
             "\"memory_mib\":512,\"disk_gib\":1}", serial++);
    take_id(tl_call_ok(&sovd, "POST", "/v1/flavors", operator_token(), body, 201), "id", out,
            size);
    snprintf(path, sizeof(path), "/v1/flavors/%s", out);
    remember(c, path);
}

static void
fresh_volume_type(call *c, char *out, size_t size)
{
    char body[128], path[128];

    snprintf(body, sizeof(body), "{\"name\":\"throwaway-%u\"}", serial++);
    take_id(tl_call_ok(&sovd, "POST", "/v1/volume-types", operator_token(), body, 201), "id",
            out, size);
    snprintf(path, sizeof(path), "/v1/volume-types/%s", out);
    remember(c, path);
}

static void
fresh_region(call *c, char *out, size_t size)
{
    char body[256], path[128];

    snprintf(body, sizeof(body), "{\"code\":\"throwaway-%u\",\"name\":\"Throwaway\","
             "\"country\":\"FR\",\"datacenter\":\"dc\",\"zones\":[\"a\"]}", serial++);
    take_id(tl_call_ok(&sovd, "POST", "/v1/regions", operator_token(), body, 201), "code", out,
            size);
    snprintf(path, sizeof(path), "/v1/regions/%s", out);
    remember(c, path);
}

static void
fresh_token(call *c, const char *user_id, char *out, size_t size)
{
    char body[128], path[128];

    snprintf(body, sizeof(body), "{\"name\":\"target\",\"user_id\":\"%s\"}", user_id);
    take_id(tl_call_ok(&sovd, "POST", "/v1/tokens", operator_token(), body, 201), "id", out,
            size);
    snprintf(path, sizeof(path), "/v1/tokens/%s", out);
    remember(c, path);
}

/* ---- filling a path ---- */

typedef struct fill {
    call *c;
    const tl_tenant *t;     /* whose ids */
    int owner;              /* whose tokens: a user of t by role index */
    bool pass;              /* the call is expected through the policy */
} fill;

/* Append the value of one parameter. The resource a DELETE removes is always made fresh,
 * so the fixtures survive, except a tenant the caller may not delete: its real id shows the
 * refusal (and a fresh tenant would not be the caller's own). Tokens are fresh too: their
 * ids are not in the fixture, and none may be a token the matrix calls with. */
static void
fill_param(const sov_route *r, const char *after, const char *name, bool last, void *arg)
{
    fill *f = arg;
    bool fresh = last && strcmp(r->method, "DELETE") == 0;
    char v[64];

    switch (param_kind_of(after, name)) {
    case P_TENANT:
        if (fresh && f->pass) {
            fresh_tenant(f->c, v, sizeof(v));
        } else if (f->pass && strcmp(r->method, "DELETE") == 0 &&
                   strcmp(r->pattern, "/v1/tenants/{id}/kek") == 0) {
            /* Crypto-shredding needs a tenant with a key-encryption key: a fresh one, given
             * a KEK row (its bytes never opened: a destroy only erases them). */
            fresh_tenant(f->c, v, sizeof(v));
            free(tl_db_value(db, "INSERT INTO tenant_keks (tenant_id, wrapped, master_key_id,"
                             " region, country) VALUES ('%s', '\\x00', 'matrix',"
                             " 'fr-matrix-1', 'FR') RETURNING tenant_id", v));
        } else {
            snprintf(v, sizeof(v), "%s", f->t->id);
        }
        break;
    case P_WORKSPACE:
        if (fresh)
            fresh_workspace(f->c, f->t, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "matrix");
        break;
    case P_USER:
        if (fresh)
            fresh_user(f->c, f->t, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%s", f->t->user_id[TL_READER]);
        break;
    case P_TOKEN:
        fresh_token(f->c, f->t->user_id[f->owner], v, sizeof(v));
        break;
    case P_HOST:
        /* Hosts belong to no tenant: own and other ids are the same host. */
        if (fresh && f->pass)
            fresh_host(f->c, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%s", host_id);
        break;
    case P_REGION:
        /* Regions belong to no tenant either. */
        if (fresh && f->pass)
            fresh_region(f->c, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "fr-matrix-1");
        break;
    case P_IMAGE:
        /* A fresh image goes with the DELETE itself (202): nothing to remove after. */
        if (fresh && f->pass)
            make_image(f->t, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%.39s", image_of(f->t));
        break;
    case P_FLAVOR:
        if (fresh && f->pass)
            fresh_flavor(f->c, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%s", flavor_id);
        break;
    case P_INSTANCE:
        /* A fresh instance goes with the DELETE itself (202, then deleted by a worker). */
        if (fresh && f->pass)
            make_instance(f->t, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%.39s", instance_ids[index_of(f->t)]);
        break;
    case P_OPERATION:
        snprintf(v, sizeof(v), "%.39s", operation_ids[index_of(f->t)]);
        break;
    case P_REPORT:
        snprintf(v, sizeof(v), "%.39s", report_ids[index_of(f->t)]);
        break;
    case P_VOLUME_TYPE:
        if (fresh && f->pass)
            fresh_volume_type(f->c, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%s", volume_type_id);
        break;
    case P_VOLUME:
        /* A fresh volume goes with the DELETE itself (202, then deleted by a worker). */
        if (fresh && f->pass)
            make_volume(f->t, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%.39s", volume_ids[index_of(f->t)]);
        break;
    case P_SNAPSHOT:
        /* A fresh snapshot goes with the DELETE itself (202, then deleted by a worker). */
        if (fresh && f->pass)
            make_snapshot(f->t, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%.39s", snapshot_ids[index_of(f->t)]);
        break;
    case P_NETWORK:
        /* A fresh (empty) network goes with the DELETE itself (202, then a worker). */
        if (fresh && f->pass)
            make_network(f->t, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%.39s", network_ids[index_of(f->t)]);
        break;
    case P_SUBNET:
        if (fresh && f->pass)
            make_subnet(f->t, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%.39s", subnet_ids[index_of(f->t)]);
        break;
    case P_PORT:
        if (fresh && f->pass)
            make_port(f->t, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%.39s", port_ids[index_of(f->t)]);
        break;
    case P_SECURITY_GROUP:
        if (fresh && f->pass)
            make_security_group(f->t, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%.39s", sg_ids[index_of(f->t)]);
        break;
    case P_RULE:
        /* A rule of the tenant's group: a fresh one for a DELETE. */
        if (fresh && f->pass)
            make_rule(f->t, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%.39s", rule_ids[index_of(f->t)]);
        break;
    case P_ROUTER:
        if (fresh && f->pass)
            make_router(f->t, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%.39s", router_ids[index_of(f->t)]);
        break;
    case P_PUBLIC_IP:
        if (fresh && f->pass)
            make_public_ip(f->t, v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%.39s", public_ip_ids[index_of(f->t)]);
        break;
    case P_POOL:
        /* Pools are the operator's, of no tenant: own and other ids are the same pool. */
        if (fresh && f->pass)
            make_pool(v, sizeof(v));
        else
            snprintf(v, sizeof(v), "%s", pool_id);
        break;
    default:
        ck_abort_msg("add a fixture for {%s} of %s %s in roles_test.c", name, r->method,
                     r->pattern);
    }
    append(f->c->path, sizeof(f->c->path), v);
}

static void
fill_path(call *c, const tl_tenant *t, int owner, bool pass)
{
    fill f = { .c = c, .t = t, .owner = owner, .pass = pass };

    each_segment(c->route, c->path, sizeof(c->path), fill_param, &f);
}

/* ---- one request ---- */

static void
expect_problem(const call *c, const tl_resp *resp, want w)
{
    const char *type = json_string_value(json_object_get(resp->json, "type"));

    ck_assert_msg(resp->status == denials[w].status, "%s: the policy says %ld, got %ld: %s",
                  c->label, denials[w].status, resp->status, resp->body);
    ck_assert_msg(type && strcmp(type, denials[w].type) == 0, "%s: problem type %s, not %s",
                  c->label, type ? type : "(none)", denials[w].type);
    tl_assert_problem(resp, denials[w].status, denials[w].type);
}

/* Send c with token (NULL for none) and check the answer against w; then remove the fresh
 * targets the call left. */
static void
perform(call *c, const char *token, want w)
{
    const char *m = c->route->method;
    bool has_body = strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
    tl_resp resp;

    /* {} passes the edge and fails validation: a 400 shows the policy let the caller in.
     * An upload takes bytes (anything else is 415 at the edge, before who asks is known). */
    if (c->route->flags & SOV_ROUTE_STREAM) {
        char url[700], auth[128];
        const char *headers[] = { auth, "Content-Type: application/octet-stream", NULL };
        tl_req q = { .method = m, .url = url, .headers = token ? headers : headers + 1,
                     .body = "{}", .body_len = 2 };
        snprintf(url, sizeof(url), "%s%s", sovd.base, c->path);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token ? token : "");
        tl_http(&q, &resp);
    } else {
        tl_call(&sovd, m, c->path, token, has_body ? "{}" : NULL, &resp);
    }
    if (w == WANT_PASS)
        ck_assert_msg(resp.status >= 200 && resp.status < 500 && resp.status != 401 &&
                          resp.status != 403 && resp.status != 404,
                      "%s: the policy allows it, got %ld: %s", c->label, resp.status, resp.body);
    else
        expect_problem(c, &resp, w);
    tl_resp_free(&resp);

    for (size_t i = 0; i < c->ncleanup; i++) {
        tl_call(&sovd, "DELETE", c->cleanup[i], operator_token(), NULL, &resp);
        ck_assert_msg(resp.status == 204 || resp.status == 404,
                      "%s: could not remove %s after it: %ld %s", c->label, c->cleanup[i],
                      resp.status, resp.body);
        tl_resp_free(&resp);
    }
}

static void
param_global(const sov_route *r, const char *after, const char *name, bool last, void *arg)
{
    bool *global = arg;
    int kind = param_kind_of(after, name);

    (void) r;
    (void) last;
    if (kind != P_HOST && kind != P_REGION && kind != P_FLAVOR &&
        kind != P_VOLUME_TYPE)
        *global = false;
}

/* Whether r's ids name things of no tenant (hosts, regions): own and other are the same. */
static bool
route_is_global(const sov_route *r)
{
    bool global = true;

    each_segment(r, NULL, 0, param_global, &global);
    return global;
}

/* What the policy row says caller gets on r, with its own ids or another tenant's. */
static want
policy_says(const sov_route *r, const caller *who, bool other)
{
    bool op = who->role == TL_OPERATOR;

    if (route_is_global(r))
        other = false;
    if (other && !op && (r->flags & SOV_ROUTE_TENANT))
        return WANT_404;
    if (!(r->roles & role_bits[who->role]))
        return WANT_403;
    if (other && !op)
        return WANT_404;    /* e.g. another tenant's token: the service never shows it */
    return WANT_PASS;
}

static void
call_as(const sov_route *r, const caller *who, bool other, bool has_params)
{
    const tl_tenant *t = other ? &ten_b : who->own;
    want w = policy_says(r, who, other);
    call c = { .route = r };

    if (has_params)
        snprintf(c.label, sizeof(c.label), "%s %s as %s of tenant '%s' with %s ids (tenant "
                 "'%s')", r->method, r->pattern, tl_role_names[who->role], who->home->name,
                 other ? "other" : "own", t->name);
    else
        snprintf(c.label, sizeof(c.label), "%s %s as %s of tenant '%s'", r->method, r->pattern,
                 tl_role_names[who->role], who->home->name);
    /* Tokens: the caller's own when it belongs to t (only an admin manages others'). */
    fill_path(&c, t, who->home == t ? who->role : TL_READER, w == WANT_PASS);
    perform(&c, who->home->token[who->role], w);
}

static void
call_unauthenticated(const sov_route *r)
{
    static const struct {
        const char *token, *what;
    } tokens[] = {
        { NULL, "without a token" },
        { "sov_this-is-not-a-token", "with a token that is not one" },
    };

    for (size_t i = 0; i < SOV_N_ELEMENTS(tokens); i++) {
        call c = { .route = r };

        snprintf(c.label, sizeof(c.label), "%s %s %s", r->method, r->pattern, tokens[i].what);
        fill_path(&c, &ten_a, TL_READER, false);
        perform(&c, tokens[i].token, WANT_401);
    }
}

static void
call_public(const sov_route *r)
{
    call c = { .route = r };

    snprintf(c.label, sizeof(c.label), "%s %s (public) without a token", r->method, r->pattern);
    fill_path(&c, &ten_a, TL_READER, true);
    perform(&c, NULL, WANT_PASS);
}

/* ---- tests ---- */

START_TEST(every_route_has_a_policy_and_fixtures)
{
    ck_assert_uint_gt(sov_api_routes_count, 0);
    for (size_t i = 0; i < sov_api_routes_count; i++)
        check_policy(&sov_api_routes[i]);
}
END_TEST

START_TEST(every_route_answers_every_role_as_its_policy_says)
{
    const caller callers[] = {
        { &op_t, TL_OPERATOR, &ten_a },
        { &ten_a, TL_ADMIN, &ten_a },
        { &ten_a, TL_MEMBER, &ten_a },
        { &ten_a, TL_READER, &ten_a },
        { &ten_a, TL_AUDITOR, &ten_a },
        /* In the operator tenant without the operator role: no wider reach than anyone. */
        { &op_t, TL_ADMIN, &op_t },
        { &op_t, TL_MEMBER, &op_t },
        { &op_t, TL_READER, &op_t },
        { &op_t, TL_AUDITOR, &op_t },
    };

    for (size_t i = 0; i < sov_api_routes_count; i++) {
        const sov_route *r = &sov_api_routes[i];
        bool has_params;

        check_policy(r);
        if (r->flags & SOV_ROUTE_PUBLIC) {
            call_public(r);
            continue;
        }
        has_params = route_has_params(r);
        call_unauthenticated(r);
        for (size_t k = 0; k < SOV_N_ELEMENTS(callers); k++) {
            call_as(r, &callers[k], false, has_params);
            if (has_params)
                call_as(r, &callers[k], true, has_params);
        }
    }
    /* Every denial path ran: sovd must still stop cleanly (sanitizers report at exit). */
    ck_assert_msg(tl_sovd_stop(&sovd, SIGTERM, 30) == 0, "sovd did not stop cleanly; see %s",
                  sovd.log);
}
END_TEST


/* ---- deleting twice, and names for ids ---- */

/* Send c as token, with "{}" for a method that takes a body. */
static void
send_call(const call *c, const char *token, tl_resp *resp)
{
    const char *m = c->route->method;
    bool has_body = strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;

    if (c->route->flags & SOV_ROUTE_STREAM) {
        char url[700], auth[128];
        const char *headers[] = { auth, "Content-Type: application/octet-stream", NULL };
        tl_req q = { .method = m, .url = url, .headers = headers, .body = "{}",
                     .body_len = 2 };
        snprintf(url, sizeof(url), "%s%s", sovd.base, c->path);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        tl_http(&q, resp);
    } else {
        tl_call(&sovd, m, c->path, token, has_body ? "{}" : NULL, resp);
    }
}

static void
remove_leftovers(const call *c)
{
    for (size_t i = 0; i < c->ncleanup; i++) {
        tl_resp resp;
        tl_call(&sovd, "DELETE", c->cleanup[i], operator_token(), NULL, &resp);
        tl_resp_free(&resp);
    }
}

/* Wait until operation id has finished; whether it succeeded. */
static bool
operation_succeeds(const char *id)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/operations/%s", id);
    for (int i = 0; i < 600; i++) {
        json_t *o = tl_call_ok(&sovd, "GET", path, operator_token(), NULL, 200);
        const char *state = json_string_value(json_object_get(o, "state"));
        bool done = state && (strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0);
        bool ok = done && strcmp(state, "succeeded") == 0;

        json_decref(o);
        if (done)
            return ok;
        usleep(50 * 1000);
    }
    return false;
}

/* Deleting twice is one rule on every DELETE route (README's status table): what is gone
 * answers 404; what is still going (an instance or image being deleted) answers the same 202
 * with the delete already under way. */
START_TEST(every_delete_of_something_already_deleted_answers_404)
{
    size_t n = 0;

    for (size_t i = 0; i < sov_api_routes_count; i++) {
        const sov_route *r = &sov_api_routes[i];
        call c = { .route = r };
        char op_id[40] = "";
        tl_resp resp;

        if (strcmp(r->method, "DELETE") != 0)
            continue;
        n++;
        snprintf(c.label, sizeof(c.label), "%s %s", r->method, r->pattern);
        fill_path(&c, &ten_a, TL_READER, true);
        send_call(&c, operator_token(), &resp);
        ck_assert_msg(resp.status == 204 || resp.status == 202, "%s: first delete %ld: %s",
                      c.path, resp.status, resp.body);
        if (resp.status == 202) {
            snprintf(op_id, sizeof(op_id), "%s", json_string_value(json_object_get(
                                                      json_object_get(resp.json, "operation"),
                                                      "id")));
            tl_resp_free(&resp);
            /* Still going: the same answer, the same operation. */
            send_call(&c, operator_token(), &resp);
            ck_assert_msg(resp.status == 202 || resp.status == 404,
                          "%s: delete while deleting %ld: %s", c.path, resp.status, resp.body);
            if (resp.status == 202)
                ck_assert_str_eq(json_string_value(json_object_get(
                                     json_object_get(resp.json, "operation"), "id")),
                                 op_id);
            ck_assert_msg(operation_succeeds(op_id), "%s: the delete did not succeed", c.path);
        }
        tl_resp_free(&resp);
        send_call(&c, operator_token(), &resp);
        ck_assert_msg(resp.status == 404, "%s: delete of a deleted one answers %ld, not 404: %s",
                      c.path, resp.status, resp.body);
        tl_assert_problem(&resp, 404, "/problems/not-found");
        tl_resp_free(&resp);
        remove_leftovers(&c);
    }
    ck_assert_uint_ge(n, 9);
}
END_TEST

/* The collection whose names a parameter kind takes, or NULL (ids only, or already a name). */
static const char *
named_collection(int kind)
{
    switch (kind) {
    case P_TENANT:
        return "tenants";
    case P_HOST:
        return "hosts";
    case P_FLAVOR:
        return "flavors";
    case P_IMAGE:
        return "images";
    case P_INSTANCE:
        return "instances";
    case P_VOLUME_TYPE:
        return "volume-types";
    case P_VOLUME:
        return "volumes";
    case P_SNAPSHOT:
        return "snapshots";
    case P_NETWORK:
        return "networks";
    case P_SUBNET:
        return "subnets";
    case P_PORT:
        return "ports";
    case P_SECURITY_GROUP:
        return "security-groups";
    case P_ROUTER:
        return "routers";
    case P_PUBLIC_IP:
        return "public-ips";
    default:
        return NULL;
    }
}

typedef struct naming {
    fill f;
    bool by_name;
    bool any;           /* the route has a parameter that takes a name */
} naming;

/* fill_param, then (by_name) the value replaced by the name of what it identifies. */
static void
fill_named(const sov_route *r, const char *after, const char *name, bool last, void *arg)
{
    naming *nm = arg;
    const char *coll = named_collection(param_kind_of(after, name));
    char *path = nm->f.c->path, *slash, get[256];
    json_t *j;

    fill_param(r, after, name, last, &nm->f);
    if (!coll)
        return;
    nm->any = true;
    if (!nm->by_name)
        return;
    slash = strrchr(path, '/');
    snprintf(get, sizeof(get), "/v1/%s/%s", coll, slash + 1);
    j = tl_call_ok(&sovd, "GET", get, operator_token(), NULL, 200);
    ck_assert_msg(json_string_value(json_object_get(j, "name")), "%s has no name", get);
    snprintf(slash + 1, sizeof(nm->f.c->path) - (size_t) (slash + 1 - path), "%s",
             json_string_value(json_object_get(j, "name")));
    json_decref(j);
}

/* Call r by ids or by names, as token of tenant t (fresh targets for a DELETE). */
static void
call_named(const sov_route *r, const tl_tenant *t, const char *token, bool by_name,
           tl_resp *resp, bool *any, char *label, size_t size)
{
    call c = { .route = r };
    naming nm = { .f = { .c = &c, .t = t, .owner = TL_READER, .pass = true },
                  .by_name = by_name };

    each_segment(r, c.path, sizeof(c.path), fill_named, &nm);
    *any = nm.any;
    snprintf(label, size, "%s %s", r->method, c.path);
    if (nm.any)
        send_call(&c, token, resp);
    remove_leftovers(&c);
}

/* Name or id: every route whose {id} names a resource that has a name (tenants, hosts,
 * flavors, images, instances) answers the same, for every method, given either. */
START_TEST(every_route_answers_the_same_by_name_and_by_id)
{
    size_t n = 0;

    for (size_t i = 0; i < sov_api_routes_count; i++) {
        const sov_route *r = &sov_api_routes[i];
        bool admin = (r->roles & SOV_ROLE_ADMIN) && !route_is_global(r);
        const char *token = admin ? ten_a.token[TL_ADMIN] : operator_token();
        char by_id[600], by_name[600];
        tl_resp a, b;
        bool any;

        if (r->flags & SOV_ROUTE_PUBLIC)
            continue;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        call_named(r, &ten_a, token, false, &a, &any, by_id, sizeof(by_id));
        if (!any)
            continue;
        n++;
        call_named(r, &ten_a, token, true, &b, &any, by_name, sizeof(by_name));
        ck_assert_msg(a.status == b.status, "%s answers %ld, %s answers %ld: %s", by_id,
                      a.status, by_name, b.status, b.body);
        ck_assert_msg(a.status != 404, "%s: %s", by_id, a.body);
        if (a.status == 200 && json_object_get(a.json, "id"))
            ck_assert_str_eq(json_string_value(json_object_get(b.json, "id")),
                             json_string_value(json_object_get(a.json, "id")));
        tl_resp_free(&a);
        tl_resp_free(&b);
    }
    ck_assert_uint_ge(n, 20);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/roles");
    TCase *policy = tcase_create("policy");
    TCase *matrix = tcase_create("matrix");

    tcase_add_test(policy, every_route_has_a_policy_and_fixtures);
    suite_add_tcase(s, policy);

    tcase_add_checked_fixture(matrix, setup, teardown);
    tcase_set_timeout(matrix, 300);
    tcase_add_test(matrix, every_route_answers_every_role_as_its_policy_says);
    suite_add_tcase(s, matrix);

    TCase *table = tcase_create("table");
    tcase_add_checked_fixture(table, setup, teardown);
    tcase_set_timeout(table, 300);
    tcase_add_test(table, every_delete_of_something_already_deleted_answers_404);
    tcase_add_test(table, every_route_answers_the_same_by_name_and_by_id);
    suite_add_tcase(s, table);
    return tl_run_suite(s);
}
