/* seca_netsec.h: what the network provider's part two shares (api/seca_netsec.c,
 * seca_security_groups.c, seca_public_ips.c, seca_nics.c), private to those files. */
#ifndef SOV_API_SECA_NETSEC_H
#define SOV_API_SECA_NETSEC_H

#include "seca.h"
#include "sov/network.h"

extern const sov_seca_type sov_seca_t_sg, sov_seca_t_rule, sov_seca_t_nic, sov_seca_t_pip,
    sov_seca_t_subnet;

#define SOV_SECA_OBJ_NIC "nic"  /* a NIC's addresses and skuRef, beside its port */
#define SOV_SECA_PAGE 100       /* rows asked of a /v1 list at a time */

/* A reference that must name something of the request's workspace. */
int sov_seca_ref_here(sov_request *req, const json_t *ref, const char *plural,
                      const char *pointer, sov_seca_ref *r, sov_error *err);
/* The environment network/seca_rules.c reads SECA rules in: the request's tenant and
 * workspace, references read as sov_seca_ref_here does. */
sov_seca_sg_env sov_seca_sg_env_of(sov_request *req);

/* The object kept beside a resource of the request's workspace (sov_seca_object_beside):
 * read (NULL: none), written (spec holds the resource's id), forgotten. */
json_t *sov_seca_side_get(sov_request *req, const char *kind, const char *name,
                          const char *id);
int sov_seca_side_put(sov_request *req, const char *kind, const char *name,
                      const char *region, json_t *spec, sov_error *err);
void sov_seca_side_forget(sov_request *req, const char *kind, const char *name);

/* Public IP `name` of the request's workspace (seca_public_ips.c). */
int sov_seca_pip_load(sov_request *req, const char *name, sov_public_ip *ip, sov_error *err);

#endif
