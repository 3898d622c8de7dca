/* net_repo.c: the SQL of networks, subnets and ports, and the address allocation (IPAM).
 *
 * A network's residency is its last residency record (resource_type 'network'). A subnet's
 * counts (addresses_total: its host addresses less the gateway; addresses_used: its ports
 * not deleted) are read with it. A port's address is chosen here, in the port's own
 * transaction, under the subnet's row lock (sov_repo_subnet_get with lock): the lowest host
 * address that is neither the gateway nor taken. The unique index ports_ip_key stays the
 * backstop: a second port with one address is impossible whatever the code does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/buf.h"
#include "network_int.h"

#define TS SOV_SQL_TS
#define UUID_RE "'^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$'"

/* A unique violation on one index: err->detail names the constraint (sov_db_error). */
static bool
violates(const sov_error *err, const char *constraint)
{
    return err->code == SOV_E_CONFLICT && strstr(err->detail, constraint) != NULL;
}

/* The error names the field it is about (a conflict's field, for the problem's message). */
static int
about(sov_error *err, const char *field)
{
    snprintf(err->field, sizeof(err->field), "%s", field);
    return -1;
}

int
sov_net_repo_get(sov_dbconn *c, const char *get_sql, const char *lock_sql,
                 const char *tenant_id, const char *id, bool lock, const sov_db_rowmap *map,
                 void *ret, const char *what, sov_error *err)
{
    const char *params[] = { tenant_id, id };

    if (lock) {
        sov_autoptr(PGresult) res = NULL;
        if (sov_db_query(c, lock_sql, 2, params, &res, err) < 0)
            return -1;
        if (PQntuples(res) == 0)
            return sov_error_set(err, SOV_E_NOT_FOUND, "%s '%s' does not exist", what, id);
    }
    return sov_db_one(c, get_sql, 2, params, map, ret, what, id, err);
}

int
sov_net_repo_find(sov_dbconn *c, const char *sql, const char *tenant_id,
                  const char *workspace, const char *id_or_name, const char *field,
                  const sov_db_rowmap *map, void *ret, const char *what, sov_error *err)
{
    const char *params[] = { tenant_id, workspace ? workspace : "default", id_or_name };

    if (sov_db_one(c, sql, 3, params, map, ret, what, id_or_name, err) < 0) {
        if (err->code == SOV_E_NOT_FOUND && field)
            snprintf(err->field, sizeof(err->field), "%s", field);
        return -1;
    }
    return 0;
}

/* ---- networks ---- */

#define NETWORK_COLS                                                                     \
    "n.id, coalesce(n.tenant_id::text, '') AS tenant_id,"                                \
    " coalesce(n.workspace, '') AS workspace, n.name, n.cidr::text AS cidr, n.region,"   \
    " n.is_default, n.state, n.state_reason, coalesce(rt.id::text, '') AS router_id,"    \
    " coalesce(n.operation_id::text, '') AS operation_id,"                               \
    " coalesce(r.to_host, '') AS res_host, coalesce(r.to_region, '') AS res_region,"     \
    " coalesce(r.to_country, '') AS res_country,"                                        \
    " coalesce(r.to_jurisdiction, '') AS res_jurisdiction,"                              \
    " coalesce(r.to_datacenter, '') AS res_datacenter,"                                  \
    " coalesce(" TS("r.at") ", '') AS residency_since,"                                  \
    " " TS("n.created_at") " AS created_at, " TS("n.updated_at") " AS updated_at"

#define NETWORK_FROM                                                                     \
    " FROM networks n LEFT JOIN LATERAL (SELECT x.id FROM routers x"                     \
    " WHERE x.network_id = n.id AND x.state <> 'deleted' LIMIT 1) rt ON true"            \
    " LEFT JOIN LATERAL (SELECT * FROM residency_records rr"                             \
    " WHERE rr.resource_type = 'network' AND rr.resource_id = n.id::text"                \
    " ORDER BY rr.seq DESC LIMIT 1) r ON true"

enum {
    N_ID, N_TENANT, N_WORKSPACE, N_NAME, N_CIDR, N_REGION, N_DEFAULT, N_STATE, N_REASON,
    N_ROUTER, N_OPERATION, N_RES_HOST, N_RES_REGION, N_RES_COUNTRY, N_RES_JURISDICTION,
    N_RES_DATACENTER, N_RES_SINCE, N_CREATED, N_UPDATED, N__N,
};
static const char *const network_cols[N__N] = {
    [N_ID] = "id", [N_TENANT] = "tenant_id", [N_WORKSPACE] = "workspace", [N_NAME] = "name",
    [N_CIDR] = "cidr", [N_REGION] = "region", [N_DEFAULT] = "is_default",
    [N_STATE] = "state", [N_REASON] = "state_reason", [N_ROUTER] = "router_id",
    [N_OPERATION] = "operation_id", [N_RES_HOST] = "res_host", [N_RES_REGION] = "res_region",
    [N_RES_COUNTRY] = "res_country", [N_RES_JURISDICTION] = "res_jurisdiction",
    [N_RES_DATACENTER] = "res_datacenter", [N_RES_SINCE] = "residency_since",
    [N_CREATED] = "created_at", [N_UPDATED] = "updated_at",
};

