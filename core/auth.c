/* auth.c: token secret -> principal, with a cache that every replica empties on NOTIFY.
 *
 * A verified token is remembered for token_cache_ttl seconds, so most requests cost no
 * query. Any change to tokens, users or tenants sends NOTIFY sov_auth in its transaction;
 * each sovd keeps one LISTEN connection and empties its cache when the notification
 * arrives, well within a second. While that connection is down nothing is cached: a
 * revocation can never be missed, it can only cost a query. */
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity_repo.h"
#include "sov/crypto.h"
#include "sov/identity.h"
#include "sov/log.h"
#include "sov/repo/db_pq.h"
#include "sov/timeutil.h"

#define BUCKETS 1024
#define MAX_ENTRIES 20000

typedef struct entry {
    struct entry *next;
    char sum[SOV_SHA256_HEX_LEN + 1];
    sov_principal who;
    time_t expires;         /* 0: never */
    time_t cached_at;
} entry;

struct sov_auth {
    sov_db *db;
    char *url;
    unsigned ttl;
    pthread_mutex_t lock;
    entry *buckets[BUCKETS];
    size_t count;
    unsigned long long generation;  /* bumped on every flush */
    atomic_bool listening;
    atomic_bool stop;
    bool warned;                /* the listener said it could not listen (its thread only) */
    pthread_t thread;
    bool thread_started;
};

static void
flush_locked(sov_auth *a)
{
    for (size_t i = 0; i < BUCKETS; i++) {
        entry *e = a->buckets[i];
        while (e) {
            entry *next = e->next;
            OPENSSL_cleanse(e, sizeof(*e));
            free(e);
            e = next;
        }
        a->buckets[i] = NULL;
    }
    a->count = 0;
    a->generation++;
}

void
sov_auth_flush(sov_auth *a)
{
    pthread_mutex_lock(&a->lock);
    flush_locked(a);
    pthread_mutex_unlock(&a->lock);
}

static size_t
bucket_of(const char *sum)
{
    return (size_t) strtoul((char[]){ sum[0], sum[1], sum[2], sum[3], 0 }, NULL, 16) % BUCKETS;
}

/* The cache is trusted only while we listen for revocations: a revocation sent while we
 * were not listening is one we would never hear of. */
static void
on_listen(void *arg, sov_db_listen_event ev)
{
    sov_auth *a = arg;

    switch (ev) {
    case SOV_DB_LISTEN_UP:
        /* Anything cached before we listened may be stale: start empty. */
        sov_auth_flush(a);
        atomic_store(&a->listening, true);
        if (a->warned)
            sov_log_info("token cache on again: listening for revocations");
        a->warned = false;
        break;
    case SOV_DB_LISTEN_NOTIFIED:
        sov_auth_flush(a);
        break;
    case SOV_DB_LISTEN_DOWN:
        if (!a->warned)
            sov_log_warn("token cache off: could not LISTEN for revocations");
        a->warned = true;
        break;
    case SOV_DB_LISTEN_LOST:
        /* Lost it: stop trusting the cache until we listen again. */
        atomic_store(&a->listening, false);
        sov_auth_flush(a);
        break;
    }
}

static void *
listener(void *arg)
{
    sov_auth *a = arg;
    const sov_db_listener l = { .url = a->url, .application_name = "sovd-auth-listener",
                                .channel = "sov_auth", .retry_ms = 500, .stop = &a->stop,
                                .on_event = on_listen, .arg = a };

    sov_db_listen(&l);
    atomic_store(&a->listening, false);
    return NULL;
}

