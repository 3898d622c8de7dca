/* instance_nics.c: instances' NICs on tenant networks (part "plug"). compute/ knows no
 * network: it runs this hook (sov_instance_hook "network", include/sov/compute.h) and this
 * domain contributor, and an instance whose nat_nic is false gets its NICs only from here.
 *
 *   prepare:  tenant networks off (no ovn_nb): nothing, the instance keeps compute's NAT NIC.
 *             On: the hook gives the NICs (prep->nics). Each requested NIC is a subnet (a new
 *             port, deleted with the instance) or an available port of the workspace; none
 *             requested: one NIC on the workspace's default subnet, whose network, subnet and
 *             security group are planned here when the workspace has no default network
 *             yet. Every NIC lies in one region, which the instance is placed in.
 *   commit:   the planned defaults (no operation of their own: the instance's worker syncs
 *             them through the contributor), the new ports plugged in at their device index,
 *             the given ports plugged in (updating: the sync makes them in-use). A failure
 *             rolls the whole create back: no port, address or default is left half-made.
 *   deleted:  the ports the instance made are deleted ("port.delete"), the others unplugged
 *             and available again ("port.update" takes requested-chassis away).
 *   started:  the ports are up in OVN's Southbound (bounded; SOV_OP_LATER meanwhile).
 *   contrib:  each port an OVS NIC on br-int (interfaceid: the port id), after its scopes
 *             (network, the tenant's groups, router) were synced, so the logical ports
 *             exist before the domain starts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "network_int.h"
#include "sov/audit.h"
#include "sov/log.h"

/* The overlay's MTU: Geneve takes 58 bytes of the 1500 the hosts' links carry. */
#define NIC_MTU 1442u
#define PORT_UP_POLL_MS 100

static const char DEFAULT_NAME[] = "default";
static const char DEFAULT_NETWORK_CIDR[] = "10.0.0.0/16";
static const char DEFAULT_SUBNET_CIDR[] = "10.0.0.0/24";

/* One NIC as prepare resolved it. */
typedef struct nic_plan {
    bool existing;                          /* a given port (else a new port on subnet) */
    char port_id[SOV_UUID_LEN + 1];
    char subnet_id[SOV_UUID_LEN + 1];       /* "" the default subnet, made in commit */
    const char *ip;                         /* borrowed from the request */
    char groups[SOV_NET_SG_MAX][SOV_UUID_LEN + 1];
    size_t ngroups;
    bool default_group;                     /* the workspace's default group (maybe new) */
} nic_plan;

/* What prepare found, for commit. */
typedef struct hook_state {
    nic_plan nics[SOV_INSTANCE_NICS_MAX];
    size_t n;
    bool make_network, make_subnet, make_group;     /* the workspace's defaults to make */
    char network_id[SOV_UUID_LEN + 1];      /* the default network, when it exists */
    char group_id[SOV_UUID_LEN + 1];        /* the default group, when it exists */
    char region[SOV_NAME_MAX + 1];
} hook_state;

static const char *
ws_of(const char *workspace)
{
    return workspace && *workspace ? workspace : "default";
}

/* The region of a network (by id), for the one-region rule. */
static int
network_region(sov_dbconn *c, const char *tenant_id, const char *network_id, char *ret,
               size_t size, sov_error *err)
{
    sov_network n;

    if (sov_repo_network_get(c, tenant_id, network_id, false, &n, err) < 0)
        return -1;
    snprintf(ret, size, "%s", n.region);
    return 0;
}

/* Every NIC in one region: the first one's decides. */
static int
same_region(hook_state *s, const char *region, size_t i, sov_error *err)
{
    if (!s->region[0]) {
        snprintf(s->region, sizeof(s->region), "%s", region);
        return 0;
    }
    if (strcmp(s->region, region) != 0)
        return sov_error_invalid(err, "nics", "every NIC of an instance is in one region: "
                                 "nics[%zu] is in '%s', an earlier one in '%s'", i, region,
                                 s->region);
    return 0;
}

static bool
usable_state(const char *state)
{
    return strcmp(state, "deleting") != 0 && strcmp(state, "deleted") != 0 &&
           strcmp(state, "error") != 0;
}

