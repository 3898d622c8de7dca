/* ovsdb_server.h: a real ovsdb-server with OVN's Northbound schema, of one test's own: its
 * database, sockets, pidfile and log in a temporary folder, so two runs never collide. */
#ifndef SOV_TL_OVSDB_SERVER_H
#define SOV_TL_OVSDB_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct tl_ovsdb {
    char dir[512];          /* its folder: nb.db, nb.sock, nb.pid, nb.log, nb.ctl */
    char remote[600];       /* unix:DIR/nb.sock */
    char tcp_remote[64];    /* tcp:127.0.0.1:PORT when started with a TCP port, else "" */
    unsigned tcp_port;
    pid_t pid;              /* 0 once stopped */
} tl_ovsdb;

/* Create the database (ovsdb-tool create with /usr/share/ovn/ovn-nb.ovsschema) and start
 * ovsdb-server on a unix socket, plus a free TCP port on 127.0.0.1 when tcp, plus the
 * remotes named in NB_Global's connections (a test may add one with its own inactivity
 * probe). Returns once the socket answers; fails the test otherwise. The server is killed
 * by its pidfile when the test process ends, however it ends. */
void tl_ovsdb_start(tl_ovsdb *s, bool tcp);
/* The same with another schema file (its database instead of OVN_Northbound; no db:
 * remotes). */
void tl_ovsdb_start_schema(tl_ovsdb *s, const char *schema, bool tcp);
/* SIGTERM (SIGKILL after 5 s) by pid, and wait until it is gone; the folder stays. */
void tl_ovsdb_stop(tl_ovsdb *s);
/* Stop it if running and remove its folder. */
void tl_ovsdb_discard(tl_ovsdb *s);

#endif
