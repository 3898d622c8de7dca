/* seca_handlers.c: what the SECA resource handlers (api/seca_*.c) repeat, beside the edge
 * itself (seca.c): a /v1 state as SECA's, an invalid member, if-unmodified-since without an
 * envelope, the meta of a change, a rendered answer, lists read page by page from a /v1
 * service, and lists of SECA objects (seca.h). */
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
