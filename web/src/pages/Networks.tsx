// Networks: not built yet (issue 17 assigns it).
export default function Networks() {
  return (
    <section>
      <h1>Networks</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
