/* network/secgroups: security groups and their rules through sovd's API, with a real OVN
 * Northbound (tl_ovn_start) as ovn_nb: default rules, rules checked field by field with
 * nothing written on a refusal, a remote group of another tenant (404), quotas, a group in
 * use (a port in it, another group's rule naming it) refused its delete. */
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>

#include "sec_bed.h"

static long long
groups_in_db(void)
{
    return tl_db_num(db, "SELECT count(*) FROM security_groups");
}

static long long
rules_in_db(void)
{
    return tl_db_num(db, "SELECT count(*) FROM security_group_rules");
}

/* The operation op_id is of kind, about a security group. */
static void
op_kind_is(const char *op_id, const char *kind)
{
    char *v = tl_db_value(db, "SELECT kind || ' ' || resource_type FROM operations"
                          " WHERE id = '%s'", op_id);
    char want[128];

    snprintf(want, sizeof(want), "%s security_group", kind);
    ck_assert_str_eq(v, want);
    free(v);
}

static json_t *
group_create(const tl_tenant *t, const char *body, char *id, char *op_id)
{
    json_t *g = bed_accepted("/v1/security-groups", t->token[TL_MEMBER], body,
                             "security_group", op_id);

    if (id)
        snprintf(id, 40, "%s", tl_str(g, "id"));
    return g;
}

/* No rules given: egress anywhere, ingress from the group's own members; each counts. */
START_TEST(default_rules)
{
    char id[40], path[128], op_id[40];
    json_t *g, *rules, *in, *out, *list;

    g = group_create(&acme, "{\"name\":\"web\"}", id, op_id);
    ck_assert_str_eq(tl_str(g, "name"), "web");
    ck_assert_str_eq(tl_str(g, "state"), "creating");
    ck_assert_str_eq(tl_str(g, "operation_id"), op_id);
    rules = json_object_get(g, "rules");
    ck_assert_int_eq(json_array_size(rules), 2);
    out = json_array_get(rules, 0);
    in = json_array_get(rules, 1);
    ck_assert_str_eq(tl_str(out, "direction"), "egress");
    ck_assert_str_eq(tl_str(out, "protocol"), "any");
    ck_assert_ptr_null(json_object_get(out, "ports"));
    ck_assert_ptr_null(json_object_get(out, "remote_cidr"));
    ck_assert_ptr_null(json_object_get(out, "remote_group"));
    ck_assert_str_eq(tl_str(in, "direction"), "ingress");
    ck_assert_str_eq(tl_str(json_object_get(in, "remote_group"), "id"), id);
    ck_assert_str_eq(tl_str(json_object_get(in, "remote_group"), "name"), "web");
    json_decref(g);
    ck_assert_int_eq(bed_quota_used(&acme, "security_groups"), 1);
    ck_assert_int_eq(bed_quota_used(&acme, "security_group_rules"), 2);
    op_kind_is(op_id, "security_group.create");
    /* The worker writes its port group into OVN, and the group is available. */
    bed_op_ok(op_id);
    {
        char *st = bed_state("security_groups", id), *pgs, pg[64];
        ck_assert_str_eq(st, "available");
        free(st);
        snprintf(pg, sizeof(pg), "sov_sg_%s", id);
        for (char *q = pg; *q; q++)
            if (*q == '-')
                *q = '_';
        pgs = bed_nb("--bare --columns=name list port_group");
        tl_assert_contains(pgs, pg);
        free(pgs);
    }

    /* Found by id and by name, listed; a reader sees it, globex does not. */
    snprintf(path, sizeof(path), "/v1/security-groups/%s", id);
    g = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(g, "rules")), 2);
    json_decref(g);
    g = tl_call_ok(&sovd, "GET", "/v1/security-groups/web", acme.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(g, "id"), id);
    json_decref(g);
    list = tl_call_ok(&sovd, "GET", "/v1/security-groups", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);
    bed_refused("GET", path, globex.token[TL_ADMIN], NULL, 404, "/problems/not-found", NULL,
                NULL);
    bed_refused("POST", "/v1/security-groups", acme.token[TL_READER], "{\"name\":\"x\"}", 403,
                "/problems/forbidden", NULL, NULL);
    /* One name per workspace. */
    bed_refused("POST", "/v1/security-groups", acme.token[TL_MEMBER], "{\"name\":\"web\"}",
                409, "/problems/conflict", "name", "already exists");

    /* rules: [] is no rule at all. */
    g = group_create(&acme, "{\"name\":\"closed\",\"rules\":[]}", NULL, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(g, "rules")), 0);
    json_decref(g);
    ck_assert_int_eq(bed_quota_used(&acme, "security_group_rules"), 2);
}
END_TEST

