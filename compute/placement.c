/* placement.c: the scheduler. It turns the tenant's residency policy, narrowed by the
 * request, into the list of regions a host may be in, asks PostgreSQL how the hosts fare
 * against each filter, and picks (and, for real placements, claims) the best. It never
 * falls back outside the policy: no candidate is an error naming why. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement_repo.h"
#include "sov/buf.h"
#include "sov/log.h"

static const char *const reject_names[SOV_REJECT__COUNT] = {
    [SOV_REJECT_POLICY] = "policy",     [SOV_REJECT_REGION] = "region",
    [SOV_REJECT_COUNTRY] = "country",   [SOV_REJECT_IMAGE_REGION] = "image_region",
    [SOV_REJECT_STATE] = "state",
    [SOV_REJECT_ZONE] = "zone",         [SOV_REJECT_GPU] = "gpu",
    [SOV_REJECT_CAPACITY] = "capacity", [SOV_REJECT_AFFINITY] = "affinity",
    [SOV_REJECT_VOLUME_HOST] = "volume_host", [SOV_REJECT_SOURCE_HOST] = "source_host",
};

const char *
sov_reject_name(sov_reject r)
{
    return (unsigned) r < SOV_REJECT__COUNT ? reject_names[r] : "unknown";
}

sov_placement *
sov_placement_new(void)
{
    return calloc(1, sizeof(sov_placement));
}

void
sov_placement_free(sov_placement *p)
{
    if (!p)
        return;
    sov_policy_free(p->policy);
    free(p);
}

int
sov_place_request_check(const sov_place_request *r, sov_error *err)
{
    /* A volume or snapshot takes room in a host's pool only: no CPU, no memory. */
    bool disk_only = r->resource_type && (strcmp(r->resource_type, "volume") == 0 ||
                                          strcmp(r->resource_type, "snapshot") == 0 ||
                                          strcmp(r->resource_type, "volume-move") == 0);
    int least = disk_only ? 0 : 1;

    if (r->vcpus < least || r->vcpus > 1024)
        return sov_error_invalid(err, "vcpus", "vcpus must be from %d to 1024", least);
    if (r->memory_mib < least || r->memory_mib > (1LL << 32))
        return sov_error_invalid(err, "memory_mib", "memory_mib must be from %d to %lld",
                                 least, 1LL << 32);
    if (r->disk_gib < 0 || r->disk_gib > (1LL << 30))
        return sov_error_invalid(err, "disk_gib", "disk_gib must be from 0 to %lld",
                                 1LL << 30);
    if (r->gpus < 0 || r->gpus > 64)
        return sov_error_invalid(err, "gpus", "gpus must be from 0 to 64");
    if (r->region && sov_check_slug("region", r->region, err) < 0)
        return -1;
    if (r->zone && sov_check_slug("zone", r->zone, err) < 0)
        return -1;
    if (r->image_region && sov_check_slug("image_region", r->image_region, err) < 0)
        return -1;
    if (r->country && !sov_country_valid(r->country))
        return sov_error_invalid(err, "country",
                                 "country must be an ISO 3166-1 alpha-2 code like FR");
    if (r->anti_affinity_group && sov_check_slug("anti_affinity_group",
                                                 r->anti_affinity_group, err) < 0)
        return -1;
    if (!r->tenant_id || !sov_uuid_valid(r->tenant_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "tenant does not exist");
    if (r->pin_host_id && *r->pin_host_id && !sov_uuid_valid(r->pin_host_id))
        return sov_error_set(err, SOV_E_INTERNAL, "pinned host '%s' is not an id",
                             r->pin_host_id);
    if (r->exclude_host_id && *r->exclude_host_id && !sov_uuid_valid(r->exclude_host_id))
        return sov_error_set(err, SOV_E_INTERNAL, "excluded host '%s' is not an id",
                             r->exclude_host_id);
    return 0;
}

