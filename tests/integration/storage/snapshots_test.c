/* Snapshots, and volumes made from a source, through the HTTP API of a real sovd (API and
 * worker roles) on a real PostgreSQL, with its host in a private libvirtd (run as nobody)
 * whose test driver holds the pool: the files sovd makes there are what `virsh vol-list`
 * on the same URI sees.
 *
 * Covered: a snapshot's create (202, the operation in Location), its copy in the volume's
 * pool (sov-snap-<id>), reads by id and by name, lists with filters, delete (its file gone,
 * its quota back); a snapshot of a volume that is deleting (409 naming the state, nothing
 * written); a volume with snapshots cannot be deleted (409 naming them) until they are gone;
 * a restore (a new volume from a snapshot, on the snapshot's host, at least its size), a
 * volume from a volume and one from an image; the snapshots quota (403, nothing written);
 * residency records (copied, deleted) of snapshots and of volumes made from a source; bad
 * input (400 naming the field); another tenant's snapshots and volumes do not exist (404,
 * or 400 for a volume named in a body). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bed.h"

#define sql_num(...) tl_db_num(db, __VA_ARGS__)

#define REGION "fr-snap-1"
#define HOST "snap-node"
#define TYPE "standard"
#define IMAGE "base"
#define WAIT_S 60

static char host_id[40];

/* ---- fixture ---- */

static void
setup(void)
{
    bed_setup("sovsnap");
}

/* ---- helpers ---- */

/* Wait for an operation to succeed (a failed test when it fails or takes too long). */
static void
op_succeeds(const char *id)
{
    tl_op_wait_ok(&sovd, op, id, WAIT_S);
}

static json_t *
get(const char *collection, const char *id, const char *token)
{
    char path[256];

    snprintf(path, sizeof(path), "/v1/%s/%s", collection, id);
    return tl_call_ok(&sovd, "GET", path, token, NULL, 200);
}

/* The names of the pool's volumes on the host, one per line. */
static char *
pool_files(void)
{
    char *out = NULL;

    ck_assert_int_eq(tl_virsh(uri, &out, "vol-list '%s'", pool), 0);
    return out;
}

static bool
in_pool(const char *file)
{
    char *out = pool_files();
    bool yes = strstr(out, file) != NULL;

    free(out);
    return yes;
}

/* POST /v1/volumes as acme's member with a type, a name and more members; wait until it is
 * available; its id into id. */
static void
make_volume_of(const char *type, const char *name, const char *extra, char id[40])
{
    char body[1024], op_id[40];
    json_t *j, *v;

    /* type NULL: the create names none. */
    if (type)
        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"type\":\"%s\"%s}", name, type,
                 extra);
    else
        snprintf(body, sizeof(body), "{\"name\":\"%s\"%s}", name, extra);
    j = tl_call_ok(&sovd, "POST", "/v1/volumes", acme.token[TL_MEMBER], body, 202);
    snprintf(id, 40, "%s", tl_str(json_object_get(j, "volume"), "id"));
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    op_succeeds(op_id);
    v = get("volumes", id, acme.token[TL_READER]);
    ck_assert_msg(strcmp(tl_str(v, "state"), "available") == 0, "volume %s: %s", name,
                  json_dumps(v, 0));
    json_decref(v);
}

static void
make_volume(const char *name, const char *extra, char id[40])
{
    make_volume_of(TYPE, name, extra, id);
}

/* POST /v1/snapshots of volume as acme's member, checking the 202; the snapshot's id and
 * its operation's id. */
