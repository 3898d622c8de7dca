/* sov_error: a reason tells failures of one code apart without reading the message; the
 * audit log's outcomes and the numbers it stores for them. */
#include <string.h>

#include "sov/audit.h"
#include "sov/error.h"
#include "testlib.h"

START_TEST(reason_is_kept_until_the_next_set)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_int_eq(err.reason, SOV_R_NONE);
    sov_error_set(&err, SOV_E_CONFLICT, "operation %s is no longer ours", "x");
    ck_assert_int_eq(sov_error_reason(&err, SOV_R_OP_LOST), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_int_eq(err.reason, SOV_R_OP_LOST);
    ck_assert_str_eq(err.msg, "operation x is no longer ours");
    /* Another failure, even with the same words, is not that one. */
    sov_error_set(&err, SOV_E_CONFLICT, "operation %s is no longer ours", "x");
    ck_assert_int_eq(err.reason, SOV_R_NONE);
    sov_error_reason(&err, SOV_R_MACHINE_TAKEN);
    sov_error_invalid(&err, "name", "bad name");
    ck_assert_int_eq(err.reason, SOV_R_NONE);
    sov_error_reason(&err, SOV_R_OP_LOST);
    sov_error_clear(&err);
    ck_assert_int_eq(err.reason, SOV_R_NONE);
    ck_assert_int_eq(sov_error_reason(NULL, SOV_R_OP_LOST), -1);
}
END_TEST

/* The audit log stores an outcome as the status its request answers, as it always has. */
START_TEST(audit_outcomes_store_their_statuses)
{
    ck_assert_int_eq(sov_audit_outcome_code(SOV_OUTCOME_OK), 200);
    ck_assert_int_eq(sov_audit_outcome_code(SOV_OUTCOME_CREATED), 201);
    ck_assert_int_eq(sov_audit_outcome_code(SOV_OUTCOME_ACCEPTED), 202);
    ck_assert_int_eq(sov_audit_outcome_code(SOV_OUTCOME_DELETED), 204);
    ck_assert_int_eq(sov_audit_outcome_code(SOV_OUTCOME__COUNT), 500);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/error");
    TCase *tc = tcase_create("error");

    tcase_add_test(tc, reason_is_kept_until_the_next_set);
    tcase_add_test(tc, audit_outcomes_store_their_statuses);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
