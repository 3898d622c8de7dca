/* testlib.c: helpers shared by the Check suites. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

int
tl_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

const char *
tl_env(const char *name)
{
    const char *v = getenv(name);
    ck_assert_msg(v && *v,
                  "%s is not set: run the suites through scripts/test (or meson test in a "
                  "build it configured), which provides it",
                  name);
    return v;
}

char *
tl_tmpdir(void)
{
    const char *base = getenv("SOV_TEST_TMPDIR");
    char *path = NULL;

    ck_assert(asprintf(&path, "%s/t.XXXXXX", base && *base ? base : "/tmp") > 0);
    ck_assert_msg(mkdtemp(path), "mkdtemp: %s", strerror(errno));
    /* postgres (scripts/pg) and libvirt-qemu may need to look inside. */
    chmod(path, 0755);
    return path;
}

void
tl_tmpdir_remove(const char *dir)
{
    if (dir && strncmp(dir, "/", 1) == 0 && strlen(dir) > 5)
        tl_sh("rm -rf '%s'", dir);
}

int
tl_sh(const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    ck_assert(vasprintf(&cmd, fmt, ap) > 0);
    va_end(ap);
    rc = system(cmd);
    free(cmd);
    if (rc == -1)
        return -1;
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

char *
tl_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];

    if (!f)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            data = realloc(data, cap);
            ck_assert(data);
        }
        memcpy(data + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!data)
        data = calloc(1, 1);
    else
        data[len] = '\0';
    return data;
}

/* ---- PostgreSQL ---- */

static PGconn *
connect_or_fail(const char *url)
{
    PGconn *c = PQconnectdb(url);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect to test PostgreSQL (%s): %s",
                  url, PQerrorMessage(c));
    return c;
}

char *
tl_db_exec(const char *url, const char *sql)
{
    PGconn *c = connect_or_fail(url);
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    char *value = NULL;

    ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "SQL failed: %s: %s", sql,
                  PQerrorMessage(c));
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0)
        value = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return value;
}

char *
tl_db_create(void)
{
    const char *base = tl_env("SOV_TEST_DATABASE_URL");
    static unsigned counter;
    char *admin = NULL, *sql = NULL, *url = NULL, name[64];

    snprintf(name, sizeof(name), "sovtest_%d_%u_%ld", (int) getpid(), counter++,
             (long) (time(NULL) % 100000));
    ck_assert(asprintf(&admin, "%s dbname=postgres", base) > 0);
    ck_assert(asprintf(&sql, "CREATE DATABASE \"%s\"", name) > 0);
    free(tl_db_exec(admin, sql));
    ck_assert(asprintf(&url, "%s dbname=%s", base, name) > 0);
    free(admin);
    free(sql);
    return url;
}

