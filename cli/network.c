/* network.c: sovctl's tenant network commands: networks, subnets and ports (with port attach
 * and detach). Table rows like storage.c's; the rows of ctl_resources[] that point here are
 * in resources.c. Names go to the API as given: its paths and filters take an id or a name
 * (in the default workspace, or --workspace's). */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define REQ CTL_F_REQUIRED
#define IDEM CTL_V_CREATE
#define ASYNC CTL_V_ASYNC

/* ---- cells ---- */

/* The name of a member that is {id, name}, else its id; "-" when null. */
static void
cell_ref(const json_t *item, const char *member, char *buf, size_t size)
{
    const json_t *o = json_object_get(item, member);

    if (json_is_object(o)) {
        const json_t *n = json_object_get(o, "name");
        ctl_json_text(json_string_length(n) ? n : json_object_get(o, "id"), buf, size);
        return;
    }
    ctl_json_text(o, buf, size);
}

static void
cell_network(const json_t *item, char *buf, size_t size)
{
    cell_ref(item, "network", buf, size);
}

static void
cell_subnet(const json_t *item, char *buf, size_t size)
{
    cell_ref(item, "subnet", buf, size);
}

static void
cell_instance(const json_t *item, char *buf, size_t size)
{
    cell_ref(item, "instance", buf, size);
}

/* "12/253": addresses used of the subnet's. */
static void
cell_addresses(const json_t *item, char *buf, size_t size)
{
    snprintf(buf, size, "%lld/%lld",
             (long long) json_integer_value(json_object_get(item, "addresses_used")),
             (long long) json_integer_value(json_object_get(item, "addresses_total")));
}

static void
cell_up(const json_t *item, char *buf, size_t size)
{
    snprintf(buf, size, "%s", json_is_true(json_object_get(item, "up")) ? "yes" : "no");
}

/* ---- networks ---- */

const ctl_column ctl_network_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "CIDR", "cidr", 0, NULL },
    { "REGION", "region", 0, NULL },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "DEFAULT", "is_default", CTL_C_WIDE, NULL },
    { "ROUTER", "router", CTL_C_WIDE, NULL },
    { "WORKSPACE", "workspace", CTL_C_WIDE, NULL },
    { "CREATED", "created_at", CTL_C_WIDE, NULL },
    { "REASON", "state_reason", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag network_list_flags[] = {
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "only this workspace's networks" },
    { .name = "region", .type = CTL_T_STR, .metavar = "CODE",
      .help = "only this region's networks" },
    { .name = "state", .type = CTL_T_STR, .metavar = "STATE",
      .help = "only this state (deleted ones only so)" },
    { 0 },
};

static const ctl_flag network_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME",
      .help = "network name" },
    { .name = "cidr", .type = CTL_T_STR, .opts = REQ, .metavar = "CIDR",
      .help = "its IPv4 addresses, /16 to /28, e.g. 10.0.0.0/16" },
    { .name = "region", .type = CTL_T_STR, .metavar = "CODE",
      .help = "its region (default: the first your residency policy allows with hosts up)" },
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "workspace (default: default)" },
    { 0 },
};

