/* PostgreSQL restarted under load: sovd (every role) on a cluster of the test's own
 * (scripts/pg, so no other suite notices), 16 client threads creating instances (with
 * Idempotency-Key) and workspaces, listing, deleting and asking /healthz and /v1/me; after
 * 5 s the cluster is stopped (fast shutdown: sessions are cut) for about 3 s, then started
 * again, and the load goes on (10 s; 60 s with SOV_TEST_LONG=1).
 *
 * While it is down every answer needing the database is 503 problem+json with Retry-After
 * (never a 401 for a token that could not be checked, never a 500), and /healthz still 200;
 * once it is back, requests succeed again within seconds, with the same sovd process; no 5xx
 * after that; every 201 and 202 (before, during or after) is a row, and no name has two; the
 * creates answered 503 are retried with their Idempotency-Key once it is back, and each ends
 * with one row at most; every operation finishes. Prints its figures. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "rel.h"

#define CLIENTS 16
#define MAX_CREATED 100000

static char *dir;
static char pg[600];
static char url[800];
static rel_world w;

/* When the cluster went and came back (rel_now()); 0 while not yet. */
static double t_stop_begin, t_stop_end, t_start_begin, t_start_end;
static atomic_bool stop_clients;

typedef enum phase { P_BEFORE, P_EDGE, P_DOWN, P_AFTER, P_PHASES } phase;
static const char *const phase_names[P_PHASES] = { "before", "edge", "down", "after" };

/* A create answered 201/202 (to find as a row), or 503 (to retry once the cluster is back). */
typedef struct created {
    char kind;              /* 'i' instance, 'w' workspace */
    char name[64];
    char key[64];           /* Idempotency-Key */
    char id[40];            /* the instance's, once answered 202 */
    long status;
    bool deleted;           /* a delete was accepted (or found it gone) */
} created;

typedef struct client {
    pthread_t thread;
    unsigned index, seed;
    CURL *curl;
    unsigned long n[P_PHASES], ok[P_PHASES], s4xx[P_PHASES], s503[P_PHASES],
        s5xx_other[P_PHASES];
    unsigned long down_wrong;       /* down: a DB route not 503 problem+json + Retry-After */
    unsigned long unauthenticated;  /* 401s, for a token that stays valid */
    char down_first_wrong[512];
    char first_5xx[512];
    double first_ok_after;          /* first 2xx of a DB route once the cluster is back */
    double last_5xx;                /* the last 5xx it saw */
    int live;                       /* instances it made and has not deleted (or lost to a
                                     * 503: those count, to stay clear of the host's size) */
    created *made;
    size_t nmade;
} client;

static client clients[CLIENTS];

static phase
phase_of(double start, double end)
{
    if (t_stop_begin == 0 || end < t_stop_begin)
        return P_BEFORE;
    if (t_stop_end > 0 && start >= t_stop_end && (t_start_begin == 0 || end < t_start_begin))
        return P_DOWN;
    if (t_start_end > 0 && start >= t_start_end)
        return P_AFTER;
    return P_EDGE;
}

static void
remember(client *c, char kind, const char *name, const char *key, long status, const char *id)
{
    if (c->nmade == MAX_CREATED / CLIENTS)
        return;
    created *m = &c->made[c->nmade++];
    snprintf(m->id, sizeof(m->id), "%s", id ? id : "");
    m->kind = kind;
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->key, sizeof(m->key), "%s", key ? key : "");
    m->status = status;
}

