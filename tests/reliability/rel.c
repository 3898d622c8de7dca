/* rel.c: helpers of the reliability tiers (see rel.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "rel.h"

bool
rel_long(void)
{
    const char *v = getenv("SOV_TEST_LONG");

    return v && strcmp(v, "1") == 0;
}

double
rel_now(void)
{
    return tl_now();
}

/* ---- raw HTTP ---- */

static int
connect_to(unsigned port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *) &a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Split what came back into status, headers and body (Content-Length or to the end). */
static void
parse_answer(char *data, size_t len, tl_resp *ret)
{
    char *end = NULL;
    size_t head_len;

    for (size_t i = 0; i + 3 < len; i++)
        if (memcmp(data + i, "\r\n\r\n", 4) == 0) {
            end = data + i;
            break;
        }
    if (len < 12 || strncmp(data, "HTTP/1.", 7) != 0 || !end) {
        ret->headers = calloc(1, 1);
        ret->body = data;
        ret->len = len;
        return;
    }
    ret->status = strtol(data + 9, NULL, 10);
    head_len = (size_t) (end - data) + 4;
    ret->headers = strndup(data, head_len);
    ret->len = len - head_len;
    ret->body = malloc(ret->len + 1);
    memcpy(ret->body, data + head_len, ret->len);
    ret->body[ret->len] = '\0';
    free(data);
    char *cl = tl_resp_header(ret, "Content-Length");
    if (cl) {
        size_t n = strtoul(cl, NULL, 10);
        if (n < ret->len)
            ret->len = n;
        ret->body[ret->len] = '\0';
        free(cl);
    }
    if (ret->len > 0)
        ret->json = json_loadb(ret->body, ret->len, 0, NULL);
}

int
rel_raw(unsigned port, const char *head, const void *body, size_t body_len, bool no_length,
        unsigned timeout_s, tl_resp *ret)
{
    char *req = NULL, *in = NULL;
    size_t req_len, sent = 0, in_len = 0, in_cap = 0;
    double deadline = rel_now() + timeout_s;
    bool write_done = false;
    int fd, rc = 0;

    memset(ret, 0, sizeof(*ret));
    if (body && !no_length)
        ck_assert(asprintf(&req, "%s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                           head, body_len) > 0);
    else
        ck_assert(asprintf(&req, "%s\r\nConnection: close\r\n\r\n", head) > 0);
    req_len = strlen(req);
    if (body && body_len > 0) {
        req = realloc(req, req_len + body_len);
        ck_assert(req);
        memcpy(req + req_len, body, body_len);
        req_len += body_len;
    }
    fd = connect_to(port);
    if (fd < 0) {
        free(req);
        ret->headers = calloc(1, 1);
        ret->body = calloc(1, 1);
        return -1;
    }
    /* Write and read at once: a server may answer (413, 415) before it reads the body. */
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN | (write_done ? 0 : POLLOUT) };
        int left = (int) ((deadline - rel_now()) * 1000);

        if (left <= 0) {
            rc = -2;
            break;
        }
        if (poll(&p, 1, left) <= 0)
            continue;
        if (!write_done && (p.revents & POLLOUT)) {
            ssize_t n = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t) n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
                write_done = true;  /* the server closed its side: read what it said */
            if (sent == req_len)
                write_done = true;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (in_len + 65536 + 1 > in_cap) {
                in_cap = (in_len + 65536 + 1) * 2;
                in = realloc(in, in_cap);
                ck_assert(in);
            }
            ssize_t n = recv(fd, in + in_len, in_cap - in_len - 1, 0);
            if (n > 0) {
                in_len += (size_t) n;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                if (n < 0 && in_len == 0)
                    rc = -1;
                break;
            }
        }
    }
    close(fd);
    free(req);
    if (!in)
        in = calloc(1, 1);
    in[in_len] = '\0';
    parse_answer(in, in_len, ret);
    if (rc == 0 && ret->status == 0)
        rc = -1;
    return rc;
}

bool
rel_is_problem(const tl_resp *r, char *why, size_t size)
{
    char *ct = tl_resp_header(r, "Content-Type");
    bool ok = ct && strcmp(ct, "application/problem+json") == 0;

    if (!ok)
        snprintf(why, size, "Content-Type is %s, not application/problem+json",
                 ct ? ct : "(none)");
    free(ct);
    if (!ok)
        return false;
    if (!json_is_object(r->json)) {
        snprintf(why, size, "problem body is not a JSON object");
        return false;
    }
    if (json_integer_value(json_object_get(r->json, "status")) != r->status) {
        snprintf(why, size, "problem status differs from the answer's");
        return false;
    }
    if (!json_is_string(json_object_get(r->json, "type")) ||
        !json_is_string(json_object_get(r->json, "title"))) {
        snprintf(why, size, "problem without type or title");
        return false;
    }
    return true;
}

