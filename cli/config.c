/* config.c: profiles. The file is ~/.config/sovctl/config ($XDG_CONFIG_HOME, or
 * $SOVCTL_CONFIG, when set), lines of "key = value" under [profile] headers, with the
 * default profile's name as "current = NAME" before the first header:
 *
 *     current = default
 *     [default]
 *     endpoint = https://api.example.eu
 *     token = sov_...
 *
 * It holds tokens, so it is written whole to a new file of mode 0600 in a folder of mode
 * 0700 and renamed over the old one: never a moment readable by others, never half written.
 * What is used comes from the profile, then SOVCTL_ENDPOINT and SOVCTL_TOKEN, then flags. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

#define MAX_TOKEN 4096

typedef struct entry {
    char *section;          /* "" before the first header */
    char *key;
    char *value;
} entry;

typedef struct ini {
    entry *e;
    size_t n;
} ini;

static void
ini_release(ini *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->e[i].section);
        free(f->e[i].key);
        free(f->e[i].value);
    }
    free(f->e);
    f->e = NULL;
    f->n = 0;
}

static const char *
ini_get(const ini *f, const char *section, const char *key)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->e[i].section, section) == 0 && strcmp(f->e[i].key, key) == 0)
            return f->e[i].value;
    return NULL;
}

static char *
xstrdup(const char *s)
{
    char *d = strdup(s);

    if (!d)
        abort();
    return d;
}

/* Set a value (NULL removes it). */
static void
ini_set(ini *f, const char *section, const char *key, const char *value)
{
    for (size_t i = 0; i < f->n; i++) {
        entry *e = &f->e[i];
        if (strcmp(e->section, section) != 0 || strcmp(e->key, key) != 0)
            continue;
        free(e->value);
        if (value) {
            e->value = xstrdup(value);
            return;
        }
        free(e->section);
        free(e->key);
        memmove(e, e + 1, (f->n - i - 1) * sizeof(*e));
        f->n--;
        return;
    }
    if (!value)
        return;
    f->e = realloc(f->e, (f->n + 1) * sizeof(*f->e));
    if (!f->e)
        abort();
    f->e[f->n++] = (entry) { xstrdup(section), xstrdup(key), xstrdup(value) };
}

static bool
ini_has_section(const ini *f, const char *section)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->e[i].section, section) == 0)
            return true;
    return false;
}

static void
ini_drop_section(ini *f, const char *section)
{
    size_t kept = 0;

    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->e[i].section, section) == 0) {
            free(f->e[i].section);
            free(f->e[i].key);
            free(f->e[i].value);
            continue;
        }
        f->e[kept++] = f->e[i];
    }
    f->n = kept;
}

static char *
trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && strchr(" \t\r\n", end[-1]))
        *--end = '\0';
    return s;
}

static int
ini_parse_line(ini *f, char *line, char *section, size_t size, const char *path, int lineno)
{
    char *s = trim(line), *eq;

    if (!*s || *s == '#' || *s == ';')
        return 0;
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close)
            return ctl_fail(CTL_EXIT_USAGE, "%s:%d: a section header wants ']'", path, lineno);
        *close = '\0';
        snprintf(section, size, "%s", trim(s + 1));
        return 0;
    }
    if (!(eq = strchr(s, '=')))
        return ctl_fail(CTL_EXIT_USAGE, "%s:%d: want 'key = value'", path, lineno);
    *eq = '\0';
    ini_set(f, section, trim(s), trim(eq + 1));
    return 0;
}

static void
warn_if_open(const char *path, int fd)
{
    struct stat st;

    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        ctl_warn("%s holds tokens but others may read it (mode %04o): chmod 600 it", path,
                 (unsigned) (st.st_mode & 07777));
}

/* A missing file is an empty one. */
static int
ini_load(ini *f, const char *path)
{
    sov_autoptr(FILE) in = fopen(path, "r");
    char line[8192], section[128] = "";
    int lineno = 0, rc;

    if (!in && errno == ENOENT)
        return 0;
    if (!in)
        return ctl_fail(CTL_EXIT_USAGE, "could not read %s: %s", path, strerror(errno));
    warn_if_open(path, fileno(in));
    while (fgets(line, sizeof(line), in))
        if ((rc = ini_parse_line(f, line, section, sizeof(section), path, ++lineno)) != 0)
            return rc;
    return 0;
}

