/* The SECA authorization provider through a real sovd on a real PostgreSQL: built-in roles
 * (read-only projections of ours, with the permissions our role has on the SECA routes),
 * custom roles and role assignments with their lifecycle, conditions and versions; bad
 * specs, subjects, roles and scopes refused (412 naming the member, nothing written); an
 * assignment's effect on its subjects' /v1 role, and its reversal; who may read what; and
 * another tenant's path answered 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca_kit.h"

#define ERR TL_SECA_ERR
#define AUTHZ "/providers/seca.authorization/v1/tenants/"

static char *db;
static tl_sovd sovd;
static char *op;
static tl_tenant ta, tb;

static void
setup_once(void)
{
    tl_seca_suite_start(&sovd, &db, &op, "{\"code\":\"fr-authz-1\",\"name\":\"Authz\","
                        "\"country\":\"FR\",\"datacenter\":\"DC 1\",\"zones\":[\"a\"]}",
                        "authz-a", &ta, "authz-b", &tb);
}

static void
teardown_once(void)
{
    tl_seca_suite_stop(&sovd, db, op);
}

#define str_at tl_seca_str

static void
path_of(char *buf, size_t size, const tl_tenant *t, const char *plural, const char *name)
{
    snprintf(buf, size, AUTHZ "%s/%s%s%s", t->name, plural, name ? "/" : "", name ? name : "");
}

/* A SECA refusal: status, type ERR+kind, application/json, sources[0].pointer (unless NULL),
 * detail containing says (unless NULL). */
static void
refused(const char *method, const char *path, const char *token, const char *body,
        const char *const *headers, long status, const char *kind, const char *pointer,
        const char *says)
{
    char type[128], *ct;
    const json_t *src;
    tl_resp r;

    tl_call_h(&sovd, method, path, token, body, headers, &r);
    ck_assert_msg(r.status == status, "%s %s %s: expected %ld, got %ld: %s", method, path,
                  body ? body : "", status, r.status, r.body);
    ct = tl_resp_header(&r, "Content-Type");
    ck_assert_msg(ct && strcmp(ct, "application/json") == 0, "Content-Type %s", ct ? ct : "-");
    free(ct);
    snprintf(type, sizeof(type), ERR "%s", kind);
    ck_assert_msg(r.json && strcmp(str_at(r.json, "type"), type) == 0, "type: %s", r.body);
    if (pointer) {
        src = json_array_get(json_object_get(r.json, "sources"), 0);
        ck_assert_msg(src && strcmp(str_at(src, "pointer"), pointer) == 0,
                      "expected source %s: %s", pointer, r.body);
    }
    if (says)
        tl_assert_contains(str_at(r.json, "detail"), says);
    tl_resp_free(&r);
}

#define states tl_seca_conditions

static long long
version_of(const json_t *res)
{
    return json_integer_value(json_object_get(json_object_get(res, "metadata"),
                                              "resourceVersion"));
}

/* The /v1 role of user id of tenant t, as the operator reads it. */
static char *
v1_role(const tl_tenant *t, const char *user_id)
{
    char path[256];
    json_t *u;
    char *role;

    snprintf(path, sizeof(path), "/v1/tenants/%s/users/%s", t->id, user_id);
    u = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    role = strdup(str_at(u, "role"));
    json_decref(u);
    return role;
}

static void
assert_v1_role(const tl_tenant *t, int who, const char *want)
{
    char *role = v1_role(t, t->user_id[who]);
    ck_assert_msg(strcmp(role, want) == 0, "user %s has role %s, not %s", t->user_id[who], role,
                  want);
    free(role);
}

/* The item of a list called name, or NULL. */
static const json_t *
item_named(const json_t *list, const char *name)
{
    size_t i;
    json_t *it;

    json_array_foreach(json_object_get(list, "items"), i, it)
        if (strcmp(str_at(json_object_get(it, "metadata"), "name"), name) == 0)
            return it;
    return NULL;
}

