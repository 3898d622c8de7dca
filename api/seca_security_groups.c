/* seca_security_groups.c: SECA security groups (ours) and security group rules (SECA
 * objects of kind "security-group-rule"), seca.network part two (seca_netsec.c says what is
 * kept where). What a SECA rule means for our rules, and which groups a changed rule
 * changes, is network/seca_rules.c's: these handlers read the envelope, call it and the
 * group services, and render. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca_netsec.h"

/* ---- security group rules (SECA objects) ---- */

static int
rule_object(sov_request *req, const char *name, sov_seca_object *o, sov_error *err)
{
    memset(o, 0, sizeof(*o));
    if (sov_seca_object_get(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                            SOV_SECA_SG_RULE_OBJECT, "", name, o, err) < 0) {
        if (err->code == SOV_E_NOT_FOUND)
            sov_error_set(err, SOV_E_NOT_FOUND, "security group rule '%s' does not exist",
                          name);
        return -1;
    }
    return 0;
}

static json_t *
rule_render(sov_request *req, const sov_seca_object *o, const sov_seca_meta *m)
{
    return sov_seca_resource(req, &sov_seca_t_rule, o->workspace, NULL, o->name, o->region, m,
                             json_deep_copy(o->spec), json_object(), NULL);
}

enum MHD_Result
sov_seca_network_security_group_rules_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object o;
    json_t *body = NULL;

    if (rule_object(req, sov_seca_name(req), &o, &err) == 0)
        sov_seca_object_render(req, &sov_seca_t_rule, &o, SOV_SECA_ACTIVE, rule_render, &body,
                               &err);
    sov_seca_object_clear(&o);
    return sov_seca_answer(req, MHD_HTTP_OK, body, &err, false);
}

enum MHD_Result
sov_seca_network_security_group_rules_list(sov_request *req)
{
    return sov_seca_objects_reply(req, &sov_seca_t_rule, SOV_SECA_SG_RULE_OBJECT, NULL,
                                  rule_render);
}

/* The rule's PUT: checked, and every group naming it checked with it, before anything is
 * written; then the rule, its meta, and the groups' new rules (network/seca_rules.c). */
static int
rule_put(sov_request *req, const sov_seca_input *in, sov_seca_object *o, bool *created,
         sov_seca_meta *m, sov_error *err)
{
    sov_seca_sg_env env = sov_seca_sg_env_of(req);
    const char *name = sov_seca_name(req);
    sov_seca_object old;
    char region[65], **users = NULL;
    size_t nusers = 0;
    bool exists;
    int rc = -1;

    if (sov_seca_sg_rule_check(&env, in->spec, err) < 0)
        return -1;
    exists = rule_object(req, name, &old, err) == 0;
    if (!exists && err->code != SOV_E_NOT_FOUND)
        return -1;
    sov_error_clear(err);
    if (exists) {
        snprintf(region, sizeof(region), "%s", old.region);
        if (sov_seca_meta_check_version(&req->ctx, old.id, in->if_version, err) < 0 ||
            sov_seca_sg_rule_users(&env, name, &users, &nusers, err) < 0 ||
            sov_seca_sg_rule_changing(&env, name, in->spec, users, nusers, err) < 0)
            goto out;
    } else if (sov_seca_default_region(req, region, sizeof(region), err) < 0)
        goto out;
    if (sov_seca_side_put(req, SOV_SECA_SG_RULE_OBJECT, name, region, in->spec, err) < 0 ||
        rule_object(req, name, o, err) < 0 ||
        sov_seca_record(req, &sov_seca_t_rule, o->id, NULL,
                        exists ? SOV_SECA_UPDATED : SOV_SECA_CREATED, in, NULL, m, err) < 0 ||
        sov_seca_sg_rule_changed(&env, name, in->spec, users, nusers, err) < 0)
        goto out;
    *created = !exists;
    rc = 0;
out:
    sov_seca_sg_names_free(users, nusers);
    sov_seca_object_clear(&old);
    return rc;
}

enum MHD_Result
sov_seca_network_security_group_rules_put(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta m = { .labels = NULL };
    sov_seca_input in;
    sov_seca_object o;
    bool created = false;
    json_t *body;

    memset(&o, 0, sizeof(o));
    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        rule_put(req, &in, &o, &created, &m, &err) < 0) {
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, true);
    }
    body = rule_render(req, &o, &m);
    sov_seca_object_clear(&o);
    return sov_seca_answer(req, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, body, &err, false);
}

