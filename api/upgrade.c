/* upgrade.c: connections that leave HTTP (101 Switching Protocols: WebSocket), with
 * libmicrohttpd 0.9.75's upgrade support.
 *
 * A handler of a SOV_ROUTE_UPGRADE route checks the handshake and answers with
 * sov_api_reply_upgrade(). Once the 101 is out, libmicrohttpd hands over the socket; the
 * session then runs on a thread of its own (libmicrohttpd's threads must not block), and
 * ends with MHD_UPGRADE_ACTION_CLOSE. The server keeps its sessions here: shutdown tells each
 * one through its wake pipe (a WebSocket closes with 1001) and waits for all of them, since
 * libmicrohttpd must not stop while an upgraded connection is open. A session still opening
 * its console on a host that does not answer is left behind after SHUTDOWN_WAIT_S. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "sov/log.h"

struct sov_upgrades {
    pthread_mutex_t lock;
    pthread_cond_t done;        /* CLOCK_MONOTONIC */
    sov_upgraded *list;
    unsigned count;
    bool stopping;
    bool abandoned;             /* shutdown gave up on the sessions left: libmicrohttpd is gone */
    bool orphan;                /* the server freed it with sessions left: the last frees it */
};

/* How long shutdown waits for its sessions once told: a told session closes within a second;
 * one still opening its console on a hung host cannot be interrupted (libvirt), and is left
 * behind rather than hold sovd's exit. */
#define SHUTDOWN_WAIT_S 10

/* What the handler gave, waiting for the 101 to go out; the request and the session thread
 * each hold a reference. */
typedef struct pending {
    atomic_uint refs;
    bool started;               /* the upgrade came: the session owns state */
    sov_upgrades *ups;
    sov_upgrade_run run;
    void *state;
    void (*state_free)(void *);
    char request_id[SOV_REQUEST_ID_MAX + 1];
} pending;

struct sov_upgraded {
    pending *p;
    MHD_socket fd;
    struct MHD_UpgradeResponseHandle *urh;
    char *extra;
    size_t extra_len;
    int wake[2];                /* readable once the server stops */
    sov_upgraded *next;
};

int
sov_upgrades_new(sov_upgrades **ret)
{
    sov_upgrades *u = calloc(1, sizeof(*u));
    pthread_condattr_t ca;

    if (!u)
        return -1;
    pthread_mutex_init(&u->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&u->done, &ca);
    pthread_condattr_destroy(&ca);
    *ret = u;
    return 0;
}

