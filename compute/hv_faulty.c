/* hv_faulty.c: the fault-injecting wrapper around the registry's hypervisor tables (tests).
 *
 * Installed for a scheme prefix, it takes the tables the registry serves there, registers
 * its own three in front, and forwards every call to the real ones, except the calls its
 * rules pick: the Nth `start` fails with SOV_E_UNAVAILABLE as a daemon gone would, `define`
 * hangs for a while, and so on. So a test proves how compute/ survives a failing hypervisor
 * precisely (this call, this many times) and without stopping a real libvirtd. Handles are
 * the real driver's own; the wrapper keeps no per-handle state, only process-wide rules and
 * counts under one mutex (a delay is slept outside it). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sov/hv.h"
#include "sov/log.h"
#include "sov/registry.h"

static const char *const calls[] = {
    "open", "close", "alive", "discover", "identify", "define", "start", "stop", "reboot",
    "undefine", "state", "list", "addresses", "pool_path", "volume_path", "volume_upload",
    "volume_overlay", "volume_delete", "volume_tail", "network_ensure", "network_remove",
    "volume_create", "volume_copy", "volume_resize", "volume_info", "volume_list",
    "secret_define", "secret_undefine", "secret_list", "disk_attach", "disk_detach",
    "disk_present", "disk_resize", "disk_snapshot",
    "nic_attach", "nic_detach",
    "migrate", "xml", "volume_send", "console_open", "volume_download",
};
#define NCALLS (sizeof(calls) / sizeof(calls[0]))

typedef struct rule {
    bool used;
    int call;               /* index in calls[] */
    unsigned nth;           /* 0: every call */
    unsigned base;          /* the call's count when the rule was set */
    sov_errcode code;
    unsigned delay_ms;
} rule;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static rule rules[SOV_HV_FAULTY_RULES_MAX];
static unsigned counts[NCALLS];
static int open_handles;
#define PREFIXES_MAX 4
static char prefixes[PREFIXES_MAX][32];     /* where the wrapper is installed */
static size_t nprefixes;
static const sov_hv_domain_ops *real_domain;
static const sov_hv_storage_ops *real_storage;
static const sov_hv_network_ops *real_network;

static int
call_index(const char *call)
{
    for (size_t i = 0; call && i < NCALLS; i++)
        if (strcmp(calls[i], call) == 0)
            return (int) i;
    return -1;
}

/* Count the call and apply the first rule that picks it: -1 with err for an injected
 * failure, 0 to forward (after its delay, if any). */
