/* seca.c: the SECA surface's shared edge (api/seca.h): path, envelope, references, lists,
 * SECA's error form.
 *
 * Every refusal on a SECA path comes through seca_problem(): problem.c hands over what it
 * would have answered as problem+json (sov_api_reply_problem*, sov_api_reply_status), so the
 * authorization step, the query check, the body parser and the handlers all answer in SECA's
 * form: application/json, type http://secapi.cloud/errors/<kind>, and 412 for every
 * rejection but 401, 403 (role) and 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "seca.h"
#include "sov/crypto.h"
#include "sov/residency.h"

#define ERR_BASE "http://secapi.cloud/errors/"
#define LABEL_MAX 63            /* Labels: additionalProperties maxLength 63 */
#define ANNOTATION_MAX 1024     /* Annotations: maxLength 1024 */
#define REF_MAX 255             /* ReferenceURN: maxLength 255 */
#define LIMIT_DEFAULT 1000
#define LIMIT_MAX 10000
#define SKIP_TOKEN_MAX 5        /* ResponseMetadata.skipToken: maxLength 5 */

/* ---- the path ---- */

const char *
sov_seca_tenant(sov_request *req)
{
    return sov_request_param(req, "tenant");
}

const char *
sov_seca_tenant_id(sov_request *req)
{
    const char *id = sov_request_seca_tenant_id(req);

    return id && id[0] ? id : NULL;
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

/* ---- text ---- */

/* s as a JSON string of at most max bytes: jansson refuses bytes that are not UTF-8 (a path
 * with %ff, a message cut in the middle of a character); those become '?'. Never NULL unless
 * out of memory; an empty s becomes fallback (SECA's texts have minLength 1). */
static json_t *
text(const char *s, size_t max, const char *fallback)
{
    char buf[1024];
    size_t n;
    json_t *j;

    if (!s || !s[0])
        s = fallback;
    n = strlen(s);
    if (max > sizeof(buf) - 1)
        max = sizeof(buf) - 1;
    if (n > max)
        n = max;
    memcpy(buf, s, n);
    buf[n] = '\0';
    j = json_string(buf);
    if (j)
        return j;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) buf[i] >= 0x80 || (unsigned char) buf[i] < 0x20)
            buf[i] = '?';
    return json_string(buf);
}

void
sov_seca_key(const char *provider, const char *tenant_id, const char *name,
             char ret[SOV_UUID_LEN + 1])
{
    char text[64 + SOV_UUID_LEN + SOV_SECA_NAME_MAX + 8], sum[SOV_SHA256_HEX_LEN + 1];
    int n = snprintf(text, sizeof(text), "%s\n%s\n%s", provider, tenant_id, name);

    if (n < 0 || (size_t) n >= sizeof(text))
        n = (int) strlen(text);
    sov_sha256_hex(text, (size_t) n, sum);
    sum[12] = '8';
    sum[16] = "89ab"[(sum[16] >= 'a' ? sum[16] - 'a' + 10 : sum[16] - '0') & 3];
    snprintf(ret, SOV_UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", sum, sum + 8, sum + 12,
             sum + 16, sum + 20);
}

size_t
sov_seca_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char) *s & 0xc0) != 0x80)
            n++;
    return n;
}

/* ---- errors ---- */

typedef struct seca_kind {
    unsigned status;
    const char *type, *title;
} seca_kind;

/* What /v1 would answer (v1: its status) as SECA answers it. */
static seca_kind
kind_of(unsigned v1, bool invalid)
{
    if (v1 == 401)
        return (seca_kind){ 401, ERR_BASE "unauthorized", "Unauthorized" };
    if (v1 == 403 && !invalid)
        return (seca_kind){ 403, ERR_BASE "forbidden", "Forbidden" };
    if (v1 == 404)
        return (seca_kind){ 404, ERR_BASE "resource-not-found", "Not Found" };
    if (v1 >= 400 && v1 < 500 && invalid)
        return (seca_kind){ 412, ERR_BASE "validation-error", "Precondition Failed" };
    if (v1 >= 400 && v1 < 500)
        return (seca_kind){ 412, ERR_BASE "precondition-failed", "Precondition Failed" };
    if (v1 == 501)
        return (seca_kind){ 501, ERR_BASE "internal-server-error", "Not Implemented" };
    if (v1 == 503)
        return (seca_kind){ 503, ERR_BASE "internal-server-error", "Service Unavailable" };
    return (seca_kind){ 500, ERR_BASE "internal-server-error", "Internal Server Error" };
}

/* A field as SECA's ErrorSource: pointer a JSON pointer ("/spec/zone"), parameter its last
 * segment ("zone"). A field that is already a pointer stays; the service's "name" is the
 * resource's name (/metadata/name); "nics[0].subnet" becomes "/nics/0/subnet"; a query
 * parameter or header ("limit") becomes "/limit" with parameter "limit". */
