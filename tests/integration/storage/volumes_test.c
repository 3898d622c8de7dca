/* Volume types and volumes through the HTTP API of a real sovd (API, worker and reconciler
 * roles) on a real PostgreSQL, with its first host in a private libvirtd running libvirt's
 * test driver: the pool's files and the domains' disks sovd makes there are what `virsh` on
 * the same URI sees. A second host (its own test-driver host file, zone b) stands for
 * another machine where a test needs one.
 *
 * Covered: volume types (operator writes, everyone reads, bad input 400 naming the field, a
 * type in use cannot go); a create answering 202 with its operation, placed on a host with a
 * "placed" residency record and charged to the volumes and storage_gib quotas, built by a
 * worker into a qcow2 file of the host's pool; lists, names, other tenants (404); bad input
 * and an exhausted quota writing nothing; attach rules (another tenant's instance 404, another
 * host 409 naming both, an in-use volume 409, detaching what is not attached 409), extend
 * never shrinking, a delete refused while attached or while snapshots exist (naming them),
 * and a delete giving back file, capacity and quota with a "deleted" record; idempotent
 * creates. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bed.h"

#define sql_num(...) tl_db_num(db, __VA_ARGS__)

#define REGION "fr-vol-1"
#define HOST "node-1"
#define HOST2 "node-2"
#define WAIT_S 30

static char host_id[40], host2_id[40];
static const char *fault;       /* SOV_HV_FAULT for the next start(), or NULL */

static void
setup(void)
{
    bed_setup("sovvol");
    host2_id[0] = '\0';
}

static void
assert_problem(const char *method, const char *path, const char *token, const char *body,
               long status, const char *type, const char *says)
{
    bed_refused(method, path, token, body, status, type, NULL, says);
}

static void
assert_invalid(const char *method, const char *path, const char *token, const char *body,
               const char *field)
{
    bed_refused(method, path, token, body, 400, "/problems/invalid-request", field, NULL);
}

/* sovd with this process's pool; the operator, tenants acme and globex, a region with zones
 * a and b, host HOST (zone a) on the private daemon, and volume type "standard". */
static void
start(void)
{
    const char *args[] = { "--role=api,worker,reconciler", "--host-check-interval=1",
                           "--worker-threads=2", "--operation-step-timeout=10",
                           "--volume-detach-timeout-s=2", "--image-allow-file-urls=true",
                           NULL };

    if (fault)
        setenv("SOV_HV_FAULT", fault, 1);
    bed_start(args);
    unsetenv("SOV_HV_FAULT");
    fault = NULL;
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Vol FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-vol\",\"zones\":[\"a\",\"b\"]}", 201));
    bed_host_add(HOST, REGION, "a", uri, false, host_id);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op,
                           "{\"name\":\"standard\",\"max_iops\":500}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"small\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
}

/* acme's image "base" (a blank qcow2, imported from a file) and an instance of it, running
 * on HOST; its id. */
static void
launch_running(const char *name, char id[40])
{
    char body[1024], op_id[40];
    json_t *j;

    bed_image("base", REGION, WAIT_S, NULL);
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"flavor\":\"small\",\"image\":"
             "\"base\"}", name);
    j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER], body, 202);
    snprintf(id, 40, "%s", tl_str(json_object_get(j, "instance"), "id"));
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
}

/* A second host, zone b, of a test-driver host file of its own. */
static void
add_host2(void)
{
    char *u = tl_test_host_uri(tmp, "h2", 4, 8);

    bed_host_add(HOST2, REGION, "b", u, false, host2_id);
    free(u);
}

/* POST /v1/volumes as acme's member: 202, the volume's and the operation's ids. */
static void
create_volume(const char *body, char id[40], char op_id[40])
{
    tl_resp r;
    json_t *v, *o;
    char *loc, want[96];

    tl_call(&sovd, "POST", "/v1/volumes", acme.token[TL_MEMBER], body, &r);
    ck_assert_msg(r.status == 202, "create %s: %ld %s", body, r.status, r.body);
    v = json_object_get(r.json, "volume");
    o = json_object_get(r.json, "operation");
    ck_assert_str_eq(tl_str(v, "state"), "creating");
    ck_assert_str_eq(tl_str(o, "kind"), "volume.create");
    ck_assert_str_eq(tl_str(o, "resource_type"), "volume");
    ck_assert_str_eq(tl_str(o, "resource_id"), tl_str(v, "id"));
    ck_assert_str_eq(tl_str(v, "operation_id"), tl_str(o, "id"));
    snprintf(id, 40, "%s", tl_str(v, "id"));
    snprintf(op_id, 40, "%s", tl_str(o, "id"));
    snprintf(want, sizeof(want), "/v1/operations/%s", op_id);
    loc = tl_resp_header(&r, "Location");
    ck_assert_msg(loc && strcmp(loc, want) == 0, "Location %s", loc ? loc : "(none)");
    free(loc);
    tl_resp_free(&r);
}

static void
available_volume(const char *body, char id[40])
{
    char op_id[40];

    create_volume(body, id, op_id);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    json_decref(bed_wait_state("volumes", id, "available", WAIT_S));
}

