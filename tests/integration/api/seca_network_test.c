/* api/seca-network: SECA's network provider, part one (api/seca_networks.c, seca_subnets.c,
 * seca_route_tables.c) through a real sovd on a real PostgreSQL with its own OVN Northbound
 * (tl_ovn_start) and workers (the bed of network/sec_bed.c, with a host): network
 * SKUs (at least one, from network_skus), a network's lifecycle (created through our
 * network service, its SKU recorded, exact conditions, DELETE 202 then 404), an internet
 * gateway, a route table and a subnet whose default route gives the network our router (in
 * /v1 and in OVN) and takes it away again, the refusals (412 naming the member: bad cidr,
 * ipv6, additionalCidrs, a missing SKU, an unknown member, a subnet outside its network, a
 * missing route table, a bad zone, a route to nothing, a gateway in use), no public IP pool
 * (412 with the reason, nothing left), another tenant's paths (404), a network outside RFC
 * 1918 (412), and subnets made through /v1 (not served through SECA). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../network/ovn_bed.h"
#include "../network/sec_bed.h"
#include "seca_kit.h"
#include "sov/network.h"

#define NETP "/providers/seca.network/v1/tenants/acme"
#define WSP NETP "/workspaces/default"
#define WAIT_S 30

/* The bed (network/sec_bed.c) and a host, where networks go. */
static void
setup(void)
{
    bed_setup();
    bed_host("seca-node-1");
}

static void
pool(void)
{
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions/" REGION "/public-ip-pools", op,
                           "{\"name\":\"public\",\"cidr\":\"203.0.113.0/24\"}", 201));
}

/* The SECA kit's calls (seca_kit.h) on this suite's sovd. */
#define seca_refused(...) tl_seca_refused(&sovd, __VA_ARGS__)
#define conditions_are tl_seca_assert_conditions

/* GET path (as acme's reader) until status.state is want (or, want NULL, until 404): the
 * last body (NULL for 404). */
static json_t *
wait_state(const char *path, const char *want)
{
    if (!want) {
        tl_seca_wait_gone(&sovd, path, acme.token[TL_READER], WAIT_S);
        return NULL;
    }
    return tl_seca_wait_state(&sovd, path, acme.token[TL_READER], want, WAIT_S);
}

/* The router /v1 shows for the network named name of acme: "" none, else its state. */
static char *
router_state(const char *name)
{
    return tl_db_value(db, "SELECT coalesce((SELECT r.state FROM routers r JOIN networks n"
                       " ON n.id = r.network_id WHERE n.name = '%s' AND n.tenant_id = '%s'"
                       " AND r.state <> 'deleted' AND r.name LIKE 'seca-%%' LIMIT 1), '')",
                       name, acme.id);
}

static void
wait_router(const char *name, bool present)
{
    double end = tl_now() + 30;

    for (;;) {
        char *st = router_state(name);
        bool done = present ? strcmp(st, "available") == 0 : st[0] == '\0';
        free(st);
        if (done)
            return;
        ck_assert_msg(tl_now() < end, "network %s's router did not %s", name,
                      present ? "come" : "go");
        usleep(100 * 1000);
    }
}

/* Logical routers of OVN's Northbound named for our routers. */
static long
ovn_routers(void)
{
    int rc;
    char *out = tl_ovn_nbctl(&ovn, &rc, "%s", "--bare --columns=name list Logical_Router");
    long n = 0;

    ck_assert_msg(rc == 0, "ovn-nbctl: %s", out);
    for (char *p = strstr(out, "sov-rtr-"); p; p = strstr(p + 1, "sov-rtr-"))
        n++;
    free(out);
    return n;
}

/* A context on sovd's database as sovd's own action, for the services part netsec calls
 * (sov_network_inbound_allowed, sov_port_create with a SKU) in this process. */
typedef struct svc {
    sov_config cfg;
    sov_db *pool;
    sov_ctx ctx;
} svc;

