/* Tenant isolation: every route of sov_api_routes[] called by every role of a tenant ("iso-a")
 * and by the non-operator roles of the operator tenant, with ids of their own and with another
 * tenant's ids ("isolated-b": in paths, in query filters and in bodies). roles_test.c checks
 * the statuses the policy gives; this one reads what comes back: no answer (body or headers,
 * success or problem) may carry the other tenant's ids, names, emails, token hints or secrets
 * that the caller did not send itself, none is a 5xx, and at the end every row of the other
 * tenant is exactly as it was. Only the operator role and the operator tenant's auditor may
 * see other tenants (the auditor: the audit log and residency reports), so they are left out.
 * Prints its figures. */
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rel.h"
#include "sov/api.h"

#define REGION "fr-iso-1"
#define FLAVOR "isoflavor"
#define MAX_SECRETS 64

static char *db;
static tl_sovd sovd;
static json_t *api;
static tl_tenant op_t, ten_a, ten_b;
static PGconn *pg;
static tl_ovn ovn;      /* tenant networks need an OVN Northbound (the API role only names it) */
static char host_id[40], flavor_id[40], volume_type_id[40], pool_id[40];
static unsigned serial;

/* What each of the three tenants has, by index: 0 the operator tenant, 1 iso-a, 2 the
 * isolated one. */
typedef struct fixture {
    tl_tenant *t;
    char ws[64], image_name[64], instance_name[64];
    char image_id[40], instance_id[40], operation_id[40], report_id[40], token_id[40];
    char snapshot_name[64], snapshot_id[40];
    char volume_id[40];
    /* tenant networks: a network with a subnet, a port in a security group (with a rule
     * naming its own group), a router and a public IP attached to the port */
    char network_id[40], subnet_id[40], port_id[40], sg_id[40], rule_id[40], router_id[40];
    char public_ip_id[40];
} fixture;
static fixture fx[3];

/* The isolated tenant's data, and which caller tenants sent it themselves (they may see it
 * echoed: a 404 naming the id asked for, their own audit entries). */
static struct secret {
    char text[128];
    bool sent[2];           /* by index of the caller's home: 0 operator tenant, 1 iso-a */
} secrets[MAX_SECRETS];
static size_t nsecrets;

static struct {
    unsigned long calls, s2xx, s4xx, s5xx, scanned_bytes, leaks, forbidden;
} fig;

/* The sov_role bit of each testlib role index. */
static const unsigned role_bits[TL_ROLES] = {
    [TL_OPERATOR] = SOV_ROLE_OPERATOR, [TL_ADMIN] = SOV_ROLE_ADMIN,
    [TL_MEMBER] = SOV_ROLE_MEMBER,     [TL_READER] = SOV_ROLE_READER,
    [TL_AUDITOR] = SOV_ROLE_AUDITOR,
};

static void
secret_add(const char *s)
{
    ck_assert(nsecrets < MAX_SECRETS);
    ck_assert(s && strlen(s) >= 8);
    snprintf(secrets[nsecrets++].text, sizeof(secrets[0].text), "%s", s);
}

/* ---- fixtures ---- */

static void
take(json_t *j, const char *obj, const char *key, char *out, size_t size)
{
    json_t *o = obj ? json_object_get(j, obj) : j;
    const char *v = json_string_value(json_object_get(o, key));

    ck_assert_msg(v, "no '%s' in %s", key, json_dumps(j, 0));
    snprintf(out, size, "%s", v);
    json_decref(j);
}

static const char *
op_token(void)
{
    return op_t.token[TL_OPERATOR];
}