void
tl_db_drop(const char *url)
{
    const char *base = getenv("SOV_TEST_DATABASE_URL");
    const char *p;
    char *admin = NULL, *sql = NULL;

    if (!url || !base || !(p = strstr(url, " dbname=")))
        return;
    ck_assert(asprintf(&admin, "%s dbname=postgres", base) > 0);
    ck_assert(asprintf(&sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", p + 8) > 0);
    free(tl_db_exec(admin, sql));
    free(admin);
    free(sql);
}

/* ---- processes ---- */

unsigned
tl_free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert(fd >= 0);
    ck_assert(bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0);
    ck_assert(getsockname(fd, (struct sockaddr *) &a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

unsigned
tl_refused_port(int *fd)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);

    *fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert(*fd >= 0);
    ck_assert(bind(*fd, (struct sockaddr *) &a, sizeof(a)) == 0);
    ck_assert(getsockname(*fd, (struct sockaddr *) &a, &len) == 0);
    return ntohs(a.sin_port);
}

static pid_t
spawn_sovd(tl_sovd *s, const char *db_url, const char *const *args, const char *const *env)
{
    const char *sovd = tl_env("SOV_SOVD");
    char *state = tl_tmpdir();
    char port[16], state_flag[600];
    const char *argv[64];
    size_t n = 0;
    pid_t pid;

    memset(s, 0, sizeof(*s));
    s->port = tl_free_port();
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", s->port);
    snprintf(s->log, sizeof(s->log), "%s/sovd.log", state);
    snprintf(s->state, sizeof(s->state), "%s/state", state);
    snprintf(port, sizeof(port), "%u", s->port);
    snprintf(state_flag, sizeof(state_flag), "--state-dir=%s/state", state);
    argv[n++] = sovd;
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = state_flag;
    argv[n++] = "--startup-timeout=20";
    for (size_t i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;

    pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        /* Dies with the test process, even when the test fails half-way. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (db_url)
            setenv("SOV_DATABASE_URL", db_url, 1);
        for (size_t i = 0; env && env[i]; i++)
            putenv((char *) env[i]);
        execv(sovd, (char *const *) argv);
        _exit(127);
    }
    free(state);
    s->pid = pid;
    return pid;
}

void
tl_sovd_start(tl_sovd *s, const char *db_url, const char *const *args)
{
    spawn_sovd(s, db_url, args, NULL);
    for (int i = 0; i < 600; i++) {
        tl_resp r;
        int status;
        tl_req q = { .url = NULL };
        char url[128];

        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            char *log = tl_sovd_log(s);
            ck_abort_msg("sovd exited at start (status %d): %s", status, log ? log : "");
        }
        snprintf(url, sizeof(url), "%s/healthz", s->base);
        q.url = url;
        if (tl_http_try(&q, &r) == 0 && r.status == 200) {
            tl_resp_free(&r);
            return;
        }
        tl_resp_free(&r);
        usleep(50000);
    }
    ck_abort_msg("sovd did not answer /healthz within 30 s");
}

int
tl_sovd_run_to_exit(tl_sovd *s, const char *db_url, const char *const *args,
                    const char *const *env)
{
    int status;

    spawn_sovd(s, db_url, args, env);
    for (int i = 0; i < 600; i++) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            s->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return s->exit_status;
        }
        usleep(50000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    ck_abort_msg("sovd was expected to exit by itself, and ran on for 30 s");
    return -1;
}

int
tl_sovd_stop(tl_sovd *s, int sig, unsigned timeout_s)
{
    int status;

    if (s->pid <= 0)
        return s->exit_status;
    kill(s->pid, sig);
    for (unsigned i = 0; i < timeout_s * 20; i++) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            s->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return s->exit_status;
        }
        usleep(50000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
    return -1;
}

void
tl_sovd_discard(tl_sovd *s)
{
    char *slash;

    if (s->pid > 0)
        tl_sovd_stop(s, SIGKILL, 5);
    if (!s->log[0])
        return;
    slash = strrchr(s->log, '/');
    if (slash) {
        *slash = '\0';
        tl_tmpdir_remove(s->log);
    }
    s->log[0] = '\0';
}

char *
tl_sovd_log(const tl_sovd *s)
{
    return tl_read_file(s->log);
}

int
tl_sovd_stop_clean(tl_sovd *s, unsigned timeout_s)
{
    enum { TAIL = 8000 };
    char *log;
    int rc;

    if (s->pid <= 0)
        return 0;
    rc = tl_sovd_stop(s, SIGTERM, timeout_s);
    if (rc != 0 && (log = tl_sovd_log(s))) {
        size_t n = strlen(log);
        fprintf(stderr, "sovd exited with %d; its log ends:\n%s\n", rc,
                n > TAIL ? log + n - TAIL : log);
        free(log);
    }
    return rc;
}

static char *db_vvalue(const char *url, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static char *
db_vvalue(const char *url, const char *fmt, va_list ap)
{
    char *sql = NULL, *v;

    ck_assert(vasprintf(&sql, fmt, ap) > 0);
    v = tl_db_exec(url, sql);
    free(sql);
    return v;
}

char *
tl_db_value(const char *url, const char *fmt, ...)
{
    va_list ap;
    char *v;

    va_start(ap, fmt);
    v = db_vvalue(url, fmt, ap);
    va_end(ap);
    return v ? v : strdup("");
}

long long
tl_db_num(const char *url, const char *fmt, ...)
{
    va_list ap;
    char *v;
    long long n;

    va_start(ap, fmt);
    v = db_vvalue(url, fmt, ap);
    va_end(ap);
    n = v ? atoll(v) : 0;
    free(v);
    return n;
}

double
tl_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

char *
tl_sh_out(int *rc, const char *fmt, ...)
{
    char *cmd = NULL, out[] = "/tmp/tl-sh-out.XXXXXX", *text;
    va_list ap;
    int fd, status;

    va_start(ap, fmt);
    ck_assert(vasprintf(&cmd, fmt, ap) > 0);
    va_end(ap);
    fd = mkstemp(out);
    ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
    close(fd);
    status = tl_sh("%s >'%s' 2>&1", cmd, out);
    text = tl_read_file(out);
    unlink(out);
    free(cmd);
    if (rc)
        *rc = status;
    return text ? text : strdup("");
}

int
tl_virsh(const char *uri, char **out, const char *fmt, ...)
{
    char *args = NULL, *text;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    ck_assert(vasprintf(&args, fmt, ap) > 0);
    va_end(ap);
    text = tl_sh_out(&rc, "virsh -q -c '%s' %s", uri, args);
    free(args);
    if (out)
        *out = text;
    else
        free(text);
    return rc;
}

/* ---- HTTP ---- */

typedef struct grow {
    char *p;
    size_t len;
} grow;

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    grow *g = arg;
    size_t len = size * n;
    char *p = realloc(g->p, g->len + len + 1);

    if (!p)
        return 0;
    memcpy(p + g->len, data, len);
    g->p = p;
    g->len += len;
    g->p[g->len] = '\0';
    return len;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
    grow *g = arg;

    /* A new status line (after 100 Continue, say) starts the block again. */
    if (size * n > 5 && strncmp(data, "HTTP/", 5) == 0)
        g->len = 0;
    return on_body(data, size, n, arg);
}

typedef struct upload {
    const char *p;
    size_t left;
} upload;

static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
    upload *u = arg;
    size_t len = size * n < u->left ? size * n : u->left;

    /* Small pieces, so chunked uploads really arrive in several chunks. */
    if (len > 1000)
        len = 1000;
    memcpy(buf, u->p, len);
    u->p += len;
    u->left -= len;
    return len;
}

int
tl_http_try(const tl_req *req, tl_resp *ret)
{
    CURL *c = req->curl ? req->curl : curl_easy_init();
    struct curl_slist *hdrs = NULL;
    grow body = { 0 }, head = { 0 };
    upload up = { req->body, req->body_len };
    const char *method = req->method ? req->method : "GET";
    CURLcode rc;

    memset(ret, 0, sizeof(*ret));
    ck_assert(c);
    if (req->curl)
        curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (req->cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, req->cacert);
    for (size_t i = 0; req->headers && req->headers[i]; i++)
        hdrs = curl_slist_append(hdrs, req->headers[i]);
    if (req->body) {
        if (req->chunked) {
            hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
            curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, &up);
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        } else {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
        }
    }
    /* Keep curl from adding an Expect: 100-continue round trip. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);

    rc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ret->status);
        curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &ret->connects);
    }
    if (!req->curl)
        curl_easy_cleanup(c);
    ret->body = body.p ? body.p : calloc(1, 1);
    ret->len = body.len;
    ret->headers = head.p ? head.p : calloc(1, 1);
    if (ret->len > 0)
        ret->json = json_loadb(ret->body, ret->len, 0, NULL);
    return rc == CURLE_OK ? 0 : -1;
}

void
tl_http(const tl_req *req, tl_resp *ret)
{
    ck_assert_msg(tl_http_try(req, ret) == 0, "%s %s: transport failure",
                  req->method ? req->method : "GET", req->url);
}

void
tl_get(const char *base, const char *path, tl_resp *ret)
{
    char url[1024];
    tl_req q = { .method = "GET", .url = url };

    snprintf(url, sizeof(url), "%s%s", base, path);
    tl_http(&q, ret);
}

void
tl_resp_free(tl_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

char *
tl_resp_header(const tl_resp *r, const char *name)
{
    size_t nlen = strlen(name);

    for (const char *line = r->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t) (end - line) : strlen(line);
        if (len > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            return strndup(v, (size_t) (line + len - v));
        }
        line += len + (end ? 2 : 0);
    }
    return NULL;
}

void
tl_assert_problem(const tl_resp *r, long status, const char *type)
{
    char *ct = tl_resp_header(r, "Content-Type");

    ck_assert_msg(r->status == status, "expected %ld, got %ld: %s", status, r->status, r->body);
    ck_assert_msg(ct && strcmp(ct, "application/problem+json") == 0,
                  "problem with Content-Type %s", ct ? ct : "(none)");
    free(ct);
    ck_assert_msg(r->json, "problem body is not JSON: %s", r->body);
    ck_assert_int_eq(json_integer_value(json_object_get(r->json, "status")), status);
    ck_assert_str_eq(json_string_value(json_object_get(r->json, "type")), type);
    ck_assert_msg(json_is_string(json_object_get(r->json, "title")), "problem has no title");
    ck_assert_msg(json_is_string(json_object_get(r->json, "detail")), "problem has no detail");
}

void
tl_assert_problem_field(const tl_resp *r, const char *field)
{
    json_t *e = json_array_get(json_object_get(r->json, "errors"), 0);
    const char *f = json_string_value(json_object_get(e, "field"));

    ck_assert_msg(f && strcmp(f, field) == 0, "expected field %s: %s", field, r->body);
}

void
tl_pg_sql(PGconn *pg, char *ret, size_t size, const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    PGresult *r;
    ExecStatusType st;

    va_start(ap, fmt);
    ck_assert(vasprintf(&text, fmt, ap) > 0);
    va_end(ap);
    r = PQexec(pg, text);
    st = PQresultStatus(r);
    ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "SQL failed: %s: %s", text,
                  PQerrorMessage(pg));
    if (ret && size > 0) {
        ret[0] = '\0';
        if (st == PGRES_TUPLES_OK && PQntuples(r) > 0)
            snprintf(ret, size, "%s", PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    free(text);
}

void
tl_racer_set(tl_racer *r, const tl_sovd *s, const char *path, const char *token,
             const char *body)
{
    snprintf(r->url, sizeof(r->url), "%s%s", s->base, path);
    snprintf(r->auth, sizeof(r->auth), "Authorization: Bearer %s", token);
    snprintf(r->body, sizeof(r->body), "%s", body);
}

static void *
racer_run(void *arg)
{
    tl_racer *r = arg;
    const char *headers[] = { r->auth, "Content-Type: application/json", NULL };
    tl_req req = { .method = "POST", .url = r->url, .headers = headers, .body = r->body,
                   .body_len = strlen(r->body) };
    tl_resp resp;

    memset(&resp, 0, sizeof(resp));
    if (tl_http_try(&req, &resp) == 0) {
        r->status = resp.status;
        r->json = resp.json;
        resp.json = NULL;
    }
    tl_resp_free(&resp);
    return NULL;
}

void
tl_race(tl_racer *r, size_t n)
{
    pthread_t *t = calloc(n, sizeof(*t));

    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, racer_run, &r[i]), 0);
    for (size_t i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    free(t);
}

void
tl_racers_free(tl_racer *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++)
        json_decref(r[i].json);
    free(r);
}

void
tl_assert_contains(const char *text, const char *part)
{
    ck_assert_msg(text && strstr(text, part), "'%s' not in:\n%s", part, text ? text : "(null)");
}

void
tl_refused(const tl_sovd *s, const char *method, const char *path, const char *token,
           const char *body, long status, const char *type, const char *field, const char *says)
{
    tl_resp r;

    tl_call(s, method, path, token, body, &r);
    tl_assert_problem(&r, status, type);
    if (field)
        tl_assert_problem_field(&r, field);
    if (says)
        tl_assert_contains(r.body, says);
    tl_resp_free(&r);
}

/* ---- API helpers ---- */

const char *const tl_role_names[TL_ROLES] = { "operator", "admin", "member", "reader",
                                              "auditor" };

char *
tl_operator_token(const tl_sovd *s)
{
    char path[600];
    char *t;

    snprintf(path, sizeof(path), "%s/operator.token", s->state);
    t = tl_read_file(path);
    ck_assert_msg(t, "no %s", path);
    t[strcspn(t, "\n")] = '\0';
    return t;
}

void
tl_call(const tl_sovd *s, const char *method, const char *path, const char *token,
        const char *body, tl_resp *ret)
{
    tl_call_h(s, method, path, token, body, NULL, ret);
}

void
tl_call_h(const tl_sovd *s, const char *method, const char *path, const char *token,
          const char *body, const char *const *extra, tl_resp *ret)
{
    char url[2048], auth[128];
    const char *headers[16] = { NULL };
    size_t n = 0;

    snprintf(url, sizeof(url), "%s%s", s->base, path);
    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        headers[n++] = auth;
    }
    if (body)
        headers[n++] = "Content-Type: application/json";
    for (size_t i = 0; extra && extra[i] && n < 15; i++)
        headers[n++] = extra[i];
    tl_req q = { .method = method, .url = url, .headers = headers, .body = body,
                 .body_len = body ? strlen(body) : 0 };
    tl_http(&q, ret);
}

const char *
tl_str(const json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));

    ck_assert_msg(v, "no string '%s' in %s", key, j ? json_dumps(j, JSON_COMPACT) : "(null)");
    return v;
}

