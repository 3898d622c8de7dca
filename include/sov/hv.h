/* hv.h: the hypervisor behind a table of functions.
 *
 * compute/ sees only this header. hv_libvirt.c fills the table for every libvirt URI:
 * production opens qemu:///system (or qemu+tls://, qemu+ssh://), tests open test:///default
 * or test:///path/host.xml (a host of any size, no daemon), so tests run the production
 * path. Callers use the wrappers (sov_hv_open(), ...), never hv->ops directly: checks and
 * debug logs live in one place. Errors: SOV_E_UNAVAILABLE when the hypervisor cannot be
 * reached (err->detail holds libvirt's message), SOV_E_NOT_FOUND for unknown objects. */
#ifndef SOV_HV_H
#define SOV_HV_H

#include <stdbool.h>

#include "sov/cleanup.h"
#include "sov/error.h"

#define SOV_HV_GPU_MODELS_MAX 16

typedef struct sov_hv sov_hv;

/* What a host is made of, as discovery finds it. */
typedef struct sov_hv_node {
    char hypervisor[8];     /* "kvm", "qemu" (TCG emulation) or "test" (libvirt's driver) */
    char hypervisor_reason[160];    /* why not kvm, when not */
    char cpu_model[128];
    int cpus;
    long long memory_mib;
    int numa_cells;
    char storage_pool[64];  /* the pool disks go to (created if missing) */
    long long storage_gib;  /* its capacity */
    int gpus;               /* PCI devices of display class */
    int ngpu_models;
    char gpu_models[SOV_HV_GPU_MODELS_MAX][128];
} sov_hv_node;

/* Which machine answers at a URI. Two URIs reach the same machine when their machine_id is
 * the same: "uuid:" and libvirt's host UUID (capabilities' <host><uuid>, which libvirt takes
 * from SMBIOS, from /etc/machine-id with host_uuid_source, or from host_uuid in
 * libvirtd.conf), or, for libvirt's test driver (which reports no host UUID), "test:" and the
 * SHA-256 of its host file's canonical path ("test:default" for test:///default). */
typedef struct sov_hv_identity {
    char machine_id[80];
    char host_uuid[40];     /* "" for the test driver */
    char smbios_uuid[40];   /* the SMBIOS system UUID, "" when libvirt gives none */
} sov_hv_identity;

/* A domain's power state as compute/ cares about it. */
typedef enum sov_domain_state {
    SOV_DOMAIN_NONE,        /* no such domain */
    SOV_DOMAIN_RUNNING,
    SOV_DOMAIN_STOPPED,     /* defined, shut off (or crashed) */
    SOV_DOMAIN_PAUSED,
    SOV_DOMAIN_OTHER,       /* shutting down, starting, ... */
} sov_domain_state;

/* One of our domains, as a host lists it: the instance it carries in its metadata. */
typedef struct sov_hv_domain {
    char name[80];
    char uuid[37];
    sov_domain_state state;
    char instance_id[37];   /* from our metadata; "" when it has none */
    char tenant_id[37];
    char control_plane[37]; /* which sovereign deployment made it ("" when unknown) */
} sov_hv_domain;

/* The XML namespace of the metadata sovd puts in every domain it defines. */
#define SOV_HV_METADATA_NS "https://sovereign.eu/xmlns/instance/1"

