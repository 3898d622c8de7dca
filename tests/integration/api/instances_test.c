/* Instances through the HTTP API of a real sovd (API, worker and reconciler roles) on a real
 * PostgreSQL, with its host in a private libvirtd (run as nobody): the host's URI is libvirt's
 * test driver inside that daemon, so the domains, volumes and networks sovd makes there are
 * what `virsh` on the same URI sees. While sovd holds its connection the daemon keeps that
 * state; the test reads it (and could tamper with it) between sovd's steps.
 *
 * Covered: a create answering 202 with the operation in Location, built by a worker into a
 * running domain (virtio disk and NIC, VNC on loopback, our metadata) with its disk, seed and
 * the image's copy in the pool, with placement, residency and records; lists with filters and
 * pages; bad input (400 naming the field), a taken name (409), other tenants (404), the
 * instance quota (403, nothing made); actions and the states they need (409), and deletes that
 * leave nothing on the host and give capacity and quota back. */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hosts.h"
#include "testlib.h"

/* The first value of a query on this test's database (testlib). */
#define sql_num(...) tl_db_num(db, __VA_ARGS__)

#define REGION "fr-test-1"
#define OTHER_REGION "de-test-1"
#define HOST "node-1"
#define FLAVOR "small"
#define IMAGE "base"
#define SSH_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKw2jF1dD0vP7j6f0q7mXn9tP3c3vQ test@sov"
#define SOV_NS "https://sovereign.eu/xmlns/instance/1"
#define WAIT_S 30

static char *db;
static char *tmp;
static tl_sovd sovd;
static tl_libvirtd lvd;
static char *op;                /* the bootstrap operator's token */
static tl_tenant acme, globex;
static char uri[800];           /* the test driver inside the private libvirtd */
static char pool[64], net[64];  /* per test process: runs never share them */
static char host_id[40], image_id[40];

/* ---- fixture ---- */

static void
setup(void)
{
    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    memset(&lvd, 0, sizeof(lvd));
    op = NULL;
    snprintf(pool, sizeof(pool), "sovtest-%d", (int) getpid());
    snprintf(net, sizeof(net), "sovtest%d", (int) getpid());
    tl_libvirtd_start(&lvd);
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s", lvd.sock);
}

static void
teardown(void)
{
    /* The pool and network live in the daemon's test driver, and die with it. */
    tl_local_teardown(&sovd, &lvd, db, op, tmp);
}

/* Wait for an operation to finish (succeeded or failed); the last reply. */
static json_t *
wait_op(const char *id)
{
    char path[128];
    time_t until = time(NULL) + WAIT_S;

    snprintf(path, sizeof(path), "/v1/operations/%s", id);
    for (;;) {
        json_t *o = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
        const char *state = tl_str(o, "state");
        if (strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0)
            return o;
        ck_assert_msg(time(NULL) < until, "operation %s still %s after %d s: %s", id, state,
                      WAIT_S, json_dumps(o, 0));
        json_decref(o);
        usleep(100 * 1000);
    }
}

/* Wait for an operation to succeed. */
static void
op_succeeds(const char *id)
{
    json_t *o = wait_op(id);

    ck_assert_msg(strcmp(tl_str(o, "state"), "succeeded") == 0, "operation failed: %s",
                  json_dumps(o, 0));
    json_decref(o);
}

static json_t *
get_instance(const char *id, const char *token)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    return tl_call_ok(&sovd, "GET", path, token, NULL, 200);
}

static json_t *
get_host(void)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/hosts/%s", host_id);
    return tl_call_ok(&sovd, "GET", path, op, NULL, 200);
}

static long long
quota_used(const char *what)
{
    char path[128];
    json_t *q;
    long long used;

    snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", acme.id);
    q = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    used = tl_num(json_object_get(json_object_get(q, "quotas"), what), "used");
    json_decref(q);
    return used;
}

static void
assert_contains(const char *text, const char *part)
{
    ck_assert_msg(strstr(text, part), "'%s' not in:\n%s", part, text);
}

/* Wait for an instance to reach state; the last reply. */
static json_t *
wait_state(const char *id, const char *state)
{
    return tl_wait_state(&sovd, acme.token[TL_READER], "/v1/instances/", id, state, WAIT_S);
}

/* sovd with the host's pool and network named for this test process, and extra flags
 * (NULL-terminated, may be NULL); then the operator's token, tenants acme and globex, two
 * regions, host HOST on the private daemon, flavor FLAVOR and acme's image IMAGE, active. */
static void
start(const char *const *extra)
{
    tl_local_flags f;
    char body[2048], qcow2[600], op_id[40];
    const char *args[32] = { "--role=api,worker,reconciler", "--host-check-interval=1",
                             "--worker-threads=4", "--image-allow-file-urls=true",
                             "--operation-step-timeout=10", "--stop-timeout=5", f.store,
                             f.pool, f.path, f.net, f.cidr };
    size_t n = 11;
    json_t *j;

    tl_local_flags_init(&f, tmp, pool, net);
    for (size_t i = 0; extra && extra[i] && n < 31; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
    tl_tenant_make(&sovd, op, "globex", &globex);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Test FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-fr\",\"zones\":[\"a\"]}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" OTHER_REGION "\",\"name\":\"Test DE\",\"country\":"
                           "\"DE\",\"datacenter\":\"dc-de\",\"zones\":[\"a\"]}", 201));

    snprintf(body, sizeof(body), "{\"name\":\"" HOST "\",\"region\":\"" REGION "\",\"zone\":"
             "\"a\",\"libvirt_uri\":\"%s\"}", uri);
    j = tl_host_add(&sovd, op, body);
    ck_assert_str_eq(tl_str(j, "hypervisor"), "test");
    ck_assert_str_eq(tl_str(j, "state"), "up");
    snprintf(host_id, sizeof(host_id), "%s", tl_str(j, "id"));
    json_decref(j);
    j = tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                   "{\"name\":\"" FLAVOR "\",\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":1}",
                   201);
    ck_assert_int_eq(tl_num(j, "gpus"), 0);
    json_decref(j);

    snprintf(qcow2, sizeof(qcow2), "%s/base.qcow2", tmp);
    ck_assert_int_eq(tl_sh("qemu-img create -q -f qcow2 '%s' 64M", qcow2), 0);
    snprintf(body, sizeof(body), "{\"name\":\"" IMAGE "\",\"region\":\"" REGION "\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", qcow2);
    j = tl_call_ok(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER], body, 202);
    snprintf(image_id, sizeof(image_id), "%s", tl_str(json_object_get(j, "image"), "id"));
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    op_succeeds(op_id);
}

/* POST /v1/instances as acme's member with name and more JSON members ("" for none): the
 * 202's instance id and operation id, checking what a 202 always says. */
