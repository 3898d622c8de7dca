/* A fleet end to end: three libvirtd hosts on this machine (scripts/fleet, each in network
 * and mount namespaces of its own) with the fleet's own OVN (NB, SB and ovn-northd in the
 * fleet's folder, the SB on the fleet bridge's address, every host a chassis of it), one
 * sovd on them: h1 and h2 in an EU region, h3 in a region of a non-EU country, all three
 * registered through the API. Real guests (tests/support/guest.h) of the operator's tenant,
 * whose residency policy is the default (the EU), on one tenant network:
 *
 *  (a) guest A on one EU host and guest B on the other (placement spreads), each with its
 *      address from OVN's DHCP, reach each other over Geneve: B pings A and sends it a line
 *      over TCP; then B pings A every 0.1 s for as long as it runs;
 *  (b) A live-migrates to the other EU host while B pings it: the operation succeeds, A runs
 *      on its new host only, keeps its address, its port is bound to the new chassis, and its
 *      residency history ends with a "moved" record from the old host to the new; the pings
 *      lost and the downtime (libvirt's, and the longest gap in B's pings) are printed and the
 *      loss is bounded;
 *  (c) B moves cold to the other EU host: it stops, starts there, and finds the marker it
 *      wrote into its own disk before the move;
 *  (d) a migration of A that the operator sends to h3 (outside the policy) is refused, 409
 *      /problems/residency-policy naming the policy and the target: no domain on h3, no
 *      residency record, no migration, A still runs where it ran;
 *  (e) evacuating the host that runs A and two more guests moves all three to the other EU
 *      host (never h3), under one operation that lists a child per instance; the host is left
 *      in maintenance.
 *
 * One fleet, one OVN, one sovd serve the cases in order (an unchecked fixture; the runner
 * does not fork, so what a case leaves is the next one's start). Guests boot one or two at
 * a time. Everything (guests, hosts, OVN, folders) goes when the runner exits, however it
 * exits. Needs root (scripts/test runs as root). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet.h"
#include "guest.h"
#include "testlib.h"

#define CONSOLE_WAIT_S 150      /* a line on a guest's console: TCG on a busy machine */
#define OP_WAIT_S 240           /* an operation on a real host, TCG on a busy machine */
#define EU "eu-fleet"           /* h1, h2 */
#define NON_EU "us-fleet"       /* h3 */
#define PING_INTERVAL_MS 100    /* B's pings (ping -i 0.1) */
#define PINGS_MAX 40000         /* more than an hour of them */

static tl_fleet fleet;
static char *tmp;
static char *image;
static char *db;
static tl_sovd sovd;
static tl_tenant ten;           /* the operator's tenant: operator, admin, member, ... */
static char pool[64], pool_path[128], natnet[16], natcidr[32];
static char host_id[3][40];     /* the API's ids of h1, h2, h3 (fleet.host[0..2]) */
static char mark[40];           /* what B writes into its disk */
static char first_boot[128];    /* B's MARKER-WROTE line: the marker and its first boot's id */

typedef struct vm {
    char id[40];
    char name[32];
    char ip[16];        /* nics[0].ip */
    char port[40];      /* nics[0].port: its logical switch port */
    int host;           /* the fleet's host it runs on (index), as the API says */
} vm;

static vm A, B;
static bool two_guests;         /* (a) made A and B */

/* ---- the bed ---- */

static void
sovd_up(void)
{
    char store[600], pool_flag[128], path_flag[200], net_flag[64], cidr_flag[64],
        store_flag[700], nb_flag[700], sb_flag[700], body[512];
    static const char *const regions[3] = { EU, EU, NON_EU };

    db = tl_db_create();
    snprintf(pool, sizeof(pool), "sovtest-fleet-%d", (int) getpid());
    /* Under /var/lib/libvirt, which each host has of its own (its mount namespace): the
     * pool's path is the same string on every host, its files are not the same files. */
    snprintf(pool_path, sizeof(pool_path), "/var/lib/libvirt/%s", pool);
    snprintf(natnet, sizeof(natnet), "sovf%d", (int) getpid());
    ck_assert_msg(strlen(natnet) < 15, "network name '%s' too long for libvirt", natnet);
    tl_free_subnet("qemu:///system", natcidr, NULL);
    snprintf(store, sizeof(store), "%s/store", tmp);
    snprintf(pool_flag, sizeof(pool_flag), "--storage-pool=%s", pool);
    snprintf(path_flag, sizeof(path_flag), "--storage-pool-path=%s", pool_path);
    snprintf(net_flag, sizeof(net_flag), "--nat-network=%s", natnet);
    snprintf(cidr_flag, sizeof(cidr_flag), "--nat-cidr=%s", natcidr);
    snprintf(store_flag, sizeof(store_flag), "--image-store=%s", store);
    snprintf(nb_flag, sizeof(nb_flag), "--ovn-nb=%s", fleet.ovn.nb);
    snprintf(sb_flag, sizeof(sb_flag), "--ovn-sb=%s", fleet.ovn.sb);
    const char *args[] = { pool_flag, path_flag, net_flag, cidr_flag, store_flag, nb_flag,
                           sb_flag, "--image-allow-file-urls=true", "--stop-timeout=10",
                           "--host-check-interval=2", NULL };
    tl_sovd_start(&sovd, db, args);
    tl_operator_tenant(&sovd, &ten);

    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", ten.token[TL_OPERATOR],
                           "{\"code\":\"" EU "\",\"name\":\"Fleet EU\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-fleet-eu\",\"zones\":[\"a\"]}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", ten.token[TL_OPERATOR],
                           "{\"code\":\"" NON_EU "\",\"name\":\"Fleet US\",\"country\":\"US\","
                           "\"datacenter\":\"dc-fleet-us\",\"zones\":[\"a\"]}", 201));
    for (int i = 0; i < 3; i++) {
        json_t *h;

        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"%s\",\"zone\":\"a\","
                 "\"libvirt_uri\":\"%s\"}", fleet.host[i].name, regions[i],
                 fleet.host[i].uri);
        h = tl_host_add(&sovd, ten.token[TL_OPERATOR], body);
        ck_assert_str_eq(tl_str(h, "state"), "up");
        snprintf(host_id[i], sizeof(host_id[i]), "%s", tl_str(h, "id"));
        json_decref(h);
    }
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", ten.token[TL_OPERATOR],
                           "{\"name\":\"fleet-tiny\",\"vcpus\":1,\"memory_mib\":128,"
                           "\"disk_gib\":1}", 201));
}

