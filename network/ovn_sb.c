/* ovn_sb.c: part ovn: Southbound port bindings (sov_ovn_ports_up) (stub of the contract commit). */
#include "network_int.h"
