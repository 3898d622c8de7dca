/* report.c: residency reports: asking for one, building it (the worker's work), reading it.
 *
 * Building reads the residency records of the period's scope from one REPEATABLE READ READ
 * ONLY snapshot through a server-side cursor, 10,000 at a time (the next batch asked for
 * before this one is worked on, so PostgreSQL and sovd work at once), ordered by resource
 * and sequence, and turns them into intervals: "placed" and "copied" open one at their
 * destination, "moved" closes its origin and opens its destination, "deleted" closes its
 * origin (every open interval of the resource when it names none). Only the open intervals
 * of the resource being read are held; an interval is written out when it closes (clipped
 * to the period), and those still open when the resource's records end are written last,
 * ending at the period's end, or at the snapshot's time when the period reaches beyond it
 * (what happens later is not known yet). So a resource's rows come in the order its
 * intervals ended.
 *
 * Each row is checked against the tenant's policy in force at the time (the snapshot of its
 * last policy-changed record at or before that time, else the default, the EU): the parts of
 * an interval that policy did not allow are violations, listed after the summary. The
 * tenants' policy timelines (a few records each) are held in memory for the whole build.
 *
 * The header names the SHA-256 of the rows, so rows go to a temporary file while they are
 * hashed; then header, rows, summary and violations are assembled into a second temporary
 * file (hashed as a whole), signed, and stored as 1 MiB chunks with the report's outcome in
 * one transaction. Temporary files live in the state folder (not /tmp, which may be memory)
 * and are unlinked from the start: a crash leaves nothing behind. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_int.h"
#include "report_repo.h"
#include "sov/audit.h"
#include "sov/buf.h"
#include "sov/crypto.h"
#include "sov/log.h"
#include "sov/ops.h"
#include "sov/registry.h"
#include "sov/timeutil.h"

#define US_PER_S 1000000LL
/* Ten years, leap days included. */
#define PERIOD_MAX_US (3653LL * 86400 * US_PER_S)
#define PROGRESS_EVERY 100000   /* records between two progress reports (lease renewals) */

static const char CSV_COLUMNS[] =
    "resource_type,resource_id,tenant_id,start,end,host,region,country,jurisdiction,"
    "datacenter";

SOV_DEFINE_AUTOPTR(FILE, fclose)
SOV_DEFINE_AUTOPTR(EVP_MD_CTX, EVP_MD_CTX_free)

/* ---- asking for a report ---- */

/* Microseconds since 1970 of an RFC 3339 time (its fraction kept to the microsecond). */
static int
parse_time(const char *field, const char *s, long long *ret, sov_error *err)
{
    time_t t;
    long long frac = 0, scale = 100000;

    if (!s || sov_rfc3339_parse(s, &t) < 0)
        return sov_error_invalid(err, field, "%s must be an RFC 3339 time like "
                                 "2026-01-01T00:00:00Z", field);
    if (s[19] == '.')
        for (const char *p = s + 20; *p >= '0' && *p <= '9' && scale > 0; p++, scale /= 10)
            frac += (*p - '0') * scale;
    *ret = (long long) t * US_PER_S + frac;
    return 0;
}

/* Operators and auditors of the operator tenant report on any tenants (sovd itself too). */
static bool
reaches_all(const sov_ctx *ctx)
{
    return !ctx->who || sov_ctx_is_operator(ctx) ||
           (ctx->who->role == SOV_ROLE_AUDITOR && ctx->who->operator_tenant);
}

/* The tenants a report covers, as a '{...}' literal into buf; NULL in *ret for all. */
static int
scope_of(sov_ctx *ctx, const sov_report_args *a, char *buf, size_t size, const char **ret,
         sov_error *err)
{
    char ids[SOV_REPORT_TENANTS_MAX][SOV_UUID_LEN + 1];

    if (!a->tenants) {
        if (reaches_all(ctx)) {
            *ret = NULL;
            return 0;
        }
        sov_pg_array_format(buf, size, ctx->who->tenant_id, 1, 0);
        *ret = buf;
        return 0;
    }
    if (a->ntenants == 0)
        return sov_error_invalid(err, "tenants", "tenants lists at least one tenant id (leave "
                                 "it out for your own tenant, or all you may see)");
    if (a->ntenants > SOV_REPORT_TENANTS_MAX)
        return sov_error_invalid(err, "tenants", "a report names at most %d tenants",
                                 SOV_REPORT_TENANTS_MAX);
    for (size_t i = 0; i < a->ntenants; i++) {
        if (!sov_uuid_valid(a->tenants[i]))
            return sov_error_invalid(err, "tenants", "tenants must be a list of tenant ids "
                                     "(UUIDs), not '%.64s'", a->tenants[i]);
        for (size_t k = 0; k <= SOV_UUID_LEN; k++)
            ids[i][k] = (char) (a->tenants[i][k] >= 'A' && a->tenants[i][k] <= 'F'
                                    ? a->tenants[i][k] - 'A' + 'a' : a->tenants[i][k]);
        for (size_t k = 0; k < i; k++)
            if (strcmp(ids[k], ids[i]) == 0)
                return sov_error_invalid(err, "tenants", "tenant '%s' is listed twice",
                                         ids[i]);
        /* Another tenant is not there for those who may not see it. */
        if (!reaches_all(ctx) && strcmp(ids[i], ctx->who->tenant_id) != 0)
            return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%s' does not exist", ids[i]);
    }
    sov_pg_array_format(buf, size, ids[0], a->ntenants, sizeof(ids[0]));
    *ret = buf;
    return 0;
}