/* POST (or another method) path as the tenant's member: 202; waits for the operation;
 * returns member's id (malloc) unless member is NULL. */
static char *
accepted(const char *method, const char *path, const char *body, const char *member)
{
    json_t *j = tl_call_ok(&sovd, method, path, ten.token[TL_MEMBER], body, 202);
    char *id = member ? strdup(tl_str(json_object_get(j, member), "id")) : NULL;

    tl_op_wait_ok(&sovd, ten.token[TL_READER], tl_str(json_object_get(j, "operation"), "id"),
                  OP_WAIT_S);
    json_decref(j);
    return id;
}

static void
bed_up(void)
{
    char body[1024];
    double t0 = tl_now();

    tmp = tl_tmpdir();
    ck_assert_int_eq(chmod(tmp, 0755), 0);
    tl_assert_traversable(tmp);
    tl_sh_at_exit("rm -rf '%s'", tmp);
    image = tl_guest_image();
    tl_sh_at_exit("rm -rf \"$(dirname '%s')\"", image);
    tl_fleet_up(&fleet, 3, true);
    fprintf(stderr, "e2e/fleet: 3 hosts, their chassis and the fleet's OVN up in %.1f s\n",
            fleet.up_s);
    sovd_up();
    snprintf(body, sizeof(body), "{\"name\":\"guest\",\"region\":\"" EU "\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", image);
    free(accepted("POST", "/v1/images", body, NULL));
    /* One network, one subnet, one security group (its default rules let members talk). */
    free(accepted("POST", "/v1/networks", "{\"name\":\"f-net\",\"cidr\":\"10.10.0.0/16\","
                  "\"region\":\"" EU "\"}", "network"));
    free(accepted("POST", "/v1/subnets", "{\"name\":\"f-sub\",\"network\":\"f-net\","
                  "\"cidr\":\"10.10.0.0/24\"}", "subnet"));
    free(accepted("POST", "/v1/security-groups", "{\"name\":\"f-sg\"}", "security_group"));
    fprintf(stderr, "e2e/fleet: the bed (fleet, sovd, 3 hosts registered, image, network) in "
            "%.1f s\n", tl_now() - t0);
}

static void
bed_down(void)
{
    int rc = tl_sovd_stop_clean(&sovd, 30);

    tl_sovd_discard(&sovd);
    tl_db_drop(db);
    free(db);
    tl_fleet_down(&fleet);
    tl_guest_image_remove(image);
    free(image);
    tl_tmpdir_remove(tmp);
    free(tmp);
    ck_assert_msg(rc == 0, "sovd exited with %d on SIGTERM (its log's tail is above)", rc);
}

/* ---- guests ---- */

/* The console log of v as its host has it (malloc), or NULL. */
static char *
vm_console(void *arg)
{
    const vm *v = arg;
    char path[300], *file, *text;

    snprintf(path, sizeof(path), "%s/sov-%s-console.log", pool_path, v->id);
    file = tl_fleet_path(&fleet, v->host, path);
    text = tl_read_file(file);
    free(file);
    return text;
}

static char *
vm_expect(vm *v, const char *marker)
{
    return tl_console_expect(vm_console, v, marker, CONSOLE_WAIT_S);
}

/* GET /v1/instances/{id} (a new reference). */
static json_t *
vm_get(const vm *v)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/instances/%s", v->id);
    return tl_call_ok(&sovd, "GET", path, ten.token[TL_READER], NULL, 200);
}

