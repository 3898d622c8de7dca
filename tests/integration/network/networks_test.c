/* Networks, subnets and ports through the HTTP API of a real sovd on a real PostgreSQL, its
 * ovn_nb pointing at a real OVN Northbound database of the test's own (tl_ovn_start), and a
 * host of libvirt's test driver in region REGION (the region a network goes to when the
 * request names none).
 *
 * Covered: without ovn_nb every network route answers 503 "need OVN"; creates answering 202
 * with their operation; a network's CIDR (/16 to /28, its network address: host bits set
 * say which was meant), its region (the policy's first with a host up; one outside the
 * policy 409 residency naming region) and residency record; names unique per workspace;
 * subnets inside their network, never overlapping another (naming it), /16 to /29, zone of
 * the region, gateway a host address, at most 4 DNS servers; ports: the lowest free host
 * address, never the network, gateway nor broadcast address, an address asked for inside the
 * subnet and free, MACs, another tenant's subnet 404; 20 concurrent creates on a /29 (5
 * addresses) sharing no address; a deleted port's address handed out again; deletes refused
 * while something lives inside; quotas; and nothing written by a refused request. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hosts.h"
#include "testlib.h"

#define REGION "fr-net-1"
#define FAR "us-net-1"

static char *db, *tmp, *op;
static char host_ids[2][40];    /* REGION's host, FAR's */
static bool workers;            /* sovd runs workers (part "ovn"'s syncs): operations are
                                 * waited for; without, rows stay where requests put them */
static tl_sovd sovd;
static tl_ovn ovn;
static tl_tenant acme, globex;

#define sql_num(...) tl_db_num(db, __VA_ARGS__)

static void
setup(void)
{
    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    memset(&ovn, 0, sizeof(ovn));
    op = NULL;
}

static void
teardown(void)
{
    int rc = tl_sovd_stop_clean(&sovd, 30);

    tl_sovd_discard(&sovd);
    if (ovn.dir[0])
        tl_ovn_discard(&ovn);
    tl_teardown_end(rc, db, op, tmp);
}

static void
add_host(const char *name, const char *region, char *id)
{
    char body[2048];
    char *u = tl_test_host_uri(tmp, name, 4, 8);
    json_t *h;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"%s\",\"zone\":\"a\","
             "\"libvirt_uri\":\"%s\"}", name, region, u);
    free(u);
    h = tl_host_add(&sovd, op, body);
    snprintf(id, 40, "%s", tl_str(h, "id"));
    json_decref(h);
}

/* sovd (with OVN unless without_ovn), tenants acme and globex, regions REGION (FR, zones a
 * and b, one host) and FAR (US: outside the default policy, one host). */
static void
start(bool with_ovn)
{
    char nb[700];
    const char *args[] = { "--role=api,worker", "--host-check-interval=1", nb, NULL };

    snprintf(nb, sizeof(nb), "--ovn-nb=%s", "");
    if (with_ovn) {
        tl_ovn_start(&ovn, NULL, false);
        snprintf(nb, sizeof(nb), "--ovn-nb=%s", ovn.nb);
    }
    tl_sovd_start(&sovd, db, with_ovn ? args : NULL);
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
    tl_tenant_make(&sovd, op, "globex", &globex);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Net FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-net\",\"zones\":[\"a\",\"b\"]}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" FAR "\",\"name\":\"Net US\",\"country\":\"US\","
                           "\"datacenter\":\"dc-far\",\"zones\":[\"a\"]}", 201));
    add_host("net-node-1", REGION, host_ids[0]);
    add_host("far-node-1", FAR, host_ids[1]);
    workers = true;
}

/* sovd again, with its API only (no worker): what a request does, and nothing after it. */
static void
api_only(void)
{
    char nb[700];
    const char *args[] = { "--role=api", nb, NULL };

    ck_assert_int_eq(tl_sovd_stop_clean(&sovd, 30), 0);
    tl_sovd_discard(&sovd);
    memset(&sovd, 0, sizeof(sovd));
    snprintf(nb, sizeof(nb), "--ovn-nb=%s", ovn.nb);
    tl_sovd_start(&sovd, db, args);
    workers = false;
}

static void
refused(const char *method, const char *path, const char *token, const char *body,
        long status, const char *type, const char *field, const char *says)
{
    tl_refused(&sovd, method, path, token, body, status, type, field, says);
}

static void
invalid(const char *method, const char *path, const char *body, const char *field,
        const char *says)
{
    refused(method, path, acme.token[TL_MEMBER], body, 400, "/problems/invalid-request", field,
            says);
}

static void
conflict(const char *method, const char *path, const char *body, const char *says)
{
    refused(method, path, acme.token[TL_MEMBER], body, 409, "/problems/conflict", NULL, says);
}

