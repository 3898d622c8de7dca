/* config.c: one table describes every key; defaults, file, environment and flags all go
 * through the same parser, so a value is checked the same way wherever it comes from. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sov/cleanup.h"
#include "sov/config.h"
#include "sov/log.h"

typedef enum kind { K_STR, K_UINT, K_ULONG, K_ROLES, K_LEVEL, K_ORIGINS, K_PATH, K_STRATEGY,
                    K_SLUG, K_BOOL, K_ORPHANS, K_OVSDB } kind;

typedef struct option {
    const char *key;
    kind kind;
    size_t off;
    const char *def;
    unsigned long min, max;
    const char *help;
} option;

#define OFF(f) offsetof(sov_config, f)

static const option options[] = {
    { "listen_address", K_STR, OFF(listen_address), "127.0.0.1", 0, 0,
      "address the API listens on (IPv4 or IPv6 literal, or a host name)" },
    { "port", K_UINT, OFF(port), "8080", 0, 65535,
      "TCP port of the API; 0 lets the kernel pick one (logged at start)" },
    { "state_dir", K_PATH, OFF(state_dir), ".state",  0, 0,
      "folder for the operator token, signing keys and other local state" },
    { "keystore_master_key", K_PATH, OFF(keystore_master_key), "", 0, 0,
      "file of the keystore's 32-byte master key, which seals every tenant's key-encryption "
      "key (made at first use, mode 0600; refused if group or others may read it; every sovd "
      "of one database needs the same file); empty for <state_dir>/keystore/master.key" },
    { "keystore_region", K_STR, OFF(keystore_region), "", 0, 0,
      "region code where the keystore (the database holding the wrapped keys) lives, as "
      "encrypted volumes' residency says; empty for the region of the first host registered "
      "(else the first region created)" },
    { "database_url", K_STR, OFF(database_url), "dbname=sovereign", 0, 0,
      "PostgreSQL connection string or URI (libpq syntax)" },
    { "db_role", K_PATH, OFF(db_role), "sovereign_app", 0, 0,
      "role sovd's sessions act as after migrations (SET ROLE); it may not change residency "
      "records or audit entries. Empty to stay the connecting user" },
    { "db_pool_size", K_UINT, OFF(db_pool_size), "8", 1, 512,
      "connections in the PostgreSQL pool" },
    { "db_connect_timeout", K_UINT, OFF(db_connect_timeout), "5", 1, 600,
      "seconds to wait when opening a PostgreSQL connection" },
    { "db_acquire_timeout_ms", K_UINT, OFF(db_acquire_timeout_ms), "5000", 1, 600000,
      "milliseconds a request waits for a free pooled connection before 503" },
    { "db_statement_timeout_ms", K_UINT, OFF(db_statement_timeout_ms), "30000", 0, 3600000,
      "PostgreSQL statement_timeout for sovd's sessions; 0 for none" },
    { "startup_timeout", K_UINT, OFF(startup_timeout), "60", 0, 3600,
      "seconds to wait for PostgreSQL at start before giving up" },
    { "http_threads", K_UINT, OFF(http_threads), "0", 0, 1024,
      "HTTP worker threads; 0 for the number of cores" },
    { "max_body_bytes", K_ULONG, OFF(max_body_bytes), "1048576", 1, 1UL << 34,
      "largest request body accepted; larger answers 413" },
    { "http_connection_timeout", K_UINT, OFF(http_connection_timeout), "60", 1, 86400,
      "seconds an idle HTTP connection stays open" },
    { "shutdown_timeout", K_UINT, OFF(shutdown_timeout), "30", 0, 3600,
      "seconds in-flight requests get to finish after SIGTERM or SIGINT" },
    { "role", K_ROLES, OFF(roles), "api,worker,reconciler", 0, 0,
      "comma-separated roles this process runs: api, worker, reconciler" },
    { "log_level", K_LEVEL, OFF(log_level), "info", 0, 0,
      "least severe level logged: debug, info, warn, error" },
    { "tls_cert", K_PATH, OFF(tls_cert), "", 0, 0,
      "PEM certificate (chain) for HTTPS; set together with tls_key" },
    { "tls_key", K_PATH, OFF(tls_key), "", 0, 0,
      "PEM private key for HTTPS; set together with tls_cert" },
    { "cors_origins", K_ORIGINS, OFF(cors_origins), "", 0, 0,
      "comma-separated origins a browser console may call from (exact match); empty for none" },
    { "console_dir", K_PATH, OFF(console_dir), "", 0, 0,
      "folder of the built web console (web/dist), served at /console/; empty for none" },
    { "token_cache_ttl", K_UINT, OFF(token_cache_ttl), "60", 0, 3600,
      "seconds a verified token is trusted from memory (revocations still apply at once)" },
    { "token_default_ttl_days", K_UINT, OFF(token_default_ttl_days), "90", 1, 36500,
      "days a new API token lasts when its request names no expires_at" },
    { "token_allow_no_expiry", K_BOOL, OFF(token_allow_no_expiry), "false", 0, 0,
      "accept \"expires_at\": null, a token that never expires (off: refused with 400)" },
    { "quota_instances", K_ULONG, OFF(quota_default[0]), "20", 0, 1UL << 40,
      "a new tenant's instance limit" },
    { "quota_vcpus", K_ULONG, OFF(quota_default[1]), "80", 0, 1UL << 40,
      "a new tenant's vCPU limit" },
    { "quota_memory_mib", K_ULONG, OFF(quota_default[2]), "163840", 0, 1UL << 40,
      "a new tenant's memory limit in MiB" },
    { "quota_gpus", K_ULONG, OFF(quota_default[3]), "0", 0, 1UL << 40,
      "a new tenant's GPU limit" },
    { "quota_volumes", K_ULONG, OFF(quota_default[4]), "40", 0, 1UL << 40,
      "a new tenant's volume limit" },
    { "quota_storage_gib", K_ULONG, OFF(quota_default[5]), "2000", 0, 1UL << 40,
      "a new tenant's block storage limit in GiB" },
    { "quota_workspaces", K_ULONG, OFF(quota_default[6]), "20", 0, 1UL << 40,
      "a new tenant's workspace limit (the default workspace counts)" },
    { "quota_snapshots", K_ULONG, OFF(quota_default[7]), "100", 0, 1UL << 40,
      "a new tenant's volume snapshot limit" },
    { "quota_networks", K_ULONG, OFF(quota_default[8]), "10", 0, 1UL << 40,
      "a new tenant's network limit" },
    { "quota_subnets", K_ULONG, OFF(quota_default[9]), "40", 0, 1UL << 40,
      "a new tenant's subnet limit" },
    { "quota_ports", K_ULONG, OFF(quota_default[10]), "200", 0, 1UL << 40,
      "a new tenant's port (NIC) limit" },
    { "quota_security_groups", K_ULONG, OFF(quota_default[11]), "20", 0, 1UL << 40,
      "a new tenant's security group limit" },
    { "quota_security_group_rules", K_ULONG, OFF(quota_default[12]), "400", 0, 1UL << 40,
      "a new tenant's limit of security group rules (all its groups together)" },
    { "quota_public_ips", K_ULONG, OFF(quota_default[13]), "10", 0, 1UL << 40,
      "a new tenant's public IP limit" },
    { "placement_strategy", K_STRATEGY, OFF(placement_strategy), "spread", 0, 0,
      "spread (most free room first) or pack (least free room first)" },
    { "host_check_interval", K_UINT, OFF(host_check_interval), "10", 1, 3600,
      "seconds between the reconciler's checks of every host's libvirt connection" },
    { "storage_pool", K_SLUG, OFF(storage_pool), "sovereign", 0, 0,
      "libvirt storage pool on each host for disks and images (created if missing)" },
    { "storage_pool_path", K_PATH, OFF(storage_pool_path), "/var/lib/sovereign/pool", 0, 0,
      "directory of that pool on each host, when sovd creates it" },
    { "image_store", K_PATH, OFF(image_store), "", 0, 0,
      "folder of the image store (images by region); empty for <state_dir>/images" },
    { "image_allow_file_urls", K_BOOL, OFF(image_allow_file_urls), "false", 0, 0,
      "accept file:// image sources (a local mirror, tests); http and https always" },
    { "image_allow_private_urls", K_BOOL, OFF(image_allow_private_urls), "false", 0, 0,
      "let image downloads connect to loopback, private and link-local addresses (a mirror"
      " on the internal network, tests); off, sovd fetches from public addresses only" },
    { "max_image_bytes", K_ULONG, OFF(max_image_bytes), "21474836480", 1, 1UL << 42,
      "largest image sovd downloads or accepts as an upload" },
    { "default_volume_type", K_STR, OFF(default_volume_type), "standard", 0, 0,
      "the volume type of a volume created without one" },
    { "seed_volume_type", K_BOOL, OFF(seed_volume_type), "false", 0, 0,
      "at start, make default_volume_type (libvirt-dir, unencrypted) when no volume type "
      "exists, so a fresh cloud offers a storage SKU (scripts/run turns it on)" },
    { "seed_flavors", K_BOOL, OFF(seed_flavors), "false", 0, 0,
      "at start, make a small set of flavors (seca-d2xs, seca-dxs, seca-ds, seca-dm) when no "
      "flavor exists, so a fresh cloud offers instance SKUs (scripts/run turns it on)" },
    { "volume_detach_timeout_s", K_UINT, OFF(volume_detach_timeout_s), "30", 1, 3600,
      "seconds a volume detach waits for the guest to release the disk" },
    { "nat_network", K_SLUG, OFF(nat_network), "sovereign", 0, 0,
      "libvirt NAT network sovd defines on each host for instances' NICs" },
    { "nat_cidr", K_STR, OFF(nat_cidr), "10.231.0.0/24", 0, 0,
      "the /24 of that network (DHCP gives .2 to .254)" },
    { "ovn_nb", K_OVSDB, OFF(ovn_nb), "", 0, 0,
      "OVN Northbound database, as ovn-nbctl's --db takes it: unix:PATH or tcp:HOST:PORT; "
      "/readyz reports whether it answers. Empty: OVN not configured" },
    { "ovn_sb", K_OVSDB, OFF(ovn_sb), "", 0, 0,
      "OVN Southbound database (unix:PATH or tcp:HOST:PORT), where a port's binding says it is "
      "up; empty: ports are not waited for" },
    { "ovn_port_up_timeout_s", K_UINT, OFF(ovn_port_up_timeout_s), "60", 1, 3600,
      "seconds an instance create waits for its ports to be bound (up) before it tries again" },
    { "worker_threads", K_UINT, OFF(worker_threads), "4", 1, 256,
      "operations this process runs at once (worker role)" },
    { "operation_step_timeout", K_UINT, OFF(operation_step_timeout), "0", 0, 86400,
      "seconds a step of an operation may take before another worker takes it over; 0 for "
      "each kind's own (5 to 30 minutes)" },
    { "stop_timeout", K_UINT, OFF(stop_timeout), "60", 0, 3600,
      "seconds a guest gets to shut down when stopped before it is powered off" },
    { "console_timeout_ms", K_UINT, OFF(console_timeout_ms), "2000", 100, 60000,
      "milliseconds a console read waits for its host before it answers 503" },
    { "console_max_concurrent", K_UINT, OFF(console_max_concurrent), "4", 1, 256,
      "console reads in flight at once (a hung host's count until it answers); over it, 503" },
    { "migration_timeout_s", K_UINT, OFF(migration_timeout_s), "600", 10, 86400,
      "seconds a live migration may copy before it is aborted (the guest stays on its source)" },
    { "migration_auto_converge", K_BOOL, OFF(migration_auto_converge), "true", 0, 0,
      "let libvirt throttle a guest's vCPUs when its writes outrun a live migration's copy" },
    { "migration_max_downtime_ms", K_UINT, OFF(migration_max_downtime_ms), "300", 1, 60000,
      "milliseconds a live migration may pause the guest to switch hosts" },
    { "host_down_grace", K_UINT, OFF(host_down_grace), "300", 1, 604800,
      "seconds a host may stay down before its instances are put in error (host down since "
      "...); nothing restarts elsewhere without shared storage" },
    { "orphan_policy", K_ORPHANS, OFF(orphan_policy), "destroy", 0, 0,
      "destroy or adopt domains carrying sovd's metadata that the database does not know" },
};

static char **
str_slot(sov_config *cfg, const option *o)
{
    return (char **) (void *) ((char *) cfg + o->off);
}

/* The forms of an OVSDB remote network/'s client connects to (network/ovsdb.h): checked
 * here so that a mistyped one stops sovd at start, not at the first probe. */
