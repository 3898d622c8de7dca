/* hv_libvirt_migrate.c: moving domains and volumes between hosts: the domain table's
 * migrate and xml, the storage table's volume_send.
 *
 * A live migration is libvirt's peer-to-peer one (virDomainMigrateToURI3): the source's
 * libvirtd dials the target's URI itself, and QEMU sends memory (VIR_MIGRATE_PARAM_URI) and
 * the writable disks' top layers (VIR_MIGRATE_PARAM_DISKS_URI, an NBD export on the target)
 * to tcp://ADDR, the target's address: without them QEMU dials the target's host name, which
 * on a fleet of one machine is the root namespace (PLATFORM.md). The call blocks for the
 * whole job; a watcher thread reads the job's statistics about once a second for the
 * caller's progress callback, sets the maximum downtime once the job runs (libvirt 9 takes
 * it through virDomainMigrateSetMaxDowntime only, not as a parameter of the call), and
 * aborts the job at the caller's timeout (virDomainAbortJob: the guest goes on on the
 * source). The completed job's statistics (its downtime) are read from the target's domain
 * (VIR_DOMAIN_JOB_STATS_COMPLETED): with VIR_MIGRATE_UNDEFINE_SOURCE the source's is gone.
 *
 * A volume is sent through this process: virStorageVolDownload from the source into
 * virStorageVolUpload on the target, as sparse streams (holes are sent as holes). The target
 * is made as an empty file of the source's physical size and takes the source's bytes as
 * they are (a qcow2 with its backing file's name, a LUKS header); a pool refresh then reads
 * its format and capacity from those bytes, and they must be the source's.
 *
 * libvirt's test driver has no migration and no bytes in its volumes. It stands for hosts in
 * integration tests, each test:///path host a state of its own in this process, so the same
 * calls work there on what it holds: a migrate defines the domain's definition on the target
 * and starts it there, then destroys and undefines it on the source (the progress callback
 * called once, the statistics zero); a volume_send makes an empty volume of the source's
 * capacity on the target. */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hv_libvirt_int.h"
#include "sov/log.h"

#define POLL_FIRST_MS 200   /* the first look at a job: a small guest moves in a second */
#define POLL_MS 1000
#define DISKS_MAX 64

/* ---- the test driver's stand-ins ---- */

static void
job_zero(sov_hv_job *j)
{
    *j = (sov_hv_job) { .data_total = 0, .data_processed = 0, .data_remaining = 0,
                        .disk_total = 0, .disk_processed = 0, .elapsed_ms = 0,
                        .downtime_ms = 0, .percent = 100 };
}

/* The definition moves: defined and started on dst first, then destroyed and undefined on
 * src, so a failure on the way leaves it on src (and perhaps defined on dst too, which a
 * rerun redefines). */
static int
test_migrate(lv_hv *src, lv_hv *dst, virDomainPtr d, const char *uuid,
             const sov_hv_migrate_args *a, sov_hv_job *ret, sov_error *err)
{
    sov_autofree char *xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
    sov_hv_job job;
    double t0 = sov_lv_now_ms();

    if (!xml)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read domain %s", uuid);
    if (virDomainIsActive(d) != 1)
        return sov_error_set(err, SOV_E_CONFLICT, "domain %s is not running", uuid);
    job_zero(&job);
    if (a->progress)
        a->progress(a->arg, &job);
    if (sov_lv_define(&dst->base, xml, err) < 0 || sov_lv_start(&dst->base, uuid, err) < 0)
        return -1;
    if (sov_lv_undefine(&src->base, uuid, err) < 0)
        return -1;
    job.elapsed_ms = (long long) (sov_lv_now_ms() - t0);
    *ret = job;
    return 0;
}

/* ---- migrate ---- */

