/* identity_repo.h: SQL for tenants, workspaces, users and tokens (private to core/).
 * Every function runs on the caller's connection, inside the caller's transaction if any,
 * and answers SOV_E_NOT_FOUND when its row does not exist. */
#ifndef SOV_IDENTITY_REPO_H
#define SOV_IDENTITY_REPO_H

#include "sov/identity.h"

int sov_repo_tenant_insert(sov_dbconn *c, const char *name, const char *display_name,
                           bool is_operator, sov_tenant *ret, sov_error *err);
int sov_repo_tenant_get(sov_dbconn *c, const char *id, bool lock, sov_tenant *ret, sov_error *err);
int sov_repo_tenant_list(sov_dbconn *c, const char *only_id, const char *after, unsigned limit,
                         sov_tenant_page *ret, sov_error *err);
int sov_repo_tenant_update(sov_dbconn *c, const char *id, const char *name,
                           const char *display_name, sov_tenant *ret, sov_error *err);
int sov_repo_tenant_delete(sov_dbconn *c, const char *id, sov_error *err);
/* "3 instances, 2 volumes": what the tenant still holds (quota usage), "" if nothing. */
/* SOV_E_CONFLICT naming the live instances and images of tenant id (of its workspace, when
 * not NULL) that keep `what` from being deleted. */
int sov_repo_tenant_blockers(sov_dbconn *c, const char *id, const char *workspace, const char *what,
                             sov_error *err);
/* The id (SOV_UUID_LEN + 1 bytes) of the tenant called name; SOV_E_NOT_FOUND if none. */
int sov_repo_tenant_id_by_name(sov_dbconn *c, const char *name, char *ret, sov_error *err);
int sov_repo_tenant_holdings(sov_dbconn *c, const char *id, char *buf, size_t size,
                             sov_error *err);
/* The operator tenant's id into ret (37 bytes), or "" when there is none yet. */
int sov_repo_operator_tenant(sov_dbconn *c, char *ret, sov_error *err);

int sov_repo_workspace_insert(sov_dbconn *c, const char *tenant_id, const char *name,
                              const char *description, sov_workspace *ret, sov_error *err);
int sov_repo_workspace_get(sov_dbconn *c, const char *tenant_id, const char *name,
                           sov_workspace *ret, sov_error *err);
int sov_repo_workspace_list(sov_dbconn *c, const char *tenant_id, const char *after,
                            unsigned limit, sov_workspace_page *ret, sov_error *err);
int sov_repo_workspace_update(sov_dbconn *c, const char *tenant_id, const char *name,
                              const char *description, sov_workspace *ret, sov_error *err);
int sov_repo_workspace_delete(sov_dbconn *c, const char *tenant_id, const char *name,
                              sov_error *err);

int sov_repo_user_insert(sov_dbconn *c, const char *tenant_id, const char *name, const char *email,
                         sov_role role, sov_user *ret, sov_error *err);
/* tenant_id NULL: any tenant. */
int sov_repo_user_get(sov_dbconn *c, const char *tenant_id, const char *id, sov_user *ret,
                      sov_error *err);
int sov_repo_user_list(sov_dbconn *c, const char *tenant_id, const char *after, unsigned limit,
                       sov_user_page *ret, sov_error *err);
int sov_repo_user_update(sov_dbconn *c, const char *tenant_id, const char *id, const char *name,
                         const char *email, const char *role, sov_user *ret, sov_error *err);
int sov_repo_user_delete(sov_dbconn *c, const char *tenant_id, const char *id, sov_error *err);
/* Operators left, locking them so two demotions cannot both pass the check. */
int sov_repo_operator_count(sov_dbconn *c, long *ret, sov_error *err);

int sov_repo_token_insert(sov_dbconn *c, const char *tenant_id, const char *user_id,
                          const char *name, const char *secret_sha256, const char *hint,
                          const char *created_by, const char *expires_at, sov_token *ret,
                          sov_error *err);
/* Not revoked. */
int sov_repo_token_get(sov_dbconn *c, const char *id, sov_token *ret, sov_error *err);
int sov_repo_token_list(sov_dbconn *c, const char *user_id, const char *after, unsigned limit,
                        sov_token_page *ret, sov_error *err);
int sov_repo_token_revoke(sov_dbconn *c, const char *id, sov_error *err);

/* What authentication needs to know about a token, by the SHA-256 of its secret. */
typedef struct repo_token_auth {
    sov_principal who;
    char secret_sha256[65];
    bool expired, revoked;
} repo_token_auth;
int sov_repo_token_by_secret(sov_dbconn *c, const char *secret_sha256, repo_token_auth *ret,
                             sov_error *err);

#endif
