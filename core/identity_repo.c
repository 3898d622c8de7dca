/* identity_repo.c: the SQL of tenants, workspaces, users and tokens. Values go in as $n
 * parameters only; lists are keyset-paginated on a unique, stable key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity_repo.h"
#include "sov/repo/db_pq.h"

#define TS SOV_SQL_TS

/* ---- tenants ---- */

#define TENANT_COLS \
    "id, name, display_name, is_operator, " TS("created_at") " AS created_at, "         \
    TS("updated_at") " AS updated_at"

static const char SQL_TENANT_INSERT[] =
    "INSERT INTO tenants (name, display_name, is_operator) VALUES ($1, $2, $3) "
    "RETURNING " TENANT_COLS;
static const char SQL_TENANT_GET[] = "SELECT " TENANT_COLS " FROM tenants WHERE id = $1";
static const char SQL_TENANT_GET_LOCK[] =
    "SELECT " TENANT_COLS " FROM tenants WHERE id = $1 FOR UPDATE";
static const char SQL_TENANT_LIST[] =
    "SELECT " TENANT_COLS " FROM tenants WHERE ($1::uuid IS NULL OR id = $1::uuid) "
    "AND name > $2 ORDER BY name LIMIT $3";
static const char SQL_TENANT_UPDATE[] =
    "UPDATE tenants SET name = coalesce($2, name), display_name = coalesce($3, display_name),"
    " updated_at = now() WHERE id = $1 RETURNING " TENANT_COLS;
static const char SQL_TENANT_DELETE[] = "DELETE FROM tenants WHERE id = $1";
static const char SQL_TENANT_HOLDINGS[] =
    "SELECT resource, used FROM quotas WHERE tenant_id = $1 AND used > 0 "
    "AND resource <> 'workspaces' ORDER BY resource";
static const char SQL_OPERATOR_TENANT[] = "SELECT id FROM tenants WHERE is_operator";
/* What a tenant or one of its workspaces holds: live instances and images ($2 NULL: in any
 * workspace). Deleted ones stay as history and let go (0011_deletable.sql). */
static const char SQL_TENANT_BLOCKERS[] =
    "SELECT kind, id, name FROM ("
    " SELECT 'instance' AS kind, id::text AS id, name, created_at FROM instances"
    "  WHERE tenant_id = $1 AND ($2::text IS NULL OR workspace = $2) AND state <> 'deleted'"
    " UNION ALL SELECT 'image', id::text, name, created_at FROM images"
    "  WHERE tenant_id = $1 AND ($2::text IS NULL OR workspace = $2) AND state <> 'deleted'"
    ") b ORDER BY created_at, id LIMIT 9";

enum {
    T_ID, T_NAME, T_DISPLAY_NAME, T_IS_OPERATOR, T_CREATED_AT, T_UPDATED_AT, T__N,
};
static const char *const tenant_cols[T__N] = {
    [T_ID] = "id", [T_NAME] = "name", [T_DISPLAY_NAME] = "display_name",
    [T_IS_OPERATOR] = "is_operator", [T_CREATED_AT] = "created_at",
    [T_UPDATED_AT] = "updated_at",
};

static void
fill_tenant(const PGresult *r, int i, const int *col, void *out)
{
    sov_tenant *t = out;

    memset(t, 0, sizeof(*t));
    sov_db_copy(t->id, sizeof(t->id), r, i, col[T_ID]);
    sov_db_copy(t->name, sizeof(t->name), r, i, col[T_NAME]);
    sov_db_copy(t->display_name, sizeof(t->display_name), r, i, col[T_DISPLAY_NAME]);
    t->is_operator = PQgetvalue(r, i, col[T_IS_OPERATOR])[0] == 't';
    sov_db_copy(t->created_at, sizeof(t->created_at), r, i, col[T_CREATED_AT]);
    sov_db_copy(t->updated_at, sizeof(t->updated_at), r, i, col[T_UPDATED_AT]);
}

