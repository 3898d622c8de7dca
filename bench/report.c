/* report: how fast a residency report is built from 1,000,000 records, next to PostgreSQL's
 * own COPY of the same rows, and how much memory building it takes.
 *
 *     bench/report [--quick] [--keep] [--rounds N] [CONNINFO]
 *
 * CONNINFO (or SOV_BENCH_DATABASE_URL) is a libpq connection string or URI to a PostgreSQL
 * cluster; the bench creates a scratch database there, migrates it and fills it with one
 * INSERT ... SELECT generate_series: 10 tenants, 250,000 instances with four records each
 * (placed, moved, moved, then deleted or moved again), written in time order as sovd writes
 * them, 1% of them spending a week in a region outside the EU (violations), and two policy
 * changes per tenant. Then, in this process, with a pool acting as sovd's role, it builds
 * reports of every tenant over a period covering all records (CSV and JSON): the same
 * function the worker runs (sov_report_build: cursor, intervals, temporary files, SHA-256,
 * Ed25519, 1 MiB chunks stored), and times `COPY (SELECT <the cursor's query>) TO STDOUT`
 * read through libpq (PQgetCopyData) in the same run: the floor for reading those rows at
 * all. Each is run --rounds times (default 3), the median counts. It prints records per
 * second of both, their ratio, where a build's time goes, and this process's memory around
 * each build: VmHWM (peak resident set; reset before the build through clear_refs), and the
 * largest anonymous (heap) and file-backed resident sizes seen, sampled every 5 ms. --quick
 * uses 20,000 records and one round; --keep leaves the database behind (its name is
 * printed). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sov/log.h"
#include "sov/migrate.h"
#include "sov/ops.h"
#include "sov/repo/db_pq.h"
#include "sov/residency.h"

#include "common.h"

#define FROM "2026-01-03T00:00:00Z"
#define TO "2026-02-10T00:00:00Z"
#define ROUNDS_MAX 9

/* The places of the synthetic world: six EU regions, and Zurich beyond the EU. */
static const struct {
    const char *code, *country;
} regions[] = {
    { "fr-par-1", "FR" }, { "fr-mrs-1", "FR" }, { "de-fra-1", "DE" }, { "nl-ams-1", "NL" },
    { "it-mil-1", "IT" }, { "pl-waw-1", "PL" }, { "ch-zrh-1", "CH" },
};

/* Where instance i is after its k-th record: a host and region, Zurich for 1% of them
 * between their first and second move. */
#define REGION(k)                                                                        \
    "CASE WHEN i % 100 = 0 AND " k " = 1 THEN 'ch-zrh-1' ELSE (ARRAY['fr-par-1','fr-mrs-1',"\
    "'de-fra-1','nl-ams-1','it-mil-1','pl-waw-1'])[1 + (i + " k ") % 6] END"
#define HOST(k) "'h-' || ((i * 13 + " k ") % 2000)"
#define GONE "(k = 3 AND i % 4 <> 0)"

/* $1 instances, four records each, in the order of time. */
static const char SQL_RECORDS[] =
    "WITH t AS (SELECT array_agg(id ORDER BY name) AS ids FROM tenants"
    " WHERE name LIKE 'bench-%')"
    " INSERT INTO residency_records (at, tenant_id, resource_type, resource_id, event,"
    " from_host, from_region, from_country, from_jurisdiction, from_datacenter, to_host,"
    " to_region, to_country, to_jurisdiction, to_datacenter, policy, reason)"
    " SELECT s.at, s.tenant, 'instance', 'inst-' || lpad(s.i::text, 8, '0'), s.event,"
    " s.from_host, s.from_region, coalesce(fr.country, ''), coalesce(fr.jurisdiction, ''),"
    " coalesce(fr.datacenter, ''), s.to_host, s.to_region, coalesce(tr.country, ''),"
    " coalesce(tr.jurisdiction, ''), coalesce(tr.datacenter, ''),"
    " '{\"jurisdictions\":[\"EU\"],\"countries\":[],\"regions\":[]}', 'bench'"
    " FROM (SELECT i, k, t.ids[1 + i % 10] AS tenant,"
    " '2026-01-01T00:00:00Z'::timestamptz + (i % 100000) * interval '10 seconds'"
    " + k * interval '7 days' AS at,"
    " CASE WHEN k = 0 THEN 'placed' WHEN " GONE " THEN 'deleted' ELSE 'moved' END AS event,"
    " CASE WHEN k = 0 THEN '' ELSE " HOST("(k - 1)") " END AS from_host,"
    " CASE WHEN k = 0 THEN '' ELSE " REGION("(k - 1)") " END AS from_region,"
    " CASE WHEN " GONE " THEN '' ELSE " HOST("k") " END AS to_host,"
    " CASE WHEN " GONE " THEN '' ELSE " REGION("k") " END AS to_region"
    " FROM t, generate_series(0, $1::int - 1) i, generate_series(0, 3) k) s"
    " LEFT JOIN regions fr ON fr.code = s.from_region"
    " LEFT JOIN regions tr ON tr.code = s.to_region"
    " ORDER BY s.at, s.i, s.k";