static bool
has_zone(const sov_region *g, const char *zone)
{
    for (size_t i = 0; i < g->nzones; i++)
        if (strcmp(g->zones[i], zone) == 0)
            return true;
    return false;
}

/* Why hosts in region g may not take the request: the first place rule it fails, in the
 * order of sov_reject, or -1 when they may. */
static int
region_reject(const sov_place_request *r, const sov_policy *policy, const sov_region *g)
{
    if (!sov_policy_allows(policy, g->code, g->country, g->jurisdiction))
        return SOV_REJECT_POLICY;
    if (r->region && strcmp(g->code, r->region) != 0)
        return SOV_REJECT_REGION;
    if (r->country && strcmp(g->country, r->country) != 0)
        return SOV_REJECT_COUNTRY;
    if (r->image_region && strcmp(g->code, r->image_region) != 0)
        return SOV_REJECT_IMAGE_REGION;
    return -1;
}

/* The regions hosts may be in: allowed by the policy, matching the request's region and
 * country and the image's region; each other region with the reason it is not (for the
 * counts). A region or zone the request names must exist at all (400); that it is outside
 * the policy is a placement outcome (409 residency-policy), decided later. */
static int
allowed_regions(sov_dbconn *c, const sov_place_request *r, const sov_policy *policy,
                place_q *q, size_t *ret_n, sov_error *err)
{
    sov_autofree sov_region *regions = NULL;
    sov_autofree const char **codes = NULL;
    sov_buf list = SOV_BUF_INIT;
    size_t n = 0, len, allowed = 0;
    bool region_known = !r->region, zone_known = !r->zone;
    /* A zone is looked for in the region asked for, else in the image's. */
    const char *zone_region = r->region ? r->region : r->image_region;

    if (sov_region_all(c, &regions, &n, err) < 0)
        return -1;
    q->why = calloc(n ? n : 1, sizeof(*q->why));
    codes = calloc(n ? n : 1, sizeof(*codes));
    if (!q->why || !codes)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const sov_region *g = &regions[i];
        int why = region_reject(r, policy, g);
        if (r->region && strcmp(g->code, r->region) == 0)
            region_known = true;
        if (r->zone && (!zone_region || strcmp(g->code, zone_region) == 0) &&
            has_zone(g, r->zone))
            zone_known = true;
        if (why >= 0) {
            snprintf(q->why[q->nwhy].region, sizeof(q->why[q->nwhy].region), "%s", g->code);
            q->why[q->nwhy++].reject = (sov_reject) why;
            continue;
        }
        codes[allowed++] = g->code;
    }
    sov_buf_pg_array(&list, codes, allowed);
    len = list.oom ? sizeof(q->regions) : list.len;
    if (len < sizeof(q->regions))
        memcpy(q->regions, list.data, len + 1);
    sov_buf_release(&list);
    if (len >= sizeof(q->regions))
        return sov_error_set(err, SOV_E_INTERNAL, "too many regions for one placement");
    if (!region_known)
        return sov_error_invalid(err, "region", "region '%s' does not exist", r->region);
    if (!zone_known)
        return sov_error_invalid(err, "zone", "zone '%s' does not exist%s%s", r->zone,
                                 zone_region ? " in region " : "",
                                 zone_region ? zone_region : "");
    *ret_n = allowed;
    return 0;
}

static void
place_q_release(place_q *q)
{
    free(q->why);
    q->why = NULL;
    q->nwhy = 0;
}

