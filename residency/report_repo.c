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
    "array_to_string(ARRAY(SELECT jsonb_array_elements_text(" col "->'jurisdictions')), ','),"\
    " array_to_string(ARRAY(SELECT jsonb_array_elements_text(" col "->'countries')), ','),"  \
    " array_to_string(ARRAY(SELECT jsonb_array_elements_text(" col "->'regions')), ',')"

/* ---- helpers ---- */

static void
policy_from(const PGresult *r, int i, int col, sov_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->njurisdictions = sov_db_split(PQgetvalue(r, i, col), p->jurisdictions[0], 3,
                              sizeof(p->jurisdictions[0]));
    p->ncountries = sov_db_split(PQgetvalue(r, i, col + 1), p->countries[0], SOV_POLICY_MAX,
                          sizeof(p->countries[0]));
    p->nregions = sov_db_split(PQgetvalue(r, i, col + 2), p->regions[0], SOV_POLICY_MAX,
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
report_time_format(long long us, char out[40])
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
    "SELECT seq, " US("at") ", event, from_host, from_region, from_country,"
    " from_jurisdiction, from_datacenter, to_host, to_region, to_country, to_jurisdiction,"
    " to_datacenter, " POLICY_LISTS("policy") ", reason, coalesce(operation_id::text, '')"
    " FROM residency_records WHERE tenant_id = $1 AND resource_type = $2"
    " AND resource_id = $3 AND seq > $4::bigint ORDER BY seq LIMIT $5";

static void
location_from(const PGresult *r, int i, int col, sov_location *l)
{
    memset(l, 0, sizeof(*l));
    sov_db_copy(l->host, sizeof(l->host), r, i, col);
    sov_db_copy(l->region, sizeof(l->region), r, i, col + 1);
    sov_db_copy(l->country, sizeof(l->country), r, i, col + 2);
    sov_db_copy(l->jurisdiction, sizeof(l->jurisdiction), r, i, col + 3);
    sov_db_copy(l->datacenter, sizeof(l->datacenter), r, i, col + 4);
}

int
repo_history(sov_dbconn *c, const char *tenant_id, const char *resource_type,
             const char *resource_id, long long after, unsigned limit,
             sov_residency_event_page *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char a[32], lim[16];
    const char *params[] = { tenant_id, resource_type, resource_id, a, lim };

    snprintf(a, sizeof(a), "%lld", after);
    snprintf(lim, sizeof(lim), "%u", limit);
    if (sov_db_query(c, SQL_HISTORY, 5, params, &res, err) < 0)
        return -1;
    ret->n = (size_t) PQntuples(res);
    ret->items = calloc(ret->n + 1, sizeof(*ret->items));
    if (!ret->items)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (size_t k = 0; k < ret->n; k++) {
        sov_residency_event *e = &ret->items[k];
        int i = (int) k;
        e->seq = ll(res, i, 0);
        report_time_format(ll(res, i, 1), e->at);
        sov_db_copy(e->event, sizeof(e->event), res, i, 2);
        location_from(res, i, 3, &e->from);
        location_from(res, i, 8, &e->to);
        policy_from(res, i, 13, &e->policy);
        sov_db_copy(e->reason, sizeof(e->reason), res, i, 16);
        sov_db_copy(e->operation_id, sizeof(e->operation_id), res, i, 17);
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
    "SELECT key_id, algorithm, public_pem, " TS("created_at") ", coalesce("
    TS("retired_at") ", '') FROM signing_keys WHERE key_id = $1";
static const char SQL_KEY_NEWEST[] =
    "SELECT key_id FROM signing_keys WHERE key_id = ANY($1::text[]) AND retired_at IS NULL"
    " ORDER BY created_at DESC, key_id LIMIT 1";
static const char SQL_KEY_RETIRE[] =
    "UPDATE signing_keys SET retired_at = now() WHERE key_id = $1 AND retired_at IS NULL";

int
repo_key_publish(sov_dbconn *c, const char *key_id, const char *public_pem, sov_error *err)
{
    const char *params[] = { key_id, public_pem };

    return sov_db_query(c, SQL_KEY_PUBLISH, 2, params, NULL, err);
}

int
repo_key_get(sov_dbconn *c, const char *key_id, sov_signing_key *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { key_id };

    if (sov_db_query(c, SQL_KEY_GET, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "signing key '%.32s' does not exist",
                             key_id);
    memset(ret, 0, sizeof(*ret));
    sov_db_copy(ret->key_id, sizeof(ret->key_id), res, 0, 0);
    sov_db_copy(ret->algorithm, sizeof(ret->algorithm), res, 0, 1);
    sov_db_copy(ret->public_pem, sizeof(ret->public_pem), res, 0, 2);
    sov_db_copy(ret->created_at, sizeof(ret->created_at), res, 0, 3);
    sov_db_copy(ret->retired_at, sizeof(ret->retired_at), res, 0, 4);
    return 0;
}

int
repo_key_newest(sov_dbconn *c, const char *ids, char ret[SOV_KEY_ID_LEN + 1], bool *found,
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
repo_key_retire(sov_dbconn *c, const char *key_id, sov_error *err)
{
    const char *params[] = { key_id };

    return sov_db_query(c, SQL_KEY_RETIRE, 1, params, NULL, err);
}

/* ---- reports ---- */

#define REPORT_COLS                                                                      \
    "id, tenant_id, coalesce(requested_by::text, ''), " US("period_from") ", "           \
    US("period_to") ", scope_tenants IS NULL, coalesce(array_to_string(scope_tenants, ','),"\
    " ''), format, state, state_reason, coalesce(operation_id::text, ''),"               \
    " coalesce(key_id, ''), rows, violations, rows_sha256, document_sha256, size_bytes, "  \
    TS("created_at") ", coalesce(" TS("finished_at") ", '')"

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

static void
row_report(const PGresult *r, int i, void *out)
{
    sov_report *x = out;

    memset(x, 0, sizeof(*x));
    sov_db_copy(x->id, sizeof(x->id), r, i, 0);
    sov_db_copy(x->tenant_id, sizeof(x->tenant_id), r, i, 1);
    sov_db_copy(x->requested_by, sizeof(x->requested_by), r, i, 2);
    x->from_us = ll(r, i, 3);
    x->to_us = ll(r, i, 4);
    report_time_format(x->from_us, x->period_from);
    report_time_format(x->to_us, x->period_to);
    x->all_tenants = PQgetvalue(r, i, 5)[0] == 't';
    x->ntenants = sov_db_split(PQgetvalue(r, i, 6), x->tenants[0], SOV_REPORT_TENANTS_MAX,
                        sizeof(x->tenants[0]));
    sov_db_copy(x->format, sizeof(x->format), r, i, 7);
    sov_db_copy(x->state, sizeof(x->state), r, i, 8);
    sov_db_copy(x->state_reason, sizeof(x->state_reason), r, i, 9);
    sov_db_copy(x->operation_id, sizeof(x->operation_id), r, i, 10);
    sov_db_copy(x->key_id, sizeof(x->key_id), r, i, 11);
    x->rows = ll(r, i, 12);
    x->violations = ll(r, i, 13);
    sov_db_copy(x->rows_sha256, sizeof(x->rows_sha256), r, i, 14);
    sov_db_copy(x->document_sha256, sizeof(x->document_sha256), r, i, 15);
    x->size_bytes = ll(r, i, 16);
    sov_db_copy(x->created_at, sizeof(x->created_at), r, i, 17);
    sov_db_copy(x->finished_at, sizeof(x->finished_at), r, i, 18);
}

int
repo_report_insert(sov_dbconn *c, const char *id, const char *tenant_id,
                   const char *requested_by, const char *from, const char *to,
                   const char *scope, const char *format, const char *operation_id,
                   sov_error *err)
{
    const char *params[] = { id, tenant_id, requested_by ? requested_by : "", from, to, scope,
                             format, operation_id };

    return sov_db_query(c, SQL_REPORT_INSERT, 8, params, NULL, err);
}

int
repo_report_get(sov_dbconn *c, const char *tenant_id, const char *id, sov_report *ret,
                sov_error *err)
{
    const char *params[] = { id, tenant_id };

    return sov_db_one(c, SQL_REPORT_GET, 2, params, row_report, ret, "report", id, err);
}

int
repo_report_list(sov_dbconn *c, const char *tenant_id, const char *after, unsigned limit,
                 sov_report_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { tenant_id, after, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_REPORT_LIST, 3, params, sizeof(*ret->items), row_report, limit,
                       0, (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
repo_report_state(sov_dbconn *c, const char *id, const char *state, const char *reason,
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
repo_report_signature(sov_dbconn *c, const char *id, unsigned char sig[SOV_SIGNATURE_LEN],
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
repo_report_chunks_clear(sov_dbconn *c, const char *id, sov_error *err)
{
    const char *params[] = { id };

    return sov_db_query(c, SQL_CHUNKS_CLEAR, 1, params, NULL, err);
}

int
repo_report_chunk_put(sov_dbconn *c, const char *id, int seq, const void *data, size_t len,
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
repo_report_finish(sov_dbconn *c, const sov_report *r,
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
repo_report_chunk_get(sov_dbconn *c, const char *id, int seq, PGresult **ret, sov_error *err)
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
static const char SQL_BUILD_NOW[] = "SELECT " US("now()");
static const char SQL_BUILD_POLICIES[] =
    "SELECT tenant_id, " US("at") ", " POLICY_LISTS("policy")
    " FROM residency_records WHERE event = 'policy-changed' AND at < $1::timestamptz"
    " AND ($2::uuid[] IS NULL OR tenant_id = ANY($2::uuid[])) ORDER BY tenant_id, at, seq";
/* bench/report.c times COPY of this very SELECT: keep the two in step. */
static const char SQL_BUILD_DECLARE[] =
    "DECLARE sov_report_records NO SCROLL CURSOR FOR"
    " SELECT resource_type, resource_id, tenant_id, event, " US("at") ", from_host,"
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
repo_build_begin(sov_dbconn *c, long long *now_us, sov_error *err)
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
repo_build_policies(sov_dbconn *c, const sov_report *r, PGresult **ret, sov_error *err)
{
    char scope[SOV_REPORT_TENANTS_MAX * (SOV_UUID_LEN + 3) + 4];
    const char *params[] = { r->period_to, scope_literal(r, scope, sizeof(scope)) };

    return sov_db_query(c, SQL_BUILD_POLICIES, 2, params, ret, err);
}

void
repo_build_policy_row(const PGresult *res, int i, long long *at_us, sov_policy *ret)
{
    *at_us = ll(res, i, 1);
    policy_from(res, i, 2, ret);
}

int
repo_build_declare(sov_dbconn *c, const sov_report *r, sov_error *err)
{
    char scope[SOV_REPORT_TENANTS_MAX * (SOV_UUID_LEN + 3) + 4];
    const char *params[] = { r->period_to, scope_literal(r, scope, sizeof(scope)) };

    return sov_db_query(c, SQL_BUILD_DECLARE, 2, params, NULL, err);
}

int
repo_build_fetch_send(sov_dbconn *c, sov_error *err)
{
    if (!PQsendQuery(sov_db_conn(c), SQL_BUILD_FETCH))
        return sov_db_error(sov_db_conn(c), NULL, err);
    return 0;
}

int
repo_build_fetch_wait(sov_dbconn *c, PGresult **ret, sov_error *err)
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
repo_build_end(sov_dbconn *c, sov_error *err)
{
    return sov_db_query(c, SQL_BUILD_CLOSE, 0, NULL, NULL, err);
}
