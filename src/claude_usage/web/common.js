// What the views share: the usage columns of tables, totals rows, cost cells and cards, the
// hour and cost-over-time charts.

import { breakable, cards, el, fmt, plural, segmented } from "./ui.js";
import { chart, dayAxis, everyDay, palette } from "./charts.js";

/** Whether the page is phone-sized (the layout under 600 px). */
export const narrow = () => window.matchMedia("(max-width: 600px)").matches;

// The token kinds are hidden on phones (under 600 px), where the totals and cost must fit.
// A row without requests (an hour of the day without usage) shows "–" in every number column.
const count = (key) => (r) => (r.requests === 0 ? "–" : fmt.tokens(r[key]));
export const TOKEN_COLUMNS = [
  { key: "inputTokens", label: "Input", num: true, optional: true, format: count("inputTokens") },
  { key: "outputTokens", label: "Output", num: true, optional: true, format: count("outputTokens") },
  { key: "cacheCreationTokens", label: "Cache create", num: true, optional: true, format: count("cacheCreationTokens") },
  { key: "cacheReadTokens", label: "Cache read", num: true, optional: true, format: count("cacheReadTokens") },
  { key: "totalTokens", label: "Total tokens", num: true, format: count("totalTokens") },
];

/** A cost cell: 2 decimals, "n/a" when unknown, "*" when unpriced requests are left out. */
export function costCell(row) {
  if (row.requests === 0) return "–";
  const text = fmt.cost(row.costUsd);
  return row.unpricedRequests && row.costUsd != null
    ? el("span", { class: "unpriced", title: `${plural(row.unpricedRequests, "request")} without a price left out` }, `${text}*`)
    : text;
}

export const COST = { key: "costUsd", label: "Cost", num: true, cost: true, format: costCell, sort: (r) => r.costUsd ?? -1 };
export const REQUESTS = { key: "requests", label: "Requests", num: true, format: count("requests") };
export const USAGE_COLUMNS = [REQUESTS, ...TOKEN_COLUMNS, COST];

function sum(rows, key) {
  return rows.reduce((total, row) => total + (row[key] || 0), 0);
}

/** A totals row for a table of usage rows (``label`` in the ``keyName`` column). */
export function totalsRow(rows, label, keyName) {
  const total = { [keyName]: label, total: true, unpricedRequests: sum(rows, "unpricedRequests") };
  for (const key of ["requests", "inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens", "costUsd"]) {
    total[key] = sum(rows, key);
  }
  return total;
}

export function shortModel(model) {
  return model.replace(/^claude-/, "").replace(/-\d{8}$/, "");
}

/** The last part of a path ("app" for "/home/dev/app"). */
export function lastPart(path) {
  const parts = String(path || "").split(/[\\/]+/).filter(Boolean);
  return parts.length ? parts[parts.length - 1] : path || "";
}

/** The sub-line of a cost card: "priced requests only" when unpriced requests are left out. */
export function pricedOnly(unpriced) {
  return unpriced ? "priced requests only" : null;
}

/** Cost, tokens, cache and requests of a usage row as cards, and ``extra`` cards. */
export function usageCards(row, extra = []) {
  return cards([
    ["Cost", fmt.cost(row.costUsd), pricedOnly(row.unpricedRequests)],
    ["Tokens", fmt.tokens(row.totalTokens), `${fmt.tokens(row.inputTokens)} in · ${fmt.tokens(row.outputTokens)} out`],
    ["Cache", fmt.tokens(row.cacheReadTokens + row.cacheCreationTokens), `${fmt.tokens(row.cacheCreationTokens)} written · ${fmt.tokens(row.cacheReadTokens)} read`],
    ["Requests", fmt.tokens(row.requests)],
    ...extra,
  ]);
}

export function link(text, onclick) {
  return el("a", { href: "#", onclick: (e) => { e.preventDefault(); onclick(); } }, text);
}

