/* report_int.h: the pure part of residency reports (residency/report_intervals.c), shared by
 * report.c and its unit tests, not by other modules. */
#ifndef SOV_RESIDENCY_REPORT_INT_H
#define SOV_RESIDENCY_REPORT_INT_H

#include <stddef.h>

#include "sov/residency.h"

/* A place as a record names it: borrowed strings, copied only when an interval opens there.
 * "Nowhere" (no host and no region) opens nothing; deleting from nowhere closes everything. */
typedef struct sov_report_place {
    const char *host, *region, *country, *jurisdiction, *datacenter;
} sov_report_place;

/* An interval at a place, [start, end) in microseconds since 1970. */
typedef int (*sov_report_interval_fn)(void *arg, const sov_location *at, long long start,
                                      long long end, sov_error *err);

/* The intervals of the resource being read: records in, intervals out through emit, clipped
 * to [from, end) (an interval with nothing left there is not emitted). Zero-initialise, set
 * from, end, emit and arg. */
typedef struct sov_report_spans {
    long long from, end;
    sov_report_interval_fn emit;
    void *arg;
    struct sov_report_span *open;   /* the intervals still open, in the order they opened */
    size_t nopen, cap;
} sov_report_spans;

/* One record of the resource, in sequence: "placed" and "copied" open an interval at `to`
 * (one already open there stays: a record written twice counts once), "moved" closes the
 * one at `from` and opens one at `to`, "deleted" closes the one at `from` (every open one
 * when `from` is nowhere); other events change nothing. A place is its host and region. */
int sov_report_spans_apply(sov_report_spans *s, const char *event, long long at,
                           const sov_report_place *from, const sov_report_place *to,
                           sov_error *err);
/* The resource's records ended: its open intervals end at s->end, in the order they opened. */
int sov_report_spans_finish(sov_report_spans *s, sov_error *err);
void sov_report_spans_release(sov_report_spans *s);

/* A tenant's policy from `at` on. */
typedef struct sov_report_policy_at {
    char tenant[SOV_UUID_LEN + 1];
    long long at;
    size_t order;               /* the record's sequence, for equal times */
    sov_policy p;
} sov_report_policy_at;

/* A part of an interval that the policy then in force did not allow. */
typedef int (*sov_report_violation_fn)(void *arg, const sov_location *at, long long start,
                                       long long end, const sov_policy *p, sov_error *err);

/* Walk [start, end) at `at` along one tenant's policy timeline (n entries sorted by time;
 * before the first, dflt is in force) and call fn for each part the policy then in force
 * does not allow: one call per policy's stretch, in time order. */
int sov_report_policy_walk(const sov_report_policy_at *timeline, size_t n,
                           const sov_policy *dflt, const sov_location *at, long long start,
                           long long end, sov_report_violation_fn fn, void *arg,
                           sov_error *err);

#endif
