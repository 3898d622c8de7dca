/* hv.h: the hypervisor behind a table of functions.
 *
 * compute/ sees only this header. hv_libvirt*.c fill the tables for every libvirt URI:
 * production opens qemu:///system (or qemu+tls://, qemu+ssh://), tests open test:///default
 * or test:///path/host.xml (a host of any size, no daemon), so tests run the production
 * path. Callers use the wrappers (sov_hv_open(), ...), never hv->ops directly: checks and
 * debug logs live in one place. Errors: SOV_E_UNAVAILABLE when the hypervisor cannot be
 * reached (err->detail holds libvirt's message), SOV_E_NOT_FOUND for unknown objects. */
#ifndef SOV_HV_H
#define SOV_HV_H

#include <stdbool.h>
#include <stddef.h>

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

/* The hypervisor is three tables, as libvirt's virConnectDriver has hypervisor, network and
 * storage tables: domains (the connection, the host and its guests), storage (pools and
 * volumes) and networks. sov_hv_open() chooses each by the URI's scheme through the registry
 * (include/sov/registry.h); compute/ registers libvirt's for every URI (and by name for
 * qemu and test), a storage/ or network/ module registers its own with one line, and tests
 * may register a wrapper (hv_faulty.c) in front of the real one. */
struct sov_hv_migrate_args;
struct sov_hv_job;
typedef struct sov_hv_console sov_hv_console;

typedef struct sov_hv_domain_ops {
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
    /* ---- a running (or defined) domain's disks, for storage/ ----
     * disk_xml is one <disk> element (sov_domain_disk_xml, include/sov/compute.h). */
    /* Attach a disk: to the persistent definition, and live when the domain runs. A disk
     * already at the same target dev is left as it is (0): reruns are harmless. */
    int (*disk_attach)(sov_hv *hv, const char *uuid, const char *disk_xml, sov_error *err);
    /* Detach the disk at target dev: from the persistent definition, and from the running
     * domain, waiting up to timeout_ms for the guest to release it (then SOV_E_CONFLICT,
     * "the guest has not released <dev>", the disk still there live). Not there: 0. */
    int (*disk_detach)(sov_hv *hv, const char *uuid, const char *dev, unsigned timeout_ms,
                       sov_error *err);
    /* 1 when the running (else the defined) domain has a disk at dev, 0 when not. */
    int (*disk_present)(sov_hv *hv, const char *uuid, const char *dev, sov_error *err);
    /* Grow the running domain's disk at dev to capacity_gib: the guest sees the new size. */
    int (*disk_resize)(sov_hv *hv, const char *uuid, const char *dev, long long capacity_gib,
                       sov_error *err);
    /* A crash-consistent copy of the running domain's disk at dev, as it was at the call, into
     * a new qcow2 volume `target` of pool (encrypted with secret_uuid's passphrase when not
     * NULL), returning when the copy is whole. A target already there (an earlier run's,
     * perhaps partial) is replaced; a failed snapshot leaves no target. The domain must run
     * (else SOV_E_CONFLICT). libvirt: a push-mode backup into the target made first. */
    int (*disk_snapshot)(sov_hv *hv, const char *uuid, const char *dev, const char *pool,
                         const char *target, const char *secret_uuid, sov_error *err);
    /* ---- migration (compute/hv_libvirt_migrate.c) ----
     * Move the running domain uuid from src (this handle) to dst, live: libvirt's
     * VIR_MIGRATE_LIVE | PEER2PEER | PERSIST_DEST | UNDEFINE_SOURCE, with the copy of its
     * writable disks when a->copy_storage (VIR_MIGRATE_NON_SHARED_INC: each disk's top layer,
     * which is all of a disk without a backing file; the target's disks are made first, same
     * pool, name and size, over the same backing files; read-only disks are not copied and
     * must be on the target already), VIR_MIGRATE_AUTO_CONVERGE when a->auto_converge. The
     * source libvirtd dials a->dest_uri; QEMU's migration and disk streams go to
     * tcp://a->address (the target's address, never a host name: PLATFORM.md). a->progress,
     * when set, is called about once a second from another thread with the job's statistics
     * (virDomainGetJobStats); after a->timeout_s the job is aborted. On success *ret holds the
     * completed job's statistics (downtime_ms among them) and the domain runs on dst only.
     * On failure the domain still runs on src (SOV_E_UNAVAILABLE: a host away;
     * SOV_E_CONFLICT: aborted at the timeout, or refused by the hypervisor; err->detail
     * holds libvirt's message). libvirt's test driver: the definition moves from src to dst
     * and starts there (no bytes). */
    int (*migrate)(sov_hv *src, sov_hv *dst, const char *uuid,
                   const struct sov_hv_migrate_args *a, struct sov_hv_job *ret,
                   sov_error *err);
    /* The domain's definition as the host holds it (the inactive one: what a cold move
     * defines on the target), *ret to free(). */
    int (*xml)(sov_hv *hv, const char *uuid, char **ret, sov_error *err);
    /* ---- the serial console (compute/hv_libvirt_console.c) ----
     * Open a stream on the running domain's serial console (virDomainOpenConsole). One
     * stream per domain: another session's is SOV_E_CONFLICT ("Active console session
     * exists"), unless force, which takes it over (the other stream ends). The console
     * belongs to the caller, is used from one thread, and outlives hv (it has its own
     * connection): sov_hv_console_close() it. libvirt's test driver has no consoles: a
     * stand-in that prints a banner and echoes what it is sent. */
    int (*console_open)(sov_hv *hv, const char *uuid, bool force, sov_hv_console **ret,
                        sov_error *err);
    /* Room for stats: a driver leaves what it cannot do NULL. */
} sov_hv_domain_ops;

