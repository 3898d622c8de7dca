/* Instances and volumes (storage/instance_hook.c, compute/'s create hooks): a create that
 * attaches volumes or boots from one, through the HTTP API of a real sovd on a real
 * PostgreSQL, with two hosts of libvirt's test driver so that placement has a choice:
 * "node-a" (a host file of its own, inside sovd) and "node-b" (the default test host inside a
 * private libvirtd, whose domains `virsh` on the same URI reads). Unpinned, the scheduler
 * takes node-a (the same weight, and the first name): volumes on node-b show the pin.
 *
 * The volumes these tests start from are rows written here (available, on a host): what
 * matters is what a create does with them, not how they were made (storage/volumes). The
 * reconciler runs once at start only (--host-check-interval=3600), before any is written.
 *
 * Covered: a create with volumes is placed on their host (the dry run says volume_host for
 * the other), attaches them as vdc, vdd (in-use) and its delete gives them back (available,
 * kept); volumes on two hosts, an attached or creating volume (409), another tenant's or an
 * unknown one (400 naming the field), bad members (400), all writing nothing; boot_volume
 * without an image (the domain's vda is the volume, no image overlay); boot {image} makes a
 * volume created by the instance, attached as vda, which the instance's delete deletes.
 * GET /v1/instances/{id} shows its volumes (device order, boot first; a detached one gone,
 * none after the delete); list items leave them out. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bed.h"

#define REGION "fr-test-1"
#define FLAVOR "small"
#define IMAGE "base"
#define WAIT_S 30

static char host_a[40], host_b[40], image_id[40];

/* node-b is the test driver inside the private libvirtd (the bed's uri). */
static void
setup(void)
{
    bed_setup("sovhook");
}

/* Wait for an operation to succeed (a failed test when it fails or takes too long). */
static void
op_succeeds(const char *id)
{
    tl_op_wait_ok(&sovd, acme.token[TL_READER], id, WAIT_S);
}

/* GET /v1/instances/{id}'s volumes as "device:name:boot,..." (in the order given), each
 * entry's id checked against ids (NULL-terminated, in the same order). */
static void
assert_instance_volumes(const char *id, const char *want, const char *const *ids)
{
    json_t *x = bed_get("instances", id), *list = json_object_get(x, "volumes"), *v;
    char got[512] = "";
    size_t i, used = 0;

    ck_assert_msg(json_is_array(list), "no volumes array: %s", json_dumps(x, 0));
    json_array_foreach(list, i, v) {
        ck_assert_msg(ids[i] && strcmp(tl_str(v, "id"), ids[i]) == 0, "volume %zu is %s: %s",
                      i, tl_str(v, "id"), json_dumps(x, 0));
        ck_assert_msg(json_is_boolean(json_object_get(v, "boot")), "boot: %s",
                      json_dumps(x, 0));
        used += (size_t) snprintf(got + used, sizeof(got) - used, "%s%s:%s:%s", i ? "," : "",
                                  tl_str(v, "device"), tl_str(v, "name"),
                                  json_is_true(json_object_get(v, "boot")) ? "true" : "false");
    }
    ck_assert_msg(!ids[i], "fewer volumes than expected: %s", json_dumps(x, 0));
    ck_assert_msg(strcmp(got, want) == 0, "volumes are '%s', want '%s'", got, want);
    json_decref(x);
}

/* A volume's column, as the database holds it (malloc). */
static char *
vol_col(const char *id, const char *col)
{
    return tl_db_value(db, "SELECT coalesce(%s::text, '') FROM volumes WHERE id = '%s'", col,
                       id);
}

static void
assert_vol(const char *id, const char *col, const char *want)
{
    char *v = vol_col(id, col);

    ck_assert_msg(strcmp(v, want) == 0, "volume %s: %s is '%s', want '%s'", id, col, v, want);
    free(v);
}

/* Wait for a volume's state (the workers move it). */
static void
wait_vol_state(const char *id, const char *state)
{
    time_t until = time(NULL) + WAIT_S;

    for (;;) {
        char *v = vol_col(id, "state");
        bool done = strcmp(v, state) == 0;
        ck_assert_msg(done || time(NULL) < until, "volume %s is %s, not %s after %d s", id, v,
                      state, WAIT_S);
        free(v);
        if (done)
            return;
        usleep(100 * 1000);
    }
}

/* A volume of tenant_id on host_id in state, written as the volume service leaves one (its
 * file too, on node-b where the test reads the pool); its id. */
