/* The SECA surface's store against a real cluster (include/sov/seca.h): condition histories
 * of creates, updates, actions and deletions, done at once or following an operation;
 * resourceVersion and if-unmodified-since; the defaults of a resource with no row; the cap
 * of 32 conditions; objects by key; forgetting and purging. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sov/migrate.h"
#include "sov/seca.h"
#include "testlib.h"

static char *url;
static sov_db *db;
static sov_ctx ctx;
static char tenant[SOV_UUID_LEN + 1];

static void
setup(void)
{
    sov_error err = SOV_ERROR_INIT;
    sov_db_options o = { .url = NULL, .pool_size = 4, .connect_timeout = 2,
                         .acquire_timeout_ms = 5000, .statement_timeout_ms = 30000 };
    sov_dbconn *c = NULL;
    unsigned applied = 0;
    char *id;

    url = tl_db_create();
    o.url = url;
    ck_assert_msg(sov_db_new(&o, &db, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(sov_db_acquire(db, &c, &err), 0);
    ck_assert_msg(sov_migrate(c, sov_migrations, sov_migrations_count, &applied, &err) == 0,
                  "%s", err.msg);
    sov_db_release(c);
    id = tl_db_exec(url, "INSERT INTO tenants (name, display_name) VALUES ('acme', 'Acme') "
                         "RETURNING id");
    snprintf(tenant, sizeof(tenant), "%s", id);
    free(id);
    memset(&ctx, 0, sizeof(ctx));
    ctx.db = db;
    ctx.request_id = "";
    ctx.source = "";
}

static void
teardown(void)
{
    sov_db_free(db);
    tl_db_drop(url);
    free(url);
}

/* A fresh resource id. */
static void
new_id(char out[SOV_UUID_LEN + 1])
{
    char *v = tl_db_exec(url, "SELECT gen_random_uuid()");
    snprintf(out, SOV_UUID_LEN + 1, "%s", v);
    free(v);
}

/* An operation, queued. */
static void
new_op(char out[SOV_UUID_LEN + 1])
{
    char *v = tl_db_value(url, "INSERT INTO operations (tenant_id, kind) VALUES ('%s', "
                               "'instance.create') RETURNING id", tenant);
    snprintf(out, SOV_UUID_LEN + 1, "%s", v);
    free(v);
}

static void
op_start(const char *op)
{
    free(tl_db_value(url, "UPDATE operations SET state = 'running', started_at = "
                          "clock_timestamp(), attempts = 1 WHERE id = '%s'", op));
}

static void
op_end(const char *op, const char *state, const char *error)
{
    free(tl_db_value(url, "UPDATE operations SET state = '%s', error = '%s', finished_at = "
                          "clock_timestamp() WHERE id = '%s'", state, error, op));
}

/* The conditions' states, newest first, as "active,creating,pending". */
static char *
states(const sov_seca_meta *m)
{
    static char buf[1024];
    size_t i, used = 0;
    json_t *c;

    buf[0] = '\0';
    json_array_foreach(m->conditions, i, c)
        if (used < sizeof(buf))
            used += (size_t) snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? "," : "",
                                      json_string_value(json_object_get(c, "state")));
    return buf;
}

static const char *
cond_str(const sov_seca_meta *m, size_t i, const char *member)
{
    return json_string_value(json_object_get(json_array_get(m->conditions, i), member));
}

/* RFC 3339 UTC with milliseconds: 2026-12-08T00:30:00.123Z */
static void
assert_ms(const char *ts)
{
    ck_assert_msg(ts && strlen(ts) == 24 && ts[10] == 'T' && ts[19] == '.' && ts[23] == 'Z',
                  "not a timestamp with milliseconds: %s", ts ? ts : "(null)");
}

static void
get(const char *id, sov_seca_state now, sov_seca_meta *m)
{
    sov_error err = SOV_ERROR_INIT;
    ck_assert_msg(sov_seca_meta_get(&ctx, id, "instance", now, "2026-01-02T03:04:05Z", m,
                                    &err) == 0, "%s", err.msg);
}

