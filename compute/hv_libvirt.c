/* hv_libvirt.c: the hypervisor table for every libvirt URI; the only file including libvirt.h.
 *
 * One handle is one virConnect. Discovery reads node info, capabilities, memory stats, the
 * storage pool (made when missing) and PCI node devices, and decides KVM or TCG as
 * ../shared/PLATFORM.md says. Errors carry libvirt's own message: in err->detail always,
 * and after a short "could not ..." in err->msg, since hosts are an operator's business and
 * libvirt's words are what an operator needs ("Failed to connect socket to ..."). libvirt's
 * default error handler prints every error to stderr; a silent one is installed once, with
 * virInitialize(), before the first connection. */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <unistd.h>

#include "hv_libvirt_int.h"
#include "sov/buf.h"
#include "sov/crypto.h"
#include "sov/log.h"



/* ---- errors ---- */

static void
silent(void *arg, virErrorPtr e)
{
    (void) arg;
    (void) e;
}

/* libxml2's generic handler: the test driver parses its host file in this process, and a
 * missing file would otherwise put a line of libxml2's on sovd's JSON log stream. */
static void
silent_xml(void *arg, const char *fmt, ...)
{
    (void) arg;
    (void) fmt;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void
init(void)
{
    /* libxml2 must be set up once before threads parse concurrently; libvirt does the
     * same, but discovery parses on its own. */
    xmlInitParser();
    init_rc = virInitialize();
    virSetErrorFunc(NULL, silent);
}

static int
error_with(sov_error *err, sov_errcode code, const char *lv, const char *fmt, va_list ap)
{
    char what[256];

    vsnprintf(what, sizeof(what), fmt, ap);
    /* libvirt's words name hosts, paths and sockets: they go to the detail, which only
     * operators see; callers that answer operators put them back in the message. */
    sov_error_set(err, code, "%s", what);
    return sov_error_detail(err, "%s", lv && *lv ? lv : "libvirt gave no reason");
}

int
sov_lv_error(sov_error *err, sov_errcode code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_with(err, code, virGetLastErrorMessage(), fmt, ap);
    va_end(ap);
    return -1;
}

int
sov_lv_error_saved(sov_error *err, sov_errcode code, virErrorPtr saved, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_with(err, code, saved ? saved->message : NULL, fmt, ap);
    va_end(ap);
    virFreeError(saved);
    return -1;
}

/* ---- XML (capabilities, node devices) ---- */

void
sov_xml_view_release(xml_view *v)
{
    xmlXPathFreeContext(v->xp);
    xmlFreeDoc(v->doc);
}

int
sov_xml_view_parse(xml_view *v, const char *xml, const char *what, sov_error *err)
{
    /* libvirt's documents are trusted but still parsed without network access, and
     * libxml2 must not print its complaints to stderr. */
    v->doc = xmlReadMemory(xml, (int) strlen(xml), what, NULL,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    v->xp = v->doc ? xmlXPathNewContext(v->doc) : NULL;
    if (!v->xp)
        return sov_error_set(err, SOV_E_INTERNAL, "could not parse the %s libvirt returned",
                             what);
    return 0;
}

void
sov_xml_string(const xml_view *v, const char *expr, char *buf, size_t size)
{
    sov_autoptr(xmlXPathObject) o = xmlXPathEvalExpression((const xmlChar *) expr, v->xp);

    buf[0] = '\0';
    if (o && o->type == XPATH_STRING && o->stringval)
        snprintf(buf, size, "%s", (const char *) o->stringval);
}

static double
xml_number(const xml_view *v, const char *expr)
{
    sov_autoptr(xmlXPathObject) o = xmlXPathEvalExpression((const xmlChar *) expr, v->xp);

    return o && o->type == XPATH_NUMBER && !isnan(o->floatval) ? o->floatval : 0;
}

int
sov_xml_escape(char *buf, size_t size, const char *s)
{
    sov_buf b = SOV_BUF_INIT;
    int rc = -1;

    sov_buf_xml_escaped(&b, s);
    if (!b.oom && b.len < size) {
        memcpy(buf, b.data ? b.data : "", b.len + 1);
        rc = 0;
    }
    sov_buf_release(&b);
    return rc;
}

/* ---- open, close, alive ---- */

static int
lv_connect(void)
{
    pthread_once(&init_once, init);
    /* libxml2 keeps its error handler per thread: set it on every thread that parses. */
    xmlSetGenericErrorFunc(NULL, silent_xml);
    return init_rc;
}

/* Connections are kept, one per URI, and shared by every handle opened on it: opening is
 * the expensive part (a TLS or SSH handshake to a remote host, QEMU's capability probe),
 * and libvirt's test driver forgets its domains when its last connection closes. A kept
 * connection found dead is dropped and opened anew. */
#define CACHE_MAX 1024

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached {
    char *uri;
    virConnectPtr conn;
} cache[CACHE_MAX];

static void
cache_drop(const char *uri, virConnectPtr conn)
{
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < CACHE_MAX; i++)
        if (cache[i].uri && strcmp(cache[i].uri, uri) == 0 && (!conn || cache[i].conn == conn)) {
            virConnectClose(cache[i].conn);
            free(cache[i].uri);
            cache[i].uri = NULL;
            cache[i].conn = NULL;
        }
    pthread_mutex_unlock(&cache_lock);
}

/* A new reference to the kept connection of uri, or NULL. */
static virConnectPtr
cache_get(const char *uri)
{
    virConnectPtr conn = NULL;

    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < CACHE_MAX && !conn; i++)
        if (cache[i].uri && strcmp(cache[i].uri, uri) == 0 &&
            virConnectIsAlive(cache[i].conn) == 1 && virConnectRef(cache[i].conn) == 0)
            conn = cache[i].conn;
    pthread_mutex_unlock(&cache_lock);
    return conn;
}

