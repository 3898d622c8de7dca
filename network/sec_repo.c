/* sec_repo.c: part sec: SQL of security groups, rules, routers, pools, public IPs (stub of the contract commit). */
#include "network_int.h"
