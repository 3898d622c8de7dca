/* Crash safety of the OVN syncs: sovd killed (SIGKILL, SOV_FAULT_POINT=network.sync-before-ovn
 * in its environment only) between the database's commit of a network, its subnet and two
 * ports and the OVSDB transaction that would write them into OVN's Northbound database.
 * After the kill OVN holds nothing of them and the rows are still creating. A sovd started
 * again (no fault) brings OVN to the database: one network's operation is left to be taken
 * over when its lease runs out; the other's is ended by hand as if it had given up, so only
 * the reconciler's pass can repair it. In the end both switches hold their ports with the
 * right addresses and every row is available. The rows are written with SQL, as the
 * services write them, and their operations queued the same way. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define sql_num(...) tl_db_num(db, __VA_ARGS__)
#define WAIT_S 90

static char *db;
static tl_sovd sovd;
static tl_ovn ovn;
static char tenant[40];

static void
setup(void)
{
    char *t;

    db = tl_db_create();
    memset(&sovd, 0, sizeof(sovd));
    memset(&ovn, 0, sizeof(ovn));
    tl_ovn_start(&ovn, NULL, false);
    /* sovd migrates the database on its first start. */
    tl_sovd_start(&sovd, db, NULL);
    tl_sovd_stop(&sovd, SIGTERM, 20);
    tl_sovd_discard(&sovd);
    memset(&sovd, 0, sizeof(sovd));
    t = tl_db_value(db, "INSERT INTO tenants (name) VALUES ('acme') RETURNING id");
    snprintf(tenant, sizeof(tenant), "%s", t);
    free(t);
    free(tl_db_exec(db, "INSERT INTO regions (code, name, country, jurisdiction, datacenter)"
                        " VALUES ('fr-nc-1', 'Crash', 'FR', 'EU', 'dc-1')"));
    free(tl_db_value(db, "INSERT INTO workspaces (tenant_id, name) VALUES ('%s', 'default')"
                         " RETURNING name", tenant));
}

static void
teardown(void)
{
    tl_sovd_discard(&sovd);
    tl_ovn_discard(&ovn);
    tl_db_drop(db);
    free(db);
}

static void
start_sovd(const char *fault)
{
    char nb[700];
    const char *args[] = { "--role=api,worker,reconciler", "--host-check-interval=1",
                           "--worker-threads=2", "--operation-step-timeout=5", nb, NULL };

    snprintf(nb, sizeof(nb), "--ovn-nb=%s", ovn.nb);
    if (fault)
        setenv("SOV_FAULT_POINT", fault, 1);
    tl_sovd_start(&sovd, db, args);
    unsetenv("SOV_FAULT_POINT");
}

/* A network with a subnet and two ports (creating), and its network.create queued: the
 * network's id into id. */
static void
make_network(const char *name, const char *third, char id[40])
{
    char *v;

    v = tl_db_value(db, "INSERT INTO networks (id, tenant_id, workspace, name, cidr, region,"
                        " state) VALUES (gen_random_uuid(), '%s', 'default', '%s',"
                        " '10.%s.0.0/16', 'fr-nc-1', 'creating') RETURNING id", tenant, name,
                    third);
    snprintf(id, 40, "%s", v);
    free(v);
    free(tl_db_value(db, "WITH s AS (INSERT INTO subnets (id, tenant_id, workspace, name,"
                         " network_id, cidr, gateway, state) VALUES (gen_random_uuid(), '%s',"
                         " 'default', '%s-sub', '%s', '10.%s.1.0/24', '10.%s.1.1', 'creating')"
                         " RETURNING id, network_id)"
                         " INSERT INTO ports (id, tenant_id, workspace, name, network_id,"
                         " subnet_id, ip, mac, state) SELECT gen_random_uuid(), '%s',"
                         " 'default', '%s-p' || i, s.network_id, s.id, ('10.%s.1.' || (i + 1))"
                         "::inet, ('02:00:00:%02x:00:0' || i)::macaddr, 'creating'"
                         " FROM s, generate_series(1, 2) i RETURNING 'ok'",
                     tenant, name, id, third, third, tenant, name, third, atoi(third)));
    free(tl_db_value(db, "INSERT INTO operations (tenant_id, kind, resource_type,"
                         " resource_id) VALUES ('%s', 'network.create', 'network', '%s')"
                         " RETURNING id", tenant, id));
}

/* sovd dies by itself (the fault point): its exit status. */
static int
wait_death(void)
{
    time_t until = time(NULL) + WAIT_S;
    int status;

    for (;;) {
        if (waitpid(sovd.pid, &status, WNOHANG) == sovd.pid) {
            sovd.pid = 0;
            return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        }
        ck_assert_msg(time(NULL) < until, "sovd did not reach the fault point in %d s",
                      WAIT_S);
        usleep(100 * 1000);
    }
}

static void
wait_available(const char *id)
{
    time_t until = time(NULL) + WAIT_S;

    while (sql_num("SELECT count(*) FROM ports WHERE network_id = '%s' AND state ="
                   " 'available'", id) < 2 ||
           sql_num("SELECT count(*) FROM networks WHERE id = '%s' AND state = 'available'",
                   id) == 0) {
        ck_assert_msg(time(NULL) < until, "network %s not available after %d s", id, WAIT_S);
        usleep(200 * 1000);
    }
}

static void
assert_in_ovn(const char *id, const char *third)
{
    char *ports = tl_ovn_nbctl(&ovn, NULL, "--bare --columns=addresses find"
                               " logical_switch_port 'external_ids:\"sov:kind\"=port'"
                               " 'external_ids:\"sov:scope\"=\"network:%s\"'", id);
    char want[64];

    snprintf(want, sizeof(want), "10.%s.1.2", third);
    tl_assert_contains(ports, want);
    snprintf(want, sizeof(want), "10.%s.1.3", third);
    tl_assert_contains(ports, want);
    free(ports);
    free(tl_ovn_nbctl(&ovn, NULL, "ls-list"));
}

START_TEST(killed_before_the_ovn_transaction_ovn_catches_up_after_restart)
{
    char taken[40], given_up[40], *ls;

    start_sovd("network.sync-before-ovn");
    make_network("taken", "1", taken);
    ck_assert_int_eq(wait_death(), 128 + SIGKILL);
    tl_sovd_discard(&sovd);
    memset(&sovd, 0, sizeof(sovd));
    /* The intent is committed, OVN has nothing of it. */
    ls = tl_ovn_nbctl(&ovn, NULL, "ls-list");
    ck_assert_msg(strstr(ls, taken) == NULL, "OVN has the network already: %s", ls);
    free(ls);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM ports WHERE network_id = '%s' AND state"
                             " = 'creating'", taken), 2);

    /* A second network whose operation gave up while sovd was down: only the reconciler
     * can bring it into OVN. */
    make_network("given-up", "2", given_up);
    free(tl_db_value(db, "UPDATE operations SET state = 'failed', finished_at = now()"
                         " WHERE resource_id = '%s' RETURNING id", given_up));
    start_sovd(NULL);
    wait_available(taken);
    wait_available(given_up);
    assert_in_ovn(taken, "1");
    assert_in_ovn(given_up, "2");
    ck_assert_int_ge(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'network.reconcile' AND resource_id = '%s'", given_up), 1);
    ck_assert_int_eq(tl_sovd_stop(&sovd, SIGTERM, 20), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("reliability/network-crash");
    TCase *tc = tcase_create("crash");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, killed_before_the_ovn_transaction_ovn_catches_up_after_restart);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
