/* resources.c: every command of sovctl, in one table. A resource names its collection, the
 * member its paths use and what a person may type instead (a name, an email); its columns
 * make the tables; its verbs say method, path and flags. The parser, the help, the bash
 * completion and the generic verbs all read this table, so a new resource of the API is a
 * few lines here: columns, flags, verbs and one row of ctl_resources[]. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define REQ CTL_F_REQUIRED
#define LOCAL CTL_F_LOCAL
#define IDEM CTL_V_CREATE
#define ASYNC CTL_V_ASYNC
#define BODY CTL_V_BODY
#define PUBLIC CTL_V_PUBLIC
#define FIELDS CTL_V_FIELDS
#define UPLOAD CTL_V_UPLOAD

/* ---- cells the generic column paths cannot say ---- */

static void
cell_size(char *buf, size_t size, double v, const char *const *units)
{
    int u = 0;

    while (v >= 1024 && units[u + 1]) {
        v /= 1024;
        u++;
    }
    if (v == (double) (long long) v)
        snprintf(buf, size, "%lld %s", (long long) v, units[u]);
    else
        snprintf(buf, size, "%.1f %s", v, units[u]);
}

static void
cell_units(const json_t *item, const char *member, const char *const *units, char *buf,
           size_t size)
{
    const json_t *v = ctl_json_path(item, member);

    if (!json_is_integer(v)) {
        snprintf(buf, size, "-");
        return;
    }
    cell_size(buf, size, (double) json_integer_value(v), units);
}

static const char *const bytes_units[] = { "B", "KiB", "MiB", "GiB", "TiB", NULL };
static const char *const mib_units[] = { "MiB", "GiB", "TiB", NULL };

static void
cell_memory(const json_t *item, char *buf, size_t size)
{
    cell_units(item, "memory_mib", mib_units, buf, size);
}

static void
cell_disk(const json_t *item, char *buf, size_t size)
{
    const json_t *v = json_object_get(item, "disk_gib");

    if (json_is_integer(v))
        snprintf(buf, size, "%lld GiB", (long long) json_integer_value(v));
    else
        snprintf(buf, size, "-");
}

static void
cell_image_size(const json_t *item, char *buf, size_t size)
{
    cell_units(item, "size_bytes", bytes_units, buf, size);
}

static void
cell_image_vsize(const json_t *item, char *buf, size_t size)
{
    cell_units(item, "virtual_size_bytes", bytes_units, buf, size);
}

/* "used/capacity" of a host's usage and capacity members. */
static void
cell_use(const json_t *item, const char *what, char *buf, size_t size)
{
    char path[64];
    const json_t *used, *cap;

    snprintf(path, sizeof(path), "usage.%s", what);
    used = ctl_json_path(item, path);
    snprintf(path, sizeof(path), "capacity.%s", what);
    cap = ctl_json_path(item, path);
    if (!json_is_integer(used) || !json_is_integer(cap)) {
        snprintf(buf, size, "-");
        return;
    }
    snprintf(buf, size, "%lld/%lld", (long long) json_integer_value(used),
             (long long) json_integer_value(cap));
}

static void
cell_host_vcpus(const json_t *item, char *buf, size_t size)
{
    cell_use(item, "vcpus", buf, size);
}

static void
cell_host_memory(const json_t *item, char *buf, size_t size)
{
    cell_use(item, "memory_mib", buf, size);
}

static void
cell_host_disk(const json_t *item, char *buf, size_t size)
{
    cell_use(item, "disk_gib", buf, size);
}

static void
cell_progress(const json_t *item, char *buf, size_t size)
{
    const json_t *v = json_object_get(item, "progress");

    if (json_is_integer(v))
        snprintf(buf, size, "%lld%%", (long long) json_integer_value(v));
    else
        snprintf(buf, size, "-");
}

static void
cell_audit_resource(const json_t *item, char *buf, size_t size)
{
    const char *type = json_string_value(json_object_get(item, "resource_type"));
    const char *id = json_string_value(json_object_get(item, "resource_id"));

    if (!type || !*type)
        snprintf(buf, size, "-");
    else if (!id || !*id)
        snprintf(buf, size, "%s", type);
    else
        snprintf(buf, size, "%s/%s", type, id);
}

/* ---- region ---- */

