/* instance_nics.c: part plug: the instance hook, the domain contributor (sov_net_instance_hook, sov_net_nics_contrib) (stub of the contract commit). */
#include "network_int.h"
