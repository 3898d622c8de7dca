/* websocket.h: RFC 6455 (version 13) for api/: the handshake's checks and answer, and the
 * framing, as pure functions (no I/O), so tests and fuzzers drive them with bytes alone.
 *
 * Frames from a client must be masked; a server's are not. A data message may come in
 * fragments: the reader hands each data frame's payload on as it comes (a console is a byte
 * stream, so no message is reassembled), and checks that fragments follow the rules. */
#ifndef SOV_API_WEBSOCKET_H
#define SOV_API_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOV_WS_ACCEPT_LEN 28        /* base64 of a SHA-1 */

enum {
    SOV_WS_CONT = 0x0,
    SOV_WS_TEXT = 0x1,
    SOV_WS_BINARY = 0x2,
    SOV_WS_CLOSE = 0x8,
    SOV_WS_PING = 0x9,
    SOV_WS_PONG = 0xA,
};

/* Close codes (RFC 6455 section 7.4, and ours in the 4000 range). */
enum {
    SOV_WS_CLOSE_NORMAL = 1000,
    SOV_WS_CLOSE_GOING_AWAY = 1001,
    SOV_WS_CLOSE_PROTOCOL = 1002,
    SOV_WS_CLOSE_TOO_BIG = 1009,
    SOV_WS_CLOSE_INTERNAL = 1011,
    SOV_WS_CLOSE_BUSY = 4409,       /* another session holds the console, or took it over */
};

/* A Sec-WebSocket-Key as RFC 6455 wants it: base64 of 16 bytes (24 characters). */
bool sov_ws_key_valid(const char *key);
/* Sec-WebSocket-Accept for key: base64(SHA-1(key + GUID)), NUL-terminated. 0 or -1. */
int sov_ws_accept(const char *key, char out[SOV_WS_ACCEPT_LEN + 1]);
/* Whether a comma-separated header value (Connection, Upgrade, Sec-WebSocket-Protocol)
 * holds token, compared without case; NULL holds nothing. */
bool sov_ws_header_has(const char *value, const char *token);
/* The bearer token carried as the subprotocol "sov.bearer.<token>" in a
 * Sec-WebSocket-Protocol value, copied into out; false when there is none (or it is too
 * long). */
bool sov_ws_bearer(const char *protocols, char *out, size_t size);

/* One frame decoded from a client. */
typedef struct sov_ws_frame {
    unsigned opcode;
    bool fin;
    uint8_t *payload;               /* unmasked in place, inside the buffer given */
    size_t len;
} sov_ws_frame;

/* The reader's state across frames: whether a fragmented data message is open. */
typedef struct sov_ws_reader {
    size_t max_payload;             /* a larger frame is refused (1009) */
    bool in_message;                /* a data frame without FIN came, continuations follow */
} sov_ws_reader;

/* Decode one frame at the start of buf (len bytes; buf is written: the payload is unmasked
 * in place). Returns the bytes the frame took (> 0) with *f filled, 0 when more bytes are
 * needed, or -1 on a frame the protocol forbids, with *close_code the code to close with
 * (1002 protocol error, 1009 too big). */
long sov_ws_decode(sov_ws_reader *r, uint8_t *buf, size_t len, sov_ws_frame *f,
                   unsigned *close_code);
/* A server frame's header for a payload of len bytes (unmasked, FIN set) into hdr (at least
 * 10 bytes); returns its length. */
size_t sov_ws_header(uint8_t *hdr, unsigned opcode, size_t len);
/* A close frame's payload (code, then a reason cut to fit 123 bytes) into out (125 bytes);
 * returns its length. */
size_t sov_ws_close_payload(uint8_t *out, unsigned code, const char *reason);

#endif
