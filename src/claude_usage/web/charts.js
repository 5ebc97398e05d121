// Charts with plotly.js (served locally from the plotly Python package), themed from CSS.

import { el } from "./ui.js";

function theme() {
  const css = getComputedStyle(document.documentElement);
  const get = (name) => css.getPropertyValue(name).trim();
  return { text: get("--text"), muted: get("--muted"), line: get("--line"), accent: get("--accent"), accent2: get("--accent-2") };
}

// Charts waiting for plotly.js. Its 4.8 MB take a second or two to compile on a slow machine: it is
// loaded once the first view has been painted (loadPlotly), so that it never delays the numbers.
const waiting = new Set();
let requested = false;

/** Load plotly.js (once); the charts waiting for it are drawn when it is in. */
export function loadPlotly() {
  if (requested) return;
  requested = true;
  const script = document.createElement("script");
  script.src = "/assets/vendor/plotly.min.js";
  script.addEventListener("load", () => {
    for (const draw of waiting) draw();
    waiting.clear();
  });
  document.head.append(script);
}

/** Run ``draw`` now if plotly.js is loaded, else as soon as it is. */
function whenPlotly(draw) {
  if (window.Plotly) draw();
  else waiting.add(draw);
}

export const palette = ["#c96442", "#3b6ea5", "#5a9e6f", "#b58a2e", "#8d5fb0", "#c05780", "#4f9fae", "#7d7a70", "#d08c60", "#6a8caf"];

/** An x axis of local days ("YYYY-MM-DD"): whole days only, so that a short range does not
 * zoom into hours and fractions of a second. */
export function dayAxis(days) {
  return { type: "date", hoverformat: "%Y-%m-%d", ...(days.length < 10 ? { dtick: 86400000, tickformat: "%b %d\n%Y" } : {}) };
}

/** ``rows`` keyed by local ``date`` ("YYYY-MM-DD") as {x, y} of ``value(row)`` for every day
 * from the first to the last, 0 on days without usage (so a line does not run across them);
 * spans over three years keep only the days given. */
export function everyDay(rows, value) {
  const byDate = new Map(rows.map((row) => [row.date, value(row)]));
  if (!rows.length) return { x: [], y: [] };
  const first = Date.parse(`${rows[0].date}T00:00:00Z`);
  const last = Date.parse(`${rows[rows.length - 1].date}T00:00:00Z`);
  if (!(last >= first) || last - first > 1100 * 86400000) return { x: [...byDate.keys()], y: [...byDate.values()] };
  const x = [];
  for (let t = first; t <= last; t += 86400000) x.push(new Date(t).toISOString().slice(0, 10));
  return { x, y: x.map((day) => byDate.get(day) ?? 0) };
}

/**
 * A chart panel body: ``traces`` and ``layout`` for Plotly; ``name`` is the PNG file name.
 * Returns [node, tools] where tools holds the "Download PNG" button.
 */
export function chart(name, traces, layout = {}, height) {
  const node = el("div", { class: "chart", role: "img", "aria-label": layout.title || name });
  if (height) node.style.height = `${height}px`;
  const t = theme();
  const base = {
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: t.text, family: "system-ui, sans-serif", size: 12 },
    margin: { l: 56, r: 16, t: 16, b: 48 },
    xaxis: { gridcolor: t.line, linecolor: t.line, zerolinecolor: t.line, automargin: true },
    yaxis: { gridcolor: t.line, linecolor: t.line, zerolinecolor: t.line, automargin: true, rangemode: "tozero" },
    legend: { orientation: "h", y: -0.2 },
    colorway: palette,
    hoverlabel: { namelength: -1 },
  };
  const merged = { ...base, ...layout, xaxis: { ...base.xaxis, ...(layout.xaxis || {}) }, yaxis: { ...base.yaxis, ...(layout.yaxis || {}) } };
  if (layout.yaxis2) {
    merged.yaxis2 = { gridcolor: t.line, linecolor: t.line, automargin: true, rangemode: "tozero", ...layout.yaxis2 };
    merged.margin = { ...base.margin, r: 64, ...(layout.margin || {}) };
  }
  const draw = () => {
    if (!node.isConnected) return;  // the view was replaced meanwhile
    window.Plotly.react(node, traces, merged, { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] });
  };
  // Draw once the node is in the page (Plotly measures it) and plotly.js is loaded.
  requestAnimationFrame(() => whenPlotly(draw));
  const png = el("button", {
    type: "button",
    onclick: async () => {
      if (!window.Plotly) return;
      const url = await window.Plotly.toImage(node, { format: "png", width: 1200, height: 600 });
      const link = el("a", { href: url, download: `${name}.png` });
      document.body.append(link);
      link.click();
      link.remove();
    },
  }, "Download PNG");
  return [node, [png]];
}
