/* Crash safety: sovd killed with SIGKILL at random moments while clients create and delete
 * instances through its API, started again, killed again, and at last left to finish. Then
 * every instance must have come to rest (running, stopped, deleted, or error with a reason),
 * no operation may be left running, no domain or disk may be left that no live instance
 * owns, host usage must equal its allocations and the tenant's quota usage what its live
 * instances hold; and nothing the API accepted may be lost: every 202 for a create has its
 * instance row, every 202 for a delete ends deleted (or error, with the reason).
 *
 * The host is libvirt's test driver inside a private libvirtd (test+unix:///default): it
 * keeps domains and volumes in the daemon across sovd's deaths, without real guests. The test
 * driver forgets its state when its last connection closes, so the test holds one open (a
 * virsh) for the whole run. sovd runs with --operation-step-timeout=5, so an operation whose
 * worker died is taken over by the next sovd within seconds.
 *
 * SOV_TEST_LONG=1 (scripts/test --long) kills for five minutes instead of about one. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

/* The first value of a query on this test's database (testlib). */
#define sql(...) tl_db_value(db, __VA_ARGS__)
#define sql_num(...) tl_db_num(db, __VA_ARGS__)

#define REGION "fr-crash-1"
#define CLIENTS 4               /* threads sending requests during a round */
#define ROUNDS_S 40             /* seconds of kill rounds (SOV_TEST_LONG: LONG_ROUNDS_S) */
#define LONG_ROUNDS_S 300
#define SETTLE_S 90             /* for the last sovd to empty the queue */
#define MAX_IDS 20000

static char *db;
static char *tmp;
static char *op;                /* the bootstrap operator's token */
static tl_sovd sovd;
static tl_tenant acme;
static tl_libvirtd lvd;
static char uri[800];           /* test+unix:///default?socket=... */
static char pool[64];
static pid_t holder;            /* the virsh holding the test driver's state */
static int holder_in = -1;      /* its stdin; closing it ends it */
static char all_logs[600];      /* the logs of every sovd of the run, one after another */

/* What the clients saw, under lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char (*created)[40];     /* ids of creates answered 202 */
static size_t ncreated;
static bool *delete_sent;       /* per created id: a delete was sent */
static char (*deleted)[40];     /* ids of deletes answered 202 */
static size_t ndeleted;
static unsigned creates_sent, creates_lost, deletes_sent, deletes_lost, refused;
static unsigned accepted_unread;    /* 202s without an instance id, or beyond MAX_IDS */
static atomic_bool stop_clients;
static struct refusal {
    long status;
    char type[64];
    unsigned n;
} refusals[16];                 /* answers other than 202, by status and problem type */

/* ---- helpers ---- */

static bool
looks_like_uuid(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++)
        if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-'
                                                     : !strchr("0123456789abcdef", s[i]))
            return false;
    return true;
}

/* The instance ids in names like "sov-<id>" or "sov-<id>-<suffix>" among the first words of
 * text's lines, as a SQL array literal '{...}' (malloc). */
static char *
ids_in(const char *text, unsigned *ret_n)
{
    size_t cap = strlen(text) + 3, len = 0;
    char *out = malloc(cap);
    unsigned n = 0;

    ck_assert(out);
    out[len++] = '{';
    for (const char *line = text; *line;) {
        const char *end = line + strcspn(line, "\n");
        const char *w = line + strspn(line, " \t");

        if (strncmp(w, "sov-", 4) == 0 && end - w >= 40 && looks_like_uuid(w + 4, 36) &&
            (w[40] == '-' || w[40] == ' ' || w + 40 == end)) {
            if (n > 0)
                out[len++] = ',';
            memcpy(out + len, w + 4, 36);
            len += 36;
            n++;
        }
        line = *end ? end + 1 : end;
    }
    out[len++] = '}';
    out[len] = '\0';
    *ret_n = n;
    return out;
}

/* ---- the test driver's state, held ---- */

