/* RFC 6455's handshake and framing (api/websocket.c), as pure functions: the accept key of
 * the RFC's own example, key and header checks, the subprotocol bearer, frames of every
 * length form, masking, fragments, and each frame the protocol forbids with its close code. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "websocket.h"

static const uint8_t MASK[4] = { 0x11, 0x22, 0x33, 0x44 };

/* A client frame (masked unless masked is false) of len payload bytes into out; its size. */
static size_t
frame(uint8_t *out, unsigned first_byte, const void *payload, size_t len, bool masked)
{
    size_t n = 0;

    out[n++] = (uint8_t) first_byte;
    if (len < 126) {
        out[n++] = (uint8_t) ((masked ? 0x80 : 0) | len);
    } else if (len < 65536) {
        out[n++] = (uint8_t) ((masked ? 0x80 : 0) | 126);
        out[n++] = (uint8_t) (len >> 8);
        out[n++] = (uint8_t) len;
    } else {
        out[n++] = (uint8_t) ((masked ? 0x80 : 0) | 127);
        for (int i = 7; i >= 0; i--)
            out[n++] = (uint8_t) ((uint64_t) len >> (8 * i));
    }
    if (masked) {
        memcpy(out + n, MASK, 4);
        n += 4;
    }
    for (size_t i = 0; i < len; i++)
        out[n + i] = ((const uint8_t *) payload)[i] ^ (masked ? MASK[i & 3] : 0);
    return n + len;
}

