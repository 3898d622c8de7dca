/* Load: 64 client threads against one sovd (every role) for a bounded time (20 s; 5 minutes
 * with SOV_TEST_LONG=1): lists and reads, creates with unique names, actions, deletes and
 * tenant-level reads, on a host served by libvirt's test driver inside a private libvirtd
 * (domains are instant: the control plane is what is loaded). Then, once every operation has
 * finished: no 5xx; every create answered 202 is an instance row (none lost), and no name has
 * two rows (none duplicated); the tenant's quota usage is the sum over its live instances;
 * the host's usage is the sum of its allocations, and each live instance holds one; no
 * operation is left running; the host runs a domain for each live instance and no other
 * (orphans). The figures (requests, rates, latency by class, errors, lost, orphans) go to the
 * test log. The machine is shared: figures are noisy, and only correctness is asserted. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "rel.h"
#include "sov/cleanup.h"

#define CLIENTS 64
#define MAX_INSTANCES 200000

static rel_world w;
static char *db;

/* Every instance a create was answered 202 for. */
typedef struct known {
    char id[40];
    char name[64];
    atomic_bool delete_accepted;
} known;
static known *instances;
static atomic_size_t ninstances;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

enum { C_LIST, C_GET, C_CREATE, C_ACTION, C_DELETE, C_TENANT, C_OPERATION, C_CLASSES };
static const char *const class_names[C_CLASSES] = { "list", "get", "create", "action",
                                                     "delete", "tenant-read", "operation" };
/* How often each class is picked, in percent. */
static const unsigned weights[C_CLASSES] = { 25, 15, 17, 10, 15, 12, 6 };

#define MAX_TYPES 8

typedef struct figures {
    unsigned long n, s2xx, s4xx, s5xx, transport;
    unsigned long status[600];
    rel_lat lat;
    struct {
        char type[48];          /* a 4xx's problem type */
        unsigned long n;
    } types[MAX_TYPES];
} figures;

static void
count_type(figures *f, const char *type, unsigned long n)
{
    for (size_t i = 0; i < MAX_TYPES; i++) {
        if (!f->types[i].type[0])
            snprintf(f->types[i].type, sizeof(f->types[i].type), "%s", type);
        if (strcmp(f->types[i].type, type) == 0) {
            f->types[i].n += n;
            return;
        }
    }
}

typedef struct client {
    pthread_t thread;
    unsigned index;
    unsigned seed;
    double until;
    CURL *curl;
    figures fig[C_CLASSES];
    char first_5xx[512];
} client;

static client clients[CLIENTS];

static unsigned
pick(client *c)
{
    unsigned r = (unsigned) rand_r(&c->seed) % 100, acc = 0;

    for (unsigned i = 0; i < C_CLASSES; i++) {
        acc += weights[i];
        if (r < acc)
            return i;
    }
    return C_LIST;
}

/* A known instance at random, or NULL when there is none yet; one whose delete was not
 * accepted yet when a few tries find one (deletes and actions on those do work). */
static known *
any_instance(client *c)
{
    size_t n = atomic_load(&ninstances);
    known *k = NULL;

    for (int tries = 0; n > 0 && tries < 8; tries++) {
        k = &instances[(size_t) rand_r(&c->seed) % n];
        if (!atomic_load(&k->delete_accepted))
            break;
    }
    return k;
}

