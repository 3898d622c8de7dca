/* ovsdb.c: the OVSDB client (RFC 7047): JSON-RPC 1.0 over a unix or TCP stream, with
 * jansson. sovd writes OVN's Northbound database through it, each change one transaction
 * whose rows refer to each other by named-uuid, so that a change lands whole or not at all.
 *
 * The stream carries JSON texts one after another without framing: a resumable scanner
 * (strings and escapes aware) finds where each object ends, and only then does jansson parse
 * it. Every wait is a poll() against the call's deadline; nothing here blocks without one. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ovsdb.h"

#define READ_CHUNK 65536u

struct sov_ovsdb {
    int fd;
    unsigned timeout_ms;
    size_t max_message;
    char *buf;              /* bytes received, not yet handled */
    size_t len, cap;
    sov_ovsdb_scan scan;    /* over buf */
    json_int_t next_id;
    unsigned long echoes;
    bool broken;            /* EOF, a protocol error or a torn write: unusable */
    char remote[128];       /* for messages */
};

/* --- the framing scanner ------------------------------------------------------------- */

void
sov_ovsdb_scan_init(sov_ovsdb_scan *s)
{
    memset(s, 0, sizeof(*s));
}

sov_ovsdb_scan_result
sov_ovsdb_scan_feed(sov_ovsdb_scan *s, const char *buf, size_t len, size_t *ret_start,
                    size_t *ret_end)
{
    for (; s->pos < len; s->pos++) {
        char ch = buf[s->pos];

        if (!s->started) {
            if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
                continue;
            if (ch != '{' && ch != '[')
                return SOV_OVSDB_SCAN_BAD;
            s->started = true;
            s->start = s->pos;
            s->depth = 1;
            continue;
        }
        if (s->in_string) {
            if (s->escape)
                s->escape = false;
            else if (ch == '\\')
                s->escape = true;
            else if (ch == '"')
                s->in_string = false;
            continue;
        }
        switch (ch) {
        case '"':
            s->in_string = true;
            break;
        case '{':
        case '[':
            s->depth++;
            break;
        case '}':
        case ']':
            if (--s->depth == 0) {
                *ret_start = s->start;
                *ret_end = ++s->pos;
                return SOV_OVSDB_SCAN_DONE;
            }
            break;
        default:
            break;
        }
    }
    return SOV_OVSDB_SCAN_MORE;
}

/* --- time and sockets ----------------------------------------------------------------- */

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
left_ms(long long deadline)
{
    long long left = deadline - now_ms();
    return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int) left;
}

static int
wait_fd(int fd, short events, long long deadline)
{
    struct pollfd p = { .fd = fd, .events = events };

    for (;;) {
        int n = poll(&p, 1, left_ms(deadline));
        if (n > 0)
            return 0;
        if (n == 0)
            return 1;
        if (errno != EINTR)
            return -1;
    }
}

static int
connect_addr(const struct sockaddr *sa, socklen_t salen, long long deadline, int *ret,
             int *ret_errno)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int soerr = 0;
    socklen_t sl = sizeof(soerr);

    if (fd < 0) {
        *ret_errno = errno;
        return -1;
    }
    if (connect(fd, sa, salen) < 0) {
        if (errno != EINPROGRESS) {
            *ret_errno = errno;
            close(fd);
            return -1;
        }
        int w = wait_fd(fd, POLLOUT, deadline);
        if (w != 0) {
            *ret_errno = w > 0 ? ETIMEDOUT : errno;
            close(fd);
            return -1;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
            *ret_errno = soerr ? soerr : errno;
            close(fd);
            return -1;
        }
    }
    if (sa->sa_family != AF_UNIX) {
        int one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    *ret = fd;
    return 0;
}

static int
connect_unix(const char *path, const char *remote, long long deadline, int *ret,
             sov_error *err)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int e = 0;

    if (!*path || strlen(path) >= sizeof(sun.sun_path))
        return sov_error_set(err, SOV_E_INVALID, "ovsdb remote '%s' has no usable socket path",
                             remote);
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if (connect_addr((struct sockaddr *) &sun, sizeof(sun), deadline, ret, &e) < 0) {
        sov_error_set(err, SOV_E_UNAVAILABLE, "could not connect to ovsdb server at '%s'",
                      remote);
        return sov_error_detail(err, "%s", strerror(e));
    }
    return 0;
}

