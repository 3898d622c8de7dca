/* volume_keys.c: (being written) */
#include "storage_int.h"
