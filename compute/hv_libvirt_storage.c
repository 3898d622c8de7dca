/* hv_libvirt_storage.c: what storage/ needs of libvirt: qcow2 volumes (LUKS-encrypted by QEMU
 * when a secret is given), the secrets holding their passphrases, and a domain's disks (hot
 * attach and detach, online resize, a crash-consistent copy of a running disk).
 *
 * What libvirt 9.0 with QEMU 7.2 does here, measured on these machines:
 * - A volume made with <encryption format='luks'> is a LUKS-in-qcow2 image; copying one
 *   (virStorageVolCreateXMLFrom: encrypted or plain, to encrypted or plain) and resizing one
 *   work, but only while libvirt knows the source's secret, and a pool refresh forgets the
 *   secret a volume was made with. libvirt then finds it by the secret's usage (type
 *   'volume', the volume's path), so a secret is defined with the volume's path as usage.
 * - QEMU times its LUKS key derivation on the thread's CPU clock; where that clock ticks
 *   coarsely (these paravirtual guests) it measures 0 ms about one time in four and the
 *   create fails "Unable to get accurate CPU usage" before writing anything: tried again.
 * - QEMU takes a LUKS passphrase as UTF-8 text: a secret's value is handed to libvirt as the
 *   lowercase hex of the key's bytes.
 * - A snapshot of a running disk is a push-mode backup (virDomainBackupBegin): QEMU copies the
 *   disk as it was when the job began, while the guest keeps writing. Letting QEMU format an
 *   encrypted backup target fails as above (and cannot be tried again inside one job), so the
 *   target is made first as a volume of the pool and the backup reuses it.
 *
 * libvirt's test driver (test:///) has no secrets, no volume resize, no hot plug, no block
 * resize and no backup. It stands for hosts in tests and benchmarks, so the same calls work
 * there on what it holds: secrets in a table of this process, per host (the URI: a
 * migration defines a volume's secret on its target and removes it from its source; their
 * values are not kept),
 * disks in the persistent definition, sizes of volumes recreated, snapshots as volumes of
 * the disk's size. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hv_libvirt_int.h"
#include "sov/buf.h"
#include "sov/log.h"

#define GIB (1024LL * 1024 * 1024)
#define LUKS_TRIES 8
#define REFRESH_WAIT_MS 60000

void
sov_lv_sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

double
sov_lv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

/* A failure that says nothing about the request: the daemon or its link is gone. */
sov_errcode
sov_lv_failure_code(void)
{
    int code = virGetLastErrorCode();

    if (sov_lv_no_such(code))
        return SOV_E_NOT_FOUND;
    switch (code) {
    case VIR_ERR_OPERATION_INVALID:
    case VIR_ERR_OPERATION_UNSUPPORTED:
    case VIR_ERR_CONFIG_UNSUPPORTED:
    case VIR_ERR_OPERATION_FAILED:
        return SOV_E_CONFLICT;
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_INVALID_ARG:
        return SOV_E_INTERNAL;
    default:
        return SOV_E_UNAVAILABLE;
    }
}

/* A LUKS secret is named by a UUID; it goes into XML. */
int
sov_lv_check_uuid(const char *uuid, sov_error *err)
{
    size_t n = uuid ? strlen(uuid) : 0;

    if (n != 36 || strspn(uuid, "0123456789abcdefABCDEF-") != n)
        return sov_error_set(err, SOV_E_INTERNAL, "'%s' is no secret UUID", uuid ? uuid : "");
    return 0;
}

/* Refresh a pool so it sees files made behind libvirt's back and finds encrypted volumes'
 * secrets. A pool with a volume being built refuses ("asynchronous jobs running"): what it
 * already knows then stands. */
static void
pool_refresh(virStoragePoolPtr p)
{
    if (virStoragePoolRefresh(p, 0) < 0) {
        sov_log_debug("could not refresh storage pool '%s': %s", virStoragePoolGetName(p),
                      virGetLastErrorMessage());
        virResetLastError();
    }
}

/* A volume looked up after a refresh that took: copying from and resizing an encrypted
 * volume need libvirt to have found its secret again. A pool refuses a refresh while it
 * builds a volume (an encrypted create takes seconds): tried again until wait_ms passed, then
 * SOV_E_UNAVAILABLE (a later try may work). */
