/* common.h: what bench/placement and bench/report share: connection strings for a scratch
 * database, statements run outside it, the clock, and sorting figures. */
#ifndef SOV_BENCH_COMMON_H
#define SOV_BENCH_COMMON_H

#include <stdbool.h>

/* Seconds on the monotonic clock. */
double bench_now_s(void);

/* qsort comparator for doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

/* The connection string url with its database replaced (the rest as given), malloc; a bad
 * one exits 2 with a message naming prog. */
char *bench_with_dbname(const char *prog, const char *url, const char *dbname);

/* Run one statement without a result (CREATE/DROP DATABASE) on url; false, with the
 * message printed naming prog, when it fails. */
bool bench_admin(const char *prog, const char *url, const char *sql);

#endif