/** A path or key that wraps at its separators, never inside a word. */
export function pathText(value) {
  return el("span", { class: "path" }, breakable(value));
}

export const hh = (h) => `${String(h).padStart(2, "0")}:00`;

/** The hour column of an hourly table: "08:00", and "Total" in the totals row. */
export const HOUR = { key: "hour", label: "Hour", format: (r) => (r.total ? "Total" : hh(r.hour)) };

/** The average cost of a request of an hour row or totals row (priced requests only). */
export const COST_PER_REQUEST = {
  key: "avgCostPerRequest", label: "Cost / request", num: true, optional: true,
  format: (r) => {
    if (!r.requests) return "–";
    const priced = r.requests - (r.unpricedRequests || 0);
    return fmt.costSmall(r.total ? (priced ? r.costUsd / priced : null) : r.avgCostPerRequest);
  },
};

/** An x axis of the hours 0-23; fewer labels on a phone, so that they never overlap. */
export function hourAxis(title = true) {
  return { range: [-0.5, 23.5], tick0: 0, dtick: narrow() ? 3 : 1, ...(title ? { title: { text: "hour" } } : {}) };
}

// The legend above the plot (never in the way of an axis title), on one line.
export const LEGEND_TOP = { orientation: "h", x: 0, xanchor: "left", y: 1.02, yanchor: "bottom" };
export const COUNT_AXIS = { overlaying: "y", side: "right", showgrid: false, tickmode: "auto", nticks: 6, tickformat: "~s" };
export const DAY_BAR_MS = 0.8 * 86400000;  // a day's bar covers most of its own day, never the next ones

/**
 * A panel body with cost per day, as one series or stacked by model or by project (a switch
 * that keeps its choice in the URL as ``by``). ``daily`` is the /api/v2/daily answer.
 */
export async function costOverTime({ api, params, setParams }, daily, name, tokens = false) {
  const by = ["model", "project"].includes(params.by) ? params.by : "total";
  const switcher = segmented([["total", "Total"], ["model", "By model"], ["project", "By project"]], by,
    (value) => setParams({ by: value === "total" ? "" : value }), "Cost per day");
  const rows = daily.data;
  let traces;
  if (by === "total") {
    traces = [{ type: "bar", x: rows.map((r) => r.date), y: rows.map((r) => r.costUsd ?? 0), name: "Cost (USD)", width: DAY_BAR_MS,
      marker: { color: palette[0] }, hovertemplate: "%{x}<br>$%{y:.2f}<extra></extra>" }];
    if (tokens) {
      traces.push({ type: "scatter", mode: "lines", ...everyDay(rows, (r) => r.totalTokens), name: "Tokens", yaxis: "y2",
        line: { color: palette[1] }, hovertemplate: "%{x}<br>%{y:,} tokens<extra></extra>" });
    }
  } else {
    const series = await api("/api/v2/cost-series", { by });
    traces = series.series.map((s, at) => ({
      type: "bar", x: series.days, y: s.costUsd.map((v) => v ?? 0), name: by === "model" ? shortModel(s.key) : lastPart(s.label),
      width: DAY_BAR_MS, marker: { color: palette[at % palette.length] },
      hovertemplate: `${s.label}<br>%{x}: $%{y:.2f}<extra></extra>`,
    }));
  }
  const layout = { barmode: "stack", xaxis: dayAxis(rows), yaxis: { title: { text: "USD" } }, legend: LEGEND_TOP,
    showlegend: by !== "total" || tokens, margin: { l: 56, r: tokens && by === "total" ? 64 : 16, t: 40, b: 40 } };
  if (tokens && by === "total") layout.yaxis2 = { ...COUNT_AXIS, title: { text: "tokens" } };
  const [graph, graphTools] = chart(by === "total" ? name : `${name}-by-${by}`, traces, layout);
  return [graph, [switcher, ...graphTools]];
}