static int
gate(const char *call, sov_error *err)
{
    int ci = call_index(call);
    unsigned delay_ms = 0;
    sov_errcode code = SOV_OK;

    pthread_mutex_lock(&lock);
    unsigned n = ++counts[ci];
    for (size_t i = 0; i < SOV_HV_FAULTY_RULES_MAX; i++) {
        const rule *r = &rules[i];
        if (!r->used || r->call != ci)
            continue;
        if (r->nth == 0 || n - r->base == r->nth) {
            delay_ms = r->delay_ms;
            code = r->code;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    if (delay_ms > 0) {
        struct timespec ts = { .tv_sec = delay_ms / 1000,
                               .tv_nsec = (long) (delay_ms % 1000) * 1000000L };
        sov_log_debug("hv faulty: delaying %s (call %u) by %u ms", call, n, delay_ms);
        nanosleep(&ts, NULL);
    }
    if (code != SOV_OK) {
        sov_log_debug("hv faulty: failing %s (call %u) with %s", call, n,
                      sov_errcode_name(code));
        sov_error_set(err, code, "injected fault: %s failed", call);
        sov_error_detail(err, "injected fault (hv_faulty, call %u of %s)", n, call);
        return -1;
    }
    return 0;
}

/* Forward to the real table's function, or say the real driver cannot. */
#define FORWARD(table, fn, ...)                                                          \
    do {                                                                                 \
        if (gate(#fn, err) < 0)                                                          \
            return -1;                                                                   \
        if (!table || !table->fn)                                                        \
            return sov_error_set(err, SOV_E_INTERNAL, "driver %s cannot " #fn,         \
                                 table ? table->name : "(none)");                        \
        return table->fn(__VA_ARGS__);                                                   \
    } while (0)

static int
f_open(const char *uri, sov_hv **ret, sov_error *err)
{
    if (gate("open", err) < 0)
        return -1;
    if (real_domain->open(uri, ret, err) < 0)
        return -1;
    pthread_mutex_lock(&lock);
    open_handles++;
    pthread_mutex_unlock(&lock);
    return 0;
}

static void
f_close(sov_hv *hv)
{
    sov_error ignored = SOV_ERROR_INIT;

    (void) gate("close", &ignored);     /* a close cannot fail; a delay still applies */
    pthread_mutex_lock(&lock);
    open_handles--;
    pthread_mutex_unlock(&lock);
    real_domain->close(hv);
}

static int
f_alive(sov_hv *hv, sov_error *err)
{
    FORWARD(real_domain, alive, hv, err);
}

static int
f_discover(sov_hv *hv, const char *pool, const char *pool_path, sov_hv_node *ret,
           sov_error *err)
{
    FORWARD(real_domain, discover, hv, pool, pool_path, ret, err);
}

static int
f_identify(sov_hv *hv, sov_hv_identity *ret, sov_error *err)
{
    FORWARD(real_domain, identify, hv, ret, err);
}

static int
f_define(sov_hv *hv, const char *xml, sov_error *err)
{
    FORWARD(real_domain, define, hv, xml, err);
}

static int
f_start(sov_hv *hv, const char *uuid, sov_error *err)
{
    FORWARD(real_domain, start, hv, uuid, err);
}

static int
f_stop(sov_hv *hv, const char *uuid, bool force, sov_error *err)
{
    FORWARD(real_domain, stop, hv, uuid, force, err);
}

static int
f_reboot(sov_hv *hv, const char *uuid, sov_error *err)
{
    FORWARD(real_domain, reboot, hv, uuid, err);
}

static int
f_undefine(sov_hv *hv, const char *uuid, sov_error *err)
{
    FORWARD(real_domain, undefine, hv, uuid, err);
}

static int
f_state(sov_hv *hv, const char *uuid, sov_domain_state *ret, sov_error *err)
{
    FORWARD(real_domain, state, hv, uuid, ret, err);
}

static int
f_list(sov_hv *hv, const char *prefix, sov_hv_domain **ret, size_t *n, sov_error *err)
{
    FORWARD(real_domain, list, hv, prefix, ret, n, err);
}

static int
f_addresses(sov_hv *hv, const char *uuid, char *ret, size_t size, sov_error *err)
{
    FORWARD(real_domain, addresses, hv, uuid, ret, size, err);
}

static int
f_pool_path(sov_hv *hv, const char *pool, char *ret, size_t size, sov_error *err)
{
    FORWARD(real_storage, pool_path, hv, pool, ret, size, err);
}

static int
f_volume_path(sov_hv *hv, const char *pool, const char *name, char *ret, size_t size,
              sov_error *err)
{
    FORWARD(real_storage, volume_path, hv, pool, name, ret, size, err);
}

static int
f_volume_upload(sov_hv *hv, const char *pool, const char *name, const char *format,
                const char *file, sov_error *err)
{
    FORWARD(real_storage, volume_upload, hv, pool, name, format, file, err);
}

static int
f_volume_overlay(sov_hv *hv, const char *pool, const char *name, const char *backing,
                 const char *backing_format, long long capacity_gib, sov_error *err)
{
    FORWARD(real_storage, volume_overlay, hv, pool, name, backing, backing_format,
            capacity_gib, err);
}

static int
f_volume_delete(sov_hv *hv, const char *pool, const char *name, sov_error *err)
{
    FORWARD(real_storage, volume_delete, hv, pool, name, err);
}

static int
f_volume_download(sov_hv *hv, const char *pool, const char *name, const char *file,
                  sov_error *err)
{
    FORWARD(real_storage, volume_download, hv, pool, name, file, err);
}

static int
f_volume_tail(sov_hv *hv, const char *pool, const char *name, size_t max, char **ret,
              size_t *len, sov_error *err)
{
    FORWARD(real_storage, volume_tail, hv, pool, name, max, ret, len, err);
}

static int
f_network_ensure(sov_hv *hv, const char *name, const char *cidr, sov_error *err)
{
    FORWARD(real_network, network_ensure, hv, name, cidr, err);
}

static int
f_network_remove(sov_hv *hv, const char *name, sov_error *err)
{
    FORWARD(real_network, network_remove, hv, name, err);
}

static int
f_nic_attach(sov_hv *hv, const char *uuid, const char *nic_xml, sov_error *err)
{
    FORWARD(real_network, nic_attach, hv, uuid, nic_xml, err);
}

static int
f_nic_detach(sov_hv *hv, const char *uuid, const char *mac, sov_error *err)
{
    FORWARD(real_network, nic_detach, hv, uuid, mac, err);
}

static int
f_volume_create(sov_hv *hv, const char *pool, const char *name, long long capacity_gib,
                const char *secret_uuid, sov_error *err)
{
    FORWARD(real_storage, volume_create, hv, pool, name, capacity_gib, secret_uuid, err);
}

static int
f_volume_copy(sov_hv *hv, const char *pool, const char *name, const char *source,
              const char *source_format, const char *source_secret_uuid,
              long long capacity_gib, const char *secret_uuid, sov_error *err)
{
    FORWARD(real_storage, volume_copy, hv, pool, name, source, source_format,
            source_secret_uuid, capacity_gib, secret_uuid, err);
}

static int
f_volume_resize(sov_hv *hv, const char *pool, const char *name, long long capacity_gib,
                const char *secret_uuid, sov_error *err)
{
    FORWARD(real_storage, volume_resize, hv, pool, name, capacity_gib, secret_uuid, err);
}

static int
f_volume_info(sov_hv *hv, const char *pool, const char *name, long long *capacity,
              long long *allocation, sov_error *err)
{
    FORWARD(real_storage, volume_info, hv, pool, name, capacity, allocation, err);
}

static int
f_volume_list(sov_hv *hv, const char *pool, const char *prefix, char ***ret, size_t *n,
              sov_error *err)
{
    FORWARD(real_storage, volume_list, hv, pool, prefix, ret, n, err);
}

static int
f_secret_define(sov_hv *hv, const char *uuid, const char *usage, const unsigned char *value,
                size_t len, sov_error *err)
{
    FORWARD(real_storage, secret_define, hv, uuid, usage, value, len, err);
}

static int
f_secret_undefine(sov_hv *hv, const char *uuid, sov_error *err)
{
    FORWARD(real_storage, secret_undefine, hv, uuid, err);
}

static int
f_secret_list(sov_hv *hv, const char *prefix, char ***ret, size_t *n, sov_error *err)
{
    FORWARD(real_storage, secret_list, hv, prefix, ret, n, err);
}

static int
f_disk_attach(sov_hv *hv, const char *uuid, const char *disk_xml, sov_error *err)
{
    FORWARD(real_domain, disk_attach, hv, uuid, disk_xml, err);
}

static int
f_disk_detach(sov_hv *hv, const char *uuid, const char *dev, unsigned timeout_ms,
              sov_error *err)
{
    FORWARD(real_domain, disk_detach, hv, uuid, dev, timeout_ms, err);
}

static int
f_disk_present(sov_hv *hv, const char *uuid, const char *dev, sov_error *err)
{
    FORWARD(real_domain, disk_present, hv, uuid, dev, err);
}

static int
f_disk_resize(sov_hv *hv, const char *uuid, const char *dev, long long capacity_gib,
              sov_error *err)
{
    FORWARD(real_domain, disk_resize, hv, uuid, dev, capacity_gib, err);
}

static int
f_disk_snapshot(sov_hv *hv, const char *uuid, const char *dev, const char *pool,
                const char *target, const char *secret_uuid, sov_error *err)
{
    FORWARD(real_domain, disk_snapshot, hv, uuid, dev, pool, target, secret_uuid, err);
}

static int
f_migrate(sov_hv *src, sov_hv *dst, const char *uuid, const sov_hv_migrate_args *a,
          sov_hv_job *ret, sov_error *err)
{
    FORWARD(real_domain, migrate, src, dst, uuid, a, ret, err);
}

static int
f_xml(sov_hv *hv, const char *uuid, char **ret, sov_error *err)
{
    FORWARD(real_domain, xml, hv, uuid, ret, err);
}

static int
f_console_open(sov_hv *hv, const char *uuid, bool force, sov_hv_console **ret, sov_error *err)
{
    FORWARD(real_domain, console_open, hv, uuid, force, ret, err);
}

static int
f_volume_send(sov_hv *src, const char *pool, const char *name, sov_hv *dst, sov_error *err)
{
    FORWARD(real_storage, volume_send, src, pool, name, dst, err);
}

/* The real tables' attach and detach are not wrapped: the handle, and whatever they keep in
 * it, stays theirs. */
static const sov_hv_domain_ops faulty_domain = {
    .name = "faulty",
    .open = f_open,
    .close = f_close,
    .alive = f_alive,
    .discover = f_discover,
    .identify = f_identify,
    .define = f_define,
    .start = f_start,
    .stop = f_stop,
    .reboot = f_reboot,
    .undefine = f_undefine,
    .state = f_state,
    .list = f_list,
    .addresses = f_addresses,
    .disk_attach = f_disk_attach,
    .disk_detach = f_disk_detach,
    .disk_present = f_disk_present,
    .disk_resize = f_disk_resize,
    .disk_snapshot = f_disk_snapshot,
    .migrate = f_migrate,
    .xml = f_xml,
    .console_open = f_console_open,
};

static const sov_hv_storage_ops faulty_storage = {
    .name = "faulty",
    .pool_path = f_pool_path,
    .volume_path = f_volume_path,
    .volume_upload = f_volume_upload,
    .volume_overlay = f_volume_overlay,
    .volume_delete = f_volume_delete,
    .volume_tail = f_volume_tail,
    .volume_create = f_volume_create,
    .volume_copy = f_volume_copy,
    .volume_resize = f_volume_resize,
    .volume_info = f_volume_info,
    .volume_list = f_volume_list,
    .secret_define = f_secret_define,
    .secret_undefine = f_secret_undefine,
    .secret_list = f_secret_list,
    .volume_send = f_volume_send,
    .volume_download = f_volume_download,
};

static const sov_hv_network_ops faulty_network = {
    .name = "faulty",
    .network_ensure = f_network_ensure,
    .network_remove = f_network_remove,
    .nic_attach = f_nic_attach,
    .nic_detach = f_nic_detach,
};

void
sov_hv_faulty_clear(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < SOV_HV_FAULTY_RULES_MAX; i++)
        rules[i] = (rule) { .used = false };
    memset(counts, 0, sizeof(counts));
    pthread_mutex_unlock(&lock);
}

int
sov_hv_faulty_install(const char *scheme_prefix, sov_error *err)
{
    const sov_hv_domain_ops *d;
    const sov_hv_storage_ops *st;
    const sov_hv_network_ops *nw;
    char probe[48];

    if (!scheme_prefix || strlen(scheme_prefix) >= sizeof(prefixes[0]))
        return sov_error_set(err, SOV_E_INVALID, "no scheme prefix");
    if (nprefixes == PREFIXES_MAX)
        return sov_error_set(err, SOV_E_INTERNAL, "the faulty wrapper is installed %d times",
                             PREFIXES_MAX);
    /* What a URI of exactly this scheme opens with now: the tables to forward to. */
    snprintf(probe, sizeof(probe), "%s:", scheme_prefix);
    d = sov_registry_driver(SOV_DRIVER_DOMAIN, probe);
    st = sov_registry_driver(SOV_DRIVER_STORAGE, probe);
    nw = sov_registry_driver(SOV_DRIVER_NETWORK, probe);
    if (!d)
        return sov_error_set(err, SOV_E_NOT_FOUND, "no hypervisor driver for '%s' to wrap",
                             scheme_prefix);
    /* One set of real tables for all prefixes: the rules and counts are shared too. */
    if (nprefixes > 0 && (d != real_domain || st != real_storage || nw != real_network))
        return sov_error_set(err, SOV_E_CONFLICT,
                             "'%s' has other drivers than the wrapper forwards to",
                             scheme_prefix);
    /* A table the real driver lacks stays lacking: the wrapper does not invent one. */
    if (sov_registry_add_domain_driver(scheme_prefix, &faulty_domain, err) < 0 ||
        (st && sov_registry_add_storage_driver(scheme_prefix, &faulty_storage, err) < 0) ||
        (nw && sov_registry_add_network_driver(scheme_prefix, &faulty_network, err) < 0)) {
        sov_registry_remove_driver(SOV_DRIVER_DOMAIN, scheme_prefix, &faulty_domain);
        sov_registry_remove_driver(SOV_DRIVER_STORAGE, scheme_prefix, &faulty_storage);
        return -1;
    }
    if (nprefixes == 0) {
        real_domain = d;
        real_storage = st;
        real_network = nw;
        sov_hv_faulty_clear();
        pthread_mutex_lock(&lock);
        open_handles = 0;
        pthread_mutex_unlock(&lock);
    }
    snprintf(prefixes[nprefixes++], sizeof(prefixes[0]), "%s", scheme_prefix);
    return 0;
}

void
sov_hv_faulty_uninstall(void)
{
    for (size_t i = 0; i < nprefixes; i++) {
        sov_registry_remove_driver(SOV_DRIVER_DOMAIN, prefixes[i], &faulty_domain);
        sov_registry_remove_driver(SOV_DRIVER_STORAGE, prefixes[i], &faulty_storage);
        sov_registry_remove_driver(SOV_DRIVER_NETWORK, prefixes[i], &faulty_network);
    }
    nprefixes = 0;
    sov_hv_faulty_clear();
}

int
sov_hv_faulty_set(const char *call, unsigned nth, sov_errcode code, unsigned delay_ms,
                  sov_error *err)
{
    int ci = call_index(call);
    int rc = -1;

    if (ci < 0)
        return sov_error_set(err, SOV_E_INVALID, "'%s' is no hypervisor call",
                             call ? call : "");
    if ((unsigned) code >= SOV_E__COUNT || (code == SOV_OK && delay_ms == 0))
        return sov_error_set(err, SOV_E_INVALID, "a fault needs an error code or a delay");
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < SOV_HV_FAULTY_RULES_MAX; i++)
        if (!rules[i].used) {
            rules[i] = (rule) { .used = true, .call = ci, .nth = nth, .base = counts[ci], .code = code,
                                .delay_ms = delay_ms };
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&lock);
    if (rc < 0)
        sov_error_set(err, SOV_E_INTERNAL, "more than %d fault rules",
                      SOV_HV_FAULTY_RULES_MAX);
    return rc;
}

static const struct {
    const char *name;
    sov_errcode code;
} codes[] = {
    { "ok", SOV_OK },
    { "unavailable", SOV_E_UNAVAILABLE },
    { "internal", SOV_E_INTERNAL },
    { "not_found", SOV_E_NOT_FOUND },
    { "conflict", SOV_E_CONFLICT },
};

int
sov_hv_faulty_parse(const char *spec, sov_error *err)
{
    char buf[512], *save = NULL;

    if (!spec || strlen(spec) >= sizeof(buf))
        return sov_error_set(err, SOV_E_INVALID, "no fault rules, or too long");
    snprintf(buf, sizeof(buf), "%s", spec);
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char call[32], code[32];
        unsigned nth = 0, delay_ms = 0;
        int n = sscanf(tok, "%31[a-z_]:%u:%31[a-z_]:%u", call, &nth, code, &delay_ms);
        size_t c;

        if (n < 3)
            return sov_error_set(err, SOV_E_INVALID,
                                 "fault rule '%s' is not call:nth:code[:delay_ms]", tok);
        for (c = 0; c < sizeof(codes) / sizeof(codes[0]); c++)
            if (strcmp(codes[c].name, code) == 0)
                break;
        if (c == sizeof(codes) / sizeof(codes[0]))
            return sov_error_set(err, SOV_E_INVALID, "fault rule '%s': unknown code '%s'",
                                 tok, code);
        if (sov_hv_faulty_set(call, nth, codes[c].code, delay_ms, err) < 0)
            return -1;
    }
    return 0;
}

unsigned
sov_hv_faulty_calls(const char *call)
{
    int ci = call_index(call);
    unsigned n;

    if (ci < 0)
        return 0;
    pthread_mutex_lock(&lock);
    n = counts[ci];
    pthread_mutex_unlock(&lock);
    return n;
}

int
sov_hv_faulty_open_handles(void)
{
    int n;

    pthread_mutex_lock(&lock);
    n = open_handles;
    pthread_mutex_unlock(&lock);
    return n;
}