static void
take_snapshot(const char *name, const char *volume, char id[40], char op_id[40])
{
    char body[512], want[96], *loc;
    json_t *s, *o;
    tl_resp r;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"volume\":\"%s\"}", name, volume);
    tl_call(&sovd, "POST", "/v1/snapshots", acme.token[TL_MEMBER], body, &r);
    ck_assert_msg(r.status == 202, "snapshot %s: %ld %s", name, r.status, r.body);
    s = json_object_get(r.json, "snapshot");
    o = json_object_get(r.json, "operation");
    ck_assert_str_eq(tl_str(s, "name"), name);
    ck_assert_str_eq(tl_str(s, "state"), "creating");
    ck_assert_str_eq(tl_str(o, "kind"), "snapshot.create");
    ck_assert_str_eq(tl_str(o, "resource_type"), "snapshot");
    ck_assert_str_eq(tl_str(o, "resource_id"), tl_str(s, "id"));
    ck_assert_str_eq(tl_str(s, "operation_id"), tl_str(o, "id"));
    /* It lives where its volume is, from the request's own transaction on. */
    ck_assert_str_eq(tl_str(json_object_get(s, "host"), "id"), host_id);
    ck_assert_str_eq(tl_str(s, "region"), REGION);
    snprintf(id, 40, "%s", tl_str(s, "id"));
    snprintf(op_id, 40, "%s", tl_str(o, "id"));
    snprintf(want, sizeof(want), "/v1/operations/%s", op_id);
    loc = tl_resp_header(&r, "Location");
    ck_assert_msg(loc && strcmp(loc, want) == 0, "Location %s, want %s", loc ? loc : "(none)",
                  want);
    free(loc);
    tl_resp_free(&r);
}

static void
snapshot_ready(const char *name, const char *volume, char id[40])
{
    char op_id[40];

    take_snapshot(name, volume, id, op_id);
    op_succeeds(op_id);
}

/* DELETE path as acme's member and wait for the operation to succeed. */
static void
delete_ok(const char *collection, const char *id)
{
    char path[256], op_id[40];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/%s/%s", collection, id);
    j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    op_succeeds(op_id);
}

/* The events of a resource's residency history, joined with ','. */
static void
history(const char *collection, const char *id, char *out, size_t size)
{
    char path[256];
    json_t *j, *e;
    size_t i, n = 0;

    snprintf(path, sizeof(path), "/v1/%s/%s/residency", collection, id);
    j = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    out[0] = '\0';
    json_array_foreach(json_object_get(j, "items"), i, e)
        n += (size_t) snprintf(out + n, size - n, "%s%s", n ? "," : "", tl_str(e, "event"));
    json_decref(j);
}

static void
expect_problem(const char *method, const char *path, const char *token, const char *body,
               long status, const char *type, const char *field, const char *detail_part)
{
    tl_resp r;

    tl_call(&sovd, method, path, token, body, &r);
    tl_assert_problem(&r, status, type);
    if (field)
        tl_assert_problem_field(&r, field);
    if (detail_part)
        tl_assert_contains(tl_str(r.json, "detail"), detail_part);
    tl_resp_free(&r);
}

/* sovd with the host's pool named for this test process; the operator's token, tenants acme
 * and globex, a region, host HOST on the private daemon, volume type TYPE and acme's image
 * IMAGE (64 MiB, active). */
static void
start(void)
{
    const char *args[] = { "--role=api,worker", "--worker-threads=4",
                           "--image-allow-file-urls=true", "--stop-timeout=5", NULL };

    bed_start(args);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Snap FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-snap\",\"zones\":[\"a\"]}", 201));
    bed_host_add(HOST, REGION, "a", uri, true, host_id);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op,
                           "{\"name\":\"" TYPE "\"}", 201));
    bed_image(IMAGE, REGION, WAIT_S, NULL);
}

/* ---- tests ---- */