static void
svc_open(svc *s)
{
    sov_db_options o = { .url = db, .pool_size = 1, .connect_timeout = 5,
                         .acquire_timeout_ms = 30000 };
    sov_error err = SOV_ERROR_INIT;

    memset(s, 0, sizeof(*s));
    ovn_bed_config(&s->cfg, &ovn);
    ck_assert_msg(sov_db_new(&o, &s->pool, &err) == 0, "%s", err.msg);
    s->ctx.db = s->pool;
    s->ctx.cfg = &s->cfg;
    s->ctx.request_id = "";
    s->ctx.source = "";
    s->ctx.action = "test";
}

static void
svc_close(svc *s)
{
    sov_db_free(s->pool);
    sov_config_release(&s->cfg);
}

/* Whether network name of acme takes inbound traffic (sov_network_inbound_allowed). */
static bool
inbound_allowed(const char *name)
{
    sov_error err = SOV_ERROR_INIT;
    svc s;
    char *id = tl_db_value(db, "SELECT id FROM networks WHERE name = '%s' AND tenant_id = '%s'"
                           " AND state <> 'deleted'", name, acme.id);
    bool ret = false;

    svc_open(&s);
    ck_assert_msg(sov_network_inbound_allowed(&s.ctx, acme.id, id, &ret, &err) == 0, "%s",
                  err.msg);
    svc_close(&s);
    free(id);
    return ret;
}

/* A port of subnet sub1 of acme: through /v1 (sku NULL), or as part netsec makes a SECA NIC
 * with its own SKU (sov_port_create_args.sku, in this process); its logical switch port's
 * options:qos_max_rate is want once its operation ran; then it is deleted. */
static void
port_rate_is(const char *name, const char *sku, const char *want)
{
    char id[40], op_id[40], path[80], body[128], *out;
    json_t *j;
    int rc;

    if (!sku) {
        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"subnet\":\"sub1\"}", name);
        j = tl_call_ok(&sovd, "POST", "/v1/ports", acme.token[TL_MEMBER], body, 202);
        snprintf(id, sizeof(id), "%s", tl_str(json_object_get(j, "port"), "id"));
        snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
        json_decref(j);
    } else {
        sov_error err = SOV_ERROR_INIT;
        sov_port_create_args a = { .workspace = "default", .name = name, .subnet = "sub1",
                                   .sku = "nope" };
        sov_port p;
        sov_op o;
        svc s;

        svc_open(&s);
        ck_assert_int_eq(sov_port_create(&s.ctx, acme.id, &a, &p, &o, &err), -1);
        ck_assert_str_eq(err.field, "sku");
        err = (sov_error) SOV_ERROR_INIT;
        a.sku = sku;
        ck_assert_msg(sov_port_create(&s.ctx, acme.id, &a, &p, &o, &err) == 0, "%s", err.msg);
        svc_close(&s);
        snprintf(id, sizeof(id), "%s", p.id);
        snprintf(op_id, sizeof(op_id), "%s", o.id);
        ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM ports WHERE id = '%s' AND"
                                   " sku = '%s'", id, sku), 1);
    }
    tl_op_wait_ok(&sovd, op, op_id, 30);
    out = tl_ovn_nbctl(&ovn, &rc, "get Logical_Switch_Port %s options:qos_max_rate", id);
    ck_assert_msg(rc == 0, "ovn-nbctl: %s", out);
    tl_assert_contains(out, want);
    free(out);
    snprintf(path, sizeof(path), "/v1/ports/%s", id);
    j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    tl_op_wait_ok(&sovd, op, tl_str(json_object_get(j, "operation"), "id"), 30);
    json_decref(j);
}

#define PROD_BODY                                                                        \
    "{\"labels\":{\"env\":\"prod\"},\"spec\":{\"cidr\":{\"ipv4\":\"10.1.0.0/16\"},"           \
    "\"skuRef\":{\"resource\":\"skus/seca.n5k\"}}}"