/* One exchange, classified. db: the route needs the database (all but /healthz). */
static long
exchange(client *c, const char *method, const char *path, const char *body, const char *key,
         bool db, tl_resp *r)
{
    char u[512], auth[128], idem[128];
    const char *headers[4] = { auth, NULL, NULL, NULL };
    size_t nh = 1;
    double t0, t1;
    phase p;
    int rc;

    snprintf(u, sizeof(u), "%s%s", w.sovd.base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", w.ten.token[TL_ADMIN]);
    if (body)
        headers[nh++] = "Content-Type: application/json";
    if (key) {
        snprintf(idem, sizeof(idem), "Idempotency-Key: %s", key);
        headers[nh++] = idem;
    }
    tl_req q = { .method = method, .url = u, .headers = headers, .body = body,
                 .body_len = body ? strlen(body) : 0, .curl = c->curl };
    t0 = rel_now();
    rc = tl_http_try(&q, r);
    t1 = rel_now();
    p = phase_of(t0, t1);
    c->n[p]++;
    if (rc < 0) {
        c->s5xx_other[p]++;
        snprintf(c->first_5xx, sizeof(c->first_5xx), "%s %s: no answer", method, path);
        c->last_5xx = t1;
        return 0;
    }
    if (r->status >= 200 && r->status < 300) {
        c->ok[p]++;
        if (p == P_AFTER && db && c->first_ok_after == 0)
            c->first_ok_after = t1;
    } else if (r->status == 503) {
        c->s503[p]++;
        c->last_5xx = t1;
    } else if (r->status >= 500) {
        c->s5xx_other[p]++;
        c->last_5xx = t1;
        if (!c->first_5xx[0])
            snprintf(c->first_5xx, sizeof(c->first_5xx), "%s %s (%s): %ld %.300s", method,
                     path, phase_names[p], r->status, r->body);
    } else {
        c->s4xx[p]++;
        /* The token is valid throughout: an outage must never read as "who are you?". */
        if (r->status == 401) {
            c->unauthenticated++;
            if (!c->first_5xx[0])
                snprintf(c->first_5xx, sizeof(c->first_5xx), "%s %s (%s): 401 %.300s",
                         method, path, phase_names[p], r->body);
        }
    }
    if (p == P_DOWN) {
        char why[256] = "", *ra = tl_resp_header(r, "Retry-After");
        bool right = db ? r->status == 503 && rel_is_problem(r, why, sizeof(why)) && ra
                        : r->status == 200;
        if (!right) {
            c->down_wrong++;
            if (!c->down_first_wrong[0])
                snprintf(c->down_first_wrong, sizeof(c->down_first_wrong),
                         "%s %s while the database was down: %ld%s %s %.200s", method, path,
                         r->status, ra ? "" : " (no Retry-After)", why, r->body);
        }
        free(ra);
    }
    return r->status;
}

static void
one(client *c)
{
    static atomic_uint serial;
    unsigned pick = (unsigned) rand_r(&c->seed) % 100, n;
    char path[256], body[512], name[48], key[64];
    tl_resp r;
    long st;

    memset(&r, 0, sizeof(r));
    if (pick < 30) {
        exchange(c, "GET", "/v1/instances?limit=10", NULL, NULL, true, &r);
    } else if (pick < 50 && c->live < 4) {
        n = atomic_fetch_add(&serial, 1);
        snprintf(name, sizeof(name), "pg-%u-%u", c->index, n);
        snprintf(key, sizeof(key), "key-%s", name);
        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"flavor\":\"tiny\",\"image\":\"base\"}",
                 name);
        st = exchange(c, "POST", "/v1/instances", body, key, true, &r);
        if (st == 202 || st == 503)
            c->live++;
        if (st == 202 || st == 503)
            remember(c, 'i', name, key, st,
                     json_string_value(json_object_get(json_object_get(r.json, "instance"),
                                                       "id")));
    } else if (pick < 60) {
        n = atomic_fetch_add(&serial, 1);
        snprintf(name, sizeof(name), "ws-%u-%u", c->index, n);
        snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces", w.ten.id);
        snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
        st = exchange(c, "POST", path, body, NULL, true, &r);
        if (st == 201)
            remember(c, 'w', name, NULL, st, NULL);
    } else if (pick < 70) {
        /* Deletes keep room on the host for the creates. */
        created *m = NULL;
        for (int tries = 0; tries < 4 && c->nmade > 0 && !m; tries++) {
            created *x = &c->made[(size_t) rand_r(&c->seed) % c->nmade];
            if (x->kind == 'i' && x->status == 202 && x->id[0] && !x->deleted)
                m = x;
        }
        if (m) {
            snprintf(path, sizeof(path), "/v1/instances/%s", m->id);
            st = exchange(c, "DELETE", path, NULL, NULL, true, &r);
            if (st == 202 || st == 404 || st == 409) {
                m->deleted = true;
                c->live--;
            }
        }
    } else if (pick < 80) {
        exchange(c, "GET", "/healthz", NULL, NULL, false, &r);
    } else if (pick < 90) {
        exchange(c, "GET", "/v1/me", NULL, NULL, true, &r);
    } else {
        snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", w.ten.id);
        exchange(c, "GET", path, NULL, NULL, true, &r);
    }
    tl_resp_free(&r);
}

