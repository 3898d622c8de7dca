/* Migrations through the HTTP API of a real sovd (API, worker and reconciler) on a real
 * PostgreSQL, with three hosts of libvirt's test driver registered through the API: node-a
 * and node-b in an EU region (FR), node-c in a non-EU region (US). Tenant acme has the
 * default policy (the EU).
 *
 * Covered: a member's live migration without a host (the scheduler picks node-b, never the
 * source) and an operator's cold one naming a host, end to end: the instance on its new
 * host, region and zone, the "moved" residency record (from and to), the hosts' usage moved,
 * no reservation left, the migration listed (operators see host ids, members do not), in
 * pages; a migration that fails in libvirt (SOV_HV_FAULT=migrate:1:conflict): the guest
 * stays running on its source with the reason, the reservation released, the migration
 * failed; every refusal (live on a stopped instance or one with GPUs, the source, a host outside the policy,
 * a host not up, no room, a member naming a host, bad bodies, another tenant's instance, a
 * reader) with nothing changed: no operation, no migration row, no reservation, no record;
 * other actions and deletes refused while an instance migrates; a run cut after the commit
 * (the source's cleaning failing once) finishes on the next without committing twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hosts.h"
#include "testlib.h"

#define EU_REGION "fr-mig-1"
#define US_REGION "us-mig-1"
#define FLAVOR "small"
#define IMAGE "base"
#define WAIT_S 60

static char *db;
static char *tmp;
static tl_sovd sovd;
static char *op;                /* the bootstrap operator's token */
static tl_tenant acme, globex;
static char pool[64], net[64];
static char node_a[40], node_b[40], node_c[40];

static void
setup(void)
{
    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    op = NULL;
    snprintf(pool, sizeof(pool), "sovmig-%d", (int) getpid());
    snprintf(net, sizeof(net), "sovmig%d", (int) getpid());
}

static void
teardown(void)
{
    int rc = tl_sovd_stop_clean(&sovd, 30);

    tl_sovd_discard(&sovd);
    tl_teardown_end(rc, db, op, tmp);
}

static void
host_add(const char *name, const char *region, char *id)
{
    char body[2048];
    char *u = tl_test_host_uri(tmp, name, 8, 16);
    json_t *j;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"%s\",\"zone\":\"a\","
             "\"libvirt_uri\":\"%s\"}", name, region, u);
    free(u);
    j = tl_host_add(&sovd, op, body);
    ck_assert_str_eq(tl_str(j, "state"), "up");
    snprintf(id, 40, "%s", tl_str(j, "id"));
    json_decref(j);
}

/* sovd (SOV_HV_FAULT=fault in its environment unless NULL), tenants, the two regions, the
 * three hosts, the flavor and acme's image. */
static void
start(const char *fault)
{
    tl_local_flags f;
    const char *args[] = { "--role=api,worker,reconciler", "--host-check-interval=1",
                           "--worker-threads=2", "--image-allow-file-urls=true",
                           "--stop-timeout=2", f.store, f.pool, f.path, f.net, f.cidr, NULL };

    tl_local_flags_init(&f, tmp, pool, net);
    if (fault)
        setenv("SOV_HV_FAULT", fault, 1);
    tl_sovd_start(&sovd, db, args);
    unsetenv("SOV_HV_FAULT");
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
    tl_tenant_make(&sovd, op, "globex", &globex);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" EU_REGION "\",\"name\":\"Mig FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-fr\",\"zones\":[\"a\"]}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" US_REGION "\",\"name\":\"Mig US\",\"country\":\"US\","
                           "\"datacenter\":\"dc-us\",\"zones\":[\"a\"]}", 201));
    /* node-a alone first: every instance starts there. */
    host_add("node-a", EU_REGION, node_a);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"" FLAVOR "\",\"vcpus\":1,\"memory_mib\":128,"
                           "\"disk_gib\":1}", 201));
    tl_image_from_qcow2(&sovd, acme.token[TL_MEMBER], tmp, IMAGE, EU_REGION, WAIT_S);
}

static void
more_hosts(void)
{
    host_add("node-b", EU_REGION, node_b);
    host_add("node-c", US_REGION, node_c);
}

static json_t *
get_instance(const char *id)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    return tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
}

static json_t *
wait_state(const char *id, const char *state)
{
    return tl_wait_state(&sovd, acme.token[TL_READER], "/v1/instances/", id, state, WAIT_S);
}

