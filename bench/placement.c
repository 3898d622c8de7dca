/* placement: how long the scheduler takes to decide, with 100, 1,000 and 10,000 hosts.
 *
 *     bench/placement [--quick] [--pack] [--keep] [--decisions N] [CONNINFO]
 *
 * CONNINFO (or SOV_BENCH_DATABASE_URL) is a libpq connection string or URI to a PostgreSQL
 * cluster; the bench creates a scratch database there, migrates it, fills it with synthetic
 * regions and hosts (varied sizes, states, zones, GPUs, some anti-affinity allocations), and
 * drops it at the end. For each host count it times N dry runs and N claims (each claim in a
 * transaction that is rolled back, so capacity never runs out) and prints the median and p99
 * next to a reference measured in the same run: a bare `SELECT count(*) FROM hosts`, the
 * floor for anything that reads every host. The scheduler's two queries are timed alone too,
 * to show where a decision's time goes, and at the largest size their plans are printed with
 * EXPLAIN (ANALYZE, BUFFERS). --quick stops at 1,000 hosts; --pack weighs as
 * placement_strategy = pack does (spread is the default); --keep leaves the database behind
 * (its name is printed) for a closer look with psql. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sov/compute.h"
#include "sov/log.h"
#include "sov/migrate.h"
#include "sov/repo/db_pq.h"

#include "common.h"

/* The scheduler's queries, copied from compute/placement_repo.c for EXPLAIN and for timing
 * them alone: keep the two in step. */
#define AFFINITY_TAKEN                                                                   \
    "EXISTS (SELECT 1 FROM host_allocations a WHERE a.host_id = h.id"                   \
    " AND a.tenant_id = $8::uuid AND a.anti_affinity_group = $7)"
#define ELIGIBLE                                                                         \
    "h.region = ANY($1::text[]) AND h.state = 'up' AND ($2::text IS NULL OR h.zone = $2)"\
    " AND h.gpus_free >= $6::int AND h.vcpus_free >= $3::int"                            \
    " AND h.memory_mib_free >= $4::bigint AND h.disk_gib_free >= $5::bigint"             \
    " AND ($7::text IS NULL OR NOT " AFFINITY_TAKEN ")"
#define SPREAD "h.placement_weight DESC, h.name"
#define PACK "h.placement_weight, h.name"
#define PICK_COLS "h.id, h.name, h.region, h.zone, r.country, r.jurisdiction, r.datacenter"

#define COUNTS(affinity, join)                                                           \
    "SELECT CASE"                                                                        \
    " WHEN NOT (h.region = ANY($1::text[])) THEN 0"                                      \
    " WHEN h.state <> 'up' THEN 1"                                                       \
    " WHEN $2::text IS NOT NULL AND h.zone <> $2 THEN 2"                                 \
    " WHEN h.gpus_free < $6::int THEN 3"                                                 \
    " WHEN h.vcpus_free < $3::int OR h.memory_mib_free < $4::bigint"                     \
    " OR h.disk_gib_free < $5::bigint THEN 4" affinity                                   \
    " ELSE 6 END AS bucket, count(*) FROM hosts h" join " GROUP BY 1"

static const char SQL_COUNTS[] = COUNTS("", "");
static const char SQL_COUNTS_GROUP[] =
    COUNTS(" WHEN g.host_id IS NOT NULL THEN 5",
           " LEFT JOIN (SELECT DISTINCT a.host_id FROM host_allocations a"
           " WHERE a.tenant_id = $8::uuid AND a.anti_affinity_group = $7) g"
           " ON g.host_id = h.id");
#define PEEK(order)                                                                      \
    "SELECT " PICK_COLS " FROM (SELECT h.id, h.name, h.region, h.zone FROM hosts h"      \
    " WHERE " ELIGIBLE " ORDER BY " order " LIMIT 1) h JOIN regions r ON r.code = h.region"
