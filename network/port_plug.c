/* port_plug.c: a port's hot plug into an instance and out of it (part "plug"): the workers
 * of "port.attach" and "port.detach" (sov_port_action queued them, the port attaching or
 * detaching, its instance recorded).
 *
 *   attach: the port's network synced (its logical port's requested-chassis becomes the
 *           instance's host), the NIC (sov_domain_nic_xml, as the domain's definition would
 *           hold it) attached to the domain when there is one, in its definition and live
 *           when it runs, then its binding up when it runs; in-use.
 *   detach: the NIC detached from the domain (definition and live), the port unplugged, its
 *           network synced (requested-chassis gone); available.
 * Each step is idempotent (a NIC already there, or already gone, is fine), so a worker that
 * runs again after a crash finishes the job. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "network_int.h"
#include "sov/log.h"

#define NIC_MTU 1442u
#define PORT_UP_POLL_MS 100

typedef struct job {
    sov_op_run *run;
    sov_ctx *ctx;
    sov_port port;
    sov_hv *hv;                 /* the instance's host, when it has a domain there */
} job;

static void
job_release(job *j)
{
    sov_hv_close(j->hv);
}

#define job_auto SOV_CLEANUP(job_release) job

static int
load(sov_op_run *run, const sov_op *op, job *j, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    memset(j, 0, sizeof(*j));
    j->run = run;
    j->ctx = sov_op_ctx(run);
    if (sov_db_acquire(j->ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_port_get(c, op->tenant_id, op->resource_id, false, &j->port, err);
}

/* The instance's host, connected; *ret_none true when the instance has no host yet (its
 * create's worker will build the domain with the port in it). */
static int
connect_host(job *j, bool *ret_none, sov_error *err)
{
    sov_autoptr(sov_instance) inst = sov_instance_new();
    sov_host host;

    *ret_none = true;
    if (!inst)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (sov_instance_get(j->ctx, NULL, j->port.instance_id, inst, err) < 0) {
        if (err->code != SOV_E_NOT_FOUND)
            return -1;
        sov_error_clear(err);
        return 0;
    }
    if (!inst->host_id[0])
        return 0;
    if (sov_host_get(j->ctx, inst->host_id, &host, err) < 0)
        return -1;
    /* A host that does not answer may come back: the queue retries. */
    if (sov_hv_open(host.libvirt_uri, &j->hv, err) < 0) {
        err->code = SOV_E_UNAVAILABLE;
        snprintf(err->msg, sizeof(err->msg), "could not connect to host '%s'", host.name);
        return -1;
    }
    *ret_none = false;
    return 0;
}

static int
set_state(job *j, const char *from_state, const char *state, sov_error *err)
{
    const char *const from[] = { from_state, NULL };
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(j->ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_port_set_state(c, j->port.id, from, state, "", NULL, err);
}

/* The state moved on under the job (a reconcile or a delete settled it): nothing to do. */
static int
moved_on(sov_error *err)
{
    if (err->code != SOV_E_CONFLICT)
        return -1;
    sov_error_clear(err);
    return 0;
}

/* The port bound on the host: up, or SOV_OP_LATER after ovn_port_up_timeout_s. */
static int
wait_up(job *j, sov_error *err)
{
    const char *ids[] = { j->port.id };
    double deadline = sov_net_now_ms() + 1000.0 * j->ctx->cfg->ovn_port_up_timeout_s;
    bool up = false;

    for (;;) {
        if (sov_ovn_ports_up(j->ctx, ids, 1, &up, err) < 0)
            return -1;
        if (up)
            return 0;
        if (sov_net_now_ms() >= deadline)
            break;
        nanosleep(&(struct timespec) { 0, PORT_UP_POLL_MS * 1000000L }, NULL);
    }
    sov_error_set(err, SOV_E_UNAVAILABLE, "port '%s' is not up in OVN yet", j->port.name);
    return SOV_OP_LATER;
}

int
sov_net_port_attach_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    job_auto j;
    bool none = true;
    sov_domain_state st = SOV_DOMAIN_NONE;
    sov_autofree char *xml = NULL;
    int rc;

    if (load(run, op, &j, err) < 0)
        return -1;
    /* Any sync of the network moves an attaching port on to in-use (ovn_repo.c), maybe
     * before this worker plugged it in, or between a failed try and this one: in-use with
     * its instance still gets its NIC (each step is idempotent). */
    if ((strcmp(j.port.state, "attaching") != 0 && strcmp(j.port.state, "in-use") != 0) ||
        !j.port.instance_id[0])
        return 0;
    if (sov_op_step(run, "syncing the port's network", 20, err) < 0 ||
        sov_ovn_sync_network(j.ctx, j.port.network_id, NULL, err) < 0)
        return -1;
    if (sov_op_step(run, "connecting to the instance's host", 40, err) < 0 ||
        connect_host(&j, &none, err) < 0)
        return -1;
    if (!none && sov_hv_state(j.hv, j.port.instance_id, &st, err) < 0)
        return -1;
    if (st != SOV_DOMAIN_NONE) {
        const sov_domain_nic nic = {
            .kind = SOV_NIC_OVS, .interface_id = j.port.id, .mac = j.port.mac,
            .mtu = NIC_MTU };

        if (sov_op_step(run, "plugging the NIC in", 60, err) < 0 ||
            sov_domain_nic_xml(&nic, &xml, err) < 0 ||
            sov_hv_nic_attach(j.hv, j.port.instance_id, xml, err) < 0)
            return -1;
    }
    if (st == SOV_DOMAIN_RUNNING) {
        if (sov_op_step(run, "waiting for the port to be up", 80, err) < 0)
            return -1;
        if ((rc = wait_up(&j, err)) != 0)
            return rc;
    }
    if (set_state(&j, "attaching", "in-use", err) < 0)
        return moved_on(err);
    return 0;
}

int
sov_net_port_detach_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    job_auto j;
    bool none = true;

    if (load(run, op, &j, err) < 0)
        return -1;
    if (strcmp(j.port.state, "detaching") != 0)
        return 0;
    if (j.port.instance_id[0]) {
        sov_domain_state st = SOV_DOMAIN_NONE;

        if (sov_op_step(run, "connecting to the instance's host", 20, err) < 0 ||
            connect_host(&j, &none, err) < 0)
            return -1;
        if (!none && sov_hv_state(j.hv, j.port.instance_id, &st, err) < 0)
            return -1;
        if (st != SOV_DOMAIN_NONE &&
            (sov_op_step(run, "unplugging the NIC", 40, err) < 0 ||
             sov_hv_nic_detach(j.hv, j.port.instance_id, j.port.mac, err) < 0))
            return -1;
        {
            sov_autoptr(sov_dbconn) c = NULL;
            if (sov_db_acquire(j.ctx->db, &c, err) < 0 ||
                sov_repo_port_plug(c, j.port.id, NULL, -1, err) < 0)
                return -1;
        }
    }
    if (sov_op_step(run, "syncing the port's network", 70, err) < 0 ||
        sov_ovn_sync_network(j.ctx, j.port.network_id, NULL, err) < 0)
        return -1;
    if (set_state(&j, "detaching", "available", err) < 0)
        return moved_on(err);
    return 0;
}
