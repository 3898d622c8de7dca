/* network.h: tenant networks on OVN: networks, subnets, ports (NICs) with their addresses,
 * security groups, routers (internet gateways) and public IPs.
 *
 * PostgreSQL holds the intent; network/ writes it into OVN's Northbound database (one OVSDB
 * transaction per change, network/ovsdb.h, which nothing outside network/ sees), and
 * ovn-northd and each host's ovn-controller program the hosts. Every resource lives in a
 * tenant's workspace, named uniquely there; networks, routers and public IPs are regional
 * (residency records). Every change is an operation (202) whose worker brings OVN to what
 * the database says for the resource's scope (a network with its subnets and ports; a
 * security group with its rules and members; a router with its NAT), so a worker that runs
 * twice, or after a crash between the commit and OVN, leaves the same result; the
 * reconciler's pass does the same for every scope and removes what OVN holds of this
 * deployment that the database no longer has (audited). States: creating, available,
 * updating, deleting, deleted, error (ports and public IPs also attaching, in-use,
 * detaching). A port's `up` is OVN's Southbound binding (ovn-controller bound it on the
 * chassis of its instance's host).
 *
 * Addresses (IPAM) are taken in PostgreSQL in the port's own transaction: the subnet's row
 * locked, the lowest free host address (or the one asked for), and a unique index on
 * (subnet, ip) that makes two ports with one address impossible. The network address, the
 * gateway and the broadcast address are never handed out; a deleted port frees its address.
 *
 * Without `ovn_nb` configured there are no tenant networks: these calls answer
 * SOV_E_UNAVAILABLE ("tenant networks need OVN: ovn_nb is not configured") and instances keep
 * the NAT NIC of compute/. */
#ifndef SOV_NETWORK_H
#define SOV_NETWORK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sov/config.h"
#include "sov/ctx.h"
#include "sov/error.h"
#include "sov/identity.h"
#include "sov/ops.h"
#include "sov/residency.h"

/* How long the readiness probe waits for the Northbound database. */
#define SOV_NETWORK_READY_TIMEOUT_MS 1000u

typedef enum sov_ovn_state {
    SOV_OVN_NOT_CONFIGURED,     /* cfg->ovn_nb is empty: no tenant networks, still ready */
    SOV_OVN_REACHABLE,          /* the Northbound database answered */
} sov_ovn_state;

/* Ask the Northbound database at cfg->ovn_nb whether it is there (list_dbs, within
 * SOV_NETWORK_READY_TIMEOUT_MS). 0 with *ret when it answered with OVN_Northbound or
 * when ovn_nb is not configured; -1 with SOV_E_UNAVAILABLE naming OVN when it did not
 * (no server, no answer in time, or no OVN_Northbound there). Safe from any thread: each
 * call opens its own connection. */
int sov_network_ready(const sov_config *cfg, sov_ovn_state *ret, sov_error *err);

/* "not configured", "reachable": what /readyz shows. */
const char *sov_ovn_state_name(sov_ovn_state state);

/* Whether tenant networks are on (cfg->ovn_nb set). */
bool sov_network_enabled(const sov_config *cfg);

#define SOV_CIDR_MAX 20         /* "255.255.255.255/32" */
#define SOV_IP_MAX 16           /* "255.255.255.255" */
#define SOV_NET_DNS_MAX 4
#define SOV_NET_SG_MAX 8        /* security groups of one port */

/* ---- networks ---- */

typedef struct sov_network {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char workspace[SOV_NAME_MAX + 1];
    char name[SOV_NAME_MAX + 1];
    char cidr[SOV_CIDR_MAX];    /* "10.0.0.0/16": /16 to /28 */
    char region[SOV_NAME_MAX + 1];
    bool is_default;
    char state[16];
    char state_reason[512];
    char router_id[SOV_UUID_LEN + 1];   /* its internet gateway, "" none */
    char operation_id[SOV_UUID_LEN + 1];
    sov_location residency;
    char residency_since[40];
    char created_at[40], updated_at[40];
} sov_network;

typedef SOV_PAGE(sov_network) sov_network_page;

