/* placement.c: POST /v1/placement/dry-run, the scheduler's decision without a claim: what
 * an operator or a tenant asks to learn where a request would land, and why. */
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

/* POST /v1/placement/dry-run */
enum MHD_Result
sov_handle_placement_dry_run(sov_request *req)
{
    static const sov_field fields[] = {
        { "vcpus", JSON_INTEGER, true },      { "memory_mib", JSON_INTEGER, true },
        { "disk_gib", JSON_INTEGER, false },  { "gpus", JSON_INTEGER, false },
        { "region", JSON_STRING, false },     { "zone", JSON_STRING, false },
        { "country", JSON_STRING, false },    { "anti_affinity_group", JSON_STRING, false },
        { "tenant_id", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_place_request r = { 0 };
    sov_placement p;
    const char *tenant = sov_api_body_str(req, "tenant_id");
    int rc;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        int_range(req, "vcpus", 1024, &err) < 0 ||
        int_range(req, "memory_mib", 1LL << 32, &err) < 0 ||
        int_range(req, "disk_gib", 1LL << 30, &err) < 0 || int_range(req, "gpus", 64, &err) < 0)
        return sov_api_reply_problem(req, &err);
    /* For another tenant: operators only, and it must exist; others place for their own. */
    if (tenant) {
        sov_tenant t;
        if (!sov_uuid_valid(tenant) || sov_tenant_get(&req->ctx, tenant, &t, &err) < 0) {
            if (err.code == SOV_OK || err.code == SOV_E_NOT_FOUND)
                sov_error_set(&err, SOV_E_NOT_FOUND, "tenant '%s' does not exist", tenant);
            return sov_api_reply_problem(req, &err);
        }
    }
    r.tenant_id = tenant ? tenant : req->who.tenant_id;
    r.vcpus = (int) int_field(req, "vcpus", 0);
    r.memory_mib = int_field(req, "memory_mib", 0);
    r.disk_gib = int_field(req, "disk_gib", 0);
    r.gpus = (int) int_field(req, "gpus", 0);
    r.region = sov_api_body_str(req, "region");
    r.zone = sov_api_body_str(req, "zone");
    r.country = sov_api_body_str(req, "country");
    r.anti_affinity_group = sov_api_body_str(req, "anti_affinity_group");
    rc = sov_placement_dry_run(&req->ctx, &r, &p, &err);
    if (rc < 0 && err.code != SOV_E_RESIDENCY && err.code != SOV_E_CAPACITY)
        return sov_api_reply_problem(req, &err);
    if (rc < 0) {
        /* No candidate: the problem, with the counts that explain it. */
        sov_autoptr(json_t) body = json_pack(
            "{s:s, s:s, s:i, s:s, s:s, s:s, s:i, s:o, s:o}", "type",
            err.code == SOV_E_RESIDENCY ? "/problems/residency-policy" : "/problems/no-capacity",
            "title",
            err.code == SOV_E_RESIDENCY ? "request would break the tenant's residency policy"
                                        : "no host has room for the request",
            "status", 409, "detail", err.msg, "instance", req->path, "request_id",
            req->request_id, "considered", p.considered, "rejected", rejected_json(&p),
            "policy", sov_api_policy_json(&p.policy));
        return sov_api_reply_json_as(req, 409, body, "application/problem+json");
    }
    sov_autoptr(json_t) body = json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:i, s:o, s:s, s:o, s:b}", "placement",
        "host_id", p.host_id, "host", p.host_name, "region", p.region, "zone", p.zone,
        "country", p.location.country, "jurisdiction", p.location.jurisdiction, "datacenter",
        p.location.datacenter, "considered", p.considered, "rejected", rejected_json(&p),
        "strategy", p.strategy, "policy", sov_api_policy_json(&p.policy), "claimed", 0);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}
