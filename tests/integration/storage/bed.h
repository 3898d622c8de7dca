/* bed.h: the test bed the suites that drive a real sovd on libvirt's test driver share
 * (storage's, api/seca-storage, api/seca-compute, network/instances, network/migrate): per
 * test a fresh database and folder, and a private libvirtd whose test driver is a host (a
 * second one for the two-host suites, and the test's own OVN, when asked); sovd started on
 * them with the bootstrap operator and tenants acme and globex.
 *
 * The state is global, under the names the suites use, so that their tests read as before;
 * bed_setup and bed_teardown are the checked fixture's halves. */
#ifndef SOV_STORAGE_BED_H
#define SOV_STORAGE_BED_H

#include "testlib.h"

extern char *db;                /* this test's database */
extern char *tmp;               /* this test's folder */
extern tl_sovd sovd;
extern tl_libvirtd lvd;         /* the private libvirtd */
extern char *op;                /* the bootstrap operator's token, once started */
extern tl_tenant acme, globex;
extern char uri[800];           /* the test driver inside the private libvirtd */
extern char pool[64];           /* this process's pool: "<prefix>-<pid>" */
extern tl_libvirtd lvd2;        /* the two-host suites' second private libvirtd */
extern char uri2[800];          /* the test driver inside it ("" without one) */
extern tl_ovn ovn;              /* the test's own OVN, once bed_ovn_start started it */

/* A fresh database, folder and private libvirtd; pool and network named by prefix and
 * this process. */
void bed_setup(const char *prefix);
/* Start the second private libvirtd (lvd2, uri2), for a second host; bed_setup_two is
 * bed_setup and this: the suites with two hosts. */
void bed_second_start(void);
void bed_setup_two(const char *prefix);
/* Start the test's own OVN (tl_ovn_start, no chassis); sovd's flag naming its Northbound
 * into nb_flag (at least 700 bytes). */
void bed_ovn_start(char *nb_flag);
/* Stop sovd (a failed test unless it stops cleanly), the daemons and OVN, and remove what
 * bed_setup made. */
void bed_teardown(void);

/* Start sovd with args (NULL-terminated) and this test's pool, image store and NAT network;
 * the operator's token into op; tenants acme and globex. */
void bed_start(const char *const *args);
/* bed_start with SOV_HV_FAULT=fault (unless NULL) in sovd's environment alone. */
void bed_start_fault(const char *const *args, const char *fault);
/* Register host name in region and zone on uri u (tl_host_add); its id into id (at least
 * 40 bytes); fails the test unless it is up when up is true. */
void bed_host_add(const char *name, const char *region, const char *zone, const char *u,
                  bool up, char *id);
/* Hosts h1 (region1, zone a, on uri) and h2 (region2, zone b, on uri2), both up, their ids
 * into id1 and id2; and volume type "standard". */
void bed_two_hosts(const char *region1, const char *region2, char *id1, char *id2);
/* acme's image name in region, imported from a blank 64 MiB qcow2 in tmp; waits (at most
 * wait_s) until it is active. Its id into id (at least 40 bytes) unless NULL. */
void bed_image(const char *name, const char *region, int wait_s, char *id);

/* GET /v1/{collection}/{id} as acme's reader: 200, the body (a new reference). */
json_t *bed_get(const char *collection, const char *id);
/* bed_get until its state is state (every 100 ms; a failed test after wait_s): the body. */
json_t *bed_wait_state(const char *collection, const char *id, const char *state,
                       int wait_s);
/* What acme uses of quota `what` (volumes, storage_gib, ...), as the operator reads it. */
long long bed_quota_used(const char *what);

/* The first value of the query fmt makes on this test's database (malloc; tl_db_value), and
 * that value is want. */
char *bed_value(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bed_assert_value(const char *want, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Whether this test's pool on the host at u holds file. */
bool bed_in_pool(const char *u, const char *file);
/* POST path as acme's member: 202; the id of the answer's member key into id unless NULL,
 * its operation's id into op_id (at least 40 bytes each). */
void bed_post_202(const char *path, const char *body, const char *key, char *id,
                  char *op_id);

/* A request that fails with status and type, naming field in errors[0] when not NULL and
 * with says in its body when not NULL. */
void bed_refused(const char *method, const char *path, const char *token, const char *body,
                 long status, const char *type, const char *field, const char *says);

#endif