typedef struct sov_network_create_args {
    const char *workspace;      /* NULL: "default" */
    const char *name;
    const char *cidr;           /* IPv4, /16 to /28, the network address (host bits zero) */
    const char *region;         /* NULL: the first region the tenant's policy allows that
                                 * has hosts up (as placement orders them) */
    const char *sku;            /* a network SKU's name; NULL: none recorded (the default) */
} sov_network_create_args;

/* Quota-check (networks), check the region against the tenant's policy (outside it:
 * SOV_E_RESIDENCY), record the network (creating) and its residency, queue
 * "network.create", in one transaction. Overlapping CIDRs of different networks are fine. */
int sov_network_create(sov_ctx *ctx, const char *tenant_id, const sov_network_create_args *a,
                       sov_network *ret, sov_op *op, sov_error *err);
int sov_network_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_network *ret,
                    sov_error *err);
/* By id, or by name in the workspace (NULL: default). ret: SOV_UUID_LEN + 1. */
int sov_network_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                        const char *id_or_name, char *ret, sov_error *err);
/* Filters may be NULL; deleted ones only when state asks for them. */
int sov_network_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                     const char *region, const char *state, const char *after, unsigned limit,
                     sov_network_page *ret, sov_error *err);
/* Refused while it has subnets, ports or a router (SOV_E_CONFLICT naming them); queues
 * "network.delete". */
int sov_network_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                       sov_error *err);

/* ---- subnets ---- */

typedef struct sov_subnet {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char workspace[SOV_NAME_MAX + 1];
    char name[SOV_NAME_MAX + 1];
    char network_id[SOV_UUID_LEN + 1];
    char network_name[SOV_NAME_MAX + 1];
    char cidr[SOV_CIDR_MAX];    /* inside the network's, /16 to /29 */
    char zone[SOV_NAME_MAX + 1];    /* "" every zone of the region */
    char gateway[SOV_IP_MAX];
    char dns_servers[SOV_NET_DNS_MAX][SOV_IP_MAX];
    size_t ndns_servers;
    long long addresses_total;  /* host addresses, less the gateway */
    long long addresses_used;   /* by ports not deleted */
    char state[16];
    char state_reason[512];
    char operation_id[SOV_UUID_LEN + 1];
    char created_at[40], updated_at[40];
} sov_subnet;

typedef SOV_PAGE(sov_subnet) sov_subnet_page;

typedef struct sov_subnet_create_args {
    const char *workspace;      /* NULL: "default" */
    const char *name;
    const char *network;        /* id or name (same workspace) */
    const char *cidr;           /* inside the network's; no overlap with its other subnets */
    const char *zone;           /* NULL: every zone; else a zone of the network's region */
    const char *gateway;        /* NULL: the first host address */
    const char *const *dns_servers;     /* NULL/0: none (OVN's DHCP then gives the gateway) */
    size_t ndns_servers;
    const char *route_table;    /* SECA: the route table it uses (a name); NULL: none */
    const char *sku;            /* SECA: its NICs' default network SKU; NULL: the network's */
} sov_subnet_create_args;

/* Quota-check (subnets); under the network's row lock refuse a CIDR outside it or
 * overlapping another subnet of it (SOV_E_INVALID naming "cidr" and the other subnet);
 * record it (creating) and queue "subnet.create" (the network's scope). */
int sov_subnet_create(sov_ctx *ctx, const char *tenant_id, const sov_subnet_create_args *a,
                      sov_subnet *ret, sov_op *op, sov_error *err);
int sov_subnet_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_subnet *ret,
                   sov_error *err);
int sov_subnet_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                       const char *id_or_name, char *ret, sov_error *err);
/* network_id: an id or a name; state NULL: all but deleted ones. */
int sov_subnet_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                    const char *network_id, const char *state, const char *after,
                    unsigned limit, sov_subnet_page *ret, sov_error *err);
/* Refused while ports use it (SOV_E_CONFLICT naming them); queues "subnet.delete". */
int sov_subnet_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                      sov_error *err);

/* ---- ports (NICs) ---- */

