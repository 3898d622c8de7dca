/* The SECA storage provider (api/seca_storage.c) through a real sovd on a real PostgreSQL,
 * with the storage suites' bed (a private libvirtd whose test driver is the host, in zone a
 * of REGION).
 *
 * Covered: a fresh sovd started with seed_volume_type offers the default volume type as a
 * storage SKU (local-durable); another tenant's path is 404. A block storage made by PUT
 * answers 201, reads [active, creating, pending] with sizeGB, its region and residency
 * (host, key: null), labels echoed; a bigger sizeGB is our extend (200, then [active,
 * updating, active, creating, pending] and the new size); shrinking and changing the SKU are
 * 412; a missing SKU or image, sizeGB 0 and an unknown member are 412 naming the pointer and
 * write nothing; DELETE answers 202 and GET then 404. A block storage attached through /v1
 * shows status.attachedTo and its DELETE is 412 with the service's reason. An image made by
 * PUT from a block storage answers 201, becomes active with sizeMB the volume's size, its
 * region and residency, a "copied" residency record from the volume's host; a block storage
 * made from it names it as sourceImageRef; a missing block storage and arm64 are 412; DELETE
 * 202 then 404. POST /v1/images with source_volume shares it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../storage/bed.h"
#include "seca_kit.h"

#define REGION "fr-store-1"
#define WAIT_S 30
#define PROVIDER "/providers/seca.storage/v1/tenants/acme"
#define SKUS PROVIDER "/skus"
#define IMAGES PROVIDER "/images"
#define BLOCKS PROVIDER "/workspaces/default/block-storages"

#define sql_num(...) tl_db_num(db, __VA_ARGS__)

static void
setup(void)
{
    bed_setup("sovsecast");
}

/* sovd seeding the default volume type ("standard"); tenants acme and globex; REGION with
 * zones a and b; the host in zone a; flavor "small". */
static void
start(void)
{
    const char *args[] = { "--role=api,worker,reconciler", "--host-check-interval=3600",
                           "--worker-threads=2", "--operation-step-timeout=10",
                           "--image-allow-file-urls=true", "--seed-volume-type=true", NULL };
    char host_id[40];

    bed_start(args);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Store FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-store\",\"zones\":[\"a\",\"b\"]}", 201));
    bed_host_add("node-a", REGION, "a", uri, true, host_id);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"small\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
}

/* The kit's calls (seca_kit.h) on this suite's sovd, read as acme's reader. */
#define seca(...) tl_seca_call(&sovd, __VA_ARGS__)
#define seca_refused(...) tl_seca_refused(&sovd, __VA_ARGS__)
#define wait_conditions(path, want) \
    tl_seca_wait_conditions(&sovd, path, acme.token[TL_READER], want, WAIT_S)
#define wait_gone(path) tl_seca_wait_gone(&sovd, path, acme.token[TL_READER], WAIT_S)

/* PUTs of path as acme's member, each refused with 412 naming its pointer (and saying says
 * unless NULL). */
typedef struct bad_put {
    const char *body, *pointer, *says;
} bad_put;

static void
puts_refused(const char *path, const bad_put *bad, size_t n)
{
    for (size_t i = 0; i < n; i++)
        seca_refused("PUT", path, acme.token[TL_MEMBER], bad[i].body, 412, bad[i].pointer,
                     bad[i].says);
}

static json_t *
status_of(const json_t *x)
{
    return json_object_get(x, "status");
}

/* PUT block storage name of size gib (sku "standard"), then wait until it is active. */
static void
block(const char *name, int gib, const char *extra)
{
    char path[256], body[512];

    snprintf(path, sizeof(path), BLOCKS "/%s", name);
    snprintf(body, sizeof(body), "{\"spec\":{\"skuRef\":{\"resource\":\"skus/standard\"},"
             "\"sizeGB\":%d%s}}", gib, extra ? extra : "");
    json_decref(seca("PUT", path, acme.token[TL_MEMBER], body, 201));
    json_decref(wait_conditions(path, "active,creating,pending"));
}

/* ---- tests ---- */

