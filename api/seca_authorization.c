/* seca_authorization.c: the authorization provider (seca.authorization): roles and role
 * assignments over our roles and users.
 *
 * Built-in roles are read-only projections of our roles: seca.admin (admin), seca.member
 * (member), seca.reader (reader), seca.auditor (auditor); their permissions are derived from
 * the SECA route table (api/seca_routes.c): one per provider and resource type, with the
 * verbs our role may call there. Custom roles are SECA objects (kind "role"), their
 * permissions stored and shown but not enforced: /v1's five roles decide what a token may do.
 *
 * Role assignments are SECA objects (kind "role-assignment"). Their subjects are users of the
 * tenant (by email, or by name when exactly one user has it). An assignment naming built-in
 * roles gives each subject the strongest of the built-in roles all its assignments name, as
 * its /v1 role, through the identity service (its audit entry, the token cache). The role a
 * user had before its first such assignment is kept (an object of kind "seca-prior-role",
 * named by the user's id, listed nowhere) and given back when no assignment names a built-in
 * role for it any more. Scopes are checked (this tenant, existing workspaces and regions) and
 * stored; our roles are tenant-wide, so they do not narrow the effect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "seca.h"
#include "sov/crypto.h"
#include "sov/identity.h"
#include "sov/log.h"
#include "sov/residency.h"

static const sov_seca_type role_type = {
    .provider = "seca.authorization", .kind = "role", .plural = "roles",
    .scope = SOV_SECA_TENANT, .regional = false,
};
static const sov_seca_type assignment_type = {
    .provider = "seca.authorization", .kind = "role-assignment", .plural = "role-assignments",
    .scope = SOV_SECA_TENANT, .regional = false,
};

#define KIND_ROLE "role"
#define KIND_ASSIGNMENT "role-assignment"
#define KIND_PRIOR "seca-prior-role"

/* Strongest first. */
static const struct builtin {
    const char *name;
    sov_role role;
} builtins[] = {
    { "seca.admin", SOV_ROLE_ADMIN },
    { "seca.member", SOV_ROLE_MEMBER },
    { "seca.reader", SOV_ROLE_READER },
    { "seca.auditor", SOV_ROLE_AUDITOR },
};
#define N_BUILTINS (sizeof(builtins) / sizeof(builtins[0]))

