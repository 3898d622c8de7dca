/* json.c: checking request bodies and shaping list replies, for every handler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/api.h"
#include "sov/buf.h"

const char *
sov_api_json_type_name(json_type t)
{
    switch (t) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "a whole number";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "true or false";
    default: return "null";
    }
}

bool
sov_api_json_type_matches(json_t *v, json_type want)
{
    if (want == JSON_TRUE || want == JSON_FALSE)
        return json_is_boolean(v);
    if (want == JSON_REAL)
        return json_is_number(v);
    return json_typeof(v) == want;
}

int
sov_api_check_body(sov_request *req, const sov_field *fields, size_t n, sov_error *err)
{
    const char *key;
    json_t *v;

    if (!req->body) {
        for (size_t i = 0; i < n; i++)
            if (fields[i].required)
                return sov_error_invalid(err, fields[i].name,
                                         "request body is required (a JSON object with '%s')",
                                         fields[i].name);
        return 0;
    }
    json_object_foreach(req->body, key, v) {
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(fields[i].name, key) == 0)
                break;
        if (i == n)
            return sov_error_invalid(err, key, "unknown field '%.64s'", key);
        if (json_is_null(v) && !fields[i].required)
            continue;
        if (!sov_api_json_type_matches(v, fields[i].type))
            return sov_error_invalid(err, key, "%s must be %s", key,
                                     sov_api_json_type_name(fields[i].type));
    }
    for (size_t i = 0; i < n; i++) {
        v = json_object_get(req->body, fields[i].name);
        if (fields[i].required && (!v || json_is_null(v)))
            return sov_error_invalid(err, fields[i].name, "%s is required", fields[i].name);
    }
    return 0;
}

const char *
sov_api_body_str(sov_request *req, const char *name)
{
    return req->body ? json_string_value(json_object_get(req->body, name)) : NULL;
}

json_t *
sov_api_str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

int
sov_api_page(sov_request *req, unsigned *limit, const char **after, sov_error *err)
{
    const char *l = sov_request_query(req, "limit");
    const char *a = sov_request_query(req, "after");
    char *end = NULL;
    unsigned long n;

    *limit = 100;
    if (l) {
        /* Digits only: strtoul alone would also take " 1", "+1" and "-1" (as ULONG_MAX). */
        n = strtoul(l, &end, 10);
        if (l[0] < '0' || l[0] > '9' || *end || n < 1 || n > 1000)
            return sov_error_invalid(err, "limit", "limit must be a whole number from 1 to 1000");
        *limit = (unsigned) n;
    }
    if (a && strlen(a) > 256)
        return sov_error_invalid(err, "after", "after must be the cursor of a 'next' link");
    *after = a && *a ? a : NULL;
    return 0;
}

static void
put_encoded(sov_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            sov_buf_append(b, p, 1);
        else
            sov_buf_printf(b, "%%%02X", *p);
    }
}

json_t *
sov_api_list(sov_request *req, json_t *items, const char *next_after, const char *const *keep)
{
    json_t *out = json_object();
    sov_buf b = SOV_BUF_INIT;
    unsigned limit = 100;
    const char *after = NULL;
    sov_error err = SOV_ERROR_INIT;

    json_object_set_new(out, "items", items ? items : json_array());
    if (!next_after || !*next_after) {
        json_object_set_new(out, "next", json_null());
        return out;
    }
    sov_api_page(req, &limit, &after, &err);
    sov_buf_printf(&b, "%s?limit=%u", req->path, limit);
    for (size_t i = 0; keep && keep[i]; i++) {
        const char *v = sov_request_query(req, keep[i]);
        if (!v)
            continue;
        sov_buf_printf(&b, "&%s=", keep[i]);
        put_encoded(&b, v);
    }
    sov_buf_puts(&b, "&after=");
    put_encoded(&b, next_after);
    json_object_set_new(out, "next", b.oom ? json_null() : json_string(b.data));
    sov_buf_release(&b);
    return out;
}
