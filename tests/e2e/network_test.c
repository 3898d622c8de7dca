/* Tenant networks end to end: real guests on the machine's own libvirtd (qemu:///system)
 * plugged into a real OVN, this machine being the chassis (tl_ovn_start_host: ovs-vswitchd
 * in the root network namespace, br-int, libvirt's default OVS socket, one test run at a time
 * through a machine-wide lock), the external network a TEST-NET /24 on br-ex in the root
 * namespace (tl_free_external, tl_ovn_external).
 *
 * Each guest runs a shell script as its user-data once eth0 has its DHCP lease (from OVN's
 * native DHCP), and prints what it saw on its serial console, which the test reads.
 *
 *  - guards, before the suite's chassis: the binary run again in a probe mode
 *    (SOV_E2E_PROBE) fails its start beside another Open vSwitch (named, left alone), waits
 *    for a held lock and names its holder, and gives the default socket back where it led;
 *  - harness (ovn-nbctl, no sovd): two guests on a hand-made logical switch take their
 *    ports' addresses from OVN's DHCP, are bound to this chassis, ping and talk TCP (TCP
 *    proves the checksums the guests leave out are filled in: offloads off on the virtio
 *    NIC); a hand-made router with a gateway port here makes one guest public
 *    (dnat_and_snat: the machine pings it) and SNATs the other's TCP to the router's address.
 *  - through sovd's API: two guests of tenant A on one network ping and talk TCP; a guest of
 *    tenant B on a network with the same CIDR gets no answer from A's address; a security
 *    group rule allowing ICMP from a group lets pings through and its delete stops them
 *    within 2 s; a public IP makes a guest answer the machine's pings; a router SNATs a
 *    guest's TCP to its external address; a hot-plugged port gives the guest a second
 *    address.
 *
 * One OVN (and its lock) and one sovd serve the suite: an unchecked fixture, made once in the
 * runner's process. At most three guests run at a time; each domain is named for this run
 * and destroyed when the runner exits, however it exits. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "testlib.h"

#define URI "qemu:///system"
#define CONSOLE_WAIT_S 150      /* a line on a guest's console: TCG on a busy machine */
#define OP_WAIT_S 180           /* an operation on a real host, TCG on a busy machine */
#define REGION "fr-e2e-net"

/* The region's external network: a TEST-NET /24 no address or route of this machine
 * overlaps (tl_free_external), on br-ex in the root namespace, its gateway (.1) the
 * machine's own address there. Hand-made routers take addresses below .100, the public IP
 * pool of the API's tests .100 to .199. */
static char ext_prefix[16];
static char ext_gw[32];

static tl_ovn ovn;
static char *tmp;
static char *image;
static char *db;
static char *op;                /* the bootstrap operator's token */
static tl_sovd sovd;
static tl_tenant acme, globex;  /* tenants A and B */
static char pool[64], natnet[16], natcidr[32];

/* ---- the bed: this machine's chassis, the guest image, sovd ---- */

static void sovd_up(void);

static void
bed_up(void)
{
    char *out;

    tmp = tl_tmpdir();
    ck_assert_int_eq(chmod(tmp, 0755), 0);
    tl_assert_traversable(tmp);
    tl_sh_at_exit("rm -rf '%s'", tmp);
    tl_ovn_start_host(&ovn, NULL);
    tl_free_external(ext_prefix);
    snprintf(ext_gw, sizeof(ext_gw), "%s1", ext_prefix);
    {
        char cidr[40];
        snprintf(cidr, sizeof(cidr), "%s/24", ext_gw);
        tl_ovn_external(&ovn, cidr);
    }
    /* libvirt reaches this chassis' conf.db through the default socket. */
    out = tl_sh_out(NULL, "ovs-vsctl --db=unix:%s --timeout=5 br-exists br-int && echo yes",
                    ovn.socket);
    ck_assert_msg(strstr(out, "yes"), "br-int is not reachable through %s: %s", ovn.socket,
                  out);
    free(out);
    image = tl_guest_image();
    tl_sh_at_exit("rm -rf \"$(dirname '%s')\"", image);
    sovd_up();
}

static void
bed_down(void)
{
    int rc = tl_sovd_stop_clean(&sovd, 30);

    tl_sh("virsh -q -c " URI " net-destroy '%s' >/dev/null 2>&1", natnet);
    tl_sh("virsh -q -c " URI " net-undefine '%s' >/dev/null 2>&1", natnet);
    tl_sh("virsh -q -c " URI " pool-destroy '%s' >/dev/null 2>&1", pool);
    tl_sh("virsh -q -c " URI " pool-undefine '%s' >/dev/null 2>&1", pool);
    tl_sovd_discard(&sovd);
    tl_db_drop(db);
    free(db);
    free(op);
    tl_ovn_discard(&ovn);
    tl_guest_image_remove(image);
    free(image);
    tl_tmpdir_remove(tmp);
    free(tmp);
    ck_assert_msg(rc == 0, "sovd exited with %d on SIGTERM (its log's tail is above)", rc);
}

/* POST path as t's member: 202; waits for the operation; returns member's id (malloc). */
static char *
accepted(const tl_tenant *t, const char *method, const char *path, const char *body,
         const char *member)
{
    json_t *j = tl_call_ok(&sovd, method, path, t->token[TL_MEMBER], body, 202);
    char *id = member ? strdup(tl_str(json_object_get(j, member), "id")) : NULL;

    tl_op_wait_ok(&sovd, t->token[TL_READER], tl_str(json_object_get(j, "operation"), "id"),
                  OP_WAIT_S);
    json_decref(j);
    return id;
}

static void
image_import(const tl_tenant *t)
{
    char body[1024];

    snprintf(body, sizeof(body), "{\"name\":\"guest\",\"region\":\"" REGION "\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", image);
    free(accepted(t, "POST", "/v1/images", body, NULL));
}

/* sovd on this OVN (ovn_nb, ovn_sb), the machine's libvirtd its one host; tenants acme (A)
 * and globex (B) with the guest image; a flavor; the region's public IP pool on the
 * external network (.100 to .199, gateway .1 on br-ex). */
