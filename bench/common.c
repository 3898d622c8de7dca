/* common.c: see common.h. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

double
bench_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

char *
bench_with_dbname(const char *prog, const char *url, const char *dbname)
{
    char *err = NULL, *out;
    PQconninfoOption *opts = PQconninfoParse(url, &err);
    size_t cap = 4096, len = 0;

    if (!opts) {
        fprintf(stderr, "%s: bad connection string: %s\n", prog, err ? err : "");
        exit(2);
    }
    out = calloc(1, cap);
    if (!out)
        exit(1);
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        const char *v = strcmp(o->keyword, "dbname") == 0 ? dbname : o->val;
        if (!v)
            continue;
        len += (size_t) snprintf(out + len, len < cap ? cap - len : 0, "%s='", o->keyword);
        for (const char *p = v; *p && len + 4 < cap; p++) {
            if (*p == '\'' || *p == '\\')
                out[len++] = '\\';
            out[len++] = *p;
        }
        len += (size_t) snprintf(out + len, len < cap ? cap - len : 0, "' ");
    }
    if (len >= cap) {
        fprintf(stderr, "%s: connection string too long\n", prog);
        exit(2);
    }
    PQconninfoFree(opts);
    return out;
}

bool
bench_admin(const char *prog, const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r;
    bool ok;

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "%s: cannot connect: %s", prog, PQerrorMessage(c));
        PQfinish(c);
        return false;
    }
    r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "%s: %s: %s", prog, sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok;
}
