/* seca_netsec.c: the network provider (seca.network), part two: NICs (ports), public IPs, security groups and security group rules. */
#include "seca.h"

enum MHD_Result
sov_seca_network_security_groups_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_security_groups_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_security_groups_put(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_security_groups_delete(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_security_group_rules_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_security_group_rules_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_security_group_rules_put(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_security_group_rules_delete(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_nics_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_nics_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_nics_put(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_nics_delete(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_public_ips_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_public_ips_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_public_ips_put(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_network_public_ips_delete(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}
