/* network.c: network/'s services that other modules call (include/sov/network.h). */
#include <stdbool.h>

#include "ovsdb.h"
#include "sov/network.h"

#define OVN_NB_DB "OVN_Northbound"

int
sov_network_ready(const sov_config *cfg, sov_ovn_state *ret, sov_error *err)
{
    sov_autoptr(sov_ovsdb) c = NULL;
    sov_error e = SOV_ERROR_INIT;
    bool found = false;

    if (!cfg->ovn_nb || !cfg->ovn_nb[0]) {
        *ret = SOV_OVN_NOT_CONFIGURED;
        return 0;
    }
    /* A fresh connection per probe: the probe runs on any HTTP thread, and a connection
     * is one caller's (ovsdb.h). */
    if (sov_ovsdb_connect(cfg->ovn_nb, SOV_NETWORK_READY_TIMEOUT_MS, &c, &e) < 0 ||
        sov_ovsdb_has_db(c, OVN_NB_DB, &found, &e) < 0) {
        sov_error_set(err, SOV_E_UNAVAILABLE, "ovn northbound database unreachable");
        return sov_error_detail(err, "%s: %s%s%s", cfg->ovn_nb, e.msg,
                                e.detail[0] ? ": " : "", e.detail);
    }
    if (!found) {
        sov_error_set(err, SOV_E_UNAVAILABLE, "ovn northbound database unreachable");
        return sov_error_detail(err, "%s serves no %s database", cfg->ovn_nb, OVN_NB_DB);
    }
    *ret = SOV_OVN_REACHABLE;
    return 0;
}

const char *
sov_ovn_state_name(sov_ovn_state state)
{
    return state == SOV_OVN_REACHABLE ? "reachable" : "not configured";
}