START_TEST(accept_key_is_the_rfc_example)
{
    char out[SOV_WS_ACCEPT_LEN + 1];

    ck_assert_int_eq(sov_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
    ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
END_TEST

START_TEST(keys_must_be_16_bytes_of_base64)
{
    ck_assert(sov_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=="));
    ck_assert(!sov_ws_key_valid(NULL));
    ck_assert(!sov_ws_key_valid(""));
    ck_assert(!sov_ws_key_valid("short"));
    ck_assert(!sov_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ="));
    ck_assert(!sov_ws_key_valid("dGhlIHNhbXBsZSBub25jZ!=="));
    ck_assert(!sov_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ==x"));
}
END_TEST

START_TEST(header_tokens_and_the_bearer_subprotocol)
{
    char tok[64];

    ck_assert(sov_ws_header_has("keep-alive, Upgrade", "upgrade"));
    ck_assert(sov_ws_header_has("WebSocket", "websocket"));
    ck_assert(!sov_ws_header_has("upgraded", "upgrade"));
    ck_assert(!sov_ws_header_has(NULL, "upgrade"));
    ck_assert(sov_ws_header_has(" sov.console.v1 ,sov.bearer.x", "sov.console.v1"));
    ck_assert(sov_ws_bearer("sov.console.v1, sov.bearer.sov_abc123", tok, sizeof(tok)));
    ck_assert_str_eq(tok, "sov_abc123");
    ck_assert(!sov_ws_bearer("sov.console.v1", tok, sizeof(tok)));
    ck_assert(!sov_ws_bearer("sov.bearer.", tok, sizeof(tok)));
    ck_assert(!sov_ws_bearer(NULL, tok, sizeof(tok)));
    /* Too long for the buffer: none, never a cut token. */
    ck_assert(!sov_ws_bearer("sov.bearer.0123456789", tok, 8));
}
END_TEST

START_TEST(frames_of_each_length_form_decode_and_unmask)
{
    static const size_t lens[] = { 0, 5, 125, 126, 65535, 65536, 70000 };
    sov_ws_reader r = { .max_payload = 1u << 20 };

    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        uint8_t *payload = malloc(lens[k] + 1), *buf = malloc(lens[k] + 14);
        sov_ws_frame f;
        unsigned code = 0;
        size_t n;

        for (size_t i = 0; i < lens[k]; i++)
            payload[i] = (uint8_t) (i * 7);
        n = frame(buf, 0x82, payload, lens[k], true);
        /* Every prefix is "need more", the whole frame decodes. */
        for (size_t cut = 0; cut < n; cut += (n > 300 ? 97 : 1))
            ck_assert_int_eq(sov_ws_decode(&r, buf, cut, &f, &code), 0);
        ck_assert_int_eq(sov_ws_decode(&r, buf, n, &f, &code), (long) n);
        ck_assert_uint_eq(f.opcode, SOV_WS_BINARY);
        ck_assert(f.fin);
        ck_assert_uint_eq(f.len, lens[k]);
        ck_assert(lens[k] == 0 || memcmp(f.payload, payload, lens[k]) == 0);
        free(payload);
        free(buf);
    }
}
END_TEST

START_TEST(fragments_follow_the_rules)
{
    sov_ws_reader r = { .max_payload = 1024 };
    uint8_t buf[64];
    sov_ws_frame f;
    unsigned code = 0;
    size_t n;

    /* text (no FIN), ping in between, continuation with FIN */
    n = frame(buf, 0x01, "he", 2, true);
    ck_assert_int_eq(sov_ws_decode(&r, buf, n, &f, &code), (long) n);
    ck_assert(!f.fin);
    n = frame(buf, 0x89, "p", 1, true);
    ck_assert_int_eq(sov_ws_decode(&r, buf, n, &f, &code), (long) n);
    ck_assert_uint_eq(f.opcode, SOV_WS_PING);
    /* a new data message inside one: 1002 */
    {
        sov_ws_reader r2 = r;
        n = frame(buf, 0x82, "x", 1, true);
        ck_assert_int_eq(sov_ws_decode(&r2, buf, n, &f, &code), -1);
        ck_assert_uint_eq(code, SOV_WS_CLOSE_PROTOCOL);
    }
    n = frame(buf, 0x80, "llo", 3, true);
    ck_assert_int_eq(sov_ws_decode(&r, buf, n, &f, &code), (long) n);
    ck_assert_uint_eq(f.opcode, SOV_WS_CONT);
    ck_assert(f.fin);
    ck_assert(!r.in_message);
    /* a continuation outside a message: 1002 */
    n = frame(buf, 0x80, "x", 1, true);
    ck_assert_int_eq(sov_ws_decode(&r, buf, n, &f, &code), -1);
    ck_assert_uint_eq(code, SOV_WS_CLOSE_PROTOCOL);
}
END_TEST

START_TEST(forbidden_frames_have_their_close_code)
{
    sov_ws_reader r = { .max_payload = 100 };
    uint8_t buf[512], big[200] = { 0 };
    sov_ws_frame f;
    unsigned code;
    size_t n;
    static const struct {
        unsigned first;
        size_t len;
        bool masked;
        unsigned want;
    } bad[] = {
        { 0x82, 3, false, SOV_WS_CLOSE_PROTOCOL },      /* unmasked */
        { 0xC2, 3, true, SOV_WS_CLOSE_PROTOCOL },       /* RSV1 */
        { 0x83, 3, true, SOV_WS_CLOSE_PROTOCOL },       /* reserved opcode */
        { 0x8B, 0, true, SOV_WS_CLOSE_PROTOCOL },       /* reserved control opcode */
        { 0x09, 1, true, SOV_WS_CLOSE_PROTOCOL },       /* fragmented ping */
        { 0x89, 126, true, SOV_WS_CLOSE_PROTOCOL },     /* control over 125 bytes */
        { 0x82, 101, true, SOV_WS_CLOSE_TOO_BIG },      /* over max_payload */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = frame(buf, bad[i].first, big, bad[i].len, bad[i].masked);
        code = 0;
        ck_assert_msg(sov_ws_decode(&r, buf, n, &f, &code) == -1, "case %zu decoded", i);
        ck_assert_uint_eq(code, bad[i].want);
    }
    /* A length not in its shortest form, and a 64-bit one with the top bit set. */
    {
        uint8_t nonminimal[] = { 0x82, 0xFE, 0x00, 0x05, 1, 2, 3, 4, 0, 0, 0, 0, 0 };
        uint8_t huge[] = { 0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 };
        ck_assert_int_eq(sov_ws_decode(&r, nonminimal, sizeof(nonminimal), &f, &code), -1);
        ck_assert_uint_eq(code, SOV_WS_CLOSE_PROTOCOL);
        ck_assert_int_eq(sov_ws_decode(&r, huge, sizeof(huge), &f, &code), -1);
        ck_assert_uint_eq(code, SOV_WS_CLOSE_PROTOCOL);
    }
    /* Too big is known from the header alone, before the payload comes. */
    {
        uint8_t hdr[] = { 0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0 };
        ck_assert_int_eq(sov_ws_decode(&r, hdr, sizeof(hdr), &f, &code), -1);
        ck_assert_uint_eq(code, SOV_WS_CLOSE_TOO_BIG);
    }
}
END_TEST

START_TEST(server_frames_and_close_payloads)
{
    uint8_t hdr[10], p[125];
    char reason[200];

    ck_assert_uint_eq(sov_ws_header(hdr, SOV_WS_BINARY, 5), 2);
    ck_assert_uint_eq(hdr[0], 0x82);
    ck_assert_uint_eq(hdr[1], 5);
    ck_assert_uint_eq(sov_ws_header(hdr, SOV_WS_TEXT, 300), 4);
    ck_assert_uint_eq(hdr[1], 126);
    ck_assert_uint_eq(hdr[2] << 8 | hdr[3], 300);
    ck_assert_uint_eq(sov_ws_header(hdr, SOV_WS_BINARY, 70000), 10);
    ck_assert_uint_eq(hdr[1], 127);
    ck_assert_uint_eq((unsigned) hdr[7] << 16 | (unsigned) hdr[8] << 8 | hdr[9], 70000);
    ck_assert_uint_eq(sov_ws_close_payload(p, 4409, "taken over"), 12);
    ck_assert_uint_eq(p[0] << 8 | p[1], 4409);
    ck_assert_int_eq(memcmp(p + 2, "taken over", 10), 0);
    memset(reason, 'r', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    ck_assert_uint_eq(sov_ws_close_payload(p, 1000, reason), 125);
    ck_assert_uint_eq(sov_ws_close_payload(p, 1001, NULL), 2);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/websocket");
    TCase *tc = tcase_create("websocket");

    tcase_add_test(tc, accept_key_is_the_rfc_example);
    tcase_add_test(tc, keys_must_be_16_bytes_of_base64);
    tcase_add_test(tc, header_tokens_and_the_bearer_subprotocol);
    tcase_add_test(tc, frames_of_each_length_form_decode_and_unmask);
    tcase_add_test(tc, fragments_follow_the_rules);
    tcase_add_test(tc, forbidden_frames_have_their_close_code);
    tcase_add_test(tc, server_frames_and_close_payloads);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
