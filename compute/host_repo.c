/* host_repo.c: the SQL of hosts. Values go in as $n parameters only; lists are keyset-paginated
 * on the unique host name. GPU model names travel joined by the unit separator (0x1f), which
 * discovery keeps out of names, so neither direction needs array-literal quoting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_repo.h"
#include "sov/repo/db_pq.h"

#define TS SOV_SQL_TS

#define HOST_COLS                                                                          \
    "id, name, region, zone, libvirt_uri, state, state_reason, hypervisor,"               \
    " hypervisor_reason, cpu_model, cpus, memory_mib, numa_cells, storage_pool,"          \
    " storage_gib, gpus, array_to_string(gpu_models, E'\\x1f') AS gpu_models,"          \
    " cpu_allocation_ratio, ram_allocation_ratio, vcpus_used, memory_mib_used,"           \
    " disk_gib_used, gpus_used, " TS("checked_at") " AS checked_at, "                      \
    TS("created_at") " AS created_at, " TS("updated_at") " AS updated_at,"                \
    " coalesce(machine_id, '') AS machine_id, host_uuid, smbios_uuid,"                    \
    " coalesce(seen_machine_id, '') AS seen_machine_id, seen_host_uuid, seen_smbios_uuid,"  \
    " coalesce(" TS("down_since") ", '') AS down_since"

static const char SQL_ZONE_EXISTS[] =
    "SELECT EXISTS (SELECT 1 FROM regions WHERE code = $1) AS region,"
    " EXISTS (SELECT 1 FROM zones WHERE region = $1 AND name = $2) AS zone";
static const char SQL_NAME_TAKEN[] =
    "SELECT EXISTS (SELECT 1 FROM hosts WHERE name = $1) AS taken";
/* Registration: the row holds the name and the URI from the 202 on; discovery fills in the
 * rest. */
static const char SQL_HOST_INSERT_DISCOVERING[] =
    "INSERT INTO hosts (name, region, zone, libvirt_uri, state, state_reason, hypervisor,"
    " cpus, memory_mib, cpu_allocation_ratio, ram_allocation_ratio)"
    " VALUES ($1, $2, $3, $4, 'discovering', 'waiting for discovery', '', 0, 0, $5, $6)"
    " RETURNING " HOST_COLS;
static const char SQL_HOST_DISCOVERED[] =
    "UPDATE hosts SET state = 'up', state_reason = '', hypervisor = $2, hypervisor_reason = $3,"
    " cpu_model = $4, cpus = $5, memory_mib = $6, numa_cells = $7, storage_pool = $8,"
    " storage_gib = $9, gpus = $10, gpu_models = string_to_array($11, E'\\x1f'),"
    " machine_id = $12, host_uuid = $13, smbios_uuid = $14, checked_at = now(),"
    " updated_at = now() WHERE id = $1 AND state = 'discovering' RETURNING " HOST_COLS;
static const char SQL_HOST_DISCOVERY_FAILED[] =
    "UPDATE hosts SET state = 'error', state_reason = $2, updated_at = now()"
    " WHERE id = $1 AND state = 'discovering' RETURNING id";
/* A host in error holds its URI no more: registering it again is how an operator retries. */
static const char SQL_HOST_URI_OWNER[] =
    "SELECT name FROM hosts WHERE libvirt_uri = $1 AND state <> 'error' ORDER BY name LIMIT 1";
static const char SQL_HOST_MACHINE_OWNER[] =
    "SELECT name FROM hosts WHERE machine_id = $1 AND id <> $2::uuid LIMIT 1";
static const char SQL_HOST_MISMATCH[] =
    "UPDATE hosts SET state = 'down', state_reason = $5, seen_machine_id = $2,"
    " seen_host_uuid = $3, seen_smbios_uuid = $4, checked_at = now(), updated_at = now(),"
    " down_since = coalesce(down_since, now())"
    " WHERE id = $1 AND state IN ('up', 'down')"
    " AND (state = 'up' OR state_reason <> $5 OR seen_machine_id IS DISTINCT FROM $2)"
    " RETURNING id";
static const char SQL_HOST_ADOPT[] =
    "UPDATE hosts SET machine_id = $2, host_uuid = $3, smbios_uuid = $4, updated_at = now()"
    " WHERE id = $1 AND machine_id IS NULL RETURNING id";
