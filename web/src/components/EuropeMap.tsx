// A map of Europe with a dot per region holding data: placed at the region's country, sized by
// how much is there, coloured by jurisdiction and labelled in text (never colour alone). The
// outlines are paths projected at build time (lib/europe-map.gen.ts), so no map library ships.
// The same figures are in a table next to it (the accessible form); the map is a picture.
import { COUNTRIES, COUNTRY_NAMES, HEIGHT, POINTS, WIDTH } from '../lib/europe-map.gen';
import './EuropeMap.css';

export interface MapPlace {
  code: string;
  name: string;
  country: string;
  jurisdiction: string;
  total: number;
  /** "3 instances, 1 image" */
  summary: string;
}

export function countryName(a2: string): string {
  return COUNTRY_NAMES[a2] ?? a2;
}

export function jurisdictionClass(j: string): 'eu' | 'eea' | 'other' {
  return j === 'EU' ? 'eu' : j === 'EEA' ? 'eea' : 'other';
}

export const JURISDICTION_TEXT: Record<string, string> = {
  EU: 'EU member state',
  EEA: 'EEA (Iceland, Liechtenstein, Norway)',
  OTHER: 'Outside the EU and the EEA',
};

/** Where each place's dot goes: its country's point, spread out when a country has several. */
export function placeDots(places: MapPlace[]): { place: MapPlace; x: number; y: number }[] {
  const byCountry = new Map<string, MapPlace[]>();
  for (const p of places) {
    if (!POINTS[p.country]) continue;
    byCountry.set(p.country, [...(byCountry.get(p.country) ?? []), p]);
  }
  const out: { place: MapPlace; x: number; y: number }[] = [];
  for (const [c, ps] of byCountry) {
    const [cx, cy] = POINTS[c];
    ps.forEach((place, i) => {
      if (ps.length === 1) return out.push({ place, x: cx, y: cy });
      const a = (2 * Math.PI * i) / ps.length - Math.PI / 2;
      out.push({ place, x: cx + 22 * Math.cos(a), y: cy + 22 * Math.sin(a) });
    });
  }
  return out;
}

/** Places whose country lies outside the map's frame (listed in the table only). */
export function offMap(places: MapPlace[]): MapPlace[] {
  return places.filter((p) => !POINTS[p.country]);
}

export function EuropeMap({ places, title }: { places: MapPlace[]; title: string }) {
  const dots = placeDots(places);
  const max = Math.max(1, ...places.map((p) => p.total));
  return (
    <figure class="europe-map">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby="europe-map-title europe-map-desc" focusable="false">
        <title id="europe-map-title">{title}</title>
        <desc id="europe-map-desc">
          {dots.length === 0
            ? 'No region holds data yet.'
            : dots.map((d) => `${d.place.code} in ${countryName(d.place.country)} (${d.place.jurisdiction}): ${d.place.summary}`).join('; ')}
        </desc>
        <rect class="sea" x="0" y="0" width={WIDTH} height={HEIGHT} />
        <g class="countries">
          {COUNTRIES.map((c) => (
            <path key={c.name} d={c.d} class={`land j-${jurisdictionClass(c.j)}`} data-country={c.a2 ?? undefined} />
          ))}
        </g>
        <g class="dots">
          {dots.map(({ place, x, y }) => {
            const r = 8 + 10 * Math.sqrt(place.total / max);
            const cls = jurisdictionClass(place.jurisdiction);
            return (
              <g key={place.code} class={`dot dot-${cls}`} data-region={place.code}>
                <title>{`${place.code} (${place.name}), ${countryName(place.country)}, ${JURISDICTION_TEXT[place.jurisdiction] ?? place.jurisdiction}: ${place.summary}`}</title>
                {cls === 'eu' ? (
                  <circle cx={x} cy={y} r={r} />
                ) : cls === 'eea' ? (
                  <rect x={x - r} y={y - r} width={2 * r} height={2 * r} rx={2} />
                ) : (
                  <polygon points={`${x},${y - r * 1.2} ${x + r * 1.1},${y + r * 0.8} ${x - r * 1.1},${y + r * 0.8}`} />
                )}
                <text x={x + r + 4} y={y - 1} class="dot-label">
                  {place.code}
                </text>
                <text x={x + r + 4} y={y + 16} class="dot-count">
                  {place.total}
                </text>
              </g>
            );
          })}
        </g>
      </svg>
      <figcaption>
        <ul class="legend" aria-label="Legend">
          <li>
            <svg viewBox="0 0 16 16" aria-hidden="true" class="key dot-eu">
              <circle cx="8" cy="8" r="6" />
            </svg>
            Circle: a region in an {JURISDICTION_TEXT.EU}
          </li>
          <li>
            <svg viewBox="0 0 16 16" aria-hidden="true" class="key dot-eea">
              <rect x="2" y="2" width="12" height="12" rx="2" />
            </svg>
            Square: a region in the {JURISDICTION_TEXT.EEA}
          </li>
          <li>
            <svg viewBox="0 0 16 16" aria-hidden="true" class="key dot-other">
              <polygon points="8,1 15,14 1,14" />
            </svg>
            Triangle: a region outside the EU and the EEA
          </li>
          <li>The number by a region is how many resources keep their data there; larger marks hold more.</li>
        </ul>
      </figcaption>
    </figure>
  );
}