static void *
client_main(void *arg)
{
    client *c = arg;

    c->curl = curl_easy_init();
    while (!atomic_load(&stop_clients))
        one(c);
    curl_easy_cleanup(c->curl);
    return NULL;
}

static void
setup(void)
{
    char *admin = NULL;

    dir = tl_tmpdir();
    snprintf(pg, sizeof(pg), "%s/pg", dir);
    ck_assert_int_eq(tl_sh("'%s/scripts/pg' start '%s' --fast", tl_env("SOV_SOURCE_ROOT"), pg),
                     0);
    /* pg_ctl's server outlives a test that fails before its teardown: stop it anyway. */
    tl_sh_at_exit("'%s/scripts/pg' stop '%s'", tl_env("SOV_SOURCE_ROOT"), pg);
    ck_assert(asprintf(&admin, "host=%s/sock port=5432 user=postgres dbname=postgres", pg) > 0);
    free(tl_db_exec(admin, "CREATE DATABASE sovrel"));
    free(admin);
    snprintf(url, sizeof(url), "host=%s/sock port=5432 user=postgres dbname=sovrel", pg);
    rel_world_start(&w, url, NULL);
    for (size_t i = 0; i < CLIENTS; i++) {
        memset(&clients[i], 0, sizeof(clients[i]));
        clients[i].made = calloc(MAX_CREATED / CLIENTS, sizeof(created));
        ck_assert(clients[i].made);
    }
}

static void
teardown(void)
{
    rel_world_discard(&w);
    tl_sh("'%s/scripts/pg' stop '%s'", tl_env("SOV_SOURCE_ROOT"), pg);
    tl_tmpdir_remove(dir);
    free(dir);
    for (size_t i = 0; i < CLIENTS; i++)
        free(clients[i].made);
}

