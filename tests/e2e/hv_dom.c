/* hv_dom.c: see hv_dom.h. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hv_dom.h"
#include "sov/compute.h"
#include "testlib.h"

void
hv_dom_uuid(char out[37])
{
    FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");

    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(out, 37, f));
    fclose(f);
}

void
hv_dom_start(sov_hv *hv, const char *dir, const char *tag, hv_dom *d, const char *boot)
{
    sov_error err = SOV_ERROR_INIT;
    sov_domain_spec s = { 0 };
    char *xml = NULL;

    hv_dom_uuid(d->uuid);
    snprintf(d->name, sizeof(d->name), "sovtest-%s-%d-%.8s", tag, (int) getpid(), d->uuid);
    snprintf(d->log, sizeof(d->log), "%s/%s.log", dir, d->name);
    tl_sh_at_exit("virsh -q -c %s destroy %s >/dev/null 2>&1; "
                  "virsh -q -c %s undefine %s >/dev/null 2>&1", HV_DOM_URI, d->uuid,
                  HV_DOM_URI, d->uuid);
    s.uuid = d->uuid;
    s.name = d->name;
    s.virt_type = tl_env("SOV_TEST_VIRT_TYPE");
    s.vcpus = 1;
    s.memory_mib = 256;
    s.console_log = d->log;
    ck_assert(sov_domain_spec_add_disk(&s, &(sov_domain_disk) { .path = boot,
        .format = "qcow2", .dev = "vda" }, &err) == 0);
    ck_assert(sov_domain_xml(&s, &xml, &err) == 0);
    sov_domain_spec_release(&s);
    ck_assert_msg(sov_hv_define(hv, xml, &err) == 0, "%s (%s)", err.msg, err.detail);
    free(xml);
    ck_assert_msg(sov_hv_start(hv, d->uuid, &err) == 0, "%s (%s)", err.msg, err.detail);
}
