/* hosts.c: local hypervisor set-up for the compute suites (hosts.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hosts.h"

void
tl_local_flags_init(tl_local_flags *f, const char *dir, const char *pool, const char *net)
{
    snprintf(f->store, sizeof(f->store), "--image-store=%s/store", dir);
    snprintf(f->pool, sizeof(f->pool), "--storage-pool=%s", pool);
    snprintf(f->path, sizeof(f->path), "--storage-pool-path=%s/pool", dir);
    snprintf(f->net, sizeof(f->net), "--nat-network=%s", net);
    srand((unsigned) getpid() ^ (unsigned) time(NULL));
    snprintf(f->cidr, sizeof(f->cidr), "--nat-cidr=10.%d.%d.0/24", 100 + rand() % 150,
             rand() % 256);
}

void
tl_image_from_qcow2(const tl_sovd *s, const char *token, const char *dir, const char *name,
                    const char *region, int wait_s)
{
    char body[1024], qcow2[600];
    json_t *j;

    snprintf(qcow2, sizeof(qcow2), "%s/base.qcow2", dir);
    if (access(qcow2, R_OK) != 0)
        ck_assert_int_eq(tl_sh("qemu-img create -q -f qcow2 '%s' 64M", qcow2), 0);
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"%s\",\"format\":\"qcow2\","
             "\"source_url\":\"file://%s\"}", name, region, qcow2);
    j = tl_call_ok(s, "POST", "/v1/images", token, body, 202);
    tl_op_wait_ok(s, token, tl_str(json_object_get(j, "operation"), "id"), wait_s);
    json_decref(j);
}

json_t *
tl_wait_state(const tl_sovd *s, const char *token, const char *prefix, const char *id,
              const char *want, int seconds)
{
    char path[256];
    time_t until = time(NULL) + seconds;

    snprintf(path, sizeof(path), "%s%s", prefix, id);
    for (;;) {
        json_t *x = tl_call_ok(s, "GET", path, token, NULL, 200);
        if (strcmp(tl_str(x, "state"), want) == 0)
            return x;
        ck_assert_msg(time(NULL) < until, "%s not %s after %d s: %s", path, want, seconds,
                      json_dumps(x, 0));
        json_decref(x);
        usleep(100 * 1000);
    }
}

void
tl_local_teardown(tl_sovd *s, tl_libvirtd *lvd, char *db, char *op, char *tmp)
{
    int rc = tl_sovd_stop_clean(s, 30);

    tl_sovd_discard(s);
    tl_libvirtd_discard(lvd);
    tl_teardown_end(rc, db, op, tmp);
}

void
tl_teardown_end(int rc, char *db, char *op, char *tmp)
{
    tl_db_drop(db);
    free(db);
    free(op);
    tl_tmpdir_remove(tmp);
    free(tmp);
    ck_assert_msg(rc == 0, "sovd exited with %d on SIGTERM (its log's tail is above)", rc);
}
