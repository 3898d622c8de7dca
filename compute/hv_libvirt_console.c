/* hv_libvirt_console.c: a domain's serial console as a stream (virDomainOpenConsole), and the
 * stand-in for libvirt's test driver, whose domains have no console.
 *
 * libvirt's streams are read through its event loop: a nonblocking stream never reads its
 * socket by itself, and a blocking read would hold the connection's lock against writes. So
 * the first console opened registers libvirt's default event loop and runs it on a thread of
 * its own for the life of the process (virsh console does the same). Each console has its own
 * connection, opened after that, so its socket is watched by the loop. The loop's callback
 * moves what the guest writes into a socket pair, whose other end is the console's fd: the
 * caller polls it as it polls anything else. Writes go to the stream directly. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hv_libvirt_int.h"
#include "sov/log.h"

/* ---- libvirt's event loop, started once ---- */

static pthread_once_t loop_once = PTHREAD_ONCE_INIT;
static int loop_rc = -1;

static void *
loop_main(void *arg)
{
    (void) arg;
    for (;;)
        if (virEventRunDefaultImpl() < 0)
            virResetLastError();
    return NULL;
}

static void
loop_start(void)
{
    pthread_attr_t attr;
    pthread_t t;

    if (virEventRegisterDefaultImpl() < 0)
        return;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    loop_rc = pthread_create(&t, &attr, loop_main, NULL) == 0 ? 0 : -1;
    pthread_attr_destroy(&attr);
}

/* ---- the libvirt stream ---- */

typedef struct lv_console {
    sov_hv_console base;            /* first */
    pthread_mutex_t lock;
    int feed;                       /* the loop's end of the socket pair; -1 once ended */
    bool closed;                    /* its owner closed it: the callback touches nothing */
    bool failed;                    /* the stream ended in an error, not at its end */
    char detail[256];               /* libvirt's words for it */
    virConnectPtr conn;
    virStreamPtr st;
    bool watching;
} lv_console;

