// The secret of a token just created (POST /v1/tokens): shown once, copyable, then gone.
// Used by Users and tokens, and by an operator's tenant page (a token for a tenant's user).
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Schemas } from '../api/client';
import './TokenSecret.css';

type TokenCreated = Schemas['TokenCreated'];

/** The secret of a token just created: shown once, copyable, then gone. */
export function NewSecret({ token, onDone }: { token: TokenCreated; onDone: () => void }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  const field = useRef<HTMLInputElement>(null);
  // The form that had the focus is gone: the secret takes it, selected, ready to copy.
  useEffect(() => field.current?.focus(), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(token.secret);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div class="secret card" role="region" aria-labelledby="secret-h">
      <h3 id="secret-h">Token {token.name} created</h3>
      <p class="warn-text" id="secret-warning">
        <strong>Copy this secret now.</strong> It is shown once, here, and never again: sovd keeps only its hash. Whoever has it acts as
        this user until it expires or is revoked.
      </p>
      <label for="token-secret">Token secret</label>
      <input
        id="token-secret"
        ref={field}
        class="secret-value"
        readOnly
        value={token.secret}
        spellcheck={false}
        autoComplete="off"
        aria-describedby="secret-warning"
        onFocus={(e) => (e.target as HTMLInputElement).select()}
      />
      <div class="actions">
        <button type="button" class="primary" onClick={copy}>
          Copy secret
        </button>
        <button type="button" onClick={onDone}>
          I have copied it, hide the secret
        </button>
      </div>
      {copied === true && (
        <p role="status" class="ok-text">
          Copied to the clipboard.
        </p>
      )}
      {copied === false && (
        <p role="status" class="bad-text">
          The browser refused the clipboard: select the field and copy it by hand.
        </p>
      )}
    </div>
  );
}

