/* image_fetch.h: getting an image's bytes into the store and finding out what they are
 * (private to compute/).
 *
 * A sink writes a file while hashing it (SHA-256) and counting it against a size limit; the
 * download (libcurl) and the direct upload both write through one. image_fetch_inspect asks
 * qemu-img what a file is. Errors follow the operations queue's rules: what retrying may cure
 * (a refused connection, a timeout, HTTP 5xx) is SOV_E_UNAVAILABLE, what it cannot (HTTP 4xx,
 * a file too large, a wrong format or checksum) is SOV_E_INVALID. */
#ifndef SOV_IMAGE_FETCH_H
#define SOV_IMAGE_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "sov/compute.h"

#define IMAGE_URL_MAX 2000

typedef struct image_sink {
    int fd;
    void *md;                   /* EVP_MD_CTX */
    long long size;
    unsigned long max;
    bool too_large;
} image_sink;

/* Create (or truncate) path, mode 0640, taking at most max bytes. */
int sov_image_sink_open(image_sink *s, const char *path, unsigned long max, sov_error *err);
/* Append; more than max in all is SOV_E_INVALID and sets too_large. */
int sov_image_sink_write(image_sink *s, const void *data, size_t len, sov_error *err);
/* fsync and close; the SHA-256 of everything written (lower-case hex) and its size. */
int sov_image_sink_finish(image_sink *s, char sha256[65], long long *ret_size, sov_error *err);
/* Close without finishing (the file stays: the caller removes it). No-op after finish. */
void sov_image_sink_release(image_sink *s);

/* Whether the URL's scheme is one sovd fetches (http, https, and file when allowed), with
 * SOV_E_INVALID naming field. */
int sov_image_fetch_check_url(const sov_config *cfg, const char *url, const char *field,
                              sov_error *err);

/* Called now and then while bytes come in (and renewing the operation's lease); nonzero
 * aborts the download, with err filled. */
typedef int (*image_progress_fn)(void *arg, long long now, long long total, sov_error *err);

/* Download url into the sink s (opened by the caller). Redirects (at most 5) may lead to
 * http and https only. */
int sov_image_fetch_url(const sov_config *cfg, const char *url, image_sink *s,
                        image_progress_fn progress, void *progress_arg, sov_error *err);

/* What qemu-img finds in a file. */
typedef struct image_info {
    char format[16];
    long long virtual_size;
} image_info;

/* Run `qemu-img info --output=json` on path (no shell). A file that points at another one
 * (a backing file, an external data file) is refused: its bytes would not be its own. */

/* Check a finished file against what the image declared: format (and expected_sha256 when
 * not ""), given the computed sha256. SOV_E_INVALID with the mismatch. */
int sov_image_fetch_verify(const char *path, const char *format, const char *expected_sha256,
                           const char *sha256, image_info *ret, sov_error *err);

/* The SHA-256 (lower-case hex) and size of a file written by someone else (an image made
 * from a volume). */
int sov_image_file_sha256(const char *path, char sha256[65], long long *ret_size,
                          sov_error *err);

/* Make <image_store>/<region> (mode 0750 for what is created). */
int sov_image_fetch_store_dir(const sov_config *cfg, const char *region, sov_error *err);

/* Remove a file; one already gone is fine. */
void sov_image_fetch_unlink(const char *path);

#endif