static const ctl_column region_cols[] = {
    { "CODE", "code", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "COUNTRY", "country", 0, NULL },
    { "JURISDICTION", "jurisdiction", 0, NULL },
    { "DATACENTER", "datacenter", 0, NULL },
    { "ZONES", "zones", 0, NULL },
    { "CREATED", "created_at", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag region_create_flags[] = {
    { .name = "code", .type = CTL_T_STR, .opts = REQ, .metavar = "CODE",
      .help = "region code, e.g. fr-mougins-1" },
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME",
      .help = "a name for people" },
    { .name = "country", .type = CTL_T_STR, .opts = REQ, .metavar = "CC",
      .help = "ISO 3166-1 alpha-2 country (gives the jurisdiction)" },
    { .name = "datacenter", .type = CTL_T_STR, .opts = REQ, .metavar = "DC",
      .help = "the datacenter" },
    { .name = "zones", .type = CTL_T_LIST, .opts = REQ, .metavar = "ZONE,...",
      .help = "its zones (comma-separated or repeated)" },
    { 0 },
};

static const ctl_flag region_update_flags[] = {
    { .name = "name", .type = CTL_T_STR, .metavar = "NAME", .help = "a new name" },
    { .name = "datacenter", .type = CTL_T_STR, .metavar = "DC", .help = "a new datacenter" },
    { .name = "zones", .type = CTL_T_LIST, .metavar = "ZONE,...",
      .help = "the zones (replaces the list)" },
    { 0 },
};

static const ctl_verb region_verbs[] = {
    { .name = "list", .summary = "List regions", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/regions" },
    { .name = "show", .summary = "Show a region", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/regions/{id}", .args = "CODE" },
    { .name = "create", .summary = "Create a region (operators)", .kind = CTL_SEND,
      .method = "POST", .path = "/v1/regions", .flags = region_create_flags, .opts = IDEM },
    { .name = "update", .summary = "Rename a region, change its datacenter or zones (operators)",
      .kind = CTL_SEND, .method = "PATCH", .path = "/v1/regions/{id}", .args = "CODE",
      .flags = region_update_flags, .opts = BODY },
    { .name = "delete", .summary = "Delete an empty region (operators)", .kind = CTL_DELETE,
      .method = "DELETE", .path = "/v1/regions/{id}", .args = "CODE" },
    { 0 },
};

/* ---- host ---- */

static const ctl_column host_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "REGION", "region", 0, NULL },
    { "ZONE", "zone", 0, NULL },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "HYPERVISOR", "hypervisor", 0, NULL },
    { "VCPUS", NULL, 0, cell_host_vcpus },
    { "MEMORY_MIB", NULL, 0, cell_host_memory },
    { "DISK_GIB", NULL, CTL_C_WIDE, cell_host_disk },
    { "GPUS", "gpus", CTL_C_WIDE, NULL },
    { "CPU_MODEL", "cpu_model", CTL_C_WIDE, NULL },
    { "LIBVIRT_URI", "libvirt_uri", CTL_C_WIDE, NULL },
    { "REASON", "state_reason", CTL_C_WIDE, NULL },
    { "CHECKED", "checked_at", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag host_list_flags[] = {
    { .name = "region", .type = CTL_T_STR, .metavar = "CODE",
      .help = "only hosts of this region" },
    { .name = "state", .type = CTL_T_STR, .metavar = "STATE",
      .help = "only hosts in this state (discovering, up, down, disabled, draining, "
              "maintenance, error)" },
    { 0 },
};

static const ctl_flag host_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME", .help = "host name" },
    { .name = "region", .type = CTL_T_STR, .opts = REQ, .metavar = "CODE",
      .help = "its region" },
    { .name = "zone", .type = CTL_T_STR, .opts = REQ, .metavar = "ZONE",
      .help = "its zone in the region" },
    { .name = "libvirt-uri", .type = CTL_T_STR, .opts = REQ, .metavar = "URI",
      .help = "qemu:///system, qemu+tls://host/system, ..." },
    { .name = "cpu-allocation-ratio", .type = CTL_T_NUM, .metavar = "R",
      .help = "vCPUs per physical CPU (default 4.0)" },
    { .name = "ram-allocation-ratio", .type = CTL_T_NUM, .metavar = "R",
      .help = "memory overcommit (default 1.0)" },
    { 0 },
};

static const ctl_flag host_update_flags[] = {
    { .name = "state", .type = CTL_T_STR, .metavar = "STATE",
      .help = "up, disabled, draining or maintenance" },
    { .name = "cpu-allocation-ratio", .type = CTL_T_NUM, .metavar = "R",
      .help = "vCPUs per physical CPU" },
    { .name = "ram-allocation-ratio", .type = CTL_T_NUM, .metavar = "R",
      .help = "memory overcommit" },
    { 0 },
};

static const ctl_verb host_verbs[] = {
    { .name = "list", .summary = "List hosts (operators)", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/hosts", .flags = host_list_flags },
    { .name = "show", .summary = "Show a host", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/hosts/{id}", .args = "HOST" },
    { .name = "create",
      .summary = "Register a libvirt host, waiting while sovd discovers it (one machine, one host)",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/hosts", .flags = host_create_flags,
      .opts = IDEM | CTL_V_WAITS },
    { .name = "update",
      .summary = "Disable, drain, put in maintenance or re-enable (up) a host, or change its "
                 "ratios",
      .kind = CTL_SEND, .method = "PATCH", .path = "/v1/hosts/{id}", .args = "HOST",
      .flags = host_update_flags, .opts = BODY },
    { .name = "delete", .summary = "Delete a host that holds no allocations", .kind = CTL_DELETE,
      .method = "DELETE", .path = "/v1/hosts/{id}", .args = "HOST" },
    { .name = "confirm-machine",
      .summary = "Accept the different machine found behind a down host's URI (audited)",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/hosts/{id}/confirm-machine",
      .args = "HOST" },
    { .name = "maintenance",
      .summary = "No new placements on a host (back with: host update HOST --state up)",
      .kind = CTL_RUN, .method = "PATCH", .path = "/v1/hosts/{id}", .args = "HOST",
      .run = ctl_cmd_host_maintenance },
    { .name = "evacuate",
      .summary = "Maintenance, then move every instance elsewhere inside its policy (--wait: "
                 "what moved, stayed and failed)",
      .kind = CTL_RUN, .method = "POST", .path = "/v1/hosts/{id}/evacuate", .args = "HOST",
      .run = ctl_cmd_host_evacuate },
    { 0 },
};

/* ---- flavor ---- */

static const ctl_column flavor_cols[] = {
    { "NAME", "name", 0, NULL },
    { "VCPUS", "vcpus", 0, NULL },
    { "MEMORY", NULL, 0, cell_memory },
    { "DISK", NULL, 0, cell_disk },
    { "GPUS", "gpus", 0, NULL },
    { "ID", "id", CTL_C_WIDE, NULL },
    { "CREATED", "created_at", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag flavor_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME", .help = "flavor name" },
    { .name = "vcpus", .type = CTL_T_INT, .opts = REQ, .metavar = "N", .help = "virtual CPUs" },
    { .name = "memory-mib", .type = CTL_T_INT, .opts = REQ, .metavar = "MIB",
      .help = "memory in MiB" },
    { .name = "disk-gib", .type = CTL_T_INT, .opts = REQ, .metavar = "GIB",
      .help = "root disk in GiB" },
    { .name = "gpus", .type = CTL_T_INT, .metavar = "N",
      .help = "GPUs passed through (default 0)" },
    { 0 },
};

static const ctl_verb flavor_verbs[] = {
    { .name = "list", .summary = "List flavors", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/flavors" },
    { .name = "show", .summary = "Show a flavor", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/flavors/{id}", .args = "FLAVOR" },
    { .name = "create", .summary = "Offer a size (operators)", .kind = CTL_SEND,
      .method = "POST", .path = "/v1/flavors", .flags = flavor_create_flags, .opts = IDEM },
    { .name = "delete", .summary = "Withdraw a flavor no instance uses (operators)",
      .kind = CTL_DELETE, .method = "DELETE", .path = "/v1/flavors/{id}", .args = "FLAVOR" },
    { 0 },
};

/* ---- image ---- */

static const ctl_column image_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "WORKSPACE", "workspace", 0, NULL },
    { "REGION", "region", 0, NULL },
    { "FORMAT", "format", 0, NULL },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "SIZE", NULL, 0, cell_image_size },
    { "VIRTUAL_SIZE", NULL, CTL_C_WIDE, cell_image_vsize },
    { "MIN_DISK_GIB", "min_disk_gib", CTL_C_WIDE, NULL },
    { "SHA256", "sha256", CTL_C_WIDE, NULL },
    { "SOURCE", "source_url", CTL_C_WIDE, NULL },
    { "TENANT", "tenant_id", CTL_C_WIDE | CTL_C_REF, NULL },
    { "REASON", "state_reason", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag image_list_flags[] = {
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "only this workspace's images" },
    { .name = "region", .type = CTL_T_STR, .metavar = "CODE",
      .help = "only this region's images" },
    { .name = "tenant", .type = CTL_T_STR, .metavar = "TENANT",
      .help = "operators: only this tenant's", .field = "tenant_id", .ref = "tenant" },
    { 0 },
};

static const ctl_flag image_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME", .help = "image name" },
    { .name = "region", .type = CTL_T_STR, .opts = REQ, .metavar = "CODE",
      .help = "the region whose image store keeps it" },
    { .name = "format", .type = CTL_T_STR, .opts = REQ, .metavar = "FORMAT",
      .help = "qcow2 or raw" },
    { .name = "source-url", .type = CTL_T_STR, .metavar = "URL",
      .help = "import from this URL (http, https)" },
    { .name = "file", .type = CTL_T_STR, .opts = LOCAL, .metavar = "FILE",
      .help = "upload this file instead of a --source-url" },
    { .name = "sha256", .type = CTL_T_STR, .metavar = "HEX",
      .help = "the expected SHA-256 of the bytes" },
    { .name = "min-disk-gib", .type = CTL_T_INT, .metavar = "GIB",
      .help = "smallest root disk it needs" },
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "workspace (default: default)" },
    { .name = "tenant", .type = CTL_T_STR, .metavar = "TENANT",
      .help = "operators: for this tenant", .field = "tenant_id", .ref = "tenant" },
    { 0 },
};

static const ctl_verb image_verbs[] = {
    { .name = "list", .summary = "List images", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/images", .flags = image_list_flags },
    { .name = "show", .summary = "Show an image", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/images/{id}", .args = "IMAGE" },
    { .name = "create",
      .summary = "Create an image: imported from --source-url, or uploaded from --file",
      .kind = CTL_RUN, .method = "POST", .path = "/v1/images", .flags = image_create_flags,
      .opts = IDEM | ASYNC | UPLOAD, .run = ctl_cmd_image_create },
    { .name = "upload", .summary = "Upload the bytes of a queued image, streamed from FILE",
      .kind = CTL_RUN, .method = "PUT", .path = "/v1/images/{id}/file", .args = "IMAGE FILE",
      .opts = UPLOAD, .run = ctl_cmd_image_upload },
    { .name = "delete", .summary = "Delete an image no instance uses", .kind = CTL_DELETE,
      .method = "DELETE", .path = "/v1/images/{id}", .args = "IMAGE", .opts = ASYNC },
    { 0 },
};

/* ---- instance ---- */

static const ctl_column instance_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "REGION", "region", 0, NULL },
    { "ZONE", "zone", 0, NULL },
    { "VCPUS", "vcpus", 0, NULL },
    { "MEMORY", NULL, 0, cell_memory },
    { "ADDRESSES", "addresses", 0, NULL },
    { "WORKSPACE", "workspace", CTL_C_WIDE, NULL },
    { "HOST", "host.name", CTL_C_WIDE, NULL },
    { "DISK", NULL, CTL_C_WIDE, cell_disk },
    { "IMAGE", "image_id", CTL_C_WIDE | CTL_C_REF, NULL },
    { "FLAVOR", "flavor_id", CTL_C_WIDE | CTL_C_REF, NULL },
    { "TENANT", "tenant_id", CTL_C_WIDE | CTL_C_REF, NULL },
    { "REASON", "state_reason", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag instance_list_flags[] = {
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "only this workspace's instances" },
    { .name = "region", .type = CTL_T_STR, .metavar = "CODE", .help = "only this region's" },
    { .name = "state", .type = CTL_T_STR, .metavar = "STATE",
      .help = "only this state (deleted ones only so)" },
    { .name = "name", .type = CTL_T_STR, .metavar = "NAME",
      .help = "only instances of this name" },
    { .name = "tenant", .type = CTL_T_STR, .metavar = "TENANT",
      .help = "operators: only this tenant's", .field = "tenant_id", .ref = "tenant" },
    { 0 },
};

static const ctl_flag instance_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME",
      .help = "instance name" },
    { .name = "flavor", .type = CTL_T_STR, .opts = REQ, .metavar = "FLAVOR",
      .help = "flavor name or id" },
    { .name = "image", .type = CTL_T_STR, .metavar = "IMAGE",
      .help = "image name (in the workspace) or id (not with a boot volume)" },
    { .name = "boot-volume", .type = CTL_T_STR, .metavar = "VOLUME",
      .help = "boot from this volume (name or id) instead of an image" },
    { .name = "boot-image", .type = CTL_T_STR, .metavar = "IMAGE", .field = "boot.image",
      .help = "boot from a new volume made from this image" },
    { .name = "boot-size", .type = CTL_T_INT, .metavar = "GIB", .field = "boot.size_gib",
      .help = "the size of that new boot volume" },
    { .name = "boot-type", .type = CTL_T_STR, .metavar = "TYPE", .field = "boot.type",
      .help = "the volume type of that new boot volume" },
    { .name = "volume", .type = CTL_T_LIST, .metavar = "VOLUME", .field = "volumes",
      .help = "attach this volume (repeatable); the instance lands on its host" },
    { .name = "nic", .type = CTL_T_OBJECTS, .metavar = "subnet=S[,ip=A][,sg=G...]|port=P",
      .field = "nics",
      .help = "a NIC on tenant networks, in order: a new port on subnet S (address A, "
              "security groups G; default: the workspace's default group) or the existing "
              "port P; none: one NIC on the workspace's default subnet" },
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "workspace (default: default)" },
    { .name = "region", .type = CTL_T_STR, .metavar = "CODE",
      .help = "place it in this region" },
    { .name = "zone", .type = CTL_T_STR, .metavar = "ZONE", .help = "place it in this zone" },
    { .name = "country", .type = CTL_T_STR, .metavar = "CC",
      .help = "place it in this country" },
    { .name = "ssh-key", .type = CTL_T_FILES, .metavar = "FILE",
      .help = "an SSH public key file", .field = "ssh_keys" },
    { .name = "user-data", .type = CTL_T_FILE, .metavar = "FILE",
      .help = "cloud-init user data file", .field = "user_data" },
    { .name = "anti-affinity-group", .type = CTL_T_STR, .metavar = "GROUP",
      .help = "never on a host of another member" },
    { .name = "tenant", .type = CTL_T_STR, .metavar = "TENANT",
      .help = "operators: for this tenant", .field = "tenant_id", .ref = "tenant" },
    { 0 },
};

