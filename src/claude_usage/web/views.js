// The views of the dashboard. Each one fetches from /api/v2 and returns its content.

import { cards, el, emptyState, fmt, noDataHelp, pager, panel, segmented, table } from "./ui.js";
import { chart, dayAxis, everyDay, palette } from "./charts.js";

// The token kinds are hidden on phones (under 600 px), where the totals and cost must fit.
export const TOKEN_COLUMNS = [
  { key: "inputTokens", label: "Input", num: true, optional: true, format: (r) => fmt.tokens(r.inputTokens) },
  { key: "outputTokens", label: "Output", num: true, optional: true, format: (r) => fmt.tokens(r.outputTokens) },
  { key: "cacheCreationTokens", label: "Cache create", num: true, optional: true, format: (r) => fmt.tokens(r.cacheCreationTokens) },
  { key: "cacheReadTokens", label: "Cache read", num: true, optional: true, format: (r) => fmt.tokens(r.cacheReadTokens) },
  { key: "totalTokens", label: "Total tokens", num: true, format: (r) => fmt.tokens(r.totalTokens) },
];

export function costCell(row) {
  const text = fmt.cost(row.costUsd);
  return row.unpricedRequests ? el("span", { class: "unpriced", title: `${row.unpricedRequests} request(s) without a price` }, `${text}*`) : text;
}

export const COST = { key: "costUsd", label: "Cost", num: true, format: costCell, sort: (r) => r.costUsd ?? -1 };
export const REQUESTS = { key: "requests", label: "Requests", num: true, format: (r) => fmt.tokens(r.requests) };
const USAGE_COLUMNS = [REQUESTS, ...TOKEN_COLUMNS, COST];

// Hours 0-23 of the day, whole: no "-1" or "24" ticks from the padding of lines and markers.
const HOUR_AXIS = { range: [-0.5, 23.5], tick0: 0, dtick: 1, title: { text: "hour" } };
const COUNT_AXIS = { overlaying: "y", side: "right", showgrid: false, tickmode: "auto", nticks: 6, tickformat: "~s" };

const DAY_BAR_MS = 0.8 * 86400000;  // a day's bar covers most of its own day, never the next ones

function sum(rows, key) {
  return rows.reduce((total, row) => total + (row[key] || 0), 0);
}

/** A totals row for a table of usage rows. */
export function totalsRow(rows, label, keyName) {
  const total = { [keyName]: label, unpricedRequests: sum(rows, "unpricedRequests") };
  for (const key of ["requests", "inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens", "costUsd"]) {
    total[key] = sum(rows, key);
  }
  return total;
}

function shortModel(model) {
  return model.replace(/^claude-/, "").replace(/-\d{8}$/, "");
}

function usageCards(row, extra = []) {
  return cards([
    ["Cost", fmt.cost(row.costUsd), row.unpricedRequests ? `${fmt.tokens(row.unpricedRequests)} request(s) without a price` : null],
    ["Tokens", fmt.tokens(row.totalTokens), `${fmt.tokens(row.inputTokens)} in · ${fmt.tokens(row.outputTokens)} out`],
    ["Cache", fmt.tokens(row.cacheReadTokens + row.cacheCreationTokens), `${fmt.tokens(row.cacheCreationTokens)} written · ${fmt.tokens(row.cacheReadTokens)} read`],
    ["Requests", fmt.tokens(row.requests)],
    ...extra,
  ]);
}

function link(text, onclick) {
  return el("a", { href: "#", onclick: (e) => { e.preventDefault(); onclick(); } }, text);
}

// -- Summary -----------------------------------------------------------------------------------

const LIMIT_KEY = "claude-usage.blockTokenLimit";
let countdownTimer = null;

function clock(time) {
  return new Date(time).toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
}

function minutesText(minutes) {
  const total = Math.max(0, Math.round(minutes));
  const hours = Math.floor(total / 60);
  return hours ? `${hours}h ${String(total % 60).padStart(2, "0")}m` : `${total}m`;
}

/** A bar for the share of a limit used (and, lighter, the share projected at the block's end). */
function limitBar(use, label, format) {
  const used = Math.min(100, use.percentUsed);
  const projected = Math.min(100, use.projectedPercent ?? use.percentUsed);
  const source = use.source === "user" ? "your limit" : use.source;
  return el("div", { class: `limit${use.warning ? " warning" : ""}`, "data-testid": `limit-${label}` },
    el("div", { class: "limit-text" },
      `${fmt.number(use.percentUsed)}% of ${format(use.limit)} ${label} (${source})`,
      use.projectedPercent != null ? ` · projected ${fmt.number(use.projectedPercent)}% at reset` : "",
      use.warning ? el("strong", {}, use.percentUsed >= 80 ? " · over 80%" : " · on course to pass it") : ""),
    el("div", { class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(used), "aria-label": `${label} limit used` },
      el("div", { class: "projected", style: `width:${projected}%` }), el("div", { class: "used", style: `width:${used}%` })));
}