static const char SQL_POLICIES[] =
    "INSERT INTO residency_records (at, tenant_id, resource_type, resource_id, event, policy,"
    " reason) SELECT at, id, 'tenant', id::text, 'policy-changed', p::jsonb, 'bench'"
    " FROM tenants, (VALUES ('2026-01-02T00:00:00Z'::timestamptz,"
    " '{\"jurisdictions\":[\"EU\",\"EEA\"],\"countries\":[],\"regions\":[]}'),"
    " ('2026-01-20T00:00:00Z', '{\"jurisdictions\":[\"EU\"],\"countries\":[],"
    "\"regions\":[]}')) v (at, p) WHERE name LIKE 'bench-%'";

/* The report cursor's query, copied from residency/report_repo.c (SQL_BUILD_DECLARE) with
 * the period's end written in and every tenant in scope: keep the two in step. */
static const char SQL_COPY[] =
    "COPY (SELECT resource_type, resource_id, tenant_id, event,"
    " (extract(epoch FROM at) * 1000000)::bigint AS at_us, from_host, from_region,"
    " from_country,"
    " from_jurisdiction, from_datacenter, to_host, to_region, to_country, to_jurisdiction,"
    " to_datacenter FROM residency_records WHERE event <> 'policy-changed'"
    " AND at < '" TO "'::timestamptz ORDER BY resource_type, resource_id, seq) TO STDOUT";

static sov_db *db;
static sov_ctx ctx;
static sov_principal who;
/* How to drop the scratch database, also when the bench fails half way. */
static char *admin_url, drop_sql[160], state_dir[256];

static void
drop_scratch(void)
{
    PGconn *c;

    if (state_dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench/report: could not remove %s\n", state_dir);
        state_dir[0] = '\0';
    }
    if (!admin_url || !drop_sql[0])
        return;
    c = PQconnectdb(admin_url);
    if (PQstatus(c) == CONNECTION_OK)
        PQclear(PQexec(c, drop_sql));
    PQfinish(c);
    drop_sql[0] = '\0';
}

static void
die(const char *what, const sov_error *err)
{
    fprintf(stderr, "bench/report: %s: %s %s\n", what, err ? err->msg : "",
            err ? err->detail : "");
    drop_scratch();
    exit(1);
}

/* A statement outside the scratch database (create, drop); exits when it fails. */
static void
admin_or_die(const char *url, const char *sql)
{
    if (!bench_admin("bench/report", url, sql)) {
        drop_scratch();
        exit(1);
    }
}

/* The median of v[0..n), v left as it is. */
static double
median(const double *v, unsigned n)
{
    double sorted[ROUNDS_MAX];

    memcpy(sorted, v, n * sizeof(v[0]));
    qsort(sorted, n, sizeof(sorted[0]), bench_cmp_double);
    return sorted[n / 2];
}

/* One statement on c; exits on error. */
static void
run(sov_dbconn *c, const char *sql, int n, const char *const *params)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_db_query(c, sql, n, params, NULL, &err) < 0)
        die(sql, &err);
}

/* ---- memory ---- */

typedef struct mem {
    long hwm_kb, rss_kb, anon_kb, file_kb;
} mem;

static void
mem_now(mem *m)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");

    memset(m, 0, sizeof(*m));
    while (f && fgets(line, sizeof(line), f)) {
        sscanf(line, "VmHWM: %ld", &m->hwm_kb);
        sscanf(line, "VmRSS: %ld", &m->rss_kb);
        sscanf(line, "RssAnon: %ld", &m->anon_kb);
        sscanf(line, "RssFile: %ld", &m->file_kb);
    }
    if (f)
        fclose(f);
}

