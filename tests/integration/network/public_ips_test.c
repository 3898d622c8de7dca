/* network/public-ips: public IP pools (operators), public IPs and routers (internet
 * gateways) through sovd's API, with a real OVN Northbound as ovn_nb: pool checks naming the
 * field, operator only, overlap; a public IP outside the residency policy refused with
 * nothing written; the lowest free address, two tenants never sharing one, exhaustion 409;
 * routers one per network and needing a pool; attach refused without a router; deletes
 * refused while addresses are held or attached. Networks and ports are part "net"'s: their
 * rows are written straight into the database (sec_bed.c). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec_bed.h"

#define POOLS "/v1/regions/" REGION "/public-ip-pools"
#define US_REGION "us-sec-1"

static long long
ips_in_db(void)
{
    return tl_db_num(db, "SELECT count(*) FROM public_ips");
}

static void
pool(const char *body)
{
    json_decref(tl_call_ok(&sovd, "POST", POOLS, op, body, 201));
}

/* A public IP made by t: the 202's public_ip (a new reference); its operation waited for
 * (available once it succeeded). */
static json_t *
ip_create(const tl_tenant *t, const char *body, char *id)
{
    char op_id[40];
    json_t *ip = bed_accepted("/v1/public-ips", t->token[TL_MEMBER], body, "public_ip", op_id);

    ck_assert_str_eq(tl_str(ip, "state"), "creating");
    if (id)
        snprintf(id, 40, "%s", tl_str(ip, "id"));
    bed_op_ok(op_id);
    return ip;
}

/* The state of public IP or router id is want. */
static void
state_is(const char *table, const char *id, const char *want)
{
    char *st = bed_state(table, id);

    ck_assert_str_eq(st, want);
    free(st);
}

