/* ovsdb_server.c: a test's own ovsdb-server (see ovsdb_server.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ovsdb_server.h"
#include "testlib.h"

#define NB_SCHEMA "/usr/share/ovn/ovn-nb.ovsschema"

static bool
socket_answers(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    ok = fd >= 0 && connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

void
tl_ovsdb_start(tl_ovsdb *s, bool tcp)
{
    tl_ovsdb_start_schema(s, NB_SCHEMA, tcp);
}

void
tl_ovsdb_start_schema(tl_ovsdb *s, const char *schema, bool tcp)
{
    bool nb = strcmp(schema, NB_SCHEMA) == 0;
    char *dir = tl_tmpdir(), *out, *pid_text, sock[560], tcp_opt[64] = "";
    int rc;

    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    free(dir);
    snprintf(sock, sizeof(sock), "%s/nb.sock", s->dir);
    ck_assert_msg(strlen(sock) < sizeof(((struct sockaddr_un *) 0)->sun_path),
                  "socket path too long: %s", sock);
    snprintf(s->remote, sizeof(s->remote), "unix:%s", sock);
    if (tcp) {
        s->tcp_port = tl_free_port();
        snprintf(s->tcp_remote, sizeof(s->tcp_remote), "tcp:127.0.0.1:%u", s->tcp_port);
        snprintf(tcp_opt, sizeof(tcp_opt), "--remote=ptcp:%u:127.0.0.1", s->tcp_port);
    }
    out = tl_sh_out(&rc, "ovsdb-tool create '%s/nb.db' '%s'", s->dir, schema);
    ck_assert_msg(rc == 0, "ovsdb-tool create failed (%d): %s", rc, out);
    free(out);
    /* --detach returns once the server listens; the at-exit watcher kills it by its
     * pidfile should the test die first (only this server: it is this folder's pidfile). */
    out = tl_sh_out(&rc,
                    "ovsdb-server '%s/nb.db' --remote=punix:'%s' %s %s "
                    "--pidfile='%s/nb.pid' --unixctl='%s/nb.ctl' --log-file='%s/nb.log' "
                    "--detach --no-chdir",
                    s->dir, sock, tcp_opt,
                    nb ? "--remote=db:OVN_Northbound,NB_Global,connections" : "", s->dir,
                    s->dir, s->dir);
    ck_assert_msg(rc == 0, "ovsdb-server did not start (%d): %s", rc, out);
    free(out);
    char pidfile[600];
    snprintf(pidfile, sizeof(pidfile), "%s/nb.pid", s->dir);
    pid_text = tl_read_file(pidfile);
    ck_assert_msg(pid_text, "ovsdb-server wrote no pidfile in %s", s->dir);
    s->pid = (pid_t) strtol(pid_text, NULL, 10);
    free(pid_text);
    ck_assert_int_gt(s->pid, 1);
    tl_sh_at_exit("p=$(cat '%s/nb.pid' 2>/dev/null) && [ \"$p\" = %d ] && "
                  "kill -CONT $p; kill $p 2>/dev/null", s->dir, (int) s->pid);
    for (int i = 0; i < 100 && !socket_answers(sock); i++)
        usleep(50000);
    ck_assert_msg(socket_answers(sock), "ovsdb-server does not answer on %s", sock);
}

/* Whether pid still runs: a detached server is not our child, and where nothing reaps
 * orphans its zombie would still answer kill(pid, 0). */
static bool
running(pid_t pid)
{
    char path[64], *stat, *paren;
    bool alive;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    stat = tl_read_file(path);
    if (!stat)
        return false;
    paren = strrchr(stat, ')');
    alive = paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
    free(stat);
    return alive;
}

void
tl_ovsdb_stop(tl_ovsdb *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGCONT);
    kill(s->pid, SIGTERM);
    for (int i = 0; i < 500 && running(s->pid); i++) {
        if (i == 100)
            kill(s->pid, SIGKILL);
        usleep(10000);
    }
    ck_assert_msg(!running(s->pid), "ovsdb-server %d did not stop", (int) s->pid);
    s->pid = 0;
}

void
tl_ovsdb_discard(tl_ovsdb *s)
{
    if (!s->dir[0])
        return;
    tl_ovsdb_stop(s);
    tl_tmpdir_remove(s->dir);
    s->dir[0] = '\0';
}
