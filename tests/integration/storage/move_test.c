/* A volume moved to another host (storage/volume_move.c: POST /v1/volumes/{id}/actions
 * {"action": "move", zone?, region?, host?}) on two hosts of libvirt's test driver, each in a
 * private libvirtd of its own (h1 in zone a, h2 in zone b of one region), with a real
 * PostgreSQL and a real sovd.
 *
 * Covered: a move sends the file to the target and, once, moves the row (host, zone), the
 * allocation (the hosts' usage) and writes one "moved" residency record, releasing the
 * target's reservation; an operator may name the host; an encrypted volume moves, its
 * record naming where its key lives; the request refuses, changing nothing,
 * an attached volume, one with a snapshot, a zone with no other host (no room), a region
 * outside the tenant's policy, a tenant naming a host, and move's members on another action;
 * while the move runs the volume refuses attach, extend, snapshot, delete and another move;
 * a move whose copy fails leaves the volume whole on its host (reservation released, no
 * copy on the target, no record) and usable; a move whose last step failed and was retried
 * ends moved once. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bed.h"

#define REGION "fr-move-1"
#define WAIT_S 60

static char host1[40], host2[40];

static void
setup(void)
{
    bed_setup_two("sovmove");
}

/* ---- helpers ---- */

#define value bed_value
#define assert_value bed_assert_value
#define post_202 bed_post_202

/* Whether volume id's file is in the pool of the host at u. */
static bool
in_pool(const char *u, const char *id)
{
    char file[96];

    snprintf(file, sizeof(file), "sov-vol-%s", id);
    return bed_in_pool(u, file);
}

static void
post_ok(const char *path, const char *body, const char *key, char *id)
{
    char op_id[40];

    post_202(path, body, key, id, op_id);
    tl_op_wait_ok(&sovd, op, op_id, WAIT_S);
}

/* A 1 GiB volume in zone a (on h1): its id into id. */
static void
volume(const char *name, char *id)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"type\":\"standard\",\"size_gib\":1,"
             "\"zone\":\"a\"}", name);
    post_ok("/v1/volumes", body, "volume", id);
    assert_value(host1, "SELECT host_id FROM volumes WHERE id = '%s'", id);
}

static void
move(const char *id, const char *body, char *op_id)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", id);
    post_202(path, body, NULL, NULL, op_id);
}

static void
refused(const char *id, const char *token, const char *body, long status, const char *type,
        const char *says)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", id);
    bed_refused("POST", path, token, body, status, type, NULL, says);
}

/* Nothing of a move is left: the volume on h1, its file there only, h2 empty. */
static void
assert_unmoved(const char *id)
{
    assert_value(host1, "SELECT host_id FROM volumes WHERE id = '%s'", id);
    assert_value("a", "SELECT zone FROM volumes WHERE id = '%s'", id);
    assert_value("0", "SELECT count(*) FROM host_allocations WHERE resource_type ="
                 " 'volume-move'");
    assert_value("0", "SELECT disk_gib_used FROM hosts WHERE id = '%s'", host2);
    assert_value("0", "SELECT count(*) FROM residency_records WHERE resource_id = '%s'"
                 " AND event = 'moved'", id);
    ck_assert(in_pool(uri, id));
    ck_assert(!in_pool(uri2, id));
}

/* Moved once: the row, the usage, one record, the files. */
static void
assert_moved(const char *id)
{
    assert_value(host2, "SELECT host_id FROM volumes WHERE id = '%s'", id);
    assert_value("b", "SELECT zone FROM volumes WHERE id = '%s'", id);
    assert_value("0", "SELECT count(*) FROM host_allocations WHERE resource_type ="
                 " 'volume-move'");
    assert_value(host2, "SELECT host_id FROM host_allocations WHERE resource_type = 'volume'"
                 " AND resource_id = '%s'", id);
    assert_value("1", "SELECT disk_gib_used FROM hosts WHERE id = '%s'", host2);
    assert_value("h1 h2 fr-move-1 fr-move-1", "SELECT from_host || ' ' || to_host || ' ' ||"
                 " from_region || ' ' || to_region FROM residency_records WHERE resource_id ="
                 " '%s' AND event = 'moved'", id);
    assert_value("available", "SELECT state FROM volumes WHERE id = '%s'", id);
    ck_assert(!in_pool(uri, id));
    ck_assert(in_pool(uri2, id));
}