/* An instance row as a worker would leave it (state, host): what the attach rules read. */
static void
instance_row(const tl_tenant *t, const char *name, const char *state, const char *host,
             char id[40])
{
    char *v = tl_db_value(db,
                          "INSERT INTO instances (id, tenant_id, workspace, name, vcpus, memory_mib,"
                          " disk_gib, gpus, region, zone, host_id, mac, state) VALUES"
                          " (gen_random_uuid(), '%s', 'default', '%s', 1, 256, 1, 0, '" REGION
                          "', 'a', '%s', '52:54:00:00:00:%02x', '%s') RETURNING id",
                          t->id, name, host, (unsigned) (rand() % 250), state);
    snprintf(id, 40, "%s", v);
    free(v);
}

/* The device a volume's attachment took. */
static void
assert_device(const char *vol, const char *want)
{
    char *dev = tl_db_value(db, "SELECT device FROM volume_attachments WHERE volume_id = '%s'",
                            vol);

    ck_assert_str_eq(dev, want);
    free(dev);
}

static void
action(const char *id, const char *body, char op_id[40])
{
    char path[128];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", id);
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], body, 202);
    ck_assert_str_eq(tl_str(json_object_get(j, "volume"), "id"), id);
    snprintf(op_id, 40, "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
}

/* ---- tests ---- */

