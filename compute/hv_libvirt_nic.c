/* hv_libvirt_nic.c: a domain's NICs for network/: hot plug and unplug of one <interface>
 * (sov_domain_nic_xml renders it), in the persistent definition and, when the domain runs,
 * live. A NIC is known by its MAC, which network/ gives each port for good. libvirt's test
 * driver has no hot plug: there the NIC goes into (or out of) the persistent definition, as
 * hv_libvirt_disk.c does for disks. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_libvirt_int.h"
#include "sov/log.h"

#define POLL_MS 50
/* How long a running guest gets to let go of a NIC it is asked to release (ACPI hot
 * unplug); a TCG guest still booting may take seconds. */
#define NIC_RELEASE_MS 20000u

/* A MAC as libvirt writes it (lowercase "aa:bb:cc:dd:ee:ff") into out, or SOV_E_INTERNAL: a
 * caller's bug, and the MAC goes into XPath expressions below. */
static int
mac_norm(const char *mac, char out[18], sov_error *err)
{
    size_t n = mac ? strlen(mac) : 0;

    if (n != 17)
        return sov_error_set(err, SOV_E_INTERNAL, "'%s' is no MAC", mac ? mac : "");
    for (size_t i = 0; i < n; i++) {
        if (i % 3 == 2 ? mac[i] != ':' : !isxdigit((unsigned char) mac[i]))
            return sov_error_set(err, SOV_E_INTERNAL, "'%s' is no MAC", mac);
        out[i] = (char) tolower((unsigned char) mac[i]);
    }
    out[n] = '\0';
    return 0;
}

/* The <interface> with this MAC in the domain's live (flags 0) or persistent
 * (VIR_DOMAIN_XML_INACTIVE) definition: 1 and its XML in *ret (when ret is not NULL, to
 * free()), or 0 when none. */
static int
nic_find(virDomainPtr d, unsigned flags, const char *mac, char **ret, sov_error *err)
{
    char expr[96];

    snprintf(expr, sizeof(expr), "/domain/devices/interface[mac/@address='%s']", mac);
    return sov_lv_dev_find(d, flags, expr, ret, NULL, 0, err);
}

/* The persistent definition with nic_xml added, or with the NIC of mac taken out (nic_xml
 * NULL), redefined: the test driver's hot plug. */
static int
test_redefine(lv_hv *h, virDomainPtr d, const char *mac, const char *nic_xml, sov_error *err)
{
    char expr[96];

    snprintf(expr, sizeof(expr), "/domain/devices/interface[mac/@address='%s']", mac);
    return sov_lv_test_redefine(h, d, nic_xml, expr, "NICs", err);
}

int
sov_lv_nic_attach(sov_hv *hv, const char *uuid, const char *nic_xml, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virDomain) d = NULL;
    xml_autoview x = { 0 };
    char raw[32], mac[18];
    int in_config, in_live = 1;

    if (sov_xml_view_parse(&x, nic_xml, "NIC XML", err) < 0)
        return -1;
    sov_xml_string(&x, "string(/interface/mac/@address)", raw, sizeof(raw));
    if (mac_norm(raw, mac, err) < 0 || sov_lv_dom_lookup(h, uuid, &d, err) < 0)
        return -1;
    in_config = nic_find(d, VIR_DOMAIN_XML_INACTIVE, mac, NULL, err);
    if (in_config < 0)
        return -1;
    if (sov_lv_is_test(h))
        return in_config ? 0 : test_redefine(h, d, mac, nic_xml, err);
    if (virDomainIsActive(d) == 1 && (in_live = nic_find(d, 0, mac, NULL, err)) < 0)
        return -1;
    /* A NIC attached twice live would be two NICs with one MAC. */
    if (sov_lv_attach_missing(d, nic_xml, in_config, in_live) < 0)
        return sov_lv_error(err, sov_lv_failure_code(), "could not attach NIC %s to domain %s",
                            mac, uuid);
    return 0;
}

int
sov_lv_nic_detach(sov_hv *hv, const char *uuid, const char *raw_mac, sov_error *err)
{
    lv_hv *h = (lv_hv *) hv;
    sov_autoptr(virDomain) d = NULL;
    sov_autofree char *config = NULL, *live_xml = NULL;
    char mac[18], why[512] = "";
    double deadline;
    int live;

    if (mac_norm(raw_mac, mac, err) < 0 || sov_lv_dom_lookup(h, uuid, &d, err) < 0)
        return -1;
    if (sov_lv_is_test(h))
        return test_redefine(h, d, mac, NULL, err);
    switch (nic_find(d, VIR_DOMAIN_XML_INACTIVE, mac, &config, err)) {
    case -1:
        return -1;
    case 1:
        if (virDomainDetachDeviceFlags(d, config, VIR_DOMAIN_AFFECT_CONFIG) < 0)
            return sov_lv_error(err, sov_lv_failure_code(),
                                "could not detach NIC %s from domain %s", mac, uuid);
    }
    if (virDomainIsActive(d) != 1)
        return 0;
    live = nic_find(d, 0, mac, &live_xml, err);
    if (live <= 0)
        return live;
    /* libvirt waits a few seconds for the guest, then returns with the request pending; the
     * release is watched here. A second request while one is pending fails: the watch
     * decides. */
    if (virDomainDetachDeviceFlags(d, live_xml, VIR_DOMAIN_AFFECT_LIVE) < 0)
        snprintf(why, sizeof(why), "%s", virGetLastErrorMessage());
    deadline = sov_lv_now_ms() + NIC_RELEASE_MS;
    for (;;) {
        live = nic_find(d, 0, mac, NULL, err);
        if (live <= 0)
            return live;
        if (sov_lv_now_ms() >= deadline)
            break;
        sov_lv_sleep_ms(POLL_MS);
    }
    sov_error_set(err, SOV_E_CONFLICT, "the guest has not released NIC %s", mac);
    return sov_error_detail(err, "waited %u ms%s%s", NIC_RELEASE_MS, why[0] ? "; libvirt: " : "",
                            why);
}
