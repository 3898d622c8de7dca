/* hv_libvirt_guest.c: what instances need of libvirt: the NAT network, volumes in the
 * storage pool, and domains. Every call is safe to repeat (a second define redefines, a
 * second start finds it running, deleting what is gone succeeds): workers run operations
 * again after a crash, and must find the work half done without stumbling. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv_libvirt_int.h"
#include "sov/log.h"

extern char **environ;

bool
sov_lv_is_test(lv_hv *h)
{
    const char *type = virConnectGetType(h->conn);
    return type && strcmp(type, "TEST") == 0;
}

bool
sov_lv_no_such(int code)
{
    return code == VIR_ERR_NO_DOMAIN || code == VIR_ERR_NO_STORAGE_VOL ||
           code == VIR_ERR_NO_NETWORK || code == VIR_ERR_NO_STORAGE_POOL ||
           code == VIR_ERR_NO_SECRET;
}

/* ---- network ---- */

/* "10.231.0.0/24" -> gateway 10.231.0.1, DHCP .2 to .254. Only /24 is offered: enough
 * guests for a host, and nothing to compute. */
static int
parse_cidr24(const char *cidr, unsigned o[3], sov_error *err)
{
    unsigned last, bits;

    if (sscanf(cidr, "%u.%u.%u.%u/%u", &o[0], &o[1], &o[2], &last, &bits) != 5 ||
        o[0] > 255 || o[1] > 255 || o[2] > 255 || last != 0 || bits != 24)
        return sov_error_invalid(err, "nat_cidr", "nat_cidr must be a /24 like 10.231.0.0/24");
    return 0;
}

int
sov_lv_network_ensure(sov_hv *hv, const char *name, const char *cidr, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virNetwork) net = NULL;
    unsigned o[3];
    char ename[256], xml[1024];

    if (parse_cidr24(cidr, o, err) < 0 || sov_xml_escape(ename, sizeof(ename), name) < 0)
        return err->code ? -1 : sov_error_set(err, SOV_E_INVALID, "network name too long");
    net = virNetworkLookupByName(h->conn, name);
    if (!net) {
        if (!sov_lv_no_such(virGetLastErrorCode()))
            return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not look up network '%s'", name);
        snprintf(xml, sizeof(xml),
                 "<network><name>%s</name><forward mode='nat'/>"
                 "<ip address='%u.%u.%u.1' netmask='255.255.255.0'>"
                 "<dhcp><range start='%u.%u.%u.2' end='%u.%u.%u.254'/></dhcp></ip></network>",
                 ename, o[0], o[1], o[2], o[0], o[1], o[2], o[0], o[1], o[2]);
        net = virNetworkDefineXML(h->conn, xml);
        /* Another worker may have defined it a moment ago. */
        if (!net && !(net = virNetworkLookupByName(h->conn, name)))
            return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not define network '%s'", name);
        virNetworkSetAutostart(net, 1);
    }
    if (virNetworkIsActive(net) != 1 && virNetworkCreate(net) < 0 &&
        virNetworkIsActive(net) != 1)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not start network '%s'", name);
    return 0;
}

int
sov_lv_network_remove(sov_hv *hv, const char *name, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virNetwork) net = virNetworkLookupByName(h->conn, name);

    if (!net)
        return sov_lv_no_such(virGetLastErrorCode())
                   ? 0
                   : sov_lv_error(err, SOV_E_UNAVAILABLE, "could not look up network '%s'", name);
    if (virNetworkIsActive(net) == 1 && virNetworkDestroy(net) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not stop network '%s'", name);
    if (virNetworkUndefine(net) < 0 && !sov_lv_no_such(virGetLastErrorCode()))
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not undefine network '%s'", name);
    return 0;
}

/* ---- volumes ---- */

int
sov_lv_pool_lookup(lv_hv *h, const char *pool, virStoragePoolPtr *ret, sov_error *err)
{
    virStoragePoolPtr p = virStoragePoolLookupByName(h->conn, pool);

    if (!p)
        return sov_lv_error(err, sov_lv_no_such(virGetLastErrorCode()) ? SOV_E_NOT_FOUND
                                                             : SOV_E_UNAVAILABLE,
                        "could not find storage pool '%s'", pool);
    *ret = p;
    return 0;
}

