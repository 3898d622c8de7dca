/* instance_repo.c: the SQL of flavors and instances (and which hosts hold image copies).
 * An instance's residency is the last residency record about it; its placement is the
 * decision stored when it was scheduled. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compute_int.h"
#include "sov/buf.h"
#include "sov/repo/db_pq.h"

#define TS SOV_SQL_TS

/* ---- flavors ---- */

#define FLAVOR_COLS                                                                      \
    "id, name, vcpus, memory_mib, disk_gib, gpus, " TS("created_at") " AS created_at"

static const char SQL_FLAVOR_INSERT[] =
    "INSERT INTO flavors (name, vcpus, memory_mib, disk_gib, gpus) VALUES ($1, $2, $3, $4, $5)"
    " RETURNING " FLAVOR_COLS;
static const char SQL_FLAVOR_GET[] =
    "SELECT " FLAVOR_COLS " FROM flavors WHERE (CASE WHEN $1 ~"
    " '^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$'"
    " THEN id = $1::uuid ELSE false END) OR name = $1";
static const char SQL_FLAVOR_LIST[] =
    "SELECT " FLAVOR_COLS " FROM flavors WHERE name > $1 ORDER BY name LIMIT $2";
static const char SQL_FLAVOR_DELETE[] = "DELETE FROM flavors WHERE id = $1 RETURNING id";
/* The row lock keeps an instance from taking the flavor while we look (its key check waits). */
static const char SQL_FLAVOR_LOCK[] = "SELECT name FROM flavors WHERE id = $1 FOR UPDATE";
static const char SQL_FLAVOR_BLOCKERS[] =
    "SELECT 'instance' AS kind, id::text AS id, name FROM instances"
    " WHERE flavor_id = $1 AND state <> 'deleted' ORDER BY created_at, id LIMIT 9";

enum { F_ID, F_NAME, F_VCPUS, F_MEMORY, F_DISK, F_GPUS, F_CREATED, F__N };
static const char *const flavor_cols[F__N] = {
    [F_ID] = "id", [F_NAME] = "name", [F_VCPUS] = "vcpus", [F_MEMORY] = "memory_mib",
    [F_DISK] = "disk_gib", [F_GPUS] = "gpus", [F_CREATED] = "created_at",
};

static void
fill_flavor(const PGresult *r, int i, const int *col, void *out)
{
    sov_flavor *f = out;

    memset(f, 0, sizeof(*f));
    sov_db_copy(f->id, sizeof(f->id), r, i, col[F_ID]);
    sov_db_copy(f->name, sizeof(f->name), r, i, col[F_NAME]);
    f->vcpus = atoi(PQgetvalue(r, i, col[F_VCPUS]));
    f->memory_mib = strtoll(PQgetvalue(r, i, col[F_MEMORY]), NULL, 10);
    f->disk_gib = strtoll(PQgetvalue(r, i, col[F_DISK]), NULL, 10);
    f->gpus = atoi(PQgetvalue(r, i, col[F_GPUS]));
    sov_db_copy(f->created_at, sizeof(f->created_at), r, i, col[F_CREATED]);
}

static const sov_db_rowmap row_flavor = { flavor_cols, F__N, fill_flavor };

int
sov_repo_flavor_insert(sov_dbconn *c, const sov_flavor *in, sov_flavor *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char v[16], m[24], d[24], g[16];
    const char *params[] = { in->name, v, m, d, g };

    snprintf(v, sizeof(v), "%d", in->vcpus);
    snprintf(m, sizeof(m), "%lld", in->memory_mib);
    snprintf(d, sizeof(d), "%lld", in->disk_gib);
    snprintf(g, sizeof(g), "%d", in->gpus);
    if (sov_db_query(c, SQL_FLAVOR_INSERT, 5, params, &res, err) < 0) {
        if (err->code == SOV_E_CONFLICT)
            return sov_error_set(err, SOV_E_CONFLICT, "flavor '%s' already exists", in->name);
        return -1;
    }
    return sov_db_fill(res, 0, &row_flavor, ret, err);
}

