/* seca_workspace.c: the workspace provider (seca.workspace): SECA workspaces are our workspaces. */
#include "seca.h"

enum MHD_Result
sov_seca_workspace_workspaces_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_workspace_workspaces_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_workspace_workspaces_put(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_workspace_workspaces_delete(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}
