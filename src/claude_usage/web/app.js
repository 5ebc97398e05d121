// The dashboard: routes in the URL hash (#/view/key?filters), global filters, live updates.

import { el, loading, plural } from "./ui.js";
import { loadPlotly } from "./charts.js";
import { views, tabs } from "./views.js";
import { teamView } from "./team.js";
import { showAlert } from "./budgets.js";

const FILTERS = ["startDate", "endDate", "tz", "project", "model", "mode", "user", "machine"];
const LOCAL_ONLY = ["tools", "logs", "todos", "limits"];  // views of this machine's files: not on a team server
let teamMode = false;
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const main = document.getElementById("main");
const banner = document.getElementById("banner");
const notice = document.getElementById("notice");
const stamp = document.getElementById("stamp");
let generation = 0;
let lastRoute = "";

/** The current route: {view, key, params}. */
export function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = hash.split("?");
  const [view, ...rest] = path.split("/");
  const params = Object.fromEntries(new URLSearchParams(query));
  return { view: views[view] ? view : "summary", key: rest.length ? decodeURIComponent(rest.join("/")) : null, params };
}

/** Go to a view (keeps the global filters unless ``params`` replace them). */
export function go(view, key = null, params = {}) {
  const current = route().params;
  const merged = {};
  for (const name of FILTERS) if (current[name]) merged[name] = current[name];
  Object.assign(merged, params);
  for (const [name, value] of Object.entries(merged)) if (value === "" || value == null) delete merged[name];
  if (merged.tz === browserZone) delete merged.tz;
  const query = new URLSearchParams(merged).toString();
  location.hash = `#/${view}${key != null ? "/" + encodeURIComponent(key) : ""}${query ? "?" + query : ""}`;
}

/** Change parameters of the current view (e.g. its page or sort order). */
export function setParams(params) {
  const { view, key, params: current } = route();
  go(view, key, { ...current, ...params });
}

/** The global filters of the current view: only those that apply to it (the API refuses the
 * others, and a filter that cannot apply must not look applied). */
function filterParams() {
  const { view, params } = route();
  const applies = views[view].filters;
  const out = { tz: params.tz || browserZone };
  for (const name of applies) if (name !== "tz" && params[name]) out[name] = params[name];
  return out;
}

export function showError(message) {
  banner.replaceChildren(el("strong", {}, "Can't load data. "), message, " ",
    el("button", { type: "button", onclick: () => render() }, "Retry"));
  banner.hidden = false;
}

function clearError() {
  banner.hidden = true;
}

/**
 * GET an API path as JSON. ``withFilters`` adds the global filters; a 404 resolves to null
 * (the view says what is missing); other failures show the error banner and reject.
 */
export async function api(path, params = {}, withFilters = true) {
  const query = new URLSearchParams({ ...(withFilters ? filterParams() : {}), ...params });
  for (const [name, value] of [...query.entries()]) if (value === "" || value === "undefined") query.delete(name);
  let response;
  try {
    response = await fetch(`${path}${query.toString() ? "?" + query : ""}`, { headers: { Accept: "application/json" } });
  } catch (error) {
    showError(`The claude-usage server does not answer (${error.message}). Is it still running?`);
    throw error;
  }
  if (response.status === 404) {
    // A filter naming no project or model is an error to show (with the API's suggestion);
    // any other 404 is a day, project or session without usage, which the view tells.
    let body = {};
    try { body = await response.json(); } catch { /* not JSON */ }
    if (!String(body.message || "").startsWith("Parameter '")) return null;
    showError(body.message);
    throw new Error(body.message);
  }
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try { message = (await response.json()).message || message; } catch { /* not JSON */ }
    showError(message);
    throw new Error(message);
  }
  return response.json();
}

/** A notice: its headline always shown, the rest behind "more" on a phone (open on a wider
 * screen), so that notices never fill a phone's first screen. */
