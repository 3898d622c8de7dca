/* The OVN syncs against a real OVN (tl_ovn_start: Northbound, Southbound, ovn-northd) and a
 * real PostgreSQL: rows written with SQL as the services of networks, subnets, ports,
 * security groups, routers and public IPs write them, then the scope syncs and the
 * reconciler's pass called in this process, and the Northbound read back with ovn-nbctl.
 * A network with a subnet and two ports gives its switch, DHCP options and ports; security
 * group rules give ACLs, and a deleted rule loses its ACL; a router with SNAT and a public
 * IP gives its router, ports, NAT and the pool's external switch with a localnet port;
 * deleting removes everything and moves rows to deleted with their quota given back; a sync
 * with nothing to do writes nothing; drift is repaired by one reconcile pass while rows
 * without our sov:cp survive. Every test has a database of its own, hence a control_plane id
 * of its own: the tests share one OVN as two deployments would, and never touch each other's
 * rows. */
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network_int.h"
#include "ovn_bed.h"
#include "sov/config.h"
#include "sov/migrate.h"
#include "testlib.h"

static tl_ovn ovn;
static char *url;
static sov_db *db;
static PGconn *pg;
static sov_config cfg;
static sov_ctx ctx;
static char tenant[SOV_UUID_LEN + 1], cp[SOV_UUID_LEN + 1];

/* SQL on the test's own connection; the first value into ret (size) unless NULL. */
#define sql(...) tl_pg_sql(pg, __VA_ARGS__)

#define SQLV(buf, ...) sql((buf), sizeof(buf), __VA_ARGS__)
#define nbctl(...) ovn_bed_nbctl(&ovn, __VA_ARGS__)


/* The nbctl output contains (or lacks) part. */
static void __attribute__((format(printf, 3, 4)))
nb_has(bool want, const char *part, const char *fmt, ...)
{
    char *args = NULL, *out;
    va_list ap;

    va_start(ap, fmt);
    ck_assert(vasprintf(&args, fmt, ap) > 0);
    va_end(ap);
    out = tl_ovn_nbctl(&ovn, NULL, "%s", args);
    ck_assert_msg((strstr(out, part) != NULL) == want, "'%s' %s in the output of '%s':\n%s",
                  part, want ? "missing" : "present", args, out);
    free(out);
    free(args);
}

static void
ovn_up(void)
{
    memset(&ovn, 0, sizeof(ovn));
    tl_ovn_start(&ovn, NULL, false);
}

static void
ovn_up_chassis(void)
{
    memset(&ovn, 0, sizeof(ovn));
    tl_ovn_start(&ovn, NULL, true);
}

static void
ovn_down(void)
{
    tl_ovn_discard(&ovn);
}


static void
setup(void)
{
    ovn_bed_db_open(&url, &db, &pg);
    ovn_bed_config(&cfg, &ovn);
    memset(&ctx, 0, sizeof(ctx));
    ctx.db = db;
    ctx.cfg = &cfg;
    ctx.request_id = "";
    ctx.source = "";
    ctx.action = "network.sync";
    SQLV(tenant, "INSERT INTO tenants (name) VALUES ('acme') RETURNING id");
    SQLV(cp, "SELECT id FROM control_plane");
    sql(NULL, 0, "INSERT INTO workspaces (tenant_id, name) VALUES ('%s', 'default')", tenant);
    sql(NULL, 0, "INSERT INTO quotas (tenant_id, resource, max, used) SELECT '%s', r, 100, 5"
        " FROM unnest(ARRAY['networks', 'subnets', 'ports', 'security_groups',"
        " 'security_group_rules', 'public_ips']) r", tenant);
    sql(NULL, 0, "INSERT INTO regions (code, name, country, jurisdiction, datacenter) VALUES"
        " ('fr-1', 'Region fr-1', 'FR', 'EU', 'dc-1')");
    sql(NULL, 0, "INSERT INTO zones (region, name) VALUES ('fr-1', 'a')");
}

static void
teardown(void)
{
    ovn_bed_close(url, db, pg, &cfg);
}