int
sov_repo_flavor_get(sov_dbconn *c, const char *id_or_name, sov_flavor *ret, sov_error *err)
{
    const char *params[] = { id_or_name };

    return sov_db_one(c, SQL_FLAVOR_GET, 1, params, &row_flavor, ret, "flavor", id_or_name, err);
}

int
sov_repo_flavor_list(sov_dbconn *c, const char *after, unsigned limit, sov_flavor_page *ret,
                     sov_error *err)
{
    char lim[16];
    const char *params[] = { after ? after : "", lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_FLAVOR_LIST, 2, params, sizeof(*ret->items), &row_flavor, limit,
                       "name", (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_repo_flavor_delete(sov_dbconn *c, const char *id, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id };
    char what[128];

    if (sov_db_query(c, SQL_FLAVOR_LOCK, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "flavor '%s' does not exist", id);
    snprintf(what, sizeof(what), "flavor '%s'", PQgetvalue(res, 0, PQfnumber(res, "name")));
    PQclear(SOV_TAKE_PTR(res));
    if (sov_db_blockers(c, SQL_FLAVOR_BLOCKERS, 1, params, what, err) < 0)
        return -1;
    if (sov_db_query(c, SQL_FLAVOR_DELETE, 1, params, &res, err) < 0) {
        if (err->code == SOV_E_CONFLICT)
            return sov_error_set(err, SOV_E_CONFLICT, "flavor '%s' is used by instances", id);
        return -1;
    }
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "flavor '%s' does not exist", id);
    return 0;
}

/* ---- instances ---- */

#define INSTANCE_COLS                                                                    \
    "i.id, i.tenant_id, i.workspace, i.name, i.flavor_id,"                               \
    " coalesce(i.image_id::text, '') AS image_id,"                                       \
    " coalesce(i.boot_volume_id::text, '') AS boot_volume_id, i.vcpus,"                  \
    " i.memory_mib, i.disk_gib, i.gpus, i.region, i.zone,"                               \
    " coalesce(i.host_id::text, '') AS host_id, coalesce(h.name, '') AS host_name,"      \
    " coalesce(i.anti_affinity_group, '') AS anti_affinity_group, i.mac, i.addresses,"   \
    " i.nat_nic, i.state, i.state_reason, coalesce(i.operation_id::text, '') AS operation_id,"      \
    " coalesce(r.to_host, '') AS res_host, coalesce(r.to_region, '') AS res_region,"     \
    " coalesce(r.to_country, '') AS res_country,"                                        \
    " coalesce(r.to_jurisdiction, '') AS res_jurisdiction,"                              \
    " coalesce(r.to_datacenter, '') AS res_datacenter,"                                  \
    " coalesce(" TS("r.at") ", '') AS residency_since,"                                  \
    " coalesce(p.considered, 0) AS considered,"                                          \
    " coalesce(p.rejected::text, '{}') AS rejected,"                                     \
    " coalesce(p.strategy, '') AS strategy, " TS("i.created_at") " AS created_at, "       \
    TS("i.updated_at") " AS updated_at"

#define INSTANCE_FROM                                                                    \
    " FROM instances i LEFT JOIN hosts h ON h.id = i.host_id"                            \
    " LEFT JOIN placements p ON p.id = i.placement_id"                                   \
    " LEFT JOIN LATERAL (SELECT * FROM residency_records rr"                             \
    " WHERE rr.resource_type = 'instance' AND rr.resource_id = i.id::text"               \
    " ORDER BY rr.seq DESC LIMIT 1) r ON true"

static const char SQL_INSTANCE_INSERT[] =
    "INSERT INTO instances (id, tenant_id, workspace, name, flavor_id, image_id, vcpus,"
    " memory_mib, disk_gib, gpus, region, zone, host_id, allocation_id, placement_id,"
    " anti_affinity_group, user_data, ssh_keys, mac, state, operation_id, nat_nic) VALUES ($1,"
    " $2, $3, $4, $5, NULLIF($6, '')::uuid, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
    " NULLIF($16, ''), $17,"
    " $18::text[], $19, 'scheduling', NULLIF($20, '')::uuid, $21)";
static const char SQL_INSTANCE_GET[] =
    "SELECT " INSTANCE_COLS INSTANCE_FROM
    " WHERE i.id = $2::uuid AND i.tenant_id = coalesce($1::uuid, i.tenant_id)";
static const char SQL_INSTANCE_LOCK[] =
    "SELECT id FROM instances WHERE id = $2::uuid AND tenant_id = coalesce($1::uuid,"
    " tenant_id) FOR UPDATE";
static const char SQL_INSTANCE_SEED[] =
    "SELECT user_data, array_to_string(ssh_keys, chr(10)) AS ssh_keys FROM instances"
    " WHERE id = $1";
static const char SQL_INSTANCE_HOST[] =
    "SELECT libvirt_uri, hypervisor, name FROM hosts WHERE id = $1";
static const char SQL_INSTANCE_LIST[] =
    "SELECT " INSTANCE_COLS INSTANCE_FROM
    " WHERE ($1::uuid IS NULL OR i.tenant_id = $1::uuid)"
    " AND ($2::text IS NULL OR i.workspace = $2) AND ($3::text IS NULL OR i.region = $3)"
    " AND (CASE WHEN $4::text IS NULL THEN i.state <> 'deleted' ELSE i.state = $4 END)"
    " AND ($5::text IS NULL OR i.name = $5) AND ($6::uuid IS NULL OR i.id > $6::uuid)"
    " ORDER BY i.id LIMIT $7";
static const char SQL_INSTANCE_STATE[] =
    "UPDATE instances SET state = $2, state_reason = $3,"
    " addresses = CASE WHEN $2 = 'running' THEN addresses ELSE '' END,"
    " operation_id = coalesce(NULLIF($4, '')::uuid, operation_id), updated_at = now()"
    " WHERE id = $1 AND ($5::text[] IS NULL OR state = ANY($5::text[])) RETURNING id";
static const char SQL_INSTANCE_ADDRESSES[] =
    "UPDATE instances SET addresses = $2 WHERE id = $1 AND addresses <> $2"
    " AND state = 'running'";
static const char SQL_INSTANCE_REASON[] =
    "UPDATE instances SET state_reason = $2, updated_at = now() WHERE id = $1"
    " AND state = 'running' AND EXISTS (SELECT 1 FROM operations o WHERE o.id = $3::uuid"
    " AND o.state = 'running')";
static const char SQL_INSTANCE_LOCK_ALLOCATION[] =
    "SELECT coalesce(allocation_id::text, '') AS allocation_id FROM instances WHERE id = $1"
    " AND state <> 'deleted' FOR UPDATE";
/* The reconciler's. */
static const char SQL_INSTANCE_ON_HOST[] =
    "SELECT id, tenant_id, state, nat_nic, name,"
    " state = 'error' AND starts_with(state_reason, 'host down since ') AS host_down"
    " FROM instances WHERE host_id = $1 AND state <> 'deleted' ORDER BY created_at, id";
static const char SQL_INSTANCE_STATE_OF[] = "SELECT state FROM instances WHERE id = $1::uuid";
static const char SQL_INSTANCE_STATE_LOCK[] =
    "SELECT state FROM instances WHERE id = $1::uuid FOR UPDATE";
static const char SQL_INSTANCE_REPAIR[] =
    "UPDATE instances SET state = $2, state_reason = $3, updated_at = now(),"
    " addresses = CASE WHEN $2 = 'running' THEN addresses ELSE '' END"
    " WHERE id = $1 AND state = $4 RETURNING tenant_id";
static const char SQL_INSTANCE_DELETED[] =
    "UPDATE instances SET state = 'deleted', state_reason = '', host_id = NULL,"
    " allocation_id = NULL, addresses = '', deleted_at = now(), updated_at = now()"
    " WHERE id = $1";
static const char SQL_INSTANCE_BOOT_VOLUME[] =
    "UPDATE instances SET boot_volume_id = $2::uuid, updated_at = now() WHERE id = $1"
    " RETURNING id";
static const char SQL_COPY_GET[] =
    "SELECT 1 FROM image_copies WHERE image_id = $1 AND host_id = $2";
static const char SQL_COPY_PUT[] =
    "INSERT INTO image_copies (image_id, host_id, volume) VALUES ($1, $2, $3)"
    " ON CONFLICT DO NOTHING";

/* The placement's jsonb counts ('{"policy": 0, ...}') into out; a missing key counts 0. */
static void
rejected_counts(const char *text, int out[SOV_REJECT__COUNT])
{
    json_t *o = json_loads(text, 0, NULL);

    for (int k = 0; k < SOV_REJECT__COUNT; k++)
        out[k] = (int) json_integer_value(json_object_get(o, sov_reject_name((sov_reject) k)));
    json_decref(o);
}

enum {
    I_ID, I_TENANT_ID, I_WORKSPACE, I_NAME, I_FLAVOR_ID, I_IMAGE_ID, I_BOOT_VOLUME_ID,
    I_VCPUS, I_MEMORY_MIB,
    I_DISK_GIB, I_GPUS, I_REGION, I_ZONE, I_HOST_ID, I_HOST_NAME, I_ANTI_AFFINITY_GROUP, I_MAC,
    I_ADDRESSES, I_NAT_NIC, I_STATE, I_STATE_REASON, I_OPERATION_ID, I_RES_HOST, I_RES_REGION,
    I_RES_COUNTRY, I_RES_JURISDICTION, I_RES_DATACENTER, I_RESIDENCY_SINCE, I_CONSIDERED,
    I_REJECTED, I_STRATEGY, I_CREATED_AT, I_UPDATED_AT, I__N,
};
static const char *const instance_cols[I__N] = {
    [I_ID] = "id", [I_TENANT_ID] = "tenant_id", [I_WORKSPACE] = "workspace", [I_NAME] = "name",
    [I_FLAVOR_ID] = "flavor_id", [I_IMAGE_ID] = "image_id",
    [I_BOOT_VOLUME_ID] = "boot_volume_id", [I_VCPUS] = "vcpus",
    [I_MEMORY_MIB] = "memory_mib", [I_DISK_GIB] = "disk_gib", [I_GPUS] = "gpus",
    [I_REGION] = "region", [I_ZONE] = "zone", [I_HOST_ID] = "host_id",
    [I_HOST_NAME] = "host_name", [I_ANTI_AFFINITY_GROUP] = "anti_affinity_group",
    [I_MAC] = "mac", [I_ADDRESSES] = "addresses",
    [I_NAT_NIC] = "nat_nic", [I_STATE] = "state",
    [I_STATE_REASON] = "state_reason", [I_OPERATION_ID] = "operation_id",
    [I_RES_HOST] = "res_host", [I_RES_REGION] = "res_region", [I_RES_COUNTRY] = "res_country",
    [I_RES_JURISDICTION] = "res_jurisdiction", [I_RES_DATACENTER] = "res_datacenter",
    [I_RESIDENCY_SINCE] = "residency_since", [I_CONSIDERED] = "considered",
    [I_REJECTED] = "rejected", [I_STRATEGY] = "strategy", [I_CREATED_AT] = "created_at",
    [I_UPDATED_AT] = "updated_at",
};

static void
fill_instance(const PGresult *r, int i, const int *col, void *out)
{
    sov_instance *x = out;
    sov_placement *p;

    sov_instance_release(x);
    memset(x, 0, sizeof(*x));
    sov_db_copy(x->id, sizeof(x->id), r, i, col[I_ID]);
    sov_db_copy(x->tenant_id, sizeof(x->tenant_id), r, i, col[I_TENANT_ID]);
    sov_db_copy(x->workspace, sizeof(x->workspace), r, i, col[I_WORKSPACE]);
    sov_db_copy(x->name, sizeof(x->name), r, i, col[I_NAME]);
    sov_db_copy(x->flavor_id, sizeof(x->flavor_id), r, i, col[I_FLAVOR_ID]);
    sov_db_copy(x->image_id, sizeof(x->image_id), r, i, col[I_IMAGE_ID]);
    sov_db_copy(x->boot_volume_id, sizeof(x->boot_volume_id), r, i, col[I_BOOT_VOLUME_ID]);
    x->vcpus = atoi(PQgetvalue(r, i, col[I_VCPUS]));
    x->memory_mib = strtoll(PQgetvalue(r, i, col[I_MEMORY_MIB]), NULL, 10);
    x->disk_gib = strtoll(PQgetvalue(r, i, col[I_DISK_GIB]), NULL, 10);
    x->gpus = atoi(PQgetvalue(r, i, col[I_GPUS]));
    sov_db_copy(x->region, sizeof(x->region), r, i, col[I_REGION]);
    sov_db_copy(x->zone, sizeof(x->zone), r, i, col[I_ZONE]);
    sov_db_copy(x->host_id, sizeof(x->host_id), r, i, col[I_HOST_ID]);
    sov_db_copy(x->host_name, sizeof(x->host_name), r, i, col[I_HOST_NAME]);
    sov_db_copy(x->anti_affinity_group, sizeof(x->anti_affinity_group), r, i,
                col[I_ANTI_AFFINITY_GROUP]);
    sov_db_copy(x->mac, sizeof(x->mac), r, i, col[I_MAC]);
    sov_db_copy(x->addresses, sizeof(x->addresses), r, i, col[I_ADDRESSES]);
    x->nat_nic = PQgetvalue(r, i, col[I_NAT_NIC])[0] == 't';
    sov_db_copy(x->state, sizeof(x->state), r, i, col[I_STATE]);
    sov_db_copy(x->state_reason, sizeof(x->state_reason), r, i, col[I_STATE_REASON]);
    sov_db_copy(x->operation_id, sizeof(x->operation_id), r, i, col[I_OPERATION_ID]);
    sov_db_copy(x->residency.host, sizeof(x->residency.host), r, i, col[I_RES_HOST]);
    sov_db_copy(x->residency.region, sizeof(x->residency.region), r, i, col[I_RES_REGION]);
    sov_db_copy(x->residency.country, sizeof(x->residency.country), r, i, col[I_RES_COUNTRY]);
    sov_db_copy(x->residency.jurisdiction, sizeof(x->residency.jurisdiction), r, i,
                col[I_RES_JURISDICTION]);
    sov_db_copy(x->residency.datacenter, sizeof(x->residency.datacenter), r, i,
                col[I_RES_DATACENTER]);
    sov_db_copy(x->residency_since, sizeof(x->residency_since), r, i, col[I_RESIDENCY_SINCE]);
    /* Left NULL when out of memory: the caller says so. */
    p = x->placement = sov_placement_new();
    if (p) {
        p->considered = atoi(PQgetvalue(r, i, col[I_CONSIDERED]));
        rejected_counts(PQgetvalue(r, i, col[I_REJECTED]), p->rejected);
        sov_db_copy(p->strategy, sizeof(p->strategy), r, i, col[I_STRATEGY]);
        snprintf(p->host_id, sizeof(p->host_id), "%s", x->host_id);
        snprintf(p->host_name, sizeof(p->host_name), "%s", x->host_name);
        snprintf(p->region, sizeof(p->region), "%s", x->region);
        snprintf(p->zone, sizeof(p->zone), "%s", x->zone);
    }
    sov_db_copy(x->created_at, sizeof(x->created_at), r, i, col[I_CREATED_AT]);
    sov_db_copy(x->updated_at, sizeof(x->updated_at), r, i, col[I_UPDATED_AT]);
}

static const sov_db_rowmap row_instance = { instance_cols, I__N, fill_instance };

int
sov_repo_instance_insert(sov_dbconn *c, const sov_instance *i, const char *user_data,
                         const char *ssh_keys_literal, sov_error *err)
{
    char v[16], m[24], d[24], g[16];
    const char *params[] = { i->id, i->tenant_id, i->workspace, i->name, i->flavor_id,
                             i->image_id, v, m, d, g, i->region, i->zone, i->host_id,
                             i->placement ? i->placement->allocation_id : "",
                             i->placement ? i->placement->id : "",
                             i->anti_affinity_group, user_data ? user_data : "",
                             ssh_keys_literal, i->mac, i->operation_id,
                             i->nat_nic ? "true" : "false" };

    snprintf(v, sizeof(v), "%d", i->vcpus);
    snprintf(m, sizeof(m), "%lld", i->memory_mib);
    snprintf(d, sizeof(d), "%lld", i->disk_gib);
    snprintf(g, sizeof(g), "%d", i->gpus);
    if (sov_db_query(c, SQL_INSTANCE_INSERT, 21, params, NULL, err) < 0) {
        if (err->code == SOV_E_CONFLICT)
            return sov_error_set(err, SOV_E_CONFLICT,
                                 "an instance named '%s' already exists in workspace '%s'",
                                 i->name, i->workspace);
        return -1;
    }
    return 0;
}

int
sov_repo_instance_set_boot_volume(sov_dbconn *c, const char *id, const char *volume_id,
                                  sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id, volume_id };

    if (sov_db_query(c, SQL_INSTANCE_BOOT_VOLUME, 2, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "instance '%s' does not exist", id);
    return 0;
}

int
sov_repo_instance_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                      sov_instance *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, id };

    /* FOR UPDATE cannot sit beside the outer joins: lock the row itself first. */
    if (lock) {
        if (sov_db_query(c, SQL_INSTANCE_LOCK, 2, params, &res, err) < 0)
            return -1;
        if (PQntuples(res) == 0)
            return sov_error_set(err, SOV_E_NOT_FOUND, "instance '%s' does not exist", id);
        PQclear(SOV_TAKE_PTR(res));
    }
    if (sov_db_query(c, SQL_INSTANCE_GET, 2, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "instance '%s' does not exist", id);
    if (sov_db_fill(res, 0, &row_instance, ret, err) < 0)
        return -1;
    if (!ret->placement)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    return 0;
}

static const char SQL_INSTANCE_BY_NAME[] =
    "SELECT id FROM instances WHERE tenant_id = $1 AND workspace = $2 AND name = $3"
    " AND state <> 'deleted'";

int
sov_repo_instance_id_by_name(sov_dbconn *c, const char *tenant_id, const char *workspace,
                             const char *name, char *ret, sov_error *err)
{
    const char *params[] = { tenant_id, workspace, name };

    return sov_db_one(c, SQL_INSTANCE_BY_NAME, 3, params, &sov_db_row_id, ret, "instance",
                      name, err);
}

int
sov_repo_instance_seed_input(sov_dbconn *c, const char *id, char **user_data, char **keys,
                             sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id };
    static const char *const names[] = { "user_data", "ssh_keys" };
    int col[2];

    if (sov_db_query(c, SQL_INSTANCE_SEED, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "instance '%s' does not exist", id);
    if (sov_db_cols(res, names, col, 2, err) < 0)
        return -1;
    *user_data = strdup(PQgetvalue(res, 0, col[0]));
    *keys = strdup(PQgetvalue(res, 0, col[1]));
    if (!*user_data || !*keys) {
        free(*user_data);
        free(*keys);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    return 0;
}

int
sov_repo_instance_host_get(sov_dbconn *c, const char *host_id, repo_instance_host *ret,
                   sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { host_id };
    static const char *const names[] = { "libvirt_uri", "hypervisor", "name" };
    int col[3];

    if (sov_db_query(c, SQL_INSTANCE_HOST, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "host '%s' does not exist", host_id);
    if (sov_db_cols(res, names, col, 3, err) < 0)
        return -1;
    sov_db_copy(ret->uri, sizeof(ret->uri), res, 0, col[0]);
    sov_db_copy(ret->hypervisor, sizeof(ret->hypervisor), res, 0, col[1]);
    sov_db_copy(ret->name, sizeof(ret->name), res, 0, col[2]);
    return 0;
}

int
sov_repo_instance_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                       const char *region, const char *state, const char *name, const char *after,
                       unsigned limit, sov_instance_page **ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    sov_autoptr(sov_instance_page) page = NULL;
    int col[I__N];
    char lim[16];
    const char *params[] = { tenant_id, workspace, region, state, name, after, lim };
    size_t n;

    snprintf(lim, sizeof(lim), "%u", limit);
    if (sov_db_query(c, SQL_INSTANCE_LIST, 7, params, &res, err) < 0 ||
        sov_db_cols(res, instance_cols, col, I__N, err) < 0)
        return -1;
    /* One heap object per row, the page an array of pointers to them. */
    n = (size_t) PQntuples(res);
    page = calloc(1, sizeof(*page));
    if (!page || !(page->items = calloc(n + 1, sizeof(*page->items))))
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (; page->n < n; page->n++) {
        sov_instance *x = sov_instance_new();
        page->items[page->n] = x;
        if (!x)
            return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        fill_instance(res, (int) page->n, col, x);
        if (!x->placement) {
            page->n++;
            return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        }
    }
    if (limit > 0 && n == limit)
        sov_db_copy(page->next_after, sizeof(page->next_after), res, (int) n - 1,
                    col[I_ID]);
    *ret = SOV_TAKE_PTR(page);
    return 0;
}

int
sov_repo_instance_set_state(sov_dbconn *c, const char *id, const char *const *from,
                            const char *state, const char *reason, const char *operation_id,
                            sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    sov_buf list = SOV_BUF_INIT;
    size_t n = 0;
    int rc;

    if (from) {
        while (from[n])
            n++;
        sov_buf_pg_array(&list, from, n);
        if (list.oom) {
            sov_buf_release(&list);
            return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        }
    }
    const char *params[] = { id, state, reason ? reason : "", operation_id ? operation_id : "",
                             from ? list.data : NULL };
    rc = sov_db_query(c, SQL_INSTANCE_STATE, 5, params, &res, err);
    sov_buf_release(&list);
    if (rc < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "instance '%s' cannot become %s now", id,
                             state);
    return 0;
}

int
sov_repo_instance_set_addresses(sov_dbconn *c, const char *id, const char *addresses,
                                sov_error *err)
{
    const char *params[] = { id, addresses };
    return sov_db_query(c, SQL_INSTANCE_ADDRESSES, 2, params, NULL, err);
}

int
sov_repo_instance_set_reason(sov_dbconn *c, const char *id, const char *reason,
                             const char *operation_id, sov_error *err)
{
    const char *params[] = { id, reason, operation_id };
    return sov_db_query(c, SQL_INSTANCE_REASON, 3, params, NULL, err);
}

int
sov_repo_instance_deleted(sov_dbconn *c, const char *id, sov_error *err)
{
    const char *params[] = { id };
    return sov_db_query(c, SQL_INSTANCE_DELETED, 1, params, NULL, err);
}

int
sov_repo_instance_lock_allocation(sov_dbconn *c, const char *id, bool *live, char *alloc,
                                  size_t size, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id };

    if (sov_db_query(c, SQL_INSTANCE_LOCK_ALLOCATION, 1, params, &res, err) < 0)
        return -1;
    *live = PQntuples(res) > 0;
    if (size > 0)
        alloc[0] = '\0';
    if (*live)
        sov_db_copy(alloc, size, res, 0, PQfnumber(res, "allocation_id"));
    return 0;
}

/* A session lock, so it outlives the transactions taken meanwhile on c. */
static int
copy_lock(sov_dbconn *c, const char *image_id, const char *host_id, bool lock, sov_error *err)
{
    char key[96];
    const char *params[] = { key };

    snprintf(key, sizeof(key), "%s/%s", image_id, host_id);
    return sov_db_query(c, lock ? "SELECT pg_advisory_lock(hashtext($1))"
                                : "SELECT pg_advisory_unlock(hashtext($1))",
                        1, params, NULL, err);
}

int
sov_repo_image_copy_lock(sov_dbconn *c, const char *image_id, const char *host_id, sov_error *err)
{
    return copy_lock(c, image_id, host_id, true, err);
}

int
sov_repo_image_copy_unlock(sov_dbconn *c, const char *image_id, const char *host_id,
                           sov_error *err)
{
    return copy_lock(c, image_id, host_id, false, err);
}

static const char *const brief_cols[] = { "id", "tenant_id", "state", "nat_nic", "name",
                                           "host_down" };

static void
fill_brief(const PGresult *r, int i, const int *col, void *out)
{
    repo_instance_brief *x = out;

    sov_db_copy(x->id, sizeof(x->id), r, i, col[0]);
    sov_db_copy(x->tenant_id, sizeof(x->tenant_id), r, i, col[1]);
    sov_db_copy(x->state, sizeof(x->state), r, i, col[2]);
    x->nat_nic = PQgetvalue(r, i, col[3])[0] == 't';
    sov_db_copy(x->name, sizeof(x->name), r, i, col[4]);
    x->host_down = PQgetvalue(r, i, col[5])[0] == 't';
}

static const sov_db_rowmap row_brief = { brief_cols, 6, fill_brief };

int
sov_repo_instance_on_host(sov_dbconn *c, const char *host_id, repo_instance_brief **ret,
                          size_t *ret_n, sov_error *err)
{
    const char *params[] = { host_id };

    return sov_db_all(c, SQL_INSTANCE_ON_HOST, 1, params, sizeof(**ret), &row_brief,
                      (void **) ret, ret_n, err);
}

int
sov_repo_instance_state(sov_dbconn *c, const char *id, bool lock, char *ret, size_t size,
                        sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id };

    if (sov_db_query(c, lock ? SQL_INSTANCE_STATE_LOCK : SQL_INSTANCE_STATE_OF, 1, params, &res,
                     err) < 0)
        return -1;
    if (size > 0)
        ret[0] = '\0';
    if (PQntuples(res) > 0)
        sov_db_copy(ret, size, res, 0, PQfnumber(res, "state"));
    return 0;
}