int
sov_auth_new(sov_db *db, const char *database_url, unsigned cache_ttl_s, sov_auth **ret,
             sov_error *err)
{
    sov_auth *a = calloc(1, sizeof(*a));

    if (!a || !(a->url = strdup(database_url))) {
        free(a);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    a->db = db;
    a->ttl = cache_ttl_s;
    pthread_mutex_init(&a->lock, NULL);
    if (cache_ttl_s > 0) {
        if (pthread_create(&a->thread, NULL, listener, a) != 0) {
            sov_auth_free(a);
            return sov_error_set(err, SOV_E_INTERNAL, "could not start the token listener");
        }
        a->thread_started = true;
    }
    *ret = a;
    return 0;
}

void
sov_auth_free(sov_auth *a)
{
    if (!a)
        return;
    atomic_store(&a->stop, true);
    if (a->thread_started)
        pthread_join(a->thread, NULL);
    sov_auth_flush(a);
    pthread_mutex_destroy(&a->lock);
    free(a->url);
    free(a);
}

static bool
well_formed(const char *s)
{
    if (!s || strlen(s) != SOV_TOKEN_SECRET_LEN || strncmp(s, "sov_", 4) != 0)
        return false;
    for (const char *p = s + 4; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

static bool
cache_get(sov_auth *a, const char *sum, sov_principal *ret, time_t now)
{
    bool hit = false;

    pthread_mutex_lock(&a->lock);
    for (entry *e = a->buckets[bucket_of(sum)]; e; e = e->next) {
        if (CRYPTO_memcmp(e->sum, sum, SOV_SHA256_HEX_LEN) != 0)
            continue;
        if (now - e->cached_at < (time_t) a->ttl && (e->expires == 0 || now < e->expires)) {
            *ret = e->who;
            hit = true;
        }
        break;
    }
    pthread_mutex_unlock(&a->lock);
    return hit;
}

static void
cache_put(sov_auth *a, const char *sum, const sov_principal *who, time_t expires,
          unsigned long long generation, time_t now)
{
    entry *e = calloc(1, sizeof(*e));

    if (!e)
        return;
    memcpy(e->sum, sum, sizeof(e->sum));
    e->who = *who;
    e->expires = expires;
    e->cached_at = now;
    pthread_mutex_lock(&a->lock);
    /* A flush since we read the row means it may be stale: do not keep it. */
    if (generation != a->generation || !atomic_load(&a->listening)) {
        pthread_mutex_unlock(&a->lock);
        free(e);
        return;
    }
    if (a->count >= MAX_ENTRIES)
        flush_locked(a);
    size_t b = bucket_of(sum);
    e->next = a->buckets[b];
    a->buckets[b] = e;
    a->count++;
    pthread_mutex_unlock(&a->lock);
}

int
sov_auth_check(sov_auth *a, const char *secret, sov_principal *ret, sov_error *err)
{
    char sum[SOV_SHA256_HEX_LEN + 1];
    repo_token_auth row;
    time_t now = time(NULL), expires = 0;
    unsigned long long generation;
    sov_autoptr(sov_dbconn) c = NULL;

    if (!well_formed(secret))
        return sov_error_set(err, SOV_E_UNAUTHENTICATED, "token is not valid");
    sov_sha256_hex(secret, strlen(secret), sum);
    if (atomic_load(&a->listening) && cache_get(a, sum, ret, now))
        return 0;

    pthread_mutex_lock(&a->lock);
    generation = a->generation;
    pthread_mutex_unlock(&a->lock);
    if (sov_db_acquire(a->db, &c, err) < 0 || sov_repo_token_by_secret(c, sum, &row, err) < 0)
        return -1;
    /* The index found it by hash; compare in constant time all the same. */
    if (CRYPTO_memcmp(row.secret_sha256, sum, SOV_SHA256_HEX_LEN) != 0)
        return sov_error_set(err, SOV_E_UNAUTHENTICATED, "token is not valid");
    if (row.revoked)
        return sov_error_set(err, SOV_E_UNAUTHENTICATED, "token has been revoked");
    if (row.expired)
        return sov_error_set(err, SOV_E_UNAUTHENTICATED, "token has expired");
    if (row.who.expires_at[0]) {
        time_t t;
        if (sov_rfc3339_parse(row.who.expires_at, &t) == 0)
            expires = t;
    }
    *ret = row.who;
    if (a->ttl > 0)
        cache_put(a, sum, &row.who, expires, generation, now);
    return 0;
}

int
sov_auth_notify(sov_dbconn *c, sov_ctx *ctx, sov_error *err)
{
    if (sov_db_query(c, "NOTIFY sov_auth", 0, NULL, NULL, err) < 0)
        return -1;
    ctx->auth_changed = true;
    return 0;
}
