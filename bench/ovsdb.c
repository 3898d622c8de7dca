/* ovsdb.c: network/'s OVSDB client writing OVN's Northbound database, next to ovn-nbctl
 * doing the same in the same run, against one ovsdb-server this program starts in a
 * temporary folder (and stops, by its own pid, at the end).
 *
 * N logical switches (1,000; 100 with --quick) are added four ways, each into an empty
 * database (the switches of the way before are checked and deleted): through the client in one transaction, through the client in N transactions (one
 * connection), by N `ovn-nbctl ls-add` processes (what a control plane that forks per change
 * pays), and by one `ovn-nbctl` process with N commands joined by `--`. Prints a table and a
 * last line of JSON (scripts/bench reads it). Exits 1 when something could not be measured. */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ovsdb.h"

extern char **environ;

static char dir[] = "/tmp/sovbench-ovsdb.XXXXXX";
static char remote[160];
static pid_t server_pid;

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Run argv (a PATH lookup), wait, quiet; its exit status or -1. */
static int
run(char *const argv[], bool quiet)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status;

    posix_spawn_file_actions_init(&fa);
    if (quiet)
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
cleanup(void)
{
    char cmd[256];

    if (server_pid > 0)
        kill(server_pid, SIGTERM);
    usleep(200000);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench/ovsdb: could not remove %s\n", dir);
}

static bool
start_server(void)
{
    char db[128], sock[128], pidfile[128], log[128], ctl[128], rem[160], pf[160], lf[160],
        cf[160];
    char *create[] = { "ovsdb-tool", "create", db, "/usr/share/ovn/ovn-nb.ovsschema", NULL };
    char *serve[] = { "ovsdb-server", "-vconsole:off", db, rem, pf, lf, cf, "--detach",
                      "--no-chdir", NULL };
    FILE *f;

    if (!mkdtemp(dir))
        return false;
    snprintf(db, sizeof(db), "%s/nb.db", dir);
    snprintf(sock, sizeof(sock), "%s/nb.sock", dir);
    snprintf(pidfile, sizeof(pidfile), "%s/nb.pid", dir);
    snprintf(log, sizeof(log), "%s/nb.log", dir);
    snprintf(ctl, sizeof(ctl), "%s/nb.ctl", dir);
    snprintf(rem, sizeof(rem), "--remote=punix:%s", sock);
    snprintf(pf, sizeof(pf), "--pidfile=%s", pidfile);
    snprintf(lf, sizeof(lf), "--log-file=%s", log);
    snprintf(cf, sizeof(cf), "--unixctl=%s", ctl);
    snprintf(remote, sizeof(remote), "unix:%s", sock);
    if (run(create, true) != 0 || run(serve, true) != 0)
        return false;
    f = fopen(pidfile, "r");
    if (!f)
        return false;
    if (fscanf(f, "%d", &server_pid) != 1)
        server_pid = 0;
    fclose(f);
    return server_pid > 0;
}

static json_t *
insert_switch(const char *prefix, unsigned i)
{
    char name[64];

    snprintf(name, sizeof(name), "%s-%u", prefix, i);
    return sov_ovsdb_op_insert("Logical_Switch", json_pack("{s:s}", "name", name), NULL);
}

static double
client_one_transaction(sov_ovsdb *c, unsigned n)
{
    sov_error err = SOV_ERROR_INIT;
    json_t *ops = json_array();
    double t0;

    for (unsigned i = 0; i < n; i++)
        json_array_append_new(ops, insert_switch("one-txn", i));
    t0 = now_s();
    if (sov_ovsdb_transact(c, "OVN_Northbound", ops, NULL, &err) < 0) {
        fprintf(stderr, "bench/ovsdb: %s (%s)\n", err.msg, err.detail);
        return -1;
    }
    return now_s() - t0;
}

static double
client_n_transactions(sov_ovsdb *c, unsigned n)
{
    double t0 = now_s();

    for (unsigned i = 0; i < n; i++) {
        sov_error err = SOV_ERROR_INIT;
        if (sov_ovsdb_transact(c, "OVN_Northbound", json_pack("[o]", insert_switch("txn", i)),
                               NULL, &err) < 0) {
            fprintf(stderr, "bench/ovsdb: %s (%s)\n", err.msg, err.detail);
            return -1;
        }
    }
    return now_s() - t0;
}

static double
nbctl_per_call(unsigned n)
{
    char db[192], name[64];
    char *argv[] = { "ovn-nbctl", db, "ls-add", name, NULL };
    double t0 = now_s();

    snprintf(db, sizeof(db), "--db=%s", remote);
    for (unsigned i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "nbctl-%u", i);
        if (run(argv, true) != 0)
            return -1;
    }
    return now_s() - t0;
}