#define COPY(field, k) sov_db_copy(n->field, sizeof(n->field), r, i, col[k])

static void
fill_network(const PGresult *r, int i, const int *col, void *out)
{
    sov_network *n = out;

    memset(n, 0, sizeof(*n));
    COPY(id, N_ID);
    COPY(tenant_id, N_TENANT);
    COPY(workspace, N_WORKSPACE);
    COPY(name, N_NAME);
    COPY(cidr, N_CIDR);
    COPY(region, N_REGION);
    n->is_default = sov_db_flag(r, i, col[N_DEFAULT]);
    COPY(state, N_STATE);
    COPY(state_reason, N_REASON);
    COPY(router_id, N_ROUTER);
    COPY(operation_id, N_OPERATION);
    COPY(residency.host, N_RES_HOST);
    COPY(residency.region, N_RES_REGION);
    COPY(residency.country, N_RES_COUNTRY);
    COPY(residency.jurisdiction, N_RES_JURISDICTION);
    COPY(residency.datacenter, N_RES_DATACENTER);
    COPY(residency_since, N_RES_SINCE);
    COPY(created_at, N_CREATED);
    COPY(updated_at, N_UPDATED);
}

#undef COPY

static const sov_db_rowmap row_network = { network_cols, N__N, fill_network };

static const char SQL_NETWORK_INSERT[] =
    "INSERT INTO networks (id, tenant_id, workspace, name, cidr, region, is_default, state,"
    " operation_id) VALUES ($1, $2, $3, $4, $5::cidr, $6, $7::boolean, 'creating',"
    " NULLIF($8, '')::uuid)";
static const char SQL_NETWORK_GET[] =
    "SELECT " NETWORK_COLS NETWORK_FROM
    " WHERE n.id = $2::uuid AND ($1::uuid IS NULL OR n.tenant_id = $1::uuid)";
static const char SQL_NETWORK_LOCK[] =
    "SELECT id FROM networks WHERE id = $2::uuid AND ($1::uuid IS NULL OR tenant_id = $1::uuid)"
    " FOR UPDATE";
static const char SQL_NETWORK_FIND[] =
    "SELECT " NETWORK_COLS NETWORK_FROM
    " WHERE n.tenant_id = $1::uuid AND (CASE WHEN $3 ~ " UUID_RE " THEN n.id = $3::uuid"
    " ELSE n.workspace = $2 AND n.name = $3 AND n.state <> 'deleted' END)";
static const char SQL_NETWORK_DEFAULT[] =
    "SELECT " NETWORK_COLS NETWORK_FROM
    " WHERE n.tenant_id = $1::uuid AND n.workspace = $2 AND n.is_default"
    " AND n.state <> 'deleted' ORDER BY n.created_at LIMIT 1";
static const char SQL_NETWORK_LIST[] =
    "SELECT " NETWORK_COLS NETWORK_FROM
    " WHERE ($1::uuid IS NULL OR n.tenant_id = $1::uuid)"
    " AND ($2::text IS NULL OR n.workspace = $2)"
    " AND ($3::text IS NULL OR n.region = $3)"
    " AND (CASE WHEN $4::text IS NULL THEN n.state <> 'deleted' ELSE n.state = $4 END)"
    " AND ($5::uuid IS NULL OR n.id > $5::uuid) ORDER BY n.id LIMIT $6";
static const char SQL_NETWORK_STATE[] =
    "UPDATE networks SET state = $2, state_reason = coalesce($3, state_reason),"
    " operation_id = coalesce(NULLIF($4, '')::uuid, operation_id), updated_at = now()"
    " WHERE id = $1 AND ($5::text[] IS NULL OR state = ANY($5::text[])) RETURNING id";
/* What keeps a network: its subnets, its ports and its router (live ones). */
static const char SQL_NETWORK_BLOCKERS[] =
    "SELECT kind, id, name FROM ("
    " SELECT 'subnet' AS kind, id::text AS id, name, created_at FROM subnets"
    "  WHERE network_id = $1 AND state <> 'deleted'"
    " UNION ALL SELECT 'port', id::text, name, created_at FROM ports"
    "  WHERE network_id = $1 AND state <> 'deleted'"
    " UNION ALL SELECT 'router', id::text, name, created_at FROM routers"
    "  WHERE network_id = $1 AND state <> 'deleted') b"
    " ORDER BY created_at, id LIMIT 9";

int
sov_repo_network_insert(sov_dbconn *c, const sov_network *n, sov_error *err)
{
    const char *params[] = { n->id, n->tenant_id, n->workspace, n->name, n->cidr, n->region,
                             n->is_default ? "true" : "false", n->operation_id };

    if (sov_db_query(c, SQL_NETWORK_INSERT, 8, params, NULL, err) < 0) {
        if (violates(err, "networks_name_key")) {
            sov_error_set(err, SOV_E_CONFLICT, "a network named '%s' already exists in "
                          "workspace '%s'", n->name, n->workspace);
            return about(err, "name");
        }
        return -1;
    }
    return 0;
}

