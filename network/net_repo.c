/* net_repo.c: part net: SQL of networks, subnets, ports, IPAM allocation (stub of the contract commit). */
#include "network_int.h"
