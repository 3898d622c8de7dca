/* The growable buffer: appends of any size, printf, and handing the bytes over. */
#include <stdlib.h>
#include <string.h>

#include "sov/buf.h"
#include "testlib.h"

START_TEST(appends_grow_and_stay_terminated)
{
    sov_buf b = SOV_BUF_INIT;
    size_t len = 0;
    char *p;

    for (int i = 0; i < 1000; i++)
        sov_buf_printf(&b, "%04d,", i);
    sov_buf_puts(&b, "end");
    ck_assert_uint_eq(b.len, 5000 + 3);
    ck_assert_uint_eq(strlen(b.data), b.len);
    ck_assert(strncmp(b.data, "0000,0001,", 10) == 0);
    ck_assert(!b.oom);
    p = sov_buf_steal(&b, &len);
    ck_assert_uint_eq(len, 5003);
    ck_assert_ptr_null(b.data);
    free(p);
}
END_TEST

START_TEST(steal_of_empty_gives_empty_string)
{
    sov_buf b = SOV_BUF_INIT;
    size_t len = 9;
    char *p = sov_buf_steal(&b, &len);

    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(p, "");
    free(p);
}
END_TEST

/* PostgreSQL array literals: every element quoted, '"' and '\\' escaped, NULL as NULL. */
START_TEST(pg_array_quotes_and_escapes_every_element)
{
    static const char *const items[] = {
        "plain", "a,b", "{braces}", "say \"hi\"", "back\\slash", "", NULL, "NULL",
        "caf\xc3\xa9 \xe2\x82\xac", "ssh-ed25519 AAAA \"me\\laptop\"",
    };
    sov_buf b = SOV_BUF_INIT;

    sov_buf_pg_array(&b, items, sizeof(items) / sizeof(items[0]));
    ck_assert_str_eq(b.data, "{\"plain\",\"a,b\",\"{braces}\",\"say \\\"hi\\\"\","
                             "\"back\\\\slash\",\"\",NULL,\"NULL\","
                             "\"caf\xc3\xa9 \xe2\x82\xac\","
                             "\"ssh-ed25519 AAAA \\\"me\\\\laptop\\\"\"}");
    ck_assert(!b.oom);
    sov_buf_release(&b);
}
END_TEST

START_TEST(pg_array_of_nothing_is_empty_braces)
{
    sov_buf b = SOV_BUF_INIT;

    sov_buf_pg_array(&b, NULL, 0);
    ck_assert_str_eq(b.data, "{}");
    sov_buf_release(&b);
}
END_TEST

START_TEST(pg_array_strided_reads_fixed_rows)
{
    char rows[3][8] = { "EU", "a\"b", "" };
    sov_buf b = SOV_BUF_INIT;

    sov_buf_pg_array_strided(&b, rows[0], 3, sizeof(rows[0]));
    ck_assert_str_eq(b.data, "{\"EU\",\"a\\\"b\",\"\"}");
    sov_buf_release(&b);
}
END_TEST

START_TEST(pg_array_format_says_when_it_was_cut)
{
    char rows[2][4] = { "ab", "c," };
    char buf[16], small[6];

    ck_assert_uint_eq(sov_pg_array_format(buf, sizeof(buf), rows[0], 2, sizeof(rows[0])), 11);
    ck_assert_str_eq(buf, "{\"ab\",\"c,\"}");
    ck_assert_uint_eq(sov_pg_array_format(small, sizeof(small), rows[0], 2, sizeof(rows[0])),
                      11);
    ck_assert_str_eq(small, "{\"ab\"");
    ck_assert_uint_eq(sov_pg_array_format(buf, sizeof(buf), rows[0], 0, sizeof(rows[0])), 2);
    ck_assert_str_eq(buf, "{}");
}
END_TEST

/* One escaper for every XML document given to libvirt: attributes use either quote. */
START_TEST(xml_escaped_replaces_the_five_specials)
{
    sov_buf b = SOV_BUF_INIT;

    sov_buf_xml_escaped(&b, "a&b<c>d'e\"f \xc3\xa9");
    ck_assert_str_eq(b.data, "a&amp;b&lt;c&gt;d&apos;e&quot;f \xc3\xa9");
    sov_buf_xml_escaped(&b, NULL);
    sov_buf_xml_escaped(&b, "");
    ck_assert_uint_eq(b.len, strlen("a&amp;b&lt;c&gt;d&apos;e&quot;f \xc3\xa9"));
    sov_buf_release(&b);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/buf");
    TCase *tc = tcase_create("buf");

    tcase_add_test(tc, appends_grow_and_stay_terminated);
    tcase_add_test(tc, steal_of_empty_gives_empty_string);
    tcase_add_test(tc, pg_array_quotes_and_escapes_every_element);
    tcase_add_test(tc, pg_array_of_nothing_is_empty_braces);
    tcase_add_test(tc, pg_array_strided_reads_fixed_rows);
    tcase_add_test(tc, pg_array_format_says_when_it_was_cut);
    tcase_add_test(tc, xml_escaped_replaces_the_five_specials);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