static void
volume(const char *tenant_id, const char *name, const char *host_id, const char *state,
       char id[40])
{
    char *v = tl_db_value(db,
                          "INSERT INTO volumes (id, tenant_id, workspace, name, size_gib, state,"
                          " region, zone, host_id, pool, volume) SELECT g, '%s', 'default',"
                          " '%s', 1, '%s', '" REGION "', CASE WHEN '%s' = '%s' THEN 'a' ELSE"
                          " 'b' END, '%s', '%s', 'sov-vol-' || g FROM gen_random_uuid() g"
                          " RETURNING id",
                          tenant_id, name, state, host_id, host_a, host_id, pool);

    ck_assert_msg(strlen(v) == 36, "volume insert gave '%s'", v);
    snprintf(id, 40, "%s", v);
    free(v);
    if (strcmp(host_id, host_b) == 0)
        ck_assert_int_eq(tl_virsh(uri, NULL, "vol-create-as %s sov-vol-%s 1G --format qcow2",
                                  pool, id), 0);
}

static long long
instances_named(const char *name)
{
    return tl_db_num(db, "SELECT count(*) FROM instances WHERE name = '%s'", name);
}

static long long
attachments(void)
{
    return tl_db_num(db, "SELECT count(*) FROM volume_attachments");
}

/* sovd; tenants acme and globex; region REGION with zones a and b; node-a (zone a, its own
 * test host) and node-b (zone b, the private libvirtd); flavor FLAVOR; acme's image IMAGE;
 * the default volume type. */
static void
start(void)
{
    const char *args[] = { "--role=api,worker,reconciler", "--host-check-interval=3600",
                           "--worker-threads=4", "--image-allow-file-urls=true",
                           "--operation-step-timeout=10", "--stop-timeout=5", NULL };
    char *uri_a;

    bed_start(args);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Test FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-fr\",\"zones\":[\"a\",\"b\"]}", 201));
    uri_a = tl_test_host_uri(tmp, "node-a", 16, 16);
    bed_host_add("node-a", REGION, "a", uri_a, false, host_a);
    free(uri_a);
    bed_host_add("node-b", REGION, "b", uri, true, host_b);
    /* The same weight on both: unpinned, the first name (node-a) wins. */
    free(tl_db_exec(db, "UPDATE hosts SET cpus = 16, memory_mib = 16384"));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"" FLAVOR "\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
    free(tl_db_exec(db, "INSERT INTO volume_types (id, name, backend) VALUES"
                        " (gen_random_uuid(), 'standard', 'libvirt-dir')"));
    bed_image(IMAGE, REGION, WAIT_S, image_id);
}

/* POST /v1/instances as acme's member with this body: 202; the instance and operation ids. */
static json_t *
create(const char *body, char id[40], char op_id[40])
{
    json_t *j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER], body, 202);
    json_t *x = json_object_get(j, "instance");

    snprintf(id, 40, "%s", tl_str(x, "id"));
    snprintf(op_id, 40, "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_incref(x);
    json_decref(j);
    return x;
}

/* DELETE the instance and wait for its delete to finish. */
static void
delete_instance(const char *id)
{
    char path[128], op_id[40];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    op_succeeds(op_id);
    json_decref(bed_wait_state("instances", id, "deleted", WAIT_S));
}

/* A request that fails with status and type, naming field when not NULL. */
static void
refused(const char *token, const char *path, const char *body, long status, const char *type,
        const char *field, const char *says)
{
    bed_refused("POST", path, token, body, status, type, field, says);
}

/* ---- tests ---- */

