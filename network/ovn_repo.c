/* ovn_repo.c: part ovn: SQL the syncs read (desired state of a scope) and the state moves after a sync (stub of the contract commit). */
#include "network_int.h"
