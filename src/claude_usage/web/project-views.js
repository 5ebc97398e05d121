// The Projects view (search, minimum cost, server-side sorting, pages) and one project in detail.

import { cards, el, emptyState, fmt, noDataHelp, pager, panel, table } from "./ui.js";
import { chart, dayAxis, palette } from "./charts.js";
import { COST, DAY_BAR_MS, REQUESTS, costCell, lastPart, link, pathText, pricedOnly, shortModel, usageCards } from "./common.js";

export async function projectsView(context) {
  const { key, params, api, go, setParams, flagUnpriced } = context;
  if (key) return projectView(context);
  const sortBy = params.sortBy || "totalCost";
  const sortOrder = params.sortOrder || "desc";
  const projects = await api("/api/v2/projects", {
    page: params.page || 1, limit: 20, sortBy, sortOrder, search: params.search || "", minCost: params.minCost || "",
  });
  flagUnpriced(projects.unpricedModels);
  const content = el("div", {}, el("h1", {}, "Projects"));
  content.append(cards([["Projects", fmt.tokens(projects.stats.totalProjects)],
    ["Cost", fmt.cost(Number(projects.stats.totalCost)), pricedOnly(projects.unpricedModels.length)],
    ["Tokens", fmt.tokens(projects.stats.totalTokens)], ["Active (30 days)", fmt.tokens(projects.stats.activeProjects)]]));
  const search = el("input", { type: "search", placeholder: "Search name or path", value: params.search || "", "aria-label": "Search projects" });
  let timer;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => setParams({ search: search.value, page: "" }), 250); });
  const minCost = el("input", { type: "number", min: "0", step: "0.01", placeholder: "Min cost $", value: params.minCost || "", "aria-label": "Minimum cost in USD", style: "width: 9em" });
  minCost.addEventListener("change", () => setParams({ minCost: minCost.value, page: "" }));
  const serverSort = { totalCost: "totalCost", costUsd: "totalCost", totalTokens: "totalTokens", name: "name", messageCount: "messageCount", lastActivity: "lastActivity" };
  const tools = [search, minCost];
  const columns = [
    { key: "name", label: "Project", wrap: true, format: (r) => el("span", { title: r.name }, pathText(r.path || r.name)), csv: (r) => r.path || r.name },
    { key: "messageCount", label: "Requests", num: true, optional: true, format: (r) => fmt.tokens(r.messageCount) },
    { key: "totalTokens", label: "Total tokens", num: true, optional: true, format: (r) => fmt.tokens(r.totalTokens) },
    { key: "totalCost", label: "Cost", num: true, cost: true, format: costCell, csv: (r) => r.costUsd },
    { key: "lastActivity", label: "Last activity", optional: true, format: (r) => fmt.time(r.lastActivity) },
  ];
  const body = el("div", {}, table({
    columns, rows: projects.data, onRow: (r) => go("projects", r.name), csvName: "projects", tools, label: "projects",
    sort: { key: sortBy, order: sortOrder, onSort: (column) => setParams({ sortBy: serverSort[column], sortOrder: sortBy === serverSort[column] && sortOrder === "desc" ? "asc" : "desc", page: "" }) },
  }), pager(projects.pagination, (page) => setParams({ page })),
  projects.data.length ? null : (params.search || params.minCost ? emptyState("No project matches.") : noDataHelp()));
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
  const content = el("div", {}, back, el("h1", { class: "path-title" }, pathText(project.path || project.name)), usageCards(project, [
    ["Sessions", fmt.tokens(project.sessions)], ["Last activity", fmt.time(project.lastActivity)]]));
  const [graph, graphTools] = chart(`project-${lastPart(key)}`, [{ type: "bar", x: project.daily.map((d) => d.date), y: project.daily.map((d) => d.costUsd ?? 0),
    name: "Cost (USD)", width: DAY_BAR_MS, marker: { color: palette[0] }, hovertemplate: "%{x}<br>$%{y:.2f}<extra></extra>" }],
  { xaxis: dayAxis(project.daily), yaxis: { title: { text: "USD" } } });
  content.append(panel("Cost per day", graph, graphTools));
  const modelTools = [];
  const sessionTools = [];
  content.append(el("div", { class: "grid2" },
    panel("Models", table({ columns: [{ key: "model", label: "Model", wrap: true, format: (r) => shortModel(r.model), csv: (r) => r.model },
      { ...REQUESTS, optional: true }, COST], rows: project.models, csvName: "project-models", tools: modelTools, label: "project-models" }), modelTools),
    panel(`Sessions (${fmt.tokens(project.sessionList.length)})`, table({ columns: [
      { key: "title", label: "Session", wrap: true, format: (r) => el("span", { class: "clamp", title: r.title || r.sessionId }, r.title || r.sessionId.slice(0, 8)),
        csv: (r) => r.title || r.sessionId },
      { key: "lastActivity", label: "Last activity", optional: true, format: (r) => fmt.time(r.lastActivity) }, { ...REQUESTS, optional: true }, COST],
    rows: project.sessionList, onRow: (r) => go("sessions", r.sessionId), csvName: "project-sessions", tools: sessionTools, label: "project-sessions" }), sessionTools)));
  return content;
}