static void
mwrite(const char *id, sov_seca_change change, const char *op, json_t *labels,
      sov_seca_meta *m)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_write w = { .resource_id = id, .tenant_id = tenant, .kind = "instance",
                         .change = change, .labels = labels, .op_id = op };
    sov_seca_meta tmp = { 0 };

    ck_assert_msg(sov_seca_meta_write(&ctx, &w, m ? m : &tmp, &err) == 0, "%s", err.msg);
    if (!m)
        sov_seca_meta_clear(&tmp);
}

/* A new resource id, created following a new queued operation op; its meta into m unless
 * NULL. */
static void
created_following(char id[SOV_UUID_LEN + 1], char op[SOV_UUID_LEN + 1], sov_seca_meta *m)
{
    new_id(id);
    new_op(op);
    mwrite(id, SOV_SECA_CREATED, op, NULL, m);
}

/* The meta of id read with the state now: its conditions are want ("active,creating"). */
static void
assert_states(const char *id, sov_seca_state now, const char *want)
{
    sov_seca_meta m = { 0 };

    get(id, now, &m);
    ck_assert_str_eq(states(&m), want);
    sov_seca_meta_clear(&m);
}

START_TEST(a_create_done_at_once_is_active_creating_pending)
{
    char id[SOV_UUID_LEN + 1];
    sov_seca_meta m = { 0 };
    json_t *labels = json_pack("{s:s}", "env", "conformance");

    new_id(id);
    mwrite(id, SOV_SECA_CREATED, NULL, labels, &m);
    ck_assert_str_eq(states(&m), "active,creating,pending");
    ck_assert_int_eq(m.version, 1);
    ck_assert(m.stored);
    ck_assert(json_equal(m.labels, labels));
    ck_assert_int_eq(json_object_size(m.annotations), 0);
    assert_ms(m.created_at);
    assert_ms(m.modified_at);
    assert_ms(cond_str(&m, 0, "lastTransitionAt"));
    ck_assert_str_eq(m.deleted_at, "");
    ck_assert_int_eq(sov_seca_meta_state(&m), SOV_SECA_ACTIVE);
    sov_seca_meta_clear(&m);
    get(id, SOV_SECA_ACTIVE, &m);
    ck_assert_str_eq(states(&m), "active,creating,pending");
    ck_assert_str_eq(m.kind, "instance");
    ck_assert(json_equal(m.labels, labels));
    ck_assert_int_eq(m.version, 1);
    sov_seca_meta_clear(&m);
    json_decref(labels);
}
END_TEST

START_TEST(a_create_follows_its_operation)
{
    char id[SOV_UUID_LEN + 1], op[SOV_UUID_LEN + 1];
    sov_seca_meta m = { 0 };
    char *started, *finished;

    created_following(id, op, &m);
    ck_assert_str_eq(states(&m), "pending");
    ck_assert_int_eq(sov_seca_meta_state(&m), SOV_SECA_PENDING);
    sov_seca_meta_clear(&m);
    /* Queued: the resource's own state does not count while an operation is followed. */
    assert_states(id, SOV_SECA_ACTIVE, "pending");

    op_start(op);
    get(id, SOV_SECA_ACTIVE, &m);
    ck_assert_str_eq(states(&m), "creating,pending");
    started = tl_db_value(url, "SELECT to_char(started_at AT TIME ZONE 'UTC', "
                               "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM operations "
                               "WHERE id = '%s'", op);
    ck_assert_str_eq(cond_str(&m, 0, "lastTransitionAt"), started);
    sov_seca_meta_clear(&m);

    op_end(op, "succeeded", "");
    get(id, SOV_SECA_ACTIVE, &m);
    ck_assert_str_eq(states(&m), "active,creating,pending");
    finished = tl_db_value(url, "SELECT to_char(finished_at AT TIME ZONE 'UTC', "
                                "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM operations "
                                "WHERE id = '%s'", op);
    ck_assert_str_eq(cond_str(&m, 0, "lastTransitionAt"), finished);
    ck_assert_int_eq(m.version, 1);
    sov_seca_meta_clear(&m);
    /* Settled: read again, nothing changes, and nothing is followed any longer. */
    assert_states(id, SOV_SECA_ACTIVE, "active,creating,pending");
    ck_assert_int_eq(tl_db_num(url, "SELECT count(*) FROM resource_meta WHERE resource_id = "
                                    "'%s' AND follow_op IS NULL", id), 1);
    free(started);
    free(finished);
}
END_TEST

