/* The SECA compute provider (api/seca_compute.c) through a real sovd on a real PostgreSQL,
 * with the storage suites' bed (a private libvirtd whose test driver is the host, in zone a
 * of REGION) and the boot volume made through /v1/volumes (one through SECA's storage
 * provider too).
 *
 * Covered: SKUs are the flavors (ram in GiB, at least 1; the tenant's default region; none
 * over 60 vCPUs), seed_flavors offers four on a fresh sovd, another tenant's path is 404; an instance made by PUT from a block storage answers 201
 * (pending), then reads [active, creating, pending] with powerState on and its residency; a
 * PUT of labels on it answers 200 and adds [active, updating]; stop, start and restart each
 * add [active, updating] and move powerState; starting a running instance and stopping a
 * stopped one are 412; DELETE answers 202 and GET then 404. Each constraint (sshKeys over
 * 32, userData over 65536, an empty zone, an unknown member) and each missing reference
 * (SKU, boot volume, data volume, zone) is 412 naming its pointer and writes nothing; an
 * immutable member changed on an update is 412; a stale if-unmodified-since is 412 on a
 * PUT, an action and a delete; over quota and outside the residency policy are 412 with the
 * service's reason. With OVN (Northbound only): primaryNicRef and additionalNicRefs are
 * existing ports, plugged in that order; a missing NIC or security group is 412 naming it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../storage/bed.h"
#include "seca_kit.h"

#define REGION "fr-seca-1"
#define WAIT_S 30
#define SKUS "/providers/seca.compute/v1/tenants/acme/skus"
#define INSTANCES "/providers/seca.compute/v1/tenants/acme/workspaces/default/instances"
/* Spec members: the SKU "small" and the boot volume "system". */
#define SKU "\"skuRef\":\"skus/small\""
#define BOOT "\"bootVolume\":{\"deviceRef\":\"block-storages/system\"}"

static void
setup(void)
{
    bed_setup("sovseca");
}

/* sovd; tenants acme and globex; REGION with zones a and b; the host in zone a; flavors
 * "small" (256 MiB) and "medium" (2 vCPUs, 2 GiB); volume type "standard". */
static void
start_with(bool with_ovn)
{
    char nb[700];
    const char *args[] = { "--role=api,worker,reconciler", "--host-check-interval=3600",
                           "--worker-threads=2", "--operation-step-timeout=10",
                           "--stop-timeout=5", with_ovn ? nb : NULL, NULL };
    char host_id[40];

    if (with_ovn)
        bed_ovn_start(nb);
    bed_start(args);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Seca FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-seca\",\"zones\":[\"a\",\"b\"]}", 201));
    bed_host_add("node-a", REGION, "a", uri, true, host_id);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op,
                           "{\"name\":\"standard\"}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"small\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"medium\",\"vcpus\":2,\"memory_mib\":2048,"
                           "\"disk_gib\":1}", 201));
}

static void
start(void)
{
    start_with(false);
}

/* A POST of body to /v1/{collection} as acme's member: 202, its operation waited for. */
static void
make(const char *collection, const char *member, const char *body)
{
    char path[64], op_id[40];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/%s", collection);
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], body, 202);
    ck_assert_msg(json_object_get(j, member), "no %s: %s", member, json_dumps(j, 0));
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
}

/* acme's volume name through /v1, waited for until available. */
static void
volume(const char *name)
{
    char body[256], op_id[40], id[40];
    json_t *j;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"size_gib\":1,\"zone\":\"a\"}", name);
    j = tl_call_ok(&sovd, "POST", "/v1/volumes", acme.token[TL_MEMBER], body, 202);
    snprintf(id, sizeof(id), "%s", tl_str(json_object_get(j, "volume"), "id"));
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    json_decref(bed_wait_state("volumes", id, "available", WAIT_S));
}

/* The kit's calls (seca_kit.h) on this suite's sovd. */
#define seca(...) tl_seca_call(&sovd, __VA_ARGS__)
#define seca_refused(...) tl_seca_refused(&sovd, __VA_ARGS__)