/* A migration job's statistics, as libvirt counts them (bytes; -1 when not known). */
typedef struct sov_hv_job {
    long long data_total, data_processed, data_remaining;   /* memory and disks */
    long long disk_total, disk_processed;
    long long elapsed_ms;
    long long downtime_ms;      /* the guest's pause at the switch (a completed job) */
    int percent;                /* 0..100, from data_processed / data_total */
} sov_hv_job;

typedef struct sov_hv_migrate_args {
    const char *dest_uri;       /* the target's libvirt URI, as sovd reaches it */
    const char *address;        /* the target's address (IPv4/IPv6 literal or name) */
    bool copy_storage;          /* host-local disks: copy their writable disks */
    bool auto_converge;
    unsigned timeout_s;         /* abort the job after this; 0: no limit */
    unsigned max_downtime_ms;   /* 0: libvirt's default */
    void (*progress)(void *arg, const sov_hv_job *job);     /* NULL: none */
    void *arg;
} sov_hv_migrate_args;

/* An open console: poll fd for POLLIN, then read; write sends to the guest. read gives the
 * bytes read (> 0), 0 at the console's end (the guest stopped, or another session took it
 * over), -2 when nothing is there yet, -1 on a host failure (err). */
struct sov_hv_console {
    int fd;
    long (*read)(sov_hv_console *c, void *buf, size_t size, sov_error *err);
    int (*write)(sov_hv_console *c, const void *buf, size_t len, sov_error *err);
    void (*close)(sov_hv_console *c);
};

/* Storage: a table for a scheme works on the handle that scheme's domain driver opened;
 * one that needs its own connection sets it up in attach (called by sov_hv_open, after the
 * domain driver's open; hv->storage_data is its own) and drops it in detach. */
