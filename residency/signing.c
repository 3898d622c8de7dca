/* signing.c: the control plane's Ed25519 key, which signs residency reports.
 *
 * The private half lives in one file per key, <state_dir>/signing/<key_id>.pem (PKCS#8 PEM,
 * mode 0600, in a 0700 folder), written atomically (a temporary file, fsync, rename, fsync of
 * the folder), and nothing reads it but this file: it never goes to the database, the log or
 * a reply. The public half of every key ever used is published in signing_keys, so a report
 * still verifies after its key was rotated away, by any sovd. A key's id is the first 16 hex
 * digits of the SHA-256 of its public key in DER (SubjectPublicKeyInfo), so anyone holding
 * the PEM can check the id too.
 *
 * Each sovd signs with the newest key its own state folder holds; rotation replaces that key
 * for this process only (other sovds keep theirs). Documents hold their key by reference
 * (sov_signer), so a rotation midway through a build cannot change the key that signs it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_repo.h"
#include "sov/audit.h"
#include "sov/buf.h"
#include "sov/crypto.h"
#include "sov/log.h"

SOV_DEFINE_AUTOPTR(EVP_PKEY, EVP_PKEY_free)
SOV_DEFINE_AUTOPTR(BIO, BIO_free)
SOV_DEFINE_AUTOPTR(EVP_MD_CTX, EVP_MD_CTX_free)
SOV_DEFINE_AUTOPTR(DIR, closedir)

/* This process's key. rotating serialises rotations; lock guards key and key_id. */
static struct {
    pthread_mutex_t lock, rotating;
    char dir[4096];
    EVP_PKEY *key;
    char key_id[SOV_KEY_ID_LEN + 1];
} signing = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, "", NULL, "" };

struct sov_signer {
    EVP_PKEY *key;
    char key_id[SOV_KEY_ID_LEN + 1];
};

/* ---- keys and files ---- */