/* A call with if-unmodified-since: version; its status. */
static long
seca_since(const char *method, const char *path, const char *body, long long version)
{
    char h[64];
    const char *headers[] = { h, NULL };
    tl_resp r;
    long status;

    snprintf(h, sizeof(h), "if-unmodified-since: %lld", version);
    tl_call_h(&sovd, method, path, acme.token[TL_MEMBER], body, headers, &r);
    status = r.status;
    tl_resp_free(&r);
    return status;
}

/* metadata.resourceVersion of the instance name. */
static long long
version_of(const char *name)
{
    char path[256];
    json_t *x;
    long long v;

    snprintf(path, sizeof(path), INSTANCES "/%s", name);
    x = seca("GET", path, acme.token[TL_READER], NULL, 200);
    v = tl_num(json_object_get(x, "metadata"), "resourceVersion");
    json_decref(x);
    return v;
}

static const char *
power(const json_t *x)
{
    return tl_str(json_object_get(x, "status"), "powerState");
}

/* GET the instance until its conditions are want and powerState is pw: the body. */
static json_t *
wait_instance(const char *name, const char *want, const char *pw)
{
    char path[256], got[512];
    time_t until = time(NULL) + WAIT_S;

    snprintf(path, sizeof(path), INSTANCES "/%s", name);
    for (;;) {
        json_t *x = seca("GET", path, acme.token[TL_READER], NULL, 200);
        tl_seca_conditions(x, got, sizeof(got));
        if (strcmp(got, want) == 0 && strcmp(power(x), pw) == 0)
            return x;
        ck_assert_msg(time(NULL) < until, "instance %s: conditions %s (want %s), power %s "
                      "(want %s) after %d s", name, got, want, power(x), pw, WAIT_S);
        json_decref(x);
        usleep(100 * 1000);
    }
}

static long long
instances(void)
{
    return tl_db_num(db, "SELECT count(*) FROM instances");
}

static const char BODY[] =
    "{\"labels\":{\"env\":\"conformance\"},\"spec\":{\"skuRef\":{\"resource\":\"skus/small\"},"
    "\"zone\":\"a\",\"bootVolume\":{\"deviceRef\":{\"resource\":\"block-storages/system\"},"
    "\"type\":\"virtio\"}}}";

/* ---- tests ---- */

