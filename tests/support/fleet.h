/* fleet.h: a fleet of hypervisor hosts on this machine for the end-to-end tests
 * (scripts/fleet: each host a libvirtd in network and mount namespaces of its own, reached as
 * qemu+tcp://ADDR/system), optionally with the fleet's own OVN: its central part (NB, SB,
 * ovn-northd) in the fleet's folder, every host a chassis of it, Geneve between them.
 *
 * The prefix is this process's, so two runs never collide; the fleet goes down (daemons,
 * guests, namespaces, veths, bridge, OVN, folder) when the test process exits, however it
 * exits. */
#ifndef SOV_TL_FLEET_H
#define SOV_TL_FLEET_H

#include <stdbool.h>

#include "testlib.h"

#define TL_FLEET_MAX 8

typedef struct tl_fleet_host {
    char name[64];      /* PREFIX-hI */
    char uri[128];      /* qemu+tcp://ADDR/system */
    char addr[32];      /* its address on the fleet's bridge (and its Geneve endpoint) */
    char uuid[64];      /* its libvirt host UUID: the machine sovd records, the chassis name */
    char dir[600];      /* its folders in the root namespace (D/hI) */
} tl_fleet_host;

typedef struct tl_fleet {
    char prefix[32];
    char dir[256];      /* D: the fleet's state folder */
    char gateway[32];   /* the bridge's address, this machine as the hosts see it */
    int n;
    tl_fleet_host host[TL_FLEET_MAX];
    bool with_ovn;
    tl_ovn ovn;         /* with_ovn: the central part (dir D/ovn, nb, sb); no chassis here */
    double up_s;        /* how long tl_fleet_up took */
} tl_fleet;

/* `scripts/fleet up n --prefix e2e<pid>` (with --ovn when ovn): fills f from what it prints;
 * with OVN, waits (at most 30 s) until every host's chassis is in the Southbound with its
 * Geneve endpoint. Fails the test, quoting the script, when it cannot. */
void tl_fleet_up(tl_fleet *f, int n, bool ovn);
/* `scripts/fleet down`: everything goes; fails the test if down fails. */
void tl_fleet_down(tl_fleet *f);

/* Where host i (0-based) keeps path, as the root namespace sees it (malloc): its
 * /var/lib/libvirt, /etc/libvirt, /run/libvirt, /var/log/libvirt and /var/cache/libvirt
 * are folders of D/hI; any other path is the machine's own. */
char *tl_fleet_path(const tl_fleet *f, int i, const char *path);

/* Whether host i defines the domain (a name or UUID); *running (unless NULL) whether it
 * runs there. */
bool tl_fleet_has_domain(const tl_fleet *f, int i, const char *domain, bool *running);
/* The one host that defines the domain (its index), or -1 when none does; fails the test
 * when several do (a migration must leave one copy). */
int tl_fleet_domain_host(const tl_fleet *f, const char *domain);
/* The index of the host named name (PREFIX-hI) or with this libvirt host UUID; -1 if none. */
int tl_fleet_host_index(const tl_fleet *f, const char *name_or_uuid);

/* The chassis a logical port is bound to in the fleet's Southbound, as a host index (-1:
 * not bound, or to no host of the fleet). */
int tl_fleet_port_chassis(const tl_fleet *f, const char *logical_port);

#endif
