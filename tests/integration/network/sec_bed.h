/* sec_bed.h: the test bed of the suites of part "sec" (network/secgroups,
 * network/public-ips) and of SECA's network provider (api/seca-network, api/seca-netsec):
 * per test a fresh database and a real OVN central part (tl_ovn_start, no chassis); sovd
 * started on them (ovn_nb its Northbound; api and worker roles, so the operations run; hosts
 * checked every second) with the bootstrap operator, tenants acme and globex, and EU region
 * REGION. */
#ifndef SOV_SEC_BED_H
#define SOV_SEC_BED_H

#include "testlib.h"

#define REGION "fr-sec-1"

extern char *db;
extern tl_sovd sovd;
extern tl_ovn ovn;
extern char *op;                /* the bootstrap operator's token */
extern tl_tenant acme, globex;

void bed_setup(void);
void bed_teardown(void);
/* A host of libvirt's test driver (4 vCPUs, 8 GiB) called name in zone a of REGION, its
 * driver's file in a folder of the bed's own (removed by bed_teardown). */
void bed_host(const char *name);

/* A request that fails with status and type, naming field in errors[0] when not NULL and
 * with says in its body when not NULL. */
void bed_refused(const char *method, const char *path, const char *token, const char *body,
                 long status, const char *type, const char *field, const char *says);
/* What tenant t uses of quota what, and setting its limit (operator). */
long long bed_quota_used(const tl_tenant *t, const char *what);
void bed_quota_set(const tl_tenant *t, const char *what, long long max);
/* A POST answering 202: the member `member` of its body (a new reference); the operation's
 * id into op_id (at least 40 bytes) unless NULL. */
json_t *bed_accepted(const char *path, const char *token, const char *body,
                     const char *member, char *op_id);

/* Wait (at most 30 s) for operation op_id to succeed. */
void bed_op_ok(const char *op_id);
/* The state of row id of table (tables of part "sec"): "" when none. */
char *bed_state(const char *table, const char *id);
/* ovn-nbctl ARGS against the bed's Northbound: its output (malloc). */
char *bed_nb(const char *args);

/* Rows of part "net", written straight into the database (this part reads them, part "net"
 * makes them): network name of tenant t in region (its id into id), a subnet 10.0.0.0/24 of
 * it, and a port of that subnet at ip (its id into port_id). */
void bed_network(const tl_tenant *t, const char *name, const char *region, char *id);
void bed_port(const tl_tenant *t, const char *network_id, const char *name, const char *ip,
              char *port_id);

#endif
