/* instances.c: /v1/instances. Creating, acting on and deleting answer 202 with the
 * operation that carries the work out (Location: /v1/operations/{id}). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "sov/compute.h"
#include "sov/network.h"
#include "sov/storage.h"

#define CONSOLE_TAIL_DEFAULT (64 * 1024)
#define CONSOLE_TAIL_MAX (1024 * 1024)

static json_t *
instance_json(const sov_instance *x)
{
    json_t *addresses = json_array(), *rejected = json_object();
    const char *a = x->addresses;
    const sov_placement *p = x->placement;

    while (*a) {
        size_t len = strcspn(a, ",");
        json_array_append_new(addresses, json_stringn(a, len));
        a += len;
        if (*a == ',')
            a++;
    }
    for (int i = 0; i < SOV_REJECT__COUNT; i++)
        json_object_set_new(rejected, sov_reject_name((sov_reject) i),
                            json_integer(p ? p->rejected[i] : 0));
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:i, s:s, s:s,"
                          " s:s, s:s, s:s, s:o}",
                          "id", x->id, "tenant_id", x->tenant_id, "workspace", x->workspace,
                          "name", x->name, "flavor_id", x->flavor_id, "image_id", x->image_id,
                          "vcpus", x->vcpus, "memory_mib", (json_int_t) x->memory_mib,
                          "disk_gib", (json_int_t) x->disk_gib, "gpus", x->gpus, "region",
                          x->region, "zone", x->zone, "state", x->state, "state_reason",
                          x->state_reason, "mac", x->mac, "addresses", addresses);
    json_object_set_new(j, "host", x->host_name[0]
                                       ? json_pack("{s:s, s:s}", "id", x->host_id, "name",
                                                   x->host_name)
                                       : json_null());
    json_object_set_new(j, "anti_affinity_group", sov_api_str_or_null(x->anti_affinity_group));
    /* An instance that boots from a volume has no image of its own. */
    json_object_set_new(j, "image_id", sov_api_str_or_null(x->image_id));
    json_object_set_new(j, "boot_volume", sov_api_str_or_null(x->boot_volume_id));
    /* A deleted instance outlives its flavor, workspace and tenant: then null. */
    json_object_set_new(j, "flavor_id", sov_api_str_or_null(x->flavor_id));
    json_object_set_new(j, "workspace", sov_api_str_or_null(x->workspace));
    json_object_set_new(j, "tenant_id", sov_api_str_or_null(x->tenant_id));
    json_object_set_new(j, "placement",
                        p && p->strategy[0]
                            ? json_pack("{s:s, s:s, s:s, s:i, s:o, s:s}", "host",
                                        p->host_name, "region", p->region, "zone", p->zone,
                                        "considered", p->considered, "rejected", rejected,
                                        "strategy", p->strategy)
                            : (json_decref(rejected), json_null()));
    json_object_set_new(j, "residency", sov_api_location_json(&x->residency,
                                                              x->residency_since));
    json_object_set_new(j, "operation_id", sov_api_str_or_null(x->operation_id));
    json_object_set_new(j, "created_at", json_string(x->created_at));
    json_object_set_new(j, "updated_at", json_string(x->updated_at));
    return j;
}

/* volumes: [{id, name, device, boot}], in device order. Only GET /v1/instances/{id} shows
 * them: the list and the answers of create, actions and delete leave the member out. */
static json_t *
volumes_json(const sov_volume *v, size_t n)
{
    json_t *list = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:b}", "id", v[i].id, "name",
                                              v[i].name, "device", v[i].attachment.device,
                                              "boot", v[i].attachment.boot));
    return list;
}

/* nics: [{port, network, subnet, ip, mac, up, public_ip}], in device order (an instance on
 * tenant networks; GET /v1/instances/{id} only, as volumes). */
static json_t *
nics_json(const sov_port *p, size_t n)
{
    json_t *list = json_array();

    for (size_t i = 0; i < n; i++) {
        json_t *nic = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "port", p[i].id, "network",
                                p[i].network_id, "subnet", p[i].subnet_id, "ip", p[i].ip,
                                "mac", p[i].mac, "up", p[i].up);
        json_object_set_new(nic, "public_ip", sov_api_str_or_null(p[i].public_ip));
        json_array_append_new(list, nic);
    }
    return list;
}

/* An instance on tenant networks is reached at its ports' addresses (and their public
 * IPs), not at NAT leases. */