/* POST as acme's member, 202: the member (network, subnet, port) into id; the body. */
static json_t *
create(const char *path, const char *member, const char *body, char *id)
{
    json_t *j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], body, 202);
    json_t *x = json_object_get(j, member);

    ck_assert_ptr_nonnull(json_object_get(j, "operation"));
    ck_assert_str_eq(tl_str(x, "state"), "creating");
    if (id)
        snprintf(id, 40, "%s", tl_str(x, "id"));
    if (workers)
        tl_op_wait_ok(&sovd, acme.token[TL_READER],
                      tl_str(json_object_get(j, "operation"), "id"), 60);
    return j;
}

static void
create_id(const char *path, const char *member, const char *body, char *id)
{
    json_decref(create(path, member, body, id));
}

/* A port on subnet (id or name) as acme: its address into ip (SOV_IP_MAX). */
static void
port_ip(const char *subnet, char *ip, char *id)
{
    char body[256];
    json_t *j;

    snprintf(body, sizeof(body), "{\"subnet\":\"%s\"}", subnet);
    j = create("/v1/ports", "port", body, id);
    snprintf(ip, 16, "%s", tl_str(json_object_get(j, "port"), "ip"));
    json_decref(j);
}

/* What part "ovn"'s worker does once OVN has a row (available, in-use), for the tests whose
 * sovd runs no worker. */
static void
mark_state(const char *table, const char *id, const char *state)
{
    free(tl_db_value(db, "UPDATE %s SET state = '%s', deleted_at = CASE WHEN '%s' = 'deleted'"
                     " THEN now() END WHERE id = '%s' RETURNING id", table, state, state, id));
}

/* Wait (at most 30 s) for a row's state: part "ovn"'s worker moves it. */
static void
wait_state(const char *table, const char *id, const char *state)
{
    double end = tl_now() + 30;

    while (sql_num("SELECT count(*) FROM %s WHERE id = '%s' AND state = '%s'", table, id,
                   state) == 0) {
        ck_assert_msg(tl_now() < end, "%s %s not %s after 30 s", table, id, state);
        usleep(100 * 1000);
    }
}

static long long
rows(void)
{
    return sql_num("SELECT (SELECT count(*) FROM networks) + (SELECT count(*) FROM subnets)"
                   " + (SELECT count(*) FROM ports) + (SELECT count(*) FROM operations)"
                   " + (SELECT count(*) FROM residency_records)");
}

START_TEST(without_ovn_network_routes_answer_503)
{
    start(false);
    refused("GET", "/v1/networks", acme.token[TL_READER], NULL, 503, "/problems/unavailable",
            NULL, "need OVN");
    refused("POST", "/v1/networks", acme.token[TL_MEMBER],
            "{\"name\":\"n\",\"cidr\":\"10.0.0.0/16\"}", 503, "/problems/unavailable", NULL,
            "need OVN");
    refused("POST", "/v1/subnets", acme.token[TL_MEMBER],
            "{\"name\":\"s\",\"network\":\"n\",\"cidr\":\"10.0.0.0/24\"}", 503,
            "/problems/unavailable", NULL, "ovn_nb is not configured");
    refused("GET", "/v1/ports", acme.token[TL_READER], NULL, 503, "/problems/unavailable",
            NULL, "need OVN");
    ck_assert_int_eq(sql_num("SELECT count(*) FROM networks"), 0);
}
END_TEST

