// SerialConsole: the instance's serial console in an xterm.js terminal over the WebSocket
// GET /v1/instances/{id}/console/stream (not built yet: issue 17 assigns it).
export default function SerialConsole({ instanceId }: { instanceId: string }) {
  return <p class="muted">The serial console of {instanceId} is not built yet.</p>;
}