typedef struct sov_hv_ops {
    const char *name;
    int (*open)(const char *uri, sov_hv **ret, sov_error *err);
    void (*close)(sov_hv *hv);
    /* Cheap liveness probe: 0 when the hypervisor answers. */
    int (*alive)(sov_hv *hv, sov_error *err);
    /* Capacity and make; creates the directory pool `pool` at pool_path if missing. */
    int (*discover)(sov_hv *hv, const char *pool, const char *pool_path, sov_hv_node *ret,
                    sov_error *err);
    /* Which machine this is (a capabilities read and a sysinfo read; no writes). */
    int (*identify)(sov_hv *hv, sov_hv_identity *ret, sov_error *err);

    /* A NAT network with DHCP on cidr ("10.231.0.0/24"), defined and started if missing. */
    int (*network_ensure)(sov_hv *hv, const char *name, const char *cidr, sov_error *err);
    /* Stop and undefine it; missing is fine. */
    int (*network_remove)(sov_hv *hv, const char *name, sov_error *err);

    /* A pool's directory. */
    int (*pool_path)(sov_hv *hv, const char *pool, char *ret, size_t size, sov_error *err);
    /* A volume's path; SOV_E_NOT_FOUND when it does not exist. */
    int (*volume_path)(sov_hv *hv, const char *pool, const char *name, char *ret,
                       size_t size, sov_error *err);
    /* Create volume name (format raw or qcow2) holding the bytes of a local file. */
    int (*volume_upload)(sov_hv *hv, const char *pool, const char *name, const char *format,
                         const char *file, sov_error *err);
    /* Create a qcow2 volume of capacity_gib backed by volume `backing` (its format given). */
    int (*volume_overlay)(sov_hv *hv, const char *pool, const char *name, const char *backing,
                          const char *backing_format, long long capacity_gib, sov_error *err);
    /* Delete a volume; missing is fine. */
    int (*volume_delete)(sov_hv *hv, const char *pool, const char *name, sov_error *err);
    /* The last max bytes of a volume (a console log); missing gives empty. *ret to free(). */
    int (*volume_tail)(sov_hv *hv, const char *pool, const char *name, size_t max, char **ret,
                       size_t *len, sov_error *err);

    /* Define (or redefine) a domain from XML. */
    int (*define)(sov_hv *hv, const char *xml, sov_error *err);
    /* Start it; a running domain is left alone. */
    int (*start)(sov_hv *hv, const char *uuid, sov_error *err);
    /* Ask the guest to shut down (force: pull the plug); a stopped domain is left alone. */
    int (*stop)(sov_hv *hv, const char *uuid, bool force, sov_error *err);
    int (*reboot)(sov_hv *hv, const char *uuid, sov_error *err);
    /* Destroy if running, then undefine; missing is fine. */
    int (*undefine)(sov_hv *hv, const char *uuid, sov_error *err);
    /* SOV_DOMAIN_NONE when there is no such domain. */
    int (*state)(sov_hv *hv, const char *uuid, sov_domain_state *ret, sov_error *err);
    /* Every domain named with prefix; *ret to free(). */
    int (*list)(sov_hv *hv, const char *prefix, sov_hv_domain **ret, size_t *n,
                sov_error *err);
    /* The guest's IPv4 addresses from the network's DHCP leases, comma-separated. */
    int (*addresses)(sov_hv *hv, const char *uuid, char *ret, size_t size, sov_error *err);
} sov_hv_ops;

/* Every driver's handle starts with this. */
struct sov_hv {
    const sov_hv_ops *ops;
};

extern const sov_hv_ops sov_hv_libvirt_ops;

/* Open uri with the libvirt driver. */
int sov_hv_open(const char *uri, sov_hv **ret, sov_error *err);
/* Open uri with the given driver table (tests wrap the real one in a faulty one). */
int sov_hv_open_with(const sov_hv_ops *ops, const char *uri, sov_hv **ret, sov_error *err);
void sov_hv_close(sov_hv *hv);
SOV_DEFINE_AUTOPTR(sov_hv, sov_hv_close)
int sov_hv_alive(sov_hv *hv, sov_error *err);
int sov_hv_discover(sov_hv *hv, const char *pool, const char *pool_path, sov_hv_node *ret,
                    sov_error *err);
int sov_hv_identify(sov_hv *hv, sov_hv_identity *ret, sov_error *err);
int sov_hv_network_ensure(sov_hv *hv, const char *name, const char *cidr, sov_error *err);
int sov_hv_network_remove(sov_hv *hv, const char *name, sov_error *err);
int sov_hv_pool_path(sov_hv *hv, const char *pool, char *ret, size_t size, sov_error *err);
int sov_hv_volume_path(sov_hv *hv, const char *pool, const char *name, char *ret, size_t size,
                       sov_error *err);
int sov_hv_volume_upload(sov_hv *hv, const char *pool, const char *name, const char *format,
                         const char *file, sov_error *err);
int sov_hv_volume_overlay(sov_hv *hv, const char *pool, const char *name, const char *backing,
                          const char *backing_format, long long capacity_gib, sov_error *err);
int sov_hv_volume_delete(sov_hv *hv, const char *pool, const char *name, sov_error *err);
int sov_hv_volume_tail(sov_hv *hv, const char *pool, const char *name, size_t max, char **ret,
                       size_t *len, sov_error *err);
int sov_hv_define(sov_hv *hv, const char *xml, sov_error *err);
int sov_hv_start(sov_hv *hv, const char *uuid, sov_error *err);
int sov_hv_stop(sov_hv *hv, const char *uuid, bool force, sov_error *err);
int sov_hv_reboot(sov_hv *hv, const char *uuid, sov_error *err);
int sov_hv_undefine(sov_hv *hv, const char *uuid, sov_error *err);
int sov_hv_state(sov_hv *hv, const char *uuid, sov_domain_state *ret, sov_error *err);
int sov_hv_list(sov_hv *hv, const char *prefix, sov_hv_domain **ret, size_t *n,
                sov_error *err);
int sov_hv_addresses(sov_hv *hv, const char *uuid, char *ret, size_t size, sov_error *err);

#endif