/* The host the API says v runs on (and v->host with it); fails unless it is running. */
static int
vm_where(vm *v)
{
    json_t *j = vm_get(v);
    const char *host;

    ck_assert_msg(strcmp(tl_str(j, "state"), "running") == 0, "instance %s is %s (%s)",
                  v->name, tl_str(j, "state"), tl_str(j, "state_reason"));
    host = tl_str(json_object_get(j, "host"), "name");
    v->host = tl_fleet_host_index(&fleet, host);
    ck_assert_msg(v->host >= 0, "instance %s runs on %s, no host of the fleet", v->name, host);
    json_decref(j);
    return v->host;
}

/* POST /v1/instances as the member: one NIC on f-sub (at ip unless NULL), script as its
 * user-data; returns the operation's id (malloc) without waiting. */
static char *
vm_post(vm *v, const char *name, const char *ip, const char *script)
{
    json_t *body, *nic, *j;
    char *text, *op;

    memset(v, 0, sizeof(*v));
    snprintf(v->name, sizeof(v->name), "%s", name);
    nic = json_pack("{s:s, s:[s]}", "subnet", "f-sub", "security_groups", "f-sg");
    if (ip)
        json_object_set_new(nic, "ip", json_string(ip));
    body = json_pack("{s:s, s:s, s:s, s:s, s:[o]}", "name", name, "flavor", "fleet-tiny",
                     "image", "guest", "user_data", script, "nics", nic);
    ck_assert(body);
    text = json_dumps(body, 0);
    j = tl_call_ok(&sovd, "POST", "/v1/instances", ten.token[TL_MEMBER], text, 202);
    snprintf(v->id, sizeof(v->id), "%s", tl_str(json_object_get(j, "instance"), "id"));
    op = strdup(tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    free(text);
    json_decref(body);
    return op;
}

/* Wait for v's create (op, freed here): running, on a host of the fleet that defines its
 * domain and no other, its NIC up with its address. */
static void
vm_created(vm *v, char *op)
{
    json_t *j, *nic;
    char dom[64];

    tl_op_wait_ok(&sovd, ten.token[TL_READER], op, OP_WAIT_S);
    free(op);
    vm_where(v);
    j = vm_get(v);
    nic = json_array_get(json_object_get(j, "nics"), 0);
    ck_assert_msg(nic, "instance %s has no NIC", v->name);
    snprintf(v->ip, sizeof(v->ip), "%s", tl_str(nic, "ip"));
    snprintf(v->port, sizeof(v->port), "%s", tl_str(nic, "port"));
    json_decref(j);
    snprintf(dom, sizeof(dom), "sov-%s", v->id);
    ck_assert_int_eq(tl_fleet_domain_host(&fleet, dom), v->host);
}

/* ---- what B's console says of its pings ---- */

/* The replies B got since its pinger last started (its last boot), by sequence number. */
typedef struct pings {
    int max;                    /* the highest sequence number answered, -1 for none */
    int answered;
    unsigned char got[PINGS_MAX];
} pings;

static void
pings_read(vm *v, pings *p)
{
    char *text = vm_console(v), *at, *start;

    memset(p, 0, sizeof(*p));
    p->max = -1;
    if (!text)
        return;
    /* The last start only: a cold migration boots B again, and the log may keep the old. */
    start = NULL;
    for (at = text; (at = strstr(at, "PINGER-START")); at++)
        start = at;
    for (at = start; at && (at = strstr(at, " seq=")); at++) {
        char *end;
        long n = strtol(at + 5, &end, 10);

        /* Whole lines only: the last may still be written. */
        if (end == at + 5 || !strchr(end, '\n') || n < 0 || n >= PINGS_MAX)
            continue;
        if (!p->got[n])
            p->answered++;
        p->got[n] = 1;
        if (n > p->max)
            p->max = (int) n;
    }
    free(text);
}

/* Poll B's pings until one numbered above seq is answered (at most wait_s): its number, or -1.
 * */
static int
pings_wait_above(vm *v, pings *p, int seq, unsigned wait_s)
{
    double t0 = tl_now();

    do {
        pings_read(v, p);
        if (p->max > seq)
            return p->max;
        usleep(100 * 1000);
    } while (tl_now() - t0 < wait_s);
    return -1;
}

/* ---- (a) ---- */

/* A: serves one TCP connection on port 7777 and says what it got. */
static const char A_SCRIPT[] =
    "#!/bin/sh\n"
    "echo LISTENING\n"
    "nc -l -p 7777 > /run/got\n"
    "echo \"TCP-GOT $(cat /run/got)\"\n";

/* B (A's address, the marker): on its first boot writes the marker into the FAT file system
 * of its own boot disk (vda) and reads it back from the disk (with its boot's id), pings A
 * until it answers and sends it a line over TCP; on a later boot (after a cold migration)
 * says what marker it found. Then it pings A every 0.1 s
 * for as long as it runs. */
static const char B_SCRIPT[] =
    "#!/bin/sh\n"
    "A=%s\n"
    "M=%s\n"
    "try() { n=$1; shift; i=0; until \"$@\"; do i=$((i + 1)); [ $i -ge $n ] && return 1;"
    " sleep 1; done; }\n"
    "mkdir -p /run/d\n"
    "if mount -t vfat /dev/vda /run/d; then\n"
    "    if [ -f /run/d/marker ]; then\n"
    "        echo \"MARKER-FOUND $(cat /run/d/marker)\"\n"
    "        umount /run/d\n"
    "    else\n"
    "        echo \"$M\" > /run/d/marker\n"
    "        sync; umount /run/d; blockdev --flushbufs /dev/vda\n"
    "        echo 3 > /proc/sys/vm/drop_caches\n"
    "        mount -t vfat -o ro /dev/vda /run/d && echo \"MARKER-WROTE $(cat /run/d/marker)\""
    " \"boot=$(cat /proc/sys/kernel/random/boot_id)\"\n"
    "        umount /run/d\n"
    "        try 90 ping -c 1 -W 1 $A >/dev/null 2>&1 && echo \"PING-OK $A\" || echo PING-FAIL\n"
    "        try 60 sh -c \"echo hello-over-tcp | nc -w 3 $A 7777\" && echo TCP-SENT ||"
    " echo TCP-FAIL\n"
    "    fi\n"
    "else\n"
    "    echo MOUNT-FAIL\n"
    "fi\n"
    "echo PINGER-START\n"
    "exec ping -i 0.1 $A\n";

START_TEST(two_guests_on_two_hosts_reach_each_other_over_geneve)
{
    char script[sizeof(B_SCRIPT) + 128], *op_a, *op_b, *got;
    double t0 = tl_now(), t_up;
    pings *p = malloc(sizeof(*p));

    ck_assert_ptr_nonnull(p);
    snprintf(mark, sizeof(mark), "mark-%d", (int) getpid());
    op_a = vm_post(&A, "a", "10.10.0.10", A_SCRIPT);
    snprintf(script, sizeof(script), B_SCRIPT, "10.10.0.10", mark);
    op_b = vm_post(&B, "b", "10.10.0.20", script);
    vm_created(&A, op_a);
    vm_created(&B, op_b);
    two_guests = true;
    /* Placement spreads: the two EU hosts, one each; never h3, outside the policy. */
    ck_assert_msg(A.host != B.host, "A and B both run on %s", fleet.host[A.host].name);
    ck_assert_msg(A.host != 2 && B.host != 2, "an instance runs on %s, outside the policy",
                  fleet.host[2].name);

    /* Each took its address from OVN's DHCP, on its own host's chassis. */
    got = vm_expect(&A, TL_GUEST_DHCP);
    ck_assert_str_eq(got, A.ip);
    free(got);
    got = vm_expect(&B, TL_GUEST_DHCP);
    ck_assert_str_eq(got, B.ip);
    free(got);
    t_up = tl_now() - t0;
    ck_assert_int_eq(tl_fleet_port_chassis(&fleet, A.port), A.host);
    ck_assert_int_eq(tl_fleet_port_chassis(&fleet, B.port), B.host);

    /* B reaches A across the two chassis (Geneve between their addresses): ping, TCP. */
    got = vm_expect(&B, "MARKER-WROTE ");
    ck_assert_msg(strncmp(got, mark, strlen(mark)) == 0 && got[strlen(mark)] == ' ',
                  "B wrote '%s', not %s", got, mark);
    snprintf(first_boot, sizeof(first_boot), "%s", got);
    free(got);
    got = vm_expect(&B, "PING-OK ");
    ck_assert_str_eq(got, A.ip);
    free(got);
    free(vm_expect(&B, "TCP-SENT"));
    got = vm_expect(&A, "TCP-GOT ");
    ck_assert_str_eq(got, "hello-over-tcp");
    free(got);
    free(vm_expect(&B, "PINGER-START"));
    ck_assert_msg(pings_wait_above(&B, p, 5, 60) > 5, "B's steady pings to A get no answers");
    fprintf(stderr, "e2e/fleet: A on %s and B on %s took their DHCP leases %.1f s after the "
            "creates; ping and TCP across Geneve after %.1f s\n", fleet.host[A.host].name,
            fleet.host[B.host].name, t_up, tl_now() - t0);
    free(p);
}
END_TEST

/* ---- migrations ---- */

/* The other EU host than i (h1 and h2 are the EU hosts). */
static int
other_eu(int i)
{
    ck_assert_msg(i == 0 || i == 1, "host %d is not an EU host", i);
    return 1 - i;
}

/* POST /v1/instances/{id}/actions with body as token: 202, the instance migrating; returns
 * the operation's id (malloc). */
static char *
vm_migrate(const vm *v, const char *token, const char *body)
{
    char path[128], *op;
    json_t *j;

    snprintf(path, sizeof(path), "/v1/instances/%s/actions", v->id);
    j = tl_call_ok(&sovd, "POST", path, token, body, 202);
    ck_assert_str_eq(tl_str(json_object_get(j, "instance"), "state"), "migrating");
    op = strdup(tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    return op;
}

/* GET path?limit=100 as the reader: its items (a new reference). */
static json_t *
items_of(const char *path)
{
    char full[200];
    json_t *j, *items;

    snprintf(full, sizeof(full), "%s?limit=100", path);
    j = tl_call_ok(&sovd, "GET", full, ten.token[TL_READER], NULL, 200);
    items = json_incref(json_object_get(j, "items"));
    ck_assert_msg(json_is_array(items), "GET %s has no items", full);
    json_decref(j);
    return items;
}

static json_t *
vm_residency(const vm *v)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/instances/%s/residency", v->id);
    return items_of(path);
}

static json_t *
vm_migrations(const vm *v)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/instances/%s/migrations", v->id);
    return items_of(path);
}

