/* verbs.c: the generic verbs. From a verb's row in the table: fill the path ({tenant},
 * {id}), turn the flags into a JSON body or a query string (looking up names a person typed
 * where the API wants an id), call, and show the answer: a table for lists (all pages, or
 * --limit), fields for one resource, the operation followed for asynchronous work. */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define LOOKUP_PAGE 1000
#define DEFAULT_PAGE 100
#define MAX_FLAG_FILE (1024 * 1024)

/* ---- values of flags ---- */

const char *
ctl_value(const ctl_ctx *ctx, const char *name)
{
    const char *v = NULL;

    for (size_t i = 0; i < ctx->nvalues; i++)
        if (strcmp(ctx->values[i].flag->name, name) == 0)
            v = ctx->values[i].resolved[0] ? ctx->values[i].resolved : ctx->values[i].value;
    return v;
}

bool
ctl_switch(const ctl_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->nvalues; i++)
        if (strcmp(ctx->values[i].flag->name, name) == 0)
            return true;
    return false;
}

static void
field_name(const ctl_flag *f, char *buf, size_t size)
{
    snprintf(buf, size, "%s", f->field ? f->field : f->name);
    for (char *p = buf; *p; p++)
        if (*p == '-')
            *p = '_';
}

static bool
is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    }
    return true;
}

/* ---- the caller, paths, lookups ---- */

int
ctl_me(ctl_ctx *ctx, const json_t **ret)
{
    int rc;

    if (!ctx->me && (rc = ctl_api(ctx, "GET", "/v1/me", NULL, &ctx->me)) != 0)
        return rc;
    *ret = ctx->me;
    return 0;
}

static int
default_tenant(ctl_ctx *ctx)
{
    const json_t *me;
    const char *id;
    int rc;

    if (ctx->tenant[0])
        return 0;
    if ((rc = ctl_me(ctx, &me)) != 0)
        return rc;
    id = json_string_value(ctl_json_path(me, "tenant.id"));
    if (!id)
        return ctl_fail(CTL_EXIT_API, "the API did not say which tenant the token is of");
    snprintf(ctx->tenant, sizeof(ctx->tenant), "%s", id);
    return 0;
}

static void
append_escaped(char **out, const char *raw)
{
    char *esc = curl_easy_escape(NULL, raw, 0), *joined = NULL;

    if (!esc || asprintf(&joined, "%s%s", *out, esc) < 0)
        abort();
    curl_free(esc);
    free(*out);
    *out = joined;
}

static void
append_text(char **out, const char *s, size_t n)
{
    char *joined = NULL;

    if (asprintf(&joined, "%s%.*s", *out, (int) n, s) < 0)
        abort();
    free(*out);
    *out = joined;
}

int
ctl_expand_path(ctl_ctx *ctx, const char *tmpl, char **ret)
{
    sov_autofree char *out = strdup("");
    const char *p = tmpl;
    int rc;

    if (!out)
        abort();
    while (*p) {
        const char *brace = strchr(p, '{');
        if (!brace) {
            append_text(&out, p, strlen(p));
            break;
        }
        append_text(&out, p, (size_t) (brace - p));
        if (strncmp(brace, "{tenant}", 8) == 0) {
            if ((rc = default_tenant(ctx)) != 0)
                return rc;
            append_escaped(&out, ctx->tenant);
            p = brace + 8;
        } else if (strncmp(brace, "{region}", 8) == 0 && ctl_value(ctx, "region")) {
            /* A region's sub-collection: --region (a local flag) names it. */
            append_escaped(&out, ctl_value(ctx, "region"));
            p = brace + 8;
        } else if (strncmp(brace, "{id}", 4) == 0) {
            append_escaped(&out, ctx->id);
            p = brace + 4;
        } else {
            append_text(&out, brace, 1);
            p = brace + 1;
        }
    }
    *ret = SOV_TAKE_PTR(out);
    return 0;
}

static bool
matches(const ctl_resource *res, const json_t *item, const char *given)
{
    char members[128];
    const char *key = json_string_value(json_object_get(item, res->key));

    if (key && strcmp(key, given) == 0)
        return true;
    snprintf(members, sizeof(members), "%s", res->match);
    for (char *save = NULL, *m = strtok_r(members, ",", &save); m;
         m = strtok_r(NULL, ",", &save)) {
        const char *v = json_string_value(json_object_get(item, m));
        if (v && strcmp(v, given) == 0)
            return true;
    }
    return false;
}