static void
launch(const char *name, const char *extra, char id[40], char op_id[40])
{
    char body[1024], want[96];
    char *loc;
    json_t *x, *o;
    tl_resp r;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"flavor\":\"" FLAVOR "\",\"image\":"
             "\"" IMAGE "\"%s}", name, extra);
    tl_call(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER], body, &r);
    ck_assert_msg(r.status == 202, "create %s: %ld %s", name, r.status, r.body);
    x = json_object_get(r.json, "instance");
    o = json_object_get(r.json, "operation");
    ck_assert_str_eq(tl_str(x, "name"), name);
    ck_assert_str_eq(tl_str(x, "state"), "scheduling");
    ck_assert_str_eq(tl_str(o, "kind"), "instance.create");
    ck_assert_str_eq(tl_str(o, "resource_type"), "instance");
    ck_assert_str_eq(tl_str(o, "resource_id"), tl_str(x, "id"));
    ck_assert_str_eq(tl_str(x, "operation_id"), tl_str(o, "id"));
    /* Placed in the request's own transaction: the 202 already names the host. */
    ck_assert_str_eq(tl_str(json_object_get(x, "host"), "id"), host_id);
    ck_assert_str_eq(tl_str(json_object_get(x, "placement"), "host"), HOST);
    ck_assert_str_eq(tl_str(o, "state"), "queued");
    snprintf(id, 40, "%s", tl_str(x, "id"));
    snprintf(op_id, 40, "%s", tl_str(o, "id"));
    snprintf(want, sizeof(want), "/v1/operations/%s", op_id);
    loc = tl_resp_header(&r, "Location");
    ck_assert_msg(loc && strcmp(loc, want) == 0, "Location %s, want %s", loc ? loc : "(none)",
                  want);
    free(loc);
    tl_resp_free(&r);
}

/* Create an instance and wait until it runs; its id. */
static void
launch_running(const char *name, char id[40])
{
    char op_id[40];

    launch(name, "", id, op_id);
    op_succeeds(op_id);
    json_decref(wait_state(id, "running"));
}

/* POST an action as acme's member: 202, and the operation's id. */
static void
act(const char *id, const char *action, char op_id[40])
{
    char path[128], body[64];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    snprintf(body, sizeof(body), "{\"action\":\"%s\"}", action);
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], body, 202);
    ck_assert_str_eq(tl_str(json_object_get(j, "operation"), "kind"), "instance.action");
    ck_assert_str_eq(tl_str(json_object_get(j, "instance"), "id"), id);
    snprintf(op_id, 40, "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
}

/* Act and wait for the operation and the state it leads to. */
static void
act_until(const char *id, const char *action, const char *state)
{
    char op_id[40];

    act(id, action, op_id);
    op_succeeds(op_id);
    json_decref(wait_state(id, state));
}

static void
assert_status(const char *method, const char *path, const char *token, const char *body,
              long status, const char *type)
{
    tl_resp r;

    tl_call(&sovd, method, path, token, body, &r);
    tl_assert_problem(&r, status, type);
    tl_resp_free(&r);
}

static void
assert_invalid_field(const tl_resp *r, const char *field)
{
    json_t *errors = json_object_get(r->json, "errors");
    const char *f = json_string_value(json_object_get(json_array_get(errors, 0), "field"));

    tl_assert_problem(r, 400, "/problems/invalid-request");
    ck_assert_msg(f && strcmp(f, field) == 0, "expected field %s: %s", field, r->body);
}

/* The domain's state as `virsh domstate` says it. */
static void
assert_domstate(const char *id, const char *state)
{
    char *out = NULL;

    ck_assert_int_eq(tl_virsh(uri, &out, "domstate sov-%s", id), 0);
    assert_contains(out, state);
    free(out);
}

/* ---- tests ---- */