START_TEST(create_with_volumes_is_placed_on_their_host_and_attaches_them)
{
    char v1[40], v2[40], id[40], op_id[40], body[512];
    char *dev;
    json_t *x, *d, *rej;

    start();
    volume(acme.id, "data-1", host_b, "available", v1);
    volume(acme.id, "data-2", host_b, "available", v2);

    /* Unpinned, node-a; with the volumes, node-b, the other rejected as volume_host. */
    d = tl_call_ok(&sovd, "POST", "/v1/placement/dry-run", acme.token[TL_MEMBER],
                   "{\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\"}", 200);
    ck_assert_str_eq(tl_str(json_object_get(d, "placement"), "host"), "node-a");
    ck_assert_int_eq(tl_num(json_object_get(d, "rejected"), "volume_host"), 0);
    json_decref(d);
    snprintf(body, sizeof(body), "{\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\","
             "\"volumes\":[\"data-1\",\"%s\"]}", v2);
    d = tl_call_ok(&sovd, "POST", "/v1/placement/dry-run", acme.token[TL_MEMBER], body, 200);
    ck_assert_str_eq(tl_str(json_object_get(d, "placement"), "host"), "node-b");
    rej = json_object_get(d, "rejected");
    ck_assert_int_eq(tl_num(rej, "volume_host"), 1);
    ck_assert_int_eq(tl_num(d, "considered"), 2);
    json_decref(d);
    /* The dry run claims nothing and attaches nothing. */
    ck_assert_int_eq(attachments(), 0);
    assert_vol(v1, "state", "available");

    snprintf(body, sizeof(body), "{\"name\":\"web-1\",\"flavor\":\"" FLAVOR "\",\"image\":"
             "\"" IMAGE "\",\"volumes\":[\"data-1\",\"%s\"]}", v2);
    x = create(body, id, op_id);
    ck_assert_str_eq(tl_str(json_object_get(x, "host"), "name"), "node-b");
    ck_assert_int_eq(tl_num(json_object_get(json_object_get(x, "placement"), "rejected"),
                            "volume_host"), 1);
    ck_assert(json_is_null(json_object_get(x, "boot_volume")));
    ck_assert_str_eq(tl_str(x, "image_id"), image_id);
    json_decref(x);
    /* Attached in the create's transaction, in the order given, from vdc on. */
    dev = tl_db_value(db, "SELECT device || ':' || boot FROM volume_attachments"
                          " WHERE volume_id = '%s' AND instance_id = '%s'", v1, id);
    ck_assert_str_eq(dev, "vdc:false");
    free(dev);
    dev = tl_db_value(db, "SELECT device FROM volume_attachments WHERE volume_id = '%s'", v2);
    ck_assert_str_eq(dev, "vdd");
    free(dev);
    assert_vol(v1, "state", "in-use");
    assert_vol(v2, "state", "in-use");

    /* The domain the worker defines holds them, at their devices, named by their ids. */
    op_succeeds(op_id);
    json_decref(bed_wait_state("instances", id, "running", WAIT_S));
    {
        char *out = NULL, want[200];
        ck_assert_int_eq(tl_virsh(uri, &out, "dumpxml sov-%s", id), 0);
        snprintf(want, sizeof(want), "volume='sov-vol-%s'", v1);
        tl_assert_contains(out, want);
        tl_assert_contains(out, "<target dev='vdc' bus='virtio'/>");
        tl_assert_contains(out, "<target dev='vdd' bus='virtio'/>");
        snprintf(want, sizeof(want), "volume='sov-%s-disk'", id);
        tl_assert_contains(out, want);
        free(out);
    }

    /* The instance shows them, in device order; the list leaves them out; another tenant
     * sees neither. */
    {
        const char *ids[] = { v1, v2, NULL }, *rest[] = { v2, NULL }, *none[] = { NULL };
        char path[128];

        assert_instance_volumes(id, "vdc:data-1:false,vdd:data-2:false", ids);
        x = tl_call_ok(&sovd, "GET", "/v1/instances", acme.token[TL_READER], NULL, 200);
        ck_assert_int_eq(json_array_size(json_object_get(x, "items")), 1);
        ck_assert(!json_object_get(json_array_get(json_object_get(x, "items"), 0), "volumes"));
        json_decref(x);
        snprintf(path, sizeof(path), "/v1/instances/%s", id);
        {
            tl_resp r;
            tl_call(&sovd, "GET", path, globex.token[TL_READER], NULL, &r);
            tl_assert_problem(&r, 404, "/problems/not-found");
            tl_resp_free(&r);
        }

        /* A detached volume leaves the instance's list. */
        snprintf(path, sizeof(path), "/v1/volumes/%s/actions", v1);
        x = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER],
                       "{\"action\":\"detach\",\"instance\":\"web-1\"}", 202);
        snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(x, "operation"), "id"));
        json_decref(x);
        op_succeeds(op_id);
        wait_vol_state(v1, "available");
        assert_instance_volumes(id, "vdd:data-2:false", rest);

        /* The delete gives the other back: detached, available, kept; none left. */
        delete_instance(id);
        assert_instance_volumes(id, "", none);
    }
    ck_assert_int_eq(attachments(), 0);
    assert_vol(v1, "state", "available");
    assert_vol(v2, "state", "available");
    assert_vol(v1, "deleted_at", "");
}
END_TEST

