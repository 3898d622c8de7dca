/* The keystore against a real PostgreSQL: data keys wrapped by a tenant's KEK round-trip and
 * live where the keystore is (keystore_region, else the first host's region); tenants' KEKs
 * differ and one tenant's KEK never unwraps another's keys (nor opens in another's row); a
 * master key file others may read, or another master key, is refused with nothing written;
 * racing first uses make one KEK; a destroyed KEK (crypto-shredding) refuses new keys and
 * unwraps with the reason and the date; volume secrets: a plain volume defines nothing, an
 * encrypted one defines one secret named by its id (the tenant's own KEK only), and a
 * shredded one is refused before its host is asked; on a real libvirtd the secret is
 * ephemeral and private (its value never read back) and gone once closed. Through a real
 * sovd: DELETE /v1/tenants/{id}/kek is the operator's alone (403 for the tenant's own roles,
 * 404 for others), 204 and audited as tenants.kek-destroy, 404 naming why the second time;
 * and neither answers nor sovd's log carry key material. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "sov/crypto.h"
#include "sov/migrate.h"
#include "storage_int.h"
#include "testlib.h"

static char *url;
static char *tmp;
static sov_db *db;
static PGconn *pg;
static sov_config cfg;
static sov_ctx ctx;
static char tenant_a[SOV_UUID_LEN + 1], tenant_b[SOV_UUID_LEN + 1];
static char master_path[600];

/* ---- helpers ---- */

static void
open_pool(const char *u, unsigned size, sov_db **ret)
{
    sov_error err = SOV_ERROR_INIT;
    sov_db_options o = { .url = u, .pool_size = size, .connect_timeout = 5,
                         .acquire_timeout_ms = 30000, .statement_timeout_ms = 60000 };

    ck_assert_msg(sov_db_new(&o, ret, &err) == 0, "%s", err.msg);
}

/* sovd's configuration with extra flags (NULL-terminated). */
static void
load_config(sov_config *c, const char *const *flags)
{
    char *argv[16] = { "sovd" };
    char *envp[] = { NULL };
    sov_error err = SOV_ERROR_INIT;
    FILE *out = fopen("/dev/null", "w");
    int n = 1;

    for (size_t i = 0; flags && flags[i] && n < 15; i++)
        argv[n++] = (char *) flags[i];
    argv[n] = NULL;
    ck_assert(out);
    ck_assert_msg(sov_config_load(c, n, argv, envp, out, &err) == 0, "%s", err.msg);
    fclose(out);
}

/* SQL on the test's own connection; the first value into ret (size) unless NULL. */
#define sql(...) tl_pg_sql(pg, __VA_ARGS__)

static long long __attribute__((format(printf, 1, 2)))
sql_num(const char *fmt, ...)
{
    char *text = NULL, v[64];
    va_list ap;

    va_start(ap, fmt);
    ck_assert(vasprintf(&text, fmt, ap) > 0);
    va_end(ap);
    sql(v, sizeof(v), "%s", text);
    free(text);
    return strtoll(v, NULL, 10);
}

static void
make_tenant(const char *name, char *ret_id)
{
    sql(ret_id, SOV_UUID_LEN + 1, "INSERT INTO tenants (name) VALUES ('%s') RETURNING id", name);
}

static void
make_region(const char *code, const char *country)
{
    sql(NULL, 0, "INSERT INTO regions (code, name, country, jurisdiction, datacenter) VALUES"
        " ('%s', 'Region %s', '%s', 'EU', 'dc-%s')", code, code, country, code);
    sql(NULL, 0, "INSERT INTO zones (region, name) VALUES ('%s', 'a')", code);
}

static void
make_host(const char *name, const char *region)
{
    sql(NULL, 0, "INSERT INTO hosts (name, region, zone, libvirt_uri, hypervisor, cpus,"
        " memory_mib, storage_gib) VALUES ('%s', '%s', 'a', 'test:///default', 'test', 4,"
        " 4096, 100)", name, region);
}

typedef struct key_args {
    const sov_config *cfg;
    const char *tenant_id;
    sov_wrapped_key *ret;
} key_args;

static int
new_key_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    key_args *a = arg;
    return sov_keystore_new_key(c, a->cfg, a->tenant_id, a->ret, err);
}

/* A new data key for tenant_id in a transaction of its own on d, as a volume create makes
 * one. */