static long
exchange(client *c, unsigned cls, const char *method, const char *path, const char *token,
         const char *body, tl_resp *resp)
{
    char url[512], auth[128];
    const char *headers[] = { auth, body ? "Content-Type: application/json" : NULL, NULL };
    tl_req q = { .method = method, .url = url, .headers = headers, .body = body,
                 .body_len = body ? strlen(body) : 0, .curl = c->curl };
    figures *f = &c->fig[cls];
    double t0 = rel_now();
    int rc;

    snprintf(url, sizeof(url), "%s%s", w.sovd.base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    rc = tl_http_try(&q, resp);
    rel_lat_add(&f->lat, rel_now() - t0);
    f->n++;
    if (rc < 0) {
        f->transport++;
        return 0;
    }
    if (resp->status >= 0 && resp->status < 600)
        f->status[resp->status]++;
    if (resp->status >= 500) {
        f->s5xx++;
        if (!c->first_5xx[0])
            snprintf(c->first_5xx, sizeof(c->first_5xx), "%s %s: %ld %.300s", method, path,
                     resp->status, resp->body);
    } else if (resp->status >= 400) {
        const char *type = json_string_value(json_object_get(resp->json, "type"));
        f->s4xx++;
        count_type(f, type ? type : "(no problem type)", 1);
    } else {
        f->s2xx++;
    }
    return resp->status;
}

static void
one(client *c)
{
    const tl_tenant *t = &w.ten;
    unsigned cls = pick(c);
    char path[256], body[512];
    known *k;
    tl_resp r;

    memset(&r, 0, sizeof(r));
    switch (cls) {
    case C_LIST:
        snprintf(path, sizeof(path), "/v1/instances?limit=%d", 1 + rand_r(&c->seed) % 50);
        exchange(c, cls, "GET", path, t->token[TL_READER], NULL, &r);
        break;
    case C_GET:
        if (!(k = any_instance(c)))
            return;
        snprintf(path, sizeof(path), "/v1/instances/%s", k->id);
        exchange(c, cls, "GET", path, t->token[TL_READER], NULL, &r);
        break;
    case C_CREATE: {
        static atomic_uint serial;
        char name[64];
        snprintf(name, sizeof(name), "ld-%u-%u", c->index, atomic_fetch_add(&serial, 1));
        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"flavor\":\"tiny\",\"image\":\"base\"}",
                 name);
        if (exchange(c, cls, "POST", "/v1/instances", t->token[TL_MEMBER], body, &r) == 202) {
            const char *id = json_string_value(json_object_get(
                json_object_get(r.json, "instance"), "id"));
            pthread_mutex_lock(&lock);
            size_t n = atomic_load(&ninstances);
            if (id && n < MAX_INSTANCES) {
                snprintf(instances[n].id, sizeof(instances[n].id), "%s", id);
                snprintf(instances[n].name, sizeof(instances[n].name), "%s", name);
                atomic_store(&ninstances, n + 1);
            }
            pthread_mutex_unlock(&lock);
        }
        break;
    }
    case C_ACTION: {
        static const char *const actions[] = { "stop", "start", "reboot", "hard_stop" };
        if (!(k = any_instance(c)))
            return;
        snprintf(path, sizeof(path), "/v1/instances/%s/actions", k->id);
        snprintf(body, sizeof(body), "{\"action\":\"%s\"}", actions[rand_r(&c->seed) % 4]);
        exchange(c, cls, "POST", path, t->token[TL_MEMBER], body, &r);
        break;
    }
    case C_DELETE:
        if (!(k = any_instance(c)))
            return;
        snprintf(path, sizeof(path), "/v1/instances/%s", k->id);
        if (exchange(c, cls, "DELETE", path, t->token[TL_MEMBER], NULL, &r) == 202)
            atomic_store(&k->delete_accepted, true);
        break;
    case C_TENANT: {
        static const char *const reads[] = { "/quotas", "", "/v1/me", "/v1/images",
                                             "/v1/operations?limit=20", "/residency-policy",
                                             "/v1/flavors" };
        const char *read = reads[rand_r(&c->seed) % 7];
        if (read[0] == '/' && read[1] == 'v')
            snprintf(path, sizeof(path), "%s", read);
        else
            snprintf(path, sizeof(path), "/v1/tenants/%s%s", t->id, read);
        exchange(c, cls, "GET", path, t->token[TL_ADMIN], NULL, &r);
        break;
    }
    default:
        if (!(k = any_instance(c)))
            return;
        snprintf(path, sizeof(path), "/v1/operations?resource_id=%s&limit=5", k->id);
        exchange(c, cls, "GET", path, t->token[TL_READER], NULL, &r);
        break;
    }
    tl_resp_free(&r);
}

