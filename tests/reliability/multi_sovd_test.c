/* Several sovd at once: three processes (api and worker roles; the first also the reconciler)
 * against one PostgreSQL and a real fleet of two libvirtd hosts (scripts/fleet, a prefix of
 * this process), with a run of creates, live migrations and deletes spread over their three
 * APIs, and one of them killed with SIGKILL in the middle while it holds operations (the test
 * checks it held some): one whose worker runs a live migration while libvirt copies, when
 * sovd 1 or 2 takes one, else any. Then, once the survivors have emptied the queue:
 *   - no operation is stuck: every one succeeded or failed with a reason, none runs;
 *   - nothing is lost or duplicated: every create answered 202 has its instance row, once,
 *     every delete answered 202 ended deleted, and no instance's domain is on two hosts;
 *   - the truth: every live instance's domain runs on exactly the host its row names and on
 *     no other (virsh list on each host), no domain of this deployment is on a host without
 *     a live instance owning it there, every host's usage equals the sum of its allocations,
 *     no reservation outlives its migration, each migrated instance is where its migration
 *     left it, each live instance's last residency record names the host it runs on, and
 *     every placement and move is recorded once.
 *
 * sovd runs with --operation-step-timeout=10: an operation whose worker died is taken over by
 * a survivor within seconds (a step of a live migration renews its lease with each progress
 * report). Instances are tiny real guests (64 MiB, 1 vCPU, tests/support/guest.h's image) on
 * the hosts' NAT network; the storage pool lives under /var/lib/libvirt, which each fleet host
 * has of its own (a disk keeps its path when it moves). Needs root (scripts/test runs as
 * root); the fleet goes down when the test process exits, however it exits. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "testlib.h"

#define sql(...) tl_db_value(db, __VA_ARGS__)
#define sql_num(...) tl_db_num(db, __VA_ARGS__)

#define REGION "fr-multi-1"
#define HOSTS 2
#define SOVDS 3
#define FIRST 4                 /* instances made before the run, the run's migrations' */
#define LEASE_S 10              /* --operation-step-timeout */
#define OP_WAIT_S 120           /* a create or migration of a TCG guest on a busy machine */
#define SETTLE_S 120            /* for the survivors to empty the queue after the kill */
#define MAX_IDS 64

typedef struct fleet_host {
    char name[64], uri[128], addr[32], uuid[64];
    char id[40];                /* its row, once registered */
} fleet_host;

static char *db;
static char *tmp;
static char *image;
static char *op;                /* the bootstrap operator's token */
static char prefix[32];
static char top[1024];
static char pool[32], net[16], cidr[32];
static fleet_host hosts[HOSTS];
static tl_sovd sovd[SOVDS];
static bool dead[SOVDS];
static tl_tenant acme;

/* What the APIs accepted. */
static char created[MAX_IDS][40];
static size_t ncreated;
static char deleted[MAX_IDS][40];
static size_t ndeleted;
static char migrated[MAX_IDS][40];
static size_t nmigrated;
static unsigned refused;

/* ---- fixture ---- */

static void
setup(void)
{
    char *out, *line, *save = NULL;
    size_t len;
    int rc, n = 0;

    db = tl_db_create();
    tmp = tl_tmpdir();
    ck_assert_int_eq(chmod(tmp, 0755), 0);
    memset(sovd, 0, sizeof(sovd));
    memset(dead, 0, sizeof(dead));
    ncreated = ndeleted = nmigrated = refused = 0;
    op = NULL;
    snprintf(prefix, sizeof(prefix), "ms%d", (int) getpid());
    snprintf(top, sizeof(top), "%s", tl_env("SOV_SOURCE_ROOT"));
    snprintf(pool, sizeof(pool), "sovms%d", (int) getpid());
    snprintf(net, sizeof(net), "sovm%d", (int) getpid() % 1000000);
    /* Registered before it exists: the fleet (its guests, pools and networks with it) goes
     * down however the test ends. */
    tl_sh_at_exit("'%s/scripts/fleet' down --prefix '%s' >/dev/null 2>&1", top, prefix);
    out = tl_sh_out(&rc, "'%s/scripts/fleet' up %d --prefix '%s' 2>&1", top, HOSTS, prefix);
    ck_assert_msg(rc == 0, "fleet up failed: %s", out);
    len = strlen(prefix);
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, prefix, len) != 0 || strncmp(line + len, "-h", 2) != 0)
            continue;
        ck_assert_int_lt(n, HOSTS);
        ck_assert_int_eq(sscanf(line, "%63s %127s %31s %63s", hosts[n].name, hosts[n].uri,
                                hosts[n].addr, hosts[n].uuid), 4);
        n++;
    }
    free(out);
    ck_assert_int_eq(n, HOSTS);
    /* The NAT network lives in each host's network namespace; a /24 the machine does not
     * use keeps it clear of the fleet's own. */
    tl_free_subnet("qemu:///system", cidr, NULL);
    image = tl_guest_image();
}

