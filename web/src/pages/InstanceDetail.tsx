// InstanceDetail: not built yet (issue 17 assigns it).
export default function InstanceDetail() {
  return (
    <section>
      <h1>InstanceDetail</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
