/* seca.c: the SECA surface's meta rules: condition history, versions, label selectors
 * (include/sov/seca.h). The SQL is in seca_repo.c.
 *
 * Conditions are kept newest first, at most SOV_SECA_CONDITIONS_MAX, each at a time no
 * earlier than the one before it. A write that follows an operation records its phase
 * (creating, updating, deleting) and the operation; each later read or write "settles" it:
 * reads the operation's state and adds the conditions it has reached, at the times the
 * operation recorded, and stops following it once it ended. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seca_repo.h"
#include "sov/identity.h"
#include "sov/ops.h"
#include "sov/seca.h"
#include "sov/timeutil.h"

static const char *const state_names[] = { "pending", "creating", "active",
                                           "updating", "deleting", "error" };

const char *
sov_seca_state_name(sov_seca_state s)
{
    return (unsigned) s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s]
                                                                        : "error";
}

/* The state a name stands for; -1 for none. */
static int
state_parse(const char *name)
{
    for (size_t i = 0; name && i < sizeof(state_names) / sizeof(state_names[0]); i++)
        if (strcmp(name, state_names[i]) == 0)
            return (int) i;
    return -1;
}

void
sov_seca_meta_clear(sov_seca_meta *m)
{
    json_decref(m->labels);
    json_decref(m->annotations);
    json_decref(m->extensions);
    json_decref(m->conditions);
    memset(m, 0, sizeof(*m));
}

/* ---- conditions ---- */

/* The newest condition's state (-1: none) and time ("" for none). */
static int
newest_state(const json_t *conds)
{
    return state_parse(json_string_value(json_object_get(json_array_get(conds, 0), "state")));
}

static const char *
newest_at(const json_t *conds)
{
    const char *at = json_string_value(json_object_get(json_array_get(conds, 0),
                                                       "lastTransitionAt"));
    return at ? at : "";
}

sov_seca_state
sov_seca_meta_state(const sov_seca_meta *m)
{
    int s = m ? newest_state(m->conditions) : -1;

    return s < 0 ? SOV_SECA_ACTIVE : (sov_seca_state) s;
}

/* Add a condition in front, at `at` or the newest one's time when that is later (all our
 * timestamps share one format, so they compare as strings), dropping the oldest beyond
 * the cap. */
static int
cond_push(json_t *conds, sov_seca_state s, const char *at, const char *reason,
          const char *message, sov_error *err)
{
    const char *last = newest_at(conds);
    json_t *c;

    if (!at || !at[0] || strcmp(at, last) < 0)
        at = last;
    c = json_pack("{s:s, s:s}", "state", sov_seca_state_name(s), "lastTransitionAt", at);
    if (!c)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if ((reason && json_object_set_new(c, "reason", json_string(reason)) < 0) ||
        (message && message[0] && json_object_set_new(c, "message", json_string(message)) < 0) ||
        json_array_insert_new(conds, 0, c) < 0) {
        if (json_array_get(conds, 0) != c)
            json_decref(c);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    while (json_array_size(conds) > SOV_SECA_CONDITIONS_MAX)
        json_array_remove(conds, json_array_size(conds) - 1);
    return 0;
}

/* "2026-12-08T00:30:00Z", "...:00.5+01:00" -> "2026-12-08T00:30:00.000Z" (UTC, ms); a text
 * that is no timestamp is copied as it is. */
static void
ts_ms(const char *in, char out[40])
{
    time_t t;
    struct tm tm;
    const char *frac;
    char ms[4] = "000";

    if (!in || sov_rfc3339_parse(in, &t) < 0 || !gmtime_r(&t, &tm)) {
        snprintf(out, 40, "%s", in ? in : "");
        return;
    }
    frac = strlen(in) > 19 && in[19] == '.' ? in + 20 : NULL;
    for (int i = 0; frac && i < 3 && isdigit((unsigned char) frac[i]); i++)
        ms[i] = frac[i];
    if (strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm) == 0 || strlen(out) > 34) {
        snprintf(out, 40, "%s", in);
        return;
    }
    strcat(out, ".");
    strcat(out, ms);
    strcat(out, "Z");
}

/* The meta of a resource with no row: version 1, empty maps, [active, creating, pending]
 * at created_at when now is active, else [now]. */