START_TEST(volume_types_are_the_operators_and_everyone_reads_them)
{
    char id[40], vol[40], op_id[40], path[128];
    json_t *t, *list;
    tl_resp r;

    start();
    t = tl_call_ok(&sovd, "POST", "/v1/volume-types", op,
                   "{\"name\":\"fast\",\"max_iops\":2000,\"max_bytes_per_s\":104857600}", 201);
    ck_assert_str_eq(tl_str(t, "backend"), "libvirt-dir");
    ck_assert(json_is_false(json_object_get(t, "encrypted")));
    ck_assert_int_eq(tl_num(t, "max_iops"), 2000);
    ck_assert_int_eq(tl_num(t, "max_bytes_per_s"), 104857600);
    snprintf(id, sizeof(id), "%s", tl_str(t, "id"));
    json_decref(t);
    t = tl_call_ok(&sovd, "GET", "/v1/volume-types/standard", acme.token[TL_READER], NULL, 200);
    ck_assert(json_is_null(json_object_get(t, "max_bytes_per_s")));
    ck_assert_int_eq(tl_num(t, "max_iops"), 500);
    json_decref(t);
    snprintf(path, sizeof(path), "/v1/volume-types/%s", id);
    t = tl_call_ok(&sovd, "GET", path, acme.token[TL_AUDITOR], NULL, 200);
    ck_assert_str_eq(tl_str(t, "name"), "fast");
    json_decref(t);
    list = tl_call_ok(&sovd, "GET", "/v1/volume-types", acme.token[TL_MEMBER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 2);
    ck_assert_str_eq(tl_str(json_array_get(json_object_get(list, "items"), 0), "name"), "fast");
    json_decref(list);

    /* Only operators write them. */
    assert_problem("POST", "/v1/volume-types", acme.token[TL_ADMIN], "{\"name\":\"mine\"}", 403,
                   "/problems/forbidden", NULL);
    assert_problem("DELETE", path, acme.token[TL_ADMIN], NULL, 403, "/problems/forbidden", NULL);
    /* Bad input names the field, and writes nothing. */
    assert_invalid("POST", "/v1/volume-types", op, "{\"name\":\"x\",\"iops\":1}", "iops");
    assert_invalid("POST", "/v1/volume-types", op, "{\"name\":\"x\",\"encrypted\":\"yes\"}",
                   "encrypted");
    assert_invalid("POST", "/v1/volume-types", op, "{\"name\":\"x\",\"backend\":\"ceph\"}",
                   "backend");
    assert_invalid("POST", "/v1/volume-types", op, "{\"name\":\"x\",\"max_iops\":0}", "max_iops");
    assert_invalid("POST", "/v1/volume-types", op,
                   "{\"name\":\"x\",\"max_bytes_per_s\":1.5}", "max_bytes_per_s");
    assert_invalid("POST", "/v1/volume-types", op,
                   "{\"name\":\"00000000-0000-0000-0000-000000000001\"}", "name");
    assert_invalid("POST", "/v1/volume-types", op, "{\"name\":\"Not A Slug\"}", "name");
    assert_invalid("POST", "/v1/volume-types", op, "{}", "name");
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volume_types"), 2);
    assert_problem("POST", "/v1/volume-types", op, "{\"name\":\"fast\"}", 409,
                   "/problems/conflict", "already exists");
    assert_problem("GET", "/v1/volume-types/nope", acme.token[TL_READER], NULL, 404,
                   "/problems/not-found", NULL);

    /* A type a live volume uses cannot go; the refusal names the volume. */
    create_volume("{\"name\":\"quick\",\"size_gib\":1,\"type\":\"fast\"}", vol, op_id);
    tl_call(&sovd, "DELETE", "/v1/volume-types/fast", op, NULL, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_assert_contains(r.body, "quick");
    tl_assert_contains(r.body, vol);
    tl_resp_free(&r);
    tl_call(&sovd, "DELETE", "/v1/volume-types/standard", op, NULL, &r);
    ck_assert_int_eq(r.status, 204);
    tl_resp_free(&r);
    assert_problem("GET", "/v1/volume-types/standard", op, NULL, 404, "/problems/not-found",
                   NULL);
}
END_TEST

START_TEST(create_places_records_charges_and_builds_the_file)
{
    char id[40], op_id[40], path[256], name[128];
    char *out = NULL;
    json_t *v, *res, *list, *h;

    start();
    create_volume("{\"name\":\"data\",\"size_gib\":2}", id, op_id);
    /* Placed in the request's own transaction: the 202's volume already has its host and
     * its residency, and counts against the quotas. */
    v = bed_get("volumes", id);
    ck_assert_str_eq(tl_str(json_object_get(v, "host"), "id"), host_id);
    ck_assert_str_eq(tl_str(v, "type"), "standard");
    ck_assert_str_eq(tl_str(v, "region"), REGION);
    ck_assert_str_eq(tl_str(v, "zone"), "a");
    ck_assert_str_eq(tl_str(v, "workspace"), "default");
    ck_assert_int_eq(tl_num(v, "size_gib"), 2);
    ck_assert(json_is_false(json_object_get(v, "encrypted")));
    ck_assert(json_is_null(json_object_get(v, "source")));
    ck_assert_int_eq(json_array_size(json_object_get(v, "attachments")), 0);
    res = json_object_get(v, "residency");
    ck_assert_str_eq(tl_str(res, "region"), REGION);
    ck_assert_str_eq(tl_str(res, "country"), "FR");
    ck_assert_str_eq(tl_str(res, "jurisdiction"), "EU");
    ck_assert_str_eq(tl_str(res, "host"), HOST);
    ck_assert(json_is_null(json_object_get(res, "key")));
    json_decref(v);
    ck_assert_int_eq(bed_quota_used("volumes"), 1);
    ck_assert_int_eq(bed_quota_used("storage_gib"), 2);
    snprintf(path, sizeof(path), "/v1/hosts/%s", host_id);
    h = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    json_decref(h);
    ck_assert_int_eq(sql_num("SELECT disk_gib_used FROM hosts WHERE id = '%s'", host_id), 2);
    ck_assert_int_eq(sql_num("SELECT vcpus_used FROM hosts WHERE id = '%s'", host_id), 0);

    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    v = bed_wait_state("volumes", id, "available", WAIT_S);
    json_decref(v);
    ck_assert_int_eq(tl_virsh(uri, &out, "vol-list %s", pool), 0);
    snprintf(name, sizeof(name), "sov-vol-%s", id);
    tl_assert_contains(out, name);
    free(out);

    /* By name, in lists, with its history. */
    v = tl_call_ok(&sovd, "GET", "/v1/volumes/data", acme.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(v, "id"), id);
    json_decref(v);
    list = tl_call_ok(&sovd, "GET", "/v1/volumes?state=available", acme.token[TL_READER], NULL,
                      200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/volumes", globex.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    snprintf(path, sizeof(path), "/v1/volumes/%s", id);
    assert_problem("GET", path, globex.token[TL_ADMIN], NULL, 404, "/problems/not-found", NULL);
    snprintf(path, sizeof(path), "/v1/volumes/%s/residency", id);
    list = tl_call_ok(&sovd, "GET", path, acme.token[TL_AUDITOR], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    ck_assert_str_eq(tl_str(json_array_get(json_object_get(list, "items"), 0), "event"),
                     "placed");
    json_decref(list);
    assert_problem("GET", path, globex.token[TL_AUDITOR], NULL, 404, "/problems/not-found",
                   NULL);
    /* A second volume of the same name in the workspace: 409. */
    assert_problem("POST", "/v1/volumes", acme.token[TL_MEMBER],
                   "{\"name\":\"data\",\"size_gib\":1}", 409, "/problems/conflict",
                   "already exists");

    /* Delete: the file goes, capacity and quota come back, a "deleted" record. */
    snprintf(path, sizeof(path), "/v1/volumes/%s", id);
    v = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(v, "operation"), "id"));
    /* deleting, or already deleted by a quick worker */
    ck_assert_msg(strncmp(tl_str(json_object_get(v, "volume"), "state"), "delet", 5) == 0,
                  "%s", json_dumps(v, 0));
    json_decref(v);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    json_decref(bed_wait_state("volumes", id, "deleted", WAIT_S));
    ck_assert_int_eq(tl_virsh(uri, &out, "vol-list %s", pool), 0);
    ck_assert_msg(!strstr(out, name), "the file is still there:\n%s", out);
    free(out);
    ck_assert_int_eq(bed_quota_used("volumes"), 0);
    ck_assert_int_eq(bed_quota_used("storage_gib"), 0);
    ck_assert_int_eq(sql_num("SELECT disk_gib_used FROM hosts WHERE id = '%s'", host_id), 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM host_allocations WHERE resource_id = '%s'",
                             id), 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_type ="
                             " 'volume' AND resource_id = '%s' AND event = 'deleted'", id), 1);
    assert_problem("DELETE", path, acme.token[TL_MEMBER], NULL, 404, "/problems/not-found",
                   NULL);
    /* Its name is free again. */
    create_volume("{\"name\":\"data\",\"size_gib\":1}", id, op_id);
}
END_TEST