static void
start_with(const char *fault)
{
    static char master[700];
    const char *args[] = { "--role=api,worker", "--worker-threads=4",
                           "--image-allow-file-urls=true", "--stop-timeout=5", master, NULL };

    snprintf(master, sizeof(master), "--keystore-master-key=%s/master.key", tmp);
    bed_start_fault(args, fault);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Move FR 1\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-1\",\"zones\":[\"a\",\"b\"]}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"ch-move-1\",\"name\":\"Move CH\",\"country\":\"CH\","
                           "\"datacenter\":\"dc-ch\",\"zones\":[\"a\"]}", 201));
    bed_two_hosts(REGION, REGION, host1, host2);
}

/* ---- tests ---- */

START_TEST(a_move_sends_the_file_then_moves_row_allocation_and_record)
{
    char id[40], id2[40], op_id[40];

    start_with(NULL);
    volume("data", id);
    move(id, "{\"action\":\"move\",\"zone\":\"b\"}", op_id);
    tl_op_wait_ok(&sovd, op, op_id, WAIT_S);
    assert_moved(id);
    assert_value("0", "SELECT disk_gib_used FROM hosts WHERE id = '%s'", host1);
    json_t *v = bed_get("volumes", id);
    ck_assert_str_eq(tl_str(json_object_get(v, "residency"), "host"), "h2");
    json_decref(v);
    /* An operator names the host, back to h1. */
    volume("data2", id2);
    refused(id2, op, "{\"action\":\"move\",\"host\":\"nowhere\"}", 400,
            "/problems/invalid-request", "host 'nowhere' does not exist");
    {
        char path[128];
        snprintf(path, sizeof(path), "/v1/volumes/%s/actions", id2);
        json_t *j = tl_call_ok(&sovd, "POST", path, op, "{\"action\":\"move\",\"host\":\"h2\"}",
                               202);
        tl_op_wait_ok(&sovd, op, tl_str(json_object_get(j, "operation"), "id"), WAIT_S);
        json_decref(j);
    }
    assert_value(host2, "SELECT host_id FROM volumes WHERE id = '%s'", id2);
}
END_TEST

/* Its file is LUKS ciphertext and moves as it is, its key still wrapped in the database; the
 * record says where the key lives. */
START_TEST(an_encrypted_volume_moves_as_it_is)
{
    char id[40], op_id[40];

    start_with(NULL);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op,
                           "{\"name\":\"secure\",\"encrypted\":true}", 201));
    post_ok("/v1/volumes", "{\"name\":\"vault\",\"type\":\"secure\",\"size_gib\":1,"
            "\"zone\":\"a\"}", "volume", id);
    move(id, "{\"action\":\"move\",\"zone\":\"b\"}", op_id);
    tl_op_wait_ok(&sovd, op, op_id, WAIT_S);
    assert_moved(id);
    assert_value("t", "SELECT reason LIKE '%%key in %%' FROM residency_records WHERE"
                 " resource_id = '%s' AND event = 'moved'", id);
    assert_value("t", "SELECT wrapped_key IS NOT NULL FROM volumes WHERE id = '%s'", id);
}
END_TEST

START_TEST(a_move_refuses_what_cannot_move_and_changes_nothing)
{
    char id[40], snapped[40], snap[40];
    const char *member = acme.token[TL_MEMBER];

    start_with(NULL);
    member = acme.token[TL_MEMBER];
    volume("data", id);
    /* No other host in zone a: no room. */
    refused(id, member, "{\"action\":\"move\",\"zone\":\"a\"}", 409, "/problems/no-capacity",
            NULL);
    /* Outside the default EU policy. */
    refused(id, member, "{\"action\":\"move\",\"region\":\"ch-move-1\"}", 409,
            "/problems/residency-policy", NULL);
    /* Hosts are the operators'. */
    refused(id, member, "{\"action\":\"move\",\"host\":\"h2\"}", 403, "/problems/forbidden",
            "only operators name a host");
    /* move's members on another action. */
    refused(id, member, "{\"action\":\"extend\",\"size_gib\":2,\"zone\":\"b\"}", 400,
            "/problems/invalid-request", "for move only");
    assert_unmoved(id);
    /* A volume with a snapshot. */
    volume("snapped", snapped);
    post_ok("/v1/snapshots", "{\"name\":\"s1\",\"volume\":\"snapped\"}", "snapshot", snap);
    refused(snapped, member, "{\"action\":\"move\",\"zone\":\"b\"}", 409,
            "/problems/conflict", "s1");
    assert_value(host1, "SELECT host_id FROM volumes WHERE id = '%s'", snapped);
    /* An attached volume (the attachment row as an attach leaves it). */
    free(value("WITH i AS (INSERT INTO instances (id, tenant_id, workspace, name, flavor_id, "
               "state, vcpus, memory_mib, disk_gib, gpus, mac, host_id, region, zone) SELECT "
               "gen_random_uuid(), tenant_id, workspace, 'vm', NULL, 'running', 1, 256, 1, 0, '52:54:00:aa:00:01',"
               " host_id, region, zone FROM volumes"
               " WHERE id = '%s' RETURNING id) INSERT INTO volume_attachments (volume_id, "
               "instance_id, device) SELECT '%s', id, 'vdc' FROM i RETURNING 't'", id, id));
    free(value("UPDATE volumes SET state = 'in-use' WHERE id = '%s' RETURNING 't'", id));
    refused(id, member, "{\"action\":\"move\",\"zone\":\"b\"}", 409, "/problems/conflict",
            "attached to instance 'vm'");
    assert_unmoved(id);
}
END_TEST

