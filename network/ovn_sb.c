/* ovn_sb.c: the Southbound's word on ports: a port is up once ovn-controller bound it on a
 * chassis (Port_Binding by logical_port: up, chassis -> Chassis.name), recorded in
 * ports.up and ports.chassis. Without ovn_sb configured, ports are taken as up: nothing can
 * say otherwise, and an instance create must not wait for what it cannot see. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ovsdb.h"
#include "network_int.h"

#define SB_DB "OVN_Southbound"

typedef struct binding {
    bool up;
    char chassis[64];
} binding;

/* The bindings of n ports, one select each, and the names of their chassis. */
static int
read_bindings(sov_ovsdb *sb, const char *const *ids, size_t n, binding *out, sov_error *err)
{
    sov_autoptr(json_t) res = NULL;
    sov_autoptr(json_t) cres = NULL;
    json_t *ops = json_array(), *cops = json_array();
    size_t *which = calloc(n + 1, sizeof(*which)), nc = 0;
    int rc = -1;

    for (size_t i = 0; i < n; i++)
        json_array_append_new(ops, sov_ovsdb_op_select(
            "Port_Binding", json_pack("[o]", sov_ovsdb_cond("logical_port", "==",
                                                            json_string(ids[i]))),
            json_pack("[s, s]", "up", "chassis")));
    if (sov_ovsdb_transact(sb, SB_DB, ops, &res, err) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_array_get(sov_ovsdb_result_rows(res, i), 0);
        json_t *up = json_object_get(row, "up"), *ch = json_object_get(row, "chassis");
        const char *tag = json_string_value(json_array_get(ch, 0));

        memset(&out[i], 0, sizeof(out[i]));
        out[i].up = json_is_true(up);
        if (tag && strcmp(tag, "uuid") == 0) {
            json_array_append_new(cops, sov_ovsdb_op_select(
                "Chassis", json_pack("[o]", sov_ovsdb_cond("_uuid", "==",
                                                           json_deep_copy(ch))),
                json_pack("[s]", "name")));
            which[nc++] = i;
        } else {
            out[i].up = false;  /* bound nowhere: not up, whatever the column says */
        }
    }
    if (nc > 0) {
        if (sov_ovsdb_transact(sb, SB_DB, SOV_TAKE_PTR(cops), &cres, err) < 0)
            goto out;
        for (size_t k = 0; k < nc; k++) {
            json_t *row = json_array_get(sov_ovsdb_result_rows(cres, k), 0);
            const char *name = json_string_value(json_object_get(row, "name"));

            snprintf(out[which[k]].chassis, sizeof(out[which[k]].chassis), "%s",
                     name ? name : "");
        }
    }
    rc = 0;
out:
    json_decref(cops);
    free(which);
    return rc;
}

int
sov_ovn_ports_up(sov_ctx *ctx, const char *const *port_ids, size_t n, bool *all_up,
                 sov_error *err)
{
    sov_autoptr(sov_ovsdb) sb = NULL;
    sov_autoptr(sov_dbconn) c = NULL;
    binding *b;
    bool all = true;

    if (!ctx->cfg->ovn_sb || !ctx->cfg->ovn_sb[0] || n == 0) {
        *all_up = true;
        return 0;
    }
    if (sov_ovsdb_connect(ctx->cfg->ovn_sb, SOV_OVSDB_DEFAULT_TIMEOUT_MS, &sb, err) < 0) {
        err->code = SOV_E_UNAVAILABLE;
        return -1;
    }
    b = calloc(n, sizeof(*b));
    if (!b)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (read_bindings(sb, port_ids, n, b, err) < 0 || sov_db_acquire(ctx->db, &c, err) < 0) {
        free(b);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        all = all && b[i].up;
        if (sov_ovn_repo_port_up(c, port_ids[i], b[i].up, b[i].chassis, err) < 0) {
            free(b);
            return -1;
        }
    }
    free(b);
    *all_up = all;
    return 0;
}
