/* volume_ops.c: (being written) */
#include "storage_int.h"