static void
cache_put(const char *uri, virConnectPtr conn)
{
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < CACHE_MAX; i++) {
        if (cache[i].uri && strcmp(cache[i].uri, uri) == 0) {
            /* Another thread kept one meanwhile, or a dead one lingers: replace it. */
            virConnectClose(cache[i].conn);
            free(cache[i].uri);
            cache[i].uri = NULL;
        }
    }
    for (size_t i = 0; i < CACHE_MAX; i++) {
        if (!cache[i].uri) {
            cache[i].uri = strdup(uri);
            if (cache[i].uri && virConnectRef(conn) == 0)
                cache[i].conn = conn;
            else {
                free(cache[i].uri);
                cache[i].uri = NULL;
            }
            break;
        }
    }
    pthread_mutex_unlock(&cache_lock);
}

/* A new connection, made ready to share between threads: keep-alive on (remote connections
 * notice a dead peer within 15 s; local ones cannot and say so), and the hypervisor type
 * asked once while only this thread holds it. libvirt's remote driver caches that answer on
 * the connection without a lock: two threads asking first at once both store a copy and
 * one leaks (LeakSanitizer saw it in reliability/libvirtd-restart). */
static virConnectPtr
open_shared(const char *uri)
{
    virConnectPtr conn = virConnectOpen(uri);

    if (!conn)
        return NULL;
    if (virConnectSetKeepAlive(conn, 5, 3) < 0)
        virResetLastError();
    if (!virConnectGetType(conn))
        virResetLastError();
    return conn;
}

