/* OVN's processes as scripts/run and scripts/host-setup start them (scripts/ovn, the
 * functions of scripts/lib.sh), through the test helper tl_ovn_start: real ovsdb-servers,
 * ovn-northd, ovs-vswitchd and ovn-controller, each test with its own in a folder of its own.
 * A logical switch and port written to the Northbound database reach the Southbound through
 * northd; a port plugged into the chassis' integration bridge is bound by ovn-controller.
 * Starts are idempotent, stops leave nothing running, two OVNs at once never meet, the SB
 * listens on TCP for other hosts when asked, and libvirt's default OVS socket is only taken
 * when nothing else answers there. scripts/host-setup turns a "second machine" (network and
 * mount namespaces of the test) into a host: libvirtd on qemu+tcp, a chassis in the central
 * SB. Needs no PostgreSQL. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"

static tl_ovn ovn, ovn2;

static void
setup(void)
{
    memset(&ovn, 0, sizeof(ovn));
    memset(&ovn2, 0, sizeof(ovn2));
}

static void
teardown(void)
{
    tl_ovn_discard(&ovn);
    tl_ovn_discard(&ovn2);
}

/* Poll (every 100 ms, at most wait_s) until the output of an ovn-sbctl command is not empty;
 * returns it (malloc), or "" after the time. */
static char *
sb_wait(const tl_ovn *o, int wait_s, const char *args)
{
    double end = tl_now() + wait_s;
    char *out;

    for (;;) {
        out = tl_ovn_sbctl(o, NULL, "%s", args);
        if (out[0] || tl_now() > end)
            return out;
        free(out);
        usleep(100 * 1000);
    }
}

/* The pid in DIR/NAME.pid, or 0. */
static long
pidfile(const char *dir, const char *name)
{
    char path[700], *text, *end;
    long pid;

    snprintf(path, sizeof(path), "%s/%s.pid", dir, name);
    text = tl_read_file(path);
    if (!text)
        return 0;
    pid = strtol(text, &end, 10);
    free(text);
    return end != text ? pid : 0;
}

/* The process runs: a zombie does not (a daemon that detached waits for PID 1 to reap it). */
static bool
alive(long pid)
{
    char path[64], *stat, *p;
    bool running;

    if (pid <= 0 || kill((pid_t) pid, 0) != 0)
        return false;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    stat = tl_read_file(path);
    if (!stat)
        return false;
    p = strrchr(stat, ')');
    running = p && p[1] == ' ' && p[2] != 'Z';
    free(stat);
    return running;
}

static const char *const central_daemons[] = { "nb", "sb", "northd" };
static const char *const chassis_daemons[] = { "db", "vswitchd", "controller" };

/* A switch and its port in the NB; returns the switch's NB uuid (malloc). */
static char *
switch_with_port(const tl_ovn *o, const char *ls, const char *lsp)
{
    char *uuid;

    free(tl_ovn_nbctl(o, NULL, "ls-add %s -- lsp-add %s %s -- lsp-set-addresses %s "
                      "'02:00:00:00:00:01 10.0.0.5'", ls, ls, lsp, lsp));
    uuid = tl_ovn_nbctl(o, NULL, "get logical_switch %s _uuid", ls);
    ck_assert_msg(strlen(uuid) == 36, "no uuid for switch %s: '%s'", ls, uuid);
    return uuid;
}

START_TEST(central_part_starts_with_its_files_in_its_folder)
{
    char path[700];
    struct stat st;

    tl_ovn_start(&ovn, NULL, false);
    for (size_t i = 0; i < sizeof(central_daemons) / sizeof(central_daemons[0]); i++) {
        ck_assert_msg(alive(pidfile(ovn.dir, central_daemons[i])), "%s is not running",
                      central_daemons[i]);
        snprintf(path, sizeof(path), "%s/%s.log", ovn.dir, central_daemons[i]);
        ck_assert_msg(stat(path, &st) == 0, "no log %s", path);
        snprintf(path, sizeof(path), "%s/%s.ctl", ovn.dir, central_daemons[i]);
        ck_assert_msg(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "no unixctl socket %s",
                      path);
    }
    snprintf(path, sizeof(path), "%s/ovnnb.db", ovn.dir);
    ck_assert_msg(stat(path, &st) == 0, "no %s", path);
    snprintf(path, sizeof(path), "%s/ovnsb.db", ovn.dir);
    ck_assert_msg(stat(path, &st) == 0, "no %s", path);
    /* northd holds the SB's lock: it is the active one, connected to both databases. */
    {
        char *out = tl_sh_out(NULL, "ovs-appctl -t '%s/northd.ctl' status", ovn.dir);
        ck_assert_msg(strstr(out, "active"), "northd is not active: %s", out);
        free(out);
    }
}
END_TEST

