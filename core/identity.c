/* identity.c: the rules of tenants, workspaces, users and tokens.
 *
 * Each service checks that the principal sees the tenant it names (anything else is "does
 * not exist", never "forbidden"), validates its input, and runs its change and the audit
 * entry recording it in one transaction. Role policy per route is the route table's job;
 * what depends on the data (who may grant operator, the last operator, the default
 * workspace) is decided here. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "identity_repo.h"
#include "sov/audit.h"
#include "sov/crypto.h"
#include "sov/identity.h"
#include "sov/log.h"
#include "sov/quota.h"
#include "sov/repo/db_pq.h"
#include "sov/timeutil.h"

/* ---- validation ---- */

bool
sov_uuid_valid(const char *s)
{
    if (!s || strlen(s) != SOV_UUID_LEN)
        return false;
    for (int i = 0; i < SOV_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char) s[i])) {
            return false;
        }
    }
    return true;
}

int
sov_check_slug(const char *field, const char *v, sov_error *err)
{
    size_t n = v ? strlen(v) : 0;

    if (n == 0)
        return sov_error_invalid(err, field, "%s is required", field);
    if (n > SOV_NAME_MAX)
        return sov_error_invalid(err, field, "%s must be at most %d characters", field,
                                 SOV_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (ch == '-' && i > 0);
        if (!ok)
            return sov_error_invalid(err, field,
                                     "%s must be lower-case letters, digits and dashes, "
                                     "starting with a letter or digit",
                                     field);
    }
    if (v[n - 1] == '-')
        return sov_error_invalid(err, field, "%s must not end with a dash", field);
    return 0;
}

int
sov_check_text(const char *field, const char *v, bool allow_empty, sov_error *err)
{
    size_t chars = 0;

    if (!v || (!*v && !allow_empty))
        return sov_error_invalid(err, field, "%s is required", field);
    for (const unsigned char *p = (const unsigned char *) v; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return sov_error_invalid(err, field, "%s must not contain control characters",
                                     field);
        if ((*p & 0xc0) != 0x80)
            chars++;
    }
    if (chars > SOV_TEXT_MAX)
        return sov_error_invalid(err, field, "%s must be at most %d characters", field,
                                 SOV_TEXT_MAX);
    return 0;
}

int
sov_check_email(const char *field, const char *v, sov_error *err)
{
    const char *at = v ? strchr(v, '@') : NULL;

    if (!v || !*v)
        return sov_error_invalid(err, field, "%s is required", field);
    if (strlen(v) > SOV_EMAIL_MAX || !at || at == v || strchr(at + 1, '@') ||
        !strchr(at + 1, '.') || at[1] == '.' || v[strlen(v) - 1] == '.')
        return sov_error_invalid(err, field, "%s must be an email address like "
                                             "name@example.eu", field);
    for (const unsigned char *p = (const unsigned char *) v; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == ',' || *p == ';')
            return sov_error_invalid(err, field, "%s must be an email address like "
                                                 "name@example.eu", field);
    return 0;
}

static int
not_found_tenant(const char *id, sov_error *err)
{
    return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%s' does not exist", id);
}

/* The tenant must exist for the principal: a valid id it sees. */
static int
check_tenant_id(const sov_ctx *ctx, const char *id, sov_error *err)
{
    if (!sov_uuid_valid(id) || !sov_ctx_sees_tenant(ctx, id))
        return not_found_tenant(id, err);
    return 0;
}

static unsigned
clamp_limit(unsigned limit)
{
    return limit == 0 ? 100 : limit > 1000 ? 1000 : limit;
}

/* ---- tenants ---- */

typedef struct tenant_args {
    sov_ctx *ctx;
    const char *id, *name, *display_name;
    sov_tenant *ret;
} tenant_args;

/* A tenant, its quotas and its default workspace, in the caller's transaction. */
static int
tenant_insert_all(sov_dbconn *c, const sov_config *cfg, const char *name,
                  const char *display_name, bool is_operator, sov_tenant *ret, sov_error *err)
{
    sov_workspace ws;

    if (sov_repo_tenant_insert(c, name, display_name, is_operator, ret, err) < 0 ||
        sov_quota_init_tenant(c, cfg, ret->id, err) < 0 ||
        sov_quota_charge(c, ret->id, SOV_QUOTA_WORKSPACES, 1, err) < 0 ||
        sov_repo_workspace_insert(c, ret->id, "default", "", &ws, err) < 0)
        return -1;
    return 0;
}

