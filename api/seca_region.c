/* seca_region.c: the region provider (seca.region: regions, their zones and provider URLs)
 * and /.wellknown/secapi.
 *
 * SECA regions are our regions (residency/), global and read-only here: operators make them
 * through /v1. A region's spec lists its zones and the URLs of the regional providers this
 * sovd serves; the global providers (region, authorization) are in /.wellknown/secapi. A
 * region with no zones is not served: SECA requires at least one (availableZones minItems
 * 1), and such a region can place nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca.h"
#include "sov/residency.h"

static const sov_seca_type region_type = {
    .provider = "seca.region", .kind = "region", .plural = "regions",
    .scope = SOV_SECA_GLOBAL, .regional = false,
};

/* The regional providers a region offers, and every provider (the well-known list). */
static const char *const regional[] = { "seca.workspace", "seca.compute", "seca.storage",
                                        "seca.network" };
static const char *const global[] = { "seca.region", "seca.authorization" };

/* "<scheme>://<host>" as the client reached this sovd. */
static void
base_url(sov_request *req, char *buf, size_t size)
{
    const char *host = sov_request_header(req, "Host");
    bool tls = req->app && req->app->cfg && req->app->cfg->tls_cert &&
               req->app->cfg->tls_cert[0];

    /* A Host header is text the client chose: only a plain host[:port] is echoed. */
    if (!host || !host[0] || strlen(host) > 255 ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
            strlen(host))
        host = "localhost";
    snprintf(buf, size, "%s://%s", tls ? "https" : "http", host);
}

static json_t *
provider_json(const char *base, const char *name)
{
    char url[400];

    snprintf(url, sizeof(url), "%s/providers/%s", base, name);
    return json_pack("{s:s, s:s, s:s}", "name", name, "version", "v1", "url", url);
}

static json_t *
region_json(sov_request *req, const sov_region *r)
{
    sov_seca_meta m = { .version = 1 };
    json_t *zones = json_array(), *providers = json_array(), *spec;
    char base[300];

    base_url(req, base, sizeof(base));
    for (size_t i = 0; i < r->nzones; i++)
        json_array_append_new(zones, json_string(r->zones[i]));
    for (size_t i = 0; i < SOV_N_ELEMENTS(regional); i++)
        json_array_append_new(providers, provider_json(base, regional[i]));
    spec = json_pack("{s:o, s:o}", "availableZones", zones, "providers", providers);
    snprintf(m.created_at, sizeof(m.created_at), "%s", r->created_at);
    snprintf(m.modified_at, sizeof(m.modified_at), "%s",
             r->updated_at[0] ? r->updated_at : r->created_at);
    return sov_seca_resource(req, &region_type, NULL, NULL, r->code, NULL, &m, spec, NULL,
                             NULL);
}

/* GET /.wellknown/secapi */
enum MHD_Result
sov_seca_wellknown_get(sov_request *req)
{
    sov_autoptr(json_t) body = NULL;
    json_t *endpoints = json_array();
    char base[300], url[400], provider[64];

    base_url(req, base, sizeof(base));
    for (size_t i = 0; i < SOV_N_ELEMENTS(global) + SOV_N_ELEMENTS(regional); i++) {
        const char *name = i < SOV_N_ELEMENTS(global) ? global[i]
                                                       : regional[i - SOV_N_ELEMENTS(global)];
        snprintf(url, sizeof(url), "%s/providers/%s", base, name);
        snprintf(provider, sizeof(provider), "%s/v1", name);
        json_array_append_new(endpoints, json_pack("{s:s, s:s}", "provider", provider, "url",
                                                   url));
    }
    body = json_pack("{s:s, s:o}", "version", "v1", "endpoints", endpoints);
    return sov_seca_reply(req, MHD_HTTP_OK, body);
}

/* GET /providers/seca.region/v1/regions */
enum MHD_Result
sov_seca_region_regions_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_list *l = NULL;
    char after[SOV_TEXT_MAX * 4 + 1] = "";
    enum MHD_Result r;

    if (sov_seca_list_begin(req, &l, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    do {
        sov_region_page page = { 0 };

        if (sov_region_list(&req->ctx, after, 100, &page, &err) < 0) {
            sov_seca_list_free(l);
            return sov_seca_reply_error(req, &err, false);
        }
        for (size_t i = 0; i < page.n; i++)
            if (page.items[i].nzones > 0)
                sov_seca_list_add(l, region_json(req, &page.items[i]));
        snprintf(after, sizeof(after), "%s", page.next_after);
        free(page.items);
    } while (after[0]);
    r = sov_seca_list_reply(req, &region_type, l);
    sov_seca_list_free(l);
    return r;
}

/* GET /providers/seca.region/v1/regions/{name} */
enum MHD_Result
sov_seca_region_regions_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *name = sov_seca_name(req);
    sov_autoptr(json_t) body = NULL;
    sov_region r;

    if (sov_region_get(&req->ctx, name, &r, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (r.nzones == 0) {
        sov_error_set(&err, SOV_E_NOT_FOUND, "region '%s' has no zones", name);
        return sov_seca_reply_error(req, &err, false);
    }
    body = region_json(req, &r);
    return sov_seca_reply(req, MHD_HTTP_OK, body);
}
