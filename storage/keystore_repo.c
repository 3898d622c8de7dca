/* keystore_repo.c: the keystore's SQL (tenant_keks, the keystore's place) and the wrapped
 * keys of volumes and snapshots. Sealed and wrapped bytes travel as bytea in hex text
 * ('\x...'); nothing here ever sees a key in the clear. */
#include <stdio.h>
#include <string.h>

#include "sov/crypto.h"
#include "storage_int.h"

/* bytea's hex text of len bytes into out (3 + 2 * len bytes). */
static void
bytea_hex(const unsigned char *b, size_t len, char *out)
{
    out[0] = '\\';
    out[1] = 'x';
    sov_hex_encode(b, len, out + 2);
}

/* A bytea value of res into out (at most max bytes); *len 0 for NULL. */
static int
bytea_copy(const PGresult *res, int row, int col, unsigned char *out, size_t max, size_t *len,
           const char *what, sov_error *err)
{
    size_t n = 0;
    unsigned char *raw;

    *len = 0;
    if (PQgetisnull(res, row, col))
        return 0;
    raw = PQunescapeBytea((const unsigned char *) PQgetvalue(res, row, col), &n);
    if (!raw)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (n > max) {
        PQfreemem(raw);
        return sov_error_set(err, SOV_E_INTERNAL, "%s is %zu bytes, more than %zu", what, n,
                             max);
    }
    memcpy(out, raw, n);
    explicit_bzero(raw, n);
    PQfreemem(raw);
    *len = n;
    return 0;
}

/* ---- tenant_keks ---- */

#define KEK_COLS \
    "SELECT wrapped, master_key_id, region, country, " SOV_SQL_TS("created_at") \
    " AS created_at, " SOV_SQL_TS("destroyed_at") " AS destroyed_at " \
    "FROM tenant_keks WHERE tenant_id = $1"
static const char SQL_KEK_GET[] = KEK_COLS;
static const char SQL_KEK_GET_SHARE[] = KEK_COLS " FOR SHARE";