START_TEST(skus_are_the_flavors_and_another_tenants_path_is_404)
{
    json_t *list, *s, *item;
    size_t i;
    bool small = false, medium = false;

    start();
    /* A flavor SECA cannot show is no SKU: over 60 vCPUs (InstanceSkuSpec's bound). */
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"huge\",\"vcpus\":64,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
    seca_refused("GET", SKUS "/huge", acme.token[TL_READER], NULL, 404, NULL, NULL);
    seca_refused("PUT", INSTANCES "/vm-1", acme.token[TL_MEMBER],
                 "{\"spec\":{\"skuRef\":\"skus/huge\",\"zone\":\"a\"," BOOT "}}", 412,
                 "/spec/skuRef", "sku 'huge' does not exist");
    list = seca("GET", SKUS, acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 2);
    json_decref(list);
    list = seca("GET", SKUS, acme.token[TL_READER], NULL, 200);
    ck_assert_int_ge(json_array_size(json_object_get(list, "items")), 2);
    json_array_foreach(json_object_get(list, "items"), i, item) {
        json_t *md = json_object_get(item, "metadata"), *spec = json_object_get(item, "spec");
        ck_assert_str_eq(tl_str(md, "kind"), "instance-sku");
        ck_assert_str_eq(tl_str(md, "region"), REGION);
        if (strcmp(tl_str(md, "name"), "small") == 0) {
            /* 256 MiB is under a GiB: SECA counts whole GiB, at least 1. */
            ck_assert_int_eq(tl_num(spec, "vCPU"), 1);
            ck_assert_int_eq(tl_num(spec, "ram"), 1);
            small = true;
        } else if (strcmp(tl_str(md, "name"), "medium") == 0) {
            ck_assert_int_eq(tl_num(spec, "vCPU"), 2);
            ck_assert_int_eq(tl_num(spec, "ram"), 2);
            medium = true;
        }
    }
    ck_assert(small && medium);
    json_decref(list);

    /* limit=1 pages through skipToken. */
    list = seca("GET", SKUS "?limit=1", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    ck_assert_str_eq(tl_str(json_object_get(json_array_get(json_object_get(list, "items"), 0),
                                            "metadata"), "name"), "medium");
    ck_assert_msg(json_object_get(json_object_get(list, "metadata"), "skipToken"),
                  "no skipToken: %s", json_dumps(list, 0));
    json_decref(list);

    s = seca("GET", SKUS "/medium", acme.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(json_object_get(s, "metadata"), "verb"), "GET");
    ck_assert_str_eq(tl_str(json_object_get(s, "metadata"), "ref"),
                     "seca.compute/v1/tenants/acme/skus/medium");
    json_decref(s);
    seca_refused("GET", SKUS "/nope", acme.token[TL_READER], NULL, 404, NULL, NULL);
    /* A flavor's id is not a SKU's name. */
    {
        char path[256], *id = tl_db_value(db, "SELECT id FROM flavors WHERE name = 'small'");
        snprintf(path, sizeof(path), SKUS "/%s", id);
        seca_refused("GET", path, acme.token[TL_READER], NULL, 404, NULL, NULL);
        free(id);
    }
    /* globex on acme's paths: 404, nothing of acme's in the answer. */
    seca_refused("GET", SKUS, globex.token[TL_READER], NULL, 404, NULL, NULL);
    seca_refused("GET", INSTANCES, globex.token[TL_READER], NULL, 404, NULL, NULL);
}
END_TEST

/* A fresh sovd with seed_flavors (scripts/run turns it on) offers SKUs at once: SECA's four
 * smallest D tiers; a sovd that starts where a flavor exists seeds nothing. */
START_TEST(a_fresh_sovd_with_seed_flavors_offers_skus)
{
    const char *args[] = { "--role=api,worker", "--seed-flavors=true", NULL };
    const char *again[] = { "--role=api", "--seed-flavors=true", NULL };
    static const struct {
        const char *name;
        long long vcpu, ram;
    } want[] = { { "seca-d2xs", 1, 1 }, { "seca-dm", 4, 8 }, { "seca-ds", 2, 4 },
                 { "seca-dxs", 1, 2 } };
    json_t *list, *item;
    size_t i;
    char *id;

    bed_start(args);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Seca FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-seca\",\"zones\":[\"a\"]}", 201));
    list = seca("GET", SKUS, acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 4);
    json_array_foreach(json_object_get(list, "items"), i, item) {
        ck_assert_str_eq(tl_str(json_object_get(item, "metadata"), "name"), want[i].name);
        ck_assert_int_eq(tl_num(json_object_get(item, "spec"), "vCPU"), want[i].vcpu);
        ck_assert_int_eq(tl_num(json_object_get(item, "spec"), "ram"), want[i].ram);
    }
    json_decref(list);
    /* Seeded once, audited as the system's. */
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM audit_log WHERE action ="
                                   " 'flavors.seed'"), 4);

    /* Restarted with one flavor left: nothing is seeded again. */
    id = tl_db_value(db, "SELECT id FROM flavors WHERE name = 'seca-dm'");
    {
        char path[128];
        snprintf(path, sizeof(path), "/v1/flavors/%s", id);
        json_decref(tl_call_ok(&sovd, "DELETE", path, op, NULL, 204));
    }
    free(id);
    ck_assert_int_eq(tl_sovd_stop_clean(&sovd, 10), 0);
    tl_sovd_discard(&sovd);
    tl_sovd_start(&sovd, db, again);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM flavors"), 3);
}
END_TEST