static int
tenant_create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    tenant_args *a = arg;

    if (tenant_insert_all(c, a->ctx->cfg, a->name, a->display_name, false, a->ret, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, a->ret->id, "tenant", a->ret->id, SOV_OUTCOME_CREATED, err);
}

int
sov_tenant_create(sov_ctx *ctx, const char *name, const char *display_name, sov_tenant *ret,
                  sov_error *err)
{
    tenant_args a = { ctx, NULL, name, display_name ? display_name : "", ret };

    if (sov_check_slug("name", name, err) < 0 ||
        sov_check_text("display_name", a.display_name, true, err) < 0)
        return -1;
    /* Tenant routes take a name for the id: a name that reads as an id would name two. */
    if (sov_uuid_valid(name))
        return sov_error_invalid(err, "name", "a tenant name cannot be a UUID");
    return sov_ctx_tx(ctx, tenant_create_tx, &a, err);
}

int
sov_tenant_get(sov_ctx *ctx, const char *id, sov_tenant *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (check_tenant_id(ctx, id, err) < 0 || sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_tenant_get(c, id, false, ret, err);
}

int
sov_tenant_list(sov_ctx *ctx, const char *after, unsigned limit, sov_tenant_page *ret,
                sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *only = sov_ctx_is_operator(ctx) || !ctx->who ? NULL : ctx->who->tenant_id;

    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_tenant_list(c, only, after, clamp_limit(limit), ret, err);
}

static int
tenant_update_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    tenant_args *a = arg;

    if (sov_repo_tenant_update(c, a->id, a->name, a->display_name, a->ret, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, a->id, "tenant", a->id, SOV_OUTCOME_OK, err);
}

int
sov_tenant_update(sov_ctx *ctx, const char *id, const char *name, const char *display_name,
                  sov_tenant *ret, sov_error *err)
{
    tenant_args a = { ctx, id, name, display_name, ret };

    if (check_tenant_id(ctx, id, err) < 0)
        return -1;
    if ((name && sov_check_slug("name", name, err) < 0) ||
        (display_name && sov_check_text("display_name", display_name, true, err) < 0))
        return -1;
    if (name && sov_uuid_valid(name))
        return sov_error_invalid(err, "name", "a tenant name cannot be a UUID");
    return sov_ctx_tx(ctx, tenant_update_tx, &a, err);
}

static int
tenant_delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    tenant_args *a = arg;
    sov_tenant t;
    char holds[512], what[160];

    /* The row lock keeps resources from arriving while we look. */
    if (sov_repo_tenant_get(c, a->id, true, &t, err) < 0)
        return -1;
    if (t.is_operator)
        return sov_error_set(err, SOV_E_CONFLICT, "the operator tenant cannot be deleted");
    /* Its users, tokens, workspaces, quotas and policy go with it; its residency records and
     * audit entries stay, for they are the record. */
    snprintf(what, sizeof(what), "tenant '%s'", t.name);
    if (sov_repo_tenant_blockers(c, a->id, NULL, what, err) < 0 ||
        sov_repo_tenant_holdings(c, a->id, holds, sizeof(holds), err) < 0)
        return -1;
    if (holds[0])
        return sov_error_set(err, SOV_E_CONFLICT,
                             "tenant '%s' still holds %s; delete them first", t.name, holds);
    if (sov_repo_tenant_delete(c, a->id, err) < 0 || sov_auth_notify(c, a->ctx, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, a->id, "tenant", a->id, SOV_OUTCOME_DELETED, err);
}

int
sov_tenant_resolve(sov_ctx *ctx, const char *id_or_name, char *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    char id[SOV_UUID_LEN + 1];

    if (sov_uuid_valid(id_or_name)) {
        snprintf(ret, SOV_UUID_LEN + 1, "%s", id_or_name);
        return 0;
    }
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_tenant_id_by_name(c, id_or_name, id, err) < 0)
        return -1;
    /* Another tenant's name does not exist for this caller either. */
    if (!sov_ctx_sees_tenant(ctx, id))
        return not_found_tenant(id_or_name, err);
    snprintf(ret, SOV_UUID_LEN + 1, "%s", id);
    return 0;
}