/* The largest heap and file-backed resident sizes since the last reset. */
static struct {
    pthread_t tid;
    atomic_bool stop;
    atomic_long anon_kb, file_kb;
} sampler;

static void *
sample(void *arg)
{
    (void) arg;
    while (!atomic_load(&sampler.stop)) {
        mem m;
        struct timespec ts = { 0, 5000000 };
        mem_now(&m);
        if (m.anon_kb > atomic_load(&sampler.anon_kb))
            atomic_store(&sampler.anon_kb, m.anon_kb);
        if (m.file_kb > atomic_load(&sampler.file_kb))
            atomic_store(&sampler.file_kb, m.file_kb);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Start measuring peaks anew: the sampler's, and the kernel's VmHWM (clear_refs 5). */
static void
peaks_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");

    if (f) {
        fputs("5", f);
        fclose(f);
    }
    atomic_store(&sampler.anon_kb, 0);
    atomic_store(&sampler.file_kb, 0);
}

typedef struct peaks {
    long hwm_before_kb, hwm_kb, anon_kb, file_kb;
} peaks;

/* ---- the two contenders ---- */

/* Where a build's time goes: the moments its steps begin. */
typedef struct steps {
    double t0, assembling, signing, storing;
} steps;

static int
on_step(void *arg, const char *what, int progress, sov_error *err)
{
    steps *s = arg;

    (void) progress;
    (void) err;
    if (strncmp(what, "assembling", 10) == 0)
        s->assembling = bench_now_s();
    else if (strncmp(what, "signing", 7) == 0)
        s->signing = bench_now_s();
    else if (strncmp(what, "storing", 7) == 0)
        s->storing = bench_now_s();
    return 0;
}

/* Ask for a report of every tenant and build it here; its seconds, its figures, and this
 * process's memory peaks while it was built. */
static double
build_once(const char *format, sov_report *ret, steps *st, peaks *pk)
{
    sov_error err = SOV_ERROR_INIT;
    sov_report_args a = { .from = FROM, .to = TO, .format = format };
    sov_report r;
    sov_op op;
    mem m;
    double t;

    if (sov_report_create(&ctx, &a, &r, &op, &err) < 0)
        die("create a report", &err);
    peaks_reset();
    mem_now(&m);
    pk->hwm_before_kb = m.hwm_kb;
    st->t0 = bench_now_s();
    if (sov_report_build(&ctx, r.id, on_step, st, &err) < 0)
        die("build the report", &err);
    t = bench_now_s() - st->t0;
    mem_now(&m);
    pk->hwm_kb = m.hwm_kb;
    pk->anon_kb = atomic_load(&sampler.anon_kb);
    pk->file_kb = atomic_load(&sampler.file_kb);
    if (sov_report_get(&ctx, r.id, ret, &err) < 0)
        die("read the report", &err);
    return t;
}

/* COPY (the cursor's query) TO STDOUT, every row read; seconds, rows and bytes. */
static double
copy_once(const char *url, long long *rows, long long *bytes)
{
    const char *keys[] = { "options", "dbname", NULL };
    const char *values[] = { "-c jit=off", url, NULL };
    PGconn *c = PQconnectdbParams(keys, values, 1);
    PGresult *r;
    char *buf;
    double t0;
    int n;

    if (PQstatus(c) != CONNECTION_OK)
        die("connect for COPY", NULL);
    PQclear(PQexec(c, "SET ROLE sovereign_app"));
    *rows = *bytes = 0;
    t0 = bench_now_s();
    r = PQexec(c, SQL_COPY);
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        fprintf(stderr, "bench/report: COPY: %s", PQerrorMessage(c));
        die("COPY", NULL);
    }
    PQclear(r);
    while ((n = PQgetCopyData(c, &buf, 0)) > 0) {
        (*rows)++;
        *bytes += n;
        PQfreemem(buf);
    }
    r = PQgetResult(c);
    if (n != -1 || PQresultStatus(r) != PGRES_COMMAND_OK)
        die("COPY did not finish", NULL);
    PQclear(r);
    t0 = bench_now_s() - t0;
    PQfinish(c);
    return t0;
}

/* ---- setup ---- */

typedef struct options {
    unsigned records, rounds;
    const char *url;
    bool keep;
} options;

