/* sovctl against real sovd processes on a real PostgreSQL: the binary is run as a person or
 * a script would run it (HOME in a folder of the test, stdout and stderr to files, no
 * terminal), and its output read back: -o json parsed with jansson, tables compared as text.
 * Login and its config file (mode 0600), profiles and the SOVCTL_* overrides; tenants,
 * users, tokens, regions and flavors; lists that follow pages or stop at --limit; errors on
 * stderr with the exit codes 1 (API), 2 (usage) and 3 (connection); --insecure's warning;
 * creates that carry an Idempotency-Key; the help and a bash completion script bash accepts;
 * on libvirt's test driver, an instance created and deleted with --wait and images streamed
 * from files; Ctrl-C while waiting; a residency report downloaded and verified; instance
 * show with its volumes' table. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <microhttpd.h>

#include "testlib.h"

#define REGION "fr-paris-1"
#define MAX_ARGV 48

extern char **environ;

static char *db;
static char *tmp;
static char home[600], token_file[700];
static tl_sovd sovd;
static char *op;            /* the bootstrap operator's token */

/* ---- running sovctl ---- */

typedef struct run {
    int status;             /* exit status; 128 + signal when killed */
    char *out, *err;
    json_t *json;           /* out parsed, when it is JSON */
} run;

static void
run_free(run *r)
{
    free(r->out);
    free(r->err);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* The environment of a child: ours without anything that could steer sovctl, then HOME of
 * this test and the entries given ("NAME=value", NULL-terminated). */
static char **
child_env(const char *const *extra)
{
    static char home_env[700];
    static char *env[512];
    size_t n = 0;

    for (char **e = environ; *e && n < 400; e++)
        if (strncmp(*e, "SOVCTL_", 7) != 0 && strncmp(*e, "HOME=", 5) != 0 &&
            strncmp(*e, "XDG_CONFIG_HOME=", 16) != 0 && strncmp(*e, "NO_COLOR=", 9) != 0)
            env[n++] = *e;
    snprintf(home_env, sizeof(home_env), "HOME=%s", home);
    env[n++] = home_env;
    for (size_t i = 0; extra && extra[i] && n < 510; i++)
        env[n++] = (char *) extra[i];
    env[n] = NULL;
    return env;
}

static pid_t
spawn(const char *input, const char *const *env, const char *const *args, int *in_fd)
{
    char out[700], err[700];
    const char *argv[MAX_ARGV + 2] = { tl_env("SOV_SOVCTL") };
    int pipefd[2];
    size_t n = 1;
    pid_t pid;

    for (size_t i = 0; args[i] && n <= MAX_ARGV; i++)
        argv[n++] = args[i];
    snprintf(out, sizeof(out), "%s/out", tmp);
    snprintf(err, sizeof(err), "%s/err", tmp);
    ck_assert(pipe(pipefd) == 0);
    pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(pipefd[0], 0);
        dup2(o, 1);
        dup2(e, 2);
        close(pipefd[1]);
        execve(argv[0], (char **) argv, child_env(env));
        _exit(127);
    }
    close(pipefd[0]);
    if (input && write(pipefd[1], input, strlen(input)) < 0)
        ck_abort_msg("could not write to sovctl: %s", strerror(errno));
    if (in_fd)
        *in_fd = pipefd[1];
    else
        close(pipefd[1]);
    return pid;
}

static void
collect(pid_t pid, run *r)
{
    char path[700];
    int status;

    ck_assert(waitpid(pid, &status, 0) == pid);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    snprintf(path, sizeof(path), "%s/out", tmp);
    r->out = tl_read_file(path);
    snprintf(path, sizeof(path), "%s/err", tmp);
    r->err = tl_read_file(path);
    ck_assert(r->out && r->err);
    r->json = json_loads(r->out, 0, NULL);
}

/* sovctl with args; input on stdin (may be NULL); env entries added (may be NULL). */
static void
sovctl_v(run *r, const char *input, const char *const *env, const char *const *args)
{
    memset(r, 0, sizeof(*r));
    collect(spawn(input, env, args, NULL), r);
}

#define SOVCTL(r, ...) sovctl_v((r), NULL, NULL, (const char *const[]) { __VA_ARGS__, NULL })
#define SOVCTL_ENV(r, env, ...) \
    sovctl_v((r), NULL, (const char *const[]) { env, NULL }, \
             (const char *const[]) { __VA_ARGS__, NULL })

/* Run, and want exit status 0: the output is parsed JSON when -o json was given. */
#define SOVCTL_OK(r, ...)                                                                  \
    do {                                                                                   \
        SOVCTL((r), __VA_ARGS__);                                                          \
        ck_assert_msg((r)->status == 0, "sovctl exited %d\nstdout: %s\nstderr: %s",       \
                      (r)->status, (r)->out, (r)->err);                                    \
    } while (0)

static size_t
items(const run *r)
{
    const json_t *list = json_object_get(r->json, "items");

    ck_assert_msg(json_is_array(list), "no items in: %s", r->out);
    return json_array_size(list);
}

static void
assert_has(const char *text, const char *part)
{
    ck_assert_msg(text && strstr(text, part), "'%s' not in:\n%s", part, text ? text : "(null)");
}

static size_t
count_lines(const char *text, const char *prefix)
{
    const char *p = text;
    size_t n = 0;

    while (p && *p) {
        if (strncmp(p, prefix, strlen(prefix)) == 0)
            n++;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return n;
}

/* ---- fixture ---- */

static void
setup(void)
{
    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    op = NULL;
    snprintf(home, sizeof(home), "%s/home", tmp);
    ck_assert(mkdir(home, 0755) == 0);
}

static void
teardown(void)
{
    int rc = sovd.pid > 0 ? tl_sovd_stop(&sovd, SIGTERM, 30) : 0;

    tl_sovd_discard(&sovd);
    tl_db_drop(db);
    free(db);
    free(op);
    tl_tmpdir_remove(tmp);
    free(tmp);
    ck_assert_msg(rc == 0, "sovd exited with %d on SIGTERM", rc);
}

static void
start_with(const char *const *args)
{
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
    snprintf(token_file, sizeof(token_file), "%s/operator.token", sovd.state);
}

static void
start(void)
{
    start_with(NULL);
}

/* Start sovd and log in as its operator (profile default). */
static void
start_logged_in(void)
{
    run r;

    start();
    SOVCTL_OK(&r, "login", "--endpoint", sovd.base, "--token-file", token_file);
    run_free(&r);
}

static void
config_path(char *buf, size_t size)
{
    snprintf(buf, size, "%s/.config/sovctl/config", home);
}

/* ---- login and configuration ---- */

START_TEST(login_writes_a_private_config_and_whoami_reads_it)
{
    char path[700], *text;
    struct stat st;
    run r;

    config_path(path, sizeof(path));
    start();
    SOVCTL_OK(&r, "login", "--endpoint", sovd.base, "--token-file", token_file);
    assert_has(r.out, "as operator <operator@localhost>");
    run_free(&r);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_msg((st.st_mode & 0777) == 0600, "config mode %o", st.st_mode & 0777);
    *strrchr(path, '/') = '\0';
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_msg((st.st_mode & 0777) == 0700, "config folder mode %o", st.st_mode & 0777);
    config_path(path, sizeof(path));
    text = tl_read_file(path);
    assert_has(text, sovd.base);
    assert_has(text, op);
    free(text);

    SOVCTL_OK(&r, "whoami", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "role"), "operator");
    ck_assert_str_eq(tl_str(json_object_get(r.json, "tenant"), "name"), "operator");
    run_free(&r);
    SOVCTL_OK(&r, "whoami");
    assert_has(r.out, "role      operator\n");
    /* README.md shows whoami's output: each line it shows starts as sovctl's line does. */
    {
        char readme[1024], *doc, *at, *end;
        const char *labels[] = { "user      ", "user id   ", "role      ", "tenant    ",
                                 "token     ", "endpoint  " };

        snprintf(readme, sizeof(readme), "%s/README.md", tl_env("SOV_SOURCE_ROOT"));
        doc = tl_read_file(readme);
        at = strstr(doc, "whoami\n# user ");
        ck_assert_msg(at, "README.md shows no whoami output");
        end = strstr(at, "\n```");
        ck_assert_ptr_nonnull(end);
        *end = '\0';
        for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
            char want[32];
            snprintf(want, sizeof(want), "\n# %s", labels[i]);
            ck_assert_msg(strstr(at, want), "README's whoami lacks '%s'", labels[i]);
            snprintf(want, sizeof(want), "%s%s", i == 0 ? "" : "\n", labels[i]);
            ck_assert_msg(i == 0 ? strncmp(r.out, labels[0], strlen(labels[0])) == 0
                                 : strstr(r.out, want) != NULL,
                          "sovctl whoami lacks '%s': %s", labels[i], r.out);
        }
        free(doc);
    }
    run_free(&r);
}
END_TEST

START_TEST(login_reads_a_token_from_stdin_and_refuses_one_on_the_command_line)
{
    char input[128];
    run r;

    start();
    snprintf(input, sizeof(input), "%s\n", op);
    sovctl_v(&r, input, NULL,
             (const char *const[]) { "login", "--endpoint", sovd.base, "--token", "-", NULL });
    ck_assert_msg(r.status == 0, "%s", r.err);
    run_free(&r);
    SOVCTL(&r, "login", "--endpoint", sovd.base, "--token", op);
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "--token-file");
    run_free(&r);
}
END_TEST

START_TEST(login_with_a_bad_token_saves_nothing)
{
    char bad[700], path[700];
    struct stat st;
    run r;

    config_path(path, sizeof(path));
    start();
    snprintf(bad, sizeof(bad), "%s/bad.token", tmp);
    ck_assert_int_eq(tl_sh("echo sov_nothing > '%s'", bad), 0);
    SOVCTL(&r, "login", "--endpoint", sovd.base, "--token-file", bad);
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "authentication required");
    assert_has(r.err, "hint:");
    ck_assert_int_eq(stat(path, &st), -1);
    run_free(&r);
}
END_TEST

