/* network_int.h: what the files of network/ share, and nothing outside it sees. Each part
 * keeps its own section; a part's functions are defined in the files its section names.
 *
 * How a change reaches OVN. A request's transaction records the intent (rows in creating,
 * updating or deleting) and queues an operation whose kind names the resource. Every
 * operation's worker does the same thing: it brings OVN's Northbound database to what
 * PostgreSQL says for the resource's *scope* (sov_ovn_sync_*), in one OVSDB transaction,
 * while holding the scope's advisory lock (so two workers, of this sovd or another, never
 * write one scope at once); then, in the same PostgreSQL transaction, the scope's rows move
 * on: creating and updating to available (a port plugged into an instance: in-use),
 * deleting to deleted (its quota given back, its address free). A worker that runs twice,
 * or after a crash between the commit and OVN, does no harm; the reconciler runs the same
 * syncs for every scope, and removes what OVN holds of this deployment that no scope wants.
 *
 * Scopes:
 *   network   its logical switch, its subnets' DHCP options, its ports (logical switch
 *             ports: addresses "MAC IP", port security, requested-chassis of the instance's
 *             host, or of both hosts during its live migration), the router port of its
 *             router;
 *   security group   its port group (members: the ports in it) and its ACLs;
 *   router    its logical router, the router ports (to its network's subnets, to the region's
 *             external network), SNAT of the subnets and dnat_and_snat of the public IPs on
 *             its network's ports; the region's external logical switch (one per public IP
 *             pool, with a localnet port on physical_network).
 * Everything written carries external_ids "sov:cp" (this deployment's control_plane id),
 * "sov:kind" and "sov:id"; only rows with our "sov:cp" are ever changed or removed. */
#ifndef SOV_NETWORK_INT_H
#define SOV_NETWORK_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "sov/cleanup.h"
#include "sov/compute.h"
#include "sov/network.h"
#include "sov/repo/db_pq.h"

/* ---- ipam.c (contract): IPv4 as numbers ---- */

typedef struct sov_ipv4_net {
    uint32_t addr;              /* host order, host bits zero */
    unsigned prefix;
} sov_ipv4_net;

/* A dotted quad ("10.0.0.1"; no leading zeros, nothing else): 0, or -1. */
int sov_ipv4_parse(const char *s, uint32_t *ret);
void sov_ipv4_format(uint32_t a, char out[SOV_IP_MAX]);
uint32_t sov_ipv4_mask(unsigned prefix);
/* "10.0.0.0/16": strict refuses host bits set ("10.0.0.1/16"); otherwise they are cleared. */
int sov_cidr_parse(const char *s, bool strict, sov_ipv4_net *ret);
void sov_cidr_format(const sov_ipv4_net *n, char out[SOV_CIDR_MAX]);
bool sov_cidr_has(const sov_ipv4_net *n, uint32_t a);
/* inner lies inside outer (equal counts). */
bool sov_cidr_within(const sov_ipv4_net *outer, const sov_ipv4_net *inner);
bool sov_cidr_overlaps(const sov_ipv4_net *a, const sov_ipv4_net *b);
uint32_t sov_cidr_broadcast(const sov_ipv4_net *n);
/* Inside n and neither its network nor its broadcast address. */
bool sov_cidr_is_host(const sov_ipv4_net *n, uint32_t a);
/* How many host addresses n has. */
long long sov_cidr_hosts(const sov_ipv4_net *n);

/* ---- common (net_common.c; part "net") ---- */

/* SOV_E_UNAVAILABLE "tenant networks need OVN: ovn_nb is not configured" when off. */
int sov_net_check_enabled(const sov_config *cfg, sov_error *err);
/* The region a new network or public IP of the tenant goes to when the request names none:
 * the first region its policy allows that has a host up (placement's order); SOV_E_RESIDENCY
 * when there is none. A named region outside the policy: SOV_E_RESIDENCY naming field. */
int sov_net_region(sov_dbconn *c, const char *tenant_id, const char *region,
                   const char *field, char *ret, size_t size, sov_error *err);