START_TEST(database_restart_under_load_loses_nothing)
{
    double after_s = rel_long() ? 60 : 10, t0 = rel_now(), recovered = 0, last_5xx = 0;
    unsigned long n[P_PHASES] = { 0 }, ok[P_PHASES] = { 0 }, s4xx[P_PHASES] = { 0 },
                  s503[P_PHASES] = { 0 }, s5xx[P_PHASES] = { 0 }, down_wrong = 0,
                  unauthenticated = 0;
    long long lost = 0, found_503 = 0, retried = 0, replayed = 0, still_running = 0,
              created_on_retry = 0, conflicts = 0, dup, stuck;
    pid_t pid = w.sovd.pid;

    for (unsigned i = 0; i < CLIENTS; i++) {
        clients[i].index = i;
        clients[i].seed = (unsigned) getpid() * 7919u + i;
        ck_assert(pthread_create(&clients[i].thread, NULL, client_main, &clients[i]) == 0);
    }
    sleep(5);
    t_stop_begin = rel_now();
    ck_assert_int_eq(tl_sh("'%s/scripts/pg' stop '%s'", tl_env("SOV_SOURCE_ROOT"), pg), 0);
    t_stop_end = rel_now();
    sleep(3);
    t_start_begin = rel_now();
    ck_assert_int_eq(tl_sh("'%s/scripts/pg' start '%s' --fast", tl_env("SOV_SOURCE_ROOT"), pg),
                     0);
    t_start_end = rel_now();
    usleep((useconds_t) (after_s * 1e6));
    atomic_store(&stop_clients, true);
    for (unsigned i = 0; i < CLIENTS; i++)
        pthread_join(clients[i].thread, NULL);

    /* Creates answered 503, retried with their key: a replay, a create, or a claim still
     * held by the request the outage cut (Idempotency-Key: see the report). */
    CURL *curl = curl_easy_init();
    for (unsigned i = 0; i < CLIENTS; i++)
        for (size_t k = 0; k < clients[i].nmade; k++) {
            created *m = &clients[i].made[k];
            char body[256], idem[128], auth[128], u[256];
            const char *headers[] = { auth, "Content-Type: application/json", idem, NULL };
            tl_resp r;
            /* The first 100: each is a sample of the same story. */
            if (m->status != 503 || retried == 100)
                continue;
            if (rel_sql_num(url, "SELECT count(*) FROM instances WHERE name = '%s'", m->name))
                found_503++;
            snprintf(body, sizeof(body), "{\"name\":\"%s\",\"flavor\":\"tiny\",\"image\":"
                     "\"base\"}", m->name);
            snprintf(idem, sizeof(idem), "Idempotency-Key: %s", m->key);
            snprintf(auth, sizeof(auth), "Authorization: Bearer %s", w.ten.token[TL_ADMIN]);
            snprintf(u, sizeof(u), "%s/v1/instances", w.sovd.base);
            tl_req q = { .method = "POST", .url = u, .headers = headers, .body = body,
                         .body_len = strlen(body), .curl = curl };
            tl_http(&q, &r);
            retried++;
            char *replay = tl_resp_header(&r, "Idempotent-Replayed");
            if (r.status == 202 && replay)
                replayed++;
            else if (r.status == 202)
                created_on_retry++;
            else if (r.status == 409 && strstr(r.body, "still running"))
                still_running++;
            else if (r.status == 409) {
                conflicts++;
                if (conflicts == 1)
                    printf("retry conflict: %.300s\n", r.body);
            }
            else
                ck_abort_msg("retry of %s answered %ld: %s", m->name, r.status, r.body);
            if (r.status == 202)
                m->status = 202;
            free(replay);
            tl_resp_free(&r);
        }
    curl_easy_cleanup(curl);
    stuck = rel_world_settle(&w, 120);
    if (stuck) {
        char *what = tl_db_exec(url, "SELECT string_agg(format('%s %s %s step=%s attempts=%s "
                                     "lease=%s run_after=%s error=%s', id, kind, state, step, "
                                     "attempts, locked_until - now(), run_after - now(), "
                                     "error), E'\n') FROM operations WHERE state IN "
                                     "('queued', 'running')");
        printf("STUCK:\n%s\n", what ? what : "");
        free(what);
    }

    for (unsigned i = 0; i < CLIENTS; i++) {
        client *c = &clients[i];
        for (int p = 0; p < P_PHASES; p++) {
            n[p] += c->n[p];
            ok[p] += c->ok[p];
            s4xx[p] += c->s4xx[p];
            s503[p] += c->s503[p];
            s5xx[p] += c->s5xx_other[p];
        }
        down_wrong += c->down_wrong;
        unauthenticated += c->unauthenticated;
        if (c->down_first_wrong[0])
            printf("DOWN: %s\n", c->down_first_wrong);
        if (c->first_5xx[0])
            printf("5xx: %s\n", c->first_5xx);
        if (c->first_ok_after > 0 && (recovered == 0 || c->first_ok_after < recovered))
            recovered = c->first_ok_after;
        if (c->last_5xx > last_5xx)
            last_5xx = c->last_5xx;
        for (size_t k = 0; k < c->nmade; k++) {
            created *m = &c->made[k];
            long long rows = m->kind == 'i'
                ? rel_sql_num(url, "SELECT count(*) FROM instances WHERE name = '%s'", m->name)
                : rel_sql_num(url, "SELECT count(*) FROM workspaces WHERE name = '%s'",
                              m->name);
            if (m->status != 503 && rows != 1) {
                lost++;
                printf("LOST: %s %s (answered %ld): %lld rows\n", m->kind == 'i' ? "instance"
                       : "workspace", m->name, m->status, rows);
            }
        }
    }
    dup = rel_sql_num(url, "SELECT count(*) FROM (SELECT name FROM instances GROUP BY "
                           "tenant_id, workspace, name HAVING count(*) > 1) d");
    printf("pg-restart figures: %d clients; cluster stopped in %.1f s, down %.1f s, started in "
           "%.1f s; first success %.1f s after it was back; last 5xx %.1f s after it was "
           "back\n", CLIENTS, t_stop_end - t_stop_begin, t_start_begin - t_stop_end,
           t_start_end - t_start_begin, recovered > 0 ? recovered - t_start_end : -1,
           last_5xx > t_start_end ? last_5xx - t_start_end : 0);
    for (int p = 0; p < P_PHASES; p++)
        printf("  %-6s %6lu requests: 2xx %lu, 4xx %lu, 503 %lu, other 5xx %lu\n",
               phase_names[p], n[p], ok[p], s4xx[p], s503[p], s5xx[p]);
    printf("  401 for a valid token: %lu\n", unauthenticated);
    printf("  down: %lu answers not 503 problem+json with Retry-After; creates answered 503 "
           "and retried: %lld, of which %lld had made their row; with their key: %lld replayed, "
           "%lld created, %lld still held by the cut request, %lld conflicts; lost %lld, "
           "duplicated names %lld, operations left %lld; %.1f s in all\n",
           down_wrong, retried, found_503, replayed, created_on_retry, still_running,
           conflicts, lost, dup, stuck, rel_now() - t0);
    fflush(stdout);

    ck_assert_msg(w.sovd.pid == pid && kill(pid, 0) == 0, "sovd did not survive the outage");
    ck_assert_msg(n[P_DOWN] > 0, "no request fell in the outage");
    ck_assert_msg(down_wrong == 0, "%lu answers during the outage were not 503 problem+json "
                  "with Retry-After (first above)", down_wrong);
    ck_assert_msg(s5xx[P_BEFORE] == 0 && s503[P_BEFORE] == 0, "5xx before the outage");
    ck_assert_msg(unauthenticated == 0, "%lu answers were 401 for a valid token (first above)",
                  unauthenticated);
    ck_assert_msg(s5xx[P_EDGE] + s5xx[P_DOWN] + s5xx[P_AFTER] == 0,
                  "5xx other than 503 (first above)");
    ck_assert_msg(recovered > 0 && recovered - t_start_end < 10,
                  "no success within 10 s of the database's return");
    ck_assert_msg(last_5xx < t_start_end + 10, "5xx more than 10 s after the database's return");
    ck_assert_msg(lost == 0, "%lld accepted creates are not rows", lost);
    ck_assert_msg(dup == 0, "%lld names have two instances", dup);
    ck_assert_msg(stuck == 0, "%lld operations still queued or running", stuck);
    ck_assert_msg(rel_world_stop_sovd(&w) == 0, "sovd did not stop cleanly (its log is above)");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("reliability/pg-restart");
    TCase *tc = tcase_create("pg-restart");

    curl_global_init(CURL_GLOBAL_ALL);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, rel_long() ? 600 : 280);
    tcase_add_test(tc, database_restart_under_load_loses_nothing);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