static void
sovd_up(void)
{
    char store[600], pool_flag[128], path_flag[700], net_flag[64], cidr_flag[64],
        store_flag[700], nb_flag[700], sb_flag[700], body[512];
    json_t *h;

    db = tl_db_create();
    snprintf(pool, sizeof(pool), "sovtest-net-%d", (int) getpid());
    snprintf(natnet, sizeof(natnet), "sovn%d", (int) getpid());
    ck_assert_msg(strlen(natnet) < 15, "network name '%s' too long for libvirt", natnet);
    tl_free_subnet(URI, natcidr, NULL);
    tl_libvirt_pool_cleanup_at_exit(URI, pool);
    tl_sh_at_exit("virsh -q -c " URI " net-destroy '%s'; virsh -q -c " URI " net-undefine '%s'",
                  natnet, natnet);
    snprintf(store, sizeof(store), "%s/store", tmp);
    snprintf(pool_flag, sizeof(pool_flag), "--storage-pool=%s", pool);
    snprintf(path_flag, sizeof(path_flag), "--storage-pool-path=%s/pool", tmp);
    snprintf(net_flag, sizeof(net_flag), "--nat-network=%s", natnet);
    snprintf(cidr_flag, sizeof(cidr_flag), "--nat-cidr=%s", natcidr);
    snprintf(store_flag, sizeof(store_flag), "--image-store=%s", store);
    snprintf(nb_flag, sizeof(nb_flag), "--ovn-nb=%s", ovn.nb);
    snprintf(sb_flag, sizeof(sb_flag), "--ovn-sb=%s", ovn.sb);
    const char *args[] = { pool_flag, path_flag, net_flag, cidr_flag, store_flag, nb_flag,
                           sb_flag, "--image-allow-file-urls=true", "--stop-timeout=10", NULL };
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
    tl_tenant_make(&sovd, op, "globex", &globex);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"E2E\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-e2e\",\"zones\":[\"a\"]}", 201));
    h = tl_host_add(&sovd, op, "{\"name\":\"local\",\"region\":\"" REGION "\",\"zone\":\"a\","
                               "\"libvirt_uri\":\"" URI "\"}");
    ck_assert_str_eq(tl_str(h, "state"), "up");
    json_decref(h);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"e2e-tiny\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
    snprintf(body, sizeof(body), "{\"name\":\"public\",\"cidr\":\"%s0/24\",\"gateway\":\"%s\","
             "\"first_ip\":\"%s100\",\"last_ip\":\"%s199\"}", ext_prefix, ext_gw, ext_prefix,
             ext_prefix);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions/" REGION "/public-ip-pools", op, body,
                           201));
    image_import(&acme);
    image_import(&globex);
}

/* ---- guests booted straight from libvirt (no sovd) ---- */

typedef struct guest {
    char uuid[40];
    char name[80];
    char log[700];
} guest;

static void
uuid_new(char out[40])
{
    char *text = tl_read_file("/proc/sys/kernel/random/uuid");

    ck_assert_ptr_nonnull(text);
    snprintf(out, 40, "%.36s", text);
    free(text);
}

/* A transient domain of the guest image (a qcow2 overlay of its own) with a NoCloud seed
 * holding script as its user-data, and one OVS NIC on br-int: interfaceid iface, mac. It is
 * destroyed when the runner exits. */
static void
guest_boot(guest *g, const char *script, const char *iface, const char *mac)
{
    char path[700], disk[700], seed[700], xml[700];
    FILE *f;
    char *out;
    int rc;

    uuid_new(g->uuid);
    snprintf(g->name, sizeof(g->name), "sovtest-net-%d-%.8s", (int) getpid(), g->uuid);
    snprintf(g->log, sizeof(g->log), "%s/%s.log", tmp, g->name);
    snprintf(disk, sizeof(disk), "%s/%s.qcow2", tmp, g->name);
    snprintf(seed, sizeof(seed), "%s/%s-seed.img", tmp, g->name);
    snprintf(xml, sizeof(xml), "%s/%s.xml", tmp, g->name);
    snprintf(path, sizeof(path), "%s/%s-user-data", tmp, g->name);
    tl_sh_at_exit("virsh -q -c " URI " destroy '%s' >/dev/null 2>&1", g->uuid);

    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(script, f);
    ck_assert_int_eq(fclose(f), 0);
    out = tl_sh_out(&rc, "qemu-img create -q -f qcow2 -F qcow2 -b '%s' '%s' 1G && "
                    "mkfs.vfat -n CIDATA -C '%s' 1024 >/dev/null && "
                    "mcopy -i '%s' '%s' ::user-data", image, disk, seed, seed, path);
    ck_assert_msg(rc == 0, "could not make the disks of %s: %s", g->name, out);
    free(out);

    f = fopen(xml, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "<domain type='%s'>\n"
            "  <name>%s</name>\n"
            "  <uuid>%s</uuid>\n"
            "  <memory unit='MiB'>256</memory>\n"
            "  <vcpu>1</vcpu>\n"
            "  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>\n"
            "  <features><acpi/></features>\n"
            "  <on_poweroff>destroy</on_poweroff>\n"
            "  <devices>\n"
            "    <disk type='file' device='disk'>\n"
            "      <driver name='qemu' type='qcow2'/><source file='%s'/>\n"
            "      <target dev='vda' bus='virtio'/>\n"
            "    </disk>\n"
            "    <disk type='file' device='disk'>\n"
            "      <driver name='qemu' type='raw'/><source file='%s'/>\n"
            "      <target dev='vdb' bus='virtio'/><readonly/>\n"
            "    </disk>\n"
            "    <interface type='bridge'>\n"
            "      <source bridge='br-int'/>\n"
            "      <virtualport type='openvswitch'>\n"
            "        <parameters interfaceid='%s'/>\n"
            "      </virtualport>\n"
            "      <mac address='%s'/>\n"
            "      <model type='virtio'/>\n"
            "      <driver>\n"
            "        <host csum='off' gso='off' tso4='off' tso6='off' ecn='off' ufo='off'/>\n"
            "        <guest csum='off' tso4='off' tso6='off' ecn='off' ufo='off'/>\n"
            "      </driver>\n"
            "    </interface>\n"
            "    <serial type='pty'><log file='%s' append='off'/><target port='0'/></serial>\n"
            "    <console type='pty'><target type='serial' port='0'/></console>\n"
            "  </devices>\n"
            "</domain>\n",
            tl_env("SOV_TEST_VIRT_TYPE"), g->name, g->uuid, disk, seed, iface, mac, g->log);
    ck_assert_int_eq(fclose(f), 0);
    rc = tl_virsh(URI, &out, "create '%s'", xml);
    ck_assert_msg(rc == 0, "virsh create %s failed: %s", g->name, out);
    free(out);
}