START_TEST(networks_take_a_region_a_cidr_and_a_name)
{
    char id[40], path[128];
    json_t *j, *n;
    long long before;

    start(true);
    j = create("/v1/networks", "network", "{\"name\":\"net1\",\"cidr\":\"10.1.0.0/16\"}", id);
    n = json_object_get(j, "network");
    /* No region named: the policy's (EU) first region with a host up. */
    ck_assert_str_eq(tl_str(n, "region"), REGION);
    ck_assert_str_eq(tl_str(n, "cidr"), "10.1.0.0/16");
    ck_assert_str_eq(tl_str(n, "workspace"), "default");
    ck_assert_str_eq(tl_str(json_object_get(n, "residency"), "country"), "FR");
    ck_assert_str_eq(tl_str(json_object_get(j, "operation"), "kind"), "network.create");
    json_decref(j);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM residency_records WHERE resource_type ="
                             " 'network' AND resource_id = '%s' AND event = 'placed'", id), 1);
    snprintf(path, sizeof(path), "/v1/networks/%s/residency", id);
    j = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
    /* By name, and not for another tenant. */
    j = tl_call_ok(&sovd, "GET", "/v1/networks/net1", acme.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(j, "id"), id);
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/networks/%s", id);
    refused("GET", path, globex.token[TL_ADMIN], NULL, 404, "/problems/not-found", NULL, NULL);
    refused("DELETE", path, globex.token[TL_ADMIN], NULL, 404, "/problems/not-found", NULL,
            NULL);
    j = tl_call_ok(&sovd, "GET", "/v1/networks", globex.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 0);
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", "/v1/networks?region=" REGION, acme.token[TL_READER], NULL,
                   200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);

    before = rows();
    invalid("POST", "/v1/networks", "{\"name\":\"x\",\"cidr\":\"10.1.2.3/16\"}", "cidr",
            "10.1.0.0/16");
    invalid("POST", "/v1/networks", "{\"name\":\"x\",\"cidr\":\"10.0.0.0/8\"}", "cidr", "/8");
    invalid("POST", "/v1/networks", "{\"name\":\"x\",\"cidr\":\"10.0.0.0/29\"}", "cidr", "/29");
    invalid("POST", "/v1/networks", "{\"name\":\"x\",\"cidr\":\"10.0.0/16\"}", "cidr", NULL);
    invalid("POST", "/v1/networks", "{\"name\":\"x\",\"cidr\":\"fd00::/64\"}", "cidr", NULL);
    invalid("POST", "/v1/networks", "{\"name\":\"x\"}", "cidr", NULL);
    invalid("POST", "/v1/networks", "{\"name\":\"x\",\"cidr\":16}", "cidr", NULL);
    invalid("POST", "/v1/networks", "{\"name\":\"x\",\"cidr\":\"10.0.0.0/16\",\"mtu\":1}",
            "mtu", NULL);
    invalid("POST", "/v1/networks", "{\"name\":\"Bad Name\",\"cidr\":\"10.0.0.0/16\"}", "name",
            NULL);
    invalid("POST", "/v1/networks", "{\"name\":\"x\",\"cidr\":\"10.0.0.0/16\","
            "\"region\":\"nowhere-1\"}", "region", NULL);
    invalid("POST", "/v1/networks", "{\"name\":\"x\",\"cidr\":\"10.0.0.0/16\","
            "\"workspace\":\"nope\"}", "workspace", NULL);
    refused("POST", "/v1/networks", acme.token[TL_MEMBER],
            "{\"name\":\"x\",\"cidr\":\"10.0.0.0/16\",\"region\":\"" FAR "\"}", 409,
            "/problems/residency-policy", "region", FAR);
    refused("POST", "/v1/networks", acme.token[TL_MEMBER],
            "{\"name\":\"net1\",\"cidr\":\"10.2.0.0/16\"}", 409, "/problems/conflict", "name",
            "a network named 'net1' already exists");
    refused("POST", "/v1/networks", acme.token[TL_READER],
            "{\"name\":\"x\",\"cidr\":\"10.0.0.0/16\"}", 403, "/problems/forbidden", NULL, NULL);
    ck_assert_int_eq(rows(), before);

    /* Another tenant may use the same name and CIDR; so may the same tenant, other name. */
    json_decref(tl_call_ok(&sovd, "POST", "/v1/networks", globex.token[TL_MEMBER],
                           "{\"name\":\"net1\",\"cidr\":\"10.1.0.0/16\"}", 202));
    create_id("/v1/networks", "network", "{\"name\":\"net2\",\"cidr\":\"10.1.0.0/16\","
              "\"region\":\"" REGION "\"}", id);

    /* An empty network goes (deleting until its worker is done); twice: the same operation
     * while it is going, 404 once gone. */
    snprintf(path, sizeof(path), "/v1/networks/%s", id);
    j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    ck_assert_str_eq(tl_str(json_object_get(j, "network"), "state"), "deleting");
    ck_assert_str_eq(tl_str(json_object_get(j, "operation"), "kind"), "network.delete");
    {
        tl_resp again;
        tl_call(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, &again);
        ck_assert_msg(again.status == 202 || again.status == 404, "%ld", again.status);
        if (again.status == 202)
            ck_assert_str_eq(tl_str(json_object_get(again.json, "operation"), "id"),
                             tl_str(json_object_get(j, "operation"), "id"));
        tl_resp_free(&again);
    }
    tl_op_wait_ok(&sovd, acme.token[TL_READER], tl_str(json_object_get(j, "operation"), "id"),
                  60);
    json_decref(j);
    n = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(n, "state"), "deleted");
    json_decref(n);
    refused("DELETE", path, acme.token[TL_MEMBER], NULL, 404, "/problems/not-found", NULL, NULL);
    /* The same Idempotency-Key and body: the first answer, one network. */
    {
        const char *const key[] = { "Idempotency-Key: net-once-1", NULL };
        const char *body = "{\"name\":\"once\",\"cidr\":\"10.7.0.0/16\"}";
        tl_resp a, b;

        tl_call_h(&sovd, "POST", "/v1/networks", acme.token[TL_MEMBER], body, key, &a);
        tl_call_h(&sovd, "POST", "/v1/networks", acme.token[TL_MEMBER], body, key, &b);
        ck_assert_int_eq(a.status, 202);
        ck_assert_int_eq(b.status, 202);
        ck_assert_str_eq(tl_str(json_object_get(a.json, "network"), "id"),
                         tl_str(json_object_get(b.json, "network"), "id"));
        ck_assert_int_eq(sql_num("SELECT count(*) FROM networks WHERE name = 'once'"), 1);
        tl_resp_free(&a);
        tl_resp_free(&b);
    }
    /* Its name is free again. */
    create_id("/v1/networks", "network", "{\"name\":\"net2\",\"cidr\":\"10.1.0.0/16\"}",
              NULL);
}
END_TEST

