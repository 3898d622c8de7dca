/* secgroups.c: part sec: security groups and rules (services) (stub of the contract commit). */
#include "network_int.h"