/* ---- rows as the services write them ---- */

static void
make_network(char *id, const char *state)
{
    sql(id, SOV_UUID_LEN + 1, "INSERT INTO networks (id, tenant_id, workspace, name, cidr,"
        " region, state) VALUES (gen_random_uuid(), '%s', 'default', 'net-' ||"
        " substr(md5(random()::text), 1, 8), '10.0.0.0/16', 'fr-1', '%s') RETURNING id",
        tenant, state);
}

static void
make_subnet(char *id, const char *net, const char *cidr, const char *gw, const char *dns)
{
    sql(id, SOV_UUID_LEN + 1, "INSERT INTO subnets (id, tenant_id, workspace, name,"
        " network_id, cidr, gateway, dns_servers, state) VALUES (gen_random_uuid(), '%s',"
        " 'default', 'sub-' || substr(md5(random()::text), 1, 8), '%s', '%s', '%s', '%s',"
        " 'creating') RETURNING id", tenant, net, cidr, gw, dns);
}

static void
make_port(char *id, const char *net, const char *subnet, const char *ip, const char *mac)
{
    sql(id, SOV_UUID_LEN + 1, "INSERT INTO ports (id, tenant_id, workspace, name, network_id,"
        " subnet_id, ip, mac, state) VALUES (gen_random_uuid(), '%s', 'default', 'port-' ||"
        " substr(md5(random()::text), 1, 8), '%s', '%s', '%s', '%s', 'creating')"
        " RETURNING id", tenant, net, subnet, ip, mac);
}

static void
make_sg(char *id)
{
    sql(id, SOV_UUID_LEN + 1, "INSERT INTO security_groups (id, tenant_id, workspace, name,"
        " state) VALUES (gen_random_uuid(), '%s', 'default', 'sg-' ||"
        " substr(md5(random()::text), 1, 8), 'creating') RETURNING id", tenant);
}

static void
make_rule(char *id, const char *sg, const char *dir, const char *proto, const char *pmin,
          const char *pmax, const char *cidr, const char *remote)
{
    sql(id, SOV_UUID_LEN + 1, "INSERT INTO security_group_rules (id, security_group_id,"
        " tenant_id, direction, protocol, port_min, port_max, remote_cidr, remote_group_id)"
        " VALUES (gen_random_uuid(), '%s', '%s', '%s', '%s', %s, %s, %s, %s) RETURNING id",
        sg, tenant, dir, proto, pmin, pmax, cidr, remote);
}

/* One scope's sync, which must report want_changed. */
static void
sync_scope(int (*sync)(sov_ctx *, const char *, bool *, sov_error *), const char *what,
           const char *id, bool want_changed)
{
    sov_error err = SOV_ERROR_INIT;
    bool changed = !want_changed;

    ck_assert_msg(sync(&ctx, id, &changed, &err) == 0, "%s: %s", err.msg, err.detail);
    ck_assert_msg(changed == want_changed, "%s sync changed: %d", what, changed);
}

#define sync_net(id, want) sync_scope(sov_ovn_sync_network, "network", (id), (want))
#define sync_sg(id, want) sync_scope(sov_ovn_sync_sg, "sg", (id), (want))
#define sync_router(id, want) sync_scope(sov_ovn_sync_router, "router", (id), (want))

/* What the operation of a resource does (net_ops.c), outside an operation. */
static void
sync_resource(const char *type, const char *id)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_msg(sov_net_sync_resource(&ctx, type, id, &err) == 0, "%s %s: %s: %s", type, id,
                  err.msg, err.detail);
}

static unsigned
reconcile(void)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned repairs = 0;

    ck_assert_msg(sov_ovn_reconcile(&ctx, &repairs, &err) == 0, "%s: %s", err.msg,
                  err.detail);
    return repairs;
}

