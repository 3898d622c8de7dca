/* Instances on tenant networks (network/instance_nics.c, part "plug"): creates and deletes
 * through the HTTP API of a real sovd on a real PostgreSQL with a real OVN Northbound
 * (tl_ovn_start, no chassis: ovn_sb is empty, so ports count as up at once), and one host of
 * libvirt's test driver inside a private libvirtd (storage's test bed), whose domains `virsh`
 * on the same URI reads.
 *
 * Covered: a plain create in a workspace without a network makes the default network
 * (10.0.0.0/16), subnet (10.0.0.0/24) and security group, and one port made by the instance
 * at device 0, whose id is the domain's OVS interfaceid and OVN's logical switch port, with
 * its MAC; a second instance reuses them. nics with a subnet and an address, and with an
 * existing port, in the order given; GET /v1/instances/{id} shows them and their addresses.
 * Bad nics write nothing: another tenant's subnet (404 naming nics[0].subnet), a port in use
 * (409 naming nics[0].port), NICs in two regions (400), an address taken (409), bad members
 * (400). The delete deletes the ports the instance made and frees a given one. A free port
 * is hot plugged into a running instance and out again (port.attach, port.detach). Without OVN
 * (no ovn_nb), an instance keeps the NAT NIC (nat_nic true, no port). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../storage/bed.h"

#define REGION "fr-test-1"
#define REGION2 "de-test-1"
#define FLAVOR "small"
#define IMAGE "base"
#define WAIT_S 30
#define INVALID "/problems/invalid-request"

static char host_b[40], image_id[40];

static void
setup(void)
{
    bed_setup("sovnics");
}

/* sovd (with OVN when with_ovn); tenants acme and globex; regions REGION and REGION2 (acme
 * and globex may use both); node-b in REGION (the private libvirtd); flavor; acme's image. */
static void
start(bool with_ovn)
{
    char nb[700];
    const char *args[] = { "--role=api,worker,reconciler", "--host-check-interval=3600",
                           "--worker-threads=4", "--image-allow-file-urls=true",
                           "--operation-step-timeout=10", "--stop-timeout=5",
                           with_ovn ? nb : NULL, NULL };

    if (with_ovn)
        bed_ovn_start(nb);
    bed_start(args);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Test FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-fr\",\"zones\":[\"b\"]}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION2 "\",\"name\":\"Test DE\",\"country\":\"DE\","
                           "\"datacenter\":\"dc-de\",\"zones\":[\"a\"]}", 201));
    bed_host_add("node-b", REGION, "b", uri, true, host_b);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"" FLAVOR "\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
    bed_image(IMAGE, REGION, WAIT_S, image_id);
}

/* POST /v1/instances as acme's member: 202; its id; waits for the create to succeed. */
static void
create_ok(const char *name, const char *nics, char id[40])
{
    char body[2048], op_id[40];
    json_t *j;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"flavor\":\"" FLAVOR "\",\"image\":\""
             IMAGE "\"%s%s}", name, nics ? ",\"nics\":" : "", nics ? nics : "");
    j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER], body, 202);
    snprintf(id, 40, "%s", tl_str(json_object_get(j, "instance"), "id"));
    snprintf(op_id, 40, "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    json_decref(bed_wait_state("instances", id, "running", WAIT_S));
}

static void
delete_instance(const char *id)
{
    char path[128], op_id[40];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    json_decref(bed_wait_state("instances", id, "deleted", WAIT_S));
}

/* A POST as acme's member answered 202 (the resource's id into id, its operation waited). */
static void
make(const char *collection, const char *member, const char *body, char id[40])
{
    char path[64], op_id[40];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/%s", collection);
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], body, 202);
    snprintf(id, 40, "%s", tl_str(json_object_get(j, member), "id"));
    snprintf(op_id, 40, "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
}

/* A port's column as text (its address without the prefix inet's text adds). */
static char *
port_col(const char *id, const char *col)
{
    return tl_db_value(db, "SELECT coalesce(%s%s%s::text, '') FROM ports WHERE id = '%s'",
                       strcmp(col, "ip") == 0 ? "host(" : "", col,
                       strcmp(col, "ip") == 0 ? ")" : "", id);
}

