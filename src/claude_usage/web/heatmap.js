// The day x hour heatmap of cost: cost reads as intensity (the most expensive hour is the most
// intense colour), and an hour without usage is an empty cell, not the lowest colour.

import { chart } from "./charts.js";
import { narrow } from "./common.js";

const dark = () => window.matchMedia("(prefers-color-scheme: dark)").matches;

/** The colour scale from the cheapest to the most expensive hour: light to dark on a light page,
 * dim to bright on a dark one (intensity either way). */
export function heatScale() {
  return dark()
    ? [[0, "#4b2a1b"], [0.35, "#8f4325"], [0.7, "#d9703f"], [1, "#ffc09a"]]
    : [[0, "#fbe2d2"], [0.35, "#f0a077"], [0.7, "#c9562b"], [1, "#6e200a"]];
}

/** A heatmap of ``cells`` ([{date, hour, costUsd, requests, totalTokens}]) with one row per day
 * and the hours 0-23 as columns; returns [node, tools] like :func:`chart`. */
export function heatmapChart(cells) {
  const days = [...new Set(cells.map((c) => c.date))].sort();
  const byKey = new Map(cells.map((c) => [`${c.date} ${c.hour}`, c]));
  const hours = Array.from({ length: 24 }, (_, h) => h);
  const z = days.map((day) => hours.map((h) => {
    const cell = byKey.get(`${day} ${h}`);
    return cell ? cell.costUsd ?? 0 : null;
  }));
  const text = days.map((day) => hours.map((h) => {
    const cell = byKey.get(`${day} ${h}`);
    return cell ? `${cell.requests.toLocaleString()} requests · ${cell.totalTokens.toLocaleString()} tokens` : "no usage";
  }));
  const highest = Math.max(0, ...z.flat().filter((v) => v != null));
  const phone = narrow();
  const rowHeight = phone ? 12 : 16;
  const empty = getComputedStyle(document.documentElement).getPropertyValue("--heat-empty").trim() || "rgba(0,0,0,0.04)";
  return chart("heatmap", [{
    type: "heatmap", x: hours, y: days, z, text, zmin: 0, zmax: highest || 1, colorscale: heatScale(), xgap: 1, ygap: 1,
    hoverongaps: false, hovertemplate: "%{y} %{x}:00<br>$%{z:.2f}<br>%{text}<extra></extra>",
    colorbar: phone
      ? { title: { text: "USD", side: "top" }, orientation: "h", thickness: 10, y: -0.02, yanchor: "top", len: 1 }
      : { title: { text: "USD" }, thickness: 12 },
  }], {
    plot_bgcolor: empty,
    xaxis: { range: [-0.5, 23.5], tickmode: "array", tickvals: phone ? [0, 3, 6, 9, 12, 15, 18, 21] : hours,
      ticktext: (phone ? [0, 3, 6, 9, 12, 15, 18, 21] : hours).map(String), side: "top", showgrid: false,
      title: { text: "hour of day", standoff: 4 } },
    yaxis: { type: "category", automargin: true, showgrid: false, autorange: "reversed", nticks: phone ? 12 : 30 },
    margin: { l: 80, r: phone ? 8 : 16, t: 56, b: phone ? 64 : 16 },
  }, Math.max(phone ? 260 : 320, days.length * rowHeight + (phone ? 140 : 100)));
}