static bool
ovsdb_remote_ok(const char *v)
{
    const char *colon;
    char *end = NULL;
    unsigned long port;

    if (strncmp(v, "unix:", 5) == 0)
        return v[5] != '\0';
    if (strncmp(v, "tcp:", 4) != 0)
        return false;
    colon = strrchr(v + 4, ':');
    if (!colon || colon == v + 4)
        return false;
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    return colon[1] != '\0' && *end == '\0' && errno == 0 && port >= 1 && port <= 65535;
}

static int
parse_roles(const char *v, unsigned *ret)
{
    sov_autofree char *copy = strdup(v);
    unsigned roles = 0;
    char *save = NULL;

    if (!copy)
        return -1;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char) *t))
            t++;
        size_t len = strlen(t);
        while (len > 0 && isspace((unsigned char) t[len - 1]))
            t[--len] = '\0';
        if (strcmp(t, "api") == 0)
            roles |= SOV_PROC_API;
        else if (strcmp(t, "worker") == 0)
            roles |= SOV_PROC_WORKER;
        else if (strcmp(t, "reconciler") == 0)
            roles |= SOV_PROC_RECONCILER;
        else
            return -1;
    }
    if (roles == 0)
        return -1;
    *ret = roles;
    return 0;
}

/* An origin is scheme://host[:port], nothing after: what browsers send in Origin. */
static bool
origin_valid(const char *o, size_t len)
{
    const char *p;

    if (len == 1 && o[0] == '*')
        return true;
    if (len > 8 && strncmp(o, "https://", 8) == 0)
        p = o + 8;
    else if (len > 7 && strncmp(o, "http://", 7) == 0)
        p = o + 7;
    else
        return false;
    for (; p < o + len; p++)
        if (!(isalnum((unsigned char) *p) || strchr(".-:[]", *p)))
            return false;
    return true;
}