START_TEST(snapshot_is_made_read_listed_and_deleted)
{
    char vol[40], snap[40], other[40], file[96], path[256], events[256];
    json_t *s, *list, *res;

    start();
    make_volume("data", ",\"size_gib\":2", vol);
    snapshot_ready("snap-1", "data", snap);

    /* Its file in the volume's pool; its row as the answer says. */
    snprintf(file, sizeof(file), "sov-snap-%s", snap);
    ck_assert_msg(in_pool(file), "%s is not in pool %s", file, pool);
    s = get("snapshots", snap, acme.token[TL_READER]);
    ck_assert_str_eq(tl_str(s, "state"), "available");
    ck_assert_str_eq(tl_str(s, "volume"), vol);
    ck_assert_str_eq(tl_str(s, "volume_name"), "data");
    ck_assert_int_eq(tl_num(s, "size_gib"), 2);
    ck_assert(json_is_false(json_object_get(s, "encrypted")));
    ck_assert_str_eq(tl_str(s, "workspace"), "default");
    ck_assert_str_eq(tl_str(json_object_get(s, "host"), "name"), HOST);
    res = json_object_get(s, "residency");
    ck_assert_str_eq(tl_str(res, "host"), HOST);
    ck_assert_str_eq(tl_str(res, "country"), "FR");
    ck_assert_str_eq(tl_str(res, "jurisdiction"), "EU");
    ck_assert(json_is_null(json_object_get(res, "key")));
    json_decref(s);
    /* By name, as every {id} route takes it. */
    s = get("snapshots", "snap-1", acme.token[TL_READER]);
    ck_assert_str_eq(tl_str(s, "id"), snap);
    json_decref(s);

    /* Counted: one snapshot, and its GiB next to the volume's. */
    ck_assert_int_eq(bed_quota_used("snapshots"), 1);
    ck_assert_int_eq(bed_quota_used("storage_gib"), 4);

    /* Lists, with the volume filter by id and by name. */
    make_volume("logs", ",\"size_gib\":1", other);
    snapshot_ready("snap-2", "logs", other);
    list = tl_call_ok(&sovd, "GET", "/v1/snapshots", acme.token[TL_READER], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 2);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/snapshots?volume=data", acme.token[TL_READER], NULL,
                      200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 1);
    ck_assert_str_eq(tl_str(json_array_get(json_object_get(list, "items"), 0), "id"), snap);
    json_decref(list);
    snprintf(path, sizeof(path), "/v1/snapshots?volume=%s&limit=1", vol);
    list = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/snapshots?limit=1", acme.token[TL_READER], NULL, 200);
    ck_assert_msg(json_is_string(json_object_get(list, "next")), "no next link: %s",
                  json_dumps(list, 0));
    json_decref(list);

    /* Residency: copied from its volume's place to its own (the same host). */
    history("snapshots", snap, events, sizeof(events));
    ck_assert_msg(strstr(events, "copied"), "snapshot history: %s", events);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_type ="
                             " 'snapshot' AND resource_id = '%s' AND event = 'copied' AND"
                             " from_host = '" HOST "' AND to_host = '" HOST "'", snap), 1);

    /* Delete: the file goes, the quota comes back, the record says deleted. */
    delete_ok("snapshots", snap);
    ck_assert_msg(!in_pool(file), "%s is still in pool %s", file, pool);
    s = get("snapshots", snap, acme.token[TL_READER]);
    ck_assert_str_eq(tl_str(s, "state"), "deleted");
    ck_assert(json_is_null(json_object_get(s, "residency")));
    json_decref(s);
    ck_assert_int_eq(bed_quota_used("snapshots"), 1);
    ck_assert_int_eq(bed_quota_used("storage_gib"), 4);
    history("snapshots", snap, events, sizeof(events));
    ck_assert_msg(strstr(events, "deleted"), "snapshot history: %s", events);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM host_allocations WHERE resource_type ="
                             " 'snapshot' AND resource_id = '%s'", snap), 0);
    /* Gone: a second delete finds nothing, and neither does its name. */
    snprintf(path, sizeof(path), "/v1/snapshots/%s", snap);
    expect_problem("DELETE", path, acme.token[TL_MEMBER], NULL, 404, "/problems/not-found",
                   NULL, NULL);
    expect_problem("GET", "/v1/snapshots/snap-1", acme.token[TL_READER], NULL, 404,
                   "/problems/not-found", NULL, NULL);
}
END_TEST

START_TEST(snapshot_of_a_deleting_volume_is_refused_and_writes_nothing)
{
    char vol[40];
    long long snapshots, records, ops;

    start();
    make_volume("going", ",\"size_gib\":1", vol);
    /* A delete under way, as its worker would see it mid-way. */
    free(tl_db_exec(db, "UPDATE volumes SET state = 'deleting' WHERE name = 'going'"));
    snapshots = sql_num("SELECT count(*) FROM snapshots");
    records = sql_num("SELECT count(*) FROM residency_records");
    ops = sql_num("SELECT count(*) FROM operations");
    expect_problem("POST", "/v1/snapshots", acme.token[TL_MEMBER],
                   "{\"name\":\"late\",\"volume\":\"going\"}", 409, "/problems/conflict", NULL,
                   "deleting");
    ck_assert_int_eq(sql_num("SELECT count(*) FROM snapshots"), snapshots);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records"), records);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM operations"), ops);
    ck_assert_int_eq(bed_quota_used("snapshots"), 0);
    ck_assert_int_eq(bed_quota_used("storage_gib"), 1);
}
END_TEST

