/* SECA label selectors (include/sov/seca.h): every operator, wildcards at the start, in the
 * middle and at the end of keys and values, missing labels, numbers, bad syntax. */
#include <stdlib.h>
#include <string.h>

#include "sov/seca.h"
#include "testlib.h"

static json_t *labels;

static void
setup(void)
{
    labels = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "env", "conformance",
                       "monitoring:alert-level", "high", "tier", "production-eu",
                       "replicas", "3", "weight", "2.5", "note", "not-a-number");
}

static void
teardown(void)
{
    json_decref(labels);
}

/* Whether text parses and matches the labels. */
static bool
m(const char *text)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_selector *s = NULL;
    bool r;

    ck_assert_msg(sov_seca_selector_parse(text, &s, &err) == 0, "'%s': %s", text, err.msg);
    ck_assert_ptr_nonnull(s);
    r = sov_seca_selector_match(s, labels);
    sov_seca_selector_free(s);
    return r;
}

static void
bad(const char *text)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_selector *s = (sov_seca_selector *) &err;

    ck_assert_msg(sov_seca_selector_parse(text, &s, &err) == -1, "'%s' parsed", text);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_str_eq(err.field, "labels");
}

START_TEST(equals_and_not_equals)
{
    ck_assert(m("env=conformance"));
    ck_assert(m("env==conformance"));
    ck_assert(!m("env=prod"));
    ck_assert(m("monitoring:alert-level=high"));
    ck_assert(!m("env!=conformance"));
    ck_assert(m("env!=prod"));
    ck_assert(m(" env = conformance "));
    /* Values are whole: no prefix or suffix match without a wildcard. */
    ck_assert(!m("env=conform"));
    ck_assert(!m("tier=production"));
}
END_TEST

START_TEST(a_missing_label_fails_all_but_not_equals)
{
    ck_assert(!m("owner=bob"));
    ck_assert(m("owner!=bob"));
    ck_assert(!m("owner>1"));
    ck_assert(!m("owner<1"));
    ck_assert(!m("owner>=1"));
    ck_assert(!m("owner<=1"));
    ck_assert(!m("owner"));
    ck_assert(m("env"));
}
END_TEST

START_TEST(wildcards_in_keys_and_values)
{
    /* The spec's example: a key containing "env" whose value contains "prod". */
    ck_assert(m("*ie*=*prod*"));
    ck_assert(m("*er*=*prod*"));
    ck_assert(!m("*env*=*prod*"));
    /* At the start, the end, the middle. */
    ck_assert(m("tier=*-eu"));
    ck_assert(m("tier=production*"));
    ck_assert(m("tier=pro*-eu"));
    ck_assert(m("tier=p*u*i*n*e*"));
    ck_assert(!m("tier=*-us"));
    ck_assert(!m("tier=us*"));
    ck_assert(!m("tier=pro*-us"));
    ck_assert(m("*:alert-level=high"));
    ck_assert(m("monitoring:*=high"));
    ck_assert(m("mon*level=h*"));
    ck_assert(!m("mon*level=low"));
    ck_assert(m("*=*"));
    ck_assert(m("en*"));
    ck_assert(!m("nothing*"));
    /* != is the opposite of =: no label with a matching key has a matching value. */
    ck_assert(!m("tier!=*-eu"));
    ck_assert(m("tier!=*-us"));
    ck_assert(!m("*!=high"));
}
END_TEST

START_TEST(numeric_comparisons)
{
    ck_assert(m("replicas>2"));
    ck_assert(!m("replicas>3"));
    ck_assert(m("replicas>=3"));
    ck_assert(!m("replicas>=4"));
    ck_assert(m("replicas<4"));
    ck_assert(!m("replicas<3"));
    ck_assert(m("replicas<=3"));
    ck_assert(!m("replicas<=2"));
    ck_assert(m("weight>2.4"));
    ck_assert(m("weight<2.6"));
    ck_assert(m("replicas>-1"));
    ck_assert(m("replicas<1e3"));
    /* Not numbers on either side: false. */
    ck_assert(!m("note>1"));
    ck_assert(!m("note<1"));
    ck_assert(!m("replicas>three"));
    ck_assert(!m("replicas<=three"));
    ck_assert(!m("env>=0"));
}
END_TEST

START_TEST(terms_are_and_ed)
{
    ck_assert(m("env=conformance,tier=*eu,replicas>=3"));
    ck_assert(!m("env=conformance,tier=*us"));
    ck_assert(!m("env=prod,replicas>=3"));
    ck_assert(m("env=conformance,owner!=bob"));
    /* An empty selector matches everything. */
    ck_assert(m(""));
    ck_assert(m(NULL));
}
END_TEST

START_TEST(labels_that_are_not_an_object_match_as_none)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_selector *s = NULL;
    json_t *odd = json_pack("{s:i}", "env", 3);

    ck_assert_int_eq(sov_seca_selector_parse("x!=y", &s, &err), 0);
    ck_assert(sov_seca_selector_match(s, NULL));
    sov_seca_selector_free(s);
    ck_assert_int_eq(sov_seca_selector_parse("env=3", &s, &err), 0);
    ck_assert(!sov_seca_selector_match(s, NULL));
    /* A label whose value is not a string equals nothing. */
    ck_assert(!sov_seca_selector_match(s, odd));
    sov_seca_selector_free(s);
    json_decref(odd);
}
END_TEST

START_TEST(bad_syntax_is_invalid_naming_labels)
{
    char *long_text = malloc(5000);

    bad(",");
    bad("env=conformance,");
    bad(",env=conformance");
    bad("env=a,,tier=b");
    bad("=value");
    bad(" =value");
    bad("!=value");
    bad(">3");
    bad("env!conformance");
    bad("env=a=b");
    bad("env=a<b");
    bad("env!=!x");
    bad("replicas>");
    bad("replicas<=");
    bad("replicas>>3");
    bad("my key=x");
    memset(long_text, 'a', 4999);
    long_text[4999] = '\0';
    bad(long_text);
    free(long_text);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/seca-selector");
    TCase *tc = tcase_create("selector");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, equals_and_not_equals);
    tcase_add_test(tc, a_missing_label_fails_all_but_not_equals);
    tcase_add_test(tc, wildcards_in_keys_and_values);
    tcase_add_test(tc, numeric_comparisons);
    tcase_add_test(tc, terms_are_and_ed);
    tcase_add_test(tc, labels_that_are_not_an_object_match_as_none);
    tcase_add_test(tc, bad_syntax_is_invalid_naming_labels);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