static int
vol_lookup_fresh(lv_hv *h, const char *pool, const char *name, unsigned wait_ms,
                 virStorageVolPtr *ret, sov_error *err)
{
    sov_autoptr(virStoragePool) p = NULL;
    double deadline = sov_lv_now_ms() + wait_ms;
    virStorageVolPtr v;

    if (sov_lv_pool_lookup(h, pool, &p, err) < 0)
        return -1;
    while (virStoragePoolRefresh(p, 0) < 0) {
        if (sov_lv_now_ms() >= deadline)
            return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not refresh storage pool '%s'",
                                pool);
        sov_lv_sleep_ms(100);
    }
    v = virStorageVolLookupByName(p, name);
    if (!v)
        return sov_lv_error(err, sov_lv_no_such(virGetLastErrorCode()) ? SOV_E_NOT_FOUND
                                                                     : SOV_E_UNAVAILABLE,
                            "could not find volume '%s'", name);
    *ret = v;
    return 0;
}

/* ---- the test driver's stand-ins ---- */

#define TEST_SECRETS_MAX 256

static pthread_mutex_t test_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char uuid[37];
    char description[300];
    char host[1024];            /* the URI of the test host that holds it */
} test_secrets[TEST_SECRETS_MAX];

static int
test_secret_define(const char *host, const char *uuid, const char *usage, sov_error *err)
{
    int rc = sov_error_set(err, SOV_E_UNAVAILABLE, "the test driver holds %d secrets at most",
                           TEST_SECRETS_MAX);

    pthread_mutex_lock(&test_lock);
    for (size_t i = 0; i < TEST_SECRETS_MAX; i++)
        if (strcasecmp(test_secrets[i].uuid, uuid) == 0 &&
            strcmp(test_secrets[i].host, host) == 0)
            rc = 0;
    for (size_t i = 0; i < TEST_SECRETS_MAX && rc < 0; i++)
        if (!test_secrets[i].uuid[0]) {
            snprintf(test_secrets[i].uuid, sizeof(test_secrets[i].uuid), "%s", uuid);
            snprintf(test_secrets[i].host, sizeof(test_secrets[i].host), "%s", host);
            snprintf(test_secrets[i].description, sizeof(test_secrets[i].description),
                     "sovereign %s", usage);
            rc = 0;
        }
    pthread_mutex_unlock(&test_lock);
    if (rc == 0)
        sov_error_clear(err);
    return rc;
}

static void
test_secret_undefine(const char *host, const char *uuid)
{
    pthread_mutex_lock(&test_lock);
    for (size_t i = 0; i < TEST_SECRETS_MAX; i++)
        if (strcasecmp(test_secrets[i].uuid, uuid) == 0 &&
            strcmp(test_secrets[i].host, host) == 0)
            test_secrets[i].uuid[0] = '\0';
    pthread_mutex_unlock(&test_lock);
}

/* ---- names into a list ---- */

typedef struct names {
    char **v;
    size_t n;
    bool oom;
} names;

static void
names_add(names *l, const char *s)
{
    char **nv;

    if (l->oom)
        return;
    nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
    if (!nv || !(nv[l->n] = strdup(s))) {
        if (nv)
            l->v = nv;
        l->oom = true;
        return;
    }
    l->v = nv;
    l->n++;
}