typedef struct create_args {
    sov_ctx *ctx;
    const char *id, *from, *to, *scope, *format;
    sov_report *ret;
    sov_op *op;
} create_args;

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    create_args *a = arg;
    const char *tenant = a->ctx->who->tenant_id;

    if (sov_op_enqueue(c, a->ctx, tenant, "residency.report", "residency-report", a->id, NULL,
                       a->op, err) < 0 ||
        sov_repo_report_insert(c, a->id, tenant, a->ctx->who->user_id, a->from, a->to, a->scope,
                               a->format, a->op->id, err) < 0 ||
        sov_audit_append(c, a->ctx, tenant, "residency-report", a->id, SOV_OUTCOME_ACCEPTED,
                         err) < 0)
        return -1;
    return sov_repo_report_get(c, NULL, a->id, a->ret, err);
}

int
sov_report_create(sov_ctx *ctx, const sov_report_args *a, sov_report *ret, sov_op *op,
                  sov_error *err)
{
    char scope_buf[SOV_REPORT_TENANTS_MAX * (SOV_UUID_LEN + 3) + 4];
    char id[SOV_UUID_LEN + 1], from[40], to[40];
    long long f = 0, t = 0;
    const char *scope = NULL;
    create_args x = { ctx, id, from, to, NULL, a->format, ret, op };

    if (!ctx->who)
        return sov_error_set(err, SOV_E_INTERNAL, "a report is asked for by someone");
    if (parse_time("from", a->from, &f, err) < 0 || parse_time("to", a->to, &t, err) < 0)
        return -1;
    if (f >= t)
        return sov_error_invalid(err, "to", "to must come after from");
    if (t - f > PERIOD_MAX_US)
        return sov_error_invalid(err, "to", "a report covers at most ten years");
    if (!a->format || (strcmp(a->format, "csv") != 0 && strcmp(a->format, "json") != 0))
        return sov_error_invalid(err, "format", "format must be csv or json");
    if (scope_of(ctx, a, scope_buf, sizeof(scope_buf), &scope, err) < 0 ||
        sov_uuid_v4(id, err) < 0)
        return -1;
    /* The period as the build will print it, so the stored times are exactly those. */
    sov_report_time_format(f, from);
    sov_report_time_format(t, to);
    x.scope = scope;
    return sov_ctx_tx(ctx, create_tx, &x, err);
}

/* The tenant whose reports the principal reads: its own, or NULL (all) for operators. */
static const char *
visible_tenant(const sov_ctx *ctx)
{
    return !ctx->who || sov_ctx_is_operator(ctx) ? NULL : ctx->who->tenant_id;
}

int
sov_report_get(sov_ctx *ctx, const char *id, sov_report *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (!sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "report '%.64s' does not exist",
                             id ? id : "");
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_report_get(c, visible_tenant(ctx), id, ret, err);
}

int
sov_report_list(sov_ctx *ctx, const char *after, unsigned limit, sov_report_page *ret,
                sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (after && !sov_uuid_valid(after))
        return sov_error_invalid(err, "after", "after must be the cursor of a 'next' link");
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_report_list(c, visible_tenant(ctx), after, limit ? limit : 100, ret, err);
}

static int
must_be_ready(const sov_report *r, sov_error *err)
{
    if (strcmp(r->state, "succeeded") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "report '%s' is %s, not ready%s", r->id,
                             r->state, strcmp(r->state, "failed") == 0 ? "" : " yet");
    return 0;
}

int
sov_report_signature(sov_ctx *ctx, const char *id, unsigned char sig[SOV_SIGNATURE_LEN],
                     sov_report *meta, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_report_get(ctx, id, meta, err) < 0 || must_be_ready(meta, err) < 0 ||
        sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_report_signature(c, id, sig, err);
}

/* ---- reading a document ----
 *
 * A download waits on its client for as long as the client likes, so it holds no pooled
 * connection meanwhile: each 1 MiB chunk is fetched on a connection borrowed for that one
 * SELECT and given back at once. A finished report's chunks never change (a build of a
 * succeeded report does nothing), so reading them in several statements reads the same
 * document; and a download holds at most one chunk in memory. */

struct sov_report_reader {
    sov_db *db;
    char id[SOV_UUID_LEN + 1];
    long long size;
    int seq;                /* the chunk in chunk, -1 for none */
    PGresult *chunk;
};

int
sov_report_open(sov_ctx *ctx, const char *id, sov_report *meta, sov_report_reader **ret,
                sov_error *err)
{
    sov_report_reader *r;

    if (sov_report_get(ctx, id, meta, err) < 0 || must_be_ready(meta, err) < 0)
        return -1;
    r = calloc(1, sizeof(*r));
    if (!r)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    r->db = ctx->db;
    snprintf(r->id, sizeof(r->id), "%s", meta->id);
    r->size = meta->size_bytes;
    r->seq = -1;
    *ret = r;
    return 0;
}

