/* fault.h: fault points, for tests only.
 *
 * SOV_FAULT_POINT=<name> in sovd's environment makes the process kill itself (SIGKILL, as a
 * crash or kill -9 would) when it reaches the point of that name, so that a test can prove
 * what a crash exactly there leaves behind. Points: "idempotency.after-create" (api/server.c:
 * a create with Idempotency-Key committed, its reply not yet sent nor its key finished).
 * Never set it outside tests; unset, a point costs one getenv(). */
#ifndef SOV_FAULT_H
#define SOV_FAULT_H

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sov/log.h"

static inline void
sov_fault_point(const char *name)
{
    const char *want = getenv("SOV_FAULT_POINT");

    if (want && strcmp(want, name) == 0) {
        sov_log_warn("fault point '%s' reached: killing this process (SOV_FAULT_POINT, "
                     "for tests only)", name);
        raise(SIGKILL);
    }
}

#endif
