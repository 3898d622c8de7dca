// Users: not built yet (issue 17 assigns it).
export default function Users() {
  return (
    <section>
      <h1>Users</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