static void
guest_destroy(const guest *g)
{
    tl_virsh(URI, NULL, "destroy '%s'", g->uuid);
}

/* The console line after marker (malloc), failing the test after CONSOLE_WAIT_S. */
static char *
console_expect(const guest *g, const char *marker)
{
    return tl_console_expect(tl_console_file_read, (void *) g->log, marker, CONSOLE_WAIT_S);
}

/* ---- the harness: hand-made OVN ports ---- */

/* The server: prints what one TCP client sends on port 7777. */
static const char SERVER_SCRIPT[] =
    "#!/bin/sh\n"
    "echo LISTENING\n"
    "nc -l -p 7777 > /run/got\n"
    "echo \"TCP-GOT $(cat /run/got)\"\n";

/* The client of server %s: pings it until it answers (60 tries), then sends it a line over
 * TCP (retried while the server is not listening yet). */
static const char CLIENT_SCRIPT[] =
    "#!/bin/sh\n"
    "T=%s\n"
    "i=0\n"
    "until ping -c 1 -W 1 $T >/dev/null 2>&1; do\n"
    "    i=$((i + 1)); [ $i -ge 60 ] && { echo PING-FAIL; exit 1; }\n"
    "done\n"
    "echo \"PING-OK $T\"\n"
    "i=0\n"
    "until echo hello-over-tcp | nc -w 3 $T 7777; do\n"
    "    i=$((i + 1)); [ $i -ge 60 ] && { echo TCP-FAIL; exit 1; }; sleep 1\n"
    "done\n"
    "echo TCP-SENT\n";

START_TEST(two_guests_on_a_hand_made_logical_switch_take_ovn_dhcp_and_talk)
{
    char ls[64], p1[40], p2[40], script[sizeof(CLIENT_SCRIPT) + 64];
    guest a, b;
    char *dhcp, *out, *got;

    snprintf(ls, sizeof(ls), "tl-e2e-%d", (int) getpid());
    uuid_new(p1);
    uuid_new(p2);
    tl_sh_at_exit("ovn-nbctl --db=%s --timeout=5 --if-exists ls-del '%s'", ovn.nb, ls);
    dhcp = tl_ovn_nbctl(&ovn, NULL, "create DHCP_Options cidr=10.77.0.0/24 "
                        "options='\"lease_time\"=\"3600\" \"router\"=\"10.77.0.1\" "
                        "\"server_id\"=\"10.77.0.1\" \"server_mac\"=\"c0:ff:ee:00:00:01\"'");
    free(tl_ovn_nbctl(&ovn, NULL, "ls-add %s -- lsp-add %s %s -- lsp-add %s %s "
                      "-- lsp-set-addresses %s '52:54:00:77:00:0a 10.77.0.10' "
                      "-- lsp-set-addresses %s '52:54:00:77:00:0b 10.77.0.11' "
                      "-- lsp-set-dhcpv4-options %s %s -- lsp-set-dhcpv4-options %s %s",
                      ls, ls, p1, ls, p2, p1, p2, p1, dhcp, p2, dhcp));

    guest_boot(&a, SERVER_SCRIPT, p1, "52:54:00:77:00:0a");
    snprintf(script, sizeof(script), CLIENT_SCRIPT, "10.77.0.10");
    guest_boot(&b, script, p2, "52:54:00:77:00:0b");

    got = console_expect(&a, TL_GUEST_DHCP);
    ck_assert_str_eq(got, "10.77.0.10");
    free(got);
    got = console_expect(&b, TL_GUEST_DHCP);
    ck_assert_str_eq(got, "10.77.0.11");
    free(got);
    /* Both ports are bound here: the chassis named by qemu:///system's host UUID. */
    out = tl_ovn_sbctl(&ovn, NULL, "--bare --columns=chassis find Port_Binding "
                       "logical_port=%s", p1);
    ck_assert_msg(out[0], "port %s is not bound", p1);
    free(out);
    out = tl_ovn_sbctl(&ovn, NULL, "--bare --columns=name list Chassis");
    ck_assert_str_eq(out, ovn.system_id);
    free(out);

    got = console_expect(&b, "PING-OK ");
    ck_assert_str_eq(got, "10.77.0.10");
    free(got);
    free(console_expect(&b, "TCP-SENT"));
    got = console_expect(&a, "TCP-GOT ");
    ck_assert_str_eq(got, "hello-over-tcp");
    free(got);

    guest_destroy(&a);
    guest_destroy(&b);
    free(tl_ovn_nbctl(&ovn, NULL, "ls-del %s -- destroy DHCP_Options %s", ls, dhcp));
    free(dhcp);
}
END_TEST

/* A TCP listener on the external gateway's address, port chosen by the kernel: its fd, the
 * port into *port. */
static int
ext_listen(unsigned *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(inet_pton(AF_INET, ext_gw, &a.sin_addr), 1);
    ck_assert_msg(bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0, "bind %s: %s", ext_gw,
                  strerror(errno));
    ck_assert_int_eq(listen(fd, 4), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Accept one connection within wait_s: the peer's address into from and what it sent (up
 * to the first newline) into got. */
static void
ext_accept(int fd, unsigned wait_s, char from[INET_ADDRSTRLEN], char *got, size_t size)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    size_t n = 0;
    ssize_t r;
    int c;

    ck_assert_msg(poll(&p, 1, (int) wait_s * 1000) == 1, "no connection to %s within %u s",
                  ext_gw, wait_s);
    c = accept(fd, (struct sockaddr *) &a, &len);
    ck_assert_int_ge(c, 0);
    ck_assert(inet_ntop(AF_INET, &a.sin_addr, from, INET_ADDRSTRLEN));
    p.fd = c;
    while (n + 1 < size && poll(&p, 1, 10000) == 1 && (r = read(c, got + n, size - n - 1)) > 0)
        n += (size_t) r;
    got[n] = '\0';
    got[strcspn(got, "\n")] = '\0';
    close(c);
}

/* Ping addr from the root namespace until it answers (at most wait_s): whether it did. */
static bool
root_ping(const char *addr, unsigned wait_s)
{
    double t0 = tl_now();

    while (tl_now() - t0 < wait_s) {
        if (tl_sh("busybox ping -c 1 -W 1 %s >/dev/null 2>&1", addr) == 0)
            return true;
    }
    return false;
}

