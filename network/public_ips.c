/* public_ips.c: part sec: public IP pools and public IPs (services) (stub of the contract commit). */
#include "network_int.h"