START_TEST(northd_copies_a_switch_and_its_port_to_the_southbound)
{
    char *uuid, *dp, *pb, *chassis;

    tl_ovn_start(&ovn, NULL, false);
    uuid = switch_with_port(&ovn, "ls-a", "lsp-a1");
    {
        char args[200];

        snprintf(args, sizeof(args),
                 "--bare --columns=_uuid find datapath_binding external_ids:logical-switch=%s",
                 uuid);
        dp = sb_wait(&ovn, 10, args);
    }
    ck_assert_msg(dp[0], "no Datapath_Binding for switch %s after 10 s", uuid);
    pb = sb_wait(&ovn, 10, "--bare --columns=datapath find port_binding logical_port=lsp-a1");
    ck_assert_str_eq(pb, dp);
    /* No chassis here: the port is known, not bound. */
    chassis = tl_ovn_sbctl(&ovn, NULL, "--bare --columns=chassis find port_binding "
                           "logical_port=lsp-a1");
    ck_assert_str_eq(chassis, "");
    free(chassis);
    free(pb);
    free(dp);
    free(uuid);
}
END_TEST

START_TEST(a_chassis_registers_and_binds_a_port_plugged_into_its_bridge)
{
    char *datapath, *want, *encap, *chassis_uuid, *bound, *up, *dp_type;
    double t0, end;

    tl_ovn_start(&ovn, NULL, true);
    for (size_t i = 0; i < sizeof(chassis_daemons) / sizeof(chassis_daemons[0]); i++)
        ck_assert_msg(alive(pidfile(ovn.chassis_dir, chassis_daemons[i])), "%s is not running",
                      chassis_daemons[i]);
    /* The datapath chosen is recorded, and is the one the integration bridge has. */
    {
        char path[700];

        snprintf(path, sizeof(path), "%s/datapath", ovn.chassis_dir);
        datapath = tl_read_file(path);
        ck_assert_msg(datapath, "no %s", path);
        datapath[strcspn(datapath, "\n")] = '\0';
        /* The one detection (scripts/ovn datapath, sov_ovn_datapath_type), checked
         * against the kernel's own signs. */
        want = tl_sh_out(NULL, "'%s/scripts/ovn' datapath", tl_env("SOV_SOURCE_ROOT"));
        want[strcspn(want, "\n")] = '\0';
        ck_assert_str_eq(datapath, want);
        free(want);
        want = tl_sh_out(NULL, "{ [ -d /sys/module/openvswitch ] || "
                         "genl ctrl get name ovs_datapath >/dev/null 2>&1; } && printf system || "
                         "printf netdev");
        ck_assert_str_eq(datapath, want);
        dp_type = tl_ovn_vsctl(&ovn, NULL, "get bridge %s datapath_type", ovn.bridge);
        ck_assert_str_eq(dp_type, datapath);
        free(dp_type);
        /* The external bridge takes the same datapath, and is the public network's. */
        dp_type = tl_ovn_vsctl(&ovn, NULL, "get bridge br-ex datapath_type");
        ck_assert_str_eq(dp_type, datapath);
        free(dp_type);
        dp_type = tl_ovn_vsctl(&ovn, NULL, "get open . external_ids:ovn-bridge-mappings");
        ck_assert_str_eq(dp_type, "\"public:br-ex\"");
    }
    /* Registered in the SB under its system-id, Geneve on its encap address. */
    {
        char args[200];

        snprintf(args, sizeof(args), "--bare --columns=_uuid find chassis name=%s",
                 ovn.system_id);
        chassis_uuid = sb_wait(&ovn, 10, args);
        ck_assert_msg(chassis_uuid[0], "chassis %s is not in the SB", ovn.system_id);
        snprintf(args, sizeof(args), "--bare --columns=type,ip find encap chassis_name=%s",
                 ovn.system_id);
        encap = tl_ovn_sbctl(&ovn, NULL, "%s", args);
        ck_assert_msg(strstr(encap, "geneve") && strstr(encap, "127.0.0.1"), "encap: %s",
                      encap);
    }
    free(tl_ovn_vsctl(&ovn, NULL, "br-exists %s", ovn.bridge));
    free(switch_with_port(&ovn, "ls-b", "lsp-b1"));
    /* A VM's tap would be plugged the same way (libvirt's virtualport sets iface-id). */
    t0 = tl_now();
    free(tl_ovn_vsctl(&ovn, NULL, "add-port %s p1 -- set interface p1 type=internal "
                      "external_ids:iface-id=lsp-b1", ovn.bridge));
    end = t0 + 20;
    for (;;) {
        bound = tl_ovn_sbctl(&ovn, NULL, "--bare --columns=chassis find port_binding "
                             "logical_port=lsp-b1");
        if (strcmp(bound, chassis_uuid) == 0 || tl_now() > end)
            break;
        free(bound);
        usleep(50 * 1000);
    }
    ck_assert_msg(strcmp(bound, chassis_uuid) == 0,
                  "lsp-b1 not bound to chassis %s after 20 s: '%s'", chassis_uuid, bound);
    fprintf(stderr, "network/ovn: port plugged to bound on the chassis in %.2f s\n",
            tl_now() - t0);
    /* And the NB hears of it: the logical port is up. */
    end = tl_now() + 10;
    for (;;) {
        up = tl_ovn_nbctl(&ovn, NULL, "lsp-get-up lsp-b1");
        if (strcmp(up, "up") == 0 || tl_now() > end)
            break;
        free(up);
        usleep(50 * 1000);
    }
    ck_assert_str_eq(up, "up");
    free(up);
    free(bound);
    free(chassis_uuid);
    free(encap);
    free(dp_type);
    free(want);
    free(datapath);
}
END_TEST