int
sov_lv_pool_path(sov_hv *hv, const char *pool, char *ret, size_t size, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virStoragePool) p = NULL;
    sov_autofree char *xml = NULL;
    xml_autoview v = { 0 };

    if (sov_lv_pool_lookup(h, pool, &p, err) < 0)
        return -1;
    xml = virStoragePoolGetXMLDesc(p, 0);
    if (!xml)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read storage pool '%s'", pool);
    if (sov_xml_view_parse(&v, xml, "pool XML", err) < 0)
        return -1;
    sov_xml_string(&v, "string(/pool/target/path)", ret, size);
    if (!ret[0])
        return sov_error_set(err, SOV_E_INTERNAL, "storage pool '%s' has no path", pool);
    return 0;
}

/* A volume in pool; SOV_E_NOT_FOUND when it is not there. The pool is refreshed first when
 * asked: files appear in it behind libvirt's back (virtlogd's console logs). */
int
sov_lv_vol_lookup(lv_hv *h, const char *pool, const char *name, bool refresh,
                  virStorageVolPtr *ret, sov_error *err)
{
    sov_autoptr(virStoragePool) p = NULL;
    virStorageVolPtr v;

    if (sov_lv_pool_lookup(h, pool, &p, err) < 0)
        return -1;
    if (refresh)
        virStoragePoolRefresh(p, 0);
    v = virStorageVolLookupByName(p, name);
    if (!v)
        return sov_lv_error(err, sov_lv_no_such(virGetLastErrorCode()) ? SOV_E_NOT_FOUND
                                                             : SOV_E_UNAVAILABLE,
                        "could not find volume '%s'", name);
    *ret = v;
    return 0;
}

int
sov_lv_volume_path(sov_hv *hv, const char *pool, const char *name, char *ret, size_t size,
                   sov_error *err)
{
    sov_autoptr(virStorageVol) v = NULL;
    sov_autofree char *path = NULL;

    if (sov_lv_vol_lookup((lv_hv *) hv, pool, name, false, &v, err) < 0)
        return -1;
    path = virStorageVolGetPath(v);
    if (!path)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", name);
    snprintf(ret, size, "%s", path);
    return 0;
}

static int
create_vol(lv_hv *h, const char *pool, const char *xml, const char *name,
           virStorageVolPtr *ret, sov_error *err)
{
    sov_autoptr(virStoragePool) p = NULL;
    virStorageVolPtr v;

    if (sov_lv_pool_lookup(h, pool, &p, err) < 0)
        return -1;
    v = virStorageVolCreateXML(p, xml, 0);
    if (!v)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not create volume '%s'", name);
    *ret = v;
    return 0;
}

int
sov_lv_volume_upload(sov_hv *hv, const char *pool, const char *name, const char *format,
                     const char *file, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virStorageVol) v = NULL;
    sov_autoptr(virStream) st = NULL;
    sov_autoclose int fd = -1;
    struct stat sb;
    char ename[256], xml[1024], buf[256 * 1024];
    ssize_t n;

    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not read '%s': %s", file,
                             strerror(errno));
    if (sov_xml_escape(ename, sizeof(ename), name) < 0)
        return sov_error_set(err, SOV_E_INVALID, "volume name too long");
    /* The file's own bytes replace what libvirt creates: the capacity is only its size. */
    snprintf(xml, sizeof(xml),
             "<volume><name>%s</name><capacity unit='bytes'>%lld</capacity>"
             "<allocation unit='bytes'>0</allocation>"
             "<target><format type='raw'/></target></volume>",
             ename, (long long) sb.st_size);
    (void) format;
    if (create_vol(h, pool, xml, name, &v, err) < 0)
        return -1;
    st = virStreamNew(h->conn, 0);
    if (!st || virStorageVolUpload(v, st, 0, (unsigned long long) sb.st_size, 0) < 0) {
        /* The test driver stands for hosts in tests and benchmarks; it has no bytes to
         * receive them into. The volume of the right size is what it can hold. */
        if (virGetLastErrorCode() == VIR_ERR_NO_SUPPORT && sov_lv_is_test(h))
            return 0;
        sov_lv_error(err, SOV_E_UNAVAILABLE, "could not upload to volume '%s'", name);
        virStorageVolDelete(v, 0);
        return -1;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (ssize_t off = 0; off < n;) {
            int w = virStreamSend(st, buf + off, (size_t) (n - off));
            if (w < 0) {
                sov_lv_error(err, SOV_E_UNAVAILABLE, "could not upload to volume '%s'", name);
                virStreamAbort(st);
                virStorageVolDelete(v, 0);
                return -1;
            }
            off += w;
        }
    }
    if (n < 0 || virStreamFinish(st) < 0) {
        if (n < 0)
            sov_error_set(err, SOV_E_INTERNAL, "could not read '%s': %s", file,
                          strerror(errno));
        else
            sov_lv_error(err, SOV_E_UNAVAILABLE, "could not upload to volume '%s'", name);
        virStreamAbort(st);
        virStorageVolDelete(v, 0);
        return -1;
    }
    return 0;
}