/* Milliseconds on the monotonic clock: the plugs' waits for a port up. */
double sov_net_now_ms(void);
/* A list's tenant into *ret (an operator naming none: NULL, every tenant's) and its cursor
 * after (NULL or an id, else SOV_E_INVALID naming "after"). */
int sov_net_list_tenant(sov_ctx *ctx, const char *tenant_id, const char *after,
                        const char **ret, sov_error *err);

/* A create's operation "<type>.create" on resource id, unless op is NULL (the instance
 * hook's defaults queue none): queued into op, its id into op_id (SOV_UUID_LEN + 1). */
int sov_net_create_op(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id, const char *type,
                      const char *id, sov_op *op, char *op_id, sov_error *err);
/* A delete of the resource what ("subnet") of id: tenant networks on, id an id (else
 * SOV_E_NOT_FOUND "<what> '<id>' does not exist"), tx(arg) in one transaction. tx fills
 * pending (a buffer of arg) with the operation of a delete already under way: that
 * operation is the answer, the same 202 again. */
int sov_net_delete(sov_ctx *ctx, const char *what, const char *id, sov_db_tx_fn tx, void *arg,
                   const char *pending, sov_op *op, sov_error *err);

/* Shared by net_repo.c and sec_repo.c. One row of a resource by id (tenant_id NULL: any
 * tenant's) through get_sql ($1 tenant, $2 id); lock: lock_sql's FOR UPDATE first, since it
 * cannot sit beside get_sql's outer joins. SOV_E_NOT_FOUND "<what> '<id>' does not exist". */
int sov_net_repo_get(sov_dbconn *c, const char *get_sql, const char *lock_sql,
                     const char *tenant_id, const char *id, bool lock, const sov_db_rowmap *map,
                     void *ret, const char *what, sov_error *err);
/* One row by id or by name in the workspace (NULL: "default") through sql ($1 tenant,
 * $2 workspace, $3 id or name); SOV_E_NOT_FOUND naming field (NULL: none). */
int sov_net_repo_find(sov_dbconn *c, const char *sql, const char *tenant_id,
                      const char *workspace, const char *id_or_name, const char *field,
                      const sov_db_rowmap *map, void *ret, const char *what, sov_error *err);

/* ---- networks, subnets, ports (networks.c, subnets.c, ports.c, net_repo.c; part "net") ---- */

/* The create transactions' bodies, for the services and for the instance hook (a plain
 * create's default network, subnet and port): quota, checks, rows, residency, audit. op NULL:
 * no operation is queued (the instance create's worker syncs them). */
int sov_net_network_create_tx(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                              const sov_network_create_args *a, bool is_default,
                              sov_network *ret, sov_op *op, sov_error *err);
int sov_net_subnet_create_tx(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                             const sov_subnet_create_args *a, sov_subnet *ret, sov_op *op,
                             sov_error *err);

/* Who a port made at an instance create belongs to. */
typedef struct sov_net_port_owner {
    const char *instance_id;
    int device_index;
    bool created_by_instance;   /* deleted with the instance */
} sov_net_port_owner;

/* owner NULL: a free port (available once synced); else plugged in (in-use once synced). */
int sov_net_port_create_tx(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                           const sov_port_create_args *a, const sov_net_port_owner *owner,
                           sov_port *ret, sov_op *op, sov_error *err);

int sov_repo_network_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                         sov_network *ret, sov_error *err);
/* By id or by name in the workspace; SOV_E_NOT_FOUND naming field. */
int sov_repo_network_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                          const char *id_or_name, const char *field, sov_network *ret,
                          sov_error *err);
/* The workspace's default network (is_default, not deleted); *found false when none. */
int sov_repo_network_default(sov_dbconn *c, const char *tenant_id, const char *workspace,
                             sov_network *ret, bool *found, sov_error *err);
int sov_repo_subnet_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                        sov_subnet *ret, sov_error *err);
int sov_repo_subnet_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                         const char *id_or_name, const char *field, sov_subnet *ret,
                         sov_error *err);
int sov_repo_port_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                      sov_port *ret, sov_error *err);
int sov_repo_port_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                       const char *id_or_name, const char *field, sov_port *ret,
                       sov_error *err);