START_TEST(starting_again_leaves_running_daemons_and_the_data_alone)
{
    const char *top = tl_env("SOV_SOURCE_ROOT");
    long before[6], after[6];
    char *out, *ls;
    int rc;

    tl_ovn_start(&ovn, NULL, true);
    free(switch_with_port(&ovn, "ls-keep", "lsp-keep"));
    for (size_t i = 0; i < 3; i++) {
        before[i] = pidfile(ovn.dir, central_daemons[i]);
        before[3 + i] = pidfile(ovn.chassis_dir, chassis_daemons[i]);
    }
    out = tl_sh_out(&rc, "'%s/scripts/ovn' central '%s' && SOV_OVN_NETNS=1 '%s/scripts/ovn' "
                    "chassis '%s' '%s' 127.0.0.1 '%s' '%s'", top, ovn.dir, top,
                    ovn.chassis_dir, ovn.system_id, ovn.sb, ovn.bridge);
    ck_assert_msg(rc == 0, "second start failed: %s", out);
    free(out);
    for (size_t i = 0; i < 3; i++) {
        after[i] = pidfile(ovn.dir, central_daemons[i]);
        after[3 + i] = pidfile(ovn.chassis_dir, chassis_daemons[i]);
    }
    for (size_t i = 0; i < 6; i++) {
        ck_assert_msg(before[i] == after[i] && alive(after[i]),
                      "daemon %zu restarted or gone: pid %ld then %ld", i, before[i], after[i]);
    }
    ls = tl_ovn_nbctl(&ovn, NULL, "--bare --columns=name list logical_switch");
    ck_assert_str_eq(ls, "ls-keep");
    free(ls);
}
END_TEST

START_TEST(stop_ends_every_daemon_and_a_start_brings_the_data_back)
{
    long pids[6];
    char *ls, *ns_link;
    char ns_before[64] = "", path[64];

    tl_ovn_start(&ovn, NULL, true);
    free(switch_with_port(&ovn, "ls-kept", "lsp-kept"));
    for (size_t i = 0; i < 3; i++) {
        pids[i] = pidfile(ovn.dir, central_daemons[i]);
        pids[3 + i] = pidfile(ovn.chassis_dir, chassis_daemons[i]);
        ck_assert(alive(pids[i]) && alive(pids[3 + i]));
    }
    /* ovs-vswitchd runs in a network namespace of its own, not in the test's. */
    snprintf(path, sizeof(path), "/proc/%ld/ns/net", pids[4]);
    ck_assert(readlink(path, ns_before, sizeof(ns_before) - 1) > 0);
    ns_link = tl_sh_out(NULL, "readlink /proc/self/ns/net");
    ck_assert_msg(strncmp(ns_link, ns_before, strlen(ns_before)) != 0,
                  "ovs-vswitchd shares the test's network namespace %s", ns_before);
    free(ns_link);

    tl_ovn_stop(&ovn);
    for (size_t i = 0; i < 6; i++)
        ck_assert_msg(!alive(pids[i]), "pid %ld still runs after the stop", pids[i]);
    /* The databases stay: the same folder starts with the same contents. */
    tl_ovn_start(&ovn, ovn.dir, false);
    ls = tl_ovn_nbctl(&ovn, NULL, "--bare --columns=name list logical_switch");
    ck_assert_str_eq(ls, "ls-kept");
    free(ls);
}
END_TEST

