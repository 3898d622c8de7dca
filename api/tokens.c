/* tokens.c: /v1/tokens and /v1/me. A token's secret appears once, in the reply that
 * creates it; after that only its hint (first characters) is shown. */
#include <openssl/crypto.h>
#include <stdio.h>

#include "handlers.h"

static json_t *
token_json(const sov_token *t)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", t->id, "tenant_id",
                          t->tenant_id, "user_id", t->user_id, "name", t->name, "hint", t->hint,
                          "created_at", t->created_at);
    json_object_set_new(j, "expires_at", t->expires_at[0] ? json_string(t->expires_at)
                                                          : json_null());
    return j;
}

/* GET /v1/me */
enum MHD_Result
sov_handle_me(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_user u;
    sov_tenant t;
    sov_token k;

    if (sov_me(&req->ctx, &u, &t, &k, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = json_pack(
        "{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:b}, s:s, s:{s:s, s:s}}",
        "user", "id", u.id, "name", u.name, "email", u.email,
        "tenant", "id", t.id, "name", t.name, "is_operator", t.is_operator,
        "role", sov_role_name(u.role) ? sov_role_name(u.role) : "",
        "token", "id", k.id, "name", k.name);
    json_object_set_new(json_object_get(body, "token"), "expires_at",
                        k.expires_at[0] ? json_string(k.expires_at) : json_null());
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* What an Idempotency-Key keeps of a token create, inside its transaction: the token
 * without its secret. Only a hash of a secret is ever stored, so a replay cannot show it
 * again: it answers the same token, and the secret stays what the first answer gave. */
static json_t *
stored_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    *status = MHD_HTTP_CREATED;
    (void) location;
    (void) location_size;
    return token_json(arg);
}

/* POST /v1/tokens */
enum MHD_Result
sov_handle_token_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },
        { "expires_at", JSON_STRING, false },
        { "user_id", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    char secret[SOV_TOKEN_SECRET_LEN + 1];
    sov_token t;
    enum MHD_Result r;

    if (sov_api_check_body(req, fields, 3, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_api_answer_in_tx(req, stored_json, &t);
    if (sov_token_create(&req->ctx, sov_api_body_str(req, "name"),
                         sov_api_body_str(req, "expires_at"),
                         json_is_null(json_object_get(req->body, "expires_at")),
                         sov_api_body_str(req, "user_id"), &t, secret, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *body = token_json(&t);
    json_object_set_new(body, "secret", json_string(secret));
    OPENSSL_cleanse(secret, sizeof(secret));
    r = sov_api_reply(req, MHD_HTTP_CREATED, body);
    /* The serialized reply is the only copy left; scrub the JSON's. */
    json_t *s = json_object_get(body, "secret");
    if (s)
        OPENSSL_cleanse((char *) json_string_value(s), json_string_length(s));
    json_decref(body);
    return r;
}

/* GET /v1/tokens[?user_id=] */
enum MHD_Result
sov_handle_token_list(sov_request *req)
{
    static const char *const keep[] = { "user_id", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_token_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_token_list(&req->ctx, sov_request_query(req, "user_id"), after, limit, &page,
                       &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, token_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/tokens/{id} */
enum MHD_Result
sov_handle_token_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_token_revoke(&req->ctx, sov_request_param(req, "id"), &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply(req, MHD_HTTP_NO_CONTENT, NULL);
}
