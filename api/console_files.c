/* console_files.c: the web console's built files (config console_dir, web/dist), at /console/.
 *
 * Files are read on demand, so a rebuild needs no restart. A path is walked one segment at a
 * time with openat(O_NOFOLLOW) from the folder: no segment may be empty, start with a dot
 * ("..", hidden files) or hold a backslash or a control byte, no symlink is followed, and
 * only a regular file is served. libmicrohttpd hands us the path percent-decoded, so "%2e%2e"
 * arrives as ".." and is refused like it.
 *
 * Caching: hashed files under assets/ never change (a year, immutable); everything else,
 * index.html above all, is revalidated each time (no-cache) with its ETag. A path with no
 * extension that is not a file is a client-side route (/console/instances/ID): index.html
 * answers it. "name.gz" beside a file (web/scripts/compress.mjs writes them) is sent instead,
 * with Content-Encoding: gzip, to a client that accepts gzip.
 *
 * Every answer under these paths, problems included, carries the console's security headers:
 * a Content-Security-Policy that allows no inline script, nosniff, no referrer, no framing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "sov/log.h"

/* connect-src 'self' covers the serial console's WebSocket (ws: to the same host and port,
 * in browsers that follow CSP Level 3). style-src allows no inline style. */
#define CONSOLE_CSP                                                                       \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "      \
    "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; "            \
    "frame-ancestors 'none'"

#define PREFIX "/console/"
#define MAX_SEGMENTS 16

static const struct ctype {
    const char *ext, *type;
} ctypes[] = {
    { "html", "text/html; charset=utf-8" },
    { "js", "text/javascript; charset=utf-8" },
    { "mjs", "text/javascript; charset=utf-8" },
    { "css", "text/css; charset=utf-8" },
    { "json", "application/json" },
    { "map", "application/json" },
    { "webmanifest", "application/manifest+json" },
    { "svg", "image/svg+xml" },
    { "png", "image/png" },
    { "jpg", "image/jpeg" },
    { "ico", "image/x-icon" },
    { "webp", "image/webp" },
    { "woff2", "font/woff2" },
    { "woff", "font/woff" },
    { "txt", "text/plain; charset=utf-8" },
    { "wasm", "application/wasm" },
};

bool
sov_console_path(const char *path)
{
    return strcmp(path, "/") == 0 || strcmp(path, "/console") == 0 ||
           strncmp(path, PREFIX, strlen(PREFIX)) == 0;
}

static void
add_security_headers(sov_request *req)
{
    sov_request_add_header(req, "Content-Security-Policy", CONSOLE_CSP);
    sov_request_add_header(req, "Referrer-Policy", "no-referrer");
    sov_request_add_header(req, "X-Frame-Options", "DENY");
}

static const char *
extension(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash + 1 : name, '.');

    return dot ? dot + 1 : NULL;
}

static const char *
content_type(const char *name)
{
    const char *ext = extension(name);

    for (size_t i = 0; ext && i < SOV_N_ELEMENTS(ctypes); i++)
        if (strcasecmp(ext, ctypes[i].ext) == 0)
            return ctypes[i].type;
    return "application/octet-stream";
}

/* A relative path we are willing to look up: segments of visible characters, none empty,
 * none starting with a dot. */
static bool
safe_relative(const char *rel)
{
    size_t nseg = 1;

    if (rel[0] == '\0' || rel[0] == '.' || rel[0] == '/')
        return false;
    for (const char *p = rel; *p; p++) {
        unsigned char c = (unsigned char) *p;
        if (c < 0x20 || c == 0x7f || c == '\\')
            return false;
        if (c == '/') {
            if (p[1] == '\0' || p[1] == '/' || p[1] == '.' || ++nseg > MAX_SEGMENTS)
                return false;
        }
    }
    return true;
}