static int
new_key_on(sov_db *d, const sov_config *c, const char *tenant_id, sov_wrapped_key *ret,
           sov_error *err)
{
    key_args a = { c, tenant_id, ret };
    return sov_db_tx(d, new_key_tx, &a, err);
}

static void
new_key_ok(const char *tenant_id, sov_wrapped_key *ret)
{
    sov_error err = SOV_ERROR_INIT;
    ck_assert_msg(new_key_on(db, &cfg, tenant_id, ret, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
}

static int
unwrap_with(const sov_config *c, const char *tenant_id, const sov_wrapped_key *wk,
            unsigned char key[SOV_KEY_LEN], sov_error *err)
{
    sov_autoptr(sov_dbconn) conn = NULL;

    if (sov_db_acquire(db, &conn, err) < 0)
        return -1;
    return sov_keystore_unwrap(conn, c, tenant_id, wk->bytes, wk->len, key, err);
}

static int
unwrap(const char *tenant_id, const sov_wrapped_key *wk, unsigned char key[SOV_KEY_LEN],
       sov_error *err)
{
    return unwrap_with(&cfg, tenant_id, wk, key, err);
}

/* The tenant's KEK in the clear, opened the way the keystore opens it. */
static void
kek_of(const char *tenant_id, unsigned char kek[SOV_KEY_LEN])
{
    sov_error err = SOV_ERROR_INIT;
    unsigned char master[SOV_KEY_LEN];
    char id[SOV_MASTER_KEY_ID_LEN + 1];
    sov_autoptr(sov_dbconn) c = NULL;
    sov_kek_row row;

    ck_assert_msg(sov_keystore_master_load(master_path, master, id, &err) == 0, "%s", err.msg);
    ck_assert_msg(sov_db_acquire(db, &c, &err) == 0, "%s", err.msg);
    ck_assert_msg(sov_repo_kek_get(c, tenant_id, false, &row, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(row.master_key_id, id);
    ck_assert_msg(sov_keystore_unseal(master, tenant_id, row.sealed, row.len, kek, &err) == 0,
                  "%s", err.msg);
}

static bool
all_zero(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* Whether text holds a run of at least n hex digits (a key, sealed or wrapped bytes in hex). */
static bool
has_hex_run(const char *text, unsigned n)
{
    unsigned run = 0;

    for (const char *p = text; p && *p; p++) {
        bool hex = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                   (*p >= 'A' && *p <= 'F');
        run = hex ? run + 1 : 0;
        if (run >= n)
            return true;
    }
    return false;
}

/* ---- fixture ---- */

static void
setup(void)
{
    sov_error err = SOV_ERROR_INIT;
    sov_dbconn *c = NULL;
    unsigned applied = 0;
    char flag[700];
    const char *flags[] = { flag, NULL };

    url = tl_db_create();
    tmp = tl_tmpdir();
    open_pool(url, 4, &db);
    ck_assert_msg(sov_db_acquire(db, &c, &err) == 0, "%s", err.msg);
    ck_assert_msg(sov_migrate(c, sov_migrations, sov_migrations_count, &applied, &err) == 0,
                  "%s", err.msg);
    sov_db_release(c);
    pg = PQconnectdb(url);
    ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "%s", PQerrorMessage(pg));
    sov_db_quiet(pg);
    snprintf(flag, sizeof(flag), "--state-dir=%s/state", tmp);
    load_config(&cfg, flags);
    snprintf(master_path, sizeof(master_path), "%s/state/keystore/master.key", tmp);
    ck_assert_str_eq(cfg.keystore_master_key, master_path);
    ck_assert_str_eq(cfg.keystore_region, "");
    memset(&ctx, 0, sizeof(ctx));
    ctx.db = db;
    ctx.cfg = &cfg;
    ctx.request_id = "";
    ctx.source = "";
    ctx.action = "tenants.kek-destroy";
    make_tenant("acme", tenant_a);
    make_tenant("beta", tenant_b);
}

static void
teardown(void)
{
    PQfinish(pg);
    sov_db_free(db);
    sov_config_release(&cfg);
    tl_db_drop(url);
    free(url);
    tl_tmpdir_remove(tmp);
    free(tmp);
}

/* ---- keys ---- */

START_TEST(a_new_key_unwraps_to_32_bytes_and_lives_where_the_keystore_is)
{
    sov_error err = SOV_ERROR_INIT;
    sov_wrapped_key k1, k2;
    unsigned char key1[SOV_KEY_LEN], key2[SOV_KEY_LEN];
    char hex[SOV_SHA256_HEX_LEN + 1], id[64], file[SOV_KEY_LEN];
    struct stat st;

    /* No region anywhere: the keystore has no place, nothing is made. */
    ck_assert_int_eq(new_key_on(db, &cfg, tenant_a, &k1, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_msg(strstr(err.msg, "keystore has no region"), "%s", err.msg);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM tenant_keks"), 0);

    /* The first region created, then a host in the second: the host's region wins. */
    make_region("fr-par-1", "FR");
    make_region("de-fra-1", "DE");
    make_host("h1", "de-fra-1");
    new_key_ok(tenant_a, &k1);
    ck_assert_uint_eq(k1.len, 40);
    ck_assert_str_eq(k1.region, "de-fra-1");
    ck_assert_str_eq(k1.country, "DE");
    ck_assert_msg(unwrap(tenant_a, &k1, key1, &err) == 0, "%s", err.msg);
    ck_assert(!all_zero(key1, sizeof(key1)));

    /* Each volume has a key of its own, under the same KEK. */
    new_key_ok(tenant_a, &k2);
    ck_assert(memcmp(k1.bytes, k2.bytes, k1.len) != 0);
    ck_assert_msg(unwrap(tenant_a, &k2, key2, &err) == 0, "%s", err.msg);
    ck_assert(memcmp(key1, key2, sizeof(key1)) != 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM tenant_keks"), 1);

    /* The row: 60 sealed bytes, the master key's id, the keystore's place. */
    ck_assert_int_eq(sql_num("SELECT octet_length(wrapped) FROM tenant_keks WHERE tenant_id ="
                             " '%s'", tenant_a), SOV_KEK_SEALED_LEN);
    FILE *f = fopen(master_path, "rb");
    ck_assert(f);
    ck_assert_uint_eq(fread(file, 1, sizeof(file), f), sizeof(file));
    fclose(f);
    sov_sha256_hex(file, sizeof(file), hex);
    sql(id, sizeof(id), "SELECT master_key_id || ' ' || region || ' ' || country FROM "
        "tenant_keks WHERE tenant_id = '%s'", tenant_a);
    ck_assert(strncmp(id, hex, 16) == 0);
    ck_assert_str_eq(id + 16, " de-fra-1 DE");
    ck_assert_int_eq(stat(master_path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    /* A process that has held keys writes no core dump. */
    ck_assert_int_eq(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}
END_TEST

START_TEST(keystore_region_names_the_place_and_an_unknown_one_is_refused)
{
    sov_error err = SOV_ERROR_INIT;
    sov_config named, unknown;
    char flag[700];
    const char *f1[] = { flag, "--keystore-region=fr-par-1", NULL };
    const char *f2[] = { flag, "--keystore-region=xx-nowhere-1", NULL };
    sov_wrapped_key k;

    make_region("fr-par-1", "FR");
    make_region("de-fra-1", "DE");
    make_host("h1", "de-fra-1");
    snprintf(flag, sizeof(flag), "--state-dir=%s/state", tmp);
    load_config(&named, f1);
    load_config(&unknown, f2);
    ck_assert_int_eq(new_key_on(db, &unknown, tenant_b, &k, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_msg(strstr(err.detail, "xx-nowhere-1"), "%s", err.detail);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM tenant_keks"), 0);
    ck_assert_msg(new_key_on(db, &named, tenant_a, &k, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(k.region, "fr-par-1");
    ck_assert_str_eq(k.country, "FR");
    sov_config_release(&named);
    sov_config_release(&unknown);
}
END_TEST

START_TEST(tenants_have_different_keks_and_neither_unwraps_the_others_keys)
{
    sov_error err = SOV_ERROR_INIT;
    sov_wrapped_key ka, kb;
    unsigned char kek_a[SOV_KEY_LEN], kek_b[SOV_KEY_LEN], key[SOV_KEY_LEN];

    make_region("fr-par-1", "FR");
    new_key_ok(tenant_a, &ka);
    new_key_ok(tenant_b, &kb);
    kek_of(tenant_a, kek_a);
    kek_of(tenant_b, kek_b);
    ck_assert(memcmp(kek_a, kek_b, SOV_KEY_LEN) != 0);
    ck_assert_int_eq(sql_num("SELECT count(DISTINCT wrapped) FROM tenant_keks"), 2);

    /* b's KEK on a's key: the key wrap's integrity check refuses it, nothing comes out. */
    memset(key, 0, sizeof(key));
    ck_assert_int_eq(unwrap(tenant_b, &ka, key, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_str_eq(err.msg, "could not unwrap the volume's key");
    ck_assert_str_eq(err.detail, "");
    ck_assert(all_zero(key, sizeof(key)));
    ck_assert_int_eq(unwrap(tenant_a, &kb, key, &err), -1);

    /* a's sealed KEK copied into b's row does not open there: it is bound to its tenant. */
    sql(NULL, 0, "UPDATE tenant_keks SET wrapped = (SELECT wrapped FROM tenant_keks WHERE"
        " tenant_id = '%s') WHERE tenant_id = '%s'", tenant_a, tenant_b);
    ck_assert_int_eq(unwrap(tenant_b, &ka, key, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_msg(strstr(err.msg, "could not open the key-encryption key"), "%s", err.msg);
    ck_assert(all_zero(key, sizeof(key)));
    /* A tenant that never had a KEK unwraps nothing either. */
    char c_id[SOV_UUID_LEN + 1];
    make_tenant("gamma", c_id);
    ck_assert_int_eq(unwrap(c_id, &ka, key, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM tenant_keks WHERE tenant_id = '%s'", c_id),
                     0);
}
END_TEST

START_TEST(a_master_key_others_may_read_or_another_master_key_is_refused)
{
    sov_error err = SOV_ERROR_INIT;
    sov_wrapped_key k;
    unsigned char key[SOV_KEY_LEN];
    sov_config other;
    char f1[700], f2[700];
    const char *flags[] = { f1, f2, NULL };

    make_region("fr-par-1", "FR");
    new_key_ok(tenant_a, &k);
    ck_assert_int_eq(chmod(master_path, 0644), 0);
    ck_assert_int_eq(new_key_on(db, &cfg, tenant_b, &k, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_msg(strstr(err.msg, "may be read by others") && strstr(err.msg, "0600"), "%s",
                  err.msg);
    ck_assert_int_eq(unwrap(tenant_a, &k, key, &err), -1);
    ck_assert_msg(strstr(err.msg, "may be read by others"), "%s", err.msg);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM tenant_keks WHERE tenant_id = '%s'",
                             tenant_b), 0);
    ck_assert_int_eq(chmod(master_path, 0600), 0);
    ck_assert_msg(unwrap(tenant_a, &k, key, &err) == 0, "%s", err.msg);

    /* A sovd with a master key of its own cannot open this keystore's KEKs, and says why
     * to the operator (the ids of both keys), never with key bytes. */
    snprintf(f1, sizeof(f1), "--state-dir=%s/state", tmp);
    snprintf(f2, sizeof(f2), "--keystore-master-key=%s/other/master.key", tmp);
    load_config(&other, flags);
    memset(key, 0, sizeof(key));
    ck_assert_int_eq(unwrap_with(&other, tenant_a, &k, key, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_msg(strstr(err.msg, "master key is not the one"), "%s", err.msg);
    ck_assert_msg(strstr(err.detail, "same master key file"), "%s", err.detail);
    ck_assert(!has_hex_run(err.detail, 17));
    ck_assert(all_zero(key, sizeof(key)));
    sov_config_release(&other);
}
END_TEST

#define RACERS 12

typedef struct racer {
    pthread_barrier_t *go;
    int rc;
    sov_error err;
    sov_wrapped_key k;
} racer;

/* One first use on a pool of its own, fired when every racer holds a live connection. */
static void *
race(void *arg)
{
    racer *me = arg;
    sov_db *mine = NULL;
    sov_dbconn *warm = NULL;
    sov_db_options o = { .url = url, .pool_size = 1, .connect_timeout = 5,
                         .acquire_timeout_ms = 30000, .statement_timeout_ms = 60000 };

    me->rc = -1;
    if (sov_db_new(&o, &mine, &me->err) == 0 && sov_db_acquire(mine, &warm, &me->err) == 0) {
        sov_db_release(warm);
        pthread_barrier_wait(me->go);
        me->rc = new_key_on(mine, &cfg, tenant_a, &me->k, &me->err);
    } else {
        pthread_barrier_wait(me->go);
    }
    sov_db_free(mine);
    return NULL;
}

START_TEST(racing_first_uses_make_one_kek)
{
    sov_error err = SOV_ERROR_INIT;
    pthread_barrier_t go;
    pthread_t t[RACERS];
    racer r[RACERS];
    unsigned char key[SOV_KEY_LEN];

    make_region("fr-par-1", "FR");
    pthread_barrier_init(&go, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].go = &go;
        ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < RACERS; i++)
        ck_assert_msg(r[i].rc == 0, "racer %d: %s (%s)", i, r[i].err.msg, r[i].err.detail);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM tenant_keks"), 1);
    /* Every racer wrapped its key with the one KEK that stayed. */
    for (int i = 0; i < RACERS; i++)
        ck_assert_msg(unwrap(tenant_a, &r[i].k, key, &err) == 0, "racer %d: %s", i, err.msg);
}
END_TEST

START_TEST(a_destroyed_kek_refuses_new_keys_and_unwraps_with_the_reason)
{
    sov_error err = SOV_ERROR_INIT;
    sov_wrapped_key k;
    unsigned char key[SOV_KEY_LEN];
    char today[16], want[128], unknown[] = "00000000-0000-4000-8000-000000000001";

    make_region("fr-par-1", "FR");
    new_key_ok(tenant_a, &k);
    ck_assert_msg(sov_tenant_kek_destroy(&ctx, tenant_a, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM tenant_keks WHERE tenant_id = '%s' AND"
                             " wrapped IS NULL AND destroyed_at IS NOT NULL", tenant_a), 1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'tenants.kek-destroy' AND resource_type = 'kek' AND"
                             " resource_id = '%s' AND tenant_id = '%s' AND outcome = 204",
                             tenant_a, tenant_a), 1);
    sql(today, sizeof(today), "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')");
    snprintf(want, sizeof(want), "the tenant's key-encryption key was destroyed on %s: its "
             "encrypted volumes cannot be read", today);

    memset(key, 0, sizeof(key));
    ck_assert_int_eq(unwrap(tenant_a, &k, key, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_str_eq(err.msg, want);
    ck_assert(all_zero(key, sizeof(key)));
    ck_assert_int_eq(new_key_on(db, &cfg, tenant_a, &k, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_str_eq(err.msg, want);
    /* The destroyed row stays: no new KEK silently replaces it. */
    ck_assert_int_eq(sql_num("SELECT count(*) FROM tenant_keks WHERE tenant_id = '%s'",
                             tenant_a), 1);

    /* Again, a tenant without one, one that does not exist: 404s saying which. */
    ck_assert_int_eq(sov_tenant_kek_destroy(&ctx, tenant_a, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_msg(strstr(err.msg, "already destroyed on"), "%s", err.msg);
    ck_assert_int_eq(sov_tenant_kek_destroy(&ctx, tenant_b, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_msg(strstr(err.msg, "'beta' has no key-encryption key"), "%s", err.msg);
    ck_assert_int_eq(sov_tenant_kek_destroy(&ctx, unknown, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_msg(strstr(err.msg, "does not exist"), "%s", err.msg);
    ck_assert_int_eq(sov_tenant_kek_destroy(&ctx, "not-a-uuid", &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'tenants.kek-destroy'"), 1);
}
END_TEST

/* ---- volume secrets ---- */

static void
make_volume(const char *id, const char *tenant_id, const sov_wrapped_key *k)
{
    char hex[3 + 2 * SOV_WRAPPED_KEY_MAX] = "";

    if (k) {
        hex[0] = '\\';
        hex[1] = 'x';
        sov_hex_encode(k->bytes, k->len, hex + 2);
    }
    sql(NULL, 0, "INSERT INTO volumes (id, tenant_id, name, size_gib, state, region, zone,"
        " pool, volume, encrypted, wrapped_key, key_region, key_country) VALUES ('%s', '%s',"
        " 'v-%.8s', 1, 'available', 'fr-par-1', 'a', 'sovereign', 'sov-vol-%s', %s, %s%s%s,"
        " %s%s%s, %s%s%s)", id, tenant_id, id, id, k ? "true" : "false", k ? "'" : "",
        k ? hex : "NULL", k ? "'" : "", k ? "'" : "", k ? k->region : "NULL", k ? "'" : "",
        k ? "'" : "", k ? k->country : "NULL", k ? "'" : "");
}

START_TEST(volume_secrets_are_defined_only_for_live_encrypted_keys)
{
    static const char plain[] = "aaaaaaaa-0000-4000-8000-000000000001";
    static const char sealed[] = "aaaaaaaa-0000-4000-8000-000000000002";
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_hv) hv = NULL;
    sov_autoptr(sov_dbconn) c = NULL;
    sov_wrapped_key k, back;
    char uuid[SOV_UUID_LEN + 1];

    make_region("fr-par-1", "FR");
    new_key_ok(tenant_a, &k);
    make_volume(plain, tenant_a, NULL);
    make_volume(sealed, tenant_a, &k);
    ck_assert_msg(sov_hv_register_libvirt(&err) == 0, "%s", err.msg);
    ck_assert_msg(sov_hv_open("test:///default", &hv, &err) == 0, "%s", err.msg);

    /* The wrapped key as stored, and where it lives. */
    ck_assert_msg(sov_db_acquire(db, &c, &err) == 0, "%s", err.msg);
    ck_assert_msg(sov_repo_wrapped_key(c, "volumes", sealed, &back, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(back.len, k.len);
    ck_assert(memcmp(back.bytes, k.bytes, k.len) == 0);
    ck_assert_str_eq(back.region, "fr-par-1");
    ck_assert_str_eq(back.country, "FR");
    ck_assert_msg(sov_repo_wrapped_key(c, "volumes", plain, &back, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(back.len, 0);
    ck_assert_int_eq(sov_repo_wrapped_key(c, "instances", plain, &back, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    sov_db_release(SOV_TAKE_PTR(c));

    /* Plain: nothing to define. */
    memset(uuid, 'x', sizeof(uuid));
    ck_assert_msg(sov_storage_secret_open(&ctx, hv, "volumes", plain, tenant_a, uuid, &err) ==
                  0, "%s", err.msg);
    ck_assert_str_eq(uuid, "");
    sov_storage_secret_close(hv, uuid);
    ck_assert_int_eq(sov_storage_secret_open(&ctx, hv, "volumes",
                                             "aaaaaaaa-0000-4000-8000-00000000000f", tenant_a,
                                             uuid, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);

    /* Encrypted: a secret named by the volume's id, its usage the file's path on the host,
     * defined again by a second open, gone after the close. Another tenant gets nothing. */
    sov_hv_node node;
    char pool_dir[700], want[800], **names = NULL;
    size_t n = 0;
    snprintf(pool_dir, sizeof(pool_dir), "%s/pool", tmp);
    ck_assert_msg(sov_hv_discover(hv, "sovereign", pool_dir, &node, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(sov_storage_secret_open(&ctx, hv, "volumes", sealed, tenant_b, uuid, &err),
                     -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_msg(sov_storage_secret_open(&ctx, hv, "volumes", sealed, tenant_a, uuid, &err) ==
                  0, "%s (%s)", err.msg, err.detail);
    ck_assert_str_eq(uuid, sealed);
    ck_assert_msg(sov_storage_secret_open(&ctx, hv, "volumes", sealed, tenant_a, uuid, &err) ==
                  0, "%s (%s)", err.msg, err.detail);
    ck_assert_str_eq(uuid, sealed);
    ck_assert_int_eq(sov_hv_pool_path(hv, "sovereign", pool_dir, sizeof(pool_dir), &err), 0);
    snprintf(want, sizeof(want), "%s/sov-vol-%s", pool_dir, sealed);
    ck_assert_int_eq(sov_hv_secret_list(hv, want, &names, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(names[0], sealed);
    sov_hv_names_free(names, n);
    sov_storage_secret_close(hv, uuid);
    ck_assert_int_eq(sov_hv_secret_list(hv, pool_dir, &names, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    sov_hv_names_free(names, n);

    /* Shredded: refused with the reason before the host is asked. */
    ck_assert_msg(sov_tenant_kek_destroy(&ctx, tenant_a, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(sov_storage_secret_open(&ctx, hv, "volumes", sealed, tenant_a, uuid, &err),
                     -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_msg(strstr(err.msg, "key-encryption key was destroyed"), "%s", err.msg);
}
END_TEST

/* On a real libvirtd (a private one): the secret is ephemeral and private, its value never
 * read back, its usage the volume's path; the close leaves none. */
START_TEST(a_real_libvirtd_holds_the_secret_privately_and_only_until_closed)
{
    static const char vol[] = "bbbbbbbb-0000-4000-8000-000000000001";
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_hv) hv = NULL;
    tl_libvirtd lvd;
    sov_wrapped_key k;
    sov_hv_node node;
    char uuid[SOV_UUID_LEN + 1], pool_dir[700], *out = NULL;
    int rc;

    make_region("fr-par-1", "FR");
    new_key_ok(tenant_a, &k);
    make_volume(vol, tenant_a, &k);
    ck_assert_msg(sov_hv_register_libvirt(&err) == 0, "%s", err.msg);
    tl_libvirtd_start(&lvd);
    ck_assert_msg(sov_hv_open(lvd.uri, &hv, &err) == 0, "%s", err.msg);
    snprintf(pool_dir, sizeof(pool_dir), "%s/pool", lvd.dir);
    ck_assert_msg(sov_hv_discover(hv, "sovereign", pool_dir, &node, &err) == 0, "%s", err.msg);
    ck_assert_msg(sov_storage_secret_open(&ctx, hv, "volumes", vol, tenant_a, uuid, &err) == 0,
                  "%s (%s)", err.msg, err.detail);
    ck_assert_str_eq(uuid, vol);

    rc = tl_virsh(lvd.uri, &out, "secret-dumpxml %s", vol);
    ck_assert_msg(rc == 0, "%s", out);
    ck_assert_msg(strstr(out, "ephemeral='yes'") || strstr(out, "ephemeral=\"yes\""), "%s",
                  out);
    ck_assert_msg(strstr(out, "private='yes'") || strstr(out, "private=\"yes\""), "%s", out);
    ck_assert_msg(strstr(out, "/sov-vol-") && strstr(out, vol), "%s", out);
    free(out);
    rc = tl_virsh(lvd.uri, &out, "secret-get-value %s", vol);
    ck_assert_msg(rc != 0, "a private secret's value was read back: %s", out);
    free(out);

    sov_storage_secret_close(hv, uuid);
    rc = tl_virsh(lvd.uri, &out, "secret-list");
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(!strstr(out, vol), "%s", out);
    free(out);
    sov_hv_close(SOV_TAKE_PTR(hv));
    tl_libvirtd_discard(&lvd);
}
END_TEST

/* ---- the route, through a real sovd ---- */

START_TEST(kek_destroy_route_is_the_operators_alone_audited_and_leaks_nothing)
{
    sov_error err = SOV_ERROR_INIT;
    tl_sovd s;
    tl_tenant acme, beta;
    char *op, path[160], flag[700], *log, *leak;
    const char *flags[] = { flag, NULL };
    sov_config sc;
    sov_db *sdb = NULL;
    sov_wrapped_key k;
    unsigned char master[SOV_KEY_LEN], kek[SOV_KEY_LEN], key[SOV_KEY_LEN];
    char mid[SOV_MASTER_KEY_ID_LEN + 1], hexes[4][2 * SOV_WRAPPED_KEY_MAX + 1];
    tl_resp r;

    tl_sovd_start(&s, url, NULL);
    op = tl_operator_token(&s);
    tl_tenant_make(&s, op, "kacme", &acme);
    tl_tenant_make(&s, op, "kbeta", &beta);
    json_decref(tl_call_ok(&s, "POST", "/v1/regions", op, "{\"code\":\"fr-key-1\",\"name\":"
                           "\"Keys\",\"country\":\"FR\",\"datacenter\":\"dc\",\"zones\":[\"a\"]}",
                           201));

    /* acme's first encrypted volume would make its KEK: the same keystore sovd uses. */
    snprintf(flag, sizeof(flag), "--state-dir=%s", s.state);
    load_config(&sc, flags);
    open_pool(url, 2, &sdb);
    ck_assert_msg(new_key_on(sdb, &sc, acme.id, &k, &err) == 0, "%s", err.msg);
    ck_assert_msg(sov_keystore_master_load(sc.keystore_master_key, master, mid, &err) == 0,
                  "%s", err.msg);
    {
        sov_autoptr(sov_dbconn) c = NULL;
        sov_kek_row row;
        ck_assert_int_eq(sov_db_acquire(sdb, &c, &err), 0);
        ck_assert_int_eq(sov_repo_kek_get(c, acme.id, false, &row, &err), 0);
        ck_assert_int_eq(sov_keystore_unseal(master, acme.id, row.sealed, row.len, kek, &err),
                         0);
        ck_assert_int_eq(sov_keystore_unwrap(c, &sc, acme.id, k.bytes, k.len, key, &err), 0);
        sov_hex_encode(row.sealed, row.len, hexes[3]);
    }
    sov_hex_encode(master, sizeof(master), hexes[0]);
    sov_hex_encode(kek, sizeof(kek), hexes[1]);
    sov_hex_encode(key, sizeof(key), hexes[2]);

    /* The tenant's own roles: forbidden; another tenant's admin: it does not exist. */
    snprintf(path, sizeof(path), "/v1/tenants/%s/kek", acme.id);
    for (int role = TL_ADMIN; role < TL_ROLES; role++) {
        tl_call(&s, "DELETE", path, acme.token[role], NULL, &r);
        tl_assert_problem(&r, 403, "/problems/forbidden");
        tl_resp_free(&r);
    }
    tl_call(&s, "DELETE", path, beta.token[TL_ADMIN], NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    tl_call(&s, "DELETE", path, NULL, NULL, &r);
    ck_assert_int_eq(r.status, 401);
    tl_resp_free(&r);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM tenant_keks WHERE destroyed_at IS NULL"), 1);

    /* The operator: 204, audited as its own action; acme's keys are gone for good. */
    tl_call(&s, "DELETE", path, op, NULL, &r);
    ck_assert_msg(r.status == 204, "%ld: %s", r.status, r.body);
    tl_resp_free(&r);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'tenants.kek-destroy' AND resource_type = 'kek' AND"
                             " resource_id = '%s' AND outcome = 204", acme.id), 1);
    ck_assert_int_eq(unwrap_with(&sc, acme.id, &k, key, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);

    /* Twice: 404 saying so; beta never had one; an unknown tenant. */
    tl_call(&s, "DELETE", path, op, NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    ck_assert_msg(strstr(json_string_value(json_object_get(r.json, "detail")),
                         "already destroyed on"), "%s", r.body);
    tl_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/tenants/%s/kek", beta.id);
    tl_call(&s, "DELETE", path, op, NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    ck_assert_msg(strstr(json_string_value(json_object_get(r.json, "detail")),
                         "has no key-encryption key"), "%s", r.body);
    tl_resp_free(&r);
    tl_call(&s, "DELETE", "/v1/tenants/00000000-0000-4000-8000-00000000beef/kek", op, NULL,
            &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);

    /* What the operator reads back, and sovd's log: no key material, in hex or otherwise. */
    tl_call(&s, "GET", "/v1/audit?limit=1000", op, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(!strstr(r.body, hexes[i]), "key material %d in the audit log", i);
    tl_resp_free(&r);
    ck_assert_int_eq(tl_sovd_stop_clean(&s, 20), 0);
    log = tl_sovd_log(&s);
    for (int i = 0; i < 4; i++) {
        leak = strstr(log, hexes[i]);
        ck_assert_msg(!leak, "key material %d in sovd's log", i);
    }
    ck_assert_msg(!has_hex_run(log, 64), "a run of 64 hex digits in sovd's log");
    ck_assert_msg(!memmem(log, strlen(log), master, 8), "master key bytes in sovd's log");
    free(log);
    free(op);
    sov_db_free(sdb);
    sov_config_release(&sc);
    tl_sovd_discard(&s);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("storage/keys");
    TCase *tc = tcase_create("keys");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_new_key_unwraps_to_32_bytes_and_lives_where_the_keystore_is);
    tcase_add_test(tc, keystore_region_names_the_place_and_an_unknown_one_is_refused);
    tcase_add_test(tc, tenants_have_different_keks_and_neither_unwraps_the_others_keys);
    tcase_add_test(tc, a_master_key_others_may_read_or_another_master_key_is_refused);
    tcase_add_test(tc, racing_first_uses_make_one_kek);
    tcase_add_test(tc, a_destroyed_kek_refuses_new_keys_and_unwraps_with_the_reason);
    tcase_add_test(tc, volume_secrets_are_defined_only_for_live_encrypted_keys);
    tcase_add_test(tc, a_real_libvirtd_holds_the_secret_privately_and_only_until_closed);
    tcase_add_test(tc, kek_destroy_route_is_the_operators_alone_audited_and_leaks_nothing);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