static const sov_db_rowmap row_tenant = { tenant_cols, T__N, fill_tenant };

int
sov_repo_tenant_insert(sov_dbconn *c, const char *name, const char *display_name, bool is_operator,
                       sov_tenant *ret, sov_error *err)
{
    const char *params[] = { name, display_name, is_operator ? "true" : "false" };

    if (sov_db_one(c, SQL_TENANT_INSERT, 3, params, &row_tenant, ret, "tenant", name, err) == 0)
        return 0;
    if (err->code == SOV_E_CONFLICT)
        return sov_error_set(err, SOV_E_CONFLICT, "tenant name '%s' is taken", name);
    return -1;
}

int
sov_repo_tenant_get(sov_dbconn *c, const char *id, bool lock, sov_tenant *ret, sov_error *err)
{
    const char *params[] = { id };
    return sov_db_one(c, lock ? SQL_TENANT_GET_LOCK : SQL_TENANT_GET, 1, params, &row_tenant, ret,
               "tenant", id, err);
}

int
sov_repo_tenant_list(sov_dbconn *c, const char *only_id, const char *after, unsigned limit,
                     sov_tenant_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { only_id, after ? after : "", lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_TENANT_LIST, 3, params, sizeof(sov_tenant), &row_tenant, limit,
                       "name", (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_repo_tenant_update(sov_dbconn *c, const char *id, const char *name, const char *display_name,
                       sov_tenant *ret, sov_error *err)
{
    const char *params[] = { id, name, display_name };

    if (sov_db_one(c, SQL_TENANT_UPDATE, 3, params, &row_tenant, ret, "tenant", id, err) == 0)
        return 0;
    if (err->code == SOV_E_CONFLICT)
        return sov_error_set(err, SOV_E_CONFLICT, "tenant name '%s' is taken", name);
    return -1;
}

int
sov_repo_tenant_delete(sov_dbconn *c, const char *id, sov_error *err)
{
    const char *params[] = { id };
    return sov_db_query(c, SQL_TENANT_DELETE, 1, params, NULL, err);
}

int
sov_repo_tenant_holdings(sov_dbconn *c, const char *id, char *buf, size_t size, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id };
    static const char *const names[] = { "resource", "used" };
    int col[2];
    size_t n = 0;

    buf[0] = '\0';
    if (sov_db_query(c, SQL_TENANT_HOLDINGS, 1, params, &res, err) < 0)
        return -1;
    if (sov_db_cols(res, names, col, 2, err) < 0)
        return -1;
    for (int i = 0; i < PQntuples(res) && n < size; i++) {
        int w = snprintf(buf + n, size - n, "%s%s %s", i ? ", " : "",
                         PQgetvalue(res, i, col[1]), PQgetvalue(res, i, col[0]));
        if (w > 0)
            n += (size_t) w;
    }
    return 0;
}

static const char SQL_TENANT_BY_NAME[] = "SELECT id FROM tenants WHERE name = $1";

int
sov_repo_tenant_id_by_name(sov_dbconn *c, const char *name, char *ret, sov_error *err)
{
    const char *params[] = { name };

    return sov_db_one(c, SQL_TENANT_BY_NAME, 1, params, &sov_db_row_id, ret, "tenant", name, err);
}

int
sov_repo_tenant_blockers(sov_dbconn *c, const char *id, const char *workspace, const char *what,
                         sov_error *err)
{
    const char *params[] = { id, workspace };

    return sov_db_blockers(c, SQL_TENANT_BLOCKERS, 2, params, what, err);
}

int
sov_repo_operator_tenant(sov_dbconn *c, char *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, SQL_OPERATOR_TENANT, 0, NULL, &res, err) < 0)
        return -1;
    ret[0] = '\0';
    if (PQntuples(res) > 0)
        sov_db_copy(ret, SOV_UUID_LEN + 1, res, 0, 0);
    return 0;
}

