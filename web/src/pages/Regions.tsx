// Regions: not built yet (issue 17 assigns it).
export default function Regions() {
  return (
    <section>
      <h1>Regions</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