static const char SQL_PEEK_SPREAD[] = PEEK(SPREAD);
static const char SQL_PEEK_PACK[] = PEEK(PACK);
static const char SQL_CLAIM_SPREAD[] =
    "WITH pick AS (SELECT h.id FROM hosts h WHERE " ELIGIBLE " ORDER BY " SPREAD
    " LIMIT 1 FOR UPDATE OF h SKIP LOCKED)"
    " UPDATE hosts h SET vcpus_used = h.vcpus_used + $3::int,"
    " memory_mib_used = h.memory_mib_used + $4::bigint,"
    " disk_gib_used = h.disk_gib_used + $5::bigint, gpus_used = h.gpus_used + $6::int"
    " FROM pick, regions r WHERE h.id = pick.id AND r.code = h.region"
    " RETURNING " PICK_COLS;

/* The synthetic world: six EU regions, two EEA, three beyond; three zones each. The
 * default policy (the EU) allows the first six. */
static const struct {
    const char *code, *country;
} regions[] = {
    { "fr-par-1", "FR" }, { "fr-mrs-1", "FR" }, { "de-fra-1", "DE" }, { "nl-ams-1", "NL" },
    { "it-mil-1", "IT" }, { "pl-waw-1", "PL" }, { "no-osl-1", "NO" }, { "is-rey-1", "IS" },
    { "ch-zrh-1", "CH" }, { "gb-lon-1", "GB" }, { "us-nyc-1", "US" },
};
#define NREGIONS (sizeof(regions) / sizeof(regions[0]))
#define EU_REGIONS "{de-fra-1,fr-mrs-1,fr-par-1,it-mil-1,nl-ams-1,pl-waw-1}"

/* Hosts i in [$1, $2): sizes, ratios, states, zones, GPUs and usage all vary with i, the
 * same way on every run. About 15% are not up, 10% have GPUs, usage runs from empty to
 * full. */
static const char SQL_HOSTS[] =
    "INSERT INTO hosts (name, region, zone, libvirt_uri, hypervisor, state, cpus,"
    " cpu_allocation_ratio, memory_mib, ram_allocation_ratio, storage_gib, gpus,"
    " vcpus_used, memory_mib_used, disk_gib_used, gpus_used)"
    " SELECT 'h-' || lpad(i::text, 6, '0'), region, zone,"
    " 'qemu+tls://h-' || i || '.example/system', 'kvm', state, cpus, cr, mem, 1.0, disk,"
    " gpus, floor(cpus * cr * f), floor(mem * f), floor(disk * f), CASE WHEN f > 0.5 THEN"
    " gpus ELSE 0 END FROM (SELECT i,"
    " (ARRAY['fr-par-1','fr-mrs-1','de-fra-1','nl-ams-1','it-mil-1','pl-waw-1','no-osl-1',"
    "'is-rey-1','ch-zrh-1','gb-lon-1','us-nyc-1'])[1 + i % 11] AS region,"
    " (ARRAY['a','b','c'])[1 + (i / 11) % 3] AS zone,"
    " CASE i % 20 WHEN 0 THEN 'down' WHEN 1 THEN 'disabled' WHEN 2 THEN 'draining'"
    " ELSE 'up' END AS state,"
    " (ARRAY[16, 32, 64, 128])[1 + (i / 7) % 4] AS cpus,"
    " (ARRAY[1.0, 2.0, 4.0])[1 + (i / 3) % 3]::numeric(6, 2) AS cr,"
    " (ARRAY[65536, 131072, 262144, 524288])[1 + (i / 5) % 4]::bigint AS mem,"
    " (ARRAY[2000, 4000, 8000])[1 + (i / 13) % 3]::bigint AS disk,"
    " CASE WHEN i % 10 = 4 THEN 4 ELSE 0 END AS gpus,"
    " ((i * 37) % 101) / 100.0 AS f"
    " FROM generate_series($1::int, $2::int - 1) AS i) s";