static void
holder_start(void)
{
    int in[2];

    ck_assert(pipe2(in, O_CLOEXEC) == 0);
    holder = fork();
    ck_assert(holder >= 0);
    if (holder == 0) {
        int null = open("/dev/null", O_WRONLY);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(in[0], 0);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execlp("virsh", "virsh", "-q", "-c", uri, (char *) NULL);
        _exit(127);
    }
    close(in[0]);
    holder_in = in[1];
    /* Held once a change survives the connection that made it: the test driver's own
     * domain "test", shut off by one virsh, is still off for the next. */
    for (int i = 0;; i++) {
        tl_sh("virsh -q -c '%s' destroy test >/dev/null 2>&1", uri);
        if (tl_sh("virsh -q -c '%s' domstate test 2>/dev/null | grep -q 'shut off'", uri) == 0)
            break;
        ck_assert_msg(i < 300, "virsh did not hold a connection to %s within 30 s", uri);
        usleep(100 * 1000);
    }
}

static void
holder_stop(void)
{
    int status;

    if (holder_in >= 0)
        close(holder_in);
    holder_in = -1;
    if (holder > 0) {
        kill(holder, SIGTERM);
        waitpid(holder, &status, 0);
    }
    holder = 0;
}

/* ---- fixture ---- */

static void
setup(void)
{
    unsigned seed = (unsigned) getpid() ^ (unsigned) time(NULL);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    op = NULL;
    snprintf(all_logs, sizeof(all_logs), "%s/sovd-all.log", tmp);
    snprintf(pool, sizeof(pool), "sovtest-%d-%04x", (int) getpid(),
             (unsigned) rand_r(&seed) & 0xffff);
    tl_libvirtd_start(&lvd);
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s", lvd.sock);
    holder_start();
    created = calloc(MAX_IDS, sizeof(*created));
    deleted = calloc(MAX_IDS, sizeof(*deleted));
    delete_sent = calloc(MAX_IDS, sizeof(*delete_sent));
    ck_assert(created && deleted && delete_sent);
    ncreated = ndeleted = 0;
    creates_sent = creates_lost = deletes_sent = deletes_lost = refused = 0;
    accepted_unread = 0;
    memset(refusals, 0, sizeof(refusals));
}

/* Keep the log of the sovd that ran (count_in_logs reads them all), then discard it. */
static void
retire_sovd(void)
{
    if (sovd.log[0])
        tl_sh("cat '%s' >> '%s' 2>/dev/null", sovd.log, all_logs);
    tl_sovd_discard(&sovd);
}

static void
teardown(void)
{
    if (sovd.pid > 0)
        tl_sovd_stop(&sovd, SIGKILL, 5);
    retire_sovd();
    holder_stop();
    tl_libvirtd_discard(&lvd);
    tl_db_drop(db);
    free(db);
    free(op);
    free(created);
    free(deleted);
    free(delete_sent);
    tl_tmpdir_remove(tmp);
    free(tmp);
}

static void
start_sovd(void)
{
    char pool_flag[128], path_flag[700], store_flag[700];
    const char *args[] = { pool_flag, path_flag, store_flag, "--nat-network=sovcrash",
                           "--nat-cidr=10.251.0.0/24", "--image-allow-file-urls=true",
                           "--operation-step-timeout=5", "--host-check-interval=1",
                           "--worker-threads=4", NULL };

    snprintf(pool_flag, sizeof(pool_flag), "--storage-pool=%s", pool);
    snprintf(path_flag, sizeof(path_flag), "--storage-pool-path=%s/pool", tmp);
    snprintf(store_flag, sizeof(store_flag), "--image-store=%s/store", tmp);
    retire_sovd();
    tl_sovd_start(&sovd, db, args);
}

/* ---- the clients ---- */

typedef struct client {
    char base[64];
    char token[64];
    unsigned round, index, seed, n;
    bool full;                  /* the last create found no capacity: delete next */
} client;

/* Count an answer other than 202 (under lock). */
static void
note_refusal(long status, const json_t *j)
{
    const char *type = json_string_value(json_object_get(j, "type"));
    size_t i;

    refused++;
    for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]) && refusals[i].n > 0; i++)
        if (refusals[i].status == status && strcmp(refusals[i].type, type ? type : "") == 0)
            break;
    if (i == sizeof(refusals) / sizeof(refusals[0]))
        return;
    refusals[i].status = status;
    snprintf(refusals[i].type, sizeof(refusals[i].type), "%s", type ? type : "");
    refusals[i].n++;
}

