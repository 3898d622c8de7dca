/* websocket.c: RFC 6455's handshake and framing, pure (websocket.h). OpenSSL gives SHA-1 and
 * base64 for Sec-WebSocket-Accept. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "websocket.h"

static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool
sov_ws_key_valid(const char *key)
{
    unsigned char raw[20];

    if (!key || strlen(key) != 24 || key[22] != '=' || key[23] != '=')
        return false;
    for (size_t i = 0; i < 22; i++)
        if (!isalnum((unsigned char) key[i]) && key[i] != '+' && key[i] != '/')
            return false;
    /* 24 base64 characters ending "==" are 16 bytes. */
    return EVP_DecodeBlock(raw, (const unsigned char *) key, 24) == 18;
}

int
sov_ws_accept(const char *key, char out[SOV_WS_ACCEPT_LEN + 1])
{
    unsigned char digest[SHA_DIGEST_LENGTH];
    char buf[128];
    size_t n = strlen(key);

    if (n + sizeof(GUID) > sizeof(buf))
        return -1;
    memcpy(buf, key, n);
    memcpy(buf + n, GUID, sizeof(GUID) - 1);
    if (!EVP_Digest(buf, n + sizeof(GUID) - 1, digest, NULL, EVP_sha1(), NULL))
        return -1;
    return EVP_EncodeBlock((unsigned char *) out, digest, SHA_DIGEST_LENGTH) ==
           SOV_WS_ACCEPT_LEN ? 0 : -1;
}

/* The next comma-separated item of *p (spaces trimmed): its start and length. */
static bool
next_item(const char **p, const char **item, size_t *len)
{
    const char *s = *p, *e;

    while (*s == ' ' || *s == '\t' || *s == ',')
        s++;
    if (!*s)
        return false;
    e = s + strcspn(s, ",");
    *p = e;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *item = s;
    *len = (size_t) (e - s);
    return true;
}

bool
sov_ws_header_has(const char *value, const char *token)
{
    const char *p = value, *item;
    size_t len, n = strlen(token);

    if (!value)
        return false;
    while (next_item(&p, &item, &len))
        if (len == n && strncasecmp(item, token, n) == 0)
            return true;
    return false;
}

bool
sov_ws_bearer(const char *protocols, char *out, size_t size)
{
    static const char prefix[] = "sov.bearer.";
    const char *p = protocols, *item;
    size_t len, n = sizeof(prefix) - 1;

    if (!protocols)
        return false;
    while (next_item(&p, &item, &len))
        if (len > n && strncmp(item, prefix, n) == 0) {
            if (len - n >= size)
                return false;
            memcpy(out, item + n, len - n);
            out[len - n] = '\0';
            return true;
        }
    return false;
}

long
sov_ws_decode(sov_ws_reader *r, uint8_t *buf, size_t len, sov_ws_frame *f,
              unsigned *close_code)
{
    size_t need = 2, plen;
    unsigned opcode;
    bool fin, control;
    uint8_t *mask;

    if (len < 2)
        return 0;
    fin = (buf[0] & 0x80) != 0;
    opcode = buf[0] & 0x0F;
    control = (opcode & 0x8) != 0;
    *close_code = SOV_WS_CLOSE_PROTOCOL;
    if (buf[0] & 0x70)
        return -1;                  /* reserved bits: no extension was agreed */
    if (opcode != SOV_WS_CONT && opcode != SOV_WS_TEXT && opcode != SOV_WS_BINARY &&
        opcode != SOV_WS_CLOSE && opcode != SOV_WS_PING && opcode != SOV_WS_PONG)
        return -1;
    if (!(buf[1] & 0x80))
        return -1;                  /* a client's frames are masked (section 5.1) */
    plen = buf[1] & 0x7F;
    if (control && (!fin || plen > 125))
        return -1;                  /* control frames are whole and small (section 5.5) */
    if (plen == 126) {
        need += 2;
        if (len < need)
            return 0;
        plen = (size_t) buf[2] << 8 | buf[3];
        if (plen < 126)
            return -1;              /* not the shortest form */
    } else if (plen == 127) {
        uint64_t v = 0;
        need += 8;
        if (len < need)
            return 0;
        for (int i = 0; i < 8; i++)
            v = v << 8 | buf[2 + i];
        if (v >> 63 || v < 65536)
            return -1;
        if (v > r->max_payload) {
            *close_code = SOV_WS_CLOSE_TOO_BIG;
            return -1;
        }
        plen = (size_t) v;
    }
    if (plen > r->max_payload) {
        *close_code = SOV_WS_CLOSE_TOO_BIG;
        return -1;
    }
    /* Fragments: a continuation only inside a message, a new message only outside one. */
    if (opcode == SOV_WS_CONT && !r->in_message)
        return -1;
    if ((opcode == SOV_WS_TEXT || opcode == SOV_WS_BINARY) && r->in_message)
        return -1;
    mask = buf + need;
    need += 4;
    if (len < need || len - need < plen)
        return 0;
    for (size_t i = 0; i < plen; i++)
        buf[need + i] ^= mask[i & 3];
    if (!control)
        r->in_message = !fin;
    f->opcode = opcode;
    f->fin = fin;
    f->payload = buf + need;
    f->len = plen;
    return (long) (need + plen);
}

size_t
sov_ws_header(uint8_t *hdr, unsigned opcode, size_t len)
{
    hdr[0] = (uint8_t) (0x80 | (opcode & 0x0F));
    if (len < 126) {
        hdr[1] = (uint8_t) len;
        return 2;
    }
    if (len < 65536) {
        hdr[1] = 126;
        hdr[2] = (uint8_t) (len >> 8);
        hdr[3] = (uint8_t) len;
        return 4;
    }
    hdr[1] = 127;
    for (int i = 0; i < 8; i++)
        hdr[2 + i] = (uint8_t) ((uint64_t) len >> (56 - 8 * i));
    return 10;
}

size_t
sov_ws_close_payload(uint8_t *out, unsigned code, const char *reason)
{
    size_t n = reason ? strlen(reason) : 0;

    if (n > 123)
        n = 123;
    out[0] = (uint8_t) (code >> 8);
    out[1] = (uint8_t) code;
    if (n > 0)
        memcpy(out + 2, reason, n);
    return n + 2;
}