static void __attribute__((format(printf, 2, 3)))
assert_value(const char *want, const char *fmt, ...)
{
    char got[256], *q = NULL;
    va_list ap;

    va_start(ap, fmt);
    ck_assert(vasprintf(&q, fmt, ap) > 0);
    va_end(ap);
    SQLV(got, "%s", q);
    ck_assert_msg(strcmp(got, want) == 0, "%s: '%s', want '%s'", q, got, want);
    free(q);
}

/* A network, a /24 subnet with DNS servers and two ports. */
typedef struct net3 {
    char net[SOV_UUID_LEN + 1], sub[SOV_UUID_LEN + 1];
    char p1[SOV_UUID_LEN + 1], p2[SOV_UUID_LEN + 1];
} net3;

static void
make_net3(net3 *n)
{
    make_network(n->net, "creating");
    make_subnet(n->sub, n->net, "10.0.1.0/24", "10.0.1.1", "{9.9.9.9,1.1.1.1}");
    make_port(n->p1, n->net, n->sub, "10.0.1.2", "02:00:00:00:01:02");
    make_port(n->p2, n->net, n->sub, "10.0.1.3", "02:00:00:00:01:03");
}

START_TEST(network_subnet_and_ports_give_switch_dhcp_and_ports)
{
    net3 n;
    char *out, *dhcp, drop[64];

    make_net3(&n);
    sync_net(n.net, true);
    nb_has(true, n.p1, "lsp-list sov-net-%s", n.net);
    nb_has(true, n.p2, "lsp-list sov-net-%s", n.net);
    nb_has(true, "02:00:00:00:01:02 10.0.1.2", "lsp-get-addresses %s", n.p1);
    nb_has(true, "02:00:00:00:01:03 10.0.1.3", "lsp-get-port-security %s", n.p2);
    nb_has(true, "sov:cp", "get logical_switch sov-net-%s external_ids", n.net);
    nb_has(true, cp, "get logical_switch sov-net-%s external_ids", n.net);
    nb_has(true, tenant, "get logical_switch sov-net-%s external_ids", n.net);
    /* No IPAM of OVN's own. */
    nb_has(true, "{}", "get logical_switch sov-net-%s other_config", n.net);
    dhcp = nbctl("--bare --columns=_uuid find dhcp_options cidr=\"10.0.1.0/24\""
                 " 'external_ids:\"sov:id\"=%s'", n.sub);
    ck_assert_msg(strlen(dhcp) == 36, "dhcp options: '%s'", dhcp);
    out = nbctl("get dhcp_options %s options", dhcp);
    tl_assert_contains(out, "router=\"10.0.1.1\"");
    tl_assert_contains(out, "server_id=\"10.0.1.1\"");
    tl_assert_contains(out, "lease_time=\"3600\"");
    tl_assert_contains(out, "mtu=\"1442\"");
    tl_assert_contains(out, "server_mac=\"0a:");
    tl_assert_contains(out, "dns_server=\"{9.9.9.9, 1.1.1.1}\"");
    free(out);
    nb_has(true, dhcp, "lsp-get-dhcpv4-options %s", n.p1);
    free(dhcp);
    /* Every port is in the deployment's drop group; with no group, in nogroup too. */
    snprintf(drop, sizeof(drop), "sov_cp_%.8s_drop", cp);
    out = nbctl("--bare --columns=ports find port_group name=%s", drop);
    ck_assert_msg(strlen(out) >= 73, "drop group's ports: '%s'", out);
    free(out);
    nb_has(true, "outport == @sov_cp_", "acl-list %s", drop);
    nb_has(true, "udp.dst == 67", "acl-list %s", drop);
    assert_value("available", "SELECT state FROM networks WHERE id = '%s'", n.net);
    assert_value("available", "SELECT state FROM subnets WHERE id = '%s'", n.sub);
    assert_value("available", "SELECT state FROM ports WHERE id = '%s'", n.p1);
    assert_value("t", "SELECT ovn_synced_at IS NOT NULL FROM ports WHERE id = '%s'", n.p2);
    /* Nothing to do the second time: no transaction. */
    sync_net(n.net, false);
}
END_TEST