static void *
client_main(void *arg)
{
    client *c = arg;

    c->curl = curl_easy_init();
    while (rel_now() < c->until)
        one(c);
    curl_easy_cleanup(c->curl);
    return NULL;
}

static void
setup(void)
{
    db = tl_db_create();
    instances = calloc(MAX_INSTANCES, sizeof(*instances));
    ck_assert(instances);
    atomic_store(&ninstances, 0);
    rel_world_start(&w, db, NULL);
}

static void
teardown(void)
{
    rel_world_discard(&w);
    tl_db_drop(db);
    free(db);
    free(instances);
    for (size_t i = 0; i < CLIENTS; i++)
        for (size_t k = 0; k < C_CLASSES; k++)
            rel_lat_free(&clients[i].fig[k].lat);
}

/* The first value of a query on sovd's database, as a number. */
#define SQL(...) rel_sql_num(db, __VA_ARGS__)

START_TEST(load_keeps_every_resource_and_every_count)
{
    double secs = rel_long() ? 300 : 20, t0, elapsed;
    figures total[C_CLASSES];
    rel_lat reads = { 0 }, writes = { 0 };
    unsigned long requests = 0, s5xx = 0, s4xx = 0, transport = 0;
    char *domains, *p;
    long long left;

    memset(total, 0, sizeof(total));
    t0 = rel_now();
    for (unsigned i = 0; i < CLIENTS; i++) {
        clients[i].index = i;
        clients[i].seed = (unsigned) getpid() * 131u + i;
        clients[i].until = t0 + secs;
        ck_assert(pthread_create(&clients[i].thread, NULL, client_main, &clients[i]) == 0);
    }
    for (unsigned i = 0; i < CLIENTS; i++)
        pthread_join(clients[i].thread, NULL);
    elapsed = rel_now() - t0;
    left = rel_world_settle(&w, 180);

    /* ---- figures ---- */
    for (unsigned i = 0; i < CLIENTS; i++) {
        if (clients[i].first_5xx[0])
            printf("5xx: %s\n", clients[i].first_5xx);
        for (unsigned k = 0; k < C_CLASSES; k++) {
            figures *f = &clients[i].fig[k];
            total[k].n += f->n;
            total[k].s2xx += f->s2xx;
            total[k].s4xx += f->s4xx;
            total[k].s5xx += f->s5xx;
            total[k].transport += f->transport;
            for (size_t s = 0; s < 600; s++)
                total[k].status[s] += f->status[s];
            for (size_t t = 0; t < MAX_TYPES && f->types[t].type[0]; t++)
                count_type(&total[k], f->types[t].type, f->types[t].n);
            for (size_t s = 0; s < f->lat.n; s++) {
                rel_lat_add(&total[k].lat, f->lat.v[s]);
                rel_lat_add(k == C_LIST || k == C_GET || k == C_TENANT || k == C_OPERATION
                                ? &reads : &writes, f->lat.v[s]);
            }
        }
    }
    printf("load figures: %d clients for %.1f s\n", CLIENTS, elapsed);
    for (unsigned k = 0; k < C_CLASSES; k++) {
        char statuses[512] = "";
        size_t n = 0;
        for (size_t s = 0; s < 600; s++)
            if (total[k].status[s])
                n += (size_t) snprintf(statuses + n, sizeof(statuses) - n, " %zu:%lu", s,
                                       total[k].status[s]);
        printf("  %-11s %7lu requests %7.1f/s  p50 %6.1f ms  p99 %7.1f ms  statuses%s%s\n",
               class_names[k], total[k].n, (double) total[k].n / elapsed,
               rel_lat_pct(&total[k].lat, 50) * 1000, rel_lat_pct(&total[k].lat, 99) * 1000,
               statuses, total[k].transport ? " TRANSPORT FAILURES" : "");
        for (size_t t = 0; t < MAX_TYPES && total[k].types[t].type[0]; t++)
            printf("              %lu %s\n", total[k].types[t].n, total[k].types[t].type);
        requests += total[k].n;
        s5xx += total[k].s5xx;
        s4xx += total[k].s4xx;
        transport += total[k].transport;
    }
    printf("  all         %7lu requests %7.1f/s  reads p50 %.1f ms p99 %.1f ms, writes p50 "
           "%.1f ms p99 %.1f ms; 4xx %lu, 5xx %lu, no answer %lu\n",
           requests, (double) requests / elapsed, rel_lat_pct(&reads, 50) * 1000,
           rel_lat_pct(&reads, 99) * 1000, rel_lat_pct(&writes, 50) * 1000,
           rel_lat_pct(&writes, 99) * 1000, s4xx, s5xx, transport);

    /* ---- what the database holds ---- */
    size_t accepted = atomic_load(&ninstances);
    long long lost = 0, duplicated, rows, live, stuck, deleted_ok = 0;
    for (size_t i = 0; i < accepted; i++) {
        long long n = SQL("SELECT count(*) FROM instances WHERE id = '%s' AND name = '%s'",
                          instances[i].id, instances[i].name);
        if (n != 1) {
            lost++;
            if (lost <= 5)
                printf("LOST: %s (%s)\n", instances[i].id, instances[i].name);
        }
        if (atomic_load(&instances[i].delete_accepted))
            deleted_ok++;
    }
    rows = SQL("SELECT count(*) FROM instances WHERE tenant_id = '%s'", w.ten.id);
    duplicated = SQL("SELECT count(*) FROM (SELECT name FROM instances WHERE tenant_id = '%s' "
                     "GROUP BY workspace, name HAVING count(*) > 1) d", w.ten.id);
    live = SQL("SELECT count(*) FROM instances WHERE tenant_id = '%s' AND state <> 'deleted'",
               w.ten.id);
    stuck = SQL("SELECT count(*) FROM operations WHERE state IN ('queued', 'running')");
    long long errored = SQL("SELECT count(*) FROM instances WHERE tenant_id = '%s' AND state "
                            "= 'error'", w.ten.id);
    long long failed_ops = SQL("SELECT count(*) FROM operations WHERE state = 'failed'");
    if (failed_ops) {
        char *why = tl_db_exec(db, "SELECT string_agg(DISTINCT kind || ': ' || error, '; ') "
                                   "FROM operations WHERE state = 'failed'");
        printf("  operations failed: %s\n", why ? why : "");
        free(why);
    }
    /* Quotas: usage is what the live instances hold. */
    static const struct {
        const char *resource, *sum;
    } quotas[] = { { "instances", "count(*)" }, { "vcpus", "coalesce(sum(vcpus), 0)" },
                   { "memory_mib", "coalesce(sum(memory_mib), 0)" },
                   { "storage_gib", "coalesce(sum(disk_gib), 0)" },
                   { "gpus", "coalesce(sum(gpus), 0)" } };
    bool quotas_ok = true;
    for (size_t i = 0; i < SOV_N_ELEMENTS(quotas); i++) {
        long long used = SQL("SELECT used FROM quotas WHERE tenant_id = '%s' AND resource = "
                             "'%s'", w.ten.id, quotas[i].resource);
        long long sum = SQL("SELECT %s FROM instances WHERE tenant_id = '%s' AND state <> "
                            "'deleted'", quotas[i].sum, w.ten.id);
        if (used != sum) {
            quotas_ok = false;
            printf("QUOTA: %s used %lld, live instances hold %lld\n", quotas[i].resource, used,
                   sum);
        }
    }
    /* Capacity: the host's usage is the sum of its allocations, one per live instance. */
    static const char *const capacity[] = { "vcpus", "memory_mib", "disk_gib", "gpus" };
    bool capacity_ok = true;
    for (size_t i = 0; i < SOV_N_ELEMENTS(capacity); i++) {
        long long used = SQL("SELECT %s_used FROM hosts WHERE id = '%s'", capacity[i],
                             w.host_id);
        long long sum = SQL("SELECT coalesce(sum(%s), 0) FROM host_allocations WHERE host_id "
                            "= '%s'", capacity[i], w.host_id);
        if (used != sum) {
            capacity_ok = false;
            printf("CAPACITY: host %s_used %lld, allocations hold %lld\n", capacity[i], used,
                   sum);
        }
    }
    long long allocations = SQL("SELECT count(*) FROM host_allocations WHERE resource_type = "
                                "'instance'");
    long long allocated = SQL("SELECT count(*) FROM instances i JOIN host_allocations a ON "
                              "a.id = i.allocation_id WHERE i.state <> 'deleted'");
    /* Orphans: a domain for every live instance with a host, and for nothing else. */
    domains = rel_world_domains(&w);
    long long orphans = 0, missing = 0, ndomains = 0;
    for (p = domains; *p;) {
        size_t len = strcspn(p, "\n");
        char uuid[64];
        /* sovd's domains only: the test driver starts with one of its own ("test"). */
        if (len == 40 && strncmp(p, "sov-", 4) == 0) {
            snprintf(uuid, sizeof(uuid), "%.36s", p + 4);
            ndomains++;
            if (SQL("SELECT count(*) FROM instances WHERE id = '%s' AND state <> 'deleted'",
                    uuid) != 1) {
                orphans++;
                if (orphans <= 5)
                    printf("ORPHAN domain: %s\n", uuid);
            }
        }
        p += len + (p[len] ? 1 : 0);
    }
    long long want_domains = SQL("SELECT count(*) FROM instances WHERE tenant_id = '%s' AND "
                                 "state IN ('running', 'stopped')", w.ten.id);
    for (size_t i = 0; i < accepted; i++)
        if (SQL("SELECT count(*) FROM instances WHERE id = '%s' AND state IN ('running', "
                "'stopped')", instances[i].id) == 1 &&
            !strstr(domains, instances[i].id)) {
            missing++;
            if (missing <= 5)
                printf("MISSING domain of instance %s\n", instances[i].id);
        }
    free(domains);
    printf("  creates accepted %zu, deletes accepted %lld; rows %lld, live %lld (in error "
           "%lld), operations failed %lld, left running %lld; lost %lld, duplicated %lld; "
           "allocations %lld for %lld allocated live instances; domains %lld (want %lld): "
           "orphans %lld, missing %lld; quotas %s, capacity %s\n",
           accepted, deleted_ok, rows, live, errored, failed_ops, left, lost, duplicated,
           allocations, allocated, ndomains, want_domains, orphans, missing,
           quotas_ok ? "consistent" : "INCONSISTENT", capacity_ok ? "consistent"
                                                                  : "INCONSISTENT");
    fflush(stdout);

    ck_assert_msg(s5xx == 0, "%lu answers were 5xx (first ones above)", s5xx);
    ck_assert_msg(transport == 0, "%lu requests got no answer", transport);
    ck_assert_msg(accepted > 0, "no create was accepted");
    ck_assert_msg(left == 0 && stuck == 0, "%lld operations still queued or running", stuck);
    ck_assert_msg(lost == 0, "%lld accepted creates have no row", lost);
    ck_assert_msg((size_t) rows == accepted, "%lld rows for %zu accepted creates", rows,
                  accepted);
    ck_assert_msg(duplicated == 0, "%lld names have two rows", duplicated);
    ck_assert_msg(quotas_ok, "quota usage differs from the live instances (above)");
    ck_assert_msg(capacity_ok, "host usage differs from its allocations (above)");
    ck_assert_msg(allocations == allocated, "%lld allocations for %lld allocated instances",
                  allocations, allocated);
    ck_assert_msg(orphans == 0 && missing == 0, "%lld orphan domains, %lld missing", orphans,
                  missing);
    ck_assert_msg(rel_world_stop_sovd(&w) == 0, "sovd did not stop cleanly (its log is above)");
    rel_lat_free(&reads);
    rel_lat_free(&writes);
    for (unsigned k = 0; k < C_CLASSES; k++)
        rel_lat_free(&total[k].lat);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("reliability/load");
    TCase *tc = tcase_create("load");

    curl_global_init(CURL_GLOBAL_ALL);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, rel_long() ? 900 : 280);
    tcase_add_test(tc, load_keeps_every_resource_and_every_count);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
