/* report.c: residency reports and history. A report is asked for, waited for, downloaded
 * (streamed to disk), and its Ed25519 signature checked here, with OpenSSL, over exactly the
 * bytes written: the public key is fetched by the report's key id, and its id recomputed
 * from the key itself, so a server cannot name one key and serve another. sovctl writes the
 * document, FILE.sig and FILE.pem side by side, so that anyone can check again with openssl
 * alone, and says plainly whether the signature verified. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

#define SIGNATURE_LEN 64
#define KEY_ID_LEN 16

SOV_DEFINE_AUTOPTR(EVP_PKEY, EVP_PKEY_free)
SOV_DEFINE_AUTOPTR(EVP_MD_CTX, EVP_MD_CTX_free)
SOV_DEFINE_AUTOPTR(BIO, BIO_free_all)

/* A file's bytes, mapped (a report may be large; Ed25519 signs it in one piece). */
typedef struct mapped {
    unsigned char *data;
    size_t len;
} mapped;

static void
mapped_release(mapped *m)
{
    if (m->data && m->len > 0)
        munmap(m->data, m->len);
    m->data = NULL;
    m->len = 0;
}

static int
map_file(const char *path, mapped *m, char *why, size_t size)
{
    sov_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;

    m->data = NULL;
    m->len = 0;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(why, size, "could not read %s: %s", path, strerror(errno));
        return -1;
    }
    if (st.st_size == 0) {
        m->data = (unsigned char *) "";
        return 0;
    }
    m->data = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m->data == MAP_FAILED) {
        m->data = NULL;
        snprintf(why, size, "could not read %s: %s", path, strerror(errno));
        return -1;
    }
    m->len = (size_t) st.st_size;
    return 0;
}

static void
hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void
sha256_hex(const unsigned char *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;

    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    hex(md, 32, out);
}

/* The key id the API uses: the first 16 hex digits of SHA-256 of the DER public key. */
static int
key_id_of(EVP_PKEY *key, char out[KEY_ID_LEN + 1])
{
    unsigned char *der = NULL;
    char full[65];
    int n = i2d_PUBKEY(key, &der);

    if (n <= 0)
        return -1;
    sha256_hex(der, (size_t) n, full);
    OPENSSL_free(der);
    snprintf(out, KEY_ID_LEN + 1, "%.*s", KEY_ID_LEN, full);
    return 0;
}

/* What verifying found: ok, or why not. */
typedef struct verdict {
    bool ok;
    char why[512];
    char key_id[KEY_ID_LEN + 1];
    char sha256[65];
} verdict;

static bool
refuse(verdict *v, const char *why)
{
    snprintf(v->why, sizeof(v->why), "%s", why);
    v->ok = false;
    return false;
}

static bool
check_key(const char *pem, const char *want_id, EVP_PKEY **ret, verdict *v)
{
    sov_autoptr(BIO) bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;

    if (!key)
        return refuse(v, "the public key is not a PEM public key");
    *ret = key;
    if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519)
        return refuse(v, "the public key is not an Ed25519 key");
    if (key_id_of(key, v->key_id) < 0)
        return refuse(v, "could not encode the public key");
    if (want_id && strcmp(want_id, v->key_id) != 0) {
        snprintf(v->why, sizeof(v->why), "the key served has id %s, but the report was signed "
                                         "by key %s", v->key_id, want_id);
        return false;
    }
    return true;
}

/* Verify sig over exactly doc with the Ed25519 key in pem (its id must be want_id when
 * given), and compare doc's SHA-256 with want_sha256 when given. */