static void
parse_args(int argc, char **argv, options *o)
{
    *o = (options) { 1000000, 3, getenv("SOV_BENCH_DATABASE_URL"), false };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            o->records = 20000;
            o->rounds = 1;
        } else if (strcmp(argv[i], "--keep") == 0) {
            o->keep = true;
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            char *end = NULL;
            unsigned long n = strtoul(argv[++i], &end, 10);
            if (!*argv[i] || *end || n < 1 || n > ROUNDS_MAX) {
                fprintf(stderr, "bench/report: --rounds takes 1 to %d\n", ROUNDS_MAX);
                exit(2);
            }
            o->rounds = (unsigned) n;
        } else if (argv[i][0] != '-') {
            o->url = argv[i];
        } else {
            fprintf(stderr, "usage: %s [--quick] [--keep] [--rounds N] [CONNINFO]\n", argv[0]);
            exit(2);
        }
    }
    if (!o->url || !*o->url) {
        fprintf(stderr, "bench/report: give a connection string (argument or "
                        "SOV_BENCH_DATABASE_URL)\n");
        exit(2);
    }
}

/* The scratch database migrated and filled; the pool acts as sovd's role, ctx as an auditor
 * of the operator tenant; the signing key made in a state folder of the bench's own. */
static void
open_scratch(const char *bench_url, unsigned records, sov_config *cfg)
{
    sov_error err = SOV_ERROR_INIT;
    char state_flag[300], count[16];
    char *argv0[] = { "sovd", state_flag, NULL };
    char *envp[] = { NULL };
    const char *params[] = { count };
    FILE *out = fopen("/dev/null", "w");
    sov_db_options o = { .url = bench_url, .pool_size = 4, .connect_timeout = 10,
                         .acquire_timeout_ms = 10000, .statement_timeout_ms = 0 };
    sov_db *owner = NULL;
    sov_dbconn *c = NULL;
    unsigned applied = 0;
    double t0 = bench_now_s();

    snprintf(state_dir, sizeof(state_dir), "/var/tmp/sov-bench-report-XXXXXX");
    if (!mkdtemp(state_dir)) {
        state_dir[0] = '\0';
        die("make a state folder", NULL);
    }
    snprintf(state_flag, sizeof(state_flag), "--state-dir=%s", state_dir);
    if (!out || sov_config_load(cfg, 2, argv0, envp, out, &err) != 0)
        die("config", &err);
    fclose(out);

    /* Migrations and synthetic data as the owner, like sovd's migrations. */
    if (sov_db_new(&o, &owner, &err) < 0 || sov_db_acquire(owner, &c, &err) < 0 ||
        sov_migrate(c, sov_migrations, sov_migrations_count, &applied, &err) < 0)
        die("migrate", &err);
    for (size_t i = 0; i < SOV_N_ELEMENTS(regions); i++) {
        const char *rp[] = { regions[i].code, regions[i].country };
        run(c, "INSERT INTO regions (code, name, country, jurisdiction, datacenter) VALUES"
               " ($1, $1, $2, CASE WHEN $2 = 'CH' THEN 'OTHER' ELSE 'EU' END, 'DC ' || $1)",
            2, rp);
    }
    run(c, "INSERT INTO tenants (name) SELECT 'bench-' || n FROM generate_series(0, 9) n", 0,
        NULL);
    snprintf(count, sizeof(count), "%u", records / 4);
    run(c, SQL_RECORDS, 1, params);
    run(c, SQL_POLICIES, 0, NULL);
    run(c, "VACUUM ANALYZE residency_records", 0, NULL);
    sov_db_release(c);
    sov_db_free(owner);
    printf("bench/report: %u residency records (%u instances, 10 tenants) written in %.1f s\n",
           records, records / 4, bench_now_s() - t0);

    o.role = "sovereign_app";
    if (sov_db_new(&o, &db, &err) < 0 || sov_signing_init(db, state_dir, &err) < 0)
        die("pool and signing key", &err);
    memset(&who, 0, sizeof(who));
    who.role = SOV_ROLE_AUDITOR;
    who.operator_tenant = true;
    ctx = (sov_ctx) { .db = db, .cfg = cfg, .who = &who, .request_id = "", .source = "",
                      .action = "bench" };
    if (sov_db_acquire(db, &c, &err) < 0)
        die("connect", &err);
    {
        sov_autoptr(PGresult) r = NULL;
        if (sov_db_query(c, "SELECT id FROM tenants WHERE name = 'bench-0'", 0, NULL, &r,
                         &err) < 0)
            die("tenant", &err);
        snprintf(who.tenant_id, sizeof(who.tenant_id), "%s", PQgetvalue(r, 0, 0));
    }
    sov_db_release(c);
}

