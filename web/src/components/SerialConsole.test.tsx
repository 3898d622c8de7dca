// SerialConsole over a mock WebSocket, with xterm.js replaced by a recording fake (jsdom has
// no canvas): the URL and subprotocols, bytes both ways, close codes, take over, reconnect.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/preact';

const h = vi.hoisted(() => {
  class FakeTerm {
    static all: FakeTerm[] = [];
    options: Record<string, unknown>;
    textarea: HTMLTextAreaElement | undefined;
    written: (string | Uint8Array)[] = [];
    addons: { addon: unknown; beforeOpen: boolean }[] = [];
    dataCb: ((d: string) => void) | undefined;
    binaryCb: ((d: string) => void) | undefined;
    keyHandler: ((e: KeyboardEvent) => boolean) | undefined;
    opened = false;
    focused = 0;
    disposed = false;
    constructor(options: Record<string, unknown>) {
      this.options = options;
      FakeTerm.all.push(this);
    }
    loadAddon(addon: unknown) {
      this.addons.push({ addon, beforeOpen: !this.opened });
    }
    open(el: HTMLElement) {
      this.opened = true;
      this.textarea = document.createElement('textarea');
      el.appendChild(this.textarea);
    }
    onData(cb: (d: string) => void) {
      this.dataCb = cb;
      return { dispose() {} };
    }
    onBinary(cb: (d: string) => void) {
      this.binaryCb = cb;
      return { dispose() {} };
    }
    attachCustomKeyEventHandler(fn: (e: KeyboardEvent) => boolean) {
      this.keyHandler = fn;
    }
    write(d: string | Uint8Array) {
      this.written.push(d);
    }
    focus() {
      this.focused++;
      this.textarea?.focus();
    }
    dispose() {
      this.disposed = true;
    }
  }
  class FakeFit {
    static fits = 0;
    fit() {
      FakeFit.fits++;
    }
  }
  class FakeCanvas {
    readonly canvas = true;
  }
  return { FakeTerm, FakeFit, FakeCanvas };
});

vi.mock('@xterm/xterm', () => ({ Terminal: h.FakeTerm }));
vi.mock('@xterm/addon-fit', () => ({ FitAddon: h.FakeFit }));
vi.mock('@xterm/addon-canvas', () => ({ CanvasAddon: h.FakeCanvas }));
vi.mock('@xterm/xterm/css/xterm.css', () => ({}));

import SerialConsole, { closeReason, consoleStreamUrl } from './SerialConsole';