START_TEST(a_fresh_sovd_offers_the_default_volume_type_as_a_sku)
{
    json_t *list, *s, *spec, *md;

    start();
    list = seca("GET", SKUS, acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    s = json_array_get(json_object_get(list, "items"), 0);
    md = json_object_get(s, "metadata");
    ck_assert_str_eq(tl_str(md, "name"), "standard");
    ck_assert_str_eq(tl_str(md, "kind"), "storage-sku");
    ck_assert_str_eq(tl_str(md, "provider"), "seca.storage/v1");
    ck_assert_str_eq(tl_str(md, "region"), REGION);
    spec = json_object_get(s, "spec");
    ck_assert_str_eq(tl_str(spec, "type"), "local-durable");
    ck_assert_int_eq(tl_num(spec, "iops"), 45000);
    ck_assert_int_eq(tl_num(spec, "minVolumeSize"), 1);
    json_decref(list);

    /* An operator's type with a limit: its iops. */
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op,
                           "{\"name\":\"slow\",\"max_iops\":300}", 201));
    s = seca("GET", SKUS "/slow", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(tl_num(json_object_get(s, "spec"), "iops"), 300);
    ck_assert_str_eq(tl_str(json_object_get(s, "metadata"), "verb"), "GET");
    json_decref(s);
    list = seca("GET", SKUS "?limit=1", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);

    seca_refused("GET", SKUS "/nope", acme.token[TL_READER], NULL, 404, NULL, NULL);
    /* Another tenant's path names nothing. */
    seca_refused("GET", SKUS, globex.token[TL_READER], NULL, 404, NULL, NULL);
    seca_refused("GET", BLOCKS, globex.token[TL_READER], NULL, 404, NULL, NULL);
    seca_refused("GET", IMAGES, globex.token[TL_READER], NULL, 404, NULL, NULL);
}
END_TEST

START_TEST(a_block_storage_is_created_grown_and_deleted)
{
    json_t *x, *st, *res, *list;
    char state[32];

    start();
    x = seca("PUT", BLOCKS "/data", acme.token[TL_MEMBER],
             "{\"labels\":{\"env\":\"conformance\"},\"annotations\":{\"note\":\"n\"},"
             "\"spec\":{\"skuRef\":\"skus/standard\",\"sizeGB\":1}}", 201);
    snprintf(state, sizeof(state), "%s", tl_str(status_of(x), "state"));
    ck_assert_msg(strcmp(state, "pending") == 0 || strcmp(state, "creating") == 0 ||
                  strcmp(state, "active") == 0, "state %s", state);
    ck_assert_str_eq(tl_str(json_object_get(x, "metadata"), "verb"), "PUT");
    json_decref(x);
    x = wait_conditions(BLOCKS "/data", "active,creating,pending");
    ck_assert_str_eq(tl_str(json_object_get(x, "metadata"), "kind"), "block-storage");
    ck_assert_str_eq(tl_str(json_object_get(x, "metadata"), "region"), REGION);
    ck_assert_str_eq(tl_str(json_object_get(x, "metadata"), "workspace"), "default");
    ck_assert_str_eq(tl_str(json_object_get(x, "labels"), "env"), "conformance");
    ck_assert_str_eq(tl_str(json_object_get(x, "annotations"), "note"), "n");
    ck_assert_int_eq(tl_num(json_object_get(x, "spec"), "sizeGB"), 1);
    ck_assert_str_eq(tl_str(json_object_get(json_object_get(x, "spec"), "skuRef"), "resource"),
                     "skus/standard");
    st = status_of(x);
    ck_assert_int_eq(tl_num(st, "sizeGB"), 1);
    ck_assert_ptr_null(json_object_get(st, "attachedTo"));
    res = json_object_get(st, "residency");
    ck_assert_str_eq(tl_str(res, "region"), REGION);
    ck_assert_str_eq(tl_str(res, "host"), "node-a");
    ck_assert(json_is_null(json_object_get(res, "key")));
    json_decref(x);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volumes WHERE name = 'data' AND "
                             "state = 'available'"), 1);

    /* Bigger: our extend, followed. */
    x = seca("PUT", BLOCKS "/data", acme.token[TL_MEMBER],
             "{\"labels\":{\"env\":\"conformance\"},"
             "\"spec\":{\"skuRef\":{\"resource\":\"skus/standard\"},\"sizeGB\":2}}", 200);
    snprintf(state, sizeof(state), "%s", tl_str(status_of(x), "state"));
    ck_assert_msg(strcmp(state, "updating") == 0 || strcmp(state, "active") == 0, "state %s",
                  state);
    json_decref(x);
    x = wait_conditions(BLOCKS "/data", "active,updating,active,creating,pending");
    ck_assert_int_eq(tl_num(status_of(x), "sizeGB"), 2);
    ck_assert_int_eq(tl_num(json_object_get(x, "metadata"), "resourceVersion"), 2);
    json_decref(x);
    ck_assert_int_eq(sql_num("SELECT size_gib FROM volumes WHERE name = 'data'"), 2);

    /* Smaller, or another SKU: refused, nothing changes. */
    seca_refused("PUT", BLOCKS "/data", acme.token[TL_MEMBER],
                 "{\"spec\":{\"skuRef\":\"skus/standard\",\"sizeGB\":1}}", 412, "/spec/sizeGB",
                 "cannot decrease");
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op, "{\"name\":\"fast\"}", 201));
    seca_refused("PUT", BLOCKS "/data", acme.token[TL_MEMBER],
                 "{\"spec\":{\"skuRef\":\"skus/fast\",\"sizeGB\":2}}", 412, "/spec/skuRef",
                 "cannot change");
    ck_assert_int_eq(sql_num("SELECT size_gib FROM volumes WHERE name = 'data'"), 2);

    list = seca("GET", BLOCKS "?labels=env=conformance", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);

    /* DELETE: 202, then 404 once the volume is gone. */
    x = seca("DELETE", BLOCKS "/data", acme.token[TL_MEMBER], NULL, 202);
    json_decref(x);
    wait_gone(BLOCKS "/data");
    seca_refused("DELETE", BLOCKS "/data", acme.token[TL_MEMBER], NULL, 404, NULL, NULL);
}
END_TEST