typedef struct sov_hv_storage_ops {
    const char *name;
    int (*attach)(sov_hv *hv, const char *uri, sov_error *err);     /* optional */
    void (*detach)(sov_hv *hv);                                     /* optional */
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
    /* ---- volumes of storage/ (qcow2; LUKS-encrypted by QEMU when secret_uuid is given: the
     * libvirt secret holding the volume's passphrase, defined on this host first) ---- */
    /* Create an empty volume of capacity_gib. One of that name already there is left as it
     * is (0): reruns are harmless. */
    int (*volume_create)(sov_hv *hv, const char *pool, const char *name, long long capacity_gib,
                         const char *secret_uuid, sov_error *err);
    /* Create volume name holding a copy of source's contents (another volume of the pool, of
     * source_format: a volume, a snapshot, an image's copy), grown to capacity_gib when that
     * is larger; each end encrypted or not by its own secret. Already there: 0. A source
     * that reads as another format than source_format, or has a backing file, is refused
     * (SOV_E_CONFLICT): a raw image whose bytes look like qcow2 could name any host file as
     * its backing file. An encrypted source is opened with the secret whose usage is its path
     * (secret_define): source_secret_uuid must be that one. */
    int (*volume_copy)(sov_hv *hv, const char *pool, const char *name, const char *source,
                       const char *source_format, const char *source_secret_uuid,
                       long long capacity_gib, const char *secret_uuid, sov_error *err);
    /* Grow a volume no running domain uses to capacity_gib (smaller: SOV_E_INVALID). */
    int (*volume_resize)(sov_hv *hv, const char *pool, const char *name,
                         long long capacity_gib, const char *secret_uuid, sov_error *err);
    /* Capacity and allocation in bytes; SOV_E_NOT_FOUND when missing. */
    int (*volume_info)(sov_hv *hv, const char *pool, const char *name, long long *capacity,
                       long long *allocation, sov_error *err);
    /* The names of the pool's volumes starting with prefix (the pool refreshed first).
     * *ret: sov_hv_names_free(). */
    int (*volume_list)(sov_hv *hv, const char *pool, const char *prefix, char ***ret,
                       size_t *n, sov_error *err);
    /* A libvirt secret (ephemeral, private: libvirt keeps it in memory only and never shows
     * its value) with uuid, a description starting "sovereign " and holding usage, and value.
     * Already defined: its value is set again. usage is the path of the volume the secret
     * opens (pool_path + "/" + name): it also becomes the secret's libvirt usage (type
     * 'volume'), by which libvirt finds the secret of an encrypted volume after a pool refresh
     * (which forgets the secret a volume was made with); copying from and resizing an
     * encrypted volume need that. A secret of ours on the same path with another uuid is
     * undefined first. value is any bytes: QEMU takes a LUKS passphrase as UTF-8 text, so
     * libvirt is given their lowercase hex (a volume's passphrase is the hex of its key). */
    int (*secret_define)(sov_hv *hv, const char *uuid, const char *usage,
                         const unsigned char *value, size_t len, sov_error *err);
    /* Undefine it; missing is fine. */
    int (*secret_undefine)(sov_hv *hv, const char *uuid, sov_error *err);
    /* The UUIDs of the secrets whose description starts "sovereign " + prefix.
     * *ret: sov_hv_names_free(). */
    int (*secret_list)(sov_hv *hv, const char *prefix, char ***ret, size_t *n,
                       sov_error *err);
    /* Copy volume name of pool, its bytes as they are (qcow2 with its backing file's name
     * and LUKS header, raw), from src (this handle) to a volume of the same name, format and
     * capacity in pool on dst, streamed through sovd (virStorageVolDownload into
     * virStorageVolUpload): a cold migration's disks. A volume of that name already on dst
     * (an earlier, perhaps partial, run's) is replaced. The source must not be a writable
     * disk of a running domain (SOV_E_CONFLICT); a read-only one (a seed) may be sent.
     * The test driver: an empty volume of that capacity. */
    int (*volume_send)(sov_hv *src, const char *pool, const char *name, sov_hv *dst,
                       sov_error *err);
    /* Write volume name's bytes as the pool holds them (a qcow2 volume's qcow2 file) to the
     * local file `file` (created or replaced): an image made from a volume. The test driver,
     * which holds no bytes: an empty qcow2 of the volume's capacity. */
    int (*volume_download)(sov_hv *hv, const char *pool, const char *name, const char *file,
                           sov_error *err);
} sov_hv_storage_ops;

/* Networks: what a guest's NIC attaches to (today the NAT network of each host). attach and
 * detach as for storage. */
