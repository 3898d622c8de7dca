/* wait.c: following an operation to its end. A progress bar on stderr when it is a
 * terminal, a line per change otherwise (logs stay readable). Ctrl-C stops the waiting,
 * not the work: the operation is the server's, so sovctl says how to follow it again. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

#define BAR_WIDTH 30
#define POLL_FIRST_MS 300
#define POLL_MAX_MS 2000

volatile sig_atomic_t ctl_interrupted;

static void
on_sigint(int sig)
{
    (void) sig;
    ctl_interrupted = 1;
}

void
ctl_progress_draw(const char *label, double fraction, const char *detail)
{
    int done = fraction < 0 ? 0 : (int) (fraction * BAR_WIDTH + 0.5);

    if (done > BAR_WIDTH)
        done = BAR_WIDTH;
    fprintf(stderr, "\r\033[K%s [", label);
    for (int i = 0; i < BAR_WIDTH; i++)
        fputc(i < done ? '#' : '.', stderr);
    if (fraction >= 0)
        fprintf(stderr, "] %3d%%  %s", (int) (fraction * 100 + 0.5), detail);
    else
        fprintf(stderr, "]       %s", detail);
    fflush(stderr);
}

void
ctl_progress_clear(void)
{
    fputs("\r\033[K", stderr);
    fflush(stderr);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (!ctl_interrupted && nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* What the operation looks like now: its state, progress and step. */
typedef struct seen {
    char state[32];
    long long progress;
    char step[128];
} seen;

static void
report(const ctl_ctx *ctx, const json_t *op, seen *last, double started)
{
    const char *state = json_string_value(json_object_get(op, "state"));
    const char *step = json_string_value(json_object_get(op, "step"));
    const char *kind = json_string_value(json_object_get(op, "kind"));
    long long progress = json_integer_value(json_object_get(op, "progress"));
    seen now = { .progress = progress };
    char detail[256];

    snprintf(now.state, sizeof(now.state), "%s", state ? state : "?");
    snprintf(now.step, sizeof(now.step), "%s", step ? step : "");
    if (ctx->err_tty) {
        snprintf(detail, sizeof(detail), "%s%s%s  %.0fs", now.state, now.step[0] ? ": " : "",
                 now.step, now_s() - started);
        ctl_progress_draw(kind ? kind : "operation", (double) progress / 100.0, detail);
    } else if (strcmp(now.state, last->state) != 0 || now.progress != last->progress ||
               strcmp(now.step, last->step) != 0) {
        fprintf(stderr, "%s: %s %lld%%%s%s\n", kind ? kind : "operation", now.state, progress,
                now.step[0] ? " " : "", now.step);
    }
    *last = now;
}

static int
ended(const ctl_ctx *ctx, const json_t *op, double started)
{
    const char *state = json_string_value(json_object_get(op, "state"));
    const char *kind = json_string_value(json_object_get(op, "kind"));
    const json_t *error = json_object_get(op, "error");
    const char *msg = json_string_value(json_object_get(error, "message"));
    const char *code = json_string_value(json_object_get(error, "code"));

    if (ctx->err_tty)
        ctl_progress_clear();
    if (state && strcmp(state, "succeeded") == 0) {
        if (ctx->format != CTL_FMT_JSON)
            fprintf(stderr, "%s succeeded in %.0f s\n", kind ? kind : "operation",
                    now_s() - started);
        return CTL_EXIT_OK;
    }
    return ctl_fail(CTL_EXIT_API, "%s %s failed: %s%s%s%s", kind ? kind : "operation",
                    ctl_text(json_object_get(op, "id")), msg ? msg : "no reason given",
                    code ? " (" : "", code ? code : "", code ? ")" : "");
}

static int
stopped_waiting(const ctl_ctx *ctx, const char *id)
{
    if (ctx->err_tty)
        ctl_progress_clear();
    fprintf(stderr, "\nStopped waiting; the operation goes on. Follow it with:\n"
                    "  sovctl%s%s operation wait %s\n",
            ctx->opts.profile ? " --profile " : "", ctx->opts.profile ? ctx->opts.profile : "",
            id);
    return CTL_EXIT_INTERRUPTED;
}

static bool
finished(const json_t *op)
{
    const char *state = json_string_value(json_object_get(op, "state"));

    return state && (strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0);
}

static int
poll_until_end(ctl_ctx *ctx, const char *path, json_t **ret)
{
    seen last = { .state = "", .progress = -1 };
    double started = now_s();
    long interval = POLL_FIRST_MS;

    for (;;) {
        sov_autoptr(json_t) op = NULL;
        int rc = ctl_interrupted ? CTL_EXIT_INTERRUPTED : ctl_api(ctx, "GET", path, NULL, &op);
        if (rc != 0)
            return rc;
        report(ctx, op, &last, started);
        if (finished(op)) {
            rc = ended(ctx, op, started);
            *ret = SOV_TAKE_PTR(op);
            return rc;
        }
        sleep_ms(interval);
        interval = interval * 3 / 2 > POLL_MAX_MS ? POLL_MAX_MS : interval * 3 / 2;
    }
}

int
ctl_wait_operation(ctl_ctx *ctx, const char *id, json_t **ret)
{
    struct sigaction sa = { .sa_handler = on_sigint }, old;
    sov_autofree char *path = NULL;
    int rc;

    *ret = NULL;
    if (asprintf(&path, "/v1/operations/%s", id) < 0)
        abort();
    /* No SA_RESTART: a sleep or a transfer ends at once on Ctrl-C. */
    sigemptyset(&sa.sa_mask);
    ctl_interrupted = 0;
    sigaction(SIGINT, &sa, &old);
    rc = poll_until_end(ctx, path, ret);
    sigaction(SIGINT, &old, NULL);
    if (rc == CTL_EXIT_INTERRUPTED)
        return stopped_waiting(ctx, id);
    return rc;
}

int
ctl_cmd_operation_wait(ctl_ctx *ctx)
{
    sov_autoptr(json_t) op = NULL;
    int rc = ctl_wait_operation(ctx, ctx->id, &op);

    if (op && rc != CTL_EXIT_INTERRUPTED)
        ctl_print(ctx, op);
    return rc;
}