/* A 202 of method on path by token: its operation waited for; the answer's member. */
static json_t *
accepted_done(const char *method, const char *path, const char *token, const char *body,
              const char *member, const char *kind)
{
    json_t *j = tl_call_ok(&sovd, method, path, token, body, 202);
    json_t *m = json_incref(json_object_get(j, member));

    ck_assert_str_eq(tl_str(json_object_get(j, "operation"), "kind"), kind);
    bed_op_ok(tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    return m;
}

/* Pools: operators only; each member checked, naming it; overlap in a region is 409. */
START_TEST(pools_are_checked_and_the_operators)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        { "{\"name\":\"p\",\"cidr\":\"203.0.113.0/31\"}", "cidr" },
        { "{\"name\":\"p\",\"cidr\":\"10.0.0.0/7\"}", "cidr" },
        { "{\"name\":\"p\",\"cidr\":\"203.0.113.1/24\"}", "cidr" },
        { "{\"name\":\"p\",\"cidr\":\"nonsense\"}", "cidr" },
        { "{\"name\":\"p\",\"cidr\":\"203.0.113.0/24\",\"gateway\":\"198.51.100.1\"}",
          "gateway" },
        { "{\"name\":\"p\",\"cidr\":\"203.0.113.0/24\",\"gateway\":\"203.0.113.0\"}",
          "gateway" },
        { "{\"name\":\"p\",\"cidr\":\"203.0.113.0/24\",\"gateway\":\"203.0.113.20\","
          "\"first_ip\":\"203.0.113.10\",\"last_ip\":\"203.0.113.30\"}", "gateway" },
        { "{\"name\":\"p\",\"cidr\":\"203.0.113.0/24\",\"first_ip\":\"203.0.114.10\"}",
          "first_ip" },
        { "{\"name\":\"p\",\"cidr\":\"203.0.113.0/24\",\"last_ip\":\"203.0.113.255\"}",
          "last_ip" },
        { "{\"name\":\"p\",\"cidr\":\"203.0.113.0/24\",\"first_ip\":\"203.0.113.50\","
          "\"last_ip\":\"203.0.113.40\"}", "first_ip" },
        { "{\"name\":\"Bad Name\",\"cidr\":\"203.0.113.0/24\"}", "name" },
        { "{\"name\":\"p\"}", "cidr" },
    };
    json_t *p, *list;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        bed_refused("POST", POOLS, op, bad[i].body, 400, "/problems/invalid-request",
                    bad[i].field, NULL);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM public_ip_pools"), 0);
    bed_refused("POST", POOLS, acme.token[TL_ADMIN], "{\"name\":\"p\",\"cidr\":"
                "\"203.0.113.0/24\"}", 403, "/problems/forbidden", NULL, NULL);
    bed_refused("GET", POOLS, acme.token[TL_ADMIN], NULL, 403, "/problems/forbidden", NULL,
                NULL);
    bed_refused("POST", "/v1/regions/nowhere-1/public-ip-pools", op, "{\"name\":\"p\","
                "\"cidr\":\"203.0.113.0/24\"}", 404, "/problems/not-found", NULL, NULL);

    /* Defaults: the gateway the first host, the range after it to the last host. */
    p = tl_call_ok(&sovd, "POST", POOLS, op, "{\"name\":\"public\",\"cidr\":"
                   "\"203.0.113.0/24\"}", 201);
    ck_assert_str_eq(tl_str(p, "gateway"), "203.0.113.1");
    ck_assert_str_eq(tl_str(p, "first_ip"), "203.0.113.2");
    ck_assert_str_eq(tl_str(p, "last_ip"), "203.0.113.254");
    ck_assert_str_eq(tl_str(p, "physical_network"), "public");
    ck_assert_int_eq(tl_num(p, "total"), 253);
    ck_assert_int_eq(tl_num(p, "used"), 0);
    json_decref(p);
    bed_refused("POST", POOLS, op, "{\"name\":\"other\",\"cidr\":\"203.0.113.128/25\"}", 409,
                "/problems/conflict", "cidr", "public");
    bed_refused("POST", POOLS, op, "{\"name\":\"public\",\"cidr\":\"198.51.100.0/24\"}", 409,
                "/problems/conflict", "name", NULL);
    p = tl_call_ok(&sovd, "GET", POOLS "/public", op, NULL, 200);
    ck_assert_str_eq(tl_str(p, "cidr"), "203.0.113.0/24");
    json_decref(p);
    list = tl_call_ok(&sovd, "GET", POOLS, op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM audit_log WHERE resource_type ="
                               " 'public_ip_pool'"), 1);

    /* Gone once nothing holds an address of it. */
    json_decref(tl_call_ok(&sovd, "DELETE", POOLS "/public", op, NULL, 204));
    bed_refused("GET", POOLS "/public", op, NULL, 404, "/problems/not-found", NULL, NULL);
}
END_TEST

/* A region outside the tenant's policy: refused naming region, nothing written. */
START_TEST(region_outside_the_policy_is_refused)
{
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" US_REGION "\",\"name\":\"Sec US\",\"country\":\"US\","
                           "\"datacenter\":\"dc-us\",\"zones\":[\"a\"]}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions/" US_REGION "/public-ip-pools", op,
                           "{\"name\":\"us\",\"cidr\":\"198.51.100.0/24\"}", 201));
    bed_refused("POST", "/v1/public-ips", acme.token[TL_MEMBER], "{\"name\":\"ip\",\"region\":"
                "\"" US_REGION "\"}", 409, "/problems/residency-policy", "region",
                US_REGION);
    ck_assert_int_eq(ips_in_db(), 0);
    ck_assert_int_eq(bed_quota_used(&acme, "public_ips"), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM residency_records WHERE"
                               " resource_type = 'public_ip'"), 0);
    /* No region named: the EU region has no pool, the US one is not allowed. */
    bed_refused("POST", "/v1/public-ips", acme.token[TL_MEMBER], "{\"name\":\"ip\"}", 409,
                "/problems/conflict", "region", NULL);
    bed_refused("POST", "/v1/public-ips", acme.token[TL_MEMBER], "{\"name\":\"ip\",\"region\":"
                "\"nowhere-1\"}", 400, "/problems/invalid-request", "region", NULL);
    ck_assert_int_eq(ips_in_db(), 0);
}
END_TEST

