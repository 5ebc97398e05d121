// The Cache view: prompt-cache hit ratio over time, what caching saved per day, the 5m / 1h write
// mix, and the same by model and by project (GET /api/v2/cache).

import { cards, el, fmt, noDataHelp, panel, plural, table } from "./ui.js";
import { chart, dayAxis, palette } from "./charts.js";
import { DAY_BAR_MS, LEGEND_TOP, lastPart, pathText, shortModel } from "./common.js";

/** Money of a cache row: "n/a" when none of its requests has a price, "*" when some lack one. */
function money(row, key) {
  const text = fmt.cost(row[key]);
  return row.unpricedRequests && row[key] != null
    ? el("span", { class: "unpriced", title: `${plural(row.unpricedRequests, "request")} without a price left out` }, `${text}*`) : text;
}

const CACHE_COLUMNS = [
  { key: "hitRatio", label: "Hit ratio", num: true, format: (r) => fmt.percent(r.hitRatio) },
  { key: "cacheReadTokens", label: "Cache read", num: true, optional: true, format: (r) => fmt.tokens(r.cacheReadTokens) },
  { key: "cacheCreation5mTokens", label: "Write 5m", num: true, optional: true, format: (r) => fmt.tokens(r.cacheCreation5mTokens) },
  { key: "cacheCreation1hTokens", label: "Write 1h", num: true, optional: true, format: (r) => fmt.tokens(r.cacheCreation1hTokens) },
  { key: "oneHourShare", label: "1h share", num: true, optional: true, format: (r) => fmt.percent(r.oneHourShare) },
  { key: "savedUsd", label: "Saved", num: true, cost: true, format: (r) => money(r, "savedUsd"), sort: (r) => r.savedUsd ?? -1 },
  { key: "oneHourExtraUsd", label: "1h extra", num: true, optional: true, format: (r) => money(r, "oneHourExtraUsd"), sort: (r) => r.oneHourExtraUsd ?? -1 },
];

function groupTable(name, keyColumn, answer, go) {
  const tools = [];
  const body = table({
    columns: [keyColumn, ...CACHE_COLUMNS], rows: answer.data, footer: { ...answer.totals, [keyColumn.key]: "Total", total: true },
    csvName: `cache-by-${name}`, tools, label: `cache-${name}s`, onRow: go,
  });
  return [body, tools];
}

export async function cacheView({ api, go, flagUnpriced }) {
  const [days, models, projects] = await Promise.all([
    api("/api/v2/cache", { by: "day" }), api("/api/v2/cache", { by: "model" }), api("/api/v2/cache", { by: "project" }),
  ]);
  flagUnpriced(days.unpricedModels);
  const content = el("div", {}, el("h1", {}, "Prompt cache"));
  const rows = days.data;
  if (!rows.length) return content.appendChild(noDataHelp()).parentNode;
  const total = days.totals;
  content.append(cards([
    ["Hit ratio", fmt.percent(total.hitRatio), `${fmt.tokens(total.cacheReadTokens)} tokens read from cache`],
    ["Saved by caching", fmt.cost(total.savedUsd), "cache reads billed as input, minus their cost"],
    ["Cache writes", fmt.tokens(total.cacheCreationTokens), `${fmt.percent(total.oneHourShare)} of them 1h`],
    ["1h writes cost extra", fmt.cost(total.oneHourExtraUsd), "over the same tokens at the 5m rate"],
  ]));
  if (days.longContextModels.length) {
    content.append(el("p", { class: "filter-note", "data-testid": "long-context-note" },
      `Requests over 200k tokens of context of ${days.longContextModels.map(shortModel).join(", ")} are counted at the base rates: their savings are a lower bound.`));
  }
  const x = rows.map((r) => r.date);
  const [ratio, ratioTools] = chart("cache-hit-ratio", [
    { type: "scatter", mode: "lines+markers", x, y: rows.map((r) => r.hitRatio), name: "Hit ratio", line: { color: palette[1] },
      marker: { size: 5 }, hovertemplate: "%{x}<br>%{y:.1%}<extra></extra>" },
  ], { xaxis: dayAxis(rows), yaxis: { tickformat: ".0%", range: [0, 1.02], rangemode: "normal", title: { text: "hit ratio" } } });
  const [saved, savedTools] = chart("cache-savings", [
    { type: "bar", x, y: rows.map((r) => r.savedUsd ?? 0), name: "Saved", width: DAY_BAR_MS, marker: { color: palette[2] },
      hovertemplate: "%{x}<br>saved $%{y:.2f}<extra></extra>" },
    { type: "bar", x, y: rows.map((r) => r.oneHourExtraUsd ?? 0), name: "1h writes extra", width: DAY_BAR_MS, marker: { color: palette[0] },
      hovertemplate: "%{x}<br>1h extra $%{y:.2f}<extra></extra>" },
  ], { barmode: "overlay", xaxis: dayAxis(rows), yaxis: { title: { text: "USD" } }, legend: LEGEND_TOP, margin: { l: 56, r: 16, t: 40, b: 40 } });
  const [mix, mixTools] = chart("cache-write-mix", [
    { type: "bar", x, y: rows.map((r) => r.cacheCreation5mTokens), name: "5m writes", width: DAY_BAR_MS, marker: { color: palette[1] },
      hovertemplate: "%{x}<br>%{y:,} tokens (5m)<extra></extra>" },
    { type: "bar", x, y: rows.map((r) => r.cacheCreation1hTokens), name: "1h writes", width: DAY_BAR_MS, marker: { color: palette[3] },
      hovertemplate: "%{x}<br>%{y:,} tokens (1h)<extra></extra>" },
  ], { barmode: "stack", xaxis: dayAxis(rows), yaxis: { title: { text: "tokens" }, tickformat: "~s" }, legend: LEGEND_TOP,
    margin: { l: 56, r: 16, t: 40, b: 40 } });
  content.append(panel(`Hit ratio per day (${days.timezone})`, ratio, ratioTools),
    el("div", { class: "grid2" }, panel("Saved per day", saved, savedTools), panel("Cache writes: 5m and 1h", mix, mixTools)));
  const [byModel, modelTools] = groupTable("model", {
    key: "model", label: "Model", wrap: true, csv: (r) => r.model,
    format: (r) => (r.total ? "Total" : el("span", { title: r.model }, shortModel(r.model))),
  }, models);
  const [byProject, projectTools] = groupTable("project", {
    key: "project", label: "Project", wrap: true, csv: (r) => r.path || r.project,
    format: (r) => (r.total ? "Total" : el("span", { title: r.path || r.project }, pathText(lastPart(r.path) || r.project))),
  }, projects, (r) => go("projects", r.project));
  content.append(panel("By model", byModel, modelTools), panel("By project", byProject, projectTools));
  return content;
}