static void
teardown(void)
{
    for (int i = 0; i < SOVDS; i++) {
        if (sovd[i].pid > 0 && !dead[i])
            tl_sovd_stop(&sovd[i], SIGKILL, 5);
        /* Check carries short messages only: the warnings and errors of each sovd (libvirt's
         * words are there) go to the test's log. */
        if (sovd[i].log[0])
            tl_sh("echo '--- sovd %d:' >&2; grep -E 'WARN|ERROR|warn|error' '%s' | tail -n 40 >&2",
                  i, sovd[i].log);
        tl_sovd_discard(&sovd[i]);
    }
    tl_sh("'%s/scripts/fleet' down --prefix '%s' >/dev/null 2>&1", top, prefix);
    tl_guest_image_remove(image);
    free(image);
    tl_db_drop(db);
    free(db);
    free(op);
    tl_tmpdir_remove(tmp);
    free(tmp);
}

/* sovd i: same database, image store and keystore as the others, its own port and state. */
static void
start_sovd(int i)
{
    char pool_flag[64], path_flag[128], net_flag[64], cidr_flag[64], store_flag[700],
        key_flag[700], lease_flag[64];
    const char *args[] = { i == 0 ? "--role=api,worker,reconciler" : "--role=api,worker",
                           pool_flag, path_flag, net_flag, cidr_flag, store_flag, key_flag,
                           lease_flag, "--image-allow-file-urls=true",
                           "--host-check-interval=2", "--worker-threads=4", NULL };

    snprintf(pool_flag, sizeof(pool_flag), "--storage-pool=%s", pool);
    /* Under /var/lib/libvirt: each fleet host has that folder of its own. */
    snprintf(path_flag, sizeof(path_flag), "--storage-pool-path=/var/lib/libvirt/%s", pool);
    snprintf(net_flag, sizeof(net_flag), "--nat-network=%s", net);
    snprintf(cidr_flag, sizeof(cidr_flag), "--nat-cidr=%s", cidr);
    snprintf(store_flag, sizeof(store_flag), "--image-store=%s/store", tmp);
    snprintf(key_flag, sizeof(key_flag), "--keystore-master-key=%s/master.key", tmp);
    snprintf(lease_flag, sizeof(lease_flag), "--operation-step-timeout=%d", LEASE_S);
    tl_sovd_start(&sovd[i], db, args);
}

/* ---- the API ---- */

