/* Maintenance, evacuation and hosts down past host_down_grace, against a real sovd (api,
 * worker, reconciler) whose hosts are libvirt's test driver: three test-driver hosts of the
 * sovd process (host files of their own), or one inside a private libvirtd that the test
 * stops, so the host stops answering.
 *
 * Covered: a host in maintenance receives no placement (the dry run counts it under
 * "state") and takes them again once up; evacuating a host with three instances of one
 * tenant and a fourth of a tenant whose policy allows only that host's region moves the
 * three elsewhere (children of one host.evacuate operation, listed by the parent and by
 * ?parent=) and leaves the fourth where it is, listed in the result with the reason; an
 * unknown host is 404, a member 403, a discovering host 409; a host down for longer than
 * host_down_grace puts its instances in error with "host down since <time>" (audited once),
 * not before; an instance put there goes back to running when its host answers and its
 * domain runs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hosts.h"
#include "testlib.h"

#define sql_num(...) tl_db_num(db, __VA_ARGS__)

#define REGION "fr-test-1"
#define REGION2 "de-test-1"
#define SMALL "small"
#define BIG "big"
#define IMAGE "base"
#define WAIT_S 60
#define GRACE_S 3       /* --host-down-grace below */

static char *db;
static char *tmp;
static tl_sovd sovd;
static tl_libvirtd lvd;
static bool lvd_started;
static char *op;                /* the bootstrap operator's token */
static tl_tenant acme, local;
static char pool[64], net[64];

/* ---- fixture ---- */

static void
setup(void)
{
    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    memset(&lvd, 0, sizeof(lvd));
    lvd_started = false;
    op = NULL;
    snprintf(pool, sizeof(pool), "sovevac-%d", (int) getpid());
    snprintf(net, sizeof(net), "sovevac%d", (int) getpid());
}

static void
teardown(void)
{
    int rc = tl_sovd_stop_clean(&sovd, 30);

    tl_sovd_discard(&sovd);
    if (lvd_started)
        tl_libvirtd_discard(&lvd);
    tl_teardown_end(rc, db, op, tmp);
}

/* GET prefix + id ("/v1/instances/", "/v1/hosts/"). */
static json_t *
get(const char *token, const char *prefix, const char *id)
{
    char path[256];

    snprintf(path, sizeof(path), "%s%s", prefix, id);
    return tl_call_ok(&sovd, "GET", path, token, NULL, 200);
}

/* Wait (at most seconds) for GET prefix + id to show state want; the last reply. */
static json_t *
wait_for(const char *token, const char *prefix, const char *id, const char *want, int seconds)
{
    return tl_wait_state(&sovd, token, prefix, id, want, seconds);
}

static void
make_region(const char *code, const char *country)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"code\":\"%s\",\"name\":\"Test\",\"country\":\"%s\","
             "\"datacenter\":\"dc-%s\",\"zones\":[\"a\",\"b\"]}", code, country, code);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op, body, 201));
}

/* Register host name in region/zone at uri; its id into id. */
static void
add_host(const char *name, const char *region, const char *zone, const char *uri, char id[40])
{
    char body[1200];
    json_t *h;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"%s\",\"zone\":\"%s\","
             "\"libvirt_uri\":\"%s\"}", name, region, zone, uri);
    h = tl_host_add(&sovd, op, body);
    snprintf(id, 40, "%s", tl_str(h, "id"));
    json_decref(h);
}

static void
set_host_state(const char *id, const char *state)
{
    char path[96], body[64];
    json_t *h;

    snprintf(path, sizeof(path), "/v1/hosts/%s", id);
    snprintf(body, sizeof(body), "{\"state\":\"%s\"}", state);
    h = tl_call_ok(&sovd, "PATCH", path, op, body, 200);
    ck_assert_str_eq(tl_str(h, "state"), state);
    json_decref(h);
}

/* An image of the tenant's in REGION (a small qcow2 by file URL), active. */
static void
make_image(const tl_tenant *t)
{
    tl_image_from_qcow2(&sovd, t->token[TL_MEMBER], tmp, IMAGE, REGION, WAIT_S);
}

/* sovd with the reconciler every second and a host_down_grace of GRACE_S; then the
 * operator's token, tenants acme (EU, the default) and local (REGION only), the regions,
 * both flavors. */