START_TEST(environment_overrides_and_profiles)
{
    char good_ep[128], refused_ep[128], tok[128];
    int fd;
    run r;

    start_logged_in();
    snprintf(refused_ep, sizeof(refused_ep), "http://127.0.0.1:%u", tl_refused_port(&fd));
    SOVCTL_OK(&r, "login", "--profile", "broken", "--endpoint", refused_ep, "--token-file",
              token_file, "--no-verify");
    run_free(&r);

    SOVCTL_OK(&r, "profile", "list", "-o", "json");
    ck_assert_int_eq(json_array_size(r.json), 2);
    ck_assert(json_is_true(json_object_get(json_array_get(r.json, 0), "current")));
    run_free(&r);

    SOVCTL(&r, "--profile", "broken", "whoami", "--retries", "0");
    ck_assert_int_eq(r.status, 3);
    assert_has(r.err, "could not reach");
    run_free(&r);
    SOVCTL_ENV(&r, "SOVCTL_PROFILE=broken", "whoami", "--retries", "0");
    ck_assert_int_eq(r.status, 3);
    run_free(&r);

    /* SOVCTL_ENDPOINT beats the profile's endpoint. */
    snprintf(good_ep, sizeof(good_ep), "SOVCTL_ENDPOINT=%s", sovd.base);
    sovctl_v(&r, NULL, (const char *const[]) { good_ep, "SOVCTL_PROFILE=broken", NULL },
             (const char *const[]) { "whoami", "-o", "json", NULL });
    ck_assert_msg(r.status == 0, "%s", r.err);
    run_free(&r);

    SOVCTL_OK(&r, "profile", "use", "broken");
    run_free(&r);
    SOVCTL(&r, "whoami", "--retries", "0");
    ck_assert_int_eq(r.status, 3);
    run_free(&r);
    SOVCTL_OK(&r, "profile", "use", "default");
    run_free(&r);
    SOVCTL(&r, "--profile", "missing", "whoami");
    ck_assert_int_eq(r.status, 2);
    run_free(&r);

    /* No config at all: the environment says everything. */
    snprintf(home, sizeof(home), "%s/empty-home", tmp);
    ck_assert(mkdir(home, 0755) == 0);
    snprintf(tok, sizeof(tok), "SOVCTL_TOKEN=%s", op);
    sovctl_v(&r, NULL, (const char *const[]) { good_ep, tok, NULL },
             (const char *const[]) { "whoami", "-o", "json", NULL });
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_str_eq(tl_str(r.json, "role"), "operator");
    run_free(&r);
    SOVCTL(&r, "whoami");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "no endpoint");
    run_free(&r);
    close(fd);
}
END_TEST

/* ---- identity ---- */

START_TEST(tenant_user_and_token_in_json)
{
    char tenv[128], tenant_id[64];
    run r;

    start_logged_in();
    SOVCTL_OK(&r, "tenant", "create", "--name", "acme", "--display-name", "Acme GmbH", "-o",
              "json");
    ck_assert_str_eq(tl_str(r.json, "name"), "acme");
    snprintf(tenant_id, sizeof(tenant_id), "%s", tl_str(r.json, "id"));
    run_free(&r);

    SOVCTL_OK(&r, "user", "create", "--tenant", "acme", "--name", "Alice", "--email",
              "alice@acme.eu", "--role", "admin", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "tenant_id"), tenant_id);
    run_free(&r);
    SOVCTL_OK(&r, "user", "list", "--tenant", "acme", "-o", "json");
    ck_assert_int_eq(items(&r), 1);
    ck_assert_str_eq(tl_str(json_array_get(json_object_get(r.json, "items"), 0), "email"),
                     "alice@acme.eu");
    run_free(&r);

    SOVCTL_OK(&r, "token", "create", "--name", "alice-laptop", "--user", "alice@acme.eu",
              "--tenant", "acme", "--expires-at", "2099-06-30T00:00:00Z", "-o", "json");
    ck_assert_int_eq(strncmp(tl_str(r.json, "secret"), "sov_", 4), 0);
    snprintf(tenv, sizeof(tenv), "SOVCTL_TOKEN=%s", tl_str(r.json, "secret"));
    run_free(&r);

    /* SOVCTL_TOKEN beats the profile's token. */
    SOVCTL_ENV(&r, tenv, "whoami", "-o", "json");
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(tl_str(r.json, "role"), "admin");
    ck_assert_str_eq(tl_str(json_object_get(r.json, "tenant"), "name"), "acme");
    run_free(&r);
    SOVCTL_ENV(&r, tenv, "token", "list", "-o", "json");
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(items(&r), 1);
    ck_assert_str_eq(tl_str(json_array_get(json_object_get(r.json, "items"), 0), "name"),
                     "alice-laptop");
    run_free(&r);
    SOVCTL_OK(&r, "tenant", "list", "-o", "json");
    ck_assert_int_eq(items(&r), 2);
    run_free(&r);

    /* -o wide names the tenant: for an operator from the tenants, for a tenant's admin (who
     * may not list tenants) from /v1/me; the id only in -o json. */
    SOVCTL_OK(&r, "user", "list", "--tenant", "acme", "-o", "wide");
    assert_has(r.out, "TENANT");
    assert_has(r.out, " acme");
    ck_assert_msg(!strstr(r.out, tenant_id), "%s", r.out);
    run_free(&r);
    SOVCTL_ENV(&r, tenv, "token", "list", "-o", "wide");
    ck_assert_msg(r.status == 0, "%s", r.err);
    assert_has(r.out, " acme");
    ck_assert_msg(!strstr(r.out, tenant_id), "%s", r.out);
    ck_assert_str_eq(r.err, "");
    run_free(&r);
}
END_TEST

START_TEST(token_create_shows_the_secret_once)
{
    run r;

    start_logged_in();
    SOVCTL_OK(&r, "token", "create", "--name", "ci");
    assert_has(r.out, "secret ");
    assert_has(r.out, "sov_");
    assert_has(r.err, "shown only this once");
    run_free(&r);
    SOVCTL_OK(&r, "token", "list", "-o", "json");
    ck_assert_ptr_null(strstr(r.out, "\"secret\""));
    run_free(&r);
}
END_TEST

/* ---- tables ---- */

START_TEST(tables_are_aligned_text_without_colour)
{
    static const char regions[] =
        "CODE        NAME   COUNTRY  JURISDICTION  DATACENTER  ZONES\n"
        "de-fra-1    Frank  DE       EU            FRA7        a\n"
        "fr-paris-1  Paris  FR       EU            PAR1        a,b\n"
        "no-osl-1    Oslo   NO       EEA           OSL2        a,b,c\n";
    static const char flavors[] =
        "NAME   VCPUS  MEMORY   DISK     GPUS\n"
        "large  8      32 GiB   200 GiB  0\n"
        "small  1      512 MiB  10 GiB   0\n";
    run r;

    start_logged_in();
    SOVCTL_OK(&r, "region", "create", "--code", "fr-paris-1", "--name", "Paris", "--country",
              "FR", "--datacenter", "PAR1", "--zones", "a,b");
    run_free(&r);
    SOVCTL_OK(&r, "region", "create", "--code", "de-fra-1", "--name", "Frank", "--country", "DE",
              "--datacenter", "FRA7", "--zones", "a");
    run_free(&r);
    SOVCTL_OK(&r, "region", "create", "--code", "no-osl-1", "--name", "Oslo", "--country", "NO",
              "--datacenter", "OSL2", "--zones", "a", "--zones", "b,c");
    run_free(&r);
    SOVCTL_OK(&r, "region", "list");
    ck_assert_str_eq(r.out, regions);
    ck_assert_ptr_null(strchr(r.out, '\033'));
    run_free(&r);
    SOVCTL_ENV(&r, "NO_COLOR=1", "region", "list");
    ck_assert_str_eq(r.out, regions);
    run_free(&r);
    SOVCTL_OK(&r, "regions", "list", "-o", "wide");
    assert_has(r.out, "CODE        NAME   COUNTRY  JURISDICTION  DATACENTER  ZONES  CREATED\n");
    run_free(&r);

    SOVCTL_OK(&r, "flavor", "create", "--name", "small", "--vcpus", "1", "--memory-mib", "512",
              "--disk-gib", "10");
    run_free(&r);
    SOVCTL_OK(&r, "flavor", "create", "--name", "large", "--vcpus", "8", "--memory-mib",
              "32768", "--disk-gib", "200");
    run_free(&r);
    SOVCTL_OK(&r, "flavor", "list");
    ck_assert_str_eq(r.out, flavors);
    run_free(&r);
    SOVCTL_OK(&r, "flavor", "show", "small", "-o", "json");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "memory_mib")), 512);
    run_free(&r);
}
END_TEST

START_TEST(lists_follow_pages_and_stop_at_the_limit)
{
    char name[32];
    run r;

    start_logged_in();
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof(name), "size-%d", i);
        SOVCTL_OK(&r, "flavor", "create", "--name", name, "--vcpus", "1", "--memory-mib", "256",
                  "--disk-gib", "1");
        run_free(&r);
    }
    SOVCTL_OK(&r, "flavor", "list", "--page-size", "2", "-o", "json", "-v");
    ck_assert_int_eq(items(&r), 7);
    ck_assert(json_is_null(json_object_get(r.json, "next")));
    ck_assert_int_eq(count_lines(r.err, "> GET "), 4);
    run_free(&r);

    SOVCTL_OK(&r, "flavor", "list", "--page-size", "2", "--limit", "3", "-o", "json", "-v");
    ck_assert_int_eq(items(&r), 3);
    ck_assert(json_is_string(json_object_get(r.json, "next")));
    ck_assert_int_eq(count_lines(r.err, "> GET "), 2);
    run_free(&r);

    SOVCTL_OK(&r, "flavor", "list", "--limit", "3");
    ck_assert_int_eq(count_lines(r.out, "size-"), 3);
    assert_has(r.err, "more with a higher --limit");
    run_free(&r);
}
END_TEST

/* Operations come newest first: by creation time, the id breaking ties, across pages with
 * nothing lost or repeated. 40 are made in one statement (one created_at for all: only the
 * id orders them) and 40 a microsecond apart (ids random: only the time orders them). */
