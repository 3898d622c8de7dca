/* volume_type.c: (being written) */
#include "storage_int.h"