START_TEST(bad_block_storages_are_412_and_write_nothing)
{
    static const bad_put bad[] = {
        { "{\"spec\":{\"skuRef\":\"skus/nope\",\"sizeGB\":1}}", "/spec/skuRef", "nope" },
        { "{\"spec\":{\"skuRef\":\"skus/standard\",\"sizeGB\":1,"
          "\"sourceImageRef\":\"images/nope\"}}", "/spec/sourceImageRef", "nope" },
        { "{\"spec\":{\"skuRef\":\"skus/standard\",\"sizeGB\":0}}", "/spec/sizeGB", NULL },
        { "{\"spec\":{\"skuRef\":\"skus/standard\",\"sizeGB\":\"1\"}}", "/spec/sizeGB",
          NULL },
        { "{\"spec\":{\"skuRef\":\"skus/standard\",\"sizeGB\":1,\"iops\":3}}", "/spec/iops",
          "unknown" },
        { "{\"spec\":{\"sizeGB\":1}}", "/spec/skuRef", NULL },
    };

    start();
    puts_refused(BLOCKS "/b", bad, sizeof(bad) / sizeof(bad[0]));
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volumes"), 0);
    /* Another tenant's path: 404 for a write too. */
    seca_refused("PUT", BLOCKS "/b", globex.token[TL_MEMBER],
                 "{\"spec\":{\"skuRef\":\"skus/standard\",\"sizeGB\":1}}", 404, NULL, NULL);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volumes"), 0);
}
END_TEST

START_TEST(an_attached_block_storage_names_its_instance)
{
    char op_id[40], path[256];
    json_t *j, *x, *to;

    start();
    block("disk", 1, NULL);
    bed_image("base", REGION, WAIT_S, NULL);
    j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER],
                   "{\"name\":\"vm\",\"flavor\":\"small\",\"image\":\"base\"}", 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    char *vid = tl_db_value(db, "SELECT id FROM volumes WHERE name = 'disk'");
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", vid);
    free(vid);
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER],
                   "{\"action\":\"attach\",\"instance\":\"vm\"}", 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);

    x = seca("GET", BLOCKS "/disk", acme.token[TL_READER], NULL, 200);
    to = json_object_get(status_of(x), "attachedTo");
    ck_assert_msg(to, "no attachedTo: %s", json_dumps(x, 0));
    ck_assert_str_eq(tl_str(to, "resource"), "instances/vm");
    json_decref(x);
    /* Attached: the service's refusal, as a 412; no image of a running guest's disk. */
    seca_refused("DELETE", BLOCKS "/disk", acme.token[TL_MEMBER], NULL, 412, NULL, "attached");
    seca_refused("PUT", IMAGES "/snap", acme.token[TL_MEMBER],
                 "{\"spec\":{\"blockStorageRef\":\"block-storages/disk\","
                 "\"cpuArchitecture\":\"amd64\"}}", 412, NULL, "available");
    ck_assert_int_eq(sql_num("SELECT count(*) FROM images WHERE name = 'snap'"), 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM volumes WHERE name = 'disk' AND "
                             "state = 'in-use'"), 1);
}
END_TEST

