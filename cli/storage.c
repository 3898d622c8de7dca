/* storage.c: sovctl's block storage commands: volume types (operators), volumes (create,
 * attach, detach, extend, move, residency) and snapshots. Table rows like resources.c's, kept
 * apart so the storage part of the table reads as one; the rows of ctl_resources[] that
 * point here are in resources.c. Names of volumes, snapshots and types go to the API as
 * given: its paths take an id or a name (in the default workspace). */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define REQ CTL_F_REQUIRED
#define LOCAL CTL_F_LOCAL
#define IDEM CTL_V_CREATE
#define ASYNC CTL_V_ASYNC

/* ---- cells ---- */

static void
cell_gib(const json_t *item, char *buf, size_t size)
{
    const json_t *v = json_object_get(item, "size_gib");

    if (json_is_integer(v))
        snprintf(buf, size, "%lld GiB", (long long) json_integer_value(v));
    else
        snprintf(buf, size, "-");
}

/* The host: a name, or an object with one (as an instance's). */
static void
cell_host(const json_t *item, char *buf, size_t size)
{
    const json_t *h = json_object_get(item, "host");

    if (json_is_object(h))
        h = json_object_get(h, "name");
    ctl_json_text(h, buf, size);
}

/* "web-1:vdc", one per attachment, comma-separated; "-" when none. */
static void
cell_attached(const json_t *item, char *buf, size_t size)
{
    const json_t *atts = json_object_get(item, "attachments"), *a;
    size_t i, used = 0;

    snprintf(buf, size, "-");
    json_array_foreach(atts, i, a) {
        const char *who = json_string_value(json_object_get(a, "instance_name"));
        const char *dev = json_string_value(json_object_get(a, "device"));
        if (!who || !*who)
            who = json_string_value(json_object_get(a, "instance"));
        if (used >= size)
            break;
        used += (size_t) snprintf(buf + used, size - used, "%s%s%s%s", i ? "," : "",
                                  who ? who : "?", dev ? ":" : "", dev ? dev : "");
    }
}

/* "image <id>", "snapshot <id>", "volume <id>" or "-". */
static void
cell_source(const json_t *item, char *buf, size_t size)
{
    const json_t *s = json_object_get(item, "source");

    if (!json_is_object(s)) {
        snprintf(buf, size, "-");
        return;
    }
    snprintf(buf, size, "%s %s", ctl_text(json_object_get(s, "type")),
             ctl_text(json_object_get(s, "id")));
}

static void
cell_boot(const json_t *item, char *buf, size_t size)
{
    snprintf(buf, size, "%s", json_is_true(json_object_get(item, "boot")) ? "yes" : "no");
}

/* ---- instances: their volumes and NICs ---- */

static void
cell_up(const json_t *item, char *buf, size_t size)
{
    snprintf(buf, size, "%s", json_is_true(json_object_get(item, "up")) ? "yes" : "no");
}

/* An instance on tenant networks: its NICs (ports) in device order, eth0 first. */
static void
ctl_view_instance_nics(ctl_ctx *ctx, const json_t *nics)
{
    static const ctl_column cols[] = {
        { "IP", "ip", 0, NULL },
        { "MAC", "mac", 0, NULL },
        { "UP", NULL, 0, cell_up },
        { "PUBLIC IP", "public_ip", 0, NULL },
        { "PORT", "port", 0, NULL },
        { "SUBNET", "subnet", 0, NULL },
        { 0 },
    };

    if (!json_is_array(nics) || json_array_size(nics) == 0)
        return;
    printf("\nnics:\n");
    ctl_print_table(ctx, cols, nics);
}

void
ctl_view_instance(ctl_ctx *ctx, const json_t *j)
{
    static const ctl_column cols[] = {
        { "DEVICE", "device", 0, NULL },
        { "VOLUME", "name", 0, NULL },
        { "BOOT", NULL, 0, cell_boot },
        { "ID", "id", 0, NULL },
        { 0 },
    };
    const json_t *vols = json_object_get(j, "volumes");
    const json_t *nics = json_object_get(j, "nics");
    sov_autoptr(json_t) rest = json_is_object(j) ? json_copy((json_t *) j) : NULL;

    if (!rest || !json_is_array(vols)) {
        ctl_print_fields(ctx, j);
        return;
    }
    json_object_del(rest, "volumes");
    json_object_del(rest, "nics");
    ctl_print_fields(ctx, rest);
    if (json_array_size(vols) == 0)
        printf("\nvolumes: none attached\n");
    else {
        printf("\nvolumes:\n");
        ctl_print_table(ctx, cols, vols);
    }
    ctl_view_instance_nics(ctx, nics);
}

