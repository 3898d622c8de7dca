// What the host pages share: the virtualisation a host's discovery found, in words, and its
// capacity as usage bars (used of what the allocation ratios allow).
import type { Schemas } from '../api/client';
import { UsageBar } from './common';

export type Host = Schemas['Host'];

/** kvm: hardware virtualisation; qemu: TCG emulation; test: libvirt's test driver. */
export function virtualization(h: Host): string {
  switch (h.hypervisor) {
    case 'kvm':
      return 'KVM';
    case 'qemu':
      return 'TCG';
    case 'test':
      return 'test driver';
    default:
      return '—';
  }
}

/** MiB as GiB, one decimal at most. */
function gib(m: number | undefined): number {
  return Math.round(((m ?? 0) / 1024) * 10) / 10;
}

export function CapacityBars({ host }: { host: Host }) {
  const u = host.usage ?? {};
  const c = host.capacity ?? {};
  return (
    <>
      <UsageBar label="vCPU" used={u.vcpus ?? 0} limit={c.vcpus ?? 0} />
      {(c.memory_mib ?? 0) >= 4096 ? (
        <UsageBar label="Memory" used={gib(u.memory_mib)} limit={gib(c.memory_mib)} unit=" GiB" />
      ) : (
        <UsageBar label="Memory" used={u.memory_mib ?? 0} limit={c.memory_mib ?? 0} unit=" MiB" />
      )}
      <UsageBar label="Disk" used={u.disk_gib ?? 0} limit={c.disk_gib ?? 0} unit=" GiB" />
      {(c.gpus ?? 0) > 0 && <UsageBar label="GPU" used={u.gpus ?? 0} limit={c.gpus ?? 0} />}
    </>
  );
}

/** Where the console lives (app.tsx's BASE, repeated so pages do not import the shell). */
export const BASE = '/console';