static const char SQL_HOST_CONFIRM[] =
    "UPDATE hosts SET machine_id = seen_machine_id, host_uuid = seen_host_uuid,"
    " smbios_uuid = seen_smbios_uuid, seen_machine_id = NULL, seen_host_uuid = '',"
    " seen_smbios_uuid = '', state_reason = $2, updated_at = now()"
    " WHERE id = $1 AND seen_machine_id IS NOT NULL RETURNING " HOST_COLS;
static const char SQL_HOST_GET[] = "SELECT " HOST_COLS " FROM hosts WHERE id = $1";
static const char SQL_HOST_GET_LOCK[] =
    "SELECT " HOST_COLS " FROM hosts WHERE id = $1 FOR UPDATE";
static const char SQL_HOST_LIST[] =
    "SELECT " HOST_COLS " FROM hosts"
    " WHERE ($1::text IS NULL OR region = $1) AND ($2::text IS NULL OR state = $2)"
    " AND name > $3 ORDER BY name LIMIT $4";
static const char SQL_HOST_UPDATE[] =
    "UPDATE hosts SET state = coalesce($2, state),"
    " state_reason = CASE WHEN $2::text IS NULL THEN state_reason ELSE $3 END,"
    " down_since = CASE WHEN $2::text IS NULL THEN down_since END,"
    " cpu_allocation_ratio = coalesce($4::numeric, cpu_allocation_ratio),"
    " ram_allocation_ratio = coalesce($5::numeric, ram_allocation_ratio),"
    " updated_at = now()"
    " WHERE id = $1 RETURNING " HOST_COLS;
static const char SQL_HOST_DELETE[] = "DELETE FROM hosts WHERE id = $1 RETURNING id";
static const char SQL_HOST_BLOCKERS[] =
    "SELECT 'instance' AS kind, id::text AS id, name FROM instances"
    " WHERE host_id = $1 AND state <> 'deleted' ORDER BY created_at, id LIMIT 9";
static const char SQL_HOST_ALLOCATIONS[] =
    "SELECT count(*) FROM host_allocations WHERE host_id = $1";
/* Usage as the allocation rows say; a row differing is drift, corrected. */
static const char SQL_HOST_RECOUNT[] =
    "WITH real AS (SELECT h.id, coalesce(sum(a.vcpus), 0) AS v,"
    " coalesce(sum(a.memory_mib), 0) AS m, coalesce(sum(a.disk_gib), 0) AS d,"
    " coalesce(sum(a.gpus), 0) AS g FROM hosts h LEFT JOIN host_allocations a"
    " ON a.host_id = h.id GROUP BY h.id)"
    " UPDATE hosts h SET vcpus_used = r.v, memory_mib_used = r.m, disk_gib_used = r.d,"
    " gpus_used = r.g FROM real r WHERE h.id = r.id AND (h.vcpus_used, h.memory_mib_used,"
    " h.disk_gib_used, h.gpus_used) IS DISTINCT FROM (r.v, r.m, r.d, r.g) RETURNING h.name, h.id";
/* The operator's states are probed too: their state stays, but a host that stops answering
 * there gets down_since all the same (the grace rule reaches its instances). */
static const char SQL_HOST_PROBE_LIST[] =
    "SELECT id, name, libvirt_uri, state, coalesce(machine_id, '') AS machine_id"
    " FROM hosts WHERE state IN ('up', 'down', 'maintenance', 'disabled', 'draining')"
    " ORDER BY name";
/* A host in an operator's state: whether it answers, as down_since (its state stays). Returns
 * a row only when down_since changed. */
static const char SQL_HOST_REACHABLE[] =
    "UPDATE hosts h SET checked_at = now(),"
    " down_since = CASE WHEN $3 THEN NULL ELSE coalesce(h.down_since, now()) END"
    " FROM hosts old WHERE old.id = h.id AND h.id = $1 AND h.state = $2"
    " RETURNING (old.down_since IS NULL) <> (h.down_since IS NULL) AS changed";
/* Back up means the registered machine answers: whatever other one was seen is forgotten.
 * down_since: when it went down, kept while it stays down; cleared when it comes back. */
static const char SQL_HOST_TRANSITION[] =
    "UPDATE hosts SET state = $3, state_reason = $4, checked_at = now(), updated_at = now(),"
    " down_since = CASE WHEN $3 = 'down' THEN coalesce(down_since, now()) END,"
    " seen_machine_id = CASE WHEN $3 = 'up' THEN NULL ELSE seen_machine_id END,"
    " seen_host_uuid = CASE WHEN $3 = 'up' THEN '' ELSE seen_host_uuid END,"
    " seen_smbios_uuid = CASE WHEN $3 = 'up' THEN '' ELSE seen_smbios_uuid END"
    " WHERE id = $1 AND state = $2 RETURNING id";