START_TEST(a_moving_volume_refuses_every_other_change)
{
    char id[40], op_id[40], path[128];
    const char *member;

    /* The copy takes four seconds: long enough to knock on every door meanwhile. */
    start_with("volume_send:1:ok:4000");
    member = acme.token[TL_MEMBER];
    volume("data", id);
    move(id, "{\"action\":\"move\",\"zone\":\"b\"}", op_id);
    refused(id, member, "{\"action\":\"move\",\"zone\":\"b\"}", 409, "/problems/conflict",
            "being moved to host 'h2'");
    refused(id, member, "{\"action\":\"extend\",\"size_gib\":2}", 409, "/problems/conflict",
            "being moved");
    snprintf(path, sizeof(path), "/v1/volumes/%s", id);
    bed_refused("DELETE", path, member, NULL, 409, "/problems/conflict", NULL, "being moved");
    bed_refused("POST", "/v1/snapshots", member, "{\"name\":\"s\",\"volume\":\"data\"}", 409,
                "/problems/conflict", NULL, "being moved");
    bed_refused("POST", "/v1/volumes", member, "{\"name\":\"copy\",\"type\":\"standard\","
                "\"source\":{\"volume\":\"data\"}}", 409, "/problems/conflict",
                NULL, "being moved");
    tl_op_wait_ok(&sovd, op, op_id, WAIT_S);
    assert_moved(id);
    /* Then it is a volume like any other: it is deleted from its new host. */
    {
        json_t *j = tl_call_ok(&sovd, "DELETE", path, member, NULL, 202);
        tl_op_wait_ok(&sovd, op, tl_str(json_object_get(j, "operation"), "id"), WAIT_S);
        json_decref(j);
    }
    ck_assert(!in_pool(uri2, id));
}
END_TEST

START_TEST(a_failed_copy_leaves_the_volume_whole_on_its_host)
{
    char id[40], op_id[40], path[128];
    json_t *o;

    start_with("volume_send:0:conflict");
    volume("data", id);
    move(id, "{\"action\":\"move\",\"zone\":\"b\"}", op_id);
    o = tl_op_wait_done(&sovd, op, op_id, WAIT_S);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    json_decref(o);
    assert_unmoved(id);
    assert_value("available", "SELECT state FROM volumes WHERE id = '%s'", id);
    /* Not stuck: it grows. */
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", id);
    post_ok(path, "{\"action\":\"extend\",\"size_gib\":2}", NULL, NULL);
}
END_TEST

START_TEST(a_move_retried_after_its_commit_ends_moved_once)
{
    char id[40], op_id[40];

    /* The source's removal fails once (the host away): the operation runs again, finds the
     * row already on the target, and only removes the source's file. */
    start_with("volume_delete:1:unavailable");
    volume("data", id);
    move(id, "{\"action\":\"move\",\"zone\":\"b\"}", op_id);
    tl_op_wait_ok(&sovd, op, op_id, WAIT_S);
    assert_value("2", "SELECT attempts FROM operations WHERE id = '%s'", op_id);
    assert_moved(id);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("storage/move");
    TCase *tc = tcase_create("move");

    tcase_add_checked_fixture(tc, setup, bed_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, a_move_sends_the_file_then_moves_row_allocation_and_record);
    tcase_add_test(tc, an_encrypted_volume_moves_as_it_is);
    tcase_add_test(tc, a_move_refuses_what_cannot_move_and_changes_nothing);
    tcase_add_test(tc, a_moving_volume_refuses_every_other_change);
    tcase_add_test(tc, a_failed_copy_leaves_the_volume_whole_on_its_host);
    tcase_add_test(tc, a_move_retried_after_its_commit_ends_moved_once);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