static void
assert_port(const char *id, const char *col, const char *want)
{
    char *v = port_col(id, col);

    ck_assert_msg(strcmp(v, want) == 0, "port %s: %s is '%s', want '%s'", id, col, v, want);
    free(v);
}

static void
wait_port_state(const char *id, const char *state)
{
    time_t until = time(NULL) + WAIT_S;

    for (;;) {
        char *v = port_col(id, "state");
        bool done = strcmp(v, state) == 0;
        ck_assert_msg(done || time(NULL) < until, "port %s is %s, not %s after %d s", id, v,
                      state, WAIT_S);
        free(v);
        if (done)
            return;
        usleep(100 * 1000);
    }
}

/* The port at device index i of instance id (its id into port). */
static void
port_of(const char *id, int i, char port[40])
{
    char *v = tl_db_value(db, "SELECT coalesce(id::text, '') FROM ports WHERE instance_id ="
                          " '%s' AND device_index = %d AND state <> 'deleted'", id, i);

    ck_assert_msg(strlen(v) == 36, "instance %s has no port at %d ('%s')", id, i, v);
    snprintf(port, 40, "%s", v);
    free(v);
}

/* The domain's XML on node-b has this port as an OVS NIC (interfaceid, MAC). */
static void
assert_domain_nic(const char *id, const char *port)
{
    char *xml = NULL, *mac = port_col(port, "mac"), want[160];

    ck_assert_int_eq(tl_virsh(uri, &xml, "dumpxml sov-%s --inactive", id), 0);
    tl_assert_contains(xml, "<source bridge='br-int'/>");
    snprintf(want, sizeof(want), "<parameters interfaceid='%s'/>", port);
    tl_assert_contains(xml, want);
    snprintf(want, sizeof(want), "<mac address='%s'/>", mac);
    tl_assert_contains(xml, want);
    tl_assert_contains(xml, "csum='off'");
    free(mac);
    free(xml);
}

/* Rows a refused create must not leave behind. */
static long long
rows(void)
{
    return tl_db_num(db, "SELECT (SELECT count(*) FROM instances) + (SELECT count(*) FROM"
                         " ports) + (SELECT count(*) FROM networks) + (SELECT count(*) FROM"
                         " subnets) + (SELECT count(*) FROM security_groups)");
}

static void
refused(const char *nics, long status, const char *type, const char *field)
{
    char body[2048];
    long long before = rows();

    snprintf(body, sizeof(body), "{\"name\":\"bad\",\"flavor\":\"" FLAVOR "\",\"image\":\""
             IMAGE "\",\"nics\":%s}", nics);
    bed_refused("POST", "/v1/instances", acme.token[TL_MEMBER], body, status, type, field,
                NULL);
    ck_assert_int_eq(rows(), before);
}

START_TEST(a_plain_create_makes_the_default_network_and_one_port)
{
    char id[40], id2[40], port[40], port2[40], *v, *lsp;
    json_t *x, *nics;

    start(true);
    create_ok("web-1", NULL, id);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM networks WHERE name = 'default' AND"
                                   " is_default AND cidr = '10.0.0.0/16' AND region = '"
                                   REGION "'"), 1);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM subnets WHERE name = 'default' AND"
                                   " cidr = '10.0.0.0/24'"), 1);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM security_groups WHERE name ="
                                   " 'default' AND is_default"), 1);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM instances WHERE id = '%s' AND NOT"
                                   " nat_nic", id), 1);
    port_of(id, 0, port);
    assert_port(port, "created_by_instance", id);
    assert_port(port, "state", "in-use");
    assert_domain_nic(id, port);
    /* OVN has the logical switch port, named by the port id, with its MAC and address. */
    lsp = tl_ovn_nbctl(&ovn, NULL, "lsp-get-addresses %s", port);
    v = port_col(port, "mac");
    tl_assert_contains(lsp, v);
    free(v);
    v = port_col(port, "ip");
    tl_assert_contains(lsp, v);
    free(v);
    free(lsp);

    /* GET shows the NIC and its address. */
    x = bed_get("instances", id);
    nics = json_object_get(x, "nics");
    ck_assert_uint_eq(json_array_size(nics), 1);
    ck_assert_str_eq(tl_str(json_array_get(nics, 0), "port"), port);
    ck_assert_str_eq(tl_str(json_array_get(nics, 0), "ip"), v = port_col(port, "ip"));
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(x, "addresses"), 0)), v);
    free(v);
    json_decref(x);

    /* The second instance reuses the defaults: one network, another address. */
    create_ok("web-2", NULL, id2);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM networks"), 1);
    port_of(id2, 0, port2);
    {
        char *a = port_col(port, "ip"), *b = port_col(port2, "ip");
        ck_assert_str_ne(a, b);
        free(a);
        free(b);
    }

    /* The delete deletes the ports the instances made. */
    delete_instance(id);
    wait_port_state(port, "deleted");
    delete_instance(id2);
    wait_port_state(port2, "deleted");
}
END_TEST

