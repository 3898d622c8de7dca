/* The keystore's pure parts: the master key file (made 0600 in a 0700 folder, its id, files
 * others may read refused), KEKs sealed with AES-256-GCM under the master key and bound to
 * their tenant, data keys wrapped with AES-256 key wrap with padding (RFC 5649) under a KEK:
 * round trips, and every wrong key, tenant or altered byte refused without a key coming out. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sov/crypto.h"
#include "storage_int.h"
#include "testlib.h"

#define TENANT_A "11111111-1111-4111-8111-111111111111"
#define TENANT_B "22222222-2222-4222-8222-222222222222"

static char *dir;

static void
setup(void)
{
    dir = tl_tmpdir();
}

static void
teardown(void)
{
    tl_tmpdir_remove(dir);
    free(dir);
}

static void
fill(unsigned char *b, size_t n, unsigned char seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char) (seed + 7 * i);
}

static bool
all_zero(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* ---- the master key file ---- */

START_TEST(master_key_is_made_private_at_first_use_and_read_back)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned char k1[SOV_KEY_LEN], k2[SOV_KEY_LEN];
    char id1[SOV_MASTER_KEY_ID_LEN + 1], id2[SOV_MASTER_KEY_ID_LEN + 1];
    char path[700], folder[600], hex[SOV_SHA256_HEX_LEN + 1];
    struct stat st;

    snprintf(folder, sizeof(folder), "%s/keystore", dir);
    snprintf(path, sizeof(path), "%s/master.key", folder);
    ck_assert_msg(sov_keystore_master_load(path, k1, id1, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(stat(folder, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0700);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_size, SOV_KEY_LEN);
    ck_assert(!all_zero(k1, sizeof(k1)));
    /* Its id is what `sha256sum master.key | cut -c1-16` shows. */
    sov_sha256_hex(k1, sizeof(k1), hex);
    ck_assert_int_eq(strlen(id1), SOV_MASTER_KEY_ID_LEN);
    ck_assert(strncmp(hex, id1, SOV_MASTER_KEY_ID_LEN) == 0);
    /* The second use reads the same key; no temporary file stays behind. */
    ck_assert_msg(sov_keystore_master_load(path, k2, id2, &err) == 0, "%s", err.msg);
    ck_assert(memcmp(k1, k2, sizeof(k1)) == 0);
    ck_assert_str_eq(id1, id2);
    char *ls = tl_sh_out(NULL, "ls -A '%s'", folder);
    ck_assert_str_eq(ls, "master.key\n");
    free(ls);
}
END_TEST

START_TEST(master_key_others_may_read_is_refused)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned char k[SOV_KEY_LEN];
    char id[SOV_MASTER_KEY_ID_LEN + 1], path[600];

    snprintf(path, sizeof(path), "%s/master.key", dir);
    ck_assert_msg(sov_keystore_master_load(path, k, id, &err) == 0, "%s", err.msg);
    static const unsigned modes[] = { 0604, 0640, 0644 };
    for (size_t i = 0; i < SOV_N_ELEMENTS(modes); i++) {
        sov_error e = SOV_ERROR_INIT;
        unsigned mode = modes[i];
        ck_assert_int_eq(chmod(path, mode), 0);
        memset(k, 0, sizeof(k));
        ck_assert_int_eq(sov_keystore_master_load(path, k, id, &e), -1);
        ck_assert_int_eq(e.code, SOV_E_INTERNAL);
        ck_assert_msg(strstr(e.msg, "may be read by others") && strstr(e.msg, "0600") &&
                      strstr(e.msg, path), "%s", e.msg);
        ck_assert(all_zero(k, sizeof(k)));
    }
    /* Put right again, it is the same key. */
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_msg(sov_keystore_master_load(path, k, id, &err) == 0, "%s", err.msg);
}
END_TEST

