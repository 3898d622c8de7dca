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

typedef struct sov_hv_ops {
    const char *name;
    int (*open)(const char *uri, sov_hv **ret, sov_error *err);
    void (*close)(sov_hv *hv);
    /* Cheap liveness probe: 0 when the hypervisor answers. */
    int (*alive)(sov_hv *hv, sov_error *err);
    /* Capacity and make; creates the directory pool `pool` at pool_path if missing. */
    int (*discover)(sov_hv *hv, const char *pool, const char *pool_path, sov_hv_node *ret,
                    sov_error *err);
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

#endif