/* Whether role's permissions give verb on provider's resource "<plural>/ *". */
static bool
permits(const json_t *role, const char *provider, const char *plural, const char *verb)
{
    char res[80];
    size_t i, j;
    json_t *p, *v;

    snprintf(res, sizeof(res), "%s/*", plural);
    json_array_foreach(json_object_get(json_object_get(role, "spec"), "permissions"), i, p) {
        if (strcmp(str_at(p, "provider"), provider) != 0 ||
            strcmp(json_string_value(json_array_get(json_object_get(p, "resources"), 0)), res))
            continue;
        json_array_foreach(json_object_get(p, "verb"), j, v)
            if (strcmp(json_string_value(v), verb) == 0)
                return true;
    }
    return false;
}

START_TEST(built_in_roles_mirror_ours_and_are_read_only)
{
    char path[256];
    json_t *list, *one;
    const json_t *admin, *member, *reader, *auditor;

    path_of(path, sizeof(path), &ta, "roles", NULL);
    list = tl_call_ok(&sovd, "GET", path, ta.token[TL_READER], NULL, 200);
    admin = item_named(list, "seca.admin");
    member = item_named(list, "seca.member");
    reader = item_named(list, "seca.reader");
    auditor = item_named(list, "seca.auditor");
    ck_assert_msg(admin && member && reader && auditor, "built-in roles missing: %s",
                  json_dumps(list, 0));
    ck_assert(permits(member, "seca.compute/v1", "instances", "put"));
    ck_assert(permits(member, "seca.compute/v1", "instances", "post"));
    ck_assert(permits(member, "seca.network/v1", "subnets", "delete"));
    ck_assert(!permits(member, "seca.authorization/v1", "role-assignments", "put"));
    ck_assert(permits(admin, "seca.authorization/v1", "role-assignments", "put"));
    ck_assert(permits(admin, "seca.workspace/v1", "workspaces", "delete"));
    ck_assert(permits(reader, "seca.compute/v1", "instances", "get"));
    ck_assert(permits(reader, "seca.compute/v1", "instances", "list"));
    ck_assert(!permits(reader, "seca.compute/v1", "instances", "put"));
    ck_assert(!permits(reader, "seca.storage/v1", "block-storages", "delete"));
    ck_assert(permits(auditor, "seca.region/v1", "regions", "list"));
    ck_assert_str_eq(str_at(json_object_get(admin, "metadata"), "kind"), "role");
    ck_assert_str_eq(str_at(json_object_get(admin, "metadata"), "provider"),
                     "seca.authorization/v1");
    ck_assert_str_eq(str_at(json_object_get(admin, "metadata"), "resource"), "roles/seca.admin");
    ck_assert_str_eq(str_at(json_object_get(admin, "status"), "state"), "active");
    json_decref(list);

    path_of(path, sizeof(path), &ta, "roles", "seca.member");
    one = tl_call_ok(&sovd, "GET", path, ta.token[TL_AUDITOR], NULL, 200);
    ck_assert(permits(one, "seca.compute/v1", "instances", "put"));
    json_decref(one);
    refused("PUT", path, ta.token[TL_ADMIN], "{\"spec\":{\"permissions\":[{\"provider\":"
            "\"seca.compute/v1\",\"resources\":[\"*\"],\"verb\":[\"get\"]}]}}", NULL, 412,
            "precondition-failed", "/metadata/name", "built-in role");
    refused("DELETE", path, ta.token[TL_ADMIN], NULL, NULL, 412, "precondition-failed",
            "/metadata/name", "built-in role");
    one = tl_call_ok(&sovd, "GET", path, ta.token[TL_ADMIN], NULL, 200);
    ck_assert(permits(one, "seca.compute/v1", "instances", "put"));
    json_decref(one);
}
END_TEST

#define VIEWER_SPEC                                                                         \
    "{\"permissions\":[{\"provider\":\"seca.compute/v1\",\"resources\":[\"instances/*\"],"  \
    "\"verb\":[\"get\",\"list\"]}]}"

