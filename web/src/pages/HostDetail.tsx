// HostDetail: not built yet (issue 17 assigns it).
export default function HostDetail() {
  return (
    <section>
      <h1>HostDetail</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