START_TEST(rules_give_acls_and_a_deleted_rule_loses_its_acl)
{
    net3 n;
    char sg[SOV_UUID_LEN + 1], other[SOV_UUID_LEN + 1], r1[SOV_UUID_LEN + 1];
    char r2[SOV_UUID_LEN + 1], r3[SOV_UUID_LEN + 1], pgname[64], nogroup[64], *out;

    make_net3(&n);
    make_sg(sg);
    make_sg(other);
    make_rule(r1, sg, "ingress", "tcp", "22", "22", "'0.0.0.0/0'", "NULL");
    make_rule(r2, sg, "ingress", "tcp", "8000", "8080", "NULL", "NULL");
    make_rule(r3, sg, "ingress", "icmp", "NULL", "NULL", "NULL", "(SELECT id FROM"
              " security_groups WHERE name LIKE 'sg-%%' ORDER BY created_at DESC LIMIT 1)");
    sql(NULL, 0, "UPDATE security_group_rules SET remote_group_id = '%s' WHERE id = '%s'",
        other, r3);
    make_rule(NULL, sg, "egress", "any", "NULL", "NULL", "NULL", "NULL");
    sql(NULL, 0, "INSERT INTO port_security_groups VALUES ('%s', '%s')", n.p1, sg);
    /* A port's operation: its network, then every group of its tenant. */
    sync_resource("port", n.p1);
    sync_sg(other, false);
    snprintf(pgname, sizeof(pgname), "sov_sg_%s", sg);
    for (char *s = pgname; *s; s++)
        *s = *s == '-' ? '_' : *s;
    out = nbctl("acl-list %s", pgname);
    tl_assert_contains(out, "to-lport  1002 (outport == @");
    tl_assert_contains(out, "ip4.src == 0.0.0.0/0 && tcp && tcp.dst == 22) allow-related");
    tl_assert_contains(out, "tcp && tcp.dst >= 8000 && tcp.dst <= 8080) allow-related");
    tl_assert_contains(out, "_ip4 && icmp4) allow-related");
    tl_assert_contains(out, "from-lport  1002 (inport == @");
    free(out);
    out = nbctl("--bare --columns=_uuid list logical_switch_port %s", n.p1);
    nb_has(true, out, "--bare --columns=ports find port_group name=%s", pgname);
    free(out);
    /* A port with a group leaves nogroup (its egress is the group's to allow). */
    snprintf(nogroup, sizeof(nogroup), "sov_cp_%.8s_nogroup", cp);
    out = nbctl("--bare --columns=_uuid list logical_switch_port %s", n.p1);
    nb_has(false, out, "--bare --columns=ports find port_group name=%s", nogroup);
    free(out);
    out = nbctl("--bare --columns=_uuid list logical_switch_port %s", n.p2);
    nb_has(true, out, "--bare --columns=ports find port_group name=%s", nogroup);
    free(out);
    assert_value("available", "SELECT state FROM security_groups WHERE id = '%s'", sg);
    sync_sg(sg, false);
    sql(NULL, 0, "DELETE FROM security_group_rules WHERE id = '%s'", r1);
    sync_sg(sg, true);
    nb_has(false, "tcp.dst == 22", "acl-list %s", pgname);
    nb_has(true, "tcp.dst >= 8000", "acl-list %s", pgname);
    /* Deleting the group takes its port group and ACLs. */
    sql(NULL, 0, "UPDATE security_groups SET state = 'deleting' WHERE id = '%s'", sg);
    sync_sg(sg, true);
    out = nbctl("--bare --columns=_uuid find port_group name=%s", pgname);
    ck_assert_str_eq(out, "");
    free(out);
    assert_value("deleted", "SELECT state FROM security_groups WHERE id = '%s'", sg);
    assert_value("4", "SELECT used FROM quotas WHERE tenant_id = '%s'"
                 " AND resource = 'security_groups'", tenant);
}
END_TEST

typedef struct routed {
    net3 n;
    char pool[SOV_UUID_LEN + 1], router[SOV_UUID_LEN + 1];
    char rip[SOV_UUID_LEN + 1], fip[SOV_UUID_LEN + 1];
} routed;

