/* output.c: what sovctl prints on stdout. For people, aligned tables (a list) and aligned
 * fields (one resource, nested members flattened as "residency.region"), with colour only
 * when stdout is a terminal and neither NO_COLOR nor --no-color says otherwise. For scripts,
 * -o json: the API's JSON, unchanged but for indentation. Text from the API is shown with its
 * control characters blanked, so no answer can drive the terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

#define GAP 2           /* spaces between columns */

void
ctl_output_init(ctl_ctx *ctx)
{
    const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

    ctx->err_tty = isatty(STDERR_FILENO);
    ctx->out_tty = isatty(STDOUT_FILENO);
    ctx->color = ctx->out_tty && !ctx->opts.no_color && !(no_color && *no_color) &&
                 !(term && strcmp(term, "dumb") == 0);
}

const char *
ctl_bold(const ctl_ctx *ctx)
{
    return ctx->color ? "\033[1m" : "";
}

const char *
ctl_color_reset(const ctl_ctx *ctx)
{
    return ctx->color ? "\033[0m" : "";
}

static bool
word_in(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return true;
    return false;
}

const char *
ctl_state_color(const ctl_ctx *ctx, const char *state)
{
    static const char *const good[] = { "running", "active", "up", "succeeded", "ready", "ok",
                                        NULL };
    static const char *const bad[] = { "error", "failed", "down", NULL };
    static const char *const busy[] = { "scheduling", "building", "queued", "downloading",
                                        "deleting", "draining", "disabled", NULL };

    if (!ctx->color || !state)
        return "";
    if (word_in(state, good))
        return "\033[32m";
    if (word_in(state, bad))
        return "\033[31m";
    if (word_in(state, busy))
        return "\033[33m";
    return "";
}

void
ctl_print_json(const json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
}

void
ctl_view_json(ctl_ctx *ctx, const json_t *j)
{
    (void) ctx;
    ctl_print_json(j);
}

/* How many bytes at p make a control character a terminal would act on (C0 but newline,
 * tab and carriage return; DEL; C1, as UTF-8); 0 for anything else. */