/* The ports plugged into an instance (not deleted), in device order; *ret to free(). */
int sov_repo_ports_of_instance(sov_dbconn *c, const char *instance_id, sov_port **ret,
                               size_t *n, sov_error *err);
/* Move a port to state (reason NULL keeps it, op_id NULL keeps it); from: only from these
 * (NULL: any); SOV_E_CONFLICT when not. */
int sov_repo_port_set_state(sov_dbconn *c, const char *id, const char *const *from,
                            const char *state, const char *reason, const char *op_id,
                            sov_error *err);
/* Plug into instance_id at device_index (-1: the next free), or unplug (instance_id NULL). */
int sov_repo_port_plug(sov_dbconn *c, const char *id, const char *instance_id,
                       int device_index, sov_error *err);

/* Added by part "net": the rest of its repository (net_repo.c) and helpers. */
int sov_repo_network_insert(sov_dbconn *c, const sov_network *n, sov_error *err);
int sov_repo_network_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                          const char *region, const char *state, const char *after,
                          unsigned limit, sov_network_page *ret, sov_error *err);
/* As sov_repo_port_set_state, for networks and subnets. */
int sov_repo_network_set_state(sov_dbconn *c, const char *id, const char *const *from,
                               const char *state, const char *reason, const char *op_id,
                               sov_error *err);
/* The live subnets, ports and router of a network: SOV_E_CONFLICT naming them (blocked_by). */
int sov_repo_network_blockers(sov_dbconn *c, const char *id, const char *what,
                              sov_error *err);
int sov_repo_subnet_insert(sov_dbconn *c, const sov_subnet *s, sov_error *err);
int sov_repo_subnet_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                         const char *network_id, const char *state, const char *after,
                         unsigned limit, sov_subnet_page *ret, sov_error *err);
int sov_repo_subnet_set_state(sov_dbconn *c, const char *id, const char *const *from,
                              const char *state, const char *reason, const char *op_id,
                              sov_error *err);
/* A live subnet of the network whose CIDR overlaps cidr: its name and CIDR, *found. */
int sov_repo_subnet_overlap(sov_dbconn *c, const char *network_id, const char *cidr,
                            char *name, size_t name_size, char *other, size_t other_size,
                            bool *found, sov_error *err);
/* The live ports of a subnet: SOV_E_CONFLICT naming them. */
int sov_repo_subnet_blockers(sov_dbconn *c, const char *id, const char *what, sov_error *err);
/* The lowest free host address of a subnet from first to last, gateway left out (the
 * caller holds the subnet's row lock); *found false when the subnet is full. */
int sov_repo_port_free_ip(sov_dbconn *c, const char *subnet_id, const char *first,
                          const char *last, const char *gateway, char *ret, size_t size,
                          bool *found, sov_error *err);
/* The name of the live port holding ip in the subnet (mac in the network) into ret; "" none. */
int sov_repo_port_ip_taken(sov_dbconn *c, const char *subnet_id, const char *ip, char *ret,
                           size_t size, sov_error *err);
int sov_repo_port_mac_taken(sov_dbconn *c, const char *network_id, const char *mac,
                            char *ret, size_t size, sov_error *err);
/* A 23505 on ports_ip_key, ports_mac_key or ports_name_key: SOV_E_CONFLICT naming the field. */
int sov_repo_port_insert(sov_dbconn *c, const sov_port *p, sov_error *err);
int sov_repo_port_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                       const char *network_id, const char *subnet_id, const char *instance_id,
                       const char *state, const char *after, unsigned limit,
                       sov_port_page *ret, sov_error *err);
/* The live public IPs attached to a port: SOV_E_CONFLICT naming them. */
int sov_repo_port_blockers(sov_dbconn *c, const char *id, const char *what, sov_error *err);

/* A list's state filter: NULL or one of states (NULL-ended), else SOV_E_INVALID naming
 * "state" with text ("creating, available ... or error"). */
int sov_net_check_state(const char *state, const char *const *states, const char *text,
                        sov_error *err);