export function setNotice(box, headline, ...rest) {
  const details = el("details", { class: "notice-details" }, el("summary", {}, el("strong", {}, headline)), el("div", {}, " ", ...rest));
  if (!window.matchMedia("(max-width: 600px)").matches) details.open = true;
  box.replaceChildren(details);
  box.hidden = false;
}

/** Flag models without a price (from any response's ``unpricedModels``). */
export function flagUnpriced(models) {
  if (models && models.length) {
    setNotice(notice, `Costs leave out ${plural(models.length, "model")} without a price.`,
      `Models: ${models.join(", ")}. Their tokens are counted; add their rates with `, el("code", { class: "nowrap" }, "--prices FILE"), ".");
  }
}

function updateStamp() {
  stamp.textContent = `updated ${new Date().toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" })}`;
}

/** Draw the current view; ``quiet`` keeps the old content until the new one is ready. */
export async function render(quiet = false) {
  const mine = ++generation;
  const { view, key, params } = route();
  const routeId = `${view}/${key}`;
  if (!quiet || routeId !== lastRoute) main.replaceChildren(loading());
  lastRoute = routeId;
  notice.hidden = true;
  for (const link of document.querySelectorAll("#tabs a")) {
    link.setAttribute("aria-current", link.dataset.view === view ? "page" : "false");
    // On a phone the tabs scroll sideways: keep the current one in sight.
    if (link.dataset.view === view) link.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
  syncControls();
  try {
    const content = await views[view].render({ key, params, api, go, setParams, flagUnpriced });
    if (mine !== generation) return;
    // Which filters of the bar do not apply here, said under the view's title.
    const heading = content.querySelector("h1");
    if (views[view].why && heading) heading.after(el("p", { class: "filter-note", "data-testid": "filter-note" }, views[view].why));
    main.replaceChildren(content);
    clearError();
    updateStamp();
    // The charts' library, once the first view's numbers are on the screen.
    requestAnimationFrame(() => setTimeout(loadPlotly, 0));
  } catch (error) {
    if (mine !== generation) return;
    if (!main.querySelector(".panel, .cards")) main.replaceChildren(el("div", { class: "empty" }, "Nothing to show: the data could not be loaded."));
    console.warn(error);
  }
}

// -- global controls -------------------------------------------------------------------------

const controls = Object.fromEntries(FILTERS.map((name) => [name, document.getElementById(name)]));

const toggle = document.getElementById("filter-toggle");

function syncControls() {
  const { view, params } = route();
  const applies = views[view].filters;
  for (const name of FILTERS) {
    const value = name === "tz" ? params.tz || browserZone : params[name] || (name === "mode" ? "auto" : "");
    if (controls[name].tagName === "SELECT" && value && ![...controls[name].options].some((o) => o.value === value)) {
      controls[name].append(el("option", { value }, value));
    }
    controls[name].value = value;
    // A filter that cannot apply to this view is visibly off, not silently ignored.
    const off = !applies.includes(name);
    controls[name].disabled = off;
    controls[name].closest("label").classList.toggle("off", off);
    controls[name].closest("label").title = off ? views[view].why : "";
  }
  const set = applies.filter((name) => name !== "tz" && name !== "mode" && params[name]).length + (params.tz ? 1 : 0)
    + (applies.includes("mode") && params.mode && params.mode !== "auto" ? 1 : 0);
  toggle.textContent = set ? `Filters · ${set} set` : "Filters";
}

function fillZones() {
  let zones = [];
  try { zones = Intl.supportedValuesOf("timeZone"); } catch { zones = ["UTC"]; }
  if (!zones.includes("UTC")) zones.unshift("UTC");
  if (!zones.includes(browserZone)) zones.unshift(browserZone);
  controls.tz.replaceChildren(...zones.map((zone) => el("option", { value: zone }, zone === browserZone ? `${zone} (this browser)` : zone)));
}

async function fillTeamChoices() {
  const team = await api("/api/v2/users", {}, false);
  controls.user.replaceChildren(el("option", { value: "" }, "All users"),
    ...(team?.users || []).map((u) => el("option", { value: u.user }, u.user)));
  controls.machine.replaceChildren(el("option", { value: "" }, "All machines"),
    ...(team?.machines || []).map((m) => el("option", { value: m.machineId }, `${m.machine} (${m.user})`)));
}

async function fillChoices() {
  try {
    if (teamMode) await fillTeamChoices();
    const [projects, models] = await Promise.all([
      api("/api/v2/projects", { limit: 200, sortBy: "name", sortOrder: "asc" }, false),
      api("/api/v2/models", { sortBy: "model", sortOrder: "asc" }, false),
    ]);
    controls.project.replaceChildren(el("option", { value: "" }, "All projects"),
      ...(projects?.data || []).map((p) => el("option", { value: p.name }, p.path || p.name)));
    controls.model.replaceChildren(el("option", { value: "" }, "All models"),
      ...(models?.data || []).map((m) => el("option", { value: m.model }, m.model)));
    syncControls();
  } catch { /* the banner says it */ }
}

for (const name of FILTERS) {
  controls[name].addEventListener("change", () => setParams({ [name]: controls[name].value, page: "" }));
}
toggle.addEventListener("click", () => {
  const open = document.getElementById("controls").classList.toggle("open");
  toggle.setAttribute("aria-expanded", String(open));
});
document.getElementById("clear").addEventListener("click", () => {
  const { view, key } = route();
  location.hash = `#/${view}${key != null ? "/" + encodeURIComponent(key) : ""}`;
});

async function refreshNow() {
  try { await fetch("/api/v2/refresh", { method: "POST" }); } catch { /* shown by render */ }
  render(true);
}
document.getElementById("refresh").addEventListener("click", refreshNow);
document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement?.tagName);
  if (event.key === "r" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) refreshNow();
});

