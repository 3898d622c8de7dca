/* image_fetch.c: bytes into the image store, and what they are.
 *
 * Downloads run with libcurl into a sink that hashes (libcrypto's EVP SHA-256) and counts as
 * it writes, so a file is read once and an oversized one is cut off as soon as it passes the
 * limit. Only http and https are fetched (file too when the configuration allows it, for
 * local mirrors and tests); redirects may lead to http and https only, never to a local file.
 * qemu-img runs with posix_spawn, never through a shell, on paths sovd made itself, under a
 * time limit. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "image_fetch.h"
#include "sov/crypto.h"
#include "sov/log.h"

#define MAX_REDIRECTS 5L
#define CONNECT_TIMEOUT_S 30L
/* A transfer slower than this for that long is given up (and retried by the queue). */
#define LOW_SPEED_BYTES 1024L
#define LOW_SPEED_TIME_S 60L
#define QEMU_IMG_TIMEOUT_S 30
#define QEMU_IMG_OUTPUT_MAX 65536

/* ---- the sink ---- */

int
sov_image_sink_open(image_sink *s, const char *path, unsigned long max, sov_error *err)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->max = max;
    s->md = EVP_MD_CTX_new();
    if (!s->md || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
        sov_image_sink_release(s);
        return sov_error_set(err, SOV_E_INTERNAL, "could not start a SHA-256 digest");
    }
    s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (s->fd < 0) {
        int e = errno;
        sov_image_sink_release(s);
        sov_error_set(err, SOV_E_INTERNAL, "could not write to the image store");
        return sov_error_detail(err, "open %s: %s", path, strerror(e));
    }
    return 0;
}

int
sov_image_sink_write(image_sink *s, const void *data, size_t len, sov_error *err)
{
    const char *p = data;

    if (s->too_large || (unsigned long long) s->size + len > s->max) {
        s->too_large = true;
        return sov_error_set(err, SOV_E_INVALID, "image is larger than %lu bytes, the limit",
                             s->max);
    }
    if (EVP_DigestUpdate(s->md, data, len) != 1)
        return sov_error_set(err, SOV_E_INTERNAL, "could not hash the image");
    while (len > 0) {
        ssize_t w = write(s->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            sov_error_set(err, SOV_E_INTERNAL, "could not write to the image store");
            return sov_error_detail(err, "write: %s", strerror(errno));
        }
        p += w;
        len -= (size_t) w;
        s->size += w;
    }
    return 0;
}

int
sov_image_sink_finish(image_sink *s, char sha256[65], long long *ret_size, sov_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (fsync(s->fd) < 0) {
        sov_error_set(err, SOV_E_INTERNAL, "could not write to the image store");
        return sov_error_detail(err, "fsync: %s", strerror(errno));
    }
    if (close(s->fd) < 0) {
        s->fd = -1;
        sov_error_set(err, SOV_E_INTERNAL, "could not write to the image store");
        return sov_error_detail(err, "close: %s", strerror(errno));
    }
    s->fd = -1;
    if (EVP_DigestFinal_ex(s->md, md, &n) != 1 || n != 32)
        return sov_error_set(err, SOV_E_INTERNAL, "could not hash the image");
    sov_hex_encode(md, n, sha256);
    *ret_size = s->size;
    sov_image_sink_release(s);
    return 0;
}

void
sov_image_sink_release(image_sink *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    EVP_MD_CTX_free(s->md);
    s->md = NULL;
}

/* ---- internal addresses: where downloads may not connect ---- */

/* What kind of internal address an IPv4 address (host order) is; NULL for a public one. */
static const char *
internal_v4(uint32_t a)
{
    static const struct {
        uint32_t net, mask;
        const char *kind;
    } nets[] = {
        { 0x00000000, 0xff000000, "unspecified" },      /* 0.0.0.0/8 */
        { 0x0a000000, 0xff000000, "private" },          /* 10/8 */
        { 0x64400000, 0xffc00000, "shared (carrier NAT)" },     /* 100.64/10 */
        { 0x7f000000, 0xff000000, "loopback" },         /* 127/8 */
        { 0xa9fe0000, 0xffff0000, "link-local" },       /* 169.254/16, metadata services */
        { 0xac100000, 0xfff00000, "private" },          /* 172.16/12 */
        { 0xc0000000, 0xffffff00, "reserved" },         /* 192.0.0/24 */
        { 0xc0a80000, 0xffff0000, "private" },          /* 192.168/16 */
        { 0xc6120000, 0xfffe0000, "benchmarking" },     /* 198.18/15 */
        { 0xe0000000, 0xf0000000, "multicast" },        /* 224/4 */
        { 0xf0000000, 0xf0000000, "reserved" },         /* 240/4, broadcast */
    };

    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
        if ((a & nets[i].mask) == nets[i].net)
            return nets[i].kind;
    return NULL;
}