static void
start(void)
{
    tl_local_flags f;
    const char *args[] = { "--role=api,worker,reconciler", "--host-check-interval=1",
                           "--host-down-grace=3", "--worker-threads=4",
                           "--image-allow-file-urls=true", "--stop-timeout=5", f.store,
                           f.pool, f.path, f.net, f.cidr, NULL };
    char path[128];

    tl_local_flags_init(&f, tmp, pool, net);
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
    tl_tenant_make(&sovd, op, "local", &local);
    make_region(REGION, "FR");
    make_region(REGION2, "DE");
    snprintf(path, sizeof(path), "/v1/tenants/%s/residency-policy", local.id);
    json_decref(tl_call_ok(&sovd, "PUT", path, op, "{\"regions\":[\"" REGION "\"]}", 200));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"" SMALL "\",\"vcpus\":1,\"memory_mib\":128,"
                           "\"disk_gib\":1}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"" BIG "\",\"vcpus\":2,\"memory_mib\":2048,"
                           "\"disk_gib\":1}", 201));
}

/* POST /v1/instances as t's member; wait until it runs; its id into id. */
static void
launch(const tl_tenant *t, const char *name, const char *flavor, char id[40])
{
    char body[256];
    json_t *j;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"flavor\":\"%s\",\"image\":\"" IMAGE "\"}",
             name, flavor);
    j = tl_call_ok(&sovd, "POST", "/v1/instances", t->token[TL_MEMBER], body, 202);
    snprintf(id, 40, "%s", tl_str(json_object_get(j, "instance"), "id"));
    tl_op_wait_ok(&sovd, t->token[TL_MEMBER], tl_str(json_object_get(j, "operation"), "id"),
                  WAIT_S);
    json_decref(j);
    json_decref(wait_for(t->token[TL_READER], "/v1/instances/", id, "running", WAIT_S));
}

/* The id of the host an instance is on (as the database has it). */
static char *
host_of(const char *id)
{
    return tl_db_value(db, "SELECT coalesce(host_id::text, '') FROM instances WHERE id = '%s'",
                       id);
}

/* The member of array arr whose key is value, or NULL. */
static json_t *
find_in(json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *e;

    json_array_foreach(arr, i, e)
        if (json_is_string(json_object_get(e, key)) &&
            strcmp(json_string_value(json_object_get(e, key)), value) == 0)
            return e;
    return NULL;
}

/* ---- tests ---- */

START_TEST(a_host_in_maintenance_receives_no_placement_until_it_is_up_again)
{
    char a[40], b[40], id[40], *uri_a, *uri_b, *on;
    json_t *d, *h;
    tl_resp r;

    start();
    uri_a = tl_test_host_uri(tmp, "maint-a", 4, 8);
    uri_b = tl_test_host_uri(tmp, "maint-b", 4, 8);
    add_host("maint-a", REGION, "a", uri_a, a);
    add_host("maint-b", REGION, "b", uri_b, b);
    make_image(&acme);

    set_host_state(a, "maintenance");
    h = tl_call_ok(&sovd, "GET", "/v1/hosts?state=maintenance", op, NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(h, "items")), 1);
    json_decref(h);
    /* The dry run counts it under "state"; the create lands on the other host. */
    d = tl_call_ok(&sovd, "POST", "/v1/placement/dry-run", acme.token[TL_MEMBER],
                   "{\"vcpus\":1,\"memory_mib\":128,\"region\":\"" REGION "\"}", 200);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(d, "rejected"),
                                                        "state")), 1);
    ck_assert_str_eq(tl_str(json_object_get(d, "placement"), "host_id"), b);
    json_decref(d);
    for (int i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof(name), "m-%d", i);
        launch(&acme, name, SMALL, id);
        on = host_of(id);
        ck_assert_str_eq(on, b);
        free(on);
    }
    /* Both in maintenance: no room anywhere (409), nothing written. */
    set_host_state(b, "maintenance");
    tl_call(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER],
            "{\"name\":\"none\",\"flavor\":\"" SMALL "\",\"image\":\"" IMAGE "\"}", &r);
    ck_assert_msg(r.status == 409, "%ld %s", r.status, r.body);
    tl_resp_free(&r);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM instances WHERE name = 'none'"), 0);
    /* The reconciler leaves maintenance alone (it probes up and down hosts only). */
    sleep(2);
    h = get(op, "/v1/hosts/", a);
    ck_assert_str_eq(tl_str(h, "state"), "maintenance");
    ck_assert(json_is_null(json_object_get(h, "down_since")));
    json_decref(h);
    /* Up again: placements come back. */
    set_host_state(a, "up");
    launch(&acme, "back", SMALL, id);
    on = host_of(id);
    ck_assert_str_eq(on, a);
    free(on);
    /* An unknown state names the field. */
    {
        char path[96];
        snprintf(path, sizeof(path), "/v1/hosts/%s", a);
        tl_call(&sovd, "PATCH", path, op, "{\"state\":\"vacation\"}", &r);
        tl_assert_problem(&r, 400, "/problems/invalid-request");
        tl_assert_problem_field(&r, "state");
        tl_resp_free(&r);
    }
    free(uri_a);
    free(uri_b);
}
END_TEST

