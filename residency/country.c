/* country.c: ISO 3166-1 alpha-2 codes and the jurisdiction each belongs to.
 *
 * The jurisdiction is derived, never given: the 27 EU member states are EU; Iceland,
 * Liechtenstein and Norway (EEA but not EU) are EEA; every other country is OTHER.
 * Greece is GR here (ISO), not EL (the EU's own abbreviation). */
#include <stdlib.h>
#include <string.h>

#include "sov/residency.h"

/* All 249 officially assigned codes, sorted, for bsearch. */
static const char *const codes[] = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
    "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
    "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
    "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
    "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
    "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
    "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
    "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
    "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
    "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
    "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
    "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
};

static const char *const eu[] = {
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
};

static const char *const eea_only[] = { "IS", "LI", "NO" };

static int
cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static bool
in(const char *const *list, size_t n, const char *code)
{
    return bsearch(&code, list, n, sizeof(list[0]), cmp) != NULL;
}

bool
sov_country_valid(const char *code)
{
    return code && strlen(code) == 2 && in(codes, sizeof(codes) / sizeof(codes[0]), code);
}

const char *
sov_country_jurisdiction(const char *code)
{
    if (!sov_country_valid(code))
        return NULL;
    if (in(eu, sizeof(eu) / sizeof(eu[0]), code))
        return "EU";
    if (in(eea_only, sizeof(eea_only) / sizeof(eea_only[0]), code))
        return "EEA";
    return "OTHER";
}

const char *const *
sov_country_all(size_t *n)
{
    *n = sizeof(codes) / sizeof(codes[0]);
    return codes;
}

bool
sov_jurisdiction_valid(const char *j)
{
    return j && (strcmp(j, "EU") == 0 || strcmp(j, "EEA") == 0 || strcmp(j, "OTHER") == 0);
}
