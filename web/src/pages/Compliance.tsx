// Compliance: not built yet (issue 17 assigns it).
export default function Compliance() {
  return (
    <section>
      <h1>Compliance</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