START_TEST(operations_list_newest_first_across_pages)
{
    char path[200], *want, *got = NULL, *sovctl_got = NULL, *tenant;
    size_t n = 0;
    run r;

    start_logged_in();
    tenant = tl_db_value(db, "SELECT id FROM tenants LIMIT 1");
    ck_assert(tenant && *tenant);
    free(tl_db_exec(db, "INSERT INTO operations (tenant_id, kind, state, resource_id)"
                        " SELECT (SELECT id FROM tenants LIMIT 1), 'order.fixture', 'succeeded',"
                        " 'same-' || g FROM generate_series(1, 40) g"));
    free(tl_db_exec(db, "INSERT INTO operations (tenant_id, kind, state, resource_id,"
                        " created_at) SELECT (SELECT id FROM tenants LIMIT 1), 'order.fixture',"
                        " 'succeeded', 'seq-' || g, now() + g * interval '1 microsecond'"
                        " FROM generate_series(1, 40) g"));
    want = tl_db_value(db, "SELECT string_agg(id::text, ',' ORDER BY created_at DESC, id DESC)"
                           " FROM operations");
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM operations"), 80);

    /* The API, 7 at a time. */
    snprintf(path, sizeof(path), "/v1/operations?limit=7");
    for (int pages = 0; pages < 20; pages++) {
        json_t *page = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
        const json_t *list = json_object_get(page, "items"), *item, *next;
        size_t i;
        json_array_foreach(list, i, item) {
            char *joined = NULL;
            ck_assert(asprintf(&joined, "%s%s%s", got ? got : "", got ? "," : "",
                               tl_str(item, "id")) > 0);
            free(got);
            got = joined;
            n++;
        }
        next = json_object_get(page, "next");
        if (!json_is_string(next)) {
            json_decref(page);
            break;
        }
        snprintf(path, sizeof(path), "%s", json_string_value(next));
        json_decref(page);
    }
    ck_assert_uint_eq(n, 80);
    ck_assert_str_eq(got, want);
    /* The later of the microsecond ones first, seq-40 down to seq-1, before the 40 made
     * together. */
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM (SELECT resource_id, row_number()"
                                   " OVER (ORDER BY created_at DESC, id DESC) AS pos FROM"
                                   " operations) o WHERE resource_id LIKE 'seq-%%' AND pos ="
                                   " 41 - substr(resource_id, 5)::int"), 40);

    /* sovctl follows the same pages. */
    SOVCTL_OK(&r, "operation", "list", "--page-size", "7", "-o", "json");
    ck_assert_int_eq(items(&r), 80);
    {
        const json_t *item;
        size_t i;
        json_array_foreach(json_object_get(r.json, "items"), i, item) {
            char *joined = NULL;
            ck_assert(asprintf(&joined, "%s%s%s", sovctl_got ? sovctl_got : "",
                               sovctl_got ? "," : "", tl_str(item, "id")) > 0);
            free(sovctl_got);
            sovctl_got = joined;
        }
    }
    ck_assert_str_eq(sovctl_got, want);
    run_free(&r);

    /* A cursor that names no operation is a 400, not an empty page. */
    {
        tl_resp resp;
        tl_call(&sovd, "GET", "/v1/operations?after=00000000-0000-4000-8000-000000000000", op,
                NULL, &resp);
        tl_assert_problem(&resp, 400, "/problems/invalid-request");
        assert_has(resp.body, "\"after\"");
        tl_resp_free(&resp);
    }
    free(got);
    free(sovctl_got);
    free(want);
    free(tenant);
}
END_TEST

/* ---- errors ---- */

START_TEST(api_errors_show_title_detail_and_fields_and_exit_1)
{
    run r;

    start_logged_in();
    SOVCTL(&r, "flavor", "show", "nope");
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, "sovctl: resource does not exist: flavor 'nope' does not exist\n");
    ck_assert_str_eq(r.out, "");
    run_free(&r);

    SOVCTL(&r, "flavor", "create", "--name", "tiny", "--vcpus", "0", "--memory-mib", "256",
           "--disk-gib", "1");
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "sovctl: request is invalid: ");
    assert_has(r.err, "\n  --vcpus: vcpus must be from 1 to 1024\n");
    run_free(&r);

    SOVCTL(&r, "tenant", "create", "--name", "twice");
    run_free(&r);
    SOVCTL(&r, "tenant", "create", "--name", "twice");
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "tenant name 'twice' is taken");
    run_free(&r);

    SOVCTL(&r, "instance", "show", "ghost");
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "no instance is named 'ghost'");
    run_free(&r);
}
END_TEST

START_TEST(usage_errors_exit_2_with_a_hint)
{
    run r;

    start_logged_in();
    SOVCTL(&r, "tenant", "frobnicate");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "'frobnicate' is not a verb of tenant");
    assert_has(r.err, "Run 'sovctl tenant --help'");
    run_free(&r);
    SOVCTL(&r, "flavor", "create", "--vcpus", "2");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "missing --name NAME");
    assert_has(r.err, "Run 'sovctl flavor create --help'");
    run_free(&r);
    SOVCTL(&r, "flavor", "create", "--name", "x", "--vcpus", "two", "--memory-mib", "1",
           "--disk-gib", "1");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "--vcpus wants a whole number");
    run_free(&r);
    SOVCTL(&r, "region", "list", "--colour");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "unknown flag --colour");
    run_free(&r);
    SOVCTL(&r, "region", "list", "-o", "yaml");
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
    SOVCTL(&r, "region", "show");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "missing CODE");
    run_free(&r);
    SOVCTL(&r, "tenant", "update", "acme");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "nothing to change");
    run_free(&r);
    SOVCTL(&r, "bogus");
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
}
END_TEST

START_TEST(an_unreachable_endpoint_exits_3)
{
    char ep[128];
    int fd;
    run r;

    start_logged_in();
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%u", tl_refused_port(&fd));
    SOVCTL(&r, "--endpoint", ep, "region", "list", "--retries", "1");
    ck_assert_int_eq(r.status, 3);
    assert_has(r.err, "could not reach");
    run_free(&r);
    SOVCTL(&r, "--endpoint", "ftp://example.eu", "region", "list");
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
    close(fd);
}
END_TEST

START_TEST(insecure_warns)
{
    run r;

    start_logged_in();
    SOVCTL_OK(&r, "--insecure", "whoami");
    assert_has(r.err, "warning: TLS certificates are not verified");
    run_free(&r);
    SOVCTL_OK(&r, "whoami");
    ck_assert_ptr_null(strstr(r.err, "warning"));
    run_free(&r);
}
END_TEST

/* ---- idempotency ---- */

START_TEST(creates_carry_an_idempotency_key)
{
    char first[64];
    run r;

    start_logged_in();
    SOVCTL_ENV(&r, "SOVCTL_IDEMPOTENCY_KEY=retry-1", "tenant", "create", "--name", "once",
               "-o", "json");
    ck_assert_int_eq(r.status, 0);
    snprintf(first, sizeof(first), "%s", tl_str(r.json, "id"));
    run_free(&r);
    SOVCTL_ENV(&r, "SOVCTL_IDEMPOTENCY_KEY=retry-1", "tenant", "create", "--name", "once");
    ck_assert_msg(r.status == 0, "%s", r.err);
    assert_has(r.out, first);
    assert_has(r.err, "nothing new was made");
    run_free(&r);
    SOVCTL_OK(&r, "tenant", "create", "--name", "again", "--idempotency-key", "retry-2");
    run_free(&r);
    SOVCTL_OK(&r, "tenant", "create", "--name", "again", "--idempotency-key", "retry-2");
    run_free(&r);

    SOVCTL_OK(&r, "tenant", "list", "-o", "json");
    ck_assert_int_eq(items(&r), 3);
    run_free(&r);
    /* Without a key given, each create has its own: the second one is refused. */
    SOVCTL(&r, "tenant", "create", "--name", "once");
    ck_assert_int_eq(r.status, 1);
    run_free(&r);
}
END_TEST

/* ---- help and completion ---- */

START_TEST(help_and_bash_completion)
{
    static const char *const resources[] = { "region", "host", "flavor", "image", "instance",
                                             "operation", "tenant", "workspace", "user",
                                             "token", "quota", "audit", "residency",
                                             "placement", "whoami", "login", "completion" };
    char script[700];
    run r;

    start();
    SOVCTL_OK(&r, "--help");
    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++)
        assert_has(r.out, resources[i]);
    run_free(&r);
    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
        SOVCTL(&r, resources[i], "--help");
        ck_assert_msg(r.status == 0, "%s --help: %d %s", resources[i], r.status, r.err);
        assert_has(r.out, resources[i]);
        run_free(&r);
    }
    SOVCTL_OK(&r, "instance", "create", "--help");
    assert_has(r.out, "--flavor FLAVOR");
    assert_has(r.out, "--wait");
    assert_has(r.out, "Calls POST /v1/instances");
    run_free(&r);
    SOVCTL(&r, "instance");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "Verbs:");
    run_free(&r);

    SOVCTL_OK(&r, "completion", "bash");
    assert_has(r.out, "complete -F _sovctl sovctl");
    snprintf(script, sizeof(script), "%s/sovctl.bash", tmp);
    ck_assert_int_eq(tl_sh("cp '%s/out' '%s' && bash -n '%s'", tmp, script, script), 0);
    ck_assert_int_eq(tl_sh("bash -c 'source \"%s\"; COMP_WORDS=(sovctl instance \"\"); "
                           "COMP_CWORD=2; _sovctl; [[ \" ${COMPREPLY[*]} \" == *\" create \"* ]]'",
                           script), 0);
    run_free(&r);
}
END_TEST

/* ---- the rest of the API ---- */

START_TEST(quota_audit_policy_and_placement)
{
    run r;

    start_logged_in();
    SOVCTL_OK(&r, "tenant", "create", "--name", "acme");
    run_free(&r);
    SOVCTL_OK(&r, "quota", "set", "--tenant", "acme", "--vcpus", "12", "-o", "json");
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_object_get(json_object_get(r.json, "quotas"), "vcpus"), "limit")),
                     12);
    run_free(&r);
    SOVCTL_OK(&r, "quota", "show", "--tenant", "acme");
    assert_has(r.out, "QUOTA");
    assert_has(r.out, "vcpus                 12");
    run_free(&r);

    SOVCTL_OK(&r, "residency", "policy", "set", "--tenant", "acme", "--jurisdictions", "EU",
              "--countries", "FR,DE", "-o", "json");
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "countries")), 2);
    run_free(&r);
    SOVCTL_OK(&r, "residency", "policy", "show", "--tenant", "acme");
    assert_has(r.out, "countries      FR,DE\n");
    run_free(&r);

    SOVCTL_OK(&r, "audit", "verify");
    assert_has(r.out, "The audit chain is intact");
    run_free(&r);
    SOVCTL_OK(&r, "audit", "list", "--action", "quotas.set", "-o", "json");
    ck_assert_int_eq(items(&r), 1);
    run_free(&r);

    SOVCTL(&r, "placement", "dry-run", "--vcpus", "1", "--memory-mib", "512");
    ck_assert_int_eq(r.status, 1);      /* no host at all */
    run_free(&r);
    SOVCTL_OK(&r, "system", "ready", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "status"), "ready");
    run_free(&r);
}
END_TEST

/* ---- instances on libvirt's test driver ---- */

static void
start_worker(void)
{
    char store[700];
    const char *args[] = { "--role=api,worker,reconciler", "--image-allow-file-urls=true",
                           store, NULL };
    run r;

    snprintf(store, sizeof(store), "--image-store=%s/store", tmp);
    start_with(args);
    SOVCTL_OK(&r, "login", "--endpoint", sovd.base, "--token-file", token_file);
    run_free(&r);
    SOVCTL_OK(&r, "region", "create", "--code", REGION, "--name", "Paris", "--country", "FR",
              "--datacenter", "PAR1", "--zones", "a");
    run_free(&r);
}

