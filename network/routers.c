/* routers.c: part sec: routers / internet gateways (services) (stub of the contract commit). */
#include "network_int.h"