static json_t *
port_addresses(const sov_port *p, size_t n)
{
    json_t *list = json_array();

    for (size_t i = 0; i < n; i++) {
        if (p[i].ip[0])
            json_array_append_new(list, json_string(p[i].ip));
        if (p[i].public_ip[0])
            json_array_append_new(list, json_string(p[i].public_ip));
    }
    return list;
}

/* One nics[i] member: {subnet | port, ip?, security_groups?}; unknown members named. */
static int
body_nic(json_t *nic, size_t i, sov_instance_nic_args *n, const char **groups,
         sov_error *err)
{
    char field[64];
    const char *key;
    json_t *v, *g;
    size_t k;

    snprintf(field, sizeof(field), "nics[%zu]", i);
    if (!json_is_object(nic))
        return sov_error_invalid(err, field, "%s must be an object: {subnet or port, ip, "
                                 "security_groups}", field);
    json_object_foreach(nic, key, v) {
        snprintf(field, sizeof(field), "nics[%zu].%.32s", i, key);
        if (strcmp(key, "subnet") == 0 || strcmp(key, "port") == 0 ||
            strcmp(key, "ip") == 0) {
            if (!json_is_string(v) && !json_is_null(v))
                return sov_error_invalid(err, field, "%s must be a string", field);
        } else if (strcmp(key, "security_groups") == 0) {
            if (!json_is_array(v))
                return sov_error_invalid(err, field, "%s must be an array of security group "
                                         "names or ids", field);
            if (json_array_size(v) > SOV_NET_SG_MAX)
                return sov_error_invalid(err, field, "at most %d security groups",
                                         SOV_NET_SG_MAX);
            json_array_foreach(v, k, g) {
                if (!json_is_string(g))
                    return sov_error_invalid(err, field, "%s must be strings", field);
                groups[k] = json_string_value(g);
            }
            n->security_groups = groups;
            n->nsecurity_groups = json_array_size(v);
            n->has_security_groups = true;
        } else {
            snprintf(field, sizeof(field), "nics[%zu]", i);
            return sov_error_invalid(err, field, "unknown field 'nics[%zu].%.32s'", i, key);
        }
    }
    n->subnet = json_string_value(json_object_get(nic, "subnet"));
    n->port = json_string_value(json_object_get(nic, "port"));
    n->ip = json_string_value(json_object_get(nic, "ip"));
    return 0;
}

int
sov_api_instance_network(sov_request *req, sov_instance_network_args *a, sov_api_nics *buf,
                         sov_error *err)
{
    json_t *list = req->body ? json_object_get(req->body, "nics") : NULL;
    size_t i;
    json_t *nic;

    memset(a, 0, sizeof(*a));
    memset(buf, 0, sizeof(*buf));
    if (!list || json_is_null(list))
        return 0;
    if (!json_is_array(list))
        return sov_error_invalid(err, "nics", "nics must be an array");
    if (json_array_size(list) > SOV_INSTANCE_NICS_MAX)
        return sov_error_invalid(err, "nics", "at most %d NICs", SOV_INSTANCE_NICS_MAX);
    json_array_foreach(list, i, nic)
        if (body_nic(nic, i, &buf->nics[i], buf->groups[i], err) < 0)
            return -1;
    a->nics = buf->nics;
    a->nnics = json_array_size(list);
    a->has_nics = true;
    return 0;
}

/* ssh_keys: an array of strings, or absent. */
static int
body_keys(sov_request *req, const char **keys, size_t max, size_t *n, sov_error *err)
{
    json_t *list = json_object_get(req->body, "ssh_keys");
    size_t i;
    json_t *k;

    *n = 0;
    if (!list || json_is_null(list))
        return 0;
    if (json_array_size(list) > max)
        return sov_error_invalid(err, "ssh_keys", "at most %zu SSH keys", max);
    json_array_foreach(list, i, k) {
        if (!json_is_string(k))
            return sov_error_invalid(err, "ssh_keys", "ssh_keys must be strings");
        keys[i] = json_string_value(k);
    }
    *n = json_array_size(list);
    return 0;
}

/* boot: {image, size_gib?, type?}: a new volume made from the image, which the instance
 * boots from. Members are checked here as the body's are (unknown ones named); sizes and
 * names are storage/'s rules. */