/* Members of anti-affinity groups g0..g4 on every tenth host. */
static const char SQL_ALLOCS[] =
    "INSERT INTO host_allocations (host_id, tenant_id, resource_type, resource_id, vcpus,"
    " memory_mib, disk_gib, gpus, anti_affinity_group)"
    " SELECT id, $1::uuid, 'instance', name, 1, 1024, 10, 0,"
    " 'g' || (substr(name, 3)::int % 5) FROM hosts"
    " WHERE substr(name, 3)::int BETWEEN $2::int AND $3::int - 1"
    " AND substr(name, 3)::int % 10 = 3";

static sov_db *db;
static sov_ctx ctx;
static char tenant[SOV_UUID_LEN + 1];
/* How to drop the scratch database, also when the bench fails half way. */
static char *admin_url, drop_sql[160];

static void
drop_scratch(void)
{
    PGconn *c;

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
    fprintf(stderr, "bench/placement: %s: %s %s\n", what, err ? err->msg : "",
            err ? err->detail : "");
    drop_scratch();
    exit(1);
}

/* A statement outside the scratch database (create, drop); exits when it fails. */
static void
admin_or_die(const char *url, const char *sql)
{
    if (!bench_admin("bench/placement", url, sql))
        exit(1);
}

/* Sorts v. */
static double
percentile(double *v, size_t n, unsigned pct)
{
    size_t k = (n * pct + 99) / 100;

    qsort(v, n, sizeof(v[0]), bench_cmp_double);
    return v[k > 0 ? k - 1 : 0];
}

/* One statement on c; exits on error. */
static PGresult *
run(sov_dbconn *c, const char *sql, int n, const char *const *params)
{
    sov_error err = SOV_ERROR_INIT;
    PGresult *r = NULL;

    if (sov_db_query(c, sql, n, params, &r, &err) < 0)
        die(sql, &err);
    return r;
}

static void
setup_world(sov_dbconn *c)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned applied = 0;
    PGresult *r;

    if (sov_migrate(c, sov_migrations, sov_migrations_count, &applied, &err) < 0)
        die("migrate", &err);
    for (size_t i = 0; i < NREGIONS; i++) {
        sov_region in, out;
        memset(&in, 0, sizeof(in));
        snprintf(in.code, sizeof(in.code), "%s", regions[i].code);
        snprintf(in.name, sizeof(in.name), "Region %s", regions[i].code);
        snprintf(in.country, sizeof(in.country), "%s", regions[i].country);
        snprintf(in.datacenter, sizeof(in.datacenter), "DC %s", regions[i].code);
        in.nzones = 3;
        snprintf(in.zones[0], sizeof(in.zones[0]), "a");
        snprintf(in.zones[1], sizeof(in.zones[1]), "b");
        snprintf(in.zones[2], sizeof(in.zones[2]), "c");
        if (sov_region_create(&ctx, &in, &out, &err) < 0)
            die("region", &err);
    }
    r = run(c, "INSERT INTO tenants (name) VALUES ('bench') RETURNING id", 0, NULL);
    snprintf(tenant, sizeof(tenant), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

static void
grow_hosts(sov_dbconn *c, unsigned from, unsigned to)
{
    char a[16], b[16];
    const char *hp[] = { a, b }, *ap[] = { tenant, a, b };

    snprintf(a, sizeof(a), "%u", from);
    snprintf(b, sizeof(b), "%u", to);
    PQclear(run(c, SQL_HOSTS, 2, hp));
    PQclear(run(c, SQL_ALLOCS, 3, ap));
    PQclear(run(c, "VACUUM ANALYZE hosts", 0, NULL));
    PQclear(run(c, "VACUUM ANALYZE host_allocations", 0, NULL));
}

/* A fixed-seed generator, so runs compare. */
static unsigned long long rng = 12345;

static unsigned
rnd(unsigned n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned) ((rng >> 33) % n);
}

