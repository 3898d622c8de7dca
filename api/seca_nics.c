/* seca_nics.c: SECA NICs, our ports (sov_port_*), seca.network part two (seca_netsec.c).
 * A NIC's skuRef sizes its port (sov_port_create_args.sku: the logical switch port's
 * qos_max_rate); its addresses and skuRef as given are kept beside it (object "nic"). A NIC
 * holds one IPv4 address, at most 8 security groups and one public IP, which needs the
 * network to take inbound traffic: a network whose route tables reach the internet only
 * through egress-only gateways takes none (sov_network_inbound_allowed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seca_netsec.h"

static int
nic_load(sov_request *req, const char *name, sov_port *p, sov_error *err)
{
    char id[SOV_UUID_LEN + 1];

    if (sov_port_resolve(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req), name, id,
                         err) < 0 ||
        sov_port_get(&req->ctx, sov_seca_tenant_id(req), id, p, err) < 0)
        return -1;
    if (strcmp(p->workspace, sov_seca_workspace(req)) != 0 || strcmp(p->name, name) != 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "NIC '%s' does not exist", name);
    return 0;
}

/* The public IP attached to port_id (its name into ret, "" none). */
static int
nic_public_ip(sov_request *req, const char *port_id, char *ret, sov_error *err)
{
    char after[SOV_TEXT_MAX * 4 + 1] = "";

    ret[0] = '\0';
    do {
        sov_public_ip_page page = { 0 };
        if (sov_public_ip_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                               after[0] ? after : NULL, SOV_SECA_PAGE, &page, err) < 0)
            return -1;
        for (size_t i = 0; i < page.n; i++)
            if (strcmp(page.items[i].port_id, port_id) == 0 &&
                strcmp(page.items[i].state, "detaching") != 0)
                snprintf(ret, SOV_NAME_MAX + 1, "%s", page.items[i].name);
        snprintf(after, sizeof(after), "%s", page.next_after);
        free(page.items);
    } while (after[0]);
    return 0;
}

static json_t *
nic_render(sov_request *req, const sov_port *p, sov_error *err)
{
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta m = { .labels = NULL };
    sov_autoptr(json_t) side = sov_seca_side_get(req, SOV_SECA_OBJ_NIC, p->name, p->id);
    char pip[SOV_NAME_MAX + 1];
    json_t *spec, *status, *groups = json_array(), *pips = json_array();
    sov_network net;

    if (sov_network_get(&req->ctx, p->tenant_id, p->network_id, &net, err) < 0 ||
        nic_public_ip(req, p->id, pip, err) < 0 ||
        sov_seca_meta_get(&req->ctx, p->id, sov_seca_t_nic.kind, sov_seca_state_of(p->state),
                          p->created_at, &m, err) < 0) {
        json_decref(groups);
        json_decref(pips);
        return NULL;
    }
    for (size_t i = 0; i < p->nsecurity_groups; i++) {
        SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };
        sov_error ignore = SOV_ERROR_INIT;
        if (sov_security_group_get(&req->ctx, p->tenant_id, p->security_groups[i], &g,
                                   &ignore) == 0)
            json_array_append_new(groups, sov_seca_ref_json(req, &sov_seca_t_sg, g.workspace,
                                                            NULL, g.name));
    }
    if (pip[0])
        json_array_append_new(pips, sov_seca_ref_json(req, &sov_seca_t_pip, p->workspace, NULL,
                                                      pip));
    spec = json_pack("{s:o, s:o, s:O, s:O}", "subnetRef",
                     sov_seca_ref_json(req, &sov_seca_t_subnet, p->workspace, p->network_name,
                                       p->subnet_name),
                     "addresses", side && json_object_get(side, "addresses")
                                      ? json_deep_copy(json_object_get(side, "addresses"))
                                      : json_pack("[s]", p->ip),
                     "securityGroupRefs", groups, "publicIpRefs", pips);
    if (side && json_object_get(side, "skuRef"))
        json_object_set(spec, "skuRef", json_object_get(side, "skuRef"));
    status = json_pack("{s:[s], s:s, s:o}", "addresses", p->ip, "macAddress", p->mac,
                       "publicIpRefs", pips);
    json_decref(groups);
    return sov_seca_resource(req, &sov_seca_t_nic, p->workspace, NULL, p->name, net.region, &m,
                             spec, status, sov_api_location_json(&net.residency,
                                                                 net.residency_since));
}