START_TEST(instance_create_and_delete_with_wait)
{
    char disk[700], key[700];
    run r;

    start_worker();
    snprintf(disk, sizeof(disk), "%s/disk.qcow2", tmp);
    snprintf(key, sizeof(key), "%s/id.pub", tmp);
    ck_assert_int_eq(tl_sh("qemu-img create -q -f qcow2 '%s' 64M", disk), 0);
    ck_assert_int_eq(tl_sh("echo 'ssh-ed25519 AAAAC3Nza test@cli' > '%s'", key), 0);
    /* Registration is an operation: sovctl follows it and shows the host discovered. */
    SOVCTL_OK(&r, "host", "create", "--name", "kvm-1", "--region", REGION, "--zone", "a",
              "--libvirt-uri", "test:///default", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "up");
    ck_assert_str_eq(tl_str(r.json, "hypervisor"), "test");
    assert_has(r.err, "host.register");
    run_free(&r);
    /* The same machine again: refused, naming the host it is. */
    SOVCTL(&r, "host", "create", "--name", "kvm-2", "--region", REGION, "--zone", "a",
           "--libvirt-uri", "test:///default");
    ck_assert_msg(r.status != 0, "a second registration of kvm-1's machine: %s", r.out);
    assert_has(r.err, "'kvm-1'");
    run_free(&r);
    SOVCTL_OK(&r, "flavor", "create", "--name", "small", "--vcpus", "1", "--memory-mib", "256",
              "--disk-gib", "1");
    run_free(&r);

    /* Created, then streamed from the file. */
    SOVCTL_OK(&r, "image", "create", "--name", "base", "--region", REGION, "--format", "qcow2",
              "--file", disk, "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "active");
    run_free(&r);

    SOVCTL_OK(&r, "instance", "create", "--name", "web-1", "--flavor", "small", "--image",
              "base", "--ssh-key", key, "--wait", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "running");
    ck_assert_str_eq(tl_str(r.json, "name"), "web-1");
    assert_has(r.err, "instance.create");
    run_free(&r);

    /* -o wide names the image, the flavor and the tenant; their ids stay in -o json. */
    {
        char *ids = tl_db_value(db, "SELECT image_id || ' ' || flavor_id || ' ' || tenant_id"
                                    " FROM instances WHERE name = 'web-1'");
        char *tenant = tl_db_value(db, "SELECT t.name FROM tenants t JOIN instances i"
                                       " ON i.tenant_id = t.id WHERE i.name = 'web-1'");
        SOVCTL_OK(&r, "instance", "list", "-o", "wide");
        assert_has(r.out, " base ");
        assert_has(r.out, " small ");
        assert_has(r.out, tenant);
        for (char *save = NULL, *id = strtok_r(ids, " ", &save); id;
             id = strtok_r(NULL, " ", &save))
            ck_assert_msg(!strstr(r.out, id), "%s in:\n%s", id, r.out);
        run_free(&r);
        free(ids);
        free(tenant);
    }

    SOVCTL_OK(&r, "instance", "stop", "web-1", "--wait");
    assert_has(r.out, "stopped");
    run_free(&r);
    /* A refusal before the upgrade is said as any API error: title and detail, exit 1. */
    sovctl_v(&r, "", NULL,
             (const char *const[]) { "instance", "console", "web-1", "--interactive", NULL });
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "only while it runs");
    run_free(&r);
    SOVCTL_OK(&r, "instance", "start", "web-1");
    assert_has(r.err, "follow it with: sovctl operation wait ");
    run_free(&r);
    SOVCTL_OK(&r, "operation", "list", "--limit", "1", "-o", "json");
    ck_assert_int_eq(items(&r), 1);
    {
        char id[64];
        snprintf(id, sizeof(id), "%s", tl_str(json_array_get(json_object_get(r.json, "items"), 0),
                                          "id"));
        run_free(&r);
        SOVCTL_OK(&r, "operation", "wait", id, "-o", "json");
        ck_assert_str_eq(tl_str(r.json, "state"), "succeeded");
        run_free(&r);
    }
    SOVCTL_OK(&r, "instance", "console", "web-1");
    run_free(&r);
    /* --tail-bytes is the API's tail_bytes: its bounds are the API's. */
    SOVCTL_OK(&r, "instance", "console", "web-1", "--tail-bytes", "16");
    ck_assert_uint_le(strlen(r.out), 16);
    run_free(&r);
    SOVCTL(&r, "instance", "console", "web-1", "--tail-bytes", "0");
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "tail_bytes");
    run_free(&r);
    /* --interactive: the console itself over the API's WebSocket (the test driver's
     * stand-in echoes); stdin not a terminal: sent, then what answers within a second. */
    sovctl_v(&r, "typed-into-sovctl\n", NULL,
             (const char *const[]) { "instance", "console", "web-1", "--interactive", NULL });
    ck_assert_msg(r.status == 0, "sovctl exited %d\nstdout: %s\nstderr: %s", r.status, r.out,
                  r.err);
    assert_has(r.out, "sovereign test console");
    assert_has(r.out, "typed-into-sovctl");
    run_free(&r);
    SOVCTL(&r, "instance", "console", "web-1", "--force");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "--interactive");
    run_free(&r);
    SOVCTL_OK(&r, "residency", "history", "--instance", "web-1", "-o", "json");
    ck_assert_uint_ge(items(&r), 1);
    run_free(&r);

    SOVCTL_OK(&r, "instance", "delete", "web-1", "--wait");
    assert_has(r.out, "instance web-1 deleted");
    run_free(&r);
    SOVCTL_OK(&r, "instance", "list", "-o", "json");
    ck_assert_int_eq(items(&r), 0);
    run_free(&r);
    SOVCTL_OK(&r, "instance", "list");
    assert_has(r.err, "No instances found.");
    run_free(&r);
}
END_TEST

/* Maintenance and evacuation through sovctl: a host put in maintenance and back up; an
 * evacuation followed to its end says what moved, stayed and failed. */
START_TEST(host_maintenance_and_evacuation)
{
    run r;

    start_worker();
    SOVCTL_OK(&r, "host", "create", "--name", "kvm-1", "--region", REGION, "--zone", "a",
              "--libvirt-uri", "test:///default", "-o", "json");
    run_free(&r);
    SOVCTL_OK(&r, "host", "maintenance", "kvm-1");
    assert_has(r.out, "maintenance");
    run_free(&r);
    SOVCTL_OK(&r, "host", "show", "kvm-1", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "maintenance");
    run_free(&r);
    SOVCTL_OK(&r, "host", "update", "kvm-1", "--state", "up", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "up");
    run_free(&r);
    SOVCTL_OK(&r, "host", "evacuate", "kvm-1", "--wait");
    assert_has(r.out, "succeeded: 0 moved, 0 stayed, 0 failed");
    assert_has(r.err, "host.evacuate");
    run_free(&r);
    SOVCTL_OK(&r, "host", "evacuate", "kvm-1", "--wait", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "kind"), "host.evacuate");
    ck_assert_str_eq(tl_str(json_object_get(r.json, "result"), "phase"), "done");
    run_free(&r);
    SOVCTL_OK(&r, "host", "show", "kvm-1", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "maintenance");
    run_free(&r);
    SOVCTL(&r, "host", "evacuate", "no-such-host");
    ck_assert_int_ne(r.status, 0);
    run_free(&r);
}
END_TEST

/* Migrations through sovctl on two test-driver hosts: a live one chosen by the scheduler,
 * followed with --wait; a cold one to a named host; the list of them. */
START_TEST(instance_migrate_and_migrations)
{
    char disk[700];
    char *u1 = NULL, *u2 = NULL;
    run r;

    start_worker();
    u1 = tl_test_host_uri(tmp, "mig-1", 4, 8);
    u2 = tl_test_host_uri(tmp, "mig-2", 4, 8);
    snprintf(disk, sizeof(disk), "%s/disk.qcow2", tmp);
    ck_assert_int_eq(tl_sh("qemu-img create -q -f qcow2 '%s' 64M", disk), 0);
    SOVCTL_OK(&r, "host", "create", "--name", "kvm-1", "--region", REGION, "--zone", "a",
              "--libvirt-uri", u1);
    run_free(&r);
    SOVCTL_OK(&r, "flavor", "create", "--name", "small", "--vcpus", "1", "--memory-mib", "128",
              "--disk-gib", "1");
    run_free(&r);
    SOVCTL_OK(&r, "image", "create", "--name", "base", "--region", REGION, "--format", "qcow2",
              "--file", disk);
    run_free(&r);
    SOVCTL_OK(&r, "instance", "create", "--name", "web-1", "--flavor", "small", "--image",
              "base", "--wait");
    run_free(&r);
    SOVCTL_OK(&r, "host", "create", "--name", "kvm-2", "--region", REGION, "--zone", "a",
              "--libvirt-uri", u2);
    run_free(&r);

    SOVCTL_OK(&r, "instance", "migrate", "--help");
    assert_has(r.out, "--cold");
    assert_has(r.out, "--host");
    run_free(&r);
    SOVCTL(&r, "instance", "migrations");
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
    SOVCTL(&r, "instance", "migrations", "web-1");
    ck_assert_int_eq(r.status, 0);
    assert_has(r.err, "No migrations found.");
    run_free(&r);

    SOVCTL_OK(&r, "instance", "migrate", "web-1", "--wait", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "running");
    ck_assert_str_eq(tl_str(json_object_get(r.json, "host"), "name"), "kvm-2");
    assert_has(r.err, "instance.migrate");
    run_free(&r);
    SOVCTL_OK(&r, "instance", "migrate", "web-1", "--cold", "--host", "kvm-1", "--wait",
              "-o", "json");
    ck_assert_str_eq(tl_str(json_object_get(r.json, "host"), "name"), "kvm-1");
    run_free(&r);
    SOVCTL(&r, "instance", "migrate", "web-1", "--host", "kvm-1");
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "already runs there");
    run_free(&r);

    SOVCTL_OK(&r, "instance", "migrations", "web-1", "-o", "json");
    ck_assert_int_eq(items(&r), 2);
    ck_assert(json_is_true(json_object_get(json_array_get(json_object_get(r.json, "items"), 0),
                                           "live")));
    ck_assert(json_is_false(json_object_get(json_array_get(json_object_get(r.json, "items"),
                                                           1), "live")));
    run_free(&r);
    SOVCTL_OK(&r, "instance", "migrations", "web-1");
    assert_has(r.out, "SOURCE");
    assert_has(r.out, "succeeded");
    assert_has(r.out, "kvm-2");
    run_free(&r);
    free(u1);
    free(u2);
}
END_TEST

