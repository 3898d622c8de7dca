/* hv_libvirt_migrate.c: moving domains and volumes between hosts: the domain table's
 * migrate and xml, the storage table's volume_send.
 *
 * libvirt's test driver has no migration and no bytes in its volumes. It stands for hosts in
 * integration tests, each test:///path host a state of its own in this process, so the same
 * calls work there on what it holds: a migrate defines the domain's definition on the target
 * and starts it there, then destroys and undefines it on the source (the progress callback
 * called once, the statistics zero); a volume_send makes an empty volume of the source's
 * capacity on the target. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hv_libvirt_int.h"
#include "sov/log.h"

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
    return sov_error_set(err, SOV_E_INTERNAL, "live migration is not built yet");
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

/* Delete the target's volume of that name, if any (an earlier, perhaps partial, run's). */
static int
vol_remove(lv_hv *h, const char *pool, const char *name, sov_error *err)
{
    return sov_lv_volume_delete(&h->base, pool, name, err);
}

static int
test_volume_send(lv_hv *src, lv_hv *dst, const char *pool, const char *name,
                 virStorageVolPtr v, sov_error *err)
{
    virStorageVolInfo info;

    (void) src;
    if (virStorageVolGetInfo(v, &info) < 0)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read volume '%s'", name);
    if (vol_remove(dst, pool, name, err) < 0)
        return -1;
    return sov_lv_create_with(dst, pool, name, info.capacity, NULL, NULL, false, err);
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
        return test_volume_send(src, dst, pool, name, v, err);
    return sov_error_set(err, SOV_E_INTERNAL, "volume streaming is not built yet");
}