static double
nbctl_batch(unsigned n)
{
    char **argv = calloc(2 + 3 * (size_t) n + 1, sizeof(*argv));
    char db[192];
    size_t k = 0;
    double t0, took;

    if (!argv)
        return -1;
    snprintf(db, sizeof(db), "--db=%s", remote);
    argv[k++] = "ovn-nbctl";
    argv[k++] = db;
    for (unsigned i = 0; i < n; i++) {
        if (i > 0)
            argv[k++] = "--";
        argv[k++] = "ls-add";
        if (asprintf(&argv[k++], "batch-%u", i) < 0)
            return -1;
    }
    t0 = now_s();
    took = run(argv, true) == 0 ? now_s() - t0 : -1;
    for (size_t i = 0; i < k; i++)
        if (strncmp(argv[i] ? argv[i] : "", "batch-", 6) == 0)
            free(argv[i]);
    free(argv);
    return took;
}

/* Every way must have added every switch: count them through a select, then delete them
 * all, so that each way starts from an empty database (ovn-nbctl reads the tables it needs
 * at each start, so its cost grows with what is there). Returns the count, or 0. */
static size_t
count_and_clear(void)
{
    sov_error err = SOV_ERROR_INIT;
    sov_ovsdb *c = NULL;
    json_t *results = NULL;
    size_t n = 0;

    if (sov_ovsdb_connect(remote, 60000, &c, &err) == 0 &&
        sov_ovsdb_transact(c, "OVN_Northbound",
                           json_pack("[o, o]",
                                     sov_ovsdb_op_select("Logical_Switch", NULL,
                                                         json_pack("[s]", "name")),
                                     sov_ovsdb_op_delete("Logical_Switch", NULL)),
                           &results, &err) == 0)
        n = json_array_size(sov_ovsdb_result_rows(results, 0));
    else
        fprintf(stderr, "bench/ovsdb: %s (%s)\n", err.msg, err.detail);
    json_decref(results);
    sov_ovsdb_close(c);
    return n;
}

int
main(int argc, char **argv)
{
    unsigned n = 1000;
    sov_error err = SOV_ERROR_INIT;
    sov_ovsdb *c = NULL;
    double one, many, fork_each, batch;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            n = 100;
        } else {
            fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
            return 2;
        }
    }
    if (!start_server()) {
        fprintf(stderr, "bench/ovsdb: could not start ovsdb-server in %s\n", dir);
        cleanup();
        return 1;
    }
    if (sov_ovsdb_connect(remote, 60000, &c, &err) < 0) {
        fprintf(stderr, "bench/ovsdb: %s (%s)\n", err.msg, err.detail);
        cleanup();
        return 1;
    }
    size_t have[4];
    one = client_one_transaction(c, n);
    have[0] = count_and_clear();
    many = client_n_transactions(c, n);
    sov_ovsdb_close(c);
    have[1] = count_and_clear();
    fork_each = nbctl_per_call(n);
    have[2] = count_and_clear();
    batch = nbctl_batch(n);
    have[3] = count_and_clear();
    cleanup();
    bool all = true;
    for (int i = 0; i < 4; i++)
        if (have[i] != n) {
            fprintf(stderr, "bench/ovsdb: way %d left %zu switches, not %u\n", i + 1, have[i],
                    n);
            all = false;
        }
    if (one < 0 || many < 0 || fork_each < 0 || batch < 0 || !all) {
        fprintf(stderr, "bench/ovsdb: could not measure\n");
        return 1;
    }
    printf("%u logical switches added to OVN_Northbound (ovsdb-server on a unix socket)\n", n);
    printf("%-44s %10.1f ms %10.0f switches/s\n", "client, one transaction", one * 1e3,
           n / one);
    printf("%-44s %10.1f ms %10.0f switches/s\n", "client, one transaction each", many * 1e3,
           n / many);
    printf("%-44s %10.1f ms %10.0f switches/s\n", "ovn-nbctl, one process each", fork_each * 1e3,
           n / fork_each);
    printf("%-44s %10.1f ms %10.0f switches/s\n", "ovn-nbctl, one process, '--' batch",
           batch * 1e3, n / batch);
    printf("client one transaction vs ovn-nbctl batch: %.1fx; client per change vs ovn-nbctl "
           "per change: %.1fx\n", batch / one, fork_each / many);
    printf("{\"n\":%u,\"client_one_txn_ms\":%.1f,\"client_txn_each_ms\":%.1f,"
           "\"nbctl_each_ms\":%.1f,\"nbctl_batch_ms\":%.1f}\n",
           n, one * 1e3, many * 1e3, fork_each * 1e3, batch * 1e3);
    return 0;
}
