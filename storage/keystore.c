/* keystore.c: the keys of encrypted volumes (include/sov/storage.h's keystore section).
 *
 * Three levels, as KMSs have them. The master key is a 32-byte file of this control plane
 * (cfg keystore_master_key, 0600): it never goes to the database. Each tenant has a
 * key-encryption key (KEK): 32 random bytes, kept in tenant_keks sealed by the master key
 * (AES-256-GCM, the tenant id as associated data), made on the tenant's first encrypted
 * volume. Each volume (and snapshot) has a data key: 32 random bytes, stored in its row only
 * wrapped by the tenant's KEK (AES-256 key wrap with padding, RFC 5649). Destroying a KEK
 * (crypto-shredding) erases its sealed bytes: every data key it wrapped is unreadable, even
 * from a backup of the database taken later.
 *
 * The master key is read from its file at each use and wiped after, as is every KEK and data
 * key: no key lives longer than the call that needs it, and none is logged, answered or put
 * in an error (errors name files and tenants, never bytes). Randomness for keys comes from
 * RAND_priv_bytes, OpenSSL's generator kept apart from the public one (nonces). A process
 * that has held a key writes no core dump from then on (PR_SET_DUMPABLE 0): a dump of a
 * crash mid-unwrap would hold the key. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sov/audit.h"
#include "sov/crypto.h"
#include "sov/log.h"
#include "storage_int.h"

SOV_DEFINE_AUTOPTR(EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)

/* ---- the master key file ---- */

/* Read exactly SOV_KEY_LEN bytes of a private regular file. 1: read; 0: no such file. */
static int
master_read(const char *path, unsigned char key[SOV_KEY_LEN], sov_error *err)
{
    sov_autoclose int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    size_t got = 0;

    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not open the keystore's master key "
                             "'%s': %s", path, strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return sov_error_set(err, SOV_E_INTERNAL, "the keystore's master key '%s' is not a "
                             "regular file", path);
    if (st.st_mode & 0077)
        return sov_error_set(err, SOV_E_INTERNAL, "the keystore's master key '%s' may be read "
                             "by others (mode %04o): it must be 0600", path,
                             (unsigned) (st.st_mode & 07777));
    if (st.st_size != SOV_KEY_LEN)
        return sov_error_set(err, SOV_E_INTERNAL, "the keystore's master key '%s' is %lld "
                             "bytes, not %d", path, (long long) st.st_size, SOV_KEY_LEN);
    while (got < SOV_KEY_LEN) {
        ssize_t r = read(fd, key + got, SOV_KEY_LEN - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            explicit_bzero(key, SOV_KEY_LEN);
            return sov_error_set(err, SOV_E_INTERNAL, "could not read the keystore's master "
                                 "key '%s'", path);
        }
        got += (size_t) r;
    }
    return 1;
}

/* The folder of path and any missing folder above it, made 0700 (as mkdir -p would). */
static int
master_dir(const char *path, sov_error *err)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');

    if (!slash || slash == path)
        return 0;
    if ((size_t) (slash - path) >= sizeof(dir))
        return sov_error_set(err, SOV_E_INTERNAL, "keystore_master_key is too long");
    memcpy(dir, path, (size_t) (slash - path));
    dir[slash - path] = '\0';
    for (char *p = dir + 1;; p++) {
        bool last = *p == '\0';
        if (*p != '/' && !last)
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return sov_error_set(err, SOV_E_INTERNAL, "could not create the keystore folder "
                                 "'%s': %s", dir, strerror(errno));
        if (last)
            break;
        *p = '/';
    }
    return 0;
}

/* A new master key at path: written whole to a temporary file (O_EXCL, 0600, fsync), then
 * linked to path, which never replaces a file there: of two processes making it at once, one
 * link wins and both then read the winner's key. A crash leaves no key or a whole one. */
static int
master_make(const char *path, sov_error *err)
{
    SOV_KEY_WIPED unsigned char key[SOV_KEY_LEN];
    char tmp[4200];
    unsigned char nonce[8];
    int fd, rc = 0;
    size_t put = 0;

    if (master_dir(path, err) < 0)
        return -1;
    if (RAND_priv_bytes(key, sizeof(key)) != 1 || RAND_bytes(nonce, sizeof(nonce)) != 1)
        return sov_error_set(err, SOV_E_INTERNAL, "could not draw random bytes for the "
                             "keystore's master key");
    snprintf(tmp, sizeof(tmp), "%s.%ld.%02x%02x%02x%02x.tmp", path, (long) getpid(), nonce[0],
             nonce[1], nonce[2], nonce[3]);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not create '%s': %s", tmp,
                             strerror(errno));
    while (rc == 0 && put < sizeof(key)) {
        ssize_t w = write(fd, key + put, sizeof(key) - put);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = sov_error_set(err, SOV_E_INTERNAL, "could not write '%s': %s", tmp,
                               strerror(errno));
        else
            put += (size_t) w;
    }
    if (rc == 0 && fsync(fd) < 0)
        rc = sov_error_set(err, SOV_E_INTERNAL, "could not write '%s': %s", tmp,
                           strerror(errno));
    if (close(fd) < 0 && rc == 0)
        rc = sov_error_set(err, SOV_E_INTERNAL, "could not write '%s': %s", tmp,
                           strerror(errno));
    if (rc == 0 && link(tmp, path) < 0 && errno != EEXIST)
        rc = sov_error_set(err, SOV_E_INTERNAL, "could not create the keystore's master key "
                           "'%s': %s", path, strerror(errno));
    unlink(tmp);
    if (rc == 0) {
        char dir[4096];
        const char *slash = strrchr(path, '/');
        snprintf(dir, sizeof(dir), "%.*s", slash ? (int) (slash - path) : 1,
                 slash ? path : ".");
        int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return rc;
}