/* The built-in role called name; -1 for none. */
static int
builtin_of(const char *name)
{
    for (size_t i = 0; name && i < N_BUILTINS; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return (int) i;
    return -1;
}

static const char *const verbs[] = { "get", "list", "put", "delete", "post" };
#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

/* ---- built-in roles' permissions, from the route table ---- */

/* A route's provider ("seca.compute/v1"), resource type ("instances") and verb (an index of
 * verbs[]); false for a route outside the providers. */
static bool
route_permission(const sov_route *r, char *provider, size_t psize, char *plural, size_t lsize,
                 size_t *verb)
{
    char path[256], *seg[16], *save = NULL;
    size_t n = 0, at;

    if (strncmp(r->pattern, "/providers/", 11) != 0)
        return false;
    snprintf(path, sizeof(path), "%s", r->pattern + 11);
    for (char *s = strtok_r(path, "/", &save); s && n < 16; s = strtok_r(NULL, "/", &save))
        seg[n++] = s;
    if (n < 3)
        return false;
    snprintf(provider, psize, "%s/%s", seg[0], seg[1]);
    if (strcmp(r->method, "POST") == 0) {
        *verb = 4;
        at = n >= 2 ? n - 3 : 0;    /* .../instances/{name}/start */
    } else {
        if (strcmp(r->method, "GET") == 0)
            *verb = seg[n - 1][0] == '{' ? 0 : 1;
        else if (strcmp(r->method, "PUT") == 0)
            *verb = 2;
        else if (strcmp(r->method, "DELETE") == 0)
            *verb = 3;
        else
            return false;
        at = seg[n - 1][0] == '{' ? n - 2 : n - 1;
    }
    if (at < 2 || seg[at][0] == '{')
        return false;
    snprintf(plural, lsize, "%s", seg[at]);
    return true;
}

/* [{provider, resources: ["<plural>/ *"], verb: [...]}] (no space) for what role may call. */
static json_t *
builtin_permissions(sov_role role)
{
    struct perm {
        char provider[64], plural[64];
        unsigned verbs;
    } perms[128];
    size_t np = 0;
    json_t *out = json_array();

    for (size_t i = 0; i < sov_seca_routes_count; i++) {
        const sov_route *r = &sov_seca_routes[i];
        char provider[64], plural[64];
        size_t verb, k;

        if ((r->flags & SOV_ROUTE_PUBLIC) || !(r->roles & role) ||
            !route_permission(r, provider, sizeof(provider), plural, sizeof(plural), &verb))
            continue;
        for (k = 0; k < np; k++)
            if (strcmp(perms[k].provider, provider) == 0 && strcmp(perms[k].plural, plural) == 0)
                break;
        if (k == np) {
            if (np == sizeof(perms) / sizeof(perms[0]))
                continue;
            snprintf(perms[np].provider, sizeof(perms[np].provider), "%s", provider);
            snprintf(perms[np].plural, sizeof(perms[np].plural), "%s", plural);
            perms[np++].verbs = 0;
        }
        perms[k].verbs |= 1u << verb;
    }
    for (size_t k = 0; out && k < np; k++) {
        char res[80];
        json_t *v = json_array();

        for (size_t j = 0; v && j < N_VERBS; j++)
            if (perms[k].verbs & (1u << j))
                json_array_append_new(v, json_string(verbs[j]));
        snprintf(res, sizeof(res), "%s/*", perms[k].plural);
        json_array_append_new(out, json_pack("{s:s, s:[s], s:o}", "provider", perms[k].provider,
                                             "resources", res, "verb", v));
    }
    return out;
}

/* ---- helpers ---- */

/* The meta key of a built-in role in a tenant: a UUID (version 8) from a SHA-256. */
static void
builtin_key(const char *tenant_id, const char *name, char ret[SOV_UUID_LEN + 1])
{
    char text[SOV_UUID_LEN + 64 + 32], sum[SOV_SHA256_HEX_LEN + 1];
    int n = snprintf(text, sizeof(text), "seca.authorization\n%s\n%s", tenant_id, name);

    sov_sha256_hex(text, (size_t) n, sum);
    sum[12] = '8';
    sum[16] = "89ab"[(sum[16] >= 'a' ? sum[16] - 'a' + 10 : sum[16] - '0') & 3];
    snprintf(ret, SOV_UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", sum, sum + 8, sum + 12,
             sum + 16, sum + 20);
}

/* An array of min..max texts of 1..len characters at field (a JSON pointer). */
static int
check_strings(const json_t *a, size_t min, size_t max, size_t len, const char *field,
              const char *what, sov_error *err)
{
    size_t j;
    json_t *v;

    if (!json_is_array(a))
        return sov_error_invalid(err, field, "%s must be an array", what);
    if (json_array_size(a) < min || json_array_size(a) > max)
        return sov_error_invalid(err, field, "%s must have %zu to %zu items", what, min, max);
    json_array_foreach(a, j, v) {
        const char *s = json_string_value(v);
        if (!s || !s[0] || strlen(s) > len) {
            char item[96];
            snprintf(item, sizeof(item), "%.50s/%zu", field, j);
            return sov_error_invalid(err, item, "each of %s must be a text of 1 to %zu "
                                     "characters", what, len);
        }
    }
    return 0;
}

/* Members of obj outside allowed (NULL-terminated): SOV_E_INVALID at prefix/member. */
static int
only_members(const json_t *obj, const char *const *allowed, const char *prefix, sov_error *err)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *) obj, k, v) {
        size_t i;
        for (i = 0; allowed[i]; i++)
            if (strcmp(allowed[i], k) == 0)
                break;
        if (!allowed[i]) {
            char field[64];
            snprintf(field, sizeof(field), "%s/%.40s", prefix, k);
            return sov_error_invalid(err, field, "unknown member '%.64s'", k);
        }
    }
    return 0;
}

/* if-unmodified-since on a DELETE: 0 when absent. */
static int
read_since(sov_request *req, long long *ret, sov_error *err)
{
    const char *since = sov_request_header(req, "if-unmodified-since");
    char *end;

    *ret = 0;
    if (!since)
        return 0;
    *ret = strtoll(since, &end, 10);
    if (!since[0] || *end || *ret < 1)
        return sov_error_invalid(err, "if-unmodified-since", "if-unmodified-since must be a "
                                 "resourceVersion (a whole number from 1)");
    return 0;
}

static int
not_yet(sov_error *err, const char *what, const char *name)
{
    sov_error_set(err, SOV_E_CONFLICT, "%s '%s' does not exist yet: if-unmodified-since names "
                  "no version of it", what, name);
    snprintf(err->field, sizeof(err->field), "if-unmodified-since");
    return -1;
}

/* Only operators and admins read role assignments. */
static int
may_read_assignments(sov_request *req, sov_error *err)
{
    const sov_principal *who = req->ctx.who;

    if (!who || sov_ctx_is_operator(&req->ctx) || (who->role & SOV_ROLE_ADMIN))
        return 0;
    return sov_error_set(err, SOV_E_FORBIDDEN, "role '%s' may not read role assignments",
                         sov_role_name(who->role) ? sov_role_name(who->role) : "none");
}

/* ---- roles ---- */