/* v's residency history ends with a "moved" record from host `from` to host `to` (both EU,
 * France), written by operation op (unless NULL). */
static void
expect_moved(const vm *v, int from, int to, const char *op)
{
    json_t *items = vm_residency(v), *last, *f, *t;
    size_t n = json_array_size(items);

    ck_assert_msg(n > 0, "instance %s has no residency record", v->name);
    last = json_array_get(items, n - 1);
    ck_assert_msg(strcmp(tl_str(last, "event"), "moved") == 0, "the last residency record of "
                  "%s is '%s', not 'moved'", v->name, tl_str(last, "event"));
    f = json_object_get(last, "from");
    t = json_object_get(last, "to");
    ck_assert_str_eq(tl_str(f, "host"), fleet.host[from].name);
    ck_assert_str_eq(tl_str(t, "host"), fleet.host[to].name);
    ck_assert_str_eq(tl_str(f, "region"), EU);
    ck_assert_str_eq(tl_str(t, "region"), EU);
    ck_assert_str_eq(tl_str(f, "country"), "FR");
    ck_assert_str_eq(tl_str(t, "country"), "FR");
    if (op)
        ck_assert_str_eq(tl_str(last, "operation_id"), op);
    json_decref(items);
}

/* v's last migration: succeeded, live or not, from -> to; its downtime_ms (-1: null). */
static long long
expect_migration(const vm *v, bool live, int from, int to)
{
    json_t *items = vm_migrations(v), *m, *d;
    size_t n = json_array_size(items);
    long long downtime;

    ck_assert_msg(n > 0, "instance %s lists no migration", v->name);
    m = json_array_get(items, n - 1);
    ck_assert_msg(strcmp(tl_str(m, "state"), "succeeded") == 0, "the migration of %s is %s "
                  "(%s)", v->name, tl_str(m, "state"), json_string_value(json_object_get(m,
                  "reason")) ? json_string_value(json_object_get(m, "reason")) : "");
    ck_assert(json_is_true(json_object_get(m, "live")) == live);
    ck_assert_str_eq(tl_str(m, "source"), fleet.host[from].name);
    ck_assert_str_eq(tl_str(m, "target"), fleet.host[to].name);
    d = json_object_get(m, "downtime_ms");
    downtime = json_is_integer(d) ? json_integer_value(d) : -1;
    json_decref(items);
    return downtime;
}