static int
parse_origins(const char *v)
{
    const char *p = v;

    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t) (end - p) : strlen(p);
        if (!origin_valid(p, len))
            return -1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int
apply(sov_config *cfg, const option *o, const char *value, const char *source, sov_error *err)
{
    char *end = NULL;
    unsigned long n;

    switch (o->kind) {
    case K_UINT:
    case K_ULONG:
        errno = 0;
        n = strtoul(value, &end, 10);
        if (!*value || *end || errno || value[0] == '-' || n < o->min || n > o->max)
            return sov_error_invalid(err, o->key,
                                     "%s: %s must be a whole number from %lu to %lu, not '%s'",
                                     source, o->key, o->min, o->max, value);
        if (o->kind == K_UINT)
            *(unsigned *) (void *) ((char *) cfg + o->off) = (unsigned) n;
        else
            *(unsigned long *) (void *) ((char *) cfg + o->off) = n;
        return 0;
    case K_ROLES:
        if (parse_roles(value, (unsigned *) (void *) ((char *) cfg + o->off)) < 0)
            return sov_error_invalid(err, o->key,
                                     "%s: %s must list api, worker or reconciler, not '%s'",
                                     source, o->key, value);
        return 0;
    case K_LEVEL: {
        int level = sov_log_level_parse(value);
        if (level < 0)
            return sov_error_invalid(err, o->key,
                                     "%s: %s must be debug, info, warn or error, not '%s'",
                                     source, o->key, value);
        *(int *) (void *) ((char *) cfg + o->off) = level;
        return 0;
    }
    case K_ORIGINS:
        if (parse_origins(value) < 0)
            return sov_error_invalid(err, o->key,
                                     "%s: %s must be comma-separated origins like "
                                     "https://console.example.eu, not '%s'",
                                     source, o->key, value);
        break;
    case K_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
            *(bool *) (void *) ((char *) cfg + o->off) = true;
        else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
                 strcmp(value, "0") == 0)
            *(bool *) (void *) ((char *) cfg + o->off) = false;
        else
            return sov_error_invalid(err, o->key, "%s: %s must be true or false, not '%s'",
                                     source, o->key, value);
        return 0;
    case K_ORPHANS:
        if (strcmp(value, "destroy") != 0 && strcmp(value, "adopt") != 0)
            return sov_error_invalid(err, o->key, "%s: %s must be destroy or adopt, not '%s'",
                                     source, o->key, value);
        break;
    case K_STRATEGY:
        if (strcmp(value, "spread") != 0 && strcmp(value, "pack") != 0)
            return sov_error_invalid(err, o->key, "%s: %s must be spread or pack, not '%s'",
                                     source, o->key, value);
        break;
    case K_SLUG:
        for (const char *q = value; *q; q++)
            if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-' ||
                  *q == '_'))
                return sov_error_invalid(err, o->key,
                                         "%s: %s must be letters, digits, - or _, not '%s'",
                                         source, o->key, value);
        if (!*value)
            return sov_error_invalid(err, o->key, "%s: %s must not be empty", source, o->key);
        break;
    case K_STR:
        if (!*value && o->def[0])
            return sov_error_invalid(err, o->key, "%s: %s must not be empty", source, o->key);
        break;
    case K_PATH:
        break;
    case K_OVSDB:
        if (*value && !ovsdb_remote_ok(value))
            return sov_error_invalid(err, o->key,
                                     "%s: %s must be unix:PATH or tcp:HOST:PORT, not '%s'",
                                     source, o->key, value);
        break;
    }
    char *copy = strdup(value);
    if (!copy)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    free(*str_slot(cfg, o));
    *str_slot(cfg, o) = copy;
    return 0;
}

