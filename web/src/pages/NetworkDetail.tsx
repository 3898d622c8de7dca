// NetworkDetail: not built yet (issue 17 assigns it).
export default function NetworkDetail() {
  return (
    <section>
      <h1>NetworkDetail</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
