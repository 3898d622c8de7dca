/* placement.c: POST /v1/placement/dry-run, the scheduler's decision without a claim: what
 * an operator or a tenant asks to learn where a create would land, and why. It takes what
 * POST /v1/instances takes (or raw sizes instead of a flavor) and decides as the create
 * would: compute/ turns both into a placement request with one function. */
#include <string.h>

#include "handlers.h"
#include "sov/compute.h"
#include "sov/storage.h"

static json_t *
rejected_json(const sov_placement *p)
{
    json_t *r = json_object();

    for (int i = 0; i < SOV_REJECT__COUNT; i++)
        json_object_set_new(r, sov_reject_name((sov_reject) i), json_integer(p->rejected[i]));
    return r;
}

/* A number the body gives (not absent, not null: the fields' check allows only integers). */
static bool
int_field(sov_request *req, const char *name, long long *ret)
{
    json_t *v = json_object_get(req->body, name);

    if (!json_is_integer(v))
        return false;
    *ret = json_integer_value(v);
    return true;
}

/* The raw sizes as given; the service holds the rule on them (sov_place_sizes_check). */
static void
body_sizes(sov_request *req, sov_place_sizes *ret)
{
    ret->has_vcpus = int_field(req, "vcpus", &ret->vcpus);
    ret->has_memory_mib = int_field(req, "memory_mib", &ret->memory_mib);
    ret->has_disk_gib = int_field(req, "disk_gib", &ret->disk_gib);
    ret->has_gpus = int_field(req, "gpus", &ret->gpus);
}

/* POST /v1/placement/dry-run: a create's body (flavor, or raw sizes; image; region, zone,
 * country, anti_affinity_group; boot_volume, boot and volumes, which may pin it to their
 * host; name, user_data and ssh_keys are accepted and not read). */
enum MHD_Result
sov_handle_placement_dry_run(sov_request *req)
{
    static const sov_field fields[] = {
        { "flavor", JSON_STRING, false },     { "image", JSON_STRING, false },
        { "vcpus", JSON_INTEGER, false },     { "memory_mib", JSON_INTEGER, false },
        { "disk_gib", JSON_INTEGER, false },  { "gpus", JSON_INTEGER, false },
        { "region", JSON_STRING, false },     { "zone", JSON_STRING, false },
        { "country", JSON_STRING, false },    { "anti_affinity_group", JSON_STRING, false },
        { "workspace", JSON_STRING, false },  { "tenant_id", JSON_STRING, false },
        { "name", JSON_STRING, false },       { "user_data", JSON_STRING, false },
        { "ssh_keys", JSON_ARRAY, false },
        { "boot_volume", JSON_STRING, false }, { "boot", JSON_OBJECT, false },
        { "volumes", JSON_ARRAY, false },
        { "nics", JSON_ARRAY, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_instance_create_args a = { 0 };
    sov_place_sizes sizes = { 0 };
    sov_instance_storage_args st;
    sov_instance_network_args net;
    sov_api_nics nics;
    const char *vols[SOV_API_INSTANCE_VOLUMES_MAX];
    bool storage = false;
    sov_autoptr(sov_placement) p = sov_placement_new();

    if (!p)
        sov_error_set(&err, SOV_E_INTERNAL, "out of memory");
    if (!p || sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        sov_api_instance_storage(req, &st, vols, SOV_N_ELEMENTS(vols), &storage, &err) < 0 ||
        sov_api_instance_network(req, &net, &nics, &err) < 0)
        return sov_api_reply_problem(req, &err);
    body_sizes(req, &sizes);
    sov_api_instance_args(req, &a);     /* read as the create reads it */
    sov_instance_ext ext[] = { { "network", &net }, { "storage", &st } };
    a.ext = ext;
    a.next = storage ? 2 : 1;
    if (sov_instance_dry_run(&req->ctx, sov_api_body_str(req, "tenant_id"), &a, &sizes, p,
                             &err) < 0) {
        /* No candidate: the problem, with the counts that explain it. A refusal before the
         * scheduler ran (a module's hook: a volume whose host takes no placement) has no
         * policy loaded: null. */
        if (err.code == SOV_E_RESIDENCY || err.code == SOV_E_CAPACITY)
            return sov_api_reply_problem_with(
                req, &err, json_pack("{s:i, s:o, s:o}", "considered", p->considered, "rejected",
                                     rejected_json(p), "policy",
                                     p->policy ? sov_api_policy_json(p->policy)
                                               : json_null()));
        return sov_api_reply_problem(req, &err);
    }
    sov_autoptr(json_t) body = json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:i, s:o, s:s, s:o, s:b}", "placement",
        "host_id", p->host_id, "host", p->host_name, "region", p->region, "zone", p->zone,
        "country", p->location.country, "jurisdiction", p->location.jurisdiction, "datacenter",
        p->location.datacenter, "considered", p->considered, "rejected", rejected_json(p),
        "strategy", p->strategy, "policy", sov_api_policy_json(p->policy), "claimed", 0);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}
