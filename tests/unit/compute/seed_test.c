/* The NoCloud seed: its user-data lists the SSH keys as YAML double-quoted scalars, so a
 * key's comment may hold quotes and backslashes; the FAT image holds the same file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute_int.h"
#include "testlib.h"

START_TEST(keys_with_quotes_and_backslashes_are_escaped_in_user_data)
{
    static const char *const keys[] = {
        "ssh-ed25519 AAAAC3Nz plain@host",
        "ssh-ed25519 AAAAC3Nz \"o'brien\\laptop\", {x} \xc3\xa9",
    };
    static const char want[] =
        "#cloud-config\n"
        "ssh_authorized_keys:\n"
        "  - \"ssh-ed25519 AAAAC3Nz plain@host\"\n"
        "  - \"ssh-ed25519 AAAAC3Nz \\\"o'brien\\\\laptop\\\", {x} \xc3\xa9\"\n";
    sov_instance inst;
    sov_error err = SOV_ERROR_INIT;
    char *dir = tl_tmpdir(), img[4200], *user, *fat;
    int rc = -1;

    memset(&inst, 0, sizeof(inst));
    snprintf(inst.id, sizeof(inst.id), "%s", "0b6a2d2e-8d1c-4d55-9d1e-2f1b7c3a9e10");
    snprintf(inst.name, sizeof(inst.name), "%s", "web-q");
    ck_assert_msg(sov_seed_build(dir, &inst, NULL, keys, 2, img, sizeof(img), &err) == 0, "%s",
                  err.msg);
    user = tl_sh_out(&rc, "cat '%s/user-data'", dir);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(user, want);
    /* What the guest reads is the copy inside the FAT image. */
    fat = tl_sh_out(&rc, "MTOOLS_SKIP_CHECK=1 mtype -i '%s' ::user-data", img);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(fat, want);
    free(user);
    free(fat);
    tl_tmpdir_remove(dir);
    free(dir);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("compute/seed");
    TCase *tc = tcase_create("seed");

    tcase_add_test(tc, keys_with_quotes_and_backslashes_are_escaped_in_user_data);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
