/* hv.c: the wrappers every caller of the hypervisor table goes through.
 *
 * Argument checks and debug logs live here once, so drivers (hv_libvirt.c, and the faulty
 * wrappers tests put around it) only do their work. */
#include <string.h>
#include <time.h>

#include "sov/hv.h"
#include "sov/log.h"

/* Milliseconds since t0, for the debug logs: libvirt calls are where time goes. */
static long
ms_since(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long) ((now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000);
}

int
sov_hv_open(const char *uri, sov_hv **ret, sov_error *err)
{
    return sov_hv_open_with(&sov_hv_libvirt_ops, uri, ret, err);
}

int
sov_hv_open_with(const sov_hv_ops *ops, const char *uri, sov_hv **ret, sov_error *err)
{
    struct timespec t0;
    sov_hv *hv = NULL;

    if (!ops || !uri || !*uri)
        return sov_error_set(err, SOV_E_INVALID, "no hypervisor URI");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (ops->open(uri, &hv, err) < 0) {
        sov_log_debug("hv %s: open '%s' failed after %ld ms: %s", ops->name, uri,
                      ms_since(&t0), err->detail[0] ? err->detail : err->msg);
        return -1;
    }
    /* Whatever the driver filled in, calls through this handle go to the table asked for. */
    hv->ops = ops;
    sov_log_debug("hv %s: opened '%s' in %ld ms", ops->name, uri, ms_since(&t0));
    *ret = hv;
    return 0;
}

void
sov_hv_close(sov_hv *hv)
{
    if (hv)
        hv->ops->close(hv);
}

int
sov_hv_alive(sov_hv *hv, sov_error *err)
{
    if (!hv)
        return sov_error_set(err, SOV_E_INTERNAL, "no hypervisor connection");
    if (hv->ops->alive(hv, err) < 0) {
        sov_log_debug("hv %s: not alive: %s", hv->ops->name,
                      err->detail[0] ? err->detail : err->msg);
        return -1;
    }
    return 0;
}

int
sov_hv_discover(sov_hv *hv, const char *pool, const char *pool_path, sov_hv_node *ret,
                sov_error *err)
{
    struct timespec t0;
    sov_hv_node n;

    if (!hv)
        return sov_error_set(err, SOV_E_INTERNAL, "no hypervisor connection");
    if (!pool || !*pool || !pool_path || !*pool_path)
        return sov_error_set(err, SOV_E_INVALID, "no storage pool name or path");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&n, 0, sizeof(n));
    if (hv->ops->discover(hv, pool, pool_path, &n, err) < 0) {
        sov_log_debug("hv %s: discovery failed after %ld ms: %s", hv->ops->name, ms_since(&t0),
                      err->detail[0] ? err->detail : err->msg);
        return -1;
    }
    sov_log_debug("hv %s: discovered %s (%s), %d cpus, %lld MiB, %d NUMA cells, pool '%s' "
                  "%lld GiB, %d GPUs in %ld ms", hv->ops->name, n.hypervisor, n.cpu_model,
                  n.cpus, n.memory_mib, n.numa_cells, n.storage_pool, n.storage_gib, n.gpus,
                  ms_since(&t0));
    *ret = n;
    return 0;
}

/* The guest half: each wrapper checks the handle, calls the table, logs a failure at
 * debug (whoever decides what happens next logs for real). */
#define HV_CALL(fn, call)                                                              \
    do {                                                                                 \
        if (!hv)                                                                         \
            return sov_error_set(err, SOV_E_INTERNAL, "no hypervisor connection");       \
        if (!hv->ops->fn)                                                                \
            return sov_error_set(err, SOV_E_INTERNAL, "driver %s cannot " #fn,         \
                                 hv->ops->name);                                         \
        if ((call) < 0) {                                                                \
            sov_log_debug("hv %s: " #fn " failed: %s", hv->ops->name,                  \
                          err->detail[0] ? err->detail : err->msg);                      \
            return -1;                                                                   \
        }                                                                                \
        return 0;                                                                        \
    } while (0)

int
sov_hv_identify(sov_hv *hv, sov_hv_identity *ret, sov_error *err)
{
    HV_CALL(identify, hv->ops->identify(hv, ret, err));
}

int
sov_hv_network_ensure(sov_hv *hv, const char *name, const char *cidr, sov_error *err)
{
    HV_CALL(network_ensure, hv->ops->network_ensure(hv, name, cidr, err));
}

int
sov_hv_network_remove(sov_hv *hv, const char *name, sov_error *err)
{
    HV_CALL(network_remove, hv->ops->network_remove(hv, name, err));
}

int
sov_hv_pool_path(sov_hv *hv, const char *pool, char *ret, size_t size, sov_error *err)
{
    HV_CALL(pool_path, hv->ops->pool_path(hv, pool, ret, size, err));
}

int
sov_hv_volume_path(sov_hv *hv, const char *pool, const char *name, char *ret, size_t size,
                   sov_error *err)
{
    HV_CALL(volume_path, hv->ops->volume_path(hv, pool, name, ret, size, err));
}

int
sov_hv_volume_upload(sov_hv *hv, const char *pool, const char *name, const char *format,
                     const char *file, sov_error *err)
{
    HV_CALL(volume_upload, hv->ops->volume_upload(hv, pool, name, format, file, err));
}

int
sov_hv_volume_overlay(sov_hv *hv, const char *pool, const char *name, const char *backing,
                      const char *backing_format, long long capacity_gib, sov_error *err)
{
    HV_CALL(volume_overlay, hv->ops->volume_overlay(hv, pool, name, backing, backing_format,
                                                    capacity_gib, err));
}

int
sov_hv_volume_delete(sov_hv *hv, const char *pool, const char *name, sov_error *err)
{
    HV_CALL(volume_delete, hv->ops->volume_delete(hv, pool, name, err));
}

int
sov_hv_volume_tail(sov_hv *hv, const char *pool, const char *name, size_t max, char **ret,
                   size_t *len, sov_error *err)
{
    HV_CALL(volume_tail, hv->ops->volume_tail(hv, pool, name, max, ret, len, err));
}

int
sov_hv_define(sov_hv *hv, const char *xml, sov_error *err)
{
    HV_CALL(define, hv->ops->define(hv, xml, err));
}

int
sov_hv_start(sov_hv *hv, const char *uuid, sov_error *err)
{
    HV_CALL(start, hv->ops->start(hv, uuid, err));
}

int
sov_hv_stop(sov_hv *hv, const char *uuid, bool force, sov_error *err)
{
    HV_CALL(stop, hv->ops->stop(hv, uuid, force, err));
}

int
sov_hv_reboot(sov_hv *hv, const char *uuid, sov_error *err)
{
    HV_CALL(reboot, hv->ops->reboot(hv, uuid, err));
}

int
sov_hv_undefine(sov_hv *hv, const char *uuid, sov_error *err)
{
    HV_CALL(undefine, hv->ops->undefine(hv, uuid, err));
}

int
sov_hv_state(sov_hv *hv, const char *uuid, sov_domain_state *ret, sov_error *err)
{
    HV_CALL(state, hv->ops->state(hv, uuid, ret, err));
}

int
sov_hv_list(sov_hv *hv, const char *prefix, sov_hv_domain **ret, size_t *n, sov_error *err)
{
    HV_CALL(list, hv->ops->list(hv, prefix, ret, n, err));
}

int
sov_hv_addresses(sov_hv *hv, const char *uuid, char *ret, size_t size, sov_error *err)
{
    HV_CALL(addresses, hv->ops->addresses(hv, uuid, ret, size, err));
}