START_TEST(two_ovns_at_once_never_meet)
{
    char *a, *b, *ca, *cb;
    double end;

    tl_ovn_start(&ovn, NULL, true);
    tl_ovn_start(&ovn2, NULL, true);
    ck_assert_str_ne(ovn.bridge, ovn2.bridge);
    ck_assert_str_ne(ovn.system_id, ovn2.system_id);
    free(switch_with_port(&ovn, "ls-same", "lsp-same"));
    free(switch_with_port(&ovn2, "ls-same", "lsp-same"));
    free(tl_ovn_vsctl(&ovn, NULL, "add-port %s q1 -- set interface q1 type=internal "
                      "external_ids:iface-id=lsp-same", ovn.bridge));
    free(tl_ovn_vsctl(&ovn2, NULL, "add-port %s q1 -- set interface q1 type=internal "
                      "external_ids:iface-id=lsp-same", ovn2.bridge));
    end = tl_now() + 20;
    for (;;) {
        a = tl_ovn_sbctl(&ovn, NULL, "--bare --columns=chassis find port_binding "
                         "logical_port=lsp-same");
        b = tl_ovn_sbctl(&ovn2, NULL, "--bare --columns=chassis find port_binding "
                         "logical_port=lsp-same");
        if ((a[0] && b[0]) || tl_now() > end)
            break;
        free(a);
        free(b);
        usleep(50 * 1000);
    }
    ck_assert_msg(a[0] && b[0], "ports not bound in both after 20 s: '%s' '%s'", a, b);
    /* Each SB knows its own chassis only. */
    ca = tl_ovn_sbctl(&ovn, NULL, "--bare --columns=name list chassis");
    cb = tl_ovn_sbctl(&ovn2, NULL, "--bare --columns=name list chassis");
    ck_assert_str_eq(ca, ovn.system_id);
    ck_assert_str_eq(cb, ovn2.system_id);
    free(ca);
    free(cb);
    free(a);
    free(b);
}
END_TEST

/* Whether the SB answers on tcp:127.0.0.1:port. */
static bool
sb_on_tcp(unsigned port)
{
    int rc;
    char *out = tl_sh_out(&rc, "ovn-sbctl --db=tcp:127.0.0.1:%u --timeout=3 list sb_global",
                          port);
    bool ok = rc == 0 && strstr(out, "_uuid");

    free(out);
    return ok;
}

START_TEST(the_southbound_listens_on_tcp_when_given_an_address)
{
    const char *top = tl_env("SOV_SOURCE_ROOT");
    char *dir = tl_tmpdir(), *out;
    unsigned port = tl_free_port();
    int rc;

    /* What scripts/run does with SOV_OVN_SB_LISTEN, for chassis on other machines. */
    tl_sh_at_exit("'%s/scripts/ovn' stop '%s'", top, dir);
    out = tl_sh_out(&rc, "'%s/scripts/ovn' central '%s' 127.0.0.1 %u", top, dir, port);
    ck_assert_msg(rc == 0, "%s", out);
    free(out);
    ck_assert_msg(sb_on_tcp(port), "no SB on tcp:127.0.0.1:%u", port);
    /* Started again without an address, the running SB stops listening on TCP ... */
    tl_ovn_start(&ovn, dir, false);
    free(dir);
    ck_assert_msg(!sb_on_tcp(port), "the SB still answers on tcp:127.0.0.1:%u", port);
    /* ... and with one, it listens again, without a restart. */
    {
        long sb = pidfile(ovn.dir, "sb");

        out = tl_sh_out(&rc, "'%s/scripts/ovn' central '%s' 127.0.0.1 %u", top, ovn.dir, port);
        ck_assert_msg(rc == 0, "%s", out);
        free(out);
        ck_assert_msg(sb_on_tcp(port), "no SB on tcp:127.0.0.1:%u", port);
        ck_assert_int_eq(pidfile(ovn.dir, "sb"), sb);
    }
    /* Only the SB is for other hosts: the NB (sovd's) stays on its Unix socket. */
    out = tl_sh_out(&rc, "ovs-appctl -t '%s/nb.ctl' ovsdb-server/list-remotes", ovn.dir);
    ck_assert_msg(rc == 0 && strstr(out, "punix:") && !strstr(out, "tcp:"), "NB remotes: %s",
                  out);
    free(out);
}
END_TEST

