/* ovn_repo.c: the SQL of the OVN syncs: what a scope wants (its live rows, read under the
 * scope's advisory lock), and how its rows move on once OVN holds it: creating and updating
 * to available (a plugged port, and an attaching one, to in-use), deleting to deleted (quota
 * given back, audited). Rows in deleting or deleted are not wanted in OVN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/audit.h"
#include "sov/log.h"
#include "sov/quota.h"
#include "network_int.h"

#define LIVE "('deleting', 'deleted')"

void
sov_ovn_net_release(sov_ovn_net *n)
{
    free(n->subnets);
    free(n->ports);
    memset(n, 0, sizeof(*n));
}

void
sov_ovn_sg_release(sov_ovn_sg *g)
{
    free(g->rules);
    free(g->members);
    memset(g, 0, sizeof(*g));
}

void
sov_ovn_router_release(sov_ovn_router *r)
{
    free(r->subnets);
    free(r->fips);
    free(r->chassis);
    memset(r, 0, sizeof(*r));
}

int
sov_ovn_repo_lock(sov_dbconn *c, const char *scope, sov_error *err)
{
    const char *params[] = { scope };

    return sov_db_query(c, "SELECT pg_advisory_xact_lock(hashtext('sov-ovn:' || $1))", 1,
                        params, NULL, err);
}

int
sov_ovn_repo_cp(sov_dbconn *c, char ret[SOV_UUID_LEN + 1], sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, "SELECT id::text AS id FROM control_plane", 0, NULL, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_INTERNAL, "the control_plane row is missing");
    sov_db_copy(ret, SOV_UUID_LEN + 1, res, 0, 0);
    return 0;
}

/* Run sql and look its columns up. */
static int
query_cols(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
           const char *const *names, int *col, size_t ncols, PGresult **ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, sql, nparams, params, &res, err) < 0 ||
        sov_db_cols(res, names, col, ncols, err) < 0)
        return -1;
    *ret = SOV_TAKE_PTR(res);
    return 0;
}

static void *
alloc_rows(int n, size_t size)
{
    void *p = calloc((size_t) n + 1, size);

    if (!p)
        abort();
    return p;
}

/* ---- network scope ---- */

static const char SQL_NET[] =
    "SELECT n.tenant_id::text AS tenant_id, n.state,"
    " coalesce((SELECT r.id::text FROM routers r WHERE r.network_id = n.id"
    "  AND r.state NOT IN " LIVE " LIMIT 1), '') AS router_id"
    " FROM networks n WHERE n.id = $1::uuid";

static const char SQL_NET_SUBNETS[] =
    "SELECT id::text AS id, cidr::text AS cidr, host(gateway) AS gateway,"
    " array_to_string(ARRAY(SELECT host(d) FROM unnest(dns_servers) d), ',') AS dns"
    " FROM subnets WHERE network_id = $1::uuid AND state NOT IN " LIVE " ORDER BY id";

/* A plugged port's chassis is its instance's host's; while the instance migrates live
 * (its migration's row from queued to committing), the source's and the target's, so that
 * OVN binds the port on both (multi-chassis binding) and the guest keeps its addresses
 * through the switch (network/migrate.c). Once the move committed (the instance's host is
 * the target) or failed, one chassis again. A chassis that is not known (libvirt's test
 * driver) is left out. */
static const char SQL_NET_PORTS[] =
    "SELECT p.id::text AS id, p.subnet_id::text AS subnet_id, p.mac::text AS mac,"
    " host(p.ip) AS ip, CASE WHEN p.instance_id IS NULL THEN '' ELSE"
    "  coalesce((SELECT concat_ws(',', nullif(ms.host_uuid, ''), nullif(mt.host_uuid, ''))"
    "   FROM instance_migrations m JOIN hosts ms ON ms.id = m.source_host_id"
    "   JOIN hosts mt ON mt.id = m.target_host_id"
    "   WHERE m.instance_id = i.id AND m.live AND m.source_host_id = i.host_id"
    "   AND m.state IN ('queued', 'preparing', 'copying', 'switching', 'committing')"
    "   LIMIT 1), coalesce(h.host_uuid, '')) END AS chassis,"
    " (SELECT count(*) FROM port_security_groups g JOIN security_groups s"
    "   ON s.id = g.security_group_id WHERE g.port_id = p.id AND s.state NOT IN " LIVE
    " ) AS ngroups,"
    " coalesce((SELECT (k.bandwidth_mbps::bigint * 1000000)::text FROM network_skus k"
    "   WHERE k.name = coalesce(p.sku, s.sku, (SELECT n.sku FROM networks n"
    "   WHERE n.id = p.network_id))), '') AS qos_rate"
    " FROM ports p JOIN subnets s ON s.id = p.subnet_id"
    " LEFT JOIN instances i ON i.id = p.instance_id LEFT JOIN hosts h ON h.id = i.host_id"
    " WHERE p.network_id = $1::uuid AND p.state NOT IN " LIVE
    " AND s.state NOT IN " LIVE " ORDER BY p.id";

