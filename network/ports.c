/* ports.c: part net: ports (services), sov_instance_ports (stub of the contract commit). */
#include "network_int.h"