START_TEST(create_builds_a_running_domain_on_the_host)
{
    static const char *const rejected[] = { "policy", "state", "zone", "gpu", "capacity",
                                            "affinity" };
    char id[40], op_id[40], path[256], want[160], other[40];
    char *out = NULL;
    json_t *x, *o, *p, *res, *list;
    tl_resp r;

    start(NULL);
    launch("web-1", ",\"ssh_keys\":[\"" SSH_KEY "\"]", id, op_id);

    o = wait_op(op_id);
    ck_assert_msg(strcmp(tl_str(o, "state"), "succeeded") == 0, "%s", json_dumps(o, 0));
    ck_assert_int_eq(tl_num(o, "progress"), 100);
    ck_assert_int_eq(tl_num(o, "attempts"), 1);
    ck_assert(json_is_null(json_object_get(o, "error")));
    ck_assert_str_eq(tl_str(o, "tenant_id"), acme.id);
    ck_assert(json_is_string(json_object_get(o, "started_at")));
    ck_assert(json_is_string(json_object_get(o, "finished_at")));
    json_decref(o);

    x = wait_state(id, "running");
    ck_assert_str_eq(tl_str(x, "id"), id);
    ck_assert_str_eq(tl_str(x, "tenant_id"), acme.id);
    ck_assert_str_eq(tl_str(x, "workspace"), "default");
    ck_assert_str_eq(tl_str(x, "image_id"), image_id);
    ck_assert_str_eq(tl_str(x, "region"), REGION);
    ck_assert_str_eq(tl_str(x, "zone"), "a");
    ck_assert_str_eq(tl_str(x, "state_reason"), "");
    ck_assert_str_eq(tl_str(x, "operation_id"), op_id);
    ck_assert_int_eq(tl_num(x, "vcpus"), 1);
    ck_assert_int_eq(tl_num(x, "memory_mib"), 256);
    ck_assert_int_eq(tl_num(x, "disk_gib"), 1);
    ck_assert_int_eq(tl_num(x, "gpus"), 0);
    ck_assert_msg(strncmp(tl_str(x, "mac"), "52:54:00:", 9) == 0 && strlen(tl_str(x, "mac")) == 17,
                  "mac %s", tl_str(x, "mac"));
    ck_assert(json_is_array(json_object_get(x, "addresses")));
    ck_assert(json_is_null(json_object_get(x, "anti_affinity_group")));
    ck_assert_str_eq(tl_str(json_object_get(x, "host"), "id"), host_id);
    ck_assert_str_eq(tl_str(json_object_get(x, "host"), "name"), HOST);
    p = json_object_get(x, "placement");
    ck_assert_str_eq(tl_str(p, "host"), HOST);
    ck_assert_str_eq(tl_str(p, "region"), REGION);
    ck_assert_str_eq(tl_str(p, "zone"), "a");
    ck_assert_str_eq(tl_str(p, "strategy"), "spread");
    ck_assert_int_eq(tl_num(p, "considered"), 1);
    for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++)
        ck_assert_int_eq(tl_num(json_object_get(p, "rejected"), rejected[i]), 0);
    res = json_object_get(x, "residency");
    ck_assert_str_eq(tl_str(res, "region"), REGION);
    ck_assert_str_eq(tl_str(res, "country"), "FR");
    ck_assert_str_eq(tl_str(res, "jurisdiction"), "EU");
    ck_assert_str_eq(tl_str(res, "datacenter"), "dc-fr");
    ck_assert_str_eq(tl_str(res, "host"), HOST);
    ck_assert(json_is_string(json_object_get(res, "since")));
    /* The MAC the domain gets is the one the API shows. */
    snprintf(want, sizeof(want), "<mac address='%s'/>", tl_str(x, "mac"));
    json_decref(x);

    /* The domain runs on the host, with its disk, seed and the image's copy in the pool. */
    assert_domstate(id, "running");
    ck_assert_int_eq(tl_virsh(uri, &out, "vol-list %s", pool), 0);
    snprintf(path, sizeof(path), "sov-%s-disk", id);
    assert_contains(out, path);
    snprintf(path, sizeof(path), "sov-%s-seed", id);
    assert_contains(out, path);
    snprintf(path, sizeof(path), "sov-image-%s", image_id);
    assert_contains(out, path);
    free(out);
    ck_assert_int_eq(tl_virsh(uri, &out, "net-info %s", net), 0);
    ck_assert_msg(strstr(out, "Active:") && strstr(out, "yes"), "network: %s", out);
    free(out);
    ck_assert_int_eq(tl_virsh(uri, &out, "dumpxml sov-%s", id), 0);
    assert_contains(out, want);
    snprintf(path, sizeof(path), "<source pool='%s' volume='sov-%s-disk'/>", pool, id);
    assert_contains(out, path);
    assert_contains(out, "<target dev='vda' bus='virtio'/>");
    assert_contains(out, "<target dev='vdb' bus='virtio'/>");
    snprintf(path, sizeof(path), "<source network='%s'/>", net);
    assert_contains(out, path);
    assert_contains(out, "<model type='virtio'/>");
    assert_contains(out, "<graphics type='vnc'");
    /* The console log is kept across boots (virtlogd rotates it by size). */
    assert_contains(out, "append='on'");
    assert_contains(out, "listen='127.0.0.1'");
    ck_assert_msg(!strstr(out, "0.0.0.0"), "VNC listens beyond loopback:\n%s", out);
    assert_contains(out, SOV_NS);
    snprintf(path, sizeof(path), "<sov:id>%s</sov:id>", id);
    assert_contains(out, path);
    snprintf(path, sizeof(path), "<sov:tenant>%s</sov:tenant>", acme.id);
    assert_contains(out, path);
    free(out);

    /* The console answers: empty, since the test driver's guest writes nothing (and an
     * empty body goes without a Content-Type). */
    snprintf(path, sizeof(path), "/v1/instances/%s/console", id);
    tl_call(&sovd, "GET", path, acme.token[TL_READER], NULL, &r);
    ck_assert_msg(r.status == 200, "console: %ld %s", r.status, r.body);
    ck_assert_uint_eq(r.len, 0);
    char *ct = tl_resp_header(&r, "Content-Type");
    ck_assert_msg(!ct || strncmp(ct, "text/plain", 10) == 0, "console as %s", ct);
    free(ct);
    tl_resp_free(&r);
    /* tail_bytes: a whole number from 1 to 1 MiB; anything else is a 400 naming it. */
    {
        static const char *const good[] = { "1", "65536", "1048576" };
        static const char *const bad[] = { "0", "-1", "abc", "1048577", "%201", "+5", "",
                                           "99999999999999999999999" };
        char q[320];
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
            snprintf(q, sizeof(q), "%s?tail_bytes=%s", path, good[i]);
            tl_call(&sovd, "GET", q, acme.token[TL_READER], NULL, &r);
            ck_assert_msg(r.status == 200, "tail_bytes=%s: %ld %s", good[i], r.status, r.body);
            tl_resp_free(&r);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            snprintf(q, sizeof(q), "%s?tail_bytes=%s", path, bad[i]);
            tl_call(&sovd, "GET", q, acme.token[TL_READER], NULL, &r);
            assert_invalid_field(&r, "tail_bytes");
            tl_resp_free(&r);
        }
    }

    /* The operation, by id and in lists filtered by resource and state. */
    snprintf(path, sizeof(path), "/v1/operations/%s", op_id);
    o = tl_call_ok(&sovd, "GET", path, acme.token[TL_AUDITOR], NULL, 200);
    ck_assert_str_eq(tl_str(o, "id"), op_id);
    ck_assert_str_eq(tl_str(o, "resource_id"), id);
    json_decref(o);
    snprintf(path, sizeof(path), "/v1/operations?resource_id=%s", id);
    list = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    ck_assert_str_eq(tl_str(json_array_get(json_object_get(list, "items"), 0), "id"), op_id);
    ck_assert(json_is_null(json_object_get(list, "next")));
    json_decref(list);
    snprintf(path, sizeof(path), "/v1/operations?resource_id=%s&state=succeeded", id);
    list = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);
    snprintf(path, sizeof(path), "/v1/operations?resource_id=%s&state=failed", id);
    list = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    /* Both of acme's operations (the image's import and this create), newest first. */
    list = tl_call_ok(&sovd, "GET", "/v1/operations?state=succeeded", acme.token[TL_READER],
                      NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 2);
    json_decref(list);
    tl_call(&sovd, "GET", "/v1/operations?state=done", acme.token[TL_READER], NULL, &r);
    assert_invalid_field(&r, "state");
    tl_resp_free(&r);

    /* Records: placed on the host, the image copied to it once, the create audited. */
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_type ="
                             " 'instance' AND resource_id = '%s' AND event = 'placed' AND"
                             " to_host = '" HOST "' AND to_region = '" REGION "' AND"
                             " to_country = 'FR' AND operation_id = '%s'", id, op_id), 1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_type ="
                             " 'image' AND resource_id = '%s' AND event = 'copied' AND"
                             " from_region = '" REGION "' AND to_host = '" HOST "' AND"
                             " to_region = '" REGION "' AND operation_id = '%s'", image_id,
                             op_id), 1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action = 'instances.create'"
                             " AND resource_id = '%s' AND outcome = 202 AND tenant_id = '%s'",
                             id, acme.id), 1);

    /* A second instance on the host finds the image there: no second copy. */
    launch_running("web-2", other);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_type ="
                             " 'image' AND resource_id = '%s' AND event = 'copied'", image_id),
                     1);
    assert_domstate(other, "running");
    x = get_host();
    ck_assert_int_eq(tl_num(json_object_get(x, "usage"), "vcpus"), 2);
    ck_assert_int_eq(tl_num(json_object_get(x, "usage"), "memory_mib"), 512);
    ck_assert_int_eq(tl_num(json_object_get(x, "usage"), "disk_gib"), 2);
    json_decref(x);
    ck_assert_int_eq(quota_used("instances"), 2);
}
END_TEST

/* A key's comment may hold quotes, backslashes, commas and braces: the instance is built and
 * the database holds each key exactly as sent (the seed's YAML is tested in compute/seed). */
START_TEST(ssh_keys_with_quotes_and_backslashes_are_kept_exactly)
{
    static const char quoted[] =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKw2jF1dD0vP7j6f0q7mXn9tP3c3vQ"
        " \"o'brien\\laptop\", {x} \xc3\xa9";
    json_t *keys = json_pack("[ss]", SSH_KEY, quoted);
    char *list = json_dumps(keys, JSON_COMPACT), *v;
    char extra[512], id[40], op_id[40];

    start(NULL);
    snprintf(extra, sizeof(extra), ",\"ssh_keys\":%s", list);
    launch("web-q", extra, id, op_id);
    op_succeeds(op_id);
    json_decref(wait_state(id, "running"));
    ck_assert_int_eq(sql_num("SELECT array_length(ssh_keys, 1) FROM instances WHERE id = '%s'",
                             id), 2);
    v = tl_db_value(db, "SELECT ssh_keys[1] FROM instances WHERE id = '%s'", id);
    ck_assert_str_eq(v, SSH_KEY);
    free(v);
    v = tl_db_value(db, "SELECT ssh_keys[2] FROM instances WHERE id = '%s'", id);
    ck_assert_str_eq(v, quoted);
    free(v);
    free(list);
    json_decref(keys);
}
END_TEST