static const char *
internal_v6(const unsigned char b[16])
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const unsigned char zero[15] = { 0 };

    /* An IPv4 address in IPv6 clothes is judged as the IPv4 address. */
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return internal_v4((uint32_t) b[12] << 24 | (uint32_t) b[13] << 16 |
                           (uint32_t) b[14] << 8 | b[15]);
    if (memcmp(b, zero, 15) == 0)
        return b[15] == 1 ? "loopback" : b[15] == 0 ? "unspecified" : "reserved";
    if ((b[0] & 0xfe) == 0xfc)
        return "private";                               /* fc00::/7 */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return "link-local";                            /* fe80::/10 */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return "site-local";                            /* fec0::/10 */
    if (b[0] == 0xff)
        return "multicast";
    return NULL;
}

/* The kind of internal address an http(s) URL's host is, when it is a literal address
 * (rest: what follows "scheme://"); NULL for a name or a public address. */
static const char *
literal_internal(const char *rest)
{
    size_t auth = strcspn(rest, "/?#");
    const char *at = memchr(rest, '@', auth), *host = at ? at + 1 : rest;
    char text[INET6_ADDRSTRLEN + 2];
    size_t n;
    struct in_addr v4;
    struct in6_addr v6;

    if (*host == '[') {
        n = strcspn(host + 1, "]/?#");
        if (host[1 + n] != ']' || n >= sizeof(text))
            return NULL;
        memcpy(text, host + 1, n);
        text[n] = '\0';
        return inet_pton(AF_INET6, text, &v6) == 1 ? internal_v6(v6.s6_addr) : NULL;
    }
    n = strcspn(host, ":/?#");
    if (n >= sizeof(text))
        return NULL;
    memcpy(text, host, n);
    text[n] = '\0';
    return inet_pton(AF_INET, text, &v4) == 1 ? internal_v4(ntohl(v4.s_addr)) : NULL;
}

/* ---- URLs ---- */

int
sov_image_fetch_check_url(const sov_config *cfg, const char *url, const char *field,
                          sov_error *err)
{
    size_t n = strlen(url);
    const char *rest;

    if (n == 0)
        return sov_error_invalid(err, field, "%s must be a URL", field);
    if (n > IMAGE_URL_MAX)
        return sov_error_invalid(err, field, "%s must be at most %d characters", field,
                                 IMAGE_URL_MAX);
    for (const unsigned char *p = (const unsigned char *) url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return sov_error_invalid(err, field,
                                     "%s must not contain spaces or control characters",
                                     field);
    if (strncasecmp(url, "file://", 7) == 0) {
        if (!cfg->image_allow_file_urls)
            return sov_error_invalid(err, field, "%s: file:// URLs are not allowed here; use "
                                                 "http:// or https://, or create the image "
                                                 "without %s and upload the file with "
                                                 "PUT /v1/images/{id}/file", field, field);
        if (url[7] != '/')
            return sov_error_invalid(err, field, "%s: a file:// URL must name an absolute "
                                                 "path (file:///...)", field);
        return 0;
    }
    if (strncasecmp(url, "http://", 7) == 0)
        rest = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        rest = url + 8;
    else
        return sov_error_invalid(err, field, "%s must be an http:// or https:// URL%s", field,
                                 cfg->image_allow_file_urls ? " (or file://)" : "");
    if (!*rest || *rest == '/' || *rest == '?' || *rest == '#')
        return sov_error_invalid(err, field, "%s must name a host", field);
    if (!cfg->image_allow_private_urls) {
        const char *kind = literal_internal(rest);
        if (kind)
            return sov_error_invalid(err, field, "%s names a %s address; sovd fetches images "
                                                 "from public addresses only", field, kind);
    }
    return 0;
}

/* ---- download ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

SOV_DEFINE_AUTOPTR(CURL, curl_easy_cleanup)

typedef struct transfer {
    image_sink *sink;
    sov_error *err;             /* the first failure of a callback */
    bool failed;
    image_progress_fn progress;
    void *progress_arg;
    bool allow_internal;        /* image_allow_private_urls */
    char refused[INET6_ADDRSTRLEN + 32];    /* "127.0.0.1 (loopback)": a connection refused */
} transfer;