/** The active 5-hour block: cost, burn rate, projection, a countdown to its reset and the use of a
 * token limit (yours, or the estimate "max": the largest past block). Never Anthropic's quota. */
async function activeBlockPanel(api) {
  const given = localStorage.getItem(LIMIT_KEY) || "max";
  const data = await api("/api/v2/blocks", { active: "true", tokenLimit: given });
  const input = el("input", { type: "text", value: given, size: 10, "aria-label": "Token limit per block (a number, or max)", title: "Tokens per block, or max (estimate: the largest past block)",
    oninput: () => input.setCustomValidity("") });
  const form = el("form", { class: "tools-form", onsubmit: (e) => {
    e.preventDefault();
    const value = input.value.trim();
    if (value && value.toLowerCase() !== "max" && !(Number(value) > 0)) { input.setCustomValidity("A positive number or max"); input.reportValidity(); return; }
    localStorage.setItem(LIMIT_KEY, value || "max");
    document.dispatchEvent(new CustomEvent("claude-usage:rerender"));
  } }, el("label", {}, "Token limit ", input), el("button", { type: "submit" }, "Set"));
  const block = data.blocks[0];
  if (countdownTimer) clearInterval(countdownTimer);
  if (!block) {
    return panel("Active 5\u2011hour block", emptyState("No active block: the next request starts a new 5-hour window."), [form]);
  }
  const resetAt = new Date(block.limited && block.limitResetTime && new Date(block.limitResetTime) > new Date() ? block.limitResetTime : block.end);
  const countdown = el("span", { "data-testid": "reset-countdown" });
  const tick = () => {
    if (!countdown.isConnected && countdownTimer && countdown.dataset.shown) { clearInterval(countdownTimer); return; }
    countdown.dataset.shown = "1";
    countdown.textContent = minutesText((resetAt - new Date()) / 60000);
  };
  tick();
  countdownTimer = setInterval(tick, 15000);
  const rate = block.burnRate;
  const projection = block.projection;
  const body = el("div", { "data-testid": "active-block" }, cards([
    ["Block cost", fmt.cost(block.costUsd), `${clock(block.start)} – ${clock(block.end)}`],
    ["Tokens", fmt.tokens(block.totalTokens), `${fmt.tokens(block.requests)} requests`],
    ["Resets in", countdown, block.limited ? `usage limit hit · resets ${clock(resetAt)}` : `at ${clock(resetAt)}`],
    ["Burn rate", rate ? `${fmt.cost(rate.costPerHour)}/h` : "–", rate ? `${fmt.tokens(rate.tokensPerMinute)} tokens/min` : "under a minute of activity"],
    ["Projected at reset", projection ? fmt.cost(projection.costUsd) : "–", projection ? `${fmt.tokens(projection.totalTokens)} tokens` : null],
  ]));
  if (block.limits && block.limits.tokens) body.append(limitBar(block.limits.tokens, "tokens", fmt.tokens));
  else if (given === "max") body.append(el("p", { class: "muted" }, "No past block yet to estimate a limit from."));
  return panel("Active 5\u2011hour block", body, [form]);
}

/** What the costs of a summary get wrong or leave out, one paragraph each (DESIGN section 5). */
function pricingNotes(summary) {
  const notes = [];
  if (summary.placeholderOutputRequests) {
    notes.push(el("p", {}, el("strong", {}, `${fmt.tokens(summary.placeholderOutputRequests)} request(s) with a placeholder output count. `),
      "Claude Code before 2.1.97 wrote an early streaming count (often 1-30 tokens) into the transcript instead of the " +
      "final one; the true count is lost, so their output tokens and cost are undercounted. Fixed in Claude Code 2.1.97."));
  }
  if (summary.fastUnpricedRequests) {
    notes.push(el("p", {}, el("strong", {}, `${fmt.tokens(summary.fastUnpricedRequests)} fast-mode request(s) at the standard price: `),
      "no fast-mode price is known for their model, so their cost is likely too low."));
  }
  return notes;
}

