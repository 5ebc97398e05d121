// The Summary view: totals, today, this week and month against the same days before, the month's
// projection, the active 5-hour block, cost per day (stacked by model or project), top sessions
// and projects.

import { cards, countdown, el, emptyState, fmt, noDataHelp, panel, plural, table } from "./ui.js";
import { COST, REQUESTS, costOverTime, lastPart, narrow, pathText, pricedOnly } from "./common.js";
import { budgetsPanel } from "./budgets.js";
import { officialBars } from "./limits-view.js";

const LIMIT_KEY = "claude-usage.blockTokenLimit";

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
 * token limit (yours, or the estimate "max": the largest past block), and beside it the official
 * 5-hour and weekly use when Claude Code passed them to the status line (``official``). */
async function activeBlockPanel(api, official) {
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
  const officialPart = official ? officialBars(official) : null;
  if (!block) {
    return panel("Active 5\u2011hour block", el("div", {}, emptyState("No active block: the next request starts a new 5-hour window."), officialPart), [form]);
  }
  const resetAt = new Date(block.limited && block.limitResetTime && new Date(block.limitResetTime) > new Date() ? block.limitResetTime : block.end);
  const rate = block.burnRate;
  const projection = block.projection;
  const partial = block.unpricedRequests ? "priced requests only" : null;
  const body = el("div", { "data-testid": "active-block" }, cards([
    ["Block cost", fmt.cost(block.costUsd), partial || `${fmt.clock(block.start)} – ${fmt.clock(block.end)}`],
    ["Tokens", fmt.tokens(block.totalTokens), plural(block.requests, "request")],
    ["Resets in", countdown(resetAt.toISOString(), "reset-countdown"), block.limited ? `usage limit hit · resets ${fmt.clock(resetAt.toISOString())}` : `at ${fmt.clock(resetAt.toISOString())}`],
    ["Burn rate", rate ? `${fmt.cost(rate.costPerHour)}/h` : "–", rate ? `${fmt.tokens(rate.tokensPerMinute)} tokens/min` : "under a minute of activity"],
    ["Projected at reset", projection ? fmt.cost(projection.costUsd) : "–", projection ? (partial || `${fmt.tokens(projection.totalTokens)} tokens`) : null],
  ]));
  if (block.limits && block.limits.tokens) body.append(limitBar(block.limits.tokens, "tokens", fmt.tokens));
  else if (given === "max") body.append(el("p", { class: "muted" }, "No past block yet to estimate a limit from."));
  if (officialPart) body.append(officialPart);
  return panel("Active 5\u2011hour block", body, [form]);
}

/** What the costs of a summary get wrong or leave out, one paragraph each (DESIGN section 5). */
function pricingNotes(summary) {
  const notes = [];
  if (summary.placeholderOutputRequests) {
    notes.push(el("p", {}, el("strong", {}, `${plural(summary.placeholderOutputRequests, "request")} with a placeholder output count. `),
      "Claude Code before 2.1.97 wrote an early streaming count (often 1-30 tokens) into the transcript instead of the " +
      "final one; the true count is lost, so their output tokens and cost are undercounted. Fixed in Claude Code 2.1.97."));
  }
  if (summary.fastUnpricedRequests) {
    notes.push(el("p", {}, el("strong", {}, `${plural(summary.fastUnpricedRequests, "fast-mode request")} at the standard price: `),
      "no fast-mode price is known for their model, so their cost is likely too low."));
  }
  return notes;
}

/** "vs $10.00 the same days of last week · +23%" (or that the days before had no usage). */
function compared(period, unit) {
  const previous = period.previous;
  if (!previous.requests) return `no usage the same days of last ${unit}`;
  return `vs ${fmt.cost(previous.costUsd)} same days last ${unit}${period.change == null ? "" : ` · ${fmt.change(period.change)}`}`;
}

function periodCard(label, period, unit, testid) {
  const sub = [compared(period, unit), pricedOnly(period.unpricedRequests)].filter(Boolean).join(" · ");
  const trend = period.change == null ? "" : period.change > 0 ? " up" : period.change < 0 ? " down" : "";
  return [label, fmt.cost(period.costUsd), sub, { "data-testid": testid, class: trend.trim() || null }];
}