static void
ini_write(const ini *f, FILE *out)
{
    const char *done[256];
    size_t ndone = 0;

    fprintf(out, "# sovctl profiles: written by sovctl login; holds tokens, keep it 0600\n");
    for (size_t i = 0; i < f->n; i++)
        if (!f->e[i].section[0])
            fprintf(out, "%s = %s\n", f->e[i].key, f->e[i].value);
    for (size_t i = 0; i < f->n; i++) {
        const char *s = f->e[i].section;
        bool seen = !s[0];
        for (size_t d = 0; d < ndone && !seen; d++)
            seen = strcmp(done[d], s) == 0;
        if (seen || ndone == SOV_N_ELEMENTS(done))
            continue;
        done[ndone++] = s;
        fprintf(out, "\n[%s]\n", s);
        for (size_t j = i; j < f->n; j++)
            if (strcmp(f->e[j].section, s) == 0)
                fprintf(out, "%s = %s\n", f->e[j].key, f->e[j].value);
    }
}

/* mkdir -p, the last level (sovctl's own folder) 0700. */
static int
make_parent(const char *path)
{
    sov_autofree char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');

    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int
ini_save(const ini *f, const char *path)
{
    sov_autofree char *tmp = NULL;
    FILE *out;
    int fd, failed;

    if (asprintf(&tmp, "%s.tmp.%ld", path, (long) getpid()) < 0)
        abort();
    if (make_parent(path) < 0)
        return ctl_fail(CTL_EXIT_USAGE, "could not make the folder of %s: %s", path,
                        strerror(errno));
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) < 0 || !(out = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        return ctl_fail(CTL_EXIT_USAGE, "could not write %s: %s", tmp, strerror(e));
    }
    ini_write(f, out);
    failed = fflush(out) != 0 || fsync(fd) != 0;
    failed |= fclose(out) != 0;
    if (failed || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return ctl_fail(CTL_EXIT_USAGE, "could not write %s: %s", path, strerror(e));
    }
    return 0;
}

/* ---- settings ---- */