static json_t *
source_json(const char *field)
{
    char ptr[128], *last;
    size_t n = 0;

    if (strcmp(field, "name") == 0) {
        snprintf(ptr, sizeof(ptr), "/metadata/name");
    } else if (field[0] == '/') {
        snprintf(ptr, sizeof(ptr), "%s", field);
    } else {
        ptr[n++] = '/';
        for (const char *p = field; *p && n < sizeof(ptr) - 1; p++) {
            if (*p == ']')
                continue;
            ptr[n++] = (*p == '.' || *p == '[') ? '/' : *p;
        }
        ptr[n] = '\0';
    }
    last = strrchr(ptr, '/');
    last = last && last[1] ? last + 1 : ptr;
    return json_pack("{s:o, s:o}", "pointer", text(ptr, 256, "/"), "parameter",
                     text(last, 64, "body"));
}

/* The SECA error answer. v1: the status /v1 answers; invalid: bad input (validation-error);
 * detail: the message (a 5xx shows the request id instead); field: the source ("" none);
 * meta: more, taken (a 5xx shows none). */
static enum MHD_Result
seca_problem(sov_request *req, unsigned v1, bool invalid, const char *detail, const char *field,
             json_t *meta)
{
    sov_autoptr(json_t) extra = meta;
    seca_kind k = kind_of(v1, invalid);
    sov_autoptr(json_t) body = NULL;
    char shown[512];

    if (k.status >= 500 && k.status != 501) {
        if (k.status == 503) {
            snprintf(shown, sizeof(shown), "%.256s (request id %s)",
                     detail && detail[0] ? detail : k.title, req->request_id);
            sov_request_add_header(req, "Retry-After", "1");
        } else {
            snprintf(shown, sizeof(shown), "request id %s", req->request_id);
        }
    } else {
        snprintf(shown, sizeof(shown), "%s", detail && detail[0] ? detail : k.title);
    }
    if (k.status == 401)
        sov_request_add_header(req, "WWW-Authenticate", "Bearer");
    body = json_pack("{s:s, s:s, s:i, s:o, s:o, s:[]}", "type", k.type, "title", k.title,
                     "status", (int) k.status, "detail", text(shown, 1000, k.title),
                     "instance", text(req->path, 256, "/"), "sources");
    if (!body)
        return sov_api_reply_bytes(req, 500, "application/json", "{}", 2);
    if (field && field[0] && k.status < 500)
        json_array_append_new(json_object_get(body, "sources"), source_json(field));
    if (extra && k.status >= 500)
        json_decref(SOV_TAKE_PTR(extra));
    if (!extra)
        extra = json_object();
    json_object_set_new(extra, "requestId", json_string(req->request_id));
    json_object_set(body, "meta", extra);
    return sov_api_reply_json_as(req, k.status, body, "application/json");
}

enum MHD_Result
sov_seca_reply_error(sov_request *req, const sov_error *err, bool write)
{
    unsigned v1 = sov_api_error_status(err->code);
    json_t *meta = NULL;
    const char *field = "";

    if (v1 >= 500) {
        sov_log_kv kv[] = { SOV_KV_S("code", sov_errcode_name(err->code)),
                            SOV_KV_S("error", err->msg), SOV_KV_S("detail", err->detail) };
        sov_log_kv_write(SOV_LOG_ERROR, "request failed", kv, SOV_N_ELEMENTS(kv));
    } else if (err->detail[0]) {
        sov_log_debug("request refused: %s (%s)", err->msg, err->detail);
    }
    /* A write naming what does not exist is refused like any other bad request; the path of
     * a read or a delete naming nothing is 404. */
    if (err->code == SOV_E_NOT_FOUND && write)
        v1 = 412;
    /* Over quota is a rejection like any other (412), not a role's 403. */
    if (err->code == SOV_E_QUOTA)
        v1 = 412;
    if (err->code == SOV_E_INVALID || err->code == SOV_E_NOT_FOUND ||
        err->code == SOV_E_CONFLICT || err->code == SOV_E_RESIDENCY)
        field = err->field;
    if (err->code == SOV_E_QUOTA)
        meta = json_pack("{s:o, s:I, s:I, s:I}", "quota", text(err->field, 64, "?"), "limit",
                         (json_int_t) err->quota.limit, "used", (json_int_t) err->quota.used,
                         "requested", (json_int_t) err->quota.requested);
    if (err->code == SOV_E_CONFLICT && err->n_blocked > 0) {
        json_t *arr = json_array();
        for (unsigned i = 0; i < err->n_blocked && i < SOV_ERROR_MAX_BLOCKERS; i++)
            json_array_append_new(arr, json_pack("{s:o, s:o, s:o}", "kind",
                                                 text(err->blocked_by[i].kind, 64, "?"), "id",
                                                 text(err->blocked_by[i].id, 64, "?"), "name",
                                                 text(err->blocked_by[i].name, 64, "?")));
        meta = json_pack("{s:o}", "blockedBy", arr);
    }
    if (err->code == SOV_E_RESIDENCY)
        meta = json_pack("{s:s}", "reason", "residency-policy");
    return seca_problem(req, v1, err->code == SOV_E_INVALID, err->msg, field, meta);
}