static const char SQL_HOST_TOUCH[] =
    "UPDATE hosts SET checked_at = now() WHERE id = ANY ($1::uuid[])";
/* The instances of hosts down for longer than the grace ($1 s) that are not yet in error
 * (nor deleted, nor being deleted: a delete's worker owns those), oldest first. */
static const char SQL_HOST_DOWN_EXPIRED[] =
    "SELECT i.id, i.state, h.name AS host, " TS("h.down_since") " AS down_since"
    " FROM instances i JOIN hosts h ON h.id = i.host_id"
    " WHERE h.state IN ('down', 'maintenance', 'disabled', 'draining')"
    " AND h.down_since < now() - make_interval(secs => $1::int)"
    " AND i.state NOT IN ('deleted', 'deleting', 'error') ORDER BY i.created_at, i.id";

static long long
to_ll(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* "a\x1fb" -> gpu_models. */
static void
split_models(const char *joined, sov_hv_node *n)
{
    const char *p = joined;

    n->ngpu_models = 0;
    while (*p && n->ngpu_models < SOV_HV_GPU_MODELS_MAX) {
        size_t len = strcspn(p, "\x1f");
        snprintf(n->gpu_models[n->ngpu_models++], sizeof(n->gpu_models[0]), "%.*s", (int) len,
                 p);
        p += len + (p[len] ? 1 : 0);
    }
}

enum {
    H_ID, H_NAME, H_REGION, H_ZONE, H_LIBVIRT_URI, H_STATE, H_STATE_REASON, H_HYPERVISOR,
    H_HYPERVISOR_REASON, H_CPU_MODEL, H_CPUS, H_MEMORY_MIB, H_NUMA_CELLS, H_STORAGE_POOL,
    H_STORAGE_GIB, H_GPUS, H_GPU_MODELS, H_CPU_ALLOCATION_RATIO, H_RAM_ALLOCATION_RATIO,
    H_VCPUS_USED, H_MEMORY_MIB_USED, H_DISK_GIB_USED, H_GPUS_USED, H_CHECKED_AT, H_CREATED_AT,
    H_UPDATED_AT, H_MACHINE_ID, H_HOST_UUID, H_SMBIOS_UUID, H_SEEN_MACHINE_ID, H_SEEN_HOST_UUID,
    H_SEEN_SMBIOS_UUID, H_DOWN_SINCE, H__N,
};
static const char *const host_cols[H__N] = {
    [H_ID] = "id", [H_NAME] = "name", [H_REGION] = "region", [H_ZONE] = "zone",
    [H_LIBVIRT_URI] = "libvirt_uri", [H_STATE] = "state", [H_STATE_REASON] = "state_reason",
    [H_HYPERVISOR] = "hypervisor", [H_HYPERVISOR_REASON] = "hypervisor_reason",
    [H_CPU_MODEL] = "cpu_model", [H_CPUS] = "cpus", [H_MEMORY_MIB] = "memory_mib",
    [H_NUMA_CELLS] = "numa_cells", [H_STORAGE_POOL] = "storage_pool",
    [H_STORAGE_GIB] = "storage_gib", [H_GPUS] = "gpus", [H_GPU_MODELS] = "gpu_models",
    [H_CPU_ALLOCATION_RATIO] = "cpu_allocation_ratio",
    [H_RAM_ALLOCATION_RATIO] = "ram_allocation_ratio", [H_VCPUS_USED] = "vcpus_used",
    [H_MEMORY_MIB_USED] = "memory_mib_used", [H_DISK_GIB_USED] = "disk_gib_used",
    [H_GPUS_USED] = "gpus_used", [H_CHECKED_AT] = "checked_at", [H_CREATED_AT] = "created_at",
    [H_UPDATED_AT] = "updated_at", [H_MACHINE_ID] = "machine_id", [H_HOST_UUID] = "host_uuid",
    [H_SMBIOS_UUID] = "smbios_uuid", [H_SEEN_MACHINE_ID] = "seen_machine_id",
    [H_SEEN_HOST_UUID] = "seen_host_uuid", [H_SEEN_SMBIOS_UUID] = "seen_smbios_uuid",
    [H_DOWN_SINCE] = "down_since",
};

static void
fill_host(const PGresult *r, int i, const int *col, void *out)
{
    sov_host *h = out;

    memset(h, 0, sizeof(*h));
    sov_db_copy(h->id, sizeof(h->id), r, i, col[H_ID]);
    sov_db_copy(h->name, sizeof(h->name), r, i, col[H_NAME]);
    sov_db_copy(h->region, sizeof(h->region), r, i, col[H_REGION]);
    sov_db_copy(h->zone, sizeof(h->zone), r, i, col[H_ZONE]);
    sov_db_copy(h->libvirt_uri, sizeof(h->libvirt_uri), r, i, col[H_LIBVIRT_URI]);
    sov_db_copy(h->state, sizeof(h->state), r, i, col[H_STATE]);
    sov_db_copy(h->state_reason, sizeof(h->state_reason), r, i, col[H_STATE_REASON]);
    sov_db_copy(h->node.hypervisor, sizeof(h->node.hypervisor), r, i, col[H_HYPERVISOR]);
    sov_db_copy(h->node.hypervisor_reason, sizeof(h->node.hypervisor_reason), r, i,
                col[H_HYPERVISOR_REASON]);
    sov_db_copy(h->node.cpu_model, sizeof(h->node.cpu_model), r, i, col[H_CPU_MODEL]);
    h->node.cpus = (int) to_ll(r, i, col[H_CPUS]);
    h->node.memory_mib = to_ll(r, i, col[H_MEMORY_MIB]);
    h->node.numa_cells = (int) to_ll(r, i, col[H_NUMA_CELLS]);
    sov_db_copy(h->node.storage_pool, sizeof(h->node.storage_pool), r, i, col[H_STORAGE_POOL]);
    h->node.storage_gib = to_ll(r, i, col[H_STORAGE_GIB]);
    h->node.gpus = (int) to_ll(r, i, col[H_GPUS]);
    split_models(PQgetvalue(r, i, col[H_GPU_MODELS]), &h->node);
    h->cpu_allocation_ratio = strtod(PQgetvalue(r, i, col[H_CPU_ALLOCATION_RATIO]), NULL);
    h->ram_allocation_ratio = strtod(PQgetvalue(r, i, col[H_RAM_ALLOCATION_RATIO]), NULL);
    h->vcpus_used = (int) to_ll(r, i, col[H_VCPUS_USED]);
    h->memory_mib_used = to_ll(r, i, col[H_MEMORY_MIB_USED]);
    h->disk_gib_used = to_ll(r, i, col[H_DISK_GIB_USED]);
    h->gpus_used = (int) to_ll(r, i, col[H_GPUS_USED]);
    sov_db_copy(h->checked_at, sizeof(h->checked_at), r, i, col[H_CHECKED_AT]);
    sov_db_copy(h->created_at, sizeof(h->created_at), r, i, col[H_CREATED_AT]);
    sov_db_copy(h->updated_at, sizeof(h->updated_at), r, i, col[H_UPDATED_AT]);
    sov_db_copy(h->machine.machine_id, sizeof(h->machine.machine_id), r, i, col[H_MACHINE_ID]);
    sov_db_copy(h->machine.host_uuid, sizeof(h->machine.host_uuid), r, i, col[H_HOST_UUID]);
    sov_db_copy(h->machine.smbios_uuid, sizeof(h->machine.smbios_uuid), r, i,
                col[H_SMBIOS_UUID]);
    sov_db_copy(h->machine_seen.machine_id, sizeof(h->machine_seen.machine_id), r, i,
                col[H_SEEN_MACHINE_ID]);
    sov_db_copy(h->machine_seen.host_uuid, sizeof(h->machine_seen.host_uuid), r, i,
                col[H_SEEN_HOST_UUID]);
    sov_db_copy(h->machine_seen.smbios_uuid, sizeof(h->machine_seen.smbios_uuid), r, i,
                col[H_SEEN_SMBIOS_UUID]);
    sov_db_copy(h->down_since, sizeof(h->down_since), r, i, col[H_DOWN_SINCE]);
}

static const sov_db_rowmap row_host = { host_cols, H__N, fill_host };

/* Run a query expected to return one host; none is SOV_E_NOT_FOUND. */
static int
one_host(sov_dbconn *c, const char *sql, int n, const char *const *params, const char *key,
         sov_host *ret, sov_error *err)
{
    return sov_db_one(c, sql, n, params, &row_host, ret, "host", key, err);
}

int
sov_repo_zone_exists(sov_dbconn *c, const char *region, const char *zone, bool *ret_region,
                     bool *ret_zone, sov_error *err)
{
    const char *params[] = { region, zone };
    sov_autoptr(PGresult) res = NULL;
    static const char *const names[] = { "region", "zone" };
    int col[2];

    if (sov_db_query(c, SQL_ZONE_EXISTS, 2, params, &res, err) < 0)
        return -1;
    if (sov_db_cols(res, names, col, 2, err) < 0)
        return -1;
    *ret_region = PQgetvalue(res, 0, col[0])[0] == 't';
    *ret_zone = PQgetvalue(res, 0, col[1])[0] == 't';
    return 0;
}

int
sov_repo_host_name_taken(sov_dbconn *c, const char *name, bool *ret, sov_error *err)
{
    const char *params[] = { name };
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, SQL_NAME_TAKEN, 1, params, &res, err) < 0)
        return -1;
    *ret = PQgetvalue(res, 0, 0)[0] == 't';
    return 0;
}