enum MHD_Result
sov_seca_network_security_group_rules_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_sg_env env = sov_seca_sg_env_of(req);
    sov_seca_object o;
    char **users = NULL;
    size_t nusers = 0;
    long long version;

    if (rule_object(req, sov_seca_name(req), &o, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_seca_header_version(req, &version, &err) < 0 ||
        sov_seca_meta_check_version(&req->ctx, o.id, version, &err) < 0 ||
        sov_seca_sg_rule_users(&env, o.name, &users, &nusers, &err) < 0) {
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, true);
    }
    if (nusers > 0) {
        sov_error_set(&err, SOV_E_CONFLICT, "security group rule '%s' is named by the "
                      "ruleRefs of security group '%s'%s: remove it there first", o.name,
                      users[0], nusers > 1 ? " and others" : "");
        sov_seca_sg_names_free(users, nusers);
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, true);
    }
    sov_seca_sg_names_free(users, nusers);
    if (sov_seca_object_delete(&req->ctx, o.tenant_id, o.workspace, SOV_SECA_SG_RULE_OBJECT,
                               "", o.name, &err) < 0) {
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, false);
    }
    /* Gone at once: nothing is left for the meta to describe. */
    if (sov_seca_meta_forget(&req->ctx, o.id, &err) < 0)
        sov_log_warn("could not forget the SECA meta of rule '%s': %s", o.name, err.msg);
    sov_seca_object_clear(&o);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}

/* ---- security groups ---- */

/* Group `name` of the request's workspace: its id, then the group (released by caller). */
static int
group_load(sov_request *req, const char *name, sov_security_group *g, sov_error *err)
{
    char id[SOV_UUID_LEN + 1];

    memset(g, 0, sizeof(*g));
    if (sov_security_group_resolve(&req->ctx, sov_seca_tenant_id(req),
                                   sov_seca_workspace(req), name, id, err) < 0 ||
        sov_security_group_get(&req->ctx, sov_seca_tenant_id(req), id, g, err) < 0)
        return -1;
    if (strcmp(g->workspace, sov_seca_workspace(req)) != 0 || strcmp(g->name, name) != 0) {
        sov_security_group_release(g);
        return sov_error_set(err, SOV_E_NOT_FOUND, "security group '%s' does not exist",
                             name);
    }
    return 0;
}

/* Our rule as SECA's (a group made through /v1 shows its rules this way). */
static json_t *
rule_to_seca(sov_request *req, const sov_sg_rule *r)
{
    json_t *j = json_pack("{s:s}", "direction", r->direction);

    if (strcmp(r->protocol, "any") != 0)
        json_object_set_new(j, "protocol", json_string(r->protocol));
    if (r->port_min > 0)
        json_object_set_new(j, "ports", json_pack("{s:i, s:i}", "from", r->port_min, "to",
                                                  r->port_max));
    if (r->remote_cidr[0])
        json_object_set_new(j, "sourceRef", json_pack("[{s:s}]", "resource", r->remote_cidr));
    else if (r->remote_group_id[0])
        json_object_set_new(j, "sourceRef", json_pack("[o]", sov_seca_ref_json(
                                                      req, &sov_seca_t_sg, NULL, NULL,
                                                      r->remote_group_name)));
    return j;
}

static json_t *
group_render(sov_request *req, const sov_security_group *g, const char *region,
             sov_error *err)
{
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta m = { .labels = NULL };
    sov_autoptr(json_t) side = sov_seca_side_get(req, SOV_SECA_SG_OBJECT, g->name, g->id);
    json_t *spec, *rules, *status;
    const char *state;
    size_t nrules;

    if (sov_seca_meta_get(&req->ctx, g->id, sov_seca_t_sg.kind, sov_seca_state_of(g->state),
                          g->created_at, &m, err) < 0)
        return NULL;
    if (side) {
        spec = json_deep_copy(json_object_get(side, "spec"));
        nrules = json_array_size(json_object_get(spec, "rules")) +
                 json_array_size(json_object_get(spec, "ruleRefs"));
    } else {
        json_t *list = json_array();
        for (size_t i = 0; i < g->nrules; i++)
            json_array_append_new(list, rule_to_seca(req, &g->rules[i]));
        spec = json_pack("{s:o}", "rules", list);
        nrules = g->nrules;
    }
    /* Each SECA rule is as applied as its group: the group's sync writes them together. */
    state = sov_seca_state_name(sov_seca_meta_state(&m));
    rules = json_array();
    for (size_t i = 0; i < nrules; i++)
        json_array_append_new(rules, json_pack("{s:s, s:[{s:s, s:s}]}", "state", state,
                                               "conditions", "state", state,
                                               "lastTransitionAt", m.modified_at[0]
                                                   ? m.modified_at : g->updated_at));
    status = json_pack("{s:o}", "rules", rules);
    return sov_seca_resource(req, &sov_seca_t_sg, g->workspace, NULL, g->name, region, &m,
                             spec, status, NULL);
}