/* libcurl asks for each socket it connects (the first address, every redirect, every
 * retry): the check sees the address really used, after DNS, so a name that resolves or a
 * redirect that leads inside is refused the same way. */
static curl_socket_t
on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    transfer *t = arg;
    const char *kind = NULL;
    char text[INET6_ADDRSTRLEN] = "?";

    (void) purpose;
    if (a->family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) &a->addr;
        kind = internal_v4(ntohl(in->sin_addr.s_addr));
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    } else if (a->family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) &a->addr;
        kind = internal_v6(in6->sin6_addr.s6_addr);
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    } else {
        kind = "not an IP address";
    }
    if (kind && !t->allow_internal) {
        snprintf(t->refused, sizeof(t->refused), "%s (%s)", text, kind);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

void
sov_image_source_shown(const char *url, char *out, size_t size)
{
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end ? scheme_end + 3 : url;
    size_t auth_end = strcspn(host, "/?#");
    const char *at = memchr(host, '@', auth_end);
    size_t path_len;

    if (at)
        host = at + 1;
    path_len = strcspn(host, "?#");
    snprintf(out, size, "%.*s%.*s%s", (int) (scheme_end ? scheme_end + 3 - url : 0), url,
             (int) path_len, host, host[path_len] ? "?..." : "");
}

static size_t
on_data(char *data, size_t size, size_t nmemb, void *arg)
{
    transfer *t = arg;
    size_t len = size * nmemb;

    if (sov_image_sink_write(t->sink, data, len, t->err) < 0) {
        t->failed = true;
        return 0;               /* libcurl stops with CURLE_WRITE_ERROR */
    }
    return len;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
            curl_off_t ulnow)
{
    transfer *t = arg;

    if (!t->progress)
        return 0;
    if (t->progress(t->progress_arg, (long long) dlnow, (long long) dltotal, t->err) != 0) {
        t->failed = true;
        return 1;
    }
    return 0;
}

/* A libcurl failure as the queue sees it: the network having a bad moment is worth a retry,
 * a source that says no (or cannot be what we want) is not. */
static sov_errcode
classify(CURLcode rc, long http_status)
{
    if (rc == CURLE_HTTP_RETURNED_ERROR)
        return http_status >= 500 || http_status == 408 || http_status == 429
                   ? SOV_E_UNAVAILABLE
                   : SOV_E_INVALID;
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_AGAIN:
        return SOV_E_UNAVAILABLE;
    default:
        return SOV_E_INVALID;
    }
}

int
sov_image_fetch_url(const sov_config *cfg, const char *url, image_sink *s,
                    image_progress_fn progress, void *progress_arg, sov_error *err)
{
    sov_autoptr(CURL) curl = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    transfer t = { s, err, false, progress, progress_arg, cfg->image_allow_private_urls, "" };
    char shown[IMAGE_URL_MAX + 8];
    long status = 0;
    CURLcode rc;

    pthread_once(&curl_once, curl_init_once);
    curl = curl_easy_init();
    if (!curl)
        return sov_error_set(err, SOV_E_INTERNAL, "could not start a download");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR,
                     cfg->image_allow_file_urls ? "http,https,file" : "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) s->max);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "sovd/" SOV_VERSION);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &t);
    /* The address check must see the source itself, never a proxy from the environment. */
    curl_easy_setopt(curl, CURLOPT_PROXY, "");

    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        return 0;
    if (t.failed)
        return -1;              /* the sink or the progress callback said why */
    if (rc == CURLE_FILESIZE_EXCEEDED) {
        s->too_large = true;
        return sov_error_set(err, SOV_E_INVALID, "image is larger than %lu bytes, the limit",
                             s->max);
    }
    sov_image_source_shown(url, shown, sizeof(shown));
    if (t.refused[0] && rc == CURLE_COULDNT_CONNECT) {
        /* Not the network having a bad moment: retrying would be refused the same way. */
        sov_error_set(err, SOV_E_INVALID, "could not download '%.120s': its address %s is "
                      "internal; sovd fetches images from public addresses only", shown,
                      t.refused);
        return sov_error_detail(err, "image_allow_private_urls is off");
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_HTTP_RETURNED_ERROR)
        sov_error_set(err, classify(rc, status), "could not download '%.120s': HTTP %ld",
                      shown, status);
    else
        sov_error_set(err, classify(rc, status), "could not download '%.120s': %s", shown,
                      curl_easy_strerror(rc));
    /* libcurl's words name hosts and ports, not the URL's user or query: the detail. */
    return sov_error_detail(err, "libcurl: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

/* ---- qemu-img ---- */

/* Skip a JSON string starting at the quote *p; returns the character after its end quote. */
static const char *
skip_string(const char *p)
{
    for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1])
            p++;
    return *p ? p + 1 : p;
}