/* Volumes, snapshots and keys on libvirt's test driver, through sovctl only: types, a volume
 * attached at an instance's create, detached, hot-attached, extended, snapshotted, restored,
 * its residency; crypto-shredding refuses an encrypted volume's attach with the reason. */
START_TEST(storage_commands_against_sovd)
{
    char disk[700], tenant[64];
    run r;

    start_worker();
    snprintf(disk, sizeof(disk), "%s/disk.qcow2", tmp);
    ck_assert_int_eq(tl_sh("qemu-img create -q -f qcow2 '%s' 64M", disk), 0);
    SOVCTL_OK(&r, "host", "create", "--name", "kvm-1", "--region", REGION, "--zone", "a",
              "--libvirt-uri", "test:///default", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "up");
    run_free(&r);
    SOVCTL_OK(&r, "flavor", "create", "--name", "small", "--vcpus", "1", "--memory-mib", "256",
              "--disk-gib", "1");
    run_free(&r);
    SOVCTL_OK(&r, "image", "create", "--name", "base", "--region", REGION, "--format", "qcow2",
              "--file", disk);
    run_free(&r);

    SOVCTL_OK(&r, "volume-type", "create", "--name", "plain");
    run_free(&r);
    SOVCTL_OK(&r, "volume-type", "create", "--name", "enc", "--encrypted", "--max-iops", "100",
              "-o", "json");
    ck_assert(json_is_true(json_object_get(r.json, "encrypted")));
    ck_assert_int_eq(tl_num(r.json, "max_iops"), 100);
    run_free(&r);
    SOVCTL_OK(&r, "volume-type", "list", "-o", "json");
    ck_assert_int_eq(items(&r), 2);
    run_free(&r);
    SOVCTL_OK(&r, "volume-type", "get", "enc", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "name"), "enc");
    run_free(&r);

    /* A volume, then an instance created with it: in-use, as vdc, on its host. */
    SOVCTL_OK(&r, "volume", "create", "--name", "data-1", "--size", "1", "--type", "plain",
              "--wait", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "available");
    assert_has(r.err, "volume.create");
    run_free(&r);
    SOVCTL_OK(&r, "instance", "create", "--name", "web-1", "--flavor", "small", "--image",
              "base", "--volume", "data-1", "--wait", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "running");
    run_free(&r);
    SOVCTL_OK(&r, "volume", "show", "data-1", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "in-use");
    ck_assert_str_eq(tl_str(json_array_get(json_object_get(r.json, "attachments"), 0),
                            "device"), "vdc");
    run_free(&r);
    SOVCTL_OK(&r, "volume", "list");
    assert_has(r.out, "web-1:vdc");
    assert_has(r.out, "1 GiB");
    run_free(&r);
    SOVCTL_OK(&r, "volume", "list", "--instance", "web-1", "-o", "json");
    ck_assert_int_eq(items(&r), 1);
    run_free(&r);
    /* instance show: its fields, then its volumes as a table. */
    SOVCTL_OK(&r, "instance", "show", "web-1");
    assert_has(r.out, "\nstate ");
    assert_has(r.out, "\nvolumes:\nDEVICE  VOLUME  BOOT  ID\nvdc     data-1  no    ");
    run_free(&r);
    SOVCTL_OK(&r, "instance", "show", "web-1", "-o", "json");
    ck_assert_str_eq(tl_str(json_array_get(json_object_get(r.json, "volumes"), 0), "name"),
                     "data-1");
    run_free(&r);

    /* Detach, hot attach, extend online. */
    SOVCTL_OK(&r, "volume", "detach", "data-1", "--instance", "web-1", "--wait", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "available");
    run_free(&r);
    SOVCTL(&r, "volume", "detach", "data-1");
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "not attached");
    run_free(&r);
    SOVCTL_OK(&r, "instance", "show", "web-1");
    assert_has(r.out, "\nvolumes: none attached\n");
    run_free(&r);
    SOVCTL_OK(&r, "volume", "attach", "data-1", "--instance", "web-1", "--wait", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "in-use");
    run_free(&r);
    SOVCTL_OK(&r, "volume", "extend", "data-1", "--size", "2", "--wait", "-o", "json");
    ck_assert_int_eq(tl_num(r.json, "size_gib"), 2);
    ck_assert_str_eq(tl_str(r.json, "state"), "in-use");
    run_free(&r);

    /* A snapshot of the attached volume, restored into a new one. */
    SOVCTL_OK(&r, "snapshot", "create", "--volume", "data-1", "--name", "s1", "--wait", "-o",
              "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "available");
    run_free(&r);
    SOVCTL_OK(&r, "snapshot", "list");
    assert_has(r.out, "s1");
    assert_has(r.out, "data-1");
    run_free(&r);
    SOVCTL_OK(&r, "volume", "create", "--name", "r1", "--from-snapshot", "s1", "--type",
              "plain", "--wait", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "available");
    ck_assert_str_eq(tl_str(json_object_get(r.json, "source"), "type"), "snapshot");
    run_free(&r);
    SOVCTL_OK(&r, "volume", "residency", "data-1", "-o", "json");
    ck_assert_uint_ge(items(&r), 1);
    run_free(&r);
    SOVCTL_OK(&r, "residency", "history", "--snapshot", "s1", "-o", "json");
    ck_assert_uint_ge(items(&r), 1);
    run_free(&r);
    SOVCTL(&r, "volume", "delete", "data-1");
    ck_assert_int_eq(r.status, 1);
    run_free(&r);

    /* Crypto-shredding: the KEK destroyed, an encrypted volume's attach says why. */
    SOVCTL_OK(&r, "volume", "create", "--name", "e1", "--size", "1", "--type", "enc", "--wait",
              "-o", "json");
    ck_assert(json_is_true(json_object_get(r.json, "encrypted")));
    run_free(&r);
    SOVCTL_OK(&r, "whoami", "-o", "json");
    snprintf(tenant, sizeof(tenant), "%s", tl_str(json_object_get(r.json, "tenant"), "id"));
    run_free(&r);
    SOVCTL_OK(&r, "tenant", "kek-destroy", tenant);
    assert_has(r.out, "key-encryption key of tenant");
    assert_has(r.out, "destroyed");
    run_free(&r);
    SOVCTL(&r, "volume", "attach", "e1", "--instance", "web-1", "--wait");
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "key-encryption key");
    run_free(&r);
    SOVCTL(&r, "tenant", "kek-destroy", tenant);
    ck_assert_int_eq(r.status, 1);
    run_free(&r);

    SOVCTL_OK(&r, "volume", "delete", "r1", "--wait");
    run_free(&r);
    SOVCTL_OK(&r, "snapshot", "delete", "s1", "--wait");
    run_free(&r);
    SOVCTL(&r, "volume-type", "delete", "plain");
    ck_assert_int_eq(r.status, 1);
    run_free(&r);
}
END_TEST

START_TEST(image_upload_streams_a_file)
{
    char disk[700], id[64];
    run r;

    start_worker();
    snprintf(disk, sizeof(disk), "%s/up.qcow2", tmp);
    ck_assert_int_eq(tl_sh("qemu-img create -q -f qcow2 '%s' 32M", disk), 0);
    SOVCTL_OK(&r, "image", "create", "--name", "up", "--region", REGION, "--format", "qcow2",
              "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "queued");
    snprintf(id, sizeof(id), "%s", tl_str(r.json, "id"));
    run_free(&r);
    SOVCTL_OK(&r, "image", "upload", "up", disk, "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "state"), "active");
    ck_assert_str_eq(tl_str(r.json, "id"), id);
    run_free(&r);
    SOVCTL(&r, "image", "upload", id, disk);
    ck_assert_int_eq(r.status, 1);      /* no longer queued */
    run_free(&r);
    SOVCTL(&r, "image", "upload", id, "/nonexistent");
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
    SOVCTL_OK(&r, "image", "delete", "up", "--wait");
    run_free(&r);
}
END_TEST

START_TEST(ctrl_c_stops_waiting_and_says_how_to_follow)
{
    char src[700];
    const char *args[] = { "image", "create", "--name", "slow", "--region", REGION,
                           "--format", "raw", "--source-url", src, "--wait", NULL };
    run r;
    pid_t pid;

    /* An API without workers: the import stays queued. */
    const char *flags[] = { "--role=api", "--image-allow-file-urls=true", NULL };
    start_with(flags);
    SOVCTL_OK(&r, "login", "--endpoint", sovd.base, "--token-file", token_file);
    run_free(&r);
    SOVCTL_OK(&r, "region", "create", "--code", REGION, "--name", "Paris", "--country", "FR",
              "--datacenter", "PAR1", "--zones", "a");
    run_free(&r);
    snprintf(src, sizeof(src), "file://%s/none.raw", tmp);
    memset(&r, 0, sizeof(r));
    pid = spawn(NULL, NULL, args, NULL);
    sleep(2);
    kill(pid, SIGINT);
    collect(pid, &r);
    ck_assert_msg(r.status == 130, "exit %d: %s", r.status, r.err);
    assert_has(r.err, "the operation goes on");
    assert_has(r.err, "sovctl operation wait ");
    run_free(&r);
    SOVCTL_OK(&r, "operation", "list", "--state", "queued", "-o", "json");
    ck_assert_int_eq(items(&r), 1);
    run_free(&r);
}
END_TEST

START_TEST(residency_report_is_downloaded_and_verified)
{
    char file[700];
    run r;

    start_worker();
    snprintf(file, sizeof(file), "%s/report.csv", tmp);
    SOVCTL_OK(&r, "residency", "report", "--from", "2020-01-01T00:00:00Z", "--to",
              "2030-01-01T00:00:00Z", "-o", file);
    assert_has(r.out, "Signature verified");
    run_free(&r);
    ck_assert_int_eq(tl_sh("openssl pkeyutl -verify -pubin -inkey '%s.pem' -rawin -in '%s' "
                           "-sigfile '%s.sig' >/dev/null", file, file, file), 0);
    SOVCTL_OK(&r, "report", "verify", file);
    run_free(&r);
    ck_assert_int_eq(tl_sh("echo '# one more line' >> '%s'", file), 0);
    SOVCTL(&r, "report", "verify", file);
    ck_assert_int_eq(r.status, 1);
    assert_has(r.out, "Signature NOT verified");
    run_free(&r);
    SOVCTL_OK(&r, "report", "list", "-o", "json");
    ck_assert_int_eq(items(&r), 1);
    run_free(&r);
}
END_TEST

/* ---- a fake API that answers 503 first: retries and Idempotency-Key ---- */

static struct MHD_Daemon *fake;
static int fake_503s;               /* answer 503 to this many requests first */
static int fake_requests;
static char fake_keys[8][128];      /* the Idempotency-Key of each request, "" for none */
static char fake_last[4096];        /* the last request: "METHOD URL BODY" */
static size_t fake_body_len;

static enum MHD_Result
fake_reply(struct MHD_Connection *conn, unsigned status, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *) body,
                                                             MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc;

    MHD_add_response_header(r, "Content-Type", status >= 400 ? "application/problem+json"
                                                            : "application/json");
    if (status == 503)
        MHD_add_response_header(r, "Retry-After", "0");
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result
fake_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
             const char *version, const char *upload_data, size_t *upload_data_size,
             void **con_cls)
{
    const char *key;
    int n;

    (void) cls, (void) version;
    if (!*con_cls) {
        *con_cls = (void *) 1;      /* headers in: the body (if any) comes next */
        fake_body_len = (size_t) snprintf(fake_last, sizeof(fake_last), "%s %s ", method,
                                          url);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t room = sizeof(fake_last) - 1 - fake_body_len;
        size_t n_in = *upload_data_size < room ? *upload_data_size : room;
        memcpy(fake_last + fake_body_len, upload_data, n_in);
        fake_body_len += n_in;
        fake_last[fake_body_len] = '\0';
        *upload_data_size = 0;
        return MHD_YES;
    }
    n = fake_requests++;
    key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key");
    if (n < 8)
        snprintf(fake_keys[n], sizeof(fake_keys[n]), "%s", key ? key : "");
    if (n < fake_503s)
        return fake_reply(conn, 503, "{\"type\":\"/problems/unavailable\",\"title\":"
                                     "\"service unavailable\",\"status\":503}");
    if (strcmp(method, "GET") == 0)
        return fake_reply(conn, 200, "{\"items\":[],\"next\":null}");
    return fake_reply(conn, 201, "{\"id\":\"t-1\",\"name\":\"t\"}");
}

static void
fake_start(char *endpoint_env, size_t size)
{
    const union MHD_DaemonInfo *info;

    fake = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
                            fake_handler, NULL, MHD_OPTION_END);
    ck_assert(fake);
    info = MHD_get_daemon_info(fake, MHD_DAEMON_INFO_BIND_PORT);
    ck_assert(info);
    snprintf(endpoint_env, size, "SOVCTL_ENDPOINT=http://127.0.0.1:%u", info->port);
}

