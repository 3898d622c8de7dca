/* netsec.c: sovctl's security groups (sg) with their rules, routers (internet gateways),
 * public IPs (attach, detach, residency) and public IP pools (operators). Table rows like
 * storage.c's; the rows of ctl_resources[] that point here are in resources.c. Names go to
 * the API as given: its paths take an id or a name (in the default workspace). */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define REQ CTL_F_REQUIRED
#define LOCAL CTL_F_LOCAL
#define IDEM CTL_V_CREATE
#define ASYNC CTL_V_ASYNC

/* ---- cells ---- */

/* A rule in one line: "in tcp 22 from 192.0.2.0/24", "out any to anywhere". */
static void
rule_text(const json_t *r, char *buf, size_t size)
{
    const char *dir = json_string_value(json_object_get(r, "direction"));
    const char *proto = json_string_value(json_object_get(r, "protocol"));
    const char *ports = json_string_value(json_object_get(r, "ports"));
    const char *cidr = json_string_value(json_object_get(r, "remote_cidr"));
    const json_t *group = json_object_get(r, "remote_group");
    bool in = dir && strcmp(dir, "ingress") == 0;
    char remote[96];

    if (cidr)
        snprintf(remote, sizeof(remote), "%s", cidr);
    else if (json_is_object(group))
        snprintf(remote, sizeof(remote), "group %s", ctl_text(json_object_get(group, "name")));
    else
        snprintf(remote, sizeof(remote), "anywhere");
    snprintf(buf, size, "%s %s%s%s %s %s", in ? "in" : "out", proto ? proto : "?",
             ports ? " " : "", ports ? ports : "", in ? "from" : "to", remote);
}

static void
cell_rules(const json_t *item, char *buf, size_t size)
{
    const json_t *rules = json_object_get(item, "rules"), *r;
    size_t i, used = 0;

    snprintf(buf, size, "%s", json_array_size(rules) == 0 ? "none" : "");
    json_array_foreach(rules, i, r) {
        char one[160];
        if (used >= size)
            break;
        rule_text(r, one, sizeof(one));
        used += (size_t) snprintf(buf + used, size - used, "%s%s", i ? "; " : "", one);
    }
}

static void
cell_rule_count(const json_t *item, char *buf, size_t size)
{
    snprintf(buf, size, "%zu", json_array_size(json_object_get(item, "rules")));
}

/* ---- security groups ---- */

/* security-group show: its fields, then its rules as a table. */
static void
view_group(ctl_ctx *ctx, const json_t *j)
{
    static const ctl_column cols[] = {
        { "RULE", "id", 0, NULL },
        { "DIRECTION", "direction", 0, NULL },
        { "PROTOCOL", "protocol", 0, NULL },
        { "PORTS", "ports", 0, NULL },
        { "REMOTE_CIDR", "remote_cidr", 0, NULL },
        { "REMOTE_GROUP", "remote_group.name", 0, NULL },
        { "DESCRIPTION", "description", CTL_C_WIDE, NULL },
        { 0 },
    };
    const json_t *g = json_object_get(j, "security_group");
    const json_t *rules;
    sov_autoptr(json_t) rest = NULL;

    if (!json_is_object(g))
        g = j;
    rules = json_object_get(g, "rules");
    rest = json_is_object(g) ? json_copy((json_t *) g) : NULL;
    if (!rest || !json_is_array(rules)) {
        ctl_print_fields(ctx, j);
        return;
    }
    json_object_del(rest, "rules");
    ctl_print_fields(ctx, rest);
    if (json_array_size(rules) == 0) {
        printf("\nrules: none (nothing allowed in or out)\n");
        return;
    }
    printf("\nrules:\n");
    ctl_print_table(ctx, cols, rules);
}

const ctl_column ctl_security_group_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "RULES", NULL, 0, cell_rule_count },
    { "DEFAULT", "is_default", CTL_C_WIDE, NULL },
    { "WORKSPACE", "workspace", CTL_C_WIDE, NULL },
    { "DETAIL", NULL, CTL_C_WIDE, cell_rules },
    { "REASON", "state_reason", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag workspace_flags[] = {
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "only this workspace's (a name is looked up there)" },
    { 0 },
};