START_TEST(subnets_lie_inside_their_network_and_never_overlap)
{
    char net[40], sub[40], port[40], ip[16], path[128];
    json_t *j, *s;
    long long before;

    start(true);
    create_id("/v1/networks", "network", "{\"name\":\"net1\",\"cidr\":\"10.1.0.0/16\"}", net);
    j = create("/v1/subnets", "subnet", "{\"name\":\"s1\",\"network\":\"net1\","
               "\"cidr\":\"10.1.1.0/24\",\"zone\":\"b\",\"dns_servers\":[\"9.9.9.9\"]}", sub);
    s = json_object_get(j, "subnet");
    ck_assert_str_eq(tl_str(s, "gateway"), "10.1.1.1");
    ck_assert_str_eq(tl_str(s, "zone"), "b");
    ck_assert_str_eq(tl_str(json_object_get(s, "network"), "id"), net);
    ck_assert_int_eq(tl_num(s, "addresses_total"), 253);
    ck_assert_int_eq(tl_num(s, "addresses_used"), 0);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(s, "dns_servers"), 0)),
                     "9.9.9.9");
    ck_assert_str_eq(tl_str(json_object_get(j, "operation"), "kind"), "subnet.create");
    json_decref(j);

    before = rows();
    invalid("POST", "/v1/subnets", "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"10.1.1.128/25\"}", "cidr", "overlaps subnet 's1' (10.1.1.0/24)");
    invalid("POST", "/v1/subnets", "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"10.1.0.0/16\"}", "cidr", "overlaps subnet 's1'");
    invalid("POST", "/v1/subnets", "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"10.2.0.0/24\"}", "cidr", "not inside network 'net1'");
    invalid("POST", "/v1/subnets", "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"10.1.2.7/32\"}", "cidr", "/32");
    invalid("POST", "/v1/subnets", "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"10.1.2.0/30\"}", "cidr", "/30");
    invalid("POST", "/v1/subnets", "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"10.1.2.1/24\"}", "cidr", "10.1.2.0/24");
    invalid("POST", "/v1/subnets", "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"banana\"}", "cidr", NULL);
    invalid("POST", "/v1/subnets", "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"10.1.2.0/24\",\"zone\":\"z\"}", "zone", NULL);
    invalid("POST", "/v1/subnets", "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"10.1.2.0/24\",\"gateway\":\"10.1.3.1\"}", "gateway", NULL);
    invalid("POST", "/v1/subnets", "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"10.1.2.0/24\",\"gateway\":\"10.1.2.255\"}", "gateway", NULL);
    invalid("POST", "/v1/subnets", "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"10.1.2.0/24\",\"dns_servers\":[\"1.1.1.1\",\"1.1.1.2\",\"1.1.1.3\","
            "\"1.1.1.4\",\"1.1.1.5\"]}", "dns_servers", NULL);
    invalid("POST", "/v1/subnets", "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"10.1.2.0/24\",\"dns_servers\":[\"dns.example\"]}", "dns_servers", NULL);
    invalid("POST", "/v1/subnets", "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"10.1.2.0/24\",\"dns_servers\":[1]}", "dns_servers", NULL);
    conflict("POST", "/v1/subnets", "{\"name\":\"s1\",\"network\":\"net1\","
             "\"cidr\":\"10.1.2.0/24\"}", "a subnet named 's1' already exists");
    refused("POST", "/v1/subnets", globex.token[TL_MEMBER], "{\"name\":\"x\",\"network\":\"net1\","
            "\"cidr\":\"10.1.2.0/24\"}", 404, "/problems/not-found", NULL, NULL);
    ck_assert_int_eq(rows(), before);

    /* A gateway of one's own; a /29. */
    j = create("/v1/subnets", "subnet", "{\"name\":\"s2\",\"network\":\"" "net1" "\","
               "\"cidr\":\"10.1.2.0/29\",\"gateway\":\"10.1.2.6\"}", NULL);
    ck_assert_int_eq(tl_num(json_object_get(j, "subnet"), "addresses_total"), 5);
    json_decref(j);

    /* What lives inside keeps a network and a subnet. */
    port_ip("s1", ip, port);
    snprintf(path, sizeof(path), "/v1/subnets/%s", sub);
    conflict("DELETE", path, NULL, "port");
    snprintf(path, sizeof(path), "/v1/networks/%s", net);
    conflict("DELETE", path, NULL, "subnet");
    j = tl_call_ok(&sovd, "GET", "/v1/subnets?network=net1", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 2);
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", "/v1/subnets/s1", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(tl_num(j, "addresses_used"), 1);
    json_decref(j);
}
END_TEST