/* An instance as a port sees it. */
typedef struct sov_net_instance {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char workspace[SOV_NAME_MAX + 1];
    char name[SOV_NAME_MAX + 1];
    char state[16];
    char region[SOV_NAME_MAX + 1];
} sov_net_instance;

/* An instance of the tenant by id, or by name in the workspace (NULL: default); lock takes
 * its row lock (device indexes are chosen under it). SOV_E_NOT_FOUND naming "instance". */
int sov_repo_net_instance(sov_dbconn *c, const char *tenant_id, const char *workspace,
                          const char *id_or_name, bool lock, sov_net_instance *ret,
                          sov_error *err);
/* The region of the first host up among regions, in placement's order; *found false: none. */
int sov_repo_net_host_region(sov_dbconn *c, const char *const *regions, size_t n, char *ret,
                             size_t size, bool *found, sov_error *err);
/* A region's place (no host) for a residency record, and the tenant's policy in force. */
int sov_net_region_place(sov_dbconn *c, const char *tenant_id, const char *region,
                         sov_location *ret, sov_policy *policy, sov_error *err);
/* Whether zone is a zone of region (SOV_E_INVALID naming "zone" when not). */
int sov_net_check_zone(sov_dbconn *c, const char *region, const char *zone, sov_error *err);

/* ---- security groups, routers, public IPs (secgroups.c, routers.c, public_ips.c,
 * sec_repo.c; part "sec") ---- */

int sov_net_sg_create_tx(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                         const sov_security_group_create_args *a, bool is_default,
                         sov_security_group *ret, sov_op *op, sov_error *err);
/* A group of the tenant by id or by name in the workspace: its id into ret
 * (SOV_UUID_LEN + 1); SOV_E_NOT_FOUND naming field. */
int sov_repo_sg_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                     const char *id_or_name, const char *field, char *ret, sov_error *err);
/* The workspace's default group (is_default); *found false when none. */
int sov_repo_sg_default(sov_dbconn *c, const char *tenant_id, const char *workspace,
                        char *ret, bool *found, sov_error *err);
/* Replace a port's groups (ids) in the caller's transaction. */
int sov_repo_port_set_groups(sov_dbconn *c, const char *port_id, const char *const *ids,
                             size_t n, sov_error *err);

/* A sov_error of code naming field (errors[0].field of the problem): returns -1. */
int sov_net_error_field(sov_error *err, sov_errcode code, const char *field, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));

/* Security groups' rows. tenant_id NULL: any tenant (the caller checks what it sees). get
 * fills the group's rules (release with sov_security_group_release). */
int sov_repo_sg_insert(sov_dbconn *c, const sov_security_group *g, sov_error *err);
int sov_repo_sg_rule_insert(sov_dbconn *c, const char *group_id, const char *tenant_id,
                            sov_sg_rule *r, sov_error *err);
int sov_repo_sg_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                    sov_security_group *ret, sov_error *err);
int sov_repo_sg_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                     const char *after, unsigned limit, sov_security_group_page *ret,
                     sov_error *err);
/* The group's rules in creation order (*ret to free()). */
int sov_repo_sg_rules(sov_dbconn *c, const char *group_id, sov_sg_rule **ret, size_t *n,
                      sov_error *err);
int sov_repo_sg_set_state(sov_dbconn *c, const char *id, const char *state,
                          const char *operation_id, sov_error *err);
/* Ports in the group and other groups whose rules name it: SOV_E_CONFLICT naming them. */
int sov_repo_sg_blockers(sov_dbconn *c, const char *id, const char *what, sov_error *err);
/* Remove one rule of the group; SOV_E_NOT_FOUND when it has none with that id. */
int sov_repo_sg_rule_delete(sov_dbconn *c, const char *group_id, const char *rule_id,
                            sov_error *err);

/* A network or a port as routers and public IPs see them (their own reads: part "sec" needs
 * no more of them). By id, or by name in the workspace; SOV_E_NOT_FOUND naming field. */
typedef struct sov_sec_network {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char workspace[SOV_NAME_MAX + 1];
    char name[SOV_NAME_MAX + 1];
    char region[SOV_NAME_MAX + 1];
    char state[16];
    char router_id[SOV_UUID_LEN + 1];   /* its router not deleting or deleted; "" none */
    char router_state[16];
} sov_sec_network;