int
sov_lv_volume_overlay(sov_hv *hv, const char *pool, const char *name, const char *backing,
                      const char *backing_format, long long capacity_gib, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virStorageVol) v = NULL;
    char ename[256], bpath[4096], epath[8192], xml[9000];

    if (sov_lv_volume_path(hv, pool, backing, bpath, sizeof(bpath), err) < 0)
        return -1;
    if (sov_xml_escape(ename, sizeof(ename), name) < 0 ||
        sov_xml_escape(epath, sizeof(epath), bpath) < 0)
        return sov_error_set(err, SOV_E_INVALID, "volume name or path too long");
    snprintf(xml, sizeof(xml),
             "<volume><name>%s</name><capacity unit='GiB'>%lld</capacity>"
             "<target><format type='qcow2'/></target>"
             "<backingStore><path>%s</path><format type='%s'/></backingStore></volume>",
             ename, capacity_gib, epath,
             strcmp(backing_format, "qcow2") == 0 ? "qcow2" : "raw");
    return create_vol(h, pool, xml, name, &v, err);
}

int
sov_lv_volume_delete(sov_hv *hv, const char *pool, const char *name, sov_error *err)
{
    sov_autoptr(virStorageVol) v = NULL;

    if (sov_lv_vol_lookup((lv_hv *) hv, pool, name, true, &v, err) < 0)
        return err->code == SOV_E_NOT_FOUND ? (sov_error_clear(err), 0) : -1;
    if (virStorageVolDelete(v, 0) < 0 && !sov_lv_no_such(virGetLastErrorCode()))
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not delete volume '%s'", name);
    return 0;
}

typedef struct sink {
    char *buf;
    size_t len, cap;
} sink;

static int
take_bytes(virStreamPtr st, const char *data, size_t n, void *arg)
{
    sink *s = arg;

    (void) st;
    if (s->len + n > s->cap)
        n = s->cap - s->len;
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    return (int) n;
}