static int
connect_tcp(const char *hostport, const char *remote, long long deadline, int *ret,
            sov_error *err)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    const char *h = hostport;
    size_t hlen;
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG };
    struct addrinfo *res = NULL;
    char *end = NULL;
    unsigned long port;
    int rc, e = ECONNREFUSED;

    if (!colon)
        return sov_error_set(err, SOV_E_INVALID, "ovsdb remote '%s' has no port", remote);
    port = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || port == 0 || port > 65535)
        return sov_error_set(err, SOV_E_INVALID, "ovsdb remote '%s' has a bad port", remote);
    hlen = (size_t) (colon - hostport);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof(host))
        return sov_error_set(err, SOV_E_INVALID, "ovsdb remote '%s' has a bad host", remote);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    hints.ai_flags &= ~AI_ADDRCONFIG;   /* 127.0.0.1 must work without other addresses */
    rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0) {
        sov_error_set(err, SOV_E_UNAVAILABLE, "could not resolve ovsdb server '%s'", remote);
        return sov_error_detail(err, "%s", gai_strerror(rc));
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (connect_addr(ai->ai_addr, ai->ai_addrlen, deadline, ret, &e) == 0) {
            freeaddrinfo(res);
            return 0;
        }
    freeaddrinfo(res);
    sov_error_set(err, SOV_E_UNAVAILABLE, "could not connect to ovsdb server at '%s'", remote);
    return sov_error_detail(err, "%s", strerror(e));
}

static sov_ovsdb *
ovsdb_new(int fd, unsigned timeout_ms, const char *remote)
{
    sov_ovsdb *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->fd = fd;
    c->timeout_ms = timeout_ms ? timeout_ms : SOV_OVSDB_DEFAULT_TIMEOUT_MS;
    c->max_message = SOV_OVSDB_DEFAULT_MAX_MESSAGE;
    c->next_id = 1;
    snprintf(c->remote, sizeof(c->remote), "%s", remote);
    sov_ovsdb_scan_init(&c->scan);
    return c;
}

int
sov_ovsdb_connect(const char *remote, unsigned timeout_ms, sov_ovsdb **ret, sov_error *err)
{
    long long deadline = now_ms() + (timeout_ms ? timeout_ms : SOV_OVSDB_DEFAULT_TIMEOUT_MS);
    int fd = -1;
    sov_ovsdb *c;

    if (!remote)
        return sov_error_set(err, SOV_E_INVALID, "no ovsdb remote given");
    if (strncmp(remote, "unix:", 5) == 0) {
        if (connect_unix(remote + 5, remote, deadline, &fd, err) < 0)
            return -1;
    } else if (strncmp(remote, "tcp:", 4) == 0) {
        if (connect_tcp(remote + 4, remote, deadline, &fd, err) < 0)
            return -1;
    } else {
        return sov_error_set(err, SOV_E_INVALID,
                             "ovsdb remote '%s' must be unix:PATH or tcp:HOST:PORT", remote);
    }
    c = ovsdb_new(fd, timeout_ms, remote);
    if (!c) {
        close(fd);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    *ret = c;
    return 0;
}

int
sov_ovsdb_open_fd(int fd, unsigned timeout_ms, sov_ovsdb **ret, sov_error *err)
{
    int flags = fcntl(fd, F_GETFL);
    sov_ovsdb *c;

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return sov_error_set(err, SOV_E_INVALID, "not a usable socket: %s", strerror(errno));
    c = ovsdb_new(fd, timeout_ms, "fd");
    if (!c)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    *ret = c;
    return 0;
}

void
sov_ovsdb_close(sov_ovsdb *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    free(c);
}

void
sov_ovsdb_set_timeout(sov_ovsdb *c, unsigned timeout_ms)
{
    c->timeout_ms = timeout_ms ? timeout_ms : SOV_OVSDB_DEFAULT_TIMEOUT_MS;
}

void
sov_ovsdb_set_max_message(sov_ovsdb *c, size_t max_bytes)
{
    c->max_message = max_bytes ? max_bytes : SOV_OVSDB_DEFAULT_MAX_MESSAGE;
}

unsigned long
sov_ovsdb_echoes(const sov_ovsdb *c)
{
    return c->echoes;
}

bool
sov_ovsdb_alive(const sov_ovsdb *c)
{
    return !c->broken;
}

/* --- sending and receiving ------------------------------------------------------------ */

static int
broken(sov_ovsdb *c, sov_errcode code, sov_error *err, const char *what)
{
    c->broken = true;
    sov_error_set(err, code, "ovsdb server at '%s' %s", c->remote, what);
    return -1;
}

static int
send_json(sov_ovsdb *c, json_t *msg, long long deadline, sov_error *err)
{
    sov_autofree char *text = json_dumps(msg, JSON_COMPACT);
    size_t len, off = 0;

    if (!text)
        return sov_error_set(err, SOV_E_INTERNAL, "could not encode an ovsdb request");
    len = strlen(text);
    while (off < len) {
        ssize_t n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t) n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = wait_fd(c->fd, POLLOUT, deadline);
            if (w == 0)
                continue;
            /* Half a request on the stream: nothing after it could be understood. */
            if (off > 0)
                c->broken = true;
            else if (w > 0)
                return sov_error_set(err, SOV_E_UNAVAILABLE,
                                     "ovsdb server at '%s' did not take a request within "
                                     "%u ms", c->remote, c->timeout_ms);
            return sov_error_set(err, SOV_E_UNAVAILABLE,
                                 "could not send to ovsdb server at '%s'", c->remote);
        }
        int e = n < 0 ? errno : EPIPE;
        broken(c, SOV_E_UNAVAILABLE, err, "went away");
        return sov_error_detail(err, "%s", strerror(e));
    }
    return 0;
}