/* ---- keys ---- */

int
ctl_cmd_kek_destroy(ctl_ctx *ctx)
{
    sov_autofree char *path = NULL;
    ctl_req req = { .method = "DELETE" };
    ctl_resp r;
    int rc;

    if ((rc = ctl_expand_path(ctx, ctx->verb->path, &path)) != 0)
        return rc;
    req.path = path;
    if ((rc = ctl_http(ctx, &req, &r)) != 0)
        return rc;
    if (r.status >= 400)
        rc = ctl_problem(ctx, &r);
    else if (ctx->format == CTL_FMT_JSON)
        printf("{}\n");
    else
        printf("key-encryption key of tenant %s destroyed: its encrypted volumes and "
               "snapshots can no longer be read\n", ctx->args[0]);
    ctl_resp_release(&r);
    return rc;
}

/* ---- volume types ---- */

const ctl_column ctl_volume_type_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "BACKEND", "backend", 0, NULL },
    { "ENCRYPTED", "encrypted", 0, NULL },
    { "MAX_IOPS", "max_iops", 0, NULL },
    { "MAX_BYTES_PER_S", "max_bytes_per_s", CTL_C_WIDE, NULL },
    { "CREATED", "created_at", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag volume_type_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME", .help = "type name" },
    { .name = "backend", .type = CTL_T_STR, .metavar = "BACKEND",
      .help = "where volumes live: libvirt-dir (default), a qcow2 file in the host's pool" },
    { .name = "encrypted", .type = CTL_T_SWITCH,
      .help = "LUKS-encrypt each volume with a key of its own" },
    { .name = "max-iops", .type = CTL_T_INT, .metavar = "N",
      .help = "I/O operations per second per volume (libvirt iotune)" },
    { .name = "max-bytes-per-s", .type = CTL_T_INT, .metavar = "N",
      .help = "bytes per second per volume (libvirt iotune)" },
    { 0 },
};

const ctl_verb ctl_volume_type_verbs[] = {
    { .name = "list", .summary = "List volume types", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/volume-types" },
    { .name = "show", .summary = "Show a volume type", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/volume-types/{id}", .args = "TYPE" },
    { .name = "get", .summary = "Show a volume type (as show)", .kind = CTL_SHOW,
      .method = "GET", .path = "/v1/volume-types/{id}", .args = "TYPE" },
    { .name = "create", .summary = "Offer a kind of volume (operators)", .kind = CTL_SEND,
      .method = "POST", .path = "/v1/volume-types", .flags = volume_type_create_flags,
      .opts = IDEM },
    { .name = "delete", .summary = "Withdraw a volume type no volume uses (operators)",
      .kind = CTL_DELETE, .method = "DELETE", .path = "/v1/volume-types/{id}",
      .args = "TYPE" },
    { 0 },
};

/* ---- volumes ---- */

/* volume create: --from-image, --from-snapshot or --from-volume become the API's
 * "source": {"type": ..., "id": ...}; at most one of them. */
static int
volume_create(ctl_ctx *ctx)
{
    static const char *const kinds[] = { "image", "snapshot", "volume" };
    sov_autoptr(json_t) extra = NULL;
    const char *type = NULL, *from = NULL;
    ctl_resp r;
    int rc;

    for (size_t i = 0; i < SOV_N_ELEMENTS(kinds); i++) {
        char flag[32];
        const char *v;
        snprintf(flag, sizeof(flag), "from-%s", kinds[i]);
        if (!(v = ctl_value(ctx, flag)))
            continue;
        if (from)
            return ctl_usage_error(ctx, "give one of --from-image, --from-snapshot, "
                                   "--from-volume");
        type = kinds[i];
        from = v;
    }
    if (from)
        extra = json_pack("{s:{s:s, s:s}}", "source", "type", type, "id", from);
    if ((rc = ctl_send_extra(ctx, extra, &r)) == 0)
        rc = ctl_send_answer(ctx, &r);
    ctl_resp_release(&r);
    return rc;
}

const ctl_column ctl_volume_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "SIZE", NULL, 0, cell_gib },
    { "TYPE", "type", 0, NULL },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "ATTACHED", NULL, 0, cell_attached },
    { "ZONE", "zone", 0, NULL },
    { "ENCRYPTED", "encrypted", CTL_C_WIDE, NULL },
    { "REGION", "region", CTL_C_WIDE, NULL },
    { "HOST", NULL, CTL_C_WIDE, cell_host },
    { "WORKSPACE", "workspace", CTL_C_WIDE, NULL },
    { "SOURCE", NULL, CTL_C_WIDE, cell_source },
    { "REASON", "state_reason", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag volume_list_flags[] = {
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "only this workspace's volumes" },
    { .name = "state", .type = CTL_T_STR, .metavar = "STATE",
      .help = "only this state (deleted ones only so)" },
    { .name = "instance", .type = CTL_T_STR, .metavar = "INSTANCE",
      .help = "only the volumes attached to this instance (name or id)", .ref = "instance" },
    { 0 },
};