START_TEST(a_custom_role_lives_through_put_get_list_and_delete)
{
    char path[256], coll[256], st[256];
    const char *since1[] = { "if-unmodified-since: 1", NULL };
    json_t *r, *list;
    const json_t *perm;

    path_of(path, sizeof(path), &ta, "roles", "viewer");
    path_of(coll, sizeof(coll), &ta, "roles", NULL);
    r = tl_call_ok(&sovd, "PUT", path, ta.token[TL_ADMIN],
                   "{\"labels\":{\"env\":\"conformance\"},\"spec\":" VIEWER_SPEC "}", 201);
    states(r, st, sizeof(st));
    ck_assert_str_eq(st, "active,creating,pending");
    ck_assert_int_eq(version_of(r), 1);
    ck_assert_str_eq(str_at(json_object_get(r, "labels"), "env"), "conformance");
    ck_assert_str_eq(str_at(json_object_get(r, "metadata"), "verb"), "PUT");
    ck_assert_str_eq(str_at(json_object_get(r, "metadata"), "tenant"), "authz-a");
    ck_assert_str_eq(str_at(json_object_get(r, "metadata"), "ref"),
                     "seca.authorization/v1/tenants/authz-a/roles/viewer");
    json_decref(r);

    r = tl_call_ok(&sovd, "GET", path, ta.token[TL_MEMBER], NULL, 200);
    perm = json_array_get(json_object_get(json_object_get(r, "spec"), "permissions"), 0);
    ck_assert_str_eq(str_at(perm, "provider"), "seca.compute/v1");
    ck_assert_int_eq(json_array_size(json_object_get(perm, "verb")), 2);
    json_decref(r);

    r = tl_call_ok(&sovd, "PUT", path, ta.token[TL_ADMIN],
                   "{\"labels\":{\"env\":\"conformance\"},\"spec\":{\"permissions\":[{"
                   "\"provider\":\"seca.compute/v1\",\"resources\":[\"instances/*\"],"
                   "\"verb\":[\"get\",\"list\",\"post\"]}]}}", 200);
    states(r, st, sizeof(st));
    ck_assert_str_eq(st, "active,updating,active,creating,pending");
    ck_assert_int_eq(version_of(r), 2);
    json_decref(r);
    /* A stale version: refused, nothing changed. */
    refused("PUT", path, ta.token[TL_ADMIN], "{\"spec\":" VIEWER_SPEC "}", since1, 412,
            "precondition-failed", "/if-unmodified-since", "resourceVersion is 2");
    r = tl_call_ok(&sovd, "GET", path, ta.token[TL_ADMIN], NULL, 200);
    ck_assert_int_eq(version_of(r), 2);
    perm = json_array_get(json_object_get(json_object_get(r, "spec"), "permissions"), 0);
    ck_assert_int_eq(json_array_size(json_object_get(perm, "verb")), 3);
    json_decref(r);

    /* Listed with the built-in ones; labels filter. */
    list = tl_call_ok(&sovd, "GET", coll, ta.token[TL_READER], NULL, 200);
    ck_assert_ptr_nonnull(item_named(list, "viewer"));
    ck_assert_ptr_nonnull(item_named(list, "seca.admin"));
    json_decref(list);
    snprintf(coll + strlen(coll), sizeof(coll) - strlen(coll), "?labels=env=conformance");
    list = tl_call_ok(&sovd, "GET", coll, ta.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    ck_assert_ptr_nonnull(item_named(list, "viewer"));
    json_decref(list);

    /* Another tenant does not see it. */
    path_of(coll, sizeof(coll), &tb, "roles", "viewer");
    refused("GET", coll, tb.token[TL_ADMIN], NULL, NULL, 404, "resource-not-found", NULL, NULL);

    refused("DELETE", path, ta.token[TL_MEMBER], NULL, NULL, 403, "forbidden", NULL, NULL);
    json_decref(tl_call_ok(&sovd, "DELETE", path, ta.token[TL_ADMIN], NULL, 202));
    refused("GET", path, ta.token[TL_ADMIN], NULL, NULL, 404, "resource-not-found", NULL,
            NULL);
    refused("DELETE", path, ta.token[TL_ADMIN], NULL, NULL, 404, "resource-not-found", NULL,
            NULL);
}
END_TEST

START_TEST(bad_role_specs_are_412_naming_the_member)
{
    char path[256];
    const char *tok = ta.token[TL_ADMIN];

    path_of(path, sizeof(path), &ta, "roles", "bad");
#define PERM(provider, resources, verb, more) \
    "{\"spec\":{\"permissions\":[{\"provider\":\"" provider "\",\"resources\":" resources \
    ",\"verb\":" verb more "}]}}"
    static const struct { const char *body, *pointer, *says; } bad[] = {
        { "{}", "/spec", NULL },
        { "{\"spec\":{}}", "/spec/permissions", NULL },
        { "{\"spec\":{\"permissions\":[]}}", "/spec/permissions", NULL },
        { "{\"spec\":{\"permissions\":[1]}}", "/spec/permissions/0", NULL },
        { PERM("p", "[\"*\"]", "[\"fly\"]", ""), "/spec/permissions/0/verb/0", "fly" },
        { PERM("p", "[\"*\"]", "[]", ""), "/spec/permissions/0/verb", NULL },
        { PERM("p", "[]", "[\"get\"]", ""), "/spec/permissions/0/resources", NULL },
        { PERM("", "[\"*\"]", "[\"get\"]", ""), "/spec/permissions/0/provider", NULL },
        { PERM("p", "[\"*\"]", "[\"get\"]", ",\"extra\":1"), "/spec/permissions/0/extra",
          NULL },
        { "{\"spec\":{\"permissions\":[{\"provider\":\"p\",\"resources\":[\"*\"],"
          "\"verb\":[\"get\"]}],\"other\":1}}", "/spec/other", NULL },
    };
#undef PERM

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        refused("PUT", path, tok, bad[i].body, NULL, 412, "validation-error", bad[i].pointer,
                bad[i].says);
    /* Only admins and operators write roles. */
    refused("PUT", path, ta.token[TL_MEMBER], "{\"spec\":" VIEWER_SPEC "}", NULL, 403,
            "forbidden", NULL, NULL);
    /* Nothing was written. */
    refused("GET", path, tok, NULL, NULL, 404, "resource-not-found", NULL, NULL);
}
END_TEST

/* PUT a role assignment of tenant t called name. */
static json_t *
assign(const tl_tenant *t, const char *name, const char *spec, long status)
{
    char path[256], body[2048];

    path_of(path, sizeof(path), t, "role-assignments", name);
    snprintf(body, sizeof(body), "{\"spec\":%s}", spec);
    return tl_call_ok(&sovd, "PUT", path, t->token[TL_ADMIN], body, status);
}

START_TEST(an_assignment_sets_the_subjects_v1_role_and_its_deletion_reverts_it)
{
    char path[256], users[256], st[256];
    json_t *r;

    snprintf(users, sizeof(users), "/v1/tenants/%s/users", ta.id);
    assert_v1_role(&ta, TL_MEMBER, "member");
    json_decref(tl_call_ok(&sovd, "GET", users, ta.token[TL_MEMBER], NULL, 403));

    /* By email: the member becomes a reader. */
    r = assign(&ta, "readers", "{\"subs\":[\"member@authz-a.example.eu\"],\"roles\":"
               "[\"seca.reader\"],\"scopes\":[{\"tenants\":[\"authz-a\"],\"regions\":"
               "[\"fr-authz-1\"],\"workspaces\":[\"default\"]}]}", 201);
    states(r, st, sizeof(st));
    ck_assert_str_eq(st, "active,creating,pending");
    ck_assert_str_eq(str_at(json_object_get(r, "metadata"), "kind"), "role-assignment");
    ck_assert_str_eq(str_at(json_object_get(r, "metadata"), "resource"),
                     "role-assignments/readers");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(json_object_get(r, "spec"),
                                                                      "subs"), 0)),
                     "member@authz-a.example.eu");
    json_decref(r);
    assert_v1_role(&ta, TL_MEMBER, "reader");

    /* By name, with a custom role beside: the strongest built-in one wins, and the member's
     * token acts with it at once. */
    path_of(path, sizeof(path), &ta, "roles", "ops");
    json_decref(tl_call_ok(&sovd, "PUT", path, ta.token[TL_ADMIN],
                           "{\"spec\":" VIEWER_SPEC "}", 201));
    json_decref(assign(&ta, "admins", "{\"subs\":[\"member authz-a\"],\"roles\":[\"ops\","
                       "\"seca.admin\"],\"scopes\":[{}]}", 201));
    assert_v1_role(&ta, TL_MEMBER, "admin");
    json_decref(tl_call_ok(&sovd, "GET", users, ta.token[TL_MEMBER], NULL, 200));
    /* The custom role is in use. */
    refused("DELETE", path, ta.token[TL_ADMIN], NULL, NULL, 412, "precondition-failed", NULL,
            "admins");

    /* Replaced: only the custom role is left in it; the reader assignment remains. */
    r = assign(&ta, "admins", "{\"subs\":[\"member authz-a\"],\"roles\":[\"ops\"],"
               "\"scopes\":[{}]}", 200);
    ck_assert_int_eq(version_of(r), 2);
    json_decref(r);
    assert_v1_role(&ta, TL_MEMBER, "reader");

    /* Deleted: back to what it had before any assignment. */
    path_of(path, sizeof(path), &ta, "role-assignments", "readers");
    json_decref(tl_call_ok(&sovd, "DELETE", path, ta.token[TL_ADMIN], NULL, 202));
    refused("GET", path, ta.token[TL_ADMIN], NULL, NULL, 404, "resource-not-found", NULL,
            NULL);
    assert_v1_role(&ta, TL_MEMBER, "member");
    json_decref(tl_call_ok(&sovd, "GET", users, ta.token[TL_MEMBER], NULL, 403));

    /* And once more from the start, then the last one goes. */
    json_decref(assign(&ta, "readers", "{\"subs\":[\"member@authz-a.example.eu\"],\"roles\":"
                       "[\"seca.auditor\"],\"scopes\":[{}]}", 201));
    assert_v1_role(&ta, TL_MEMBER, "auditor");
    json_decref(tl_call_ok(&sovd, "DELETE", path, ta.token[TL_ADMIN], NULL, 202));
    assert_v1_role(&ta, TL_MEMBER, "member");

    path_of(path, sizeof(path), &ta, "role-assignments", "admins");
    json_decref(tl_call_ok(&sovd, "DELETE", path, ta.token[TL_ADMIN], NULL, 202));
    assert_v1_role(&ta, TL_MEMBER, "member");
    path_of(path, sizeof(path), &ta, "roles", "ops");
    json_decref(tl_call_ok(&sovd, "DELETE", path, ta.token[TL_ADMIN], NULL, 202));
}
END_TEST

