/* identity.h: tenants, workspaces, users and tokens; authentication and bootstrap.
 *
 * A tenant is a customer organisation (residency policy, quotas, billing); it holds
 * workspaces, where resources live and are named uniquely, and users, each with one role.
 * Tokens are 32 random bytes, base64url, prefixed "sov_"; only their SHA-256 is stored, and
 * the secret is shown once, at creation. Every service here checks that the principal sees
 * the tenant it names (else SOV_E_NOT_FOUND) and appends an audit entry in the same
 * transaction as the change. */
#ifndef SOV_IDENTITY_H
#define SOV_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "sov/ctx.h"

#define SOV_NAME_MAX 63             /* slugs: tenant and workspace names */
#define SOV_TEXT_MAX 200            /* display names, descriptions */
#define SOV_EMAIL_MAX 254
#define SOV_TOKEN_SECRET_LEN 47     /* "sov_" + 43 base64url characters */
#define SOV_OPERATOR_TENANT "operator"

typedef struct sov_tenant {
    char id[SOV_UUID_LEN + 1];
    char name[SOV_NAME_MAX + 1];
    char display_name[SOV_TEXT_MAX * 4 + 1];
    bool is_operator;
    char created_at[40], updated_at[40];
} sov_tenant;

typedef struct sov_workspace {
    char tenant_id[SOV_UUID_LEN + 1];
    char name[SOV_NAME_MAX + 1];
    char description[SOV_TEXT_MAX * 4 + 1];
    char created_at[40], updated_at[40];
} sov_workspace;

typedef struct sov_user {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char name[SOV_TEXT_MAX * 4 + 1];
    char email[SOV_EMAIL_MAX + 1];
    sov_role role;
    char created_at[40], updated_at[40];
} sov_user;

typedef struct sov_token {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char user_id[SOV_UUID_LEN + 1];
    char name[SOV_TEXT_MAX * 4 + 1];
    char hint[16];                  /* "sov_AbCdEfGh": enough to tell tokens apart */
    char created_at[40];
    char expires_at[40];            /* "" never */
} sov_token;

/* A page of a list: items is an array to free(); next_after is the keyset cursor for the
 * next page, "" on the last one. */
#define SOV_PAGE(T) struct { T *items; size_t n; char next_after[SOV_TEXT_MAX * 4 + 1]; }
typedef SOV_PAGE(sov_tenant) sov_tenant_page;
typedef SOV_PAGE(sov_workspace) sov_workspace_page;
typedef SOV_PAGE(sov_user) sov_user_page;
typedef SOV_PAGE(sov_token) sov_token_page;

/* Validation shared by services: a slug is [a-z0-9] then [a-z0-9-], at most 63, no final
 * dash; text is 1..200 characters without control characters. Set SOV_E_INVALID on field. */
int sov_check_slug(const char *field, const char *value, sov_error *err);
int sov_check_text(const char *field, const char *value, bool allow_empty, sov_error *err);
int sov_check_email(const char *field, const char *value, sov_error *err);
bool sov_uuid_valid(const char *s);

/* Tenants. Creating one gives it a "default" workspace and default quotas. A tenant holding
 * resources (any non-zero quota usage but workspaces) cannot be deleted: SOV_E_CONFLICT
 * naming what it holds. The operator tenant cannot be deleted. */
int sov_tenant_create(sov_ctx *ctx, const char *name, const char *display_name,
                      sov_tenant *ret, sov_error *err);
int sov_tenant_get(sov_ctx *ctx, const char *id, sov_tenant *ret, sov_error *err);
int sov_tenant_list(sov_ctx *ctx, const char *after, unsigned limit, sov_tenant_page *ret,
                    sov_error *err);
int sov_tenant_update(sov_ctx *ctx, const char *id, const char *name,
                      const char *display_name, sov_tenant *ret, sov_error *err);
int sov_tenant_delete(sov_ctx *ctx, const char *id, sov_error *err);
/* The id of the tenant named id_or_name (an id is returned as it is): tenant routes take
 * either. Another tenant's name is SOV_E_NOT_FOUND for a caller that cannot see it.
 * ret: SOV_UUID_LEN + 1 bytes. */
int sov_tenant_resolve(sov_ctx *ctx, const char *id_or_name, char *ret,
                       sov_error *err);

/* Workspaces: named uniquely in their tenant, counted by the workspaces quota. The default
 * workspace cannot be deleted. */
int sov_workspace_create(sov_ctx *ctx, const char *tenant_id, const char *name,
                         const char *description, sov_workspace *ret, sov_error *err);
