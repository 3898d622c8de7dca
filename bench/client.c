/* client.c: see client.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

double
bench_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

void
bench_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

typedef struct grow {
    char *p;
    size_t len;
} grow;

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    grow *g = arg;
    char *p = realloc(g->p, g->len + size * n + 1);

    if (!p)
        return 0;
    memcpy(p + g->len, data, size * n);
    g->p = p;
    g->len += size * n;
    g->p[g->len] = '\0';
    return size * n;
}

long
bench_call(CURL *curl, const char *base, const char *method, const char *path,
           const char *token, const char *body, json_t **ret, char **text)
{
    char url[512], auth[256];
    struct curl_slist *h = NULL;
    grow g = { NULL, 0 };
    long status = 0;

    *ret = NULL;
    snprintf(url, sizeof(url), "%s%s", base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
    if (body)
        h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    /* Back to a plain GET first: the handle remembers the last call's body. */
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    if (body)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &g);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    if (g.p)
        *ret = json_loads(g.p, 0, NULL);
    *text = g.p;
    return status;
}

bool
bench_read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    bool ok = f && fgets(buf, (int) size, f);

    if (f)
        fclose(f);
    if (ok)
        buf[strcspn(buf, "\r\n")] = '\0';
    return ok;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

bool
bench_figures(const double *v, unsigned n, double *p50, double *p95)
{
    double *s = malloc(n * sizeof(*s));
    unsigned k = (n * 95 + 99) / 100;

    if (!s)
        return false;
    memcpy(s, v, n * sizeof(v[0]));
    qsort(s, n, sizeof(s[0]), cmp_double);
    *p50 = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    *p95 = s[k > 0 ? k - 1 : 0];
    free(s);
    return true;
}

int
bench_run(char *const argv[], char **out)
{
    int fds[2] = { -1, -1 }, status;
    pid_t pid;
    size_t len = 0, cap = 4096;
    char *buf = NULL;
    ssize_t n;

    if (out) {
        *out = NULL;
        buf = malloc(cap);
        if (!buf || pipe(fds) < 0) {
            free(buf);
            return -1;
        }
    }
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0)
            dup2(null, 0);
        if (out) {
            dup2(fds[1], 1);
            close(fds[0]);
            close(fds[1]);
        } else if (null >= 0) {
            dup2(null, 1);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    if (out) {
        close(fds[1]);
        while ((n = read(fds[0], buf + len, cap - len - 1)) != 0) {
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                break;
            len += (size_t) n;
            if (len + 1 == cap) {
                char *p = realloc(buf, cap * 2);
                if (!p)
                    break;
                buf = p;
                cap *= 2;
            }
        }
        close(fds[0]);
        buf[len] = '\0';
        *out = buf;
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *
str(const json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : "";
}

void
bench_member(bench_call_ok_fn *call_ok, const char *op_token, const char *name,
             const char *email, char tenant[64], char member[128])
{
    char body[512], path[256], user[64];
    json_t *j;

    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
    j = call_ok("POST", "/v1/tenants", op_token, body, 201);
    snprintf(tenant, 64, "%s", str(j, "id"));
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/tenants/%s/users", tenant);
    snprintf(body, sizeof(body), "{\"name\":\"Bench\",\"email\":\"%s\",\"role\":\"member\"}",
             email);
    j = call_ok("POST", path, op_token, body, 201);
    snprintf(user, sizeof(user), "%s", str(j, "id"));
    json_decref(j);
    snprintf(body, sizeof(body), "{\"name\":\"bench\",\"user_id\":\"%s\"}", user);
    j = call_ok("POST", "/v1/tokens", op_token, body, 201);
    snprintf(member, 128, "%s", str(j, "secret"));
    json_decref(j);
}

char *
bench_replace_free(char *s, const char *from, const char *to)
{
    size_t nf = strlen(from), nt = strlen(to), n = 0, len = strlen(s);
    char *out, *w;

    for (const char *p = s; (p = strstr(p, from)); p += nf)
        n++;
    out = malloc(len + n * (nt > nf ? nt - nf : 0) + 1);
    if (!out) {
        free(s);
        return NULL;
    }
    w = out;
    for (const char *p = s, *q;; p = q + nf) {
        q = strstr(p, from);
        if (!q) {
            memcpy(w, p, strlen(p) + 1);
            break;
        }
        memcpy(w, p, (size_t) (q - p));
        w += q - p;
        memcpy(w, to, nt);
        w += nt;
    }
    free(s);
    return out;
}
