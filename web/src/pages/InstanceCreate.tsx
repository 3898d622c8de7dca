// InstanceCreate: not built yet (issue 17 assigns it).
export default function InstanceCreate() {
  return (
    <section>
      <h1>InstanceCreate</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
