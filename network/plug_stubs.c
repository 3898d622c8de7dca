/* plug_stubs.c: TEMPORARY, branch i14-plug only. Weak stand-ins for what parts "net", "sec"
 * and "ovn" define, so this branch links before they land. DELETE THIS FILE (and its line in
 * network/meson.build) WHEN MERGING: a weak definition in a static library may be linked in
 * place of the real one that lives in an object nothing else pulls in. Each answers
 * SOV_E_UNAVAILABLE ("not built yet"), so nothing works by accident. */
#include <stdlib.h>
#include <string.h>

#include "network_int.h"

#define WEAK __attribute__((weak))
#define MISSING(what) sov_error_set(err, SOV_E_UNAVAILABLE, "%s is not built yet", what)

WEAK bool
sov_network_enabled(const sov_config *cfg)
{
    return cfg && cfg->ovn_nb && cfg->ovn_nb[0];
}

WEAK int
sov_net_region(sov_dbconn *c, const char *tenant_id, const char *region, const char *field,
               char *ret, size_t size, sov_error *err)
{
    (void) c; (void) tenant_id; (void) region; (void) field; (void) ret; (void) size;
    return MISSING("sov_net_region");
}

WEAK int
sov_net_network_create_tx(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                          const sov_network_create_args *a, bool is_default, sov_network *ret,
                          sov_op *op, sov_error *err)
{
    (void) c; (void) ctx; (void) tenant_id; (void) a; (void) is_default; (void) ret; (void) op;
    return MISSING("sov_net_network_create_tx");
}

WEAK int
sov_net_subnet_create_tx(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                         const sov_subnet_create_args *a, sov_subnet *ret, sov_op *op,
                         sov_error *err)
{
    (void) c; (void) ctx; (void) tenant_id; (void) a; (void) ret; (void) op;
    return MISSING("sov_net_subnet_create_tx");
}

WEAK int
sov_net_port_create_tx(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                       const sov_port_create_args *a, const sov_net_port_owner *owner,
                       sov_port *ret, sov_op *op, sov_error *err)
{
    (void) c; (void) ctx; (void) tenant_id; (void) a; (void) owner; (void) ret; (void) op;
    return MISSING("sov_net_port_create_tx");
}

WEAK int
sov_repo_network_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                     sov_network *ret, sov_error *err)
{
    (void) c; (void) tenant_id; (void) id; (void) lock; (void) ret;
    return MISSING("sov_repo_network_get");
}

WEAK int
sov_repo_network_default(sov_dbconn *c, const char *tenant_id, const char *workspace,
                         sov_network *ret, bool *found, sov_error *err)
{
    (void) c; (void) tenant_id; (void) workspace; (void) ret; (void) found;
    return MISSING("sov_repo_network_default");
}

WEAK int
sov_repo_subnet_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                     const char *id_or_name, const char *field, sov_subnet *ret,
                     sov_error *err)
{
    (void) c; (void) tenant_id; (void) workspace; (void) id_or_name; (void) field; (void) ret;
    return MISSING("sov_repo_subnet_find");
}

WEAK int
sov_repo_port_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                  sov_port *ret, sov_error *err)
{
    (void) c; (void) tenant_id; (void) id; (void) lock; (void) ret;
    return MISSING("sov_repo_port_get");
}

WEAK int
sov_repo_port_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                   const char *id_or_name, const char *field, sov_port *ret, sov_error *err)
{
    (void) c; (void) tenant_id; (void) workspace; (void) id_or_name; (void) field; (void) ret;
    return MISSING("sov_repo_port_find");
}

WEAK int
sov_repo_ports_of_instance(sov_dbconn *c, const char *instance_id, sov_port **ret, size_t *n,
                           sov_error *err)
{
    (void) c; (void) instance_id; (void) ret; (void) n;
    return MISSING("sov_repo_ports_of_instance");
}

WEAK int
sov_repo_port_set_state(sov_dbconn *c, const char *id, const char *const *from,
                        const char *state, const char *reason, const char *op_id,
                        sov_error *err)
{
    (void) c; (void) id; (void) from; (void) state; (void) reason; (void) op_id;
    return MISSING("sov_repo_port_set_state");
}

WEAK int
sov_repo_port_plug(sov_dbconn *c, const char *id, const char *instance_id, int device_index,
                   sov_error *err)
{
    (void) c; (void) id; (void) instance_id; (void) device_index;
    return MISSING("sov_repo_port_plug");
}

WEAK int
sov_instance_ports(sov_ctx *ctx, const char *tenant_id, const char *instance_id,
                   sov_port **ret, size_t *n, sov_error *err)
{
    (void) ctx; (void) tenant_id; (void) instance_id; (void) ret; (void) n;
    return MISSING("sov_instance_ports");
}

WEAK int
sov_net_sg_create_tx(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                     const sov_security_group_create_args *a, bool is_default,
                     sov_security_group *ret, sov_op *op, sov_error *err)
{
    (void) c; (void) ctx; (void) tenant_id; (void) a; (void) is_default; (void) ret; (void) op;
    return MISSING("sov_net_sg_create_tx");
}

WEAK void
sov_security_group_release(sov_security_group *g)
{
    free(g->rules);
    g->rules = NULL;
    g->nrules = 0;
}

WEAK int
sov_repo_sg_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                 const char *id_or_name, const char *field, char *ret, sov_error *err)
{
    (void) c; (void) tenant_id; (void) workspace; (void) id_or_name; (void) field; (void) ret;
    return MISSING("sov_repo_sg_find");
}

WEAK int
sov_repo_sg_default(sov_dbconn *c, const char *tenant_id, const char *workspace, char *ret,
                    bool *found, sov_error *err)
{
    (void) c; (void) tenant_id; (void) workspace; (void) ret; (void) found;
    return MISSING("sov_repo_sg_default");
}

WEAK int
sov_ovn_sync_network(sov_ctx *ctx, const char *network_id, bool *ret_changed, sov_error *err)
{
    (void) ctx; (void) network_id; (void) ret_changed;
    return MISSING("sov_ovn_sync_network");
}

WEAK int
sov_ovn_sync_sg(sov_ctx *ctx, const char *sg_id, bool *ret_changed, sov_error *err)
{
    (void) ctx; (void) sg_id; (void) ret_changed;
    return MISSING("sov_ovn_sync_sg");
}

WEAK int
sov_ovn_ports_up(sov_ctx *ctx, const char *const *port_ids, size_t n, bool *all_up,
                 sov_error *err)
{
    (void) ctx; (void) port_ids; (void) n; (void) all_up;
    return MISSING("sov_ovn_ports_up");
}
