/* seca_workspace.c: the workspace provider (seca.workspace): SECA workspaces are our
 * workspaces, made, read and deleted through the identity service as /v1 does (the
 * workspaces quota, the audit log, the default workspace that cannot go).
 *
 * A workspace has no id of its own (tenant and name are its key): its SECA meta is kept under
 * a UUID derived from both, and dropped when the workspace is deleted, so a workspace made
 * again under the same name starts afresh. Workspace names are our slugs (at most
 * SOV_NAME_MAX characters, no dots): a longer or dotted SECA name is refused (412) with the
 * service's message. The spec takes no members. A workspace is recorded in the region
 * sov_seca_default_region gives. status.resourceCount is left out: no service counts a
 * workspace's resources cheaply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca.h"
#include "sov/crypto.h"

static const sov_seca_type workspace_type = {
    .provider = "seca.workspace", .kind = "workspace", .plural = "workspaces",
    .scope = SOV_SECA_WORKSPACE, .regional = true,
};

/* The meta key of tenant's workspace name: a UUID (version 8, RFC 9562) from a SHA-256. */
static void
workspace_key(const char *tenant_id, const char *name, char ret[SOV_UUID_LEN + 1])
{
    char text[SOV_UUID_LEN + SOV_SECA_NAME_MAX + 32], sum[SOV_SHA256_HEX_LEN + 1];
    int n = snprintf(text, sizeof(text), "seca.workspace\n%s\n%s", tenant_id, name);

    sov_sha256_hex(text, (size_t) n, sum);
    sum[12] = '8';
    sum[16] = "89ab"[(sum[16] >= 'a' ? sum[16] - 'a' + 10 : sum[16] - '0') & 3];
    snprintf(ret, SOV_UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", sum, sum + 8, sum + 12,
             sum + 16, sum + 20);
}

/* The region a workspace is shown in by a read: the default region, or none (metadata.region
 * left out) once the tenant's policy allows none, so that its workspaces can still be read
 * and deleted. */
static int
read_region(sov_request *req, char *ret, size_t size, sov_error *err)
{
    if (sov_seca_default_region(req, ret, size, err) == 0)
        return 0;
    if (err->code != SOV_E_RESIDENCY)
        return -1;
    sov_error_clear(err);
    ret[0] = '\0';
    return 0;
}

/* w as SECA shows it in region, with its meta (read when m is NULL). NULL with err set on
 * failure. */
static json_t *
workspace_json(sov_request *req, const sov_workspace *w, const char *region,
               const sov_seca_meta *m, sov_error *err)
{
    char key[SOV_UUID_LEN + 1];
    sov_seca_stored st = { key, SOV_SECA_ACTIVE, w->created_at, m };

    workspace_key(w->tenant_id, w->name, key);
    return sov_seca_resource_stored(req, &workspace_type, NULL, NULL, w->name, region, &st,
                                    json_object(), json_object(), NULL, err);
}

static int
workspaces_page(sov_request *req, sov_seca_list *l, const char *after, char *next,
                size_t size, void *arg, sov_error *err)
{
    sov_workspace_page page = { 0 };
    int rc = 0;

    if (sov_workspace_list(&req->ctx, sov_seca_tenant_id(req), after ? after : "", 1000, &page,
                           err) < 0)
        return -1;
    for (size_t i = 0; i < page.n && rc == 0; i++) {
        json_t *j = workspace_json(req, &page.items[i], arg, NULL, err);
        rc = j ? 0 : -1;
        sov_seca_list_add(l, j);
    }
    snprintf(next, size, "%s", page.next_after);
    free(page.items);
    return rc;
}

/* GET /providers/seca.workspace/v1/tenants/{tenant}/workspaces */
enum MHD_Result
sov_seca_workspace_workspaces_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    char region[SOV_NAME_MAX + 1];

    if (read_region(req, region, sizeof(region), &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_list_walk(req, &workspace_type, workspaces_page, region);
}

/* GET /providers/seca.workspace/v1/tenants/{tenant}/workspaces/{name} */
enum MHD_Result
sov_seca_workspace_workspaces_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(json_t) body = NULL;
    char region[SOV_NAME_MAX + 1];
    sov_workspace w;

    if (sov_workspace_get(&req->ctx, sov_seca_tenant_id(req), sov_seca_name(req), &w,
                          &err) < 0 ||
        read_region(req, region, sizeof(region), &err) < 0 ||
        !(body = workspace_json(req, &w, region, NULL, &err)))
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_reply(req, MHD_HTTP_OK, body);
}

/* PUT /providers/seca.workspace/v1/tenants/{tenant}/workspaces/{name}: create, or replace
 * its labels, annotations and extensions. */