/* A job's statistics as libvirt gives them, -1 where it gives none. */
static void
job_read(virTypedParameterPtr p, int n, sov_hv_job *j)
{
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        { VIR_DOMAIN_JOB_DATA_TOTAL, offsetof(sov_hv_job, data_total) },
        { VIR_DOMAIN_JOB_DATA_PROCESSED, offsetof(sov_hv_job, data_processed) },
        { VIR_DOMAIN_JOB_DATA_REMAINING, offsetof(sov_hv_job, data_remaining) },
        { VIR_DOMAIN_JOB_DISK_TOTAL, offsetof(sov_hv_job, disk_total) },
        { VIR_DOMAIN_JOB_DISK_PROCESSED, offsetof(sov_hv_job, disk_processed) },
        { VIR_DOMAIN_JOB_TIME_ELAPSED, offsetof(sov_hv_job, elapsed_ms) },
        { VIR_DOMAIN_JOB_DOWNTIME, offsetof(sov_hv_job, downtime_ms) },
    };

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        unsigned long long v;
        long long *out = (long long *) (void *) ((char *) j + fields[i].off);
        *out = virTypedParamsGetULLong(p, n, fields[i].name, &v) == 1 ? (long long) v : -1;
    }
    j->percent = 0;
    if (j->data_total > 0 && j->data_processed >= 0)
        j->percent = j->data_processed >= j->data_total
                         ? 100 : (int) (j->data_processed * 100 / j->data_total);
}

/* The job's type (VIR_DOMAIN_JOB_*) and statistics; flags 0 for the running job,
 * VIR_DOMAIN_JOB_STATS_COMPLETED for the one that ended. */
static int
job_stats(virDomainPtr d, unsigned flags, int *type, sov_hv_job *j)
{
    virTypedParameterPtr p = NULL;
    int n = 0;

    if (virDomainGetJobStats(d, type, &p, &n, flags) < 0)
        return -1;
    job_read(p, n, j);
    virTypedParamsFree(p, n);
    return 0;
}

/* The watcher: beside the blocking migrate call, on its own thread. */
typedef struct watch {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;              /* the migrate call returned */
    bool aborted;           /* the job was aborted at the timeout */
    bool seen;              /* a running job was seen: last holds its statistics */
    bool downtime_set;
    sov_hv_job last;
    long long disk_total, disk_processed;   /* the most seen: the target's count lacks them */
    virDomainPtr d;
    const sov_hv_migrate_args *a;
    double t0;
} watch;

static void
watch_poll(watch *w)
{
    const sov_hv_migrate_args *a = w->a;
    int type = VIR_DOMAIN_JOB_NONE;
    sov_hv_job j;

    if (job_stats(w->d, 0, &type, &j) == 0 &&
        (type == VIR_DOMAIN_JOB_BOUNDED || type == VIR_DOMAIN_JOB_UNBOUNDED)) {
        if (!w->downtime_set) {
            /* libvirt 9 has no call parameter for it: set on the running job. */
            if (virDomainMigrateSetMaxDowntime(w->d, a->max_downtime_ms, 0) == 0)
                w->downtime_set = true;
            else
                sov_log_debug("could not set the migration's maximum downtime: %s",
                              virGetLastErrorMessage());
        }
        pthread_mutex_lock(&w->lock);
        w->last = j;
        w->seen = true;
        if (j.disk_total > w->disk_total)
            w->disk_total = j.disk_total;
        if (j.disk_processed > w->disk_processed)
            w->disk_processed = j.disk_processed;
        pthread_mutex_unlock(&w->lock);
        if (a->progress)
            a->progress(a->arg, &j);
    }
    virResetLastError();
    if (a->timeout_s > 0 && !w->aborted && sov_lv_now_ms() - w->t0 >= a->timeout_s * 1000.0) {
        /* Fails when no job runs yet (or any more): tried again at the next look. */
        if (virDomainAbortJob(w->d) == 0) {
            pthread_mutex_lock(&w->lock);
            w->aborted = true;
            pthread_mutex_unlock(&w->lock);
        } else {
            sov_log_debug("could not abort the migration: %s", virGetLastErrorMessage());
            virResetLastError();
        }
    }
}