int
sov_repo_host_get(sov_dbconn *c, const char *id, bool lock, sov_host *ret, sov_error *err)
{
    const char *params[] = { id };

    return one_host(c, lock ? SQL_HOST_GET_LOCK : SQL_HOST_GET, 1, params, id, ret, err);
}

int
sov_repo_host_list(sov_dbconn *c, const char *region, const char *state, const char *after,
                   unsigned limit, sov_host_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { region, state, after ? after : "", lim };
    sov_autoptr(PGresult) res = NULL;
    sov_host *items;
    int n, col[H__N];

    snprintf(lim, sizeof(lim), "%u", limit);
    if (sov_db_query(c, SQL_HOST_LIST, 4, params, &res, err) < 0)
        return -1;
    if (sov_db_cols(res, host_cols, col, H__N, err) < 0)
        return -1;
    n = PQntuples(res);
    items = calloc((size_t) n + 1, sizeof(*items));
    if (!items)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (int i = 0; i < n; i++)
        fill_host(res, i, col, &items[i]);
    ret->items = items;
    ret->n = (size_t) n;
    ret->next_after[0] = '\0';
    if (limit > 0 && (unsigned) n == limit)
        sov_db_copy(ret->next_after, sizeof(ret->next_after), res, n - 1, col[H_NAME]);
    return 0;
}