/* ---- workspaces ---- */

#define WS_COLS \
    "tenant_id, name, description, " TS("created_at") " AS created_at, "                \
    TS("updated_at") " AS updated_at"

static const char SQL_WS_INSERT[] =
    "INSERT INTO workspaces (tenant_id, name, description) VALUES ($1, $2, $3) "
    "RETURNING " WS_COLS;
static const char SQL_WS_GET[] =
    "SELECT " WS_COLS " FROM workspaces WHERE tenant_id = $1 AND name = $2";
static const char SQL_WS_LIST[] =
    "SELECT " WS_COLS " FROM workspaces WHERE tenant_id = $1 AND name > $2 "
    "ORDER BY name LIMIT $3";
static const char SQL_WS_UPDATE[] =
    "UPDATE workspaces SET description = coalesce($3, description), updated_at = now() "
    "WHERE tenant_id = $1 AND name = $2 RETURNING " WS_COLS;
static const char SQL_WS_DELETE[] =
    "DELETE FROM workspaces WHERE tenant_id = $1 AND name = $2 RETURNING name";

enum {
    W_TENANT_ID, W_NAME, W_DESCRIPTION, W_CREATED_AT, W_UPDATED_AT, W__N,
};
static const char *const ws_cols[W__N] = {
    [W_TENANT_ID] = "tenant_id", [W_NAME] = "name", [W_DESCRIPTION] = "description",
    [W_CREATED_AT] = "created_at", [W_UPDATED_AT] = "updated_at",
};

static void
fill_ws(const PGresult *r, int i, const int *col, void *out)
{
    sov_workspace *w = out;

    memset(w, 0, sizeof(*w));
    sov_db_copy(w->tenant_id, sizeof(w->tenant_id), r, i, col[W_TENANT_ID]);
    sov_db_copy(w->name, sizeof(w->name), r, i, col[W_NAME]);
    sov_db_copy(w->description, sizeof(w->description), r, i, col[W_DESCRIPTION]);
    sov_db_copy(w->created_at, sizeof(w->created_at), r, i, col[W_CREATED_AT]);
    sov_db_copy(w->updated_at, sizeof(w->updated_at), r, i, col[W_UPDATED_AT]);
}

static const sov_db_rowmap row_ws = { ws_cols, W__N, fill_ws };

int
sov_repo_workspace_insert(sov_dbconn *c, const char *tenant_id, const char *name,
                          const char *description, sov_workspace *ret, sov_error *err)
{
    const char *params[] = { tenant_id, name, description };

    if (sov_db_one(c, SQL_WS_INSERT, 3, params, &row_ws, ret, "workspace", name, err) == 0)
        return 0;
    if (err->code == SOV_E_CONFLICT)
        return sov_error_set(err, SOV_E_CONFLICT, "workspace '%s' already exists", name);
    return -1;
}

int
sov_repo_workspace_get(sov_dbconn *c, const char *tenant_id, const char *name, sov_workspace *ret,
                       sov_error *err)
{
    const char *params[] = { tenant_id, name };
    return sov_db_one(c, SQL_WS_GET, 2, params, &row_ws, ret, "workspace", name, err);
}

int
sov_repo_workspace_list(sov_dbconn *c, const char *tenant_id, const char *after, unsigned limit,
                        sov_workspace_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { tenant_id, after ? after : "", lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_WS_LIST, 3, params, sizeof(sov_workspace), &row_ws, limit, "name",
                (void **) &ret->items, &ret->n, ret->next_after, sizeof(ret->next_after), err);
}

int
sov_repo_workspace_update(sov_dbconn *c, const char *tenant_id, const char *name,
                          const char *description, sov_workspace *ret, sov_error *err)
{
    const char *params[] = { tenant_id, name, description };
    return sov_db_one(c, SQL_WS_UPDATE, 3, params, &row_ws, ret, "workspace", name, err);
}

