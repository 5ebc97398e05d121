// Budgets (issue 15): the Budgets panel of the Summary view (a bar per budget with its alert
// thresholds), the toasts of the alerts pushed over SSE, and the plan's value on the Monthly view.

import { el, emptyState, fmt, panel } from "./ui.js";

const STATUS_TEXT = { ok: "on track", warning: "warning", "projected-over": "on course to pass it", over: "over budget" };

function budgetName(row) {
  const period = { day: "Today", week: "This week", month: "This month" }[row.period] || row.period;
  return row.project ? `${row.project} · ${period.toLowerCase()}` : period;
}

/** A budget's bar: spent (coloured by status), the projection (lighter) and a tick per alert
 * threshold, on a scale reaching past 100% when the budget is passed. */
function budgetBar(row, thresholds) {
  const scale = Math.max(100, Math.min(200, Math.max(row.percent, row.projectedPercent ?? 0)));
  const at = (percent) => `${Math.min(100, (100 * percent) / scale)}%`;
  const ticks = thresholds.filter((t) => t <= scale).map((t) =>
    el("span", { class: "tick", style: `left:${at(t)}`, title: `${t}% alert` }));
  const words = [`${fmt.cost(row.spentUsd)} of ${fmt.cost(row.limitUsd)}`, `${fmt.number(row.percent)}%`];
  if (row.projectedUsd != null) words.push(`projected ${fmt.cost(row.projectedUsd)}`);
  words.push(row.status === "over" ? `${fmt.cost(row.spentUsd - row.limitUsd)} over` : `${fmt.cost(row.remainingUsd)} left`);
  return el("div", { class: `budget ${row.status}`, "data-testid": `budget-${row.budget}` },
    el("div", { class: "budget-text" }, el("strong", {}, budgetName(row)), " ", el("span", { class: "budget-status" }, STATUS_TEXT[row.status] || row.status),
      el("div", { class: "muted" }, words.join(" · "))),
    el("div", { class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(Math.min(100, row.percent)),
      "aria-label": `${budgetName(row)} budget used` },
    row.projectedPercent != null ? el("div", { class: "projected", style: `width:${at(row.projectedPercent)}` }) : null,
    el("div", { class: "used", style: `width:${at(row.percent)}` }), ...ticks));
}

/** The Budgets panel, or null when the settings file sets no budget. ``tz``: the view's zone. */
export async function budgetsPanel(api, tz) {
  const data = await api("/api/v2/budgets", { tz }, false);
  if (!data || !data.budgets.length) return null;
  const body = el("div", {}, el("div", { class: "budgets" }, data.budgets.map((row) => budgetBar(row, data.thresholds))));
  const last = data.alerts[0];
  if (last) {
    const what = last.threshold === "projected" ? "projected to pass 100%" : `passed ${last.threshold}%`;
    body.append(el("p", { class: "muted small last-alert" }, `Last alert: ${last.budget.replace(/^project:/, "").replaceAll(":", " ")} budget ${what}, ${fmt.time(last.time)}`));
  }
  return panel("Budgets", body, [el("span", { class: "muted small" }, `alerts at ${data.thresholds.map((t) => `${t}%`).join(", ")}`)]);
}

let toasts = null;

/** Show an alert pushed over SSE (``{budget, label, threshold, message, ...}``) until dismissed. */
export function showAlert(alert) {
  if (!toasts || !toasts.isConnected) {
    toasts = el("div", { class: "toasts", "aria-live": "assertive" });
    document.body.append(toasts);
  }
  const box = el("div", { class: `toast ${alert.status}`, role: "alert", "data-testid": "budget-alert" },
    el("div", {}, el("strong", {}, "Budget alert"), el("div", {}, alert.message)),
    el("button", { type: "button", class: "secondary", "aria-label": "Dismiss", onclick: () => box.remove() }, "×"));
  toasts.append(box);
}

/** The plan's cards on the Monthly view: its price and the value of the months shown. */
export function planCards(monthly) {
  const plan = monthly.plan;
  if (!plan) return emptyState("Set your plan in the settings file (claude-usage config) to see what your use is worth against its price.");
  const rows = monthly.data;
  if (plan.priceUsd == null) return el("p", { class: "muted" }, `Plan ${plan.name}: pay per use; the API cost is the price.`);
  const cost = rows.reduce((sum, r) => sum + (r.costUsd || 0), 0);
  const paid = plan.priceUsd * rows.length;
  return el("p", { class: "plan-line", "data-testid": "plan-value" },
    el("strong", {}, `Plan ${plan.name}, ${fmt.cost(plan.priceUsd)} a month. `),
    `${rows.length} month${rows.length === 1 ? "" : "s"}: ${fmt.cost(cost)} of API-equivalent use for ${fmt.cost(paid)} (${fmt.number(cost / paid)}×).`);
}

/** The Monthly table's columns of the plan: the value (API-equivalent cost / price) and the price. */
export const VALUE_COLUMN = { key: "valueRatio", label: "Value", num: true, format: (r) => (r.valueRatio == null ? "–" : `${fmt.number(r.valueRatio)}×`),
  sort: (r) => r.valueRatio ?? -1 };
export const PLAN_PRICE_COLUMN = { key: "planPriceUsd", label: "Plan price", num: true, optional: true, format: (r) => (r.planPriceUsd == null ? "–" : fmt.cost(r.planPriceUsd)) };