START_TEST(evacuating_an_unknown_host_is_404_and_a_member_is_403)
{
    char a[40], path[128], *uri_a;
    tl_resp r;

    start();
    uri_a = tl_test_host_uri(tmp, "who-a", 4, 8);
    add_host("who-a", REGION, "a", uri_a, a);
    tl_call(&sovd, "POST", "/v1/hosts/00000000-0000-0000-0000-00000000dead/evacuate", op,
            NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    tl_call(&sovd, "POST", "/v1/hosts/no-such-host/evacuate", op, NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/hosts/%s/evacuate", a);
    tl_call(&sovd, "POST", path, acme.token[TL_MEMBER], NULL, &r);
    ck_assert_msg(r.status == 403, "%ld %s", r.status, r.body);
    tl_resp_free(&r);
    tl_call(&sovd, "POST", path, acme.token[TL_ADMIN], NULL, &r);
    ck_assert_msg(r.status == 403, "%ld %s", r.status, r.body);
    tl_resp_free(&r);
    /* A body is no part of it: an unknown member is refused, naming it. */
    tl_call(&sovd, "POST", path, op, "{\"force\":true}", &r);
    tl_assert_problem(&r, 400, "/problems/invalid-request");
    tl_assert_problem_field(&r, "force");
    tl_resp_free(&r);
    /* Nothing changed, nothing queued. */
    ck_assert_int_eq(sql_num("SELECT count(*) FROM operations WHERE kind = 'host.evacuate'"), 0);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM hosts WHERE state = 'maintenance'"), 0);
    /* A host still being discovered cannot be evacuated. */
    free(tl_db_exec(db, "UPDATE hosts SET state = 'discovering'"));
    tl_call(&sovd, "POST", path, op, NULL, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_resp_free(&r);
    free(tl_db_exec(db, "UPDATE hosts SET state = 'up'"));
    /* An empty host: maintenance, and an evacuation with nothing to move succeeds. */
    {
        json_t *j = tl_call_ok(&sovd, "POST", path, op, NULL, 202), *o;
        ck_assert_str_eq(tl_str(json_object_get(j, "host"), "state"), "maintenance");
        ck_assert_str_eq(tl_str(json_object_get(j, "operation"), "kind"), "host.evacuate");
        o = tl_op_wait_done(&sovd, op, tl_str(json_object_get(j, "operation"), "id"), WAIT_S);
        ck_assert_str_eq(tl_str(o, "state"), "succeeded");
        ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(o, "result"),
                                                          "moved")), 0);
        ck_assert_int_eq(tl_num(o, "children_total"), 0);
        ck_assert(json_is_null(json_object_get(o, "parent_id")));
        /* A parent shows its first 100 children and their count; ?parent= pages them all. */
        char *n = tl_db_value(db, "WITH p AS (SELECT id, tenant_id FROM operations WHERE id ="
                                  " '%s') INSERT INTO operations (tenant_id, kind,"
                                  " resource_type, resource_id, state, parent_id) SELECT"
                                  " p.tenant_id, 'test.child', 'instance',"
                                  " gen_random_uuid()::text, 'succeeded', p.id FROM p,"
                                  " generate_series(1, 101) RETURNING 'x'", tl_str(o, "id"));
        free(n);
        json_t *full = get(op, "/v1/operations/", tl_str(o, "id"));
        ck_assert_uint_eq(json_array_size(json_object_get(full, "children")), 100);
        ck_assert_int_eq(tl_num(full, "children_total"), 101);
        ck_assert_str_eq(tl_str(json_array_get(json_object_get(full, "children"), 0), "kind"),
                         "test.child");
        json_decref(full);
        char lp[160];
        snprintf(lp, sizeof(lp), "/v1/operations?parent=%s&limit=60", tl_str(o, "id"));
        full = tl_call_ok(&sovd, "GET", lp, op, NULL, 200);
        ck_assert_uint_eq(json_array_size(json_object_get(full, "items")), 60);
        ck_assert(json_is_string(json_object_get(full, "next")));
        ck_assert_str_eq(tl_str(json_array_get(json_object_get(full, "items"), 0), "parent_id"),
                         tl_str(o, "id"));
        json_decref(full);
        /* Another tenant sees none of them. */
        full = tl_call_ok(&sovd, "GET", lp, acme.token[TL_READER], NULL, 200);
        ck_assert_uint_eq(json_array_size(json_object_get(full, "items")), 0);
        json_decref(full);
        tl_call(&sovd, "GET", "/v1/operations?parent=not-an-id", op, NULL, &r);
        tl_assert_problem(&r, 400, "/problems/invalid-request");
        tl_assert_problem_field(&r, "parent");
        tl_resp_free(&r);
        json_decref(o);
        json_decref(j);
    }
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action = 'hosts.evacuate'"
                             " AND resource_id = '%s'", a), 1);
    free(uri_a);
}
END_TEST