START_TEST(libvirts_socket_is_linked_only_where_nothing_else_answers)
{
    const char *top = tl_env("SOV_SOURCE_ROOT");
    char link[700], target[700], want[700], *out;
    ssize_t n;
    int rc;

    tl_ovn_start(&ovn, NULL, true);
    tl_ovn_start(&ovn2, NULL, true);
    /* Nothing there: the link is made. */
    snprintf(link, sizeof(link), "%s/var-run-openvswitch/db.sock", ovn.dir);
    out = tl_sh_out(&rc, "SOV_OVS_DEFAULT_SOCKET='%s' '%s/scripts/ovn' link '%s'", link, top,
                    ovn.chassis_dir);
    ck_assert_msg(rc == 0, "%s", out);
    free(out);
    n = readlink(link, target, sizeof(target) - 1);
    ck_assert_int_gt(n, 0);
    target[n] = '\0';
    snprintf(want, sizeof(want), "%s/db.sock", ovn.chassis_dir);
    ck_assert_str_eq(target, want);
    /* ovs-vsctl with libvirt's path reaches this chassis. */
    out = tl_sh_out(&rc, "ovs-vsctl --db=unix:'%s' --timeout=5 br-exists %s", link, ovn.bridge);
    ck_assert_msg(rc == 0, "%s", out);
    free(out);
    /* Another chassis does not take a path that answers: it warns and leaves it. */
    out = tl_sh_out(&rc, "SOV_OVS_DEFAULT_SOCKET='%s' '%s/scripts/ovn' link '%s'", link, top,
                    ovn2.chassis_dir);
    ck_assert_msg(rc == 0 && strstr(out, "warning"), "no warning: %s", out);
    free(out);
    n = readlink(link, target, sizeof(target) - 1);
    ck_assert_int_gt(n, 0);
    target[n] = '\0';
    ck_assert_msg(strncmp(target, ovn.chassis_dir, strlen(ovn.chassis_dir)) == 0,
                  "the link was taken: %s", target);
    /* Once the first one is gone, the dead link is replaced. */
    tl_ovn_stop(&ovn);
    out = tl_sh_out(&rc, "SOV_OVS_DEFAULT_SOCKET='%s' '%s/scripts/ovn' link '%s'", link, top,
                    ovn2.chassis_dir);
    ck_assert_msg(rc == 0, "%s", out);
    free(out);
    n = readlink(link, target, sizeof(target) - 1);
    ck_assert_int_gt(n, 0);
    target[n] = '\0';
    ck_assert_msg(strncmp(target, ovn2.chassis_dir, strlen(ovn2.chassis_dir)) == 0,
                  "the dead link stayed: %s", target);
    /* Its stop takes the link with it. */
    out = tl_sh_out(&rc, "SOV_OVS_DEFAULT_SOCKET='%s' '%s/scripts/ovn' stop '%s'", link, top,
                    ovn2.chassis_dir);
    ck_assert_msg(rc == 0, "%s", out);
    free(out);
    ck_assert_msg(readlink(link, target, sizeof(target) - 1) < 0, "the link outlived stop");
}
END_TEST

/* scripts/host-setup on a "second machine": a network namespace joined to this one by a veth
 * pair, and a mount namespace whose /run and libvirt folders are folders of the test, so its
 * libvirtd and chassis never touch the machine's own. The central part listens on the root
 * side of the veth, as scripts/run does with SOV_OVN_SB_LISTEN. */