const ctl_verb ctl_network_verbs[] = {
    { .name = "list", .summary = "List networks", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/networks", .flags = network_list_flags },
    { .name = "show", .summary = "Show a network: CIDR, region, state, residency",
      .kind = CTL_SHOW, .method = "GET", .path = "/v1/networks/{id}", .args = "NETWORK" },
    { .name = "get", .summary = "Show a network (as show)", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/networks/{id}", .args = "NETWORK" },
    { .name = "create", .summary = "Create a network: an IPv4 address space in one region",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/networks",
      .flags = network_create_flags, .opts = IDEM | ASYNC },
    { .name = "residency", .summary = "Where a network has lived: its residency records",
      .kind = CTL_RUN, .method = "GET", .path = "/v1/networks/{id}/residency",
      .args = "NETWORK", .run = ctl_cmd_resource_residency },
    { .name = "delete", .summary = "Delete a network without subnets, ports nor router",
      .kind = CTL_DELETE, .method = "DELETE", .path = "/v1/networks/{id}", .args = "NETWORK",
      .opts = ASYNC },
    { 0 },
};

/* ---- subnets ---- */

const ctl_column ctl_subnet_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "NETWORK", NULL, 0, cell_network },
    { "CIDR", "cidr", 0, NULL },
    { "GATEWAY", "gateway", 0, NULL },
    { "USED", NULL, 0, cell_addresses },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "ZONE", "zone", CTL_C_WIDE, NULL },
    { "DNS", "dns_servers", CTL_C_WIDE, NULL },
    { "WORKSPACE", "workspace", CTL_C_WIDE, NULL },
    { "REASON", "state_reason", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag subnet_list_flags[] = {
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "only this workspace's subnets" },
    { .name = "network", .type = CTL_T_STR, .metavar = "NETWORK",
      .help = "only this network's subnets (name or id)" },
    { .name = "state", .type = CTL_T_STR, .metavar = "STATE",
      .help = "only this state (deleted ones only so)" },
    { 0 },
};

static const ctl_flag subnet_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME",
      .help = "subnet name" },
    { .name = "network", .type = CTL_T_STR, .opts = REQ, .metavar = "NETWORK",
      .help = "its network (name or id)" },
    { .name = "cidr", .type = CTL_T_STR, .opts = REQ, .metavar = "CIDR",
      .help = "its addresses, /16 to /29 inside the network's, e.g. 10.0.1.0/24" },
    { .name = "zone", .type = CTL_T_STR, .metavar = "ZONE",
      .help = "a zone of the network's region (default: every zone)" },
    { .name = "gateway", .type = CTL_T_STR, .metavar = "IP",
      .help = "its gateway (default: the first host address)" },
    { .name = "dns-server", .type = CTL_T_LIST, .metavar = "IP", .field = "dns_servers",
      .help = "a DNS server its DHCP hands out (repeatable, at most 4)" },
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "workspace (default: the network's)" },
    { 0 },
};

const ctl_verb ctl_subnet_verbs[] = {
    { .name = "list", .summary = "List subnets", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/subnets", .flags = subnet_list_flags },
    { .name = "show", .summary = "Show a subnet: CIDR, gateway, addresses used",
      .kind = CTL_SHOW, .method = "GET", .path = "/v1/subnets/{id}", .args = "SUBNET" },
    { .name = "get", .summary = "Show a subnet (as show)", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/subnets/{id}", .args = "SUBNET" },
    { .name = "create", .summary = "Create a subnet of a network", .kind = CTL_SEND,
      .method = "POST", .path = "/v1/subnets", .flags = subnet_create_flags,
      .opts = IDEM | ASYNC },
    { .name = "delete", .summary = "Delete a subnet no port uses", .kind = CTL_DELETE,
      .method = "DELETE", .path = "/v1/subnets/{id}", .args = "SUBNET", .opts = ASYNC },
    { 0 },
};

/* ---- ports ---- */

const ctl_column ctl_port_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "SUBNET", NULL, 0, cell_subnet },
    { "IP", "ip", 0, NULL },
    { "INSTANCE", NULL, 0, cell_instance },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "UP", NULL, 0, cell_up },
    { "MAC", "mac", CTL_C_WIDE, NULL },
    { "NETWORK", NULL, CTL_C_WIDE, cell_network },
    { "PUBLIC_IP", "public_ip", CTL_C_WIDE, NULL },
    { "GROUPS", "security_groups", CTL_C_WIDE, NULL },
    { "CHASSIS", "chassis", CTL_C_WIDE, NULL },
    { "WORKSPACE", "workspace", CTL_C_WIDE, NULL },
    { "REASON", "state_reason", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag port_list_flags[] = {
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "only this workspace's ports" },
    { .name = "network", .type = CTL_T_STR, .metavar = "NETWORK",
      .help = "only this network's ports (name or id)" },
    { .name = "subnet", .type = CTL_T_STR, .metavar = "SUBNET",
      .help = "only this subnet's ports (name or id)" },
    { .name = "instance", .type = CTL_T_STR, .metavar = "INSTANCE",
      .help = "only the ports plugged into this instance (name or id)" },
    { .name = "state", .type = CTL_T_STR, .metavar = "STATE",
      .help = "only this state (deleted ones only so)" },
    { 0 },
};

