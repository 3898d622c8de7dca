/* The module registry: drivers chosen by URI scheme (longest prefix, the last registered
 * among equals, "" as the default), taken back, and operation kinds gathered from modules
 * with duplicates refused. Opaque tables: any address will do. */
#include <string.h>

#include "sov/registry.h"
#include "testlib.h"

static const int libvirt_table, qemu_table, wrapper_table, storage_table;

static void
setup(void)
{
    sov_registry_reset();
}

START_TEST(the_longest_scheme_prefix_wins)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_ptr_null(sov_registry_driver(SOV_DRIVER_DOMAIN, "qemu:///system"));
    ck_assert_int_eq(sov_registry_add_domain_driver("", &libvirt_table, &err), 0);
    ck_assert_int_eq(sov_registry_add_domain_driver("qemu", &qemu_table, &err), 0);
    ck_assert_ptr_eq(sov_registry_driver(SOV_DRIVER_DOMAIN, "qemu:///system"), &qemu_table);
    ck_assert_ptr_eq(sov_registry_driver(SOV_DRIVER_DOMAIN, "qemu+tls://h/system"),
                     &qemu_table);
    ck_assert_ptr_eq(sov_registry_driver(SOV_DRIVER_DOMAIN, "test:///default"),
                     &libvirt_table);
    /* The scheme ends at ':': a prefix longer than the scheme never matches. */
    ck_assert_ptr_eq(sov_registry_driver(SOV_DRIVER_DOMAIN, "qem:///x"), &libvirt_table);
    ck_assert_ptr_eq(sov_registry_driver(SOV_DRIVER_DOMAIN, "no-colon"), &libvirt_table);
    /* Kinds are separate. */
    ck_assert_ptr_null(sov_registry_driver(SOV_DRIVER_STORAGE, "qemu:///system"));
    ck_assert_int_eq(sov_registry_add_storage_driver("qemu", &storage_table, &err), 0);
    ck_assert_ptr_eq(sov_registry_driver(SOV_DRIVER_STORAGE, "qemu:///system"),
                     &storage_table);
    ck_assert_ptr_null(sov_registry_driver(SOV_DRIVER_NETWORK, "qemu:///system"));
}
END_TEST

START_TEST(a_wrapper_replaces_a_driver_until_taken_back)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_int_eq(sov_registry_add_domain_driver("qemu", &qemu_table, &err), 0);
    ck_assert_int_eq(sov_registry_add_domain_driver("qemu", &wrapper_table, &err), 0);
    ck_assert_ptr_eq(sov_registry_driver(SOV_DRIVER_DOMAIN, "qemu:///system"),
                     &wrapper_table);
    ck_assert(!sov_registry_remove_driver(SOV_DRIVER_DOMAIN, "test", &wrapper_table));
    ck_assert(sov_registry_remove_driver(SOV_DRIVER_DOMAIN, "qemu", &wrapper_table));
    ck_assert_ptr_eq(sov_registry_driver(SOV_DRIVER_DOMAIN, "qemu:///system"), &qemu_table);
    ck_assert(!sov_registry_remove_driver(SOV_DRIVER_DOMAIN, "qemu", &wrapper_table));
}
END_TEST

START_TEST(bad_registrations_are_refused)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_int_eq(sov_registry_add_domain_driver("qemu:", &qemu_table, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_int_eq(sov_registry_add_domain_driver("qemu", NULL, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_int_eq(sov_registry_add_driver(SOV_DRIVER__COUNT, "x", &qemu_table, &err), -1);
    for (int i = 0; i < SOV_REGISTRY_DRIVERS_MAX; i++)
        ck_assert_int_eq(sov_registry_add_network_driver("n", &qemu_table, &err), 0);
    ck_assert_int_eq(sov_registry_add_network_driver("n", &qemu_table, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
}
END_TEST

static int
handler(sov_op_run *run, const sov_op *op, sov_error *err)
{
    (void) run;
    (void) op;
    (void) err;
    return 0;
}

START_TEST(operation_kinds_gather_from_modules)
{
    static const sov_op_kind compute[] = {
        { "instance.create", handler, 300, NULL },
        { "host.register", handler, 120, NULL },
        { NULL, NULL, 0, NULL },
    };
    static const sov_op_kind images[] = {
        { "image.import", handler, 1800, NULL },
        { NULL, NULL, 0, NULL },
    };
    static const sov_op_kind again[] = {
        { "image.delete", handler, 300, NULL },
        { "host.register", handler, 1, NULL },
        { NULL, NULL, 0, NULL },
    };
    static const sov_op_kind twice[] = {
        { "x.y", handler, 1, NULL },
        { "x.y", handler, 1, NULL },
        { NULL, NULL, 0, NULL },
    };
    static const sov_op_kind no_handler[] = {
        { "x.z", NULL, 1, NULL },
        { NULL, NULL, 0, NULL },
    };
    sov_error err = SOV_ERROR_INIT;
    const sov_op_kind *k;

    ck_assert_ptr_null(sov_registry_op_kinds()[0].kind);
    ck_assert_int_eq(sov_registry_add_op_kinds(compute, &err), 0);
    ck_assert_int_eq(sov_registry_add_op_kinds(images, &err), 0);
    /* A kind registered twice is refused, and nothing of its table is added. */
    ck_assert_int_eq(sov_registry_add_op_kinds(again, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_msg(strstr(err.msg, "host.register"), "msg: %s", err.msg);
    ck_assert_int_eq(sov_registry_add_op_kinds(twice, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_int_eq(sov_registry_add_op_kinds(no_handler, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    k = sov_registry_op_kinds();
    ck_assert_str_eq(k[0].kind, "instance.create");
    ck_assert_str_eq(k[1].kind, "host.register");
    ck_assert_str_eq(k[2].kind, "image.import");
    ck_assert_uint_eq(k[2].step_timeout_s, 1800);
    ck_assert_ptr_null(k[3].kind);
}
END_TEST

static long long
one(const void *x)
{
    (void) x;
    return 1;
}

START_TEST(quota_uses_add_up_across_modules)
{
    static const sov_quota_use compute[] = {
        { "instance", 0, one, false },
        { "instance", 1, one, true },
    };
    static const sov_quota_use storage[] = {
        { "instance", 4, one, false },      /* a later module's kind for the same resource */
        { "volume", 4, one, false },
    };
    static const sov_quota_use twice[] = {
        { "instance", 1, one, false },
    };
    static const sov_quota_use no_amount[] = {
        { "instance", 7, NULL, false },
    };
    sov_error err = SOV_ERROR_INIT;
    const sov_quota_use *u;
    size_t n;

    u = sov_registry_quota_uses(&n);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(sov_registry_add_quota_uses(compute, 2, &err), 0);
    ck_assert_int_eq(sov_registry_add_quota_uses(storage, 2, &err), 0);
    ck_assert_int_eq(sov_registry_add_quota_uses(twice, 1, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_int_eq(sov_registry_add_quota_uses(no_amount, 1, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    u = sov_registry_quota_uses(&n);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(u[0].quota, 0);
    ck_assert(u[1].skip_zero);
    ck_assert_int_eq(u[2].quota, 4);
    ck_assert_str_eq(u[3].resource_type, "volume");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/registry");
    TCase *tc = tcase_create("registry");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, the_longest_scheme_prefix_wins);
    tcase_add_test(tc, a_wrapper_replaces_a_driver_until_taken_back);
    tcase_add_test(tc, bad_registrations_are_refused);
    tcase_add_test(tc, operation_kinds_gather_from_modules);
    tcase_add_test(tc, quota_uses_add_up_across_modules);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