static void *
watch_run(void *arg)
{
    watch *w = arg;
    unsigned wait_ms = POLL_FIRST_MS;

    pthread_mutex_lock(&w->lock);
    while (!w->done) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += wait_ms / 1000;
        ts.tv_nsec += (long) (wait_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!w->done && pthread_cond_timedwait(&w->cond, &w->lock, &ts) == 0)
            ;
        if (w->done)
            break;
        pthread_mutex_unlock(&w->lock);
        watch_poll(w);
        pthread_mutex_lock(&w->lock);
        wait_ms = POLL_MS;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static int
watch_start(watch *w, virDomainPtr d, const sov_hv_migrate_args *a, pthread_t *th)
{
    pthread_condattr_t ca;

    *w = (watch) { .d = d, .a = a, .t0 = sov_lv_now_ms(),
                   .downtime_set = a->max_downtime_ms == 0, .disk_total = -1,
                   .disk_processed = -1 };
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(th, NULL, watch_run, w) != 0) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        return -1;
    }
    return 0;
}

static void
watch_stop(watch *w, pthread_t th)
{
    pthread_mutex_lock(&w->lock);
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(th, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
}

/* tcp://ADDR for QEMU's streams (an IPv6 literal in brackets). */
static int
tcp_uri(char *buf, size_t size, const char *addr, sov_error *err)
{
    size_t n = addr ? strlen(addr) : 0;

    if (n == 0 || n > 200 ||
        strspn(addr, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:[]") != n)
        return sov_error_set(err, SOV_E_INTERNAL, "'%s' is no address to migrate to",
                             addr ? addr : "");
    snprintf(buf, size, strchr(addr, ':') && addr[0] != '[' ? "tcp://[%s]" : "tcp://%s",
             addr);
    return 0;
}

static void
disks_free(char **disks)
{
    for (size_t i = 0; disks[i]; i++)
        free(disks[i]);
}

/* The target devs of the running domain's disks that QEMU must copy: its writable disks
 * (read-only ones, CD-ROMs and shareable ones are not copied and must be on the target
 * already). disks holds DISKS_MAX + 1 pointers, NULL-terminated on return. */
static int
writable_disks(virDomainPtr d, char **disks, size_t *n, sov_error *err)
{
    sov_autofree char *xml = virDomainGetXMLDesc(d, 0);
    xml_autoview x = { 0 };
    sov_autoptr(xmlXPathObject) o = NULL;

    *n = 0;
    disks[0] = NULL;
    if (!xml)
        return sov_lv_error(err, sov_lv_failure_code(), "could not read domain %s",
                            virDomainGetName(d));
    if (sov_xml_view_parse(&x, xml, "domain XML", err) < 0)
        return -1;
    o = xmlXPathEvalExpression((const xmlChar *)
                               "/domain/devices/disk[@device='disk' and source and "
                               "not(readonly) and not(shareable)]/target/@dev", x.xp);
    for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
        xmlChar *dev = xmlXPathCastNodeToString(o->nodesetval->nodeTab[i]);

        if (*n == DISKS_MAX || !dev || !(disks[*n] = strdup((const char *) dev))) {
            xmlFree(dev);
            disks[*n] = NULL;
            disks_free(disks);
            return sov_error_set(err, SOV_E_INTERNAL, "too many disks, or out of memory");
        }
        xmlFree(dev);
        disks[++*n] = NULL;
    }
    return 0;
}

/* The domain's definition for the target with each disk of a pool (type 'volume') turned
 * into the file it is (the same path on the target): libvirt 9's target checks whether a
 * disk to copy is there by its path, and a volume's path is only known once the domain
 * starts, so an incremental copy of a volume disk fails there ("pre-creation of storage
 * targets for incremental storage migration is not supported"). The persistent definition
 * the target keeps is the source's as it is (VIR_MIGRATE_PARAM_PERSIST_XML). *ret is NULL
 * when the domain has no such disk. */
static int
dest_xml(lv_hv *src, virDomainPtr d, unsigned flags, char **ret, sov_error *err)
{
    sov_autofree char *xml = virDomainGetXMLDesc(d, flags);
    xml_autoview x = { 0 };
    sov_autoptr(xmlXPathObject) o = NULL;
    xmlChar *out = NULL;
    int len = 0;

    *ret = NULL;
    if (!xml)
        return sov_lv_error(err, sov_lv_failure_code(), "could not read domain %s",
                            virDomainGetName(d));
    if (sov_xml_view_parse(&x, xml, "domain XML", err) < 0)
        return -1;
    o = xmlXPathEvalExpression((const xmlChar *) "/domain/devices/disk[@type='volume']/source",
                               x.xp);
    if (!o || !o->nodesetval || o->nodesetval->nodeNr == 0)
        return 0;
    for (int i = 0; i < o->nodesetval->nodeNr; i++) {
        xmlNodePtr source = o->nodesetval->nodeTab[i];
        xmlChar *pool = xmlGetProp(source, (const xmlChar *) "pool");
        xmlChar *vol = xmlGetProp(source, (const xmlChar *) "volume");
        char path[4096];
        int rc = pool && vol ? sov_lv_volume_path(&src->base, (const char *) pool,
                                                  (const char *) vol, path, sizeof(path), err)
                             : sov_error_set(err, SOV_E_INTERNAL, "a volume disk without "
                                             "pool or volume in domain %s",
                                             virDomainGetName(d));

        xmlFree(pool);
        xmlFree(vol);
        if (rc < 0)
            return -1;
        xmlSetProp(source->parent, (const xmlChar *) "type", (const xmlChar *) "file");
        xmlUnsetProp(source, (const xmlChar *) "pool");
        xmlUnsetProp(source, (const xmlChar *) "volume");
        xmlUnsetProp(source, (const xmlChar *) "mode");
        xmlSetProp(source, (const xmlChar *) "file", (const xmlChar *) path);
    }
    xmlDocDumpMemory(x.doc, &out, &len);
    if (!out)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    *ret = strdup((const char *) out);
    xmlFree(out);
    return *ret ? 0 : sov_error_set(err, SOV_E_INTERNAL, "out of memory");
}

/* A failure that says a host is away: the source's libvirtd could not reach the target's,
 * or this process lost its link to either. */
static bool
unreachable(const virError *e)
{
    if (!e)
        return false;
    if (e->code == VIR_ERR_NO_CONNECT || e->code == VIR_ERR_RPC ||
        (e->code == VIR_ERR_SYSTEM_ERROR &&
         (e->domain == VIR_FROM_RPC || e->domain == VIR_FROM_REMOTE)))
        return true;
    return e->message && (strstr(e->message, "Failed to connect to remote libvirt URI") ||
                          strstr(e->message, "unable to connect to server"));
}

static bool
answers(lv_hv *h)
{
    unsigned long version;
    bool ok = virConnectIsAlive(h->conn) == 1 && virConnectGetLibVersion(h->conn, &version) == 0;

    virResetLastError();
    return ok;
}

/* The completed job's statistics, from the target (the source's domain is undefined);
 * what the watcher saw last when the target keeps none. */
static void
completed_stats(lv_hv *dst, const char *uuid, const watch *w, sov_hv_job *ret)
{
    sov_autoptr(virDomain) dd = virDomainLookupByUUIDString(dst->conn, uuid);
    int type = VIR_DOMAIN_JOB_NONE;
    sov_hv_job j;
    long long elapsed = (long long) (sov_lv_now_ms() - w->t0);

    if (dd && job_stats(dd, VIR_DOMAIN_JOB_STATS_COMPLETED, &type, &j) == 0 &&
        type == VIR_DOMAIN_JOB_COMPLETED) {
        *ret = j;
    } else {
        sov_log_debug("no completed job statistics for %s on the target: %s", uuid,
                      virGetLastErrorMessage());
        virResetLastError();
        if (w->seen)
            *ret = w->last;
        else
            *ret = (sov_hv_job) { -1, -1, -1, -1, -1, -1, -1, 0 };
        ret->downtime_ms = -1;
    }
    if (ret->elapsed_ms < 0)
        ret->elapsed_ms = elapsed;
    /* The disks' copy runs before the memory's and the target counts only the latter. */
    if (ret->disk_total <= 0 && w->disk_total > 0) {
        ret->disk_total = w->disk_total;
        ret->disk_processed = w->disk_total;
    }
    if (ret->data_remaining < 0 && ret->data_total >= 0)
        ret->data_remaining = 0;
    ret->percent = 100;
}

static int
live_migrate(lv_hv *src, lv_hv *dst, virDomainPtr d, const char *uuid,
             const sov_hv_migrate_args *a, sov_hv_job *ret, sov_error *err)
{
    virTypedParameterPtr params = NULL;
    int np = 0, maxp = 0, rc;
    char uri[256], *disks[DISKS_MAX + 1];
    size_t nd = 0;
    unsigned flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST |
                     VIR_MIGRATE_UNDEFINE_SOURCE;
    virErrorPtr saved = NULL;
    sov_autofree char *live_xml = NULL;
    sov_autofree char *persist_xml = NULL;
    watch w;
    pthread_t th;

    if (!a->dest_uri || !a->dest_uri[0])
        return sov_error_set(err, SOV_E_INTERNAL, "no target URI to migrate to");
    if (tcp_uri(uri, sizeof(uri), a->address, err) < 0)
        return -1;
    if (virDomainIsActive(d) != 1)
        return sov_error_set(err, SOV_E_CONFLICT, "domain %s is not running", uuid);
    if (!answers(dst))
        return sov_error_set(err, SOV_E_UNAVAILABLE, "the target host does not answer");
    if (a->copy_storage && writable_disks(d, disks, &nd, err) < 0)
        return -1;
    /* Volume disks go to the target as their files; its persistent definition keeps them
     * as volumes. */
    if (nd > 0 && dest_xml(src, d, VIR_DOMAIN_XML_MIGRATABLE, &live_xml, err) < 0) {
        disks_free(disks);
        return -1;
    }
    if (live_xml &&
        !(persist_xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_MIGRATABLE |
                                                   VIR_DOMAIN_XML_INACTIVE))) {
        disks_free(disks);
        return sov_lv_error(err, sov_lv_failure_code(), "could not read domain %s", uuid);
    }
    if (a->auto_converge)
        flags |= VIR_MIGRATE_AUTO_CONVERGE;
    rc = virTypedParamsAddString(&params, &np, &maxp, VIR_MIGRATE_PARAM_URI, uri);
    if (rc == 0 && nd > 0) {
        flags |= VIR_MIGRATE_NON_SHARED_INC;
        rc = virTypedParamsAddString(&params, &np, &maxp, VIR_MIGRATE_PARAM_DISKS_URI, uri);
        if (rc == 0)
            rc = virTypedParamsAddStringList(&params, &np, &maxp,
                                             VIR_MIGRATE_PARAM_MIGRATE_DISKS,
                                             (const char **) disks);
        if (rc == 0 && live_xml)
            rc = virTypedParamsAddString(&params, &np, &maxp, VIR_MIGRATE_PARAM_DEST_XML,
                                         live_xml);
        if (rc == 0 && persist_xml)
            rc = virTypedParamsAddString(&params, &np, &maxp, VIR_MIGRATE_PARAM_PERSIST_XML,
                                         persist_xml);
    }
    if (nd > 0)
        disks_free(disks);
    if (rc < 0) {
        virTypedParamsFree(params, np);
        return sov_lv_error(err, SOV_E_INTERNAL, "could not make the migration's parameters");
    }
    if (watch_start(&w, d, a, &th) < 0) {
        virTypedParamsFree(params, np);
        return sov_error_set(err, SOV_E_INTERNAL, "could not start the migration's watcher");
    }
    sov_log_debug("migrating %s to %s (%s, %zu disks copied)", uuid, a->dest_uri, uri, nd);
    rc = virDomainMigrateToURI3(d, a->dest_uri, params, (unsigned) np, flags);
    if (rc < 0)
        saved = virSaveLastError();
    watch_stop(&w, th);
    virTypedParamsFree(params, np);
    if (rc == 0) {
        completed_stats(dst, uuid, &w, ret);
        if (a->progress)
            a->progress(a->arg, ret);
        return 0;
    }
    if (w.aborted)
        return sov_lv_error_saved(err, SOV_E_CONFLICT, saved, "migration aborted after %u s",
                                  a->timeout_s);
    return sov_lv_error_saved(err, unreachable(saved) || !answers(src) || !answers(dst)
                                       ? SOV_E_UNAVAILABLE : SOV_E_CONFLICT,
                              saved, "could not migrate domain %s", uuid);
}

int
sov_lv_migrate(sov_hv *hv, sov_hv *dhv, const char *uuid, const sov_hv_migrate_args *a,
               sov_hv_job *ret, sov_error *err)
{
    lv_hv *src = (lv_hv *) hv, *dst = (lv_hv *) dhv;
    sov_autoptr(virDomain) d = NULL;

    if (sov_lv_dom_lookup(src, uuid, &d, err) < 0)
        return -1;
    if (sov_lv_is_test(src) != sov_lv_is_test(dst))
        return sov_error_set(err, SOV_E_CONFLICT,
                             "cannot migrate between libvirt's test driver and another");
    if (sov_lv_is_test(src))
        return test_migrate(src, dst, d, uuid, a, ret, err);
    return live_migrate(src, dst, d, uuid, a, ret, err);
}

/* ---- xml ---- */

int
sov_lv_xml(sov_hv *hv, const char *uuid, char **ret, sov_error *err)
{
    sov_autoptr(virDomain) d = NULL;
    char *xml;

    if (sov_lv_dom_lookup((lv_hv *) hv, uuid, &d, err) < 0)
        return -1;
    xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
    if (!xml)
        return sov_lv_error(err, sov_lv_failure_code() == SOV_E_NOT_FOUND ? SOV_E_NOT_FOUND
                                                                         : SOV_E_UNAVAILABLE,
                            "could not read domain %s", uuid);
    *ret = xml;
    return 0;
}

/* ---- volume_send ---- */

static int
test_volume_send(lv_hv *dst, const char *pool, const char *name, virStorageVolPtr v,
                 sov_error *err)
{
    virStorageVolInfo info;

    if (virStorageVolGetInfo(v, &info) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", name);
    if (sov_lv_volume_delete(&dst->base, pool, name, err) < 0)
        return -1;
    return sov_lv_create_with(dst, pool, name, info.capacity, NULL, NULL, false, err);
}

/* Whether a disk's <source> names the volume: by its file, or by its pool and name. */
static bool
source_is(xmlNodePtr src, const char *path, const char *pool, const char *name)
{
    xmlChar *file = xmlGetProp(src, (const xmlChar *) "file");
    xmlChar *p = xmlGetProp(src, (const xmlChar *) "pool");
    xmlChar *v = xmlGetProp(src, (const xmlChar *) "volume");
    bool is = (file && strcmp((const char *) file, path) == 0) ||
              (p && v && strcmp((const char *) p, pool) == 0 &&
               strcmp((const char *) v, name) == 0);

    xmlFree(file);
    xmlFree(p);
    xmlFree(v);
    return is;
}

/* 1 when a domain running on h has the volume as a writable disk (its top layer, what the
 * guest writes: a read-only disk or a backing file is only read, and may be sent), its name
 * in dom; 0 when none. */
static int
vol_in_use(lv_hv *h, const char *path, const char *pool, const char *name, char *dom,
           size_t size, sov_error *err)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(h->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    int found = 0;

    if (n < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not list domains");
    for (int i = 0; i < n; i++) {
        sov_autofree char *xml = found ? NULL : virDomainGetXMLDesc(doms[i], 0);
        xml_autoview x = { 0 };
        sov_error ignored = SOV_ERROR_INIT;
        sov_autoptr(xmlXPathObject) o = NULL;

        if (xml && sov_xml_view_parse(&x, xml, "domain XML", &ignored) == 0)
            o = xmlXPathEvalExpression((const xmlChar *)
                                       "/domain/devices/disk[not(readonly)]/source", x.xp);
        for (int k = 0; o && o->nodesetval && k < o->nodesetval->nodeNr && !found; k++)
            if (source_is(o->nodesetval->nodeTab[k], path, pool, name)) {
                found = 1;
                snprintf(dom, size, "%s", virDomainGetName(doms[i]));
            }
        virDomainFree(doms[i]);
    }
    free(doms);
    return found;
}

/* The format libvirt reads in a volume ("" when it says none). */
static void
vol_format(virStorageVolPtr v, char *buf, size_t size)
{
    sov_autofree char *xml = virStorageVolGetXMLDesc(v, 0);
    xml_autoview x = { 0 };
    sov_error ignored = SOV_ERROR_INIT;

    buf[0] = '\0';
    if (xml && sov_xml_view_parse(&x, xml, "volume XML", &ignored) == 0)
        sov_xml_string(&x, "string(/volume/target/format/@type)", buf, size);
}

static int
pump_data(virStreamPtr st, const char *data, size_t n, void *arg)
{
    virStreamPtr out = arg;

    (void) st;
    for (size_t off = 0; off < n;) {
        int w = virStreamSend(out, data + off, n - off);
        if (w < 0)
            return -1;
        off += (size_t) w;
    }
    return (int) n;
}

static int
pump_hole(virStreamPtr st, long long length, void *arg)
{
    (void) st;
    return virStreamSendHole((virStreamPtr) arg, length, 0);
}

/* The source's bytes into the target volume (made empty, of the source's length). */
static int
stream_bytes(lv_hv *src, lv_hv *dst, virStorageVolPtr sv, virStorageVolPtr dv,
             const char *name, sov_error *err)
{
    sov_autoptr(virStream) in = virStreamNew(src->conn, 0);
    sov_autoptr(virStream) out = virStreamNew(dst->conn, 0);
    bool sparse = true;
    int rc;

    if (!in || !out)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not open streams for volume '%s'",
                            name);
    /* A daemon without sparse streams refuses the flag: then every byte goes. */
    if (virStorageVolDownload(sv, in, 0, 0, VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM) < 0) {
        sparse = false;
        virResetLastError();
        if (virStorageVolDownload(sv, in, 0, 0, 0) < 0)
            return sov_lv_error(err, sov_lv_failure_code(), "could not read volume '%s'",
                                name);
    }
    if (virStorageVolUpload(dv, out, 0, 0, sparse ? VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM : 0)
        < 0) {
        virErrorPtr e = virSaveLastError();
        virStreamAbort(in);
        return sov_lv_error_saved(err, SOV_E_UNAVAILABLE, e, "could not write volume '%s'",
                                  name);
    }
    rc = sparse ? virStreamSparseRecvAll(in, pump_data, pump_hole, out)
                : virStreamRecvAll(in, pump_data, out);
    if (rc < 0 || virStreamFinish(in) < 0) {
        virErrorPtr e = virSaveLastError();
        virStreamAbort(in);
        virStreamAbort(out);
        return sov_lv_error_saved(err, SOV_E_UNAVAILABLE, e, "could not send volume '%s'",
                                  name);
    }
    if (virStreamFinish(out) < 0) {
        virErrorPtr e = virSaveLastError();
        virStreamAbort(out);
        return sov_lv_error_saved(err, SOV_E_UNAVAILABLE, e, "could not write volume '%s'",
                                  name);
    }
    return 0;
}

/* What libvirt knows of a volume's file: its path, size and times (to the nanosecond). */
static void
vol_stamp(virStorageVolPtr v, char *buf, size_t size)
{
    sov_autofree char *xml = virStorageVolGetXMLDesc(v, 0);
    xml_autoview x = { 0 };
    sov_error ignored = SOV_ERROR_INIT;
    char path[4096] = "", physical[32] = "", mtime[48] = "", ctime[48] = "";

    buf[0] = '\0';
    if (!xml || sov_xml_view_parse(&x, xml, "volume XML", &ignored) < 0)
        return;
    sov_xml_string(&x, "string(/volume/target/path)", path, sizeof(path));
    sov_xml_string(&x, "string(/volume/physical)", physical, sizeof(physical));
    sov_xml_string(&x, "string(/volume/target/timestamps/mtime)", mtime, sizeof(mtime));
    sov_xml_string(&x, "string(/volume/target/timestamps/ctime)", ctime, sizeof(ctime));
    if (path[0] && mtime[0] && ctime[0])
        snprintf(buf, size, "%s|%s|%s|%s", path, physical, mtime, ctime);
}

/* 1 when the target's volume of that name is the source's own file: both hosts see one
 * folder as the pool (a pool path outside what each host of a fleet has of its own), where
 * replacing the target's would delete the source. */
static int
same_file(lv_hv *dst, const char *pool, const char *name, virStorageVolPtr sv, sov_error *err)
{
    sov_autoptr(virStorageVol) dv = NULL;
    char a[4300], b[4300];

    if (sov_lv_vol_lookup(dst, pool, name, true, &dv, err) < 0)
        return err->code == SOV_E_NOT_FOUND ? (sov_error_clear(err), 0) : -1;
    vol_stamp(sv, a, sizeof(a));
    vol_stamp(dv, b, sizeof(b));
    return a[0] && strcmp(a, b) == 0;
}

/* The target as a pool refresh reads it must be the source: same format and capacity. */
static int
check_sent(lv_hv *dst, const char *pool, const char *name, const char *format,
           unsigned long long capacity, sov_error *err)
{
    sov_autoptr(virStorageVol) v = NULL;
    virStorageVolInfo info;
    char got[32];

    if (sov_lv_vol_lookup(dst, pool, name, true, &v, err) < 0)
        return -1;
    if (virStorageVolGetInfo(v, &info) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", name);
    vol_format(v, got, sizeof(got));
    if (strcmp(got, format) != 0 || info.capacity != capacity)
        return sov_error_set(err, SOV_E_INTERNAL,
                             "volume '%s' arrived as %s of %llu bytes, not %s of %llu", name,
                             got, info.capacity, format, capacity);
    return 0;
}

static int
real_volume_send(lv_hv *src, lv_hv *dst, const char *pool, const char *name,
                 virStorageVolPtr sv, sov_error *err)
{
    sov_autoptr(virStoragePool) p = NULL;
    sov_autoptr(virStorageVol) dv = NULL;
    sov_autofree char *path = virStorageVolGetPath(sv);
    virStorageVolInfo info, phys;
    char format[32], dom[256], ename[256], xml[1024];
    int used;

    if (!path || virStorageVolGetInfo(sv, &info) < 0 ||
        virStorageVolGetInfoFlags(sv, &phys, VIR_STORAGE_VOL_GET_PHYSICAL) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", name);
    used = vol_in_use(src, path, pool, name, dom, sizeof(dom), err);
    if (used < 0)
        return -1;
    if (used > 0)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "volume '%s' is in use by running domain %s", name, dom);
    used = same_file(dst, pool, name, sv, err);
    if (used < 0)
        return -1;
    if (used > 0)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "the target's pool '%s' is the source's own folder: volume '%s' "
                             "is there already", pool, name);
    vol_format(sv, format, sizeof(format));
    if (sov_xml_escape(ename, sizeof(ename), name) < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "volume name too long");
    /* An empty file of the source's length: the upload writes the source's bytes over it
     * as they are (libvirt's upload neither truncates nor formats). */
    snprintf(xml, sizeof(xml),
             "<volume><name>%s</name><capacity unit='bytes'>%llu</capacity>"
             "<allocation unit='bytes'>0</allocation>"
             "<target><format type='raw'/></target></volume>",
             ename, phys.allocation);
    if (sov_lv_volume_delete(&dst->base, pool, name, err) < 0 ||
        sov_lv_pool_lookup(dst, pool, &p, err) < 0)
        return -1;
    dv = virStorageVolCreateXML(p, xml, 0);
    if (!dv)
        return sov_lv_error(err, sov_lv_failure_code() == SOV_E_NOT_FOUND ? SOV_E_NOT_FOUND
                                                                          : SOV_E_UNAVAILABLE,
                            "could not create volume '%s' on the target", name);
    if (stream_bytes(src, dst, sv, dv, name, err) < 0 ||
        check_sent(dst, pool, name, format, info.capacity, err) < 0) {
        sov_error ignored = SOV_ERROR_INIT;
        sov_lv_volume_delete(&dst->base, pool, name, &ignored);
        return -1;
    }
    return 0;
}

int
sov_lv_volume_send(sov_hv *hv, const char *pool, const char *name, sov_hv *dhv,
                   sov_error *err)
{
    lv_hv *src = (lv_hv *) hv, *dst = (lv_hv *) dhv;
    sov_autoptr(virStorageVol) v = NULL;

    if (sov_lv_vol_lookup(src, pool, name, true, &v, err) < 0)
        return -1;
    if (sov_lv_is_test(src) != sov_lv_is_test(dst))
        return sov_error_set(err, SOV_E_CONFLICT,
                             "cannot send a volume between libvirt's test driver and another");
    if (sov_lv_is_test(src))
        return test_volume_send(dst, pool, name, v, err);
    return real_volume_send(src, dst, pool, name, v, err);
}
