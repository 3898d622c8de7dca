/* The SSH key check an instance create runs on each key (sov_ssh_key_check): public keys of
 * the usual types pass, with or without a comment; private keys, empty or oversized keys,
 * other text and keys of more than one line are refused on field ssh_keys, with a message
 * that says what to send instead. */
#include <stdlib.h>
#include <string.h>

#include "compute_int.h"
#include "testlib.h"

static void
accepted(const char *k)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_msg(sov_ssh_key_check(k, &err) == 0, "'%s': %s", k, err.msg);
}

static void
refused(const char *k, const char *says)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_int_eq(sov_ssh_key_check(k, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_str_eq(err.field, "ssh_keys");
    ck_assert_msg(strstr(err.msg, says), "'%s' says '%s'", k, err.msg);
}

START_TEST(public_keys_of_the_usual_types_pass)
{
    accepted("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl");
    accepted("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl "
             "alice@laptop");
    accepted("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 bob");
    accepted("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=");
    accepted("sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t yubikey");
    /* A comment is the owner's text: quotes, backslashes, braces and commas are fine (the
     * array encoder and the seed's YAML quote them). */
    accepted("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMq \"o'brien\\laptop\", {x} \xc3\xa9");
}
END_TEST

START_TEST(private_keys_are_refused_with_advice)
{
    refused("-----BEGIN OPENSSH PRIVATE KEY-----", "send only the public key");
    refused("-----BEGIN RSA PRIVATE KEY-----", "private key");
    refused("PuTTY-User-Key-File-3: ssh-ed25519", "private key");
}
END_TEST

START_TEST(empty_and_oversized_keys_are_refused)
{
    char *big = malloc(SOV_SSH_KEY_MAX + 2);

    refused("", "1 to 8192 characters");
    ck_assert_ptr_nonnull(big);
    memcpy(big, "ssh-rsa ", 8);
    memset(big + 8, 'A', SOV_SSH_KEY_MAX - 8);
    big[SOV_SSH_KEY_MAX] = '\0';
    accepted(big);                  /* exactly the maximum */
    big[SOV_SSH_KEY_MAX] = 'A';
    big[SOV_SSH_KEY_MAX + 1] = '\0';
    refused(big, "1 to 8192 characters");
    free(big);
}
END_TEST

START_TEST(other_text_is_refused)
{
    refused("AAAAC3NzaC1lZDI1NTE5AAAAIOMq", "public keys like 'ssh-ed25519 AAAA...'");
    refused("hello", "public keys like");
    refused(" ssh-ed25519 AAAA", "public keys like");
}
END_TEST

START_TEST(keys_are_one_line)
{
    refused("ssh-ed25519 AAAA one\nssh-ed25519 AAAA two", "one line");
    refused("ssh-ed25519 AAAA\r", "one line");
    refused("ssh-ed25519 AAAA\tcomment", "one line");
    refused("ssh-ed25519 AAAA del\x7f", "one line");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("compute/ssh-key");
    TCase *tc = tcase_create("ssh-key");

    tcase_add_test(tc, public_keys_of_the_usual_types_pass);
    tcase_add_test(tc, private_keys_are_refused_with_advice);
    tcase_add_test(tc, empty_and_oversized_keys_are_refused);
    tcase_add_test(tc, other_text_is_refused);
    tcase_add_test(tc, keys_are_one_line);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