START_TEST(evacuation_moves_each_instance_inside_its_policy_and_lists_those_that_stay)
{
    char a[40], b[40], c[40], ids[3][40], stay[40], busy[40], path[128], evac[40], *uri, *on;
    json_t *j, *o, *res, *kids, *e;

    start();
    /* a: the host to evacuate; b: the same region, too small for the big flavor; c: another
     * EU region, outside local's policy. */
    uri = tl_test_host_uri(tmp, "evac-a", 8, 16);
    add_host("evac-a", REGION, "a", uri, a);
    free(uri);
    uri = tl_test_host_uri(tmp, "evac-b", 2, 1);
    add_host("evac-b", REGION, "b", uri, b);
    free(uri);
    uri = tl_test_host_uri(tmp, "evac-c", 8, 16);
    add_host("evac-c", REGION2, "a", uri, c);
    free(uri);
    make_image(&acme);
    make_image(&local);

    /* Everything lands on a while the others are in maintenance. */
    set_host_state(b, "maintenance");
    set_host_state(c, "maintenance");
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "web-%d", i);
        launch(&acme, name, SMALL, ids[i]);
    }
    launch(&local, "pinned", BIG, stay);
    launch(&acme, "busy", SMALL, busy);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM instances WHERE host_id = '%s'"
                             " AND state = 'running'", a), 5);
    /* One is migrating already (its own migration, as far as the evacuation can tell). */
    free(tl_db_value(db, "UPDATE instances SET state = 'migrating' WHERE id = '%s'"
                         " RETURNING id", busy));
    set_host_state(b, "up");
    set_host_state(c, "up");

    snprintf(path, sizeof(path), "/v1/hosts/%s/evacuate", a);
    double t0 = tl_now();
    j = tl_call_ok(&sovd, "POST", path, op, NULL, 202);
    ck_assert_str_eq(tl_str(json_object_get(j, "host"), "state"), "maintenance");
    snprintf(evac, sizeof(evac), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    /* Asked again while it runs: the same operation, nothing queued twice. */
    j = tl_call_ok(&sovd, "POST", path, op, NULL, 202);
    if (strcmp(tl_str(json_object_get(j, "operation"), "state"), "succeeded") != 0)
        ck_assert_str_eq(tl_str(json_object_get(j, "operation"), "id"), evac);
    json_decref(j);

    /* The evacuation waits for the instance migrating of its own accord, then ends. */
    {
        time_t until = time(NULL) + WAIT_S;
        for (;;) {
            o = get(op, "/v1/operations/", evac);
            if (strstr(tl_str(o, "step"), "3 of 4 ended"))
                break;
            ck_assert_msg(time(NULL) < until, "not waiting for 1 of 4: %s", json_dumps(o, 0));
            json_decref(o);
            usleep(200 * 1000);
        }
        /* Between looks it waits queued (SOV_OP_LATER), never ended. */
        ck_assert_msg(strcmp(tl_str(o, "state"), "succeeded") != 0 &&
                      strcmp(tl_str(o, "state"), "failed") != 0, "%s", json_dumps(o, 0));
        ck_assert_int_lt(tl_num(o, "progress"), 100);
        json_decref(o);
    }
    free(tl_db_value(db, "UPDATE instances SET state = 'running' WHERE id = '%s'"
                         " RETURNING id", busy));
    o = tl_op_wait_done(&sovd, op, evac, 3 * WAIT_S);
    ck_assert_msg(strcmp(tl_str(o, "state"), "succeeded") == 0, "%s", json_dumps(o, 0));
    printf("evacuate figures: 3 instances moved, 1 stayed, 1 waited for, on test-driver "
           "hosts: 202 to succeeded in %.1f s\n", tl_now() - t0);
    ck_assert_int_eq(tl_num(o, "progress"), 100);
    res = json_object_get(o, "result");
    ck_assert_msg(json_is_object(res), "no result: %s", json_dumps(o, 0));
    e = find_in(json_object_get(res, "waited"), "instance_id", busy);
    ck_assert_msg(e, "the migrating instance is not listed as waited for: %s",
                  json_dumps(res, 0));
    ck_assert_str_eq(tl_str(e, "state"), "running");
    /* The three moved, each a child of the evacuation, each off a, inside the EU. */
    ck_assert_msg(json_array_size(json_object_get(res, "moved")) == 3, "%s",
                  json_dumps(res, 0));
    ck_assert_uint_eq(json_array_size(json_object_get(res, "failed")), 0);
    kids = json_object_get(o, "children");
    ck_assert_uint_eq(json_array_size(kids), 3);
    ck_assert_int_eq(tl_num(o, "children_total"), 3);
    for (int i = 0; i < 3; i++) {
        e = find_in(kids, "resource_id", ids[i]);
        ck_assert_msg(e, "instance %s is no child: %s", ids[i], json_dumps(kids, 0));
        ck_assert_str_eq(tl_str(e, "state"), "succeeded");
        ck_assert_msg(find_in(json_object_get(res, "moved"), "instance_id", ids[i]),
                      "%s not moved", ids[i]);
        on = host_of(ids[i]);
        ck_assert_msg(strcmp(on, b) == 0 || strcmp(on, c) == 0, "%s is on %s", ids[i], on);
        free(on);
        json_decref(wait_for(acme.token[TL_READER], "/v1/instances/", ids[i], "running",
                             WAIT_S));
        /* The child names its parent; acme sees its own migration, not the evacuation. */
        char cp[128];
        snprintf(cp, sizeof(cp), "/v1/operations/%s", tl_str(e, "id"));
        j = tl_call_ok(&sovd, "GET", cp, acme.token[TL_READER], NULL, 200);
        ck_assert_str_eq(tl_str(j, "parent_id"), evac);
        json_decref(j);
    }
    /* The fourth stays on a, listed with the reason; never moved outside its policy. */
    e = find_in(json_object_get(res, "stayed"), "instance_id", stay);
    ck_assert_msg(e, "the pinned instance is not listed as staying: %s", json_dumps(res, 0));
    ck_assert_msg(strlen(tl_str(e, "reason")) > 0, "no reason");
    printf("evacuate: the instance pinned to its region stays: %s\n", tl_str(e, "reason"));
    on = host_of(stay);
    ck_assert_str_eq(on, a);
    free(on);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_id = '%s'"
                             " AND (to_host = 'evac-c' OR to_region = '" REGION2 "')", stay),
                     0);
    j = get(local.token[TL_READER], "/v1/instances/", stay);
    ck_assert_str_eq(tl_str(j, "state"), "running");
    json_decref(j);
    json_decref(o);

    /* ?parent= lists the children (all of them, a page at a time); the tenant sees its own. */
    snprintf(path, sizeof(path), "/v1/operations?parent=%s", evac);
    j = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 3);
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", path, local.token[TL_READER], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 0);
    json_decref(j);
}
END_TEST

