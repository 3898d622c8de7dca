/* log.c: JSON lines on stderr, one write per line so concurrent threads never interleave. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sov/log.h"

static _Atomic int min_level = SOV_LOG_INFO;
static FILE *stream;
static pthread_mutex_t stream_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local char request_id[80];

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
sov_log_set_level(sov_log_level level)
{
    atomic_store(&min_level, (int) level);
}

bool
sov_log_enabled(sov_log_level level)
{
    return (int) level >= atomic_load(&min_level);
}

int
sov_log_level_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
        if (strcmp(name, level_names[i]) == 0)
            return (int) i;
    return -1;
}

void
sov_log_set_stream(FILE *s)
{
    pthread_mutex_lock(&stream_lock);
    stream = s;
    pthread_mutex_unlock(&stream_lock);
}

void
sov_log_set_request_id(const char *id)
{
    snprintf(request_id, sizeof(request_id), "%s", id ? id : "");
}

const char *
sov_log_get_request_id(void)
{
    return request_id[0] ? request_id : NULL;
}

size_t
sov_json_escape(char *buf, size_t size, const char *s)
{
    size_t n = 0;

    if (size == 0)
        return 0;
    /* Whole escapes and whole UTF-8 sequences only: a truncated line stays valid JSON. */
    for (const unsigned char *p = (const unsigned char *) s; *p;) {
        char chunk[8];
        size_t clen = 0, step = 1;
        unsigned char c = *p;

        if (c == '"' || c == '\\') {
            chunk[0] = '\\';
            chunk[1] = (char) c;
            clen = 2;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            chunk[0] = '\\';
            chunk[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
            clen = 2;
        } else if (c < 0x20 || c == 0x7f) {
            clen = (size_t) snprintf(chunk, sizeof(chunk), "\\u%04x", c);
        } else if (c < 0x80) {
            chunk[0] = (char) c;
            clen = 1;
        } else {
            step = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
            for (size_t i = 1; i < step; i++)
                if ((p[i] & 0xc0) != 0x80)
                    step = 1;
            if (step == 1) {
                /* Not UTF-8: say so rather than write bytes a JSON reader would refuse. */
                clen = (size_t) snprintf(chunk, sizeof(chunk), "\\ufffd");
            } else {
                memcpy(chunk, p, step);
                clen = step;
            }
        }
        if (n + clen >= size)
            break;
        memcpy(buf + n, chunk, clen);
        n += clen;
        p += step;
    }
    buf[n] = '\0';
    return n;
}

/* A log line under construction. Room for the closing "}\n" and NUL is always kept, and a
 * field is written whole or not at all, so even a truncated line is valid JSON. */
typedef struct line {
    char buf[8192];
    size_t len;
} line;

#define TAIL 3

static bool
line_raw(line *l, const char *s)
{
    size_t n = strlen(s);

    if (l->len + n + TAIL > sizeof(l->buf))
        return false;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    return true;
}

/* A string value, cut short (at a whole character) past 2 KiB or when the line is nearly
 * full: a huge message must not crowd out the request id and fields after it. */
#define VALUE_MAX 2048

static bool
line_str(line *l, const char *s)
{
    if (l->len + 2 + TAIL > sizeof(l->buf) || !line_raw(l, "\""))
        return false;
    size_t room = sizeof(l->buf) - l->len - TAIL - 1;     /* 1 for the closing quote */
    if (room > VALUE_MAX)
        room = VALUE_MAX;
    l->len += sov_json_escape(l->buf + l->len, room + 1, s ? s : "");
    return line_raw(l, "\"");
}

static bool
line_field(line *l, const sov_log_kv *kv)
{
    size_t save = l->len;
    char num[64];
    bool ok = line_raw(l, ",") && line_str(l, kv->key) && line_raw(l, ":");

    if (ok) {
        switch (kv->kind) {
        case 'i':
            snprintf(num, sizeof(num), "%lld", kv->i);
            ok = line_raw(l, num);
            break;
        case 'f':
            snprintf(num, sizeof(num), "%.3f", kv->f);
            ok = line_raw(l, num);
            break;
        default:
            ok = line_str(l, kv->s);
            break;
        }
    }
    if (!ok)
        l->len = save;
    return ok;
}

static void
write_line(sov_log_level level, const char *msg, const sov_log_kv *kv, size_t n)
{
    line l = { .len = 0 };
    struct timespec ts;
    struct tm tm;
    char head[128];
    FILE *out;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(head, sizeof(head),
             "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\",\"msg\":",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ts.tv_nsec / 1000000, level_names[level]);
    line_raw(&l, head);
    line_str(&l, msg);
    if (request_id[0]) {
        sov_log_kv rid = SOV_KV_S("request_id", request_id);
        line_field(&l, &rid);
    }
    for (size_t i = 0; i < n; i++)
        if (!line_field(&l, &kv[i]))
            break;
    l.buf[l.len++] = '}';
    l.buf[l.len++] = '\n';

    pthread_mutex_lock(&stream_lock);
    out = stream ? stream : stderr;
    fwrite(l.buf, 1, l.len, out);
    fflush(out);
    pthread_mutex_unlock(&stream_lock);
}

void
sov_log(sov_log_level level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    if (!sov_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    write_line(level, msg, NULL, 0);
}

void
sov_log_kv_write(sov_log_level level, const char *msg, const sov_log_kv *kv, size_t n)
{
    if (!sov_log_enabled(level))
        return;
    write_line(level, msg, kv, n);
}
