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
 * there on what it holds: secrets in a table of this process (their values are not kept),
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
#define POLL_MS 20
#define JOB_POLL_MS 5
#define REFRESH_WAIT_MS 60000

static void
sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

/* A failure that says nothing about the request: the daemon or its link is gone. */
static sov_errcode
failure_code(void)
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

/* Target devs are short names (vda, sdb): anything else is a caller's bug, and a dev is put
 * into XPath expressions below. */
static int
check_dev(const char *dev, sov_error *err)
{
    size_t n = dev ? strlen(dev) : 0;

    if (n == 0 || n > 16 || strspn(dev, "abcdefghijklmnopqrstuvwxyz0123456789") != n)
        return sov_error_set(err, SOV_E_INTERNAL, "'%s' is no disk target", dev ? dev : "");
    return 0;
}

/* A LUKS secret is named by a UUID; it goes into XML. */
static int
check_uuid(const char *uuid, sov_error *err)
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
    double deadline = now_ms() + wait_ms;
    virStorageVolPtr v;

    if (sov_lv_pool_lookup(h, pool, &p, err) < 0)
        return -1;
    while (virStoragePoolRefresh(p, 0) < 0) {
        if (now_ms() >= deadline)
            return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not refresh storage pool '%s'",
                                pool);
        sleep_ms(100);
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
} test_secrets[TEST_SECRETS_MAX];

