/* report_intervals.c: residency records into intervals, and intervals against the policy
 * in force: the part of a report that needs neither the database nor the document's format
 * (report.c reads the records and writes what this finds). Pure, for tests too. */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

struct sov_report_span {        /* an interval still open */
    sov_location at;
    long long start;
};

/* Bounded copy without printf: this runs for most records. */
static void
copy_field(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);

    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool
nowhere(const sov_report_place *p)
{
    return !p->region[0] && !p->host[0];
}

static bool
same_place(const sov_location *a, const sov_report_place *b)
{
    return strcmp(a->host, b->host) == 0 && strcmp(a->region, b->region) == 0;
}

/* Emit [start, end) clipped to the period. */
static int
emit(sov_report_spans *s, const sov_location *at, long long start, long long end,
     sov_error *err)
{
    long long b = start > s->from ? start : s->from;
    long long e = end < s->end ? end : s->end;

    if (b >= e)
        return 0;
    return s->emit(s->arg, at, b, e, err);
}

static int
open_at(sov_report_spans *s, const sov_report_place *at, long long when, sov_error *err)
{
    sov_location *l;

    if (nowhere(at))
        return 0;
    for (size_t i = 0; i < s->nopen; i++)
        if (same_place(&s->open[i].at, at))
            return 0;       /* already there (a record written twice): the first counts */
    if (s->nopen == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4;
        struct sov_report_span *n = realloc(s->open, cap * sizeof(*n));
        if (!n)
            return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        s->open = n;
        s->cap = cap;
    }
    l = &s->open[s->nopen].at;
    copy_field(l->host, sizeof(l->host), at->host);
    copy_field(l->region, sizeof(l->region), at->region);
    copy_field(l->country, sizeof(l->country), at->country);
    copy_field(l->jurisdiction, sizeof(l->jurisdiction), at->jurisdiction);
    copy_field(l->datacenter, sizeof(l->datacenter), at->datacenter);
    s->open[s->nopen].start = when;
    s->nopen++;
    return 0;
}

/* Close the interval at `at` (every one when `at` is nowhere). */
static int
close_at(sov_report_spans *s, const sov_report_place *at, long long when, sov_error *err)
{
    bool all = nowhere(at);

    for (size_t i = 0; i < s->nopen;) {
        if (!all && !same_place(&s->open[i].at, at)) {
            i++;
            continue;
        }
        if (emit(s, &s->open[i].at, s->open[i].start, when, err) < 0)
            return -1;
        memmove(&s->open[i], &s->open[i + 1], (s->nopen - i - 1) * sizeof(*s->open));
        s->nopen--;
    }
    return 0;
}

int
sov_report_spans_apply(sov_report_spans *s, const char *event, long long at,
                       const sov_report_place *from, const sov_report_place *to,
                       sov_error *err)
{
    if (strcmp(event, "placed") == 0 || strcmp(event, "copied") == 0)
        return open_at(s, to, at, err);
    if (strcmp(event, "moved") == 0)
        return close_at(s, from, at, err) < 0 ? -1 : open_at(s, to, at, err);
    if (strcmp(event, "deleted") == 0)
        return close_at(s, from, at, err);
    return 0;
}

int
sov_report_spans_finish(sov_report_spans *s, sov_error *err)
{
    for (size_t i = 0; i < s->nopen; i++)
        if (emit(s, &s->open[i].at, s->open[i].start, s->end, err) < 0)
            return -1;
    s->nopen = 0;
    return 0;
}

void
sov_report_spans_release(sov_report_spans *s)
{
    free(s->open);
    s->open = NULL;
    s->nopen = s->cap = 0;
}

int
sov_report_policy_walk(const sov_report_policy_at *timeline, size_t n,
                       const sov_policy *dflt, const sov_location *at, long long start,
                       long long end, sov_report_violation_fn fn, void *arg, sov_error *err)
{
    size_t k = 0;
    const sov_policy *p = dflt;
    long long from = start;

    while (k < n && timeline[k].at <= start)
        p = &timeline[k++].p;
    for (;;) {
        long long until = k < n && timeline[k].at < end ? timeline[k].at : end;
        if (until > from && !sov_policy_allows(p, at->region, at->country, at->jurisdiction) &&
            fn(arg, at, from, until, p, err) < 0)
            return -1;
        if (until == end)
            return 0;
        p = &timeline[k++].p;
        from = until;
    }
}