START_TEST(an_instance_lives_through_put_actions_and_delete_with_its_history)
{
    json_t *x, *md, *spec, *list;
    char got[512];

    start();
    volume("system");

    x = seca("PUT", INSTANCES "/vm-1", acme.token[TL_MEMBER], BODY, 201);
    md = json_object_get(x, "metadata");
    ck_assert_str_eq(tl_str(md, "verb"), "PUT");
    ck_assert_str_eq(tl_str(md, "kind"), "instance");
    ck_assert_str_eq(tl_str(md, "region"), REGION);
    ck_assert_str_eq(tl_str(md, "workspace"), "default");
    ck_assert_str_eq(tl_str(md, "ref"),
                     "seca.compute/v1/tenants/acme/workspaces/default/instances/vm-1");
    ck_assert_str_eq(tl_str(json_object_get(x, "labels"), "env"), "conformance");
    /* Pending, or already further along the create's operation. */
    tl_seca_conditions(x, got, sizeof(got));
    ck_assert_msg(strcmp(got, "pending") == 0 || strcmp(got, "creating,pending") == 0 ||
                  strcmp(got, "active,creating,pending") == 0, "conditions %s", got);
    ck_assert_msg(strncmp(got, tl_str(json_object_get(x, "status"), "state"),
                          strcspn(got, ",")) == 0, "state %s, conditions %s",
                  tl_str(json_object_get(x, "status"), "state"), got);
    spec = json_object_get(x, "spec");
    ck_assert_str_eq(tl_str(spec, "zone"), "a");
    tl_assert_contains(tl_str(json_object_get(spec, "skuRef"), "resource"), "skus/small");
    tl_assert_contains(tl_str(json_object_get(json_object_get(spec, "bootVolume"),
                                              "deviceRef"), "resource"),
                       "block-storages/system");
    json_decref(x);
    /* Our instance, made as POST /v1/instances makes it: booting from the volume. */
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM instances i JOIN volumes v ON"
                                   " v.id = i.boot_volume_id WHERE i.name = 'vm-1' AND"
                                   " v.name = 'system'"), 1);

    x = wait_instance("vm-1", "active,creating,pending", "on");
    ck_assert_str_eq(tl_str(json_object_get(json_object_get(x, "status"), "residency"),
                            "region"), REGION);
    ck_assert_str_eq(tl_str(json_object_get(x, "metadata"), "verb"), "GET");
    json_decref(x);

    /* An update of labels: 200, [active, updating] on top. */
    x = seca("PUT", INSTANCES "/vm-1", acme.token[TL_MEMBER],
             "{\"labels\":{\"env\":\"prod\"},\"spec\":{\"skuRef\":\"skus/small\","
             "\"zone\":\"a\",\"bootVolume\":{\"deviceRef\":\"block-storages/system\"}}}", 200);
    ck_assert_str_eq(tl_str(json_object_get(x, "labels"), "env"), "prod");
    json_decref(x);
    json_decref(wait_instance("vm-1", "active,updating,active,creating,pending", "on"));
    /* An immutable member changed: 412 naming it, the instance unchanged. */
    seca_refused("PUT", INSTANCES "/vm-1", acme.token[TL_MEMBER],
                 "{\"spec\":{\"skuRef\":\"skus/medium\",\"zone\":\"a\","
                 "\"bootVolume\":{\"deviceRef\":\"block-storages/system\"}}}", 412,
                 "/spec/skuRef", "cannot change");
    seca_refused("PUT", INSTANCES "/vm-1", acme.token[TL_MEMBER],
                 "{\"spec\":{\"skuRef\":\"skus/small\",\"zone\":\"b\","
                 "\"bootVolume\":{\"deviceRef\":\"block-storages/system\"}}}", 412,
                 "/spec/zone", NULL);

    /* if-unmodified-since: a stale resourceVersion is refused (412) on a PUT and on an
     * action, and nothing changes. */
    {
        long long v = version_of("vm-1");
        ck_assert_int_eq(v, 2);
        ck_assert_int_eq(seca_since("PUT", INSTANCES "/vm-1",
                                    "{\"labels\":{\"env\":\"stale\"},\"spec\":{\"skuRef\":"
                                    "\"skus/small\",\"zone\":\"a\",\"bootVolume\":{"
                                    "\"deviceRef\":\"block-storages/system\"}}}", v - 1), 412);
        ck_assert_int_eq(seca_since("POST", INSTANCES "/vm-1/stop", NULL, v - 1), 412);
        x = wait_instance("vm-1", "active,updating,active,creating,pending", "on");
        ck_assert_str_eq(tl_str(json_object_get(x, "labels"), "env"), "prod");
        json_decref(x);
        ck_assert_int_eq(version_of("vm-1"), v);
    }
    /* A running instance does not start again. */
    seca_refused("POST", INSTANCES "/vm-1/start", acme.token[TL_MEMBER], NULL, 412, NULL,
                 "running");
    json_decref(seca("POST", INSTANCES "/vm-1/stop", acme.token[TL_MEMBER], NULL, 202));
    json_decref(wait_instance("vm-1", "active,updating,active,updating,active,creating,"
                              "pending", "off"));
    seca_refused("POST", INSTANCES "/vm-1/stop", acme.token[TL_MEMBER], NULL, 412, NULL,
                 "stopped");
    json_decref(seca("POST", INSTANCES "/vm-1/start", acme.token[TL_MEMBER], NULL, 202));
    json_decref(wait_instance("vm-1", "active,updating,active,updating,active,updating,"
                              "active,creating,pending", "on"));
    json_decref(seca("POST", INSTANCES "/vm-1/restart", acme.token[TL_MEMBER], NULL, 202));
    json_decref(wait_instance("vm-1", "active,updating,active,updating,active,updating,"
                              "active,updating,active,creating,pending", "on"));
    /* A reader may not act. */
    json_decref(seca("POST", INSTANCES "/vm-1/stop", acme.token[TL_READER], NULL, 403));

    list = seca("GET", INSTANCES "?labels=env=prod", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);
    list = seca("GET", INSTANCES "?labels=env=conformance", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    /* Another tenant's path: 404 for every method. */
    seca_refused("GET", "/providers/seca.compute/v1/tenants/acme/workspaces/default/instances/"
                 "vm-1", globex.token[TL_MEMBER], NULL, 404, NULL, NULL);
    seca_refused("POST", INSTANCES "/vm-1/stop", globex.token[TL_MEMBER], NULL, 404, NULL,
                 NULL);
    seca_refused("DELETE", INSTANCES "/vm-1", globex.token[TL_MEMBER], NULL, 404, NULL, NULL);

    /* Being deleted, it takes no update (the row held in 'deleting' for the while: the
     * test driver's delete is too quick to catch). */
    free(tl_db_exec(db, "UPDATE instances SET state = 'deleting' WHERE name = 'vm-1'"));
    seca_refused("PUT", INSTANCES "/vm-1", acme.token[TL_MEMBER],
                 "{\"spec\":{\"skuRef\":\"skus/small\",\"zone\":\"a\","
                 "\"bootVolume\":{\"deviceRef\":\"block-storages/system\"}}}", 412, NULL,
                 "being deleted");
    free(tl_db_exec(db, "UPDATE instances SET state = 'running' WHERE name = 'vm-1'"));
    ck_assert_int_eq(seca_since("DELETE", INSTANCES "/vm-1", NULL, version_of("vm-1") - 1),
                     412);
    ck_assert_int_eq(seca_since("DELETE", INSTANCES "/vm-1", NULL, version_of("vm-1")), 202);
    {
        time_t until = time(NULL) + WAIT_S;
        for (;;) {
            tl_resp r;
            tl_call(&sovd, "GET", INSTANCES "/vm-1", acme.token[TL_READER], NULL, &r);
            long status = r.status;
            tl_resp_free(&r);
            if (status == 404)
                break;
            ck_assert_int_eq(status, 200);
            ck_assert_msg(time(NULL) < until, "vm-1 still there after %d s", WAIT_S);
            usleep(100 * 1000);
        }
    }
    seca_refused("DELETE", INSTANCES "/vm-1", acme.token[TL_MEMBER], NULL, 404, NULL, NULL);
    list = seca("GET", INSTANCES, acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);

    /* A block storage made through SECA's storage provider boots an instance too. */
    json_decref(seca("PUT", "/providers/seca.storage/v1/tenants/acme/workspaces/default/"
                     "block-storages/boot2", acme.token[TL_MEMBER],
                     "{\"spec\":{\"skuRef\":\"skus/standard\",\"sizeGB\":1}}", 201));
    {
        time_t until = time(NULL) + WAIT_S;
        while (tl_db_num(db, "SELECT count(*) FROM volumes WHERE name = 'boot2' AND"
                             " state = 'available'") != 1) {
            ck_assert_msg(time(NULL) < until, "boot2 not available after %d s", WAIT_S);
            usleep(100 * 1000);
        }
    }
    json_decref(seca("PUT", INSTANCES "/vm-2", acme.token[TL_MEMBER],
                     "{\"spec\":{" SKU ",\"zone\":\"a\",\"bootVolume\":{\"deviceRef\":"
                     "\"seca.storage/v1/tenants/acme/workspaces/default/block-storages/boot2\"}}}",
                     201));
    x = wait_instance("vm-2", "active,creating,pending", "on");
    tl_assert_contains(tl_str(json_object_get(json_object_get(json_object_get(x, "spec"),
                                                              "bootVolume"), "deviceRef"),
                              "resource"), "block-storages/boot2");
    json_decref(x);
    json_decref(seca("DELETE", INSTANCES "/vm-2", acme.token[TL_MEMBER], NULL, 202));
}
END_TEST