typedef struct sov_port {
    char id[SOV_UUID_LEN + 1];  /* also its OVN logical switch port's name and the libvirt
                                 * interfaceid */
    char tenant_id[SOV_UUID_LEN + 1];
    char workspace[SOV_NAME_MAX + 1];
    char name[SOV_NAME_MAX + 1];
    char network_id[SOV_UUID_LEN + 1];
    char network_name[SOV_NAME_MAX + 1];
    char subnet_id[SOV_UUID_LEN + 1];
    char subnet_name[SOV_NAME_MAX + 1];
    char ip[SOV_IP_MAX];
    char mac[18];               /* "fa:16:3e:..", locally administered unicast */
    char security_groups[SOV_NET_SG_MAX][SOV_UUID_LEN + 1];
    size_t nsecurity_groups;
    char instance_id[SOV_UUID_LEN + 1];     /* plugged into; "" none */
    char instance_name[SOV_NAME_MAX + 1];
    int device_index;           /* its NIC's place in the instance (0 first); -1 none */
    char public_ip[SOV_IP_MAX];             /* a public IP attached to it; "" none */
    char created_by_instance[SOV_UUID_LEN + 1];
    bool up;                    /* OVN's Southbound binding */
    char chassis[64];           /* where it is bound; "" not bound */
    char state[16];
    char state_reason[512];
    char operation_id[SOV_UUID_LEN + 1];
    char created_at[40], updated_at[40];
} sov_port;

typedef SOV_PAGE(sov_port) sov_port_page;

typedef struct sov_port_create_args {
    const char *workspace;      /* NULL: "default" */
    const char *name;           /* NULL: "port-" and the first 8 characters of its id */
    const char *subnet;         /* id or name */
    const char *ip;             /* NULL: the lowest free; else inside the subnet, a host
                                 * address, not the gateway, not taken (SOV_E_CONFLICT) */
    const char *mac;            /* NULL: a random locally administered unicast MAC */
    const char *const *security_groups;     /* ids or names; none: the port allows
                                             * nothing inbound */
    size_t nsecurity_groups;
    const char *sku;            /* SECA: a network SKU's name (the NIC's skuRef); NULL: its
                                 * subnet's or network's. The port's OVN rate follows it */
} sov_port_create_args;

/* Quota-check (ports), take its address, record it (creating) with its groups, queue
 * "port.create" (the network's scope), in one transaction. Another tenant's subnet or group
 * is SOV_E_NOT_FOUND naming the field. */
int sov_port_create(sov_ctx *ctx, const char *tenant_id, const sov_port_create_args *a,
                    sov_port *ret, sov_op *op, sov_error *err);
int sov_port_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_port *ret,
                 sov_error *err);
int sov_port_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                     const char *id_or_name, char *ret, sov_error *err);
/* network_id, subnet_id, instance_id: ids or names; state NULL: all but deleted ones. */
int sov_port_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                  const char *network_id, const char *subnet_id, const char *instance_id,
                  const char *state, const char *after, unsigned limit, sov_port_page *ret,
                  sov_error *err);
/* Replace the port's security groups (ids or names): "port.update" (the network's scope
 * and each group's membership). */
int sov_port_set_security_groups(sov_ctx *ctx, const char *tenant_id, const char *id,
                                 const char *const *groups, size_t n, sov_port *ret,
                                 sov_op *op, sov_error *err);
/* Refused while plugged into an instance (SOV_E_CONFLICT: detach first) or while a public
 * IP is attached; queues "port.delete" (its address is free once it is deleted). */
int sov_port_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                    sov_error *err);

typedef struct sov_port_action_args {
    const char *action;         /* "attach", "detach" */
    const char *instance;       /* attach: id or name (same workspace); detach: NULL or it */
} sov_port_action_args;

/* attach (available -> attaching -> in-use: the instance must be in the network's region,
 * not deleting; hot plugged when it runs) and detach (in-use -> detaching -> available):
 * "port.attach", "port.detach". */
int sov_port_action(sov_ctx *ctx, const char *tenant_id, const char *id,
                    const sov_port_action_args *a, sov_port *ret, sov_op *op, sov_error *err);

/* The ports plugged into an instance (not deleted), in device order; only those the caller
 * may see (tenant_id NULL: any). *ret to free(). */
int sov_instance_ports(sov_ctx *ctx, const char *tenant_id, const char *instance_id,
                       sov_port **ret, size_t *n, sov_error *err);

/* ---- security groups ---- */