int
sov_repo_network_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                     sov_network *ret, sov_error *err)
{
    return sov_net_repo_get(c, SQL_NETWORK_GET, SQL_NETWORK_LOCK, tenant_id, id, lock,
                            &row_network, ret, "network", err);
}

int
sov_repo_network_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                      const char *id_or_name, const char *field, sov_network *ret,
                      sov_error *err)
{
    return sov_net_repo_find(c, SQL_NETWORK_FIND, tenant_id, workspace, id_or_name, field,
                             &row_network, ret, "network", err);
}

int
sov_repo_network_default(sov_dbconn *c, const char *tenant_id, const char *workspace,
                         sov_network *ret, bool *found, sov_error *err)
{
    const char *params[] = { tenant_id, workspace ? workspace : "default" };

    *found = false;
    if (sov_db_one(c, SQL_NETWORK_DEFAULT, 2, params, &row_network, ret, "network", "default",
                   err) < 0) {
        if (err->code != SOV_E_NOT_FOUND)
            return -1;
        sov_error_clear(err);
        return 0;
    }
    *found = true;
    return 0;
}

int
sov_repo_network_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                      const char *region, const char *state, const char *after,
                      unsigned limit, sov_network_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { tenant_id, workspace, region, state, after, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_NETWORK_LIST, 6, params, sizeof(*ret->items), &row_network,
                       limit, "id", (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_repo_network_set_state(sov_dbconn *c, const char *id, const char *const *from,
                           const char *state, const char *reason, const char *op_id,
                           sov_error *err)
{
    return sov_db_set_state(c, SQL_NETWORK_STATE, "network", id, from, state, reason, op_id, err);
}

int
sov_repo_network_blockers(sov_dbconn *c, const char *id, const char *what, sov_error *err)
{
    const char *params[] = { id };

    return sov_db_blockers(c, SQL_NETWORK_BLOCKERS, 1, params, what, err);
}

/* ---- subnets ---- */

#define SUBNET_COLS                                                                      \
    "s.id, coalesce(s.tenant_id::text, '') AS tenant_id,"                                \
    " coalesce(s.workspace, '') AS workspace, s.name, s.network_id::text AS network_id,"  \
    " n.name AS network_name, s.cidr::text AS cidr, coalesce(s.zone, '') AS zone,"       \
    " host(s.gateway) AS gateway,"                                                       \
    " array_to_string(ARRAY(SELECT host(d) FROM unnest(s.dns_servers) AS d), ',')"       \
    " AS dns_servers,"                                                                   \
    " (power(2, 32 - masklen(s.cidr))::bigint - 3) AS addresses_total,"                  \
    " (SELECT count(*) FROM ports p WHERE p.subnet_id = s.id AND p.state <> 'deleted')"  \
    " AS addresses_used,"                                                                \
    " s.state, s.state_reason, coalesce(s.operation_id::text, '') AS operation_id,"      \
    " " TS("s.created_at") " AS created_at, " TS("s.updated_at") " AS updated_at"

#define SUBNET_FROM " FROM subnets s JOIN networks n ON n.id = s.network_id"

enum {
    S_ID, S_TENANT, S_WORKSPACE, S_NAME, S_NETWORK, S_NETWORK_NAME, S_CIDR, S_ZONE, S_GATEWAY,
    S_DNS, S_TOTAL, S_USED, S_STATE, S_REASON, S_OPERATION, S_CREATED, S_UPDATED, S__N,
};
static const char *const subnet_cols[S__N] = {
    [S_ID] = "id", [S_TENANT] = "tenant_id", [S_WORKSPACE] = "workspace", [S_NAME] = "name",
    [S_NETWORK] = "network_id", [S_NETWORK_NAME] = "network_name", [S_CIDR] = "cidr",
    [S_ZONE] = "zone", [S_GATEWAY] = "gateway", [S_DNS] = "dns_servers",
    [S_TOTAL] = "addresses_total", [S_USED] = "addresses_used", [S_STATE] = "state",
    [S_REASON] = "state_reason", [S_OPERATION] = "operation_id", [S_CREATED] = "created_at",
    [S_UPDATED] = "updated_at",
};

#define COPY(field, k) sov_db_copy(s->field, sizeof(s->field), r, i, col[k])

static void
fill_subnet(const PGresult *r, int i, const int *col, void *out)
{
    sov_subnet *s = out;

    memset(s, 0, sizeof(*s));
    COPY(id, S_ID);
    COPY(tenant_id, S_TENANT);
    COPY(workspace, S_WORKSPACE);
    COPY(name, S_NAME);
    COPY(network_id, S_NETWORK);
    COPY(network_name, S_NETWORK_NAME);
    COPY(cidr, S_CIDR);
    COPY(zone, S_ZONE);
    COPY(gateway, S_GATEWAY);
    s->ndns_servers = sov_db_split(PQgetvalue(r, i, col[S_DNS]), &s->dns_servers[0][0],
                                   SOV_NET_DNS_MAX, sizeof(s->dns_servers[0]));
    s->addresses_total = sov_db_num(r, i, col[S_TOTAL]);
    s->addresses_used = sov_db_num(r, i, col[S_USED]);
    COPY(state, S_STATE);
    COPY(state_reason, S_REASON);
    COPY(operation_id, S_OPERATION);
    COPY(created_at, S_CREATED);
    COPY(updated_at, S_UPDATED);
}

#undef COPY

static const sov_db_rowmap row_subnet = { subnet_cols, S__N, fill_subnet };

static const char SQL_SUBNET_INSERT[] =
    "INSERT INTO subnets (id, tenant_id, workspace, name, network_id, cidr, zone, gateway,"
    " dns_servers, state, operation_id) VALUES ($1, $2, $3, $4, $5, $6::cidr, NULLIF($7, ''),"
    " $8::inet, $9::inet[], 'creating', NULLIF($10, '')::uuid)";
static const char SQL_SUBNET_GET[] =
    "SELECT " SUBNET_COLS SUBNET_FROM
    " WHERE s.id = $2::uuid AND ($1::uuid IS NULL OR s.tenant_id = $1::uuid)";
static const char SQL_SUBNET_LOCK[] =
    "SELECT id FROM subnets WHERE id = $2::uuid AND ($1::uuid IS NULL OR tenant_id = $1::uuid)"
    " FOR UPDATE";
static const char SQL_SUBNET_FIND[] =
    "SELECT " SUBNET_COLS SUBNET_FROM
    " WHERE s.tenant_id = $1::uuid AND (CASE WHEN $3 ~ " UUID_RE " THEN s.id = $3::uuid"
    " ELSE s.workspace = $2 AND s.name = $3 AND s.state <> 'deleted' END)";
static const char SQL_SUBNET_LIST[] =
    "SELECT " SUBNET_COLS SUBNET_FROM
    " WHERE ($1::uuid IS NULL OR s.tenant_id = $1::uuid)"
    " AND ($2::text IS NULL OR s.workspace = $2)"
    " AND ($3::uuid IS NULL OR s.network_id = $3::uuid)"
    " AND (CASE WHEN $4::text IS NULL THEN s.state <> 'deleted' ELSE s.state = $4 END)"
    " AND ($5::uuid IS NULL OR s.id > $5::uuid) ORDER BY s.id LIMIT $6";
static const char SQL_SUBNET_STATE[] =
    "UPDATE subnets SET state = $2, state_reason = coalesce($3, state_reason),"
    " operation_id = coalesce(NULLIF($4, '')::uuid, operation_id), updated_at = now()"
    " WHERE id = $1 AND ($5::text[] IS NULL OR state = ANY($5::text[])) RETURNING id";
static const char SQL_SUBNET_OVERLAP[] =
    "SELECT name, cidr::text AS cidr FROM subnets WHERE network_id = $1"
    " AND state <> 'deleted' AND cidr && $2::cidr ORDER BY cidr LIMIT 1";
static const char SQL_SUBNET_BLOCKERS[] =
    "SELECT 'port' AS kind, id::text AS id, name FROM ports"
    " WHERE subnet_id = $1 AND state <> 'deleted' ORDER BY created_at, id LIMIT 9";

int
sov_repo_subnet_insert(sov_dbconn *c, const sov_subnet *s, sov_error *err)
{
    sov_buf dns = SOV_BUF_INIT;
    int rc;

    sov_buf_pg_array_strided(&dns, &s->dns_servers[0][0], s->ndns_servers,
                             sizeof(s->dns_servers[0]));
    if (dns.oom)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    {
        const char *params[] = { s->id, s->tenant_id, s->workspace, s->name, s->network_id,
                                 s->cidr, s->zone, s->gateway, dns.data ? dns.data : "{}",
                                 s->operation_id };
        rc = sov_db_query(c, SQL_SUBNET_INSERT, 10, params, NULL, err);
    }
    sov_buf_release(&dns);
    if (rc < 0 && violates(err, "subnets_name_key")) {
        sov_error_set(err, SOV_E_CONFLICT, "a subnet named '%s' already exists in workspace "
                      "'%s'", s->name, s->workspace);
        return about(err, "name");
    }
    return rc;
}

int
sov_repo_subnet_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                    sov_subnet *ret, sov_error *err)
{
    return sov_net_repo_get(c, SQL_SUBNET_GET, SQL_SUBNET_LOCK, tenant_id, id, lock,
                            &row_subnet, ret, "subnet", err);
}

int
sov_repo_subnet_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                     const char *id_or_name, const char *field, sov_subnet *ret,
                     sov_error *err)
{
    return sov_net_repo_find(c, SQL_SUBNET_FIND, tenant_id, workspace, id_or_name, field,
                             &row_subnet, ret, "subnet", err);
}