/* HaMultiZone: SECA block storages have no zone; an instance in zone b booting from one (and
 * with a data volume) made in zone a moves them to a host of zone b first, in the PUT's
 * transaction, and its build waits for the moves: the history stays [active, creating,
 * pending], and the instance, its volumes and their files are on that host. A volume it
 * holds cannot move for another instance (412, nothing changed). */
START_TEST(an_instance_in_another_zone_moves_its_block_storages_there_first)
{
    char host_b[40], *file = NULL;
    json_t *x;

    start();
    bed_second_start();
    bed_host_add("node-b", REGION, "b", uri2, true, host_b);
    volume("system");
    volume("data1");
    json_decref(seca("PUT", INSTANCES "/vm-b", acme.token[TL_MEMBER],
                     "{\"spec\":{" SKU ",\"zone\":\"b\"," BOOT ",\"dataVolumes\":[{"
                     "\"deviceRef\":\"block-storages/data1\"}]}}", 201));
    x = wait_instance("vm-b", "active,creating,pending", "on");
    ck_assert_str_eq(tl_str(json_object_get(x, "spec"), "zone"), "b");
    json_decref(x);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM instances WHERE name = 'vm-b' AND"
                                   " host_id = '%s'", host_b), 1);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM volumes WHERE host_id = '%s' AND"
                                   " zone = 'b' AND state = 'in-use'", host_b), 2);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM residency_records r JOIN volumes v"
                                   " ON v.id::text = r.resource_id WHERE r.event = 'moved'"
                                   " AND r.to_host = 'node-b'"), 2);
    file = tl_db_value(db, "SELECT volume FROM volumes WHERE name = 'system'");
    ck_assert_msg(bed_in_pool(uri2, file), "%s is not on node-b", file);
    ck_assert_msg(!bed_in_pool(uri, file), "%s still on node-a", file);
    free(file);
    /* Attached to vm-b: it cannot move for another instance in zone a. */
    seca_refused("PUT", INSTANCES "/vm-a", acme.token[TL_MEMBER],
                 "{\"spec\":{" SKU ",\"zone\":\"a\"," BOOT "}}", 412, NULL,
                 "attached to instance 'vm-b'");
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM instances WHERE name = 'vm-a'"), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM operations WHERE kind ="
                                   " 'volume.move'"), 2);
}
END_TEST