START_TEST(master_key_of_the_wrong_size_or_a_link_is_refused)
{
    sov_error e1 = SOV_ERROR_INIT, e2 = SOV_ERROR_INIT;
    unsigned char k[SOV_KEY_LEN];
    char id[SOV_MASTER_KEY_ID_LEN + 1], path[600], link[600];

    snprintf(path, sizeof(path), "%s/short.key", dir);
    ck_assert_int_eq(tl_sh("printf 'sixteen-bytes..!' > '%s' && chmod 600 '%s'", path, path), 0);
    ck_assert_int_eq(sov_keystore_master_load(path, k, id, &e1), -1);
    ck_assert_msg(strstr(e1.msg, "16 bytes, not 32"), "%s", e1.msg);
    /* A symbolic link could point anywhere: never followed. */
    snprintf(link, sizeof(link), "%s/link.key", dir);
    ck_assert_int_eq(symlink(path, link), 0);
    ck_assert_int_eq(sov_keystore_master_load(link, k, id, &e2), -1);
    ck_assert_int_eq(e2.code, SOV_E_INTERNAL);
}
END_TEST

#define RACERS 8

typedef struct racer {
    pthread_barrier_t *go;
    const char *path;
    unsigned char key[SOV_KEY_LEN];
    char id[SOV_MASTER_KEY_ID_LEN + 1];
    int rc;
} racer;

static void *
race(void *arg)
{
    racer *r = arg;
    sov_error err = SOV_ERROR_INIT;

    pthread_barrier_wait(r->go);
    r->rc = sov_keystore_master_load(r->path, r->key, r->id, &err);
    return NULL;
}

START_TEST(master_key_made_by_racers_at_once_is_one_key)
{
    pthread_barrier_t go;
    pthread_t t[RACERS];
    racer r[RACERS];
    char path[600];

    snprintf(path, sizeof(path), "%s/ks/master.key", dir);
    pthread_barrier_init(&go, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].go = &go;
        r[i].path = path;
        ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < RACERS; i++) {
        ck_assert_int_eq(r[i].rc, 0);
        ck_assert_str_eq(r[i].id, r[0].id);
        ck_assert(memcmp(r[i].key, r[0].key, SOV_KEY_LEN) == 0);
    }
}
END_TEST

/* ---- KEKs sealed by the master key ---- */

