/* seca_netsec.c: the network provider (seca.network), part two: NICs (our ports,
 * seca_nics.c), public IPs (ours, seca_public_ips.c), security groups (ours) and security
 * group rules (SECA objects, sov/seca.h; seca_security_groups.c). This file holds what they
 * share (seca_netsec.h).
 *
 * Each write calls the same service as /v1 (network.h), so quotas, residency policy, audit
 * and residency records apply unchanged; the SECA meta (labels, resourceVersion, conditions)
 * is recorded after the service. What SECA says that our rows cannot hold is kept as a SECA
 * object beside the resource, holding the resource's id so that a /v1 resource made later
 * under the same name never shows a stale one:
 * - "security-group": the group's spec as given ({id, spec}): its inline rules and ruleRefs,
 *   which network/seca_rules.c turns into our rules (and replaces in every group naming a
 *   rule when the rule changes).
 * - "nic": a NIC's addresses and skuRef as given ({id, addresses, skuRef}); the skuRef also
 *   sizes the port (sov_port_create_args.sku: its OVN rate).
 * - "security-group-rule": the named rules themselves (their spec).
 *
 * Departures (the surface's note lists them): IPv4 only (a rule of version IPv6, an IPv6
 * source, an IPv6 NIC address or public IP is refused); an ICMP rule allows every ICMPv4
 * type and code; a NIC has one IPv4 address ("::" entries are accepted and left unassigned),
 * at most 8 security groups and one public IP; names follow our slugs (at most 63). */
#include <stdio.h>
#include <string.h>

#include "seca_netsec.h"

const sov_seca_type sov_seca_t_sg = { "seca.network", "security-group", "security-groups",
                                      SOV_SECA_WORKSPACE, true };
const sov_seca_type sov_seca_t_rule = { "seca.network", "security-group-rule",
                                        "security-group-rules", SOV_SECA_WORKSPACE, true };
const sov_seca_type sov_seca_t_nic = { "seca.network", "nic", "nics", SOV_SECA_WORKSPACE,
                                       true };
const sov_seca_type sov_seca_t_pip = { "seca.network", "public-ip", "public-ips",
                                       SOV_SECA_WORKSPACE, true };
const sov_seca_type sov_seca_t_subnet = { "seca.network", "subnet", "subnets",
                                          SOV_SECA_NETWORK, true };

int
sov_seca_ref_here(sov_request *req, const json_t *ref, const char *plural,
                  const char *pointer, sov_seca_ref *r, sov_error *err)
{
    if (sov_seca_ref_read(req, ref, plural, pointer, r, err) < 0)
        return -1;
    if (r->workspace[0] && strcmp(r->workspace, sov_seca_workspace(req)) != 0)
        return sov_seca_bad(err, pointer, "must name a resource of this workspace");
    return 0;
}

static int
env_ref_name(void *data, const json_t *ref, const char *plural, const char *pointer,
             char *name, sov_error *err)
{
    sov_seca_ref r;

    if (sov_seca_ref_here(data, ref, plural, pointer, &r, err) < 0)
        return -1;
    snprintf(name, SOV_SECA_NAME_MAX + 1, "%s", r.name);
    return 0;
}

sov_seca_sg_env
sov_seca_sg_env_of(sov_request *req)
{
    sov_seca_sg_env env = {
        .ctx = &req->ctx, .tenant_id = sov_seca_tenant_id(req),
        .workspace = sov_seca_workspace(req), .ref_name = env_ref_name, .data = req,
    };
    return env;
}

json_t *
sov_seca_side_get(sov_request *req, const char *kind, const char *name, const char *id)
{
    return sov_seca_object_beside(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                                  kind, name, id);
}

int
sov_seca_side_put(sov_request *req, const char *kind, const char *name, const char *region,
                  json_t *spec, sov_error *err)
{
    sov_seca_object o;
    bool created;
    int rc;

    memset(&o, 0, sizeof(o));
    snprintf(o.tenant_id, sizeof(o.tenant_id), "%s", sov_seca_tenant_id(req));
    snprintf(o.workspace, sizeof(o.workspace), "%s", sov_seca_workspace(req));
    snprintf(o.kind, sizeof(o.kind), "%s", kind);
    snprintf(o.name, sizeof(o.name), "%s", name);
    snprintf(o.region, sizeof(o.region), "%s", region);
    o.spec = spec;
    rc = sov_seca_object_put(&req->ctx, &o, &created, err);
    o.spec = NULL;
    sov_seca_object_clear(&o);
    return rc;
}

void
sov_seca_side_forget(sov_request *req, const char *kind, const char *name)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_seca_object_delete(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                               kind, "", name, &err) < 0 && err.code != SOV_E_NOT_FOUND)
        sov_log_warn("could not forget the SECA %s spec of '%s': %s", kind, name, err.msg);
}
