/* api/seca-netsec: SECA's network provider, part two (api/seca_netsec.c, seca_nics.c,
 * seca_public_ips.c, seca_security_groups.c; network/seca_rules.c) through a real sovd
 * with a worker, PostgreSQL and a real OVN Northbound (network/sec_bed.c): security group
 * rules (SECA objects) and security groups (ours: inline rules and referenced ones translated
 * into our rules, which /v1 and OVN's ACLs show; a changed referenced rule changes its
 * groups; a referenced rule cannot be deleted), public IPs (a pool's lowest address or the
 * one asked for), NICs (our ports: the address, groups and a public IP), the exact condition
 * history, resourceVersion and if-unmodified-since, 412 naming the pointer for each bad
 * input with nothing written, DELETE 202 then 404, another tenant's paths 404; a NIC's SKU
 * as its port's OVN rate; no public IP on a network with only egress-only gateways. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../network/sec_bed.h"
#include "seca_kit.h"

#define NET "/providers/seca.network/v1/tenants/acme/workspaces/default"
#define POOLS "/v1/regions/" REGION "/public-ip-pools"
#define WAIT_S 30

/* The SECA kit's calls (seca_kit.h) on this bed's sovd, as acme's member where they GET. */
#define seca(...) tl_seca_call(&sovd, __VA_ARGS__)
#define refused(...) tl_seca_refused(&sovd, __VA_ARGS__, NULL)
#define conditions_are tl_seca_assert_conditions
#define until_state(path, want) \
    tl_seca_wait_state(&sovd, path, acme.token[TL_MEMBER], want, WAIT_S)
#define until_gone(path) tl_seca_wait_gone(&sovd, path, acme.token[TL_MEMBER], WAIT_S)

/* The id of /v1 resource `name` in a list at path. */
static void
v1_id(const char *path, const char *name, char *id)
{
    json_t *l = tl_call_ok(&sovd, "GET", path, acme.token[TL_MEMBER], NULL, 200), *it;
    size_t i;

    id[0] = '\0';
    json_array_foreach(json_object_get(l, "items"), i, it)
        if (strcmp(tl_str(it, "name"), name) == 0)
            snprintf(id, 40, "%s", tl_str(it, "id"));
    json_decref(l);
    ck_assert_msg(id[0], "no %s named %s", path, name);
}

/* Group `name`'s /v1 rules, once its operation is done, each "direction/protocol/ports/remote"
 * joined by ' ' in the order /v1 gives them. */
static void
v1_rules_are(const char *name, const char *want)
{
    char id[40], path[128], got[1024] = "";
    json_t *g, *r;
    size_t i, n = 0;

    v1_id("/v1/security-groups", name, id);
    snprintf(path, sizeof(path), "/v1/security-groups/%s", id);
    g = tl_call_ok(&sovd, "GET", path, acme.token[TL_MEMBER], NULL, 200);
    if (json_is_string(json_object_get(g, "operation_id")))
        bed_op_ok(json_string_value(json_object_get(g, "operation_id")));
    json_decref(g);
    g = tl_call_ok(&sovd, "GET", path, acme.token[TL_MEMBER], NULL, 200);
    json_array_foreach(json_object_get(g, "rules"), i, r) {
        json_t *ports = json_object_get(r, "ports"), *cidr = json_object_get(r, "remote_cidr");
        n += (size_t) snprintf(got + n, sizeof(got) - n, "%s%s/%s/%s/%s", i ? " " : "",
                               tl_str(r, "direction"), tl_str(r, "protocol"),
                               ports ? json_string_value(ports) : "*",
                               cidr ? json_string_value(cidr) : "*");
    }
    json_decref(g);
    ck_assert_msg(strcmp(got, want) == 0, "rules of %s: [%s], not [%s]", name, got, want);
}

/* Wait (at most 30 s) for public IP pip1's /v1 state to be want. */
static void
pip_state_is(const char *want)
{
    char *st = NULL;

    for (int i = 0; i < 300; i++) {
        free(st);
        st = tl_db_value(db, "SELECT state FROM public_ips WHERE name = 'pip1'");
        if (strcmp(st, want) == 0)
            break;
        usleep(100 * 1000);
    }
    ck_assert_msg(strcmp(st, want) == 0, "public IP pip1 is %s, not %s", st, want);
    free(st);
}

static long long
count(const char *sql)
{
    return tl_db_num(db, "%s", sql);
}