/* A test+unix host inside a private libvirtd, which the test stops. */
static void
private_host(char id[40])
{
    char uri[800];

    tl_libvirtd_start(&lvd);
    lvd_started = true;
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s", lvd.sock);
    add_host("lone", REGION, "a", uri, id);
}

START_TEST(a_host_down_past_the_grace_puts_its_instances_in_error_and_not_before)
{
    char h[40], id[40], want[128], *since, *gap;
    json_t *x, *host;

    start();
    private_host(h);
    make_image(&acme);
    launch(&acme, "far", SMALL, id);

    /* Put there by a host down past the grace, while its host answers and its domain runs:
     * the reconciler takes it back to running. */
    free(tl_db_value(db, "UPDATE instances SET state = 'error', state_reason ="
                         " 'host down since 2026-01-01T00:00:00Z' WHERE id = '%s' RETURNING id",
                     id));
    x = wait_for(acme.token[TL_READER], "/v1/instances/", id, "running", 15);
    ck_assert_msg(strstr(tl_str(x, "state_reason"), "answers again"), "reason: %s",
                  tl_str(x, "state_reason"));
    json_decref(x);

    tl_libvirtd_stop(&lvd);
    host = wait_for(op, "/v1/hosts/", h, "down", 20);
    ck_assert(json_is_string(json_object_get(host, "down_since")));
    snprintf(want, sizeof(want), "host down since %s", tl_str(host, "down_since"));
    json_decref(host);
    /* Within the grace: still running. */
    x = get(acme.token[TL_READER], "/v1/instances/", id);
    ck_assert_str_eq(tl_str(x, "state"), "running");
    json_decref(x);

    x = wait_for(acme.token[TL_READER], "/v1/instances/", id, "error", 20);
    ck_assert_str_eq(tl_str(x, "state_reason"), want);
    json_decref(x);
    /* Not before the grace ran out. */
    gap = tl_db_value(db, "SELECT extract(epoch FROM i.updated_at - h.down_since) >= %d"
                          " FROM instances i JOIN hosts h ON h.id = i.host_id"
                          " WHERE i.id = '%s'", GRACE_S, id);
    ck_assert_msg(strcmp(gap, "t") == 0, "in error before the grace ran out");
    free(gap);
    /* Audited once, however many passes see it. */
    sleep(3);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'instances.host-down' AND resource_id = '%s'", id), 1);
    /* Nothing restarted elsewhere: it is still on its host. */
    since = host_of(id);
    ck_assert_str_eq(since, h);
    free(since);
}
END_TEST

