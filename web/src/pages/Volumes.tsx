// Volumes: not built yet (issue 17 assigns it).
export default function Volumes() {
  return (
    <section>
      <h1>Volumes</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