static bool
verify(const char *pem, const char *want_id, const mapped *doc, const unsigned char *sig,
       size_t siglen, const char *want_sha256, verdict *v)
{
    sov_autoptr(EVP_PKEY) key = NULL;
    sov_autoptr(EVP_MD_CTX) md = EVP_MD_CTX_new();

    v->ok = false;
    if (!check_key(pem, want_id, &key, v))
        return false;
    sha256_hex(doc->data, doc->len, v->sha256);
    if (siglen != SIGNATURE_LEN)
        return refuse(v, "the signature is not 64 bytes long");
    /* Ed25519 hashes inside the signature scheme: no digest here, the message whole. */
    if (!md || EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) != 1 ||
        EVP_DigestVerify(md, sig, siglen, doc->data, doc->len) != 1)
        return refuse(v, "the signature does not match the document: it was changed, or "
                         "signed by another key");
    if (want_sha256 && strcmp(want_sha256, v->sha256) != 0)
        return refuse(v, "the signature verifies, but the document's SHA-256 differs from "
                         "the one the API reports");
    v->ok = true;
    return true;
}

/* ---- writing files ---- */

static int
write_file(const char *path, const void *data, size_t len)
{
    sov_autoptr(FILE) out = fopen(path, "wb");

    if (!out || fwrite(data, 1, len, out) != len || fflush(out) != 0)
        return ctl_fail(CTL_EXIT_API, "could not write %s: %s", path, strerror(errno));
    return 0;
}

/* GET link into file, through file.part: a failed download never leaves a partial FILE. */
static int
download(ctl_ctx *ctx, const char *link, const char *file)
{
    sov_autofree char *part = NULL;
    ctl_req req = { .method = "GET", .path = link, .progress = true };
    FILE *out;
    ctl_resp r;
    int rc;

    if (asprintf(&part, "%s.part", file) < 0)
        abort();
    if (!(out = fopen(part, "w+b")))
        return ctl_fail(CTL_EXIT_API, "could not write %s: %s", part, strerror(errno));
    req.download = out;
    rc = ctl_http(ctx, &req, &r);
    if (rc == 0 && r.status >= 400)
        rc = ctl_problem(ctx, &r);
    if (fclose(out) != 0 && rc == 0)
        rc = ctl_fail(CTL_EXIT_API, "could not write %s: %s", part, strerror(errno));
    if (rc == 0 && rename(part, file) < 0)
        rc = ctl_fail(CTL_EXIT_API, "could not write %s: %s", file, strerror(errno));
    if (rc != 0)
        unlink(part);
    ctl_resp_release(&r);
    return rc;
}

static int
fetch_signature(ctl_ctx *ctx, const char *link, const char *file, ctl_resp *ret)
{
    ctl_req req = { .method = "GET", .path = link };
    int rc = ctl_http(ctx, &req, ret);

    if (rc == 0 && ret->status >= 400)
        return ctl_problem(ctx, ret);
    if (rc == 0)
        rc = write_file(file, ret->body ? ret->body : "", ret->len);
    return rc;
}

static int
fetch_key(ctl_ctx *ctx, const char *key_id, const char *file, json_t **ret)
{
    sov_autofree char *path = strdup("/v1/residency/signing-key");
    const char *pem;
    int rc;

    if (!path)
        abort();
    if ((rc = ctl_query_add(&path, "key_id", key_id)) != 0 ||
        (rc = ctl_api(ctx, "GET", path, NULL, ret)) != 0)
        return rc;
    pem = json_string_value(json_object_get(*ret, "public_key_pem"));
    if (!pem)
        return ctl_fail(CTL_EXIT_API, "the API served key %s without its PEM", key_id);
    return write_file(file, pem, strlen(pem));
}

/* ---- saying it ---- */

static void
say_report(const json_t *rep, const char *file)
{
    printf("Report %s: %s, %s to %s, %lld rows, %lld violations.\n",
           ctl_text(json_object_get(rep, "id")),
           ctl_text(json_object_get(rep, "format")),
           ctl_text(ctl_json_path(rep, "period.from")),
           ctl_text(ctl_json_path(rep, "period.to")),
           (long long) json_integer_value(json_object_get(rep, "rows")),
           (long long) json_integer_value(json_object_get(rep, "violations")));
    printf("Wrote %s (%lld bytes), %s.sig (signature) and %s.pem (public key).\n", file,
           (long long) json_integer_value(json_object_get(rep, "size_bytes")), file, file);
    if (json_integer_value(json_object_get(rep, "violations")) > 0)
        printf("WARNING: the report lists %lld intervals outside the residency policy in "
               "force at the time.\n",
               (long long) json_integer_value(json_object_get(rep, "violations")));
}