static const option *
find_option(const char *key, size_t len)
{
    for (size_t i = 0; i < SOV_N_ELEMENTS(options); i++)
        if (strlen(options[i].key) == len && strncmp(options[i].key, key, len) == 0)
            return &options[i];
    return NULL;
}

static char *
trim(char *s)
{
    size_t len;

    while (isspace((unsigned char) *s))
        s++;
    len = strlen(s);
    while (len > 0 && isspace((unsigned char) s[len - 1]))
        s[--len] = '\0';
    return s;
}

static int
load_file(sov_config *cfg, const char *path, sov_error *err)
{
    FILE *f = fopen(path, "r");
    char buf[4096];
    unsigned lineno = 0;
    int rc = 0;

    if (!f)
        return sov_error_invalid(err, "config", "could not open config file '%s': %s", path,
                                 strerror(errno));
    while (rc == 0 && fgets(buf, sizeof(buf), f)) {
        char source[300], *line, *eq, *key, *value;
        const option *o;

        lineno++;
        snprintf(source, sizeof(source), "config file %s line %u", path, lineno);
        if (!strchr(buf, '\n') && !feof(f)) {
            rc = sov_error_invalid(err, "config", "%s: line too long", source);
            break;
        }
        line = trim(buf);
        if (*line == '\0' || *line == '#')
            continue;
        eq = strchr(line, '=');
        if (!eq) {
            rc = sov_error_invalid(err, "config", "%s: expected 'key = value'", source);
            break;
        }
        *eq = '\0';
        key = trim(line);
        value = trim(eq + 1);
        size_t vlen = strlen(value);
        if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
            value[vlen - 1] = '\0';
            value++;
        }
        o = find_option(key, strlen(key));
        if (!o) {
            rc = sov_error_invalid(err, key, "%s: unknown key '%s'", source, key);
            break;
        }
        rc = apply(cfg, o, value, source, err);
    }
    fclose(f);
    return rc;
}