static int
meta_default(const char *resource_id, const char *kind, sov_seca_state now,
             const char *created_at, const char *clock, sov_seca_meta *m, sov_error *err)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->resource_id, sizeof(m->resource_id), "%s", resource_id);
    snprintf(m->kind, sizeof(m->kind), "%s", kind ? kind : "");
    if (created_at && created_at[0])
        ts_ms(created_at, m->created_at);
    else
        snprintf(m->created_at, sizeof(m->created_at), "%s", clock);
    snprintf(m->modified_at, sizeof(m->modified_at), "%s", m->created_at);
    m->version = 1;
    m->labels = json_object();
    m->annotations = json_object();
    m->extensions = json_object();
    m->conditions = json_array();
    if (!m->labels || !m->annotations || !m->extensions || !m->conditions)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (now == SOV_SECA_ACTIVE)
        return cond_push(m->conditions, SOV_SECA_PENDING, m->created_at, NULL, NULL, err) ||
               cond_push(m->conditions, SOV_SECA_CREATING, m->created_at, NULL, NULL, err) ||
               cond_push(m->conditions, SOV_SECA_ACTIVE, m->created_at, NULL, NULL, err)
                   ? -1 : 0;
    return cond_push(m->conditions, now, m->created_at, NULL, NULL, err);
}

/* Bring a followed operation's conditions up to date; *changed when any was added or the
 * operation stopped being followed. */
static int
settle(sov_dbconn *c, sov_seca_meta_row *r, bool *changed, sov_error *err)
{
    sov_op_times t;
    int phase;

    if (!r->follow_op[0])
        return 0;
    if (sov_op_times_get(c, r->follow_op, &t, err) < 0) {
        if (err->code != SOV_E_NOT_FOUND)
            return -1;
        sov_error_clear(err);
        r->follow_op[0] = r->follow_phase[0] = '\0';    /* gone: nothing to follow */
        *changed = true;
        return 0;
    }
    phase = state_parse(r->follow_phase);
    if (phase < 0)
        phase = SOV_SECA_UPDATING;
    if (t.started_at[0] && newest_state(r->m.conditions) != phase) {
        if (cond_push(r->m.conditions, (sov_seca_state) phase, t.started_at, NULL, NULL,
                      err) < 0)
            return -1;
        *changed = true;
    }
    if (strcmp(t.state, "succeeded") == 0) {
        if (phase != SOV_SECA_DELETING &&
            cond_push(r->m.conditions, SOV_SECA_ACTIVE, t.finished_at, NULL, NULL, err) < 0)
            return -1;
    } else if (strcmp(t.state, "failed") == 0 && strcmp(t.error_code, "superseded") == 0) {
        /* Made moot by a later operation (a deletion): that one's conditions tell. */
    } else if (strcmp(t.state, "failed") == 0) {
        if (cond_push(r->m.conditions, SOV_SECA_ERROR, t.finished_at, "OperationFailed",
                      t.error[0] ? t.error : "the operation failed", err) < 0)
            return -1;
    } else {
        return 0;
    }
    r->follow_op[0] = r->follow_phase[0] = '\0';
    *changed = true;
    return 0;
}

static int
version_conflict(sov_error *err, long long have, long long want)
{
    sov_error_set(err, SOV_E_CONFLICT, "resourceVersion is %lld, not %lld", have, want);
    snprintf(err->field, sizeof(err->field), "if-unmodified-since");
    return -1;
}

/* Move a row's meta into ret (or drop it when ret is NULL). */
static void
meta_give(sov_seca_meta_row *r, sov_seca_meta *ret)
{
    if (ret)
        *ret = r->m;
    else
        sov_seca_meta_clear(&r->m);
    memset(&r->m, 0, sizeof(r->m));
}

/* ---- reads ---- */

typedef struct get_arg {
    const char *resource_id, *kind, *created_at;
    sov_seca_state now;
    sov_seca_meta_row row;
} get_arg;

