// The views of what surrounds the usage: Tools & MCP (with the dates, project and model filters),
// MCP logs and todo lists (with the dates and project filters; they name no model).

import { cards, el, emptyState, fmt, pager, panel, plural, table } from "./ui.js";
import { chart, palette } from "./charts.js";
import { lastPart, pathText } from "./common.js";

const HIGH_ERROR_RATE = 0.1;  // a tool failing this often is highlighted

function errorRate(row) {
  const text = row.calls ? fmt.percent(row.errorRate) : "–";
  return row.calls && row.errorRate >= HIGH_ERROR_RATE
    ? el("span", { class: "rate-high", title: `${plural(row.errors, "error result")} of ${plural(row.calls, "call")}` }, text) : text;
}

/** "No ... (within the filters above)" when filters are set, else what to do. */
function none(what, params, otherwise) {
  const filtered = params.startDate || params.endDate || params.project || params.model;
  return emptyState(filtered ? `No ${what} within the filters above.` : otherwise);
}

export async function toolsView({ api, params }) {
  const [all, mcp] = await Promise.all([api("/api/v2/tools"), api("/api/v2/mcp/tools")]);
  const content = el("div", {}, el("h1", {}, "Tools and MCP"), cards([
    ["Tool calls", fmt.tokens(all.totalCalls)], ["Tools", fmt.tokens(all.uniqueTools)],
    ["Error results", fmt.tokens(all.totalErrors), all.totalCalls ? `${fmt.percent(all.totalErrors / all.totalCalls)} of calls` : null],
    ["MCP calls", fmt.tokens(mcp.totalCalls)], ["MCP tools", fmt.tokens(mcp.uniqueTools)]]));
  if (!all.data.length) return content.appendChild(none("tool calls", params, "No tool use in the transcripts.")).parentNode;
  const top = all.data.slice(0, 10);
  const [bars, barTools] = chart("top-tools", [{ type: "bar", orientation: "h", y: top.map((t) => t.tool).reverse(), x: top.map((t) => t.calls).reverse(),
    marker: { color: palette[1] }, customdata: top.map((t) => t.name).reverse(), hovertemplate: "%{customdata}<br>%{x:,} calls<extra></extra>" }],
  { margin: { l: 120, r: 16, t: 16, b: 40 }, yaxis: { automargin: true } }, 340);
  const servers = {};
  for (const tool of all.data) servers[tool.server ? `MCP: ${tool.server}` : "Built-in"] = (servers[tool.server ? `MCP: ${tool.server}` : "Built-in"] || 0) + tool.calls;
  if (Object.keys(servers).length > 1) {  // a pie of one slice tells nothing
    const [pie, pieTools] = chart("tool-share", [{ type: "pie", labels: Object.keys(servers), values: Object.values(servers), hole: 0.45, marker: { colors: palette } }],
      { legend: { orientation: "h", y: -0.1 } }, 340);
    content.append(el("div", { class: "grid2" }, panel("Top 10 tools", bars, barTools), panel("Calls by server", pie, pieTools)));
  } else {
    content.append(panel("Top 10 tools (all built-in)", bars, barTools));
  }
  const mcpColumn = all.data.some((r) => r.server);
  const tools = [];
  content.append(panel("Tools", table({
    columns: [{ key: "tool", label: "Tool", wrap: true, format: (r) => pathText(r.tool), csv: (r) => r.name },
      mcpColumn ? { key: "server", label: "MCP server", optional: true, format: (r) => r.server || "–" } : null,
      { key: "calls", label: "Calls", num: true, format: (r) => fmt.tokens(r.calls) },
      { key: "errors", label: "Errors", num: true, optional: true, format: (r) => fmt.tokens(r.errors) },
      { key: "errorRate", label: "Error rate", num: true, format: errorRate },
      { key: "sessionCount", label: "Sessions", num: true, optional: true, format: (r) => fmt.tokens(r.sessionCount) },
      { key: "firstUsed", label: "First used", optional: true, format: (r) => fmt.time(r.firstUsed) },
      { key: "lastUsed", label: "Last used", optional: true, format: (r) => fmt.time(r.lastUsed) }].filter(Boolean),
    rows: all.data, csvName: "tools", tools, label: "tools",
  }), tools));
  const sessionTools = [];
  content.append(panel("Sessions using MCP tools (latest 50)", mcp.sessions.length ? table({
    columns: [{ key: "sessionId", label: "Session", format: (r) => el("code", {}, r.sessionId.slice(0, 8)), csv: (r) => r.sessionId },
      { key: "cwd", label: "Folder", optional: true, format: (r) => pathText(lastPart(r.cwd || "–")), csv: (r) => r.cwd },
      { key: "startTime", label: "From", optional: true, format: (r) => fmt.time(r.startTime) }, { key: "endTime", label: "To", format: (r) => fmt.time(r.endTime) },
      { key: "tools", label: "Tools", wrap: true, sortable: false, format: (r) => Object.entries(r.tools).map(([n, c]) => `${n.split("__").pop()} ×${c}`).join(", "),
        csv: (r) => Object.entries(r.tools).map(([n, c]) => `${n}:${c}`).join(" ") }],
    rows: mcp.sessions, csvName: "mcp-sessions", tools: sessionTools, label: "mcp-sessions",
  }) : none("MCP tool calls", params, "No MCP tool calls."), sessionTools));
  return content;
}

