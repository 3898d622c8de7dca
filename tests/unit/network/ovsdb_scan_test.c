/* network/ovsdb's pure parts: the scanner that finds where each JSON text of an RFC 7047
 * stream ends (fed whole, byte by byte, or split anywhere), and the operation builders. */
#include <stdlib.h>
#include <string.h>

#include "ovsdb.h"
#include "testlib.h"

/* Feed text in pieces of step bytes (0: all at once) to one scanner, as a growing buffer
 * is fed; returns the result and the span found. */
static sov_ovsdb_scan_result
scan_in_steps(const char *text, size_t step, size_t *start, size_t *end)
{
    sov_ovsdb_scan s;
    size_t len = strlen(text);
    sov_ovsdb_scan_result r = SOV_OVSDB_SCAN_MORE;

    sov_ovsdb_scan_init(&s);
    if (step == 0)
        return sov_ovsdb_scan_feed(&s, text, len, start, end);
    for (size_t have = step; r == SOV_OVSDB_SCAN_MORE; have += step) {
        r = sov_ovsdb_scan_feed(&s, text, have < len ? have : len, start, end);
        if (have >= len)
            break;
    }
    return r;
}

START_TEST(finds_the_end_of_one_object)
{
    const char *msg = "{\"id\":1,\"result\":[\"OVN_Northbound\"],\"error\":null}";
    size_t start = 99, end = 99;

    ck_assert_int_eq(scan_in_steps(msg, 0, &start, &end), SOV_OVSDB_SCAN_DONE);
    ck_assert_uint_eq(start, 0);
    ck_assert_uint_eq(end, strlen(msg));
}
END_TEST

/* Braces and quotes inside strings, escaped quotes and backslashes, nested values. */
START_TEST(braces_inside_strings_do_not_count)
{
    const char *msg = "{\"a\":\"}{][\",\"b\":\"say \\\"}\\\" \\\\\",\"c\":[{\"d\":[]}],"
                      "\"e\":\"\\\\\"}";
    size_t start, end;

    ck_assert_int_eq(scan_in_steps(msg, 0, &start, &end), SOV_OVSDB_SCAN_DONE);
    ck_assert_uint_eq(end, strlen(msg));
}
END_TEST

/* Whatever the split, the same message is found once it is all there, and not before. */
START_TEST(any_split_finds_the_same_message)
{
    const char *msg = "  \n{\"method\":\"echo\",\"params\":[\"x}\\\"{\"],\"id\":\"echo\"}";
    size_t len = strlen(msg);

    for (size_t step = 1; step <= len; step++) {
        size_t start = 0, end = 0;
        ck_assert_int_eq(scan_in_steps(msg, step, &start, &end), SOV_OVSDB_SCAN_DONE);
        ck_assert_uint_eq(start, 3);
        ck_assert_uint_eq(end, len);
    }
    for (size_t cut = 0; cut < len; cut++) {
        sov_ovsdb_scan s;
        size_t start, end;
        sov_ovsdb_scan_init(&s);
        ck_assert_int_eq(sov_ovsdb_scan_feed(&s, msg, cut, &start, &end), SOV_OVSDB_SCAN_MORE);
    }
}
END_TEST

/* Two messages back to back: the first ends where the second begins; after the caller
 * drops the first and starts a new scan, the second is found. */
START_TEST(messages_back_to_back)
{
    const char *two = "{\"id\":1,\"result\":{}}[1,{\"x\":\"]\"}]";
    sov_ovsdb_scan s;
    size_t start, end;

    sov_ovsdb_scan_init(&s);
    ck_assert_int_eq(sov_ovsdb_scan_feed(&s, two, strlen(two), &start, &end),
                     SOV_OVSDB_SCAN_DONE);
    ck_assert_uint_eq(end, strlen("{\"id\":1,\"result\":{}}"));
    sov_ovsdb_scan_init(&s);
    const char *rest = two + end;
    ck_assert_int_eq(sov_ovsdb_scan_feed(&s, rest, strlen(rest), &start, &end),
                     SOV_OVSDB_SCAN_DONE);
    ck_assert_uint_eq(start, 0);
    ck_assert_uint_eq(end, strlen(rest));
}
END_TEST

/* Only objects and arrays start a message: anything else is refused at its first byte. */
START_TEST(other_top_level_bytes_are_bad)
{
    const char *bad[] = { "x", "\"str\"", "42", "null", "}", "]", "\x01{}", "\xff" };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t start, end;
        ck_assert_msg(scan_in_steps(bad[i], 0, &start, &end) == SOV_OVSDB_SCAN_BAD,
                      "'%s' was not refused", bad[i]);
    }
    /* Whitespace alone waits for more. */
    size_t start, end;
    ck_assert_int_eq(scan_in_steps(" \r\n\t", 0, &start, &end), SOV_OVSDB_SCAN_MORE);
}
END_TEST

/* Bytes over 0x7f inside strings are passed through to jansson, which judges UTF-8. */
START_TEST(utf8_inside_strings_passes)
{
    const char *msg = "{\"name\":\"r\xc3\xa9seau-\xe2\x82\xac\"}";
    size_t start, end;

    ck_assert_int_eq(scan_in_steps(msg, 1, &start, &end), SOV_OVSDB_SCAN_DONE);
    ck_assert_uint_eq(end, strlen(msg));
}
END_TEST