static int
no_candidate(const sov_place_request *r, const sov_placement *p, sov_error *err)
{
    char policy[2048], counts[256];
    size_t n = 0;
    /* Hosts in a place the policy, the request and the image all allow. */
    int eligible_places = p->considered - p->rejected[SOV_REJECT_POLICY] -
                          p->rejected[SOV_REJECT_REGION] - p->rejected[SOV_REJECT_COUNTRY] -
                          p->rejected[SOV_REJECT_IMAGE_REGION];

    /* Pinned to one host, the others do not count: only the pinned one's place matters. */
    if (r->pin_host_id && *r->pin_host_id)
        eligible_places -= p->rejected[SOV_REJECT_VOLUME_HOST];

    sov_policy_json(p->policy, policy, sizeof(policy));
    if (eligible_places == 0)
        return sov_error_set(err, SOV_E_RESIDENCY,
                             "no region allowed by the residency policy %s%s%s%s%s%s%s has "
                             "hosts", policy, r->region ? ", narrowed to region " : "",
                             r->region ? r->region : "", r->country ? ", country " : "",
                             r->country ? r->country : "",
                             r->image_region ? ", where the image lives: " : "",
                             r->image_region ? r->image_region : "");
    counts[0] = '\0';
    for (int i = 0; i < SOV_REJECT__COUNT; i++)
        if (p->rejected[i] > 0)
            n += (size_t) snprintf(counts + n, n < sizeof(counts) ? sizeof(counts) - n : 0,
                                   "%s%s %d", n ? ", " : "", reject_names[i], p->rejected[i]);
    return sov_error_set(err, SOV_E_CAPACITY,
                         "no host inside the residency policy can take %d vCPUs, %lld MiB "
                         "memory, %lld GiB disk, %d GPUs: %d hosts considered, rejected for "
                         "%s",
                         r->vcpus, r->memory_mib, r->disk_gib, r->gpus, p->considered,
                         counts[0] ? counts : "nothing");
}

/* Policy, counts and the query shape: what dry runs and claims share. */
static int
prepare(sov_dbconn *c, sov_ctx *ctx, const sov_place_request *r, place_q *q,
        sov_placement *ret, sov_error *err)
{
    int counts[SOV_REJECT__COUNT + 1];
    size_t nallowed = 0;
    sov_policy *policy = ret->policy;     /* kept: filled again below */

    memset(ret, 0, sizeof(*ret));
    ret->policy = policy;
    memset(q, 0, sizeof(*q));
    if (sov_place_request_check(r, err) < 0)
        return -1;
    if (!ret->policy && !(ret->policy = sov_policy_new()))
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (sov_policy_load(c, r->tenant_id, ret->policy, err) < 0 ||
        allowed_regions(c, r, ret->policy, q, &nallowed, err) < 0)
        return -1;
    q->zone = r->zone;
    q->pin_host_id = r->pin_host_id && *r->pin_host_id ? r->pin_host_id : NULL;
    q->exclude_host_id = r->exclude_host_id && *r->exclude_host_id ? r->exclude_host_id : NULL;
    q->group = r->anti_affinity_group;
    q->tenant_id = r->tenant_id;
    q->pack = ctx->cfg && ctx->cfg->placement_strategy &&
              strcmp(ctx->cfg->placement_strategy, "pack") == 0;
    snprintf(ret->strategy, sizeof(ret->strategy), "%s", q->pack ? "pack" : "spread");
    snprintf(q->vcpus, sizeof(q->vcpus), "%d", r->vcpus);
    snprintf(q->memory, sizeof(q->memory), "%lld", r->memory_mib);
    snprintf(q->disk, sizeof(q->disk), "%lld", r->disk_gib);
    snprintf(q->gpus, sizeof(q->gpus), "%d", r->gpus);
    if (sov_repo_place_counts(c, q, counts, err) < 0)
        return -1;
    for (int i = 0; i <= SOV_REJECT__COUNT; i++)
        ret->considered += counts[i];
    memcpy(ret->rejected, counts, sizeof(ret->rejected));
    if (counts[SOV_REJECT__COUNT] == 0)
        return no_candidate(r, ret, err);
    return 0;
}

int
sov_placement_peek(sov_dbconn *c, sov_ctx *ctx, const sov_place_request *r,
                   sov_placement *ret, sov_error *err)
{
    SOV_CLEANUP(place_q_release) place_q q = { .why = NULL };
    bool found = false;

    if (prepare(c, ctx, r, &q, ret, err) < 0 ||
        sov_repo_place_pick(c, &q, PLACE_PEEK, ret, &found, err) < 0)
        return -1;
    if (!found)
        return no_candidate(r, ret, err);
    return 0;
}