/* Pings the external gateway until it answers, then says so; with a port (not "") sends a
 * line to the gateway's TCP listener. */
static const char OUTSIDE_SCRIPT[] =
    "#!/bin/sh\n"
    "G='%s'\n"
    "P='%s'\n"
    "i=0\n"
    "until ping -c 1 -W 1 $G >/dev/null 2>&1; do\n"
    "    i=$((i + 1)); [ $i -ge 90 ] && { echo GW-FAIL; exit 1; }\n"
    "done\n"
    "echo GW-OK\n"
    "[ -n \"$P\" ] || exit 0\n"
    "i=0\n"
    "until echo from-guest | nc -w 3 $G $P; do\n"
    "    i=$((i + 1)); [ $i -ge 60 ] && { echo TCP-FAIL; exit 1; }; sleep 1\n"
    "done\n"
    "echo TCP-SENT\n";

/* The path out of OVN on this machine, made by hand as part "ovn" makes it from the API: a
 * logical router with a gateway port on this chassis on the external switch (localnet port,
 * physical network "public", br-ex), a default route to the gateway, SNAT of the subnet
 * through the router's address and dnat_and_snat of one guest's public address. The machine
 * pings the public address; the other guest reaches the gateway, and the machine's TCP
 * listener sees it come from the router's address. */
START_TEST(a_hand_made_router_makes_a_guest_public_and_snats_another)
{
    char ls[64], ext[64], lr[64], pa[40], pb[40], script[sizeof(OUTSIDE_SCRIPT) + 64];
    char from[INET_ADDRSTRLEN], got[64], rtr_ip[32], pub_ip[32];
    guest a, b;
    char *dhcp, *ip;
    unsigned port;
    int fd;

    snprintf(ls, sizeof(ls), "tl-e2e-nat-%d", (int) getpid());
    snprintf(ext, sizeof(ext), "tl-e2e-ext-%d", (int) getpid());
    snprintf(lr, sizeof(lr), "tl-e2e-lr-%d", (int) getpid());
    uuid_new(pa);
    uuid_new(pb);
    tl_sh_at_exit("ovn-nbctl --db=%s --timeout=5 --if-exists ls-del '%s' -- --if-exists ls-del "
                  "'%s' -- --if-exists lr-del '%s'", ovn.nb, ls, ext, lr);
    dhcp = tl_ovn_nbctl(&ovn, NULL, "create DHCP_Options cidr=10.78.0.0/24 "
                        "options='\"lease_time\"=\"3600\" \"router\"=\"10.78.0.1\" "
                        "\"server_id\"=\"10.78.0.1\" \"server_mac\"=\"52:54:00:78:00:01\"'");
    free(tl_ovn_nbctl(&ovn, NULL, "ls-add %s -- lsp-add %s %s -- lsp-add %s %s "
                      "-- lsp-set-addresses %s '52:54:00:78:00:0a 10.78.0.10' "
                      "-- lsp-set-addresses %s '52:54:00:78:00:0b 10.78.0.11' "
                      "-- lsp-set-dhcpv4-options %s %s -- lsp-set-dhcpv4-options %s %s",
                      ls, ls, pa, ls, pb, pa, pb, pa, dhcp, pb, dhcp));
    free(tl_ovn_nbctl(&ovn, NULL,
                      "lr-add %s -- lrp-add %s %s-in 52:54:00:78:00:01 10.78.0.1/24 "
                      "-- lsp-add %s %s-r -- lsp-set-type %s-r router "
                      "-- lsp-set-addresses %s-r router -- lsp-set-options %s-r router-port=%s-in",
                      lr, lr, lr, ls, ls, ls, ls, ls, lr));
    snprintf(rtr_ip, sizeof(rtr_ip), "%s10", ext_prefix);
    snprintf(pub_ip, sizeof(pub_ip), "%s20", ext_prefix);
    free(tl_ovn_nbctl(&ovn, NULL,
                      "ls-add %s -- lsp-add %s %s-ln -- lsp-set-type %s-ln localnet "
                      "-- lsp-set-addresses %s-ln unknown "
                      "-- lsp-set-options %s-ln network_name=public "
                      "-- lrp-add %s %s-out 52:54:00:78:00:02 %s/24 "
                      "-- lsp-add %s %s-r -- lsp-set-type %s-r router "
                      "-- lsp-set-addresses %s-r router "
                      "-- lsp-set-options %s-r router-port=%s-out "
                      "-- lrp-set-gateway-chassis %s-out %s 1 "
                      "-- lr-route-add %s 0.0.0.0/0 %s "
                      "-- lr-nat-add %s snat %s 10.78.0.0/24 "
                      "-- lr-nat-add %s dnat_and_snat %s 10.78.0.10",
                      ext, ext, ext, ext, ext, ext, lr, lr, rtr_ip, ext, ext, ext, ext, ext, lr,
                      lr, ovn.system_id, lr, ext_gw, lr, rtr_ip, lr, pub_ip));
    fd = ext_listen(&port);

    snprintf(script, sizeof(script), OUTSIDE_SCRIPT, ext_gw, "");
    guest_boot(&a, script, pa, "52:54:00:78:00:0a");
    {
        char p[16];
        snprintf(p, sizeof(p), "%u", port);
        snprintf(script, sizeof(script), OUTSIDE_SCRIPT, ext_gw, p);
    }
    guest_boot(&b, script, pb, "52:54:00:78:00:0b");

    ip = console_expect(&a, TL_GUEST_DHCP);
    ck_assert_str_eq(ip, "10.78.0.10");
    free(ip);
    free(console_expect(&a, "GW-OK"));
    ck_assert_msg(root_ping(pub_ip, 60), "the public address %s of guest %s does not answer "
                  "this machine's pings", pub_ip, a.name);
    ext_accept(fd, CONSOLE_WAIT_S, from, got, sizeof(got));
    ck_assert_str_eq(got, "from-guest");
    ck_assert_str_eq(from, rtr_ip);
    free(console_expect(&b, "TCP-SENT"));
    close(fd);

    guest_destroy(&a);
    guest_destroy(&b);
    free(tl_ovn_nbctl(&ovn, NULL, "lr-del %s -- ls-del %s -- ls-del %s "
                      "-- destroy DHCP_Options %s", lr, ls, ext, dhcp));
    free(dhcp);
}
END_TEST

/* ---- through the API: instances on tenant networks ---- */

