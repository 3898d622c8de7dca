/* netsec.c: stub of the contract commit (issue 14). */
#include "ctl.h"