static int
names_give(names *l, char ***ret, size_t *n, sov_error *err)
{
    if (l->oom) {
        sov_hv_names_free(l->v, l->n);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    *ret = l->v;
    *n = l->n;
    return 0;
}

/* ---- volumes ---- */

/* A qcow2 volume of bytes, LUKS-encrypted with secret_uuid's passphrase when not NULL. */
static int
vol_xml(char *buf, size_t size, const char *name, unsigned long long bytes,
        const char *secret_uuid, sov_error *err)
{
    char ename[256], enc[160] = "";

    if (sov_xml_escape(ename, sizeof(ename), name) < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "volume name too long");
    if (secret_uuid) {
        if (sov_lv_check_uuid(secret_uuid, err) < 0)
            return -1;
        snprintf(enc, sizeof(enc),
                 "<encryption format='luks'><secret type='passphrase' uuid='%s'/></encryption>",
                 secret_uuid);
    }
    snprintf(buf, size,
             "<volume><name>%s</name><capacity unit='bytes'>%llu</capacity>"
             "<allocation unit='bytes'>0</allocation>"
             "<target><format type='qcow2'/><compat>1.1</compat>%s</target></volume>",
             ename, bytes, enc);
    return 0;
}

/* QEMU's "Unable to get accurate CPU usage" (see the top of this file). */
static bool
luks_flake(void)
{
    const char *m = virGetLastErrorMessage();
    return m && strstr(m, "Unable to get accurate CPU usage");
}

/* Create (from: copy) a volume, trying again while QEMU's LUKS timing flakes. */
static virStorageVolPtr
vol_create(virStoragePoolPtr p, const char *xml, virStorageVolPtr from, bool luks)
{
    for (int i = 0;; i++) {
        virStorageVolPtr v = from ? virStorageVolCreateXMLFrom(p, xml, from, 0)
                                  : virStorageVolCreateXML(p, xml, 0);
        if (v || !luks || !luks_flake() || i + 1 == LUKS_TRIES)
            return v;
        sov_log_debug("LUKS key timing failed (try %d), creating again", i + 1);
    }
}

/* After a create failed: was it because the volume is there (made by a run before this one,
 * or by another worker a moment ago)? The failure's error is what the caller reports. */
static bool
vol_there_after_failure(virStoragePoolPtr p, const char *name, virErrorPtr *saved)
{
    virStorageVolPtr v;

    *saved = virSaveLastError();
    pool_refresh(p);
    v = virStorageVolLookupByName(p, name);
    if (!v) {
        virResetLastError();
        return false;
    }
    virStorageVolFree(v);
    return true;
}

/* Is the volume there without asking libvirt to refresh the pool? */
int
sov_lv_vol_exists(lv_hv *h, const char *pool, const char *name, sov_error *err)
{
    sov_autoptr(virStorageVol) v = NULL;

    if (sov_lv_vol_lookup(h, pool, name, false, &v, err) == 0)
        return 1;
    if (err->code != SOV_E_NOT_FOUND)
        return -1;
    sov_error_clear(err);
    return 0;
}

/* qemu-img convert makes a copy of its source's size (libvirt grows only an encrypted one):
 * the rest is grown here. A copy that cannot be grown is removed. */
static int
grow_copy(virStorageVolPtr v, const char *name, unsigned long long bytes, sov_error *err)
{
    virStorageVolInfo info;

    if (virStorageVolGetInfo(v, &info) == 0 &&
        (info.capacity >= bytes || virStorageVolResize(v, bytes, 0) == 0))
        return 0;
    sov_lv_error(err, SOV_E_UNAVAILABLE, "could not grow volume '%s'", name);
    virStorageVolDelete(v, 0);
    return -1;
}

int
sov_lv_create_with(lv_hv *h, const char *pool, const char *name, unsigned long long bytes,
                   virStorageVolPtr from, const char *secret_uuid, bool luks, sov_error *err)
{
    sov_autoptr(virStoragePool) p = NULL;
    sov_autoptr(virStorageVol) v = NULL;
    char xml[1024];
    virErrorPtr saved;

    if (vol_xml(xml, sizeof(xml), name, bytes, secret_uuid, err) < 0 ||
        sov_lv_pool_lookup(h, pool, &p, err) < 0)
        return -1;
    v = vol_create(p, xml, from, luks);
    if (v && from)
        return grow_copy(v, name, bytes, err);
    if (v)
        return 0;
    if (vol_there_after_failure(p, name, &saved)) {
        virFreeError(saved);
        return 0;
    }
    return sov_lv_error_saved(err, saved && saved->code == VIR_ERR_NO_STORAGE_POOL
                                       ? SOV_E_NOT_FOUND
                                       : SOV_E_UNAVAILABLE,
                              saved, "could not create volume '%s'", name);
}

int
sov_lv_volume_create(sov_hv *hv, const char *pool, const char *name, long long capacity_gib,
                     const char *secret_uuid, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    int there;

    if (capacity_gib < 1)
        return sov_error_invalid(err, "size_gib", "a volume needs at least 1 GiB");
    there = sov_lv_vol_exists(h, pool, name, err);
    if (there != 0)
        return there < 0 ? -1 : 0;
    return sov_lv_create_with(h, pool, name, (unsigned long long) capacity_gib * GIB, NULL,
                       secret_uuid, secret_uuid != NULL, err);
}

/* What libvirt says of a volume: its format, backing file and secret. */
typedef struct vol_facts {
    char format[16];
    char backing[8];        /* non-empty when it has a backing file */
    char secret[40];        /* the secret libvirt would open it with */
    bool encrypted;
} vol_facts;

static int
vol_read_facts(virStorageVolPtr v, const char *name, vol_facts *f, sov_error *err)
{
    sov_autofree char *xml = virStorageVolGetXMLDesc(v, 0);
    xml_autoview x = { 0 };
    char enc[16];

    if (!xml)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", name);
    if (sov_xml_view_parse(&x, xml, "volume XML", err) < 0)
        return -1;
    sov_xml_string(&x, "string(/volume/target/format/@type)", f->format, sizeof(f->format));
    sov_xml_string(&x, "string(/volume/backingStore/path)", f->backing, sizeof(f->backing));
    sov_xml_string(&x, "string(/volume/target/encryption/@format)", enc, sizeof(enc));
    sov_xml_string(&x, "string(/volume/target/encryption/secret/@uuid)", f->secret,
                   sizeof(f->secret));
    f->encrypted = enc[0] != '\0';
    return 0;
}

/* libvirt opens an encrypted volume with the secret whose usage is its path (after a
 * refresh): say so plainly when the caller's secret is not it. */
static int
vol_check_secret(const vol_facts *f, const char *name, const char *secret_uuid,
                 sov_error *err)
{
    if (!f->encrypted && !secret_uuid)
        return 0;
    if (!f->encrypted)
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is not encrypted", name);
    if (!secret_uuid)
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is encrypted", name);
    if (strcasecmp(f->secret, secret_uuid) != 0) {
        sov_error_set(err, SOV_E_INTERNAL, "libvirt has no secret for volume '%s'", name);
        return sov_error_detail(err, "libvirt opens it with secret '%s', not '%s': define the "
                                "secret with the volume's path as its usage",
                                f->secret[0] ? f->secret : "(none)", secret_uuid);
    }
    return 0;
}

int
sov_lv_volume_copy(sov_hv *hv, const char *pool, const char *name, const char *source,
                   const char *source_format, const char *source_secret_uuid,
                   long long capacity_gib, const char *secret_uuid, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virStorageVol) src = NULL;
    virStorageVolInfo info;
    vol_facts f = { 0 };
    unsigned long long bytes;
    int there;

    there = sov_lv_vol_exists(h, pool, name, err);
    if (there != 0)
        return there < 0 ? -1 : 0;
    /* The refresh probes the source's format and finds its secret by its path. */
    if (vol_lookup_fresh(h, pool, source, REFRESH_WAIT_MS, &src, err) < 0)
        return -1;
    if (virStorageVolGetInfo(src, &info) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", source);
    if (vol_read_facts(src, source, &f, err) < 0)
        return -1;
    /* A file's format is what its maker says, never what its bytes claim: a raw image that
     * looks like qcow2 could name any file of the host as its backing file. */
    if (!sov_lv_is_test(h) && source_format && strcmp(f.format, source_format) != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' reads as %s, not %s", source,
                             f.format, source_format);
    if (f.backing[0])
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' has a backing file", source);
    if (!sov_lv_is_test(h) && vol_check_secret(&f, source, source_secret_uuid, err) < 0)
        return -1;
    bytes = (unsigned long long) capacity_gib * GIB;
    if (bytes < info.capacity)
        bytes = info.capacity;
    return sov_lv_create_with(h, pool, name, bytes, src, secret_uuid,
                       secret_uuid != NULL || source_secret_uuid != NULL, err);
}

/* The test driver cannot resize: a volume of the new size under the same name holds what
 * the old one held there (nothing). */
static int
test_vol_resize(lv_hv *h, const char *pool, virStorageVolPtr v, const char *name,
                unsigned long long bytes, sov_error *err)
{
    if (virStorageVolDelete(v, 0) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not resize volume '%s'", name);
    return sov_lv_create_with(h, pool, name, bytes, NULL, NULL, false, err);
}

int
sov_lv_volume_resize(sov_hv *hv, const char *pool, const char *name, long long capacity_gib,
                     const char *secret_uuid, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virStorageVol) v = NULL;
    unsigned long long bytes = (unsigned long long) capacity_gib * GIB;
    virStorageVolInfo info;
    vol_facts f = { 0 };

    if (capacity_gib < 1)
        return sov_error_invalid(err, "size_gib", "a volume needs at least 1 GiB");
    /* The refresh finds an encrypted volume's secret by its path. */
    if (vol_lookup_fresh(h, pool, name, REFRESH_WAIT_MS, &v, err) < 0)
        return -1;
    if (virStorageVolGetInfo(v, &info) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", name);
    if (bytes < info.capacity)
        return sov_error_invalid(err, "size_gib", "volume '%s' has %lld GiB: it cannot shrink",
                                 name, (long long) (info.capacity / GIB));
    if (bytes == info.capacity)
        return 0;
    if (sov_lv_is_test(h))
        return test_vol_resize(h, pool, v, name, bytes, err);
    if (vol_read_facts(v, name, &f, err) < 0 || vol_check_secret(&f, name, secret_uuid, err) < 0)
        return -1;
    if (virStorageVolResize(v, bytes, 0) < 0)
        return sov_lv_error(err, sov_lv_failure_code() == SOV_E_UNAVAILABLE ? SOV_E_UNAVAILABLE
                                                                     : SOV_E_CONFLICT,
                            "could not resize volume '%s'", name);
    return 0;
}

int
sov_lv_volume_info(sov_hv *hv, const char *pool, const char *name, long long *capacity,
                   long long *allocation, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virStorageVol) v = NULL;
    virStorageVolInfo info;

    /* A file made behind libvirt's back (a snapshot's) shows after a refresh. */
    if (sov_lv_vol_lookup(h, pool, name, false, &v, err) < 0) {
        if (err->code != SOV_E_NOT_FOUND)
            return -1;
        sov_error_clear(err);
        if (sov_lv_vol_lookup(h, pool, name, true, &v, err) < 0)
            return -1;
    }
    if (virStorageVolGetInfo(v, &info) < 0)
        return sov_lv_error(err, sov_lv_failure_code() == SOV_E_NOT_FOUND ? SOV_E_NOT_FOUND
                                                                   : SOV_E_UNAVAILABLE,
                            "could not read volume '%s'", name);
    *capacity = (long long) info.capacity;
    *allocation = (long long) info.allocation;
    return 0;
}

int
sov_lv_volume_list(sov_hv *hv, const char *pool, const char *prefix, char ***ret, size_t *n,
                   sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virStoragePool) p = NULL;
    virStorageVolPtr *vols = NULL;
    names l = { 0 };
    int count;

    if (sov_lv_pool_lookup(h, pool, &p, err) < 0)
        return -1;
    pool_refresh(p);
    count = virStoragePoolListAllVolumes(p, &vols, 0);
    if (count < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not list the volumes of pool '%s'",
                            pool);
    for (int i = 0; i < count; i++) {
        const char *vn = virStorageVolGetName(vols[i]);
        if (vn && strncmp(vn, prefix, strlen(prefix)) == 0)
            names_add(&l, vn);
        virStorageVolFree(vols[i]);
    }
    free(vols);
    return names_give(&l, ret, n, err);
}