/* Two regions with hosts: the workspace's default network is made where the instance goes
 * (the region it names, else its image's), not in the first region of the policy; once it
 * exists, an instance of another region without nics is told why it cannot join it. */
START_TEST(the_default_network_is_made_in_the_instance_s_region)
{
    char id[40], id2[40], host2[40], op_id[40], body[512], *u;
    json_t *j;

    start(true);
    u = tl_test_host_uri(tmp, "node-de", 4, 8);
    bed_host_add("node-de", REGION2, "a", u, true, host2);
    free(u);
    bed_image("base-de", REGION2, WAIT_S, NULL);

    j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER],
                   "{\"name\":\"de-1\",\"flavor\":\"" FLAVOR "\",\"image\":\"base-de\","
                   "\"region\":\"" REGION2 "\"}", 202);
    snprintf(id, sizeof(id), "%s", tl_str(json_object_get(j, "instance"), "id"));
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
    json_decref(bed_wait_state("instances", id, "running", WAIT_S));
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM networks WHERE name = 'default' AND"
                                   " is_default AND region = '" REGION2 "'"), 1);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM networks"), 1);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM instances WHERE id = '%s' AND"
                                   " host_id = '%s'", id, host2), 1);

    /* Without a region, the image's: the same network, in REGION2. */
    j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER],
                   "{\"name\":\"de-2\",\"flavor\":\"" FLAVOR "\",\"image\":\"base-de\"}",
                   202);
    snprintf(id2, sizeof(id2), "%s", tl_str(json_object_get(j, "instance"), "id"));
    json_decref(j);
    json_decref(bed_wait_state("instances", id2, "running", WAIT_S));
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM networks"), 1);

    /* An instance of REGION (its image's) cannot take the default network of REGION2. */
    snprintf(body, sizeof(body), "{\"name\":\"fr-1\",\"flavor\":\"" FLAVOR "\","
             "\"image\":\"" IMAGE "\"}");
    bed_refused("POST", "/v1/instances", acme.token[TL_MEMBER], body, 400, INVALID, "region",
                "is in region '" REGION2 "'");
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM instances WHERE name = 'fr-1'"), 0);
}
END_TEST

