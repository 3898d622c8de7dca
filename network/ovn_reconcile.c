/* ovn_reconcile.c: part ovn: the reconciler's pass over OVN (stub of the contract commit). */
#include "network_int.h"
