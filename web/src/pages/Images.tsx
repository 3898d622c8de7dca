// Images: not built yet (issue 17 assigns it).
export default function Images() {
  return (
    <section>
      <h1>Images</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