static int
read_subnets(sov_dbconn *c, const char *network_id, sov_ovn_subnet **ret, size_t *n,
             sov_error *err)
{
    static const char *const names[] = { "id", "cidr", "gateway", "dns" };
    const char *params[] = { network_id };
    sov_autoptr(PGresult) res = NULL;
    int col[4], rows;
    sov_ovn_subnet *s;

    if (query_cols(c, SQL_NET_SUBNETS, 1, params, names, col, 4, &res, err) < 0)
        return -1;
    rows = PQntuples(res);
    s = alloc_rows(rows, sizeof(*s));
    for (int i = 0; i < rows; i++) {
        char dns[SOV_NET_DNS_MAX * SOV_IP_MAX + 8];

        sov_db_copy(s[i].id, sizeof(s[i].id), res, i, col[0]);
        sov_db_copy(s[i].cidr, sizeof(s[i].cidr), res, i, col[1]);
        sov_db_copy(s[i].gateway, sizeof(s[i].gateway), res, i, col[2]);
        sov_db_copy(dns, sizeof(dns), res, i, col[3]);
        s[i].ndns = dns[0] ? sov_db_split(dns, &s[i].dns[0][0], SOV_NET_DNS_MAX, SOV_IP_MAX)
                           : 0;
    }
    *ret = s;
    *n = (size_t) rows;
    return 0;
}