/* A network net1 10.0.0.0/16 in REGION with subnet sub1 10.0.0.0/24, made through /v1. */
static void
network_made(bool router)
{
    char op_id[40];

    json_decref(bed_accepted("/v1/networks", acme.token[TL_MEMBER], "{\"name\":\"net1\","
                             "\"cidr\":\"10.0.0.0/16\",\"region\":\"" REGION "\"}", "network",
                             op_id));
    bed_op_ok(op_id);
    json_decref(bed_accepted("/v1/subnets", acme.token[TL_MEMBER], "{\"name\":\"sub1\","
                             "\"network\":\"net1\",\"cidr\":\"10.0.0.0/24\"}", "subnet",
                             op_id));
    bed_op_ok(op_id);
    json_decref(tl_call_ok(&sovd, "POST", POOLS, op, "{\"name\":\"public\",\"cidr\":"
                           "\"203.0.113.0/24\"}", 201));
    if (router) {
        json_decref(bed_accepted("/v1/routers", acme.token[TL_MEMBER], "{\"name\":\"gw\","
                                 "\"network\":\"net1\"}", "router", op_id));
        bed_op_ok(op_id);
    }
}

/* Named rules and groups: inline rules and referenced ones become our rules (tcp+udp two,
 * a port list one each) in /v1 and OVN's ACLs; a change of a referenced rule reaches the
 * group; a referenced rule cannot be deleted; versions, labels, conditions, 202 then 404. */
START_TEST(rules_and_groups_become_ours)
{
    const char *m = acme.token[TL_MEMBER];
    json_t *j, *list;
    char *acls;

    j = seca("PUT", NET "/security-group-rules/ssh", m, "{\"labels\":{\"env\":\"conformance\"},"
             "\"spec\":{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"ports\":{\"from\":22,"
             "\"to\":22},\"sourceRef\":[{\"resource\":\"10.1.0.0/16\"}]}}", 201);
    ck_assert_str_eq(tl_str(json_object_get(j, "metadata"), "kind"), "security-group-rule");
    ck_assert_str_eq(tl_str(json_object_get(j, "metadata"), "verb"), "PUT");
    ck_assert_str_eq(tl_str(json_object_get(j, "metadata"), "region"), REGION);
    ck_assert_int_eq(tl_num(json_object_get(j, "metadata"), "resourceVersion"), 1);
    ck_assert_str_eq(tl_str(json_object_get(j, "labels"), "env"), "conformance");
    conditions_are(j, "active,creating,pending");
    json_decref(j);

    j = seca("PUT", NET "/security-groups/web", m, "{\"labels\":{\"env\":\"conformance\"},"
             "\"spec\":{\"rules\":[{\"direction\":\"ingress\",\"protocol\":\"tcp+udp\","
             "\"ports\":{\"list\":[80,443]}},{\"direction\":\"egress\"}],"
             "\"ruleRefs\":[{\"resource\":\"security-group-rules/ssh\"}]}}", 201);
    ck_assert_str_eq(tl_str(json_object_get(j, "metadata"), "kind"), "security-group");
    ck_assert_str_eq(tl_str(json_object_get(j, "metadata"), "ref"),
                     "seca.network/v1/tenants/acme/workspaces/default/security-groups/web");
    ck_assert_int_eq(json_array_size(json_object_get(json_object_get(j, "status"), "rules")),
                     3);
    json_decref(j);
    v1_rules_are("web", "ingress/tcp/80/* ingress/tcp/443/* ingress/udp/80/* "
                        "ingress/udp/443/* egress/any/*/* ingress/tcp/22/10.1.0.0/16");
    j = until_state(NET "/security-groups/web", "active");
    conditions_are(j, "active,creating,pending");
    json_decref(j);
    acls = bed_nb("--bare --columns=match list ACL");
    tl_assert_contains(acls, "ip4.src == 10.1.0.0/16");
    tl_assert_contains(acls, "tcp.dst == 22");
    tl_assert_contains(acls, "udp.dst == 443");
    free(acls);

    /* The referenced rule changes: so does the group (and its history). */
    j = seca("PUT", NET "/security-group-rules/ssh", m, "{\"labels\":{\"env\":\"conformance\"},"
             "\"spec\":{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"ports\":{\"from\":2222,"
             "\"to\":2223}}}", 200);
    ck_assert_int_eq(tl_num(json_object_get(j, "metadata"), "resourceVersion"), 2);
    conditions_are(j, "active,updating,active,creating,pending");
    json_decref(j);
    v1_rules_are("web", "ingress/tcp/80/* ingress/tcp/443/* ingress/udp/80/* "
                        "ingress/udp/443/* egress/any/*/* ingress/tcp/2222-2223/*");
    j = until_state(NET "/security-groups/web", "active");
    conditions_are(j, "active,updating,active,creating,pending");
    json_decref(j);

    /* Named by a group: kept. */
    refused("DELETE", NET "/security-group-rules/ssh", m, NULL, 412, NULL);

    /* A stale if-unmodified-since is refused, the right one replaces the rule set. */
    {
        const char *stale[] = { "if-unmodified-since: 1", NULL };
        const char *fresh[] = { "if-unmodified-since: 2", NULL };
        const char *body = "{\"spec\":{\"rules\":[{\"direction\":\"ingress\",\"protocol\":"
                           "\"icmp\",\"icmp\":{\"type\":8,\"code\":0}}]}}";
        tl_resp r;

        tl_call_h(&sovd, "PUT", NET "/security-groups/web", m, body, stale, &r);
        ck_assert_int_eq(r.status, 412);
        tl_resp_free(&r);
        tl_call_h(&sovd, "PUT", NET "/security-groups/web", m, body, fresh, &r);
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        tl_resp_free(&r);
    }
    v1_rules_are("web", "ingress/icmp/*/*");
    /* The replaced rules gave their quota back: one rule is held. */
    ck_assert_int_eq(bed_quota_used(&acme, "security_group_rules"), 1);

    /* Lists: labels filter (the group lost its labels? no: an update without labels keeps
     * none given, so ask for the rule's). */
    list = seca("GET", NET "/security-group-rules?labels=env=conformance&limit=1", m, NULL,
                200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);
    list = seca("GET", NET "/security-groups", m, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);

    /* Another tenant: nothing there. */
    refused("GET", NET "/security-groups/web", globex.token[TL_MEMBER], NULL, 404, NULL);
    refused("GET", NET "/security-group-rules/ssh", globex.token[TL_MEMBER], NULL, 404, NULL);

    j = seca("DELETE", NET "/security-group-rules/ssh", m, NULL, 202);
    json_decref(j);
    refused("GET", NET "/security-group-rules/ssh", m, NULL, 404, NULL);
    j = seca("DELETE", NET "/security-groups/web", m, NULL, 202);
    json_decref(j);
    until_gone(NET "/security-groups/web");
}
END_TEST