typedef struct sov_sg_rule {
    char id[SOV_UUID_LEN + 1];
    char direction[8];          /* ingress, egress */
    char protocol[8];           /* tcp, udp, icmp, any */
    int port_min, port_max;     /* 0, 0: every port (tcp, udp only) */
    char remote_cidr[SOV_CIDR_MAX];         /* "" none */
    char remote_group_id[SOV_UUID_LEN + 1]; /* "" none; neither: anywhere */
    char remote_group_name[SOV_NAME_MAX + 1];
    char description[256];
    char created_at[40];
} sov_sg_rule;

typedef struct sov_security_group {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char workspace[SOV_NAME_MAX + 1];
    char name[SOV_NAME_MAX + 1];
    bool is_default;
    sov_sg_rule *rules;         /* owned: sov_security_group_release */
    size_t nrules;
    char state[16];
    char state_reason[512];
    char operation_id[SOV_UUID_LEN + 1];
    char created_at[40], updated_at[40];
} sov_security_group;

void sov_security_group_release(sov_security_group *g);

typedef SOV_PAGE(sov_security_group) sov_security_group_page;
/* Releases each item's rules and the array. */
void sov_security_group_page_release(sov_security_group_page *p);

/* A rule as a request gives it: ports "22" or "1000-2000" (1 to 65535, low <= high; tcp and
 * udp only), remote_cidr or remote_group (id or name, same tenant), not both. */
typedef struct sov_sg_rule_args {
    const char *direction, *protocol, *ports, *remote_cidr, *remote_group, *description;
} sov_sg_rule_args;

/* Check a rule's shape (no database): SOV_E_INVALID naming the field ("rules[2].ports"
 * with prefix "rules[2]."; prefix NULL: the bare field). Fills out (remote group not
 * resolved). */
int sov_sg_rule_parse(const sov_sg_rule_args *a, const char *prefix, sov_sg_rule *out,
                      sov_error *err);

typedef struct sov_security_group_create_args {
    const char *workspace;      /* NULL: "default" */
    const char *name;
    const sov_sg_rule_args *rules;  /* NULL/0: the defaults: egress anywhere, ingress from
                                     * the group's own members */
    size_t nrules;
    bool no_default_rules;      /* rules: [] given: none at all */
} sov_security_group_create_args;

/* Quota-check (security_groups, security_group_rules), record (creating), queue
 * "security_group.create". */
int sov_security_group_create(sov_ctx *ctx, const char *tenant_id,
                              const sov_security_group_create_args *a,
                              sov_security_group *ret, sov_op *op, sov_error *err);
int sov_security_group_get(sov_ctx *ctx, const char *tenant_id, const char *id,
                           sov_security_group *ret, sov_error *err);
int sov_security_group_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                               const char *id_or_name, char *ret, sov_error *err);
int sov_security_group_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                            const char *after, unsigned limit, sov_security_group_page *ret,
                            sov_error *err);
/* Refused while ports use it or other groups' rules name it (SOV_E_CONFLICT naming them);
 * "security_group.delete". */
int sov_security_group_delete(sov_ctx *ctx, const char *tenant_id, const char *id,
                              sov_op *op, sov_error *err);
/* Add one rule (quota security_group_rules) or remove one: "security_group.update" (the
 * group's scope). */
int sov_sg_rule_add(sov_ctx *ctx, const char *tenant_id, const char *group_id,
                    const sov_sg_rule_args *a, sov_sg_rule *ret, sov_op *op, sov_error *err);
int sov_sg_rule_delete(sov_ctx *ctx, const char *tenant_id, const char *group_id,
                       const char *rule_id, sov_op *op, sov_error *err);
/* Replace the group's whole rule set (n 0: none) in one transaction: each rule checked as
 * sov_sg_rule_parse does ("rules[i]." prefix), quota security_group_rules given back for the
 * old and charged for the new, "security_group.update"; ret: the group after it. */
int sov_sg_rules_replace(sov_ctx *ctx, const char *tenant_id, const char *group_id,
                         const sov_sg_rule_args *rules, size_t n, sov_security_group *ret,
                         sov_op *op, sov_error *err);

/* ---- routers (internet gateways) ---- */