/* v runs on host i only (its domain defined there and running, on no other host). */
static void
expect_runs_on(const vm *v, int i)
{
    char dom[64];
    bool running = false;

    snprintf(dom, sizeof(dom), "sov-%s", v->id);
    ck_assert_msg(tl_fleet_domain_host(&fleet, dom) == i, "the domain of %s is not on %s only",
                  v->name, fleet.host[i].name);
    ck_assert(tl_fleet_has_domain(&fleet, i, dom, &running));
    ck_assert_msg(running, "the domain of %s does not run on %s", v->name, fleet.host[i].name);
}

/* Wait (at most wait_s) until v's port is bound to host i's chassis. */
static void
expect_port_on(const vm *v, int i, unsigned wait_s)
{
    double t0 = tl_now();
    int at;

    while ((at = tl_fleet_port_chassis(&fleet, v->port)) != i) {
        ck_assert_msg(tl_now() - t0 < wait_s, "the port of %s is bound to host %d, not to %s's "
                      "chassis, %u s after the move", v->name, at, fleet.host[i].name, wait_s);
        usleep(100 * 1000);
    }
}

/* What B's pings saw between two sequence numbers (first excluded, last included). */
typedef struct loss {
    int sent, lost, longest;    /* pings, unanswered ones, the longest unanswered run */
} loss;

static loss
loss_between(const pings *p, int first, int last)
{
    loss l = { 0, 0, 0 };
    int run = 0;

    for (int s = first + 1; s <= last; s++) {
        l.sent++;
        if (p->got[s]) {
            run = 0;
            continue;
        }
        l.lost++;
        if (++run > l.longest)
            l.longest = run;
    }
    return l;
}

/* The most of B's pings (one each 100 ms) a live migration of A may lose, and the longest
 * silence it may cause. Measured here (TCG, 2 cores shared with other builds, 6 runs): 20
 * to 28 pings lost, all in one gap of 1.7 to 2.4 s, while libvirt's own downtime was 157 to
 * 685 ms (the rest is OVN moving the port's binding to the new chassis); see README.md,
 * e2e/fleet. About four times that: a loaded machine is slower, a broken move never
 * answers. A share of the pings sent meanwhile would not do: a quick migration (4.7 s)
 * lost 51% of them with the same 2.4 s gap. */
