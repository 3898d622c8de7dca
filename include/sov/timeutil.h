/* timeutil.h: RFC 3339 timestamps, the only time format of the API. */
#ifndef SOV_TIMEUTIL_H
#define SOV_TIMEUTIL_H

#include <stdbool.h>
#include <time.h>

/* Parse "2026-11-22T10:00:00Z", with optional fraction and a Z or +hh:mm offset.
 * Returns 0 and the UTC seconds, or -1 when s is not such a timestamp. */
int sov_rfc3339_parse(const char *s, time_t *ret);

/* Format t as "2026-11-22T10:00:00Z". */
void sov_rfc3339_format(time_t t, char out[32]);

#endif