static void
make_routed(routed *r)
{
    make_net3(&r->n);
    sql(NULL, 0, "INSERT INTO hosts (name, region, zone, libvirt_uri, hypervisor, cpus,"
        " memory_mib, host_uuid) VALUES ('h1', 'fr-1', 'a', 'test:///default', 'test', 4,"
        " 4096, 'chassis-h1'), ('h2', 'fr-1', 'a', 'test:///default', 'test', 4, 4096,"
        " 'chassis-h2')");
    SQLV(r->pool, "INSERT INTO public_ip_pools (id, region, name, cidr, gateway, first_ip,"
         " last_ip) VALUES (gen_random_uuid(), 'fr-1', 'pub', '198.51.100.0/24',"
         " '198.51.100.1', '198.51.100.10', '198.51.100.200') RETURNING id");
    SQLV(r->router, "INSERT INTO routers (id, tenant_id, workspace, name, network_id, region,"
         " state) VALUES (gen_random_uuid(), '%s', 'default', 'gw', '%s', 'fr-1', 'creating')"
         " RETURNING id", tenant, r->n.net);
    SQLV(r->rip, "INSERT INTO public_ips (id, tenant_id, workspace, name, kind, region,"
         " pool_id, address, router_id, state) VALUES (gen_random_uuid(), '%s', 'default',"
         " 'gw-ip', 'router', 'fr-1', '%s', '198.51.100.10', '%s', 'creating') RETURNING id",
         tenant, r->pool, r->router);
    SQLV(r->fip, "INSERT INTO public_ips (id, tenant_id, workspace, name, region, pool_id,"
         " address, port_id, state) VALUES (gen_random_uuid(), '%s', 'default', 'web',"
         " 'fr-1', '%s', '198.51.100.11', '%s', 'attaching') RETURNING id", tenant, r->pool,
         r->n.p1);
}

START_TEST(router_gives_router_ports_nat_and_external_switch)
{
    routed r;
    char *out;

    make_routed(&r);
    sync_router(r.router, true);
    sync_net(r.n.net, true);
    nb_has(true, "sov-rtr-", "lr-list");
    out = nbctl("lrp-list sov-rtr-%s", r.router);
    tl_assert_contains(out, "sov-lrp-");
    tl_assert_contains(out, "-gw");
    free(out);
    nb_has(true, "10.0.1.1/24", "get logical_router_port sov-lrp-%s networks", r.n.sub);
    nb_has(true, "198.51.100.10/24", "get logical_router_port sov-rtr-%s-gw networks",
           r.router);
    out = nbctl("lrp-get-gateway-chassis sov-rtr-%s-gw", r.router);
    tl_assert_contains(out, "chassis-h1");
    tl_assert_contains(out, "chassis-h2");
    free(out);
    out = nbctl("lr-nat-list sov-rtr-%s", r.router);
    tl_assert_contains(out, "snat");
    tl_assert_contains(out, "10.0.1.0/24");
    tl_assert_contains(out, "dnat_and_snat");
    tl_assert_contains(out, "198.51.100.11");
    free(out);
    nb_has(true, "198.51.100.1", "lr-route-list sov-rtr-%s", r.router);
    nb_has(true, "localnet", "show sov-ext-%s", r.pool);
    nb_has(true, "public", "get logical_switch_port sov-ext-%s-localnet options", r.pool);
    nb_has(true, "router-port", "get logical_switch_port sov-rtr-%s-ext options", r.router);
    /* The router's leg on the network's switch (network scope). */
    nb_has(true, "sov-rtr-", "lsp-list sov-net-%s", r.n.net);
    assert_value("available", "SELECT state FROM routers WHERE id = '%s'", r.router);
    assert_value("in-use", "SELECT state FROM public_ips WHERE id = '%s'", r.fip);
    assert_value("in-use", "SELECT state FROM public_ips WHERE id = '%s'", r.rip);
    sync_router(r.router, false);
    /* Detaching the public IP takes its NAT away and frees it. */
    sql(NULL, 0, "UPDATE public_ips SET state = 'detaching' WHERE id = '%s'", r.fip);
    sync_resource("public_ip", r.fip);
    nb_has(false, "dnat_and_snat", "lr-nat-list sov-rtr-%s", r.router);
    assert_value("available", "SELECT state FROM public_ips WHERE id = '%s'", r.fip);
    assert_value("t", "SELECT port_id IS NULL FROM public_ips WHERE id = '%s'", r.fip);
    /* Deleting the router removes it; the pool's switch goes at the next reconcile. */
    /* A public IP on no port moves alone; so does its delete. */
    sql(NULL, 0, "UPDATE public_ips SET state = 'deleting' WHERE id = '%s'", r.fip);
    sync_resource("public_ip", r.fip);
    assert_value("deleted", "SELECT state FROM public_ips WHERE id = '%s'", r.fip);
    /* The router's operation syncs the router, then its network's router ports. */
    sql(NULL, 0, "UPDATE routers SET state = 'deleting' WHERE id = '%s'", r.router);
    sync_resource("router", r.router);
    nb_has(false, "sov-rtr-", "lr-list");
    nb_has(false, "sov-rtr-", "lsp-list sov-net-%s", r.n.net);
    assert_value("deleted", "SELECT state FROM routers WHERE id = '%s'", r.router);
    assert_value("deleted", "SELECT state FROM public_ips WHERE id = '%s'", r.rip);
    ck_assert_uint_ge(reconcile(), 1);
    nb_has(false, r.pool, "ls-list");
}
END_TEST