START_TEST(volume_with_snapshots_cannot_be_deleted_until_they_are_gone)
{
    char vol[40], snap[40], path[256];
    json_t *b;
    tl_resp r;

    start();
    make_volume("keep", ",\"size_gib\":1", vol);
    snapshot_ready("keep-snap", "keep", snap);
    snprintf(path, sizeof(path), "/v1/volumes/%s", vol);
    tl_call(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    ck_assert_msg(strstr(tl_str(r.json, "detail"), "keep-snap"), "%s", r.body);
    b = json_array_get(json_object_get(r.json, "blocked_by"), 0);
    ck_assert_msg(b && strcmp(tl_str(b, "id"), snap) == 0, "blocked_by: %s", r.body);
    tl_resp_free(&r);
    b = get("volumes", vol, acme.token[TL_READER]);
    ck_assert_str_eq(tl_str(b, "state"), "available");
    json_decref(b);

    delete_ok("snapshots", snap);
    delete_ok("volumes", vol);
    b = get("volumes", vol, acme.token[TL_READER]);
    ck_assert_str_eq(tl_str(b, "state"), "deleted");
    json_decref(b);
    ck_assert_int_eq(bed_quota_used("storage_gib"), 0);
}
END_TEST

START_TEST(restore_makes_a_new_volume_on_the_snapshots_host)
{
    char vol[40], snap[40], restored[40], bigger[40], events[256], path[256];
    json_t *v;

    start();
    make_volume("origin", ",\"size_gib\":2", vol);
    snapshot_ready("origin-snap", "origin", snap);

    /* The size defaults to the snapshot's. */
    make_volume("restored", ",\"source\":{\"type\":\"snapshot\",\"id\":\"origin-snap\"}",
                restored);
    v = get("volumes", restored, acme.token[TL_READER]);
    ck_assert_int_eq(tl_num(v, "size_gib"), 2);
    ck_assert_str_eq(tl_str(json_object_get(v, "host"), "id"), host_id);
    ck_assert_str_eq(tl_str(json_object_get(v, "source"), "type"), "snapshot");
    ck_assert_str_eq(tl_str(json_object_get(v, "source"), "id"), snap);
    json_decref(v);
    snprintf(path, sizeof(path), "sov-vol-%s", restored);
    ck_assert_msg(in_pool(path), "%s is not in pool %s", path, pool);
    history("volumes", restored, events, sizeof(events));
    ck_assert_msg(strstr(events, "copied"), "restored volume's history: %s", events);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_type ="
                             " 'volume' AND resource_id = '%s' AND event = 'copied' AND"
                             " reason LIKE '%%snapshot ''origin-snap''%%'", restored), 1);

    /* Larger is fine (the short form of a source names its kind); smaller than the
     * snapshot is refused, naming size_gib; two kinds at once are refused. */
    make_volume("bigger", ",\"size_gib\":3,\"source\":{\"snapshot\":\"origin-snap\"}",
                bigger);
    expect_problem("POST", "/v1/volumes", acme.token[TL_MEMBER],
                   "{\"name\":\"two\",\"type\":\"" TYPE "\",\"source\":{\"snapshot\":"
                   "\"origin-snap\",\"volume\":\"origin\"}}", 400, "/problems/invalid-request",
                   "source", NULL);
    v = get("volumes", bigger, acme.token[TL_READER]);
    ck_assert_int_eq(tl_num(v, "size_gib"), 3);
    json_decref(v);
    expect_problem("POST", "/v1/volumes", acme.token[TL_MEMBER],
                   "{\"name\":\"small\",\"type\":\"" TYPE "\",\"size_gib\":1,\"source\":"
                   "{\"type\":\"snapshot\",\"id\":\"origin-snap\"}}", 400,
                   "/problems/invalid-request", "size_gib", NULL);

    /* A snapshot a volume is being made from cannot go meanwhile. */
    free(tl_db_exec(db, "UPDATE volumes SET state = 'creating' WHERE name = 'restored'"));
    snprintf(path, sizeof(path), "/v1/snapshots/%s", snap);
    expect_problem("DELETE", path, acme.token[TL_MEMBER], NULL, 409, "/problems/conflict",
                   NULL, "restored");
    free(tl_db_exec(db, "UPDATE volumes SET state = 'available' WHERE name = 'restored'"));

    /* A snapshot not available is no source. */
    free(tl_db_exec(db, "UPDATE snapshots SET state = 'error' WHERE name = 'origin-snap'"));
    expect_problem("POST", "/v1/volumes", acme.token[TL_MEMBER],
                   "{\"name\":\"again\",\"type\":\"" TYPE "\",\"source\":{\"type\":"
                   "\"snapshot\",\"id\":\"origin-snap\"}}", 409, "/problems/conflict", NULL,
                   "error");
    /* Nor one that does not exist. */
    expect_problem("POST", "/v1/volumes", acme.token[TL_MEMBER],
                   "{\"name\":\"again\",\"type\":\"" TYPE "\",\"source\":{\"type\":"
                   "\"snapshot\",\"id\":\"nope\"}}", 400, "/problems/invalid-request",
                   "source", NULL);
}
END_TEST