int
sov_repo_host_update(sov_dbconn *c, const char *id, const char *state, const char *state_reason,
                     const char *cpu_ratio, const char *ram_ratio, sov_host *ret, sov_error *err)
{
    const char *params[] = { id, state, state_reason ? state_reason : "", cpu_ratio,
                             ram_ratio };

    return one_host(c, SQL_HOST_UPDATE, 5, params, id, ret, err);
}

int
sov_repo_host_delete(sov_dbconn *c, const char *id, sov_error *err)
{
    const char *params[] = { id };
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, SQL_HOST_DELETE, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "host '%s' does not exist", id);
    return 0;
}

static const char SQL_HOST_BY_NAME[] = "SELECT id FROM hosts WHERE name = $1";

int
sov_repo_host_id_by_name(sov_dbconn *c, const char *name, char *ret, sov_error *err)
{
    const char *params[] = { name };

    return sov_db_one(c, SQL_HOST_BY_NAME, 1, params, &sov_db_row_id, ret, "host", name, err);
}

int
sov_repo_host_blockers(sov_dbconn *c, const char *id, const char *what, sov_error *err)
{
    const char *params[] = { id };

    return sov_db_blockers(c, SQL_HOST_BLOCKERS, 1, params, what, err);
}

int
sov_repo_host_allocations(sov_dbconn *c, const char *id, long *ret, sov_error *err)
{
    const char *params[] = { id };
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, SQL_HOST_ALLOCATIONS, 1, params, &res, err) < 0)
        return -1;
    *ret = (long) to_ll(res, 0, 0);
    return 0;
}

static const char *const probe_cols[] = { "id", "name", "libvirt_uri", "state", "machine_id" };

/* A recount's rows: the hosts it changed, by name. */
static void
fill_named(const PGresult *r, int i, const int *col, void *out)
{
    repo_host_probe *h = out;

    sov_db_copy(h->id, sizeof(h->id), r, i, col[0]);
    sov_db_copy(h->name, sizeof(h->name), r, i, col[1]);
}

