/* query.c: a route's query parameters: read only those it declares, refuse any other. */
#include <ctype.h>
#include <string.h>

#include "internal.h"

/* The position of name in a route's space-separated query list, or -1. */
static int
query_index(const char *list, const char *name)
{
    size_t len = strlen(name);
    int i = 0;

    for (const char *p = list ? list : ""; *p; i++) {
        size_t n = strcspn(p, " ");
        if (n == len && len > 0 && memcmp(p, name, len) == 0)
            return i;
        p += n;
        p += strspn(p, " ");
    }
    return -1;
}

const char *
sov_request_query(sov_request *req, const char *name)
{
    if (!req->route || query_index(req->route->query, name) < 0)
        return NULL;
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct query_check {
    const char *list;
    unsigned long seen;         /* one bit per name of the list */
    const char *bad;            /* the first unknown or repeated name */
    bool repeated;
} query_check;

static enum MHD_Result
check_query_arg(void *cls, enum MHD_ValueKind vk, const char *key, const char *value)
{
    query_check *q = cls;
    int i = query_index(q->list, key);

    (void) vk, (void) value;
    if (i < 0 || i >= (int) (sizeof(q->seen) * 8)) {
        q->bad = key;
        return MHD_NO;
    }
    if (q->seen & (1UL << i)) {
        q->bad = key;
        q->repeated = true;
        return MHD_NO;
    }
    q->seen |= 1UL << i;
    return MHD_YES;
}

/* A name as a problem may quote it: a short plain one, or NULL. */
static const char *
quotable(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 40)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char) name[i]) && name[i] != '_' && name[i] != '-' &&
            name[i] != '.')
            return NULL;
    return name;
}

/* Query parameters the route does not take, or one given twice, are the caller's mistake
 * (a misspelt filter would otherwise return everything): 400 naming it, before the handler.
 * 0 to go on, -1 when the problem was queued. */
int
sov_api_check_query(sov_request *req)
{
    query_check q = { req->route->query, 0, NULL, false };
    sov_error err = SOV_ERROR_INIT;
    const char *name;

    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, check_query_arg, &q);
    if (!q.bad)
        return 0;
    name = quotable(q.bad);
    if (q.repeated)
        sov_error_invalid(&err, name ? name : "", "query parameter '%s' is given more than "
                                                  "once", name ? name : "?");
    else if (name)
        sov_error_invalid(&err, name, "unknown query parameter '%s'; %s %s takes %s", name,
                          req->method, req->route->pattern,
                          req->route->query ? req->route->query : "none");
    else
        sov_error_invalid(&err, "", "a query parameter is not a plain name; %s %s takes %s",
                          req->method, req->route->pattern,
                          req->route->query ? req->route->query : "none");
    sov_api_reply_problem(req, &err);
    return -1;
}

