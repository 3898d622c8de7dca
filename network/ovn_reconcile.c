/* ovn_reconcile.c: the reconciler's pass over OVN ("network"). Every live scope (network,
 * security group, router) is synced as its operation would: a sync that had to change OVN
 * found drift, which is repaired, logged with what changed and audited
 * (network.reconcile). Then every scope whose rows NB holds under this deployment's sov:cp
 * but that PostgreSQL no longer has live (a resource gone, a pool no live router uses, a tag
 * we do not know) has its rows removed, audited too. Rows without our sov:cp (another
 * deployment's, an operator's own) are never read for removal, so never touched. Last, the
 * Southbound bindings of plugged ports refresh ports.up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ovsdb.h"
#include "sov/audit.h"
#include "sov/log.h"
#include "network_int.h"

typedef char sov_id_buf[SOV_UUID_LEN + 1];

static const char *const kinds[] = { "network", "sg", "router", "pool" };
static const char *const audit_types[] = { "network", "security_group", "router",
                                           "public_ip_pool" };

typedef struct pass {
    sov_ctx *ctx;
    unsigned repairs;
    sov_id_buf *live[4];
    size_t nlive[4];
} pass;

static void
repaired(pass *p, const char *scope, size_t kind, const char *id)
{
    sov_error err = SOV_ERROR_INIT;

    p->repairs++;
    sov_log_warn("reconciler: OVN drifted from the database for %s: repaired", scope);
    if (sov_audit_append_alone(p->ctx, NULL, kind < 4 ? audit_types[kind] : "ovn_scope", id,
                               SOV_OUTCOME_OK, &err) < 0)
        sov_log_warn("reconciler: could not audit the repair of %s: %s", scope, err.msg);
}

static bool
is_live(const pass *p, size_t kind, const char *id)
{
    for (size_t i = 0; i < p->nlive[kind]; i++)
        if (strcmp(p->live[kind][i], id) == 0)
            return true;
    return false;
}

/* The scopes NB holds rows of for cp: a JSON object used as a set (new reference). */
static int
nb_scopes(sov_ctx *ctx, const char *cp, json_t **ret, sov_error *err)
{
    static const char *const tables[] = {
        "Logical_Switch", "Logical_Switch_Port", "DHCP_Options", "Port_Group", "ACL",
        "Logical_Router", "Logical_Router_Port", "Gateway_Chassis", "NAT",
        "Logical_Router_Static_Route",
    };
    sov_autoptr(sov_ovsdb) nb = NULL;
    sov_autoptr(json_t) res = NULL;
    json_t *ops = json_array(), *set = json_object();
    const char *kv[] = { "sov:cp", cp, NULL };

    if (sov_ovsdb_connect(ctx->cfg->ovn_nb, SOV_OVSDB_DEFAULT_TIMEOUT_MS, &nb, err) < 0) {
        json_decref(ops);
        json_decref(set);
        err->code = SOV_E_UNAVAILABLE;
        return -1;
    }
    for (size_t t = 0; t < SOV_N_ELEMENTS(tables); t++)
        json_array_append_new(ops, sov_ovsdb_op_select(
            tables[t], json_pack("[o]", sov_ovsdb_cond("external_ids", "includes",
                                                       sov_ovsdb_map_strings(kv))),
            json_pack("[s]", "external_ids")));
    if (sov_ovsdb_transact(nb, "OVN_Northbound", ops, &res, err) < 0) {
        json_decref(set);
        return -1;
    }
    for (size_t t = 0; t < SOV_N_ELEMENTS(tables); t++) {
        json_t *rows = sov_ovsdb_result_rows(res, t), *row;
        size_t i;

        json_array_foreach(rows, i, row) {
            json_t *pairs = json_array_get(json_object_get(row, "external_ids"), 1), *pair;
            size_t j;

            json_array_foreach(pairs, j, pair)
                if (strcmp(json_string_value(json_array_get(pair, 0)), "sov:scope") == 0)
                    json_object_set_new(set, json_string_value(json_array_get(pair, 1)),
                                        json_true());
        }
    }
    *ret = set;
    return 0;
}