static const ctl_flag volume_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME",
      .help = "volume name" },
    { .name = "size", .type = CTL_T_INT, .metavar = "GIB", .field = "size_gib",
      .help = "size in GiB (default with a source: the source's)" },
    { .name = "type", .type = CTL_T_STR, .metavar = "TYPE",
      .help = "volume type name or id (default: the cloud's default type)" },
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "workspace (default: default)" },
    { .name = "region", .type = CTL_T_STR, .metavar = "CODE",
      .help = "place it in this region" },
    { .name = "zone", .type = CTL_T_STR, .metavar = "ZONE", .help = "place it in this zone" },
    { .name = "from-image", .type = CTL_T_STR, .opts = LOCAL, .metavar = "IMAGE",
      .help = "a copy of this image (name or id)" },
    { .name = "from-snapshot", .type = CTL_T_STR, .opts = LOCAL, .metavar = "SNAPSHOT",
      .help = "restore this snapshot into the new volume (name or id)" },
    { .name = "from-volume", .type = CTL_T_STR, .opts = LOCAL, .metavar = "VOLUME",
      .help = "a copy of this volume (name or id)" },
    { .name = "instance-hint", .type = CTL_T_STR, .metavar = "INSTANCE",
      .help = "place it on this instance's host, so it can be attached there" },
    { 0 },
};

static const ctl_flag volume_attach_flags[] = {
    { .name = "instance", .type = CTL_T_STR, .opts = REQ, .metavar = "INSTANCE",
      .help = "the instance (name or id), on the volume's host" },
    { 0 },
};

static const ctl_flag volume_detach_flags[] = {
    { .name = "instance", .type = CTL_T_STR, .metavar = "INSTANCE",
      .help = "the instance it is attached to (name or id)" },
    { .name = "force", .type = CTL_T_SWITCH,
      .help = "take it away even if the guest does not release it" },
    { 0 },
};

static const ctl_flag volume_extend_flags[] = {
    { .name = "size", .type = CTL_T_INT, .opts = REQ, .metavar = "GIB", .field = "size_gib",
      .help = "the new size in GiB, larger than the current (never shrinks)" },
    { 0 },
};

static const ctl_flag volume_move_flags[] = {
    { .name = "zone", .type = CTL_T_STR, .metavar = "ZONE",
      .help = "move it to a host in this zone" },
    { .name = "region", .type = CTL_T_STR, .metavar = "REGION",
      .help = "move it to a host in this region (inside the residency policy)" },
    { .name = "host", .type = CTL_T_STR, .metavar = "HOST",
      .help = "move it to this host (operators)" },
    { 0 },
};

