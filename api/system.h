/* system.h: handlers of api/system.c, for the route table (private to api/). */
#ifndef SOV_API_SYSTEM_H
#define SOV_API_SYSTEM_H

#include "sov/api.h"

enum MHD_Result sov_handle_healthz(sov_request *req);
enum MHD_Result sov_handle_readyz(sov_request *req);
enum MHD_Result sov_handle_metrics(sov_request *req);
enum MHD_Result sov_handle_openapi(sov_request *req);

#endif