START_TEST(host_setup_makes_a_host_that_joins_the_central_southbound)
{
    const char *top = tl_env("SOV_SOURCE_ROOT");
    char *t = tl_tmpdir(), *out, *cmd = NULL, ns[32], vr[16], vh[16], central[32], host[32];
    unsigned pid = (unsigned) getpid(), port = tl_free_port();
    int rc;

    snprintf(ns, sizeof(ns), "sovhs-%u", pid);
    snprintf(vr, sizeof(vr), "hs%xr", pid & 0xffffffu);
    snprintf(vh, sizeof(vh), "hs%xh", pid & 0xffffffu);
    /* A /24 no address of this machine is in yet (another run's test, say). */
    for (unsigned i = 0, n = pid % 250;; i++, n = (n + 1) % 250) {
        ck_assert_msg(i < 250, "no free /24 in 10.252.0.0/16");
        out = tl_sh_out(&rc, "ip -o -4 addr show | grep -qF ' 10.252.%u.'", n);
        free(out);
        if (rc != 0) {
            snprintf(central, sizeof(central), "10.252.%u.1", n);
            snprintf(host, sizeof(host), "10.252.%u.2", n);
            break;
        }
    }
    tl_sh_at_exit("'%s/scripts/ovn' stop '%s/host/ovn'; "
                  "for p in libvirtd virtlogd; do [ -s '%s/run/'$p.pid ] && "
                  "kill $(cat '%s/run/'$p.pid); done; sleep 1; "
                  "ip link del %s; ip netns del %s; rm -rf '%s'", top, t, t, t, vr, ns, t);
    rc = tl_sh("set -e; mkdir -p '%s/run' '%s/lv/lib' '%s/lv/log' '%s/lv/cache'; "
               "cp -a /etc/libvirt '%s/lv/etc'; rm -rf '%s/lv/etc/qemu' '%s/lv/etc/storage'; "
               "ip netns add %s; ip link add %s type veth peer name %s; ip link set %s netns %s; "
               "ip addr add %s/24 dev %s; ip link set %s up; "
               "ip netns exec %s ip addr add %s/24 dev %s; ip netns exec %s ip link set %s up; "
               "ip netns exec %s ip link set lo up; "
               /* the host's NIC on the public network: a veth of its own namespace */
               "ip netns exec %s ip link add hsext type veth peer name hsextp",
               t, t, t, t, t, t, t, ns, vr, vh, vh, ns, central, vr, vr, ns, host, vh, ns, vh,
               ns, ns);
    ck_assert_int_eq(rc, 0);
    tl_ovn_start(&ovn, NULL, false);
    out = tl_sh_out(&rc, "'%s/scripts/ovn' central '%s' %s %u", top, ovn.dir, central, port);
    ck_assert_msg(rc == 0, "%s", out);
    free(out);

    ck_assert(asprintf(&cmd, "ip netns exec %s unshare --mount --propagation private sh -c '"
                       "mount --bind %s/run /run && mount --bind %s/lv/etc /etc/libvirt && "
                       "mount --bind %s/lv/lib /var/lib/libvirt && "
                       "mount --bind %s/lv/log /var/log/libvirt && "
                       "mount --bind %s/lv/cache /var/cache/libvirt && "
                       "%s/scripts/host-setup --address %s --central %s --sb-port %u "
                       "--external-nic hsext --state %s/host'", ns, t, t, t, t, t, top, host,
                       central, port, t) > 0);
    out = tl_sh_out(&rc, "%s", cmd);
    ck_assert_msg(rc == 0, "host-setup failed: %s", out);
    ck_assert_msg(strstr(out, "host ready"), "%s", out);
    free(out);

    /* The control plane reaches its libvirtd over TCP, from outside the host. */
    out = tl_sh_out(&rc, "timeout 20 virsh -c qemu+tcp://%s/system version", host);
    ck_assert_msg(rc == 0, "no libvirtd on qemu+tcp://%s/system: %s", host, out);
    free(out);
    /* Its chassis is in the central SB, Geneve on its address. */
    {
        char args[200], *id, *encap;
        char *path = NULL;

        ck_assert(asprintf(&path, "%s/host/ovn/system-id", t) > 0);
        id = tl_read_file(path);
        free(path);
        ck_assert(id);
        id[strcspn(id, "\n")] = '\0';
        snprintf(args, sizeof(args), "--bare --columns=ip find encap chassis_name=%s", id);
        encap = sb_wait(&ovn, 20, args);
        ck_assert_str_eq(encap, host);
        free(encap);
        free(id);
    }
    /* Its external bridge is the public network's, as on the central machine. */
    {
        char *m = tl_sh_out(&rc, "ovs-vsctl --db=unix:%s/host/ovn/db.sock --timeout=10 get open . "
                            "external_ids:ovn-bridge-mappings -- br-exists br-ex", t);

        ck_assert_msg(rc == 0, "%s", m);
        ck_assert_str_eq(m, "\"public:br-ex\"\n");
        free(m);
        /* --external-nic plugged the public network's NIC into it. */
        m = tl_sh_out(&rc, "ovs-vsctl --db=unix:%s/host/ovn/db.sock --timeout=10 list-ports br-ex",
                      t);
        ck_assert_msg(rc == 0 && strstr(m, "hsext"), "br-ex ports: %s", m);
        free(m);
    }
    /* libvirt's way to OVS inside the host leads to its chassis. */
    {
        char link[600], target[600], want[600];
        ssize_t n;

        snprintf(link, sizeof(link), "%s/run/openvswitch/db.sock", t);
        n = readlink(link, target, sizeof(target) - 1);
        ck_assert_msg(n > 0, "no link %s", link);
        target[n] = '\0';
        snprintf(want, sizeof(want), "%s/host/ovn/db.sock", t);
        ck_assert_str_eq(target, want);
    }
    /* Again: nothing restarts. */
    {
        long libvirtd = pidfile(t, "run/libvirtd"), controller;
        char dir[600];

        snprintf(dir, sizeof(dir), "%s/host/ovn", t);
        controller = pidfile(dir, "controller");
        ck_assert(alive(libvirtd) && alive(controller));
        out = tl_sh_out(&rc, "%s", cmd);
        ck_assert_msg(rc == 0, "second host-setup failed: %s", out);
        free(out);
        ck_assert_int_eq(pidfile(t, "run/libvirtd"), libvirtd);
        ck_assert_int_eq(pidfile(dir, "controller"), controller);
    }
    free(cmd);
    free(t);
}
END_TEST