START_TEST(bad_input_is_400_naming_the_field_and_writes_nothing)
{
    static const struct {
        const char *body, *field;
    } cases[] = {
        { "{\"name\":\"v\",\"size_gib\":0}", "size_gib" },
        { "{\"name\":\"v\",\"size_gib\":-1}", "size_gib" },
        { "{\"name\":\"v\",\"size_gib\":65537}", "size_gib" },
        { "{\"name\":\"v\",\"size_gib\":9223372036854775807}", "size_gib" },
        { "{\"name\":\"v\",\"size_gib\":\"2\"}", "size_gib" },
        { "{\"name\":\"v\",\"size_gib\":1.5}", "size_gib" },
        { "{\"name\":\"v\"}", "size_gib" },
        { "{\"name\":\"v\",\"size_gib\":1,\"colour\":\"red\"}", "colour" },
        { "{\"name\":\"v\",\"size_gib\":1,\"type\":\"gold\"}", "type" },
        { "{\"name\":\"v\",\"size_gib\":1,\"type\":\"\"}", "type" },
        { "{\"name\":\"v\",\"size_gib\":1,\"type\":7}", "type" },
        { "{\"name\":\"00000000-0000-0000-0000-000000000001\",\"size_gib\":1}", "name" },
        { "{\"name\":\"Big Disk\",\"size_gib\":1}", "name" },
        { "{\"size_gib\":1}", "name" },
        { "{\"name\":\"v\",\"size_gib\":1,\"zone\":\"nowhere\"}", "zone" },
        { "{\"name\":\"v\",\"size_gib\":1,\"region\":\"xx-none-1\"}", "region" },
        { "{\"name\":\"v\",\"size_gib\":1,\"workspace\":\"Bad WS\"}", "workspace" },
        { "{\"name\":\"v\",\"size_gib\":1,\"source\":{\"type\":\"tape\",\"id\":\"x\"}}",
          "source" },
        { "{\"name\":\"v\",\"size_gib\":1,\"source\":{\"id\":\"x\"}}", "source" },
        { "{\"name\":\"v\",\"size_gib\":1,\"source\":{\"type\":\"image\",\"id\":\"x\","
          "\"at\":1}}", "source" },
        { "{\"name\":\"v\",\"size_gib\":1,\"instance_hint\":\"ghost\"}", "instance_hint" },
    };
    long long ops;

    start();
    ops = sql_num("SELECT count(*) FROM operations");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_invalid("POST", "/v1/volumes", acme.token[TL_MEMBER], cases[i].body,
                       cases[i].field);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volumes"), 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM operations"), ops);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM host_allocations"), 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_type ="
                             " 'volume'"), 0);
    ck_assert_int_eq(bed_quota_used("volumes"), 0);
    /* Readers and auditors do not create. */
    assert_problem("POST", "/v1/volumes", acme.token[TL_READER],
                   "{\"name\":\"v\",\"size_gib\":1}", 403, "/problems/forbidden", NULL);
}
END_TEST

START_TEST(quota_over_is_403_and_writes_nothing)
{
    char path[128], id[40], op_id[40];
    tl_resp r;

    start();
    snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", acme.id);
    json_decref(tl_call_ok(&sovd, "PUT", path, op, "{\"volumes\":1,\"storage_gib\":10}", 200));
    tl_call(&sovd, "POST", "/v1/volumes", acme.token[TL_MEMBER],
            "{\"name\":\"big\",\"size_gib\":11}", &r);
    tl_assert_problem(&r, 403, "/problems/quota-exceeded");
    tl_assert_contains(r.body, "storage_gib");
    tl_resp_free(&r);
    create_volume("{\"name\":\"one\",\"size_gib\":4}", id, op_id);
    tl_call(&sovd, "POST", "/v1/volumes", acme.token[TL_MEMBER],
            "{\"name\":\"two\",\"size_gib\":1}", &r);
    tl_assert_problem(&r, 403, "/problems/quota-exceeded");
    tl_assert_contains(r.body, "volumes");
    tl_resp_free(&r);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volumes"), 1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM host_allocations"), 1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM operations WHERE kind = 'volume.create'"),
                     1);
    ck_assert_int_eq(bed_quota_used("volumes"), 1);
    ck_assert_int_eq(bed_quota_used("storage_gib"), 4);
    /* An extend past storage_gib is refused the same way, and changes nothing. */
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    json_decref(bed_wait_state("volumes", id, "available", WAIT_S));
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", id);
    tl_call(&sovd, "POST", path, acme.token[TL_MEMBER],
            "{\"action\":\"extend\",\"size_gib\":11}", &r);
    tl_assert_problem(&r, 403, "/problems/quota-exceeded");
    tl_resp_free(&r);
    ck_assert_int_eq(sql_num("SELECT size_gib FROM volumes WHERE id = '%s'", id), 4);
    ck_assert_int_eq(bed_quota_used("storage_gib"), 4);
    ck_assert_int_eq(sql_num("SELECT disk_gib FROM host_allocations WHERE resource_id = '%s'",
                             id), 4);
    ck_assert_int_eq(sql_num("SELECT disk_gib_used FROM hosts WHERE id = '%s'", host_id), 4);
}
END_TEST