static enum MHD_Result
nic_reply(sov_request *req, unsigned status, const char *port_id)
{
    sov_error err = SOV_ERROR_INIT;
    sov_port p;

    if (sov_port_get(&req->ctx, sov_seca_tenant_id(req), port_id, &p, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_answer(req, status, nic_render(req, &p, &err), &err, false);
}

enum MHD_Result
sov_seca_network_nics_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_port p;

    if (nic_load(req, sov_seca_name(req), &p, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_answer(req, MHD_HTTP_OK, nic_render(req, &p, &err), &err, false);
}

static json_t *
nic_item(sov_request *req, const void *p, sov_error *err)
{
    return nic_render(req, p, err);
}

static int
nic_page(sov_request *req, sov_seca_list *l, const char *after, char *next,
         size_t next_size, void *data, sov_error *err)
{
    sov_port_page page = { 0 };
    int rc;

    (void) data;
    if (sov_port_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req), NULL, NULL,
                      NULL, NULL, after, SOV_SECA_PAGE, &page, err) < 0)
        return -1;
    rc = sov_seca_list_add_each(req, l, page.items, page.n, sizeof(*page.items), nic_item, err);
    snprintf(next, next_size, "%s", page.next_after);
    free(page.items);
    return rc;
}

enum MHD_Result
sov_seca_network_nics_list(sov_request *req)
{
    return sov_seca_list_walk(req, &sov_seca_t_nic, nic_page, NULL);
}

/* A NIC's spec as checked: what the port takes. */
typedef struct nic_spec {
    char subnet_id[SOV_UUID_LEN + 1];
    char subnet_name[SOV_SECA_NAME_MAX + 1];
    char network_id[SOV_UUID_LEN + 1];
    char network_name[SOV_NAME_MAX + 1];
    char router_id[SOV_UUID_LEN + 1];           /* of the subnet's network; "" none */
    char ip[SOV_IP_MAX];                        /* "" any */
    const char *groups[SOV_NET_SG_MAX];
    char group_names[SOV_NET_SG_MAX][SOV_SECA_NAME_MAX + 1];
    size_t ngroups;
    bool has_groups;
    char pip_id[SOV_UUID_LEN + 1];              /* "" none */
    char pip_name[SOV_SECA_NAME_MAX + 1];
    bool inbound;                               /* the network takes inbound traffic */
    json_t *sku;                                /* borrowed; NULL none */
    char sku_name[SOV_SECA_NAME_MAX + 1];       /* "" none */
} nic_spec;

/* One IPv4 address in dotted quad, strictly. */
static bool
ipv4_text(const char *s)
{
    unsigned parts = 0;

    while (*s) {
        unsigned v = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4) {
            v = v * 10 + (unsigned) (*s++ - '0');
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255)
            return false;
        parts++;
        if (*s == '.' && parts < 4)
            s++;
        else if (*s)
            return false;
    }
    return parts == 4;
}