/* Each bad rule is a 400 naming rules[i].<field>, and nothing is written. */
START_TEST(rule_validation)
{
    static const struct {
        const char *rules, *field;
    } bad[] = {
        { "[{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"ports\":\"70000\"}]",
          "rules[0].ports" },
        { "[{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"ports\":\"22\"},"
          "{\"direction\":\"ingress\",\"protocol\":\"udp\",\"ports\":\"5-1\"}]",
          "rules[1].ports" },
        { "[{\"direction\":\"ingress\",\"protocol\":\"icmp\",\"ports\":\"22\"}]",
          "rules[0].ports" },
        { "[{\"direction\":\"ingress\",\"protocol\":\"any\",\"ports\":\"22\"}]",
          "rules[0].ports" },
        { "[{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"ports\":\"0\"}]",
          "rules[0].ports" },
        { "[{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"ports\":\"22-\"}]",
          "rules[0].ports" },
        { "[{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"ports\":\"a\"}]",
          "rules[0].ports" },
        { "[{\"direction\":\"ingress\",\"protocol\":\"gre\"}]", "rules[0].protocol" },
        { "[{\"direction\":\"sideways\"}]", "rules[0].direction" },
        { "[{\"protocol\":\"tcp\"}]", "rules[0].direction" },
        { "[{\"direction\":\"ingress\",\"remote_cidr\":\"10.0.0.0/8\","
          "\"remote_group\":\"web\"}]", "rules[0].remote_group" },
        { "[{\"direction\":\"ingress\",\"remote_cidr\":\"10.0.0.1/8\"}]",
          "rules[0].remote_cidr" },
        { "[{\"direction\":\"ingress\",\"remote_cidr\":\"fe80::/64\"}]",
          "rules[0].remote_cidr" },
        { "[{\"direction\":\"ingress\",\"remote_group\":\"nosuch\"}]",
          "rules[0].remote_group" },
        { "[{\"direction\":\"ingress\",\"colour\":\"red\"}]", "rules[0].colour" },
        { "[{\"direction\":\"ingress\",\"ports\":22,\"protocol\":\"tcp\"}]",
          "rules[0].ports" },
    };
    char body[512], id[40], path[160];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long status = strstr(bad[i].rules, "nosuch") ? 404 : 400;
        snprintf(body, sizeof(body), "{\"name\":\"g%zu\",\"rules\":%s}", i, bad[i].rules);
        bed_refused("POST", "/v1/security-groups", acme.token[TL_MEMBER], body, status,
                    status == 404 ? "/problems/not-found" : "/problems/invalid-request",
                    bad[i].field, NULL);
    }
    ck_assert_int_eq(groups_in_db(), 0);
    ck_assert_int_eq(rules_in_db(), 0);
    ck_assert_int_eq(bed_quota_used(&acme, "security_groups"), 0);
    ck_assert_int_eq(bed_quota_used(&acme, "security_group_rules"), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM operations WHERE resource_type ="
                               " 'security_group'"), 0);

    /* The single-rule route names the bare field, and adds nothing. */
    json_decref(group_create(&acme, "{\"name\":\"web\",\"rules\":[]}", id, NULL));
    snprintf(path, sizeof(path), "/v1/security-groups/%s/rules", id);
    bed_refused("POST", path, acme.token[TL_MEMBER],
                "{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"ports\":\"70000\"}", 400,
                "/problems/invalid-request", "ports", "70000");
    bed_refused("POST", path, acme.token[TL_MEMBER],
                "{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"ports\":\"5-1\"}", 400,
                "/problems/invalid-request", "ports", NULL);
    bed_refused("POST", path, acme.token[TL_MEMBER],
                "{\"direction\":\"egress\",\"remote_cidr\":\"10.0.0.0/8\","
                "\"remote_group\":\"web\"}", 400, "/problems/invalid-request",
                "remote_group", "not both");
    ck_assert_int_eq(rules_in_db(), 0);
    ck_assert_int_eq(bed_quota_used(&acme, "security_group_rules"), 0);
}
END_TEST