static int
role_spec_check(const json_t *spec, sov_error *err)
{
    static const char *const spec_members[] = { "permissions", NULL };
    static const char *const perm_members[] = { "provider", "resources", "verb", NULL };
    const json_t *perms = json_object_get(spec, "permissions");
    size_t i;
    json_t *p;

    if (only_members(spec, spec_members, "/spec", err) < 0)
        return -1;
    if (!perms)
        return sov_error_invalid(err, "/spec/permissions", "spec.permissions is required");
    if (!json_is_array(perms) || json_array_size(perms) < 1 || json_array_size(perms) > 256)
        return sov_error_invalid(err, "/spec/permissions", "spec.permissions must be an array "
                                 "of 1 to 256 permissions");
    json_array_foreach(perms, i, p) {
        char prefix[48], field[96];
        const char *provider = json_string_value(json_object_get(p, "provider"));
        const json_t *verb = json_object_get(p, "verb");
        size_t j;
        json_t *v;

        snprintf(prefix, sizeof(prefix), "/spec/permissions/%zu", i);
        if (!json_is_object(p))
            return sov_error_invalid(err, prefix, "a permission must be an object {provider, "
                                     "resources, verb}");
        if (only_members(p, perm_members, prefix, err) < 0)
            return -1;
        snprintf(field, sizeof(field), "%s/provider", prefix);
        if (!provider || !provider[0] || strlen(provider) > 64)
            return sov_error_invalid(err, field, "provider must be a text of 1 to 64 "
                                     "characters");
        snprintf(field, sizeof(field), "%s/resources", prefix);
        if (check_strings(json_object_get(p, "resources"), 1, 256, 256, field, "resources",
                          err) < 0)
            return -1;
        snprintf(field, sizeof(field), "%s/verb", prefix);
        if (check_strings(verb, 1, 16, 7, field, "verb", err) < 0)
            return -1;
        json_array_foreach(verb, j, v) {
            size_t k;
            for (k = 0; k < N_VERBS; k++)
                if (strcmp(verbs[k], json_string_value(v)) == 0)
                    break;
            if (k == N_VERBS) {
                snprintf(field, sizeof(field), "%s/verb/%zu", prefix, j);
                return sov_error_invalid(err, field, "verb '%.16s' is none of get, list, put, "
                                         "delete, post", json_string_value(v));
            }
        }
    }
    return 0;
}

/* A role as SECA shows it; spec is taken. NULL with err set on failure. */
static json_t *
role_json(sov_request *req, const char *name, const char *id, const char *created_at,
          json_t *spec, const sov_seca_meta *m, sov_error *err)
{
    sov_seca_stored st = { id, SOV_SECA_ACTIVE, created_at, m };

    return sov_seca_resource_stored(req, &role_type, NULL, NULL, name, NULL, &st, spec,
                                    json_object(), NULL, err);
}

static json_t *
builtin_json(sov_request *req, int b, sov_error *err)
{
    const char *tenant = sov_seca_tenant_id(req);
    char key[SOV_UUID_LEN + 1];
    sov_tenant t;

    if (sov_tenant_get(&req->ctx, tenant, &t, err) < 0)
        return NULL;
    builtin_key(tenant, builtins[b].name, key);
    return role_json(req, builtins[b].name, key, t.created_at,
                     json_pack("{s:o}", "permissions", builtin_permissions(builtins[b].role)),
                     NULL, err);
}

/* The built-in roles, then the tenant's own: one page. */
static int
roles_page(sov_request *req, sov_seca_list *l, const char *after, char *next, size_t size,
           void *arg, sov_error *err)
{
    sov_seca_object *objs = NULL;
    size_t n = 0;
    json_t *j = NULL;
    int rc = 0;

    (void) after, (void) next, (void) size, (void) arg;
    for (size_t b = 0; b < N_BUILTINS; b++) {
        if (!(j = builtin_json(req, (int) b, err)))
            return -1;
        sov_seca_list_add(l, j);
    }
    if (sov_seca_object_list(&req->ctx, sov_seca_tenant_id(req), "", KIND_ROLE, "", &objs, &n,
                             err) < 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        j = role_json(req, objs[i].name, objs[i].id, objs[i].created_at,
                      json_incref(objs[i].spec), NULL, err);
        rc = j ? 0 : -1;
        sov_seca_list_add(l, j);
    }
    sov_seca_objects_free(objs, n);
    return rc;
}

/* GET .../tenants/{tenant}/roles */
enum MHD_Result
sov_seca_authorization_roles_list(sov_request *req)
{
    return sov_seca_list_walk(req, &role_type, roles_page, NULL);
}

