/* commands.c: verbs with code of their own (image upload, image create from a file,
 * version) and the human views of answers that are not one resource (whoami, quotas, the
 * audit verdict). Everything else is a row of resources.c run by verbs.c. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/opensslv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"

#define KEY_SCAN (64 * 1024)

/* ---- views ---- */

static void
field_line(const char *label, const char *value)
{
    char clean[512];

    snprintf(clean, sizeof(clean), "%s", value ? value : "-");
    ctl_blank_controls(clean);
    printf("%-10s%s\n", label, clean);
}

void
ctl_view_whoami(ctl_ctx *ctx, const json_t *me)
{
    char line[512];
    const char *expires = json_string_value(ctl_json_path(me, "token.expires_at"));

    snprintf(line, sizeof(line), "%s <%s>",
             ctl_text(ctl_json_path(me, "user.name")),
             ctl_text(ctl_json_path(me, "user.email")));
    field_line("user", line);
    field_line("user id", ctl_text(ctl_json_path(me, "user.id")));
    field_line("role", ctl_text(json_object_get(me, "role")));
    snprintf(line, sizeof(line), "%s (%s)", ctl_text(ctl_json_path(me, "tenant.name")),
             ctl_text(ctl_json_path(me, "tenant.id")));
    field_line("tenant", line);
    snprintf(line, sizeof(line), "%s (%s), expires %s",
             ctl_text(ctl_json_path(me, "token.name")),
             ctl_text(ctl_json_path(me, "token.id")), expires ? expires : "never");
    field_line("token", line);
    field_line("endpoint", ctx->set.endpoint);
}

void
ctl_view_quota(ctl_ctx *ctx, const json_t *j)
{
    static const ctl_column cols[] = {
        { "QUOTA", "quota", 0, NULL },
        { "LIMIT", "limit", 0, NULL },
        { "USED", "used", 0, NULL },
        { "FREE", "free", 0, NULL },
        { 0 },
    };
    sov_autoptr(json_t) rows = json_array();
    const char *name;
    json_t *q;

    json_object_foreach(json_object_get(j, "quotas"), name, q) {
        json_int_t limit = json_integer_value(json_object_get(q, "limit"));
        json_int_t used = json_integer_value(json_object_get(q, "used"));
        json_array_append_new(rows, json_pack("{s:s, s:I, s:I, s:I}", "quota", name, "limit",
                                              limit, "used", used, "free",
                                              limit > used ? limit - used : 0));
    }
    ctl_print_table(ctx, cols, rows);
}

void
ctl_view_audit_verify(ctl_ctx *ctx, const json_t *j)
{
    json_int_t n = json_integer_value(json_object_get(j, "entries"));
    const json_t *broken = json_object_get(j, "first_broken");

    if (json_is_true(json_object_get(j, "ok"))) {
        printf("%sThe audit chain is intact%s: %lld entries verified.\n",
               ctl_state_color(ctx, "ok"), ctl_color_reset(ctx), (long long) n);
        return;
    }
    printf("%sThe audit chain is BROKEN%s at entry %lld: %s (%lld entries checked).\n",
           ctl_state_color(ctx, "failed"), ctl_color_reset(ctx),
           (long long) json_integer_value(json_object_get(broken, "seq")),
           ctl_text(json_object_get(broken, "reason")),
           (long long) n);
}

/* ---- images from files ---- */

/* The head of the stream holds no private key (checked again here, on the stream sent:
 * the file may have changed since the check before any request); then back to its start. */
static int
refuse_key_stream(const ctl_ctx *ctx, FILE *in, const char *file)
{
    sov_autofree char *head = malloc(KEY_SCAN);
    size_t n;
    int rc;

    if (!head)
        abort();
    n = fread(head, 1, KEY_SCAN, in);
    if ((rc = ctl_refuse_private_key(ctx, "upload", file, head, n)) != 0)
        return rc;
    if (ferror(in) || fseek(in, 0, SEEK_SET) != 0)
        return ctl_usage_error(ctx, "could not read %s: %s", file, strerror(errno));
    return 0;
}