START_TEST(ports_take_free_host_addresses_of_their_subnet)
{
    char port[40], port2[40], ip[16], path[128], sub[40];
    json_t *j, *p;
    long long before;

    start(true);
    create_id("/v1/networks", "network", "{\"name\":\"net1\",\"cidr\":\"10.1.0.0/16\"}", NULL);
    create_id("/v1/subnets", "subnet", "{\"name\":\"s1\",\"network\":\"net1\","
              "\"cidr\":\"10.1.1.0/24\"}", sub);
    j = create("/v1/ports", "port", "{\"subnet\":\"s1\"}", port);
    p = json_object_get(j, "port");
    /* The gateway is .1: the first free host address is .2. */
    ck_assert_str_eq(tl_str(p, "ip"), "10.1.1.2");
    ck_assert_int_eq(strncmp(tl_str(p, "name"), "port-", 5), 0);
    ck_assert_int_eq(strncmp(tl_str(p, "name") + 5, port, 8), 0);
    ck_assert(json_is_false(json_object_get(p, "up")));
    ck_assert(json_is_null(json_object_get(p, "instance")));
    ck_assert(json_is_null(json_object_get(p, "device_index")));
    ck_assert(json_is_null(json_object_get(p, "public_ip")));
    ck_assert_str_eq(tl_str(json_object_get(p, "subnet"), "id"), sub);
    /* A random locally administered unicast MAC. */
    ck_assert_int_eq((int) (strtol(tl_str(p, "mac"), NULL, 16) & 3), 2);
    ck_assert_str_eq(tl_str(json_object_get(j, "operation"), "kind"), "port.create");
    json_decref(j);
    j = create("/v1/ports", "port", "{\"subnet\":\"s1\",\"name\":\"web\",\"ip\":\"10.1.1.9\","
               "\"mac\":\"FA:16:3E:00:00:09\"}", port2);
    ck_assert_str_eq(tl_str(json_object_get(j, "port"), "mac"), "fa:16:3e:00:00:09");
    json_decref(j);
    port_ip("s1", ip, NULL);
    ck_assert_str_eq(ip, "10.1.1.3");

    before = rows();
    invalid("POST", "/v1/ports", "{\"subnet\":\"s1\",\"ip\":\"10.1.2.5\"}", "ip",
            "not a host address of subnet 's1'");
    invalid("POST", "/v1/ports", "{\"subnet\":\"s1\",\"ip\":\"10.1.1.1\"}", "ip", "gateway");
    invalid("POST", "/v1/ports", "{\"subnet\":\"s1\",\"ip\":\"10.1.1.0\"}", "ip", NULL);
    invalid("POST", "/v1/ports", "{\"subnet\":\"s1\",\"ip\":\"10.1.1.255\"}", "ip", NULL);
    invalid("POST", "/v1/ports", "{\"subnet\":\"s1\",\"ip\":\"10.1.1.300\"}", "ip", NULL);
    invalid("POST", "/v1/ports", "{\"subnet\":\"s1\",\"mac\":\"01:00:5e:00:00:01\"}", "mac",
            NULL);
    invalid("POST", "/v1/ports", "{\"subnet\":\"s1\",\"mac\":\"fa16.3e00.0001\"}", "mac", NULL);
    invalid("POST", "/v1/ports", "{\"subnet\":\"s1\",\"security_groups\":\"g\"}",
            "security_groups", NULL);
    invalid("POST", "/v1/ports", "{}", "subnet", NULL);
    refused("POST", "/v1/ports", acme.token[TL_MEMBER], "{\"subnet\":\"s1\",\"ip\":\"10.1.1.9\"}",
            409, "/problems/conflict", "ip", "ip 10.1.1.9 of subnet 's1' is taken by port 'web'");
    refused("POST", "/v1/ports", acme.token[TL_MEMBER],
            "{\"subnet\":\"s1\",\"mac\":\"fa:16:3e:00:00:09\"}", 409, "/problems/conflict",
            "mac", "mac fa:16:3e:00:00:09 is taken by port 'web'");
    refused("POST", "/v1/ports", acme.token[TL_MEMBER], "{\"subnet\":\"s1\",\"name\":\"web\"}",
            409, "/problems/conflict", "name", "a port named 'web' already exists");
    refused("POST", "/v1/ports", acme.token[TL_MEMBER], "{\"subnet\":\"s1\","
            "\"security_groups\":[\"nope\"]}", 404, "/problems/not-found", NULL,
            "security group 'nope'");
    /* Another tenant's subnet, by id or name, does not exist. */
    snprintf(path, sizeof(path), "{\"subnet\":\"%s\"}", sub);
    refused("POST", "/v1/ports", globex.token[TL_MEMBER], path, 404, "/problems/not-found",
            "subnet", "subnet");
    refused("POST", "/v1/ports", globex.token[TL_MEMBER], "{\"subnet\":\"s1\"}", 404,
            "/problems/not-found", "subnet", "subnet");
    ck_assert_int_eq(rows(), before);

    /* Filters. */
    j = tl_call_ok(&sovd, "GET", "/v1/ports?subnet=s1&network=net1", acme.token[TL_READER],
                   NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 3);
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", "/v1/ports?state=deleted", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 0);
    json_decref(j);
    invalid("GET", "/v1/ports?state=gone", NULL, "state", NULL);
    invalid("GET", "/v1/ports?subnet=nope", NULL, "subnet", NULL);

    /* A port plugged nowhere cannot be detached; an unknown instance is not there. */
    snprintf(path, sizeof(path), "/v1/ports/%s/actions", port);
    conflict("POST", path, "{\"action\":\"detach\"}", "not plugged");
    refused("POST", path, acme.token[TL_MEMBER], "{\"action\":\"attach\",\"instance\":\"vm\"}",
            404, "/problems/not-found", NULL, "instance 'vm'");
    invalid("POST", path, "{\"action\":\"reboot\"}", "action", NULL);
    invalid("POST", path, "{\"action\":\"attach\"}", "instance", NULL);

    /* Deleting frees the address once the port is deleted (its worker). */
    snprintf(path, sizeof(path), "/v1/ports/%s", port);
    j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    ck_assert_str_eq(tl_str(json_object_get(j, "port"), "state"), "deleting");
    ck_assert_str_eq(tl_str(json_object_get(j, "operation"), "kind"), "port.delete");
    tl_op_wait_ok(&sovd, acme.token[TL_READER], tl_str(json_object_get(j, "operation"), "id"),
                  60);
    json_decref(j);
    wait_state("ports", port, "deleted");
    port_ip("s1", ip, NULL);
    ck_assert_str_eq(ip, "10.1.1.2");
    refused("DELETE", path, acme.token[TL_MEMBER], NULL, 404, "/problems/not-found", NULL, NULL);
}
END_TEST

