// SerialConsole: the instance's serial console in an xterm.js terminal over the WebSocket
// GET /v1/instances/{id}/console/stream. Browsers cannot set headers on a WebSocket, so the
// token travels as the subprotocol sov.bearer.<token> beside sov.console.v1 (sovd answers with
// sov.console.v1 only). Console bytes go both ways in binary frames; keystrokes are sent as
// UTF-8. xterm.js, its addons and its CSS are imported here, lazily, so only the instance page
// pays for them.
//
// Renderer: xterm's default DOM renderer writes its theme and cell sizes into <style> elements
// (and style="" attributes), which sovd's Content-Security-Policy (style-src 'self') refuses;
// the canvas renderer is loaded before open(), so the DOM renderer is never created, and the
// terminal only sets styles through the CSSOM (element.style), which the CSP allows.
// screenReaderMode keeps the text in the DOM too, for screen readers (and browser tests).
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Terminal } from '@xterm/xterm';
import type { FitAddon } from '@xterm/addon-fit';
import { api, ApiError, type Schemas } from '../api/client';
import { getToken } from '../lib/auth';
import { ProblemView } from './ProblemView';
import './SerialConsole.css';

export const SUBPROTOCOL = 'sov.console.v1';
/** The close code sovd sends when another session holds the console (and force was not asked). */
export const CLOSE_HELD = 4409;

interface Xterm {
  Terminal: typeof import('@xterm/xterm').Terminal;
  FitAddon: typeof import('@xterm/addon-fit').FitAddon;
  CanvasAddon: typeof import('@xterm/addon-canvas').CanvasAddon;
}

let xtermLoad: Promise<Xterm> | null = null;

/** xterm.js, its fit and canvas addons and its CSS, loaded once, on first use. */
function loadXterm(): Promise<Xterm> {
  if (!xtermLoad) {
    xtermLoad = Promise.all([
      import('@xterm/xterm'),
      import('@xterm/addon-fit'),
      import('@xterm/addon-canvas'),
      import('@xterm/xterm/css/xterm.css'),
    ]).then(([x, f, c]) => ({ Terminal: x.Terminal, FitAddon: f.FitAddon, CanvasAddon: c.CanvasAddon }));
    xtermLoad.catch(() => {
      xtermLoad = null;
    });
  }
  return xtermLoad;
}

/** The stream's URL: ws: or wss: as the page, same host (connect-src 'self'). */
export function consoleStreamUrl(instanceId: string, force: boolean): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = force ? '?force=true' : '';
  return `${scheme}//${window.location.host}/v1/instances/${encodeURIComponent(instanceId)}/console/stream${q}`;
}

/** Why the stream closed, in words. */
export function closeReason(code: number, reason: string, opened: boolean): string {
  if (reason) return reason;
  switch (code) {
    case 1000:
      return 'the console ended (the instance stopped)';
    case 1001:
      return 'sovd is shutting down';
    case 1011:
      return 'the host failed';
    case CLOSE_HELD:
      return 'another session holds the console';
    default:
      return opened ? 'the connection was lost' : 'the console could not be opened';
  }
}

type Phase =
  | { kind: 'loading' }
  | { kind: 'connecting' }
  | { kind: 'connected' }
  | { kind: 'closed'; code: number; reason: string; opened: boolean };

type Instance = Schemas['Instance'];

