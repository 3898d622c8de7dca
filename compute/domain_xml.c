/* domain_xml.c: the libvirt domain an instance runs as. Pure: the same spec gives the same
 * XML, so a worker that runs twice redefines the same domain.
 *
 * virtio disk and NIC; the NoCloud seed as a second, read-only disk; the serial console to a
 * log file (virtlogd writes it; it lives in the storage pool, so it can be read back through
 * libvirt from anywhere), appended to across boots: virtlogd rotates it by size (max_size,
 * max_backups in the host's virtlogd.conf) into <file>.0, .1, ...; VNC on loopback only; our metadata, so the reconciler can tell our
 * domains and their instances. KVM gets the host's CPU; TCG emulation gets QEMU's default
 * model (a host-* mode there asks for what TCG cannot give). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/buf.h"
#include "sov/compute.h"

/* printf with every %s argument escaped: callers pass only strings after fmt's literals. */
static void
attr(sov_buf *b, const char *before, const char *value, const char *after)
{
    sov_buf_puts(b, before);
    sov_buf_xml_escaped(b, value);
    sov_buf_puts(b, after);
}

int
sov_domain_xml(const sov_domain_spec *s, char **ret, sov_error *err)
{
    sov_buf b = SOV_BUF_INIT;
    bool kvm = strcmp(s->virt_type, "kvm") == 0;

    if (!s->uuid || !s->name || !s->pool || !s->disk_volume || !s->network || !s->mac ||
        s->vcpus < 1 || s->memory_mib < 1)
        return sov_error_set(err, SOV_E_INTERNAL, "incomplete domain spec");
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
    sov_buf_puts(&b, "    <disk type='volume' device='disk'>\n"
                     "      <driver name='qemu' type='qcow2' cache='none'/>\n");
    attr(&b, "      <source pool='", s->pool, "'");
    attr(&b, " volume='", s->disk_volume, "'/>\n");
    sov_buf_puts(&b, "      <target dev='vda' bus='virtio'/>\n    </disk>\n");
    if (s->seed_volume) {
        sov_buf_puts(&b, "    <disk type='volume' device='disk'>\n"
                         "      <driver name='qemu' type='raw'/>\n");
        attr(&b, "      <source pool='", s->pool, "'");
        attr(&b, " volume='", s->seed_volume, "'/>\n");
        sov_buf_puts(&b, "      <target dev='vdb' bus='virtio'/>\n      <readonly/>\n"
                         "    </disk>\n");
    }
    sov_buf_puts(&b, "    <interface type='network'>\n");
    attr(&b, "      <source network='", s->network, "'/>\n");
    attr(&b, "      <mac address='", s->mac, "'/>\n");
    sov_buf_puts(&b, "      <model type='virtio'/>\n    </interface>\n");
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