START_TEST(a_failed_operation_adds_error_with_its_message)
{
    char id[SOV_UUID_LEN + 1], op[SOV_UUID_LEN + 1];
    sov_seca_meta m = { 0 };

    created_following(id, op, NULL);
    op_start(op);
    op_end(op, "failed", "no host has room");
    get(id, SOV_SECA_ACTIVE, &m);
    ck_assert_str_eq(states(&m), "error,creating,pending");
    ck_assert_str_eq(cond_str(&m, 0, "reason"), "OperationFailed");
    ck_assert_str_eq(cond_str(&m, 0, "message"), "no host has room");
    ck_assert_int_eq(sov_seca_meta_state(&m), SOV_SECA_ERROR);
    sov_seca_meta_clear(&m);
    /* The resource reads as error: no new condition. */
    assert_states(id, SOV_SECA_ERROR, "error,creating,pending");
    /* What the handler read in the read that settled the operation did not count (it may
     * predate the operation's end); from then on a state seen through /v1 does. */
    get(id, SOV_SECA_ACTIVE, &m);
    ck_assert_str_eq(states(&m), "active,error,creating,pending");
    ck_assert_str_eq(cond_str(&m, 0, "reason"), "ObservedThroughV1");
    sov_seca_meta_clear(&m);
}
END_TEST

START_TEST(a_superseded_operation_adds_no_error)
{
    char id[SOV_UUID_LEN + 1], op[SOV_UUID_LEN + 1];
    sov_seca_meta m = { 0 };

    created_following(id, op, NULL);
    free(tl_db_value(url, "UPDATE operations SET state = 'failed', error = 'superseded by x',"
                          " error_code = 'superseded', finished_at = clock_timestamp() "
                          "WHERE id = '%s'", op));
    mwrite(id, SOV_SECA_DELETED, NULL, NULL, &m);
    ck_assert_str_eq(states(&m), "deleting,pending");
    sov_seca_meta_clear(&m);
    assert_states(id, SOV_SECA_DELETING, "deleting,pending");
}
END_TEST

START_TEST(an_update_adds_updating_then_active_and_bumps_the_version)
{
    char id[SOV_UUID_LEN + 1], op[SOV_UUID_LEN + 1];
    sov_seca_meta m = { 0 };
    json_t *l1 = json_pack("{s:s}", "a", "1"), *l2 = json_pack("{s:s}", "b", "2");

    new_id(id);
    mwrite(id, SOV_SECA_CREATED, NULL, l1, NULL);
    mwrite(id, SOV_SECA_UPDATED, NULL, l2, &m);
    ck_assert_str_eq(states(&m), "active,updating,active,creating,pending");
    ck_assert_int_eq(m.version, 2);
    ck_assert(json_equal(m.labels, l2));
    sov_seca_meta_clear(&m);
    /* No labels given: they stay. An action following an operation: updating, then active
     * when it succeeds. */
    new_op(op);
    mwrite(id, SOV_SECA_ACTED, op, NULL, &m);
    ck_assert_str_eq(states(&m), "updating,active,updating,active,creating,pending");
    ck_assert_int_eq(m.version, 3);
    ck_assert(json_equal(m.labels, l2));
    sov_seca_meta_clear(&m);
    op_start(op);
    assert_states(id, SOV_SECA_ACTIVE, "updating,active,updating,active,creating,pending");
    op_end(op, "succeeded", "");
    get(id, SOV_SECA_ACTIVE, &m);
    ck_assert_str_eq(states(&m), "active,updating,active,updating,active,creating,pending");
    ck_assert_int_eq(m.version, 3);
    sov_seca_meta_clear(&m);
    json_decref(l1);
    json_decref(l2);
}
END_TEST

