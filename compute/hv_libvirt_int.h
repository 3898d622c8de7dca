/* hv_libvirt_int.h: what the two halves of the libvirt driver share (private to compute/):
 * hv_libvirt.c (connections, discovery), hv_libvirt_guest.c (networks, volumes, domains)
 * and hv_libvirt_storage.c (storage/'s volumes and secrets, disks of domains), and
 * hv_libvirt_migrate.c (domains and volumes moved between hosts). Only these files include
 * libvirt.h. */
#ifndef SOV_HV_LIBVIRT_INT_H
#define SOV_HV_LIBVIRT_INT_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "sov/hv.h"

typedef struct lv_hv {
    sov_hv base;            /* first: a sov_hv * is an lv_hv * */
    virConnectPtr conn;
    char uri[1024];
} lv_hv;

SOV_DEFINE_AUTOPTR(virStoragePool, virStoragePoolFree)
SOV_DEFINE_AUTOPTR(virStorageVol, virStorageVolFree)
SOV_DEFINE_AUTOPTR(virDomain, virDomainFree)
SOV_DEFINE_AUTOPTR(virNetwork, virNetworkFree)
SOV_DEFINE_AUTOPTR(virSecret, virSecretFree)
SOV_DEFINE_AUTOPTR(virStream, virStreamFree)
SOV_DEFINE_AUTOPTR(xmlXPathObject, xmlXPathFreeObject)

/* libvirt set up once (silent error handler), libxml2's handler on this thread; 0 or -1. */

/* err = code, what; detail = libvirt's message. Returns -1.
 * libvirt keeps the last error per thread, so this reads the caller's own failure. */
