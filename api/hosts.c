/* hosts.c: /v1/hosts. Operators add libvirt hypervisors (202: a worker discovers what they
 * are made of and which machine they are), confirm a different machine found behind a
 * host's URI, list and read them, take them out of placement (disabled, draining, maintenance),
 * evacuate them (202: a worker migrates each instance elsewhere inside its policy) and remove
 * empty ones. down and up are the reconciler's to set; the route table holds the role policy. */
#include <stdio.h>

#include "handlers.h"
#include "sov/compute.h"

/* floor(v * ratio) as PostgreSQL computes it for placement: ratios have two decimals, so in
 * hundredths the product is exact (0.29 * 100 in doubles would floor to 28). */
static json_int_t
scaled(long long v, double ratio)
{
    long long hundredths = (long long) (ratio * 100 + 0.5);

    return (json_int_t) (v * hundredths / 100);
}

/* Which machine: null until discovery found it (or, for machine_seen, while no other one
 * answers at the URI). */
static json_t *
machine_json(const sov_hv_identity *m)
{
    if (!m->machine_id[0])
        return json_null();
    return json_pack("{s:s, s:s?, s:s?}", "id", m->machine_id, "host_uuid",
                     m->host_uuid[0] ? m->host_uuid : NULL, "smbios_uuid",
                     m->smbios_uuid[0] ? m->smbios_uuid : NULL);
}

static json_t *
host_json(const sov_host *h)
{
    json_t *j = json_object();
    json_t *models = json_array();

    for (int i = 0; i < h->node.ngpu_models; i++)
        json_array_append_new(models, json_string(h->node.gpu_models[i]));
    json_object_set_new(j, "id", json_string(h->id));
    json_object_set_new(j, "name", json_string(h->name));
    json_object_set_new(j, "region", json_string(h->region));
    json_object_set_new(j, "zone", json_string(h->zone));
    json_object_set_new(j, "libvirt_uri", json_string(h->libvirt_uri));
    json_object_set_new(j, "state", json_string(h->state));
    json_object_set_new(j, "state_reason", json_string(h->state_reason));
    json_object_set_new(j, "machine", machine_json(&h->machine));
    json_object_set_new(j, "machine_seen", machine_json(&h->machine_seen));
    json_object_set_new(j, "hypervisor", json_string(h->node.hypervisor));
    if (h->node.hypervisor_reason[0])
        json_object_set_new(j, "hypervisor_reason", json_string(h->node.hypervisor_reason));
    json_object_set_new(j, "cpu_model", json_string(h->node.cpu_model));
    json_object_set_new(j, "cpus", json_integer(h->node.cpus));
    json_object_set_new(j, "memory_mib", json_integer(h->node.memory_mib));
    json_object_set_new(j, "numa_cells", json_integer(h->node.numa_cells));
    json_object_set_new(j, "storage_pool", json_string(h->node.storage_pool));
    json_object_set_new(j, "storage_gib", json_integer(h->node.storage_gib));
    json_object_set_new(j, "gpus", json_integer(h->node.gpus));
    json_object_set_new(j, "gpu_models", models);
    json_object_set_new(j, "cpu_allocation_ratio", json_real(h->cpu_allocation_ratio));
    json_object_set_new(j, "ram_allocation_ratio", json_real(h->ram_allocation_ratio));
    json_object_set_new(j, "usage",
                        json_pack("{s:i, s:I, s:I, s:i}", "vcpus", h->vcpus_used, "memory_mib",
                                  (json_int_t) h->memory_mib_used, "disk_gib",
                                  (json_int_t) h->disk_gib_used, "gpus", h->gpus_used));
    /* What placement may hand out: the hardware times the operator's overcommit. */
    json_object_set_new(j, "capacity",
                        json_pack("{s:I, s:I, s:I, s:i}", "vcpus",
                                  scaled(h->node.cpus, h->cpu_allocation_ratio), "memory_mib",
                                  scaled(h->node.memory_mib, h->ram_allocation_ratio),
                                  "disk_gib", (json_int_t) h->node.storage_gib, "gpus",
                                  h->node.gpus));
    json_object_set_new(j, "checked_at",
                        h->checked_at[0] ? json_string(h->checked_at) : json_null());
    json_object_set_new(j, "down_since", sov_api_str_or_null(h->down_since));
    json_object_set_new(j, "created_at", json_string(h->created_at));
    json_object_set_new(j, "updated_at", json_string(h->updated_at));
    return j;
}