long long
tl_num(const json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);

    ck_assert_msg(json_is_integer(v), "no integer '%s' in %s", key,
                  j ? json_dumps(j, JSON_COMPACT) : "(null)");
    return json_integer_value(v);
}

json_t *
tl_call_ok(const tl_sovd *s, const char *method, const char *path, const char *token,
           const char *body, long want_status)
{
    tl_resp r;
    json_t *j;

    tl_call(s, method, path, token, body, &r);
    ck_assert_msg(r.status == want_status, "%s %s: expected %ld, got %ld: %s", method, path,
                  want_status, r.status, r.body);
    j = r.json ? json_incref(r.json) : NULL;
    tl_resp_free(&r);
    return j;
}

/* sovd's log lines at warn or error level, the last 30. */
static void
print_warnings(const tl_sovd *s)
{
    char *log = tl_sovd_log(s);
    const char *lines[30];
    size_t n = 0;

    if (!log)
        return;
    for (char *l = strtok(log, "\n"); l; l = strtok(NULL, "\n"))
        if (strstr(l, "\"level\":\"warn\"") || strstr(l, "\"level\":\"error\""))
            lines[n++ % 30] = l;
    fprintf(stderr, "sovd's last warnings and errors:\n");
    for (size_t i = n > 30 ? n - 30 : 0; i < n; i++)
        fprintf(stderr, "  %s\n", lines[i % 30]);
    free(log);
}