typedef struct vm {
    const tl_tenant *t;
    char id[40];
    char ip[16];        /* nics[0].ip */
    char port[40];      /* nics[0].port */
} vm;

static char *
vm_console(void *arg)
{
    const vm *v = arg;
    char path[128];
    char *text = NULL;
    tl_resp r;

    snprintf(path, sizeof(path), "/v1/instances/%s/console", v->id);
    tl_call(&sovd, "GET", path, v->t->token[TL_READER], NULL, &r);
    if (r.status == 200 && r.body)
        text = strdup(r.body);
    tl_resp_free(&r);
    return text;
}

static char *
vm_expect(vm *v, const char *marker)
{
    return tl_console_expect(vm_console, v, marker, CONSOLE_WAIT_S);
}

/* POST /v1/instances as t's member with nics (JSON text) and script as user-data; waits
 * until it runs (its ports up) and its guest has its DHCP lease, which must be nics[0]'s
 * address. Its domain goes when the runner exits, whatever happens. */
static void
vm_create(vm *v, const tl_tenant *t, const char *name, const char *nics, const char *script)
{
    char path[128];
    json_t *body, *j, *nic;
    char *text, *lease;

    memset(v, 0, sizeof(*v));
    v->t = t;
    body = json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", name, "flavor", "e2e-tiny", "image",
                     "guest", "user_data", script, "nics", json_loads(nics, 0, NULL));
    ck_assert(body);
    text = json_dumps(body, 0);
    j = tl_call_ok(&sovd, "POST", "/v1/instances", t->token[TL_MEMBER], text, 202);
    snprintf(v->id, sizeof(v->id), "%s", tl_str(json_object_get(j, "instance"), "id"));
    tl_sh_at_exit("virsh -q -c " URI " destroy 'sov-%s'; virsh -q -c " URI " undefine "
                  "--nvram 'sov-%s' || virsh -q -c " URI " undefine 'sov-%s'", v->id, v->id,
                  v->id);
    tl_op_wait_ok(&sovd, t->token[TL_READER], tl_str(json_object_get(j, "operation"), "id"),
                  OP_WAIT_S);
    json_decref(j);
    free(text);
    json_decref(body);

    snprintf(path, sizeof(path), "/v1/instances/%s", v->id);
    j = tl_call_ok(&sovd, "GET", path, t->token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(j, "state"), "running");
    nic = json_array_get(json_object_get(j, "nics"), 0);
    ck_assert_msg(nic, "instance %s has no NIC: %s", name, json_dumps(j, 0));
    ck_assert(json_is_true(json_object_get(nic, "up")));
    snprintf(v->ip, sizeof(v->ip), "%s", tl_str(nic, "ip"));
    snprintf(v->port, sizeof(v->port), "%s", tl_str(nic, "port"));
    json_decref(j);
    lease = vm_expect(v, TL_GUEST_DHCP);
    ck_assert_str_eq(lease, v->ip);
    free(lease);
}

static void
vm_delete(const vm *v)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/instances/%s", v->id);
    free(accepted(v->t, "DELETE", path, NULL, NULL));
}

/* A network (10.10.0.0/16, the same for every tenant), its subnet 10.10.0.0/24 and a
 * security group with its default rules, each named prefix-net, prefix-sub, prefix-sg. */
static void
net_make(const tl_tenant *t, const char *prefix)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"name\":\"%s-net\",\"cidr\":\"10.10.0.0/16\","
             "\"region\":\"" REGION "\"}", prefix);
    free(accepted(t, "POST", "/v1/networks", body, "network"));
    snprintf(body, sizeof(body), "{\"name\":\"%s-sub\",\"network\":\"%s-net\","
             "\"cidr\":\"10.10.0.0/24\"}", prefix, prefix);
    free(accepted(t, "POST", "/v1/subnets", body, "subnet"));
    snprintf(body, sizeof(body), "{\"name\":\"%s-sg\"}", prefix);
    free(accepted(t, "POST", "/v1/security-groups", body, "security_group"));
}

/* Pings %s ten times (one second each at most) and counts the answers. */
static const char PROBE_SCRIPT[] =
    "#!/bin/sh\n"
    "T=%s\n"
    "ok=0; i=0\n"
    "while [ $i -lt 10 ]; do\n"
    "    i=$((i + 1)); ping -c 1 -W 1 $T >/dev/null 2>&1 && ok=$((ok + 1))\n"
    "done\n"
    "echo \"PINGS-ANSWERED $ok\"\n";

/* Two guests of tenant A on one network reach each other, ping and TCP; a guest of tenant
 * B, on a network with the same CIDR, pings A's first guest's address (while A's second
 * reaches it) and gets no answer. */
START_TEST(guests_of_a_network_talk_and_another_tenants_same_cidr_cannot_reach_them)
{
    char script[sizeof(CLIENT_SCRIPT) + 64];
    vm a1, a2, b1;
    char *got;

    net_make(&acme, "t1");
    net_make(&globex, "t1");
    vm_create(&a1, &acme, "a1", "[{\"subnet\":\"t1-sub\",\"ip\":\"10.10.0.10\","
              "\"security_groups\":[\"t1-sg\"]}]", SERVER_SCRIPT);
    snprintf(script, sizeof(script), CLIENT_SCRIPT, a1.ip);
    vm_create(&a2, &acme, "a2", "[{\"subnet\":\"t1-sub\",\"security_groups\":[\"t1-sg\"]}]",
              script);
    got = vm_expect(&a2, "PING-OK ");
    ck_assert_str_eq(got, "10.10.0.10");
    free(got);
    free(vm_expect(&a2, "TCP-SENT"));
    got = vm_expect(&a1, "TCP-GOT ");
    ck_assert_str_eq(got, "hello-over-tcp");
    free(got);

    /* B's guest has an address of its own network (not A's first guest's, which B's
     * network does not use), and nothing of A's answers it. */
    snprintf(script, sizeof(script), PROBE_SCRIPT, a1.ip);
    vm_create(&b1, &globex, "b1", "[{\"subnet\":\"t1-sub\",\"ip\":\"10.10.0.11\","
              "\"security_groups\":[\"t1-sg\"]}]", script);
    got = vm_expect(&b1, "PINGS-ANSWERED ");
    ck_assert_msg(strcmp(got, "0") == 0, "tenant B's guest got %s of 10 answers from tenant "
                  "A's %s", got, a1.ip);
    free(got);
    vm_delete(&b1);
    vm_delete(&a2);
    vm_delete(&a1);
}
END_TEST