/* Chunk seq into r->chunk, on a connection held only while it is read. */
static int
load_chunk(sov_report_reader *r, int seq, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    PQclear(r->chunk);
    r->chunk = NULL;
    r->seq = -1;
    if (sov_db_acquire(r->db, &c, err) < 0 || sov_repo_report_chunk_get(c, r->id, seq, &r->chunk,
                                                                        err) < 0)
        return -1;
    r->seq = seq;
    return 0;
}

long
sov_report_read(sov_report_reader *r, unsigned long long pos, char *buf, size_t max,
                sov_error *err)
{
    int seq = (int) (pos / SOV_REPORT_CHUNK);
    size_t off = (size_t) (pos % SOV_REPORT_CHUNK), len, n;

    if (pos >= (unsigned long long) r->size || max == 0)
        return 0;
    /* One chunk at a time: a download holds at most 1 MiB of it. */
    if (seq != r->seq && load_chunk(r, seq, err) < 0)
        return -1;
    len = (size_t) PQgetlength(r->chunk, 0, 0);
    if (off >= len)
        return sov_error_set(err, SOV_E_INTERNAL, "report '%s' is shorter than recorded",
                             r->id);
    n = len - off < max ? len - off : max;
    memcpy(buf, PQgetvalue(r->chunk, 0, 0) + off, n);
    return (long) n;
}

void
sov_report_reader_free(sov_report_reader *r)
{
    if (!r)
        return;
    PQclear(r->chunk);
    free(r);
}

/* ---- building: writing rows ---- */

typedef sov_report_policy_at policy_at;

typedef struct hours {          /* resource time at one country or jurisdiction */
    char key[8];
    long long secs, us;         /* apart, so ten years of a million intervals cannot overflow */
} hours;

typedef struct build {
    sov_ctx *ctx;
    sov_report r;
    bool json;
    long long now;              /* the snapshot's time */
    sov_signer *signer;
    policy_at *policies;
    size_t npolicies;
    sov_policy default_policy;
    /* the resource being read */
    sov_buf type, id;
    char tenant[SOV_UUID_LEN + 1];
    size_t plo, phi;            /* its tenant's policies: policies[plo..phi) */
    int rec[REC__COUNT];        /* the columns of the batch being read */
    sov_report_spans spans;     /* its open intervals; rows are clipped to [from, end) */
    /* what is written */
    FILE *rows, *viol;
    EVP_MD_CTX *rows_md;
    sov_buf line;
    json_t *row;                /* a JSON row's object, its members reset for each interval */
    json_t *row_val[10];        /* its members, in its keys' order (borrowed from row) */
    hours countries[300], jurisdictions[8];
    size_t ncountries, njurisdictions;
    long long records;
} build;

static void
build_release(build *b)
{
    sov_signer_free(b->signer);
    free(b->policies);
    sov_buf_release(&b->type);
    sov_buf_release(&b->id);
    sov_report_spans_release(&b->spans);
    if (b->rows)
        fclose(b->rows);
    if (b->viol)
        fclose(b->viol);
    EVP_MD_CTX_free(b->rows_md);
    sov_buf_release(&b->line);
    json_decref(b->row);
}

/* An anonymous file in the state folder, read and written by this process only. */
static int
temp_file(const char *dir, FILE **ret, sov_error *err)
{
    char path[4200];
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        /* A file system without O_TMPFILE: a named file, unlinked at once. */
        snprintf(path, sizeof(path), "%s/.report-XXXXXX", dir);
        fd = mkostemp(path, O_CLOEXEC);
        if (fd >= 0)
            unlink(path);
    }
    if (fd < 0) {
        /* The tenant sees the message (the operation's error), an operator the folder. */
        sov_error_detail(err, "'%s': %s", dir, strerror(errno));
        return sov_error_set(err, SOV_E_INTERNAL, "could not create a temporary file");
    }
    *ret = fdopen(fd, "w+");
    if (!*ret) {
        close(fd);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    return 0;
}

static void
put_csv(sov_buf *b, const char *s)
{
    if (!s[strcspn(s, ",\"\r\n")]) {
        sov_buf_puts(b, s);
        return;
    }
    sov_buf_puts(b, "\"");
    for (const char *p = s; *p; p++) {
        size_t n = strcspn(p, "\"");
        sov_buf_append(b, p, n);
        p += n;
        if (!*p)
            break;
        sov_buf_puts(b, "\"\"");
    }
    sov_buf_puts(b, "\"");
}

static int
append_dump(const char *data, size_t len, void *arg)
{
    sov_buf *b = arg;

    sov_buf_append(b, data, len);
    return b->oom ? -1 : 0;
}

/* o, compact and in the order its keys were set, appended to b (o is kept). */
static void
put_json(sov_buf *b, const json_t *o)
{
    const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
    char small[1024];
    size_t n;

    if (!o) {
        b->oom = true;
        return;
    }
    /* Most rows fit the stack: one append rather than one per token. */
    n = json_dumpb(o, small, sizeof(small), flags);
    if (n > 0 && n <= sizeof(small))
        sov_buf_append(b, small, n);
    else if (json_dump_callback(o, append_dump, b, flags) < 0)
        b->oom = true;
}