/* Each bad rule or group is 412 naming the pointer, and writes nothing. */
START_TEST(bad_rules_and_groups_are_412)
{
    static const struct {
        const char *path, *body, *pointer;
    } bad[] = {
        { "/security-group-rules/r", "{\"spec\":{\"direction\":\"ingress\",\"protocol\":\"tcp\","
          "\"ports\":{\"from\":30,\"to\":20}}}", "/spec/ports/to" },
        { "/security-group-rules/r", "{\"spec\":{\"direction\":\"ingress\",\"protocol\":\"tcp\","
          "\"ports\":{\"from\":0}}}", "/spec/ports/from" },
        { "/security-group-rules/r", "{\"spec\":{\"direction\":\"ingress\",\"protocol\":\"tcp\","
          "\"ports\":{\"list\":[80,70000]}}}", "/spec/ports/list/1" },
        { "/security-group-rules/r", "{\"spec\":{\"direction\":\"ingress\",\"protocol\":"
          "\"sctp\"}}", "/spec/protocol" },
        { "/security-group-rules/r", "{\"spec\":{\"direction\":\"ingress\",\"version\":"
          "\"IPv6\"}}", "/spec/version" },
        { "/security-group-rules/r", "{\"spec\":{\"protocol\":\"tcp\"}}", "/spec/direction" },
        { "/security-group-rules/r", "{\"spec\":{\"direction\":\"ingress\",\"colour\":1}}",
          "/spec/colour" },
        { "/security-group-rules/r", "{\"spec\":{\"direction\":\"ingress\",\"protocol\":"
          "\"icmp\",\"icmp\":{\"type\":9,\"code\":0}}}", "/spec/icmp/type" },
        { "/security-group-rules/r", "{\"spec\":{\"direction\":\"ingress\",\"protocol\":"
          "\"icmp\",\"ports\":{\"from\":1}}}", "/spec/ports" },
        { "/security-group-rules/r", "{\"spec\":{\"direction\":\"ingress\",\"sourceRef\":"
          "[{\"resource\":\"security-groups/nope\"}]}}", "/spec/sourceRef/0" },
        { "/security-group-rules/r", "{\"spec\":{\"direction\":\"ingress\",\"sourceRef\":"
          "[{\"resource\":\"2001:db8::/32\"}]}}", "/spec/sourceRef/0" },
        { "/security-group-rules/r", "{\"spec\":{\"direction\":\"ingress\",\"sourceRef\":"
          "[{\"resource\":\"10.0.0.1/8\"}]}}", "/spec/sourceRef" },
        { "/security-groups/g", "{\"spec\":{\"ruleRefs\":[{\"resource\":"
          "\"security-group-rules/nope\"}]}}", "/spec/ruleRefs/0" },
        { "/security-groups/g", "{\"spec\":{\"rules\":[{\"direction\":\"sideways\"}]}}",
          "/spec/rules/0/direction" },
        { "/security-groups/g", "{\"spec\":{\"rules\":[{\"direction\":\"ingress\","
          "\"sourceRef\":[{\"resource\":\"security-groups/nope\"}]}]}}", "/spec/rules/0" },
        { "/security-groups/g", "{\"spec\":{\"rules\":{}}}", "/spec/rules" },
    };
    char path[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), NET "%s", bad[i].path);
        refused("PUT", path, acme.token[TL_MEMBER], bad[i].body, 412, bad[i].pointer);
    }
    ck_assert_int_eq(count("SELECT count(*) FROM security_groups"), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM seca_objects"), 0);
    /* A reader may not write; another tenant's path is not there. */
    refused("PUT", NET "/security-group-rules/r", acme.token[TL_READER],
            "{\"spec\":{\"direction\":\"ingress\"}}", 403, NULL);
    refused("PUT", NET "/security-group-rules/r", globex.token[TL_MEMBER],
            "{\"spec\":{\"direction\":\"ingress\"}}", 404, NULL);
    refused("GET", NET "/security-group-rules/r", acme.token[TL_MEMBER], NULL, 404, NULL);
}
END_TEST

