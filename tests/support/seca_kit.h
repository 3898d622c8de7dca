/* seca_kit.h: what every SECA suite asks of a sovd (tests/integration/api/seca_*_test.c, the
 * tier's launcher): a sovd with two tenants and a region, SECA calls checked for SECA's
 * Content-Type, SECA refusals checked for SECA's error form, and the condition history read
 * and waited for. Failures are Check assertions, as in testlib. */
#ifndef SOV_TEST_SECA_KIT_H
#define SOV_TEST_SECA_KIT_H

#include "testlib.h"

#define TL_SECA_ERR "http://secapi.cloud/errors/"

/* A fresh database, sovd on it (no extra arguments), its operator token and two tenants
 * named a_name and b_name, and a region made by POST /v1/regions with region_body; stopped
 * (cleanly, within 30 s, or the test fails) and dropped by tl_seca_suite_stop. */
void tl_seca_suite_start(tl_sovd *s, char **db, char **op, const char *region_body,
                         const char *a_name, tl_tenant *a, const char *b_name, tl_tenant *b);
void tl_seca_suite_stop(tl_sovd *s, char *db, char *op);

/* j's string member key, "" when it has none (where tl_str would fail). */
const char *tl_seca_str(const json_t *j, const char *key);

/* A SECA call: status want and Content-Type application/json (however the body came); the
 * body as a new reference, or NULL when there is none. */
json_t *tl_seca_call(tl_sovd *s, const char *method, const char *path, const char *token,
                     const char *body, long want);
/* A SECA refusal: status, type TL_SECA_ERR..., sources[0].pointer (unless NULL), detail
 * containing says (unless NULL). */
void tl_seca_refused(tl_sovd *s, const char *method, const char *path, const char *token,
                     const char *body, long status, const char *pointer, const char *says);
/* r is in SECA's error form, strictly: status, application/json exactly, type
 * TL_SECA_ERR kind, a title and a detail, instance the path (its query cut off), sources an
 * array and no problem+json members; sources[0] names pointer with parameter param (NULL:
 * pointer's last segment), or sources is empty when pointer is NULL. */
void tl_seca_assert_error(const tl_resp *r, const char *path, long status, const char *kind,
                          const char *pointer, const char *param);

/* status.conditions' states, newest first, as "active,creating,pending". */
void tl_seca_conditions(const json_t *x, char *out, size_t size);
/* x's status.conditions are exactly want ("active,creating,pending"), or the test fails. */
void tl_seca_assert_conditions(const json_t *x, const char *want);
/* GET path (with token) until its conditions are want, for at most wait_s seconds: the body. */
json_t *tl_seca_wait_conditions(tl_sovd *s, const char *path, const char *token,
                                const char *want, int wait_s);
/* GET path (with token) until its status.state is want, for at most wait_s seconds: the
 * body. */
json_t *tl_seca_wait_state(tl_sovd *s, const char *path, const char *token, const char *want,
                           int wait_s);
/* GET path until it answers 404 (200 meanwhile), for at most wait_s seconds. */
void tl_seca_wait_gone(tl_sovd *s, const char *path, const char *token, int wait_s);

#endif
