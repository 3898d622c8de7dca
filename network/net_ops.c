/* net_ops.c: part ovn: operation workers (sov_net_sync_op, sov_net_op_failed) (stub of the contract commit). */
#include "network_int.h"