void
tl_op_wait_ok(const tl_sovd *s, const char *token, const char *id, int wait_s)
{
    char path[128];
    struct timespec t0, t;

    snprintf(path, sizeof(path), "/v1/operations/%s", id);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        json_t *o = tl_call_ok(s, "GET", path, token, NULL, 200);
        const char *state = json_string_value(json_object_get(o, "state"));
        bool failed = state && strcmp(state, "failed") == 0;

        ck_assert_msg(state, "operation %s has no state", id);
        if (strcmp(state, "succeeded") == 0) {
            json_decref(o);
            return;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (failed || t.tv_sec - t0.tv_sec >= wait_s) {
            char *text = json_dumps(o, JSON_COMPACT);
            print_warnings(s);
            ck_abort_msg("operation %s %s%s: %s", id, failed ? "failed" : "still ",
                         failed ? "" : state, text);
        }
        json_decref(o);
        usleep(100 * 1000);
    }
}

json_t *
tl_op_wait_done(const tl_sovd *s, const char *token, const char *id, int wait_s)
{
    char path[128];
    double t0 = tl_now();

    snprintf(path, sizeof(path), "/v1/operations/%s", id);
    for (;;) {
        json_t *o = tl_call_ok(s, "GET", path, token, NULL, 200);
        const char *state = json_string_value(json_object_get(o, "state"));

        ck_assert_msg(state, "operation %s has no state", id);
        if (strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0)
            return o;
        if (tl_now() - t0 >= wait_s) {
            char *text = json_dumps(o, JSON_COMPACT);
            print_warnings(s);
            ck_abort_msg("operation %s still %s after %d s: %s", id, state, wait_s, text);
        }
        json_decref(o);
        usleep(100 * 1000);
    }
}

/* POST /v1/hosts: 202 with the host (discovering) and its operation; ids into host_id and
 * op_id. */
static void
host_post(const tl_sovd *s, const char *token, const char *body, char *host_id, char *op_id)
{
    json_t *j = tl_call_ok(s, "POST", "/v1/hosts", token, body, 202);
    json_t *h = json_object_get(j, "host"), *o = json_object_get(j, "operation");

    ck_assert_msg(h && o, "POST /v1/hosts answered no host and operation");
    ck_assert_str_eq(tl_str(h, "state"), "discovering");
    ck_assert_str_eq(tl_str(o, "kind"), "host.register");
    snprintf(host_id, 40, "%s", tl_str(h, "id"));
    snprintf(op_id, 40, "%s", tl_str(o, "id"));
    json_decref(j);
}

json_t *
tl_host_add(const tl_sovd *s, const char *token, const char *body)
{
    char host_id[40], op_id[40], path[96];

    host_post(s, token, body, host_id, op_id);
    tl_op_wait_ok(s, token, op_id, 60);
    snprintf(path, sizeof(path), "/v1/hosts/%s", host_id);
    return tl_call_ok(s, "GET", path, token, NULL, 200);
}

json_t *
tl_host_add_fails(const tl_sovd *s, const char *token, const char *body, char *host_id)
{
    char id[40], op_id[40];
    json_t *o;

    host_post(s, token, body, id, op_id);
    o = tl_op_wait_done(s, token, op_id, 60);
    ck_assert_msg(strcmp(tl_str(o, "state"), "failed") == 0,
                  "the registration of host %s succeeded", id);
    if (host_id)
        snprintf(host_id, 40, "%s", id);
    return o;
}

char *
tl_test_host_uri(const char *dir, const char *name, int cpus, int memory_gib)
{
    char path[1024], xml[512], *uri = NULL;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s.xml", dir, name);
    snprintf(xml, sizeof(xml),
             "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>%d</cores>"
             "<threads>1</threads><model>x86_64</model></cpu><memory>%lld</memory></node>\n",
             cpus, (long long) memory_gib * 1024 * 1024);
    f = fopen(path, "w");
    ck_assert_msg(f, "cannot write %s", path);
    fputs(xml, f);
    fclose(f);
    ck_assert(asprintf(&uri, "test://%s", path) > 0);
    return uri;
}

static void
make_user(const tl_sovd *s, const char *op, const char *tenant_id, const char *tenant_name,
          int role, tl_tenant *t)
{
    char path[256], body[512];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/tenants/%s/users", tenant_id);
    snprintf(body, sizeof(body), "{\"name\":\"%s %s\",\"email\":\"%s@%s.example.eu\","
                                 "\"role\":\"%s\"}",
             tl_role_names[role], tenant_name, tl_role_names[role], tenant_name,
             tl_role_names[role]);
    j = tl_call_ok(s, "POST", path, op, body, 201);
    snprintf(t->user_id[role], sizeof(t->user_id[role]), "%s",
             json_string_value(json_object_get(j, "id")));
    json_decref(j);
    snprintf(body, sizeof(body), "{\"name\":\"test\",\"user_id\":\"%s\"}", t->user_id[role]);
    j = tl_call_ok(s, "POST", "/v1/tokens", op, body, 201);
    snprintf(t->token[role], sizeof(t->token[role]), "%s",
             json_string_value(json_object_get(j, "secret")));
    json_decref(j);
}

void
tl_tenant_make(const tl_sovd *s, const char *op, const char *name, tl_tenant *ret)
{
    char body[256];
    json_t *j;

    memset(ret, 0, sizeof(*ret));
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
    j = tl_call_ok(s, "POST", "/v1/tenants", op, body, 201);
    snprintf(ret->id, sizeof(ret->id), "%s", json_string_value(json_object_get(j, "id")));
    snprintf(ret->name, sizeof(ret->name), "%s", name);
    json_decref(j);
    for (int r = TL_ADMIN; r < TL_ROLES; r++)
        make_user(s, op, ret->id, name, r, ret);
}

void
tl_operator_tenant(const tl_sovd *s, tl_tenant *ret)
{
    char *op = tl_operator_token(s);
    json_t *me = tl_call_ok(s, "GET", "/v1/me", op, NULL, 200);

    memset(ret, 0, sizeof(*ret));
    snprintf(ret->id, sizeof(ret->id), "%s",
             json_string_value(json_object_get(json_object_get(me, "tenant"), "id")));
    snprintf(ret->name, sizeof(ret->name), "operator");
    snprintf(ret->user_id[TL_OPERATOR], sizeof(ret->user_id[0]), "%s",
             json_string_value(json_object_get(json_object_get(me, "user"), "id")));
    snprintf(ret->token[TL_OPERATOR], sizeof(ret->token[0]), "%s", op);
    json_decref(me);
    for (int r = TL_ADMIN; r < TL_ROLES; r++)
        make_user(s, op, ret->id, "operator", r, ret);
    free(op);
}

