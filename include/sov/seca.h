/* seca.h: what the SECA-compatible surface keeps beside the resources it maps onto: each
 * resource's labels, annotations, extensions, resourceVersion and condition history (its
 * "meta"), the label selectors lists filter with, and the SECA resources that have no /v1 row
 * of their own (custom roles, role assignments, route tables, internet gateways, security
 * group rules: "objects"). Implemented in core/seca.c (rules) and core/seca_repo.c (SQL).
 *
 * The resource itself (an instance, a volume, a network) stays where it is: the SECA handlers
 * call the same services as /v1, so quotas, residency policy, audit and residency records
 * apply unchanged. Meta is written after the service's own transaction; a resource without a
 * meta row (made through /v1) reads as one with defaults. */
#ifndef SOV_SECA_H
#define SOV_SECA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sov/ctx.h"
#include "sov/error.h"

#define SOV_SECA_NAME_MAX 128       /* a SECA resource name (path segment) */
#define SOV_SECA_CONDITIONS_MAX 32  /* status.conditions keeps the newest 32 */

/* status.state and each condition's state. */
typedef enum sov_seca_state {
    SOV_SECA_PENDING,
    SOV_SECA_CREATING,
    SOV_SECA_ACTIVE,
    SOV_SECA_UPDATING,
    SOV_SECA_DELETING,
    SOV_SECA_ERROR,
} sov_seca_state;
/* "pending", "creating", ... */
const char *sov_seca_state_name(sov_seca_state s);

typedef struct sov_seca_meta {
    char resource_id[SOV_UUID_LEN + 1];
    char kind[40];                  /* SECA kind: "instance", "block-storage", ... */
    json_t *labels;                 /* JSON objects of strings, owned; never NULL once read */
    json_t *annotations;
    json_t *extensions;
    json_t *conditions;             /* newest first: [{state, lastTransitionAt, reason?,
                                       message?}], at most SOV_SECA_CONDITIONS_MAX, owned */
    long long version;              /* metadata.resourceVersion, >= 1 */
    char created_at[40];            /* RFC 3339 UTC */
    char modified_at[40];
    char deleted_at[40];            /* "" unless a delete was asked */
    bool stored;                    /* false: no row (a resource made through /v1) */
} sov_seca_meta;
void sov_seca_meta_clear(sov_seca_meta *m);
/* The state of the newest condition (SOV_SECA_ACTIVE when there is none). */
sov_seca_state sov_seca_meta_state(const sov_seca_meta *m);

/* One resource's meta, its conditions brought up to date first:
 * - when its last write follows an operation, the operation's start adds `creating` (a
 *   create) or `updating` (an update or action), its success `active`, its failure `error`
 *   with the operation's message; each at the time the operation recorded;
 * - when nothing is followed and `now` (the state the handler reads off the resource: an
 *   instance in error is SOV_SECA_ERROR) differs from the newest condition, `now` is added
 *   (a change made through /v1, or found by the reconciler).
 * A resource with no row reads as: version 1, empty maps, created_at as given, conditions
 * [active, creating, pending] at created_at when `now` is active, else [now]. */
int sov_seca_meta_get(sov_ctx *ctx, const char *resource_id, const char *kind,
                      sov_seca_state now, const char *created_at, sov_seca_meta *ret,
                      sov_error *err);

/* A write through SECA, recorded after the service did it. */
typedef enum sov_seca_change {
    SOV_SECA_CREATED,   /* version 1; conditions [pending] following op_id, or [active,
                           creating, pending] when op_id is NULL (done already) */
    SOV_SECA_UPDATED,   /* version + 1; adds updating (following op_id), or updating then
                           active when op_id is NULL */
    SOV_SECA_ACTED,     /* start, stop, restart: as UPDATED */
    SOV_SECA_DELETED,   /* deleted_at = now, adds deleting */
} sov_seca_change;
typedef struct sov_seca_write {
    const char *resource_id;
    const char *tenant_id;          /* NULL for a global resource */
    const char *kind;
    sov_seca_change change;
    json_t *labels;                 /* objects, borrowed; NULL: keep (update) / {} (create) */
    json_t *annotations;
    json_t *extensions;
    const char *op_id;              /* the operation carrying it out; NULL: done */
    long long if_version;           /* > 0: SOV_E_CONFLICT unless the version is this one */
    const char *created_at;         /* a resource with no row yet (made through /v1): its
                                       creation time, as for sov_seca_meta_get (NULL: now) */
} sov_seca_write;
int sov_seca_meta_write(sov_ctx *ctx, const sov_seca_write *w, sov_seca_meta *ret,
                        sov_error *err);
/* if-unmodified-since, checked before the service runs: SOV_E_CONFLICT ("resourceVersion is
 * N, not M") unless the resource's version is if_version (a resource with no row is 1). */
int sov_seca_meta_check_version(sov_ctx *ctx, const char *resource_id, long long if_version,
                                sov_error *err);
/* Drop a resource's meta once the resource is gone (a create that failed, a deletion). */
int sov_seca_meta_forget(sov_ctx *ctx, const char *resource_id, sov_error *err);

/* Label selectors (the `labels` query parameter): comma-separated terms key=value,
 * key!=value, key>N, key<N, key>=N, key<=N, with `*` wildcards in keys and values of = and !=
 * (any run of characters). A key without an operator means "has the label". Bad syntax is
 * SOV_E_INVALID naming "labels". */
typedef struct sov_seca_selector sov_seca_selector;
int sov_seca_selector_parse(const char *text, sov_seca_selector **ret, sov_error *err);
bool sov_seca_selector_match(const sov_seca_selector *s, const json_t *labels);
void sov_seca_selector_free(sov_seca_selector *s);

/* SECA resources with no /v1 row of their own, as named JSON specs, unique by (tenant,
 * workspace, kind, parent, name). workspace "" for tenant-level kinds (roles, role
 * assignments); parent "" unless nested (a route table's network name). */
typedef struct sov_seca_object {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char workspace[SOV_SECA_NAME_MAX + 1];
    char kind[40];
    char parent[SOV_SECA_NAME_MAX + 1];
    char name[SOV_SECA_NAME_MAX + 1];
    char region[65];                /* "" when not regional */
    json_t *spec;                   /* owned */
    char created_at[40];
} sov_seca_object;
void sov_seca_object_clear(sov_seca_object *o);
/* Create or replace by key; *created says which. o->id and created_at are filled. */
int sov_seca_object_put(sov_ctx *ctx, sov_seca_object *o, bool *created, sov_error *err);
int sov_seca_object_get(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                        const char *kind, const char *parent, const char *name,
                        sov_seca_object *ret, sov_error *err);
/* All of one kind in a scope, by name; free with sov_seca_objects_free. */
int sov_seca_object_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                         const char *kind, const char *parent, sov_seca_object **ret,
                         size_t *n, sov_error *err);
void sov_seca_objects_free(sov_seca_object *o, size_t n);
int sov_seca_object_delete(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                           const char *kind, const char *parent, const char *name,
                           sov_error *err);
/* The spec of the object kept beside a resource (kind, name in a workspace, no parent) whose
 * spec holds that resource's id as "id": a reference to free, or NULL when there is none or
 * it is another resource's (a /v1 resource made later under the same name). */
json_t *sov_seca_object_beside(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                               const char *kind, const char *name, const char *id);

/* Members of obj other than names (NULL-terminated): SOV_E_INVALID naming the member's JSON
 * pointer (at, the pointer of obj, then the member: "/spec/colour"). */
int sov_seca_members_check(const json_t *obj, const char *at, const char *const *names,
                           sov_error *err);

#endif