START_TEST(attach_rules_refuse_with_reasons)
{
    char vol[40], other[40], inst[40], theirs[40], starting[40], op_id[40];
    char path[128], body[256];
    tl_resp r;

    start();
    add_host2();
    available_volume("{\"name\":\"data\",\"size_gib\":1,\"zone\":\"a\"}", vol);
    instance_row(&acme, "app", "running", host_id, inst);
    instance_row(&globex, "theirs", "running", host_id, theirs);
    instance_row(&acme, "booting", "building", host_id, starting);
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", vol);

    /* Another tenant's instance does not exist for acme. */
    snprintf(body, sizeof(body), "{\"action\":\"attach\",\"instance\":\"%s\"}", theirs);
    assert_problem("POST", path, acme.token[TL_MEMBER], body, 404, "/problems/not-found", NULL);
    assert_problem("POST", path, acme.token[TL_MEMBER],
                   "{\"action\":\"attach\",\"instance\":\"theirs\"}", 404,
                   "/problems/not-found", NULL);
    /* Nor does acme's volume for globex. */
    snprintf(body, sizeof(body), "{\"action\":\"attach\",\"instance\":\"%s\"}", theirs);
    assert_problem("POST", path, globex.token[TL_MEMBER], body, 404, "/problems/not-found",
                   NULL);
    /* An instance that is neither running nor stopped. */
    assert_problem("POST", path, acme.token[TL_MEMBER],
                   "{\"action\":\"attach\",\"instance\":\"booting\"}", 409, "/problems/conflict",
                   "building");
    /* Bad action bodies. */
    assert_invalid("POST", path, acme.token[TL_MEMBER], "{\"action\":\"attach\"}", "instance");
    assert_invalid("POST", path, acme.token[TL_MEMBER], "{\"action\":\"mount\"}", "action");
    assert_invalid("POST", path, acme.token[TL_MEMBER],
                   "{\"action\":\"attach\",\"instance\":\"app\",\"bus\":\"scsi\"}", "bus");
    assert_invalid("POST", path, acme.token[TL_MEMBER],
                   "{\"action\":\"attach\",\"instance\":\"app\",\"force\":1}", "force");
    /* Not attached: detach is 409. */
    assert_problem("POST", path, acme.token[TL_MEMBER], "{\"action\":\"detach\"}", 409,
                   "/problems/conflict", "not attached");
    /* Extend never shrinks, and equal is no growth. */
    assert_invalid("POST", path, acme.token[TL_MEMBER],
                   "{\"action\":\"extend\",\"size_gib\":1}", "size_gib");
    assert_invalid("POST", path, acme.token[TL_MEMBER], "{\"action\":\"extend\"}", "size_gib");

    /* instance_hint places a volume on that instance's host (here the other one, zone b),
     * whatever spread would choose. */
    {
        char far_inst[40], hinted[40];
        json_t *v;
        instance_row(&acme, "far-app", "running", host2_id, far_inst);
        create_volume("{\"name\":\"hinted\",\"size_gib\":1,\"instance_hint\":\"far-app\"}",
                      hinted, op_id);
        v = bed_get("volumes", hinted);
        ck_assert_str_eq(tl_str(json_object_get(v, "host"), "name"), HOST2);
        json_decref(v);
        json_decref(tl_op_wait_done(&sovd, acme.token[TL_READER], op_id, WAIT_S));
        /* And one hinted to "app" goes to the first host: one of the two is not where
         * spread alone would put it. */
        create_volume("{\"name\":\"near\",\"size_gib\":1,\"instance_hint\":\"app\"}",
                      hinted, op_id);
        v = bed_get("volumes", hinted);
        ck_assert_str_eq(tl_str(json_object_get(v, "host"), "name"), HOST);
        json_decref(v);
        json_decref(tl_op_wait_done(&sovd, acme.token[TL_READER], op_id, WAIT_S));
    }

    /* A volume on the other host: 409 naming both hosts. */
    create_volume("{\"name\":\"far\",\"size_gib\":1,\"zone\":\"b\"}", other, op_id);
    json_decref(tl_op_wait_done(&sovd, acme.token[TL_READER], op_id, WAIT_S));
    free(tl_db_exec(db, "UPDATE volumes SET state = 'available' WHERE name = 'far'"));
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", other);
    tl_call(&sovd, "POST", path, acme.token[TL_MEMBER],
            "{\"action\":\"attach\",\"instance\":\"app\"}", &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_assert_contains(r.body, HOST);
    tl_assert_contains(r.body, HOST2);
    tl_resp_free(&r);

    /* An attach the host cannot carry out (this instance has no domain) fails, and the
     * volume is free again, saying why. */
    action(vol, "{\"action\":\"attach\",\"instance\":\"app\"}", op_id);
    json_decref(tl_op_wait_done(&sovd, acme.token[TL_READER], op_id, WAIT_S));
    json_t *v = bed_wait_state("volumes", vol, "available", WAIT_S);
    tl_assert_contains(tl_str(v, "state_reason"), "could not attach");
    ck_assert_int_eq(json_array_size(json_object_get(v, "attachments")), 0);
    json_decref(v);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volume_attachments"), 0);
}
END_TEST

/* A real instance (a domain on the private daemon's test driver), and a volume's life on
 * it: attach (vdc, then vdd), refusals while attached, online extend, detach, delete. */
START_TEST(attach_extend_detach_on_a_running_instance)
{
    char inst[40], vol[40], vol2[40], op_id[40], path[256], want[256];
    char *out = NULL;
    json_t *v, *a;

    start();
    launch_running("app", inst);
    available_volume("{\"name\":\"data\",\"size_gib\":1}", vol);
    action(vol, "{\"action\":\"attach\",\"instance\":\"app\"}", op_id);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    v = bed_wait_state("volumes", vol, "in-use", WAIT_S);
    a = json_array_get(json_object_get(v, "attachments"), 0);
    ck_assert_str_eq(tl_str(a, "instance"), inst);
    ck_assert_str_eq(tl_str(a, "instance_name"), "app");
    ck_assert_str_eq(tl_str(a, "device"), "vdc");
    ck_assert(json_is_false(json_object_get(a, "boot")));
    json_decref(v);
    /* The domain has the disk: the pool's file, its serial the volume's id, the type's
     * iotune (in its definition: libvirt's test driver has no hot plug, and the driver
     * writes the definition there). */
    ck_assert_int_eq(tl_virsh(uri, &out, "dumpxml --inactive sov-%s", inst), 0);
    snprintf(want, sizeof(want), "volume='sov-vol-%s'", vol);
    tl_assert_contains(out, want);
    snprintf(want, sizeof(want), "<serial>%s</serial>", vol);
    tl_assert_contains(out, want);
    tl_assert_contains(out, "<target dev='vdc' bus='virtio'/>");
    tl_assert_contains(out, "<total_iops_sec>500</total_iops_sec>");
    free(out);
    v = tl_call_ok(&sovd, "GET", "/v1/volumes?instance=app", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(v, "items")), 1);
    json_decref(v);

    /* Attached, it cannot attach again, nor go. */
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", vol);
    assert_problem("POST", path, acme.token[TL_MEMBER],
                   "{\"action\":\"attach\",\"instance\":\"app\"}", 409,
                   "/problems/conflict", "app");
    snprintf(path, sizeof(path), "/v1/volumes/%s", vol);
    assert_problem("DELETE", path, acme.token[TL_MEMBER], NULL, 409, "/problems/conflict",
                   "attached");
    /* A second volume takes the next device. */
    available_volume("{\"name\":\"more\",\"size_gib\":1}", vol2);
    action(vol2, "{\"action\":\"attach\",\"instance\":\"app\"}", op_id);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    assert_device(vol2, "vdd");

    /* Online extend: the quota grows by the difference. */
    action(vol, "{\"action\":\"extend\",\"size_gib\":3}", op_id);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    v = bed_wait_state("volumes", vol, "in-use", WAIT_S);
    ck_assert_int_eq(tl_num(v, "size_gib"), 3);
    json_decref(v);
    ck_assert_int_eq(bed_quota_used("storage_gib"), 3 + 1 + 1);
    /* The host's room grows with it: the allocation, and the usage its allocations add to. */
    ck_assert_int_eq(sql_num("SELECT disk_gib FROM host_allocations WHERE resource_id = '%s'",
                             vol), 3);
    ck_assert_int_eq(sql_num("SELECT disk_gib_used FROM hosts WHERE id = '%s'", host_id),
                     sql_num("SELECT sum(disk_gib) FROM host_allocations WHERE host_id = '%s'",
                             host_id));

    /* Detach: the disk leaves the domain, the volume is available again. */
    action(vol, "{\"action\":\"detach\",\"instance\":\"app\"}", op_id);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    v = bed_wait_state("volumes", vol, "available", WAIT_S);
    ck_assert_int_eq(json_array_size(json_object_get(v, "attachments")), 0);
    json_decref(v);
    ck_assert_int_eq(tl_virsh(uri, &out, "dumpxml --inactive sov-%s", inst), 0);
    snprintf(want, sizeof(want), "volume='sov-vol-%s'", vol);
    ck_assert_msg(!strstr(out, want), "the disk is still on the domain:\n%s", out);
    free(out);
    /* Offline extend of the detached volume. */
    action(vol, "{\"action\":\"extend\",\"size_gib\":4}", op_id);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    json_decref(bed_wait_state("volumes", vol, "available", WAIT_S));
    ck_assert_int_eq(tl_virsh(uri, &out, "vol-info --pool %s sov-vol-%s", pool, vol), 0);
    tl_assert_contains(out, "4.00 GiB");
    free(out);
    snprintf(path, sizeof(path), "/v1/volumes/%s", vol);
    v = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(v, "operation"), "id"));
    json_decref(v);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    ck_assert_int_eq(bed_quota_used("storage_gib"), 1 + 1);
}
END_TEST