static int
body_boot(json_t *boot, sov_instance_storage_args *s, sov_error *err)
{
    const char *key;
    json_t *v;

    json_object_foreach(boot, key, v) {
        if (strcmp(key, "image") == 0 || strcmp(key, "type") == 0) {
            if (!json_is_string(v) && !(json_is_null(v) && strcmp(key, "type") == 0))
                return sov_error_invalid(err, strcmp(key, "image") == 0 ? "boot.image"
                                                                         : "boot.type",
                                         "boot.%s must be a string", key);
        } else if (strcmp(key, "size_gib") == 0) {
            if (!json_is_integer(v) && !json_is_null(v))
                return sov_error_invalid(err, "boot.size_gib",
                                         "boot.size_gib must be a whole number");
        } else {
            return sov_error_invalid(err, "boot", "unknown field 'boot.%.48s'", key);
        }
    }
    s->boot_image = json_string_value(json_object_get(boot, "image"));
    if (!s->boot_image)
        return sov_error_invalid(err, "boot.image", "boot.image is required: the image the "
                                 "new boot volume is made from");
    s->boot_type = json_string_value(json_object_get(boot, "type"));
    s->boot_size_gib = json_integer_value(json_object_get(boot, "size_gib"));
    return 0;
}

int
sov_api_instance_storage(sov_request *req, sov_instance_storage_args *s, const char **vols,
                         size_t max, bool *given, sov_error *err)
{
    json_t *boot = req->body ? json_object_get(req->body, "boot") : NULL;
    json_t *list = req->body ? json_object_get(req->body, "volumes") : NULL;
    size_t i;
    json_t *v;

    memset(s, 0, sizeof(*s));
    *given = false;
    s->boot_volume = sov_api_body_str(req, "boot_volume");
    if (boot && !json_is_null(boot)) {
        if (!json_is_object(boot))
            return sov_error_invalid(err, "boot", "boot must be an object");
        if (s->boot_volume)
            return sov_error_invalid(err, "boot", "give boot_volume (an existing volume) or "
                                     "boot (a new volume from an image), not both");
        if (body_boot(boot, s, err) < 0)
            return -1;
    }
    if (list && !json_is_null(list)) {
        if (!json_is_array(list))
            return sov_error_invalid(err, "volumes", "volumes must be an array");
        if (json_array_size(list) > max)
            return sov_error_invalid(err, "volumes", "at most %zu volumes at create", max);
        json_array_foreach(list, i, v) {
            if (!json_is_string(v))
                return sov_error_invalid(err, "volumes", "volumes must be strings (volume "
                                         "ids or names)");
            vols[i] = json_string_value(v);
        }
        s->volumes = vols;
        s->nvolumes = json_array_size(list);
    }
    *given = s->boot_volume || s->boot_image || s->nvolumes > 0;
    return 0;
}

/* What a create fills in, and its 202: {"instance": ..., "operation": ...}. */
typedef struct created {
    sov_instance x;
    sov_op op;
} created;

static void
created_release(created *c)
{
    sov_instance_release(&c->x);
}

static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const created *c = arg;

    return sov_api_accepted_json("instance", instance_json(&c->x), &c->op, status, location,
                                 location_size);
}

void
sov_api_instance_args(sov_request *req, sov_instance_create_args *a)
{
    a->name = sov_api_body_str(req, "name");
    a->flavor = sov_api_body_str(req, "flavor");
    a->image = sov_api_body_str(req, "image");
    a->workspace = sov_api_body_str(req, "workspace");
    a->region = sov_api_body_str(req, "region");
    a->zone = sov_api_body_str(req, "zone");
    a->country = sov_api_body_str(req, "country");
    a->user_data = sov_api_body_str(req, "user_data");
    a->anti_affinity_group = sov_api_body_str(req, "anti_affinity_group");
}

