/* console_stream.c: GET /v1/instances/{id}/console/stream, the serial console over a
 * WebSocket (RFC 6455), and the bridge between the two once the connection switched.
 *
 * Everything that can be refused is refused before the 101, as problem+json: not a
 * handshake (400), no token (401, the token may come as the subprotocol sov.bearer.<token>),
 * a role that may not (403), a foreign Origin (403), another tenant's or no instance (404), an
 * instance that is not running (409). After it, the session runs on its own thread
 * (upgrade.c): what the guest writes goes to the client as binary frames, what the client
 * sends (binary or text) goes to the guest. Ends: 1000 when the console ends (the guest
 * stopped), 1001 when sovd shuts down, 1011 when the host fails, 4409 when another session
 * holds the console (or took it over), 1002 on a frame the protocol forbids, 1009 on a frame
 * over the size limit. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "handlers.h"
#include "internal.h"
#include "sov/compute.h"
#include "websocket.h"

#define SUBPROTOCOL "sov.console.v1"
#define MAX_PAYLOAD (64u * 1024u)       /* a client frame larger than this: 1009 */
#define IN_MAX (MAX_PAYLOAD + 14u)      /* one whole frame and its header */
#define PING_MS 30000                   /* an idle connection is pinged (proxies, NATs) */
#define SEND_WAIT_MS 10000              /* a client that takes nothing this long is gone */
#define CLOSE_WAIT_MS 1000              /* how long the client gets to answer our close */
/* Sessions at once in this process: each holds a thread (and, while its host does not answer,
 * keeps it); one more is 503 before the upgrade, never queued. */
#define MAX_SESSIONS 64

/* ---- the handshake ---- */

/* The Origin's host[:port] is the Host the request was sent to. */
static bool
same_host(const char *origin, const char *host)
{
    const char *p = strstr(origin, "://");

    if (!p || !host)
        return false;
    p += 3;
    return strcasecmp(p, host) == 0;
}

static int
check_handshake(sov_request *req, const char **protocol, sov_error *err)
{
    const char *key = sov_request_header(req, "Sec-WebSocket-Key");
    const char *version = sov_request_header(req, "Sec-WebSocket-Version");
    const char *protocols = sov_request_header(req, "Sec-WebSocket-Protocol");

    if (!sov_ws_header_has(sov_request_header(req, "Upgrade"), "websocket") ||
        !sov_ws_header_has(sov_request_header(req, "Connection"), "upgrade"))
        return sov_error_invalid(err, "Upgrade", "this is a WebSocket: send Upgrade: "
                                 "websocket and Connection: Upgrade (RFC 6455)");
    if (!version || strcmp(version, "13") != 0) {
        sov_request_add_header(req, "Sec-WebSocket-Version", "13");
        return sov_error_invalid(err, "Sec-WebSocket-Version",
                                 "Sec-WebSocket-Version must be 13");
    }
    if (!sov_ws_key_valid(key))
        return sov_error_invalid(err, "Sec-WebSocket-Key", "Sec-WebSocket-Key must be the "
                                 "base64 of 16 random bytes");
    *protocol = NULL;
    if (protocols) {
        if (!sov_ws_header_has(protocols, SUBPROTOCOL))
            return sov_error_invalid(err, "Sec-WebSocket-Protocol", "the subprotocol "
                                     SUBPROTOCOL " is the only one offered");
        *protocol = SUBPROTOCOL;
    }
    return 0;
}

static void bridge_run(sov_upgraded *u, void *state);

static void
stream_free(void *state)
{
    sov_console_stream_free(state);
}