enum MHD_Result
sov_seca_reply_unbuilt(sov_request *req)
{
    return sov_seca_reply_status(req, 501, "this SECA operation is not built yet", NULL);
}

bool
sov_seca_path(const char *path)
{
    return path && (strncmp(path, "/providers/", 11) == 0 || strcmp(path, "/providers") == 0 ||
                    strncmp(path, "/.wellknown/", 12) == 0);
}

enum MHD_Result
sov_seca_reply_status(sov_request *req, unsigned status, const char *detail,
                      const char *pointer)
{
    return seca_problem(req, status, status == 400, detail, pointer, NULL);
}

enum MHD_Result
sov_seca_reply(sov_request *req, unsigned status, json_t *body)
{
    if (!body)
        return sov_api_reply_bytes(req, status, "application/json", "", 0);
    return sov_api_reply_json_as(req, status, body, "application/json");
}

/* ---- names ---- */

/* SECA's name pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and
 * at most max characters. */
bool
sov_seca_name_valid(const char *s, size_t max)
{
    size_t n = strlen(s), seg = 0;

    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (seg == 0 || s[i - 1] == '-')
                return false;
            seg = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
        if (seg == 0 && c == '-')
            return false;
        seg++;
    }
    return true;
}

/* ---- the default region ---- */

int
sov_seca_default_region(sov_request *req, char *ret, size_t size, sov_error *err)
{
    const char *tenant = sov_seca_tenant_id(req);
    sov_autoptr(sov_policy) policy = sov_policy_new();
    char after[SOV_TEXT_MAX * 4 + 1] = "";

    if (!tenant && req->ctx.who)
        tenant = req->ctx.who->tenant_id;
    if (!policy)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (!tenant)
        sov_policy_default(policy);
    else if (sov_policy_get(&req->ctx, tenant, policy, err) < 0)
        return -1;
    for (;;) {
        sov_region_page page = { 0 };
        bool found = false;

        if (sov_region_list(&req->ctx, after, 100, &page, err) < 0)
            return -1;
        /* A region with no zones can place nothing (and SECA does not serve it). */
        for (size_t i = 0; i < page.n && !found; i++)
            if (page.items[i].nzones > 0 &&
                sov_policy_allows(policy, page.items[i].code, page.items[i].country,
                                  page.items[i].jurisdiction)) {
                snprintf(ret, size, "%s", page.items[i].code);
                found = true;
            }
        snprintf(after, sizeof(after), "%s", page.next_after);
        free(page.items);
        if (found)
            return 0;
        if (!after[0])
            break;
    }
    return sov_error_set(err, SOV_E_RESIDENCY,
                         "no region is allowed by the tenant's residency policy");
}

/* ---- the envelope ---- */

/* member + "/" + key as a JSON pointer (RFC 6901: '~' is "~0", '/' is "~1"), cut to size. */
static void
pointer_to(char *buf, size_t size, const char *member, const char *key)
{
    size_t n = (size_t) snprintf(buf, size, "%s/", member);

    for (const char *k = key; *k && n + 3 < size; k++) {
        if (*k == '~' || *k == '/') {
            buf[n++] = '~';
            buf[n++] = *k == '~' ? '0' : '1';
        } else {
            buf[n++] = *k;
        }
    }
    buf[n < size ? n : size - 1] = '\0';
}

static int
check_strings(json_t *obj, const char *member, size_t max_value, bool limit_key,
              sov_error *err)
{
    const char *key;
    json_t *v;

    if (!json_is_object(obj))
        return sov_error_invalid(err, member, "%s must be an object of strings", member + 1);
    json_object_foreach(obj, key, v) {
        char field[64];

        pointer_to(field, sizeof(field), member, key);
        if (key[0] == '\0' || (limit_key && sov_seca_chars(key) > LABEL_MAX))
            return sov_error_invalid(err, field, "%s key '%.64s' must be 1 to %d characters",
                                     member + 1, key, LABEL_MAX);
        if (!json_is_string(v))
            return sov_error_invalid(err, field, "%s '%.64s' must be a string", member + 1, key);
        if (max_value && sov_seca_chars(json_string_value(v)) > max_value)
            return sov_error_invalid(err, field, "%s '%.64s': the value is longer than %zu "
                                     "characters", member + 1, key, max_value);
    }
    return 0;
}

