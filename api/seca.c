/* seca.c: the SECA surface's shared edge (api/seca.h): path, envelope, references, lists,
 * SECA's error form. */
#include <stdlib.h>
#include <string.h>

#include "seca.h"

const char *
sov_seca_tenant(sov_request *req)
{
    return sov_request_param(req, "tenant");
}

const char *
sov_seca_tenant_id(sov_request *req)
{
    return sov_request_param(req, "tenant");
}

const char *
sov_seca_workspace(sov_request *req)
{
    return sov_request_param(req, "workspace");
}

const char *
sov_seca_network(sov_request *req)
{
    return sov_request_param(req, "network");
}

const char *
sov_seca_name(sov_request *req)
{
    return sov_request_param(req, "name");
}

int
sov_seca_default_region(sov_request *req, char *ret, size_t size, sov_error *err)
{
    (void) req, (void) ret, (void) size;
    return sov_error_set(err, SOV_E_INTERNAL, "not built yet");
}

int
sov_seca_input_read(sov_request *req, const sov_field *spec_fields, size_t n,
                    bool spec_required, sov_seca_input *in, sov_error *err)
{
    (void) req, (void) spec_fields, (void) n, (void) spec_required;
    memset(in, 0, sizeof(*in));
    return sov_error_set(err, SOV_E_INTERNAL, "not built yet");
}

int
sov_seca_ref_read(sov_request *req, const json_t *ref, const char *plural, const char *pointer,
                  sov_seca_ref *ret, sov_error *err)
{
    (void) req, (void) ref, (void) plural, (void) pointer;
    memset(ret, 0, sizeof(*ret));
    return sov_error_set(err, SOV_E_INTERNAL, "not built yet");
}

json_t *
sov_seca_ref_json(sov_request *req, const sov_seca_type *t, const char *workspace,
                  const char *network, const char *name)
{
    (void) req, (void) t, (void) workspace, (void) network;
    return json_pack("{s:s}", "resource", name);
}

json_t *
sov_seca_resource(sov_request *req, const sov_seca_type *t, const char *workspace,
                  const char *network, const char *name, const char *region,
                  const sov_seca_meta *m, json_t *spec, json_t *status, json_t *residency)
{
    (void) req, (void) t, (void) workspace, (void) network, (void) name, (void) region;
    (void) m;
    json_decref(status);
    json_decref(residency);
    return json_pack("{s:o}", "spec", spec ? spec : json_object());
}

struct sov_seca_list {
    json_t *items;
};

int
sov_seca_list_begin(sov_request *req, sov_seca_list **ret, sov_error *err)
{
    (void) req;
    *ret = calloc(1, sizeof(**ret));
    if (!*ret)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    (*ret)->items = json_array();
    return 0;
}

void
sov_seca_list_add(sov_seca_list *l, json_t *item)
{
    json_array_append_new(l->items, item);
}

enum MHD_Result
sov_seca_list_reply(sov_request *req, const sov_seca_type *t, sov_seca_list *l)
{
    (void) t;
    sov_autoptr(json_t) body = json_pack("{s:O}", "items", l->items);
    return sov_seca_reply(req, MHD_HTTP_OK, body);
}

void
sov_seca_list_free(sov_seca_list *l)
{
    if (!l)
        return;
    json_decref(l->items);
    free(l);
}

enum MHD_Result
sov_seca_reply(sov_request *req, unsigned status, json_t *body)
{
    return sov_api_reply_json_as(req, status, body, "application/json");
}

enum MHD_Result
sov_seca_reply_error(sov_request *req, const sov_error *err, bool write)
{
    (void) write;
    return sov_api_reply_problem(req, err);
}

enum MHD_Result
sov_seca_reply_unbuilt(sov_request *req)
{
    return sov_seca_reply_status(req, 501, "not built yet", NULL);
}

bool
sov_seca_path(const char *path)
{
    return path && (strncmp(path, "/providers/", 11) == 0 ||
                    strcmp(path, "/.wellknown/secapi") == 0);
}

enum MHD_Result
sov_seca_reply_status(sov_request *req, unsigned status, const char *detail,
                      const char *pointer)
{
    (void) pointer;
    sov_autoptr(json_t) body = json_pack("{s:s, s:s, s:i, s:s, s:s, s:[]}", "type",
                                         "http://secapi.cloud/errors/internal-server-error",
                                         "title", "Not Implemented", "status", (int) status,
                                         "detail", detail, "instance", req->path, "sources");
    return sov_api_reply_json_as(req, status, body, "application/json");
}