static int
lv_open(const char *uri, sov_hv **ret, sov_error *err)
{
    lv_hv *h;
    virConnectPtr conn;

    if (lv_connect() < 0)
        return sov_lv_error(err, SOV_E_INTERNAL, "could not initialise libvirt");
    conn = cache_get(uri);
    if (!conn) {
        cache_drop(uri, NULL);
        conn = open_shared(uri);
        if (!conn)
            return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not connect to '%s'", uri);
        cache_put(uri, conn);
    }
    h = calloc(1, sizeof(*h));
    if (!h) {
        virConnectClose(conn);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    h->base.domain = &sov_hv_libvirt_domain_ops;
    h->conn = conn;
    snprintf(h->uri, sizeof(h->uri), "%s", uri);
    *ret = &h->base;
    return 0;
}

static void
lv_close(sov_hv *hv)
{
    lv_hv *h = (lv_hv *) hv;

    virConnectClose(h->conn);
    free(h);
}

/* virConnectIsAlive only reports what the client already knows about its socket; a round
 * trip proves the daemon answers. */
static int
lv_alive(sov_hv *hv, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    unsigned long version;

    if (virConnectIsAlive(h->conn) == 1 && virConnectGetLibVersion(h->conn, &version) == 0)
        return 0;
    /* The kept connection is dead. A fresh one tells whether the daemon is back (it was
     * restarted), or says why not in libvirt's own words ("Failed to connect socket"). */
    cache_drop(h->uri, h->conn);
    virConnectPtr fresh = open_shared(h->uri);
    if (!fresh || virConnectGetLibVersion(fresh, &version) < 0) {
        sov_lv_error(err, SOV_E_UNAVAILABLE, "hypervisor at '%s' does not answer", h->uri);
        if (fresh)
            virConnectClose(fresh);
        return -1;
    }
    cache_put(h->uri, fresh);
    virConnectClose(h->conn);
    h->conn = fresh;
    return 0;
}

/* ---- discovery: KVM or TCG ---- */

/* A URI without a host part (qemu:///system, qemu+unix:///...?socket=) names this
 * machine, so what this machine offers decides; a remote one is judged by libvirt alone.
 * Without "://" (an alias) we cannot tell, and assume local: the safe side. */
static bool
uri_is_local(const char *uri)
{
    const char *sep = strstr(uri, "://");
    const char *plus = strchr(uri, '+');

    if (!sep)
        return true;
    if (plus && plus < sep && strncmp(plus, "+unix:", 6) == 0)
        return true;
    return sep[3] == '/' || sep[3] == '\0';
}

static bool
cpu_has_virt_flag(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[8192];
    bool found = false;

    if (!f)
        return false;
    while (!found && fgets(line, sizeof(line), f)) {
        char *save = NULL;
        if (strncmp(line, "flags", 5) != 0)
            continue;
        for (char *w = strtok_r(line, " \t\n:", &save); w; w = strtok_r(NULL, " \t\n:", &save))
            if (strcmp(w, "vmx") == 0 || strcmp(w, "svm") == 0)
                found = true;
    }
    fclose(f);
    return found;
}

/* Decide kvm or qemu (TCG) as ../shared/PLATFORM.md says: /dev/kvm alone proves nothing
 * here, since a paravirtual kvm_pvm module provides it and stock guests hang under it. */
static void
choose_hypervisor(lv_hv *h, sov_hv_node *n)
{
    char *caps;

    n->hypervisor_reason[0] = '\0';
    if (uri_is_local(h->uri)) {
        if (access("/dev/kvm", F_OK) != 0)
            snprintf(n->hypervisor_reason, sizeof(n->hypervisor_reason), "no /dev/kvm");
        else if (!cpu_has_virt_flag())
            snprintf(n->hypervisor_reason, sizeof(n->hypervisor_reason),
                     "the CPU has no vmx or svm flag");
        else if (access("/sys/module/kvm_pvm", F_OK) == 0)
            snprintf(n->hypervisor_reason, sizeof(n->hypervisor_reason),
                     "/dev/kvm is the paravirtual kvm_pvm module");
    }
    if (!n->hypervisor_reason[0]) {
        caps = virConnectGetDomainCapabilities(h->conn, NULL, NULL, NULL, "kvm", 0);
        if (!caps)
            snprintf(n->hypervisor_reason, sizeof(n->hypervisor_reason),
                     "libvirt reports no KVM: %s", virGetLastErrorMessage());
        free(caps);
    }
    snprintf(n->hypervisor, sizeof(n->hypervisor), "%s",
             n->hypervisor_reason[0] ? "qemu" : "kvm");
}

/* ---- discovery: the storage pool ---- */

/* Define, build, autostart: a fresh directory pool. A pool defined here and then failing is
 * undefined again, so the next attempt starts clean instead of finding a broken one. */
static int
pool_define(lv_hv *h, const char *pool, const char *path, virStoragePoolPtr *ret,
            sov_error *err)
{
    char ename[256], epath[8192], xml[9000];
    sov_autoptr(virStoragePool) p = NULL;

    if (sov_xml_escape(ename, sizeof(ename), pool) < 0 ||
        sov_xml_escape(epath, sizeof(epath), path) < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "storage pool name or path is too long");
    snprintf(xml, sizeof(xml),
             "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>", ename,
             epath);
    p = virStoragePoolDefineXML(h->conn, xml, 0);
    if (!p) {
        /* Another sovd discovering the same host may have defined it a moment ago; if not,
         * the define's message is the one to tell (another pool on that path, say). */
        char why[512];
        snprintf(why, sizeof(why), "%s", virGetLastErrorMessage());
        p = virStoragePoolLookupByName(h->conn, pool);
        if (!p) {
            sov_error_set(err, SOV_E_UNAVAILABLE, "could not define storage pool '%s': %s",
                          pool, why);
            return sov_error_detail(err, "%s", why);
        }
        *ret = SOV_TAKE_PTR(p);
        return 0;
    }
    if (virStoragePoolBuild(p, 0) < 0 || virStoragePoolSetAutostart(p, 1) < 0) {
        sov_lv_error(err, SOV_E_UNAVAILABLE, "could not build storage pool '%s' at '%s'", pool,
                     path);
        virStoragePoolUndefine(p);
        return -1;
    }
    sov_log_debug("hv %s: defined storage pool '%s' at '%s'", h->uri, pool, path);
    *ret = SOV_TAKE_PTR(p);
    return 0;
}

static int
discover_pool(lv_hv *h, const char *pool, const char *path, sov_hv_node *n, sov_error *err)
{
    sov_autoptr(virStoragePool) p = NULL;
    virStoragePoolInfo info;

    p = virStoragePoolLookupByName(h->conn, pool);
    if (!p) {
        if (virGetLastErrorCode() != VIR_ERR_NO_STORAGE_POOL)
            return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not look up storage pool '%s'",
                                pool);
        if (pool_define(h, pool, path, &p, err) < 0)
            return -1;
    }
    if (virStoragePoolIsActive(p) != 1 && virStoragePoolCreate(p, 0) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not start storage pool '%s'", pool);
    if (virStoragePoolGetInfo(p, &info) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read storage pool '%s'", pool);
    snprintf(n->storage_pool, sizeof(n->storage_pool), "%s", pool);
    n->storage_gib = (long long) (info.capacity >> 30);
    return 0;
}

/* ---- discovery: GPUs ---- */

/* Names from the PCI database are shown and stored joined by a control character (the
 * repository's separator): control characters inside one become spaces. */
static void
scrub(char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x20 || *s == 0x7f)
            *s = ' ';
}

/* Each model once. */
static void
add_gpu_model(sov_hv_node *n, char *model)
{
    scrub(model);
    for (int i = 0; i < n->ngpu_models; i++)
        if (strcmp(n->gpu_models[i], model) == 0)
            return;
    if (n->ngpu_models < SOV_HV_GPU_MODELS_MAX)
        snprintf(n->gpu_models[n->ngpu_models++], sizeof(n->gpu_models[0]), "%s", model);
}

/* One PCI device: a GPU when its class is display (0x03xxxx). */
static int
inspect_pci(virNodeDevicePtr dev, sov_hv_node *n, sov_error *err)
{
    sov_autofree char *xml = virNodeDeviceGetXMLDesc(dev, 0);
    char cls[32], model[128], vendor[16], product[16];
    xml_autoview v = { 0 };

    if (!xml)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read node device '%s'",
                            virNodeDeviceGetName(dev));
    if (sov_xml_view_parse(&v, xml, "node device XML", err) < 0)
        return -1;
    sov_xml_string(&v, "string(/device/capability[@type='pci']/class)", cls, sizeof(cls));
    if (strncasecmp(cls, "0x03", 4) == 0) {
        n->gpus++;
        sov_xml_string(&v, "string(/device/capability[@type='pci']/product)", model, sizeof(model));
        if (!model[0]) {
            /* No name in the PCI database: the ids still tell models apart. */
            sov_xml_string(&v, "string(/device/capability[@type='pci']/vendor/@id)", vendor,
                           sizeof(vendor));
            sov_xml_string(&v, "string(/device/capability[@type='pci']/product/@id)", product,
                           sizeof(product));
            snprintf(model, sizeof(model), "%s:%s", vendor, product);
        }
        add_gpu_model(n, model);
    }
    return 0;
}