static void
assert_json(json_t *j, const char *want)
{
    char *got;

    ck_assert_ptr_nonnull(j);
    got = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    ck_assert_str_eq(got, want);
    free(got);
    json_decref(j);
}

START_TEST(builds_operations)
{
    const char *ids[] = { "sovereign:owner", "acme", NULL };

    assert_json(sov_ovsdb_op_insert("Logical_Switch",
                                    json_pack("{s:s, s:o}", "name", "net-1", "external_ids",
                                              sov_ovsdb_map_strings(ids)),
                                    "ls"),
                "{\"op\":\"insert\",\"row\":{\"external_ids\":[\"map\",[[\"sovereign:owner\","
                "\"acme\"]]],\"name\":\"net-1\"},\"table\":\"Logical_Switch\","
                "\"uuid-name\":\"ls\"}");
    assert_json(sov_ovsdb_op_update("Logical_Switch",
                                    json_pack("[o]", sov_ovsdb_cond("name", "==",
                                                                    json_string("net-1"))),
                                    json_pack("{s:s}", "name", "net-2")),
                "{\"op\":\"update\",\"row\":{\"name\":\"net-2\"},\"table\":\"Logical_Switch\","
                "\"where\":[[\"name\",\"==\",\"net-1\"]]}");
    assert_json(sov_ovsdb_op_mutate("Logical_Switch", NULL,
                                    json_pack("[o]", sov_ovsdb_cond(
                                        "ports", "insert",
                                        sov_ovsdb_set(json_pack("[o]",
                                                                sov_ovsdb_named_uuid("p1")))))),
                "{\"mutations\":[[\"ports\",\"insert\",[\"set\",[[\"named-uuid\",\"p1\"]]]]],"
                "\"op\":\"mutate\",\"table\":\"Logical_Switch\",\"where\":[]}");
    assert_json(sov_ovsdb_op_delete("Logical_Switch_Port",
                                    json_pack("[o]", sov_ovsdb_cond(
                                        "_uuid", "==",
                                        sov_ovsdb_uuid("6b0e5ed4-4dbd-4c3d-8a1f-1d2b3c4d5e6f")))),
                "{\"op\":\"delete\",\"table\":\"Logical_Switch_Port\",\"where\":[[\"_uuid\","
                "\"==\",[\"uuid\",\"6b0e5ed4-4dbd-4c3d-8a1f-1d2b3c4d5e6f\"]]]}");
    assert_json(sov_ovsdb_op_select("Logical_Switch", NULL, json_pack("[s]", "name")),
                "{\"columns\":[\"name\"],\"op\":\"select\",\"table\":\"Logical_Switch\","
                "\"where\":[]}");
    assert_json(sov_ovsdb_op_select("NB_Global", NULL, NULL),
                "{\"op\":\"select\",\"table\":\"NB_Global\",\"where\":[]}");
}
END_TEST

/* The uuid an insert got is read by its uuid-name, at the insert's index in the results. */
START_TEST(reads_named_uuid_results)
{
    sov_error err = SOV_ERROR_INIT;
    json_t *ops = json_pack("[o, o, o]",
                            sov_ovsdb_op_select("NB_Global", NULL, NULL),
                            sov_ovsdb_op_insert("Logical_Switch", NULL, "ls"),
                            sov_ovsdb_op_insert("Logical_Switch_Port", NULL, "p1"));
    json_t *results = json_pack("[{s:[]}, {s:[s, s]}, {s:[s, s]}]", "rows", "uuid", "uuid",
                                "11111111-2222-3333-4444-555555555555", "uuid", "uuid",
                                "66666666-7777-8888-9999-000000000000");
    char id[37];

    ck_assert_int_eq(sov_ovsdb_result_uuid(ops, results, "p1", id, &err), 0);
    ck_assert_str_eq(id, "66666666-7777-8888-9999-000000000000");
    ck_assert_int_eq(sov_ovsdb_result_uuid(ops, results, "ls", id, &err), 0);
    ck_assert_str_eq(id, "11111111-2222-3333-4444-555555555555");
    ck_assert_int_eq(sov_ovsdb_result_uuid(ops, results, "nope", id, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_ptr_nonnull(sov_ovsdb_result_rows(results, 0));
    ck_assert_ptr_null(sov_ovsdb_result_rows(results, 1));
    json_decref(ops);
    json_decref(results);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("network/ovsdb-scan");
    TCase *tc = tcase_create("scan");

    tcase_add_test(tc, finds_the_end_of_one_object);
    tcase_add_test(tc, braces_inside_strings_do_not_count);
    tcase_add_test(tc, any_split_finds_the_same_message);
    tcase_add_test(tc, messages_back_to_back);
    tcase_add_test(tc, other_top_level_bytes_are_bad);
    tcase_add_test(tc, utf8_inside_strings_passes);
    tcase_add_test(tc, builds_operations);
    tcase_add_test(tc, reads_named_uuid_results);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