START_TEST(nics_take_a_subnet_with_an_address_and_an_existing_port)
{
    char id[40], first[40], subnet[40], port[40], nics[512], got[40];
    json_t *x;

    start(true);
    create_ok("first", NULL, first);    /* the defaults */
    make("subnets", "subnet", "{\"name\":\"app\",\"network\":\"default\","
         "\"cidr\":\"10.0.1.0/24\"}", subnet);
    make("ports", "port", "{\"name\":\"p1\",\"subnet\":\"default\"}", port);
    snprintf(nics, sizeof(nics), "[{\"subnet\":\"app\",\"ip\":\"10.0.1.10\"},"
             "{\"port\":\"p1\"}]");
    create_ok("two-nics", nics, id);
    port_of(id, 0, got);
    assert_port(got, "ip", "10.0.1.10");
    assert_port(got, "subnet_id", subnet);
    assert_port(got, "created_by_instance", id);
    port_of(id, 1, got);
    ck_assert_str_eq(got, port);
    assert_port(port, "created_by_instance", "");
    assert_port(port, "state", "in-use");
    assert_domain_nic(id, port);
    x = bed_get("instances", id);
    ck_assert_uint_eq(json_array_size(json_object_get(x, "nics")), 2);
    ck_assert_str_eq(tl_str(json_array_get(json_object_get(x, "nics"), 1), "port"), port);
    json_decref(x);

    /* Deleted: the port it made goes, the given one is free again. */
    port_of(id, 0, got);
    delete_instance(id);
    wait_port_state(got, "deleted");
    wait_port_state(port, "available");
    assert_port(port, "instance_id", "");
    delete_instance(first);
}
END_TEST

START_TEST(bad_nics_are_refused_and_write_nothing)
{
    char first[40], port[40], other_net[40], globex_sub[40], body[512];
    json_t *j;

    start(true);
    create_ok("first", NULL, first);
    port_of(first, 0, port);
    /* Another tenant's subnet does not exist for acme. */
    j = tl_call_ok(&sovd, "POST", "/v1/networks", globex.token[TL_MEMBER],
                   "{\"name\":\"g\",\"cidr\":\"10.9.0.0/16\"}", 202);
    json_decref(j);
    j = tl_call_ok(&sovd, "POST", "/v1/subnets", globex.token[TL_MEMBER],
                   "{\"name\":\"gs\",\"network\":\"g\",\"cidr\":\"10.9.0.0/24\"}", 202);
    snprintf(globex_sub, sizeof(globex_sub), "%s", tl_str(json_object_get(j, "subnet"), "id"));
    json_decref(j);
    snprintf(body, sizeof(body), "[{\"subnet\":\"%s\"}]", globex_sub);
    refused(body, 404, "/problems/not-found", "nics[0].subnet");
    /* A port in another instance. */
    snprintf(body, sizeof(body), "[{\"port\":\"%s\"}]", port);
    refused(body, 409, "/problems/conflict", "nics[0].port");
    /* An address taken (the first instance's). */
    {
        char *ip = port_col(port, "ip");
        snprintf(body, sizeof(body), "[{\"subnet\":\"default\",\"ip\":\"%s\"}]", ip);
        free(ip);
        refused(body, 409, "/problems/conflict", NULL);
    }
    /* Two regions. */
    make("networks", "network", "{\"name\":\"de\",\"cidr\":\"10.8.0.0/16\",\"region\":\""
         REGION2 "\"}", other_net);
    make("subnets", "subnet", "{\"name\":\"de-sub\",\"network\":\"de\","
         "\"cidr\":\"10.8.0.0/24\"}", other_net);
    refused("[{\"subnet\":\"default\"},{\"subnet\":\"de-sub\"}]", 400, INVALID,
            "nics");
    /* The dry run reads nics as the create does: the same refusal; NICs in the host's region
     * place it there; nothing is made. */
    {
        long long before = rows();
        json_t *d;

        bed_refused("POST", "/v1/placement/dry-run", acme.token[TL_MEMBER],
                    "{\"flavor\":\"" FLAVOR "\",\"nics\":[{\"subnet\":\"default\"},"
                    "{\"subnet\":\"de-sub\"}]}", 400, INVALID, "nics", NULL);
        d = tl_call_ok(&sovd, "POST", "/v1/placement/dry-run", acme.token[TL_MEMBER],
                       "{\"flavor\":\"" FLAVOR "\",\"nics\":[{\"subnet\":\"default\"}]}",
                       200);
        ck_assert_str_eq(tl_str(json_object_get(d, "placement"), "region"), REGION);
        json_decref(d);
        ck_assert_int_eq(rows(), before);
    }
    /* Bad members. */
    refused("[{\"subnet\":\"default\",\"port\":\"p\"}]", 400, INVALID, "nics[0]");
    refused("[{}]", 400, INVALID, "nics[0]");
    refused("[{\"subnet\":\"default\",\"mtu\":9000}]", 400, INVALID, "nics[0]");
    refused("[{\"subnet\":7}]", 400, INVALID, "nics[0].subnet");
    refused("[{\"port\":\"p\",\"ip\":\"10.0.0.9\"}]", 400, INVALID,
            "nics[0].port");
    refused("\"default\"", 400, INVALID, "nics");
    refused("[{},{},{},{},{},{},{},{},{}]", 400, INVALID, "nics");
    delete_instance(first);
}
END_TEST