START_TEST(bad_subjects_roles_and_scopes_are_412_and_write_nothing)
{
    char path[256];
    const char *tok = ta.token[TL_ADMIN];

    path_of(path, sizeof(path), &ta, "role-assignments", "wrong");
#define RA(subs, roles, scopes) \
    "{\"spec\":{\"subs\":" subs ",\"roles\":" roles ",\"scopes\":" scopes "}}"
    refused("PUT", path, tok, RA("[\"nobody@nowhere.eu\"]", "[\"seca.reader\"]", "[{}]"), NULL,
            412, "precondition-failed", "/spec/subs/0", "no user nobody@nowhere.eu");
    /* A user of another tenant is no user of this one. */
    refused("PUT", path, tok, RA("[\"member@authz-b.example.eu\"]", "[\"seca.reader\"]",
                                 "[{}]"), NULL, 412, "precondition-failed", "/spec/subs/0",
            "no user");
    refused("PUT", path, tok, RA("[\"reader@authz-a.example.eu\"]", "[\"no-such-role\"]",
                                 "[{}]"), NULL, 412, "precondition-failed", "/spec/roles/0",
            "no-such-role");
    refused("PUT", path, tok, RA("[\"reader@authz-a.example.eu\"]", "[\"seca.member\"]",
                                 "[{\"tenants\":[\"authz-b\"]}]"), NULL, 412,
            "precondition-failed", "/spec/scopes/0/tenants/0", "authz-b");
    refused("PUT", path, tok, RA("[\"reader@authz-a.example.eu\"]", "[\"seca.member\"]",
                                 "[{\"workspaces\":[\"nope\"]}]"), NULL, 412,
            "precondition-failed", "/spec/scopes/0/workspaces/0", "no workspace nope");
    refused("PUT", path, tok, RA("[\"reader@authz-a.example.eu\"]", "[\"seca.member\"]",
                                 "[{\"regions\":[\"xx-none-9\"]}]"), NULL, 412,
            "precondition-failed", "/spec/scopes/0/regions/0", "no region xx-none-9");
    refused("PUT", path, tok, RA("[]", "[\"seca.member\"]", "[{}]"), NULL, 412,
            "validation-error", "/spec/subs", NULL);
    refused("PUT", path, tok, RA("[\"reader@authz-a.example.eu\"]", "[]", "[{}]"), NULL, 412,
            "validation-error", "/spec/roles", NULL);
    refused("PUT", path, tok, RA("[\"reader@authz-a.example.eu\"]", "[\"seca.member\"]", "[]"),
            NULL, 412, "validation-error", "/spec/scopes", NULL);
    refused("PUT", path, tok, RA("[\"reader@authz-a.example.eu\"]", "[\"seca.member\"]",
                                 "[{\"zones\":[\"a\"]}]"), NULL, 412, "validation-error",
            "/spec/scopes/0/zones", NULL);
    refused("PUT", path, tok, "{\"spec\":{\"subs\":[\"reader@authz-a.example.eu\"],"
            "\"roles\":[\"seca.member\"]}}", NULL, 412, "validation-error", "/spec/scopes",
            NULL);
#undef RA
    /* Nothing written, nobody changed. */
    refused("GET", path, tok, NULL, NULL, 404, "resource-not-found", NULL, NULL);
    assert_v1_role(&ta, TL_READER, "reader");
}
END_TEST