/* GET /v1/instances/{id}/console/stream?force= */
enum MHD_Result
sov_handle_instance_console_stream(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *origin = sov_request_header(req, "Origin");
    const char *force = sov_request_query(req, "force");
    const char *protocol = NULL;
    char accept[SOV_WS_ACCEPT_LEN + 1];
    sov_console_stream *cs = NULL;

    /* Whose instance first: another tenant's is 404 whatever else is wrong (existence does
     * not leak, not even through a 400). */
    {
        SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };
        if (sov_instance_get(&req->ctx, NULL, sov_request_param(req, "id"), &x, &err) < 0)
            return sov_api_reply_problem(req, &err);
    }
    if (check_handshake(req, &protocol, &err) < 0)
        return sov_api_reply_problem(req, &err);
    /* A page of another site must not drive a console with a token it got hold of. */
    if (origin && !same_host(origin, sov_request_header(req, "Host")) &&
        !sov_config_cors_allows(req->app->cfg, origin))
        return sov_api_reply_status(req, SOV_EDGE_CORS_ORIGIN, "this origin is neither this "
                                    "host nor in cors_origins");
    if (force && strcmp(force, "true") != 0 && strcmp(force, "false") != 0) {
        sov_error_invalid(&err, "force", "force must be true or false");
        return sov_api_reply_problem(req, &err);
    }
    if (sov_upgrades_count(sov_server_upgrades(req->server)) >= MAX_SESSIONS) {
        sov_request_add_header(req, "Retry-After", "5");
        sov_error_set(&err, SOV_E_UNAVAILABLE, "too many console sessions at once; try again "
                      "in a moment");
        return sov_api_reply_problem(req, &err);
    }
    if (sov_instance_console_attach(&req->ctx, NULL, sov_request_param(req, "id"),
                                    force && strcmp(force, "true") == 0, &cs, &err) < 0)
        return sov_api_reply_problem(req, &err);
    if (sov_ws_accept(sov_request_header(req, "Sec-WebSocket-Key"), accept) < 0) {
        sov_console_stream_free(cs);
        sov_error_set(&err, SOV_E_INTERNAL, "could not compute Sec-WebSocket-Accept");
        return sov_api_reply_problem(req, &err);
    }
    sov_request_add_header(req, "Sec-WebSocket-Accept", accept);
    if (protocol)
        sov_request_add_header(req, "Sec-WebSocket-Protocol", protocol);
    return sov_api_reply_upgrade(req, bridge_run, cs, stream_free);
}

/* ---- the bridge ---- */

typedef struct bridge {
    sov_console_stream *cs;
    sov_upgraded *u;
    int fd;
    sov_ws_reader r;
    uint8_t in[IN_MAX];
    size_t in_len;
    bool gone;                      /* the client's side failed: nothing more to send */
    bool closed;                    /* a close frame came or went: the session is over */
} bridge;

static int
send_all(bridge *b, const uint8_t *p, size_t len)
{
    while (len > 0 && !b->gone) {
        ssize_t n = send(b->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            len -= (size_t) n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            struct pollfd pfd = { .fd = b->fd, .events = POLLOUT };
            if (poll(&pfd, 1, SEND_WAIT_MS) > 0)
                continue;
        }
        b->gone = true;
    }
    return b->gone ? -1 : 0;
}

static int
send_frame(bridge *b, unsigned opcode, const void *data, size_t len)
{
    uint8_t hdr[10];
    size_t n = sov_ws_header(hdr, opcode, len);

    if (send_all(b, hdr, n) < 0)
        return -1;
    return len > 0 ? send_all(b, data, len) : 0;
}

/* Send our close, then give the client a moment to answer it (RFC 6455 section 7.1.1: the
 * server closes the TCP connection after the handshake). */