int sov_lv_error(sov_error *err, sov_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with an error saved by virSaveLastError before other calls (which clear the
 * thread's last error); frees saved. */
int sov_lv_error_saved(sov_error *err, sov_errcode code, virErrorPtr saved, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

typedef struct xml_view {
    xmlDoc *doc;
    xmlXPathContext *xp;
} xml_view;

void sov_xml_view_release(xml_view *v);
/* xml_view v = { 0 } with this attribute is released when it leaves scope. */
#define xml_autoview SOV_CLEANUP(sov_xml_view_release) xml_view
int sov_xml_view_parse(xml_view *v, const char *xml, const char *what, sov_error *err);
/* The string value of an XPath expression into buf ("" when nothing matches). */
void sov_xml_string(const xml_view *v, const char *expr, char *buf, size_t size);
/* The number value of an XPath expression (count(...)); 0 when it has none. */
/* Escape text for an XML element body or attribute. Returns -1 when it does not fit. */
int sov_xml_escape(char *buf, size_t size, const char *s);

/* hv_libvirt_guest.c: the table entries for networks, volumes and domains, and lookups
 * hv_libvirt_storage.c shares. */
/* libvirt's test driver: it keeps volumes as names and sizes, never bytes. */
bool sov_lv_is_test(lv_hv *h);
/* A libvirt error code saying the object does not exist. */
bool sov_lv_no_such(int code);
/* Look up a pool, a volume (the pool refreshed first when asked) or a domain by UUID:
 * SOV_E_NOT_FOUND when missing, SOV_E_UNAVAILABLE when libvirt fails. */
int sov_lv_pool_lookup(lv_hv *h, const char *pool, virStoragePoolPtr *ret, sov_error *err);
int sov_lv_vol_lookup(lv_hv *h, const char *pool, const char *name, bool refresh,
                      virStorageVolPtr *ret, sov_error *err);
int sov_lv_dom_lookup(lv_hv *h, const char *uuid, virDomainPtr *ret, sov_error *err);
int sov_lv_network_ensure(sov_hv *hv, const char *name, const char *cidr, sov_error *err);
int sov_lv_network_remove(sov_hv *hv, const char *name, sov_error *err);
int sov_lv_pool_path(sov_hv *hv, const char *pool, char *ret, size_t size, sov_error *err);
int sov_lv_volume_path(sov_hv *hv, const char *pool, const char *name, char *ret, size_t size,
                       sov_error *err);
int sov_lv_volume_upload(sov_hv *hv, const char *pool, const char *name, const char *format,
                         const char *file, sov_error *err);
int sov_lv_volume_overlay(sov_hv *hv, const char *pool, const char *name, const char *backing,
                          const char *backing_format, long long capacity_gib, sov_error *err);
int sov_lv_volume_delete(sov_hv *hv, const char *pool, const char *name, sov_error *err);
int sov_lv_volume_tail(sov_hv *hv, const char *pool, const char *name, size_t max, char **ret,
                       size_t *len, sov_error *err);
int sov_lv_define(sov_hv *hv, const char *xml, sov_error *err);
/* hv_libvirt_console.c */
int sov_lv_console_open(sov_hv *hv, const char *uuid, bool force, sov_hv_console **ret,
                        sov_error *err);
int sov_lv_start(sov_hv *hv, const char *uuid, sov_error *err);
int sov_lv_stop(sov_hv *hv, const char *uuid, bool force, sov_error *err);
int sov_lv_reboot(sov_hv *hv, const char *uuid, sov_error *err);
int sov_lv_undefine(sov_hv *hv, const char *uuid, sov_error *err);
int sov_lv_state(sov_hv *hv, const char *uuid, sov_domain_state *ret, sov_error *err);
int sov_lv_list(sov_hv *hv, const char *prefix, sov_hv_domain **ret, size_t *n, sov_error *err);
int sov_lv_addresses(sov_hv *hv, const char *uuid, char *ret, size_t size, sov_error *err);

/* hv_libvirt_storage.c: volumes and secrets of storage/, and a domain's disks. */
int sov_lv_volume_create(sov_hv *hv, const char *pool, const char *name,
                         long long capacity_gib, const char *secret_uuid, sov_error *err);
int sov_lv_volume_copy(sov_hv *hv, const char *pool, const char *name, const char *source,
                       const char *source_format, const char *source_secret_uuid,
                       long long capacity_gib, const char *secret_uuid, sov_error *err);
int sov_lv_volume_resize(sov_hv *hv, const char *pool, const char *name,
                         long long capacity_gib, const char *secret_uuid, sov_error *err);
int sov_lv_volume_info(sov_hv *hv, const char *pool, const char *name, long long *capacity,
                       long long *allocation, sov_error *err);
int sov_lv_volume_list(sov_hv *hv, const char *pool, const char *prefix, char ***ret,
                       size_t *n, sov_error *err);
int sov_lv_secret_define(sov_hv *hv, const char *uuid, const char *usage,
                         const unsigned char *value, size_t len, sov_error *err);
int sov_lv_secret_undefine(sov_hv *hv, const char *uuid, sov_error *err);
int sov_lv_secret_list(sov_hv *hv, const char *prefix, char ***ret, size_t *n,
                       sov_error *err);
int sov_lv_disk_attach(sov_hv *hv, const char *uuid, const char *disk_xml, sov_error *err);
int sov_lv_disk_detach(sov_hv *hv, const char *uuid, const char *dev, unsigned timeout_ms,
                       sov_error *err);
int sov_lv_disk_present(sov_hv *hv, const char *uuid, const char *dev, sov_error *err);
int sov_lv_disk_resize(sov_hv *hv, const char *uuid, const char *dev, long long capacity_gib,
                       sov_error *err);
int sov_lv_disk_snapshot(sov_hv *hv, const char *uuid, const char *dev, const char *pool,
                         const char *target, const char *secret_uuid, sov_error *err);
/* The first device matching xpath in the domain's live (flags 0) or persistent
 * (VIR_DOMAIN_XML_INACTIVE) definition: 1, its XML in *ret (unless ret is NULL; to free())
 * and its alias in alias (unless NULL), or 0 when none. */
int sov_lv_dev_find(virDomainPtr d, unsigned flags, const char *xpath, char **ret, char *alias,
                    size_t alias_size, sov_error *err);
/* The test driver's hot plug (it has none): dev_xml added to the persistent definition
 * before </devices>, or (dev_xml NULL) the first device matching xpath taken out of it; no
 * match: 0, nothing changed. what names the devices in the error ("disks"). */
int sov_lv_test_redefine(lv_hv *h, virDomainPtr d, const char *dev_xml, const char *xpath,
                         const char *what, sov_error *err);
/* Attach dev_xml to each half (persistent, live) where it is missing: a rerun after a crash
 * between them completes the other. libvirt's answer (-1: its last error says why), 0 when
 * nothing was missing. */
int sov_lv_attach_missing(virDomainPtr d, const char *dev_xml, bool in_config, bool in_live);
/* hv_libvirt_nic.c: a domain's NICs (network/'s ports). */
int sov_lv_nic_attach(sov_hv *hv, const char *uuid, const char *nic_xml, sov_error *err);
int sov_lv_nic_detach(sov_hv *hv, const char *uuid, const char *mac, sov_error *err);

/* hv_libvirt_migrate.c: moving domains and volumes between hosts. */
int sov_lv_migrate(sov_hv *src, sov_hv *dst, const char *uuid, const sov_hv_migrate_args *a,
                   sov_hv_job *ret, sov_error *err);
int sov_lv_xml(sov_hv *hv, const char *uuid, char **ret, sov_error *err);
int sov_lv_volume_download(sov_hv *hv, const char *pool, const char *name, const char *file,
                           sov_error *err);
int sov_lv_volume_send(sov_hv *src, const char *pool, const char *name, sov_hv *dst,
                       sov_error *err);

/* Shared by hv_libvirt_storage.c and hv_libvirt_disk.c. */
void sov_lv_sleep_ms(unsigned ms);
double sov_lv_now_ms(void);
/* A failure that says nothing about the request (the daemon or its link gone) is
 * SOV_E_UNAVAILABLE; others by libvirt's last error. */
sov_errcode sov_lv_failure_code(void);
/* A LUKS secret is named by a UUID; it goes into XML. */
int sov_lv_check_uuid(const char *uuid, sov_error *err);
/* Create volume name of bytes in pool (from: a copy of that volume; luks: retried on QEMU's
 * key-timing flake). */
int sov_lv_create_with(lv_hv *h, const char *pool, const char *name, unsigned long long bytes,
                       virStorageVolPtr from, const char *secret_uuid, bool luks,
                       sov_error *err);
/* 1 when the volume is there (no pool refresh), 0 when not. */
int sov_lv_vol_exists(lv_hv *h, const char *pool, const char *name, sov_error *err);

#endif