/* The workspace's default group, or the plan to make it. */
static int
default_group(sov_dbconn *c, const char *tenant_id, const char *workspace, hook_state *s,
              sov_error *err)
{
    bool found = false;

    if (s->group_id[0] || s->make_group)
        return 0;
    if (sov_repo_sg_default(c, tenant_id, workspace, s->group_id, &found, err) < 0)
        return -1;
    s->make_group = !found;
    return 0;
}

/* No NIC asked for: the default subnet of the default network, planned when missing. */
static int
prepare_default(sov_dbconn *c, const char *tenant_id, const char *workspace,
                const char *want_region, hook_state *s, sov_error *err)
{
    nic_plan *p = &s->nics[0];
    sov_network net;
    sov_subnet sub;
    bool found = false;

    s->n = 1;
    p->default_group = true;
    if (default_group(c, tenant_id, workspace, s, err) < 0 ||
        sov_repo_network_default(c, tenant_id, workspace, &net, &found, err) < 0)
        return -1;
    if (!found) {
        /* Made where the instance will be: the region it asks for or its image is in (the
         * policy checked); with neither, the first allowed region with hosts up. */
        s->make_network = s->make_subnet = true;
        return sov_net_region(c, tenant_id, want_region[0] ? want_region : NULL, "region",
                              s->region, sizeof(s->region), err);
    }
    if (want_region[0] && strcmp(want_region, net.region) != 0)
        return sov_error_invalid(err, "region", "the workspace's default network '%s' is in "
                                 "region '%s': create the instance there, or give nics on a "
                                 "network of region '%s'", net.name, net.region, want_region);
    snprintf(s->network_id, sizeof(s->network_id), "%s", net.id);
    snprintf(s->region, sizeof(s->region), "%s", net.region);
    if (sov_repo_subnet_find(c, tenant_id, workspace, DEFAULT_NAME, "nics", &sub, err) < 0) {
        if (err->code != SOV_E_NOT_FOUND)
            return -1;
        sov_error_clear(err);
        s->make_subnet = true;
        return 0;
    }
    if (strcmp(sub.network_id, net.id) != 0 || !usable_state(sub.state))
        return sov_error_set(err, SOV_E_CONFLICT, "the workspace's default network '%s' has "
                             "no usable subnet 'default': give nics", net.name);
    snprintf(p->subnet_id, sizeof(p->subnet_id), "%s", sub.id);
    return 0;
}

/* nics[i] = {subnet, ip?, security_groups?}. */
static int
prepare_subnet_nic(sov_dbconn *c, const char *tenant_id, const char *workspace,
                   const sov_instance_nic_args *a, size_t i, hook_state *s, sov_error *err)
{
    nic_plan *p = &s->nics[i];
    char field[64], region[SOV_NAME_MAX + 1];
    sov_subnet sub;

    snprintf(field, sizeof(field), "nics[%zu].subnet", i);
    if (sov_repo_subnet_find(c, tenant_id, workspace, a->subnet, field, &sub, err) < 0)
        return -1;
    if (!usable_state(sub.state))
        return sov_error_set(err, SOV_E_CONFLICT, "subnet '%s' is %s", sub.name, sub.state);
    snprintf(p->subnet_id, sizeof(p->subnet_id), "%s", sub.id);
    p->ip = a->ip;
    if (a->has_security_groups) {
        if (a->nsecurity_groups > SOV_NET_SG_MAX)
            return sov_error_invalid(err, "nics", "nics[%zu].security_groups: at most %d "
                                     "groups", i, SOV_NET_SG_MAX);
        snprintf(field, sizeof(field), "nics[%zu].security_groups", i);
        for (size_t k = 0; k < a->nsecurity_groups; k++)
            if (sov_repo_sg_find(c, tenant_id, workspace, a->security_groups[k], field,
                                 p->groups[k], err) < 0)
                return -1;
        p->ngroups = a->nsecurity_groups;
    } else {
        p->default_group = true;
        if (default_group(c, tenant_id, workspace, s, err) < 0)
            return -1;
    }
    return network_region(c, tenant_id, sub.network_id, region, sizeof(region), err) < 0
               ? -1 : same_region(s, region, i, err);
}