typedef struct sov_sec_port {
    char id[SOV_UUID_LEN + 1];
    char name[SOV_NAME_MAX + 1];
    char state[16];
    char ip[SOV_IP_MAX];
    sov_sec_network network;
    char public_ip_id[SOV_UUID_LEN + 1];    /* a public IP attached to it; "" none */
    char public_ip_name[SOV_NAME_MAX + 1];
} sov_sec_port;

/* lock: the network's row FOR UPDATE (one router per network). */
int sov_repo_sec_network(sov_dbconn *c, const char *tenant_id, const char *workspace,
                         const char *id_or_name, const char *field, bool lock,
                         sov_sec_network *ret, sov_error *err);
int sov_repo_sec_port(sov_dbconn *c, const char *tenant_id, const char *workspace,
                      const char *id_or_name, const char *field, sov_sec_port *ret,
                      sov_error *err);

/* Routers. */
int sov_repo_router_insert(sov_dbconn *c, const sov_router *r, sov_error *err);
int sov_repo_router_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                        sov_router *ret, sov_error *err);
int sov_repo_router_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                         const char *id_or_name, sov_router *ret, sov_error *err);
int sov_repo_router_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                         const char *after, unsigned limit, sov_router_page *ret,
                         sov_error *err);
/* Public IPs attached to ports of the router's network: SOV_E_CONFLICT naming them. */
int sov_repo_router_blockers(sov_dbconn *c, const sov_router *r, const char *what,
                             sov_error *err);
/* The router to state, and its own address (kind 'router') with it. */
int sov_repo_router_set_state(sov_dbconn *c, const char *id, const char *state,
                              const char *operation_id, sov_error *err);

/* Public IP pools. */
int sov_repo_pool_insert(sov_dbconn *c, const sov_public_ip_pool *p, sov_error *err);
int sov_repo_pool_get(sov_dbconn *c, const char *region, const char *id_or_name, bool lock,
                      sov_public_ip_pool *ret, sov_error *err);
int sov_repo_pool_list(sov_dbconn *c, const char *region, const char *after, unsigned limit,
                       sov_public_ip_pool_page *ret, sov_error *err);
/* Another pool of p's region overlapping p's cidr: its name into ret ("" none). */
int sov_repo_pool_overlap(sov_dbconn *c, const sov_public_ip_pool *p, char *ret, size_t size,
                          sov_error *err);
/* Refused while addresses of it are held (SOV_E_CONFLICT naming them). */
int sov_repo_pool_delete(sov_dbconn *c, const sov_public_ip_pool *p, sov_error *err);
/* Whether the region has a pool at all. */
int sov_repo_pool_any(sov_dbconn *c, const char *region, bool *ret, sov_error *err);

/* The lowest free address of the region's pools (oldest pool first), under their row
 * locks: *found false when none is free. */
int sov_repo_public_ip_take(sov_dbconn *c, const char *region, char *pool_id,
                            char *address, bool *found, sov_error *err);
/* The address asked for, under the same locks: *pool_id "" when no pool of the region holds
 * it between its first and last address; *taken when a live public IP has it. */
int sov_repo_public_ip_take_address(sov_dbconn *c, const char *region, const char *address,
                                    char *pool_id, bool *taken, sov_error *err);

/* Public IPs. kind "ip" or "router" (router_id set). */
int sov_repo_public_ip_insert(sov_dbconn *c, const sov_public_ip *ip, const char *kind,
                              const char *router_id, sov_error *err);
/* Only kind 'ip': a router's own address is the router's. */
int sov_repo_public_ip_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                           sov_public_ip *ret, sov_error *err);
int sov_repo_public_ip_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                            const char *id_or_name, sov_public_ip *ret, sov_error *err);
int sov_repo_public_ip_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                            const char *after, unsigned limit, sov_public_ip_page *ret,
                            sov_error *err);
/* state, and the port (port_id NULL keeps it, "" none). */
int sov_repo_public_ip_set(sov_dbconn *c, const char *id, const char *state,
                           const char *port_id, const char *operation_id, sov_error *err);