const ctl_verb ctl_volume_verbs[] = {
    { .name = "list", .summary = "List volumes", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/volumes", .flags = volume_list_flags },
    { .name = "show", .summary = "Show a volume: state, attachments, residency",
      .kind = CTL_SHOW, .method = "GET", .path = "/v1/volumes/{id}", .args = "VOLUME" },
    { .name = "get", .summary = "Show a volume (as show)", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/volumes/{id}", .args = "VOLUME" },
    { .name = "create",
      .summary = "Create a volume: empty, or from an image, a snapshot or a volume",
      .kind = CTL_RUN, .method = "POST", .path = "/v1/volumes", .flags = volume_create_flags,
      .opts = IDEM | ASYNC, .run = volume_create },
    { .name = "attach", .summary = "Hot-plug a volume into an instance on its host",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/volumes/{id}/actions",
      .args = "VOLUME", .flags = volume_attach_flags, .opts = IDEM | ASYNC,
      .action = "attach" },
    { .name = "detach", .summary = "Unplug a volume once the guest releases it",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/volumes/{id}/actions",
      .args = "VOLUME", .flags = volume_detach_flags, .opts = IDEM | ASYNC,
      .action = "detach" },
    { .name = "extend", .summary = "Grow a volume, online when it is attached",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/volumes/{id}/actions",
      .args = "VOLUME", .flags = volume_extend_flags, .opts = IDEM | ASYNC,
      .action = "extend" },
    { .name = "move", .summary = "Move a detached volume to another host (zone, region, host)",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/volumes/{id}/actions",
      .args = "VOLUME", .flags = volume_move_flags, .opts = IDEM | ASYNC, .action = "move" },
    { .name = "residency", .summary = "Where a volume's data has lived: its residency records",
      .kind = CTL_RUN, .method = "GET", .path = "/v1/volumes/{id}/residency",
      .args = "VOLUME", .run = ctl_cmd_resource_residency },
    { .name = "delete", .summary = "Delete a detached volume that has no snapshots",
      .kind = CTL_DELETE, .method = "DELETE", .path = "/v1/volumes/{id}", .args = "VOLUME",
      .opts = ASYNC },
    { 0 },
};

/* ---- snapshots ---- */

const ctl_column ctl_snapshot_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "VOLUME", "volume_name", 0, NULL },
    { "SIZE", NULL, 0, cell_gib },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "ZONE", "zone", 0, NULL },
    { "ENCRYPTED", "encrypted", CTL_C_WIDE, NULL },
    { "VOLUME_ID", "volume", CTL_C_WIDE, NULL },
    { "REGION", "region", CTL_C_WIDE, NULL },
    { "HOST", NULL, CTL_C_WIDE, cell_host },
    { "WORKSPACE", "workspace", CTL_C_WIDE, NULL },
    { "CREATED", "created_at", CTL_C_WIDE, NULL },
    { "REASON", "state_reason", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag snapshot_list_flags[] = {
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "only this workspace's snapshots" },
    { .name = "volume", .type = CTL_T_STR, .metavar = "VOLUME",
      .help = "only this volume's snapshots (id)" },
    { 0 },
};

static const ctl_flag snapshot_create_flags[] = {
    { .name = "volume", .type = CTL_T_STR, .opts = REQ, .metavar = "VOLUME",
      .help = "the volume (name or id), attached or not" },
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME",
      .help = "snapshot name" },
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "workspace (default: default)" },
    { 0 },
};

const ctl_verb ctl_snapshot_verbs[] = {
    { .name = "list", .summary = "List snapshots", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/snapshots", .flags = snapshot_list_flags },
    { .name = "show", .summary = "Show a snapshot", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/snapshots/{id}", .args = "SNAPSHOT" },
    { .name = "get", .summary = "Show a snapshot (as show)", .kind = CTL_SHOW,
      .method = "GET", .path = "/v1/snapshots/{id}", .args = "SNAPSHOT" },
    { .name = "create",
      .summary = "Take a crash-consistent copy of a volume (restore: volume create "
                 "--from-snapshot)",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/snapshots",
      .flags = snapshot_create_flags, .opts = IDEM | ASYNC },
    { .name = "residency",
      .summary = "Where a snapshot's data has lived: its residency records", .kind = CTL_RUN,
      .method = "GET", .path = "/v1/snapshots/{id}/residency", .args = "SNAPSHOT",
      .run = ctl_cmd_resource_residency },
    { .name = "delete", .summary = "Delete a snapshot", .kind = CTL_DELETE,
      .method = "DELETE", .path = "/v1/snapshots/{id}", .args = "SNAPSHOT", .opts = ASYNC },
    { 0 },
};
