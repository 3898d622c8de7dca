export function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>There is no such page, or nothing by that id that you may see.</p>
      <p>
        <a href="/console/">Back to the overview</a>
      </p>
    </section>
  );
}

export default NotFound;