/* ---- secrets ---- */

static const char HEX[] = "0123456789abcdef";

/* Define the secret anew; a stale secret of ours holding the same usage (a volume's path:
 * libvirt allows one per path) is undefined first. */
static virSecretPtr
secret_define_xml(lv_hv *h, const char *uuid, const char *usage, const char *xml)
{
    virSecretPtr s = virSecretDefineXML(h->conn, xml, 0);
    virSecretPtr old;

    if (s || usage[0] != '/')
        return s;
    old = virSecretLookupByUsage(h->conn, VIR_SECRET_USAGE_TYPE_VOLUME, usage);
    if (!old)
        return NULL;
    {
        char ouuid[VIR_UUID_STRING_BUFLEN] = "";
        virSecretGetUUIDString(old, ouuid);
        if (strcasecmp(ouuid, uuid) != 0) {
            sov_log_debug("undefining stale secret %s of '%s'", ouuid, usage);
            virSecretUndefine(old);
            s = virSecretDefineXML(h->conn, xml, 0);
        }
    }
    virSecretFree(old);
    return s;
}

int
sov_lv_secret_define(sov_hv *hv, const char *uuid, const char *usage,
                     const unsigned char *value, size_t len, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virSecret) s = NULL;
    char eusage[1024], xml[2600], u[1100] = "";
    unsigned char *hex;
    bool made = false;
    int rc;

    if (sov_lv_check_uuid(uuid, err) < 0)
        return -1;
    if (!usage || sov_xml_escape(eusage, sizeof(eusage), usage) < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "secret usage missing or too long");
    if (len == 0)
        return sov_error_set(err, SOV_E_INTERNAL, "empty secret value");
    if (sov_lv_is_test(h))
        return test_secret_define(h->uri, uuid, usage, err);
    s = virSecretLookupByUUIDString(h->conn, uuid);
    if (!s) {
        if (!sov_lv_no_such(virGetLastErrorCode()))
            return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not look up secret %s", uuid);
        if (usage[0] == '/')
            snprintf(u, sizeof(u), "<usage type='volume'><volume>%s</volume></usage>", eusage);
        snprintf(xml, sizeof(xml),
                 "<secret ephemeral='yes' private='yes'><uuid>%s</uuid>"
                 "<description>sovereign %s</description>%s</secret>",
                 uuid, eusage, u);
        s = secret_define_xml(h, uuid, usage, xml);
        if (!s)
            return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not define secret %s", uuid);
        made = true;
    }
    hex = malloc(2 * len);
    if (!hex) {
        if (made)
            virSecretUndefine(s);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = (unsigned char) HEX[value[i] >> 4];
        hex[2 * i + 1] = (unsigned char) HEX[value[i] & 15];
    }
    rc = virSecretSetValue(s, hex, 2 * len, 0);
    explicit_bzero(hex, 2 * len);
    free(hex);
    if (rc < 0) {
        virErrorPtr saved = virSaveLastError();
        if (made)
            virSecretUndefine(s);
        return sov_lv_error_saved(err, SOV_E_UNAVAILABLE, saved,
                                  "could not set the value of secret %s", uuid);
    }
    return 0;
}