START_TEST(volumes_that_cannot_go_with_the_instance_are_refused_and_nothing_is_written)
{
    char va[40], vb[40], making[40], theirs[40], id[40], op_id[40], body[512];

    start();
    volume(acme.id, "on-a", host_a, "available", va);
    volume(acme.id, "on-b", host_b, "available", vb);
    volume(acme.id, "making", host_b, "creating", making);
    volume(globex.id, "theirs", host_b, "available", theirs);

    /* On two hosts: 409 naming each volume's host; the dry run says the same. */
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\","
            "\"volumes\":[\"on-a\",\"on-b\"]}", 409, "/problems/conflict", NULL,
            "'on-b' on host 'node-b'");
    refused(acme.token[TL_MEMBER], "/v1/placement/dry-run",
            "{\"flavor\":\"" FLAVOR "\",\"volumes\":[\"on-a\",\"on-b\"]}", 409,
            "/problems/conflict", NULL, "'on-a' on host 'node-a'");
    /* Still being made: 409. */
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\","
            "\"volumes\":[\"making\"]}", 409, "/problems/conflict", NULL, "creating");
    /* Another tenant's, by id, and an unknown name: 400 naming the field, as an unknown
     * image is; the other tenant's volume is not confirmed to exist. */
    snprintf(body, sizeof(body), "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"image\":"
             "\"" IMAGE "\",\"volumes\":[\"%s\"]}", theirs);
    refused(acme.token[TL_MEMBER], "/v1/instances", body, 400, "/problems/invalid-request",
            "volumes", "does not exist");
    snprintf(body, sizeof(body), "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\","
             "\"boot_volume\":\"%s\"}", theirs);
    refused(acme.token[TL_MEMBER], "/v1/instances", body, 400, "/problems/invalid-request",
            "boot_volume", "does not exist");
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\","
            "\"volumes\":[\"nope\"]}", 400, "/problems/invalid-request", "volumes", "'nope'");
    /* Given twice, or as the boot volume too. */
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\","
            "\"volumes\":[\"on-b\",\"on-b\"]}", 400, "/problems/invalid-request", "volumes",
            "twice");
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"boot_volume\":\"on-b\","
            "\"volumes\":[\"on-b\"]}", 400, "/problems/invalid-request", "volumes", NULL);
    /* Bad members. */
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\","
            "\"volumes\":[1]}", 400, "/problems/invalid-request", "volumes", NULL);
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"volumes\":\"on-b\"}", 400,
            "/problems/invalid-request", "volumes", NULL);
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"boot\":{\"image\":\"" IMAGE "\","
            "\"colour\":\"red\"}}", 400, "/problems/invalid-request", "boot", "boot.colour");
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"boot\":{\"size_gib\":2}}", 400,
            "/problems/invalid-request", "boot.image", NULL);
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"boot\":{\"image\":\"" IMAGE "\","
            "\"size_gib\":-1}}", 400, "/problems/invalid-request", "boot.size_gib", NULL);
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"boot\":{\"image\":\"nope\"}}", 400,
            "/problems/invalid-request", "boot.image", NULL);
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"boot_volume\":\"on-b\","
            "\"boot\":{\"image\":\"" IMAGE "\"}}", 400, "/problems/invalid-request", "boot",
            NULL);
    /* An image and a boot volume; neither. */
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\","
            "\"boot_volume\":\"on-b\"}", 400, "/problems/invalid-request", "image", NULL);
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\"}", 400,
            "/problems/invalid-request", "image", NULL);
    ck_assert_int_eq(instances_named("web-2"), 0);
    ck_assert_int_eq(attachments(), 0);
    assert_vol(vb, "state", "available");

    /* Their host full: no other host will do, and the answer says why it was pinned. */
    free(tl_db_exec(db, "UPDATE hosts SET vcpus_used = 64 WHERE name = 'node-b'"));
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-2\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\","
            "\"volumes\":[\"on-b\"]}", 409, "/problems/no-capacity", NULL,
            "volume 'on-b' is on host 'node-b'");
    {
        tl_resp r;
        tl_call(&sovd, "POST", "/v1/placement/dry-run", acme.token[TL_MEMBER],
                "{\"flavor\":\"" FLAVOR "\",\"volumes\":[\"on-b\"]}", &r);
        tl_assert_problem(&r, 409, "/problems/no-capacity");
        ck_assert_int_eq(tl_num(json_object_get(r.json, "rejected"), "volume_host"), 1);
        ck_assert_int_eq(tl_num(json_object_get(r.json, "rejected"), "capacity"), 1);
        tl_resp_free(&r);
    }
    free(tl_db_exec(db, "UPDATE hosts SET vcpus_used = 0 WHERE name = 'node-b'"));
    ck_assert_int_eq(instances_named("web-2"), 0);

    /* Attached to one instance: the next create that names it is refused (409). */
    json_decref(create("{\"name\":\"web-3\",\"flavor\":\"" FLAVOR "\",\"image\":\""
                       IMAGE "\",\"volumes\":[\"on-b\"]}", id, op_id));
    refused(acme.token[TL_MEMBER], "/v1/instances",
            "{\"name\":\"web-4\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\","
            "\"volumes\":[\"on-b\"]}", 409, "/problems/conflict", NULL, "web-3");
    ck_assert_int_eq(instances_named("web-4"), 0);
    op_succeeds(op_id);
}
END_TEST