static const ctl_flag port_create_flags[] = {
    { .name = "subnet", .type = CTL_T_STR, .opts = REQ, .metavar = "SUBNET",
      .help = "its subnet (name or id)" },
    { .name = "name", .type = CTL_T_STR, .metavar = "NAME",
      .help = "port name (default: port- and the start of its id)" },
    { .name = "ip", .type = CTL_T_STR, .metavar = "IP",
      .help = "its address (default: the lowest free one of the subnet)" },
    { .name = "mac", .type = CTL_T_STR, .metavar = "MAC",
      .help = "its MAC address (default: a random locally administered one)" },
    { .name = "security-group", .type = CTL_T_LIST, .metavar = "GROUP",
      .field = "security_groups",
      .help = "a security group it is in (repeatable; none: nothing may reach it)" },
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "workspace (default: the subnet's)" },
    { 0 },
};

static const ctl_flag port_groups_flags[] = {
    { .name = "security-group", .type = CTL_T_LIST, .metavar = "GROUP",
      .field = "security_groups",
      .help = "a security group it is to be in (repeatable): the whole list" },
    { 0 },
};

static const ctl_flag port_attach_flags[] = {
    { .name = "instance", .type = CTL_T_STR, .opts = REQ, .metavar = "INSTANCE",
      .help = "the instance (name or id), in the network's region" },
    { 0 },
};

static const ctl_flag port_detach_flags[] = {
    { .name = "instance", .type = CTL_T_STR, .metavar = "INSTANCE",
      .help = "the instance it is plugged into (name or id)" },
    { 0 },
};

/* port set-groups: the list, [] when no flag is given (the port then in no group). */
static int
port_set_groups(ctl_ctx *ctx)
{
    sov_autoptr(json_t) extra = NULL;
    ctl_resp r;
    int rc;

    if (!ctl_value(ctx, "security-group"))
        extra = json_pack("{s:[]}", "security_groups");
    if ((rc = ctl_send_extra(ctx, extra, &r)) == 0)
        rc = ctl_send_answer(ctx, &r);
    ctl_resp_release(&r);
    return rc;
}

const ctl_verb ctl_port_verbs[] = {
    { .name = "list", .summary = "List ports", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/ports", .flags = port_list_flags },
    { .name = "show", .summary = "Show a port: address, MAC, groups, instance, OVN binding",
      .kind = CTL_SHOW, .method = "GET", .path = "/v1/ports/{id}", .args = "PORT" },
    { .name = "get", .summary = "Show a port (as show)", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/ports/{id}", .args = "PORT" },
    { .name = "create", .summary = "Create a port (a NIC) on a subnet", .kind = CTL_SEND,
      .method = "POST", .path = "/v1/ports", .flags = port_create_flags,
      .opts = IDEM | ASYNC },
    { .name = "set-groups", .summary = "Replace a port's security groups",
      .kind = CTL_RUN, .method = "PUT", .path = "/v1/ports/{id}/security-groups",
      .args = "PORT", .flags = port_groups_flags, .opts = ASYNC, .run = port_set_groups },
    { .name = "attach", .summary = "Plug a port into an instance (hot plugged when it runs)",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/ports/{id}/actions", .args = "PORT",
      .flags = port_attach_flags, .opts = IDEM | ASYNC, .action = "attach" },
    { .name = "detach", .summary = "Unplug a port from its instance", .kind = CTL_SEND,
      .method = "POST", .path = "/v1/ports/{id}/actions", .args = "PORT",
      .flags = port_detach_flags, .opts = IDEM | ASYNC, .action = "detach" },
    { .name = "delete", .summary = "Delete a port plugged into no instance", .kind = CTL_DELETE,
      .method = "DELETE", .path = "/v1/ports/{id}", .args = "PORT", .opts = ASYNC },
    { 0 },
};
