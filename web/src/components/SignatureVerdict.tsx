// A report's signature verdict as the user sees it: green "Signature valid" or red
// "Signature invalid" (with why), in words and colour; and the openssl command that checks the
// same bytes without trusting this page.
import type { Verdict } from '../lib/signature';

export function SignatureVerdict({ verdict, detail }: { verdict: Verdict | null; detail?: string }) {
  if (!verdict) return null;
  if (verdict.kind === 'unsupported')
    return (
      <div class="sig-verdict unsupported" role="status">
        <strong>Cannot verify in this browser</strong>
        <p>{verdict.why}</p>
      </div>
    );
  if (verdict.kind === 'valid')
    return (
      <div class="sig-verdict valid" role="status">
        <span aria-hidden="true">✓ </span>
        <strong>Signature valid</strong>
        <p>
          The Ed25519 signature matches every byte of the document, with sovd's key <code>{verdict.keyId}</code>.{detail ? ` ${detail}` : ''}
        </p>
      </div>
    );
  return (
    <div class="sig-verdict invalid" role="alert">
      <span aria-hidden="true">✗ </span>
      <strong>Signature invalid</strong>
      <p>
        {verdict.why}
        {verdict.keyId ? (
          <>
            {' '}
            Key <code>{verdict.keyId}</code>.
          </>
        ) : null}
      </p>
    </div>
  );
}

/** The shell commands that fetch a report and verify it with OpenSSL alone (README's "For compliance teams"). */
export function opensslCommands(o: { origin: string; reportId?: string; keyId: string; document: string; signature: string }): string {
  const key = `key-${o.keyId}.pem`;
  const lines: string[] = ['AUTH="Authorization: Bearer sov_..."   # your API token'];
  if (o.reportId) {
    const base = `${o.origin}/v1/residency/reports/${o.reportId}`;
    lines.push(
      `curl -s -H "$AUTH" ${base}/document -o ${o.document}`,
      `curl -s -H "$AUTH" ${base}/signature -o ${o.signature}`,
    );
  }
  lines.push(
    `curl -s -H "$AUTH" -H "Accept: application/x-pem-file" "${o.origin}/v1/residency/signing-key?key_id=${o.keyId}" -o ${key}`,
    `openssl pkeyutl -verify -pubin -inkey ${key} -rawin -in ${o.document} -sigfile ${o.signature}`,
    '# Signature Verified Successfully',
  );
  return lines.join('\n');
}

export function OpensslCommand({ commands, id }: { commands: string; id: string }) {
  return (
    <div class="openssl">
      <h4 id={id}>Check it yourself with OpenSSL</h4>
      <p class="muted">The page verified the bytes it downloaded; these commands check the same, without trusting the page.</p>
      <pre aria-labelledby={id} tabIndex={0}>
        <code>{commands}</code>
      </pre>
    </div>
  );
}
