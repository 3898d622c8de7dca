// Audit: not built yet (issue 17 assigns it).
export default function Audit() {
  return (
    <section>
      <h1>Audit</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
