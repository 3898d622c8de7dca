/* volume_source.c: (being written) */
#include "storage_int.h"