/* The next complete message, parsed (a new reference) into *ret: 0; 1 when the deadline
 * passed first; -1 on a failure (the connection is then unusable, but for out of memory). */
static int
recv_json(sov_ovsdb *c, long long deadline, json_t **ret, sov_error *err)
{
    for (;;) {
        size_t start = 0, end = 0;
        sov_ovsdb_scan_result r = sov_ovsdb_scan_feed(&c->scan, c->buf, c->len, &start, &end);

        if (r == SOV_OVSDB_SCAN_BAD)
            return broken(c, SOV_E_INTERNAL, err, "sent something that is not JSON-RPC");
        if (r == SOV_OVSDB_SCAN_DONE) {
            json_error_t jerr;
            json_t *msg;

            if (end - start > c->max_message)
                return broken(c, SOV_E_INTERNAL, err, "sent a message over the size limit");
            msg = json_loadb(c->buf + start, end - start, 0, &jerr);
            memmove(c->buf, c->buf + end, c->len - end);
            c->len -= end;
            sov_ovsdb_scan_init(&c->scan);
            if (!msg) {
                broken(c, SOV_E_INTERNAL, err, "sent malformed JSON");
                return sov_error_detail(err, "%s", jerr.text);
            }
            *ret = msg;
            return 0;
        }
        /* Counted from the message's start (whitespace before it too): nothing the
         * server sends grows the buffer past the limit and one read. */
        if (c->len - (c->scan.started ? c->scan.start : 0) > c->max_message)
            return broken(c, SOV_E_INTERNAL, err, "sent a message over the size limit");
        if (c->cap - c->len < READ_CHUNK) {
            size_t cap = c->cap ? c->cap * 2 : READ_CHUNK * 2;
            char *nb;

            while (cap - c->len < READ_CHUNK)
                cap *= 2;
            nb = realloc(c->buf, cap);
            if (!nb)
                return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
            c->buf = nb;
            c->cap = cap;
        }
        ssize_t n = recv(c->fd, c->buf + c->len, READ_CHUNK, 0);
        if (n > 0) {
            c->len += (size_t) n;
            continue;
        }
        if (n == 0)
            return broken(c, SOV_E_UNAVAILABLE, err, "closed the connection");
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            int e = errno;
            broken(c, SOV_E_UNAVAILABLE, err, "went away");
            return sov_error_detail(err, "%s", strerror(e));
        }
        int w = wait_fd(c->fd, POLLIN, deadline);
        if (w > 0)
            return 1;
        if (w < 0)
            return broken(c, SOV_E_UNAVAILABLE, err, "could not be read");
    }
}