START_TEST(bad_input_and_missing_references_are_412_naming_the_member)
{
    char *big, *keys, body[1024];
    size_t n;
    static const struct {
        const char *spec, *pointer;
    } cases[] = {
        { "\"zone\":\"a\"," BOOT, "/spec/skuRef" },
        { "\"skuRef\":\"skus/nope\",\"zone\":\"a\"," BOOT, "/spec/skuRef" },
        { SKU ",\"zone\":\"\"," BOOT, "/spec/zone" },
        { SKU ",\"zone\":\"z9\"," BOOT, "/spec/zone" },
        { SKU ",\"zone\":\"a\"", "/spec/bootVolume" },
        { SKU ",\"zone\":\"a\",\"bootVolume\":{\"deviceRef\":\"block-storages/nope\"}",
          "/spec/bootVolume/deviceRef" },
        { SKU ",\"zone\":\"a\",\"bootVolume\":{\"deviceRef\":\"block-storages/system\","
          "\"type\":\"scsi\"}", "/spec/bootVolume/type" },
        { SKU ",\"zone\":\"a\"," BOOT ",\"dataVolumes\":[{\"deviceRef\":"
          "\"block-storages/nope\"}]", "/spec/dataVolumes/0/deviceRef" },
        { SKU ",\"zone\":\"a\"," BOOT ",\"color\":\"red\"", "/spec/color" },
        { SKU ",\"zone\":\"a\"," BOOT ",\"sshKeys\":\"ssh-ed25519 AAAA\"", "/spec/sshKeys" },
        { SKU ",\"zone\":\"a\"," BOOT ",\"primaryNicRef\":\"nics/nope\"",
          "/spec/primaryNicRef" },
        { SKU ",\"zone\":\"a\"," BOOT ",\"antiAffinityGroup\":7", "/spec/antiAffinityGroup" },
    };

    start();
    volume("system");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(body, sizeof(body), "{\"spec\":{%s}}", cases[i].spec);
        seca_refused("PUT", INSTANCES "/vm-1", acme.token[TL_MEMBER], body, 412,
                     cases[i].pointer, NULL);
    }
    /* The boot volume is in zone a and zone b has no host to move it to: the reason. */
    seca_refused("PUT", INSTANCES "/vm-1", acme.token[TL_MEMBER],
                 "{\"spec\":{" SKU ",\"zone\":\"b\"," BOOT "}}", 412, NULL,
                 "volume 'system' cannot move to zone 'b'");
    /* Nothing written: no instance, no volume move queued. */
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM operations WHERE kind ="
                                   " 'volume.move'"), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM host_allocations WHERE"
                                   " resource_type = 'volume-move'"), 0);

    /* A SECA name our instances cannot hold (over 63 characters): 412 with our reason. */
    {
        char path[256];
        snprintf(path, sizeof(path), INSTANCES "/%s", "a23456789-123456789-123456789-"
                 "123456789-123456789-123456789-1234");
        snprintf(body, sizeof(body), "{\"spec\":{" SKU ",\"zone\":\"a\"," BOOT "}}");
        seca_refused("PUT", path, acme.token[TL_MEMBER], body, 412, "/metadata/name", NULL);
    }
    /* 33 SSH keys, and userData over 65536 characters. */
    keys = malloc(33 * 40 + 64);
    n = (size_t) sprintf(keys, "[");
    for (int i = 0; i < 33; i++)
        n += (size_t) sprintf(keys + n, "%s\"ssh-ed25519 AAAAkey%d\"", i ? "," : "", i);
    sprintf(keys + n, "]");
    big = malloc(65537 + 512);
    sprintf(big, "{\"spec\":{" SKU ",\"zone\":\"a\"," BOOT ",\"sshKeys\":%s}}", keys);
    seca_refused("PUT", INSTANCES "/vm-1", acme.token[TL_MEMBER], big, 412, "/spec/sshKeys",
                 NULL);
    n = (size_t) sprintf(big, "{\"spec\":{" SKU ",\"zone\":\"a\"," BOOT ",\"userData\":\"");
    memset(big + n, 'x', 65537);
    sprintf(big + n + 65537, "\"}}");
    seca_refused("PUT", INSTANCES "/vm-1", acme.token[TL_MEMBER], big, 412, "/spec/userData",
                 NULL);
    free(big);
    free(keys);
    ck_assert_int_eq(instances(), 0);

    /* Over quota: 412 with the quota's reason; nothing written. */
    {
        char path[128];
        snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", acme.id);
        json_decref(tl_call_ok(&sovd, "PUT", path, op, "{\"instances\":0}", 200));
        snprintf(body, sizeof(body), "{\"spec\":{" SKU ",\"zone\":\"a\"," BOOT "}}");
        seca_refused("PUT", INSTANCES "/vm-1", acme.token[TL_MEMBER], body, 412, NULL,
                     "instances");
        json_decref(tl_call_ok(&sovd, "PUT", path, op, "{\"instances\":10}", 200));
        ck_assert_int_eq(instances(), 0);
        /* Outside the residency policy (Germany only; the host is in France): 412 with the
         * policy's reason. /v1 refuses that policy while the boot volume is in France, so
         * it is written as a policy narrowed since would stand. */
        free(tl_db_exec(db, "INSERT INTO residency_policies (tenant_id, countries) VALUES"
                            " ((SELECT id FROM tenants WHERE name = 'acme'), '{DE}')"
                            " ON CONFLICT (tenant_id) DO UPDATE SET jurisdictions = '{}',"
                            " countries = '{DE}', regions = '{}'"));
        tl_resp r;
        tl_call(&sovd, "PUT", INSTANCES "/vm-1", acme.token[TL_MEMBER], body, &r);
        ck_assert_msg(r.status == 412, "residency: %ld %s", r.status, r.body);
        tl_assert_contains(r.body, "DE");
        tl_resp_free(&r);
        ck_assert_int_eq(instances(), 0);
    }
}
END_TEST

