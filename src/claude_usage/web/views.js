// The views of the dashboard and the filters each one takes. Each view fetches from /api/v2 and
// returns its content (the views themselves live in one module per family).

import { el } from "./ui.js";
import { summaryView } from "./summary-view.js";
import { dailyView, hourlyView, modelsView, monthlyView } from "./usage-views.js";
import { projectsView } from "./project-views.js";
import { cacheView } from "./cache-view.js";
import { sessionsView } from "./session-views.js";
import { logsView, todosView, toolsView } from "./tool-views.js";
import { limitsView } from "./limits-view.js";

const ALL = ["startDate", "endDate", "tz", "project", "model", "mode"];
const FILES = ["startDate", "endDate", "tz", "project"];

/** Each view: its tab label, its render function, the global filters that apply to it (the
 * others are disabled in the filter bar while it is shown) and why the others do not apply. */
export const views = {
  summary: { label: "Summary", render: summaryView, filters: ALL },
  daily: { label: "Daily", render: dailyView, filters: ALL },
  monthly: { label: "Monthly", render: monthlyView, filters: ALL },
  hourly: { label: "Hourly", render: hourlyView, filters: ALL },
  models: { label: "Models", render: modelsView, filters: ALL },
  projects: { label: "Projects", render: projectsView, filters: ALL },
  cache: { label: "Cache", render: cacheView, filters: ALL.filter((f) => f !== "mode"),
    why: "Savings are priced from the tokens at list rates, whatever the lines logged, so the cost mode is off here." },
  sessions: { label: "Sessions", render: sessionsView, filters: ALL },
  limits: { label: "Limits", render: limitsView, filters: ["startDate", "endDate", "tz"],
    why: "The dates select the history and the limit hits; the limits are the account's, so the project, model and cost mode are off here." },
  tools: { label: "Tools & MCP", render: toolsView, filters: ALL.filter((f) => f !== "mode"),
    why: "The dates, project and model above select the tool calls; calls have no cost, so the cost mode is off here." },
  logs: { label: "Logs", render: logsView, filters: FILES,
    why: "The dates (the time a log covers) and the project (its folder) select the logs; logs name no model and no cost, so those filters are off here." },
  todos: { label: "Todos", render: todosView, filters: FILES,
    why: "The dates (when a list was last written) and the project (of its session) select the lists; lists name no model and no cost, so those filters are off here." },
};

/** Fill the tab bar; ``go(view)`` navigates. */
export function tabs(nav, go) {
  nav.replaceChildren(...Object.entries(views).map(([name, view]) =>
    el("a", { href: `#/${name}`, "data-view": name, onclick: (e) => { e.preventDefault(); go(name); } }, view.label)));
}