/* spec's members against fields, as sov_api_check_body does for a body. */
static int
check_spec(json_t *spec, const sov_field *fields, size_t n, sov_error *err)
{
    const char *key;
    json_t *v;
    char field[64];

    json_object_foreach(spec, key, v) {
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(fields[i].name, key) == 0)
                break;
        pointer_to(field, sizeof(field), "/spec", key);
        if (i == n)
            return sov_error_invalid(err, field, "unknown member 'spec.%.64s'", key);
        if (json_is_null(v) && !fields[i].required)
            continue;
        if (fields[i].type != SOV_SECA_ANY && !sov_api_json_type_matches(v, fields[i].type))
            return sov_error_invalid(err, field, "spec.%s must be %s", key,
                                     sov_api_json_type_name(fields[i].type));
    }
    for (size_t i = 0; i < n; i++) {
        v = json_object_get(spec, fields[i].name);
        snprintf(field, sizeof(field), "/spec/%.56s", fields[i].name);
        if (fields[i].required && (!v || json_is_null(v)))
            return sov_error_invalid(err, field, "spec.%s is required", fields[i].name);
    }
    return 0;
}

int
sov_seca_input_read(sov_request *req, const sov_field *spec_fields, size_t n,
                    bool spec_required, sov_seca_input *in, sov_error *err)
{
    static const char *const members[] = { "labels", "annotations", "extensions", "metadata",
                                           "spec", "status" };
    const char *name = sov_seca_name(req);
    const char *since = sov_request_header(req, "if-unmodified-since");
    sov_seca_input r = { 0 };
    const char *key;
    json_t *v;

    memset(in, 0, sizeof(*in));
    if (name && !sov_seca_name_valid(name, SOV_SECA_NAME_MAX))
        return sov_error_invalid(err, "/metadata/name",
                                 "name '%.64s' must be 1 to %d lower-case letters, digits and "
                                 "'-', in segments joined by '.', each starting and ending "
                                 "with a letter or digit", name, SOV_SECA_NAME_MAX);
    if (since) {
        char *end;
        long long ver = strtoll(since, &end, 10);
        if (!since[0] || *end || ver < 1)
            return sov_error_invalid(err, "if-unmodified-since",
                                     "if-unmodified-since must be a resourceVersion (a whole "
                                     "number from 1)");
        r.if_version = ver;
    }
    if (!req->body && !(req->body = json_object()))
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    json_object_foreach(req->body, key, v) {
        size_t i;
        for (i = 0; i < SOV_N_ELEMENTS(members); i++)
            if (strcmp(members[i], key) == 0)
                break;
        if (i == SOV_N_ELEMENTS(members)) {
            char field[64];
            pointer_to(field, sizeof(field), "", key);
            return sov_error_invalid(err, field, "unknown member '%.64s': a SECA resource has "
                                     "labels, annotations, extensions, metadata, spec and "
                                     "status", key);
        }
    }
    if ((v = json_object_get(req->body, "labels")) && !json_is_null(v)) {
        if (check_strings(v, "/labels", LABEL_MAX, true, err) < 0)
            return -1;
        r.labels = v;
    }
    if ((v = json_object_get(req->body, "annotations")) && !json_is_null(v)) {
        if (check_strings(v, "/annotations", ANNOTATION_MAX, false, err) < 0)
            return -1;
        r.annotations = v;
    }
    if ((v = json_object_get(req->body, "extensions")) && !json_is_null(v)) {
        if (check_strings(v, "/extensions", 0, false, err) < 0)
            return -1;
        r.extensions = v;
    }
    v = json_object_get(req->body, "metadata");
    if (v && !json_is_null(v) && !json_is_object(v))
        return sov_error_invalid(err, "/metadata", "metadata must be an object");
    v = json_object_get(req->body, "spec");
    if (!v || json_is_null(v)) {
        if (spec_required)
            return sov_error_invalid(err, "/spec", "spec is required");
        v = json_object();
        if (!v || json_object_set_new(req->body, "spec", v) < 0)
            return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    if (!json_is_object(v))
        return sov_error_invalid(err, "/spec", "spec must be an object");
    if (spec_fields && check_spec(v, spec_fields, n, err) < 0)
        return -1;
    r.spec = v;
    *in = r;
    return 0;
}

/* ---- references ---- */

/* Where each type's names live, and its provider. */
static const struct ref_type {
    const char *plural, *provider;
    sov_seca_scope scope;
} ref_types[] = {
    { "regions", "seca.region", SOV_SECA_GLOBAL },
    { "roles", "seca.authorization", SOV_SECA_TENANT },
    { "role-assignments", "seca.authorization", SOV_SECA_TENANT },
    { "workspaces", "seca.workspace", SOV_SECA_TENANT },
    { "skus", NULL, SOV_SECA_TENANT },      /* compute, storage and network each have some */
    { "images", "seca.storage", SOV_SECA_TENANT },
    { "instances", "seca.compute", SOV_SECA_WORKSPACE },
    { "block-storages", "seca.storage", SOV_SECA_WORKSPACE },
    { "networks", "seca.network", SOV_SECA_WORKSPACE },
    { "internet-gateways", "seca.network", SOV_SECA_WORKSPACE },
    { "security-groups", "seca.network", SOV_SECA_WORKSPACE },
    { "security-group-rules", "seca.network", SOV_SECA_WORKSPACE },
    { "nics", "seca.network", SOV_SECA_WORKSPACE },
    { "public-ips", "seca.network", SOV_SECA_WORKSPACE },
    { "subnets", "seca.network", SOV_SECA_NETWORK },
    { "route-tables", "seca.network", SOV_SECA_NETWORK },
};

static const struct ref_type *
ref_type_of(const char *plural)
{
    for (size_t i = 0; i < SOV_N_ELEMENTS(ref_types); i++)
        if (strcmp(ref_types[i].plural, plural) == 0)
            return &ref_types[i];
    return NULL;
}

/* Whether provider ("seca.compute/v1") may serve plural. */
static bool
provider_serves(const char *provider, const struct ref_type *rt)
{
    static const char *const sku_providers[] = { "seca.compute/v1", "seca.storage/v1",
                                                 "seca.network/v1" };
    char want[64];

    if (!rt->provider) {
        for (size_t i = 0; i < SOV_N_ELEMENTS(sku_providers); i++)
            if (strcmp(provider, sku_providers[i]) == 0)
                return true;
        return false;
    }
    snprintf(want, sizeof(want), "%s/v1", rt->provider);
    return strcmp(provider, want) == 0;
}

#define REF_SEGMENTS 16

/* Split text at '/' into seg (pointing into buf); the number of segments, or -1 when there
 * are too many or one is empty. */
static int
split(const char *text, char *buf, size_t size, char **seg)
{
    int n = 0;
    char *p;

    if (strlen(text) >= size)
        return -1;
    snprintf(buf, size, "%s", text);
    for (p = buf;;) {
        char *slash = strchr(p, '/');
        if (n == REF_SEGMENTS)
            return -1;
        seg[n++] = p;
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    for (int i = 0; i < n; i++)
        if (!seg[i][0])
            return -1;
    return n;
}

int
sov_seca_ref_read(sov_request *req, const json_t *ref, const char *plural, const char *pointer,
                  sov_seca_ref *ret, sov_error *err)
{
    return sov_seca_ref_parse(sov_seca_tenant(req), sov_seca_workspace(req),
                              sov_seca_network(req), ref, plural, pointer, ret, err);
}

int
sov_seca_ref_parse(const char *req_tenant, const char *req_workspace, const char *req_network,
                   const json_t *ref, const char *plural, const char *pointer,
                   sov_seca_ref *ret, sov_error *err)
{
    const struct ref_type *rt = ref_type_of(plural);
    const char *text_ = NULL, *provider = NULL, *tenant = NULL, *workspace = NULL;
    const char *network = NULL;
    char buf[REF_MAX + 64 + 1], *seg[REF_SEGMENTS];
    char prov[80];
    sov_seca_ref r = { 0 };
    int n, i = 0;

    memset(ret, 0, sizeof(*ret));
    if (json_is_string(ref)) {
        text_ = json_string_value(ref);
    } else if (json_is_object(ref)) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *) ref, key, v) {
            if (strcmp(key, "resource") != 0 && strcmp(key, "provider") != 0 &&
                strcmp(key, "tenant") != 0 && strcmp(key, "workspace") != 0 &&
                strcmp(key, "region") != 0)
                return sov_error_invalid(err, pointer, "%s: unknown reference member '%.64s'",
                                         pointer, key);
            if (!json_is_string(v))
                return sov_error_invalid(err, pointer, "%s: reference member '%s' must be a "
                                         "string", pointer, key);
        }
        text_ = json_string_value(json_object_get(ref, "resource"));
        provider = json_string_value(json_object_get(ref, "provider"));
        tenant = json_string_value(json_object_get(ref, "tenant"));
        workspace = json_string_value(json_object_get(ref, "workspace"));
        if (!text_)
            return sov_error_invalid(err, pointer, "%s: a reference needs 'resource'", pointer);
    } else {
        return sov_error_invalid(err, pointer, "%s must be a reference (\"%s/<name>\" or "
                                 "{\"resource\": \"%s/<name>\"})", pointer, plural, plural);
    }
    if (!rt)
        return sov_error_set(err, SOV_E_INTERNAL, "no reference type '%s'", plural);
    if (!text_[0] || strlen(text_) > REF_MAX || (n = split(text_, buf, sizeof(buf), seg)) < 0)
        return sov_error_invalid(err, pointer, "%s: malformed reference '%.64s'", pointer, text_);
    /* seca.<p>/v1/... : the provider, in the URN itself. */
    if (strncmp(seg[0], "seca.", 5) == 0) {
        if (n < 2 || provider)
            return sov_error_invalid(err, pointer, "%s: malformed reference '%.64s'", pointer,
                                     text_);
        snprintf(prov, sizeof(prov), "%.40s/%.30s", seg[0], seg[1]);
        provider = prov;
        i = 2;
    }
    while (n - i > 2) {
        const char *k = seg[i], *val = seg[i + 1];
        if (strcmp(k, "tenants") == 0 && !tenant)
            tenant = val;
        else if (strcmp(k, "workspaces") == 0 && !workspace)
            workspace = val;
        else if (strcmp(k, "networks") == 0 && !network && rt->scope == SOV_SECA_NETWORK)
            network = val;
        else
            return sov_error_invalid(err, pointer, "%s: malformed reference '%.64s'", pointer,
                                     text_);
        i += 2;
    }
    if (n - i != 2)
        return sov_error_invalid(err, pointer, "%s: malformed reference '%.64s'", pointer,
                                 text_);
    if (strcmp(seg[i], plural) != 0)
        return sov_error_invalid(err, pointer, "%s must refer to %s, not %.40s", pointer,
                                 plural, seg[i]);
    if (provider && !provider_serves(provider, rt))
        return sov_error_invalid(err, pointer, "%s: provider '%.64s' does not serve %s",
                                 pointer, provider, plural);
    /* Another tenant's resources do not exist here: refused without saying whether they
     * exist there. */
    if (tenant && (!req_tenant || strcmp(tenant, req_tenant) != 0))
        return sov_error_invalid(err, pointer, "%s: a reference may only name a resource of "
                                 "tenant '%.64s'", pointer,
                                 req_tenant ? req_tenant : "");
    if (!sov_seca_name_valid(seg[i + 1], SOV_SECA_NAME_MAX) ||
        (workspace && !sov_seca_name_valid(workspace, SOV_SECA_NAME_MAX)) ||
        (network && !sov_seca_name_valid(network, SOV_SECA_NAME_MAX)))
        return sov_error_invalid(err, pointer, "%s: malformed reference '%.64s'", pointer,
                                 text_);
    if (rt->scope == SOV_SECA_WORKSPACE || rt->scope == SOV_SECA_NETWORK) {
        if (!workspace)
            workspace = req_workspace;
        if (!workspace)
            return sov_error_invalid(err, pointer, "%s: the reference must name its workspace "
                                     "(workspaces/<w>/%s/<name>)", pointer, plural);
        snprintf(r.workspace, sizeof(r.workspace), "%s", workspace);
    } else if (workspace) {
        return sov_error_invalid(err, pointer, "%s: %s belong to no workspace", pointer, plural);
    }
    if (rt->scope == SOV_SECA_NETWORK) {
        if (!network)
            network = req_network;
        if (!network)
            return sov_error_invalid(err, pointer, "%s: the reference must name its network "
                                     "(networks/<n>/%s/<name>)", pointer, plural);
        snprintf(r.network, sizeof(r.network), "%s", network);
    }
    snprintf(r.tenant, sizeof(r.tenant), "%s", req_tenant ? req_tenant : "");
    snprintf(r.name, sizeof(r.name), "%s", seg[i + 1]);
    *ret = r;
    return 0;
}