/* Pings %s for ever, printing "PING <n> OK" or "PING <n> FAIL" for each try. */
static const char PINGER_SCRIPT[] =
    "#!/bin/sh\n"
    "n=0\n"
    "while :; do\n"
    "    n=$((n + 1))\n"
    "    if ping -c 1 -W 1 %s >/dev/null 2>&1; then echo \"PING $n OK\"; sleep 0.2;\n"
    "    else echo \"PING $n FAIL\"; fi\n"
    "done\n";

/* What a pinger's console says: its last try, and its last try that was answered. */
typedef struct pings {
    int last, last_ok;
} pings;

static pings
pings_read(vm *v)
{
    pings p = { 0, 0 };
    char *text = vm_console(v), *at = text;
    int n;
    char word[8];

    while (at && (at = strstr(at, "PING "))) {
        /* Only whole lines: the last may still be written. */
        if (sscanf(at, "PING %d %7[A-Z]", &n, word) == 2 && strchr(at, '\n')) {
            p.last = n;
            if (strcmp(word, "OK") == 0)
                p.last_ok = n;
        }
        at += 5;
    }
    free(text);
    return p;
}

/* Poll the pinger until pred says done or wait_s passes; returns the last reading. */
static pings
pings_until(vm *v, bool (*pred)(const pings *, const pings *), const pings *from,
            unsigned wait_s)
{
    double t0 = tl_now();
    pings p;

    do {
        p = pings_read(v);
        if (pred(&p, from))
            return p;
        usleep(100 * 1000);
    } while (tl_now() - t0 < wait_s);
    ck_abort_msg("the pinger's console did not change as expected within %u s (last try %d, "
                 "last answered %d; before: %d, %d)", wait_s, p.last, p.last_ok, from->last,
                 from->last_ok);
    return p;
}

static bool
three_more_tries(const pings *p, const pings *from)
{
    return p->last >= from->last + 3;
}

static bool
an_answer(const pings *p, const pings *from)
{
    return p->last_ok > from->last;
}

/* A security group rule allowing ICMP from a group lets a member's pings through to a port
 * of the group the rule is in; deleting the rule stops them within 2 s (from the DELETE
 * request to the last answered ping's line on the console). */
START_TEST(a_security_group_rule_lets_pings_through_and_its_delete_stops_them_within_2_s)
{
    char script[sizeof(PINGER_SCRIPT) + 64], path[160], *dst, *src, *rule;
    double t_add, t_del, allow_s, stop_s, last_ok_at;
    pings p, from;
    vm x, y;
    json_t *j;

    net_make(&acme, "t2");
    src = accepted(&acme, "POST", "/v1/security-groups", "{\"name\":\"t2-src\"}",
                   "security_group");
    dst = accepted(&acme, "POST", "/v1/security-groups", "{\"name\":\"t2-dst\",\"rules\":"
                   "[{\"direction\":\"egress\",\"protocol\":\"any\"}]}", "security_group");
    vm_create(&y, &acme, "y", "[{\"subnet\":\"t2-sub\",\"ip\":\"10.10.0.21\","
              "\"security_groups\":[\"t2-dst\"]}]", "#!/bin/sh\necho READY\n");
    snprintf(script, sizeof(script), PINGER_SCRIPT, y.ip);
    vm_create(&x, &acme, "x", "[{\"subnet\":\"t2-sub\",\"security_groups\":[\"t2-src\"]}]",
              script);

    /* No rule lets x's pings into y's group. */
    from = pings_read(&x);
    p = pings_until(&x, three_more_tries, &from, 60);
    ck_assert_msg(p.last_ok == 0, "y answered x's ping %d with no rule allowing it", p.last_ok);

    snprintf(path, sizeof(path), "/v1/security-groups/%s/rules", dst);
    t_add = tl_now();
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], "{\"direction\":\"ingress\","
                   "\"protocol\":\"icmp\",\"remote_group\":\"t2-src\"}", 202);
    rule = strdup(tl_str(json_object_get(j, "rule"), "id"));
    tl_op_wait_ok(&sovd, acme.token[TL_READER], tl_str(json_object_get(j, "operation"), "id"),
                  OP_WAIT_S);
    json_decref(j);
    from = pings_read(&x);
    p = pings_until(&x, an_answer, &from, 30);
    allow_s = tl_now() - t_add;
    from = p;
    p = pings_until(&x, three_more_tries, &from, 30);
    ck_assert_msg(p.last_ok == p.last, "pings %d to %d were not all answered with the rule",
                  from.last, p.last);

    /* Delete the rule: the last answered try's line must come within 2 s. */
    snprintf(path, sizeof(path), "/v1/security-groups/%s/rules/%s", dst, rule);
    t_del = last_ok_at = tl_now();
    j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], tl_str(json_object_get(j, "operation"), "id"),
                  OP_WAIT_S);
    json_decref(j);
    from = pings_read(&x);
    for (;;) {
        p = pings_read(&x);
        if (p.last_ok > from.last_ok) {
            last_ok_at = tl_now();
            from.last_ok = p.last_ok;
        }
        if (p.last >= p.last_ok + 3 && tl_now() - t_del > 4)
            break;
        ck_assert_msg(tl_now() - t_del < 60, "x's pings still get answers 60 s after the rule's "
                      "delete (last answered %d of %d)", p.last_ok, p.last);
        usleep(100 * 1000);
    }
    stop_s = last_ok_at - t_del;
    printf("security group rule: pings answered %.2f s after the rule's POST, the last answer "
           "%.2f s after its DELETE\n", allow_s, stop_s);
    ck_assert_msg(stop_s <= 2.0, "x's pings were still answered %.2f s after the rule's "
                  "delete (more than 2 s)", stop_s);

    vm_delete(&x);
    vm_delete(&y);
    free(rule);
    free(src);
    free(dst);
}
END_TEST

/* Waits for the gateway, sends a line to its TCP listener on port %s, then waits for a
 * second NIC (eth1), takes a lease on it and prints its address. */