int
sov_ovn_repo_net(sov_dbconn *c, const char *id, sov_ovn_net *ret, sov_error *err)
{
    static const char *const names[] = { "tenant_id", "state", "router_id" };
    static const char *const pnames[] = { "id", "subnet_id", "mac", "ip", "chassis",
                                          "ngroups", "qos_rate" };
    const char *params[] = { id };
    sov_autoptr(PGresult) res = NULL;
    sov_autoptr(PGresult) pres = NULL;
    int col[7], rows;
    char state[16];

    memset(ret, 0, sizeof(*ret));
    if (query_cols(c, SQL_NET, 1, params, names, col, 3, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return 0;
    sov_db_copy(ret->tenant_id, sizeof(ret->tenant_id), res, 0, col[0]);
    sov_db_copy(state, sizeof(state), res, 0, col[1]);
    sov_db_copy(ret->router_id, sizeof(ret->router_id), res, 0, col[2]);
    if (strcmp(state, "deleting") == 0 || strcmp(state, "deleted") == 0) {
        ret->router_id[0] = '\0';
        return 0;
    }
    ret->live = true;
    if (read_subnets(c, id, &ret->subnets, &ret->nsubnets, err) < 0)
        return -1;
    if (query_cols(c, SQL_NET_PORTS, 1, params, pnames, col, 7, &pres, err) < 0)
        return -1;
    rows = PQntuples(pres);
    ret->ports = alloc_rows(rows, sizeof(*ret->ports));
    ret->nports = (size_t) rows;
    for (int i = 0; i < rows; i++) {
        sov_ovn_port *p = &ret->ports[i];

        sov_db_copy(p->id, sizeof(p->id), pres, i, col[0]);
        sov_db_copy(p->subnet_id, sizeof(p->subnet_id), pres, i, col[1]);
        sov_db_copy(p->mac, sizeof(p->mac), pres, i, col[2]);
        sov_db_copy(p->ip, sizeof(p->ip), pres, i, col[3]);
        sov_db_copy(p->chassis, sizeof(p->chassis), pres, i, col[4]);
        p->ngroups = strtol(PQgetvalue(pres, i, col[5]), NULL, 10);
        sov_db_copy(p->qos_rate, sizeof(p->qos_rate), pres, i, col[6]);
    }
    return 0;
}

/* ---- security group scope ---- */

static const char SQL_SG[] =
    "SELECT tenant_id::text AS tenant_id, state FROM security_groups WHERE id = $1::uuid";

static const char SQL_SG_RULES[] =
    "SELECT id::text AS id, direction, protocol, coalesce(port_min, 0) AS port_min,"
    " coalesce(port_max, 0) AS port_max, coalesce(remote_cidr::text, '') AS remote_cidr,"
    " coalesce(remote_group_id::text, '') AS remote_group_id"
    " FROM security_group_rules WHERE security_group_id = $1::uuid ORDER BY id";

static const char SQL_SG_MEMBERS[] =
    "SELECT p.id::text AS id FROM port_security_groups g JOIN ports p ON p.id = g.port_id"
    " WHERE g.security_group_id = $1::uuid AND p.state NOT IN " LIVE " ORDER BY p.id";

int
sov_ovn_repo_sg(sov_dbconn *c, const char *id, sov_ovn_sg *ret, sov_error *err)
{
    static const char *const names[] = { "tenant_id", "state" };
    static const char *const rnames[] = { "id", "direction", "protocol", "port_min",
                                          "port_max", "remote_cidr", "remote_group_id" };
    static const char *const mnames[] = { "id" };
    const char *params[] = { id };
    sov_autoptr(PGresult) res = NULL;
    sov_autoptr(PGresult) rres = NULL;
    sov_autoptr(PGresult) mres = NULL;
    int col[7], rows;
    char state[16];

    memset(ret, 0, sizeof(*ret));
    if (query_cols(c, SQL_SG, 1, params, names, col, 2, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return 0;
    sov_db_copy(ret->tenant_id, sizeof(ret->tenant_id), res, 0, col[0]);
    sov_db_copy(state, sizeof(state), res, 0, col[1]);
    if (strcmp(state, "deleting") == 0 || strcmp(state, "deleted") == 0)
        return 0;
    ret->live = true;
    if (query_cols(c, SQL_SG_RULES, 1, params, rnames, col, 7, &rres, err) < 0)
        return -1;
    rows = PQntuples(rres);
    ret->rules = alloc_rows(rows, sizeof(*ret->rules));
    ret->nrules = (size_t) rows;
    for (int i = 0; i < rows; i++) {
        sov_ovn_rule *r = &ret->rules[i];

        sov_db_copy(r->id, sizeof(r->id), rres, i, col[0]);
        sov_db_copy(r->direction, sizeof(r->direction), rres, i, col[1]);
        sov_db_copy(r->protocol, sizeof(r->protocol), rres, i, col[2]);
        r->port_min = (int) strtol(PQgetvalue(rres, i, col[3]), NULL, 10);
        r->port_max = (int) strtol(PQgetvalue(rres, i, col[4]), NULL, 10);
        sov_db_copy(r->remote_cidr, sizeof(r->remote_cidr), rres, i, col[5]);
        sov_db_copy(r->remote_group_id, sizeof(r->remote_group_id), rres, i, col[6]);
    }
    if (query_cols(c, SQL_SG_MEMBERS, 1, params, mnames, col, 1, &mres, err) < 0)
        return -1;
    rows = PQntuples(mres);
    ret->members = alloc_rows(rows, sizeof(*ret->members));
    ret->nmembers = (size_t) rows;
    for (int i = 0; i < rows; i++)
        sov_db_copy(ret->members[i], sizeof(ret->members[i]), mres, i, col[0]);
    return 0;
}

/* ---- router scope ---- */

static const char SQL_ROUTER[] =
    "SELECT r.tenant_id::text AS tenant_id, r.state, r.network_id::text AS network_id,"
    " r.snat, r.region, coalesce(host(ip.address), '') AS external_ip,"
    " coalesce(pp.id::text, '') AS pool_id, coalesce(pp.cidr::text, '') AS pool_cidr,"
    " coalesce(host(pp.gateway), '') AS pool_gateway,"
    " coalesce(pp.physical_network, '') AS physical_network"
    " FROM routers r LEFT JOIN public_ips ip ON ip.router_id = r.id AND ip.kind = 'router'"
    "  AND ip.state NOT IN " LIVE
    " LEFT JOIN public_ip_pools pp ON pp.id = ip.pool_id"
    " WHERE r.id = $1::uuid";

/* Public IPs attached to live ports of the network: in-use, or on their way to it. */
static const char SQL_ROUTER_FIPS[] =
    "SELECT host(ip.address) AS address, host(p.ip) AS ip FROM public_ips ip"
    " JOIN ports p ON p.id = ip.port_id"
    " WHERE p.network_id = $1::uuid AND ip.kind = 'ip'"
    " AND ip.state NOT IN ('deleting', 'deleted', 'detaching', 'error')"
    " AND p.state NOT IN " LIVE " ORDER BY ip.address";

static const char SQL_ROUTER_CHASSIS[] =
    "SELECT host_uuid FROM hosts WHERE region = $1 AND state = 'up' AND host_uuid <> ''"
    " ORDER BY name";

int
sov_ovn_repo_router(sov_dbconn *c, const char *id, sov_ovn_router *ret, sov_error *err)
{
    static const char *const names[] = { "tenant_id", "state", "network_id", "snat",
                                         "region", "external_ip", "pool_id", "pool_cidr",
                                         "pool_gateway", "physical_network" };
    static const char *const fnames[] = { "address", "ip" };
    static const char *const cnames[] = { "host_uuid" };
    const char *params[] = { id };
    const char *nparams[1], *rparams[1];
    sov_autoptr(PGresult) res = NULL;
    sov_autoptr(PGresult) fres = NULL;
    sov_autoptr(PGresult) cres = NULL;
    int col[10], rows;
    char state[16], region[SOV_NAME_MAX + 1];

    memset(ret, 0, sizeof(*ret));
    if (query_cols(c, SQL_ROUTER, 1, params, names, col, 10, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return 0;
    sov_db_copy(ret->tenant_id, sizeof(ret->tenant_id), res, 0, col[0]);
    sov_db_copy(state, sizeof(state), res, 0, col[1]);
    sov_db_copy(ret->network_id, sizeof(ret->network_id), res, 0, col[2]);
    if (strcmp(state, "deleting") == 0 || strcmp(state, "deleted") == 0)
        return 0;
    ret->live = true;
    ret->snat = strcmp(PQgetvalue(res, 0, col[3]), "t") == 0;
    sov_db_copy(region, sizeof(region), res, 0, col[4]);
    sov_db_copy(ret->external_ip, sizeof(ret->external_ip), res, 0, col[5]);
    sov_db_copy(ret->pool_id, sizeof(ret->pool_id), res, 0, col[6]);
    sov_db_copy(ret->pool_cidr, sizeof(ret->pool_cidr), res, 0, col[7]);
    sov_db_copy(ret->pool_gateway, sizeof(ret->pool_gateway), res, 0, col[8]);
    sov_db_copy(ret->physical_network, sizeof(ret->physical_network), res, 0, col[9]);
    if (read_subnets(c, ret->network_id, &ret->subnets, &ret->nsubnets, err) < 0)
        return -1;
    nparams[0] = ret->network_id;
    if (query_cols(c, SQL_ROUTER_FIPS, 1, nparams, fnames, col, 2, &fres, err) < 0)
        return -1;
    rows = PQntuples(fres);
    ret->fips = alloc_rows(rows, sizeof(*ret->fips));
    ret->nfips = (size_t) rows;
    for (int i = 0; i < rows; i++) {
        sov_db_copy(ret->fips[i].address, sizeof(ret->fips[i].address), fres, i, col[0]);
        sov_db_copy(ret->fips[i].ip, sizeof(ret->fips[i].ip), fres, i, col[1]);
    }
    rparams[0] = region;
    if (query_cols(c, SQL_ROUTER_CHASSIS, 1, rparams, cnames, col, 1, &cres, err) < 0)
        return -1;
    rows = PQntuples(cres);
    ret->chassis = alloc_rows(rows, sizeof(*ret->chassis));
    ret->nchassis = (size_t) rows;
    for (int i = 0; i < rows; i++)
        sov_db_copy(ret->chassis[i], sizeof(ret->chassis[i]), cres, i, col[0]);
    return 0;
}

/* ---- moving rows on ---- */

/* Each statement moves the rows of a scope in one table and returns those it deleted. */
static const char SQL_SETTLE_NETWORK[] =
    "UPDATE networks SET state = CASE state WHEN 'deleting' THEN 'deleted' ELSE 'available'"
    " END, state_reason = '', deleted_at = CASE state WHEN 'deleting' THEN now() END,"
    " ovn_synced_at = now(), updated_at = now()"
    " WHERE id = $1::uuid AND state IN ('creating', 'updating', 'deleting')"
    " RETURNING id::text AS id, coalesce(tenant_id::text, '') AS tenant_id, state";

static const char SQL_SETTLE_SUBNETS[] =
    "UPDATE subnets SET state = CASE state WHEN 'deleting' THEN 'deleted' ELSE 'available'"
    " END, state_reason = '', deleted_at = CASE state WHEN 'deleting' THEN now() END,"
    " ovn_synced_at = now(), updated_at = now()"
    " WHERE network_id = $1::uuid AND state IN ('creating', 'updating', 'deleting')"
    " RETURNING id::text AS id, coalesce(tenant_id::text, '') AS tenant_id, state";

/* A port in detaching is part "plug"'s to move. */
static const char SQL_SETTLE_PORTS[] =
    "UPDATE ports SET state = CASE WHEN state = 'deleting' THEN 'deleted'"
    " WHEN instance_id IS NOT NULL THEN 'in-use' ELSE 'available' END, state_reason = '',"
    " deleted_at = CASE state WHEN 'deleting' THEN now() END, ovn_synced_at = now(),"
    " updated_at = now()"
    " WHERE network_id = $1::uuid AND state IN ('creating', 'updating', 'attaching',"
    " 'deleting')"
    " RETURNING id::text AS id, coalesce(tenant_id::text, '') AS tenant_id, state";

static const char SQL_SYNCED_NETWORK[] =
    "WITH a AS (UPDATE networks SET ovn_synced_at = now() WHERE id = $1::uuid"
    "  AND state NOT IN " LIVE " RETURNING 1),"
    " b AS (UPDATE subnets SET ovn_synced_at = now() WHERE network_id = $1::uuid"
    "  AND state NOT IN " LIVE " RETURNING 1)"
    " UPDATE ports SET ovn_synced_at = now() WHERE network_id = $1::uuid"
    " AND state NOT IN " LIVE;

static const char SQL_SETTLE_SG[] =
    "UPDATE security_groups SET state = CASE state WHEN 'deleting' THEN 'deleted'"
    " ELSE 'available' END, state_reason = '',"
    " deleted_at = CASE state WHEN 'deleting' THEN now() END, ovn_synced_at = now(),"
    " updated_at = now()"
    " WHERE id = $1::uuid AND state IN ('creating', 'updating', 'deleting')"
    " RETURNING id::text AS id, coalesce(tenant_id::text, '') AS tenant_id, state";

static const char SQL_SETTLE_ROUTER[] =
    "UPDATE routers SET state = CASE state WHEN 'deleting' THEN 'deleted'"
    " ELSE 'available' END, state_reason = '',"
    " deleted_at = CASE state WHEN 'deleting' THEN now() END, ovn_synced_at = now(),"
    " updated_at = now()"
    " WHERE id = $1::uuid AND state IN ('creating', 'updating', 'deleting')"
    " RETURNING id::text AS id, coalesce(tenant_id::text, '') AS tenant_id, state";

/* A router's own address goes with the router (not counted in the tenant's quota). */
static const char SQL_SETTLE_ROUTER_IP[] =
    "UPDATE public_ips SET state = CASE WHEN r.state IN " LIVE " THEN 'deleted'"
    " ELSE 'in-use' END, deleted_at = CASE WHEN r.state IN " LIVE " THEN now() END,"
    " state_reason = '', ovn_synced_at = now(), updated_at = now()"
    " FROM routers r WHERE r.id = public_ips.router_id AND public_ips.router_id = $1::uuid"
    " AND public_ips.kind = 'router' AND public_ips.state <> 'deleted'"
    " AND (public_ips.state <> 'in-use' OR r.state IN " LIVE ")"
    " RETURNING public_ips.id::text AS id, '' AS tenant_id, public_ips.state";

/* The public IPs on the router's network's ports. */
static const char SQL_SETTLE_FIPS[] =
    "UPDATE public_ips SET state = CASE WHEN public_ips.state = 'deleting' THEN 'deleted'"
    " WHEN public_ips.state = 'detaching' THEN 'available' ELSE 'in-use' END,"
    " port_id = CASE WHEN public_ips.state IN ('deleting', 'detaching') THEN NULL"
    "  ELSE public_ips.port_id END,"
    " deleted_at = CASE public_ips.state WHEN 'deleting' THEN now() END,"
    " state_reason = '', ovn_synced_at = now(), updated_at = now()"
    " FROM ports p, routers r WHERE p.id = public_ips.port_id AND r.id = $1::uuid"
    " AND p.network_id = r.network_id AND public_ips.kind = 'ip'"
    " AND public_ips.state IN ('creating', 'attaching', 'updating', 'detaching', 'deleting')"
    " RETURNING public_ips.id::text AS id, coalesce(public_ips.tenant_id::text, '')"
    " AS tenant_id, public_ips.state";

static const char SQL_SETTLE_FIP[] =
    "UPDATE public_ips SET state = CASE WHEN state = 'deleting' THEN 'deleted'"
    " WHEN state = 'detaching' THEN 'available' WHEN port_id IS NOT NULL THEN 'in-use'"
    " ELSE 'available' END,"
    " port_id = CASE WHEN state IN ('deleting', 'detaching') THEN NULL ELSE port_id END,"
    " deleted_at = CASE state WHEN 'deleting' THEN now() END,"
    " state_reason = '', ovn_synced_at = now(), updated_at = now()"
    " WHERE id = $1::uuid AND kind = 'ip'"
    " AND state IN ('creating', 'attaching', 'updating', 'detaching', 'deleting')"
    " RETURNING id::text AS id, coalesce(tenant_id::text, '') AS tenant_id, state";

/* Run a settle statement; each row it deleted gives back one of quota q (q < 0: none) and
 * is audited as resource_type. */
static int
settle(sov_dbconn *c, sov_ctx *ctx, const char *sql, const char *id, int q,
       const char *resource_type, sov_error *err)
{
    static const char *const names[] = { "id", "tenant_id", "state" };
    const char *params[] = { id };
    sov_autoptr(PGresult) res = NULL;
    int col[3];

    if (query_cols(c, sql, 1, params, names, col, 3, &res, err) < 0)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *rid = PQgetvalue(res, i, col[0]), *tenant = PQgetvalue(res, i, col[1]);

        if (strcmp(PQgetvalue(res, i, col[2]), "deleted") != 0)
            continue;
        if (q >= 0 && tenant[0] &&
            sov_quota_release(c, tenant, (sov_quota_resource) q, 1, err) < 0)
            return -1;
        if (sov_audit_append(c, ctx, tenant[0] ? tenant : NULL, resource_type, rid,
                             SOV_OUTCOME_DELETED, err) < 0)
            return -1;
    }
    return 0;
}

int
sov_ovn_repo_net_settle(sov_dbconn *c, sov_ctx *ctx, const char *id, sov_error *err)
{
    const char *params[] = { id };

    if (settle(c, ctx, SQL_SETTLE_PORTS, id, SOV_QUOTA_PORTS, "port", err) < 0 ||
        settle(c, ctx, SQL_SETTLE_SUBNETS, id, SOV_QUOTA_SUBNETS, "subnet", err) < 0 ||
        settle(c, ctx, SQL_SETTLE_NETWORK, id, SOV_QUOTA_NETWORKS, "network", err) < 0)
        return -1;
    return sov_db_query(c, SQL_SYNCED_NETWORK, 1, params, NULL, err);
}

static const char SQL_SG_RULE_COUNT[] =
    "SELECT count(*) AS n FROM security_group_rules r JOIN security_groups g"
    " ON g.id = r.security_group_id WHERE g.id = $1::uuid AND g.state = 'deleted'"
    " AND g.deleted_at = now()";

int
sov_ovn_repo_sg_settle(sov_dbconn *c, sov_ctx *ctx, const char *id, sov_error *err)
{
    static const char *const names[] = { "n" };
    const char *params[] = { id };
    sov_autoptr(PGresult) res = NULL;
    sov_autoptr(PGresult) tres = NULL;
    int col[1];
    long long n;

    if (settle(c, ctx, SQL_SETTLE_SG, id, SOV_QUOTA_SECURITY_GROUPS, "security_group",
               err) < 0)
        return -1;
    /* A group deleted just now gives back what its rules counted too. */
    if (query_cols(c, SQL_SG_RULE_COUNT, 1, params, names, col, 1, &res, err) < 0)
        return -1;
    n = strtoll(PQgetvalue(res, 0, col[0]), NULL, 10);
    if (n > 0) {
        if (sov_db_query(c, "SELECT coalesce(tenant_id::text, '') FROM security_groups"
                         " WHERE id = $1::uuid", 1, params, &tres, err) < 0)
            return -1;
        if (PQntuples(tres) > 0 && PQgetvalue(tres, 0, 0)[0] &&
            sov_quota_release(c, PQgetvalue(tres, 0, 0), SOV_QUOTA_SECURITY_GROUP_RULES, n,
                              err) < 0)
            return -1;
    }
    return 0;
}

int
sov_ovn_repo_router_settle(sov_dbconn *c, sov_ctx *ctx, const char *id, sov_error *err)
{
    if (settle(c, ctx, SQL_SETTLE_FIPS, id, SOV_QUOTA_PUBLIC_IPS, "public_ip", err) < 0 ||
        settle(c, ctx, SQL_SETTLE_ROUTER, id, -1, "router", err) < 0)
        return -1;
    return settle(c, ctx, SQL_SETTLE_ROUTER_IP, id, -1, "public_ip", err);
}

int
sov_ovn_repo_fip_settle(sov_dbconn *c, sov_ctx *ctx, const char *id, sov_error *err)
{
    return settle(c, ctx, SQL_SETTLE_FIP, id, SOV_QUOTA_PUBLIC_IPS, "public_ip", err);
}

/* ---- scopes of a resource ---- */

static const char SQL_SCOPE_SUBNET[] =
    "SELECT s.network_id::text AS network_id, coalesce(r.id::text, '') AS router_id,"
    " coalesce(s.tenant_id::text, '') AS tenant_id"
    " FROM subnets s LEFT JOIN routers r ON r.network_id = s.network_id"
    " AND r.state <> 'deleted' WHERE s.id = $1::uuid";

static const char SQL_SCOPE_PORT[] =
    "SELECT p.network_id::text AS network_id, coalesce(r.id::text, '') AS router_id,"
    " coalesce(p.tenant_id::text, '') AS tenant_id"
    " FROM ports p LEFT JOIN routers r ON r.network_id = p.network_id"
    " AND r.state <> 'deleted' WHERE p.id = $1::uuid";

static const char SQL_SCOPE_NETWORK[] =
    "SELECT n.id::text AS network_id, coalesce(r.id::text, '') AS router_id,"
    " coalesce(n.tenant_id::text, '') AS tenant_id"
    " FROM networks n LEFT JOIN routers r ON r.network_id = n.id"
    " AND r.state <> 'deleted' WHERE n.id = $1::uuid";

static const char SQL_SCOPE_ROUTER[] =
    "SELECT network_id::text AS network_id, id::text AS router_id,"
    " coalesce(tenant_id::text, '') AS tenant_id FROM routers WHERE id = $1::uuid";

/* A public IP on a port of a network with a router: that router's scope. */
static const char SQL_SCOPE_FIP[] =
    "SELECT coalesce(p.network_id::text, '') AS network_id,"
    " coalesce(r.id::text, '') AS router_id, coalesce(ip.tenant_id::text, '') AS tenant_id"
    " FROM public_ips ip LEFT JOIN ports p ON p.id = ip.port_id"
    " LEFT JOIN routers r ON r.network_id = p.network_id AND r.state <> 'deleted'"
    " WHERE ip.id = $1::uuid";

int
sov_ovn_repo_scopes(sov_dbconn *c, const char *resource_type, const char *id,
                    sov_ovn_scopes *ret, sov_error *err)
{
    static const char *const names[] = { "network_id", "router_id", "tenant_id" };
    const char *params[] = { id };
    const char *sql = NULL;
    sov_autoptr(PGresult) res = NULL;
    int col[3];

    memset(ret, 0, sizeof(*ret));
    if (strcmp(resource_type, "security_group") == 0) {
        snprintf(ret->sg_id, sizeof(ret->sg_id), "%s", id);
        return 0;
    }
    if (strcmp(resource_type, "network") == 0)
        sql = SQL_SCOPE_NETWORK;
    else if (strcmp(resource_type, "subnet") == 0)
        sql = SQL_SCOPE_SUBNET;
    else if (strcmp(resource_type, "port") == 0)
        sql = SQL_SCOPE_PORT;
    else if (strcmp(resource_type, "router") == 0)
        sql = SQL_SCOPE_ROUTER;
    else if (strcmp(resource_type, "public_ip") == 0)
        sql = SQL_SCOPE_FIP;
    else
        return sov_error_set(err, SOV_E_INTERNAL, "no OVN scope for a %s", resource_type);
    if (query_cols(c, sql, 1, params, names, col, 3, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return 0;   /* gone: nothing left to sync */
    sov_db_copy(ret->network_id, sizeof(ret->network_id), res, 0, col[0]);
    sov_db_copy(ret->router_id, sizeof(ret->router_id), res, 0, col[1]);
    sov_db_copy(ret->tenant_id, sizeof(ret->tenant_id), res, 0, col[2]);
    if (strcmp(resource_type, "public_ip") == 0) {
        snprintf(ret->fip_id, sizeof(ret->fip_id), "%s", id);
        ret->network_id[0] = '\0';
    }
    if (strcmp(resource_type, "port") == 0)
        ret->all_sgs_of_tenant = true;
    return 0;
}

static int
read_ids(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
         char (**ret)[SOV_UUID_LEN + 1], size_t *n, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char (*ids)[SOV_UUID_LEN + 1];
    int rows;

    if (sov_db_query(c, sql, nparams, params, &res, err) < 0)
        return -1;
    rows = PQntuples(res);
    ids = alloc_rows(rows, sizeof(*ids));
    for (int i = 0; i < rows; i++)
        sov_db_copy(ids[i], sizeof(ids[i]), res, i, 0);
    *ret = ids;
    *n = (size_t) rows;
    return 0;
}

int
sov_ovn_repo_tenant_sgs(sov_dbconn *c, const char *tenant_id,
                        char (**ret)[SOV_UUID_LEN + 1], size_t *n, sov_error *err)
{
    const char *params[] = { tenant_id };

    return read_ids(c, "SELECT id::text FROM security_groups WHERE tenant_id = $1::uuid"
                    " AND state NOT IN " LIVE " ORDER BY id", 1, params, ret, n, err);
}

int
sov_ovn_repo_live(sov_dbconn *c, const char *kind, char (**ret)[SOV_UUID_LEN + 1],
                  size_t *n, sov_error *err)
{
    if (strcmp(kind, "network") == 0)
        return read_ids(c, "SELECT id::text FROM networks WHERE state <> 'deleted'"
                        " ORDER BY id", 0, NULL, ret, n, err);
    if (strcmp(kind, "sg") == 0)
        return read_ids(c, "SELECT id::text FROM security_groups WHERE state <> 'deleted'"
                        " ORDER BY id", 0, NULL, ret, n, err);
    if (strcmp(kind, "router") == 0)
        return read_ids(c, "SELECT id::text FROM routers WHERE state <> 'deleted'"
                        " ORDER BY id", 0, NULL, ret, n, err);
    if (strcmp(kind, "pool") == 0)
        return read_ids(c, "SELECT DISTINCT ip.pool_id::text FROM public_ips ip JOIN routers r"
                        " ON r.id = ip.router_id WHERE ip.kind = 'router'"
                        " AND r.state NOT IN " LIVE " AND ip.state <> 'deleted'", 0, NULL,
                        ret, n, err);
    return sov_error_set(err, SOV_E_INTERNAL, "no scope kind '%s'", kind);
}

int
sov_ovn_repo_is_live(sov_dbconn *c, const char *kind, const char *id, bool *ret,
                     sov_error *err)
{
    char (*ids)[SOV_UUID_LEN + 1] = NULL;
    size_t n = 0;

    if (sov_ovn_repo_live(c, kind, &ids, &n, err) < 0)
        return -1;
    *ret = false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            *ret = true;
    free(ids);
    return 0;
}

int
sov_ovn_repo_plugged_ports(sov_dbconn *c, char (**ret)[SOV_UUID_LEN + 1], size_t *n,
                           sov_error *err)
{
    return read_ids(c, "SELECT id::text FROM ports WHERE instance_id IS NOT NULL"
                    " AND state NOT IN " LIVE " ORDER BY id", 0, NULL, ret, n, err);
}

int
sov_ovn_repo_port_up(sov_dbconn *c, const char *id, bool up, const char *chassis,
                     sov_error *err)
{
    const char *params[] = { id, up ? "true" : "false", chassis };

    return sov_db_query(c, "UPDATE ports SET up = $2::boolean, chassis = $3"
                        " WHERE id = $1::uuid AND (up <> $2::boolean OR chassis <> $3)", 3,
                        params, NULL, err);
}

int
sov_ovn_host_chassis(sov_dbconn *c, const char *host_id, char *ret, size_t size,
                     sov_error *err)
{
    const char *params[] = { host_id };
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, "SELECT host_uuid FROM hosts WHERE id = $1::uuid", 1, params, &res,
                     err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "host '%s' does not exist", host_id);
    sov_db_copy(ret, size, res, 0, 0);
    return 0;
}

int
sov_ovn_repo_set_error(sov_dbconn *c, const char *resource_type, const char *id,
                       const char *reason, sov_error *err)
{
    static const struct { const char *type, *sql; } tables[] = {
        { "network", "UPDATE networks SET state = 'error', state_reason = $2,"
          " updated_at = now() WHERE id = $1::uuid AND state <> 'deleted'" },
        { "subnet", "UPDATE subnets SET state = 'error', state_reason = $2,"
          " updated_at = now() WHERE id = $1::uuid AND state <> 'deleted'" },
        { "port", "UPDATE ports SET state = 'error', state_reason = $2,"
          " updated_at = now() WHERE id = $1::uuid AND state <> 'deleted'" },
        { "security_group", "UPDATE security_groups SET state = 'error', state_reason = $2,"
          " updated_at = now() WHERE id = $1::uuid AND state <> 'deleted'" },
        { "router", "UPDATE routers SET state = 'error', state_reason = $2,"
          " updated_at = now() WHERE id = $1::uuid AND state <> 'deleted'" },
        { "public_ip", "UPDATE public_ips SET state = 'error', state_reason = $2,"
          " updated_at = now() WHERE id = $1::uuid AND state <> 'deleted'" },
    };
    const char *params[] = { id, reason };

    for (size_t i = 0; i < SOV_N_ELEMENTS(tables); i++)
        if (strcmp(tables[i].type, resource_type) == 0)
            return sov_db_query(c, tables[i].sql, 2, params, NULL, err);
    return 0;
}