int
sov_keystore_master_load(const char *path, unsigned char key[SOV_KEY_LEN],
                         char id[SOV_MASTER_KEY_ID_LEN + 1], sov_error *err)
{
    char hex[SOV_SHA256_HEX_LEN + 1];
    int r;

    if (!path || !path[0])
        return sov_error_set(err, SOV_E_INTERNAL, "keystore_master_key is not set");
    r = master_read(path, key, err);
    if (r == 0) {
        if (master_make(path, err) < 0)
            return -1;
        sov_log_info("made the keystore's master key '%s'", path);
        r = master_read(path, key, err);
        if (r == 0)
            return sov_error_set(err, SOV_E_INTERNAL, "the keystore's master key '%s' "
                                 "vanished", path);
    }
    if (r < 0)
        return -1;
    sov_sha256_hex(key, SOV_KEY_LEN, hex);
    snprintf(id, SOV_MASTER_KEY_ID_LEN + 1, "%.*s", SOV_MASTER_KEY_ID_LEN, hex);
    return 0;
}

/* ---- sealing KEKs (AES-256-GCM) ---- */

int
sov_keystore_seal(const unsigned char master[SOV_KEY_LEN], const char *tenant_id,
                  const unsigned char kek[SOV_KEY_LEN], unsigned char out[SOV_KEK_SEALED_LEN],
                  sov_error *err)
{
    sov_autoptr(EVP_CIPHER_CTX) x = EVP_CIPHER_CTX_new();
    unsigned char *ct = out + SOV_KEK_NONCE_LEN, *tag = ct + SOV_KEY_LEN;
    int n = 0, fin = 0;

    if (RAND_bytes(out, SOV_KEK_NONCE_LEN) != 1)
        return sov_error_set(err, SOV_E_INTERNAL, "could not draw a nonce");
    if (!x || EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN, SOV_KEK_NONCE_LEN, NULL) != 1 ||
        EVP_EncryptInit_ex(x, NULL, NULL, master, out) != 1 ||
        EVP_EncryptUpdate(x, NULL, &n, (const unsigned char *) tenant_id,
                          (int) strlen(tenant_id)) != 1 ||
        EVP_EncryptUpdate(x, ct, &n, kek, SOV_KEY_LEN) != 1 || n != SOV_KEY_LEN ||
        EVP_EncryptFinal_ex(x, ct + n, &fin) != 1 || fin != 0 ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, SOV_KEK_TAG_LEN, tag) != 1) {
        explicit_bzero(out, SOV_KEK_SEALED_LEN);
        return sov_error_set(err, SOV_E_INTERNAL, "could not seal the key-encryption key");
    }
    return 0;
}

int
sov_keystore_unseal(const unsigned char master[SOV_KEY_LEN], const char *tenant_id,
                    const unsigned char *sealed, size_t len, unsigned char kek[SOV_KEY_LEN],
                    sov_error *err)
{
    sov_autoptr(EVP_CIPHER_CTX) x = EVP_CIPHER_CTX_new();
    const unsigned char *ct = sealed + SOV_KEK_NONCE_LEN, *tag = ct + SOV_KEY_LEN;
    unsigned char tagcopy[SOV_KEK_TAG_LEN];
    int n = 0, fin = 0;

    if (len != SOV_KEK_SEALED_LEN)
        return sov_error_set(err, SOV_E_INTERNAL, "could not open the key-encryption key");
    memcpy(tagcopy, tag, sizeof(tagcopy));
    if (!x || EVP_DecryptInit_ex(x, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN, SOV_KEK_NONCE_LEN, NULL) != 1 ||
        EVP_DecryptInit_ex(x, NULL, NULL, master, sealed) != 1 ||
        EVP_DecryptUpdate(x, NULL, &n, (const unsigned char *) tenant_id,
                          (int) strlen(tenant_id)) != 1 ||
        EVP_DecryptUpdate(x, kek, &n, ct, SOV_KEY_LEN) != 1 || n != SOV_KEY_LEN ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, SOV_KEK_TAG_LEN, tagcopy) != 1 ||
        EVP_DecryptFinal_ex(x, kek + n, &fin) != 1) {
        /* Decrypted bytes that failed the tag are no key: never let them out. */
        explicit_bzero(kek, SOV_KEY_LEN);
        return sov_error_set(err, SOV_E_INTERNAL, "could not open the key-encryption key");
    }
    return 0;
}

