/* hv.c: the wrappers every caller of the hypervisor table goes through.
 *
 * Argument checks and debug logs live here once, so drivers (hv_libvirt.c, and the faulty
 * wrappers tests put around it) only do their work. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sov/hv.h"
#include "sov/log.h"
#include "sov/registry.h"

/* Milliseconds since t0, for the debug logs: libvirt calls are where time goes. */
static long
ms_since(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long) ((now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000);
}

int
sov_hv_register_libvirt(sov_error *err)
{
    /* "" first: the default for any URI, as before the registry (libvirt itself says which
     * schemes it has no driver for); qemu and test by name, so a test or a module can
     * replace the default without taking these. */
    static const char *const schemes[] = { "", "qemu", "test" };

    const char *faults = getenv("SOV_HV_FAULT");

    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (sov_registry_add_domain_driver(schemes[i], &sov_hv_libvirt_domain_ops, err) < 0 ||
            sov_registry_add_storage_driver(schemes[i], &sov_hv_libvirt_storage_ops, err) < 0 ||
            sov_registry_add_network_driver(schemes[i], &sov_hv_libvirt_network_ops, err) < 0)
            return -1;
    /* Tests only (include/sov/hv.h): the faulty wrapper in front of every libvirt URI. */
    if (faults && *faults) {
        for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
            if (sov_hv_faulty_install(schemes[i], err) < 0)
                return -1;
        if (sov_hv_faulty_parse(faults, err) < 0)
            return -1;
        sov_log_warn("SOV_HV_FAULT is set: hypervisor calls fail as it says (for tests only)");
    }
    return 0;
}

int
sov_hv_open(const char *uri, sov_hv **ret, sov_error *err)
{
    const sov_hv_domain_ops *ops;

    if (!uri || !*uri)
        return sov_error_set(err, SOV_E_INVALID, "no hypervisor URI");
    ops = sov_registry_driver(SOV_DRIVER_DOMAIN, uri);
    if (!ops)
        return sov_error_set(err, SOV_E_UNAVAILABLE, "no hypervisor driver for '%s'", uri);
    return sov_hv_open_with(ops, uri, ret, err);
}

static void
detach(sov_hv *hv)
{
    if (hv->network && hv->network->detach && hv->network_data)
        hv->network->detach(hv);
    if (hv->storage && hv->storage->detach && hv->storage_data)
        hv->storage->detach(hv);
}

int
sov_hv_open_with(const sov_hv_domain_ops *ops, const char *uri, sov_hv **ret,
                 sov_error *err)
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
    /* Whatever the driver filled in, calls through this handle go to the tables asked for:
     * the domain table given, storage and network as the registry has them for uri. */
    hv->domain = ops;
    hv->storage = sov_registry_driver(SOV_DRIVER_STORAGE, uri);
    hv->network = sov_registry_driver(SOV_DRIVER_NETWORK, uri);
    hv->storage_data = hv->network_data = NULL;
    if ((hv->storage && hv->storage->attach && hv->storage->attach(hv, uri, err) < 0) ||
        (hv->network && hv->network->attach && hv->network->attach(hv, uri, err) < 0)) {
        sov_log_debug("hv %s: attaching storage or network for '%s' failed: %s", ops->name,
                      uri, err->detail[0] ? err->detail : err->msg);
        detach(hv);
        ops->close(hv);
        return -1;
    }
    sov_log_debug("hv %s: opened '%s' in %ld ms", ops->name, uri, ms_since(&t0));
    *ret = hv;
    return 0;
}

void
sov_hv_close(sov_hv *hv)
{
    if (hv) {
        detach(hv);
        hv->domain->close(hv);
    }
}

