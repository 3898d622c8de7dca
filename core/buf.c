/* buf.c: growable text buffer; an allocation failure is remembered, never fatal. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/buf.h"

static bool
reserve(sov_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1, cap = b->cap ? b->cap : 256;
    char *p;

    if (b->oom)
        return false;
    if (need <= b->cap)
        return true;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void
sov_buf_append(sov_buf *b, const void *data, size_t len)
{
    if (!reserve(b, len))
        return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void
sov_buf_puts(sov_buf *b, const char *s)
{
    sov_buf_append(b, s, strlen(s));
}

void
sov_buf_printf(sov_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t) n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t) n;
}

char *
sov_buf_steal(sov_buf *b, size_t *ret_len)
{
    char *p = b->data;

    if (!p)
        p = calloc(1, 1);
    if (ret_len)
        *ret_len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
    return p;
}

void
sov_buf_release(sov_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}