async function summaryView({ api, go, flagUnpriced }) {
  const [summary, daily, sessions, projects] = await Promise.all([
    api("/api/v2/summary"),
    api("/api/v2/daily", { limit: 1000 }),
    api("/api/v2/sessions", { limit: 5, sortBy: "cost" }),
    api("/api/v2/projects", { limit: 5, sortBy: "totalCost" }),
  ]);
  flagUnpriced(summary.unpricedModels);
  if (!summary.totalMessages) return el("div", {}, el("h1", {}, "Summary"), noDataHelp());
  const content = el("div", {}, el("h1", {}, "Summary"), cards([
    ["Total cost", fmt.cost(summary.totalCostUsd), summary.unpricedModels.length ? "priced requests only" : null, { "data-testid": "total-cost" }],
    ["Tokens", fmt.tokens(summary.totalTokens)],
    ["Requests", fmt.tokens(summary.totalMessages)],
    ["Sessions", fmt.tokens(summary.totalConversations)],
    ["Projects", fmt.tokens(summary.totalProjects)],
    ["Cache hit ratio", fmt.percent(summary.cacheHitRatio)],
    ["Today", fmt.cost(summary.todayCostUsd), summary.todayUnpricedRequests ? "priced requests only" : null, { "data-testid": "today-cost" }],
    ["This month", fmt.cost(summary.thisMonthCostUsd), summary.thisMonthUnpricedRequests ? "priced requests only" : null,
      { "data-testid": "month-cost" }],
    ...(summary.webSearchRequests ? [["Web searches", fmt.tokens(summary.webSearchRequests), "$10 per 1,000, in the cost"]] : []),
  ]));
  const notes = pricingNotes(summary);
  if (notes.length) content.append(el("div", { class: "notice inline", role: "note", "data-testid": "pricing-notes" }, notes));
  content.append(await activeBlockPanel(api));
  const [trend, trendTools] = chart("daily-cost", [{
    type: "bar", x: daily.data.map((d) => d.date), y: daily.data.map((d) => d.costUsd ?? 0), name: "Cost (USD)", width: DAY_BAR_MS,
    marker: { color: palette[0] }, hovertemplate: "%{x}<br>$%{y:.2f}<extra></extra>",
  }], { xaxis: dayAxis(daily.data), yaxis: { title: { text: "USD" } } });
  content.append(panel("Daily cost", trend, trendTools));
  const sessionTools = [];
  const projectTools = [];
  content.append(el("div", { class: "grid2" },
    panel("Top sessions", table({
      columns: [
        { key: "sessionId", label: "Session", format: (r) => r.sessionId.slice(0, 8) },
        { key: "project", label: "Project", wrap: true, format: (r) => r.path || r.project },
        { key: "lastActivity", label: "Last activity", optional: true, format: (r) => fmt.time(r.lastActivity) },
        COST,
      ],
      rows: sessions.data, onRow: (r) => go("sessions", r.sessionId), csvName: "top-sessions", tools: sessionTools,
    }), sessionTools),
    panel("Top projects", table({
      columns: [{ key: "name", label: "Project", wrap: true, format: (r) => r.path || r.name }, REQUESTS, COST],
      rows: projects.data, onRow: (r) => go("projects", r.name), csvName: "top-projects", tools: projectTools,
    }), projectTools)));
  return content;
}

// -- Daily and a day's hours ---------------------------------------------------------------------

async function dailyView({ key, api, go, flagUnpriced }) {
  if (key) return dayView({ key, api, go, flagUnpriced });
  const daily = await api("/api/v2/daily", { limit: 1000 });
  flagUnpriced(daily.unpricedModels);
  const rows = daily.data;
  const content = el("div", {}, el("h1", {}, "Daily"));
  if (!rows.length) return content.appendChild(noDataHelp()).parentNode;
  const [graph, graphTools] = chart("daily", [
    { type: "bar", x: rows.map((r) => r.date), y: rows.map((r) => r.costUsd ?? 0), name: "Cost (USD)", width: DAY_BAR_MS, marker: { color: palette[0] } },
    { type: "scatter", mode: "lines", ...everyDay(rows, (r) => r.totalTokens), name: "Tokens", yaxis: "y2", line: { color: palette[1] } },
  ], { xaxis: dayAxis(rows), yaxis: { title: { text: "USD" } },
    yaxis2: { ...COUNT_AXIS, title: { text: "tokens" } } });
  content.append(panel("Cost and tokens per day", graph, graphTools));
  const tools = [];
  content.append(panel(`Days (${daily.timezone})`, table({
    columns: [{ key: "date", label: "Date" }, ...USAGE_COLUMNS, { key: "modelsUsed", label: "Models", sortable: false, optional: true, format: (r) => (r.modelsUsed || []).map(shortModel).join(", "), csv: (r) => (r.modelsUsed || []).join(" ") }],
    rows: [...rows].reverse(), onRow: (r) => go("daily", r.date), footer: totalsRow(rows, "Total", "date"),
    csvName: "daily", tools, label: "days",
  }), tools));
  return content;
}

