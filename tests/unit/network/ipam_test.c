/* network/ipam.c: IPv4 addresses and CIDRs as the API takes them (dotted quads only),
 * containment and overlap, host ranges and counts; RFC 1918's space (sov_cidr_private,
 * network/seca_routes.c: where SECA keeps a network). */
#include <check.h>
#include <string.h>

#include "network_int.h"
#include "testlib.h"

static uint32_t
ip(const char *s)
{
    uint32_t a = 0;

    ck_assert_msg(sov_ipv4_parse(s, &a) == 0, "%s does not parse", s);
    return a;
}

static sov_ipv4_net
net(const char *s)
{
    sov_ipv4_net n;

    ck_assert_msg(sov_cidr_parse(s, true, &n) == 0, "%s does not parse", s);
    return n;
}

START_TEST(dotted_quads_only)
{
    static const char *const bad[] = { "", "10", "10.1", "10.0.0", "10.0.0.0.0", "10.0.0.256",
                                       "010.0.0.1", "10.0.0.01", " 10.0.0.1", "10.0.0.1 ",
                                       "10.0.0.-1", "10..0.1", "a.b.c.d", "10.0.0.1/32",
                                       "1000.0.0.1", "::1" };
    uint32_t a;
    char out[SOV_IP_MAX];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(sov_ipv4_parse(bad[i], &a) < 0, "'%s' parsed", bad[i]);
    ck_assert_int_eq(sov_ipv4_parse(NULL, &a), -1);
    ck_assert_uint_eq(ip("0.0.0.0"), 0);
    ck_assert_uint_eq(ip("255.255.255.255"), 0xffffffffu);
    ck_assert_uint_eq(ip("10.1.2.3"), 0x0a010203u);
    sov_ipv4_format(0xc0a80001u, out);
    ck_assert_str_eq(out, "192.168.0.1");
    sov_ipv4_format(0xffffffffu, out);
    ck_assert_str_eq(out, "255.255.255.255");
}
END_TEST

START_TEST(cidrs_strict_and_lenient)
{
    static const char *const bad[] = { "10.0.0.0", "10.0.0.0/", "/24", "10.0.0.0/33",
                                       "10.0.0.0/024", "10.0.0.0/2a", "10.0.0/24",
                                       "10.0.0.0/24/1", "10.0.0.0/-1", "10.0.0.0/100" };
    sov_ipv4_net n;
    char out[SOV_CIDR_MAX];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(sov_cidr_parse(bad[i], false, &n) < 0, "'%s' parsed", bad[i]);
    ck_assert_int_eq(sov_cidr_parse(NULL, false, &n), -1);
    /* Host bits: strict refuses, lenient clears them (what the 400 suggests). */
    ck_assert_int_eq(sov_cidr_parse("10.1.2.3/16", true, &n), -1);
    ck_assert_int_eq(sov_cidr_parse("10.1.2.3/16", false, &n), 0);
    sov_cidr_format(&n, out);
    ck_assert_str_eq(out, "10.1.0.0/16");
    n = net("0.0.0.0/0");
    ck_assert_uint_eq(n.prefix, 0);
    n = net("10.0.0.7/32");
    ck_assert_uint_eq(n.prefix, 32);
    ck_assert_uint_eq(sov_ipv4_mask(0), 0);
    ck_assert_uint_eq(sov_ipv4_mask(24), 0xffffff00u);
    ck_assert_uint_eq(sov_ipv4_mask(32), 0xffffffffu);
}
END_TEST

START_TEST(within_and_overlap)
{
    sov_ipv4_net n16 = net("10.1.0.0/16"), a = net("10.1.1.0/24"), b = net("10.1.1.128/25");
    sov_ipv4_net c = net("10.1.2.0/24"), out = net("10.2.0.0/24");

    ck_assert(sov_cidr_within(&n16, &a));
    ck_assert(sov_cidr_within(&n16, &n16));
    ck_assert(!sov_cidr_within(&a, &n16));
    ck_assert(!sov_cidr_within(&n16, &out));
    ck_assert(sov_cidr_overlaps(&a, &b));
    ck_assert(sov_cidr_overlaps(&b, &a));
    ck_assert(sov_cidr_overlaps(&n16, &c));
    ck_assert(!sov_cidr_overlaps(&a, &c));
    ck_assert(!sov_cidr_overlaps(&b, &c));
    ck_assert(sov_cidr_has(&a, ip("10.1.1.255")));
    ck_assert(!sov_cidr_has(&a, ip("10.1.2.0")));
}
END_TEST

START_TEST(host_addresses_and_counts)
{
    sov_ipv4_net n29 = net("10.1.9.0/29"), n16 = net("10.1.0.0/16"), n31 = net("10.0.0.0/31");

    ck_assert_uint_eq(sov_cidr_broadcast(&n29), ip("10.1.9.7"));
    ck_assert(!sov_cidr_is_host(&n29, ip("10.1.9.0")));
    ck_assert(sov_cidr_is_host(&n29, ip("10.1.9.1")));
    ck_assert(sov_cidr_is_host(&n29, ip("10.1.9.6")));
    ck_assert(!sov_cidr_is_host(&n29, ip("10.1.9.7")));
    ck_assert(!sov_cidr_is_host(&n29, ip("10.1.9.8")));
    ck_assert_int_eq(sov_cidr_hosts(&n29), 6);
    ck_assert_int_eq(sov_cidr_hosts(&n16), 65534);
    ck_assert_int_eq(sov_cidr_hosts(&n31), 2);
    ck_assert(sov_cidr_is_host(&n31, ip("10.0.0.0")));
}
END_TEST

/* Inside one of 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, up to their edges; nothing
 * beside them, wider than them, or not a CIDR. */
START_TEST(private_space_is_rfc1918)
{
    static const char *const yes[] = { "10.0.0.0/8", "10.255.255.0/24", "172.16.0.0/12",
                                       "172.31.255.0/24", "192.168.0.0/16", "192.168.7.0/24",
                                       "10.1.0.0/16" };
    static const char *const no[] = { "8.8.0.0/16", "9.255.0.0/16", "11.0.0.0/8",
                                      "10.0.0.0/7", "172.15.0.0/16", "172.32.0.0/16",
                                      "172.16.0.0/11", "192.167.0.0/16", "192.168.0.0/15",
                                      "0.0.0.0/16", "0.0.0.0/0", "", "10.0.0.0", "fd00::/8" };

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        ck_assert_msg(sov_cidr_private(yes[i]), "%s is private", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        ck_assert_msg(!sov_cidr_private(no[i]), "%s is not private", no[i]);
    ck_assert(!sov_cidr_private(NULL));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("network/ipam");
    TCase *tc = tcase_create("ipam");

    tcase_add_test(tc, dotted_quads_only);
    tcase_add_test(tc, cidrs_strict_and_lenient);
    tcase_add_test(tc, within_and_overlap);
    tcase_add_test(tc, host_addresses_and_counts);
    tcase_add_test(tc, private_space_is_rfc1918);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