export async function logsView({ params, api, setParams }) {
  const logs = await api("/api/v2/mcp/logs", { page: params.page || 1, limit: 50 });
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
    columns: [{ key: "file", label: "File", wrap: true, format: (r) => pathText(r.file) }, { key: "server", label: "Server" },
      { key: "project", label: "Project", optional: true, format: (r) => pathText(r.project || "–") },
      { key: "entries", label: "Entries", num: true, format: (r) => fmt.tokens(r.entries) }, { key: "errors", label: "Errors", num: true, format: (r) => fmt.tokens(r.errors) },
      { key: "size", label: "Bytes", num: true, optional: true, format: (r) => fmt.tokens(r.size) },
      { key: "timestamp", label: "Modified", optional: true, format: (r) => fmt.time(r.timestamp) },
      logs.data.some((r) => r.error) ? { key: "error", label: "Problem", wrap: true, optional: true, format: (r) => r.error || "" } : null,
    ].filter(Boolean), rows: logs.data, onRow: open, csvName: "mcp-logs", tools, label: "log files",
  }), pager(logs.pagination, (page) => setParams({ page }))) : none("MCP server logs", params, "No MCP server logs found (set MCP_LOGS_PATH to look elsewhere)."), tools));
  content.append(viewer);
  return content;
}

export async function todosView({ params, api, setParams }) {
  const todos = await api("/api/v2/todos", { page: params.page || 1, limit: 50 });
  const tools = [];
  return el("div", {}, el("h1", {}, "Todo lists"), panel(`Todo lists (${todos.pagination.totalItems})`, todos.data.length ? el("div", {}, table({
    columns: [{ key: "sessionId", label: "Session", format: (r) => el("code", {}, r.sessionId.slice(0, 8)), csv: (r) => r.sessionId },
      { key: "tasks", label: "Tasks", num: true }, { key: "completed", label: "Done", num: true }, { key: "inProgress", label: "In progress", num: true, optional: true },
      { key: "pending", label: "Pending", num: true }, { key: "timestamp", label: "Modified", optional: true, format: (r) => fmt.time(r.timestamp) },
      { key: "file", label: "File", wrap: true, optional: true, format: (r) => pathText(r.file) },
      todos.data.some((r) => r.error) ? { key: "error", label: "Problem", optional: true, format: (r) => r.error || "" } : null,
    ].filter(Boolean), rows: todos.data, csvName: "todos", tools, label: "todo lists",
  }), pager(todos.pagination, (page) => setParams({ page }))) : none("todo lists", params, "No TodoWrite lists found."), tools));
}