#define NET_BODY(cidr, sku)                                                              \
    "{\"labels\":{\"env\":\"conformance\"},\"spec\":{\"cidr\":{\"ipv4\":\"" cidr "\"},"   \
    "\"skuRef\":{\"resource\":\"skus/" sku "\"}}}"

/* SKUs: at least one, each with bandwidth and packets; one by name; an unknown one 404. */
START_TEST(network_skus_are_listed_and_read)
{
    json_t *list = tl_call_ok(&sovd, "GET", NETP "/skus", acme.token[TL_READER], NULL, 200);
    json_t *items = json_object_get(list, "items"), *k;

    ck_assert_uint_ge(json_array_size(items), 1);
    k = json_array_get(items, 0);
    ck_assert_int_gt(tl_num(json_object_get(k, "spec"), "bandwidth"), 0);
    ck_assert_int_gt(tl_num(json_object_get(k, "spec"), "packets"), 0);
    json_decref(list);
    k = tl_call_ok(&sovd, "GET", NETP "/skus/seca.n1k", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(tl_num(json_object_get(k, "spec"), "bandwidth"), 1000);
    ck_assert_str_eq(tl_str(json_object_get(k, "metadata"), "name"), "seca.n1k");
    json_decref(k);
    seca_refused("GET", NETP "/skus/nope", acme.token[TL_READER], NULL, 404, NULL, NULL);
}
END_TEST

/* A network: created through our service (row, SKU, residency), conditions exact, updated
 * with labels, its cidr and SKU fixed; refusals name the member; DELETE 202 then 404. */
START_TEST(network_lifecycle_and_refusals)
{
    const char *tok = acme.token[TL_MEMBER];
    json_t *n;

    seca_refused("PUT", WSP "/networks/net1", tok, NET_BODY("10.1.0.1/33", "seca.n1k"), 412,
                 "/spec/cidr/ipv4", NULL);
    seca_refused("PUT", WSP "/networks/net1", tok, NET_BODY("10.1.0.0/8", "seca.n1k"), 412,
                 "/spec/cidr/ipv4", NULL);
    seca_refused("PUT", WSP "/networks/net1", tok, NET_BODY("10.1.0.0/16", "nope"), 412,
                 "/spec/skuRef", NULL);
    seca_refused("PUT", WSP "/networks/net1", tok,
                 "{\"spec\":{\"cidr\":{\"ipv4\":\"10.1.0.0/16\",\"ipv6\":\"::/56\"},"
                 "\"skuRef\":{\"resource\":\"skus/seca.n1k\"}}}", 412, "/spec/cidr/ipv6",
                 NULL);
    seca_refused("PUT", WSP "/networks/net1", tok,
                 "{\"spec\":{\"cidr\":{\"ipv4\":\"10.1.0.0/16\"},\"additionalCidrs\":"
                 "[{\"ipv4\":\"10.2.0.0/16\"}],\"skuRef\":{\"resource\":\"skus/seca.n1k\"}}}",
                 412, "/spec/additionalCidrs", NULL);
    seca_refused("PUT", WSP "/networks/net1", tok,
                 "{\"spec\":{\"cidr\":{\"ipv4\":\"10.1.0.0/16\"},\"colour\":\"red\","
                 "\"skuRef\":{\"resource\":\"skus/seca.n1k\"}}}", 412, "/spec/colour", "colour");
    seca_refused("PUT", WSP "/networks/net1", tok,
                 "{\"spec\":{\"cidr\":{\"ipv4\":\"10.1.0.0/16\"}}}", 412, "/spec/skuRef", NULL);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM networks"), 0);

    n = tl_call_ok(&sovd, "PUT", WSP "/networks/net1", tok,
                   NET_BODY("10.1.0.0/16", "seca.n5k"), 201);
    ck_assert_str_eq(tl_str(json_object_get(n, "metadata"), "name"), "net1");
    ck_assert_str_eq(tl_str(json_object_get(n, "metadata"), "region"), REGION);
    ck_assert_str_eq(tl_str(json_object_get(n, "labels"), "env"), "conformance");
    json_decref(n);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM networks WHERE name = 'net1' AND"
                               " sku = 'seca.n5k' AND cidr = '10.1.0.0/16'"), 1);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM residency_records WHERE"
                               " resource_type = 'network'"), 1);
    n = wait_state(WSP "/networks/net1", "active");
    conditions_are(n, "active,creating,pending");
    ck_assert_str_eq(tl_str(json_object_get(json_object_get(n, "status"), "cidr"), "ipv4"),
                     "10.1.0.0/16");
    ck_assert_str_eq(tl_str(json_object_get(json_object_get(n, "status"), "residency"),
                            "region"), REGION);
    json_decref(n);

    /* An update: labels change; the cidr and the SKU cannot. */
    n = tl_call_ok(&sovd, "PUT", WSP "/networks/net1", tok,
                   "{\"labels\":{\"env\":\"prod\"},\"spec\":{\"cidr\":{\"ipv4\":"
                   "\"10.1.0.0/16\"},\"skuRef\":{\"resource\":\"skus/seca.n5k\"}}}", 200);
    ck_assert_str_eq(tl_str(json_object_get(n, "labels"), "env"), "prod");
    conditions_are(n, "active,updating,active,creating,pending");
    json_decref(n);
    seca_refused("PUT", WSP "/networks/net1", tok, NET_BODY("10.9.0.0/16", "seca.n5k"), 412,
                 "/spec/cidr/ipv4", NULL);
    /* if-unmodified-since: the version it is (2) passes, a stale one (1) is refused. */
    {
        const char *stale[] = { "if-unmodified-since: 1", NULL };
        const char *fresh[] = { "if-unmodified-since: 2", NULL };
        tl_resp r;

        tl_call_h(&sovd, "PUT", WSP "/networks/net1", tok, PROD_BODY, stale, &r);
        ck_assert_int_eq(r.status, 412);
        tl_resp_free(&r);
        tl_call_h(&sovd, "PUT", WSP "/networks/net1", tok, PROD_BODY, fresh, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_int_eq(tl_num(json_object_get(r.json, "metadata"), "resourceVersion"), 3);
        tl_resp_free(&r);
    }
    seca_refused("PUT", WSP "/networks/net1", tok, NET_BODY("10.1.0.0/16", "seca.n1k"), 412,
                 "/spec/skuRef", NULL);

    /* The list, and another tenant's paths. */
    n = tl_call_ok(&sovd, "GET", WSP "/networks", acme.token[TL_READER], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(n, "items")), 1);
    json_decref(n);
    n = tl_call_ok(&sovd, "GET", WSP "/networks?labels=env=prod&limit=1",
                   acme.token[TL_READER], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(n, "items")), 1);
    json_decref(n);
    n = tl_call_ok(&sovd, "GET", WSP "/networks?labels=env=conformance",
                   acme.token[TL_READER], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(n, "items")), 0);
    json_decref(n);
    seca_refused("GET", WSP "/networks/net1", globex.token[TL_ADMIN], NULL, 404, NULL, NULL);
    seca_refused("DELETE", WSP "/networks/net1", globex.token[TL_ADMIN], NULL, 404, NULL,
                 NULL);
    seca_refused("GET", WSP "/networks/nope", acme.token[TL_READER], NULL, 404, NULL, NULL);

    json_decref(tl_call_ok(&sovd, "DELETE", WSP "/networks/net1", tok, NULL, 202));
    wait_state(WSP "/networks/net1", NULL);
}
END_TEST