/* Wait until instance id runs; it is on host_id: the instance (a new reference). */
static json_t *
running_on(const char *id, const char *host_id)
{
    json_t *x = wait_state(id, "running");

    ck_assert_str_eq(tl_str(json_object_get(x, "host"), "id"), host_id);
    return x;
}

/* acme's instance name, running on node-a; its id into id. */
static void
launch(const char *name, char id[40])
{
    char body[512];
    json_t *j, *x;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"flavor\":\"" FLAVOR "\",\"image\":\""
             IMAGE "\"}", name);
    j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER], body, 202);
    snprintf(id, 40, "%s", tl_str(json_object_get(j, "instance"), "id"));
    json_decref(j);
    x = running_on(id, node_a);
    json_decref(x);
}

static long long
host_vcpus(const char *id)
{
    char path[128];
    json_t *h;
    long long n;

    snprintf(path, sizeof(path), "/v1/hosts/%s", id);
    h = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    n = tl_num(json_object_get(h, "usage"), "vcpus");
    json_decref(h);
    return n;
}

/* POST actions {action: migrate...} as token: 202; the operation's id into op_id. */
static void
migrate(const char *id, const char *token, const char *extra, char op_id[40])
{
    char path[128], body[512];
    json_t *j, *x, *o;

    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    snprintf(body, sizeof(body), "{\"action\":\"migrate\"%s}", extra);
    j = tl_call_ok(&sovd, "POST", path, token, body, 202);
    x = json_object_get(j, "instance");
    o = json_object_get(j, "operation");
    ck_assert_str_eq(tl_str(x, "state"), "migrating");
    ck_assert_str_eq(tl_str(o, "kind"), "instance.migrate");
    ck_assert_str_eq(tl_str(o, "resource_id"), id);
    snprintf(op_id, 40, "%s", tl_str(o, "id"));
    json_decref(j);
}

/* Migrate id as acme's member with extra: the operation fails; its id into op_id. */
static void
migrate_fails(const char *id, const char *extra, char op_id[40])
{
    json_t *o;

    migrate(id, acme.token[TL_MEMBER], extra, op_id);
    o = tl_op_wait_done(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    json_decref(o);
}

/* Nothing of a migration is left: no reservation, no migration still going. */
static void
assert_settled(void)
{
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM host_allocations"
                                   " WHERE resource_type = 'migration'"), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM instance_migrations"
                                   " WHERE state NOT IN ('succeeded', 'failed')"), 0);
}

static const char *
last_event(json_t *page)
{
    json_t *items = json_object_get(page, "items");

    return tl_str(json_array_get(items, json_array_size(items) - 1), "event");
}