int
sov_tenant_delete(sov_ctx *ctx, const char *id, sov_error *err)
{
    tenant_args a = { ctx, id, NULL, NULL, NULL };

    if (check_tenant_id(ctx, id, err) < 0)
        return -1;
    return sov_ctx_tx(ctx, tenant_delete_tx, &a, err);
}

/* ---- workspaces ---- */

typedef struct ws_args {
    sov_ctx *ctx;
    const char *tenant_id, *name, *description;
    sov_workspace *ret;
} ws_args;

static int
ws_create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    ws_args *a = arg;
    sov_tenant t;

    if (sov_repo_tenant_get(c, a->tenant_id, false, &t, err) < 0 ||
        sov_quota_charge(c, a->tenant_id, SOV_QUOTA_WORKSPACES, 1, err) < 0 ||
        sov_repo_workspace_insert(c, a->tenant_id, a->name, a->description, a->ret, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, a->tenant_id, "workspace", a->name, SOV_OUTCOME_CREATED,
                            err);
}

int
sov_workspace_create(sov_ctx *ctx, const char *tenant_id, const char *name,
                     const char *description, sov_workspace *ret, sov_error *err)
{
    ws_args a = { ctx, tenant_id, name, description ? description : "", ret };

    if (check_tenant_id(ctx, tenant_id, err) < 0 || sov_check_slug("name", name, err) < 0 ||
        sov_check_text("description", a.description, true, err) < 0)
        return -1;
    return sov_ctx_tx(ctx, ws_create_tx, &a, err);
}