static const ctl_flag group_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME",
      .help = "security group name" },
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "workspace (default: default)" },
    { .name = "no-rules", .type = CTL_T_SWITCH, .opts = LOCAL,
      .help = "no rule at all (default: egress anywhere, ingress from the group's members)" },
    { 0 },
};

/* security-group create: --no-rules sends "rules": [] (none), else the defaults. */
static int
group_create(ctl_ctx *ctx)
{
    sov_autoptr(json_t) extra = NULL;
    ctl_resp r;
    int rc;

    if (ctl_switch(ctx, "no-rules"))
        extra = json_pack("{s:[]}", "rules");
    if ((rc = ctl_send_extra(ctx, extra, &r)) == 0)
        rc = ctl_send_answer(ctx, &r);
    ctl_resp_release(&r);
    return rc;
}

static const ctl_flag rule_add_flags[] = {
    { .name = "direction", .type = CTL_T_STR, .opts = REQ, .metavar = "ingress|egress",
      .help = "traffic into the group's ports, or out of them" },
    { .name = "protocol", .type = CTL_T_STR, .metavar = "tcp|udp|icmp|any",
      .help = "default any" },
    { .name = "ports", .type = CTL_T_STR, .metavar = "PORTS",
      .help = "tcp and udp: a port (22) or a range (1000-2000)" },
    { .name = "remote-cidr", .type = CTL_T_STR, .metavar = "CIDR",
      .help = "from (ingress) or to (egress) this IPv4 network" },
    { .name = "remote-group", .type = CTL_T_STR, .metavar = "GROUP",
      .help = "from or to the ports of this security group (name or id)" },
    { .name = "description", .type = CTL_T_STR, .metavar = "TEXT", .help = "a note" },
    { 0 },
};

/* security-group rule-delete GROUP RULE_ID */
static int
rule_delete(ctl_ctx *ctx)
{
    sov_autofree char *path = NULL;
    sov_autoptr(json_t) answer = NULL;
    char suffix[128];
    int rc;

    if (ctx->nargs < 2)
        return ctl_usage_error(ctx, "give the group and the rule's id");
    snprintf(suffix, sizeof(suffix), "/rules/%s", ctx->args[1]);
    path = ctl_path_join("/v1/security-groups", ctx->args[0], suffix);
    if (!path)
        return ctl_fail(CTL_EXIT_USAGE, "out of memory");
    if ((rc = ctl_api(ctx, "DELETE", path, NULL, &answer)) != 0)
        return rc;
    return ctl_finish_async(ctx, answer);
}

const ctl_verb ctl_security_group_verbs[] = {
    { .name = "list", .summary = "List security groups", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/security-groups", .flags = workspace_flags },
    { .name = "show", .summary = "Show a security group and its rules", .kind = CTL_SHOW,
      .method = "GET", .path = "/v1/security-groups/{id}", .args = "GROUP",
      .view = view_group },
    { .name = "get", .summary = "Show a security group (as show)", .kind = CTL_SHOW,
      .method = "GET", .path = "/v1/security-groups/{id}", .args = "GROUP",
      .view = view_group },
    { .name = "create", .summary = "Create a security group (default rules unless --no-rules)",
      .kind = CTL_RUN, .method = "POST", .path = "/v1/security-groups",
      .flags = group_create_flags, .opts = IDEM | ASYNC, .run = group_create },
    { .name = "rule-add", .summary = "Allow more traffic: add a rule to a security group",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/security-groups/{id}/rules",
      .args = "GROUP", .flags = rule_add_flags, .opts = ASYNC, .view = view_group },
    { .name = "rule-delete", .summary = "Remove a rule of a security group",
      .kind = CTL_RUN, .method = "DELETE", .path = "/v1/security-groups/{id}/rules",
      .args = "GROUP RULE_ID", .opts = ASYNC, .run = rule_delete },
    { .name = "delete",
      .summary = "Delete a security group no port and no other group's rule uses",
      .kind = CTL_DELETE, .method = "DELETE", .path = "/v1/security-groups/{id}",
      .args = "GROUP", .opts = ASYNC },
    { 0 },
};

/* ---- routers ---- */

const ctl_column ctl_router_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "NETWORK", "network.name", 0, NULL },
    { "EXTERNAL_IP", "external_ip", 0, NULL },
    { "SNAT", "snat", 0, NULL },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "REGION", "region", CTL_C_WIDE, NULL },
    { "WORKSPACE", "workspace", CTL_C_WIDE, NULL },
    { "REASON", "state_reason", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag router_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME",
      .help = "router name" },
    { .name = "network", .type = CTL_T_STR, .opts = REQ, .metavar = "NETWORK",
      .help = "the network (name or id) it gives a way out: one router per network" },
    { .name = "no-snat", .type = CTL_T_SWITCH, .opts = LOCAL,
      .help = "no SNAT: only ports with a public IP reach out" },
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "workspace (default: default)" },
    { 0 },
};

