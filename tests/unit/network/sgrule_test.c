/* network/sgrule: sov_sg_rule_parse, a security group rule's shape without a database:
 * directions, protocols, port ranges (tcp and udp only, 1 to 65535, low first), remote_cidr
 * (IPv4, host bits zero) or remote_group, never both; each refusal names its field, with the
 * prefix a create gives ("rules[2].ports"). */
#include <stdio.h>
#include <string.h>

#include "sov/network.h"
#include "testlib.h"

static sov_sg_rule_args
rule(const char *direction, const char *protocol, const char *ports)
{
    sov_sg_rule_args a = { .direction = direction, .protocol = protocol, .ports = ports };
    return a;
}

/* a is refused, naming field, with says in the message when not NULL. */
static void
refused(const sov_sg_rule_args *a, const char *prefix, const char *field, const char *says)
{
    sov_error err = SOV_ERROR_INIT;
    sov_sg_rule r;

    ck_assert_int_eq(sov_sg_rule_parse(a, prefix, &r, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_str_eq(err.field, field);
    if (says)
        ck_assert_msg(strstr(err.msg, says), "'%s' lacks '%s'", err.msg, says);
}

static sov_sg_rule
parsed(const sov_sg_rule_args *a)
{
    sov_error err = SOV_ERROR_INIT;
    sov_sg_rule r;

    ck_assert_msg(sov_sg_rule_parse(a, NULL, &r, &err) == 0, "refused: %s (%s)", err.msg,
                  err.field);
    return r;
}

START_TEST(ports_are_a_port_or_a_range_of_tcp_or_udp)
{
    sov_sg_rule_args a = rule("ingress", "tcp", "22");
    sov_sg_rule r = parsed(&a);

    ck_assert_int_eq(r.port_min, 22);
    ck_assert_int_eq(r.port_max, 22);
    a = rule("egress", "udp", "1000-2000");
    r = parsed(&a);
    ck_assert_int_eq(r.port_min, 1000);
    ck_assert_int_eq(r.port_max, 2000);
    a = rule("ingress", "tcp", "1-65535");
    r = parsed(&a);
    ck_assert_int_eq(r.port_max, 65535);
    a = rule("ingress", "tcp", "7-7");
    r = parsed(&a);
    ck_assert_int_eq(r.port_min, 7);
    a = rule("ingress", "tcp", NULL);
    r = parsed(&a);
    ck_assert_int_eq(r.port_min, 0);
    ck_assert_int_eq(r.port_max, 0);

    a = rule("ingress", "tcp", "70000");
    refused(&a, "rules[0].", "rules[0].ports", "70000");
    a = rule("ingress", "tcp", "65536");
    refused(&a, NULL, "ports", NULL);
    a = rule("ingress", "tcp", "5-1");
    refused(&a, "rules[3].", "rules[3].ports", "low port comes first");
    a = rule("ingress", "udp", "0");
    refused(&a, NULL, "ports", NULL);
    static const char *const junk[] = { "", "-", "22-", "-22", "2 2", "+22", "22-33-44",
                                        "0x16", "022222", "1-70000", "a-b", "22.5" };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        a = rule("ingress", "tcp", junk[i]);
        refused(&a, NULL, "ports", NULL);
    }
    a = rule("ingress", "icmp", "22");
    refused(&a, "rules[1].", "rules[1].ports", "tcp and udp only");
    a = rule("ingress", "any", "22");
    refused(&a, NULL, "ports", NULL);
    a = rule("ingress", NULL, "22");
    refused(&a, NULL, "ports", NULL);
}
END_TEST

START_TEST(directions_and_protocols)
{
    static const char *const protocols[] = { "tcp", "udp", "icmp", "any" };
    sov_sg_rule_args a;
    sov_sg_rule r;

    for (size_t i = 0; i < 4; i++) {
        a = rule("egress", protocols[i], NULL);
        r = parsed(&a);
        ck_assert_str_eq(r.protocol, protocols[i]);
        ck_assert_str_eq(r.direction, "egress");
    }
    a = rule("ingress", NULL, NULL);
    r = parsed(&a);
    ck_assert_str_eq(r.protocol, "any");
    a = rule("ingress", "gre", NULL);
    refused(&a, "rules[0].", "rules[0].protocol", NULL);
    a = rule("ingress", "TCP", NULL);
    refused(&a, NULL, "protocol", NULL);
    a = rule(NULL, "tcp", NULL);
    refused(&a, NULL, "direction", NULL);
    a = rule("inbound", "tcp", NULL);
    refused(&a, "rules[4].", "rules[4].direction", "ingress or egress");
}
END_TEST

START_TEST(remotes_a_cidr_or_a_group_not_both)
{
    sov_sg_rule_args a = rule("ingress", "tcp", "443");
    sov_sg_rule r;

    a.remote_cidr = "192.0.2.0/24";
    r = parsed(&a);
    ck_assert_str_eq(r.remote_cidr, "192.0.2.0/24");
    ck_assert_str_eq(r.remote_group_name, "");
    a.remote_cidr = "0.0.0.0/0";
    r = parsed(&a);
    ck_assert_str_eq(r.remote_cidr, "0.0.0.0/0");
    a.remote_cidr = "192.0.2.7/32";
    r = parsed(&a);
    ck_assert_str_eq(r.remote_cidr, "192.0.2.7/32");
    /* Strict: host bits set are refused, not cleared. */
    a.remote_cidr = "192.0.2.1/24";
    refused(&a, NULL, "remote_cidr", "host bits zero");
    a.remote_cidr = "192.0.2.0/33";
    refused(&a, "rules[0].", "rules[0].remote_cidr", NULL);
    a.remote_cidr = "2001:db8::/32";
    refused(&a, NULL, "remote_cidr", NULL);
    a.remote_cidr = "192.0.2.0";
    refused(&a, NULL, "remote_cidr", NULL);

    a.remote_cidr = NULL;
    a.remote_group = "web";
    r = parsed(&a);
    ck_assert_str_eq(r.remote_group_name, "web");
    ck_assert_str_eq(r.remote_group_id, "");
    a.remote_cidr = "10.0.0.0/8";
    refused(&a, "rules[2].", "rules[2].remote_group", "not both");
    a.remote_cidr = NULL;
    a.remote_group = "";
    refused(&a, NULL, "remote_group", NULL);
}
END_TEST

START_TEST(descriptions)
{
    sov_sg_rule_args a = rule("ingress", "icmp", NULL);
    char long_text[300];
    sov_sg_rule r;

    a.description = "ping from anywhere";
    r = parsed(&a);
    ck_assert_str_eq(r.description, "ping from anywhere");
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    a.description = long_text;
    refused(&a, NULL, "description", NULL);
    a.description = "line\nbreak";
    refused(&a, NULL, "description", "control character");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("network/sgrule");
    TCase *tc = tcase_create("sgrule");

    tcase_add_test(tc, ports_are_a_port_or_a_range_of_tcp_or_udp);
    tcase_add_test(tc, directions_and_protocols);
    tcase_add_test(tc, remotes_a_cidr_or_a_group_not_both);
    tcase_add_test(tc, descriptions);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
