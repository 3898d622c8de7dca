/* hv_libvirt_disk.c: a running (or defined) domain's disks for storage/: hot attach and
 * detach, online resize, and a crash-consistent copy of a running disk (a push-mode backup,
 * hv_libvirt_storage.c says why). libvirt's test driver stands in as that file says: disks in
 * the persistent definition, sizes of volumes recreated, snapshots as volumes. */
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
#define POLL_MS 20
#define JOB_POLL_MS 5

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

/* ---- a domain's disks ---- */

int
sov_lv_dev_find(virDomainPtr d, unsigned flags, const char *xpath, char **ret, char *alias,
                size_t alias_size, sov_error *err)
{
    sov_autofree char *xml = virDomainGetXMLDesc(d, flags);
    xml_autoview x = { 0 };
    sov_autoptr(xmlXPathObject) o = NULL;
    char expr[256];

    if (!xml)
        return sov_lv_error(err, sov_lv_failure_code() == SOV_E_NOT_FOUND ? SOV_E_NOT_FOUND
                                                                          : SOV_E_UNAVAILABLE,
                            "could not read domain %s", virDomainGetName(d));
    if (sov_xml_view_parse(&x, xml, "domain XML", err) < 0)
        return -1;
    o = xmlXPathEvalExpression((const xmlChar *) xpath, x.xp);
    if (!o || !o->nodesetval || o->nodesetval->nodeNr == 0)
        return 0;
    if (alias) {
        snprintf(expr, sizeof(expr), "string(%s/alias/@name)", xpath);
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

/* The <disk> at dev (sov_lv_dev_find). */
static int
disk_find(virDomainPtr d, unsigned flags, const char *dev, char **ret, char *alias,
          size_t alias_size, sov_error *err)
{
    char expr[96];

    snprintf(expr, sizeof(expr), "/domain/devices/disk[target/@dev='%s']", dev);
    return sov_lv_dev_find(d, flags, expr, ret, alias, alias_size, err);
}

/* The test driver keeps attached disks in the persistent definition only. */
static unsigned
live_flags(lv_hv *h, virDomainPtr d)
{
    return sov_lv_is_test(h) || virDomainIsActive(d) != 1 ? VIR_DOMAIN_XML_INACTIVE : 0;
}

/* The test driver has no hot plug: the device goes into (or out of) the definition. */
int
sov_lv_test_redefine(lv_hv *h, virDomainPtr d, const char *dev_xml, const char *xpath,
                     const char *what, sov_error *err)
{
    sov_autofree char *xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
    sov_buf b = SOV_BUF_INIT;
    const char *at;
    virDomainPtr nd;

    if (!xml)
        return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not read domain %s",
                            virDomainGetName(d));
    if (dev_xml) {
        at = strstr(xml, "</devices>");
        if (!at)
            return sov_error_set(err, SOV_E_INTERNAL, "domain XML without devices");
        sov_buf_append(&b, xml, (size_t) (at - xml));
        sov_buf_puts(&b, dev_xml);
        sov_buf_puts(&b, at);
    } else {
        /* The same document less that device. */
        xml_autoview x = { 0 };
        sov_autoptr(xmlXPathObject) o = NULL;
        xmlChar *out = NULL;
        int len = 0;

        if (sov_xml_view_parse(&x, xml, "domain XML", err) < 0)
            return -1;
        o = xmlXPathEvalExpression((const xmlChar *) xpath, x.xp);
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
        return sov_lv_error(err, SOV_E_CONFLICT, "could not change the %s of domain %s", what,
                            virDomainGetName(d));
    virDomainFree(nd);
    return 0;
}

int
sov_lv_attach_missing(virDomainPtr d, const char *dev_xml, bool in_config, bool in_live)
{
    unsigned flags = 0;

    if (!in_config)
        flags |= VIR_DOMAIN_AFFECT_CONFIG;
    if (!in_live)
        flags |= VIR_DOMAIN_AFFECT_LIVE;
    return flags == 0 ? 0 : virDomainAttachDeviceFlags(d, dev_xml, flags);
}

static int
test_redefine(lv_hv *h, virDomainPtr d, const char *dev, const char *disk_xml, sov_error *err)
{
    char expr[96];

    snprintf(expr, sizeof(expr), "/domain/devices/disk[target/@dev='%s']", dev);
    return sov_lv_test_redefine(h, d, disk_xml, expr, "disks", err);
}

int
sov_lv_disk_attach(sov_hv *hv, const char *uuid, const char *disk_xml, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virDomain) d = NULL;
    xml_autoview x = { 0 };
    char dev[32];
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
    if (sov_lv_attach_missing(d, disk_xml, in_config, in_live) < 0)
        return sov_lv_error(err, sov_lv_failure_code(), "could not attach disk %s to domain %s", dev,
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
            return sov_lv_error(err, sov_lv_failure_code(), "could not detach disk %s from domain %s",
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
    deadline = sov_lv_now_ms() + timeout_ms;
    for (;;) {
        live = disk_find(d, 0, dev, NULL, NULL, 0, err);
        if (live <= 0)
            return live;
        if (sov_lv_now_ms() >= deadline)
            break;
        sov_lv_sleep_ms(POLL_MS);
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
        return sov_lv_error(err, sov_lv_failure_code(), "could not read disk %s of domain %s", dev,
                            uuid);
    if (bytes < bi.capacity)
        return sov_error_invalid(err, "size_gib", "disk %s has %lld GiB: it cannot shrink", dev,
                                 (long long) (bi.capacity / GIB));
    if (bytes == bi.capacity)
        return 0;
    if (virDomainBlockResize(d, dev, bytes, VIR_DOMAIN_BLOCK_RESIZE_BYTES) < 0)
        return sov_lv_error(err, sov_lv_failure_code(), "could not resize disk %s of domain %s", dev,
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
            return sov_lv_error(err, sov_lv_failure_code(), "could not follow the snapshot of %s", dev);
        if (ji.type == VIR_DOMAIN_JOB_NONE)
            break;
        /* A small disk's job takes tens of milliseconds: a coarse poll would double it. */
        sov_lv_sleep_ms(JOB_POLL_MS);
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
    return sov_lv_create_with(h, pool, target, info.capacity, NULL, NULL, false, err);
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

    if (check_dev(dev, err) < 0 || (secret_uuid && sov_lv_check_uuid(secret_uuid, err) < 0) ||
        sov_lv_dom_lookup(h, uuid, &d, err) < 0)
        return -1;
    /* A target left by an earlier run may be partial: the snapshot is taken anew. libvirt
     * made it, so it knows it without a refresh (which reads every volume of the pool). */
    switch (sov_lv_vol_exists(h, pool, target, err)) {
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
        return sov_lv_error(err, sov_lv_failure_code(), "could not read disk %s of domain %s", dev,
                            uuid);
    if (sov_lv_create_with(h, pool, target, bi.capacity, NULL, secret_uuid, secret_uuid != NULL,
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
        sov_lv_error(err, sov_lv_failure_code(), "could not snapshot disk %s of domain %s", dev, uuid);
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