static const char SNAT_SCRIPT[] =
    "#!/bin/sh\n"
    "G='%s'\n"
    "P='%s'\n"
    "i=0\n"
    "until ping -c 1 -W 1 $G >/dev/null 2>&1; do\n"
    "    i=$((i + 1)); [ $i -ge 90 ] && { echo GW-FAIL; exit 1; }\n"
    "done\n"
    "echo GW-OK\n"
    "i=0\n"
    "until echo from-guest | nc -w 3 $G $P; do\n"
    "    i=$((i + 1)); [ $i -ge 60 ] && { echo TCP-FAIL; exit 1; }; sleep 1\n"
    "done\n"
    "echo TCP-SENT\n"
    "while [ ! -e /sys/class/net/eth1 ]; do sleep 0.5; done\n"
    "echo ETH1-SEEN\n"
    "until udhcpc -i eth1 -n -q -t 5 -T 1 -s /etc/udhcpc.script >/dev/null 2>&1; do sleep 1;"
    " done\n"
    "echo \"ETH1 $(ip -4 -o addr show dev eth1 | sed 's/.* inet \\([0-9.]*\\).*/\\1/')\"\n";

/* A public IP makes a guest reachable from the machine's root namespace (the machine pings
 * the public address); another guest of the network reaches outside through the internet
 * gateway, SNAT'd to the router's external address (what the machine's TCP listener on the
 * gateway address sees); hot-attaching a second port gives that guest a second address. */
START_TEST(a_public_ip_snat_and_a_hot_plugged_port)
{
    char script[sizeof(SNAT_SCRIPT) + 64], path[160], from[INET_ADDRSTRLEN], got[64], body[256],
        router_ip[32], public_ip[32], port_ip[32], portn[16];
    char *router, *pub, *port, *eth1;
    unsigned lport;
    vm pv, sv;
    json_t *j;
    int fd;

    net_make(&acme, "t3");
    free(accepted(&acme, "POST", "/v1/subnets", "{\"name\":\"t3-sub2\",\"network\":\"t3-net\","
                  "\"cidr\":\"10.10.1.0/24\"}", "subnet"));
    free(accepted(&acme, "POST", "/v1/security-groups", "{\"name\":\"t3-web\",\"rules\":["
                  "{\"direction\":\"egress\",\"protocol\":\"any\"},{\"direction\":\"ingress\","
                  "\"protocol\":\"icmp\",\"remote_cidr\":\"0.0.0.0/0\"}]}", "security_group"));
    router = accepted(&acme, "POST", "/v1/routers", "{\"name\":\"t3-gw\",\"network\":"
                      "\"t3-net\"}", "router");
    snprintf(path, sizeof(path), "/v1/routers/%s", router);
    j = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    snprintf(router_ip, sizeof(router_ip), "%s", tl_str(j, "external_ip"));
    json_decref(j);
    ck_assert_msg(strncmp(router_ip, ext_prefix, strlen(ext_prefix)) == 0,
                  "router address %s is not of the pool %s0/24", router_ip, ext_prefix);

    vm_create(&pv, &acme, "pub", "[{\"subnet\":\"t3-sub\",\"security_groups\":[\"t3-web\"]}]",
              "#!/bin/sh\necho READY\n");
    snprintf(body, sizeof(body), "{\"name\":\"t3-pub\",\"port\":\"%s\"}", pv.port);
    pub = accepted(&acme, "POST", "/v1/public-ips", body, "public_ip");
    snprintf(path, sizeof(path), "/v1/public-ips/%s", pub);
    j = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    snprintf(public_ip, sizeof(public_ip), "%s", tl_str(j, "address"));
    json_decref(j);
    ck_assert_msg(root_ping(public_ip, 60), "the public address %s of guest %s (%s) does not "
                  "answer this machine's pings", public_ip, pv.id, pv.ip);

    fd = ext_listen(&lport);
    snprintf(portn, sizeof(portn), "%u", lport);
    snprintf(script, sizeof(script), SNAT_SCRIPT, ext_gw, portn);
    vm_create(&sv, &acme, "snat", "[{\"subnet\":\"t3-sub\",\"security_groups\":[\"t3-sg\"]}]",
              script);
    ext_accept(fd, CONSOLE_WAIT_S, from, got, sizeof(got));
    close(fd);
    ck_assert_str_eq(got, "from-guest");
    ck_assert_msg(strcmp(from, router_ip) == 0, "the guest's connection came from %s, not from "
                  "the router's address %s", from, router_ip);
    free(vm_expect(&sv, "TCP-SENT"));

    /* Hot attach: a free port of the second subnet plugged into the running guest. */
    port = accepted(&acme, "POST", "/v1/ports", "{\"subnet\":\"t3-sub2\","
                    "\"security_groups\":[\"t3-sg\"]}", "port");
    snprintf(path, sizeof(path), "/v1/ports/%s", port);
    j = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    snprintf(port_ip, sizeof(port_ip), "%s", tl_str(j, "ip"));
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/ports/%s/actions", port);
    snprintf(body, sizeof(body), "{\"action\":\"attach\",\"instance\":\"%s\"}", sv.id);
    free(accepted(&acme, "POST", path, body, NULL));
    eth1 = vm_expect(&sv, "ETH1 ");
    ck_assert_str_eq(eth1, port_ip);
    free(eth1);

    vm_delete(&sv);
    vm_delete(&pv);
    free(port);
    free(pub);
    free(router);
}
END_TEST

/* ---- the harness's guards: the machine's own chassis is never shared nor taken over ---- */

/* Probe mode (SOV_E2E_PROBE set): start the machine's chassis, say where the default socket
 * leads, stop it. */
START_TEST(probe_start_host)
{
    tl_ovn o;
    char *out;

    tl_ovn_start_host(&o, NULL);
    out = tl_sh_out(NULL, "readlink '%s'", o.socket);
    printf("PROBE-STARTED %s", out);
    free(out);
    tl_ovn_discard(&o);
    printf("PROBE-STOPPED\n");
    fflush(stdout);
}
END_TEST

/* Run this binary in probe mode with env (shell assignments) set: its output, its exit
 * status into *rc. */
static char *
probe(int *rc, const char *env)
{
    char self[600];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    ck_assert_int_gt(n, 0);
    self[n] = '\0';
    return tl_sh_out(rc, "%s SOV_E2E_PROBE=1 CK_FORK=no '%s' 2>&1", env, self);
}

/* Another Open vSwitch answering at the default socket (here a bare ovsdb-server behind a
 * link, standing for scripts/run's) fails the start, naming it, and is left alone. */
