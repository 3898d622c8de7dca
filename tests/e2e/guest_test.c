/* A real guest through the API, on the machine's own libvirtd (qemu:///system): sovd adds
 * the host (KVM or TCG, as scripts/test detected), imports the tiny guest image from a
 * file:// URL, and creates an instance of it. The instance counts as booted when its serial
 * console, read through GET /v1/instances/{id}/console, shows userspace and a DHCP lease
 * from the instance's NAT network; the reconciler then reports the leased address. The test
 * stops it (gracefully: the guest powers off on the ACPI button), starts it, reboots it and
 * deletes it, and checks that nothing is left on the host (domain, disk, seed, console log)
 * and that the host's capacity and the tenant's quota are all given back. The console log
 * keeps every boot (append='on'), and a stopped instance lists no address.
 *
 * Case "acpi" (CK_RUN_CASE=acpi runs it alone, with no guest image to build): an instance of
 * a blank disk, whose firmware never answers the ACPI button, has its waiting stop
 * superseded by a hard_stop and by a delete.
 *
 * Every libvirt object has a name of this run (pool sovtest-<pid>-<rand>, network
 * sovt<pid>, domain sov-<instance id>) and is removed when the test process exits, however
 * it exits: the system libvirtd is shared with other runs. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "guest_bed.h"
#include "testlib.h"

#define URI "qemu:///system"
#define REGION "fr-e2e-1"
#define OP_WAIT_S 120           /* an operation on a real host, TCG on a busy machine */
#define CONSOLE_WAIT_S 120      /* a marker on the console: 8-25 s under TCG */
#define ADDRESS_WAIT_S 60       /* the reconciler runs every 2 s */
#define CONSOLE_READER_MAX 8192

static tl_bed bed;             /* sovd, tenant acme, the pool, network and domain */

/* ---- fixture ---- */

static void
setup(void)
{
    tl_bed_init(&bed, URI, "sovt");
}

static void
teardown(void)
{
    tl_bed_release(&bed);
}

/* ---- the API ---- */

static void
wait_op_ok(const char *id)
{
    tl_op_wait_ok(&bed.sovd, bed.tenant.token[TL_READER], id, OP_WAIT_S);
}

static json_t *
get_instance(const char *id)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    return tl_call_ok(&bed.sovd, "GET", path, bed.tenant.token[TL_READER], NULL, 200);
}

static void
assert_instance_state(const char *id, const char *want)
{
    json_t *x = get_instance(id);

    ck_assert_msg(strcmp(tl_str(x, "state"), want) == 0, "instance %s is %s, not %s: %s", id,
                  tl_str(x, "state"), want, json_dumps(x, 0));
    json_decref(x);
}

/* POST an action as acme's member; its operation's id, and the seconds the 202 took. */
static double
act_async(const char *id, const char *action, char op_id[40])
{
    char path[128], body[64];
    double t0 = tl_now();
    json_t *r;

    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    snprintf(body, sizeof(body), "{\"action\":\"%s\"}", action);
    r = tl_call_ok(&bed.sovd, "POST", path, bed.tenant.token[TL_MEMBER], body, 202);
    snprintf(op_id, 40, "%s", tl_str(json_object_get(r, "operation"), "id"));
    json_decref(r);
    return tl_now() - t0;
}

/* POST /v1/instances/{id}/actions and wait for its operation; returns the seconds it took. */
static double
act(const char *id, const char *action, const char *want_state)
{
    char op_id[40];
    double t0 = tl_now();

    act_async(id, action, op_id);
    wait_op_ok(op_id);
    assert_instance_state(id, want_state);
    return tl_now() - t0;
}

/* The console of an instance through the API; skip: how many TL_GUEST_UP lines of it to
 * leave out, so a wait finds the next boot's marker, not an earlier one. */
typedef struct console {
    const char *id;
    unsigned skip;
} console;