/* A port list of n ports from first, as JSON text. */
static void
port_list(char *buf, size_t size, int first, int n)
{
    size_t len = (size_t) snprintf(buf, size, "[");

    for (int i = 0; i < n && len < size; i++)
        len += (size_t) snprintf(buf + len, size - len, "%s%d", i ? "," : "", first + i);
    if (len < size)
        snprintf(buf + len, size - len, "]");
}

/* A change of a named rule that a group naming it could not take (over 500 rules once
 * expanded) is 412, and neither the rule nor the group changes. */
START_TEST(a_rule_change_its_groups_cannot_take_is_412)
{
    const char *m = acme.token[TL_MEMBER];
    char a[1024], b[1024], body[4096];
    json_t *j;

    port_list(a, sizeof(a), 1, 100);
    port_list(b, sizeof(b), 101, 100);
    json_decref(seca("PUT", NET "/security-group-rules/r", m, "{\"spec\":{\"direction\":"
                     "\"ingress\",\"protocol\":\"tcp\"}}", 201));
    snprintf(body, sizeof(body), "{\"spec\":{\"rules\":[{\"direction\":\"ingress\","
             "\"protocol\":\"tcp+udp\",\"ports\":{\"list\":%s}},{\"direction\":\"ingress\","
             "\"protocol\":\"tcp\",\"ports\":{\"list\":%s}}],\"ruleRefs\":"
             "[\"security-group-rules/r\"]}}", a, b);
    json_decref(seca("PUT", NET "/security-groups/big", m, body, 201));
    ck_assert_int_eq(count("SELECT count(*) FROM security_group_rules"), 301);
    snprintf(body, sizeof(body), "{\"spec\":{\"direction\":\"ingress\",\"protocol\":"
             "\"tcp+udp\",\"ports\":{\"from\":1000,\"to\":2000,\"list\":%s}}}", a);
    refused("PUT", NET "/security-group-rules/r", m, body, 412, "/spec");
    j = seca("GET", NET "/security-group-rules/r", m, NULL, 200);
    ck_assert_int_eq(tl_num(json_object_get(j, "metadata"), "resourceVersion"), 1);
    ck_assert_str_eq(tl_str(json_object_get(j, "spec"), "protocol"), "tcp");
    json_decref(j);
    ck_assert_int_eq(count("SELECT count(*) FROM security_group_rules"), 301);
}
END_TEST