typedef struct sov_router {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char workspace[SOV_NAME_MAX + 1];
    char name[SOV_NAME_MAX + 1];
    char network_id[SOV_UUID_LEN + 1];
    char network_name[SOV_NAME_MAX + 1];
    char region[SOV_NAME_MAX + 1];
    bool snat;
    char external_ip[SOV_IP_MAX];   /* its address on the region's external network */
    char state[16];
    char state_reason[512];
    char operation_id[SOV_UUID_LEN + 1];
    char created_at[40], updated_at[40];
} sov_router;

typedef SOV_PAGE(sov_router) sov_router_page;

typedef struct sov_router_create_args {
    const char *workspace;      /* NULL: "default" */
    const char *name;
    const char *network;        /* id or name: every subnet of it gets the router as gateway */
    bool snat;                  /* the handler's default: true */
} sov_router_create_args;

/* One per network (SOV_E_CONFLICT); takes an external address from a pool of the network's
 * region (none defined, or none free: SOV_E_CONFLICT naming the region); "router.create". */
int sov_router_create(sov_ctx *ctx, const char *tenant_id, const sov_router_create_args *a,
                      sov_router *ret, sov_op *op, sov_error *err);
int sov_router_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_router *ret,
                   sov_error *err);
int sov_router_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                       const char *id_or_name, char *ret, sov_error *err);
int sov_router_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                    const char *after, unsigned limit, sov_router_page *ret, sov_error *err);
/* Refused while public IPs of its network's ports are attached (they need it); frees its
 * external address; "router.delete". */
int sov_router_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                      sov_error *err);

/* ---- public IP pools (operator) and public IPs ---- */

typedef struct sov_public_ip_pool {
    char id[SOV_UUID_LEN + 1];
    char region[SOV_NAME_MAX + 1];
    char name[SOV_NAME_MAX + 1];
    char cidr[SOV_CIDR_MAX];
    char gateway[SOV_IP_MAX];
    char first_ip[SOV_IP_MAX], last_ip[SOV_IP_MAX];
    char physical_network[SOV_NAME_MAX + 1];
    long long total, used;
    char created_at[40];
} sov_public_ip_pool;

typedef SOV_PAGE(sov_public_ip_pool) sov_public_ip_pool_page;

typedef struct sov_public_ip_pool_args {
    const char *name;
    const char *cidr;
    const char *gateway;        /* NULL: the first host address */
    const char *first_ip, *last_ip;     /* NULL: after the gateway; the last host address */
    const char *physical_network;       /* NULL: "public" */
} sov_public_ip_pool_args;

/* POST /v1/regions/{code}/public-ip-pools (operator, audited). */
int sov_public_ip_pool_create(sov_ctx *ctx, const char *region,
                              const sov_public_ip_pool_args *a, sov_public_ip_pool *ret,
                              sov_error *err);
int sov_public_ip_pool_list(sov_ctx *ctx, const char *region, const char *after,
                            unsigned limit, sov_public_ip_pool_page *ret, sov_error *err);
int sov_public_ip_pool_get(sov_ctx *ctx, const char *region, const char *id_or_name,
                           sov_public_ip_pool *ret, sov_error *err);
/* Refused while addresses of it are held (SOV_E_CONFLICT). */
int sov_public_ip_pool_delete(sov_ctx *ctx, const char *region, const char *id_or_name,
                              sov_error *err);

typedef struct sov_public_ip {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char workspace[SOV_NAME_MAX + 1];
    char name[SOV_NAME_MAX + 1];
    char region[SOV_NAME_MAX + 1];
    char pool_id[SOV_UUID_LEN + 1];
    char address[SOV_IP_MAX];
    char port_id[SOV_UUID_LEN + 1];         /* attached to; "" none */
    char port_ip[SOV_IP_MAX];
    char state[16];
    char state_reason[512];
    char operation_id[SOV_UUID_LEN + 1];
    sov_location residency;
    char residency_since[40];
    char created_at[40], updated_at[40];
} sov_public_ip;

typedef SOV_PAGE(sov_public_ip) sov_public_ip_page;

typedef struct sov_public_ip_create_args {
    const char *workspace;      /* NULL: "default" */
    const char *name;
    const char *region;         /* NULL: the region of the port, else the first the policy
                                 * allows that has a pool */
    const char *port;           /* NULL: not attached yet */
    const char *address;        /* NULL: the lowest free; else this IPv4 address of a pool of
                                 * the region, not held (SOV_E_CONFLICT naming "address") */
} sov_public_ip_create_args;

