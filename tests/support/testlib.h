/* testlib.h: what the Check suites share: fresh databases, a spawned sovd, an HTTP client.
 *
 * Integration tests get a real PostgreSQL from the harness (scripts/test) as
 * SOV_TEST_DATABASE_URL (a connection string without dbname); each test makes its own
 * database and drops it after. Without it, they fail loudly: they never skip. */
#ifndef SOV_TESTLIB_H
#define SOV_TESTLIB_H

#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Run a suite with a per-test timeout; returns the process exit status for main(). */
int tl_run_suite(Suite *s);

/* A temporary folder of this test, removed (recursively) by tl_tmpdir_remove. */
char *tl_tmpdir(void);
void tl_tmpdir_remove(const char *dir);

/* Environment a test needs, or a failed test naming it. */
const char *tl_env(const char *name);

/* A new empty database on the harness's cluster; returns its connection string (malloc). */
char *tl_db_create(void);
void tl_db_drop(const char *url);
/* Run SQL on a database; fails the test on error. Returns the first value of the first row
 * (malloc), or NULL when there is none. */
char *tl_db_exec(const char *url, const char *sql);

/* The same with a printf format: the first value (malloc; "" when there is no row), or
 * that value as a number (0 when there is no row). */
char *tl_db_value(const char *url, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
long long tl_db_num(const char *url, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run SQL (a printf format) on pg, a connection the test holds (a PGconn), asserting it
 * worked; the first value of its first row into ret (size; "" when none) unless ret is
 * NULL. */
struct pg_conn;
void tl_pg_sql(struct pg_conn *pg, char *ret, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Seconds on the monotonic clock. */
double tl_now(void);

/* Run a shell command; its output and error output (malloc, never NULL), its exit status
 * into *rc (rc may be NULL). */
char *tl_sh_out(int *rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* virsh -q -c uri ARGS: its exit status; its output (malloc) into *out unless out is NULL. */
int tl_virsh(const char *uri, char **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A TCP port on 127.0.0.1 that was free a moment ago. */
unsigned tl_free_port(void);
/* A TCP port on 127.0.0.1 nothing will answer on while *fd stays open (bound, never
 * listening: connections are refused, and nobody else can take the port meanwhile). */
unsigned tl_refused_port(int *fd);

/* A sovd child process. */
typedef struct tl_sovd {
    pid_t pid;
    unsigned port;
    char base[64];      /* "http://127.0.0.1:PORT" */
    char log[512];      /* its stderr */
    char state[512];    /* its state_dir (operator.token lives here) */
    int exit_status;    /* after tl_sovd_wait */
} tl_sovd;

/* Start sovd with SOV_DATABASE_URL=db_url and extra flags (NULL-terminated, may be NULL);
 * state goes to a fresh folder. Waits until /healthz answers (fails the test otherwise). */
void tl_sovd_start(tl_sovd *s, const char *db_url, const char *const *args);
/* Start and wait for it to exit by itself (bad config, refused migration); returns its exit
 * status, output in s->log. */
int tl_sovd_run_to_exit(tl_sovd *s, const char *db_url, const char *const *args,
                        const char *const *env);
/* Send sig and wait (at most timeout_s) for the exit; returns the exit status or -1. */
int tl_sovd_stop(tl_sovd *s, int sig, unsigned timeout_s);
/* Stop it with SIGTERM (SIGKILL after timeout_s): its exit status, 0 when it stopped
 * cleanly with nothing for the sanitizers (a leak makes LeakSanitizer's exit status). When
 * not, the tail of its log goes to stderr: Check carries only short messages. */
int tl_sovd_stop_clean(tl_sovd *s, unsigned timeout_s);
/* Stop it (SIGKILL if still running) and remove the folder made for it (log, state). */
void tl_sovd_discard(tl_sovd *s);
/* Its stderr so far (malloc). */
char *tl_sovd_log(const tl_sovd *s);

/* One HTTP exchange. */
typedef struct tl_resp {
    long status;
    char *body;
    size_t len;
    char *headers;      /* raw header block of the final response */
    json_t *json;       /* body parsed, when it is JSON */
    long connects;      /* new connections this request opened (0: reused keep-alive) */
} tl_resp;

typedef struct tl_req {
    const char *method;
    const char *url;
    const char *const *headers;    /* "Name: value", NULL-terminated */
    const void *body;
    size_t body_len;
    const char *cacert;            /* HTTPS: trust this CA file */
    bool chunked;                  /* send the body with chunked transfer encoding */
    void *curl;                    /* reuse this CURL handle (keep-alive tests) */
} tl_req;

/* Perform it; a transport failure fails the test unless allow_fail (then status 0). */
void tl_http(const tl_req *req, tl_resp *ret);
int tl_http_try(const tl_req *req, tl_resp *ret);
void tl_resp_free(tl_resp *r);
/* A response header's value (malloc), case-insensitive name; NULL when absent. */
char *tl_resp_header(const tl_resp *r, const char *name);

/* Convenience: GET base+path. */
void tl_get(const char *base, const char *path, tl_resp *ret);

/* Assert that r is a problem+json with this status and type. */
void tl_assert_problem(const tl_resp *r, long status, const char *type);
/* Assert that errors[0].field of the problem r is field. */
void tl_assert_problem_field(const tl_resp *r, const char *field);
/* Assert that text (which may be NULL) contains part. */
void tl_assert_contains(const char *text, const char *part);
/* Requests raced against each other: each POSTs body to url with auth; after tl_race, its
 * status (0: no answer) and its answer when JSON (json, NULL otherwise; the racer's). */
typedef struct tl_racer {
    char url[256], auth[160], body[256];
    long status;
    json_t *json;
} tl_racer;
/* r as a POST of body to path of s as token. */
void tl_racer_set(tl_racer *r, const tl_sovd *s, const char *path, const char *token,
                  const char *body);
/* Send r[0..n) at once, a thread each, and wait for every answer. */
void tl_race(tl_racer *r, size_t n);
/* Free the answers of r[0..n) and r. */
void tl_racers_free(tl_racer *r, size_t n);
/* Call s and assert the answer is a problem of status and type, naming field (unless NULL),
 * its body containing says (unless NULL). */
void tl_refused(const tl_sovd *s, const char *method, const char *path, const char *token,
                const char *body, long status, const char *type, const char *field,
                const char *says);

/* The operator token sovd wrote at bootstrap (malloc, without the newline). */
char *tl_operator_token(const tl_sovd *s);

/* Call the API: method, path, bearer token (NULL for none), JSON body text (NULL for
 * none). Fails the test on transport errors. */
void tl_call(const tl_sovd *s, const char *method, const char *path, const char *token,
             const char *body, tl_resp *ret);
/* The same with extra request headers ("Name: value", NULL-terminated, may be NULL). */
void tl_call_h(const tl_sovd *s, const char *method, const char *path, const char *token,
               const char *body, const char *const *headers, tl_resp *ret);
/* The same, asserting the status; returns the parsed body (a new reference, or NULL). */
json_t *tl_call_ok(const tl_sovd *s, const char *method, const char *path, const char *token,
                   const char *body, long want_status);

/* Poll GET /v1/operations/{id} (every 100 ms) until it succeeded; fails the test when it
 * failed or is still going after wait_s, showing the operation and sovd's warnings and
 * errors (where the operator-only detail, libvirt's words say, is logged). */
void tl_op_wait_ok(const tl_sovd *s, const char *token, const char *id, int wait_s);

/* Poll GET /v1/operations/{id} until it succeeded or failed (a failed test after wait_s);
 * returns the operation (a new reference). */
json_t *tl_op_wait_done(const tl_sovd *s, const char *token, const char *id, int wait_s);

/* Register a host: POST /v1/hosts with body, assert 202 {"host","operation"} and its
 * Location, wait (at most 60 s) for the host.register operation to succeed, and return the
 * host as GET /v1/hosts/{id} gives it (a new reference). */
json_t *tl_host_add(const tl_sovd *s, const char *token, const char *body);
/* The same up to the operation's end, for a registration that fails: returns the failed
 * operation (a new reference); the host's id into host_id (at least 40 bytes) unless NULL. */
json_t *tl_host_add_fails(const tl_sovd *s, const char *token, const char *body,
                          char *host_id);
/* A host of libvirt's test driver of its own (a host file named name.xml in dir, cpus and
 * memory_gib in size): its URI, test:///dir/name.xml (malloc). One machine is one host, so
 * a test that registers several test-driver hosts gives each a file. */
char *tl_test_host_uri(const char *dir, const char *name, int cpus, int memory_gib);

/* A string or integer member of a JSON object, or a failed test naming it. */
const char *tl_str(const json_t *j, const char *key);
long long tl_num(const json_t *j, const char *key);

/* A tenant with one user of each role, each with its own token: what most API tests need. */
typedef struct tl_tenant {
    char id[40];
    char name[64];
    char user_id[5][40];    /* by role index: operator (operator tenant only), admin, member,
                               reader, auditor */
    char token[5][64];
} tl_tenant;
enum { TL_OPERATOR, TL_ADMIN, TL_MEMBER, TL_READER, TL_AUDITOR, TL_ROLES };
extern const char *const tl_role_names[TL_ROLES];
/* Create tenant `name` (operator_token creates it) with an admin, member, reader and auditor,
 * each with a token. */
void tl_tenant_make(const tl_sovd *s, const char *operator_token, const char *name,
                    tl_tenant *ret);
/* The operator tenant as a tl_tenant: the bootstrap operator's token in token[TL_OPERATOR],
 * plus an admin, member, reader and auditor created in it. */
void tl_operator_tenant(const tl_sovd *s, tl_tenant *ret);

/* Run a shell command; returns its exit status. */
int tl_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file (malloc); NULL if it cannot be read. */
char *tl_read_file(const char *path);

/* A private libvirtd in session mode, run as user nobody in a folder of its own: a real
 * daemon with a real QEMU driver that a test may kill and start again without touching the
 * machine's system libvirtd (other runs may be using it). */
typedef struct tl_libvirtd {
    pid_t pid;          /* the daemon itself; 0 while it is stopped */
    char dir[512];      /* its folder: run/, home/, libvirtd.log */
    char sock[600];     /* dir/run/libvirt/libvirt-sock */
    char uri[700];      /* qemu+unix:///session?socket=<sock> */
    char host_uuid[40]; /* its libvirt host UUID (host_uuid in its libvirtd.conf), kept across
                           restarts: a machine without SMBIOS would get a new one each start */
} tl_libvirtd;
/* Make the folder and start the daemon; waits (at most 60 s) until it answers. The daemon
 * dies with the test process. */
void tl_libvirtd_start(tl_libvirtd *d);
/* Stop it (SIGTERM, SIGKILL after 10 s); the folder stays, so it can start again. */
void tl_libvirtd_stop(tl_libvirtd *d);
/* Start it again in the same folder; waits until it answers. */
void tl_libvirtd_restart(tl_libvirtd *d);
/* Give it another host UUID from its next start on (it then looks like another machine). */
void tl_libvirtd_set_host_uuid(tl_libvirtd *d, const char *uuid);
/* Stop it if running and remove its folder. */
void tl_libvirtd_discard(tl_libvirtd *d);

/* Run a shell command once this process has exited, however it exits: a failed check ends
 * the test process without its teardown, and what it made on the machine (a pool or domain
 * on the system libvirtd, a PostgreSQL cluster) would outlive the run. A watcher process
 * waits for the end of a pipe only this process holds, then runs /bin/sh -c. */
void tl_sh_at_exit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Destroy and undefine storage pool `name` on the libvirt at uri once this process has
 * exited (tl_sh_at_exit). */
void tl_libvirt_pool_cleanup_at_exit(const char *uri, const char *name);

/* A test's own OVN (scripts/ovn, hence the functions scripts/run uses): the Northbound and
 * Southbound ovsdb-servers on Unix sockets in a folder of the test, ovn-northd, and with
 * `chassis` this machine as a chassis with its own conf.db, ovs-vswitchd (in a network
 * namespace of its own, which dies with it) and ovn-controller, whose integration bridge has
 * a unique name. Nothing is shared with another run's OVN nor with scripts/run's. */
typedef struct tl_ovn {
    char dir[512];          /* the central part's files; the chassis' in dir/chassis */
    char chassis_dir[600];  /* "" without a chassis */
    char nb[600];           /* "unix:DIR/nb.sock": the Northbound database */
    char sb[600];           /* "unix:DIR/sb.sock": the Southbound database */
    char system_id[64];     /* the chassis' name in the SB */
    char bridge[16];        /* its integration bridge (at most 15 characters, IFNAMSIZ) */
    double start_s;         /* how long tl_ovn_start took, the bridge included */
    /* tl_ovn_start_host only: */
    bool host;              /* the chassis is this machine's, in the root namespace */
    int lock_fd;            /* holds TL_OVS_LOCK until tl_ovn_stop */
    char socket[256];       /* the default socket that leads to the chassis */
    char link_prev[600];    /* where it led before ("" nowhere), restored on stop */
} tl_ovn;
/* Start it in dir (NULL: a fresh temporary folder); fails the test when a daemon does not
 * start, or (chassis) the bridge is not there within 30 s. Its daemons are stopped when
 * the test process exits, however it exits. */
void tl_ovn_start(tl_ovn *o, const char *dir, bool chassis);
/* The machine-wide lock of the root namespace's Open vSwitch, and how long a test waits
 * for it. SOV_TEST_OVS_LOCK names another file, SOV_TEST_OVS_LOCK_WAIT_S another wait. */
#define TL_OVS_LOCK "/run/sov-test-ovs.lock"
#define TL_OVS_LOCK_WAIT_S 300
/* The same, but the chassis is this machine as libvirt's guests meet it: its ovs-vswitchd in
 * the root network namespace, its integration bridge br-int, its system-id the libvirt host
 * UUID of qemu:///system (what sovd records as the host's machine, and OVN's
 * requested-chassis), and the default socket /var/run/openvswitch/db.sock (where libvirt
 * runs ovs-vsctl; SOV_OVS_DEFAULT_SOCKET names another) leading to its conf.db. One test
 * at a time on a machine: it holds TL_OVS_LOCK from start to stop, waiting at most
 * TL_OVS_LOCK_WAIT_S for it (then fails naming the holder). It never takes over another
 * Open vSwitch: another one answering at the default socket, or another ovs-vswitchd in the
 * root namespace (scripts/run's), fails the test naming it. Stop (or the process's exit,
 * however it exits) stops the daemons and makes the default socket lead where it led before
 * (or removes it), then releases the lock. */
void tl_ovn_start_host(tl_ovn *o, const char *dir);
/* Give the chassis' external bridge (br-ex, OVN's physical network "public") the address
 * gateway ("192.0.2.1/24": a public IP pool's gateway) and bring it up (scripts/ovn
 * external), where the chassis' ovs-vswitchd runs; tl_ovn_stop takes it off again. For
 * tl_ovn_start_host's chassis that is the root namespace: the machine then reaches the
 * pool's addresses through br-ex. Fails the test when the address is taken on this machine
 * already. */
void tl_ovn_external(tl_ovn *o, const char *gateway);
/* A /24 for an external network in the root namespace that no address or route of this
 * machine overlaps (a default route aside): the first free of TEST-NET-2 (198.51.100.0/24),
 * TEST-NET-3 (203.0.113.0/24) and TEST-NET-1 (192.0.2.0/24; some machines' own network is
 * there). prefix gets "198.51.100." (at least 16 bytes). Fails the test when none is free. */
void tl_free_external(char prefix[16]);
/* Stop every daemon it started (by their pidfiles); the folder stays. tl_ovn_start_host's:
 * the default socket restored, leftover bridge taps removed and the lock released too (at
 * the process's exit instead, the folder it made goes as well). */
void tl_ovn_stop(tl_ovn *o);
/* Stop it and remove its folder. */
void tl_ovn_discard(tl_ovn *o);
/* ovn-nbctl, ovn-sbctl (against its NB, SB) and ovs-vsctl (against its chassis' conf.db)
 * with ARGS: the output (malloc, trailing newline cut) and the exit status into *rc (NULL:
 * a failed test unless it is 0). */
char *tl_ovn_nbctl(const tl_ovn *o, int *rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
char *tl_ovn_sbctl(const tl_ovn *o, int *rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
char *tl_ovn_vsctl(const tl_ovn *o, int *rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