/* spec.subnetRef: a subnet of the workspace; its network's router. */
static int
nic_subnet_read(sov_request *req, const json_t *ref, nic_spec *ns, sov_error *err)
{
    const char *tenant = sov_seca_tenant_id(req), *ws = sov_seca_workspace(req);
    sov_seca_ref r;
    sov_subnet s;
    sov_network net;

    if (!ref || json_is_null(ref))
        return sov_seca_bad(err, "/spec/subnetRef", "is required: the subnet the NIC is on");
    if (sov_seca_ref_here(req, ref, "subnets", "/spec/subnetRef", &r, err) < 0)
        return -1;
    if (sov_subnet_resolve(&req->ctx, tenant, ws, r.name, ns->subnet_id, err) < 0 ||
        sov_subnet_get(&req->ctx, tenant, ns->subnet_id, &s, err) < 0 ||
        strcmp(s.workspace, ws) != 0 || strcmp(s.name, r.name) != 0 ||
        (r.network[0] && strcmp(s.network_name, r.network) != 0)) {
        if (err->code == SOV_OK || err->code == SOV_E_NOT_FOUND)
            sov_error_set(err, SOV_E_NOT_FOUND, "subnet 'networks/%s/subnets/%s' does not "
                          "exist", r.network, r.name);
        snprintf(err->field, sizeof(err->field), "/spec/subnetRef");
        return -1;
    }
    snprintf(ns->subnet_name, sizeof(ns->subnet_name), "%s", s.name);
    if (sov_network_get(&req->ctx, tenant, s.network_id, &net, err) < 0)
        return -1;
    snprintf(ns->network_id, sizeof(ns->network_id), "%s", net.id);
    snprintf(ns->network_name, sizeof(ns->network_name), "%s", net.name);
    snprintf(ns->router_id, sizeof(ns->router_id), "%s", net.router_id);
    return 0;
}

/* spec.addresses: the first IPv4 (0.0.0.0: any free one), then only "::". */
static int
nic_addresses_read(const json_t *addrs, nic_spec *ns, sov_error *err)
{
    json_t *v;
    size_t i;

    if (!json_is_array(addrs) || json_array_size(addrs) < 1 || json_array_size(addrs) > 32)
        return sov_seca_bad(err, "/spec/addresses", "is required: a list of 1 to 32 "
                            "addresses, the first IPv4 (0.0.0.0: any free one)");
    json_array_foreach(addrs, i, v) {
        char at[32];
        const char *a = json_string_value(v);
        snprintf(at, sizeof(at), "/spec/addresses/%u", (unsigned) (i % 100));
        if (!a || !*a || strlen(a) > 39)
            return sov_seca_bad(err, at, "must be an IP address");
        if (i == 0) {
            if (strchr(a, ':'))
                return sov_seca_bad(err, at, "the first address must be IPv4: IPv6 addresses "
                                    "are not served");
            if (!ipv4_text(a))
                return sov_seca_bad(err, at, "must be an IPv4 address");
            if (strcmp(a, "0.0.0.0") != 0)
                snprintf(ns->ip, sizeof(ns->ip), "%.15s", a);
        } else if (strcmp(a, "::") != 0)
            return sov_seca_bad(err, at, "a NIC has one IPv4 address here (\"::\" may follow "
                                "it and stays unassigned: no IPv6)");
    }
    return 0;
}

/* spec.securityGroupRefs: at most 8 groups of the workspace. */
static int
nic_groups_read(sov_request *req, const json_t *groups, nic_spec *ns, sov_error *err)
{
    json_t *v;
    size_t i;

    if (!groups || json_is_null(groups))
        return 0;
    if (!json_is_array(groups) || json_array_size(groups) > SOV_NET_SG_MAX)
        return sov_seca_bad(err, "/spec/securityGroupRefs", "must be a list of at most 8 "
                            "references (our ports take 8 security groups)");
    ns->has_groups = true;
    json_array_foreach(groups, i, v) {
        char at[48], id[SOV_UUID_LEN + 1];
        sov_seca_ref r;
        snprintf(at, sizeof(at), "/spec/securityGroupRefs/%zu", i);
        if (sov_seca_ref_here(req, v, sov_seca_t_sg.plural, at, &r, err) < 0)
            return -1;
        if (sov_security_group_resolve(&req->ctx, sov_seca_tenant_id(req),
                                       sov_seca_workspace(req), r.name, id, err) < 0) {
            snprintf(err->field, sizeof(err->field), "%.63s", at);
            return -1;
        }
        snprintf(ns->group_names[i], sizeof(ns->group_names[i]), "%s", r.name);
        ns->groups[i] = ns->group_names[i];
        ns->ngroups++;
    }
    return 0;
}