/* ---- libvirt ---- */

static void
libvirtd_spawn(tl_libvirtd *d)
{
    struct passwd *pw = getpwnam("nobody");
    char log[600], env[4][700];
    pid_t parent = getpid(), pid;

    ck_assert_msg(pw, "no user 'nobody' to run a private libvirtd as");
    snprintf(log, sizeof(log), "%s/libvirtd.log", d->dir);
    snprintf(env[0], sizeof(env[0]), "XDG_RUNTIME_DIR=%s/run", d->dir);
    snprintf(env[1], sizeof(env[1]), "HOME=%s/home", d->dir);
    snprintf(env[2], sizeof(env[2]), "XDG_CONFIG_HOME=%s/home/.config", d->dir);
    snprintf(env[3], sizeof(env[3]), "XDG_CACHE_HOME=%s/home/.cache", d->dir);
    pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        char *const envp[] = { env[0], env[1], env[2], env[3], "PATH=/usr/sbin:/usr/bin:/bin",
                               NULL };
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (chdir(d->dir) < 0 || setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
            setuid(pw->pw_uid) < 0)
            _exit(126);
        /* After setuid, which clears it: the daemon dies with the test, even when the test
         * fails half-way (a failed check skips its teardown). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        execle("/usr/sbin/libvirtd", "libvirtd", (char *) NULL, envp);
        _exit(127);
    }
    d->pid = pid;
}

/* Wait until the daemon answers: the first connection waits for its QEMU probe (seconds). */
static void
libvirtd_wait(tl_libvirtd *d)
{
    for (int i = 0; i < 600; i++) {
        int status;

        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            char path[600];
            char *log;

            d->pid = 0;
            snprintf(path, sizeof(path), "%s/libvirtd.log", d->dir);
            log = tl_read_file(path);
            ck_abort_msg("private libvirtd exited at start (status %d): %s", status,
                         log ? log : "");
        }
        if (access(d->sock, F_OK) == 0 &&
            tl_sh("virsh -q -c '%s' version >/dev/null 2>&1", d->uri) == 0)
            return;
        usleep(100000);
    }
    ck_abort_msg("private libvirtd did not answer within 60 s; see %s/libvirtd.log", d->dir);
}

/* Its libvirtd.conf: the host UUID it reports (without SMBIOS, libvirt would make up a new
 * one at every start, and sovd would take a restart for another machine). */
static void
libvirtd_write_conf(const tl_libvirtd *d)
{
    struct passwd *pw = getpwnam("nobody");
    char path[700], text[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/home/.config", d->dir);
    mkdir(path, 0700);
    ck_assert(chown(path, pw->pw_uid, pw->pw_gid) == 0);
    snprintf(path, sizeof(path), "%s/home/.config/libvirt", d->dir);
    mkdir(path, 0700);
    ck_assert(chown(path, pw->pw_uid, pw->pw_gid) == 0);
    snprintf(path, sizeof(path), "%s/home/.config/libvirt/libvirtd.conf", d->dir);
    snprintf(text, sizeof(text), "host_uuid = \"%s\"\n", d->host_uuid);
    f = fopen(path, "w");
    ck_assert_msg(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
    ck_assert(chown(path, pw->pw_uid, pw->pw_gid) == 0);
}

void
tl_libvirtd_set_host_uuid(tl_libvirtd *d, const char *uuid)
{
    snprintf(d->host_uuid, sizeof(d->host_uuid), "%s", uuid);
    libvirtd_write_conf(d);
}

void
tl_libvirtd_start(tl_libvirtd *d)
{
    struct passwd *pw = getpwnam("nobody");
    const char *const sub[] = { "run", "home" };
    char *dir = tl_tmpdir();
    char path[600];

    ck_assert_msg(pw, "no user 'nobody' to run a private libvirtd as");
    memset(d, 0, sizeof(*d));
    snprintf(d->dir, sizeof(d->dir), "%s", dir);
    free(dir);
    snprintf(d->sock, sizeof(d->sock), "%s/run/libvirt/libvirt-sock", d->dir);
    snprintf(d->uri, sizeof(d->uri), "qemu+unix:///session?socket=%s", d->sock);
    ck_assert(chown(d->dir, pw->pw_uid, pw->pw_gid) == 0);
    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", d->dir, sub[i]);
        ck_assert_msg(mkdir(path, 0700) == 0, "mkdir %s: %s", path, strerror(errno));
        ck_assert(chown(path, pw->pw_uid, pw->pw_gid) == 0);
    }
    {
        char *u = tl_read_file("/proc/sys/kernel/random/uuid");
        ck_assert(u);
        snprintf(d->host_uuid, sizeof(d->host_uuid), "%.36s", u);
        free(u);
    }
    libvirtd_write_conf(d);
    libvirtd_spawn(d);
    libvirtd_wait(d);
}

void
tl_libvirtd_stop(tl_libvirtd *d)
{
    int status;

    if (d->pid <= 0)
        return;
    kill(d->pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            d->pid = 0;
            return;
        }
        usleep(50000);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, &status, 0);
    d->pid = 0;
}

void
tl_libvirtd_restart(tl_libvirtd *d)
{
    ck_assert_msg(d->dir[0], "tl_libvirtd_restart before tl_libvirtd_start");
    tl_libvirtd_stop(d);
    libvirtd_spawn(d);
    libvirtd_wait(d);
}

void
tl_libvirtd_discard(tl_libvirtd *d)
{
    tl_libvirtd_stop(d);
    if (d->dir[0])
        tl_tmpdir_remove(d->dir);
    d->dir[0] = '\0';
}

/* tl_sh_at_exit's watcher; keep_fd (>= 0) stays open in it until its command has run, so a
 * lock on that file outlives this process until the cleanup is done. Takes cmd. */
