// Hosts: not built yet (issue 17 assigns it).
export default function Hosts() {
  return (
    <section>
      <h1>Hosts</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
