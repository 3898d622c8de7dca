/* domain_xml.c: the libvirt domain an instance runs as. Pure: the same spec gives the same
 * XML, so a worker that runs twice redefines the same domain.
 *
 * The disks and NICs the modules contributed (compute/domain_spec.c: today a virtio boot disk,
 * the NoCloud seed as a second, read-only disk, a NIC on the NAT network; an OVS port and
 * volumes later), in the order given; the serial console to a log file (virtlogd writes it; it lives in the storage pool, so it can be read back through
 * libvirt from anywhere), appended to across boots: virtlogd rotates it by size (max_size,
 * max_backups in the host's virtlogd.conf) into <file>.0, .1, ...; VNC on loopback only; our metadata, so the reconciler can tell our
 * domains and their instances. KVM gets the host's CPU; TCG emulation gets QEMU's default
 * model (a host-* mode there asks for what TCG cannot give). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/buf.h"
#include "sov/cleanup.h"
#include "sov/compute.h"

/* printf with every %s argument escaped: callers pass only strings after fmt's literals. */
static void
attr(sov_buf *b, const char *before, const char *value, const char *after)
{
    sov_buf_puts(b, before);
    sov_buf_xml_escaped(b, value);
    sov_buf_puts(b, after);
}

/* ---- the spec's disks and NICs: copies the spec owns ---- */

/* *dst = a copy of src (NULL stays NULL); false when out of memory. */
static bool
dup_into(const char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return !src || *dst;
}

static void
disk_release(sov_domain_disk *d)
{
    const char *const fields[] = { d->pool, d->volume, d->path, d->format, d->cache,
                                   d->bus, d->dev, d->serial, d->secret_uuid };

    for (size_t i = 0; i < SOV_N_ELEMENTS(fields); i++)
        free((char *) fields[i]);
}

static void
nic_release(sov_domain_nic *n)
{
    free((char *) n->network);
    free((char *) n->bridge);
    free((char *) n->interface_id);
    free((char *) n->mac);
}

static bool
set(const char *s)
{
    return s && *s;
}

/* A disk needs a pool volume or a file, a format and a target dev; limits are not negative. */
static int
disk_check(const sov_domain_disk *d, sov_error *err)
{
    bool volume = set(d->pool) && set(d->volume);

    if (volume == set(d->path) || !set(d->format) || !set(d->dev) || d->iops_max < 0 ||
        d->bytes_per_s_max < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "incomplete disk in domain spec");
    return 0;
}