/* Open rel under the folder dirfd, following no symlink: an fd of a regular file, or -1. */
static int
open_beneath(int dirfd, const char *rel, struct stat *st)
{
    char buf[1024];
    char *seg, *save = NULL;
    int fd = dup(dirfd);

    if (fd < 0 || snprintf(buf, sizeof(buf), "%s", rel) >= (int) sizeof(buf)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    seg = strtok_r(buf, "/", &save);
    while (seg) {
        char *next = strtok_r(NULL, "/", &save);
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (next ? O_DIRECTORY : O_NONBLOCK);
        int child = openat(fd, seg, flags);
        close(fd);
        if (child < 0)
            return -1;
        fd = child;
        seg = next;
    }
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool
accepts_gzip(sov_request *req)
{
    const char *ae = sov_request_header(req, "Accept-Encoding");
    const char *g, *q;

    if (!ae || !(g = strcasestr(ae, "gzip")))
        return false;
    g += 4;
    while (*g == ' ')
        g++;
    /* "gzip;q=0" refuses it */
    if (*g == ';' && (q = strstr(g, "q=")) && q < g + strcspn(g, ","))
        return strtod(q + 2, NULL) > 0;
    return true;
}

/* Whether If-None-Match names etag (or is "*"). */
static bool
etag_matches(const char *inm, const char *etag)
{
    size_t n = strlen(etag);

    if (!inm)
        return false;
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

static enum MHD_Result
not_found(sov_request *req, const char *detail)
{
    return sov_api_reply_status(req, SOV_EDGE_NOT_FOUND, detail);
}

/* Send the file fd (taken) that stands for rel, or 304 when the client has it already;
 * gz: it is rel's gzip variant. */
static enum MHD_Result
send_file(sov_request *req, const char *rel, int fd, const struct stat *st, bool gz)
{
    struct MHD_Response *resp;
    char etag[96];
    bool immutable = strncmp(rel, "assets/", 7) == 0;
    bool unchanged;

    snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx%s\"", (unsigned long long) st->st_ino,
             (unsigned long long) st->st_size,
             (unsigned long long) st->st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long) st->st_mtim.tv_nsec,
             gz ? "-gz" : "");
    unchanged = etag_matches(sov_request_header(req, "If-None-Match"), etag);
    if (unchanged) {
        close(fd);
        resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_fd((size_t) st->st_size, fd);  /* closes fd */
    }
    if (!resp) {
        if (!unchanged)
            close(fd);      /* not taken: libmicrohttpd closes it only with the response */
        return MHD_NO;
    }
    MHD_add_response_header(resp, "ETag", etag);
    MHD_add_response_header(resp, "Cache-Control", immutable
                                                       ? "public, max-age=31536000, immutable"
                                                       : "no-cache");
    MHD_add_response_header(resp, "Vary", "Accept-Encoding");
    if (unchanged)
        return sov_api_reply_response(req, 304, NULL, resp, 0);
    if (gz)
        MHD_add_response_header(resp, "Content-Encoding", "gzip");
    return sov_api_reply_response(req, 200, content_type(rel), resp, (size_t) st->st_size);
}

/* rel, its .gz variant for a client that takes one, or -1. */
static int
open_variant(sov_request *req, int dirfd, const char *rel, struct stat *st, bool *gz)
{
    char gzname[1024];
    int fd;

    *gz = false;
    if (accepts_gzip(req) &&
        snprintf(gzname, sizeof(gzname), "%s.gz", rel) < (int) sizeof(gzname)) {
        fd = open_beneath(dirfd, gzname, st);
        if (fd >= 0) {
            /* only a variant as fresh as its file: a stale one would serve an old build */
            struct stat plain;
            int pfd = open_beneath(dirfd, rel, &plain);
            if (pfd >= 0) {
                close(pfd);
                if (st->st_mtim.tv_sec >= plain.st_mtim.tv_sec) {
                    *gz = true;
                    return fd;
                }
            }
            close(fd);
        }
    }
    return open_beneath(dirfd, rel, st);
}

static enum MHD_Result
redirect(sov_request *req, unsigned status)
{
    sov_request_add_header(req, "Location", PREFIX);
    return sov_api_reply_bytes(req, status, "text/plain; charset=utf-8",
                               "see /console/\n", strlen("see /console/\n"));
}

enum MHD_Result
sov_console_reply(sov_request *req)
{
    const sov_config *cfg = req->ctx.cfg;
    const char *path = req->path;
    const char *rel;
    struct stat st;
    enum MHD_Result r;
    bool gz;
    int dirfd, fd;

    add_security_headers(req);
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        char detail[96];
        snprintf(detail, sizeof(detail), "%.16s is not allowed here; allowed: GET, HEAD",
                 req->method);
        sov_request_add_header(req, "Allow", "GET, HEAD");
        return sov_api_reply_status(req, SOV_EDGE_METHOD_NOT_ALLOWED, detail);
    }
    if (strcmp(path, "/") == 0)
        return redirect(req, 302);
    if (strcmp(path, "/console") == 0)
        return redirect(req, 301);
    if (!cfg || !cfg->console_dir || cfg->console_dir[0] == '\0')
        return not_found(req, "the web console is not served: build it (cd web && npm ci && "
                              "npm run build) and start sovd with --console-dir web/dist");
    dirfd = open(cfg->console_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        sov_log_warn("could not open console_dir '%s': %s", cfg->console_dir, strerror(errno));
        return not_found(req, "the web console is not built: run npm ci && npm run build in "
                              "web/ (console_dir is missing)");
    }
    rel = path + strlen(PREFIX);
    if (rel[0] == '\0')
        rel = "index.html";
    if (!safe_relative(rel)) {
        close(dirfd);
        return not_found(req, "no such file in the console");
    }
    fd = open_variant(req, dirfd, rel, &st, &gz);
    if (fd < 0 && !extension(rel)) {
        rel = "index.html";     /* a client-side route */
        fd = open_variant(req, dirfd, rel, &st, &gz);
    }
    close(dirfd);
    if (fd < 0)
        return not_found(req, strcmp(rel, "index.html") == 0
                                  ? "the web console is not built: console_dir has no "
                                    "index.html (run npm ci && npm run build in web/)"
                                  : "no such file in the console");
    r = send_file(req, rel, fd, &st, gz);
    return r;
}