START_TEST(member_live_migration_moves_instance_to_another_host_of_its_region)
{
    char id[40], op_id[40], path[160];
    json_t *x, *h, *items, *m, *last;

    start(NULL);
    launch("web-1", id);
    more_hosts();
    ck_assert_int_eq(host_vcpus(node_a), 1);
    migrate(id, acme.token[TL_MEMBER], "", op_id);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);

    x = running_on(id, node_b);
    ck_assert_str_eq(tl_str(x, "region"), EU_REGION);
    ck_assert_str_eq(tl_str(json_object_get(x, "residency"), "host"), "node-b");
    json_decref(x);
    /* The usage left node-a and landed on node-b; the reservation is gone. */
    ck_assert_int_eq(host_vcpus(node_a), 0);
    ck_assert_int_eq(host_vcpus(node_b), 1);
    ck_assert_int_eq(host_vcpus(node_c), 0);
    assert_settled();
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM host_allocations WHERE"
                                   " resource_type = 'instance' AND resource_id = '%s'"
                                   " AND host_id = '%s'", id, node_b), 1);

    /* The residency history ends with the move, from node-a to node-b. */
    snprintf(path, sizeof(path), "/v1/instances/%s/residency", id);
    h = tl_call_ok(&sovd, "GET", path, acme.token[TL_AUDITOR], NULL, 200);
    ck_assert_str_eq(last_event(h), "moved");
    items = json_object_get(h, "items");
    last = json_array_get(items, json_array_size(items) - 1);
    ck_assert_str_eq(tl_str(json_object_get(last, "from"), "host"), "node-a");
    ck_assert_str_eq(tl_str(json_object_get(last, "to"), "host"), "node-b");
    ck_assert_str_eq(tl_str(json_object_get(last, "to"), "country"), "FR");
    ck_assert_str_eq(tl_str(last, "operation_id"), op_id);
    tl_assert_contains(tl_str(last, "reason"), "live migration");
    json_decref(h);

    /* The migration, as a reader sees it: host names, no host ids. */
    snprintf(path, sizeof(path), "/v1/instances/%s/migrations", id);
    h = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    items = json_object_get(h, "items");
    ck_assert_int_eq(json_array_size(items), 1);
    m = json_array_get(items, 0);
    ck_assert_str_eq(tl_str(m, "state"), "succeeded");
    ck_assert(json_is_true(json_object_get(m, "live")));
    ck_assert_str_eq(tl_str(m, "source"), "node-a");
    ck_assert_str_eq(tl_str(m, "target"), "node-b");
    ck_assert_str_eq(tl_str(m, "operation_id"), op_id);
    ck_assert_ptr_null(json_object_get(m, "source_host_id"));
    ck_assert(json_is_string(json_object_get(m, "finished_at")));
    ck_assert(json_is_object(json_object_get(m, "progress")));
    json_decref(h);

    /* The operator moves it back, naming the host; pages of one, oldest first. */
    migrate(id, op, ",\"host\":\"node-a\"", op_id);
    tl_op_wait_ok(&sovd, op, op_id, WAIT_S);
    x = running_on(id, node_a);
    json_decref(x);
    snprintf(path, sizeof(path), "/v1/instances/%s/migrations?limit=1", id);
    h = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    m = json_array_get(json_object_get(h, "items"), 0);
    ck_assert_str_eq(tl_str(m, "target"), "node-b");
    ck_assert_str_eq(tl_str(m, "source_host_id"), node_a);
    ck_assert_str_eq(tl_str(m, "target_host_id"), node_b);
    ck_assert(json_is_string(json_object_get(h, "next")));
    {
        char next[512];
        json_t *h2;
        const char *n = tl_str(h, "next");
        snprintf(next, sizeof(next), "%s", strstr(n, "/v1/") ? strstr(n, "/v1/") : n);
        h2 = tl_call_ok(&sovd, "GET", next, op, NULL, 200);
        m = json_array_get(json_object_get(h2, "items"), 0);
        ck_assert_str_eq(tl_str(m, "target"), "node-a");
        ck_assert_str_eq(tl_str(m, "state"), "succeeded");
        json_decref(h2);
    }
    json_decref(h);
    ck_assert_int_eq(host_vcpus(node_a), 1);
    ck_assert_int_eq(host_vcpus(node_b), 0);
    assert_settled();
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM residency_records WHERE"
                                   " resource_id = '%s' AND event = 'moved'", id), 2);

    /* The signed residency report shows the moves: the instance's intervals are on node-a,
     * then node-b, then node-a again, each ending where the next starts. */
    {
        json_t *rep, *doc, *row;
        json_error_t jerr;
        const char *hosts[3] = { NULL, NULL, NULL }, *ends[3] = { NULL, NULL, NULL };
        const char *starts[3] = { NULL, NULL, NULL };
        size_t i, n = 0;
        char rid[40];
        tl_resp r;

        char body[160], to[32];
        time_t tomorrow = time(NULL) + 86400;
        struct tm tm;

        gmtime_r(&tomorrow, &tm);
        strftime(to, sizeof(to), "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(body, sizeof(body), "{\"from\":\"2020-01-01T00:00:00Z\",\"to\":\"%s\","
                                     "\"format\":\"json\"}", to);
        rep = tl_call_ok(&sovd, "POST", "/v1/residency/reports", acme.token[TL_AUDITOR], body,
                         202);
        snprintf(rid, sizeof(rid), "%s", tl_str(json_object_get(rep, "report"), "id"));
        tl_op_wait_ok(&sovd, acme.token[TL_AUDITOR], tl_str(json_object_get(rep, "operation"), "id"),
                      WAIT_S);
        json_decref(rep);
        snprintf(path, sizeof(path), "/v1/residency/reports/%s/document", rid);
        tl_call(&sovd, "GET", path, acme.token[TL_AUDITOR], NULL, &r);
        ck_assert_int_eq(r.status, 200);
        doc = json_loadb(r.body, r.len, 0, &jerr);
        ck_assert_msg(doc, "report not JSON: %s", jerr.text);
        json_array_foreach(json_object_get(doc, "rows"), i, row) {
            if (strcmp(tl_str(row, "resource_id"), id) != 0)
                continue;
            ck_assert_msg(n < 3, "more than three intervals for %s", id);
            hosts[n] = tl_str(row, "host");
            starts[n] = tl_str(row, "start");
            ends[n] = tl_str(row, "end");
            n++;
        }
        ck_assert_uint_eq(n, 3);
        ck_assert_str_eq(hosts[0], "node-a");
        ck_assert_str_eq(hosts[1], "node-b");
        ck_assert_str_eq(hosts[2], "node-a");
        ck_assert_str_eq(ends[0], starts[1]);
        ck_assert_str_eq(ends[1], starts[2]);
        json_decref(doc);
        tl_resp_free(&r);
    }
}
END_TEST

