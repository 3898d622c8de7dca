/* placement_repo.h: the scheduler's SQL (private to compute/). */
#ifndef SOV_PLACEMENT_REPO_H
#define SOV_PLACEMENT_REPO_H

#include "sov/compute.h"

/* A request in the shape the queries take: the allowed regions as an array literal. */
typedef struct place_q {
    char regions[8192];         /* '{"fr-par-1","de-fra-1"}' (sov_buf_pg_array) */
    const char *zone;
    const char *pin_host_id;    /* only this host (its volumes'); NULL: any */
    const char *exclude_host_id;    /* never this host (a migration's source); NULL: none */
    char vcpus[16], memory[24], disk[24], gpus[16];
    const char *group;
    const char *tenant_id;
    bool pack;
    /* Why each region outside regions is: policy, region, country or image_region. */
    struct place_why {
        char region[SOV_NAME_MAX + 1];
        sov_reject reject;
    } *why;
    size_t nwhy;
} place_q;

/* How many hosts fall in each rejection bucket, plus eligible ones at [SOV_REJECT__COUNT].
 * A host outside q->regions counts as its region's reason in q->why (policy if none). */
int sov_repo_place_counts(sov_dbconn *c, const place_q *q, int counts[SOV_REJECT__COUNT + 1],
                          sov_error *err);
typedef enum place_mode {
    PLACE_PEEK,         /* only look */
    PLACE_CLAIM,        /* take it, skipping hosts a concurrent claim holds */
    PLACE_CLAIM_WAIT,   /* take the best only, waiting for a claim holding it to commit */
} place_mode;

/* The best eligible host; a claim raises its usage. *found is false when none (a waiting
 * claim also finds none when its row stopped fitting while it waited: try again). */
int sov_repo_place_pick(sov_dbconn *c, const place_q *q, place_mode mode, sov_placement *ret,
                        bool *found, sov_error *err);
/* sov_repo_place_pick in a savepoint, rolled back when it took nothing: a host locked and then
 * found full is let go. */
int sov_repo_place_try(sov_dbconn *c, const place_q *q, place_mode mode, sov_placement *ret,
                       bool *found, sov_error *err);
/* Until the transaction ends: the members of one anti-affinity group are placed one at a
 * time. */
int sov_repo_place_group_lock(sov_dbconn *c, const char *tenant_id, const char *group,
                              sov_error *err);
int sov_repo_allocation_insert(sov_dbconn *c, const place_q *q, const sov_place_request *r,
                               const char *host_id, char *ret_id, sov_error *err);
int sov_repo_placement_insert(sov_dbconn *c, const sov_place_request *r, const sov_placement *p,
                              sov_error *err, char *ret_id);
int sov_repo_allocation_release(sov_dbconn *c, const char *allocation_id, sov_error *err);
/* The allocation's usage leaves its host and lands on host_id (a migration's commit). */
int sov_repo_allocation_move(sov_dbconn *c, const char *allocation_id, const char *host_id,
                             sov_error *err);
/* *ret false when the host has no room for gib more (nothing changed). */
int sov_repo_allocation_grow(sov_dbconn *c, const char *allocation_id, long long gib, bool *ret,
                             sov_error *err);

#endif