START_TEST(lists_filter_and_page)
{
    static const char *const names[] = { "web-1", "web-2", "db-1" };
    char ids[3][40], path[256], last[40] = "";
    json_t *list, *items, *next;
    size_t total = 0;

    start(NULL);
    for (int i = 0; i < 3; i++)
        launch_running(names[i], ids[i]);
    act_until(ids[2], "hard_stop", "stopped");

    list = tl_call_ok(&sovd, "GET", "/v1/instances?state=running", acme.token[TL_READER],
                      NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 2);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/instances?state=stopped", acme.token[TL_READER],
                      NULL, 200);
    items = json_object_get(list, "items");
    ck_assert_int_eq(json_array_size(items), 1);
    ck_assert_str_eq(tl_str(json_array_get(items, 0), "id"), ids[2]);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/instances?name=web-2", acme.token[TL_READER], NULL,
                      200);
    items = json_object_get(list, "items");
    ck_assert_int_eq(json_array_size(items), 1);
    ck_assert_str_eq(tl_str(json_array_get(items, 0), "id"), ids[1]);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/instances?region=" REGION, acme.token[TL_READER],
                      NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 3);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/instances?region=" OTHER_REGION,
                      acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/instances?state=deleted", acme.token[TL_READER],
                      NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);

    /* Pages of one, following next until it is null: each instance once, by id. */
    snprintf(path, sizeof(path), "/v1/instances?limit=1");
    for (;;) {
        list = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
        items = json_object_get(list, "items");
        ck_assert_uint_le(json_array_size(items), 1);
        for (size_t i = 0; i < json_array_size(items); i++) {
            const char *id = tl_str(json_array_get(items, i), "id");
            ck_assert_msg(strcmp(id, last) > 0, "ids out of order: %s after %s", id, last);
            snprintf(last, sizeof(last), "%s", id);
            total++;
        }
        next = json_object_get(list, "next");
        if (json_is_null(next)) {
            json_decref(list);
            break;
        }
        ck_assert_msg(json_is_string(next), "next: %s", json_dumps(list, 0));
        snprintf(path, sizeof(path), "%s", json_string_value(next));
        json_decref(list);
        ck_assert_uint_le(total, 3);
    }
    ck_assert_uint_eq(total, 3);
    /* Filters stay in the next link. */
    list = tl_call_ok(&sovd, "GET", "/v1/instances?state=running&limit=1",
                      acme.token[TL_READER], NULL, 200);
    next = json_object_get(list, "next");
    ck_assert_msg(json_is_string(next) && strstr(json_string_value(next), "state=running"),
                  "next: %s", json_dumps(list, 0));
    json_decref(list);

    /* Nobody else sees them; the operator sees them all. */
    list = tl_call_ok(&sovd, "GET", "/v1/instances", globex.token[TL_ADMIN], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/instances", op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 3);
    json_decref(list);
    tl_resp r;
    tl_call(&sovd, "GET", "/v1/instances?state=asleep", acme.token[TL_READER], NULL, &r);
    assert_invalid_field(&r, "state");
    tl_resp_free(&r);
}
END_TEST

START_TEST(bad_input_is_400_naming_the_field_and_creates_nothing)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        { "{\"name\":\"a\",\"flavor\":\"huge\",\"image\":\"" IMAGE "\"}", "flavor" },
        { "{\"name\":\"a\",\"image\":\"" IMAGE "\"}", "flavor" },
        { "{\"name\":\"a\",\"flavor\":\"" FLAVOR "\",\"image\":\"nothing\"}", "image" },
        { "{\"name\":\"a\",\"flavor\":\"" FLAVOR "\"}", "image" },
        { "{\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\"}", "name" },
        { "{\"name\":\"Not A Slug\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\"}",
          "name" },
        { "{\"name\":\"0bd77627-3883-42bb-8c6f-e3a2e3f22d7d\",\"flavor\":\"" FLAVOR "\","
          "\"image\":\"" IMAGE "\"}", "name" },
        { "{\"name\":7,\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\"}", "name" },
        { "{\"name\":\"a\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\",\"size\":1}",
          "size" },
        { "{\"name\":\"a\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\",\"ssh_keys\":"
          "\"" SSH_KEY "\"}", "ssh_keys" },
        { "{\"name\":\"a\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\",\"ssh_keys\":"
          "[\"not a key\"]}", "ssh_keys" },
        { "{\"name\":\"a\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\",\"ssh_keys\":"
          "[7]}", "ssh_keys" },
        { "{\"name\":\"a\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\",\"ssh_keys\":"
          "[\"ssh-ed25519 AAAA\\nssh-rsa BBBB\"]}", "ssh_keys" },
        { "{\"name\":\"a\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\",\"region\":"
          "\"" OTHER_REGION "\"}", "region" },
        { "{\"name\":\"a\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\",\"user_data\":"
          "42}", "user_data" },
    };
    char *body, id[40], op_id[40];
    size_t len;
    tl_resp r;

    start(NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tl_call(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER], bad[i].body, &r);
        ck_assert_msg(r.status == 400, "%s: %ld %s", bad[i].body, r.status, r.body);
        assert_invalid_field(&r, bad[i].field);
        tl_resp_free(&r);
    }
    /* user_data of 64 KiB and one byte. */
    len = 64 * 1024 + 1;
    body = malloc(len + 256);
    ck_assert(body);
    int n = snprintf(body, 256, "{\"name\":\"a\",\"flavor\":\"" FLAVOR "\",\"image\":\""
                     IMAGE "\",\"user_data\":\"");
    memset(body + n, 'x', len);
    snprintf(body + n + len, 8, "\"}");
    tl_call(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER], body, &r);
    assert_invalid_field(&r, "user_data");
    tl_resp_free(&r);
    free(body);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM instances"), 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM operations WHERE kind LIKE 'instance.%%'"),
                     0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM host_allocations"), 0);
    ck_assert_int_eq(quota_used("instances"), 0);
    ck_assert_int_eq(quota_used("vcpus"), 0);

    /* A name taken in the workspace is a conflict, and takes nothing either. */
    launch("web-1", "", id, op_id);
    tl_call(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER],
            "{\"name\":\"web-1\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\"}", &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    ck_assert_msg(strstr(r.body, "web-1"), "%s", r.body);
    tl_resp_free(&r);
    op_succeeds(op_id);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM instances"), 1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM operations WHERE kind LIKE 'instance.%%'"),
                     1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM host_allocations"), 1);
    ck_assert_int_eq(quota_used("instances"), 1);
    json_t *h = get_host();
    ck_assert_int_eq(tl_num(json_object_get(h, "usage"), "vcpus"), 1);
    json_decref(h);
    /* Readers and auditors create nothing. */
    tl_call(&sovd, "POST", "/v1/instances", acme.token[TL_READER],
            "{\"name\":\"web-9\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\"}", &r);
    tl_assert_problem(&r, 403, "/problems/forbidden");
    tl_resp_free(&r);
}
END_TEST