/* Quota-check (public_ips); a region outside the tenant's policy is SOV_E_RESIDENCY naming
 * "region"; take the lowest free address of the region's pools; record it with its
 * residency; "public_ip.create" (attached: the port's network's router must exist,
 * SOV_E_CONFLICT otherwise). */
int sov_public_ip_create(sov_ctx *ctx, const char *tenant_id,
                         const sov_public_ip_create_args *a, sov_public_ip *ret, sov_op *op,
                         sov_error *err);
int sov_public_ip_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_public_ip *ret,
                      sov_error *err);
int sov_public_ip_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                          const char *id_or_name, char *ret, sov_error *err);
int sov_public_ip_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                       const char *after, unsigned limit, sov_public_ip_page *ret,
                       sov_error *err);
/* attach {port} (the port in the same region, its network with a router) or detach:
 * "public_ip.attach", "public_ip.detach". */
int sov_public_ip_action(sov_ctx *ctx, const char *tenant_id, const char *id,
                         const char *action, const char *port, sov_public_ip *ret,
                         sov_op *op, sov_error *err);
/* Detached first when attached; "public_ip.delete". */
int sov_public_ip_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                         sov_error *err);

/* ---- network SKUs (bandwidth classes; SECA's network provider) ---- */

/* A bandwidth class (table network_skus, seeded by migration 0018 with SECA's tiers
 * seca.n1k, seca.n5k, seca.n10k). A network is created with one (networks.sku); one made
 * through /v1 has the default. */
#define SOV_NETWORK_SKU_DEFAULT "seca.n1k"

typedef struct sov_network_sku {
    char name[SOV_NAME_MAX + 1];
    long long bandwidth_mbps;
    long long packets_per_second;
    char tier[16];
    char created_at[40];
} sov_network_sku;

/* Every class, by name; *ret to free(). */
int sov_network_sku_list(sov_ctx *ctx, sov_network_sku **ret, size_t *n, sov_error *err);
/* SOV_E_NOT_FOUND "network SKU 'x' does not exist". */
int sov_network_sku_get(sov_ctx *ctx, const char *name, sov_network_sku *ret, sov_error *err);
/* A network's class (the default when it has none recorded); SOV_E_NOT_FOUND as
 * sov_network_get. */
int sov_network_sku_of(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                       sov_network_sku *ret, sov_error *err);
/* The class a port is sized by, for part "netsec": sku when given, else the port's own
 * (sov_port_create_args.sku), its subnet's, its network's, else the default. The network
 * sync writes the first that is set (port, subnet, network) into the port's logical switch
 * port as options:qos_max_rate = bandwidth_mbps * 1000000 bit/s and qos_burst (a tenth of
 * a second's worth); a port with none set (/v1's) gets no rate. */
int sov_port_sku(sov_ctx *ctx, const char *tenant_id, const char *port_id, const char *sku,
                 sov_network_sku *ret, sov_error *err);
/* What a SECA subnet names: its route table ("" none) and SKU ("" none). Sizes
 * SOV_SECA_NAME_MAX + 1 and SOV_NAME_MAX + 1 are enough. */
int sov_subnet_seca(sov_ctx *ctx, const char *tenant_id, const char *subnet_id,
                    char *route_table, size_t rt_size, char *sku, size_t sku_size,
                    sov_error *err);

/* Change the route table a SECA subnet uses (a name; the caller checked it exists). */
int sov_subnet_seca_route_table(sov_ctx *ctx, const char *tenant_id, const char *subnet_id,
                                const char *route_table, sov_error *err);
/* The first live subnet of a network using route_table (its name into ret, "" none). */
int sov_network_route_table_user(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                                 const char *route_table, char *ret, size_t size,
                                 sov_error *err);

/* SECA route tables and internet gateways (objects of sov/seca.h) made real: a network
 * needs our router (snat) when a live subnet of it uses a route table (kind "route-table",
 * parent the network's name) that is not being deleted and routes 0.0.0.0/0 to an internet
 * gateway (kind "internet-gateway") that exists. Then this makes the router ("seca-" and the
 * network's id, sov_router_create: a pool of the region must have an address, else
 * SOV_E_CONFLICT naming region); when nothing needs it, it deletes the router it made
 * (routers made through /v1 are left alone). Route table objects' specs hold {"spec": the
 * SECA spec, "targets": [{"cidr", "kind", "name"}], "deleting": bool}. */