/* "<plural>/<name>", or "networks/<n>/<plural>/<name>" nested. */
static void
resource_path(const sov_seca_type *t, const char *network, const char *name, char *buf,
              size_t size)
{
    if (t->scope == SOV_SECA_NETWORK && network)
        snprintf(buf, size, "networks/%s/%s/%s", network, t->plural, name);
    else
        snprintf(buf, size, "%s/%s", t->plural, name);
}

json_t *
sov_seca_ref_json(sov_request *req, const sov_seca_type *t, const char *workspace,
                  const char *network, const char *name)
{
    char res[3 * SOV_SECA_NAME_MAX + 64], prov[80];
    json_t *j;

    if (!workspace)
        workspace = sov_seca_workspace(req);
    if (!network)
        network = sov_seca_network(req);
    resource_path(t, network, name, res, sizeof(res));
    snprintf(prov, sizeof(prov), "%s/v1", t->provider);
    j = json_pack("{s:s, s:s}", "resource", res, "provider", prov);
    if (j && t->scope != SOV_SECA_GLOBAL && sov_seca_tenant(req))
        json_object_set_new(j, "tenant", json_string(sov_seca_tenant(req)));
    if (j && (t->scope == SOV_SECA_WORKSPACE || t->scope == SOV_SECA_NETWORK) && workspace &&
        strcmp(t->plural, "workspaces") != 0)
        json_object_set_new(j, "workspace", json_string(workspace));
    return j;
}