static void
make_fixture(fixture *f, tl_tenant *t, const char *prefix)
{
    char path[256], body[512], sql[1024], *v;

    f->t = t;
    snprintf(f->ws, sizeof(f->ws), "%s-ws", prefix);
    snprintf(f->image_name, sizeof(f->image_name), "%s-img", prefix);
    snprintf(f->instance_name, sizeof(f->instance_name), "%s-vm", prefix);
    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces", t->id);
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", f->ws);
    json_decref(tl_call_ok(&sovd, "POST", path, op_token(), body, 201));
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"" REGION "\",\"format\":"
             "\"qcow2\",\"tenant_id\":\"%s\",\"workspace\":\"%s\"}", f->image_name, t->id,
             f->ws);
    take(tl_call_ok(&sovd, "POST", "/v1/images", op_token(), body, 201), NULL, "id",
         f->image_id, sizeof(f->image_id));
    snprintf(sql, sizeof(sql),
             "INSERT INTO instances (id, tenant_id, workspace, name, flavor_id, image_id, vcpus,"
             " memory_mib, disk_gib, gpus, region, zone, host_id, mac, state) VALUES"
             " (gen_random_uuid(), '%s', '%s', '%s', '%s', '%s', 1, 256, 1, 0, '" REGION "',"
             " 'a', '%s', '52:54:00:00:00:01', 'stopped') RETURNING id",
             t->id, f->ws, f->instance_name, flavor_id, f->image_id, host_id);
    v = rel_db_value(pg, sql);
    snprintf(f->instance_id, sizeof(f->instance_id), "%s", v);
    free(v);
    snprintf(sql, sizeof(sql), "INSERT INTO operations (tenant_id, kind, resource_type,"
             " resource_id, state) VALUES ('%s', 'instance.create', 'instance', '%s',"
             " 'succeeded') RETURNING id", t->id, f->instance_id);
    v = rel_db_value(pg, sql);
    snprintf(f->operation_id, sizeof(f->operation_id), "%s", v);
    free(v);
    /* A residency report, where the table exists (the reports feature may be newer). */
    v = rel_db_value(pg, "SELECT to_regclass('residency_reports')::text");
    if (v) {
        free(v);
        snprintf(sql, sizeof(sql), "INSERT INTO residency_reports (tenant_id, period_from,"
                 " period_to, format) VALUES ('%s', '2025-01-01T00:00:00Z',"
                 " '2025-02-01T00:00:00Z', 'csv') RETURNING id", t->id);
        v = rel_db_value(pg, sql);
        snprintf(f->report_id, sizeof(f->report_id), "%s", v);
        free(v);
    }
    /* A volume, attached to the instance, where the table exists (storage may be newer). */
    v = rel_db_value(pg, "SELECT to_regclass('volumes')::text");
    if (v) {
        free(v);
        snprintf(sql, sizeof(sql), "INSERT INTO volumes (id, tenant_id, workspace, name,"
                 " type_id, size_gib, state, region, zone, host_id, pool, volume) VALUES"
                 " (gen_random_uuid(), '%s', '%s', '%s-vol', '%s', 1, 'in-use', '" REGION "',"
                 " 'a', '%s', 'sovereign', 'sov-vol-x') RETURNING id", t->id, f->ws, prefix,
                 volume_type_id, host_id);
        v = rel_db_value(pg, sql);
        snprintf(f->volume_id, sizeof(f->volume_id), "%s", v);
        free(v);
        snprintf(sql, sizeof(sql), "INSERT INTO volume_attachments (volume_id, instance_id,"
                 " device) VALUES ('%s', '%s', 'vdc') RETURNING device", f->volume_id,
                 f->instance_id);
        free(rel_db_value(pg, sql));
    }
    /* A snapshot of that volume, where the table exists (storage may be newer): a row,
     * available. */
    v = rel_db_value(pg, "SELECT to_regclass('snapshots')::text");
    if (v) {
        free(v);
        snprintf(f->snapshot_name, sizeof(f->snapshot_name), "%s-snap", prefix);
        snprintf(sql, sizeof(sql), "WITH n AS (SELECT gen_random_uuid() AS id) INSERT INTO"
                 " snapshots (id, tenant_id, workspace, name, volume_id, size_gib, state, region,"
                 " zone, host_id, pool, volume) SELECT n.id, '%s', '%s', '%s', %s%s%s, 1,"
                 " 'available', '" REGION "', 'a', '%s', 'sovereign', 'sov-snap-' || n.id"
                 " FROM n RETURNING id", t->id, f->ws, f->snapshot_name,
                 f->volume_id[0] ? "'" : "", f->volume_id[0] ? f->volume_id : "NULL",
                 f->volume_id[0] ? "'" : "", host_id);
        v = rel_db_value(pg, sql);
        snprintf(f->snapshot_id, sizeof(f->snapshot_id), "%s", v);
        free(v);
    }
    snprintf(sql, sizeof(sql), "SELECT id FROM tokens WHERE user_id = '%s'",
             t->user_id[TL_READER]);
    v = rel_db_value(pg, sql);
    snprintf(f->token_id, sizeof(f->token_id), "%s", v);
    free(v);
}