int
sov_lv_volume_tail(sov_hv *hv, const char *pool, const char *name, size_t max, char **ret,
                   size_t *len, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virStorageVol) v = NULL;
    sov_autoptr(virStream) st = NULL;
    virStorageVolInfo info;
    unsigned long long offset;
    sink s = { 0 };

    *ret = NULL;
    *len = 0;
    if (sov_lv_vol_lookup(h, pool, name, true, &v, err) < 0) {
        if (err->code != SOV_E_NOT_FOUND)
            return -1;
        sov_error_clear(err);
        *ret = calloc(1, 1);
        return *ret ? 0 : sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    if (virStorageVolGetInfo(v, &info) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", name);
    offset = info.capacity > max ? info.capacity - max : 0;
    s.cap = (size_t) (info.capacity - offset);
    s.buf = malloc(s.cap + 1);
    st = virStreamNew(h->conn, 0);
    if (!s.buf || !st)
        return free(s.buf), sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (s.cap > 0 && sov_lv_is_test(h)) {
        s.buf[0] = '\0';   /* nothing was ever written to it */
        *ret = s.buf;
        return 0;
    }
    if (s.cap > 0 && (virStorageVolDownload(v, st, offset, s.cap, 0) < 0 ||
                      virStreamRecvAll(st, take_bytes, &s) < 0 || virStreamFinish(st) < 0)) {
        free(s.buf);
        virStreamAbort(st);
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", name);
    }
    s.buf[s.len] = '\0';
    *ret = s.buf;
    *len = s.len;
    return 0;
}

static int
put_bytes(virStreamPtr st, const char *data, size_t n, void *arg)
{
    int fd = *(int *) arg;
    size_t done = 0;

    (void) st;
    while (done < n) {
        ssize_t w = write(fd, data + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        done += (size_t) w;
    }
    return (int) n;
}

/* The test driver holds no bytes: an empty qcow2 of the volume's capacity stands for them,
 * made by qemu-img (no shell) so that what reads it finds a real image. */
static int
test_download(const char *file, unsigned long long capacity, sov_error *err)
{
    char size[32];
    char *const argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", (char *) file, size,
                           NULL };
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status, rc;

    snprintf(size, sizeof(size), "%llu", capacity);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawnp(&pid, "qemu-img", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not run qemu-img: %s", strerror(rc));
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return sov_error_set(err, SOV_E_INTERNAL, "could not wait for qemu-img");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return sov_error_set(err, SOV_E_INTERNAL, "qemu-img create failed (status %d)",
                             status);
    return 0;
}

int
sov_lv_volume_download(sov_hv *hv, const char *pool, const char *name, const char *file,
                       sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virStorageVol) v = NULL;
    sov_autoptr(virStream) st = NULL;
    virStorageVolInfo info;
    int fd;

    if (sov_lv_vol_lookup(h, pool, name, true, &v, err) < 0)
        return -1;
    if (virStorageVolGetInfo(v, &info) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", name);
    unlink(file);
    if (sov_lv_is_test(h))
        return test_download(file, info.capacity, err);
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not write '%s': %s", file,
                             strerror(errno));
    st = virStreamNew(h->conn, 0);
    if (!st || virStorageVolDownload(v, st, 0, 0, 0) < 0 ||
        virStreamRecvAll(st, put_bytes, &fd) < 0 || virStreamFinish(st) < 0) {
        if (st)
            virStreamAbort(st);
        close(fd);
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", name);
    }
    if (fsync(fd) < 0 || close(fd) < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not write '%s': %s", file,
                             strerror(errno));
    return 0;
}

/* ---- domains ---- */

int
sov_lv_dom_lookup(lv_hv *h, const char *uuid, virDomainPtr *ret, sov_error *err)
{
    virDomainPtr d = virDomainLookupByUUIDString(h->conn, uuid);

    if (!d)
        return sov_lv_error(err, sov_lv_no_such(virGetLastErrorCode()) ? SOV_E_NOT_FOUND
                                                             : SOV_E_UNAVAILABLE,
                        "could not find domain %s", uuid);
    *ret = d;
    return 0;
}

int
sov_lv_define(sov_hv *hv, const char *xml, sov_error *err)
{
    sov_autoptr(virDomain) d = virDomainDefineXML(((lv_hv *) hv)->conn, xml);

    if (!d)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not define the domain");
    return 0;
}

/* After a call that failed: is the domain running? The failure's error is saved first (a
 * successful call clears the thread's last error, and the failure's words, say "Failed to
 * create PTY: Permission denied", are what the caller reports). */
static int
active_after_failure(virDomainPtr d, virErrorPtr *saved)
{
    *saved = virSaveLastError();
    return virDomainIsActive(d);
}

int
sov_lv_start(sov_hv *hv, const char *uuid, sov_error *err)
{
    sov_autoptr(virDomain) d = NULL;

    if (sov_lv_dom_lookup((lv_hv *) hv, uuid, &d, err) < 0)
        return -1;
    if (virDomainIsActive(d) == 1)
        return 0;
    if (virDomainCreate(d) < 0) {
        virErrorPtr e;
        if (active_after_failure(d, &e) != 1)
            return sov_lv_error_saved(err, SOV_E_UNAVAILABLE, e, "could not start domain %s", uuid);
        virFreeError(e);
    }
    return 0;
}

int
sov_lv_stop(sov_hv *hv, const char *uuid, bool force, sov_error *err)
{
    sov_autoptr(virDomain) d = NULL;
    int rc;

    if (sov_lv_dom_lookup((lv_hv *) hv, uuid, &d, err) < 0)
        return -1;
    if (virDomainIsActive(d) != 1)
        return 0;
    rc = force ? virDomainDestroy(d) : virDomainShutdown(d);
    if (rc < 0) {
        virErrorPtr e;
        if (active_after_failure(d, &e) == 1)
            return sov_lv_error_saved(err, SOV_E_UNAVAILABLE, e, "could not stop domain %s", uuid);
        virFreeError(e);
    }
    return 0;
}

int
sov_lv_reboot(sov_hv *hv, const char *uuid, sov_error *err)
{
    sov_autoptr(virDomain) d = NULL;

    if (sov_lv_dom_lookup((lv_hv *) hv, uuid, &d, err) < 0)
        return -1;
    /* A guest without ACPI handling never reboots when asked: reset is what a power
     * button's owner would do, and what the guest's disks survive. */
    if (virDomainReset(d, 0) < 0 && virDomainReboot(d, 0) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not reboot domain %s", uuid);
    return 0;
}

int
sov_lv_undefine(sov_hv *hv, const char *uuid, sov_error *err)
{
    sov_autoptr(virDomain) d = NULL;

    if (sov_lv_dom_lookup((lv_hv *) hv, uuid, &d, err) < 0)
        return err->code == SOV_E_NOT_FOUND ? (sov_error_clear(err), 0) : -1;
    if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0) {
        virErrorPtr e;
        if (active_after_failure(d, &e) == 1)
            return sov_lv_error_saved(err, SOV_E_UNAVAILABLE, e, "could not destroy domain %s",
                                      uuid);
        virFreeError(e);
    }
    if (virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                      VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                                      VIR_DOMAIN_UNDEFINE_NVRAM) < 0 &&
        virDomainUndefine(d) < 0 && !sov_lv_no_such(virGetLastErrorCode()))
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not undefine domain %s", uuid);
    return 0;
}