// -- live updates ------------------------------------------------------------------------------

function listen() {
  const source = new EventSource("/api/v2/events");
  let lost = false;
  source.onopen = () => {
    stamp.classList.add("live");
    if (lost) { lost = false; render(true); fillChoices(); }  // back after an outage
  };
  source.onmessage = (message) => {
    let event = {};
    try { event = JSON.parse(message.data); } catch { /* an update */ }
    if (event.type === "alert") { showAlert(event.alert); render(true); return; }  // a budget alert: a toast
    render(true); fillChoices();
  };
  source.onerror = () => {
    lost = true;
    stamp.classList.remove("live");
    showError("Lost the connection to the claude-usage server; live updates will resume when it is back.");
  };
}

/** A team server (serve --team): the Team view and the user and machine filters; the views of
 * one machine's files go. */
function enterTeamMode(team) {
  teamMode = true;
  for (const name of LOCAL_ONLY) delete views[name];
  // Every view left reads the pushed requests: the user and machine filters apply to each.
  for (const view of Object.values(views)) view.filters = [...view.filters, "user", "machine"];
  views.team = { label: "Team", render: teamView, filters: views.summary.filters };
  for (const label of document.querySelectorAll(".team-only")) label.hidden = false;
  document.getElementById("origin").textContent =
    `Tokens and costs pushed by ${team.machines} machine(s) of ${team.users} user(s) to the team database`;
}

/** Say where the data come from when they are not the user's own (the demo data, a team). */
async function showSource() {
  try {
    const health = await api("/api/health", {}, false);
    if (health?.team) enterTeamMode(health.team);
    const box = document.getElementById("source-notice");
    if (health?.demo) {
      setNotice(box, "Demo data.", health.notice || "These are the bundled demo data (--demo), not your own.",
        " To see your own usage, start the server on the machine where Claude Code keeps its transcripts, or with ",
        el("code", { class: "nowrap" }, "--data-dir DIR"), ".");
    }
  } catch { /* the banner says it */ }
}

fillZones();
window.addEventListener("hashchange", () => render());
document.addEventListener("claude-usage:rerender", () => render(true));  // a view changed a setting
showSource().then(() => {
  tabs(document.getElementById("tabs"), (view) => go(view));
  render();
  fillChoices();
  listen();
});