static enum MHD_Result
group_reply(sov_request *req, unsigned status, const sov_security_group *g, const char *region)
{
    sov_error err = SOV_ERROR_INIT;

    return sov_seca_answer(req, status, group_render(req, g, region, &err), &err, false);
}

enum MHD_Result
sov_seca_network_security_groups_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };
    char region[65];

    if (group_load(req, sov_seca_name(req), &g, &err) < 0 ||
        sov_seca_default_region(req, region, sizeof(region), &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return group_reply(req, MHD_HTTP_OK, &g, region);
}

/* The region groups are shown in (they have none of their own): read at the first page. */
static int
group_page(sov_request *req, sov_seca_list *l, const char *after, char *next,
           size_t next_size, void *data, sov_error *err)
{
    char *region = data;
    sov_security_group_page page = { 0 };
    int rc = 0;

    if (!region[0] && sov_seca_default_region(req, region, 65, err) < 0)
        return -1;
    if (sov_security_group_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                                after, SOV_SECA_PAGE, &page, err) < 0)
        return -1;
    for (size_t i = 0; i < page.n && rc == 0; i++) {
        json_t *item = group_render(req, &page.items[i], region, err);
        if (item)
            sov_seca_list_add(l, item);
        else
            rc = -1;
    }
    snprintf(next, next_size, "%s", page.next_after);
    sov_security_group_page_release(&page);
    return rc;
}

enum MHD_Result
sov_seca_network_security_groups_list(sov_request *req)
{
    char region[65] = "";

    return sov_seca_list_walk(req, &sov_seca_t_sg, group_page, region);
}

/* The group's rules made or replaced as its spec says (network/seca_rules.c expands them). */
static int
group_put(sov_request *req, const sov_seca_input *in, char *region, sov_security_group *g,
          bool *exists, sov_op *op, sov_error *err)
{
    sov_seca_sg_env env = sov_seca_sg_env_of(req);
    sov_seca_sg_rules x = { 0 };
    int rc = -1;

    if (sov_seca_sg_expand(&env, in->spec, &x, err) < 0 ||
        sov_seca_default_region(req, region, 65, err) < 0)
        goto out;
    *exists = group_load(req, sov_seca_name(req), g, err) == 0;
    if (!*exists && err->code != SOV_E_NOT_FOUND)
        goto out;
    sov_error_clear(err);
    if (*exists) {
        char id[SOV_UUID_LEN + 1];
        snprintf(id, sizeof(id), "%s", g->id);
        sov_security_group_release(g);
        if (sov_seca_meta_check_version(&req->ctx, id, in->if_version, err) < 0)
            goto out;
        rc = sov_sg_rules_replace(&req->ctx, sov_seca_tenant_id(req), id, x.args, x.n, g, op,
                                  err);
    } else {
        sov_security_group_create_args a = {
            .workspace = sov_seca_workspace(req), .name = sov_seca_name(req), .rules = x.args,
            .nrules = x.n, .no_default_rules = x.n == 0,
        };
        rc = sov_security_group_create(&req->ctx, sov_seca_tenant_id(req), &a, g, op, err);
    }
    if (rc < 0)
        sov_seca_sg_rules_repoint(&x, err);
out:
    sov_seca_sg_rules_release(&x);
    return rc;
}

enum MHD_Result
sov_seca_network_security_groups_put(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta m = { .labels = NULL };
    sov_autoptr(json_t) side = NULL;
    sov_seca_input in;
    char region[65];
    bool exists = false;
    sov_op op;

    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        group_put(req, &in, region, &g, &exists, &op, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    side = json_pack("{s:s, s:O}", "id", g.id, "spec", in.spec);
    if (sov_seca_side_put(req, SOV_SECA_SG_OBJECT, g.name, region, side, &err) < 0 ||
        sov_seca_record(req, &sov_seca_t_sg, g.id, NULL,
                        exists ? SOV_SECA_UPDATED : SOV_SECA_CREATED, &in, op.id, &m,
                        &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return group_reply(req, exists ? MHD_HTTP_OK : MHD_HTTP_CREATED, &g, region);
}

enum MHD_Result
sov_seca_network_security_groups_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta m = { .labels = NULL };
    long long version;
    sov_op op;

    if (group_load(req, sov_seca_name(req), &g, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_seca_header_version(req, &version, &err) < 0 ||
        sov_seca_meta_check_version(&req->ctx, g.id, version, &err) < 0 ||
        sov_security_group_delete(&req->ctx, sov_seca_tenant_id(req), g.id, &op, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (sov_seca_record(req, &sov_seca_t_sg, g.id, NULL, SOV_SECA_DELETED, NULL, op.id, &m,
                        &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    sov_seca_side_forget(req, SOV_SECA_SG_OBJECT, g.name);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}