/* The same, o consumed. */
static void
put_json_new(sov_buf *b, json_t *o)
{
    put_json(b, o);
    json_decref(o);
}

/* An object with these keys, in this order, each holding ""; vals[k] lends its members. */
static json_t *
row_object(const char *const *keys, size_t n, json_t **vals)
{
    json_t *o = json_object();

    for (size_t k = 0; o && k < n; k++) {
        vals[k] = json_string("");
        if (json_object_set_new_nocheck(o, keys[k], vals[k]) < 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* One interval into b->line, in the document's format (no separator, no newline); a JSON
 * violation also carries the policy it broke (policy: that policy's JSON, else NULL). */
static void
put_interval(build *b, const sov_location *at, long long start, long long end,
             const char *policy)
{
    char s[40], e[40];
    const char *fields[] = { b->type.data, b->id.data, b->tenant, s, e, at->host, at->region,
                             at->country, at->jurisdiction, at->datacenter };
    static const char *const keys[] = { "resource_type", "resource_id", "tenant_id", "start",
                                        "end", "host", "region", "country", "jurisdiction",
                                        "datacenter" };

    sov_report_time_format(start, s);
    sov_report_time_format(end, e);
    if (b->json) {
        /* One object for every row, its members reset in place: a million rows do not
         * build a million objects. A violation adds the policy last, then drops it. */
        _Static_assert(SOV_N_ELEMENTS(keys) == SOV_N_ELEMENTS(b->row_val), "one per key");
        if (!b->row)
            b->row = row_object(keys, SOV_N_ELEMENTS(keys), b->row_val);
        /* PostgreSQL hands out valid UTF-8 (the database's encoding), and the times are
         * ASCII: no second validation per value. */
        for (size_t i = 0; b->row && i < SOV_N_ELEMENTS(fields); i++)
            if (json_string_setn_nocheck(b->row_val[i], fields[i], strlen(fields[i])) < 0) {
                b->line.oom = true;
                return;
            }
        if (b->row && policy &&
            json_object_set_new_nocheck(b->row, "policy", json_loads(policy, 0, NULL)) < 0) {
            b->line.oom = true;
            return;
        }
        put_json(&b->line, b->row);
        if (b->row && policy)
            json_object_del(b->row, "policy");
        return;
    }
    for (size_t i = 0; i < SOV_N_ELEMENTS(fields); i++) {
        if (i)
            sov_buf_append(&b->line, ",", 1);
        put_csv(&b->line, fields[i]);
    }
}

static int
write_line(build *b, FILE *f, sov_error *err)
{
    if (b->line.oom)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (b->line.len > 0 && fwrite(b->line.data, 1, b->line.len, f) != b->line.len)
        return sov_error_set(err, SOV_E_INTERNAL, "could not write the report: %s",
                             strerror(errno));
    return 0;
}

static void
add_hours(hours *list, size_t *n, size_t max, const char *key, long long us)
{
    size_t i;

    for (i = 0; i < *n; i++)
        if (strcmp(list[i].key, key) == 0)
            break;
    if (i == *n) {
        if (*n == max)
            return;     /* more places than exist: cannot happen with checked codes */
        snprintf(list[i].key, sizeof(list[i].key), "%s", key);
        list[i].secs = list[i].us = 0;
        (*n)++;
    }
    list[i].secs += us / US_PER_S;
    list[i].us += us % US_PER_S;
}

/* A part of an interval the policy then in force did not allow. */
static int
violation(void *arg, const sov_location *at, long long start, long long end,
          const sov_policy *p, sov_error *err)
{
    build *b = arg;
    char policy[SOV_POLICY_MAX * (SOV_NAME_MAX + 4) * 2 + 128];

    sov_policy_json(p, policy, sizeof(policy));
    b->line.len = 0;
    if (b->json) {
        sov_buf_puts(&b->line, b->r.violations ? ",\n" : "\n");
        put_interval(b, at, start, end, policy);
    } else {
        sov_buf_puts(&b->line, "violation,");
        put_interval(b, at, start, end, NULL);
        sov_buf_puts(&b->line, ",");
        put_csv(&b->line, policy);
        sov_buf_puts(&b->line, "\n");
    }
    b->r.violations++;
    return write_line(b, b->viol, err);
}

/* Walk [start, end) along the tenant's policy timeline. */
static int
check_policy(build *b, const sov_location *at, long long start, long long end,
             sov_error *err)
{
    return sov_report_policy_walk(b->policies + b->plo, b->phi - b->plo, &b->default_policy,
                                  at, start, end, violation, b, err);
}

/* Write an interval (clipped to the period by b->spans); count its hours; check it against
 * the policy. */
static int
emit(void *arg, const sov_location *at, long long s, long long e, sov_error *err)
{
    build *b = arg;

    b->line.len = 0;
    if (b->json)
        sov_buf_puts(&b->line, b->r.rows ? ",\n" : "\n");
    put_interval(b, at, s, e, NULL);
    if (!b->json)
        sov_buf_puts(&b->line, "\n");
    if (write_line(b, b->rows, err) < 0)
        return -1;
    EVP_DigestUpdate(b->rows_md, b->line.data, b->line.len);
    b->r.rows++;
    add_hours(b->countries, &b->ncountries, SOV_N_ELEMENTS(b->countries), at->country, e - s);
    add_hours(b->jurisdictions, &b->njurisdictions, SOV_N_ELEMENTS(b->jurisdictions),
              at->jurisdiction, e - s);
    return check_policy(b, at, s, e, err);
}

/* ---- building: intervals from records ---- */

/* A place as a record names it: pointers into the fetched rows. */
typedef sov_report_place place;

/* col: the indices of its host, region, country, jurisdiction and datacenter. */
static void
place_of(const PGresult *res, int i, const int col[5], place *p)
{
    p->host = PQgetvalue(res, i, col[0]);
    p->region = PQgetvalue(res, i, col[1]);
    p->country = PQgetvalue(res, i, col[2]);
    p->jurisdiction = PQgetvalue(res, i, col[3]);
    p->datacenter = PQgetvalue(res, i, col[4]);
}

static int
policy_cmp(const void *x, const void *y)
{
    const policy_at *a = x, *b = y;
    int c = strcmp(a->tenant, b->tenant);

    if (c != 0)
        return c;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static int
load_policies(build *b, sov_dbconn *c, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    int col[REPO_POLICY_COLS];

    if (sov_repo_build_policies(c, &b->r, &res, err) < 0 ||
        sov_repo_build_policy_cols(res, col, err) < 0)
        return -1;
    b->npolicies = (size_t) PQntuples(res);
    b->policies = calloc(b->npolicies + 1, sizeof(*b->policies));
    if (!b->policies)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < b->npolicies; i++) {
        policy_at *p = &b->policies[i];
        sov_repo_build_policy_row(res, (int) i, col, p->tenant, &p->at, &p->p);
        p->order = i;
    }
    qsort(b->policies, b->npolicies, sizeof(*b->policies), policy_cmp);
    sov_policy_default(&b->default_policy);
    return 0;
}

/* The intervals still open when a resource's records end reach the end of the period. */
static int
finish_resource(build *b, sov_error *err)
{
    return sov_report_spans_finish(&b->spans, err);
}

static int
start_resource(build *b, const PGresult *res, int i, sov_error *err)
{
    if (finish_resource(b, err) < 0)
        return -1;
    b->type.len = b->id.len = 0;
    sov_buf_append(&b->type, PQgetvalue(res, i, b->rec[REC_TYPE]),
                   (size_t) PQgetlength(res, i, b->rec[REC_TYPE]));
    sov_buf_append(&b->type, "", 1);
    sov_buf_append(&b->id, PQgetvalue(res, i, b->rec[REC_ID]),
                   (size_t) PQgetlength(res, i, b->rec[REC_ID]));
    sov_buf_append(&b->id, "", 1);
    if (b->type.oom || b->id.oom)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    snprintf(b->tenant, sizeof(b->tenant), "%s", PQgetvalue(res, i, b->rec[REC_TENANT]));
    b->plo = 0;
    while (b->plo < b->npolicies && strcmp(b->policies[b->plo].tenant, b->tenant) < 0)
        b->plo++;
    b->phi = b->plo;
    while (b->phi < b->npolicies && strcmp(b->policies[b->phi].tenant, b->tenant) == 0)
        b->phi++;
    return 0;
}

static int
apply_record(build *b, const PGresult *res, int i, sov_error *err)
{
    const char *event = PQgetvalue(res, i, b->rec[REC_EVENT]);
    long long at = strtoll(PQgetvalue(res, i, b->rec[REC_AT_US]), NULL, 10);
    place from, to;

    if (!b->type.data || strcmp(PQgetvalue(res, i, b->rec[REC_TYPE]), b->type.data) != 0 ||
        strcmp(PQgetvalue(res, i, b->rec[REC_ID]), b->id.data) != 0)
        if (start_resource(b, res, i, err) < 0)
            return -1;
    place_of(res, i, &b->rec[REC_FROM_HOST], &from);
    place_of(res, i, &b->rec[REC_TO_HOST], &to);
    return sov_report_spans_apply(&b->spans, event, at, &from, &to, err);
}

static int
step(build *b, sov_report_progress_fn progress, void *arg, const char *what, int pct,
     sov_error *err)
{
    return progress ? progress(arg, what, pct, err) : 0;
}

typedef struct read_args {
    build *b;
    sov_report_progress_fn progress;
    void *arg;
} read_args;

static int read_tx(sov_dbconn *c, void *arg, sov_error *err);

/* Everything in scope, from one snapshot: the document is consistent however long it takes
 * to read. */
static int
read_records(build *b, sov_dbconn *c, sov_report_progress_fn progress, void *arg,
             sov_error *err)
{
    read_args a = { b, progress, arg };

    return sov_db_tx_snapshot_on(c, read_tx, &a, err);
}

static int
read_tx(sov_dbconn *c, void *ra, sov_error *err)
{
    build *b = ((read_args *) ra)->b;
    sov_report_progress_fn progress = ((read_args *) ra)->progress;
    void *arg = ((read_args *) ra)->arg;
    long long next_report = PROGRESS_EVERY;
    char what[96];

    if (sov_repo_build_begin(c, &b->now, err) < 0)
        return -1;
    b->spans.end = b->r.to_us < b->now ? b->r.to_us : b->now;
    if (load_policies(b, c, err) < 0 || sov_repo_build_declare(c, &b->r, err) < 0 ||
        sov_repo_build_fetch_send(c, err) < 0)
        return -1;
    for (;;) {
        sov_autoptr(PGresult) res = NULL;
        int n;

        if (sov_repo_build_fetch_wait(c, &res, err) < 0)
            return -1;
        n = PQntuples(res);
        if (n == 0)
            break;
        if (sov_repo_build_record_cols(res, b->rec, err) < 0)
            return -1;
        /* The next batch is read and sent by PostgreSQL while this one is worked on. */
        if (sov_repo_build_fetch_send(c, err) < 0)
            return -1;
        for (int i = 0; i < n; i++)
            if (apply_record(b, res, i, err) < 0)
                return -1;
        b->records += n;
        if (b->records >= next_report) {
            next_report += PROGRESS_EVERY;
            snprintf(what, sizeof(what), "reading residency records (%lld so far)",
                     b->records);
            if (step(b, progress, arg, what, 30, err) < 0)
                return -1;
        }
    }
    if (finish_resource(b, err) < 0)
        return -1;
    return sov_repo_build_end(c, err);
}

/* ---- building: the document ---- */

static void
md_hex(EVP_MD_CTX *md, char out[SOV_SHA256_HEX_LEN + 1])
{
    unsigned char sum[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_DigestFinal_ex(md, sum, &n);
    sov_hex_encode(sum, n < 32 ? n : 32, out);
    out[SOV_SHA256_HEX_LEN] = '\0';
}

static int
hours_cmp(const void *x, const void *y)
{
    return strcmp(((const hours *) x)->key, ((const hours *) y)->key);
}

static void
put_header(build *b, sov_buf *h)
{
    char generated[40];

    sov_report_time_format(b->now, generated);
    if (b->json) {
        json_t *scope = b->r.all_tenants ? json_null() : json_array();
        for (size_t i = 0; scope && !b->r.all_tenants && i < b->r.ntenants; i++)
            json_array_append_new(scope, json_string(b->r.tenants[i]));
        sov_buf_puts(h, "{\"report\":");
        put_json_new(h, json_pack("{s:s, s:{s:s, s:s}, s:o, s:s, s:I, s:s}",
                                  "key_id", sov_signer_key_id(b->signer),
                                  "period", "from", b->r.period_from, "to", b->r.period_to,
                                  "scope", scope, "generated_at", generated,
                                  "rows", (json_int_t) b->r.rows,
                                  "rows_sha256", b->r.rows_sha256));
        sov_buf_puts(h, ",\n\"rows\":");
        return;
    }
    sov_buf_printf(h, "# sovereign residency report\n# key_id: %s\n# period: %s/%s\n",
                   sov_signer_key_id(b->signer), b->r.period_from, b->r.period_to);
    if (b->r.all_tenants)
        sov_buf_puts(h, "# scope: all tenants\n");
    for (size_t i = 0; !b->r.all_tenants && i < b->r.ntenants; i++)
        sov_buf_printf(h, "%s%s", i ? "," : "# scope: tenants ", b->r.tenants[i]);
    if (!b->r.all_tenants)
        sov_buf_puts(h, "\n");
    sov_buf_printf(h, "# generated_at: %s\n# rows: %lld\n# rows_sha256: %s\n%s\n", generated,
                   b->r.rows, b->r.rows_sha256, CSV_COLUMNS);
}

static double
hours_of(const hours *h)
{
    return (double) h->secs / 3600.0 + (double) h->us / 3.6e9;
}

static void
put_hours(sov_buf *t, const char *kind, hours *list, size_t n)
{
    qsort(list, n, sizeof(*list), hours_cmp);
    for (size_t i = 0; i < n; i++)
        sov_buf_printf(t, "resource_hours,%s,%s,%.3f\n", kind, list[i].key, hours_of(&list[i]));
}

static json_t *
hours_json(hours *list, size_t n)
{
    json_t *o = json_object();

    qsort(list, n, sizeof(*list), hours_cmp);
    for (size_t i = 0; o && i < n; i++)
        /* To the thousandth, as the CSV prints them (hours are never negative). */
        json_object_set_new(o, list[i].key,
                            json_real((double) (long long) (hours_of(&list[i]) * 1000.0 + 0.5) /
                                      1000.0));
    return o;
}

/* The JSON summary object, through jansson: resource-hours per country and jurisdiction
 * (numbers to the thousandth, as short as they print: 37.0, 0.5), the violation count, and
 * a warning when there are any. The document around it is streamed (rows are written as
 * they are read), so the framing between its parts stays here. */
static int
put_summary_json(build *b, sov_buf *t)
{
    char warning[128];
    json_t *o = json_pack("{s:{s:o, s:o}, s:I}", "resource_hours", "country",
                          hours_json(b->countries, b->ncountries), "jurisdiction",
                          hours_json(b->jurisdictions, b->njurisdictions), "violations",
                          (json_int_t) b->r.violations);
    sov_autofree char *text = NULL;

    if (o && b->r.violations > 0) {
        snprintf(warning, sizeof(warning), "VIOLATIONS: %lld intervals outside the tenant's "
                 "residency policy", b->r.violations);
        json_object_set_new(o, "warning", json_string(warning));
    }
    text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))
             : NULL;
    json_decref(o);
    if (!text)
        return -1;
    sov_buf_printf(t, ",\n\"summary\":%s,\n\"violations\":[", text);
    return 0;
}

/* After the rows: the summary, and the start of the violations. */
static int
put_summary(build *b, sov_buf *t)
{
    if (b->json)
        return put_summary_json(b, t);
    sov_buf_puts(t, "# summary\n");
    put_hours(t, "country", b->countries, b->ncountries);
    put_hours(t, "jurisdiction", b->jurisdictions, b->njurisdictions);
    if (b->r.violations == 0) {
        sov_buf_puts(t, "# violations: 0\n");
        return 0;
    }
    sov_buf_printf(t, "# VIOLATIONS: %lld \xe2\x80\x94 intervals outside the tenant's "
                   "residency policy follow\n# violation,%s,policy\n", b->r.violations,
                   CSV_COLUMNS);
    return 0;
}

/* Write data to out and to the document's digest. */
static int
doc_put(FILE *out, EVP_MD_CTX *md, const void *data, size_t len, sov_error *err)
{
    if (len > 0 && fwrite(data, 1, len, out) != len)
        return sov_error_set(err, SOV_E_INTERNAL, "could not write the report: %s",
                             strerror(errno));
    EVP_DigestUpdate(md, data, len);
    return 0;
}

/* Append all of in (rewound) to out. */
static int
doc_copy(FILE *out, EVP_MD_CTX *md, FILE *in, sov_error *err)
{
    char buf[64 * 1024];
    size_t n;

    if (fflush(in) != 0 || fseek(in, 0, SEEK_SET) != 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not read the report back: %s",
                             strerror(errno));
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        if (doc_put(out, md, buf, n, err) < 0)
            return -1;
    if (ferror(in))
        return sov_error_set(err, SOV_E_INTERNAL, "could not read the report back");
    return 0;
}

/* Header, rows, summary and violations into doc, hashed as a whole. */
static int
assemble(build *b, FILE *doc, sov_error *err)
{
    sov_autoptr(EVP_MD_CTX) md = EVP_MD_CTX_new();
    sov_buf h = SOV_BUF_INIT, t = SOV_BUF_INIT;
    int rc;

    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        return sov_error_set(err, SOV_E_INTERNAL, "could not hash the report");
    md_hex(b->rows_md, b->r.rows_sha256);
    snprintf(b->r.key_id, sizeof(b->r.key_id), "%s", sov_signer_key_id(b->signer));
    put_header(b, &h);
    rc = put_summary(b, &t) < 0 || h.oom || t.oom
             ? sov_error_set(err, SOV_E_INTERNAL, "out of memory") : 0;
    if (rc == 0)
        rc = doc_put(doc, md, h.data, h.len, err);
    if (rc == 0)
        rc = doc_copy(doc, md, b->rows, err);
    if (rc == 0)
        rc = doc_put(doc, md, t.data, t.len, err);
    if (rc == 0)
        rc = doc_copy(doc, md, b->viol, err);
    if (rc == 0 && b->json)
        rc = doc_put(doc, md, b->r.violations ? "\n]}\n" : "]}\n",
                     b->r.violations ? 4 : 3, err);
    sov_buf_release(&h);
    sov_buf_release(&t);
    if (rc < 0)
        return -1;
    if (fflush(doc) != 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not write the report: %s",
                             strerror(errno));
    b->r.size_bytes = (long long) ftello(doc);
    md_hex(md, b->r.document_sha256);
    return 0;
}

/* Ed25519 in OpenSSL signs in one shot (it hashes the message twice, so there is no update
 * step): the whole document must be one buffer. It is the assembled file, mapped: the
 * kernel pages it in from the file as the signature reads it and may drop the pages again,
 * and sovd's heap never holds it. */
static int
sign_file(build *b, FILE *doc, unsigned char sig[SOV_SIGNATURE_LEN], sov_error *err)
{
    size_t len = (size_t) b->r.size_bytes;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fileno(doc), 0);
    int rc;

    if (map == MAP_FAILED)
        return sov_error_set(err, SOV_E_INTERNAL, "could not map the report: %s",
                             strerror(errno));
    madvise(map, len, MADV_SEQUENTIAL);
    rc = sov_signer_sign(b->signer, map, len, sig, err);
    munmap(map, len);
    return rc;
}

typedef struct store_args {
    build *b;
    FILE *doc;
    const unsigned char *sig;
} store_args;

/* The chunks, the outcome and its audit entry, all or nothing. */
static int
store_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    store_args *a = arg;
    build *b = a->b;
    sov_autofree char *buf = malloc(SOV_REPORT_CHUNK);
    int fd = fileno(a->doc);

    if (!buf)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (sov_repo_report_chunks_clear(c, b->r.id, err) < 0)
        return -1;
    for (long long off = 0, seq = 0; off < b->r.size_bytes; seq++) {
        size_t want = b->r.size_bytes - off < SOV_REPORT_CHUNK
                          ? (size_t) (b->r.size_bytes - off) : SOV_REPORT_CHUNK;
        size_t got = 0;
        while (got < want) {
            ssize_t n = pread(fd, buf + got, want - got, (off_t) (off + (long long) got));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return sov_error_set(err, SOV_E_INTERNAL, "could not read the report back");
            got += (size_t) n;
        }
        if (sov_repo_report_chunk_put(c, b->r.id, (int) seq, buf, want, err) < 0)
            return -1;
        off += (long long) want;
    }
    if (sov_repo_report_finish(c, &b->r, a->sig, err) < 0)
        return -1;
    return sov_audit_append(c, b->ctx, b->r.tenant_id, "residency-report", b->r.id, SOV_OUTCOME_OK,
                            err);
}

static int
write_document(build *b, sov_dbconn *c, sov_report_progress_fn progress, void *arg,
               sov_error *err)
{
    sov_autoptr(FILE) doc = NULL;
    unsigned char sig[SOV_SIGNATURE_LEN];
    store_args a = { b, NULL, sig };

    if (step(b, progress, arg, "assembling the document", 70, err) < 0 ||
        temp_file(b->ctx->cfg->state_dir, &doc, err) < 0 || assemble(b, doc, err) < 0 ||
        step(b, progress, arg, "signing the document", 80, err) < 0 ||
        sign_file(b, doc, sig, err) < 0 ||
        step(b, progress, arg, "storing the document", 90, err) < 0)
        return -1;
    a.doc = doc;
    return sov_db_tx_on(c, store_tx, &a, err);
}

/* Bytes of the rows section that are not rows (the JSON array's brackets), hashed too. */
static int
rows_raw(build *b, const char *s, sov_error *err)
{
    size_t n = strlen(s);

    if (fwrite(s, 1, n, b->rows) != n)
        return sov_error_set(err, SOV_E_INTERNAL, "could not write the report: %s",
                             strerror(errno));
    EVP_DigestUpdate(b->rows_md, s, n);
    return 0;
}

static int
build_run(build *b, sov_dbconn *c, sov_report_progress_fn progress, void *arg,
          sov_error *err)
{
    const char *dir = b->ctx->cfg->state_dir;

    b->json = strcmp(b->r.format, "json") == 0;
    b->spans.from = b->r.from_us;
    b->spans.emit = emit;
    b->spans.arg = b;
    b->rows_md = EVP_MD_CTX_new();
    if (!b->rows_md || EVP_DigestInit_ex(b->rows_md, EVP_sha256(), NULL) != 1)
        return sov_error_set(err, SOV_E_INTERNAL, "could not hash the report");
    if (sov_signer_get(&b->signer, err) < 0 || temp_file(dir, &b->rows, err) < 0 ||
        temp_file(dir, &b->viol, err) < 0 || (b->json && rows_raw(b, "[", err) < 0) ||
        step(b, progress, arg, "reading residency records", 10, err) < 0 ||
        read_records(b, c, progress, arg, err) < 0 ||
        (b->json && rows_raw(b, "\n]", err) < 0))
        return -1;
    return write_document(b, c, progress, arg, err);
}

int
sov_report_build(sov_ctx *ctx, const char *id, sov_report_progress_fn progress, void *arg,
                 sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    build b;
    int rc;

    memset(&b, 0, sizeof(b));
    b.ctx = ctx;
    if (sov_db_acquire(ctx->db, &c, err) < 0 || sov_repo_report_get(c, NULL, id, &b.r, err) < 0)
        return -1;
    if (strcmp(b.r.state, "succeeded") == 0)
        return 0;       /* an earlier run finished it */
    if (sov_repo_report_state(c, id, "running", "", err) < 0)
        return -1;
    rc = build_run(&b, c, progress, arg, err);
    if (rc == 0)
        sov_log_info("residency report %s: %lld records, %lld rows, %lld violations, "
                     "%lld bytes, key %s", id, b.records, b.r.rows, b.r.violations,
                     b.r.size_bytes, b.r.key_id);
    build_release(&b);
    return rc;
}

/* ---- the operation ---- */

static int
op_progress(void *arg, const char *what, int pct, sov_error *err)
{
    return sov_op_step(arg, what, pct, err);
}

int
sov_report_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    return sov_report_build(sov_op_ctx(run), op->resource_id, op_progress, run, err);
}

int
sov_report_op_failed(sov_op_run *run, const sov_op *op, const char *reason, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(sov_op_ctx(run)->db, &c, err) < 0)
        return -1;
    return sov_repo_report_state(c, op->resource_id, "failed", reason, err);
}

/* residency/'s part of the registry: the report's operation kind. */
int
sov_residency_register(sov_error *err)
{
    static const sov_op_kind kinds[] = {
        { "residency.report", sov_report_op, 600, sov_report_op_failed },
        { NULL, NULL, 0, NULL },
    };

    return sov_registry_add_op_kinds(kinds, err);
}