START_TEST(deleting_removes_everything_and_gives_quota_back)
{
    net3 n;
    char *out;

    make_net3(&n);
    sync_net(n.net, true);
    sql(NULL, 0, "UPDATE ports SET state = 'deleting' WHERE network_id = '%s'", n.net);
    sql(NULL, 0, "UPDATE subnets SET state = 'deleting' WHERE id = '%s'", n.sub);
    sql(NULL, 0, "UPDATE networks SET state = 'deleting' WHERE id = '%s'", n.net);
    ctx.action = "network.delete";
    sync_net(n.net, true);
    nb_has(false, n.net, "ls-list");
    out = nbctl("--bare --columns=_uuid find dhcp_options"
                 " 'external_ids:\"sov:id\"=%s'", n.sub);
    ck_assert_str_eq(out, "");
    free(out);
    out = nbctl("--bare --columns=_uuid find logical_switch_port name=%s", n.p1);
    ck_assert_str_eq(out, "");
    free(out);
    assert_value("deleted", "SELECT state FROM networks WHERE id = '%s'", n.net);
    assert_value("t", "SELECT deleted_at IS NOT NULL FROM ports WHERE id = '%s'", n.p1);
    assert_value("3", "SELECT used FROM quotas WHERE tenant_id = '%s'"
                 " AND resource = 'ports'", tenant);
    assert_value("4", "SELECT used FROM quotas WHERE tenant_id = '%s'"
                 " AND resource = 'networks'", tenant);
    assert_value("4", "SELECT count(*) FROM audit_log WHERE action = 'network.delete'"
                 " AND outcome = 204 AND tenant_id = '%s'", tenant);
    sync_net(n.net, false);
}
END_TEST