int
sov_repo_workspace_delete(sov_dbconn *c, const char *tenant_id, const char *name, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, name };

    if (sov_db_query(c, SQL_WS_DELETE, 2, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "workspace '%s' does not exist", name);
    return 0;
}

/* ---- users ---- */

#define USER_COLS \
    "id, tenant_id, name, email, role, " TS("created_at") " AS created_at, "            \
    TS("updated_at") " AS updated_at"

static const char SQL_USER_INSERT[] =
    "INSERT INTO users (tenant_id, name, email, role) VALUES ($1, $2, $3, $4) "
    "RETURNING " USER_COLS;
static const char SQL_USER_GET[] =
    "SELECT " USER_COLS " FROM users WHERE tenant_id = coalesce($1::uuid, tenant_id) "
    "AND id = $2";
static const char SQL_USER_LIST[] =
    "SELECT " USER_COLS " FROM users WHERE tenant_id = $1 "
    "AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3";
static const char SQL_USER_UPDATE[] =
    "UPDATE users SET name = coalesce($3, name), email = coalesce($4, email),"
    " role = coalesce($5, role), updated_at = now() "
    "WHERE tenant_id = $1 AND id = $2 RETURNING " USER_COLS;
static const char SQL_USER_DELETE[] =
    "DELETE FROM users WHERE tenant_id = $1 AND id = $2 RETURNING id";
static const char SQL_OPERATOR_COUNT[] =
    "SELECT count(*) FROM (SELECT id FROM users WHERE role = 'operator' FOR UPDATE) o";

enum {
    U_ID, U_TENANT_ID, U_NAME, U_EMAIL, U_ROLE, U_CREATED_AT, U_UPDATED_AT, U__N,
};
static const char *const user_cols[U__N] = {
    [U_ID] = "id", [U_TENANT_ID] = "tenant_id", [U_NAME] = "name", [U_EMAIL] = "email",
    [U_ROLE] = "role", [U_CREATED_AT] = "created_at", [U_UPDATED_AT] = "updated_at",
};

static void
fill_user(const PGresult *r, int i, const int *col, void *out)
{
    sov_user *u = out;

    memset(u, 0, sizeof(*u));
    sov_db_copy(u->id, sizeof(u->id), r, i, col[U_ID]);
    sov_db_copy(u->tenant_id, sizeof(u->tenant_id), r, i, col[U_TENANT_ID]);
    sov_db_copy(u->name, sizeof(u->name), r, i, col[U_NAME]);
    sov_db_copy(u->email, sizeof(u->email), r, i, col[U_EMAIL]);
    u->role = sov_role_parse(PQgetvalue(r, i, col[U_ROLE]));
    sov_db_copy(u->created_at, sizeof(u->created_at), r, i, col[U_CREATED_AT]);
    sov_db_copy(u->updated_at, sizeof(u->updated_at), r, i, col[U_UPDATED_AT]);
}

static const sov_db_rowmap row_user = { user_cols, U__N, fill_user };

static int
email_taken(const char *email, sov_error *err)
{
    snprintf(err->field, sizeof(err->field), "email");
    return sov_error_set(err, SOV_E_CONFLICT, "a user with email '%s' already exists",
                         email ? email : "");
}

int
sov_repo_user_insert(sov_dbconn *c, const char *tenant_id, const char *name, const char *email,
                     sov_role role, sov_user *ret, sov_error *err)
{
    const char *params[] = { tenant_id, name, email, sov_role_name(role) };

    if (sov_db_one(c, SQL_USER_INSERT, 4, params, &row_user, ret, "user", name, err) == 0)
        return 0;
    if (err->code == SOV_E_CONFLICT)
        return email_taken(email, err);
    return -1;
}