async function dayView({ key, api, go, flagUnpriced }) {
  const day = await api(`/api/v2/daily/${key}`);
  const back = el("div", { class: "crumbs" }, link("← Daily", () => go("daily")));
  if (!day) return el("div", {}, back, el("h1", {}, key), emptyState("No usage on this day (with the filters above)."));
  flagUnpriced(day.unpricedModels);
  const hours = day.hourly;
  const content = el("div", {}, back, el("h1", {}, `${key} by hour (${day.timezone})`),
    usageCards(day, [["Sessions", fmt.tokens(day.sessions)]]));
  const [graph, graphTools] = chart(`hours-${key}`, [
    { type: "bar", x: hours.map((h) => h.hour), y: hours.map((h) => h.costUsd ?? 0), name: "Cost (USD)", marker: { color: palette[0] } },
    { type: "bar", x: hours.map((h) => h.hour), y: hours.map((h) => h.requests), name: "Requests", yaxis: "y2", marker: { color: palette[1] }, opacity: 0.5 },
  ], { barmode: "group", xaxis: HOUR_AXIS, yaxis: { title: { text: "USD" } }, yaxis2: { ...COUNT_AXIS, title: { text: "requests" } } });
  content.append(panel("Hours 0-23", graph, graphTools));
  const tools = [];
  content.append(panel("Hours", table({
    columns: [{ key: "hour", label: "Hour", format: (r) => `${String(r.hour).padStart(2, "0")}:00` }, ...USAGE_COLUMNS],
    rows: hours, footer: totalsRow(hours, "Total", "hour"), csvName: `hours-${key}`, tools, label: "hours",
  }), tools));
  const modelTools = [];
  const projectTools = [];
  content.append(el("div", { class: "grid2" },
    panel("Models", table({ columns: [{ key: "model", label: "Model" }, REQUESTS, COST], rows: day.models, csvName: `models-${key}`, tools: modelTools }), modelTools),
    panel("Projects", table({ columns: [{ key: "name", label: "Project", wrap: true, format: (r) => r.path || r.name }, REQUESTS, COST],
      rows: day.projects, onRow: (r) => go("projects", r.name), csvName: `projects-${key}`, tools: projectTools }), projectTools)));
  return content;
}

// -- Monthly ---------------------------------------------------------------------------------

async function monthlyView({ api, go, flagUnpriced }) {
  const monthly = await api("/api/v2/monthly", { limit: 120 });
  flagUnpriced(monthly.unpricedModels);
  const rows = monthly.data;
  const content = el("div", {}, el("h1", {}, "Monthly"));
  if (!rows.length) return content.appendChild(noDataHelp()).parentNode;
  const [graph, graphTools] = chart("monthly", [
    { type: "bar", x: rows.map((r) => r.month), y: rows.map((r) => r.costUsd ?? 0), name: "Cost (USD)", marker: { color: palette[0] } },
  ], { xaxis: { type: "category" }, yaxis: { title: { text: "USD" } } });
  content.append(panel("Cost per month", graph, graphTools));
  const tools = [];
  content.append(panel(`Months (${monthly.timezone})`, table({
    columns: [{ key: "month", label: "Month" }, ...USAGE_COLUMNS],
    rows: [...rows].reverse(), footer: totalsRow(rows, "Total", "month"), csvName: "monthly", tools,
    onRow: (r) => go("daily", null, { startDate: `${r.month}-01`, endDate: `${r.month}-31` }), label: "months",
  }), tools));
  return content;
}

// -- Hourly ------------------------------------------------------------------------------------