START_TEST(operator_cold_migration_keeps_a_stopped_instance_stopped)
{
    char id[40], op_id[40], path[160];
    json_t *x, *h, *m;

    start(NULL);
    launch("db-1", id);
    more_hosts();
    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    h = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], "{\"action\":\"stop\"}", 202);
    json_decref(h);
    json_decref(wait_state(id, "stopped"));

    /* Stopped: cold by default. */
    migrate(id, op, ",\"host\":\"node-b\"", op_id);
    tl_op_wait_ok(&sovd, op, op_id, WAIT_S);
    x = wait_state(id, "stopped");
    ck_assert_str_eq(tl_str(json_object_get(x, "host"), "id"), node_b);
    json_decref(x);
    snprintf(path, sizeof(path), "/v1/instances/%s/migrations", id);
    h = tl_call_ok(&sovd, "GET", path, acme.token[TL_MEMBER], NULL, 200);
    m = json_array_get(json_object_get(h, "items"), 0);
    ck_assert(json_is_false(json_object_get(m, "live")));
    ck_assert_str_eq(tl_str(m, "state"), "succeeded");
    json_decref(h);
    ck_assert_int_eq(host_vcpus(node_a), 0);
    ck_assert_int_eq(host_vcpus(node_b), 1);
    assert_settled();

    /* A running instance moves cold when asked, and runs again on its target. */
    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    json_decref(tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER],
                           "{\"action\":\"start\"}", 202));
    json_decref(wait_state(id, "running"));
    migrate(id, acme.token[TL_MEMBER], ",\"live\":false", op_id);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    x = running_on(id, node_a);
    json_decref(x);
    assert_settled();
}
END_TEST

/* What a refused migration must leave as it was. */
static void
assert_untouched(const char *id)
{
    json_t *x = get_instance(id);

    ck_assert_str_eq(tl_str(x, "state"), "running");
    ck_assert_str_eq(tl_str(json_object_get(x, "host"), "id"), node_a);
    json_decref(x);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM instance_migrations"), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM operations"
                                   " WHERE kind = 'instance.migrate'"), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM residency_records"
                                   " WHERE event = 'moved'"), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM host_allocations"
                                   " WHERE host_id <> '%s'", node_a), 0);
    assert_settled();
}