/* An optional ratio: 0 when absent or null (the service's "not given"); a given one must be
 * positive here, since the service reads <= 0 as "not given". */
static int
body_ratio(sov_request *req, const char *field, double *ret, sov_error *err)
{
    json_t *v = req->body ? json_object_get(req->body, field) : NULL;

    *ret = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_number_value(v) <= 0)
        return sov_error_invalid(err, field, "%s must be a number from 0.01 to 100", field);
    *ret = json_number_value(v);
    return 0;
}

/* POST /v1/hosts: 202 with the host (discovering) and its host.register operation. */
/* A registration's answer, rendered inside its transaction for an Idempotency-Key: the
 * shape every 202 of a resource has, {"host": ..., "operation": ...}. */
typedef struct accepted {
    sov_host h;
    sov_op op;
} accepted;

static json_t *
accepted_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const accepted *c = arg;

    return sov_api_accepted_json("host", host_json(&c->h), &c->op, status, location,
                                 location_size);
}

enum MHD_Result
sov_handle_host_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },
        { "region", JSON_STRING, true },
        { "zone", JSON_STRING, true },
        { "libvirt_uri", JSON_STRING, true },
        { "cpu_allocation_ratio", JSON_REAL, false },
        { "ram_allocation_ratio", JSON_REAL, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_host_create_args a = { 0 };
    accepted c;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        body_ratio(req, "cpu_allocation_ratio", &a.cpu_allocation_ratio, &err) < 0 ||
        body_ratio(req, "ram_allocation_ratio", &a.ram_allocation_ratio, &err) < 0)
        return sov_api_reply_problem(req, &err);
    a.name = sov_api_body_str(req, "name");
    a.region = sov_api_body_str(req, "region");
    a.zone = sov_api_body_str(req, "zone");
    a.libvirt_uri = sov_api_body_str(req, "libvirt_uri");
    sov_api_answer_in_tx(req, accepted_json, &c);
    if (sov_host_create(&req->ctx, &a, &c.h, &c.op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, accepted_json, &c);
}

/* GET /v1/hosts?region=&state= */
enum MHD_Result
sov_handle_host_list(sov_request *req)
{
    static const char *const keep[] = { "region", "state", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_host_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_host_list(&req->ctx, sov_request_query(req, "region"),
                      sov_request_query(req, "state"), after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, host_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/hosts/{id} */
enum MHD_Result
sov_handle_host_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_host h;

    if (sov_host_get(&req->ctx, sov_request_param(req, "id"), &h, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = host_json(&h);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* PATCH /v1/hosts/{id} */
enum MHD_Result
sov_handle_host_update(sov_request *req)
{
    static const sov_field fields[] = {
        { "state", JSON_STRING, false },
        { "cpu_allocation_ratio", JSON_REAL, false },
        { "ram_allocation_ratio", JSON_REAL, false },
    };
    sov_error err = SOV_ERROR_INIT;
    double cpu = 0, ram = 0;
    sov_host h;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        body_ratio(req, "cpu_allocation_ratio", &cpu, &err) < 0 ||
        body_ratio(req, "ram_allocation_ratio", &ram, &err) < 0 ||
        sov_host_update(&req->ctx, sov_request_param(req, "id"),
                        sov_api_body_str(req, "state"), cpu, ram, &h, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = host_json(&h);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* POST /v1/hosts/{id}/confirm-machine: accept the different machine the reconciler found at
 * the host's URI (no body). */
enum MHD_Result
sov_handle_host_confirm_machine(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_host h;

    if (sov_host_confirm_machine(&req->ctx, sov_request_param(req, "id"), &h, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = host_json(&h);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* POST /v1/hosts/{id}/evacuate (no body): 202 with the host (maintenance) and the
 * host.evacuate operation (the one under way when asked again). */
enum MHD_Result
sov_handle_host_evacuate(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_host h;
    sov_op op;

    if (sov_api_check_body(req, NULL, 0, &err) < 0 ||
        sov_host_evacuate(&req->ctx, sov_request_param(req, "id"), &op, &err) < 0 ||
        sov_host_get(&req->ctx, sov_request_param(req, "id"), &h, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = json_pack("{s:o}", "host", host_json(&h));
    return sov_api_reply_accepted(req, body, &op);
}

/* DELETE /v1/hosts/{id} */
enum MHD_Result
sov_handle_host_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_host_delete(&req->ctx, sov_request_param(req, "id"), &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply(req, MHD_HTTP_NO_CONTENT, NULL);
}