async function hourlyView({ params, api, setParams, flagUnpriced }) {
  const data = await api("/api/v2/hourly");
  flagUnpriced(data.unpricedModels);
  const mode = params.show || "chart";
  const content = el("div", {}, el("h1", {}, `Hour of day (${data.timezone})`));
  const stats = data.statistics;
  if (!stats) return content.appendChild(noDataHelp()).parentNode;
  const hh = (h) => `${String(h).padStart(2, "0")}:00`;
  content.append(cards([
    ["Peak cost hour", hh(stats.peakCostHour.hour), `${fmt.cost(stats.peakCostHour.cost)} · ${fmt.number(stats.peakCostHour.percentage)}%`],
    ["Peak token hour", hh(stats.peakTokenHour.hour), `${fmt.tokens(stats.peakTokenHour.tokens)} · ${fmt.number(stats.peakTokenHour.percentage)}%`],
    ["Peak request hour", hh(stats.peakRequestHour.hour), `${fmt.tokens(stats.peakRequestHour.requests)} · ${fmt.number(stats.peakRequestHour.percentage)}%`],
    ["Average per hour", fmt.cost(stats.avgCostPerHour), `${fmt.tokens(stats.avgRequestsPerHour)} requests`],
  ]));
  const switcher = segmented([["chart", "Chart"], ["heatmap", "Heatmap"], ["table", "Table"]], mode, (value) => setParams({ show: value }), "Show");
  const hours = data.hourlyData;
  let body;
  let tools = [switcher];
  if (mode === "table") {
    const tableTools = [];
    body = table({ columns: [{ key: "hour", label: "Hour", format: (r) => hh(r.hour) }, ...USAGE_COLUMNS,
      { key: "avgCostPerRequest", label: "Cost / request", num: true, format: (r) => fmt.costFine(r.avgCostPerRequest) }],
    rows: hours, footer: totalsRow(hours, "Total", "hour"), csvName: "hourly", tools: tableTools, label: "hours" });
    tools = [switcher, ...tableTools];
  } else if (mode === "heatmap") {
    const days = [...new Set(data.heatmapData.map((c) => c.date))].sort();
    const z = days.map((day) => Array.from({ length: 24 }, (_, hour) => {
      const cell = data.heatmapData.find((c) => c.date === day && c.hour === hour);
      return cell ? cell.costUsd ?? 0 : null;
    }));
    const [graph, graphTools] = chart("heatmap", [{ type: "heatmap", x: hours.map((h) => h.hour), y: days, z,
      colorscale: "YlOrRd", hovertemplate: "%{y} %{x}:00<br>$%{z:.2f}<extra></extra>", colorbar: { title: { text: "USD" } } }],
    { xaxis: { dtick: 1, title: { text: "hour" } }, yaxis: { type: "category", automargin: true } }, Math.max(320, days.length * 14 + 100));
    body = graph;
    tools = [switcher, ...graphTools];
  } else {
    const [graph, graphTools] = chart("hourly", [
      { type: "bar", x: hours.map((h) => h.hour), y: hours.map((h) => h.costUsd ?? 0), name: "Cost (USD)", marker: { color: palette[0] } },
      { type: "scatter", mode: "lines+markers", x: hours.map((h) => h.hour), y: hours.map((h) => h.requests), name: "Requests", yaxis: "y2", line: { color: palette[1] } },
    ], { xaxis: HOUR_AXIS, yaxis: { title: { text: "USD" } }, yaxis2: { ...COUNT_AXIS, title: { text: "requests" } } });
    body = graph;
    tools = [switcher, ...graphTools];
  }
  content.append(panel("By hour", body, tools));
  const parts = [["Night (0-6)", stats.nightUsage], ["Morning (6-12)", stats.morningUsage], ["Afternoon (12-18)", stats.afternoonUsage], ["Evening (18-24)", stats.eveningUsage]];
  const [pie, pieTools] = chart("part-of-day", [{ type: "pie", labels: parts.map((p) => p[0]), values: parts.map((p) => p[1].cost ?? 0),
    hole: 0.45, marker: { colors: palette }, sort: false, texttemplate: parts.map((p) => (p[1].cost ? "%{percent}" : "")) }],
  { showlegend: true }, 300);
  content.append(panel("Cost by part of day", pie, pieTools));
  return content;
}

// -- Models ------------------------------------------------------------------------------------

async function modelsView({ api, flagUnpriced }) {
  const models = await api("/api/v2/models", { sortBy: "cost" });
  flagUnpriced(models.unpricedModels);
  const rows = models.data;
  const content = el("div", {}, el("h1", {}, "Models"));
  if (!rows.length) return content.appendChild(noDataHelp()).parentNode;
  content.append(cards([["Models", fmt.tokens(models.stats.totalModels)], ["Most used", models.stats.mostUsedModel || "–"],
    ["Requests", fmt.tokens(models.stats.totalMessages)], ["Tokens", fmt.tokens(models.stats.totalTokens)]]));
  const priced = rows.filter((r) => r.costUsd != null);
  const [pie, pieTools] = chart("model-cost-share", [{ type: "pie", labels: priced.map((r) => r.model), values: priced.map((r) => r.costUsd),
    hole: 0.45, marker: { colors: palette } }], {}, 320);
  const tools = [];
  const modelTable = table({
    columns: [{ key: "model", label: "Model", format: (r) => r.unpriced ? el("span", {}, r.model, " ", el("span", { class: "badge" }, "no price")) : r.model, csv: (r) => r.model },
      ...USAGE_COLUMNS, { key: "sessions", label: "Sessions", num: true, format: (r) => fmt.tokens(r.sessions) }],
    rows, footer: totalsRow(rows, "Total", "model"), csvName: "models", tools, label: "models",
  });
  // The table has ten columns: the whole width, under the chart.
  content.append(panel("Share of cost", pie, pieTools), panel("Models", modelTable, tools));
  return content;
}

// -- Projects ----------------------------------------------------------------------------------