/* ---- OVN (ovn_sync.c, ovn_repo.c, ovn_sb.c, net_ops.c, ovn_reconcile.c, register.c;
 * part "ovn") ---- */

/* Bring OVN to PostgreSQL's word for one scope, then move the scope's rows on (see the top
 * of this file), under the scope's advisory lock. SOV_E_UNAVAILABLE when OVN cannot be
 * reached (the operation retries). *ret_changed (may be NULL): whether OVN needed a change. */
int sov_ovn_sync_network(sov_ctx *ctx, const char *network_id, bool *ret_changed,
                         sov_error *err);
int sov_ovn_sync_sg(sov_ctx *ctx, const char *sg_id, bool *ret_changed, sov_error *err);
int sov_ovn_sync_router(sov_ctx *ctx, const char *router_id, bool *ret_changed,
                        sov_error *err);
/* Read the Southbound bindings of ports (ids) and record them (ports.up, ports.chassis):
 * *all_up whether every one is bound and up. Without ovn_sb configured: *all_up true. */
int sov_ovn_ports_up(sov_ctx *ctx, const char *const *port_ids, size_t n, bool *all_up,
                     sov_error *err);
/* The chassis (OVN system-id) of a host: its libvirt host UUID; "" when unknown (libvirt's
 * test driver), and the port is then bound wherever its interface appears. */
int sov_ovn_host_chassis(sov_dbconn *c, const char *host_id, char *ret, size_t size,
                         sov_error *err);

/* What the syncs read of a scope (ovn_repo.c): rows not in deleting nor deleted. */
typedef struct sov_ovn_subnet {
    char id[SOV_UUID_LEN + 1];
    char cidr[SOV_CIDR_MAX];
    char gateway[SOV_IP_MAX];
    char dns[SOV_NET_DNS_MAX][SOV_IP_MAX];
    size_t ndns;
} sov_ovn_subnet;

typedef struct sov_ovn_port {
    char id[SOV_UUID_LEN + 1];
    char subnet_id[SOV_UUID_LEN + 1];
    char mac[18];
    char ip[SOV_IP_MAX];
    char chassis[64];           /* the instance's host's chassis; "" unplugged or unknown */
    long ngroups;               /* live security groups it is in */
    char qos_rate[24];          /* bit/s of its network SKU (port's, subnet's or network's);
                                 * "" none set */
} sov_ovn_port;

typedef struct sov_ovn_net {
    bool live;
    char tenant_id[SOV_UUID_LEN + 1];
    char router_id[SOV_UUID_LEN + 1];   /* its live router, "" none */
    sov_ovn_subnet *subnets;
    size_t nsubnets;
    sov_ovn_port *ports;
    size_t nports;
} sov_ovn_net;

typedef struct sov_ovn_rule {
    char id[SOV_UUID_LEN + 1];
    char direction[8];
    char protocol[8];
    int port_min, port_max;     /* 0: any */
    char remote_cidr[SOV_CIDR_MAX];
    char remote_group_id[SOV_UUID_LEN + 1];
} sov_ovn_rule;

typedef struct sov_ovn_sg {
    bool live;
    char tenant_id[SOV_UUID_LEN + 1];
    sov_ovn_rule *rules;
    size_t nrules;
    char (*members)[SOV_UUID_LEN + 1];  /* live ports in it */
    size_t nmembers;
} sov_ovn_sg;

typedef struct sov_ovn_fip {
    char address[SOV_IP_MAX];
    char ip[SOV_IP_MAX];        /* the port's */
} sov_ovn_fip;

typedef struct sov_ovn_router {
    bool live;
    char tenant_id[SOV_UUID_LEN + 1];
    char network_id[SOV_UUID_LEN + 1];
    bool snat;
    /* its own public address ("" none: no gateway port, no NAT) and its pool */
    char external_ip[SOV_IP_MAX];
    char pool_id[SOV_UUID_LEN + 1];
    char pool_cidr[SOV_CIDR_MAX];
    char pool_gateway[SOV_IP_MAX];
    char physical_network[64];
    sov_ovn_subnet *subnets;
    size_t nsubnets;
    sov_ovn_fip *fips;
    size_t nfips;
    char (*chassis)[64];        /* chassis of the region's hosts that are up, by name */
    size_t nchassis;
} sov_ovn_router;