/* A call on sovd i as acme's member; the status (0: no answer) and the answer's JSON. */
static long
call(int i, const char *method, const char *path, const char *body, json_t **ret)
{
    char url[256], auth[128];
    const char *headers[] = { auth, "Content-Type: application/json", NULL };
    tl_req q = { .method = method, .url = url, .headers = headers, .body = body,
                 .body_len = body ? strlen(body) : 0 };
    tl_resp r;
    long status;

    snprintf(url, sizeof(url), "%s%s", sovd[i].base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", acme.token[TL_MEMBER]);
    if (tl_http_try(&q, &r) < 0)
        r.status = 0;
    status = r.status;
    if (ret)
        *ret = r.json ? json_incref(r.json) : NULL;
    tl_resp_free(&r);
    return status;
}

/* The next live sovd after i (round robin over the APIs). */
static int
next_api(int i)
{
    for (int k = 1; k <= SOVDS; k++)
        if (!dead[(i + k) % SOVDS])
            return (i + k) % SOVDS;
    ck_abort_msg("no sovd left");
    return -1;
}

static void
note_refusal(const char *what, long status, const json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

    printf("multi-sovd: %s answered %ld: %s\n", what, status, text ? text : "");
    free(text);
    refused++;
}

static bool
create_on(int i, unsigned n)
{
    char body[256];
    json_t *j = NULL;
    long status;

    snprintf(body, sizeof(body), "{\"name\":\"m%u\",\"flavor\":\"tiny\",\"image\":\"guest\"}",
             n);
    status = call(i, "POST", "/v1/instances", body, &j);
    if (status == 202) {
        ck_assert_int_lt(ncreated, MAX_IDS);
        snprintf(created[ncreated++], 40, "%s",
                 tl_str(json_object_get(j, "instance"), "id"));
    } else if (status != 0) {
        note_refusal("a create", status, j);
    }
    json_decref(j);
    return status == 202;
}

static bool
delete_on(int i, const char *id)
{
    char path[128];
    json_t *j = NULL;
    long status;

    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    status = call(i, "DELETE", path, NULL, &j);
    if (status == 202) {
        ck_assert_int_lt(ndeleted, MAX_IDS);
        snprintf(deleted[ndeleted++], 40, "%s", id);
    } else if (status != 0) {
        note_refusal("a delete", status, j);
    }
    json_decref(j);
    return status == 202;
}

/* A live migration (placement chooses the target: the other host). */
static bool
migrate_on(int i, const char *id)
{
    char path[128];
    json_t *j = NULL;
    long status;

    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    status = call(i, "POST", path, "{\"action\":\"migrate\",\"live\":true}", &j);
    if (status == 202) {
        ck_assert_int_lt(nmigrated, MAX_IDS);
        snprintf(migrated[nmigrated++], 40, "%s", id);
    } else if (status != 0) {
        note_refusal("a migration", status, j);
    }
    json_decref(j);
    return status == 202;
}

/* Wait until every operation is done (none queued or running). */
static double
wait_queue_empty(unsigned wait_s)
{
    double t0 = tl_now();

    for (;;) {
        if (sql_num("SELECT count(*) FROM operations WHERE state IN ('queued', 'running')") == 0)
            break;
        if (tl_now() - t0 > wait_s) {
            char *ops = sql("SELECT string_agg(kind || ' ' || resource_id || ' ' || state ||"
                            " ' step=' || step || ' attempts=' || attempts || ' by ' ||"
                            " coalesce(locked_by, '-'), E'\\n') FROM operations"
                            " WHERE state IN ('queued', 'running')");
            ck_abort_msg("operations still queued or running after %u s:\n%s", wait_s, ops);
        }
        usleep(200 * 1000);
    }
    return tl_now() - t0;
}

/* Operations of kind in step (LIKE patterns) sovd i holds (running under its worker id). */
static long long
held_by(int i, const char *kind, const char *in_step)
{
    return sql_num("SELECT count(*) FROM operations WHERE state = 'running'"
                   " AND locked_by LIKE 'sovd:%d:%%' AND kind LIKE '%s' AND step LIKE '%s'",
                   (int) sovd[i].pid, kind, in_step);
}

/* ---- the world ---- */

static void
make_world(void)
{
    char body[1024], path[128];
    json_t *j;
    double until;

    for (int i = 0; i < SOVDS; i++)
        start_sovd(i);
    op = tl_operator_token(&sovd[0]);
    tl_tenant_make(&sovd[0], op, "acme", &acme);
    json_decref(tl_call_ok(&sovd[1], "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Multi\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-multi\",\"zones\":[\"a\"]}", 201));
    for (int h = 0; h < HOSTS; h++) {
        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"" REGION "\","
                 "\"zone\":\"a\",\"libvirt_uri\":\"%s\"}", hosts[h].name, hosts[h].uri);
        j = tl_host_add(&sovd[h % SOVDS], op, body);
        ck_assert_str_eq(tl_str(j, "state"), "up");
        snprintf(hosts[h].id, sizeof(hosts[h].id), "%s", tl_str(j, "id"));
        json_decref(j);
    }
    json_decref(tl_call_ok(&sovd[2], "POST", "/v1/flavors", op,
                           "{\"name\":\"tiny\",\"vcpus\":1,\"memory_mib\":64,\"disk_gib\":1}",
                           201));
    snprintf(body, sizeof(body), "{\"name\":\"guest\",\"region\":\"" REGION "\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", image);
    j = tl_call_ok(&sovd[0], "POST", "/v1/images", acme.token[TL_MEMBER], body, 202);
    snprintf(path, sizeof(path), "/v1/images/%s", tl_str(json_object_get(j, "image"), "id"));
    json_decref(j);
    until = tl_now() + 60;
    for (;;) {
        json_t *img = tl_call_ok(&sovd[1], "GET", path, acme.token[TL_READER], NULL, 200);
        bool active = strcmp(tl_str(img, "state"), "active") == 0;

        ck_assert_msg(active || tl_now() < until, "image not active: %s", json_dumps(img, 0));
        json_decref(img);
        if (active)
            break;
        usleep(100 * 1000);
    }
}

