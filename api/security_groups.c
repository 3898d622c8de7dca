/* security_groups.c: /v1/security-groups and their rules. A create, a rule added or removed
 * and a delete answer 202 with the operation that syncs the group into OVN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "sov/network.h"

#define RULES_MAX 64

static json_t *
rule_json(const sov_sg_rule *r)
{
    json_t *j = json_pack("{s:s, s:s, s:s}", "id", r->id, "direction", r->direction,
                          "protocol", r->protocol);
    char ports[16];

    if (r->port_min > 0) {
        if (r->port_min == r->port_max)
            snprintf(ports, sizeof(ports), "%d", r->port_min);
        else
            snprintf(ports, sizeof(ports), "%d-%d", r->port_min, r->port_max);
        json_object_set_new(j, "ports", json_string(ports));
    }
    if (r->remote_cidr[0])
        json_object_set_new(j, "remote_cidr", json_string(r->remote_cidr));
    if (r->remote_group_id[0])
        json_object_set_new(j, "remote_group", json_pack("{s:s, s:s}", "id",
                                                         r->remote_group_id, "name",
                                                         r->remote_group_name));
    json_object_set_new(j, "description", json_string(r->description));
    json_object_set_new(j, "created_at", json_string(r->created_at));
    return j;
}

static json_t *
group_json(const sov_security_group *g)
{
    json_t *rules = json_array();
    json_t *j = json_pack("{s:s, s:s, s:b, s:s, s:s}", "id", g->id, "name", g->name,
                          "is_default", g->is_default, "state", g->state, "state_reason",
                          g->state_reason);

    json_object_set_new(j, "tenant_id", sov_api_str_or_null(g->tenant_id));
    json_object_set_new(j, "workspace", sov_api_str_or_null(g->workspace));
    for (size_t i = 0; i < g->nrules; i++)
        json_array_append_new(rules, rule_json(&g->rules[i]));
    json_object_set_new(j, "rules", rules);
    json_object_set_new(j, "operation_id", sov_api_str_or_null(g->operation_id));
    json_object_set_new(j, "created_at", json_string(g->created_at));
    json_object_set_new(j, "updated_at", json_string(g->updated_at));
    return j;
}

/* A rule object of a body into a (strings borrowed from obj); where: "rules[2]." or "". */
static int
rule_args(json_t *obj, const char *where, sov_sg_rule_args *a, sov_error *err)
{
    static const char *const names[] = { "direction", "protocol", "ports", "remote_cidr",
                                         "remote_group", "description" };
    const char **slots[] = { &a->direction, &a->protocol, &a->ports, &a->remote_cidr,
                             &a->remote_group, &a->description };
    char field[64];
    const char *key;
    json_t *v;

    memset(a, 0, sizeof(*a));
    if (!json_is_object(obj))
        return sov_error_invalid(err, where[0] ? "rules" : "body", "%s must be an object "
                                 "{direction, protocol, ports, remote_cidr | remote_group}",
                                 where[0] ? "each rule" : "the body");
    json_object_foreach(obj, key, v) {
        size_t k = 0;

        while (k < SOV_N_ELEMENTS(names) && strcmp(key, names[k]) != 0)
            k++;
        snprintf(field, sizeof(field), "%s%.40s", where, key);
        if (k == SOV_N_ELEMENTS(names))
            return sov_error_invalid(err, field, "unknown field '%s'", field);
        if (json_is_null(v))
            continue;
        /* ports may come as a number: 22 is "22". */
        if (!json_is_string(v))
            return sov_error_invalid(err, field, "%s must be a string", field);
        *slots[k] = json_string_value(v);
    }
    return 0;
}

/* What a create fills in, and its 202: {"security_group": ..., "operation": ...}. */
typedef struct created {
    sov_security_group g;
    sov_op op;
} created;

static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const created *c = arg;

    return sov_api_accepted_json("security_group", group_json(&c->g), &c->op, status,
                                 location, location_size);
}