static void
fill_probe(const PGresult *r, int i, const int *col, void *out)
{
    repo_host_probe *h = out;

    fill_named(r, i, col, out);
    sov_db_copy(h->libvirt_uri, sizeof(h->libvirt_uri), r, i, col[2]);
    sov_db_copy(h->state, sizeof(h->state), r, i, col[3]);
    sov_db_copy(h->machine_id, sizeof(h->machine_id), r, i, col[4]);
}

static const sov_db_rowmap row_named = { probe_cols, 2, fill_named };
static const sov_db_rowmap row_probe = { probe_cols, 5, fill_probe };

int
sov_repo_host_recount(sov_dbconn *c, repo_host_probe **ret, size_t *ret_n, sov_error *err)
{
    return sov_db_all(c, SQL_HOST_RECOUNT, 0, NULL, sizeof(**ret), &row_named, (void **) ret,
                      ret_n, err);
}

int
sov_repo_host_probe_list(sov_dbconn *c, repo_host_probe **ret, size_t *ret_n, sov_error *err)
{
    return sov_db_all(c, SQL_HOST_PROBE_LIST, 0, NULL, sizeof(**ret), &row_probe,
                      (void **) ret, ret_n, err);
}

int
sov_repo_host_transition(sov_dbconn *c, const char *id, const char *from, const char *to,
                         const char *reason, bool *ret_moved, sov_error *err)
{
    const char *params[] = { id, from, to, reason };
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, SQL_HOST_TRANSITION, 4, params, &res, err) < 0)
        return -1;
    *ret_moved = PQntuples(res) > 0;
    return 0;
}

int
sov_repo_host_reachable(sov_dbconn *c, const char *id, const char *state, bool answers,
                        bool *ret_changed, sov_error *err)
{
    const char *params[] = { id, state, answers ? "true" : "false" };
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, SQL_HOST_REACHABLE, 3, params, &res, err) < 0)
        return -1;
    *ret_changed = PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    return 0;
}

static const char *const expired_cols[] = { "id", "state", "host", "down_since" };

static void
fill_expired(const PGresult *r, int i, const int *col, void *out)
{
    repo_host_down_instance *x = out;

    sov_db_copy(x->id, sizeof(x->id), r, i, col[0]);
    sov_db_copy(x->state, sizeof(x->state), r, i, col[1]);
    sov_db_copy(x->host, sizeof(x->host), r, i, col[2]);
    sov_db_copy(x->down_since, sizeof(x->down_since), r, i, col[3]);
}

static const sov_db_rowmap row_expired = { expired_cols, 4, fill_expired };

int
sov_repo_host_down_expired(sov_dbconn *c, unsigned grace_s, repo_host_down_instance **ret,
                           size_t *ret_n, sov_error *err)
{
    char grace[16];
    const char *params[] = { grace };

    snprintf(grace, sizeof(grace), "%u", grace_s);
    return sov_db_all(c, SQL_HOST_DOWN_EXPIRED, 1, params, sizeof(**ret), &row_expired,
                      (void **) ret, ret_n, err);
}

int
sov_repo_host_touch(sov_dbconn *c, const char *ids, sov_error *err)
{
    const char *params[] = { ids };

    return sov_db_query(c, SQL_HOST_TOUCH, 1, params, NULL, err);
}

int
sov_repo_host_insert_discovering(sov_dbconn *c, const sov_host_create_args *a,
                                 const char *cpu_ratio, const char *ram_ratio, sov_host *ret,
                                 sov_error *err)
{
    const char *params[] = { a->name, a->region, a->zone, a->libvirt_uri, cpu_ratio,
                             ram_ratio };

    if (one_host(c, SQL_HOST_INSERT_DISCOVERING, 6, params, a->name, ret, err) == 0)
        return 0;
    if (strcmp(sov_db_last_sqlstate(c), "23505") == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "host name '%s' is taken", a->name);
    if (strcmp(sov_db_last_sqlstate(c), "23503") == 0)
        return sov_error_invalid(err, "zone", "zone '%s' does not exist in region '%s'",
                                 a->zone, a->region);
    return -1;
}