/* Every item of res's collection that `given` names (a lookup ignores --limit). */
static int
lookup(ctl_ctx *ctx, const ctl_resource *res, const char *given, json_t *found)
{
    sov_autofree char *path = NULL;
    sov_autoptr(json_t) all = NULL;
    long saved = ctx->opts.limit, saved_page = ctx->opts.page_size;
    size_t i;
    json_t *item;
    int rc;

    if ((rc = ctl_expand_path(ctx, res->path, &path)) != 0)
        return rc;
    if (res->filter && (rc = ctl_query_add(&path, res->filter, given)) != 0)
        return rc;
    ctx->opts.limit = 0;
    ctx->opts.page_size = LOOKUP_PAGE;
    rc = ctl_list_all(ctx, path, &all);
    ctx->opts.limit = saved;
    ctx->opts.page_size = saved_page;
    if (rc != 0)
        return rc;
    json_array_foreach(json_object_get(all, "items"), i, item)
        if (matches(res, item, given))
            json_array_append(found, json_object_get(item, res->key));
    return 0;
}

static int
ambiguous(const ctl_resource *res, const char *given, const json_t *found)
{
    char ids[512];

    ctl_json_text(found, ids, sizeof(ids));
    return ctl_fail(CTL_EXIT_API, "%zu %ss are named '%s' (%s): give the %s",
                    json_array_size(found), res->name, given, ids, res->key);
}

int
ctl_resolve(ctl_ctx *ctx, const ctl_resource *res, const char *given, char *out, size_t size)
{
    sov_autoptr(json_t) found = json_array();
    const json_t *me = NULL, *own;
    int rc;

    if (!res->match || (strcmp(res->key, "id") == 0 && is_uuid(given))) {
        snprintf(out, size, "%s", given);
        return 0;
    }
    /* The caller's own tenant, user or token needs no list (nor the right to list). */
    if (res->me && (rc = ctl_me(ctx, &me)) != 0)
        return rc;
    own = res->me ? json_object_get(me, res->me) : NULL;
    if (own && matches(res, own, given)) {
        snprintf(out, size, "%s", ctl_text(json_object_get(own, res->key)));
        return 0;
    }
    if ((rc = lookup(ctx, res, given, found)) != 0)
        return rc;
    if (json_array_size(found) == 0)
        return ctl_fail(CTL_EXIT_API, "no %s is named '%s'", res->name, given);
    if (json_array_size(found) > 1)
        return ambiguous(res, given, found);
    ctl_json_text(json_array_get(found, 0), out, size);
    return 0;
}

/* Look up every flag that names a resource (tenants first: users are found in one), and
 * the first argument when the path has {id}. */
static int
resolve_refs(ctl_ctx *ctx, bool tenants)
{
    for (size_t i = 0; i < ctx->nvalues; i++) {
        ctl_given *v = &ctx->values[i];
        const ctl_flag *f = v->flag;
        int rc;
        if (!f->ref || !v->value || (strcmp(f->ref, "tenant") == 0) != tenants)
            continue;
        rc = ctl_resolve(ctx, ctl_resource_find(f->ref), v->value, v->resolved,
                         sizeof(v->resolved));
        if (rc != 0)
            return rc;
        if (tenants && (!ctx->tenant[0] || (f->field && strcmp(f->field, "{tenant}") == 0)))
            snprintf(ctx->tenant, sizeof(ctx->tenant), "%s", v->resolved);
    }
    return 0;
}

static int
prepare(ctl_ctx *ctx)
{
    const ctl_verb *verb = ctx->verb;
    int rc;

    if ((rc = resolve_refs(ctx, true)) != 0 || (rc = resolve_refs(ctx, false)) != 0)
        return rc;
    if (verb->path && strstr(verb->path, "{id}") && ctx->nargs > 0)
        return ctl_resolve(ctx, ctx->res, ctx->args[0], ctx->id, sizeof(ctx->id));
    return 0;
}

/* ---- private keys: never sent ---- */

#define KEY_SCAN (64 * 1024)

/* Each form a private key file takes, by the line that opens it. The last catches any other
 * PEM label ending in PRIVATE KEY; a key is found anywhere in the text (indented in YAML,
 * after a certificate, after openssl's "Bag Attributes"). */
