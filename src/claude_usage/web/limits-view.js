// The Limits view: the official 5-hour and weekly use Claude Code passed to the status line
// (recorded by `claude-usage statusline`), our estimate from the transcripts beside it, their
// history and the limit hits. Also the official bars of the Summary's active-block panel.

import { cards, countdown, el, emptyState, fmt, panel, segmented, table } from "./ui.js";
import { chart } from "./charts.js";
import { LEGEND_TOP } from "./common.js";

const SPANS = [["24", "24 hours"], ["168", "7 days"], ["720", "30 days"]];
/** What one official window says: its percentage and when it resets, or that it has reset. */
function windowText(window) {
  if (window.hasReset) return [`${fmt.number(window.usedPercentage)}% before its reset at ${fmt.time(window.resetsAt)}`];
  if (!window.resetsAt) return [`${fmt.number(window.usedPercentage)}% used`];
  return [`${fmt.number(window.usedPercentage)}% used · resets in `, countdown(window.resetsAt, "countdown"), ` (${fmt.time(window.resetsAt)})`];
}

/** A bar of one official window (``fiveHour`` or ``sevenDay``); a window that has reset since
 * it was observed shows an empty bar. */
function officialBar(label, window, testid) {
  const used = window.hasReset ? 0 : Math.min(100, window.usedPercentage);
  return el("div", { class: `limit${used >= 80 ? " warning" : ""}`, "data-testid": testid },
    el("div", { class: "limit-text" }, el("strong", {}, label), " ", ...windowText(window)),
    el("div", { class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(used), "aria-label": `${label} used` },
      el("div", { class: "used", style: `width:${used}%` })));
}

/** Our estimate of the active block as a bar: its tokens as a share of the largest past block. */
function estimateBar(estimate) {
  if (!estimate) return el("p", { class: "muted", "data-testid": "limits-estimate" }, "Our estimate: no active 5-hour block in the transcripts.");
  if (estimate.percentUsed == null) {
    return el("p", { class: "muted", "data-testid": "limits-estimate" }, `Our estimate: ${fmt.tokens(estimate.totalTokens)} tokens in the active block; no past block yet to compare with.`);
  }
  const used = Math.min(100, estimate.percentUsed);
  return el("div", { class: "limit estimate", "data-testid": "limits-estimate" },
    el("div", { class: "limit-text" }, el("strong", {}, "Our 5-hour estimate"),
      ` ${fmt.number(estimate.percentUsed)}% of ${fmt.tokens(estimate.limitTokens)} tokens (the largest past block) · ${fmt.cost(estimate.costUsd)} · block resets in `,
      countdown(estimate.end, "estimate-countdown")),
    el("div", { class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(used), "aria-label": "Our 5-hour estimate" },
      el("div", { class: "used", style: `width:${used}%` })));
}

/** The official bars (and our estimate beside them): for the Limits view and the Summary. */
export function officialBars(official, estimate) {
  const box = el("div", { class: "official", "data-testid": "official-limits" });
  if (official?.fiveHour) box.append(officialBar("Official 5-hour", official.fiveHour, "official-five-hour"));
  if (official?.sevenDay) box.append(officialBar("Official weekly", official.sevenDay, "official-seven-day"));
  if (estimate !== undefined) box.append(estimateBar(estimate));
  if (official) box.append(el("p", { class: "muted small" }, `As Claude Code reported it to the status line at ${fmt.time(official.observedAt)}.`));
  return box;
}

/** How to have the official limits recorded. */
function howToEnable() {
  return el("div", { class: "empty", "data-testid": "limits-empty" },
    el("p", {}, el("strong", {}, "No official limits recorded yet.")),
    el("p", {}, "Claude Code passes its status-line command the official 5-hour and weekly use (for Claude.ai Pro and Max plans, after a session's first reply). Make ",
      el("code", {}, "claude-usage statusline"), " that command and every observation is kept here. Add to ", el("code", {}, "~/.claude/settings.json")),
    el("pre", { class: "snippet" }, '"statusLine": {"type": "command", "command": "claude-usage statusline"}'),
    el("p", {}, "Our own estimate from the transcripts and the limit messages they hold are shown below meanwhile."));
}

