/* request_fuzz.c: a libFuzzer harness over what sovd does with a request before any database
 * or hypervisor is asked: the JSON body checks of every route, the router, the config
 * parser, RFC 3339 times, residency policies, and the small validators. No network, no
 * PostgreSQL, no libvirt: every input runs in microseconds.
 *
 * The first byte picks the target (its value modulo T_COUNT: '0' is the JSON bodies, '1' the
 * router, ... as in the enum); the rest is the target's input. Seeds are in corpus/, and
 * every input that ever crashed it is in regressions/ and replayed each run (scripts/test;
 * the gcc build replays them with replay.c). By hand, for longer:
 *
 *   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Db_lundef=false \
 *       -Dbuildtype=debug -Dwerror=false -Dc_args=-fsanitize=fuzzer-no-link
 *   ninja -C build-fuzz tests/fuzz/request_fuzz
 *   build-fuzz/tests/fuzz/request_fuzz -max_total_time=3600 \
 *       -artifact_prefix=tests/fuzz/regressions/ /tmp/fuzz-corpus tests/fuzz/corpus
 *
 * The body checks use each route's fields as the OpenAPI document states them (api/openapi.json,
 * compiled in): the handlers' own field tables are static inside each handler, and exporting
 * them would change every handler file. reliability/bad-input sends the same schemas to the
 * real handlers over HTTP. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "sov/api.h"
#include "sov/config.h"
#include "sov/idempotency.h"
#include "sov/identity.h"
#include "sov/log.h"
#include "sov/residency.h"
#include "sov/timeutil.h"

enum { T_BODY, T_ROUTER, T_CONFIG, T_TIME, T_POLICY, T_VALIDATORS, T_COUNT };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Crash on a broken promise: libFuzzer keeps the input. */
#define MUST(cond)                                                                     \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "request_fuzz: %s:%d: %s does not hold\n", __FILE__, __LINE__, \
                    #cond);                                                            \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* ---- the routes' body fields, from the OpenAPI document ---- */

typedef struct body_route {
    const char *method, *pattern;
    sov_field *fields;
    size_t n;
} body_route;

static body_route *body_routes;
static size_t nbody_routes;
static json_t *api;
static sov_router *router;
static FILE *devnull;

static json_t *
resolve(json_t *s)
{
    const char *ref;

    while ((ref = json_string_value(json_object_get(s, "$ref")))) {
        const char *name = strrchr(ref, '/');
        s = json_object_get(json_object_get(json_object_get(api, "components"), "schemas"),
                            name ? name + 1 : ref);
    }
    json_t *one = json_object_get(s, "oneOf");
    if (json_is_array(one)) {
        size_t i;
        json_t *alt;
        json_array_foreach(one, i, alt) {
            json_t *r = resolve(alt);
            const char *t = json_string_value(json_object_get(r, "type"));
            if (!t || strcmp(t, "null") != 0)
                return r;
        }
    }
    return s;
}

static json_type
json_type_of(json_t *schema)
{
    const char *t = json_string_value(json_object_get(resolve(schema), "type"));

    if (!t || strcmp(t, "string") == 0)
        return JSON_STRING;
    if (strcmp(t, "integer") == 0)
        return JSON_INTEGER;
    if (strcmp(t, "number") == 0)
        return JSON_REAL;
    if (strcmp(t, "boolean") == 0)
        return JSON_TRUE;
    if (strcmp(t, "array") == 0)
        return JSON_ARRAY;
    return JSON_OBJECT;
}

static bool
is_required(json_t *schema, const char *field)
{
    size_t i;
    json_t *v;

    json_array_foreach(json_object_get(schema, "required"), i, v)
        if (strcmp(json_string_value(v), field) == 0)
            return true;
    return false;
}

