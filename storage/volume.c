/* volume.c: (being written) */
#include "storage_int.h"