/* The lowest free address, one per tenant's IP, never one address twice; none left: 409
 * naming the region. A public IP has its residency. */
START_TEST(addresses_lowest_free_never_shared_and_exhausted)
{
    char ids[4][40], path[128];
    const char *want[] = { "203.0.113.10", "203.0.113.11", "203.0.113.12" };
    json_t *ip, *rec;

    pool("{\"name\":\"small\",\"cidr\":\"203.0.113.0/24\",\"first_ip\":\"203.0.113.10\","
         "\"last_ip\":\"203.0.113.12\"}");
    ip = ip_create(&acme, "{\"name\":\"a1\"}", ids[0]);
    ck_assert_str_eq(tl_str(ip, "address"), want[0]);
    ck_assert_str_eq(tl_str(ip, "region"), REGION);
    state_is("public_ips", ids[0], "available");
    ck_assert_str_eq(tl_str(json_object_get(ip, "residency"), "country"), "FR");
    json_decref(ip);
    ip = ip_create(&globex, "{\"name\":\"g1\",\"region\":\"" REGION "\"}", ids[1]);
    ck_assert_str_eq(tl_str(ip, "address"), want[1]);
    json_decref(ip);
    ip = ip_create(&acme, "{\"name\":\"a2\"}", ids[2]);
    ck_assert_str_eq(tl_str(ip, "address"), want[2]);
    json_decref(ip);
    bed_refused("POST", "/v1/public-ips", globex.token[TL_MEMBER], "{\"name\":\"g2\"}", 409,
                "/problems/conflict", "region", "no public address is free");
    ck_assert_int_eq(tl_db_num(db, "SELECT count(DISTINCT address) FROM public_ips"), 3);
    ck_assert_int_eq(bed_quota_used(&acme, "public_ips"), 2);
    ck_assert_int_eq(bed_quota_used(&globex, "public_ips"), 1);

    /* globex does not see acme's; acme lists its two. */
    snprintf(path, sizeof(path), "/v1/public-ips/%s", ids[0]);
    bed_refused("GET", path, globex.token[TL_ADMIN], NULL, 404, "/problems/not-found", NULL,
                NULL);
    ip = tl_call_ok(&sovd, "GET", "/v1/public-ips", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(ip, "items")), 2);
    json_decref(ip);
    ip = tl_call_ok(&sovd, "GET", "/v1/public-ips/a1", acme.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(ip, "id"), ids[0]);
    json_decref(ip);

    snprintf(path, sizeof(path), "/v1/public-ips/%s/residency", ids[0]);
    ip = tl_call_ok(&sovd, "GET", path, acme.token[TL_AUDITOR], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(ip, "items")), 1);
    rec = json_array_get(json_object_get(ip, "items"), 0);
    ck_assert_str_eq(tl_str(rec, "event"), "placed");
    ck_assert_str_eq(tl_str(json_object_get(rec, "to"), "region"), REGION);
    json_decref(ip);
    bed_refused("GET", path, globex.token[TL_AUDITOR], NULL, 404, "/problems/not-found", NULL,
                NULL);

    /* The pool cannot go while its addresses are held; it counts them. */
    ip = tl_call_ok(&sovd, "GET", POOLS "/small", op, NULL, 200);
    ck_assert_int_eq(tl_num(ip, "used"), 3);
    ck_assert_int_eq(tl_num(ip, "total"), 3);
    json_decref(ip);
    bed_refused("DELETE", POOLS "/small", op, NULL, 409, "/problems/conflict", NULL, "a1");

    /* A deleted address is free again, its quota given back. */
    snprintf(path, sizeof(path), "/v1/public-ips/%s", ids[1]);
    bed_refused("DELETE", path, acme.token[TL_ADMIN], NULL, 404, "/problems/not-found", NULL,
                NULL);
    json_decref(accepted_done("DELETE", path, globex.token[TL_MEMBER], NULL, "public_ip",
                              "public_ip.delete"));
    state_is("public_ips", ids[1], "deleted");
    ck_assert_int_eq(bed_quota_used(&globex, "public_ips"), 0);
    bed_refused("GET", path, globex.token[TL_READER], NULL, 404, "/problems/not-found", NULL,
                NULL);
    ip = ip_create(&globex, "{\"name\":\"g3\"}", ids[3]);
    ck_assert_str_eq(tl_str(ip, "address"), want[1]);
    json_decref(ip);
}
END_TEST