/* The address (in DIR/vswitchd's network namespace) of the external bridge br-ex: `ip -o -4
 * addr` lines (malloc). */
static char *
ext_addrs(const tl_ovn *o)
{
    return tl_sh_out(NULL, "nsenter --net=/proc/%ld/ns/net ip -o -4 addr show dev br-ex | "
                     "awk '{print $4}'", pidfile(o->chassis_dir, "vswitchd"));
}

/* scripts/ovn external: the public IP pool's gateway on br-ex, up, and a localnet port of the
 * physical network "public" is patched from the integration bridge to br-ex by
 * ovn-controller (the bridge mapping works). */
START_TEST(external_puts_the_gateway_on_the_external_bridge)
{
    const char *top = tl_env("SOV_SOURCE_ROOT");
    char *out, *patch = NULL;
    double end;
    int rc;

    tl_ovn_start(&ovn, NULL, true);
    out = tl_sh_out(&rc, "'%s/scripts/ovn' external '%s' 192.0.2.1/24", top, ovn.chassis_dir);
    ck_assert_msg(rc == 0, "scripts/ovn external failed: %s", out);
    free(out);
    out = ext_addrs(&ovn);
    ck_assert_str_eq(out, "192.0.2.1/24\n");
    free(out);
    out = tl_sh_out(&rc, "nsenter --net=/proc/%ld/ns/net ip -o link show br-ex",
                    pidfile(ovn.chassis_dir, "vswitchd"));
    ck_assert_msg(rc == 0 && strstr(out, "UP"), "br-ex is not up: %s", out);
    free(out);
    /* On the userspace datapath the tap's TX checksum offload is off (TCP needs it). */
    out = tl_sh_out(&rc, "[ \"$(cat '%s/datapath')\" = netdev ] || exit 0; "
                    "nsenter --net=/proc/%ld/ns/net ethtool -k br-ex | grep '^tx-checksumming:'",
                    ovn.chassis_dir, pidfile(ovn.chassis_dir, "vswitchd"));
    ck_assert_msg(rc == 0 && (out[0] == '\0' || strstr(out, ": off")), "br-ex: %s", out);
    free(out);
    /* Again: the same address once; another gateway replaces it. */
    out = tl_sh_out(&rc, "'%s/scripts/ovn' external '%s' 192.0.2.1/24 && "
                    "'%s/scripts/ovn' external '%s' 198.51.100.1/25", top, ovn.chassis_dir, top,
                    ovn.chassis_dir);
    ck_assert_msg(rc == 0, "%s", out);
    free(out);
    out = ext_addrs(&ovn);
    ck_assert_str_eq(out, "198.51.100.1/25\n");
    free(out);
    /* Bad input: refused, naming what it wants, nothing changed. */
    {
        static const char *const bad[] = { "192.0.2.1", "192.0.2/24", "192.0.2.1/33",
                                           "192.0.2.1/0", "x;touch /tmp/x/24", "" };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            out = tl_sh_out(&rc, "'%s/scripts/ovn' external '%s' '%s'", top, ovn.chassis_dir,
                            bad[i]);
            ck_assert_msg(rc != 0, "'%s' was taken", bad[i]);
            ck_assert_msg(strstr(out, "GATEWAY/PREFIX") || strstr(out, "prefix"), "%s: %s",
                          bad[i], out);
            free(out);
        }
        /* A network the namespace already uses elsewhere (the machine's own, its default
         * route's gateway maybe): refused, it would take that traffic. */
        out = tl_sh_out(&rc, "nsenter --net=/proc/%ld/ns/net ip addr add 203.0.113.7/24 dev lo "
                        "&& '%s/scripts/ovn' external '%s' 203.0.113.1/24",
                        pidfile(ovn.chassis_dir, "vswitchd"), top, ovn.chassis_dir);
        ck_assert_msg(rc != 0 && strstr(out, "overlaps"), "an overlapping gateway: %s", out);
        free(out);
        out = tl_sh_out(&rc, "'%s/scripts/ovn' external '%s/none' 192.0.2.1/24", top, ovn.dir);
        ck_assert_msg(rc != 0, "a folder without a chassis was taken: %s", out);
        free(out);
        out = ext_addrs(&ovn);
        ck_assert_str_eq(out, "198.51.100.1/25\n");
        free(out);
    }
    /* A localnet port on the physical network "public": ovn-controller patches br-int to
     * br-ex. */
    free(tl_ovn_nbctl(&ovn, NULL, "ls-add ext -- lsp-add ext ext-ln -- lsp-set-type ext-ln "
                      "localnet -- lsp-set-addresses ext-ln unknown -- lsp-set-options ext-ln "
                      "network_name=public"));
    /* Only a chassis with a port of the switch (or a gateway router) needs the patch: a port
     * of the switch plugged in here. */
    free(tl_ovn_nbctl(&ovn, NULL, "lsp-add ext ext-p1 -- lsp-set-addresses ext-p1 "
                      "'02:00:00:00:00:09 198.51.100.9'"));
    free(tl_ovn_vsctl(&ovn, NULL, "add-port %s e1 -- set interface e1 type=internal "
                      "external_ids:iface-id=ext-p1", ovn.bridge));
    end = tl_now() + 20;
    for (;;) {
        patch = tl_ovn_vsctl(&ovn, NULL, "--bare --columns=name find port "
                             "external_ids:ovn-localnet-port=ext-ln");
        if (patch[0] || tl_now() > end)
            break;
        free(patch);
        usleep(100 * 1000);
    }
    ck_assert_msg(patch[0], "no patch port for the localnet port after 20 s");
    free(patch);
    out = tl_ovn_vsctl(&ovn, NULL, "list-ports br-ex");
    ck_assert_msg(strstr(out, "patch-"), "br-ex has no patch port: %s", out);
    free(out);
    /* stop takes the address with it and forgets it. */
    tl_ovn_stop(&ovn);
    {
        char path[700];
        struct stat st;

        snprintf(path, sizeof(path), "%s/external", ovn.chassis_dir);
        ck_assert_msg(stat(path, &st) != 0, "%s is left after stop", path);
    }
}
END_TEST

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

