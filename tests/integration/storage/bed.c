/* bed.c: the storage suites' test bed (bed.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bed.h"
#include "hosts.h"

char *db;
char *tmp;
tl_sovd sovd;
tl_libvirtd lvd;
char *op;
tl_tenant acme, globex;
char uri[800];
char pool[64];
tl_libvirtd lvd2;
char uri2[800];
tl_ovn ovn;
static char net[64];

void
bed_setup(const char *prefix)
{
    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    memset(&lvd, 0, sizeof(lvd));
    memset(&lvd2, 0, sizeof(lvd2));
    uri2[0] = '\0';
    memset(&ovn, 0, sizeof(ovn));
    op = NULL;
    snprintf(pool, sizeof(pool), "%s-%d", prefix, (int) getpid());
    snprintf(net, sizeof(net), "%s%d", prefix, (int) getpid());
    tl_libvirtd_start(&lvd);
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s", lvd.sock);
}

void
bed_second_start(void)
{
    tl_libvirtd_start(&lvd2);
    snprintf(uri2, sizeof(uri2), "test+unix:///default?socket=%s", lvd2.sock);
}

void
bed_setup_two(const char *prefix)
{
    bed_setup(prefix);
    bed_second_start();
}

void
bed_teardown(void)
{
    int rc = tl_sovd_stop_clean(&sovd, 30);

    tl_sovd_discard(&sovd);
    /* The pool lives in the daemon's test driver, and dies with it. */
    tl_libvirtd_discard(&lvd);
    if (lvd2.dir[0])
        tl_libvirtd_discard(&lvd2);
    if (ovn.dir[0])
        tl_ovn_discard(&ovn);
    tl_teardown_end(rc, db, op, tmp);
}

void
bed_ovn_start(char *nb_flag)
{
    tl_ovn_start(&ovn, NULL, false);
    snprintf(nb_flag, 700, "--ovn-nb=%s", ovn.nb);
}

void
bed_start(const char *const *args)
{
    tl_local_flags f;
    const char *all[32];
    size_t n = 0;

    for (; args && args[n] && n < 26; n++)
        all[n] = args[n];
    /* A network of this test process in the private daemon, for the instances. */
    tl_local_flags_init(&f, tmp, pool, net);
    all[n++] = f.store;
    all[n++] = f.pool;
    all[n++] = f.path;
    all[n++] = f.net;
    all[n++] = f.cidr;
    all[n] = NULL;
    tl_sovd_start(&sovd, db, all);
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
    tl_tenant_make(&sovd, op, "globex", &globex);
}

void
bed_start_fault(const char *const *args, const char *fault)
{
    if (fault)
        setenv("SOV_HV_FAULT", fault, 1);
    bed_start(args);
    unsetenv("SOV_HV_FAULT");
}

void
bed_host_add(const char *name, const char *region, const char *zone, const char *u, bool up,
             char *id)
{
    char body[2048];
    json_t *j;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"%s\",\"zone\":\"%s\","
             "\"libvirt_uri\":\"%s\"}", name, region, zone, u);
    j = tl_host_add(&sovd, op, body);
    if (up)
        ck_assert_str_eq(tl_str(j, "state"), "up");
    snprintf(id, 40, "%s", tl_str(j, "id"));
    json_decref(j);
}

void
bed_image(const char *name, const char *region, int wait_s, char *id)
{
    char body[1024], qcow2[600], op_id[40];
    json_t *j;

    snprintf(qcow2, sizeof(qcow2), "%s/%s.qcow2", tmp, name);
    ck_assert_int_eq(tl_sh("qemu-img create -q -f qcow2 '%s' 64M", qcow2), 0);
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"%s\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", name, region, qcow2);
    j = tl_call_ok(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER], body, 202);
    if (id)
        snprintf(id, 40, "%s", tl_str(json_object_get(j, "image"), "id"));
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], op_id, wait_s);
}

json_t *
bed_get(const char *collection, const char *id)
{
    char path[256];

    snprintf(path, sizeof(path), "/v1/%s/%s", collection, id);
    return tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
}

json_t *
bed_wait_state(const char *collection, const char *id, const char *state, int wait_s)
{
    time_t until = time(NULL) + wait_s;

    for (;;) {
        json_t *x = bed_get(collection, id);
        if (strcmp(tl_str(x, "state"), state) == 0)
            return x;
        ck_assert_msg(time(NULL) < until, "%s %s not %s after %d s: %s", collection, id,
                      state, wait_s, json_dumps(x, 0));
        json_decref(x);
        usleep(100 * 1000);
    }
}

long long
bed_quota_used(const char *what)
{
    char path[128];
    json_t *q;
    long long used;

    snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", acme.id);
    q = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    used = tl_num(json_object_get(json_object_get(q, "quotas"), what), "used");
    json_decref(q);
    return used;
}

void
bed_refused(const char *method, const char *path, const char *token, const char *body,
            long status, const char *type, const char *field, const char *says)
{
    tl_refused(&sovd, method, path, token, body, status, type, field, says);
}

void
bed_two_hosts(const char *region1, const char *region2, char *id1, char *id2)
{
    bed_host_add("h1", region1, "a", uri, true, id1);
    bed_host_add("h2", region2, "b", uri2, true, id2);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op, "{\"name\":\"standard\"}",
                           201));
}

/* The query fmt and ap make (into *q, malloc) and its first value (malloc). */
static char *
query_value(char **q, const char *fmt, va_list ap)
{
    ck_assert(vasprintf(q, fmt, ap) > 0);
    return tl_db_value(db, "%s", *q);
}

char *
bed_value(const char *fmt, ...)
{
    char *q = NULL, *v;
    va_list ap;

    va_start(ap, fmt);
    v = query_value(&q, fmt, ap);
    va_end(ap);
    free(q);
    return v;
}

void
bed_assert_value(const char *want, const char *fmt, ...)
{
    char *q = NULL, *v;
    va_list ap;

    va_start(ap, fmt);
    v = query_value(&q, fmt, ap);
    va_end(ap);
    ck_assert_msg(strcmp(v, want) == 0, "%s: '%s', want '%s'", q, v, want);
    free(v);
    free(q);
}

bool
bed_in_pool(const char *u, const char *file)
{
    char *out = NULL;
    bool yes;

    ck_assert_int_eq(tl_virsh(u, &out, "vol-list '%s'", pool), 0);
    yes = strstr(out, file) != NULL;
    free(out);
    return yes;
}

void
bed_post_202(const char *path, const char *body, const char *key, char *id, char *op_id)
{
    json_t *j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], body, 202);

    if (id)
        snprintf(id, 40, "%s", tl_str(json_object_get(j, key), "id"));
    snprintf(op_id, 40, "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
}