int
sov_repo_subnet_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                     const char *network_id, const char *state, const char *after,
                     unsigned limit, sov_subnet_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { tenant_id, workspace, network_id, state, after, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_SUBNET_LIST, 6, params, sizeof(*ret->items), &row_subnet,
                       limit, "id", (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_repo_subnet_set_state(sov_dbconn *c, const char *id, const char *const *from,
                          const char *state, const char *reason, const char *op_id,
                          sov_error *err)
{
    return sov_db_set_state(c, SQL_SUBNET_STATE, "subnet", id, from, state, reason, op_id, err);
}

int
sov_repo_subnet_overlap(sov_dbconn *c, const char *network_id, const char *cidr,
                        char *name, size_t name_size, char *other, size_t other_size,
                        bool *found, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { network_id, cidr };

    if (sov_db_query(c, SQL_SUBNET_OVERLAP, 2, params, &res, err) < 0)
        return -1;
    *found = PQntuples(res) > 0;
    if (*found) {
        sov_db_copy(name, name_size, res, 0, PQfnumber(res, "name"));
        sov_db_copy(other, other_size, res, 0, PQfnumber(res, "cidr"));
    }
    return 0;
}

int
sov_repo_subnet_blockers(sov_dbconn *c, const char *id, const char *what, sov_error *err)
{
    const char *params[] = { id };

    return sov_db_blockers(c, SQL_SUBNET_BLOCKERS, 1, params, what, err);
}

/* ---- ports ---- */

#define PORT_COLS                                                                        \
    "p.id, coalesce(p.tenant_id::text, '') AS tenant_id,"                                \
    " coalesce(p.workspace, '') AS workspace, p.name, p.network_id::text AS network_id,"  \
    " n.name AS network_name, p.subnet_id::text AS subnet_id, s.name AS subnet_name,"    \
    " host(p.ip) AS ip, p.mac::text AS mac,"                                             \
    " array_to_string(ARRAY(SELECT g.security_group_id::text FROM port_security_groups g" \
    " WHERE g.port_id = p.id ORDER BY 1), ',') AS security_groups,"                      \
    " coalesce(p.instance_id::text, '') AS instance_id,"                                 \
    " coalesce(i.name, '') AS instance_name,"                                            \
    " coalesce(p.device_index, -1) AS device_index,"                                     \
    " coalesce((SELECT host(pi.address) FROM public_ips pi WHERE pi.port_id = p.id"      \
    " AND pi.state <> 'deleted' LIMIT 1), '') AS public_ip,"                             \
    " coalesce(p.created_by_instance::text, '') AS created_by_instance,"                 \
    " p.up, p.chassis, p.state, p.state_reason,"                                         \
    " coalesce(p.operation_id::text, '') AS operation_id,"                               \
    " " TS("p.created_at") " AS created_at, " TS("p.updated_at") " AS updated_at"

#define PORT_FROM                                                                        \
    " FROM ports p JOIN networks n ON n.id = p.network_id"                               \
    " JOIN subnets s ON s.id = p.subnet_id LEFT JOIN instances i ON i.id = p.instance_id"

enum {
    P_ID, P_TENANT, P_WORKSPACE, P_NAME, P_NETWORK, P_NETWORK_NAME, P_SUBNET, P_SUBNET_NAME,
    P_IP, P_MAC, P_GROUPS, P_INSTANCE, P_INSTANCE_NAME, P_DEVICE, P_PUBLIC_IP, P_CREATED_BY,
    P_UP, P_CHASSIS, P_STATE, P_REASON, P_OPERATION, P_CREATED, P_UPDATED, P__N,
};
static const char *const port_cols[P__N] = {
    [P_ID] = "id", [P_TENANT] = "tenant_id", [P_WORKSPACE] = "workspace", [P_NAME] = "name",
    [P_NETWORK] = "network_id", [P_NETWORK_NAME] = "network_name", [P_SUBNET] = "subnet_id",
    [P_SUBNET_NAME] = "subnet_name", [P_IP] = "ip", [P_MAC] = "mac",
    [P_GROUPS] = "security_groups", [P_INSTANCE] = "instance_id",
    [P_INSTANCE_NAME] = "instance_name", [P_DEVICE] = "device_index",
    [P_PUBLIC_IP] = "public_ip", [P_CREATED_BY] = "created_by_instance", [P_UP] = "up",
    [P_CHASSIS] = "chassis", [P_STATE] = "state", [P_REASON] = "state_reason",
    [P_OPERATION] = "operation_id", [P_CREATED] = "created_at", [P_UPDATED] = "updated_at",
};

#define COPY(field, k) sov_db_copy(p->field, sizeof(p->field), r, i, col[k])

static void
fill_port(const PGresult *r, int i, const int *col, void *out)
{
    sov_port *p = out;

    memset(p, 0, sizeof(*p));
    COPY(id, P_ID);
    COPY(tenant_id, P_TENANT);
    COPY(workspace, P_WORKSPACE);
    COPY(name, P_NAME);
    COPY(network_id, P_NETWORK);
    COPY(network_name, P_NETWORK_NAME);
    COPY(subnet_id, P_SUBNET);
    COPY(subnet_name, P_SUBNET_NAME);
    COPY(ip, P_IP);
    COPY(mac, P_MAC);
    p->nsecurity_groups = sov_db_split(PQgetvalue(r, i, col[P_GROUPS]),
                                       &p->security_groups[0][0], SOV_NET_SG_MAX,
                                       sizeof(p->security_groups[0]));
    COPY(instance_id, P_INSTANCE);
    COPY(instance_name, P_INSTANCE_NAME);
    p->device_index = (int) sov_db_num(r, i, col[P_DEVICE]);
    COPY(public_ip, P_PUBLIC_IP);
    COPY(created_by_instance, P_CREATED_BY);
    p->up = sov_db_flag(r, i, col[P_UP]);
    COPY(chassis, P_CHASSIS);
    COPY(state, P_STATE);
    COPY(state_reason, P_REASON);
    COPY(operation_id, P_OPERATION);
    COPY(created_at, P_CREATED);
    COPY(updated_at, P_UPDATED);
}

#undef COPY

static const sov_db_rowmap row_port = { port_cols, P__N, fill_port };

/* The lowest free host address of a subnet, the gateway left out: the candidates are the
 * first host address, the one after the gateway and the one after each taken address (a
 * free address is either the first or follows a taken one or the gateway); each is checked
 * against the unique index (subnet_id, ip). Priced by the ports of the subnet, not by its
 * size: a /16 with thousands of ports answers in milliseconds. $2: first host, $3: last
 * host, $4: gateway. */
static const char SQL_PORT_FREE_IP[] =
    "SELECT host(c.a) AS ip FROM (SELECT $2::inet AS a"
    " UNION ALL SELECT $4::inet + 1"
    " UNION ALL SELECT p.ip + 1 FROM ports p WHERE p.subnet_id = $1::uuid"
    " AND p.state <> 'deleted' AND p.ip < $3::inet) c"
    " WHERE c.a <= $3::inet AND c.a >= $2::inet AND c.a <> $4::inet"
    " AND NOT EXISTS (SELECT 1 FROM ports q WHERE q.subnet_id = $1::uuid"
    " AND q.state <> 'deleted' AND q.ip = c.a) ORDER BY c.a LIMIT 1";
static const char SQL_PORT_IP_TAKEN[] =
    "SELECT name FROM ports WHERE subnet_id = $1::uuid AND ip = $2::inet"
    " AND state <> 'deleted'";
static const char SQL_PORT_MAC_TAKEN[] =
    "SELECT name FROM ports WHERE network_id = $1::uuid AND mac = $2::macaddr"
    " AND state <> 'deleted'";
static const char SQL_PORT_INSERT[] =
    "INSERT INTO ports (id, tenant_id, workspace, name, network_id, subnet_id, ip, mac,"
    " instance_id, device_index, created_by_instance, state, operation_id) VALUES ($1, $2, $3,"
    " $4, $5, $6, $7::inet, $8::macaddr, NULLIF($9, '')::uuid, NULLIF($10, '-1')::integer,"
    " CASE WHEN $11::boolean THEN NULLIF($9, '')::uuid END, 'creating',"
    " NULLIF($12, '')::uuid)";
static const char SQL_PORT_GET[] =
    "SELECT " PORT_COLS PORT_FROM
    " WHERE p.id = $2::uuid AND ($1::uuid IS NULL OR p.tenant_id = $1::uuid)";
static const char SQL_PORT_LOCK[] =
    "SELECT id FROM ports WHERE id = $2::uuid AND ($1::uuid IS NULL OR tenant_id = $1::uuid)"
    " FOR UPDATE";
static const char SQL_PORT_FIND[] =
    "SELECT " PORT_COLS PORT_FROM
    " WHERE p.tenant_id = $1::uuid AND (CASE WHEN $3 ~ " UUID_RE " THEN p.id = $3::uuid"
    " ELSE p.workspace = $2 AND p.name = $3 AND p.state <> 'deleted' END)";
static const char SQL_PORT_LIST[] =
    "SELECT " PORT_COLS PORT_FROM
    " WHERE ($1::uuid IS NULL OR p.tenant_id = $1::uuid)"
    " AND ($2::text IS NULL OR p.workspace = $2)"
    " AND ($3::uuid IS NULL OR p.network_id = $3::uuid)"
    " AND ($4::uuid IS NULL OR p.subnet_id = $4::uuid)"
    " AND ($5::uuid IS NULL OR p.instance_id = $5::uuid)"
    " AND (CASE WHEN $6::text IS NULL THEN p.state <> 'deleted' ELSE p.state = $6 END)"
    " AND ($7::uuid IS NULL OR p.id > $7::uuid) ORDER BY p.id LIMIT $8";
static const char SQL_PORTS_OF_INSTANCE[] =
    "SELECT " PORT_COLS PORT_FROM
    " WHERE p.instance_id = $1::uuid AND p.state <> 'deleted' ORDER BY p.device_index, p.id";
static const char SQL_PORT_STATE[] =
    "UPDATE ports SET state = $2, state_reason = coalesce($3, state_reason),"
    " operation_id = coalesce(NULLIF($4, '')::uuid, operation_id), updated_at = now()"
    " WHERE id = $1 AND ($5::text[] IS NULL OR state = ANY($5::text[])) RETURNING id";
/* The next free device index of the instance: the lowest not taken (the caller holds the
 * instance's row lock, so two plugs never pick one). */
static const char SQL_PORT_PLUG[] =
    "UPDATE ports SET instance_id = $2::uuid, device_index = CASE WHEN $3::int >= 0"
    " THEN $3::int ELSE (SELECT min(g) FROM generate_series(0, 1024) AS g WHERE NOT EXISTS"
    " (SELECT 1 FROM ports o WHERE o.instance_id = $2::uuid AND o.state <> 'deleted'"
    " AND o.id <> $1::uuid AND o.device_index = g)) END, updated_at = now()"
    " WHERE id = $1::uuid RETURNING id";
static const char SQL_PORT_UNPLUG[] =
    "UPDATE ports SET instance_id = NULL, device_index = NULL, up = false, chassis = '',"
    " updated_at = now() WHERE id = $1::uuid RETURNING id";
static const char SQL_PORT_BLOCKERS[] =
    "SELECT 'public_ip' AS kind, id::text AS id, name FROM public_ips"
    " WHERE port_id = $1 AND state <> 'deleted' ORDER BY created_at, id LIMIT 9";

int
sov_repo_port_free_ip(sov_dbconn *c, const char *subnet_id, const char *first,
                      const char *last, const char *gateway, char *ret, size_t size,
                      bool *found, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { subnet_id, first, last, gateway };

    if (sov_db_query(c, SQL_PORT_FREE_IP, 4, params, &res, err) < 0)
        return -1;
    *found = PQntuples(res) > 0;
    if (*found)
        sov_db_copy(ret, size, res, 0, PQfnumber(res, "ip"));
    return 0;
}

/* Who has an address (a subnet's ip, or a network's mac): its name into ret, "" none. */
static int
taken_by(sov_dbconn *c, const char *sql, const char *scope, const char *value, char *ret,
         size_t size, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { scope, value };

    if (sov_db_query(c, sql, 2, params, &res, err) < 0)
        return -1;
    ret[0] = '\0';
    if (PQntuples(res) > 0)
        sov_db_copy(ret, size, res, 0, PQfnumber(res, "name"));
    return 0;
}

int
sov_repo_port_ip_taken(sov_dbconn *c, const char *subnet_id, const char *ip, char *ret,
                       size_t size, sov_error *err)
{
    return taken_by(c, SQL_PORT_IP_TAKEN, subnet_id, ip, ret, size, err);
}

int
sov_repo_port_mac_taken(sov_dbconn *c, const char *network_id, const char *mac, char *ret,
                        size_t size, sov_error *err)
{
    return taken_by(c, SQL_PORT_MAC_TAKEN, network_id, mac, ret, size, err);
}

int
sov_repo_port_insert(sov_dbconn *c, const sov_port *p, sov_error *err)
{
    char dev[16];
    const char *params[] = { p->id, p->tenant_id, p->workspace, p->name, p->network_id,
                             p->subnet_id, p->ip, p->mac, p->instance_id, dev,
                             p->created_by_instance[0] ? "true" : "false", p->operation_id };

    snprintf(dev, sizeof(dev), "%d", p->instance_id[0] ? p->device_index : -1);
    if (sov_db_query(c, SQL_PORT_INSERT, 12, params, NULL, err) == 0)
        return 0;
    /* The unique indexes are the backstop of the checks made before the insert. */
    if (violates(err, "ports_ip_key")) {
        sov_error_set(err, SOV_E_CONFLICT, "ip %s of subnet '%s' is taken", p->ip,
                      p->subnet_name);
        return about(err, "ip");
    }
    if (violates(err, "ports_mac_key")) {
        sov_error_set(err, SOV_E_CONFLICT, "mac %s is taken in network '%s'", p->mac,
                      p->network_name);
        return about(err, "mac");
    }
    if (violates(err, "ports_name_key")) {
        sov_error_set(err, SOV_E_CONFLICT, "a port named '%s' already exists in workspace "
                      "'%s'", p->name, p->workspace);
        return about(err, "name");
    }
    if (violates(err, "ports_device_key")) {
        sov_error_set(err, SOV_E_CONFLICT, "instance '%s' already has a NIC at index %s",
                      p->instance_id, dev);
        return about(err, "instance");
    }
    return -1;
}

int
sov_repo_port_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                  sov_port *ret, sov_error *err)
{
    return sov_net_repo_get(c, SQL_PORT_GET, SQL_PORT_LOCK, tenant_id, id, lock, &row_port, ret,
                            "port", err);
}

int
sov_repo_port_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                   const char *id_or_name, const char *field, sov_port *ret, sov_error *err)
{
    return sov_net_repo_find(c, SQL_PORT_FIND, tenant_id, workspace, id_or_name, field,
                             &row_port, ret, "port", err);
}