START_TEST(refused_migrations_change_nothing)
{
    char id[40], stopped[40], path[160], spath[160];
    const char *member = acme.token[TL_MEMBER];

    start(NULL);
    launch("web-1", id);
    launch("web-2", stopped);
    more_hosts();
    member = acme.token[TL_MEMBER];
    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    snprintf(spath, sizeof(spath), "/v1/instances/%s/actions", stopped);
    json_decref(tl_call_ok(&sovd, "POST", spath, member, "{\"action\":\"stop\"}", 202));
    json_decref(wait_state(stopped, "stopped"));

    /* Bodies. */
    tl_refused(&sovd, "POST", path, member, "{\"action\":\"migrate\",\"speed\":1}", 400,
               "/problems/invalid-request", "speed", NULL);
    tl_refused(&sovd, "POST", path, member, "{\"action\":\"migrate\",\"live\":\"yes\"}", 400,
               "/problems/invalid-request", "live", NULL);
    tl_refused(&sovd, "POST", path, op, "{\"action\":\"migrate\",\"host\":7}", 400,
               "/problems/invalid-request", "host", NULL);
    tl_refused(&sovd, "POST", path, op, "{\"action\":\"migrate\",\"host\":\"\"}", 400,
               "/problems/invalid-request", "host", NULL);
    tl_refused(&sovd, "POST", path, op, "{\"action\":\"migrate\",\"host\":\"node-z\"}", 400,
               "/problems/invalid-request", "host", "node-z");
    tl_refused(&sovd, "POST", path, member, "{\"action\":\"reboot\",\"live\":true}", 400,
               "/problems/invalid-request", "live", "migrate");
    /* Who may. */
    tl_refused(&sovd, "POST", path, member, "{\"action\":\"migrate\",\"host\":\"node-b\"}",
               403, "/problems/forbidden", NULL, "operators");
    tl_refused(&sovd, "POST", path, acme.token[TL_READER], "{\"action\":\"migrate\"}", 403,
               "/problems/forbidden", NULL, NULL);
    tl_refused(&sovd, "POST", path, globex.token[TL_MEMBER], "{\"action\":\"migrate\"}", 404,
               "/problems/not-found", NULL, NULL);
    snprintf(path, sizeof(path), "/v1/instances/%s/migrations", id);
    tl_refused(&sovd, "GET", path, globex.token[TL_READER], NULL, 404, "/problems/not-found",
               NULL, NULL);
    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    /* States. */
    tl_refused(&sovd, "POST", spath, member, "{\"action\":\"migrate\",\"live\":true}", 409,
               "/problems/conflict", NULL, "live false");
    /* Targets: the policy first, for operators too, naming the policy and the host. */
    tl_refused(&sovd, "POST", path, op, "{\"action\":\"migrate\",\"host\":\"node-c\"}", 409,
               "/problems/residency-policy", NULL, "node-c");
    tl_refused(&sovd, "POST", path, op, "{\"action\":\"migrate\",\"host\":\"node-c\"}", 409,
               "/problems/residency-policy", NULL, "EU");
    tl_refused(&sovd, "POST", path, op, "{\"action\":\"migrate\",\"host\":\"node-a\"}", 409,
               "/problems/conflict", NULL, "already runs there");
    json_decref(tl_call_ok(&sovd, "PATCH", "/v1/hosts/node-b", op,
                           "{\"state\":\"disabled\"}", 200));
    tl_refused(&sovd, "POST", path, op, "{\"action\":\"migrate\",\"host\":\"node-b\"}", 409,
               "/problems/conflict", NULL, "disabled");
    /* No other host of its region that is up: the scheduler says why, never node-c. */
    tl_refused(&sovd, "POST", path, member, "{\"action\":\"migrate\"}", 409,
               "/problems/no-capacity", NULL, "source_host 1");
    json_decref(tl_call_ok(&sovd, "PATCH", "/v1/hosts/node-b", op, "{\"state\":\"up\"}",
                           200));
    /* GPUs cannot move live (test hosts have none: the row says so by hand here). */
    free(tl_db_exec(db, "UPDATE instances SET gpus = 1 WHERE name = 'web-1'"));
    tl_refused(&sovd, "POST", path, member, "{\"action\":\"migrate\"}", 409,
               "/problems/conflict", NULL, "GPUs");
    free(tl_db_exec(db, "UPDATE instances SET gpus = 0 WHERE name = 'web-1'"));
    assert_untouched(id);
}
END_TEST

START_TEST(actions_and_deletes_wait_for_a_migration)
{
    char id[40], path[160];

    start(NULL);
    launch("web-1", id);
    /* An instance caught mid-migration (its worker's state, set here by hand). */
    free(tl_db_exec(db, "UPDATE instances SET state = 'migrating'"));
    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    tl_refused(&sovd, "POST", path, acme.token[TL_MEMBER], "{\"action\":\"stop\"}", 409,
               "/problems/conflict", NULL, "migrating");
    tl_refused(&sovd, "POST", path, acme.token[TL_MEMBER], "{\"action\":\"migrate\"}", 409,
               "/problems/conflict", NULL, "migrating");
    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    tl_refused(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 409, "/problems/conflict",
               NULL, "migration has ended");
    /* The reconciler leaves it to its worker. */
    sleep(3);
    {
        json_t *x = get_instance(id);
        ck_assert_str_eq(tl_str(x, "state"), "migrating");
        json_decref(x);
    }
    json_decref(tl_call_ok(&sovd, "GET", "/v1/instances?state=migrating",
                           acme.token[TL_READER], NULL, 200));
    free(tl_db_exec(db, "UPDATE instances SET state = 'running'"));
}
END_TEST

