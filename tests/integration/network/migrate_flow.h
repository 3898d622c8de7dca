/* migrate_flow.h: network/migrate's end-to-end case (migrate_flow.c), a test case of its own
 * with its fixture (a sovd, an OVN and two test-driver hosts), for migrate_test.c's suite. */
#ifndef SOV_NETWORK_MIGRATE_FLOW_H
#define SOV_NETWORK_MIGRATE_FLOW_H

#include <check.h>

TCase *migrate_flow_tcase(void);

#endif