START_TEST(volume_from_a_volume_and_from_an_image)
{
    char vol[40], copy[40], from_image[40], events[256], file[96];
    json_t *v;

    start();
    make_volume("first", ",\"size_gib\":1", vol);
    make_volume_of(NULL, "second", ",\"source\":{\"type\":\"volume\",\"id\":\"first\"}",
                   copy);
    v = get("volumes", copy, acme.token[TL_READER]);
    ck_assert_int_eq(tl_num(v, "size_gib"), 1);
    ck_assert_str_eq(tl_str(json_object_get(v, "host"), "id"), host_id);
    ck_assert_str_eq(tl_str(json_object_get(v, "source"), "id"), vol);
    json_decref(v);
    history("volumes", copy, events, sizeof(events));
    ck_assert_msg(strstr(events, "copied"), "history: %s", events);
    /* A volume another is still being copied from cannot go meanwhile. */
    free(tl_db_exec(db, "UPDATE volumes SET state = 'creating' WHERE name = 'second'"));
    snprintf(file, sizeof(file), "/v1/volumes/%s", vol);
    expect_problem("DELETE", file, acme.token[TL_MEMBER], NULL, 409, "/problems/conflict",
                   NULL, "second");
    free(tl_db_exec(db, "UPDATE volumes SET state = 'available' WHERE name = 'second'"));

    /* From the image: its copy on the host first (recorded once), then the volume. */
    make_volume("from-image", ",\"size_gib\":1,\"source\":{\"type\":\"image\",\"id\":\""
                IMAGE "\"}", from_image);
    snprintf(file, sizeof(file), "sov-vol-%s", from_image);
    ck_assert(in_pool(file));
    history("volumes", from_image, events, sizeof(events));
    ck_assert_msg(strstr(events, "copied"), "history: %s", events);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM image_copies WHERE host_id = '%s'",
                             host_id), 1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_type ="
                             " 'image' AND event = 'copied' AND to_host = '" HOST "'"), 1);
    /* Another image of the tenant's workspace only. */
    expect_problem("POST", "/v1/volumes", globex.token[TL_MEMBER],
                   "{\"name\":\"stolen\",\"type\":\"" TYPE "\",\"size_gib\":1,\"source\":"
                   "{\"type\":\"image\",\"id\":\"" IMAGE "\"}}", 400,
                   "/problems/invalid-request", "source", NULL);
    expect_problem("POST", "/v1/volumes", globex.token[TL_MEMBER],
                   "{\"name\":\"stolen\",\"type\":\"" TYPE "\",\"source\":{\"type\":\"volume\","
                   "\"id\":\"first\"}}", 400, "/problems/invalid-request", "source", NULL);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volumes WHERE name = 'stolen'"), 0);
}
END_TEST