/* ---- resources ---- */

json_t *
sov_seca_resource(sov_request *req, const sov_seca_type *t, const char *workspace,
                  const char *network, const char *name, const char *region,
                  const sov_seca_meta *m, json_t *spec, json_t *status, json_t *residency)
{
    bool own_ws = strcmp(t->plural, "workspaces") == 0;  /* a workspace: its name is its own */
    const char *tenant = sov_seca_tenant(req);
    char res[3 * SOV_SECA_NAME_MAX + 64], prov[80], ref[4 * SOV_SECA_NAME_MAX + 200];
    json_t *md, *r;
    size_t n;

    if (!workspace)
        workspace = sov_seca_workspace(req);
    if (!network)
        network = sov_seca_network(req);
    if (!spec)
        spec = json_object();
    resource_path(t, network, name, res, sizeof(res));
    snprintf(prov, sizeof(prov), "%s/v1", t->provider);
    n = (size_t) snprintf(ref, sizeof(ref), "%s", prov);
    if (t->scope != SOV_SECA_GLOBAL && tenant && n < sizeof(ref))
        n += (size_t) snprintf(ref + n, sizeof(ref) - n, "/tenants/%s", tenant);
    if ((t->scope == SOV_SECA_WORKSPACE || t->scope == SOV_SECA_NETWORK) && !own_ws &&
        workspace && n < sizeof(ref))
        n += (size_t) snprintf(ref + n, sizeof(ref) - n, "/workspaces/%s", workspace);
    if (n < sizeof(ref))
        snprintf(ref + n, sizeof(ref) - n, "/%s", res);

    md = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name", name, "provider", prov,
                   "resource", res, "verb", req->method, "apiVersion", "v1", "kind", t->kind,
                   "ref", ref);
    if (md && m) {
        json_object_set_new(md, "createdAt", json_string(m->created_at));
        json_object_set_new(md, "lastModifiedAt",
                            json_string(m->modified_at[0] ? m->modified_at : m->created_at));
        json_object_set_new(md, "resourceVersion",
                            json_integer(m->version > 0 ? m->version : 1));
        if (m->deleted_at[0])
            json_object_set_new(md, "deletedAt", json_string(m->deleted_at));
    }
    if (md && t->scope != SOV_SECA_GLOBAL && tenant)
        json_object_set_new(md, "tenant", json_string(tenant));
    if (md && (t->scope == SOV_SECA_WORKSPACE || t->scope == SOV_SECA_NETWORK) && !own_ws &&
        workspace)
        json_object_set_new(md, "workspace", json_string(workspace));
    if (md && t->scope == SOV_SECA_NETWORK && network)
        json_object_set_new(md, "network", json_string(network));
    if (md && t->regional && region && region[0])
        json_object_set_new(md, "region", json_string(region));

    r = json_pack("{s:o, s:o}", "metadata", md, "spec", spec);
    if (!r) {
        json_decref(status);
        json_decref(residency);
        return NULL;
    }
    if (m && m->labels) {
        json_object_set_new(r, "labels", json_deep_copy(m->labels));
        json_object_set_new(r, "annotations",
                            m->annotations ? json_deep_copy(m->annotations) : json_object());
        json_object_set_new(r, "extensions",
                            m->extensions ? json_deep_copy(m->extensions) : json_object());
    }
    if (!status && residency)
        status = json_object();
    if (status) {
        if (m) {
            json_object_set_new(status, "state",
                                json_string(sov_seca_state_name(sov_seca_meta_state(m))));
            json_object_set_new(status, "conditions",
                                m->conditions ? json_deep_copy(m->conditions) : json_array());
        }
        if (residency)
            json_object_set_new(status, "residency", residency);
        json_object_set_new(r, "status", status);
    }
    return r;
}