int
sov_lv_secret_undefine(sov_hv *hv, const char *uuid, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virSecret) s = NULL;

    if (sov_lv_check_uuid(uuid, err) < 0)
        return -1;
    if (sov_lv_is_test(h)) {
        test_secret_undefine(h->uri, uuid);
        return 0;
    }
    s = virSecretLookupByUUIDString(h->conn, uuid);
    if (!s)
        return sov_lv_no_such(virGetLastErrorCode())
                   ? 0
                   : sov_lv_error(err, SOV_E_UNAVAILABLE, "could not look up secret %s", uuid);
    if (virSecretUndefine(s) < 0 && !sov_lv_no_such(virGetLastErrorCode()))
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not undefine secret %s", uuid);
    return 0;
}

int
sov_lv_secret_list(sov_hv *hv, const char *prefix, char ***ret, size_t *n, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    virSecretPtr *secs = NULL;
    names l = { 0 };
    char want[1100], desc[1100], uuid[VIR_UUID_STRING_BUFLEN];
    int count;

    snprintf(want, sizeof(want), "sovereign %s", prefix);
    if (sov_lv_is_test(h)) {
        pthread_mutex_lock(&test_lock);
        for (size_t i = 0; i < TEST_SECRETS_MAX; i++)
            if (test_secrets[i].uuid[0] && strcmp(test_secrets[i].host, h->uri) == 0 &&
                strncmp(test_secrets[i].description, want, strlen(want)) == 0)
                names_add(&l, test_secrets[i].uuid);
        pthread_mutex_unlock(&test_lock);
        return names_give(&l, ret, n, err);
    }
    count = virConnectListAllSecrets(h->conn, &secs, 0);
    if (count < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not list secrets");
    for (int i = 0; i < count; i++) {
        sov_autofree char *xml = virSecretGetXMLDesc(secs[i], 0);
        xml_autoview x = { 0 };
        sov_error ignored = SOV_ERROR_INIT;

        if (xml && sov_xml_view_parse(&x, xml, "secret XML", &ignored) == 0) {
            sov_xml_string(&x, "string(/secret/description)", desc, sizeof(desc));
            if (strncmp(desc, want, strlen(want)) == 0 &&
                virSecretGetUUIDString(secs[i], uuid) == 0)
                names_add(&l, uuid);
        }
        virSecretFree(secs[i]);
    }
    free(secs);
    return names_give(&l, ret, n, err);
}

