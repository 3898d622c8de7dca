/* keystore_repo.c: (being written) */
#include "storage_int.h"
