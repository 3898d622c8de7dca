/* Result columns are read by name: sov_db_cols() looks them up once per result, whatever
 * their order, and a missing one is a loud internal error naming it, not a read of another
 * column. Results are built in memory (PQmakeEmptyPGresult): no server. */
#include <string.h>

#include "sov/db.h"
#include "sov/repo/db_pq.h"
#include "testlib.h"

/* A one-row result with these columns, each row value its column's name in capitals. */
static PGresult *
result_of(const char *const *names, int n)
{
    PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc attrs[8];

    ck_assert_ptr_nonnull(r);
    ck_assert_int_le(n, 8);
    memset(attrs, 0, sizeof(attrs));
    for (int k = 0; k < n; k++) {
        attrs[k].name = (char *) names[k];
        attrs[k].typid = 25;    /* text */
        attrs[k].typlen = -1;
        attrs[k].atttypmod = -1;
    }
    ck_assert_int_eq(PQsetResultAttrs(r, n, attrs), 1);
    for (int k = 0; k < n; k++) {
        char v[64];
        size_t len = strlen(names[k]);

        for (size_t j = 0; j <= len; j++)
            v[j] = (char) (names[k][j] >= 'a' && names[k][j] <= 'z' ? names[k][j] - 32
                                                                      : names[k][j]);
        ck_assert_int_eq(PQsetvalue(r, 0, k, v, (int) len), 1);
    }
    return r;
}

START_TEST(columns_are_found_in_any_order)
{
    static const char *const have[] = { "id", "name", "created_at", "state" };
    static const char *const want[] = { "state", "id", "created_at" };
    sov_autoptr(PGresult) r = result_of(have, 4);
    sov_error err = SOV_ERROR_INIT;
    int col[3];

    ck_assert_int_eq(sov_db_cols(r, want, col, 3, &err), 0);
    ck_assert_int_eq(col[0], 3);
    ck_assert_int_eq(col[1], 0);
    ck_assert_int_eq(col[2], 2);
    ck_assert_str_eq(PQgetvalue(r, 0, col[0]), "STATE");
    ck_assert_int_eq(sov_db_cols(r, want, col, 0, &err), 0);
    /* In SELECT order, and some skipped. */
    ck_assert_int_eq(sov_db_cols(r, (const char *const[]) { "id", "created_at", "state" }, col,
                                 3, &err), 0);
    ck_assert_int_eq(col[0], 0);
    ck_assert_int_eq(col[1], 2);
    ck_assert_int_eq(col[2], 3);
}
END_TEST

START_TEST(a_missing_column_is_an_internal_error_naming_it)
{
    static const char *const have[] = { "id", "name" };
    static const char *const want[] = { "id", "updated_at" };
    sov_autoptr(PGresult) r = result_of(have, 2);
    sov_error err = SOV_ERROR_INIT;
    int col[2];

    ck_assert_int_eq(sov_db_cols(r, want, col, 2, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'updated_at'"));
}
END_TEST

typedef struct thing {
    char id[16], name[16];
} thing;

enum { T_ID, T_NAME, T__N };
static const char *const thing_cols[T__N] = { [T_ID] = "id", [T_NAME] = "name" };

static void
fill_thing(const PGresult *r, int i, const int *col, void *out)
{
    thing *t = out;

    sov_db_copy(t->id, sizeof(t->id), r, i, col[T_ID]);
    sov_db_copy(t->name, sizeof(t->name), r, i, col[T_NAME]);
}

static const sov_db_rowmap row_thing = { thing_cols, T__N, fill_thing };

START_TEST(a_row_map_fills_by_name)
{
    static const char *const have[] = { "extra", "name", "id" };
    static const char *const lacks[] = { "id", "other" };
    sov_autoptr(PGresult) r = result_of(have, 3);
    sov_autoptr(PGresult) bad = result_of(lacks, 2);
    sov_error err = SOV_ERROR_INIT;
    thing t;

    memset(&t, 0, sizeof(t));
    ck_assert_int_eq(sov_db_fill(r, 0, &row_thing, &t, &err), 0);
    ck_assert_str_eq(t.id, "ID");
    ck_assert_str_eq(t.name, "NAME");
    memset(&t, 0, sizeof(t));
    ck_assert_int_eq(sov_db_fill(bad, 0, &row_thing, &t, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'name'"));
    ck_assert_str_eq(t.id, "");     /* nothing half-filled */
}
END_TEST

START_TEST(a_row_map_over_the_limit_is_refused)
{
    static const char *const have[] = { "id" };
    static const char *const many[SOV_DB_MAX_COLS + 1] = { "id" };
    sov_autoptr(PGresult) r = result_of(have, 1);
    sov_db_rowmap map = { many, SOV_DB_MAX_COLS + 1, fill_thing };
    sov_error err = SOV_ERROR_INIT;
    thing t;

    ck_assert_int_eq(sov_db_fill(r, 0, &map, &t, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/db-cols");
    TCase *tc = tcase_create("db-cols");

    tcase_add_test(tc, columns_are_found_in_any_order);
    tcase_add_test(tc, a_missing_column_is_an_internal_error_naming_it);
    tcase_add_test(tc, a_row_map_fills_by_name);
    tcase_add_test(tc, a_row_map_over_the_limit_is_refused);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