/* ---- two tenants at once ---- */

/* 16 creates at once, half acme's, half globex's, on a pool of 5 addresses: 5 get one each,
 * never the same, the others 409 naming the region. */
START_TEST(concurrent_creates_never_share_an_address)
{
    enum { N = 16 };
    tl_racer *r = calloc(N, sizeof(*r));
    const char *address[N];
    int ok = 0, full = 0;

    pool("{\"name\":\"tiny\",\"cidr\":\"203.0.113.0/29\",\"first_ip\":\"203.0.113.2\","
         "\"last_ip\":\"203.0.113.6\"}");
    for (int i = 0; i < N; i++) {
        const tl_tenant *t = i % 2 ? &globex : &acme;
        char body[64];
        snprintf(body, sizeof(body), "{\"name\":\"ip%d\"}", i);
        tl_racer_set(&r[i], &sovd, "/v1/public-ips", t->token[TL_MEMBER], body);
    }
    tl_race(r, N);
    for (int i = 0; i < N; i++) {
        address[i] = json_string_value(json_object_get(json_object_get(r[i].json, "public_ip"),
                                                       "address"));
        ck_assert_msg(r[i].status == 202 || r[i].status == 409, "request %d: %ld", i,
                      r[i].status);
        if (r[i].status == 409) {
            full++;
            continue;
        }
        ok++;
        ck_assert_ptr_nonnull(address[i]);
        for (int k = 0; k < i; k++)
            ck_assert_msg(r[k].status != 202 || strcmp(address[k], address[i]) != 0,
                          "requests %d and %d both got %s", k, i, address[i]);
    }
    ck_assert_int_eq(ok, 5);
    ck_assert_int_eq(full, N - 5);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(DISTINCT address) FROM public_ips"), 5);
    ck_assert_int_eq(bed_quota_used(&acme, "public_ips") + bed_quota_used(&globex,
                                                                          "public_ips"), 5);
    tl_racers_free(r, N);
}
END_TEST

START_TEST(quota_and_names)
{
    pool("{\"name\":\"public\",\"cidr\":\"203.0.113.0/24\"}");
    bed_quota_set(&acme, "public_ips", 1);
    json_decref(ip_create(&acme, "{\"name\":\"a1\"}", NULL));
    bed_refused("POST", "/v1/public-ips", acme.token[TL_MEMBER], "{\"name\":\"a2\"}", 403,
                "/problems/quota-exceeded", NULL, "public_ips");
    bed_quota_set(&acme, "public_ips", 5);
    bed_refused("POST", "/v1/public-ips", acme.token[TL_MEMBER], "{\"name\":\"a1\"}", 409,
                "/problems/conflict", "name", NULL);
    bed_refused("POST", "/v1/public-ips", acme.token[TL_READER], "{\"name\":\"a3\"}", 403,
                "/problems/forbidden", NULL, NULL);
    bed_refused("POST", "/v1/public-ips", acme.token[TL_MEMBER], "{\"name\":\"a3\","
                "\"port\":\"nosuch\"}", 404, "/problems/not-found", "port", NULL);
    ck_assert_int_eq(ips_in_db(), 1);
    ck_assert_int_eq(bed_quota_used(&acme, "public_ips"), 1);
}
END_TEST

/* Routers: one per network, an address from the network's region's pool (none: 409 naming
 * the region), written into OVN by the worker; a public IP attaches to a port only when its
 * network has a router (then OVN holds its NAT); a router is not deleted while public IPs of
 * its network's ports are attached; everything deleted frees the pool. */