static void
fake_expect(int n_503s)
{
    fake_503s = n_503s;
    fake_requests = 0;
    memset(fake_keys, 0, sizeof(fake_keys));
}

#define FAKE(r, ...) \
    sovctl_v((r), NULL, (const char *const[]) { ep, "SOVCTL_TOKEN=sov_x", NULL }, \
             (const char *const[]) { __VA_ARGS__, NULL })

START_TEST(retries_503_on_safe_requests_with_one_idempotency_key)
{
    char ep[128];
    run r;

    fake_start(ep, sizeof(ep));
    fake_expect(2);
    FAKE(&r, "region", "list", "-o", "json");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_int_eq(fake_requests, 3);
    ck_assert_str_eq(fake_keys[0], "");
    run_free(&r);

    /* A create is safe to repeat: it carries one key, the same on every attempt. */
    fake_expect(2);
    FAKE(&r, "tenant", "create", "--name", "t");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_int_eq(fake_requests, 3);
    ck_assert_int_eq(strlen(fake_keys[0]), 36);
    ck_assert_str_eq(fake_keys[1], fake_keys[0]);
    ck_assert_str_eq(fake_keys[2], fake_keys[0]);
    run_free(&r);
    fake_expect(0);
    FAKE(&r, "tenant", "create", "--name", "t");
    ck_assert_int_eq(fake_requests, 1);
    ck_assert_int_eq(strlen(fake_keys[0]), 36);
    run_free(&r);

    /* PATCH is not retried; nor is anything with --retries 0. */
    fake_expect(1);
    FAKE(&r, "region", "update", "r", "--name", "y");
    ck_assert_int_eq(r.status, 1);
    ck_assert_int_eq(fake_requests, 1);
    assert_has(r.err, "service unavailable");
    run_free(&r);
    fake_expect(1);
    FAKE(&r, "region", "list", "--retries", "0");
    ck_assert_int_eq(r.status, 1);
    ck_assert_int_eq(fake_requests, 1);
    run_free(&r);
    MHD_stop_daemon(fake);
}
END_TEST

/* The body of the fake API's last request, parsed; "METHOD URL " before it is checked. */
static json_t *
fake_body(const char *method_url)
{
    json_t *j;

    ck_assert_msg(strncmp(fake_last, method_url, strlen(method_url)) == 0,
                  "last request: %s, not %s", fake_last, method_url);
    j = json_loads(fake_last + strlen(method_url), 0, NULL);
    ck_assert_msg(j, "not JSON: %s", fake_last);
    return j;
}

/* Each storage command's request, as the API's contract has it: flags with a dotted field
 * ("boot.size_gib") become nested members, --from-* a source {type, id}, repeated --volume
 * an array, actions a fixed "action" with their flags. */
START_TEST(storage_commands_send_the_api_shapes)
{
    static const struct {
        const char *args[20];
        const char *method_url, *body;  /* body NULL: none */
    } cases[] = {
        { { "volume-type", "create", "--name", "enc", "--encrypted", "--max-iops", "500" },
          "POST /v1/volume-types ", "{\"name\":\"enc\",\"encrypted\":true,\"max_iops\":500}" },
        { { "volume-type", "delete", "enc" }, "DELETE /v1/volume-types/enc ", NULL },
        { { "volume", "create", "--name", "data-1", "--size", "2", "--type", "enc", "--zone",
            "a", "--instance-hint", "web-1" },
          "POST /v1/volumes ",
          "{\"name\":\"data-1\",\"size_gib\":2,\"type\":\"enc\",\"zone\":\"a\","
          "\"instance_hint\":\"web-1\"}" },
        { { "volume", "create", "--name", "r", "--from-snapshot", "s1" }, "POST /v1/volumes ",
          "{\"name\":\"r\",\"source\":{\"type\":\"snapshot\",\"id\":\"s1\"}}" },
        { { "volume", "create", "--name", "c", "--from-volume", "v", "--size", "3" },
          "POST /v1/volumes ",
          "{\"name\":\"c\",\"source\":{\"type\":\"volume\",\"id\":\"v\"},\"size_gib\":3}" },
        { { "volume", "create", "--name", "i", "--from-image", "base" }, "POST /v1/volumes ",
          "{\"name\":\"i\",\"source\":{\"type\":\"image\",\"id\":\"base\"}}" },
        { { "volume", "attach", "data-1", "--instance", "web-1" },
          "POST /v1/volumes/data-1/actions ", "{\"action\":\"attach\",\"instance\":\"web-1\"}" },
        { { "volume", "detach", "data-1", "--force" }, "POST /v1/volumes/data-1/actions ",
          "{\"action\":\"detach\",\"force\":true}" },
        { { "volume", "extend", "data-1", "--size", "4" }, "POST /v1/volumes/data-1/actions ",
          "{\"action\":\"extend\",\"size_gib\":4}" },
        { { "volume", "move", "data-1", "--zone", "b" }, "POST /v1/volumes/data-1/actions ",
          "{\"action\":\"move\",\"zone\":\"b\"}" },
        { { "volume", "get", "data-1" }, "GET /v1/volumes/data-1 ", NULL },
        { { "volume", "residency", "data-1" }, "GET /v1/volumes/data-1/residency ", NULL },
        { { "volume", "delete", "data-1" }, "DELETE /v1/volumes/data-1 ", NULL },
        { { "snapshot", "create", "--volume", "data-1", "--name", "s1" }, "POST /v1/snapshots ",
          "{\"volume\":\"data-1\",\"name\":\"s1\"}" },
        { { "snapshot", "get", "s1" }, "GET /v1/snapshots/s1 ", NULL },
        { { "snapshot", "delete", "s1" }, "DELETE /v1/snapshots/s1 ", NULL },
        { { "tenant", "kek-destroy", "6f1c2a34-1b2c-4d5e-8f90-123456789abc" },
          "DELETE /v1/tenants/6f1c2a34-1b2c-4d5e-8f90-123456789abc/kek ", NULL },
        { { "instance", "create", "--name", "vm", "--flavor", "small", "--boot-image", "base",
            "--boot-size", "2", "--boot-type", "enc", "--volume", "a", "--volume", "b,c" },
          "POST /v1/instances ",
          "{\"name\":\"vm\",\"flavor\":\"small\",\"boot\":{\"image\":\"base\","
          "\"size_gib\":2,\"type\":\"enc\"},\"volumes\":[\"a\",\"b\",\"c\"]}" },
        { { "instance", "create", "--name", "vm", "--flavor", "small", "--boot-volume", "root" },
          "POST /v1/instances ",
          "{\"name\":\"vm\",\"flavor\":\"small\",\"boot_volume\":\"root\"}" },
        /* network/'s NICs: one object per --nic, sg repeatable into security_groups. */
        { { "instance", "create", "--name", "vm", "--flavor", "small", "--nic",
            "subnet=web,ip=10.0.0.5,sg=a,sg=b", "--nic", "port=p1" },
          "POST /v1/instances ",
          "{\"name\":\"vm\",\"flavor\":\"small\",\"nics\":[{\"subnet\":\"web\","
          "\"ip\":\"10.0.0.5\",\"security_groups\":[\"a\",\"b\"]},{\"port\":\"p1\"}]}" },
    };
    char ep[128];
    run r;

    fake_start(ep, sizeof(ep));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *argv[24] = { NULL };
        size_t n = 0;
        for (; cases[i].args[n]; n++)
            argv[n] = cases[i].args[n];
        argv[n++] = "-o";
        argv[n++] = "json";
        fake_expect(0);
        sovctl_v(&r, NULL, (const char *const[]) { ep, "SOVCTL_TOKEN=sov_x", NULL }, argv);
        ck_assert_msg(r.status == 0, "%s %s: exit %d: %s", argv[0], argv[1], r.status, r.err);
        ck_assert_int_eq(fake_requests, 1);
        if (cases[i].body) {
            json_t *got = fake_body(cases[i].method_url);
            json_t *want = json_loads(cases[i].body, 0, NULL);
            ck_assert_msg(want, "bad case %zu", i);
            ck_assert_msg(json_equal(got, want), "%s %s sent %s, not %s", argv[0], argv[1],
                          fake_last, cases[i].body);
            json_decref(got);
            json_decref(want);
        } else {
            ck_assert_msg(strcmp(fake_last, cases[i].method_url) == 0, "%s %s: sent '%s'",
                          argv[0], argv[1], fake_last);
        }
        run_free(&r);
    }
    /* Two sources, or an action without its required flag: refused before any request. */
    fake_expect(0);
    FAKE(&r, "volume", "create", "--name", "x", "--from-image", "a", "--from-volume", "b");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "give one of --from-image, --from-snapshot, --from-volume");
    ck_assert_int_eq(fake_requests, 0);
    run_free(&r);
    fake_expect(0);
    FAKE(&r, "volume", "attach", "data-1");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "--instance");
    ck_assert_int_eq(fake_requests, 0);
    run_free(&r);
    fake_expect(0);
    FAKE(&r, "volume", "extend", "data-1", "--size", "x");
    ck_assert_int_eq(r.status, 2);
    ck_assert_int_eq(fake_requests, 0);
    run_free(&r);
    fake_expect(0);
    FAKE(&r, "instance", "create", "--name", "vm", "--flavor", "small", "--nic", "web");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "--nic wants KEY=VALUE");
    ck_assert_int_eq(fake_requests, 0);
    run_free(&r);
    MHD_stop_daemon(fake);
}
END_TEST

