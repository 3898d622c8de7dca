/* seca_region.c: the region provider (seca.region: regions, their zones and provider URLs) and /.wellknown/secapi. */
#include "seca.h"

enum MHD_Result
sov_seca_wellknown_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_region_regions_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_region_regions_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}