/* nics[i] = {port}: an available port of the workspace, plugged in nowhere. */
static int
prepare_port_nic(sov_dbconn *c, const char *tenant_id, const char *workspace,
                 const sov_instance_nic_args *a, size_t i, hook_state *s, sov_error *err)
{
    nic_plan *p = &s->nics[i];
    char field[64], region[SOV_NAME_MAX + 1];
    sov_port found, port;

    snprintf(field, sizeof(field), "nics[%zu].port", i);
    if (a->ip || a->has_security_groups)
        return sov_error_invalid(err, field, "nics[%zu]: ip and security_groups go with a "
                                 "subnet; a port keeps its own", i);
    if (sov_repo_port_find(c, tenant_id, workspace, a->port, field, &found, err) < 0 ||
        sov_repo_port_get(c, tenant_id, found.id, true, &port, err) < 0)
        return -1;
    if (port.instance_id[0] || strcmp(port.state, "available") != 0) {
        sov_error_set(err, SOV_E_CONFLICT, "port '%s' is %s%s%s, not available", port.name,
                      port.state, port.instance_id[0] ? " in instance " : "",
                      port.instance_name);
        snprintf(err->field, sizeof(err->field), "%s", field);
        return -1;
    }
    for (size_t k = 0; k < i; k++)
        if (s->nics[k].existing && strcmp(s->nics[k].port_id, port.id) == 0)
            return sov_error_invalid(err, field, "port '%s' is given twice", port.name);
    p->existing = true;
    snprintf(p->port_id, sizeof(p->port_id), "%s", port.id);
    return network_region(c, tenant_id, port.network_id, region, sizeof(region), err) < 0
               ? -1 : same_region(s, region, i, err);
}

static int
prepare(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id, const char *workspace,
        const void *ext, sov_instance_prep *prep, sov_error *err)
{
    const sov_instance_network_args *a = ext;
    const char *ws = ws_of(workspace);
    hook_state *s;

    if (!sov_network_enabled(ctx->cfg)) {
        /* The request asks for what this deployment has not: its own mistake to fix (a
         * 503 would hide the reason). */
        if (a && a->has_nics)
            return sov_error_invalid(err, "nics", "tenant networks need OVN: ovn_nb is not "
                                     "configured, so instances are on their host's NAT "
                                     "network; leave nics out");
        return 0;
    }
    if (a && a->has_nics && a->nnics > SOV_INSTANCE_NICS_MAX)
        return sov_error_invalid(err, "nics", "at most %d NICs", SOV_INSTANCE_NICS_MAX);
    if (!(s = calloc(1, sizeof(*s))))
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    prep->state = s;
    prep->nics = true;
    if (!a || !a->has_nics) {
        if (prepare_default(c, tenant_id, ws, prep->want_region, s, err) < 0)
            return -1;
    } else {
        for (size_t i = 0; i < a->nnics; i++) {
            const sov_instance_nic_args *n = &a->nics[i];
            bool sub = n->subnet && *n->subnet, port = n->port && *n->port;
            char field[64];

            snprintf(field, sizeof(field), "nics[%zu]", i);
            if (sub == port)
                return sov_error_invalid(err, field, "nics[%zu] needs a subnet or a port, "
                                         "not both", i);
            if ((sub ? prepare_subnet_nic : prepare_port_nic)(c, tenant_id, ws, n, i, s,
                                                              err) < 0)
                return -1;
            s->n = i + 1;
        }
    }
    snprintf(prep->region, sizeof(prep->region), "%s", s->region);
    return 0;
}