typedef struct sov_hv_network_ops {
    const char *name;
    int (*attach)(sov_hv *hv, const char *uri, sov_error *err);     /* optional */
    void (*detach)(sov_hv *hv);                                     /* optional */
    /* A NAT network with DHCP on cidr ("10.231.0.0/24"), defined and started if missing. */
    int (*network_ensure)(sov_hv *hv, const char *name, const char *cidr, sov_error *err);
    /* Stop and undefine it; missing is fine. */
    int (*network_remove)(sov_hv *hv, const char *name, sov_error *err);
    /* ---- a domain's NICs, for network/ (nic_xml: one <interface> element,
     * sov_domain_nic_xml, include/sov/compute.h) ---- */
    /* Attach a NIC: to the persistent definition, and live when the domain runs. A NIC with
     * the same MAC already there is left as it is (0): reruns are harmless. */
    int (*nic_attach)(sov_hv *hv, const char *uuid, const char *nic_xml, sov_error *err);
    /* Detach the NIC with this MAC: from the persistent definition and the running domain.
     * Not there: 0. */
    int (*nic_detach)(sov_hv *hv, const char *uuid, const char *mac, sov_error *err);
} sov_hv_network_ops;

/* Every driver's handle starts with this; sov_hv_open() fills the tables. */
struct sov_hv {
    const sov_hv_domain_ops *domain;
    const sov_hv_storage_ops *storage;     /* NULL: no storage driver for this scheme */
    const sov_hv_network_ops *network;     /* NULL: no network driver for this scheme */
    void *storage_data, *network_data;     /* theirs, when they attach */
};

extern const sov_hv_domain_ops sov_hv_libvirt_domain_ops;
extern const sov_hv_storage_ops sov_hv_libvirt_storage_ops;
extern const sov_hv_network_ops sov_hv_libvirt_network_ops;

/* compute/'s drivers in the registry: libvirt's three tables as the default for every URI
 * and for the schemes qemu and test. Called by sov_compute_register(). */
int sov_hv_register_libvirt(sov_error *err);

/* ---- the fault-injecting wrapper (hv_faulty.c), for tests only ----
 *
 * Three tables that forward every call to the tables the registry held for scheme_prefix
 * when sov_hv_faulty_install() put them in front (a URI of that prefix then opens through
 * them), except the calls a rule picks: those fail with the rule's code (err->detail says
 * "injected fault") or wait delay_ms and then forward. A call is named as its table's field
 * ("open", "start", "volume_upload", "network_ensure", ...). Rules and counts are process
 * wide. SOV_HV_FAULT="call:nth:code[:delay_ms][,...]" in sovd's environment (code one of
 * unavailable, internal, not_found, conflict, ok) installs it for every URI at
 * sov_compute_register(): like SOV_FAULT_POINT, never set it outside tests. */
#define SOV_HV_FAULTY_RULES_MAX 8

int sov_hv_faulty_install(const char *scheme_prefix, sov_error *err);
/* Take the wrapper out of the registry again and forget its rules and counts. */
void sov_hv_faulty_uninstall(void);
/* The nth call of `call` from now (1: the next; 0: every one) fails with code, after
 * delay_ms; code SOV_OK with a delay only delays it. SOV_E_INVALID for an unknown call. */
int sov_hv_faulty_set(const char *call, unsigned nth, sov_errcode code, unsigned delay_ms,
                      sov_error *err);
/* Parse and set rules as SOV_HV_FAULT spells them. */
int sov_hv_faulty_parse(const char *spec, sov_error *err);
/* Drop every rule and count (the wrapper stays installed, forwarding everything). */
void sov_hv_faulty_clear(void);
/* How many calls of `call` went through the wrapper since it was installed or cleared. */
unsigned sov_hv_faulty_calls(const char *call);
/* How many handles opened through the wrapper are still open (leak checks). */
int sov_hv_faulty_open_handles(void);

/* Open uri with the drivers the registry holds for its scheme: SOV_E_UNAVAILABLE when no
 * domain driver is registered for it. */
int sov_hv_open(const char *uri, sov_hv **ret, sov_error *err);
/* Open uri with the given domain table (tests wrap the real one); storage and network still
 * come from the registry. */
int sov_hv_open_with(const sov_hv_domain_ops *ops, const char *uri, sov_hv **ret,
                     sov_error *err);