static int
test_secret_define(const char *uuid, const char *usage, sov_error *err)
{
    int rc = sov_error_set(err, SOV_E_UNAVAILABLE, "the test driver holds %d secrets at most",
                           TEST_SECRETS_MAX);

    pthread_mutex_lock(&test_lock);
    for (size_t i = 0; i < TEST_SECRETS_MAX; i++)
        if (strcasecmp(test_secrets[i].uuid, uuid) == 0)
            rc = 0;
    for (size_t i = 0; i < TEST_SECRETS_MAX && rc < 0; i++)
        if (!test_secrets[i].uuid[0]) {
            snprintf(test_secrets[i].uuid, sizeof(test_secrets[i].uuid), "%s", uuid);
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
test_secret_undefine(const char *uuid)
{
    pthread_mutex_lock(&test_lock);
    for (size_t i = 0; i < TEST_SECRETS_MAX; i++)
        if (strcasecmp(test_secrets[i].uuid, uuid) == 0)
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
        if (check_uuid(secret_uuid, err) < 0)
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
static int
vol_exists(lv_hv *h, const char *pool, const char *name, sov_error *err)
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

static int
create_with(lv_hv *h, const char *pool, const char *name, unsigned long long bytes,
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
    there = vol_exists(h, pool, name, err);
    if (there != 0)
        return there < 0 ? -1 : 0;
    return create_with(h, pool, name, (unsigned long long) capacity_gib * GIB, NULL,
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

    there = vol_exists(h, pool, name, err);
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
    return create_with(h, pool, name, bytes, src, secret_uuid,
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
    return create_with(h, pool, name, bytes, NULL, NULL, false, err);
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
        return sov_lv_error(err, failure_code() == SOV_E_UNAVAILABLE ? SOV_E_UNAVAILABLE
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
        return sov_lv_error(err, failure_code() == SOV_E_NOT_FOUND ? SOV_E_NOT_FOUND
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

    if (check_uuid(uuid, err) < 0)
        return -1;
    if (!usage || sov_xml_escape(eusage, sizeof(eusage), usage) < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "secret usage missing or too long");
    if (len == 0)
        return sov_error_set(err, SOV_E_INTERNAL, "empty secret value");
    if (sov_lv_is_test(h))
        return test_secret_define(uuid, usage, err);
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

    if (check_uuid(uuid, err) < 0)
        return -1;
    if (sov_lv_is_test(h)) {
        test_secret_undefine(uuid);
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
            if (test_secrets[i].uuid[0] &&
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

/* ---- a domain's disks ---- */

/* The <disk> at dev in the domain's live (flags 0) or persistent (VIR_DOMAIN_XML_INACTIVE)
 * definition: 1 and its XML in *ret (when ret is not NULL, to free()), or 0 when none. */
static int
disk_find(virDomainPtr d, unsigned flags, const char *dev, char **ret, char *alias,
          size_t alias_size, sov_error *err)
{
    sov_autofree char *xml = virDomainGetXMLDesc(d, flags);
    xml_autoview x = { 0 };
    sov_autoptr(xmlXPathObject) o = NULL;
    char expr[96];

    if (!xml)
        return sov_lv_error(err, failure_code() == SOV_E_NOT_FOUND ? SOV_E_NOT_FOUND
                                                                   : SOV_E_UNAVAILABLE,
                            "could not read domain %s", virDomainGetName(d));
    if (sov_xml_view_parse(&x, xml, "domain XML", err) < 0)
        return -1;
    snprintf(expr, sizeof(expr), "/domain/devices/disk[target/@dev='%s']", dev);
    o = xmlXPathEvalExpression((const xmlChar *) expr, x.xp);
    if (!o || !o->nodesetval || o->nodesetval->nodeNr == 0)
        return 0;
    if (alias) {
        snprintf(expr, sizeof(expr), "string(/domain/devices/disk[target/@dev='%s']/alias/@name)",
                 dev);
        sov_xml_string(&x, expr, alias, alias_size);
    }
    if (ret) {
        xmlBufferPtr b = xmlBufferCreate();
        if (!b || xmlNodeDump(b, x.doc, o->nodesetval->nodeTab[0], 0, 0) < 0 ||
            !(*ret = strdup((const char *) xmlBufferContent(b)))) {
            xmlBufferFree(b);
            return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        }
        xmlBufferFree(b);
    }
    return 1;
}

/* The test driver keeps attached disks in the persistent definition only. */
static unsigned
live_flags(lv_hv *h, virDomainPtr d)
{
    return sov_lv_is_test(h) || virDomainIsActive(d) != 1 ? VIR_DOMAIN_XML_INACTIVE : 0;
}

/* The test driver has no hot plug: the disk goes into (or out of) the definition. */
static int
test_redefine(lv_hv *h, virDomainPtr d, const char *dev, const char *disk_xml, sov_error *err)
{
    sov_autofree char *xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
    sov_buf b = SOV_BUF_INIT;
    const char *at;
    virDomainPtr nd;

    if (!xml)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read domain %s",
                            virDomainGetName(d));
    if (disk_xml) {
        at = strstr(xml, "</devices>");
        if (!at)
            return sov_error_set(err, SOV_E_INTERNAL, "domain XML without devices");
        sov_buf_append(&b, xml, (size_t) (at - xml));
        sov_buf_puts(&b, disk_xml);
        sov_buf_puts(&b, at);
    } else {
        /* The same document less that disk. */
        xml_autoview x = { 0 };
        sov_autoptr(xmlXPathObject) o = NULL;
        xmlChar *out = NULL;
        int len = 0;
        char expr[96];

        if (sov_xml_view_parse(&x, xml, "domain XML", err) < 0)
            return -1;
        snprintf(expr, sizeof(expr), "/domain/devices/disk[target/@dev='%s']", dev);
        o = xmlXPathEvalExpression((const xmlChar *) expr, x.xp);
        if (!o || !o->nodesetval || o->nodesetval->nodeNr == 0)
            return 0;
        xmlUnlinkNode(o->nodesetval->nodeTab[0]);
        xmlFreeNode(o->nodesetval->nodeTab[0]);
        o->nodesetval->nodeNr = 0;
        xmlDocDumpMemory(x.doc, &out, &len);
        if (out)
            sov_buf_append(&b, out, (size_t) len);
        else
            b.oom = true;
        xmlFree(out);
    }
    if (b.oom) {
        sov_buf_release(&b);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    nd = virDomainDefineXML(h->conn, b.data);
    sov_buf_release(&b);
    if (!nd)
        return sov_lv_error(err, SOV_E_CONFLICT, "could not change the disks of domain %s",
                            virDomainGetName(d));
    virDomainFree(nd);
    return 0;
}

int
sov_lv_disk_attach(sov_hv *hv, const char *uuid, const char *disk_xml, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virDomain) d = NULL;
    xml_autoview x = { 0 };
    char dev[32];
    unsigned flags = 0;
    int in_config, in_live = 1;
    bool active;

    if (sov_xml_view_parse(&x, disk_xml, "disk XML", err) < 0)
        return -1;
    sov_xml_string(&x, "string(/disk/target/@dev)", dev, sizeof(dev));
    if (check_dev(dev, err) < 0 || sov_lv_dom_lookup(h, uuid, &d, err) < 0)
        return -1;
    active = virDomainIsActive(d) == 1;
    in_config = disk_find(d, VIR_DOMAIN_XML_INACTIVE, dev, NULL, NULL, 0, err);
    if (in_config < 0)
        return -1;
    if (sov_lv_is_test(h))
        return in_config ? 0 : test_redefine(h, d, dev, disk_xml, err);
    if (active && (in_live = disk_find(d, 0, dev, NULL, NULL, 0, err)) < 0)
        return -1;
    if (!in_config)
        flags |= VIR_DOMAIN_AFFECT_CONFIG;
    if (!in_live)
        flags |= VIR_DOMAIN_AFFECT_LIVE;
    if (flags == 0)
        return 0;
    if (virDomainAttachDeviceFlags(d, disk_xml, flags) < 0)
        return sov_lv_error(err, failure_code(), "could not attach disk %s to domain %s", dev,
                            uuid);
    return 0;
}

int
sov_lv_disk_detach(sov_hv *hv, const char *uuid, const char *dev, unsigned timeout_ms,
                   sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virDomain) d = NULL;
    sov_autofree char *config = NULL;
    char alias[64] = "", why[512] = "";
    double deadline;
    int live;

    if (check_dev(dev, err) < 0 || sov_lv_dom_lookup(h, uuid, &d, err) < 0)
        return -1;
    if (sov_lv_is_test(h))
        return test_redefine(h, d, dev, NULL, err);
    switch (disk_find(d, VIR_DOMAIN_XML_INACTIVE, dev, &config, NULL, 0, err)) {
    case -1:
        return -1;
    case 1:
        if (virDomainDetachDeviceFlags(d, config, VIR_DOMAIN_AFFECT_CONFIG) < 0)
            return sov_lv_error(err, failure_code(), "could not detach disk %s from domain %s",
                                dev, uuid);
    }
    if (virDomainIsActive(d) != 1)
        return 0;
    live = disk_find(d, 0, dev, NULL, alias, sizeof(alias), err);
    if (live <= 0)
        return live;
    /* The alias form returns once QEMU has asked the guest; the release is watched here, so
     * a guest that never lets go costs timeout_ms, not libvirt's own wait. A second request
     * while the first is pending fails ("already in the process of unplug"): the watch
     * decides. */
    if (virDomainDetachDeviceAlias(d, alias, VIR_DOMAIN_AFFECT_LIVE) < 0)
        snprintf(why, sizeof(why), "%s", virGetLastErrorMessage());
    deadline = now_ms() + timeout_ms;
    for (;;) {
        live = disk_find(d, 0, dev, NULL, NULL, 0, err);
        if (live <= 0)
            return live;
        if (now_ms() >= deadline)
            break;
        sleep_ms(POLL_MS);
    }
    sov_error_set(err, SOV_E_CONFLICT, "the guest has not released %s", dev);
    return sov_error_detail(err, "waited %u ms%s%s", timeout_ms, why[0] ? "; libvirt: " : "",
                            why);
}

int
sov_lv_disk_present(sov_hv *hv, const char *uuid, const char *dev, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virDomain) d = NULL;

    if (check_dev(dev, err) < 0 || sov_lv_dom_lookup(h, uuid, &d, err) < 0)
        return -1;
    return disk_find(d, live_flags(h, d), dev, NULL, NULL, 0, err);
}

/* The test driver's disk at dev is a pool volume (or nothing to resize). */
static int
test_disk_volume(virDomainPtr d, const char *dev, char *pool, char *vol, size_t size,
                 sov_error *err)
{
    sov_autofree char *xml = NULL;
    xml_autoview x = { 0 };
    char expr[128];
    int rc = disk_find(d, VIR_DOMAIN_XML_INACTIVE, dev, &xml, NULL, 0, err);

    if (rc <= 0)
        return rc < 0 ? -1
                      : sov_error_set(err, SOV_E_NOT_FOUND, "domain %s has no disk %s",
                                      virDomainGetName(d), dev);
    if (sov_xml_view_parse(&x, xml, "disk XML", err) < 0)
        return -1;
    snprintf(expr, sizeof(expr), "string(/disk/source/@pool)");
    sov_xml_string(&x, expr, pool, size);
    sov_xml_string(&x, "string(/disk/source/@volume)", vol, size);
    return pool[0] && vol[0] ? 1 : 0;
}

int
sov_lv_disk_resize(sov_hv *hv, const char *uuid, const char *dev, long long capacity_gib,
                   sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virDomain) d = NULL;
    unsigned long long bytes = (unsigned long long) capacity_gib * GIB;
    virDomainBlockInfo bi;
    char pool[256], vol[256];
    int rc;

    if (check_dev(dev, err) < 0 || sov_lv_dom_lookup(h, uuid, &d, err) < 0)
        return -1;
    if (capacity_gib < 1)
        return sov_error_invalid(err, "size_gib", "a volume needs at least 1 GiB");
    if (sov_lv_is_test(h)) {
        rc = test_disk_volume(d, dev, pool, vol, sizeof(pool), err);
        return rc <= 0 ? rc : sov_lv_volume_resize(hv, pool, vol, capacity_gib, NULL, err);
    }
    if (virDomainIsActive(d) != 1)
        return sov_error_set(err, SOV_E_CONFLICT, "domain %s is not running", uuid);
    if (virDomainGetBlockInfo(d, dev, &bi, 0) < 0)
        return sov_lv_error(err, failure_code(), "could not read disk %s of domain %s", dev,
                            uuid);
    if (bytes < bi.capacity)
        return sov_error_invalid(err, "size_gib", "disk %s has %lld GiB: it cannot shrink", dev,
                                 (long long) (bi.capacity / GIB));
    if (bytes == bi.capacity)
        return 0;
    if (virDomainBlockResize(d, dev, bytes, VIR_DOMAIN_BLOCK_RESIZE_BYTES) < 0)
        return sov_lv_error(err, failure_code(), "could not resize disk %s of domain %s", dev,
                            uuid);
    return 0;
}

/* The backup job: every disk but dev left out, dev pushed into the file at path. */
static int
backup_xml(virDomainPtr d, const char *dev, const char *path, const char *secret_uuid,
           char **ret, sov_error *err)
{
    sov_autofree char *xml = virDomainGetXMLDesc(d, 0);
    xml_autoview x = { 0 };
    sov_autoptr(xmlXPathObject) o = NULL;
    sov_buf b = SOV_BUF_INIT;

    if (!xml)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read domain %s",
                            virDomainGetName(d));
    if (sov_xml_view_parse(&x, xml, "domain XML", err) < 0)
        return -1;
    o = xmlXPathEvalExpression((const xmlChar *) "/domain/devices/disk/target/@dev", x.xp);
    sov_buf_puts(&b, "<domainbackup mode='push'><disks>");
    for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
        xmlChar *other = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
        if (other && strcmp((const char *) other, dev) != 0) {
            sov_buf_puts(&b, "<disk name='");
            sov_buf_xml_escaped(&b, (const char *) other);
            sov_buf_puts(&b, "' backup='no'/>");
        }
        xmlFree(other);
    }
    sov_buf_printf(&b, "<disk name='%s' backup='yes' type='file'><driver type='qcow2'/>", dev);
    sov_buf_puts(&b, "<target file='");
    sov_buf_xml_escaped(&b, path);
    sov_buf_puts(&b, "'>");
    if (secret_uuid)
        sov_buf_printf(&b, "<encryption format='luks'><secret type='passphrase' uuid='%s'/>"
                           "</encryption>", secret_uuid);
    sov_buf_puts(&b, "</target></disk></disks></domainbackup>");
    if (b.oom) {
        sov_buf_release(&b);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    *ret = sov_buf_steal(&b, NULL);
    return 0;
}

/* Wait for the domain's job to end; 0 when the last completed job is a backup that
 * succeeded. */
static int
backup_wait(virDomainPtr d, const char *dev, sov_error *err)
{
    virDomainJobInfo ji;
    virTypedParameterPtr params = NULL;
    int type = VIR_DOMAIN_JOB_NONE, nparams = 0, op = 0;
    char why[256] = "";

    for (;;) {
        if (virDomainGetJobInfo(d, &ji) < 0)
            return sov_lv_error(err, failure_code(), "could not follow the snapshot of %s", dev);
        if (ji.type == VIR_DOMAIN_JOB_NONE)
            break;
        /* A small disk's job takes tens of milliseconds: a coarse poll would double it. */
        sleep_ms(JOB_POLL_MS);
    }
    if (virDomainGetJobStats(d, &type, &params, &nparams, VIR_DOMAIN_JOB_STATS_COMPLETED) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read the snapshot job of %s", dev);
    virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &op);
    {
        const char *e = NULL;
        if (virTypedParamsGetString(params, nparams, VIR_DOMAIN_JOB_ERRMSG, &e) == 1 && e)
            snprintf(why, sizeof(why), "%s", e);
    }
    virTypedParamsFree(params, nparams);
    if (type != VIR_DOMAIN_JOB_COMPLETED || op != VIR_DOMAIN_JOB_OPERATION_BACKUP) {
        sov_error_set(err, SOV_E_UNAVAILABLE, "the snapshot of disk %s failed", dev);
        return sov_error_detail(err, "job type %d, operation %d: %s", type, op,
                                why[0] ? why : "libvirt gave no reason");
    }
    return 0;
}

/* The test driver has no backup: the snapshot is a volume of the disk's size. */
static int
test_snapshot(lv_hv *h, virDomainPtr d, const char *dev, const char *pool, const char *target,
              sov_error *err)
{
    sov_autoptr(virStorageVol) v = NULL;
    virStorageVolInfo info;
    char spool[256], svol[256];
    int rc = test_disk_volume(d, dev, spool, svol, sizeof(spool), err);

    if (rc <= 0)
        return rc < 0 ? -1 : sov_error_set(err, SOV_E_CONFLICT, "disk %s is no volume", dev);
    if (sov_lv_vol_lookup(h, spool, svol, false, &v, err) < 0)
        return -1;
    if (virStorageVolGetInfo(v, &info) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", svol);
    return create_with(h, pool, target, info.capacity, NULL, NULL, false, err);
}

int
sov_lv_disk_snapshot(sov_hv *hv, const char *uuid, const char *dev, const char *pool,
                     const char *target, const char *secret_uuid, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virDomain) d = NULL;
    sov_autoptr(virStorageVol) v = NULL;
    sov_autofree char *path = NULL, *xml = NULL;
    virDomainBlockInfo bi;

    if (check_dev(dev, err) < 0 || (secret_uuid && check_uuid(secret_uuid, err) < 0) ||
        sov_lv_dom_lookup(h, uuid, &d, err) < 0)
        return -1;
    /* A target left by an earlier run may be partial: the snapshot is taken anew. libvirt
     * made it, so it knows it without a refresh (which reads every volume of the pool). */
    switch (vol_exists(h, pool, target, err)) {
    case -1:
        return -1;
    case 1:
        if (sov_lv_volume_delete(hv, pool, target, err) < 0)
            return -1;
    }
    if (sov_lv_is_test(h))
        return test_snapshot(h, d, dev, pool, target, err);
    if (virDomainIsActive(d) != 1)
        return sov_error_set(err, SOV_E_CONFLICT, "domain %s is not running", uuid);
    if (virDomainGetBlockInfo(d, dev, &bi, 0) < 0)
        return sov_lv_error(err, failure_code(), "could not read disk %s of domain %s", dev,
                            uuid);
    if (create_with(h, pool, target, bi.capacity, NULL, secret_uuid, secret_uuid != NULL,
                    err) < 0 ||
        sov_lv_vol_lookup(h, pool, target, false, &v, err) < 0)
        return -1;
    path = virStorageVolGetPath(v);
    if (!path) {
        sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", target);
        goto fail;
    }
    if (backup_xml(d, dev, path, secret_uuid, &xml, err) < 0)
        goto fail;
    if (virDomainBackupBegin(d, xml, NULL, VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL) < 0) {
        sov_lv_error(err, failure_code(), "could not snapshot disk %s of domain %s", dev, uuid);
        goto fail;
    }
    if (backup_wait(d, dev, err) < 0)
        goto fail;
    return 0;
fail:
    /* No half-made snapshot stays in the pool. */
    if (virStorageVolDelete(v, 0) < 0)
        sov_log_debug("could not delete half-made snapshot '%s': %s", target,
                      virGetLastErrorMessage());
    return -1;
}
