/* ctl.h: what sovctl's files share. sovctl is a client of the HTTP API and nothing else: it
 * includes no module header but cleanup.h, and links only libcurl, jansson and libcrypto.
 *
 * A function that can fail returns an exit status (CTL_EXIT_*), having said why on stderr
 * once, where the failure was seen; 0 is success. main() returns the status it is given. */
#ifndef SOV_CTL_H
#define SOV_CTL_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sov/cleanup.h"

SOV_DEFINE_AUTOPTR(json_t, json_decref)
SOV_DEFINE_AUTOPTR(FILE, fclose)

enum {
    CTL_EXIT_OK = 0,
    CTL_EXIT_API = 1,           /* the API answered with an error, or an operation failed */
    CTL_EXIT_USAGE = 2,         /* the command line is wrong */
    CTL_EXIT_CONN = 3,          /* no answer: connection, TLS, timeout */
    CTL_EXIT_INTERRUPTED = 130, /* Ctrl-C while waiting (the operation goes on) */
};

/* ---- the resource table (resources.c) ---- */

typedef enum ctl_type {
    CTL_T_STR,      /* a JSON string */
    CTL_T_INT,      /* a JSON integer */
    CTL_T_NUM,      /* a JSON number */
    CTL_T_LIST,     /* an array of strings: comma-separated, the flag repeatable */
    CTL_T_FILE,     /* a string: the contents of the file named */
    CTL_T_FILES,    /* an array of strings: the contents of each file named (repeatable) */
    CTL_T_SWITCH,   /* takes no value: present or not */
    CTL_T_OBJECTS,  /* an array of objects: each value KEY=VALUE,... one object (repeatable);
                     * "sg" is security_groups, a list that each sg= adds to */
} ctl_type;

enum {
    CTL_F_REQUIRED = 1u << 0,
    CTL_F_LOCAL = 1u << 1,      /* read by the verb's own code, never sent as given */
};

/* A flag of a verb. The value goes to the request body (POST, PUT, PATCH) or the query
 * string (GET) under `field` (the name with '-' as '_' when NULL); field "{tenant}" fills
 * the path's {tenant} instead; a dotted field ("boot.image") is a member of a nested object
 * of the body. With ref, the value names a resource of that name (by its
 * key or a match member) and is sent as its key: --tenant acme sends the tenant's id. */
typedef struct ctl_flag {
    const char *name;       /* "memory-mib", given as --memory-mib */
    ctl_type type;
    unsigned opts;          /* CTL_F_* */
    const char *metavar;    /* "MIB" in the help */
    const char *help;
    const char *field;
    const char *ref;
    char short_name;        /* 'o' for -o: a verb's short flag hides the global one */
} ctl_flag;

typedef enum ctl_kind {
    CTL_LIST,       /* GET a collection, following pages: a table */
    CTL_SHOW,       /* GET one: fields, or text as it comes */
    CTL_SEND,       /* POST, PUT or PATCH a body made of the flags */
    CTL_DELETE,     /* DELETE one */
    CTL_RUN,        /* the verb's own code */
} ctl_kind;

enum {
    CTL_V_CREATE = 1u << 0,     /* send an Idempotency-Key */
    CTL_V_ASYNC = 1u << 1,      /* may answer 202 with an operation: --wait follows it */
    CTL_V_BODY = 1u << 2,       /* needs at least one flag (updates) */
    CTL_V_PUBLIC = 1u << 3,     /* needs no token */
    CTL_V_VERDICT = 1u << 4,    /* the answer's "ok" is the exit status (0 or 1) */
    CTL_V_FIELDS = 1u << 5,     /* show every field of the answer, not its table row */
    CTL_V_WAITS = 1u << 6,      /* follows its operation even without --wait (a host is of no
                                   use before its discovery) */
    CTL_V_UPLOAD = 1u << 7,     /* streams a file (--file, or the last argument) as it is */
};

typedef struct ctl_ctx ctl_ctx;
typedef int (*ctl_run_fn)(ctl_ctx *ctx);
typedef void (*ctl_view_fn)(ctl_ctx *ctx, const json_t *j);

typedef struct ctl_verb {
    const char *name;       /* "list", "policy show"; "" for a command without verbs */
    const char *summary;
    ctl_kind kind;
    const char *method;
    const char *path;       /* "/v1/instances/{id}/actions": {id} is the first argument */
    const char *args;       /* the arguments for the help: "INSTANCE FILE", "[NAME]" */
    const ctl_flag *flags;  /* ends with { NULL } */
    unsigned opts;          /* CTL_V_* */
    const char *action;     /* a fixed body {"action": ...} */
    ctl_run_fn run;         /* CTL_RUN */
    ctl_view_fn view;       /* the human view of the answer, instead of the generic one */
    const char *note;       /* said on stderr after a human view ("shown once") */
} ctl_verb;