static const ctl_flag instance_console_flags[] = {
    { .name = "tail-bytes", .type = CTL_T_INT, .metavar = "N",
      .help = "the last N bytes of the log (1 to 1048576; default 65536)" },
    { .name = "interactive", .type = CTL_T_SWITCH, .opts = CTL_F_LOCAL,
      .help = "attach to the console itself (type into the guest; Ctrl-] detaches)" },
    { .name = "force", .type = CTL_T_SWITCH, .opts = CTL_F_LOCAL,
      .help = "with --interactive: take the console over from another session" },
    { 0 },
};

static const ctl_flag instance_migrate_flags[] = {
    { .name = "cold", .type = CTL_T_SWITCH, .opts = CTL_F_LOCAL,
      .help = "stop the guest, copy its disks and start it again on the target (a stopped "
              "instance always moves cold); default: live, the guest running throughout" },
    { .name = "host", .type = CTL_T_STR, .metavar = "HOST",
      .help = "operators: the target host (name or id), inside the tenant's residency "
              "policy; default: the scheduler's choice among the other hosts of the "
              "instance's region" },
    { 0 },
};

static const ctl_verb instance_verbs[] = {
    { .name = "list", .summary = "List instances", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/instances", .flags = instance_list_flags },
    { .name = "show", .summary = "Show an instance: state, placement, residency, addresses",
      .kind = CTL_SHOW, .method = "GET", .path = "/v1/instances/{id}", .args = "INSTANCE",
      .view = ctl_view_instance },
    { .name = "create",
      .summary = "Create a virtual machine, placed inside the residency policy",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/instances",
      .flags = instance_create_flags, .opts = IDEM | ASYNC },
    { .name = "start", .summary = "Start a stopped instance", .kind = CTL_SEND, .method = "POST",
      .path = "/v1/instances/{id}/actions", .args = "INSTANCE", .opts = IDEM | ASYNC,
      .action = "start" },
    { .name = "stop", .summary = "Stop an instance (ACPI, then forced after a timeout)",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/instances/{id}/actions",
      .args = "INSTANCE", .opts = IDEM | ASYNC, .action = "stop" },
    { .name = "reboot", .summary = "Reboot an instance", .kind = CTL_SEND, .method = "POST",
      .path = "/v1/instances/{id}/actions", .args = "INSTANCE", .opts = IDEM | ASYNC,
      .action = "reboot" },
    { .name = "hard-stop", .summary = "Power an instance off at once", .kind = CTL_SEND,
      .method = "POST", .path = "/v1/instances/{id}/actions", .args = "INSTANCE",
      .opts = IDEM | ASYNC, .action = "hard_stop" },
    { .name = "migrate",
      .summary = "Move an instance to another host inside its residency policy (live, or "
                 "--cold)",
      .kind = CTL_RUN, .method = "POST", .path = "/v1/instances/{id}/actions",
      .args = "INSTANCE", .flags = instance_migrate_flags, .opts = IDEM | ASYNC,
      .action = "migrate", .run = ctl_cmd_instance_migrate },
    { .name = "migrations", .summary = "An instance's migrations: hosts, state, progress",
      .kind = CTL_RUN, .method = "GET", .path = "/v1/instances/{id}/migrations",
      .args = "INSTANCE", .run = ctl_cmd_instance_migrations },
    { .name = "console",
      .summary = "Print the tail of the serial console log, or attach to it (--interactive)",
      .kind = CTL_RUN, .method = "GET", .path = "/v1/instances/{id}/console", .args = "INSTANCE",
      .flags = instance_console_flags, .run = ctl_cmd_instance_console },
    { .name = "delete", .summary = "Destroy an instance, its disks and its seed",
      .kind = CTL_DELETE, .method = "DELETE", .path = "/v1/instances/{id}", .args = "INSTANCE",
      .opts = ASYNC },
    { 0 },
};

/* ---- operation ---- */

static const ctl_column operation_cols[] = {
    { "ID", "id", 0, NULL },
    { "KIND", "kind", 0, NULL },
    { "RESOURCE", "resource_id", 0, NULL },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "PROGRESS", NULL, 0, cell_progress },
    { "STEP", "step", 0, NULL },
    { "ERROR", "error.message", CTL_C_WIDE, NULL },
    { "ATTEMPTS", "attempts", CTL_C_WIDE, NULL },
    { "TENANT", "tenant_id", CTL_C_WIDE | CTL_C_REF, NULL },
    { "CREATED", "created_at", CTL_C_WIDE, NULL },
    { "FINISHED", "finished_at", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag operation_list_flags[] = {
    { .name = "resource", .type = CTL_T_STR, .metavar = "ID",
      .help = "only operations on this resource id", .field = "resource_id" },
    { .name = "state", .type = CTL_T_STR, .metavar = "STATE",
      .help = "queued, running, succeeded or failed" },
    { 0 },
};

static const ctl_verb operation_verbs[] = {
    { .name = "list", .summary = "List operations, newest first", .kind = CTL_LIST,
      .method = "GET", .path = "/v1/operations", .flags = operation_list_flags },
    { .name = "show", .summary = "Show an operation", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/operations/{id}", .args = "OPERATION" },
    { .name = "wait", .summary = "Follow an operation to its end", .kind = CTL_RUN,
      .method = "GET", .path = "/v1/operations/{id}", .args = "OPERATION",
      .run = ctl_cmd_operation_wait },
    { 0 },
};

/* ---- tenant, workspace, user, token, quota ---- */

static const ctl_column tenant_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "DISPLAY_NAME", "display_name", 0, NULL },
    { "OPERATOR", "is_operator", CTL_C_WIDE, NULL },
    { "CREATED", "created_at", CTL_C_WIDE, NULL },
    { "UPDATED", "updated_at", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag tenant_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME",
      .help = "tenant name (lower case, digits, '-')" },
    { .name = "display-name", .type = CTL_T_STR, .metavar = "TEXT",
      .help = "the organisation's name for people" },
    { 0 },
};

static const ctl_flag tenant_update_flags[] = {
    { .name = "name", .type = CTL_T_STR, .metavar = "NAME", .help = "a new name" },
    { .name = "display-name", .type = CTL_T_STR, .metavar = "TEXT",
      .help = "a new display name" },
    { 0 },
};

static const ctl_verb tenant_verbs[] = {
    { .name = "list", .summary = "List tenants (operators)", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/tenants" },
    { .name = "show", .summary = "Show a tenant", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/tenants/{id}", .args = "TENANT" },
    { .name = "create",
      .summary = "Create a tenant with a default workspace and quotas (operators)",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/tenants", .flags = tenant_create_flags,
      .opts = IDEM },
    { .name = "update", .summary = "Rename a tenant", .kind = CTL_SEND, .method = "PATCH",
      .path = "/v1/tenants/{id}", .args = "TENANT", .flags = tenant_update_flags, .opts = BODY },
    { .name = "delete", .summary = "Delete a tenant that holds no resources (operators)",
      .kind = CTL_DELETE, .method = "DELETE", .path = "/v1/tenants/{id}", .args = "TENANT" },
    { .name = "kek-destroy",
      .summary = "Destroy a tenant's key-encryption key: its encrypted volumes become "
                 "unreadable for good (operators, audited)",
      .kind = CTL_RUN, .method = "DELETE", .path = "/v1/tenants/{id}/kek", .args = "TENANT",
      .run = ctl_cmd_kek_destroy },
    { 0 },
};

/* --tenant of the verbs under /v1/tenants/{tenant}: a name or an id, the caller's own when
 * left out. */
#define TENANT_FLAG                                                                        \
    { .name = "tenant", .type = CTL_T_STR, .metavar = "TENANT",                            \
      .help = "the tenant (name or id; default: yours)", .field = "{tenant}", .ref = "tenant" }

static const ctl_column workspace_cols[] = {
    { "NAME", "name", 0, NULL },
    { "DESCRIPTION", "description", 0, NULL },
    { "CREATED", "created_at", 0, NULL },
    { "TENANT", "tenant_id", CTL_C_WIDE | CTL_C_REF, NULL },
    { "UPDATED", "updated_at", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag tenant_only_flags[] = { TENANT_FLAG, { 0 } };

static const ctl_flag workspace_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME",
      .help = "workspace name" },
    { .name = "description", .type = CTL_T_STR, .metavar = "TEXT", .help = "what it is for" },
    TENANT_FLAG,
    { 0 },
};

static const ctl_flag workspace_update_flags[] = {
    { .name = "description", .type = CTL_T_STR, .metavar = "TEXT", .help = "a new description" },
    TENANT_FLAG,
    { 0 },
};

static const ctl_verb workspace_verbs[] = {
    { .name = "list", .summary = "List a tenant's workspaces", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/tenants/{tenant}/workspaces", .flags = tenant_only_flags },
    { .name = "show", .summary = "Show a workspace", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/tenants/{tenant}/workspaces/{id}", .args = "NAME",
      .flags = tenant_only_flags },
    { .name = "create", .summary = "Create a workspace", .kind = CTL_SEND, .method = "POST",
      .path = "/v1/tenants/{tenant}/workspaces", .flags = workspace_create_flags, .opts = IDEM },
    { .name = "update", .summary = "Change a workspace's description", .kind = CTL_SEND,
      .method = "PATCH", .path = "/v1/tenants/{tenant}/workspaces/{id}", .args = "NAME",
      .flags = workspace_update_flags, .opts = BODY },
    { .name = "delete", .summary = "Delete a workspace (not 'default')", .kind = CTL_DELETE,
      .method = "DELETE", .path = "/v1/tenants/{tenant}/workspaces/{id}", .args = "NAME",
      .flags = tenant_only_flags },
    { 0 },
};

static const ctl_column user_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "EMAIL", "email", 0, NULL },
    { "ROLE", "role", 0, NULL },
    { "TENANT", "tenant_id", CTL_C_WIDE | CTL_C_REF, NULL },
    { "CREATED", "created_at", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag user_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME",
      .help = "the person's name" },
    { .name = "email", .type = CTL_T_STR, .opts = REQ, .metavar = "EMAIL",
      .help = "email address" },
    { .name = "role", .type = CTL_T_STR, .opts = REQ, .metavar = "ROLE",
      .help = "admin, member, reader or auditor (operator)" },
    TENANT_FLAG,
    { 0 },
};

static const ctl_flag user_update_flags[] = {
    { .name = "name", .type = CTL_T_STR, .metavar = "NAME", .help = "a new name" },
    { .name = "email", .type = CTL_T_STR, .metavar = "EMAIL", .help = "a new email address" },
    { .name = "role", .type = CTL_T_STR, .metavar = "ROLE", .help = "a new role" },
    TENANT_FLAG,
    { 0 },
};

static const ctl_verb user_verbs[] = {
    { .name = "list", .summary = "List a tenant's users", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/tenants/{tenant}/users", .flags = tenant_only_flags },
    { .name = "show", .summary = "Show a user", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/tenants/{tenant}/users/{id}", .args = "USER", .flags = tenant_only_flags },
    { .name = "create", .summary = "Create a user", .kind = CTL_SEND, .method = "POST",
      .path = "/v1/tenants/{tenant}/users", .flags = user_create_flags, .opts = IDEM },
    { .name = "update", .summary = "Change a user's name, email or role", .kind = CTL_SEND,
      .method = "PATCH", .path = "/v1/tenants/{tenant}/users/{id}", .args = "USER",
      .flags = user_update_flags, .opts = BODY },
    { .name = "delete", .summary = "Delete a user: its tokens stop working", .kind = CTL_DELETE,
      .method = "DELETE", .path = "/v1/tenants/{tenant}/users/{id}", .args = "USER",
      .flags = tenant_only_flags },
    { 0 },
};

static const ctl_column token_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "HINT", "hint", 0, NULL },
    { "EXPIRES", "expires_at", 0, NULL },
    { "USER", "user_id", CTL_C_WIDE, NULL },
    { "TENANT", "tenant_id", CTL_C_WIDE | CTL_C_REF, NULL },
    { "CREATED", "created_at", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag token_list_flags[] = {
    { .name = "user", .type = CTL_T_STR, .metavar = "USER",
      .help = "another user's tokens (id or email)", .field = "user_id", .ref = "user" },
    TENANT_FLAG,
    { 0 },
};

static const ctl_flag token_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME",
      .help = "what the token is for" },
    { .name = "user", .type = CTL_T_STR, .metavar = "USER",
      .help = "for another user (id or email; default: you)", .field = "user_id",
      .ref = "user" },
    { .name = "expires-at", .type = CTL_T_STR, .metavar = "TIME",
      .help = "RFC 3339 expiry, e.g. 2027-06-30T00:00:00Z" },
    TENANT_FLAG,
    { 0 },
};

static const ctl_verb token_verbs[] = {
    { .name = "list", .summary = "List your tokens, or another user's", .kind = CTL_LIST,
      .method = "GET", .path = "/v1/tokens", .flags = token_list_flags },
    { .name = "create", .summary = "Create a token; its secret is shown once", .kind = CTL_SEND,
      .method = "POST", .path = "/v1/tokens", .flags = token_create_flags, .opts = IDEM | FIELDS,
      .note = "the secret is shown only this once: store it now" },
    { .name = "delete", .summary = "Revoke a token", .kind = CTL_DELETE, .method = "DELETE",
      .path = "/v1/tokens/{id}", .args = "TOKEN" },
    { 0 },
};

static const ctl_flag quota_set_flags[] = {
    { .name = "instances", .type = CTL_T_INT, .metavar = "N", .help = "instances" },
    { .name = "vcpus", .type = CTL_T_INT, .metavar = "N", .help = "vCPUs" },
    { .name = "memory-mib", .type = CTL_T_INT, .metavar = "MIB", .help = "memory in MiB" },
    { .name = "gpus", .type = CTL_T_INT, .metavar = "N", .help = "GPUs" },
    { .name = "volumes", .type = CTL_T_INT, .metavar = "N", .help = "volumes" },
    { .name = "storage-gib", .type = CTL_T_INT, .metavar = "GIB", .help = "storage in GiB" },
    { .name = "workspaces", .type = CTL_T_INT, .metavar = "N", .help = "workspaces" },
    { .name = "snapshots", .type = CTL_T_INT, .metavar = "N", .help = "volume snapshots" },
    TENANT_FLAG,
    { 0 },
};

static const ctl_verb quota_verbs[] = {
    { .name = "show", .summary = "Show a tenant's limits and usage", .kind = CTL_SHOW,
      .method = "GET", .path = "/v1/tenants/{tenant}/quotas", .flags = tenant_only_flags,
      .view = ctl_view_quota },
    { .name = "set", .summary = "Set limits; the others stay (operators)", .kind = CTL_SEND,
      .method = "PUT", .path = "/v1/tenants/{tenant}/quotas", .flags = quota_set_flags,
      .opts = BODY, .view = ctl_view_quota },
    { 0 },
};

/* ---- audit, residency, placement ---- */

static const ctl_column audit_cols[] = {
    { "SEQ", "seq", 0, NULL },
    { "AT", "at", 0, NULL },
    { "ROLE", "role", 0, NULL },
    { "ACTION", "action", 0, NULL },
    { "RESOURCE", NULL, 0, cell_audit_resource },
    { "OUTCOME", "outcome", 0, NULL },
    { "USER", "user_id", CTL_C_WIDE, NULL },
    { "TENANT", "tenant_id", CTL_C_WIDE | CTL_C_REF, NULL },
    { "SOURCE", "source", CTL_C_WIDE, NULL },
    { "REQUEST", "request_id", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag audit_list_flags[] = {
    { .name = "since", .type = CTL_T_STR, .metavar = "TIME",
      .help = "entries at or after (RFC 3339)" },
    { .name = "until", .type = CTL_T_STR, .metavar = "TIME",
      .help = "entries before (RFC 3339)" },
    { .name = "tenant", .type = CTL_T_STR, .metavar = "TENANT",
      .help = "one tenant's entries (name or id)", .field = "tenant_id", .ref = "tenant" },
    { .name = "user", .type = CTL_T_STR, .metavar = "USER",
      .help = "one user's entries (id, or email in --tenant)", .field = "user_id",
      .ref = "user" },
    { .name = "action", .type = CTL_T_STR, .metavar = "ACTION",
      .help = "e.g. instances.create" },
    { .name = "resource-type", .type = CTL_T_STR, .metavar = "TYPE", .help = "e.g. instance" },
    { .name = "resource-id", .type = CTL_T_STR, .metavar = "ID",
      .help = "one resource's entries" },
    { 0 },
};

static const ctl_verb audit_verbs[] = {
    { .name = "list", .summary = "List audit entries", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/audit", .flags = audit_list_flags },
    { .name = "verify", .summary = "Walk the hash chain; exits 1 when it is broken",
      .kind = CTL_SHOW, .method = "GET", .path = "/v1/audit/verify", .opts = CTL_V_VERDICT,
      .view = ctl_view_audit_verify },
    { 0 },
};

static const ctl_flag policy_set_flags[] = {
    { .name = "jurisdictions", .type = CTL_T_LIST, .metavar = "J,...",
      .help = "allowed jurisdictions: EU, EEA, OTHER" },
    { .name = "countries", .type = CTL_T_LIST, .metavar = "CC,...",
      .help = "allowed countries (ISO 3166-1 alpha-2)" },
    { .name = "regions", .type = CTL_T_LIST, .metavar = "CODE,...", .help = "allowed regions" },
    TENANT_FLAG,
    { 0 },
};

static const ctl_flag report_flags[] = {
    { .name = "from", .type = CTL_T_STR, .opts = REQ | LOCAL, .metavar = "TIME",
      .help = "start of the period (RFC 3339)" },
    { .name = "to", .type = CTL_T_STR, .opts = REQ | LOCAL, .metavar = "TIME",
      .help = "end of the period (RFC 3339)" },
    { .name = "tenant", .type = CTL_T_LIST, .opts = LOCAL, .metavar = "TENANT,...",
      .help = "only these tenants (default: yours; " "operators: all)" },
    { .name = "format", .type = CTL_T_STR, .opts = LOCAL, .metavar = "FORMAT",
      .help = "json (default) or csv" },
    { .name = "output", .type = CTL_T_STR, .opts = REQ | LOCAL, .metavar = "FILE",
      .help = "write the report here, its signature to " "FILE.sig", .short_name = 'o' },
    { 0 },
};

static const ctl_flag history_flags[] = {
    { .name = "instance", .type = CTL_T_STR, .opts = LOCAL, .metavar = "INSTANCE",
      .help = "an instance's records (id or name)" },
    { .name = "image", .type = CTL_T_STR, .opts = LOCAL, .metavar = "IMAGE",
      .help = "an image's records (id or name)" },
    { .name = "volume", .type = CTL_T_STR, .opts = LOCAL, .metavar = "VOLUME",
      .help = "a volume's records (id or name)" },
    { .name = "snapshot", .type = CTL_T_STR, .opts = LOCAL, .metavar = "SNAPSHOT",
      .help = "a snapshot's records (id or name)" },
    { 0 },
};

static const ctl_flag signing_key_flags[] = {
    { .name = "key-id", .type = CTL_T_STR, .metavar = "ID",
      .help = "a report's key id (default: the key in use)" },
    { 0 },
};

static const ctl_verb residency_verbs[] = {
    { .name = "policy show", .summary = "Show a tenant's residency policy", .kind = CTL_SHOW,
      .method = "GET", .path = "/v1/tenants/{tenant}/residency-policy",
      .flags = tenant_only_flags },
    { .name = "policy set",
      .summary = "Replace a tenant's residency policy (admins narrow, operators widen)",
      .kind = CTL_SEND, .method = "PUT", .path = "/v1/tenants/{tenant}/residency-policy",
      .flags = policy_set_flags, .opts = BODY },
    { .name = "history", .summary = "Where a resource's data has lived: its residency records",
      .kind = CTL_RUN, .method = "GET", .flags = history_flags,
      .run = ctl_cmd_residency_history },
    { .name = "report",
      .summary = "Request a signed report, wait, download it and verify it",
      .kind = CTL_RUN, .method = "POST", .path = "/v1/residency/reports", .flags = report_flags,
      .opts = IDEM, .run = ctl_cmd_report },
    { .name = "signing-key show", .summary = "A public key reports are signed with",
      .kind = CTL_SHOW, .method = "GET", .path = "/v1/residency/signing-key",
      .flags = signing_key_flags, .view = ctl_view_signing_key },
    { .name = "signing-key rotate", .summary = "Sign with a new key from now on (operators)",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/residency/signing-key/rotate",
      .view = ctl_view_signing_key },
    { 0 },
};

static const ctl_column report_cols[] = {
    { "ID", "id", 0, NULL },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "FORMAT", "format", 0, NULL },
    { "FROM", "period.from", 0, NULL },
    { "TO", "period.to", 0, NULL },
    { "ROWS", "rows", 0, NULL },
    { "VIOLATIONS", "violations", 0, NULL },
    { "KEY", "key_id", 0, NULL },
    { "SCOPE", "scope", CTL_C_WIDE, NULL },
    { "SIZE", "size_bytes", CTL_C_WIDE, NULL },
    { "SHA256", "document_sha256", CTL_C_WIDE, NULL },
    { "TENANT", "tenant_id", CTL_C_WIDE | CTL_C_REF, NULL },
    { "CREATED", "created_at", CTL_C_WIDE, NULL },
    { "REASON", "state_reason", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag report_download_flags[] = {
    { .name = "output", .type = CTL_T_STR, .opts = REQ | LOCAL, .metavar = "FILE",
      .help = "write the report here, its signature to " "FILE.sig, the key to FILE.pem",
      .short_name = 'o' },
    { 0 },
};

static const ctl_flag report_verify_flags[] = {
    { .name = "signature", .type = CTL_T_STR, .opts = LOCAL, .metavar = "FILE",
      .help = "the raw signature (default: FILE.sig)" },
    { .name = "public-key", .type = CTL_T_STR, .opts = LOCAL, .metavar = "FILE",
      .help = "the Ed25519 public key, PEM (default: " "FILE.pem)" },
    { 0 },
};

static const ctl_verb report_verbs[] = {
    { .name = "list", .summary = "List residency reports", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/residency/reports" },
    { .name = "show", .summary = "Show a report: state, figures, digests, key", .kind = CTL_SHOW,
      .method = "GET", .path = "/v1/residency/reports/{id}", .args = "REPORT" },
    { .name = "create",
      .summary = "Request a report, wait, download it and verify it (as residency report)",
      .kind = CTL_RUN, .method = "POST", .path = "/v1/residency/reports", .flags = report_flags,
      .opts = IDEM, .run = ctl_cmd_report },
    { .name = "download", .summary = "Download a finished report and verify its signature",
      .kind = CTL_RUN, .method = "GET", .path = "/v1/residency/reports/{id}", .args = "REPORT",
      .flags = report_download_flags, .run = ctl_cmd_report_download },
    { .name = "verify",
      .summary = "Verify a downloaded report with its .sig and .pem, without the API",
      .kind = CTL_RUN, .args = "FILE", .flags = report_verify_flags,
      .run = ctl_cmd_report_verify },
    { 0 },
};

/* What `instance create` takes (flavor, image, places, group), or raw sizes. */
static const ctl_flag placement_flags[] = {
    { .name = "flavor", .type = CTL_T_STR, .metavar = "FLAVOR",
      .help = "flavor name or id (instead of the sizes)" },
    { .name = "image", .type = CTL_T_STR, .metavar = "IMAGE",
      .help = "image name (in the workspace) or id: only its region" },
    { .name = "workspace", .type = CTL_T_STR, .metavar = "WORKSPACE",
      .help = "the image's workspace (default: default)" },
    { .name = "vcpus", .type = CTL_T_INT, .metavar = "N",
      .help = "virtual CPUs (without --flavor)" },
    { .name = "memory-mib", .type = CTL_T_INT, .metavar = "MIB",
      .help = "memory in MiB (without --flavor)" },
    { .name = "disk-gib", .type = CTL_T_INT, .metavar = "GIB", .help = "disk in GiB" },
    { .name = "gpus", .type = CTL_T_INT, .metavar = "N", .help = "GPUs" },
    { .name = "region", .type = CTL_T_STR, .metavar = "CODE", .help = "only this region" },
    { .name = "zone", .type = CTL_T_STR, .metavar = "ZONE", .help = "only this zone" },
    { .name = "country", .type = CTL_T_STR, .metavar = "CC", .help = "only this country" },
    { .name = "anti-affinity-group", .type = CTL_T_STR, .metavar = "GROUP",
      .help = "away from this group's hosts" },
    { .name = "tenant", .type = CTL_T_STR, .metavar = "TENANT",
      .help = "operators: as this tenant", .field = "tenant_id", .ref = "tenant" },
    { 0 },
};

static const ctl_verb placement_verbs[] = {
    { .name = "dry-run", .summary = "Where would a create land, and why (claims nothing)",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/placement/dry-run",
      .flags = placement_flags },
    { 0 },
};

/* ---- the commands around the resources ---- */

static const ctl_flag login_flags[] = {
    { .name = "endpoint", .type = CTL_T_STR, .opts = REQ | LOCAL, .metavar = "URL",
      .help = "the API, e.g. https://api.example.eu" },
    { .name = "token-file", .type = CTL_T_STR, .opts = LOCAL, .metavar = "FILE",
      .help = "read the token from FILE" },
    { .name = "token", .type = CTL_T_STR, .opts = LOCAL, .metavar = "-",
      .help = "read the token from standard input ('-' only)" },
    { .name = "cacert", .type = CTL_T_STR, .opts = LOCAL, .metavar = "FILE",
      .help = "trust this CA (PEM) for the endpoint" },
    { .name = "insecure", .type = CTL_T_SWITCH, .opts = LOCAL,
      .help = "do not verify TLS certificates (warned)" },
    { .name = "no-verify", .type = CTL_T_SWITCH, .opts = LOCAL,
      .help = "save without checking the token first" },
    { 0 },
};

static const ctl_verb login_verbs[] = {
    { .name = "",
      .summary = "Save an endpoint and token as a profile (~/.config/sovctl/config, mode 0600)",
      .kind = CTL_RUN, .flags = login_flags, .run = ctl_cmd_login },
    { 0 },
};

static const ctl_verb logout_verbs[] = {
    { .name = "", .summary = "Forget the profile's token", .kind = CTL_RUN,
      .run = ctl_cmd_logout },
    { 0 },
};

static const ctl_verb profile_verbs[] = {
    { .name = "list", .summary = "List profiles; * marks the one in use", .kind = CTL_RUN,
      .run = ctl_cmd_profile_list },
    { .name = "use", .summary = "Make a profile the default", .kind = CTL_RUN, .args = "NAME",
      .run = ctl_cmd_profile_use },
    { .name = "delete", .summary = "Remove a profile", .kind = CTL_RUN, .args = "NAME",
      .run = ctl_cmd_profile_delete },
    { 0 },
};

static const ctl_verb whoami_verbs[] = {
    { .name = "", .summary = "Who the token is: user, tenant, role", .kind = CTL_SHOW,
      .method = "GET", .path = "/v1/me", .view = ctl_view_whoami },
    { 0 },
};

static const ctl_verb system_verbs[] = {
    { .name = "health", .summary = "Is sovd alive", .kind = CTL_SHOW, .method = "GET",
      .path = "/healthz", .opts = PUBLIC },
    { .name = "ready", .summary = "Is sovd ready: PostgreSQL reachable, schema migrated, OVN "
                                  "answering (when configured)",
      .kind = CTL_SHOW, .method = "GET", .path = "/readyz", .opts = PUBLIC },
    { .name = "metrics", .summary = "Prometheus metrics", .kind = CTL_SHOW, .method = "GET",
      .path = "/metrics", .opts = PUBLIC },
    { .name = "openapi", .summary = "The API contract (OpenAPI 3.1 JSON)", .kind = CTL_SHOW,
      .method = "GET", .path = "/v1/openapi.json", .opts = PUBLIC, .view = ctl_view_json },
    { 0 },
};

static const ctl_verb completion_verbs[] = {
    { .name = "bash",
      .summary = "Print a bash completion script: source <(sovctl completion bash)",
      .kind = CTL_RUN, .run = ctl_cmd_completion_bash },
    { 0 },
};

static const ctl_verb version_verbs[] = {
    { .name = "", .summary = "Print sovctl's version", .kind = CTL_RUN, .run = ctl_cmd_version },
    { 0 },
};

/* The order is the help's. */
const ctl_resource ctl_resources[] = {
    { "login", "Save an endpoint and a token", NULL, NULL, NULL, NULL, NULL, NULL,
      login_verbs },
    { "logout", "Forget the token of a profile", NULL, NULL, NULL, NULL, NULL, NULL,
      logout_verbs },
    { "profile", "Profiles: named endpoints and tokens", NULL, NULL, NULL, NULL, NULL, NULL,
      profile_verbs },
    { "whoami", "Who the token is", NULL, NULL, NULL, NULL, NULL, NULL, whoami_verbs },
    { "region", "Regions: places where data may live", "/v1/regions", "code", NULL, NULL, NULL,
      region_cols, region_verbs },
    { "host", "Hosts: libvirt hypervisors in a region's zones", "/v1/hosts", "id", "name",
      NULL, NULL, host_cols, host_verbs },
    { "flavor", "Flavors: instance sizes", "/v1/flavors", "id", NULL, NULL, NULL, flavor_cols,
      flavor_verbs },
    { "image", "Images: disk templates in a region's image store", "/v1/images", "id", "name",
      NULL, NULL, image_cols, image_verbs },
    { "instance", "Instances: virtual machines", "/v1/instances", "id", "name", "name", NULL,
      instance_cols, instance_verbs },
    { "volume-type", "Volume types: kinds of block storage (operators create)",
      "/v1/volume-types", "id", NULL, NULL, NULL, ctl_volume_type_cols, ctl_volume_type_verbs },
    { "volume", "Volumes: block storage that outlives instances", "/v1/volumes", "id", NULL,
      NULL, NULL, ctl_volume_cols, ctl_volume_verbs },
    { "snapshot", "Snapshots: crash-consistent copies of volumes", "/v1/snapshots", "id",
      NULL, NULL, NULL, ctl_snapshot_cols, ctl_snapshot_verbs },
    { "network", "Networks: a tenant's IPv4 address space in a region", "/v1/networks", "id",
      NULL, NULL, NULL, ctl_network_cols, ctl_network_verbs },
    { "subnet", "Subnets: address ranges of a network, with a gateway and DHCP",
      "/v1/subnets", "id", NULL, NULL, NULL, ctl_subnet_cols, ctl_subnet_verbs },
    { "port", "Ports: NICs with an address of a subnet, plugged into instances", "/v1/ports",
      "id", NULL, NULL, NULL, ctl_port_cols, ctl_port_verbs },
    { "security-group", "Security groups: stateful firewall rules of ports",
      "/v1/security-groups", "id", NULL, NULL, NULL, ctl_security_group_cols,
      ctl_security_group_verbs },
    { "sg", "Security groups (as security-group)", "/v1/security-groups", "id", NULL, NULL,
      NULL, ctl_security_group_cols, ctl_security_group_verbs },
    { "router", "Routers: a network's internet gateway (SNAT, public IPs)", "/v1/routers",
      "id", NULL, NULL, NULL, ctl_router_cols, ctl_router_verbs },
    { "public-ip", "Public IPs: a region's public addresses, attached to ports",
      "/v1/public-ips", "id", NULL, NULL, NULL, ctl_public_ip_cols, ctl_public_ip_verbs },
    { "public-ip-pool", "Public IP pools: a region's public addresses (operators)", NULL,
      "id", NULL, NULL, NULL, ctl_public_ip_pool_cols, ctl_public_ip_pool_verbs },
    { "operation", "Operations: long work carried out by workers", "/v1/operations", "id",
      NULL, NULL, NULL, operation_cols, operation_verbs },
    { "tenant", "Tenants: customer organisations", "/v1/tenants", "id", "name", NULL, "tenant",
      tenant_cols, tenant_verbs },
    { "workspace", "Workspaces: projects inside a tenant", "/v1/tenants/{tenant}/workspaces",
      "name", NULL, NULL, NULL, workspace_cols, workspace_verbs },
    { "user", "Users of a tenant", "/v1/tenants/{tenant}/users", "id", "email,name", NULL,
      "user", user_cols, user_verbs },
    { "token", "API tokens", "/v1/tokens", "id", "name", NULL, "token", token_cols,
      token_verbs },
    { "quota", "Quotas: a tenant's limits and usage", NULL, NULL, NULL, NULL, NULL, NULL,
      quota_verbs },
    { "audit", "The audit log, a hash chain", "/v1/audit", "seq", NULL, NULL, NULL, audit_cols,
      audit_verbs },
    { "residency", "Residency: policies, history, signed reports, signing keys", NULL, NULL,
      NULL, NULL, NULL, NULL, residency_verbs },
    { "report", "Signed residency reports", "/v1/residency/reports", "id", NULL, NULL, NULL,
      report_cols, report_verbs },
    { "placement", "The scheduler's decision, without claiming", NULL, NULL, NULL, NULL, NULL,
      NULL, placement_verbs },
    { "system", "sovd's health, readiness, metrics and contract", NULL, NULL, NULL, NULL, NULL,
      NULL, system_verbs },
    { "completion", "Shell completion", NULL, NULL, NULL, NULL, NULL, NULL, completion_verbs },
    { "version", "Print the version", NULL, NULL, NULL, NULL, NULL, NULL, version_verbs },
};

const size_t ctl_resources_count = SOV_N_ELEMENTS(ctl_resources);

const ctl_resource *
ctl_resource_find(const char *name)
{
    for (size_t i = 0; i < ctl_resources_count; i++)
        if (strcmp(ctl_resources[i].name, name) == 0)
            return &ctl_resources[i];
    return NULL;
}