START_TEST(reconcile_repairs_drift_and_leaves_foreign_rows)
{
    net3 n;
    char ghost[SOV_UUID_LEN + 1], foreign[64], *out;

    make_net3(&n);
    sync_net(n.net, true);
    ck_assert_uint_eq(reconcile(), 0);
    SQLV(ghost, "SELECT gen_random_uuid()");
    snprintf(foreign, sizeof(foreign), "foreign-%.8s", ghost);
    free(nbctl("lsp-del %s", n.p1));
    free(nbctl("lsp-set-addresses %s \"02:00:00:00:09:09 10.0.1.99\"", n.p2));
    free(nbctl("ls-add %s", foreign));
    free(nbctl("ls-add sov-net-%s -- set logical_switch sov-net-%s"
               " 'external_ids:\"sov:cp\"=%s' 'external_ids:\"sov:scope\"=\"network:%s\"'"
               " 'external_ids:\"sov:key\"=x'", ghost, ghost, cp, ghost));
    ctx.action = "network.reconcile";
    ck_assert_uint_eq(reconcile(), 2);
    nb_has(true, n.p1, "lsp-list sov-net-%s", n.net);
    nb_has(true, "02:00:00:00:01:03 10.0.1.3", "lsp-get-addresses %s", n.p2);
    nb_has(true, foreign, "ls-list");
    nb_has(false, ghost, "ls-list");
    assert_value("2", "SELECT count(*) FROM audit_log WHERE action = 'network.reconcile'"
                 " AND resource_type = 'network'");
    ck_assert_uint_eq(reconcile(), 0);
    out = nbctl("ls-del %s", foreign);
    free(out);
}
END_TEST

/* Another deployment (its own database, so its own sov:cp) on the same OVN: its pass
 * removes none of ours, and ours none of its. */
START_TEST(two_deployments_never_touch_each_others_rows)
{
    net3 n;
    char *other_url, *saved_url = url;
    sov_db *saved_db = db;
    PGconn *saved_pg = pg;
    sov_config saved_cfg = cfg;
    char mine[SOV_UUID_LEN + 1];

    make_net3(&n);
    sync_net(n.net, true);
    snprintf(mine, sizeof(mine), "%s", n.net);
    /* The second deployment. */
    setup();
    other_url = url;
    make_net3(&n);
    sync_net(n.net, true);
    ck_assert_uint_eq(reconcile(), 0);
    nb_has(true, mine, "ls-list");
    teardown();
    (void) other_url;
    url = saved_url;
    db = saved_db;
    pg = saved_pg;
    cfg = saved_cfg;
    ctx.db = db;
    SQLV(cp, "SELECT id FROM control_plane");
    ck_assert_uint_eq(reconcile(), 0);
    nb_has(true, n.net, "ls-list");
    nb_has(true, mine, "ls-list");
}
END_TEST

/* One network sync with 4 ports, from nothing in OVN: printed for the README. */
START_TEST(one_network_sync_with_four_ports_time)
{
    net3 n;
    char p3[SOV_UUID_LEN + 1], p4[SOV_UUID_LEN + 1];
    double t0, t1, t2;

    make_net3(&n);
    make_port(p3, n.net, n.sub, "10.0.1.4", "02:00:00:00:01:04");
    make_port(p4, n.net, n.sub, "10.0.1.5", "02:00:00:00:01:05");
    t0 = tl_now();
    sync_net(n.net, true);
    t1 = tl_now();
    sync_net(n.net, false);
    t2 = tl_now();
    printf("network/sync: one network sync with 4 ports: %.1f ms; the same with nothing to "
           "change: %.1f ms\n", (t1 - t0) * 1000, (t2 - t1) * 1000);
    fflush(stdout);
    nb_has(true, p4, "lsp-list sov-net-%s", n.net);
}
END_TEST

/* A port plugged into an instance on a host asks for the host's chassis; once
 * ovn-controller binds it there, sov_ovn_ports_up says so and records it. */