int
sov_repo_kek_get(sov_dbconn *c, const char *tenant_id, bool lock, sov_kek_row *ret,
                 sov_error *err)
{
    static const char *const names[] = { "wrapped", "master_key_id", "region", "country",
                                         "created_at", "destroyed_at" };
    const char *params[] = { tenant_id };
    sov_autoptr(PGresult) res = NULL;
    int col[SOV_N_ELEMENTS(names)];
    sov_kek_row k;

    if (sov_db_query(c, lock ? SQL_KEK_GET_SHARE : SQL_KEK_GET, 1, params, &res, err) < 0 ||
        sov_db_cols(res, names, col, SOV_N_ELEMENTS(names), err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%s' has no key-encryption key",
                             tenant_id);
    memset(&k, 0, sizeof(k));
    if (bytea_copy(res, 0, col[0], k.sealed, sizeof(k.sealed), &k.len,
                   "a sealed key-encryption key", err) < 0)
        return -1;
    sov_db_copy(k.master_key_id, sizeof(k.master_key_id), res, 0, col[1]);
    sov_db_copy(k.region, sizeof(k.region), res, 0, col[2]);
    sov_db_copy(k.country, sizeof(k.country), res, 0, col[3]);
    sov_db_copy(k.created_at, sizeof(k.created_at), res, 0, col[4]);
    sov_db_copy(k.destroyed_at, sizeof(k.destroyed_at), res, 0, col[5]);
    *ret = k;
    return 0;
}

static const char SQL_KEK_INSERT[] =
    "INSERT INTO tenant_keks (tenant_id, wrapped, master_key_id, region, country) "
    "VALUES ($1, $2::bytea, $3, $4, $5) ON CONFLICT (tenant_id) DO NOTHING";

int
sov_repo_kek_insert(sov_dbconn *c, const char *tenant_id, const unsigned char *sealed,
                    size_t len, const char *master_key_id, const char *region,
                    const char *country, sov_error *err)
{
    char hex[3 + 2 * SOV_KEK_SEALED_LEN];
    const char *params[] = { tenant_id, hex, master_key_id, region, country };

    if (len > SOV_KEK_SEALED_LEN)
        return sov_error_set(err, SOV_E_INTERNAL, "a sealed key-encryption key is too long");
    bytea_hex(sealed, len, hex);
    return sov_db_query(c, SQL_KEK_INSERT, 5, params, NULL, err);
}

static const char SQL_KEK_DESTROY[] =
    "UPDATE tenant_keks SET wrapped = NULL, destroyed_at = now() "
    "WHERE tenant_id = $1 AND destroyed_at IS NULL RETURNING tenant_id";

static const char SQL_KEK_WHY_NOT[] =
    "SELECT t.name, k.tenant_id AS kek, " SOV_SQL_TS("k.destroyed_at") " AS destroyed_at "
    "FROM tenants t LEFT JOIN tenant_keks k ON k.tenant_id = t.id WHERE t.id = $1";

int
sov_repo_kek_destroy(sov_dbconn *c, const char *tenant_id, sov_error *err)
{
    static const char *const names[] = { "name", "kek", "destroyed_at" };
    const char *params[] = { tenant_id };
    sov_autoptr(PGresult) res = NULL;
    sov_autoptr(PGresult) why = NULL;
    int col[SOV_N_ELEMENTS(names)];
    char name[SOV_NAME_MAX + 1], at[40];

    if (sov_db_query(c, SQL_KEK_DESTROY, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 1)
        return 0;
    if (sov_db_query(c, SQL_KEK_WHY_NOT, 1, params, &why, err) < 0 ||
        sov_db_cols(why, names, col, SOV_N_ELEMENTS(names), err) < 0)
        return -1;
    if (PQntuples(why) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%s' does not exist", tenant_id);
    sov_db_copy(name, sizeof(name), why, 0, col[0]);
    if (PQgetisnull(why, 0, col[1]))
        return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%s' has no key-encryption key "
                             "(it has never had an encrypted volume)", name);
    sov_db_copy(at, sizeof(at), why, 0, col[2]);
    return sov_error_set(err, SOV_E_NOT_FOUND, "the key-encryption key of tenant '%s' was "
                         "already destroyed on %s", name, at);
}

/* ---- the keystore's place ---- */

static const char SQL_PLACE_NAMED[] = "SELECT code, country FROM regions WHERE code = $1";

/* The region of the first host registered (the embedded default runs the control plane
 * there); with no host at all, the first region created. */
static const char SQL_PLACE_FIRST[] =
    "SELECT r.code, r.country FROM regions r LEFT JOIN hosts h ON h.region = r.code "
    "ORDER BY h.created_at NULLS LAST, h.id, r.created_at, r.code LIMIT 1";

int
sov_repo_keystore_place(sov_dbconn *c, const char *region, char ret_region[SOV_NAME_MAX + 1],
                        char ret_country[3], sov_error *err)
{
    static const char *const names[] = { "code", "country" };
    const char *params[] = { region };
    bool named = region && region[0];
    sov_autoptr(PGresult) res = NULL;
    int col[SOV_N_ELEMENTS(names)];

    if (sov_db_query(c, named ? SQL_PLACE_NAMED : SQL_PLACE_FIRST, named ? 1 : 0,
                     named ? params : NULL, &res, err) < 0 ||
        sov_db_cols(res, names, col, SOV_N_ELEMENTS(names), err) < 0)
        return -1;
    if (PQntuples(res) == 0 && named) {
        sov_error_set(err, SOV_E_INTERNAL, "the keystore's region is not a region");
        return sov_error_detail(err, "keystore_region '%s' names no region: create it or fix "
                                "the setting", region);
    }
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "the keystore has no region yet: create a "
                             "region (or set keystore_region)");
    sov_db_copy(ret_region, SOV_NAME_MAX + 1, res, 0, col[0]);
    sov_db_copy(ret_country, 3, res, 0, col[1]);
    return 0;
}

/* ---- wrapped keys of volumes and snapshots ---- */

static const char SQL_VOLUME_KEY[] =
    "SELECT wrapped_key, key_region, key_country, pool, volume FROM volumes WHERE id = $1";
static const char SQL_SNAPSHOT_KEY[] =
    "SELECT wrapped_key, key_region, key_country, pool, volume FROM snapshots WHERE id = $1";

int
sov_repo_key_file(sov_dbconn *c, const char *table, const char *id, sov_wrapped_key *ret,
                  char pool[64], char volume[96], sov_error *err)
{
    static const char *const names[] = { "wrapped_key", "key_region", "key_country", "pool",
                                         "volume" };
    const char *params[] = { id };
    bool snap = table && strcmp(table, "snapshots") == 0;
    sov_autoptr(PGresult) res = NULL;
    int col[SOV_N_ELEMENTS(names)];
    sov_wrapped_key k;

    if (!snap && (!table || strcmp(table, "volumes") != 0))
        return sov_error_set(err, SOV_E_INTERNAL, "no wrapped keys in table '%s'",
                             table ? table : "(null)");
    if (!sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "%s '%s' does not exist",
                             snap ? "snapshot" : "volume", id);
    if (sov_db_query(c, snap ? SQL_SNAPSHOT_KEY : SQL_VOLUME_KEY, 1, params, &res, err) < 0 ||
        sov_db_cols(res, names, col, SOV_N_ELEMENTS(names), err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "%s '%s' does not exist",
                             snap ? "snapshot" : "volume", id);
    memset(&k, 0, sizeof(k));
    if (bytea_copy(res, 0, col[0], k.bytes, sizeof(k.bytes), &k.len, "a wrapped key", err) < 0)
        return -1;
    sov_db_copy(k.region, sizeof(k.region), res, 0, col[1]);
    sov_db_copy(k.country, sizeof(k.country), res, 0, col[2]);
    if (pool)
        sov_db_copy(pool, 64, res, 0, col[3]);
    if (volume)
        sov_db_copy(volume, 96, res, 0, col[4]);
    *ret = k;
    return 0;
}

int
sov_repo_wrapped_key(sov_dbconn *c, const char *table, const char *id, sov_wrapped_key *ret,
                     sov_error *err)
{
    return sov_repo_key_file(c, table, id, ret, NULL, NULL, err);
}