/* spec.publicIpRefs: at most one public IP of the workspace, on a network that a route
 * table sends to an internet gateway; whether one of those takes inbound traffic (not only
 * egress-only ones) into ns->inbound, for nic_inbound_check. */
static int
nic_pip_read(sov_request *req, const json_t *pips, nic_spec *ns, sov_error *err)
{
    static const char at[] = "/spec/publicIpRefs/0";
    sov_public_ip ip;
    sov_seca_ref r;
    bool inbound;
    json_t *v;

    if (!pips || json_is_null(pips))
        return 0;
    if (!json_is_array(pips) || json_array_size(pips) > 1)
        return sov_seca_bad(err, "/spec/publicIpRefs", "must be a list of at most 1 "
                            "reference (our ports take one public IP)");
    v = json_array_get(pips, 0);
    if (!v)
        return 0;
    if (sov_seca_ref_here(req, v, sov_seca_t_pip.plural, at, &r, err) < 0)
        return -1;
    if (sov_seca_pip_load(req, r.name, &ip, err) < 0) {
        snprintf(err->field, sizeof(err->field), "%s", at);
        return -1;
    }
    if (!ns->router_id[0])
        return sov_seca_bad(err, at, "the subnet's network has no internet gateway route: a "
                            "public IP needs one");
    if (sov_network_inbound_allowed(&req->ctx, sov_seca_tenant_id(req), ns->network_id,
                                    &inbound, err) < 0)
        return -1;
    ns->inbound = inbound;
    snprintf(ns->pip_id, sizeof(ns->pip_id), "%s", ip.id);
    snprintf(ns->pip_name, sizeof(ns->pip_name), "%s", ip.name);
    return 0;
}

/* spec.skuRef: a network SKU (bandwidth class) that exists; it sizes the port. */
static int
nic_sku_read(sov_request *req, json_t *v, nic_spec *ns, sov_error *err)
{
    sov_network_sku sku;
    sov_seca_ref r;

    if (!v || json_is_null(v))
        return 0;
    if (sov_seca_ref_read(req, v, "skus", "/spec/skuRef", &r, err) < 0)
        return -1;
    if (sov_network_sku_get(&req->ctx, r.name, &sku, err) < 0) {
        snprintf(err->field, sizeof(err->field), "/spec/skuRef");
        return -1;
    }
    ns->sku = v;
    snprintf(ns->sku_name, sizeof(ns->sku_name), "%s", sku.name);
    return 0;
}

/* Before a public IP is attached (a NIC made with one, or given one): its network must take
 * inbound traffic. A NIC keeping the one it has is not refused for it. */
static int
nic_inbound_check(const nic_spec *ns, sov_error *err)
{
    if (!ns->pip_id[0] || ns->inbound)
        return 0;
    return sov_error_invalid(err, "/spec/publicIpRefs/0", "/spec/publicIpRefs/0: network '%s' "
                             "has only egress-only internet gateways: nothing from the "
                             "internet reaches it, so it takes no public IP",
                             ns->network_name);
}

static int
nic_spec_read(sov_request *req, const json_t *spec, nic_spec *ns, sov_error *err)
{
    static const char *const members[] = { "addresses", "subnetRef", "securityGroupRefs",
                                           "publicIpRefs", "skuRef", NULL };

    memset(ns, 0, sizeof(*ns));
    if (sov_seca_members_check(spec, "/spec", members, err) < 0 ||
        nic_subnet_read(req, json_object_get(spec, "subnetRef"), ns, err) < 0 ||
        nic_addresses_read(json_object_get(spec, "addresses"), ns, err) < 0 ||
        nic_groups_read(req, json_object_get(spec, "securityGroupRefs"), ns, err) < 0 ||
        nic_pip_read(req, json_object_get(spec, "publicIpRefs"), ns, err) < 0 ||
        nic_sku_read(req, json_object_get(spec, "skuRef"), ns, err) < 0)
        return -1;
    return 0;
}