START_TEST(boot_volume_boots_without_an_image_and_is_kept_after_the_delete)
{
    char boot[40], id[40], op_id[40], body[512], want[200];
    char *out = NULL, *dev;
    json_t *x;

    start();
    volume(acme.id, "system", host_b, "available", boot);
    snprintf(body, sizeof(body), "{\"name\":\"vm-1\",\"flavor\":\"" FLAVOR "\","
             "\"boot_volume\":\"system\"}");
    x = create(body, id, op_id);
    ck_assert_str_eq(tl_str(x, "boot_volume"), boot);
    ck_assert(json_is_null(json_object_get(x, "image_id")));
    ck_assert_str_eq(tl_str(json_object_get(x, "host"), "name"), "node-b");
    /* No disk of its own on the host: the volume is counted as a volume. */
    ck_assert_int_eq(tl_num(x, "disk_gib"), 0);
    json_decref(x);
    dev = tl_db_value(db, "SELECT device || ':' || boot FROM volume_attachments"
                          " WHERE volume_id = '%s'", boot);
    ck_assert_str_eq(dev, "vda:true");
    free(dev);
    assert_vol(boot, "state", "in-use");

    op_succeeds(op_id);
    x = bed_wait_state("instances", id, "running", WAIT_S);
    ck_assert_str_eq(tl_str(x, "boot_volume"), boot);
    json_decref(x);
    {
        const char *ids[] = { boot, NULL };
        assert_instance_volumes(id, "vda:system:true", ids);
    }
    /* The domain's first disk is the volume, as vda; no image overlay, no image copy. */
    ck_assert_int_eq(tl_virsh(uri, &out, "dumpxml sov-%s", id), 0);
    snprintf(want, sizeof(want), "<source pool='%s' volume='sov-vol-%s'/>", pool, boot);
    tl_assert_contains(out, want);
    {
        /* The first <disk> element is the volume, at vda. */
        const char *first = strstr(out, "<disk ");
        const char *second = first ? strstr(first + 1, "<disk ") : NULL;
        const char *src = first ? strstr(first, want) : NULL;
        const char *vda = first ? strstr(first, "<target dev='vda'") : NULL;
        ck_assert_msg(second && src && vda && src < second && vda < second,
                      "the first disk is not the boot volume as vda:\n%s", out);
    }
    snprintf(want, sizeof(want), "sov-%s-disk", id);
    ck_assert_msg(!strstr(out, want), "an image overlay in a volume-booted domain:\n%s", out);
    free(out);
    ck_assert_int_eq(tl_virsh(uri, &out, "vol-list %s", pool), 0);
    snprintf(want, sizeof(want), "sov-image-%s", image_id);
    ck_assert_msg(!strstr(out, want), "the image was copied for a volume boot:\n%s", out);
    free(out);

    /* Deleting the instance keeps the volume it did not make. */
    delete_instance(id);
    ck_assert_int_eq(attachments(), 0);
    assert_vol(boot, "state", "available");
    ck_assert_int_eq(tl_virsh(uri, &out, "vol-list %s", pool), 0);
    snprintf(want, sizeof(want), "sov-vol-%s", boot);
    tl_assert_contains(out, want);
    free(out);
}
END_TEST

