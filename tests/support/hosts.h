/* hosts.h: set-up the compute suites share to run sovd against local hypervisors: its flags
 * for a private image store, storage pool and NAT network, an active image made from a small
 * qcow2, and waiting for a resource's state. */
#ifndef SOV_TL_HOSTS_H
#define SOV_TL_HOSTS_H

#include "testlib.h"

/* sovd's flags for instances on a local libvirt: --image-store=DIR/store,
 * --storage-pool=POOL, --storage-pool-path=DIR/pool, --nat-network=NET and a random
 * --nat-cidr=10.X.Y.0/24 (X in 100..249), each a whole argument for tl_sovd_start. */
typedef struct tl_local_flags {
    char store[700], pool[128], path[700], net[128], cidr[128];
} tl_local_flags;

void tl_local_flags_init(tl_local_flags *f, const char *dir, const char *pool, const char *net);

/* An image name in region for token's tenant from DIR/base.qcow2 (a 64 MiB qcow2, made when
 * missing) by file URL, waited for (wait_s) until active. */
void tl_image_from_qcow2(const tl_sovd *s, const char *token, const char *dir, const char *name,
                         const char *region, int wait_s);

/* Wait (at most seconds, polling every 100 ms) until GET prefix + id ("/v1/instances/",
 * "/v1/hosts/") as token shows "state": want; the last reply (a new reference). */
json_t *tl_wait_state(const tl_sovd *s, const char *token, const char *prefix, const char *id,
                      const char *want, int seconds);

/* The end of a suite's teardown, once sovd is stopped (rc: what tl_sovd_stop_clean returned)
 * and discarded: drop database db, free db and op, remove and free folder tmp; then fail the
 * test if sovd did not exit cleanly. */
void tl_teardown_end(int rc, char *db, char *op, char *tmp);

/* A compute suite's teardown: stop sovd (SIGTERM, 30 s) and discard it, discard the private
 * libvirtd lvd (its test driver holds the pool, network and domains, which die with it), drop
 * database db, free db and op, remove and free folder tmp; then fail the test if sovd did not
 * exit cleanly. */
void tl_local_teardown(tl_sovd *s, tl_libvirtd *lvd, char *db, char *op, char *tmp);

#endif