START_TEST(only_admins_and_operators_read_assignments)
{
    char path[256], coll[256];
    json_t *list;

    json_decref(assign(&ta, "audit", "{\"subs\":[\"auditor@authz-a.example.eu\"],\"roles\":"
                       "[\"seca.auditor\"],\"scopes\":[{}]}", 201));
    path_of(path, sizeof(path), &ta, "role-assignments", "audit");
    path_of(coll, sizeof(coll), &ta, "role-assignments", NULL);
    refused("GET", path, ta.token[TL_READER], NULL, NULL, 403, "forbidden", NULL, NULL);
    refused("GET", coll, ta.token[TL_MEMBER], NULL, NULL, 403, "forbidden", NULL, NULL);
    json_decref(tl_call_ok(&sovd, "GET", path, ta.token[TL_ADMIN], NULL, 200));
    json_decref(tl_call_ok(&sovd, "GET", path, op, NULL, 200));
    list = tl_call_ok(&sovd, "GET", coll, ta.token[TL_ADMIN], NULL, 200);
    ck_assert_ptr_nonnull(item_named(list, "audit"));
    json_decref(list);
    /* The auditor keeps its role: it had it already. */
    assert_v1_role(&ta, TL_AUDITOR, "auditor");

    /* Another tenant's path is 404, whatever is asked. */
    path_of(path, sizeof(path), &ta, "role-assignments", "audit");
    refused("GET", path, tb.token[TL_ADMIN], NULL, NULL, 404, "resource-not-found", NULL,
            NULL);
    refused("DELETE", path, tb.token[TL_ADMIN], NULL, NULL, 404, "resource-not-found", NULL,
            NULL);
    path_of(path, sizeof(path), &ta, "roles", NULL);
    refused("GET", path, tb.token[TL_READER], NULL, NULL, 404, "resource-not-found", NULL,
            NULL);
    path_of(path, sizeof(path), &ta, "roles", "x");
    refused("PUT", path, tb.token[TL_ADMIN], "{\"spec\":" VIEWER_SPEC "}", NULL, 404,
            "resource-not-found", NULL, NULL);

    path_of(path, sizeof(path), &ta, "role-assignments", "audit");
    json_decref(tl_call_ok(&sovd, "DELETE", path, op, NULL, 202));
    assert_v1_role(&ta, TL_AUDITOR, "auditor");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/seca-authorization");
    TCase *tc = tcase_create("authorization");

    tcase_add_unchecked_fixture(tc, setup_once, teardown_once);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, built_in_roles_mirror_ours_and_are_read_only);
    tcase_add_test(tc, a_custom_role_lives_through_put_get_list_and_delete);
    tcase_add_test(tc, bad_role_specs_are_412_naming_the_member);
    tcase_add_test(tc, an_assignment_sets_the_subjects_v1_role_and_its_deletion_reverts_it);
    tcase_add_test(tc, bad_subjects_roles_and_scopes_are_412_and_write_nothing);
    tcase_add_test(tc, only_admins_and_operators_read_assignments);
    return tl_run_suite(s);
}
