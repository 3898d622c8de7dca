/* host_repo.h: the SQL of hosts (private to compute/).
 *
 * Every function runs on the caller's connection, inside the caller's transaction if any,
 * and answers SOV_E_NOT_FOUND when its host does not exist. Ratios travel as text ("4.5") and
 * NULL keeps a value, so the database's numeric rounding is the only one. */
#ifndef SOV_HOST_REPO_H
#define SOV_HOST_REPO_H

#include "sov/compute.h"

/* Whether region exists, and whether zone exists in it. */
int sov_repo_zone_exists(sov_dbconn *c, const char *region, const char *zone, bool *ret_region,
                         bool *ret_zone, sov_error *err);
int sov_repo_host_name_taken(sov_dbconn *c, const char *name, bool *ret, sov_error *err);

/* lock: FOR UPDATE, so allocations cannot arrive while a delete looks. */
int sov_repo_host_get(sov_dbconn *c, const char *id, bool lock, sov_host *ret, sov_error *err);
/* region, state and after may be NULL. Keyset on name. */
int sov_repo_host_list(sov_dbconn *c, const char *region, const char *state, const char *after,
                       unsigned limit, sov_host_page *ret, sov_error *err);
/* NULL arguments keep their column; state_reason is written only with a state. */
int sov_repo_host_update(sov_dbconn *c, const char *id, const char *state, const char *state_reason,
                         const char *cpu_ratio, const char *ram_ratio, sov_host *ret,
                         sov_error *err);
int sov_repo_host_delete(sov_dbconn *c, const char *id, sov_error *err);
/* The id (SOV_UUID_LEN + 1 bytes) of the host called name; SOV_E_NOT_FOUND if none. */
int sov_repo_host_id_by_name(sov_dbconn *c, const char *name, char *ret, sov_error *err);
/* SOV_E_CONFLICT naming the live instances on host id (what: "host 'x'"). */
int sov_repo_host_blockers(sov_dbconn *c, const char *id, const char *what, sov_error *err);
int sov_repo_host_allocations(sov_dbconn *c, const char *id, long *ret, sov_error *err);

/* What the reconciler needs of a host it probes. */
typedef struct repo_host_probe {
    char id[SOV_UUID_LEN + 1];
    char name[SOV_NAME_MAX + 1];
    char libvirt_uri[1024];
    char state[16];
    char machine_id[80];    /* "" until discovery (or a first check) recorded it */
} repo_host_probe;

/* Set each host's usage to what its allocation rows add up to; the hosts that differed
 * (id and name only) into *ret, an array to free(). */
int sov_repo_host_recount(sov_dbconn *c, repo_host_probe **ret, size_t *ret_n, sov_error *err);
/* Every host in state up or down, by name; *ret is an array to free(). */
int sov_repo_host_probe_list(sov_dbconn *c, repo_host_probe **ret, size_t *ret_n, sov_error *err);
/* Move a host from state `from` to `to` (only if it still is in `from`: an operator may have
 * disabled it meanwhile); *ret_moved says whether it did. Stamps checked_at. */
int sov_repo_host_transition(sov_dbconn *c, const char *id, const char *from, const char *to,
                             const char *reason, bool *ret_moved, sov_error *err);
/* Stamp checked_at on hosts whose state stays; ids is a PostgreSQL uuid[] literal. */
int sov_repo_host_touch(sov_dbconn *c, const char *ids, sov_error *err);
/* A host in an operator's state (maintenance, disabled, draining) while it stays in it:
 * checked now, down_since set when it does not answer (kept) and cleared when it does;
 * *ret_changed when down_since came or went. */
int sov_repo_host_reachable(sov_dbconn *c, const char *id, const char *state, bool answers,
                            bool *ret_changed, sov_error *err);
/* An instance of a host down for longer than host_down_grace, not yet in error. */
typedef struct repo_host_down_instance {
    char id[SOV_UUID_LEN + 1];
    char state[16];
    char host[SOV_NAME_MAX + 1];
    char down_since[40];        /* RFC 3339 */
} repo_host_down_instance;
/* Those instances, of every host down since longer than grace_s; *ret to free(). */
int sov_repo_host_down_expired(sov_dbconn *c, unsigned grace_s, repo_host_down_instance **ret,
                               size_t *ret_n, sov_error *err);

/* ---- registration and machine identity ---- */

/* A new host in state 'discovering', without anything discovered yet. */
int sov_repo_host_insert_discovering(sov_dbconn *c, const sov_host_create_args *a,
                                     const char *cpu_ratio, const char *ram_ratio, sov_host *ret,
                                     sov_error *err);
/* What discovery found: the host goes up. SOV_E_NOT_FOUND when it is no longer
 * 'discovering'; SOV_E_CONFLICT when another host is this machine (unique index). */
int sov_repo_host_discovered(sov_dbconn *c, const char *id, const sov_hv_node *node,
                             const sov_hv_identity *m, sov_host *ret, sov_error *err);
/* A 'discovering' host goes to 'error' with the reason. */
int sov_repo_host_discovery_failed(sov_dbconn *c, const char *id, const char *reason,
                                   sov_error *err);
/* The name of a host (not in error) registered with this URI string, "" when none. */
int sov_repo_host_uri_owner(sov_dbconn *c, const char *uri, char *ret, size_t size,
                            sov_error *err);
/* The name of a host other than except_id that is this machine, "" when none. */
int sov_repo_host_machine_owner(sov_dbconn *c, const char *machine_id, const char *except_id,
                                char *ret, size_t size, sov_error *err);
/* A different machine answers at an up or down host's URI: down with reason, the machine
 * seen kept for the operator. *ret_moved: whether anything changed. */
int sov_repo_host_mismatch(sov_dbconn *c, const char *id, const sov_hv_identity *seen,
                           const char *reason, bool *ret_moved, sov_error *err);
/* Record the machine of a host that has none yet (registered before identities). */
int sov_repo_host_adopt(sov_dbconn *c, const char *id, const sov_hv_identity *m, sov_error *err);
/* The machine seen becomes the host's own; *ret_found false when none was seen. */
int sov_repo_host_confirm(sov_dbconn *c, const char *id, const char *reason, sov_host *ret,
                          bool *ret_found, sov_error *err);

#endif