/* Each network command's request, as the API's contract has it: repeated --dns-server and
 * --security-group become arrays, port attach and detach a fixed "action". */
START_TEST(network_commands_send_the_api_shapes)
{
    static const struct {
        const char *args[20];
        const char *method_url, *body;  /* body NULL: none */
    } cases[] = {
        { { "network", "create", "--name", "net1", "--cidr", "10.0.0.0/16", "--region", "r1" },
          "POST /v1/networks ",
          "{\"name\":\"net1\",\"cidr\":\"10.0.0.0/16\",\"region\":\"r1\"}" },
        { { "network", "get", "net1" }, "GET /v1/networks/net1 ", NULL },
        { { "network", "residency", "net1" }, "GET /v1/networks/net1/residency ", NULL },
        { { "network", "delete", "net1" }, "DELETE /v1/networks/net1 ", NULL },
        { { "subnet", "create", "--name", "s1", "--network", "net1", "--cidr", "10.0.1.0/24",
            "--zone", "a", "--gateway", "10.0.1.254", "--dns-server", "9.9.9.9",
            "--dns-server", "1.1.1.1" },
          "POST /v1/subnets ",
          "{\"name\":\"s1\",\"network\":\"net1\",\"cidr\":\"10.0.1.0/24\",\"zone\":\"a\","
          "\"gateway\":\"10.0.1.254\",\"dns_servers\":[\"9.9.9.9\",\"1.1.1.1\"]}" },
        { { "subnet", "delete", "s1" }, "DELETE /v1/subnets/s1 ", NULL },
        { { "port", "create", "--subnet", "s1", "--name", "p1", "--ip", "10.0.1.9", "--mac",
            "fa:16:3e:00:00:01", "--security-group", "web,ssh" },
          "POST /v1/ports ",
          "{\"subnet\":\"s1\",\"name\":\"p1\",\"ip\":\"10.0.1.9\","
          "\"mac\":\"fa:16:3e:00:00:01\",\"security_groups\":[\"web\",\"ssh\"]}" },
        { { "port", "set-groups", "p1", "--security-group", "web" },
          "PUT /v1/ports/p1/security-groups ", "{\"security_groups\":[\"web\"]}" },
        { { "port", "set-groups", "p1" }, "PUT /v1/ports/p1/security-groups ",
          "{\"security_groups\":[]}" },
        { { "port", "attach", "p1", "--instance", "web-1" }, "POST /v1/ports/p1/actions ",
          "{\"action\":\"attach\",\"instance\":\"web-1\"}" },
        { { "port", "detach", "p1" }, "POST /v1/ports/p1/actions ",
          "{\"action\":\"detach\"}" },
        { { "port", "get", "p1" }, "GET /v1/ports/p1 ", NULL },
        { { "port", "delete", "p1" }, "DELETE /v1/ports/p1 ", NULL },
    };
    char ep[128];
    run r;

    fake_start(ep, sizeof(ep));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *argv[24] = { NULL };
        size_t n = 0;
        for (; cases[i].args[n]; n++)
            argv[n] = cases[i].args[n];
        argv[n++] = "-o";
        argv[n++] = "json";
        fake_expect(0);
        sovctl_v(&r, NULL, (const char *const[]) { ep, "SOVCTL_TOKEN=sov_x", NULL }, argv);
        ck_assert_msg(r.status == 0, "%s %s: exit %d: %s", argv[0], argv[1], r.status, r.err);
        ck_assert_int_eq(fake_requests, 1);
        if (cases[i].body) {
            json_t *got = fake_body(cases[i].method_url);
            json_t *want = json_loads(cases[i].body, 0, NULL);
            ck_assert_msg(want, "bad case %zu", i);
            ck_assert_msg(json_equal(got, want), "%s %s sent %s, not %s", argv[0], argv[1],
                          fake_last, cases[i].body);
            json_decref(got);
            json_decref(want);
        } else {
            ck_assert_msg(strcmp(fake_last, cases[i].method_url) == 0, "%s %s: sent '%s'",
                          argv[0], argv[1], fake_last);
        }
        run_free(&r);
    }
    /* Required flags: refused before any request. */
    fake_expect(0);
    FAKE(&r, "port", "attach", "p1");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "--instance");
    ck_assert_int_eq(fake_requests, 0);
    run_free(&r);
    fake_expect(0);
    FAKE(&r, "network", "create", "--name", "x");
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "--cidr");
    ck_assert_int_eq(fake_requests, 0);
    run_free(&r);
    MHD_stop_daemon(fake);
}
END_TEST

/* Networks, subnets and ports through sovctl against a sovd whose ovn_nb is a real OVN
 * Northbound database: creates answer with their operation, lists and shows read back, an
 * API refusal names the field. */
START_TEST(network_commands_against_sovd)
{
    char nb[700];
    const char *args[] = { "--role=api,worker", nb, NULL };
    tl_ovn ovn;
    run r;

    tl_ovn_start(&ovn, NULL, false);
    snprintf(nb, sizeof(nb), "--ovn-nb=%s", ovn.nb);
    start_with(args);
    SOVCTL_OK(&r, "login", "--endpoint", sovd.base, "--token-file", token_file);
    run_free(&r);
    SOVCTL_OK(&r, "region", "create", "--code", REGION, "--name", "Paris", "--country", "FR",
              "--datacenter", "PAR1", "--zones", "a");
    run_free(&r);
    SOVCTL_OK(&r, "host", "create", "--name", "kvm-1", "--region", REGION, "--zone", "a",
              "--libvirt-uri", "test:///default", "-o", "json");
    run_free(&r);

    SOVCTL_OK(&r, "network", "create", "--name", "net1", "--cidr", "10.4.0.0/16", "-o",
              "json");
    ck_assert_str_eq(tl_str(json_object_get(r.json, "network"), "region"), REGION);
    ck_assert_str_eq(tl_str(json_object_get(r.json, "operation"), "kind"), "network.create");
    run_free(&r);
    SOVCTL_OK(&r, "subnet", "create", "--name", "s1", "--network", "net1", "--cidr",
              "10.4.1.0/24", "--dns-server", "9.9.9.9", "-o", "json");
    ck_assert_str_eq(tl_str(json_object_get(r.json, "subnet"), "gateway"), "10.4.1.1");
    run_free(&r);
    SOVCTL_OK(&r, "port", "create", "--subnet", "s1", "--name", "p1", "-o", "json");
    ck_assert_str_eq(tl_str(json_object_get(r.json, "port"), "ip"), "10.4.1.2");
    run_free(&r);
    SOVCTL_OK(&r, "network", "list");
    assert_has(r.out, "net1");
    assert_has(r.out, "10.4.0.0/16");
    run_free(&r);
    SOVCTL_OK(&r, "subnet", "list");
    assert_has(r.out, "1/253");
    run_free(&r);
    SOVCTL_OK(&r, "port", "list", "--subnet", "s1");
    assert_has(r.out, "10.4.1.2");
    run_free(&r);
    SOVCTL_OK(&r, "port", "show", "p1", "-o", "json");
    ck_assert_str_eq(tl_str(r.json, "name"), "p1");
    run_free(&r);
    SOVCTL(&r, "subnet", "create", "--name", "s2", "--network", "net1", "--cidr",
           "10.4.1.128/25");
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "cidr");
    assert_has(r.err, "overlaps subnet 's1'");
    run_free(&r);
    tl_ovn_discard(&ovn);
}
END_TEST

/* ---- private keys are never sent ---- */

/* Write the private key of the given form to dir/name: made by ssh-keygen and openssl where
 * they make that form, else its text (sovctl looks at the text only). */
static void
private_key(const char *dir, const char *name, const char *make)
{
    ck_assert_msg(tl_sh("cd '%s' && %s", dir, make) == 0, "could not make %s: %s", name, make);
}

/* Each option that reads a file refuses one holding any form of private key, before any
 * request: the fake API counts none, not even a name lookup. A public key is sent. */