static sov_domain_state
map_state(int s)
{
    switch (s) {
    case VIR_DOMAIN_RUNNING: return SOV_DOMAIN_RUNNING;
    case VIR_DOMAIN_SHUTOFF:
    case VIR_DOMAIN_CRASHED: return SOV_DOMAIN_STOPPED;
    case VIR_DOMAIN_PAUSED:
    case VIR_DOMAIN_PMSUSPENDED: return SOV_DOMAIN_PAUSED;
    default: return SOV_DOMAIN_OTHER;
    }
}

int
sov_lv_state(sov_hv *hv, const char *uuid, sov_domain_state *ret, sov_error *err)
{
    sov_autoptr(virDomain) d = NULL;
    int s, reason;

    if (sov_lv_dom_lookup((lv_hv *) hv, uuid, &d, err) < 0) {
        if (err->code != SOV_E_NOT_FOUND)
            return -1;
        sov_error_clear(err);
        *ret = SOV_DOMAIN_NONE;
        return 0;
    }
    if (virDomainGetState(d, &s, &reason, 0) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read domain %s", uuid);
    *ret = map_state(s);
    return 0;
}

/* Our metadata: <instance><id>..</id><tenant>..</tenant></instance>. */
static void
read_metadata(virDomainPtr d, sov_hv_domain *out)
{
    sov_autofree char *xml = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT,
                                                  SOV_HV_METADATA_NS, 0);
    xml_autoview v = { 0 };
    sov_error ignored = SOV_ERROR_INIT;

    if (!xml || sov_xml_view_parse(&v, xml, "domain metadata", &ignored) < 0)
        return;
    sov_xml_string(&v, "string(/*/*[local-name()='id'])", out->instance_id,
                   sizeof(out->instance_id));
    sov_xml_string(&v, "string(/*/*[local-name()='control-plane'])", out->control_plane,
                   sizeof(out->control_plane));
    sov_xml_string(&v, "string(/*/*[local-name()='tenant'])", out->tenant_id,
                   sizeof(out->tenant_id));
}

int
sov_lv_list(sov_hv *hv, const char *prefix, sov_hv_domain **ret, size_t *n, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    virDomainPtr *doms = NULL;
    sov_hv_domain *out;
    int count;
    size_t k = 0;

    count = virConnectListAllDomains(h->conn, &doms, 0);
    if (count < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not list domains");
    out = calloc((size_t) count + 1, sizeof(*out));
    for (int i = 0; i < count; i++) {
        const char *name = virDomainGetName(doms[i]);
        int s, reason;
        if (out && name && strncmp(name, prefix, strlen(prefix)) == 0) {
            sov_hv_domain *o = &out[k++];
            snprintf(o->name, sizeof(o->name), "%s", name);
            virDomainGetUUIDString(doms[i], o->uuid);
            o->state = virDomainGetState(doms[i], &s, &reason, 0) < 0 ? SOV_DOMAIN_OTHER
                                                                       : map_state(s);
            read_metadata(doms[i], o);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    if (!out)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    *ret = out;
    *n = k;
    return 0;
}

int
sov_lv_addresses(sov_hv *hv, const char *uuid, char *ret, size_t size, sov_error *err)
{
    sov_autoptr(virDomain) d = NULL;
    virDomainInterfacePtr *ifs = NULL;
    int n;
    size_t len = 0;

    ret[0] = '\0';
    if (sov_lv_dom_lookup((lv_hv *) hv, uuid, &d, err) < 0)
        return -1;
    n = virDomainInterfaceAddresses(d, &ifs, VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, 0);
    if (n < 0) {
        /* The test driver and stopped domains have no leases: no addresses, no error. */
        return 0;
    }
    for (int i = 0; i < n; i++) {
        for (unsigned j = 0; j < ifs[i]->naddrs; j++) {
            const virDomainIPAddress *a = &ifs[i]->addrs[j];
            if (a->type != VIR_IP_ADDR_TYPE_IPV4 || !a->addr || len >= size)
                continue;
            len += (size_t) snprintf(ret + len, size - len, "%s%s", len ? "," : "", a->addr);
        }
        virDomainInterfaceFree(ifs[i]);
    }
    free(ifs);
    return 0;
}