int
sov_repo_instance_repair(sov_dbconn *c, const char *id, const char *from, const char *to,
                         const char *reason, char *ret_tenant, size_t size, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id, to, reason, from };

    if (sov_db_query(c, SQL_INSTANCE_REPAIR, 4, params, &res, err) < 0)
        return -1;
    if (size > 0)
        ret_tenant[0] = '\0';
    if (PQntuples(res) > 0)
        sov_db_copy(ret_tenant, size, res, 0, PQfnumber(res, "tenant_id"));
    return 0;
}

int
sov_repo_image_copy_get(sov_dbconn *c, const char *image_id, const char *host_id, bool *found,
                        sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { image_id, host_id };

    if (sov_db_query(c, SQL_COPY_GET, 2, params, &res, err) < 0)
        return -1;
    *found = PQntuples(res) > 0;
    return 0;
}

int
sov_repo_image_copy_put(sov_dbconn *c, const char *image_id, const char *host_id,
                        const char *volume, sov_error *err)
{
    const char *params[] = { image_id, host_id, volume };
    return sov_db_query(c, SQL_COPY_PUT, 3, params, NULL, err);
}

static const char SQL_IMAGE_FIND[] =
    "SELECT id FROM images WHERE tenant_id = $1 AND state <> 'deleted'"
    " AND (id::text = $2 OR (workspace = $3 AND name = $2)) ORDER BY (id::text = $2) DESC"
    " LIMIT 1";

int
sov_repo_image_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                    const char *id_or_name, sov_image *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, id_or_name, workspace };

    if (sov_db_query(c, SQL_IMAGE_FIND, 3, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "image '%s' does not exist", id_or_name);
    return sov_image_load(c, PQgetvalue(res, 0, 0), ret, err);
}