/* Public IPs: the pool's lowest address or the one asked for, 412 outside a pool, taken,
 * IPv6 or without any pool; the history follows the create; DELETE 202 then 404. */
START_TEST(public_ips_come_from_the_pools)
{
    const char *m = acme.token[TL_MEMBER];
    json_t *j;

    refused("PUT", NET "/public-ips/ip0", m, "{\"spec\":{\"version\":\"IPv4\"}}", 412,
            "/metadata/region");
    network_made(false);
    j = seca("PUT", NET "/public-ips/ip1", m, "{\"labels\":{\"env\":\"conformance\"},\"spec\":"
             "{\"version\":\"IPv4\"}}", 201);
    ck_assert_str_eq(tl_str(json_object_get(j, "status"), "ipAddress"), "203.0.113.2");
    ck_assert_str_eq(tl_str(json_object_get(j, "metadata"), "region"), REGION);
    ck_assert_str_eq(tl_str(json_object_get(json_object_get(j, "status"), "residency"),
                            "country"), "FR");
    json_decref(j);
    j = until_state(NET "/public-ips/ip1", "active");
    conditions_are(j, "active,creating,pending");
    json_decref(j);
    j = seca("PUT", NET "/public-ips/ip2", m, "{\"spec\":{\"version\":\"IPv4\",\"address\":"
             "\"203.0.113.50\"}}", 201);
    ck_assert_str_eq(tl_str(json_object_get(j, "status"), "ipAddress"), "203.0.113.50");
    json_decref(j);
    refused("PUT", NET "/public-ips/ip3", m, "{\"spec\":{\"version\":\"IPv4\",\"address\":"
            "\"203.0.113.50\"}}", 412, "/spec/address");
    refused("PUT", NET "/public-ips/ip3", m, "{\"spec\":{\"version\":\"IPv4\",\"address\":"
            "\"198.51.100.7\"}}", 412, "/spec/address");
    refused("PUT", NET "/public-ips/ip3", m, "{\"spec\":{\"version\":\"IPv6\"}}", 412,
            "/spec/version");
    refused("PUT", NET "/public-ips/ip3", m, "{\"spec\":{}}", 412, "/spec/version");
    refused("PUT", NET "/public-ips/ip3", m, "{\"spec\":{\"version\":\"IPv4\",\"address\":"
            "\"not-an-ip\"}}", 412, "/spec/address");
    ck_assert_int_eq(count("SELECT count(*) FROM public_ips"), 2);

    /* An update changes labels, not the address. */
    refused("PUT", NET "/public-ips/ip2", m, "{\"spec\":{\"version\":\"IPv4\",\"address\":"
            "\"203.0.113.51\"}}", 412, "/spec/address");
    json_decref(until_state(NET "/public-ips/ip2", "active"));
    j = seca("PUT", NET "/public-ips/ip2", m, "{\"labels\":{\"tier\":\"b\"},\"spec\":"
             "{\"version\":\"IPv4\"}}", 200);
    ck_assert_str_eq(tl_str(json_object_get(j, "labels"), "tier"), "b");
    ck_assert_int_eq(tl_num(json_object_get(j, "metadata"), "resourceVersion"), 2);
    conditions_are(j, "active,updating,active,creating,pending");
    json_decref(j);

    refused("GET", NET "/public-ips/ip1", globex.token[TL_ADMIN], NULL, 404, NULL);
    j = seca("DELETE", NET "/public-ips/ip2", m, NULL, 202);
    json_decref(j);
    until_gone(NET "/public-ips/ip2");
}
END_TEST

/* A NIC: our port at the address asked for, with its groups and a public IP attached
 * (status shows both ways); bad specs 412 naming the pointer with nothing written. */