class FakeWS {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static all: FakeWS[] = [];
  url: string;
  protocols: string[];
  readyState = 0;
  binaryType = 'blob';
  sent: unknown[] = [];
  closedWith: number | undefined;
  onopen: ((e: Event) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  constructor(url: string, protocols: string[]) {
    this.url = url;
    this.protocols = protocols;
    FakeWS.all.push(this);
  }
  send(d: unknown) {
    this.sent.push(d);
  }
  close(code?: number) {
    this.readyState = 3;
    this.closedWith = code;
  }
  serverOpen() {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  serverSend(data: unknown) {
    this.onmessage?.({ data });
  }
  serverClose(code: number, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

const ID = '11111111-2222-4333-8444-555555555555';

function lastWs(): FakeWS {
  return FakeWS.all[FakeWS.all.length - 1];
}

async function mounted(n = 1): Promise<FakeWS> {
  await waitFor(() => expect(FakeWS.all.length).toBe(n));
  return lastWs();
}

beforeEach(() => {
  FakeWS.all = [];
  h.FakeTerm.all = [];
  vi.stubGlobal('WebSocket', FakeWS);
  sessionStorage.setItem('sov.token', 'sov_abcDEF123-_x');
});

afterEach(() => {
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

describe('SerialConsole', () => {
  it('opens the stream with the console and bearer subprotocols, binary, same host', async () => {
    render(<SerialConsole instanceId={ID} name="web-1" />);
    expect(screen.getByRole('status').textContent).toContain('Loading the terminal');
    const ws = await mounted();
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    expect(ws.url).toBe(`${scheme}//${window.location.host}/v1/instances/${ID}/console/stream`);
    expect(ws.protocols).toEqual(['sov.console.v1', 'sov.bearer.sov_abcDEF123-_x']);
    expect(ws.binaryType).toBe('arraybuffer');
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('Connecting…'));
    const term = h.FakeTerm.all[0];
    /* The canvas renderer is loaded before open(), so xterm never builds its DOM renderer. */
    const canvas = term.addons.find((a) => a.addon instanceof h.FakeCanvas);
    expect(canvas?.beforeOpen).toBe(true);
    expect(term.options.screenReaderMode).toBe(true);
    expect(screen.getByRole('textbox', { name: 'Serial console of web-1' })).toBeTruthy();
  });

  it('says Connected, focuses the terminal, and carries bytes both ways', async () => {
    render(<SerialConsole instanceId={ID} name="web-1" />);
    const ws = await mounted();
    const term = h.FakeTerm.all[0];
    const fitsBefore = h.FakeFit.fits;
    await act(() => ws.serverOpen());
    expect(screen.getByRole('status').textContent).toBe('Connected');
    expect(term.focused).toBe(1);
    expect(document.activeElement).toBe(screen.getByRole('textbox', { name: 'Serial console of web-1' }));
    expect(h.FakeFit.fits).toBeGreaterThan(fitsBefore);

    term.dataCb?.('echo hé\r');
    expect(ws.sent).toHaveLength(1);
    expect(Array.from(ws.sent[0] as Uint8Array)).toEqual(Array.from(new TextEncoder().encode('echo hé\r')));
    term.binaryCb?.('\x1b[M\xff');
    expect(Array.from(ws.sent[1] as Uint8Array)).toEqual([0x1b, 0x5b, 0x4d, 0xff]);

    const out = new TextEncoder().encode('hello-console\r\n');
    await act(() => ws.serverSend(out.buffer));
    expect(term.written[0]).toBeInstanceOf(Uint8Array);
    expect(Array.from(term.written[0] as Uint8Array)).toEqual(Array.from(out));
    await act(() => ws.serverSend('text frame'));
    expect(term.written[1]).toBe('text frame');
  });

  it('sends nothing while the stream is not open', async () => {
    render(<SerialConsole instanceId={ID} />);
    const ws = await mounted();
    h.FakeTerm.all[0].dataCb?.('x');
    expect(ws.sent).toHaveLength(0);
  });

  it('offers Take over when another session holds the console, and reconnects with force', async () => {
    render(<SerialConsole instanceId={ID} name="web-1" />);
    const ws = await mounted();
    await act(() => ws.serverOpen());
    await act(() => ws.serverClose(4409, 'the console is held by another session'));
    expect(screen.getByRole('status').textContent).toBe('Disconnected: the console is held by another session');
    fireEvent.click(screen.getByRole('button', { name: 'Take over' }));
    const ws2 = await mounted(2);
    expect(ws2.url).toMatch(/\/console\/stream\?force=true$/);
    expect(ws2.protocols[0]).toBe('sov.console.v1');
    await act(() => ws2.serverOpen());
    expect(screen.getByRole('status').textContent).toBe('Connected');
    expect(screen.queryByRole('button', { name: 'Take over' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Reconnect' })).toBeNull();
  });

  it('says why it closed and offers Reconnect (without force) after the console ends', async () => {
    render(<SerialConsole instanceId={ID} />);
    const ws = await mounted();
    await act(() => ws.serverOpen());
    await act(() => ws.serverClose(1000));
    expect(screen.getByRole('status').textContent).toBe('Disconnected: the console ended (the instance stopped)');
    expect(screen.queryByRole('button', { name: 'Take over' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Reconnect' }));
    const ws2 = await mounted(2);
    expect(ws2.url).toMatch(/\/console\/stream$/);
  });

  it('asks the API why when the stream is refused before it opens', async () => {
    const fetchMock = vi.fn(async () =>
      new Response(JSON.stringify({ id: ID, name: 'web-1', state: 'stopped' }), {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
      }),
    );
    vi.stubGlobal('fetch', fetchMock);
    render(<SerialConsole instanceId={ID} />);
    const ws = await mounted();
    await act(() => ws.serverClose(1006));
    await waitFor(() =>
      expect(screen.getByRole('status').textContent).toBe(
        'Disconnected: the console could not be opened (the instance is stopped)',
      ),
    );
    expect(String((fetchMock.mock.calls[0] as unknown[])[0])).toBe(`/v1/instances/${ID}`);
  });

  it('shows the problem when the instance is not found', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        new Response(JSON.stringify({ type: '/problems/not-found', title: 'Not found', status: 404, detail: 'no such instance' }), {
          status: 404,
          headers: { 'Content-Type': 'application/problem+json' },
        }),
      ),
    );
    render(<SerialConsole instanceId={ID} />);
    const ws = await mounted();
    await act(() => ws.serverClose(1006));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('Not found'));
  });

  it('lets Shift+Tab leave the terminal and keeps Tab for the shell', async () => {
    render(<SerialConsole instanceId={ID} />);
    await mounted();
    const k = h.FakeTerm.all[0].keyHandler!;
    expect(k(new KeyboardEvent('keydown', { key: 'Tab', shiftKey: true }))).toBe(false);
    expect(k(new KeyboardEvent('keydown', { key: 'Tab' }))).toBe(true);
    expect(k(new KeyboardEvent('keydown', { key: 'a' }))).toBe(true);
  });

  it('closes the stream and disposes the terminal when it goes away', async () => {
    const { unmount } = render(<SerialConsole instanceId={ID} />);
    const ws = await mounted();
    await act(() => ws.serverOpen());
    unmount();
    expect(ws.closedWith).toBe(1000);
    expect(h.FakeTerm.all[0].disposed).toBe(true);
  });
});

describe('consoleStreamUrl and closeReason', () => {
  it('builds the URL and words the close codes', () => {
    expect(consoleStreamUrl('a b', true)).toMatch(/\/v1\/instances\/a%20b\/console\/stream\?force=true$/);
    expect(closeReason(1001, '', true)).toBe('sovd is shutting down');
    expect(closeReason(1011, '', true)).toBe('the host failed');
    expect(closeReason(4409, '', true)).toBe('another session holds the console');
    expect(closeReason(1006, '', true)).toBe('the connection was lost');
    expect(closeReason(1011, 'libvirt: stream error', true)).toBe('libvirt: stream error');
  });
});