static int
say_verdict(const ctl_ctx *ctx, const verdict *v, const char *file, const char *sig,
            const char *pem)
{
    if (!v->ok) {
        printf("%sSignature NOT verified%s: %s.\n", ctl_state_color(ctx, "failed"),
               ctl_color_reset(ctx), v->why);
        return CTL_EXIT_API;
    }
    printf("%sSignature verified%s: Ed25519 key %s signed exactly these bytes "
           "(SHA-256 %s).\n",
           ctl_state_color(ctx, "ok"), ctl_color_reset(ctx), v->key_id, v->sha256);
    printf("Check again with OpenSSL alone:\n  openssl pkeyutl -verify -pubin -inkey %s "
           "-rawin -in %s -sigfile %s\n", pem, file, sig);
    return 0;
}

/* ---- the commands ---- */

static int
fetch_and_verify(ctl_ctx *ctx, const json_t *rep, const char *file)
{
    sov_autofree char *sig_file = NULL, *pem_file = NULL;
    sov_autoptr(json_t) key = NULL;
    const char *key_id = json_string_value(json_object_get(rep, "key_id"));
    const char *doc_link = json_string_value(ctl_json_path(rep, "links.document"));
    const char *sig_link = json_string_value(ctl_json_path(rep, "links.signature"));
    verdict v = { .ok = false };
    mapped doc = { NULL, 0 };
    ctl_resp sig = { 0 };
    int rc;

    if (!key_id)
        return ctl_fail(CTL_EXIT_API, "the report is not signed (state %s)",
                        ctl_text(json_object_get(rep, "state")));
    if (asprintf(&sig_file, "%s.sig", file) < 0 || asprintf(&pem_file, "%s.pem", file) < 0)
        abort();
    if (!doc_link || !sig_link)
        return ctl_fail(CTL_EXIT_API, "the API gave no links to the report's document");
    rc = download(ctx, doc_link, file);
    if (rc == 0)
        rc = fetch_signature(ctx, sig_link, sig_file, &sig);
    if (rc == 0)
        rc = fetch_key(ctx, key_id, pem_file, &key);
    if (rc == 0 && map_file(file, &doc, v.why, sizeof(v.why)) == 0)
        verify(json_string_value(json_object_get(key, "public_key_pem")), key_id, &doc,
               (const unsigned char *) sig.body, sig.len,
               json_string_value(json_object_get(rep, "document_sha256")), &v);
    if (rc == 0) {
        say_report(rep, file);
        rc = say_verdict(ctx, &v, file, sig_file, pem_file);
    }
    mapped_release(&doc);
    ctl_resp_release(&sig);
    return rc;
}

static const char *
report_format(const ctl_ctx *ctx, const char *file)
{
    const char *f = ctl_value(ctx, "format");
    size_t n = strlen(file);

    if (f)
        return f;
    return n > 4 && strcmp(file + n - 4, ".csv") == 0 ? "csv" : "json";
}

