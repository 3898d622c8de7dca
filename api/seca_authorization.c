/* seca_authorization.c: the authorization provider (seca.authorization): roles and role assignments over our roles and users. */
#include "seca.h"

enum MHD_Result
sov_seca_authorization_roles_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_authorization_roles_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_authorization_roles_put(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_authorization_roles_delete(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_authorization_role_assignments_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_authorization_role_assignments_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_authorization_role_assignments_put(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_authorization_role_assignments_delete(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}