/* ---- concurrent creates ---- */

START_TEST(concurrent_port_creates_never_share_an_address)
{
    enum { N = 20 };
    tl_racer *r = calloc(N, sizeof(*r));
    const char *ip[N];
    int ok = 0, full = 0;

    start(true);
    create_id("/v1/networks", "network", "{\"name\":\"net1\",\"cidr\":\"10.1.0.0/16\"}", NULL);
    create_id("/v1/subnets", "subnet", "{\"name\":\"tiny\",\"network\":\"net1\","
              "\"cidr\":\"10.1.9.0/29\"}", NULL);
    for (int i = 0; i < N; i++) {
        char body[64];
        snprintf(body, sizeof(body), "{\"subnet\":\"tiny\",\"name\":\"p%d\"}", i);
        tl_racer_set(&r[i], &sovd, "/v1/ports", acme.token[TL_MEMBER], body);
    }
    tl_race(r, N);
    for (int i = 0; i < N; i++) {
        ip[i] = json_string_value(json_object_get(json_object_get(r[i].json, "port"), "ip"));
        ck_assert_msg(r[i].status == 202 || r[i].status == 409, "request %d: %ld", i,
                      r[i].status);
        if (r[i].status == 409) {
            full++;
            continue;
        }
        ok++;
        ck_assert_ptr_nonnull(ip[i]);
        /* Never the network (.0), the gateway (.1) nor the broadcast (.7) address. */
        ck_assert_msg(strcmp(ip[i], "10.1.9.0") != 0 && strcmp(ip[i], "10.1.9.1") != 0 &&
                      strcmp(ip[i], "10.1.9.7") != 0, "handed out %s", ip[i]);
        for (int k = 0; k < i; k++)
            ck_assert_msg(r[k].status != 202 || strcmp(ip[k], ip[i]) != 0,
                          "requests %d and %d both got %s", k, i, ip[i]);
    }
    ck_assert_int_eq(ok, 5);
    ck_assert_int_eq(full, 15);
    ck_assert_int_eq(sql_num("SELECT count(DISTINCT ip) FROM ports"), 5);
    refused("POST", "/v1/ports", acme.token[TL_MEMBER], "{\"subnet\":\"tiny\"}", 409,
            "/problems/conflict", "subnet", "subnet 'tiny' (10.1.9.0/29) is full");
    tl_racers_free(r, N);
}
END_TEST

/* The lowest free address of a /16 holding thousands of ports is found in SQL, priced by
 * the subnet's ports, not by its size: a hole is found, then the end. */
START_TEST(lowest_free_address_of_a_busy_16_is_fast)
{
    enum { BULK = 5000 };
    char sub[40], ip[16];
    double t0, first, second;

    start(true);
    api_only();     /* no sync of 5000 ports into OVN meanwhile: the allocation alone */
    create_id("/v1/networks", "network", "{\"name\":\"big\",\"cidr\":\"10.5.0.0/16\"}", NULL);
    create_id("/v1/subnets", "subnet", "{\"name\":\"big\",\"network\":\"big\","
              "\"cidr\":\"10.5.0.0/16\"}", sub);
    /* BULK ports straight into the table: 10.5.0.2 onwards, with one hole at the 2500th. */
    free(tl_db_value(db, "INSERT INTO ports (id, tenant_id, workspace, name, network_id,"
                     " subnet_id, ip, mac, state) SELECT gen_random_uuid(), s.tenant_id,"
                     " 'default', 'bulk-' || g, s.network_id, s.id, '10.5.0.1'::inet + g,"
                     " format('02:00:00:%%s:%%s:%%s', lpad(to_hex((g >> 16) & 255), 2, '0'),"
                     " lpad(to_hex((g >> 8) & 255), 2, '0'), lpad(to_hex(g & 255), 2, '0'))"
                     "::macaddr, CASE WHEN g = 2500 THEN 'deleted' ELSE 'available' END"
                     " FROM subnets s, generate_series(1, %d) AS g WHERE s.id = '%s'"
                     " RETURNING 1", BULK, sub));
    free(tl_db_value(db, "ANALYZE ports"));
    t0 = tl_now();
    port_ip("big", ip, NULL);
    first = tl_now() - t0;
    ck_assert_str_eq(ip, "10.5.9.197");    /* 10.5.0.1 + 2500 */
    t0 = tl_now();
    port_ip("big", ip, NULL);
    second = tl_now() - t0;
    ck_assert_str_eq(ip, "10.5.19.138");   /* 10.5.0.1 + 5001 */
    fprintf(stderr, "port create on a /16 with %d ports: %.1f ms (a hole), %.1f ms (the end)\n",
            BULK, first * 1000, second * 1000);
    ck_assert_msg(first < 0.5 && second < 0.5, "too slow: %.3f s, %.3f s", first, second);
}
END_TEST

