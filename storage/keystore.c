/* keystore.c: (being written by part "keys"). Until it lands, no data key can be made: a
 * create of an encrypted type is refused before anything is written. */
#include "storage_int.h"

int
sov_keystore_new_key(sov_dbconn *c, const sov_config *cfg, const char *tenant_id,
                     sov_wrapped_key *ret, sov_error *err)
{
    (void) c;
    (void) cfg;
    (void) tenant_id;
    (void) ret;
    return sov_error_invalid(err, "type", "encrypted volume types are not available yet");
}