/* ---- the database ---- */

PGconn *
rel_db_open(const char *db_url)
{
    PGconn *c = PQconnectdb(db_url);

    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect to %s: %s", db_url,
                  PQerrorMessage(c));
    return c;
}

void
rel_db_close(PGconn *c)
{
    if (c)
        PQfinish(c);
}

char *
rel_db_value(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    char *v = NULL;

    ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "SQL failed: %s: %s", sql,
                  PQerrorMessage(c));
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0 &&
        !PQgetisnull(r, 0, 0))
        v = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

void
rel_db_track_writes(const char *db_url, const char *const *except)
{
    char list[1024] = "'rel_writes'";
    char *sql = NULL;
    size_t n = strlen(list);

    for (size_t i = 0; except && except[i]; i++)
        n += (size_t) snprintf(list + n, sizeof(list) - n, ", '%s'", except[i]);
    /* SECURITY DEFINER: sovd's sessions may not write rel_writes themselves. */
    ck_assert(asprintf(&sql,
        "CREATE TABLE rel_writes (id bigserial PRIMARY KEY, tbl text NOT NULL, op text NOT NULL);"
        "CREATE FUNCTION rel_write() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
        "SET search_path = public AS $f$ BEGIN "
        "INSERT INTO rel_writes (tbl, op) VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $f$;"
        "DO $d$ DECLARE t text; BEGIN FOR t IN SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN (%s)"
        " LOOP EXECUTE format('CREATE TRIGGER rel_write AFTER INSERT OR UPDATE OR DELETE ON %%I"
        " FOR EACH ROW EXECUTE FUNCTION rel_write()', t); END LOOP; END $d$", list) > 0);
    free(tl_db_exec(db_url, sql));
    free(sql);
}

long long
rel_db_writes(PGconn *c)
{
    char *v = rel_db_value(c, "SELECT count(*) FROM rel_writes");
    long long n = v ? atoll(v) : 0;

    free(v);
    return n;
}

char *
rel_db_writes_since(PGconn *c, long long since)
{
    char sql[256], *v;

    snprintf(sql, sizeof(sql), "SELECT string_agg(w, ', ') FROM (SELECT DISTINCT tbl || ' ' "
             "|| op AS w FROM (SELECT * FROM rel_writes ORDER BY id OFFSET %lld) a) b", since);
    v = rel_db_value(c, sql);
    return v ? v : strdup("");
}

long long
rel_sql_num(const char *db_url, const char *fmt, ...)
{
    char *sql = NULL, *v;
    long long n;
    va_list ap;

    va_start(ap, fmt);
    ck_assert(vasprintf(&sql, fmt, ap) > 0);
    va_end(ap);
    v = tl_db_exec(db_url, sql);
    n = v ? atoll(v) : 0;
    free(v);
    free(sql);
    return n;
}

/* ---- latency ---- */

void
rel_lat_add(rel_lat *l, double secs)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        ck_assert(l->v);
    }
    l->v[l->n++] = secs;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

double
rel_lat_pct(const rel_lat *l, double pct)
{
    double *c, v;
    size_t i;

    if (l->n == 0)
        return 0;
    c = malloc(l->n * sizeof(*c));
    ck_assert(c);
    memcpy(c, l->v, l->n * sizeof(*c));
    qsort(c, l->n, sizeof(*c), cmp_double);
    i = (size_t) (pct / 100.0 * (double) (l->n - 1) + 0.5);
    v = c[i < l->n ? i : l->n - 1];
    free(c);
    return v;
}

