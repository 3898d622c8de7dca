/* client.h: what bench/create, bench/network and bench/migrate share to drive sovd's API:
 * the clock in milliseconds, one HTTP call on a kept-alive libcurl handle, the operator's
 * token file, the tenant with its member and token, the median and p95 of their figures; and
 * running a command, replacing in a text. */
#ifndef SOV_BENCH_CLIENT_H
#define SOV_BENCH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

/* Milliseconds on the monotonic clock; sleep ms. */
double bench_ms(void);
void bench_sleep_ms(unsigned ms);

/* method base+path on curl (one handle for every call: the connection is kept alive) with
 * token and body (JSON or NULL): the status (0: no answer), the parsed answer in *ret (NULL
 * when not JSON) and the body as it came in *text (malloc, NULL when empty). */
long bench_call(CURL *curl, const char *base, const char *method, const char *path,
                const char *token, const char *body, json_t **ret, char **text);

/* The first line of the file at path into buf (size), without its line end; false when it
 * cannot be read. */
bool bench_read_line(const char *path, char *buf, size_t size);

/* The median (of the middle two when n is even) and the nearest-rank p95 of v[0..n) (n > 0);
 * false when out of memory. */
bool bench_figures(const double *v, unsigned n, double *p50, double *p95);

/* Run argv; its standard output into *out (malloc) unless out is NULL (then to /dev/null),
 * standard input from /dev/null, standard error to ours. Its exit status, or -1 when it
 * could not be run. */
int bench_run(char *const argv[], char **out);

/* s (malloc) with every occurrence of from replaced by to: a new string (malloc); s is freed.
 * NULL when out of memory. */
char *bench_replace_free(char *s, const char *from, const char *to);

/* The caller's call that must answer want: its JSON answer (never NULL), or it exits. */
typedef json_t *bench_call_ok_fn(const char *method, const char *path, const char *token,
                                 const char *body, long want);

/* As the operator (op_token): tenant name, its member user Bench (email) and a token for that
 * user, each through call_ok; the tenant's id into tenant, the token's secret into member. */
void bench_member(bench_call_ok_fn *call_ok, const char *op_token, const char *name,
                  const char *email, char tenant[64], char member[128]);

#endif