static void
at_exit_spawn(char *cmd, int keep_fd)
{
    int fds[2];
    pid_t pid;

    ck_assert(pipe2(fds, O_CLOEXEC) == 0);
    pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        char byte;
        ssize_t n;

        /* Out of the test's process group and output: check may kill the group on a
         * timeout, and meson waits for every holder of the test's stdout to close it. */
        setsid();
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
        }
        for (int fd = 3; fd < 1024; fd++)
            if (fd != fds[0] && fd != keep_fd)
                close(fd);
        do
            n = read(fds[0], &byte, 1);
        while (n > 0 || (n < 0 && errno == EINTR));
        if (keep_fd >= 0) {
            /* Held across the exec, until the command is done. */
            int flags = fcntl(keep_fd, F_GETFD);
            if (flags >= 0)
                fcntl(keep_fd, F_SETFD, flags & ~FD_CLOEXEC);
        }
        execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
        _exit(127);
    }
    /* The write end stays open in this process alone (close-on-exec keeps it out of the
     * programs the test starts), until it exits. */
    close(fds[0]);
    free(cmd);
}

void
tl_sh_at_exit(const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;

    va_start(ap, fmt);
    ck_assert(vasprintf(&cmd, fmt, ap) > 0);
    va_end(ap);
    at_exit_spawn(cmd, -1);
}

void
tl_libvirt_pool_cleanup_at_exit(const char *uri, const char *name)
{
    tl_sh_at_exit("virsh -q -c '%s' pool-destroy '%s'; virsh -q -c '%s' pool-undefine '%s'",
                  uri, name, uri, name);
}

/* ---- OVN ---- */

void
tl_ovn_start(tl_ovn *o, const char *dir, bool chassis)
{
    static unsigned counter;
    const char *top = tl_env("SOV_SOURCE_ROOT");
    char *made = NULL, *out, where[sizeof(o->dir)];
    double t0 = tl_now();
    int rc;

    if (!dir)
        dir = made = tl_tmpdir();
    ck_assert_msg(dir[0] == '/', "tl_ovn_start needs an absolute folder, not '%s'", dir);
    snprintf(where, sizeof(where), "%s", dir);     /* dir may be o->dir itself */
    free(made);
    memset(o, 0, sizeof(*o));
    snprintf(o->dir, sizeof(o->dir), "%s", where);
    snprintf(o->nb, sizeof(o->nb), "unix:%s/nb.sock", o->dir);
    snprintf(o->sb, sizeof(o->sb), "unix:%s/sb.sock", o->dir);
    /* Whatever happens to this test, its daemons go with it (the chassis' first: the folder
     * names are fixed now, the daemons may not have started yet). */
    tl_sh_at_exit("'%s/scripts/ovn' stop '%s/chassis'; '%s/scripts/ovn' stop '%s'", top, o->dir,
                  top, o->dir);
    out = tl_sh_out(&rc, "'%s/scripts/ovn' central '%s'", top, o->dir);
    ck_assert_msg(rc == 0, "scripts/ovn central %s failed: %s", o->dir, out);
    free(out);
    if (chassis) {
        snprintf(o->chassis_dir, sizeof(o->chassis_dir), "%s/chassis", o->dir);
        snprintf(o->system_id, sizeof(o->system_id), "tl-%d-%u", (int) getpid(), counter);
        /* A bridge name unique on this machine: the pid in hex, and a counter. */
        snprintf(o->bridge, sizeof(o->bridge), "br-%x-%u", (unsigned) getpid() & 0xffffffu,
                 counter % 100);
        counter++;
        out = tl_sh_out(&rc,
                        "SOV_OVN_NETNS=1 '%s/scripts/ovn' chassis '%s' '%s' 127.0.0.1 '%s' '%s'",
                        top, o->chassis_dir, o->system_id, o->sb, o->bridge);
        ck_assert_msg(rc == 0, "scripts/ovn chassis %s failed: %s", o->chassis_dir, out);
        free(out);
    }
    o->start_s = tl_now() - t0;
}

/* ---- this machine's own chassis (tl_ovn_start_host) ---- */

#define OVS_DEFAULT_SOCKET "/var/run/openvswitch/db.sock"
/* The userspace datapath's taps of the chassis' bridges, when ovs-vswitchd left them behind
 * (persistent taps outlive it when its exit --cleanup does not finish in time): only while
 * no live ovs-vswitchd runs in this network namespace (a zombie of ours not reaped yet does
 * not count), so never another's. */
#define TAPS_REMOVE                                                                         \
    "live=; for p in $(pgrep -x ovs-vswitchd); do "                                          \
    "[ \"$(readlink /proc/$p/ns/net)\" = \"$(readlink /proc/$$/ns/net)\" ] && "               \
    "! grep -q '^State:[[:space:]]*Z' /proc/$p/status 2>/dev/null && live=$p; done; "        \
    "[ -n \"$live\" ] || for t in br-int br-ex; do "                                         \
    "ip -d link show $t 2>/dev/null | grep -q 'tun type tap' && ip link del $t; done; true"

static const char *
ovs_lock_path(void)
{
    const char *p = getenv("SOV_TEST_OVS_LOCK");
    return p && p[0] ? p : TL_OVS_LOCK;
}

static const char *
ovs_default_socket(void)
{
    const char *p = getenv("SOV_OVS_DEFAULT_SOCKET");
    return p && p[0] ? p : OVS_DEFAULT_SOCKET;
}

/* Take the machine-wide lock of the root namespace's Open vSwitch: an fd holding it
 * (close-on-exec, so no daemon the test starts inherits it). Waits at most wait_s, then
 * fails the test naming the holder (what it wrote into the file). */
static int
ovs_lock_take(unsigned wait_s)
{
    const char *path = ovs_lock_path();
    double t0 = tl_now();
    char line[512];
    int fd;

    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ck_assert_msg(fd >= 0, "could not open %s: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        ck_assert_msg(errno == EWOULDBLOCK || errno == EINTR, "could not lock %s: %s", path,
                      strerror(errno));
        if (tl_now() - t0 > wait_s) {
            char *holder = tl_read_file(path);
            snprintf(line, sizeof(line), "%s", holder && holder[0] ? holder : "none written");
            line[strcspn(line, "\n")] = '\0';
            free(holder);
            close(fd);
            ck_abort_msg("the machine's Open vSwitch (root network namespace, %s) is still "
                         "held by another test run after %u s (%s, last holder: %s); it runs "
                         "one test's chassis at a time", OVS_DEFAULT_SOCKET, wait_s, path,
                         line);
        }
        usleep(200 * 1000);
    }
    return fd;
}

/* A live ovs-vswitchd in this network namespace (not of this test), named with its pid and
 * command line into what; false when there is none. */