static size_t
control_len(const unsigned char *p, size_t left)
{
    if ((*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r') || *p == 0x7f)
        return 1;
    if (*p == 0xc2 && left > 1 && p[1] >= 0x80 && p[1] <= 0x9f)
        return 2;
    return 0;
}

int
ctl_print_text(const ctl_ctx *ctx, const char *data, size_t len)
{
    const unsigned char *p = (const unsigned char *) data;

    for (size_t i = 0; i < len;) {
        size_t n = ctx->out_tty ? control_len(p + i, len - i) : 0;
        if (fputc(n ? '?' : p[i], stdout) == EOF)
            return ctl_fail(CTL_EXIT_API, "could not write the output");
        i += n ? n : 1;
    }
    return 0;
}

const char *
ctl_text(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "-";
}

const json_t *
ctl_json_path(const json_t *j, const char *path)
{
    char part[128];

    while (j && path && *path) {
        size_t n = strcspn(path, ".");
        snprintf(part, sizeof(part), "%.*s", (int) n, path);
        j = json_object_get(j, part);
        path += n;
        if (*path == '.')
            path++;
    }
    return j;
}

/* Control characters (C0, DEL, and C1 as UTF-8) as spaces: table cells stay on their line,
 * and text a tenant wrote cannot drive an operator's terminal. */
void
ctl_blank_controls(char *s)
{
    for (unsigned char *p = (unsigned char *) s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            p[0] = p[1] = ' ';
    }
}

static void
scalar_text(const json_t *v, char *buf, size_t size)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        snprintf(buf, size, "%s", json_string_value(v)[0] ? json_string_value(v) : "-");
        break;
    case JSON_INTEGER:
        snprintf(buf, size, "%lld", (long long) json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(buf, size, "%.15g", json_real_value(v));
        break;
    case JSON_TRUE:
        snprintf(buf, size, "true");
        break;
    case JSON_FALSE:
        snprintf(buf, size, "false");
        break;
    default:
        snprintf(buf, size, "-");
    }
}

static void
array_text(const json_t *v, char *buf, size_t size)
{
    size_t i, used = 0;
    json_t *e;
    char item[512];

    buf[0] = '\0';
    json_array_foreach(v, i, e) {
        ctl_json_text(e, item, sizeof(item));
        used += (size_t) snprintf(buf + used, used < size ? size - used : 0, "%s%s",
                                  i ? "," : "", item);
        if (used >= size)
            break;
    }
    if (!buf[0])
        snprintf(buf, size, "-");
}

void
ctl_json_text(const json_t *v, char *buf, size_t size)
{
    if (!v || json_is_null(v)) {
        snprintf(buf, size, "-");
    } else if (json_is_array(v)) {
        array_text(v, buf, size);
    } else if (json_is_object(v)) {
        char *s = json_dumps(v, JSON_COMPACT);
        snprintf(buf, size, "%s", s ? s : "-");
        free(s);
    } else {
        scalar_text(v, buf, size);
    }
    ctl_blank_controls(buf);
}

/* Columns on a terminal: UTF-8 continuation bytes take none. */
static size_t
text_width(const char *s)
{
    size_t w = 0;

    for (; *s; s++)
        if (((unsigned char) *s & 0xc0) != 0x80)
            w++;
    return w;
}

static void
pad(size_t n)
{
    while (n-- > 0)
        fputc(' ', stdout);
}

/* ---- tables ---- */

typedef struct table {
    const ctl_column *cols[32];
    size_t ncols, nrows;
    size_t width[32];
    char **cells;           /* nrows x ncols */
} table;

static void
table_columns(const ctl_ctx *ctx, const ctl_column *cols, table *t)
{
    for (const ctl_column *c = cols; c->header && t->ncols < 32; c++) {
        if ((c->opts & CTL_C_WIDE) && ctx->format != CTL_FMT_WIDE)
            continue;
        t->width[t->ncols] = text_width(c->header);
        t->cols[t->ncols++] = c;
    }
}

static void
table_fill(table *t, const json_t *items)
{
    char buf[1024];

    t->nrows = json_array_size(items);
    t->cells = calloc(t->nrows * t->ncols + 1, sizeof(char *));
    if (!t->cells)
        abort();
    for (size_t r = 0; r < t->nrows; r++) {
        const json_t *item = json_array_get(items, r);
        for (size_t c = 0; c < t->ncols; c++) {
            const ctl_column *col = t->cols[c];
            if (col->cell)
                col->cell(item, buf, sizeof(buf));
            else
                ctl_json_text(ctl_json_path(item, col->path), buf, sizeof(buf));
            ctl_blank_controls(buf);
            t->cells[r * t->ncols + c] = strdup(buf);
            if (!t->cells[r * t->ncols + c])
                abort();
            if (text_width(buf) > t->width[c])
                t->width[c] = text_width(buf);
        }
    }
}

static void
table_cell(const ctl_ctx *ctx, const table *t, size_t c, const char *text, const char *color)
{
    fputs(color, stdout);
    fputs(text, stdout);
    if (color[0])
        fputs(ctl_color_reset(ctx), stdout);
    if (c + 1 < t->ncols)
        pad(t->width[c] - text_width(text) + GAP);
}

void
ctl_print_table(const ctl_ctx *ctx, const ctl_column *cols, const json_t *items)
{
    table t = { .ncols = 0 };

    table_columns(ctx, cols, &t);
    table_fill(&t, items);
    for (size_t c = 0; c < t.ncols; c++)
        table_cell(ctx, &t, c, t.cols[c]->header, ctl_bold(ctx));
    fputc('\n', stdout);
    for (size_t r = 0; r < t.nrows; r++) {
        for (size_t c = 0; c < t.ncols; c++) {
            const char *text = t.cells[r * t.ncols + c];
            const char *color = (t.cols[c]->opts & CTL_C_STATE) ? ctl_state_color(ctx, text)
                                                                : "";
            table_cell(ctx, &t, c, text, color);
        }
        fputc('\n', stdout);
    }
    for (size_t i = 0; i < t.nrows * t.ncols; i++)
        free(t.cells[i]);
    free(t.cells);
}

/* ---- one resource: its fields ---- */

static void
flatten(const json_t *obj, const char *prefix, json_t *pairs)
{
    const char *k;
    json_t *v;
    char key[256], text[4096];

    json_object_foreach((json_t *) obj, k, v) {
        snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", k);
        if (json_is_object(v) && json_object_size(v) > 0) {
            flatten(v, key, pairs);
            continue;
        }
        ctl_json_text(v, text, sizeof(text));
        json_array_append_new(pairs, json_pack("[ss]", key, text));
    }
}

void
ctl_print_fields(const ctl_ctx *ctx, const json_t *obj)
{
    sov_autoptr(json_t) pairs = json_array();
    size_t i, w = 0;
    json_t *p;

    flatten(obj, "", pairs);
    json_array_foreach(pairs, i, p) {
        size_t n = text_width(json_string_value(json_array_get(p, 0)));
        if (n > w)
            w = n;
    }
    json_array_foreach(pairs, i, p) {
        const char *k = json_string_value(json_array_get(p, 0));
        const char *v = json_string_value(json_array_get(p, 1));
        bool state = strcmp(k, "state") == 0 || strcmp(k, "status") == 0;
        const char *color = state ? ctl_state_color(ctx, v) : "";
        fputs(k, stdout);
        pad(w - text_width(k) + GAP);
        printf("%s%s%s\n", color, v, color[0] ? ctl_color_reset(ctx) : "");
    }
}

static bool
as_row(const ctl_ctx *ctx, const json_t *j)
{
    const ctl_verb *v = ctx->verb;

    return v && ctx->res->columns && json_is_object(j) && !(v->opts & CTL_V_FIELDS) &&
           (v->kind == CTL_SEND || v->kind == CTL_DELETE || v->kind == CTL_RUN) &&
           json_object_get(j, ctx->res->key);
}

void
ctl_print(ctl_ctx *ctx, const json_t *j)
{
    if (!j)
        return;
    if (ctx->format == CTL_FMT_JSON) {
        ctl_print_json(j);
    } else if (ctx->verb && ctx->verb->view) {
        ctx->verb->view(ctx, j);
    } else if (as_row(ctx, j)) {
        sov_autoptr(json_t) one = json_pack("[O]", j);
        ctl_print_table(ctx, ctx->res->columns, one);
    } else if (json_is_object(j)) {
        ctl_print_fields(ctx, j);
    } else {
        ctl_print_json(j);
    }
}
