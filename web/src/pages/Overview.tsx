// Overview: not built yet (issue 17 assigns it).
export default function Overview() {
  return (
    <section>
      <h1>Overview</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