/* GET .../tenants/{tenant}/roles/{name} */
enum MHD_Result
sov_seca_authorization_roles_get(sov_request *req)
{
    const char *name = sov_seca_name(req);
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(json_t) body = NULL;
    sov_seca_object o;
    int b = builtin_of(name);

    if (b >= 0) {
        body = builtin_json(req, b, &err);
    } else if (sov_seca_object_get(&req->ctx, sov_seca_tenant_id(req), "", KIND_ROLE, "", name,
                                   &o, &err) == 0) {
        body = role_json(req, o.name, o.id, o.created_at, json_incref(o.spec), NULL, &err);
        sov_seca_object_clear(&o);
    }
    if (!body)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_reply(req, MHD_HTTP_OK, body);
}

static int
builtin_refused(const char *name, sov_error *err)
{
    sov_error_set(err, SOV_E_CONFLICT, "'%s' is a built-in role: it cannot be changed or "
                  "deleted", name);
    snprintf(err->field, sizeof(err->field), "/metadata/name");
    return -1;
}

/* PUT .../tenants/{tenant}/roles/{name} */
enum MHD_Result
sov_seca_authorization_roles_put(sov_request *req)
{
    const char *tenant = sov_seca_tenant_id(req), *name = sov_seca_name(req);
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object o = { 0 };
    sov_seca_meta m = { 0 };
    sov_autoptr(json_t) body = NULL;
    sov_seca_input in;
    bool existed, created = false;

    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (builtin_of(name) >= 0)
        return builtin_refused(name, &err), sov_seca_reply_error(req, &err, true);
    if (role_spec_check(in.spec, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    existed = sov_seca_object_get(&req->ctx, tenant, "", KIND_ROLE, "", name, &o, &err) == 0;
    if (!existed && err.code != SOV_E_NOT_FOUND)
        return sov_seca_reply_error(req, &err, true);
    sov_error_clear(&err);
    if (existed && sov_seca_meta_check_version(&req->ctx, o.id, in.if_version, &err) < 0)
        goto fail;
    if (!existed && in.if_version > 0) {
        not_yet(&err, "role", name);
        goto fail;
    }
    sov_seca_object_clear(&o);
    snprintf(o.tenant_id, sizeof(o.tenant_id), "%s", tenant);
    snprintf(o.kind, sizeof(o.kind), KIND_ROLE);
    snprintf(o.name, sizeof(o.name), "%s", name);
    o.spec = json_pack("{s:O}", "permissions", json_object_get(in.spec, "permissions"));
    if (!o.spec || sov_seca_object_put(&req->ctx, &o, &created, &err) < 0)
        goto fail;
    {
        sov_seca_write w = {
            .resource_id = o.id, .tenant_id = tenant, .kind = role_type.kind,
            .change = created ? SOV_SECA_CREATED : SOV_SECA_UPDATED, .labels = in.labels,
            .annotations = in.annotations, .extensions = in.extensions,
            .if_version = in.if_version, .created_at = o.created_at,
        };
        if (sov_seca_meta_write(&req->ctx, &w, &m, &err) < 0) {
            sov_error undo = SOV_ERROR_INIT;
            if (created && sov_seca_object_delete(&req->ctx, tenant, "", KIND_ROLE, "", name,
                                                  &undo) < 0)
                sov_log_warn("could not remove role '%s' after its meta failed: %s", name,
                             undo.msg);
            goto fail;
        }
    }
    body = role_json(req, name, o.id, o.created_at, json_incref(o.spec), &m, &err);
    sov_seca_meta_clear(&m);
    sov_seca_object_clear(&o);
    if (!body)
        return sov_seca_reply_error(req, &err, true);
    return sov_seca_reply(req, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, body);
fail:
    sov_seca_object_clear(&o);
    return sov_seca_reply_error(req, &err, true);
}

/* Whether an assignment's spec names role. */
static bool
names_role(const json_t *spec, const char *role)
{
    size_t i;
    json_t *v;

    json_array_foreach(json_object_get(spec, "roles"), i, v)
        if (json_string_value(v) && strcmp(json_string_value(v), role) == 0)
            return true;
    return false;
}

/* DELETE .../tenants/{tenant}/roles/{name}: refused while an assignment names it. */
enum MHD_Result
sov_seca_authorization_roles_delete(sov_request *req)
{
    const char *tenant = sov_seca_tenant_id(req), *name = sov_seca_name(req);
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object o, *as = NULL;
    size_t n = 0;
    long long since;

    if (builtin_of(name) >= 0)
        return builtin_refused(name, &err), sov_seca_reply_error(req, &err, true);
    if (sov_seca_object_get(&req->ctx, tenant, "", KIND_ROLE, "", name, &o, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (read_since(req, &since, &err) < 0 ||
        sov_seca_meta_check_version(&req->ctx, o.id, since, &err) < 0)
        goto fail;
    if (sov_seca_object_list(&req->ctx, tenant, "", KIND_ASSIGNMENT, "", &as, &n, &err) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (names_role(as[i].spec, name)) {
            sov_error_set(&err, SOV_E_CONFLICT, "role '%s' is assigned by role assignment "
                          "'%s': delete or change that first", name, as[i].name);
            sov_error_block(&err, "role-assignment", as[i].id, as[i].name);
            sov_seca_objects_free(as, n);
            goto fail;
        }
    }
    sov_seca_objects_free(as, n);
    if (sov_seca_object_delete(&req->ctx, tenant, "", KIND_ROLE, "", name, &err) < 0) {
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, false);
    }
    if (sov_seca_meta_forget(&req->ctx, o.id, &err) < 0)
        sov_log_warn("could not drop the SECA meta of deleted role '%s': %s", name, err.msg);
    sov_seca_object_clear(&o);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
fail:
    sov_seca_object_clear(&o);
    return sov_seca_reply_error(req, &err, true);
}

/* ---- role assignments ---- */

typedef struct users {
    sov_user *items;
    size_t n;
} users;

static void
users_free(users *u)
{
    free(u->items);
    u->items = NULL;
    u->n = 0;
}

/* Every user of the tenant. */
static int
users_load(sov_request *req, users *ret, sov_error *err)
{
    char after[SOV_TEXT_MAX * 4 + 1] = "";

    memset(ret, 0, sizeof(*ret));
    do {
        sov_user_page page = { 0 };
        sov_user *grown;

        if (sov_user_list(&req->ctx, sov_seca_tenant_id(req), after, 1000, &page, err) < 0) {
            users_free(ret);
            return -1;
        }
        grown = realloc(ret->items, (ret->n + page.n + 1) * sizeof(*grown));
        if (!grown) {
            free(page.items);
            users_free(ret);
            return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        }
        ret->items = grown;
        memcpy(ret->items + ret->n, page.items, page.n * sizeof(*grown));
        ret->n += page.n;
        snprintf(after, sizeof(after), "%s", page.next_after);
        free(page.items);
    } while (after[0]);
    return 0;
}

/* The user a subject names: by email (any case), else by name when exactly one user has it.
 * NULL for none; *several when more than one has that name. */
static const sov_user *
user_of(const users *u, const char *sub, bool *several)
{
    const sov_user *found = NULL;

    *several = false;
    for (size_t i = 0; i < u->n; i++)
        if (u->items[i].email[0] && strcasecmp(u->items[i].email, sub) == 0)
            return &u->items[i];
    for (size_t i = 0; i < u->n; i++) {
        if (strcmp(u->items[i].name, sub) != 0)
            continue;
        if (found) {
            *several = true;
            return NULL;
        }
        found = &u->items[i];
    }
    return found;
}

/* Whether an assignment's spec names user u among its subjects. */
static bool
names_user(const json_t *spec, const users *all, const sov_user *u)
{
    size_t i;
    json_t *v;

    json_array_foreach(json_object_get(spec, "subs"), i, v) {
        bool several;
        const sov_user *s = json_string_value(v) ? user_of(all, json_string_value(v), &several)
                                                 : NULL;
        if (s && strcmp(s->id, u->id) == 0)
            return true;
    }
    return false;
}

static int
assignment_spec_check(sov_request *req, const json_t *spec, const users *all, sov_error *err)
{
    static const char *const spec_members[] = { "subs", "scopes", "roles", NULL };
    static const char *const scope_members[] = { "tenants", "regions", "workspaces", NULL };
    const char *tenant = sov_seca_tenant(req), *tenant_id = sov_seca_tenant_id(req);
    const json_t *subs = json_object_get(spec, "subs"), *roles = json_object_get(spec, "roles");
    const json_t *scopes = json_object_get(spec, "scopes");
    bool has_builtin = false;
    size_t i;
    json_t *v;

    if (only_members(spec, spec_members, "/spec", err) < 0)
        return -1;
    if (!subs)
        return sov_error_invalid(err, "/spec/subs", "spec.subs is required");
    if (!scopes)
        return sov_error_invalid(err, "/spec/scopes", "spec.scopes is required");
    if (!roles)
        return sov_error_invalid(err, "/spec/roles", "spec.roles is required");
    if (check_strings(subs, 1, 256, 128, "/spec/subs", "spec.subs", err) < 0 ||
        check_strings(roles, 1, 32, 64, "/spec/roles", "spec.roles", err) < 0)
        return -1;
    if (!json_is_array(scopes) || json_array_size(scopes) < 1 || json_array_size(scopes) > 256)
        return sov_error_invalid(err, "/spec/scopes", "spec.scopes must be an array of 1 to "
                                 "256 scopes");

    json_array_foreach(roles, i, v) {
        const char *r = json_string_value(v);
        char field[64];
        sov_seca_object o;

        snprintf(field, sizeof(field), "/spec/roles/%zu", i);
        if (builtin_of(r) >= 0) {
            has_builtin = true;
            continue;
        }
        if (sov_seca_object_get(&req->ctx, tenant_id, "", KIND_ROLE, "", r, &o, err) < 0) {
            if (err->code == SOV_E_NOT_FOUND)
                snprintf(err->field, sizeof(err->field), "%.63s", field);
            return -1;
        }
        sov_seca_object_clear(&o);
    }
    json_array_foreach(subs, i, v) {
        const char *s = json_string_value(v);
        char field[64];
        bool several;
        const sov_user *u = user_of(all, s, &several);

        snprintf(field, sizeof(field), "/spec/subs/%zu", i);
        if (several) {
            sov_error_set(err, SOV_E_CONFLICT, "several users of tenant '%s' are called '%.128s':"
                          " name one by its email", tenant, s);
            snprintf(err->field, sizeof(err->field), "%.63s", field);
            return -1;
        }
        if (!u) {
            sov_error_set(err, SOV_E_NOT_FOUND, "no user %.128s in tenant '%s'", s, tenant);
            snprintf(err->field, sizeof(err->field), "%.63s", field);
            return -1;
        }
        if (has_builtin && u->role == SOV_ROLE_OPERATOR) {
            sov_error_set(err, SOV_E_CONFLICT, "user %.128s is an operator: built-in SECA roles "
                          "do not change an operator's role", s);
            snprintf(err->field, sizeof(err->field), "%.63s", field);
            return -1;
        }
    }
    json_array_foreach(scopes, i, v) {
        static const size_t maxes[] = { 64, 64, 256 };
        char prefix[48], field[96];
        size_t j;
        json_t *x;

        snprintf(prefix, sizeof(prefix), "/spec/scopes/%zu", i);
        if (!json_is_object(v))
            return sov_error_invalid(err, prefix, "a scope must be an object {tenants?, "
                                     "regions?, workspaces?}");
        if (only_members(v, scope_members, prefix, err) < 0)
            return -1;
        for (size_t k = 0; k < 3; k++) {
            const json_t *a = json_object_get(v, scope_members[k]);
            snprintf(field, sizeof(field), "%s/%s", prefix, scope_members[k]);
            if (a && check_strings(a, 0, maxes[k], 64, field, scope_members[k], err) < 0)
                return -1;
        }
        json_array_foreach(json_object_get(v, "tenants"), j, x) {
            if (strcmp(json_string_value(x), tenant) != 0) {
                snprintf(field, sizeof(field), "%s/tenants/%zu", prefix, j);
                sov_error_set(err, SOV_E_NOT_FOUND, "scope names tenant '%.64s': an assignment "
                              "applies in its own tenant '%s' only", json_string_value(x),
                              tenant);
                snprintf(err->field, sizeof(err->field), "%.63s", field);
                return -1;
            }
        }
        json_array_foreach(json_object_get(v, "regions"), j, x) {
            sov_region r;
            if (sov_region_get(&req->ctx, json_string_value(x), &r, err) < 0) {
                if (err->code == SOV_E_NOT_FOUND) {
                    sov_error_set(err, SOV_E_NOT_FOUND, "no region %.64s",
                                  json_string_value(x));
                    snprintf(field, sizeof(field), "%s/regions/%zu", prefix, j);
                    snprintf(err->field, sizeof(err->field), "%.63s", field);
                }
                return -1;
            }
        }
        json_array_foreach(json_object_get(v, "workspaces"), j, x) {
            sov_workspace w;
            if (sov_workspace_get(&req->ctx, tenant_id, json_string_value(x), &w, err) < 0) {
                if (err->code == SOV_E_NOT_FOUND) {
                    sov_error_set(err, SOV_E_NOT_FOUND, "no workspace %.64s in tenant '%s'",
                                  json_string_value(x), tenant);
                    snprintf(field, sizeof(field), "%s/workspaces/%zu", prefix, j);
                    snprintf(err->field, sizeof(err->field), "%.63s", field);
                }
                return -1;
            }
        }
    }
    return 0;
}

/* Give u the /v1 role its assignments call for: the strongest built-in role they name, or,
 * when they name none, the role it had before its first assignment. */
static int
recompute(sov_request *req, const users *all, const sov_user *u, sov_error *err)
{
    const char *tenant_id = sov_seca_tenant_id(req);
    sov_seca_object *as = NULL, prior = { 0 };
    size_t n = 0;
    int best = -1;
    bool have_prior;
    sov_role target;
    sov_user after;

    if (sov_seca_object_list(&req->ctx, tenant_id, "", KIND_ASSIGNMENT, "", &as, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t j;
        json_t *v;

        if (!names_user(as[i].spec, all, u))
            continue;
        json_array_foreach(json_object_get(as[i].spec, "roles"), j, v) {
            int b = builtin_of(json_string_value(v));
            if (b >= 0 && (best < 0 || b < best))
                best = b;
        }
    }
    sov_seca_objects_free(as, n);
    have_prior = sov_seca_object_get(&req->ctx, tenant_id, "", KIND_PRIOR, "", u->id, &prior,
                                     err) == 0;
    if (!have_prior && err->code != SOV_E_NOT_FOUND)
        return -1;
    sov_error_clear(err);
    if (best >= 0) {
        target = builtins[best].role;
        if (!have_prior) {
            snprintf(prior.tenant_id, sizeof(prior.tenant_id), "%s", tenant_id);
            snprintf(prior.kind, sizeof(prior.kind), KIND_PRIOR);
            snprintf(prior.name, sizeof(prior.name), "%s", u->id);
            prior.spec = json_pack("{s:s}", "role", sov_role_name(u->role));
            if (!prior.spec || sov_seca_object_put(&req->ctx, &prior, NULL, err) < 0) {
                sov_seca_object_clear(&prior);
                return -1;
            }
        }
    } else {
        if (!have_prior)
            return 0;   /* never changed by an assignment */
        target = sov_role_parse(json_string_value(json_object_get(prior.spec, "role")));
    }
    sov_seca_object_clear(&prior);
    if (target != SOV_ROLE_NONE && target != u->role &&
        sov_user_update(&req->ctx, tenant_id, u->id, NULL, NULL, target, &after, err) < 0)
        return -1;
    if (best < 0 &&
        sov_seca_object_delete(&req->ctx, tenant_id, "", KIND_PRIOR, "", u->id, err) < 0 &&
        err->code != SOV_E_NOT_FOUND)
        return -1;
    sov_error_clear(err);
    return 0;
}

/* Recompute every user either spec names (either may be NULL). */
static int
recompute_named(sov_request *req, const users *all, const json_t *a, const json_t *b,
                sov_error *err)
{
    for (size_t i = 0; i < all->n; i++)
        if ((a && names_user(a, all, &all->items[i])) ||
            (b && names_user(b, all, &all->items[i])))
            if (recompute(req, all, &all->items[i], err) < 0)
                return -1;
    return 0;
}

static json_t *
assignment_json(sov_request *req, const sov_seca_object *o, const sov_seca_meta *m,
                sov_error *err)
{
    sov_seca_stored st = { o->id, SOV_SECA_ACTIVE, o->created_at, m };
    json_t *spec = json_pack("{s:O, s:O, s:O}", "subs", json_object_get(o->spec, "subs"),
                             "scopes", json_object_get(o->spec, "scopes"), "roles",
                             json_object_get(o->spec, "roles"));

    if (!spec) {
        sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        return NULL;
    }
    return sov_seca_resource_stored(req, &assignment_type, NULL, NULL, o->name, NULL, &st, spec,
                                    json_object(), NULL, err);
}

static int
assignments_page(sov_request *req, sov_seca_list *l, const char *after, char *next,
                 size_t size, void *arg, sov_error *err)
{
    sov_seca_object *objs = NULL;
    size_t n = 0;
    int rc = 0;

    (void) after, (void) next, (void) size, (void) arg;
    if (sov_seca_object_list(&req->ctx, sov_seca_tenant_id(req), "", KIND_ASSIGNMENT, "", &objs,
                             &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *j = assignment_json(req, &objs[i], NULL, err);
        rc = j ? 0 : -1;
        sov_seca_list_add(l, j);
    }
    sov_seca_objects_free(objs, n);
    return rc;
}

/* GET .../tenants/{tenant}/role-assignments */
enum MHD_Result
sov_seca_authorization_role_assignments_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;

    if (may_read_assignments(req, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_list_walk(req, &assignment_type, assignments_page, NULL);
}

/* GET .../tenants/{tenant}/role-assignments/{name} */
enum MHD_Result
sov_seca_authorization_role_assignments_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(json_t) body = NULL;
    sov_seca_object o;

    if (may_read_assignments(req, &err) < 0 ||
        sov_seca_object_get(&req->ctx, sov_seca_tenant_id(req), "", KIND_ASSIGNMENT, "",
                            sov_seca_name(req), &o, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    body = assignment_json(req, &o, NULL, &err);
    sov_seca_object_clear(&o);
    if (!body)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_reply(req, MHD_HTTP_OK, body);
}

/* PUT .../tenants/{tenant}/role-assignments/{name} */
enum MHD_Result
sov_seca_authorization_role_assignments_put(sov_request *req)
{
    const char *tenant = sov_seca_tenant_id(req), *name = sov_seca_name(req);
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object old = { 0 }, o = { 0 };
    sov_seca_meta m = { 0 };
    sov_autoptr(json_t) body = NULL;
    sov_seca_input in;
    users all = { 0 };
    bool existed, created = false;

    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (users_load(req, &all, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (assignment_spec_check(req, in.spec, &all, &err) < 0)
        goto fail;
    existed = sov_seca_object_get(&req->ctx, tenant, "", KIND_ASSIGNMENT, "", name, &old,
                                  &err) == 0;
    if (!existed && err.code != SOV_E_NOT_FOUND)
        goto fail;
    sov_error_clear(&err);
    if (existed && sov_seca_meta_check_version(&req->ctx, old.id, in.if_version, &err) < 0)
        goto fail;
    if (!existed && in.if_version > 0) {
        not_yet(&err, "role assignment", name);
        goto fail;
    }
    snprintf(o.tenant_id, sizeof(o.tenant_id), "%s", tenant);
    snprintf(o.kind, sizeof(o.kind), KIND_ASSIGNMENT);
    snprintf(o.name, sizeof(o.name), "%s", name);
    o.spec = json_pack("{s:O, s:O, s:O}", "subs", json_object_get(in.spec, "subs"), "scopes",
                       json_object_get(in.spec, "scopes"), "roles",
                       json_object_get(in.spec, "roles"));
    if (!o.spec || sov_seca_object_put(&req->ctx, &o, &created, &err) < 0)
        goto fail;
    if (recompute_named(req, &all, existed ? old.spec : NULL, o.spec, &err) < 0) {
        /* Nothing half-made: the assignment goes back to what it was, and so do the roles. */
        sov_error undo = SOV_ERROR_INIT;
        if (existed)
            sov_seca_object_put(&req->ctx, &old, NULL, &undo);
        else
            sov_seca_object_delete(&req->ctx, tenant, "", KIND_ASSIGNMENT, "", name, &undo);
        if (recompute_named(req, &all, old.spec, o.spec, &undo) < 0)
            sov_log_warn("could not put back the roles of role assignment '%s': %s", name,
                         undo.msg);
        goto fail;
    }
    {
        sov_seca_write w = {
            .resource_id = o.id, .tenant_id = tenant, .kind = assignment_type.kind,
            .change = created ? SOV_SECA_CREATED : SOV_SECA_UPDATED, .labels = in.labels,
            .annotations = in.annotations, .extensions = in.extensions,
            .if_version = in.if_version, .created_at = o.created_at,
        };
        if (sov_seca_meta_write(&req->ctx, &w, &m, &err) < 0)
            goto fail;
    }
    body = assignment_json(req, &o, &m, &err);
    sov_seca_meta_clear(&m);
    sov_seca_object_clear(&o);
    sov_seca_object_clear(&old);
    users_free(&all);
    if (!body)
        return sov_seca_reply_error(req, &err, true);
    return sov_seca_reply(req, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, body);
fail:
    sov_seca_object_clear(&o);
    sov_seca_object_clear(&old);
    users_free(&all);
    return sov_seca_reply_error(req, &err, true);
}

/* DELETE .../tenants/{tenant}/role-assignments/{name}: its subjects' roles are recomputed
 * from what remains. */
enum MHD_Result
sov_seca_authorization_role_assignments_delete(sov_request *req)
{
    const char *tenant = sov_seca_tenant_id(req), *name = sov_seca_name(req);
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object o;
    users all = { 0 };
    long long since;

    if (sov_seca_object_get(&req->ctx, tenant, "", KIND_ASSIGNMENT, "", name, &o, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (read_since(req, &since, &err) < 0 ||
        sov_seca_meta_check_version(&req->ctx, o.id, since, &err) < 0 ||
        users_load(req, &all, &err) < 0)
        goto fail;
    if (sov_seca_object_delete(&req->ctx, tenant, "", KIND_ASSIGNMENT, "", name, &err) < 0) {
        sov_seca_object_clear(&o);
        users_free(&all);
        return sov_seca_reply_error(req, &err, false);
    }
    if (recompute_named(req, &all, o.spec, NULL, &err) < 0) {
        sov_error undo = SOV_ERROR_INIT;
        if (sov_seca_object_put(&req->ctx, &o, NULL, &undo) < 0)
            sov_log_warn("could not put back role assignment '%s': %s", name, undo.msg);
        goto fail;
    }
    if (sov_seca_meta_forget(&req->ctx, o.id, &err) < 0)
        sov_log_warn("could not drop the SECA meta of deleted role assignment '%s': %s", name,
                     err.msg);
    sov_seca_object_clear(&o);
    users_free(&all);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
fail:
    sov_seca_object_clear(&o);
    users_free(&all);
    return sov_seca_reply_error(req, &err, true);
}