/* The fixture's tenant networks, where the tables exist: rows as the services leave them
 * once OVN has them (available, the port and public IP in use). */
static void
make_network_fixture(fixture *f, const char *prefix, unsigned index)
{
    char sql[1024], *v;

    v = rel_db_value(pg, "SELECT to_regclass('networks')::text");
    if (!v)
        return;
    free(v);
#define ROW(out, ...)                                                                         \
    do {                                                                                      \
        snprintf(sql, sizeof(sql), __VA_ARGS__);                                              \
        v = rel_db_value(pg, sql);                                                            \
        ck_assert_msg(v, "no row from %s", sql);                                              \
        snprintf(out, sizeof(out), "%s", v);                                                  \
        free(v);                                                                              \
    } while (0)
    ROW(f->network_id, "INSERT INTO networks (id, tenant_id, workspace, name, cidr, region,"
        " state) VALUES (gen_random_uuid(), '%s', '%s', '%s-net', '10.0.0.0/16', '" REGION "',"
        " 'available') RETURNING id", f->t->id, f->ws, prefix);
    ROW(f->subnet_id, "INSERT INTO subnets (id, tenant_id, workspace, name, network_id, cidr,"
        " gateway, state) VALUES (gen_random_uuid(), '%s', '%s', '%s-sub', '%s', '10.0.0.0/24',"
        " '10.0.0.1', 'available') RETURNING id", f->t->id, f->ws, prefix, f->network_id);
    ROW(f->sg_id, "INSERT INTO security_groups (id, tenant_id, workspace, name, state) VALUES"
        " (gen_random_uuid(), '%s', '%s', '%s-sg', 'available') RETURNING id", f->t->id, f->ws,
        prefix);
    ROW(f->rule_id, "INSERT INTO security_group_rules (id, security_group_id, tenant_id,"
        " direction, protocol, remote_group_id) VALUES (gen_random_uuid(), '%s', '%s',"
        " 'ingress', 'any', '%s') RETURNING id", f->sg_id, f->t->id, f->sg_id);
    ROW(f->port_id, "INSERT INTO ports (id, tenant_id, workspace, name, network_id, subnet_id,"
        " ip, mac, state) VALUES (gen_random_uuid(), '%s', '%s', '%s-port', '%s', '%s',"
        " '10.0.0.5', '02:00:00:00:01:0%u', 'available') RETURNING id", f->t->id, f->ws, prefix,
        f->network_id, f->subnet_id, index);
    snprintf(sql, sizeof(sql), "INSERT INTO port_security_groups (port_id, security_group_id)"
             " VALUES ('%s', '%s') RETURNING port_id", f->port_id, f->sg_id);
    free(rel_db_value(pg, sql));
    ROW(f->router_id, "INSERT INTO routers (id, tenant_id, workspace, name, network_id, region,"
        " state) VALUES (gen_random_uuid(), '%s', '%s', '%s-gw', '%s', '" REGION "',"
        " 'available') RETURNING id", f->t->id, f->ws, prefix, f->network_id);
    ROW(f->public_ip_id, "INSERT INTO public_ips (id, tenant_id, workspace, name, region,"
        " pool_id, address, port_id, state) VALUES (gen_random_uuid(), '%s', '%s', '%s-ip',"
        " '" REGION "', '%s', '192.0.2.%u', '%s', 'in-use') RETURNING id", f->t->id, f->ws,
        prefix, pool_id, 20 + index, f->port_id);
#undef ROW
}

/* The isolated tenant does things of its own, so its audit log, residency records and
 * tokens hold more than what the operator made for it. */
static void
isolated_activity(void)
{
    char path[256];

    snprintf(path, sizeof(path), "/v1/tenants/%s", ten_b.id);
    json_decref(tl_call_ok(&sovd, "PATCH", path, ten_b.token[TL_ADMIN],
                           "{\"display_name\":\"secret-b display name\"}", 200));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/tokens", ten_b.token[TL_ADMIN],
                           "{\"name\":\"secret-b laptop\"}", 201));
    snprintf(path, sizeof(path), "/v1/tenants/%s/residency-policy", ten_b.id);
    json_decref(tl_call_ok(&sovd, "PUT", path, ten_b.token[TL_ADMIN],
                           "{\"jurisdictions\":[\"EU\"],\"countries\":[\"FR\"]}", 200));
}

