/* The libvirt driver's NIC hot plug (include/sov/hv.h nic_attach, nic_detach: what network/
 * uses to plug a port into an instance) against the machine's real libvirtd (qemu:///system)
 * and QEMU, called directly rather than through sovd, with the real tiny guest
 * (tests/support/guest.h) running under the machine's virt type (TCG here).
 *
 * No Open vSwitch is needed: the NICs sit on a NAT network of this test. One is rendered by
 * sov_domain_nic_xml as compute/ renders every NAT NIC; the other carries the <driver> block
 * an OVS NIC has (checksum and segmentation offload off, host and guest), which QEMU must
 * accept for a TCG guest as for KVM. Both go into the running domain and its persistent
 * definition, a rerun changes nothing, and the guest releases each on detach (ACPI hot
 * unplug). The network and the domain have names of this process and are removed however
 * the test ends. One guest at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "hv_dom.h"
#include "sov/compute.h"
#include "sov/hv.h"
#include "sov/registry.h"
#include "testlib.h"

#define URI "qemu:///system"
#define MAC_NAT "52:54:00:5e:0a:01"
#define MAC_OFF "fa:16:3e:5e:0a:02"

static char *tmp;
static char net[64];
static sov_hv *hv;

static void
setup(void)
{
    sov_error err = SOV_ERROR_INIT;
    char cidr[32];

    tmp = tl_tmpdir();
    tl_assert_traversable(tmp);
    snprintf(net, sizeof(net), "sovtest-nic-%d", (int) getpid());
    sov_registry_reset();
    ck_assert_int_eq(sov_hv_register_libvirt(NULL), 0);
    ck_assert_msg(sov_hv_open(URI, &hv, &err) == 0, "%s (%s)", err.msg, err.detail);
    tl_sh_at_exit("virsh -q -c %s net-destroy '%s' >/dev/null 2>&1; "
                  "virsh -q -c %s net-undefine '%s' >/dev/null 2>&1", URI, net, URI, net);
    tl_free_subnet(URI, cidr, NULL);
    ck_assert_msg(sov_hv_network_ensure(hv, net, cidr, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
}

static void
teardown(void)
{
    sov_error err = SOV_ERROR_INIT;

    sov_hv_network_remove(hv, net, &err);
    sov_hv_close(hv);
    hv = NULL;
    tl_tmpdir_remove(tmp);
    free(tmp);
}

typedef hv_dom dom;

/* How often needle occurs in the domain's live (inactive false) or persistent definition. */
static int
xml_count(const dom *d, bool inactive, const char *needle)
{
    char *out = NULL;
    int n = 0;

    ck_assert_int_eq(tl_virsh(URI, &out, "dumpxml %s%s", d->uuid,
                              inactive ? " --inactive" : ""), 0);
    for (const char *p = out; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(out);
    return n;
}

/* Whether QEMU's virtio-net device of this MAC has csum, guest_csum and host_tso4 off
 * ("info qtree": a device's properties, its mac among them, follow its "dev:" line). */
static bool
nic_offloads_off(const dom *d, const char *mac)
{
    char *qtree = NULL, want[64];
    const char *at, *dev = NULL;
    bool off;

    ck_assert_int_eq(tl_virsh(URI, &qtree, "qemu-monitor-command %s --hmp 'info qtree'",
                              d->uuid), 0);
    snprintf(want, sizeof(want), "mac = \"%s\"", mac);
    at = qtree ? strstr(qtree, want) : NULL;
    ck_assert_msg(at, "no NIC %s in QEMU's device tree", mac);
    for (const char *p = qtree; (p = strstr(p, "dev: virtio-net-device")) && p < at; p++)
        dev = p;
    ck_assert_ptr_nonnull(dev);
    {
        size_t n = (size_t) (at - dev);
        char *props = strndup(dev, n);

        ck_assert_ptr_nonnull(props);
        off = strstr(props, " csum = false") && strstr(props, "guest_csum = false") &&
              strstr(props, "host_tso4 = false");
        free(props);
    }
    free(qtree);
    return off;
}

START_TEST(nics_are_hot_plugged_into_a_running_guest_and_released)
{
    sov_error err = SOV_ERROR_INIT;
    dom d;
    char *image, *up, *nat = NULL, off[1024];
    double t;

    image = tl_guest_image();
    tl_sh_at_exit("rm -rf \"$(dirname '%s')\"", image);
    hv_dom_start(hv, tmp, "nic", &d, image);
    up = tl_console_expect(tl_console_file_read, d.log, TL_GUEST_UP, 120);
    free(up);

    /* A NAT NIC as compute/ renders it. */
    ck_assert_int_eq(sov_domain_nic_xml(&(sov_domain_nic) { .kind = SOV_NIC_NETWORK,
        .network = net, .mac = MAC_NAT }, &nat, &err), 0);
    t = tl_now();
    ck_assert_msg(sov_hv_nic_attach(hv, d.uuid, nat, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
    printf("NIC hot plug: %.3f s\n", tl_now() - t);
    ck_assert_int_eq(sov_hv_nic_attach(hv, d.uuid, nat, &err), 0);     /* rerun */
    ck_assert_int_eq(xml_count(&d, false, "<mac address='" MAC_NAT "'/>"), 1);
    ck_assert_int_eq(xml_count(&d, true, "<mac address='" MAC_NAT "'/>"), 1);

    /* The offloads of an OVS NIC (sov_domain_nic_xml's <driver> block) on the same network:
     * QEMU takes them for this guest. */
    snprintf(off, sizeof(off),
             "<interface type='network'>\n"
             "  <source network='%s'/>\n"
             "  <mac address='" MAC_OFF "'/>\n"
             "  <model type='virtio'/>\n"
             "  <driver>\n"
             "    <host csum='off' gso='off' tso4='off' tso6='off' ecn='off' ufo='off'/>\n"
             "    <guest csum='off' tso4='off' tso6='off' ecn='off' ufo='off'/>\n"
             "  </driver>\n"
             "  <mtu size='1442'/>\n"
             "</interface>\n", net);
    ck_assert_msg(sov_hv_nic_attach(hv, d.uuid, off, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
    ck_assert_int_eq(xml_count(&d, false, "<mac address='" MAC_OFF "'/>"), 1);
    ck_assert_int_eq(xml_count(&d, false, "csum='off'"), 2);
    /* QEMU's own view of the device (its properties come before its mac): the checksum and
     * segmentation offloads are off, the other NIC's are not. */
    ck_assert(nic_offloads_off(&d, MAC_OFF));
    ck_assert(!nic_offloads_off(&d, MAC_NAT));

    /* The guest lets both go; the definition forgets them; a second detach is a no-op. */
    t = tl_now();
    ck_assert_msg(sov_hv_nic_detach(hv, d.uuid, MAC_OFF, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
    printf("NIC hot unplug (guest released): %.3f s\n", tl_now() - t);
    ck_assert_msg(sov_hv_nic_detach(hv, d.uuid, "52:54:00:5E:0A:01", &err) == 0, "%s (%s)",
                  err.msg, err.detail);
    ck_assert_int_eq(sov_hv_nic_detach(hv, d.uuid, MAC_NAT, &err), 0);
    ck_assert_int_eq(xml_count(&d, false, "<interface"), 0);
    ck_assert_int_eq(xml_count(&d, true, "<interface"), 0);

    ck_assert_msg(sov_hv_undefine(hv, d.uuid, &err) == 0, "%s", err.msg);
    free(nat);
    tl_guest_image_remove(image);
    free(image);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("e2e/hv-nic");
    TCase *tc = tcase_create("guest");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, nics_are_hot_plugged_into_a_running_guest_and_released);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