static int
load_env(sov_config *cfg, char **envp, sov_error *err)
{
    for (size_t i = 0; envp && envp[i]; i++) {
        const char *e = envp[i], *eq = strchr(e, '=');
        char key[64], source[96];
        size_t len;

        if (strncmp(e, "SOV_", 4) != 0 || !eq)
            continue;
        len = (size_t) (eq - e) - 4;
        if (len == 0 || len >= sizeof(key))
            continue;
        for (size_t j = 0; j < len; j++)
            key[j] = (char) tolower((unsigned char) e[4 + j]);
        key[len] = '\0';
        /* Other SOV_ variables (the test harness's, say) are not ours to refuse. */
        const option *o = find_option(key, len);
        if (!o)
            continue;
        snprintf(source, sizeof(source), "environment %.*s", (int) (eq - e), e);
        if (apply(cfg, o, eq + 1, source, err) < 0)
            return -1;
    }
    return 0;
}

/* Flags: --key value or --key=value, dashes for underscores. --config was read first. */
static int
load_flags(sov_config *cfg, int argc, char **argv, sov_error *err)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value, *eq;
        char key[64], source[96];
        size_t len;
        const option *o;

        if (strncmp(a, "--", 2) != 0)
            return sov_error_invalid(err, "argv", "unexpected argument '%s' (see --help)", a);
        a += 2;
        eq = strchr(a, '=');
        len = eq ? (size_t) (eq - a) : strlen(a);
        if (len == 0 || len >= sizeof(key))
            return sov_error_invalid(err, "argv", "unknown flag '%s' (see --help)", argv[i]);
        for (size_t j = 0; j < len; j++)
            key[j] = a[j] == '-' ? '_' : a[j];
        key[len] = '\0';
        if (strcmp(key, "config") == 0) {
            if (!eq)
                i++;
            continue;
        }
        o = find_option(key, len);
        if (!o)
            return sov_error_invalid(err, key, "unknown flag '--%.*s' (see --help)", (int) len,
                                     a);
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return sov_error_invalid(err, key, "flag --%.*s needs a value", (int) len, a);
        }
        snprintf(source, sizeof(source), "flag --%.*s", (int) len, a);
        if (apply(cfg, o, value, source, err) < 0)
            return -1;
    }
    return 0;
}

