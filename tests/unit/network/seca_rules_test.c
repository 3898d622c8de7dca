/* network/seca-rules: SECA security group rules expanded into ours (network/seca_rules.c)
 * without a database: inline rules only (named ones live in the database). Protocols x port
 * ranges x sources, one rule each, in that order; an IPv4 address as its /32; a group source
 * by name; each refusal names the JSON pointer of the SECA member; a service error about our
 * rule k is pointed back at the SECA rule it came from; at most 500 rules once expanded. */
#include <stdio.h>
#include <string.h>

#include "sov/network.h"
#include "testlib.h"

/* The edge's reading of a reference, as tests need it: "security-groups/NAME" as a string
 * or a Reference object's resource. */
static int
ref_name(void *data, const json_t *ref, const char *plural, const char *pointer, char *name,
         sov_error *err)
{
    const char *s = json_is_string(ref) ? json_string_value(ref)
                                        : json_string_value(json_object_get(ref, "resource"));
    size_t n = strlen(plural);

    (void) data;
    if (!s || strncmp(s, plural, n) != 0 || s[n] != '/')
        return sov_error_invalid(err, pointer, "%s: not a reference to %s", pointer, plural);
    snprintf(name, 129, "%s", s + n + 1);
    return 0;
}

static const sov_seca_sg_env env = { .ctx = NULL, .tenant_id = "t", .workspace = "w",
                                     .ref_name = ref_name };

/* spec (JSON text) expanded: its rules into x (released by the caller). */
static void
expanded(const char *spec, sov_seca_sg_rules *x)
{
    sov_error err = SOV_ERROR_INIT;
    json_t *j = json_loads(spec, 0, NULL);

    ck_assert_msg(j, "bad JSON: %s", spec);
    memset(x, 0, sizeof(*x));
    ck_assert_msg(sov_seca_sg_expand(&env, j, x, &err) == 0, "refused: %s (%s)", err.msg,
                  err.field);
    json_decref(j);
}

