// VolumeDetail: not built yet (issue 17 assigns it).
export default function VolumeDetail() {
  return (
    <section>
      <h1>VolumeDetail</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