int
sov_workspace_get(sov_ctx *ctx, const char *tenant_id, const char *name, sov_workspace *ret,
                  sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (check_tenant_id(ctx, tenant_id, err) < 0 || sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_workspace_get(c, tenant_id, name, ret, err);
}

int
sov_workspace_check(sov_dbconn *c, const char *tenant_id, const char *name, sov_error *err)
{
    sov_workspace w;

    if (sov_repo_workspace_get(c, tenant_id, name, &w, err) == 0)
        return 0;
    if (err->code == SOV_E_NOT_FOUND)
        return sov_error_invalid(err, "workspace", "workspace '%s' does not exist", name);
    return -1;
}

int
sov_workspace_list(sov_ctx *ctx, const char *tenant_id, const char *after, unsigned limit,
                   sov_workspace_page *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_tenant t;

    /* A tenant that is not there has no list, as it has no quotas (an operator asks). */
    if (check_tenant_id(ctx, tenant_id, err) < 0 || sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_tenant_get(c, tenant_id, false, &t, err) < 0)
        return -1;
    return sov_repo_workspace_list(c, tenant_id, after, clamp_limit(limit), ret, err);
}

static int
ws_update_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    ws_args *a = arg;

    if (sov_repo_workspace_update(c, a->tenant_id, a->name, a->description, a->ret, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, a->tenant_id, "workspace", a->name, SOV_OUTCOME_OK, err);
}

int
sov_workspace_update(sov_ctx *ctx, const char *tenant_id, const char *name,
                     const char *description, sov_workspace *ret, sov_error *err)
{
    ws_args a = { ctx, tenant_id, name, description, ret };

    if (check_tenant_id(ctx, tenant_id, err) < 0 ||
        (description && sov_check_text("description", description, true, err) < 0))
        return -1;
    return sov_ctx_tx(ctx, ws_update_tx, &a, err);
}

static int
ws_delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    ws_args *a = arg;
    char what[160];

    snprintf(what, sizeof(what), "workspace '%s'", a->name);
    if (sov_repo_tenant_blockers(c, a->tenant_id, a->name, what, err) < 0 ||
        sov_repo_workspace_delete(c, a->tenant_id, a->name, err) < 0 ||
        sov_quota_release(c, a->tenant_id, SOV_QUOTA_WORKSPACES, 1, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, a->tenant_id, "workspace", a->name, SOV_OUTCOME_DELETED,
                            err);
}

int
sov_workspace_delete(sov_ctx *ctx, const char *tenant_id, const char *name, sov_error *err)
{
    ws_args a = { ctx, tenant_id, name, NULL, NULL };

    if (check_tenant_id(ctx, tenant_id, err) < 0)
        return -1;
    if (strcmp(name, "default") == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "the default workspace cannot be deleted");
    return sov_ctx_tx(ctx, ws_delete_tx, &a, err);
}

/* ---- users ---- */

typedef struct user_args {
    sov_ctx *ctx;
    const char *tenant_id, *id, *name, *email;
    sov_role role;
    sov_user *ret;
} user_args;

/* Operator is a role of the operator tenant only, and only an operator hands it out. */
static int
check_role_grant(sov_ctx *ctx, const sov_tenant *t, sov_role role, sov_error *err)
{
    if (role == SOV_ROLE_NONE)
        return sov_error_invalid(err, "role",
                                 "role must be one of admin, member, reader, auditor%s",
                                 t->is_operator ? ", operator" : "");
    if (role == SOV_ROLE_OPERATOR && !t->is_operator)
        return sov_error_invalid(err, "role",
                                 "role 'operator' exists only in the operator tenant");
    if (role == SOV_ROLE_OPERATOR && ctx->who && !sov_ctx_is_operator(ctx))
        return sov_error_set(err, SOV_E_FORBIDDEN, "only an operator may grant 'operator'");
    return 0;
}

static int
user_create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    user_args *a = arg;
    sov_tenant t;

    if (sov_repo_tenant_get(c, a->tenant_id, false, &t, err) < 0 ||
        check_role_grant(a->ctx, &t, a->role, err) < 0 ||
        sov_repo_user_insert(c, a->tenant_id, a->name, a->email, a->role, a->ret, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, a->tenant_id, "user", a->ret->id, SOV_OUTCOME_CREATED, err);
}

int
sov_user_create(sov_ctx *ctx, const char *tenant_id, const char *name, const char *email,
                sov_role role, sov_user *ret, sov_error *err)
{
    user_args a = { ctx, tenant_id, NULL, name, email, role, ret };

    if (check_tenant_id(ctx, tenant_id, err) < 0 || sov_check_text("name", name, false, err) < 0 ||
        sov_check_email("email", email, err) < 0)
        return -1;
    return sov_ctx_tx(ctx, user_create_tx, &a, err);
}

static int
check_user_id(const char *id, sov_error *err)
{
    if (!sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "user '%s' does not exist", id);
    return 0;
}

int
sov_user_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_user *ret,
             sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (check_tenant_id(ctx, tenant_id, err) < 0 || check_user_id(id, err) < 0 ||
        sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_user_get(c, tenant_id, id, ret, err);
}

int
sov_user_list(sov_ctx *ctx, const char *tenant_id, const char *after, unsigned limit,
              sov_user_page *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_tenant t;

    if (check_tenant_id(ctx, tenant_id, err) < 0)
        return -1;
    if (after && *after && !sov_uuid_valid(after))
        return sov_error_invalid(err, "after", "after must be a user id from a 'next' link");
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_tenant_get(c, tenant_id, false, &t, err) < 0)
        return -1;
    return sov_repo_user_list(c, tenant_id, after, clamp_limit(limit), ret, err);
}

/* Refuse to leave the cloud without an operator. */
static int
keep_an_operator(sov_dbconn *c, const sov_user *before, sov_role after, sov_error *err)
{
    long n = 0;

    if (before->role != SOV_ROLE_OPERATOR || after == SOV_ROLE_OPERATOR)
        return 0;
    if (sov_repo_operator_count(c, &n, err) < 0)
        return -1;
    if (n <= 1)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "user '%s' is the last operator; make another operator first",
                             before->id);
    return 0;
}

static int
user_update_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    user_args *a = arg;
    sov_user before;
    sov_tenant t;

    if (sov_repo_user_get(c, a->tenant_id, a->id, &before, err) < 0)
        return -1;
    if (a->role != SOV_ROLE_NONE &&
        (sov_repo_tenant_get(c, a->tenant_id, false, &t, err) < 0 ||
         check_role_grant(a->ctx, &t, a->role, err) < 0 ||
         keep_an_operator(c, &before, a->role, err) < 0))
        return -1;
    /* Demoting an operator is itself an operator's act. */
    if (before.role == SOV_ROLE_OPERATOR && a->role != SOV_ROLE_NONE &&
        a->role != SOV_ROLE_OPERATOR && a->ctx->who && !sov_ctx_is_operator(a->ctx))
        return sov_error_set(err, SOV_E_FORBIDDEN, "only an operator may change an operator");
    if (sov_repo_user_update(c, a->tenant_id, a->id, a->name, a->email,
                             a->role != SOV_ROLE_NONE ? sov_role_name(a->role) : NULL, a->ret,
                             err) < 0 ||
        sov_auth_notify(c, a->ctx, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, a->tenant_id, "user", a->id, SOV_OUTCOME_OK, err);
}

