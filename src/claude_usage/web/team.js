// Team mode (a server started with --team URL): usage per user and per machine, from
// /api/v2/users. A row opens the Summary filtered to that user or machine.

import { cards, el, emptyState, fmt, panel, table } from "./ui.js";
import { chart, palette } from "./charts.js";
import { COST, REQUESTS, TOKEN_COLUMNS, totalsRow } from "./common.js";

// On phones (under 600 px) the optional columns give way to the name, total tokens and cost.
const SESSIONS = { key: "sessions", label: "Sessions", num: true, optional: true, format: (r) => fmt.tokens(r.sessions) };
const OPTIONAL_REQUESTS = { ...REQUESTS, optional: true };
const TOTAL_TOKENS = TOKEN_COLUMNS.find((column) => column.key === "totalTokens");

export async function teamView({ api, go, flagUnpriced }) {
  const team = await api("/api/v2/users");
  flagUnpriced(team.unpricedModels);
  const content = el("div", {}, el("h1", {}, "Team"));
  content.append(cards([
    ["Cost", fmt.cost(team.totals.costUsd)],
    ["Users", fmt.tokens(team.users.length)],
    ["Machines", fmt.tokens(team.machines.length)],
    ["Requests", fmt.tokens(team.totals.requests), `${fmt.tokens(team.totals.totalTokens)} tokens`],
  ]));
  if (!team.machines.length) {
    return content.appendChild(emptyState("No machine has pushed yet: run claude-usage push --team URL on each machine.")).parentNode;
  }
  const priced = team.users.filter((row) => row.costUsd);
  const [bars, barTools] = chart("cost-per-user", [{
    type: "bar", orientation: "h", y: priced.map((row) => row.user).reverse(), x: priced.map((row) => row.costUsd).reverse(),
    marker: { color: palette[0] }, hovertemplate: "%{y}: $%{x:,.2f}<extra></extra>",
  }], { margin: { l: 120, r: 16, t: 16, b: 40 }, xaxis: { tickprefix: "$" } }, Math.max(180, 48 + 36 * priced.length));
  const userTools = [];
  const users = table({
    columns: [{ key: "user", label: "User" }, { key: "machines", label: "Machines", wrap: true, optional: true,
      format: (r) => r.machines.join(", "), csv: (r) => r.machines.join(" ") }, SESSIONS, OPTIONAL_REQUESTS, TOTAL_TOKENS, COST],
    rows: team.users, footer: { ...totalsRow(team.users, "Total", "user"), machines: [], sessions: team.totals.sessions },
    onRow: (row) => go("summary", null, { user: row.user }), csvName: "users", tools: userTools, label: "users",
  });
  const machineTools = [];
  const machines = table({
    columns: [{ key: "machine", label: "Machine" }, { key: "user", label: "User" },
      { key: "lastPush", label: "Last push", optional: true, format: (r) => fmt.time(r.lastPush) }, SESSIONS, OPTIONAL_REQUESTS,
      { ...TOTAL_TOKENS, optional: true }, COST],
    rows: team.machines, onRow: (row) => go("summary", null, { machine: row.machineId }), csvName: "machines",
    tools: machineTools, label: "machines",
  });
  content.append(el("div", { class: "grid2" }, panel("Cost per user", bars, barTools), panel("Users", users, userTools)),
    panel("Machines", machines, machineTools));
  return content;
}
