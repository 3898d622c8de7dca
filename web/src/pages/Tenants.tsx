// Tenants: not built yet (issue 17 assigns it).
export default function Tenants() {
  return (
    <section>
      <h1>Tenants</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