static void
load_body_routes(void)
{
    json_error_t jerr;

    api = json_loadb(sov_openapi_json, sov_openapi_json_len, 0, &jerr);
    MUST(api);
    body_routes = calloc(sov_api_routes_count, sizeof(*body_routes));
    MUST(body_routes);
    for (size_t i = 0; i < sov_api_routes_count; i++) {
        const sov_route *r = &sov_api_routes[i];
        char m[8];
        size_t k;

        for (k = 0; r->method[k] && k < sizeof(m) - 1; k++)
            m[k] = (char) (r->method[k] | 0x20);
        m[k] = '\0';
        json_t *op = json_object_get(json_object_get(json_object_get(api, "paths"),
                                                     r->pattern), m);
        json_t *s = json_object_get(json_object_get(json_object_get(json_object_get(op,
                        "requestBody"), "content"), "application/json"), "schema");
        if (!s)
            continue;
        s = resolve(s);
        json_t *props = json_object_get(s, "properties");
        body_route *b = &body_routes[nbody_routes++];
        const char *name;
        json_t *fs;

        b->method = r->method;
        b->pattern = r->pattern;
        b->fields = calloc(json_object_size(props) + 1, sizeof(*b->fields));
        MUST(b->fields);
        json_object_foreach(props, name, fs) {
            b->fields[b->n].name = name;
            b->fields[b->n].type = json_type_of(fs);
            b->fields[b->n].required = is_required(s, name);
            b->n++;
        }
    }
    MUST(nbody_routes > 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sov_error err = SOV_ERROR_INIT;

    (void) argc;
    (void) argv;
    devnull = fopen("/dev/null", "w");
    MUST(devnull);
    sov_log_set_stream(devnull);
    load_body_routes();
    MUST(sov_router_new(sov_api_routes, sov_api_routes_count, &router, &err) == 0);
    return 0;
}

/* ---- targets ---- */

/* data as a C string (it may hold NULs: the string ends at the first). Not strndup: with
 * strict_string_checks ASan reads all n bytes, past the end of a buffer without a NUL. */
static char *
dupn(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    MUST(s);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A string member's text, NUL-terminated by jansson (members with NUL are refused). */
static const char *
member(json_t *body, const char *name)
{
    return json_string_value(json_object_get(body, name));
}

/* The body as server.c parses it, then a route's checks, then the validators its handler
 * would run on what passed. */
static void
fuzz_body(const uint8_t *data, size_t size)
{
    sov_error err = SOV_ERROR_INIT;
    sov_request req;
    json_t *body;
    const body_route *b;
    const char *v;
    time_t t;

    if (size < 1)
        return;
    b = &body_routes[data[0] % nbody_routes];
    body = json_loadb((const char *) data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
    if (!body || !json_is_object(body)) {
        json_decref(body);
        return;
    }
    memset(&req, 0, sizeof(req));
    req.body = body;
    if (sov_api_check_body(&req, b->fields, b->n, &err) < 0) {
        /* err.field names the member, and may be "" (a member named ""). */
        MUST(err.code == SOV_E_INVALID);
        MUST(err.msg[0] != '\0');
    } else {
        /* Every required field is there and not null; every field present is known. */
        for (size_t i = 0; i < b->n; i++)
            if (b->fields[i].required)
                MUST(!json_is_null(json_object_get(body, b->fields[i].name)));
        MUST(sov_api_body_str(&req, "name") == member(body, "name"));
        sov_error_clear(&err);
        if ((v = member(body, "name")))
            (void) (sov_check_slug("name", v, &err) + sov_check_text("name", v, false, &err));
        if ((v = member(body, "email")))
            (void) sov_check_email("email", v, &err);
        if ((v = member(body, "expires_at")))
            (void) sov_rfc3339_parse(v, &t);
        if ((v = member(body, "tenant_id")))
            (void) sov_uuid_valid(v);
    }
    json_decref(body);
}

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
                                       "HEAD", "get", "" };

static void
fuzz_router(const uint8_t *data, size_t size)
{
    char *path, allow[96];
    const char *method;
    sov_route_match m;
    unsigned status = 1;
    const sov_route *r;

    if (size < 1)
        return;
    method = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
    path = dupn(data + 1, size - 1);
    MUST(path);
    r = sov_router_match(router, method, path, &m, &status, allow, sizeof(allow));
    if (r) {
        size_t braces = 0;
        MUST(status == 0);
        MUST(strcmp(r->method, method) == 0);
        for (const char *p = r->pattern; (p = strchr(p, '{')); p++)
            braces++;
        MUST(m.nparams == braces);
        for (size_t i = 0; i < m.nparams; i++) {
            MUST(m.values[i][0] != '\0');
            MUST(!strchr(m.values[i], '/'));
        }
        MUST(sov_router_index(router, r) < sov_api_routes_count);
    } else {
        MUST(status == 404 || status == 405);
        if (status == 405)
            MUST(allow[0] != '\0');
    }
    free(path);
}

/* Lines: "--flag..." to argv, "SOV_KEY=value" to the environment, the rest to a config file
 * (read through /proc/self/fd, never written to disk). */
static void
fuzz_config(const uint8_t *data, size_t size)
{
    char *copy = dupn(data, size), *save = NULL, file_flag[64];
    char *argv[40] = { "sovd" }, *envp[40] = { NULL };
    int argc = 1, nenv = 0, fd = memfd_create("sovd.conf", MFD_CLOEXEC);
    sov_config cfg;
    sov_error err = SOV_ERROR_INIT;

    MUST(copy && fd >= 0);
    snprintf(file_flag, sizeof(file_flag), "--config=/proc/self/fd/%d", fd);
    argv[argc++] = file_flag;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "--", 2) == 0 && argc < 39)
            argv[argc++] = line;
        else if (strncmp(line, "SOV_", 4) == 0 && nenv < 39)
            envp[nenv++] = line;
        else if (write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0)
            break;
    }
    argv[argc] = NULL;
    if (sov_config_load(&cfg, argc, argv, envp, devnull, &err) == 0) {
        MUST(cfg.port <= 65535);
        MUST(cfg.db_pool_size >= 1);
        MUST(cfg.http_threads >= 1);
        MUST(cfg.state_dir && cfg.state_dir[0]);
        MUST(cfg.roles != 0);
        (void) sov_config_cors_allows(&cfg, "https://console.example.eu");
        sov_config_release(&cfg);
    } else if (err.code != SOV_OK) {
        MUST(err.msg[0] != '\0');
    }
    close(fd);
    free(copy);
}

