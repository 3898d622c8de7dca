/* console_stream.c: an interactive session on an instance's serial console.
 *
 * The rules live here (whose instance, running or not, the audit entry) and the bytes go
 * through the hv layer's console (virDomainOpenConsole on the instance's host, or the test
 * driver's stand-in). libvirt allows one stream per domain: a second is refused unless it
 * forces, and then the first one ends. This process keeps the sessions it holds per instance,
 * so the one that was pushed out learns why ("taken over") rather than seeing a plain end. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute_int.h"
#include "sov/audit.h"
#include "sov/log.h"

struct sov_console_stream {
    char instance_id[SOV_UUID_LEN + 1];
    char uri[1024];
    bool force;
    sov_hv_console *console;
    bool taken_over;                /* under lock: another session forced this one out */
    bool listed;
    struct sov_console_stream *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sov_console_stream *sessions;    /* connected, in this process */

int
sov_instance_console_attach(sov_ctx *ctx, const char *tenant_id, const char *id, bool force,
                            sov_console_stream **ret, sov_error *err)
{
    SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };
    repo_instance_host h;
    sov_console_stream *s;

    if (sov_instance_get(ctx, tenant_id, id, &x, err) < 0)
        return -1;
    if (strcmp(x.state, "running") != 0 || !x.host_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "instance '%s' is %s: its console opens "
                             "only while it runs", x.name, x.state);
    memset(&h, 0, sizeof(h));
    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_instance_host_get(c, x.host_id, &h, err) < 0)
            return -1;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    snprintf(s->instance_id, sizeof(s->instance_id), "%s", x.id);
    snprintf(s->uri, sizeof(s->uri), "%s", h.uri);
    s->force = force;
    /* Audited when allowed, before any byte flows: who opened whose console, and when. */
    if (sov_audit_append_alone(ctx, x.tenant_id, "instance", x.id, SOV_OUTCOME_SWITCHED,
                               err) < 0) {
        free(s);
        return -1;
    }
    *ret = s;
    return 0;
}

int
sov_console_stream_connect(sov_console_stream *s, sov_error *err)
{
    sov_autoptr(sov_hv) hv = NULL;
    sov_hv_console *c = NULL;

    if (sov_hv_open(s->uri, &hv, err) < 0)
        return -1;
    if (s->force) {
        /* Marked first: the other session may see its end before open returns. */
        pthread_mutex_lock(&lock);
        for (sov_console_stream *o = sessions; o; o = o->next)
            if (strcmp(o->instance_id, s->instance_id) == 0)
                o->taken_over = true;
        pthread_mutex_unlock(&lock);
    }
    if (sov_hv_console_open(hv, s->instance_id, s->force, &c, err) < 0) {
        if (err->code == SOV_E_CONFLICT)
            sov_error_set(err, SOV_E_CONFLICT, "another session holds this console; "
                          "force=true takes it over");
        return -1;
    }
    s->console = c;
    pthread_mutex_lock(&lock);
    s->next = sessions;
    sessions = s;
    s->listed = true;
    pthread_mutex_unlock(&lock);
    return 0;
}

int
sov_console_stream_fd(sov_console_stream *s)
{
    return s->console ? s->console->fd : -1;
}

long
sov_console_stream_read(sov_console_stream *s, void *buf, size_t size, sov_error *err)
{
    if (!s->console)
        return sov_error_set(err, SOV_E_INTERNAL, "console not connected");
    return sov_hv_console_read(s->console, buf, size, err);
}

int
sov_console_stream_write(sov_console_stream *s, const void *buf, size_t len, sov_error *err)
{
    if (!s->console)
        return sov_error_set(err, SOV_E_INTERNAL, "console not connected");
    return sov_hv_console_write(s->console, buf, len, err);
}

bool
sov_console_stream_taken_over(sov_console_stream *s)
{
    bool t;

    pthread_mutex_lock(&lock);
    t = s->taken_over;
    pthread_mutex_unlock(&lock);
    return t;
}

const char *
sov_console_stream_instance(sov_console_stream *s)
{
    return s->instance_id;
}

void
sov_console_stream_free(sov_console_stream *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&lock);
    if (s->listed)
        for (sov_console_stream **p = &sessions; *p; p = &(*p)->next)
            if (*p == s) {
                *p = s->next;
                break;
            }
    pthread_mutex_unlock(&lock);
    sov_hv_console_close(s->console);
    free(s);
}