static int
report_body(ctl_ctx *ctx, const char *format, json_t **ret)
{
    sov_autoptr(json_t) body = json_pack("{s:s, s:s, s:s}", "from", ctl_value(ctx, "from"),
                                         "to", ctl_value(ctx, "to"), "format", format);
    const ctl_resource *tenant = ctl_resource_find("tenant");
    json_t *ids = json_array();
    char id[80];
    int rc;

    json_object_set_new(body, "tenants", ids);
    for (size_t i = 0; i < ctx->nvalues; i++) {
        if (strcmp(ctx->values[i].flag->name, "tenant") != 0)
            continue;
        sov_autofree char *list = strdup(ctx->values[i].value);
        for (char *save = NULL, *t = strtok_r(list, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            if ((rc = ctl_resolve(ctx, tenant, t, id, sizeof(id))) != 0)
                return rc;
            json_array_append_new(ids, json_string(id));
        }
    }
    if (json_array_size(ids) == 0)
        json_object_del(body, "tenants");
    *ret = SOV_TAKE_PTR(body);
    return 0;
}

static int
request_report(ctl_ctx *ctx, const char *format, json_t **ret)
{
    sov_autoptr(json_t) body = NULL;
    ctl_req req = { .method = "POST", .path = "/v1/residency/reports", .create = true };
    ctl_resp r;
    int rc;

    if (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
        return ctl_usage_error(ctx, "--format wants csv or json, not '%s'", format);
    if ((rc = report_body(ctx, format, &body)) != 0)
        return rc;
    req.body = body;
    if ((rc = ctl_http(ctx, &req, &r)) != 0)
        return rc;
    if (r.status >= 400)
        rc = ctl_problem(ctx, &r);
    else
        *ret = SOV_TAKE_PTR(r.json);
    ctl_resp_release(&r);
    return rc;
}

static int
load_report(ctl_ctx *ctx, const char *id, json_t **ret)
{
    sov_autofree char *path = ctl_path_join("/v1/residency/reports", id, "");

    return ctl_api(ctx, "GET", path, NULL, ret);
}

int
ctl_cmd_report(ctl_ctx *ctx)
{
    const char *file = ctl_value(ctx, "output");
    sov_autoptr(json_t) accepted = NULL;
    sov_autoptr(json_t) op = NULL;
    sov_autoptr(json_t) rep = NULL;
    const char *id, *op_id;
    int rc;

    if ((rc = request_report(ctx, report_format(ctx, file), &accepted)) != 0)
        return rc;
    id = json_string_value(ctl_json_path(accepted, "report.id"));
    op_id = json_string_value(ctl_json_path(accepted, "operation.id"));
    if (!id || !op_id)
        return ctl_fail(CTL_EXIT_API, "the API accepted the report without naming it");
    if ((rc = ctl_wait_operation(ctx, op_id, &op)) != 0) {
        if (rc != CTL_EXIT_INTERRUPTED)
            return rc;
        fprintf(stderr, "Then download and verify it: sovctl report download %s -o %s\n", id,
                file);
        return rc;
    }
    if ((rc = load_report(ctx, id, &rep)) != 0)
        return rc;
    return fetch_and_verify(ctx, rep, file);
}

int
ctl_cmd_report_download(ctl_ctx *ctx)
{
    sov_autoptr(json_t) rep = NULL;
    int rc = load_report(ctx, ctx->id, &rep);

    if (rc == 0)
        rc = fetch_and_verify(ctx, rep, ctl_value(ctx, "output"));
    return rc;
}

/* Verify files already here, with no API at all. */
int
ctl_cmd_report_verify(ctl_ctx *ctx)
{
    const char *file = ctx->args[0];
    sov_autofree char *sig_name = NULL, *pem_name = NULL, *pem = NULL;
    mapped doc = { NULL, 0 }, sig = { NULL, 0 }, key = { NULL, 0 };
    verdict v = { .ok = false };
    int rc;

    if (asprintf(&sig_name, "%s.sig", file) < 0 || asprintf(&pem_name, "%s.pem", file) < 0)
        abort();
    const char *sig_file = ctl_value(ctx, "signature") ? ctl_value(ctx, "signature") : sig_name;
    const char *pem_file = ctl_value(ctx, "public-key") ? ctl_value(ctx, "public-key")
                                                        : pem_name;
    if (map_file(file, &doc, v.why, sizeof(v.why)) < 0 ||
        map_file(sig_file, &sig, v.why, sizeof(v.why)) < 0 ||
        map_file(pem_file, &key, v.why, sizeof(v.why)) < 0) {
        rc = ctl_usage_error(ctx, "%s", v.why);
    } else {
        if (!(pem = strndup((const char *) key.data, key.len)))
            abort();
        verify(pem, NULL, &doc, sig.data, sig.len, NULL, &v);
        rc = say_verdict(ctx, &v, file, sig_file, pem_file);
    }
    mapped_release(&doc);
    mapped_release(&sig);
    mapped_release(&key);
    return rc;
}

void
ctl_view_signing_key(ctl_ctx *ctx, const json_t *j)
{
    const char *retired = json_string_value(json_object_get(j, "retired_at"));

    (void) ctx;
    printf("key_id      %s\nalgorithm   %s\ncreated_at  %s\nretired_at  %s\n%s",
           ctl_text(json_object_get(j, "key_id")),
           ctl_text(json_object_get(j, "algorithm")),
           ctl_text(json_object_get(j, "created_at")), retired ? retired : "-",
           ctl_text(json_object_get(j, "public_key_pem")));
}

/* ---- history ---- */

static const ctl_column history_cols[] = {
    { "SEQ", "seq", 0, NULL },
    { "AT", "at", 0, NULL },
    { "EVENT", "event", 0, NULL },
    { "REGION", "to.region", 0, NULL },
    { "COUNTRY", "to.country", 0, NULL },
    { "HOST", "to.host", 0, NULL },
    { "REASON", "reason", 0, NULL },
    { "JURISDICTION", "to.jurisdiction", CTL_C_WIDE, NULL },
    { "DATACENTER", "to.datacenter", CTL_C_WIDE, NULL },
    { "FROM", "from.region", CTL_C_WIDE, NULL },
    { "FROM_HOST", "from.host", CTL_C_WIDE, NULL },
    { "OPERATION", "operation_id", CTL_C_WIDE, NULL },
    { 0 },
};

/* Every page of a residency history at path, as a table or as JSON. */
static int
print_history(ctl_ctx *ctx, const char *path)
{
    sov_autoptr(json_t) all = NULL;
    int rc;

    if ((rc = ctl_list_all(ctx, path, &all)) != 0)
        return rc;
    if (ctx->format == CTL_FMT_JSON)
        ctl_print_json(all);
    else
        ctl_print_table(ctx, history_cols, json_object_get(all, "items"));
    return 0;
}

int
ctl_cmd_residency_history(ctl_ctx *ctx)
{
    static const char *const kinds[] = { "instance", "image", "volume", "snapshot" };
    const char *given = NULL, *kind = NULL;
    const ctl_resource *res;
    sov_autofree char *path = NULL;
    char id[512];
    int rc;

    for (size_t i = 0; i < SOV_N_ELEMENTS(kinds); i++) {
        const char *v = ctl_value(ctx, kinds[i]);
        if (!v)
            continue;
        if (given)
            return ctl_usage_error(ctx, "give one of --instance, --image, --volume, --snapshot");
        given = v;
        kind = kinds[i];
    }
    if (!given)
        return ctl_usage_error(ctx, "give --instance, --image, --volume or --snapshot");
    res = ctl_resource_find(kind);
    if ((rc = ctl_resolve(ctx, res, given, id, sizeof(id))) != 0)
        return rc;
    path = ctl_path_join(res->path, id, "/residency");
    return print_history(ctx, path);
}

/* `volume residency VOLUME`, `snapshot residency SNAPSHOT`: the verb's path, {id} filled. */
int
ctl_cmd_resource_residency(ctl_ctx *ctx)
{
    sov_autofree char *path = NULL;
    int rc;

    if ((rc = ctl_expand_path(ctx, ctx->verb->path, &path)) != 0)
        return rc;
    return print_history(ctx, path);
}
