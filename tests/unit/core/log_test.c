/* Logging: every line is one JSON object with time, level, msg, the request id of the
 * thread, and typed fields; hostile text stays valid JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/log.h"
#include "testlib.h"

static char *buf;
static size_t len;
static FILE *out;

static void
setup(void)
{
    out = open_memstream(&buf, &len);
    sov_log_set_stream(out);
    sov_log_set_level(SOV_LOG_DEBUG);
}

static void
teardown(void)
{
    sov_log_set_stream(NULL);
    fclose(out);
    free(buf);
}

/* Parse the only line written so far. */
static json_t *
one_line(void)
{
    json_error_t e;
    json_t *j;

    fflush(out);
    ck_assert_msg(len > 0 && buf[len - 1] == '\n', "no complete line: %s", buf);
    ck_assert_msg(memchr(buf, '\n', len) == buf + len - 1, "more than one line: %s", buf);
    j = json_loadb(buf, len, 0, &e);
    ck_assert_msg(j, "not JSON (%s): %s", e.text, buf);
    return j;
}

START_TEST(line_has_time_level_msg_and_request_id)
{
    json_t *j;

    sov_log_set_request_id("req-42");
    sov_log_info("hello %s", "world");
    j = one_line();
    ck_assert_str_eq(json_string_value(json_object_get(j, "msg")), "hello world");
    ck_assert_str_eq(json_string_value(json_object_get(j, "level")), "info");
    ck_assert_str_eq(json_string_value(json_object_get(j, "request_id")), "req-42");
    const char *t = json_string_value(json_object_get(j, "time"));
    ck_assert_msg(t && strlen(t) == 24 && t[10] == 'T' && t[23] == 'Z', "time '%s'", t);
    json_decref(j);
    sov_log_set_request_id(NULL);
}
END_TEST

START_TEST(fields_keep_their_types)
{
    json_t *j;
    sov_log_kv kv[] = { SOV_KV_S("route", "/v1/x"), SOV_KV_I("status", 404),
                        SOV_KV_F("latency_ms", 1.5) };

    sov_log_kv_write(SOV_LOG_WARN, "request", kv, 3);
    j = one_line();
    ck_assert_str_eq(json_string_value(json_object_get(j, "route")), "/v1/x");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 404);
    ck_assert(json_real_value(json_object_get(j, "latency_ms")) == 1.5);
    ck_assert_ptr_null(json_object_get(j, "request_id"));
    json_decref(j);
}
END_TEST

START_TEST(hostile_text_stays_valid_json)
{
    json_t *j;

    sov_log_error("quote \" backslash \\ newline \n tab \t bell \a bad utf8 \xff\xfe end");
    j = one_line();
    const char *msg = json_string_value(json_object_get(j, "msg"));
    ck_assert_ptr_nonnull(strstr(msg, "quote \" backslash \\ newline \n tab \t bell \a"));
    ck_assert_ptr_nonnull(strstr(msg, "\xef\xbf\xbd"));  /* U+FFFD for the bad bytes */
    json_decref(j);
}
END_TEST

START_TEST(huge_messages_are_truncated_not_broken)
{
    char *big = malloc(100000);
    json_t *j;

    memset(big, '"', 99999);
    big[99999] = '\0';
    sov_log_kv kv[] = { SOV_KV_S("huge", big), SOV_KV_I("after", 1) };
    sov_log_set_request_id("after-huge");
    sov_log_kv_write(SOV_LOG_INFO, big, kv, 2);
    sov_log_set_request_id(NULL);
    j = one_line();
    ck_assert(len <= 8192);
    ck_assert(json_is_string(json_object_get(j, "msg")));
    ck_assert(json_is_string(json_object_get(j, "huge")));
    /* The request id and later fields survive a huge message. */
    ck_assert_str_eq(json_string_value(json_object_get(j, "request_id")), "after-huge");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "after")), 1);
    json_decref(j);
    free(big);
}
END_TEST

START_TEST(levels_below_the_threshold_are_dropped)
{
    sov_log_set_level(SOV_LOG_WARN);
    sov_log_info("dropped");
    sov_log_debug("dropped");
    fflush(out);
    ck_assert_uint_eq(len, 0);
    sov_log_warn("kept");
    json_decref(one_line());
    ck_assert_int_eq(sov_log_level_parse("error"), SOV_LOG_ERROR);
    ck_assert_int_eq(sov_log_level_parse("verbose"), -1);
}
END_TEST

START_TEST(escape_never_splits_a_sequence)
{
    char small[6];

    /* "a\u0001" needs 7 bytes: only "a" fits, never half an escape. */
    ck_assert_uint_eq(sov_json_escape(small, sizeof(small), "a\x01"), 1);
    ck_assert_str_eq(small, "a");
    /* A 3-byte UTF-8 character does not fit after "abc" in 6 bytes (5 + NUL). */
    ck_assert_uint_eq(sov_json_escape(small, sizeof(small), "abc\xe2\x82\xac"), 3);
    ck_assert_str_eq(small, "abc");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/log");
    TCase *tc = tcase_create("log");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, line_has_time_level_msg_and_request_id);
    tcase_add_test(tc, fields_keep_their_types);
    tcase_add_test(tc, hostile_text_stays_valid_json);
    tcase_add_test(tc, huge_messages_are_truncated_not_broken);
    tcase_add_test(tc, levels_below_the_threshold_are_dropped);
    tcase_add_test(tc, escape_never_splits_a_sequence);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