/* A request like a tenant's: mostly small, sometimes narrowed to a region, zone or
 * country, sometimes in an anti-affinity group, now and then with a GPU. */
static sov_place_request
random_request(void)
{
    static const int vcpus[] = { 1, 2, 4, 8 };
    static const long long mem[] = { 1024, 2048, 4096, 8192, 16384 };
    static const char *const groups[] = { "g0", "g1", "g2", "g3", "g4" };
    static const char *const eu[] = { "fr-par-1", "fr-mrs-1", "de-fra-1", "nl-ams-1" };
    sov_place_request r = { .tenant_id = tenant, .vcpus = vcpus[rnd(4)],
                            .memory_mib = mem[rnd(5)], .disk_gib = 10 + 10 * rnd(5),
                            .gpus = rnd(10) == 0 ? 1 : 0, .resource_type = "instance",
                            .resource_id = "bench" };
    unsigned k = rnd(10);

    if (k == 0)
        r.region = eu[rnd(4)];
    else if (k == 1)
        r.zone = rnd(2) ? "b" : "c";
    else if (k == 2)
        r.country = rnd(2) ? "FR" : "DE";
    if (rnd(4) == 0)
        r.anti_affinity_group = groups[rnd(5)];
    return r;
}

typedef struct figures {
    double dry_p50, dry_p99, claim_p50, claim_p99, count_p50, counts_p50, pick_p50;
    unsigned found, refused;
} figures;

/* The median time of sql with params over n runs. */
static double
time_sql(sov_dbconn *c, const char *sql, int nparams, const char *const *params, double *v,
         unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        double t0 = (bench_now_s() * 1e3);
        PQclear(run(c, sql, nparams, params));
        v[i] = (bench_now_s() * 1e3) - t0;
    }
    return percentile(v, n, 50);
}

static void
measure(unsigned decisions, figures *f)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    /* One placement for every decision: each fills it again. */
    sov_autoptr(sov_placement) p = sov_placement_new();
    double *v = calloc(decisions > 100 ? decisions : 100, sizeof(double));
    /* The default policy's regions, a 2 vCPU / 4 GiB / 20 GiB request. */
    const char *params[] = { EU_REGIONS, NULL, "2", "4096", "20", "0", NULL, tenant };

    if (!v || !p)
        die("out of memory", NULL);
    memset(f, 0, sizeof(*f));
    /* Warm the caches and the connection first. */
    for (unsigned i = 0; i < 20; i++) {
        sov_place_request r = random_request();
        sov_placement_dry_run(&ctx, &r, p, &err);
    }
    for (unsigned i = 0; i < decisions; i++) {
        sov_place_request r = random_request();
        double t0 = (bench_now_s() * 1e3);
        int rc = sov_placement_dry_run(&ctx, &r, p, &err);
        v[i] = (bench_now_s() * 1e3) - t0;
        if (rc < 0 && err.code != SOV_E_CAPACITY && err.code != SOV_E_RESIDENCY)
            die("dry run", &err);
        f->found += rc == 0;
        f->refused += rc < 0;
    }
    f->dry_p99 = percentile(v, decisions, 99);
    f->dry_p50 = percentile(v, decisions, 50);

    if (sov_db_acquire(db, &c, &err) < 0)
        die("acquire", &err);
    for (unsigned i = 0; i < decisions; i++) {
        sov_place_request r = random_request();
        double t0;
        int rc;

        PQclear(run(c, "BEGIN", 0, NULL));
        t0 = (bench_now_s() * 1e3);
        rc = sov_placement_claim(c, &ctx, &r, p, &err);
        v[i] = (bench_now_s() * 1e3) - t0;
        if (rc < 0 && err.code != SOV_E_CAPACITY && err.code != SOV_E_RESIDENCY)
            die("claim", &err);
        PQclear(run(c, "ROLLBACK", 0, NULL));
    }
    f->claim_p99 = percentile(v, decisions, 99);
    f->claim_p50 = percentile(v, decisions, 50);

    f->count_p50 = time_sql(c, "SELECT count(*) FROM hosts", 0, NULL, v, 100);
    f->counts_p50 = time_sql(c, SQL_COUNTS, 6, params, v, 100);
    f->pick_p50 = time_sql(c, strcmp(ctx.cfg->placement_strategy, "pack") == 0
                                  ? SQL_PEEK_PACK : SQL_PEEK_SPREAD,
                           8, params, v, 100);
    free(v);
}