static void
collect_secrets(void)
{
    fixture *b = &fx[2];
    char sql[256];
    PGresult *r;

    secret_add(ten_b.id);
    secret_add("isolated-b");       /* its name, in its users' names and emails */
    secret_add("secret-b");         /* its workspace, image, instance, token and display names */
    for (int i = TL_ADMIN; i < TL_ROLES; i++) {
        secret_add(ten_b.user_id[i]);
        secret_add(ten_b.token[i]);
    }
    secret_add(b->image_id);
    secret_add(b->instance_id);
    secret_add(b->operation_id);
    if (b->volume_id[0])
        secret_add(b->volume_id);
    if (b->report_id[0])
        secret_add(b->report_id);
    if (b->snapshot_id[0])
        secret_add(b->snapshot_id);
    if (b->network_id[0]) {
        const char *ids[] = { b->network_id, b->subnet_id, b->port_id, b->sg_id, b->rule_id,
                              b->router_id, b->public_ip_id };
        for (size_t i = 0; i < SOV_N_ELEMENTS(ids); i++)
            secret_add(ids[i]);
        /* Its port's MAC and its public address; the private address 10.0.0.5 is everyone's
         * (networks of tenants overlap), so it says nothing. */
        secret_add("02:00:00:00:01:02");
        secret_add("192.0.2.22");
    }
    snprintf(sql, sizeof(sql), "SELECT id::text, hint FROM tokens WHERE tenant_id = '%s'",
             ten_b.id);
    r = PQexec(pg, sql);
    ck_assert(PQresultStatus(r) == PGRES_TUPLES_OK);
    for (int i = 0; i < PQntuples(r); i++) {
        secret_add(PQgetvalue(r, i, 0));
        if (strlen(PQgetvalue(r, i, 1)) >= 8)
            secret_add(PQgetvalue(r, i, 1));
    }
    PQclear(r);
}

/* Every row of the isolated tenant, as one md5: tables with a tenant_id, and its own row. */
static char *
isolated_rows(void)
{
    char sql[2048];
    char *v;

    snprintf(sql, sizeof(sql),
        "SELECT md5(string_agg(t || ':' || (xpath('/row/h/text()', query_to_xml(format("
        "'SELECT md5(coalesce(string_agg(x::text, ''|'' ORDER BY x::text), '''')) AS h"
        " FROM %%I x WHERE tenant_id = %%L', t, '%s'), false, true, '')))[1]::text, ','"
        " ORDER BY t)) FROM (SELECT table_name::text AS t FROM information_schema.columns"
        " WHERE table_schema = 'public' AND column_name = 'tenant_id'"
        " AND table_name <> 'rel_writes') s", ten_b.id);
    v = rel_db_value(pg, sql);
    snprintf(sql, sizeof(sql), "SELECT md5(t::text) FROM tenants t WHERE id = '%s'", ten_b.id);
    char *t = rel_db_value(pg, sql), *out = NULL;
    ck_assert(asprintf(&out, "%s/%s", v ? v : "", t ? t : "") > 0);
    free(v);
    free(t);
    return out;
}

