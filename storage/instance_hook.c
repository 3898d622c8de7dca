/* instance_hook.c: (being written) */
#include "storage_int.h"