static void
pause_100ms(void)
{
    struct timespec ts = { 0, 100 * 1000 * 1000 };

    nanosleep(&ts, NULL);
}

/* Wait a little for a public IP just made (creating) to be available: a NIC PUT right after
 * the public IP's is the usual order. At most 10 s, reading our own rows. */
static int
pip_wait_available(sov_request *req, const char *id, sov_error *err)
{
    for (int i = 0; i < 100; i++) {
        sov_public_ip ip;

        if (sov_public_ip_get(&req->ctx, sov_seca_tenant_id(req), id, &ip, err) < 0)
            return -1;
        if (strcmp(ip.state, "creating") != 0)
            return 0;
        pause_100ms();
    }
    return 0;
}

static int
pip_attach(sov_request *req, const nic_spec *ns, const char *port_id, sov_op *op,
           sov_error *err)
{
    sov_public_ip ip;

    if (pip_wait_available(req, ns->pip_id, err) < 0 ||
        sov_public_ip_action(&req->ctx, sov_seca_tenant_id(req), ns->pip_id, "attach", port_id,
                             &ip, op, err) < 0) {
        snprintf(err->field, sizeof(err->field), "/spec/publicIpRefs/0");
        return -1;
    }
    return 0;
}

static json_t *
nic_side(const char *port_id, const json_t *spec)
{
    json_t *side = json_pack("{s:s, s:O}", "id", port_id, "addresses",
                             json_object_get(spec, "addresses"));

    if (json_object_get(spec, "skuRef") && !json_is_null(json_object_get(spec, "skuRef")))
        json_object_set(side, "skuRef", json_object_get(spec, "skuRef"));
    return side;
}

/* What a NIC's PUT cannot change (its subnet, address, SKU; another public IP in place of
 * the one it has): SOV_E_INVALID naming it. current: its public IP's name ("" none). */
static int
nic_fixed_check(sov_request *req, const nic_spec *ns, const sov_port *p, char *current,
                sov_error *err)
{
    sov_autoptr(json_t) side = sov_seca_side_get(req, SOV_SECA_OBJ_NIC, p->name, p->id);
    json_t *had = side ? json_object_get(side, "skuRef") : NULL;

    if (strcmp(ns->subnet_id, p->subnet_id) != 0)
        return sov_seca_bad(err, "/spec/subnetRef", "cannot change: delete the NIC and make it "
                            "again");
    if (ns->ip[0] && strcmp(ns->ip, p->ip) != 0)
        return sov_seca_bad(err, "/spec/addresses/0", "cannot change: the NIC keeps its "
                            "address");
    if (!json_equal(ns->sku ? ns->sku : json_null(), had ? had : json_null()))
        return sov_seca_bad(err, "/spec/skuRef", "cannot change: the SKU is immutable");
    if (nic_public_ip(req, p->id, current, err) < 0)
        return -1;
    if (current[0] && ns->pip_name[0] && strcmp(current, ns->pip_name) != 0)
        return sov_seca_bad(err, "/spec/publicIpRefs/0", "the NIC has another public IP: put "
                            "it without publicIpRefs first, then with the new one");
    return 0;
}

/* Whether the NIC's groups are ns's, in any order. */
static int
nic_same_groups(sov_request *req, const nic_spec *ns, const sov_port *p, bool *ret,
                sov_error *err)
{
    *ret = ns->ngroups == p->nsecurity_groups;
    for (size_t i = 0; *ret && i < ns->ngroups; i++) {
        char id[SOV_UUID_LEN + 1];
        bool found = false;
        if (sov_security_group_resolve(&req->ctx, sov_seca_tenant_id(req),
                                       sov_seca_workspace(req), ns->groups[i], id, err) < 0)
            return -1;
        for (size_t k = 0; k < p->nsecurity_groups; k++)
            found = found || strcmp(id, p->security_groups[k]) == 0;
        *ret = found;
    }
    return 0;
}