static unsigned
count_of(const char *text, const char *marker)
{
    unsigned n = 0;

    for (const char *p = text; p && (p = strstr(p, marker)); p += strlen(marker))
        n++;
    return n;
}

static char *
console_read(void *arg)
{
    const console *c = arg;
    char path[128];
    const char *from;
    char *text;
    tl_resp r;

    snprintf(path, sizeof(path), "/v1/instances/%s/console", c->id);
    tl_call(&bed.sovd, "GET", path, bed.tenant.token[TL_READER], NULL, &r);
    if (r.status != 200) {
        tl_resp_free(&r);
        return NULL;
    }
    from = r.body;
    for (unsigned i = 0; i < c->skip && from; i++) {
        from = strstr(from, TL_GUEST_UP);
        if (from)
            from += strlen(TL_GUEST_UP);
    }
    text = strdup(from ? from : "");
    tl_resp_free(&r);
    return text;
}

/* ---- the test ---- */

/* Import file as image name (file://, allowed in this sovd), and wait until it is active. */
static void
import_image(const char *name, const char *file)
{
    char body[1024];
    json_t *j;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"" REGION "\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", name, file);
    j = tl_call_ok(&bed.sovd, "POST", "/v1/images", bed.tenant.token[TL_MEMBER], body, 202);
    wait_op_ok(tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
}