/* The plan of sql for a 2 vCPU / 4 GiB / 20 GiB request under the default policy, in
 * group g1 when nparams is 8 (a statement that changes rows is rolled back). */
static void
explain(const char *title, const char *sql, int nparams, bool rollback)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    const char *params[] = { EU_REGIONS, NULL, "2", "4096", "20", "0", "g1", tenant };
    char *text = NULL;
    PGresult *r;

    if (sov_db_acquire(db, &c, &err) < 0)
        die("acquire", &err);
    if (asprintf(&text, "EXPLAIN (ANALYZE, BUFFERS) %s", sql) < 0)
        die("out of memory", NULL);
    if (rollback)
        PQclear(run(c, "BEGIN", 0, NULL));
    r = run(c, text, nparams, params);
    printf("\n-- %s (default policy, 2 vCPU / 4096 MiB / 20 GiB%s)\n", title,
           nparams == 8 ? ", group g1" : "");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%s\n", PQgetvalue(r, i, 0));
    PQclear(r);
    if (rollback)
        PQclear(run(c, "ROLLBACK", 0, NULL));
    free(text);
}

typedef struct options {
    const unsigned *sizes;
    size_t nsizes;
    unsigned decisions;
    const char *url;
    bool keep, pack;
} options;

static void
parse_args(int argc, char **argv, options *o)
{
    static const unsigned full[] = { 100, 1000, 10000 }, quick[] = { 100, 1000 };

    *o = (options) { full, 3, 500, getenv("SOV_BENCH_DATABASE_URL"), false, false };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            o->sizes = quick;
            o->nsizes = 2;
        } else if (strcmp(argv[i], "--keep") == 0) {
            o->keep = true;
        } else if (strcmp(argv[i], "--pack") == 0) {
            o->pack = true;
        } else if (strcmp(argv[i], "--decisions") == 0 && i + 1 < argc) {
            char *end = NULL;
            unsigned long n = strtoul(argv[++i], &end, 10);
            if (!*argv[i] || *end || n < 10 || n > 1000000) {
                fprintf(stderr, "bench/placement: --decisions takes 10 to 1000000\n");
                exit(2);
            }
            o->decisions = (unsigned) n;
        } else if (argv[i][0] != '-') {
            o->url = argv[i];
        } else {
            fprintf(stderr, "usage: %s [--quick] [--pack] [--keep] [--decisions N] "
                            "[CONNINFO]\n",
                    argv[0]);
            exit(2);
        }
    }
    if (!o->url || !*o->url) {
        fprintf(stderr, "bench/placement: give a connection string (argument or "
                        "SOV_BENCH_DATABASE_URL)\n");
        exit(2);
    }
}

static void
print_table(const options *o, const figures *f)
{
    const figures *last = &f[o->nsizes - 1];

    printf("\n%8s | %-17s | %-17s | %-26s | %s\n", "", "dry run (ms)", "claim (ms)",
           "its queries alone (ms)", "reference (ms)");
    printf("%8s | %8s %8s | %8s %8s | %12s %13s | %s\n", "hosts", "median", "p99", "median",
           "p99", "counts p50", "pick p50", "count(*) p50");
    for (size_t s = 0; s < o->nsizes; s++)
        printf("%8u | %8.3f %8.3f | %8.3f %8.3f | %12.3f %13.3f | %12.3f\n", o->sizes[s],
               f[s].dry_p50, f[s].dry_p99, f[s].claim_p50, f[s].claim_p99, f[s].counts_p50,
               f[s].pick_p50, f[s].count_p50);
    printf("\n(at the largest size %u dry runs placed and %u were refused; claims run in a "
           "transaction that is rolled back, so no COMMIT is in their figure)\n",
           last->found, last->refused);
    printf("median at %u hosts: %.3f ms dry run, %.3f ms claim; a bare count(*) takes "
           "%.3f ms\n",
           o->sizes[o->nsizes - 1], last->dry_p50, last->claim_p50, last->count_p50);
}