/* POST /v1/ports/{id}/actions as acme's member: 202, its operation waited. */
static void
port_action(const char *port, const char *body)
{
    char path[128], op_id[40];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/ports/%s/actions", port);
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], body, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, WAIT_S);
}

/* port.attach and port.detach (network/port_plug.c): a free port is hot plugged into a
 * running instance (its domain's definition gains the OVS NIC, the port in-use at the next
 * device) and out again (available, the NIC gone); the instance's own NIC stays. */
START_TEST(a_port_is_hot_plugged_into_a_running_instance_and_out)
{
    char id[40], own[40], port[40], want[160], *xml = NULL, *mac;

    start(true);
    create_ok("vm", NULL, id);
    port_of(id, 0, own);
    make("ports", "port", "{\"name\":\"extra\",\"subnet\":\"default\"}", port);
    wait_port_state(port, "available");
    port_action(port, "{\"action\":\"attach\",\"instance\":\"vm\"}");
    wait_port_state(port, "in-use");
    assert_port(port, "instance_id", id);
    assert_port(port, "device_index", "1");
    assert_domain_nic(id, port);
    assert_domain_nic(id, own);

    mac = port_col(port, "mac");
    port_action(port, "{\"action\":\"detach\"}");
    wait_port_state(port, "available");
    assert_port(port, "instance_id", "");
    ck_assert_int_eq(tl_virsh(uri, &xml, "dumpxml sov-%s --inactive", id), 0);
    snprintf(want, sizeof(want), "<mac address='%s'/>", mac);
    ck_assert_msg(!strstr(xml, want), "the NIC is still there: %s", xml);
    free(xml);
    free(mac);
    assert_domain_nic(id, own);
    delete_instance(id);
    wait_port_state(port, "available");
}
END_TEST

START_TEST(without_ovn_an_instance_keeps_the_nat_nic)
{
    char id[40], *xml = NULL;
    json_t *x;

    start(false);
    create_ok("nat", NULL, id);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM instances WHERE id = '%s' AND"
                                   " nat_nic", id), 1);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM ports"), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM networks"), 0);
    ck_assert_int_eq(tl_virsh(uri, &xml, "dumpxml sov-%s --inactive", id), 0);
    tl_assert_contains(xml, "<interface type='network'>");
    ck_assert_ptr_null(strstr(xml, "openvswitch"));
    free(xml);
    x = bed_get("instances", id);
    ck_assert_uint_eq(json_array_size(json_object_get(x, "nics")), 0);
    json_decref(x);
    /* nics need OVN. */
    bed_refused("POST", "/v1/instances", acme.token[TL_MEMBER],
                "{\"name\":\"n\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\","
                "\"nics\":[{\"subnet\":\"default\"}]}", 400, INVALID, "nics",
                "ovn_nb");
    delete_instance(id);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("network/instances");
    TCase *tc = tcase_create("instances");

    tcase_add_checked_fixture(tc, setup, bed_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, a_plain_create_makes_the_default_network_and_one_port);
    tcase_add_test(tc, the_default_network_is_made_in_the_instance_s_region);
    tcase_add_test(tc, nics_take_a_subnet_with_an_address_and_an_existing_port);
    tcase_add_test(tc, bad_nics_are_refused_and_write_nothing);
    tcase_add_test(tc, a_port_is_hot_plugged_into_a_running_instance_and_out);
    tcase_add_test(tc, without_ovn_an_instance_keeps_the_nat_nic);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