static int
cmp_model(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int
discover_gpus(lv_hv *h, sov_hv_node *n, sov_error *err)
{
    virNodeDevicePtr *devs = NULL;
    int ndev, rc = 0;

    ndev = virConnectListAllNodeDevices(h->conn, &devs, VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV);
    if (ndev < 0) {
        /* A daemon without the node device driver has no devices to offer. */
        if (virGetLastErrorCode() == VIR_ERR_NO_SUPPORT) {
            sov_log_debug("hv %s: no node device driver, so no GPUs", h->uri);
            return 0;
        }
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not list PCI devices");
    }
    for (int i = 0; i < ndev; i++) {
        if (rc == 0)
            rc = inspect_pci(devs[i], n, err);
        virNodeDeviceFree(devs[i]);
    }
    free(devs);
    /* libvirt lists devices in no stable order; a sorted list reads the same every time. */
    qsort(n->gpu_models, (size_t) n->ngpu_models, sizeof(n->gpu_models[0]), cmp_model);
    return rc;
}

/* ---- discovery ---- */

/* The kernel's MemTotal in KiB. virNodeGetInfo sums the NUMA cells' memory, and on these
 * machines (paravirtual guests with hot-added memory) cell 0 holds 5 of the 24 GiB the
 * kernel manages; the node memory stats read MemTotal itself. Drivers without them (the test
 * driver) are described by node info alone. */
static unsigned long long
memory_kib(lv_hv *h, const virNodeInfo *ni)
{
    virNodeMemoryStats stats[8];
    int n = 0;

    /* The driver wants exactly as many slots as it has fields: ask how many first. */
    if (virNodeGetMemoryStats(h->conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, NULL, &n, 0) == 0 &&
        n > 0 && n <= (int) SOV_N_ELEMENTS(stats) &&
        virNodeGetMemoryStats(h->conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, stats, &n, 0) == 0)
        for (int i = 0; i < n; i++)
            if (strcmp(stats[i].field, VIR_NODE_MEMORY_STATS_TOTAL) == 0 && stats[i].value > 0)
                return stats[i].value;
    sov_log_debug("hv %s: no node memory stats (%s), memory from node info", h->uri,
                  virGetLastErrorMessage());
    return ni->memory;
}

static int
discover_cpu(lv_hv *h, sov_hv_node *n, sov_error *err)
{
    sov_autofree char *caps = NULL;
    virNodeInfo ni;
    xml_autoview v = { 0 };
    double cells;

    if (virNodeGetInfo(h->conn, &ni) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read node information");
    n->cpus = (int) ni.cpus;
    n->memory_mib = (long long) (memory_kib(h, &ni) / 1024);
    caps = virConnectGetCapabilities(h->conn);
    if (!caps)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read capabilities");
    if (sov_xml_view_parse(&v, caps, "capabilities XML", err) < 0)
        return -1;
    /* The capabilities name the CPU (Skylake-Server-IBRS); node info only its arch. */
    sov_xml_string(&v, "string(/capabilities/host/cpu/model)", n->cpu_model, sizeof(n->cpu_model));
    cells = xml_number(&v, "count(/capabilities/host/topology/cells/cell)");
    if (!n->cpu_model[0])
        snprintf(n->cpu_model, sizeof(n->cpu_model), "%s", ni.model);
    scrub(n->cpu_model);
    /* The test driver describes cells only for its default host; node info has them all. */
    n->numa_cells = cells >= 1 ? (int) cells : ni.nodes > 0 ? (int) ni.nodes : 1;
    return 0;
}

static int
lv_discover(sov_hv *hv, const char *pool, const char *pool_path, sov_hv_node *ret,
            sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    const char *type = virConnectGetType(h->conn);
    sov_hv_node n;

    memset(&n, 0, sizeof(n));
    if (!type)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read the hypervisor type");
    if (discover_cpu(h, &n, err) < 0)
        return -1;
    if (strcmp(type, "TEST") == 0)
        snprintf(n.hypervisor, sizeof(n.hypervisor), "test");
    else
        choose_hypervisor(h, &n);
    if (discover_pool(h, pool, pool_path, &n, err) < 0 || discover_gpus(h, &n, err) < 0)
        return -1;
    *ret = n;
    return 0;
}

/* ---- identity ---- */

/* libvirt's test driver reports no host UUID: its host is its file. test:///default is
 * libvirt's built-in host; test:///path is the file at path, named by the digest of its
 * canonical path, so that two spellings of one file are one machine. */
static void
test_identity(const char *uri, sov_hv_identity *ret)
{
    const char *path = strncmp(uri, "test://", 7) == 0 ? uri + 7 : uri;
    char canon[PATH_MAX], hex[SOV_SHA256_HEX_LEN + 1];

    if (strcmp(path, "/default") == 0 || strcmp(path, "") == 0) {
        snprintf(ret->machine_id, sizeof(ret->machine_id), "test:default");
        return;
    }
    if (!realpath(path, canon))
        snprintf(canon, sizeof(canon), "%s", path);
    sov_sha256_hex(canon, strlen(canon), hex);
    snprintf(ret->machine_id, sizeof(ret->machine_id), "test:%s", hex);
}

static void
lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'F')
            *s = (char) (*s - 'A' + 'a');
}