#define RT_BODY(gw)                                                                      \
    "{\"spec\":{\"routes\":[{\"destinationCidrBlock\":\"0.0.0.0/0\",\"targetRef\":"      \
    "{\"resource\":\"internet-gateways/" gw "\"}}]}}"
#define SUB_BODY(cidr, zone, rt)                                                         \
    "{\"spec\":{\"cidr\":{\"ipv4\":\"" cidr "\"},\"zone\":\"" zone "\",\"routeTableRef\":" \
    "{\"resource\":\"route-tables/" rt "\"}}}"
#define RTP WSP "/networks/net1/route-tables"
#define SUBP WSP "/networks/net1/subnets"

/* network -> internet gateway -> route table -> subnet: the router appears (in /v1 and in
 * OVN) once a subnet uses the default route, and goes with it; then everything is deleted
 * in the SECA order, each DELETE 202 and then 404. */
START_TEST(gateway_route_table_and_subnet_make_the_router)
{
    const char *tok = acme.token[TL_MEMBER];
    json_t *j;

    pool();
    json_decref(tl_call_ok(&sovd, "PUT", WSP "/networks/net1", tok,
                           NET_BODY("10.1.0.0/16", "seca.n1k"), 201));
    json_decref(wait_state(WSP "/networks/net1", "active"));

    seca_refused("PUT", WSP "/internet-gateways/igw1", tok,
                 "{\"spec\":{\"egressOnly\":\"yes\"}}", 412, "/spec/egressOnly", NULL);
    j = tl_call_ok(&sovd, "PUT", WSP "/internet-gateways/igw1", tok,
                   "{\"spec\":{\"egressOnly\":true}}", 201);
    ck_assert(json_is_true(json_object_get(json_object_get(j, "spec"), "egressOnly")));
    conditions_are(j, "active,creating,pending");
    json_decref(j);

    /* Route tables: a bad destination, a target that does not exist, no routes. */
    seca_refused("PUT", RTP "/rt1", tok,
                 "{\"spec\":{\"routes\":[{\"destinationCidrBlock\":\"300.0.0.0/0\","
                 "\"targetRef\":{\"resource\":\"internet-gateways/igw1\"}}]}}", 412,
                 "/spec/routes/0/destinationCidrBlock", NULL);
    seca_refused("PUT", RTP "/rt1", tok, RT_BODY("nope"), 412, "/spec/routes/0/targetRef",
                 NULL);
    seca_refused("PUT", RTP "/rt1", tok, "{\"spec\":{\"routes\":[]}}", 412, "/spec/routes",
                 NULL);
    seca_refused("PUT", WSP "/networks/nope/route-tables/rt1", tok, RT_BODY("igw1"), 404,
                 NULL, NULL);
    j = tl_call_ok(&sovd, "PUT", RTP "/rt1", tok, RT_BODY("igw1"), 201);
    ck_assert_str_eq(tl_str(json_object_get(j, "metadata"), "kind"), "routing-table");
    json_decref(j);
    /* No subnet uses it yet: no router. */
    wait_router("net1", false);

    /* Subnets: outside the network, a missing route table, a bad zone, an unknown member. */
    seca_refused("PUT", SUBP "/sub1", tok, SUB_BODY("10.9.1.0/24", "a", "rt1"), 412,
                 "/spec/cidr/ipv4", NULL);
    seca_refused("PUT", SUBP "/sub1", tok, SUB_BODY("10.1.1.0/24", "a", "nope"), 412,
                 "/spec/routeTableRef", NULL);
    seca_refused("PUT", SUBP "/sub1", tok, SUB_BODY("10.1.1.0/24", "zz", "rt1"), 412,
                 "/spec/zone", NULL);
    seca_refused("PUT", SUBP "/sub1", tok,
                 "{\"spec\":{\"cidr\":{\"ipv4\":\"10.1.1.0/24\"},\"zone\":\"a\","
                 "\"routeTableRef\":{\"resource\":\"route-tables/rt1\"},\"vlan\":3}}", 412,
                 "/spec/vlan", "vlan");
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM subnets"), 0);

    j = tl_call_ok(&sovd, "PUT", SUBP "/sub1", tok, SUB_BODY("10.1.1.0/24", "a", "rt1"), 201);
    ck_assert_str_eq(tl_str(json_object_get(j, "spec"), "zone"), "a");
    json_decref(j);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM subnets WHERE name = 'sub1' AND"
                               " route_table = 'rt1'"), 1);
    j = wait_state(SUBP "/sub1", "active");
    conditions_are(j, "active,creating,pending");
    {
        char *st = json_dumps(json_object_get(j, "status"), 0);
        tl_assert_contains(st, "route-tables/rt1");
        free(st);
    }
    json_decref(j);
    wait_router("net1", true);
    ck_assert_int_eq(ovn_routers(), 1);

    /* A port of the subnet carries the network's SKU as its OVN rate (seca.n1k: 1 Gbit/s);
     * a NIC's own SKU wins over it. */
    port_rate_is("p1", NULL, "1000000000");
    port_rate_is("p2", "seca.n10k", "10000000000");

    /* Only an egress-only gateway serves it: nothing comes in; a gateway that is not
     * egress-only lets public IPs' traffic in. */
    ck_assert(!inbound_allowed("net1"));
    j = tl_call_ok(&sovd, "PUT", WSP "/internet-gateways/igw1", tok,
                   "{\"spec\":{\"egressOnly\":false}}", 200);
    conditions_are(j, "active,updating,active,creating,pending");
    json_decref(j);
    ck_assert(inbound_allowed("net1"));

    /* Another tenant sees none of it. */
    seca_refused("GET", SUBP "/sub1", globex.token[TL_ADMIN], NULL, 404, NULL, NULL);
    seca_refused("GET", RTP "/rt1", globex.token[TL_ADMIN], NULL, 404, NULL, NULL);
    seca_refused("GET", WSP "/internet-gateways/igw1", globex.token[TL_ADMIN], NULL, 404,
                 NULL, NULL);
    seca_refused("DELETE", RTP "/rt1", globex.token[TL_ADMIN], NULL, 404, NULL, NULL);

    /* A table a subnet uses cannot go; the subnet may change tables: to one without a
     * default route (the router goes), and back (it comes again). */
    seca_refused("DELETE", RTP "/rt1", tok, NULL, 412, NULL, "sub1");
    json_decref(tl_call_ok(&sovd, "PUT", RTP "/rt2", tok,
                           "{\"spec\":{\"routes\":[{\"destinationCidrBlock\":\"10.0.0.0/8\","
                           "\"targetRef\":{\"resource\":\"internet-gateways/igw1\"}}]}}", 201));
    j = tl_call_ok(&sovd, "PUT", SUBP "/sub1", tok, SUB_BODY("10.1.1.0/24", "a", "rt2"), 200);
    {
        char *st = json_dumps(json_object_get(j, "status"), 0);
        tl_assert_contains(st, "route-tables/rt2");
        free(st);
    }
    json_decref(j);
    wait_router("net1", false);
    seca_refused("PUT", SUBP "/sub1", tok, SUB_BODY("10.1.2.0/24", "a", "rt1"), 412,
                 "/spec/cidr/ipv4", NULL);
    json_decref(tl_call_ok(&sovd, "PUT", SUBP "/sub1", tok, SUB_BODY("10.1.1.0/24", "a", "rt1"),
                           200));
    wait_router("net1", true);
    json_decref(tl_call_ok(&sovd, "DELETE", RTP "/rt2", tok, NULL, 202));
    wait_state(RTP "/rt2", NULL);

    /* Lists of each kind; the network cannot go while its subnet is there. */
    j = tl_call_ok(&sovd, "GET", SUBP, acme.token[TL_READER], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", RTP "?limit=1", acme.token[TL_READER], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", WSP "/internet-gateways", acme.token[TL_READER], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
    seca_refused("DELETE", WSP "/networks/net1", tok, NULL, 412, NULL, "sub1");

    /* The gateway is in use: it cannot go. */
    seca_refused("DELETE", WSP "/internet-gateways/igw1", tok, NULL, 412, NULL, "rt1");

    /* Everything goes, in the FoundationProviders order. */
    json_decref(tl_call_ok(&sovd, "DELETE", SUBP "/sub1", tok, NULL, 202));
    wait_state(SUBP "/sub1", NULL);
    json_decref(tl_call_ok(&sovd, "DELETE", RTP "/rt1", tok, NULL, 202));
    wait_state(RTP "/rt1", NULL);
    wait_router("net1", false);
    json_decref(tl_call_ok(&sovd, "DELETE", WSP "/internet-gateways/igw1", tok, NULL, 202));
    wait_state(WSP "/internet-gateways/igw1", NULL);
    json_decref(tl_call_ok(&sovd, "DELETE", WSP "/networks/net1", tok, NULL, 202));
    wait_state(WSP "/networks/net1", NULL);
    ck_assert_int_eq(ovn_routers(), 0);
}
END_TEST