/* A request or notification from the server. Echo is the only request a client must
 * answer (the server's inactivity probe); the rest (monitor updates, lock notices) are
 * for the monitors a later change adds. */
static int
handle_server_request(sov_ovsdb *c, json_t *msg, long long deadline, sov_error *err)
{
    const char *method = json_string_value(json_object_get(msg, "method"));
    json_t *id = json_object_get(msg, "id");
    json_t *params = json_object_get(msg, "params");
    sov_autoptr(json_t) none = json_array();
    sov_autoptr(json_t) reply = NULL;

    if (!method)
        return broken(c, SOV_E_INTERNAL, err, "sent a request without a method");
    if (strcmp(method, "echo") != 0 || !id || json_is_null(id))
        return 0;
    /* The answer carries the request's own params back, as RFC 7047 4.1.11 asks. */
    reply = json_pack("{s:O, s:O, s:n}", "id", id, "result", params ? params : none, "error");
    if (!reply)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (send_json(c, reply, deadline, err) < 0)
        return -1;
    c->echoes++;
    return 0;
}

/* Read until the answer to request id comes; handle everything else on the way. */
static int
await_reply(sov_ovsdb *c, json_int_t id, long long deadline, json_t **ret, sov_error *err)
{
    for (;;) {
        sov_autoptr(json_t) msg = NULL;
        int r = recv_json(c, deadline, &msg, err);

        if (r < 0)
            return -1;
        if (r > 0)
            return sov_error_set(err, SOV_E_UNAVAILABLE,
                                 "ovsdb server at '%s' did not answer within %u ms",
                                 c->remote, c->timeout_ms);
        if (!json_is_object(msg))
            return broken(c, SOV_E_INTERNAL, err, "sent a message that is not an object");
        if (json_object_get(msg, "method")) {
            if (handle_server_request(c, msg, deadline, err) < 0)
                return -1;
            continue;
        }
        json_t *rid = json_object_get(msg, "id");
        if (!json_is_integer(rid) || json_integer_value(rid) != id)
            continue;   /* the late answer to a call that timed out */
        if (!json_object_get(msg, "result") && !json_object_get(msg, "error"))
            return broken(c, SOV_E_INTERNAL, err, "sent an answer without result or error");
        *ret = SOV_TAKE_PTR(msg);
        return 0;
    }
}

static int
rpc_error(sov_ovsdb *c, const char *method, json_t *error, sov_error *err)
{
    const char *e = json_is_string(error) ? json_string_value(error)
                    : json_string_value(json_object_get(error, "error"));
    const char *details = json_string_value(json_object_get(error, "details"));

    sov_error_set(err, e && strcmp(e, "unknown database") == 0 ? SOV_E_NOT_FOUND
                                                                : SOV_E_INTERNAL,
                  "ovsdb %s failed: %s", method, e ? e : "unknown error");
    if (details)
        sov_error_detail(err, "%s: %s", c->remote, details);
    else
        sov_error_detail(err, "%s", c->remote);
    return -1;
}

int
sov_ovsdb_call(sov_ovsdb *c, const char *method, json_t *params, json_t **ret,
               sov_error *err)
{
    long long deadline = now_ms() + c->timeout_ms;
    json_int_t id = c->next_id++;
    sov_autoptr(json_t) req = NULL;
    sov_autoptr(json_t) reply = NULL;
    json_t *error, *result;

    if (!params)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    req = json_pack("{s:s, s:o, s:I}", "method", method, "params", params, "id", id);
    if (!req)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (c->broken)
        return sov_error_set(err, SOV_E_UNAVAILABLE,
                             "connection to ovsdb server at '%s' was lost", c->remote);
    if (send_json(c, req, deadline, err) < 0 || await_reply(c, id, deadline, &reply, err) < 0)
        return -1;
    error = json_object_get(reply, "error");
    if (error && !json_is_null(error))
        return rpc_error(c, method, error, err);
    result = json_object_get(reply, "result");
    if (!result)
        return broken(c, SOV_E_INTERNAL, err, "sent an answer without a result");
    if (ret)
        *ret = json_incref(result);
    return 0;
}

