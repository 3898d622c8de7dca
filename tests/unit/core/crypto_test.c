/* The one hex encoder, and SHA-256 in hex through it. */
#include <string.h>

#include "sov/crypto.h"
#include "testlib.h"

START_TEST(hex_encode_is_lower_case_and_terminated)
{
    static const unsigned char bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
    char out[2 * sizeof(bytes) + 1];

    memset(out, 'x', sizeof(out));
    sov_hex_encode(bytes, sizeof(bytes), out);
    ck_assert_str_eq(out, "00017f80abff");
    sov_hex_encode(bytes, 0, out);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(sha256_hex_of_abc_is_the_known_digest)
{
    char out[SOV_SHA256_HEX_LEN + 1];

    sov_sha256_hex("abc", 3, out);
    ck_assert_str_eq(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("core/crypto");
    TCase *tc = tcase_create("crypto");

    tcase_add_test(tc, hex_encode_is_lower_case_and_terminated);
    tcase_add_test(tc, sha256_hex_of_abc_is_the_known_digest);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