static const char *
skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* The value of a member of the outermost JSON object (nested objects' members are not
 * looked at), copied as written: a string without its quotes, a number's digits. */
static bool
json_top_member(const char *js, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    int depth = 0;

    for (const char *p = js; *p;) {
        if (*p == '{' || *p == '[') {
            depth++;
            p++;
        } else if (*p == '}' || *p == ']') {
            depth--;
            p++;
        } else if (*p == '"') {
            const char *start = p + 1, *end = skip_string(p);
            const char *q = skip_space(end);
            bool match = depth == 1 && *q == ':' && (size_t) (end - 1 - start) == klen &&
                         strncmp(start, key, klen) == 0;
            p = end;
            if (!match)
                continue;
            q = skip_space(q + 1);
            if (*q == '"') {
                const char *vend = skip_string(q);
                snprintf(out, size, "%.*s", (int) (vend - q - 2 > 0 ? vend - q - 2 : 0), q + 1);
            } else {
                size_t n = strcspn(q, ",}] \t\r\n");
                snprintf(out, size, "%.*s", (int) n, q);
            }
            return true;
        } else {
            p++;
        }
    }
    return false;
}

/* Read everything from fds (stdout, stderr) until both close or the deadline passes. */
static int
read_all(int fds[2], char *out, size_t out_size, char *errout, size_t err_size,
         const struct timespec *deadline)
{
    size_t lens[2] = { 0, 0 };
    char *bufs[2] = { out, errout };
    size_t sizes[2] = { out_size, err_size };
    bool open_[2] = { true, true };

    while (open_[0] || open_[1]) {
        struct pollfd p[2];
        struct timespec now;
        nfds_t n = 0;
        int idx[2];
        long ms;

        clock_gettime(CLOCK_MONOTONIC, &now);
        ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
        if (ms <= 0)
            return -1;
        for (int i = 0; i < 2; i++)
            if (open_[i]) {
                p[n].fd = fds[i];
                p[n].events = POLLIN;
                idx[n++] = i;
            }
        int rc = poll(p, n, (int) ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return -1;
        for (nfds_t j = 0; j < n; j++) {
            int i = idx[j];
            char chunk[4096];
            if (!(p[j].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = read(fds[i], chunk, sizeof(chunk));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                open_[i] = false;
                continue;
            }
            size_t take = (size_t) r;
            if (lens[i] + take >= sizes[i])
                take = sizes[i] - 1 - lens[i];
            memcpy(bufs[i] + lens[i], chunk, take);
            lens[i] += take;
            bufs[i][lens[i]] = '\0';
        }
    }
    return 0;
}

/* Run qemu-img info on path; its JSON into out, its complaints into errout. */
static int
run_qemu_img(const char *path, char *out, size_t out_size, char *errout, size_t err_size,
             sov_error *err)
{
    char *const argv[] = { "qemu-img", "info", "--output=json", (char *) path, NULL };
    posix_spawn_file_actions_t fa;
    int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
    int fds[2], status = 0, rc;
    struct timespec deadline;
    pid_t pid;

    out[0] = errout[0] = '\0';
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        sov_error_set(err, SOV_E_INTERNAL, "could not check the image format");
        sov_error_detail(err, "pipe: %s", strerror(errno));
        goto fail;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    rc = posix_spawnp(&pid, "qemu-img", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(outp[1]);
    close(errp[1]);
    outp[1] = errp[1] = -1;
    if (rc != 0) {
        sov_error_set(err, SOV_E_INTERNAL, "could not check the image format");
        sov_error_detail(err, "could not run qemu-img: %s", strerror(rc));
        goto fail;
    }
    fds[0] = outp[0];
    fds[1] = errp[0];
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += QEMU_IMG_TIMEOUT_S;
    if (read_all(fds, out, out_size, errout, err_size, &deadline) < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        sov_error_set(err, SOV_E_INVALID, "the image could not be read in %d s",
                      QEMU_IMG_TIMEOUT_S);
        sov_error_detail(err, "qemu-img info %s timed out", path);
        goto fail;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    close(outp[0]);
    close(errp[0]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        sov_error_set(err, SOV_E_INVALID, "the image is not a disk image qemu-img can read");
        return sov_error_detail(err, "qemu-img info: %.400s", errout);
    }
    return 0;

fail:
    for (int i = 0; i < 2; i++) {
        if (outp[i] >= 0)
            close(outp[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    return -1;
}

static int
image_fetch_inspect(const char *path, image_info *ret, sov_error *err)
{
    sov_autofree char *out = malloc(QEMU_IMG_OUTPUT_MAX);
    char errout[1024], vsize[32] = "", backing[8];
    char *end = NULL;

    if (!out)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (run_qemu_img(path, out, QEMU_IMG_OUTPUT_MAX, errout, sizeof(errout), err) < 0)
        return -1;
    memset(ret, 0, sizeof(*ret));
    if (!json_top_member(out, "format", ret->format, sizeof(ret->format)) ||
        !json_top_member(out, "virtual-size", vsize, sizeof(vsize))) {
        sov_error_set(err, SOV_E_INTERNAL, "could not check the image format");
        return sov_error_detail(err, "unexpected qemu-img output: %.300s", out);
    }
    ret->virtual_size = strtoll(vsize, &end, 10);
    if (!*vsize || *end || ret->virtual_size <= 0)
        return sov_error_set(err, SOV_E_INVALID, "the image has no usable virtual size");
    /* An image naming another file would read that file's bytes on a host. */
    if (json_top_member(out, "backing-filename", backing, sizeof(backing)) ||
        json_top_member(out, "full-backing-filename", backing, sizeof(backing)))
        return sov_error_set(err, SOV_E_INVALID, "images with a backing file are not accepted");
    if (strstr(out, "\"data-file\""))
        return sov_error_set(err, SOV_E_INVALID,
                             "images with an external data file are not accepted");
    return 0;
}

int
sov_image_fetch_verify(const char *path, const char *format, const char *expected_sha256,
                       const char *sha256, image_info *ret, sov_error *err)
{
    if (expected_sha256[0] && strcmp(expected_sha256, sha256) != 0)
        return sov_error_set(err, SOV_E_INVALID, "sha256 mismatch: expected %s, got %s",
                             expected_sha256, sha256);
    if (image_fetch_inspect(path, ret, err) < 0)
        return -1;
    if (strcmp(ret->format, format) != 0)
        return sov_error_set(err, SOV_E_INVALID,
                             "format mismatch: declared %s, qemu-img finds %s", format,
                             ret->format);
    return 0;
}

/* ---- the store ---- */

static int
make_dir(const char *path, sov_error *err)
{
    if (mkdir(path, 0750) < 0 && errno != EEXIST) {
        sov_error_set(err, SOV_E_INTERNAL, "could not prepare the image store");
        return sov_error_detail(err, "mkdir %s: %s", path, strerror(errno));
    }
    return 0;
}

int
sov_image_fetch_store_dir(const sov_config *cfg, const char *region, sov_error *err)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", cfg->image_store, region);

    if (n < 0 || (size_t) n >= sizeof(path))
        return sov_error_set(err, SOV_E_INTERNAL, "image store path too long");
    /* Every missing parent of the store, then the region's folder. */
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = make_dir(path, err);
        *p = '/';
        if (rc < 0)
            return -1;
    }
    return make_dir(path, err);
}

void
sov_image_fetch_unlink(const char *path)
{
    if (unlink(path) < 0 && errno != ENOENT)
        sov_log_warn("could not remove '%s', leaving it: %s", path, strerror(errno));
}

int
sov_image_file_sha256(const char *path, char sha256[65], long long *ret_size, sov_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char buf[256 * 1024];
    long long size = 0;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    EVP_MD_CTX *ctx;

    if (fd < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not read '%s': %s", path,
                             strerror(errno));
    ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        close(fd);
        return sov_error_set(err, SOV_E_INTERNAL, "could not start a SHA-256 digest");
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0 && EVP_DigestUpdate(ctx, buf, (size_t) n) == 1)
        size += n;
    close(fd);
    if (n != 0 || EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != 32) {
        EVP_MD_CTX_free(ctx);
        return sov_error_set(err, SOV_E_INTERNAL, "could not hash '%s'", path);
    }
    EVP_MD_CTX_free(ctx);
    sov_hex_encode(md, len, sha256);
    *ret_size = size;
    return 0;
}