static int
router_create(ctl_ctx *ctx)
{
    sov_autoptr(json_t) extra = NULL;
    ctl_resp r;
    int rc;

    if (ctl_switch(ctx, "no-snat"))
        extra = json_pack("{s:b}", "snat", 0);
    if ((rc = ctl_send_extra(ctx, extra, &r)) == 0)
        rc = ctl_send_answer(ctx, &r);
    ctl_resp_release(&r);
    return rc;
}

const ctl_verb ctl_router_verbs[] = {
    { .name = "list", .summary = "List routers", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/routers", .flags = workspace_flags },
    { .name = "show", .summary = "Show a router", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/routers/{id}", .args = "ROUTER" },
    { .name = "get", .summary = "Show a router (as show)", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/routers/{id}", .args = "ROUTER" },
    { .name = "create",
      .summary = "Give a network an internet gateway, with an address of its region's pool",
      .kind = CTL_RUN, .method = "POST", .path = "/v1/routers", .flags = router_create_flags,
      .opts = IDEM | ASYNC, .run = router_create },
    { .name = "delete", .summary = "Delete a router no attached public IP needs",
      .kind = CTL_DELETE, .method = "DELETE", .path = "/v1/routers/{id}", .args = "ROUTER",
      .opts = ASYNC },
    { 0 },
};

/* ---- public IPs ---- */

const ctl_column ctl_public_ip_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "ADDRESS", "address", 0, NULL },
    { "PORT", "port.id", 0, NULL },
    { "PORT_IP", "port.ip", 0, NULL },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "REGION", "region", CTL_C_WIDE, NULL },
    { "WORKSPACE", "workspace", CTL_C_WIDE, NULL },
    { "REASON", "state_reason", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag public_ip_create_flags[] = {
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME",
      .help = "public IP name" },
    { .name = "region", .type = CTL_T_STR, .metavar = "CODE",
      .help = "take it in this region (default: the port's, else the first your policy "
              "allows that has a pool)" },
    { .name = "port", .type = CTL_T_STR, .metavar = "PORT",
      .help = "attach it at once to this port (name or id)" },
    { .name = "workspace", .type = CTL_T_STR, .metavar = "NAME",
      .help = "workspace (default: default)" },
    { 0 },
};

static const ctl_flag public_ip_attach_flags[] = {
    { .name = "port", .type = CTL_T_STR, .opts = REQ, .metavar = "PORT",
      .help = "the port (name or id); its network needs a router" },
    { 0 },
};

static const ctl_flag public_ip_detach_flags[] = {
    { .name = "port", .type = CTL_T_STR, .metavar = "PORT",
      .help = "the port it is attached to (name or id)" },
    { 0 },
};

const ctl_verb ctl_public_ip_verbs[] = {
    { .name = "list", .summary = "List public IPs", .kind = CTL_LIST, .method = "GET",
      .path = "/v1/public-ips", .flags = workspace_flags },
    { .name = "show", .summary = "Show a public IP: address, port, residency",
      .kind = CTL_SHOW, .method = "GET", .path = "/v1/public-ips/{id}", .args = "PUBLIC_IP" },
    { .name = "get", .summary = "Show a public IP (as show)", .kind = CTL_SHOW,
      .method = "GET", .path = "/v1/public-ips/{id}", .args = "PUBLIC_IP" },
    { .name = "create", .summary = "Take a public address of a region's pool",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/public-ips",
      .flags = public_ip_create_flags, .opts = IDEM | ASYNC },
    { .name = "attach", .summary = "Send a public address to a port (NAT on its router)",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/public-ips/{id}/actions",
      .args = "PUBLIC_IP", .flags = public_ip_attach_flags, .opts = IDEM | ASYNC,
      .action = "attach" },
    { .name = "detach", .summary = "Take a public address off its port",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/public-ips/{id}/actions",
      .args = "PUBLIC_IP", .flags = public_ip_detach_flags, .opts = IDEM | ASYNC,
      .action = "detach" },
    { .name = "residency", .summary = "Where a public IP has been: its residency records",
      .kind = CTL_RUN, .method = "GET", .path = "/v1/public-ips/{id}/residency",
      .args = "PUBLIC_IP", .run = ctl_cmd_resource_residency },
    { .name = "delete", .summary = "Release a public IP (detached first)",
      .kind = CTL_DELETE, .method = "DELETE", .path = "/v1/public-ips/{id}",
      .args = "PUBLIC_IP", .opts = ASYNC },
    { 0 },
};

/* ---- public IP pools (operators) ---- */

const ctl_column ctl_public_ip_pool_cols[] = {
    { "ID", "id", 0, NULL },
    { "NAME", "name", 0, NULL },
    { "REGION", "region", 0, NULL },
    { "CIDR", "cidr", 0, NULL },
    { "FIRST", "first_ip", 0, NULL },
    { "LAST", "last_ip", 0, NULL },
    { "USED", "used", 0, NULL },
    { "TOTAL", "total", 0, NULL },
    { "GATEWAY", "gateway", CTL_C_WIDE, NULL },
    { "PHYSICAL_NETWORK", "physical_network", CTL_C_WIDE, NULL },
    { 0 },
};

static const ctl_flag pool_region_flags[] = {
    { .name = "region", .type = CTL_T_STR, .opts = REQ | LOCAL, .metavar = "CODE",
      .field = "{region}", .help = "the region" },
    { 0 },
};

static const ctl_flag pool_create_flags[] = {
    { .name = "region", .type = CTL_T_STR, .opts = REQ | LOCAL, .metavar = "CODE",
      .field = "{region}", .help = "the region whose external network it is" },
    { .name = "name", .type = CTL_T_STR, .opts = REQ, .metavar = "NAME", .help = "pool name" },
    { .name = "cidr", .type = CTL_T_STR, .opts = REQ, .metavar = "CIDR",
      .help = "IPv4, /8 to /30: 203.0.113.0/24" },
    { .name = "gateway", .type = CTL_T_STR, .metavar = "IP",
      .help = "the external network's gateway (default: the first host address)" },
    { .name = "first-ip", .type = CTL_T_STR, .metavar = "IP",
      .help = "the first address handed out (default: after the gateway)" },
    { .name = "last-ip", .type = CTL_T_STR, .metavar = "IP",
      .help = "the last address handed out (default: the last host address)" },
    { .name = "physical-network", .type = CTL_T_STR, .metavar = "NAME",
      .help = "the chassis' bridge mapping name (default: public)" },
    { 0 },
};

const ctl_verb ctl_public_ip_pool_verbs[] = {
    { .name = "list", .summary = "List a region's public IP pools and their use",
      .kind = CTL_LIST, .method = "GET", .path = "/v1/regions/{region}/public-ip-pools",
      .flags = pool_region_flags },
    { .name = "show", .summary = "Show a public IP pool", .kind = CTL_SHOW, .method = "GET",
      .path = "/v1/regions/{region}/public-ip-pools/{id}", .args = "POOL",
      .flags = pool_region_flags },
    { .name = "create", .summary = "Give a region public addresses (operators)",
      .kind = CTL_SEND, .method = "POST", .path = "/v1/regions/{region}/public-ip-pools",
      .flags = pool_create_flags },
    { .name = "delete", .summary = "Withdraw a pool no address of which is held",
      .kind = CTL_DELETE, .method = "DELETE",
      .path = "/v1/regions/{region}/public-ip-pools/{id}", .args = "POOL",
      .flags = pool_region_flags },
    { 0 },
};