static const struct {
    const char *marker, *kind;
} key_forms[] = {
    { "-----BEGIN OPENSSH PRIVATE KEY-----", "an OpenSSH private key" },
    { "-----BEGIN RSA PRIVATE KEY-----", "a PEM private key" },
    { "-----BEGIN EC PRIVATE KEY-----", "a PEM private key" },
    { "-----BEGIN DSA PRIVATE KEY-----", "a PEM private key" },
    { "-----BEGIN PRIVATE KEY-----", "a PKCS#8 private key" },
    { "-----BEGIN ENCRYPTED PRIVATE KEY-----", "a PKCS#8 private key" },
    { "PuTTY-User-Key-File-", "a PuTTY private key" },
    { "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", "an SSH2 private key" },
    { "PRIVATE KEY-----", "a private key" },
};

const char *
ctl_private_key_kind(const char *data, size_t len)
{
    for (size_t i = 0; i < sizeof(key_forms) / sizeof(key_forms[0]); i++)
        if (memmem(data, len, key_forms[i].marker, strlen(key_forms[i].marker)))
            return key_forms[i].kind;
    return NULL;
}

int
ctl_refuse_private_key(const ctl_ctx *ctx, const char *what, const char *file,
                       const char *data, size_t len)
{
    const char *kind = ctl_private_key_kind(data, len);
    size_t n = strlen(file);

    if (!kind)
        return 0;
    if (strcmp(what, "--ssh-key") != 0)
        return ctl_usage_error(ctx, "%s: %s holds %s, and sovctl never sends a private key",
                               what, file, kind);
    if (n > 4 && strcmp(file + n - 4, ".pub") == 0)
        return ctl_usage_error(ctx, "--ssh-key: %s holds %s, and sovctl never sends a private "
                                    "key: give the public key (ssh-keygen -y -f %s prints it)",
                               file, kind, file);
    return ctl_usage_error(ctx, "--ssh-key: %s holds %s, and sovctl never sends a private key: "
                                "give the public key, --ssh-key %s.pub",
                           file, kind, file);
}

int
ctl_refuse_private_key_file(const ctl_ctx *ctx, const char *what, const char *file)
{
    sov_autoptr(FILE) in = fopen(file, "rb");
    sov_autofree char *head = malloc(KEY_SCAN);
    size_t n;

    if (!head)
        abort();
    if (!in)
        return 0;           /* the caller's own open says why */
    n = fread(head, 1, KEY_SCAN, in);
    return ctl_refuse_private_key(ctx, what, file, head, n);
}

/* ---- flags into JSON ---- */