enum {
    CTL_C_WIDE = 1u << 0,   /* only with -o wide */
    CTL_C_STATE = 1u << 1,  /* a state: coloured */
    CTL_C_REF = 1u << 2,    /* path "image_id": the key of an image, shown as its name */
};

typedef void (*ctl_cell_fn)(const json_t *item, char *buf, size_t size);

typedef struct ctl_column {
    const char *header;
    const char *path;       /* member, dotted when nested: "host.name" */
    unsigned opts;          /* CTL_C_* */
    ctl_cell_fn cell;       /* computes the text instead of path */
} ctl_column;

typedef struct ctl_resource {
    const char *name;       /* "instance" */
    const char *summary;
    const char *path;       /* the collection, where a name is looked up */
    const char *key;        /* the member its paths use: "id", "code", "name" */
    const char *match;      /* members a person may give instead: "email,name" */
    const char *filter;     /* query parameter narrowing a lookup by name: "name" */
    const char *me;         /* the member of /v1/me that is the caller's own: "tenant" */
    const ctl_column *columns;      /* ends with { NULL } */
    const ctl_verb *verbs;          /* ends with { NULL } */
} ctl_resource;

extern const ctl_resource ctl_resources[];
extern const size_t ctl_resources_count;

const ctl_resource *ctl_resource_find(const char *name);

/* ---- a run of sovctl ---- */

typedef enum ctl_format { CTL_FMT_TABLE, CTL_FMT_WIDE, CTL_FMT_JSON } ctl_format;

/* Global flags as given on the command line (NULL or 0 when not). */
typedef struct ctl_opts {
    const char *profile, *endpoint, *cacert, *output, *idempotency_key;
    bool insecure, wait, no_color, verbose, help, version;
    long timeout_s, retries, limit, page_size;
} ctl_opts;

/* Where to call and as whom: the profile, then SOVCTL_* variables, then flags (config.c). */
typedef struct ctl_settings {
    char *config_path;
    char *profile;
    char *endpoint;
    const char *endpoint_from;  /* where the endpoint came from, for messages */
    char *token;
    char *cacert;
    bool insecure;
} ctl_settings;

typedef struct ctl_given {
    const ctl_flag *flag;
    const char *value;      /* NULL for a switch */
    char resolved[80];      /* a ref's key, once looked up */
} ctl_given;

#define CTL_MAX_ARGS 8
#define CTL_MAX_VALUES 64

struct ctl_ctx {
    ctl_opts opts;
    ctl_settings set;
    ctl_format format;
    bool out_tty;           /* stdout is a terminal */
    bool color;             /* stdout gets colour */
    bool err_tty;           /* stderr is a terminal: progress bars */
    void *curl;             /* client.c's handle, reused (keep-alive) */
    const ctl_resource *res;
    const ctl_verb *verb;
    const char *args[CTL_MAX_ARGS];
    size_t nargs;
    ctl_given values[CTL_MAX_VALUES];
    size_t nvalues;
    char tenant[80];        /* {tenant}: resolved from --tenant, else the caller's */
    char id[512];           /* {id}: the first argument, resolved to the key */
    json_t *me;             /* GET /v1/me, once asked */
};

/* ---- main.c ---- */

/* A global flag: it may come anywhere on the command line. */
typedef struct ctl_global {
    const char *name;
    char short_name;
    const char *metavar;    /* NULL: takes no value */
    const char *help;
} ctl_global;

extern const ctl_global ctl_globals[];
extern const size_t ctl_globals_count;

