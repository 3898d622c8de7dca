/* console.c: sovctl instance console NAME --interactive: the serial console over the API's
 * WebSocket (GET /v1/instances/{id}/console/stream).
 *
 * Debian 12's libcurl (7.88) has no WebSocket support, so libcurl only connects (TLS too,
 * with the profile's CA and --insecure as every call) and this file speaks RFC 6455 over that
 * connection: the handshake, masked frames out, the server's frames in. On a terminal, the
 * terminal is raw while attached and Ctrl-] detaches; otherwise stdin is sent as it comes and,
 * once it ends, what the guest answers within a second is printed before detaching. What the
 * guest writes goes to stdout as it is: it is a terminal session. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define DETACH 0x1d                 /* Ctrl-] */
#define QUIET_MS 1000               /* after stdin's end: how long to wait for more output */

typedef struct wsconn {
    CURL *c;
    curl_socket_t fd;
    uint8_t in[70000];
    size_t in_len;
} wsconn;

static int
wait_fd(curl_socket_t fd, short events, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = events };

    return poll(&p, 1, timeout_ms);
}

static int
send_all(wsconn *w, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        size_t n = 0;
        CURLcode rc = curl_easy_send(w->c, p, len, &n);
        if (rc == CURLE_AGAIN) {
            if (wait_fd(w->fd, POLLOUT, 10000) <= 0)
                return -1;
            continue;
        }
        if (rc != CURLE_OK)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

/* More bytes from the server into w->in: 1, 0 at its end, -1 on an error, 2 for none yet. */
static int
recv_some(wsconn *w)
{
    size_t n = 0;
    CURLcode rc;

    if (w->in_len == sizeof(w->in))
        return -1;
    rc = curl_easy_recv(w->c, w->in + w->in_len, sizeof(w->in) - w->in_len, &n);
    if (rc == CURLE_AGAIN)
        return 2;
    if (rc != CURLE_OK)
        return -1;
    if (n == 0)
        return 0;
    w->in_len += n;
    return 1;
}

static int
send_frame(wsconn *w, unsigned opcode, const void *data, size_t len)
{
    uint8_t f[14 + 4096];
    uint8_t mask[4];
    size_t n = 0;

    if (len > 4096 || RAND_bytes(mask, 4) != 1)
        return -1;
    f[n++] = (uint8_t) (0x80 | opcode);
    if (len < 126) {
        f[n++] = (uint8_t) (0x80 | len);
    } else {
        f[n++] = 0x80 | 126;
        f[n++] = (uint8_t) (len >> 8);
        f[n++] = (uint8_t) len;
    }
    memcpy(f + n, mask, 4);
    n += 4;
    for (size_t i = 0; i < len; i++)
        f[n + i] = ((const uint8_t *) data)[i] ^ mask[i & 3];
    return send_all(w, f, n + len);
}

/* One whole server frame at the start of w->in: its size, 0 when more is needed. */
static size_t
frame_at(const wsconn *w, unsigned *opcode, const uint8_t **payload, size_t *len)
{
    size_t need = 2, plen;

    if (w->in_len < 2)
        return 0;
    plen = w->in[1] & 0x7F;
    if (plen == 126) {
        need = 4;
        if (w->in_len < need)
            return 0;
        plen = (size_t) w->in[2] << 8 | w->in[3];
    } else if (plen == 127) {
        need = 10;
        if (w->in_len < need)
            return 0;
        plen = 0;
        for (int i = 0; i < 8; i++)
            plen = plen << 8 | w->in[2 + i];
        if (plen > sizeof(w->in))
            return 0;
    }
    if (w->in_len - need < plen || w->in_len < need)
        return 0;
    *opcode = w->in[0] & 0x0F;
    *payload = w->in + need;
    *len = plen;
    return need + plen;
}

/* The handshake: 0 once switched; else the refusal said (its problem) and its exit code. */
static int
handshake(ctl_ctx *ctx, wsconn *w, const char *path)
{
    char req[4096], host[512] = "";
    const char *p = strstr(ctx->set.endpoint, "://");
    char *end;
    long deadline = 30000;

    unsigned char nonce[16], key[32];

    if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
        EVP_EncodeBlock(key, nonce, sizeof(nonce)) != 24)
        return ctl_fail(CTL_EXIT_CONN, "could not make a Sec-WebSocket-Key");
    snprintf(host, sizeof(host), "%s", p ? p + 3 : ctx->set.endpoint);
    host[strcspn(host, "/")] = '\0';
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
             "Authorization: Bearer %s\r\nUser-Agent: sovctl/" SOV_VERSION "\r\n\r\n",
             path, host, (const char *) key, ctx->set.token ? ctx->set.token : "");
    if (send_all(w, req, strlen(req)) < 0)
        return ctl_fail(CTL_EXIT_CONN, "could not send the console's handshake");
    for (;;) {
        int r;
        w->in[w->in_len < sizeof(w->in) ? w->in_len : sizeof(w->in) - 1] = '\0';
        if ((end = strstr((char *) w->in, "\r\n\r\n")))
            break;
        r = recv_some(w);
        if (r == 2) {
            if (deadline <= 0 || wait_fd(w->fd, POLLIN, 1000) < 0)
                return ctl_fail(CTL_EXIT_CONN, "no answer to the console's handshake");
            deadline -= 1000;
            continue;
        }
        if (r != 1)
            return ctl_fail(CTL_EXIT_CONN, "the connection ended during the handshake");
    }
    {
        size_t head = (size_t) (end - (char *) w->in) + 4;
        long status = 0;
        sscanf((char *) w->in, "HTTP/1.1 %ld", &status);
        if (status != 101) {
            /* A refusal: its problem+json, said as any other call's. */
            const char *cl = strcasestr((char *) w->in, "\r\nContent-Length:");
            size_t len = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
            ctl_resp r = { .status = status, .retry_after = -1 };
            int rc;
            while (w->in_len - head < len && len < sizeof(w->in) - head) {
                int got = recv_some(w);
                if (got == 2 && wait_fd(w->fd, POLLIN, 5000) > 0)
                    continue;
                if (got != 1)
                    break;
            }
            if (w->in_len - head < len)
                len = w->in_len - head;
            r.body = (char *) w->in + head;
            r.len = len;
            r.json = json_loadb(r.body, len, 0, NULL);
            rc = status >= 400 ? ctl_problem(ctx, &r)
                               : ctl_fail(CTL_EXIT_API, "the console answered %ld", status);
            json_decref(r.json);
            return rc;
        }
        memmove(w->in, w->in + head, w->in_len - head);
        w->in_len -= head;
    }
    return 0;
}