START_TEST(snapshots_quota_is_enforced_and_nothing_is_written)
{
    char vol[40], snap[40], path[128];
    long long rows;

    start();
    snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", acme.id);
    json_decref(tl_call_ok(&sovd, "PUT", path, op, "{\"snapshots\":1}", 200));
    make_volume("q", ",\"size_gib\":1", vol);
    snapshot_ready("q-1", "q", snap);
    rows = sql_num("SELECT count(*) FROM snapshots");
    {
        tl_resp r;
        tl_call(&sovd, "POST", "/v1/snapshots", acme.token[TL_MEMBER],
                "{\"name\":\"q-2\",\"volume\":\"q\"}", &r);
        tl_assert_problem(&r, 403, "/problems/quota-exceeded");
        ck_assert_str_eq(tl_str(r.json, "quota"), "snapshots");
        ck_assert_int_eq(tl_num(r.json, "limit"), 1);
        ck_assert_int_eq(tl_num(r.json, "used"), 1);
        tl_resp_free(&r);
    }
    ck_assert_int_eq(sql_num("SELECT count(*) FROM snapshots"), rows);
    ck_assert_int_eq(bed_quota_used("snapshots"), 1);
    /* Storage counts too: the GiB of a snapshot are GiB. */
    json_decref(tl_call_ok(&sovd, "PUT", path, op, "{\"snapshots\":5,\"storage_gib\":2}",
                           200));
    {
        tl_resp r;
        tl_call(&sovd, "POST", "/v1/snapshots", acme.token[TL_MEMBER],
                "{\"name\":\"q-2\",\"volume\":\"q\"}", &r);
        tl_assert_problem(&r, 403, "/problems/quota-exceeded");
        ck_assert_str_eq(tl_str(r.json, "quota"), "storage_gib");
        tl_resp_free(&r);
    }
    ck_assert_int_eq(sql_num("SELECT count(*) FROM snapshots"), rows);
    /* Deleting gives it back. */
    delete_ok("snapshots", snap);
    ck_assert_int_eq(bed_quota_used("snapshots"), 0);
    ck_assert_int_eq(bed_quota_used("storage_gib"), 1);
}
END_TEST