static char *
config_path(void)
{
    const char *env = getenv("SOVCTL_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char *p = NULL;

    if (env && *env)
        return xstrdup(env);
    if (xdg && *xdg && asprintf(&p, "%s/sovctl/config", xdg) > 0)
        return p;
    if (asprintf(&p, "%s/.config/sovctl/config", home && *home ? home : ".") < 0)
        abort();
    return p;
}

static char *
dup_or_null(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

static void
strip_slashes(char *url)
{
    size_t n = url ? strlen(url) : 0;

    while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
}

/* The profile named by --profile or SOVCTL_PROFILE must exist (but for login, which makes
 * it); the default one may be missing when the environment says all. */
static int
pick_profile(ctl_ctx *ctx, const ini *f, bool login)
{
    const char *env = getenv("SOVCTL_PROFILE");
    const char *named = ctx->opts.profile ? ctx->opts.profile : env && *env ? env : NULL;
    const char *current = ini_get(f, "", "current");

    ctx->set.profile = xstrdup(named ? named : current ? current : "default");
    if (named && !login && !ini_has_section(f, named))
        return ctl_usage_error(ctx, "no profile '%s' in %s (sovctl profile list)", named,
                               ctx->set.config_path);
    return 0;
}

int
ctl_settings_load(ctl_ctx *ctx)
{
    ctl_settings *s = &ctx->set;
    const char *env_endpoint = getenv("SOVCTL_ENDPOINT"), *env_token = getenv("SOVCTL_TOKEN");
    const char *insecure;
    ini f = { 0 };
    int rc;

    s->config_path = config_path();
    if ((rc = ini_load(&f, s->config_path)) != 0 ||
        (rc = pick_profile(ctx, &f, ctx->verb->run == ctl_cmd_login)) != 0) {
        ini_release(&f);
        return rc;
    }
    s->endpoint = dup_or_null(ini_get(&f, s->profile, "endpoint"));
    s->endpoint_from = "the profile";
    if (env_endpoint && *env_endpoint) {
        free(s->endpoint);
        s->endpoint = xstrdup(env_endpoint);
        s->endpoint_from = "SOVCTL_ENDPOINT";
    }
    if (ctx->opts.endpoint) {
        free(s->endpoint);
        s->endpoint = xstrdup(ctx->opts.endpoint);
        s->endpoint_from = "--endpoint";
    }
    strip_slashes(s->endpoint);
    s->token = dup_or_null(env_token && *env_token ? env_token
                                                   : ini_get(&f, s->profile, "token"));
    s->cacert = dup_or_null(ctx->opts.cacert ? ctx->opts.cacert
                                             : ini_get(&f, s->profile, "cacert"));
    insecure = ini_get(&f, s->profile, "insecure");
    s->insecure = ctx->opts.insecure || (insecure && strcmp(insecure, "true") == 0);
    ini_release(&f);
    /* The token goes to the endpoint with every request: never a private key. */
    if (ctx->verb->run != ctl_cmd_login && s->token &&
        ctl_private_key_kind(s->token, strlen(s->token)))
        return ctl_usage_error(ctx, "the token (%s) is a private key, and sovctl never sends "
                                    "one: log in again with a token from sovctl token create",
                               env_token && *env_token ? "SOVCTL_TOKEN" : "the profile");
    return 0;
}

void
ctl_settings_release(ctl_settings *s)
{
    free(s->config_path);
    free(s->profile);
    free(s->endpoint);
    if (s->token)
        explicit_bzero(s->token, strlen(s->token));
    free(s->token);
    free(s->cacert);
    memset(s, 0, sizeof(*s));
}

/* ---- login, logout, profiles ---- */

/* The first line of a file or of stdin, trimmed. */
static int
read_token(const ctl_ctx *ctx, const char *file, char **ret)
{
    sov_autoptr(FILE) in = NULL;
    char line[MAX_TOKEN];
    char *t;
    int rc;

    if (strcmp(file, "-") == 0)
        t = fgets(line, sizeof(line), stdin);
    else if ((rc = ctl_refuse_private_key_file(ctx, "--token-file", file)) != 0)
        return rc;
    else if (!(in = fopen(file, "r")))
        return ctl_usage_error(ctx, "could not read the token file %s: %s", file,
                               strerror(errno));
    else
        t = fgets(line, sizeof(line), in);
    if (t && (rc = ctl_refuse_private_key(ctx, strcmp(file, "-") ? "--token-file" : "--token",
                                          strcmp(file, "-") ? file : "standard input", line,
                                          strlen(line))) != 0) {
        explicit_bzero(line, sizeof(line));
        return rc;
    }
    t = t ? trim(line) : NULL;
    if (!t || !*t)
        return ctl_usage_error(ctx, "no token in %s", strcmp(file, "-") ? file : "stdin");
    *ret = xstrdup(t);
    explicit_bzero(line, sizeof(line));
    return 0;
}

static int
login_token(const ctl_ctx *ctx, char **ret)
{
    const char *file = ctl_value(ctx, "token-file"), *tok = ctl_value(ctx, "token");

    if (file && tok)
        return ctl_usage_error(ctx, "give --token-file or --token -, not both");
    if (tok && strcmp(tok, "-") != 0)
        return ctl_usage_error(ctx, "--token takes only '-' (standard input): a token on the "
                                    "command line is kept in shell history and shown to other "
                                    "users by ps; use --token-file FILE or --token -");
    if (!file && !tok)
        return ctl_usage_error(ctx, "give the token: --token-file FILE, or --token - to read "
                                    "it from standard input");
    return read_token(ctx, file ? file : "-", ret);
}

static void
login_say(const ctl_ctx *ctx, const json_t *me)
{
    const char *name = json_string_value(ctl_json_path(me, "user.name"));
    const char *email = json_string_value(ctl_json_path(me, "user.email"));
    const char *role = json_string_value(json_object_get(me, "role"));
    const char *tenant = json_string_value(ctl_json_path(me, "tenant.name"));

    char who[600];

    snprintf(who, sizeof(who), "%s <%s>, %s of tenant %s", name ? name : "?",
             email ? email : "?", role ? role : "?", tenant ? tenant : "?");
    ctl_blank_controls(who);
    if (me)
        printf("Logged in to %s as %s.\n", ctx->set.endpoint, who);
    printf("Profile '%s' saved in %s.\n", ctx->set.profile, ctx->set.config_path);
}

static void
login_store(const ctl_ctx *ctx, ini *f)
{
    const char *p = ctx->set.profile;

    ini_set(f, p, "endpoint", ctx->set.endpoint);
    ini_set(f, p, "token", ctx->set.token);
    ini_set(f, p, "cacert", ctl_value(ctx, "cacert"));
    ini_set(f, p, "insecure", ctl_switch(ctx, "insecure") ? "true" : NULL);
    if (!ini_get(f, "", "current"))
        ini_set(f, "", "current", p);
}

int
ctl_cmd_login(ctl_ctx *ctx)
{
    ini f = { 0 };
    char *token = NULL;
    int rc;

    if ((rc = login_token(ctx, &token)) != 0)
        return rc;
    free(ctx->set.endpoint);
    ctx->set.endpoint = xstrdup(ctl_value(ctx, "endpoint"));
    ctx->set.endpoint_from = "--endpoint";
    strip_slashes(ctx->set.endpoint);
    free(ctx->set.token);
    ctx->set.token = token;
    free(ctx->set.cacert);
    ctx->set.cacert = dup_or_null(ctl_value(ctx, "cacert"));
    ctx->set.insecure = ctl_switch(ctx, "insecure") || ctx->opts.insecure;
    /* Check the token before keeping it: a typo should not become the default. */
    if (!ctl_switch(ctx, "no-verify")) {
        const json_t *me;
        if ((rc = ctl_me(ctx, &me)) != 0)
            return rc;
    }
    if ((rc = ini_load(&f, ctx->set.config_path)) == 0) {
        login_store(ctx, &f);
        rc = ini_save(&f, ctx->set.config_path);
    }
    ini_release(&f);
    if (rc == 0)
        login_say(ctx, ctx->me);
    return rc;
}

int
ctl_cmd_logout(ctl_ctx *ctx)
{
    ini f = { 0 };
    int rc = ini_load(&f, ctx->set.config_path);

    if (rc == 0 && !ini_get(&f, ctx->set.profile, "token")) {
        printf("Profile '%s' holds no token.\n", ctx->set.profile);
    } else if (rc == 0) {
        ini_set(&f, ctx->set.profile, "token", NULL);
        if ((rc = ini_save(&f, ctx->set.config_path)) == 0)
            printf("Token of profile '%s' forgotten (it stays valid until revoked: sovctl "
                   "token delete).\n", ctx->set.profile);
    }
    ini_release(&f);
    return rc;
}

static json_t *
profile_rows(const ctl_ctx *ctx, const ini *f)
{
    json_t *rows = json_array();
    const char *current = ini_get(f, "", "current");

    for (size_t i = 0; i < f->n; i++) {
        const char *s = f->e[i].section;
        bool seen = !s[0];
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(f->e[j].section, s) == 0;
        if (seen)
            continue;
        json_array_append_new(rows, json_pack(
            "{s:s, s:s?, s:b, s:b}", "name", s, "endpoint", ini_get(f, s, "endpoint"),
            "current", current ? strcmp(current, s) == 0 : strcmp(s, "default") == 0,
            "token", ini_get(f, s, "token") != NULL));
    }
    (void) ctx;
    return rows;
}

static void
cell_current(const json_t *row, char *buf, size_t size)
{
    snprintf(buf, size, "%s", json_is_true(json_object_get(row, "current")) ? "*" : "");
}

static void
cell_token(const json_t *row, char *buf, size_t size)
{
    snprintf(buf, size, "%s", json_is_true(json_object_get(row, "token")) ? "saved" : "-");
}

int
ctl_cmd_profile_list(ctl_ctx *ctx)
{
    static const ctl_column cols[] = {
        { "CURRENT", NULL, 0, cell_current },
        { "NAME", "name", 0, NULL },
        { "ENDPOINT", "endpoint", 0, NULL },
        { "TOKEN", NULL, 0, cell_token },
        { 0 },
    };
    sov_autoptr(json_t) rows = NULL;
    ini f = { 0 };
    int rc = ini_load(&f, ctx->set.config_path);

    if (rc != 0)
        return rc;
    rows = profile_rows(ctx, &f);
    ini_release(&f);
    if (ctx->format == CTL_FMT_JSON)
        ctl_print_json(rows);
    else if (json_array_size(rows) == 0)
        fprintf(stderr, "No profiles in %s: sovctl login makes one.\n", ctx->set.config_path);
    else
        ctl_print_table(ctx, cols, rows);
    return 0;
}

static int
profile_edit(ctl_ctx *ctx, bool drop)
{
    const char *name = ctx->args[0];
    ini f = { 0 };
    int rc = ini_load(&f, ctx->set.config_path);

    if (rc == 0 && !ini_has_section(&f, name))
        rc = ctl_usage_error(ctx, "no profile '%s' in %s", name, ctx->set.config_path);
    if (rc == 0 && drop) {
        const char *current = ini_get(&f, "", "current");
        if (current && strcmp(current, name) == 0)
            ini_set(&f, "", "current", NULL);
        ini_drop_section(&f, name);
    } else if (rc == 0) {
        ini_set(&f, "", "current", name);
    }
    if (rc == 0 && (rc = ini_save(&f, ctx->set.config_path)) == 0)
        printf(drop ? "Profile '%s' removed.\n" : "Profile '%s' is now the default.\n", name);
    ini_release(&f);
    return rc;
}

int
ctl_cmd_profile_use(ctl_ctx *ctx)
{
    return profile_edit(ctx, false);
}

int
ctl_cmd_profile_delete(ctl_ctx *ctx)
{
    return profile_edit(ctx, true);
}
