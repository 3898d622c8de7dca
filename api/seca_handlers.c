/* seca_handlers.c: what the SECA resource handlers (api/seca_*.c) repeat, beside the edge
 * itself (seca.c): a /v1 state as SECA's, an invalid member, if-unmodified-since without an
 * envelope, lists read page by page from a /v1 service, lists of SECA objects (seca.h), and
 * the flow around a service's write (its meta, the version check, create-or-update, the
 * answer, a deletion's 202). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca.h"

sov_seca_state
sov_seca_state_of(const char *state)
{
    if (strcmp(state, "error") == 0)
        return SOV_SECA_ERROR;
    if (strcmp(state, "deleting") == 0 || strcmp(state, "deleted") == 0)
        return SOV_SECA_DELETING;
    return SOV_SECA_ACTIVE;
}

int
sov_seca_bad(sov_error *err, const char *pointer, const char *what)
{
    return sov_error_invalid(err, pointer, "%s: %s", pointer, what);
}

int
sov_seca_header_version(sov_request *req, long long *ret, sov_error *err)
{
    const char *h = sov_request_header(req, "if-unmodified-since");
    char *end = NULL;
    long long v;

    *ret = 0;
    if (!h)
        return 0;
    errno = 0;
    v = strtoll(h, &end, 10);
    if (errno != 0 || end == h || *end || v < 1)
        return sov_error_invalid(err, "if-unmodified-since", "if-unmodified-since must be "
                                 "a resourceVersion (an integer from 1)");
    *ret = v;
    return 0;
}

int
sov_seca_list_add_each(sov_request *req, sov_seca_list *l, const void *items, size_t n,
                       size_t size, sov_seca_item_fn render, sov_error *err)
{
    for (size_t i = 0; i < n; i++) {
        json_t *item = render(req, (const char *) items + i * size, err);
        if (!item)
            return -1;
        sov_seca_list_add(l, item);
    }
    return 0;
}

int
sov_seca_object_render(sov_request *req, const sov_seca_type *t, const sov_seca_object *o,
                       sov_seca_state now, sov_seca_object_fn render, json_t **ret,
                       sov_error *err)
{
    sov_seca_meta m;

    memset(&m, 0, sizeof(m));
    if (sov_seca_meta_get(&req->ctx, o->id, t->kind, now, o->created_at, &m, err) < 0)
        return -1;
    *ret = render(req, o, &m);
    sov_seca_meta_clear(&m);
    return 0;
}

enum MHD_Result
sov_seca_objects_reply(sov_request *req, const sov_seca_type *t, const char *kind,
                       const char *parent, sov_seca_object_fn render)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_list *l = NULL;
    sov_seca_object *objs = NULL;
    size_t n = 0;
    enum MHD_Result rc;

    if (sov_seca_list_begin(req, &l, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_seca_object_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req), kind,
                             parent ? parent : "", &objs, &n, &err) < 0) {
        sov_seca_list_free(l);
        return sov_seca_reply_error(req, &err, false);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *item = NULL;
        if (sov_seca_object_render(req, t, &objs[i], SOV_SECA_ACTIVE, render, &item,
                                   &err) < 0) {
            sov_seca_objects_free(objs, n);
            sov_seca_list_free(l);
            return sov_seca_reply_error(req, &err, false);
        }
        sov_seca_list_add(l, item);
    }
    sov_seca_objects_free(objs, n);
    rc = sov_seca_list_reply(req, t, l);
    sov_seca_list_free(l);
    return rc;
}

void
sov_seca_field_rename(sov_error *err, const char *from, const char *to)
{
    if (strcmp(err->field, from) == 0)
        snprintf(err->field, sizeof(err->field), "%s", to);
}

/* ---- a list read page by page ---- */

enum MHD_Result
sov_seca_list_walk(sov_request *req, const sov_seca_type *t, sov_seca_page_fn page, void *arg)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_list *l = NULL;
    char after[SOV_TEXT_MAX * 4 + 1] = "", next[SOV_TEXT_MAX * 4 + 1];
    enum MHD_Result rc;

    if (sov_seca_list_begin(req, &l, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    for (;;) {
        next[0] = '\0';
        if (page(req, l, after[0] ? after : NULL, next, sizeof(next), arg, &err) < 0) {
            sov_seca_list_free(l);
            return sov_seca_reply_error(req, &err, false);
        }
        if (!next[0])
            break;
        snprintf(after, sizeof(after), "%s", next);
    }
    rc = sov_seca_list_reply(req, t, l);
    sov_seca_list_free(l);
    return rc;
}

/* ---- the flow around a service's write ---- */

int
sov_seca_record(sov_request *req, const sov_seca_type *t, const char *resource_id,
                const char *tenant_id, sov_seca_change change, const sov_seca_input *in,
                const char *op_id, sov_seca_meta *ret, sov_error *err)
{
    sov_seca_write w = {
        .resource_id = resource_id, .tenant_id = tenant_id ? tenant_id : sov_seca_tenant_id(req),
        .kind = t->kind,
        .change = change, .labels = in ? in->labels : NULL,
        .annotations = in ? in->annotations : NULL, .extensions = in ? in->extensions : NULL,
        .op_id = op_id && op_id[0] ? op_id : NULL,
    };

    return sov_seca_meta_write(&req->ctx, &w, ret, err);
}

int
sov_seca_check_version(sov_request *req, const char *resource_id, const sov_seca_input *in,
                       sov_error *err)
{
    return sov_seca_meta_check_version(&req->ctx, resource_id, in->if_version, err);
}

enum MHD_Result
sov_seca_answer(sov_request *req, unsigned status, json_t *body, const sov_error *err,
                bool write)
{
    sov_autoptr(json_t) owned = body;

    if (!owned)
        return sov_seca_reply_error(req, err, write);
    return sov_seca_reply(req, status, owned);
}

enum MHD_Result
sov_seca_reply_deleted(sov_request *req, const sov_seca_type *t, const char *resource_id,
                       const char *tenant_id, const char *op_id)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_seca_record(req, t, resource_id, tenant_id, SOV_SECA_DELETED, NULL, op_id, NULL,
                        &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}

enum MHD_Result
sov_seca_put(sov_request *req, const sov_seca_input *in, const sov_seca_put_ops *ops, void *arg)
{
    sov_error err = SOV_ERROR_INIT;
    char id[SOV_UUID_LEN + 1] = "";

    if (ops->find(req, arg, id, &err) == 0) {
        if (sov_seca_check_version(req, id, in, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        return ops->update(req, in, arg);
    }
    if (err.code != SOV_E_NOT_FOUND)
        return sov_seca_reply_error(req, &err, true);
    return ops->create(req, in, arg);
}

json_t *
sov_seca_resource_stored(sov_request *req, const sov_seca_type *t, const char *workspace,
                         const char *network, const char *name, const char *region,
                         const sov_seca_stored *st, json_t *spec, json_t *status,
                         json_t *residency, sov_error *err)
{
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta own = { .labels = NULL };
    const sov_seca_meta *m = st->meta;
    json_t *j;

    if (!m) {
        if (sov_seca_meta_get(&req->ctx, st->id, t->kind, st->now, st->created_at, &own,
                              err) < 0) {
            json_decref(spec);
            json_decref(status);
            json_decref(residency);
            return NULL;
        }
        m = &own;
    }
    j = sov_seca_resource(req, t, workspace, network, name, region, m, spec, status, residency);
    if (!j)
        sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    return j;
}