/* PUT the file to /v1/images/{id}/file as it is read: never whole in memory. */
static int
upload(ctl_ctx *ctx, const char *id, const char *file, json_t **ret)
{
    sov_autoptr(FILE) in = fopen(file, "rb");
    sov_autofree char *path = ctl_path_join("/v1/images", id, "/file");
    ctl_req req = { .method = "PUT", .progress = true };
    struct stat st;
    ctl_resp r;
    int rc;

    if (!in || fstat(fileno(in), &st) < 0)
        return ctl_usage_error(ctx, "could not open %s: %s", file, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ctl_usage_error(ctx, "%s is not a regular file", file);
    if ((rc = refuse_key_stream(ctx, in, file)) != 0)
        return rc;
    req.path = path;
    req.upload = in;
    req.upload_len = st.st_size;
    if ((rc = ctl_http(ctx, &req, &r)) != 0)
        return rc;
    if (r.status >= 400)
        rc = ctl_problem(ctx, &r);
    else if (ret)
        *ret = SOV_TAKE_PTR(r.json);
    ctl_resp_release(&r);
    return rc;
}

int
ctl_cmd_image_upload(ctl_ctx *ctx)
{
    sov_autoptr(json_t) image = NULL;
    int rc = upload(ctx, ctx->id, ctx->args[1], &image);

    if (rc == 0)
        ctl_print(ctx, image);
    return rc;
}

static int
create_then_upload(ctl_ctx *ctx, const char *file)
{
    sov_autoptr(json_t) image = NULL;
    sov_autofree char *id = NULL;
    ctl_resp r;
    int rc;

    if ((rc = ctl_send(ctx, &r)) != 0)
        return rc;
    if (r.status >= 400) {
        rc = ctl_problem(ctx, &r);
        ctl_resp_release(&r);
        return rc;
    }
    id = json_string_value(json_object_get(r.json, "id"))
             ? strdup(json_string_value(json_object_get(r.json, "id")))
             : NULL;
    ctl_resp_release(&r);
    if (!id)
        return ctl_fail(CTL_EXIT_API, "the API made the image but did not say its id");
    if ((rc = upload(ctx, id, file, &image)) != 0) {
        fprintf(stderr, "The image %s stays queued: sovctl image upload %s FILE tries again.\n",
                id, id);
        return rc;
    }
    ctl_print(ctx, image);
    return 0;
}

int
ctl_cmd_image_create(ctl_ctx *ctx)
{
    const char *file = ctl_value(ctx, "file");
    struct stat st;
    ctl_resp r;
    int rc;

    if (file && ctl_value(ctx, "source-url"))
        return ctl_usage_error(ctx, "give --source-url or --file, not both");
    if (file && (stat(file, &st) < 0 || !S_ISREG(st.st_mode)))
        return ctl_usage_error(ctx, "--file %s: not a file one can read", file);
    if (file)
        return create_then_upload(ctx, file);
    if ((rc = ctl_send(ctx, &r)) == 0)
        rc = ctl_send_answer(ctx, &r);
    ctl_resp_release(&r);
    return rc;
}

/* `instance migrate INSTANCE [--cold] [--host HOST]`: the action's body, live false with
 * --cold; --wait follows the migration's operation. */
int
ctl_cmd_instance_migrate(ctl_ctx *ctx)
{
    sov_autoptr(json_t) extra = ctl_switch(ctx, "cold") ? json_pack("{s:b}", "live", 0) : NULL;
    ctl_resp r;
    int rc;

    if ((rc = ctl_send_extra(ctx, extra, &r)) == 0)
        rc = ctl_send_answer(ctx, &r);
    ctl_resp_release(&r);
    return rc;
}

/* How much of a migration's copy is done: "42%", or "-" when libvirt has not said. */
static void
cell_copied(const json_t *item, char *buf, size_t size)
{
    const json_t *p = json_object_get(item, "progress");
    json_int_t total = json_integer_value(json_object_get(p, "data_total"));
    json_int_t done = json_integer_value(json_object_get(p, "data_processed"));

    if (total > 0)
        snprintf(buf, size, "%lld%%", (long long) (done * 100 / total));
    else
        snprintf(buf, size, "-");
}

static const ctl_column migration_cols[] = {
    { "ID", "id", 0, NULL },
    { "STATE", "state", CTL_C_STATE, NULL },
    { "LIVE", "live", 0, NULL },
    { "SOURCE", "source", 0, NULL },
    { "TARGET", "target", 0, NULL },
    { "COPIED", NULL, 0, cell_copied },
    { "DOWNTIME_MS", "downtime_ms", 0, NULL },
    { "REASON", "reason", 0, NULL },
    { "OPERATION", "operation_id", CTL_C_WIDE, NULL },
    { "CREATED", "created_at", CTL_C_WIDE, NULL },
    { "FINISHED", "finished_at", CTL_C_WIDE, NULL },
    { 0 },
};

/* `instance migrations INSTANCE`: every page, oldest first. */
int
ctl_cmd_instance_migrations(ctl_ctx *ctx)
{
    sov_autofree char *path = NULL;
    sov_autoptr(json_t) all = NULL;
    int rc;

    if ((rc = ctl_expand_path(ctx, ctx->verb->path, &path)) != 0 ||
        (rc = ctl_list_all(ctx, path, &all)) != 0)
        return rc;
    if (ctx->format == CTL_FMT_JSON)
        ctl_print_json(all);
    else if (json_array_size(json_object_get(all, "items")) == 0)
        fprintf(stderr, "No migrations found.\n");
    else
        ctl_print_table(ctx, migration_cols, json_object_get(all, "items"));
    return 0;
}

int
ctl_cmd_version(ctl_ctx *ctx)
{
    curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

    (void) ctx;
    printf("sovctl %s (libcurl %s, jansson %s, %s)\n", SOV_VERSION, cv->version,
           jansson_version_str(), OPENSSL_VERSION_TEXT);
    return 0;
}

/* ---- hosts: maintenance and evacuation ---- */

/* sovctl host maintenance HOST: no new placements there (PATCH {state: maintenance}); back
 * with sovctl host update HOST --state up. */
int
ctl_cmd_host_maintenance(ctl_ctx *ctx)
{
    sov_autofree char *path = NULL;
    sov_autoptr(json_t) body = json_pack("{s:s}", "state", "maintenance");
    sov_autoptr(json_t) host = NULL;
    int rc;

    if ((rc = ctl_expand_path(ctx, ctx->verb->path, &path)) != 0 ||
        (rc = ctl_api(ctx, "PATCH", path, body, &host)) != 0)
        return rc;
    ctl_print(ctx, host);
    return 0;
}

/* One line of an evacuation's result: what, the instance's name and id, and why. */
static void
evacuation_line(const char *what, const json_t *e, const char *why)
{
    char line[1024];

    snprintf(line, sizeof(line), "  %-7s %s (%s)%s%s", what,
             ctl_text(json_object_get(e, "name")), ctl_text(json_object_get(e, "instance_id")),
             why ? ": " : "", why ? why : "");
    ctl_blank_controls(line);
    printf("%s\n", line);
}

/* An evacuation as people read it: counts, then each instance moved, staying (with the
 * reason) and failed (with its migration's error). */
static void
view_evacuation(const json_t *op)
{
    const json_t *res = json_object_get(op, "result");
    const json_t *e;
    size_t i;

    printf("evacuation %s %s: %zu moved, %zu stayed, %zu failed\n",
           ctl_text(json_object_get(op, "id")), ctl_text(json_object_get(op, "state")),
           json_array_size(json_object_get(res, "moved")),
           json_array_size(json_object_get(res, "stayed")),
           json_array_size(json_object_get(res, "failed")));
    json_array_foreach(json_object_get(res, "moved"), i, e)
        evacuation_line("moved", e, NULL);
    json_array_foreach(json_object_get(res, "stayed"), i, e)
        evacuation_line("stayed", e, ctl_text(json_object_get(e, "reason")));
    json_array_foreach(json_object_get(res, "failed"), i, e)
        evacuation_line("failed", e,
                        ctl_text(json_object_get(json_object_get(e, "error"), "message")));
}

/* sovctl host evacuate HOST [--wait]: the host goes to maintenance and its instances move
 * elsewhere inside their policies; with --wait, what moved, stayed and failed. */
int
ctl_cmd_host_evacuate(ctl_ctx *ctx)
{
    sov_autofree char *path = NULL;
    sov_autoptr(json_t) answer = NULL;
    sov_autoptr(json_t) last = NULL;
    const char *id;
    int rc;

    if ((rc = ctl_expand_path(ctx, ctx->verb->path, &path)) != 0 ||
        (rc = ctl_api(ctx, "POST", path, NULL, &answer)) != 0)
        return rc;
    if (!ctx->opts.wait)
        return ctl_finish_async(ctx, answer);
    id = json_string_value(json_object_get(json_object_get(answer, "operation"), "id"));
    if (!id)
        return ctl_fail(CTL_EXIT_API, "the answer holds no operation");
    rc = ctl_wait_operation(ctx, id, &last);
    if (!last || rc == CTL_EXIT_INTERRUPTED)
        return rc;
    if (ctx->format == CTL_FMT_JSON)
        ctl_print_json(last);
    else
        view_evacuation(last);
    return rc;
}