int sov_network_apply_route_tables(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                                   const char *network, sov_error *err);
/* Whether a network takes traffic from the internet (public IPs' DNAT), for part "netsec"
 * before it attaches a public IP to a port of it: false when its subnets reach the internet
 * only through egress-only internet gateways (SNAT out, nothing in); true otherwise (also
 * when no SECA route table is involved: /v1 routers allow DNAT). */
int sov_network_inbound_allowed(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                                bool *ret, sov_error *err);
/* Before a subnet uses route_table: when the table would give the network a router and
 * no public IP pool of its region has a free address, SOV_E_INVALID naming "region" with the
 * reason (nothing is written). */
int sov_network_route_table_check(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                                  const char *network, const char *route_table,
                                  sov_error *err);
/* The router sov_network_apply_route_tables made for a network: *ret false when none
 * (a /v1 router is not one); r filled when found. */
int sov_network_seca_router(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                            sov_router *r, bool *ret, sov_error *err);

/* SECA security groups (network/seca_rules.c, issue 20): how a SECA group's rules become
 * ours. A group's SECA spec {rules?, ruleRefs?} is kept as the SECA object of kind
 * SOV_SECA_SG_OBJECT beside the group ({"id": the group's id, "spec": the spec as given});
 * named rules are SECA objects of kind "security-group-rule" (their spec). A group's
 * effective rules are its inline rules and the named ones, each expanded into ours:
 * tcp+udp is two rules, each port of ports.list and the from/to range one rule each, each
 * sourceRef one rule (a security group of the workspace, or an IPv4 CIDR or address, /32);
 * an ICMP rule allows every ICMPv4 type and code; IPv6 is refused; at most 500 once expanded.
 * Errors are SOV_E_INVALID naming the JSON pointer of the SECA member ("/spec/rules/2/ports"). */
#define SOV_SECA_SG_OBJECT "security-group"
#define SOV_SECA_SG_RULE_OBJECT "security-group-rule"
typedef struct sov_seca_sg_env {
    sov_ctx *ctx;
    const char *tenant_id;
    const char *workspace;
    /* The edge's reading of a SECA reference (a Reference object or a URN) to a resource of
     * type plural ("security-groups") of this workspace: its name into name (129 bytes);
     * malformed, of another type or another workspace: SOV_E_INVALID naming pointer. */
    int (*ref_name)(void *data, const json_t *ref, const char *plural, const char *pointer,
                    char *name, sov_error *err);
    void *data;
} sov_seca_sg_env;
typedef struct sov_seca_xrule sov_seca_xrule;
typedef struct sov_seca_sg_rules {
    sov_sg_rule_args *args;     /* n rules of ours, their strings held here */
    size_t n;
    sov_seca_xrule *x;          /* private */
    size_t cap;
} sov_seca_sg_rules;
void sov_seca_sg_rules_release(sov_seca_sg_rules *r);
/* A SECA group spec as our rules (*ret released by the caller, also on failure). */
int sov_seca_sg_expand(const sov_seca_sg_env *env, const json_t *spec, sov_seca_sg_rules *ret,
                       sov_error *err);
/* A service error about our rule k (field "rules[k]...") as the pointer of the SECA rule it
 * comes from. */
void sov_seca_sg_rules_repoint(const sov_seca_sg_rules *r, sov_error *err);
/* A named rule's spec checked as its PUT takes it ("/spec..."): source groups must exist. */
int sov_seca_sg_rule_check(const sov_seca_sg_env *env, const json_t *spec, sov_error *err);
/* The groups of the workspace whose SECA spec names rule `rule` in its ruleRefs (names into
 * *ret: sov_seca_sg_names_free). */
int sov_seca_sg_rule_users(const sov_seca_sg_env *env, const char *rule, char ***ret,
                           size_t *n, sov_error *err);
void sov_seca_sg_names_free(char **names, size_t n);
/* A named rule about to read spec: each of the n groups naming it (sov_seca_sg_rule_users)
 * must still expand (else SOV_E_INVALID naming "/spec" and the group); nothing is written. */