int
sov_user_update(sov_ctx *ctx, const char *tenant_id, const char *id, const char *name,
                const char *email, sov_role role, sov_user *ret, sov_error *err)
{
    user_args a = { ctx, tenant_id, id, name, email, role, ret };

    if (check_tenant_id(ctx, tenant_id, err) < 0 || check_user_id(id, err) < 0 ||
        (name && sov_check_text("name", name, false, err) < 0) ||
        (email && sov_check_email("email", email, err) < 0))
        return -1;
    return sov_ctx_tx(ctx, user_update_tx, &a, err);
}

static int
user_delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    user_args *a = arg;
    sov_user before;

    if (sov_repo_user_get(c, a->tenant_id, a->id, &before, err) < 0 ||
        keep_an_operator(c, &before, SOV_ROLE_NONE, err) < 0)
        return -1;
    if (before.role == SOV_ROLE_OPERATOR && a->ctx->who && !sov_ctx_is_operator(a->ctx))
        return sov_error_set(err, SOV_E_FORBIDDEN, "only an operator may delete an operator");
    /* The row goes, and with it the name and email; tokens go by cascade. */
    if (sov_repo_user_delete(c, a->tenant_id, a->id, err) < 0 ||
        sov_auth_notify(c, a->ctx, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, a->tenant_id, "user", a->id, SOV_OUTCOME_DELETED, err);
}

int
sov_user_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_error *err)
{
    user_args a = { ctx, tenant_id, id, NULL, NULL, SOV_ROLE_NONE, NULL };

    if (check_tenant_id(ctx, tenant_id, err) < 0 || check_user_id(id, err) < 0)
        return -1;
    return sov_ctx_tx(ctx, user_delete_tx, &a, err);
}

/* ---- tokens ---- */

static void
base64url(const unsigned char *in, size_t n, char *out)
{
    unsigned char b64[128];
    int len = EVP_EncodeBlock(b64, in, (int) n);
    int j = 0;

    for (int i = 0; i < len; i++) {
        if (b64[i] == '=')
            break;
        out[j++] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char) b64[i];
    }
    out[j] = '\0';
}

/* Who may act on the tokens of target: the user itself, an admin of its tenant, or an
 * operator. Others get SOV_E_NOT_FOUND for other tenants' users, FORBIDDEN for their own. */
static int
may_manage(const sov_ctx *ctx, const char *target_tenant, const char *target_user,
           const char *what, const char *id, sov_error *err)
{
    if (!ctx->who || sov_ctx_is_operator(ctx))
        return 0;
    if (strcmp(ctx->who->tenant_id, target_tenant) != 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "%s '%s' does not exist", what, id);
    if (strcmp(ctx->who->user_id, target_user) == 0 || ctx->who->role == SOV_ROLE_ADMIN)
        return 0;
    return sov_error_set(err, SOV_E_FORBIDDEN, "only an admin may manage other users' tokens");
}

typedef struct token_args {
    sov_ctx *ctx;
    const char *name, *expires_at, *user_id;
    sov_token *ret;
    char *secret;
} token_args;

static int
token_create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    token_args *a = arg;
    unsigned char raw[32];
    char sum[SOV_SHA256_HEX_LEN + 1], hint[16];
    sov_user u;

    if (sov_repo_user_get(c, NULL, a->user_id, &u, err) < 0)
        return -1;
    if (may_manage(a->ctx, u.tenant_id, u.id, "user", a->user_id, err) < 0)
        return -1;
    if (sov_random_bytes(raw, sizeof(raw), err) < 0)
        return -1;
    memcpy(a->secret, "sov_", 4);
    base64url(raw, sizeof(raw), a->secret + 4);
    OPENSSL_cleanse(raw, sizeof(raw));
    sov_sha256_hex(a->secret, strlen(a->secret), sum);
    snprintf(hint, sizeof(hint), "%.12s", a->secret);
    if (sov_repo_token_insert(c, u.tenant_id, u.id, a->name, sum, hint,
                              a->ctx->who ? a->ctx->who->user_id : NULL, a->expires_at, a->ret,
                              err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, u.tenant_id, "token", a->ret->id, SOV_OUTCOME_CREATED, err);
}