START_TEST(nics_are_ports_with_groups_and_public_ips)
{
    const char *m = acme.token[TL_MEMBER];
    const char *sub = "\"subnetRef\":{\"resource\":\"networks/net1/subnets/sub1\"}";
    char body[1024], port_id[40], path[128];
    json_t *j, *st, *p;

    network_made(true);
    json_decref(seca("PUT", NET "/security-groups/nicsg", m, "{\"spec\":{}}", 201));
    json_decref(seca("PUT", NET "/public-ips/pip1", m, "{\"spec\":{\"version\":\"IPv4\"}}",
                     201));

    static const struct {
        const char *spec, *pointer;
    } bad[] = {
        { "{\"addresses\":[\"10.0.0.10\"]}", "/spec/subnetRef" },
        { "{\"addresses\":[\"10.0.0.10\"],\"subnetRef\":{\"resource\":"
          "\"networks/net1/subnets/nope\"}}", "/spec/subnetRef" },
        { "{\"addresses\":[\"10.9.0.5\"],%s}", "/spec/addresses/0" },
        { "{\"addresses\":[\"2001:db8::5\"],%s}", "/spec/addresses/0" },
        { "{\"addresses\":[],%s}", "/spec/addresses" },
        { "{\"addresses\":[\"10.0.0.10\"],%s,\"securityGroupRefs\":[{\"resource\":"
          "\"security-groups/nope\"}]}", "/spec/securityGroupRefs/0" },
        { "{\"addresses\":[\"10.0.0.10\"],%s,\"publicIpRefs\":[{\"resource\":"
          "\"public-ips/nope\"}]}", "/spec/publicIpRefs/0" },
        { "{\"addresses\":[\"10.0.0.10\"],%s,\"colour\":1}", "/spec/colour" },
        { "{\"addresses\":[\"10.0.0.10\"],%s,\"skuRef\":{\"resource\":"
          "\"skus/seca.nope\"}}", "/spec/skuRef" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char spec[512];
        const char *at = strstr(bad[i].spec, "%s");
        if (at)
            snprintf(spec, sizeof(spec), "%.*s%s%s", (int) (at - bad[i].spec), bad[i].spec,
                     sub, at + 2);
        else
            snprintf(spec, sizeof(spec), "%s", bad[i].spec);
        snprintf(body, sizeof(body), "{\"spec\":%s}", spec);
        refused("PUT", NET "/nics/nic1", m, body, 412, bad[i].pointer);
    }
    ck_assert_int_eq(count("SELECT count(*) FROM ports"), 0);

    snprintf(body, sizeof(body), "{\"labels\":{\"env\":\"conformance\"},\"spec\":{"
             "\"addresses\":[\"10.0.0.10\"],%s,\"securityGroupRefs\":[{\"resource\":"
             "\"security-groups/nicsg\"}],\"publicIpRefs\":[{\"resource\":\"public-ips/pip1\"}],"
             "\"skuRef\":{\"resource\":\"skus/seca.n1k\"}}}", sub);
    j = seca("PUT", NET "/nics/nic1", m, body, 201);
    ck_assert_str_eq(tl_str(json_object_get(j, "metadata"), "kind"), "nic");
    ck_assert_str_eq(tl_str(json_object_get(j, "metadata"), "region"), REGION);
    st = json_object_get(j, "status");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(st, "addresses"), 0)),
                     "10.0.0.10");
    ck_assert_int_eq(strlen(tl_str(st, "macAddress")), 17);
    ck_assert_str_eq(tl_str(json_object_get(json_object_get(j, "spec"), "skuRef"), "resource"),
                     "skus/seca.n1k");
    json_decref(j);
    v1_id("/v1/ports", "nic1", port_id);
    snprintf(path, sizeof(path), "/v1/ports/%s", port_id);
    p = tl_call_ok(&sovd, "GET", path, m, NULL, 200);
    ck_assert_str_eq(tl_str(p, "ip"), "10.0.0.10");
    json_decref(p);

    /* The public IP is attached once its operation ran: both sides say so. */
    pip_state_is("in-use");
    j = seca("GET", NET "/public-ips/pip1", m, NULL, 200);
    ck_assert_str_eq(tl_str(json_object_get(json_object_get(j, "status"), "attachedTo"),
                            "resource"), "nics/nic1");
    json_decref(j);
    j = until_state(NET "/nics/nic1", "active");
    conditions_are(j, "active,creating,pending");
    st = json_object_get(j, "status");
    ck_assert_str_eq(tl_str(json_array_get(json_object_get(st, "publicIpRefs"), 0), "resource"),
                     "public-ips/pip1");
    ck_assert_str_eq(tl_str(json_array_get(json_object_get(json_object_get(j, "spec"),
                                                           "securityGroupRefs"), 0),
                            "resource"), "security-groups/nicsg");
    json_decref(j);

    /* Immutable members refused; the address is another NIC's. */
    snprintf(body, sizeof(body), "{\"spec\":{\"addresses\":[\"10.0.0.11\"],%s}}", sub);
    refused("PUT", NET "/nics/nic1", m, body, 412, "/spec/addresses/0");
    snprintf(body, sizeof(body), "{\"spec\":{\"addresses\":[\"10.0.0.10\"],%s}}", sub);
    refused("PUT", NET "/nics/nic2", m, body, 412, "/spec/addresses/0");
    refused("GET", NET "/nics/nic1", globex.token[TL_MEMBER], NULL, 404, NULL);

    /* An update without the public IP and the groups: detached, no groups. */
    snprintf(body, sizeof(body), "{\"spec\":{\"addresses\":[\"10.0.0.10\"],%s,"
             "\"skuRef\":{\"resource\":\"skus/seca.n1k\"}}}", sub);
    j = seca("PUT", NET "/nics/nic1", m, body, 200);
    ck_assert_int_eq(tl_num(json_object_get(j, "metadata"), "resourceVersion"), 2);
    json_decref(j);
    j = until_state(NET "/nics/nic1", "active");
    conditions_are(j, "active,updating,active,creating,pending");
    json_decref(j);
    for (int i = 0; i < 300; i++) {
        j = seca("GET", NET "/public-ips/pip1", m, NULL, 200);
        if (!json_object_get(json_object_get(j, "status"), "attachedTo"))
            break;
        json_decref(j);
        j = NULL;
        usleep(100 * 1000);
    }
    ck_assert_msg(j, "public IP pip1 never detached");
    json_decref(j);
    pip_state_is("available");
    p = tl_call_ok(&sovd, "GET", path, m, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(p, "security_groups")), 0);
    json_decref(p);

    /* Attached again, then deleted at once: the NIC lets its public IP go first. */
    snprintf(body, sizeof(body), "{\"spec\":{\"addresses\":[\"10.0.0.10\"],%s,"
             "\"publicIpRefs\":[\"public-ips/pip1\"],"
             "\"skuRef\":{\"resource\":\"skus/seca.n1k\"}}}", sub);
    json_decref(seca("PUT", NET "/nics/nic1", m, body, 200));
    pip_state_is("in-use");
    json_decref(seca("DELETE", NET "/nics/nic1", m, NULL, 202));
    until_gone(NET "/nics/nic1");
    pip_state_is("available");
}
END_TEST

