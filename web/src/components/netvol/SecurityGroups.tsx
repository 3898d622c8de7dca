// Security groups (tenant-wide): each group with its rules; create a group, add and delete rules,
// delete a group (a 409 names the ports that still use it).
import { useEffect, useState } from 'preact/hooks';
import { api, listAll, type Schemas } from '../../api/client';
import { canWrite, useSession } from '../../lib/session';
import { useApi, useSubmit } from '../../lib/hooks';
import { ProblemView } from '../ProblemView';
import { ConfirmButton, Empty, Loading, StateBadge, ScrollRegion } from '../common';
import { BlockedBy } from './BlockedBy';
import { Field, fieldAttrs } from '../Field';
import { useOperations } from './Operations';

type Group = Schemas['SecurityGroup'];
type Rule = Schemas['SecurityGroupRule'];
type Accepted = Schemas['SecurityGroupAccepted'];

const BUSY = ['creating', 'updating', 'deleting'];

export function ruleText(r: Rule): string {
  const proto = r.protocol === 'any' ? 'any protocol' : r.protocol.toUpperCase();
  const ports = r.ports ? ` port ${r.ports}` : '';
  const peer = r.remote_group ? `group ${r.remote_group.name ?? r.remote_group.id}` : r.remote_cidr ? r.remote_cidr : 'anywhere';
  return `${r.direction === 'ingress' ? 'in' : 'out'}: ${proto}${ports} ${r.direction === 'ingress' ? 'from' : 'to'} ${peer}`;
}

export function SecurityGroups() {
  const s = useSession();
  const write = canWrite(s);
  const [busy, setBusy] = useState(false);
  const list = useApi(() => listAll<Group>('/v1/security-groups'), [], busy ? 2000 : undefined);
  const ops = useOperations(list.reload);
  const groups = (list.data ?? []).filter((g) => g.state !== 'deleted');
  const transitional = groups.some((g) => BUSY.includes(g.state));
  useEffect(() => setBusy(transitional), [transitional]);
  return (
    <div>
      <h2>Security groups</h2>
      <p class="muted">A port admits only what its groups' rules allow. Groups are shared by all networks of a workspace.</p>
      <ProblemView error={list.error} />
      {ops.view}
      {list.loading && !list.data ? (
        <Loading what="Loading security groups" />
      ) : groups.length === 0 ? (
        <Empty>No security groups yet.</Empty>
      ) : (
        groups.map((g) => <GroupView key={g.id} group={g} groups={groups} write={write} track={ops.track} />)
      )}
      {write && <CreateGroup onCreated={(r) => ops.track(r.operation, `Creating security group ${r.security_group?.name ?? ''}`)} />}
    </div>
  );
}

