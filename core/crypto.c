/* crypto.c: SHA-256, OS randomness and UUIDs through libcrypto. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <sys/random.h>

#include "sov/crypto.h"

void
sov_hex_encode(const void *data, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = data;

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 0xf];
    }
    out[2 * len] = '\0';
}

void
sov_sha256_hex(const void *data, size_t len, char out[SOV_SHA256_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    sov_hex_encode(md, mdlen < 32 ? mdlen : 32, out);
    out[SOV_SHA256_HEX_LEN] = '\0';
}

int
sov_random_bytes(void *buf, size_t n, sov_error *err)
{
    unsigned char *p = buf;
    size_t got = 0;

    /* getrandom() is the OS's CSPRNG; it blocks only before the pool is first seeded. */
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0)
            return sov_error_set(err, SOV_E_INTERNAL, "could not read random bytes");
        got += (size_t) r;
    }
    return 0;
}

int
sov_uuid_v4(char out[37], sov_error *err)
{
    unsigned char b[16];

    if (sov_random_bytes(b, sizeof(b), err) < 0)
        return -1;
    b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
    return 0;
}
