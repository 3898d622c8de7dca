/* seca_repo.h: SQL for the SECA surface's meta and objects (private to core/;
 * migrations/0016_seca.sql). Every function runs on the caller's connection, inside the
 * caller's transaction if any. */
#ifndef SOV_SECA_REPO_H
#define SOV_SECA_REPO_H

#include "sov/seca.h"

/* A resource_meta row as stored: the meta and the operation its last write follows. */
typedef struct sov_seca_meta_row {
    sov_seca_meta m;
    char tenant_id[SOV_UUID_LEN + 1];   /* "" for a global resource */
    char follow_op[SOV_UUID_LEN + 1];   /* "" when nothing is followed */
    char follow_phase[16];              /* "creating", "updating", "deleting" or "" */
} sov_seca_meta_row;

/* Serialize the meta writes of one resource (until the transaction ends) and read the
 * database's clock, truncated to milliseconds, as RFC 3339 UTC into now (40 bytes). */
int sov_repo_seca_meta_lock(sov_dbconn *c, const char *resource_id, char *now,
                            sov_error *err);
/* The row of resource_id into ret (*found false and ret untouched when there is none). */
int sov_repo_seca_meta_get(sov_dbconn *c, const char *resource_id, sov_seca_meta_row *ret,
                           bool *found, sov_error *err);
/* Insert or replace the row (all of it); when touch, modified_at becomes `now`, or 1 ms
 * after the stored one when that is not later (else it stays). created_at, modified_at,
 * deleted_at and stored are set in r. */
int sov_repo_seca_meta_put(sov_dbconn *c, sov_seca_meta_row *r, const char *now, bool touch,
                           sov_error *err);
int sov_repo_seca_meta_delete(sov_dbconn *c, const char *resource_id, sov_error *err);
/* Drop rows of resources deleted more than a day ago. */
int sov_repo_seca_meta_purge(sov_dbconn *c, sov_error *err);

#endif
