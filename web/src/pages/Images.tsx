// Images: the tenant's disk templates (state, size, region, residency); upload one (create it,
// then PUT its bytes with a progress bar, then follow its state until active); delete one.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, listAll, type Schemas } from '../api/client';
import { canWrite, useSession } from '../lib/session';
import { useApi, useField } from '../lib/hooks';
import { formatBytes, uploadBytes, type UploadProgress } from '../lib/bytes';
import { Field, fieldAttrs, invalid } from '../components/Field';
import { loadPlaces, policyAllows, policyText } from '../lib/regions';
import { ProblemView } from '../components/ProblemView';
import { ConfirmButton, Empty, Loading, OperationProgress, StateBadge, When, ScrollRegion } from '../components/common';
import './Images.css';

type Image = Schemas['Image'];
type ImageAccepted = Schemas['ImageAccepted'];

const BUSY = ['queued', 'downloading', 'deleting'];

function Residency({ r }: { r: Image['residency'] }) {
  if (!r) return <span class="muted">—</span>;
  return (
    <span>
      {r.country} · {r.jurisdiction}
      {r.datacenter ? ` · ${r.datacenter}` : ''}
    </span>
  );
}

type Phase =
  | { step: 'idle' }
  | { step: 'creating' }
  | { step: 'uploading'; image: Image }
  | { step: 'checking'; image: Image }
  | { step: 'done'; image: Image }
  | { step: 'failed'; image: Image | null };

function guessFormat(name: string): 'qcow2' | 'raw' {
  return /\.(img|raw|iso)$/i.test(name) ? 'raw' : 'qcow2';
}