static int
lv_identify(sov_hv *hv, sov_hv_identity *ret, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    const char *type = virConnectGetType(h->conn);
    sov_autofree char *caps = NULL, *sysinfo = NULL;
    xml_autoview v = { 0 };
    sov_hv_identity id;

    memset(&id, 0, sizeof(id));
    if (!type)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read the hypervisor type");
    if (strcmp(type, "TEST") == 0) {
        test_identity(h->uri, &id);
        *ret = id;
        return 0;
    }
    caps = virConnectGetCapabilities(h->conn);
    if (!caps)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read capabilities");
    if (sov_xml_view_parse(&v, caps, "capabilities XML", err) < 0)
        return -1;
    sov_xml_string(&v, "string(/capabilities/host/uuid)", id.host_uuid, sizeof(id.host_uuid));
    lower(id.host_uuid);
    /* Where the machine has SMBIOS tables (not these paravirtual guests) libvirt gives the
     * system UUID; without them it says "not available", which is no failure. */
    sysinfo = virConnectGetSysinfo(h->conn, 0);
    if (sysinfo) {
        xml_autoview s = { 0 };
        if (sov_xml_view_parse(&s, sysinfo, "sysinfo XML", err) == 0)
            sov_xml_string(&s, "string(/sysinfo/system/entry[@name='uuid'])", id.smbios_uuid,
                           sizeof(id.smbios_uuid));
        sov_error_clear(err);
        lower(id.smbios_uuid);
    } else {
        virResetLastError();
    }
    if (!id.host_uuid[0])
        return sov_error_set(err, SOV_E_UNAVAILABLE,
                             "the hypervisor at '%s' reports no host UUID", h->uri);
    snprintf(id.machine_id, sizeof(id.machine_id), "uuid:%s", id.host_uuid);
    *ret = id;
    return 0;
}