/* The workspace's default network, subnet and group, as prepare planned them. */
static int
commit_defaults(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst, hook_state *s,
                sov_error *err)
{
    if (s->make_network) {
        const sov_network_create_args na = {
            .workspace = inst->workspace, .name = DEFAULT_NAME, .cidr = DEFAULT_NETWORK_CIDR,
            .region = s->region };
        sov_network net;

        if (sov_net_network_create_tx(c, ctx, inst->tenant_id, &na, true, &net, NULL,
                                      err) < 0)
            return -1;
        snprintf(s->network_id, sizeof(s->network_id), "%s", net.id);
    }
    if (s->make_subnet) {
        const sov_subnet_create_args sa = {
            .workspace = inst->workspace, .name = DEFAULT_NAME, .network = s->network_id,
            .cidr = DEFAULT_SUBNET_CIDR };
        sov_subnet sub;

        if (sov_net_subnet_create_tx(c, ctx, inst->tenant_id, &sa, &sub, NULL, err) < 0)
            return -1;
        snprintf(s->nics[0].subnet_id, sizeof(s->nics[0].subnet_id), "%s", sub.id);
    }
    if (s->make_group) {
        const sov_security_group_create_args ga = {
            .workspace = inst->workspace, .name = DEFAULT_NAME };
        sov_security_group g = { 0 };
        int rc = sov_net_sg_create_tx(c, ctx, inst->tenant_id, &ga, true, &g, NULL, err);

        snprintf(s->group_id, sizeof(s->group_id), "%s", g.id);
        sov_security_group_release(&g);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int
commit_nic(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst, const hook_state *s,
           size_t i, sov_error *err)
{
    static const char *const from[] = { "available", NULL };
    const nic_plan *p = &s->nics[i];
    const char *groups[SOV_NET_SG_MAX];
    size_t ng = 0;
    sov_port port;

    if (p->existing)
        return sov_repo_port_plug(c, p->port_id, inst->id, (int) i, err) < 0 ||
               sov_repo_port_set_state(c, p->port_id, from, "updating", "", NULL, err) < 0
                   ? -1 : 0;
    if (p->default_group)
        groups[ng++] = s->group_id;
    for (size_t k = 0; k < p->ngroups; k++)
        groups[ng++] = p->groups[k];
    {
        const sov_port_create_args pa = {
            .workspace = inst->workspace, .subnet = p->subnet_id, .ip = p->ip,
            .security_groups = groups, .nsecurity_groups = ng };
        const sov_net_port_owner owner = {
            .instance_id = inst->id, .device_index = (int) i, .created_by_instance = true };

        if (sov_net_port_create_tx(c, ctx, inst->tenant_id, &pa, &owner, &port, NULL,
                                   err) < 0) {
            /* The request's words: nics[i].ip, not the port's "ip". */
            if (err->field[0] && strchr(err->field, '[') == NULL) {
                char f[64];
                snprintf(f, sizeof(f), "nics[%zu].%.40s", i, err->field);
                snprintf(err->field, sizeof(err->field), "%s", f);
            }
            return -1;
        }
    }
    return 0;
}

static int
commit(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst, const void *ext,
       sov_instance_prep *prep, const sov_op *op, sov_error *err)
{
    hook_state *s = prep->state;

    (void) ext;
    (void) op;
    if (!s)
        return 0;
    if (commit_defaults(c, ctx, inst, s, err) < 0)
        return -1;
    for (size_t i = 0; i < s->n; i++)
        if (commit_nic(c, ctx, inst, s, i, err) < 0)
            return -1;
    return 0;
}

static void
release(sov_instance_prep *prep)
{
    free(prep->state);
    prep->state = NULL;
}

/* Queue kind for port id in the caller's transaction; the operation a commit logs stays the
 * caller's (as storage's hook does). */
static int
queue(sov_dbconn *c, sov_ctx *ctx, const sov_port *p, const char *kind, sov_op *ret,
      sov_error *err)
{
    const struct sov_op *outer = ctx->op_queued;
    int rc = sov_op_enqueue(c, ctx, p->tenant_id, kind, "port", p->id, "", ret, err);

    ctx->op_queued = outer;
    return rc;
}

/* Give back what the instance held: the ports it made go, the others are free again. */
static int
deleted(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst, const sov_op *op,
        sov_error *err)
{
    sov_autofree sov_port *ports = NULL;
    size_t n = 0;

    (void) op;
    if (inst->nat_nic)
        return 0;
    if (sov_repo_ports_of_instance(c, inst->id, &ports, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const sov_port *p = &ports[i];
        sov_op q;

        if (strcmp(p->created_by_instance, inst->id) == 0) {
            if (queue(c, ctx, p, "port.delete", &q, err) < 0 ||
                sov_repo_port_set_state(c, p->id, NULL, "deleting",
                                        "deleted with the instance that made it", q.id,
                                        err) < 0 ||
                sov_audit_append(c, ctx, p->tenant_id, "port", p->id, SOV_OUTCOME_ACCEPTED,
                                 err) < 0)
                return -1;
            continue;
        }
        /* Kept: unplugged; the sync takes its requested-chassis away and makes it
         * available. */
        if (sov_repo_port_plug(c, p->id, NULL, -1, err) < 0 ||
            queue(c, ctx, p, "port.update", &q, err) < 0 ||
            sov_repo_port_set_state(c, p->id, NULL, "updating", "", q.id, err) < 0)
            return -1;
    }
    return 0;
}

/* The instance's ports (ids) into ids; *n how many. */
static int
port_ids(sov_ctx *ctx, const char *instance_id, char ids[][SOV_UUID_LEN + 1], size_t max,
         size_t *n, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autofree sov_port *ports = NULL;
    size_t np = 0;

    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_ports_of_instance(c, instance_id, &ports, &np, err) < 0)
        return -1;
    *n = np < max ? np : max;
    for (size_t i = 0; i < *n; i++)
        snprintf(ids[i], SOV_UUID_LEN + 1, "%s", ports[i].id);
    return 0;
}

/* The domain runs: its ports up in the Southbound (ovn-controller bound them on the host's
 * chassis), or SOV_OP_LATER after ovn_port_up_timeout_s: the worker looks again. */
static int
started(sov_ctx *ctx, const sov_instance *inst, const sov_op *op, sov_error *err)
{
    char ids[SOV_INSTANCE_NICS_MAX * 2][SOV_UUID_LEN + 1];
    const char *ptrs[SOV_INSTANCE_NICS_MAX * 2];
    size_t n = 0;
    double deadline;
    bool up = false;

    (void) op;
    if (inst->nat_nic || !sov_network_enabled(ctx->cfg))
        return 0;
    if (port_ids(ctx, inst->id, ids, SOV_INSTANCE_NICS_MAX * 2, &n, err) < 0)
        return -1;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        ptrs[i] = ids[i];
    deadline = sov_net_now_ms() + 1000.0 * ctx->cfg->ovn_port_up_timeout_s;
    for (;;) {
        if (sov_ovn_ports_up(ctx, ptrs, n, &up, err) < 0)
            return -1;
        if (up)
            return 0;
        if (sov_net_now_ms() >= deadline)
            break;
        nanosleep(&(struct timespec) { 0, PORT_UP_POLL_MS * 1000000L }, NULL);
    }
    sov_error_set(err, SOV_E_UNAVAILABLE, "the instance's ports are not up in OVN yet");
    sov_error_detail(err, "waited %u s for the Southbound bindings",
                     ctx->cfg->ovn_port_up_timeout_s);
    return SOV_OP_LATER;
}

/* Bring OVN to the ports' scopes (idempotent), so every logical port exists before the
 * domain starts: for the first port of each network, what its operation would sync (part
 * "ovn"'s sov_net_sync_resource: the network, the tenant's groups, whose rules may name the
 * new ports' groups, and the network's router). */
static int
sync_scopes(sov_ctx *ctx, const sov_port *ports, size_t n, sov_error *err)
{
    for (size_t i = 0; i < n; i++) {
        bool first = true;

        for (size_t k = 0; k < i && first; k++)
            first = strcmp(ports[k].network_id, ports[i].network_id) != 0;
        if (first && sov_net_sync_resource(ctx, "port", ports[i].id, err) < 0)
            return -1;
    }
    return 0;
}

int
sov_net_nics_contrib(sov_ctx *ctx, const sov_instance *inst, sov_domain_spec *spec,
                     sov_error *err)
{
    sov_autofree sov_port *ports = NULL;
    size_t n = 0;

    if (inst->nat_nic)
        return 0;
    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_ports_of_instance(c, inst->id, &ports, &n, err) < 0)
            return -1;
    }
    if (n > 0 && sync_scopes(ctx, ports, n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const sov_domain_nic nic = {
            .kind = SOV_NIC_OVS, .interface_id = ports[i].id, .mac = ports[i].mac,
            .mtu = NIC_MTU };
        if (sov_domain_spec_add_nic(spec, &nic, err) < 0)
            return -1;
    }
    return 0;
}

/* Part "ovn"'s register.c adds it (sov_instance_hook_add). */
const sov_instance_hook sov_net_instance_hook = {
    .name = "network", .prepare = prepare, .commit = commit, .release = release,
    .deleted = deleted, .started = started, .migrate = sov_net_migrate,
};