static bool
ovs_vswitchd_here(char *what, size_t size)
{
    char self_ns[128] = "", path[300], ns[128], comm[64];
    struct dirent *e;
    DIR *d;
    bool found = false;
    ssize_t n;

    n = readlink("/proc/self/ns/net", self_ns, sizeof(self_ns) - 1);
    ck_assert(n > 0);
    self_ns[n] = '\0';
    d = opendir("/proc");
    ck_assert(d != NULL);
    while (!found && (e = readdir(d))) {
        char *text;
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
        text = tl_read_file(path);
        snprintf(comm, sizeof(comm), "%s", text ? text : "");
        free(text);
        if (strncmp(comm, "ovs-vswitchd", 12) != 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
        n = readlink(path, ns, sizeof(ns) - 1);
        if (n <= 0)
            continue;
        ns[n] = '\0';
        if (strcmp(ns, self_ns) != 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        text = tl_read_file(path);
        for (char *p = text; p && *p; p += strlen(p) + 1)
            if (p[strlen(p) + 1])
                p[strlen(p)] = ' ';
        snprintf(what, size, "pid %s: %s", e->d_name, text ? text : "ovs-vswitchd");
        free(text);
        found = true;
    }
    closedir(d);
    return found;
}

/* Fail the test when another Open vSwitch answers at the default socket, or another
 * ovs-vswitchd runs in this network namespace (scripts/run's, a machine's own): the test
 * never takes it over. Called with the lock held, so no other test's chassis is there. */
static void
ovs_assert_none_other(void)
{
    const char *sock = ovs_default_socket();
    char what[700], *out;
    int rc;

    out = tl_sh_out(&rc, "ovsdb-client --timeout=2 list-dbs 'unix:%s' 2>&1", sock);
    free(out);
    if (rc == 0) {
        out = tl_sh_out(NULL, "readlink -f '%s'", sock);
        out[strcspn(out, "\n")] = '\0';
        ck_abort_msg("another Open vSwitch answers at %s (it leads to %s): scripts/run, or the "
                     "machine's own; the e2e network tests need that socket for a chassis of "
                     "their own and never take one over: stop it and run them again", sock,
                     out);
    }
    if (ovs_vswitchd_here(what, sizeof(what)))
        ck_abort_msg("another ovs-vswitchd runs in this network namespace (%s): the e2e "
                     "network tests need the root namespace's userspace datapath and "
                     "br-int for a chassis of their own: stop it and run them again", what);
}

void
tl_ovn_start_host(tl_ovn *o, const char *dir)
{
    const char *top = tl_env("SOV_SOURCE_ROOT");
    const char *sock = ovs_default_socket();
    char *made = NULL, *out, where[sizeof(o->dir)], *p, *q;
    bool made_dir;
    double t0 = tl_now();
    int rc, fd;
    ssize_t n;

    /* The lock first: a test that never gets it leaves no folder behind. */
    {
        const char *w = getenv("SOV_TEST_OVS_LOCK_WAIT_S");
        char *end = NULL;
        unsigned long v = w && w[0] ? strtoul(w, &end, 10) : TL_OVS_LOCK_WAIT_S;

        ck_assert_msg(!end || *end == '\0', "SOV_TEST_OVS_LOCK_WAIT_S is not a number: %s", w);
        fd = ovs_lock_take((unsigned) v);
    }
    if (!dir)
        dir = made = tl_tmpdir();
    made_dir = made != NULL;
    ck_assert_msg(dir[0] == '/', "tl_ovn_start_host needs an absolute folder, not '%s'", dir);
    snprintf(where, sizeof(where), "%s", dir);
    free(made);
    memset(o, 0, sizeof(*o));
    snprintf(o->dir, sizeof(o->dir), "%s", where);
    snprintf(o->chassis_dir, sizeof(o->chassis_dir), "%s/chassis", o->dir);
    snprintf(o->nb, sizeof(o->nb), "unix:%s/nb.sock", o->dir);
    snprintf(o->sb, sizeof(o->sb), "unix:%s/sb.sock", o->dir);
    snprintf(o->bridge, sizeof(o->bridge), "br-int");
    snprintf(o->socket, sizeof(o->socket), "%s", sock);
    o->lock_fd = -1;
    {
        char line[700];
        int len = snprintf(line, sizeof(line), "pid %d since %ld, OVN in %s\n", (int) getpid(),
                         (long) time(NULL), o->dir);
        if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t) len, 0) != len)
            fprintf(stderr, "could not write the holder into %s\n", ovs_lock_path());
    }
    n = readlink(sock, o->link_prev, sizeof(o->link_prev) - 1);
    o->link_prev[n > 0 ? n : 0] = '\0';
    /* However the test ends, its daemons stop and the default socket leads back where it
     * led (or nowhere) before the lock goes to the next run: the watcher holds it until
     * then. */
    {
        char *cmd = NULL;
        ck_assert(asprintf(&cmd, "if [ \"$(readlink '%s')\" = '%s/db.sock' ]; then "
                           "rm -f '%s'; [ -z '%s' ] || ln -s '%s' '%s'; fi; "
                           "'%s/scripts/ovn' stop '%s'; '%s/scripts/ovn' stop '%s'; %s; %s'%s'",
                           sock, o->chassis_dir, sock, o->link_prev, o->link_prev, sock,
                           top, o->chassis_dir, top, o->dir, TAPS_REMOVE,
                           made_dir ? "rm -rf " : "true ", o->dir) > 0);
        at_exit_spawn(cmd, fd);
    }
    o->lock_fd = fd;
    o->host = true;
    ovs_assert_none_other();

    /* The chassis is the libvirt host of qemu:///system: its host UUID, as sovd records it
     * for the host, is the name OVN's requested-chassis gives. */
    ck_assert_int_eq(tl_virsh("qemu:///system", &out, "capabilities"), 0);
    p = strstr(out, "<uuid>");
    q = p ? strstr(p, "</uuid>") : NULL;
    ck_assert_msg(p && q && q - p - 6 < (long) sizeof(o->system_id),
                  "no host uuid in qemu:///system's capabilities");
    snprintf(o->system_id, sizeof(o->system_id), "%.*s", (int) (q - p - 6), p + 6);
    free(out);

    out = tl_sh_out(&rc, "'%s/scripts/ovn' central '%s'", top, o->dir);
    ck_assert_msg(rc == 0, "scripts/ovn central %s failed: %s", o->dir, out);
    free(out);
    out = tl_sh_out(&rc, "'%s/scripts/ovn' chassis '%s' '%s' 127.0.0.1 '%s' br-int", top,
                    o->chassis_dir, o->system_id, o->sb);
    ck_assert_msg(rc == 0, "scripts/ovn chassis %s failed: %s", o->chassis_dir, out);
    free(out);
    out = tl_sh_out(&rc, "SOV_OVS_DEFAULT_SOCKET='%s' '%s/scripts/ovn' link '%s'", sock, top,
                    o->chassis_dir);
    ck_assert_msg(rc == 0, "scripts/ovn link %s failed: %s", o->chassis_dir, out);
    free(out);
    out = tl_sh_out(&rc, "readlink '%s'", sock);
    ck_assert_msg(rc == 0 && strncmp(out, o->chassis_dir, strlen(o->chassis_dir)) == 0,
                  "%s does not lead to this test's chassis %s: %s", sock, o->chassis_dir, out);
    free(out);
    o->start_s = tl_now() - t0;
}

