/* rel.h: what the reliability tiers share beyond testlib: a raw HTTP/1.1 exchange (bytes on
 * a socket, so a test can send what curl would tidy up: dot segments, NUL bytes, lying
 * headers), a log of every row written, the OpenAPI schemas of request bodies, latency
 * figures, a world to load (sovd, a host, a tenant, an image), and the --long switch. */
#ifndef SOV_REL_H
#define SOV_REL_H

#include <stdbool.h>
#include <stddef.h>

#include "testlib.h"

/* Whether scripts/test --long asked for the long tiers (SOV_TEST_LONG=1). */
bool rel_long(void);
/* Seconds since an arbitrary start, monotonic. */
double rel_now(void);

/* One raw exchange with 127.0.0.1:port: `head` is the request line and headers without the
 * final blank line (Connection: close and Content-Length are added when body is given, unless
 * no_length); the answer is read to the end of the connection. Returns 0, or -1 on a transport
 * failure, or -2 when nothing came within timeout_s (a hang). Fills ret like tl_http. */
int rel_raw(unsigned port, const char *head, const void *body, size_t body_len, bool no_length,
            unsigned timeout_s, tl_resp *ret);

/* Whether r is an RFC 9457 problem: application/problem+json whose body has the answer's
 * status, a type and a title. On failure, why into why. */
bool rel_is_problem(const tl_resp *r, char *why, size_t size);

/* A connection kept open for many small queries (tl_db_exec opens one per call). */
typedef struct pg_conn PGconn;
PGconn *rel_db_open(const char *db_url);
void rel_db_close(PGconn *c);
/* The first value of the first row (malloc), NULL when there is none; fails the test on an
 * error. */
char *rel_db_value(PGconn *c, const char *sql);

/* From now on, log every row written to the database's tables but those listed
 * (NULL-terminated) into a table rel_writes: row triggers, in the writing transaction, so a
 * write rolled back leaves nothing. */
void rel_db_track_writes(const char *db_url, const char *const *except);
/* How many rows were written so far; and which tables and operations, after the first
 * `since` (malloc, "tenants INSERT, quotas UPDATE"). */
long long rel_db_writes(PGconn *c);
char *rel_db_writes_since(PGconn *c, long long since);

/* The first value of a query as a number (0 when there is no row). */
long long rel_sql_num(const char *db_url, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Latency samples, in seconds; percentiles sort a copy. */
typedef struct rel_lat {
    double *v;
    size_t n, cap;
} rel_lat;
void rel_lat_add(rel_lat *l, double secs);
double rel_lat_pct(const rel_lat *l, double pct);
void rel_lat_free(rel_lat *l);

#endif

/* ---- the OpenAPI document (api/openapi.json): schemas of request bodies ---- */

/* A schema with $ref followed, and oneOf [x, null] read as x. */
json_t *rel_oa_resolve(json_t *api, json_t *schema);
/* Its JSON type: JSON_STRING, JSON_INTEGER, JSON_REAL (number), JSON_TRUE (boolean),
 * JSON_ARRAY or JSON_OBJECT. */
json_type rel_oa_type(json_t *api, json_t *schema);
/* A string anybody may write anything into: no pattern, enum or format. */
bool rel_oa_free_text(json_t *api, json_t *schema);
/* The JSON request body schema of method + pattern, resolved; NULL when it takes none. */
json_t *rel_oa_body(json_t *api, const char *method, const char *pattern);
/* The GET parameters of a path ("parameters", each resolved), or NULL. */
json_t *rel_oa_params(json_t *api, const char *method, const char *pattern);
bool rel_oa_required(json_t *object_schema, const char *field);
/* A value the schema accepts, as far as its type, enum, format and pattern tell; n makes
 * names unique. */
json_t *rel_oa_sample(json_t *api, json_t *schema, unsigned n);

/* ---- a world to load: sovd, a host, a tenant with room, a flavor and an image ---- */

/* sovd (every role) on db_url with a host on libvirt's test driver inside a private
 * libvirtd (instant domains, behind a real daemon that can be restarted), a tenant "load" with
 * quotas far beyond what a test makes, a flavor "tiny" (1 vCPU, 64 MiB, 1 GiB) and the
 * tenant's image "base" (a blank qcow2 imported through file://), active. */
typedef struct rel_world {
    char *tmp;              /* the test's folder: image store, pool, the qcow2 */
    char *db;               /* the database sovd uses */
    tl_libvirtd lvd;
    char uri[800];          /* test+unix:///default?socket=... */
    tl_sovd sovd;
    char *op;               /* the bootstrap operator's token */
    tl_tenant ten;
    char host_id[40], flavor_id[40], image_id[40];
    char pool[64], net[64];
} rel_world;
/* extra: more sovd flags (NULL-terminated, may be NULL). */
void rel_world_start(rel_world *w, const char *db_url, const char *const *extra);
/* Stop sovd with SIGTERM; its exit status (0: clean, nothing for the sanitizers). When not,
 * the tail of its log goes to stderr (too long for a Check message). */
int rel_world_stop_sovd(rel_world *w);
/* Stop everything and remove the folders (not the database). */
void rel_world_discard(rel_world *w);
/* Wait (at most timeout_s) until no operation is queued or running; how many still are. */
long long rel_world_settle(rel_world *w, unsigned timeout_s);
/* The names of the domains on the host, one a line (malloc): sovd's are sov-<instance id>. */
char *rel_world_domains(rel_world *w);