async function projectsView({ key, params, api, go, setParams, flagUnpriced }) {
  if (key) return projectView({ key, api, go, flagUnpriced });
  const sortBy = params.sortBy || "totalCost";
  const sortOrder = params.sortOrder || "desc";
  const projects = await api("/api/v2/projects", {
    page: params.page || 1, limit: 20, sortBy, sortOrder, search: params.search || "", minCost: params.minCost || "",
  });
  flagUnpriced(projects.unpricedModels);
  const content = el("div", {}, el("h1", {}, "Projects"));
  content.append(cards([["Projects", fmt.tokens(projects.stats.totalProjects)], ["Cost", `$${projects.stats.totalCost}`],
    ["Tokens", fmt.tokens(projects.stats.totalTokens)], ["Active (30 days)", fmt.tokens(projects.stats.activeProjects)]]));
  const search = el("input", { type: "search", placeholder: "Search name or path", value: params.search || "", "aria-label": "Search projects" });
  let timer;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => setParams({ search: search.value, page: "" }), 250); });
  const minCost = el("input", { type: "number", min: "0", step: "0.01", placeholder: "Min cost $", value: params.minCost || "", "aria-label": "Minimum cost in USD", style: "width: 9em" });
  minCost.addEventListener("change", () => setParams({ minCost: minCost.value, page: "" }));
  const serverSort = { totalCost: "totalCost", costUsd: "totalCost", totalTokens: "totalTokens", name: "name", messageCount: "messageCount", lastActivity: "lastActivity" };
  const tools = [search, minCost];
  const columns = [
    { key: "name", label: "Project", wrap: true, format: (r) => el("span", { title: r.name }, r.path || r.name), csv: (r) => r.path || r.name },
    { key: "messageCount", label: "Requests", num: true, format: (r) => fmt.tokens(r.messageCount) },
    { key: "totalTokens", label: "Total tokens", num: true, format: (r) => fmt.tokens(r.totalTokens) },
    { key: "totalCost", label: "Cost", num: true, format: costCell, csv: (r) => r.costUsd },
    { key: "lastActivity", label: "Last activity", format: (r) => fmt.time(r.lastActivity) },
  ];
  const body = el("div", {}, table({
    columns, rows: projects.data, onRow: (r) => go("projects", r.name), csvName: "projects", tools, label: "projects",
    sort: { key: sortBy, order: sortOrder, onSort: (column) => setParams({ sortBy: serverSort[column], sortOrder: sortBy === serverSort[column] && sortOrder === "desc" ? "asc" : "desc", page: "" }) },
  }), pager(projects.pagination, (page) => setParams({ page })),
  projects.data.length ? null : emptyState("No project matches."));
  content.append(panel(`Projects (${projects.pagination.totalItems})`, body, tools));
  // Keep the focus in the search box while typing.
  if (document.activeElement?.getAttribute("aria-label") === "Search projects" || params.search) requestAnimationFrame(() => {
    if (params.search) { search.focus(); search.setSelectionRange(search.value.length, search.value.length); }
  });
  return content;
}

async function projectView({ key, api, go, flagUnpriced }) {
  const project = await api(`/api/v2/projects/${encodeURIComponent(key)}`);
  const back = el("div", { class: "crumbs" }, link("← Projects", () => go("projects")));
  if (!project) return el("div", {}, back, el("h1", {}, key), emptyState("No usage for this project (with the filters above)."));
  flagUnpriced(project.unpricedModels);
  const content = el("div", {}, back, el("h1", {}, project.path || project.name), usageCards(project, [
    ["Sessions", fmt.tokens(project.sessions)], ["Last activity", fmt.time(project.lastActivity)]]));
  const [graph, graphTools] = chart(`project-${key}`, [{ type: "bar", x: project.daily.map((d) => d.date), y: project.daily.map((d) => d.costUsd ?? 0),
    name: "Cost (USD)", marker: { color: palette[0] } }], { yaxis: { title: { text: "USD" } } });
  content.append(panel("Cost per day", graph, graphTools));
  const modelTools = [];
  const sessionTools = [];
  content.append(el("div", { class: "grid2" },
    panel("Models", table({ columns: [{ key: "model", label: "Model" }, REQUESTS, COST], rows: project.models, csvName: `project-models`, tools: modelTools }), modelTools),
    panel("Sessions", table({ columns: [{ key: "sessionId", label: "Session", format: (r) => r.sessionId.slice(0, 8) },
      { key: "lastActivity", label: "Last activity", format: (r) => fmt.time(r.lastActivity) }, REQUESTS, COST],
    rows: project.sessionList, onRow: (r) => go("sessions", r.sessionId), csvName: "project-sessions", tools: sessionTools }), sessionTools)));
  return content;
}

// -- Sessions ----------------------------------------------------------------------------------