/** The official percentages over the span asked for (``since``-``until``, the whole span on the
 * time axis, so that a few observations are not stretched over it). */
function historyChart(history, since, until) {
  const points = history.points;
  if (!points.length) return [emptyState("No observation in this span."), []];
  const x = points.map((p) => p.at);
  const traces = [
    { type: "scatter", mode: "lines+markers", name: "5-hour %", x, y: points.map((p) => p.fiveHourPercent), connectgaps: false, cliponaxis: false, marker: { size: 6 } },
    { type: "scatter", mode: "lines+markers", name: "Weekly %", x, y: points.map((p) => p.sevenDayPercent), connectgaps: false, cliponaxis: false, marker: { size: 6 } },
  ];
  const top = Math.max(100, ...points.flatMap((p) => [p.fiveHourPercent ?? 0, p.sevenDayPercent ?? 0]));
  return chart("limits-history", traces, {
    yaxis: { title: { text: "% of the limit" }, range: [0, top * 1.05], ticksuffix: "%" },
    xaxis: { type: "date", range: [since, until] },
    legend: LEGEND_TOP,
    shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: 100, y1: 100, line: { dash: "dot", width: 1, color: "#b42318" } }],
  }, 280);
}

const HIT_COLUMNS = [
  { key: "at", label: "When", format: (r) => fmt.time(r.at), sort: (r) => r.at },
  { key: "window", label: "Limit", format: (r) => ({ fiveHour: "5-hour", sevenDay: "Weekly" }[r.window] || "usage limit"), csv: (r) => r.window || "" },
  { key: "source", label: "Seen in", optional: true, format: (r) => (r.source === "transcript" ? "transcript message" : `status line (${fmt.number(r.usedPercentage)}%)`) },
  { key: "resetsAt", label: "Resets", format: (r) => fmt.time(r.resetsAt), sort: (r) => r.resetsAt || "" },
];

export async function limitsView({ api, params, setParams }) {
  const hours = SPANS.some(([value]) => value === params.hours) ? params.hours : "24";
  const dated = Boolean(params.startDate || params.endDate);
  const data = await api("/api/v2/limits", dated ? {} : { hours });
  const official = data.official;
  const content = el("div", { "data-testid": "limits-view" }, el("h1", {}, "Limits"));
  if (official) {
    const windowCard = (label, window, testid) => [label, window ? `${fmt.number(window.usedPercentage)}%` : "–",
      window ? (window.hasReset ? "reset since" : window.resetsAt ? ["resets in ", countdown(window.resetsAt, `${testid}-countdown`)] : null) : "not reported",
      { "data-testid": testid }];
    content.append(cards([
      windowCard("Official 5-hour", official.fiveHour, "card-five-hour"),
      windowCard("Official weekly", official.sevenDay, "card-seven-day"),
      ["Our 5-hour estimate", data.estimate?.percentUsed != null ? `${fmt.number(data.estimate.percentUsed)}%` : "–",
        data.estimate ? `${fmt.cost(data.estimate.costUsd)} in the active block` : "no active block", { "data-testid": "card-estimate" }],
      ["Context", official.context ? `${fmt.number(official.context.usedPercentage)}%` : "–",
        official.context?.windowSize ? `of ${fmt.tokens(official.context.windowSize)} tokens` : null],
    ]));
  } else {
    content.append(howToEnable());
  }
  content.append(panel("Now", officialBars(official, data.estimate)));
  const switcher = dated ? [] : [segmented(SPANS, hours, (value) => setParams({ hours: value }), "Span")];
  const [plot, plotTools] = historyChart(data.history, data.since, data.until);
  content.append(panel("History of the official use", plot, [...switcher, ...plotTools]));
  const hitTools = [];
  content.append(panel("Limit hits", data.hits.length
    ? table({ columns: HIT_COLUMNS, rows: [...data.hits].reverse(), csvName: "limit-hits", tools: hitTools, label: "limit-hits" })
    : emptyState("No limit hit in this span: no usage-limit message in the transcripts, no observation at 100%."), hitTools));
  return content;
}
