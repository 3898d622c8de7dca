/* buf.c: growable text buffer; an allocation failure is remembered, never fatal. */
#include <stdarg.h>
#include <stdint.h>
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

static void
pg_element(sov_buf *b, const char *s, bool first)
{
    if (!first)
        sov_buf_append(b, ",", 1);
    if (!s) {
        sov_buf_puts(b, "NULL");
        return;
    }
    sov_buf_append(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        size_t run = strcspn(p, "\"\\");
        sov_buf_append(b, p, run);
        p += run;
        if (!*p)
            break;
        sov_buf_append(b, "\\", 1);
        sov_buf_append(b, p, 1);
    }
    sov_buf_append(b, "\"", 1);
}

void
sov_buf_pg_array(sov_buf *b, const char *const *items, size_t n)
{
    sov_buf_append(b, "{", 1);
    for (size_t i = 0; i < n; i++)
        pg_element(b, items[i], i == 0);
    sov_buf_append(b, "}", 1);
}

void
sov_buf_pg_array_strided(sov_buf *b, const char *first, size_t n, size_t stride)
{
    sov_buf_append(b, "{", 1);
    for (size_t i = 0; i < n; i++)
        pg_element(b, first + i * stride, i == 0);
    sov_buf_append(b, "}", 1);
}

size_t
sov_pg_array_format(char *buf, size_t size, const char *first, size_t n, size_t stride)
{
    sov_buf b = SOV_BUF_INIT;
    size_t len;

    sov_buf_pg_array_strided(&b, first, n, stride);
    /* Out of memory: report a length that cannot fit, so the caller treats it as cut. */
    len = b.oom ? SIZE_MAX : b.len;
    if (size > 0) {
        size_t k = b.oom ? 0 : (len < size ? len : size - 1);
        if (k > 0)
            memcpy(buf, b.data, k);
        buf[k] = '\0';
    }
    sov_buf_release(&b);
    return len;
}

void
sov_buf_xml_escaped(sov_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': sov_buf_puts(b, "&amp;"); break;
        case '<': sov_buf_puts(b, "&lt;"); break;
        case '>': sov_buf_puts(b, "&gt;"); break;
        case '\'': sov_buf_puts(b, "&apos;"); break;
        case '"': sov_buf_puts(b, "&quot;"); break;
        default: sov_buf_append(b, s, 1); break;
        }
    }
}