/* ---- wrapping data keys (AES-256 key wrap with padding, RFC 5649) ---- */

int
sov_keystore_wrap(const unsigned char kek[SOV_KEY_LEN], const unsigned char key[SOV_KEY_LEN],
                  unsigned char *out, size_t *len, sov_error *err)
{
    sov_autoptr(EVP_CIPHER_CTX) x = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;

    if (!x)
        return sov_error_set(err, SOV_E_INTERNAL, "could not wrap the volume's key");
    EVP_CIPHER_CTX_set_flags(x, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (EVP_EncryptInit_ex(x, EVP_aes_256_wrap_pad(), NULL, kek, NULL) != 1 ||
        EVP_EncryptUpdate(x, out, &n, key, SOV_KEY_LEN) != 1 || n <= 0 ||
        n > SOV_WRAPPED_KEY_MAX || EVP_EncryptFinal_ex(x, out + n, &fin) != 1 ||
        n + fin > SOV_WRAPPED_KEY_MAX)
        return sov_error_set(err, SOV_E_INTERNAL, "could not wrap the volume's key");
    *len = (size_t) (n + fin);
    return 0;
}

int
sov_keystore_unwrap_with(const unsigned char kek[SOV_KEY_LEN], const unsigned char *wrapped,
                         size_t len, unsigned char key[SOV_KEY_LEN], sov_error *err)
{
    sov_autoptr(EVP_CIPHER_CTX) x = EVP_CIPHER_CTX_new();
    unsigned char out[SOV_WRAPPED_KEY_MAX + 16];
    int n = 0, fin = 0, ok;

    if (!x || len < 16 || len > SOV_WRAPPED_KEY_MAX)
        return sov_error_set(err, SOV_E_INTERNAL, "could not unwrap the volume's key");
    EVP_CIPHER_CTX_set_flags(x, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    ok = EVP_DecryptInit_ex(x, EVP_aes_256_wrap_pad(), NULL, kek, NULL) == 1 &&
         EVP_DecryptUpdate(x, out, &n, wrapped, (int) len) == 1 && n >= 0 &&
         EVP_DecryptFinal_ex(x, out + n, &fin) == 1 && n + fin == SOV_KEY_LEN;
    if (ok)
        memcpy(key, out, SOV_KEY_LEN);
    explicit_bzero(out, sizeof(out));
    if (!ok)
        return sov_error_set(err, SOV_E_INTERNAL, "could not unwrap the volume's key");
    return 0;
}

/* ---- the service ---- */

/* What every use of a destroyed KEK answers. */
static int
destroyed(const sov_kek_row *k, sov_error *err)
{
    return sov_error_set(err, SOV_E_CONFLICT, "the tenant's key-encryption key was destroyed "
                         "on %.10s: its encrypted volumes cannot be read", k->destroyed_at);
}

static void
no_core_dumps(void)
{
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        sov_log_warn("could not turn core dumps off (PR_SET_DUMPABLE): a crash while a key is "
                     "in memory could write it to a core file");
}

int
sov_keystore_check(sov_dbconn *c, const char *tenant_id, sov_error *err)
{
    sov_kek_row row;
    sov_error miss = SOV_ERROR_INIT;

    if (sov_repo_kek_get(c, tenant_id, false, &row, &miss) < 0) {
        if (miss.code == SOV_E_NOT_FOUND)
            return 0;
        *err = miss;
        return -1;
    }
    explicit_bzero(row.sealed, sizeof(row.sealed));
    return row.destroyed_at[0] ? destroyed(&row, err) : 0;
}

/* The tenant's KEK, unsealed into kek, and its row (region, country); made first when the
 * tenant has none and make is set. */
static int
kek_open(sov_dbconn *c, const sov_config *cfg, const char *tenant_id, bool make,
         sov_kek_row *row, unsigned char kek[SOV_KEY_LEN], sov_error *err)
{
    SOV_KEY_WIPED unsigned char master[SOV_KEY_LEN];
    char master_id[SOV_MASTER_KEY_ID_LEN + 1];
    sov_error miss = SOV_ERROR_INIT;
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, no_core_dumps);
    if (sov_keystore_master_load(cfg->keystore_master_key, master, master_id, err) < 0)
        return -1;
    if (sov_repo_kek_get(c, tenant_id, make, row, &miss) < 0) {
        if (miss.code != SOV_E_NOT_FOUND) {
            *err = miss;
            return -1;
        }
        /* Nothing was ever wrapped by a KEK that does not exist. */
        if (!make)
            return sov_error_set(err, SOV_E_INTERNAL, "could not unwrap the volume's key");
        /* First need: a KEK of 32 random bytes, sealed, inserted unless another transaction
         * got there first; whichever row is there afterwards is the tenant's KEK. */
        SOV_KEY_WIPED unsigned char fresh[SOV_KEY_LEN];
        unsigned char sealed[SOV_KEK_SEALED_LEN];
        char region[SOV_NAME_MAX + 1], country[3];

        if (sov_repo_keystore_place(c, cfg->keystore_region, region, country, err) < 0)
            return -1;
        if (RAND_priv_bytes(fresh, sizeof(fresh)) != 1)
            return sov_error_set(err, SOV_E_INTERNAL, "could not draw a key-encryption key");
        if (sov_keystore_seal(master, tenant_id, fresh, sealed, err) < 0 ||
            sov_repo_kek_insert(c, tenant_id, sealed, sizeof(sealed), master_id, region,
                                country, err) < 0 ||
            sov_repo_kek_get(c, tenant_id, true, row, err) < 0)
            return -1;
    }
    if (row->destroyed_at[0])
        return destroyed(row, err);
    if (strcmp(row->master_key_id, master_id) != 0) {
        sov_error_set(err, SOV_E_INTERNAL, "the keystore's master key is not the one that "
                      "sealed the tenant's key-encryption key");
        return sov_error_detail(err, "keystore_master_key '%s' has id %s; tenant %s's KEK was "
                                "sealed by master key %s: every sovd of one database needs "
                                "the same master key file", cfg->keystore_master_key,
                                master_id, tenant_id, row->master_key_id);
    }
    return sov_keystore_unseal(master, tenant_id, row->sealed, row->len, kek, err);
}

int
sov_keystore_new_key(sov_dbconn *c, const sov_config *cfg, const char *tenant_id,
                     sov_wrapped_key *ret, sov_error *err)
{
    SOV_KEY_WIPED unsigned char kek[SOV_KEY_LEN];
    SOV_KEY_WIPED unsigned char key[SOV_KEY_LEN];
    sov_kek_row row;
    sov_wrapped_key out;

    memset(&out, 0, sizeof(out));
    if (kek_open(c, cfg, tenant_id, true, &row, kek, err) < 0)
        return -1;
    if (RAND_priv_bytes(key, sizeof(key)) != 1)
        return sov_error_set(err, SOV_E_INTERNAL, "could not draw a volume key");
    if (sov_keystore_wrap(kek, key, out.bytes, &out.len, err) < 0)
        return -1;
    /* The key lives where its KEK does. */
    snprintf(out.region, sizeof(out.region), "%s", row.region);
    snprintf(out.country, sizeof(out.country), "%s", row.country);
    *ret = out;
    return 0;
}

int
sov_keystore_unwrap(sov_dbconn *c, const sov_config *cfg, const char *tenant_id,
                    const unsigned char *wrapped, size_t len,
                    unsigned char key[SOV_DATA_KEY_LEN], sov_error *err)
{
    SOV_KEY_WIPED unsigned char kek[SOV_KEY_LEN];
    sov_kek_row row;

    if (kek_open(c, cfg, tenant_id, false, &row, kek, err) < 0)
        return -1;
    return sov_keystore_unwrap_with(kek, wrapped, len, key, err);
}

typedef struct destroy_args {
    sov_ctx *ctx;
    const char *tenant_id;
} destroy_args;

static int
kek_destroy_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    destroy_args *a = arg;

    if (sov_repo_kek_destroy(c, a->tenant_id, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, a->tenant_id, "kek", a->tenant_id, SOV_OUTCOME_DELETED,
                            err);
}

int
sov_tenant_kek_destroy(sov_ctx *ctx, const char *tenant_id, sov_error *err)
{
    destroy_args a = { ctx, tenant_id };

    if (!tenant_id || !sov_uuid_valid(tenant_id) || !sov_ctx_sees_tenant(ctx, tenant_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%s' does not exist",
                             tenant_id ? tenant_id : "");
    if (sov_ctx_tx(ctx, kek_destroy_tx, &a, err) < 0)
        return -1;
    sov_log_info("destroyed the key-encryption key of tenant %s: its encrypted volumes are "
                 "unreadable from now on", tenant_id);
    return 0;
}

void
sov_storage_key_note(const char *key_region, const char *key_country, char *out, size_t size)
{
    if (!key_region || !key_region[0])
        snprintf(out, size, "%s", "");
    else
        snprintf(out, size, "key in %s (%s)", key_region, key_country ? key_country : "");
}