/* Strict parsing, and a round trip: what parses formats to a time that parses the same. */
static void
fuzz_time(const uint8_t *data, size_t size)
{
    char *s = dupn(data, size), out[32];
    time_t t, again;

    MUST(s);
    if (sov_rfc3339_parse(s, &t) == 0 && t >= 0 && t <= 253402300799LL) {
        sov_rfc3339_format(t, out);
        MUST(sov_rfc3339_parse(out, &again) == 0);
        MUST(again == t);
    }
    free(s);
}

static const sov_region regions[] = {
    { .code = "fr-par-1", .country = "FR", .jurisdiction = "EU", .nzones = 1,
      .zones = { "a" } },
    { .code = "de-fra-1", .country = "DE", .jurisdiction = "EU", .nzones = 1,
      .zones = { "a" } },
    { .code = "no-osl-1", .country = "NO", .jurisdiction = "EEA", .nzones = 1,
      .zones = { "a" } },
    { .code = "us-east-1", .country = "US", .jurisdiction = "OTHER", .nzones = 1,
      .zones = { "a" } },
};

/* One list of the body into fixed slots, as api/policy.c reads it. */
static bool
policy_list(json_t *body, const char *name, size_t max, char *slots, size_t stride,
            size_t *n)
{
    json_t *list = json_object_get(body, name), *v;
    size_t i;

    *n = 0;
    if (!list || json_is_null(list))
        return true;
    if (!json_is_array(list) || json_array_size(list) > max)
        return false;
    json_array_foreach(list, i, v) {
        if (!json_is_string(v) || json_string_length(v) >= stride ||
            json_string_length(v) == 0)
            return false;
        snprintf(slots + i * stride, stride, "%s", json_string_value(v));
    }
    *n = json_array_size(list);
    return true;
}

static void
fuzz_policy(const uint8_t *data, size_t size)
{
    json_t *body = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, NULL);
    sov_error err = SOV_ERROR_INIT;
    sov_policy p, def;
    char text[8192];

    if (!json_is_object(body)) {
        json_decref(body);
        return;
    }
    memset(&p, 0, sizeof(p));
    if (policy_list(body, "jurisdictions", 3, p.jurisdictions[0], sizeof(p.jurisdictions[0]),
                    &p.njurisdictions) &&
        policy_list(body, "countries", SOV_POLICY_MAX, p.countries[0], sizeof(p.countries[0]),
                    &p.ncountries) &&
        policy_list(body, "regions", SOV_POLICY_MAX, p.regions[0], sizeof(p.regions[0]),
                    &p.nregions)) {
        size_t nr = sizeof(regions) / sizeof(regions[0]);
        if (sov_policy_check(&p, regions, nr, &err) == 0) {
            bool any = false;
            for (size_t i = 0; i < nr; i++)
                any |= sov_policy_allows(&p, regions[i].code, regions[i].country,
                                         regions[i].jurisdiction);
            sov_policy_default(&def);
            (void) sov_policy_within(&p, &def, regions, nr);
            MUST(sov_policy_within(&p, &p, regions, nr));
            size_t len = sov_policy_json(&p, text, sizeof(text));
            MUST(len < sizeof(text));
            json_t *back = json_loads(text, 0, NULL);
            MUST(back);
            json_decref(back);
            (void) any;
        } else {
            MUST(err.code == SOV_E_INVALID);
        }
    }
    json_decref(body);
}

static void
fuzz_validators(const uint8_t *data, size_t size)
{
    char *s = dupn(data, size);
    sov_error err = SOV_ERROR_INIT;

    MUST(s);
    if (sov_uuid_valid(s))
        MUST(strlen(s) == 36);
    if (sov_check_slug("name", s, &err) == 0) {
        MUST(strlen(s) >= 1 && strlen(s) <= SOV_NAME_MAX);
        MUST(s[strlen(s) - 1] != '-');
    }
    sov_error_clear(&err);
    (void) sov_check_text("display_name", s, true, &err);
    sov_error_clear(&err);
    (void) sov_check_email("email", s, &err);
    (void) sov_idem_key_valid(s);
    if (sov_api_request_id_valid(s))
        MUST(strlen(s) <= SOV_REQUEST_ID_MAX);
    if (sov_country_valid(s))
        MUST(sov_country_jurisdiction(s) != NULL);
    (void) sov_jurisdiction_valid(s);
    free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % T_COUNT) {
    case T_BODY: fuzz_body(data + 1, size - 1); break;
    case T_ROUTER: fuzz_router(data + 1, size - 1); break;
    case T_CONFIG: fuzz_config(data + 1, size - 1); break;
    case T_TIME: fuzz_time(data + 1, size - 1); break;
    case T_POLICY: fuzz_policy(data + 1, size - 1); break;
    default: fuzz_validators(data + 1, size - 1); break;
    }
    return 0;
}