static int
get_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    get_arg *a = arg;
    char clock[40];
    bool found = false, changed = false, followed;

    sov_seca_meta_clear(&a->row.m);     /* a retried transaction starts afresh */
    if (sov_repo_seca_meta_lock(c, a->resource_id, clock, err) < 0 ||
        sov_repo_seca_meta_get(c, a->resource_id, &a->row, &found, err) < 0)
        return -1;
    if (!found)
        return meta_default(a->resource_id, a->kind, a->now, a->created_at, clock, &a->row.m,
                            err);
    /* The state the handler read may predate the end of the operation settled now: it
     * counts from the next read on. */
    followed = a->row.follow_op[0] != '\0';
    if (settle(c, &a->row, &changed, err) < 0)
        return -1;
    if (!followed && newest_state(a->row.m.conditions) != (int) a->now) {
        if (cond_push(a->row.m.conditions, a->now, clock, "ObservedThroughV1", NULL, err) < 0)
            return -1;
        changed = true;
    }
    if (changed)
        return sov_repo_seca_meta_put(c, &a->row, clock, false, err);
    return 0;
}

int
sov_seca_meta_get(sov_ctx *ctx, const char *resource_id, const char *kind,
                  sov_seca_state now, const char *created_at, sov_seca_meta *ret,
                  sov_error *err)
{
    get_arg a = { .resource_id = resource_id, .kind = kind, .created_at = created_at,
                  .now = now };

    memset(ret, 0, sizeof(*ret));
    if (!resource_id || !sov_uuid_valid(resource_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "no %s %s", kind ? kind : "resource",
                             resource_id ? resource_id : "");
    if ((unsigned) now > SOV_SECA_ERROR)
        return sov_error_set(err, SOV_E_INTERNAL, "no such state %d", (int) now);
    /* Most reads change nothing (no row, or nothing followed and nothing new): one query,
     * outside a transaction; the rest take the resource's lock and look again. */
    {
        sov_autoptr(sov_dbconn) c = NULL;
        bool found = false;

        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_seca_meta_get(c, resource_id, &a.row, &found, err) < 0)
            return -1;
        if (!found && created_at && created_at[0]) {
            if (meta_default(resource_id, kind, now, created_at, "", &a.row.m, err) < 0) {
                sov_seca_meta_clear(&a.row.m);
                return -1;
            }
            meta_give(&a.row, ret);
            return 0;
        }
        if (found && !a.row.follow_op[0] && newest_state(a.row.m.conditions) == (int) now) {
            meta_give(&a.row, ret);
            return 0;
        }
        sov_seca_meta_clear(&a.row.m);
        memset(&a.row, 0, sizeof(a.row));
    }
    if (sov_db_tx(ctx->db, get_tx, &a, err) < 0) {
        sov_seca_meta_clear(&a.row.m);
        return -1;
    }
    meta_give(&a.row, ret);
    return 0;
}

/* ---- writes ---- */

typedef struct write_arg {
    const sov_seca_write *w;
    sov_seca_meta_row row;
} write_arg;

/* Replace a map when the write gives one. */
static void
map_set(json_t **slot, json_t *given)
{
    if (!given)
        return;
    json_decref(*slot);
    *slot = json_deep_copy(given);
}