START_TEST(failed_live_migration_keeps_the_guest_on_its_source)
{
    char id[40], op_id[40], path[160];
    json_t *x, *h, *m;

    start("migrate:1:conflict");
    launch("web-1", id);
    more_hosts();
    migrate_fails(id, "", op_id);
    x = running_on(id, node_a);
    tl_assert_contains(tl_str(x, "state_reason"), "node-b");
    json_decref(x);
    snprintf(path, sizeof(path), "/v1/instances/%s/migrations", id);
    h = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    m = json_array_get(json_object_get(h, "items"), 0);
    ck_assert_str_eq(tl_str(m, "state"), "failed");
    ck_assert(json_is_string(json_object_get(m, "reason")));
    json_decref(h);
    /* The reservation went back; nothing moved. */
    ck_assert_int_eq(host_vcpus(node_a), 1);
    ck_assert_int_eq(host_vcpus(node_b), 0);
    assert_settled();
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM residency_records"
                                   " WHERE event = 'moved'"), 0);
    /* The next try works. */
    migrate(id, acme.token[TL_MEMBER], "", op_id);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    x = running_on(id, node_b);
    json_decref(x);
    assert_settled();
}
END_TEST

/* A cold move whose disk copy fails: the guest, stopped for the move, runs again on its
 * source; the reservation is released. */
START_TEST(failed_cold_migration_starts_the_guest_again_on_its_source)
{
    char id[40], op_id[40];
    json_t *x;

    start("volume_send:1:conflict");
    launch("web-1", id);
    more_hosts();
    migrate_fails(id, ",\"live\":false", op_id);
    x = running_on(id, node_a);
    tl_assert_contains(tl_str(x, "state_reason"), "stays on host node-a");
    json_decref(x);
    /* Its domain runs: the reconciler (every second) would say it powered itself off. */
    sleep(3);
    x = get_instance(id);
    ck_assert_str_eq(tl_str(x, "state"), "running");
    json_decref(x);
    ck_assert_int_eq(host_vcpus(node_b), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM instance_migrations"
                                   " WHERE state = 'failed'"), 1);
    assert_settled();
}
END_TEST

/* The source's cleaning fails once (a host away; the second volume_delete: the first makes
 * room for the target's fresh overlay): the move stands, committed once, and the
 * operation's next run only cleans. */
START_TEST(a_migration_cut_after_its_commit_only_cleans_on_its_next_run)
{
    char id[40], op_id[40], path[160];
    json_t *o, *x, *h, *m;

    start("volume_delete:2:unavailable");
    launch("web-1", id);
    more_hosts();
    migrate(id, acme.token[TL_MEMBER], "", op_id);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    snprintf(path, sizeof(path), "/v1/operations/%s", op_id);
    o = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(tl_num(o, "attempts"), 2);
    json_decref(o);
    x = running_on(id, node_b);
    json_decref(x);
    snprintf(path, sizeof(path), "/v1/instances/%s/migrations", id);
    h = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    m = json_array_get(json_object_get(h, "items"), 0);
    ck_assert_str_eq(tl_str(m, "state"), "succeeded");
    json_decref(h);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM residency_records"
                                   " WHERE event = 'moved' AND resource_id = '%s'", id), 1);
    ck_assert_int_eq(host_vcpus(node_a), 0);
    ck_assert_int_eq(host_vcpus(node_b), 1);
    assert_settled();
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("compute/migrate");
    TCase *tc = tcase_create("migrate");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, member_live_migration_moves_instance_to_another_host_of_its_region);
    tcase_add_test(tc, operator_cold_migration_keeps_a_stopped_instance_stopped);
    tcase_add_test(tc, refused_migrations_change_nothing);
    tcase_add_test(tc, actions_and_deletes_wait_for_a_migration);
    tcase_add_test(tc, failed_live_migration_keeps_the_guest_on_its_source);
    tcase_add_test(tc, failed_cold_migration_starts_the_guest_again_on_its_source);
    tcase_add_test(tc, a_migration_cut_after_its_commit_only_cleans_on_its_next_run);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
