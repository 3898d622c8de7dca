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

#endif
