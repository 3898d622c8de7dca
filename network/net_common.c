/* net_common.c: part net: sov_net_check_enabled, sov_net_region, sov_network_enabled (stub of the contract commit). */
#include "network_int.h"