/* ---- lists ---- */

struct sov_seca_list {
    json_t *items;
    sov_seca_selector *sel;
    size_t limit, offset;
};

static int
read_limit(sov_request *req, size_t *ret, sov_error *err)
{
    const char *s = sov_request_query(req, "limit");
    unsigned long v;
    char *end;

    *ret = LIMIT_DEFAULT;
    if (!s)
        return 0;
    v = strtoul(s, &end, 10);
    if (!s[0] || *end || s[0] == '-' || s[0] == '+' || v < 1 || v > LIMIT_MAX)
        return sov_error_invalid(err, "limit", "limit must be a whole number from 1 to %d",
                                 LIMIT_MAX);
    *ret = v;
    return 0;
}

/* skipToken: the offset of the page in base 36 (what sov_seca_list_reply hands out). */
static int
read_skip_token(sov_request *req, size_t *ret, sov_error *err)
{
    const char *s = sov_request_query(req, "skipToken");
    size_t v = 0, n;

    *ret = 0;
    if (!s)
        return 0;
    n = strlen(s);
    if (n == 0 || n > SKIP_TOKEN_MAX)
        return sov_error_invalid(err, "skipToken", "skipToken '%.16s' is not one this "
                                 "provider handed out", s);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : -1;
        if (d < 0)
            return sov_error_invalid(err, "skipToken", "skipToken '%.16s' is not one this "
                                     "provider handed out", s);
        v = v * 36 + (size_t) d;
    }
    *ret = v;
    return 0;
}

