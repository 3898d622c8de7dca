/* main.c: sovctl's command line. Words pick a resource and a verb from the table in
 * resources.c; flags are the verb's or global ones, anywhere after the words that name
 * the verb; what is left are the verb's arguments. Then the verb runs (verbs.c). */
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

const ctl_global ctl_globals[] = {
    { "output", 'o', "FORMAT", "table (default), wide, or json (the API's own JSON)" },
    { "profile", 0, "NAME", "use this profile of the config file (or SOVCTL_PROFILE)" },
    { "endpoint", 0, "URL", "call this API endpoint (or SOVCTL_ENDPOINT)" },
    { "cacert", 0, "FILE", "trust this CA certificate (PEM) for TLS" },
    { "insecure", 0, NULL, "do not verify the TLS certificate (warned each time)" },
    { "timeout", 0, "SECONDS", "give up on a request after this long (default 30)" },
    { "retries", 0, "N", "retries of safe requests on 503 or a lost connection (default 3)" },
    { "limit", 0, "N", "list at most N items" },
    { "page-size", 0, "N", "items asked per page while following pages (default 100)" },
    { "wait", 0, NULL, "follow asynchronous work (an operation) to its end" },
    { "idempotency-key", 0, "KEY", "Idempotency-Key of a create (default: a random UUID)" },
    { "no-color", 0, NULL, "no colour (nor with NO_COLOR, nor when stdout is no terminal)" },
    { "verbose", 'v', NULL, "print each request and its answer's status on stderr" },
    { "help", 'h', NULL, "help for sovctl, a resource or a verb" },
    { "version", 0, NULL, "print the version" },
};

const size_t ctl_globals_count = SOV_N_ELEMENTS(ctl_globals);

