// A table that may scroll sideways on a narrow screen: the scrolling box is focusable and
// named, so a keyboard can scroll it too (axe: scrollable-region-focusable).
import type { ComponentChildren } from 'preact';

export function ScrollRegion({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