/* POST /v1/instances */
enum MHD_Result
sov_handle_instance_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },      { "flavor", JSON_STRING, true },
        { "image", JSON_STRING, false },    { "workspace", JSON_STRING, false },
        { "region", JSON_STRING, false },   { "zone", JSON_STRING, false },
        { "country", JSON_STRING, false },  { "user_data", JSON_STRING, false },
        { "ssh_keys", JSON_ARRAY, false },  { "anti_affinity_group", JSON_STRING, false },
        { "tenant_id", JSON_STRING, false },
        { "boot_volume", JSON_STRING, false }, { "boot", JSON_OBJECT, false },
        { "volumes", JSON_ARRAY, false },
        { "nics", JSON_ARRAY, false },
    };
    sov_error err = SOV_ERROR_INIT;
    const char *keys[32], *vols[SOV_API_INSTANCE_VOLUMES_MAX];
    sov_instance_create_args a = { 0 };
    sov_instance_storage_args st;
    sov_instance_network_args net;
    sov_api_nics nics;
    bool storage = false;
    SOV_CLEANUP(created_release) created c = { .x = { .placement = NULL } };

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        body_keys(req, keys, SOV_N_ELEMENTS(keys), &a.nssh_keys, &err) < 0 ||
        sov_api_instance_storage(req, &st, vols, SOV_N_ELEMENTS(vols), &storage, &err) < 0 ||
        sov_api_instance_network(req, &net, &nics, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_api_instance_args(req, &a);
    a.ssh_keys = keys;
    /* network/'s entry always goes: no nics is a NIC on the default subnet. */
    sov_instance_ext ext[] = { { "network", &net }, { "storage", &st } };
    a.ext = ext;
    a.next = storage ? 2 : 1;
    sov_api_answer_in_tx(req, created_json, &c);
    if (sov_instance_create(&req->ctx, sov_api_body_str(req, "tenant_id"), &a, &c.x, &c.op,
                            &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &c);
}

/* GET /v1/instances?workspace=&region=&state=&name=&tenant_id= */
enum MHD_Result
sov_handle_instance_list(sov_request *req)
{
    static const char *const keep[] = { "workspace", "region", "state", "name", "tenant_id",
                                        NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_instance_page) page = NULL;
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_instance_list(&req->ctx, sov_request_query(req, "tenant_id"),
                          sov_request_query(req, "workspace"), sov_request_query(req, "region"),
                          sov_request_query(req, "state"), sov_request_query(req, "name"),
                          after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page->n; i++)
        json_array_append_new(items, instance_json(page->items[i]));
    sov_autoptr(json_t) body = sov_api_list(req, items, page->next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/instances/{id} */
enum MHD_Result
sov_handle_instance_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *tenant_id = sov_request_query(req, "tenant_id");
    SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };
    sov_autofree sov_volume *vols = NULL;
    sov_autofree sov_port *ports = NULL;
    size_t nvols = 0, nports = 0;

    if (sov_instance_get(&req->ctx, tenant_id, sov_request_param(req, "id"), &x, &err) < 0 ||
        sov_instance_volumes(&req->ctx, tenant_id, x.id, &vols, &nvols, &err) < 0 ||
        (!x.nat_nic &&
         sov_instance_ports(&req->ctx, tenant_id, x.id, &ports, &nports, &err) < 0))
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = instance_json(&x);
    json_object_set_new(body, "volumes", volumes_json(vols, nvols));
    json_object_set_new(body, "nics", nics_json(ports, nports));
    if (!x.nat_nic)
        json_object_set_new(body, "addresses", port_addresses(ports, nports));
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* The body of a migrate: live (true, false, or absent for the default) and host. */
static int
migrate_body(sov_request *req, sov_migrate_args *a, sov_error *err)
{
    json_t *live = json_object_get(req->body, "live");

    a->live = json_is_boolean(live) ? json_is_true(live) : -1;
    a->host = sov_api_body_str(req, "host");
    return 0;
}

/* POST /v1/instances/{id}/actions?tenant_id= {action: start|stop|reboot|hard_stop}, or
 * {action: migrate, live?, host?} (host: operators only) */
enum MHD_Result
sov_handle_instance_action(sov_request *req)
{
    static const sov_field fields[] = {
        { "action", JSON_STRING, true }, { "live", JSON_TRUE, false },
        { "host", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };
    const char *action;
    sov_migrate_args ma = { -1, NULL };
    sov_op op;
    int rc;

    /* Another tenant's instance is not there, whatever the body says: look first. */
    if (sov_instance_get(&req->ctx, tenant_id, id, &x, &err) < 0 ||
        sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0)
        return sov_api_reply_problem(req, &err);
    action = sov_api_body_str(req, "action");
    if (strcmp(action, "migrate") == 0) {
        rc = migrate_body(req, &ma, &err) < 0 ? -1
             : sov_instance_migrate(&req->ctx, tenant_id, id, &ma, &op, &err);
    } else if (json_object_get(req->body, "live") || json_object_get(req->body, "host")) {
        const char *f = json_object_get(req->body, "live") ? "live" : "host";
        rc = sov_error_invalid(&err, f, "%s applies to action migrate only", f);
    } else {
        rc = sov_instance_action(&req->ctx, tenant_id, id, action, &op, &err);
    }
    if (rc < 0 || sov_instance_get(&req->ctx, tenant_id, id, &x, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = json_pack("{s:o}", "instance", instance_json(&x));
    return sov_api_reply_accepted(req, body, &op);
}

static json_t *
bytes_or_null(long long v)
{
    return v < 0 ? json_null() : json_integer((json_int_t) v);
}

/* One migration; host ids for operators only (a tenant sees where, not which machine). */
static json_t *
migration_json(const sov_instance_migration *m, bool operator)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "id", m->id, "instance_id",
                          m->instance_id, "operation_id", m->operation_id, "live", m->live,
                          "source", m->source_host, "target", m->target_host, "state",
                          m->state);

    json_object_set_new(j, "reason", sov_api_str_or_null(m->state_reason));
    if (operator) {
        json_object_set_new(j, "source_host_id", sov_api_str_or_null(m->source_host_id));
        json_object_set_new(j, "target_host_id", sov_api_str_or_null(m->target_host_id));
    }
    json_object_set_new(j, "progress",
                        json_pack("{s:o, s:o, s:o, s:o, s:o}", "data_total",
                                  bytes_or_null(m->data_total), "data_processed",
                                  bytes_or_null(m->data_processed), "data_remaining",
                                  bytes_or_null(m->data_remaining), "disk_total",
                                  bytes_or_null(m->disk_total), "disk_processed",
                                  bytes_or_null(m->disk_processed)));
    json_object_set_new(j, "downtime_ms", bytes_or_null(m->downtime_ms));
    json_object_set_new(j, "created_at", json_string(m->created_at));
    json_object_set_new(j, "updated_at", json_string(m->updated_at));
    json_object_set_new(j, "finished_at", sov_api_str_or_null(m->finished_at));
    return j;
}

/* GET /v1/instances/{id}/migrations?tenant_id=&limit=&after= */
enum MHD_Result
sov_handle_instance_migrations(sov_request *req)
{
    static const char *const keep[] = { "tenant_id", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_instance_migration_page page = { 0 };
    bool operator = sov_ctx_is_operator(&req->ctx);
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_instance_migrations(&req->ctx, sov_request_query(req, "tenant_id"),
                                sov_request_param(req, "id"), after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, migration_json(&page.items[i], operator));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/instances/{id}?tenant_id= */
enum MHD_Result
sov_handle_instance_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };
    sov_op op;

    if (sov_instance_delete(&req->ctx, tenant_id, id, &op, &err) < 0 ||
        sov_instance_get(&req->ctx, tenant_id, id, &x, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = json_pack("{s:o}", "instance", instance_json(&x));
    return sov_api_reply_accepted(req, body, &op);
}

/* ?tail_bytes=: how much of the log's end to answer, 1 to CONSOLE_TAIL_MAX. */
static int
tail_bytes(sov_request *req, size_t *ret, sov_error *err)
{
    const char *v = sov_request_query(req, "tail_bytes");
    char *end = NULL;
    unsigned long n;

    *ret = CONSOLE_TAIL_DEFAULT;
    if (!v)
        return 0;
    /* Digits only: strtoul alone would also take " 1", "+1" and "-1" (as ULONG_MAX). */
    n = strtoul(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || *end || n < 1 || n > CONSOLE_TAIL_MAX)
        return sov_error_invalid(err, "tail_bytes",
                                 "tail_bytes must be a whole number from 1 to %d",
                                 CONSOLE_TAIL_MAX);
    *ret = n;
    return 0;
}

static void
console_free(void *state)
{
    sov_console_read_free(state);
}

static void
console_ready(void *req)
{
    sov_request_resume(req);
}

/* The console read came back (or its host did not answer in time): reply. */
static enum MHD_Result
console_reply(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    char *text = NULL;
    size_t len = 0;
    enum MHD_Result r;

    if (sov_console_read_result(sov_request_later_state(req), &text, &len, &err) < 0)
        return sov_api_reply_problem(req, &err);
    r = sov_api_reply_bytes(req, MHD_HTTP_OK, "text/plain; charset=utf-8", text, len);
    free(text);
    return r;
}

/* GET /v1/instances/{id}/console?tail_bytes=: the tail of the serial console, as text. The
 * host is asked on a thread of the service's while the connection sleeps: a hung host holds
 * no HTTP thread, and answers 503 after console_timeout_ms. */
enum MHD_Result
sov_handle_instance_console(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_console_read *read = NULL;
    size_t tail = 0;

    if (tail_bytes(req, &tail, &err) < 0 ||
        sov_instance_console_open(&req->ctx, NULL, sov_request_param(req, "id"), tail, &read,
                                  &err) < 0)
        return sov_api_reply_problem(req, &err);
    /* Suspended first: the read may be back before this function returns. */
    sov_request_suspend(req, console_reply, read, console_free);
    sov_console_read_start(read, console_ready, req);
    return MHD_YES;
}