/* Report a wrong command line with a hint to the help; returns CTL_EXIT_USAGE. */
int ctl_usage_error(const ctl_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "sovctl: " + message on stderr; returns code. */
int ctl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- config.c ---- */

int ctl_settings_load(ctl_ctx *ctx);
void ctl_settings_release(ctl_settings *set);
int ctl_cmd_login(ctl_ctx *ctx);
int ctl_cmd_logout(ctl_ctx *ctx);
int ctl_cmd_profile_list(ctl_ctx *ctx);
int ctl_cmd_profile_use(ctl_ctx *ctx);
int ctl_cmd_profile_delete(ctl_ctx *ctx);

/* ---- client.c ---- */

typedef struct ctl_resp {
    long status;
    char *body;
    size_t len;
    char ctype[128];
    char location[1024];
    char request_id[128];
    bool replayed;          /* Idempotent-Replayed: true */
    long retry_after;       /* seconds, -1 when absent */
    json_t *json;           /* the body parsed, when it is JSON */
} ctl_resp;

typedef struct ctl_req {
    const char *method;
    const char *path;           /* "/v1/...?query", or a next link */
    const json_t *body;         /* sent as application/json */
    FILE *upload;               /* or streamed as application/octet-stream */
    long long upload_len;
    FILE *download;             /* a 2xx body goes here, not to memory */
    bool create;                /* send an Idempotency-Key (retries reuse it) */
    bool progress;              /* a progress bar on a terminal (uploads, downloads) */
    bool anonymous;             /* send no token (public routes) */
} ctl_req;

int ctl_client_init(ctl_ctx *ctx);
void ctl_client_cleanup(ctl_ctx *ctx);
/* Perform req. 0 when an answer came (any status, in *ret); else CTL_EXIT_CONN or
 * CTL_EXIT_INTERRUPTED, said. Retries 503s and lost connections of idempotent requests. */
int ctl_http(ctl_ctx *ctx, const ctl_req *req, ctl_resp *ret);
void ctl_resp_release(ctl_resp *r);
/* Say an error answer (problem+json title, detail and field errors); returns CTL_EXIT_API. */
int ctl_problem(const ctl_ctx *ctx, const ctl_resp *r);
/* One call wanting 2xx: *ret gets the JSON answer (a new reference, NULL when empty). */
int ctl_api(ctl_ctx *ctx, const char *method, const char *path, const json_t *body,
            json_t **ret);
/* path with each query value escaped and appended: ctl_query_add(&path, "name", "x y"). */
int ctl_query_add(char **path, const char *name, const char *value);
/* base + "/" + raw escaped for a path + suffix (malloc): "/v1/images/<id>/file". */
char *ctl_path_join(const char *base, const char *raw, const char *suffix);
/* A fresh random UUID (version 4). */
void ctl_uuid(char out[37]);

/* ---- output.c ---- */

void ctl_output_init(ctl_ctx *ctx);
void ctl_print_json(const json_t *j);
/* Text from the API (a console log) as it came; on a terminal with its control characters
 * other than newline and tab shown as '?', so a guest cannot drive the terminal. */
int ctl_print_text(const ctl_ctx *ctx, const char *data, size_t len);
/* A view that prints JSON whatever the format (documents no table can show). */
void ctl_view_json(ctl_ctx *ctx, const json_t *j);
void ctl_print_table(const ctl_ctx *ctx, const ctl_column *cols, const json_t *items);
/* Every member, flattened ("residency.region"), one per line. */
void ctl_print_fields(const ctl_ctx *ctx, const json_t *obj);
/* The answer of a verb in the chosen format (the verb's own view for people, if any):
 * for people, a resource that a verb changed is its table row, one that was asked for
 * (show) all its fields. */
void ctl_print(ctl_ctx *ctx, const json_t *j);
/* A string value, or "-" when it is not one (for messages). */
const char *ctl_text(const json_t *v);
/* A member by dotted path; NULL when missing. */
const json_t *ctl_json_path(const json_t *j, const char *path);
/* A value as table text: "-" for null or missing, arrays joined with ','. */
void ctl_json_text(const json_t *v, char *buf, size_t size);
/* Control characters (C0, DEL, C1 as UTF-8) as spaces, in place: for text from the API. */
void ctl_blank_controls(char *s);
/* An ANSI colour for a state word ("running": green), or "" without colour. */
const char *ctl_state_color(const ctl_ctx *ctx, const char *state);
const char *ctl_color_reset(const ctl_ctx *ctx);
const char *ctl_bold(const ctl_ctx *ctx);

/* ---- verbs.c: the generic verbs and what they need ---- */

int ctl_run_verb(ctl_ctx *ctx);
/* The generic GET-one (a verb of kind CTL_SHOW), for a CTL_RUN verb that falls back to it. */
int ctl_show(ctl_ctx *ctx);
/* The value given for flag `name` of the verb, or NULL. */
const char *ctl_value(const ctl_ctx *ctx, const char *name);
bool ctl_switch(const ctl_ctx *ctx, const char *name);
/* The verb's path with {id} and {tenant} filled (malloc). */
int ctl_expand_path(ctl_ctx *ctx, const char *tmpl, char **ret);
/* GET /v1/me once; lent. */
int ctl_me(ctl_ctx *ctx, const json_t **ret);
/* Name or key of one of res into its key, in out. */
int ctl_resolve(ctl_ctx *ctx, const ctl_resource *res, const char *given, char *out,
                size_t size);
/* Follow the pages of path (limit by --limit); *ret is {"items": [...], "next": ...}. */
int ctl_list_all(ctl_ctx *ctx, const char *path, json_t **ret);
/* The verb's request: body from the flags, path filled; *ret the answer (any status). */
int ctl_send(ctl_ctx *ctx, ctl_resp *ret);
/* The same with the members of extra (may be NULL) set in the body too. */
int ctl_send_extra(ctl_ctx *ctx, json_t *extra, ctl_resp *ret);
/* Show that answer: a problem, the resource, or the operation followed (--wait). */
int ctl_send_answer(ctl_ctx *ctx, ctl_resp *r);
/* Show what an asynchronous verb answered: follow its operation with --wait. */
int ctl_finish_async(ctl_ctx *ctx, json_t *answer);
/* The form of private key that data holds anywhere ("an OpenSSH private key"; also PEM RSA,
 * EC and DSA, PKCS#8 plain or encrypted, PuTTY), or NULL. sovctl never sends one. */
const char *ctl_private_key_kind(const char *data, size_t len);
/* A usage error (said, naming the .pub file for --ssh-key) when data, read from file for
 * option what ("--ssh-key"), holds a private key; else 0. */
int ctl_refuse_private_key(const ctl_ctx *ctx, const char *what, const char *file,
                           const char *data, size_t len);
/* The same for the first 64 KiB of a file to be streamed; 0 when it cannot be opened (the
 * caller's own open says why). */
int ctl_refuse_private_key_file(const ctl_ctx *ctx, const char *what, const char *file);

/* ---- wait.c ---- */

extern volatile sig_atomic_t ctl_interrupted;
/* Follow operation id to its end: 0 succeeded, CTL_EXIT_API failed, CTL_EXIT_INTERRUPTED on
 * Ctrl-C (said, with the command to follow it); *ret the last state of it (may be NULL). */
int ctl_wait_operation(ctl_ctx *ctx, const char *id, json_t **ret);
/* One frame of a progress bar on stderr (a terminal): fraction 0..1, or < 0 unknown. */
void ctl_progress_draw(const char *label, double fraction, const char *detail);
void ctl_progress_clear(void);
int ctl_cmd_operation_wait(ctl_ctx *ctx);

/* ---- commands.c: verbs with their own code ---- */

int ctl_cmd_whoami(ctl_ctx *ctx);
int ctl_cmd_completion_bash(ctl_ctx *ctx);
int ctl_cmd_image_upload(ctl_ctx *ctx);
int ctl_cmd_image_create(ctl_ctx *ctx);
int ctl_cmd_instance_migrate(ctl_ctx *ctx);
int ctl_cmd_instance_migrations(ctl_ctx *ctx);
/* console.c: the log's tail, or with --interactive the console itself (a WebSocket). */
int ctl_cmd_instance_console(ctl_ctx *ctx);
int ctl_cmd_version(ctl_ctx *ctx);
int ctl_cmd_host_maintenance(ctl_ctx *ctx);
int ctl_cmd_host_evacuate(ctl_ctx *ctx);
void ctl_view_quota(ctl_ctx *ctx, const json_t *j);
void ctl_view_audit_verify(ctl_ctx *ctx, const json_t *j);
void ctl_view_whoami(ctl_ctx *ctx, const json_t *j);

/* ---- report.c ---- */

int ctl_cmd_report(ctl_ctx *ctx);
int ctl_cmd_report_download(ctl_ctx *ctx);
int ctl_cmd_report_verify(ctl_ctx *ctx);
int ctl_cmd_residency_history(ctl_ctx *ctx);
int ctl_cmd_resource_residency(ctl_ctx *ctx);
void ctl_view_signing_key(ctl_ctx *ctx, const json_t *j);

/* ---- storage.c: the rows of volume types, volumes and snapshots ---- */

/* instance show: its fields, then its volumes as a table (device, name, boot, id). */
void ctl_view_instance(ctl_ctx *ctx, const json_t *j);
/* tenant kek-destroy TENANT: crypto-shredding, said as what it is. */
int ctl_cmd_kek_destroy(ctl_ctx *ctx);

extern const ctl_column ctl_volume_type_cols[], ctl_volume_cols[], ctl_snapshot_cols[];
extern const ctl_verb ctl_volume_type_verbs[], ctl_volume_verbs[], ctl_snapshot_verbs[];

/* ---- network.c: the rows of networks, subnets and ports ---- */

extern const ctl_column ctl_network_cols[], ctl_subnet_cols[], ctl_port_cols[];
extern const ctl_verb ctl_network_verbs[], ctl_subnet_verbs[], ctl_port_verbs[];

/* ---- netsec.c: the rows of security groups, routers, public IPs and their pools ---- */

extern const ctl_column ctl_security_group_cols[], ctl_router_cols[], ctl_public_ip_cols[],
    ctl_public_ip_pool_cols[];
extern const ctl_verb ctl_security_group_verbs[], ctl_router_verbs[], ctl_public_ip_verbs[],
    ctl_public_ip_pool_verbs[];

/* ---- help.c ---- */

void ctl_help_main(FILE *f);
void ctl_help_resource(FILE *f, const ctl_resource *res);
void ctl_help_verb(FILE *f, const ctl_resource *res, const ctl_verb *verb);

#endif
