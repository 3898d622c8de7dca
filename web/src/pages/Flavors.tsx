// Flavors: not built yet (issue 17 assigns it).
export default function Flavors() {
  return (
    <section>
      <h1>Flavors</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