START_TEST(the_machine_chassis_never_takes_over_another_open_vswitch)
{
    char *d = tl_tmpdir(), *out, want[1400], link[700], target[700] = "";
    ssize_t n;
    int rc, fd;

    out = tl_sh_out(&rc, "ovsdb-tool create '%s/fake.db' "
                    "/usr/share/openvswitch/vswitch.ovsschema && "
                    "ovsdb-server '%s/fake.db' --remote=punix:'%s/fake.sock' "
                    "--pidfile='%s/fake.pid' --detach --no-chdir -vconsole:off "
                    "--log-file='%s/fake.log' --unixctl='%s/fake.ctl' && "
                    "ln -s '%s/fake.sock' '%s/default.sock'", d, d, d, d, d, d, d, d);
    ck_assert_msg(rc == 0, "could not start a bare ovsdb-server: %s", out);
    free(out);
    tl_sh_at_exit("kill $(cat '%s/fake.pid'); rm -rf '%s'", d, d);

    snprintf(link, sizeof(link), "%s/default.sock", d);
    {
        char env[1500];
        snprintf(env, sizeof(env), "SOV_OVS_DEFAULT_SOCKET='%s' SOV_TEST_OVS_LOCK='%s/lock'",
                 link, d);
        out = probe(&rc, env);
    }
    ck_assert_msg(rc != 0, "the start went on beside another Open vSwitch: %s", out);
    snprintf(want, sizeof(want), "another Open vSwitch answers at %s (it leads to %s/fake.sock)",
             link, d);
    tl_assert_contains(out, want);
    ck_assert_msg(!strstr(out, "PROBE-STARTED"), "%s", out);
    free(out);
    n = readlink(link, target, sizeof(target) - 1);
    ck_assert_int_gt(n, 0);
    target[n] = '\0';
    snprintf(want, sizeof(want), "%s/fake.sock", d);
    ck_assert_str_eq(target, want);
    /* The lock went with the failed start, once its cleanup ran (the watcher holds it
     * until then). */
    snprintf(want, sizeof(want), "%s/lock", d);
    fd = open(want, O_RDWR);
    ck_assert_int_ge(fd, 0);
    {
        double t0 = tl_now();
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            ck_assert_msg(tl_now() - t0 < 30, "the lock is still held 30 s after the probe");
            usleep(100 * 1000);
        }
    }
    close(fd);
    tl_sh("kill $(cat '%s/fake.pid')", d);
    free(d);
}
END_TEST

/* While another run holds the lock, a start waits (here 1 s) and fails naming the holder. */
START_TEST(the_machine_chassis_waits_for_the_lock_and_names_its_holder)
{
    char *d = tl_tmpdir(), *out, path[700], env[1500];
    double t0;
    int rc, fd;

    snprintf(path, sizeof(path), "%s/lock", d);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX), 0);
    ck_assert_int_eq(write(fd, "pid 1 since 0, OVN in the-holder\n", 33), 33);
    snprintf(env, sizeof(env), "SOV_TEST_OVS_LOCK='%s' SOV_TEST_OVS_LOCK_WAIT_S=1 "
             "SOV_OVS_DEFAULT_SOCKET='%s/none.sock'", path, d);
    t0 = tl_now();
    out = probe(&rc, env);
    ck_assert_msg(rc != 0, "the start did not wait for the lock: %s", out);
    ck_assert_msg(tl_now() - t0 >= 1.0, "the start gave up after %.2f s", tl_now() - t0);
    tl_assert_contains(out, "still held by another test run after 1 s");
    tl_assert_contains(out, "last holder: pid 1 since 0, OVN in the-holder");
    free(out);
    close(fd);
    tl_tmpdir_remove(d);
    free(d);
}
END_TEST

/* A start and stop of the machine's chassis: the default socket leads to it meanwhile, then
 * back where it led before (here a dead link, as a stopped scripts/run leaves it). */
START_TEST(the_machine_chassis_gives_the_default_socket_back)
{
    char *d = tl_tmpdir(), *out, link[700], env[800], want[800], target[700] = "";
    ssize_t n;
    int rc;

    snprintf(link, sizeof(link), "%s/default.sock", d);
    ck_assert_int_eq(symlink("/nonexistent/db.sock", link), 0);
    snprintf(env, sizeof(env), "SOV_OVS_DEFAULT_SOCKET='%s'", link);
    out = probe(&rc, env);
    ck_assert_msg(rc == 0, "the probe failed: %s", out);
    tl_assert_contains(out, "PROBE-STARTED ");
    snprintf(want, sizeof(want), "/chassis/db.sock\nPROBE-STOPPED");
    tl_assert_contains(out, want);
    free(out);
    n = readlink(link, target, sizeof(target) - 1);
    ck_assert_int_gt(n, 0);
    target[n] = '\0';
    ck_assert_str_eq(target, "/nonexistent/db.sock");
    tl_tmpdir_remove(d);
    free(d);
}
END_TEST

int
main(void)
{
    Suite *s;
    TCase *tc, *guards;

    if (getenv("SOV_E2E_PROBE")) {
        s = suite_create("e2e/network probe");
        tc = tcase_create("probe");
        tcase_set_timeout(tc, 400);
        tcase_add_test(tc, probe_start_host);
        suite_add_tcase(s, tc);
        return tl_run_suite(s);
    }
    s = suite_create("e2e/network");
    /* First, before the suite's own chassis holds the lock. */
    guards = tcase_create("guards");
    tcase_set_timeout(guards, 400);
    tcase_add_test(guards, the_machine_chassis_never_takes_over_another_open_vswitch);
    tcase_add_test(guards, the_machine_chassis_waits_for_the_lock_and_names_its_holder);
    tcase_add_test(guards, the_machine_chassis_gives_the_default_socket_back);
    suite_add_tcase(s, guards);
    tc = tcase_create("network");

    tcase_add_unchecked_fixture(tc, bed_up, bed_down);
    tcase_set_timeout(tc, 580);
    tcase_add_test(tc, two_guests_on_a_hand_made_logical_switch_take_ovn_dhcp_and_talk);
    tcase_add_test(tc, a_hand_made_router_makes_a_guest_public_and_snats_another);
    tcase_add_test(tc,
                   guests_of_a_network_talk_and_another_tenants_same_cidr_cannot_reach_them);
    tcase_add_test(tc,
                   a_security_group_rule_lets_pings_through_and_its_delete_stops_them_within_2_s);
    tcase_add_test(tc, a_public_ip_snat_and_a_hot_plugged_port);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