START_TEST(routers_and_attach)
{
    char net[40], net2[40], port[40], port2[40], rid[40], rid2[40], ipid[40], path[160],
        body[256], name[80], *out;
    json_t *r, *ip;

    bed_network(&acme, "net1", REGION, net);
    bed_network(&acme, "net2", REGION, net2);
    bed_port(&acme, net, "p1", "10.0.0.5", port);
    bed_port(&acme, net2, "p2", "10.0.0.6", port2);
    bed_refused("POST", "/v1/routers", acme.token[TL_MEMBER], "{\"name\":\"gw\",\"network\":"
                "\"net1\"}", 409, "/problems/conflict", "region", "no public IP pool");
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM routers"), 0);
    bed_refused("POST", "/v1/routers", acme.token[TL_MEMBER], "{\"name\":\"gw\",\"network\":"
                "\"nosuch\"}", 404, "/problems/not-found", "network", NULL);
    snprintf(body, sizeof(body), "{\"name\":\"gw\",\"network\":\"%s\"}", net);
    bed_refused("POST", "/v1/routers", globex.token[TL_MEMBER], body, 404,
                "/problems/not-found", "network", NULL);

    pool("{\"name\":\"public\",\"cidr\":\"203.0.113.0/24\"}");
    r = accepted_done("POST", "/v1/routers", acme.token[TL_MEMBER], "{\"name\":\"gw\","
                      "\"network\":\"net1\"}", "router", "router.create");
    snprintf(rid, sizeof(rid), "%s", tl_str(r, "id"));
    ck_assert_str_eq(tl_str(r, "external_ip"), "203.0.113.2");
    ck_assert_str_eq(tl_str(json_object_get(r, "network"), "id"), net);
    ck_assert_str_eq(tl_str(json_object_get(r, "network"), "name"), "net1");
    ck_assert(json_is_true(json_object_get(r, "snat")));
    ck_assert_str_eq(tl_str(r, "state"), "creating");
    json_decref(r);
    state_is("routers", rid, "available");
    snprintf(name, sizeof(name), "sov-rtr-%s", rid);
    out = bed_nb("--bare --columns=name list logical_router");
    tl_assert_contains(out, name);
    free(out);
    /* Its address is not the tenant's public IP: no quota, not listed. */
    ck_assert_int_eq(bed_quota_used(&acme, "public_ips"), 0);
    ip = tl_call_ok(&sovd, "GET", "/v1/public-ips", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(ip, "items")), 0);
    json_decref(ip);
    bed_refused("POST", "/v1/routers", acme.token[TL_MEMBER], "{\"name\":\"gw2\",\"network\":"
                "\"net1\"}", 409, "/problems/conflict", "network", "one internet gateway");
    r = accepted_done("POST", "/v1/routers", acme.token[TL_MEMBER], "{\"name\":\"gw-b\","
                      "\"network\":\"net2\",\"snat\":false}", "router", "router.create");
    ck_assert(json_is_false(json_object_get(r, "snat")));
    ck_assert_str_eq(tl_str(r, "external_ip"), "203.0.113.3");
    snprintf(rid2, sizeof(rid2), "%s", tl_str(r, "id"));
    json_decref(r);
    /* net2's router goes: a port of net2 has no way out any more. */
    snprintf(path, sizeof(path), "/v1/routers/%s", rid2);
    json_decref(accepted_done("DELETE", path, acme.token[TL_MEMBER], NULL, "router",
                              "router.delete"));
    state_is("routers", rid2, "deleted");
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM public_ips WHERE router_id = '%s'"
                               " AND state <> 'deleted'", rid2), 0);

    /* Attach: the port's network needs a router. The address net2's router gave back is
     * the lowest free one again. */
    ip = ip_create(&acme, "{\"name\":\"web\"}", ipid);
    ck_assert_str_eq(tl_str(ip, "address"), "203.0.113.3");
    json_decref(ip);
    state_is("public_ips", ipid, "available");
    snprintf(path, sizeof(path), "/v1/public-ips/%s/actions", ipid);
    bed_refused("POST", path, acme.token[TL_MEMBER], "{\"action\":\"attach\",\"port\":\"p2\"}",
                409, "/problems/conflict", "port", "internet gateway");
    /* A port of another region (its network with a router there): refused too. */
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"de-sec-1\",\"name\":\"Sec DE\",\"country\":\"DE\","
                           "\"datacenter\":\"dc-de\",\"zones\":[\"a\"]}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions/de-sec-1/public-ip-pools", op,
                           "{\"name\":\"de\",\"cidr\":\"192.0.2.0/24\"}", 201));
    bed_network(&acme, "net3", "de-sec-1", net2);
    bed_port(&acme, net2, "p3", "10.0.0.7", port2);
    json_decref(accepted_done("POST", "/v1/routers", acme.token[TL_MEMBER], "{\"name\":"
                              "\"gw-de\",\"network\":\"net3\"}", "router", "router.create"));
    bed_refused("POST", path, acme.token[TL_MEMBER], "{\"action\":\"attach\",\"port\":\"p3\"}",
                409, "/problems/conflict", "port", "its own region");
    bed_refused("POST", path, acme.token[TL_MEMBER], "{\"action\":\"attach\"}", 400,
                "/problems/invalid-request", "port", NULL);
    bed_refused("POST", path, acme.token[TL_MEMBER], "{\"action\":\"spin\"}", 400,
                "/problems/invalid-request", "action", NULL);
    bed_refused("POST", path, globex.token[TL_MEMBER], "{\"action\":\"attach\",\"port\":"
                "\"p1\"}", 404, "/problems/not-found", NULL, NULL);
    bed_refused("POST", path, acme.token[TL_MEMBER], "{\"action\":\"detach\"}", 409,
                "/problems/conflict", NULL, "not attached");
    ip = accepted_done("POST", path, acme.token[TL_MEMBER], "{\"action\":\"attach\","
                       "\"port\":\"p1\"}", "public_ip", "public_ip.attach");
    ck_assert_str_eq(tl_str(ip, "state"), "attaching");
    ck_assert_str_eq(tl_str(json_object_get(ip, "port"), "id"), port);
    ck_assert_str_eq(tl_str(json_object_get(ip, "port"), "ip"), "10.0.0.5");
    json_decref(ip);
    state_is("public_ips", ipid, "in-use");
    out = bed_nb("--bare --columns=type,external_ip,logical_ip list nat");
    tl_assert_contains(out, "dnat_and_snat");
    tl_assert_contains(out, "203.0.113.3");
    tl_assert_contains(out, "10.0.0.5");
    free(out);

    /* The router of net1 is needed by the attached address. */
    snprintf(path, sizeof(path), "/v1/routers/%s", rid);
    bed_refused("DELETE", path, acme.token[TL_MEMBER], NULL, 409, "/problems/conflict", NULL,
                "web");
    /* Detached, deleted: the router goes, and with it every address of the pool. */
    snprintf(path, sizeof(path), "/v1/public-ips/%s/actions", ipid);
    json_decref(accepted_done("POST", path, acme.token[TL_MEMBER], "{\"action\":\"detach\","
                              "\"port\":\"p1\"}", "public_ip", "public_ip.detach"));
    state_is("public_ips", ipid, "available");
    snprintf(path, sizeof(path), "/v1/public-ips/%s", ipid);
    json_decref(accepted_done("DELETE", path, acme.token[TL_MEMBER], NULL, "public_ip",
                              "public_ip.delete"));
    /* Made with its port: attached at once, in the port's region. */
    bed_refused("POST", "/v1/public-ips", acme.token[TL_MEMBER], "{\"name\":\"direct\","
                "\"port\":\"p1\",\"region\":\"elsewhere-1\"}", 400,
                "/problems/invalid-request", "region", REGION);
    bed_refused("POST", "/v1/public-ips", acme.token[TL_MEMBER], "{\"name\":\"direct\","
                "\"port\":\"p2\"}", 409, "/problems/conflict", "port", "internet gateway");
    ip = ip_create(&acme, "{\"name\":\"direct\",\"port\":\"p1\"}", ipid);
    ck_assert_str_eq(tl_str(ip, "region"), REGION);
    ck_assert_str_eq(tl_str(json_object_get(ip, "port"), "id"), port);
    json_decref(ip);
    state_is("public_ips", ipid, "in-use");
    bed_refused("POST", "/v1/public-ips", acme.token[TL_MEMBER], "{\"name\":\"again\","
                "\"port\":\"p1\"}", 409, "/problems/conflict", "port", "already has public IP");
    snprintf(path, sizeof(path), "/v1/public-ips/%s", ipid);
    json_decref(accepted_done("DELETE", path, acme.token[TL_MEMBER], NULL, "public_ip",
                              "public_ip.delete"));
    state_is("public_ips", ipid, "deleted");

    snprintf(path, sizeof(path), "/v1/routers/%s", rid);
    r = accepted_done("DELETE", path, acme.token[TL_MEMBER], NULL, "router", "router.delete");
    ck_assert_str_eq(tl_str(r, "state"), "deleting");
    json_decref(r);
    state_is("routers", rid, "deleted");
    out = bed_nb("--bare --columns=name list logical_router");
    ck_assert_msg(!strstr(out, rid), "router still in OVN: %s", out);
    free(out);
    ip = tl_call_ok(&sovd, "GET", POOLS "/public", op, NULL, 200);
    ck_assert_int_eq(tl_num(ip, "used"), 0);
    json_decref(ip);
    json_decref(tl_call_ok(&sovd, "DELETE", POOLS "/public", op, NULL, 204));
}
END_TEST

