/* networks.c: part net: networks (services) (stub of the contract commit). */
#include "network_int.h"