int
sov_token_create(sov_ctx *ctx, const char *name, const char *expires_at, bool never_expires,
                 const char *user_id, sov_token *ret, char *secret, sov_error *err)
{
    token_args a = { ctx, name, expires_at, user_id, ret, secret };
    unsigned days = ctx->cfg && ctx->cfg->token_default_ttl_days ? ctx->cfg->token_default_ttl_days
                                                                 : 90;
    char deflt[32];
    time_t t;

    if (sov_check_text("name", name, false, err) < 0)
        return -1;
    /* A token that lasts for ever is a leak that lasts for ever: only where the operator
     * allows it, and only when asked for by name ("expires_at": null). */
    if (never_expires && !expires_at && !(ctx->cfg && ctx->cfg->token_allow_no_expiry))
        return sov_error_invalid(err, "expires_at",
                                 "a token that never expires is not allowed here: give "
                                 "expires_at, or leave it out for %u days", days);
    if (!expires_at && !never_expires) {
        sov_rfc3339_format(time(NULL) + (time_t) days * 86400, deflt);
        a.expires_at = deflt;
    }
    /* "" is no time at all, not "never": only null means a token that lasts. */
    if (expires_at) {
        if (sov_rfc3339_parse(expires_at, &t) < 0)
            return sov_error_invalid(err, "expires_at", "expires_at must be an RFC 3339 time "
                                                        "like 2027-01-31T12:00:00Z");
        if (t <= time(NULL))
            return sov_error_invalid(err, "expires_at", "expires_at must be in the future");
    }
    if (!user_id) {
        if (!ctx->who)
            return sov_error_set(err, SOV_E_INTERNAL, "no user for the token");
        a.user_id = ctx->who->user_id;
    } else if (!sov_uuid_valid(user_id)) {
        return sov_error_set(err, SOV_E_NOT_FOUND, "user '%s' does not exist", user_id);
    }
    if (sov_ctx_tx(ctx, token_create_tx, &a, err) < 0) {
        OPENSSL_cleanse(secret, SOV_TOKEN_SECRET_LEN + 1);
        return -1;
    }
    return 0;
}

int
sov_token_list(sov_ctx *ctx, const char *user_id, const char *after, unsigned limit,
               sov_token_page *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_user u;

    if (!user_id)
        user_id = ctx->who ? ctx->who->user_id : "";
    if (!sov_uuid_valid(user_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "user '%s' does not exist", user_id);
    if (after && *after && !sov_uuid_valid(after))
        return sov_error_invalid(err, "after", "after must be a token id from a 'next' link");
    if (sov_db_acquire(ctx->db, &c, err) < 0 || sov_repo_user_get(c, NULL, user_id, &u, err) < 0 ||
        may_manage(ctx, u.tenant_id, u.id, "user", user_id, err) < 0)
        return -1;
    return sov_repo_token_list(c, user_id, after, clamp_limit(limit), ret, err);
}

typedef struct revoke_args {
    sov_ctx *ctx;
    const char *id;
} revoke_args;

static int
token_revoke_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    revoke_args *a = arg;
    sov_token t;

    if (sov_repo_token_get(c, a->id, &t, err) < 0)
        return -1;
    if (may_manage(a->ctx, t.tenant_id, t.user_id, "token", a->id, err) < 0)
        return -1;
    if (sov_repo_token_revoke(c, a->id, err) < 0 || sov_auth_notify(c, a->ctx, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, t.tenant_id, "token", a->id, SOV_OUTCOME_DELETED, err);
}

int
sov_token_revoke(sov_ctx *ctx, const char *id, sov_error *err)
{
    revoke_args a = { ctx, id };

    if (!sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "token '%s' does not exist", id);
    return sov_ctx_tx(ctx, token_revoke_tx, &a, err);
}

int
sov_me(sov_ctx *ctx, sov_user *user, sov_tenant *tenant, sov_token *token, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (!ctx->who)
        return sov_error_set(err, SOV_E_UNAUTHENTICATED, "no principal");
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    if (sov_repo_user_get(c, ctx->who->tenant_id, ctx->who->user_id, user, err) < 0 ||
        sov_repo_tenant_get(c, ctx->who->tenant_id, false, tenant, err) < 0 ||
        sov_repo_token_get(c, ctx->who->token_id, token, err) < 0) {
        /* Revoked or deleted a moment ago, after this request authenticated. */
        if (err->code == SOV_E_NOT_FOUND)
            return sov_error_set(err, SOV_E_UNAUTHENTICATED, "token is not valid");
        return -1;
    }
    return 0;
}

/* ---- bootstrap ---- */

typedef struct boot_args {
    sov_ctx *ctx;
    const char *state_dir;
    bool created;
    char tmp_path[4096];
} boot_args;

static int
write_secret(const char *path, const char *secret, sov_error *err)
{
    FILE *f;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not write '%s': %s", path,
                             strerror(errno));
    /* An existing file keeps its mode through O_TRUNC: force 0600. */
    if (fchmod(fd, 0600) < 0 || !(f = fdopen(fd, "w"))) {
        close(fd);
        return sov_error_set(err, SOV_E_INTERNAL, "could not write '%s': %s", path,
                             strerror(errno));
    }
    fprintf(f, "%s\n", secret);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fclose(f);
        return sov_error_set(err, SOV_E_INTERNAL, "could not write '%s'", path);
    }
    fclose(f);
    return 0;
}