/* How long a test waits for its own OVN: central part and chassis, the bridge made. */
START_TEST(start_takes_well_under_ten_seconds)
{
    enum { RUNS = 5 };
    double t[RUNS], central[RUNS];

    for (int i = 0; i < RUNS; i++) {
        tl_ovn_start(&ovn, NULL, false);
        central[i] = ovn.start_s;
        tl_ovn_discard(&ovn);
        tl_ovn_start(&ovn, NULL, true);
        t[i] = ovn.start_s;
        tl_ovn_discard(&ovn);
    }
    qsort(t, RUNS, sizeof(t[0]), cmp_double);
    qsort(central, RUNS, sizeof(central[0]), cmp_double);
    fprintf(stderr, "network/ovn: start of a test's OVN, median of %d: central part %.3f s, "
            "with a chassis (bridge made) %.3f s (max %.3f s)\n", RUNS, central[RUNS / 2],
            t[RUNS / 2], t[RUNS - 1]);
    ck_assert_msg(t[RUNS / 2] < 10.0, "median start %.2f s", t[RUNS / 2]);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("network/ovn");
    TCase *tc = tcase_create("processes");
    TCase *hs = tcase_create("host-setup");

    signal(SIGPIPE, SIG_IGN);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, central_part_starts_with_its_files_in_its_folder);
    tcase_add_test(tc, northd_copies_a_switch_and_its_port_to_the_southbound);
    tcase_add_test(tc, a_chassis_registers_and_binds_a_port_plugged_into_its_bridge);
    tcase_add_test(tc, starting_again_leaves_running_daemons_and_the_data_alone);
    tcase_add_test(tc, stop_ends_every_daemon_and_a_start_brings_the_data_back);
    tcase_add_test(tc, two_ovns_at_once_never_meet);
    tcase_add_test(tc, the_southbound_listens_on_tcp_when_given_an_address);
    tcase_add_test(tc, libvirts_socket_is_linked_only_where_nothing_else_answers);
    tcase_add_test(tc, external_puts_the_gateway_on_the_external_bridge);
    tcase_add_test(tc, start_takes_well_under_ten_seconds);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(hs, setup, teardown);
    tcase_set_timeout(hs, 180);
    tcase_add_test(hs, host_setup_makes_a_host_that_joins_the_central_southbound);
    suite_add_tcase(s, hs);
    return tl_run_suite(s);
}
