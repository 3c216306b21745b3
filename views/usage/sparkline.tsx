/**
 * A tiny bar chart drawn server-side as SVG (geometry attributes, no style attribute), so it
 * needs no script and is there even before app.js runs. Colour comes from CSS (currentColor).
 */
export function Sparkline({ values, label }: { values: number[]; label: string }) {
  const max = Math.max(1, ...values);
  const width = values.length * 3;
  return (
    <svg class="spark" viewBox={`0 0 ${width} 20`} preserveAspectRatio="none" role="img" aria-label={label}>
      {values.map((v, i) => {
        const h = v === 0 ? 0 : Math.max(1.5, (v / max) * 20);
        return <rect x={i * 3} y={20 - h} width={2.2} height={h} />;
      })}
    </svg>
  );
}
