/* placement.c: POST /v1/placement/dry-run, the scheduler's decision without a claim: what
 * an operator or a tenant asks to learn where a create would land, and why. It takes what
 * POST /v1/instances takes (or raw sizes instead of a flavor) and decides as the create
 * would: compute/ turns both into a placement request with one function. */
#include <string.h>

#include "handlers.h"
#include "sov/compute.h"

static json_t *
rejected_json(const sov_placement *p)
{
    json_t *r = json_object();

    for (int i = 0; i < SOV_REJECT__COUNT; i++)
        json_object_set_new(r, sov_reject_name((sov_reject) i), json_integer(p->rejected[i]));
    return r;
}

static long long
int_field(sov_request *req, const char *name, long long dflt)
{
    json_t *v = json_object_get(req->body, name);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

/* Numbers are bounded before any is narrowed to an int: 2^32 + 1 vCPUs is refused, not
 * read as one. */
static int
int_range(sov_request *req, const char *name, long long max, sov_error *err)
{
    long long v = int_field(req, name, 0);

    if (v < 0 || v > max)
        return sov_error_invalid(err, name, "%s must be from 0 to %lld", name, max);
    return 0;
}

/* The raw sizes, when no flavor is named: vcpus and memory_mib required; with a flavor,
 * none of them. */
static int
body_sizes(sov_request *req, sov_place_sizes *ret, sov_error *err)
{
    static const char *const names[] = { "vcpus", "memory_mib", "disk_gib", "gpus" };

    if (sov_api_body_str(req, "flavor")) {
        for (size_t i = 0; i < SOV_N_ELEMENTS(names); i++)
            if (json_object_get(req->body, names[i]) &&
                !json_is_null(json_object_get(req->body, names[i])))
                return sov_error_invalid(err, "flavor", "give a flavor or sizes (vcpus, "
                                         "memory_mib, disk_gib, gpus), not both");
        return 0;
    }
    for (size_t i = 0; i < 2; i++)
        if (!json_is_integer(json_object_get(req->body, names[i])))
            return sov_error_invalid(err, names[i], "%s is required without a flavor",
                                     names[i]);
    if (int_range(req, "vcpus", 1024, err) < 0 ||
        int_range(req, "memory_mib", 1LL << 32, err) < 0 ||
        int_range(req, "disk_gib", 1LL << 30, err) < 0 || int_range(req, "gpus", 64, err) < 0)
        return -1;
    ret->vcpus = (int) int_field(req, "vcpus", 0);
    ret->memory_mib = int_field(req, "memory_mib", 0);
    ret->disk_gib = int_field(req, "disk_gib", 0);
    ret->gpus = (int) int_field(req, "gpus", 0);
    return 0;
}

/* POST /v1/placement/dry-run: a create's body (flavor, or raw sizes; image; region, zone,
 * country, anti_affinity_group; name, user_data and ssh_keys are accepted and not read). */
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
    };
    sov_error err = SOV_ERROR_INIT;
    sov_instance_create_args a = { 0 };
    sov_place_sizes sizes = { 0 };
    sov_placement p;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        body_sizes(req, &sizes, &err) < 0)
        return sov_api_reply_problem(req, &err);
    a.flavor = sov_api_body_str(req, "flavor");
    a.image = sov_api_body_str(req, "image");
    a.workspace = sov_api_body_str(req, "workspace");
    a.region = sov_api_body_str(req, "region");
    a.zone = sov_api_body_str(req, "zone");
    a.country = sov_api_body_str(req, "country");
    a.anti_affinity_group = sov_api_body_str(req, "anti_affinity_group");
    if (sov_instance_dry_run(&req->ctx, sov_api_body_str(req, "tenant_id"), &a, &sizes, &p,
                             &err) < 0) {
        /* No candidate: the problem, with the counts that explain it. */
        if (err.code == SOV_E_RESIDENCY || err.code == SOV_E_CAPACITY)
            return sov_api_reply_problem_with(
                req, &err, json_pack("{s:i, s:o, s:o}", "considered", p.considered, "rejected",
                                     rejected_json(&p), "policy",
                                     sov_api_policy_json(&p.policy)));
        return sov_api_reply_problem(req, &err);
    }
    sov_autoptr(json_t) body = json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:i, s:o, s:s, s:o, s:b}", "placement",
        "host_id", p.host_id, "host", p.host_name, "region", p.region, "zone", p.zone,
        "country", p.location.country, "jurisdiction", p.location.jurisdiction, "datacenter",
        p.location.datacenter, "considered", p.considered, "rejected", rejected_json(&p),
        "strategy", p.strategy, "policy", sov_api_policy_json(&p.policy), "claimed", 0);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}