int
sov_placement_dry_run(sov_ctx *ctx, const sov_place_request *r, sov_placement *ret,
                      sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_placement_peek(c, ctx, r, ret, err);
}

int
sov_placement_claim(sov_dbconn *c, sov_ctx *ctx, const sov_place_request *r,
                    sov_placement *ret, sov_error *err)
{
    SOV_CLEANUP(place_q_release) place_q q = { .why = NULL };
    bool found = false;
    char reason[256];

    if (prepare(c, ctx, r, &q, ret, err) < 0)
        return -1;
    /* Members of one anti-affinity group are placed one at a time, or two could both see
     * a host free of the group and both take it. */
    if (r->anti_affinity_group &&
        sov_repo_place_group_lock(c, r->tenant_id, r->anti_affinity_group, err) < 0)
        return -1;
    /* First skip hosts that concurrent claims hold, taking the next best. When every
     * candidate is held, wait for one and look again: its room may be gone by then, or
     * not. The loop ends when a claim succeeds or the counts say nothing fits. Each try
     * runs in a savepoint, rolled back when it takes nothing: a host locked and then found
     * full is let go, so a claim that waits holds no host, and claims never wait in a
     * circle. */
    for (int attempt = 0; !found; attempt++) {
        int counts[SOV_REJECT__COUNT + 1];
        if (sov_repo_place_try(c, &q, attempt == 0 ? PLACE_CLAIM : PLACE_CLAIM_WAIT, ret, &found,
                               err) < 0)
            return -1;
        if (found)
            break;
        if (sov_repo_place_counts(c, &q, counts, err) < 0)
            return -1;
        if (counts[SOV_REJECT__COUNT] == 0 || attempt == 50) {
            memcpy(ret->rejected, counts, sizeof(ret->rejected));
            ret->rejected[SOV_REJECT_CAPACITY] += counts[SOV_REJECT__COUNT];
            return no_candidate(r, ret, err);
        }
    }
    if (sov_repo_allocation_insert(c, &q, r, ret->host_id, ret->allocation_id, err) < 0)
        return -1;
    /* A migration's reservation is no placement of its own: the resource stays where it is
     * (its "placed" record and decision stand) until the move commits and writes "moved".
     * ret->id stays "". */
    if (r->reserve)
        return 0;
    if (sov_repo_placement_insert(c, r, ret, err, ret->id) < 0)
        return -1;
    snprintf(reason, sizeof(reason), "placed by the scheduler (%s) on host %s: %d hosts "
                                     "considered%s%s",
             ret->strategy, ret->host_name, ret->considered, r->note ? "; " : "",
             r->note ? r->note : "");
    return sov_residency_record(c, r->tenant_id, r->resource_type ? r->resource_type : "",
                                r->resource_id ? r->resource_id : "", "placed", NULL,
                                &ret->location, ret->policy, reason, r->operation_id, err);
}

int
sov_placement_grow(sov_dbconn *c, const char *allocation_id, long long disk_gib, bool *ret,
                   sov_error *err)
{
    if (!sov_uuid_valid(allocation_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "allocation '%s' does not exist",
                             allocation_id);
    return sov_repo_allocation_grow(c, allocation_id, disk_gib, ret, err);
}

int
sov_placement_move(sov_dbconn *c, const char *allocation_id, const char *host_id,
                   sov_error *err)
{
    if (!sov_uuid_valid(allocation_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "allocation '%s' does not exist",
                             allocation_id);
    if (!sov_uuid_valid(host_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "host '%s' does not exist", host_id);
    return sov_repo_allocation_move(c, allocation_id, host_id, err);
}

int
sov_placement_release(sov_dbconn *c, const char *allocation_id, sov_error *err)
{
    if (!sov_uuid_valid(allocation_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "allocation '%s' does not exist",
                             allocation_id);
    return sov_repo_allocation_release(c, allocation_id, err);
}