/* One request; the status (0: no answer, sovd died under it) and the body's JSON. */
static long
request(const client *c, const char *method, const char *path, const char *body,
        json_t **ret)
{
    char url[256], auth[128];
    const char *headers[] = { auth, "Content-Type: application/json", NULL };
    tl_req q = { .method = method, .url = url, .headers = headers, .body = body,
                 .body_len = body ? strlen(body) : 0 };
    tl_resp r;
    long status;

    snprintf(url, sizeof(url), "%s%s", c->base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
    if (tl_http_try(&q, &r) < 0)
        r.status = 0;
    status = r.status;
    *ret = r.json ? json_incref(r.json) : NULL;
    tl_resp_free(&r);
    return status;
}

static bool
one_create(client *c)
{
    char body[256];
    json_t *j = NULL;
    long status;

    snprintf(body, sizeof(body), "{\"name\":\"c%u-%u-%u\",\"flavor\":\"tiny\",\"image\":\"img\"}",
             c->round, c->index, c->n++);
    status = request(c, "POST", "/v1/instances", body, &j);
    pthread_mutex_lock(&lock);
    creates_sent++;
    if (status == 202) {
        const char *id = json_string_value(json_object_get(json_object_get(j, "instance"),
                                                           "id"));
        if (id && strlen(id) == 36 && ncreated < MAX_IDS)
            snprintf(created[ncreated++], 40, "%s", id);
        else
            accepted_unread++;
    } else if (status == 0) {
        creates_lost++;
    } else {
        note_refusal(status, j);
    }
    pthread_mutex_unlock(&lock);
    c->full = status == 409;
    json_decref(j);
    return status != 0;
}

static bool
one_delete(client *c)
{
    char path[128], id[40] = "";
    json_t *j = NULL;
    long status;

    pthread_mutex_lock(&lock);
    for (unsigned tries = 0; ncreated > 0 && tries < 8 && !id[0]; tries++) {
        size_t k = (size_t) rand_r(&c->seed) % ncreated;
        if (!delete_sent[k]) {
            delete_sent[k] = true;
            snprintf(id, sizeof(id), "%s", created[k]);
        }
    }
    pthread_mutex_unlock(&lock);
    c->full = false;
    if (!id[0])
        return true;
    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    status = request(c, "DELETE", path, NULL, &j);
    pthread_mutex_lock(&lock);
    deletes_sent++;
    if (status == 202)
        snprintf(deleted[ndeleted++], 40, "%s", id);     /* at most one per created id */
    else if (status == 0)
        deletes_lost++;
    else
        note_refusal(status, j);
    pthread_mutex_unlock(&lock);
    json_decref(j);
    return status != 0;
}

/* Creates and deletes, about as many of each (a delete after a create found the host full),
 * until sovd stops answering. */
static void *
client_main(void *arg)
{
    client *c = arg;
    bool alive = true;

    while (alive && !atomic_load(&stop_clients))
        alive = c->full || rand_r(&c->seed) % 2 == 0 ? one_delete(c) : one_create(c);
    return NULL;
}

/* ---- the checks at the end ---- */

/* Wait (bounded) until the queue is empty: nothing queued, nothing running. */
static void
wait_queue_empty(double *ret_seconds)
{
    double t0 = tl_now();

    for (;;) {
        long long busy = sql_num("SELECT count(*) FROM operations WHERE state IN "
                                 "('queued', 'running')");
        if (busy == 0)
            break;
        if (tl_now() - t0 > SETTLE_S) {
            char *ops = sql("SELECT string_agg(kind || ' ' || resource_id || ' ' || state ||"
                            " ' step=' || step || ' attempts=' || attempts, E'\\n')"
                            " FROM operations WHERE state IN ('queued', 'running')");
            ck_abort_msg("%lld operations still queued or running %d s after the last "
                         "start:\n%s", busy, SETTLE_S, ops);
        }
        usleep(250 * 1000);
    }
    *ret_seconds = tl_now() - t0;
}

/* Lines of every sovd's log of the run holding needle. */
static unsigned
count_in_logs(const char *needle)
{
    char *logs[2] = { tl_read_file(all_logs), tl_sovd_log(&sovd) };
    unsigned n = 0;

    for (size_t i = 0; i < 2; i++) {
        for (const char *p = logs[i]; p && (p = strstr(p, needle)); p += strlen(needle))
            n++;
        free(logs[i]);
    }
    return n;
}

/* Owners of names (domains, volumes) that are not a live instance: "id:state ..." (malloc),
 * "" when every name belongs to one. */
static char *
bad_owners(const char *ids)
{
    return sql("SELECT coalesce(string_agg(d::text || ':' || coalesce(i.state, 'unknown'), ' '),"
               " '') FROM unnest('%s'::uuid[]) d LEFT JOIN instances i ON i.id = d"
               " WHERE coalesce(i.state, 'unknown') NOT IN ('running', 'stopped', 'error')",
               ids);
}

START_TEST(killed_at_random_sovd_loses_nothing_and_leaves_nothing)
{
    const char *long_env = getenv("SOV_TEST_LONG");
    bool long_run = long_env && strcmp(long_env, "1") == 0;
    double rounds_s = long_run ? LONG_ROUNDS_S : ROUNDS_S, t_start, settle_s;
    unsigned seed = (unsigned) getpid() ^ (unsigned) time(NULL), kills = 0, n_dom, n_vol,
        takeovers, orphans;
    char qcow2[700], body[2048], *text, *ids, *bad;
    json_t *j;

    /* The world: a region, the test-driver host, a small flavor, an image, and limits high
     * enough that quota never refuses (capacity may: that is an answer, not a loss). */
    start_sovd();
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Crash\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-crash\",\"zones\":[\"a\"]}", 201));
    snprintf(body, sizeof(body), "{\"name\":\"td\",\"region\":\"" REGION "\",\"zone\":\"a\","
             "\"libvirt_uri\":\"%s\",\"cpu_allocation_ratio\":100,"
             "\"ram_allocation_ratio\":100}", uri);
    j = tl_host_add(&sovd, op, body);
    ck_assert_str_eq(tl_str(j, "hypervisor"), "test");
    json_decref(j);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"tiny\",\"vcpus\":1,\"memory_mib\":64,\"disk_gib\":1}",
                           201));
    snprintf(body, sizeof(body), "/v1/tenants/%s/quotas", acme.id);
    json_decref(tl_call_ok(&sovd, "PUT", body, op,
                           "{\"instances\":100000,\"vcpus\":100000,\"memory_mib\":100000000,"
                           "\"storage_gib\":100000000}", 200));
    snprintf(qcow2, sizeof(qcow2), "%s/img.qcow2", tmp);
    ck_assert_int_eq(tl_sh("qemu-img create -q -f qcow2 '%s' 64M", qcow2), 0);
    snprintf(body, sizeof(body), "{\"name\":\"img\",\"region\":\"" REGION "\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", qcow2);
    j = tl_call_ok(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER], body, 202);
    {
        char path[128];
        double until = tl_now() + 60;
        snprintf(path, sizeof(path), "/v1/images/%s",
                 tl_str(json_object_get(j, "image"), "id"));
        for (;;) {
            json_t *img = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
            bool active = strcmp(tl_str(img, "state"), "active") == 0;
            ck_assert_msg(active || tl_now() < until, "image not active: %s", json_dumps(img, 0));
            json_decref(img);
            if (active)
                break;
            usleep(100 * 1000);
        }
    }
    json_decref(j);

    /* Rounds: clients fire at a running sovd, which dies by SIGKILL 50-800 ms in. */
    t_start = tl_now();
    for (unsigned round = 0; tl_now() - t_start < rounds_s; round++) {
        pthread_t tids[CLIENTS];
        client cl[CLIENTS];
        unsigned ms = 50 + (unsigned) rand_r(&seed) % 751;

        if (round > 0)
            start_sovd();
        atomic_store(&stop_clients, false);
        for (unsigned i = 0; i < CLIENTS; i++) {
            memset(&cl[i], 0, sizeof(cl[i]));
            snprintf(cl[i].base, sizeof(cl[i].base), "%s", sovd.base);
            snprintf(cl[i].token, sizeof(cl[i].token), "%s", acme.token[TL_MEMBER]);
            cl[i].round = round;
            cl[i].index = i;
            cl[i].seed = seed + i * 7919u + round;
            ck_assert(pthread_create(&tids[i], NULL, client_main, &cl[i]) == 0);
        }
        usleep(ms * 1000);
        ck_assert_msg(tl_sovd_stop(&sovd, SIGKILL, 10) == 128 + SIGKILL,
                      "sovd did not die of SIGKILL (it had exited already?)");
        kills++;
        atomic_store(&stop_clients, true);
        for (unsigned i = 0; i < CLIENTS; i++)
            pthread_join(tids[i], NULL);
        /* Some rounds give the workers time of their own before the next kill. */
        if (rand_r(&seed) % 4 == 0)
            usleep((50 + (unsigned) rand_r(&seed) % 1500) * 1000);
    }

    /* The last start: no kill. The queue must empty, and the reconciler catch up. */
    start_sovd();
    wait_queue_empty(&settle_s);
    sleep(3);   /* three reconciler passes (host_check_interval=1) */

    /* The figures first, so a failed check below still shows them. */
    takeovers = count_in_logs("taken over after its lease ran out");
    orphans = count_in_logs("orphan domain");
    text = sql("SELECT coalesce(string_agg(state || ' ' || n, ', '), '') FROM (SELECT state,"
               " count(*) AS n FROM instances GROUP BY state ORDER BY state) s");
    printf("crash (%s, %.0f s of rounds): %u kills; creates sent %u (202: %zu, no answer: %u);"
           " deletes sent %u (202: %zu, no answer: %u); refused %u; instances: %s;"
           " operations taken over %u; orphan domains the reconciler met %u; queue empty"
           " %.1f s after the last start\n",
           long_run ? "long" : "short", rounds_s, kills, creates_sent, ncreated, creates_lost,
           deletes_sent, ndeleted, deletes_lost, refused, text, takeovers, orphans, settle_s);
    free(text);
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]) && refusals[i].n > 0; i++)
        printf("crash: refused %u times: %ld %s\n", refusals[i].n, refusals[i].status,
               refusals[i].type);
    text = sql("SELECT coalesce(string_agg(DISTINCT state_reason, ' | '), '') FROM instances"
               " WHERE state = 'error'");
    if (text[0])
        printf("crash: error reasons: %s\n", text);
    free(text);
    fflush(stdout);
    ck_assert_msg(accepted_unread == 0, "%u creates answered 202 without an instance id",
                  accepted_unread);

    /* Every instance at rest; errors say why. */
    text = sql("SELECT coalesce(string_agg(id || ':' || state, ' '), '') FROM instances"
               " WHERE state NOT IN ('running', 'stopped', 'deleted', 'error')");
    ck_assert_msg(!text[0], "instances not at rest: %s", text);
    free(text);
    text = sql("SELECT coalesce(string_agg(id::text, ' '), '') FROM instances"
               " WHERE state = 'error' AND state_reason = ''");
    ck_assert_msg(!text[0], "instances in error without a reason: %s", text);
    free(text);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM operations WHERE state = 'running'"), 0);
    /* Lock order: PostgreSQL breaks a deadlock after a second, failing one side. */
    ck_assert_int_eq(sql_num("SELECT deadlocks FROM pg_stat_database"
                             " WHERE datname = current_database()"), 0);
    /* Nothing touches the host behind sovd's back here: a domain "gone" is a false repair. */
    text = sql("SELECT coalesce(string_agg(id || ': ' || state_reason, ', '), '') FROM instances"
               " WHERE state = 'error' AND state_reason LIKE '%%domain is gone%%'");
    ck_assert_msg(!text[0], "the reconciler judged domains gone that exist: %s", text);
    free(text);

    /* Nothing accepted was lost. */
    {
        size_t len = 0, cap = (ncreated + ndeleted + 1) * 40 + 8;
        char *list = malloc(cap);
        ck_assert(list);
        list[len++] = '{';
        for (size_t i = 0; i < ncreated; i++)
            len += (size_t) snprintf(list + len, cap - len, "%s%s", i ? "," : "", created[i]);
        snprintf(list + len, cap - len, "}");
        ck_assert_int_eq(sql_num("SELECT count(*) FROM instances WHERE id = ANY('%s'::uuid[])",
                                 list), (long long) ncreated);
        len = 0;
        list[len++] = '{';
        for (size_t i = 0; i < ndeleted; i++)
            len += (size_t) snprintf(list + len, cap - len, "%s%s", i ? "," : "", deleted[i]);
        snprintf(list + len, cap - len, "}");
        text = sql("SELECT coalesce(string_agg(id || ':' || state, ' '), '') FROM instances"
                   " WHERE id = ANY('%s'::uuid[]) AND state NOT IN ('deleted', 'error')", list);
        ck_assert_msg(!text[0], "deletes answered 202 that did not delete: %s", text);
        free(text);
        free(list);
    }

    /* No domain and no disk or seed that no live instance owns. */
    ck_assert_int_eq(tl_virsh(uri, &text, "list --all --name"), 0);
    ids = ids_in(text, &n_dom);
    free(text);
    bad = bad_owners(ids);
    ck_assert_msg(!bad[0], "domains that no live instance owns (id:state): %s", bad);
    free(bad);
    free(ids);
    ck_assert_int_eq(tl_virsh(uri, &text, "vol-list '%s'", pool), 0);
    ids = ids_in(text, &n_vol);
    free(text);
    bad = bad_owners(ids);
    ck_assert_msg(!bad[0], "volumes that no live instance owns (id:state): %s", bad);
    free(bad);
    free(ids);
    /* And the other way: what the database holds as running or stopped has its domain. */
    text = sql("SELECT coalesce(string_agg(id::text, ' '), '') FROM instances"
                           " WHERE state IN ('running', 'stopped')");
    {
        char *doms;
        ck_assert_int_eq(tl_virsh(uri, &doms, "list --all --name"), 0);
        for (char *w = strtok(text, " "); w; w = strtok(NULL, " ")) {
            char name[64];
            snprintf(name, sizeof(name), "sov-%s", w);
            ck_assert_msg(strstr(doms, name), "instance %s has no domain on the host", w);
        }
        free(doms);
    }
    free(text);

    /* Capacity and quota agree with what is live. */
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
    text = sql("SELECT coalesce(string_agg(a.resource_id, ' '), '') FROM host_allocations a"
               " WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.allocation_id = a.id"
               " AND i.state <> 'deleted')");
    ck_assert_msg(!text[0], "allocations that no live instance holds: %s", text);
    free(text);
    text = sql("SELECT coalesce(string_agg(id::text, ' '), '') FROM instances"
               " WHERE state <> 'deleted' AND allocation_id IS NULL");
    ck_assert_msg(!text[0], "live instances without an allocation: %s", text);
    free(text);
    text = sql("SELECT coalesce(string_agg(q.resource || ' used ' || q.used || ' live ' ||"
               " l.n, ', '), '') FROM quotas q JOIN (SELECT 'instances' AS r, count(*) AS n"
               " FROM instances i WHERE i.tenant_id = '%s' AND i.state <> 'deleted'"
               " UNION ALL SELECT 'vcpus', coalesce(sum(vcpus), 0) FROM instances i"
               " WHERE i.tenant_id = '%s' AND i.state <> 'deleted'"
               " UNION ALL SELECT 'memory_mib', coalesce(sum(memory_mib), 0) FROM instances i"
               " WHERE i.tenant_id = '%s' AND i.state <> 'deleted'"
               " UNION ALL SELECT 'storage_gib', coalesce(sum(disk_gib), 0) FROM instances i"
               " WHERE i.tenant_id = '%s' AND i.state <> 'deleted') l ON l.r = q.resource"
               " WHERE q.tenant_id = '%s' AND q.used <> l.n",
               acme.id, acme.id, acme.id, acme.id, acme.id);
    ck_assert_msg(!text[0], "quota usage differs from the live instances: %s", text);
    free(text);

    printf("crash: at the end domains %u, instance volumes %u, orphans 0\n", n_dom, n_vol);
    fflush(stdout);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("reliability/crash");
    TCase *tc = tcase_create("crash");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 580);
    tcase_add_test(tc, killed_at_random_sovd_loses_nothing_and_leaves_nothing);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
