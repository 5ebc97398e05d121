// The usage views by time and model: Daily (and a day's hours), Monthly, Hourly and Models.

import { cards, el, emptyState, fmt, noDataHelp, panel, plural, segmented, table } from "./ui.js";
import { chart, palette } from "./charts.js";
import {
  COST, COST_PER_REQUEST, COUNT_AXIS, HOUR, LEGEND_TOP, REQUESTS, USAGE_COLUMNS, costOverTime, hh, hourAxis, link,
  narrow, pathText, pricedOnly, shortModel, totalsRow, usageCards,
} from "./common.js";
import { heatmapChart } from "./heatmap.js";
import { PLAN_PRICE_COLUMN, VALUE_COLUMN, planCards } from "./budgets.js";

// -- Daily and a day's hours ---------------------------------------------------------------------

export async function dailyView(context) {
  const { key, api, go, flagUnpriced } = context;
  if (key) return dayView(context);
  const daily = await api("/api/v2/daily", { limit: 1000 });
  flagUnpriced(daily.unpricedModels);
  const rows = daily.data;
  const content = el("div", {}, el("h1", {}, "Daily"));
  if (!rows.length) return content.appendChild(noDataHelp()).parentNode;
  const [graph, graphTools] = await costOverTime(context, daily, "daily", true);
  content.append(panel("Cost per day", graph, graphTools));
  const tools = [];
  content.append(panel(`Days (${daily.timezone})`, table({
    columns: [{ key: "date", label: "Date" }, ...USAGE_COLUMNS, { key: "modelsUsed", label: "Models", sortable: false, optional: true, format: (r) => (r.modelsUsed || []).map(shortModel).join(", "), csv: (r) => (r.modelsUsed || []).join(" ") }],
    rows: [...rows].reverse(), onRow: (r) => go("daily", r.date), footer: totalsRow(rows, "Total", "date"),
    csvName: "daily", tools, label: "days",
  }), tools));
  return content;
}

/** Cost bars and a request line for hours 0-23: one bar per hour, the requests on a right-hand
 * axis as a line, so that nothing overlaps into a colour no legend names. */
function hourChart(name, hours) {
  return chart(name, [
    { type: "bar", x: hours.map((h) => h.hour), y: hours.map((h) => h.costUsd ?? 0), name: "Cost (USD)", marker: { color: palette[0] },
      hovertemplate: "%{x}:00<br>$%{y:.2f}<extra></extra>" },
    { type: "scatter", mode: "lines+markers", x: hours.map((h) => h.hour), y: hours.map((h) => h.requests), name: "Requests", yaxis: "y2",
      line: { color: palette[1] }, marker: { size: 5 }, hovertemplate: "%{x}:00<br>%{y:,} requests<extra></extra>" },
  ], { xaxis: hourAxis(), yaxis: { title: { text: "USD" } }, yaxis2: { ...COUNT_AXIS, title: { text: "requests" } },
    legend: LEGEND_TOP, margin: { l: 56, r: 64, t: 40, b: 48 } });
}

async function dayView({ key, api, go, flagUnpriced }) {
  const day = await api(`/api/v2/daily/${key}`);
  const back = el("div", { class: "crumbs" }, link("← Daily", () => go("daily")));
  if (!day) return el("div", {}, back, el("h1", {}, key), emptyState("No usage on this day (with the filters above)."));
  flagUnpriced(day.unpricedModels);
  const hours = day.hourly;
  const content = el("div", {}, back, el("h1", {}, `${key} by hour (${day.timezone})`),
    usageCards(day, [["Sessions", fmt.tokens(day.sessions)]]));
  const [graph, graphTools] = hourChart(`hours-${key}`, hours);
  content.append(panel("Hours 0-23", graph, graphTools));
  const tools = [];
  content.append(panel("Hours", table({
    columns: [HOUR, ...USAGE_COLUMNS, COST_PER_REQUEST],
    rows: hours, footer: totalsRow(hours, "Total", "hour"), csvName: `hours-${key}`, tools, label: "hours",
  }), tools));
  const modelTools = [];
  const projectTools = [];
  content.append(el("div", { class: "grid2" },
    panel("Models", table({ columns: [{ key: "model", label: "Model", wrap: true, format: (r) => el("span", { title: r.model }, shortModel(r.model)), csv: (r) => r.model },
      REQUESTS, COST], rows: day.models, csvName: `models-${key}`, tools: modelTools, label: "day-models" }), modelTools),
    panel("Projects", table({ columns: [{ key: "name", label: "Project", wrap: true, format: (r) => pathText(r.path || r.name), csv: (r) => r.path || r.name }, { ...REQUESTS, optional: true }, COST],
      rows: day.projects, onRow: (r) => go("projects", r.name), csvName: `projects-${key}`, tools: projectTools, label: "day-projects" }), projectTools)));
  return content;
}

