/* report_repo.c: the SQL of residency history, reports, their chunks and signing keys.
 *
 * Times travel as microseconds since 1970 (exact: extract(epoch) is numeric), so intervals
 * are cut and summed without rounding and printed the same way everywhere. Policy snapshots
 * (jsonb) are taken apart here, into comma-separated lists of codes, so that residency/
 * needs no JSON parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_repo.h"
#include "sov/buf.h"
#include "sov/crypto.h"
#include "sov/repo/db_pq.h"

#define TS SOV_SQL_TS
#define US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"
#define POLICY_LISTS(col)                                                                \
    "array_to_string(ARRAY(SELECT jsonb_array_elements_text(" col "->'jurisdictions')), ',')"\
    " AS jurisdictions,"                                                                 \
    " array_to_string(ARRAY(SELECT jsonb_array_elements_text(" col "->'countries')), ',')"   \
    " AS countries,"                                                                     \
    " array_to_string(ARRAY(SELECT jsonb_array_elements_text(" col "->'regions')), ',')"     \
    " AS regions"

/* ---- helpers ---- */

/* The columns of POLICY_LISTS, in the order policy_from() takes their indices. */
static const char *const policy_cols[3] = { "jurisdictions", "countries", "regions" };

static void
policy_from(const PGresult *r, int i, const int col[3], sov_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->njurisdictions = sov_db_split(PQgetvalue(r, i, col[0]), p->jurisdictions[0], 3,
                              sizeof(p->jurisdictions[0]));
    p->ncountries = sov_db_split(PQgetvalue(r, i, col[1]), p->countries[0], SOV_POLICY_MAX,
                          sizeof(p->countries[0]));
    p->nregions = sov_db_split(PQgetvalue(r, i, col[2]), p->regions[0], SOV_POLICY_MAX,
                        sizeof(p->regions[0]));
}

static long long
ll(const PGresult *r, int i, int col)
{
    return strtoll(PQgetvalue(r, i, col), NULL, 10);
}