START_TEST(bad_input_is_refused_naming_the_field)
{
    char vol[40];
    long long rows;

    start();
    make_volume("bad", ",\"size_gib\":1", vol);
    rows = sql_num("SELECT count(*) FROM snapshots");
    static const struct {
        const char *body, *field;
    } cases[] = {
        { "{\"volume\":\"bad\"}", "name" },
        { "{\"name\":\"x\"}", "volume" },
        { "{\"name\":\"x\",\"volume\":\"\"}", "volume" },
        { "{\"name\":\"x\",\"volume\":\"nope\"}", "volume" },
        { "{\"name\":\"x\",\"volume\":7}", "volume" },
        { "{\"name\":\"Not A Slug\",\"volume\":\"bad\"}", "name" },
        { "{\"name\":\"00000000-0000-4000-8000-000000000001\",\"volume\":\"bad\"}", "name" },
        { "{\"name\":\"x\",\"volume\":\"bad\",\"size_gib\":3}", "size_gib" },
        { "{\"name\":\"x\",\"volume\":\"bad\",\"workspace\":\"nope\"}", "workspace" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_problem("POST", "/v1/snapshots", acme.token[TL_MEMBER], cases[i].body, 400,
                       "/problems/invalid-request", cases[i].field, NULL);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM snapshots"), rows);
    /* A taken name: 409. */
    {
        char snap[40];
        snapshot_ready("dup", "bad", snap);
        expect_problem("POST", "/v1/snapshots", acme.token[TL_MEMBER],
                       "{\"name\":\"dup\",\"volume\":\"bad\"}", 409, "/problems/conflict", NULL,
                       "dup");
        /* Deleting one that is creating is refused until it is whole. */
        free(tl_db_exec(db, "UPDATE snapshots SET state = 'creating' WHERE name = 'dup'"));
        expect_problem("DELETE", "/v1/snapshots/dup", acme.token[TL_MEMBER], NULL, 409,
                       "/problems/conflict", NULL, "creating");
    }
    /* A reader may look, not take. */
    expect_problem("POST", "/v1/snapshots", acme.token[TL_READER],
                   "{\"name\":\"x\",\"volume\":\"bad\"}", 403, "/problems/forbidden", NULL,
                   NULL);
    expect_problem("GET", "/v1/snapshots?after=zzz", acme.token[TL_READER], NULL, 400,
                   "/problems/invalid-request", NULL, NULL);
}
END_TEST

START_TEST(another_tenants_snapshots_do_not_exist)
{
    char vol[40], snap[40], path[256];
    json_t *list;

    start();
    make_volume("mine", ",\"size_gib\":1", vol);
    snapshot_ready("mine-snap", "mine", snap);
    snprintf(path, sizeof(path), "/v1/snapshots/%s", snap);
    for (int role = TL_ADMIN; role < TL_ROLES; role++)
        expect_problem("GET", path, globex.token[role], NULL, 404, "/problems/not-found", NULL,
                       NULL);
    expect_problem("DELETE", path, globex.token[TL_ADMIN], NULL, 404, "/problems/not-found",
                   NULL, NULL);
    snprintf(path, sizeof(path), "/v1/snapshots/%s/residency", snap);
    expect_problem("GET", path, globex.token[TL_AUDITOR], NULL, 404, "/problems/not-found",
                   NULL, NULL);
    expect_problem("GET", "/v1/snapshots/mine-snap", globex.token[TL_READER], NULL, 404,
                   "/problems/not-found", NULL, NULL);
    /* Another tenant's volume, by id, is no volume to snapshot. */
    {
        char body[256];
        snprintf(body, sizeof(body), "{\"name\":\"theirs\",\"volume\":\"%s\"}", vol);
        expect_problem("POST", "/v1/snapshots", globex.token[TL_MEMBER], body, 400,
                       "/problems/invalid-request", "volume", NULL);
    }
    list = tl_call_ok(&sovd, "GET", "/v1/snapshots", globex.token[TL_READER], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    /* The snapshot is as it was; an operator sees it. */
    list = get("snapshots", snap, op);
    ck_assert_str_eq(tl_str(list, "state"), "available");
    json_decref(list);
}
END_TEST

/* An encrypted volume's snapshot is encrypted with a key of its own, wrapped like a
 * volume's; its residency says where that key lives; a restore from it is encrypted with
 * the new volume's own key again. (The test driver keeps secrets in sovd's memory, where
 * virsh cannot see them: storage/keys checks their lifetime on a real libvirtd.) */
START_TEST(encrypted_snapshot_has_a_key_of_its_own)
{
    char vol[40], snap[40], restored[40];
    json_t *s, *key;

    start();
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op,
                           "{\"name\":\"secure\",\"encrypted\":true}", 201));
    make_volume_of("secure", "vault", ",\"size_gib\":1", vol);
    snapshot_ready("vault-snap", "vault", snap);
    s = get("snapshots", snap, acme.token[TL_READER]);
    ck_assert(json_is_true(json_object_get(s, "encrypted")));
    key = json_object_get(json_object_get(s, "residency"), "key");
    ck_assert_msg(json_is_object(key), "no key place: %s", json_dumps(s, 0));
    ck_assert_msg(strlen(tl_str(key, "country")) == 2, "%s", json_dumps(s, 0));
    json_decref(s);
    /* Its records say where its key lives. */
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_type ="
                             " 'snapshot' AND resource_id = '%s' AND event = 'copied' AND"
                             " reason LIKE '%%key in %%'", snap), 1);
    /* Its own wrapped key: not the volume's, and never shown. */
    ck_assert_int_eq(sql_num("SELECT count(*) FROM snapshots s JOIN volumes v ON v.id ="
                             " s.volume_id WHERE s.id = '%s' AND s.wrapped_key IS NOT NULL"
                             " AND s.wrapped_key <> v.wrapped_key", snap), 1);
    /* A restore that names no type keeps the snapshot's volume's (not the default). */
    make_volume_of(NULL, "vault-2", ",\"source\":{\"type\":\"snapshot\","
                   "\"id\":\"vault-snap\"}", restored);
    s = get("volumes", restored, acme.token[TL_READER]);
    ck_assert(json_is_true(json_object_get(s, "encrypted")));
    ck_assert_str_eq(tl_str(s, "type"), "secure");
    json_decref(s);
    /* Deleted, its wrapped key goes with it, and its record says so. */
    delete_ok("snapshots", snap);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM snapshots WHERE id = '%s' AND wrapped_key"
                             " IS NULL", snap), 1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_type ="
                             " 'snapshot' AND resource_id = '%s' AND event = 'deleted' AND"
                             " reason LIKE '%%data key erased%%'", snap), 1);
}
END_TEST

/* A volume attached to a running guest is copied from the guest (crash-consistent, the
 * guest keeps running and keeps its disk): a snapshot of it, and a new volume from it. */