static void
setup(void)
{
    static char ovn_flag[700];
    const char *args[] = { "--role=api", ovn_flag, NULL };
    json_error_t jerr;

    memset(&fig, 0, sizeof(fig));
    nsecrets = 0;
    api = json_loadb(sov_openapi_json, sov_openapi_json_len, 0, &jerr);
    ck_assert_msg(api, "openapi.json: %s", jerr.text);
    db = tl_db_create();
    memset(&ovn, 0, sizeof(ovn));
    tl_ovn_start(&ovn, NULL, false);
    snprintf(ovn_flag, sizeof(ovn_flag), "--ovn-nb=%s", ovn.nb);
    tl_sovd_start(&sovd, db, args);
    pg = rel_db_open(db);
    tl_operator_tenant(&sovd, &op_t);
    tl_tenant_make(&sovd, op_token(), "iso-a", &ten_a);
    tl_tenant_make(&sovd, op_token(), "isolated-b", &ten_b);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op_token(),
                           "{\"code\":\"" REGION "\",\"name\":\"Iso\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-iso\",\"zones\":[\"a\"]}", 201));
    /* An API-only sovd registers no host (discovery is a worker's): the host goes straight
     * into the table, as discovery would leave it. */
    {
        char *id = tl_db_value(db, "INSERT INTO hosts (name, region, zone, libvirt_uri,"
                                   " hypervisor, cpus, memory_mib, storage_gib, machine_id)"
                                   " VALUES ('iso-host', '" REGION "', 'a', 'test:///default',"
                                   " 'test', 16, 3072, 100, 'test:default') RETURNING id");
        snprintf(host_id, sizeof(host_id), "%s", id);
        free(id);
    }
    take(tl_call_ok(&sovd, "POST", "/v1/flavors", op_token(),
                    "{\"name\":\"" FLAVOR "\",\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":1}",
                    201),
         NULL, "id", flavor_id, sizeof(flavor_id));
    /* A volume type, where storage exists: everyone's to read. */
    {
        char *id = rel_db_value(pg, "SELECT to_regclass('volume_types')::text");
        if (id) {
            free(id);
            id = tl_db_value(db, "INSERT INTO volume_types (id, name, backend) VALUES"
                                 " (gen_random_uuid(), 'isotype', 'libvirt-dir') RETURNING id");
            snprintf(volume_type_id, sizeof(volume_type_id), "%s", id);
            free(id);
        }
    }
    /* A public IP pool in the region, where tenant networks exist: the operator's. */
    {
        char *id = rel_db_value(pg, "SELECT to_regclass('public_ip_pools')::text");
        if (id) {
            free(id);
            id = tl_db_value(db, "INSERT INTO public_ip_pools (id, region, name, cidr, gateway,"
                                 " first_ip, last_ip) VALUES (gen_random_uuid(), '" REGION "',"
                                 " 'isopool', '192.0.2.0/24', '192.0.2.1', '192.0.2.10',"
                                 " '192.0.2.200') RETURNING id");
            snprintf(pool_id, sizeof(pool_id), "%s", id);
            free(id);
        }
    }
    make_fixture(&fx[0], &op_t, "op");
    make_fixture(&fx[1], &ten_a, "a");
    make_fixture(&fx[2], &ten_b, "secret-b");
    for (unsigned i = 0; i < 3; i++)
        make_network_fixture(&fx[i], i == 0 ? "op" : i == 1 ? "a" : "secret-b", i);
    isolated_activity();
    collect_secrets();
}

static void
teardown(void)
{
    tl_sovd_discard(&sovd);
    tl_ovn_discard(&ovn);
    rel_db_close(pg);
    pg = NULL;
    tl_db_drop(db);
    free(db);
    json_decref(api);
}

/* ---- calls ---- */

typedef struct caller {
    int home;       /* 0: the operator tenant, 1: iso-a */
    int role;
    bool other;     /* this call names the isolated tenant's things in its path */
} caller;

static const char *
param_value(const fixture *f, const char *after, const char *name)
{
    if (strcmp(after, "tenants") == 0)
        return f->t->id;
    if (strcmp(after, "workspaces") == 0)
        return f->ws;
    if (strcmp(after, "users") == 0)
        return f->t->user_id[TL_READER];
    if (strcmp(after, "tokens") == 0)
        return f->token_id;
    if (strcmp(after, "hosts") == 0)
        return host_id;
    if (strcmp(after, "regions") == 0)
        return REGION;
    if (strcmp(after, "images") == 0)
        return f->image_id;
    if (strcmp(after, "flavors") == 0)
        return flavor_id;
    if (strcmp(after, "instances") == 0)
        return f->instance_id;
    if (strcmp(after, "operations") == 0)
        return f->operation_id;
    if (strcmp(after, "reports") == 0 && f->report_id[0])
        return f->report_id;
    if (strcmp(after, "snapshots") == 0 && f->snapshot_id[0])
        return f->snapshot_id;
    if (strcmp(after, "volumes") == 0 && f->volume_id[0])
        return f->volume_id;
    if (strcmp(after, "volume-types") == 0 && volume_type_id[0])
        return volume_type_id;
    if (strcmp(after, "networks") == 0 && f->network_id[0])
        return f->network_id;
    if (strcmp(after, "subnets") == 0 && f->subnet_id[0])
        return f->subnet_id;
    if (strcmp(after, "ports") == 0 && f->port_id[0])
        return f->port_id;
    if (strcmp(after, "security-groups") == 0 && f->sg_id[0])
        return f->sg_id;
    if (strcmp(after, "rules") == 0 && f->rule_id[0])
        return f->rule_id;
    if (strcmp(after, "routers") == 0 && f->router_id[0])
        return f->router_id;
    if (strcmp(after, "public-ips") == 0 && f->public_ip_id[0])
        return f->public_ip_id;
    if (strcmp(after, "public-ip-pools") == 0 && pool_id[0])
        return pool_id;
    (void) name;
    return "00000000-0000-0000-0000-00000000abcd";    /* newer than this file */
}