int
sov_repo_user_get(sov_dbconn *c, const char *tenant_id, const char *id, sov_user *ret,
                  sov_error *err)
{
    const char *params[] = { tenant_id, id };
    return sov_db_one(c, SQL_USER_GET, 2, params, &row_user, ret, "user", id, err);
}

int
sov_repo_user_list(sov_dbconn *c, const char *tenant_id, const char *after, unsigned limit,
                   sov_user_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { tenant_id, after && *after ? after : NULL, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_USER_LIST, 3, params, sizeof(sov_user), &row_user, limit, "id",
                (void **) &ret->items, &ret->n, ret->next_after, sizeof(ret->next_after), err);
}

int
sov_repo_user_update(sov_dbconn *c, const char *tenant_id, const char *id, const char *name,
                     const char *email, const char *role, sov_user *ret, sov_error *err)
{
    const char *params[] = { tenant_id, id, name, email, role };

    if (sov_db_one(c, SQL_USER_UPDATE, 5, params, &row_user, ret, "user", id, err) == 0)
        return 0;
    if (err->code == SOV_E_CONFLICT)
        return email_taken(email, err);
    return -1;
}

int
sov_repo_user_delete(sov_dbconn *c, const char *tenant_id, const char *id, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, id };

    if (sov_db_query(c, SQL_USER_DELETE, 2, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "user '%s' does not exist", id);
    return 0;
}

int
sov_repo_operator_count(sov_dbconn *c, long *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, SQL_OPERATOR_COUNT, 0, NULL, &res, err) < 0)
        return -1;
    *ret = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    return 0;
}

/* ---- tokens ---- */

#define TOKEN_COLS                                                                       \
    "id, tenant_id, user_id, name, hint, " TS("created_at") " AS created_at, "           \
    "coalesce(" TS("expires_at") ", '') AS expires_at"

static const char SQL_TOKEN_INSERT[] =
    "INSERT INTO tokens (tenant_id, user_id, name, secret_sha256, hint, created_by, "
    "expires_at) VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')::uuid, "
    "NULLIF($7, '')::timestamptz) RETURNING " TOKEN_COLS;
static const char SQL_TOKEN_GET[] =
    "SELECT " TOKEN_COLS " FROM tokens WHERE id = $1 AND revoked_at IS NULL";
static const char SQL_TOKEN_LIST[] =
    "SELECT " TOKEN_COLS " FROM tokens WHERE user_id = $1 AND revoked_at IS NULL "
    "AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3";
static const char SQL_TOKEN_REVOKE[] =
    "UPDATE tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id";
static const char SQL_TOKEN_AUTH[] =
    "SELECT t.id, t.tenant_id, t.user_id, u.role, n.is_operator,"
    " coalesce(" TS("t.expires_at") ", '') AS expires_at, t.secret_sha256,"
    " t.expires_at IS NOT NULL AND t.expires_at <= now() AS expired,"
    " t.revoked_at IS NOT NULL AS revoked "
    "FROM tokens t JOIN users u ON u.id = t.user_id JOIN tenants n ON n.id = t.tenant_id "
    "WHERE t.secret_sha256 = $1";

enum {
    K_ID, K_TENANT_ID, K_USER_ID, K_NAME, K_HINT, K_CREATED_AT, K_EXPIRES_AT, K__N,
};
static const char *const token_cols[K__N] = {
    [K_ID] = "id", [K_TENANT_ID] = "tenant_id", [K_USER_ID] = "user_id", [K_NAME] = "name",
    [K_HINT] = "hint", [K_CREATED_AT] = "created_at", [K_EXPIRES_AT] = "expires_at",
};