static int
write_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    write_arg *a = arg;
    const sov_seca_write *w = a->w;
    sov_seca_meta_row *r = &a->row;
    char clock[40];
    bool found = false, changed = false;
    const char *op = w->op_id && w->op_id[0] ? w->op_id : NULL;

    sov_seca_meta_clear(&r->m);
    memset(r, 0, sizeof(*r));
    if (sov_repo_seca_meta_purge(c, err) < 0 ||
        sov_repo_seca_meta_lock(c, w->resource_id, clock, err) < 0 ||
        sov_repo_seca_meta_get(c, w->resource_id, r, &found, err) < 0)
        return -1;
    if (w->if_version > 0 && (found ? r->m.version : 1) != w->if_version)
        return version_conflict(err, found ? r->m.version : 1, w->if_version);

    if (w->change == SOV_SECA_CREATED) {
        sov_seca_meta_clear(&r->m);
        memset(r, 0, sizeof(*r));
        snprintf(r->m.resource_id, sizeof(r->m.resource_id), "%s", w->resource_id);
        snprintf(r->m.created_at, sizeof(r->m.created_at), "%s", clock);
        r->m.version = 1;
        r->m.labels = json_object();
        r->m.annotations = json_object();
        r->m.extensions = json_object();
        r->m.conditions = json_array();
        if (!r->m.labels || !r->m.annotations || !r->m.extensions || !r->m.conditions)
            return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        if (cond_push(r->m.conditions, SOV_SECA_PENDING, clock, NULL, NULL, err) < 0)
            return -1;
        if (op) {
            snprintf(r->follow_op, sizeof(r->follow_op), "%s", op);
            snprintf(r->follow_phase, sizeof(r->follow_phase), "creating");
        } else if (cond_push(r->m.conditions, SOV_SECA_CREATING, clock, NULL, NULL, err) < 0 ||
                   cond_push(r->m.conditions, SOV_SECA_ACTIVE, clock, NULL, NULL, err) < 0) {
            return -1;
        }
    } else {
        if (!found && meta_default(w->resource_id, w->kind, SOV_SECA_ACTIVE, w->created_at,
                                   clock, &r->m, err) < 0)
            return -1;
        /* What an operation still followed reached so far, before the next one. */
        if (settle(c, r, &changed, err) < 0)
            return -1;
        r->follow_op[0] = r->follow_phase[0] = '\0';
        if (w->change == SOV_SECA_DELETED) {
            snprintf(r->m.deleted_at, sizeof(r->m.deleted_at), "%s", clock);
            if (cond_push(r->m.conditions, SOV_SECA_DELETING, clock, NULL, NULL, err) < 0)
                return -1;
            if (op) {
                snprintf(r->follow_op, sizeof(r->follow_op), "%s", op);
                snprintf(r->follow_phase, sizeof(r->follow_phase), "deleting");
            }
        } else {
            r->m.version++;
            if (cond_push(r->m.conditions, SOV_SECA_UPDATING, clock, NULL, NULL, err) < 0)
                return -1;
            if (op) {
                snprintf(r->follow_op, sizeof(r->follow_op), "%s", op);
                snprintf(r->follow_phase, sizeof(r->follow_phase), "updating");
            } else if (cond_push(r->m.conditions, SOV_SECA_ACTIVE, clock, NULL, NULL,
                                 err) < 0) {
                return -1;
            }
        }
    }
    snprintf(r->m.kind, sizeof(r->m.kind), "%s", w->kind);
    snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", w->tenant_id ? w->tenant_id : "");
    map_set(&r->m.labels, w->labels);
    map_set(&r->m.annotations, w->annotations);
    map_set(&r->m.extensions, w->extensions);
    if (!r->m.labels || !r->m.annotations || !r->m.extensions)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    return sov_repo_seca_meta_put(c, r, clock, true, err);
}

static int
map_check(const json_t *j, const char *field, sov_error *err)
{
    const char *k;
    json_t *v;

    if (!j)
        return 0;
    if (!json_is_object(j))
        return sov_error_invalid(err, field, "%s must be an object", field);
    json_object_foreach((json_t *) j, k, v)
        if (!json_is_string(v) && strcmp(field, "extensions") != 0)
            return sov_error_invalid(err, field, "%s.%s must be a string", field, k);
    return 0;
}

int
sov_seca_meta_write(sov_ctx *ctx, const sov_seca_write *w, sov_seca_meta *ret,
                    sov_error *err)
{
    write_arg a = { .w = w };

    if (ret)
        memset(ret, 0, sizeof(*ret));
    if (!w->resource_id || !sov_uuid_valid(w->resource_id))
        return sov_error_set(err, SOV_E_INTERNAL, "meta of no resource id");
    if (!w->kind || !w->kind[0] || strlen(w->kind) >= sizeof(a.row.m.kind))
        return sov_error_set(err, SOV_E_INTERNAL, "meta of no kind");
    if (w->tenant_id && w->tenant_id[0] && !sov_uuid_valid(w->tenant_id))
        return sov_error_set(err, SOV_E_INTERNAL, "meta of no tenant id");
    if ((unsigned) w->change > SOV_SECA_DELETED)
        return sov_error_set(err, SOV_E_INTERNAL, "no such change %d", (int) w->change);
    if (w->op_id && w->op_id[0] && !sov_uuid_valid(w->op_id))
        return sov_error_set(err, SOV_E_INTERNAL, "meta following no operation");
    if (map_check(w->labels, "labels", err) < 0 ||
        map_check(w->annotations, "annotations", err) < 0 ||
        map_check(w->extensions, "extensions", err) < 0)
        return -1;
    if (sov_db_tx(ctx->db, write_tx, &a, err) < 0) {
        sov_seca_meta_clear(&a.row.m);
        return -1;
    }
    meta_give(&a.row, ret);
    return 0;
}