/* A rule's remote group is the tenant's: another tenant's, by id, does not exist. */
START_TEST(remote_group_of_another_tenant)
{
    char theirs[40], mine[40], body[256], path[160];
    json_t *g;

    json_decref(group_create(&globex, "{\"name\":\"secret\"}", theirs, NULL));
    snprintf(body, sizeof(body), "{\"name\":\"web\",\"rules\":[{\"direction\":\"ingress\","
             "\"remote_group\":\"%s\"}]}", theirs);
    bed_refused("POST", "/v1/security-groups", acme.token[TL_MEMBER], body, 404,
                "/problems/not-found", "rules[0].remote_group", NULL);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM security_groups WHERE tenant_id ="
                               " '%s'", acme.id), 0);

    json_decref(group_create(&acme, "{\"name\":\"web\"}", mine, NULL));
    snprintf(path, sizeof(path), "/v1/security-groups/%s/rules", mine);
    snprintf(body, sizeof(body), "{\"direction\":\"ingress\",\"remote_group\":\"%s\"}",
             theirs);
    bed_refused("POST", path, acme.token[TL_MEMBER], body, 404, "/problems/not-found",
                "remote_group", NULL);
    /* Their rules route on our group, our rules route on theirs: 404. */
    snprintf(path, sizeof(path), "/v1/security-groups/%s/rules", theirs);
    bed_refused("POST", path, acme.token[TL_MEMBER], "{\"direction\":\"ingress\"}", 404,
                "/problems/not-found", NULL, NULL);
    ck_assert_int_eq(rules_in_db(), 4);

    /* The tenant's own group, by name, is fine. */
    snprintf(path, sizeof(path), "/v1/security-groups/%s/rules", mine);
    g = bed_accepted(path, acme.token[TL_MEMBER], "{\"direction\":\"ingress\",\"protocol\":"
                     "\"tcp\",\"ports\":\"1000-2000\",\"remote_group\":\"web\"}", "rule", NULL);
    ck_assert_str_eq(tl_str(g, "ports"), "1000-2000");
    ck_assert_str_eq(tl_str(json_object_get(g, "remote_group"), "id"), mine);
    json_decref(g);
}
END_TEST

/* Rules added and removed: each moves the quota and queues security_group.update. */
START_TEST(rules_added_and_removed)
{
    char id[40], path[200], rule_id[40], op_id[40];
    json_t *j, *r;

    json_decref(group_create(&acme, "{\"name\":\"web\",\"rules\":[]}", id, NULL));
    snprintf(path, sizeof(path), "/v1/security-groups/%s/rules", id);
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], "{\"direction\":\"ingress\","
                   "\"protocol\":\"tcp\",\"ports\":\"22\",\"remote_cidr\":\"192.0.2.0/24\","
                   "\"description\":\"ssh from the office\"}", 202);
    r = json_object_get(j, "rule");
    ck_assert_str_eq(tl_str(r, "ports"), "22");
    ck_assert_str_eq(tl_str(r, "remote_cidr"), "192.0.2.0/24");
    ck_assert_str_eq(tl_str(r, "description"), "ssh from the office");
    snprintf(rule_id, sizeof(rule_id), "%s", tl_str(r, "id"));
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    ck_assert_int_eq(json_array_size(json_object_get(json_object_get(j, "security_group"),
                                                     "rules")), 1);
    json_decref(j);
    op_kind_is(op_id, "security_group.update");
    bed_op_ok(op_id);
    ck_assert_int_eq(bed_quota_used(&acme, "security_group_rules"), 1);
    ck_assert_int_eq(tl_db_num(db, "SELECT port_min * 100000 + port_max FROM"
                               " security_group_rules WHERE id = '%s'", rule_id),
                     22 * 100000 + 22);

    snprintf(path, sizeof(path), "/v1/security-groups/%s/rules/%s", id, rule_id);
    j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    ck_assert_int_eq(json_array_size(json_object_get(json_object_get(j, "security_group"),
                                                     "rules")), 0);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    op_kind_is(op_id, "security_group.update");
    bed_op_ok(op_id);
    ck_assert_int_eq(bed_quota_used(&acme, "security_group_rules"), 0);
    ck_assert_int_eq(rules_in_db(), 0);
    bed_refused("DELETE", path, acme.token[TL_MEMBER], NULL, 404, "/problems/not-found", NULL,
                NULL);
    /* globex cannot remove acme's rules. */
    bed_refused("DELETE", path, globex.token[TL_ADMIN], NULL, 404, "/problems/not-found", NULL,
                NULL);
}
END_TEST

