/* seca.c: the SECA surface's meta rules: condition history, versions, label selectors
 * (include/sov/seca.h). The SQL is in seca_repo.c. */
#include <stdlib.h>
#include <string.h>

#include "sov/seca.h"

const char *
sov_seca_state_name(sov_seca_state s)
{
    static const char *const names[] = { "pending", "creating", "active",
                                         "updating", "deleting", "error" };

    return (unsigned) s < sizeof(names) / sizeof(names[0]) ? names[s] : "error";
}

void
sov_seca_meta_clear(sov_seca_meta *m)
{
    json_decref(m->labels);
    json_decref(m->annotations);
    json_decref(m->extensions);
    json_decref(m->conditions);
    memset(m, 0, sizeof(*m));
}

sov_seca_state
sov_seca_meta_state(const sov_seca_meta *m)
{
    (void) m;
    return SOV_SECA_ACTIVE;
}

int
sov_seca_meta_get(sov_ctx *ctx, const char *resource_id, const char *kind,
                  sov_seca_state now, const char *created_at, sov_seca_meta *ret,
                  sov_error *err)
{
    (void) ctx, (void) resource_id, (void) kind, (void) now, (void) created_at, (void) ret;
    return sov_error_set(err, SOV_E_INTERNAL, "not built yet");
}

int
sov_seca_meta_write(sov_ctx *ctx, const sov_seca_write *w, sov_seca_meta *ret,
                    sov_error *err)
{
    (void) ctx, (void) w, (void) ret;
    return sov_error_set(err, SOV_E_INTERNAL, "not built yet");
}

int
sov_seca_meta_check_version(sov_ctx *ctx, const char *resource_id, long long if_version,
                            sov_error *err)
{
    (void) ctx, (void) resource_id, (void) if_version;
    return sov_error_set(err, SOV_E_INTERNAL, "not built yet");
}

int
sov_seca_meta_forget(sov_ctx *ctx, const char *resource_id, sov_error *err)
{
    (void) ctx, (void) resource_id;
    return sov_error_set(err, SOV_E_INTERNAL, "not built yet");
}

int
sov_seca_selector_parse(const char *text, sov_seca_selector **ret, sov_error *err)
{
    (void) text;
    *ret = NULL;
    return sov_error_set(err, SOV_E_INTERNAL, "not built yet");
}

bool
sov_seca_selector_match(const sov_seca_selector *s, const json_t *labels)
{
    (void) s, (void) labels;
    return true;
}

void
sov_seca_selector_free(sov_seca_selector *s)
{
    (void) s;
}
