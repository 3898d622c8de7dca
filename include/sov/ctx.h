/* ctx.h: who is asking, and on behalf of which request: what every service receives.
 *
 * Services take a sov_ctx instead of HTTP or JSON: the principal (tenant, user, token, role),
 * the request id and source address for the audit log, and the shared database pool. */
#ifndef SOV_CTX_H
#define SOV_CTX_H

#include <stdbool.h>

#include "sov/config.h"
#include "sov/db.h"
#include "sov/error.h"

#define SOV_UUID_LEN 36

/* Roles of users, as bits so a route's policy is one mask. */
typedef enum sov_role {
    SOV_ROLE_NONE = 0,
    SOV_ROLE_OPERATOR = 1u << 0,    /* runs the cloud; only in the operator tenant */
    SOV_ROLE_ADMIN = 1u << 1,       /* manages its tenant: users, workspaces, tokens */
    SOV_ROLE_MEMBER = 1u << 2,      /* creates and changes its tenant's resources */
    SOV_ROLE_READER = 1u << 3,      /* reads them */
    SOV_ROLE_AUDITOR = 1u << 4,     /* reads audit log and residency records */
} sov_role;

#define SOV_ROLES_ALL (SOV_ROLE_OPERATOR | SOV_ROLE_ADMIN | SOV_ROLE_MEMBER | \
                       SOV_ROLE_READER | SOV_ROLE_AUDITOR)

/* "operator", "admin", ...; NULL for none or several bits. */
const char *sov_role_name(sov_role role);
/* The role of a name, SOV_ROLE_NONE if it names none. */
sov_role sov_role_parse(const char *name);

typedef struct sov_principal {
    char tenant_id[SOV_UUID_LEN + 1];
    char user_id[SOV_UUID_LEN + 1];
    char token_id[SOV_UUID_LEN + 1];
    sov_role role;
    bool operator_tenant;   /* the principal belongs to the operator tenant */
    char expires_at[40];    /* RFC 3339, "" when the token never expires */
} sov_principal;

struct sov_auth;
struct sov_idem_hook;
struct sov_op;

typedef struct sov_ctx {
    sov_db *db;
    struct sov_auth *auth;      /* this process's token cache, emptied after commits that
                                   change who may do what (NULL: none) */
    const sov_config *cfg;
    const sov_principal *who;   /* NULL for sovd's own actions (bootstrap, reconciler) */
    const char *request_id;     /* "" outside a request */
    const char *source;         /* client address */
    const char *action;         /* what is being done, e.g. "tenants.create" */
    bool audit_in_tx;           /* an entry was appended in the running transaction */
    bool audited;               /* an entry for this request is committed */
    bool auth_changed;          /* the running transaction sent NOTIFY sov_auth */
    const struct sov_op *op_queued; /* queued by the running transaction: logged once it
                                       commits (sov_op_enqueue) */
    struct sov_idem_hook *idem; /* the request's Idempotency-Key (NULL: none): the first
                                   transaction to commit after its render is set stores the
                                   answer (sov/idempotency.h) */
} sov_ctx;

/* Whether the principal acts on the whole cloud (the operator role). */
bool sov_ctx_is_operator(const sov_ctx *ctx);
/* Whether the principal may see tenant_id at all: its own, or any for an operator.
 * Anything else is answered as not found, never as forbidden. */
bool sov_ctx_sees_tenant(const sov_ctx *ctx, const char *tenant_id);
/* The tenant a caller acts in: tenant_id when given, else the principal's own; one it may
 * not see (or none, or not a UUID) is SOV_E_NOT_FOUND "tenant '...' does not exist". */
int sov_ctx_tenant(const sov_ctx *ctx, const char *tenant_id, const char **ret,
                   sov_error *err);
/* The scope and name of a new resource of a workspace (an instance, a volume, a snapshot):
 * its tenant (sov_ctx_tenant) into tenant (SOV_UUID_LEN + 1), its workspace (NULL:
 * "default") into workspace (SOV_NAME_MAX + 1), and its name checked as a slug that does not
 * read as a UUID (routes take a name for the id: such a name would name two; the 400 says
 * "<noun> name cannot be a UUID", noun as "an instance"). */
int sov_ctx_create_scope(const sov_ctx *ctx, const char *tenant_id, const char *workspace,
                         const char *name, const char *noun, char *tenant, char *ret_workspace,
                         sov_error *err);

/* A name's lookup for sov_ctx_resolve: the id of the tenant's resource of that name in the
 * workspace (NULL: "default") into ret (SOV_UUID_LEN + 1), else SOV_E_NOT_FOUND. */
typedef int (*sov_ctx_find_fn)(sov_dbconn *c, const char *tenant_id, const char *workspace,
                               const char *name, char *ret, sov_error *err);
/* An id, or a name in the workspace of the caller's tenant (sov_ctx_tenant), to the
 * resource's id: an id is taken as it is, a name is looked up by find on a connection of
 * ctx's pool. */
int sov_ctx_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                    const char *id_or_name, sov_ctx_find_fn find, char *ret, sov_error *err);

/* sov_db_tx for services: marks ctx audited when fn appended an audit entry and the
 * transaction committed, stores the answer of ctx->idem in that same transaction, logs the
 * operation fn queued once it committed, and empties this process's token cache at once when
 * fn changed tokens, users or tenants (other processes hear the NOTIFY). */
int sov_ctx_tx(sov_ctx *ctx, sov_db_tx_fn fn, void *arg, sov_error *err);
/* sov_ctx_tx for what every process starting beside others tries once (seeding a default):
 * another that did it first (fn's SOV_E_CONFLICT: the names are taken) is no failure, and
 * *lost says so (false when fn committed). */
int sov_ctx_tx_seed(sov_ctx *ctx, sov_db_tx_fn fn, void *arg, bool *lost, sov_error *err);

#endif