int
sov_hv_alive(sov_hv *hv, sov_error *err)
{
    if (!hv)
        return sov_error_set(err, SOV_E_INTERNAL, "no hypervisor connection");
    if (hv->domain->alive(hv, err) < 0) {
        sov_log_debug("hv %s: not alive: %s", hv->domain->name,
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
    if (hv->domain->discover(hv, pool, pool_path, &n, err) < 0) {
        sov_log_debug("hv %s: discovery failed after %ld ms: %s", hv->domain->name, ms_since(&t0),
                      err->detail[0] ? err->detail : err->msg);
        return -1;
    }
    sov_log_debug("hv %s: discovered %s (%s), %d cpus, %lld MiB, %d NUMA cells, pool '%s' "
                  "%lld GiB, %d GPUs in %ld ms", hv->domain->name, n.hypervisor, n.cpu_model,
                  n.cpus, n.memory_mib, n.numa_cells, n.storage_pool, n.storage_gib, n.gpus,
                  ms_since(&t0));
    *ret = n;
    return 0;
}

/* The guest half: each wrapper checks the handle, calls the table, logs a failure at
 * debug (whoever decides what happens next logs for real). */
#define HV_CALL(table, fn, call)                                                       \
    do {                                                                                 \
        if (!hv)                                                                         \
            return sov_error_set(err, SOV_E_INTERNAL, "no hypervisor connection");       \
        if (!hv->table || !hv->table->fn)                                                \
            return sov_error_set(err, SOV_E_INTERNAL, "driver %s cannot " #fn,         \
                                 hv->table ? hv->table->name : "(none)");                \
        if ((call) < 0) {                                                                \
            sov_log_debug("hv %s: " #fn " failed: %s", hv->table->name,                \
                          err->detail[0] ? err->detail : err->msg);                      \
            return -1;                                                                   \
        }                                                                                \
        return 0;                                                                        \
    } while (0)

int
sov_hv_identify(sov_hv *hv, sov_hv_identity *ret, sov_error *err)
{
    HV_CALL(domain, identify, hv->domain->identify(hv, ret, err));
}

int
sov_hv_network_ensure(sov_hv *hv, const char *name, const char *cidr, sov_error *err)
{
    HV_CALL(network, network_ensure, hv->network->network_ensure(hv, name, cidr, err));
}

int
sov_hv_network_remove(sov_hv *hv, const char *name, sov_error *err)
{
    HV_CALL(network, network_remove, hv->network->network_remove(hv, name, err));
}

int
sov_hv_nic_attach(sov_hv *hv, const char *uuid, const char *nic_xml, sov_error *err)
{
    HV_CALL(network, nic_attach, hv->network->nic_attach(hv, uuid, nic_xml, err));
}

int
sov_hv_nic_detach(sov_hv *hv, const char *uuid, const char *mac, sov_error *err)
{
    HV_CALL(network, nic_detach, hv->network->nic_detach(hv, uuid, mac, err));
}

int
sov_hv_pool_path(sov_hv *hv, const char *pool, char *ret, size_t size, sov_error *err)
{
    HV_CALL(storage, pool_path, hv->storage->pool_path(hv, pool, ret, size, err));
}

int
sov_hv_volume_path(sov_hv *hv, const char *pool, const char *name, char *ret, size_t size,
                   sov_error *err)
{
    HV_CALL(storage, volume_path, hv->storage->volume_path(hv, pool, name, ret, size, err));
}

int
sov_hv_volume_upload(sov_hv *hv, const char *pool, const char *name, const char *format,
                     const char *file, sov_error *err)
{
    HV_CALL(storage, volume_upload,
            hv->storage->volume_upload(hv, pool, name, format, file, err));
}

int
sov_hv_volume_overlay(sov_hv *hv, const char *pool, const char *name, const char *backing,
                      const char *backing_format, long long capacity_gib, sov_error *err)
{
    HV_CALL(storage, volume_overlay,
            hv->storage->volume_overlay(hv, pool, name, backing, backing_format,
                                                    capacity_gib, err));
}

int
sov_hv_volume_delete(sov_hv *hv, const char *pool, const char *name, sov_error *err)
{
    HV_CALL(storage, volume_delete, hv->storage->volume_delete(hv, pool, name, err));
}

int
sov_hv_volume_tail(sov_hv *hv, const char *pool, const char *name, size_t max, char **ret,
                   size_t *len, sov_error *err)
{
    HV_CALL(storage, volume_tail, hv->storage->volume_tail(hv, pool, name, max, ret, len, err));
}

int
sov_hv_volume_download(sov_hv *hv, const char *pool, const char *name, const char *file,
                       sov_error *err)
{
    HV_CALL(storage, volume_download, hv->storage->volume_download(hv, pool, name, file, err));
}

int
sov_hv_define(sov_hv *hv, const char *xml, sov_error *err)
{
    HV_CALL(domain, define, hv->domain->define(hv, xml, err));
}

int
sov_hv_start(sov_hv *hv, const char *uuid, sov_error *err)
{
    HV_CALL(domain, start, hv->domain->start(hv, uuid, err));
}

int
sov_hv_stop(sov_hv *hv, const char *uuid, bool force, sov_error *err)
{
    HV_CALL(domain, stop, hv->domain->stop(hv, uuid, force, err));
}

int
sov_hv_reboot(sov_hv *hv, const char *uuid, sov_error *err)
{
    HV_CALL(domain, reboot, hv->domain->reboot(hv, uuid, err));
}

int
sov_hv_undefine(sov_hv *hv, const char *uuid, sov_error *err)
{
    HV_CALL(domain, undefine, hv->domain->undefine(hv, uuid, err));
}

int
sov_hv_state(sov_hv *hv, const char *uuid, sov_domain_state *ret, sov_error *err)
{
    HV_CALL(domain, state, hv->domain->state(hv, uuid, ret, err));
}

int
sov_hv_list(sov_hv *hv, const char *prefix, sov_hv_domain **ret, size_t *n, sov_error *err)
{
    HV_CALL(domain, list, hv->domain->list(hv, prefix, ret, n, err));
}

int
sov_hv_addresses(sov_hv *hv, const char *uuid, char *ret, size_t size, sov_error *err)
{
    HV_CALL(domain, addresses, hv->domain->addresses(hv, uuid, ret, size, err));
}

int
sov_hv_volume_create(sov_hv *hv, const char *pool, const char *name, long long capacity_gib,
                     const char *secret_uuid, sov_error *err)
{
    HV_CALL(storage, volume_create,
            hv->storage->volume_create(hv, pool, name, capacity_gib, secret_uuid, err));
}

int
sov_hv_volume_copy(sov_hv *hv, const char *pool, const char *name, const char *source,
                   const char *source_format, const char *source_secret_uuid,
                   long long capacity_gib, const char *secret_uuid, sov_error *err)
{
    HV_CALL(storage, volume_copy,
            hv->storage->volume_copy(hv, pool, name, source, source_format, source_secret_uuid,
                                     capacity_gib, secret_uuid, err));
}

int
sov_hv_volume_resize(sov_hv *hv, const char *pool, const char *name, long long capacity_gib,
                     const char *secret_uuid, sov_error *err)
{
    HV_CALL(storage, volume_resize,
            hv->storage->volume_resize(hv, pool, name, capacity_gib, secret_uuid, err));
}

int
sov_hv_volume_info(sov_hv *hv, const char *pool, const char *name, long long *capacity,
                   long long *allocation, sov_error *err)
{
    HV_CALL(storage, volume_info,
            hv->storage->volume_info(hv, pool, name, capacity, allocation, err));
}

int
sov_hv_volume_list(sov_hv *hv, const char *pool, const char *prefix, char ***ret, size_t *n,
                   sov_error *err)
{
    HV_CALL(storage, volume_list, hv->storage->volume_list(hv, pool, prefix, ret, n, err));
}

int
sov_hv_secret_define(sov_hv *hv, const char *uuid, const char *usage,
                     const unsigned char *value, size_t len, sov_error *err)
{
    HV_CALL(storage, secret_define,
            hv->storage->secret_define(hv, uuid, usage, value, len, err));
}

int
sov_hv_secret_undefine(sov_hv *hv, const char *uuid, sov_error *err)
{
    HV_CALL(storage, secret_undefine, hv->storage->secret_undefine(hv, uuid, err));
}

int
sov_hv_secret_list(sov_hv *hv, const char *prefix, char ***ret, size_t *n, sov_error *err)
{
    HV_CALL(storage, secret_list, hv->storage->secret_list(hv, prefix, ret, n, err));
}

void
sov_hv_names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

int
sov_hv_disk_attach(sov_hv *hv, const char *uuid, const char *disk_xml, sov_error *err)
{
    HV_CALL(domain, disk_attach, hv->domain->disk_attach(hv, uuid, disk_xml, err));
}

int
sov_hv_disk_detach(sov_hv *hv, const char *uuid, const char *dev, unsigned timeout_ms,
                   sov_error *err)
{
    HV_CALL(domain, disk_detach, hv->domain->disk_detach(hv, uuid, dev, timeout_ms, err));
}

int
sov_hv_disk_present(sov_hv *hv, const char *uuid, const char *dev, sov_error *err)
{
    int rc;

    if (!hv)
        return sov_error_set(err, SOV_E_INTERNAL, "no hypervisor connection");
    if (!hv->domain->disk_present)
        return sov_error_set(err, SOV_E_INTERNAL, "driver %s cannot disk_present",
                             hv->domain->name);
    rc = hv->domain->disk_present(hv, uuid, dev, err);
    if (rc < 0)
        sov_log_debug("hv %s: disk_present failed: %s", hv->domain->name,
                      err->detail[0] ? err->detail : err->msg);
    return rc;
}

int
sov_hv_disk_resize(sov_hv *hv, const char *uuid, const char *dev, long long capacity_gib,
                   sov_error *err)
{
    HV_CALL(domain, disk_resize, hv->domain->disk_resize(hv, uuid, dev, capacity_gib, err));
}

int
sov_hv_disk_snapshot(sov_hv *hv, const char *uuid, const char *dev, const char *pool,
                     const char *target, const char *secret_uuid, sov_error *err)
{
    HV_CALL(domain, disk_snapshot,
            hv->domain->disk_snapshot(hv, uuid, dev, pool, target, secret_uuid, err));
}

int
sov_hv_migrate(sov_hv *src, sov_hv *dst, const char *uuid, const sov_hv_migrate_args *a,
               sov_hv_job *ret, sov_error *err)
{
    sov_hv *hv = src;

    if (!dst)
        return sov_error_set(err, SOV_E_INTERNAL, "no target hypervisor connection");
    HV_CALL(domain, migrate, hv->domain->migrate(hv, dst, uuid, a, ret, err));
}

int
sov_hv_xml(sov_hv *hv, const char *uuid, char **ret, sov_error *err)
{
    HV_CALL(domain, xml, hv->domain->xml(hv, uuid, ret, err));
}

int
sov_hv_console_open(sov_hv *hv, const char *uuid, bool force, sov_hv_console **ret,
                    sov_error *err)
{
    HV_CALL(domain, console_open, hv->domain->console_open(hv, uuid, force, ret, err));
}

long
sov_hv_console_read(sov_hv_console *c, void *buf, size_t size, sov_error *err)
{
    return c->read(c, buf, size, err);
}

int
sov_hv_console_write(sov_hv_console *c, const void *buf, size_t len, sov_error *err)
{
    return c->write(c, buf, len, err);
}

void
sov_hv_console_close(sov_hv_console *c)
{
    if (c)
        c->close(c);
}

int
sov_hv_volume_send(sov_hv *src, const char *pool, const char *name, sov_hv *dst,
                   sov_error *err)
{
    sov_hv *hv = src;

    if (!dst)
        return sov_error_set(err, SOV_E_INTERNAL, "no target hypervisor connection");
    HV_CALL(storage, volume_send, hv->storage->volume_send(hv, pool, name, dst, err));
}
