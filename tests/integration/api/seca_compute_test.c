/* The SECA compute provider (api/seca_compute.c) through a real sovd on a real PostgreSQL,
 * with the storage suites' bed (a private libvirtd whose test driver is the host, in zone a
 * of REGION) and the boot volume made through /v1/volumes.
 *
 * Covered: SKUs are the flavors (ram in GiB, at least 1; the tenant's default region),
 * another tenant's path is 404; an instance made by PUT from a block storage answers 201
 * (pending), then reads [active, creating, pending] with powerState on and its residency; a
 * PUT of labels on it answers 200 and adds [active, updating]; stop, start and restart each
 * add [active, updating] and move powerState; starting a running instance and stopping a
 * stopped one are 412; DELETE answers 202 and GET then 404. Each constraint (sshKeys over
 * 32, userData over 65536, an empty zone, an unknown member) and each missing reference
 * (SKU, boot volume, data volume, zone) is 412 naming its pointer and writes nothing; an
 * immutable member changed on an update is 412; over quota and outside the residency
 * policy are 412 with the service's reason. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../storage/bed.h"

#define REGION "fr-seca-1"
#define WAIT_S 30
#define SKUS "/providers/seca.compute/v1/tenants/acme/skus"
#define INSTANCES "/providers/seca.compute/v1/tenants/acme/workspaces/default/instances"

static void
setup(void)
{
    bed_setup("sovseca");
}

/* sovd; tenants acme and globex; REGION with zones a and b; the host in zone a; flavors
 * "small" (256 MiB) and "medium" (2 vCPUs, 2 GiB); volume type "standard". */
static void
start(void)
{
    const char *args[] = { "--role=api,worker,reconciler", "--host-check-interval=3600",
                           "--worker-threads=2", "--operation-step-timeout=10",
                           "--stop-timeout=5", NULL };
    char host_id[40];

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

/* A SECA call: status want, Content-Type application/json; the body (a new reference, or
 * NULL when there is none). */
static json_t *
seca(const char *method, const char *path, const char *token, const char *body, long want)
{
    tl_resp r;
    char *ct;
    json_t *j;

    tl_call(&sovd, method, path, token, body, &r);
    ck_assert_msg(r.status == want, "%s %s: %ld, want %ld: %s", method, path, r.status, want,
                  r.body ? r.body : "");
    ct = tl_resp_header(&r, "Content-Type");
    ck_assert_msg(ct && strncmp(ct, "application/json", 16) == 0, "%s %s: Content-Type %s",
                  method, path, ct ? ct : "(none)");
    free(ct);
    j = r.json ? json_incref(r.json) : NULL;
    tl_resp_free(&r);
    return j;
}

/* A SECA refusal: status, SECA's error form, sources[0].pointer (unless NULL), detail
 * containing says (unless NULL). */
static void
seca_refused(const char *method, const char *path, const char *token, const char *body,
             long status, const char *pointer, const char *says)
{
    json_t *e = seca(method, path, token, body, status), *src;

    ck_assert_msg(e, "%s %s: no body", method, path);
    ck_assert_msg(strncmp(tl_str(e, "type"), "http://secapi.cloud/errors/", 27) == 0,
                  "type %s", tl_str(e, "type"));
    ck_assert_int_eq(tl_num(e, "status"), status);
    if (pointer) {
        src = json_array_get(json_object_get(e, "sources"), 0);
        ck_assert_msg(src, "no sources: %s", json_dumps(e, 0));
        ck_assert_msg(strcmp(tl_str(src, "pointer"), pointer) == 0, "pointer %s, want %s: %s",
                      tl_str(src, "pointer"), pointer, json_dumps(e, 0));
    }
    if (says)
        tl_assert_contains(json_string_value(json_object_get(e, "detail")), says);
    json_decref(e);
}

/* status.conditions' states, newest first, as "active,creating,pending". */
static void
conditions(const json_t *x, char *out, size_t size)
{
    json_t *list = json_object_get(json_object_get(x, "status"), "conditions"), *c;
    size_t i, used = 0;

    out[0] = '\0';
    json_array_foreach(list, i, c)
        used += (size_t) snprintf(out + used, size - used, "%s%s", i ? "," : "",
                                  tl_str(c, "state"));
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
        conditions(x, got, sizeof(got));
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
    conditions(x, got, sizeof(got));
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

    x = seca("DELETE", INSTANCES "/vm-1", acme.token[TL_MEMBER], NULL, 202);
    ck_assert_str_eq(tl_str(json_object_get(x, "status"), "state"), "deleting");
    json_decref(x);
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
}
END_TEST

START_TEST(bad_input_and_missing_references_are_412_naming_the_member)
{
#define BOOT "\"bootVolume\":{\"deviceRef\":\"block-storages/system\"}"
#define SKU "\"skuRef\":\"skus/small\""
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

int
main(void)
{
    Suite *s = suite_create("api/seca-compute");
    TCase *tc = tcase_create("seca-compute");

    signal(SIGPIPE, SIG_IGN);
    tcase_add_checked_fixture(tc, setup, bed_teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, skus_are_the_flavors_and_another_tenants_path_is_404);
    tcase_add_test(tc, an_instance_lives_through_put_actions_and_delete_with_its_history);
    tcase_add_test(tc, bad_input_and_missing_references_are_412_naming_the_member);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