int
sov_repo_host_discovered(sov_dbconn *c, const char *id, const sov_hv_node *node,
                         const sov_hv_identity *m, sov_host *ret, sov_error *err)
{
    char cpus[16], mem[24], cells[16], gib[24], gpus[16];
    char models[SOV_HV_GPU_MODELS_MAX * (sizeof(node->gpu_models[0]) + 1)] = "";
    size_t len = 0;
    const char *params[] = { id, node->hypervisor, node->hypervisor_reason, node->cpu_model,
                             cpus, mem, cells, node->storage_pool, gib, gpus, models,
                             m->machine_id, m->host_uuid, m->smbios_uuid };

    snprintf(cpus, sizeof(cpus), "%d", node->cpus);
    snprintf(mem, sizeof(mem), "%lld", node->memory_mib);
    snprintf(cells, sizeof(cells), "%d", node->numa_cells);
    snprintf(gib, sizeof(gib), "%lld", node->storage_gib);
    snprintf(gpus, sizeof(gpus), "%d", node->gpus);
    for (int i = 0; i < node->ngpu_models; i++)
        len += (size_t) snprintf(models + len, sizeof(models) - len, "%s%s", i ? "\x1f" : "",
                                 node->gpu_models[i]);
    if (one_host(c, SQL_HOST_DISCOVERED, 14, params, id, ret, err) == 0)
        return 0;
    /* The unique index on machine_id: another registration of this machine won a race. */
    if (strcmp(sov_db_last_sqlstate(c), "23505") == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "this machine is already a host");
    return -1;
}

int
sov_repo_host_discovery_failed(sov_dbconn *c, const char *id, const char *reason, sov_error *err)
{
    const char *params[] = { id, reason };

    return sov_db_query(c, SQL_HOST_DISCOVERY_FAILED, 2, params, NULL, err);
}

/* The name of the first row of a one-column query, "" when none. */
static int
first_name(sov_dbconn *c, const char *sql, int n, const char *const *params, char *ret,
           size_t size, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, sql, n, params, &res, err) < 0)
        return -1;
    ret[0] = '\0';
    if (PQntuples(res) > 0)
        sov_db_copy(ret, size, res, 0, PQfnumber(res, "name"));
    return 0;
}

int
sov_repo_host_uri_owner(sov_dbconn *c, const char *uri, char *ret, size_t size, sov_error *err)
{
    const char *params[] = { uri };

    return first_name(c, SQL_HOST_URI_OWNER, 1, params, ret, size, err);
}

int
sov_repo_host_machine_owner(sov_dbconn *c, const char *machine_id, const char *except_id,
                            char *ret, size_t size, sov_error *err)
{
    const char *params[] = { machine_id, except_id };

    return first_name(c, SQL_HOST_MACHINE_OWNER, 2, params, ret, size, err);
}

int
sov_repo_host_mismatch(sov_dbconn *c, const char *id, const sov_hv_identity *seen,
                       const char *reason, bool *ret_moved, sov_error *err)
{
    const char *params[] = { id, seen->machine_id, seen->host_uuid, seen->smbios_uuid,
                             reason };
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, SQL_HOST_MISMATCH, 5, params, &res, err) < 0)
        return -1;
    *ret_moved = PQntuples(res) > 0;
    return 0;
}

int
sov_repo_host_adopt(sov_dbconn *c, const char *id, const sov_hv_identity *m, sov_error *err)
{
    const char *params[] = { id, m->machine_id, m->host_uuid, m->smbios_uuid };

    if (sov_db_query(c, SQL_HOST_ADOPT, 4, params, NULL, err) == 0)
        return 0;
    if (strcmp(sov_db_last_sqlstate(c), "23505") == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "this machine is already a host");
    return -1;
}

int
sov_repo_host_confirm(sov_dbconn *c, const char *id, const char *reason, sov_host *ret,
                      bool *ret_found, sov_error *err)
{
    const char *params[] = { id, reason };
    sov_autoptr(PGresult) res = NULL;

    *ret_found = false;
    if (sov_db_query(c, SQL_HOST_CONFIRM, 2, params, &res, err) < 0) {
        if (strcmp(sov_db_last_sqlstate(c), "23505") == 0) {
            sov_error_clear(err);
            return sov_error_set(err, SOV_E_CONFLICT, "this machine is already a host");
        }
        return -1;
    }
    if (PQntuples(res) == 0)
        return 0;
    if (sov_db_fill(res, 0, &row_host, ret, err) < 0)
        return -1;
    *ret_found = true;
    return 0;
}
