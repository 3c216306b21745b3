import type { ChartSpec } from "../../server/usage/chart-spec.ts";

/**
 * A chart placeholder: the data rides in a data- attribute (escaped like any attribute, so a
 * model named </script><img …> is inert) and app.js draws it with Chart.js on load and after
 * htmx swaps. The table next to each chart carries the same numbers for screen readers.
 */
export function Chart({ spec, label, caption }: { spec: ChartSpec; label: string; caption?: string }) {
  return (
    <figure class="chart">
      <div class="canvas-box">
        <canvas data-chart={JSON.stringify(spec)} role="img" aria-label={label} />
      </div>
      {caption ? <figcaption>{caption}</figcaption> : null}
    </figure>
  );
}
