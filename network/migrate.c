/* migrate.c: network/'s part of a migration: an instance's ports follow it to the target's
 * chassis, and during a live migration are bound on both.
 *
 * The database is the intent, as everywhere in network/: a plugged port's logical switch
 * port gets requested-chassis from what ovn_repo.c reads, which is its instance's host's
 * chassis, or while the instance migrates live (its instance_migrations row queued to
 * committing, the instance still on the source) "<source>,<target>" with
 * options:activation-strategy=rarp (OVN's multi-chassis binding, 23.03): the target's binding
 * activates when the guest announces itself there after the switch, so it keeps its
 * addresses with the least loss. The chassis names are the hosts' libvirt host UUIDs (the
 * fleet's and scripts/host-setup's ovn-controller system-id). This hook only brings OVN to
 * that intent at the moments it changes, synchronously, by syncing the network scope of
 * each of the instance's ports (ovn_sync.c); the reconciler's syncs read the same rows and
 * write the same thing, so nothing fights:
 *   PREPARE (live)  the migration is under way: "source,target";
 *   FINISH          the move committed (the instance's host is the target): the target's
 *                   alone, activation-strategy gone; a cold migration needs only this;
 *   ABORT (live)    the migration failed: the source's alone again (once compute has marked
 *                   the migration failed; until then, and if this sync fails, the
 *                   reconciler's next pass writes it).
 * Each is a sync: running it twice is harmless. Without OVN, or for an instance on the NAT
 * network, there is nothing to do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network_int.h"

/* Sync the network scope of each of the instance's ports, once per network. */
static int
sync_networks(sov_ctx *ctx, const sov_instance *inst, sov_error *err)
{
    sov_autofree sov_port *ports = NULL;
    size_t n = 0;

    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_ports_of_instance(c, inst->id, &ports, &n, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        bool first = true;

        for (size_t k = 0; k < i && first; k++)
            first = strcmp(ports[k].network_id, ports[i].network_id) != 0;
        if (first && sov_ovn_sync_network(ctx, ports[i].network_id, NULL, err) < 0)
            return -1;
    }
    return 0;
}

int
sov_net_migrate(sov_dbconn *c, sov_ctx *ctx, sov_migrate_phase phase,
                const sov_instance_move *m, sov_error *err)
{
    (void) c;
    if (!sov_network_enabled(ctx->cfg) || m->inst->nat_nic)
        return 0;
    switch (phase) {
    case SOV_MIGRATE_PREPARE:
    case SOV_MIGRATE_ABORT:
        return m->live ? sync_networks(ctx, m->inst, err) : 0;
    case SOV_MIGRATE_FINISH:
        return sync_networks(ctx, m->inst, err);
    case SOV_MIGRATE_COPY:
    case SOV_MIGRATE_COMMIT:
        break;
    }
    return 0;
}
