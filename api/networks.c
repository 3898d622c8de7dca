/* networks.c: stub of the contract commit (issue 14). */
#include "internal.h"
