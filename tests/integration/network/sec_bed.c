/* sec_bed.c: the test bed of part "sec"'s suites (sec_bed.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosts.h"
#include "sec_bed.h"

char *db;
tl_sovd sovd;
tl_ovn ovn;
char *op;
tl_tenant acme, globex;
static char *tmp;               /* the hosts' folder, once bed_host made one */

void
bed_setup(void)
{
    char nb[700];
    /* With a worker: the tests wait for the operations, which part "ovn"'s syncs carry out
     * against this bed's Northbound. */
    const char *args[] = { "--role=api,worker", "--worker-threads=1",
                           "--host-check-interval=1", nb, NULL };

    db = tl_db_create();
    memset(&sovd, 0, sizeof(sovd));
    memset(&ovn, 0, sizeof(ovn));
    tl_ovn_start(&ovn, NULL, false);
    snprintf(nb, sizeof(nb), "--ovn-nb=%s", ovn.nb);
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
    tl_tenant_make(&sovd, op, "globex", &globex);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Sec FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-sec\",\"zones\":[\"a\"]}", 201));
}

void
bed_teardown(void)
{
    int rc = tl_sovd_stop_clean(&sovd, 30);

    tl_sovd_discard(&sovd);
    tl_ovn_discard(&ovn);
    if (tmp) {
        tl_tmpdir_remove(tmp);
        free(tmp);
        tmp = NULL;
    }
    tl_db_drop(db);
    free(db);
    free(op);
    ck_assert_msg(rc == 0, "sovd exited with %d on SIGTERM (its log's tail is above)", rc);
}

void
bed_host(const char *name)
{
    char body[2048], *u;

    if (!tmp)
        tmp = tl_tmpdir();
    u = tl_test_host_uri(tmp, name, 4, 8);
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"" REGION "\",\"zone\":\"a\","
             "\"libvirt_uri\":\"%s\"}", name, u);
    free(u);
    json_decref(tl_host_add(&sovd, op, body));
}

void
bed_refused(const char *method, const char *path, const char *token, const char *body,
            long status, const char *type, const char *field, const char *says)
{
    tl_refused(&sovd, method, path, token, body, status, type, field, says);
}

long long
bed_quota_used(const tl_tenant *t, const char *what)
{
    char path[128];
    json_t *q;
    long long used;

    snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", t->id);
    q = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    used = tl_num(json_object_get(json_object_get(q, "quotas"), what), "used");
    json_decref(q);
    return used;
}

void
bed_quota_set(const tl_tenant *t, const char *what, long long max)
{
    char path[128], body[128];

    snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", t->id);
    snprintf(body, sizeof(body), "{\"%s\":%lld}", what, max);
    json_decref(tl_call_ok(&sovd, "PUT", path, op, body, 200));
}

json_t *
bed_accepted(const char *path, const char *token, const char *body, const char *member,
             char *op_id)
{
    json_t *j = tl_call_ok(&sovd, "POST", path, token, body, 202), *m;

    if (op_id)
        snprintf(op_id, 40, "%s", tl_str(json_object_get(j, "operation"), "id"));
    m = json_incref(json_object_get(j, member));
    ck_assert_msg(m, "no %s in %s", member, json_dumps(j, 0));
    json_decref(j);
    return m;
}

void
bed_op_ok(const char *op_id)
{
    tl_op_wait_ok(&sovd, op, op_id, 30);
}

char *
bed_state(const char *table, const char *id)
{
    return tl_db_value(db, "SELECT state FROM %s WHERE id = '%s'", table, id);
}

char *
bed_nb(const char *args)
{
    int rc;
    char *out = tl_ovn_nbctl(&ovn, &rc, "%s", args);

    ck_assert_msg(rc == 0, "ovn-nbctl %s: %s", args, out);
    return out;
}

void
bed_network(const tl_tenant *t, const char *name, const char *region, char *id)
{
    char *v = tl_db_value(db, "INSERT INTO networks (id, tenant_id, workspace, name, cidr,"
                          " region, state) VALUES (gen_random_uuid(), '%s', 'default', '%s',"
                          " '10.0.0.0/16', '%s', 'available') RETURNING id", t->id, name,
                          region);
    snprintf(id, 40, "%s", v);
    free(v);
    free(tl_db_value(db, "INSERT INTO subnets (id, tenant_id, workspace, name, network_id,"
                     " cidr, gateway, state) VALUES (gen_random_uuid(), '%s', 'default',"
                     " '%s-sub', '%s', '10.0.0.0/24', '10.0.0.1', 'available') RETURNING id",
                     t->id, name, id));
}

void
bed_port(const tl_tenant *t, const char *network_id, const char *name, const char *ip,
         char *port_id)
{
    char *v = tl_db_value(db, "INSERT INTO ports (id, tenant_id, workspace, name, network_id,"
                          " subnet_id, ip, mac, state) SELECT gen_random_uuid(), '%s',"
                          " 'default', '%s', '%s', s.id, '%s', ('fa:16:3e:00:00:'"
                          " || lpad(to_hex(split_part('%s', '.', 4)::int), 2, '0'))::macaddr,"
                          " 'available' FROM subnets s WHERE s.network_id = '%s' RETURNING id",
                          t->id, name, network_id, ip, ip, network_id);
    snprintf(port_id, 40, "%s", v);
    free(v);
}