static struct termios saved_tio;
static bool raw_tty;

static void
tty_restore(void)
{
    if (raw_tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    raw_tty = false;
}

static void
tty_raw(void)
{
    struct termios t;

    if (tcgetattr(STDIN_FILENO, &saved_tio) != 0)
        return;
    t = saved_tio;
    cfmakeraw(&t);
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
        raw_tty = true;
}

/* Frames that came: data to stdout, ping answered; a close's code in *code (then 1). */
static int
take_frames(wsconn *w, int *code, char *reason, size_t size)
{
    unsigned op;
    const uint8_t *p;
    size_t len, n;

    while ((n = frame_at(w, &op, &p, &len)) > 0) {
        if (op == 0x0 || op == 0x1 || op == 0x2) {
            if (len > 0 && fwrite(p, 1, len, stdout) != len)
                return -1;
            fflush(stdout);
        } else if (op == 0x9) {
            send_frame(w, 0xA, p, len);
        } else if (op == 0x8) {
            *code = len >= 2 ? (int) (p[0] << 8 | p[1]) : 1005;
            snprintf(reason, size, "%.*s", len > 2 ? (int) (len - 2) : 0,
                     len > 2 ? (const char *) p + 2 : "");
            return 1;
        }
        memmove(w->in, w->in + n, w->in_len - n);
        w->in_len -= n;
    }
    return 0;
}

static int
attach(ctl_ctx *ctx, wsconn *w)
{
    bool tty = isatty(STDIN_FILENO), in_open = true;
    int code = 0, quiet = 0;
    char reason[128] = "";
    uint8_t buf[4096];

    if (tty) {
        fprintf(stderr, "sovctl: attached; Ctrl-] detaches\r\n");
        tty_raw();
    }
    while (code == 0) {
        struct pollfd pfd[2] = { { .fd = w->fd, .events = POLLIN },
                                 { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
        int r, n = poll(pfd, 2, in_open ? 30000 : 100);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || ctl_interrupted)
            break;
        if (n == 0 && !in_open && (quiet += 100) >= QUIET_MS)
            break;
        if (pfd[0].revents) {
            quiet = 0;
            r = recv_some(w);
            if (r == 0 || r < 0)
                break;
            if (take_frames(w, &code, reason, sizeof(reason)) < 0)
                break;
        }
        if (in_open && pfd[1].revents) {
            ssize_t got = read(STDIN_FILENO, buf, sizeof(buf));
            if (got <= 0) {
                in_open = false;
                continue;
            }
            if (tty && memchr(buf, DETACH, (size_t) got))
                break;
            if (send_frame(w, 0x2, buf, (size_t) got) < 0)
                break;
        }
    }
    tty_restore();
    if (code == 0) {
        uint8_t bye[2] = { 0x03, 0xe8 };
        send_frame(w, 0x8, bye, 2);
        if (tty)
            fprintf(stderr, "\nsovctl: detached\n");
        return 0;
    }
    if (code == 1000)
        return 0;
    if (code == 4409)
        return ctl_fail(CTL_EXIT_API, "%s%s", reason[0] ? reason : "another session holds "
                        "the console", strstr(reason, "force") ? "" : " (--force takes it over)");
    return ctl_fail(CTL_EXIT_API, "the console closed (%d): %s", code, reason);
}

int
ctl_cmd_instance_console(ctl_ctx *ctx)
{
    sov_autofree char *path = NULL, *url = NULL;
    wsconn *w;
    CURLcode rc;
    int ret;

    if (!ctl_switch(ctx, "interactive")) {
        if (ctl_switch(ctx, "force"))
            return ctl_usage_error(ctx, "--force goes with --interactive");
        return ctl_show(ctx);
    }
    if ((ret = ctl_expand_path(ctx, "/v1/instances/{id}/console/stream", &path)) != 0)
        return ret;
    if (ctl_switch(ctx, "force") && (ret = ctl_query_add(&path, "force", "true")) != 0)
        return ret;
    if ((ret = ctl_client_init(ctx)) != 0)
        return ret;
    {
        size_t e = strlen(ctx->set.endpoint), size = e + strlen(path) + 1;
        if (e > 0 && ctx->set.endpoint[e - 1] == '/')
            e--;
        if (!(url = malloc(size)))
            return ctl_fail(CTL_EXIT_CONN, "out of memory");
        snprintf(url, size, "%.*s%s", (int) e, ctx->set.endpoint, path);
    }
    if (!(w = calloc(1, sizeof(*w))))
        return ctl_fail(CTL_EXIT_CONN, "out of memory");
    /* A handle of its own: the shared one carries the last request's callbacks. The same
     * TLS trust as every call (client.c said --insecure already). */
    if (!(w->c = curl_easy_init())) {
        free(w);
        return ctl_fail(CTL_EXIT_CONN, "could not initialise libcurl");
    }
    curl_easy_setopt(w->c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(w->c, CURLOPT_CONNECTTIMEOUT, 10L);
    if (ctx->set.cacert)
        curl_easy_setopt(w->c, CURLOPT_CAINFO, ctx->set.cacert);
    if (ctx->set.insecure) {
        curl_easy_setopt(w->c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(w->c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_easy_setopt(w->c, CURLOPT_URL, url);
    curl_easy_setopt(w->c, CURLOPT_CONNECT_ONLY, 1L);
    rc = curl_easy_perform(w->c);
    if (rc == CURLE_OK)
        rc = curl_easy_getinfo(w->c, CURLINFO_ACTIVESOCKET, &w->fd);
    if (rc != CURLE_OK) {
        curl_easy_cleanup(w->c);
        free(w);
        return ctl_fail(CTL_EXIT_CONN, "could not connect to %s: %s", ctx->set.endpoint,
                        curl_easy_strerror(rc));
    }
    ret = handshake(ctx, w, path);
    if (ret == 0)
        ret = attach(ctx, w);
    curl_easy_cleanup(w->c);
    free(w);
    return ret;
}