/* Whether cidr overlaps an address or a route (not a default one) of this network
 * namespace: what overlaps into what (malloc, "" none). */
static char *
net_overlaps(const char *cidr)
{
    return tl_sh_out(NULL, "{ ip -o -4 addr show to '%s'; ip -4 route show table all root '%s';"
                     " ip -4 route show table all match '%s' | grep -v '^default'; } 2>&1",
                     cidr, cidr, cidr);
}

void
tl_free_external(char prefix[16])
{
    static const char *const candidates[] = { "198.51.100.", "203.0.113.", "192.0.2." };
    char cidr[32], seen[1024] = "";

    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        char *out;

        snprintf(cidr, sizeof(cidr), "%s0/24", candidates[i]);
        out = net_overlaps(cidr);
        if (!out[0]) {
            free(out);
            snprintf(prefix, 16, "%s", candidates[i]);
            return;
        }
        snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s: %s; ", cidr, out);
        free(out);
    }
    ck_abort_msg("no TEST-NET /24 is free on this machine for an external network: %s", seen);
}

void
tl_ovn_external(tl_ovn *o, const char *gateway)
{
    const char *top = tl_env("SOV_SOURCE_ROOT");
    char addr[64], *out;
    int rc;

    ck_assert_msg(o->chassis_dir[0], "tl_ovn_external on an OVN without a chassis");
    snprintf(addr, sizeof(addr), "%.*s", (int) strcspn(gateway, "/"), gateway);
    if (o->host) {
        /* The root namespace is the machine's own: an address or route there already (its
         * real network, its default gateway) must never be shadowed. */
        out = net_overlaps(gateway);
        ck_assert_msg(!out[0], "%s overlaps what this machine has already: %s", gateway, out);
        free(out);
    }
    out = tl_sh_out(&rc, "'%s/scripts/ovn' external '%s' '%s'", top, o->chassis_dir, gateway);
    ck_assert_msg(rc == 0, "scripts/ovn external %s %s failed: %s", o->chassis_dir, gateway,
                  out);
    free(out);
}

void
tl_ovn_stop(tl_ovn *o)
{
    const char *top = getenv("SOV_SOURCE_ROOT");

    if (!o->dir[0] || !top)
        return;
    /* The default socket first (scripts/ovn stop would remove a link to the chassis, and
     * leave none where one led before). */
    if (o->host && o->lock_fd >= 0) {
        char cur[600];
        ssize_t n = readlink(o->socket, cur, sizeof(cur) - 1);
        char ours[700];

        snprintf(ours, sizeof(ours), "%s/db.sock", o->chassis_dir);
        if (n > 0) {
            cur[n] = '\0';
            if (strcmp(cur, ours) == 0) {
                unlink(o->socket);
                if (o->link_prev[0] && symlink(o->link_prev, o->socket) < 0)
                    fprintf(stderr, "could not restore %s -> %s: %s\n", o->socket,
                            o->link_prev, strerror(errno));
            }
        }
    }
    if (o->chassis_dir[0])
        tl_sh("'%s/scripts/ovn' stop '%s' >/dev/null 2>&1", top, o->chassis_dir);
    tl_sh("'%s/scripts/ovn' stop '%s' >/dev/null 2>&1", top, o->dir);
    if (o->host && o->lock_fd >= 0) {
        tl_sh("%s", TAPS_REMOVE);
        flock(o->lock_fd, LOCK_UN);
        close(o->lock_fd);
        o->lock_fd = -1;
    }
}

void
tl_ovn_discard(tl_ovn *o)
{
    tl_ovn_stop(o);
    if (o->dir[0])
        tl_tmpdir_remove(o->dir);
    o->dir[0] = '\0';
}

static char *
ovn_ctl(int *rc, const char *fmt, va_list ap, const char *tool, const char *db)
{
    char *args = NULL, *out;
    size_t len;
    int status;

    ck_assert(vasprintf(&args, fmt, ap) > 0);
    out = tl_sh_out(&status, "%s --db=%s --timeout=10 %s", tool, db, args);
    len = strlen(out);
    while (len > 0 && out[len - 1] == '\n')
        out[--len] = '\0';
    if (rc)
        *rc = status;
    else
        ck_assert_msg(status == 0, "%s %s failed (%d): %s", tool, args, status, out);
    free(args);
    return out;
}

char *
tl_ovn_nbctl(const tl_ovn *o, int *rc, const char *fmt, ...)
{
    va_list ap;
    char *out;

    va_start(ap, fmt);
    out = ovn_ctl(rc, fmt, ap, "ovn-nbctl", o->nb);
    va_end(ap);
    return out;
}

char *
tl_ovn_sbctl(const tl_ovn *o, int *rc, const char *fmt, ...)
{
    va_list ap;
    char *out;

    va_start(ap, fmt);
    out = ovn_ctl(rc, fmt, ap, "ovn-sbctl", o->sb);
    va_end(ap);
    return out;
}

char *
tl_ovn_vsctl(const tl_ovn *o, int *rc, const char *fmt, ...)
{
    char db[640];
    va_list ap;
    char *out;

    ck_assert_msg(o->chassis_dir[0], "tl_ovn_vsctl on an OVN without a chassis");
    snprintf(db, sizeof(db), "unix:%s/db.sock", o->chassis_dir);
    va_start(ap, fmt);
    out = ovn_ctl(rc, fmt, ap, "ovs-vsctl", db);
    va_end(ap);
    return out;
}