static enum MHD_Result
nic_update(sov_request *req, const sov_seca_input *in, const nic_spec *ns, sov_port *p)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta m = { .labels = NULL };
    char current[SOV_NAME_MAX + 1], op_id[SOV_UUID_LEN + 1] = "";
    bool same_groups;
    sov_op op;

    if (sov_seca_meta_check_version(&req->ctx, p->id, in->if_version, &err) < 0 ||
        nic_fixed_check(req, ns, p, current, &err) < 0 ||
        nic_same_groups(req, ns, p, &same_groups, &err) < 0 ||
        (!current[0] && nic_inbound_check(ns, &err) < 0))
        return sov_seca_reply_error(req, &err, true);
    if (!same_groups) {
        if (sov_port_set_security_groups(&req->ctx, sov_seca_tenant_id(req), p->id,
                                         ns->groups, ns->ngroups, p, &op, &err) < 0) {
            if (strncmp(err.field, "security_groups", 15) == 0)
                snprintf(err.field, sizeof(err.field), "/spec/securityGroupRefs");
            return sov_seca_reply_error(req, &err, true);
        }
        snprintf(op_id, sizeof(op_id), "%s", op.id);
    }
    if (current[0] && !ns->pip_name[0]) {
        char id[SOV_UUID_LEN + 1];
        sov_public_ip ip;
        if (sov_public_ip_resolve(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                                  current, id, &err) < 0 ||
            sov_public_ip_action(&req->ctx, sov_seca_tenant_id(req), id, "detach", NULL, &ip,
                                 &op, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        snprintf(op_id, sizeof(op_id), "%s", op.id);
    } else if (!current[0] && ns->pip_name[0]) {
        if (pip_attach(req, ns, p->id, &op, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        snprintf(op_id, sizeof(op_id), "%s", op.id);
    }
    if (sov_seca_record(req, &sov_seca_t_nic, p->id, NULL, SOV_SECA_UPDATED, in, op_id, &m,
                        &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return nic_reply(req, MHD_HTTP_OK, p->id);
}

enum MHD_Result
sov_seca_network_nics_put(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta m = { .labels = NULL };
    sov_autoptr(json_t) side = NULL;
    sov_seca_input in;
    nic_spec ns;
    sov_port p;
    sov_op op, attach;

    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        nic_spec_read(req, in.spec, &ns, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (nic_load(req, sov_seca_name(req), &p, &err) == 0)
        return nic_update(req, &in, &ns, &p);
    if (err.code != SOV_E_NOT_FOUND)
        return sov_seca_reply_error(req, &err, true);
    sov_error_clear(&err);
    if (nic_inbound_check(&ns, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (ns.pip_id[0]) {
        sov_public_ip ip;
        if (sov_public_ip_get(&req->ctx, sov_seca_tenant_id(req), ns.pip_id, &ip, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        if (ip.port_id[0]) {
            sov_seca_bad(&err, "/spec/publicIpRefs/0", "the public IP is attached to another "
                         "NIC");
            return sov_seca_reply_error(req, &err, true);
        }
    }
    sov_port_create_args a = {
        .workspace = sov_seca_workspace(req), .name = sov_seca_name(req),
        .subnet = ns.subnet_id, .ip = ns.ip[0] ? ns.ip : NULL,
        .security_groups = ns.groups, .nsecurity_groups = ns.ngroups,
        .sku = ns.sku_name[0] ? ns.sku_name : NULL,
    };
    if (sov_port_create(&req->ctx, sov_seca_tenant_id(req), &a, &p, &op, &err) < 0) {
        sov_seca_field_rename(&err, "ip", "/spec/addresses/0");
        sov_seca_field_rename(&err, "subnet", "/spec/subnetRef");
        sov_seca_field_rename(&err, "security_groups", "/spec/securityGroupRefs");
        sov_seca_field_rename(&err, "sku", "/spec/skuRef");
        return sov_seca_reply_error(req, &err, true);
    }
    if (ns.pip_id[0] && pip_attach(req, &ns, p.id, &attach, &err) < 0) {
        /* Nothing half-made: the port goes again. */
        sov_error ignore = SOV_ERROR_INIT;
        sov_op del;
        if (sov_port_delete(&req->ctx, sov_seca_tenant_id(req), p.id, &del, &ignore) < 0)
            sov_log_warn("could not take back port '%s' after its public IP failed: %s",
                         p.name, ignore.msg);
        return sov_seca_reply_error(req, &err, true);
    }
    side = nic_side(p.id, in.spec);
    if (sov_seca_side_put(req, SOV_SECA_OBJ_NIC, p.name, "", side, &err) < 0 ||
        sov_seca_record(req, &sov_seca_t_nic, p.id, NULL, SOV_SECA_CREATED, &in, op.id, &m,
                        &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return nic_reply(req, MHD_HTTP_CREATED, p.id);
}

/* A NIC going away lets its public IP go first (SECA's NIC owns the association; our port
 * refuses deletion while one is attached): detached, and waited for (at most 10 s, reading
 * our own rows) until the worker has let go of the port. */
static int
nic_release(sov_request *req, const sov_port *p, sov_error *err)
{
    for (int i = 0; i < 100; i++) {
        char after[SOV_TEXT_MAX * 4 + 1] = "";
        bool held = false;

        do {
            sov_public_ip_page page = { 0 };
            if (sov_public_ip_list(&req->ctx, sov_seca_tenant_id(req), p->workspace,
                                   after[0] ? after : NULL, SOV_SECA_PAGE, &page, err) < 0)
                return -1;
            for (size_t k = 0; k < page.n; k++) {
                sov_public_ip *ip = &page.items[k];
                sov_public_ip done;
                sov_op op;

                if (strcmp(ip->port_id, p->id) != 0)
                    continue;
                held = true;
                if (strcmp(ip->state, "in-use") == 0 &&
                    sov_public_ip_action(&req->ctx, sov_seca_tenant_id(req), ip->id, "detach",
                                         NULL, &done, &op, err) < 0) {
                    free(page.items);
                    return -1;
                }
            }
            snprintf(after, sizeof(after), "%s", page.next_after);
            free(page.items);
        } while (after[0]);
        if (!held)
            return 0;
        pause_100ms();
    }
    return 0;       /* still held: the port's delete says why */
}

/* The port's delete, retried for at most 10 s while it is refused for a state that a worker
 * is moving on (an instance's delete unplugging it, a sync under way). */
static int
nic_port_delete(sov_request *req, const char *port_id, sov_op *op, sov_error *err)
{
    for (int i = 0;; i++) {
        if (sov_port_delete(&req->ctx, sov_seca_tenant_id(req), port_id, op, err) == 0)
            return 0;
        if (err->code != SOV_E_CONFLICT || i == 100)
            return -1;
        sov_error_clear(err);
        pause_100ms();
    }
}

enum MHD_Result
sov_seca_network_nics_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta m = { .labels = NULL };
    sov_port p;
    long long version;
    sov_op op;

    if (nic_load(req, sov_seca_name(req), &p, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_seca_header_version(req, &version, &err) < 0 ||
        sov_seca_meta_check_version(&req->ctx, p.id, version, &err) < 0 ||
        nic_release(req, &p, &err) < 0 ||
        nic_port_delete(req, p.id, &op, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (sov_seca_record(req, &sov_seca_t_nic, p.id, NULL, SOV_SECA_DELETED, NULL, op.id, &m,
                        &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    sov_seca_side_forget(req, SOV_SECA_OBJ_NIC, p.name);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}
