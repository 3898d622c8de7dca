/* register.c: network/'s one registration (include/sov/network.h). Part "ovn" fills it: the
 * operation kinds, the quota uses, the domain contributor, the instance hook and the
 * reconciler's pass. Until then it registers nothing. */
#include "network_int.h"

int
sov_network_register(sov_error *err)
{
    (void) err;
    return 0;
}