/* A host in maintenance (the operator's state, which the reconciler never changes) that
 * stops answering stays in maintenance, but its down_since is kept all the same: its
 * instances go to error after the grace, as a down host's do; answering again clears it. */
START_TEST(a_host_that_dies_in_maintenance_still_puts_its_instances_in_error)
{
    char h[40], id[40], path[80], want[128];
    json_t *x, *host;

    start();
    private_host(h);
    make_image(&acme);
    launch(&acme, "held", SMALL, id);
    snprintf(path, sizeof(path), "/v1/hosts/%s", h);
    json_decref(tl_call_ok(&sovd, "PATCH", path, op, "{\"state\":\"maintenance\"}", 200));

    tl_libvirtd_stop(&lvd);
    for (int i = 0;; i++) {
        host = get(op, "/v1/hosts/", h);
        if (json_is_string(json_object_get(host, "down_since")))
            break;
        ck_assert_msg(i < 200, "no down_since after 20 s: %s", json_dumps(host, 0));
        json_decref(host);
        usleep(100 * 1000);
    }
    ck_assert_str_eq(tl_str(host, "state"), "maintenance");
    snprintf(want, sizeof(want), "host down since %s", tl_str(host, "down_since"));
    json_decref(host);
    x = wait_for(acme.token[TL_READER], "/v1/instances/", id, "error", 20);
    ck_assert_str_eq(tl_str(x, "state_reason"), want);
    json_decref(x);
    host = get(op, "/v1/hosts/", h);
    ck_assert_str_eq(tl_str(host, "state"), "maintenance");
    json_decref(host);

    tl_libvirtd_restart(&lvd);
    for (int i = 0;; i++) {
        host = get(op, "/v1/hosts/", h);
        if (json_is_null(json_object_get(host, "down_since")))
            break;
        ck_assert_msg(i < 300, "down_since stays after the host answers: %s",
                      json_dumps(host, 0));
        json_decref(host);
        usleep(100 * 1000);
    }
    ck_assert_str_eq(tl_str(host, "state"), "maintenance");
    json_decref(host);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("compute/evacuate");
    TCase *tc = tcase_create("evacuate");

    tcase_set_timeout(tc, 400);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_host_in_maintenance_receives_no_placement_until_it_is_up_again);
    tcase_add_test(tc, evacuating_an_unknown_host_is_404_and_a_member_is_403);
    tcase_add_test(tc, a_host_down_past_the_grace_puts_its_instances_in_error_and_not_before);
    tcase_add_test(tc, a_host_that_dies_in_maintenance_still_puts_its_instances_in_error);
    tcase_add_test(tc, evacuation_moves_each_instance_inside_its_policy_and_lists_those_that_stay);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
