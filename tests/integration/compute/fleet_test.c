/* scripts/fleet: two libvirtd hosts on this machine, each in network and mount namespaces
 * of its own, reachable over qemu+tcp. Both answer with distinct host UUIDs, a domain defined
 * on one is seen neither on the other nor on the machine's qemu:///system, and `down` leaves
 * no namespace, veth, bridge, daemon or state folder. With --ovn, a host of the fleet's own
 * OVN (tl_fleet_up), which down stops; KVM offered only where QEMU can use it. The fleet's
 * prefix is this test process's, so runs never collide; an unchecked teardown takes it down
 * however the test ends. Needs root (scripts/test runs as root); no PostgreSQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet.h"
#include "testlib.h"

#define HOSTS 2

static char prefix[32];
static char top[1024];

typedef struct fleet_host {
    char name[64];
    char uri[128];
    char addr[32];
    char uuid[64];
} fleet_host;

static void
fleet_setup(void)
{
    snprintf(prefix, sizeof(prefix), "ft%d", (int) getpid());
    snprintf(top, sizeof(top), "%s", tl_env("SOV_SOURCE_ROOT"));
}

static void
fleet_teardown(void)
{
    tl_sh("'%s/scripts/fleet' down --prefix '%s' >/dev/null 2>&1", top, prefix);
}

/* Whether PID names a live process (a zombie is none: it has exited). */
static bool
pid_running(long pid)
{
    char path[64], *stat, *p;
    bool running;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    stat = tl_read_file(path);
    if (!stat)
        return false;
    p = strrchr(stat, ')');
    running = !(p && p[1] == ' ' && p[2] == 'Z');
    free(stat);
    return running;
}

/* A one-line state file of the fleet, trimmed (malloc). */
static char *
state_line(const char *rel)
{
    char path[1200], *s;

    snprintf(path, sizeof(path), "/run/sov-fleet/%s/%s", prefix, rel);
    s = tl_read_file(path);
    ck_assert_msg(s, "no %s after fleet up", path);
    s[strcspn(s, "\n")] = '\0';
    return s;
}

