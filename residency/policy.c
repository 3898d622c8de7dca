/* policy.c: residency policies as sets of places, without any database.
 *
 * A policy allows a region when the region passes every list the policy gives: its
 * jurisdiction is listed (or no jurisdictions are), its country is listed (or none are), its
 * code is listed (or none are). Comparing two policies ("is this one narrower?") is done on
 * places, not on lists: every known region, and one region yet to be built in each country,
 * whose code no policy can name. That makes {countries: [FR]} inside {jurisdictions: [EU]}
 * without any list arithmetic. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/residency.h"

sov_policy *
sov_policy_new(void)
{
    return calloc(1, sizeof(sov_policy));
}

void
sov_policy_free(sov_policy *p)
{
    free(p);
}

void
sov_policy_default(sov_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->njurisdictions = 1;
    snprintf(p->jurisdictions[0], sizeof(p->jurisdictions[0]), "EU");
}

static bool
listed(const char *v, const char *list, size_t n, size_t stride)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list + i * stride, v) == 0)
            return true;
    return false;
}

bool
sov_policy_allows(const sov_policy *p, const char *code, const char *country,
                  const char *jurisdiction)
{
    if (p->njurisdictions > 0 &&
        !listed(jurisdiction, p->jurisdictions[0], p->njurisdictions,
                sizeof(p->jurisdictions[0])))
        return false;
    if (p->ncountries > 0 &&
        !listed(country, p->countries[0], p->ncountries, sizeof(p->countries[0])))
        return false;
    if (p->nregions > 0 &&
        (!code || !listed(code, p->regions[0], p->nregions, sizeof(p->regions[0]))))
        return false;
    return true;
}

bool
sov_policy_within(const sov_policy *inner, const sov_policy *outer, const sov_region *regions,
                  size_t nregions)
{
    size_t ncountries;
    const char *const *countries = sov_country_all(&ncountries);

    for (size_t i = 0; i < nregions; i++) {
        const sov_region *r = &regions[i];
        if (sov_policy_allows(inner, r->code, r->country, r->jurisdiction) &&
            !sov_policy_allows(outer, r->code, r->country, r->jurisdiction))
            return false;
    }
    /* A region not built yet: no code, so only jurisdiction and country lists decide. */
    for (size_t i = 0; i < ncountries; i++) {
        const char *j = sov_country_jurisdiction(countries[i]);
        if (sov_policy_allows(inner, NULL, countries[i], j) &&
            !sov_policy_allows(outer, NULL, countries[i], j))
            return false;
    }
    return true;
}

static bool
region_known(const char *code, const sov_region *regions, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(regions[i].code, code) == 0)
            return true;
    return false;
}

int
sov_policy_check(const sov_policy *p, const sov_region *regions, size_t nregions,
                 sov_error *err)
{
    if (p->njurisdictions + p->ncountries + p->nregions == 0)
        return sov_error_invalid(err, "jurisdictions",
                                 "a policy names at least one jurisdiction, country or region");
    for (size_t i = 0; i < p->njurisdictions; i++) {
        if (!sov_jurisdiction_valid(p->jurisdictions[i]))
            return sov_error_invalid(err, "jurisdictions",
                                     "jurisdictions are EU, EEA or OTHER, not '%s'",
                                     p->jurisdictions[i]);
        for (size_t k = 0; k < i; k++)
            if (strcmp(p->jurisdictions[k], p->jurisdictions[i]) == 0)
                return sov_error_invalid(err, "jurisdictions", "'%s' is listed twice",
                                         p->jurisdictions[i]);
    }
    for (size_t i = 0; i < p->ncountries; i++) {
        if (!sov_country_valid(p->countries[i]))
            return sov_error_invalid(err, "countries",
                                     "'%s' is not an ISO 3166-1 alpha-2 country code",
                                     p->countries[i]);
        for (size_t k = 0; k < i; k++)
            if (strcmp(p->countries[k], p->countries[i]) == 0)
                return sov_error_invalid(err, "countries", "'%s' is listed twice",
                                         p->countries[i]);
    }
    for (size_t i = 0; i < p->nregions; i++) {
        if (!region_known(p->regions[i], regions, nregions))
            return sov_error_invalid(err, "regions", "region '%s' does not exist",
                                     p->regions[i]);
        for (size_t k = 0; k < i; k++)
            if (strcmp(p->regions[k], p->regions[i]) == 0)
                return sov_error_invalid(err, "regions", "'%s' is listed twice",
                                         p->regions[i]);
    }
    return 0;
}

static json_t *
code_list(const char *list, size_t count, size_t stride)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < count; i++)
        if (json_array_append_new(a, json_string(list + i * stride)) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

size_t
sov_policy_json(const sov_policy *p, char *buf, size_t size)
{
    json_t *o = json_object();
    char *text = NULL;
    size_t n = 0;

    /* jansson keeps the keys in the order set: the same bytes as ever, compact. */
    if (o && json_object_set_new(o, "jurisdictions",
                                 code_list(p->jurisdictions[0], p->njurisdictions,
                                           sizeof(p->jurisdictions[0]))) == 0 &&
        json_object_set_new(o, "countries", code_list(p->countries[0], p->ncountries,
                                                      sizeof(p->countries[0]))) == 0 &&
        json_object_set_new(o, "regions", code_list(p->regions[0], p->nregions,
                                                    sizeof(p->regions[0]))) == 0)
        text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    n = text ? strlen(text) : 0;
    /* Truncated and terminated as snprintf does; the return is the whole length. */
    if (size > 0) {
        size_t k = n < size ? n : size - 1;
        if (k > 0)
            memcpy(buf, text, k);
        buf[k] = '\0';
    }
    free(text);
    return n;
}