/* Over the quotas: the group's rules count, default ones too; nothing half-written. */
START_TEST(quotas)
{
    char id[40], path[200];

    bed_quota_set(&acme, "security_group_rules", 3);
    bed_quota_set(&acme, "security_groups", 2);
    json_decref(group_create(&acme, "{\"name\":\"a\"}", id, NULL));
    bed_refused("POST", "/v1/security-groups", acme.token[TL_MEMBER], "{\"name\":\"b\"}", 403,
                "/problems/quota-exceeded", NULL, "security_group_rules");
    snprintf(path, sizeof(path), "/v1/security-groups/%s/rules", id);
    json_decref(bed_accepted(path, acme.token[TL_MEMBER], "{\"direction\":\"ingress\","
                             "\"protocol\":\"icmp\"}", "rule", NULL));
    bed_refused("POST", path, acme.token[TL_MEMBER], "{\"direction\":\"ingress\","
                "\"protocol\":\"udp\"}", 403, "/problems/quota-exceeded", NULL, NULL);
    ck_assert_int_eq(rules_in_db(), 3);
    json_decref(group_create(&acme, "{\"name\":\"b\",\"rules\":[]}", NULL, NULL));
    bed_refused("POST", "/v1/security-groups", acme.token[TL_MEMBER],
                "{\"name\":\"c\",\"rules\":[]}", 403, "/problems/quota-exceeded", NULL,
                "security_groups");
    ck_assert_int_eq(groups_in_db(), 2);
    ck_assert_int_eq(bed_quota_used(&acme, "security_groups"), 2);
    ck_assert_int_eq(bed_quota_used(&acme, "security_group_rules"), 3);
}
END_TEST

/* A group that ports use, or that another group's rule names, is not deleted (409 naming
 * them); once free, its delete queues security_group.delete. */