int
sov_ovsdb_poll(sov_ovsdb *c, unsigned wait_ms, sov_error *err)
{
    long long deadline = now_ms() + wait_ms;

    if (c->broken)
        return sov_error_set(err, SOV_E_UNAVAILABLE,
                             "connection to ovsdb server at '%s' was lost", c->remote);
    for (;;) {
        sov_autoptr(json_t) msg = NULL;
        int r = recv_json(c, deadline, &msg, err);

        if (r < 0)
            return -1;
        if (r > 0)
            return 0;
        if (!json_is_object(msg))
            return broken(c, SOV_E_INTERNAL, err, "sent a message that is not an object");
        if (json_object_get(msg, "method") && handle_server_request(c, msg, deadline, err) < 0)
            return -1;
    }
}

/* --- the methods ------------------------------------------------------------------------ */

int
sov_ovsdb_list_dbs(sov_ovsdb *c, json_t **ret, sov_error *err)
{
    sov_autoptr(json_t) dbs = NULL;

    if (sov_ovsdb_call(c, "list_dbs", json_array(), &dbs, err) < 0)
        return -1;
    if (!json_is_array(dbs))
        return broken(c, SOV_E_INTERNAL, err, "answered list_dbs with something not a list");
    *ret = SOV_TAKE_PTR(dbs);
    return 0;
}

int
sov_ovsdb_has_db(sov_ovsdb *c, const char *db, bool *ret, sov_error *err)
{
    sov_autoptr(json_t) dbs = NULL;
    size_t i;
    json_t *v;

    if (sov_ovsdb_list_dbs(c, &dbs, err) < 0)
        return -1;
    *ret = false;
    json_array_foreach(dbs, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), db) == 0)
            *ret = true;
    return 0;
}

int
sov_ovsdb_get_schema(sov_ovsdb *c, const char *db, json_t **ret, sov_error *err)
{
    sov_autoptr(json_t) schema = NULL;

    if (sov_ovsdb_call(c, "get_schema", json_pack("[s]", db), &schema, err) < 0)
        return -1;
    if (!json_is_object(schema))
        return broken(c, SOV_E_INTERNAL, err, "answered get_schema with something not a schema");
    *ret = SOV_TAKE_PTR(schema);
    return 0;
}

static sov_errcode
transact_code(const char *e)
{
    static const struct { const char *error; sov_errcode code; } codes[] = {
        { "constraint violation", SOV_E_CONFLICT },
        { "referential integrity violation", SOV_E_CONFLICT },
        { "timed out", SOV_E_CONFLICT },
        { "aborted", SOV_E_CONFLICT },
        { "not owner", SOV_E_CONFLICT },
        { "resources exhausted", SOV_E_UNAVAILABLE },
        { "I/O error", SOV_E_UNAVAILABLE },
    };

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(e, codes[i].error) == 0)
            return codes[i].code;
    return SOV_E_INTERNAL;
}

