/* log.h: one JSON object per line on stderr.
 *
 * {"time":"2026-11-22T10:00:00.123Z","level":"info","msg":"...","request_id":"...",...}
 * The request id is per thread: the HTTP layer sets it while it handles a request, so every
 * line logged on its behalf carries it. Never log secrets, tokens or request bodies. */
#ifndef SOV_LOG_H
#define SOV_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum sov_log_level {
    SOV_LOG_DEBUG,
    SOV_LOG_INFO,
    SOV_LOG_WARN,
    SOV_LOG_ERROR,
} sov_log_level;

/* One structured field of a log line; build with the SOV_KV_* macros. */
typedef struct sov_log_kv {
    const char *key;
    char kind;              /* 's' string, 'i' integer, 'f' floating point */
    const char *s;
    long long i;
    double f;
} sov_log_kv;

#define SOV_KV_S(k, v) ((sov_log_kv){ .key = (k), .kind = 's', .s = (v) })
#define SOV_KV_I(k, v) ((sov_log_kv){ .key = (k), .kind = 'i', .i = (long long) (v) })
#define SOV_KV_F(k, v) ((sov_log_kv){ .key = (k), .kind = 'f', .f = (double) (v) })

void sov_log_set_level(sov_log_level level);
bool sov_log_enabled(sov_log_level level);
/* "debug", "info", "warn", "error" -> level; -1 when unknown. */
int sov_log_level_parse(const char *name);
/* Where lines go (stderr by default); for tests. */
void sov_log_set_stream(FILE *stream);

/* The request id that this thread's log lines carry; NULL clears it. Copied. */
void sov_log_set_request_id(const char *request_id);
const char *sov_log_get_request_id(void);

void sov_log(sov_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sov_log_kv_write(sov_log_level level, const char *msg, const sov_log_kv *kv, size_t n);

#define sov_log_debug(...) \
    do { if (sov_log_enabled(SOV_LOG_DEBUG)) sov_log(SOV_LOG_DEBUG, __VA_ARGS__); } while (0)
#define sov_log_info(...) sov_log(SOV_LOG_INFO, __VA_ARGS__)
#define sov_log_warn(...) sov_log(SOV_LOG_WARN, __VA_ARGS__)
#define sov_log_error(...) sov_log(SOV_LOG_ERROR, __VA_ARGS__)

/* Write s as a JSON string body (no quotes) into buf, NUL-terminated; returns the bytes
 * written. Stops before an escape or UTF-8 sequence that would not fit. */
size_t sov_json_escape(char *buf, size_t size, const char *s);

#endif
