/* fleet.c: scripts/fleet for the end-to-end tests (fleet.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fleet.h"

/* The folders scripts/fleet binds over libvirt's in each host's mount namespace. */
static const struct {
    const char *path, *sub;
} binds[] = {
    { "/var/lib/libvirt", "lib" },   { "/etc/libvirt", "etc" },
    { "/run/libvirt", "run" },       { "/var/run/libvirt", "run" },
    { "/var/log/libvirt", "log" },   { "/var/cache/libvirt", "cache" },
    { "/var/run/openvswitch", "ovs" },
};

/* Whether every host's chassis is in the Southbound with its Geneve endpoint. */
static bool
chassis_all_there(const tl_fleet *f)
{
    int rc;
    char *out = tl_ovn_sbctl(&f->ovn, &rc, "--bare --columns=ip list Encap"), *text = NULL;
    bool all = rc == 0;

    /* One address a line (blank lines between rows), the last without its newline. */
    ck_assert(asprintf(&text, "\n%s\n", out) > 0);
    for (int i = 0; all && i < f->n; i++) {
        char want[48];

        snprintf(want, sizeof(want), "\n%s\n", f->host[i].addr);
        all = strstr(text, want) != NULL;
    }
    free(text);
    free(out);
    return all;
}

void
tl_fleet_up(tl_fleet *f, int n, bool ovn)
{
    const char *top = tl_env("SOV_SOURCE_ROOT");
    char *out, *line, *save = NULL, *gw, path[700];
    double t0 = tl_now();
    size_t len;
    int rc;

    ck_assert_int_le(n, TL_FLEET_MAX);
    memset(f, 0, sizeof(*f));
    snprintf(f->prefix, sizeof(f->prefix), "e2e%d", (int) getpid());
    snprintf(f->dir, sizeof(f->dir), "/run/sov-fleet/%s", f->prefix);
    f->with_ovn = ovn;
    /* Whatever happens to this test, the fleet goes with it. */
    tl_sh_at_exit("'%s/scripts/fleet' down --prefix '%s' >/dev/null 2>&1", top, f->prefix);
    out = tl_sh_out(&rc, "'%s/scripts/fleet' up %d --prefix '%s'%s 2>&1", top, n, f->prefix,
                    ovn ? " --ovn" : "");
    ck_assert_msg(rc == 0, "scripts/fleet up %d --prefix %s%s failed: %s", n, f->prefix,
                  ovn ? " --ovn" : "", out);
    len = strlen(f->prefix);
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        tl_fleet_host *h = &f->host[f->n];

        if (strncmp(line, f->prefix, len) != 0 || strncmp(line + len, "-h", 2) != 0)
            continue;
        ck_assert_int_lt(f->n, n);
        ck_assert_int_eq(sscanf(line, "%63s %127s %31s %63s", h->name, h->uri, h->addr,
                                h->uuid), 4);
        snprintf(h->dir, sizeof(h->dir), "%s/h%d", f->dir, f->n + 1);
        f->n++;
    }
    free(out);
    ck_assert_msg(f->n == n, "scripts/fleet up printed %d hosts, not %d", f->n, n);
    snprintf(path, sizeof(path), "%s/gateway", f->dir);
    gw = tl_read_file(path);
    ck_assert_msg(gw, "no %s after scripts/fleet up", path);
    gw[strcspn(gw, "\n")] = '\0';
    snprintf(f->gateway, sizeof(f->gateway), "%s", gw);
    free(gw);
    if (ovn) {
        snprintf(f->ovn.dir, sizeof(f->ovn.dir), "%s/ovn", f->dir);
        snprintf(f->ovn.nb, sizeof(f->ovn.nb), "unix:%s/nb.sock", f->ovn.dir);
        snprintf(f->ovn.sb, sizeof(f->ovn.sb), "unix:%s/sb.sock", f->ovn.dir);
        while (!chassis_all_there(f)) {
            ck_assert_msg(tl_now() - t0 < 30, "not every chassis of fleet %s is in its "
                          "Southbound after 30 s (see %s/h*/ovs/controller.log)", f->prefix,
                          f->dir);
            usleep(100 * 1000);
        }
    }
    f->up_s = tl_now() - t0;
}

void
tl_fleet_down(tl_fleet *f)
{
    char *out;
    int rc;

    if (!f->prefix[0])
        return;
    out = tl_sh_out(&rc, "'%s/scripts/fleet' down --prefix '%s' 2>&1",
                    tl_env("SOV_SOURCE_ROOT"), f->prefix);
    ck_assert_msg(rc == 0, "scripts/fleet down --prefix %s failed: %s", f->prefix, out);
    free(out);
    f->n = 0;
}

char *
tl_fleet_path(const tl_fleet *f, int i, const char *path)
{
    char *ret = NULL;

    ck_assert_int_ge(i, 0);
    ck_assert_int_lt(i, f->n);
    for (size_t b = 0; b < sizeof(binds) / sizeof(binds[0]); b++) {
        size_t len = strlen(binds[b].path);

        if (strncmp(path, binds[b].path, len) == 0 && (path[len] == '/' || !path[len])) {
            ck_assert(asprintf(&ret, "%s/%s%s", f->host[i].dir, binds[b].sub, path + len) > 0);
            return ret;
        }
    }
    ret = strdup(path);
    ck_assert_ptr_nonnull(ret);
    return ret;
}

bool
tl_fleet_has_domain(const tl_fleet *f, int i, const char *domain, bool *running)
{
    char *out = NULL;
    int rc;

    ck_assert_int_ge(i, 0);
    ck_assert_int_lt(i, f->n);
    rc = tl_virsh(f->host[i].uri, &out, "domstate '%s'", domain);
    if (running)
        *running = rc == 0 && strncmp(out, "running", 7) == 0;
    if (rc != 0) {
        /* Not there, or the host did not answer: only the first is an answer. */
        ck_assert_msg(strstr(out, "ailed to get domain") || strstr(out, "not found") ||
                      strstr(out, "no domain"),
                      "virsh domstate %s on %s: %s", domain, f->host[i].uri, out);
    }
    free(out);
    return rc == 0;
}

int
tl_fleet_domain_host(const tl_fleet *f, const char *domain)
{
    int at = -1;

    for (int i = 0; i < f->n; i++) {
        if (!tl_fleet_has_domain(f, i, domain, NULL))
            continue;
        ck_assert_msg(at < 0, "domain %s is defined on %s and on %s", domain, f->host[at].name,
                      f->host[i].name);
        at = i;
    }
    return at;
}

int
tl_fleet_host_index(const tl_fleet *f, const char *name_or_uuid)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->host[i].name, name_or_uuid) == 0 ||
            strcasecmp(f->host[i].uuid, name_or_uuid) == 0)
            return i;
    return -1;
}

int
tl_fleet_port_chassis(const tl_fleet *f, const char *logical_port)
{
    char *row, *name;
    int at;

    ck_assert_msg(f->with_ovn, "fleet %s has no OVN", f->prefix);
    row = tl_ovn_sbctl(&f->ovn, NULL, "--bare --columns=chassis find Port_Binding "
                       "logical_port='%s'", logical_port);
    if (!row[0]) {
        free(row);
        return -1;
    }
    name = tl_ovn_sbctl(&f->ovn, NULL, "--bare get Chassis %s name", row);
    free(row);
    /* get quotes a string that looks like a number or has odd characters. */
    if (name[0] == '"') {
        memmove(name, name + 1, strlen(name));
        name[strcspn(name, "\"")] = '\0';
    }
    at = tl_fleet_host_index(f, name);
    free(name);
    return at;
}