START_TEST(attached_volume_is_snapshotted_live)
{
    char vol[40], snap[40], copy[40], inst[40], path[256], op_id[40], file[96];
    json_t *j;

    start();
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"tiny\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
    j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER],
                   "{\"name\":\"vm\",\"flavor\":\"tiny\",\"image\":\"" IMAGE "\"}", 202);
    snprintf(inst, sizeof(inst), "%s", tl_str(json_object_get(j, "instance"), "id"));
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    op_succeeds(op_id);
    make_volume("live", ",\"size_gib\":1", vol);
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", vol);
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER],
                   "{\"action\":\"attach\",\"instance\":\"vm\"}", 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    op_succeeds(op_id);
    j = get("volumes", vol, acme.token[TL_READER]);
    ck_assert_str_eq(tl_str(j, "state"), "in-use");
    json_decref(j);

    snapshot_ready("live-snap", "live", snap);
    snprintf(file, sizeof(file), "sov-snap-%s", snap);
    ck_assert_msg(in_pool(file), "%s is not in pool %s", file, pool);
    /* The guest still has its disk, and the volume is still in use. */
    j = get("volumes", vol, acme.token[TL_READER]);
    ck_assert_str_eq(tl_str(j, "state"), "in-use");
    json_decref(j);
    j = get("instances", inst, acme.token[TL_READER]);
    ck_assert_str_eq(tl_str(j, "state"), "running");
    json_decref(j);

    /* A volume made from the in-use volume, the same way. */
    make_volume("live-copy", ",\"size_gib\":2,\"source\":{\"type\":\"volume\","
                "\"id\":\"live\"}", copy);
    j = get("volumes", copy, acme.token[TL_READER]);
    ck_assert_int_eq(tl_num(j, "size_gib"), 2);
    ck_assert(json_array_size(json_object_get(j, "attachments")) == 0);
    json_decref(j);
    snprintf(file, sizeof(file), "sov-vol-%s", copy);
    ck_assert(in_pool(file));
}
END_TEST

/* The same Idempotency-Key and body answer the first 202 again and take one snapshot. */
START_TEST(idempotent_create_takes_one_snapshot)
{
    const char *headers[] = { "Idempotency-Key: snap-create-1", NULL };
    const char *body = "{\"name\":\"once\",\"volume\":\"idem\"}";
    char vol[40], first[40];
    tl_resp r;

    start();
    make_volume("idem", ",\"size_gib\":1", vol);
    tl_call_h(&sovd, "POST", "/v1/snapshots", acme.token[TL_MEMBER], body, headers, &r);
    ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body);
    snprintf(first, sizeof(first), "%s", tl_str(json_object_get(r.json, "snapshot"), "id"));
    tl_resp_free(&r);
    tl_call_h(&sovd, "POST", "/v1/snapshots", acme.token[TL_MEMBER], body, headers, &r);
    ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body);
    ck_assert_str_eq(tl_str(json_object_get(r.json, "snapshot"), "id"), first);
    tl_resp_free(&r);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM snapshots WHERE name = 'once'"), 1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM operations WHERE kind = 'snapshot.create'"),
                     1);
    ck_assert_int_eq(bed_quota_used("snapshots"), 1);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("storage/snapshots");
    TCase *tc = tcase_create("snapshots");

    tcase_add_checked_fixture(tc, setup, bed_teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, snapshot_is_made_read_listed_and_deleted);
    tcase_add_test(tc, snapshot_of_a_deleting_volume_is_refused_and_writes_nothing);
    tcase_add_test(tc, volume_with_snapshots_cannot_be_deleted_until_they_are_gone);
    tcase_add_test(tc, restore_makes_a_new_volume_on_the_snapshots_host);
    tcase_add_test(tc, volume_from_a_volume_and_from_an_image);
    tcase_add_test(tc, snapshots_quota_is_enforced_and_nothing_is_written);
    tcase_add_test(tc, bad_input_is_refused_naming_the_field);
    tcase_add_test(tc, another_tenants_snapshots_do_not_exist);
    tcase_add_test(tc, encrypted_snapshot_has_a_key_of_its_own);
    tcase_add_test(tc, attached_volume_is_snapshotted_live);
    tcase_add_test(tc, idempotent_create_takes_one_snapshot);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