START_TEST(an_update_settles_the_operation_still_followed)
{
    char id[SOV_UUID_LEN + 1], op1[SOV_UUID_LEN + 1], op2[SOV_UUID_LEN + 1];
    sov_seca_meta m = { 0 };

    new_id(id);
    new_op(op1);
    new_op(op2);
    mwrite(id, SOV_SECA_CREATED, op1, NULL, NULL);
    op_start(op1);
    /* Written while op1 runs: its start is recorded first, then the update follows op2. */
    mwrite(id, SOV_SECA_UPDATED, op2, NULL, &m);
    ck_assert_str_eq(states(&m), "updating,creating,pending");
    sov_seca_meta_clear(&m);
    op_end(op1, "succeeded", "");
    assert_states(id, SOV_SECA_ACTIVE, "updating,creating,pending");
    op_start(op2);
    op_end(op2, "succeeded", "");
    assert_states(id, SOV_SECA_ACTIVE, "active,updating,creating,pending");
}
END_TEST

START_TEST(a_deletion_adds_deleting_and_keeps_the_version)
{
    char id[SOV_UUID_LEN + 1], op[SOV_UUID_LEN + 1];
    sov_seca_meta m = { 0 };

    new_id(id);
    mwrite(id, SOV_SECA_CREATED, NULL, NULL, NULL);
    mwrite(id, SOV_SECA_DELETED, NULL, NULL, &m);
    ck_assert_str_eq(states(&m), "deleting,active,creating,pending");
    ck_assert_int_eq(m.version, 1);
    assert_ms(m.deleted_at);
    ck_assert_int_eq(sov_seca_meta_state(&m), SOV_SECA_DELETING);
    sov_seca_meta_clear(&m);
    get(id, SOV_SECA_DELETING, &m);
    ck_assert_str_eq(states(&m), "deleting,active,creating,pending");
    assert_ms(m.deleted_at);
    sov_seca_meta_clear(&m);

    /* A deletion following an operation that fails: error with its message. */
    new_id(id);
    new_op(op);
    mwrite(id, SOV_SECA_CREATED, NULL, NULL, NULL);
    mwrite(id, SOV_SECA_DELETED, op, NULL, NULL);
    op_start(op);
    op_end(op, "failed", "volume is attached");
    get(id, SOV_SECA_ERROR, &m);
    ck_assert_str_eq(states(&m), "error,deleting,active,creating,pending");
    ck_assert_str_eq(cond_str(&m, 0, "message"), "volume is attached");
    sov_seca_meta_clear(&m);
}
END_TEST