START_TEST(nics_and_security_group_are_existing_ones_and_missing_ones_are_412)
{
#define NIC_SPEC SKU ",\"zone\":\"a\"," BOOT
    json_t *x, *spec;
    char *v;

    start_with(true);
    volume("system");
    make("networks", "network", "{\"name\":\"net1\",\"cidr\":\"10.9.0.0/16\","
         "\"region\":\"" REGION "\"}");
    make("subnets", "subnet", "{\"name\":\"sub1\",\"network\":\"net1\","
         "\"cidr\":\"10.9.0.0/24\"}");
    make("ports", "port", "{\"name\":\"p1\",\"subnet\":\"sub1\"}");
    make("ports", "port", "{\"name\":\"p2\",\"subnet\":\"sub1\"}");
    make("security-groups", "security_group", "{\"name\":\"web\"}");

    seca_refused("PUT", INSTANCES "/vm-n", acme.token[TL_MEMBER],
                 "{\"spec\":{" NIC_SPEC ",\"primaryNicRef\":\"nics/nope\"}}", 412,
                 "/spec/primaryNicRef", NULL);
    seca_refused("PUT", INSTANCES "/vm-n", acme.token[TL_MEMBER],
                 "{\"spec\":{" NIC_SPEC ",\"primaryNicRef\":\"nics/p1\","
                 "\"additionalNicRefs\":[\"nics/nope\"]}}", 412, "/spec/additionalNicRefs/0",
                 NULL);
    seca_refused("PUT", INSTANCES "/vm-n", acme.token[TL_MEMBER],
                 "{\"spec\":{" NIC_SPEC ",\"primaryNicRef\":\"nics/p1\","
                 "\"securityGroupRef\":\"security-groups/nope\"}}", 412,
                 "/spec/securityGroupRef", NULL);
    seca_refused("PUT", INSTANCES "/vm-n", acme.token[TL_MEMBER],
                 "{\"spec\":{" NIC_SPEC ",\"additionalNicRefs\":[\"nics/p2\"]}}", 412,
                 "/spec/primaryNicRef", NULL);
    ck_assert_int_eq(instances(), 0);

    x = seca("PUT", INSTANCES "/vm-n", acme.token[TL_MEMBER],
             "{\"spec\":{" NIC_SPEC ",\"primaryNicRef\":{\"resource\":\"nics/p1\"},"
             "\"additionalNicRefs\":[\"nics/p2\"],\"securityGroupRef\":"
             "\"security-groups/web\"}}", 201);
    json_decref(x);
    /* The ports are the instance's NICs, p1 first. */
    v = tl_db_value(db, "SELECT string_agg(p.name, ',' ORDER BY p.device_index) FROM ports p"
                        " JOIN instances i ON i.id = p.instance_id WHERE i.name = 'vm-n'");
    ck_assert_str_eq(v, "p1,p2");
    free(v);
    x = wait_instance("vm-n", "active,creating,pending", "on");
    spec = json_object_get(x, "spec");
    ck_assert_str_eq(tl_str(json_object_get(spec, "primaryNicRef"), "resource"), "nics/p1");
    ck_assert_str_eq(tl_str(json_array_get(json_object_get(spec, "additionalNicRefs"), 0),
                            "resource"), "nics/p2");
    json_decref(x);
    json_decref(seca("DELETE", INSTANCES "/vm-n", acme.token[TL_MEMBER], NULL, 202));
#undef NIC_SPEC
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/seca-compute");
    TCase *tc = tcase_create("seca-compute");

    signal(SIGPIPE, SIG_IGN);
    tcase_add_checked_fixture(tc, setup, bed_teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, skus_are_the_flavors_and_another_tenants_path_is_404);
    tcase_add_test(tc, a_fresh_sovd_with_seed_flavors_offers_skus);
    tcase_add_test(tc, an_instance_lives_through_put_actions_and_delete_with_its_history);
    tcase_add_test(tc, an_instance_in_another_zone_moves_its_block_storages_there_first);
    tcase_add_test(tc, bad_input_and_missing_references_are_412_naming_the_member);
    tcase_add_test(tc, nics_and_security_group_are_existing_ones_and_missing_ones_are_412);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
