/* image_repo.h: the SQL of images and their host copies (private to compute/).
 *
 * Every function runs on the caller's connection, inside the caller's transaction if any.
 * tenant_id scopes every query on a tenant's rows; NULL means any tenant and is for sovd's
 * own workers only. An image's residency is its region's image store: the region's place,
 * with no host. */
#ifndef SOV_IMAGE_REPO_H
#define SOV_IMAGE_REPO_H

#include "sov/compute.h"

/* Whether the tenant exists, and whether it has this workspace. */
int sov_repo_image_owner_exists(sov_dbconn *c, const char *tenant_id, const char *workspace,
                                bool *ret_tenant, bool *ret_workspace, sov_error *err);

/* A new image, queued. a->workspace must be resolved (not NULL); NULL source_url and sha256
 * are stored as "". A taken name is SOV_E_CONFLICT. */
int sov_repo_image_insert(sov_dbconn *c, const char *tenant_id, const sov_image_create_args *a,
                          sov_image *ret, sov_error *err);
/* lock: FOR UPDATE, so a state change and what follows it cannot interleave with another. */
int sov_repo_image_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                       sov_image *ret, sov_error *err);
/* The image not deleted with this name in the workspace. */
int sov_repo_image_get_by_name(sov_dbconn *c, const char *tenant_id, const char *workspace,
                               const char *name, sov_image *ret, sov_error *err);
/* Images not deleted; workspace, region and after (an id) may be NULL. Keyset on id. */
int sov_repo_image_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                        const char *region, const char *after, unsigned limit, sov_image_page *ret,
                        sov_error *err);

/* Move the image to state `to` (with reason) only when it is in one of the states `from`
 * (comma-separated, "queued,downloading"); *ret_moved says whether it did, and ret (may be
 * NULL) holds the row after the change. */
int sov_repo_image_transition(sov_dbconn *c, const char *tenant_id, const char *id,
                              const char *from, const char *to, const char *reason,
                              sov_image *ret, bool *ret_moved, sov_error *err);
/* queued -> downloading for an upload: only an image without source_url. */
int sov_repo_image_upload_claim(sov_dbconn *c, const char *tenant_id, const char *id,
                                sov_image *ret, bool *ret_claimed, sov_error *err);
/* An upload in progress says so (updated_at), while it is one (downloading, no source_url). */
int sov_repo_image_upload_touch(sov_dbconn *c, const char *id, sov_error *err);
/* Uploads that stopped saying so for stale_s seconds (the sovd receiving them died): back to
 * queued with reason; which ones into ret (malloc, n into *ret_n). */
typedef struct repo_image_ref {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char region[SOV_NAME_MAX + 1];
} repo_image_ref;
int sov_repo_image_uploads_reset(sov_dbconn *c, unsigned stale_s, const char *reason,
                                 repo_image_ref **ret, size_t *ret_n, sov_error *err);
/* downloading -> active with what the bytes turned out to be; *ret_moved false when the image
 * left downloading meanwhile. */
int sov_repo_image_activate(sov_dbconn *c, const char *id, long long size_bytes,
                            long long virtual_size_bytes, const char *sha256, sov_image *ret,
                            bool *ret_moved, sov_error *err);

/* Whether an instance not deleted uses the image. */
/* SOV_E_CONFLICT naming the live instances that use image id (what: "image 'x'"). */
int sov_repo_image_blockers(sov_dbconn *c, const char *id, const char *what, sov_error *err);

/* A copy of an image in a host's pool, with what it takes to reach the host. */
typedef struct repo_image_copy {
    char host_id[SOV_UUID_LEN + 1];
    char host_name[SOV_NAME_MAX + 1];
    char libvirt_uri[1024];
    char volume[256];
} repo_image_copy;

/* Every copy of the image; *ret is an array to free(). */
int sov_repo_image_copies(sov_dbconn *c, const char *id, repo_image_copy **ret, size_t *ret_n,
                          sov_error *err);
/* Forget one host's copy (its volume is gone). */
int sov_repo_image_copy_delete(sov_dbconn *c, const char *id, const char *host_id,
                               sov_error *err);

#endif