enum MHD_Result
sov_seca_workspace_workspaces_put(sov_request *req)
{
    static const sov_field no_spec[1] = { { NULL, JSON_NULL, false } };
    const char *tenant = sov_seca_tenant_id(req), *name = sov_seca_name(req);
    sov_error err = SOV_ERROR_INIT, no_region = SOV_ERROR_INIT;
    sov_seca_meta m = { 0 };
    sov_autoptr(json_t) body = NULL;
    sov_seca_input in;
    sov_workspace w;
    char key[SOV_UUID_LEN + 1], region[SOV_NAME_MAX + 1];
    bool created = false;

    if (sov_seca_input_read(req, no_spec, 0, false, &in, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    /* The region before anything is made: a tenant whose policy allows none gets no new
     * workspace (its workspaces can still change, shown in no region). */
    if (sov_seca_default_region(req, region, sizeof(region), &no_region) < 0) {
        if (no_region.code != SOV_E_RESIDENCY)
            return sov_seca_reply_error(req, &no_region, true);
        region[0] = '\0';
    }
    if (sov_workspace_get(&req->ctx, tenant, name, &w, &err) == 0) {
        workspace_key(tenant, name, key);
        if (sov_seca_check_version(req, key, &in, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
    } else if (err.code == SOV_E_NOT_FOUND) {
        sov_error_clear(&err);
        if (no_region.code != SOV_OK)
            return sov_seca_reply_error(req, &no_region, true);
        if (in.if_version > 0) {
            sov_error_set(&err, SOV_E_CONFLICT, "workspace '%s' does not exist yet: "
                          "if-unmodified-since names no version of it", name);
            snprintf(err.field, sizeof(err.field), "if-unmodified-since");
            return sov_seca_reply_error(req, &err, true);
        }
        if (sov_workspace_create(&req->ctx, tenant, name, NULL, &w, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        workspace_key(tenant, name, key);
        created = true;
    } else {
        return sov_seca_reply_error(req, &err, true);
    }
    {
        sov_seca_write wr = {
            .resource_id = key, .tenant_id = tenant, .kind = workspace_type.kind,
            .change = created ? SOV_SECA_CREATED : SOV_SECA_UPDATED, .labels = in.labels,
            .annotations = in.annotations, .extensions = in.extensions, .op_id = NULL,
            .if_version = in.if_version,
        };
        if (sov_seca_meta_write(&req->ctx, &wr, &m, &err) < 0) {
            sov_error undo = SOV_ERROR_INIT;
            /* Nothing half-made: a workspace whose meta could not be written goes again. */
            if (created && sov_workspace_delete(&req->ctx, tenant, name, &undo) < 0)
                sov_log_warn("could not remove workspace '%s' after its meta failed: %s", name,
                             undo.msg);
            return sov_seca_reply_error(req, &err, true);
        }
    }
    body = workspace_json(req, &w, region, &m, &err);
    sov_seca_meta_clear(&m);
    if (!body)
        return sov_seca_reply_error(req, &err, true);
    return sov_seca_reply(req, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, body);
}

/* DELETE /providers/seca.workspace/v1/tenants/{tenant}/workspaces/{name}: refused (412, the
 * blockers in meta.blockedBy) while it holds resources; done at once, so it answers 404
 * right after. */
enum MHD_Result
sov_seca_workspace_workspaces_delete(sov_request *req)
{
    const char *tenant = sov_seca_tenant_id(req), *name = sov_seca_name(req);
    const char *since = sov_request_header(req, "if-unmodified-since");
    sov_error err = SOV_ERROR_INIT;
    sov_workspace w;
    char key[SOV_UUID_LEN + 1];

    if (sov_workspace_get(&req->ctx, tenant, name, &w, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    workspace_key(tenant, name, key);
    if (since) {
        char *end;
        long long v = strtoll(since, &end, 10);
        if (!since[0] || *end || v < 1)
            sov_error_invalid(&err, "if-unmodified-since", "if-unmodified-since must be a "
                              "resourceVersion (a whole number from 1)");
        else
            sov_seca_meta_check_version(&req->ctx, key, v, &err);
        if (err.code != SOV_OK)
            return sov_seca_reply_error(req, &err, true);
    }
    if (sov_workspace_delete(&req->ctx, tenant, name, &err) < 0)
        return sov_seca_reply_error(req, &err, err.code != SOV_E_NOT_FOUND);
    if (sov_seca_meta_forget(&req->ctx, key, &err) < 0)
        sov_log_warn("could not drop the SECA meta of deleted workspace '%s': %s", name,
                     err.msg);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}