/* ---- the truth ---- */

/* Every live instance's domain is on the host its row names and no other; a running one's
 * runs. Every domain sov-<id> on a host is a live instance's of that host. */
static void
check_domains(void)
{
    char *all[HOSTS], *running[HOSTS];
    char *rows;

    for (int h = 0; h < HOSTS; h++) {
        ck_assert_msg(tl_virsh(hosts[h].uri, &all[h], "list --all --name") == 0,
                      "virsh list on %s failed", hosts[h].name);
        ck_assert_msg(tl_virsh(hosts[h].uri, &running[h], "list --state-running --name") == 0,
                      "virsh list on %s failed", hosts[h].name);
        printf("multi-sovd: %s runs: %s\n", hosts[h].name, running[h]);
    }
    /* Each instance row: id, state, host id. */
    rows = sql("SELECT coalesce(string_agg(id || ' ' || state || ' ' ||"
               " coalesce(host_id::text, '-'), ' '), '') FROM instances");
    for (char *save = NULL, *id = strtok_r(rows, " ", &save); id;
         id = strtok_r(NULL, " ", &save)) {
        char *state = strtok_r(NULL, " ", &save), *host = strtok_r(NULL, " ", &save);
        char dom[64];
        bool live;
        int on = 0;

        ck_assert(state && host);
        live = strcmp(state, "running") == 0 || strcmp(state, "stopped") == 0;
        snprintf(dom, sizeof(dom), "sov-%s", id);
        for (int h = 0; h < HOSTS; h++) {
            bool mine = strcmp(host, hosts[h].id) == 0;
            bool here = strstr(all[h], dom) != NULL;

            if (here)
                on++;
            ck_assert_msg(!here || mine, "instance %s (%s) has a domain on %s, its row names"
                          " host %s", id, state, hosts[h].name, host);
            if (live && mine)
                ck_assert_msg(here, "%s instance %s has no domain on its host %s", state, id,
                              hosts[h].name);
            if (strcmp(state, "running") == 0 && mine)
                ck_assert_msg(strstr(running[h], dom), "running instance %s's domain is not"
                              " running on %s", id, hosts[h].name);
        }
        ck_assert_msg(on <= 1, "instance %s has a domain on %d hosts", id, on);
        if (strcmp(state, "deleted") == 0)
            ck_assert_msg(on == 0, "deleted instance %s still has a domain", id);
    }
    free(rows);
    /* And the other way: every sov- domain is an instance's (a live one, by the above). */
    for (int h = 0; h < HOSTS; h++) {
        for (char *save = NULL, *w = strtok_r(all[h], "\n", &save); w;
             w = strtok_r(NULL, "\n", &save)) {
            w += strspn(w, " ");
            if (strncmp(w, "sov-", 4) != 0)
                continue;
            ck_assert_msg(sql_num("SELECT count(*) FROM instances WHERE id::text = '%s'"
                                  " AND state IN ('running', 'stopped', 'error')"
                                  " AND host_id = '%s'", w + 4, hosts[h].id) == 1,
                          "domain %s on %s is no live instance's there", w, hosts[h].name);
        }
        free(all[h]);
        free(running[h]);
    }
}

/* A SQL array literal of ids[0..n) (malloc). */
static char *
id_array(char (*ids)[40], size_t n)
{
    size_t cap = n * 40 + 3, len = 0;
    char *s = malloc(cap);

    ck_assert(s);
    s[len++] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t) snprintf(s + len, cap - len, "%s%s", i ? "," : "", ids[i]);
    snprintf(s + len, cap - len, "}");
    return s;
}