START_TEST(a_real_guest_boots_gets_an_address_stops_starts_reboots_and_leaves_nothing)
{
    const char *virt = tl_env("SOV_TEST_VIRT_TYPE");
    char pool_path[600], path[256], id[40];
    double t0, t_running, t_up, t_dhcp, t_addr, t_stop, t_start, t_restart_up, t_reboot,
        t_reboot_up, t_delete;
    char *addr, *up, *text, *out;
    json_t *j, *h, *x, *q;
    int rc;

    tl_bed_start_world(&bed, REGION, 20);
    snprintf(pool_path, sizeof(pool_path), "%s/pool", bed.tmp);

    /* The machine's libvirtd, as scripts/test found it: KVM only where it really works. */
    h = tl_host_add(&bed.sovd, bed.op,
                    "{\"name\":\"local\",\"region\":\"" REGION "\",\"zone\":\"a\","
                    "\"libvirt_uri\":\"" URI "\"}");
    ck_assert_str_eq(tl_str(h, "state"), "up");
    ck_assert_msg(strcmp(tl_str(h, "hypervisor"), virt) == 0,
                  "sovd found hypervisor '%s' (%s), scripts/test detected '%s'",
                  tl_str(h, "hypervisor"),
                  json_string_value(json_object_get(h, "hypervisor_reason"))
                      ? json_string_value(json_object_get(h, "hypervisor_reason")) : "",
                  virt);
    if (strcmp(virt, "qemu") == 0)
        ck_assert_msg(json_string_value(json_object_get(h, "hypervisor_reason")) &&
                      *json_string_value(json_object_get(h, "hypervisor_reason")),
                      "TCG without a reason: %s", json_dumps(h, 0));
    printf("host: hypervisor %s%s%s\n", tl_str(h, "hypervisor"),
           json_string_value(json_object_get(h, "hypervisor_reason")) ? " because " : "",
           json_string_value(json_object_get(h, "hypervisor_reason"))
               ? json_string_value(json_object_get(h, "hypervisor_reason")) : "");

    json_decref(tl_call_ok(&bed.sovd, "POST", "/v1/flavors", bed.op,
                           "{\"name\":\"e2e-tiny\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));

    tl_bed_image_import(&bed, REGION, "guest", OP_WAIT_S);

    /* Create, and follow it until the guest has booted and has its lease. */
    t0 = tl_now();
    j = tl_call_ok(&bed.sovd, "POST", "/v1/instances", bed.tenant.token[TL_MEMBER],
                   "{\"name\":\"vm-1\",\"flavor\":\"e2e-tiny\",\"image\":\"guest\"}", 202);
    tl_bed_created(&bed, j, id);
    wait_op_ok(tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    t_running = tl_now() - t0;
    assert_instance_state(id, "running");

    console con = { id, 0 };
    up = tl_console_expect(console_read, &con, TL_GUEST_UP, CONSOLE_WAIT_S);
    t_up = tl_now() - t0;
    free(up);
    addr = tl_console_expect(console_read, &con, TL_GUEST_DHCP, CONSOLE_WAIT_S);
    t_dhcp = tl_now() - t0;
    ck_assert_msg(strncmp(addr, bed.subnet, strlen(bed.subnet)) == 0,
                  "the guest leased '%s', outside the instance network %s", addr, bed.cidr);

    /* The reconciler reads the lease from libvirt and reports it. */
    for (double until = tl_now() + ADDRESS_WAIT_S;;) {
        bool found = false;
        json_t *a;
        size_t i;

        x = get_instance(id);
        json_array_foreach(json_object_get(x, "addresses"), i, a)
            found = found || (json_is_string(a) && strcmp(json_string_value(a), addr) == 0);
        if (found) {
            json_decref(x);
            break;
        }
        ck_assert_msg(tl_now() < until, "addresses of the instance never showed %s: %s", addr,
                      json_dumps(x, 0));
        json_decref(x);
        usleep(200 * 1000);
    }
    t_addr = tl_now() - t0;

    /* An instance on tenant networks (nat_nic false) is reached at its ports' addresses:
     * the reconciler leaves its addresses alone, whatever lease the host's NAT network holds
     * (written here as network/ would leave such an instance; three passes of 2 s). */
    {
        char sql[256];
        snprintf(sql, sizeof(sql), "UPDATE instances SET nat_nic = false, addresses = ''"
                 " WHERE id = '%s'", id);
        free(tl_db_exec(bed.db, sql));
        /* A pass that read the row before the update may still write once: clear again. */
        usleep(2500 * 1000);
        free(tl_db_exec(bed.db, sql));
        usleep(6500 * 1000);
        text = tl_db_value(bed.db, "SELECT addresses FROM instances WHERE id = '%s'", id);
        ck_assert_msg(text[0] == '\0', "the reconciler wrote a NAT lease (%s) over an "
                      "instance on tenant networks", text);
        free(text);
        snprintf(sql, sizeof(sql), "UPDATE instances SET nat_nic = true WHERE id = '%s'", id);
        free(tl_db_exec(bed.db, sql));
    }

    /* Stop: the guest powers off on the ACPI power button, well before stop_timeout. */
    t_stop = act(id, "stop", "stopped");
    out = tl_sh_out(&rc, "virsh -q -c " URI " domstate '%s'", bed.domain);
    ck_assert_msg(rc == 0 && strncmp(out, "shut off", 8) == 0, "domstate of %s: %s", bed.domain,
                  out);
    free(out);
    text = tl_sovd_log(&bed.sovd);
    ck_assert_msg(!strstr(text, "did not shut down within"),
                  "the guest did not power off on ACPI; sovd pulled the plug");
    free(text);
    ck_assert_msg(t_stop < 20.0, "a graceful stop took %.1f s", t_stop);

    /* A stopped instance lists no address: its lease is the past guest's. */
    x = get_instance(id);
    ck_assert_msg(json_array_size(json_object_get(x, "addresses")) == 0,
                  "a stopped instance lists addresses: %s", json_dumps(x, 0));
    json_decref(x);

    /* tail_bytes: that many bytes of the log's end (the guest is off: the log holds still). */
    {
        tl_resp full, end;
        snprintf(path, sizeof(path), "/v1/instances/%s/console", id);
        tl_call(&bed.sovd, "GET", path, bed.tenant.token[TL_READER], NULL, &full);
        snprintf(path, sizeof(path), "/v1/instances/%s/console?tail_bytes=40", id);
        tl_call(&bed.sovd, "GET", path, bed.tenant.token[TL_READER], NULL, &end);
        ck_assert_msg(full.status == 200 && end.status == 200, "console: %ld, %ld",
                      full.status, end.status);
        ck_assert_msg(full.len > 40 && end.len == 40 &&
                      memcmp(full.body + full.len - 40, end.body, 40) == 0,
                      "tail_bytes=40 answered %zu bytes of a %zu-byte log", end.len, full.len);
        tl_resp_free(&full);
        tl_resp_free(&end);
    }

    /* Start: the console log is appended to (append='on'): the previous boot's lines stay,
     * and the guest's second boot follows them. */
    t_start = act(id, "start", "running");
    text = console_read(&con);
    ck_assert_msg(text && strstr(text, TL_GUEST_DHCP),
                  "the console lost the previous boot on start:\n%s", text ? text : "");
    free(text);
    t0 = tl_now();
    con.skip = 1;
    up = tl_console_expect(console_read, &con, TL_GUEST_UP, CONSOLE_WAIT_S);
    t_restart_up = tl_now() - t0;
    free(up);
    con.skip = 0;
    text = console_read(&con);
    ck_assert_msg(count_of(text, TL_GUEST_UP) == 2, "the console does not hold both boots "
                  "after start:\n%s", text);
    free(text);

    /* Reboot: a reset of the running domain; the same log goes on with a third boot. */
    t_reboot = act(id, "reboot", "running");
    t0 = tl_now();
    con.skip = 2;
    up = tl_console_expect(console_read, &con, TL_GUEST_UP, CONSOLE_WAIT_S);
    t_reboot_up = tl_now() - t0;
    free(up);

    /* Delete: nothing stays on the host, and everything is given back. */
    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    t0 = tl_now();
    j = tl_call_ok(&bed.sovd, "DELETE", path, bed.tenant.token[TL_MEMBER], NULL, 202);
    wait_op_ok(tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    t_delete = tl_now() - t0;
    assert_instance_state(id, "deleted");

    out = tl_sh_out(&rc, "virsh -q -c " URI " dominfo '%s'", bed.domain);
    ck_assert_msg(rc != 0, "domain %s is still defined: %s", bed.domain, out);
    free(out);
    out = tl_sh_out(&rc, "virsh -q -c " URI " pool-refresh '%s' >/dev/null &&"
                      " virsh -q -c " URI " vol-list '%s'", bed.pool, bed.pool);
    ck_assert_msg(rc == 0, "could not list pool %s: %s", bed.pool, out);
    ck_assert_msg(!strstr(out, id), "volumes of instance %s left in pool %s:\n%s", id, bed.pool,
                  out);
    free(out);
    {
        static const char *const suffix[] = { "disk", "seed", "console.log" };
        char file[800];
        for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
            snprintf(file, sizeof(file), "%s/sov-%s-%s", pool_path, id, suffix[i]);
            ck_assert_msg(access(file, F_OK) != 0, "%s is left on the host", file);
        }
    }

    snprintf(path, sizeof(path), "/v1/hosts/%s", tl_str(h, "id"));
    json_decref(h);
    h = tl_call_ok(&bed.sovd, "GET", path, bed.op, NULL, 200);
    ck_assert_int_eq(tl_num(json_object_get(h, "usage"), "vcpus"), 0);
    ck_assert_int_eq(tl_num(json_object_get(h, "usage"), "memory_mib"), 0);
    ck_assert_int_eq(tl_num(json_object_get(h, "usage"), "disk_gib"), 0);
    ck_assert_int_eq(tl_num(json_object_get(h, "usage"), "gpus"), 0);
    json_decref(h);

    snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", bed.tenant.id);
    j = tl_call_ok(&bed.sovd, "GET", path, bed.tenant.token[TL_READER], NULL, 200);
    q = json_object_get(j, "quotas");
    {
        const char *key;
        json_t *v;
        json_object_foreach(q, key, v)
            ck_assert_msg(tl_num(v, "used") == (strcmp(key, "workspaces") == 0 ? 1 : 0),
                          "quota %s used %lld after the delete", key, tl_num(v, "used"));
    }
    json_decref(j);

    printf("guest (%s): create -> running %.1f s, -> %s %.1f s, -> %s%s %.1f s, "
           "-> address reported %.1f s; stop %.1f s; start %.1f s, -> %s %.1f s; "
           "reboot %.1f s, -> %s %.1f s; delete %.1f s\n",
           virt, t_running, TL_GUEST_UP, t_up, TL_GUEST_DHCP, addr, t_dhcp, t_addr, t_stop,
           t_start, TL_GUEST_UP, t_restart_up, t_reboot, TL_GUEST_UP, t_reboot_up,
           t_delete);
    fflush(stdout);
    free(addr);
}
END_TEST

static json_t *
get_op(const char *op_id)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/operations/%s", op_id);
    return tl_call_ok(&bed.sovd, "GET", path, bed.tenant.token[TL_READER], NULL, 200);
}

#define WAITING "waiting for the guest to power off: "

/* Wait until the stop says it waits (instance and operation), past at least `past` s; the
 * seconds it said last. */
static unsigned
wait_waiting(const char *id, const char *stop_id, unsigned past)
{
    for (double until = tl_now() + 30;;) {
        json_t *x = get_instance(id), *o = get_op(stop_id);
        const char *reason = tl_str(x, "state_reason"), *step = tl_str(o, "step");
        unsigned s = 0;
        bool ok = strncmp(reason, WAITING, strlen(WAITING)) == 0 &&
                  strncmp(step, WAITING, strlen(WAITING)) == 0 &&
                  sscanf(reason + strlen(WAITING), "%u s of 60", &s) == 1 && s >= past;
        ck_assert_msg(ok || tl_now() < until, "the stop does not say it waits: %s\n%s",
                      json_dumps(x, 0), json_dumps(o, 0));
        if (ok)
            ck_assert_str_eq(tl_str(o, "state"), "running");
        json_decref(x);
        json_decref(o);
        if (ok)
            return s;
        usleep(200 * 1000);
    }
}

/* A guest that ignores the ACPI power button (a blank disk: SeaBIOS finds nothing to boot,
 * and no OS ever answers the button) keeps a graceful stop waiting for stop_timeout (60 s).
 * Meanwhile the instance and the operation say so, and a hard_stop or a delete supersedes
 * the stop: accepted at once, done within seconds, the stop recorded as superseded. */
START_TEST(a_stop_the_guest_ignores_is_superseded_by_hard_stop_and_delete)
{
    char path[256], id[40], blank[700], stop_id[40], hard_id[40], want[160];
    double t_hard_202, t_hard_done, t_delete_done, t0;
    unsigned said;
    json_t *j, *o;
    char *out;
    int rc;

    tl_bed_start_world(&bed, REGION, 60);
    json_decref(tl_host_add(&bed.sovd, bed.op,
                            "{\"name\":\"local\",\"region\":\"" REGION "\",\"zone\":\"a\","
                            "\"libvirt_uri\":\"" URI "\"}"));
    json_decref(tl_call_ok(&bed.sovd, "POST", "/v1/flavors", bed.op,
                           "{\"name\":\"e2e-tiny\",\"vcpus\":1,\"memory_mib\":128,"
                           "\"disk_gib\":1}", 201));
    snprintf(blank, sizeof(blank), "%s/blank.qcow2", bed.tmp);
    ck_assert_int_eq(tl_sh("qemu-img create -q -f qcow2 '%s' 48M", blank), 0);
    import_image("blank", blank);

    j = tl_call_ok(&bed.sovd, "POST", "/v1/instances", bed.tenant.token[TL_MEMBER],
                   "{\"name\":\"mute\",\"flavor\":\"e2e-tiny\",\"image\":\"blank\"}", 202);
    tl_bed_created(&bed, j, id);
    wait_op_ok(tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    assert_instance_state(id, "running");

    /* stop: the button is pressed, nobody answers; the wait shows, and counts up. */
    act_async(id, "stop", stop_id);
    said = wait_waiting(id, stop_id, 0);
    said = wait_waiting(id, stop_id, said + 2);

    /* hard_stop: accepted at once, the guest off within seconds, the stop superseded. */
    t0 = tl_now();
    t_hard_202 = act_async(id, "hard_stop", hard_id);
    wait_op_ok(hard_id);
    t_hard_done = tl_now() - t0;
    assert_instance_state(id, "stopped");
    out = tl_sh_out(&rc, "virsh -q -c " URI " domstate '%s'", bed.domain);
    ck_assert_msg(rc == 0 && strncmp(out, "shut off", 8) == 0, "domstate: %s", out);
    free(out);
    o = get_op(stop_id);
    snprintf(want, sizeof(want), "superseded by %s (hard_stop)", hard_id);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    ck_assert_str_eq(tl_str(json_object_get(o, "error"), "message"), want);
    ck_assert_str_eq(tl_str(json_object_get(o, "error"), "code"), "superseded");
    json_decref(o);
    j = get_instance(id);
    ck_assert_str_eq(tl_str(j, "state_reason"), "");
    json_decref(j);
    ck_assert_msg(t_hard_202 < 1.0, "the hard_stop took %.2f s to be accepted", t_hard_202);
    ck_assert_msg(t_hard_done < 10.0, "the hard_stop took %.1f s", t_hard_done);

    /* delete: the same, and it does not wait for the stop either. */
    act(id, "start", "running");
    act_async(id, "stop", stop_id);
    wait_waiting(id, stop_id, 0);
    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    t0 = tl_now();
    j = tl_call_ok(&bed.sovd, "DELETE", path, bed.tenant.token[TL_MEMBER], NULL, 202);
    wait_op_ok(tl_str(json_object_get(j, "operation"), "id"));
    t_delete_done = tl_now() - t0;
    snprintf(want, sizeof(want), "superseded by %s (delete)",
             tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    assert_instance_state(id, "deleted");
    o = get_op(stop_id);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    ck_assert_str_eq(tl_str(json_object_get(o, "error"), "message"), want);
    ck_assert_str_eq(tl_str(json_object_get(o, "error"), "code"), "superseded");
    json_decref(o);
    out = tl_sh_out(&rc, "virsh -q -c " URI " dominfo '%s'", bed.domain);
    ck_assert_msg(rc != 0, "domain %s is still defined: %s", bed.domain, out);
    free(out);
    ck_assert_msg(t_delete_done < 15.0, "the delete took %.1f s", t_delete_done);

    printf("guest ignoring ACPI: stop waited and said so (%u s of 60); hard_stop accepted in "
           "%.3f s, stopped in %.1f s; delete during a stop done in %.1f s\n", said,
           t_hard_202, t_hard_done, t_delete_done);
    fflush(stdout);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("e2e/guest");
    TCase *tc = tcase_create("guest");
    TCase *acpi = tcase_create("acpi");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 560);
    tcase_add_test(tc, a_real_guest_boots_gets_an_address_stops_starts_reboots_and_leaves_nothing);
    suite_add_tcase(s, tc);
    /* A case of its own: CK_RUN_CASE=acpi runs it alone (no guest image to build). */
    tcase_add_checked_fixture(acpi, setup, teardown);
    tcase_set_timeout(acpi, 300);
    tcase_add_test(acpi, a_stop_the_guest_ignores_is_superseded_by_hard_stop_and_delete);
    suite_add_tcase(s, acpi);
    return tl_run_suite(s);
}
