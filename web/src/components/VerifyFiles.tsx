// "Verify a downloaded document": the user picks a report's document and its signature; the
// page fetches sovd's public key by the key id the document names (or the one typed) and
// checks the signature with WebCrypto. A file changed by one byte shows "Signature invalid".
import { useState } from 'preact/hooks';
import { ApiError, api, type Schemas } from '../api/client';
import { readFileBytes } from '../lib/bytes';
import { keyIdOf, verdictOf, type Verdict } from '../lib/signature';
import { ProblemView } from './ProblemView';
import { Loading } from './common';
import { OpensslCommand, SignatureVerdict, opensslCommands } from './SignatureVerdict';
import { fetchKey } from './ResidencyReports';

type SigningKey = Schemas['SigningKey'];

export function VerifyFiles() {
  const [doc, setDoc] = useState<File | null>(null);
  const [sig, setSig] = useState<File | null>(null);
  const [keyId, setKeyId] = useState('');
  const [keyFromDoc, setKeyFromDoc] = useState<'document' | 'current' | null>(null);
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const pickDoc = async (f: File | null) => {
    setDoc(f);
    setVerdict(null);
    setKeyFromDoc(null);
    if (!f) return;
    const id = keyIdOf(await readFileBytes(f.slice(0, 4096)));
    setKeyFromDoc(id ? 'document' : null);
    if (id) {
      setKeyId(id);
      return;
    }
    // The document names no key (or not legibly): sovd's current key, which the user may change.
    try {
      const current = await api<SigningKey>('/v1/residency/signing-key');
      if (current.key_id) {
        setKeyId(current.key_id);
        setKeyFromDoc('current');
      }
    } catch {
      /* the user types it */
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!doc || !sig) return;
    setBusy(true);
    setError(null);
    setVerdict(null);
    const kid = keyId.trim();
    try {
      const [d, s] = await Promise.all([readFileBytes(doc), readFileBytes(sig)]);
      let pem: string;
      try {
        pem = (await fetchKey(kid)).public_key_pem ?? '';
      } catch (err) {
        if (err instanceof ApiError && (err.status === 404 || err.status === 400)) {
          // No key of sovd's has this id: the document cannot be one sovd signed as it is.
          setVerdict({ kind: 'invalid', keyId: kid, why: `sovd has no signing key with id "${kid}": the document's header was changed, or another cloud signed it.` });
          return;
        }
        throw err;
      }
      setVerdict(await verdictOf(kid, pem, d, s));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} class="card verify-files" aria-labelledby="verify-files-h">
      <h2 id="verify-files-h">Verify a downloaded document</h2>
      <p class="muted">Pick a report's document and its signature file: nothing is uploaded; the check runs in this browser.</p>
      <label for="vf-doc">Document file</label>
      <input id="vf-doc" type="file" accept=".csv,.json,text/csv,application/json" onChange={(e) => void pickDoc((e.target as HTMLInputElement).files?.[0] ?? null)} />
      <label for="vf-sig">Signature file</label>
      <input
        id="vf-sig"
        type="file"
        accept=".sig,application/octet-stream"
        onChange={(e) => {
          setSig((e.target as HTMLInputElement).files?.[0] ?? null);
          setVerdict(null);
        }}
      />
      <label for="vf-key">Signing key id</label>
      <input
        id="vf-key"
        value={keyId}
        onInput={(e) => setKeyId((e.target as HTMLInputElement).value)}
        pattern="[0-9a-f]{16}"
        required
        spellcheck={false}
        aria-describedby="vf-key-help"
      />
      <p id="vf-key-help" class="muted">
        {keyFromDoc === 'document'
          ? 'Read from the document’s header.'
          : keyFromDoc === 'current'
            ? 'The document names no key: sovd’s current key. A report signed before a key rotation names its own key.'
            : '16 hex digits: the report’s key id (its header names it).'}
      </p>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !doc || !sig || !keyId.trim()}>
          {busy ? 'Verifying…' : 'Verify files'}
        </button>
      </div>
      {busy && <Loading what="Verifying" />}
      <SignatureVerdict verdict={verdict} />
      <ProblemView error={error} />
      {doc && sig && keyId && (
        <OpensslCommand id="vf-openssl-h" commands={opensslCommands({ origin: location.origin, keyId: keyId.trim(), document: doc.name, signature: sig.name })} />
      )}
    </form>
  );
}