int sov_seca_sg_rule_changing(const sov_seca_sg_env *env, const char *rule,
                              const json_t *spec, char *const *groups, size_t n,
                              sov_error *err);
/* Once it reads spec: each group's rules replaced by its effective ones
 * (sov_sg_rules_replace, one operation each), its SECA meta recording the update. */
int sov_seca_sg_rule_changed(const sov_seca_sg_env *env, const char *rule,
                             const json_t *spec, char *const *groups, size_t n,
                             sov_error *err);
#define SOV_SECA_ROUTER_PREFIX "seca-"
/* A route table of a network (object kind "route-table", parent the network's name, in the
 * network's workspace): SOV_E_NOT_FOUND when there is none, or when it was being deleted and
 * the router it held is gone: then it is removed for good (object and SECA meta). *deleting:
 * its deletion is still under way. ret to sov_seca_object_clear. */
typedef struct sov_seca_object sov_seca_object;
int sov_network_route_table_get(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                                const char *network, const char *name, sov_seca_object *ret,
                                bool *deleting, sov_error *err);
/* Store a route table object (created or replaced: *created) and apply the network's route
 * tables; when that fails, the table is put back as old was (NULL: removed), so nothing stays
 * half-written. The error of a router that cannot be made names "region". */
int sov_network_route_table_put(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                                sov_seca_object *o, const sov_seca_object *old, bool *created,
                                sov_error *err);
/* Start deleting route table o of the network: SOV_E_CONFLICT while a live subnet uses it;
 * else it is marked deleting and the router it held (if any) goes; undone on failure. */
int sov_network_route_table_delete(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                                   sov_seca_object *o, sov_error *err);
/* Give SECA subnet subnet_id route table route_table (checked as a create's); the network's
 * router follows; when it cannot, the subnet keeps the table it had. */
int sov_subnet_route_table_change(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                                  const char *subnet_id, const char *route_table,
                                  sov_error *err);
/* The first route table of the workspace that routes to internet gateway `gateway` and is not
 * being deleted, as "networks/<n>/route-tables/<t>" into ret ("" none). */
int sov_network_gateway_user(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                             const char *gateway, char *ret, size_t size, sov_error *err);
/* Whether an IPv4 CIDR lies inside the private address space of RFC 1918 (10.0.0.0/8,
 * 172.16.0.0/12, 192.168.0.0/16), where SECA keeps a network's cidr. No database. */
bool sov_cidr_private(const char *cidr);
/* An IPv4 CIDR written as its network address into ret (SOV_CIDR_MAX); -1 when it is not
 * one (strict: host bits set is not one either). No database. */
int sov_cidr_normalize(const char *cidr, bool strict, char *ret);

/* ---- instances ---- */

/* One NIC of an instance create: a subnet (a new port is made, deleted with the instance)
 * or an existing port (available, same workspace), with the groups and address of a new
 * port. */
typedef struct sov_instance_nic_args {
    const char *subnet;         /* id or name; or */
    const char *port;           /* id or name */
    const char *ip;             /* subnet only: the address asked for */
    const char *const *security_groups;     /* subnet only; NULL: the workspace's default
                                             * group */
    size_t nsecurity_groups;
    bool has_security_groups;   /* given (an empty list means none) */
} sov_instance_nic_args;

#define SOV_INSTANCE_NICS_MAX 8

/* The members an instance create takes for networks (the "network" entry of
 * sov_instance_create_args.ext; the handler fills it). No nics: one NIC on the workspace's default subnet, made at the first
 * instance of a workspace without a network (network "default" 10.0.0.0/16 in the
 * instance's region, subnet "default" 10.0.0.0/24, security group "default", all is_default). */
typedef struct sov_instance_network_args {
    const sov_instance_nic_args *nics;
    size_t nnics;
    bool has_nics;              /* "nics" given (an empty list: no NIC at all) */
} sov_instance_network_args;

/* Module registration (include/sov/registry.h): the operation kinds (quotas are charged by
 * the services and given back by the workers with sov_quota_charge/_release), the
 * domain contributor (each port as an OVS NIC on br-int), the instance hook (nics at
 * create, the default network, ports released at delete, `started`: the ports are up) and
 * the reconciler's pass over OVN. */
int sov_network_register(sov_error *err);

#endif