int
sov_seca_meta_check_version(sov_ctx *ctx, const char *resource_id, long long if_version,
                            sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_seca_meta_row r;
    bool found = false;
    long long have;

    if (if_version <= 0)
        return 0;
    if (!resource_id || !sov_uuid_valid(resource_id))
        return if_version == 1 ? 0 : version_conflict(err, 1, if_version);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_seca_meta_get(c, resource_id, &r, &found, err) < 0)
        return -1;
    have = found ? r.m.version : 1;
    if (found)
        sov_seca_meta_clear(&r.m);
    return have == if_version ? 0 : version_conflict(err, have, if_version);
}

int
sov_seca_meta_forget(sov_ctx *ctx, const char *resource_id, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (!resource_id || !sov_uuid_valid(resource_id))
        return 0;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_seca_meta_delete(c, resource_id, err);
}

/* ---- label selectors ---- */

typedef enum sel_op { SEL_HAS, SEL_EQ, SEL_NE, SEL_GT, SEL_LT, SEL_GE, SEL_LE } sel_op;

typedef struct sel_term {
    sel_op op;
    char *key;
    char *value;
} sel_term;

struct sov_seca_selector {
    size_t n;
    sel_term *terms;
};

#define SELECTOR_MAX 4096   /* characters of a selector */

void
sov_seca_selector_free(sov_seca_selector *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->terms[i].key);
        free(s->terms[i].value);
    }
    free(s->terms);
    free(s);
}

/* A copy of [b, e) without surrounding blanks. */
static char *
trimmed(const char *b, const char *e)
{
    char *out;

    while (b < e && isspace((unsigned char) *b))
        b++;
    while (e > b && isspace((unsigned char) e[-1]))
        e--;
    out = malloc((size_t) (e - b) + 1);
    if (out) {
        memcpy(out, b, (size_t) (e - b));
        out[e - b] = '\0';
    }
    return out;
}

static int
term_parse(const char *b, const char *e, sel_term *t, sov_error *err)
{
    const char *opat = b, *val;
    size_t oplen = 0;

    while (opat < e && !strchr("!=<>", *opat))
        opat++;
    if (opat == e) {
        t->op = SEL_HAS;
    } else if (opat[0] == '!') {
        if (opat + 1 >= e || opat[1] != '=')
            return sov_error_invalid(err, "labels", "bad label selector: '!' must be '!='");
        t->op = SEL_NE;
        oplen = 2;
    } else if (opat[0] == '=') {
        t->op = SEL_EQ;
        oplen = opat + 1 < e && opat[1] == '=' ? 2 : 1;
    } else {
        bool eq = opat + 1 < e && opat[1] == '=';

        t->op = opat[0] == '>' ? (eq ? SEL_GE : SEL_GT) : (eq ? SEL_LE : SEL_LT);
        oplen = eq ? 2 : 1;
    }
    val = opat + oplen;
    t->key = trimmed(b, opat);
    t->value = t->op == SEL_HAS ? NULL : trimmed(val, e);
    if (!t->key || (t->op != SEL_HAS && !t->value))
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (!t->key[0])
        return sov_error_invalid(err, "labels", "bad label selector: a term has no key");
    for (const char *p = t->key; *p; p++)
        if (isspace((unsigned char) *p) || iscntrl((unsigned char) *p))
            return sov_error_invalid(err, "labels", "bad label selector: key '%s'", t->key);
    if (t->value && strpbrk(t->value, "!=<>"))
        return sov_error_invalid(err, "labels", "bad label selector: value '%s'", t->value);
    if (t->value && !t->value[0] && t->op != SEL_EQ && t->op != SEL_NE)
        return sov_error_invalid(err, "labels", "bad label selector: '%s' compares with no "
                                 "number", t->key);
    return 0;
}