void sov_ovn_net_release(sov_ovn_net *n);
void sov_ovn_sg_release(sov_ovn_sg *g);
void sov_ovn_router_release(sov_ovn_router *r);

/* Take the transaction's advisory lock on a scope ("network:<id>", "sg:<id>", ...). */
int sov_ovn_repo_lock(sov_dbconn *c, const char *scope, sov_error *err);
/* This deployment's control_plane id (external_ids sov:cp). */
int sov_ovn_repo_cp(sov_dbconn *c, char ret[SOV_UUID_LEN + 1], sov_error *err);
int sov_ovn_repo_net(sov_dbconn *c, const char *id, sov_ovn_net *ret, sov_error *err);
int sov_ovn_repo_sg(sov_dbconn *c, const char *id, sov_ovn_sg *ret, sov_error *err);
int sov_ovn_repo_router(sov_dbconn *c, const char *id, sov_ovn_router *ret, sov_error *err);
/* Move the scope's rows on after a sync (see the top of this file); deleted rows give their
 * quota back and are audited with ctx. */
int sov_ovn_repo_net_settle(sov_dbconn *c, sov_ctx *ctx, const char *id, sov_error *err);
int sov_ovn_repo_sg_settle(sov_dbconn *c, sov_ctx *ctx, const char *id, sov_error *err);
int sov_ovn_repo_router_settle(sov_dbconn *c, sov_ctx *ctx, const char *id, sov_error *err);
/* A public IP's own move when no router scope holds it (not attached, or no router). */
int sov_ovn_repo_fip_settle(sov_dbconn *c, sov_ctx *ctx, const char *id, sov_error *err);

/* Which scopes an operation's resource belongs to (net_ops.c): ids into the buffers ("" none). */
typedef struct sov_ovn_scopes {
    char network_id[SOV_UUID_LEN + 1];
    char router_id[SOV_UUID_LEN + 1];
    char sg_id[SOV_UUID_LEN + 1];
    char fip_id[SOV_UUID_LEN + 1];  /* a public IP no router scope holds: settled alone */
    bool all_sgs_of_tenant;         /* a port's groups may have changed */
    char tenant_id[SOV_UUID_LEN + 1];
} sov_ovn_scopes;
int sov_ovn_repo_scopes(sov_dbconn *c, const char *resource_type, const char *id,
                        sov_ovn_scopes *ret, sov_error *err);
/* The tenant's live security groups (ids), *ret to free(). */
int sov_ovn_repo_tenant_sgs(sov_dbconn *c, const char *tenant_id,
                            char (**ret)[SOV_UUID_LEN + 1], size_t *n, sov_error *err);
/* Every live scope id of a kind ("network", "sg", "router"), *ret to free(). */
int sov_ovn_repo_live(sov_dbconn *c, const char *kind, char (**ret)[SOV_UUID_LEN + 1],
                      size_t *n, sov_error *err);
/* Whether a scope's resource is live (not deleted; a deleting one still is: its op runs). */
int sov_ovn_repo_is_live(sov_dbconn *c, const char *kind, const char *id, bool *ret,
                         sov_error *err);
/* Live ports plugged into an instance (ids), *ret to free(). */
int sov_ovn_repo_plugged_ports(sov_dbconn *c, char (**ret)[SOV_UUID_LEN + 1], size_t *n,
                               sov_error *err);
/* Record Southbound bindings: ports.up and ports.chassis. */
int sov_ovn_repo_port_up(sov_dbconn *c, const char *id, bool up, const char *chassis,
                         sov_error *err);
/* The resource of an operation to error with reason (kind: its resource_type). */
int sov_ovn_repo_set_error(sov_dbconn *c, const char *resource_type, const char *id,
                           const char *reason, sov_error *err);

/* The fault point right before a sync's OVSDB transaction (include/sov/fault.h). */
#define SOV_OVN_FAULT_BEFORE_TRANSACT "network.sync-before-ovn"