static void
lvc_free(lv_console *c)
{
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* On the loop's thread, after any dispatch of the callback that had begun: libvirt forgets a
 * free function given to virStreamEventAddCallback when the callback is removed while it
 * runs, so the memory goes here instead, where no callback can be running. */
static void
lvc_deferred_free(int timer, void *opaque)
{
    virEventRemoveTimeout(timer);
    lvc_free(opaque);
}

/* Under c->lock: no more bytes will come; the reader sees the end once it drained them. */
static void
lvc_end(lv_console *c, bool failed)
{
    if (failed && !c->failed) {
        c->failed = true;
        snprintf(c->detail, sizeof(c->detail), "%s", virGetLastErrorMessage());
    }
    if (c->feed >= 0) {
        close(c->feed);
        c->feed = -1;
    }
}

/* On the event loop's thread: move what the guest wrote into the socket pair. */
static void
lvc_event(virStreamPtr st, int events, void *opaque)
{
    lv_console *c = opaque;
    char buf[4096];
    int n;

    pthread_mutex_lock(&c->lock);
    if (c->closed || c->feed < 0) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    for (;;) {
        n = virStreamRecv(st, buf, sizeof(buf));
        if (n == -2)
            break;
        if (n <= 0) {
            lvc_end(c, n < 0);
            virStreamEventUpdateCallback(st, 0);
            break;
        }
        /* The pair is nonblocking: a reader that stopped reading loses output rather than
         * stall every console's loop. Its buffer holds far more than a screen. */
        if (send(c->feed, buf, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
            errno != EAGAIN && errno != EWOULDBLOCK) {
            lvc_end(c, false);
            break;
        }
    }
    if (c->feed >= 0 && (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)) &&
        !(events & VIR_STREAM_EVENT_READABLE)) {
        lvc_end(c, (events & VIR_STREAM_EVENT_ERROR) != 0);
        virStreamEventUpdateCallback(st, 0);
    }
    pthread_mutex_unlock(&c->lock);
}

static long
lvc_read(sov_hv_console *base, void *buf, size_t size, sov_error *err)
{
    lv_console *c = (lv_console *) base;
    ssize_t n = recv(c->base.fd, buf, size, MSG_DONTWAIT);

    if (n > 0)
        return (long) n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return -2;
    pthread_mutex_lock(&c->lock);
    if (c->failed) {
        sov_error_set(err, SOV_E_UNAVAILABLE, "the console's host failed");
        sov_error_detail(err, "%s", c->detail);
        pthread_mutex_unlock(&c->lock);
        return -1;
    }
    pthread_mutex_unlock(&c->lock);
    return 0;
}

static int
lvc_write(sov_hv_console *base, const void *buf, size_t len, sov_error *err)
{
    lv_console *c = (lv_console *) base;
    const char *p = buf;
    struct timespec tick = { 0, 5000000L };
    unsigned waited = 0;

    while (len > 0) {
        int n = virStreamSend(c->st, p, len);
        if (n == -2) {
            /* The guest is not reading: give it a second, then drop the input. */
            if (++waited > 200)
                return sov_error_set(err, SOV_E_UNAVAILABLE, "the console takes no input");
            nanosleep(&tick, NULL);
            continue;
        }
        if (n < 0)
            return sov_lv_error(err, SOV_E_UNAVAILABLE, "could not write to the console");
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

static void
lvc_close(sov_hv_console *base)
{
    lv_console *c = (lv_console *) base;

    pthread_mutex_lock(&c->lock);
    c->closed = true;
    if (c->feed >= 0)
        close(c->feed);
    c->feed = -1;
    pthread_mutex_unlock(&c->lock);
    if (c->watching && virStreamEventRemoveCallback(c->st) < 0)
        virResetLastError();
    if (c->st) {
        if (virStreamAbort(c->st) < 0)
            virResetLastError();
        virStreamFree(c->st);
    }
    if (c->conn)
        virConnectClose(c->conn);
    if (c->base.fd >= 0)
        close(c->base.fd);
    if (!c->watching || virEventAddTimeout(0, lvc_deferred_free, c, NULL) < 0)
        lvc_free(c);
}

/* ---- the test driver's stand-in: a banner, then an echo ---- */

typedef struct echo_console {
    sov_hv_console base;            /* first */
    int peer;                       /* written to, read back at base.fd; -1 once taken over */
    char key[1100];                 /* URI and domain: one stream per domain */
    struct echo_console *next;
} echo_console;

static pthread_mutex_t echo_lock = PTHREAD_MUTEX_INITIALIZER;
static echo_console *echo_open_list;

static long
echo_read(sov_hv_console *base, void *buf, size_t size, sov_error *err)
{
    ssize_t n = recv(base->fd, buf, size, MSG_DONTWAIT);

    (void) err;
    if (n > 0)
        return (long) n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return -2;
    return 0;
}

static int
echo_write(sov_hv_console *base, const void *buf, size_t len, sov_error *err)
{
    echo_console *c = (echo_console *) base;
    int rc = 0;

    pthread_mutex_lock(&echo_lock);
    if (c->peer >= 0 && send(c->peer, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        rc = sov_error_set(err, SOV_E_UNAVAILABLE, "the console takes no input");
    pthread_mutex_unlock(&echo_lock);
    return rc;
}

static void
echo_close(sov_hv_console *base)
{
    echo_console *c = (echo_console *) base;

    pthread_mutex_lock(&echo_lock);
    for (echo_console **p = &echo_open_list; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    pthread_mutex_unlock(&echo_lock);
    if (c->peer >= 0)
        close(c->peer);
    close(c->base.fd);
    free(c);
}

static int
echo_open(lv_hv *h, virDomainPtr dom, const char *uuid, bool force, sov_hv_console **ret,
          sov_error *err)
{
    echo_console *c;
    int sp[2];
    char banner[160];

    if (virDomainIsActive(dom) != 1)
        return sov_error_set(err, SOV_E_NOT_FOUND, "domain '%s' is not running", uuid);
    c = calloc(1, sizeof(*c));
    if (!c)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    snprintf(c->key, sizeof(c->key), "%s %s", h->uri, uuid);
    pthread_mutex_lock(&echo_lock);
    for (echo_console **p = &echo_open_list; *p; p = &(*p)->next) {
        echo_console *o = *p;
        if (strcmp(o->key, c->key) != 0)
            continue;
        if (!force) {
            pthread_mutex_unlock(&echo_lock);
            free(c);
            sov_error_set(err, SOV_E_CONFLICT, "another session holds this console");
            sov_error_detail(err, "Active console session exists for this domain");
            return -1;
        }
        /* Taken over: the old session reads to its end. */
        close(o->peer);
        o->peer = -1;
        *p = o->next;
        break;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        pthread_mutex_unlock(&echo_lock);
        free(c);
        return sov_error_set(err, SOV_E_INTERNAL, "could not make a socket pair: %s",
                             strerror(errno));
    }
    c->base.fd = sp[0];
    c->peer = sp[1];
    c->base.read = echo_read;
    c->base.write = echo_write;
    c->base.close = echo_close;
    c->next = echo_open_list;
    echo_open_list = c;
    pthread_mutex_unlock(&echo_lock);
    snprintf(banner, sizeof(banner), "sovereign test console of domain %s: it echoes what it "
             "is sent\r\n", uuid);
    if (send(sp[1], banner, strlen(banner), MSG_NOSIGNAL) < 0)
        sov_log_debug("test console: banner not sent: %s", strerror(errno));
    *ret = &c->base;
    return 0;
}

/* ---- open ---- */

static int
lv_console_stream(lv_hv *h, const char *uuid, bool force, sov_hv_console **ret,
                  sov_error *err)
{
    lv_console *c;
    sov_autoptr(virDomain) dom = NULL;
    int sp[2];
    int rc;

    pthread_once(&loop_once, loop_start);
    if (loop_rc < 0)
        return sov_lv_error(err, SOV_E_INTERNAL, "could not start libvirt's event loop");
    c = calloc(1, sizeof(*c));
    if (!c)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    c->feed = c->base.fd = -1;
    c->base.read = lvc_read;
    c->base.write = lvc_write;
    c->base.close = lvc_close;
    /* Its own connection, opened after the loop: the loop watches its socket. */
    c->conn = virConnectOpen(h->uri);
    if (!c->conn) {
        sov_lv_error(err, SOV_E_UNAVAILABLE, "could not connect to the instance's host");
        lvc_close(&c->base);
        return -1;
    }
    dom = virDomainLookupByUUIDString(c->conn, uuid);
    if (!dom) {
        sov_lv_error(err, SOV_E_NOT_FOUND, "domain '%s' does not exist", uuid);
        lvc_close(&c->base);
        return -1;
    }
    c->st = virStreamNew(c->conn, VIR_STREAM_NONBLOCK);
    if (!c->st) {
        sov_lv_error(err, SOV_E_UNAVAILABLE, "could not make a stream");
        lvc_close(&c->base);
        return -1;
    }
    if (virDomainOpenConsole(dom, NULL, c->st, force ? VIR_DOMAIN_CONSOLE_FORCE : 0) < 0) {
        const char *msg = virGetLastErrorMessage();
        if (msg && strstr(msg, "Active console session"))
            sov_lv_error(err, SOV_E_CONFLICT, "another session holds this console");
        else
            sov_lv_error(err, SOV_E_UNAVAILABLE, "could not open the console");
        virStreamFree(c->st);
        c->st = NULL;
        lvc_close(&c->base);
        return -1;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        sov_error_set(err, SOV_E_INTERNAL, "could not make a socket pair: %s", strerror(errno));
        lvc_close(&c->base);
        return -1;
    }
    c->base.fd = sp[0];
    c->feed = sp[1];
    rc = virStreamEventAddCallback(c->st, VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR |
                                   VIR_STREAM_EVENT_HANGUP, lvc_event, c, NULL);
    if (rc < 0) {
        sov_lv_error(err, SOV_E_UNAVAILABLE, "could not watch the console stream");
        lvc_close(&c->base);
        return -1;
    }
    c->watching = true;
    *ret = &c->base;
    return 0;
}

int
sov_lv_console_open(sov_hv *hv, const char *uuid, bool force, sov_hv_console **ret,
                    sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virDomain) dom = NULL;

    if (!sov_lv_is_test(h))
        return lv_console_stream(h, uuid, force, ret, err);
    if (sov_lv_dom_lookup(h, uuid, &dom, err) < 0)
        return -1;
    return echo_open(h, dom, uuid, force, ret, err);
}