// -- Monthly ---------------------------------------------------------------------------------

export async function monthlyView({ api, go, flagUnpriced }) {
  const monthly = await api("/api/v2/monthly", { limit: 120 });
  flagUnpriced(monthly.unpricedModels);
  const rows = monthly.data;
  const content = el("div", {}, el("h1", {}, "Monthly"));
  if (!rows.length) return content.appendChild(noDataHelp()).parentNode;
  const [graph, graphTools] = chart("monthly", [
    { type: "bar", x: rows.map((r) => r.month), y: rows.map((r) => r.costUsd ?? 0), name: "Cost (USD)", marker: { color: palette[0] },
      hovertemplate: "%{x}<br>$%{y:.2f}<extra></extra>" },
  ], { xaxis: { type: "category" }, yaxis: { title: { text: "USD" } } });
  content.append(panel("Cost per month", graph, graphTools));
  content.append(panel("Value for money", planCards(monthly)));
  const tools = [];
  const priced = monthly.plan && monthly.plan.priceUsd != null;
  const footer = totalsRow(rows, "Total", "month");
  if (priced) Object.assign(footer, { planPriceUsd: monthly.plan.priceUsd * rows.length, valueRatio: footer.costUsd / (monthly.plan.priceUsd * rows.length) });
  content.append(panel(`Months (${monthly.timezone})`, table({
    // With a plan, the requests make room for its value on a phone.
    columns: [{ key: "month", label: "Month" }, ...(priced ? USAGE_COLUMNS.map((c) => (c === REQUESTS ? { ...c, optional: true } : c)) : USAGE_COLUMNS),
      ...(priced ? [PLAN_PRICE_COLUMN, VALUE_COLUMN] : [])],
    rows: [...rows].reverse(), footer, csvName: "monthly", tools,
    onRow: (r) => go("daily", null, { startDate: `${r.month}-01`, endDate: `${r.month}-31` }), label: "months",
  }), tools));
  return content;
}

// -- Hourly ------------------------------------------------------------------------------------