START_TEST(two_hosts_are_separate_and_down_leaves_nothing)
{
    fleet_host h[HOSTS];
    char *out, *line, *save = NULL, *xml, *bridge, *veth[HOSTS], *netns[HOSTS];
    long pids[HOSTS * 2];
    char dom[64], xml_path[1200], rel[32];
    size_t len = strlen(prefix);
    int rc, n = 0, i;
    double t0 = tl_now();

    out = tl_sh_out(&rc, "'%s/scripts/fleet' up %d --prefix '%s' 2>&1", top, HOSTS, prefix);
    ck_assert_msg(rc == 0, "fleet up failed: %s", out);
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, prefix, len) != 0 || strncmp(line + len, "-h", 2) != 0)
            continue;
        ck_assert_int_lt(n, HOSTS);
        ck_assert_int_eq(sscanf(line, "%63s %127s %31s %63s", h[n].name, h[n].uri, h[n].addr,
                                h[n].uuid), 4);
        n++;
    }
    free(out);
    ck_assert_int_eq(n, HOSTS);
    ck_assert_str_ne(h[0].uuid, h[1].uuid);
    ck_assert_str_ne(h[0].addr, h[1].addr);

    /* Each answers as itself: its capabilities carry the host UUID it was given. */
    for (i = 0; i < HOSTS; i++) {
        char want[96];

        ck_assert_int_eq(tl_virsh(h[i].uri, &out, "capabilities"), 0);
        snprintf(want, sizeof(want), "<uuid>%s</uuid>", h[i].uuid);
        ck_assert_msg(strstr(out, want), "%s does not answer with %s", h[i].uri, h[i].uuid);
        free(out);
        ck_assert_int_eq(tl_virsh(h[i].uri, NULL, "hostname"), 0);
    }

    /* A domain defined on the first host exists there only. */
    snprintf(dom, sizeof(dom), "%s-dom", prefix);
    snprintf(xml_path, sizeof(xml_path), "/run/sov-fleet/%s/dom.xml", prefix);
    ck_assert(asprintf(&xml,
                       "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                       "<os><type arch='x86_64'>hvm</type></os></domain>", dom) > 0);
    {
        FILE *f = fopen(xml_path, "w");

        ck_assert(f);
        fputs(xml, f);
        fclose(f);
    }
    free(xml);
    ck_assert_int_eq(tl_virsh(h[0].uri, NULL, "define '%s'", xml_path), 0);
    ck_assert_int_eq(tl_virsh(h[0].uri, &out, "list --all --name"), 0);
    ck_assert_msg(strstr(out, dom), "%s not on %s: %s", dom, h[0].uri, out);
    free(out);
    ck_assert_int_eq(tl_virsh(h[1].uri, &out, "list --all --name"), 0);
    ck_assert_msg(!strstr(out, dom), "%s seen on %s too", dom, h[1].uri);
    free(out);
    ck_assert_int_eq(tl_virsh("qemu:///system", &out, "list --all --name"), 0);
    ck_assert_msg(!strstr(out, dom), "%s seen on qemu:///system", dom);
    free(out);

    /* sovd's default pool folder (/var/lib/sovereign) is each host's own: a volume made in
     * a pool there on one host is seen neither by the same pool on the other nor here. */
    {
        char pool_dir[128], root_path[192];
        snprintf(pool_dir, sizeof(pool_dir), "/var/lib/sovereign/%s-pool", prefix);
        for (i = 0; i < HOSTS; i++)
            ck_assert_int_eq(tl_virsh(h[i].uri, NULL,
                                      "pool-create-as %s-pool dir --target '%s' --build",
                                      prefix, pool_dir), 0);
        ck_assert_int_eq(tl_virsh(h[0].uri, NULL, "vol-create-as %s-pool only-h1 1M", prefix),
                         0);
        ck_assert_int_eq(tl_virsh(h[1].uri, &out, "vol-list %s-pool", prefix), 0);
        ck_assert_msg(!strstr(out, "only-h1"), "h2's pool folder holds h1's volume: %s", out);
        free(out);
        snprintf(root_path, sizeof(root_path), "%s/only-h1", pool_dir);
        ck_assert_msg(access(root_path, F_OK) != 0, "%s is in this machine's folder", root_path);
        for (i = 0; i < HOSTS; i++)
            ck_assert_int_eq(tl_virsh(h[i].uri, NULL, "pool-destroy %s-pool", prefix), 0);
    }

    /* What down must remove. */
    bridge = state_line("bridge");
    for (i = 0; i < HOSTS; i++) {
        snprintf(rel, sizeof(rel), "h%d/veth", i + 1);
        veth[i] = state_line(rel);
        snprintf(rel, sizeof(rel), "h%d/netns", i + 1);
        netns[i] = state_line(rel);
        snprintf(rel, sizeof(rel), "h%d/libvirtd.pid", i + 1);
        out = state_line(rel);
        pids[2 * i] = atol(out);
        free(out);
        snprintf(rel, sizeof(rel), "h%d/virtlogd.pid", i + 1);
        out = state_line(rel);
        pids[2 * i + 1] = atol(out);
        free(out);
        ck_assert(pid_running(pids[2 * i]) && pid_running(pids[2 * i + 1]));
    }

    out = tl_sh_out(&rc, "'%s/scripts/fleet' down --prefix '%s' 2>&1", top, prefix);
    ck_assert_msg(rc == 0, "fleet down failed: %s", out);
    free(out);
    ck_assert_msg(tl_sh("ip link show '%s' >/dev/null 2>&1", bridge) != 0,
                  "bridge %s left", bridge);
    for (i = 0; i < HOSTS; i++) {
        ck_assert_msg(tl_sh("ip link show '%s' >/dev/null 2>&1", veth[i]) != 0,
                      "veth %s left", veth[i]);
        ck_assert_msg(tl_sh("ip netns list | awk '{ print $1 }' | grep -qxF '%s'", netns[i]) != 0,
                      "namespace %s left", netns[i]);
        ck_assert_msg(!pid_running(pids[2 * i]), "libvirtd %ld of %s left", pids[2 * i],
                      h[i].name);
        ck_assert_msg(!pid_running(pids[2 * i + 1]), "virtlogd %ld of %s left",
                      pids[2 * i + 1], h[i].name);
        ck_assert_msg(tl_sh("virsh -c '%s' version >/dev/null 2>&1", h[i].uri) != 0,
                      "%s still answers", h[i].uri);
        free(veth[i]);
        free(netns[i]);
    }
    free(bridge);
    ck_assert_msg(tl_sh("test -e /run/sov-fleet/%s", prefix) != 0, "state folder left");
    ck_assert_msg(tl_now() - t0 < 60, "fleet up, checks and down took %.1f s", tl_now() - t0);
}
END_TEST

/* A pid from a pidfile of the fleet's OVN folder. */
static long
ovn_pid(const tl_fleet *f, const char *name)
{
    char path[sizeof(f->ovn.dir) + 32], *text;
    long pid;

    snprintf(path, sizeof(path), "%s/%s.pid", f->ovn.dir, name);
    text = tl_read_file(path);
    ck_assert_msg(text, "no %s", path);
    pid = atol(text);
    free(text);
    return pid;
}

/* up --ovn: the fleet's own OVN central part in D/ovn, its Southbound also on the bridge's
 * address (port 6642), the host its chassis (system-id its host UUID, Geneve from its
 * address: tl_fleet_up waits for that); a host of a machine whose QEMU cannot use KVM offers
 * none (its libvirtd has no KVM domain capabilities), one of a machine that can offers it;
 * down stops the central part too. */
START_TEST(up_with_ovn_has_its_own_central_part_and_no_kvm_where_qemu_cannot_use_it)
{
    const char *names[] = { "nb", "sb", "northd" };
    long pids[3];
    tl_fleet f;
    char want[64], *out;
    int rc;

    tl_fleet_up(&f, 1, true);
    out = tl_ovn_sbctl(&f.ovn, NULL, "--bare --columns=name list Chassis");
    ck_assert_str_eq(out, f.host[0].uuid);
    free(out);
    out = tl_sh_out(&rc, "ovs-appctl -t '%s/sb.ctl' ovsdb-server/list-remotes", f.ovn.dir);
    ck_assert_int_eq(rc, 0);
    snprintf(want, sizeof(want), "ptcp:6642:%s", f.gateway);
    tl_assert_contains(out, want);
    free(out);

    rc = tl_virsh(f.host[0].uri, &out, "domcapabilities --virttype kvm");
    if (strcmp(tl_env("SOV_TEST_VIRT_TYPE"), "qemu") == 0)
        ck_assert_msg(rc != 0, "host %s offers KVM where QEMU cannot use it", f.host[0].name);
    else
        ck_assert_msg(rc == 0, "host %s offers no KVM: %s", f.host[0].name, out);
    free(out);

    for (int i = 0; i < 3; i++) {
        pids[i] = ovn_pid(&f, names[i]);
        ck_assert(pid_running(pids[i]));
    }
    tl_fleet_down(&f);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(!pid_running(pids[i]), "the fleet's %s (%ld) outlived down", names[i],
                      pids[i]);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("compute/fleet");
    TCase *tc = tcase_create("fleet");

    tcase_add_unchecked_fixture(tc, fleet_setup, fleet_teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, two_hosts_are_separate_and_down_leaves_nothing);
    tcase_add_test(tc, up_with_ovn_has_its_own_central_part_and_no_kvm_where_qemu_cannot_use_it);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