START_TEST(boot_from_an_image_makes_a_volume_that_the_delete_deletes)
{
    char id[40], op_id[40], vol[40], data[40], body[512];
    char *v, *dev, *kind;
    json_t *x;

    start();
    volume(acme.id, "data", host_b, "available", data);
    snprintf(body, sizeof(body), "{\"name\":\"vm-2\",\"flavor\":\"" FLAVOR "\","
             "\"boot\":{\"image\":\"" IMAGE "\",\"size_gib\":2},\"volumes\":[\"data\"]}");
    x = create(body, id, op_id);
    ck_assert(json_is_null(json_object_get(x, "image_id")));
    ck_assert_str_eq(tl_str(json_object_get(x, "host"), "name"), "node-b");
    snprintf(vol, sizeof(vol), "%s", tl_str(x, "boot_volume"));
    json_decref(x);

    /* Made in the create's transaction: created by the instance, from the image, on its
     * host, attached as vda, its own "volume.create" queued. */
    assert_vol(vol, "created_by_instance", id);
    assert_vol(vol, "source_type", "image");
    assert_vol(vol, "source_id", image_id);
    assert_vol(vol, "host_id", host_b);
    assert_vol(vol, "size_gib", "2");
    assert_vol(vol, "name", "vm-2-boot");
    /* The API says which instance made it (and so goes with it); a volume of its own: null. */
    snprintf(body, sizeof(body), "/v1/volumes/%s", vol);
    x = tl_call_ok(&sovd, "GET", body, acme.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(x, "created_by_instance"), id);
    json_decref(x);
    snprintf(body, sizeof(body), "/v1/volumes/%s", data);
    x = tl_call_ok(&sovd, "GET", body, acme.token[TL_READER], NULL, 200);
    ck_assert(json_is_null(json_object_get(x, "created_by_instance")));
    json_decref(x);
    dev = tl_db_value(db, "SELECT device || ':' || boot FROM volume_attachments"
                          " WHERE volume_id = '%s' AND instance_id = '%s'", vol, id);
    ck_assert_str_eq(dev, "vda:true");
    free(dev);
    dev = tl_db_value(db, "SELECT device FROM volume_attachments WHERE volume_id = '%s'", data);
    ck_assert_str_eq(dev, "vdc");
    free(dev);
    kind = tl_db_value(db, "SELECT kind FROM operations WHERE resource_id = '%s'"
                           " ORDER BY created_at LIMIT 1", vol);
    ck_assert_str_eq(kind, "volume.create");
    free(kind);

    /* The build waits for the volume (no attempt spent on waiting), which its own
     * operation makes from the image and leaves in-use: the domain boots from it. */
    {
        json_t *o = tl_op_wait_done(&sovd, acme.token[TL_READER], op_id, WAIT_S);
        char *out = NULL, want[200];
        ck_assert_msg(strcmp(tl_str(o, "state"), "succeeded") == 0, "%s", json_dumps(o, 0));
        ck_assert_int_eq(tl_num(o, "attempts"), 1);
        json_decref(o);
        json_decref(bed_wait_state("instances", id, "running", WAIT_S));
        assert_vol(vol, "state", "in-use");
        ck_assert_int_eq(tl_virsh(uri, &out, "dumpxml sov-%s", id), 0);
        snprintf(want, sizeof(want), "<source pool='%s' volume='sov-vol-%s'/>", pool, vol);
        tl_assert_contains(out, want);
        ck_assert_msg(strstr(out, want) < strstr(out, "<target dev='vda'"),
                      "the boot volume is not the first disk:\n%s", out);
        free(out);
    }
    {
        const char *ids[] = { vol, data, NULL };
        assert_instance_volumes(id, "vda:vm-2-boot:true,vdc:data:false", ids);
    }
    /* The delete deletes the volume the instance made, and keeps the other. */
    delete_instance(id);
    wait_vol_state(vol, "deleted");
    v = tl_db_value(db, "SELECT count(*) FROM operations WHERE resource_id = '%s'"
                        " AND kind = 'volume.delete' AND state = 'succeeded'", vol);
    ck_assert_str_eq(v, "1");
    free(v);
    assert_vol(data, "state", "available");
    ck_assert_int_eq(attachments(), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("storage/hook");
    TCase *tc = tcase_create("hook");

    signal(SIGPIPE, SIG_IGN);
    tcase_add_checked_fixture(tc, setup, bed_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, create_with_volumes_is_placed_on_their_host_and_attaches_them);
    tcase_add_test(tc, volumes_that_cannot_go_with_the_instance_are_refused_and_nothing_is_written);
    tcase_add_test(tc, boot_volume_boots_without_an_image_and_is_kept_after_the_delete);
    tcase_add_test(tc, boot_from_an_image_makes_a_volume_that_the_delete_deletes);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