int
sov_domain_spec_add_disk(sov_domain_spec *s, const sov_domain_disk *d, sov_error *err)
{
    sov_domain_disk c = { .readonly = d->readonly, .iops_max = d->iops_max,
                          .bytes_per_s_max = d->bytes_per_s_max };
    sov_domain_disk *n;

    if (disk_check(d, err) < 0)
        return -1;
    if (!dup_into(&c.pool, d->pool) || !dup_into(&c.volume, d->volume) ||
        !dup_into(&c.path, d->path) || !dup_into(&c.format, d->format) ||
        !dup_into(&c.cache, d->cache) || !dup_into(&c.bus, d->bus) ||
        !dup_into(&c.dev, d->dev) || !dup_into(&c.serial, d->serial) ||
        !dup_into(&c.secret_uuid, d->secret_uuid) ||
        !(n = realloc(s->disks, (s->ndisks + 1) * sizeof(*n)))) {
        disk_release(&c);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    n[s->ndisks++] = c;
    s->disks = n;
    return 0;
}

static int
nic_check(const sov_domain_nic *d, sov_error *err)
{
    if (!set(d->mac) || (d->kind == SOV_NIC_NETWORK && !set(d->network)) ||
        (d->kind == SOV_NIC_OVS && !set(d->interface_id)) ||
        (d->kind != SOV_NIC_NETWORK && d->kind != SOV_NIC_OVS))
        return sov_error_set(err, SOV_E_INTERNAL, "incomplete NIC in domain spec");
    return 0;
}

int
sov_domain_spec_add_nic(sov_domain_spec *s, const sov_domain_nic *d, sov_error *err)
{
    sov_domain_nic c = { .kind = d->kind, .mtu = d->mtu };
    sov_domain_nic *n;

    if (nic_check(d, err) < 0)
        return -1;
    if (!dup_into(&c.network, d->network) || !dup_into(&c.bridge, d->bridge) ||
        !dup_into(&c.interface_id, d->interface_id) || !dup_into(&c.mac, d->mac) ||
        !(n = realloc(s->nics, (s->nnics + 1) * sizeof(*n)))) {
        nic_release(&c);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    n[s->nnics++] = c;
    s->nics = n;
    return 0;
}

void
sov_domain_spec_release(sov_domain_spec *s)
{
    for (size_t i = 0; i < s->ndisks; i++)
        disk_release(&s->disks[i]);
    for (size_t i = 0; i < s->nnics; i++)
        nic_release(&s->nics[i]);
    free(s->disks);
    free(s->nics);
    s->disks = NULL;
    s->nics = NULL;
    s->ndisks = s->nnics = 0;
}

/* ---- rendering ---- */

/* The <driver>, <source>, <target>, then I/O limits, readonly, serial and encryption. The
 * encryption sits in <disk>, where libvirt 9.0 takes it for a volume of a pool as for a file
 * (it moves it into <source> itself). */
static void
put_disk(sov_buf *b, const sov_domain_disk *d)
{
    attr(b, "    <disk type='", d->path ? "file" : "volume", "' device='disk'>\n");
    attr(b, "      <driver name='qemu' type='", d->format, "'");
    if (d->cache)
        attr(b, " cache='", d->cache, "'");
    sov_buf_puts(b, "/>\n");
    if (d->path) {
        attr(b, "      <source file='", d->path, "'/>\n");
    } else {
        attr(b, "      <source pool='", d->pool, "'");
        attr(b, " volume='", d->volume, "'/>\n");
    }
    attr(b, "      <target dev='", d->dev, "'");
    attr(b, " bus='", d->bus ? d->bus : "virtio", "'/>\n");
    if (d->iops_max > 0 || d->bytes_per_s_max > 0) {
        sov_buf_puts(b, "      <iotune>\n");
        if (d->iops_max > 0)
            sov_buf_printf(b, "        <total_iops_sec>%lld</total_iops_sec>\n", d->iops_max);
        if (d->bytes_per_s_max > 0)
            sov_buf_printf(b, "        <total_bytes_sec>%lld</total_bytes_sec>\n",
                           d->bytes_per_s_max);
        sov_buf_puts(b, "      </iotune>\n");
    }
    if (d->readonly)
        sov_buf_puts(b, "      <readonly/>\n");
    if (d->serial)
        attr(b, "      <serial>", d->serial, "</serial>\n");
    if (d->secret_uuid) {
        sov_buf_puts(b, "      <encryption format='luks'>\n");
        attr(b, "        <secret type='passphrase' uuid='", d->secret_uuid, "'/>\n");
        sov_buf_puts(b, "      </encryption>\n");
    }
    sov_buf_puts(b, "    </disk>\n");
}

static void
put_nic(sov_buf *b, const sov_domain_nic *n)
{
    if (n->kind == SOV_NIC_OVS) {
        sov_buf_puts(b, "    <interface type='bridge'>\n");
        attr(b, "      <source bridge='", n->bridge ? n->bridge : "br-int", "'/>\n");
        sov_buf_puts(b, "      <virtualport type='openvswitch'>\n");
        attr(b, "        <parameters interfaceid='", n->interface_id, "'/>\n");
        sov_buf_puts(b, "      </virtualport>\n");
    } else {
        sov_buf_puts(b, "    <interface type='network'>\n");
        attr(b, "      <source network='", n->network, "'/>\n");
    }
    attr(b, "      <mac address='", n->mac, "'/>\n");
    sov_buf_puts(b, "      <model type='virtio'/>\n");
    /* OVS's userspace datapath (no openvswitch kernel module here) forwards a packet whose
     * checksum the guest left for the NIC to fill in as it is: ICMP passes, TCP does not.
     * So the guest computes every checksum and segments itself (PLATFORM.md). */
    if (n->kind == SOV_NIC_OVS)
        sov_buf_puts(b, "      <driver>\n"
                        "        <host csum='off' gso='off' tso4='off' tso6='off' ecn='off'"
                        " ufo='off'/>\n"
                        "        <guest csum='off' tso4='off' tso6='off' ecn='off'"
                        " ufo='off'/>\n"
                        "      </driver>\n");
    if (n->mtu > 0)
        sov_buf_printf(b, "      <mtu size='%u'/>\n", n->mtu);
    sov_buf_puts(b, "    </interface>\n");
}

int
sov_domain_disk_xml(const sov_domain_disk *d, char **ret, sov_error *err)
{
    sov_buf b = SOV_BUF_INIT;

    if (disk_check(d, err) < 0)
        return -1;
    put_disk(&b, d);
    if (b.oom) {
        sov_buf_release(&b);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    *ret = sov_buf_steal(&b, NULL);
    return 0;
}

int
sov_domain_nic_xml(const sov_domain_nic *n, char **ret, sov_error *err)
{
    sov_buf b = SOV_BUF_INIT;

    if (nic_check(n, err) < 0)
        return -1;
    put_nic(&b, n);
    if (b.oom) {
        sov_buf_release(&b);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    *ret = sov_buf_steal(&b, NULL);
    return 0;
}

int
sov_domain_xml(const sov_domain_spec *s, char **ret, sov_error *err)
{
    sov_buf b = SOV_BUF_INIT;
    bool kvm;

    if (!s->uuid || !s->name || !s->virt_type || s->ndisks == 0 || s->vcpus < 1 ||
        s->memory_mib < 1)
        return sov_error_set(err, SOV_E_INTERNAL, "incomplete domain spec");
    kvm = strcmp(s->virt_type, "kvm") == 0;
    attr(&b, "<domain type='", kvm ? "kvm" : "qemu", "'>\n");
    attr(&b, "  <name>", s->name, "</name>\n");
    attr(&b, "  <uuid>", s->uuid, "</uuid>\n");
    sov_buf_puts(&b, "  <metadata>\n");
    attr(&b, "    <sov:instance xmlns:sov='", SOV_HV_METADATA_NS, "'>\n");
    attr(&b, "      <sov:id>", s->uuid, "</sov:id>\n");
    attr(&b, "      <sov:tenant>", s->tenant_id ? s->tenant_id : "", "</sov:tenant>\n");
    attr(&b, "      <sov:control-plane>", s->control_plane ? s->control_plane : "",
         "</sov:control-plane>\n");
    sov_buf_puts(&b, "    </sov:instance>\n  </metadata>\n");
    sov_buf_printf(&b, "  <memory unit='MiB'>%lld</memory>\n", s->memory_mib);
    sov_buf_printf(&b, "  <vcpu placement='static'>%d</vcpu>\n", s->vcpus);
    sov_buf_puts(&b, "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n"
                     "    <boot dev='hd'/>\n  </os>\n"
                     "  <features><acpi/><apic/></features>\n");
    if (kvm)
        sov_buf_puts(&b, "  <cpu mode='host-passthrough' check='none'/>\n");
    sov_buf_puts(&b, "  <clock offset='utc'/>\n"
                     "  <on_poweroff>destroy</on_poweroff>\n"
                     "  <on_reboot>restart</on_reboot>\n"
                     "  <on_crash>destroy</on_crash>\n"
                     "  <devices>\n");
    for (size_t i = 0; i < s->ndisks; i++)
        put_disk(&b, &s->disks[i]);
    for (size_t i = 0; i < s->nnics; i++)
        put_nic(&b, &s->nics[i]);
    sov_buf_puts(&b, "    <serial type='pty'>\n");
    if (s->console_log)
        attr(&b, "      <log file='", s->console_log, "' append='on'/>\n");
    sov_buf_puts(&b, "      <target port='0'/>\n    </serial>\n"
                     "    <console type='pty'><target type='serial' port='0'/></console>\n"
                     "    <graphics type='vnc' autoport='yes' listen='127.0.0.1'>\n"
                     "      <listen type='address' address='127.0.0.1'/>\n"
                     "    </graphics>\n"
                     "    <memballoon model='virtio'/>\n"
                     "  </devices>\n</domain>\n");
    if (b.oom) {
        sov_buf_release(&b);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    *ret = sov_buf_steal(&b, NULL);
    return 0;
}