#define LIVE_LOSS_MAX 100
#define LIVE_GAP_MAX_MS 10000

/* A live-migrates to the other EU host while B pings it every 0.1 s. */
START_TEST(a_live_migration_while_the_other_guest_pings_it)
{
    pings *p = malloc(sizeof(*p));
    int from, to, s0, s_done, s_end;
    double t0, t_op;
    long long downtime;
    char *op, *ip;
    json_t *j;
    loss l;

    ck_assert_ptr_nonnull(p);
    ck_assert_msg(two_guests, "A and B were not made (see the first case)");
    from = vm_where(&A);
    to = other_eu(from);
    s0 = pings_wait_above(&B, p, -1, 30);
    ck_assert_msg(s0 >= 0, "B's pings to A get no answers before the migration");

    t0 = tl_now();
    op = vm_migrate(&A, ten.token[TL_MEMBER], "{\"action\":\"migrate\",\"live\":true}");
    tl_op_wait_ok(&sovd, ten.token[TL_READER], op, OP_WAIT_S);
    t_op = tl_now() - t0;
    pings_read(&B, p);
    s_done = p->max;

    /* Placement chose the other EU host (never h3): A runs there and only there. */
    ck_assert_int_eq(vm_where(&A), to);
    expect_runs_on(&A, to);
    j = vm_get(&A);
    ip = strdup(tl_str(json_array_get(json_object_get(j, "nics"), 0), "ip"));
    json_decref(j);
    ck_assert_str_eq(ip, A.ip);
    free(ip);
    expect_port_on(&A, to, 10);
    expect_moved(&A, from, to, op);
    downtime = expect_migration(&A, true, from, to);

    /* B's pings come back: 2 s of them after the operation's end. */
    s_end = pings_wait_above(&B, p, s_done + 20, 60);
    ck_assert_msg(s_end >= 0, "B's pings to A (at %s) have no answer 60 s after A moved to "
                  "%s (last answered: %d)", A.ip, fleet.host[to].name, p->max);
    l = loss_between(p, s0, s_end);
    fprintf(stderr, "e2e/fleet: live migration of A %s -> %s: operation %.1f s; B's pings "
            "(every %d ms): %d of %d lost (%.1f%%), the longest gap %d ms (%d in a row); "
            "libvirt's downtime %lld ms\n", fleet.host[from].name, fleet.host[to].name, t_op,
            PING_INTERVAL_MS, l.lost, l.sent, 100.0 * l.lost / l.sent,
            (l.longest + 1) * PING_INTERVAL_MS, l.longest, downtime);
    ck_assert_msg(l.lost <= LIVE_LOSS_MAX, "the live migration lost %d of B's %d pings (%d "
                  "at most)", l.lost, l.sent, LIVE_LOSS_MAX);
    ck_assert_msg((l.longest + 1) * PING_INTERVAL_MS <= LIVE_GAP_MAX_MS, "B's pings to A went "
                  "unanswered for %d ms in a row (%d at most)", (l.longest + 1) *
                  PING_INTERVAL_MS, LIVE_GAP_MAX_MS);
    free(op);
    free(p);
}
END_TEST

/* A console's text without the pings' lines (malloc; "" for NULL). */
static char *
without_pings(const char *text)
{
    char *out = calloc(1, text ? strlen(text) + 2 : 1), *o = out;

    ck_assert_ptr_nonnull(out);
    while (text && *text) {
        size_t len = strcspn(text, "\n");

        if (!memmem(text, len, " bytes from ", 12)) {
            memcpy(o, text, len);
            o += len;
            *o++ = '\n';
        }
        text += len + (text[len] == '\n');
    }
    *o = '\0';
    return out;
}

/* Poll v's console until a line with marker, then a PINGER-START after it (at most
 * wait_s); returns what follows the marker (malloc). */
static char *
expect_then_pinger(vm *v, const char *marker, unsigned wait_s)
{
    double t0 = tl_now();
    char *got = NULL;

    for (;;) {
        char *text = vm_console(v), *at = NULL, *last = NULL;

        for (at = text; at && (at = strstr(at, marker)); at++)
            last = at;
        if (last && (got = tl_console_after(last, "PINGER-START"))) {
            free(got);
            got = tl_console_after(last, marker);
            free(text);
            return got;
        }
        /* Booted again without the marker (it writes it anew), or without its disk. */
        for (at = text; at && (at = strstr(at, "MARKER-WROTE ")); at++) {
            char *w = tl_console_after(at, "MARKER-WROTE ");

            if (w && strcmp(w, first_boot) != 0)
                ck_abort_msg("%s booted again on %s without the marker its first boot wrote "
                             "('%s'): its disk lost it ('%s' now)", v->name,
                             fleet.host[v->host].name, first_boot, w);
            free(w);
        }
        ck_assert_msg(!text || !strstr(text, "MOUNT-FAIL"), "%s could not mount its disk on %s",
                      v->name, fleet.host[v->host].name);
        if (tl_now() - t0 >= wait_s) {
            char *quiet = without_pings(text), *dir, *ls, *log;
            char pdir[300];
            size_t len = strlen(quiet);

            snprintf(pdir, sizeof(pdir), "%s", pool_path);
            dir = tl_fleet_path(&fleet, v->host, pdir);
            ls = tl_sh_out(NULL, "ls -la '%s'", dir);
            tl_virsh(fleet.host[v->host].uri, &log, "dumpxml sov-%s | grep -i 'log file'", v->id);
            ck_abort_msg("no '%s' then PINGER-START on the console of %s (%s) within %u s; "
                         "less its pings, it ends: %s\n%s: %s\nlog: %s", marker, v->name,
                         fleet.host[v->host].name, wait_s, quiet + (len > 800 ? len - 800 : 0),
                         dir, ls, log);
        }
        free(text);
        usleep(100 * 1000);
    }
}