int
sov_seca_selector_parse(const char *text, sov_seca_selector **ret, sov_error *err)
{
    sov_seca_selector *s;
    const char *p;
    size_t n = 1;

    *ret = NULL;
    if (text && strlen(text) > SELECTOR_MAX)
        return sov_error_invalid(err, "labels", "label selector longer than %d characters",
                                 SELECTOR_MAX);
    s = calloc(1, sizeof(*s));
    if (!s)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (!text || !text[0]) {
        *ret = s;
        return 0;
    }
    for (p = text; *p; p++)
        n += *p == ',';
    s->terms = calloc(n, sizeof(*s->terms));
    if (!s->terms) {
        free(s);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    p = text;
    for (size_t i = 0; i < n; i++) {
        const char *e = strchr(p, ',');

        if (!e)
            e = p + strlen(p);
        s->n = i + 1;
        if (term_parse(p, e, &s->terms[i], err) < 0) {
            sov_seca_selector_free(s);
            return -1;
        }
        p = *e ? e + 1 : e;
    }
    *ret = s;
    return 0;
}

/* Whether s matches pattern, where '*' is any run of characters. */
static bool
glob(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;

    while (*s) {
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat == *s) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return !*pat;
}

/* A whole text as a finite number. */
static bool
number(const char *s, double *ret)
{
    char *end;

    if (!s || !*s || isspace((unsigned char) *s))
        return false;
    *ret = strtod(s, &end);
    return *end == '\0' && isfinite(*ret);
}

static bool
term_match(const sel_term *t, const json_t *labels)
{
    const char *k;
    json_t *v;
    double want = 0;
    bool numeric = t->op != SEL_HAS && t->op != SEL_EQ && t->op != SEL_NE;

    if (numeric && !number(t->value, &want))
        return false;
    json_object_foreach((json_t *) labels, k, v) {
        const char *val = json_string_value(v);
        double have;

        if (!glob(t->key, k))
            continue;
        switch (t->op) {
        case SEL_HAS:
            return true;
        case SEL_EQ:
        case SEL_NE:
            if (val && glob(t->value, val))
                return t->op == SEL_EQ;
            break;
        default:
            if (!number(val, &have))
                break;
            if ((t->op == SEL_GT && have > want) || (t->op == SEL_LT && have < want) ||
                (t->op == SEL_GE && have >= want) || (t->op == SEL_LE && have <= want))
                return true;
            break;
        }
    }
    return t->op == SEL_NE;
}

bool
sov_seca_selector_match(const sov_seca_selector *s, const json_t *labels)
{
    if (!s)
        return true;
    for (size_t i = 0; i < s->n; i++)
        if (!term_match(&s->terms[i], json_is_object(labels) ? labels : NULL))
            return false;
    return true;
}

json_t *
sov_seca_object_beside(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                       const char *kind, const char *name, const char *id)
{
    sov_seca_object o;
    sov_error err = SOV_ERROR_INIT;
    const char *holds;
    json_t *ret = NULL;

    memset(&o, 0, sizeof(o));
    if (sov_seca_object_get(ctx, tenant_id, workspace, kind, "", name, &o, &err) < 0)
        return NULL;
    holds = json_string_value(json_object_get(o.spec, "id"));
    if (holds && strcmp(holds, id) == 0)
        ret = json_incref(o.spec);
    sov_seca_object_clear(&o);
    return ret;
}

int
sov_seca_members_check(const json_t *obj, const char *at, const char *const *names,
                       sov_error *err)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *) obj, key, v) {
        size_t k = 0;
        (void) v;
        while (names[k] && strcmp(names[k], key) != 0)
            k++;
        if (!names[k]) {
            char field[sizeof(err->field)];
            size_t n = (size_t) snprintf(field, sizeof(field), "%s/", at);
            /* the member as an RFC 6901 pointer segment: ~ is ~0, / is ~1 */
            for (const char *c = key; *c && n + 3 < sizeof(field); c++) {
                if (*c == '~' || *c == '/') {
                    field[n++] = '~';
                    field[n++] = *c == '~' ? '0' : '1';
                } else {
                    field[n++] = *c;
                }
            }
            field[n] = '\0';
            return sov_error_invalid(err, field, "%s/%.40s: unknown member '%.40s'", at, key,
                                     key);
        }
    }
    return 0;
}