START_TEST(other_tenants_instances_and_operations_do_not_exist)
{
    char id[40], op_id[40], path[256], body[256];
    const char *const tok = globex.token[TL_ADMIN];
    json_t *list;

    start(NULL);
    launch_running("web-1", id);
    json_t *x = get_instance(id, acme.token[TL_READER]);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(x, "operation_id"));
    json_decref(x);

    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    assert_status("GET", path, tok, NULL, 404, "/problems/not-found");
    assert_status("DELETE", path, tok, NULL, 404, "/problems/not-found");
    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    assert_status("POST", path, tok, "{\"action\":\"stop\"}", 404, "/problems/not-found");
    /* Even with a body that is wrong: the instance is not there for them. */
    assert_status("POST", path, tok, "{\"action\":\"explode\"}", 404, "/problems/not-found");
    snprintf(path, sizeof(path), "/v1/instances/%s/console", id);
    assert_status("GET", path, tok, NULL, 404, "/problems/not-found");
    snprintf(path, sizeof(path), "/v1/operations/%s", op_id);
    assert_status("GET", path, tok, NULL, 404, "/problems/not-found");
    snprintf(path, sizeof(path), "/v1/operations?resource_id=%s", id);
    list = tl_call_ok(&sovd, "GET", path, tok, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    snprintf(path, sizeof(path), "/v1/instances?tenant_id=%s", acme.id);
    assert_status("GET", path, tok, NULL, 404, "/problems/not-found");
    /* Nor may they create in acme, or from acme's image. */
    snprintf(body, sizeof(body), "{\"name\":\"x\",\"flavor\":\"" FLAVOR "\",\"image\":\"%s\","
             "\"tenant_id\":\"%s\"}", image_id, acme.id);
    assert_status("POST", "/v1/instances", tok, body, 404, "/problems/not-found");
    snprintf(body, sizeof(body), "{\"name\":\"x\",\"flavor\":\"" FLAVOR "\",\"image\":\"%s\"}",
             image_id);
    tl_resp r;
    tl_call(&sovd, "POST", "/v1/instances", tok, body, &r);
    assert_invalid_field(&r, "image");
    tl_resp_free(&r);
    /* Unknown and malformed ids are not found either. */
    assert_status("GET", "/v1/instances/00000000-0000-4000-8000-000000000000",
                  acme.token[TL_READER], NULL, 404, "/problems/not-found");
    /* A name is looked up in the caller's own tenant: another's is not found by it. */
    assert_status("GET", "/v1/instances/web-1", tok, NULL, 404, "/problems/not-found");
    assert_status("DELETE", "/v1/instances/web-1", tok, NULL, 404, "/problems/not-found");
    x = tl_call_ok(&sovd, "GET", "/v1/instances/web-1", acme.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(x, "id"), id);
    json_decref(x);
    assert_status("GET", "/v1/operations/not-an-id", acme.token[TL_READER], NULL, 404,
                  "/problems/not-found");

    /* An operator naming a tenant finds only that tenant's instance: another's is not
     * found, so it is neither stopped nor deleted. */
    snprintf(path, sizeof(path), "/v1/instances/%s?tenant_id=%s", id, globex.id);
    assert_status("GET", path, op, NULL, 404, "/problems/not-found");
    assert_status("DELETE", path, op, NULL, 404, "/problems/not-found");
    snprintf(path, sizeof(path), "/v1/instances/%s/actions?tenant_id=%s", id, globex.id);
    assert_status("POST", path, op, "{\"action\":\"stop\"}", 404, "/problems/not-found");
    snprintf(path, sizeof(path), "/v1/instances/%s?tenant_id=%s", id, acme.id);
    x = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_str_eq(tl_str(x, "id"), id);
    json_decref(x);
    /* A tenant's own token naming another tenant: not found either. */
    snprintf(path, sizeof(path), "/v1/instances/%s/actions?tenant_id=%s", id, globex.id);
    assert_status("POST", path, acme.token[TL_ADMIN], "{\"action\":\"stop\"}", 404,
                  "/problems/not-found");

    /* Still there, untouched; the operator sees both. */
    assert_domstate(id, "running");
    x = get_instance(id, acme.token[TL_READER]);
    ck_assert_str_eq(tl_str(x, "state"), "running");
    json_decref(x);
    x = get_instance(id, op);
    ck_assert_str_eq(tl_str(x, "tenant_id"), acme.id);
    json_decref(x);
    snprintf(path, sizeof(path), "/v1/operations/%s", op_id);
    json_decref(tl_call_ok(&sovd, "GET", path, op, NULL, 200));
}
END_TEST

START_TEST(quota_exceeded_is_403_and_creates_nothing)
{
    char path[128], ids[2][40], ops[2][40];
    json_t *h;
    tl_resp r;

    start(NULL);
    snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", acme.id);
    json_decref(tl_call_ok(&sovd, "PUT", path, op, "{\"instances\":2}", 200));
    launch("web-1", "", ids[0], ops[0]);
    launch("web-2", "", ids[1], ops[1]);

    tl_call(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER],
            "{\"name\":\"web-3\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\"}", &r);
    tl_assert_problem(&r, 403, "/problems/quota-exceeded");
    ck_assert_str_eq(tl_str(r.json, "quota"), "instances");
    ck_assert_int_eq(tl_num(r.json, "limit"), 2);
    ck_assert_int_eq(tl_num(r.json, "used"), 2);
    ck_assert_int_eq(tl_num(r.json, "requested"), 1);
    tl_resp_free(&r);

    for (int i = 0; i < 2; i++) {
        op_succeeds(ops[i]);
        json_decref(wait_state(ids[i], "running"));
    }
    ck_assert_int_eq(sql_num("SELECT count(*) FROM instances"), 2);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM instances WHERE name = 'web-3'"), 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM operations WHERE kind = 'instance.create'"),
                     2);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM host_allocations"), 2);
    ck_assert_int_eq(quota_used("instances"), 2);
    ck_assert_int_eq(quota_used("vcpus"), 2);
    h = get_host();
    ck_assert_int_eq(tl_num(json_object_get(h, "usage"), "vcpus"), 2);
    json_decref(h);
    ck_assert_int_eq(tl_virsh(uri, NULL, "dominfo sov-%s", ids[1]), 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_type ="
                             " 'instance' AND event = 'placed'"), 2);

    /* Room again once one is deleted. */
    snprintf(path, sizeof(path), "/v1/instances/%s", ids[0]);
    json_t *acc = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    char del[40];
    snprintf(del, sizeof(del), "%s", tl_str(json_object_get(acc, "operation"), "id"));
    json_decref(acc);
    op_succeeds(del);
    ck_assert_int_eq(quota_used("instances"), 1);
    char id3[40], op3[40];
    launch("web-3", "", id3, op3);
    op_succeeds(op3);
}
END_TEST