/* An instance of acme as a row (the port rules need no domain): name, its region's host,
 * state; its id into id. */
static void
make_instance(const char *name, const char *region, const char *state, char *id)
{
    static char flavor[40], image[40];
    char *v;

    if (!flavor[0]) {
        char body[256];
        json_t *j = tl_call_ok(&sovd, "POST", "/v1/flavors", op, "{\"name\":\"tiny\","
                               "\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":1}", 201);
        snprintf(flavor, sizeof(flavor), "%s", tl_str(j, "id"));
        json_decref(j);
        snprintf(body, sizeof(body), "{\"name\":\"img\",\"region\":\"" REGION "\","
                 "\"format\":\"qcow2\",\"tenant_id\":\"%s\"}", acme.id);
        j = tl_call_ok(&sovd, "POST", "/v1/images", op, body, 201);
        snprintf(image, sizeof(image), "%s", tl_str(j, "id"));
        json_decref(j);
    }
    v = tl_db_value(db, "INSERT INTO instances (id, tenant_id, workspace, name, flavor_id,"
                    " image_id, vcpus, memory_mib, disk_gib, gpus, region, zone, host_id, mac,"
                    " state) VALUES (gen_random_uuid(), '%s', 'default', '%s', '%s', '%s', 1,"
                    " 256, 1, 0, '%s', 'a', '%s', '52:54:00:00:00:01', '%s') RETURNING id",
                    acme.id, name, flavor, image, region,
                    strcmp(region, REGION) == 0 ? host_ids[0] : host_ids[1], state);
    snprintf(id, 40, "%s", v);
    free(v);
}

/* attach moves an available port to attaching with the instance and the next device index,
 * queueing port.attach; detach moves an in-use one to detaching; the rules in between. */