static void
fill_token(const PGresult *r, int i, const int *col, void *out)
{
    sov_token *t = out;

    memset(t, 0, sizeof(*t));
    sov_db_copy(t->id, sizeof(t->id), r, i, col[K_ID]);
    sov_db_copy(t->tenant_id, sizeof(t->tenant_id), r, i, col[K_TENANT_ID]);
    sov_db_copy(t->user_id, sizeof(t->user_id), r, i, col[K_USER_ID]);
    sov_db_copy(t->name, sizeof(t->name), r, i, col[K_NAME]);
    sov_db_copy(t->hint, sizeof(t->hint), r, i, col[K_HINT]);
    sov_db_copy(t->created_at, sizeof(t->created_at), r, i, col[K_CREATED_AT]);
    sov_db_copy(t->expires_at, sizeof(t->expires_at), r, i, col[K_EXPIRES_AT]);
}

static const sov_db_rowmap row_token = { token_cols, K__N, fill_token };

int
sov_repo_token_insert(sov_dbconn *c, const char *tenant_id, const char *user_id, const char *name,
                      const char *secret_sha256, const char *hint, const char *created_by,
                      const char *expires_at, sov_token *ret, sov_error *err)
{
    const char *params[] = { tenant_id, user_id, name, secret_sha256, hint,
                             created_by ? created_by : "", expires_at ? expires_at : "" };
    return sov_db_one(c, SQL_TOKEN_INSERT, 7, params, &row_token, ret, "token", name, err);
}

int
sov_repo_token_get(sov_dbconn *c, const char *id, sov_token *ret, sov_error *err)
{
    const char *params[] = { id };
    return sov_db_one(c, SQL_TOKEN_GET, 1, params, &row_token, ret, "token", id, err);
}

int
sov_repo_token_list(sov_dbconn *c, const char *user_id, const char *after, unsigned limit,
                    sov_token_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { user_id, after && *after ? after : NULL, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_TOKEN_LIST, 3, params, sizeof(sov_token), &row_token, limit, "id",
                (void **) &ret->items, &ret->n, ret->next_after, sizeof(ret->next_after), err);
}

int
sov_repo_token_revoke(sov_dbconn *c, const char *id, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id };

    if (sov_db_query(c, SQL_TOKEN_REVOKE, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "token '%s' does not exist", id);
    return 0;
}

int
sov_repo_token_by_secret(sov_dbconn *c, const char *secret_sha256, repo_token_auth *ret,
                         sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { secret_sha256 };
    static const char *const names[] = { "id", "tenant_id", "user_id", "role", "is_operator",
                                         "expires_at", "secret_sha256", "expired", "revoked" };
    int col[9];

    if (sov_db_query(c, SQL_TOKEN_AUTH, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_UNAUTHENTICATED, "token is not valid");
    if (sov_db_cols(res, names, col, 9, err) < 0)
        return -1;
    memset(ret, 0, sizeof(*ret));
    sov_db_copy(ret->who.token_id, sizeof(ret->who.token_id), res, 0, col[0]);
    sov_db_copy(ret->who.tenant_id, sizeof(ret->who.tenant_id), res, 0, col[1]);
    sov_db_copy(ret->who.user_id, sizeof(ret->who.user_id), res, 0, col[2]);
    ret->who.role = sov_role_parse(PQgetvalue(res, 0, col[3]));
    ret->who.operator_tenant = PQgetvalue(res, 0, col[4])[0] == 't';
    sov_db_copy(ret->who.expires_at, sizeof(ret->who.expires_at), res, 0, col[5]);
    sov_db_copy(ret->secret_sha256, sizeof(ret->secret_sha256), res, 0, col[6]);
    ret->expired = PQgetvalue(res, 0, col[7])[0] == 't';
    ret->revoked = PQgetvalue(res, 0, col[8])[0] == 't';
    return 0;
}

int
sov_control_plane_id(sov_db *db, char ret[SOV_UUID_LEN + 1], sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_acquire(db, &c, err) < 0 ||
        sov_db_query(c, "SELECT id FROM control_plane", 0, NULL, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_INTERNAL, "the control_plane row is missing");
    sov_db_copy(ret, SOV_UUID_LEN + 1, res, 0, 0);
    return 0;
}
