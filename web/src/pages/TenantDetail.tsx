// TenantDetail: not built yet (issue 17 assigns it).
export default function TenantDetail() {
  return (
    <section>
      <h1>TenantDetail</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