/* A default route to a gateway with no public IP pool in the region: the subnet that
 * would need the router is refused (412 with the reason) and does not stay. */
/* POST a /v1 create (202) and wait for its operation to succeed. */
static void
v1_made(const char *path, const char *body)
{
    json_t *j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], body, 202);
    char op_id[40];

    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, op, op_id, 30);
}

/* SECA's NetworkSpec keeps a network's cidr in RFC 1918's space: any other (public, just
 * outside a block, wider than one) is 412 naming /spec/cidr/ipv4 and makes nothing; the
 * blocks' edges are accepted. /v1 keeps its own rule (any IPv4 network): such a network
 * made there is served through SECA as it is. */
START_TEST(seca_networks_lie_in_rfc1918)
{
    const char *tok = acme.token[TL_MEMBER];
    json_t *j;

    seca_refused("PUT", WSP "/networks/pub", tok, NET_BODY("8.8.0.0/16", "seca.n1k"), 412,
                 "/spec/cidr/ipv4", "RFC 1918");
    seca_refused("PUT", WSP "/networks/pub", tok, NET_BODY("172.32.0.0/16", "seca.n1k"), 412,
                 "/spec/cidr/ipv4", "RFC 1918");
    seca_refused("PUT", WSP "/networks/pub", tok, NET_BODY("192.168.0.0/15", "seca.n1k"), 412,
                 "/spec/cidr/ipv4", "RFC 1918");
    seca_refused("PUT", WSP "/networks/pub", tok, NET_BODY("0.0.0.0/16", "seca.n1k"), 412,
                 "/spec/cidr/ipv4", "RFC 1918");
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM networks"), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM resource_meta"), 0);
    json_decref(tl_call_ok(&sovd, "PUT", WSP "/networks/edge172", tok,
                           NET_BODY("172.31.0.0/16", "seca.n1k"), 201));
    json_decref(tl_call_ok(&sovd, "PUT", WSP "/networks/edge192", tok,
                           NET_BODY("192.168.0.0/16", "seca.n1k"), 201));

    v1_made("/v1/networks", "{\"name\":\"v1pub\",\"cidr\":\"198.51.100.0/24\"}");
    j = tl_call_ok(&sovd, "GET", WSP "/networks/v1pub", acme.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(json_object_get(json_object_get(j, "spec"), "cidr"), "ipv4"),
                     "198.51.100.0/24");
    json_decref(j);
}
END_TEST