void
rel_lat_free(rel_lat *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* ---- the OpenAPI document ---- */

json_t *
rel_oa_resolve(json_t *api, json_t *s)
{
    const char *ref;
    json_t *one;

    while ((ref = json_string_value(json_object_get(s, "$ref")))) {
        const char *kind = strstr(ref, "/parameters/") ? "parameters" : "schemas";
        const char *name = strrchr(ref, '/');
        s = json_object_get(json_object_get(json_object_get(api, "components"), kind),
                            name ? name + 1 : ref);
    }
    /* "oneOf": [x, {"type": "null"}]: the field is x, or null. */
    one = json_object_get(s, "oneOf");
    if (json_is_array(one)) {
        size_t i;
        json_t *alt;
        json_array_foreach(one, i, alt) {
            json_t *r = rel_oa_resolve(api, alt);
            const char *t = json_string_value(json_object_get(r, "type"));
            if (!t || strcmp(t, "null") != 0)
                return r;
        }
    }
    return s;
}

json_type
rel_oa_type(json_t *api, json_t *schema)
{
    const char *t = json_string_value(json_object_get(rel_oa_resolve(api, schema), "type"));

    if (!t || strcmp(t, "string") == 0)
        return JSON_STRING;
    if (strcmp(t, "integer") == 0)
        return JSON_INTEGER;
    if (strcmp(t, "number") == 0)
        return JSON_REAL;
    if (strcmp(t, "boolean") == 0)
        return JSON_TRUE;
    if (strcmp(t, "array") == 0)
        return JSON_ARRAY;
    return JSON_OBJECT;
}

bool
rel_oa_free_text(json_t *api, json_t *schema)
{
    json_t *s = rel_oa_resolve(api, schema);

    return rel_oa_type(api, s) == JSON_STRING && !json_object_get(s, "pattern") &&
           !json_object_get(s, "enum") && !json_object_get(s, "format");
}

static json_t *
operation_of(json_t *api, const char *method, const char *pattern)
{
    char m[8];
    size_t i;

    for (i = 0; method[i] && i < sizeof(m) - 1; i++)
        m[i] = (char) (method[i] | 0x20);
    m[i] = '\0';
    return json_object_get(json_object_get(json_object_get(api, "paths"), pattern), m);
}

json_t *
rel_oa_body(json_t *api, const char *method, const char *pattern)
{
    json_t *o = operation_of(api, method, pattern);
    json_t *s = json_object_get(json_object_get(json_object_get(json_object_get(o,
                    "requestBody"), "content"), "application/json"), "schema");

    return s ? rel_oa_resolve(api, s) : NULL;
}

json_t *
rel_oa_params(json_t *api, const char *method, const char *pattern)
{
    return json_object_get(operation_of(api, method, pattern), "parameters");
}

bool
rel_oa_required(json_t *schema, const char *field)
{
    size_t i;
    json_t *v;

    json_array_foreach(json_object_get(schema, "required"), i, v)
        if (strcmp(json_string_value(v), field) == 0)
            return true;
    return false;
}

json_t *
rel_oa_sample(json_t *api, json_t *schema, unsigned n)
{
    json_t *s = rel_oa_resolve(api, schema);
    const char *pattern = json_string_value(json_object_get(s, "pattern"));
    const char *format = json_string_value(json_object_get(s, "format"));
    json_t *en = json_object_get(s, "enum");
    char v[96];

    switch (rel_oa_type(api, s)) {
    case JSON_INTEGER: return json_integer(1);
    case JSON_REAL: return json_real(1.0);
    case JSON_TRUE: return json_true();
    case JSON_ARRAY: return json_pack("[o]", rel_oa_sample(api, json_object_get(s, "items"),
                                                           n));
    case JSON_OBJECT: return json_object();
    default: break;
    }
    if (json_is_array(en))
        return json_incref(json_array_get(en, 0));
    if (format && strcmp(format, "email") == 0)
        snprintf(v, sizeof(v), "rel%u@example.eu", n);
    else if (format && strcmp(format, "date-time") == 0)
        snprintf(v, sizeof(v), "2099-01-01T00:00:00Z");
    else if (format && strcmp(format, "uuid") == 0)
        snprintf(v, sizeof(v), "00000000-0000-0000-0000-%012u", n);
    else if (pattern && strstr(pattern, "A-Z"))
        snprintf(v, sizeof(v), "FR");
    else if (pattern && strstr(pattern, "0-9a-f"))
        snprintf(v, sizeof(v), "%064d", 0);
    else if (pattern)
        snprintf(v, sizeof(v), "rel%u", n);
    else
        snprintf(v, sizeof(v), "sample %u", n);
    return json_string(v);
}

/* ---- a world to load ---- */

static void
world_take(json_t *j, const char *obj, const char *key, char *out, size_t size)
{
    json_t *o = obj ? json_object_get(j, obj) : j;
    const char *v = json_string_value(json_object_get(o, key));

    ck_assert_msg(v, "no '%s' in %s", key, json_dumps(j, 0));
    snprintf(out, size, "%s", v);
    json_decref(j);
}

void
rel_world_start(rel_world *w, const char *db_url, const char *const *extra)
{
    char store[700], pool_flag[128], path_flag[700], net_flag[128], cidr_flag[128];
    char body[2048], qcow2[600], op_id[40], path[256];
    const char *args[40] = { "--role=api,worker,reconciler", "--host-check-interval=2",
                             "--worker-threads=4", "--image-allow-file-urls=true",
                             "--stop-timeout=5", store, pool_flag, path_flag, net_flag,
                             cidr_flag };
    size_t n = 10;

    memset(w, 0, sizeof(*w));
    w->tmp = tl_tmpdir();
    w->db = strdup(db_url);
    snprintf(w->pool, sizeof(w->pool), "sovrel-%d", (int) getpid());
    snprintf(w->net, sizeof(w->net), "sovrel%d", (int) getpid());
    tl_libvirtd_start(&w->lvd);
    snprintf(w->uri, sizeof(w->uri), "test+unix:///default?socket=%s", w->lvd.sock);
    snprintf(store, sizeof(store), "--image-store=%s/store", w->tmp);
    snprintf(pool_flag, sizeof(pool_flag), "--storage-pool=%s", w->pool);
    snprintf(path_flag, sizeof(path_flag), "--storage-pool-path=%s/pool", w->tmp);
    snprintf(net_flag, sizeof(net_flag), "--nat-network=%s", w->net);
    snprintf(cidr_flag, sizeof(cidr_flag), "--nat-cidr=10.%d.%d.0/24",
             100 + (int) (getpid() % 150), (int) ((getpid() / 150) % 256));
    for (size_t i = 0; extra && extra[i] && n < 39; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    tl_sovd_start(&w->sovd, db_url, args);
    w->op = tl_operator_token(&w->sovd);
    tl_tenant_make(&w->sovd, w->op, "load", &w->ten);
    snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", w->ten.id);
    json_decref(tl_call_ok(&w->sovd, "PUT", path, w->op,
                           "{\"instances\":1000000,\"vcpus\":1000000,\"memory_mib\":1000000000,"
                           "\"storage_gib\":1000000000}", 200));
    json_decref(tl_call_ok(&w->sovd, "POST", "/v1/regions", w->op,
                           "{\"code\":\"fr-rel-1\",\"name\":\"Rel\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-rel\",\"zones\":[\"a\"]}", 201));
    snprintf(body, sizeof(body), "{\"name\":\"rel-host\",\"region\":\"fr-rel-1\",\"zone\":\"a\","
             "\"libvirt_uri\":\"%s\",\"cpu_allocation_ratio\":100,"
             "\"ram_allocation_ratio\":100}", w->uri);
    world_take(tl_host_add(&w->sovd, w->op, body), NULL, "id",
               w->host_id, sizeof(w->host_id));
    world_take(tl_call_ok(&w->sovd, "POST", "/v1/flavors", w->op,
                          "{\"name\":\"tiny\",\"vcpus\":1,\"memory_mib\":64,\"disk_gib\":1}",
                          201),
               NULL, "id", w->flavor_id, sizeof(w->flavor_id));
    snprintf(qcow2, sizeof(qcow2), "%s/base.qcow2", w->tmp);
    ck_assert_int_eq(tl_sh("qemu-img create -q -f qcow2 '%s' 16M", qcow2), 0);
    snprintf(body, sizeof(body), "{\"name\":\"base\",\"region\":\"fr-rel-1\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", qcow2);
    json_t *j = tl_call_ok(&w->sovd, "POST", "/v1/images", w->ten.token[TL_MEMBER], body, 202);
    snprintf(w->image_id, sizeof(w->image_id), "%s",
             json_string_value(json_object_get(json_object_get(j, "image"), "id")));
    world_take(j, "operation", "id", op_id, sizeof(op_id));
    ck_assert_msg(rel_world_settle(w, 60) == 0, "the image import did not finish");
    snprintf(path, sizeof(path), "/v1/images/%s", w->image_id);
    j = tl_call_ok(&w->sovd, "GET", path, w->ten.token[TL_READER], NULL, 200);
    ck_assert_msg(strcmp(json_string_value(json_object_get(j, "state")), "active") == 0,
                  "image not active: %s", json_dumps(j, 0));
    json_decref(j);
}

int
rel_world_stop_sovd(rel_world *w)
{
    return tl_sovd_stop_clean(&w->sovd, 60);
}

void
rel_world_discard(rel_world *w)
{
    tl_sovd_discard(&w->sovd);
    tl_libvirtd_discard(&w->lvd);
    tl_tmpdir_remove(w->tmp);
    free(w->tmp);
    free(w->op);
    free(w->db);
    memset(w, 0, sizeof(*w));
}

long long
rel_world_settle(rel_world *w, unsigned timeout_s)
{
    double until = rel_now() + timeout_s;
    long long left;

    for (;;) {
        left = rel_sql_num(w->db, "SELECT count(*) FROM operations WHERE state IN "
                                  "('queued', 'running')");
        if (left == 0 || rel_now() > until)
            return left;
        usleep(200 * 1000);
    }
}

char *
rel_world_domains(rel_world *w)
{
    char path[600];
    char *out;

    snprintf(path, sizeof(path), "%s/domains.txt", w->tmp);
    tl_sh("virsh -q -c '%s' list --all --name > '%s' 2>&1", w->uri, path);
    out = tl_read_file(path);
    return out ? out : strdup("");
}