int sov_workspace_get(sov_ctx *ctx, const char *tenant_id, const char *name,
                      sov_workspace *ret, sov_error *err);
int sov_workspace_list(sov_ctx *ctx, const char *tenant_id, const char *after, unsigned limit,
                       sov_workspace_page *ret, sov_error *err);
int sov_workspace_update(sov_ctx *ctx, const char *tenant_id, const char *name,
                         const char *description, sov_workspace *ret, sov_error *err);
int sov_workspace_delete(sov_ctx *ctx, const char *tenant_id, const char *name,
                         sov_error *err);
/* In the caller's transaction: the workspace exists, or SOV_E_INVALID naming "workspace". */
int sov_workspace_check(sov_dbconn *c, const char *tenant_id, const char *name,
                        sov_error *err);

/* Users. The operator role exists only in the operator tenant, and only an operator grants
 * it. Deleting a user erases its name and email (the row goes, with its tokens); the audit
 * log keeps its opaque id. The last operator cannot be deleted or demoted. */
int sov_user_create(sov_ctx *ctx, const char *tenant_id, const char *name, const char *email,
                    sov_role role, sov_user *ret, sov_error *err);
int sov_user_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_user *ret,
                 sov_error *err);
int sov_user_list(sov_ctx *ctx, const char *tenant_id, const char *after, unsigned limit,
                  sov_user_page *ret, sov_error *err);
/* NULL name or email, or SOV_ROLE_NONE, leaves that field as it is. */
int sov_user_update(sov_ctx *ctx, const char *tenant_id, const char *id, const char *name,
                    const char *email, sov_role role, sov_user *ret, sov_error *err);
int sov_user_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_error *err);

/* Tokens. user_id NULL: for the principal itself; else an admin for a user of its tenant,
 * or an operator for anyone. expires_at is RFC 3339 in the future; NULL: the configured
 * token_default_ttl_days from now, unless never_expires asks for a token without expiry,
 * which only token_allow_no_expiry permits (else SOV_E_INVALID on "expires_at"). The secret
 * (SOV_TOKEN_SECRET_LEN + 1 bytes) is returned once. */
int sov_token_create(sov_ctx *ctx, const char *name, const char *expires_at,
                     bool never_expires, const char *user_id, sov_token *ret, char *secret,
                     sov_error *err);
/* The principal's own tokens, or (admin, operator) those of user_id. Revoked ones are
 * not listed. */
int sov_token_list(sov_ctx *ctx, const char *user_id, const char *after, unsigned limit,
                   sov_token_page *ret, sov_error *err);
/* Revoke: own tokens, any of the tenant's for an admin, any for an operator. Honoured by
 * every sovd sharing the database within a second (NOTIFY). */
int sov_token_revoke(sov_ctx *ctx, const char *id, sov_error *err);

/* Authentication: secret -> principal, with an in-memory cache that a LISTEN connection
 * empties whenever a token, user or tenant changes anywhere. */
typedef struct sov_auth sov_auth;
int sov_auth_new(sov_db *db, const char *database_url, unsigned cache_ttl_s, sov_auth **ret,
                 sov_error *err);
void sov_auth_free(sov_auth *a);
SOV_DEFINE_AUTOPTR(sov_auth, sov_auth_free)
/* SOV_E_UNAUTHENTICATED for unknown, malformed, expired or revoked tokens. */
int sov_auth_check(sov_auth *a, const char *secret, sov_principal *ret, sov_error *err);

/* Whoever is asking: the principal's user, tenant and token. */
int sov_me(sov_ctx *ctx, sov_user *user, sov_tenant *tenant, sov_token *token,
           sov_error *err);

/* On a database without an operator tenant: create it, its operator user and a token, and
 * write the token to <state_dir>/operator.token (mode 0600). *ret_created says whether this
 * call did it (replicas starting together: exactly one does). The token is never logged. */
int sov_identity_bootstrap(sov_ctx *ctx, const char *state_dir, bool *ret_created,
                           sov_error *err);

/* This deployment's id (the control_plane row made by the first migration): domains carry
 * it, so a reconciler never mistakes another deployment's domains for its own orphans. */
int sov_control_plane_id(sov_db *db, char ret[SOV_UUID_LEN + 1], sov_error *err);

/* Send the NOTIFY that empties every replica's token cache, in the caller's transaction,
 * and mark ctx so sov_ctx_tx empties this process's cache right after the commit. */
int sov_auth_notify(sov_dbconn *c, sov_ctx *ctx, sov_error *err);
/* Empty this process's cache now. */
void sov_auth_flush(sov_auth *a);

#endif