static void
check_truth(void)
{
    char *text, *list;

    /* No operation stuck: each ended, a failure with its reason. */
    text = sql("SELECT coalesce(string_agg(kind || ' ' || id || ' ' || state, ', '), '')"
               " FROM operations WHERE state NOT IN ('succeeded', 'failed')");
    ck_assert_msg(!text[0], "operations not ended: %s", text);
    free(text);
    text = sql("SELECT coalesce(string_agg(kind || ' ' || id, ', '), '') FROM operations"
               " WHERE state = 'failed' AND coalesce(error, '') = ''");
    ck_assert_msg(!text[0], "operations failed without a reason: %s", text);
    free(text);
    text = sql("SELECT coalesce(string_agg(kind || ': ' || error, ' | '), '') FROM operations"
               " WHERE state = 'failed'");
    if (text[0])
        printf("multi-sovd: failed operations: %s\n", text);
    free(text);

    /* Every instance at rest, errors with their reason. */
    text = sql("SELECT coalesce(string_agg(id || ':' || state, ' '), '') FROM instances"
               " WHERE state NOT IN ('running', 'stopped', 'deleted', 'error')");
    ck_assert_msg(!text[0], "instances not at rest: %s", text);
    free(text);
    text = sql("SELECT coalesce(string_agg(id::text, ' '), '') FROM instances"
               " WHERE state = 'error' AND state_reason = ''");
    ck_assert_msg(!text[0], "instances in error without a reason: %s", text);
    free(text);

    /* Nothing lost, nothing twice. */
    list = id_array(created, ncreated);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM instances WHERE id = ANY('%s'::uuid[])",
                             list), (long long) ncreated);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM instances"), (long long) ncreated);
    free(list);
    list = id_array(deleted, ndeleted);
    text = sql("SELECT coalesce(string_agg(id || ':' || state, ' '), '') FROM instances"
               " WHERE id = ANY('%s'::uuid[]) AND state <> 'deleted'", list);
    ck_assert_msg(!text[0], "deletes answered 202 that did not delete: %s", text);
    free(text);
    free(list);

    /* Where each runs. */
    check_domains();

    /* Capacity: every host's usage is the sum of its allocations, and every allocation a
     * live instance's (a reservation that outlived its migration would be none's). */
    text = sql("SELECT coalesce(string_agg(h.name || ' used ' || h.vcpus_used || '/' ||"
               " h.memory_mib_used || '/' || h.disk_gib_used || ' allocated ' || r.v || '/' ||"
               " r.m || '/' || r.d, ', '), '') FROM hosts h JOIN (SELECT h2.id,"
               " coalesce(sum(a.vcpus), 0) AS v, coalesce(sum(a.memory_mib), 0) AS m,"
               " coalesce(sum(a.disk_gib), 0) AS d, coalesce(sum(a.gpus), 0) AS g FROM hosts h2"
               " LEFT JOIN host_allocations a ON a.host_id = h2.id GROUP BY h2.id) r"
               " ON r.id = h.id WHERE (h.vcpus_used, h.memory_mib_used, h.disk_gib_used,"
               " h.gpus_used) IS DISTINCT FROM (r.v, r.m, r.d, r.g)");
    ck_assert_msg(!text[0], "host usage differs from its allocations: %s", text);
    free(text);
    text = sql("SELECT coalesce(string_agg(a.id || ' ' || a.resource_type || ' ' ||"
               " a.resource_id, ', '), '') FROM host_allocations a WHERE NOT EXISTS"
               " (SELECT 1 FROM instances i WHERE i.allocation_id = a.id"
               " AND i.state <> 'deleted' AND i.host_id = a.host_id)");
    ck_assert_msg(!text[0], "allocations no live instance holds on their host: %s", text);
    free(text);
    text = sql("SELECT coalesce(string_agg(m.id::text, ' '), '') FROM instance_migrations m"
               " JOIN host_allocations a ON a.id = m.reservation_id"
               " WHERE m.state IN ('succeeded', 'failed')");
    ck_assert_msg(!text[0], "reservations left by finished migrations: %s", text);
    free(text);
    text = sql("SELECT coalesce(string_agg(id || ':' || state, ' '), '') FROM instance_migrations"
               " WHERE state NOT IN ('succeeded', 'failed')");
    ck_assert_msg(!text[0], "migrations not ended: %s", text);
    free(text);
    /* Each migration accepted has its row; a live instance that last migrated is where its
     * migration says: the target when it succeeded, the source when it failed. */
    list = id_array(migrated, nmigrated);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM instance_migrations"
                             " WHERE instance_id = ANY('%s'::uuid[])", list),
                     (long long) nmigrated);
    free(list);
    text = sql("SELECT coalesce(string_agg(i.id || ' on ' || coalesce(i.host_id::text, '-') ||"
               " ', migration ' || m.state || ' from ' || m.source_host || ' to ' ||"
               " m.target_host, '; '), '') FROM instances i JOIN LATERAL (SELECT * FROM"
               " instance_migrations WHERE instance_id = i.id ORDER BY created_at DESC LIMIT 1)"
               " m ON true WHERE i.state IN ('running', 'stopped') AND i.host_id IS DISTINCT"
               " FROM CASE m.state WHEN 'succeeded' THEN m.target_host_id"
               " ELSE m.source_host_id END");
    ck_assert_msg(!text[0], "instances not where their migration left them: %s", text);
    free(text);

    /* Residency: each live instance's last record names the host it runs on. */
    text = sql("SELECT coalesce(string_agg(i.id || ' on ' || h.name || ', last record ' ||"
               " coalesce(r.event || ' to ' || r.to_host, 'none'), '; '), '') FROM instances i"
               " JOIN hosts h ON h.id = i.host_id LEFT JOIN LATERAL (SELECT event, to_host"
               " FROM residency_records WHERE resource_type = 'instance'"
               " AND resource_id = i.id::text ORDER BY seq DESC LIMIT 1) r ON true"
               " WHERE i.state IN ('running', 'stopped')"
               " AND (r.event IS NULL OR r.event NOT IN ('placed', 'moved')"
               " OR r.to_host <> h.name)");
    ck_assert_msg(!text[0], "residency records that do not name the host: %s", text);
    free(text);
    /* Recorded once: a create's placement, a migration's move, even when a survivor ran the
     * operation again. */
    text = sql("SELECT coalesce(string_agg(i.id || ': ' || p.n || ' placed, ' || mv.n ||"
               " ' moved, ' || ms.n || ' migrations succeeded', '; '), '') FROM instances i,"
               " LATERAL (SELECT count(*) AS n FROM residency_records WHERE resource_type ="
               " 'instance' AND resource_id = i.id::text AND event = 'placed') p,"
               " LATERAL (SELECT count(*) AS n FROM residency_records WHERE resource_type ="
               " 'instance' AND resource_id = i.id::text AND event = 'moved') mv,"
               " LATERAL (SELECT count(*) AS n FROM instance_migrations WHERE instance_id = i.id"
               " AND state = 'succeeded') ms WHERE p.n <> 1 OR mv.n <> ms.n");
    ck_assert_msg(!text[0], "residency records not one per placement and move: %s", text);
    free(text);
}