START_TEST(an_image_is_made_from_a_block_storage)
{
    static const bad_put bad_images[] = {
        { "{\"spec\":{\"blockStorageRef\":\"block-storages/nope\","
          "\"cpuArchitecture\":\"amd64\"}}", "/spec/blockStorageRef",
          "block storage 'nope' does not exist" },
        { "{\"spec\":{\"blockStorageRef\":\"block-storages/src\","
          "\"cpuArchitecture\":\"arm64\"}}", "/spec/cpuArchitecture", "amd64" },
        { "{\"spec\":{\"cpuArchitecture\":\"amd64\"}}", "/spec/blockStorageRef", NULL },
    };
    json_t *x, *spec, *res, *j;
    char state[32], op_id[40];

    start();
    block("src", 1, NULL);
    x = seca("PUT", IMAGES "/golden", acme.token[TL_MEMBER],
             "{\"labels\":{\"os\":\"linux\"},\"spec\":{\"blockStorageRef\":"
             "{\"resource\":\"block-storages/src\"},\"cpuArchitecture\":\"amd64\","
             "\"boot\":\"BIOS\",\"initializer\":\"cloudinit-22\"}}", 201);
    snprintf(state, sizeof(state), "%s", tl_str(status_of(x), "state"));
    ck_assert_msg(strcmp(state, "pending") == 0 || strcmp(state, "creating") == 0 ||
                  strcmp(state, "active") == 0, "state %s", state);
    json_decref(x);
    x = wait_conditions(IMAGES "/golden", "active,creating,pending");
    ck_assert_str_eq(tl_str(json_object_get(x, "metadata"), "kind"), "image");
    ck_assert_str_eq(tl_str(json_object_get(x, "metadata"), "region"), REGION);
    ck_assert_str_eq(tl_str(json_object_get(x, "labels"), "os"), "linux");
    spec = json_object_get(x, "spec");
    ck_assert_str_eq(tl_str(json_object_get(spec, "blockStorageRef"), "resource"),
                     "block-storages/src");
    ck_assert_str_eq(tl_str(spec, "cpuArchitecture"), "amd64");
    ck_assert_str_eq(tl_str(spec, "boot"), "BIOS");
    ck_assert_str_eq(tl_str(spec, "initializer"), "cloudinit-22");
    /* The copy holds the volume's 1 GiB. */
    ck_assert_int_eq(tl_num(status_of(x), "sizeMB"), 1024);
    res = json_object_get(status_of(x), "residency");
    ck_assert_str_eq(tl_str(res, "region"), REGION);
    json_decref(x);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM images WHERE name = 'golden' AND "
                             "state = 'active' AND format = 'qcow2' AND min_disk_gib = 1"), 1);
    /* Its residency: placed in the store, copied there from the volume's host. */
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records r JOIN images i ON "
                             "r.resource_id = i.id::text WHERE i.name = 'golden' AND "
                             "r.event = 'copied' AND r.from_host = 'node-a' AND "
                             "r.to_region = '" REGION "'"), 1);

    /* A block storage made from it names it. */
    block("restored", 1, ",\"sourceImageRef\":{\"resource\":\"images/golden\"}");
    x = seca("GET", BLOCKS "/restored", acme.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(json_object_get(json_object_get(x, "spec"), "sourceImageRef"),
                            "resource"), "images/golden");
    json_decref(x);

    /* An update keeps what it cannot act on (boot), and its history says so. */
    x = seca("PUT", IMAGES "/golden", acme.token[TL_MEMBER],
             "{\"labels\":{\"os\":\"linux\"},\"spec\":{\"blockStorageRef\":"
             "\"block-storages/src\",\"cpuArchitecture\":\"amd64\",\"boot\":\"UEFI\"}}",
             200);
    ck_assert_str_eq(tl_str(json_object_get(x, "spec"), "boot"), "UEFI");
    json_decref(x);
    x = wait_conditions(IMAGES "/golden", "active,updating,active,creating,pending");
    ck_assert_str_eq(tl_str(json_object_get(x, "spec"), "initializer"), "none");
    ck_assert_int_eq(tl_num(json_object_get(x, "metadata"), "resourceVersion"), 2);
    json_decref(x);

    /* The block storage behind it cannot change; missing ones and arm64 are refused. */
    seca_refused("PUT", IMAGES "/golden", acme.token[TL_MEMBER],
                 "{\"spec\":{\"blockStorageRef\":\"block-storages/restored\","
                 "\"cpuArchitecture\":\"amd64\"}}", 412, "/spec/blockStorageRef", NULL);
    puts_refused(IMAGES "/other", bad_images, sizeof(bad_images) / sizeof(bad_images[0]));
    /* An encrypted volume's bytes are ciphertext under its own key: refused. */
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op,
                           "{\"name\":\"enc\",\"encrypted\":true}", 201));
    json_decref(seca("PUT", BLOCKS "/secret", acme.token[TL_MEMBER],
                     "{\"spec\":{\"skuRef\":\"skus/enc\",\"sizeGB\":1}}", 201));
    json_decref(wait_conditions(BLOCKS "/secret", "active,creating,pending"));
    seca_refused("PUT", IMAGES "/other", acme.token[TL_MEMBER],
                 "{\"spec\":{\"blockStorageRef\":\"block-storages/secret\","
                 "\"cpuArchitecture\":\"amd64\"}}", 412, "/spec/blockStorageRef",
                 "encrypted");
    ck_assert_int_eq(sql_num("SELECT count(*) FROM images WHERE name = 'other'"), 0);

    /* /v1 shares it: POST /v1/images with source_volume. */
    bed_refused("POST", "/v1/images", acme.token[TL_MEMBER],
                "{\"name\":\"v1img\",\"source_volume\":\"src\",\"region\":\"" REGION "\"}",
                400, "/problems/invalid-request", "region", NULL);
    j = tl_call_ok(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER],
                   "{\"name\":\"v1img\",\"source_volume\":\"src\"}", 202);
    ck_assert_str_eq(tl_str(json_object_get(j, "operation"), "kind"), "image.from-volume");
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM images WHERE name = 'v1img' AND "
                             "state = 'active' AND region = '" REGION "'"), 1);

    /* DELETE: 202, then 404. */
    json_decref(seca("DELETE", IMAGES "/golden", acme.token[TL_MEMBER], NULL, 202));
    wait_gone(IMAGES "/golden");
}
END_TEST