START_TEST(a_private_key_is_never_sent)
{
    static const struct {
        const char *name, *make, *kind;
    } keys[] = {
        /* ssh-keygen where openssh-client is installed (not a package sovereign needs). */
        { "id_ed25519", "{ command -v ssh-keygen >/dev/null &&"
                        " ssh-keygen -q -t ed25519 -N '' -C t -f id_ed25519; } ||"
                        " { printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXkt"
                        "djEAAAAABG5vbmUAAAAEbm9uZQ==\\n-----END OPENSSH PRIVATE KEY-----\\n'"
                        " > id_ed25519 && echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKw2jF1d"
                        "D0vP7j6f0q7mXn9tP3c3vQ t' > id_ed25519.pub; }", "OpenSSH" },
        { "rsa.pem", "openssl genrsa -traditional -out rsa.pem 2048 2>/dev/null", "PEM" },
        { "ec.pem", "openssl ecparam -name prime256v1 -genkey -noout -out ec.pem", "PEM" },
        { "dsa.pem", "printf -- '-----BEGIN DSA PRIVATE KEY-----\\nMIIBuwIBAAKBgQ==\\n"
                     "-----END DSA PRIVATE KEY-----\\n' > dsa.pem", "PEM" },
        { "p8.pem", "openssl genpkey -algorithm ed25519 -out p8.pem", "PKCS#8" },
        { "p8e.pem", "openssl genpkey -algorithm ed25519 -aes256 -pass pass:x -out p8e.pem",
          "PKCS#8" },
        { "key.ppk", "printf 'PuTTY-User-Key-File-3: ssh-ed25519\\nEncryption: none\\n"
                     "Comment: t\\nPublic-Lines: 2\\n' > key.ppk", "PuTTY" },
        /* A certificate before the key, as a combined PEM file has it. */
        { "both.pem", "printf -- '-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE"
                      "-----\\n' > both.pem && cat p8.pem >> both.pem", "PKCS#8" },
    };
    char ep[128], dir[700], path[800], pub[800], msg[900];
    run r;

    fake_start(ep, sizeof(ep));
    snprintf(dir, sizeof(dir), "%s/keys", tmp);
    ck_assert(mkdir(dir, 0700) == 0);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        private_key(dir, keys[i].name, keys[i].make);

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, keys[i].name);
        fake_expect(0);
        FAKE(&r, "instance", "create", "--name", "a", "--flavor", "small", "--image", "base",
             "--ssh-key", path);
        ck_assert_msg(r.status == 2, "%s: exit %d: %s", keys[i].name, r.status, r.err);
        snprintf(msg, sizeof(msg), "--ssh-key: %s holds a", path);
        assert_has(r.err, msg);
        assert_has(r.err, keys[i].kind);
        assert_has(r.err, "sovctl never sends a private key");
        snprintf(msg, sizeof(msg), "give the public key, --ssh-key %s.pub", path);
        assert_has(r.err, msg);
        ck_assert_msg(fake_requests == 0, "%s: %d requests", keys[i].name, fake_requests);
        run_free(&r);

        fake_expect(0);
        FAKE(&r, "instance", "create", "--name", "a", "--flavor", "small", "--image", "base",
             "--user-data", path);
        ck_assert_int_eq(r.status, 2);
        assert_has(r.err, "--user-data: ");
        assert_has(r.err, "sovctl never sends a private key");
        ck_assert_int_eq(fake_requests, 0);
        run_free(&r);

        fake_expect(0);
        FAKE(&r, "image", "create", "--name", "x", "--region", REGION, "--format", "raw",
             "--file", path, "--tenant", "acme");
        ck_assert_int_eq(r.status, 2);
        assert_has(r.err, "--file: ");
        ck_assert_int_eq(fake_requests, 0);
        run_free(&r);

        fake_expect(0);
        FAKE(&r, "image", "upload", "base", path);
        ck_assert_int_eq(r.status, 2);
        assert_has(r.err, "upload: ");
        ck_assert_int_eq(fake_requests, 0);
        run_free(&r);

        /* The token: from a file, from stdin, from the environment. */
        fake_expect(0);
        SOVCTL(&r, "login", "--endpoint", ep + strlen("SOVCTL_ENDPOINT="), "--token-file",
               path);
        ck_assert_int_eq(r.status, 2);
        assert_has(r.err, "--token-file: ");
        ck_assert_int_eq(fake_requests, 0);
        run_free(&r);
    }

    snprintf(path, sizeof(path), "%s/id_ed25519", dir);
    {
        char *text = tl_read_file(path);
        char *env[] = { ep, NULL, NULL };
        char token_env[200];
        ck_assert(text);
        fake_expect(0);
        sovctl_v(&r, text, NULL, (const char *const[]) { "login", "--endpoint",
                                                          ep + strlen("SOVCTL_ENDPOINT="),
                                                          "--token", "-", NULL });
        ck_assert_int_eq(r.status, 2);
        assert_has(r.err, "--token: standard input holds an OpenSSH private key");
        ck_assert_int_eq(fake_requests, 0);
        run_free(&r);
        snprintf(token_env, sizeof(token_env), "SOVCTL_TOKEN=%.*s", (int) strcspn(text, "\n"),
                 text);
        env[1] = token_env;
        fake_expect(0);
        sovctl_v(&r, NULL, (const char *const *) env,
                 (const char *const[]) { "region", "list", NULL });
        ck_assert_int_eq(r.status, 2);
        assert_has(r.err, "the token (SOVCTL_TOKEN) is a private key");
        ck_assert_int_eq(fake_requests, 0);
        run_free(&r);
        free(text);
    }

    /* A .pub file named for the private key: said so, with how to get the public key. */
    snprintf(pub, sizeof(pub), "%s/wrong.pub", dir);
    ck_assert_int_eq(tl_sh("cp '%s' '%s'", path, pub), 0);
    fake_expect(0);
    FAKE(&r, "instance", "create", "--name", "a", "--flavor", "small", "--image", "base",
         "--ssh-key", pub);
    ck_assert_int_eq(r.status, 2);
    snprintf(msg, sizeof(msg), "ssh-keygen -y -f %s", pub);
    assert_has(r.err, msg);
    ck_assert_int_eq(fake_requests, 0);
    run_free(&r);

    /* The public key goes out as it is (the fake API answers the lookups: no such image). */
    snprintf(pub, sizeof(pub), "%s/id_ed25519.pub", dir);
    fake_expect(0);
    FAKE(&r, "instance", "create", "--name", "a", "--flavor", "small", "--image", "base",
         "--ssh-key", pub);
    ck_assert_msg(r.status != 2, "%s", r.err);
    ck_assert_int_gt(fake_requests, 0);
    run_free(&r);
    MHD_stop_daemon(fake);
}
END_TEST

/* The server refuses a private key in ssh_keys too, with a 400 that says what it is. */
START_TEST(sovd_refuses_a_private_key_in_ssh_keys)
{
    static const char *const keys[] = {
        "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAA\\n"
        "-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----",
        "PuTTY-User-Key-File-3: ssh-ed25519",
    };
    char body[600];
    tl_resp r;

    start();
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(body, sizeof(body), "{\"name\":\"a\",\"flavor\":\"small\",\"image\":\"base\","
                 "\"ssh_keys\":[\"%s\"]}", keys[i]);
        tl_call(&sovd, "POST", "/v1/instances", op, body, &r);
        tl_assert_problem(&r, 400, "/problems/invalid-request");
        assert_has(r.body, "\"ssh_keys\"");
        assert_has(r.body, "holds a private key: send only the public key");
        tl_resp_free(&r);
    }
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM instances"), 0);
}
END_TEST

/* ---- TLS ---- */

START_TEST(tls_is_verified_unless_insecure)
{
    char cert[700], key[700], ep[128], pidfile[700], *pid;
    unsigned port = tl_free_port();
    run r;

    snprintf(cert, sizeof(cert), "%s/cert.pem", tmp);
    snprintf(key, sizeof(key), "%s/key.pem", tmp);
    snprintf(pidfile, sizeof(pidfile), "%s/s_server.pid", tmp);
    ck_assert_int_eq(tl_sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                           "-nodes -days 1 -subj /CN=127.0.0.1 "
                           "-addext subjectAltName=IP:127.0.0.1 -keyout '%s' -out '%s' >/dev/null 2>&1", key, cert), 0);
    /* openssl's own server: GET /healthz answers the file healthz of its folder. */
    ck_assert_int_eq(tl_sh("cd '%s' && echo '{\"status\":\"ok\"}' > healthz && "
                           "(openssl s_server -quiet -accept %u -cert '%s' -key '%s' -WWW "
                           ">/dev/null 2>&1 & echo $! > '%s')", tmp, port, cert, key, pidfile),
                     0);
    for (int i = 0; i < 100 && tl_sh("bash -c '</dev/tcp/127.0.0.1/%u' 2>/dev/null", port); i++)
        usleep(50000);
    snprintf(ep, sizeof(ep), "https://127.0.0.1:%u", port);

    SOVCTL(&r, "--endpoint", ep, "system", "health");
    ck_assert_int_eq(r.status, 3);
    assert_has(r.err, "certificate");
    run_free(&r);
    SOVCTL(&r, "--endpoint", ep, "--cacert", cert, "system", "health");
    ck_assert_msg(r.status == 0, "%s", r.err);
    assert_has(r.out, "\"status\":\"ok\"");
    run_free(&r);
    SOVCTL(&r, "--endpoint", ep, "--insecure", "system", "health");
    ck_assert_msg(r.status == 0, "%s", r.err);
    assert_has(r.err, "warning: TLS certificates are not verified");
    run_free(&r);

    pid = tl_read_file(pidfile);
    ck_assert(pid);
    kill((pid_t) strtol(pid, NULL, 10), SIGTERM);
    free(pid);
}
END_TEST

static Suite *
suite(void)
{
    Suite *s = suite_create("cli/sovctl");
    TCase *tc = tcase_create("sovctl");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, login_writes_a_private_config_and_whoami_reads_it);
    tcase_add_test(tc, login_reads_a_token_from_stdin_and_refuses_one_on_the_command_line);
    tcase_add_test(tc, login_with_a_bad_token_saves_nothing);
    tcase_add_test(tc, environment_overrides_and_profiles);
    tcase_add_test(tc, tenant_user_and_token_in_json);
    tcase_add_test(tc, token_create_shows_the_secret_once);
    tcase_add_test(tc, tables_are_aligned_text_without_colour);
    tcase_add_test(tc, lists_follow_pages_and_stop_at_the_limit);
    tcase_add_test(tc, operations_list_newest_first_across_pages);
    tcase_add_test(tc, api_errors_show_title_detail_and_fields_and_exit_1);
    tcase_add_test(tc, usage_errors_exit_2_with_a_hint);
    tcase_add_test(tc, an_unreachable_endpoint_exits_3);
    tcase_add_test(tc, insecure_warns);
    tcase_add_test(tc, retries_503_on_safe_requests_with_one_idempotency_key);
    tcase_add_test(tc, storage_commands_send_the_api_shapes);
    tcase_add_test(tc, network_commands_send_the_api_shapes);
    tcase_add_test(tc, network_commands_against_sovd);
    tcase_add_test(tc, tls_is_verified_unless_insecure);
    tcase_add_test(tc, a_private_key_is_never_sent);
    tcase_add_test(tc, sovd_refuses_a_private_key_in_ssh_keys);
    tcase_add_test(tc, creates_carry_an_idempotency_key);
    tcase_add_test(tc, help_and_bash_completion);
    tcase_add_test(tc, quota_audit_policy_and_placement);
    tcase_add_test(tc, instance_create_and_delete_with_wait);
    tcase_add_test(tc, instance_migrate_and_migrations);
    tcase_add_test(tc, storage_commands_against_sovd);
    tcase_add_test(tc, image_upload_streams_a_file);
    tcase_add_test(tc, ctrl_c_stops_waiting_and_says_how_to_follow);
    tcase_add_test(tc, residency_report_is_downloaded_and_verified);
    tcase_add_test(tc, host_maintenance_and_evacuation);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return tl_run_suite(suite());
}