async function sessionsView({ key, params, api, go, setParams, flagUnpriced }) {
  if (key) return sessionView({ key, api, go, flagUnpriced });
  const sortBy = params.sortBy || "lastActivity";
  const sortOrder = params.sortOrder || "desc";
  const sessions = await api("/api/v2/sessions", { page: params.page || 1, limit: 50, sortBy, sortOrder });
  flagUnpriced(sessions.unpricedModels);
  const serverSort = { lastActivity: "lastActivity", costUsd: "cost", totalTokens: "totalTokens" };
  const tools = [];
  const columns = [
    { key: "sessionId", label: "Session", sortable: false, format: (r) => r.sessionId.slice(0, 8), csv: (r) => r.sessionId },
    { key: "project", label: "Project", sortable: false, wrap: true, format: (r) => r.path || r.project },
    { key: "lastActivity", label: "Last activity", format: (r) => fmt.time(r.lastActivity) },
    { key: "requests", label: "Requests", num: true, sortable: false, format: (r) => fmt.tokens(r.requests) },
    { key: "totalTokens", label: "Total tokens", num: true, format: (r) => fmt.tokens(r.totalTokens) },
    { ...COST },
    { key: "subagentCostUsd", label: "Subagents", num: true, sortable: false, format: (r) => fmt.cost(r.subagentCostUsd) },
  ];
  const body = el("div", {}, table({
    columns, rows: sessions.data, onRow: (r) => go("sessions", r.sessionId), csvName: "sessions", tools, label: "sessions",
    sort: { key: Object.keys(serverSort).find((k) => serverSort[k] === sortBy), order: sortOrder,
      onSort: (column) => setParams({ sortBy: serverSort[column], sortOrder: sortBy === serverSort[column] && sortOrder === "desc" ? "asc" : "desc", page: "" }) },
  }), pager(sessions.pagination, (page) => setParams({ page })), sessions.data.length ? null : noDataHelp());
  return el("div", {}, el("h1", {}, "Sessions"), panel(`Sessions (${sessions.pagination.totalItems})`, body, tools));
}

async function sessionView({ key, api, go, flagUnpriced }) {
  const session = await api(`/api/v2/sessions/${encodeURIComponent(key)}`);
  const back = el("div", { class: "crumbs" }, link("← Sessions", () => go("sessions")));
  if (!session) return el("div", {}, back, el("h1", {}, key), emptyState("No usage for this session (with the filters above)."));
  flagUnpriced(session.unpricedModels);
  const content = el("div", {}, back, el("h1", {}, `Session ${key}`), usageCards(session, [
    ["Subagents", fmt.cost(session.subagentCostUsd), `${session.subagents.length} transcript(s)`],
    ["Project", session.path || session.project || "–"], ["Active", fmt.time(session.firstActivity), `until ${fmt.time(session.lastActivity)}`]]));
  const modelTools = [];
  const agentTools = [];
  content.append(el("div", { class: "grid2" },
    panel("Models", table({ columns: [{ key: "model", label: "Model" }, ...USAGE_COLUMNS], rows: session.models, csvName: "session-models", tools: modelTools }), modelTools),
    panel("Subagents", session.subagents.length ? table({ columns: [{ key: "agentType", label: "Type" },
      { key: "description", label: "Description", wrap: true }, REQUESTS, COST], rows: session.subagents, csvName: "session-subagents", tools: agentTools })
      : emptyState("No subagent transcripts."), agentTools)));
  return content;
}

// -- Tools and MCP -------------------------------------------------------------------------------

async function toolsView({ api }) {
  const [all, mcp] = await Promise.all([api("/api/v2/tools", {}, false), api("/api/v2/mcp/tools", {}, false)]);
  const content = el("div", {}, el("h1", {}, "Tools and MCP"), cards([
    ["Tool calls", fmt.tokens(all.totalCalls)], ["Tools", fmt.tokens(all.uniqueTools)], ["Error results", fmt.tokens(all.totalErrors)],
    ["MCP calls", fmt.tokens(mcp.totalCalls)], ["MCP tools", fmt.tokens(mcp.uniqueTools)]]));
  if (!all.data.length) return content.appendChild(emptyState("No tool use in the transcripts.")).parentNode;
  const top = all.data.slice(0, 10);
  const [bars, barTools] = chart("top-tools", [{ type: "bar", orientation: "h", y: top.map((t) => t.name).reverse(), x: top.map((t) => t.calls).reverse(),
    marker: { color: palette[1] } }], { margin: { l: 160, r: 16, t: 16, b: 40 } }, 340);
  const servers = {};
  for (const tool of all.data) servers[tool.server ? `MCP: ${tool.server}` : "Built-in"] = (servers[tool.server ? `MCP: ${tool.server}` : "Built-in"] || 0) + tool.calls;
  const [pie, pieTools] = chart("tool-share", [{ type: "pie", labels: Object.keys(servers), values: Object.values(servers), hole: 0.45, marker: { colors: palette } }], {}, 340);
  content.append(el("div", { class: "grid2" }, panel("Top 10 tools", bars, barTools), panel("Share of calls", pie, pieTools)));
  const tools = [];
  content.append(panel("Tools", table({
    columns: [{ key: "name", label: "Tool", wrap: true }, { key: "server", label: "MCP server", format: (r) => r.server || "–" },
      { key: "calls", label: "Calls", num: true, format: (r) => fmt.tokens(r.calls) }, { key: "errors", label: "Errors", num: true, format: (r) => fmt.tokens(r.errors) },
      { key: "sessionCount", label: "Sessions", num: true, format: (r) => fmt.tokens(r.sessionCount) },
      { key: "firstUsed", label: "First used", format: (r) => fmt.time(r.firstUsed) }, { key: "lastUsed", label: "Last used", format: (r) => fmt.time(r.lastUsed) }],
    rows: all.data, csvName: "tools", tools, label: "tools",
  }), tools));
  const sessionTools = [];
  content.append(panel("Sessions using MCP tools (latest 50)", mcp.sessions.length ? table({
    columns: [{ key: "sessionId", label: "Session", format: (r) => r.sessionId.slice(0, 8), csv: (r) => r.sessionId }, { key: "cwd", label: "Folder", wrap: true },
      { key: "startTime", label: "From", format: (r) => fmt.time(r.startTime) }, { key: "endTime", label: "To", format: (r) => fmt.time(r.endTime) },
      { key: "tools", label: "Tools", wrap: true, sortable: false, format: (r) => Object.entries(r.tools).map(([n, c]) => `${n} ×${c}`).join(", "),
        csv: (r) => Object.entries(r.tools).map(([n, c]) => `${n}:${c}`).join(" ") }],
    rows: mcp.sessions, csvName: "mcp-sessions", tools: sessionTools,
  }) : emptyState("No MCP tool calls."), sessionTools));
  return content;
}