/* A subnet made through /v1 has no route table and spans its region's zones: nothing true
 * fills SECA's required routeTableRef and zone, so it is not served through SECA: absent
 * from the list (beside a SECA subnet of the same network, which is there), 404 by name
 * for GET and DELETE (the subnet stays), and its name is taken for a SECA PUT (412). Its
 * network (made through /v1 too) is served, with the default SKU it is sized by. */
START_TEST(v1_subnets_are_not_served_through_seca)
{
    const char *tok = acme.token[TL_MEMBER];
    json_t *j, *items;

    v1_made("/v1/networks", "{\"name\":\"net1\",\"cidr\":\"10.1.0.0/16\"}");
    v1_made("/v1/subnets", "{\"name\":\"v1sub\",\"network\":\"net1\",\"cidr\":"
            "\"10.1.1.0/24\"}");

    j = tl_call_ok(&sovd, "GET", WSP "/networks/net1", acme.token[TL_READER], NULL, 200);
    tl_assert_contains(tl_str(json_object_get(json_object_get(j, "spec"), "skuRef"),
                              "resource"), "skus/" SOV_NETWORK_SKU_DEFAULT);
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", SUBP, acme.token[TL_READER], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 0);
    json_decref(j);
    seca_refused("GET", SUBP "/v1sub", acme.token[TL_READER], NULL, 404, NULL, "/v1");
    seca_refused("DELETE", SUBP "/v1sub", tok, NULL, 404, NULL, NULL);

    /* A SECA subnet beside it: a route table that sends nothing to the internet. */
    json_decref(tl_call_ok(&sovd, "PUT", WSP "/internet-gateways/gw1", tok,
                           "{\"spec\":{}}", 201));
    json_decref(tl_call_ok(&sovd, "PUT", RTP "/rt1", tok,
                           "{\"spec\":{\"routes\":[{\"destinationCidrBlock\":"
                           "\"192.168.0.0/16\",\"targetRef\":{\"resource\":"
                           "\"internet-gateways/gw1\"}}]}}", 201));
    seca_refused("PUT", SUBP "/v1sub", tok, SUB_BODY("10.1.1.0/24", "a", "rt1"), 412, NULL,
                 NULL);
    json_decref(tl_call_ok(&sovd, "PUT", SUBP "/sub2", tok,
                           SUB_BODY("10.1.2.0/24", "a", "rt1"), 201));
    j = tl_call_ok(&sovd, "GET", SUBP, acme.token[TL_READER], NULL, 200);
    items = json_object_get(j, "items");
    ck_assert_uint_eq(json_array_size(items), 1);
    ck_assert_str_eq(tl_str(json_object_get(json_array_get(items, 0), "metadata"), "name"),
                     "sub2");
    ck_assert_str_eq(tl_str(json_object_get(json_array_get(items, 0), "spec"), "zone"), "a");
    json_decref(j);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM subnets WHERE name = 'v1sub' AND"
                               " state <> 'deleted' AND route_table IS NULL"), 1);
}
END_TEST

