// tollbooth's one page script (served as /static/app-<hash>.js, no build step). It only
// enhances server-rendered HTML: draws charts from data-chart attributes, wires "copy" buttons
// and tidies htmx GET query strings (times are rendered by the server, in the page's zone).
// Everything runs on load and again after each htmx swap, and never builds HTML from data
// (labels go to the canvas).

const css = () => getComputedStyle(document.documentElement);
const colour = (index) => css().getPropertyValue(index >= 0 ? `--mc-${index}` : "--mc-none").trim() || "#888";

const formats = {
  usd: new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", maximumSignificantDigits: 4 }),
  tokens: new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 }),
  count: new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 }),
  ms: { format: (v) => (v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`) },
};
const axisFormats = {
  usd: new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", notation: "compact", maximumSignificantDigits: 3 }),
  tokens: formats.tokens,
  count: new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 }),
  ms: formats.ms,
};

function drawChart(canvas) {
  if (canvas.dataset.drawn || !window.Chart) return;
  let spec;
  try {
    spec = JSON.parse(canvas.dataset.chart);
  } catch {
    return;
  }
  canvas.dataset.drawn = "1";
  const style = css();
  const text = style.getPropertyValue("--pico-muted-color").trim();
  const grid = style.getPropertyValue("--pico-muted-border-color").trim();
  const fmt = formats[spec.unit] ?? formats.count;
  const axisFmt = axisFormats[spec.unit] ?? axisFormats.count;
  const line = spec.type === "line";
  const narrow = canvas.parentElement.clientWidth < 560;
  // Horizontal bars: categories on y, values on x (and the value axis is the one to format).
  const valueAxis = { stacked: !!spec.stacked, beginAtZero: true, ticks: { color: text, callback: (v) => axisFmt.format(v) }, grid: { color: grid } };
  // Horizontal bars get a row of height per label (below), so every label fits: never skip one
  // (on a phone Chart.js would otherwise drop some team or model names).
  const categoryAxis = { stacked: !!spec.stacked, ticks: { color: text, maxRotation: 0, autoSkipPadding: 12, autoSkip: !spec.horizontal }, grid: { display: false } };
  if (spec.horizontal) {
    // Each bar needs room for its label: grow the box with the number of categories (CSSOM,
    // which the CSP allows, unlike a style attribute in the markup).
    canvas.parentElement.style.height = `${Math.max(12, spec.labels.length * 2.1 + 4)}rem`;
  }
  new window.Chart(canvas, {
    type: spec.type,
    data: {
      labels: spec.labels,
      datasets: spec.series.map((s) => ({
        label: s.label,
        data: s.data,
        backgroundColor: s.colors ? s.colors.map(colour) : colour(s.color),
        borderColor: colour(s.color),
        borderWidth: line ? 2 : 0,
        pointRadius: line ? 0 : undefined,
        tension: 0.25,
        maxBarThickness: 48,
      })),
    },
    options: {
      // Drawn at once: nothing to watch animate on a dashboard, and a settled canvas right away.
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: spec.horizontal ? "y" : "x",
      interaction: { mode: "index", intersect: false },
      scales: spec.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
      plugins: {
        legend: {
          // One series with per-bar colours needs no legend: the axis names the bars.
          display: spec.series.length > 1 || !spec.series[0]?.colors,
          position: "bottom",
          labels: { color: text, boxWidth: narrow ? 8 : 12, boxHeight: narrow ? 8 : 12, font: { size: narrow ? 10 : 12 } },
        },
        // Canvas tooltips with plain-text callbacks: a model called <img onerror=…> stays text.
        tooltip: {
          callbacks: {
            label: (ctx) => {
              const v = spec.horizontal ? ctx.parsed.x : ctx.parsed.y;
              return `${ctx.dataset.label}: ${v === null ? "–" : fmt.format(v)}`;
            },
          },
          filter: (item) => (spec.horizontal ? item.parsed.x : item.parsed.y) !== 0,
        },
      },
    },
  });
}

function wireCopyButtons(root) {
  for (const button of root.querySelectorAll("button[data-copy]")) {
    if (button.dataset.wired) continue;
    button.dataset.wired = "1";
    button.addEventListener("click", async () => {
      const source = document.querySelector(button.dataset.copy);
      if (!source) return;
      const label = button.textContent;
      try {
        await navigator.clipboard.writeText(source.textContent);
        button.textContent = "Copied";
      } catch {
        // No clipboard permission (e.g. plain http on a LAN address): select it for Ctrl+C.
        getSelection().selectAllChildren(source);
        button.textContent = "Press Ctrl+C";
      }
      setTimeout(() => (button.textContent = label), 1500);
    });
  }
}

function enhance(root) {
  for (const canvas of root.querySelectorAll("canvas[data-chart]")) drawChart(canvas);
  wireCopyButtons(root);
}

// Empty form fields would make shared URLs noisy (?status=&model=&…); the server treats missing
// and empty alike, so drop them before htmx builds the GET URL (and the pushed history entry).
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.verb !== "get") return;
  const params = event.detail.parameters;
  for (const key of [...params.keys()]) if (params.get(key) === "") params.delete(key);
  // A checkbox after its hidden "off" field sends both (compare=0&compare=1); the last one is
  // what the server reads, so keep only that one.
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    if (values.length > 1) params.set(key, values.at(-1));
  }
  // Custom dates are prefilled with the period shown; they mean something only for "custom".
  const form = event.detail.elt;
  if (form instanceof HTMLFormElement && params.has("period") && params.get("period") !== "custom") {
    for (const input of form.querySelectorAll("[data-custom-period]")) params.delete(input.name);
  }
});

// Picking a custom date means "custom period"; capture phase, so the select is set before the
// form's own change handler (htmx) sends the request.
document.addEventListener(
  "change",
  (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-custom-period")) return;
    const period = input.form?.elements.namedItem("period");
    if (period instanceof HTMLSelectElement) period.value = "custom";
  },
  true,
);

document.addEventListener("htmx:afterSettle", (event) => enhance(event.detail.elt ?? document));

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => enhance(document));
else enhance(document);