int
sov_ovsdb_transact(sov_ovsdb *c, const char *db, json_t *ops, json_t **ret, sov_error *err)
{
    sov_autoptr(json_t) params = json_pack("[s]", db);
    sov_autoptr(json_t) results = NULL;
    size_t n_ops, i;
    json_t *r;

    if (!json_is_array(ops)) {
        json_decref(ops);
        return sov_error_set(err, SOV_E_INTERNAL, "an ovsdb transaction is a list of operations");
    }
    n_ops = json_array_size(ops);
    if (!params || json_array_extend(params, ops) < 0) {
        json_decref(ops);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    json_decref(ops);
    if (sov_ovsdb_call(c, "transact", json_incref(params), &results, err) < 0)
        return -1;
    if (!json_is_array(results))
        return broken(c, SOV_E_INTERNAL, err, "answered a transaction with something not a list");
    json_array_foreach(results, i, r) {
        const char *e = json_string_value(json_object_get(r, "error"));
        const char *details = json_string_value(json_object_get(r, "details"));

        if (!e)
            continue;
        if (i < n_ops) {
            const char *op = json_string_value(
                json_object_get(json_array_get(params, i + 1), "op"));
            sov_error_set(err, transact_code(e),
                          "ovsdb transaction on %s failed at operation %zu (%s): %s", db, i,
                          op ? op : "?", e);
        } else {
            sov_error_set(err, transact_code(e), "ovsdb transaction on %s failed to commit: %s",
                          db, e);
        }
        if (details)
            sov_error_detail(err, "%s", details);
        return -1;
    }
    if (json_array_size(results) < n_ops)
        return broken(c, SOV_E_INTERNAL, err, "answered a transaction with too few results");
    if (ret)
        *ret = SOV_TAKE_PTR(results);
    return 0;
}

/* --- building operations ---------------------------------------------------------------- */

static json_t *
op_new(const char *op, const char *table, json_t *where)
{
    json_t *o = json_pack("{s:s, s:s}", "op", op, "table", table);

    if (!where)
        where = json_array();
    if (!o || !where || json_object_set_new(o, "where", where) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Adds member (taken) to o; NULL and o freed when either is missing. */
static json_t *
with(json_t *o, const char *key, json_t *member)
{
    if (!o || !member || json_object_set_new(o, key, member) < 0) {
        json_decref(o);
        if (!o)
            json_decref(member);
        return NULL;
    }
    return o;
}

json_t *
sov_ovsdb_op_insert(const char *table, json_t *row, const char *uuid_name)
{
    json_t *o = json_pack("{s:s, s:s}", "op", "insert", "table", table);

    o = with(o, "row", row ? row : json_object());
    if (o && uuid_name)
        o = with(o, "uuid-name", json_string(uuid_name));
    return o;
}

json_t *
sov_ovsdb_op_update(const char *table, json_t *where, json_t *row)
{
    return with(op_new("update", table, where), "row", row);
}

json_t *
sov_ovsdb_op_mutate(const char *table, json_t *where, json_t *mutations)
{
    return with(op_new("mutate", table, where), "mutations", mutations);
}

json_t *
sov_ovsdb_op_delete(const char *table, json_t *where)
{
    return op_new("delete", table, where);
}

json_t *
sov_ovsdb_op_select(const char *table, json_t *where, json_t *columns)
{
    json_t *o = op_new("select", table, where);

    return columns ? with(o, "columns", columns) : o;
}

json_t *
sov_ovsdb_cond(const char *column, const char *function, json_t *value)
{
    return value ? json_pack("[s, s, o]", column, function, value) : NULL;
}

json_t *
sov_ovsdb_named_uuid(const char *name)
{
    return json_pack("[s, s]", "named-uuid", name);
}

json_t *
sov_ovsdb_uuid(const char *id)
{
    return json_pack("[s, s]", "uuid", id);
}

json_t *
sov_ovsdb_set(json_t *items)
{
    return items ? json_pack("[s, o]", "set", items) : NULL;
}

json_t *
sov_ovsdb_map_strings(const char *const *kv)
{
    json_t *pairs = json_array();

    for (size_t i = 0; pairs && kv && kv[i] && kv[i + 1]; i += 2)
        if (json_array_append_new(pairs, json_pack("[s, s]", kv[i], kv[i + 1])) < 0) {
            json_decref(pairs);
            return NULL;
        }
    return pairs ? json_pack("[s, o]", "map", pairs) : NULL;
}

/* --- reading results -------------------------------------------------------------------- */

int
sov_ovsdb_result_uuid(const json_t *ops, const json_t *results, const char *uuid_name,
                      char out[static 37], sov_error *err)
{
    size_t i;
    json_t *op;

    json_array_foreach(ops, i, op) {
        const char *name = json_string_value(json_object_get(op, "uuid-name"));
        json_t *uuid;
        const char *tag, *id;

        if (!name || strcmp(name, uuid_name) != 0)
            continue;
        uuid = json_object_get(json_array_get(results, i), "uuid");
        tag = json_string_value(json_array_get(uuid, 0));
        id = json_string_value(json_array_get(uuid, 1));
        if (json_array_size(uuid) != 2 || !tag || strcmp(tag, "uuid") != 0 || !id ||
            strlen(id) != 36)
            return sov_error_set(err, SOV_E_INTERNAL,
                                 "insert '%s' has no uuid in the transaction's results",
                                 uuid_name);
        memcpy(out, id, 37);
        return 0;
    }
    return sov_error_set(err, SOV_E_NOT_FOUND, "no insert named '%s' in the transaction",
                         uuid_name);
}

json_t *
sov_ovsdb_result_rows(const json_t *results, size_t i)
{
    json_t *rows = json_object_get(json_array_get(results, i), "rows");
    return json_is_array(rows) ? rows : NULL;
}