START_TEST(delete_refused_while_used)
{
    char a[40], b[40], net[40], port[40], path[200], op_id[40], *st;
    json_t *j, *blocked;
    tl_resp r;

    json_decref(group_create(&acme, "{\"name\":\"db\"}", a, NULL));
    json_decref(group_create(&acme, "{\"name\":\"app\",\"rules\":[{\"direction\":\"egress\","
                             "\"protocol\":\"tcp\",\"ports\":\"5432\",\"remote_group\":\"db\"}]}",
                             b, NULL));
    bed_network(&acme, "net1", REGION, net);
    bed_port(&acme, net, "p1", "10.0.0.5", port);
    free(tl_db_value(db, "INSERT INTO port_security_groups VALUES ('%s', '%s') RETURNING 1",
                     port, a));

    snprintf(path, sizeof(path), "/v1/security-groups/%s", a);
    tl_call(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_assert_contains(r.body, "p1");
    tl_assert_contains(r.body, "app");
    blocked = json_object_get(r.json, "blocked_by");
    ck_assert_int_eq(json_array_size(blocked), 2);
    tl_resp_free(&r);

    /* The port leaves the group (part "net"'s sov_repo_port_set_groups, here by SQL): the
     * other group's rule still holds it. */
    free(tl_db_value(db, "DELETE FROM port_security_groups WHERE port_id = '%s' RETURNING 1",
                     port));
    bed_refused("DELETE", path, acme.token[TL_MEMBER], NULL, 409, "/problems/conflict", NULL,
                "app");
    /* That group goes (its worker gives back its quota), then this one can. */
    snprintf(path, sizeof(path), "/v1/security-groups/%s", b);
    j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    bed_op_ok(op_id);
    st = bed_state("security_groups", b);
    ck_assert_str_eq(st, "deleted");
    free(st);
    ck_assert_int_eq(bed_quota_used(&acme, "security_groups"), 1);
    ck_assert_int_eq(bed_quota_used(&acme, "security_group_rules"), 2);

    snprintf(path, sizeof(path), "/v1/security-groups/%s", a);
    j = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    op_kind_is(op_id, "security_group.delete");
    /* Again: the same operation while it runs, 404 once it is done. */
    tl_call(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, &r);
    if (r.status == 202)
        ck_assert_str_eq(tl_str(json_object_get(r.json, "operation"), "id"), op_id);
    else
        tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    bed_op_ok(op_id);
    ck_assert_int_eq(bed_quota_used(&acme, "security_groups"), 0);
    ck_assert_int_eq(bed_quota_used(&acme, "security_group_rules"), 0);
    bed_refused("GET", path, acme.token[TL_READER], NULL, 404, "/problems/not-found", NULL,
                NULL);
}
END_TEST

/* A sovd without ovn_nb (on the same database) has no tenant networks: every write of
 * part "sec" answers 503 saying so, and writes nothing; reads still answer. */
START_TEST(without_ovn_writes_are_unavailable)
{
    static const struct {
        const char *method, *path, *body;
    } writes[] = {
        { "POST", "/v1/security-groups", "{\"name\":\"web\"}" },
        { "POST", "/v1/routers", "{\"name\":\"gw\",\"network\":\"net1\"}" },
        { "POST", "/v1/public-ips", "{\"name\":\"ip\"}" },
        { "DELETE", "/v1/security-groups/old", NULL },
        { "POST", "/v1/security-groups/old/rules", "{\"direction\":\"ingress\"}" },
    };
    const char *args[] = { "--role=api", NULL };
    tl_sovd plain;
    tl_resp r;
    int rc;

    /* A group made while OVN was there. */
    json_decref(group_create(&acme, "{\"name\":\"old\"}", NULL, NULL));
    memset(&plain, 0, sizeof(plain));
    tl_sovd_start(&plain, db, args);
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        tl_call(&plain, writes[i].method, writes[i].path, acme.token[TL_MEMBER], writes[i].body,
                &r);
        tl_assert_problem(&r, 503, "/problems/unavailable");
        tl_assert_contains(r.body, "ovn_nb is not configured");
        tl_resp_free(&r);
    }
    tl_call(&plain, "GET", "/v1/security-groups", acme.token[TL_READER], NULL, &r);
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);
    rc = tl_sovd_stop_clean(&plain, 30);
    tl_sovd_discard(&plain);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(groups_in_db(), 1);
    ck_assert_int_eq(rules_in_db(), 2);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM security_groups WHERE state IN"
                               " ('deleting', 'deleted')"), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM public_ips"), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM routers"), 0);
}
END_TEST

static Suite *
suite(void)
{
    Suite *s = suite_create("network/secgroups");
    TCase *tc = tcase_create("secgroups");

    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, bed_setup, bed_teardown);
    tcase_add_test(tc, default_rules);
    tcase_add_test(tc, rule_validation);
    tcase_add_test(tc, remote_group_of_another_tenant);
    tcase_add_test(tc, rules_added_and_removed);
    tcase_add_test(tc, quotas);
    tcase_add_test(tc, delete_refused_while_used);
    tcase_add_test(tc, without_ovn_writes_are_unavailable);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    return tl_run_suite(suite());
}