/* B moves cold to the other EU host: stopped, copied, started there, its disk kept. */
START_TEST(a_cold_migration_keeps_the_guests_disk)
{
    pings *p = malloc(sizeof(*p));
    double t0, t_op, t_found;
    int from, to;
    char *op, *got;

    ck_assert_ptr_nonnull(p);
    ck_assert_msg(two_guests, "A and B were not made (see the first case)");
    from = vm_where(&B);
    to = other_eu(from);
    t0 = tl_now();
    op = vm_migrate(&B, ten.token[TL_MEMBER], "{\"action\":\"migrate\",\"live\":false}");
    tl_op_wait_ok(&sovd, ten.token[TL_READER], op, OP_WAIT_S);
    t_op = tl_now() - t0;
    ck_assert_int_eq(vm_where(&B), to);
    expect_runs_on(&B, to);
    expect_moved(&B, from, to, op);
    ck_assert_int_eq(expect_migration(&B, false, from, to), -1);

    /* It booted again there and found what it wrote on its first host. */
    got = expect_then_pinger(&B, "MARKER-FOUND ", CONSOLE_WAIT_S);
    t_found = tl_now() - t0;
    ck_assert_str_eq(got, mark);
    free(got);
    expect_port_on(&B, to, 10);
    /* And reaches A again, from its new host. */
    ck_assert_msg(pings_wait_above(&B, p, 5, 90) > 5, "B's pings to A get no answers from "
                  "%s", fleet.host[to].name);
    fprintf(stderr, "e2e/fleet: cold migration of B %s -> %s: operation %.1f s, its marker "
            "read back %.1f s after the request\n", fleet.host[from].name,
            fleet.host[to].name, t_op, t_found);
    free(op);
    free(p);
}
END_TEST

/* The operator sends A to h3, in a non-EU region: refused before anything moves. */
START_TEST(a_migration_across_the_policy_is_refused)
{
    char path[128], body[256], dom[64];
    size_t records, migrations;
    json_t *j;
    tl_resp r;
    int at;

    ck_assert_msg(two_guests, "A and B were not made (see the first case)");
    at = vm_where(&A);
    j = vm_residency(&A);
    records = json_array_size(j);
    json_decref(j);
    j = vm_migrations(&A);
    migrations = json_array_size(j);
    json_decref(j);

    snprintf(path, sizeof(path), "/v1/instances/%s/actions", A.id);
    snprintf(body, sizeof(body), "{\"action\":\"migrate\",\"live\":true,\"host\":\"%s\"}",
             fleet.host[2].name);
    tl_call(&sovd, "POST", path, ten.token[TL_OPERATOR], body, &r);
    tl_assert_problem(&r, 409, "/problems/residency-policy");
    tl_assert_contains(tl_str(r.json, "detail"), fleet.host[2].name);
    tl_assert_contains(tl_str(r.json, "detail"), "residency policy");
    tl_assert_contains(tl_str(r.json, "detail"), "EU");
    tl_resp_free(&r);

    /* Nothing moved, nothing was written. */
    snprintf(dom, sizeof(dom), "sov-%s", A.id);
    ck_assert_msg(!tl_fleet_has_domain(&fleet, 2, dom, NULL), "A's domain is on %s",
                  fleet.host[2].name);
    j = vm_residency(&A);
    ck_assert_uint_eq(json_array_size(j), records);
    json_decref(j);
    j = vm_migrations(&A);
    ck_assert_uint_eq(json_array_size(j), migrations);
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/hosts/%s", host_id[2]);
    j = tl_call_ok(&sovd, "GET", path, ten.token[TL_OPERATOR], NULL, 200);
    ck_assert_int_eq(tl_num(json_object_get(j, "usage"), "vcpus"), 0);
    json_decref(j);
    ck_assert_int_eq(vm_where(&A), at);
    expect_runs_on(&A, at);
}
END_TEST

