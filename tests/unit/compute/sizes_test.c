/* A dry run's raw sizes: a flavor or sizes, not both; vcpus and memory_mib required without
 * a flavor; each in its range, checked before any is narrowed to an int. */
#include <stdlib.h>
#include <string.h>

#include "sov/compute.h"
#include "testlib.h"

static void
refused(const char *flavor, const sov_place_sizes *s, const char *field, const char *msg)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_int_eq(sov_place_sizes_check(flavor, s, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_str_eq(err.field, field);
    ck_assert_str_eq(err.msg, msg);
}

START_TEST(a_flavor_or_sizes_not_both)
{
    sov_error err = SOV_ERROR_INIT;
    sov_place_sizes none = { 0 };
    sov_place_sizes gpus = { .gpus = 1, .has_gpus = true };

    ck_assert_int_eq(sov_place_sizes_check("small", &none, &err), 0);
    refused("small", &gpus, "flavor",
            "give a flavor or sizes (vcpus, memory_mib, disk_gib, gpus), not both");
}
END_TEST

START_TEST(without_a_flavor_vcpus_and_memory_are_required_and_bounded)
{
    sov_error err = SOV_ERROR_INIT;
    sov_place_sizes s = { .vcpus = 2, .has_vcpus = true };

    refused(NULL, &s, "memory_mib", "memory_mib is required without a flavor");
    s.has_vcpus = false;
    refused(NULL, &s, "vcpus", "vcpus is required without a flavor");
    s = (sov_place_sizes) { .vcpus = 2, .memory_mib = 2048, .has_vcpus = true,
                            .has_memory_mib = true };
    ck_assert_int_eq(sov_place_sizes_check(NULL, &s, &err), 0);
    s.vcpus = (1LL << 32) + 1;  /* not read as 1 */
    refused(NULL, &s, "vcpus", "vcpus must be from 0 to 1024");
    s.vcpus = 2;
    s.disk_gib = -1;
    s.has_disk_gib = true;
    refused(NULL, &s, "disk_gib", "disk_gib must be from 0 to 1073741824");
    s.disk_gib = 10;
    s.gpus = 65;
    s.has_gpus = true;
    refused(NULL, &s, "gpus", "gpus must be from 0 to 64");
    s.gpus = 64;
    ck_assert_int_eq(sov_place_sizes_check(NULL, &s, &err), 0);
}
END_TEST

/* Instances and placements are heap objects of a few KB: the policy (4 KB) hangs off the
 * placement, the placement off the instance, and a page holds pointers. */
START_TEST(instances_hold_their_placement_and_policy_by_pointer)
{
    ck_assert_uint_lt(sizeof(sov_instance), 4096);
    ck_assert_uint_lt(sizeof(sov_placement), 2048);
    ck_assert_uint_eq(sizeof(((sov_instance_page *) NULL)->items[0]), sizeof(void *));
}
END_TEST

START_TEST(heap_instances_free_what_they_hold)
{
    sov_autoptr(sov_instance) x = sov_instance_new();
    sov_autoptr(sov_placement) lone = sov_placement_new();
    sov_instance_page *page = calloc(1, sizeof(*page));
    SOV_CLEANUP(sov_instance_release) sov_instance on_stack = { .placement = NULL };

    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_null(x->placement);
    ck_assert_ptr_nonnull(lone);
    ck_assert_ptr_null(lone->policy);
    /* An instance frees its placement, and the placement its policy. */
    ck_assert_ptr_nonnull(x->placement = sov_placement_new());
    ck_assert_ptr_nonnull(x->placement->policy = sov_policy_new());
    ck_assert_ptr_nonnull(on_stack.placement = sov_placement_new());
    sov_instance_release(&on_stack);
    ck_assert_ptr_null(on_stack.placement);
    ck_assert_ptr_nonnull(on_stack.placement = sov_placement_new());
    /* A page frees each item, then the array and itself. */
    ck_assert_ptr_nonnull(page);
    ck_assert_ptr_nonnull(page->items = calloc(3, sizeof(*page->items)));
    for (page->n = 0; page->n < 2; page->n++) {
        ck_assert_ptr_nonnull(page->items[page->n] = sov_instance_new());
        ck_assert_ptr_nonnull(page->items[page->n]->placement = sov_placement_new());
    }
    sov_instance_page_free(page);
    sov_instance_page_free(NULL);
    sov_instance_free(NULL);
    sov_placement_free(NULL);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("compute/sizes");
    TCase *tc = tcase_create("sizes");

    tcase_add_test(tc, a_flavor_or_sizes_not_both);
    tcase_add_test(tc, without_a_flavor_vcpus_and_memory_are_required_and_bounded);
    tcase_add_test(tc, instances_hold_their_placement_and_policy_by_pointer);
    tcase_add_test(tc, heap_instances_free_what_they_hold);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
