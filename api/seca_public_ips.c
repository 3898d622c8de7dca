/* seca_public_ips.c: SECA public IPs, ours (sov_public_ip_*), seca.network part two
 * (seca_netsec.c). IPv4 only: the pools hold IPv4. A NIC attaches one (seca_nics.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca_netsec.h"

int
sov_seca_pip_load(sov_request *req, const char *name, sov_public_ip *ip, sov_error *err)
{
    char id[SOV_UUID_LEN + 1];

    if (sov_public_ip_resolve(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                              name, id, err) < 0 ||
        sov_public_ip_get(&req->ctx, sov_seca_tenant_id(req), id, ip, err) < 0)
        return -1;
    if (strcmp(ip->workspace, sov_seca_workspace(req)) != 0 || strcmp(ip->name, name) != 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "public IP '%s' does not exist", name);
    return 0;
}

static json_t *
pip_render(sov_request *req, const sov_public_ip *ip, sov_error *err)
{
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta m = { .labels = NULL };
    json_t *status;

    if (sov_seca_meta_get(&req->ctx, ip->id, sov_seca_t_pip.kind, sov_seca_state_of(ip->state),
                          ip->created_at, &m, err) < 0)
        return NULL;
    status = json_pack("{s:s}", "ipAddress", ip->address);
    if (ip->port_id[0]) {
        sov_port p;
        sov_error ignore = SOV_ERROR_INIT;
        if (sov_port_get(&req->ctx, ip->tenant_id, ip->port_id, &p, &ignore) == 0)
            json_object_set_new(status, "attachedTo",
                                sov_seca_ref_json(req, &sov_seca_t_nic, p.workspace, NULL,
                                                  p.name));
    }
    return sov_seca_resource(req, &sov_seca_t_pip, ip->workspace, NULL, ip->name, ip->region,
                             &m, json_pack("{s:s, s:s}", "version", "IPv4", "address",
                                           ip->address),
                             status, sov_api_location_json(&ip->residency,
                                                           ip->residency_since));
}

static enum MHD_Result
pip_reply(sov_request *req, unsigned status, const sov_public_ip *ip)
{
    sov_error err = SOV_ERROR_INIT;

    return sov_seca_answer(req, status, pip_render(req, ip, &err), &err, false);
}

enum MHD_Result
sov_seca_network_public_ips_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_public_ip ip;

    if (sov_seca_pip_load(req, sov_seca_name(req), &ip, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return pip_reply(req, MHD_HTTP_OK, &ip);
}

static json_t *
pip_item(sov_request *req, const void *ip, sov_error *err)
{
    return pip_render(req, ip, err);
}

static int
pip_page(sov_request *req, sov_seca_list *l, const char *after, char *next,
         size_t next_size, void *data, sov_error *err)
{
    sov_public_ip_page page = { 0 };
    int rc;

    (void) data;
    if (sov_public_ip_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req), after,
                           SOV_SECA_PAGE, &page, err) < 0)
        return -1;
    rc = sov_seca_list_add_each(req, l, page.items, page.n, sizeof(*page.items), pip_item, err);
    snprintf(next, next_size, "%s", page.next_after);
    free(page.items);
    return rc;
}

enum MHD_Result
sov_seca_network_public_ips_list(sov_request *req)
{
    return sov_seca_list_walk(req, &sov_seca_t_pip, pip_page, NULL);
}

/* spec: {version, address?}: IPv4, an address or none (the pool's next). */
static int
pip_spec_read(const json_t *spec, const char **address, sov_error *err)
{
    static const char *const members[] = { "version", "address", NULL };
    const char *version;
    json_t *a = json_object_get(spec, "address");

    if (sov_seca_members_check(spec, "/spec", members, err) < 0)
        return -1;
    version = json_string_value(json_object_get(spec, "version"));
    *address = json_string_value(a);
    if (!version || (strcmp(version, "IPv4") != 0 && strcmp(version, "IPv6") != 0))
        return sov_seca_bad(err, "/spec/version", "is required: IPv4 or IPv6");
    if (strcmp(version, "IPv6") == 0)
        return sov_seca_bad(err, "/spec/version", "IPv6 public IPs are not served: the pools "
                            "hold IPv4");
    if (a && !json_is_null(a) && (!*address || strlen(*address) > 39))
        return sov_seca_bad(err, "/spec/address", "must be an IPv4 address");
    if (*address && !**address)
        *address = NULL;
    if (*address && strchr(*address, ':'))
        return sov_seca_bad(err, "/spec/address", "IPv6 public IPs are not served: the pools "
                            "hold IPv4");
    return 0;
}

/* A PUT of an existing public IP: its labels and the like; the address stays. */
static enum MHD_Result
pip_update(sov_request *req, const sov_seca_input *in, const char *address,
           const sov_public_ip *ip)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta m = { .labels = NULL };

    if (sov_seca_meta_check_version(&req->ctx, ip->id, in->if_version, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (address && strcmp(address, ip->address) != 0) {
        sov_seca_bad(&err, "/spec/address", "cannot change: the public IP holds its address "
                     "until it is deleted");
        return sov_seca_reply_error(req, &err, true);
    }
    if (sov_seca_record(req, &sov_seca_t_pip, ip->id, NULL, SOV_SECA_UPDATED, in, NULL, &m,
                        &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return pip_reply(req, MHD_HTTP_OK, ip);
}

enum MHD_Result
sov_seca_network_public_ips_put(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta m = { .labels = NULL };
    sov_seca_input in;
    sov_public_ip ip;
    const char *address;
    char region[65];
    sov_op op;

    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        pip_spec_read(in.spec, &address, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (sov_seca_pip_load(req, sov_seca_name(req), &ip, &err) == 0)
        return pip_update(req, &in, address, &ip);
    if (err.code != SOV_E_NOT_FOUND)
        return sov_seca_reply_error(req, &err, true);
    sov_error_clear(&err);
    if (sov_seca_default_region(req, region, sizeof(region), &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    sov_public_ip_create_args a = {
        .workspace = sov_seca_workspace(req), .name = sov_seca_name(req), .region = region,
        .address = address,
    };
    if (sov_public_ip_create(&req->ctx, sov_seca_tenant_id(req), &a, &ip, &op, &err) < 0) {
        sov_seca_field_rename(&err, "address", "/spec/address");
        sov_seca_field_rename(&err, "region", "/metadata/region");
        return sov_seca_reply_error(req, &err, true);
    }
    if (sov_seca_record(req, &sov_seca_t_pip, ip.id, NULL, SOV_SECA_CREATED, &in, op.id, &m,
                        &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return pip_reply(req, MHD_HTTP_CREATED, &ip);
}

enum MHD_Result
sov_seca_network_public_ips_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta m = { .labels = NULL };
    sov_public_ip ip;
    long long version;
    sov_op op;

    if (sov_seca_pip_load(req, sov_seca_name(req), &ip, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_seca_header_version(req, &version, &err) < 0 ||
        sov_seca_meta_check_version(&req->ctx, ip.id, version, &err) < 0 ||
        sov_public_ip_delete(&req->ctx, sov_seca_tenant_id(req), ip.id, &op, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (sov_seca_record(req, &sov_seca_t_pip, ip.id, NULL, SOV_SECA_DELETED, NULL, op.id, &m,
                        &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}