static void
fill_path(const sov_route *r, const fixture *f, char *out, size_t size)
{
    const char *p = r->pattern;
    char prev[64] = "", seg[64];
    size_t n = 0;

    while (*p == '/') {
        size_t len = strcspn(p + 1, "/");
        memcpy(seg, p + 1, len);
        seg[len] = '\0';
        p += len + 1;
        if (len > 2 && seg[0] == '{') {
            seg[len - 1] = '\0';
            n += (size_t) snprintf(out + n, size - n, "/%s", param_value(f, prev, seg + 1));
        } else {
            n += (size_t) snprintf(out + n, size - n, "/%s", seg);
            snprintf(prev, sizeof(prev), "%s", seg);
        }
        ck_assert(n < size);
    }
}

/* What of the isolated tenant a value of this name stands for, in queries and bodies. */
static json_t *
isolated_value(const char *name)
{
    const fixture *b = &fx[2];

    if (strcmp(name, "tenant_id") == 0)
        return json_string(ten_b.id);
    if (strcmp(name, "tenants") == 0)
        return json_pack("[s]", ten_b.id);
    if (strcmp(name, "user_id") == 0)
        return json_string(ten_b.user_id[TL_ADMIN]);
    if (strcmp(name, "resource_id") == 0)
        return json_string(b->instance_id);
    if (strcmp(name, "image") == 0)
        return json_string(b->image_id);
    if (strcmp(name, "instance") == 0 || strcmp(name, "instance_hint") == 0)
        return json_string(b->instance_id);
    if (strcmp(name, "volume") == 0 && b->volume_id[0])
        return json_string(b->volume_id);
    if (strcmp(name, "workspace") == 0)
        return json_string(b->ws);
    if (strcmp(name, "network") == 0 && b->network_id[0])
        return json_string(b->network_id);
    if (strcmp(name, "subnet") == 0 && b->subnet_id[0])
        return json_string(b->subnet_id);
    if (strcmp(name, "port") == 0 && b->port_id[0])
        return json_string(b->port_id);
    if (strcmp(name, "router") == 0 && b->router_id[0])
        return json_string(b->router_id);
    if ((strcmp(name, "security_group") == 0 || strcmp(name, "remote_group") == 0) &&
        b->sg_id[0])
        return json_string(b->sg_id);
    if (strcmp(name, "security_groups") == 0 && b->sg_id[0])
        return json_pack("[s]", b->sg_id);
    if (strcmp(name, "public_ip") == 0 && b->public_ip_id[0])
        return json_string(b->public_ip_id);
    if (strcmp(name, "name") == 0)
        return json_string(b->instance_name);
    return NULL;
}

