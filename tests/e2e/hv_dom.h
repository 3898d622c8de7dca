/* hv_dom.h: what e2e/hv-storage and e2e/hv-nic share: domains of this process on
 * qemu:///system (the driver called directly, no sovd), destroyed and undefined at exit
 * however the test ends. */
#ifndef SOV_TEST_HV_DOM_H
#define SOV_TEST_HV_DOM_H

#include "sov/hv.h"

#define HV_DOM_URI "qemu:///system"

typedef struct hv_dom {
    char uuid[37], name[80], log[700];
} hv_dom;

/* A random UUID from the kernel. */
void hv_dom_uuid(char out[37]);
/* Define and start on hv a domain "sovtest-<tag>-<pid>-<uuid's first 8>" booting from disk
 * file boot (qcow2, vda), its console logged under dir, without NICs. */
void hv_dom_start(sov_hv *hv, const char *dir, const char *tag, hv_dom *d, const char *boot);

#endif