static void
close_with(bridge *b, unsigned code, const char *reason)
{
    uint8_t payload[125];
    struct pollfd pfd = { .fd = b->fd, .events = POLLIN };
    uint8_t sink[512];

    if (b->closed)
        return;
    b->closed = true;
    sov_log_info("console of instance %s closed: %u %s", sov_console_stream_instance(b->cs),
                 code, reason);
    if (send_frame(b, SOV_WS_CLOSE, payload, sov_ws_close_payload(payload, code, reason)) < 0)
        return;
    shutdown(b->fd, SHUT_WR);
    /* Whatever comes now is dropped; the client's close or its end ends the wait. */
    while (poll(&pfd, 1, CLOSE_WAIT_MS) > 0) {
        ssize_t n = recv(b->fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
            break;
    }
}

/* A frame from the client. */
static void
on_frame(bridge *b, const sov_ws_frame *f)
{
    sov_error err = SOV_ERROR_INIT;

    switch (f->opcode) {
    case SOV_WS_TEXT:
    case SOV_WS_BINARY:
    case SOV_WS_CONT:
        if (f->len > 0 && sov_console_stream_write(b->cs, f->payload, f->len, &err) < 0)
            close_with(b, SOV_WS_CLOSE_INTERNAL, err.msg);
        break;
    case SOV_WS_PING:
        send_frame(b, SOV_WS_PONG, f->payload, f->len);
        break;
    case SOV_WS_CLOSE: {
        /* Answer with the client's code (section 5.5.1); a bare close is a normal one. */
        unsigned code = f->len >= 2 ? (unsigned) f->payload[0] << 8 | f->payload[1]
                                    : SOV_WS_CLOSE_NORMAL;
        uint8_t payload[2];
        b->closed = true;
        send_frame(b, SOV_WS_CLOSE, payload, sov_ws_close_payload(payload, code, NULL));
        break;
    }
    default:                        /* pong: nothing to do */
        break;
    }
}

/* Decode what came so far; a forbidden frame closes the session. */
static void
take_frames(bridge *b)
{
    size_t off = 0;

    while (!b->closed && off < b->in_len) {
        sov_ws_frame f;
        unsigned code = 0;
        long n = sov_ws_decode(&b->r, b->in + off, b->in_len - off, &f, &code);
        if (n == 0)
            break;
        if (n < 0) {
            close_with(b, code, code == SOV_WS_CLOSE_TOO_BIG ? "frame too large"
                                                               : "protocol error");
            return;
        }
        on_frame(b, &f);
        off += (size_t) n;
    }
    memmove(b->in, b->in + off, b->in_len - off);
    b->in_len -= off;
}

static void
from_client(bridge *b)
{
    ssize_t n = recv(b->fd, b->in + b->in_len, sizeof(b->in) - b->in_len, MSG_DONTWAIT);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        b->gone = b->closed = true;     /* the client went away without a close */
        return;
    }
    b->in_len += (size_t) n;
    take_frames(b);
}

static void
from_console(bridge *b)
{
    uint8_t buf[16384];
    sov_error err = SOV_ERROR_INIT;

    for (;;) {
        long n = sov_console_stream_read(b->cs, buf, sizeof(buf), &err);
        if (n == -2)
            return;
        if (n > 0) {
            if (send_frame(b, SOV_WS_BINARY, buf, (size_t) n) < 0)
                b->closed = true;
            if (b->closed)
                return;
            continue;
        }
        if (sov_console_stream_taken_over(b->cs))
            close_with(b, SOV_WS_CLOSE_BUSY, "taken over by another session");
        else if (n == 0)
            close_with(b, SOV_WS_CLOSE_NORMAL, "the console ended");
        else
            close_with(b, SOV_WS_CLOSE_INTERNAL, err.msg);
        return;
    }
}

static void
bridge_run(sov_upgraded *u, void *state)
{
    bridge *b = calloc(1, sizeof(*b));
    sov_error err = SOV_ERROR_INIT;
    const char *extra;
    size_t extra_len;

    if (!b)
        return;
    b->cs = state;
    b->u = u;
    b->fd = sov_upgraded_fd(u);
    b->r.max_payload = MAX_PAYLOAD;
    if (sov_console_stream_connect(b->cs, &err) < 0) {
        if (err.code == SOV_E_CONFLICT)
            close_with(b, SOV_WS_CLOSE_BUSY, err.msg);
        else
            close_with(b, SOV_WS_CLOSE_INTERNAL, err.msg);
        if (err.code != SOV_E_CONFLICT)
            sov_log_warn("console of instance %s not opened: %s",
                         sov_console_stream_instance(b->cs),
                         err.detail[0] ? err.detail : err.msg);
        free(b);
        return;
    }
    sov_log_info("console of instance %s opened", sov_console_stream_instance(b->cs));
    extra = sov_upgraded_extra(u, &extra_len);
    if (extra_len > 0) {
        if (extra_len > sizeof(b->in))
            extra_len = sizeof(b->in);
        memcpy(b->in, extra, extra_len);
        b->in_len = extra_len;
        take_frames(b);
    }
    while (!b->closed) {
        struct pollfd pfd[3] = {
            { .fd = b->fd, .events = POLLIN },
            { .fd = sov_console_stream_fd(b->cs), .events = POLLIN },
            { .fd = sov_upgraded_wake_fd(u), .events = POLLIN },
        };
        int n = poll(pfd, 3, PING_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (n == 0) {
            send_frame(b, SOV_WS_PING, NULL, 0);
            b->closed = b->gone;
            continue;
        }
        if (pfd[2].revents) {
            close_with(b, SOV_WS_CLOSE_GOING_AWAY, "sovd is shutting down");
            break;
        }
        if (pfd[1].revents)
            from_console(b);
        if (!b->closed && pfd[0].revents)
            from_client(b);
    }
    free(b);
}
