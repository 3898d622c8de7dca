/* seca_network.c: the network provider (seca.network), part one: SKUs (bandwidth classes), networks, subnets, route tables, internet gateways. */
#include "seca.h"

enum MHD_Result
sov_seca_network_skus_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_skus_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_networks_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_networks_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_networks_put(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_networks_delete(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_internet_gateways_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_internet_gateways_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_internet_gateways_put(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_internet_gateways_delete(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_subnets_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_subnets_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_subnets_put(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_subnets_delete(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_route_tables_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_route_tables_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_route_tables_put(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_route_tables_delete(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}