static int
read_flag_file(const ctl_ctx *ctx, const ctl_flag *f, const char *name, json_t **ret)
{
    sov_autoptr(FILE) in = fopen(name, "rb");
    sov_autofree char *data = malloc(MAX_FLAG_FILE + 1);
    char what[80];
    size_t n;
    int rc;

    if (!data)
        abort();
    if (!in)
        return ctl_usage_error(ctx, "--%s: could not open '%s': %s", f->name, name,
                               strerror(errno));
    n = fread(data, 1, MAX_FLAG_FILE + 1, in);
    if (ferror(in) || n > MAX_FLAG_FILE)
        return ctl_usage_error(ctx, "--%s: could not read '%s' (at most 1 MiB)", f->name, name);
    snprintf(what, sizeof(what), "--%s", f->name);
    if ((rc = ctl_refuse_private_key(ctx, what, name, data, n)) != 0)
        return rc;
    /* A key file's final newline is not part of the key. */
    while (f->type == CTL_T_FILES && n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
        n--;
    *ret = json_stringn(data, n);
    if (!*ret)
        return ctl_usage_error(ctx, "--%s: '%s' is not UTF-8 text", f->name, name);
    return 0;
}

static int
number_json(const ctl_ctx *ctx, const ctl_flag *f, const char *v, json_t **ret)
{
    char *end = NULL;

    errno = 0;
    if (f->type == CTL_T_INT) {
        long long n = strtoll(v, &end, 10);
        if (errno == 0 && end != v && *end == '\0') {
            *ret = json_integer(n);
            return 0;
        }
        return ctl_usage_error(ctx, "--%s wants a whole number, not '%s'", f->name, v);
    }
    double d = strtod(v, &end);
    if (errno == 0 && end != v && *end == '\0') {
        *ret = json_real(d);
        return 0;
    }
    return ctl_usage_error(ctx, "--%s wants a number, not '%s'", f->name, v);
}

/* Append the comma-separated words of v to arr ("" adds none: an empty list). */
static void
list_append(json_t *arr, const char *v)
{
    sov_autofree char *copy = strdup(v);

    if (!copy)
        abort();
    for (char *save = NULL, *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        while (*w == ' ')
            w++;
        if (*w)
            json_array_append_new(arr, json_string(w));
    }
}

/* One object of a CTL_T_OBJECTS flag: "subnet=web,ip=10.0.0.5,sg=a,sg=b" is
 * {"subnet": "web", "ip": "10.0.0.5", "security_groups": ["a", "b"]}. */
static int
object_json(const ctl_ctx *ctx, const ctl_flag *f, const char *v, json_t **ret)
{
    sov_autofree char *copy = strdup(v);
    sov_autoptr(json_t) obj = json_object();

    if (!copy || !obj)
        abort();
    for (char *save = NULL, *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(w, '=');

        while (*w == ' ')
            w++;
        if (!eq || eq == w)
            return ctl_usage_error(ctx, "--%s wants KEY=VALUE,..., not '%s'", f->name, w);
        *eq = '\0';
        if (strcmp(w, "sg") == 0 || strcmp(w, "security_groups") == 0) {
            json_t *list = json_object_get(obj, "security_groups");

            if (!list) {
                list = json_array();
                json_object_set_new(obj, "security_groups", list);
            }
            if (eq[1])
                json_array_append_new(list, json_string(eq + 1));
            continue;
        }
        if (json_object_get(obj, w))
            return ctl_usage_error(ctx, "--%s: '%s' is given twice", f->name, w);
        json_object_set_new(obj, w, json_string(eq + 1));
    }
    *ret = SOV_TAKE_PTR(obj);
    return 0;
}

static int
value_json(const ctl_ctx *ctx, const ctl_given *v, json_t **ret)
{
    const ctl_flag *f = v->flag;
    const char *text = v->resolved[0] ? v->resolved : v->value;

    switch (f->type) {
    case CTL_T_INT:
    case CTL_T_NUM:
        return number_json(ctx, f, text, ret);
    case CTL_T_FILE:
    case CTL_T_FILES:
        return read_flag_file(ctx, f, text, ret);
    case CTL_T_SWITCH:
        *ret = json_true();
        return 0;
    case CTL_T_OBJECTS:
        return object_json(ctx, f, text, ret);
    default:
        *ret = json_string(text);
        return *ret ? 0 : ctl_usage_error(ctx, "--%s: '%s' is not UTF-8", f->name, text);
    }
}

static bool
sent(const ctl_flag *f)
{
    return !(f->opts & CTL_F_LOCAL) && !(f->field && strcmp(f->field, "{tenant}") == 0);
}

/* The object a dotted field ("boot.image") goes in, made on first use; *name is left at
 * the member's own name. */
static json_t *
body_member_parent(json_t *body, char **name)
{
    char *dot = strchr(*name, '.');
    json_t *sub;

    if (!dot)
        return body;
    *dot = '\0';
    if (!json_is_object(sub = json_object_get(body, *name))) {
        sub = json_object();
        json_object_set_new(body, *name, sub);
    }
    *name = dot + 1;
    return sub;
}

static int
add_to_body(const ctl_ctx *ctx, json_t *body, const ctl_given *v)
{
    char buf[64], *name = buf;
    json_t *arr, *one = NULL;
    int rc;

    field_name(v->flag, buf, sizeof(buf));
    body = body_member_parent(body, &name);
    if (v->flag->type != CTL_T_LIST && v->flag->type != CTL_T_FILES &&
        v->flag->type != CTL_T_OBJECTS) {
        if ((rc = value_json(ctx, v, &one)) != 0)
            return rc;
        return json_object_set_new(body, name, one) == 0 ? 0 : CTL_EXIT_USAGE;
    }
    if (!(arr = json_object_get(body, name))) {
        arr = json_array();
        json_object_set_new(body, name, arr);
    }
    if (v->flag->type == CTL_T_LIST) {
        list_append(arr, v->value);
        return 0;
    }
    if ((rc = value_json(ctx, v, &one)) != 0)
        return rc;
    json_array_append_new(arr, one);
    return 0;
}

static int
nothing_to_send(const ctl_ctx *ctx)
{
    char names[512] = "";
    size_t used = 0;

    for (const ctl_flag *f = ctx->verb->flags; f && f->name; f++)
        if (sent(f))
            used += (size_t) snprintf(names + used, used < sizeof(names) ? sizeof(names) - used
                                                                        : 0,
                                      "%s--%s", used ? ", " : "", f->name);
    return ctl_usage_error(ctx, "nothing to change: give at least one of %s", names);
}

static bool
gives_body(const ctl_ctx *ctx)
{
    for (size_t i = 0; i < ctx->nvalues; i++)
        if (sent(ctx->values[i].flag))
            return true;
    return false;
}

static int
build_body(const ctl_ctx *ctx, json_t **ret)
{
    sov_autoptr(json_t) body = json_object();
    int rc;

    if (ctx->verb->action)
        json_object_set_new(body, "action", json_string(ctx->verb->action));
    for (size_t i = 0; i < ctx->nvalues; i++)
        if (sent(ctx->values[i].flag) && (rc = add_to_body(ctx, body, &ctx->values[i])) != 0)
            return rc;
    if ((ctx->verb->opts & CTL_V_BODY) && json_object_size(body) == 0)
        return nothing_to_send(ctx);
    *ret = SOV_TAKE_PTR(body);
    return 0;
}

static int
build_query(ctl_ctx *ctx, char **path)
{
    char name[64];
    int rc;

    for (size_t i = 0; i < ctx->nvalues; i++) {
        const ctl_given *v = &ctx->values[i];
        if (!sent(v->flag))
            continue;
        field_name(v->flag, name, sizeof(name));
        rc = ctl_query_add(path, name, v->resolved[0] ? v->resolved : v->value);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- lists ---- */

/* The link with its limit= set to n (the server's next link repeats the first one's). */
static void
set_limit(char **link, long n)
{
    char *q = strchr(*link, '?'), *p = NULL, *out = NULL;
    size_t at;

    for (char *s = q; s && !p; s = strchr(s + 1, '&'))
        if (strncmp(s + 1, "limit=", 6) == 0)
            p = s + 1;
    if (!p) {
        char num[32];
        snprintf(num, sizeof(num), "%ld", n);
        ctl_query_add(link, "limit", num);
        return;
    }
    at = (size_t) (p - *link);
    if (asprintf(&out, "%.*slimit=%ld%s", (int) at, *link, n, p + strcspn(p, "&")) < 0)
        abort();
    free(*link);
    *link = out;
}

static int
list_page(ctl_ctx *ctx, const char *link, json_t *items, char **next)
{
    sov_autoptr(json_t) page = NULL;
    const json_t *arr;
    const char *n;
    int rc;

    if ((rc = ctl_api(ctx, "GET", link, NULL, &page)) != 0)
        return rc;
    arr = json_object_get(page, "items");
    if (!json_is_array(arr))
        return ctl_fail(CTL_EXIT_API, "the API answered %s without a list of items", link);
    json_array_extend(items, (json_t *) arr);
    n = json_string_value(json_object_get(page, "next"));
    /* The link is a path; should it ever be absolute, its path goes to our endpoint. */
    if (n && (strncmp(n, "http://", 7) == 0 || strncmp(n, "https://", 8) == 0))
        n = strchr(strstr(n, "://") + 3, '/');
    *next = n ? strdup(n) : NULL;
    return 0;
}

int
ctl_list_all(ctl_ctx *ctx, const char *path, json_t **ret)
{
    sov_autoptr(json_t) items = json_array();
    sov_autofree char *link = strdup(path);
    long limit = ctx->opts.limit, page = ctx->opts.page_size ? ctx->opts.page_size : DEFAULT_PAGE;
    int rc;

    if (!link)
        abort();
    while (link) {
        long want = limit ? limit - (long) json_array_size(items) : page;
        char *next = NULL;
        if (want <= 0)
            break;
        set_limit(&link, want < page ? want : page);
        if ((rc = list_page(ctx, link, items, &next)) != 0)
            return rc;
        free(link);
        link = next;
    }
    *ret = json_pack("{s:O, s:s?}", "items", items, "next", link);
    if (!*ret)
        abort();
    return 0;
}

/* ---- -o wide: names for the ids a table shows ---- */

/* Add to names (key -> name) the items of res's collection, every page; quietly: a
 * collection the caller may not list adds nothing, and the id stays. */
static void
fetch_names(ctl_ctx *ctx, const ctl_resource *res, json_t *names)
{
    sov_autofree char *link = NULL;

    if (asprintf(&link, "%s?limit=%d", res->path, LOOKUP_PAGE) < 0)
        abort();
    for (int pages = 0; link && pages < 100; pages++) {
        ctl_req req = { .method = "GET", .path = link };
        const json_t *item, *list;
        const char *next;
        ctl_resp r;
        size_t i;
        if (ctl_http(ctx, &req, &r) != 0)
            return;
        list = json_object_get(r.json, "items");
        json_array_foreach(list, i, item) {
            const char *key = json_string_value(json_object_get(item, res->key));
            const char *name = json_string_value(json_object_get(item, "name"));
            if (key && name)
                json_object_set_new(names, key, json_string(name));
        }
        next = r.status < 400 ? json_string_value(json_object_get(r.json, "next")) : NULL;
        free(link);
        link = next && next[0] == '/' ? strdup(next) : NULL;
        ctl_resp_release(&r);
    }
}

/* One by one, for the ids the collection did not hold (another tenant's image, for an
 * operator): at most max of them, each asked once. */
static void
fetch_each(ctl_ctx *ctx, const ctl_resource *res, const json_t *items, const char *path,
           json_t *names, int max)
{
    const json_t *item;
    size_t i;

    json_array_foreach(items, i, item) {
        const char *id = json_string_value(json_object_get(item, path));
        sov_autofree char *one = NULL;
        ctl_req req = { .method = "GET" };
        const char *name;
        ctl_resp r;
        if (!id || json_object_get(names, id) || max-- <= 0)
            continue;
        one = ctl_path_join(res->path, id, "");
        req.path = one;
        json_object_set_new(names, id, json_null());    /* asked: not again */
        if (ctl_http(ctx, &req, &r) != 0)
            return;
        name = r.status < 400 ? json_string_value(json_object_get(r.json, "name")) : NULL;
        if (name)
            json_object_set_new(names, id, json_string(name));
        ctl_resp_release(&r);
    }
}

static bool
all_named(const json_t *items, const char *path, const json_t *names)
{
    const json_t *item;
    size_t i;

    json_array_foreach(items, i, item) {
        const char *id = json_string_value(json_object_get(item, path));
        if (id && !json_object_get(names, id))
            return false;
    }
    return true;
}

/* The ids of columns with a ref, as names: one lookup per resource and run (the caller's own
 * tenant comes from /v1/me, asked once anyway), only for ids not known yet. */
static void
name_refs(ctl_ctx *ctx, json_t *items)
{
    sov_autoptr(json_t) cache = json_object();

    for (const ctl_column *c = ctx->res->columns; c && c->header; c++) {
        const ctl_resource *res = NULL;
        const json_t *me;
        json_t *names, *item;
        char ref[64];
        size_t i;
        if ((c->opts & CTL_C_REF) && c->path) {
            snprintf(ref, sizeof(ref), "%.*s", (int) strcspn(c->path, "_"), c->path);
            res = ctl_resource_find(ref);
        }
        if (!res)
            continue;
        if (!(names = json_object_get(cache, ref))) {
            names = json_object();
            json_object_set_new(cache, ref, names);
        }
        if (res->me && !all_named(items, c->path, names) && ctl_me(ctx, &me) == 0) {
            const json_t *mine = json_object_get(me, res->me);
            const char *id = json_string_value(json_object_get(mine, res->key));
            const char *name = json_string_value(json_object_get(mine, "name"));
            if (id && name)
                json_object_set_new(names, id, json_string(name));
        }
        if (!all_named(items, c->path, names) && !json_is_true(json_object_get(names, "")))
            fetch_names(ctx, res, names);
        json_object_set_new(names, "", json_true());    /* listed: not again */
        fetch_each(ctx, res, items, c->path, names, 20);
        json_array_foreach(items, i, item) {
            const char *id = json_string_value(json_object_get(item, c->path));
            const char *name = id ? json_string_value(json_object_get(names, id)) : NULL;
            if (name)
                json_object_set_new(item, c->path, json_string(name));
        }
    }
}

static int
run_list(ctl_ctx *ctx)
{
    sov_autofree char *path = NULL;
    sov_autoptr(json_t) all = NULL;
    const json_t *items;
    int rc;

    if ((rc = ctl_expand_path(ctx, ctx->verb->path, &path)) != 0 ||
        (rc = build_query(ctx, &path)) != 0 || (rc = ctl_list_all(ctx, path, &all)) != 0)
        return rc;
    if (ctx->format == CTL_FMT_JSON) {
        ctl_print_json(all);
        return 0;
    }
    items = json_object_get(all, "items");
    if (json_array_size(items) == 0) {
        fprintf(stderr, "No %ss found.\n", ctx->res->name);
        return 0;
    }
    if (ctx->format == CTL_FMT_WIDE)
        name_refs(ctx, (json_t *) items);
    ctl_print_table(ctx, ctx->res->columns, items);
    if (json_is_string(json_object_get(all, "next")))
        fprintf(stderr, "(the first %zu; more with a higher --limit)\n", json_array_size(items));
    return 0;
}

/* ---- one resource ---- */

static int
show_answer(ctl_ctx *ctx, const ctl_resp *r)
{
    const json_t *ok;

    if (!r->json)
        return ctl_print_text(ctx, r->body, r->len);
    ctl_print(ctx, r->json);
    ok = json_object_get(r->json, "ok");
    if ((ctx->verb->opts & CTL_V_VERDICT) && !json_is_true(ok))
        return CTL_EXIT_API;
    return 0;
}

static int
run_show(ctl_ctx *ctx)
{
    sov_autofree char *path = NULL;
    ctl_req req = { .method = "GET", .anonymous = ctx->verb->opts & CTL_V_PUBLIC };
    ctl_resp r;
    int rc;

    if ((rc = ctl_expand_path(ctx, ctx->verb->path, &path)) != 0 ||
        (rc = build_query(ctx, &path)) != 0)
        return rc;
    req.path = path;
    if ((rc = ctl_http(ctx, &req, &r)) == 0)
        rc = r.status >= 400 ? ctl_problem(ctx, &r) : show_answer(ctx, &r);
    ctl_resp_release(&r);
    return rc;
}

int
ctl_show(ctl_ctx *ctx)
{
    return run_show(ctx);
}

static void
say_replayed(const ctl_ctx *ctx, const ctl_resp *r)
{
    if (r->replayed && ctx->format != CTL_FMT_JSON)
        fprintf(stderr, "(the answer to an earlier request with this Idempotency-Key: "
                        "nothing new was made)\n");
}

int
ctl_send_answer(ctl_ctx *ctx, ctl_resp *r)
{
    if (r->status >= 400)
        return ctl_problem(ctx, r);
    say_replayed(ctx, r);
    if (json_is_object(json_object_get(r->json, "operation")))
        return ctl_finish_async(ctx, r->json);
    ctl_print(ctx, r->json);
    if (ctx->verb->note && ctx->format != CTL_FMT_JSON)
        fprintf(stderr, "Note: %s\n", ctx->verb->note);
    return 0;
}

int
ctl_send(ctl_ctx *ctx, ctl_resp *ret)
{
    return ctl_send_extra(ctx, NULL, ret);
}

int
ctl_send_extra(ctl_ctx *ctx, json_t *extra, ctl_resp *ret)
{
    sov_autofree char *path = NULL;
    sov_autoptr(json_t) body = NULL;
    ctl_req req = { .method = ctx->verb->method };
    int rc;

    memset(ret, 0, sizeof(*ret));
    if ((rc = build_body(ctx, &body)) != 0 ||
        (rc = ctl_expand_path(ctx, ctx->verb->path, &path)) != 0)
        return rc;
    if (extra && json_object_update(body, extra) < 0)
        return ctl_fail(CTL_EXIT_USAGE, "could not build the request");
    req.path = path;
    req.body = body;
    req.create = ctx->verb->opts & CTL_V_CREATE;
    return ctl_http(ctx, &req, ret);
}

static int
run_send(ctl_ctx *ctx)
{
    ctl_resp r;
    int rc = ctl_send(ctx, &r);

    if (rc == 0)
        rc = ctl_send_answer(ctx, &r);
    ctl_resp_release(&r);
    return rc;
}

static int
run_delete(ctl_ctx *ctx)
{
    sov_autofree char *path = NULL;
    ctl_req req = { .method = "DELETE" };
    ctl_resp r;
    int rc;

    if ((rc = ctl_expand_path(ctx, ctx->verb->path, &path)) != 0)
        return rc;
    req.path = path;
    if ((rc = ctl_http(ctx, &req, &r)) != 0)
        return rc;
    if (r.status >= 400)
        rc = ctl_problem(ctx, &r);
    else if (json_is_object(json_object_get(r.json, "operation")))
        rc = ctl_finish_async(ctx, r.json);
    else if (ctx->format != CTL_FMT_JSON)
        printf("%s %s deleted\n", ctx->res->name, ctx->args[0]);
    ctl_resp_release(&r);
    return rc;
}

/* ---- asynchronous work ---- */

static int
show_after_wait(ctl_ctx *ctx, const json_t *thing, json_t *op)
{
    sov_autofree char *path = NULL;
    sov_autoptr(json_t) now = NULL;
    const char *key = json_string_value(json_object_get(thing, ctx->res->key));
    int rc;

    if (strcmp(ctx->verb->method, "DELETE") == 0 || !key) {
        if (ctx->format == CTL_FMT_JSON)
            ctl_print_json(op);
        else if (strcmp(ctx->verb->method, "DELETE") == 0)
            printf("%s %s deleted\n", ctx->res->name, ctx->args[0]);
        else    /* an answer that is not the resource itself (a rule, an action's) */
            printf("operation %s %s\n", ctl_text(json_object_get(op, "id")),
                   ctl_text(json_object_get(op, "state")));
        return 0;
    }
    path = ctl_path_join(ctx->res->path, key, "");
    if ((rc = ctl_api(ctx, "GET", path, NULL, &now)) != 0)
        return rc;
    ctl_print(ctx, now);
    return 0;
}

int
ctl_finish_async(ctl_ctx *ctx, json_t *answer)
{
    const json_t *op = json_object_get(answer, "operation");
    const json_t *thing = json_object_get(answer, ctx->res->name);
    const char *id = json_string_value(json_object_get(op, "id"));
    sov_autoptr(json_t) last = NULL;
    char member[64];
    int rc;

    /* The answer names the resource as JSON does ("security_group" for security-group). */
    if (!thing) {
        size_t i;

        for (i = 0; ctx->res->name[i] && i + 1 < sizeof(member); i++)
            member[i] = ctx->res->name[i] == '-' ? '_' : ctx->res->name[i];
        member[i] = '\0';
        thing = json_object_get(answer, member);
    }
    if ((!ctx->opts.wait && !(ctx->verb->opts & CTL_V_WAITS)) || !id) {
        ctl_print(ctx, ctx->format == CTL_FMT_JSON || !thing ? answer : thing);
        if (id && ctx->format != CTL_FMT_JSON)
            fprintf(stderr, "Operation %s is %s; follow it with: sovctl operation wait %s\n", id,
                    ctl_text(json_object_get(op, "state")), id);
        return 0;
    }
    if ((rc = ctl_wait_operation(ctx, id, &last)) != 0)
        return rc;
    return show_after_wait(ctx, thing, last);
}

/* Every file the verb would send, read and checked before any request (a lookup included):
 * one that cannot be read, or holds a private key, is a usage error and nothing is sent. */
static int
check_files(const ctl_ctx *ctx)
{
    const char *up = ctl_value(ctx, "file");
    int rc;

    for (size_t i = 0; i < ctx->nvalues; i++) {
        const ctl_given *v = &ctx->values[i];
        sov_autoptr(json_t) text = NULL;
        if (v->flag->type != CTL_T_FILE && v->flag->type != CTL_T_FILES)
            continue;
        if ((rc = read_flag_file(ctx, v->flag, v->value, &text)) != 0)
            return rc;
    }
    if (!(ctx->verb->opts & CTL_V_UPLOAD))
        return 0;
    if (up)
        return ctl_refuse_private_key_file(ctx, "--file", up);
    if (ctx->nargs > 1)
        return ctl_refuse_private_key_file(ctx, "upload", ctx->args[ctx->nargs - 1]);
    return 0;
}

int
ctl_run_verb(ctl_ctx *ctx)
{
    int rc;

    /* Usage first: a command that cannot work should not cost a lookup. */
    if ((ctx->verb->opts & CTL_V_BODY) && !gives_body(ctx))
        return nothing_to_send(ctx);
    if ((rc = check_files(ctx)) != 0)
        return rc;
    if (ctx->verb->path && (rc = prepare(ctx)) != 0)
        return rc;
    switch (ctx->verb->kind) {
    case CTL_LIST:
        return run_list(ctx);
    case CTL_SHOW:
        return run_show(ctx);
    case CTL_SEND:
        return run_send(ctx);
    case CTL_DELETE:
        return run_delete(ctx);
    case CTL_RUN:
        return ctx->verb->run(ctx);
    }
    return CTL_EXIT_USAGE;
}
