/* seca_net.h: what the network provider's part one shares (seca_networks.c: SKUs and
 * networks; seca_subnets.c; seca_route_tables.c: route tables and internet gateways), private
 * to those files and defined in seca_network.c. The deciding (what a route table means, when a network gets a router) is
 * network/'s (network/seca_routes.c); these are the edge's flows: read a spec, find a
 * resource by name, render it with its SECA meta, write the meta after a change and answer. */
#ifndef SOV_API_SECA_NET_H
#define SOV_API_SECA_NET_H

#include "seca.h"
#include "sov/network.h"

extern const sov_seca_type sov_seca_net_sku_type, sov_seca_net_network_type,
    sov_seca_net_subnet_type, sov_seca_net_route_table_type, sov_seca_net_gateway_type;

/* Object kinds in seca_objects. */
#define SOV_SECA_OBJ_ROUTE_TABLE "route-table"
#define SOV_SECA_OBJ_GATEWAY "internet-gateway"

/* spec.cidr: {ipv4} only; ipv6 (or an empty ipv4) cannot be served. */
int sov_seca_net_cidr_read(const json_t *spec, const char **ret, sov_error *err);
json_t *sov_seca_net_cidr_json(const char *cidr);
/* A skuRef naming an existing network SKU into sku (SOV_NAME_MAX + 1: its name). */
int sov_seca_net_sku_ref_read(sov_request *req, const json_t *ref, const char *pointer,
                              char *sku, sov_error *err);
/* The path's {name} within our name limit (SOV_NAME_MAX), else SOV_E_INVALID. */
int sov_seca_net_name_check(sov_request *req, sov_error *err);
/* The network named name in the request's workspace; a deleted one does not exist. */
int sov_seca_net_network_find(sov_request *req, const char *name, sov_network *ret,
                              sov_error *err);

/* A renderer: the resource res (a network, a subnet view, an object) with its meta m. */
typedef json_t *(*sov_seca_net_render_fn)(sov_request *req, const void *res,
                                          const sov_seca_meta *m);
/* res rendered with the meta of resource id (kind), brought up to date (sov_seca_meta_get). */
int sov_seca_net_render(sov_request *req, const char *id, const char *kind,
                        sov_seca_state now, const char *created_at,
                        sov_seca_net_render_fn render, const void *res, json_t **ret,
                        sov_error *err);
/* Answer status with body (taken; NULL: none). */
enum MHD_Result sov_seca_net_reply(sov_request *req, unsigned status, json_t *body);
/* After the service made the change w says: write the meta and answer 201 (created), 200
 * (updated) with res rendered, or 202 without a body (deleted). */
enum MHD_Result sov_seca_net_written(sov_request *req, const sov_seca_write *w,
                                     sov_seca_net_render_fn render, const void *res);
/* An object's meta written after its put (created or updated, from in): 201 or 200. */
enum MHD_Result sov_seca_net_object_written(sov_request *req, const sov_seca_type *t,
                                            const sov_seca_object *o,
                                            const sov_seca_input *in, bool created,
                                            sov_seca_net_render_fn render);

/* One list item: 0 with *ret, 1 to skip it, -1 on failure. */
typedef int (*sov_seca_net_item_fn)(sov_request *req, const void *arg,
                                    const sov_seca_object *o, json_t **ret, sov_error *err);
/* The list of the objects of kind under parent in the request's workspace (through
 * sov_seca_list_walk, as lists of /v1 rows are). */
enum MHD_Result sov_seca_net_objects_reply(sov_request *req, const sov_seca_type *t,
                                           const char *kind, const char *parent,
                                           sov_seca_net_item_fn item, const void *arg);
#endif