// -- Logs and todos ------------------------------------------------------------------------------

async function logsView({ params, api, setParams }) {
  const logs = await api("/api/v2/mcp/logs", { page: params.page || 1, limit: 50 }, false);
  const content = el("div", {}, el("h1", {}, "MCP logs"));
  const viewer = el("div", {});
  const open = async (row) => {
    viewer.replaceChildren(el("div", { class: "loading" }, `Loading ${row.file}…`));
    const file = await api("/api/v2/logs/content", { file: row.path }, false);
    viewer.replaceChildren(file ? panel(row.file, el("pre", { class: "file", tabindex: "0" }, file.data.content),
      [el("span", { class: "stamp" }, `${fmt.tokens(file.data.size)} bytes · ${fmt.time(file.data.modified)}`)]) : emptyState("The file is gone."));
    viewer.scrollIntoView({ behavior: "smooth" });
  };
  const tools = [];
  content.append(panel(`Log files (${logs.pagination.totalItems})`, logs.data.length ? el("div", {}, table({
    columns: [{ key: "file", label: "File" }, { key: "server", label: "Server" }, { key: "project", label: "Project", wrap: true },
      { key: "entries", label: "Entries", num: true, format: (r) => fmt.tokens(r.entries) }, { key: "errors", label: "Errors", num: true, format: (r) => fmt.tokens(r.errors) },
      { key: "size", label: "Bytes", num: true, format: (r) => fmt.tokens(r.size) }, { key: "timestamp", label: "Modified", format: (r) => fmt.time(r.timestamp) },
      { key: "error", label: "Problem", wrap: true, format: (r) => r.error || "" }],
    rows: logs.data, onRow: open, csvName: "mcp-logs", tools, label: "log files",
  }), pager(logs.pagination, (page) => setParams({ page }))) : emptyState("No MCP server logs found (set MCP_LOGS_PATH to look elsewhere)."), tools));
  content.append(viewer);
  return content;
}

async function todosView({ params, api, setParams }) {
  const todos = await api("/api/v2/todos", { page: params.page || 1, limit: 50 }, false);
  const tools = [];
  return el("div", {}, el("h1", {}, "Todo lists"), panel(`Todo lists (${todos.pagination.totalItems})`, todos.data.length ? el("div", {}, table({
    columns: [{ key: "sessionId", label: "Session", format: (r) => r.sessionId.slice(0, 8), csv: (r) => r.sessionId },
      { key: "tasks", label: "Tasks", num: true }, { key: "completed", label: "Done", num: true }, { key: "inProgress", label: "In progress", num: true },
      { key: "pending", label: "Pending", num: true }, { key: "timestamp", label: "Modified", format: (r) => fmt.time(r.timestamp) },
      { key: "file", label: "File", wrap: true }, { key: "error", label: "Problem", format: (r) => r.error || "" }],
    rows: todos.data, csvName: "todos", tools, label: "todo lists",
  }), pager(todos.pagination, (page) => setParams({ page }))) : emptyState("No TodoWrite lists found."), tools));
}

export const views = {
  summary: { label: "Summary", render: summaryView },
  daily: { label: "Daily", render: dailyView },
  monthly: { label: "Monthly", render: monthlyView },
  hourly: { label: "Hourly", render: hourlyView },
  models: { label: "Models", render: modelsView },
  projects: { label: "Projects", render: projectsView },
  sessions: { label: "Sessions", render: sessionsView },
  tools: { label: "Tools & MCP", render: toolsView },
  logs: { label: "Logs", render: logsView },
  todos: { label: "Todos", render: todosView },
};

/** Fill the tab bar; ``go(view)`` navigates. */
export function tabs(nav, go) {
  nav.replaceChildren(...Object.entries(views).map(([name, view]) =>
    el("a", { href: `#/${name}`, "data-view": name, onclick: (e) => { e.preventDefault(); go(name); } }, view.label)));
}