START_TEST(no_public_ip_pool_is_a_refusal)
{
    const char *tok = acme.token[TL_MEMBER];

    json_decref(tl_call_ok(&sovd, "PUT", WSP "/networks/net1", tok,
                           NET_BODY("10.1.0.0/16", "seca.n1k"), 201));
    json_decref(wait_state(WSP "/networks/net1", "active"));
    json_decref(tl_call_ok(&sovd, "PUT", WSP "/internet-gateways/igw1", tok,
                           "{\"spec\":{}}", 201));
    json_decref(tl_call_ok(&sovd, "PUT", RTP "/rt1", tok, RT_BODY("igw1"), 201));
    seca_refused("PUT", SUBP "/sub1", tok, SUB_BODY("10.1.1.0/24", "a", "rt1"), 412, NULL,
                 "public IP pool");
    wait_state(SUBP "/sub1", NULL);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM routers"), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/seca-network");
    TCase *tc = tcase_create("seca-network");

    tcase_add_checked_fixture(tc, setup, bed_teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, network_skus_are_listed_and_read);
    tcase_add_test(tc, network_lifecycle_and_refusals);
    tcase_add_test(tc, gateway_route_table_and_subnet_make_the_router);
    tcase_add_test(tc, no_public_ip_pool_is_a_refusal);
    tcase_add_test(tc, seca_networks_lie_in_rfc1918);
    tcase_add_test(tc, v1_subnets_are_not_served_through_seca);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