START_TEST(actions_move_the_power_state_and_refuse_conflicts)
{
    char id[40], path[128], op_id[40];
    json_t *x;
    tl_resp r;

    start(NULL);
    launch_running("web-1", id);
    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);

    /* The test driver's guest has no DHCP lease: the address the reconciler would report
     * is put in by hand. It goes when the guest stops. */
    free(tl_db_value(db, "UPDATE instances SET addresses = '10.9.8.7' WHERE id = '%s'"
                         " RETURNING id", id));
    x = get_instance(id, acme.token[TL_READER]);
    ck_assert_int_eq(json_array_size(json_object_get(x, "addresses")), 1);
    json_decref(x);

    /* The test driver's guest shuts down when asked, at once. */
    act_until(id, "stop", "stopped");
    assert_domstate(id, "shut off");
    x = get_instance(id, acme.token[TL_READER]);
    ck_assert_msg(json_is_array(json_object_get(x, "addresses")) &&
                  json_array_size(json_object_get(x, "addresses")) == 0,
                  "a stopped instance lists addresses: %s", json_dumps(x, 0));
    json_decref(x);
    assert_status("POST", path, acme.token[TL_MEMBER], "{\"action\":\"reboot\"}", 409,
                  "/problems/conflict");
    assert_status("POST", path, acme.token[TL_MEMBER], "{\"action\":\"stop\"}", 409,
                  "/problems/conflict");
    assert_status("POST", path, acme.token[TL_MEMBER], "{\"action\":\"hard_stop\"}", 409,
                  "/problems/conflict");

    act_until(id, "start", "running");
    assert_domstate(id, "running");
    assert_status("POST", path, acme.token[TL_MEMBER], "{\"action\":\"start\"}", 409,
                  "/problems/conflict");

    act(id, "reboot", op_id);
    op_succeeds(op_id);
    x = wait_state(id, "running");
    ck_assert_str_eq(tl_str(x, "state_reason"), "");
    json_decref(x);
    assert_domstate(id, "running");

    act_until(id, "hard_stop", "stopped");
    assert_domstate(id, "shut off");

    /* Bad actions and bodies name the field; readers may not act. */
    tl_call(&sovd, "POST", path, acme.token[TL_MEMBER], "{\"action\":\"explode\"}", &r);
    assert_invalid_field(&r, "action");
    tl_resp_free(&r);
    tl_call(&sovd, "POST", path, acme.token[TL_MEMBER], "{}", &r);
    assert_invalid_field(&r, "action");
    tl_resp_free(&r);
    tl_call(&sovd, "POST", path, acme.token[TL_MEMBER], "{\"action\":\"start\",\"now\":1}",
            &r);
    assert_invalid_field(&r, "now");
    tl_resp_free(&r);
    assert_status("POST", path, acme.token[TL_READER], "{\"action\":\"start\"}", 403,
                  "/problems/forbidden");

    /* One operation at a time: an action while another is queued is a conflict. Hanging
     * the daemon keeps the first one from finishing meanwhile. */
    ck_assert_int_eq(kill(lvd.pid, SIGSTOP), 0);
    act(id, "start", op_id);
    tl_call(&sovd, "POST", path, acme.token[TL_MEMBER], "{\"action\":\"start\"}", &r);
    ck_assert_int_eq(kill(lvd.pid, SIGCONT), 0);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_resp_free(&r);
    op_succeeds(op_id);
    json_decref(wait_state(id, "running"));

    /* Each action is audited, and each was one operation. */
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action = 'instances.action'"
                             " AND resource_id = '%s' AND outcome = 202", id), 5);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM operations WHERE kind = 'instance.action'"
                             " AND resource_id = '%s' AND state = 'succeeded'", id), 5);
}
END_TEST

START_TEST(delete_removes_the_domain_and_volumes_and_gives_back_capacity)
{
    char id[40], keep[40], path[128], op_id[40], vol[96];
    char *out = NULL;
    json_t *acc, *x, *h;

    start(NULL);
    launch_running("web-1", id);
    launch_running("web-2", keep);
    ck_assert_int_eq(quota_used("instances"), 2);
    ck_assert_int_eq(quota_used("memory_mib"), 512);

    /* While the daemon hangs the delete cannot finish: the instance stays deleting, a second
     * delete answers the same 202 with the same operation, and an action is a conflict. */
    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    ck_assert_int_eq(kill(lvd.pid, SIGSTOP), 0);
    acc = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    ck_assert_str_eq(tl_str(json_object_get(acc, "instance"), "state"), "deleting");
    ck_assert_str_eq(tl_str(json_object_get(acc, "operation"), "kind"), "instance.delete");
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(acc, "operation"), "id"));
    json_decref(acc);
    tl_resp r1, r2;
    char act_path[160];
    snprintf(act_path, sizeof(act_path), "%s/actions", path);
    tl_call(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, &r1);
    tl_call(&sovd, "POST", act_path, acme.token[TL_MEMBER], "{\"action\":\"start\"}", &r2);
    ck_assert_int_eq(kill(lvd.pid, SIGCONT), 0);
    ck_assert_msg(r1.status == 202, "second delete: %ld %s", r1.status, r1.body);
    ck_assert_str_eq(tl_str(json_object_get(r1.json, "operation"), "id"), op_id);
    ck_assert_str_eq(tl_str(json_object_get(r1.json, "instance"), "state"), "deleting");
    tl_assert_problem(&r2, 409, "/problems/conflict");
    tl_resp_free(&r1);
    tl_resp_free(&r2);

    op_succeeds(op_id);
    x = wait_state(id, "deleted");
    ck_assert(json_is_null(json_object_get(x, "host")));
    ck_assert(json_is_null(json_object_get(x, "residency")));
    json_decref(x);

    /* Nothing of it is left on the host; the other instance is untouched. */
    ck_assert_int_ne(tl_virsh(uri, NULL, "dominfo sov-%s", id), 0);
    ck_assert_int_eq(tl_virsh(uri, &out, "vol-list %s", pool), 0);
    snprintf(vol, sizeof(vol), "sov-%s-", id);
    ck_assert_msg(!strstr(out, vol), "volumes of %s left: %s", id, out);
    snprintf(vol, sizeof(vol), "sov-%s-disk", keep);
    assert_contains(out, vol);
    snprintf(vol, sizeof(vol), "sov-image-%s", image_id);
    assert_contains(out, vol);
    free(out);
    assert_domstate(keep, "running");

    /* Capacity and quota given back; the record says where its data was. */
    h = get_host();
    ck_assert_int_eq(tl_num(json_object_get(h, "usage"), "vcpus"), 1);
    ck_assert_int_eq(tl_num(json_object_get(h, "usage"), "memory_mib"), 256);
    json_decref(h);
    ck_assert_int_eq(quota_used("instances"), 1);
    ck_assert_int_eq(quota_used("memory_mib"), 256);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_type ="
                             " 'instance' AND resource_id = '%s' AND event = 'deleted' AND"
                             " from_region = '" REGION "' AND from_host = '" HOST "' AND"
                             " to_region = ''", id), 1);
    /* placed, then deleted, in that order. */
    char *events = NULL;
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT string_agg(event, ',' ORDER BY seq) FROM"
             " residency_records WHERE resource_type = 'instance' AND resource_id = '%s'", id);
    events = tl_db_exec(db, sql);
    ck_assert_str_eq(events, "placed,deleted");
    free(events);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action = 'instances.delete'"
                             " AND resource_id = '%s' AND outcome = 202", id), 1);

    /* Deleted: out of lists unless asked for, gone for another delete (404), its name free. */
    json_t *list = tl_call_ok(&sovd, "GET", "/v1/instances", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/instances?state=deleted", acme.token[TL_READER], NULL,
                      200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);
    assert_status("DELETE", path, acme.token[TL_MEMBER], NULL, 404, "/problems/not-found");

    /* The last one gone, the host's usage is back to nothing. */
    snprintf(path, sizeof(path), "/v1/instances/%s", keep);
    acc = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(acc, "operation"), "id"));
    json_decref(acc);
    op_succeeds(op_id);
    h = get_host();
    ck_assert_int_eq(tl_num(json_object_get(h, "usage"), "vcpus"), 0);
    ck_assert_int_eq(tl_num(json_object_get(h, "usage"), "memory_mib"), 0);
    ck_assert_int_eq(tl_num(json_object_get(h, "usage"), "disk_gib"), 0);
    json_decref(h);
    ck_assert_int_eq(quota_used("instances"), 0);
    ck_assert_int_eq(quota_used("vcpus"), 0);
    ck_assert_int_eq(quota_used("storage_gib"), 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM host_allocations"), 0);
    ck_assert_int_eq(tl_virsh(uri, &out, "list --all --name"), 0);
    ck_assert_msg(!strstr(out, "sov-"), "domains left: %s", out);
    free(out);
    char again[40];
    launch_running("web-1", again);
}
END_TEST