/* PATCH /v1/hosts/{id} {state} as the operator. */
static void
host_state(int i, const char *state)
{
    char path[128], body[64];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/hosts/%s", host_id[i]);
    snprintf(body, sizeof(body), "{\"state\":\"%s\"}", state);
    j = tl_call_ok(&sovd, "PATCH", path, ten.token[TL_OPERATOR], body, 200);
    ck_assert_str_eq(tl_str(j, "state"), state);
    json_decref(j);
}

/* The host that runs A and two more guests is evacuated: all three end on the other EU
 * host, under one operation with a child each; the host stays in maintenance. */
START_TEST(evacuating_a_host_moves_its_three_instances_inside_the_policy)
{
    pings *p = malloc(sizeof(*p));
    vm c1, c2, *moved[3] = { &A, &c1, &c2 };
    char path[128], *op1, *op2, *op;
    json_t *j, *kids;
    int src, dst, s0;
    double t0, t_op;
    size_t k;

    ck_assert_ptr_nonnull(p);
    ck_assert_msg(two_guests, "A and B were not made (see the first case)");
    src = vm_where(&A);
    dst = other_eu(src);

    /* Two more guests on A's host: the other EU host takes no placement meanwhile. */
    host_state(dst, "disabled");
    op1 = vm_post(&c1, "c1", NULL, "#!/bin/sh\necho READY\n");
    op2 = vm_post(&c2, "c2", NULL, "#!/bin/sh\necho READY\n");
    vm_created(&c1, op1);
    vm_created(&c2, op2);
    ck_assert_int_eq(c1.host, src);
    ck_assert_int_eq(c2.host, src);
    host_state(dst, "up");

    pings_read(&B, p);
    s0 = p->max;
    t0 = tl_now();
    snprintf(path, sizeof(path), "/v1/hosts/%s/evacuate", host_id[src]);
    j = tl_call_ok(&sovd, "POST", path, ten.token[TL_OPERATOR], NULL, 202);
    ck_assert_str_eq(tl_str(json_object_get(j, "host"), "state"), "maintenance");
    op = strdup(tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    tl_op_wait_ok(&sovd, ten.token[TL_OPERATOR], op, OP_WAIT_S);
    t_op = tl_now() - t0;

    /* One child per instance, each a migration that succeeded. */
    snprintf(path, sizeof(path), "/v1/operations/%s", op);
    j = tl_call_ok(&sovd, "GET", path, ten.token[TL_OPERATOR], NULL, 200);
    kids = json_object_get(j, "children");
    ck_assert_int_eq(tl_num(j, "children_total"), 3);
    ck_assert_uint_eq(json_array_size(kids), 3);
    for (k = 0; k < 3; k++) {
        json_t *kid = json_array_get(kids, k);
        bool mine = false;

        ck_assert_str_eq(tl_str(kid, "kind"), "instance.migrate");
        ck_assert_msg(strcmp(tl_str(kid, "state"), "succeeded") == 0, "child %s of the "
                      "evacuation is %s", tl_str(kid, "id"), tl_str(kid, "state"));
        for (int i = 0; i < 3; i++)
            mine = mine || strcmp(tl_str(kid, "resource_id"), moved[i]->id) == 0;
        ck_assert_msg(mine, "child %s migrated %s, none of the host's instances",
                      tl_str(kid, "id"), tl_str(kid, "resource_id"));
    }
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/hosts/%s", host_id[src]);
    j = tl_call_ok(&sovd, "GET", path, ten.token[TL_OPERATOR], NULL, 200);
    ck_assert_str_eq(tl_str(j, "state"), "maintenance");
    json_decref(j);

    /* All three run on the other EU host, never on h3. */
    for (k = 0; k < 3; k++) {
        ck_assert_int_eq(vm_where(moved[k]), dst);
        expect_runs_on(moved[k], dst);
        expect_moved(moved[k], src, dst, NULL);
    }
    /* B's pings to A come back. */
    ck_assert_msg(pings_wait_above(&B, p, p->max > s0 ? p->max + 10 : s0 + 10, 60) >= 0,
                  "B's pings to A have no answer 60 s after the evacuation");
    {
        pings_read(&B, p);
        loss l = loss_between(p, s0, p->max);

        fprintf(stderr, "e2e/fleet: evacuation of %s (3 instances) to %s: operation %.1f s; "
                "B's pings to A: %d of %d lost, the longest gap %d ms\n", fleet.host[src].name,
                fleet.host[dst].name, t_op, l.lost, l.sent, (l.longest + 1) * PING_INTERVAL_MS);
    }
    free(op);
    free(p);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("e2e/fleet");
    TCase *tc = tcase_create("fleet");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(tc, bed_up, bed_down);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, two_guests_on_two_hosts_reach_each_other_over_geneve);
    tcase_add_test(tc, a_live_migration_while_the_other_guest_pings_it);
    tcase_add_test(tc, a_cold_migration_keeps_the_guests_disk);
    tcase_add_test(tc, a_migration_across_the_policy_is_refused);
    tcase_add_test(tc, evacuating_a_host_moves_its_three_instances_inside_the_policy);
    suite_add_tcase(s, tc);
    /* The cases build on each other (where A and B run): one process, in order. */
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