void
sov_upgrades_free(sov_upgrades *u)
{
    if (!u)
        return;
    pthread_mutex_lock(&u->lock);
    if (u->count > 0) {
        u->orphan = true;       /* abandoned sessions still hold it */
        pthread_mutex_unlock(&u->lock);
        return;
    }
    pthread_mutex_unlock(&u->lock);
    pthread_cond_destroy(&u->done);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

unsigned
sov_upgrades_count(sov_upgrades *u)
{
    unsigned n;

    pthread_mutex_lock(&u->lock);
    n = u->count;
    pthread_mutex_unlock(&u->lock);
    return n;
}

unsigned
sov_upgrades_shutdown(sov_upgrades *u)
{
    struct timespec until;
    unsigned left;

    if (!u)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += SHUTDOWN_WAIT_S;
    pthread_mutex_lock(&u->lock);
    u->stopping = true;
    for (sov_upgraded *s = u->list; s; s = s->next)
        if (write(s->wake[1], "x", 1) < 0 && errno != EAGAIN)
            sov_log_debug("could not wake an upgraded connection: %s", strerror(errno));
    while (u->count > 0)
        if (pthread_cond_timedwait(&u->done, &u->lock, &until) == ETIMEDOUT)
            break;
    left = u->count;
    if (left > 0)
        u->abandoned = true;
    pthread_mutex_unlock(&u->lock);
    if (left > 0)
        sov_log_warn("%u console session(s) still opening on a host that does not answer; "
                     "stopping without them", left);
    return left;
}

static void
pending_unref(pending *p)
{
    if (atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    free(p);
}

/* The request ended (on_completed): before the upgrade, the state is still the handler's. */
static void
pending_request_done(void *arg)
{
    pending *p = arg;

    if (!p->started && p->state_free)
        p->state_free(p->state);
    pending_unref(p);
}

static void
session_end(sov_upgraded *s)
{
    sov_upgrades *u = s->p->ups;
    bool last_of_orphan;

    if (s->p->state_free)
        s->p->state_free(s->p->state);
    /* Under the lock, so shutdown cannot give up on it and stop libmicrohttpd meanwhile; once
     * abandoned, libmicrohttpd closed the connection itself and is gone. */
    pthread_mutex_lock(&u->lock);
    for (sov_upgraded **q = &u->list; *q; q = &(*q)->next)
        if (*q == s) {
            *q = s->next;
            break;
        }
    if (!u->abandoned)
        MHD_upgrade_action(s->urh, MHD_UPGRADE_ACTION_CLOSE);
    pthread_mutex_unlock(&u->lock);
    close(s->wake[0]);
    close(s->wake[1]);
    free(s->extra);
    pending_unref(s->p);
    free(s);
    /* Last: shutdown may free u once the count is 0. */
    pthread_mutex_lock(&u->lock);
    u->count--;
    last_of_orphan = u->orphan && u->count == 0;
    pthread_cond_broadcast(&u->done);
    pthread_mutex_unlock(&u->lock);
    if (last_of_orphan) {
        pthread_cond_destroy(&u->done);
        pthread_mutex_destroy(&u->lock);
        free(u);
    }
}

static void *
session_main(void *arg)
{
    sov_upgraded *s = arg;

    sov_log_set_request_id(s->p->request_id);
    s->p->run(s, s->p->state);
    sov_log_set_request_id(NULL);
    session_end(s);
    return NULL;
}

/* libmicrohttpd's thread, the 101 sent: start the session's own thread. */
static void
on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
           size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    pending *p = cls;
    sov_upgrades *u = p->ups;
    sov_upgraded *s = calloc(1, sizeof(*s));
    pthread_attr_t attr;
    pthread_t t;

    (void) conn, (void) con_cls;
    p->started = true;
    atomic_fetch_add(&p->refs, 1);
    if (!s || pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        free(s);
        goto refuse;
    }
    s->p = p;
    s->fd = sock;
    s->urh = urh;
    if (extra_in_size > 0) {
        s->extra = malloc(extra_in_size);
        if (!s->extra)
            goto refuse_s;
        memcpy(s->extra, extra_in, extra_in_size);
        s->extra_len = extra_in_size;
    }
    pthread_mutex_lock(&u->lock);
    if (u->stopping) {
        pthread_mutex_unlock(&u->lock);
        goto refuse_s;
    }
    s->next = u->list;
    u->list = s;
    u->count++;
    pthread_mutex_unlock(&u->lock);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, session_main, s) != 0) {
        pthread_attr_destroy(&attr);
        sov_log_warn("could not start a thread for an upgraded connection; closing it");
        session_end(s);
        return;
    }
    pthread_attr_destroy(&attr);
    return;

refuse_s:
    close(s->wake[0]);
    close(s->wake[1]);
    free(s->extra);
    free(s);
refuse:
    if (p->state_free)
        p->state_free(p->state);
    pending_unref(p);
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

enum MHD_Result
sov_api_reply_upgrade(sov_request *req, sov_upgrade_run run, void *state,
                      void (*state_free)(void *))
{
    pending *p = calloc(1, sizeof(*p));
    struct MHD_Response *resp;

    if (!p) {
        if (state_free)
            state_free(state);
        return MHD_NO;
    }
    atomic_init(&p->refs, 1);
    p->ups = sov_server_upgrades(req->server);
    p->run = run;
    p->state = state;
    p->state_free = state_free;
    snprintf(p->request_id, sizeof(p->request_id), "%s", req->request_id);
    resp = MHD_create_response_for_upgrade(on_upgrade, p);
    if (!resp) {
        pending_request_done(p);
        return MHD_NO;
    }
    sov_request_set_later(req, p, pending_request_done);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
    return sov_api_reply_response(req, MHD_HTTP_SWITCHING_PROTOCOLS, NULL, resp, 0);
}

int
sov_upgraded_fd(sov_upgraded *s)
{
    return s->fd;
}

int
sov_upgraded_wake_fd(sov_upgraded *s)
{
    return s->wake[0];
}

const char *
sov_upgraded_extra(sov_upgraded *s, size_t *len)
{
    *len = s->extra_len;
    return s->extra;
}