/* A body that names the isolated tenant's things wherever the schema lets it. */
static char *
isolated_body(const sov_route *r)
{
    json_t *schema = rel_oa_body(api, r->method, r->pattern);
    json_t *o = json_object(), *fs;
    const char *field;
    char *text;

    json_object_foreach(json_object_get(schema, "properties"), field, fs) {
        json_t *v = strcmp(field, "name") == 0 ? NULL : isolated_value(field);
        if (!v && !rel_oa_required(schema, field))
            continue;
        if (!v && strcmp(field, "region") == 0)
            v = json_string(REGION);
        else if (!v && strcmp(field, "zone") == 0)
            v = json_string("a");
        else if (!v && strcmp(field, "flavor") == 0)
            v = json_string(FLAVOR);
        else if (!v && strcmp(field, "from") == 0)
            v = json_string("2020-01-01T00:00:00Z");
        else if (!v && strcmp(field, "to") == 0)
            v = json_string("2030-01-01T00:00:00Z");
        else if (!v && strcmp(field, "memory_mib") == 0)
            v = json_integer(256);
        else if (!v)
            v = rel_oa_sample(api, fs, serial++);
        json_object_set_new(o, field, v);
    }
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* Who may see the isolated tenant on this route anyway: the operator tenant's auditor
 * reads every tenant's audit log and residency reports. */
static bool
sees_all(const caller *c, const sov_route *r)
{
    return c->home == 0 && c->role == TL_AUDITOR &&
           (strncmp(r->pattern, "/v1/audit", 9) == 0 ||
            strncmp(r->pattern, "/v1/residency/reports", 21) == 0);
}

/* Whether r's path names something a tenant owns (not a host, region or flavor). */
static bool
names_tenant_things(const sov_route *r)
{
    static const char *const global[] = { "/v1/hosts/{", "/v1/regions/{", "/v1/flavors/{" };

    if (!strchr(r->pattern, '{'))
        return false;
    for (size_t i = 0; i < SOV_N_ELEMENTS(global); i++)
        if (strncmp(r->pattern, global[i], strlen(global[i])) == 0)
            return false;
    return true;
}

static void
call(const caller *c, const sov_route *r, const char *target, const char *body)
{
    const tl_tenant *home = c->home == 0 ? &op_t : &ten_a;
    char auth[128], url[4096];
    const char *headers[4] = { auth, NULL, NULL, NULL };
    tl_resp resp;

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", home->token[c->role]);
    if (body)
        headers[1] = (r->flags & SOV_ROUTE_STREAM) ? "Content-Type: application/octet-stream"
                                                   : "Content-Type: application/json";
    snprintf(url, sizeof(url), "%s%s", sovd.base, target);
    tl_req q = { .method = r->method, .url = url, .headers = headers, .body = body,
                 .body_len = body ? strlen(body) : 0 };
    tl_http(&q, &resp);
    fig.calls++;
    fig.scanned_bytes += resp.len;
    if (resp.status >= 500) {
        fig.s5xx++;
        printf("FINDING: %s %s as %s of %s: %ld %.200s\n", r->method, target,
               tl_role_names[c->role], home->name, resp.status, resp.body);
    } else if (resp.status >= 400) {
        fig.s4xx++;
    } else {
        fig.s2xx++;
    }
    /* Another tenant's things do not exist for the caller: a role the route allows gets a
     * 404 for them, never a 403 that says they are there. */
    if (c->other && resp.status == 403 && (r->roles & role_bits[c->role]) &&
        names_tenant_things(r)) {
        const char *type = json_string_value(json_object_get(resp.json, "type"));
        if (type && strcmp(type, "/problems/forbidden") == 0) {
            fig.forbidden++;
            printf("FINDING: %s %s as %s of %s: 403 for the isolated tenant's id, not 404: "
                   "%.200s\n", r->method, target, tl_role_names[c->role], home->name,
                   resp.body);
        }
    }
    /* What the caller sent, it may read back. */
    for (size_t i = 0; i < nsecrets; i++)
        if (strstr(target, secrets[i].text) || (body && strstr(body, secrets[i].text)))
            secrets[i].sent[c->home] = true;
    if (!sees_all(c, r))
        for (size_t i = 0; i < nsecrets; i++) {
            const char *s = secrets[i].text;
            if (secrets[i].sent[c->home])
                continue;
            if (strstr(resp.body, s) || strstr(resp.headers, s)) {
                fig.leaks++;
                printf("FINDING: %s %s as %s of %s (%ld) shows the isolated tenant's '%s': "
                       "%.300s\n", r->method, target, tl_role_names[c->role], home->name,
                       resp.status, s, resp.body);
            }
        }
    fflush(stdout);
    tl_resp_free(&resp);
}

static bool
has_body(const sov_route *r)
{
    return strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
           strcmp(r->method, "PATCH") == 0;
}

/* With its own ids: reads as they are, writes with {} (refused by validation, if at all),
 * no deletes (they would remove the fixtures, and show nothing of anyone else). */
static void
own_ids(const caller *c, const sov_route *r)
{
    char path[512];

    if (strcmp(r->method, "DELETE") == 0)
        return;
    fill_path(r, &fx[c->home], path, sizeof(path));
    call(c, r, path, has_body(r) ? "{}" : NULL);
}

/* Lists filtered by the isolated tenant's ids and names: nothing of it comes back. */
static void
isolated_filters(const caller *c, const sov_route *r)
{
    json_t *params = rel_oa_params(api, r->method, r->pattern), *p;
    char path[512], target[1024];
    size_t i;

    if (strcmp(r->method, "GET") != 0)
        return;
    fill_path(r, &fx[c->home], path, sizeof(path));
    json_array_foreach(params, i, p) {
        json_t *rp = rel_oa_resolve(api, p);
        const char *name = json_string_value(json_object_get(rp, "name"));
        json_t *v = name ? isolated_value(name) : NULL;
        if (!v || !json_is_string(v)) {
            json_decref(v);
            continue;
        }
        snprintf(target, sizeof(target), "%s?%s=%s", path, name, json_string_value(v));
        call(c, r, target, NULL);
        json_decref(v);
    }
}

/* The isolated tenant's ids in the path, and in the body. */
static void
isolated_ids(const caller *c, const sov_route *r)
{
    char path[512];
    char *body = NULL;

    if (!strchr(r->pattern, '{') && !has_body(r))
        return;
    caller o = *c;
    o.other = strchr(r->pattern, '{') != NULL;
    fill_path(r, o.other ? &fx[2] : &fx[c->home], path, sizeof(path));
    if (has_body(r) && !(r->flags & SOV_ROUTE_STREAM))
        body = isolated_body(r);
    call(&o, r, path, has_body(r) ? (body ? body : "{}") : NULL);
    free(body);
}

START_TEST(no_answer_shows_another_tenants_data)
{
    const caller callers[] = {
        { 1, TL_ADMIN, false },  { 1, TL_MEMBER, false }, { 1, TL_READER, false },
        { 1, TL_AUDITOR, false }, { 0, TL_ADMIN, false },  { 0, TL_MEMBER, false },
        { 0, TL_READER, false },  { 0, TL_AUDITOR, false },
    };
    char *before = isolated_rows(), *after;
    double t0 = rel_now();

    /* Before anyone has named the isolated tenant's things: the strictest scan. */
    for (size_t i = 0; i < sov_api_routes_count; i++)
        for (size_t k = 0; k < SOV_N_ELEMENTS(callers); k++)
            own_ids(&callers[k], &sov_api_routes[i]);
    for (size_t i = 0; i < sov_api_routes_count; i++)
        for (size_t k = 0; k < SOV_N_ELEMENTS(callers); k++)
            isolated_filters(&callers[k], &sov_api_routes[i]);
    for (size_t i = 0; i < sov_api_routes_count; i++)
        for (size_t k = 0; k < SOV_N_ELEMENTS(callers); k++)
            isolated_ids(&callers[k], &sov_api_routes[i]);
    /* And the reads once more, now that audit logs hold the attempts. */
    for (size_t i = 0; i < sov_api_routes_count; i++)
        for (size_t k = 0; k < SOV_N_ELEMENTS(callers); k++)
            if (strcmp(sov_api_routes[i].method, "GET") == 0)
                own_ids(&callers[k], &sov_api_routes[i]);

    after = isolated_rows();
    printf("isolation figures: routes %zu, callers %zu, requests %lu in %.1f s; 2xx %lu, 4xx "
           "%lu, 5xx %lu; answer bytes scanned %lu for %zu values of the other tenant; "
           "leaks %lu; 403 instead of 404: %lu; its rows %s\n",
           sov_api_routes_count, SOV_N_ELEMENTS(callers), fig.calls, rel_now() - t0,
           fig.s2xx, fig.s4xx, fig.s5xx, fig.scanned_bytes, nsecrets, fig.leaks, fig.forbidden,
           strcmp(before, after) == 0 ? "unchanged" : "CHANGED");
    fflush(stdout);
    ck_assert_msg(fig.leaks == 0, "%lu answers show the other tenant's data (FINDING: above)",
                  fig.leaks);
    ck_assert_msg(fig.s5xx == 0, "%lu answers were 5xx (FINDING: above)", fig.s5xx);
    ck_assert_msg(fig.forbidden == 0, "%lu answers were 403 for another tenant's ids "
                  "(FINDING: above)", fig.forbidden);
    ck_assert_msg(strcmp(before, after) == 0, "the other tenant's rows changed");
    free(before);
    free(after);
    ck_assert_msg(tl_sovd_stop(&sovd, SIGTERM, 30) == 0, "sovd did not stop cleanly; see %s",
                  sovd.log);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("reliability/isolation");
    TCase *tc = tcase_create("matrix");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 280);
    tcase_add_test(tc, no_answer_shows_another_tenants_data);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
