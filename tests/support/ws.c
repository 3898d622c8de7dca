/* ws.c: the tests' WebSocket client (ws.h). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "ws.h"

/* Milliseconds of the monotonic clock (tl_now). */
static long
ms_now(void)
{
    return (long) (tl_now() * 1000);
}

/* More bytes into ws->in within the deadline: 1, 0 at the end, -1 on timeout. */
static int
fill(tl_ws *ws, long deadline)
{
    struct pollfd pfd = { .fd = ws->fd, .events = POLLIN };
    long left = deadline - ms_now();
    ssize_t n;

    if (left < 0)
        left = 0;
    if (poll(&pfd, 1, (int) left) <= 0)
        return -1;
    if (ws->in_cap - ws->in_len < 65536) {
        ws->in_cap = ws->in_cap * 2 + 65536;
        ws->in = realloc(ws->in, ws->in_cap);
        ck_assert_ptr_nonnull(ws->in);
    }
    n = recv(ws->fd, ws->in + ws->in_len, ws->in_cap - ws->in_len, 0);
    if (n <= 0)
        return 0;
    ws->in_len += (size_t) n;
    return 1;
}

static void
take(tl_ws *ws, size_t n)
{
    memmove(ws->in, ws->in + n, ws->in_len - n);
    ws->in_len -= n;
}

long
tl_ws_open(tl_ws *ws, unsigned port, const char *path, bool plain, const char *const *headers)
{
    return tl_ws_open_early(ws, port, path, plain, headers, NULL, 0);
}

long
tl_ws_open_early(tl_ws *ws, unsigned port, const char *path, bool plain,
                 const char *const *headers, const void *early, size_t early_len)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    char req[8192];
    size_t n = 0;
    long deadline = ms_now() + 30000;
    char *end = NULL;

    memset(ws, 0, sizeof(*ws));
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ws->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(ws->fd, 0);
    ck_assert_msg(connect(ws->fd, (struct sockaddr *) &sa, sizeof(sa)) == 0, "connect: %s",
                  strerror(errno));
    n += (size_t) snprintf(req + n, sizeof(req) - n, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n",
                           path, port);
    if (!plain)
        n += (size_t) snprintf(req + n, sizeof(req) - n,
                               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                               "Sec-WebSocket-Version: 13\r\n");
    for (size_t i = 0; headers && headers[i]; i++)
        n += (size_t) snprintf(req + n, sizeof(req) - n, "%s\r\n", headers[i]);
    n += (size_t) snprintf(req + n, sizeof(req) - n, "\r\n");
    ck_assert_uint_lt(n + early_len, sizeof(req));
    if (early_len > 0) {
        memcpy(req + n, early, early_len);
        n += early_len;
    }
    ck_assert_int_eq(tl_ws_send_raw(ws, req, n), 0);
    for (;;) {
        if (ws->in_len > 0) {
            ws->in[ws->in_len] = '\0';
            end = strstr((char *) ws->in, "\r\n\r\n");
            if (end)
                break;
        }
        ck_assert_msg(fill(ws, deadline) == 1, "no handshake answer from sovd");
        ck_assert_uint_lt(ws->in_len, ws->in_cap);
    }
    size_t head_len = (size_t) (end - (char *) ws->in) + 4;
    ws->head = strndup((char *) ws->in, head_len);
    ck_assert_int_eq(sscanf(ws->head, "HTTP/1.1 %ld", &ws->status), 1);
    take(ws, head_len);
    if (ws->status != 101) {
        char *cl = tl_ws_header(ws, "Content-Length");
        size_t len = cl ? strtoul(cl, NULL, 10) : 0;
        free(cl);
        while (ws->in_len < len)
            ck_assert_msg(fill(ws, deadline) == 1, "refusal's body cut short");
        ws->body = strndup((char *) ws->in, len);
        take(ws, len);
    }
    return ws->status;
}

char *
tl_ws_header(const tl_ws *ws, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = ws->head ? strstr(ws->head, "\r\n") : NULL; p && p[2];
         p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            return strndup(v, strcspn(v, "\r"));
        }
    }
    return NULL;
}