/* A graceful stop still waiting for its guest is superseded by a hard_stop or a delete: the
 * new operation is accepted (202, not 409 "operation in progress") and runs at once, and the
 * stop ends as failed, "superseded by <id> (hard_stop)". The test driver's guest powers off
 * at once when asked, so the stop is held back by hanging the daemon instead: it is running
 * (or queued) when the hard_stop comes. A real guest that ignores ACPI: e2e/guest. */
START_TEST(hard_stop_and_delete_supersede_a_pending_stop)
{
    char id[40], stop_id[40], hard_id[40], path[128], want[160];
    json_t *o, *x, *j;

    start(NULL);
    launch_running("web-1", id);

    ck_assert_int_eq(kill(lvd.pid, SIGSTOP), 0);
    act(id, "stop", stop_id);
    act(id, "hard_stop", hard_id);
    snprintf(path, sizeof(path), "/v1/operations/%s", stop_id);
    o = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(kill(lvd.pid, SIGCONT), 0);
    snprintf(want, sizeof(want), "superseded by %s (hard_stop)", hard_id);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    ck_assert_str_eq(tl_str(json_object_get(o, "error"), "message"), want);
    ck_assert_str_eq(tl_str(json_object_get(o, "error"), "code"), "superseded");
    json_decref(o);
    op_succeeds(hard_id);
    x = wait_state(id, "stopped");
    ck_assert_str_eq(tl_str(x, "state_reason"), "");
    json_decref(x);
    assert_domstate(id, "shut off");
    /* The stop's worker, back from the daemon, gave up without a word on it. */
    o = wait_op(stop_id);
    ck_assert_str_eq(tl_str(json_object_get(o, "error"), "message"), want);
    ck_assert_str_eq(tl_str(json_object_get(o, "error"), "code"), "superseded");
    json_decref(o);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM operations WHERE id = '%s' AND"
                             " error_code = 'superseded'", stop_id), 1);

    /* A delete supersedes a pending stop the same way, and does not wait for it. */
    act_until(id, "start", "running");
    ck_assert_int_eq(kill(lvd.pid, SIGSTOP), 0);
    act(id, "stop", stop_id);
    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    ck_assert_int_eq(kill(lvd.pid, SIGCONT), 0);
    snprintf(want, sizeof(want), "superseded by %s (delete)",
             tl_str(json_object_get(j, "operation"), "id"));
    op_succeeds(tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    o = wait_op(stop_id);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    ck_assert_str_eq(tl_str(json_object_get(o, "error"), "message"), want);
    ck_assert_str_eq(tl_str(json_object_get(o, "error"), "code"), "superseded");
    json_decref(o);
    json_decref(wait_state(id, "deleted"));

    /* Other pending operations still refuse a hard_stop: one at a time. */
    launch_running("web-2", id);
    ck_assert_int_eq(kill(lvd.pid, SIGSTOP), 0);
    act(id, "reboot", stop_id);
    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    assert_status("POST", path, acme.token[TL_MEMBER], "{\"action\":\"hard_stop\"}", 409,
                  "/problems/conflict");
    ck_assert_int_eq(kill(lvd.pid, SIGCONT), 0);
    op_succeeds(stop_id);
}
END_TEST

/* A console read on its own thread: what a hung host's reader saw. */
typedef struct console_try {
    char path[128];
    long status;
    double secs;
    bool retry_after, problem;
} console_try;

static void *
console_try_main(void *arg)
{
    console_try *t = arg;
    double t0 = tl_now();
    tl_resp r;

    tl_call(&sovd, "GET", t->path, acme.token[TL_READER], NULL, &r);
    t->secs = tl_now() - t0;
    t->status = r.status;
    char *ra = tl_resp_header(&r, "Retry-After");
    t->retry_after = ra != NULL;
    free(ra);
    /* Checked by the test's own thread: a failed check here would end only this one. */
    t->problem = r.json && json_is_string(json_object_get(r.json, "type")) &&
                 strcmp(json_string_value(json_object_get(r.json, "type")),
                        "/problems/unavailable") == 0;
    tl_resp_free(&r);
    return NULL;
}

/* A hung host (its libvirtd stopped with SIGSTOP) holds no HTTP thread: with two of them,
 * 20 console reads at once answer 503 with Retry-After (at once over console_max_concurrent,
 * after console_timeout_ms otherwise), and other requests meanwhile answer in under 100 ms. */