/* ---- the test ---- */

/* Wait until every instance of ids is running (its create succeeded). */
static void
wait_running(char (*ids)[40], size_t n)
{
    double t0 = tl_now();
    char *list = id_array(ids, n);

    while (sql_num("SELECT count(*) FROM instances WHERE id = ANY('%s'::uuid[])"
                   " AND state = 'running'", list) < (long long) n) {
        char *text = NULL;

        if (tl_now() - t0 > OP_WAIT_S || sql_num("SELECT count(*) FROM instances WHERE"
                                                 " id = ANY('%s'::uuid[]) AND state IN"
                                                 " ('error', 'deleted')", list) > 0) {
            text = sql("SELECT string_agg(id || ':' || state || ' ' || state_reason, ', ')"
                       " FROM instances WHERE id = ANY('%s'::uuid[])", list);
            ck_abort_msg("instances not running after %.0f s: %s", tl_now() - t0, text);
        }
        usleep(200 * 1000);
    }
    free(list);
}

START_TEST(three_sovd_one_killed_lose_nothing_and_tell_the_truth)
{
    double t0 = tl_now(), settle;
    int api = 0, victim = -1;
    unsigned n = 0, takeovers = 0;
    char *text;

    make_world();
    printf("multi-sovd: fleet, 3 sovd and the world in %.1f s\n", tl_now() - t0);

    /* Instances to migrate and delete during the run, made through every API. */
    for (int k = 0; k < FIRST; k++, api = next_api(api))
        ck_assert_msg(create_on(api, n++), "a create before the run was refused");
    wait_running(created, ncreated);
    printf("multi-sovd: %d instances running at %.1f s\n", FIRST, tl_now() - t0);

    /* The run: creates, live migrations and deletes over the three APIs. The victim is
     * the first of sovd 1 and 2 seen holding a migration while libvirt copies (the guest's
     * move goes on in the hosts' libvirtd without it); when neither is seen so within 3 s
     * of the run's last request, the first seen holding any operation. */
    {
        static const char plan[] = "cdmmdccc";     /* create, delete, migrate */
        size_t first = ncreated, ndel = 0, nmig = 0;
        unsigned more = 0;
        double t_run = tl_now(), t_any = 0;

        for (size_t step = 0; victim < 0 || step < sizeof(plan) - 1; step++) {
            char what = step < sizeof(plan) - 1 ? plan[step] : 'c';

            if (step >= sizeof(plan) - 1 && victim < 0 && more++ >= 10)
                ck_abort_msg("neither sovd 1 nor 2 held an operation during the run");
            if (what == 'd')
                delete_on(api, created[ndel++]);
            else if (what == 'm')
                migrate_on(api, created[2 + nmig++]);
            else
                create_on(api, n++);
            api = next_api(api);
            if (step + 1 == sizeof(plan) - 1)
                t_any = tl_now() + 3;
            for (int w = 0; w < 10 && victim < 0; w++) {
                for (int i = 1; i < SOVDS && victim < 0; i++)
                    if (held_by(i, "instance.migrate", "copying%") > 0 ||
                        (t_any > 0 && tl_now() > t_any && held_by(i, "%", "%") > 0))
                        victim = i;
                if (victim < 0)
                    usleep(50 * 1000);
            }
            if (victim >= 0 && !dead[victim]) {
                text = sql("SELECT string_agg(kind || ' (' || step || ')', ', ') FROM"
                           " operations WHERE state = 'running' AND locked_by LIKE"
                           " 'sovd:%d:%%'", (int) sovd[victim].pid);
                ck_assert_msg(text[0], "sovd %d holds nothing any more", victim);
                ck_assert_msg(tl_sovd_stop(&sovd[victim], SIGKILL, 10) == 128 + SIGKILL,
                              "sovd %d did not die of SIGKILL", victim);
                dead[victim] = true;
                printf("multi-sovd: killed sovd %d %.1f s into the run, holding: %s\n",
                       victim, tl_now() - t_run, text);
                free(text);
                if (api == victim)
                    api = next_api(api);
            }
        }
        /* After the kill, through the survivors: deletes of an instance made during the run
         * and of one that migrated. */
        settle = wait_queue_empty(SETTLE_S);
        delete_on(api, created[first]);
        api = next_api(api);
        delete_on(api, created[2]);
        settle += wait_queue_empty(SETTLE_S);
    }
    sleep(3);   /* a reconciler pass or two (host_check_interval=2) */

    for (int i = 0; i < SOVDS; i++) {
        char *l = tl_sovd_log(&sovd[i]);

        for (const char *p = l; p && (p = strstr(p, "taken over after its lease ran out")); p++)
            takeovers++;
        free(l);
    }
    text = sql("SELECT coalesce(string_agg(state || ' ' || n, ', '), '') FROM (SELECT state,"
               " count(*) AS n FROM instances GROUP BY state ORDER BY state) s");
    {
        char *m = sql("SELECT coalesce(string_agg(state || ' in ' || round(extract(epoch FROM"
                      " finished_at - created_at)::numeric, 1) || ' s, downtime ' ||"
                      " coalesce(downtime_ms::text, '?') || ' ms', ', '), '')"
                      " FROM instance_migrations");
        printf("multi-sovd: migrations: %s\n", m);
        free(m);
    }
    printf("multi-sovd: creates 202 %zu, deletes 202 %zu, migrations 202 %zu, refused %u;"
           " instances: %s; operations taken over %u; queue empty %.1f s after the kill;"
           " %.1f s in all\n", ncreated, ndeleted, nmigrated, refused, text, takeovers, settle,
           tl_now() - t0);
    free(text);
    fflush(stdout);
    ck_assert_msg(takeovers > 0, "no survivor took over an operation of the killed sovd");
    ck_assert_msg(nmigrated == 2, "%zu of 2 migrations accepted", nmigrated);
    /* The one its worker was not killed under moves (the killed one may, or may fail). */
    ck_assert_msg(sql_num("SELECT count(*) FROM instance_migrations WHERE state = 'succeeded'")
                  >= 1, "no migration succeeded");
    check_truth();
    printf("multi-sovd: the truth holds (%.1f s in all)\n", tl_now() - t0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("reliability/multi-sovd");
    TCase *tc = tcase_create("multi-sovd");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 420);
    tcase_add_test(tc, three_sovd_one_killed_lose_nothing_and_tell_the_truth);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
