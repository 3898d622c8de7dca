/* guest_bed.c: the end-to-end guest suites' shared bed (guest_bed.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "guest_bed.h"
#include "hosts.h"

void
tl_bed_names(const char *uri, const char *tmp, const char *net_prefix, char pool[64],
             char net[16], char cidr[32], char subnet[16])
{
    unsigned seed = (unsigned) getpid() ^ (unsigned) time(NULL);
    int rc;
    char *out;

    /* libvirt-qemu reads the disks in tmp/pool (DAC: libvirt chowns the image files to it,
     * never the folders), so every folder above must let others through. */
    ck_assert_int_eq(chmod(tmp, 0755), 0);
    tl_assert_traversable(tmp);
    snprintf(pool, 64, "sovtest-%d-%04x", (int) getpid(), (unsigned) rand_r(&seed) & 0xffff);
    snprintf(net, 16, "%s%d", net_prefix, (int) getpid());
    ck_assert_msg(strlen(net) < 15, "network name '%s' too long for libvirt", net);
    out = tl_sh_out(&rc, "virsh -q -c %s net-info '%s'", uri, net);
    ck_assert_msg(rc != 0, "a network '%s' exists already on %s: %s", net, uri, out);
    free(out);
    tl_free_subnet(uri, cidr, subnet);
}

void
tl_bed_cleanup_at_exit(const char *uri, const char *pool, const char *net, const char *tmp)
{
    char cmd[1024];

    tl_libvirt_pool_cleanup_at_exit(uri, pool);
    snprintf(cmd, sizeof(cmd), "virsh -q -c %s net-destroy '%s';"
             " virsh -q -c %s net-undefine '%s'; rm -rf '%s'", uri, net, uri, net, tmp);
    tl_sh_at_exit("%s", cmd);
}

void
tl_bed_remove_now(const char *uri, const char *pool, const char *net)
{
    tl_sh("virsh -q -c %s net-destroy '%s' >/dev/null 2>&1", uri, net);
    tl_sh("virsh -q -c %s net-undefine '%s' >/dev/null 2>&1", uri, net);
    tl_sh("virsh -q -c %s pool-destroy '%s' >/dev/null 2>&1", uri, pool);
    tl_sh("virsh -q -c %s pool-undefine '%s' >/dev/null 2>&1", uri, pool);
}

void
tl_bed_domain_remove_now(const char *uri, const char *name)
{
    tl_sh("virsh -q -c %s destroy '%s' >/dev/null 2>&1", uri, name);
    tl_sh("virsh -q -c %s undefine --nvram '%s' >/dev/null 2>&1 ||"
          " virsh -q -c %s undefine '%s' >/dev/null 2>&1", uri, name, uri, name);
}

void
tl_bed_sovd_start(tl_sovd *sovd, const char *db, const char *tmp, const char *pool,
                  const char *net, const char *cidr, const char *const extra[])
{
    char pool_flag[128], path_flag[700], net_flag[64], cidr_flag[64], store_flag[700];
    const char *args[16] = { pool_flag, path_flag, net_flag, cidr_flag, store_flag,
                             "--image-allow-file-urls=true" };
    size_t n = 6;

    snprintf(pool_flag, sizeof(pool_flag), "--storage-pool=%s", pool);
    snprintf(path_flag, sizeof(path_flag), "--storage-pool-path=%s/pool", tmp);
    snprintf(net_flag, sizeof(net_flag), "--nat-network=%s", net);
    snprintf(cidr_flag, sizeof(cidr_flag), "--nat-cidr=%s", cidr);
    snprintf(store_flag, sizeof(store_flag), "--image-store=%s/store", tmp);
    for (size_t i = 0; extra && extra[i]; i++) {
        ck_assert_msg(n + 1 < sizeof(args) / sizeof(args[0]), "too many sovd flags");
        args[n++] = extra[i];
    }
    args[n] = NULL;
    tl_sovd_start(sovd, db, args);
}

void
tl_bed_region(const tl_sovd *sovd, const char *op, const char *code)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"code\":\"%s\",\"name\":\"E2E\",\"country\":\"FR\","
             "\"datacenter\":\"dc-e2e\",\"zones\":[\"a\"]}", code);
    json_decref(tl_call_ok(sovd, "POST", "/v1/regions", op, body, 201));
}

char *
tl_bed_image(void)
{
    char *image = tl_guest_image();
    char cmd[1024];

    snprintf(cmd, sizeof(cmd), "rm -rf \"$(dirname '%s')\"", image);
    tl_sh_at_exit("%s", cmd);
    return image;
}

char *
tl_bed_guest_image(const tl_sovd *sovd, const tl_tenant *t, const char *region,
                   const char *name, int wait_s)
{
    char *image = tl_bed_image();
    char body[1024];
    json_t *j;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"%s\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", name, region, image);
    j = tl_call_ok(sovd, "POST", "/v1/images", t->token[TL_MEMBER], body, 202);
    tl_op_wait_ok(sovd, t->token[TL_READER], tl_str(json_object_get(j, "operation"), "id"),
                  wait_s);
    json_decref(j);
    return image;
}

void
tl_bed_image_import(tl_bed *b, const char *region, const char *name, int wait_s)
{
    b->image = tl_bed_guest_image(&b->sovd, &b->tenant, region, name, wait_s);
}

void
tl_bed_init(tl_bed *b, const char *uri, const char *net_prefix)
{
    memset(b, 0, sizeof(*b));
    b->uri = uri;
    b->db = tl_db_create();
    b->tmp = tl_tmpdir();
    tl_bed_names(uri, b->tmp, net_prefix, b->pool, b->net, b->cidr, b->subnet);
    /* Registered before anything exists, so a failure at any point leaves nothing. */
    tl_bed_cleanup_at_exit(uri, b->pool, b->net, b->tmp);
}

void
tl_bed_start(tl_bed *b, const char *region, const char *const extra[])
{
    tl_bed_sovd_start(&b->sovd, b->db, b->tmp, b->pool, b->net, b->cidr, extra);
    b->op = tl_operator_token(&b->sovd);
    tl_tenant_make(&b->sovd, b->op, "acme", &b->tenant);
    tl_bed_region(&b->sovd, b->op, region);
}

void
tl_bed_start_world(tl_bed *b, const char *region, int stop_timeout)
{
    char stop_flag[64];
    const char *extra[] = { "--host-check-interval=2", stop_flag, NULL };

    snprintf(stop_flag, sizeof(stop_flag), "--stop-timeout=%d", stop_timeout);
    tl_bed_start(b, region, extra);
}

void
tl_bed_created(tl_bed *b, const json_t *j, char id[40])
{
    char cmd[512];

    snprintf(id, 40, "%s", tl_str(json_object_get(j, "instance"), "id"));
    snprintf(b->domain, sizeof(b->domain), "sov-%s", id);
    snprintf(cmd, sizeof(cmd), "virsh -q -c %s destroy '%s';"
             " virsh -q -c %s undefine --nvram '%s' || virsh -q -c %s"
             " undefine '%s'", b->uri, b->domain, b->uri, b->domain, b->uri, b->domain);
    tl_sh_at_exit("%s", cmd);
}

void
tl_bed_release(tl_bed *b)
{
    int rc = tl_sovd_stop_clean(&b->sovd, 30);

    if (b->domain[0])
        tl_bed_domain_remove_now(b->uri, b->domain);
    tl_bed_remove_now(b->uri, b->pool, b->net);
    tl_sovd_discard(&b->sovd);
    tl_guest_image_remove(b->image);
    free(b->image);
    tl_teardown_end(rc, b->db, b->op, b->tmp);
}