static int
bootstrap_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    boot_args *a = arg;
    char op[SOV_UUID_LEN + 1], secret[SOV_TOKEN_SECRET_LEN + 1];
    unsigned char raw[32];
    char sum[SOV_SHA256_HEX_LEN + 1], hint[16];
    sov_tenant t;
    sov_user u;
    sov_token tok;

    a->created = false;
    /* Replicas starting together: the first takes the lock and bootstraps, the others
     * wait here and then find the operator tenant. */
    if (sov_db_query(c, "SELECT pg_advisory_xact_lock(7237970471815793)", 0, NULL, NULL,
                     err) < 0 ||
        sov_repo_operator_tenant(c, op, err) < 0)
        return -1;
    if (op[0])
        return 0;
    if (tenant_insert_all(c, a->ctx->cfg, SOV_OPERATOR_TENANT, "Cloud operator", true, &t,
                          err) < 0 ||
        sov_repo_user_insert(c, t.id, "operator", "operator@localhost", SOV_ROLE_OPERATOR, &u,
                             err) < 0 ||
        sov_random_bytes(raw, sizeof(raw), err) < 0)
        return -1;
    memcpy(secret, "sov_", 4);
    base64url(raw, sizeof(raw), secret + 4);
    OPENSSL_cleanse(raw, sizeof(raw));
    sov_sha256_hex(secret, strlen(secret), sum);
    snprintf(hint, sizeof(hint), "%.12s", secret);
    /* The bootstrap token never expires, whatever token_default_ttl_days says: it is the
     * way back in (0600 in the state folder, written once, never shown over HTTP), and one
     * that lapsed silently would lock the operator out of its own cloud with nothing left
     * to make a new one. Operators make expiring tokens of their own and may revoke it. */
    if (sov_repo_token_insert(c, t.id, u.id, "bootstrap", sum, hint, NULL, NULL, &tok, err) < 0 ||
        sov_audit_append(c, a->ctx, t.id, "tenant", t.id, SOV_OUTCOME_CREATED, err) < 0)
        return -1;
    /* Written before the commit: a token that cannot be saved is never created. */
    snprintf(a->tmp_path, sizeof(a->tmp_path), "%s/operator.token.tmp", a->state_dir);
    if (write_secret(a->tmp_path, secret, err) < 0)
        return -1;
    OPENSSL_cleanse(secret, sizeof(secret));
    a->created = true;
    return 0;
}

int
sov_identity_bootstrap(sov_ctx *ctx, const char *state_dir, bool *ret_created, sov_error *err)
{
    boot_args a = { ctx, state_dir, false, "" };
    char path[4096];

    if (sov_ctx_tx(ctx, bootstrap_tx, &a, err) < 0) {
        if (a.tmp_path[0])
            unlink(a.tmp_path);
        return -1;
    }
    if (a.created) {
        snprintf(path, sizeof(path), "%s/operator.token", state_dir);
        if (rename(a.tmp_path, path) < 0)
            return sov_error_set(err, SOV_E_INTERNAL, "could not write '%s': %s", path,
                                 strerror(errno));
    }
    *ret_created = a.created;
    return 0;
}