START_TEST(sealed_kek_opens_only_with_its_master_key_and_tenant)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned char master[SOV_KEY_LEN], other[SOV_KEY_LEN], kek[SOV_KEY_LEN], out[SOV_KEY_LEN];
    unsigned char sealed[SOV_KEK_SEALED_LEN], again[SOV_KEK_SEALED_LEN];

    fill(master, sizeof(master), 1);
    fill(other, sizeof(other), 2);
    fill(kek, sizeof(kek), 3);
    ck_assert_msg(sov_keystore_seal(master, TENANT_A, kek, sealed, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(sizeof(sealed), 60);
    /* The KEK's bytes are nowhere in the sealed form. */
    ck_assert(!memmem(sealed, sizeof(sealed), kek, 8));
    ck_assert_msg(sov_keystore_unseal(master, TENANT_A, sealed, sizeof(sealed), out, &err) == 0,
                  "%s", err.msg);
    ck_assert(memcmp(out, kek, sizeof(kek)) == 0);
    /* A fresh nonce each time: the same KEK never seals to the same bytes. */
    ck_assert_int_eq(sov_keystore_seal(master, TENANT_A, kek, again, &err), 0);
    ck_assert(memcmp(again, sealed, sizeof(sealed)) != 0);

    /* Another tenant's row, another master key, any altered byte: refused, nothing out. */
    sov_error e = SOV_ERROR_INIT;
    memset(out, 0xee, sizeof(out));
    ck_assert_int_eq(sov_keystore_unseal(master, TENANT_B, sealed, sizeof(sealed), out, &e), -1);
    ck_assert_int_eq(e.code, SOV_E_INTERNAL);
    ck_assert(all_zero(out, sizeof(out)));
    ck_assert_int_eq(sov_keystore_unseal(other, TENANT_A, sealed, sizeof(sealed), out, &e), -1);
    ck_assert(all_zero(out, sizeof(out)));
    for (size_t i = 0; i < sizeof(sealed); i++) {
        sealed[i] ^= 0x01;
        ck_assert_msg(sov_keystore_unseal(master, TENANT_A, sealed, sizeof(sealed), out, &e) ==
                      -1, "byte %zu altered and still opened", i);
        sealed[i] ^= 0x01;
    }
    ck_assert_int_eq(sov_keystore_unseal(master, TENANT_A, sealed, sizeof(sealed) - 1, out, &e),
                     -1);
}
END_TEST

/* ---- data keys wrapped by a KEK ---- */

START_TEST(data_key_wraps_to_40_bytes_and_unwraps_only_with_its_kek)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned char kek[SOV_KEY_LEN], other[SOV_KEY_LEN], key[SOV_KEY_LEN], out[SOV_KEY_LEN];
    unsigned char wrapped[SOV_WRAPPED_KEY_MAX], again[SOV_WRAPPED_KEY_MAX];
    size_t len = 0, len2 = 0;

    fill(kek, sizeof(kek), 10);
    fill(other, sizeof(other), 11);
    fill(key, sizeof(key), 12);
    ck_assert_msg(sov_keystore_wrap(kek, key, wrapped, &len, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(len, 40);     /* RFC 5649: 32 bytes and the 8-byte integrity block */
    ck_assert(!memmem(wrapped, len, key, 8));
    ck_assert_msg(sov_keystore_unwrap_with(kek, wrapped, len, out, &err) == 0, "%s", err.msg);
    ck_assert(memcmp(out, key, sizeof(key)) == 0);
    /* Key wrap is deterministic: the same key under the same KEK wraps the same. */
    ck_assert_int_eq(sov_keystore_wrap(kek, key, again, &len2, &err), 0);
    ck_assert(len2 == len && memcmp(again, wrapped, len) == 0);

    sov_error e = SOV_ERROR_INIT;
    memset(out, 0, sizeof(out));
    ck_assert_int_eq(sov_keystore_unwrap_with(other, wrapped, len, out, &e), -1);
    ck_assert_int_eq(e.code, SOV_E_INTERNAL);
    ck_assert_str_eq(e.msg, "could not unwrap the volume's key");
    ck_assert_str_eq(e.detail, "");
    ck_assert(all_zero(out, sizeof(out)));
    for (size_t i = 0; i < len; i++) {
        wrapped[i] ^= 0x80;
        ck_assert_msg(sov_keystore_unwrap_with(kek, wrapped, len, out, &e) == -1,
                      "byte %zu altered and still unwrapped", i);
        wrapped[i] ^= 0x80;
    }
    ck_assert_int_eq(sov_keystore_unwrap_with(kek, wrapped, len - 8, out, &e), -1);
    ck_assert_int_eq(sov_keystore_unwrap_with(kek, wrapped, 0, out, &e), -1);
    ck_assert(all_zero(out, sizeof(out)));
}
END_TEST

/* The residency note of an encrypted volume says where its key lives. */
START_TEST(key_note_names_region_and_country_and_is_empty_for_plain)
{
    char note[128];

    sov_storage_key_note("fr-par-1", "FR", note, sizeof(note));
    ck_assert_str_eq(note, "key in fr-par-1 (FR)");
    sov_storage_key_note("", "", note, sizeof(note));
    ck_assert_str_eq(note, "");
    sov_storage_key_note(NULL, NULL, note, sizeof(note));
    ck_assert_str_eq(note, "");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("storage/keys-crypto");
    TCase *tc = tcase_create("keys");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, master_key_is_made_private_at_first_use_and_read_back);
    tcase_add_test(tc, master_key_others_may_read_is_refused);
    tcase_add_test(tc, master_key_of_the_wrong_size_or_a_link_is_refused);
    tcase_add_test(tc, master_key_made_by_racers_at_once_is_one_key);
    tcase_add_test(tc, sealed_kek_opens_only_with_its_master_key_and_tenant);
    tcase_add_test(tc, data_key_wraps_to_40_bytes_and_unwraps_only_with_its_kek);
    tcase_add_test(tc, key_note_names_region_and_country_and_is_empty_for_plain);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