START_TEST(ports_attach_to_instances_of_their_region)
{
    char vm[40], far[40], gone[40], p1[40], p2[40], p3[40], p4[40], ip[16], ip2[16];
    char path[160];
    json_t *j, *p;

    start(true);
    api_only();
    make_instance("vm", REGION, "running", vm);
    make_instance("far", FAR, "running", far);
    make_instance("gone", REGION, "deleting", gone);
    create_id("/v1/networks", "network", "{\"name\":\"net1\",\"cidr\":\"10.1.0.0/16\"}", NULL);
    create_id("/v1/subnets", "subnet", "{\"name\":\"s1\",\"network\":\"net1\","
              "\"cidr\":\"10.1.1.0/24\"}", NULL);
    port_ip("s1", ip, p1);
    port_ip("s1", ip, p2);
    port_ip("s1", ip, p3);
    snprintf(path, sizeof(path), "/v1/ports/%s/actions", p1);
    /* A port still being made cannot be plugged. */
    conflict("POST", path, "{\"action\":\"attach\",\"instance\":\"vm\"}", "it is creating");
    mark_state("ports", p1, "available");
    mark_state("ports", p2, "available");
    mark_state("ports", p3, "available");
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER],
                   "{\"action\":\"attach\",\"instance\":\"vm\"}", 202);
    p = json_object_get(j, "port");
    ck_assert_str_eq(tl_str(p, "state"), "attaching");
    ck_assert_str_eq(tl_str(json_object_get(p, "instance"), "id"), vm);
    ck_assert_int_eq(tl_num(p, "device_index"), 0);
    ck_assert_str_eq(tl_str(json_object_get(j, "operation"), "kind"), "port.attach");
    json_decref(j);
    conflict("POST", path, "{\"action\":\"attach\",\"instance\":\"vm\"}", "plugged into");
    conflict("POST", path, "{\"action\":\"detach\"}", "it is attaching");
    snprintf(path, sizeof(path), "/v1/ports/%s", p1);
    conflict("DELETE", path, NULL, "detach it first");
    /* The next port takes the next index. */
    snprintf(path, sizeof(path), "/v1/ports/%s/actions", p2);
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER],
                   "{\"action\":\"attach\",\"instance\":\"vm\"}", 202);
    ck_assert_int_eq(tl_num(json_object_get(j, "port"), "device_index"), 1);
    json_decref(j);
    /* Another region, a deleting instance, another tenant's instance. */
    snprintf(path, sizeof(path), "/v1/ports/%s/actions", p3);
    conflict("POST", path, "{\"action\":\"attach\",\"instance\":\"far\"}",
             "only in its network's region");
    conflict("POST", path, "{\"action\":\"attach\",\"instance\":\"gone\"}",
             "the instance is deleting");
    refused("POST", path, globex.token[TL_MEMBER], "{\"action\":\"attach\",\"instance\":\"vm\"}",
            404, "/problems/not-found", NULL, NULL);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM ports WHERE id = '%s' AND instance_id IS NULL"
                             " AND state = 'available'", p3), 1);
    /* Once in use (the worker's part): detach, naming the instance or not. */
    mark_state("ports", p1, "in-use");
    snprintf(path, sizeof(path), "/v1/ports/%s/actions", p1);
    conflict("POST", path, "{\"action\":\"detach\",\"instance\":\"far\"}",
             "not plugged into instance 'far'");
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER],
                   "{\"action\":\"detach\",\"instance\":\"vm\"}", 202);
    ck_assert_str_eq(tl_str(json_object_get(j, "port"), "state"), "detaching");
    ck_assert_str_eq(tl_str(json_object_get(j, "operation"), "kind"), "port.detach");
    json_decref(j);
    /* A deleting port keeps its address until its worker has deleted it. */
    port_ip("s1", ip, p4);
    mark_state("ports", p4, "available");
    snprintf(path, sizeof(path), "/v1/ports/%s", p4);
    json_decref(tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202));
    port_ip("s1", ip2, NULL);
    ck_assert_str_ne(ip2, ip);
    /* The instance's ports, in device order. */
    snprintf(path, sizeof(path), "/v1/ports?instance=vm");
    j = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 2);
    json_decref(j);
    /* Security groups: the whole list replaced ([] none), "port.update". */
    snprintf(path, sizeof(path), "/v1/ports/%s/security-groups", p3);
    refused("PUT", path, acme.token[TL_MEMBER], "{\"security_groups\":[\"nope\"]}", 404,
            "/problems/not-found", NULL, "security group 'nope'");
    invalid("PUT", path, "{\"groups\":[]}", "groups", NULL);
    refused("PUT", path, acme.token[TL_READER], "{\"security_groups\":[]}", 403,
            "/problems/forbidden", NULL, NULL);
    j = tl_call_ok(&sovd, "PUT", path, acme.token[TL_MEMBER], "{\"security_groups\":[]}", 202);
    ck_assert_str_eq(tl_str(json_object_get(j, "port"), "state"), "updating");
    ck_assert_str_eq(tl_str(json_object_get(j, "operation"), "kind"), "port.update");
    json_decref(j);
}
END_TEST

START_TEST(quotas_bound_networks_subnets_and_ports)
{
    char path[128];
    long long before;

    start(true);
    snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", acme.id);
    json_decref(tl_call_ok(&sovd, "PUT", path, op,
                           "{\"networks\":1,\"subnets\":1,\"ports\":1}", 200));
    create_id("/v1/networks", "network", "{\"name\":\"net1\",\"cidr\":\"10.1.0.0/16\"}", NULL);
    create_id("/v1/subnets", "subnet", "{\"name\":\"s1\",\"network\":\"net1\","
              "\"cidr\":\"10.1.1.0/24\"}", NULL);
    create_id("/v1/ports", "port", "{\"subnet\":\"s1\"}", NULL);
    before = rows();
    refused("POST", "/v1/networks", acme.token[TL_MEMBER],
            "{\"name\":\"net2\",\"cidr\":\"10.2.0.0/16\"}", 403, "/problems/quota-exceeded",
            NULL, "networks");
    refused("POST", "/v1/subnets", acme.token[TL_MEMBER],
            "{\"name\":\"s2\",\"network\":\"net1\",\"cidr\":\"10.1.2.0/24\"}", 403,
            "/problems/quota-exceeded", NULL, "subnets");
    refused("POST", "/v1/ports", acme.token[TL_MEMBER], "{\"subnet\":\"s1\"}", 403,
            "/problems/quota-exceeded", NULL, "ports");
    ck_assert_int_eq(rows(), before);
    json_t *q = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_int_eq(tl_num(json_object_get(json_object_get(q, "quotas"), "ports"), "used"), 1);
    json_decref(q);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("network/networks");
    TCase *tc = tcase_create("networks");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, without_ovn_network_routes_answer_503);
    tcase_add_test(tc, networks_take_a_region_a_cidr_and_a_name);
    tcase_add_test(tc, subnets_lie_inside_their_network_and_never_overlap);
    tcase_add_test(tc, ports_take_free_host_addresses_of_their_subnet);
    tcase_add_test(tc, concurrent_port_creates_never_share_an_address);
    tcase_add_test(tc, lowest_free_address_of_a_busy_16_is_fast);
    tcase_add_test(tc, ports_attach_to_instances_of_their_region);
    tcase_add_test(tc, quotas_bound_networks_subnets_and_ports);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