static void
skip_token(size_t v, char *buf)
{
    char tmp[16];
    size_t n = 0;

    do {
        unsigned d = (unsigned) (v % 36);
        tmp[n++] = (char) (d < 10 ? '0' + d : 'a' + d - 10);
        v /= 36;
    } while (v > 0 && n < sizeof(tmp));
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
}

int
sov_seca_list_begin(sov_request *req, sov_seca_list **ret, sov_error *err)
{
    const char *labels = sov_request_query(req, "labels");
    sov_seca_list *l;
    size_t limit, offset;
    sov_seca_selector *sel = NULL;

    if (read_limit(req, &limit, err) < 0 || read_skip_token(req, &offset, err) < 0)
        return -1;
    if (labels && sov_seca_selector_parse(labels, &sel, err) < 0) {
        if (err->code == SOV_E_INVALID)
            snprintf(err->field, sizeof(err->field), "labels");
        return -1;
    }
    l = calloc(1, sizeof(*l));
    if (!l || !(l->items = json_array())) {
        free(l);
        sov_seca_selector_free(sel);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    l->sel = sel;
    l->limit = limit;
    l->offset = offset;
    *ret = l;
    return 0;
}

void
sov_seca_list_add(sov_seca_list *l, json_t *item)
{
    if (!item)
        return;
    if (l->sel) {
        json_t *labels = json_object_get(item, "labels");
        sov_autoptr(json_t) none = labels ? NULL : json_object();
        if (!sov_seca_selector_match(l->sel, labels ? labels : none)) {
            json_decref(item);
            return;
        }
    }
    json_array_append_new(l->items, item);
}

static const char *
item_name(const json_t *item)
{
    const char *s = json_string_value(json_object_get(json_object_get(item, "metadata"),
                                                      "name"));
    return s ? s : "";
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(item_name(*(json_t *const *) a), item_name(*(json_t *const *) b));
}

enum MHD_Result
sov_seca_list_reply(sov_request *req, const sov_seca_type *t, sov_seca_list *l)
{
    size_t n = json_array_size(l->items);
    sov_autofree json_t **v = calloc(n ? n : 1, sizeof(*v));
    sov_autoptr(json_t) page = json_array();
    sov_autoptr(json_t) body = NULL;
    const char *network = sov_seca_network(req);
    char prov[80], res[SOV_SECA_NAME_MAX + 64], token[16];
    json_t *md;

    if (!v || !page) {
        sov_error err = SOV_ERROR_INIT;
        sov_error_set(&err, SOV_E_INTERNAL, "out of memory");
        return sov_seca_reply_error(req, &err, false);
    }
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(l->items, i);
    qsort(v, n, sizeof(*v), by_name);
    for (size_t i = l->offset; i < n && i - l->offset < l->limit; i++)
        json_array_append(page, v[i]);
    snprintf(prov, sizeof(prov), "%s/v1", t->provider);
    if (t->scope == SOV_SECA_NETWORK && network)
        snprintf(res, sizeof(res), "networks/%s/%s", network, t->plural);
    else
        snprintf(res, sizeof(res), "%s", t->plural);
    md = json_pack("{s:s, s:s, s:s}", "provider", prov, "resource", res, "verb", req->method);
    if (md && l->offset + l->limit < n) {
        skip_token(l->offset + l->limit, token);
        json_object_set_new(md, "skipToken", json_string(token));
    }
    body = json_pack("{s:O, s:o}", "items", page, "metadata", md);
    if (!body) {
        sov_error err = SOV_ERROR_INIT;
        sov_error_set(&err, SOV_E_INTERNAL, "out of memory");
        return sov_seca_reply_error(req, &err, false);
    }
    return sov_seca_reply(req, MHD_HTTP_OK, body);
}

void
sov_seca_list_free(sov_seca_list *l)
{
    if (!l)
        return;
    json_decref(l->items);
    sov_seca_selector_free(l->sel);
    free(l);
}
