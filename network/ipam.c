/* ipam.c: IPv4 addresses and CIDRs as numbers (network_int.h): parsing as the API takes
 * them (dotted quads only: no "10.1", no leading zeros, no spaces), containment, overlap and
 * host ranges. No database here: the allocation itself is SQL (a port's transaction). */
#include <stdio.h>
#include <string.h>

#include "network_int.h"

int
sov_ipv4_parse(const char *s, uint32_t *ret)
{
    uint32_t v = 0;
    int parts = 0;

    if (!s || !*s)
        return -1;
    while (parts < 4) {
        unsigned n = 0, digits = 0;

        while (s[digits] >= '0' && s[digits] <= '9' && digits < 4)
            n = n * 10 + (unsigned) (s[digits++] - '0');
        if (digits == 0 || digits > 3 || n > 255 || (digits > 1 && s[0] == '0'))
            return -1;
        v = (v << 8) | n;
        s += digits;
        parts++;
        if (parts < 4 && *s++ != '.')
            return -1;
    }
    if (*s)
        return -1;
    *ret = v;
    return 0;
}

void
sov_ipv4_format(uint32_t a, char out[SOV_IP_MAX])
{
    snprintf(out, SOV_IP_MAX, "%u.%u.%u.%u", (unsigned) (a >> 24), (unsigned) (a >> 16) & 255u,
             (unsigned) (a >> 8) & 255u, (unsigned) a & 255u);
}

uint32_t
sov_ipv4_mask(unsigned prefix)
{
    return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1u);
}

int
sov_cidr_parse(const char *s, bool strict, sov_ipv4_net *ret)
{
    char addr[SOV_IP_MAX];
    const char *slash = s ? strchr(s, '/') : NULL;
    unsigned prefix = 0;
    size_t n;
    const char *p;

    if (!slash || (n = (size_t) (slash - s)) == 0 || n >= sizeof(addr))
        return -1;
    memcpy(addr, s, n);
    addr[n] = '\0';
    p = slash + 1;
    if (!*p || strlen(p) > 2 || (p[0] == '0' && p[1]))
        return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        prefix = prefix * 10 + (unsigned) (*p - '0');
    }
    if (prefix > 32 || sov_ipv4_parse(addr, &ret->addr) < 0)
        return -1;
    ret->prefix = prefix;
    if ((ret->addr & ~sov_ipv4_mask(prefix)) != 0) {
        if (strict)
            return -1;
        ret->addr &= sov_ipv4_mask(prefix);
    }
    return 0;
}

void
sov_cidr_format(const sov_ipv4_net *n, char out[SOV_CIDR_MAX])
{
    char a[SOV_IP_MAX];

    sov_ipv4_format(n->addr, a);
    snprintf(out, SOV_CIDR_MAX, "%s/%u", a, n->prefix);
}

bool
sov_cidr_has(const sov_ipv4_net *n, uint32_t a)
{
    return (a & sov_ipv4_mask(n->prefix)) == n->addr;
}

bool
sov_cidr_within(const sov_ipv4_net *outer, const sov_ipv4_net *inner)
{
    return inner->prefix >= outer->prefix && sov_cidr_has(outer, inner->addr);
}

bool
sov_cidr_overlaps(const sov_ipv4_net *a, const sov_ipv4_net *b)
{
    return sov_cidr_within(a, b) || sov_cidr_within(b, a);
}

uint32_t
sov_cidr_broadcast(const sov_ipv4_net *n)
{
    return n->addr | ~sov_ipv4_mask(n->prefix);
}

bool
sov_cidr_is_host(const sov_ipv4_net *n, uint32_t a)
{
    /* /31 and /32 have no network and broadcast address; the API never takes them for
     * networks, subnets or pools, so every address counts there. */
    if (n->prefix >= 31)
        return sov_cidr_has(n, a);
    return sov_cidr_has(n, a) && a != n->addr && a != sov_cidr_broadcast(n);
}

long long
sov_cidr_hosts(const sov_ipv4_net *n)
{
    long long size = 1LL << (32 - n->prefix);

    return n->prefix >= 31 ? size : size - 2;
}