START_TEST(delete_with_snapshots_is_refused_naming_them)
{
    char vol[40], path[128];
    tl_resp r;

    start();
    available_volume("{\"name\":\"kept\",\"size_gib\":1}", vol);
    free(tl_db_exec(db, "INSERT INTO snapshots (id, tenant_id, workspace, name, volume_id,"
                        " size_gib, state, region, zone, host_id, pool, volume) SELECT"
                        " gen_random_uuid(), tenant_id, workspace, 'before-upgrade', id, 1,"
                        " 'available', region, zone, host_id, pool, 'sov-snap-x' FROM volumes"
                        " WHERE name = 'kept'"));
    snprintf(path, sizeof(path), "/v1/volumes/%s", vol);
    tl_call(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_assert_contains(r.body, "before-upgrade");
    tl_resp_free(&r);
    json_t *v = bed_get("volumes", vol);
    ck_assert_str_eq(tl_str(v, "state"), "available");
    json_decref(v);
    /* Once the snapshot is deleted, the volume may go. */
    free(tl_db_exec(db, "UPDATE snapshots SET state = 'deleted'"));
    json_decref(tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202));
}
END_TEST

START_TEST(idempotent_create_answers_the_first_result)
{
    const char *headers[] = { "Idempotency-Key: vol-create-1", NULL };
    tl_resp a, b;

    start();
    tl_call_h(&sovd, "POST", "/v1/volumes", acme.token[TL_MEMBER],
              "{\"name\":\"once\",\"size_gib\":1}", headers, &a);
    tl_call_h(&sovd, "POST", "/v1/volumes", acme.token[TL_MEMBER],
              "{\"name\":\"once\",\"size_gib\":1}", headers, &b);
    ck_assert_int_eq(a.status, 202);
    ck_assert_int_eq(b.status, 202);
    ck_assert_str_eq(tl_str(json_object_get(a.json, "volume"), "id"),
                     tl_str(json_object_get(b.json, "volume"), "id"));
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volumes"), 1);
    ck_assert_int_eq(bed_quota_used("volumes"), 1);
    tl_resp_free(&a);
    tl_resp_free(&b);
}
END_TEST