int
sov_repo_port_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                   const char *network_id, const char *subnet_id, const char *instance_id,
                   const char *state, const char *after, unsigned limit, sov_port_page *ret,
                   sov_error *err)
{
    char lim[16];
    const char *params[] = { tenant_id, workspace, network_id, subnet_id, instance_id, state,
                             after, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_PORT_LIST, 8, params, sizeof(*ret->items), &row_port, limit,
                       "id", (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_repo_ports_of_instance(sov_dbconn *c, const char *instance_id, sov_port **ret, size_t *n,
                           sov_error *err)
{
    const char *params[] = { instance_id };

    return sov_db_all(c, SQL_PORTS_OF_INSTANCE, 1, params, sizeof(**ret), &row_port,
                      (void **) ret, n, err);
}

int
sov_repo_port_set_state(sov_dbconn *c, const char *id, const char *const *from,
                        const char *state, const char *reason, const char *op_id,
                        sov_error *err)
{
    return sov_db_set_state(c, SQL_PORT_STATE, "port", id, from, state, reason, op_id, err);
}

int
sov_repo_port_plug(sov_dbconn *c, const char *id, const char *instance_id, int device_index,
                   sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char dev[16];
    const char *params[] = { id, instance_id, dev };

    snprintf(dev, sizeof(dev), "%d", device_index);
    if (instance_id) {
        if (sov_db_query(c, SQL_PORT_PLUG, 3, params, &res, err) < 0) {
            if (violates(err, "ports_device_key")) {
                sov_error_set(err, SOV_E_CONFLICT, "instance '%s' already has a NIC at "
                              "index %s", instance_id, dev);
                return about(err, "instance");
            }
            return -1;
        }
    } else if (sov_db_query(c, SQL_PORT_UNPLUG, 1, params, &res, err) < 0) {
        return -1;
    }
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "port '%s' does not exist", id);
    return 0;
}

int
sov_repo_port_blockers(sov_dbconn *c, const char *id, const char *what, sov_error *err)
{
    const char *params[] = { id };

    return sov_db_blockers(c, SQL_PORT_BLOCKERS, 1, params, what, err);
}

/* ---- instances and regions, as networks see them ---- */

static const char SQL_INSTANCE[] =
    "SELECT i.id, i.tenant_id::text AS tenant_id, i.workspace, i.name, i.state, i.region"
    " FROM instances i WHERE i.tenant_id = $1::uuid AND (CASE WHEN $3 ~ " UUID_RE
    " THEN i.id = $3::uuid ELSE i.workspace = $2 AND i.name = $3 AND i.state <> 'deleted'"
    " END)";
static const char SQL_INSTANCE_LOCK[] =
    "SELECT id FROM instances WHERE id = $1::uuid FOR UPDATE";
/* The region of the first host up among the allowed ones, in placement's order (spread:
 * the highest placement weight, then the name). */
static const char SQL_HOST_REGION[] =
    "SELECT h.region FROM hosts h WHERE h.region = ANY($1::text[]) AND h.state = 'up'"
    " ORDER BY h.placement_weight DESC, h.name LIMIT 1";

int
sov_repo_net_instance(sov_dbconn *c, const char *tenant_id, const char *workspace,
                      const char *id_or_name, bool lock, sov_net_instance *ret,
                      sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, workspace ? workspace : "default", id_or_name };

    if (sov_db_query(c, SQL_INSTANCE, 3, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0) {
        sov_error_set(err, SOV_E_NOT_FOUND, "instance '%s' does not exist", id_or_name);
        snprintf(err->field, sizeof(err->field), "instance");
        return -1;
    }
    memset(ret, 0, sizeof(*ret));
    sov_db_copy(ret->id, sizeof(ret->id), res, 0, PQfnumber(res, "id"));
    sov_db_copy(ret->tenant_id, sizeof(ret->tenant_id), res, 0, PQfnumber(res, "tenant_id"));
    sov_db_copy(ret->workspace, sizeof(ret->workspace), res, 0, PQfnumber(res, "workspace"));
    sov_db_copy(ret->name, sizeof(ret->name), res, 0, PQfnumber(res, "name"));
    sov_db_copy(ret->state, sizeof(ret->state), res, 0, PQfnumber(res, "state"));
    sov_db_copy(ret->region, sizeof(ret->region), res, 0, PQfnumber(res, "region"));
    if (lock) {
        const char *lp[] = { ret->id };
        PQclear(SOV_TAKE_PTR(res));
        if (sov_db_query(c, SQL_INSTANCE_LOCK, 1, lp, &res, err) < 0)
            return -1;
    }
    return 0;
}

int
sov_repo_net_host_region(sov_dbconn *c, const char *const *regions, size_t n, char *ret,
                         size_t size, bool *found, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    sov_buf list = SOV_BUF_INIT;
    int rc;

    sov_buf_pg_array(&list, regions, n);
    if (list.oom)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    {
        const char *params[] = { list.data ? list.data : "{}" };
        rc = sov_db_query(c, SQL_HOST_REGION, 1, params, &res, err);
    }
    sov_buf_release(&list);
    if (rc < 0)
        return -1;
    *found = PQntuples(res) > 0;
    if (*found)
        sov_db_copy(ret, size, res, 0, PQfnumber(res, "region"));
    return 0;
}
