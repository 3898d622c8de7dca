/* config.h: sovd's configuration.
 *
 * Three layers, each overriding the one before: a config file (`--config FILE`, lines of
 * `key = value`), environment variables (SOV_ + upper-case key), and command-line flags
 * (`--key value` or `--key=value`, underscores written as dashes). Every key is described
 * once, in core/config.c's option table, which also drives `sovd --help`. A bad value or an
 * unknown key is refused at start with a message that names the key and where it came from. */
#ifndef SOV_CONFIG_H
#define SOV_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "sov/error.h"

enum {
    SOV_PROC_API = 1u << 0,
    SOV_PROC_WORKER = 1u << 1,
    SOV_PROC_RECONCILER = 1u << 2,
};

typedef struct sov_config {
    char *listen_address;       /* IPv4 or IPv6 literal, or a host name */
    unsigned port;              /* 0: let the kernel pick (logged at start) */
    char *state_dir;            /* tokens and keys live here */
    char *keystore_master_key;  /* the keystore's 32-byte master key file (0600) */
    char *keystore_region;      /* where keys live; "" for the first host's region */
    char *database_url;         /* libpq connection string or URI */
    char *db_role;              /* role sovd's sessions take (SET ROLE); empty for none */
    unsigned db_pool_size;
    unsigned db_connect_timeout;    /* seconds */
    unsigned db_acquire_timeout_ms; /* waiting for a free pooled connection */
    unsigned db_statement_timeout_ms;
    unsigned startup_timeout;       /* seconds to wait for PostgreSQL at start */
    unsigned http_threads;          /* 0: number of cores */
    unsigned long max_body_bytes;
    unsigned http_connection_timeout;   /* seconds of idle before a connection is closed */
    unsigned shutdown_timeout;      /* seconds to let in-flight requests finish */
    unsigned roles;                 /* SOV_PROC_* bits: the parts of sovd this process runs */
    int log_level;                  /* sov_log_level */
    char *tls_cert;                 /* PEM files; both or neither */
    char *tls_key;
    char *cors_origins;             /* comma-separated exact origins, or empty */
    char *console_dir;              /* the built web console served at /console/; "" none */
    unsigned token_cache_ttl;       /* seconds a verified token is trusted without PostgreSQL */
    unsigned token_default_ttl_days;    /* lifetime of a token created without expires_at */
    bool token_allow_no_expiry;     /* "expires_at": null may make a token that never expires */
    unsigned long quota_default[14]; /* a new tenant's limits, in sov_quota_resource order */
    char *placement_strategy;       /* "spread" or "pack" */
    unsigned host_check_interval;   /* seconds between reconciler passes over the hosts */
    char *storage_pool;             /* libvirt pool on each host for disks and images */
    char *storage_pool_path;        /* its directory, where sovd creates it */
    char *image_store;              /* where images live before hosts copy them */
    bool image_allow_file_urls;     /* file:// sources (tests, local mirrors) */
    bool image_allow_private_urls;  /* downloads from loopback, private, link-local addresses */
    unsigned long max_image_bytes;  /* largest image download or upload */
    char *nat_network;              /* libvirt NAT network sovd defines on each host */
    char *nat_cidr;                 /* its /24 */
    char *ovn_nb;                   /* OVN Northbound remote (unix:PATH, tcp:HOST:PORT); "" none */
    char *ovn_sb;                   /* OVN Southbound remote; "" none (ports not waited for) */
    unsigned ovn_port_up_timeout_s; /* an instance create waits this long for its ports up */
    unsigned worker_threads;        /* operations run at once by this process */
    unsigned operation_step_timeout;    /* seconds; 0: each kind's own limit */
    unsigned stop_timeout;          /* seconds a guest gets to shut down before it is forced */
    unsigned console_timeout_ms;    /* a console read's wait for its host */
    unsigned console_max_concurrent;    /* console reads in flight at once, hung ones too */
    char *orphan_policy;            /* "destroy" or "adopt" domains the database does not know */
    char *default_volume_type;      /* the type of a volume created without one */
    bool seed_volume_type;          /* make it at start when no volume type exists */
    bool seed_flavors;              /* make a small set at start when no flavor exists */
    unsigned volume_detach_timeout_s;   /* a detach's wait for the guest to release the disk */
    unsigned migration_timeout_s;   /* a live migration's copy is aborted after this */
    bool migration_auto_converge;   /* throttle a guest whose writes outrun the copy */
    unsigned migration_max_downtime_ms; /* the pause a live migration may take at the switch */
    unsigned host_down_grace;       /* seconds a host may stay down before its instances are
                                     * put in error ("host down since ...") */
} sov_config;

/* Defaults, then file, environment (envp, NULL-terminated) and argv, in that order.
 * Returns 1 when --help or --version was printed to out (the caller exits 0),
 * 0 on success, -1 with err naming the key on a bad value. */
int sov_config_load(sov_config *cfg, int argc, char **argv, char **envp, FILE *out,
                    sov_error *err);
void sov_config_release(sov_config *cfg);

/* Print the option reference (the body of `sovd --help`). */
void sov_config_usage(FILE *out);

/* Whether origin is one of cfg->cors_origins (exact match, or "*" configured). */
bool sov_config_cors_allows(const sov_config *cfg, const char *origin);

#endif
