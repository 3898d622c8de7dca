/* subnets.c: part net: subnets (services) (stub of the contract commit). */
#include "network_int.h"