/* A NIC's skuRef sizes its port (sov_port_create_args.sku): the SKU's rate (seca.n5k,
 * 5 Gbit/s) is its logical switch port's options:qos_max_rate once its operation ran; a NIC
 * without one on a network made through /v1 gets no rate. */
START_TEST(a_nics_sku_is_its_ports_rate)
{
    const char *m = acme.token[TL_MEMBER];
    const char *sub = "\"subnetRef\":{\"resource\":\"networks/net1/subnets/sub1\"}";
    char body[512], fast[40], plain[40], *out;
    int rc;

    network_made(false);
    snprintf(body, sizeof(body), "{\"spec\":{\"addresses\":[\"0.0.0.0\"],%s,"
             "\"skuRef\":{\"resource\":\"skus/seca.n5k\"}}}", sub);
    json_decref(seca("PUT", NET "/nics/fast", m, body, 201));
    snprintf(body, sizeof(body), "{\"spec\":{\"addresses\":[\"0.0.0.0\"],%s}}", sub);
    json_decref(seca("PUT", NET "/nics/plain", m, body, 201));
    v1_id("/v1/ports", "fast", fast);
    v1_id("/v1/ports", "plain", plain);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM ports WHERE id = '%s' AND"
                               " sku = 'seca.n5k'", fast), 1);
    json_decref(until_state(NET "/nics/fast", "active"));
    json_decref(until_state(NET "/nics/plain", "active"));
    out = tl_ovn_nbctl(&ovn, &rc, "get Logical_Switch_Port %s options:qos_max_rate", fast);
    ck_assert_msg(rc == 0, "ovn-nbctl: %s", out);
    tl_assert_contains(out, "5000000000");
    free(out);
    out = tl_ovn_nbctl(&ovn, &rc, "get Logical_Switch_Port %s options", plain);
    ck_assert_msg(rc == 0, "ovn-nbctl: %s", out);
    ck_assert_msg(!strstr(out, "qos_max_rate"), "NIC plain has a rate: %s", out);
    free(out);
}
END_TEST

/* A network whose route table reaches the internet only through an egress-only internet
 * gateway takes nothing inbound: a NIC on it with a public IP is 412 naming publicIpRefs,
 * with nothing written; once the gateway is not egress-only, the same NIC is made; a NIC
 * keeping the public IP it has is not refused when the gateway turns egress-only again. */
