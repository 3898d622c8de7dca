// Verifying a residency report in the browser: sovd signs exactly the document's bytes with
// Ed25519 (the same bytes `openssl pkeyutl -verify -rawin` checks) and serves the public key by
// key id as SPKI PEM. WebCrypto does the rest; nothing here trusts the page's own data.
import type { Bytes } from './bytes';

export type Verdict =
  | { kind: 'valid'; keyId: string }
  | { kind: 'invalid'; keyId: string; why: string }
  | { kind: 'unsupported'; why: string };

/** The DER bytes inside a PEM block ("-----BEGIN PUBLIC KEY-----"). */
export function pemToDer(pem: string): Bytes {
  const b64 = pem
    .replace(/-----BEGIN [^-]+-----/, '')
    .replace(/-----END [^-]+-----/, '')
    .replace(/\s+/g, '');
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Whether signature is document's Ed25519 signature by the key in pem. */
export async function verifyEd25519(pem: string, document: Bytes, signature: Bytes): Promise<boolean> {
  const key = await crypto.subtle.importKey('spki', pemToDer(pem), { name: 'Ed25519' }, false, ['verify']);
  return crypto.subtle.verify({ name: 'Ed25519' }, key, signature, document);
}

/** The verdict for a document, its signature and the PEM of key keyId. */
export async function verdictOf(keyId: string, pem: string, document: Bytes, signature: Bytes): Promise<Verdict> {
  if (!globalThis.crypto?.subtle)
    return { kind: 'unsupported', why: 'This browser has no WebCrypto here (a page served over plain HTTP from another host gets none): use the openssl command below.' };
  if (signature.length !== 64) return { kind: 'invalid', keyId, why: `The signature is ${signature.length} bytes; an Ed25519 signature is 64.` };
  let ok: boolean;
  try {
    ok = await verifyEd25519(pem, document, signature);
  } catch (e) {
    const name = (e as Error).name;
    if (name === 'NotSupportedError')
      return { kind: 'unsupported', why: 'This browser cannot verify Ed25519 signatures: use the openssl command below.' };
    return { kind: 'invalid', keyId, why: `The key or the signature cannot be read: ${String(e)}` };
  }
  return ok
    ? { kind: 'valid', keyId }
    : { kind: 'invalid', keyId, why: 'The signature does not match these bytes: the document was changed, or it was not signed with this key.' };
}

/** The SHA-256 of bytes, as hex. */
export async function sha256Hex(bytes: Bytes): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The key id a report's document names in its header ("# key_id: ..." in CSV, report.key_id in JSON). */
export function keyIdOf(document: Uint8Array): string | null {
  const head = new TextDecoder('utf-8', { fatal: false }).decode(document.subarray(0, 4096));
  const m = /# key_id: ([0-9a-f]{16})\b/.exec(head) ?? /"key_id"\s*:\s*"([0-9a-f]{16})"/.exec(head);
  return m ? m[1] : null;
}