static int
check_whole(sov_config *cfg, sov_error *err)
{
    bool cert = cfg->tls_cert[0] != '\0', key = cfg->tls_key[0] != '\0';

    if (cert != key)
        return sov_error_invalid(err, cert ? "tls_key" : "tls_cert",
                                 "tls_cert and tls_key must be set together (%s is missing)",
                                 cert ? "tls_key" : "tls_cert");
    if (cert && access(cfg->tls_cert, R_OK) != 0)
        return sov_error_invalid(err, "tls_cert", "tls_cert: cannot read '%s': %s",
                                 cfg->tls_cert, strerror(errno));
    if (key && access(cfg->tls_key, R_OK) != 0)
        return sov_error_invalid(err, "tls_key", "tls_key: cannot read '%s': %s", cfg->tls_key,
                                 strerror(errno));
    if (!cfg->state_dir[0])
        return sov_error_invalid(err, "state_dir", "state_dir must not be empty");
    if (!cfg->image_store[0]) {
        char *p = NULL;
        if (asprintf(&p, "%s/images", cfg->state_dir) < 0)
            return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        free(cfg->image_store);
        cfg->image_store = p;
    }
    if (!cfg->keystore_master_key[0]) {
        char *p = NULL;
        if (asprintf(&p, "%s/keystore/master.key", cfg->state_dir) < 0)
            return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        free(cfg->keystore_master_key);
        cfg->keystore_master_key = p;
    }
    if (cfg->http_threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->http_threads = n > 0 ? (unsigned) n : 1;
    }
    return 0;
}

