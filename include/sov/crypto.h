/* crypto.h: hashing and randomness from OpenSSL's libcrypto, in one place. */
#ifndef SOV_CRYPTO_H
#define SOV_CRYPTO_H

#include <stddef.h>

#include "sov/error.h"

#define SOV_SHA256_HEX_LEN 64

/* Lower-case hex of len bytes into out (2 * len + 1 bytes with the NUL): the one hex encoder. */
void sov_hex_encode(const void *data, size_t len, char *out);

/* Hex SHA-256 of data into out (65 bytes with the NUL). */
void sov_sha256_hex(const void *data, size_t len, char out[SOV_SHA256_HEX_LEN + 1]);

/* n bytes from the OS's random source. */
int sov_random_bytes(void *buf, size_t n, sov_error *err);

/* A random (version 4) UUID in its 36-character text form. */
int sov_uuid_v4(char out[37], sov_error *err);

#endif