START_TEST(versions_are_checked_and_stale_writes_change_nothing)
{
    char id[SOV_UUID_LEN + 1], other[SOV_UUID_LEN + 1];
    sov_error err = SOV_ERROR_INIT;
    sov_seca_meta m = { 0 };
    sov_seca_write w = { .tenant_id = NULL, .kind = "instance", .change = SOV_SECA_UPDATED };

    new_id(id);
    new_id(other);
    /* No row: version 1. */
    ck_assert_int_eq(sov_seca_meta_check_version(&ctx, other, 1, &err), 0);
    ck_assert_int_eq(sov_seca_meta_check_version(&ctx, other, 0, &err), 0);
    ck_assert_int_eq(sov_seca_meta_check_version(&ctx, other, 2, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_str_eq(err.msg, "resourceVersion is 1, not 2");
    ck_assert_str_eq(err.field, "if-unmodified-since");

    mwrite(id, SOV_SECA_CREATED, NULL, NULL, NULL);
    mwrite(id, SOV_SECA_UPDATED, NULL, NULL, NULL);
    ck_assert_int_eq(sov_seca_meta_check_version(&ctx, id, 2, &err), 0);
    sov_error_clear(&err);
    ck_assert_int_eq(sov_seca_meta_check_version(&ctx, id, 1, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_str_eq(err.msg, "resourceVersion is 2, not 1");
    ck_assert_str_eq(err.field, "if-unmodified-since");

    /* A write naming a stale version: refused, nothing written. */
    w.resource_id = id;
    w.if_version = 1;
    w.labels = json_pack("{s:s}", "x", "y");
    sov_error_clear(&err);
    ck_assert_int_eq(sov_seca_meta_write(&ctx, &w, &m, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_str_eq(err.msg, "resourceVersion is 2, not 1");
    get(id, SOV_SECA_ACTIVE, &m);
    ck_assert_int_eq(m.version, 2);
    ck_assert_int_eq(json_object_size(m.labels), 0);
    ck_assert_str_eq(states(&m), "active,updating,active,creating,pending");
    sov_seca_meta_clear(&m);
    /* The current one: written. */
    w.if_version = 2;
    ck_assert_msg(sov_seca_meta_write(&ctx, &w, &m, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(m.version, 3);
    ck_assert_str_eq(json_string_value(json_object_get(m.labels, "x")), "y");
    sov_seca_meta_clear(&m);
    json_decref(w.labels);
}
END_TEST

START_TEST(a_resource_without_a_row_reads_with_defaults)
{
    char id[SOV_UUID_LEN + 1];
    sov_seca_meta m = { 0 };
    sov_error err = SOV_ERROR_INIT;

    new_id(id);
    get(id, SOV_SECA_ACTIVE, &m);
    ck_assert(!m.stored);
    ck_assert_int_eq(m.version, 1);
    ck_assert_str_eq(m.kind, "instance");
    ck_assert_str_eq(m.created_at, "2026-01-02T03:04:05.000Z");
    ck_assert_str_eq(states(&m), "active,creating,pending");
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(cond_str(&m, i, "lastTransitionAt"), "2026-01-02T03:04:05.000Z");
    ck_assert(json_is_object(m.labels) && json_object_size(m.labels) == 0);
    ck_assert(json_is_object(m.annotations) && json_is_object(m.extensions));
    sov_seca_meta_clear(&m);
    assert_states(id, SOV_SECA_CREATING, "creating");
    /* Reading wrote nothing. */
    ck_assert_int_eq(tl_db_num(url, "SELECT count(*) FROM resource_meta"), 0);

    /* Its first SECA update starts from the defaults at its creation time. */
    {
        sov_seca_write w = { .resource_id = id, .tenant_id = tenant, .kind = "instance",
                             .change = SOV_SECA_UPDATED,
                             .created_at = "2026-01-02T03:04:05.250+00:00" };
        ck_assert_msg(sov_seca_meta_write(&ctx, &w, &m, &err) == 0, "%s", err.msg);
    }
    ck_assert_int_eq(m.version, 2);
    ck_assert_str_eq(m.created_at, "2026-01-02T03:04:05.250Z");
    ck_assert_str_eq(states(&m), "active,updating,active,creating,pending");
    sov_seca_meta_clear(&m);

    /* Not an id: not found. */
    ck_assert_int_eq(sov_seca_meta_get(&ctx, "nope", "instance", SOV_SECA_ACTIVE, "", &m,
                                       &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
}
END_TEST

START_TEST(a_change_seen_through_v1_is_added_once)
{
    char id[SOV_UUID_LEN + 1];
    sov_seca_meta m = { 0 };

    new_id(id);
    mwrite(id, SOV_SECA_CREATED, NULL, NULL, NULL);
    get(id, SOV_SECA_ERROR, &m);
    ck_assert_str_eq(states(&m), "error,active,creating,pending");
    ck_assert_str_eq(cond_str(&m, 0, "reason"), "ObservedThroughV1");
    sov_seca_meta_clear(&m);
    get(id, SOV_SECA_ERROR, &m);
    ck_assert_str_eq(states(&m), "error,active,creating,pending");
    ck_assert_int_eq(m.version, 1);
    sov_seca_meta_clear(&m);
    assert_states(id, SOV_SECA_ACTIVE, "active,error,active,creating,pending");
}
END_TEST

START_TEST(conditions_keep_the_newest_32)
{
    char id[SOV_UUID_LEN + 1];
    sov_seca_meta m = { 0 };

    new_id(id);
    mwrite(id, SOV_SECA_CREATED, NULL, NULL, NULL);
    for (int i = 0; i < 20; i++)
        mwrite(id, SOV_SECA_ACTED, NULL, NULL, NULL);
    get(id, SOV_SECA_ACTIVE, &m);
    ck_assert_int_eq(json_array_size(m.conditions), SOV_SECA_CONDITIONS_MAX);
    ck_assert_str_eq(cond_str(&m, 0, "state"), "active");
    ck_assert_str_eq(cond_str(&m, 1, "state"), "updating");
    /* 43 made, the oldest 11 dropped: pending, creating, active and 4 pairs. */
    ck_assert_str_eq(cond_str(&m, 31, "state"), "updating");
    ck_assert_int_eq(m.version, 21);
    /* Newest first: times never increase down the list. */
    for (size_t i = 1; i < json_array_size(m.conditions); i++)
        ck_assert(strcmp(cond_str(&m, i - 1, "lastTransitionAt"),
                         cond_str(&m, i, "lastTransitionAt")) >= 0);
    sov_seca_meta_clear(&m);
}
END_TEST

START_TEST(every_write_moves_modified_at_forward)
{
    char id[SOV_UUID_LEN + 1], last[40] = "";
    sov_seca_meta m = { 0 };

    new_id(id);
    mwrite(id, SOV_SECA_CREATED, NULL, NULL, &m);
    snprintf(last, sizeof(last), "%s", m.modified_at);
    sov_seca_meta_clear(&m);
    for (int i = 0; i < 5; i++) {
        mwrite(id, SOV_SECA_UPDATED, NULL, NULL, &m);
        assert_ms(m.modified_at);
        ck_assert_msg(strcmp(m.modified_at, last) > 0, "%s after %s", m.modified_at, last);
        snprintf(last, sizeof(last), "%s", m.modified_at);
        ck_assert(strcmp(m.created_at, m.modified_at) < 0);
        sov_seca_meta_clear(&m);
    }
}
END_TEST

static char race_id[SOV_UUID_LEN + 1];

static void *
racer(void *arg)
{
    (void) arg;
    for (int i = 0; i < 10; i++) {
        sov_error err = SOV_ERROR_INIT;
        sov_seca_write w = { .resource_id = race_id, .tenant_id = tenant, .kind = "instance",
                             .change = SOV_SECA_UPDATED };
        if (sov_seca_meta_write(&ctx, &w, NULL, &err) < 0)
            return (void *) 1;
    }
    return NULL;
}

START_TEST(concurrent_writes_lose_no_update)
{
    pthread_t t[4];
    sov_seca_meta m = { 0 };

    new_id(race_id);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, racer, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *rc = NULL;
        pthread_join(t[i], &rc);
        ck_assert_ptr_null(rc);
    }
    get(race_id, SOV_SECA_ACTIVE, &m);
    ck_assert_int_eq(m.version, 41);
    sov_seca_meta_clear(&m);
}
END_TEST

START_TEST(forget_drops_the_row_and_old_deletions_are_purged)
{
    char a[SOV_UUID_LEN + 1], b[SOV_UUID_LEN + 1];
    sov_error err = SOV_ERROR_INIT;
    sov_seca_meta m = { 0 };

    new_id(a);
    new_id(b);
    mwrite(a, SOV_SECA_CREATED, NULL, NULL, NULL);
    mwrite(a, SOV_SECA_UPDATED, NULL, NULL, NULL);
    ck_assert_int_eq(sov_seca_meta_forget(&ctx, a, &err), 0);
    get(a, SOV_SECA_ACTIVE, &m);
    ck_assert(!m.stored);
    ck_assert_int_eq(m.version, 1);
    sov_seca_meta_clear(&m);
    /* Forgetting what has no row is no error. */
    ck_assert_int_eq(sov_seca_meta_forget(&ctx, a, &err), 0);

    mwrite(a, SOV_SECA_CREATED, NULL, NULL, NULL);
    mwrite(a, SOV_SECA_DELETED, NULL, NULL, NULL);
    free(tl_db_value(url, "UPDATE resource_meta SET deleted_at = now() - interval '25 hours'"
                          " WHERE resource_id = '%s'", a));
    mwrite(b, SOV_SECA_CREATED, NULL, NULL, NULL);
    mwrite(b, SOV_SECA_DELETED, NULL, NULL, NULL);
    ck_assert_int_eq(tl_db_num(url, "SELECT count(*) FROM resource_meta WHERE resource_id = "
                                    "'%s'", a), 0);
    ck_assert_int_eq(tl_db_num(url, "SELECT count(*) FROM resource_meta WHERE resource_id = "
                                    "'%s'", b), 1);
}
END_TEST

static void
obj_put(const char *ws, const char *kind, const char *parent, const char *name,
        const char *spec, bool want_created, sov_seca_object *ret)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object o = { 0 };
    bool created = !want_created;

    snprintf(o.tenant_id, sizeof(o.tenant_id), "%s", tenant);
    snprintf(o.workspace, sizeof(o.workspace), "%s", ws);
    snprintf(o.kind, sizeof(o.kind), "%s", kind);
    snprintf(o.parent, sizeof(o.parent), "%s", parent);
    snprintf(o.name, sizeof(o.name), "%s", name);
    snprintf(o.region, sizeof(o.region), "eu-1");
    o.spec = json_loads(spec, 0, NULL);
    ck_assert_ptr_nonnull(o.spec);
    ck_assert_msg(sov_seca_object_put(&ctx, &o, &created, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(created, want_created);
    ck_assert_int_eq(strlen(o.id), SOV_UUID_LEN);
    assert_ms(o.created_at);
    if (ret)
        *ret = o;
    else
        sov_seca_object_clear(&o);
}

START_TEST(objects_are_kept_by_key)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object first = { 0 }, again = { 0 }, got = { 0 }, *list = NULL;
    size_t n = 0;

    obj_put("", "role", "", "viewer", "{\"permissions\":[1]}", true, &first);
    obj_put("", "role", "", "viewer", "{\"permissions\":[2]}", false, &again);
    ck_assert_str_eq(again.id, first.id);
    ck_assert_str_eq(again.created_at, first.created_at);
    ck_assert_msg(sov_seca_object_get(&ctx, tenant, "", "role", "", "viewer", &got, &err) == 0,
                  "%s", err.msg);
    ck_assert_str_eq(got.id, first.id);
    ck_assert_str_eq(got.region, "eu-1");
    ck_assert_str_eq(got.kind, "role");
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(got.spec,
                                                                       "permissions"), 0)), 2);
    sov_seca_object_clear(&got);
    ck_assert_int_eq(tl_db_num(url, "SELECT count(*) FROM seca_objects WHERE updated_at > "
                                    "created_at"), 1);

    /* The same name under another kind, workspace or parent is another object. */
    obj_put("", "role-assignment", "", "viewer", "{}", true, NULL);
    obj_put("ws1", "route-table", "net1", "viewer", "{}", true, NULL);
    obj_put("ws1", "route-table", "net2", "viewer", "{}", true, NULL);
    obj_put("ws2", "route-table", "net1", "viewer", "{}", true, NULL);
    obj_put("", "role", "", "admin", "{}", true, NULL);
    obj_put("", "role", "", "writer", "{}", true, NULL);

    ck_assert_int_eq(sov_seca_object_list(&ctx, tenant, "", "role", "", &list, &n, &err), 0);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(list[0].name, "admin");
    ck_assert_str_eq(list[1].name, "viewer");
    ck_assert_str_eq(list[2].name, "writer");
    sov_seca_objects_free(list, n);
    ck_assert_int_eq(sov_seca_object_list(&ctx, tenant, "ws1", "route-table", "net1", &list,
                                          &n, &err), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(list[0].parent, "net1");
    ck_assert_str_eq(list[0].workspace, "ws1");
    sov_seca_objects_free(list, n);

    ck_assert_int_eq(sov_seca_object_delete(&ctx, tenant, "", "role", "", "viewer", &err), 0);
    ck_assert_int_eq(sov_seca_object_delete(&ctx, tenant, "", "role", "", "viewer", &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_str_eq(err.msg, "no role viewer");
    ck_assert_int_eq(sov_seca_object_get(&ctx, tenant, "", "role", "", "viewer", &got, &err),
                     -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_str_eq(err.msg, "no role viewer");
    /* The role-assignment of that name stays. */
    ck_assert_int_eq(sov_seca_object_get(&ctx, tenant, "", "role-assignment", "", "viewer",
                                         &got, &err), 0);
    sov_seca_object_clear(&got);
    sov_seca_object_clear(&first);
    sov_seca_object_clear(&again);
}
END_TEST

START_TEST(bad_writes_are_refused_and_write_nothing)
{
    char id[SOV_UUID_LEN + 1];
    sov_error err = SOV_ERROR_INIT;
    sov_seca_meta m = { 0 };
    json_t *arr = json_array(), *num = json_pack("{s:i}", "env", 1);
    sov_seca_write w = { .tenant_id = NULL, .kind = "instance", .change = SOV_SECA_CREATED };

    new_id(id);
    w.resource_id = id;
    w.labels = arr;
    ck_assert_int_eq(sov_seca_meta_write(&ctx, &w, &m, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_str_eq(err.field, "labels");
    w.labels = num;
    ck_assert_int_eq(sov_seca_meta_write(&ctx, &w, &m, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    w.labels = NULL;
    w.annotations = num;
    ck_assert_int_eq(sov_seca_meta_write(&ctx, &w, &m, &err), -1);
    ck_assert_str_eq(err.field, "annotations");
    /* Extensions may hold any JSON value. */
    w.annotations = NULL;
    w.extensions = num;
    w.op_id = "not-an-id";
    ck_assert_int_eq(sov_seca_meta_write(&ctx, &w, &m, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    w.op_id = NULL;
    w.resource_id = "not-an-id";
    ck_assert_int_eq(sov_seca_meta_write(&ctx, &w, &m, &err), -1);
    ck_assert_int_eq(tl_db_num(url, "SELECT count(*) FROM resource_meta"), 0);
    w.resource_id = id;
    ck_assert_msg(sov_seca_meta_write(&ctx, &w, &m, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(json_integer_value(json_object_get(m.extensions, "env")), 1);
    sov_seca_meta_clear(&m);
    json_decref(arr);
    json_decref(num);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/seca");
    TCase *tc = tcase_create("store");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_create_done_at_once_is_active_creating_pending);
    tcase_add_test(tc, a_create_follows_its_operation);
    tcase_add_test(tc, a_failed_operation_adds_error_with_its_message);
    tcase_add_test(tc, a_superseded_operation_adds_no_error);
    tcase_add_test(tc, an_update_adds_updating_then_active_and_bumps_the_version);
    tcase_add_test(tc, an_update_settles_the_operation_still_followed);
    tcase_add_test(tc, a_deletion_adds_deleting_and_keeps_the_version);
    tcase_add_test(tc, versions_are_checked_and_stale_writes_change_nothing);
    tcase_add_test(tc, a_resource_without_a_row_reads_with_defaults);
    tcase_add_test(tc, a_change_seen_through_v1_is_added_once);
    tcase_add_test(tc, conditions_keep_the_newest_32);
    tcase_add_test(tc, every_write_moves_modified_at_forward);
    tcase_add_test(tc, concurrent_writes_lose_no_update);
    tcase_add_test(tc, forget_drops_the_row_and_old_deletions_are_purged);
    tcase_add_test(tc, objects_are_kept_by_key);
    tcase_add_test(tc, bad_writes_are_refused_and_write_nothing);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
