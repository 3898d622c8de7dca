// Instances: not built yet (issue 17 assigns it).
export default function Instances() {
  return (
    <section>
      <h1>Instances</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
