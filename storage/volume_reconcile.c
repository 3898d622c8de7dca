/* volume_reconcile.c: (being written) */
#include "storage_int.h"
