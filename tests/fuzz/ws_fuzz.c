/* ws_fuzz.c: libFuzzer over RFC 6455's frame decoder and handshake helpers (api/websocket.c),
 * the part of the console stream that reads bytes a client chose. The input is decoded as a
 * stream of frames, as the bridge does (a small payload limit, so 1009 is reached too); its
 * first line is also tried as a key, a header value and a subprotocol list. Nothing may read
 * outside the buffer, loop, or accept a frame the reader then describes wrongly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "websocket.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc, (void) argv;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sov_ws_reader r = { .max_payload = 4096 };
    uint8_t *buf = malloc(size ? size : 1);
    char line[256], out[SOV_WS_ACCEPT_LEN + 1], tok[64];
    size_t off = 0, n = 0;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    while (off < size) {
        sov_ws_frame f;
        unsigned code = 0;
        long used = sov_ws_decode(&r, buf + off, size - off, &f, &code);
        if (used <= 0) {
            if (used < 0 && code != SOV_WS_CLOSE_PROTOCOL && code != SOV_WS_CLOSE_TOO_BIG)
                abort();
            break;
        }
        if ((size_t) used > size - off || f.len > r.max_payload ||
            f.payload + f.len != buf + off + (size_t) used)
            abort();
        off += (size_t) used;
    }
    free(buf);

    while (n < size && n < sizeof(line) - 1 && data[n] != '\n' && data[n] != '\0') {
        line[n] = (char) data[n];
        n++;
    }
    line[n] = '\0';
    if (sov_ws_key_valid(line) && sov_ws_accept(line, out) != 0)
        abort();
    (void) sov_ws_header_has(line, "upgrade");
    if (sov_ws_bearer(line, tok, sizeof(tok)) && strlen(tok) >= sizeof(tok))
        abort();
    return 0;
}
