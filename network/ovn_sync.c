/* ovn_sync.c: part ovn: the scope syncs (sov_ovn_sync_*), NB transactions (stub of the contract commit). */
#include "network_int.h"