static void
refused(const char *spec, const char *pointer, const char *says)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_sg_rules x = { 0 };
    json_t *j = json_loads(spec, 0, NULL);

    ck_assert_msg(j, "bad JSON: %s", spec);
    ck_assert_int_eq(sov_seca_sg_expand(&env, j, &x, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_str_eq(err.field, pointer);
    if (says)
        ck_assert_msg(strstr(err.msg, says), "'%s' lacks '%s'", err.msg, says);
    sov_seca_sg_rules_release(&x);
    json_decref(j);
}

/* Rule i of x is direction/protocol/ports/remote ("*": none). */
static void
rule_is(const sov_seca_sg_rules *x, size_t i, const char *want)
{
    const sov_sg_rule_args *a = &x->args[i];
    char got[256];

    snprintf(got, sizeof(got), "%s/%s/%s/%s", a->direction, a->protocol,
             a->ports ? a->ports : "*",
             a->remote_cidr ? a->remote_cidr : a->remote_group ? a->remote_group : "*");
    ck_assert_msg(strcmp(got, want) == 0, "rule %zu is %s, not %s", i, got, want);
}

START_TEST(protocols_ports_and_sources_multiply)
{
    sov_seca_sg_rules x;

    expanded("{\"rules\":[{\"direction\":\"ingress\",\"protocol\":\"tcp+udp\","
             "\"ports\":{\"from\":80,\"to\":81,\"list\":[22]},\"sourceRef\":["
             "{\"resource\":\"10.0.0.0/8\"},\"192.0.2.1\","
             "{\"resource\":\"security-groups/web\"}]},"
             "{\"direction\":\"egress\"}]}", &x);
    ck_assert_int_eq(x.n, 2 * 2 * 3 + 1);
    rule_is(&x, 0, "ingress/tcp/80-81/10.0.0.0/8");
    rule_is(&x, 1, "ingress/tcp/80-81/192.0.2.1/32");
    rule_is(&x, 2, "ingress/tcp/80-81/web");
    rule_is(&x, 3, "ingress/tcp/22/10.0.0.0/8");
    rule_is(&x, 6, "ingress/udp/80-81/10.0.0.0/8");
    rule_is(&x, 11, "ingress/udp/22/web");
    rule_is(&x, 12, "egress/any/*/*");
    ck_assert_str_eq(x.args[0].description, "seca rules[0]");
    ck_assert_str_eq(x.args[12].description, "seca rules[1]");
    sov_seca_sg_rules_release(&x);

    /* A lone from or to is that one port; ICMP takes its type and code, any of them. */
    expanded("{\"rules\":[{\"direction\":\"ingress\",\"protocol\":\"udp\",\"ports\":"
             "{\"to\":53}},{\"direction\":\"ingress\",\"protocol\":\"icmp\",\"icmp\":"
             "{\"type\":8,\"code\":0}}],\"ruleRefs\":[]}", &x);
    ck_assert_int_eq(x.n, 2);
    rule_is(&x, 0, "ingress/udp/53/*");
    rule_is(&x, 1, "ingress/icmp/*/*");
    sov_seca_sg_rules_release(&x);

    /* No rules at all: none. */
    expanded("{}", &x);
    ck_assert_int_eq(x.n, 0);
    sov_seca_sg_rules_release(&x);
}
END_TEST

START_TEST(bad_rules_name_their_member)
{
    refused("[]", "/spec", NULL);
    refused("{\"colour\":1}", "/spec/colour", "colour");
    refused("{\"rules\":{}}", "/spec/rules", NULL);
    refused("{\"rules\":[{\"protocol\":\"tcp\"}]}", "/spec/rules/0/direction", NULL);
    refused("{\"rules\":[{\"direction\":\"in\"}]}", "/spec/rules/0/direction", NULL);
    refused("{\"rules\":[{\"direction\":\"ingress\",\"vlan\":1}]}", "/spec/rules/0/vlan", "vlan");
    refused("{\"rules\":[{\"direction\":\"ingress\",\"version\":\"IPv6\"}]}",
            "/spec/rules/0/version", "IPv6");
    refused("{\"rules\":[{\"direction\":\"ingress\",\"protocol\":\"sctp\"}]}",
            "/spec/rules/0/protocol", NULL);
    refused("{\"rules\":[{\"direction\":\"ingress\",\"protocol\":\"icmp\",\"ports\":"
            "{\"from\":1}}]}", "/spec/rules/0/ports", NULL);
    refused("{\"rules\":[{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"ports\":"
            "{\"from\":90,\"to\":80}}]}", "/spec/rules/0/ports/to", NULL);
    refused("{\"rules\":[{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"ports\":"
            "{\"list\":[22,0]}}]}", "/spec/rules/0/ports/list/1", NULL);
    refused("{\"rules\":[{\"direction\":\"ingress\",\"protocol\":\"tcp\",\"icmp\":"
            "{\"type\":0,\"code\":0}}]}", "/spec/rules/0/icmp", NULL);
    refused("{\"rules\":[{\"direction\":\"ingress\",\"protocol\":\"icmp\",\"icmp\":"
            "{\"type\":9,\"code\":0}}]}", "/spec/rules/0/icmp/type", NULL);
    refused("{\"rules\":[{\"direction\":\"egress\"},{\"direction\":\"ingress\",\"sourceRef\":"
            "[\"2001:db8::/32\"]}]}", "/spec/rules/1/sourceRef/0", "IPv6");
    refused("{\"rules\":[{\"direction\":\"ingress\",\"sourceRef\":[\"10.0.0.1/8\"]}]}",
            "/spec/rules/0/sourceRef", NULL);
    refused("{\"rules\":[{\"direction\":\"ingress\",\"sourceRef\":"
            "[{\"resource\":\"nics/x\"}]}]}", "/spec/rules/0/sourceRef/0", NULL);
}
END_TEST

/* 501 rules once expanded: the rule that crosses the limit is named. */
START_TEST(at_most_500_rules_once_expanded)
{
    char spec[4096];
    size_t n = 0;

    n += (size_t) snprintf(spec + n, sizeof(spec) - n, "{\"rules\":[");
    for (int r = 0; r < 6; r++) {
        n += (size_t) snprintf(spec + n, sizeof(spec) - n, "%s{\"direction\":\"ingress\","
                               "\"protocol\":\"tcp+udp\",\"ports\":{\"list\":[", r ? "," : "");
        for (int p = 0; p < 50; p++)
            n += (size_t) snprintf(spec + n, sizeof(spec) - n, "%s%d", p ? "," : "", p + 1);
        n += (size_t) snprintf(spec + n, sizeof(spec) - n, "]}}");
    }
    snprintf(spec + n, sizeof(spec) - n, "]}");
    refused(spec, "/spec/rules/5", "at most 500");
}
END_TEST

/* A service error about our rule k points at the SECA rule it came from. */
START_TEST(service_errors_point_at_the_seca_rule)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_sg_rules x;

    expanded("{\"rules\":[{\"direction\":\"egress\"},{\"direction\":\"ingress\","
             "\"protocol\":\"tcp+udp\",\"sourceRef\":[\"security-groups/gone\"]}]}", &x);
    ck_assert_int_eq(x.n, 3);
    sov_error_set(&err, SOV_E_NOT_FOUND, "security group 'gone' does not exist");
    snprintf(err.field, sizeof(err.field), "rules[2].remote_group");
    sov_seca_sg_rules_repoint(&x, &err);
    ck_assert_str_eq(err.field, "/spec/rules/1");
    snprintf(err.field, sizeof(err.field), "rules[9].remote_group");
    sov_seca_sg_rules_repoint(&x, &err);
    ck_assert_str_eq(err.field, "rules[9].remote_group");
    sov_seca_sg_rules_release(&x);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("network/seca-rules");
    TCase *tc = tcase_create("seca-rules");

    tcase_add_test(tc, protocols_ports_and_sources_multiply);
    tcase_add_test(tc, bad_rules_name_their_member);
    tcase_add_test(tc, at_most_500_rules_once_expanded);
    tcase_add_test(tc, service_errors_point_at_the_seca_rule);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