/* The reconciler's pass (ovn_reconcile.c). */
int sov_ovn_reconcile(sov_ctx *ctx, unsigned *ret_repairs, sov_error *err);
/* Sync any scope by its tag ("network:<id>", ...; a tag of no kind we know: its rows go). */
int sov_ovn_sync_scope(sov_ctx *ctx, const char *scope, bool *ret_changed, sov_error *err);

/* ---- instances' NICs (instance_nics.c, port_plug.c; part "plug") ---- */

/* The instance hook (sov_instance_hook "network"), the domain contributor ("network.nics":
 * each port an OVS NIC on br-int, interfaceid the port id) and the port attach/detach
 * workers; registered by register.c. */
extern const sov_instance_hook sov_net_instance_hook;
int sov_net_nics_contrib(sov_ctx *ctx, const sov_instance *inst, sov_domain_spec *spec,
                         sov_error *err);
int sov_net_port_attach_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_net_port_detach_op(sov_op_run *run, const sov_op *op, sov_error *err);

/* ---- operation kinds (net_ops.c; part "ovn") ----
 * resource_type of each: "network", "subnet", "port", "security_group", "router",
 * "public_ip"; kinds: "<resource_type>.create", ".update", ".delete" (the scope of the
 * resource synced), "port.attach", "port.detach" (part "plug"), "public_ip.attach",
 * "public_ip.detach" (the router's scope). */
int sov_net_sync_op(sov_op_run *run, const sov_op *op, sov_error *err);
/* What sov_net_sync_op does for a resource (resource_type as above), outside an operation:
 * for the instance hook (part "plug"), which syncs the ports it made within the instance
 * create's worker (a port: its network, then its tenant's groups, then its router). */
int sov_net_sync_resource(sov_ctx *ctx, const char *resource_type, const char *id,
                          sov_error *err);
/* A failed operation puts its resource in error, with the reason. */
int sov_net_op_failed(sov_op_run *run, const sov_op *op, const char *reason, sov_error *err);

/* ---- migrations (migrate.c) ---- */

/* The network hook's migration phases (sov_instance_hook.migrate, include/sov/compute.h):
 * the instance's ports' logical switch ports follow it (requested-chassis "source,target"
 * during a live migration, the target's after the move, the source's after a failure). */
int sov_net_migrate(sov_dbconn *c, sov_ctx *ctx, sov_migrate_phase phase,
                    const sov_instance_move *m, sov_error *err);

/* Added by part "net" of issue 20 (SECA): network SKUs and what SECA networks and subnets
 * name (skus_repo.c). sov_repo_sku_get: SOV_E_NOT_FOUND naming field. */
int sov_repo_sku_list(sov_dbconn *c, sov_network_sku **ret, size_t *n, sov_error *err);
int sov_repo_sku_get(sov_dbconn *c, const char *name, const char *field, sov_network_sku *ret,
                     sov_error *err);
int sov_repo_network_set_sku(sov_dbconn *c, const char *network_id, const char *sku,
                             sov_error *err);
int sov_repo_port_set_sku(sov_dbconn *c, const char *port_id, const char *sku,
                          sov_error *err);
/* A port's own SKU name ("" none). */
int sov_repo_port_sku(sov_dbconn *c, const char *port_id, char *ret, size_t size,
                      sov_error *err);
int sov_repo_subnet_set_route_table(sov_dbconn *c, const char *subnet_id,
                                    const char *route_table, sov_error *err);
/* The name of the first live subnet of the network using route_table ("" none). */
int sov_repo_route_table_user(sov_dbconn *c, const char *network_id, const char *route_table,
                              char *ret, size_t size, sov_error *err);
int sov_repo_subnet_set_seca(sov_dbconn *c, const char *subnet_id, const char *route_table,
                             const char *sku, sov_error *err);
/* The SKU names recorded for a network, a subnet and a port ("" none), and a subnet's route
 * table. */
int sov_repo_sku_names(sov_dbconn *c, const char *network_id, const char *subnet_id,
                       char *network_sku, char *subnet_sku, size_t size, char *route_table,
                       size_t rt_size, sov_error *err);

#endif