int
tl_ws_send_raw(tl_ws *ws, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = send(ws->fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

int
tl_ws_send(tl_ws *ws, unsigned opcode, bool fin, const void *data, size_t len)
{
    uint8_t *f = malloc(len + 14);
    const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
    size_t n = 0;
    int rc;

    ck_assert_ptr_nonnull(f);
    f[n++] = (uint8_t) ((fin ? 0x80 : 0) | (opcode & 0x0F));
    if (len < 126) {
        f[n++] = (uint8_t) (0x80 | len);
    } else if (len < 65536) {
        f[n++] = 0x80 | 126;
        f[n++] = (uint8_t) (len >> 8);
        f[n++] = (uint8_t) len;
    } else {
        f[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            f[n++] = (uint8_t) ((uint64_t) len >> (8 * i));
    }
    memcpy(f + n, mask, 4);
    n += 4;
    for (size_t i = 0; i < len; i++)
        f[n + i] = ((const uint8_t *) data)[i] ^ mask[i & 3];
    rc = tl_ws_send_raw(ws, f, n + len);
    free(f);
    return rc;
}

int
tl_ws_recv(tl_ws *ws, int timeout_ms, unsigned *opcode, char **payload, size_t *len)
{
    long deadline = ms_now() + timeout_ms;

    for (;;) {
        if (ws->in_len >= 2) {
            size_t need = 2, plen = ws->in[1] & 0x7F;
            ck_assert_msg(!(ws->in[1] & 0x80), "the server masked a frame");
            if (plen == 126) {
                need = 4;
                if (ws->in_len >= need)
                    plen = (size_t) ws->in[2] << 8 | ws->in[3];
            } else if (plen == 127) {
                need = 10;
                if (ws->in_len >= need) {
                    plen = 0;
                    for (int i = 0; i < 8; i++)
                        plen = plen << 8 | ws->in[2 + i];
                }
            }
            if (ws->in_len >= need && ws->in_len - need >= plen) {
                *opcode = ws->in[0] & 0x0F;
                *payload = malloc(plen + 1);
                ck_assert_ptr_nonnull(*payload);
                memcpy(*payload, ws->in + need, plen);
                (*payload)[plen] = '\0';
                *len = plen;
                take(ws, need + plen);
                return 0;
            }
        }
        if (fill(ws, deadline) != 1)
            return -1;
    }
}

bool
tl_ws_expect(tl_ws *ws, const char *text, int timeout_ms, unsigned *close_code)
{
    long deadline = ms_now() + timeout_ms;
    char *seen = calloc(1, 1);
    size_t seen_len = 0;
    bool found = false;

    while (!found) {
        unsigned op;
        char *p;
        size_t len;
        long left = deadline - ms_now();
        if (left <= 0 || tl_ws_recv(ws, (int) left, &op, &p, &len) < 0)
            break;
        if (op == 0x8) {
            if (close_code)
                *close_code = len >= 2 ? (unsigned) ((uint8_t) p[0] << 8 | (uint8_t) p[1]) : 0;
            free(p);
            break;
        }
        if (op == 0x9)
            tl_ws_send(ws, 0xA, true, p, len);
        if (op == 0x1 || op == 0x2 || op == 0x0) {
            seen = realloc(seen, seen_len + len + 1);
            memcpy(seen + seen_len, p, len);
            seen_len += len;
            seen[seen_len] = '\0';
            found = strstr(seen, text) != NULL;
        }
        free(p);
    }
    if (!found)
        fprintf(stderr, "ws: '%s' not seen in: %s\n", text, seen);
    free(seen);
    return found;
}

int
tl_ws_wait_close(tl_ws *ws, int timeout_ms, char *reason, size_t size)
{
    long deadline = ms_now() + timeout_ms;

    for (;;) {
        unsigned op;
        char *p;
        size_t len;
        long left = deadline - ms_now();
        if (left <= 0 || tl_ws_recv(ws, (int) left, &op, &p, &len) < 0)
            return -1;
        if (op == 0x8) {
            int code = len >= 2 ? ((uint8_t) p[0] << 8 | (uint8_t) p[1]) : 0;
            if (reason)
                snprintf(reason, size, "%s", len > 2 ? p + 2 : "");
            free(p);
            return code;
        }
        free(p);
    }
}

bool
tl_ws_eof(tl_ws *ws, int timeout_ms)
{
    long deadline = ms_now() + timeout_ms;

    for (;;) {
        int r;
        ws->in_len = 0;
        r = fill(ws, deadline);
        if (r == 0)
            return true;
        if (r < 0)
            return false;
    }
}

void
tl_ws_free(tl_ws *ws)
{
    if (ws->fd >= 0)
        close(ws->fd);
    ws->fd = -1;
    free(ws->head);
    free(ws->body);
    free(ws->in);
    ws->head = ws->body = NULL;
    ws->in = NULL;
}