/* The scratch database, migrated and holding the regions and the tenant; ctx set up. */
static void
open_scratch(const char *bench_url, bool pack, sov_config *cfg)
{
    sov_error err = SOV_ERROR_INIT;
    char *argv0[] = { "sovd", pack ? "--placement-strategy=pack" : NULL, NULL };
    char *envp[] = { NULL };
    FILE *out = fopen("/dev/null", "w");
    sov_db_options o = { .url = bench_url, .pool_size = 2, .connect_timeout = 10,
                         .acquire_timeout_ms = 10000, .statement_timeout_ms = 0 };
    sov_autoptr(sov_dbconn) c = NULL;

    /* The configuration sovd would run with by default (spread), or pack. */
    if (!out || sov_config_load(cfg, pack ? 2 : 1, argv0, envp, out, &err) != 0)
        die("config", &err);
    fclose(out);
    if (sov_db_new(&o, &db, &err) < 0)
        die("pool", &err);
    ctx = (sov_ctx) { .db = db, .cfg = cfg, .request_id = "", .source = "" };
    if (sov_db_acquire(db, &c, &err) < 0)
        die("connect", &err);
    setup_world(c);
}

int
main(int argc, char **argv)
{
    options o;
    unsigned have = 0;
    char name[64], create[128], *bench_url;
    sov_error err = SOV_ERROR_INIT;
    sov_config cfg;
    figures f[3];

    parse_args(argc, argv, &o);
    sov_log_set_level(SOV_LOG_WARN);
    snprintf(name, sizeof(name), "sov_bench_placement_%d", (int) getpid());
    snprintf(create, sizeof(create), "CREATE DATABASE %s", name);
    admin_url = bench_with_dbname("bench/placement", o.url, "postgres");
    bench_url = bench_with_dbname("bench/placement", o.url, name);
    admin_or_die(admin_url, create);
    snprintf(drop_sql, sizeof(drop_sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    open_scratch(bench_url, o.pack, &cfg);

    printf("bench/placement: %u decisions per size, %zu regions (6 EU), strategy %s\n",
           o.decisions, NREGIONS, cfg.placement_strategy);
    for (size_t s = 0; s < o.nsizes; s++) {
        sov_dbconn *c = NULL;
        if (sov_db_acquire(db, &c, &err) < 0)
            die("connect", &err);
        grow_hosts(c, have, o.sizes[s]);
        sov_db_release(c);
        have = o.sizes[s];
        measure(o.decisions, &f[s]);
    }
    print_table(&o, f);

    printf("\n==== EXPLAIN at %u hosts ====\n", have);
    explain("counts: how many hosts each filter rejects", SQL_COUNTS, 6, false);
    explain("counts, with an anti-affinity group", SQL_COUNTS_GROUP, 8, false);
    explain("pick (dry run, spread)", SQL_PEEK_SPREAD, 8, false);
    explain("pick (dry run, pack)", SQL_PEEK_PACK, 8, false);
    explain("claim (spread, rolled back)", SQL_CLAIM_SPREAD, 8, true);

    sov_db_free(db);
    sov_config_release(&cfg);
    if (o.keep)
        printf("\nkept database %s\n", name);
    else
        admin_or_die(admin_url, drop_sql);
    free(admin_url);
    free(bench_url);
    return 0;
}