static int
key_id_of(EVP_PKEY *k, char out[SOV_KEY_ID_LEN + 1], sov_error *err)
{
    unsigned char *der = NULL;
    char hex[SOV_SHA256_HEX_LEN + 1];
    int n = i2d_PUBKEY(k, &der);

    if (n <= 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not encode the public signing key");
    sov_sha256_hex(der, (size_t) n, hex);
    OPENSSL_free(der);
    snprintf(out, SOV_KEY_ID_LEN + 1, "%.*s", SOV_KEY_ID_LEN, hex);
    return 0;
}

static int
public_pem(EVP_PKEY *k, char *out, size_t size, sov_error *err)
{
    sov_autoptr(BIO) b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;

    if (!b || PEM_write_bio_PUBKEY(b, k) != 1)
        return sov_error_set(err, SOV_E_INTERNAL, "could not write the public signing key");
    n = BIO_get_mem_data(b, &data);
    if (n <= 0 || (size_t) n >= size)
        return sov_error_set(err, SOV_E_INTERNAL, "public signing key does not fit");
    memcpy(out, data, (size_t) n);
    out[n] = '\0';
    return 0;
}

/* The folder for keys: made 0700, and made 0700 again if someone opened it up. */
static int
key_dir(const char *state_dir, sov_error *err)
{
    struct stat st;

    if (snprintf(signing.dir, sizeof(signing.dir), "%s/signing", state_dir) >=
        (int) sizeof(signing.dir))
        return sov_error_set(err, SOV_E_INVALID, "state_dir is too long");
    if (mkdir(signing.dir, 0700) < 0 && errno != EEXIST)
        return sov_error_set(err, SOV_E_INTERNAL, "could not create '%s': %s", signing.dir,
                             strerror(errno));
    if (stat(signing.dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return sov_error_set(err, SOV_E_INTERNAL, "'%s' is not a folder", signing.dir);
    if ((st.st_mode & 0777) != 0700 && chmod(signing.dir, 0700) < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not make '%s' private: %s",
                             signing.dir, strerror(errno));
    return 0;
}

static int
write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        data += w;
        len -= (size_t) w;
    }
    return 0;
}

/* <dir>/<key_id>.pem, 0600 from its first byte: a crash leaves the old state or the whole
 * new file, never half a key. */
static int
write_private(EVP_PKEY *k, const char *key_id, sov_error *err)
{
    sov_autoptr(BIO) b = BIO_new(BIO_s_mem());
    char tmp[4200], path[4200];
    char *data = NULL;
    long n;
    int fd, dfd, rc = 0;

    snprintf(tmp, sizeof(tmp), "%s/.%s.pem.tmp", signing.dir, key_id);
    snprintf(path, sizeof(path), "%s/%s.pem", signing.dir, key_id);
    if (!b || PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1)
        return sov_error_set(err, SOV_E_INTERNAL, "could not write the signing key");
    n = BIO_get_mem_data(b, &data);
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        rc = sov_error_set(err, SOV_E_INTERNAL, "could not create '%s': %s", tmp,
                           strerror(errno));
    else if (write_all(fd, data, (size_t) n) < 0 || fsync(fd) < 0)
        rc = sov_error_set(err, SOV_E_INTERNAL, "could not write '%s': %s", tmp,
                           strerror(errno));
    OPENSSL_cleanse(data, (size_t) n);
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = sov_error_set(err, SOV_E_INTERNAL, "could not write '%s': %s", tmp,
                           strerror(errno));
    if (rc == 0 && rename(tmp, path) < 0)
        rc = sov_error_set(err, SOV_E_INTERNAL, "could not rename '%s': %s", tmp,
                           strerror(errno));
    if (rc < 0) {
        unlink(tmp);
        return -1;
    }
    /* The rename itself must survive a crash too. */
    dfd = open(signing.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* A key file of this folder: private to sovd's user, and an Ed25519 key. */
static int
load_private(const char *path, EVP_PKEY **ret, sov_error *err)
{
    struct stat st;
    FILE *f;
    EVP_PKEY *k;

    if (stat(path, &st) < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not read '%s': %s", path,
                             strerror(errno));
    if (st.st_mode & 0077)
        return sov_error_set(err, SOV_E_INVALID, "signing key '%s' may be read by others "
                             "(mode %04o): it must be 0600", path,
                             (unsigned) (st.st_mode & 07777));
    f = fopen(path, "re");
    if (!f)
        return sov_error_set(err, SOV_E_INTERNAL, "could not read '%s': %s", path,
                             strerror(errno));
    k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!k || !EVP_PKEY_is_a(k, "ED25519")) {
        EVP_PKEY_free(k);
        return sov_error_set(err, SOV_E_INVALID, "'%s' is not an Ed25519 private key", path);
    }
    *ret = k;
    return 0;
}

/* A new key, its id and public PEM, its private half written to the folder. */
static int
make_key(EVP_PKEY **ret, char key_id[SOV_KEY_ID_LEN + 1], char *pem, size_t pem_size,
         sov_error *err)
{
    sov_autoptr(EVP_PKEY) k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

    if (!k)
        return sov_error_set(err, SOV_E_INTERNAL, "could not generate an Ed25519 key");
    if (key_id_of(k, key_id, err) < 0 || public_pem(k, pem, pem_size, err) < 0 ||
        write_private(k, key_id, err) < 0)
        return -1;
    *ret = SOV_TAKE_PTR(k);
    return 0;
}

/* Whether s starts with a key id: 16 lower-case hex digits. */
static bool
hex_id(const char *s)
{
    for (size_t i = 0; i < SOV_KEY_ID_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static bool
key_id_valid(const char *s)
{
    return s && strlen(s) == SOV_KEY_ID_LEN && hex_id(s);
}

static bool
is_key_file(const char *name)
{
    return strlen(name) == SOV_KEY_ID_LEN + 4 && hex_id(name) &&
           strcmp(name + SOV_KEY_ID_LEN, ".pem") == 0;
}

/* Publish every key the folder holds (a database restored from before a key was made
 * learns it again) and gather their ids as a text[] literal (sov_buf_pg_array). */
static int
publish_folder(sov_dbconn *c, sov_buf *ids, sov_error *err)
{
    sov_autoptr(DIR) d = opendir(signing.dir);
    struct dirent *e;
    sov_buf found = SOV_BUF_INIT;   /* the ids, SOV_KEY_ID_LEN + 1 bytes each */
    int rc = -1;

    if (!d)
        return sov_error_set(err, SOV_E_INTERNAL, "could not read '%s': %s", signing.dir,
                             strerror(errno));
    while ((e = readdir(d))) {
        sov_autoptr(EVP_PKEY) k = NULL;
        char path[4400], id[SOV_KEY_ID_LEN + 1], pem[512];

        if (!is_key_file(e->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/%s", signing.dir, e->d_name);
        if (load_private(path, &k, err) < 0 || key_id_of(k, id, err) < 0)
            goto out;
        if (strncmp(id, e->d_name, SOV_KEY_ID_LEN) != 0) {
            sov_log_warn("ignoring signing key file '%s': it holds key %s", path, id);
            continue;
        }
        if (public_pem(k, pem, sizeof(pem), err) < 0 || sov_repo_key_publish(c, id, pem, err) < 0)
            goto out;
        sov_buf_append(&found, id, sizeof(id));
    }
    sov_buf_pg_array_strided(ids, found.data, found.len / (SOV_KEY_ID_LEN + 1),
                             SOV_KEY_ID_LEN + 1);
    rc = found.oom || ids->oom ? sov_error_set(err, SOV_E_INTERNAL, "out of memory") : 0;
out:
    sov_buf_release(&found);
    return rc;
}

/* ---- the process's key ---- */

int
sov_signing_init(sov_db *db, const char *state_dir, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(EVP_PKEY) k = NULL;
    sov_buf ids = SOV_BUF_INIT;
    char id[SOV_KEY_ID_LEN + 1], path[4400], pem[512];
    bool found = false;
    int rc;

    if (key_dir(state_dir, err) < 0 || sov_db_acquire(db, &c, err) < 0)
        return -1;
    rc = publish_folder(c, &ids, err);
    if (rc == 0)
        rc = sov_repo_key_newest(c, ids.data, id, &found, err);
    sov_buf_release(&ids);
    if (rc < 0)
        return -1;
    if (found) {
        snprintf(path, sizeof(path), "%s/%s.pem", signing.dir, id);
        if (load_private(path, &k, err) < 0)
            return -1;
    } else {
        if (make_key(&k, id, pem, sizeof(pem), err) < 0)
            return -1;
        if (sov_repo_key_publish(c, id, pem, err) < 0) {
            snprintf(path, sizeof(path), "%s/%s.pem", signing.dir, id);
            unlink(path);
            return -1;
        }
        sov_log_info("made a new report signing key %s", id);
    }
    pthread_mutex_lock(&signing.lock);
    EVP_PKEY_free(signing.key);
    signing.key = SOV_TAKE_PTR(k);
    snprintf(signing.key_id, sizeof(signing.key_id), "%s", id);
    pthread_mutex_unlock(&signing.lock);
    return 0;
}

void
sov_signing_release(void)
{
    pthread_mutex_lock(&signing.lock);
    EVP_PKEY_free(signing.key);
    signing.key = NULL;
    signing.key_id[0] = '\0';
    pthread_mutex_unlock(&signing.lock);
}

static void
current_id(char out[SOV_KEY_ID_LEN + 1])
{
    pthread_mutex_lock(&signing.lock);
    snprintf(out, SOV_KEY_ID_LEN + 1, "%s", signing.key_id);
    pthread_mutex_unlock(&signing.lock);
}

int
sov_signing_key_current(sov_ctx *ctx, sov_signing_key *ret, sov_error *err)
{
    char id[SOV_KEY_ID_LEN + 1];

    current_id(id);
    if (!id[0])
        return sov_error_set(err, SOV_E_UNAVAILABLE, "this sovd has no signing key loaded");
    return sov_signing_key_get(ctx, id, ret, err);
}

int
sov_signing_key_get(sov_ctx *ctx, const char *key_id, sov_signing_key *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (!key_id_valid(key_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "signing key '%.32s' does not exist",
                             key_id ? key_id : "");
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_key_get(c, key_id, ret, err);
}

typedef struct rotate_args {
    sov_ctx *ctx;
    const char *new_id, *pem, *old_id;
} rotate_args;

static int
rotate_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    rotate_args *a = arg;

    if (sov_repo_key_publish(c, a->new_id, a->pem, err) < 0 ||
        (a->old_id[0] && sov_repo_key_retire(c, a->old_id, err) < 0))
        return -1;
    return sov_audit_append(c, a->ctx, NULL, "signing-key", a->new_id, SOV_OUTCOME_CREATED, err);
}

int
sov_signing_rotate(sov_ctx *ctx, sov_signing_key *ret, sov_error *err)
{
    sov_autoptr(EVP_PKEY) k = NULL;
    char id[SOV_KEY_ID_LEN + 1], old[SOV_KEY_ID_LEN + 1], pem[512], path[4400];
    rotate_args a = { ctx, id, pem, old };
    EVP_PKEY *retired;
    int rc;

    pthread_mutex_lock(&signing.rotating);
    current_id(old);
    rc = signing.dir[0] ? make_key(&k, id, pem, sizeof(pem), err)
                        : sov_error_set(err, SOV_E_UNAVAILABLE,
                                        "this sovd has no signing key loaded");
    if (rc == 0 && sov_ctx_tx(ctx, rotate_tx, &a, err) < 0) {
        /* Not published, so never used: the file goes too. */
        snprintf(path, sizeof(path), "%s/%s.pem", signing.dir, id);
        unlink(path);
        rc = -1;
    }
    if (rc == 0) {
        pthread_mutex_lock(&signing.lock);
        retired = signing.key;
        signing.key = SOV_TAKE_PTR(k);
        snprintf(signing.key_id, sizeof(signing.key_id), "%s", id);
        pthread_mutex_unlock(&signing.lock);
        /* Documents being signed hold their own reference to the old key. */
        EVP_PKEY_free(retired);
        sov_log_info("rotated the report signing key: %s replaces %s", id,
                     old[0] ? old : "none");
    }
    pthread_mutex_unlock(&signing.rotating);
    if (rc < 0)
        return -1;
    return sov_signing_key_get(ctx, id, ret, err);
}

/* ---- signing one document ---- */

int
sov_signer_get(sov_signer **ret, sov_error *err)
{
    sov_signer *s = calloc(1, sizeof(*s));

    if (!s)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    pthread_mutex_lock(&signing.lock);
    if (signing.key && EVP_PKEY_up_ref(signing.key) == 1) {
        s->key = signing.key;
        snprintf(s->key_id, sizeof(s->key_id), "%s", signing.key_id);
    }
    pthread_mutex_unlock(&signing.lock);
    if (!s->key) {
        free(s);
        return sov_error_set(err, SOV_E_UNAVAILABLE, "this sovd has no signing key loaded");
    }
    *ret = s;
    return 0;
}

const char *
sov_signer_key_id(const sov_signer *s)
{
    return s->key_id;
}

int
sov_signer_sign(sov_signer *s, const void *msg, size_t len,
                unsigned char sig[SOV_SIGNATURE_LEN], sov_error *err)
{
    sov_autoptr(EVP_MD_CTX) m = EVP_MD_CTX_new();
    size_t siglen = SOV_SIGNATURE_LEN;

    /* Ed25519 takes no digest (NULL): it hashes the message itself, twice, so it needs all
     * of it at once; there is no update step. */
    if (!m || EVP_DigestSignInit(m, NULL, NULL, NULL, s->key) != 1 ||
        EVP_DigestSign(m, sig, &siglen, msg, len) != 1 || siglen != SOV_SIGNATURE_LEN)
        return sov_error_set(err, SOV_E_INTERNAL, "could not sign with key %s", s->key_id);
    return 0;
}

void
sov_signer_free(sov_signer *s)
{
    if (!s)
        return;
    EVP_PKEY_free(s->key);
    free(s);
}
