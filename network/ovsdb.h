/* ovsdb.h: network/'s OVSDB client (RFC 7047 JSON-RPC over a unix or TCP stream), internal
 * to network/: the rest of sovd reaches OVN only through include/sov/network.h.
 *
 * One connection per caller: a sov_ovsdb is not thread-safe (a call writes a request and
 * reads until its answer, answering the server's echo requests on the way), so each thread
 * opens its own or serialises its calls. Every call is bounded by the connection's timeout:
 * a server that stops answering costs the caller that long, never a hang. A message larger
 * than the connection's maximum is refused and the connection closed, instead of growing
 * memory without limit. Failures: SOV_E_UNAVAILABLE when the server cannot be reached, does
 * not answer in time or goes away (retrying may work); SOV_E_INTERNAL when it speaks
 * something that is not OVSDB; a transaction's errors as sov_ovsdb_transact() says. */
#ifndef SOV_NETWORK_OVSDB_H
#define SOV_NETWORK_OVSDB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sov/cleanup.h"
#include "sov/error.h"

#define SOV_OVSDB_DEFAULT_TIMEOUT_MS 5000u
#define SOV_OVSDB_DEFAULT_MAX_MESSAGE (64u << 20)   /* 64 MiB */

/* api.h has the same for its own files; network/ does not include api.h. */
SOV_DEFINE_AUTOPTR(json_t, json_decref)

typedef struct sov_ovsdb sov_ovsdb;

/* Connect to remote, as ovn-nbctl's --db takes it: "unix:PATH" or "tcp:HOST:PORT" (HOST an
 * IPv4 address, a name, or an IPv6 address in brackets). timeout_ms bounds the connect and
 * becomes the timeout of every later call (0: SOV_OVSDB_DEFAULT_TIMEOUT_MS). */
int sov_ovsdb_connect(const char *remote, unsigned timeout_ms, sov_ovsdb **ret,
                      sov_error *err);
/* Take over a connected stream socket (tests, a socketpair); closed by sov_ovsdb_close. */
int sov_ovsdb_open_fd(int fd, unsigned timeout_ms, sov_ovsdb **ret, sov_error *err);
void sov_ovsdb_close(sov_ovsdb *c);
SOV_DEFINE_AUTOPTR(sov_ovsdb, sov_ovsdb_close)

void sov_ovsdb_set_timeout(sov_ovsdb *c, unsigned timeout_ms);
/* The largest message accepted from the server (default SOV_OVSDB_DEFAULT_MAX_MESSAGE). */
void sov_ovsdb_set_max_message(sov_ovsdb *c, size_t max_bytes);
/* Echo requests answered so far (the server's inactivity probe). */
unsigned long sov_ovsdb_echoes(const sov_ovsdb *c);
/* Whether the connection is still usable (no EOF, protocol error or oversized message). */
bool sov_ovsdb_alive(const sov_ovsdb *c);

/* One JSON-RPC call: params (taken, even on failure) sent as `method`; the result (a new
 * reference) into *ret unless ret is NULL. A JSON-RPC error answer is SOV_E_NOT_FOUND for
 * "unknown database", SOV_E_INTERNAL otherwise, with the server's error and details in
 * err->detail. */
int sov_ovsdb_call(sov_ovsdb *c, const char *method, json_t *params, json_t **ret,
                   sov_error *err);
/* Read and handle what the server sent (echo requests) for up to wait_ms, without a call. */
int sov_ovsdb_poll(sov_ovsdb *c, unsigned wait_ms, sov_error *err);

/* The server's databases: an array of names (a new reference). */
int sov_ovsdb_list_dbs(sov_ovsdb *c, json_t **ret, sov_error *err);
/* Whether the server has database db (a list_dbs). */
int sov_ovsdb_has_db(sov_ovsdb *c, const char *db, bool *ret, sov_error *err);
int sov_ovsdb_get_schema(sov_ovsdb *c, const char *db, json_t **ret, sov_error *err);

/* Run ops (a JSON array of operations, taken) as one transaction on db: it lands whole or
 * not at all. On success the results array (one per operation) into *ret unless NULL.
 * An operation's error, or the commit's (reported after the last operation), fails the
 * call: SOV_E_CONFLICT for "constraint violation", "referential integrity violation",
 * "timed out" (a wait) and "aborted"; SOV_E_UNAVAILABLE for "resources exhausted" and
 * "I/O error"; SOV_E_INTERNAL for the rest (a malformed operation is our bug). err->msg
 * names the error and the failed operation's index, err->detail the server's details. */
int sov_ovsdb_transact(sov_ovsdb *c, const char *db, json_t *ops, json_t **ret,
                       sov_error *err);

/* Operation builders: each takes the references given (row, where, columns, mutations) and
 * returns a new operation, or NULL when out of memory. where NULL is [] (every row). */
json_t *sov_ovsdb_op_insert(const char *table, json_t *row, const char *uuid_name);
json_t *sov_ovsdb_op_update(const char *table, json_t *where, json_t *row);
json_t *sov_ovsdb_op_mutate(const char *table, json_t *where, json_t *mutations);
json_t *sov_ovsdb_op_delete(const char *table, json_t *where);
json_t *sov_ovsdb_op_select(const char *table, json_t *where, json_t *columns);
/* [column, function, value]: a condition ("==", "!=", "includes", ...) or, with a mutator
 * ("insert", "delete", "+=", ...), a mutation. value is taken. */
json_t *sov_ovsdb_cond(const char *column, const char *function, json_t *value);
/* ["named-uuid", name], ["uuid", id], ["set", [items...]] (items taken). */
json_t *sov_ovsdb_named_uuid(const char *name);
json_t *sov_ovsdb_uuid(const char *id);
json_t *sov_ovsdb_set(json_t *items);
/* ["map", [[k, v]...]] from a NULL-terminated list of key, value strings. */
json_t *sov_ovsdb_map_strings(const char *const *kv);

/* The UUID an insert named uuid_name received: looks the insert up in ops and takes its
 * result from results. out holds 37 bytes. SOV_E_NOT_FOUND when no insert has that name. */
int sov_ovsdb_result_uuid(const json_t *ops, const json_t *results, const char *uuid_name,
                          char out[static 37], sov_error *err);
/* The rows a select at index i returned (borrowed), or NULL. */
json_t *sov_ovsdb_result_rows(const json_t *results, size_t i);

/* The framing of RFC 7047 streams: JSON texts one after another, no separator. The scanner
 * finds where the first complete top-level object or array ends, resumably: feed it the
 * same buffer as it grows, and it continues from where it stopped. */
typedef struct sov_ovsdb_scan {
    size_t pos;         /* bytes of the buffer examined so far */
    size_t start;       /* where the current value begins */
    unsigned depth;     /* open braces and brackets */
    bool in_string, escape, started;
} sov_ovsdb_scan;

typedef enum sov_ovsdb_scan_result {
    SOV_OVSDB_SCAN_MORE = 0,    /* no complete value yet */
    SOV_OVSDB_SCAN_DONE = 1,    /* a value spans [*ret_start, *ret_end) */
    SOV_OVSDB_SCAN_BAD = -1,    /* not a JSON object or array: the stream is unusable */
} sov_ovsdb_scan_result;

void sov_ovsdb_scan_init(sov_ovsdb_scan *s);
sov_ovsdb_scan_result sov_ovsdb_scan_feed(sov_ovsdb_scan *s, const char *buf, size_t len,
                                          size_t *ret_start, size_t *ret_end);

#endif