/* POST /v1/security-groups {name, workspace?, rules?} */
enum MHD_Result
sov_handle_security_group_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },       { "workspace", JSON_STRING, false },
        { "rules", JSON_ARRAY, false },      { "tenant_id", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_security_group_create_args a = { 0 };
    sov_sg_rule_args rules[RULES_MAX];
    json_t *list = json_object_get(req->body, "rules"), *r;
    created c;
    size_t i;
    enum MHD_Result rc;

    memset(&c, 0, sizeof(c));
    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0)
        return sov_api_reply_problem(req, &err);
    if (json_is_array(list)) {
        if (json_array_size(list) > RULES_MAX) {
            sov_error_invalid(&err, "rules", "at most %d rules at a create", RULES_MAX);
            return sov_api_reply_problem(req, &err);
        }
        json_array_foreach(list, i, r) {
            char where[32];
            snprintf(where, sizeof(where), "rules[%zu].", i);
            if (rule_args(r, where, &rules[i], &err) < 0)
                return sov_api_reply_problem(req, &err);
        }
        a.rules = rules;
        a.nrules = json_array_size(list);
        a.no_default_rules = a.nrules == 0;
    }
    a.name = sov_api_body_str(req, "name");
    a.workspace = sov_api_body_str(req, "workspace");
    sov_api_answer_in_tx(req, created_json, &c);
    if (sov_security_group_create(&req->ctx, sov_api_body_str(req, "tenant_id"), &a, &c.g,
                                  &c.op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    rc = sov_api_reply_rendered(req, created_json, &c);
    sov_security_group_release(&c.g);
    return rc;
}

/* GET /v1/security-groups?workspace=&tenant_id= */
enum MHD_Result
sov_handle_security_group_list(sov_request *req)
{
    static const char *const keep[] = { "workspace", "tenant_id", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_security_group_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_security_group_list(&req->ctx, sov_request_query(req, "tenant_id"),
                                sov_request_query(req, "workspace"), after, limit, &page,
                                &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, group_json(&page.items[i]));
    sov_security_group_page_release(&page);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/security-groups/{id}?tenant_id= */
enum MHD_Result
sov_handle_security_group_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };

    if (sov_security_group_get(&req->ctx, sov_request_query(req, "tenant_id"),
                               sov_request_param(req, "id"), &g, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = group_json(&g);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* The group as it is now, with op, as a 202. */
static enum MHD_Result
reply_group(sov_request *req, const char *tenant_id, const char *id, json_t *rule,
            const sov_op *op)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };

    if (sov_security_group_get(&req->ctx, tenant_id, id, &g, &err) < 0) {
        json_decref(rule);
        return sov_api_reply_problem(req, &err);
    }
    sov_autoptr(json_t) body = json_pack("{s:o}", "security_group", group_json(&g));
    if (rule)
        json_object_set_new(body, "rule", rule);
    return sov_api_reply_accepted(req, body, op);
}

/* DELETE /v1/security-groups/{id}?tenant_id= */
enum MHD_Result
sov_handle_security_group_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };
    sov_op op;

    /* The group as the delete leaves it: read first, since a quick worker may have deleted
     * it before a read after the commit. */
    if (sov_security_group_get(&req->ctx, tenant_id, id, &g, &err) < 0 ||
        sov_security_group_delete(&req->ctx, tenant_id, g.id, &op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    snprintf(g.state, sizeof(g.state), "deleting");
    snprintf(g.operation_id, sizeof(g.operation_id), "%s", op.id);
    sov_autoptr(json_t) body = json_pack("{s:o}", "security_group", group_json(&g));
    return sov_api_reply_accepted(req, body, &op);
}

/* POST /v1/security-groups/{id}/rules?tenant_id= {direction, protocol?, ports?,
 * remote_cidr? | remote_group?, description?} */
enum MHD_Result
sov_handle_security_group_rule_add(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };
    sov_sg_rule_args a;
    sov_sg_rule r;
    sov_op op;

    /* Another tenant's group is not there, whatever the body says: look first. */
    if (sov_security_group_get(&req->ctx, tenant_id, id, &g, &err) < 0 ||
        rule_args(req->body, "", &a, &err) < 0 ||
        sov_sg_rule_add(&req->ctx, tenant_id, id, &a, &r, &op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return reply_group(req, tenant_id, id, rule_json(&r), &op);
}

/* DELETE /v1/security-groups/{id}/rules/{rule_id}?tenant_id= */
enum MHD_Result
sov_handle_security_group_rule_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    sov_op op;

    if (sov_sg_rule_delete(&req->ctx, tenant_id, id, sov_request_param(req, "rule_id"), &op,
                           &err) < 0)
        return sov_api_reply_problem(req, &err);
    return reply_group(req, tenant_id, id, NULL, &op);
}