START_TEST(egress_only_networks_take_no_public_ip)
{
    const char *m = acme.token[TL_MEMBER];
    const char *nic = "{\"spec\":{\"addresses\":[\"10.2.1.10\"],\"subnetRef\":{\"resource\":"
                      "\"networks/eo/subnets/eosub\"},\"publicIpRefs\":[{\"resource\":"
                      "\"public-ips/pip1\"}]}}";
    char op_id[40];
    json_t *j, *src;

    json_decref(tl_call_ok(&sovd, "POST", POOLS, op, "{\"name\":\"public\",\"cidr\":"
                           "\"203.0.113.0/24\"}", 201));
    /* The bed has no host: the network is made through /v1 in its region, the rest by SECA. */
    json_decref(bed_accepted("/v1/networks", m, "{\"name\":\"eo\",\"cidr\":\"10.2.0.0/16\","
                             "\"region\":\"" REGION "\"}", "network", op_id));
    bed_op_ok(op_id);
    json_decref(seca("PUT", NET "/internet-gateways/out", m,
                     "{\"spec\":{\"egressOnly\":true}}", 201));
    json_decref(seca("PUT", NET "/networks/eo/route-tables/rt", m, "{\"spec\":{\"routes\":"
                     "[{\"destinationCidrBlock\":\"0.0.0.0/0\",\"targetRef\":{\"resource\":"
                     "\"internet-gateways/out\"}}]}}", 201));
    json_decref(seca("PUT", NET "/networks/eo/subnets/eosub", m, "{\"spec\":{\"cidr\":"
                     "{\"ipv4\":\"10.2.1.0/24\"},\"zone\":\"a\",\"routeTableRef\":"
                     "{\"resource\":\"route-tables/rt\"}}}", 201));
    json_decref(until_state(NET "/networks/eo/subnets/eosub", "active"));
    json_decref(seca("PUT", NET "/public-ips/pip1", m, "{\"spec\":{\"version\":\"IPv4\"}}",
                     201));

    j = seca("PUT", NET "/nics/eonic", m, nic, 412);
    src = json_array_get(json_object_get(j, "sources"), 0);
    ck_assert_str_eq(tl_str(src, "pointer"), "/spec/publicIpRefs/0");
    tl_assert_contains(tl_str(j, "detail"), "network 'eo' has only egress-only internet "
                       "gateways");
    json_decref(j);
    ck_assert_int_eq(count("SELECT count(*) FROM ports"), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM public_ips WHERE port_id IS NOT NULL"), 0);

    json_decref(seca("PUT", NET "/internet-gateways/out", m,
                     "{\"spec\":{\"egressOnly\":false}}", 200));
    json_decref(seca("PUT", NET "/nics/eonic", m, nic, 201));
    pip_state_is("in-use");

    /* Egress-only again: the NIC keeps the public IP it has (a PUT keeping it is no attach),
     * but another NIC cannot be given one. */
    json_decref(seca("PUT", NET "/internet-gateways/out", m,
                     "{\"spec\":{\"egressOnly\":true}}", 200));
    json_decref(seca("PUT", NET "/nics/eonic", m, nic, 200));
    json_decref(seca("PUT", NET "/public-ips/pip2", m, "{\"spec\":{\"version\":\"IPv4\"}}",
                     201));
    j = seca("PUT", NET "/nics/eonic2", m, "{\"spec\":{\"addresses\":[\"10.2.1.11\"],"
             "\"subnetRef\":{\"resource\":\"networks/eo/subnets/eosub\"},"
             "\"publicIpRefs\":[{\"resource\":\"public-ips/pip2\"}]}}", 412);
    tl_assert_contains(tl_str(j, "detail"), "has only egress-only internet gateways");
    json_decref(j);
    ck_assert_int_eq(count("SELECT count(*) FROM ports WHERE name = 'eonic2'"), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/seca-netsec");
    TCase *tc = tcase_create("seca-netsec");

    tcase_add_checked_fixture(tc, bed_setup, bed_teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, rules_and_groups_become_ours);
    tcase_add_test(tc, bad_rules_and_groups_are_412);
    tcase_add_test(tc, a_rule_change_its_groups_cannot_take_is_412);
    tcase_add_test(tc, public_ips_come_from_the_pools);
    tcase_add_test(tc, nics_are_ports_with_groups_and_public_ips);
    tcase_add_test(tc, a_nics_sku_is_its_ports_rate);
    tcase_add_test(tc, egress_only_networks_take_no_public_ip);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