/* One connection handle (lv_hv) serves the three tables: libvirt's storage and network
 * drivers answer on the same virConnect as its hypervisor driver. */
const sov_hv_domain_ops sov_hv_libvirt_domain_ops = {
    .name = "libvirt",
    .open = lv_open,
    .close = lv_close,
    .alive = lv_alive,
    .discover = lv_discover,
    .identify = lv_identify,
    .define = sov_lv_define,
    .start = sov_lv_start,
    .stop = sov_lv_stop,
    .reboot = sov_lv_reboot,
    .undefine = sov_lv_undefine,
    .state = sov_lv_state,
    .list = sov_lv_list,
    .addresses = sov_lv_addresses,
    .disk_attach = sov_lv_disk_attach,
    .disk_detach = sov_lv_disk_detach,
    .disk_present = sov_lv_disk_present,
    .disk_resize = sov_lv_disk_resize,
    .disk_snapshot = sov_lv_disk_snapshot,
    .migrate = sov_lv_migrate,
    .xml = sov_lv_xml,
    .console_open = sov_lv_console_open,
};

const sov_hv_storage_ops sov_hv_libvirt_storage_ops = {
    .name = "libvirt",
    .pool_path = sov_lv_pool_path,
    .volume_path = sov_lv_volume_path,
    .volume_upload = sov_lv_volume_upload,
    .volume_overlay = sov_lv_volume_overlay,
    .volume_delete = sov_lv_volume_delete,
    .volume_tail = sov_lv_volume_tail,
    .volume_create = sov_lv_volume_create,
    .volume_copy = sov_lv_volume_copy,
    .volume_resize = sov_lv_volume_resize,
    .volume_info = sov_lv_volume_info,
    .volume_list = sov_lv_volume_list,
    .secret_define = sov_lv_secret_define,
    .secret_undefine = sov_lv_secret_undefine,
    .secret_list = sov_lv_secret_list,
    .volume_send = sov_lv_volume_send,
    .volume_download = sov_lv_volume_download,
};

const sov_hv_network_ops sov_hv_libvirt_network_ops = {
    .name = "libvirt",
    .network_ensure = sov_lv_network_ensure,
    .network_remove = sov_lv_network_remove,
    .nic_attach = sov_lv_nic_attach,
    .nic_detach = sov_lv_nic_detach,
};