START_TEST(plugged_port_asks_for_its_chassis_and_comes_up_there)
{
    net3 n;
    char inst[SOV_UUID_LEN + 1], *opts;
    const char *ids[2];
    sov_error err = SOV_ERROR_INIT;
    bool all_up = true;
    double end;

    make_net3(&n);
    sql(NULL, 0, "INSERT INTO hosts (name, region, zone, libvirt_uri, hypervisor, cpus,"
        " memory_mib, host_uuid) VALUES ('h1', 'fr-1', 'a', 'test:///default', 'test', 4,"
        " 4096, '%s')", ovn.system_id);
    sql(NULL, 0, "INSERT INTO flavors (name, vcpus, memory_mib, disk_gib) VALUES"
        " ('small', 1, 512, 1)");
    sql(NULL, 0, "INSERT INTO images (tenant_id, workspace, name, region, format) VALUES"
        " ('%s', 'default', 'img', 'fr-1', 'qcow2')", tenant);
    SQLV(inst, "INSERT INTO instances (id, tenant_id, workspace, name, flavor_id, image_id,"
         " vcpus, memory_mib, disk_gib, gpus, region, zone, mac, state, host_id)"
         " SELECT gen_random_uuid(), '%s', 'default', 'vm', f.id, i.id, 1, 512, 1, 0, 'fr-1', 'a', '', 'building', h.id"
         " FROM flavors f, images i, hosts h RETURNING id", tenant);
    sql(NULL, 0, "UPDATE ports SET instance_id = '%s', device_index = 0, state = 'attaching'"
        " WHERE id = '%s'", inst, n.p1);
    sync_net(n.net, true);
    opts = nbctl("get logical_switch_port %s options", n.p1);
    tl_assert_contains(opts, "requested-chassis");
    tl_assert_contains(opts, ovn.system_id);
    free(opts);
    nb_has(false, "requested-chassis", "get logical_switch_port %s options", n.p2);
    assert_value("in-use", "SELECT state FROM ports WHERE id = '%s'", n.p1);
    ids[0] = n.p1;
    ck_assert_msg(sov_ovn_ports_up(&ctx, ids, 1, &all_up, &err) == 0, "%s", err.msg);
    ck_assert(!all_up);
    assert_value("f", "SELECT up FROM ports WHERE id = '%s'", n.p1);
    /* libvirt's virtualport sets iface-id the same way on the guest's tap. */
    free(tl_ovn_vsctl(&ovn, NULL, "add-port %s p1 -- set interface p1 type=internal "
                      "external_ids:iface-id=%s", ovn.bridge, n.p1));
    end = tl_now() + 30;
    do {
        usleep(100 * 1000);
        ck_assert_msg(sov_ovn_ports_up(&ctx, ids, 1, &all_up, &err) == 0, "%s", err.msg);
    } while (!all_up && tl_now() < end);
    ck_assert_msg(all_up, "port %s not up after 30 s", n.p1);
    assert_value("t", "SELECT up FROM ports WHERE id = '%s'", n.p1);
    assert_value(ovn.system_id, "SELECT chassis FROM ports WHERE id = '%s'", n.p1);
    /* The reconciler's pass refreshes what the Southbound says of plugged ports. */
    sql(NULL, 0, "UPDATE ports SET up = false, chassis = '' WHERE id = '%s'", n.p1);
    ck_assert_uint_eq(reconcile(), 0);
    assert_value("t", "SELECT up FROM ports WHERE id = '%s'", n.p1);
    assert_value(ovn.system_id, "SELECT chassis FROM ports WHERE id = '%s'", n.p1);
    /* Without a Southbound configured, nothing can say otherwise: up. */
    free(cfg.ovn_sb);
    cfg.ovn_sb = strdup("");
    ids[1] = n.p2;
    ck_assert_msg(sov_ovn_ports_up(&ctx, ids, 2, &all_up, &err) == 0, "%s", err.msg);
    ck_assert(all_up);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("network/sync");
    TCase *tc = tcase_create("sync");

    tcase_add_unchecked_fixture(tc, ovn_up, ovn_down);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, network_subnet_and_ports_give_switch_dhcp_and_ports);
    tcase_add_test(tc, rules_give_acls_and_a_deleted_rule_loses_its_acl);
    tcase_add_test(tc, router_gives_router_ports_nat_and_external_switch);
    tcase_add_test(tc, deleting_removes_everything_and_gives_quota_back);
    tcase_add_test(tc, reconcile_repairs_drift_and_leaves_foreign_rows);
    tcase_add_test(tc, two_deployments_never_touch_each_others_rows);
    tcase_add_test(tc, one_network_sync_with_four_ports_time);
    suite_add_tcase(s, tc);
    tc = tcase_create("chassis");
    tcase_add_unchecked_fixture(tc, ovn_up_chassis, ovn_down);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, plugged_port_asks_for_its_chassis_and_comes_up_there);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
