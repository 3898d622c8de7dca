/* buf.h: a growable byte buffer for building text (metrics, documents). */
#ifndef SOV_BUF_H
#define SOV_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sov_buf {
    char *data;         /* always NUL-terminated once anything was appended */
    size_t len, cap;
    bool oom;           /* an append failed; the content is incomplete */
} sov_buf;

#define SOV_BUF_INIT { NULL, 0, 0, false }

void sov_buf_append(sov_buf *b, const void *data, size_t len);
void sov_buf_puts(sov_buf *b, const char *s);
void sov_buf_printf(sov_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the bytes to the caller (who frees them) and reset the buffer. */
char *sov_buf_steal(sov_buf *b, size_t *ret_len);
void sov_buf_release(sov_buf *b);

/* s as XML character data or an attribute value in either quotes: & < > ' " as entities.
 * The one XML escaper (libvirt's domain, network, pool and volume documents). */
void sov_buf_xml_escaped(sov_buf *b, const char *s);

/* PostgreSQL text[] literals, the one encoder for array parameters ('$n::text[]'): every
 * element double-quoted, '"' and '\\' backslash-escaped, so any text (commas, braces,
 * quotes, spaces, unicode, the empty string) comes back as it went in; a NULL element is
 * NULL. sov_buf_pg_array appends n elements of items; _strided takes n strings stored
 * stride bytes apart from first (a char x[N][M] array). */
void sov_buf_pg_array(sov_buf *b, const char *const *items, size_t n);
void sov_buf_pg_array_strided(sov_buf *b, const char *first, size_t n, size_t stride);
/* The same into a fixed buffer, always terminated when size > 0: returns the length the
 * literal needs, as snprintf does (>= size: it did not fit and was cut). */
size_t sov_pg_array_format(char *buf, size_t size, const char *first, size_t n,
                           size_t stride);

#endif
