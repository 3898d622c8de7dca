/* router.c: matches a method and path against the route table.
 *
 * Patterns are split into segments once, at start. A path matches a pattern with the same
 * number of segments whose literals are equal and whose {params} are non-empty; when several
 * match, the one with the most literal segments wins (/v1/tenants/me before /v1/tenants/{id}). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_SEGMENTS 16

typedef struct segment {
    const char *s;      /* into the pattern; for a param, the name without braces */
    size_t len;
    bool param;
} segment;

typedef struct compiled {
    const sov_route *route;
    size_t nseg, literals;
    segment seg[MAX_SEGMENTS];
} compiled;

struct sov_router {
    compiled *routes;
    size_t n;
    const sov_route *base;
};

static int
compile(const sov_route *route, compiled *c, sov_error *err)
{
    const char *p = route->pattern;

    c->route = route;
    c->nseg = c->literals = 0;
    if (*p != '/')
        return sov_error_set(err, SOV_E_INTERNAL, "route '%s' must start with /", p);
    while (*p == '/') {
        const char *start = ++p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t) (p - start);
        if (len == 0 || c->nseg == MAX_SEGMENTS)
            return sov_error_set(err, SOV_E_INTERNAL, "route '%s' is malformed",
                                 route->pattern);
        segment *s = &c->seg[c->nseg++];
        if (start[0] == '{' && start[len - 1] == '}' && len > 2) {
            s->s = start + 1;
            s->len = len - 2;
            s->param = true;
        } else {
            s->s = start;
            s->len = len;
            s->param = false;
            c->literals++;
        }
    }
    return 0;
}

int
sov_router_new(const sov_route *routes, size_t n, sov_router **ret, sov_error *err)
{
    sov_router *r = calloc(1, sizeof(*r));

    if (!r || !(r->routes = calloc(n ? n : 1, sizeof(*r->routes)))) {
        free(r);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    r->n = n;
    r->base = routes;
    for (size_t i = 0; i < n; i++) {
        if (compile(&routes[i], &r->routes[i], err) < 0) {
            sov_router_free(r);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(routes[j].method, routes[i].method) == 0 &&
                strcmp(routes[j].pattern, routes[i].pattern) == 0) {
                sov_router_free(r);
                return sov_error_set(err, SOV_E_INTERNAL, "route %s %s is listed twice",
                                     routes[i].method, routes[i].pattern);
            }
    }
    *ret = r;
    return 0;
}

void
sov_router_free(sov_router *r)
{
    if (!r)
        return;
    free(r->routes);
    free(r);
}

size_t
sov_router_index(const sov_router *r, const sov_route *route)
{
    return (size_t) (route - r->base);
}

static void
allow_add(char *allow, size_t size, const char *method)
{
    size_t len = strlen(allow), mlen = strlen(method);
    const char *p = allow;

    /* Already listed? */
    while ((p = strstr(p, method))) {
        if ((p == allow || p[-1] == ' ') && (p[mlen] == ',' || p[mlen] == '\0'))
            return;
        p += mlen;
    }
    snprintf(allow + len, size - len, "%s%s", len ? ", " : "", method);
}

const sov_route *
sov_router_match(const sov_router *r, const char *method, char *path, sov_route_match *m,
                 unsigned *ret_status, char *allow, size_t allow_size)
{
    char *segs[MAX_SEGMENTS];
    size_t nseg = 0;
    const compiled *best = NULL;
    bool path_known = false;

    if (allow_size)
        allow[0] = '\0';
    *ret_status = 404;
    if (path[0] != '/')
        return NULL;
    for (char *p = path; *p == '/';) {
        *p++ = '\0';
        if (nseg == MAX_SEGMENTS)
            return NULL;
        segs[nseg++] = p;
        while (*p && *p != '/')
            p++;
    }

    for (size_t i = 0; i < r->n; i++) {
        const compiled *c = &r->routes[i];
        bool ok = c->nseg == nseg;

        for (size_t k = 0; ok && k < nseg; k++) {
            if (segs[k][0] == '\0')
                ok = false;
            else if (!c->seg[k].param)
                ok = strlen(segs[k]) == c->seg[k].len &&
                     memcmp(segs[k], c->seg[k].s, c->seg[k].len) == 0;
        }
        if (!ok)
            continue;
        path_known = true;
        if (allow_size)
            allow_add(allow, allow_size, c->route->method);
        if (strcmp(c->route->method, method) == 0 && (!best || c->literals > best->literals))
            best = c;
    }
    if (!best) {
        *ret_status = path_known ? 405 : 404;
        return NULL;
    }
    m->nparams = 0;
    for (size_t k = 0; k < nseg; k++) {
        if (!best->seg[k].param || m->nparams == SOV_MAX_PATH_PARAMS)
            continue;
        m->names[m->nparams] = best->seg[k].s;
        m->name_lens[m->nparams] = best->seg[k].len;
        m->values[m->nparams] = segs[k];
        m->nparams++;
    }
    *ret_status = 0;
    return best->route;
}