int
ctl_fail(int code, const char *fmt, ...)
{
    va_list ap;

    fputs("sovctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

void
ctl_warn(const char *fmt, ...)
{
    va_list ap;

    fputs("sovctl: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int
ctl_usage_error(const ctl_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    fputs("sovctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (ctx->verb && ctx->verb->name[0])
        fprintf(stderr, "Run 'sovctl %s %s --help' for usage.\n", ctx->res->name,
                ctx->verb->name);
    else if (ctx->res)
        fprintf(stderr, "Run 'sovctl %s --help' for usage.\n", ctx->res->name);
    else
        fprintf(stderr, "Run 'sovctl --help' for usage.\n");
    return CTL_EXIT_USAGE;
}

/* ---- parsing ---- */

typedef struct parse_state {
    char pending[64];       /* the first word(s) of a verb of several words */
    bool only_args;         /* after "--" */
    bool help_word;         /* "sovctl help ..." */
} parse_state;

static const ctl_global *
global_find(const char *name, char short_name)
{
    for (size_t i = 0; i < ctl_globals_count; i++) {
        if (name && strcmp(ctl_globals[i].name, name) == 0)
            return &ctl_globals[i];
        if (!name && short_name && ctl_globals[i].short_name == short_name)
            return &ctl_globals[i];
    }
    return NULL;
}

static const ctl_flag *
verb_flag_find(const ctl_verb *verb, const char *name, char short_name)
{
    for (const ctl_flag *f = verb ? verb->flags : NULL; f && f->name; f++) {
        if (name && strcmp(f->name, name) == 0)
            return f;
        if (!name && short_name && f->short_name == short_name)
            return f;
    }
    return NULL;
}

static int
parse_long(const ctl_ctx *ctx, const char *flag, const char *value, long min, long *ret)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < min)
        return ctl_usage_error(ctx, "--%s wants a whole number of at least %ld, not '%s'", flag,
                               min, value);
    *ret = v;
    return 0;
}

static int
set_global(ctl_ctx *ctx, const ctl_global *g, const char *v)
{
    ctl_opts *o = &ctx->opts;
    const char *n = g->name;

    if (strcmp(n, "output") == 0)
        o->output = v;
    else if (strcmp(n, "profile") == 0)
        o->profile = v;
    else if (strcmp(n, "endpoint") == 0)
        o->endpoint = v;
    else if (strcmp(n, "cacert") == 0)
        o->cacert = v;
    else if (strcmp(n, "idempotency-key") == 0)
        o->idempotency_key = v;
    else if (strcmp(n, "timeout") == 0)
        return parse_long(ctx, n, v, 1, &o->timeout_s);
    else if (strcmp(n, "retries") == 0)
        return parse_long(ctx, n, v, 0, &o->retries);
    else if (strcmp(n, "limit") == 0)
        return parse_long(ctx, n, v, 1, &o->limit);
    else if (strcmp(n, "page-size") == 0)
        return parse_long(ctx, n, v, 1, &o->page_size);
    else if (strcmp(n, "insecure") == 0)
        o->insecure = true;
    else if (strcmp(n, "wait") == 0)
        o->wait = true;
    else if (strcmp(n, "no-color") == 0)
        o->no_color = true;
    else if (strcmp(n, "verbose") == 0)
        o->verbose = true;
    else if (strcmp(n, "help") == 0)
        o->help = true;
    else if (strcmp(n, "version") == 0)
        o->version = true;
    return 0;
}

static int
add_value(ctl_ctx *ctx, const ctl_flag *f, const char *value)
{
    if (ctx->nvalues == CTL_MAX_VALUES)
        return ctl_usage_error(ctx, "too many flags");
    ctx->values[ctx->nvalues].flag = f;
    ctx->values[ctx->nvalues].value = value;
    ctx->nvalues++;
    return 0;
}

/* One flag: name (long, without dashes) or short_name, its inline value if any ("--a=b"),
 * argv and *i to take the next word as its value. */
static int
parse_flag(ctl_ctx *ctx, const char *name, char short_name, const char *inline_value,
           char **argv, int argc, int *i)
{
    const ctl_flag *vf = verb_flag_find(ctx->verb, name, short_name);
    const ctl_global *g = vf ? NULL : global_find(name, short_name);
    bool takes = vf ? vf->type != CTL_T_SWITCH : g && g->metavar;
    const char *value = inline_value;
    char shown[80];

    if (name)
        snprintf(shown, sizeof(shown), "--%s", name);
    else
        snprintf(shown, sizeof(shown), "-%c", short_name);
    if (!vf && !g)
        return ctl_usage_error(ctx, "unknown flag %s", shown);
    if (!takes && inline_value)
        return ctl_usage_error(ctx, "%s takes no value", shown);
    if (takes && !value) {
        if (*i + 1 >= argc)
            return ctl_usage_error(ctx, "%s needs a value", shown);
        value = argv[++*i];
    }
    return vf ? add_value(ctx, vf, value) : set_global(ctx, g, value);
}

static int
parse_dash(ctl_ctx *ctx, char **argv, int argc, int *i)
{
    char *a = argv[*i], name[64];
    const char *eq;

    if (a[1] != '-') {
        /* -o json, -ojson, -v, -h */
        const char *rest = a[2] ? a + 2 : NULL;
        return parse_flag(ctx, NULL, a[1], rest, argv, argc, i);
    }
    eq = strchr(a + 2, '=');
    if (snprintf(name, sizeof(name), "%.*s", eq ? (int) (eq - a - 2) : (int) strlen(a + 2),
                 a + 2) >= (int) sizeof(name))
        return ctl_usage_error(ctx, "unknown flag %s", a);
    return parse_flag(ctx, name, 0, eq ? eq + 1 : NULL, argv, argc, i);
}

/* "instances" for "instance": plurals read naturally ("sovctl instances list"). */
static const ctl_resource *
resource_lookup(const char *word)
{
    const ctl_resource *r = ctl_resource_find(word);
    char singular[64];
    size_t n = strlen(word);

    if (r || n < 2 || n >= sizeof(singular) || word[n - 1] != 's')
        return r;
    snprintf(singular, sizeof(singular), "%.*s", (int) n - 1, word);
    r = ctl_resource_find(singular);
    return r && r->path ? r : NULL;
}

static int
take_verb_word(ctl_ctx *ctx, parse_state *st, const char *word)
{
    char cand[64];
    bool prefix = false;

    if (snprintf(cand, sizeof(cand), "%s%s%s", st->pending, st->pending[0] ? " " : "",
                 word) >= (int) sizeof(cand))
        return ctl_usage_error(ctx, "unknown command '%s'", word);
    for (const ctl_verb *v = ctx->res->verbs; v->name; v++) {
        size_t n = strlen(cand);
        if (strcmp(v->name, cand) == 0) {
            ctx->verb = v;
            return 0;
        }
        if (strncmp(v->name, cand, n) == 0 && v->name[n] == ' ')
            prefix = true;
    }
    if (!prefix)
        return ctl_usage_error(ctx, "'%s' is not a verb of %s", cand, ctx->res->name);
    snprintf(st->pending, sizeof(st->pending), "%s", cand);
    return 0;
}

static int
take_word(ctl_ctx *ctx, parse_state *st, const char *word)
{
    if (!ctx->res && !st->only_args && !st->help_word && strcmp(word, "help") == 0) {
        st->help_word = true;
        ctx->opts.help = true;
        return 0;
    }
    if (!ctx->res) {
        ctx->res = resource_lookup(word);
        if (!ctx->res)
            return ctl_usage_error(ctx, "unknown command '%s'", word);
        if (ctx->res->verbs[0].name[0] == '\0')
            ctx->verb = &ctx->res->verbs[0];
        return 0;
    }
    if (!ctx->verb)
        return take_verb_word(ctx, st, word);
    if (ctx->nargs == CTL_MAX_ARGS)
        return ctl_usage_error(ctx, "too many arguments");
    ctx->args[ctx->nargs++] = word;
    return 0;
}

static int
parse_args(ctl_ctx *ctx, int argc, char **argv)
{
    parse_state st = { .pending = "" };
    int rc;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        rc = 0;
        if (!st.only_args && strcmp(a, "--") == 0)
            st.only_args = true;
        else if (!st.only_args && a[0] == '-' && a[1] != '\0')
            rc = parse_dash(ctx, argv, argc, &i);
        else
            rc = take_word(ctx, &st, a);
        if (rc != 0)
            return rc;
    }
    if (ctx->res && !ctx->verb && st.pending[0] && !ctx->opts.help)
        return ctl_usage_error(ctx, "'%s' needs one more word", st.pending);
    return 0;
}

/* ---- checks once parsed ---- */

static size_t
count_args(const char *spec, size_t *optional)
{
    size_t n = 0;

    *optional = 0;
    for (const char *p = spec; p && *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (*p == '[')
            (*optional)++;
        n++;
        while (*p && *p != ' ')
            p++;
    }
    return n;
}

static bool
flag_given(const ctl_ctx *ctx, const ctl_flag *f)
{
    for (size_t i = 0; i < ctx->nvalues; i++)
        if (ctx->values[i].flag == f)
            return true;
    return false;
}

static int
check_verb(ctl_ctx *ctx)
{
    size_t optional, want = count_args(ctx->verb->args, &optional);

    if (ctx->nargs > want)
        return ctl_usage_error(ctx, "unexpected argument '%s'", ctx->args[want]);
    if (ctx->nargs < want - optional)
        return ctl_usage_error(ctx, "missing %s", ctx->verb->args);
    for (const ctl_flag *f = ctx->verb->flags; f && f->name; f++)
        if ((f->opts & CTL_F_REQUIRED) && !flag_given(ctx, f))
            return ctl_usage_error(ctx, "missing --%s %s", f->name, f->metavar);
    return 0;
}

static int
check_output(ctl_ctx *ctx)
{
    const char *o = ctx->opts.output;

    if (!o || strcmp(o, "table") == 0)
        ctx->format = CTL_FMT_TABLE;
    else if (strcmp(o, "wide") == 0)
        ctx->format = CTL_FMT_WIDE;
    else if (strcmp(o, "json") == 0)
        ctx->format = CTL_FMT_JSON;
    else
        return ctl_usage_error(ctx, "-o wants table, wide or json, not '%s'", o);
    return 0;
}

/* Help asked for, or a command that is not one yet: the help of the deepest level named. */
static int
help_or_incomplete(ctl_ctx *ctx)
{
    bool asked = ctx->opts.help;
    FILE *f = asked ? stdout : stderr;

    if (ctx->opts.version && !ctx->res)
        return ctl_cmd_version(ctx);
    if (!asked && ctx->res && ctx->verb)
        return -1;
    if (ctx->verb && ctx->verb->name[0])
        ctl_help_verb(f, ctx->res, ctx->verb);
    else if (ctx->res)
        ctl_help_resource(f, ctx->res);
    else
        ctl_help_main(f);
    return asked ? CTL_EXIT_OK : CTL_EXIT_USAGE;
}

static int
run(ctl_ctx *ctx, int argc, char **argv)
{
    int rc = parse_args(ctx, argc, argv);

    if (rc != 0)
        return rc;
    rc = help_or_incomplete(ctx);
    if (rc >= 0)
        return rc;
    if ((rc = check_verb(ctx)) != 0 || (rc = check_output(ctx)) != 0)
        return rc;
    ctl_output_init(ctx);
    if ((rc = ctl_settings_load(ctx)) != 0)
        return rc;
    return ctl_run_verb(ctx);
}

int
main(int argc, char **argv)
{
    ctl_ctx ctx = { .format = CTL_FMT_TABLE, .opts.retries = -1 };
    int rc;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ctl_fail(CTL_EXIT_CONN, "could not initialise libcurl");
    rc = run(&ctx, argc, argv);
    ctl_client_cleanup(&ctx);
    ctl_settings_release(&ctx.set);
    json_decref(ctx.me);
    curl_global_cleanup();
    if (fflush(stdout) != 0 && rc == 0)
        rc = ctl_fail(CTL_EXIT_API, "could not write the output: %s", strerror(errno));
    return rc;
}
