/* ws.h: a small blocking WebSocket client (RFC 6455) for tests: the handshake against sovd,
 * masked frames out, frames in, the close handshake. Frames may be sent raw, to test how the
 * server refuses what the protocol forbids. */
#ifndef SOV_TL_WS_H
#define SOV_TL_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tl_ws {
    int fd;
    long status;                /* the handshake's answer: 101, or a refusal's status */
    char *head;                 /* its header block */
    char *body;                 /* a refusal's body (problem+json) */
    uint8_t *in;                /* bytes read past what was handed out */
    size_t in_len, in_cap;
} tl_ws;

/* Connect to 127.0.0.1:port and send GET path with the headers of a WebSocket handshake
 * (Host, Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Version: 13) unless plain,
 * then the extra headers ("Name: value", NULL-terminated, may be NULL). Reads the answer's
 * head (and a refusal's body): returns ws->status. A transport failure fails the test. */
long tl_ws_open(tl_ws *ws, unsigned port, const char *path, bool plain,
                const char *const *headers);
/* The same, with bytes sent right after the request, before the answer (a client that
 * does not wait for the 101). */
long tl_ws_open_early(tl_ws *ws, unsigned port, const char *path, bool plain,
                      const char *const *headers, const void *early, size_t early_len);
/* A header of the answer (malloc), or NULL. */
char *tl_ws_header(const tl_ws *ws, const char *name);
/* Send one masked frame (FIN set unless fin is false). 0, or -1 when the socket failed. */
int tl_ws_send(tl_ws *ws, unsigned opcode, bool fin, const void *data, size_t len);
/* Send bytes as they are (a frame built by hand). */
int tl_ws_send_raw(tl_ws *ws, const void *data, size_t len);
/* The next frame within timeout_ms: 0 with its opcode and payload (malloc, NUL-terminated),
 * -1 on timeout or the connection's end. */
int tl_ws_recv(tl_ws *ws, int timeout_ms, unsigned *opcode, char **payload, size_t *len);
/* Read data frames until their bytes hold text (pings answered); true when seen within
 * timeout_ms. A close frame ends the wait: its code in *close_code when not NULL. */
bool tl_ws_expect(tl_ws *ws, const char *text, int timeout_ms, unsigned *close_code);
/* Read frames until a close frame: its code (0 for one without a code), with the reason in
 * reason; -1 when none came within timeout_ms. Data frames are skipped. */
int tl_ws_wait_close(tl_ws *ws, int timeout_ms, char *reason, size_t size);
/* Whether the server closed the TCP connection within timeout_ms (after a close). */
bool tl_ws_eof(tl_ws *ws, int timeout_ms);
void tl_ws_free(tl_ws *ws);

#endif