function GroupView({
  group: g,
  groups,
  write,
  track,
}: {
  group: Group;
  groups: Group[];
  write: boolean;
  track: (op: { id?: string } | undefined, label: string) => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const del = async () => {
    setError(null);
    try {
      const r = await api<Accepted>(`/v1/security-groups/${encodeURIComponent(g.id)}`, { method: 'DELETE' });
      track(r?.operation, `Deleting security group ${g.name}`);
    } catch (e) {
      setError(e);
    }
  };
  const delRule = async (rule: Rule) => {
    setError(null);
    try {
      const r = await api<Accepted>(`/v1/security-groups/${encodeURIComponent(g.id)}/rules/${encodeURIComponent(rule.id)}`, {
        method: 'DELETE',
      });
      track(r?.operation, `Deleting a rule of ${g.name}`);
    } catch (e) {
      setError(e);
    }
  };
  const hid = `sg-${g.id}`;
  return (
    <section class="nv-group" aria-labelledby={hid} id={`security-group-${g.id}`}>
      <h3 id={hid}>
        {g.name} {g.is_default && <span class="muted">(default)</span>} <StateBadge state={g.state} />
      </h3>
      <ProblemView error={error} />
      <BlockedBy error={error} what={`Security group ${g.name}`} />
      {g.rules.length === 0 ? (
        <Empty>No rules: nothing may reach its ports.</Empty>
      ) : (
        <ScrollRegion label={`List of the rules of ${g.name}`}>
          <table aria-label={`Rules of ${g.name}`}>
            <thead>
              <tr>
                <th scope="col">Direction</th>
                <th scope="col">Protocol</th>
                <th scope="col">Ports</th>
                <th scope="col">Remote</th>
                <th scope="col">Description</th>
                {write && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {g.rules.map((r) => (
                <tr key={r.id}>
                  <td>{r.direction}</td>
                  <td>{r.protocol}</td>
                  <td>{r.ports ?? <span class="muted">all</span>}</td>
                  <td>{r.remote_group ? `group ${r.remote_group.name ?? r.remote_group.id}` : r.remote_cidr ?? 'anywhere'}</td>
                  <td>{r.description}</td>
                  {write && (
                    <td>
                      <ConfirmButton
                        label={`Delete rule ${ruleText(r)} of ${g.name}`}
                        question={<>Delete the rule “{ruleText(r)}” of {g.name}?</>}
                        confirmLabel="Delete rule"
                        danger
                        onConfirm={() => delRule(r)}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {write && (
        <div class="actions">
          <AddRule group={g} groups={groups} track={track} />
          <ConfirmButton
            label={`Delete security group ${g.name}`}
            question={<>Delete security group {g.name}? Ports that use it must leave it first.</>}
            confirmLabel="Delete security group"
            danger
            disabled={g.state === 'deleting'}
            onConfirm={del}
          />
        </div>
      )}
    </section>
  );
}

function AddRule({
  group: g,
  groups,
  track,
}: {
  group: Group;
  groups: Group[];
  track: (op: { id?: string } | undefined, label: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const [direction, setDirection] = useState('ingress');
  const [protocol, setProtocol] = useState('tcp');
  const [ports, setPorts] = useState('');
  const [remote, setRemote] = useState('cidr');
  const [cidr, setCidr] = useState('');
  const [rgroup, setRgroup] = useState('');
  const [description, setDescription] = useState('');
  const p = `rule-${g.id}`;
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)} aria-expanded="false">
        Add a rule to {g.name}
      </button>
    );
  const { submit, busy: sending, error } = useSubmit(async () => {
    const body: Record<string, string> = { direction, protocol };
    if (ports && (protocol === 'tcp' || protocol === 'udp')) body.ports = ports;
    if (remote === 'cidr' && cidr) body.remote_cidr = cidr;
    if (remote === 'group' && rgroup) body.remote_group = rgroup;
    if (description) body.description = description;
    const r = await api<Accepted>(`/v1/security-groups/${encodeURIComponent(g.id)}/rules`, { method: 'POST', body });
    track(r?.operation, `Adding a rule to ${g.name}`);
    setOpen(false);
  });
  return (
    <form class="nv-form" onSubmit={submit} aria-label={`Add a rule to ${g.name}`}>
      <ProblemView error={error} fields={['direction', 'protocol', 'ports', 'remote_cidr', 'remote_group', 'description']} />
      <Field id={`${p}-direction`} label="Direction" field="direction" error={error}>
        <select {...fieldAttrs(error, 'direction', `${p}-direction`)} value={direction} onChange={(e) => setDirection((e.target as HTMLSelectElement).value)}>
          <option value="ingress">Ingress (to the ports)</option>
          <option value="egress">Egress (from the ports)</option>
        </select>
      </Field>
      <Field id={`${p}-protocol`} label="Protocol" field="protocol" error={error}>
        <select {...fieldAttrs(error, 'protocol', `${p}-protocol`)} value={protocol} onChange={(e) => setProtocol((e.target as HTMLSelectElement).value)}>
          <option value="tcp">TCP</option>
          <option value="udp">UDP</option>
          <option value="icmp">ICMP</option>
          <option value="any">Any</option>
        </select>
      </Field>
      {(protocol === 'tcp' || protocol === 'udp') && (
        <Field id={`${p}-ports`} label="Ports" field="ports" error={error} hint="One port (22) or a range (1000-2000); empty: every port.">
          <input {...fieldAttrs(error, 'ports', `${p}-ports`)} value={ports} onInput={(e) => setPorts((e.target as HTMLInputElement).value)} />
        </Field>
      )}
      <Field id={`${p}-remote`} label="Remote" field="remote" error={error}>
        <select id={`${p}-remote`} value={remote} onChange={(e) => setRemote((e.target as HTMLSelectElement).value)}>
          <option value="cidr">An IPv4 network (CIDR)</option>
          <option value="group">A security group's ports</option>
        </select>
      </Field>
      {remote === 'cidr' ? (
        <Field id={`${p}-cidr`} label="Remote CIDR" field="remote_cidr" error={error} hint="Empty: anywhere (0.0.0.0/0).">
          <input {...fieldAttrs(error, 'remote_cidr', `${p}-cidr`)} value={cidr} onInput={(e) => setCidr((e.target as HTMLInputElement).value)} />
        </Field>
      ) : (
        <Field id={`${p}-group`} label="Remote group" field="remote_group" error={error}>
          <select {...fieldAttrs(error, 'remote_group', `${p}-group`)} value={rgroup} onChange={(e) => setRgroup((e.target as HTMLSelectElement).value)}>
            <option value="">Choose a group</option>
            {groups.map((x) => (
              <option key={x.id} value={x.id}>
                {x.name}
              </option>
            ))}
          </select>
        </Field>
      )}
      <Field id={`${p}-description`} label="Description" field="description" error={error}>
        <input {...fieldAttrs(error, 'description', `${p}-description`)} value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
      </Field>
      <div class="actions">
        <button type="submit" class="primary" disabled={sending}>
          {sending ? 'Adding rule…' : 'Add rule'}
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function CreateGroup({ onCreated }: { onCreated: (r: Accepted) => void }) {
  const [name, setName] = useState('');
  const [defaults, setDefaults] = useState(true);
  const { submit, busy: sending, error } = useSubmit(async () => {
    const r = await api<Accepted>('/v1/security-groups', { method: 'POST', body: defaults ? { name } : { name, rules: [] } });
    setName('');
    onCreated(r);
  });
  return (
    <form class="nv-form" onSubmit={submit} aria-labelledby="nv-create-sg-h">
      <h3 id="nv-create-sg-h">Create a security group</h3>
      <ProblemView error={error} fields={['name']} />
      <Field id="sg-name" label="Security group name" field="name" error={error}>
        <input {...fieldAttrs(error, 'name', 'sg-name')} required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </Field>
      <label class="nv-check">
        <input type="checkbox" checked={defaults} onChange={(e) => setDefaults((e.target as HTMLInputElement).checked)} />
        Start with the default rules (all outbound traffic; inbound from the group's own ports)
      </label>
      <div class="actions">
        <button type="submit" class="primary" disabled={sending}>
          {sending ? 'Creating security group…' : 'Create security group'}
        </button>
      </div>
    </form>
  );
}