export default function SerialConsole({ instanceId, name }: { instanceId: string; name?: string }) {
  const hostRef = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const fitRef = useRef<FitAddon | null>(null);
  const wsRef = useRef<WebSocket | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const [loadError, setLoadError] = useState<unknown>(null);
  const [why, setWhy] = useState<unknown>(null);
  const [instState, setInstState] = useState<string | null>(null);
  const label = `Serial console of ${name ?? instanceId}`;
  const hintId = `serial-hint-${instanceId}`;

  const fit = () => {
    try {
      fitRef.current?.fit();
    } catch {
      /* not laid out yet */
    }
  };

  /** Open the stream (again): force takes the console over from another session. */
  const connect = (force: boolean) => {
    const term = termRef.current;
    if (!term) return;
    wsRef.current?.close(1000);
    setWhy(null);
    setInstState(null);
    const token = getToken() ?? '';
    let ws: WebSocket;
    try {
      ws = new WebSocket(consoleStreamUrl(instanceId, force), [SUBPROTOCOL, `sov.bearer.${token}`]);
    } catch (e) {
      setPhase({ kind: 'closed', code: 0, reason: String(e), opened: false });
      return;
    }
    ws.binaryType = 'arraybuffer';
    wsRef.current = ws;
    let opened = false;
    setPhase({ kind: 'connecting' });
    ws.onopen = () => {
      if (wsRef.current !== ws) return;
      opened = true;
      setPhase({ kind: 'connected' });
      fit();
      term.focus();
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (wsRef.current !== ws) return;
      if (typeof ev.data === 'string') term.write(ev.data);
      else term.write(new Uint8Array(ev.data as ArrayBuffer));
    };
    ws.onclose = (ev: CloseEvent) => {
      if (wsRef.current !== ws) return;
      wsRef.current = null;
      setPhase({ kind: 'closed', code: ev.code, reason: ev.reason, opened });
      if (!opened) {
        /* A refusal before the upgrade (401, 403, 404, 409) reaches a browser as 1006 with no
           body: ask the API about the instance to say why. */
        api<Instance>(`/v1/instances/${encodeURIComponent(instanceId)}`)
          .then((i) => setInstState(i.state ?? null))
          .catch((e) => setWhy(e));
      }
    };
  };

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | null = null;
    const onResize = () => fit();
    loadXterm()
      .then((x) => {
        if (disposed || !hostRef.current) return;
        const term = new x.Terminal({
          cursorBlink: true,
          screenReaderMode: true,
          scrollback: 5000,
          fontSize: 14,
          fontFamily: "ui-monospace, 'DejaVu Sans Mono', monospace",
          theme: { background: '#1b1f24', foreground: '#e6edf3' },
        });
        const fitAddon = new x.FitAddon();
        term.loadAddon(fitAddon);
        /* Before open(): the canvas renderer replaces the DOM renderer, which needs inline <style>. */
        term.loadAddon(new x.CanvasAddon());
        term.open(hostRef.current);
        const ta = term.textarea;
        if (ta) {
          ta.setAttribute('aria-label', label);
          ta.setAttribute('aria-describedby', hintId);
        }
        /* Shift+Tab leaves the terminal (Tab itself belongs to the shell): no keyboard trap. */
        term.attachCustomKeyEventHandler((e) => !(e.key === 'Tab' && e.shiftKey));
        const enc = new TextEncoder();
        term.onData((d) => {
          const ws = wsRef.current;
          if (ws && ws.readyState === WebSocket.OPEN) ws.send(enc.encode(d));
        });
        term.onBinary((d) => {
          const ws = wsRef.current;
          if (!ws || ws.readyState !== WebSocket.OPEN) return;
          const b = new Uint8Array(d.length);
          for (let i = 0; i < d.length; i++) b[i] = d.charCodeAt(i) & 0xff;
          ws.send(b);
        });
        termRef.current = term;
        fitRef.current = fitAddon;
        fit();
        if (typeof ResizeObserver !== 'undefined') {
          observer = new ResizeObserver(onResize);
          observer.observe(hostRef.current);
        }
        window.addEventListener('resize', onResize);
        connect(false);
      })
      .catch((e) => {
        if (!disposed) setLoadError(e);
      });
    return () => {
      disposed = true;
      observer?.disconnect();
      window.removeEventListener('resize', onResize);
      const ws = wsRef.current;
      wsRef.current = null;
      ws?.close(1000);
      termRef.current?.dispose();
      termRef.current = null;
      fitRef.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [instanceId]);

  let status: string;
  switch (phase.kind) {
    case 'loading':
      status = 'Loading the terminal…';
      break;
    case 'connecting':
      status = 'Connecting…';
      break;
    case 'connected':
      status = 'Connected';
      break;
    case 'closed':
      status = `Disconnected: ${closeReason(phase.code, phase.reason, phase.opened)}`;
      if (!phase.opened && instState && instState !== 'running') status += ` (the instance is ${instState})`;
      break;
  }

  return (
    <div class="serial-console">
      <div class="serial-bar">
        <p class={`serial-status ${phase.kind}`} role="status" aria-live="polite">
          {status}
        </p>
        {phase.kind === 'closed' && (
          <div class="actions">
            {phase.code === CLOSE_HELD && (
              <button type="button" class="primary" onClick={() => connect(true)}>
                Take over
              </button>
            )}
            <button type="button" onClick={() => connect(false)}>
              Reconnect
            </button>
          </div>
        )}
      </div>
      {loadError !== null && <ProblemView error={loadError} />}
      {why instanceof ApiError && <ProblemView error={why} />}
      <p id={hintId} class="muted serial-hint">
        Type into the terminal to send keys to the guest; Shift+Tab leaves it.
      </p>
      <div class="serial-term" ref={hostRef} />
    </div>
  );
}
