/* guest_bed.h: the bed the end-to-end guest suites (tests/e2e/) share on the machine's own
 * libvirtd: a private storage pool and NAT network named for this run, sovd on them with a
 * private image store, the operator's token, tenant acme, the region, and the guest image
 * imported as an active image. Every libvirt object is registered for removal at exit before
 * it exists, so a test that fails anywhere leaves nothing on the shared libvirtd. */
#ifndef SOV_TL_GUEST_BED_H
#define SOV_TL_GUEST_BED_H

#include "testlib.h"

typedef struct tl_bed {
    const char *uri;            /* the libvirtd, e.g. qemu:///system */
    char *db;                   /* this test's database (tl_db_create) */
    char *tmp;                  /* this test's folder: pool/, store/ */
    char *image;                /* the guest image's path, once made (tl_bed_guest_image) */
    char *op;                   /* the bootstrap operator's token, once sovd runs */
    tl_sovd sovd;
    tl_tenant tenant;           /* "acme" */
    char pool[64], net[16], subnet[16], cidr[32];
    char domain[64];            /* sov-<id> of the test's instance, once created; "" none */
} tl_bed;

/* A new bed on uri (a case's set-up): its database and folder, its pool's and network's
 * names (tl_bed_names, the network's with net_prefix) and their removal at exit
 * (tl_bed_cleanup_at_exit). Nothing runs yet. */
void tl_bed_init(tl_bed *b, const char *uri, const char *net_prefix);

/* sovd on the bed (tl_bed_sovd_start with the NULL-terminated extra flags), the operator's
 * token, tenant acme and region code (tl_bed_region). */
void tl_bed_start(tl_bed *b, const char *region, const char *const extra[]);

/* tl_bed_start with --host-check-interval=2 and --stop-timeout=stop_timeout (seconds): what
 * every guest case starts from. */
void tl_bed_start_world(tl_bed *b, const char *region, int stop_timeout);

/* An instance create's 202 j: its id into id, its domain's name (sov-<id>) into b->domain,
 * and the domain destroyed at exit whatever the test's outcome. */
void tl_bed_created(tl_bed *b, const json_t *j, char id[40]);

/* Undo tl_bed_init and all since (a case's teardown): stop sovd (SIGTERM, 30 s), remove the
 * domain if one is named, the network and the pool, sovd's files, the image, the database and
 * the folder; then fail the test if sovd did not exit cleanly. */
void tl_bed_release(tl_bed *b);

/* Make tmp (the test's folder) world-traversable with everything above it (libvirt-qemu
 * reads the disks in tmp/pool), name this run's pool (sovtest-<pid>-<rand>) and network
 * (net_prefix + pid, which must not exist on uri yet), and pick a free /24 for it (cidr,
 * prefix into subnet unless NULL; see tl_free_subnet). Fails the test on any of these. */
void tl_bed_names(const char *uri, const char *tmp, const char *net_prefix, char pool[64],
                  char net[16], char cidr[32], char subnet[16]);

/* Register at exit the removal of pool and network net on uri, and of folder tmp. */
void tl_bed_cleanup_at_exit(const char *uri, const char *pool, const char *net,
                            const char *tmp);

/* Remove the network net and the pool now (quietly; either may not exist). */
void tl_bed_remove_now(const char *uri, const char *pool, const char *net);

/* Destroy and undefine domain name now (quietly). */
void tl_bed_domain_remove_now(const char *uri, const char *name);

/* Start sovd on db with the pool (path tmp/pool), the NAT network net on cidr, the image
 * store tmp/store and file:// image URLs allowed, then the NULL-terminated extra flags. */
void tl_bed_sovd_start(tl_sovd *sovd, const char *db, const char *tmp, const char *pool,
                       const char *net, const char *cidr, const char *const extra[]);

/* Region code ("E2E", FR, dc-e2e, zone "a") as the operator's token op. */
void tl_bed_region(const tl_sovd *sovd, const char *op, const char *code);

/* tl_guest_image(), its folder registered for removal at exit too. */
char *tl_bed_image(void);

/* The guest image (tl_bed_image()), imported by t's member
 * as image name in region from its file:// URL and waited for (as t's reader, wait_s) until
 * active. Returns the image's path (malloc), for tl_guest_image_remove(). */
char *tl_bed_guest_image(const tl_sovd *sovd, const tl_tenant *t, const char *region,
                         const char *name, int wait_s);

/* tl_bed_guest_image() into b->image as b's tenant. */
void tl_bed_image_import(tl_bed *b, const char *region, const char *name, int wait_s);

#endif