/* n decimal digits of v at p (zero-padded); returns the end. */
static char *
put_digits(char *p, unsigned long v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char) ('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* Without gmtime_r or printf: a report formats two times per row, a million rows and more.
 * The date is Howard Hinnant's civil_from_days. */
void
sov_report_time_format(long long us, char out[40])
{
    long long secs = us / 1000000, frac = us % 1000000, days, era;
    unsigned long rem, doe, yoe, doy, mp, d, m;
    long long y;
    char *p = out;

    if (frac < 0) {
        frac += 1000000;
        secs--;
    }
    days = secs / 86400;
    if (secs % 86400 < 0)
        days--;
    rem = (unsigned long) (secs - days * 86400);
    days += 719468;
    era = (days >= 0 ? days : days - 146096) / 146097;
    doe = (unsigned long) (days - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = (long long) yoe + era * 400 + (m <= 2);
    p = put_digits(p, (unsigned long) (y < 0 ? 0 : y > 9999 ? 9999 : y), 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, rem / 3600, 2);
    *p++ = ':';
    p = put_digits(p, rem / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, rem % 60, 2);
    if (frac) {
        *p++ = '.';
        p = put_digits(p, (unsigned long) frac, 6);
    }
    *p++ = 'Z';
    *p = '\0';
}

/* ---- history ---- */

static const char SQL_HISTORY[] =
    "SELECT seq, " US("at") " AS at_us, event, from_host, from_region, from_country,"
    " from_jurisdiction, from_datacenter, to_host, to_region, to_country, to_jurisdiction,"
    " to_datacenter, " POLICY_LISTS("policy") ", reason,"
    " coalesce(operation_id::text, '') AS operation_id"
    " FROM residency_records WHERE tenant_id = $1 AND resource_type = $2"
    " AND resource_id = $3 AND seq > $4::bigint ORDER BY seq LIMIT $5";

enum {
    E_SEQ, E_AT_US, E_EVENT, E_FROM_HOST, E_FROM_REGION, E_FROM_COUNTRY, E_FROM_JURISDICTION,
    E_FROM_DATACENTER, E_TO_HOST, E_TO_REGION, E_TO_COUNTRY, E_TO_JURISDICTION,
    E_TO_DATACENTER, E_JURISDICTIONS, E_COUNTRIES, E_REGIONS, E_REASON, E_OPERATION_ID, E__N,
};
static const char *const history_cols[E__N] = {
    [E_SEQ] = "seq", [E_AT_US] = "at_us", [E_EVENT] = "event", [E_FROM_HOST] = "from_host",
    [E_FROM_REGION] = "from_region", [E_FROM_COUNTRY] = "from_country",
    [E_FROM_JURISDICTION] = "from_jurisdiction", [E_FROM_DATACENTER] = "from_datacenter",
    [E_TO_HOST] = "to_host", [E_TO_REGION] = "to_region", [E_TO_COUNTRY] = "to_country",
    [E_TO_JURISDICTION] = "to_jurisdiction", [E_TO_DATACENTER] = "to_datacenter",
    [E_JURISDICTIONS] = "jurisdictions", [E_COUNTRIES] = "countries", [E_REGIONS] = "regions",
    [E_REASON] = "reason", [E_OPERATION_ID] = "operation_id",
};

/* col: the indices of host, region, country, jurisdiction and datacenter, in that order. */
static void
location_from(const PGresult *r, int i, const int col[5], sov_location *l)
{
    memset(l, 0, sizeof(*l));
    sov_db_copy(l->host, sizeof(l->host), r, i, col[0]);
    sov_db_copy(l->region, sizeof(l->region), r, i, col[1]);
    sov_db_copy(l->country, sizeof(l->country), r, i, col[2]);
    sov_db_copy(l->jurisdiction, sizeof(l->jurisdiction), r, i, col[3]);
    sov_db_copy(l->datacenter, sizeof(l->datacenter), r, i, col[4]);
}

int
sov_repo_history(sov_dbconn *c, const char *tenant_id, const char *resource_type,
                 const char *resource_id, long long after, unsigned limit,
                 sov_residency_event_page *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char a[32], lim[16];
    const char *params[] = { tenant_id, resource_type, resource_id, a, lim };
    int col[E__N];

    snprintf(a, sizeof(a), "%lld", after);
    snprintf(lim, sizeof(lim), "%u", limit);
    if (sov_db_query(c, SQL_HISTORY, 5, params, &res, err) < 0)
        return -1;
    if (sov_db_cols(res, history_cols, col, E__N, err) < 0)
        return -1;
    ret->n = (size_t) PQntuples(res);
    ret->items = calloc(ret->n + 1, sizeof(*ret->items));
    if (!ret->items)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (size_t k = 0; k < ret->n; k++) {
        sov_residency_event *e = &ret->items[k];
        int i = (int) k;
        e->seq = ll(res, i, col[E_SEQ]);
        sov_report_time_format(ll(res, i, col[E_AT_US]), e->at);
        sov_db_copy(e->event, sizeof(e->event), res, i, col[E_EVENT]);
        location_from(res, i, &col[E_FROM_HOST], &e->from);
        location_from(res, i, &col[E_TO_HOST], &e->to);
        policy_from(res, i, &col[E_JURISDICTIONS], &e->policy);
        sov_db_copy(e->reason, sizeof(e->reason), res, i, col[E_REASON]);
        sov_db_copy(e->operation_id, sizeof(e->operation_id), res, i, col[E_OPERATION_ID]);
    }
    ret->next_after[0] = '\0';
    if (limit > 0 && ret->n == limit)
        snprintf(ret->next_after, sizeof(ret->next_after), "%lld", ret->items[ret->n - 1].seq);
    return 0;
}

/* ---- signing keys ---- */

static const char SQL_KEY_PUBLISH[] =
    "INSERT INTO signing_keys (key_id, public_pem) VALUES ($1, $2)"
    " ON CONFLICT (key_id) DO NOTHING";
static const char SQL_KEY_GET[] =
    "SELECT key_id, algorithm, public_pem, " TS("created_at") " AS created_at, coalesce("
    TS("retired_at") ", '') AS retired_at FROM signing_keys WHERE key_id = $1";
static const char SQL_KEY_NEWEST[] =
    "SELECT key_id FROM signing_keys WHERE key_id = ANY($1::text[]) AND retired_at IS NULL"
    " ORDER BY created_at DESC, key_id LIMIT 1";
static const char SQL_KEY_RETIRE[] =
    "UPDATE signing_keys SET retired_at = now() WHERE key_id = $1 AND retired_at IS NULL";

int
sov_repo_key_publish(sov_dbconn *c, const char *key_id, const char *public_pem, sov_error *err)
{
    const char *params[] = { key_id, public_pem };

    return sov_db_query(c, SQL_KEY_PUBLISH, 2, params, NULL, err);
}

int
sov_repo_key_get(sov_dbconn *c, const char *key_id, sov_signing_key *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { key_id };
    static const char *const names[] = { "key_id", "algorithm", "public_pem", "created_at",
                                         "retired_at" };
    int col[5];

    if (sov_db_query(c, SQL_KEY_GET, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "signing key '%.32s' does not exist",
                             key_id);
    if (sov_db_cols(res, names, col, 5, err) < 0)
        return -1;
    memset(ret, 0, sizeof(*ret));
    sov_db_copy(ret->key_id, sizeof(ret->key_id), res, 0, col[0]);
    sov_db_copy(ret->algorithm, sizeof(ret->algorithm), res, 0, col[1]);
    sov_db_copy(ret->public_pem, sizeof(ret->public_pem), res, 0, col[2]);
    sov_db_copy(ret->created_at, sizeof(ret->created_at), res, 0, col[3]);
    sov_db_copy(ret->retired_at, sizeof(ret->retired_at), res, 0, col[4]);
    return 0;
}

int
sov_repo_key_newest(sov_dbconn *c, const char *ids, char ret[SOV_KEY_ID_LEN + 1], bool *found,
                    sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { ids };

    if (sov_db_query(c, SQL_KEY_NEWEST, 1, params, &res, err) < 0)
        return -1;
    *found = PQntuples(res) > 0;
    if (*found)
        sov_db_copy(ret, SOV_KEY_ID_LEN + 1, res, 0, 0);
    return 0;
}

int
sov_repo_key_retire(sov_dbconn *c, const char *key_id, sov_error *err)
{
    const char *params[] = { key_id };

    return sov_db_query(c, SQL_KEY_RETIRE, 1, params, NULL, err);
}

/* ---- reports ---- */

#define REPORT_COLS                                                                      \
    "id, tenant_id, coalesce(requested_by::text, '') AS requested_by, "                  \
    US("period_from") " AS from_us, " US("period_to") " AS to_us,"                       \
    " scope_tenants IS NULL AS all_tenants,"                                             \
    " coalesce(array_to_string(scope_tenants, ','), '') AS tenants, format, state,"      \
    " state_reason, coalesce(operation_id::text, '') AS operation_id,"                   \
    " coalesce(key_id, '') AS key_id, rows, violations, rows_sha256, document_sha256,"   \
    " size_bytes, " TS("created_at") " AS created_at,"                                   \
    " coalesce(" TS("finished_at") ", '') AS finished_at"

static const char SQL_REPORT_INSERT[] =
    "INSERT INTO residency_reports (id, tenant_id, requested_by, period_from, period_to,"
    " scope_tenants, format, operation_id) VALUES ($1, $2, NULLIF($3, '')::uuid,"
    " $4::timestamptz, $5::timestamptz, $6::uuid[], $7, $8)";
static const char SQL_REPORT_GET[] =
    "SELECT " REPORT_COLS " FROM residency_reports WHERE id = $1"
    " AND tenant_id IS NOT DISTINCT FROM coalesce($2::uuid, tenant_id)";
static const char SQL_REPORT_LIST[] =
    "SELECT " REPORT_COLS " FROM residency_reports WHERE ($1::uuid IS NULL OR tenant_id ="
    " $1::uuid) AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3";
static const char SQL_REPORT_STATE[] =
    "UPDATE residency_reports SET state = $2, state_reason = $3,"
    " finished_at = CASE WHEN $2 = 'failed' THEN now() END"
    " WHERE id = $1 AND state <> 'succeeded'";
static const char SQL_REPORT_SIGNATURE[] =
    "SELECT encode(signature, 'hex') FROM residency_reports WHERE id = $1"
    " AND signature IS NOT NULL";
static const char SQL_CHUNKS_CLEAR[] = "DELETE FROM residency_report_chunks WHERE report_id = $1";
static const char SQL_CHUNK_PUT[] =
    "INSERT INTO residency_report_chunks (report_id, seq, data) VALUES ($1, $2::int, $3)";
static const char SQL_CHUNK_GET[] =
    "SELECT data FROM residency_report_chunks WHERE report_id = $1 AND seq = $2::int";
static const char SQL_REPORT_FINISH[] =
    "UPDATE residency_reports SET state = 'succeeded', state_reason = '', key_id = $2,"
    " rows = $3::bigint, violations = $4::bigint, rows_sha256 = $5, document_sha256 = $6,"
    " size_bytes = $7::bigint, signature = decode($8, 'hex'), finished_at = now()"
    " WHERE id = $1 RETURNING 1";

enum {
    R_ID, R_TENANT_ID, R_REQUESTED_BY, R_FROM_US, R_TO_US, R_ALL_TENANTS, R_TENANTS, R_FORMAT,
    R_STATE, R_STATE_REASON, R_OPERATION_ID, R_KEY_ID, R_ROWS, R_VIOLATIONS, R_ROWS_SHA256,
    R_DOCUMENT_SHA256, R_SIZE_BYTES, R_CREATED_AT, R_FINISHED_AT, R__N,
};
static const char *const report_cols[R__N] = {
    [R_ID] = "id", [R_TENANT_ID] = "tenant_id", [R_REQUESTED_BY] = "requested_by",
    [R_FROM_US] = "from_us", [R_TO_US] = "to_us", [R_ALL_TENANTS] = "all_tenants",
    [R_TENANTS] = "tenants", [R_FORMAT] = "format", [R_STATE] = "state",
    [R_STATE_REASON] = "state_reason", [R_OPERATION_ID] = "operation_id", [R_KEY_ID] = "key_id",
    [R_ROWS] = "rows", [R_VIOLATIONS] = "violations", [R_ROWS_SHA256] = "rows_sha256",
    [R_DOCUMENT_SHA256] = "document_sha256", [R_SIZE_BYTES] = "size_bytes",
    [R_CREATED_AT] = "created_at", [R_FINISHED_AT] = "finished_at",
};

static void
fill_report(const PGresult *r, int i, const int *col, void *out)
{
    sov_report *x = out;

    memset(x, 0, sizeof(*x));
    sov_db_copy(x->id, sizeof(x->id), r, i, col[R_ID]);
    sov_db_copy(x->tenant_id, sizeof(x->tenant_id), r, i, col[R_TENANT_ID]);
    sov_db_copy(x->requested_by, sizeof(x->requested_by), r, i, col[R_REQUESTED_BY]);
    x->from_us = ll(r, i, col[R_FROM_US]);
    x->to_us = ll(r, i, col[R_TO_US]);
    sov_report_time_format(x->from_us, x->period_from);
    sov_report_time_format(x->to_us, x->period_to);
    x->all_tenants = PQgetvalue(r, i, col[R_ALL_TENANTS])[0] == 't';
    x->ntenants = sov_db_split(PQgetvalue(r, i, col[R_TENANTS]), x->tenants[0],
                               SOV_REPORT_TENANTS_MAX, sizeof(x->tenants[0]));
    sov_db_copy(x->format, sizeof(x->format), r, i, col[R_FORMAT]);
    sov_db_copy(x->state, sizeof(x->state), r, i, col[R_STATE]);
    sov_db_copy(x->state_reason, sizeof(x->state_reason), r, i, col[R_STATE_REASON]);
    sov_db_copy(x->operation_id, sizeof(x->operation_id), r, i, col[R_OPERATION_ID]);
    sov_db_copy(x->key_id, sizeof(x->key_id), r, i, col[R_KEY_ID]);
    x->rows = ll(r, i, col[R_ROWS]);
    x->violations = ll(r, i, col[R_VIOLATIONS]);
    sov_db_copy(x->rows_sha256, sizeof(x->rows_sha256), r, i, col[R_ROWS_SHA256]);
    sov_db_copy(x->document_sha256, sizeof(x->document_sha256), r, i, col[R_DOCUMENT_SHA256]);
    x->size_bytes = ll(r, i, col[R_SIZE_BYTES]);
    sov_db_copy(x->created_at, sizeof(x->created_at), r, i, col[R_CREATED_AT]);
    sov_db_copy(x->finished_at, sizeof(x->finished_at), r, i, col[R_FINISHED_AT]);
}

static const sov_db_rowmap row_report = { report_cols, R__N, fill_report };

int
sov_repo_report_insert(sov_dbconn *c, const char *id, const char *tenant_id,
                       const char *requested_by, const char *from, const char *to,
                       const char *scope, const char *format, const char *operation_id,
                       sov_error *err)
{
    const char *params[] = { id, tenant_id, requested_by ? requested_by : "", from, to, scope,
                             format, operation_id };

    return sov_db_query(c, SQL_REPORT_INSERT, 8, params, NULL, err);
}

int
sov_repo_report_get(sov_dbconn *c, const char *tenant_id, const char *id, sov_report *ret,
                    sov_error *err)
{
    const char *params[] = { id, tenant_id };

    return sov_db_one(c, SQL_REPORT_GET, 2, params, &row_report, ret, "report", id, err);
}

int
sov_repo_report_list(sov_dbconn *c, const char *tenant_id, const char *after, unsigned limit,
                     sov_report_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { tenant_id, after, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_REPORT_LIST, 3, params, sizeof(*ret->items), &row_report, limit,
                       "id", (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_repo_report_state(sov_dbconn *c, const char *id, const char *state, const char *reason,
                      sov_error *err)
{
    const char *params[] = { id, state, reason ? reason : "" };

    return sov_db_query(c, SQL_REPORT_STATE, 3, params, NULL, err);
}

static int
unhex(const char *s, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = s[2 * i + (size_t) k];
            v <<= 4;
            if (ch >= '0' && ch <= '9')
                v |= (unsigned) (ch - '0');
            else if (ch >= 'a' && ch <= 'f')
                v |= (unsigned) (ch - 'a' + 10);
            else
                return -1;
        }
        out[i] = (unsigned char) v;
    }
    return 0;
}

int
sov_repo_report_signature(sov_dbconn *c, const char *id, unsigned char sig[SOV_SIGNATURE_LEN],
                          sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id };

    if (sov_db_query(c, SQL_REPORT_SIGNATURE, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "report '%s' is not signed yet", id);
    if (strlen(PQgetvalue(res, 0, 0)) != 2 * SOV_SIGNATURE_LEN ||
        unhex(PQgetvalue(res, 0, 0), sig, SOV_SIGNATURE_LEN) < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "report '%s' has a malformed signature", id);
    return 0;
}

int
sov_repo_report_chunks_clear(sov_dbconn *c, const char *id, sov_error *err)
{
    const char *params[] = { id };

    return sov_db_query(c, SQL_CHUNKS_CLEAR, 1, params, NULL, err);
}

int
sov_repo_report_chunk_put(sov_dbconn *c, const char *id, int seq, const void *data, size_t len,
                          sov_error *err)
{
    char s[16];
    const char *values[] = { id, s, data };
    const int lengths[] = { 0, 0, (int) len };
    const int formats[] = { 0, 0, 1 };     /* the bytes go as they are, not as hex text */
    sov_autoptr(PGresult) res = NULL;

    snprintf(s, sizeof(s), "%d", seq);
    res = PQexecParams(sov_db_conn(c), SQL_CHUNK_PUT, 3, NULL, values, lengths, formats, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return sov_db_error(sov_db_conn(c), res, err);
    return 0;
}

int
sov_repo_report_finish(sov_dbconn *c, const sov_report *r,
                       const unsigned char sig[SOV_SIGNATURE_LEN], sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char rows[32], violations[32], size[32], sighex[2 * SOV_SIGNATURE_LEN + 1];
    const char *params[] = { r->id, r->key_id, rows, violations, r->rows_sha256,
                             r->document_sha256, size, sighex };

    snprintf(rows, sizeof(rows), "%lld", r->rows);
    snprintf(violations, sizeof(violations), "%lld", r->violations);
    snprintf(size, sizeof(size), "%lld", r->size_bytes);
    sov_hex_encode(sig, SOV_SIGNATURE_LEN, sighex);
    if (sov_db_query(c, SQL_REPORT_FINISH, 8, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "report '%s' does not exist", r->id);
    return 0;
}

int
sov_repo_report_chunk_get(sov_dbconn *c, const char *id, int seq, PGresult **ret, sov_error *err)
{
    char s[16];
    const char *values[] = { id, s };
    sov_autoptr(PGresult) res = NULL;

    snprintf(s, sizeof(s), "%d", seq);
    res = PQexecParams(sov_db_conn(c), SQL_CHUNK_GET, 2, NULL, values, NULL, NULL, 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return sov_db_error(sov_db_conn(c), res, err);
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "report '%s' has no part %d", id, seq);
    *ret = SOV_TAKE_PTR(res);
    return 0;
}

/* ---- building ---- */

/* The whole cursor is read, so plan for all of it (a sort beats an index walk that jumps
 * about the heap), not for its first rows. */
static const char SQL_BUILD_SETTINGS[] = "SET LOCAL cursor_tuple_fraction = 1.0";
/* The first FETCH sorts the whole period, which may take longer than sovd's statement limit
 * for requests; a report's steps have the operation's ten minutes. */
static const char SQL_BUILD_TIMEOUT[] = "SET LOCAL statement_timeout = '10min'";
static const char SQL_BUILD_NOW[] = "SELECT " US("now()") " AS now_us";
static const char SQL_BUILD_POLICIES[] =
    "SELECT tenant_id, " US("at") " AS at_us, " POLICY_LISTS("policy")
    " FROM residency_records WHERE event = 'policy-changed' AND at < $1::timestamptz"
    " AND ($2::uuid[] IS NULL OR tenant_id = ANY($2::uuid[])) ORDER BY tenant_id, at, seq";
/* bench/report.c times COPY of this very SELECT: keep the two in step. */
static const char SQL_BUILD_DECLARE[] =
    "DECLARE sov_report_records NO SCROLL CURSOR FOR"
    " SELECT resource_type, resource_id, tenant_id, event, " US("at") " AS at_us, from_host,"
    " from_region, from_country, from_jurisdiction, from_datacenter, to_host, to_region,"
    " to_country, to_jurisdiction, to_datacenter FROM residency_records"
    " WHERE event <> 'policy-changed' AND at < $1::timestamptz"
    " AND ($2::uuid[] IS NULL OR tenant_id = ANY($2::uuid[]))"
    " ORDER BY resource_type, resource_id, seq";
static const char SQL_BUILD_FETCH[] = "FETCH 10000 FROM sov_report_records";
static const char SQL_BUILD_CLOSE[] = "CLOSE sov_report_records";

/* '{a,b}' of r's tenants, or NULL for every tenant. */
static const char *
scope_literal(const sov_report *r, char *buf, size_t size)
{
    if (r->all_tenants)
        return NULL;
    sov_pg_array_format(buf, size, r->tenants[0], r->ntenants, sizeof(r->tenants[0]));
    return buf;
}

int
sov_repo_build_begin(sov_dbconn *c, long long *now_us, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, SQL_BUILD_SETTINGS, 0, NULL, NULL, err) < 0 ||
        sov_db_query(c, SQL_BUILD_TIMEOUT, 0, NULL, NULL, err) < 0 ||
        sov_db_query(c, SQL_BUILD_NOW, 0, NULL, &res, err) < 0)
        return -1;
    *now_us = ll(res, 0, 0);
    return 0;
}

int
sov_repo_build_policies(sov_dbconn *c, const sov_report *r, PGresult **ret, sov_error *err)
{
    char scope[SOV_REPORT_TENANTS_MAX * (SOV_UUID_LEN + 3) + 4];
    const char *params[] = { r->period_to, scope_literal(r, scope, sizeof(scope)) };

    return sov_db_query(c, SQL_BUILD_POLICIES, 2, params, ret, err);
}

int
sov_repo_build_policy_cols(const PGresult *res, int col[REPO_POLICY_COLS], sov_error *err)
{
    static const char *const names[2] = { "tenant_id", "at_us" };

    if (sov_db_cols(res, names, col, 2, err) < 0)
        return -1;
    return sov_db_cols(res, policy_cols, col + 2, 3, err);
}

void
sov_repo_build_policy_row(const PGresult *res, int i, const int col[REPO_POLICY_COLS],
                          char tenant[SOV_UUID_LEN + 1], long long *at_us, sov_policy *ret)
{
    sov_db_copy(tenant, SOV_UUID_LEN + 1, res, i, col[0]);
    *at_us = ll(res, i, col[1]);
    policy_from(res, i, col + 2, ret);
}

int
sov_repo_build_record_cols(const PGresult *res, int col[REC__COUNT], sov_error *err)
{
    static const char *const names[REC__COUNT] = {
        [REC_TYPE] = "resource_type", [REC_ID] = "resource_id", [REC_TENANT] = "tenant_id",
        [REC_EVENT] = "event", [REC_AT_US] = "at_us", [REC_FROM_HOST] = "from_host",
        [REC_FROM_REGION] = "from_region", [REC_FROM_COUNTRY] = "from_country",
        [REC_FROM_JURISDICTION] = "from_jurisdiction", [REC_FROM_DC] = "from_datacenter",
        [REC_TO_HOST] = "to_host", [REC_TO_REGION] = "to_region",
        [REC_TO_COUNTRY] = "to_country", [REC_TO_JURISDICTION] = "to_jurisdiction",
        [REC_TO_DC] = "to_datacenter",
    };

    return sov_db_cols(res, names, col, REC__COUNT, err);
}

int
sov_repo_build_declare(sov_dbconn *c, const sov_report *r, sov_error *err)
{
    char scope[SOV_REPORT_TENANTS_MAX * (SOV_UUID_LEN + 3) + 4];
    const char *params[] = { r->period_to, scope_literal(r, scope, sizeof(scope)) };

    return sov_db_query(c, SQL_BUILD_DECLARE, 2, params, NULL, err);
}

int
sov_repo_build_fetch_send(sov_dbconn *c, sov_error *err)
{
    if (!PQsendQuery(sov_db_conn(c), SQL_BUILD_FETCH))
        return sov_db_error(sov_db_conn(c), NULL, err);
    return 0;
}

int
sov_repo_build_fetch_wait(sov_dbconn *c, PGresult **ret, sov_error *err)
{
    PGconn *conn = sov_db_conn(c);
    sov_autoptr(PGresult) res = PQgetResult(conn);
    PGresult *more;

    /* One statement, one result: read to the end so the connection is ready again. */
    while ((more = PQgetResult(conn)))
        PQclear(more);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return sov_db_error(conn, res, err);
    *ret = SOV_TAKE_PTR(res);
    return 0;
}

int
sov_repo_build_end(sov_dbconn *c, sov_error *err)
{
    return sov_db_query(c, SQL_BUILD_CLOSE, 0, NULL, NULL, err);
}