/* The reconciler's pass over the pool: a live volume whose file is gone becomes error with
 * the reason; volumes left in a transitional state with no operation are settled by what
 * the host holds; a file of ours that no volume names is reported (audited), not deleted. */
START_TEST(reconciler_flags_missing_files_settles_stuck_volumes_and_reports_orphans)
{
    char lost[40], stuck[40], half[40], inst[40], orphan[128], path[256];
    char *out = NULL;
    json_t *v;
    time_t until;

    start();
    available_volume("{\"name\":\"lost\",\"size_gib\":1}", lost);
    available_volume("{\"name\":\"stuck\",\"size_gib\":1}", stuck);
    available_volume("{\"name\":\"half\",\"size_gib\":1}", half);
    instance_row(&acme, "ghost-vm", "stopped", host_id, inst);
    /* lost: its file removed behind sovd's back. */
    ck_assert_int_eq(tl_virsh(uri, NULL, "vol-delete --pool %s sov-vol-%s", pool, lost), 0);
    /* stuck: "attaching" with an attachment, as a sovd that died mid-attach leaves it once
     * its operation ended; the instance's domain does not have the disk. */
    free(tl_db_exec(db, "UPDATE volumes SET state = 'attaching' WHERE name = 'stuck'"));
    snprintf(path, sizeof(path), "INSERT INTO volume_attachments (volume_id, instance_id,"
             " device) VALUES ('%s', '%s', 'vdc')", stuck, inst);
    free(tl_db_exec(db, path));
    /* half: "creating" with its file there. */
    free(tl_db_exec(db, "UPDATE volumes SET state = 'creating' WHERE name = 'half'"));
    /* An orphan: a file of our prefix that no volume names. */
    snprintf(orphan, sizeof(orphan), "sov-vol-00000000-0000-4000-8000-0000000000%02x",
             (unsigned) (rand() % 200));
    ck_assert_int_eq(tl_virsh(uri, NULL, "vol-create-as %s %s 1M --format qcow2", pool,
                              orphan), 0);

    v = bed_wait_state("volumes", lost, "error", WAIT_S);
    tl_assert_contains(tl_str(v, "state_reason"), "its file is missing from pool");
    tl_assert_contains(tl_str(v, "state_reason"), HOST);
    json_decref(v);
    v = bed_wait_state("volumes", stuck, "available", WAIT_S);
    ck_assert_int_eq(json_array_size(json_object_get(v, "attachments")), 0);
    json_decref(v);
    json_decref(bed_wait_state("volumes", half, "available", WAIT_S));
    until = time(NULL) + WAIT_S;
    while (sql_num("SELECT count(*) FROM audit_log WHERE action = 'volumes.orphan-found'"
                   " AND resource_id = '%s'", orphan) == 0) {
        ck_assert_msg(time(NULL) < until, "the orphan %s was not reported", orphan);
        usleep(200 * 1000);
    }
    ck_assert_int_ge(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'volumes.reconcile' AND resource_id = '%s'", lost), 1);
    /* Reported, not deleted; and reported once. */
    sleep(2);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'volumes.orphan-found' AND resource_id = '%s'", orphan), 1);
    ck_assert_int_eq(tl_virsh(uri, &out, "vol-list %s", pool), 0);
    tl_assert_contains(out, orphan);
    free(out);
    ck_assert_int_eq(tl_virsh(uri, NULL, "vol-delete --pool %s %s", pool, orphan), 0);
}
END_TEST

/* An encrypted type: each volume gets a wrapped data key of its own, and says where the key
 * lives (the volume's residency, its "placed" record). Once the tenant's KEK is destroyed,
 * a create of an encrypted volume and an attach of one are refused with the reason. */
START_TEST(encrypted_volumes_say_where_their_key_lives_and_a_destroyed_kek_refuses)
{
    char vault[40], plain[40], inst[40], op_id[40], path[256];
    json_t *v, *key, *list;
    tl_resp r;

    start();
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op,
                           "{\"name\":\"secure\",\"encrypted\":true}", 201));
    available_volume("{\"name\":\"vault\",\"size_gib\":1,\"type\":\"secure\"}", vault);
    v = bed_get("volumes", vault);
    ck_assert(json_is_true(json_object_get(v, "encrypted")));
    key = json_object_get(json_object_get(v, "residency"), "key");
    ck_assert_str_eq(tl_str(key, "region"), REGION);
    ck_assert_str_eq(tl_str(key, "country"), "FR");
    json_decref(v);
    ck_assert_int_eq(sql_num("SELECT length(wrapped_key) FROM volumes WHERE id = '%s'", vault),
                     40);
    snprintf(path, sizeof(path), "/v1/volumes/%s/residency", vault);
    list = tl_call_ok(&sovd, "GET", path, acme.token[TL_AUDITOR], NULL, 200);
    tl_assert_contains(tl_str(json_array_get(json_object_get(list, "items"), 0), "reason"),
                    "key in " REGION " (FR)");
    json_decref(list);

    instance_row(&acme, "app", "running", host_id, inst);
    snprintf(path, sizeof(path), "/v1/tenants/%s/kek", acme.id);
    tl_call(&sovd, "DELETE", path, op, NULL, &r);
    ck_assert_msg(r.status == 204, "%ld %s", r.status, r.body);
    tl_resp_free(&r);
    /* No new encrypted volume, and nothing written. */
    tl_call(&sovd, "POST", "/v1/volumes", acme.token[TL_MEMBER],
            "{\"name\":\"vault2\",\"size_gib\":1,\"type\":\"secure\"}", &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_assert_contains(r.body, "key-encryption key was destroyed");
    tl_resp_free(&r);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volumes WHERE name = 'vault2'"), 0);
    /* No attach of the one there. */
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", vault);
    tl_call(&sovd, "POST", path, acme.token[TL_MEMBER],
            "{\"action\":\"attach\",\"instance\":\"app\"}", &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_assert_contains(r.body, "the tenant's key-encryption key was destroyed");
    tl_resp_free(&r);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volume_attachments"), 0);
    /* Plain volumes go on. */
    create_volume("{\"name\":\"plain\",\"size_gib\":1}", plain, op_id);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    /* The shredded volume can still be deleted; its record says its key is erased. */
    snprintf(path, sizeof(path), "/v1/volumes/%s", vault);
    v = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(v, "operation"), "id"));
    json_decref(v);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_id = '%s'"
                             " AND event = 'deleted' AND reason LIKE '%%data key erased%%'",
                             vault), 1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volumes WHERE id = '%s' AND wrapped_key"
                             " IS NULL", vault), 1);
}
END_TEST