void
sov_config_usage(FILE *out)
{
    fprintf(out,
            "Usage: sovd [--config FILE] [--KEY VALUE]...\n"
            "\n"
            "sovd is the sovereign control plane: the REST API, the worker that drives libvirt\n"
            "hosts and the reconciler, in one process (see --role).\n"
            "\n"
            "Each setting comes from, in rising order of precedence: its default, the config\n"
            "file (lines of 'key = value', '#' comments), the environment variable SOV_KEY,\n"
            "and the flag --key (dashes or underscores).\n"
            "\n"
            "  --config FILE\n      read settings from FILE first\n"
            "  --help\n      print this help and exit\n"
            "  --version\n      print the version and exit\n");
    for (size_t i = 0; i < SOV_N_ELEMENTS(options); i++) {
        const option *o = &options[i];
        char flag[64], env[64];
        size_t j;

        for (j = 0; o->key[j] && j < sizeof(flag) - 1; j++) {
            flag[j] = o->key[j] == '_' ? '-' : o->key[j];
            env[j] = (char) toupper((unsigned char) o->key[j]);
        }
        flag[j] = env[j] = '\0';
        fprintf(out, "  --%s VALUE    (SOV_%s; default: %s)\n      %s\n", flag, env,
                o->def[0] ? o->def : "empty", o->help);
    }
}

void
sov_config_release(sov_config *cfg)
{
    for (size_t i = 0; i < SOV_N_ELEMENTS(options); i++)
        if (options[i].kind == K_STR || options[i].kind == K_PATH ||
            options[i].kind == K_ORIGINS || options[i].kind == K_STRATEGY ||
            options[i].kind == K_SLUG || options[i].kind == K_ORPHANS ||
            options[i].kind == K_OVSDB) {
            free(*str_slot(cfg, &options[i]));
            *str_slot(cfg, &options[i]) = NULL;
        }
}

int
sov_config_load(sov_config *cfg, int argc, char **argv, char **envp, FILE *out, sov_error *err)
{
    const char *config_path = NULL;

    memset(cfg, 0, sizeof(*cfg));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            sov_config_usage(out);
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            fprintf(out, "sovd %s\n", SOV_VERSION);
            return 1;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc)
                return sov_error_invalid(err, "config", "flag --config needs a value");
            config_path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            config_path = argv[i] + 9;
        }
    }
    for (size_t i = 0; i < SOV_N_ELEMENTS(options); i++)
        if (apply(cfg, &options[i], options[i].def, "default", err) < 0)
            goto fail;
    if (config_path && load_file(cfg, config_path, err) < 0)
        goto fail;
    if (load_env(cfg, envp, err) < 0 || load_flags(cfg, argc, argv, err) < 0)
        goto fail;
    if (check_whole(cfg, err) < 0)
        goto fail;
    return 0;
fail:
    sov_config_release(cfg);
    return -1;
}

bool
sov_config_cors_allows(const sov_config *cfg, const char *origin)
{
    const char *p = cfg->cors_origins;
    size_t olen;

    if (!origin || !p)
        return false;
    olen = strlen(origin);
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t) (end - p) : strlen(p);
        if ((len == 1 && *p == '*') || (len == olen && strncmp(p, origin, len) == 0))
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}