export async function hourlyView({ params, api, setParams, flagUnpriced }) {
  const data = await api("/api/v2/hourly");
  flagUnpriced(data.unpricedModels);
  const mode = params.show || "chart";
  const content = el("div", {}, el("h1", {}, `Hour of day (${data.timezone})`));
  const stats = data.statistics;
  if (!stats) return content.appendChild(noDataHelp()).parentNode;
  content.append(cards([
    ["Peak cost hour", hh(stats.peakCostHour.hour), `${fmt.cost(stats.peakCostHour.cost)} · ${fmt.number(stats.peakCostHour.percentage)}%`],
    ["Peak token hour", hh(stats.peakTokenHour.hour), `${fmt.tokens(stats.peakTokenHour.tokens)} · ${fmt.number(stats.peakTokenHour.percentage)}%`],
    ["Peak request hour", hh(stats.peakRequestHour.hour), `${fmt.tokens(stats.peakRequestHour.requests)} · ${fmt.number(stats.peakRequestHour.percentage)}%`],
    ["Average per hour", fmt.cost(stats.avgCostPerHour), [plural(Math.round(stats.avgRequestsPerHour), "request"),
      pricedOnly(data.unpricedModels.length)].filter(Boolean).join(" · ")],
  ]));
  const switcher = segmented([["chart", "Chart"], ["heatmap", "Heatmap"], ["table", "Table"]], mode, (value) => setParams({ show: value }), "Show");
  const hours = data.hourlyData;
  let body;
  let tools = [switcher];
  if (mode === "table") {
    const tableTools = [];
    body = table({ columns: [HOUR, ...USAGE_COLUMNS, COST_PER_REQUEST],
      rows: hours, footer: totalsRow(hours, "Total", "hour"), csvName: "hourly", tools: tableTools, label: "hours" });
    tools = [switcher, ...tableTools];
  } else if (mode === "heatmap") {
    const [graph, graphTools] = heatmapChart(data.heatmapData);
    body = graph;
    tools = [switcher, ...graphTools];
  } else {
    const [graph, graphTools] = hourChart("hourly", hours);
    body = graph;
    tools = [switcher, ...graphTools];
  }
  content.append(panel("By hour", body, tools));
  const parts = [["Night (0-6)", stats.nightUsage], ["Morning (6-12)", stats.morningUsage], ["Afternoon (12-18)", stats.afternoonUsage], ["Evening (18-24)", stats.eveningUsage]];
  const [pie, pieTools] = chart("part-of-day", [{ type: "pie", labels: parts.map((p) => p[0]), values: parts.map((p) => p[1].cost ?? 0),
    hole: 0.45, marker: { colors: palette }, sort: false, texttemplate: parts.map((p) => (p[1].cost ? "%{percent}" : "")) }],
  { showlegend: true, ...pieLegend() }, narrow() ? 340 : 300);
  content.append(panel("Cost by part of day", pie, pieTools));
  return content;
}

/** A pie's legend: beside it on a wide screen, under it on a phone (never over its labels). */
function pieLegend() {
  return narrow() ? { legend: { orientation: "h", x: 0, y: -0.05, yanchor: "top" }, margin: { l: 16, r: 16, t: 16, b: 16 } }
    : { legend: { orientation: "v" } };
}

// -- Models ------------------------------------------------------------------------------------

export async function modelsView({ api, flagUnpriced }) {
  const models = await api("/api/v2/models", { sortBy: "cost" });
  flagUnpriced(models.unpricedModels);
  const rows = models.data;
  const content = el("div", {}, el("h1", {}, "Models"));
  if (!rows.length) return content.appendChild(noDataHelp()).parentNode;
  content.append(cards([["Models", fmt.tokens(models.stats.totalModels)], ["Most used", shortModel(models.stats.mostUsedModel || "–")],
    ["Requests", fmt.tokens(models.stats.totalMessages)], ["Tokens", fmt.tokens(models.stats.totalTokens)]]));
  const priced = rows.filter((r) => r.costUsd != null);
  const [pie, pieTools] = chart("model-cost-share", [{ type: "pie", labels: priced.map((r) => shortModel(r.model)), values: priced.map((r) => r.costUsd),
    hole: 0.45, marker: { colors: palette }, hovertemplate: "%{label}<br>$%{value:.2f} · %{percent}<extra></extra>" }],
  pieLegend(), narrow() ? 380 : 320);
  const tools = [];
  const modelTable = table({
    columns: [{ key: "model", label: "Model", wrap: true, csv: (r) => r.model,
      format: (r) => el("span", { title: r.model }, shortModel(r.model), r.unpriced ? [" ", el("span", { class: "badge" }, "no price")] : null) },
      ...USAGE_COLUMNS, { key: "sessions", label: "Sessions", num: true, optional: true, format: (r) => fmt.tokens(r.sessions) }],
    rows, footer: { ...totalsRow(rows, "Total", "model"), sessions: null }, csvName: "models", tools, label: "models",
  });
  // The table has ten columns: the whole width, under the chart.
  content.append(panel("Share of cost", pie, pieTools), panel("Models", modelTable, tools));
  return content;
}