/* A guest that does not let the disk go: a detach gives up after volume_detach_timeout_s and
 * leaves the volume in use, saying why; with force, the instance is power-cycled (hard stop,
 * the disk out of its definition, started again) and the operation says so. The fault
 * wrapper plays the guest: the first two detaches answer "not released". */
START_TEST(detach_waits_for_the_guest_and_force_power_cycles_it)
{
    char inst[40], vol[40], op_id[40];
    json_t *v, *o;
    char path[128];

    fault = "disk_detach:1:conflict,disk_detach:2:conflict";
    start();
    launch_running("app", inst);
    available_volume("{\"name\":\"held\",\"size_gib\":1}", vol);
    action(vol, "{\"action\":\"attach\",\"instance\":\"app\"}", op_id);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    json_decref(bed_wait_state("volumes", vol, "in-use", WAIT_S));

    action(vol, "{\"action\":\"detach\"}", op_id);
    o = tl_op_wait_done(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    json_decref(o);
    v = bed_wait_state("volumes", vol, "in-use", WAIT_S);
    tl_assert_contains(tl_str(v, "state_reason"), "detach with force");
    json_decref(v);

    action(vol, "{\"action\":\"detach\",\"force\":true}", op_id);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    v = bed_wait_state("volumes", vol, "available", WAIT_S);
    ck_assert_int_eq(json_array_size(json_object_get(v, "attachments")), 0);
    json_decref(v);
    snprintf(path, sizeof(path), "/v1/operations/%s", op_id);
    o = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    tl_assert_contains(tl_str(o, "step"), "power-cycling");
    json_decref(o);
    /* The instance runs again. */
    snprintf(path, sizeof(path), "/v1/instances/%s", inst);
    o = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(o, "state"), "running");
    json_decref(o);
    ck_assert_int_eq(tl_virsh(uri, NULL, "domstate sov-%s | grep -q running", inst), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("storage/volumes");
    TCase *tc = tcase_create("volumes");

    signal(SIGPIPE, SIG_IGN);
    srand((unsigned) getpid());
    tcase_add_checked_fixture(tc, setup, bed_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, volume_types_are_the_operators_and_everyone_reads_them);
    tcase_add_test(tc, create_places_records_charges_and_builds_the_file);
    tcase_add_test(tc, bad_input_is_400_naming_the_field_and_writes_nothing);
    tcase_add_test(tc, quota_over_is_403_and_writes_nothing);
    tcase_add_test(tc, attach_rules_refuse_with_reasons);
    tcase_add_test(tc, attach_extend_detach_on_a_running_instance);
    tcase_add_test(tc, detach_waits_for_the_guest_and_force_power_cycles_it);
    tcase_add_test(tc, delete_with_snapshots_is_refused_naming_them);
    tcase_add_test(tc, encrypted_volumes_say_where_their_key_lives_and_a_destroyed_kek_refuses);
    tcase_add_test(tc, reconciler_flags_missing_files_settles_stuck_volumes_and_reports_orphans);
    tcase_add_test(tc, idempotent_create_answers_the_first_result);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