export async function summaryView(context) {
  const { api, go, flagUnpriced } = context;
  const [summary, daily, sessions, projects] = await Promise.all([
    api("/api/v2/summary"),
    api("/api/v2/daily", { limit: 1000 }),
    api("/api/v2/sessions", { limit: 5, sortBy: "cost" }),
    api("/api/v2/projects", { limit: 5, sortBy: "totalCost" }),
  ]);
  flagUnpriced(summary.unpricedModels);
  if (!summary.totalMessages) return el("div", {}, el("h1", {}, "Summary"), noDataHelp());
  const projection = summary.monthProjection;
  const content = el("div", {}, el("h1", {}, "Summary"), cards([
    ["Total cost", fmt.cost(summary.totalCostUsd), pricedOnly(summary.unpricedModels.length), { "data-testid": "total-cost" }],
    ["Today", fmt.cost(summary.todayCostUsd), pricedOnly(summary.todayUnpricedRequests), { "data-testid": "today-cost" }],
    periodCard("This week", summary.periods.week, "week", "week-cost"),
    periodCard("This month", summary.periods.month, "month", "month-cost"),
    ["Month projection", fmt.cost(projection.costUsd),
      [projection.soFarUsd ? `at ${fmt.cost(projection.dailyAverageUsd)} a day · day ${projection.daysElapsed} of ${projection.daysInMonth}` : "no usage this month yet",
        pricedOnly(projection.unpricedRequests)].filter(Boolean).join(" · "), { "data-testid": "month-projection" }],
    ["Tokens", fmt.tokens(summary.totalTokens), `cache hit ratio ${fmt.percent(summary.cacheHitRatio)}`],
    ["Requests", fmt.tokens(summary.totalMessages), plural(summary.totalProjects, "project")],
    ["Sessions", fmt.tokens(summary.totalConversations), summary.totalMcpSessions ? `${fmt.tokens(summary.totalMcpSessions)} with MCP tools` : null],
    ...(summary.webSearchRequests ? [["Web searches", fmt.tokens(summary.webSearchRequests), "$10 per 1,000, in the cost"]] : []),
  ]));
  const notes = pricingNotes(summary);
  if (notes.length) {  // on a phone, the first sentence of each; the rest behind a tap
    content.append(el("div", { class: "notice inline", role: "note", "data-testid": "pricing-notes" }, notes.map((note) => {
      const [head, ...rest] = [...note.childNodes];
      const details = el("details", { class: "notice-details" }, el("summary", {}, head), el("div", {}, " ", ...rest));
      if (!narrow()) details.open = true;
      return details;
    })));
  }
  const budgets = await budgetsPanel(api, context.params.tz || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC");
  if (budgets) content.append(budgets);
  content.append(await activeBlockPanel(api, summary.officialLimits));
  const [trend, trendTools] = await costOverTime(context, daily, "daily-cost");
  content.append(panel("Cost per day", trend, trendTools));
  const sessionTools = [];
  const projectTools = [];
  content.append(el("div", { class: "grid2" },
    panel("Top sessions", table({
      columns: [
        { key: "title", label: "Session", wrap: true, format: (r) => el("span", { class: "clamp", title: r.title || r.sessionId }, r.title || r.sessionId.slice(0, 8)),
          csv: (r) => r.title || r.sessionId },
        { key: "project", label: "Project", optional: true, format: (r) => pathText(lastPart(r.path || r.project)), csv: (r) => r.path || r.project },
        COST,
      ],
      rows: sessions.data, onRow: (r) => go("sessions", r.sessionId), csvName: "top-sessions", tools: sessionTools, label: "top-sessions",
    }), sessionTools),
    panel("Top projects", table({
      columns: [{ key: "name", label: "Project", wrap: true, format: (r) => pathText(r.path || r.name), csv: (r) => r.path || r.name },
        { ...REQUESTS, optional: true }, COST],
      rows: projects.data, onRow: (r) => go("projects", r.name), csvName: "top-projects", tools: projectTools, label: "top-projects",
    }), projectTools)));
  return content;
}