function UploadForm({ tenantId, onChanged }: { tenantId: string; onChanged: () => void }) {
  const places = useApi(() => loadPlaces(tenantId), [tenantId]);
  const [name, onName, setName] = useField('');
  const [region, onRegion, setRegion] = useField('');
  const [format, onFormat, setFormat] = useField('qcow2');
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [phase, setPhase] = useState<Phase>({ step: 'idle' });
  /** Bytes sent of the last upload: the bar stays (at 100%) while sovd checks them, and on a refusal. */
  const [sent, setSent] = useState<UploadProgress | null>(null);
  const abort = useRef<AbortController | null>(null);

  const allowed = (places.data?.regions ?? []).filter((r) => policyAllows(places.data?.policy, r));
  useEffect(() => {
    if (!region && allowed.length > 0) setRegion(allowed[0].code ?? '');
  }, [allowed.length]);
  useEffect(() => () => abort.current?.abort(), []);

  // After the bytes: the image's state until it is active (or refused).
  useEffect(() => {
    if (phase.step !== 'checking') return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const img = await api<Image>(`/v1/images/${encodeURIComponent(phase.image.id ?? '')}`);
        if (stop) return;
        if (img.state === 'active') {
          setPhase({ step: 'done', image: img });
          onChanged();
          return;
        }
        if (img.state === 'error') {
          setError(new Error(img.state_reason || 'The image is in error.'));
          setPhase({ step: 'failed', image: img });
          onChanged();
          return;
        }
        setPhase({ step: 'checking', image: img });
      } catch (e) {
        if (stop) return;
        setError(e);
        setPhase({ step: 'failed', image: phase.image });
        return;
      }
      timer = setTimeout(poll, 1000);
    };
    timer = setTimeout(poll, 0);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [phase.step === 'checking' ? phase.image.id : null]);

  const busy = phase.step === 'creating' || phase.step === 'uploading' || phase.step === 'checking';

  const sendBytes = async (image: Image, f: File) => {
    setPhase({ step: 'uploading', image });
    setSent({ loaded: 0, total: f.size });
    abort.current = new AbortController();
    try {
      const after = await uploadBytes<Image>(
        `/v1/images/${encodeURIComponent(image.id ?? '')}/file`,
        f,
        setSent,
        abort.current.signal,
      );
      setPhase({ step: 'checking', image: after ?? image });
    } catch (e) {
      // Cancelled or refused, the image stays queued: the same image takes the bytes again.
      setError((e as Error).name === 'AbortError' ? new Error('Upload cancelled: the image waits, queued, for its bytes.') : e);
      setPhase({ step: 'failed', image });
      onChanged();
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file || busy) return;
    setError(null);
    // A refused upload leaves the image queued: the same image takes the bytes again.
    if (phase.step === 'failed' && phase.image && phase.image.state === 'queued' && phase.image.name === name) {
      await sendBytes(phase.image, file);
      return;
    }
    setPhase({ step: 'creating' });
    setSent(null);
    let image: Image;
    try {
      const r = await api<Image | ImageAccepted>('/v1/images', { method: 'POST', body: { name: name.trim(), region, format } });
      image = 'image' in r && r.image ? r.image : (r as Image);
      onChanged();
    } catch (err) {
      setError(err);
      setPhase({ step: 'idle' });
      return;
    }
    await sendBytes(image, file);
  };

  const pct = sent && sent.total > 0 ? Math.round((sent.loaded / sent.total) * 100) : 0;

  return (
    <section aria-labelledby="upload-h" class="card">
      <h2 id="upload-h">Upload an image</h2>
      <form onSubmit={submit}>
        <label for="img-file">Image file</label>
        <input
          id="img-file"
          type="file"
          disabled={busy}
          onChange={(e) => {
            const f = (e.target as HTMLInputElement).files?.[0] ?? null;
            setFile(f);
            if (f) {
              setFormat(guessFormat(f.name));
              if (!name) setName(f.name.replace(/\.[^.]*$/, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63));
            }
          }}
        />
        <Field id="img-name" label="Name" field="name" error={error}>
          <input {...fieldAttrs(error, 'name', 'img-name')} aria-invalid={invalid(error, 'name')} value={name} onInput={onName} required maxLength={63} disabled={busy} />
        </Field>
        <Field
          id="img-region"
          label="Region"
          field="region"
          error={error}
          hint={<>Regions your residency policy allows ({policyText(places.data?.policy, 'no policy')}); the image's bytes stay there.</>}
        >
          {places.loading ? (
            <Loading what="Loading regions" />
          ) : (
            <select {...fieldAttrs(error, 'region', 'img-region', 'img-region-hint')} aria-invalid={invalid(error, 'region')} value={region} onChange={onRegion} required disabled={busy}>
              {allowed.length === 0 && <option value="">No region your policy allows</option>}
              {allowed.map((r) => (
                <option key={r.code} value={r.code}>
                  {r.code} — {r.name} ({r.country}, {r.jurisdiction})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id="img-format" label="Format" field="format" error={error}>
          <select {...fieldAttrs(error, 'format', 'img-format')} aria-invalid={invalid(error, 'format')} value={format} onChange={onFormat} disabled={busy}>
            <option value="qcow2">qcow2</option>
            <option value="raw">raw</option>
          </select>
        </Field>
        <div class="actions">
          <button type="submit" class="primary" disabled={!file || !name.trim() || !region} aria-disabled={busy}>
            {phase.step === 'failed' && phase.image?.state === 'queued' ? 'Upload again' : 'Upload image'}
          </button>
          {phase.step === 'uploading' && (
            <button type="button" onClick={() => abort.current?.abort()}>
              Cancel upload
            </button>
          )}
        </div>
      </form>
      {phase.step === 'creating' && <Loading what="Creating the image" />}
      {sent && phase.step !== 'done' && (
        <div role="status" aria-live="polite">
          <label for="upload-progress">Upload progress</label>
          <progress id="upload-progress" max={100} value={pct} aria-label="Upload progress">
            {pct}%
          </progress>{' '}
          {pct}% · {formatBytes(sent.loaded)} of {formatBytes(sent.total)}
        </div>
      )}
      {phase.step === 'checking' && (
        <p role="status">
          Checking the image's bytes: <StateBadge state={phase.image.state} />
        </p>
      )}
      {phase.step === 'done' && (
        <p role="status" class="ok-text">
          Image {phase.image.name} is <StateBadge state={phase.image.state} /> ({formatBytes(phase.image.size_bytes)}).
        </p>
      )}
      <ProblemView error={error} fields={['name', 'region', 'format']} />
    </section>
  );
}

/** A 409's blocked_by: what keeps the image (instances booted from it), with links. */
function BlockedBy({ error }: { error: unknown }) {
  const list = error instanceof ApiError ? (error.problem.blocked_by ?? []) : [];
  if (list.length === 0) return null;
  return (
    <ul class="blocked-by" aria-label="Still used by">
      {list.map((b) => (
        <li key={b.id}>
          {b.kind} {b.kind === 'instance' ? <a href={`/console/instances/${b.id}`}>{b.name}</a> : b.name}
        </li>
      ))}
    </ul>
  );
}

function DeleteImage({ image, onChanged }: { image: Image; onChanged: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [op, setOp] = useState<string | null>(null);
  return (
    <>
      <ConfirmButton
        label={`Delete ${image.name}`}
        question={`Delete image ${image.name}? Its stored file and every host's copy go.`}
        confirmLabel="Delete image"
        danger
        disabled={image.state === 'deleting' || op !== null}
        onConfirm={async () => {
          setError(null);
          try {
            const r = await api<ImageAccepted | undefined>(`/v1/images/${encodeURIComponent(image.id ?? '')}`, { method: 'DELETE' });
            if (r?.operation?.id) setOp(r.operation.id);
            onChanged();
          } catch (e) {
            setError(e);
          }
        }}
      />
      {op && <OperationProgress id={op} onDone={() => onChanged()} />}
      <ProblemView error={error} />
      <BlockedBy error={error} />
    </>
  );
}

export default function Images() {
  const session = useSession();
  const writer = canWrite(session);
  const [pollFast, setPollFast] = useState(false);
  const list = useApi(() => listAll<Image>('/v1/images'), [], pollFast ? 2000 : 10000);
  const images = [...(list.data ?? [])].sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''));
  useEffect(() => setPollFast(images.some((i) => BUSY.includes(i.state ?? ''))), [images]);

  return (
    <section class="images-page">
      <h1>Images</h1>
      <p class="muted">Disk templates instances boot from, each kept in one region's image store.</p>
      {writer && <UploadForm tenantId={session.tenantId} onChanged={list.reload} />}
      <h2>Your images</h2>
      <ProblemView error={list.error} />
      {list.loading && !list.data ? (
        <Loading what="Loading images" />
      ) : images.length === 0 ? (
        <Empty>No images yet.</Empty>
      ) : (
        <ScrollRegion label="Images table">
          <table>
            <caption class="muted">Images ({images.length})</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Format</th>
                <th scope="col">Size</th>
                <th scope="col">Region</th>
                <th scope="col">Residency</th>
                <th scope="col">Created</th>
                {writer && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {images.map((i) => (
                <tr key={i.id}>
                  <th scope="row">{i.name}</th>
                  <td>
                    <StateBadge state={i.state} />
                    {i.state_reason && <div class="muted">{i.state_reason}</div>}
                  </td>
                  <td>{i.format}</td>
                  <td>{i.state === 'active' ? formatBytes(i.size_bytes) : '—'}</td>
                  <td>{i.region}</td>
                  <td>
                    <Residency r={i.residency} />
                  </td>
                  <td>
                    <When iso={i.created_at} />
                  </td>
                  {writer && (
                    <td>
                      <DeleteImage image={i} onChanged={list.reload} />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </section>
  );
}
