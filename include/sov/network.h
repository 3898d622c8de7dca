/* network.h: what other modules use of network/ (tenant networks on OVN).
 *
 * For now OVN's reachability, which /readyz reports; the networks, subnets and ports come
 * with the networks API. network/ talks to OVN's Northbound database through its own OVSDB
 * client (network/ovsdb.h), which nothing outside network/ sees. */
#ifndef SOV_NETWORK_H
#define SOV_NETWORK_H

#include "sov/config.h"
#include "sov/error.h"

/* How long the readiness probe waits for the Northbound database. */
#define SOV_NETWORK_READY_TIMEOUT_MS 1000u

typedef enum sov_ovn_state {
    SOV_OVN_NOT_CONFIGURED,     /* cfg->ovn_nb is empty: no tenant networks, still ready */
    SOV_OVN_REACHABLE,          /* the Northbound database answered */
} sov_ovn_state;

/* Ask the Northbound database at cfg->ovn_nb whether it is there (list_dbs, within
 * SOV_NETWORK_READY_TIMEOUT_MS). 0 with *ret when it answered with OVN_Northbound or
 * when ovn_nb is not configured; -1 with SOV_E_UNAVAILABLE naming OVN when it did not
 * (no server, no answer in time, or no OVN_Northbound there). Safe from any thread: each
 * call opens its own connection. */
int sov_network_ready(const sov_config *cfg, sov_ovn_state *ret, sov_error *err);

/* "not configured", "reachable": what /readyz shows. */
const char *sov_ovn_state_name(sov_ovn_state state);

#endif
