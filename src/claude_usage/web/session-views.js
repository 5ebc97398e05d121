// The Sessions view (titles, projects, start, duration, cost; server-side sorting, pages) and one
// session in detail: its cards, the timeline of its requests, its models and its subagents.

import { cards, el, emptyState, fmt, noDataHelp, pager, panel, plural, table } from "./ui.js";
import { chart, palette } from "./charts.js";
import { COST, COUNT_AXIS, LEGEND_TOP, REQUESTS, lastPart, link, narrow, pathText, pricedOnly, shortModel } from "./common.js";

/** A session's name for people: its title (or first prompt), else the start of its id; on a phone,
 * where the other columns give way, its start, project and duration under it. */
function sessionName(row) {
  return el("div", {},
    el("span", { class: "clamp", title: row.title || row.sessionId }, row.title || `Session ${row.sessionId.slice(0, 8)}`),
    el("div", { class: "phone-only muted small" },
      [fmt.time(row.firstActivity), lastPart(row.path || row.project), fmt.duration(row.durationMinutes)].filter(Boolean).join(" · ")));
}

export async function sessionsView(context) {
  const { key, params, api, go, setParams, flagUnpriced } = context;
  if (key) return sessionView(context);
  const sortBy = params.sortBy || "lastActivity";
  const sortOrder = params.sortOrder || "desc";
  const sessions = await api("/api/v2/sessions", { page: params.page || 1, limit: 50, sortBy, sortOrder });
  flagUnpriced(sessions.unpricedModels);
  const serverSort = { firstActivity: "lastActivity", costUsd: "cost", totalTokens: "totalTokens" };
  const tools = [];
  const columns = [
    { key: "title", label: "Session", sortable: false, wrap: true, format: sessionName, csv: (r) => r.title || "" },
    { key: "project", label: "Project", sortable: false, optional: true, format: (r) => pathText(lastPart(r.path || r.project)), csv: (r) => r.path || r.project },
    { key: "firstActivity", label: "Started", optional: true, format: (r) => fmt.time(r.firstActivity) },
    { key: "durationMinutes", label: "Duration", num: true, sortable: false, optional: true, format: (r) => fmt.duration(r.durationMinutes) },
    { key: "modelsUsed", label: "Models", sortable: false, optional: true, format: (r) => (r.modelsUsed || []).map(shortModel).join(", "), csv: (r) => (r.modelsUsed || []).join(" ") },
    { key: "totalTokens", label: "Total tokens", num: true, optional: true, format: (r) => fmt.tokens(r.totalTokens) },
    { ...COST },
    { key: "sessionId", label: "Id", sortable: false, optional: true, format: (r) => el("code", {}, r.sessionId.slice(0, 8)), csv: (r) => r.sessionId },
  ];
  const body = el("div", {}, table({
    columns, rows: sessions.data, onRow: (r) => go("sessions", r.sessionId), csvName: "sessions", tools, label: "sessions",
    sort: { key: Object.keys(serverSort).find((k) => serverSort[k] === sortBy), order: sortOrder,
      onSort: (column) => setParams({ sortBy: serverSort[column], sortOrder: sortBy === serverSort[column] && sortOrder === "desc" ? "asc" : "desc", page: "" }) },
  }), pager(sessions.pagination, (page) => setParams({ page })), sessions.data.length ? null : noDataHelp());
  return el("div", {}, el("h1", {}, "Sessions"), panel(`Sessions (${sessions.pagination.totalItems})`, body, tools));
}

/** The timeline of a session's requests, in time order (request 1, 2, ...: a session's idle hours
 * would otherwise squeeze its requests into a few pixels): the cost of each (a marker; a
 * subagent's in another colour and shape) and its tokens (bars on the right-hand axis); the hover
 * names its time, model and agent. */