void sov_hv_close(sov_hv *hv);
SOV_DEFINE_AUTOPTR(sov_hv, sov_hv_close)
int sov_hv_alive(sov_hv *hv, sov_error *err);
int sov_hv_discover(sov_hv *hv, const char *pool, const char *pool_path, sov_hv_node *ret,
                    sov_error *err);
int sov_hv_identify(sov_hv *hv, sov_hv_identity *ret, sov_error *err);
int sov_hv_network_ensure(sov_hv *hv, const char *name, const char *cidr, sov_error *err);
int sov_hv_network_remove(sov_hv *hv, const char *name, sov_error *err);
/* SOV_E_INTERNAL ("driver X cannot nic_attach") when the scheme's network table has none. */
int sov_hv_nic_attach(sov_hv *hv, const char *uuid, const char *nic_xml, sov_error *err);
int sov_hv_nic_detach(sov_hv *hv, const char *uuid, const char *mac, sov_error *err);
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
int sov_hv_volume_create(sov_hv *hv, const char *pool, const char *name,
                         long long capacity_gib, const char *secret_uuid, sov_error *err);
int sov_hv_volume_copy(sov_hv *hv, const char *pool, const char *name, const char *source,
                       const char *source_format, const char *source_secret_uuid,
                       long long capacity_gib, const char *secret_uuid, sov_error *err);
int sov_hv_volume_resize(sov_hv *hv, const char *pool, const char *name,
                         long long capacity_gib, const char *secret_uuid, sov_error *err);
int sov_hv_volume_info(sov_hv *hv, const char *pool, const char *name, long long *capacity,
                       long long *allocation, sov_error *err);
int sov_hv_volume_list(sov_hv *hv, const char *pool, const char *prefix, char ***ret,
                       size_t *n, sov_error *err);
int sov_hv_secret_define(sov_hv *hv, const char *uuid, const char *usage,
                         const unsigned char *value, size_t len, sov_error *err);
int sov_hv_secret_undefine(sov_hv *hv, const char *uuid, sov_error *err);
int sov_hv_secret_list(sov_hv *hv, const char *prefix, char ***ret, size_t *n,
                       sov_error *err);
/* Free what volume_list and secret_list return; NULL is a no-op. */
void sov_hv_names_free(char **names, size_t n);
int sov_hv_disk_attach(sov_hv *hv, const char *uuid, const char *disk_xml, sov_error *err);
int sov_hv_disk_detach(sov_hv *hv, const char *uuid, const char *dev, unsigned timeout_ms,
                       sov_error *err);
/* 1, 0, or -1 with err. */
int sov_hv_disk_present(sov_hv *hv, const char *uuid, const char *dev, sov_error *err);
int sov_hv_disk_resize(sov_hv *hv, const char *uuid, const char *dev, long long capacity_gib,
                       sov_error *err);
int sov_hv_disk_snapshot(sov_hv *hv, const char *uuid, const char *dev, const char *pool,
                         const char *target, const char *secret_uuid, sov_error *err);
/* SOV_E_INTERNAL ("driver X cannot migrate") when the scheme's table has none. */
int sov_hv_migrate(sov_hv *src, sov_hv *dst, const char *uuid, const sov_hv_migrate_args *a,
                   sov_hv_job *ret, sov_error *err);
int sov_hv_xml(sov_hv *hv, const char *uuid, char **ret, sov_error *err);
/* SOV_E_INTERNAL ("driver X cannot console_open") when the scheme's table has none. */
int sov_hv_console_open(sov_hv *hv, const char *uuid, bool force, sov_hv_console **ret,
                        sov_error *err);
long sov_hv_console_read(sov_hv_console *c, void *buf, size_t size, sov_error *err);
int sov_hv_console_write(sov_hv_console *c, const void *buf, size_t len, sov_error *err);
/* NULL is a no-op. */
void sov_hv_console_close(sov_hv_console *c);
SOV_DEFINE_AUTOPTR(sov_hv_console, sov_hv_console_close)
int sov_hv_volume_send(sov_hv *src, const char *pool, const char *name, sov_hv *dst,
                       sov_error *err);
int sov_hv_volume_download(sov_hv *hv, const char *pool, const char *name, const char *file,
                           sov_error *err);
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