START_TEST(console_reads_of_a_hung_host_hold_no_http_thread)
{
    enum { N = 20 };
    static const char *const flags[] = { "--http-threads=2", "--console-timeout-ms=1500",
                                         "--console-max-concurrent=4", NULL };
    char id[40], path[128];
    pthread_t threads[N];
    console_try tries[N];
    double worst = 0, t0, until;
    unsigned others = 0, quick = 0;
    tl_resp r;

    start(flags);
    launch_running("web-1", id);
    snprintf(path, sizeof(path), "/v1/instances/%s", id);

    ck_assert_int_eq(kill(lvd.pid, SIGSTOP), 0);
    t0 = tl_now();
    for (int i = 0; i < N; i++) {
        snprintf(tries[i].path, sizeof(tries[i].path), "/v1/instances/%s/console", id);
        ck_assert_int_eq(pthread_create(&threads[i], NULL, console_try_main, &tries[i]), 0);
    }
    /* Meanwhile, for longer than the console's timeout: reads that need PostgreSQL only. */
    for (until = t0 + 2.5; tl_now() < until; others++) {
        double t = tl_now();
        tl_call(&sovd, "GET", others % 2 ? path : "/healthz",
                others % 2 ? acme.token[TL_READER] : NULL, NULL, &r);
        t = tl_now() - t;
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        tl_resp_free(&r);
        worst = t > worst ? t : worst;
        usleep(20 * 1000);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        ck_assert_msg(tries[i].status == 503 && tries[i].retry_after && tries[i].problem,
                      "console read %d: %ld%s after %.2f s", i, tries[i].status,
                      tries[i].retry_after ? "" : " without Retry-After", tries[i].secs);
        ck_assert_msg(tries[i].secs < 1.5 + 1.0, "console read %d took %.2f s", i,
                      tries[i].secs);
        quick += tries[i].secs < 0.5;
    }
    ck_assert_int_eq(kill(lvd.pid, SIGCONT), 0);
    printf("hung host: %d console reads answered 503 (%u at once), %u other requests, the "
           "slowest %.1f ms\n", N, quick, others, worst * 1000);
    fflush(stdout);
    ck_assert_msg(worst < 0.100, "another request took %.1f ms while the host hung",
                  worst * 1000);
    ck_assert_uint_ge(quick, N - 4);

    /* The host back: the hung reads end, their slots come back, the console answers. */
    snprintf(path, sizeof(path), "/v1/instances/%s/console", id);
    for (until = tl_now() + WAIT_S;;) {
        tl_call(&sovd, "GET", path, acme.token[TL_READER], NULL, &r);
        long status = r.status;
        tl_resp_free(&r);
        if (status == 200)
            break;
        ck_assert_msg(tl_now() < until, "the console still answers %ld", status);
        usleep(100 * 1000);
    }
}
END_TEST

/* DELETE path as token must be a 409 whose blocked_by names kind `kind` called `name`. */
static void
assert_blocked_by(const char *path, const char *token, const char *kind, const char *name)
{
    tl_resp r;
    json_t *b;
    size_t i;
    bool named = false;

    tl_call(&sovd, "DELETE", path, token, NULL, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    json_array_foreach(json_object_get(r.json, "blocked_by"), i, b)
        named |= strcmp(tl_str(b, "kind"), kind) == 0 && strcmp(tl_str(b, "name"), name) == 0 &&
                 strlen(tl_str(b, "id")) > 0;
    ck_assert_msg(named, "DELETE %s: blocked_by does not name %s '%s': %s", path, kind, name,
                  r.body);
    ck_assert_msg(strstr(tl_str(r.json, "detail"), name), "the detail does not name '%s': %s",
                  name, r.body);
    tl_resp_free(&r);
}

/* A used resource goes once what used it is deleted: a live user blocks, named in blocked_by;
 * a deleted one does not. An empty tenant takes its users, tokens and workspaces along;
 * its residency records and audit entries stay. */
START_TEST(deleted_users_block_nothing_and_live_ones_are_named)
{
    char id[40], op_id[40], flavor[128], image[128], host[128], region[128], tenant[128];
    char inst[128];
    long long records, audit;
    json_t *j;

    start(NULL);
    launch_running("web-1", id);
    j = tl_call_ok(&sovd, "GET", "/v1/flavors/" FLAVOR, op, NULL, 200);
    snprintf(flavor, sizeof(flavor), "/v1/flavors/%s", tl_str(j, "id"));
    json_decref(j);
    snprintf(image, sizeof(image), "/v1/images/%s", image_id);
    snprintf(host, sizeof(host), "/v1/hosts/%s", host_id);
    snprintf(region, sizeof(region), "/v1/regions/" REGION);
    snprintf(tenant, sizeof(tenant), "/v1/tenants/%s", acme.id);
    snprintf(inst, sizeof(inst), "/v1/instances/%s", id);

    /* In use: each refusal names the instance (the region its host first). */
    assert_blocked_by(flavor, op, "instance", "web-1");
    assert_blocked_by(image, acme.token[TL_MEMBER], "instance", "web-1");
    assert_blocked_by(host, op, "instance", "web-1");
    assert_blocked_by(region, op, "host", HOST);
    assert_blocked_by(region, op, "image", IMAGE);
    assert_blocked_by(tenant, op, "instance", "web-1");
    assert_blocked_by(tenant, op, "image", IMAGE);

    /* Used, then deleted: nothing blocks any more. */
    j = tl_call_ok(&sovd, "DELETE", inst, acme.token[TL_MEMBER], NULL, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    op_succeeds(op_id);
    json_decref(wait_state(id, "deleted"));
    json_decref(tl_call_ok(&sovd, "DELETE", flavor, op, NULL, 204));
    j = tl_call_ok(&sovd, "DELETE", image, acme.token[TL_MEMBER], NULL, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    op_succeeds(op_id);

    records = sql_num("SELECT count(*) FROM residency_records WHERE tenant_id = '%s'", acme.id);
    audit = sql_num("SELECT count(*) FROM audit_log WHERE tenant_id = '%s'", acme.id);
    ck_assert_int_ge(records, 3);
    json_decref(tl_call_ok(&sovd, "DELETE", tenant, op, NULL, 204));
    json_decref(tl_call_ok(&sovd, "DELETE", host, op, NULL, 204));
    json_decref(tl_call_ok(&sovd, "DELETE", region, op, NULL, 204));

    /* The tenant's people and places are gone; its record is not. */
    ck_assert_int_eq(sql_num("SELECT count(*) FROM users WHERE tenant_id = '%s'", acme.id), 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM tokens WHERE tenant_id = '%s'", acme.id), 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM workspaces WHERE tenant_id = '%s'", acme.id),
                     0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE tenant_id = '%s'",
                             acme.id), records);
    ck_assert_int_ge(sql_num("SELECT count(*) FROM audit_log WHERE tenant_id = '%s'", acme.id),
                     audit + 1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_id = '%s'",
                             id), 2);
    assert_status("GET", "/v1/me", acme.token[TL_ADMIN], NULL, 401, "/problems/unauthenticated");
    json_t *v = tl_call_ok(&sovd, "GET", "/v1/audit/verify", op, NULL, 200);
    ck_assert(json_is_true(json_object_get(v, "ok")));
    json_decref(v);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/instances");
    TCase *tc = tcase_create("instances");

    /* A daemon that goes away (or hangs) leaves libvirt writing to a closed socket. */
    signal(SIGPIPE, SIG_IGN);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, create_builds_a_running_domain_on_the_host);
    tcase_add_test(tc, ssh_keys_with_quotes_and_backslashes_are_kept_exactly);
    tcase_add_test(tc, lists_filter_and_page);
    tcase_add_test(tc, bad_input_is_400_naming_the_field_and_creates_nothing);
    tcase_add_test(tc, other_tenants_instances_and_operations_do_not_exist);
    tcase_add_test(tc, quota_exceeded_is_403_and_creates_nothing);
    tcase_add_test(tc, actions_move_the_power_state_and_refuse_conflicts);
    tcase_add_test(tc, delete_removes_the_domain_and_volumes_and_gives_back_capacity);
    tcase_add_test(tc, hard_stop_and_delete_supersede_a_pending_stop);
    tcase_add_test(tc, console_reads_of_a_hung_host_hold_no_http_thread);
    tcase_add_test(tc, deleted_users_block_nothing_and_live_ones_are_named);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