function timelineChart(key, timeline) {
  const rows = timeline.data;
  const order = rows.map((_, at) => at + 1);
  const traces = [{
    type: "bar", x: order, y: rows.map((r) => r.totalTokens), name: "Tokens", yaxis: "y2",
    marker: { color: palette[7], opacity: 0.35 }, customdata: rows.map((r) => fmt.time(r.time)),
    hovertemplate: "#%{x} · %{customdata}<br>%{y:,} tokens<extra></extra>",
  }];
  for (const [sidechain, name, color, symbol] of [[false, "Main", palette[0], "circle"], [true, "Subagent", palette[1], "diamond"]]) {
    const part = order.filter((_, at) => rows[at].sidechain === sidechain);
    if (!part.length) continue;
    traces.push({
      type: "scatter", mode: "markers", x: part, y: part.map((n) => rows[n - 1].costUsd ?? 0), name: `Cost, ${name.toLowerCase()}`,
      marker: { color, symbol, size: narrow() ? 6 : 7, line: { width: 0 } },
      customdata: part.map((n) => [fmt.time(rows[n - 1].time), shortModel(rows[n - 1].model), rows[n - 1].totalTokens.toLocaleString(),
        rows[n - 1].agentId ? `agent ${rows[n - 1].agentId}` : "main"]),
      hovertemplate: "#%{x} · %{customdata[0]}<br>$%{y:.4f} · %{customdata[2]} tokens<br>%{customdata[1]} · %{customdata[3]}<extra></extra>",
    });
  }
  return chart(`session-${key.slice(0, 8)}-timeline`, traces, {
    bargap: 0.15, xaxis: { title: { text: "request, in time order" }, tickformat: "d", range: [0.5, rows.length + 0.5] },
    yaxis: { title: { text: "USD per request" } }, yaxis2: { ...COUNT_AXIS, title: { text: "tokens" } },
    legend: LEGEND_TOP, margin: { l: 64, r: 64, t: 40, b: 48 },
  });
}

async function sessionView({ key, api, go, flagUnpriced }) {
  const [session, timeline] = await Promise.all([
    api(`/api/v2/sessions/${encodeURIComponent(key)}`),
    api(`/api/v2/sessions/${encodeURIComponent(key)}/requests`),
  ]);
  const back = el("div", { class: "crumbs" }, link("← Sessions", () => go("sessions")));
  if (!session) return el("div", {}, back, el("h1", {}, key), emptyState("No usage for this session (with the filters above)."));
  flagUnpriced(session.unpricedModels);
  const content = el("div", {}, back, el("h1", { class: "session-title" }, session.title || `Session ${key.slice(0, 8)}`),
    el("p", { class: "muted subtitle" }, el("code", {}, key)),
    cards([
      ["Cost", fmt.cost(session.costUsd), pricedOnly(session.unpricedRequests)],
      ["Tokens", fmt.tokens(session.totalTokens), `${fmt.tokens(session.inputTokens)} in · ${fmt.tokens(session.outputTokens)} out`],
      ["Requests", fmt.tokens(session.requests), plural(session.modelsUsed.length, "model")],
      ["Subagents", fmt.cost(session.subagentCostUsd), plural(session.subagents.length, "transcript")],
      ["Project", pathText(lastPart(session.path || session.project || "–")), session.path ? pathText(session.path) : null],
      ["Started", fmt.time(session.firstActivity), `lasted ${fmt.duration(session.durationMinutes)}`],
    ]));
  if (timeline && timeline.data.length) {
    const [graph, graphTools] = timelineChart(key, timeline);
    const shown = timeline.shown < timeline.totalRequests ? `, the first ${fmt.tokens(timeline.shown)} of ${fmt.tokens(timeline.totalRequests)}` : "";
    content.append(panel(`Requests in time order (${fmt.time(session.firstActivity)} – ${fmt.time(session.lastActivity)}${shown})`, graph, graphTools));
  }
  const modelTools = [];
  const agentTools = [];
  // Both tables take the whole width: the models table has six columns.
  content.append(panel("Models", table({
    columns: [{ key: "model", label: "Model", wrap: true, format: (r) => shortModel(r.model), csv: (r) => r.model }, REQUESTS,
      { key: "totalTokens", label: "Total tokens", num: true, format: (r) => fmt.tokens(r.totalTokens) },
      { key: "cacheReadTokens", label: "Cache read", num: true, optional: true, format: (r) => fmt.tokens(r.cacheReadTokens) },
      { key: "outputTokens", label: "Output", num: true, optional: true, format: (r) => fmt.tokens(r.outputTokens) }, COST],
    rows: session.models, csvName: "session-models", tools: modelTools, label: "session-models" }), modelTools));
  content.append(panel("Subagents", session.subagents.length ? table({ columns: [
    { key: "agentId", label: "Agent", format: (r) => el("code", {}, r.agentId) },
    { key: "agentType", label: "Type", format: (r) => r.agentType || el("span", { class: "muted", title: "No .meta.json beside the transcript" }, "–") },
    { key: "description", label: "Task", wrap: true, format: (r) => r.description
      ? r.description : r.task ? el("span", { class: "clamp", title: r.task }, r.task, " ", el("span", { class: "muted" }, "(first prompt)")) : "–",
    csv: (r) => r.description || r.task || "" },
    { ...REQUESTS, optional: true }, COST], rows: session.subagents, csvName: "session-subagents", tools: agentTools, label: "session-subagents" })
    : emptyState("No subagent transcripts."), agentTools));
  return content;
}