int
main(int argc, char **argv)
{
    static const char *const formats[] = { "csv", "json" };
    options o;
    char name[64], create[128], *bench_url;
    sov_config cfg;
    double copy_t[ROUNDS_MAX], build_t[2][ROUNDS_MAX], copy_med, build_med[2];
    steps st[2][ROUNDS_MAX];
    peaks pk[2][ROUNDS_MAX];
    sov_report rep[2];
    long long copy_rows = 0, copy_bytes = 0;
    mem before, after;

    parse_args(argc, argv, &o);
    sov_log_set_level(SOV_LOG_WARN);
    snprintf(name, sizeof(name), "sov_bench_report_%d", (int) getpid());
    snprintf(create, sizeof(create), "CREATE DATABASE %s", name);
    admin_url = bench_with_dbname("bench/report", o.url, "postgres");
    bench_url = bench_with_dbname("bench/report", o.url, name);
    admin_or_die(admin_url, create);
    snprintf(drop_sql, sizeof(drop_sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    open_scratch(bench_url, o.records, &cfg);

    /* Warm the cache (and the plan) once, untimed. */
    copy_once(bench_url, &copy_rows, &copy_bytes);
    mem_now(&before);
    pthread_create(&sampler.tid, NULL, sample, NULL);
    for (unsigned i = 0; i < o.rounds; i++) {
        copy_t[i] = copy_once(bench_url, &copy_rows, &copy_bytes);
        for (size_t f = 0; f < 2; f++)
            build_t[f][i] = build_once(formats[f], &rep[f], &st[f][i], &pk[f][i]);
    }
    atomic_store(&sampler.stop, true);
    pthread_join(sampler.tid, NULL);
    mem_now(&after);

    printf("period %s/%s, every tenant: %lld records in scope, %u round%s, median\n\n", FROM,
           TO, copy_rows, o.rounds, o.rounds == 1 ? "" : "s");
    copy_med = median(copy_t, o.rounds);
    printf("%-34s %9.3f s %12.0f records/s  (%.1f MB)\n", "COPY (same query) TO STDOUT",
           copy_med, (double) copy_rows / copy_med, (double) copy_bytes / 1e6);
    for (size_t f = 0; f < 2; f++) {
        char label[64];
        const steps *s = &st[f][0];
        build_med[f] = median(build_t[f], o.rounds);
        snprintf(label, sizeof(label), "report build, %s", formats[f]);
        printf("%-34s %9.3f s %12.0f records/s  ratio to COPY %.2f\n", label, build_med[f],
               (double) copy_rows / build_med[f], build_med[f] / copy_med);
        printf("    %lld rows, %lld violations, %.1f MB document; first round: read+write "
               "%.2f s, assemble %.2f s, sign %.2f s, store %.2f s\n",
               rep[f].rows, rep[f].violations, (double) rep[f].size_bytes / 1e6,
               s->assembling - s->t0, s->signing - s->assembling, s->storing - s->signing,
               s->t0 + build_t[f][0] - s->storing);
    }
    printf("\nmemory of this process (the code sovd's worker runs), last round:\n");
    printf("    VmHWM at the start %ld kB, after every round %ld kB (peak resident set)\n",
           before.hwm_kb, after.hwm_kb);
    for (size_t f = 0; f < 2; f++) {
        const peaks *p = &pk[f][o.rounds - 1];
        printf("    %-4s build: VmHWM %ld kB before, %ld kB after (peak reset before it); "
               "largest RssAnon %ld kB (heap), RssFile %ld kB (the document's pages, mapped "
               "for its one-shot Ed25519 signature)\n", formats[f], p->hwm_before_kb,
               p->hwm_kb, p->anon_kb, p->file_kb);
    }
    printf("\nrecords/s: report %.0f (csv), COPY %.0f; ratio %.2f\n",
           (double) copy_rows / build_med[0], (double) copy_rows / copy_med,
           build_med[0] / copy_med);

    sov_db_free(db);
    sov_signing_release();
    sov_config_release(&cfg);
    if (o.keep) {
        printf("\nkept database %s\n", name);
        drop_sql[0] = '\0';
    }
    drop_scratch();
    free(admin_url);
    free(bench_url);
    return 0;
}