/* Sync one scope; count and audit a change. */
static void
sync_one(pass *p, size_t kind, const char *id)
{
    sov_error err = SOV_ERROR_INIT;
    char scope[80];
    bool changed = false;

    snprintf(scope, sizeof(scope), "%s:%s", kinds[kind], id);
    if (sov_ovn_sync_scope(p->ctx, scope, &changed, &err) < 0) {
        sov_log_warn("reconciler: could not sync %s into OVN: %s%s%s", scope, err.msg,
                     err.detail[0] ? ": " : "", err.detail);
        return;
    }
    if (changed)
        repaired(p, scope, kind, id);
}

/* Ports plugged into instances: their Southbound binding into ports.up. */
static void
refresh_up(pass *p)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    sov_id_buf *ids = NULL;
    size_t n = 0;
    const char **list;
    bool all_up;

    if (!p->ctx->cfg->ovn_sb || !p->ctx->cfg->ovn_sb[0])
        return;
    if (sov_db_acquire(p->ctx->db, &c, &err) < 0 ||
        sov_ovn_repo_plugged_ports(c, &ids, &n, &err) < 0) {
        sov_log_warn("reconciler: could not list plugged ports: %s", err.msg);
        return;
    }
    sov_db_release(SOV_TAKE_PTR(c));
    list = calloc(n + 1, sizeof(*list));
    for (size_t i = 0; list && i < n; i++)
        list[i] = ids[i];
    if (list && n > 0 && sov_ovn_ports_up(p->ctx, list, n, &all_up, &err) < 0)
        sov_log_warn("reconciler: could not read port bindings: %s", err.msg);
    free(list);
    free(ids);
}

int
sov_ovn_reconcile(sov_ctx *ctx, unsigned *ret_repairs, sov_error *err)
{
    pass p = { .ctx = ctx };
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(json_t) scopes = NULL;
    char cp[SOV_UUID_LEN + 1];
    const char *scope;
    json_t *v;
    int rc = -1;

    *ret_repairs = 0;
    if (!ctx->cfg->ovn_nb || !ctx->cfg->ovn_nb[0])
        return 0;
    /* What the syncs' own audit entries (rows that reached deleted) are recorded as. */
    ctx->action = "network.reconcile";
    if (sov_db_acquire(ctx->db, &c, err) < 0 || sov_ovn_repo_cp(c, cp, err) < 0)
        return -1;
    for (size_t k = 0; k < 4; k++)
        if (sov_ovn_repo_live(c, kinds[k], &p.live[k], &p.nlive[k], err) < 0)
            goto out;
    sov_db_release(SOV_TAKE_PTR(c));
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < p.nlive[k]; i++)
            sync_one(&p, k, p.live[k][i]);
    if (nb_scopes(ctx, cp, &scopes, err) < 0)
        goto out;
    json_object_foreach(scopes, scope, v) {
        const char *colon = strchr(scope, ':');
        size_t kind = 4;

        if (strcmp(scope, "cp") == 0)
            continue;
        for (size_t k = 0; colon && k < 4; k++)
            if (strlen(kinds[k]) == (size_t) (colon - scope) &&
                strncmp(scope, kinds[k], (size_t) (colon - scope)) == 0)
                kind = k;
        if (kind < 4 && is_live(&p, kind, colon + 1))
            continue;
        {
            sov_error e = SOV_ERROR_INIT;
            bool changed = false;

            if (sov_ovn_sync_scope(ctx, scope, &changed, &e) < 0) {
                sov_log_warn("reconciler: could not remove %s from OVN: %s", scope, e.msg);
                continue;
            }
            if (changed)
                repaired(&p, scope, kind, colon ? colon + 1 : scope);
        }
    }
    refresh_up(&p);
    *ret_repairs = p.repairs;
    rc = 0;
out:
    for (size_t k = 0; k < 4; k++)
        free(p.live[k]);
    return rc;
}
