/* ovn_bed.h: what network/sync and network/migrate share to call network/ in this process
 * against the test's own OVN (tl_ovn_start): a database with sovd's migrations applied and a
 * connection of the test's own to it, the configuration pointing at that OVN, and
 * ovn-nbctl. */
#ifndef SOV_NETWORK_OVN_BED_H
#define SOV_NETWORK_OVN_BED_H

#include <libpq-fe.h>

#include "sov/config.h"
#include "sov/db.h"
#include "testlib.h"

/* A new database (tl_db_create) into *url, migrated, a pool of 4 on it into *db and a quiet
 * connection into *pg. */
void ovn_bed_db_open(char **url, sov_db **db, PGconn **pg);

/* Close pg and db, release cfg, drop the database and free url. */
void ovn_bed_close(char *url, sov_db *db, PGconn *pg, sov_config *cfg);

/* cfg as sovd loads it with --ovn-nb and --ovn-sb of ovn, or both empty (no OVN) when ovn is
 * NULL. */
void ovn_bed_config(sov_config *cfg, const tl_ovn *ovn);

/* ovn-nbctl on ovn's Northbound with the arguments fmt makes: its output (malloc). */
char *ovn_bed_nbctl(const tl_ovn *ovn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The logical switch port's options:key in ovn's Northbound, "" when it has none (malloc). */
char *ovn_bed_option(const tl_ovn *ovn, const char *port, const char *key);

/* The port's options:key is want. */
void ovn_bed_assert_option(const tl_ovn *ovn, const char *port, const char *key,
                           const char *want);

#endif