START_TEST(a_block_storage_being_copied_into_an_image_is_left_alone)
{
    /* The copy takes 3 s: long enough to ask for what it must not meet. */
    setenv("SOV_HV_FAULT", "volume_download:1:ok:3000", 1);
    start();
    unsetenv("SOV_HV_FAULT");
    block("src", 1, NULL);
    json_decref(seca("PUT", IMAGES "/slow", acme.token[TL_MEMBER],
                     "{\"spec\":{\"blockStorageRef\":\"block-storages/src\","
                     "\"cpuArchitecture\":\"amd64\"}}", 201));
    seca_refused("DELETE", BLOCKS "/src", acme.token[TL_MEMBER], NULL, 412, NULL,
                 "being copied into an image");
    seca_refused("PUT", BLOCKS "/src", acme.token[TL_MEMBER],
                 "{\"spec\":{\"skuRef\":\"skus/standard\",\"sizeGB\":2}}", 412, NULL,
                 "being copied into an image");
    ck_assert_int_eq(sql_num("SELECT size_gib FROM volumes WHERE name = 'src'"), 1);
    json_decref(wait_conditions(IMAGES "/slow", "active,creating,pending"));
    /* Once the copy is done, the volume goes. */
    json_decref(seca("DELETE", BLOCKS "/src", acme.token[TL_MEMBER], NULL, 202));
    wait_gone(BLOCKS "/src");
    json_decref(seca("GET", IMAGES "/slow", acme.token[TL_READER], NULL, 200));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/seca-storage");
    TCase *tc = tcase_create("seca-storage");

    signal(SIGPIPE, SIG_IGN);
    tcase_set_timeout(tc, 180);
    tcase_add_checked_fixture(tc, setup, bed_teardown);
    tcase_add_test(tc, a_fresh_sovd_offers_the_default_volume_type_as_a_sku);
    tcase_add_test(tc, a_block_storage_is_created_grown_and_deleted);
    tcase_add_test(tc, bad_block_storages_are_412_and_write_nothing);
    tcase_add_test(tc, an_attached_block_storage_names_its_instance);
    tcase_add_test(tc, an_image_is_made_from_a_block_storage);
    tcase_add_test(tc, a_block_storage_being_copied_into_an_image_is_left_alone);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
