/* seca_storage.c: the storage provider (seca.storage): storage SKUs (volume types), images, block storages (volumes). */
#include "seca.h"

enum MHD_Result
sov_seca_storage_skus_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_storage_skus_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_storage_images_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_storage_images_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_storage_images_put(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_storage_images_delete(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_storage_block_storages_list(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_storage_block_storages_get(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_storage_block_storages_put(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}

enum MHD_Result
sov_seca_storage_block_storages_delete(sov_request *req)
{
    return sov_seca_reply_unbuilt(req);
}
