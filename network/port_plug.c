/* port_plug.c: part plug: port attach/detach workers (stub of the contract commit). */
#include "network_int.h"