/* The same Idempotency-Key and body twice: the first answer, one row, one address. */
START_TEST(idempotent_creates_answer_the_first_result)
{
    static const struct {
        const char *path, *body, *member, *table;
    } creates[] = {
        { "/v1/public-ips", "{\"name\":\"once\"}", "public_ip", "public_ips" },
        { "/v1/security-groups", "{\"name\":\"once\"}", "security_group", "security_groups" },
        { "/v1/routers", "{\"name\":\"once\",\"network\":\"net1\"}", "router", "routers" },
    };
    char net[40];

    pool("{\"name\":\"public\",\"cidr\":\"203.0.113.0/24\"}");
    bed_network(&acme, "net1", REGION, net);
    for (size_t i = 0; i < sizeof(creates) / sizeof(creates[0]); i++) {
        char key[64];
        const char *headers[] = { key, NULL };
        tl_resp a, b;

        snprintf(key, sizeof(key), "Idempotency-Key: sec-once-%zu", i);
        tl_call_h(&sovd, "POST", creates[i].path, acme.token[TL_MEMBER], creates[i].body,
                  headers, &a);
        tl_call_h(&sovd, "POST", creates[i].path, acme.token[TL_MEMBER], creates[i].body,
                  headers, &b);
        ck_assert_msg(a.status == 202 && b.status == 202, "%s: %ld %ld %s", creates[i].path,
                      a.status, b.status, b.body);
        ck_assert_str_eq(tl_str(json_object_get(a.json, creates[i].member), "id"),
                         tl_str(json_object_get(b.json, creates[i].member), "id"));
        ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM %s", creates[i].table), 1);
        tl_resp_free(&a);
        tl_resp_free(&b);
    }
    /* One tenant's address and the router's own: two addresses taken, one quota. */
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM public_ips"), 2);
    ck_assert_int_eq(bed_quota_used(&acme, "public_ips"), 1);
    ck_assert_int_eq(bed_quota_used(&acme, "security_groups"), 1);
}
END_TEST

static Suite *
suite(void)
{
    Suite *s = suite_create("network/public-ips");
    TCase *tc = tcase_create("public-ips");

    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, bed_setup, bed_teardown);
    tcase_add_test(tc, pools_are_checked_and_the_operators);
    tcase_add_test(tc, region_outside_the_policy_is_refused);
    tcase_add_test(tc, addresses_lowest_free_never_shared_and_exhausted);
    tcase_add_test(tc, concurrent_creates_never_share_an_address);
    tcase_add_test(tc, quota_and_names);
    tcase_add_test(tc, idempotent_creates_answer_the_first_result);
    tcase_add_test(tc, routers_and_attach);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    return tl_run_suite(suite());
}
